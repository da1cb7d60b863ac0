/* sockctl serve's engine: the server, its accept loop and admission
 * rules, and the local side (stdout, the chunks stdin is read into) that
 * its relays share. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "net/acceptor.h"
#include "net/acl.h"
#include "net/sockopt.h"
#include "net/stream.h"
#include "net/tls.h"
#include "serve/serve_int.h"

void serve_fail_stop(struct serve_server *s)
{
	s->failed = true;
	loop_stop(s->loop);
}

void serve_after_end(struct serve_server *s)
{
	/* (A datagram server serves until it is stopped.) */
	if (!s->cfg.keep_open && !s->cfg.dgram && s->served && serve_active(s) == 0)
		loop_stop(s->loop);
}

/* ---- stdout: what the relays write there waits in s->outq ---- */

static bool out_failed(struct serve_server *s, int err)
{
	/* Nobody reads our output any more: stop serving, quietly. */
	if (err != EPIPE)
		log_error("write to stdout: %s", strerror(err));
	serve_fail_stop(s);
	return false;
}

static void out_resume(struct serve_server *s)
{
	if (s->cfg.dgram)
		serve_dgram_resume(s);
	else
		serve_stream_resume(s);
}

static void on_out(struct stream *out, int ready, void *arg)
{
	(void)ready;
	struct serve_server *s = arg;
	bool held = !serve_out_room(s, SERVE_READ_CHUNK + 1);
	if (outq_flush(&s->outq, out) < 0) {
		out_failed(s, errno);
		return;
	}
	stream_want(out, outq_empty(&s->outq) ? 0 : STREAM_WRITE);
	if (held && serve_out_room(s, SERVE_READ_CHUNK + 1))
		out_resume(s);
}

bool serve_out_room(const struct serve_server *s, size_t n)
{
	return outq_room(&s->outq) >= n;
}

bool serve_out_write(struct serve_server *s, const void *p, size_t n)
{
	if (!s->out)
		return true; /* no local side: dropped */
	/* The readers look at the room before they read: never full. (And
	 * outq_write's -1 is then the stream's failure, not OUTQ_FULL.) */
	if (!serve_out_room(s, n))
		return out_failed(s, ENOBUFS);
	int r = outq_write(&s->outq, s->out, p, n, NULL);
	if (r == -1)
		return out_failed(s, errno);
	if (r != OUTQ_OK)
		return out_failed(s, ENOMEM);
	if (!outq_empty(&s->outq))
		stream_want(s->out, STREAM_WRITE);
	return true;
}

static int local_out(struct serve_server *s, char *err, size_t errlen)
{
	if (s->cfg.out_fd < 0)
		return 0;
	s->out = stream_fd_new(s->loop, s->cfg.out_fd, 0);
	if (!s->out) {
		snprintf(err, errlen, "stdout: %s", strerror(errno));
		return -1;
	}
	stream_set_cb(s->out, on_out, s);
	return 0;
}

/* ---- the chunks reads go into, shared by every queue they reach ---- */

struct outq_chunk *serve_chunk(struct serve_server *s)
{
	if (!s->spare)
		s->spare = outq_chunk_new(SERVE_READ_CHUNK);
	return s->spare;
}

struct outq_chunk *serve_chunk_for(struct serve_server *s, struct outq_chunk *c, size_t n)
{
	(void)s;
	c->len = n;
	if (n >= c->cap / 2)
		return c;
	/* A short read gets a chunk of its own size: the queues that keep
	 * it must not hold a whole read's block each time. */
	struct outq_chunk *small = outq_chunk_new(n);
	if (!small)
		return c;
	memcpy(small->data, c->data, n);
	small->len = n;
	return small;
}

void serve_chunk_done(struct serve_server *s, struct outq_chunk *c)
{
	if (c != s->spare) {
		outq_chunk_unref(c);
	} else if (c->refs > 1) {
		/* Queues hold it now: the next read needs another. */
		outq_chunk_unref(c);
		s->spare = NULL;
	}
}

/* ---- accepting ---- */

/* --allow/--deny, -m and the socket options. At the limit a connection
 * is accepted and closed at once, so the client learns it (EOF) instead
 * of waiting in the backlog. */
static int admit(void *arg, int fd, const struct sock_addr *peer, const char **say)
{
	(void)say;
	struct serve_server *s = arg;
	if (!acceptor_rules(fd, peer, s->cfg.acl, s->cfg.max_conns, serve_active(s), s->cfg.so))
		return ACCEPT_KEEP;
	s->refused++;
	return ACCEPT_REFUSE;
}

static void on_warn(void *arg, const char *text)
{
	(void)arg;
	log_error("%s", text);
}

/* Without -k: one client, then the listener goes, as nc -l does (from
 * the loop: the acceptor is still in its callback when it is paused). */
static void on_unlisten(struct loop *l, void *arg)
{
	(void)l;
	struct serve_server *s = arg;
	acceptor_free(s->acc);
	s->acc = NULL;
	close(s->cfg.lfd);
	s->cfg.lfd = -1;
}

