#include "config.h"

#include <string.h>

#include "http/http_parse.h"

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

/* Line ends: CRLF, or a bare LF, which RFC 9112 2.2 lets a recipient
 * accept (as nginx does; requests typed or scripted by hand often end
 * their lines so); a CR right before the LF belongs to the line end. A CR
 * anywhere else is an error, never a line end: a head whose end two
 * parsers could place differently is how requests are smuggled. The scan
 * for the end of the head in http_parse and the split into lines below
 * follow this one rule. */

/* The line starting at p, within a head ending at end: its length without
 * the line end, and *next, where the following line starts; -1 if it holds
 * a CR (other than before its LF) or a NUL, or has no line end. */
static long line_len(const char *p, const char *end, const char **next)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	if (!lf)
		return -1;
	const char *e = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
	for (const char *q = p; q < e; q++)
		if (*q == '\r' || *q == '\0')
			return -1;
	*next = lf + 1;
	return e - p;
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
	else if (i == 7 && memcmp(p, "OPTIONS", 7) == 0)
		r->method = HTTP_M_OPTIONS;
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
		const char *next;
		long n = line_len(p, end, &next);
		if (n < 0)
			return 400;
		if (n == 0) {
			/* the blank line the scan found, and nothing after it */
			if (next != end)
				return 400;
			break;
		}
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
		} else if (name_is(name, nl, "authorization")) {
			keep_first(&r->authorization, v);
		} else if (name_is(name, nl, "accept")) {
			keep_first(&r->accept, v);
		} else if (name_is(name, nl, "accept-encoding")) {
			keep_first(&r->accept_encoding, v);
		} else if (name_is(name, nl, "origin")) {
			keep_first(&r->origin, v);
		} else if (name_is(name, nl, "access-control-request-method")) {
			keep_first(&r->acr_method, v);
		} else if (name_is(name, nl, "access-control-request-headers")) {
			keep_first(&r->acr_headers, v);
		}
		p = next;
	}
	if (te)
		return r->has_length || r->version == 10 ? 400 : 501;
	if (r->version == 11 && !r->has_host)
		return 400;
	/* An HTTP/1.0 server never sends 100 Continue (RFC 9110 10.1.1). */
	if (r->version == 10)
		r->expect_continue = false;
	if (conn_close)
		r->keep_alive = false;
	else if (conn_keep)
		r->keep_alive = true;
	return 0;
}

/* The length of the line end starting at buf[i]: 1 for LF, 2 for CRLF;
 * 0 for any other byte, or for a CR that is the last byte so far (the next
 * one decides); -1 for a bare CR. */
static int eol_at(const char *buf, size_t i, size_t len)
{
	if (buf[i] == '\n')
		return 1;
	if (buf[i] != '\r' || i + 1 == len)
		return 0;
	return buf[i + 1] == '\n' ? 2 : -1;
}

int http_parse(struct http_req *r, const char *buf, size_t len)
{
	/* Empty lines before a request are ignored (RFC 9112 2.2), within
	 * the head limit. */
	size_t start = 0;
	int k;
	while (start < len && start < HTTP_MAX_HEAD && (k = eol_at(buf, start, len)) != 0) {
		if (k < 0)
			return 400;
		start += (size_t)k;
	}
	if (start >= HTTP_MAX_HEAD)
		return 431;
	/* From here buf[start] is neither LF nor CRLF, so the request line
	 * is not empty and every LF found below has a byte before it. The
	 * head ends at the first LF that ends an empty line. */
	size_t lim = len - start > HTTP_MAX_HEAD ? start + HTTP_MAX_HEAD : len;
	size_t i = r->scanned > start ? r->scanned : start, end = 0;
	while (i < lim) {
		/* line by line: the next LF, and any CR before it */
		const char *lf = memchr(buf + i, '\n', lim - i);
		size_t stop = lf ? (size_t)(lf - buf) : lim;
		const char *cr = memchr(buf + i, '\r', stop - i);
		if (cr && (size_t)(cr - buf) + 1 < stop)
			return 400; /* a bare CR: the next byte is there and no LF */
		if (!lf) {
			if (cr && stop == len) {
				i = stop - 1; /* a CR last: the next byte decides */
				break;
			}
			if (cr && buf[stop] != '\n')
				return 400;
			i = lim;
			break;
		}
		size_t e = cr ? stop - 1 : stop; /* where the line's text ends */
		if (!r->line_end)
			r->line_end = e;
		else if (buf[e - 1] == '\n') {
			end = stop + 1;
			break;
		}
		i = stop + 1;
	}
	/* (a CR at the end, at i, may yet be the request line's end) */
	if ((r->line_end ? r->line_end : i) - start > HTTP_MAX_REQUEST_LINE)
		return 414;
	if (!end) {
		r->scanned = i;
		return len - start > HTTP_MAX_HEAD ? 431 : HTTP_PARSE_MORE;
	}
	if (end - start > HTTP_MAX_HEAD)
		return 431;
	const char *p = buf + start, *next;
	long n = line_len(p, buf + end, &next);
	if (n <= 0)
		return 400;
	int st = parse_request_line(r, p, (size_t)n);
	if (st)
		return st;
	st = parse_fields(r, next, buf + end);
	if (st)
		return st;
	r->head_len = end;
	return HTTP_PARSE_DONE;
}
