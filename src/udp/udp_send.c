/* The udp-send engine (udp_send.h).
 *
 * Unicast destinations use a connect()ed socket: the kernel then drops
 * datagrams from strangers and reports ICMP port unreachable as
 * ECONNREFUSED. Broadcast and multicast use sendto() on an unconnected
 * socket, because their replies come from other addresses. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "net/stream.h"
#include "udp/hexpayload.h"
#include "udp/udp_send.h"

enum { BATCH = 64, SEND_BUDGET = 4096, RECV_BUDGET = 16 };

struct udp_send {
	struct loop *l;	   /* not owned */
	struct udp_dest d; /* owns d.fd */
	struct udp_send_config c;
	size_t maxdgram;
	unsigned char *fill; /* owned: BATCH filler buffers of c.size bytes */

	/* UDP_SRC_LINES: c.in read on the loop. */
	unsigned char *lbuf; /* owned, UDP_LINE_CAP */
	size_t llen;
	unsigned char *line; /* owned: the decoded hex line */
	uint64_t lineno;
	bool in_eof;

	/* Pacing. */
	int64_t start_us;
	struct timer pace;

	/* Replies. */
	bool sending_done;
	int rbatch;
	unsigned char *rbuf;	 /* owned, rbatch * c.recv_buffer */
	struct sock_addr *rfrom; /* owned, rbatch */
	struct timer wait;
	struct probe *probe; /* owned */
	uint64_t truncated;

	enum udp_err err;
	char errtext[512];
	enum udp_status status;
};

size_t udp_max_datagram(int family)
{
	return family == AF_INET ? UDP_MAX_IPV4 : family == AF_INET6 ? UDP_MAX_IPV6 : UDP_MAX_UNIX;
}

