/* Content codings for http serve: the Accept-Encoding parser (pure), the
 * choice among the codings on offer, and gzip (zlib) and br (libbrotli)
 * compression of a buffer, where the build has them. */
#ifndef SOCKCTL_HTTP_ENCODE_H
#define SOCKCTL_HTTP_ENCODE_H

#include "http/http_coding.h"

#include <stdbool.h>
#include <stddef.h>

/* What a request accepts: each coding's q-value in thousandths (0 refuses
 * it, 1000 is q=1), as the field says once '*' and the defaults are
 * applied (RFC 9110 12.5.3): a coding not named gets the value of '*'
 * if there is one, else 0, and identity 1 (it is acceptable unless
 * refused by name or by '*;q=0'). */
struct http_accept_enc {
	int q[HTTP_CODINGS];
};

/* Parses an Accept-Encoding field value (v NULL: no field: identity only).
 * Never fails: an element it cannot read is skipped, as if not there. */
void http_accept_encoding(const char *v, size_t len, struct http_accept_enc *out);

/* The best of the codings in offered (HTTP_CODING_BIT set; identity is
 * always on offer) for a: the highest q, br before gzip before identity
 * at equal q. Identity when nothing else is acceptable, even if refused
 * (a representation the client may not want beats none, as nginx does). */
enum http_coding http_coding_choose(const struct http_accept_enc *a, unsigned offered);

/* "gzip", "br" (for Content-Encoding) and the file name suffixes of the
 * precompressed siblings: ".gz", ".br". */
const char *http_coding_name(enum http_coding c);
const char *http_coding_suffix(enum http_coding c);

/* The codings this build can compress on the fly (HTTP_CODING_BIT). */
unsigned http_encode_available(void);
/* The version of the library that runs for coding c (gzip: zlib, br:
 * libbrotli), "1.2.13", into buf (for --version); false when the build
 * has none. */
bool http_coding_lib_version(enum http_coding c, char *buf, size_t len);

/* Is a body of this Content-Type worth compressing: text types, JSON,
 * JavaScript, XML, SVG (and +json, +xml types)? */
bool http_encode_worth(const char *ctype);

/* Compresses in[0..n) at a modest level (gzip 5, br 5): a malloc'd
 * *out of *outlen bytes. false when the coding is not built in, or out of
 * memory. */
bool http_encode(enum http_coding c, const void *in, size_t n, char **out, size_t *outlen);

#endif
