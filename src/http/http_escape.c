#include "config.h"

#include <stdio.h>
#include <string.h>

#include "http/http_escape.h"

/* Writes the escape of byte c to e (at most 8 bytes); returns its length. */
typedef size_t (*escape_fn)(unsigned char c, char *e);

/* Escapes s[0..len) byte by byte into out (always NUL-terminated); stops
 * before the first escape that does not fit whole. */
static size_t escape(const char *s, size_t len, char *out, size_t outlen, escape_fn one)
{
	size_t n = 0;
	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char e[8];
		size_t el = one((unsigned char)s[i], e);
		if (n + el + 1 > outlen)
			break;
		memcpy(out + n, e, el);
		n += el;
	}
	out[n] = '\0';
	return n;
}

static size_t esc_html(unsigned char c, char *e)
{
	const char *t;
	switch (c) {
	case '&':
		t = "&amp;";
		break;
	case '<':
		t = "&lt;";
		break;
	case '>':
		t = "&gt;";
		break;
	case '"':
		t = "&quot;";
		break;
	case '\'':
		t = "&#39;";
		break;
	default:
		if (c >= 0x20 && c != 0x7f) {
			e[0] = (char)c;
			return 1;
		}
		t = "\xef\xbf\xbd";
	}
	size_t n = strlen(t);
	memcpy(e, t, n);
	return n;
}

static size_t esc_log(unsigned char c, char *e)
{
	if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
		snprintf(e, 8, "\\x%02x", c);
		return 4;
	}
	e[0] = (char)c;
	return 1;
}

size_t http_escape_html(const char *s, size_t len, char *out, size_t outlen)
{
	return escape(s, len, out, outlen, esc_html);
}

size_t http_escape_log(const char *s, size_t len, char *out, size_t outlen)
{
	return escape(s, len, out, outlen, esc_log);
}

static size_t esc_log_word(unsigned char c, char *e)
{
	if (c == ' ') {
		memcpy(e, "\\x20", 4);
		return 4;
	}
	return esc_log(c, e);
}

size_t http_escape_log_word(const char *s, size_t len, char *out, size_t outlen)
{
	return escape(s, len, out, outlen, esc_log_word);
}
