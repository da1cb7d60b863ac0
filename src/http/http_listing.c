/* Directory listings for http serve. See http_listing.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sbuf.h"
#include "http/http_date.h"
#include "http/http_escape.h"
#include "http/http_listing.h"
#include "http/http_parse.h"
#include "http/http_path.h"
#include "http/http_serve.h"

void http_listing_free(struct http_listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	*l = (struct http_listing){0};
}

int http_listing_read(struct http_listing *l, int dirfd, bool dotfiles)
{
	*l = (struct http_listing){0};
	int dfd = dup(dirfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	size_t cap = 0;
	struct dirent *de;
	int rc = 0;
	while (l->n < HTTP_LISTING_MAX && (de = readdir(d))) {
		const char *nm = de->d_name;
		if (nm[0] == '.' && (!dotfiles || !nm[1] || (nm[1] == '.' && !nm[2])))
			continue;
		struct stat st;
		if (fstatat(dirfd, nm, &st, 0) < 0 &&
		    fstatat(dirfd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 64;
			struct http_dirent *nv = realloc(l->v, cap * sizeof *nv);
			if (!nv) {
				rc = -1;
				break;
			}
			l->v = nv;
		}
		struct http_dirent *e = &l->v[l->n];
		if (!(e->name = strdup(nm))) {
			rc = -1;
			break;
		}
		e->type = S_ISDIR(st.st_mode)	? HTTP_DIRENT_DIR
			  : S_ISREG(st.st_mode) ? HTTP_DIRENT_FILE
						: HTTP_DIRENT_OTHER;
		e->size = (long long)st.st_size;
		e->mtime = st.st_mtim.tv_sec;
		l->n++;
	}
	closedir(d);
	if (rc < 0) {
		http_listing_free(l);
		errno = ENOMEM;
	}
	return rc;
}

/* qsort has no argument for the order: the query in effect is kept here
 * for the one sort running (each worker is a process of its own). */
static enum http_list_sort sort_key;

static int cmp_entry(const void *pa, const void *pb)
{
	const struct http_dirent *a = pa, *b = pb;
	if (sort_key == HTTP_SORT_SIZE) {
		/* directories have no size to speak of: before every file */
		long long x = a->type == HTTP_DIRENT_DIR ? -1 : a->size,
			  y = b->type == HTTP_DIRENT_DIR ? -1 : b->size;
		if (x != y)
			return x < y ? -1 : 1;
	} else if (sort_key == HTTP_SORT_DATE && a->mtime != b->mtime) {
		return a->mtime < b->mtime ? -1 : 1;
	}
	return strcmp(a->name, b->name);
}

void http_listing_sort(struct http_listing *l, const struct http_list_query *q)
{
	sort_key = q->sort;
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, cmp_entry);
	if (q->desc)
		for (size_t i = 0, j = l->n ? l->n - 1 : 0; i < j; i++, j--) {
			struct http_dirent t = l->v[i];
			l->v[i] = l->v[j];
			l->v[j] = t;
		}
}

static const char *const sort_names[] = {"name", "size", "date"};

/* A column header: a link that sorts by it, the other way round when it
 * is the column in effect, with an arrow saying which way it is. */
static bool column(struct http_obuf *out, const struct http_list_query *q, enum http_list_sort key,
		   const char *title)
{
	bool on = q->sort == key;
	return http_obuf_printf(out, "<th><a href=\"?sort=%s&amp;order=%s\">%s</a>%s</th>",
				sort_names[key], on && !q->desc ? "desc" : "asc", title,
				!on	  ? ""
				: q->desc ? " &#8595;"
					  : " &#8593;");
}

