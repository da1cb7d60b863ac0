#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_range.h"

static bool num(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	while (*p < end && **p >= '0' && **p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*(*p)++ - '0');
	}
	*out = v;
	return *p > s;
}

static void skip_ows(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

static int cmp_range(const void *a, const void *b)
{
	const struct http_range *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

int http_range_parse(const char *spec, size_t len, uint64_t size, struct http_range *out,
		     size_t max, size_t *n)
{
	const char *p = spec, *end = spec + len;
	*n = 0;
	/* "bytes=", the unit case-insensitive; spec is not NUL-terminated */
	if (len < 6 || p[5] != '=')
		return HTTP_RANGE_NONE;
	for (int i = 0; i < 5; i++)
		if ((p[i] | 0x20) != "bytes"[i])
			return HTTP_RANGE_NONE;
	p += 6;
	size_t seen = 0;
	for (;;) {
		skip_ows(&p, end);
		if (p < end && *p == ',') { /* empty list elements are allowed */
			p++;
			continue;
		}
		if (p >= end)
			break;
		uint64_t a = 0, b = 0;
		bool suffix = *p == '-';
		if (suffix) {
			p++;
			if (!num(&p, end, &b))
				return HTTP_RANGE_NONE;
		} else {
			if (!num(&p, end, &a) || p >= end || *p != '-')
				return HTTP_RANGE_NONE;
			p++;
			if (p < end && *p >= '0' && *p <= '9') {
				if (!num(&p, end, &b) || b < a)
					return HTTP_RANGE_NONE;
			} else {
				b = UINT64_MAX;
			}
		}
		skip_ows(&p, end);
		if (p < end && *p != ',')
			return HTTP_RANGE_NONE;
		if (++seen > max)
			return HTTP_RANGE_NONE;
		if (suffix) {
			if (b == 0 || size == 0)
				continue; /* unsatisfiable */
			a = b >= size ? 0 : size - b;
			b = size - 1;
		} else {
			if (a >= size)
				continue; /* unsatisfiable */
			if (b >= size)
				b = size - 1;
		}
		out[(*n)++] = (struct http_range){a, b};
	}
	if (seen == 0)
		return HTTP_RANGE_NONE;
	if (*n == 0)
		return HTTP_RANGE_UNSATISFIABLE;
	if (*n > 1) {
		qsort(out, *n, sizeof *out, cmp_range);
		size_t w = 0;
		for (size_t i = 1; i < *n; i++) {
			if (out[i].first <= out[w].last + 1) {
				if (out[i].last > out[w].last)
					out[w].last = out[i].last;
			} else {
				out[++w] = out[i];
			}
		}
		*n = w + 1;
	}
	return HTTP_RANGE_OK;
}