void serve_take(struct serve_server *s, struct stream *st, const struct sock_addr *peer)
{
	if (serve_exec_mode(s))
		serve_exec_program(s, st);
	else if (s->cfg.model != MODEL_LOOP)
		serve_exec_job(s, st);
	else
		serve_conn_start(s, st, peer);
}

/* Without -k: once the one client is served, the listener goes. */
static void after_take(struct serve_server *s)
{
	if (!s->cfg.keep_open && s->served && s->acc && !timer_armed(&s->unlisten)) {
		acceptor_pause(s->acc);
		loop_timer_start(s->loop, &s->unlisten, 0);
	}
}

/* ---- TLS: the handshake before a connection is served ---- */

static void on_handshake_ready(void *arg, struct stream *st, const struct sock_addr *peer)
{
	struct serve_server *s = arg;
	serve_take(s, st, peer);
	after_take(s);
}

static void on_handshake_failed(void *arg, enum tls_err kind, const char *errtext)
{
	(void)kind;
	struct serve_server *s = arg;
	/* One client's failure: the server goes on (without -k it still
	 * waits for the one client it serves). */
	log_error("%s", errtext);
	if (!s->cfg.keep_open && s->acc && !s->served)
		acceptor_resume(s->acc);
}

static void start_handshake(struct serve_server *s, struct stream *st, const struct sock_addr *peer)
{
	if (!tls_accepts_start(&s->hs, st, peer))
		return;
	/* Without -k one client is served: no other while this one's
	 * handshake runs. */
	if (!s->cfg.keep_open && s->acc)
		acceptor_pause(s->acc);
}

static void on_accepted(void *arg, struct stream *st, const struct sock_addr *peer)
{
	struct serve_server *s = arg;
	if (s->cfg.tls) {
		start_handshake(s, st, peer);
		return;
	}
	serve_take(s, st, peer);
	after_take(s);
}

static int start_accepting(struct serve_server *s, char *err, size_t errlen)
{
	struct acceptor_cfg ac = {
	    .lfd = s->cfg.lfd, .admit = admit, .accepted = on_accepted, .warn = on_warn, .arg = s};
	s->acc = acceptor_new(s->loop, &ac);
	if (!s->acc) {
		snprintf(err, errlen, "watch socket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the server ---- */

struct serve_server *serve_new(struct loop *l, const struct serve_cfg *cfg, char *err,
			       size_t errlen)
{
	struct serve_server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		if (cfg->lfd >= 0)
			close(cfg->lfd);
		return NULL;
	}
	s->loop = l;
	s->cfg = *cfg;
	s->program_status = -1;
	s->notify[0] = s->notify[1] = -1;
	outq_init(&s->outq, SERVE_PEND_MAX);
	timer_init(&s->unlisten, on_unlisten, s);
	tls_accepts_init(&s->hs, l, cfg->tls, cfg->handshake_ms, on_handshake_ready, s);
	s->hs.failed = on_handshake_failed;
	if (cfg->respond)
		outq_chunk_ref(cfg->respond);
	bool relays =
	    cfg->handler == SERVE_RELAY && !serve_exec_mode(s) && (cfg->dgram || cfg->keep_open);
	int r = serve_exec_start(s, err, errlen);
	if (r == 0 && relays)
		r = local_out(s, err, errlen);
	if (r == 0 && cfg->dgram)
		r = serve_dgram_start(s, err, errlen);
	else if (r == 0)
		r = serve_stream_start(s, err, errlen);
	if (r == 0 && !cfg->dgram && cfg->lfd >= 0)
		r = start_accepting(s, err, errlen);
	if (r < 0) {
		serve_free(s);
		return NULL;
	}
	return s;
}

void serve_stop(struct serve_server *s)
{
	s->stopping = true;
	loop_stop(s->loop);
}

void serve_totals(const struct serve_server *s, uint64_t *sent, uint64_t *received)
{
	uint64_t in, out;
	model_totals_get(s->jt, &in, &out);
	*sent = s->bytes_out + out;
	*received = s->bytes_in + in;
}

void serve_result(struct serve_server *s, struct serve_result *r)
{
	serve_exec_totals(s);
	r->failed = s->failed;
	r->program_status = s->program_status;
	r->connections = s->served;
	r->refused = s->refused;
	serve_totals(s, &r->sent, &r->received);
}

void serve_free(struct serve_server *s)
{
	if (!s)
		return;
	s->stopping = true;
	tls_accepts_cancel(&s->hs);
	serve_stream_free(s);
	serve_dgram_free(s);
	loop_timer_stop(s->loop, &s->unlisten);
	acceptor_free(s->acc);
	if (s->cfg.lfd >= 0)
		close(s->cfg.lfd);
	stream_close(s->out);
	outq_clear(&s->outq);
	outq_chunk_unref(s->spare);
	/* Threads still running read the response. */
	if (s->nthreads == 0)
		outq_chunk_unref(s->cfg.respond);
	serve_exec_free(s);
	free(s);
}
