/* Stream connections served on the loop: the built-in handlers, the
 * one-client relay, the many-client relay (-k) and the broker. Every
 * connection is a stream, and what it does not take at once waits in its
 * output queue; stdin's data (and a broker's client's) is read into one
 * chunk that every client's queue shares. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compat.h"
#include "core/log.h"
#include "core/crlf.h"
#include "core/sbuf.h"
#include "core/text_escape.h"
#include "net/hexlog.h"
#include "net/relay.h"
#include "net/stream.h"
#include "script/script.h"
#include "serve/serve_int.h"

#define PEND_MAX	  SERVE_PEND_MAX
#define READ_CHUNK	  SERVE_READ_CHUNK
#define RESPOND_LINGER_MS 2000
/* --broker reads a client only while every queue has room for a read. */
#define BROKER_FULL (PEND_MAX - READ_CHUNK)

struct sconn {
	struct serve_server *srv;
	struct stream *s; /* owned */
	struct outq q;
	bool eof_in, shut, draining;
	bool shut_wait; /* the stream has the end of output still to send */
	struct timer idle;
	int64_t last;
	/* --broker: the queue is past BROKER_FULL, so no client is read
	 * until it drains; dropped when it took nothing for stall_ms. */
	bool full;
	struct timer stall;
	int64_t moved_at;	   /* when bytes of its queue last went out */
	struct relay *relay;	   /* one-client relay mode; owned */
	struct script_run *run;	   /* --script; owned */
	char *peer;		   /* --script: the client's address, for messages; owned */
	struct stream *rin, *rout; /* the relay's stdin and stdout; owned (not the fds) */
	struct sconn *prev, *next;
};

static void stdin_update(struct serve_server *s);
static void want_all(struct serve_server *s);

static enum serve_handler handler(const struct serve_server *s)
{
	return s->cfg.handler;
}

/* The handlers that send stdin to the clients. */
static bool takes_stdin(const struct serve_server *s)
{
	return handler(s) == SERVE_RELAY || handler(s) == SERVE_BROKER;
}

static size_t pending(const struct sconn *c)
{
	return outq_len(&c->q);
}

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static void conn_close(struct sconn *c)
{
	struct serve_server *s = c->srv;
	/* The relay lets go of the streams before they close. */
	if (c->relay)
		relay_free(c->relay);
	script_run_free(c->run);
	free(c->peer);
	stream_close(c->rin);
	stream_close(c->rout);
	stream_close(c->s);
	loop_timer_stop(s->loop, &c->idle);
	loop_timer_stop(s->loop, &c->stall);
	outq_clear(&c->q);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	bool was_full = c->full;
	free(c);
	if (s->stopping)
		return;
	if (was_full && --s->nfull == 0)
		want_all(s);
	if (!s->cfg.keep_open && s->nconns == 0)
		loop_stop(s->loop);
	else if (takes_stdin(s))
		stdin_update(s);
}

static void log_sent(struct serve_server *s, const void *p, size_t n)
{
	if (s->cfg.log)
		hexlog_data(s->cfg.log, HEXLOG_SENT, p, n);
}

/* The connection failed writing: said with -v, and closed. */
static void send_failed(struct sconn *c)
{
	log_info("connection fd %d: send: %s", c->s->fd, strerror(errno));
	conn_close(c);
}

/* --broker: keeps c->full and the server's count of full queues. The
 * first full queue stops the reading of every client, the last one to
 * drain starts it again. */
static void broker_note(struct sconn *c)
{
	struct serve_server *s = c->srv;
	bool full = pending(c) > BROKER_FULL;
	if (handler(s) != SERVE_BROKER || full == c->full)
		return;
	c->full = full;
	if (full) {
		c->moved_at = loop_now(s->loop);
		loop_timer_start(s->loop, &c->stall, s->cfg.stall_ms);
		if (s->nfull++ == 0)
			want_all(s);
	} else {
		loop_timer_stop(s->loop, &c->stall);
		if (--s->nfull == 0)
			want_all(s);
	}
}

/* After bytes were handed to c's stream or queue (written of them went
 * out): its state follows. */
static void note_sent(struct sconn *c, size_t written)
{
	if (written)
		c->moved_at = loop_now(c->srv->loop);
	broker_note(c);
}

/* Sends what is queued; false if the connection failed (and is closed). */
static bool flush(struct sconn *c)
{
	ssize_t w = outq_flush(&c->q, c->s);
	if (w < 0) {
		send_failed(c);
		return false;
	}
	note_sent(c, (size_t)w);
	return true;
}

