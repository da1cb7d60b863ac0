#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "wait/wait_target.h"

const char *wait_kind_name(enum wait_kind k)
{
	switch (k) {
	case WAIT_TCP:
		return "tcp";
	case WAIT_TLS:
		return "tls";
	case WAIT_UNIX:
		return "unix";
	case WAIT_UDP:
		return "udp";
	case WAIT_HTTP:
		return "http";
	}
	return "?";
}

/* The n bytes at s are an IPv6 address, with a %zone or not. */
static bool v6_literal(const char *s, size_t n)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *pct = memchr(s, '%', n);
	size_t alen = pct ? (size_t)(pct - s) : n;
	if (alen == 0 || alen >= sizeof a || (pct && pct + 1 == s + n))
		return false;
	memcpy(a, s, alen);
	a[alen] = '\0';
	struct in6_addr in;
	return inet_pton(AF_INET6, a, &in) == 1;
}

static bool parse_port(const char *p, size_t n, char *out, size_t outlen, char *err, size_t errlen)
{
	if (n == 0) {
		snprintf(err, errlen, "missing port (give HOST:PORT, [V6ADDR]:PORT for IPv6)");
		return false;
	}
	if (n >= outlen) {
		snprintf(err, errlen, "bad port: too long");
		return false;
	}
	bool digits = true, name = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		digits = digits && isdigit(c);
		name = name && (isalnum(c) || c == '-' || c == '_');
	}
	if (digits) {
		/* At most five digits: no overflow below. */
		long v = n <= 5 ? strtol(p, NULL, 10) : 0;
		if (v < 1 || v > 65535) {
			snprintf(err, errlen, "bad port '%.*s' (1 to 65535, or a service name)",
				 (int)n, p);
			return false;
		}
	} else if (!name) {
		snprintf(err, errlen, "bad port '%.*s' (1 to 65535, or a service name)",
			 n > 64 ? 64 : (int)n, p);
		return false;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* HOST:PORT or [V6ADDR]:PORT, the whole of the n bytes at s. */
static bool parse_hostport(const char *s, size_t n, struct wait_target *t, char *err, size_t errlen)
{
	const char *host, *colon;
	size_t hlen;
	if (n && s[0] == '[') {
		const char *end = memchr(s, ']', n);
		if (!end) {
			snprintf(err, errlen, "no ']' after the IPv6 address");
			return false;
		}
		host = s + 1;
		hlen = (size_t)(end - host);
		if (!v6_literal(host, hlen)) {
			snprintf(err, errlen, "'%.*s' in brackets is not an IPv6 address",
				 hlen > 64 ? 64 : (int)hlen, host);
			return false;
		}
		colon = end + 1;
		if (colon == s + n) {
			snprintf(err, errlen, "missing port (give [V6ADDR]:PORT)");
			return false;
		}
		if (*colon != ':') {
			snprintf(err, errlen, "':' and a port must follow ']'");
			return false;
		}
	} else {
		colon = memrchr(s, ':', n);
		if (!colon) {
			snprintf(err, errlen,
				 "missing port (give HOST:PORT, [V6ADDR]:PORT for IPv6)");
			return false;
		}
		host = s;
		hlen = (size_t)(colon - s);
		if (memchr(host, ':', hlen)) {
			if (v6_literal(s, n))
				snprintf(err, errlen, "missing port (give [V6ADDR]:PORT for IPv6)");
			else
				snprintf(err, errlen,
					 "an IPv6 address goes in brackets: [V6ADDR]:PORT");
			return false;
		}
		if (hlen == 0) {
			snprintf(err, errlen, "missing host (give HOST:PORT)");
			return false;
		}
		for (size_t i = 0; i < hlen; i++) {
			unsigned char c = (unsigned char)host[i];
			if (c <= ' ' || c == 0x7f || c == '/' || c == '[' || c == ']') {
				snprintf(err, errlen, "bad host name");
				return false;
			}
		}
	}
	if (hlen >= sizeof t->host) {
		snprintf(err, errlen, "host name too long");
		return false;
	}
	memcpy(t->host, host, hlen);
	t->host[hlen] = '\0';
	const char *p = colon + 1;
	return parse_port(p, (size_t)(s + n - p), t->port, sizeof t->port, err, errlen);
}

static bool parse_unix(const char *path, struct wait_target *t, char *err, size_t errlen)
{
	size_t n = strlen(path);
	if (n == 0 || (n == 1 && path[0] == '@')) {
		snprintf(err, errlen, "missing socket path (give unix:PATH or unix:@NAME)");
		return false;
	}
	if (n >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "socket path too long (at most %zu bytes)",
			 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return false;
	}
	memcpy(t->host, path, n + 1);
	return true;
}

bool wait_target_parse(const char *s, struct wait_target *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->text = s;
	size_t n = strnlen(s, WAIT_TARGET_MAX + 1);
	if (n == 0) {
		snprintf(err, errlen, "empty target");
		return false;
	}
	if (n > WAIT_TARGET_MAX) {
		snprintf(err, errlen, "target longer than %d bytes", WAIT_TARGET_MAX);
		return false;
	}
	/* unix: and udp: first: "unix:///run/x.sock" and "udp://h:53" are
	 * spelt that way too. */
	if (strncasecmp(s, "unix:", 5) == 0) {
		t->kind = WAIT_UNIX;
		return parse_unix(s + (strncmp(s + 5, "//", 2) == 0 ? 7 : 5), t, err, errlen);
	}
	if (strncasecmp(s, "udp:", 4) == 0) {
		size_t skip = strncmp(s + 4, "//", 2) == 0 ? 6 : 4;
		t->kind = WAIT_UDP;
		return parse_hostport(s + skip, n - skip, t, err, errlen);
	}
	const char *sep = strstr(s, "://");
	size_t slen = sep ? (size_t)(sep - s) : 0;
	/* A scheme is letters, digits, '+', '-', '.' after a letter (RFC
	 * 3986); "host://..." with anything else before is no URL. */
	bool scheme = sep && slen && isalpha((unsigned char)s[0]);
	for (size_t i = 0; scheme && i < slen; i++) {
		unsigned char c = (unsigned char)s[i];
		scheme = isalnum(c) || c == '+' || c == '-' || c == '.';
	}
	if (scheme) {
		const char *rest = sep + 3;
		size_t rlen = n - slen - 3;
		if ((slen == 4 && strncasecmp(s, "http", 4) == 0) ||
		    (slen == 5 && strncasecmp(s, "https", 5) == 0)) {
			struct http_url *u = malloc(sizeof *u);
			if (!u) {
				snprintf(err, errlen, "out of memory");
				return false;
			}
			bool ok = http_url_parse(s, u, err, errlen) == HTTP_URL_OK;
			if (ok) {
				t->kind = WAIT_HTTP;
				t->https = strcmp(u->scheme, "https") == 0;
				snprintf(t->host, sizeof t->host, "%s", u->host);
				snprintf(t->port, sizeof t->port, "%s", u->portstr);
			}
			free(u);
			return ok;
		}
		if (slen == 3 && (strncasecmp(s, "tcp", 3) == 0 || strncasecmp(s, "tls", 3) == 0)) {
			t->kind = strncasecmp(s, "tcp", 3) == 0 ? WAIT_TCP : WAIT_TLS;
			if (rlen && rest[rlen - 1] == '/')
				rlen--; /* "tls://host:443/" */
			return parse_hostport(rest, rlen, t, err, errlen);
		}
		snprintf(err, errlen,
			 "unknown scheme '%.*s' (give HOST:PORT, tcp://, tls://, unix:, udp:, "
			 "http:// or https://)",
			 slen > 32 ? 32 : (int)slen, s);
		return false;
	}
	t->kind = WAIT_TCP;
	return parse_hostport(s, n, t, err, errlen);
}
