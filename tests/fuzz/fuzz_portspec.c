/* libFuzzer: the port list parser must never crash, and every port it
 * returns is in 1..65535 and appears once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "scan/portspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	char err[128];
	struct portspec ps;
	if (portspec_parse(s, SOCK_STREAM, &ps, err, sizeof err) == 0) {
		static uint8_t seen[65536];
		memset(seen, 0, sizeof seen);
		for (size_t i = 0; i < ps.n; i++) {
			if (ps.ports[i] == 0 || seen[ps.ports[i]])
				abort();
			seen[ps.ports[i]] = 1;
		}
		portspec_free(&ps);
	}
	free(s);
	return 0;
}
