/* Unit tests for the incremental HTTP response parser. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "http/http_resp.h"
#include "tap.h"

static struct http_resp r;
static char body[65536];
static size_t bodylen;

/* Feeds msg in pieces of step bytes (0: all at once); returns 0 when the
 * parser consumed everything without error, -1 on error. Collects the
 * body. *left gets bytes not consumed after HR_DONE. */
static int feed(const char *msg, size_t len, size_t step, bool head, size_t *left)
{
	http_resp_init(&r, head);
	bodylen = 0;
	size_t off = 0;
	while (off < len) {
		size_t n = step && len - off > step ? step : len - off;
		while (n > 0) {
			const char *b;
			size_t bl;
			ssize_t c = http_resp_feed(&r, msg + off, n, &b, &bl);
			if (c < 0)
				return -1;
			if (bl) {
				if (bodylen + bl > sizeof body)
					return -1;
				memcpy(body + bodylen, b, bl);
				bodylen += bl;
			}
			if (c == 0) { /* done: leftover */
				if (left)
					*left = len - off;
				return 0;
			}
			off += (size_t)c;
			n -= (size_t)c;
		}
	}
	if (left)
		*left = 0;
	return 0;
}

static int feeds(const char *msg, size_t step)
{
	return feed(msg, strlen(msg), step, false, NULL);
}

