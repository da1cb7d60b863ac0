/* libFuzzer harness: any bytes as a gzip, deflate or br body decode
 * without crashing, looping or writing past the output buffer, in
 * pieces of any size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* First byte: the coding; second: the piece size. */
	static const enum http_coding codings[] = {HTTP_CODING_GZIP, HTTP_CODING_DEFLATE,
						   HTTP_CODING_BR};
	struct http_decode *d = http_decode_new(codings[data[0] % 3]);
	if (!d)
		return 0;
	size_t piece = 1 + data[1] % 64;
	data += 2;
	size = size - 2;
	static char out[4096];
	size_t total = 0;
	for (size_t off = 0; off < size && !http_decode_ended(d); off += piece) {
		size_t n = size - off < piece ? size - off : piece;
		http_decode_input(d, data + off, n);
		const char *err;
		ssize_t k;
		/* A bound on the output: 64 MiB from a fuzz input is a loop. */
		while ((k = http_decode_output(d, out, 1 + data[off] % sizeof out, &err)) > 0)
			if ((total += (size_t)k) > (64u << 20))
				abort();
		if (k < 0)
			break;
		if (http_decode_pending(d) && !http_decode_ended(d) && k == 0) {
			/* Output 0 with input left: only at the end of the stream. */
			abort();
		}
	}
	http_decode_free(d);
	return 0;
}
