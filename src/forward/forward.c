/* sockctl forward's engine: accepting, reaching the target, relaying. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "forward/fault_stream.h"
#include "forward/forward_int.h"
#include "net/acceptor.h"
#include "net/acl.h"
#include "net/sockopt.h"
#include "net/stream.h"
#include "net/tls.h"

/* ---- the list of live connections ---- */

static struct fwd_conn *conn_new(struct forward *f, struct stream *st, const struct sock_addr *peer)
{
	struct fwd_conn *c = calloc(1, sizeof *c);
	if (!c) {
		log_error("forward: out of memory");
		stream_close(st);
		return NULL;
	}
	c->fwd = f;
	c->client_raw = st;
	c->start_ms = loop_now(f->loop);
	if (peer && peer->len) {
		c->peer = *peer;
		sock_addr_str((const struct sockaddr *)&peer->ss, peer->len, c->peer_text,
			      sizeof c->peer_text);
	} else {
		snprintf(c->peer_text, sizeof c->peer_text, "an unnamed peer");
	}
	c->next = f->conns;
	if (f->conns)
		f->conns->prev = c;
	f->conns = c;
	f->nconns++;
	return c;
}

static void conn_unlink(struct fwd_conn *c)
{
	struct forward *f = c->fwd;
	if (c->prev)
		c->prev->next = c->next;
	else
		f->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	f->nconns--;
}

struct stream *fwd_client_stream(struct fwd_conn *c, struct stream *accepted)
{
	return c->fwd->cfg.faults ? fwd_faults_wrap(c, accepted) : accepted;
}

/* SO_LINGER 0: the close sends RST instead of FIN (for a TLS stream
 * too: its fd is the socket). */
