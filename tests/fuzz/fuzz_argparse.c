/* libFuzzer: endpoint operands and "did you mean" on arbitrary text. The
 * first byte picks the flags and how many operands; a NUL splits them. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tool/argparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 256)
		return 0;
	char buf[258];
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	buf[size] = '\0';
	char *args[2] = {buf, buf + strlen(buf) + 1};
	int nargs = 1 + (data[0] & 1);
	const char *host, *port;
	char err[512];
	int used = endpoint_split(nargs, args, (data[0] >> 1) & 3, &host, &port, err, sizeof err);
	if (used > nargs || used == 0 || used < -1)
		abort();
	if (used > 0) {
		/* What it found lies in the operands; a host with a ':' is an
		 * IPv6 address, never a name to look up. */
		if (!port || port < buf || port > buf + size)
			abort();
		if (host && (host < buf || host > buf + size))
			abort();
		if (host && strchr(host, ':') && !ipv6_literal(host, strlen(host)))
			abort();
	}
	static const char *const names[] = {"serve", "connect", "udp-send",  "resolve",
					    "chat",  "http",	"keep-open", "hex-dump"};
	char near[128] = "";
	int n = suggest_names(buf, names, 8, "--", near, sizeof near);
	if (n < 0 || n > 3 || strlen(near) >= sizeof near)
		abort();
	return 0;
}
