/* libFuzzer: the request parser must never read out of bounds, and must
 * give the same answer fed whole or in two pieces. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy of exactly size bytes, so ASan sees overreads */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct http_req a, b;
	http_req_init(&a);
	int ra = http_parse(&a, buf, size);
	http_req_init(&b);
	size_t cut = size ? data[0] % (size + 1) : 0;
	int rb = http_parse(&b, buf, cut);
	if (rb == HTTP_PARSE_MORE)
		rb = http_parse(&b, buf, size);
	if (ra == HTTP_PARSE_DONE && rb == HTTP_PARSE_DONE && a.head_len != b.head_len)
		abort();
	if (ra == HTTP_PARSE_DONE &&
	    (a.head_len > size || a.target.p < buf || a.target.p + a.target.len > buf + size))
		abort();
	free(buf);
	return 0;
}