bool http_listing_html(struct http_obuf *out, const char *rel, const struct http_listing *l,
		       const struct http_list_query *q)
{
	char title[HTTP_PATH_MAX * 6 + 8], url[HTTP_PATH_MAX * 3 + 8], esc[HTTP_PATH_MAX * 3 + 8];
	http_path_url(rel, true, url, sizeof url);
	http_escape_html(url, strlen(url), title, sizeof title);
	bool ok =
	    http_obuf_printf(out,
			     "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
			     "<title>Index of %s</title></head>\n<body><h1>Index of %s</h1>\n"
			     "<table>\n<tr>",
			     title, title) &&
	    column(out, q, HTTP_SORT_NAME, "Name") && column(out, q, HTTP_SORT_SIZE, "Size") &&
	    column(out, q, HTTP_SORT_DATE, "Last modified") && http_obuf_printf(out, "</tr>\n");
	if (*rel)
		ok = ok && http_obuf_printf(out, "<tr><td><a href=\"../\">../</a></td><td></td>"
						 "<td></td></tr>\n");
	for (size_t i = 0; ok && i < l->n; i++) {
		const struct http_dirent *e = &l->v[i];
		bool dir = e->type == HTTP_DIRENT_DIR;
		char date[HTTP_DATE_LEN], href[sizeof url + 2], shown[1800];
		/* href: every unsafe byte %-encoded, then "./" so a name like
		 * "javascript:x" can never read as a scheme */
		http_path_url(e->name, dir, url, sizeof url);
		snprintf(href, sizeof href, ".%s", url);
		http_escape_html(href, strlen(href), esc, sizeof esc);
		http_escape_html(e->name, strlen(e->name), shown, sizeof shown - 2);
		if (dir)
			strcat(shown, "/");
		http_date_format(e->mtime, date);
		if (dir)
			ok = http_obuf_printf(
			    out, "<tr><td><a href=\"%s\">%s</a></td><td>-</td><td>%s</td></tr>\n",
			    esc, shown, date);
		else
			ok = http_obuf_printf(
			    out,
			    "<tr><td><a href=\"%s\">%s</a></td><td>%lld</td><td>%s</td></tr>\n",
			    esc, shown, e->size, date);
	}
	return ok && http_obuf_printf(out, "</table>\n</body></html>\n");
}

bool http_listing_json(struct http_obuf *out, const char *rel, const struct http_listing *l,
		       const struct http_list_query *q)
{
	static const char *const types[] = {"file", "dir", "other"};
	char url[HTTP_PATH_MAX * 3 + 8];
	struct sbuf b;
	sb_init(&b);
	http_path_url(rel, true, url, sizeof url);
	sb_puts(&b, "{\"path\":");
	json_string_utf8(&b, url, strlen(url));
	sb_printf(&b, ",\"sort\":\"%s\",\"order\":\"%s\",\"entries\":[", sort_names[q->sort],
		  q->desc ? "desc" : "asc");
	bool ok = true;
	for (size_t i = 0; ok && i < l->n; i++) {
		const struct http_dirent *e = &l->v[i];
		bool dir = e->type == HTTP_DIRENT_DIR;
		/* one entry at a time: the page may outgrow an sbuf */
		ok = !b.oom && http_obuf_append(out, b.p ? b.p : "", b.len);
		sb_reset(&b);
		if (i)
			sb_putc(&b, ',');
		sb_puts(&b, "\n{\"name\":");
		/* a name that is not UTF-8 cannot be a JSON string exactly:
		 * "url" has its bytes exactly, %-encoded */
		json_string_utf8(&b, e->name, strlen(e->name));
		http_path_url(e->name, dir, url, sizeof url);
		sb_puts(&b, ",\"url\":\".");
		sb_puts(&b, url); /* %-encoded: nothing left to escape */
		struct tm tm;
		char when[32];
		gmtime_r(&e->mtime, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		sb_printf(&b, "\",\"type\":\"%s\",", types[e->type]);
		if (dir)
			sb_puts(&b, "\"size\":null,");
		else
			sb_printf(&b, "\"size\":%lld,", e->size);
		sb_printf(&b, "\"mtime\":%lld,\"modified\":\"%s\"}", (long long)e->mtime, when);
	}
	sb_puts(&b, "\n]}\n");
	ok = ok && !b.oom && http_obuf_append(out, b.p, b.len);
	sb_free(&b);
	return ok;
}
