/* forward -u: datagrams. Every client address gets a session: a socket
 * of its own connected to the target, so the target's answers on it go
 * back to that client only. A session ends after idle_ms without a
 * datagram either way; at most max_conns live at once (the datagrams of
 * a client beyond that are dropped, and counted). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "forward/fault_dgram.h"
#include "forward/forward_int.h"
#include "net/acl.h"
#include "net/hexlog.h"
#include "net/sockopt.h"
#include "net/stream.h"

#define DGRAM_MAX   65535
#define NBUCKETS    1024
#define BATCH	    64
#define UDP_IDLE_MS 60000
#define UDP_MAX	    1024

struct fwd_udp_sess {
	struct fwd_udp *u;
	struct fwd_udp_sess *prev, *next; /* every session */
	struct fwd_udp_sess *hnext;	  /* the bucket's */
	struct sock_addr peer;
	char peer_text[SOCK_ADDRSTRLEN];
	struct stream *up; /* the socket connected to the target; owned */
	struct timer idle;
	int64_t start_ms, last_ms;
	uint64_t up_n, down_n, up_bytes, down_bytes;
	/* With faults: each direction's datagrams go through its queue
	 * (loss, duplication, reordering, delay), which sends them. */
	bool faulty;
	struct fault_dgram_q fq[2]; /* [FAULT_UP], [FAULT_DOWN] */
};

struct fwd_udp {
	struct forward *f;
	struct sock_addr target;
	struct fwd_udp_sess *all;
	struct fwd_udp_sess *buckets[NBUCKETS];
	size_t n;
	int idle_ms;
	long max;
	bool watched;
	unsigned char buf[DGRAM_MAX + 1];
};

