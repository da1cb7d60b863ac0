/* Probe bookkeeping for udp-send: filler payloads that carry a sequence
 * number, matching replies to the datagrams they answer, and round-trip
 * statistics. Pure, no I/O. */
#ifndef SOCKCTL_UDP_PROBE_H
#define SOCKCTL_UDP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Filler of at least this size starts with the sequence number as 16 hex
 * digits, so echoed replies can be matched exactly even when some are
 * lost or reordered. Shorter filler is letters only. */
#define FILLER_SEQ_LEN 16

/* Writes size bytes of printable filler for datagram seq. */
void udp_filler(unsigned char *buf, size_t size, uint64_t seq);
/* Rewrites only the sequence header of a buffer udp_filler filled. */
void udp_filler_set_seq(unsigned char *buf, size_t size, uint64_t seq);
/* Reads the sequence number back from a reply; false if it has none. */
bool udp_filler_seq(const unsigned char *buf, size_t len, uint64_t *seq);

/* Send times of the last PROBE_RING datagrams; a reply to an older one
 * still counts as received but gives no round-trip time. */
#define PROBE_RING 4096
struct probe_slot {
	uint64_t seq;
	int64_t sent_us;
	bool used, answered;
};
struct probe {
	struct probe_slot ring[PROBE_RING];
	uint64_t sent, received, timed;
	int64_t rtt_min, rtt_max, rtt_sum; /* microseconds, over `timed` replies */
};

void probe_init(struct probe *p);
/* Records datagram number p->sent, sent at now_us. */
void probe_sent(struct probe *p, int64_t now_us);
/* Records a reply. seq_known: it names the datagram it answers (filler);
 * otherwise replies are matched in order (the Nth reply answers the Nth
 * datagram). Returns true if it gave a round-trip time. */
bool probe_reply(struct probe *p, bool seq_known, uint64_t seq, int64_t now_us);
/* "sent 3, received 3, lost 0 (0.0%), rtt min/avg/max 0.012/0.020/0.031 ms";
 * without expect_replies only "sent 3, received 0" (nothing was lost). */
void probe_format(const struct probe *p, bool expect_replies, char *buf, size_t len);

#endif
