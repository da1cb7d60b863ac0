/* gzip, deflate (zlib) and br (libbrotli) bodies, pulled piece by piece. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_decode.h"

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_BROTLI
#include <brotli/decode.h>
#endif

struct http_decode {
	enum http_coding c;
	const uint8_t *in;
	size_t in_len;
	bool ended;
	bool more_out; /* the last call filled the output: the decoder may hold more */
#ifdef HAVE_ZLIB
	z_stream z;
	bool z_init;
	bool any_out; /* deflate: output seen, so no switch to raw deflate now */
#endif
#ifdef HAVE_BROTLI
	BrotliDecoderState *br;
#endif
};

const char *http_decode_accept(void)
{
#if defined(HAVE_ZLIB) && defined(HAVE_BROTLI)
	return "deflate, gzip, br";
#elif defined(HAVE_ZLIB)
	return "deflate, gzip";
#elif defined(HAVE_BROTLI)
	return "br";
#else
	return NULL;
#endif
}

enum http_coding http_decode_coding(const char *v)
{
	if (!v)
		return HTTP_CODING_IDENTITY;
	v += strspn(v, " \t");
	size_t n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
#define IS(s) (n == sizeof s - 1 && strncasecmp(v, s, n) == 0)
	if (n == 0 || IS("identity"))
		return HTTP_CODING_IDENTITY;
#ifdef HAVE_ZLIB
	if (IS("gzip") || IS("x-gzip"))
		return HTTP_CODING_GZIP;
	if (IS("deflate"))
		return HTTP_CODING_DEFLATE;
#endif
#ifdef HAVE_BROTLI
	if (IS("br"))
		return HTTP_CODING_BR;
#endif
#undef IS
	return HTTP_CODING_UNKNOWN;
}

struct http_decode *http_decode_new(enum http_coding c)
{
	struct http_decode *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->c = c;
	switch (c) {
#ifdef HAVE_ZLIB
	case HTTP_CODING_GZIP:
	case HTTP_CODING_DEFLATE:
		/* gzip: its header only (16); deflate: the zlib wrapper, and
		 * raw deflate if that fails at once (as servers send both). */
		if (inflateInit2(&d->z, c == HTTP_CODING_GZIP ? 15 + 16 : 15) != Z_OK) {
			free(d);
			return NULL;
		}
		d->z_init = true;
		return d;
#endif
#ifdef HAVE_BROTLI
	case HTTP_CODING_BR:
		d->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
		if (!d->br) {
			free(d);
			return NULL;
		}
		return d;
#endif
	default:
		free(d);
		return NULL;
	}
}

void http_decode_free(struct http_decode *d)
{
	if (!d)
		return;
#ifdef HAVE_ZLIB
	if (d->z_init)
		inflateEnd(&d->z);
#endif
#ifdef HAVE_BROTLI
	if (d->br)
		BrotliDecoderDestroyInstance(d->br);
#endif
	free(d);
}

void http_decode_input(struct http_decode *d, const void *in, size_t n)
{
	d->in = in;
	d->in_len = n;
}

bool http_decode_pending(const struct http_decode *d)
{
	return (d->in_len > 0 || d->more_out) && !d->ended;
}

bool http_decode_ended(const struct http_decode *d)
{
	return d->ended;
}

#ifdef HAVE_ZLIB
static ssize_t z_output(struct http_decode *d, void *out, size_t cap, const char **err)
{
	for (;;) {
		d->z.next_in = (Bytef *)(uintptr_t)d->in;
		d->z.avail_in = (uInt)(d->in_len > UINT32_MAX ? UINT32_MAX : d->in_len);
		d->z.next_out = out;
		d->z.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
		uInt had = d->z.avail_in;
		int rc = inflate(&d->z, Z_NO_FLUSH);
		size_t used = had - d->z.avail_in, made = cap - d->z.avail_out;
		if (rc == Z_DATA_ERROR && d->c == HTTP_CODING_DEFLATE && !d->any_out &&
		    d->z.total_in == used) {
			/* No zlib header: raw deflate, from the same bytes. */
			if (inflateReset2(&d->z, -15) != Z_OK) {
				*err = "deflate: cannot reset";
				return -1;
			}
			d->any_out = true;
			continue;
		}
		d->in += used;
		d->in_len -= used;
		if (made)
			d->any_out = true;
		d->more_out = made == cap;
		if (rc == Z_STREAM_END) {
			d->ended = true;
			d->in_len = 0; /* what follows the stream is ignored */
			return (ssize_t)made;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			*err = d->z.msg ? d->z.msg : "corrupt compressed body";
			return -1;
		}
		if (made || !d->in_len)
			return (ssize_t)made;
	}
}
#endif

#ifdef HAVE_BROTLI
static ssize_t br_output(struct http_decode *d, void *out, size_t cap, const char **err)
{
	size_t avail_in = d->in_len, avail_out = cap;
	const uint8_t *next_in = d->in;
	uint8_t *next_out = out;
	BrotliDecoderResult rc =
	    BrotliDecoderDecompressStream(d->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
	d->in = next_in;
	d->in_len = avail_in;
	d->more_out = rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
	if (rc == BROTLI_DECODER_RESULT_ERROR) {
		*err = BrotliDecoderErrorString(BrotliDecoderGetErrorCode(d->br));
		return -1;
	}
	if (rc == BROTLI_DECODER_RESULT_SUCCESS) {
		d->ended = true;
		d->in_len = 0;
	}
	return (ssize_t)(cap - avail_out);
}
#endif

ssize_t http_decode_output(struct http_decode *d, void *out, size_t cap, const char **err)
{
	if (d->ended)
		return 0;
	switch (d->c) {
#ifdef HAVE_ZLIB
	case HTTP_CODING_GZIP:
	case HTTP_CODING_DEFLATE:
		return z_output(d, out, cap, err);
#endif
#ifdef HAVE_BROTLI
	case HTTP_CODING_BR:
		return br_output(d, out, cap, err);
#endif
	default:
		*err = "no decoder";
		return -1;
	}
}
