#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_mime.h"

#define MIME_FILE_MAX (4 << 20)

struct mime_entry {
	char *ext;  /* owned, lower case */
	char *type; /* owned */
};

struct http_mime {
	struct mime_entry *v; /* sorted by ext */
	size_t n, cap;
};

/* Used when mime.types is missing, and for what it does not list. */
static const char *const builtin[][2] = {
    {"css", "text/css"},
    {"csv", "text/csv"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ico", "image/vnd.microsoft.icon"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript"},
    {"json", "application/json"},
    {"md", "text/markdown"},
    {"mjs", "text/javascript"},
    {"mp4", "video/mp4"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"txt", "text/plain"},
    {"wasm", "application/wasm"},
    {"webp", "image/webp"},
    {"woff2", "font/woff2"},
    {"xml", "application/xml"},
    {"zip", "application/zip"},
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct mime_entry *)a)->ext, ((const struct mime_entry *)b)->ext);
}

static int add(struct http_mime *m, const char *ext, size_t el, const char *type, size_t tl)
{
	if (el == 0 || el > 32 || tl == 0 || tl > 127)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		struct mime_entry *v = realloc(m->v, cap * sizeof *v);
		if (!v)
			return -1;
		m->v = v;
		m->cap = cap;
	}
	char *e = strndup(ext, el), *t = strndup(type, tl);
	if (!e || !t) {
		free(e);
		free(t);
		return -1;
	}
	for (char *p = e; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	m->v[m->n++] = (struct mime_entry){e, t};
	return 0;
}

/* Sorts, and keeps one entry for each extension. */
static void finish(struct http_mime *m)
{
	qsort(m->v, m->n, sizeof *m->v, cmp_entry);
	size_t w = 0;
	for (size_t r = 0; r < m->n; r++) {
		if (w > 0 && strcmp(m->v[w - 1].ext, m->v[r].ext) == 0) {
			free(m->v[r].ext);
			free(m->v[r].type);
			continue;
		}
		m->v[w++] = m->v[r];
	}
	m->n = w;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static struct http_mime *parse(const char *s, size_t len)
{
	struct http_mime *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	const char *end = s + len;
	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		if (!eol)
			eol = end;
		const char *p = s;
		while (p < eol && is_space(*p))
			p++;
		if (p < eol && *p != '#') {
			const char *t = p;
			while (p < eol && !is_space(*p))
				p++;
			size_t tl = (size_t)(p - t);
			/* a type must look like "a/b" and hold no quote or control */
			int sane = memchr(t, '/', tl) != NULL;
			for (size_t i = 0; i < tl; i++)
				if ((unsigned char)t[i] <= 0x20 || t[i] == '"' || t[i] == 0x7f)
					sane = 0;
			for (;;) {
				while (p < eol && is_space(*p))
					p++;
				if (p >= eol)
					break;
				const char *e = p;
				while (p < eol && !is_space(*p))
					p++;
				if (sane && add(m, e, (size_t)(p - e), t, tl) < 0) {
					http_mime_free(m);
					return NULL;
				}
			}
		}
		s = eol + 1;
	}
	/* the built-in table fills gaps; system entries come first and win */
	size_t sys = m->n;
	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
		if (add(m, builtin[i][0], strlen(builtin[i][0]), builtin[i][1],
			strlen(builtin[i][1])) < 0) {
			http_mime_free(m);
			return NULL;
		}
	/* qsort is not stable: drop built-ins the system already has first */
	for (size_t i = sys; i < m->n;) {
		int dup = 0;
		for (size_t j = 0; j < sys && !dup; j++)
			dup = strcmp(m->v[j].ext, m->v[i].ext) == 0;
		if (dup) {
			free(m->v[i].ext);
			free(m->v[i].type);
			m->v[i] = m->v[--m->n];
		} else {
			i++;
		}
	}
	finish(m);
	return m;
}

struct http_mime *http_mime_parse(const char *text, size_t len)
{
	return parse(text, len);
}

struct http_mime *http_mime_load(const char *path)
{
	FILE *f = fopen(path ? path : "/etc/mime.types", "re");
	char *buf = NULL;
	size_t n = 0;
	if (f) {
		buf = malloc(MIME_FILE_MAX);
		if (buf)
			n = fread(buf, 1, MIME_FILE_MAX, f);
		fclose(f);
	}
	struct http_mime *m = parse(buf ? buf : "", n);
	free(buf);
	return m;
}

void http_mime_free(struct http_mime *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].ext);
		free(m->v[i].type);
	}
	free(m->v);
	free(m);
}

const char *http_mime_type(const struct http_mime *m, const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	const char *dot = strrchr(base, '.');
	if (!m || !dot || !dot[1] || strlen(dot + 1) > 32)
		return "application/octet-stream";
	char ext[40];
	size_t i = 0;
	for (const char *p = dot + 1; *p; p++)
		ext[i++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
	ext[i] = '\0';
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(ext, m->v[mid].ext);
		if (c == 0)
			return m->v[mid].type;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return "application/octet-stream";
}
