/* curl's --write-out, read as curl 7.88 reads it. */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "http/http_wfmt.h"

enum wkind { W_LONG, W_CODE, W_TIME, W_SIZE, W_STR, W_SPEED };

/* The variables in curl's order (alphabetical), which %{json} keeps. */
static const struct wvar {
	const char *name;
	enum wkind kind;
	size_t off;
} wvars[] = {
#define V(n, k, f)                                                                                 \
	{                                                                                          \
		n, k, offsetof(struct http_wfmt_vars, f)                                           \
	}
    V("content_type", W_STR, content_type),
    V("errormsg", W_STR, errormsg),
    V("exitcode", W_LONG, exitcode),
    V("filename_effective", W_STR, filename_effective),
    V("http_code", W_CODE, http_code),
    V("http_version", W_STR, http_version),
    V("local_ip", W_STR, local_ip),
    V("local_port", W_LONG, local_port),
    V("method", W_STR, method),
    V("num_connects", W_LONG, num_connects),
    V("num_redirects", W_LONG, num_redirects),
    V("redirect_url", W_STR, redirect_url),
    V("remote_ip", W_STR, remote_ip),
    V("remote_port", W_LONG, remote_port),
    V("response_code", W_CODE, http_code),
    V("scheme", W_STR, scheme),
    V("size_download", W_SIZE, size_download),
    V("size_header", W_SIZE, size_header),
    V("size_request", W_SIZE, size_request),
    V("size_upload", W_SIZE, size_upload),
    V("speed_download", W_SPEED, size_download),
    V("speed_upload", W_SPEED, size_upload),
    V("time_appconnect", W_TIME, t_appconnect),
    V("time_connect", W_TIME, t_connect),
    V("time_namelookup", W_TIME, t_namelookup),
    V("time_pretransfer", W_TIME, t_pretransfer),
    V("time_starttransfer", W_TIME, t_starttransfer),
    V("time_total", W_TIME, t_total),
    V("url", W_STR, url),
    V("url_effective", W_STR, url_effective),
#undef V
};

static const void *field(const struct http_wfmt_vars *v, const struct wvar *w)
{
	return (const char *)v + w->off;
}

/* One variable's value; json: as a JSON value (strings quoted, NULL as
 * null). */
static void put_var(struct sbuf *b, const struct http_wfmt_vars *v, const struct wvar *w, bool json)
{
	const void *p = field(v, w);
	switch (w->kind) {
	case W_CODE:
		/* curl pads the status to three digits: 000 for none. */
		sb_printf(b, json ? "%ld" : "%03ld", *(const long *)p);
		return;
	case W_LONG:
		sb_printf(b, "%ld", *(const long *)p);
		return;
	case W_TIME: {
		int64_t us = *(const int64_t *)p;
		if (us < 0)
			us = 0;
		sb_printf(b, "%" PRId64 ".%06" PRId64, us / 1000000, us % 1000000);
		return;
	}
	case W_SIZE:
		sb_printf(b, "%" PRIu64, *(const uint64_t *)p);
		return;
	case W_SPEED: {
		/* Bytes per second over the whole transfer, as an integer. */
		uint64_t n = *(const uint64_t *)p;
		uint64_t us = v->t_total > 0 ? (uint64_t)v->t_total : 1;
		sb_printf(b, "%" PRIu64,
			  n < UINT64_MAX / 1000000 ? n * 1000000 / us : n / us * 1000000);
		return;
	}
	case W_STR: {
		const char *s = *(const char *const *)p;
		if (json && !s)
			sb_puts(b, "null");
		else if (json)
			json_str(b, s);
		else if (s)
			sb_puts(b, s);
		return;
	}
	}
}

static void put_json(struct sbuf *b, const struct http_wfmt_vars *v)
{
	sb_putc(b, '{');
	for (size_t i = 0; i < sizeof wvars / sizeof wvars[0]; i++) {
		if (i)
			sb_putc(b, ',');
		json_str(b, wvars[i].name);
		sb_putc(b, ':');
		put_var(b, v, &wvars[i], true);
	}
	sb_puts(b, ",\"curl_version\":null}");
}

