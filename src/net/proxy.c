/* Proxy protocols, pure part: message encoders and reply decoders. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net/proxy.h"

bool proxy_type_parse(const char *s, enum proxy_type *out)
{
	if (strcmp(s, "http") == 0)
		*out = PROXY_HTTP;
	else if (strcmp(s, "socks4") == 0 || strcmp(s, "socks4a") == 0)
		*out = PROXY_SOCKS4;
	else if (strcmp(s, "socks5") == 0 || strcmp(s, "socks5h") == 0)
		*out = PROXY_SOCKS5;
	else
		return false;
	return true;
}

const char *proxy_type_name(enum proxy_type t)
{
	return t == PROXY_HTTP ? "http" : t == PROXY_SOCKS4 ? "socks4" : "socks5";
}

bool proxy_auth_parse(const char *s, char *user, size_t ulen, char *pass, size_t plen)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s)
		return false;
	size_t un = (size_t)(colon - s), pn = strlen(colon + 1);
	if (un >= ulen || pn >= plen)
		return false;
	memcpy(user, s, un);
	user[un] = '\0';
	memcpy(pass, colon + 1, pn + 1);
	return true;
}

size_t proxy_base64(const void *in, size_t n, char *out, size_t outlen)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = in;
	size_t need = (n + 2) / 3 * 4;
	if (need + 1 > outlen)
		return 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* A host fit to put on a request line: no spaces, controls or 8-bit. */
static bool clean_host(const char *h)
{
	if (!*h)
		return false;
	for (const unsigned char *p = (const unsigned char *)h; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '/' || *p == '@')
			return false;
	return true;
}

size_t proxy_http_request(const struct proxy_target *t, char *out, size_t outlen, char *err,
			  size_t errlen)
{
	if (!clean_host(t->host) || strlen(t->host) > 255) {
		snprintf(err, errlen, "bad target host for an HTTP proxy");
		return 0;
	}
	bool v6 = strchr(t->host, ':') != NULL;
	char hostport[300];
	snprintf(hostport, sizeof hostport, "%s%s%s:%u", v6 ? "[" : "", t->host, v6 ? "]" : "",
		 t->port);
	char auth[1024] = "";
	if (t->user) {
		char cred[520], b64[720];
		int cn = snprintf(cred, sizeof cred, "%s:%s", t->user, t->pass ? t->pass : "");
		if (cn < 0 || (size_t)cn >= sizeof cred || strpbrk(cred, "\r\n") ||
		    !proxy_base64(cred, (size_t)cn, b64, sizeof b64)) {
			snprintf(err, errlen, "proxy credentials too long or not printable");
			return 0;
		}
		snprintf(auth, sizeof auth, "Proxy-Authorization: Basic %s\r\n", b64);
	}
	int n = snprintf(out, outlen, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", hostport,
			 hostport, auth);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "proxy request too long");
		return 0;
	}
	return (size_t)n;
}

long proxy_http_response(const char *buf, size_t len, char *err, size_t errlen)
{
	const char *end = NULL;
	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i + 4;
			break;
		}
	/* Check the status line as soon as it is there, so a proxy that
	 * answers garbage fails fast. */
	const char *eol = memchr(buf, '\n', len);
	if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0) {
		snprintf(err, errlen, "proxy did not answer in HTTP");
		return -1;
	}
	if (!end) {
		if (len >= PROXY_HEAD_MAX) {
			snprintf(err, errlen, "proxy response head longer than %d bytes",
				 PROXY_HEAD_MAX);
			return -1;
		}
		return 0;
	}
	size_t ll = (size_t)(eol - buf);
	while (ll && (buf[ll - 1] == '\r' || buf[ll - 1] == '\n'))
		ll--;
	const char *sp = memchr(buf, ' ', ll);
	if (!sp || ll - (size_t)(sp - buf) < 4 || sp[1] < '1' || sp[1] > '5' || sp[2] < '0' ||
	    sp[2] > '9' || sp[3] < '0' || sp[3] > '9') {
		snprintf(err, errlen, "proxy sent a bad status line");
		return -1;
	}
	if (sp[1] != '2') {
		/* Show the status line, with anything unprintable replaced. */
		char line[120];
		size_t k = 0;
		for (const char *p = sp + 1; p < buf + ll && k + 1 < sizeof line; p++)
			line[k++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
		line[k] = '\0';
		snprintf(err, errlen, "proxy refused: %s", line);
		return -1;
	}
	return (long)(end - buf);
}

size_t proxy_socks4_request(const struct proxy_target *t, uint8_t *out, size_t outlen, char *err,
			    size_t errlen)
{
	struct in_addr a;
	bool is4 = inet_pton(AF_INET, t->host, &a) == 1;
	const char *user = t->user ? t->user : "";
	size_t ul = strlen(user), hl = strlen(t->host);
	if (!is4 && (strchr(t->host, ':') || hl == 0 || hl > 255)) {
		snprintf(err, errlen, "SOCKS4 reaches IPv4 addresses and names only");
		return 0;
	}
	size_t need = 8 + ul + 1 + (is4 ? 0 : hl + 1);
	if (ul > 255 || need > outlen) {
		snprintf(err, errlen, "SOCKS4 request too long");
		return 0;
	}
	out[0] = 4;
	out[1] = 1; /* CONNECT */
	out[2] = (uint8_t)(t->port >> 8);
	out[3] = (uint8_t)t->port;
	if (is4) {
		memcpy(out + 4, &a, 4);
	} else {
		/* SOCKS4a: 0.0.0.x, and the name after the user id. */
		out[4] = out[5] = out[6] = 0;
		out[7] = 1;
	}
	memcpy(out + 8, user, ul + 1);
	if (!is4)
		memcpy(out + 8 + ul + 1, t->host, hl + 1);
	return need;
}

