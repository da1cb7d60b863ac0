/* Numbers from text, strictly (no leading blanks or '+', no trailing
 * junk). Pure. */
#ifndef SOCKCTL_PARSE_H
#define SOCKCTL_PARSE_H

#include <stdbool.h>

/* Parses a non-negative decimal (seconds, may have a fraction) into ms. */
bool parse_seconds(const char *s, int *ms_out);
/* Parses a decimal integer in [min, max]. */
bool parse_long(const char *s, long min, long max, long *out);

#endif
