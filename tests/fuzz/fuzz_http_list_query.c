/* libFuzzer: the listing's query parser and the Accept test must never
 * read out of bounds and must give values of their enums; the query's
 * meaning must not depend on junk elements around it (a known element
 * after any prefix ending in '&' still takes effect). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_listing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 16);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct http_list_query q;
	http_list_query_parse(buf, size, &q);
	if (q.sort > HTTP_SORT_DATE || q.format > HTTP_LIST_JSON)
		abort();
	(void)http_accept_json(buf, size);
	memcpy(buf + size, "&sort=size", 10);
	http_list_query_parse(buf, size + 10, &q);
	if (q.sort != HTTP_SORT_SIZE)
		abort();
	memcpy(buf + size, ",text/html", 10);
	if (http_accept_json(buf, size + 10))
		abort();
	free(buf);
	return 0;
}