/* Sends p[0..n) after what waits (an echo: the room was checked before
 * the read); false if the connection failed (and is closed). */
static bool conn_send(struct sconn *c, const char *p, size_t n)
{
	size_t w = 0;
	int r = outq_write(&c->q, c->s, p, n, &w);
	if (r == -1) {
		send_failed(c);
		return false;
	}
	if (r != OUTQ_OK) {
		conn_close(c);
		return false;
	}
	c->srv->bytes_out += n;
	log_sent(c->srv, p, n);
	note_sent(c, w);
	return true;
}

/* Ends c's write side; false while the stream still has it to send (a
 * TLS close_notify waiting for room), and then c waits for WRITE. */
static bool conn_shut(struct sconn *c)
{
	if (c->shut)
		return true;
	if (stream_shutdown_write(c->s) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->shut_wait = true;
		return false;
	}
	c->shut = true;
	c->shut_wait = false;
	return true;
}

/* Decides the next state once output is flushed; false if closed. */
static bool settle(struct sconn *c)
{
	struct serve_server *s = c->srv;
	enum serve_handler h = handler(s);
	if (pending(c))
		return true;
	if (h == SERVE_BROKER) {
		/* A client that has sent its last byte leaves once it has been
		 * given what was queued for it (ncat closes it at once). */
		if (c->eof_in) {
			conn_close(c);
			return false;
		}
		return true;
	}
	bool out_done = c->eof_in || h == SERVE_RESPOND || (h == SERVE_RELAY && s->stdin_eof);
	if (h == SERVE_RELAY && !c->eof_in) {
		if (s->stdin_eof)
			conn_shut(c);
		return true;
	}
	if (h == SERVE_RELAY && !s->stdin_eof)
		return true;
	if (out_done && !conn_shut(c))
		return true;
	if (c->eof_in) {
		conn_close(c);
		return false;
	}
	if (h == SERVE_RESPOND && !c->draining) {
		/* Read what the client sent until it closes, so closing does
		 * not reset the connection and destroy the response. */
		c->draining = true;
		loop_timer_start(s->loop, &c->idle, RESPOND_LINGER_MS);
	}
	return true;
}

/* Whether c is read now: an echo waits for its own queue to drain, the
 * broker for every queue, the relay for stdout too. */
static bool may_read(const struct sconn *c)
{
	const struct serve_server *s = c->srv;
	if (c->eof_in)
		return false;
	if (handler(s) == SERVE_BROKER)
		return s->nfull == 0;
	if (handler(s) == SERVE_RELAY && !serve_out_room(s, READ_CHUNK))
		return false;
	return pending(c) < PEND_MAX / 2;
}

static void conn_want(struct sconn *c)
{
	if (c->run)
		return; /* the dialogue's runner has the stream */
	int m = 0;
	if (pending(c) || c->shut_wait)
		m |= STREAM_WRITE;
	if (may_read(c))
		m |= STREAM_READ;
	/* A mask of 0 (a broker's client held back with nothing to send
	 * it) leaves the fd unwatched. */
	stream_want(c->s, m);
}

static void want_all(struct serve_server *s)
{
	for (struct sconn *c = s->conns; c; c = c->next)
		conn_want(c);
	stdin_update(s);
}

void serve_stream_resume(struct serve_server *s)
{
	want_all(s);
}

/* A client whose queue stayed full holds everyone back: after stall_ms
 * without taking a byte it is dropped. */
static void conn_stall(struct loop *l, void *arg)
{
	struct sconn *c = arg;
	int64_t left = c->moved_at + c->srv->cfg.stall_ms - loop_now(l);
	if (left > 0) {
		loop_timer_start(l, &c->stall, left);
		return;
	}
	log_info("connection fd %d: took nothing for %.3g s with %zu bytes queued, dropping",
		 c->s->fd, c->srv->cfg.stall_ms / 1000.0, pending(c));
	conn_close(c);
}

/* ---- many-client relay and broker: stdin to every client ---- */

/* Sends ch->data[0..n) to every client but from (NULL: stdin's data),
 * each queue keeping a reference to the chunk for what its client does
 * not take at once. A client whose queue is full cannot keep up with the
 * others: it is dropped, as chat serve drops its stalled readers, rather
 * than holding everyone back. A broker's client that has sent EOF is
 * leaving and gets nothing new; the relay's keeps getting stdin. */
