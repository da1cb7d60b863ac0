#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/sbuf.h"
#include "core/text_escape.h"
#include "dns/dns_addr.h"
#include "http/http_client.h"
#include "net/connector.h"
#include "net/sock.h"
#include "net/stream.h"
#include "net/tls.h"
#include "udp/udp_dest.h"
#include "wait/wait.h"

/* Where a target's probe is. */
enum wait_phase {
	WP_PAUSE,   /* between attempts (or before the first) */
	WP_LOOKUP,  /* the name being looked up */
	WP_CONNECT, /* the connector at work */
	WP_TLS,	    /* the handshake after it */
	WP_HTTP,    /* the http client at work */
	WP_UDP,	    /* a datagram sent, waiting for the reply */
	WP_DONE,    /* ready, or the run is over */
};

struct wait_probe {
	struct wait_run *w;
	size_t idx;
	const struct wait_target *t;
	struct wait_status st;
	enum wait_phase phase;
	int pause_ms;	    /* the next pause after a failure */
	struct timer timer; /* the pause, or the attempt's limit */
	int64_t t0_us;	    /* the attempt's start */
	int attempt_ms;	    /* its limit */
	/* What the attempt holds (owned, per phase). */
	/* The lookup under way: one at a time, kept across an attempt that
	 * ran out while it waited (a slow resolver would otherwise gather a
	 * thread per attempt); what it finds between attempts waits in
	 * res_next for the next one. */
	struct dns_addr *lookup;
	struct addrinfo *res; /* what it found, for the connector */
	struct addrinfo *res_next;
	struct connector *conn;
	struct tls_handshake *hs;
	struct http_client *hc;
	struct udp_dest udp; /* fd -1 when closed */
	/* http: the client's connections go to the addresses found (res),
	 * as with --resolve HOST:PORT:ADDR. */
	struct http_client_route route;
	char peer[SOCK_ADDRSTRLEN];
};

struct wait_run {
	struct loop *l;
	struct wait_cfg cfg;
	struct wait_probe *probes; /* [cfg.ntargets] */
	size_t nready;
	bool finished;
	bool ending; /* the deadline is ending the attempts under way */
	int64_t start_us, end_us;
	struct timer deadline;
	struct dns_addrs *dns;	       /* cfg.dns's or the system's; NULL with numeric */
	unsigned char rbuf[65536 + 1]; /* a udp reply, NUL after it */
};

static void attempt_start(struct wait_probe *p);

static void finish_run(struct wait_run *w);

/* Gives up what the attempt holds, without a word. */
static void attempt_drop(struct wait_probe *p)
{
	loop_timer_stop(p->w->l, &p->timer);
	if (p->w->finished || p->phase != WP_LOOKUP) {
		dns_addr_cancel(p->lookup);
		p->lookup = NULL;
	}
	if (p->w->finished) {
		sock_freeaddrinfo(p->res_next);
		p->res_next = NULL;
	}
	if (p->conn)
		connector_cancel(p->conn);
	p->conn = NULL;
	sock_freeaddrinfo(p->res);
	p->res = NULL;
	if (p->hs)
		tls_handshake_cancel(p->hs);
	p->hs = NULL;
	if (p->phase == WP_HTTP || p->w->finished) {
		/* Under way (a timeout): the connection goes with it. */
		http_client_free(p->hc);
		p->hc = NULL;
	}
	if (p->udp.fd >= 0) {
		loop_io(p->w->l, p->udp.fd, 0, NULL, NULL);
		udp_dest_close(&p->udp);
	}
}

/* The attempt is over: says so, then the next one waits its pause (or
 * the target is ready). */
