#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/crlf.h"
#include "net/hexlog.h"
#include "net/relay.h"
#include "net/splice_pipe.h"
#include "net/stream.h"

#define COPY_BUF (256 * 1024)
/* A pump that may splice starts copying through this much: most
 * connections carry a few small messages, and a pipe costs four system
 * calls to make and close. A read that fills it marks a bulk transfer,
 * which goes on through a pipe. */
#define SMALL_BUF BUF_CACHE_SIZE
#define CHUNK	  (1024 * 1024)
/* Rounds per readiness event before giving others a turn. */
#define ROUNDS 8
/* With a held shutdown: a reply that has paused this long is taken as
 * complete. */
#define REPLY_PAUSE_MS 200
/* A tunnel that closes this soon after our shutdown, with nothing ever
 * received, was most likely torn down by the proxy. */
#define TUNNEL_CLOSE_MS 500

enum pump_mode { PM_COPY, PM_SPLICE, PM_SENDFILE };

struct pump {
	struct stream *in, *out; /* not owned */
	bool in_sock, out_sock;
	bool dgram;
	enum pump_mode mode;
	struct buf buf; /* PM_COPY; allocated on first use */
	int pipe[2];	/* PM_SPLICE; owned */
	size_t inpipe, pipecap;
	bool pipe_full;
	bool eof, done, off;
	/* PM_SPLICE: the last read took less than it asked for: the socket
	 * is most likely empty, and asking again would only say EAGAIN
	 * (the loop reports it again if not). */
	bool short_read;
	/* PM_COPY that may splice: splice_later until a read fills the
	 * small buffer (go_splice), then PM_SPLICE once the buffer is out. */
	bool splice_later, go_splice;
	int err;		 /* errno of a failure, 0 if none */
	bool err_on_out;	 /* the failure was writing (else reading) */
	uint64_t bytes, spliced; /* spliced: of bytes, moved without a copy */
	struct hexlog *log;	 /* not owned */
	int logdir;
	bool crlf, prev_cr;
};

struct relay {
	struct loop *loop;
	struct pump up, down; /* local -> socket, socket -> local */
	struct stream *sock;
	char peer[160];
	struct relay_opts o;
	relay_done_cb cb;
	void *arg;
	struct timer idle, quit, start;
	int64_t start_ms, end_ms, last_activity;
	bool finished;
	/* The shutdown held back after local EOF (o.shutdown_delay_ms). */
	struct timer fin;
	bool fin_held, fin_sent, replied;
	uint64_t received_at_eof;
	int64_t last_received, fin_ms;
	struct stream *streams[3]; /* distinct streams used, NULL unused */
};

/* Zero-copy where both streams can: sendfile from a regular file,
 * splice through a pipe otherwise; a stream type that cannot (TLS) has
 * no such operations and the pump copies. */
static enum pump_mode pick_mode(const struct stream *in, const struct stream *out, bool dgram,
				bool zero_copy)
{
	if (!zero_copy || dgram)
		return PM_COPY;
	if (stream_has(in, STREAM_F_REGULAR) && stream_raw_fd(in) >= 0 &&
	    stream_has(out, STREAM_F_SENDFILE))
		return PM_SENDFILE;
	if (stream_has(in, STREAM_F_SPLICE_READ) && stream_has(out, STREAM_F_SPLICE_WRITE))
		return PM_SPLICE;
	return PM_COPY;
}

static bool pipe_take(struct pump *p)
{
	return splice_pipe_take(p->pipe, &p->pipecap);
}

/* Back to the pool when it is known to be empty; closed otherwise. */
static void pipe_give(struct pump *p)
{
	splice_pipe_give(p->pipe, p->pipecap, p->inpipe == 0 && !p->err);
}

static void pump_init(struct pump *p, struct stream *in, struct stream *out, bool dgram,
		      bool zero_copy)
{
	memset(p, 0, sizeof *p);
	p->in = in;
	p->out = out;
	p->in_sock = stream_has(in, STREAM_F_SOCKET);
	p->out_sock = stream_has(out, STREAM_F_SOCKET);
	p->dgram = dgram;
	p->pipe[0] = p->pipe[1] = -1;
	p->mode = pick_mode(in, out, dgram, zero_copy);
	if (p->mode == PM_SPLICE) {
		p->mode = PM_COPY;
		p->splice_later = true;
	}
}

