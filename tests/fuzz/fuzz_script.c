/* libFuzzer harness for the script language: the parser (every step,
 * quotes, escapes, captures, serve's rules), then each send expanded with
 * made-up capture values into a buffer of exactly the length it says,
 * and the regex escape decoder on its own. No crash, no leak, no write
 * past a buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text_escape.h"
#include "script/script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct script sc;
	/* The first byte chooses the flavour: connect's or serve's. */
	unsigned flags = size && (data[0] & 1) ? SCRIPT_F_RULES : 0;
	script_init(&sc, flags);
	int r = script_parse(&sc, (const char *)data, size, err, sizeof err);
	if (r < 0 && !strchr(err, ':') && !strstr(err, "memory"))
		abort(); /* a script's error names its line */
	char *vals[SCRIPT_VARS_MAX];
	size_t lens[SCRIPT_VARS_MAX];
	for (size_t i = 0; i < SCRIPT_VARS_MAX; i++) {
		vals[i] = "v\0al";
		lens[i] = 4;
	}
	for (size_t i = 0; i < sc.nsteps + sc.nrules; i++) {
		const struct script_text *t =
		    i < sc.nsteps ? &sc.steps[i].text : &sc.rules[i - sc.nsteps].reply;
		size_t n = script_text_len(t, lens);
		char *out = malloc(n + 1);
		if (script_text_expand(t, vals, lens, out, n) != (long)n)
			abort();
		if (n && script_text_expand(t, vals, lens, out, n - 1) != -1)
			abort();
		free(out);
	}
	script_free(&sc);
	char *out = malloc(size + 1);
	long n = text_unescape_regex((const char *)data, size, out, size, err, sizeof err);
	if (n > (long)size || (n >= 0 && memchr(out, 0, (size_t)n) && !memchr(data, 0, size)))
		abort();
	free(out);
	return 0;
}
