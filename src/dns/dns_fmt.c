#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "dns/dns_fmt.h"

static void put_ddd(struct sbuf *b, uint8_t c)
{
	char t[5] = {'\\', (char)('0' + c / 100), (char)('0' + c / 10 % 10), (char)('0' + c % 10)};
	sb_putn(b, t, 4);
}

void dns_escape_label(struct sbuf *b, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c < 0x21 || c > 0x7e) {
			put_ddd(b, c);
			continue;
		}
		if (strchr(".\\\"();@$", c))
			sb_putc(b, '\\');
		sb_putc(b, (char)c);
	}
}

void dns_escape_text(struct sbuf *b, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c < 0x20 || c > 0x7e) {
			put_ddd(b, c);
			continue;
		}
		if (c == '"' || c == '\\')
			sb_putc(b, '\\');
		sb_putc(b, (char)c);
	}
}

void dns_escape_host(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		uint8_t c = (uint8_t)*s;
		if (c < 0x21 || c > 0x7e)
			put_ddd(b, c);
		else if (c == '\\')
			sb_putn(b, "\\\\", 2);
		else
			sb_putc(b, (char)c);
	}
}
