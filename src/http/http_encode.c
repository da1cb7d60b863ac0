/* Content codings for http serve. See http_encode.h. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_BROTLI
#include <brotli/encode.h>
#endif

#include "http/http_encode.h"
#include "http/http_parse.h"

#define GZIP_LEVEL 5
#define BR_QUALITY 5

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

/* A qvalue (RFC 9110 12.4.2): "0" ["." 0*3DIGIT] or "1" ["." 0*3("0")],
 * in thousandths; -1 if it is not one. */
static int qvalue(const char *p, size_t n)
{
	if (n == 0 || (p[0] != '0' && p[0] != '1'))
		return -1;
	int q = (p[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (p[1] != '.' || n > 5)
		return -1;
	int scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		q += (p[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

static int coding_of(const char *p, size_t n)
{
	if ((n == 4 && http_mem_ieq(p, "gzip", 4)) || (n == 6 && http_mem_ieq(p, "x-gzip", 6)))
		return HTTP_CODING_GZIP;
	if (n == 2 && http_mem_ieq(p, "br", 2))
		return HTTP_CODING_BR;
	if (n == 8 && http_mem_ieq(p, "identity", 8))
		return HTTP_CODING_IDENTITY;
	if (n == 1 && p[0] == '*')
		return HTTP_CODINGS; /* the wildcard */
	return -1;
}

void http_accept_encoding(const char *v, size_t len, struct http_accept_enc *out)
{
	/* -1: not named */
	int named[HTTP_CODINGS + 1];
	for (int i = 0; i <= HTTP_CODINGS; i++)
		named[i] = -1;
	if (!v) {
		for (int i = 0; i < HTTP_CODINGS; i++)
			out->q[i] = i == HTTP_CODING_IDENTITY ? 1000 : 0;
		return;
	}
	size_t i = 0;
	while (i < len) {
		/* one element: coding *( OWS ";" OWS param ) */
		size_t end = i;
		while (end < len && v[end] != ',')
			end++;
		size_t a = i, b;
		while (a < end && ows(v[a]))
			a++;
		b = a;
		while (b < end && v[b] != ';' && !ows(v[b]))
			b++;
		int c = coding_of(v + a, b - a);
		int q = 1000;
		bool bad = false;
		size_t k = b;
		while (!bad && k < end) {
			while (k < end && ows(v[k]))
				k++;
			if (k == end)
				break;
			if (v[k] != ';') {
				bad = true;
				break;
			}
			k++;
			while (k < end && ows(v[k]))
				k++;
			size_t ps = k;
			while (k < end && v[k] != ';' && !ows(v[k]))
				k++;
			/* "q=..." counts; other parameters are allowed and ignored */
			if (k - ps >= 2 && (v[ps] == 'q' || v[ps] == 'Q') && v[ps + 1] == '=') {
				q = qvalue(v + ps + 2, k - ps - 2);
				if (q < 0)
					bad = true;
			}
		}
		/* the first mention of a coding counts */
		if (c >= 0 && !bad && named[c] < 0)
			named[c] = q;
		i = end + 1;
	}
	/* '*' stands for every coding not named, identity included */
	int star = named[HTTP_CODINGS];
	for (int c = 0; c < HTTP_CODINGS; c++)
		out->q[c] = named[c] >= 0		? named[c]
			    : star >= 0			? star
			    : c == HTTP_CODING_IDENTITY ? 1000
							: 0;
}

enum http_coding http_coding_choose(const struct http_accept_enc *a, unsigned offered)
{
	static const enum http_coding pref[] = {HTTP_CODING_BR, HTTP_CODING_GZIP};
	enum http_coding best = HTTP_CODING_IDENTITY;
	int bq = a->q[HTTP_CODING_IDENTITY];
	for (size_t i = 0; i < sizeof pref / sizeof *pref; i++) {
		enum http_coding c = pref[i];
		if (!(offered & HTTP_CODING_BIT(c)) || a->q[c] <= 0)
			continue;
		/* br and gzip before identity at equal q */
		if (best == HTTP_CODING_IDENTITY ? a->q[c] >= bq : a->q[c] > bq) {
			best = c;
			bq = a->q[c];
		}
	}
	return best;
}

const char *http_coding_name(enum http_coding c)
{
	return c == HTTP_CODING_GZIP ? "gzip" : c == HTTP_CODING_BR ? "br" : "identity";
}

const char *http_coding_suffix(enum http_coding c)
{
	return c == HTTP_CODING_GZIP ? ".gz" : c == HTTP_CODING_BR ? ".br" : "";
}

unsigned http_encode_available(void)
{
	unsigned m = 0;
#ifdef HAVE_ZLIB
	m |= HTTP_CODING_BIT(HTTP_CODING_GZIP);
#endif
#ifdef HAVE_BROTLI
	m |= HTTP_CODING_BIT(HTTP_CODING_BR);
#endif
	return m;
}

bool http_coding_lib_version(enum http_coding c, char *buf, size_t len)
{
	const char *v = NULL;
#ifdef HAVE_ZLIB
	if (c == HTTP_CODING_GZIP)
		v = zlibVersion();
#endif
#ifdef HAVE_BROTLI
	/* 0xMMMmmmppp: major << 24 | minor << 12 | patch */
	char bv[40];
	if (c == HTTP_CODING_BR) {
		uint32_t n = BrotliEncoderVersion();
		snprintf(bv, sizeof bv, "%u.%u.%u", (unsigned)(n >> 24),
			 (unsigned)(n >> 12 & 0xfff), (unsigned)(n & 0xfff));
		v = bv;
	}
#endif
	if (!v || len == 0)
		return false;
	snprintf(buf, len, "%s", v);
	return true;
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n >= k && http_mem_ieq(s + n - k, suf, k);
}

bool http_encode_worth(const char *ctype)
{
	size_t n = strcspn(ctype, "; \t");
	if (n >= 5 && http_mem_ieq(ctype, "text/", 5))
		return true;
	static const char *const types[] = {
	    "application/json",		 "application/javascript", "application/x-javascript",
	    "application/ecmascript",	 "application/xml",	   "image/svg+xml",
	    "application/manifest+json", "application/wasm-text",
	};
	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (n == strlen(types[i]) && http_mem_ieq(ctype, types[i], n))
			return true;
	return ends_with(ctype, n, "+json") || ends_with(ctype, n, "+xml");
}

#ifdef HAVE_ZLIB
static bool gzip(const void *in, size_t n, char **out, size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	/* 15 + 16: a gzip wrapper rather than zlib's */
	if (deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	size_t cap = deflateBound(&z, (uLong)n);
	char *buf = malloc(cap);
	bool ok = false;
	if (buf) {
		z.next_in = (Bytef *)in;
		z.avail_in = (uInt)n;
		z.next_out = (Bytef *)buf;
		z.avail_out = (uInt)cap;
		ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
	}
	if (ok) {
		*out = buf;
		*outlen = cap - z.avail_out;
	} else {
		free(buf);
	}
	deflateEnd(&z);
	return ok;
}
#endif

#ifdef HAVE_BROTLI
static bool brotli(const void *in, size_t n, char **out, size_t *outlen)
{
	size_t cap = BrotliEncoderMaxCompressedSize(n);
	if (!cap)
		return false;
	char *buf = malloc(cap);
	if (!buf)
		return false;
	size_t len = cap;
	if (!BrotliEncoderCompress(BR_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, n, in, &len,
				   (uint8_t *)buf)) {
		free(buf);
		return false;
	}
	*out = buf;
	*outlen = len;
	return true;
}
#endif

bool http_encode(enum http_coding c, const void *in, size_t n, char **out, size_t *outlen)
{
	switch (c) {
#ifdef HAVE_ZLIB
	case HTTP_CODING_GZIP:
		return gzip(in, n, out, outlen);
#endif
#ifdef HAVE_BROTLI
	case HTTP_CODING_BR:
		return brotli(in, n, out, outlen);
#endif
	default:
		return false;
	}
}
