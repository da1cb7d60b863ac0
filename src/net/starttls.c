/* The STARTTLS driver: the dialogue (starttls_talk.c) over a stream on
 * the loop. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/starttls.h"
#include "net/stream.h"

/* ---- the driver ---- */

struct starttls {
	struct loop *loop;
	struct stream *s; /* owned until the callback */
	struct timer deadline;
	int timeout_ms;
	starttls_cb cb;
	void *arg;
	struct sbuf out;
	size_t sent;
	struct starttls_talk talk;
};

static void finish(struct starttls *st, bool ok, const char *why)
{
	struct loop *l = st->loop;
	starttls_cb cb = st->cb;
	void *arg = st->arg;
	struct stream *s = st->s;
	loop_timer_stop(l, &st->deadline);
	sb_free(&st->out);
	free(st);
	if (ok) {
		stream_want(s, 0);
		stream_set_cb(s, NULL, NULL);
	} else {
		stream_close(s);
		s = NULL;
	}
	cb(l, s, why, arg);
}

static void fail_io(struct starttls *st, const char *what, int e)
{
	char text[300];
	snprintf(text, sizeof text, "STARTTLS (%s): %s: %s", starttls_proto_name(st->talk.proto),
		 what, e ? strerror(e) : "the server closed the connection");
	finish(st, false, text);
}

static void on_io(struct stream *s, int ready, void *arg)
{
	struct starttls *st = arg;
	if (ready & STREAM_WRITE) {
		while (st->sent < st->out.len) {
			ssize_t w = stream_write(s, st->out.p + st->sent, st->out.len - st->sent);
			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (w <= 0) {
				fail_io(st, "sending", w < 0 ? errno : EPIPE);
				return;
			}
			st->sent += (size_t)w;
		}
		if (st->sent == st->out.len) {
			sb_reset(&st->out);
			st->sent = 0;
		}
	}
	if (ready & STREAM_READ) {
		char buf[4096];
		size_t room = sizeof st->talk.in - st->talk.inlen;
		ssize_t r = stream_read(s, buf, room < sizeof buf ? room : sizeof buf);
		if ((r < 0 && errno != EAGAIN && errno != EINTR) || r == 0) {
			fail_io(st, "reading", r ? errno : 0);
			return;
		}
		if (r > 0) {
			char err[400];
			switch (starttls_talk_feed(&st->talk, buf, (size_t)r, &st->out, err,
						   sizeof err)) {
			case STARTTLS_DONE:
				finish(st, true, NULL);
				return;
			case STARTTLS_FAIL:
				finish(st, false, err);
				return;
			default:
				break;
			}
		}
	}
	if (st->out.oom) {
		fail_io(st, "sending", ENOMEM);
		return;
	}
	if (stream_want(s, st->sent < st->out.len ? STREAM_WRITE : STREAM_READ) < 0)
		fail_io(st, "waiting", errno);
}

static void on_deadline(struct loop *l, void *arg)
{
	(void)l;
	struct starttls *st = arg;
	char text[200];
	snprintf(text, sizeof text, "STARTTLS (%s): no answer from the server in %.3g s",
		 starttls_proto_name(st->talk.proto), (double)st->timeout_ms / 1000.0);
	finish(st, false, text);
}

struct starttls *starttls_start(struct loop *l, struct stream *s, enum starttls_proto p,
				const char *host, const char *helo, int timeout_ms, starttls_cb cb,
				void *arg, char *err, size_t errlen)
{
	struct starttls *st = calloc(1, sizeof *st);
	if (!st) {
		stream_close(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->loop = l;
	st->s = s;
	st->cb = cb;
	st->arg = arg;
	st->timeout_ms = timeout_ms;
	sb_init(&st->out);
	starttls_talk_init(&st->talk, p, host, helo, &st->out);
	timer_init(&st->deadline, on_deadline, st);
	stream_set_cb(s, on_io, st);
	if (stream_want(s, st->out.len ? STREAM_WRITE : STREAM_READ) < 0) {
		snprintf(err, errlen, "STARTTLS: %s", strerror(errno));
		stream_close(s);
		sb_free(&st->out);
		free(st);
		return NULL;
	}
	if (timeout_ms > 0)
		loop_timer_start(l, &st->deadline, timeout_ms);
	return st;
}

void starttls_cancel(struct starttls *st)
{
	if (!st)
		return;
	loop_timer_stop(st->loop, &st->deadline);
	stream_close(st->s);
	sb_free(&st->out);
	free(st);
}