static void attempt_end(struct wait_probe *p, bool ready, const char *text)
{
	struct wait_run *w = p->w;
	attempt_drop(p);
	int64_t now = clock_us();
	struct wait_attempt a = {
	    .target = p->idx,
	    .n = p->st.attempts,
	    .ready = ready,
	    .text = text,
	    .elapsed_us = now - p->t0_us,
	    .since_us = now - w->start_us,
	};
	if (ready) {
		p->st.ready = true;
		p->st.ready_us = a.since_us;
		p->phase = WP_DONE;
		/* Nothing more to ask it (freeing it from its own callback is
		 * allowed): its kept-alive connection goes now, not at the end
		 * of the run. */
		http_client_free(p->hc);
		p->hc = NULL;
	} else {
		/* An attempt the deadline cut (perhaps just begun) says less
		 * than the one before it ended with: that stays the reason. */
		if (!w->ending || !p->st.last_error[0])
			snprintf(p->st.last_error, sizeof p->st.last_error, "%s", text);
		p->phase = WP_PAUSE;
	}
	if (w->cfg.on_attempt)
		w->cfg.on_attempt(w, &a, w->cfg.arg);
	if (ready) {
		w->nready++;
		if (w->cfg.any || w->nready == w->cfg.ntargets)
			finish_run(w);
		return;
	}
	if (w->finished || w->ending)
		return;
	loop_timer_start(w->l, &p->timer, p->pause_ms);
	/* A refused connect waits the interval, then twice that, up to the
	 * cap: a service that is starting is not hammered, one that is up
	 * is seen soon. */
	p->pause_ms =
	    p->pause_ms > w->cfg.max_interval_ms / 2 ? w->cfg.max_interval_ms : p->pause_ms * 2;
	if (p->pause_ms < w->cfg.interval_ms)
		p->pause_ms = w->cfg.interval_ms;
}

