#include "config.h"

#include <string.h>
#include <netinet/in.h>

#include "scan/tcp_pkt.h"

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_ACK = 0x10 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Ones' complement sum of big-endian 16-bit words. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t tcp_syn_build(uint8_t buf[TCP_SYN_LEN], const struct sockaddr *src,
		     const struct sockaddr *dst, uint32_t seq)
{
	const uint8_t *sa, *da;
	size_t alen;
	uint16_t sport, dport;
	if (src->sa_family != dst->sa_family)
		return 0;
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src, *d = (const void *)dst;
		sa = (const uint8_t *)&s->sin_addr;
		da = (const uint8_t *)&d->sin_addr;
		alen = 4;
		sport = ntohs(s->sin_port);
		dport = ntohs(d->sin_port);
	} else if (src->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)src, *d = (const void *)dst;
		sa = s->sin6_addr.s6_addr;
		da = d->sin6_addr.s6_addr;
		alen = 16;
		sport = ntohs(s->sin6_port);
		dport = ntohs(d->sin6_port);
	} else {
		return 0;
	}
	memset(buf, 0, TCP_SYN_LEN);
	put16(buf, sport);
	put16(buf + 2, dport);
	put32(buf + 4, seq);
	buf[12] = (TCP_SYN_LEN / 4) << 4; /* data offset */
	buf[13] = TH_SYN;
	put16(buf + 14, 1024); /* window */
	buf[20] = 2;	       /* MSS option, as every real SYN has */
	buf[21] = 4;
	put16(buf + 22, 1460);
	/* Pseudo-header: addresses, protocol and length (the IPv6 layout sums
	 * to the same value). */
	uint32_t sum = sum16(0, sa, alen);
	sum = sum16(sum, da, alen);
	sum += IPPROTO_TCP + TCP_SYN_LEN;
	sum = sum16(sum, buf, TCP_SYN_LEN);
	put16(buf + 16, fold(sum));
	return TCP_SYN_LEN;
}

int tcp_answer_parse(int family, const uint8_t *pkt, size_t len, const uint8_t *from,
		     struct tcp_answer *out)
{
	if (family == AF_INET) {
		if (len < 20 || pkt[0] >> 4 != 4)
			return -1;
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
		if (ihl < 20 || len < ihl || pkt[9] != IPPROTO_TCP || memcmp(pkt + 12, from, 4))
			return -1;
		/* A fragment other than the first has no TCP header. */
		if (get16(pkt + 6) & 0x1fff)
			return -1;
		pkt += ihl;
		len -= ihl;
	} else if (family != AF_INET6) {
		return -1;
	}
	if (len < 20 || (size_t)(pkt[12] >> 4) * 4 < 20)
		return -1;
	out->sport = get16(pkt);
	out->dport = get16(pkt + 2);
	out->ack = get32(pkt + 8);
	uint8_t fl = pkt[13];
	if ((fl & (TH_SYN | TH_ACK | TH_RST)) == (TH_SYN | TH_ACK))
		out->kind = TCP_ANSWER_OPEN;
	else if ((fl & (TH_RST | TH_ACK)) == (TH_RST | TH_ACK))
		out->kind = TCP_ANSWER_CLOSED;
	else
		out->kind = TCP_ANSWER_NONE;
	return 0;
}

uint32_t tcp_scan_seq(uint32_t secret, uint16_t port)
{
	/* A multiply-xorshift mix: distinct per port, unguessable without
	 * the secret, cheap. */
	uint32_t x = secret ^ (uint32_t)port * 0x9e3779b1u;
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	return x;
}
