/* HTTP URL parsing and redirect resolution. See http_url.h. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http_url.h"

static int fail(char *err, size_t errlen, int code, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return code;
}

static bool scheme_char(unsigned char c, bool first)
{
	return isalpha(c) || (!first && (isdigit(c) || c == '+' || c == '-' || c == '.'));
}

/* Length of a "scheme:" prefix of s (without the colon), 0 if none. */
static size_t scheme_len(const char *s)
{
	size_t i = 0;
	while (s[i] && scheme_char((unsigned char)s[i], i == 0))
		i++;
	return i > 0 && s[i] == ':' ? i : 0;
}

/* Copies path/query bytes into dst as origin-form: refuses controls and
 * spaces, percent-encodes bytes >= 0x80, drops the fragment. */
static int copy_target(const char *src, size_t n, char *dst, size_t dstlen, char *err,
		       size_t errlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < n && src[i] != '#'; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c <= 0x20 || c == 0x7f)
			return fail(err, errlen, HTTP_URL_BAD,
				    "URL contains a space or control character");
		if (c >= 0x80) {
			if (o + 3 >= dstlen)
				return fail(err, errlen, HTTP_URL_BAD, "URL path is too long");
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
			continue;
		}
		if (o + 1 >= dstlen)
			return fail(err, errlen, HTTP_URL_BAD, "URL path is too long");
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return HTTP_URL_OK;
}

static bool host_char(unsigned char c)
{
	/* A registered name (letters, digits, '-', '.', '_') or an IPv4
	 * address; percent-encoded names are not worth the risk. */
	return isalnum(c) || c == '-' || c == '.' || c == '_';
}

/* Parses "host[:port]" of length n into u. */
static int parse_authority(const char *a, size_t n, struct http_url *u, char *err, size_t errlen)
{
	if (memchr(a, '@', n))
		return fail(err, errlen, HTTP_URL_BAD, "credentials in URLs are not supported");
	const char *hend;
	const char *p = a;
	if (n > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', n);
		if (!close)
			return fail(err, errlen, HTTP_URL_BAD, "unterminated '[' in URL host");
		size_t hl = (size_t)(close - a - 1);
		if (hl == 0 || hl >= sizeof u->host)
			return fail(err, errlen, HTTP_URL_BAD, "bad IPv6 address in URL");
		for (size_t i = 1; i <= hl; i++) {
			unsigned char c = (unsigned char)a[i];
			/* Hex, colons, dots (v4-mapped); '%' for a zone id. */
			if (!isxdigit(c) && c != ':' && c != '.' && c != '%' && !isalnum(c))
				return fail(err, errlen, HTTP_URL_BAD, "bad IPv6 address in URL");
		}
		memcpy(u->host, a + 1, hl);
		u->host[hl] = '\0';
		u->ipv6 = true;
		hend = close + 1;
	} else {
		hend = a;
		while (hend < a + n && *hend != ':')
			hend++;
		size_t hl = (size_t)(hend - a);
		if (hl == 0)
			return fail(err, errlen, HTTP_URL_BAD, "URL has no host");
		if (hl >= sizeof u->host)
			return fail(err, errlen, HTTP_URL_BAD, "URL host is too long");
		for (size_t i = 0; i < hl; i++)
			if (!host_char((unsigned char)a[i]))
				return fail(err, errlen, HTTP_URL_BAD,
					    "URL host contains a character not allowed there");
		for (size_t i = 0; i < hl; i++)
			u->host[i] = (char)tolower((unsigned char)a[i]);
		u->host[hl] = '\0';
	}
	p = hend;
	if (p < a + n) {
		if (*p != ':')
			return fail(err, errlen, HTTP_URL_BAD, "junk after the URL host");
		p++;
		size_t pl = (size_t)(a + n - p);
		if (pl > 0) {
			unsigned long v = 0;
			if (pl > 5)
				return fail(err, errlen, HTTP_URL_BAD, "bad port in URL");
			for (size_t i = 0; i < pl; i++) {
				if (!isdigit((unsigned char)p[i]))
					return fail(err, errlen, HTTP_URL_BAD, "bad port in URL");
				v = v * 10 + (unsigned long)(p[i] - '0');
			}
			if (v == 0 || v > 65535)
				return fail(err, errlen, HTTP_URL_BAD, "URL port out of range");
			u->port = (uint16_t)v;
		}
	}
	snprintf(u->portstr, sizeof u->portstr, "%u", (unsigned)u->port);
	return HTTP_URL_OK;
}

int http_url_parse(const char *s, struct http_url *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof *u);
	size_t sl = scheme_len(s);
	/* "localhost:8080/x" has a "scheme" of localhost; only treat the
	 * prefix as a scheme when "//" follows. */
	if (sl && strncmp(s + sl, "://", 3) != 0)
		sl = 0;
	const char *rest = s;
	if (sl) {
		if (sl == 4 && strncasecmp(s, "http", 4) == 0) {
			strcpy(u->scheme, "http");
			u->port = 80;
		} else if (sl == 5 && strncasecmp(s, "https", 5) == 0) {
			strcpy(u->scheme, "https");
			u->port = 443;
		} else {
			snprintf(err, errlen, "unsupported URL scheme '%.*s'",
				 (int)(sl > 16 ? 16 : sl), s);
			return HTTP_URL_UNSUPPORTED;
		}
		rest = s + sl + 3;
	} else {
		strcpy(u->scheme, "http");
		u->port = 80;
		if (strncmp(s, "//", 2) == 0)
			rest = s + 2;
	}
	size_t al = strcspn(rest, "/?#");
	int r = parse_authority(rest, al, u, err, errlen);
	if (r != HTTP_URL_OK)
		return r;
	const char *path = rest + al;
	if (*path == '/') {
		r = copy_target(path, strlen(path), u->target, sizeof u->target, err, errlen);
	} else {
		u->target[0] = '/';
		r = copy_target(path, strlen(path), u->target + 1, sizeof u->target - 1, err,
				errlen);
	}
	return r;
}