int main(void)
{
	const char *m1 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  v v \r\n\r\nhello";
	for (size_t step = 0; step < 4; step++) {
		ok(feeds(m1, step) == 0 && r.state == HR_DONE && bodylen == 5 &&
		       memcmp(body, "hello", 5) == 0,
		   "Content-Length body, pieces of %zu", step);
	}
	ok(r.status == 200 && r.version == 11 && strcmp(r.reason, "OK") == 0, "status line");
	ok(strcmp(http_resp_header(&r, "x-a"), "v v") == 0, "header trimmed, case-insensitive");
	ok(r.keep_alive && r.have_head, "1.1 keeps alive");

	const char *m2 =
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nT: x\r\n\r\n";
	for (size_t step = 0; step < 5; step++)
		ok(feeds(m2, step) == 0 && r.state == HR_DONE && bodylen == 31 &&
		       memcmp(body, "helloabcdefghijklmnopqrstuvwxyz", 31) == 0,
		   "chunked body with extension and trailer, pieces of %zu", step);
	ok(r.chunked && r.keep_alive, "chunked flags");

	size_t left;
	const char *m3 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
	ok(feed(m3, strlen(m3), 0, false, &left) == 0 && left == 5,
	   "bytes after the body left over");

	ok(feeds("HTTP/1.0 200 OK\r\n\r\nall of it", 3) == 0 && r.state == HR_BODY_CLOSE &&
	       !r.keep_alive,
	   "no length: read until close");
	ok(http_resp_eof(&r) == HTTP_RESP_EOF_OK && r.state == HR_DONE && bodylen == 9,
	   "close ends the body");
	ok(feeds("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 0) ==
		   0 &&
	       r.keep_alive && r.state == HR_DONE,
	   "1.0 keep-alive");
	ok(feeds("HTTP/1.1 200 OK\r\nConnection: x, Close\r\nContent-Length: 0\r\n\r\n", 0) == 0 &&
	       !r.keep_alive,
	   "Connection: close");

	ok(feeds("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 0) == 0 &&
	       http_resp_eof(&r) == HTTP_RESP_EOF_PARTIAL,
	   "truncated body");
	http_resp_init(&r, false);
	ok(http_resp_eof(&r) == HTTP_RESP_EOF_EMPTY, "empty reply");
	ok(feeds("HTTP/1.1 200 OK\r\nContent-", 0) == 0 &&
	       http_resp_eof(&r) == HTTP_RESP_EOF_PARTIAL,
	   "truncated head");

	const char *hd = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
	ok(feed(hd, strlen(hd), 0, true, NULL) == 0 && r.state == HR_DONE && bodylen == 0,
	   "HEAD has no body");
	ok(feeds("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", 0) == 0 &&
	       r.state == HR_DONE,
	   "304 has no body");
	ok(feeds("HTTP/1.1 204 No Content\r\n\r\n", 0) == 0 && r.state == HR_DONE, "204");
	ok(feeds("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\n"
		 "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
		 2) == 0 &&
	       r.status == 201 && bodylen == 1 && !http_resp_header(&r, "link"),
	   "interim responses skipped");
	ok(feeds("\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0) == 0 && r.status == 200,
	   "leading blank lines tolerated");
	ok(feeds("HTTP/1.1 200 OK\nContent-Length: 1\n\nz", 1) == 0 && bodylen == 1,
	   "bare LF line ends");
	ok(feeds("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-length: 3\r\n\r\nabc", 0) ==
		   0 &&
	       bodylen == 3,
	   "repeated identical Content-Length");
	ok(feeds("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "1\r\na\r\n0\r\n\r\n",
		 0) == 0 &&
	       bodylen == 1 && !r.keep_alive,
	   "chunked wins over Content-Length, no reuse");
	ok(feeds("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", 0) == 0 &&
	       r.state == HR_BODY_CLOSE,
	   "other transfer coding: until close");

	/* Bytes taken raw (the zero-copy path): the parser moves on as if
	 * fed them, and only the rest of a body or a chunk is offered. */
	const char *w1 = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab";
	ok(feeds(w1, 0) == 0 && http_resp_raw_left(&r) == 8, "raw: the rest of a length body");
	http_resp_raw_taken(&r, 5);
	ok(r.state == HR_BODY_LENGTH && http_resp_raw_left(&r) == 3 && r.body_bytes == 7,
	   "raw: taken in part");
	http_resp_raw_taken(&r, 9);
	ok(r.state == HR_DONE && http_resp_raw_left(&r) == 0 && r.body_bytes == 10,
	   "raw: no more than the body is taken, and it ends it");
	const char *w2 = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nab";
	ok(feeds(w2, 0) == 0 && http_resp_raw_left(&r) == 4, "raw: the rest of a chunk");
	http_resp_raw_taken(&r, 4);
	ok(r.state == HR_CHUNK_END && http_resp_raw_left(&r) == 0,
	   "raw: the chunk's CRLF is parsed");
	const char *w3 = "\r\n3\r\nxyz\r\n0\r\n\r\n";
	const char *b;
	size_t bl, off = 0;
	bodylen = 0;
	while (off < strlen(w3) && r.state != HR_DONE) {
		ssize_t c = http_resp_feed(&r, w3 + off, strlen(w3) - off, &b, &bl);
		if (c <= 0)
			break;
		bodylen += bl;
		off += (size_t)c;
	}
	ok(r.state == HR_DONE && bodylen == 3 && r.body_bytes == 9,
	   "raw: the next chunk parses as usual");
	ok(feeds("HTTP/1.0 200 OK\r\n\r\n", 0) == 0 && http_resp_raw_left(&r) == UINT64_MAX,
	   "raw: a body until the close has no end");
	http_resp_raw_taken(&r, 1000);
	ok(r.state == HR_BODY_CLOSE && r.body_bytes == 1000 &&
	       http_resp_eof(&r) == HTTP_RESP_EOF_OK,
	   "raw: the close still ends it");
	http_resp_init(&r, false);
	ok(http_resp_raw_left(&r) == 0, "raw: nothing before the head");

	/* Errors. */
	const char *bad[] = {
	    "HTTP/2 200 OK\r\n\r\n",
	    "HTTP/1.1 20 OK\r\n\r\n",
	    "HTTP/1.1 099 X\r\n\r\n",
	    "HTTP/1.1 200OK\r\n\r\n",
	    "ICY 200 OK\r\n\r\n",
	    "HTTP/1.1 101 Switching\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
	    "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd",
	    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
	    "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = feeds(bad[i], 0);
		ok(rc == -1 && r.state == HR_ERROR && r.error, "rejected #%zu: %s", i,
		   r.error ? r.error : "(accepted)");
	}
	static const char nul[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";
	ok(feed(nul, sizeof nul - 1, 0, false, NULL) == -1, "NUL in head");

	/* Limits. */
	size_t big = HTTP_RESP_HEADMAX + 100;
	char *m = malloc(big + 64);
	strcpy(m, "HTTP/1.1 200 OK\r\nX: ");
	size_t ml = strlen(m);
	memset(m + ml, 'a', big - ml);
	memcpy(m + big, "\r\n\r\n", 5);
	ok(feeds(m, 4096) == -1 && strstr(r.error, "64 KiB"), "head over 64 KiB: %s", r.error);
	strcpy(m, "HTTP/1.1 200 OK\r\n");
	ml = strlen(m);
	for (int i = 0; i <= HTTP_RESP_MAXHDRS; i++)
		ml += (size_t)sprintf(m + ml, "H%d: v\r\n", i);
	strcpy(m + ml, "\r\n");
	ok(feeds(m, 0) == -1 && strstr(r.error, "too many"), "too many header fields");
	strcpy(m, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;");
	ml = strlen(m);
	memset(m + ml, 'e', 5000);
	strcpy(m + ml + 5000, "\r\n");
	ok(feeds(m, 100) == -1 && strstr(r.error, "4 KiB"), "chunk-size line over 4 KiB");
	ml = 0;
	for (int i = 0; i < 12; i++)
		ml += (size_t)sprintf(m + ml, "HTTP/1.1 100 Continue\r\n\r\n");
	ok(feeds(m, 0) == -1 && strstr(r.error, "interim"), "too many 1xx");
	free(m);
	tap_done();
}