static void fan_out(struct serve_server *s, struct sconn *from, struct outq_chunk *ch, size_t n)
{
	for (struct sconn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (c == from || c->shut || c->shut_wait ||
		    (c->eof_in && handler(s) == SERVE_BROKER))
			continue;
		/* Checked first, as a whole: then outq_write_ref's -1 can only
		 * be the stream's failure. */
		if (pending(c) + n > PEND_MAX) {
			log_info("connection fd %d: output queue full (%zu bytes), dropping",
				 c->s->fd, pending(c));
			conn_close(c);
			continue;
		}
		size_t w = 0;
		int r = outq_write_ref(&c->q, c->s, ch, 0, n, &w);
		if (r == -1) {
			send_failed(c);
			continue;
		}
		if (r != OUTQ_OK) {
			conn_close(c);
			continue;
		}
		s->bytes_out += n;
		note_sent(c, w);
		conn_want(c);
	}
}

/* Reads stdin only while every client has room (back-pressure), and
 * only once there is a client to send to. */
static void stdin_update(struct serve_server *s)
{
	if (s->stdin_eof || !s->in)
		return;
	bool room = s->conns != NULL;
	for (struct sconn *c = s->conns; c && room; c = c->next)
		if (pending(c) > PEND_MAX - READ_CHUNK)
			room = false;
	stream_want(s->in, room ? STREAM_READ : 0);
}

static void stdin_end(struct serve_server *s)
{
	s->stdin_eof = true;
	stream_close(s->in);
	s->in = NULL;
	for (struct sconn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (settle(c))
			conn_want(c);
	}
}

static void on_stdin(struct stream *in, int ready, void *arg)
{
	(void)ready;
	struct serve_server *s = arg;
	struct outq_chunk *ch = serve_chunk(s);
	if (!ch) {
		log_error("read from stdin: %s", strerror(ENOMEM));
		stdin_end(s);
		return;
	}
	bool crlf = s->cfg.crlf;
	/* -C: read half a chunk, so that every "\n" can become "\r\n". */
	ssize_t n = stream_read(in, ch->data, crlf ? ch->cap / 2 : ch->cap);
	if (n < 0 && again())
		return;
	if (n > 0 && crlf)
		n = (ssize_t)crlf_expand(ch->data, (size_t)n, &s->stdin_prev_cr);
	if (n <= 0) {
		if (n < 0)
			log_error("read from stdin: %s", strerror(errno));
		stdin_end(s);
		return;
	}
	log_sent(s, ch->data, (size_t)n);
	struct outq_chunk *out = serve_chunk_for(s, ch, (size_t)n);
	fan_out(s, NULL, out, (size_t)n);
	serve_chunk_done(s, out);
	stdin_update(s);
}

/* ---- a connection's events ---- */

/* What --discard (and a --respond connection, always) reads: counted,
 * logged, dropped. */
static void dropped(void *arg, const void *p, size_t n)
{
	struct sconn *c = arg;
	struct serve_server *s = c->srv;
	c->last = loop_now(s->loop);
	s->bytes_in += (uint64_t)n;
	if (s->cfg.log)
		hexlog_data(s->cfg.log, HEXLOG_RECV, p, n);
}

