#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <netinet/in.h>

#include "scan/portspec.h"
#include "scan/scan.h"
#include "net/sock.h"
#include "scan/synscan.h"

struct scan;
struct scan_slot {
	struct scan *s;
	int fd;	   /* owned; -1 when idle */
	int spare; /* owned; a socket whose connect was refused, to reuse */
	bool watched;
	bool met_scan; /* another of our sockets connected to this one */
	size_t idx;
	struct timer timer;
};

struct scan {
	struct loop *l;
	const struct scan_opts *o;
	const char *host;
	char addrtext[SOCK_ADDRSTRLEN];
	struct sock_addr addr;
	struct portspec ps;
	uint8_t *state; /* owned; SCAN_* per port */
	int *err;	/* owned; errno per port for SCAN_ERROR */
	size_t next_start, next_print;
	struct scan_slot *slots; /* owned */
	int nslots, inflight;
	bool any_open;
	int loop_err;
};

int scan_classify(int err)
{
	switch (err) {
	case 0:
		return SCAN_OPEN;
	case ECONNREFUSED:
	case ECONNRESET:
		return SCAN_CLOSED;
	case ETIMEDOUT:
		return SCAN_TIMEOUT;
	default:
		return SCAN_ERROR;
	}
}

const char *scan_state_name(int state)
{
	static const char *const names[] = {"pending", "open", "closed", "timeout", "error"};
	return state >= 0 && state <= SCAN_ERROR ? names[state] : "error";
}

void scan_format(struct sbuf *b, const struct scan_result *r, bool json)
{
	if (json) {
		sb_puts(b, "{\"host\":");
		json_str(b, r->host);
		sb_puts(b, ",\"address\":");
		json_str(b, r->address);
		sb_printf(b, ",\"port\":%u,\"state\":\"%s\"", r->port, scan_state_name(r->state));
		if (r->state == SCAN_ERROR) {
			sb_puts(b, ",\"error\":");
			json_str(b, strerror(r->err));
		}
		sb_puts(b, "}\n");
	} else if (r->state == SCAN_ERROR) {
		sb_printf(b, "%s %u error: %s\n", r->host, r->port, strerror(r->err));
	} else {
		sb_printf(b, "%s %u %s\n", r->host, r->port, scan_state_name(r->state));
	}
}

static void report_ready(struct scan *s)
{
	while (s->next_print < s->ps.n && s->state[s->next_print] != SCAN_PENDING) {
		size_t i = s->next_print++;
		struct scan_result r = {.host = s->host,
					.address = s->addrtext,
					.port = s->ps.ports[i],
					.state = s->state[i],
					.err = s->err[i]};
		if (s->o->result)
			s->o->result(s->o->arg, &r);
	}
	if (s->next_print == s->ps.n)
		loop_stop(s->l);
}

static void fill(struct scan *s);

/* Stores the outcome of port sl->idx and ends the slot's attempt. A
 * socket whose connect was refused is kept: Linux lets a TCP socket in
 * the CLOSE state connect again, which saves a socket() and a close() per
 * closed port, the common case of a scan. */
static void record_as(struct scan *s, struct scan_slot *sl, int err, bool reusable)
{
	int st = scan_classify(err);
	s->state[sl->idx] = (uint8_t)st;
	s->err[sl->idx] = err;
	if (st == SCAN_OPEN)
		s->any_open = true;
	if (sl->fd >= 0) {
		if (sl->watched) {
			loop_io(s->l, sl->fd, 0, NULL, NULL);
			sl->watched = false;
			s->inflight--;
		}
		if (reusable && sl->spare < 0)
			sl->spare = sl->fd;
		else
			close(sl->fd);
		sl->fd = -1;
	}
	loop_timer_stop(s->l, &sl->timer);
}

static void record(struct scan *s, struct scan_slot *sl, int err)
{
	record_as(s, sl, err, err == ECONNREFUSED);
}

/* A connect to a port of the local host's ephemeral range can be given
 * that very port as its source, and TCP's simultaneous open then connects
 * the socket to itself although nothing listens; two of the scan's own
 * sockets can likewise meet each other. Either way the port is closed. */
static bool connected_to_scan(struct scan *s, int fd)
{
	struct sock_addr peer, me;
	if (sock_peer_addr(fd, &peer) < 0)
		return false;
	for (int i = 0; i < s->nslots; i++) {
		int other = s->slots[i].fd;
		if (other >= 0 && sock_local_addr(other, &me) == 0 && me.len == peer.len &&
		    memcmp(&me.ss, &peer.ss, me.len) == 0) {
			s->slots[i].met_scan = true; /* its turn comes */
			return true;
		}
	}
	return false;
}

static void record_connected(struct scan *s, struct scan_slot *sl)
{
	if (sl->met_scan || connected_to_scan(s, sl->fd))
		record_as(s, sl, ECONNREFUSED, false);
	else
		record(s, sl, 0);
}

static void on_writable(struct loop *l, int fd, int mask, void *arg)
{
	struct scan_slot *sl = arg;
	struct scan *s = sl->s;
	int e = sock_connect_result(fd);
	struct sock_addr peer;
	/* Writable with no error but no peer: a spurious wake-up, the
	 * connect is still in progress. */
	if (e == 0 && sock_peer_addr(fd, &peer) < 0 && errno == ENOTCONN)
		return;
	if (e == 0)
		record_connected(s, sl);
	else
		record(s, sl, e);
	fill(s);
	report_ready(s);
}

static void on_timeout(struct loop *l, void *arg)
{
	struct scan_slot *sl = arg;
	struct scan *s = sl->s;
	record(s, sl, ETIMEDOUT);
	fill(s);
	report_ready(s);
}

