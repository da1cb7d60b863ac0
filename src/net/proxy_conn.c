/* Proxy handshakes on a connected non-blocking socket, and their driver
 * on the event loop. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/compat.h"
#include "net/proxy.h"
#include "net/stream.h"
#include "net/tls.h"

enum {
	ST_HTTP_HEAD = 1, /* reading the response head */
	ST_S4_REPLY,
	ST_S5_METHOD,
	ST_S5_AUTH,
	ST_S5_HEAD, /* first 5 bytes of the reply */
	ST_S5_REST,
};

static void queue(struct proxy_hs *h, size_t n, int next, size_t want)
{
	h->outlen = n;
	h->outoff = 0;
	h->stage = next;
	h->inlen = 0;
	h->want = want;
}

int proxy_hs_init(struct proxy_hs *h, const struct proxy_target *t, char *err, size_t errlen)
{
	memset(h, 0, sizeof *h);
	h->t = *t;
	size_t n;
	switch (t->type) {
	case PROXY_HTTP:
		n = proxy_http_request(t, (char *)h->out, sizeof h->out, err, errlen);
		queue(h, n, ST_HTTP_HEAD, 4);
		break;
	case PROXY_SOCKS4:
		n = proxy_socks4_request(t, h->out, sizeof h->out, err, errlen);
		queue(h, n, ST_S4_REPLY, 8);
		break;
	default:
		n = proxy_socks5_greeting(t, h->out, sizeof h->out);
		queue(h, n, ST_S5_METHOD, 2);
		break;
	}
	return n ? 0 : -1;
}

/* How many bytes of "\r\n\r\n" the head already ends with. */
static size_t crlf_suffix(const uint8_t *b, size_t n)
{
	static const char pat[] = "\r\n\r\n";
	for (size_t k = 3; k > 0; k--)
		if (n >= k && memcmp(b + n - k, pat, k) == 0)
			return k;
	return 0;
}

/* A whole message has arrived in h->in: decide what comes next. */
static int advance(struct proxy_hs *h, char *err, size_t errlen)
{
	size_t n;
	long len;
	switch (h->stage) {
	case ST_HTTP_HEAD:
		len = proxy_http_response((const char *)h->in, h->inlen, err, errlen);
		if (len < 0)
			return PROXY_FAIL;
		if (len == 0) {
			/* Read only as much as cannot overrun the blank line: the
			 * tunnel's first bytes must stay in the socket. */
			h->want = h->inlen + 4 - crlf_suffix(h->in, h->inlen);
			if (h->want > sizeof h->in) {
				snprintf(err, errlen, "proxy response head longer than %d bytes",
					 PROXY_HEAD_MAX);
				return PROXY_FAIL;
			}
			return PROXY_WANT_READ;
		}
		return PROXY_DONE;
	case ST_S4_REPLY:
		return proxy_socks4_reply(h->in, h->inlen, err, errlen) < 0 ? PROXY_FAIL
									    : PROXY_DONE;
	case ST_S5_METHOD:
		if (proxy_socks5_method(h->in, h->inlen, h->t.user != NULL, &h->method, err,
					errlen) < 0)
			return PROXY_FAIL;
		if (h->method == 2) {
			n = proxy_socks5_auth(&h->t, h->out, sizeof h->out, err, errlen);
			if (!n)
				return PROXY_FAIL;
			queue(h, n, ST_S5_AUTH, 2);
			return PROXY_WANT_WRITE;
		}
		goto request;
	case ST_S5_AUTH:
		if (proxy_socks5_auth_reply(h->in, h->inlen, err, errlen) < 0)
			return PROXY_FAIL;
	request:
		n = proxy_socks5_request(&h->t, h->out, sizeof h->out, err, errlen);
		if (!n)
			return PROXY_FAIL;
		queue(h, n, ST_S5_HEAD, 5);
		return PROXY_WANT_WRITE;
	case ST_S5_HEAD:
		len = proxy_socks5_reply_len(h->in, h->inlen, err, errlen);
		if (len < 0)
			return PROXY_FAIL;
		h->stage = ST_S5_REST;
		h->want = (size_t)len;
		if (h->want > h->inlen)
			return PROXY_WANT_READ;
		FALLTHROUGH;
	case ST_S5_REST:
		return proxy_socks5_reply(h->in, h->inlen, err, errlen) < 0 ? PROXY_FAIL
									    : PROXY_DONE;
	}
	snprintf(err, errlen, "proxy handshake in a bad state");
	return PROXY_FAIL;
}

