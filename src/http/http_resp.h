/* Incremental HTTP/1.x response parser for the client (pure: no I/O).
 *
 * Bytes go in as they arrive, in pieces of any size; the parser collects
 * the head (status line and headers) into its own bounded buffer, then
 * hands body bytes back as pointers into the caller's data, decoding
 * chunked transfer coding on the way. Hard limits answer with an error
 * rather than truncating: 64 KiB of head, 128 header fields, 4 KiB per
 * chunk-size line, 64 KiB of trailers, 10 interim (1xx) responses.
 * Obsolete line folding, junk in header lines and conflicting
 * Content-Length values are errors (response splitting and smuggling
 * hide there). */
#ifndef SOCKCTL_HTTP_RESP_H
#define SOCKCTL_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_RESP_HEADMAX    (64 * 1024)
#define HTTP_RESP_MAXHDRS    128
#define HTTP_RESP_LINEMAX    4096
#define HTTP_RESP_MAXINTERIM 10

enum http_resp_state {
	HR_HEAD,	/* reading the status line and headers */
	HR_BODY_LENGTH, /* Content-Length body */
	HR_CHUNK_SIZE,
	HR_CHUNK_DATA,
	HR_CHUNK_END, /* the CRLF after chunk data */
	HR_TRAILER,
	HR_BODY_CLOSE, /* body runs until the server closes */
	HR_DONE,
	HR_ERROR,
};

struct http_hdr {
	const char *name; /* both point into the parser's head buffer */
	const char *value;
};

struct http_resp {
	enum http_resp_state state;
	bool head_request; /* the request was HEAD: no body whatever the headers say */
	int status;	   /* 100..999 */
	int version;	   /* 10 or 11 */
	const char *reason;
	struct http_hdr hdrs[HTTP_RESP_MAXHDRS];
	size_t nhdrs;
	bool have_head; /* status and headers are valid */
	bool chunked;
	bool keep_alive;	/* the connection may carry another request */
	int64_t content_length; /* -1 when absent or overridden by chunked */
	uint64_t body_bytes;	/* decoded body bytes handed out so far */
	const char *error;	/* why HR_ERROR (static text) */

	/* Private. */
	uint64_t remaining;
	size_t headlen, line_start, linelen, trailer_bytes;
	int interim;
	char line[HTTP_RESP_LINEMAX];
	char head[HTTP_RESP_HEADMAX + 1];
};

/* Resets r for a new response; head_request: the request was HEAD. */
void http_resp_init(struct http_resp *r, bool head_request);

/* Feeds len bytes of data. Returns how many were consumed (the caller
 * feeds the rest again), or -1 with r->error set. When some of the
 * consumed bytes are body, *body and *bodylen point at them (inside
 * data), else *bodylen is 0. A call that completes the head returns
 * right after it, so the caller can look at the headers before any
 * body. In HR_DONE nothing more is consumed: leftover bytes belong to no
 * response. */
ssize_t http_resp_feed(struct http_resp *r, const char *data, size_t len, const char **body,
		       size_t *bodylen);

/* Body bytes that may be taken as they come, without the parser seeing
 * them (a zero-copy path): the rest of a Content-Length body or of the
 * current chunk, UINT64_MAX for a body that runs until the close, else
 * 0 (the head, chunk framing, the end). */
uint64_t http_resp_raw_left(const struct http_resp *r);
/* n (at most http_resp_raw_left) such bytes were taken: the parser moves
 * on as if it had been fed them. */
void http_resp_raw_taken(struct http_resp *r, uint64_t n);

enum { HTTP_RESP_EOF_OK = 0, HTTP_RESP_EOF_EMPTY = -1, HTTP_RESP_EOF_PARTIAL = -2 };
/* The server closed the connection: HTTP_RESP_EOF_OK when that ends the
 * response (or it was complete), HTTP_RESP_EOF_EMPTY when not a byte of
 * it arrived, HTTP_RESP_EOF_PARTIAL when it was cut short. */
int http_resp_eof(struct http_resp *r);

/* The value of the first header field called name (any case), or NULL. */
const char *http_resp_header(const struct http_resp *r, const char *name);

#endif
