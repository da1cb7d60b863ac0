#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <linux/filter.h>
#include <netinet/in.h>

#include "scan/scan.h"
#include "scan/synscan.h"
#include "scan/tcp_pkt.h"

enum { BATCH = 64, PKTMAX = 128, TRIES = 3, NO_INDEX = UINT32_MAX };

struct synscan {
	struct loop *l;
	const struct synscan_opts *o;
	int fd;	  /* raw socket, owned */
	int hold; /* TCP socket bound to our source port, owned: keeps it ours */
	struct sock_addr src, dst;
	uint8_t dst_ip[16];
	uint16_t sport;
	uint32_t secret;
	const uint16_t *ports;
	size_t n, lo, next; /* [lo, next) sent, maybe unanswered; >= next unsent */
	uint32_t *index;    /* owned; port -> index in ports, or NO_INDEX */
	uint8_t *tries;	    /* owned; SYNs sent per port, 0 once answered */
	int64_t *first;	    /* owned; when the first SYN went */
	int inflight;
	bool want_write;
	int fail; /* errno that ended the scan, or 0 */
	struct timer tick;
};

static void finish(struct synscan *s, size_t i, int state)
{
	s->tries[i] = 0;
	s->inflight--;
	s->o->result(s->o->arg, i, state);
}

/* Sends the SYNs for idx[0..k); returns how many went. */
static size_t send_batch(struct synscan *s, const size_t *idx, size_t k)
{
	uint8_t pkt[BATCH][TCP_SYN_LEN];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	struct sock_addr to[BATCH];
	for (size_t j = 0; j < k; j++) {
		uint16_t port = s->ports[idx[j]];
		to[j] = s->dst;
		sock_addr_set_port(&to[j], port);
		tcp_syn_build(pkt[j], (struct sockaddr *)&s->src.ss, (struct sockaddr *)&to[j].ss,
			      tcp_scan_seq(s->secret, port));
		/* The port is in the segment; a raw IPv6 socket would read
		 * one in the address as a protocol number. */
		sock_addr_set_port(&to[j], 0);
		iov[j] = (struct iovec){pkt[j], TCP_SYN_LEN};
		m[j] = (struct mmsghdr){.msg_hdr = {.msg_name = &to[j].ss,
						    .msg_namelen = to[j].len,
						    .msg_iov = &iov[j],
						    .msg_iovlen = 1}};
	}
	/* not a stream: the raw socket the SYN probes go out on */
	int r = sendmmsg(s->fd, m, (unsigned)k, 0);
	if (r < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR)
			s->fail = errno;
		return 0;
	}
	return (size_t)r;
}

static void on_io(struct loop *l, int fd, int mask, void *arg);

static void receive(struct synscan *s)
{
	uint8_t buf[BATCH][PKTMAX];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	struct sockaddr_storage from[BATCH];
	for (;;) {
		for (int j = 0; j < BATCH; j++) {
			iov[j] = (struct iovec){buf[j], PKTMAX};
			m[j] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[j],
							    .msg_namelen = sizeof from[j],
							    .msg_iov = &iov[j],
							    .msg_iovlen = 1}};
		}
		/* not a stream: the raw socket the answers come in on */
		int r = recvmmsg(s->fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0) {
			if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				s->fail = errno;
			return;
		}
		for (int j = 0; j < r; j++) {
			struct tcp_answer a;
			size_t len = m[j].msg_len < PKTMAX ? m[j].msg_len : PKTMAX;
			if (s->dst.ss.ss_family == AF_INET6 &&
			    memcmp(&((struct sockaddr_in6 *)&from[j])->sin6_addr, s->dst_ip, 16))
				continue;
			if (tcp_answer_parse(s->dst.ss.ss_family, buf[j], len, s->dst_ip, &a) < 0 ||
			    a.kind == TCP_ANSWER_NONE || a.dport != s->sport)
				continue;
			uint32_t i = s->index[a.sport];
			if (i == NO_INDEX || !s->tries[i] ||
			    a.ack != tcp_scan_seq(s->secret, a.sport) + 1)
				continue;
			finish(s, i, a.kind == TCP_ANSWER_OPEN ? SCAN_OPEN : SCAN_CLOSED);
		}
		if (r < BATCH)
			return;
	}
}

