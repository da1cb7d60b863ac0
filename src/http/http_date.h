/* HTTP dates (RFC 9110 5.6.7): IMF-fixdate out; IMF-fixdate, RFC 850 and
 * asctime forms in. Pure. */
#ifndef SOCKCTL_HTTP_DATE_H
#define SOCKCTL_HTTP_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define HTTP_DATE_LEN 30 /* "Sun, 06 Nov 1994 08:49:37 GMT" + NUL */

void http_date_format(time_t t, char out[HTTP_DATE_LEN]);
/* Parses len bytes of s; false if it is none of the three forms. */
bool http_date_parse(const char *s, size_t len, time_t *out);

#endif
