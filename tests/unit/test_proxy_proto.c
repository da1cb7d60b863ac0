/* The PROXY protocol header: the exact bytes built for v1 and v2, what
 * is parsed from them and from haproxy's examples, the reader never
 * asked to read past a header, and malformed headers refused. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "net/proxy_proto.h"
#include "tap.h"

static struct sock_addr v4(const char *a, uint16_t port)
{
	struct sock_addr s = {.len = sizeof(struct sockaddr_in)};
	struct sockaddr_in *in = (struct sockaddr_in *)&s.ss;
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	inet_pton(AF_INET, a, &in->sin_addr);
	return s;
}

static struct sock_addr v6(const char *a, uint16_t port)
{
	struct sock_addr s = {.len = sizeof(struct sockaddr_in6)};
	struct sockaddr_in6 *in = (struct sockaddr_in6 *)&s.ss;
	in->sin6_family = AF_INET6;
	in->sin6_port = htons(port);
	inet_pton(AF_INET6, a, &in->sin6_addr);
	return s;
}

static bool same(const struct sock_addr *a, const struct sock_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static size_t build(int v, struct sock_addr *s, struct sock_addr *d, uint8_t *out)
{
	return pp_build(v, s ? (struct sockaddr *)&s->ss : NULL, s ? s->len : 0,
			d ? (struct sockaddr *)&d->ss : NULL, d ? d->len : 0, out);
}

/* Parses as the engine reads: only as many bytes as asked for, each
 * time. Returns pp_parse's last result; *fed: the bytes given. */
static long feed(const uint8_t *p, size_t n, struct pp_info *info, size_t *fed, char *err)
{
	size_t have = 0, want;
	long r;
	while ((r = pp_parse(p, have, info, &want, err, 256)) == 0 && have + want <= n && want)
		have += want;
	*fed = have;
	return r;
}