int udp_payload_read(struct stream *in, size_t max, struct udp_payload *p)
{
	p->len = 0;
	p->data = malloc(max + 1);
	if (!p->data)
		return -1;
	/* One byte more than fits tells "too large" from "exactly max". */
	while (p->len <= max) {
		ssize_t r = stream_read(in, p->data + p->len, max + 1 - p->len);
		if (r == 0)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			if (stream_wait(in, STREAM_READ, -1) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		if (r < 0)
			return -1;
		p->len += (size_t)r;
	}
	return 1;
}

static void finish(struct udp_send *u, enum udp_status status)
{
	if (u->status != UDP_RUNNING)
		return;
	u->status = status;
	loop_timer_stop(u->l, &u->pace);
	loop_timer_stop(u->l, &u->wait);
	if (u->c.on_done)
		u->c.on_done(u, u->c.arg);
}

/* Says a failure and keeps it for the result: the first one, but a
 * truncated reply gives way to a later failure of another kind. */
__attribute__((format(printf, 3, 0))) static void vsay(struct udp_send *u, enum udp_err kind,
						       const char *fmt, va_list ap)
{
	char line[sizeof u->errtext];
	vsnprintf(line, sizeof line, fmt, ap);
	log_error("%s", line);
	if (u->err == UDP_ERR_NONE || (u->err == UDP_ERR_TRUNCATED && kind != UDP_ERR_TRUNCATED)) {
		u->err = kind;
		snprintf(u->errtext, sizeof u->errtext, "%s", line);
	}
}

__attribute__((format(printf, 3, 4))) static void say(struct udp_send *u, enum udp_err kind,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(u, kind, fmt, ap);
	va_end(ap);
}

void udp_send_fail(struct udp_send *u, enum udp_err kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(u, kind, fmt, ap);
	va_end(ap);
	finish(u, UDP_FAILED);
}

/* The end of a run that got what it waited for: a cut reply still fails. */
static void finish_ok(struct udp_send *u)
{
	finish(u, u->truncated ? UDP_FAILED : UDP_OK);
}

/* The datagram socket is not a connection (no stream for it): its
 * readiness is watched here. */
static void set_mask(struct udp_send *u, int mask)
{
	if (loop_io_mask(u->l, u->d.fd, mask) < 0)
		udp_send_fail(u, UDP_ERR_OTHER, "event loop: %s", strerror(errno));
}

static void fail_errno(struct udp_send *u, const char *what, int e)
{
	if (e == ECONNREFUSED && u->d.dst.ss.ss_family != AF_UNIX)
		udp_send_fail(u, UDP_ERR_UNREACHABLE, "%s %s: port unreachable (ICMP: %s)", what,
			      u->d.text, strerror(e));
	else
		udp_send_fail(u, e == ECONNREFUSED ? UDP_ERR_UNREACHABLE : UDP_ERR_OTHER,
			      "%s %s: %s", what, u->d.text, strerror(e));
}

/* ---- sending ---- */

static void sending_finished(struct udp_send *u);
static void pump(struct udp_send *u);

static void bad_line(struct udp_send *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void bad_line(struct udp_send *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(u, UDP_ERR_BAD_INPUT, fmt, ap);
	va_end(ap);
	finish(u, UDP_BAD_INPUT);
}

/* The next input line as payload: 1 ready, 0 need input, -1 end, -2
 * error (said). */
static int next_line(struct udp_send *u, struct udp_payload *out)
{
	unsigned char *nl = memchr(u->lbuf, '\n', u->llen);
	size_t len;
	if (nl) {
		len = (size_t)(nl - u->lbuf);
	} else if (u->in_eof && u->llen > 0) {
		len = u->llen; /* a last line without its newline */
	} else if (u->in_eof) {
		return -1;
	} else if (u->llen == UDP_LINE_CAP) {
		bad_line(u, "%s line %" PRIu64 " is longer than %d bytes", u->c.in_name,
			 u->lineno + 1, UDP_LINE_CAP);
		return -2;
	} else {
		return 0;
	}
	if (u->c.hex) {
		char err[128];
		long n =
		    hex_decode((const char *)u->lbuf, len, u->line, u->maxdgram, err, sizeof err);
		if (n < 0) {
			bad_line(u, "%s line %" PRIu64 ": %s", u->c.in_name, u->lineno + 1, err);
			return -2;
		}
		out->data = u->line;
		out->len = (size_t)n;
	} else {
		if (len > u->maxdgram) {
			bad_line(u,
				 "%s line %" PRIu64 " is %zu bytes; the largest %s datagram is %zu",
				 u->c.in_name, u->lineno + 1, len,
				 sock_proto_name(u->d.dst.ss.ss_family, SOCK_DGRAM), u->maxdgram);
			return -2;
		}
		out->data = u->lbuf;
		out->len = len;
	}
	return 1;
}

static void consume_line(struct udp_send *u)
{
	unsigned char *nl = memchr(u->lbuf, '\n', u->llen);
	size_t used = nl ? (size_t)(nl - u->lbuf) + 1 : u->llen;
	memmove(u->lbuf, u->lbuf + used, u->llen - used);
	u->llen -= used;
	u->lineno++;
}

static void on_input(struct stream *s, int ready, void *arg)
{
	(void)ready;
	struct udp_send *u = arg;
	ssize_t r = stream_read(s, u->lbuf + u->llen, UDP_LINE_CAP - u->llen);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r < 0) {
		udp_send_fail(u, UDP_ERR_OTHER, "read %s: %s", u->c.in_name, strerror(errno));
		return;
	}
	if (r == 0)
		u->in_eof = true;
	u->llen += (size_t)r;
	/* Read again only when the lines held are sent: pacing and a full
	 * socket buffer hold the input back. */
	stream_want(s, 0);
	pump(u);
}

/* How many datagrams pacing allows now; 0 arms the pacing timer. */
static uint64_t pace_allowance(struct udp_send *u)
{
	if (u->c.interval_ms <= 0 && u->c.rate <= 0)
		return BATCH;
	if (u->probe->sent == 0)
		return 1;
	int64_t elapsed = clock_us() - u->start_us;
	if (u->c.interval_ms > 0) {
		int64_t next = (int64_t)u->probe->sent * u->c.interval_ms * 1000;
		if (elapsed >= next)
			return 1;
		loop_timer_start(u->l, &u->pace, (next - elapsed + 999) / 1000);
		return 0;
	}
	double due = (double)elapsed * u->c.rate / 1e6 + 1.0;
	if (due >= (double)u->probe->sent + 1.0) {
		double allow = due - (double)u->probe->sent;
		return allow > BATCH ? BATCH : (uint64_t)allow;
	}
	double next_us = (double)u->probe->sent * 1e6 / u->c.rate;
	int64_t wait = (int64_t)((next_us - (double)elapsed) / 1000.0) + 1;
	loop_timer_start(u->l, &u->pace, wait);
	return 0;
}

/* Sends n datagrams starting with number probe->sent; returns how many
 * went, or -1 with errno. */
static int send_batch(struct udp_send *u, const struct udp_payload *line, int n)
{
	struct iovec iov[BATCH];
	uint64_t first = u->probe->sent;
	for (int i = 0; i < n; i++) {
		if (line) {
			iov[i] = (struct iovec){line->data, line->len};
		} else if (u->c.src == UDP_SRC_FILLER) {
			unsigned char *b = u->fill + (size_t)i * u->c.size;
			udp_filler_set_seq(b, u->c.size, first + (uint64_t)i);
			iov[i] = (struct iovec){b, u->c.size};
		} else {
			const struct udp_payload *p =
			    &u->c.payloads[(first + (uint64_t)i) % u->c.npayloads];
			iov[i] = (struct iovec){p->data, p->len};
		}
	}
	struct sockaddr *to = u->d.group ? (struct sockaddr *)&u->d.dst.ss : NULL;
	socklen_t tolen = u->d.group ? u->d.dst.len : 0;
#ifdef HAVE_SENDMMSG
	if (n > 1) {
		struct mmsghdr mm[BATCH];
		memset(mm, 0, sizeof(struct mmsghdr) * (size_t)n);
		for (int i = 0; i < n; i++) {
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = to;
			mm[i].msg_hdr.msg_namelen = tolen;
		}
		/* not a stream: datagram socket */
		return sendmmsg(u->d.fd, mm, (unsigned)n, 0);
	}
#endif
	int sent = 0;
	for (; sent < n; sent++) {
		/* not a stream: datagram socket */
		if (sendto(u->d.fd, iov[sent].iov_base, iov[sent].iov_len, 0, to, tolen) < 0)
			return sent ? sent : -1;
	}
	return sent;
}

/* Waits for input lines: the socket only for replies meanwhile. */
static void want_input(struct udp_send *u)
{
	set_mask(u, MUX_READ);
	if (u->status == UDP_RUNNING && stream_want(u->c.in, STREAM_READ) < 0)
		udp_send_fail(u, UDP_ERR_OTHER, "watch %s: %s", u->c.in_name, strerror(errno));
}

static void pump(struct udp_send *u)
{
	int budget = SEND_BUDGET;
	while (u->status == UDP_RUNNING && !u->sending_done) {
		if (budget <= 0) {
			/* Let replies in; level-triggered writability brings
			 * us back on the next iteration. */
			set_mask(u, MUX_READ | MUX_WRITE);
			return;
		}
		uint64_t allow = pace_allowance(u);
		if (allow == 0) {
			set_mask(u, MUX_READ);
			return;
		}
		struct udp_payload line, *lp = NULL;
		if (u->c.src == UDP_SRC_LINES) {
			int r = next_line(u, &line);
			if (r == -2)
				return;
			if (r == -1) {
				sending_finished(u);
				return;
			}
			if (r == 0) {
				want_input(u);
				return;
			}
			lp = &line;
			allow = 1;
		} else if (u->c.count - u->probe->sent < allow) {
			allow = u->c.count - u->probe->sent;
		}
		int n = send_batch(u, lp, (int)allow);
		if (n < 0) {
			if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
				set_mask(u, MUX_READ | MUX_WRITE);
				return;
			}
			fail_errno(u, "send to", errno);
			return;
		}
		int64_t t = clock_us();
		if (u->probe->sent == 0)
			u->start_us = t;
		for (int i = 0; i < n; i++)
			probe_sent(u->probe, t);
		budget -= n;
		if (lp)
			consume_line(u);
		else if (u->probe->sent == u->c.count)
			sending_finished(u);
	}
}