/* The address bytes that tell clients apart (family, port, address). */
static unsigned hash_addr(const struct sock_addr *a)
{
	const unsigned char *p = (const unsigned char *)&a->ss;
	unsigned h = 2166136261u;
	for (socklen_t i = 0; i < a->len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % NBUCKETS;
}

static bool same_addr(const struct sock_addr *a, const struct sock_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static void sess_end(struct fwd_udp_sess *s, const char *how)
{
	struct fwd_udp *u = s->u;
	struct forward *f = u->f;
	if (log_wants(LOG_LVL_INFO))
		log_info("%s -> %s: up %llu datagrams (%llu bytes), down %llu datagrams (%llu "
			 "bytes) in %.3f s, %s",
			 s->peer_text, f->cfg.target_name ? f->cfg.target_name : "the target",
			 (unsigned long long)s->up_n, (unsigned long long)s->up_bytes,
			 (unsigned long long)s->down_n, (unsigned long long)s->down_bytes,
			 (double)(loop_now(f->loop) - s->start_ms) / 1000.0, how);
	f->res.up += s->up_bytes;
	f->res.down += s->down_bytes;
	f->res.datagrams += s->up_n;
	loop_timer_stop(f->loop, &s->idle);
	if (s->faulty) {
		fault_dgram_q_clear(&s->fq[FAULT_UP]);
		fault_dgram_q_clear(&s->fq[FAULT_DOWN]);
	}
	stream_close(s->up);
	struct fwd_udp_sess **pp = &u->buckets[hash_addr(&s->peer)];
	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	if (s->prev)
		s->prev->next = s->next;
	else
		u->all = s->next;
	if (s->next)
		s->next->prev = s->prev;
	u->n--;
	free(s);
}

static void on_idle(struct loop *l, void *arg)
{
	struct fwd_udp_sess *s = arg;
	int64_t left = s->last_ms + s->u->idle_ms - loop_now(l);
	if (left > 0) {
		loop_timer_start(l, &s->idle, left);
		return;
	}
	sess_end(s, "expired");
}

/* One datagram to the target, and one answer back to the client: what
 * the faults send (or the datagram itself, without them). */
static void send_up(void *arg, const void *p, size_t n)
{
	struct fwd_udp_sess *s = arg;
	struct forward *f = s->u->f;
	if (stream_write(s->up, p, n) < 0) {
		if (errno != EAGAIN && errno != ECONNREFUSED)
			log_info("%s: send to %s: %s", s->peer_text, f->cfg.target_name,
				 strerror(errno));
		f->res.refused++;
		return;
	}
	s->up_n++;
	s->up_bytes += n;
}

static void send_down(void *arg, const void *p, size_t n)
{
	struct fwd_udp_sess *s = arg;
	struct forward *f = s->u->f;
	/* not a stream: the datagram server's socket, one answer to its client */
	ssize_t w = sendto(f->cfg.lfd, p, n, MSG_DONTWAIT, (const struct sockaddr *)&s->peer.ss,
			   s->peer.len);
	if (w < 0) {
		/* A full send buffer drops it, as a network would. */
		f->res.refused++;
		return;
	}
	s->down_n++;
	s->down_bytes += n;
}

/* A datagram in the direction dir: through the faults, if any (while
 * the control socket holds the forwarder down, they drop it). */
static void pass(struct fwd_udp_sess *s, int dir, const void *p, size_t n)
{
	if (!s->faulty) {
		(dir == FAULT_UP ? send_up : send_down)(s, p, n);
		return;
	}
	fault_dgram_q_put(&s->fq[dir], p, n);
}

/* The target's answers: each goes back to this session's client. */
static void on_answer(struct stream *st, int ready, void *arg)
{
	(void)ready;
	struct fwd_udp_sess *s = arg;
	struct fwd_udp *u = s->u;
	struct forward *f = u->f;
	for (int i = 0; i < BATCH; i++) {
		ssize_t n = stream_read(st, u->buf, DGRAM_MAX);
		if (n < 0) {
			/* The target's port unreachable comes back as the error
			 * of a later read: the session stays, a datagram may yet
			 * be answered. */
			if (errno == ECONNREFUSED)
				log_info("%s -> %s: Connection refused (port unreachable)",
					 s->peer_text, f->cfg.target_name);
			else if (errno != EAGAIN && errno != EINTR)
				log_info("%s: recv: %s", s->peer_text, strerror(errno));
			return;
		}
		s->last_ms = loop_now(f->loop);
		if (f->cfg.log)
			hexlog_data(f->cfg.log, HEXLOG_RECV, u->buf, (size_t)n);
		pass(s, FAULT_DOWN, u->buf, (size_t)n);
	}
}

static struct fwd_udp_sess *sess_new(struct fwd_udp *u, const struct sock_addr *peer)
{
	struct forward *f = u->f;
	const struct sockaddr *ta = (const struct sockaddr *)&u->target.ss;
	int fd = sock_socket(ta->sa_family, SOCK_DGRAM, 0);
	char err[300];
	if (fd < 0 || (f->cfg.so && sockopt_apply_early(f->cfg.so, fd, err, sizeof err) < 0) ||
	    (f->cfg.so && sockopt_apply(f->cfg.so, fd, err, sizeof err) < 0)) {
		if (fd >= 0)
			close(fd);
		log_error("%s", fd < 0 ? strerror(errno) : err);
		return NULL;
	}
	if (sock_connect_start(fd, ta, u->target.len) < 0) {
		log_error("connect %s: %s", f->cfg.target_name, strerror(errno));
		close(fd);
		return NULL;
	}
	struct fwd_udp_sess *s = calloc(1, sizeof *s);
	struct stream *st = s ? stream_fd_new(f->loop, fd, STREAM_F_OWN) : NULL;
	if (!st) {
		free(s);
		close(fd);
		log_error("forward: out of memory");
		return NULL;
	}
	s->u = u;
	s->up = st;
	s->peer = *peer;
	sock_addr_str((const struct sockaddr *)&peer->ss, peer->len, s->peer_text,
		      sizeof s->peer_text);
	s->start_ms = s->last_ms = loop_now(f->loop);
	stream_set_cb(st, on_answer, s);
	if (stream_want(st, STREAM_READ) < 0) {
		log_error("%s: cannot watch its socket: %s", s->peer_text, strerror(errno));
		stream_close(st);
		free(s);
		return NULL;
	}
	timer_init(&s->idle, on_idle, s);
	loop_timer_start(f->loop, &s->idle, u->idle_ms);
	if (f->cfg.faults) {
		s->faulty = true;
		fault_dgram_q_init(&s->fq[FAULT_UP], f->loop, f->cfg.faults, FAULT_UP, send_up, s);
		fault_dgram_q_init(&s->fq[FAULT_DOWN], f->loop, f->cfg.faults, FAULT_DOWN,
				   send_down, s);
	}
	unsigned h = hash_addr(peer);
	s->hnext = u->buckets[h];
	u->buckets[h] = s;
	s->next = u->all;
	if (u->all)
		u->all->prev = s;
	u->all = s;
	u->n++;
	f->res.connections++;
	log_info("%s: new session to %s", s->peer_text, f->cfg.target_name);
	return s;
}

static struct fwd_udp_sess *sess_find(struct fwd_udp *u, const struct sock_addr *peer)
{
	for (struct fwd_udp_sess *s = u->buckets[hash_addr(peer)]; s; s = s->hnext)
		if (same_addr(&s->peer, peer))
			return s;
	return NULL;
}

/* Why a datagram from peer is dropped, or NULL. */
static const char *drop_why(struct fwd_udp *u, const struct sock_addr *peer)
{
	const struct forward_cfg *k = &u->f->cfg;
	if (k->acl && !acl_permits(k->acl, (const struct sockaddr *)&peer->ss))
		return "not allowed by --allow/--deny";
	if (u->n >= (size_t)u->max)
		return "session limit (-m) reached";
	return NULL;
}

static void on_datagram(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	(void)mask;
	struct fwd_udp *u = arg;
	struct forward *f = u->f;
	for (int i = 0; i < BATCH; i++) {
		struct sock_addr from;
		from.len = sizeof from.ss;
		/* not a stream: the datagram server's socket, a client per datagram */
		ssize_t n = recvfrom(fd, u->buf, sizeof u->buf, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from.ss, &from.len);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED)
				log_error("recvfrom: %s", strerror(errno));
			return;
		}
		size_t len = (size_t)n > DGRAM_MAX ? DGRAM_MAX : (size_t)n;
		struct fwd_udp_sess *s = sess_find(u, &from);
		const char *why = s ? NULL : drop_why(u, &from);
		if (!s && !why && !(s = sess_new(u, &from)))
			why = "no session could be made";
		if (why) {
			/* Dropped unanswered: an answer would make us a reflector
			 * for forged senders. */
			f->res.refused++;
			if (log_wants(LOG_LVL_INFO)) {
				char a[SOCK_ADDRSTRLEN];
				log_info("dropped datagram of %zu bytes from %s: %s", len,
					 sock_addr_str((const struct sockaddr *)&from.ss, from.len,
						       a, sizeof a),
					 why);
			}
			continue;
		}
		s->last_ms = loop_now(f->loop);
		if (f->cfg.log)
			hexlog_data(f->cfg.log, HEXLOG_SENT, u->buf, len);
		pass(s, FAULT_UP, u->buf, len);
	}
}

