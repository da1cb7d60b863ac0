/* libFuzzer: whatever the target, a cleaned path stays inside the root:
 * no leading '/', no empty, "." or ".." segment, no NUL or control byte,
 * and its URL form starts with exactly one '/'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_path.h"

static struct http_path p;
static char url[HTTP_PATH_MAX * 3 + 8];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = malloc(size ? size : 1);
	if (!t)
		return 0;
	memcpy(t, data, size);
	if (http_path_clean(t, size, &p) == 0) {
		const char *r = p.rel;
		size_t n = strlen(r);
		if (r[0] == '/' || (n && r[n - 1] == '/') || strstr(r, "//"))
			abort();
		for (const char *s = r; *s; s++)
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				abort();
		const char *seg = r;
		while (n && seg) {
			const char *e = strchr(seg, '/');
			size_t l = e ? (size_t)(e - seg) : strlen(seg);
			if (l == 0 || (l == 1 && seg[0] == '.') ||
			    (l == 2 && seg[0] == '.' && seg[1] == '.'))
				abort();
			seg = e ? e + 1 : NULL;
		}
		if (http_path_url(r, p.slash, url, sizeof url) &&
		    (url[0] != '/' || url[1] == '/' || url[1] == '\\' || strpbrk(url, "\r\n")))
			abort();
	}
	free(t);
	return 0;
}