/* {"name":["value",...],\n...\n}, as curl lays it out: names in lower
 * case as they are, in the order they first came, every value of each. */
static void put_header_json(struct sbuf *b, const struct http_resp *r)
{
	sb_putc(b, '{');
	for (size_t i = 0; r && i < r->nhdrs; i++) {
		size_t k;
		for (k = 0; k < i; k++)
			if (strcasecmp(r->hdrs[k].name, r->hdrs[i].name) == 0)
				break;
		if (k < i)
			continue; /* written with its first */
		sb_puts(b, i ? ",\n\"" : "\"");
		for (const char *p = r->hdrs[i].name; *p; p++)
			sb_putc(b, (char)tolower((unsigned char)*p));
		sb_puts(b, "\":[");
		for (size_t j = i; j < r->nhdrs; j++) {
			if (strcasecmp(r->hdrs[j].name, r->hdrs[i].name) != 0)
				continue;
			if (j != i)
				sb_putc(b, ',');
			json_str(b, r->hdrs[j].value);
		}
		sb_putc(b, ']');
	}
	sb_puts(b, "\n}");
}

static const char *header_value(const struct http_resp *r, const char *name, size_t n)
{
	for (size_t i = 0; r && i < r->nhdrs; i++)
		if (strlen(r->hdrs[i].name) == n && strncasecmp(r->hdrs[i].name, name, n) == 0)
			return r->hdrs[i].value;
	return NULL;
}

void http_wfmt(const char *fmt, const struct http_wfmt_vars *v, struct sbuf out[2],
	       struct sbuf *warn)
{
	struct sbuf *b = &out[0];
	const char *p = fmt;
	while (*p) {
		if (p[0] == '%' && p[1]) {
			if (p[1] == '%') {
				sb_putc(b, '%');
				p += 2;
			} else if (p[1] == '{') {
				const char *name = p + 2, *end = strchr(name, '}');
				if (!end) {
					/* curl writes the two and reads on after them. */
					sb_puts(b, "%{");
					p = name;
					continue;
				}
				size_t n = (size_t)(end - name);
				p = end + 1;
				const struct wvar *w = NULL;
				for (size_t i = 0; i < sizeof wvars / sizeof wvars[0]; i++)
					if (strlen(wvars[i].name) == n &&
					    strncasecmp(wvars[i].name, name, n) == 0)
						w = &wvars[i];
#define IS(s) (n == sizeof s - 1 && strncasecmp(name, s, n) == 0)
				if (w) {
					put_var(b, v, w, false);
				} else if (IS("stdout")) {
					b = &out[0];
				} else if (IS("stderr")) {
					b = &out[1];
				} else if (IS("onerror")) {
					if (v->exitcode == 0)
						return;
				} else if (IS("json")) {
					put_json(b, v);
				} else if (IS("header_json")) {
					put_header_json(b, v->resp);
				} else {
					if (warn->len)
						sb_putc(warn, '\n');
					sb_puts(warn, "unknown --write-out variable: '");
					sb_putn(warn, name, n);
					sb_putc(warn, '\'');
				}
#undef IS
			} else if (strncmp(p + 1, "header{", 7) == 0) {
				const char *name = p + 8, *end = strchr(name, '}');
				if (!end) {
					sb_puts(b, "%header{");
					p = name;
					continue;
				}
				size_t n = (size_t)(end - name);
				/* curl looks up names shorter than 256 bytes only. */
				const char *val = n < 256 ? header_value(v->resp, name, n) : NULL;
				if (val)
					sb_puts(b, val);
				p = end + 1;
			} else {
				sb_putn(b, p, 2);
				p += 2;
			}
		} else if (p[0] == '\\' && p[1]) {
			const char *e = p[1] == 'n'   ? "\n"
					: p[1] == 'r' ? "\r"
					: p[1] == 't' ? "\t"
						      : NULL;
			if (e)
				sb_puts(b, e);
			else
				sb_putn(b, p, 2);
			p += 2;
		} else {
			sb_putc(b, *p++);
		}
	}
}
