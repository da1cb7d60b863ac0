/* Text output for lookups: DNS presentation format escaping (RFC 1035
 * \DDD) into a core/sbuf. Pure: no I/O.
 *
 * Everything that came from the network or a resolver goes through one of
 * the escapers, so that no control byte or non-ASCII byte ever reaches the
 * terminal: output is printable ASCII only. */
#ifndef SOCKCTL_DNS_FMT_H
#define SOCKCTL_DNS_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sbuf.h"

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
#endif
