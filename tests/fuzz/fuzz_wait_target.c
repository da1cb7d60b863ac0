/* libFuzzer harness for the wait target parser: any bytes as a target's
 * text; a parsed target must hold NUL-terminated fields that fit, and
 * parsing its own text again must give the same result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wait/wait_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct wait_target t, again;
	char err[256];
	if (wait_target_parse(s, &t, err, sizeof err)) {
		if (!memchr(t.host, '\0', sizeof t.host) || !memchr(t.port, '\0', sizeof t.port))
			abort();
		if (t.kind != WAIT_UNIX && t.kind != WAIT_HTTP && !t.port[0])
			abort();
		if (!wait_target_parse(t.text, &again, err, sizeof err) || again.kind != t.kind ||
		    strcmp(again.host, t.host) != 0 || strcmp(again.port, t.port) != 0)
			abort();
	} else if (!memchr(err, '\0', sizeof err) || !err[0]) {
		abort();
	}
	free(s);
	return 0;
}
