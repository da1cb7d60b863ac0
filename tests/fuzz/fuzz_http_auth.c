/* libFuzzer: the Authorization parser must never read out of bounds, and
 * what it accepts must be canonical: encoding the decoded "user:pass"
 * again gives back exactly the token it was given (one text, one
 * decoding: no padding tricks, no ignored bits or bytes; the padding
 * may only be left out whole). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_auth.h"

static size_t b64(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			w |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			w |= in[i + 2];
		out[o++] = t[w >> 18 & 63];
		out[o++] = t[w >> 12 & 63];
		out[o++] = i + 1 < n ? t[w >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? t[w & 63] : '=';
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	static struct http_cred c;
	int r = http_auth_basic_parse(buf, size, &c);
	if (r == HTTP_AUTH_BASIC) {
		if (c.ulen > HTTP_AUTH_CRED_MAX || c.plen > HTTP_AUTH_CRED_MAX ||
		    memchr(c.user, ':', c.ulen) || c.user[c.ulen] || c.pass[c.plen])
			abort();
		static unsigned char raw[2 * HTTP_AUTH_CRED_MAX + 1];
		static char enc[4 * HTTP_AUTH_CRED_MAX + 8];
		memcpy(raw, c.user, c.ulen);
		raw[c.ulen] = ':';
		memcpy(raw + c.ulen + 1, c.pass, c.plen);
		size_t n = b64(raw, c.ulen + 1 + c.plen, enc);
		/* the token is what follows "Basic" and its spaces */
		size_t i = 5;
		while (i < size && buf[i] == ' ')
			i++;
		/* without its padding when the token came without */
		if (size > i && buf[size - 1] != '=')
			while (n && enc[n - 1] == '=')
				n--;
		if (n != size - i || memcmp(enc, buf + i, n) != 0)
			abort();
	} else if (r != HTTP_AUTH_ABSENT && r != HTTP_AUTH_MALFORMED) {
		abort();
	}
	free(buf);
	return 0;
}