int proxy_socks4_reply(const uint8_t *b, size_t n, char *err, size_t errlen)
{
	if (n < 8 || b[0] != 0) {
		snprintf(err, errlen, "proxy did not answer in SOCKS4");
		return -1;
	}
	switch (b[1]) {
	case 90:
		return 0;
	case 91:
		snprintf(err, errlen, "proxy refused: request rejected or failed");
		return -1;
	case 92:
	case 93:
		snprintf(err, errlen, "proxy refused: identd check failed (code %u)", b[1]);
		return -1;
	default:
		snprintf(err, errlen, "proxy sent unknown SOCKS4 code %u", b[1]);
		return -1;
	}
}

size_t proxy_socks5_greeting(const struct proxy_target *t, uint8_t *out, size_t outlen)
{
	if (outlen < 4)
		return 0;
	out[0] = 5;
	if (t->user) {
		out[1] = 2;
		out[2] = 0;
		out[3] = 2;
		return 4;
	}
	out[1] = 1;
	out[2] = 0;
	return 3;
}

int proxy_socks5_method(const uint8_t *b, size_t n, bool have_auth, int *method, char *err,
			size_t errlen)
{
	if (n < 2 || b[0] != 5) {
		snprintf(err, errlen, "proxy did not answer in SOCKS5");
		return -1;
	}
	if (b[1] == 0 || (b[1] == 2 && have_auth)) {
		*method = b[1];
		return 0;
	}
	if (b[1] == 0xff)
		snprintf(err, errlen, "proxy accepts none of our authentication methods%s",
			 have_auth ? "" : " (it may want --proxy-auth)");
	else
		snprintf(err, errlen, "proxy chose an unoffered method %u", b[1]);
	return -1;
}

size_t proxy_socks5_auth(const struct proxy_target *t, uint8_t *out, size_t outlen, char *err,
			 size_t errlen)
{
	const char *pass = t->pass ? t->pass : "";
	size_t ul = strlen(t->user), pl = strlen(pass);
	if (ul == 0 || ul > 255 || pl > 255 || 3 + ul + pl > outlen) {
		snprintf(err, errlen, "SOCKS5 user and password must be 1-255 and 0-255 bytes");
		return 0;
	}
	out[0] = 1;
	out[1] = (uint8_t)ul;
	memcpy(out + 2, t->user, ul);
	out[2 + ul] = (uint8_t)pl;
	memcpy(out + 3 + ul, pass, pl);
	return 3 + ul + pl;
}

int proxy_socks5_auth_reply(const uint8_t *b, size_t n, char *err, size_t errlen)
{
	if (n < 2 || b[0] != 1) {
		snprintf(err, errlen, "proxy sent a bad SOCKS5 authentication reply");
		return -1;
	}
	if (b[1] != 0) {
		snprintf(err, errlen, "proxy refused the user name or password");
		return -1;
	}
	return 0;
}

size_t proxy_socks5_request(const struct proxy_target *t, uint8_t *out, size_t outlen, char *err,
			    size_t errlen)
{
	struct in_addr a4;
	struct in6_addr a6;
	size_t n;
	if (outlen < 22 + 256) {
		snprintf(err, errlen, "SOCKS5 request buffer too small");
		return 0;
	}
	out[0] = 5;
	out[1] = 1; /* CONNECT */
	out[2] = 0;
	if (inet_pton(AF_INET, t->host, &a4) == 1) {
		out[3] = 1;
		memcpy(out + 4, &a4, 4);
		n = 8;
	} else if (inet_pton(AF_INET6, t->host, &a6) == 1) {
		out[3] = 4;
		memcpy(out + 4, &a6, 16);
		n = 20;
	} else {
		size_t hl = strlen(t->host);
		if (hl == 0 || hl > 255) {
			snprintf(err, errlen, "SOCKS5 host names are 1-255 bytes");
			return 0;
		}
		out[3] = 3;
		out[4] = (uint8_t)hl;
		memcpy(out + 5, t->host, hl);
		n = 5 + hl;
	}
	out[n] = (uint8_t)(t->port >> 8);
	out[n + 1] = (uint8_t)t->port;
	return n + 2;
}

long proxy_socks5_reply_len(const uint8_t *b, size_t n, char *err, size_t errlen)
{
	if (n < 5 || b[0] != 5) {
		snprintf(err, errlen, "proxy did not answer in SOCKS5");
		return -1;
	}
	switch (b[3]) {
	case 1:
		return 10;
	case 3:
		return 7 + (long)b[4];
	case 4:
		return 22;
	default:
		/* A refusal may carry a zero address type: its code matters more. */
		if (b[1] != 0)
			return 5;
		snprintf(err, errlen, "proxy sent unknown SOCKS5 address type %u", b[3]);
		return -1;
	}
}

int proxy_socks5_reply(const uint8_t *b, size_t n, char *err, size_t errlen)
{
	static const char *const why[] = {
	    "succeeded",
	    "general SOCKS server failure",
	    "connection not allowed by ruleset",
	    "network unreachable",
	    "host unreachable",
	    "connection refused",
	    "TTL expired",
	    "command not supported",
	    "address type not supported",
	};
	if (n < 2 || b[0] != 5) {
		snprintf(err, errlen, "proxy did not answer in SOCKS5");
		return -1;
	}
	if (b[1] == 0)
		return 0;
	if (b[1] < sizeof why / sizeof why[0])
		snprintf(err, errlen, "proxy: %s", why[b[1]]);
	else
		snprintf(err, errlen, "proxy sent unknown SOCKS5 code %u", b[1]);
	return -1;
}