int main(void)
{
	uint8_t out[PP_BUILD_MAX];
	char err[256];
	struct pp_info info;
	size_t want, fed;
	struct sock_addr s4 = v4("192.0.2.1", 56324), d4 = v4("198.51.100.7", 443);
	struct sock_addr s6 = v6("2001:db8::1", 1234), d6 = v6("::1", 80);

	size_t n = build(1, &s4, &d4, out);
	const char *want1 = "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n";
	ok(n == strlen(want1) && memcmp(out, want1, n) == 0, "v1 TCP4 built as the spec says");
	n = build(1, &s6, &d6, out);
	const char *want6 = "PROXY TCP6 2001:db8::1 ::1 1234 80\r\n";
	ok(n == strlen(want6) && memcmp(out, want6, n) == 0, "v1 TCP6 built");
	n = build(1, &s4, &d6, out);
	ok(n == 15 && memcmp(out, "PROXY UNKNOWN\r\n", 15) == 0, "v1: mixed families give UNKNOWN");
	struct sock_addr m = v6("::ffff:192.0.2.1", 56324);
	n = build(1, &m, &d4, out);
	ok(n == strlen(want1) && memcmp(out, want1, n) == 0,
	   "v1: an IPv4-mapped IPv6 address goes as IPv4");

	n = build(2, &s4, &d4, out);
	static const uint8_t want2[] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49,
					0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C, 192,  0,	2,    1,
					198,  51,   100,  7,	0xDC, 0x04, 0x01, 0xBB};
	ok(n == sizeof want2 && memcmp(out, want2, n) == 0, "v2 IPv4 built byte for byte");
	ok(pp_parse(out, n, &info, &want, err, sizeof err) == (long)n && info.version == 2 &&
	       !info.local && same(&info.src, &s4) && same(&info.dst, &d4),
	   "v2 IPv4 parsed back");
	n = build(2, &s6, &d6, out);
	ok(n == 52 && out[13] == 0x21 && out[15] == 36, "v2 IPv6: 52 bytes, INET6 STREAM");
	ok(pp_parse(out, n, &info, &want, err, sizeof err) == 52 && same(&info.src, &s6) &&
	       same(&info.dst, &d6),
	   "v2 IPv6 parsed back");
	n = build(2, NULL, NULL, out);
	ok(n == 16 && out[13] == 0 && pp_parse(out, n, &info, &want, err, sizeof err) == 16 &&
	       info.local,
	   "v2 without addresses: UNSPEC, parsed as local");

	/* Parsed with the client's data after it: only the header counts. */
	const char *v1x = "PROXY TCP4 10.1.2.3 10.0.0.1 40000 8080\r\nGET / HTTP/1.0\r\n\r\n";
	long r = pp_parse((const uint8_t *)v1x, strlen(v1x), &info, &want, err, sizeof err);
	struct sock_addr e = v4("10.1.2.3", 40000);
	ok(r == 41 && info.version == 1 && same(&info.src, &e), "v1 parsed, data after it kept");
	r = feed((const uint8_t *)v1x, strlen(v1x), &info, &fed, err);
	ok(r == 41 && fed == 41, "v1 read as the engine reads: never past the CRLF (%zu)", fed);
	uint8_t v2x[64];
	n = build(2, &s6, &d6, v2x);
	memcpy(v2x + n, "data", 4);
	r = feed(v2x, n + 4, &info, &fed, err);
	ok(r == 52 && fed == 52, "v2 read as the engine reads: never past the addresses");
	r = feed((const uint8_t *)"PROXY UNKNOWN\r\nxyz", 18, &info, &fed, err);
	ok(r == 15 && fed == 15 && info.local, "v1 UNKNOWN: the shortest header, read exactly");
	r = pp_parse((const uint8_t *)"PROXY UNKNOWN ffff::1 ::1 1 2\r\n", 31, &info, &want, err,
		     sizeof err);
	ok(r == 31 && info.local, "v1 UNKNOWN with addresses after it: ignored");
	/* TLVs after the addresses are skipped. */
	uint8_t tlv[40];
	n = build(2, &s4, &d4, tlv);
	memcpy(tlv + n,
	       "\x04\x00\x03"
	       "abc",
	       6);
	tlv[15] = 12 + 6;
	ok(pp_parse(tlv, n + 6, &info, &want, err, sizeof err) == (long)n + 6 &&
	       same(&info.src, &s4),
	   "v2 TLVs skipped");
	/* LOCAL: a health check. */
	n = build(2, &s4, &d4, out);
	out[12] = 0x20;
	ok(pp_parse(out, n, &info, &want, err, sizeof err) == (long)n && info.local,
	   "v2 LOCAL: no addresses taken");

	/* Partial input: more wanted, never past the header. */
	ok(pp_parse(NULL, 0, &info, &want, err, sizeof err) == 0 && want == 15,
	   "nothing yet: 15 bytes wanted (the shortest header)");
	ok(pp_parse((const uint8_t *)"PROXY TCP4 1.2.3.4", 18, &info, &want, err, sizeof err) ==
		   0 &&
	       want == 2,
	   "v1 partial: 2 more wanted");
	ok(pp_parse((const uint8_t *)"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", 31, &info, &want, err,
		    sizeof err) == 0 &&
	       want == 1,
	   "v1 ending in CR: 1 more wanted");
	ok(pp_parse(want2, 10, &info, &want, err, sizeof err) == 0 && want == 6,
	   "v2 partial signature: to 16 bytes");

	/* Malformed. */
	static const char *const badv1[] = {
	    "GET / HTTP/1.0\r\n",
	    "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
	    "PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n",
	    "PROXY TCP4 ::1 ::1 1 2\r\n",
	    "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
	    "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
	};
	for (size_t i = 0; i < sizeof badv1 / sizeof *badv1; i++)
		ok(pp_parse((const uint8_t *)badv1[i], strlen(badv1[i]), &info, &want, err,
			    sizeof err) < 0,
		   "refused: %.*s (%s)", (int)strcspn(badv1[i], "\r\n"), badv1[i], err);
	char longline[200] = "PROXY TCP6 ";
	memset(longline + 11, 'a', 120);
	ok(pp_parse((const uint8_t *)longline, 131, &info, &want, err, sizeof err) < 0,
	   "v1 without CRLF in 107 bytes refused (%s)", err);
	/* A CRLF beyond 107 bytes, all given at once (found by the fuzzer:
	 * the line overran the parser's copy). */
	memset(longline + 11, 'a', 150);
	memcpy(longline + 161, "\r\n", 2);
	ok(pp_parse((const uint8_t *)longline, 163, &info, &want, err, sizeof err) < 0,
	   "v1 with its CRLF beyond 107 bytes refused (%s)", err);
	memcpy(out, want2, sizeof want2);
	out[12] = 0x31;
	ok(pp_parse(out, sizeof want2, &info, &want, err, sizeof err) < 0, "v2 version 3 refused");
	memcpy(out, want2, sizeof want2);
	out[12] = 0x22;
	ok(pp_parse(out, sizeof want2, &info, &want, err, sizeof err) < 0,
	   "v2 unknown command refused");
	memcpy(out, want2, sizeof want2);
	out[15] = 8;
	ok(pp_parse(out, 24, &info, &want, err, sizeof err) < 0,
	   "v2 addresses longer than its length refused");
	memcpy(out, want2, sizeof want2);
	out[14] = 0x10;
	ok(pp_parse(out, sizeof want2, &info, &want, err, sizeof err) < 0,
	   "v2 longer than the limit refused");
	tap_done();
}
