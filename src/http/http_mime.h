/* MIME types by file name extension: the system's mime.types when it can
 * be read, a small built-in table otherwise (and for what it lacks).
 * Loading reads a file; lookups are pure. */
#ifndef SOCKCTL_HTTP_MIME_H
#define SOCKCTL_HTTP_MIME_H

#include <stddef.h>

struct http_mime;

/* Loads path (NULL: /etc/mime.types). Never fails: an unreadable file
 * leaves the built-in table. NULL only when out of memory. */
struct http_mime *http_mime_load(const char *path);
/* Parses mime.types text (for tests). */
struct http_mime *http_mime_parse(const char *text, size_t len);
void http_mime_free(struct http_mime *m);
/* The type for a file name; "application/octet-stream" if unknown. */
const char *http_mime_type(const struct http_mime *m, const char *name);

#endif
