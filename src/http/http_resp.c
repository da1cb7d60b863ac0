/* Incremental HTTP/1.x response parser. See http_resp.h. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/compat.h"
#include "http/http_resp.h"

static ssize_t fail(struct http_resp *r, const char *why)
{
	r->state = HR_ERROR;
	r->error = why;
	return -1;
}

void http_resp_init(struct http_resp *r, bool head_request)
{
	/* The buffers need no clearing: lengths say what is valid. */
	memset(r, 0, offsetof(struct http_resp, line));
	r->state = HR_HEAD;
	r->head_request = head_request;
	r->content_length = -1;
}

static bool tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Does the comma-separated list v hold token tok (any case)? */
static bool list_has(const char *v, const char *tok)
{
	size_t tl = strlen(tok);
	while (*v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		size_t n = strcspn(v, ",");
		size_t e = n;
		while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e == tl && strncasecmp(v, tok, tl) == 0)
			return true;
		v += n;
	}
	return false;
}

/* Is the last coding in the list v "chunked"? */
static bool last_is_chunked(const char *v)
{
	const char *last = strrchr(v, ',');
	last = last ? last + 1 : v;
	while (*last == ' ' || *last == '\t')
		last++;
	size_t e = strlen(last);
	while (e > 0 && (last[e - 1] == ' ' || last[e - 1] == '\t'))
		e--;
	return e == 7 && strncasecmp(last, "chunked", 7) == 0;
}

/* Parses every Content-Length value (lists allowed, as long as they all
 * agree). Returns 0 and *out (-1 if none), or -1 on a bad or conflicting
 * value. */
static int content_length(const struct http_resp *r, int64_t *out)
{
	int64_t v = -1;
	for (size_t i = 0; i < r->nhdrs; i++) {
		if (strcasecmp(r->hdrs[i].name, "content-length") != 0)
			continue;
		const char *p = r->hdrs[i].value;
		for (;;) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			int64_t n = 0;
			while (isdigit((unsigned char)*p)) {
				if (n > (INT64_MAX - 9) / 10)
					return -1;
				n = n * 10 + (*p++ - '0');
			}
			while (*p == ' ' || *p == '\t')
				p++;
			if (v >= 0 && n != v)
				return -1;
			v = n;
			if (*p == '\0')
				break;
			if (*p++ != ',')
				return -1;
		}
	}
	*out = v;
	return 0;
}

/* Splits the collected head into the status line and header fields,
 * NUL-terminating each in place. */
static ssize_t parse_head(struct http_resp *r)
{
	char *p = r->head, *end = r->head + r->headlen;
	*end = '\0';
	if (memchr(r->head, '\0', r->headlen))
		return fail(r, "NUL byte in the response head");
	char *eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		return fail(r, "malformed status line");
	*eol = '\0';
	if (eol > p && eol[-1] == '\r')
		eol[-1] = '\0';
	/* HTTP/1.x SP 3DIGIT [SP reason] */
	if (strncmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[7]))
		return fail(r, "not an HTTP/1.x response");
	if (p[8] != ' ' || !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]) || (p[12] != ' ' && p[12] != '\0'))
		return fail(r, "malformed status line");
	if (p[9] == '0')
		return fail(r, "malformed status line (status below 100)");
	r->version = p[7] == '0' ? 10 : 11;
	r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	r->reason = p[12] ? p + 13 : p + 12;
	for (const char *c = r->reason; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return fail(r, "control character in the status line");
	p = eol + 1;
	r->nhdrs = 0;
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		*eol = '\0';
		if (eol > p && eol[-1] == '\r')
			eol[-1] = '\0';
		if (*p == '\0')
			break; /* the empty line ending the head */
		if (*p == ' ' || *p == '\t')
			return fail(r, "obsolete line folding in a response header");
		char *colon = p;
		while (tchar((unsigned char)*colon))
			colon++;
		if (colon == p || *colon != ':')
			return fail(r, "malformed response header line");
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		char *ve = v + strlen(v);
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			*--ve = '\0';
		for (const char *c = v; *c; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
				return fail(r, "control character in a response header");
		if (r->nhdrs == HTTP_RESP_MAXHDRS)
			return fail(r, "too many response header fields");
		r->hdrs[r->nhdrs].name = p;
		r->hdrs[r->nhdrs].value = v;
		r->nhdrs++;
		p = eol + 1;
	}
	return 0;
}

