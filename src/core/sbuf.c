#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"

void sb_init(struct sbuf *b)
{
	memset(b, 0, sizeof *b);
}

void sb_free(struct sbuf *b)
{
	free(b->p);
	sb_init(b);
}

void sb_reset(struct sbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->p)
		b->p[0] = '\0';
}

static bool sb_grow(struct sbuf *b, size_t more)
{
	if (b->oom)
		return false;
	if (more >= SBUF_MAX - b->len) {
		b->oom = true;
		return false;
	}
	size_t need = b->len + more + 1;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (!sb_grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sb_putc(struct sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		sb_putn(b, small, (size_t)n);
		return;
	}
	if (!sb_grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *sb_str(const struct sbuf *b)
{
	return b->len ? b->p : "";
}

void sb_put_visible(struct sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			sb_putc(b, (char)c);
		else
			sb_printf(b, "\\x%02x", c);
	}
}

/* The length of the well-formed UTF-8 sequence of two or more bytes at
 * s[0..n) (no overlong forms, no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t len = c >= 0xc2 && c <= 0xdf   ? 2
		     : c >= 0xe0 && c <= 0xef ? 3
		     : c >= 0xf0 && c <= 0xf4 ? 4
					      : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return len;
}

static void json_escaped(struct sbuf *b, const char *s, size_t n, bool utf8)
{
	static const char hex[] = "0123456789abcdef";
	sb_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		size_t k;
		if (c == '"' || c == '\\') {
			sb_putc(b, '\\');
			sb_putc(b, (char)c);
		} else if (utf8 && c >= 0x80 && (k = utf8_seq((const uint8_t *)s + i, n - i))) {
			sb_putn(b, s + i, k);
			i += k - 1;
		} else if (utf8 && c >= 0x80) {
			sb_puts(b, "\\ufffd");
		} else if (c < 0x20 || c >= 0x7f) {
			char t[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			sb_putn(b, t, 6);
		} else {
			sb_putc(b, (char)c);
		}
	}
	sb_putc(b, '"');
}

void json_string(struct sbuf *b, const char *s, size_t n)
{
	json_escaped(b, s, n, false);
}

void json_string_utf8(struct sbuf *b, const char *s, size_t n)
{
	json_escaped(b, s, n, true);
}