/* A bulk transfer's copy buffer is out: the rest goes through a pipe. */
static void to_splice(struct pump *p)
{
	p->splice_later = p->go_splice = false;
	if (!pipe_take(p))
		return; /* copies on */
	buf_free(&p->buf);
	p->mode = PM_SPLICE;
}

static void pump_free(struct pump *p)
{
	buf_free(&p->buf);
	if (p->pipe[0] >= 0)
		pipe_give(p);
}

static void fail(struct pump *p, int err, bool on_out)
{
	p->err = err;
	p->err_on_out = on_out;
	p->eof = true;
	p->done = true;
}

/* Leaves splice mode for the copy path, keeping what is in the pipe. */
static bool to_copy(struct pump *p)
{
	if (!buf_init(&p->buf, p->pipecap > COPY_BUF ? p->pipecap : COPY_BUF)) {
		fail(p, ENOMEM, false);
		return false;
	}
	while (p->inpipe) {
		size_t room;
		char *t = buf_tail(&p->buf, &room);
		/* not a stream: the pump's own splice pipe */
		ssize_t n = read(p->pipe[0], t, room);
		if (n <= 0)
			break;
		buf_commit(&p->buf, (size_t)n);
		p->inpipe -= (size_t)n;
	}
	close(p->pipe[0]);
	close(p->pipe[1]);
	p->pipe[0] = p->pipe[1] = -1;
	p->mode = PM_COPY;
	return true;
}

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static bool step_copy(struct pump *p)
{
	bool progress = false;
	if (!p->buf.data && !buf_init(&p->buf, p->splice_later ? SMALL_BUF : COPY_BUF)) {
		fail(p, ENOMEM, false);
		return false;
	}
	if (buf_len(&p->buf)) {
		ssize_t n = stream_write(p->out, buf_head(&p->buf), buf_len(&p->buf));
		if (n > 0) {
			buf_consume(&p->buf, (size_t)n);
			p->bytes += (uint64_t)n;
			progress = true;
		} else if (n < 0 && !again()) {
			fail(p, errno, true);
			return false;
		}
	}
	if (p->go_splice && !buf_len(&p->buf)) {
		to_splice(p);
		return true;
	}
	bool can_read =
	    !p->eof && !p->short_read && buf_space(&p->buf) > 0 && (!p->dgram || !buf_len(&p->buf));
	if (can_read) {
		size_t room;
		char *t = buf_tail(&p->buf, &room);
		/* -C: read at most half the room, so every "\n" can grow. */
		ssize_t n = stream_read(p->in, t, p->crlf && room > 1 ? room / 2 : room);
		if (n > 0 && p->splice_later) {
			/* A plain socket (what splices) that gave less than
			 * asked is most likely empty: asking again would only
			 * say EAGAIN. */
			if ((size_t)n < room)
				p->short_read = p->in_sock;
			else
				p->go_splice = true;
		}
		if (n > 0) {
			if (p->crlf)
				n = (ssize_t)crlf_expand(t, (size_t)n, &p->prev_cr);
			if (p->log)
				hexlog_data(p->log, p->logdir, t, (size_t)n);
			buf_commit(&p->buf, (size_t)n);
			progress = true;
		} else if (n == 0 && !(p->dgram && p->in_sock)) {
			p->eof = true;
			progress = true;
		} else if (n == 0) {
			/* An empty datagram: pass it on as one. */
			if (p->out_sock && stream_write(p->out, "", 0) < 0 && !again()) {
				fail(p, errno, true);
				return false;
			}
			progress = true;
		} else if (n < 0 && !again()) {
			fail(p, errno, false);
			return false;
		}
	}
	return progress;
}