/* RFC 3986 5.2.4 on a NUL-terminated path (no query), in place: the
 * output never outruns the input, and the input is read from a copy. */
static void remove_dot_segments(char *path)
{
	char in[HTTP_URL_TARGETMAX];
	snprintf(in, sizeof in, "%s", path);
	const char *p = in;
	char *out = path;
	while (*p) {
		if (strncmp(p, "../", 3) == 0) {
			p += 3;
		} else if (strncmp(p, "./", 2) == 0) {
			p += 2;
		} else if (strncmp(p, "/./", 3) == 0) {
			p += 2; /* keeps the second '/' */
		} else if (strcmp(p, "/.") == 0) {
			*out++ = '/';
			break;
		} else if (strncmp(p, "/../", 4) == 0 || strcmp(p, "/..") == 0) {
			bool end = p[3] == '\0';
			p += 3;
			/* Drop the last output segment and its '/'. */
			while (out > path && *--out != '/')
				;
			if (end) {
				*out++ = '/';
				break;
			}
		} else if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			break;
		} else {
			if (*p == '/')
				*out++ = *p++;
			while (*p && *p != '/')
				*out++ = *p++;
		}
	}
	*out = '\0';
}

int http_url_resolve(const struct http_url *base, const char *ref, struct http_url *out, char *err,
		     size_t errlen)
{
	size_t sl = scheme_len(ref);
	if (sl)
		return http_url_parse(ref, out, err, errlen);
	if (strncmp(ref, "//", 2) == 0) {
		char buf[HTTP_URL_TARGETMAX + HTTP_URL_HOSTMAX + 16];
		if (snprintf(buf, sizeof buf, "%s:%s", base->scheme, ref) >= (int)sizeof buf)
			return fail(err, errlen, HTTP_URL_BAD, "redirect URL is too long");
		return http_url_parse(buf, out, err, errlen);
	}
	*out = *base;
	char merged[HTTP_URL_TARGETMAX];
	const char *q = strchr(base->target, '?');
	size_t bpath = q ? (size_t)(q - base->target) : strlen(base->target);
	if (ref[0] == '\0' || ref[0] == '#')
		return HTTP_URL_OK;
	if (ref[0] == '?') {
		if (bpath + strlen(ref) >= sizeof merged)
			return fail(err, errlen, HTTP_URL_BAD, "redirect URL is too long");
		memcpy(merged, base->target, bpath);
		strcpy(merged + bpath, ref);
	} else if (ref[0] == '/') {
		if (strlen(ref) >= sizeof merged)
			return fail(err, errlen, HTTP_URL_BAD, "redirect URL is too long");
		strcpy(merged, ref);
	} else {
		/* Keep the base path up to and including its last '/'. */
		size_t dir = bpath;
		while (dir > 0 && base->target[dir - 1] != '/')
			dir--;
		if (dir + strlen(ref) >= sizeof merged)
			return fail(err, errlen, HTTP_URL_BAD, "redirect URL is too long");
		memcpy(merged, base->target, dir);
		strcpy(merged + dir, ref);
	}
	/* Dot segments apply to the path only, not the query. */
	char query[HTTP_URL_TARGETMAX] = "";
	char *mq = strpbrk(merged, "?#");
	if (mq) {
		snprintf(query, sizeof query, "%s", mq);
		*mq = '\0';
	}
	remove_dot_segments(merged);
	if (merged[0] != '/') {
		memmove(merged + 1, merged, strlen(merged) + 1);
		merged[0] = '/';
	}
	size_t ml = strlen(merged);
	if (ml + strlen(query) >= sizeof merged)
		return fail(err, errlen, HTTP_URL_BAD, "redirect URL is too long");
	strcpy(merged + ml, query);
	return copy_target(merged, strlen(merged), out->target, sizeof out->target, err, errlen);
}

bool http_url_authority(const struct http_url *u, char *buf, size_t len)
{
	bool dflt = (strcmp(u->scheme, "http") == 0 && u->port == 80) ||
		    (strcmp(u->scheme, "https") == 0 && u->port == 443);
	const char *lb = u->ipv6 ? "[" : "", *rb = u->ipv6 ? "]" : "";
	int n = dflt ? snprintf(buf, len, "%s%s%s", lb, u->host, rb)
		     : snprintf(buf, len, "%s%s%s:%u", lb, u->host, rb, (unsigned)u->port);
	return n >= 0 && (size_t)n < len;
}

bool http_url_same_origin(const struct http_url *a, const struct http_url *b)
{
	return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0 &&
	       a->port == b->port;
}