int fwd_udp_start(struct forward *f, char *err, size_t errlen)
{
	struct fwd_udp *u = calloc(1, sizeof *u);
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	u->f = f;
	f->udp = u;
	u->idle_ms = f->cfg.ro.idle_ms > 0 ? f->cfg.ro.idle_ms : UDP_IDLE_MS;
	u->max = f->cfg.max_conns > 0 ? f->cfg.max_conns : UDP_MAX;
	/* Resolved once: every session goes to the same address. */
	struct addrinfo *res;
	if (sock_resolve(&f->cfg.target, false, &res, err, errlen) < 0)
		return -1;
	memcpy(&u->target.ss, res->ai_addr, res->ai_addrlen);
	u->target.len = res->ai_addrlen;
	sock_freeaddrinfo(res);
	if (loop_io(f->loop, f->cfg.lfd, MUX_READ, on_datagram, u) < 0) {
		snprintf(err, errlen, "watch socket: %s", strerror(errno));
		return -1;
	}
	u->watched = true;
	return 0;
}

void fwd_udp_result(const struct forward *f, struct forward_result *r)
{
	if (!f->udp)
		return;
	for (const struct fwd_udp_sess *s = f->udp->all; s; s = s->next) {
		r->up += s->up_bytes;
		r->down += s->down_bytes;
		r->datagrams += s->up_n;
	}
}

void fwd_udp_free(struct forward *f)
{
	struct fwd_udp *u = f->udp;
	if (!u)
		return;
	while (u->all)
		sess_end(u->all, "stopped");
	if (u->watched)
		loop_io(f->loop, f->cfg.lfd, 0, NULL, NULL);
	free(u);
	f->udp = NULL;
}
