/* The path jail: turns a request target into a path relative to the
 * served root, then opens it beneath the root.
 *
 * http_path_clean() decodes %XX exactly once (so %252e stays the literal
 * "%2e"), refuses NUL, control characters and encoded slashes, drops "."
 * and empty segments and resolves "..", refusing any that would climb
 * above the root. Its output never starts with '/', never holds "//", "."
 * or ".." segments. Pure.
 *
 * http_path_open() opens that path relative to a directory fd without
 * leaving it: with openat2(RESOLVE_BENEATH) where the kernel has it,
 * otherwise by checking where the opened file really is.
 */
#ifndef SOCKCTL_HTTP_PATH_H
#define SOCKCTL_HTTP_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_PATH_MAX 4096

enum http_symlinks { HTTP_SYMLINKS_INSIDE, HTTP_SYMLINKS_FOLLOW, HTTP_SYMLINKS_DENY };

struct http_path {
	char rel[HTTP_PATH_MAX]; /* "" for the root, else "a/b/c" */
	bool slash;		 /* the target ended in '/' (or was the root) */
	bool dotfile;		 /* some segment starts with '.' */
};

/* Returns 0, or the HTTP status to answer: 400 for malformed or
 * forbidden targets, 414 if the result does not fit. Accepts origin-form
 * ("/a/b?q") and absolute-form ("http://host/a/b"); drops the query. */
int http_path_clean(const char *target, size_t len, struct http_path *out);

/* Encodes a cleaned relative path as an absolute URL path for Location:
 * "/" + rel with unsafe bytes %-encoded, plus a trailing slash when
 * asked. Always starts with exactly one '/', so it can never name another
 * host. Returns false if it does not fit. */
bool http_path_url(const char *rel, bool slash, char *out, size_t outlen);

/* Opens rel (from http_path_clean) beneath rootfd with flags (O_RDONLY,
 * plus O_DIRECTORY etc.); "" opens the root itself. Returns an fd or -1
 * with errno: ENOENT, EACCES, ELOOP (a symlink refused by the policy),
 * EXDEV (the path would leave the root). */
int http_path_open(int rootfd, const char *rel, int flags, enum http_symlinks mode);

/* The same without openat2, as used when the kernel lacks it: walks the
 * path (deny) or checks the opened file's real location (inside). */
int http_path_open_compat(int rootfd, const char *rel, int flags, enum http_symlinks mode);

/* Parses "inside", "follow" or "deny". */
bool http_symlinks_parse(const char *s, enum http_symlinks *out);

#endif
