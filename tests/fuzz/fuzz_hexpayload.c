/* libFuzzer harness for the hex payload parser: no crash, no read past
 * the input, no write past the output, and decode(encode(x)) == x. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "udp/hexpayload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	size_t cap = size / 2 + 1;
	unsigned char *out = malloc(cap);
	long n = hex_decode((const char *)data, size, out, cap, err, sizeof err);
	if (n > (long)cap)
		abort();
	if (n > 0) {
		char *txt = malloc(2 * (size_t)n + 1);
		unsigned char *back = malloc((size_t)n);
		size_t tl = hex_encode(out, (size_t)n, txt);
		if (hex_decode(txt, tl, back, (size_t)n, err, sizeof err) != n ||
		    memcmp(back, out, (size_t)n) != 0)
			abort();
		free(txt);
		free(back);
	}
	/* A small output buffer must be refused, never overrun. */
	if (size > 4)
		(void)hex_decode((const char *)data, size, out, 1, err, sizeof err);
	free(out);
	return 0;
}
