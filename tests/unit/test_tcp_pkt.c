/* SYN building and answer parsing for the half-open scan. Checksums are
 * checked the way a receiver does: the ones' complement sum over the
 * pseudo-header and the segment must come to 0xffff. */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "tap.h"
#include "scan/tcp_pkt.h"

static uint32_t sum_bytes(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
	return s;
}

static uint16_t verify(const uint8_t *src, const uint8_t *dst, size_t alen, const uint8_t *seg,
		       size_t len)
{
	uint32_t s = sum_bytes(0, src, alen);
	s = sum_bytes(s, dst, alen);
	s += IPPROTO_TCP + (uint32_t)len;
	s = sum_bytes(s, seg, len);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void v4_syn(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40000)};
	struct sockaddr_in b = {.sin_family = AF_INET, .sin_port = htons(22)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	inet_pton(AF_INET, "10.1.2.3", &b.sin_addr);
	uint8_t p[TCP_SYN_LEN];
	ok(tcp_syn_build(p, (struct sockaddr *)&a, (struct sockaddr *)&b, 0x01020304) ==
	       TCP_SYN_LEN,
	   "IPv4 SYN built");
	ok(p[0] == 0x9c && p[1] == 0x40 && p[2] == 0 && p[3] == 22, "ports in network order");
	ok(p[4] == 1 && p[7] == 4, "sequence number");
	ok(p[12] >> 4 == 6 && p[13] == 0x02, "data offset 6 words, SYN only");
	ok(p[20] == 2 && p[21] == 4, "MSS option");
	ok(verify((uint8_t *)&a.sin_addr, (uint8_t *)&b.sin_addr, 4, p, sizeof p) == 0xffff,
	   "IPv4 checksum verifies");
	struct sockaddr_in6 c = {.sin6_family = AF_INET6};
	ok(tcp_syn_build(p, (struct sockaddr *)&a, (struct sockaddr *)&c, 1) == 0,
	   "mixed families refused");
}

static void v6_syn(void)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(50000)};
	struct sockaddr_in6 b = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
	inet_pton(AF_INET6, "::1", &a.sin6_addr);
	inet_pton(AF_INET6, "2001:db8::7", &b.sin6_addr);
	uint8_t p[TCP_SYN_LEN];
	ok(tcp_syn_build(p, (struct sockaddr *)&a, (struct sockaddr *)&b, 0xdeadbeef) ==
	       TCP_SYN_LEN,
	   "IPv6 SYN built");
	ok(verify(a.sin6_addr.s6_addr, b.sin6_addr.s6_addr, 16, p, sizeof p) == 0xffff,
	   "IPv6 checksum verifies");
}

/* An IPv4 packet from 127.0.0.9 carrying a TCP header with these flags. */
static size_t v4_packet(uint8_t *p, uint8_t flags, uint32_t ack)
{
	memset(p, 0, 40);
	p[0] = 0x45;
	p[9] = IPPROTO_TCP;
	p[12] = 127, p[15] = 9;
	uint8_t *t = p + 20;
	t[0] = 0x1f, t[1] = 0x90; /* 8080 */
	t[2] = 0x9c, t[3] = 0x40; /* 40000 */
	t[8] = (uint8_t)(ack >> 24), t[9] = (uint8_t)(ack >> 16);
	t[10] = (uint8_t)(ack >> 8), t[11] = (uint8_t)ack;
	t[12] = 5 << 4;
	t[13] = flags;
	return 40;
}

static void answers(void)
{
	const uint8_t from[4] = {127, 0, 0, 9}, other[4] = {127, 0, 0, 8};
	uint8_t p[64];
	struct tcp_answer a;
	size_t n = v4_packet(p, 0x12, 0x11223345);
	ok(tcp_answer_parse(AF_INET, p, n, from, &a) == 0 && a.kind == TCP_ANSWER_OPEN &&
	       a.sport == 8080 && a.dport == 40000 && a.ack == 0x11223345,
	   "SYN+ACK is open, ports and ack read");
	n = v4_packet(p, 0x14, 1);
	ok(tcp_answer_parse(AF_INET, p, n, from, &a) == 0 && a.kind == TCP_ANSWER_CLOSED,
	   "RST+ACK is closed");
	n = v4_packet(p, 0x04, 1);
	ok(tcp_answer_parse(AF_INET, p, n, from, &a) == 0 && a.kind == TCP_ANSWER_NONE,
	   "a bare RST answers no SYN");
	n = v4_packet(p, 0x02, 0);
	ok(tcp_answer_parse(AF_INET, p, n, from, &a) == 0 && a.kind == TCP_ANSWER_NONE,
	   "a SYN (our own, looped back) is no answer");
	n = v4_packet(p, 0x12, 1);
	ok(tcp_answer_parse(AF_INET, p, n, other, &a) < 0, "another source is refused");
	ok(tcp_answer_parse(AF_INET, p, 39, from, &a) < 0, "a cut TCP header is refused");
	p[9] = IPPROTO_UDP;
	ok(tcp_answer_parse(AF_INET, p, n, from, &a) < 0, "not TCP");
	n = v4_packet(p, 0x12, 1);
	p[0] = 0x4f; /* 60-byte IP header: longer than the packet */
	ok(tcp_answer_parse(AF_INET, p, n, from, &a) < 0, "IP header past the end");
	n = v4_packet(p, 0x12, 1);
	p[7] = 1; /* fragment offset 8 */
	ok(tcp_answer_parse(AF_INET, p, n, from, &a) < 0, "a later fragment is refused");
	n = v4_packet(p, 0x12, 1);
	ok(tcp_answer_parse(AF_INET6, p + 20, 20, NULL, &a) == 0 && a.kind == TCP_ANSWER_OPEN &&
	       a.sport == 8080,
	   "IPv6: the packet starts at the TCP header");
	ok(tcp_answer_parse(AF_UNIX, p, n, from, &a) < 0, "other families refused");
}

static void sequence(void)
{
	int distinct = 1;
	for (unsigned port = 1; port < 65536 && distinct; port++)
		distinct =
		    tcp_scan_seq(42, (uint16_t)port) != tcp_scan_seq(42, (uint16_t)(port - 1));
	ok(distinct, "neighbouring ports get different sequence numbers");
	ok(tcp_scan_seq(1, 80) != tcp_scan_seq(2, 80), "the secret changes them");
}

int main(void)
{
	v4_syn();
	v6_syn();
	answers();
	sequence();
	tap_done();
}
