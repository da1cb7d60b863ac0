/* libFuzzer: the --alpn list parser never crashes, accepts exactly the
 * lists of 1-255 byte names separated by commas, and its wire form reads
 * back to the same list. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/tls_alpn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same rule, written the other way round: split on every comma. */
static int well_formed(const char *s)
{
	size_t run = 0;
	for (const char *p = s;; p++) {
		if (*p == ',' || !*p) {
			if (run == 0 || run > 255)
				return 0;
			if (!*p)
				return 1;
			run = 0;
		} else {
			run++;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[2048];
	if (size >= sizeof s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	unsigned char *w = NULL;
	size_t n = 0;
	int r = tls_alpn_wire(s, &w, &n);
	if ((r == 0) != well_formed(s))
		abort();
	if (r < 0)
		return 0;
	/* Read it back: length, name, length, name ... joined by commas. */
	char back[2048];
	size_t o = 0, i = 0;
	while (i < n) {
		size_t l = w[i++];
		if (l == 0 || i + l > n)
			abort();
		if (o)
			back[o++] = ',';
		memcpy(back + o, w + i, l);
		o += l;
		i += l;
	}
	back[o] = '\0';
	if (strcmp(back, s) != 0)
		abort();
	free(w);
	return 0;
}
