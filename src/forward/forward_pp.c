/* forward's PROXY protocol: the client's header read (--accept-proxy),
 * ours sent to the target (--send-proxy). The header itself is
 * net/proxy_proto's; here it meets the streams. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "forward/forward_int.h"
#include "net/stream.h"

#define HEADER_MS 10000

struct fwd_pp_in {
	uint8_t buf[PP_V2_MAX];
	size_t len;
	struct timer deadline;
};

static void pp_failed(struct fwd_conn *c, const char *why)
{
	/* Nothing of it reaches the target: the client is closed. */
	log_error("%s: %s", c->peer_text, why);
	fwd_conn_end(c, FWD_END_CLOSE, NULL);
}

static void on_deadline(struct loop *l, void *arg)
{
	(void)l;
	struct fwd_conn *c = arg;
	char t[96];
	int ms = c->fwd->cfg.header_ms ? c->fwd->cfg.header_ms : HEADER_MS;
	snprintf(t, sizeof t, "no PROXY protocol header within %.3g s", ms / 1000.0);
	pp_failed(c, t);
}

/* The header is in: its addresses become the connection's. */
static void header_done(struct fwd_conn *c, const struct pp_info *info)
{
	struct stream *s = c->client_raw;
	stream_want(s, 0);
	stream_set_cb(s, NULL, NULL);
	fwd_pp_free(c);
	if (!info->local) {
		char via[SOCK_ADDRSTRLEN];
		snprintf(via, sizeof via, "%s", c->peer_text);
		c->peer = info->src;
		c->local = info->dst;
		sock_addr_str((const struct sockaddr *)&c->peer.ss, c->peer.len, c->peer_text,
			      sizeof c->peer_text);
		log_debug("%s: PROXY v%d header from %s", c->peer_text, info->version, via);
	}
	fwd_client_admitted(c);
}

static void on_readable(struct stream *s, int ready, void *arg)
{
	(void)ready;
	struct fwd_conn *c = arg;
	struct fwd_pp_in *p = c->ppin;
	for (;;) {
		struct pp_info info;
		size_t want;
		char err[160];
		long r = pp_parse(p->buf, p->len, &info, &want, err, sizeof err);
		if (r < 0) {
			pp_failed(c, err);
			return;
		}
		if (r > 0) {
			header_done(c, &info);
			return;
		}
		/* Only what the header still holds: the bytes after it are
		 * the client's, for the target. */
		ssize_t n = stream_read(s, p->buf + p->len, want);
		if (n == 0) {
			pp_failed(c, "closed before its PROXY protocol header ended");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				snprintf(err, sizeof err, "read: %s", strerror(errno));
				pp_failed(c, err);
			}
			return;
		}
		p->len += (size_t)n;
	}
}

void fwd_pp_read(struct fwd_conn *c)
{
	struct forward *f = c->fwd;
	if (!(c->ppin = calloc(1, sizeof *c->ppin))) {
		pp_failed(c, "out of memory");
		return;
	}
	timer_init(&c->ppin->deadline, on_deadline, c);
	loop_timer_start(f->loop, &c->ppin->deadline,
			 f->cfg.header_ms ? f->cfg.header_ms : HEADER_MS);
	stream_set_cb(c->client_raw, on_readable, c);
	if (stream_want(c->client_raw, STREAM_READ) < 0) {
		char t[96];
		snprintf(t, sizeof t, "cannot watch the connection: %s", strerror(errno));
		pp_failed(c, t);
	}
}

void fwd_pp_free(struct fwd_conn *c)
{
	if (!c->ppin)
		return;
	loop_timer_stop(c->fwd->loop, &c->ppin->deadline);
	free(c->ppin);
	c->ppin = NULL;
}

/* ---- --send-proxy ---- */

/* Writes what is left of the header: 1 once it is all sent, 0 while it
 * waits, -1 when it failed (c is gone). */
static int send_some(struct fwd_conn *c)
{
	struct stream *s = c->target;
	while (c->ppout_off < c->ppout_len) {
		ssize_t n = stream_write(s, c->ppout + c->ppout_off, c->ppout_len - c->ppout_off);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			char t[96];
			snprintf(t, sizeof t, "sending the PROXY header: %s",
				 strerror(n < 0 ? errno : EPIPE));
			fwd_target_failed(c, t);
			return -1;
		}
		c->ppout_off += (size_t)n;
	}
	return 1;
}

static void go_on(struct fwd_conn *c)
{
	/* The target stream goes back to the path's next stage. */
	struct stream *s = c->target;
	c->target = NULL;
	stream_want(s, 0);
	stream_set_cb(s, NULL, NULL);
	fwd_target_open(c, s);
}

static void on_writable(struct stream *s, int ready, void *arg)
{
	(void)s;
	(void)ready;
	struct fwd_conn *c = arg;
	if (send_some(c) > 0)
		go_on(c);
}

void fwd_pp_send(struct fwd_conn *c, struct stream *s)
{
	struct forward *f = c->fwd;
	if (!f->cfg.send_proxy) {
		fwd_target_open(c, s);
		return;
	}
	const struct sockaddr *src = c->peer.len ? (const struct sockaddr *)&c->peer.ss : NULL;
	const struct sockaddr *dst = c->local.len ? (const struct sockaddr *)&c->local.ss : NULL;
	c->ppout_len = pp_build(f->cfg.send_proxy, src, c->peer.len, dst, c->local.len, c->ppout);
	c->ppout_off = 0;
	/* Owned by the conn while the header goes (closed if it ends). */
	c->target = s;
	int r = send_some(c);
	if (r > 0) {
		go_on(c);
	} else if (r == 0) {
		stream_set_cb(s, on_writable, c);
		if (stream_want(s, STREAM_WRITE) < 0)
			fwd_target_failed(c, "cannot watch the target's connection");
	}
}