__attribute__((format(printf, 2, 3))) static void attempt_fail(struct wait_probe *p,
							       const char *fmt, ...)
{
	char text[WAIT_ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	attempt_end(p, false, text);
}

/* ---- tcp, unix, tls ---- */

static void on_handshake(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
			 void *arg)
{
	(void)l;
	(void)kind;
	struct wait_probe *p = arg;
	p->hs = NULL;
	if (!s) {
		attempt_fail(p, "TLS with %s: %s", p->peer, errtext);
		return;
	}
	char sum[256], text[SOCK_ADDRSTRLEN + sizeof sum + 4];
	tls_summary(s, sum, sizeof sum);
	snprintf(text, sizeof text, "%s, %s", p->peer, sum);
	stream_close(s);
	attempt_end(p, true, text);
}

static void on_connected(struct loop *l, struct stream *s, int err, const char *errtext, void *arg)
{
	(void)err;
	struct wait_probe *p = arg;
	struct wait_run *w = p->w;
	p->conn = NULL;
	if (!s) {
		attempt_fail(p, "%s", errtext);
		return;
	}
	struct sock_addr a;
	if (sock_peer_addr(stream_raw_fd(s), &a) == 0)
		sock_addr_str((struct sockaddr *)&a.ss, a.len, p->peer, sizeof p->peer);
	else
		snprintf(p->peer, sizeof p->peer, "%s", p->t->text);
	if (p->t->kind != WAIT_TLS) {
		stream_close(s);
		attempt_end(p, true, p->peer);
		return;
	}
	/* The handshake gets what is left of the attempt, at most its own
	 * limit; the attempt's timer stays the bound over both. */
	int left = p->attempt_ms - (int)((clock_us() - p->t0_us) / 1000);
	int hs_ms =
	    w->cfg.handshake_ms > 0 && w->cfg.handshake_ms < left ? w->cfg.handshake_ms : left;
	char e[WAIT_ERRLEN];
	p->phase = WP_TLS;
	p->hs = tls_handshake_start(l, w->cfg.tls_ctx, s, p->t->host, hs_ms > 0 ? hs_ms : 1,
				    on_handshake, p, e, sizeof e);
	if (!p->hs)
		attempt_fail(p, "TLS with %s: %s", p->peer, e);
}

static void start_connect(struct wait_probe *p)
{
	struct wait_run *w = p->w;
	const struct wait_target *t = p->t;
	struct sock_endpoint ep = {
	    .family = w->cfg.family,
	    .socktype = SOCK_STREAM,
	    .numeric = w->cfg.numeric,
	};
	if (t->kind == WAIT_UNIX) {
		ep.unix_path = t->host;
		ep.family = AF_UNSPEC;
	} else {
		ep.host = t->host;
		ep.port = t->port;
	}
	struct connect_opts o = {.timeout_ms = p->attempt_ms};
	char e[WAIT_ERRLEN];
	p->phase = WP_CONNECT;
	if (p->res) {
		p->conn = connector_start_addrs(w->l, p->res, &o, on_connected, p);
		if (!p->conn)
			attempt_fail(p, "connect to %s: %s", t->text, strerror(ENOMEM));
		return;
	}
	p->conn = connector_start(w->l, &ep, &o, on_connected, p, e, sizeof e);
	if (!p->conn)
		attempt_fail(p, "%s", e); /* a name that does not resolve (yet) */
}

/* ---- http, https ---- */

static void on_http(struct http_client *hc, const struct http_client_result *r, void *arg)
{
	(void)hc;
	struct wait_probe *p = arg;
	const bool *ok = p->w->cfg.ready_status;
	p->phase = WP_PAUSE; /* the client is idle again: kept */
	if (r->error) {
		attempt_fail(p, "%s", r->errtext);
		return;
	}
	bool ready = ok ? (r->status >= 0 && r->status < 600 && ok[r->status]) : r->status < 400;
	char text[WAIT_ERRLEN];
	snprintf(text, sizeof text, "HTTP %d %s%s", r->status, r->resp ? r->resp->reason : "",
		 ready ? "" : " (not a ready status)");
	attempt_end(p, ready, text);
}

static void start_http(struct wait_probe *p)
{
	struct wait_run *w = p->w;
	/* One client per target, kept from one attempt to the next, so that
	 * an https target loads its CA certificates once; the connection
	 * an answer came on may carry the next request (an answer on it is
	 * an answer from the server). */
	p->phase = WP_HTTP;
	/* This attempt's addresses (the route is the client's, read at each
	 * connect); none: the client looks the name up itself. */
	p->route = (struct http_client_route){
	    .host = p->t->host, .port = p->t->port, .resolve = true, .to_addrs = p->res};
	if (p->hc) {
		if (http_client_get(p->hc, p->t->text, on_http, p) < 0)
			attempt_fail(p, "%s: %s", p->t->text, strerror(errno));
		return;
	}
	struct http_client_cfg c = {
	    .connect_ms = w->cfg.attempt_ms,
	    .max_ms = w->cfg.attempt_ms,
	    .idle_ms = w->cfg.attempt_ms,
	    .family = w->cfg.family,
	    .numeric = w->cfg.numeric,
	    .tls = w->cfg.tls,
	    .handshake_ms = w->cfg.handshake_ms,
	};
	/* The URL's host still goes as Host and SNI and is verified; a
	 * redirect to another host is looked up by the client. */
	c.routes = &p->route;
	c.nroutes = p->res ? 1 : 0;
	p->hc = http_client_new(w->l, &c);
	if (!p->hc || http_client_get(p->hc, p->t->text, on_http, p) < 0)
		attempt_fail(p, "%s: %s", p->t->text, strerror(errno));
}

/* ---- udp ---- */

static void on_udp(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	(void)mask;
	struct wait_probe *p = arg;
	struct wait_run *w = p->w;
	/* not a stream: a datagram socket of our own, one reply read */
	ssize_t n = recv(fd, w->rbuf, sizeof w->rbuf - 1, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		if (errno == ECONNREFUSED)
			attempt_fail(p, "udp %s: port unreachable", p->udp.text);
		else
			attempt_fail(p, "udp %s: %s", p->udp.text, strerror(errno));
		return;
	}
	w->rbuf[n] = '\0';
	char text[SOCK_ADDRSTRLEN + 64];
	if (w->cfg.expect) {
		/* REG_STARTEND: the whole datagram, NUL bytes and all. */
		regmatch_t m = {.rm_so = 0, .rm_eo = n};
		if (regexec(w->cfg.expect, (const char *)w->rbuf, 1, &m, REG_STARTEND) != 0) {
			/* Shown as connect --expect's diagnostics show bytes. */
			struct sbuf shown;
			sb_init(&shown);
			text_escape(&shown, (const char *)w->rbuf, n > 60 ? 60 : (size_t)n);
			attempt_fail(p, "udp %s: the reply (%zd bytes: \"%s%s\") does not match",
				     p->udp.text, n, shown.oom || !shown.p ? "" : shown.p,
				     n > 60 ? "..." : "");
			sb_free(&shown);
			return;
		}
	}
	snprintf(text, sizeof text, "reply from %s (%zd bytes)", p->udp.text, n);
	attempt_end(p, true, text);
}

static void start_udp(struct wait_probe *p)
{
	struct wait_run *w = p->w;
	struct sock_endpoint ep = {
	    .host = p->t->host,
	    .port = p->t->port,
	    .family = w->cfg.family,
	    .socktype = SOCK_DGRAM,
	    .numeric = w->cfg.numeric,
	};
	struct udp_dest_opts o = {.ttl = -1};
	char e[WAIT_ERRLEN] = "";
	p->phase = WP_UDP;
	/* A name the resolver found: each address in turn, as a number,
	 * until a socket connects to one (an IPv6 address first on a host
	 * without an IPv6 route fails at once). */
	bool open = false;
	for (struct addrinfo *ai = p->res; ai && !open; ai = ai->ai_next) {
		char host[SOCK_ADDRSTRLEN];
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, NULL, 0,
				NI_NUMERICHOST) != 0)
			continue;
		ep.host = host;
		ep.numeric = true;
		open = udp_dest_open(&ep, &o, &p->udp, e, sizeof e) >= 0;
	}
	if (!p->res)
		open = udp_dest_open(&ep, &o, &p->udp, e, sizeof e) >= 0;
	if (!open) {
		attempt_fail(p, "%s", e[0] ? e : "no address to send to");
		return;
	}
	/* not a stream: one datagram on our own datagram socket */
	if (send(p->udp.fd, w->cfg.send, w->cfg.sendlen, 0) < 0) {
		attempt_fail(p, "udp %s: %s", p->udp.text,
			     errno == ECONNREFUSED ? "port unreachable" : strerror(errno));
		return;
	}
	if (loop_io(w->l, p->udp.fd, MUX_READ, on_udp, p) < 0)
		attempt_fail(p, "udp %s: %s", p->udp.text, strerror(errno));
}