static bool replies_complete(const struct udp_send *u)
{
	if (u->c.want)
		return u->probe->received >= u->c.want;
	/* Many hosts may answer a group: wait out the whole wait. */
	return !u->d.group && u->probe->received >= u->probe->sent;
}

static void sending_finished(struct udp_send *u)
{
	u->sending_done = true;
	set_mask(u, MUX_READ);
	if (u->c.wait_ms == 0 || replies_complete(u))
		finish_ok(u);
	else
		loop_timer_start(u->l, &u->wait, u->c.wait_ms);
}

static void on_pace(struct loop *l, void *arg)
{
	(void)l;
	pump(arg);
}

static void on_wait_timeout(struct loop *l, void *arg)
{
	(void)l;
	struct udp_send *u = arg;
	if (u->d.group && !u->c.want && u->probe->received > 0) {
		finish_ok(u);
		return;
	}
	uint64_t want = u->c.want ? u->c.want : u->probe->sent;
	char secs[32];
	snprintf(secs, sizeof secs, "%g s", u->c.wait_ms / 1000.0);
	if (u->probe->received == 0)
		udp_send_fail(u, UDP_ERR_TIMEOUT, "timeout: no reply from %s within %s", u->d.text,
			      secs);
	else
		udp_send_fail(u, UDP_ERR_TIMEOUT,
			      "timeout: %" PRIu64 " of %" PRIu64 " replies from %s within %s",
			      u->probe->received, want, u->d.text, secs);
}

