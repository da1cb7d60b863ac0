/* Escaping for the places a file name or request text ends up: HTML
 * (directory listings) and the combined access log (the JSON log uses
 * core/sbuf's json_string, the one JSON escaper). Each writes
 * at most outlen bytes including the NUL, cutting at a whole escape, and
 * returns the length written. Pure. */
#ifndef SOCKCTL_HTTP_ESCAPE_H
#define SOCKCTL_HTTP_ESCAPE_H

#include <stddef.h>

/* & < > " ' become entities; control bytes become U+FFFD. */
size_t http_escape_html(const char *s, size_t len, char *out, size_t outlen);
/* Control bytes, '"', '\\' and bytes >= 0x7f become \xHH. */
size_t http_escape_log(const char *s, size_t len, char *out, size_t outlen);
/* The same for a field that must stay one word (the combined format's
 * user): spaces too become \x20. */
size_t http_escape_log_word(const char *s, size_t len, char *out, size_t outlen);

#endif
