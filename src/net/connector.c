#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/connector.h"
#include "net/stream.h"

struct connector {
	struct loop *loop;
	struct addrinfo *res; /* owned unless borrowed */
	bool borrowed;
	struct addrinfo *cur;
	struct stream *s;   /* the socket being connected; owned */
	struct timer timer; /* per-address timeout, or the deferred start */
	struct connect_opts o;
	connector_cb cb;
	void *arg;
	int last_err;
	char errtext[SOCK_ERRLEN + SOCK_ADDRSTRLEN];
};

static void try_next(struct connector *c);

static void finish(struct connector *c, struct stream *s)
{
	struct loop *l = c->loop;
	connector_cb cb = c->cb;
	void *arg = c->arg;
	int err = s ? 0 : c->last_err;
	char text[sizeof c->errtext];
	memcpy(text, c->errtext, sizeof text);
	loop_timer_stop(l, &c->timer);
	if (!c->borrowed)
		sock_freeaddrinfo(c->res);
	free(c);
	cb(l, s, err, s ? "" : text, arg);
}

static void fail_current(struct connector *c, int err)
{
	char a[SOCK_ADDRSTRLEN];
	c->last_err = err;
	snprintf(c->errtext, sizeof c->errtext, "connect %s: %s",
		 sock_addr_str(c->cur->ai_addr, c->cur->ai_addrlen, a, sizeof a),
		 err == ETIMEDOUT ? "Connection timed out" : strerror(err));
	stream_close(c->s);
	c->s = NULL;
	loop_timer_stop(c->loop, &c->timer);
	c->cur = c->cur->ai_next;
	try_next(c);
}

static void on_writable(struct stream *s, int ready, void *arg)
{
	(void)ready;
	struct connector *c = arg;
	int e = stream_event_clean(s) ? 0 : sock_connect_result(s->fd);
	if (e) {
		fail_current(c, e);
		return;
	}
	/* Whoever takes the stream changes the registration in one step. */
	stream_want_later(s);
	stream_set_cb(s, NULL, NULL);
	c->s = NULL;
	finish(c, s);
}

static void on_timeout(struct loop *l, void *arg)
{
	fail_current(arg, ETIMEDOUT);
}

static void try_next(struct connector *c)
{
	for (; c->cur; c->cur = c->cur->ai_next) {
		struct addrinfo *ai = c->cur;
		int fd = sock_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			c->last_err = errno;
			snprintf(c->errtext, sizeof c->errtext, "socket: %s", strerror(errno));
			continue;
		}
		char err[SOCK_ERRLEN];
		if (c->o.prepare && c->o.prepare(fd, c->o.prepare_arg, err, sizeof err) < 0) {
			c->last_err = errno;
			snprintf(c->errtext, sizeof c->errtext, "%s", err);
			close(fd);
			continue;
		}
		if ((c->o.src_host || c->o.src_port) && ai->ai_family != AF_UNIX &&
		    sock_bind_source(fd, ai->ai_family, ai->ai_socktype, c->o.src_host,
				     c->o.src_port, err, sizeof err) < 0) {
			c->last_err = errno;
			snprintf(c->errtext, sizeof c->errtext, "%s", err);
			close(fd);
			continue;
		}
		if (ai->ai_family == AF_UNIX && ai->ai_socktype == SOCK_DGRAM) {
			/* Autobind to an abstract name so the server can reply. */
			sa_family_t fam = AF_UNIX;
			bind(fd, (struct sockaddr *)&fam, sizeof fam);
		}
		/* A fresh non-blocking stream socket needs no system calls to
		 * find out what it is. */
		c->s = ai->ai_socktype == SOCK_STREAM ? stream_socket_new(c->loop, fd, STREAM_F_OWN)
						      : stream_fd_new(c->loop, fd, STREAM_F_OWN);
		if (!c->s) {
			c->last_err = errno;
			snprintf(c->errtext, sizeof c->errtext, "socket: %s", strerror(errno));
			close(fd);
			continue;
		}
		int r = sock_connect_start(fd, ai->ai_addr, ai->ai_addrlen);
		if (r < 0) {
			fail_current(c, errno);
			return;
		}
		stream_set_cb(c->s, on_writable, c);
		if (stream_want(c->s, STREAM_WRITE) < 0) {
			fail_current(c, errno == ERANGE ? EMFILE : errno);
			return;
		}
		/* r == 0 (connected at once, as UDP and Unix do) also reports
		 * through on_writable: from the loop, as promised. */
		if (r == 1 && c->o.timeout_ms > 0) {
			timer_init(&c->timer, on_timeout, c);
			loop_timer_start(c->loop, &c->timer, c->o.timeout_ms);
		}
		return;
	}
	finish(c, NULL);
}

static void on_start(struct loop *l, void *arg)
{
	try_next(arg);
}

static struct connector *start(struct loop *l, struct addrinfo *res, bool borrowed,
			       const struct connect_opts *o, connector_cb cb, void *arg)
{
	struct connector *c = calloc(1, sizeof *c);
	if (!c) {
		if (!borrowed)
			sock_freeaddrinfo(res);
		return NULL;
	}
	c->loop = l;
	c->res = c->cur = res;
	c->borrowed = borrowed;
	if (o)
		c->o = *o;
	c->cb = cb;
	c->arg = arg;
	c->last_err = ECONNREFUSED;
	snprintf(c->errtext, sizeof c->errtext, "connect: no address to try");
	/* Start from the loop so cb never runs inside connector_start. */
	timer_init(&c->timer, on_start, c);
	loop_timer_start(l, &c->timer, 0);
	return c;
}

struct connector *connector_start(struct loop *l, const struct sock_endpoint *ep,
				  const struct connect_opts *o, connector_cb cb, void *arg,
				  char *err, size_t errlen)
{
	struct addrinfo *res;
	if (sock_resolve(ep, false, &res, err, errlen) < 0)
		return NULL;
	struct connector *c = start(l, res, false, o, cb, arg);
	if (!c)
		snprintf(err, errlen, "out of memory");
	return c;
}

struct connector *connector_start_addrs(struct loop *l, struct addrinfo *res,
					const struct connect_opts *o, connector_cb cb, void *arg)
{
	return start(l, res, true, o, cb, arg);
}

void connector_cancel(struct connector *c)
{
	if (!c)
		return;
	loop_timer_stop(c->loop, &c->timer);
	stream_close(c->s);
	if (!c->borrowed)
		sock_freeaddrinfo(c->res);
	free(c);
}