/* ---- attempts ---- */

/* The attempt's limit ran out (or the run's deadline cut it). Two
 * digits of the time it took: "after 0.3 s", not "after 0.299 s". */
static void attempt_timeout(struct wait_probe *p)
{
	double s = (double)(clock_us() - p->t0_us) / 1e6;
	switch (p->phase) {
	case WP_TLS:
		attempt_fail(p, "TLS with %s: handshake timed out after %.2g s", p->peer, s);
		break;
	case WP_UDP:
		attempt_fail(p, "udp %s: no reply within %.2g s", p->udp.text, s);
		break;
	case WP_HTTP:
		attempt_fail(p, "%s: no response within %.2g s", p->t->text, s);
		break;
	case WP_LOOKUP:
		attempt_fail(p, "%s: no address within %.2g s", p->t->host, s);
		break;
	default:
		attempt_fail(p, "connect to %s timed out after %.2g s", p->t->text, s);
		break;
	}
}

static void on_timer(struct loop *l, void *arg)
{
	(void)l;
	struct wait_probe *p = arg;
	if (p->phase == WP_PAUSE)
		attempt_start(p);
	else
		attempt_timeout(p);
}

static void probe_start(struct wait_probe *p);

static void on_lookup(struct addrinfo *res, const char *errtext, void *arg)
{
	struct wait_probe *p = arg;
	p->lookup = NULL;
	if (p->phase != WP_LOOKUP) {
		/* Found after its attempt ran out: for the next one. */
		sock_freeaddrinfo(p->res_next);
		p->res_next = res;
		return;
	}
	if (!res) {
		attempt_fail(p, "%s", errtext); /* a name that does not resolve (yet) */
		return;
	}
	p->res = res;
	probe_start(p);
}

/* Names are looked up out of the loop's way (the system's resolver in a
 * thread, or --server's with c-ares on the loop): a slow answer holds up
 * only its own target. */
static void start_lookup(struct wait_probe *p)
{
	struct wait_run *w = p->w;
	char e[WAIT_ERRLEN];
	p->phase = WP_LOOKUP;
	p->lookup = dns_addr_start(w->dns, p->t->host, p->t->port, w->cfg.family,
				   p->t->kind == WAIT_UDP ? SOCK_DGRAM : SOCK_STREAM, on_lookup, p,
				   e, sizeof e);
	if (!p->lookup)
		attempt_fail(p, "%s", e);
}

