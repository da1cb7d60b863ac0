#include "config.h"

#include <stdio.h>
#include <string.h>

#include "http/http_date.h"

static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void http_date_format(time_t t, char out[HTTP_DATE_LEN])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		memcpy(out, "Thu, 01 Jan 1970 00:00:00 GMT", HTTP_DATE_LEN);
		return;
	}
	/* the fields are in range, so this is exactly 29 characters */
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	memcpy(out, tmp, HTTP_DATE_LEN - 1);
	out[HTTP_DATE_LEN - 1] = '\0';
}

/* Reads exactly n digits. */
static bool digits(const char **p, const char *end, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (*p >= end || **p < '0' || **p > '9')
			return false;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return true;
}

static bool lit(const char **p, const char *end, const char *s)
{
	size_t n = strlen(s);
	if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

static bool month(const char **p, const char *end, int *out)
{
	for (int i = 0; i < 12; i++)
		if (lit(p, end, months[i])) {
			*out = i;
			return true;
		}
	return false;
}

static bool hms(const char **p, const char *end, struct tm *tm)
{
	return digits(p, end, 2, &tm->tm_hour) && lit(p, end, ":") &&
	       digits(p, end, 2, &tm->tm_min) && lit(p, end, ":") && digits(p, end, 2, &tm->tm_sec);
}

bool http_date_parse(const char *s, size_t len, time_t *out)
{
	const char *p = s, *end = s + len;
	struct tm tm = {0};
	int year = 0;
	const char *comma = memchr(s, ',', len);
	if (comma && comma - s == 3) {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		p += 3;
		if (!(lit(&p, end, ", ") && digits(&p, end, 2, &tm.tm_mday) && lit(&p, end, " ") &&
		      month(&p, end, &tm.tm_mon) && lit(&p, end, " ") &&
		      digits(&p, end, 4, &year) && lit(&p, end, " ") && hms(&p, end, &tm) &&
		      lit(&p, end, " GMT")))
			return false;
	} else if (comma) {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
		p = comma;
		int yy;
		if (!(lit(&p, end, ", ") && digits(&p, end, 2, &tm.tm_mday) && lit(&p, end, "-") &&
		      month(&p, end, &tm.tm_mon) && lit(&p, end, "-") && digits(&p, end, 2, &yy) &&
		      lit(&p, end, " ") && hms(&p, end, &tm) && lit(&p, end, " GMT")))
			return false;
		/* two-digit years: the nearest century that is not far future */
		year = yy < 70 ? 2000 + yy : 1900 + yy;
	} else {
		/* asctime: "Sun Nov  6 08:49:37 1994" */
		if (len < 4)
			return false;
		p += 4;
		if (!month(&p, end, &tm.tm_mon) || !lit(&p, end, " "))
			return false;
		if (p < end && *p == ' ') {
			p++;
			if (!digits(&p, end, 1, &tm.tm_mday))
				return false;
		} else if (!digits(&p, end, 2, &tm.tm_mday)) {
			return false;
		}
		if (!(lit(&p, end, " ") && hms(&p, end, &tm) && lit(&p, end, " ") &&
		      digits(&p, end, 4, &year)))
			return false;
	}
	if (p != end || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return false;
	tm.tm_year = year - 1900;
	*out = timegm(&tm);
	return true;
}