/* Returns false if c was closed (and freed). */
static bool conn_read(struct sconn *c)
{
	struct serve_server *s = c->srv;
	enum serve_handler h = handler(s);
	char buf[READ_CHUNK];
	if (h == SERVE_DISCARD || h == SERVE_RESPOND) {
		int r = may_read(c) ? stream_drain(c->s, buf, sizeof buf, 4, dropped, c) : 1;
		if (r < 0) {
			log_info("connection fd %d: recv: %s", c->s->fd, strerror(errno));
			conn_close(c);
			return false;
		}
		if (r == 0)
			c->eof_in = true;
		return true;
	}
	for (int i = 0; i < 4 && may_read(c); i++) {
		struct outq_chunk *ch = NULL;
		char *p = buf;
		size_t room = sizeof buf;
		if (h == SERVE_BROKER) {
			/* Straight into the chunk the other clients share. */
			if (!(ch = serve_chunk(s))) {
				log_info("connection fd %d: recv: %s", c->s->fd, strerror(ENOMEM));
				conn_close(c);
				return false;
			}
			p = ch->data;
			room = ch->cap;
		} else if (h == SERVE_ECHO || h == SERVE_UPPER) {
			room = PEND_MAX - pending(c) < room ? PEND_MAX - pending(c) : room;
		}
		ssize_t n = stream_read(c->s, p, room);
		if (n < 0) {
			if (again())
				return true;
			log_info("connection fd %d: recv: %s", c->s->fd, strerror(errno));
			conn_close(c);
			return false;
		}
		if (n == 0) {
			c->eof_in = true;
			break;
		}
		c->last = loop_now(s->loop);
		s->bytes_in += (uint64_t)n;
		if (s->cfg.log)
			hexlog_data(s->cfg.log, HEXLOG_RECV, p, (size_t)n);
		switch (h) {
		case SERVE_UPPER:
			text_upper(p, (size_t)n);
			FALLTHROUGH;
		case SERVE_ECHO:
			if (!conn_send(c, p, (size_t)n))
				return false;
			break;
		case SERVE_RELAY:
			if (!serve_out_write(s, p, (size_t)n))
				return true;
			break;
		case SERVE_BROKER: {
			struct outq_chunk *out = serve_chunk_for(s, ch, (size_t)n);
			fan_out(s, c, out, (size_t)n);
			serve_chunk_done(s, out);
			break;
		}
		default: /* --discard and --respond: above */
			break;
		}
		if ((size_t)n < room)
			break;
	}
	return true;
}

static void conn_event(struct stream *st, int ready, void *arg)
{
	(void)st;
	struct sconn *c = arg;
	struct serve_server *s = c->srv;
	if ((ready & STREAM_WRITE) && !flush(c))
		return;
	/* (The broker may close other clients while c reads.) */
	if ((ready & STREAM_READ) && !conn_read(c))
		return; /* closed inside: c is gone */
	c->last = loop_now(s->loop);
	if (!settle(c))
		return;
	conn_want(c);
	if (takes_stdin(s))
		stdin_update(s);
}

static void conn_idle(struct loop *l, void *arg)
{
	struct sconn *c = arg;
	struct serve_server *s = c->srv;
	if (c->draining) {
		conn_close(c);
		return;
	}
	int64_t left = c->last + s->cfg.idle_ms - loop_now(l);
	if (left > 0) {
		loop_timer_start(l, &c->idle, left);
		return;
	}
	log_info("connection fd %d: idle for %d ms, closing", c->s->fd, s->cfg.idle_ms);
	conn_close(c);
}

/* ---- one-client relay ---- */

static void on_relay_done(struct loop *l, int status, const char *errtext, void *arg)
{
	struct sconn *c = arg;
	struct serve_server *s = c->srv;
	if (errtext && *errtext)
		log_error("%s", errtext);
	if (status)
		s->failed = true;
	struct relay_stats st;
	relay_get_stats(c->relay, &st);
	s->bytes_out += st.sent;
	s->bytes_in += st.received;
	log_info("sent %llu bytes, received %llu bytes in %.3f s", (unsigned long long)st.sent,
		 (unsigned long long)st.received, (double)(st.end_ms - st.start_ms) / 1000.0);
	loop_stop(l);
}

/* The relay has the connection: its own -i, -q and half-close rules. */
static void start_relay(struct sconn *c, const char *peer)
{
	struct serve_server *s = c->srv;
	int in = s->cfg.in_fd, out = s->cfg.out_fd;
	c->rin = in >= 0 ? stream_fd_new(s->loop, in, 0) : NULL;
	c->rout = out >= 0 ? stream_fd_new(s->loop, out, 0) : NULL;
	if (c->rin && c->rout)
		c->relay =
		    relay_start(s->loop, c->rin, c->rout, c->s, peer, &s->cfg.ro, on_relay_done, c);
	if (!c->relay) {
		log_error("relay: %s", strerror(c->rin && c->rout ? errno : EBADF));
		serve_fail_stop(s);
	}
}

/* ---- --script: a dialogue per connection ---- */

static void on_script_io(void *arg, bool sent, const char *p, size_t n)
{
	struct sconn *c = arg;
	struct sbuf b;
	sb_init(&b);
	text_escape(&b, p, n);
	log_debug("%s %s %s", c->peer, sent ? ">" : "<", sb_str(&b));
	sb_free(&b);
}

