/* Directory listings for http serve: reading the entries, the query that
 * sorts them (?sort=name|size|date&order=asc|desc&format=html|json), the
 * choice of JSON by Accept, and the page as HTML or JSON. The query and
 * Accept parsers are pure; names are escaped for each format (HTML, a
 * %-encoded URL, JSON strings with UTF-8 kept as it is). */
#ifndef SOCKCTL_HTTP_LISTING_H
#define SOCKCTL_HTTP_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct http_obuf;

#define HTTP_LISTING_MAX 20000 /* entries; more are left out */

enum http_list_sort { HTTP_SORT_NAME, HTTP_SORT_SIZE, HTTP_SORT_DATE };
enum http_list_format { HTTP_LIST_AUTO, HTTP_LIST_HTML, HTTP_LIST_JSON };

struct http_list_query {
	enum http_list_sort sort;
	bool desc;
	enum http_list_format format;
};

/* Parses a query string (what follows '?', without it; NULL: none). Keys
 * and values it does not know are ignored: a listing is never refused
 * for its query. */
void http_list_query_parse(const char *q, size_t n, struct http_list_query *out);

/* Does an Accept field value ask for JSON: application/json listed with a
 * q above 0, and text/html not listed (browsers list it)? */
bool http_accept_json(const char *v, size_t n);

enum { HTTP_DIRENT_FILE, HTTP_DIRENT_DIR, HTTP_DIRENT_OTHER };
struct http_dirent {
	char *name; /* owned */
	int type;   /* HTTP_DIRENT_* */
	long long size;
	time_t mtime;
};

struct http_listing {
	struct http_dirent *v; /* owned */
	size_t n;
};

/* Reads the directory dirfd (not closed), leaving out "." and "..", and
 * every name starting with '.' unless dotfiles. 0, or -1 with errno. */
int http_listing_read(struct http_listing *l, int dirfd, bool dotfiles);
void http_listing_sort(struct http_listing *l, const struct http_list_query *q);
void http_listing_free(struct http_listing *l);

/* The page for the directory rel ("" for the root, else "a/b") into out:
 * HTML with sortable column headers, or JSON. false when out of room. */
bool http_listing_html(struct http_obuf *out, const char *rel, const struct http_listing *l,
		       const struct http_list_query *q);
bool http_listing_json(struct http_obuf *out, const char *rel, const struct http_listing *l,
		       const struct http_list_query *q);

#endif