/* Starts the connect for port idx in an idle slot. Returns 1 when it is in
 * flight, 0 when the outcome is already recorded. */
static int start_one(struct scan *s, struct scan_slot *sl, size_t idx)
{
	sl->idx = idx;
	sl->met_scan = false;
	struct sock_addr a = s->addr;
	sock_addr_set_port(&a, s->ps.ports[idx]);
	int fd = sl->spare;
	sl->spare = -1;
	if (fd < 0 && (fd = sock_socket(a.ss.ss_family, SOCK_STREAM, 0)) < 0) {
		record(s, sl, errno);
		return 0;
	}
	sl->fd = fd;
	const struct sockaddr *sa = (const struct sockaddr *)&a.ss;
	if (connect(fd, sa, a.len) == 0) {
		record_connected(s, sl);
		return 0;
	}
	if (errno != EINPROGRESS) {
		record(s, sl, errno);
		return 0;
	}
	/* On loopback and fast links the answer is often there already: a
	 * second connect() reports it (EISCONN or the refusal) in one call,
	 * with no round through the loop. */
	if (connect(fd, sa, a.len) == 0 || errno == EISCONN) {
		record_connected(s, sl);
		return 0;
	}
	if (errno != EALREADY && errno != EINPROGRESS) {
		record(s, sl, errno);
		return 0;
	}
	if (loop_io(s->l, fd, MUX_WRITE, on_writable, sl) < 0) {
		record(s, sl, errno);
		return 0;
	}
	sl->watched = true;
	s->inflight++;
	loop_timer_start(s->l, &sl->timer, s->o->timeout_ms > 0 ? s->o->timeout_ms : 3000);
	return 1;
}

static void fill(struct scan *s)
{
	for (int i = 0; i < s->nslots && s->next_start < s->ps.n; i++) {
		struct scan_slot *sl = &s->slots[i];
		while (sl->fd < 0 && s->next_start < s->ps.n)
			start_one(s, sl, s->next_start++);
	}
}

static void syn_result(void *arg, size_t idx, int state)
{
	struct scan *s = arg;
	s->state[idx] = (uint8_t)state;
	if (state == SCAN_OPEN)
		s->any_open = true;
	report_ready(s);
}

static int pick_parallel(struct loop *l, int want, size_t nports)
{
	int n = want > 0 ? want : 256;
	/* Leave room for stdio, the loop's own fds and the caller's. */
	int lim = loop_fd_limit(l);
	if (lim > 0 && n > lim - 32)
		n = lim - 32;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)n > rl.rlim_cur - 32)
		n = (int)rl.rlim_cur - 32;
	if ((size_t)n > nports)
		n = (int)nports;
	return n < 1 ? 1 : n;
}

int scan_run(struct loop *l, const char *host, const char *ports, const struct scan_opts *o)
{
	struct scan s = {.l = l, .o = o, .host = host};
	char e[SOCK_ERRLEN];
	if (portspec_parse(ports, SOCK_STREAM, &s.ps, e, sizeof e) < 0) {
		snprintf(o->err, o->errlen, "%s", e);
		return -1;
	}
	struct sock_endpoint ep = {.host = host,
				   .port = "1",
				   .family = o->family,
				   .socktype = SOCK_STREAM,
				   .numeric = o->numeric};
	struct addrinfo *res;
	if (sock_resolve(&ep, false, &res, e, sizeof e) < 0) {
		snprintf(o->err, o->errlen, "%s", e);
		portspec_free(&s.ps);
		return -1;
	}
	memcpy(&s.addr.ss, res->ai_addr, res->ai_addrlen);
	s.addr.len = res->ai_addrlen;
	sock_freeaddrinfo(res);
	sock_addr_parts((struct sockaddr *)&s.addr.ss, s.addr.len, s.addrtext, sizeof s.addrtext, e,
			sizeof e);

	s.nslots = o->syn ? 0 : pick_parallel(l, o->parallel, s.ps.n);
	s.state = calloc(s.ps.n, 1);
	s.err = calloc(s.ps.n, sizeof *s.err);
	s.slots = calloc((size_t)s.nslots, sizeof *s.slots);
	int ret = -1;
	if (!s.state || !s.err || (!s.slots && s.nslots)) {
		snprintf(o->err, o->errlen, "out of memory");
		goto out;
	}
	for (int i = 0; i < s.nslots; i++) {
		s.slots[i].s = &s;
		s.slots[i].fd = -1;
		s.slots[i].spare = -1;
		timer_init(&s.slots[i].timer, on_timeout, &s.slots[i]);
	}
	if (o->syn) {
		struct synscan_opts so = {.window = o->parallel,
					  .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 3000,
					  .result = syn_result,
					  .arg = &s};
		if (synscan_run(l, &s.addr, s.ps.ports, s.ps.n, &so, o->err, o->errlen) < 0)
			goto out;
	} else {
		fill(&s);
		report_ready(&s);
	}
	if (!o->syn && s.next_print < s.ps.n && loop_run(l) < 0) {
		snprintf(o->err, o->errlen, "event loop: %s", strerror(errno));
		goto out;
	}
	if (s.next_print < s.ps.n) {
		/* Stopped from outside (a signal): not a complete answer. */
		snprintf(o->err, o->errlen, "scan interrupted");
		goto out;
	}
	ret = s.any_open ? 0 : 1;
out:
	for (int i = 0; s.slots && i < s.nslots; i++) {
		if (s.slots[i].fd >= 0)
			record(&s, &s.slots[i], ECANCELED);
		if (s.slots[i].spare >= 0)
			close(s.slots[i].spare);
	}
	free(s.slots);
	free(s.state);
	free(s.err);
	portspec_free(&s.ps);
	return ret;
}
