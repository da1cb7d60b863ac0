#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "udp/udp_probe.h"

static const char hexdig[] = "0123456789abcdef";

void udp_filler_set_seq(unsigned char *buf, size_t size, uint64_t seq)
{
	if (size < FILLER_SEQ_LEN)
		return;
	for (int i = FILLER_SEQ_LEN - 1; i >= 0; i--, seq >>= 4)
		buf[i] = (unsigned char)hexdig[seq & 15];
}

void udp_filler(unsigned char *buf, size_t size, uint64_t seq)
{
	for (size_t i = 0; i < size; i++)
		buf[i] = (unsigned char)('a' + i % 26);
	udp_filler_set_seq(buf, size, seq);
}

bool udp_filler_seq(const unsigned char *buf, size_t len, uint64_t *seq)
{
	if (len < FILLER_SEQ_LEN)
		return false;
	uint64_t v = 0;
	for (int i = 0; i < FILLER_SEQ_LEN; i++) {
		unsigned char c = buf[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*seq = v;
	return true;
}

void probe_init(struct probe *p)
{
	memset(p, 0, sizeof *p);
}

void probe_sent(struct probe *p, int64_t now_us)
{
	struct probe_slot *s = &p->ring[p->sent % PROBE_RING];
	*s = (struct probe_slot){.seq = p->sent, .sent_us = now_us, .used = true};
	p->sent++;
}

bool probe_reply(struct probe *p, bool seq_known, uint64_t seq, int64_t now_us)
{
	if (!seq_known)
		seq = p->received;
	p->received++;
	if (seq >= p->sent)
		return false;
	struct probe_slot *s = &p->ring[seq % PROBE_RING];
	if (!s->used || s->seq != seq || s->answered)
		return false;
	s->answered = true;
	int64_t rtt = now_us - s->sent_us;
	if (rtt < 0)
		rtt = 0;
	if (p->timed == 0 || rtt < p->rtt_min)
		p->rtt_min = rtt;
	if (p->timed == 0 || rtt > p->rtt_max)
		p->rtt_max = rtt;
	p->rtt_sum += rtt;
	p->timed++;
	return true;
}

void probe_format(const struct probe *p, bool expect_replies, char *buf, size_t len)
{
	if (!expect_replies) {
		snprintf(buf, len, "sent %" PRIu64 ", received %" PRIu64, p->sent, p->received);
		return;
	}
	uint64_t lost = p->sent > p->received ? p->sent - p->received : 0;
	double pct = p->sent ? 100.0 * (double)lost / (double)p->sent : 0.0;
	int n =
	    snprintf(buf, len, "sent %" PRIu64 ", received %" PRIu64 ", lost %" PRIu64 " (%.1f%%)",
		     p->sent, p->received, lost, pct);
	if (p->timed && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", rtt min/avg/max %.3f/%.3f/%.3f ms",
			 (double)p->rtt_min / 1000.0,
			 (double)p->rtt_sum / (double)p->timed / 1000.0,
			 (double)p->rtt_max / 1000.0);
}
