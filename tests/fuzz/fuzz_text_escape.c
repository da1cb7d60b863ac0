/* libFuzzer harness for the TEXT escape decoder: no crash, no read past
 * the input, no write past the output, never longer than the input, and
 * text without a backslash comes back unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text_escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	char *out = malloc(size + 1);
	long n = text_unescape((const char *)data, size, out, size, err, sizeof err);
	if (n > (long)size)
		abort();
	if (!memchr(data, '\\', size) && (n != (long)size || memcmp(out, data, size) != 0))
		abort();
	/* A small output buffer must be refused, never overrun. */
	if (size > 4)
		(void)text_unescape((const char *)data, size, out, 1, err, sizeof err);
	free(out);
	return 0;
}