/* Chooses how the body is framed once the head is in. */
static ssize_t frame_body(struct http_resp *r)
{
	r->have_head = true;
	r->trailer_bytes = 0;
	const char *conn = http_resp_header(r, "connection");
	if (r->version == 11)
		r->keep_alive = !(conn && list_has(conn, "close"));
	else
		r->keep_alive = conn && list_has(conn, "keep-alive");
	int64_t cl;
	if (content_length(r, &cl) < 0)
		return fail(r, "bad or conflicting Content-Length");
	/* Several Transfer-Encoding fields form one list; the last one
	 * holds its final coding. */
	const char *te = NULL;
	for (size_t i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, "transfer-encoding") == 0)
			te = r->hdrs[i].value;
	if (r->head_request || r->status == 204 || r->status == 304) {
		r->state = HR_DONE;
		return 0;
	}
	if (te) {
		/* With both, Transfer-Encoding wins (RFC 9112 6.3), but such a
		 * message may be an attempt at smuggling: never reuse the
		 * connection after it. */
		if (cl >= 0)
			r->keep_alive = false;
		if (last_is_chunked(te)) {
			r->chunked = true;
			r->linelen = 0;
			r->state = HR_CHUNK_SIZE;
		} else {
			r->keep_alive = false;
			r->state = HR_BODY_CLOSE;
		}
		return 0;
	}
	if (cl >= 0) {
		r->content_length = cl;
		r->remaining = (uint64_t)cl;
		r->state = cl ? HR_BODY_LENGTH : HR_DONE;
		return 0;
	}
	r->keep_alive = false;
	r->state = HR_BODY_CLOSE;
	return 0;
}

/* Collects head bytes; returns bytes consumed, -1 on error. */
static ssize_t feed_head(struct http_resp *r, const char *data, size_t len)
{
	size_t i = 0;
	while (i < len) {
		char c = data[i++];
		/* Tolerate blank lines before the status line (some servers
		 * send a stray CRLF after a body). */
		if (r->headlen == 0 && (c == '\r' || c == '\n')) {
			if (++r->trailer_bytes > 64)
				return fail(r, "too many blank lines before the status line");
			continue;
		}
		if (r->headlen >= HTTP_RESP_HEADMAX)
			return fail(r, "response head is larger than 64 KiB");
		r->head[r->headlen++] = c;
		if (c != '\n')
			continue;
		size_t ll = r->headlen - r->line_start;
		bool empty = ll == 1 || (ll == 2 && r->head[r->line_start] == '\r');
		r->line_start = r->headlen;
		if (!empty || r->headlen == ll)
			continue;
		if (parse_head(r) < 0)
			return -1;
		if (r->status >= 100 && r->status < 200) {
			if (r->status == 101)
				return fail(r, "unexpected 101 Switching Protocols");
			if (++r->interim > HTTP_RESP_MAXINTERIM)
				return fail(r, "too many interim (1xx) responses");
			int interim = r->interim;
			http_resp_init(r, r->head_request);
			r->interim = interim;
			continue;
		}
		if (frame_body(r) < 0)
			return -1;
		return (ssize_t)i;
	}
	return (ssize_t)i;
}

/* Collects one line (chunk size, chunk end or trailer) into r->line;
 * returns bytes consumed and sets *done when the line is complete (its
 * CR/LF stripped, NUL-terminated). */
static ssize_t feed_line(struct http_resp *r, const char *data, size_t len, bool *done)
{
	*done = false;
	const char *nl = memchr(data, '\n', len);
	size_t take = nl ? (size_t)(nl - data) + 1 : len;
	size_t keep = nl ? take - 1 : take;
	if (r->linelen + keep >= sizeof r->line)
		return fail(r, "chunk-size or trailer line is longer than 4 KiB");
	memcpy(r->line + r->linelen, data, keep);
	r->linelen += keep;
	if (nl) {
		if (r->linelen > 0 && r->line[r->linelen - 1] == '\r')
			r->linelen--;
		r->line[r->linelen] = '\0';
		if (memchr(r->line, '\0', r->linelen))
			return fail(r, "NUL byte in chunk framing");
		*done = true;
	}
	return (ssize_t)take;
}

