/* libFuzzer harness: any -w format (and any response head for
 * %header{}) expands without crashing, reading past the format or
 * writing outside its buffers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_resp.h"
#include "http/http_wfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Up to the first NUL: the format; after it: a response head. */
	const uint8_t *nul = memchr(data, 0, size);
	size_t flen = nul ? (size_t)(nul - data) : size;
	char *f = malloc(flen + 1);
	memcpy(f, data, flen);
	f[flen] = '\0';
	static struct http_resp r;
	http_resp_init(&r, false);
	if (nul) {
		const char *body;
		size_t bl;
		http_resp_feed(&r, (const char *)nul + 1, size - flen - 1, &body, &bl);
	}
	struct http_wfmt_vars v = {
	    .http_code = 200, .url = "http://h/", .t_total = 1000, .resp = r.have_head ? &r : NULL};
	struct sbuf out[2], warn;
	sb_init(&out[0]);
	sb_init(&out[1]);
	sb_init(&warn);
	http_wfmt(f, &v, out, &warn);
	/* Nothing comes from nowhere: without variables the output is at
	 * most the format itself. */
	if (!strchr(f, '%') && out[0].len > flen)
		abort();
	sb_free(&out[0]);
	sb_free(&out[1]);
	sb_free(&warn);
	free(f);
	return 0;
}
