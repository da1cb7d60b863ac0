/* Numbers from text, strictly (no leading blanks or '+', no trailing
 * junk). Pure. */
#ifndef SOCKCTL_PARSE_H
#define SOCKCTL_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Parses a non-negative decimal (seconds, may have a fraction) into ms. */
bool parse_seconds(const char *s, int *ms_out);
/* Parses a decimal integer in [min, max]. */
bool parse_long(const char *s, long min, long max, long *out);
/* Parses a byte count: decimal digits and an optional binary multiple,
 * K, M, G or T (KiB, MiB, ... and KB, MB, ... mean the same), in either
 * case, optionally followed by "B". False on overflow. */
bool parse_bytes(const char *s, uint64_t *out);
/* Parses a duration in [0, max_ms] milliseconds: a decimal (a fraction
 * allowed) followed by "ms" or "s", or bare in unit_ms units (1 for
 * milliseconds, 1000 for seconds). */
bool parse_duration(const char *s, int unit_ms, int max_ms, int *ms_out);

#endif