static bool step_splice(struct pump *p)
{
	bool progress = false;
	if (p->inpipe) {
		ssize_t n = p->out->ops->splice_write(p->out, p->pipe[0], p->inpipe);
		if (n > 0) {
			p->inpipe -= (size_t)n;
			p->bytes += (uint64_t)n;
			p->spliced += (uint64_t)n;
			p->pipe_full = false;
			progress = true;
		} else if (n < 0 && errno == EINVAL) {
			return to_copy(p);
		} else if (n < 0 && !again()) {
			fail(p, errno, true);
			return false;
		}
	}
	if (p->short_read)
		return progress; /* drained by the last read: wait for the loop */
	if (!p->eof && !p->pipe_full && p->inpipe < p->pipecap) {
		size_t ask = p->pipecap - p->inpipe;
		ssize_t n = p->in->ops->splice_read(p->in, p->pipe[1], ask);
		if (n > 0) {
			p->inpipe += (size_t)n;
			p->short_read = (size_t)n < ask;
			progress = true;
		} else if (n == 0) {
			p->eof = true;
			progress = true;
		} else if (errno == EAGAIN) {
			/* With bytes in the pipe, EAGAIN may mean the pipe ran
			 * out of slots (partly filled pages), not that the
			 * input is empty: wait for the output side instead of
			 * spinning on readable input. */
			if (p->inpipe)
				p->pipe_full = true;
		} else if (errno == EINVAL) {
			return to_copy(p);
		} else if (errno != EINTR) {
			fail(p, errno, false);
			return false;
		}
	}
	return progress;
}

static bool step_sendfile(struct pump *p)
{
	ssize_t n = p->out->ops->sendfile(p->out, stream_raw_fd(p->in), CHUNK);
	if (n > 0) {
		p->bytes += (uint64_t)n;
		p->spliced += (uint64_t)n;
		return true;
	}
	if (n == 0) {
		p->eof = true;
		return true;
	}
	if (errno == EINVAL || errno == ENOSYS) {
		p->mode = PM_COPY;
		return true;
	}
	if (errno != EAGAIN && errno != EINTR)
		fail(p, errno, true);
	return false;
}

static size_t pending(const struct pump *p)
{
	return p->mode == PM_SPLICE ? p->inpipe : buf_len(&p->buf);
}

/* Moves what can be moved now; returns whether any byte moved. */
static bool pump_run(struct pump *p)
{
	if (p->done || p->off)
		return false;
	bool any = false;
	p->short_read = false;
	for (int i = 0; i < ROUNDS && !p->done; i++) {
		bool prog;
		switch (p->mode) {
		case PM_SPLICE:
			prog = step_splice(p);
			break;
		case PM_SENDFILE:
			prog = step_sendfile(p);
			break;
		default:
			prog = step_copy(p);
			break;
		}
		if (p->eof && !pending(p))
			p->done = true;
		if (!prog)
			break;
		any = true;
		if (p->short_read && !pending(p))
			break;
	}
	return any;
}

static int want_in(const struct pump *p)
{
	if (p->done || p->off || p->eof)
		return 0;
	switch (p->mode) {
	case PM_SENDFILE:
		return 0;
	case PM_SPLICE:
		return !p->pipe_full && p->inpipe < p->pipecap;
	default:
		return !p->buf.data || (buf_space(&p->buf) > 0 && (!p->dgram || !buf_len(&p->buf)));
	}
}

static int want_out(const struct pump *p)
{
	if (p->done || p->off)
		return 0;
	if (p->mode == PM_SENDFILE)
		return !p->eof;
	return pending(p) > 0;
}

static void relay_finish(struct relay *r, int status, const char *text);

static void update(struct relay *r)
{
	for (int i = 0; i < 3; i++) {
		struct stream *s = r->streams[i];
		if (!s)
			continue;
		int m = 0;
		if (r->up.in == s && want_in(&r->up))
			m |= STREAM_READ;
		if (r->down.in == s && want_in(&r->down))
			m |= STREAM_READ;
		if (r->up.out == s && want_out(&r->up))
			m |= STREAM_WRITE;
		if (r->down.out == s && want_out(&r->down))
			m |= STREAM_WRITE;
		if (stream_want(s, m) < 0 && m) {
			char t[256];
			snprintf(t, sizeof t, "cannot watch fd %d: %s", s->fd,
				 errno == ERANGE ? "beyond what select can watch (FD_SETSIZE)"
						 : strerror(errno));
			relay_finish(r, 1, t);
			return;
		}
	}
}