/* ---- replies ---- */

static void got_reply(struct udp_send *u, const unsigned char *data, size_t len, size_t full,
		      const struct sock_addr *from)
{
	if (len < full) {
		char a[SOCK_ADDRSTRLEN];
		say(u, UDP_ERR_TRUNCATED,
		    "reply from %s truncated: %zu bytes received of %zu (raise --recv-buffer)",
		    sock_addr_str((const struct sockaddr *)&from->ss, from->len, a, sizeof a), len,
		    full);
		u->truncated++;
	}
	struct udp_reply r = {.data = data, .len = len, .size = full, .from = from, .rtt_us = -1};
	r.seq_known =
	    u->c.src == UDP_SRC_FILLER && len == u->c.size && udp_filler_seq(data, len, &r.seq);
	int64_t sum = u->probe->rtt_sum;
	if (probe_reply(u->probe, r.seq_known, r.seq, clock_us()))
		r.rtt_us = u->probe->rtt_sum - sum;
	if (u->c.on_reply)
		u->c.on_reply(u, &r, u->c.arg);
	/* want N stops at N, even in the middle of a batch. */
	if (u->c.want && u->probe->received >= u->c.want)
		finish_ok(u);
}

/* One batch of replies: how many came, or -1 with errno. */
static int recv_batch(struct udp_send *u)
{
	size_t cap = u->c.recv_buffer;
#ifdef HAVE_RECVMMSG
	/* MSG_TRUNC: the length returned is the datagram's full length, so
	 * a cut is seen and reported. */
	struct iovec iov[BATCH];
	struct mmsghdr mm[BATCH];
	memset(mm, 0, sizeof(struct mmsghdr) * (size_t)u->rbatch);
	for (int i = 0; i < u->rbatch; i++) {
		iov[i] = (struct iovec){u->rbuf + (size_t)i * cap, cap};
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &u->rfrom[i].ss;
		mm[i].msg_hdr.msg_namelen = sizeof u->rfrom[i].ss;
	}
	/* not a stream: datagram socket */
	int n = recvmmsg(u->d.fd, mm, (unsigned)u->rbatch, MSG_TRUNC, NULL);
	for (int i = 0; i < n && u->status == UDP_RUNNING; i++) {
		size_t full = mm[i].msg_len;
		bool trunc = (mm[i].msg_hdr.msg_flags & MSG_TRUNC) || full > cap;
		u->rfrom[i].len = mm[i].msg_hdr.msg_namelen;
		got_reply(u, iov[i].iov_base, trunc ? cap : full, full, &u->rfrom[i]);
	}
	return n;
#else
	u->rfrom[0].len = sizeof u->rfrom[0].ss;
	/* not a stream: datagram socket */
	ssize_t r = recvfrom(u->d.fd, u->rbuf, cap, MSG_TRUNC, (struct sockaddr *)&u->rfrom[0].ss,
			     &u->rfrom[0].len);
	if (r < 0)
		return -1;
	got_reply(u, u->rbuf, (size_t)r > cap ? cap : (size_t)r, (size_t)r, &u->rfrom[0]);
	return 1;
#endif
}