static void attempt_start(struct wait_probe *p)
{
	struct wait_run *w = p->w;
	int64_t now = clock_us();
	int left = (int)(w->cfg.timeout_ms - (now - w->start_us) / 1000);
	p->st.attempts++;
	p->t0_us = now;
	p->attempt_ms = w->cfg.attempt_ms < left ? w->cfg.attempt_ms : left;
	if (p->attempt_ms < 1)
		p->attempt_ms = 1;
	loop_timer_start(w->l, &p->timer, p->attempt_ms);
	if (w->dns && p->t->kind != WAIT_UNIX) {
		if (p->lookup) {
			p->phase = WP_LOOKUP; /* the last attempt's, still asking */
			return;
		}
		if (p->res_next) {
			p->res = p->res_next;
			p->res_next = NULL;
			p->phase = WP_LOOKUP;
			probe_start(p);
			return;
		}
		start_lookup(p);
		return;
	}
	probe_start(p);
}

/* The attempt proper, once the name has its addresses (or needs none). */
static void probe_start(struct wait_probe *p)
{
	switch (p->t->kind) {
	case WAIT_TCP:
	case WAIT_TLS:
	case WAIT_UNIX:
		start_connect(p);
		break;
	case WAIT_HTTP:
		start_http(p);
		break;
	case WAIT_UDP:
		start_udp(p);
		break;
	}
}

static void finish_run(struct wait_run *w)
{
	if (w->finished)
		return;
	w->finished = true;
	w->end_us = clock_us();
	loop_timer_stop(w->l, &w->deadline);
	for (size_t i = 0; i < w->cfg.ntargets; i++) {
		attempt_drop(&w->probes[i]);
		w->probes[i].phase = WP_DONE;
	}
	if (w->cfg.on_done)
		w->cfg.on_done(w, w->cfg.arg);
}

static void on_deadline(struct loop *l, void *arg)
{
	(void)l;
	struct wait_run *w = arg;
	/* An attempt under way ends as timed out, said as any other: its
	 * message is the target's last error. */
	w->ending = true;
	for (size_t i = 0; i < w->cfg.ntargets; i++) {
		struct wait_probe *p = &w->probes[i];
		if (p->phase != WP_PAUSE && p->phase != WP_DONE)
			attempt_timeout(p);
	}
	finish_run(w);
}

struct wait_run *wait_start(struct loop *l, const struct wait_cfg *cfg, char *err, size_t errlen)
{
	struct wait_run *w = calloc(1, sizeof *w);
	if (w)
		w->probes = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof *w->probes);
	if (!w || !w->probes) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->l = l;
	w->cfg = *cfg;
	if (!cfg->numeric) {
		w->dns = dns_addrs_new(l, cfg->dns, err, errlen);
		if (!w->dns) {
			free(w->probes);
			free(w);
			return NULL;
		}
	}
	w->start_us = clock_us();
	timer_init(&w->deadline, on_deadline, w);
	loop_timer_start(l, &w->deadline, cfg->timeout_ms);
	for (size_t i = 0; i < cfg->ntargets; i++) {
		struct wait_probe *p = &w->probes[i];
		p->w = w;
		p->idx = i;
		p->t = &cfg->targets[i];
		p->phase = WP_PAUSE;
		p->pause_ms = cfg->interval_ms;
		p->udp.fd = -1;
		timer_init(&p->timer, on_timer, p);
		/* From the loop, all at once. */
		loop_timer_start(l, &p->timer, 0);
	}
	if (cfg->ntargets == 0)
		finish_run(w);
	return w;
}

bool wait_finished(const struct wait_run *w)
{
	return w->finished;
}

bool wait_ok(const struct wait_run *w)
{
	return w->cfg.any ? w->nready > 0 : w->nready == w->cfg.ntargets;
}

const struct wait_status *wait_status_of(const struct wait_run *w, size_t target)
{
	return &w->probes[target].st;
}

int64_t wait_elapsed_us(const struct wait_run *w)
{
	return (w->finished ? w->end_us : clock_us()) - w->start_us;
}

void wait_free(struct wait_run *w)
{
	if (!w)
		return;
	w->finished = true;
	for (size_t i = 0; i < w->cfg.ntargets; i++)
		attempt_drop(&w->probes[i]);
	loop_timer_stop(w->l, &w->deadline);
	dns_addrs_free(w->dns);
	free(w->probes);
	free(w);
}
