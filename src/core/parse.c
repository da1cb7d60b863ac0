#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* What strtoull and strtod let through that a user did not mean: blanks,
 * signs (a "-1" would wrap to a huge count), an empty string. */
static bool plain_number(const char *s)
{
	return s && *s >= '0' && *s <= '9';
}

bool parse_bytes(const char *s, uint64_t *out)
{
	if (!plain_number(s))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	static const char units[] = "KMGT";
	const char *u = *end ? strchr(units, *end & ~0x20) : NULL;
	int shift = 0;
	if (u) {
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end == 'i')
			end++;
	}
	if (*end == 'B')
		end++;
	if (*end || v > (UINT64_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

bool parse_duration(const char *s, int unit_ms, int max_ms, int *ms_out)
{
	if (!plain_number(s))
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || !isfinite(v))
		return false;
	double unit = unit_ms;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "s") == 0)
		unit = 1000;
	else if (*end)
		return false;
	/* strtod takes hex and exponents: "0x10" or "1e3" are not what a
	 * duration looks like. */
	if (strpbrk(s, "xXeEpP") && strpbrk(s, "xXeEpP") < end)
		return false;
	double ms = v * unit;
	if (ms > max_ms)
		return false;
	*ms_out = (int)(ms + 0.5);
	return true;
}
