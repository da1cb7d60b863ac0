/* TCP segments for a SYN scan: building a bare SYN and reading the answer
 * (SYN+ACK or RST) off a raw socket. Pure: no I/O. */
#ifndef SOCKCTL_TCP_PKT_H
#define SOCKCTL_TCP_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TCP_SYN_LEN 24 /* header plus one MSS option */

/* Writes a SYN from src to dst (both AF_INET or both AF_INET6, ports
 * included) with sequence number seq into buf, checksum filled in. Returns
 * TCP_SYN_LEN, or 0 when the families differ or are not IP. */
size_t tcp_syn_build(uint8_t buf[TCP_SYN_LEN], const struct sockaddr *src,
		     const struct sockaddr *dst, uint32_t seq);

enum { TCP_ANSWER_NONE, TCP_ANSWER_OPEN, TCP_ANSWER_CLOSED };

struct tcp_answer {
	uint16_t sport, dport; /* host order: the scanned port, ours */
	uint32_t ack;	       /* acknowledgement number, host order */
	int kind;	       /* TCP_ANSWER_* */
};

/* Reads one packet as a raw socket delivers it: for AF_INET the IPv4
 * header comes first (and its source must equal the 4 bytes at from);
 * for AF_INET6 the packet starts at the TCP header and the caller checks
 * the sender (from is not read). SYN+ACK is OPEN, RST
 * (with ACK) is CLOSED, anything else NONE. Returns 0, or -1 when the
 * packet is short, malformed or not TCP from that address. */
int tcp_answer_parse(int family, const uint8_t *pkt, size_t len, const uint8_t *from,
		     struct tcp_answer *out);

/* The sequence number a scan sends to port, so that answers can be told
 * from stray packets: ack must be it plus one. */
uint32_t tcp_scan_seq(uint32_t secret, uint16_t port);

#endif
