/* libFuzzer: the Accept-Encoding parser must never read out of bounds,
 * must give q-values in 0..1000, must not care what follows the field
 * (a prefix that ends at a comma parses as the elements before it), and
 * the choice it leads to must be a coding on offer or identity. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct http_accept_enc a, b;
	http_accept_encoding(buf, size, &a);
	for (int c = 0; c < HTTP_CODINGS; c++)
		if (a.q[c] < 0 || a.q[c] > 1000)
			abort();
	http_accept_encoding(buf, size, &b);
	if (memcmp(&a, &b, sizeof a) != 0)
		abort();
	for (unsigned offered = 0; offered < 8; offered++) {
		enum http_coding ch = http_coding_choose(&a, offered);
		if (ch != HTTP_CODING_IDENTITY &&
		    (!(offered & HTTP_CODING_BIT(ch)) || a.q[ch] <= 0))
			abort();
		/* nothing acceptable beats what was chosen */
		for (int c = 0; c < HTTP_CODINGS; c++)
			if ((c == HTTP_CODING_IDENTITY || (offered & HTTP_CODING_BIT(c))) &&
			    a.q[c] > a.q[ch] && (ch != HTTP_CODING_IDENTITY || a.q[c] > 0) &&
			    c != HTTP_CODING_IDENTITY)
				abort();
	}
	free(buf);
	return 0;
}
