/* Text output for lookups: a bounded growable string, DNS presentation
 * format escaping (RFC 1035 \DDD) and JSON strings. Pure: no I/O.
 *
 * Everything that came from the network or a resolver goes through one of
 * the escapers, so that no control byte or non-ASCII byte ever reaches the
 * terminal: output is printable ASCII only. */
#ifndef SOCKCTL_DNS_FMT_H
#define SOCKCTL_DNS_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A string that grows up to SBUF_MAX bytes; past that (or when malloc
 * fails) it stops growing and sets oom, so callers check once at the end. */
#define SBUF_MAX (1u << 20)
struct sbuf {
	char *p; /* owned; NUL-terminated when len > 0 */
	size_t len, cap;
	bool oom;
};
void sb_init(struct sbuf *b);
void sb_free(struct sbuf *b);
void sb_reset(struct sbuf *b);
void sb_putc(struct sbuf *b, char c);
void sb_putn(struct sbuf *b, const char *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far ("" when empty). */
const char *sb_str(const struct sbuf *b);

/* One DNS label in presentation format: the specials . \ " ( ) ; @ $ get a
 * backslash, bytes outside 0x21..0x7e become \DDD. */
void dns_escape_label(struct sbuf *b, const uint8_t *p, size_t n);
/* A character-string's contents (TXT, CAA value) without the quotes:
 * " and \ get a backslash, bytes outside 0x20..0x7e become \DDD. */
void dns_escape_text(struct sbuf *b, const uint8_t *p, size_t n);
/* A host name given as text (from getaddrinfo, getnameinfo, a file):
 * dots are kept as separators, \ becomes \\, bytes outside 0x21..0x7e
 * become \DDD. */
void dns_escape_host(struct sbuf *b, const char *s);
/* A JSON string with its quotes; control bytes as \u00XX and bytes >= 0x80
 * as \u00XX too (our inputs are escaped ASCII already; this keeps the
 * document valid whatever comes in). */
void json_string(struct sbuf *b, const char *s, size_t n);
static inline void json_str(struct sbuf *b, const char *s)
{
	json_string(b, s, s ? __builtin_strlen(s) : 0);
}

#endif
