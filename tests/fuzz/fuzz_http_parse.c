/* libFuzzer: the request parser must never read out of bounds, must give
 * the same answer fed whole or in pieces, and must end a head exactly
 * where an independent reading of the line-end rules does (CRLF or LF,
 * never a bare CR): a server and a proxy that disagree on that are how
 * requests are smuggled. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_parse.h"

/* The reference: after any empty lines, the head ends just after the
 * first LF that ends an empty line (optionally CR LF). 0 if there is no
 * such end, or a bare CR or NUL comes before it. */
static size_t ref_head_end(const char *b, size_t n)
{
	size_t i = 0;
	for (;;) {
		if (i < n && b[i] == '\n')
			i++;
		else if (i + 1 < n && b[i] == '\r' && b[i + 1] == '\n')
			i += 2;
		else
			break;
	}
	size_t line = i; /* where the current line starts */
	for (; i < n; i++) {
		if (b[i] == '\0' || (b[i] == '\r' && (i + 1 == n || b[i + 1] != '\n')))
			return 0;
		if (b[i] != '\n')
			continue;
		size_t text = i - line - (i > line && b[i - 1] == '\r' ? 1 : 0);
		if (text == 0 && line > 0 && (b[line - 1] == '\n'))
			return i + 1;
		line = i + 1;
	}
	return 0;
}

static int parse_pieces(struct http_req *r, const char *buf, size_t size, size_t c1, size_t c2)
{
	http_req_init(r);
	int res = http_parse(r, buf, c1);
	if (res == HTTP_PARSE_MORE)
		res = http_parse(r, buf, c2);
	if (res == HTTP_PARSE_MORE)
		res = http_parse(r, buf, size);
	return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy of exactly size bytes, so ASan sees overreads */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct http_req a, b;
	http_req_init(&a);
	int ra = http_parse(&a, buf, size);
	size_t c1 = size ? data[0] % (size + 1) : 0;
	size_t c2 = size > 1 ? c1 + data[1] % (size - c1 + 1) : size;
	int rb = parse_pieces(&b, buf, size, c1, c2);
	if (ra != rb)
		abort();
	if (ra == HTTP_PARSE_DONE) {
		if (a.head_len != b.head_len || a.version != b.version ||
		    a.keep_alive != b.keep_alive || a.content_length != b.content_length)
			abort();
		if (a.head_len > size || a.target.p < buf || a.target.p + a.target.len > buf + size)
			abort();
		/* the head ends where the line-end rules say, and at an LF */
		if (a.head_len != ref_head_end(buf, size) || buf[a.head_len - 1] != '\n')
			abort();
		/* what follows the head has no say in it */
		struct http_req h;
		http_req_init(&h);
		if (http_parse(&h, buf, a.head_len) != HTTP_PARSE_DONE || h.head_len != a.head_len)
			abort();
	}
	free(buf);
	return 0;
}
