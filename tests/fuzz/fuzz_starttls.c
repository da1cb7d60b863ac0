/* libFuzzer: the STARTTLS dialogues never crash, read or write out of
 * bounds, or end without a verdict's text: the first byte picks the
 * protocol and the piece size, the rest is the server's bytes. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "net/starttls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static struct starttls_talk t;
	struct sbuf out;
	sb_init(&out);
	starttls_talk_init(&t, (enum starttls_proto)(data[0] % 8), "host", "helo", &out);
	size_t piece = 1 + (data[0] >> 3);
	int r = STARTTLS_MORE;
	char err[400];
	for (size_t i = 1; i < size && r == STARTTLS_MORE; i += piece) {
		size_t k = size - i < piece ? size - i : piece;
		err[0] = 0;
		r = starttls_talk_feed(&t, data + i, k, &out, err, sizeof err);
		if (r == STARTTLS_FAIL && !err[0])
			abort();
		if (t.inlen > sizeof t.in)
			abort();
	}
	sb_free(&out);
	return 0;
}
