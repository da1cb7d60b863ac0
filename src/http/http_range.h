/* Range requests (RFC 9110 14): parses "bytes=0-99,200-,-50" against a
 * representation size. Pure. */
#ifndef SOCKCTL_HTTP_RANGE_H
#define SOCKCTL_HTTP_RANGE_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_RANGES_MAX 16 /* more ranges than this: the whole file, 200 */

struct http_range {
	uint64_t first, last; /* inclusive */
};

enum {
	HTTP_RANGE_NONE = 0,	      /* ignore the header: send the whole representation */
	HTTP_RANGE_OK = 1,	      /* out[0..*n) hold satisfiable ranges */
	HTTP_RANGE_UNSATISFIABLE = 2, /* answer 416 with Content-Range: bytes */
};

/* Parses len bytes of spec. Syntax errors, units other than bytes and
 * more than max ranges give HTTP_RANGE_NONE; ranges past the end are
 * dropped, and if none is left the result is HTTP_RANGE_UNSATISFIABLE.
 * Ranges that overlap or touch are merged, so no byte is sent twice. */
int http_range_parse(const char *spec, size_t len, uint64_t size, struct http_range *out,
		     size_t max, size_t *n);

#endif
