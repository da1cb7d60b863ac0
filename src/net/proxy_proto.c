/* The PROXY protocol, versions 1 and 2 (haproxy's proxy-protocol.txt). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "net/proxy_proto.h"

static const uint8_t v2sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				  0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
#define V1_MAX	107 /* "PROXY TCP6 " + two longest addresses and ports + CRLF */
#define V1_MIN	15  /* "PROXY UNKNOWN\r\n" */
#define V2_HEAD 16

/* An IPv4-mapped IPv6 address as the IPv4 address it is. */
static int family_of(const struct sockaddr *sa, struct sockaddr_in *v4)
{
	if (!sa)
		return AF_UNSPEC;
	if (sa->sa_family == AF_INET) {
		memcpy(v4, sa, sizeof *v4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			return AF_INET6;
		memset(v4, 0, sizeof *v4);
		v4->sin_family = AF_INET;
		v4->sin_port = s6->sin6_port;
		memcpy(&v4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
		return AF_INET;
	}
	return AF_UNSPEC;
}

size_t pp_build(int version, const struct sockaddr *src, socklen_t srclen,
		const struct sockaddr *dst, socklen_t dstlen, uint8_t *out)
{
	(void)srclen;
	(void)dstlen;
	struct sockaddr_in s4, d4;
	int fs = family_of(src, &s4), fd = family_of(dst, &d4);
	int fam = fs == fd ? fs : AF_UNSPEC;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)src;
	const struct sockaddr_in6 *d6 = (const struct sockaddr_in6 *)dst;
	if (version == 1) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
		int n;
		if (fam == AF_INET) {
			inet_ntop(AF_INET, &s4.sin_addr, a, sizeof a);
			inet_ntop(AF_INET, &d4.sin_addr, b, sizeof b);
			n = snprintf((char *)out, PP_BUILD_MAX, "PROXY TCP4 %s %s %u %u\r\n", a, b,
				     ntohs(s4.sin_port), ntohs(d4.sin_port));
		} else if (fam == AF_INET6) {
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
			inet_ntop(AF_INET6, &d6->sin6_addr, b, sizeof b);
			n = snprintf((char *)out, PP_BUILD_MAX, "PROXY TCP6 %s %s %u %u\r\n", a, b,
				     ntohs(s6->sin6_port), ntohs(d6->sin6_port));
		} else {
			n = snprintf((char *)out, PP_BUILD_MAX, "PROXY UNKNOWN\r\n");
		}
		return (size_t)n;
	}
	memcpy(out, v2sig, sizeof v2sig);
	out[12] = 0x21; /* version 2, PROXY */
	size_t len = 0;
	uint8_t *p = out + V2_HEAD;
	if (fam == AF_INET) {
		out[13] = 0x11; /* INET, STREAM */
		memcpy(p, &s4.sin_addr, 4);
		memcpy(p + 4, &d4.sin_addr, 4);
		memcpy(p + 8, &s4.sin_port, 2);
		memcpy(p + 10, &d4.sin_port, 2);
		len = 12;
	} else if (fam == AF_INET6) {
		out[13] = 0x21; /* INET6, STREAM */
		memcpy(p, &s6->sin6_addr, 16);
		memcpy(p + 16, &d6->sin6_addr, 16);
		memcpy(p + 32, &s6->sin6_port, 2);
		memcpy(p + 34, &d6->sin6_port, 2);
		len = 36;
	} else {
		out[13] = 0x00; /* UNSPEC: the receiver takes the connection's own */
	}
	out[14] = (uint8_t)(len >> 8);
	out[15] = (uint8_t)len;
	return V2_HEAD + len;
}

/* ---- parsing ---- */