static void set_reset(struct stream *s)
{
	int fd = s ? s->fd : -1;
	if (fd < 0)
		return;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

void fwd_conn_end(struct fwd_conn *c, enum fwd_end how, const char *why)
{
	if (why && *why)
		log_info("%s: %s", c->peer_text, why);
	connector_cancel(c->cn);
	proxy_cancel(c->pc);
	tls_handshake_cancel(c->hs);
	tls_handshake_cancel(c->chs);
	fwd_pp_free(c);
	/* A plain socket whose relay failed on the peer's reset is dead:
	 * its close sends nothing, and it needs no SO_LINGER to pass the
	 * reset on. Only a plain socket's errno is the kernel's word for a
	 * reset (a TLS stream says EPIPE after a truncation too). */
	int err = 0;
	struct stream *dead = c->relay ? relay_failed_stream(c->relay, &err) : NULL;
	if (!dead || dead->ops != &stream_fd_ops || (err != ECONNRESET && err != EPIPE))
		dead = NULL;
	relay_free(c->relay);
	if (how == FWD_END_RESET) {
		if (dead != c->client || c->client != c->client_raw)
			set_reset(c->client_raw);
		if (dead != c->target)
			set_reset(c->target);
		fwd_faults_reset(c->client);
	}
	/* A wrapping stream owns the raw one and closes it. */
	if (c->client && c->client != c->client_raw)
		stream_close(c->client);
	else
		stream_close(c->client_raw);
	stream_close(c->target);
	conn_unlink(c);
	free(c);
}

/* ---- the relay ---- */

static const char *target_text(const struct fwd_conn *c)
{
	const struct forward_cfg *k = &c->fwd->cfg;
	return k->target_name ? k->target_name : "the target";
}

static void on_relay_done(struct loop *l, int status, const char *errtext, void *arg)
{
	(void)l;
	struct fwd_conn *c = arg;
	struct forward *f = c->fwd;
	struct relay_stats st;
	relay_get_stats(c->relay, &st);
	f->res.up += st.sent;
	f->res.down += st.received;
	const char *tls_why = status ? tls_error(c->client_raw) : NULL; /* not the wrapper */
	if (!tls_why && status)
		tls_why = tls_error(c->target);
	const char *how = status ? (tls_why ? tls_why : errtext) : "closed";
	if (log_wants(LOG_LVL_INFO))
		log_info("%s -> %s: up %llu bytes, down %llu bytes in %.3f s, %s", c->peer_text,
			 target_text(c), (unsigned long long)st.sent,
			 (unsigned long long)st.received,
			 (double)(st.end_ms - st.start_ms) / 1000.0,
			 status ? (*how ? how : "failed") : how);
	/* A failure on one side (a reset, a write that failed) is passed on
	 * as a reset: a clean close would tell the other side that all
	 * went well. */
	fwd_conn_end(c, status ? FWD_END_RESET : FWD_END_CLOSE, NULL);
}

static void start_relay(struct fwd_conn *c)
{
	struct forward *f = c->fwd;
	c->client = fwd_client_stream(c, c->client_raw);
	if (!c->client) {
		fwd_conn_end(c, FWD_END_RESET, "out of memory");
		return;
	}
	struct relay_opts ro = f->cfg.ro;
	/* The target's end of input ends the client's write side: the
	 * relay's local side is a socket here. */
	ro.pass_eof = true;
	ro.log = f->cfg.log;
	ro.local_name = c->peer_text;
	/* What the client sent while the target was reached is there. */
	ro.read_first = true;
	ro.closed_at_end = true; /* fwd_conn_end, from on_relay_done */
	c->relay = relay_start(f->loop, c->client, c->client, c->target, target_text(c), &ro,
			       on_relay_done, c);
	if (!c->relay)
		fwd_conn_end(c, FWD_END_RESET, "relay: out of memory");
}

/* ---- reaching the target ---- */

/* The target could not be had: the client learns it by a reset (as if
 * the target itself had refused), and the log says why. */
static void target_failed(struct fwd_conn *c, const char *why)
{
	c->fwd->res.target_failures++;
	log_error("%s -> %s: %s", c->peer_text, target_text(c), why);
	fwd_conn_end(c, FWD_END_RESET, NULL);
}

static void target_ready(struct fwd_conn *c, struct stream *s)
{
	c->target = s;
	c->fwd->res.connections++;
	start_relay(c);
}

static void on_target_tls(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
			  void *arg)
{
	(void)l;
	(void)kind;
	struct fwd_conn *c = arg;
	c->hs = NULL;
	if (!s) {
		target_failed(c, errtext);
		return;
	}
	target_ready(c, s);
}

void fwd_target_failed(struct fwd_conn *c, const char *why)
{
	target_failed(c, why);
}

/* The PROXY header, if any, is sent: TLS to the target, or the relay. */
void fwd_target_open(struct fwd_conn *c, struct stream *s)
{
	struct forward *f = c->fwd;
	if (!f->cfg.target_tls) {
		target_ready(c, s);
		return;
	}
	char err[300];
	c->hs = tls_handshake_start(f->loop, f->cfg.target_tls, s, f->cfg.target_tls_host,
				    f->cfg.handshake_ms, on_target_tls, c, err, sizeof err);
	if (!c->hs)
		target_failed(c, err);
}

static void on_tunnel(struct loop *l, struct stream *s, const char *errtext, void *arg)
{
	(void)l;
	struct fwd_conn *c = arg;
	c->pc = NULL;
	if (!s) {
		target_failed(c, errtext);
		return;
	}
	fwd_pp_send(c, s);
}

static void on_connected(struct loop *l, struct stream *s, int err, const char *errtext, void *arg)
{
	(void)err;
	struct fwd_conn *c = arg;
	struct forward *f = c->fwd;
	c->cn = NULL;
	if (!s) {
		target_failed(c, errtext);
		return;
	}
	char why[300];
	if (f->cfg.so && sockopt_apply(f->cfg.so, stream_raw_fd(s), why, sizeof why) < 0) {
		stream_close(s);
		target_failed(c, why);
		return;
	}
	if (f->cfg.proxy) {
		c->pc = proxy_start(l, s, f->cfg.proxy, 0, on_tunnel, c, why, sizeof why);
		if (!c->pc)
			target_failed(c, why);
		return;
	}
	fwd_pp_send(c, s);
}

static void connect_target(struct fwd_conn *c)
{
	struct forward *f = c->fwd;
	if (fwd_faults_sink(c))
		return;
	/* Nothing is read from the client until the target is there: what
	 * it sends waits in the socket. */
	char err[SOCK_ERRLEN + 64] = "out of memory";
	c->cn = f->target_ai
		    ? connector_start_addrs(f->loop, f->target_ai, &f->cfg.co, on_connected, c)
		    : connector_start(f->loop, &f->cfg.target, &f->cfg.co, on_connected, c, err,
				      sizeof err);
	if (!c->cn)
		target_failed(c, err);
}

/* ---- the client ---- */

static void on_client_tls(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
			  void *arg)
{
	(void)l;
	(void)kind;
	struct fwd_conn *c = arg;
	c->chs = NULL;
	if (!s) {
		/* Said as serve says it; the forwarder goes on. */
		log_error("%s", errtext);
		fwd_conn_end(c, FWD_END_CLOSE, NULL);
		return;
	}
	c->client_raw = s;
	connect_target(c);
}

void fwd_client_admitted(struct fwd_conn *c)
{
	struct forward *f = c->fwd;
	/* With --accept-proxy the access rules are for the address the
	 * header gave, known only now. */
	if (f->cfg.accept_proxy && f->cfg.acl &&
	    !acl_permits(f->cfg.acl, (const struct sockaddr *)&c->peer.ss)) {
		f->res.refused++;
		log_info("refused %s: not allowed by --allow/--deny", c->peer_text);
		fwd_conn_end(c, FWD_END_CLOSE, NULL);
		return;
	}
	if (!f->cfg.tls) {
		connect_target(c);
		return;
	}
	/* The handshake takes the plain stream: no longer the conn's until
	 * it gives back the TLS one. */
	char err[300];
	struct stream *plain = c->client_raw;
	c->client_raw = NULL;
	c->chs = tls_handshake_start(f->loop, f->cfg.tls, plain, NULL, f->cfg.handshake_ms,
				     on_client_tls, c, err, sizeof err);
	if (!c->chs) {
		log_error("%s", err);
		fwd_conn_end(c, FWD_END_CLOSE, NULL);
	}
}

/* A client, accepted or given: its PROXY header first, if one is due. */
static void conn_begin(struct forward *f, struct stream *st, const struct sock_addr *peer)
{
	struct fwd_conn *c = conn_new(f, st, peer);
	if (!c)
		return;
	/* Where the client reached us: the PROXY header we send says so. */
	if (!f->cfg.send_proxy || sock_local_addr(st->fd, &c->local) < 0)
		c->local.len = 0;
	if (f->cfg.accept_proxy)
		fwd_pp_read(c);
	else
		fwd_client_admitted(c);
}

void forward_take(struct forward *f, struct stream *s, const struct sock_addr *peer)
{
	conn_begin(f, s, peer);
}

/* ---- accepting ---- */

/* --allow/--deny (with --accept-proxy: once the header is read), -m and
 * the socket options. At the limit a client is accepted and closed at
 * once, so it learns it (EOF) instead of waiting in the backlog. */
static int admit(void *arg, int fd, const struct sock_addr *peer, const char **say)
{
	(void)say;
	struct forward *f = arg;
	const struct acl *acl = f->cfg.accept_proxy ? NULL : f->cfg.acl;
	if (!fwd_faults_refuse(f, fd) &&
	    !acceptor_rules(fd, peer, acl, f->cfg.max_conns, f->nconns, f->cfg.so))
		return ACCEPT_KEEP;
	f->res.refused++;
	return ACCEPT_REFUSE;
}

static void on_warn(void *arg, const char *text)
{
	(void)arg;
	log_error("%s", text);
}

static void on_accepted(void *arg, struct stream *st, const struct sock_addr *peer)
{
	conn_begin(arg, st, peer);
}

struct forward *forward_new(struct loop *l, const struct forward_cfg *cfg, char *err, size_t errlen)
{
	struct forward *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		if (cfg->lfd >= 0)
			close(cfg->lfd);
		return NULL;
	}
	f->loop = l;
	f->cfg = *cfg;
	/* An address literal or a Unix path resolves to what it says every
	 * time: once is enough (and saves the resolver's system calls on
	 * every client). A name may move: resolved for each client. */
	struct in6_addr a;
	const char *h = cfg->target.host;
	if (!cfg->udp && (cfg->target.unix_path || (h && (inet_pton(AF_INET, h, &a) == 1 ||
							  inet_pton(AF_INET6, h, &a) == 1))))
		sock_resolve(&cfg->target, false, &f->target_ai, err, errlen);
	if (cfg->udp) {
		if (fwd_udp_start(f, err, errlen) < 0) {
			forward_free(f);
			return NULL;
		}
	} else if (cfg->lfd >= 0) {
		struct acceptor_cfg ac = {.lfd = cfg->lfd,
					  .admit = admit,
					  .accepted = on_accepted,
					  .warn = on_warn,
					  .arg = f};
		f->acc = acceptor_new(l, &ac);
		if (!f->acc) {
			snprintf(err, errlen, "watch socket: %s", strerror(errno));
			forward_free(f);
			return NULL;
		}
	}
	return f;
}

void forward_stop(struct forward *f)
{
	f->stopping = true;
	if (f->acc)
		acceptor_pause(f->acc);
	loop_stop(f->loop);
}

void forward_result(const struct forward *f, struct forward_result *r)
{
	*r = f->res;
	/* Relays still running count what they moved so far. */
	for (const struct fwd_conn *c = f->conns; c; c = c->next) {
		if (!c->relay)
			continue;
		struct relay_stats st;
		relay_get_stats(c->relay, &st);
		r->up += st.sent;
		r->down += st.received;
	}
	fwd_udp_result(f, r);
}

void forward_free(struct forward *f)
{
	if (!f)
		return;
	f->stopping = true;
	fwd_udp_free(f);
	while (f->conns)
		fwd_conn_end(f->conns, FWD_END_CLOSE, NULL);
	if (f->cfg.faults)
		fault_stream_drains_free(f->cfg.faults);
	acceptor_free(f->acc);
	if (f->cfg.lfd >= 0)
		close(f->cfg.lfd);
	sock_freeaddrinfo(f->target_ai);
	free(f);
}
