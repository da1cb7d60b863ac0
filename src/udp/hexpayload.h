/* Hex payloads: the text users type for binary datagrams, and the text
 * printed for binary replies. Pure functions, no I/O. */
#ifndef SOCKCTL_HEXPAYLOAD_H
#define SOCKCTL_HEXPAYLOAD_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes hex text such as "de ad be ef", "DEADBEEF" or "de:ad:be:ef".
 * Whitespace and ':' may separate bytes but never split one; an optional
 * "0x" prefix is accepted at the start. Writes at most outcap bytes.
 * Returns the number of bytes, or -1 with a message in err: no digits at
 * all, an odd number of digits, a character that is not hex, or more
 * than outcap bytes. */
long hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap, char *err,
		size_t errlen);

/* The value of one hex digit (either case), or -1 for any other byte. */
int hex_nibble(unsigned char c);

/* Encodes n bytes as 2n lowercase hex digits plus a NUL terminator into
 * out, which must hold 2n+1 bytes. Returns 2n. */
size_t hex_encode(const unsigned char *in, size_t n, char *out);

#endif