/* Sends first SYNs while the window has room, draining answers between
 * batches so that the receive buffer never overflows. */
static void pump(struct synscan *s)
{
	int window = s->o->window > 0 ? s->o->window : 256;
	while (!s->fail && s->next < s->n && s->inflight < window) {
		size_t idx[BATCH], k = 0;
		while (k < BATCH && s->next + k < s->n && s->inflight + (int)k < window) {
			idx[k] = s->next + k;
			k++;
		}
		size_t sent = send_batch(s, idx, k);
		int64_t now = loop_now(s->l);
		for (size_t j = 0; j < sent; j++) {
			s->tries[idx[j]] = 1;
			s->first[idx[j]] = now;
		}
		s->inflight += (int)sent;
		s->next += sent;
		if (sent < k) {
			if (!s->want_write && !s->fail)
				loop_io_mask(s->l, s->fd, MUX_READ | MUX_WRITE);
			s->want_write = true;
			return;
		}
		receive(s);
	}
	if (s->want_write) {
		loop_io_mask(s->l, s->fd, MUX_READ);
		s->want_write = false;
	}
}

static void stop_on_failure(struct synscan *s)
{
	if (s->fail)
		loop_stop(s->l);
}

static void on_io(struct loop *l, int fd, int mask, void *arg)
{
	struct synscan *s = arg;
	(void)l, (void)fd;
	if (mask & MUX_READ)
		receive(s);
	pump(s);
	stop_on_failure(s);
}

/* Resends to silent ports at each third of the timeout and gives up on
 * them at the end of it. */
static void on_tick(struct loop *l, void *arg)
{
	struct synscan *s = arg;
	int64_t now = loop_now(l), t = s->o->timeout_ms;
	size_t again[BATCH], k = 0;
	while (s->lo < s->next && !s->tries[s->lo])
		s->lo++;
	for (size_t i = s->lo; i < s->next && !s->fail; i++) {
		if (!s->tries[i])
			continue;
		int64_t age = now - s->first[i];
		if (age >= t) {
			finish(s, i, SCAN_TIMEOUT);
		} else if (age >= t * s->tries[i] / TRIES) {
			again[k++] = i;
			if (k == BATCH) {
				for (size_t j = send_batch(s, again, k); j > 0; j--)
					s->tries[again[j - 1]]++;
				k = 0;
			}
		}
	}
	for (size_t j = k ? send_batch(s, again, k) : 0; j > 0; j--)
		s->tries[again[j - 1]]++;
	pump(s);
	stop_on_failure(s);
	if (s->lo < s->n)
		loop_timer_start(l, &s->tick, t / 6 < 10 ? 10 : t / 6 > 100 ? 100 : t / 6);
}

