/* The chat client's engine: see chat_client.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/chat_client.h"
#include "chat/chat_proto.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/outq.h"
#include "net/connector.h"
#include "net/sock.h"
#include "net/stream.h"

#define CONNECT_TIMEOUT_MS 10000
#define LINGER_MS	   10000 /* after our last line: wait this long for the server */
#define IN_MAX		   65536 /* longest line accepted from the server */
#define OUT_CAP		   65536 /* most bytes waiting for the server */
#define INPUT_MIN	   4096	 /* input is read while this much room is left */

struct chat_client {
	struct loop *loop;
	struct chat_client_cfg cfg;
	struct connector *cn;	  /* while connecting */
	struct tls_handshake *hs; /* then, with TLS, while it runs */
	enum tls_err tls_kind;	  /* why it failed */
	struct stream *st;	  /* owned: the connection, once there */
	struct stream *input;	  /* owned: input as it comes; NULL if none or ended */
	bool input_eof;		  /* no more input */
	bool quitting;		  /* our write side is shut (or being shut) */
	bool shut_done;
	bool hold, done;
	char last; /* the last byte given to the server */
	struct timer linger;
	struct outq q; /* to the server */
	struct chat_framer fr;
	size_t inlen;
	char in[IN_MAX + 2];
	char clean[IN_MAX * 3 + 1];
	char ibuf[OUT_CAP]; /* one read of input */
};

static void finish(struct chat_client *c, enum chat_client_end how, const char *errtext)
{
	if (c->done)
		return;
	c->done = true;
	loop_timer_stop(c->loop, &c->linger);
	if (c->st)
		stream_want(c->st, 0);
	if (c->input)
		stream_want(c->input, 0);
	c->cfg.end(c->cfg.arg, how, errtext);
}

