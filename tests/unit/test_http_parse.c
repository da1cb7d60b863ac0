/* The request parser: results, limits, and every ambiguity refused. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "http/http_parse.h"
#include "tap.h"

static int parse(const char *s, struct http_req *r)
{
	http_req_init(r);
	return http_parse(r, s, strlen(s));
}

static int st(const char *s)
{
	struct http_req r;
	return parse(s, &r);
}

/* Feeds s one byte more each time: true if the head is DONE exactly at
 * its n-th byte and MORE before. */
static bool drip_done(const char *s, size_t n, struct http_req *r)
{
	http_req_init(r);
	int res = HTTP_PARSE_MORE;
	size_t i;
	for (i = 1; i <= n && res == HTTP_PARSE_MORE; i++)
		res = http_parse(r, s, i);
	return res == HTTP_PARSE_DONE && i - 1 == n;
}

static bool str_is(struct http_str v, const char *s)
{
	return v.p && v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

int main(void)
{
	struct http_req r;
	const char *get = "GET /a%20b?x=1 HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\n"
			  "If-None-Match: \"x\"\r\nUser-Agent:  ua 1 \r\n\r\nGET /next";
	ok(parse(get, &r) == HTTP_PARSE_DONE, "a GET parses");
	ok(r.method == HTTP_M_GET && r.version == 11 && r.keep_alive,
	   "method, version, keep-alive");
	ok(str_is(r.target, "/a%20b?x=1"), "target kept raw");
	ok(str_is(r.host, "h") && str_is(r.range, "bytes=0-1"), "host and range");
	ok(str_is(r.user_agent, "ua 1"), "white space around values trimmed");
	ok(str_is(r.if_none_match, "\"x\""), "if-none-match");
	ok(r.head_len == strlen(get) - strlen("GET /next"), "head length stops at the blank line");

	/* incremental: byte by byte gives the same answer, MORE until then */
	ok(drip_done(get, strlen(get) - strlen("GET /next"), &r),
	   "byte by byte: done exactly at the end");

	ok(parse("HEAD / HTTP/1.0\r\n\r\n", &r) == 1 && r.method == HTTP_M_HEAD && !r.keep_alive,
	   "HTTP/1.0: no Host needed, no keep-alive by default");
	ok(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r) == 1 && r.keep_alive,
	   "HTTP/1.0 keep-alive on request");
	ok(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n", &r) == 1 &&
	       !r.keep_alive,
	   "Connection: close in a list");
	ok(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", &r) == 1,
	   "leading empty lines skipped");
	ok(parse("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\n",
		 &r) == 1 &&
	       r.method == HTTP_M_PUT && r.has_length && r.content_length == 12 &&
	       r.expect_continue,
	   "PUT with length and expect");
	ok(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
		 &r) == 1,
	   "repeated equal Content-Length is fine");

	ok(st("GET / HTTP/1.1\r\n\r\n") == 400, "HTTP/1.1 without Host: 400");
	ok(st("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400, "two Hosts: 400");
	ok(st("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n") == 400, "obs-fold: 400");
	ok(st("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400,
	   "conflicting Content-Length: 400");
	ok(st("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: "
	      "chunked\r\n\r\n") == 400,
	   "Content-Length with Transfer-Encoding: 400");
	ok(st("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n") == 501,
	   "chunked request bodies: 501");
	ok(st("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n") == 400, "negative length");
	ok(st("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n") == 400,
	   "huge length");
	ok(st("GET / HTTP/1.1\r\nHost : h\r\n\r\n") == 400, "space before the colon: 400");
	ok(st("GET / HTTP/1.1\r\nX-Range: bytes=0-1\r\nHost: h\r\n\r\n") == 1,
	   "header names matched whole (X-Range is not Range)");
	ok(parse("GET / HTTP/1.1\r\nX-Range: bytes=0-1\r\nHost: h\r\n\r\n", &r) == 1 && !r.range.p,
	   "... and Range stays unset");
	ok(parse("GET / HTTP/1.1\r\nX: Host: evil\r\n\r\n", &r) == 400,
	   "Host inside a value is no Host");

	/* line ends: CRLF or bare LF, mixed; a bare CR never */
	const char *lf = "GET /a.txt HTTP/1.0\nUser-Agent: u\n\nBODY";
	ok(parse(lf, &r) == 1 && r.version == 10 && str_is(r.target, "/a.txt") &&
	       str_is(r.user_agent, "u") && r.head_len == strlen(lf) - 4,
	   "LF-only head parses; the body starts right after it");
	ok(parse("GET / HTTP/1.0\n\n", &r) == 1 && r.head_len == 16, "LF-only, no fields");
	const char *mix[] = {
	    "GET / HTTP/1.1\r\nHost: h\n\nB",	  "GET / HTTP/1.1\nHost: h\r\n\r\nB",
	    "GET / HTTP/1.1\nHost: h\n\r\nB",	  "GET / HTTP/1.1\r\nHost: h\r\n\nB",
	    "\n\r\nGET / HTTP/1.1\nHost: h\n\nB", "GET / HTTP/1.1\nX: 1\r\nHost: h\n\r\nB",
	};
	for (size_t m = 0; m < sizeof mix / sizeof *mix; m++) {
		int res = parse(mix[m], &r);
		ok(res == 1 && str_is(r.host, "h") && r.head_len == strlen(mix[m]) - 1 &&
		       mix[m][r.head_len] == 'B',
		   "mixed line ends, case %zu: the head ends at the first blank line", m);
	}
	ok(parse("GET / HTTP/1.1\nHost: h\n\nGET /2 HTTP/1.1\n\n", &r) == 1 && r.head_len == 24,
	   "a pipelined head after an LF-only head is not part of it");
	ok(st("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n") == 400, "bare CR: 400");
	ok(st("GET / HTTP/1.1\r\nHost: h\rX") == 400, "bare CR: 400 without waiting for the end");
	ok(st("GET / HTTP/1.1\nHost: h\r\r\n\r\n") == 400, "CR CR LF: 400");
	ok(st("GET / HTTP/1.1\nHost: h\n\r\r\n") == 400, "a blank line of CR CR LF: 400");
	ok(st("GET /\r HTTP/1.1\nHost: h\n\n") == 400, "bare CR in the request line: 400");
	ok(st("\r\rGET / HTTP/1.1\nHost: h\n\n") == 400, "bare CR before the request: 400");
	ok(st("GET / HTTP/1.1\nHost: h\n\r") == HTTP_PARSE_MORE, "CR at the end: wait for more");
	ok(st("GET / HTTP/1.1\nHost: h\n") == HTTP_PARSE_MORE, "no blank line yet (LF): more");
	ok(st("GET / HTTP/1.1\nHost: h\nX: a\n b\n\n") == 400, "obs-fold after LF: 400");
	ok(st("GET / HTTP/1.1\r\nHost: h\r\nX: a\n\tb\r\n\r\n") == 400,
	   "obs-fold hidden by a bare LF: 400");
	/* byte by byte over mixed line ends: DONE exactly at the blank line */
	const char *drip = "\r\n\nPUT /f HTTP/1.1\nHost: h\r\nContent-Length: 2\n\r\nhi";
	ok(drip_done(drip, strlen(drip) - 2, &r) && r.head_len == strlen(drip) - 2 &&
	       r.content_length == 2,
	   "byte by byte, mixed line ends: done exactly at the end");
	ok(parse("PUT /f HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n", &r) == 1 &&
	       !r.expect_continue,
	   "Expect: 100-continue ignored in HTTP/1.0");
	ok(st("GET / HTTP/1.1\r\nHost: h\r\nX: a\001b\r\n\r\n") == 400,
	   "control char in value: 400");
	char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a_b\r\n\r\n";
	nul[30] = '\0';
	http_req_init(&r);
	ok(http_parse(&r, nul, sizeof nul - 1) == 400, "NUL in a value: 400");
	ok(st("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n") == 400, "space in target: 400");
	ok(st("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == 505, "HTTP/2.0: 505");
	ok(st("GET / HTTX/1.1\r\nHost: h\r\n\r\n") == 400, "garbage version: 400");
	ok(st("GET  / HTTP/1.1\r\nHost: h\r\n\r\n") == 400, "double space: 400");
	ok(parse("BREW / HTTP/1.1\r\nHost: h\r\n\r\n", &r) == 1 && r.method == HTTP_M_OTHER,
	   "unknown methods parse as OTHER");
	ok(parse("get / HTTP/1.1\r\nHost: h\r\n\r\n", &r) == 1 && r.method == HTTP_M_OTHER,
	   "methods are case-sensitive");

	/* limits: 414 and 431 as soon as they are certain, never truncation */
	size_t big = HTTP_MAX_REQUEST_LINE + 100;
	char *line = malloc(big + 64);
	memcpy(line, "GET /", 5);
	memset(line + 5, 'a', big);
	line[big + 5] = '\0';
	ok(st(line) == 414, "an endless request line: 414 before it ends");
	strcpy(line + big + 5, " HTTP/1.1\r\nHost: h\r\n\r\n");
	ok(st(line) == 414, "a complete but too long request line: 414");
	free(line);
	char *hdr = malloc(HTTP_MAX_HEAD + 200);
	strcpy(hdr, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	size_t hl = strlen(hdr);
	memset(hdr + hl, 'b', HTTP_MAX_HEAD);
	hdr[hl + HTTP_MAX_HEAD] = '\0';
	ok(st(hdr) == 431, "an endless header: 431");
	free(hdr);
	char many[HTTP_MAX_FIELDS * 8 + 64];
	strcpy(many, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int k = 0; k < HTTP_MAX_FIELDS; k++)
		strcat(many, "X: y\r\n");
	strcat(many, "\r\n");
	ok(st(many) == 431, "too many header fields: 431");
	ok(st("GET / HTTP/1.1\r\nHost: h\r\n") == HTTP_PARSE_MORE, "no blank line yet: more");
	/* a request line of exactly the limit, cut after its CR: the CR may
	 * yet end it, so not 414 */
	char *edge = malloc(HTTP_MAX_REQUEST_LINE + 32);
	memcpy(edge, "GET /", 5);
	memset(edge + 5, 'a', HTTP_MAX_REQUEST_LINE - 14);
	strcpy(edge + HTTP_MAX_REQUEST_LINE - 9, " HTTP/1.1\r\nHost: h\r\n\r\n");
	http_req_init(&r);
	ok(http_parse(&r, edge, HTTP_MAX_REQUEST_LINE + 1) == HTTP_PARSE_MORE &&
	       http_parse(&r, edge, strlen(edge)) == HTTP_PARSE_DONE,
	   "a request line of the longest length, its CR last so far: more, then done");
	edge[HTTP_MAX_REQUEST_LINE - 9] = 'a';
	strcpy(edge + HTTP_MAX_REQUEST_LINE - 8, " HTTP/1.1\r\nHost: h\r\n\r\n");
	ok(st(edge) == 414, "one byte longer: 414");
	free(edge);

	struct http_str l = {"a, Keep-Alive ,b", 16};
	ok(http_list_has(l, "keep-alive") && !http_list_has(l, "keep"), "token lists");
	tap_done();
}