static int attach_filter(int fd, int family, uint16_t port)
{
	/* Keep only segments to our source port; the rest of the host's TCP
	 * traffic, our own SYNs included, never reaches user space. */
	struct sock_filter v4[] = {
	    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
	    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0xffff),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_filter v6[] = {
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0xffff),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog =
	    family == AF_INET ? (struct sock_fprog){5, v4} : (struct sock_fprog){4, v6};
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

/* The source address the kernel would use towards dst, and a TCP port on
 * it that stays reserved (bound, never listening) for the scan. */
static int pick_source(struct synscan *s, char *err, size_t errlen)
{
	int family = s->dst.ss.ss_family;
	int u = sock_socket(family, SOCK_DGRAM, 0);
	struct sock_addr d = s->dst;
	sock_addr_set_port(&d, 9);
	if (u < 0 || connect(u, (struct sockaddr *)&d.ss, d.len) < 0 ||
	    sock_local_addr(u, &s->src) < 0) {
		snprintf(err, errlen, "no route to the scanned host: %s", strerror(errno));
		if (u >= 0)
			close(u);
		return -1;
	}
	close(u);
	sock_addr_set_port(&s->src, 0);
	struct sock_addr bound;
	s->hold = sock_socket(family, SOCK_STREAM, 0);
	if (s->hold < 0 || bind(s->hold, (struct sockaddr *)&s->src.ss, s->src.len) < 0 ||
	    sock_local_addr(s->hold, &bound) < 0) {
		snprintf(err, errlen, "reserving a source port: %s", strerror(errno));
		return -1;
	}
	s->src = bound;
	s->sport = sock_addr_port(&bound);
	return 0;
}

static int setup(struct synscan *s, char *err, size_t errlen)
{
	int family = s->dst.ss.ss_family;
	if (family == AF_INET)
		memcpy(s->dst_ip, &((struct sockaddr_in *)&s->dst.ss)->sin_addr, 4);
	else
		memcpy(s->dst_ip, &((struct sockaddr_in6 *)&s->dst.ss)->sin6_addr, 16);
	s->fd = sock_socket(family, SOCK_RAW, IPPROTO_TCP);
	if (s->fd < 0) {
		snprintf(err, errlen, "raw socket: %s%s", strerror(errno),
			 errno == EPERM ? " (--syn needs root or CAP_NET_RAW)" : "");
		return -1;
	}
	if (pick_source(s, err, errlen) < 0)
		return -1;
	struct sock_addr raw = s->src;
	sock_addr_set_port(&raw, 0);
	if (bind(s->fd, (struct sockaddr *)&raw.ss, raw.len) < 0 ||
	    attach_filter(s->fd, family, s->sport) < 0) {
		snprintf(err, errlen, "raw socket: %s", strerror(errno));
		return -1;
	}
	/* Room for a window's answers; only privileged callers get past the
	 * system cap, and they are the only ones here. */
	int rcv = 4 << 20;
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	if (getrandom(&s->secret, sizeof s->secret, 0) != sizeof s->secret)
		s->secret = (uint32_t)getpid() * 2654435761u ^ (uint32_t)loop_now(s->l);
	s->index = malloc(65536 * sizeof *s->index);
	s->tries = calloc(s->n ? s->n : 1, 1);
	s->first = calloc(s->n ? s->n : 1, sizeof *s->first);
	if (!s->index || !s->tries || !s->first) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < 65536; i++)
		s->index[i] = NO_INDEX;
	for (size_t i = 0; i < s->n; i++)
		s->index[s->ports[i]] = (uint32_t)i;
	/* What arrived before the filter was attached is anybody's. */
	char junk[PKTMAX];
	/* not a stream: the raw socket */
	while (recv(s->fd, junk, sizeof junk, MSG_DONTWAIT) >= 0)
		;
	if (loop_io(s->l, s->fd, MUX_READ, on_io, s) < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int synscan_run(struct loop *l, const struct sock_addr *dst, const uint16_t *ports, size_t n,
		const struct synscan_opts *o, char *err, size_t errlen)
{
	struct synscan s = {
	    .l = l, .o = o, .fd = -1, .hold = -1, .dst = *dst, .ports = ports, .n = n};
	timer_init(&s.tick, on_tick, &s);
	int ret = -1;
	if (setup(&s, err, errlen) < 0)
		goto out;
	pump(&s);
	loop_timer_start(l, &s.tick, 10);
	/* On loopback every answer may be in before the loop starts. */
	bool done = s.next == s.n && s.inflight == 0;
	if (!s.fail && !done && loop_run(l) < 0)
		s.fail = errno;
	if (s.fail)
		snprintf(err, errlen, "raw socket: %s", strerror(s.fail));
	else
		ret = 0;
	loop_io(l, s.fd, 0, NULL, NULL);
out:
	loop_timer_stop(l, &s.tick);
	if (s.fd >= 0)
		close(s.fd);
	if (s.hold >= 0)
		close(s.hold);
	free(s.index);
	free(s.tries);
	free(s.first);
	return ret;
}