__attribute__((format(printf, 2, 3))) static void fail(struct chat_client *c, const char *fmt, ...)
{
	char text[SOCK_ERRLEN + SOCK_ADDRSTRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	finish(c, CHAT_END_FAILED, text);
}

/* What the streams want now: the server read unless held, written while
 * something waits; the input read while there is room to queue it. */
static void watch(struct chat_client *c)
{
	if (c->done || !c->st)
		return;
	int want = (c->hold ? 0 : STREAM_READ) | (outq_empty(&c->q) ? 0 : STREAM_WRITE);
	if (c->quitting && !c->shut_done)
		want |= STREAM_WRITE;
	if (stream_want(c->st, want) < 0) {
		fail(c, "%s: %s", c->cfg.target, strerror(errno));
		return;
	}
	if (c->input &&
	    stream_want(c->input, outq_room(&c->q) >= INPUT_MIN ? STREAM_READ : 0) < 0) {
		log_error("stdin: %s", strerror(errno));
		stream_close(c->input);
		c->input = NULL;
		c->input_eof = true;
	}
}

/* Sends p[0..n) after what is queued (room was checked). */
static bool out(struct chat_client *c, const char *p, size_t n)
{
	if (!n)
		return true;
	/* A queue that holds bytes waits for WRITE: no write tried before. */
	int r = outq_empty(&c->q) ? outq_write(&c->q, c->st, p, n, NULL) : outq_add(&c->q, p, n);
	if (r == -1) {
		fail(c, "write to %s: %s", c->cfg.target, strerror(errno));
		return false;
	}
	if (r != OUTQ_OK) {
		fail(c, "write to %s: %s", c->cfg.target, strerror(ENOMEM));
		return false;
	}
	c->last = p[n - 1];
	return true;
}

/* Once the input has ended and everything went out: the write side is
 * shut, and what the server still sends is taken until it closes. */
static void maybe_quit(struct chat_client *c)
{
	if (c->done || !c->input_eof || !outq_empty(&c->q) || c->shut_done)
		return;
	if (!c->quitting) {
		c->quitting = true;
		loop_timer_start(c->loop, &c->linger, LINGER_MS);
	}
	if (stream_shutdown_write(c->st) == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		c->shut_done = true; /* a failure shows as the server's end */
}

static void flush_out(struct chat_client *c)
{
	if (!outq_empty(&c->q) && outq_flush(&c->q, c->st) < 0) {
		fail(c, "write to %s: %s", c->cfg.target, strerror(errno));
		return;
	}
	maybe_quit(c);
	watch(c);
}

/* ---- from the server ---- */

static void show_lines(struct chat_client *c, bool eof)
{
	size_t off = 0;
	bool any = false;
	while (off < c->inlen && !c->done) {
		const char *line;
		size_t len, used;
		enum chat_frame fr = chat_frame_next_eof(&c->fr, c->in + off, c->inlen - off,
							 IN_MAX, eof, &line, &len, &used);
		off += used;
		if (fr == CHAT_FRAME_MORE) {
			if (used == 0)
				break;
			continue;
		}
		any = true;
		size_t n = chat_sanitize(line, len, c->clean);
		c->cfg.line(c->cfg.arg, c->clean, n);
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	if (any && c->cfg.lines_done)
		c->cfg.lines_done(c->cfg.arg);
}

static void on_server(struct stream *st, int ready, void *arg)
{
	struct chat_client *c = arg;
	if ((ready & STREAM_READ) && !c->hold) {
		ssize_t r = stream_read(st, c->in + c->inlen, sizeof c->in - c->inlen);
		if (r > 0) {
			c->inlen += (size_t)r;
			show_lines(c, false);
		} else if (r == 0) {
			show_lines(c, true);
			finish(c, c->quitting || c->input_eof ? CHAT_END_DONE : CHAT_END_CLOSED,
			       NULL);
			return;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			const char *why = tls_error(c->st);
			if (tls_truncated(c->st))
				c->tls_kind = TLS_E_TRUNCATED;
			fail(c, "read from %s: %s", c->cfg.target, why ? why : strerror(errno));
			return;
		}
	}
	if (c->done)
		return;
	if (ready & STREAM_WRITE)
		flush_out(c);
	else
		watch(c);
}

/* ---- input ---- */

static void end_of_input(struct chat_client *c)
{
	if (c->input_eof)
		return;
	c->input_eof = true;
	stream_close(c->input);
	c->input = NULL;
}

static void on_input(struct stream *st, int ready, void *arg)
{
	(void)ready;
	struct chat_client *c = arg;
	size_t room = outq_room(&c->q);
	/* One byte kept for the newline a last line may lack. */
	size_t n = room > 1 ? room - 1 : 0;
	if (n > sizeof c->ibuf)
		n = sizeof c->ibuf;
	ssize_t r = -1;
	errno = EAGAIN;
	if (n)
		r = stream_read(st, c->ibuf, n);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		watch(c);
		return;
	}
	if (r < 0) {
		log_error("read from stdin: %s", strerror(errno));
		r = 0;
	}
	if (r == 0) {
		end_of_input(c);
		/* A last line without a newline is still a line. */
		if (c->last != '\n' && !out(c, "\n", 1))
			return;
	} else if (!out(c, c->ibuf, (size_t)r)) {
		return;
	}
	maybe_quit(c);
	watch(c);
}

void chat_client_input(struct chat_client *c, struct stream *in)
{
	c->input = in;
	stream_set_cb(in, on_input, c);
	if (c->st)
		watch(c);
}

bool chat_client_send_line(struct chat_client *c, const char *line, size_t len)
{
	if (c->done || !c->st || c->input_eof || len + 1 > outq_room(&c->q))
		return false;
	if (out(c, line, len) && out(c, "\n", 1))
		watch(c);
	return true;
}

void chat_client_end_input(struct chat_client *c)
{
	if (c->input_eof)
		return;
	end_of_input(c);
	if (c->st) {
		maybe_quit(c);
		watch(c);
	}
}

void chat_client_hold(struct chat_client *c, bool hold)
{
	if (c->hold == hold)
		return;
	c->hold = hold;
	watch(c);
}

/* ---- connecting ---- */

static void on_linger(struct loop *l, void *arg)
{
	(void)l;
	/* The server never closed after our last line. */
	finish(arg, CHAT_END_DONE, NULL);
}

/* The connection is there: what the options say goes first. */
static void attach(struct chat_client *c, struct stream *s)
{
	c->st = s;
	stream_set_cb(s, on_server, c);
	struct sock_addr peer;
	char where[SOCK_ADDRSTRLEN] = "?";
	int fd = stream_raw_fd(s);
	if (fd >= 0 && sock_peer_addr(fd, &peer) == 0)
		sock_addr_str((struct sockaddr *)&peer.ss, peer.len, where, sizeof where);
	log_info("chat: connected to %s", where);
	char line[128];
	if (c->cfg.echo && !out(c, "/echo on\n", 9))
		return;
	if (c->cfg.name) {
		snprintf(line, sizeof line, "/nick %s\n", c->cfg.name);
		if (!out(c, line, strlen(line)))
			return;
	}
	if (c->cfg.room) {
		snprintf(line, sizeof line, "/join %s\n", c->cfg.room);
		if (!out(c, line, strlen(line)))
			return;
	}
	if (c->cfg.connected)
		c->cfg.connected(c->cfg.arg, where);
	if (c->done)
		return;
	maybe_quit(c);
	watch(c);
}

static void on_tls(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
		   void *arg)
{
	(void)l;
	struct chat_client *c = arg;
	c->hs = NULL;
	c->tls_kind = kind;
	if (!s) {
		finish(c, CHAT_END_FAILED, errtext);
		return;
	}
	char why[256] = "";
	bool go = !c->cfg.tls_check || c->cfg.tls_check(c->cfg.arg, s, kind, why, sizeof why);
	if (kind != TLS_E_NONE || !go) {
		stream_close(s);
		finish(c, CHAT_END_FAILED, kind != TLS_E_NONE ? errtext : why);
		return;
	}
	attach(c, s);
}

static void on_connected(struct loop *l, struct stream *s, int err, const char *errtext, void *arg)
{
	(void)err;
	struct chat_client *c = arg;
	c->cn = NULL;
	if (!s) {
		finish(c, CHAT_END_FAILED, errtext);
		return;
	}
	if (!c->cfg.tls) {
		attach(c, s);
		return;
	}
	char e[300];
	c->hs = tls_handshake_start(l, c->cfg.tls, s, c->cfg.tls_host, c->cfg.handshake_ms, on_tls,
				    c, e, sizeof e);
	if (!c->hs)
		finish(c, CHAT_END_FAILED, e);
}

static struct chat_client *client_new(struct loop *l, const struct chat_client_cfg *cfg)
{
	struct chat_client *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->loop = l;
	c->cfg = *cfg;
	c->last = '\n';
	outq_init(&c->q, OUT_CAP);
	timer_init(&c->linger, on_linger, c);
	return c;
}

struct chat_client *chat_client_start(struct loop *l, const struct sock_endpoint *ep,
				      const struct chat_client_cfg *cfg, char *err, size_t errlen)
{
	struct chat_client *c = client_new(l, cfg);
	if (!c) {
		snprintf(err, errlen, "chat connect: %s", strerror(ENOMEM));
		return NULL;
	}
	struct connect_opts co = {.timeout_ms = CONNECT_TIMEOUT_MS};
	c->cn = connector_start(l, ep, &co, on_connected, c, err, errlen);
	if (!c->cn) {
		free(c);
		return NULL;
	}
	return c;
}

struct chat_client *chat_client_over(struct loop *l, struct stream *s,
				     const struct chat_client_cfg *cfg)
{
	struct chat_client *c = client_new(l, cfg);
	if (!c) {
		stream_close(s);
		return NULL;
	}
	attach(c, s);
	return c;
}

enum tls_err chat_client_tls_error(const struct chat_client *c)
{
	return c->tls_kind;
}

void chat_client_free(struct chat_client *c)
{
	if (!c)
		return;
	if (c->cn)
		connector_cancel(c->cn);
	tls_handshake_cancel(c->hs);
	loop_timer_stop(c->loop, &c->linger);
	stream_close(c->input);
	stream_close(c->st);
	outq_clear(&c->q);
	free(c);
}
