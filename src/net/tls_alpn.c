#include "config.h"

#include "net/tls_alpn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tls_alpn_wire(const char *list, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(list);
	/* Each name of l bytes takes 1 + l, and names are separated by a
	 * comma that the length byte replaces: n bytes, or n + 1 for a
	 * last name without a comma. */
	unsigned char *w = malloc(n + 1);
	if (!w)
		return -1;
	size_t o = 0;
	const char *p = list;
	for (;;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == 0 || l > 255) {
			free(w);
			errno = EINVAL;
			return -1;
		}
		w[o++] = (unsigned char)l;
		memcpy(w + o, p, l);
		o += l;
		if (!c)
			break;
		p = c + 1;
	}
	*out = w;
	*outlen = o;
	return 0;
}
