#include "config.h"

#include <stdio.h>

#include "udp/hexpayload.h"

int hex_nibble(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_sep(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':';
}

long hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap, char *err,
		size_t errlen)
{
	size_t i = 0, n = 0;
	while (i < inlen && is_sep((unsigned char)in[i]))
		i++;
	if (i + 1 < inlen && in[i] == '0' && (in[i + 1] == 'x' || in[i + 1] == 'X'))
		i += 2;
	while (i < inlen) {
		unsigned char c = (unsigned char)in[i];
		if (is_sep(c)) {
			i++;
			continue;
		}
		int hi = hex_nibble(c);
		if (hi < 0)
			goto bad_char;
		if (i + 1 >= inlen || is_sep((unsigned char)in[i + 1])) {
			snprintf(err, errlen,
				 "odd number of hex digits (a lone digit at offset %zu)", i);
			return -1;
		}
		int lo = hex_nibble((unsigned char)in[i + 1]);
		if (lo < 0) {
			i++;
			c = (unsigned char)in[i];
			goto bad_char;
		}
		if (n == outcap) {
			snprintf(err, errlen, "hex payload longer than %zu bytes", outcap);
			return -1;
		}
		out[n++] = (unsigned char)(hi << 4 | lo);
		i += 2;
		continue;
	bad_char:
		if (c >= 0x20 && c < 0x7f)
			snprintf(err, errlen, "'%c' at offset %zu is not a hex digit", c, i);
		else
			snprintf(err, errlen, "byte 0x%02x at offset %zu is not a hex digit", c, i);
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty hex payload");
		return -1;
	}
	return (long)n;
}

size_t hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
	return 2 * n;
}