static void describe(struct relay *r, const struct pump *p, char *t, size_t tl)
{
	bool sock_side = p->err_on_out ? p->out_sock : p->in_sock;
	const char *what = p->err_on_out ? "write to" : "read from";
	const char *who = sock_side ? r->peer : p->err_on_out ? "stdout" : "stdin";
	if (r->o.local_name && (p->err_on_out ? p->out : p->in) != r->sock)
		who = r->o.local_name;
	if (p->err == ECONNREFUSED && r->o.dgram && sock_side) {
		/* The refusal of an earlier datagram shows up on any later
		 * call: name the cause, not the call. */
		snprintf(t, tl, "%s: Connection refused (port unreachable)", r->peer);
		return;
	}
	snprintf(t, tl, "%s %s: %s", what, who, strerror(p->err));
}

/* Decides whether the relay is over, after any progress or event. True
 * when it ended: r is then not to be touched (the done callback may
 * have freed it). */
static bool check_done(struct relay *r)
{
	struct pump *up = &r->up, *down = &r->down;
	char t[512];
	if (up->err) {
		/* The local reader went away (EPIPE on stdout is the same
		 * below): a quiet failure. */
		describe(r, up, t, sizeof t);
		relay_finish(r, 1, up->err == EPIPE && !up->out_sock ? "" : t);
		return true;
	}
	if (down->err) {
		if (down->err_on_out && !down->out_sock && down->err == EPIPE) {
			relay_finish(r, 1, "");
			return true;
		}
		describe(r, down, t, sizeof t);
		relay_finish(r, 1, t);
		return true;
	}
	bool up_over = up->done || up->off;
	bool down_over = down->done || down->off;
	if (down->done && r->o.tunnel && r->fin_sent && up->bytes && !down->bytes &&
	    loop_now(r->loop) - r->fin_ms <= TUNNEL_CLOSE_MS) {
		snprintf(t, sizeof t,
			 "%s closed the tunnel right after the end of input, with nothing "
			 "received: the proxy may have dropped the reply (see --shutdown-delay)",
			 r->peer);
		relay_finish(r, 1, t);
		return true;
	}
	if (up_over && down_over) {
		relay_finish(r, 0, NULL);
		return true;
	}
	if (down->done && !up_over && r->o.local_is_tty) {
		/* The peer closed and a person is typing: nothing more to do. */
		relay_finish(r, 0, NULL);
		return true;
	}
	if (up_over && r->o.send_only) {
		relay_finish(r, 0, NULL);
		return true;
	}
	return false;
}

static void on_quit(struct loop *l, void *arg)
{
	relay_finish(arg, 0, NULL);
}

static void on_idle(struct loop *l, void *arg)
{
	struct relay *r = arg;
	int64_t limit = r->o.idle_ms;
	bool post_eof_dgram = r->o.dgram && (r->up.done || r->up.off);
	if (post_eof_dgram && r->o.dgram_wait_ms > 0 && (!limit || r->o.dgram_wait_ms < limit))
		limit = r->o.dgram_wait_ms;
	int64_t left = r->last_activity + limit - loop_now(l);
	if (left > 0) {
		loop_timer_start(l, &r->idle, left);
		return;
	}
	if (post_eof_dgram) {
		relay_finish(r, 0, NULL);
		return;
	}
	char t[96];
	snprintf(t, sizeof t, "idle timeout: no data for %.3g s", (double)limit / 1000.0);
	relay_finish(r, 1, t);
}