static void on_script_done(void *arg, const struct script_result *r)
{
	struct sconn *c = arg;
	struct serve_server *s = c->srv;
	struct sbuf b;
	sb_init(&b);
	script_describe(&b, r);
	/* A client that deviates is the point of a mock: always said. */
	if (r->status != SCRIPT_OK) {
		log_error("%s: %s", c->peer, sb_str(&b));
		s->script_status = (int)r->status;
	} else {
		log_info("%s: %s", c->peer, sb_str(&b));
	}
	sb_free(&b);
	s->bytes_in += r->received;
	s->bytes_out += r->sent;
	conn_close(c);
}

static void start_script(struct sconn *c, const char *peer)
{
	struct serve_server *s = c->srv;
	char err[200];
	struct script_run_cfg rc = {.sc = s->cfg.script,
				    .expect_ms = s->cfg.expect_ms,
				    .crlf = s->cfg.crlf,
				    .server = true,
				    .linger_ms = RESPOND_LINGER_MS,
				    .idle_ms = s->cfg.idle_ms,
				    .io = log_wants(LOG_LVL_DEBUG) ? on_script_io : NULL,
				    .done = on_script_done,
				    .arg = c};
	c->peer = strdup(peer);
	c->run = c->peer ? script_run_start(s->loop, c->s, &rc, err, sizeof err) : NULL;
	if (!c->run) {
		log_error("%s: %s", peer, c->peer ? err : strerror(ENOMEM));
		conn_close(c);
	}
}

/* ---- starting ---- */

void serve_conn_start(struct serve_server *s, struct stream *st, const struct sock_addr *peer)
{
	struct sconn *c = calloc(1, sizeof *c);
	if (!c) {
		stream_close(st);
		return;
	}
	c->srv = s;
	c->s = st;
	c->last = loop_now(s->loop);
	enum serve_handler h = handler(s);
	/* --respond's text is shared, not copied: the queue holds all of it. */
	size_t limit = PEND_MAX;
	if (h == SERVE_RESPOND && s->cfg.respond && s->cfg.respond->len > limit)
		limit = s->cfg.respond->len;
	outq_init(&c->q, limit);
	timer_init(&c->idle, conn_idle, c);
	timer_init(&c->stall, conn_stall, c);
	bool one_relay = h == SERVE_RELAY && !s->cfg.keep_open;
	if (!one_relay && h != SERVE_SCRIPT) {
		stream_set_cb(st, conn_event, c);
		if (stream_want(st, STREAM_READ) < 0) {
			log_error("connection refused: %s", strerror(errno));
			stream_close(st);
			free(c);
			return;
		}
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	s->served++;
	char a[SOCK_ADDRSTRLEN] = "an unnamed peer";
	if (peer && (one_relay || h == SERVE_SCRIPT || log_wants(LOG_LVL_INFO)))
		sock_addr_str((const struct sockaddr *)&peer->ss, peer->len, a, sizeof a);
	log_info("connection from %s", a);
	if (one_relay) {
		start_relay(c, a);
		return;
	}
	if (h == SERVE_SCRIPT) {
		start_script(c, a);
		return;
	}
	if (s->cfg.idle_ms > 0)
		loop_timer_start(s->loop, &c->idle, s->cfg.idle_ms);
	if (h == SERVE_RESPOND) {
		struct outq_chunk *r = s->cfg.respond;
		size_t n = r ? r->len : 0, w = 0;
		if (n && outq_write_ref(&c->q, st, r, 0, n, &w) == -1) {
			send_failed(c);
			return;
		}
		s->bytes_out += n;
		log_sent(s, r ? r->data : "", n);
		note_sent(c, w);
		if (settle(c))
			conn_want(c);
	} else if (takes_stdin(s)) {
		if (s->stdin_eof && settle(c))
			conn_want(c);
		stdin_update(s);
	}
}

int serve_stream_start(struct serve_server *s, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	/* The one-client relay takes stdin when its client comes. */
	if (!s->cfg.keep_open || !takes_stdin(s) || serve_exec_mode(s) ||
	    s->cfg.model != MODEL_LOOP)
		return 0;
	s->in = s->cfg.in_fd >= 0 ? stream_fd_new(s->loop, s->cfg.in_fd, 0) : NULL;
	if (!s->in) {
		if (s->cfg.in_fd >= 0)
			log_error("read from stdin: %s", strerror(errno));
		s->stdin_eof = true;
		return 0;
	}
	stream_set_cb(s->in, on_stdin, s);
	return 0;
}

void serve_stream_free(struct serve_server *s)
{
	while (s->conns)
		conn_close(s->conns);
	stream_close(s->in);
	s->in = NULL;
}
