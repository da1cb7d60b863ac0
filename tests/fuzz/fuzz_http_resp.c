/* libFuzzer harness: the response parser fed the input in pieces whose
 * sizes come from the first byte; body bytes must lie inside the input.
 * With bit 6 of the first byte, body bytes the parser offers raw are
 * taken raw instead (the zero-copy path), as a client would: the counts
 * must agree with what was fed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_resp r;
	if (size < 1)
		return 0;
	size_t step = (size_t)data[0] % 17 + 1;
	bool head = data[0] & 0x80;
	bool raw = data[0] & 0x40;
	data++, size--;
	http_resp_init(&r, head);
	size_t off = 0;
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		uint64_t left = http_resp_raw_left(&r);
		if (raw && left > 0) {
			uint64_t before = r.body_bytes, take = left < n ? left : n;
			http_resp_raw_taken(&r, take);
			if (r.body_bytes != before + take || http_resp_raw_left(&r) > left)
				abort();
			off += (size_t)take;
			continue;
		}
		const char *b;
		size_t bl;
		ssize_t c = http_resp_feed(&r, (const char *)data + off, n, &b, &bl);
		if (c < 0)
			return 0;
		if (c == 0)
			break;
		if ((size_t)c > n || bl > (size_t)c)
			abort();
		if (bl && (b < (const char *)data + off || b + bl > (const char *)data + off + n))
			abort();
		off += (size_t)c;
	}
	http_resp_eof(&r);
	for (size_t i = 0; i < r.nhdrs; i++)
		if (strlen(r.hdrs[i].name) == 0)
			abort();
	return 0;
}
