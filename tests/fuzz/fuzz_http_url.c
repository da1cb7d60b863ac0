/* libFuzzer harness: URL parsing, Host formatting and redirect resolution
 * must never crash or produce a target with a control character. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* First half: the URL; second half: a Location to resolve. */
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	size_t half = size / 2;
	char *ref = s + half;
	char saved = *ref;
	*ref = '\0';
	static struct http_url u, v;
	char err[256], auth[400];
	if (http_url_parse(s, &u, err, sizeof err) == HTTP_URL_OK) {
		http_url_authority(&u, auth, sizeof auth);
		*ref = saved;
		if (http_url_resolve(&u, ref, &v, err, sizeof err) == HTTP_URL_OK) {
			for (const char *p = v.target; *p; p++)
				if ((unsigned char)*p <= 0x20 || *p == 0x7f)
					abort();
			if (v.target[0] != '/')
				abort();
		}
	}
	free(s);
	return 0;
}
