#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "core/parse.h"

bool parse_long(const char *s, long min, long max, long *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return false;
	/* strtol accepts leading space and '+'; a user typing those meant
	 * something else. */
	if (s[0] == ' ' || s[0] == '+' || s[0] == '\t')
		return false;
	*out = v;
	return true;
}

bool parse_seconds(const char *s, int *ms_out)
{
	if (!s || !*s || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(v) || v < 0 || v > 86400.0 * 365)
		return false;
	*ms_out = (int)(v * 1000.0 + 0.5);
	return true;
}
