#include "config.h"

#include <stdio.h>
#include <string.h>

#include "http_escape.h"

static size_t put(char *out, size_t outlen, size_t n, const char *s, size_t sl)
{
	if (n + sl + 1 > outlen)
		return (size_t)-1;
	memcpy(out + n, s, sl);
	return n + sl;
}

size_t http_escape_html(const char *s, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e;
		char one[2] = {(char)c, 0};
		switch (c) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		case '\'':
			e = "&#39;";
			break;
		default:
			e = (c < 0x20 || c == 0x7f) ? "\xef\xbf\xbd" : one;
		}
		size_t m = put(out, outlen, n, e, strlen(e));
		if (m == (size_t)-1)
			break;
		n = m;
	}
	out[n] = '\0';
	return n;
}

size_t http_escape_log(const char *s, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[5];
		size_t el = 1;
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			snprintf(e, sizeof e, "\\x%02x", c);
			el = 4;
		} else {
			e[0] = (char)c;
		}
		size_t m = put(out, outlen, n, e, el);
		if (m == (size_t)-1)
			break;
		n = m;
	}
	out[n] = '\0';
	return n;
}

size_t http_escape_json(const char *s, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[8];
		size_t el;
		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			el = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(e, sizeof e, "\\u%04x", c);
			el = 6;
		} else {
			e[0] = (char)c;
			el = 1;
		}
		size_t m = put(out, outlen, n, e, el);
		if (m == (size_t)-1)
			break;
		n = m;
	}
	out[n] = '\0';
	return n;
}
