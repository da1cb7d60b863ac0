/* libFuzzer: the scan's answer parser must never read past the packet,
 * for either family, and reports only the three kinds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "scan/tcp_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy so that any overread is caught. */
	uint8_t *p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);
	const uint8_t from[4] = {127, 0, 0, 1};
	struct tcp_answer a;
	for (int f = 0; f < 2; f++) {
		if (tcp_answer_parse(f ? AF_INET6 : AF_INET, p, size, from, &a) == 0 &&
		    a.kind != TCP_ANSWER_NONE && a.kind != TCP_ANSWER_OPEN &&
		    a.kind != TCP_ANSWER_CLOSED)
			abort();
	}
	free(p);
	return 0;
}