int proxy_hs_step(struct proxy_hs *h, struct stream *s, char *err, size_t errlen)
{
	for (;;) {
		if (h->outoff < h->outlen) {
			ssize_t w = stream_write(s, h->out + h->outoff, h->outlen - h->outoff);
			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return PROXY_WANT_WRITE;
				snprintf(err, errlen, "send to proxy: %s", strerror(errno));
				return PROXY_FAIL;
			}
			h->outoff += (size_t)w;
			continue;
		}
		if (h->inlen < h->want) {
			ssize_t r = stream_read(s, h->in + h->inlen, h->want - h->inlen);
			if (r < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return PROXY_WANT_READ;
				snprintf(err, errlen, "read from proxy: %s", strerror(errno));
				return PROXY_FAIL;
			}
			if (r == 0) {
				snprintf(err, errlen,
					 "proxy closed the connection during the "
					 "handshake");
				return PROXY_FAIL;
			}
			h->inlen += (size_t)r;
			if (h->inlen < h->want)
				continue;
		}
		int st = advance(h, err, errlen);
		if (st == PROXY_DONE || st == PROXY_FAIL)
			return st;
	}
}

/* ---- on the loop ---- */

struct proxy_conn {
	struct loop *loop;
	struct stream *s;	   /* owned until handed to cb */
	struct tls_handshake *tls; /* with an https proxy, until it is done */
	struct proxy_hs hs;
	struct timer timer;
	proxy_cb cb;
	void *arg;
};

static void finish(struct proxy_conn *c, const char *errtext)
{
	struct loop *l = c->loop;
	proxy_cb cb = c->cb;
	void *arg = c->arg;
	struct stream *s = c->s; /* NULL when the TLS handshake failed */
	if (s) {
		stream_want(s, 0);
		stream_set_cb(s, NULL, NULL);
	}
	loop_timer_stop(l, &c->timer);
	if (errtext) {
		stream_close(s);
		s = NULL;
	}
	char text[700];
	snprintf(text, sizeof text, "%s", errtext ? errtext : "");
	free(c);
	cb(l, s, text, arg);
}

static void on_io(struct stream *s, int ready, void *arg)
{
	(void)ready;
	struct proxy_conn *c = arg;
	char err[200];
	int st = proxy_hs_step(&c->hs, s, err, sizeof err);
	if (st == PROXY_DONE)
		finish(c, NULL);
	else if (st == PROXY_FAIL)
		finish(c, err);
	else if (stream_want(s, st == PROXY_WANT_READ ? STREAM_READ : STREAM_WRITE) < 0)
		finish(c, "cannot watch the proxy connection");
}

static void on_timeout(struct loop *l, void *arg)
{
	struct proxy_conn *c = arg;
	(void)l;
	if (c->tls) {
		/* The handshake stage holds the stream: it goes with it. */
		tls_handshake_cancel(c->tls);
		c->tls = NULL;
		finish(c, "TLS handshake with the proxy timed out");
		return;
	}
	finish(c, "proxy handshake timed out");
}

static int start_hs(struct proxy_conn *c, char *err, size_t errlen)
{
	stream_set_cb(c->s, on_io, c);
	if (stream_want(c->s, STREAM_WRITE) < 0) {
		snprintf(err, errlen, "watch proxy connection: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void on_proxy_tls(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
			 void *arg)
{
	(void)l;
	(void)kind;
	struct proxy_conn *c = arg;
	c->tls = NULL;
	char err[700];
	if (!s) {
		snprintf(err, sizeof err, "TLS to the proxy: %s", errtext);
		finish(c, err);
		return;
	}
	c->s = s;
	if (start_hs(c, err, sizeof err) < 0)
		finish(c, err);
}

struct proxy_conn *proxy_start(struct loop *l, struct stream *s, const struct proxy_target *t,
			       int timeout_ms, proxy_cb cb, void *arg, char *err, size_t errlen)
{
	/* s is ours whatever happens: closed on every failure here. */
	struct proxy_conn *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		stream_close(s);
		return NULL;
	}
	if (proxy_hs_init(&c->hs, t, err, errlen) < 0) {
		free(c);
		stream_close(s);
		return NULL;
	}
	c->loop = l;
	c->cb = cb;
	c->arg = arg;
	timer_init(&c->timer, on_timeout, c);
	if (t->tls) {
		/* The proxy's own TLS first; s belongs to the stage now. */
		c->tls =
		    tls_handshake_start(l, t->tls, s, t->tls_host, 0, on_proxy_tls, c, err, errlen);
		if (!c->tls) {
			free(c);
			return NULL;
		}
	} else {
		c->s = s;
		if (start_hs(c, err, errlen) < 0) {
			free(c);
			stream_close(s);
			return NULL;
		}
	}
	loop_timer_start(l, &c->timer, timeout_ms > 0 ? timeout_ms : 30000);
	return c;
}

void proxy_cancel(struct proxy_conn *c)
{
	if (!c)
		return;
	loop_timer_stop(c->loop, &c->timer);
	tls_handshake_cancel(c->tls);
	stream_close(c->s);
	free(c);
}