static ssize_t chunk_size(struct http_resp *r)
{
	const char *p = r->line;
	uint64_t n = 0;
	if (!isxdigit((unsigned char)*p))
		return fail(r, "malformed chunk size");
	while (isxdigit((unsigned char)*p)) {
		if (n >> 59)
			return fail(r, "chunk size too large");
		int d =
		    isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
		n = n * 16 + (uint64_t)d;
		p++;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' && *p != ';')
		return fail(r, "malformed chunk size");
	r->remaining = n;
	r->linelen = 0;
	r->state = n ? HR_CHUNK_DATA : HR_TRAILER;
	return 0;
}

uint64_t http_resp_raw_left(const struct http_resp *r)
{
	switch (r->state) {
	case HR_BODY_LENGTH:
	case HR_CHUNK_DATA:
		return r->remaining;
	case HR_BODY_CLOSE:
		return UINT64_MAX;
	default:
		return 0;
	}
}

void http_resp_raw_taken(struct http_resp *r, uint64_t n)
{
	uint64_t left = http_resp_raw_left(r);
	if (n > left)
		n = left;
	r->body_bytes += n;
	if (r->state == HR_BODY_CLOSE)
		return;
	r->remaining -= n;
	if (r->remaining == 0)
		r->state = r->state == HR_BODY_LENGTH ? HR_DONE : HR_CHUNK_END;
}

ssize_t http_resp_feed(struct http_resp *r, const char *data, size_t len, const char **body,
		       size_t *bodylen)
{
	*bodylen = 0;
	*body = NULL;
	if (len == 0)
		return 0;
	bool done;
	ssize_t n;
	size_t take;
	uint64_t left;
	switch (r->state) {
	case HR_HEAD:
		return feed_head(r, data, len);
	case HR_BODY_LENGTH:
	case HR_CHUNK_DATA:
	case HR_BODY_CLOSE:
		/* Body bytes are handed out as they lie: the same steps as
		 * bytes taken raw. */
		left = http_resp_raw_left(r);
		take = left < len ? (size_t)left : len;
		*body = data;
		*bodylen = take;
		http_resp_raw_taken(r, take);
		return (ssize_t)take;
	case HR_CHUNK_SIZE:
		n = feed_line(r, data, len, &done);
		if (n >= 0 && done && chunk_size(r) < 0)
			return -1;
		return n;
	case HR_CHUNK_END:
		n = feed_line(r, data, len, &done);
		if (n >= 0 && r->linelen > 0 && !(r->linelen == 1 && r->line[0] == '\r'))
			return fail(r, "chunk data not followed by CRLF");
		if (n >= 0 && done) {
			r->linelen = 0;
			r->state = HR_CHUNK_SIZE;
		}
		return n;
	case HR_TRAILER:
		n = feed_line(r, data, len, &done);
		if (n < 0)
			return n;
		r->trailer_bytes += (size_t)n;
		if (r->trailer_bytes > HTTP_RESP_HEADMAX)
			return fail(r, "trailer section is larger than 64 KiB");
		if (done) {
			if (r->linelen == 0)
				r->state = HR_DONE;
			r->linelen = 0;
		}
		return n;
	case HR_DONE:
		return 0;
	case HR_ERROR:
		return -1;
	}
	return fail(r, "internal parser state");
}

int http_resp_eof(struct http_resp *r)
{
	switch (r->state) {
	case HR_DONE:
		return HTTP_RESP_EOF_OK;
	case HR_BODY_CLOSE:
		r->state = HR_DONE;
		return HTTP_RESP_EOF_OK;
	case HR_HEAD:
		if (r->headlen == 0 && r->interim == 0)
			return HTTP_RESP_EOF_EMPTY;
		FALLTHROUGH;
	default:
		r->state = HR_ERROR;
		r->error = "connection closed before the end of the response";
		return HTTP_RESP_EOF_PARTIAL;
	}
}

const char *http_resp_header(const struct http_resp *r, const char *name)
{
	for (size_t i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			return r->hdrs[i].value;
	return NULL;
}
