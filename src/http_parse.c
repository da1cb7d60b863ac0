#include "config.h"

#include <string.h>

#include "http_parse.h"

bool http_mem_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

void http_req_init(struct http_req *r)
{
	memset(r, 0, sizeof *r);
}

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return true;
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field-value octets: visible ASCII, obs-text, space and tab. */
static bool is_vchar(unsigned char c)
{
	return c == ' ' || c == '\t' || (c > 0x20 && c != 0x7f);
}

static bool name_is(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && http_mem_ieq(p, name, n);
}

bool http_list_has(struct http_str s, const char *tok)
{
	size_t tl = strlen(tok), i = 0;
	while (i < s.len) {
		while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == ','))
			i++;
		size_t b = i;
		while (i < s.len && s.p[i] != ',')
			i++;
		size_t e = i;
		while (e > b && (s.p[e - 1] == ' ' || s.p[e - 1] == '\t'))
			e--;
		if (e - b == tl && http_mem_ieq(s.p + b, tok, tl))
			return true;
	}
	return false;
}

/* Finds the CRLF ending the line that starts at p; a bare CR or LF, or a
 * NUL, makes the line invalid (-1). Returns the line length. */
static long line_len(const char *p, const char *end)
{
	for (const char *q = p; q < end; q++) {
		if (*q == '\r')
			return (q + 1 < end && q[1] == '\n') ? q - p : -1;
		if (*q == '\n' || *q == '\0')
			return -1;
	}
	return -1;
}

static int parse_request_line(struct http_req *r, const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return 400;
	r->method_str = (struct http_str){p, i};
	if (i == 3 && memcmp(p, "GET", 3) == 0)
		r->method = HTTP_M_GET;
	else if (i == 4 && memcmp(p, "HEAD", 4) == 0)
		r->method = HTTP_M_HEAD;
	else if (i == 3 && memcmp(p, "PUT", 3) == 0)
		r->method = HTTP_M_PUT;
	else
		r->method = HTTP_M_OTHER;
	size_t t = ++i;
	/* The target: visible ASCII only (no spaces, controls or raw 8-bit). */
	while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
		i++;
	if (i == t || i >= n || p[i] != ' ')
		return 400;
	r->target = (struct http_str){p + t, i - t};
	i++;
	const char *v = p + i;
	size_t vl = n - i;
	if (vl != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1')
		return 505;
	r->version = v[7] == '0' ? 10 : 11;
	r->keep_alive = r->version == 11;
	return 0;
}

static int parse_length(struct http_req *r, struct http_str v)
{
	unsigned long long x = 0;
	if (v.len == 0 || v.len > 19)
		return 400;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return 400;
		x = x * 10 + (unsigned)(v.p[i] - '0');
	}
	/* Two Content-Length fields that disagree: request smuggling. */
	if (r->has_length && r->content_length != x)
		return 400;
	r->has_length = true;
	r->content_length = x;
	return 0;
}

static void keep_first(struct http_str *slot, struct http_str v)
{
	if (!slot->p)
		*slot = v;
}

static int parse_fields(struct http_req *r, const char *p, const char *end)
{
	bool te = false, conn_close = false, conn_keep = false;
	for (;;) {
		long n = line_len(p, end);
		if (n < 0)
			return 400;
		if (n == 0)
			break;
		if (++r->nfields > HTTP_MAX_FIELDS)
			return 431;
		/* A line starting with white space is obs-fold: refused. */
		size_t i = 0;
		while (i < (size_t)n && is_tchar((unsigned char)p[i]))
			i++;
		if (i == 0 || i >= (size_t)n || p[i] != ':')
			return 400;
		const char *name = p;
		size_t nl = i;
		i++;
		while (i < (size_t)n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		size_t e = (size_t)n;
		while (e > i && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		for (size_t k = i; k < e; k++)
			if (!is_vchar((unsigned char)p[k]))
				return 400;
		struct http_str v = {p + i, e - i};
		if (name_is(name, nl, "host")) {
			if (r->has_host)
				return 400;
			r->has_host = true;
			r->host = v;
		} else if (name_is(name, nl, "content-length")) {
			int st = parse_length(r, v);
			if (st)
				return st;
		} else if (name_is(name, nl, "transfer-encoding")) {
			te = true;
		} else if (name_is(name, nl, "connection")) {
			conn_close |= http_list_has(v, "close");
			conn_keep |= http_list_has(v, "keep-alive");
		} else if (name_is(name, nl, "expect")) {
			if (v.len == 12 && http_mem_ieq(v.p, "100-continue", 12))
				r->expect_continue = true;
		} else if (name_is(name, nl, "range")) {
			if (r->range.p)
				return 400;
			r->range = v;
		} else if (name_is(name, nl, "if-modified-since")) {
			keep_first(&r->if_modified_since, v);
		} else if (name_is(name, nl, "if-none-match")) {
			keep_first(&r->if_none_match, v);
		} else if (name_is(name, nl, "if-range")) {
			keep_first(&r->if_range, v);
		} else if (name_is(name, nl, "user-agent")) {
			keep_first(&r->user_agent, v);
		} else if (name_is(name, nl, "referer")) {
			keep_first(&r->referer, v);
		}
		p += n + 2;
	}
	if (te)
		return r->has_length || r->version == 10 ? 400 : 501;
	if (r->version == 11 && !r->has_host)
		return 400;
	if (conn_close)
		r->keep_alive = false;
	else if (conn_keep)
		r->keep_alive = true;
	return 0;
}

int http_parse(struct http_req *r, const char *buf, size_t len)
{
	/* Empty lines before a request are ignored (RFC 9112 2.2), within
	 * the head limit. */
	size_t start = 0;
	while (start + 1 < len && buf[start] == '\r' && buf[start + 1] == '\n')
		start += 2;
	if (start >= HTTP_MAX_HEAD)
		return 431;
	size_t from = r->scanned > start + 3 ? r->scanned - 3 : start;
	const char *end = NULL;
	for (size_t i = from; i + 3 < len; i++) {
		if (!r->line_end && buf[i] == '\r' && buf[i + 1] == '\n')
			r->line_end = i;
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
		    buf[i + 3] == '\n') {
			end = buf + i + 4;
			break;
		}
		if (i - start >= HTTP_MAX_HEAD)
			break;
	}
	if (!r->line_end) {
		/* The line may end right at the buffer's end. */
		for (size_t i = from; i + 1 < len && i - start < HTTP_MAX_REQUEST_LINE + 2; i++)
			if (buf[i] == '\r' && buf[i + 1] == '\n') {
				r->line_end = i;
				break;
			}
	}
	if (r->line_end ? r->line_end - start > HTTP_MAX_REQUEST_LINE
			: len - start > HTTP_MAX_REQUEST_LINE)
		return 414;
	if (!end) {
		r->scanned = len;
		return (size_t)(len - start) > HTTP_MAX_HEAD ? 431 : HTTP_PARSE_MORE;
	}
	if ((size_t)(end - buf) - start > HTTP_MAX_HEAD)
		return 431;
	const char *p = buf + start;
	long n = line_len(p, end);
	if (n <= 0)
		return 400;
	int st = parse_request_line(r, p, (size_t)n);
	if (st)
		return st;
	st = parse_fields(r, p + n + 2, end);
	if (st)
		return st;
	r->head_len = (size_t)(end - buf);
	return HTTP_PARSE_DONE;
}
