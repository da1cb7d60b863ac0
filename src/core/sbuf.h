/* A bounded growable text buffer, and JSON strings written into it. Pure:
 * no I/O. */
#ifndef SOCKCTL_SBUF_H
#define SOCKCTL_SBUF_H

#include <stdbool.h>
#include <stddef.h>

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

/* Bytes shown safely on a terminal: printable ASCII as it is, a backslash
 * and every other byte as \xHH (text taken from a peer). */
void sb_put_visible(struct sbuf *b, const char *s, size_t n);

/* A JSON string with its quotes; control bytes as \u00XX and bytes >= 0x80
 * as \u00XX too (our inputs are escaped ASCII already; this keeps the
 * document valid whatever comes in). */
void json_string(struct sbuf *b, const char *s, size_t n);
/* The same for text that is UTF-8 (file names): well-formed UTF-8 is
 * kept as it is, so it reads back as the same characters; a byte that is
 * not part of one becomes U+FFFD. */
void json_string_utf8(struct sbuf *b, const char *s, size_t n);
static inline void json_str(struct sbuf *b, const char *s)
{
	json_string(b, s, s ? __builtin_strlen(s) : 0);
}

#endif