static void on_socket(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	(void)fd;
	struct udp_send *u = arg;
	if (mask & MUX_READ) {
		for (int round = 0; round < RECV_BUDGET && u->status == UDP_RUNNING; round++) {
			int n = recv_batch(u);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				fail_errno(u, "receive from", errno);
				return;
			}
			if (u->c.on_batch)
				u->c.on_batch(u, u->c.arg);
			if (u->status != UDP_RUNNING)
				return;
			if (u->sending_done && replies_complete(u)) {
				finish_ok(u);
				return;
			}
			if (n < u->rbatch)
				break;
		}
	}
	if ((mask & MUX_WRITE) && u->status == UDP_RUNNING && !u->sending_done)
		pump(u);
}

/* ---- set-up ---- */

struct udp_send *udp_send_new(struct loop *l, struct udp_dest *d, const struct udp_send_config *c,
			      char *err, size_t errlen)
{
	struct udp_send *u = calloc(1, sizeof *u);
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	u->l = l;
	u->c = *c;
	if (!u->c.in_name)
		u->c.in_name = "input";
	u->maxdgram = udp_max_datagram(d->dst.ss.ss_family);
	u->d.fd = -1;
	bool oom = false;
	if (c->src == UDP_SRC_FILLER) {
		u->fill = malloc((c->size ? c->size : 1) * BATCH);
		oom |= !u->fill;
		for (int i = 0; u->fill && i < BATCH; i++)
			udp_filler(u->fill + (size_t)i * c->size, c->size, 0);
	} else if (c->src == UDP_SRC_LINES) {
		u->lbuf = malloc(UDP_LINE_CAP);
		u->line = malloc(u->maxdgram);
		oom |= !u->lbuf || !u->line;
	}
	u->rbatch = c->recv_buffer > 65536 ? 1 : (int)((2u << 20) / c->recv_buffer);
	if (u->rbatch > BATCH)
		u->rbatch = BATCH;
	u->rbuf = malloc(c->recv_buffer * (size_t)u->rbatch);
	u->rfrom = calloc((size_t)u->rbatch, sizeof *u->rfrom);
	u->probe = malloc(sizeof *u->probe);
	if (oom || !u->rbuf || !u->rfrom || !u->probe) {
		snprintf(err, errlen, "out of memory");
		udp_send_free(u);
		return NULL;
	}
	probe_init(u->probe);
	timer_init(&u->pace, on_pace, u);
	timer_init(&u->wait, on_wait_timeout, u);
	if (loop_io(l, d->fd, MUX_READ | MUX_WRITE, on_socket, u) < 0) {
		snprintf(err, errlen, "event loop: socket %d: %s", d->fd, strerror(errno));
		udp_send_free(u);
		return NULL;
	}
	/* Big enough to keep a burst of replies rather than drop it. */
	int rcvbuf = 4 << 20;
	setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	u->d = *d;
	d->fd = -1;
	d->unlink_path[0] = '\0';
	if (c->src == UDP_SRC_LINES)
		stream_set_cb(c->in, on_input, u);
	return u;
}

void udp_send_start(struct udp_send *u)
{
	pump(u);
}

bool udp_send_done(const struct udp_send *u)
{
	return u->status != UDP_RUNNING;
}

void udp_send_get_result(const struct udp_send *u, struct udp_send_result *r)
{
	*r = (struct udp_send_result){.status = u->status,
				      .err = u->err,
				      .errtext = u->errtext,
				      .probe = u->probe,
				      .truncated = u->truncated};
}

const struct udp_dest *udp_send_dest(const struct udp_send *u)
{
	return &u->d;
}

void udp_send_free(struct udp_send *u)
{
	if (!u)
		return;
	loop_timer_stop(u->l, &u->pace);
	loop_timer_stop(u->l, &u->wait);
	if (u->d.fd >= 0)
		loop_io(u->l, u->d.fd, 0, NULL, NULL);
	udp_dest_close(&u->d);
	if (u->c.src == UDP_SRC_LINES && u->c.in) {
		stream_want(u->c.in, 0);
		stream_set_cb(u->c.in, NULL, NULL);
	}
	free(u->fill);
	free(u->lbuf);
	free(u->line);
	free(u->rbuf);
	free(u->rfrom);
	free(u->probe);
	free(u);
}