static long bad(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

/* A port: 1 to 5 digits, at most 65535. */
static bool port_of(const char *s, uint16_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
		return false;
	unsigned long v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static bool addr_of(int fam, const char *a, uint16_t port, struct sock_addr *out)
{
	memset(out, 0, sizeof *out);
	if (fam == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&out->ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		out->len = sizeof *s;
		return inet_pton(AF_INET, a, &s->sin_addr) == 1;
	}
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->ss;
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	out->len = sizeof *s;
	return inet_pton(AF_INET6, a, &s->sin6_addr) == 1;
}

/* "PROXY TCP4 SRC DST SPORT DPORT" (the CRLF cut off). */
static long parse_v1(char *line, struct pp_info *info, char *err, size_t errlen)
{
	char *f[7];
	int n = 0;
	for (char *p = line, *tok; n < 7 && (tok = strsep(&p, " ")) != NULL;)
		f[n++] = tok;
	if (n < 2 || strcmp(f[0], "PROXY") != 0)
		return bad(err, errlen, "PROXY v1: not a PROXY line");
	if (strcmp(f[1], "UNKNOWN") == 0) {
		/* Anything may follow: the receiver ignores it. */
		info->local = true;
		return 0;
	}
	int fam = strcmp(f[1], "TCP4") == 0 ? AF_INET : strcmp(f[1], "TCP6") == 0 ? AF_INET6 : 0;
	if (!fam)
		return bad(err, errlen, "PROXY v1: the protocol is not TCP4, TCP6 or UNKNOWN");
	uint16_t sp, dp;
	if (n != 6)
		return bad(err, errlen, "PROXY v1: not four fields after the protocol");
	if (!port_of(f[4], &sp) || !port_of(f[5], &dp))
		return bad(err, errlen, "PROXY v1: bad port");
	if (!addr_of(fam, f[2], sp, &info->src) || !addr_of(fam, f[3], dp, &info->dst))
		return bad(err, errlen, "PROXY v1: bad address");
	return 0;
}

static long parse_v2(const uint8_t *b, size_t total, struct pp_info *info, char *err, size_t errlen)
{
	if ((b[12] >> 4) != 2)
		return bad(err, errlen, "PROXY v2: not version 2");
	int cmd = b[12] & 0x0F;
	if (cmd > 1)
		return bad(err, errlen, "PROXY v2: unknown command");
	int fam = b[13] >> 4, proto = b[13] & 0x0F;
	if (fam > 3 || proto > 2)
		return bad(err, errlen, "PROXY v2: unknown address family or protocol");
	size_t need = fam == 1 ? 12 : fam == 2 ? 36 : fam == 3 ? 216 : 0;
	if (total - V2_HEAD < need)
		return bad(err, errlen, "PROXY v2: addresses longer than the header");
	/* LOCAL (a health check), an unspecified family or Unix addresses:
	 * the connection's own endpoints count. TLVs after the addresses
	 * are skipped. */
	if (cmd == 0 || fam == 0 || fam == 3) {
		info->local = true;
		return 0;
	}
	const uint8_t *p = b + V2_HEAD;
	if (fam == 1) {
		struct sockaddr_in *s = (struct sockaddr_in *)&info->src.ss;
		struct sockaddr_in *d = (struct sockaddr_in *)&info->dst.ss;
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, p, 4);
		memcpy(&d->sin_addr, p + 4, 4);
		memcpy(&s->sin_port, p + 8, 2);
		memcpy(&d->sin_port, p + 10, 2);
		info->src.len = info->dst.len = sizeof *s;
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&info->src.ss;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&info->dst.ss;
		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, p, 16);
		memcpy(&d->sin6_addr, p + 16, 16);
		memcpy(&s->sin6_port, p + 32, 2);
		memcpy(&d->sin6_port, p + 34, 2);
		info->src.len = info->dst.len = sizeof *s;
	}
	return 0;
}

long pp_parse(const uint8_t *buf, size_t len, struct pp_info *info, size_t *want, char *err,
	      size_t errlen)
{
	memset(info, 0, sizeof *info);
	*want = 0;
	if (len == 0) {
		*want = V1_MIN;
		return 0;
	}
	size_t k = len < sizeof v2sig ? len : sizeof v2sig;
	if (memcmp(buf, v2sig, k) == 0) {
		info->version = 2;
		if (len < V2_HEAD) {
			*want = V2_HEAD - len;
			return 0;
		}
		size_t total = V2_HEAD + ((size_t)buf[14] << 8 | buf[15]);
		if (total > PP_V2_MAX)
			return bad(err, errlen, "PROXY v2: header longer than 1040 bytes");
		if (len < total) {
			*want = total - len;
			return 0;
		}
		return parse_v2(buf, total, info, err, errlen) < 0 ? -1 : (long)total;
	}
	k = len < 6 ? len : 6;
	if (memcmp(buf, "PROXY ", k) != 0)
		return bad(err, errlen, "no PROXY protocol header");
	info->version = 1;
	const uint8_t *nl = memchr(buf, '\n', len);
	if (!nl) {
		if (len >= V1_MAX)
			return bad(err, errlen, "PROXY v1: no end of line within 107 bytes");
		/* The CRLF may end the header as soon as it can: never read
		 * past it. */
		*want = len < V1_MIN ? V1_MIN - len : buf[len - 1] == '\r' ? 1 : 2;
		if (*want > V1_MAX - len)
			*want = V1_MAX - len;
		return 0;
	}
	size_t end = (size_t)(nl - buf) + 1;
	if (end > V1_MAX)
		return bad(err, errlen, "PROXY v1: no end of line within 107 bytes");
	if (end < 2 || buf[end - 2] != '\r')
		return bad(err, errlen, "PROXY v1: line not ended by CRLF");
	char line[V1_MAX + 1];
	memcpy(line, buf, end - 2);
	line[end - 2] = '\0';
	if (memchr(line, '\r', end - 2) || strlen(line) != end - 2)
		return bad(err, errlen, "PROXY v1: stray bytes in the line");
	if (parse_v1(line, info, err, errlen) < 0)
		return -1;
	return (long)end;
}
