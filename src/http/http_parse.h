/* Strict, incremental HTTP/1.x request-head parser with hard limits.
 *
 * Feed it the bytes received so far (the same buffer, growing); it keeps
 * how far it has scanned, so each byte is looked at a bounded number of
 * times. Lines end in CRLF or a bare LF (RFC 9112 2.2), mixed as they
 * come; a CR not before an LF is an error as soon as it is seen. It never
 * truncates: a head over the limits is an error status (414 or 431), as
 * is anything ambiguous (obs-fold, a header name not at the start of a
 * line, conflicting Content-Length/Transfer-Encoding, a missing Host in
 * HTTP/1.1). Pure: no I/O, no allocation.
 */
#ifndef SOCKCTL_HTTP_PARSE_H
#define SOCKCTL_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_REQUEST_LINE 8192  /* longer: 414 URI Too Long */
#define HTTP_MAX_HEAD	      16384 /* whole head; longer: 431 */
#define HTTP_MAX_FIELDS	      100   /* more header lines: 431 */

enum http_method { HTTP_M_OTHER, HTTP_M_GET, HTTP_M_HEAD, HTTP_M_PUT, HTTP_M_OPTIONS };

/* A field value kept for the server: a pointer into the caller's buffer,
 * valid while that buffer is unchanged. */
struct http_str {
	const char *p;
	size_t len;
};

struct http_req {
	/* parser state */
	size_t scanned;	 /* bytes already searched for the end of the head */
	size_t line_end; /* end of the request line once found, else 0 */
	/* results, valid after HTTP_PARSE_DONE */
	size_t head_len; /* bytes of the head, terminating blank line included */
	enum http_method method;
	struct http_str method_str, target;
	int version; /* 10 or 11 */
	bool keep_alive;
	bool has_host;
	bool has_length;
	bool expect_continue; /* Expect: 100-continue, in HTTP/1.1 only */
	unsigned long long content_length;
	struct http_str host, range, if_modified_since, if_none_match, if_range, user_agent,
	    referer;
	/* the first of each */
	struct http_str authorization, accept, accept_encoding, origin, acr_method, acr_headers;
	unsigned nfields;
};

enum { HTTP_PARSE_MORE = 0, HTTP_PARSE_DONE = 1 };

void http_req_init(struct http_req *r);
/* Parses buf[0..len). Returns HTTP_PARSE_MORE (need more bytes),
 * HTTP_PARSE_DONE (r filled; r->head_len bytes are the head), or an HTTP
 * error status to answer with before closing: 400, 414, 431, 501, 505. */
int http_parse(struct http_req *r, const char *buf, size_t len);

/* ASCII case-insensitive comparison of n bytes that need not be
 * NUL-terminated. */
bool http_mem_ieq(const char *a, const char *b, size_t n);
/* Case-insensitive: does the comma-separated token list s hold tok? */
bool http_list_has(struct http_str s, const char *tok);

#endif
