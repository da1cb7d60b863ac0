/* libFuzzer: every socket option value parser on arbitrary text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/sockopt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"sndbuf", "rcvbuf", "keepalive", "tos",
					    "ttl",    "linger", "bind-dev"};
	if (size < 1 || size > 64)
		return 0;
	char s[65];
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	struct sockopts o = {0};
	char err[256];
	sockopt_parse(&o, names[data[0] % 7], s, err, sizeof err);
	if ((o.set & SOCKOPT_TTL) && (o.ttl < 1 || o.ttl > 255))
		abort();
	if ((o.set & SOCKOPT_TOS) && (o.tos < 0 || o.tos > 255))
		abort();
	return 0;
}
