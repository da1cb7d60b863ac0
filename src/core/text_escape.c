#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "core/text_escape.h"
#include "udp/hexpayload.h"

/* The escape whose backslash is at in[*i]: its byte value, with *i moved
 * to the escape's last byte; or -1 with a message in err. */
static int escape_at(const char *in, size_t inlen, size_t *i, char *err, size_t errlen)
{
	static const char from[] = "\\\"$abefnrtv";
	static const char to[] = "\\\"$\a\b\033\f\n\r\t\v";
	size_t at = *i, j = at + 1;
	if (j >= inlen) {
		snprintf(err, errlen, "a backslash at the end (write \\\\ for a backslash)");
		return -1;
	}
	char c = in[j];
	const char *simple = c ? strchr(from, c) : NULL;
	int v, d;
	if (simple) {
		v = (unsigned char)to[simple - from];
	} else if (c == 'x') {
		/* One or two hex digits, as printf takes them. */
		if (j + 1 >= inlen || (v = hex_nibble((unsigned char)in[j + 1])) < 0) {
			snprintf(err, errlen, "\\x without a hex digit at offset %zu", at);
			return -1;
		}
		j++;
		if (j + 1 < inlen && (d = hex_nibble((unsigned char)in[j + 1])) >= 0) {
			v = v * 16 + d;
			j++;
		}
	} else if (c >= '0' && c <= '7') {
		v = c - '0';
		for (int n = 1; n < 3 && j + 1 < inlen && in[j + 1] >= '0' && in[j + 1] <= '7'; n++)
			v = v * 8 + (in[++j] - '0');
		if (v > 0377) {
			snprintf(err, errlen, "octal escape above \\377 at offset %zu", at);
			return -1;
		}
	} else {
		/* printf passes an unknown escape through; a typo in a protocol
		 * message is better refused here than sent. */
		if (c > ' ' && c < 0x7f)
			snprintf(err, errlen, "unknown escape '\\%c' at offset %zu", c, at);
		else
			snprintf(err, errlen, "unknown escape: '\\' and byte 0x%02x at offset %zu",
				 (unsigned char)c, at);
		return -1;
	}
	*i = j;
	return v;
}

long text_unescape(const char *in, size_t inlen, char *out, size_t outcap, char *err, size_t errlen)
{
	size_t o = 0;
	for (size_t i = 0; i < inlen; i++) {
		int v = (unsigned char)in[i];
		if (v == '\\' && (v = escape_at(in, inlen, &i, err, errlen)) < 0)
			return -1;
		if (o >= outcap) {
			snprintf(err, errlen, "longer than %zu bytes", outcap);
			return -1;
		}
		out[o++] = (char)v;
	}
	return (long)o;
}

long text_unescape_dup(const char *s, char **out, char *err, size_t errlen)
{
	size_t len = strlen(s);
	char *p = malloc(len + 1);
	*out = NULL;
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	long n = text_unescape(s, len, p, len, err, errlen);
	if (n < 0) {
		free(p);
		return -1;
	}
	p[n] = '\0';
	*out = p;
	return n;
}

void text_upper(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 'a' && p[i] <= 'z')
			p[i] = (char)(p[i] - 'a' + 'A');
}

long text_unescape_regex(const char *in, size_t inlen, char *out, size_t outcap, char *err,
			 size_t errlen)
{
	size_t o = 0;
	for (size_t i = 0; i < inlen; i++) {
		int v = (unsigned char)in[i];
		char c = i + 1 < inlen ? in[i + 1] : 0;
		if (v == '\\' && c && strchr("enrtx", c)) {
			size_t at = i;
			if ((v = escape_at(in, inlen, &i, err, errlen)) < 0)
				return -1;
			if (v == 0) {
				snprintf(err, errlen,
					 "a NUL byte cannot be in a regex (offset %zu)", at);
				return -1;
			}
		} else if (v == '\\' && i + 1 < inlen) {
			/* The regex's own escape (\\ \. \+ \1 \b ...): both bytes as
			 * they are, so that "\\n" stays a backslash and an n. */
			if (o + 1 >= outcap) {
				snprintf(err, errlen, "longer than %zu bytes", outcap);
				return -1;
			}
			out[o++] = in[i++];
			v = (unsigned char)in[i];
		}
		if (o >= outcap) {
			snprintf(err, errlen, "longer than %zu bytes", outcap);
			return -1;
		}
		out[o++] = (char)v;
	}
	return (long)o;
}

void text_escape(struct sbuf *b, const char *p, size_t n)
{
	static const char from[] = "\\\"\n\r\t";
	static const char to[] = "\\\"nrt";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		const char *e = c ? memchr(from, c, sizeof from - 1) : NULL;
		if (e) {
			sb_putc(b, '\\');
			sb_putc(b, to[e - from]);
		} else if (c >= ' ' && c < 0x7f) {
			sb_putc(b, (char)c);
		} else {
			sb_printf(b, "\\x%02x", c);
		}
	}
}