static void arm_idle(struct relay *r)
{
	int64_t limit = r->o.idle_ms;
	if (r->o.dgram && (r->up.done || r->up.off) && r->o.dgram_wait_ms > 0 &&
	    (!limit || r->o.dgram_wait_ms < limit))
		limit = r->o.dgram_wait_ms;
	if (limit > 0 && !timer_armed(&r->idle))
		loop_timer_start(r->loop, &r->idle, limit);
}

/* A plain socket: its close sends the FIN, and a read says EAGAIN when
 * it is empty (recv takes MSG_DONTWAIT: a socket is never gated). */
static bool plain_socket(const struct stream *s)
{
	return s->ops == &stream_fd_ops && stream_has(s, STREAM_F_SOCKET);
}

/* Whether s's FIN can be left to the close that follows the end (see
 * o.closed_at_end): both ways are read to their end, so the close
 * finds nothing unread (which would make it a reset). */
static bool fin_by_close(const struct relay *r, const struct stream *s)
{
	return r->o.closed_at_end && r->up.done && r->down.done && !r->up.err && !r->down.err &&
	       plain_socket(s);
}

static void send_fin(struct relay *r)
{
	if (!fin_by_close(r, r->sock))
		stream_shutdown_write(r->sock);
	r->fin_held = false;
	r->fin_sent = true;
	r->fin_ms = loop_now(r->loop);
	loop_timer_stop(r->loop, &r->fin);
}

static void on_fin(struct loop *l, void *arg)
{
	struct relay *r = arg;
	int64_t left = r->replied ? r->last_received + REPLY_PAUSE_MS - loop_now(l) : 0;
	if (left > 0)
		loop_timer_start(l, &r->fin, left);
	else
		send_fin(r);
}

/* Called after the pumps moved bytes: the first reply after local EOF
 * shortens the wait to a pause in the reply. */
static void fin_note_reply(struct relay *r)
{
	if (!r->fin_held || r->down.bytes == r->received_at_eof)
		return;
	r->last_received = loop_now(r->loop);
	if (!r->replied) {
		r->replied = true;
		loop_timer_start(r->loop, &r->fin, REPLY_PAUSE_MS);
	}
}

static void after_up_done(struct relay *r)
{
	struct pump *up = &r->up;
	if (up->out_sock && !up->dgram && !r->o.no_shutdown) {
		if (r->o.shutdown_delay_ms > 0 && !r->down.done && !r->down.off) {
			r->fin_held = true;
			r->received_at_eof = r->down.bytes;
			loop_timer_start(r->loop, &r->fin, r->o.shutdown_delay_ms);
		} else {
			send_fin(r);
		}
	}
	if (r->o.quit_after_eof_ms >= 0 && !timer_armed(&r->quit))
		loop_timer_start(r->loop, &r->quit, r->o.quit_after_eof_ms);
	if (up->dgram) {
		/* Wait for replies from the time input ended. */
		r->last_activity = loop_now(r->loop);
		loop_timer_stop(r->loop, &r->idle);
		arm_idle(r);
	}
}

/* Whether an event on s is for p. For a plain fd, only what s may do
 * now can move p's bytes: reading its input, or writing its output (a
 * socket that is one pump's input and the other's output, readable, has
 * nothing for the other: trying it would only cost a call that says
 * EAGAIN). Other types (TLS) move bytes of their own on either event:
 * both pumps try. */
static bool concerns(const struct pump *p, const struct stream *s, int ready)
{
	if (s != p->in && s != p->out)
		return false;
	if (s->ops != &stream_fd_ops)
		return true;
	return (s == p->in && (ready & STREAM_READ)) || (s == p->out && (ready & STREAM_WRITE));
}

static void on_io(struct stream *s, int ready, void *arg)
{
	struct relay *r = arg;
	bool up_was = r->up.done, down_was = r->down.done;
	bool moved = false;
	if (!r->up.done && concerns(&r->up, s, ready))
		moved |= pump_run(&r->up);
	if (!r->down.done && concerns(&r->down, s, ready))
		moved |= pump_run(&r->down);
	if (moved)
		r->last_activity = loop_now(r->loop);
	fin_note_reply(r);
	if (!up_was && r->up.done && !r->up.err)
		after_up_done(r);
	if (!down_was && r->down.done && !r->down.err && r->o.pass_eof &&
	    !fin_by_close(r, r->down.out))
		stream_shutdown_write(r->down.out);
	if (!check_done(r))
		update(r);
}

