/* http serve's content codings: Accept-Encoding with q-values, the
 * choice, the text types, and gzip and br compression decoding back to
 * the same bytes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_BROTLI
#include <brotli/decode.h>
#endif

#include "http/http_encode.h"
#include "tap.h"

static struct http_accept_enc a;
#define I    HTTP_CODING_IDENTITY
#define G    HTTP_CODING_GZIP
#define B    HTTP_CODING_BR
#define BOTH (HTTP_CODING_BIT(G) | HTTP_CODING_BIT(B))

static bool q(const char *v, int qi, int qg, int qb)
{
	http_accept_encoding(v, v ? strlen(v) : 0, &a);
	return a.q[I] == qi && a.q[G] == qg && a.q[B] == qb;
}

static enum http_coding pick(const char *v, unsigned offered)
{
	http_accept_encoding(v, v ? strlen(v) : 0, &a);
	return http_coding_choose(&a, offered);
}

int main(void)
{
	ok(q(NULL, 1000, 0, 0), "no field: identity only");
	ok(q("", 1000, 0, 0), "empty field: identity only");
	ok(q("gzip", 1000, 1000, 0), "gzip");
	ok(q("gzip, deflate, br", 1000, 1000, 1000), "curl --compressed");
	ok(q("br;q=0.5, gzip;q=0.25", 1000, 250, 500), "q-values");
	ok(q("GZIP;Q=0.5", 1000, 500, 0), "any case");
	ok(q("x-gzip", 1000, 1000, 0), "x-gzip is gzip");
	ok(q("gzip;q=0", 1000, 0, 0), "q=0 refuses");
	ok(q("identity;q=0", 0, 0, 0), "identity refused by name");
	ok(q("*", 1000, 1000, 1000), "* takes everything");
	ok(q("*;q=0", 0, 0, 0), "*;q=0 refuses everything, identity too");
	ok(q("*;q=0, identity", 1000, 0, 0), "... unless identity is named");
	ok(q("br;q=0, *;q=0.3", 300, 300, 0), "* for what is not named");
	ok(q("gzip;q=1.000, br;q=0.001", 1000, 1000, 1), "three decimals");
	ok(q("gzip;q=1.5, br", 1000, 0, 1000), "q over 1: the element is skipped");
	ok(q("gzip;q=0.1234, br;q=x", 1000, 0, 0), "four decimals, junk q: skipped");
	ok(q("gzip ; q=0.5 ; foo=bar", 1000, 500, 0), "spaces and other parameters");
	ok(q("gzip;q=0.2, gzip;q=0.9", 1000, 200, 0), "the first mention counts");
	ok(q(" , ,gzip,,", 1000, 1000, 0), "empty elements");
	ok(q("compress, zstd", 1000, 0, 0), "unknown codings ignored");

	ok(pick("gzip, br", BOTH) == B, "br before gzip at equal q");
	ok(pick("gzip, br;q=0.9", BOTH) == G, "q decides");
	ok(pick("gzip, br", HTTP_CODING_BIT(G)) == G, "only what is on offer");
	ok(pick("br", HTTP_CODING_BIT(G)) == I, "nothing acceptable on offer: identity");
	ok(pick("identity;q=0, gzip;q=0", BOTH) == I, "all refused: identity all the same");
	ok(pick("identity, gzip;q=0.5", BOTH) == I, "identity preferred by q");
	ok(pick("identity;q=0.5, gzip;q=0.5", BOTH) == G, "a coding before identity at equal q");
	ok(pick(NULL, BOTH) == I, "no field, no coding");

	ok(http_encode_worth("text/html") && http_encode_worth("text/css; charset=utf-8") &&
	       http_encode_worth("application/json") &&
	       http_encode_worth("application/javascript") && http_encode_worth("image/svg+xml") &&
	       http_encode_worth("application/ld+json") &&
	       http_encode_worth("application/atom+xml") && http_encode_worth("application/xml"),
	   "text types are worth it");
	ok(!http_encode_worth("image/png") && !http_encode_worth("application/octet-stream") &&
	       !http_encode_worth("application/gzip") && !http_encode_worth("video/mp4") &&
	       !http_encode_worth("text") && !http_encode_worth("application/jsonx"),
	   "others are not");
	ok(strcmp(http_coding_name(B), "br") == 0 && strcmp(http_coding_suffix(G), ".gz") == 0,
	   "names and suffixes");

	size_t n = 200000;
	char *text = malloc(n);
	for (size_t i = 0; i < n; i++)
		text[i] = "the quick brown fox jumps over the lazy dog\n"[i % 44] ^ (i % 997 == 0);
	char *z;
	size_t zlen;
#ifdef HAVE_ZLIB
	ok(http_encode(G, text, n, &z, &zlen) && zlen < n / 4, "gzip compresses (%zu)", zlen);
	{
		char *back = malloc(n + 1);
		z_stream s = {0};
		inflateInit2(&s, 15 + 16);
		s.next_in = (Bytef *)z;
		s.avail_in = (uInt)zlen;
		s.next_out = (Bytef *)back;
		s.avail_out = (uInt)(n + 1);
		int r = inflate(&s, Z_FINISH);
		ok(r == Z_STREAM_END && s.total_out == n && memcmp(back, text, n) == 0,
		   "gzip: decodes to the same bytes");
		inflateEnd(&s);
		free(back);
	}
	free(z);
	ok(http_encode(G, "", 0, &z, &zlen) && zlen > 0, "gzip of nothing is a valid stream");
	free(z);
#else
	ok(!http_encode(G, text, n, &z, &zlen), "no zlib: no gzip");
#endif
#ifdef HAVE_BROTLI
	ok(http_encode(B, text, n, &z, &zlen) && zlen < n / 4, "br compresses (%zu)", zlen);
	{
		char *back = malloc(n);
		size_t bl = n;
		ok(BrotliDecoderDecompress(zlen, (const uint8_t *)z, &bl, (uint8_t *)back) ==
			   BROTLI_DECODER_RESULT_SUCCESS &&
		       bl == n && memcmp(back, text, n) == 0,
		   "br: decodes to the same bytes");
		free(back);
	}
	free(z);
#else
	ok(!http_encode(B, text, n, &z, &zlen), "no libbrotli: no br");
#endif
	ok(!http_encode(I, text, n, &z, &zlen), "identity is not an encoder");
	free(text);
	tap_done();
}
