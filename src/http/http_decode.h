/* Content-Encoding decoding for `http get --compressed` (pure: no I/O):
 * gzip and deflate with zlib, br with libbrotli, whichever the build
 * has. Input is taken by reference and output pulled in pieces of the
 * caller's size, so a small compressed body that expands to gigabytes is
 * decoded only as fast as its output is written. */
#ifndef SOCKCTL_HTTP_DECODE_H
#define SOCKCTL_HTTP_DECODE_H

#include "http/http_coding.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The Accept-Encoding value for what this build decodes ("deflate, gzip,
 * br", as curl sends it), or NULL when it decodes nothing. */
const char *http_decode_accept(void);
/* A Content-Encoding value (NULL: none). */
enum http_coding http_decode_coding(const char *value);

struct http_decode;
/* NULL: out of memory, or a coding this build lacks. */
struct http_decode *http_decode_new(enum http_coding c);
void http_decode_free(struct http_decode *d);
/* Hands over in[0..n), not copied: it must stay as it is until
 * http_decode_pending says it is used up. */
void http_decode_input(struct http_decode *d, const void *in, size_t n);
/* Input given and not yet decoded, or output the decoder holds. */
bool http_decode_pending(const struct http_decode *d);
/* Decodes into out (up to cap bytes). Returns the bytes made (0: it needs
 * more input, or the encoded stream has ended: then input after it is
 * ignored), or -1 with the reason in *err (static text). */
ssize_t http_decode_output(struct http_decode *d, void *out, size_t cap, const char **err);
/* The encoded stream reached its end. */
bool http_decode_ended(const struct http_decode *d);

#endif