static void add_stream(struct relay *r, struct stream *s)
{
	for (int i = 0; i < 3; i++) {
		if (r->streams[i] == s)
			return;
		if (!r->streams[i]) {
			r->streams[i] = s;
			stream_set_cb(s, on_io, r);
			return;
		}
	}
}

static void on_start(struct loop *l, void *arg)
{
	struct relay *r = arg;
	/* Only a plain socket: other types decide readiness themselves. */
	if (r->o.read_first && !r->up.off && plain_socket(r->up.in)) {
		on_io(r->up.in, STREAM_READ, r);
		return;
	}
	if (!check_done(r))
		update(r);
}

struct relay *relay_start(struct loop *l, struct stream *in, struct stream *out,
			  struct stream *sock, const char *peer, const struct relay_opts *o,
			  relay_done_cb cb, void *arg)
{
	struct relay *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->loop = l;
	r->sock = sock;
	r->o = *o;
	r->cb = cb;
	r->arg = arg;
	snprintf(r->peer, sizeof r->peer, "%s", peer ? peer : "socket");
	/* Logging and -C need to see the bytes: no zero-copy then. */
	bool zc = o->zero_copy && !o->log && !o->crlf;
	pump_init(&r->up, in, sock, o->dgram, zc);
	pump_init(&r->down, sock, out, o->dgram, zc);
	r->up.log = r->down.log = o->log;
	r->up.logdir = HEXLOG_SENT;
	r->down.logdir = HEXLOG_RECV;
	r->up.crlf = o->crlf;
	r->up.off = o->recv_only;
	r->down.off = o->send_only;
	if (!o->recv_only)
		add_stream(r, in);
	add_stream(r, sock);
	if (!o->send_only)
		add_stream(r, out);
	timer_init(&r->idle, on_idle, r);
	timer_init(&r->quit, on_quit, r);
	timer_init(&r->fin, on_fin, r);
	r->start_ms = r->last_activity = loop_now(l);
	arm_idle(r);
	/* Start from the loop, so done never runs inside relay_start. */
	timer_init(&r->start, on_start, r);
	loop_timer_start(l, &r->start, 0);
	return r;
}

void relay_get_stats(const struct relay *r, struct relay_stats *st)
{
	st->sent = r->up.bytes;
	st->received = r->down.bytes;
	st->spliced = r->up.spliced + r->down.spliced;
	st->start_ms = r->start_ms;
	st->end_ms = r->end_ms ? r->end_ms : clock_ms();
}

struct stream *relay_failed_stream(const struct relay *r, int *err)
{
	const struct pump *p = r->up.err ? &r->up : r->down.err ? &r->down : NULL;
	*err = p ? p->err : 0;
	return p ? (p->err_on_out ? p->out : p->in) : NULL;
}

/* Off the loop: no timer and no fd watched any more. */
static void relay_detach(struct relay *r)
{
	loop_timer_stop(r->loop, &r->idle);
	loop_timer_stop(r->loop, &r->quit);
	loop_timer_stop(r->loop, &r->start);
	loop_timer_stop(r->loop, &r->fin);
	/* Left registered for whoever has them next: closing them (as most
	 * callers do at once) or their next want changes that in one step. */
	for (int i = 0; i < 3; i++)
		if (r->streams[i]) {
			stream_want_later(r->streams[i]);
			stream_set_cb(r->streams[i], NULL, NULL);
		}
}

static void relay_finish(struct relay *r, int status, const char *text)
{
	if (r->finished)
		return;
	r->finished = true;
	r->end_ms = clock_ms();
	relay_detach(r);
	r->cb(r->loop, status, text ? text : "", r->arg);
}

void relay_free(struct relay *r)
{
	if (!r)
		return;
	if (!r->finished)
		relay_detach(r);
	pump_free(&r->up);
	pump_free(&r->down);
	free(r);
}
