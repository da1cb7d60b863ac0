/* Stream connections of sockctl serve: the built-in handlers, the
 * one-client relay, the many-client relay (-k) and the broker. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>
#include <sys/wait.h>

#include "tool/cmd.h"
#include "serve/serve.h"
#include "proc/spawn.h"
#include "net/stream.h"
#include "net/tcp_totals.h"
#include "core/text_escape.h"

#define PEND_MAX	  (256 * 1024) /* per-connection output queue */
#define READ_CHUNK	  (64 * 1024)
#define RESPOND_LINGER_MS 2000
/* --broker reads a client only while every queue has room for a read. */
#define BROKER_FULL (PEND_MAX - READ_CHUNK)

struct sconn {
	struct server *srv;
	int fd;
	char *pend; /* owned; allocated only while output waits */
	size_t plen, poff;
	const char *ext; /* --respond text still to send; not owned */
	size_t extlen;
	bool eof_in, shut, draining;
	struct timer idle;
	int64_t last;
	/* --broker: the queue is past BROKER_FULL, so no client is read
	 * until it drains; dropped when it took nothing for stall_ms. */
	bool full;
	struct timer stall;
	int64_t moved_at;		   /* when bytes of its queue last went out */
	struct relay *relay;		   /* one-client relay mode; owned */
	struct stream *rin, *rout, *rsock; /* the relay's streams; owned (not the fds) */
	struct sconn *prev, *next;
};

static void stdin_update(struct server *s);
static void broker_masks(struct server *s);

/* The handlers that send stdin to the clients. */
static bool takes_stdin(const struct server *s)
{
	return s->handler == H_RELAY || s->handler == H_BROKER;
}

static void conn_close(struct sconn *c)
{
	struct server *s = c->srv;
	/* The relay and its streams let go of the fd before it closes. */
	if (c->relay)
		relay_free(c->relay);
	stream_close(c->rin);
	stream_close(c->rout);
	stream_close(c->rsock);
	loop_io(s->loop, c->fd, 0, NULL, NULL);
	loop_timer_stop(s->loop, &c->idle);
	loop_timer_stop(s->loop, &c->stall);
	close(c->fd);
	free(c->pend);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	bool was_full = c->full;
	free(c);
	if (was_full && --s->nfull == 0)
		broker_masks(s);
	if (!s->keep_open && s->nconns == 0)
		loop_stop(s->loop);
	else if (takes_stdin(s))
		stdin_update(s);
}

static size_t pending(const struct sconn *c)
{
	return c->plen - c->poff + c->extlen;
}

/* Queues bytes for the peer, uncounted; false if the queue is full. */
static bool queue_bytes(struct sconn *c, const char *p, size_t n)
{
	if (c->plen - c->poff + n > PEND_MAX)
		return false;
	if (!c->pend) {
		c->pend = malloc(PEND_MAX);
		if (!c->pend)
			return false;
		c->plen = c->poff = 0;
	} else if (c->plen + n > PEND_MAX) {
		memmove(c->pend, c->pend + c->poff, c->plen - c->poff);
		c->plen -= c->poff;
		c->poff = 0;
	}
	memcpy(c->pend + c->plen, p, n);
	c->plen += n;
	c->srv->bytes_out += n;
	return true;
}

static void log_sent(struct server *s, const char *p, size_t n)
{
	if (s->no && s->no->log_open)
		hexlog_data(&s->no->log, HEXLOG_SENT, p, n);
}

/* Queues and logs bytes for the peer; false if the queue is full. */
static bool queue(struct sconn *c, const char *p, size_t n)
{
	if (!queue_bytes(c, p, n))
		return false;
	log_sent(c->srv, p, n);
	return true;
}

/* Sends p[*done..len): 1 when all is sent, 0 when the socket is full, -1
 * when the connection failed (and is closed). */
static int send_rest(struct sconn *c, const char *p, size_t len, size_t *done)
{
	while (*done < len) {
		ssize_t n = send(c->fd, p + *done, len - *done, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			vmsg("connection fd %d: send: %s", c->fd, strerror(errno));
			conn_close(c);
			return -1;
		}
		*done += (size_t)n;
	}
	return 1;
}

static bool flush_out(struct sconn *c)
{
	int r = send_rest(c, c->pend, c->plen, &c->poff);
	if (r <= 0)
		return r == 0;
	if (c->pend) {
		/* Idle connections keep no buffer. */
		free(c->pend);
		c->pend = NULL;
		c->plen = c->poff = 0;
	}
	size_t done = 0;
	r = send_rest(c, c->ext, c->extlen, &done);
	if (r < 0)
		return false;
	c->ext += done;
	c->extlen -= done;
	return true;
}

/* --broker: keeps c->full and the server's count of full queues. The
 * first full queue stops the reading of every client, the last one to
 * drain starts it again. */
static void broker_note(struct sconn *c)
{
	struct server *s = c->srv;
	bool full = pending(c) > BROKER_FULL;
	if (s->handler != H_BROKER || full == c->full)
		return;
	c->full = full;
	if (full) {
		c->moved_at = loop_now(s->loop);
		loop_timer_start(s->loop, &c->stall, s->stall_ms);
		if (s->nfull++ == 0)
			broker_masks(s);
	} else {
		loop_timer_stop(s->loop, &c->stall);
		if (--s->nfull == 0)
			broker_masks(s);
	}
}

/* Sends what is queued; false if the connection failed (and is closed). */
static bool flush(struct sconn *c)
{
	size_t before = pending(c);
	if (!flush_out(c))
		return false;
	if (pending(c) < before)
		c->moved_at = loop_now(c->srv->loop);
	broker_note(c);
	return true;
}

/* Decides the next state once output is flushed; false if closed. */
static bool settle(struct sconn *c)
{
	struct server *s = c->srv;
	if (pending(c))
		return true;
	if (s->handler == H_BROKER) {
		/* A client that has sent its last byte leaves once it has been
		 * given what was queued for it (ncat closes it at once). */
		if (c->eof_in) {
			conn_close(c);
			return false;
		}
		return true;
	}
	bool out_done =
	    c->eof_in || s->handler == H_RESPOND || (s->handler == H_RELAY && s->stdin_eof);
	if (s->handler == H_RELAY && !c->eof_in) {
		if (s->stdin_eof && !c->shut) {
			shutdown(c->fd, SHUT_WR);
			c->shut = true;
		}
		return true;
	}
	if (s->handler == H_RELAY && !s->stdin_eof)
		return true;
	if (out_done && !c->shut) {
		shutdown(c->fd, SHUT_WR);
		c->shut = true;
	}
	if (c->eof_in) {
		conn_close(c);
		return false;
	}
	if (s->handler == H_RESPOND && !c->draining) {
		/* Read what the client sent until it closes, so closing does
		 * not reset the connection and destroy the response. */
		c->draining = true;
		loop_timer_start(s->loop, &c->idle, RESPOND_LINGER_MS);
	}
	return true;
}

/* Whether c is read now: an echo waits for its own queue to drain, the
 * broker for every queue. */
static bool may_read(const struct sconn *c)
{
	if (c->eof_in)
		return false;
	return c->srv->handler == H_BROKER ? c->srv->nfull == 0 : pending(c) < PEND_MAX / 2;
}

static void conn_event(struct loop *l, int fd, int mask, void *arg);

static void conn_mask(struct sconn *c)
{
	int m = 0;
	if (pending(c))
		m |= MUX_WRITE;
	if (may_read(c))
		m |= MUX_READ;
	/* loop_io, not loop_io_mask: a mask of 0 (a broker's client held
	 * back with nothing to send it) forgets the callback. */
	loop_io(c->srv->loop, c->fd, m, conn_event, c);
}

static void broker_masks(struct server *s)
{
	for (struct sconn *c = s->conns; c; c = c->next)
		conn_mask(c);
	stdin_update(s);
}

/* A client whose queue stayed full holds everyone back: after stall_ms
 * without taking a byte it is dropped. */
static void conn_stall(struct loop *l, void *arg)
{
	struct sconn *c = arg;
	int64_t left = c->moved_at + c->srv->stall_ms - loop_now(l);
	if (left > 0) {
		loop_timer_start(l, &c->stall, left);
		return;
	}
	vmsg("connection fd %d: took nothing for %.3g s with %zu bytes queued, dropping", c->fd,
	     c->srv->stall_ms / 1000.0, pending(c));
	conn_close(c);
}

static void write_stdout(struct server *s, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* Nobody reads our output any more: stop serving. */
			if (errno != EPIPE)
				errmsg("write to stdout: %s", strerror(errno));
			s->status = EXIT_FAIL;
			loop_stop(s->loop);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void fan_out(struct server *s, struct sconn *from, const char *p, size_t n);

/* Returns false if c was closed (and freed). */
static bool conn_read(struct sconn *c)
{
	struct server *s = c->srv;
	char buf[READ_CHUNK];
	for (int i = 0; i < 4 && may_read(c); i++) {
		size_t room = sizeof buf;
		if (s->handler == H_ECHO || s->handler == H_UPPER)
			room = PEND_MAX - pending(c) < room ? PEND_MAX - pending(c) : room;
		ssize_t n = recv(c->fd, buf, room, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			vmsg("connection fd %d: recv: %s", c->fd, strerror(errno));
			conn_close(c);
			return false;
		}
		if (n == 0) {
			c->eof_in = true;
			break;
		}
		c->last = loop_now(s->loop);
		s->bytes_in += (uint64_t)n;
		if (s->no && s->no->log_open)
			hexlog_data(&s->no->log, HEXLOG_RECV, buf, (size_t)n);
		switch (s->handler) {
		case H_UPPER:
			text_upper(buf, (size_t)n);
			FALLTHROUGH;
		case H_ECHO:
			if (!queue(c, buf, (size_t)n)) {
				conn_close(c);
				return false;
			}
			if (!flush(c))
				return false;
			break;
		case H_RELAY:
			write_stdout(s, buf, (size_t)n);
			break;
		case H_BROKER:
			fan_out(s, c, buf, (size_t)n);
			break;
		default: /* discard, and draining after --respond */
			break;
		}
		if ((size_t)n < room)
			break;
	}
	return true;
}

static void conn_event(struct loop *l, int fd, int mask, void *arg)
{
	struct sconn *c = arg;
	struct server *s = c->srv;
	if (mask & MUX_WRITE) {
		if (!flush(c))
			return;
	}
	/* (The broker may close other clients while c reads.) */
	if ((mask & MUX_READ) && !conn_read(c))
		return; /* closed inside: c is gone */
	c->last = loop_now(l);
	if (!settle(c))
		return;
	conn_mask(c);
	if (takes_stdin(s))
		stdin_update(s);
}

static void conn_idle(struct loop *l, void *arg)
{
	struct sconn *c = arg;
	struct server *s = c->srv;
	if (c->draining) {
		conn_close(c);
		return;
	}
	int64_t left = c->last + s->idle_ms - loop_now(l);
	if (left > 0) {
		loop_timer_start(l, &c->idle, left);
		return;
	}
	vmsg("connection fd %d: idle for %d ms, closing", c->fd, s->idle_ms);
	conn_close(c);
}

/* ---- many-client relay and broker: stdin to every client ---- */

/* Queues p for every client but from (NULL: stdin's data) and sends what
 * it can. A client whose queue is full cannot keep up with the others:
 * it is dropped, as chat serve drops its stalled readers, rather than
 * holding everyone back. A broker's client that has sent EOF is leaving
 * and gets nothing new; the relay's keeps getting stdin. */
static void fan_out(struct server *s, struct sconn *from, const char *p, size_t n)
{
	for (struct sconn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (c == from || c->shut || (c->eof_in && s->handler == H_BROKER))
			continue;
		if (!queue_bytes(c, p, n)) {
			vmsg("connection fd %d: output queue full (%zu bytes), dropping", c->fd,
			     pending(c));
			conn_close(c);
			continue;
		}
		if (flush(c))
			conn_mask(c);
	}
}

static void on_stdin(struct loop *l, int fd, int mask, void *arg)
{
	struct server *s = arg;
	char buf[READ_CHUNK];
	bool crlf = s->no && s->no->crlf;
	/* -C: read half a chunk, so that every "\n" can become "\r\n". */
	ssize_t n = read(STDIN_FILENO, buf, crlf ? sizeof buf / 2 : sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && crlf)
		n = (ssize_t)crlf_expand(buf, (size_t)n, &s->stdin_prev_cr);
	if (n <= 0) {
		if (n < 0)
			errmsg("read from stdin: %s", strerror(errno));
		s->stdin_eof = true;
		loop_io(l, STDIN_FILENO, 0, NULL, NULL);
		s->stdin_watched = false;
		for (struct sconn *c = s->conns, *next; c; c = next) {
			next = c->next;
			if (settle(c))
				conn_mask(c);
		}
		return;
	}
	log_sent(s, buf, (size_t)n);
	fan_out(s, NULL, buf, (size_t)n);
	stdin_update(s);
}

/* Reads stdin only while every client has room (back-pressure), and
 * only once there is a client to send to. */
static void stdin_update(struct server *s)
{
	if (s->stdin_eof || !takes_stdin(s) || !s->keep_open)
		return;
	bool room = s->conns != NULL;
	for (struct sconn *c = s->conns; c && room; c = c->next)
		if (pending(c) > PEND_MAX - READ_CHUNK)
			room = false;
	if (room && !s->stdin_watched) {
		if (loop_io(s->loop, STDIN_FILENO, MUX_READ, on_stdin, s) == 0)
			s->stdin_watched = true;
	} else if (!room && s->stdin_watched) {
		loop_io(s->loop, STDIN_FILENO, 0, NULL, NULL);
		s->stdin_watched = false;
	}
}

/* ---- one-client relay ---- */

static void on_relay_done(struct loop *l, int status, const char *errtext, void *arg)
{
	struct sconn *c = arg;
	struct server *s = c->srv;
	if (errtext && *errtext)
		errmsg("%s", errtext);
	s->status = status;
	struct relay_stats st;
	relay_get_stats(c->relay, &st);
	s->bytes_out += st.sent;
	s->bytes_in += st.received;
	vmsg("sent %llu bytes, received %llu bytes in %.3f s", (unsigned long long)st.sent,
	     (unsigned long long)st.received, (double)(st.end_ms - st.start_ms) / 1000.0);
	loop_stop(l);
}

/* ---- accepting ---- */

static void on_accept(struct loop *l, int fd, int mask, void *arg);

static void accept_resume(struct loop *l, void *arg)
{
	struct server *s = arg;
	loop_io(l, s->lfd, MUX_READ, on_accept, s);
}

static void accept_failed(struct server *s, int err)
{
	int64_t now = loop_now(s->loop);
	bool warn = now - s->last_accept_warn >= 1000;
	if (err == EMFILE || err == ENFILE) {
		/* Out of fds: give up the spare, take the connection and
		 * close it, so the backlog does not keep the listener
		 * readable and the loop spinning. */
		if (s->reserve_fd >= 0) {
			close(s->reserve_fd);
			int fd = accept(s->lfd, NULL, NULL);
			if (fd >= 0)
				close(fd);
			s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		} else {
			loop_io(s->loop, s->lfd, 0, NULL, NULL);
			loop_timer_start(s->loop, &s->accept_pause, 100);
		}
	} else if (err == ENOBUFS || err == ENOMEM) {
		loop_io(s->loop, s->lfd, 0, NULL, NULL);
		loop_timer_start(s->loop, &s->accept_pause, 100);
	}
	if (warn) {
		errmsg("accept: %s (connection dropped)", strerror(err));
		s->last_accept_warn = now;
	}
}

static void start_conn(struct server *s, int fd, const struct sock_addr *peer)
{
	struct sconn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	c->last = loop_now(s->loop);
	timer_init(&c->idle, conn_idle, c);
	timer_init(&c->stall, conn_stall, c);
	if (loop_io(s->loop, fd, MUX_READ, conn_event, c) < 0) {
		int64_t now = loop_now(s->loop);
		if (now - s->last_accept_warn >= 1000) {
			if (errno == ERANGE)
				errmsg("connection refused: fd %d is beyond what select can watch "
				       "(FD_SETSIZE %d); use --mux=poll or --mux=epoll",
				       fd, loop_fd_limit(s->loop));
			else
				errmsg("connection refused: %s", strerror(errno));
			s->last_accept_warn = now;
		}
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	s->served++;
	if (g_opts.verbose) {
		char a[SOCK_ADDRSTRLEN];
		vmsg("connection from %s",
		     sock_addr_str((const struct sockaddr *)&peer->ss, peer->len, a, sizeof a));
	}
	if (s->idle_ms > 0)
		loop_timer_start(s->loop, &c->idle, s->idle_ms);
	if (s->handler == H_RESPOND) {
		c->ext = s->respond;
		c->extlen = s->respond_len;
		s->bytes_out += s->respond_len;
		if (s->no && s->no->log_open)
			hexlog_data(&s->no->log, HEXLOG_SENT, s->respond, s->respond_len);
		if (flush(c) && settle(c))
			conn_mask(c);
	} else if ((s->handler == H_RELAY && s->keep_open) || s->handler == H_BROKER) {
		if (s->stdin_eof && settle(c))
			conn_mask(c);
		stdin_update(s);
	} else if (s->handler == H_RELAY) {
		char a[SOCK_ADDRSTRLEN];
		sock_addr_str((const struct sockaddr *)&peer->ss, peer->len, a, sizeof a);
		loop_io(s->loop, fd, 0, NULL, NULL);
		s->ro.log = s->no && s->no->log_open ? &s->no->log : NULL;
		s->ro.crlf = s->no && s->no->crlf;
		c->rin = stream_fd_new(s->loop, STDIN_FILENO, 0);
		c->rout = stream_fd_new(s->loop, STDOUT_FILENO, 0);
		c->rsock = stream_fd_new(s->loop, fd, 0);
		if (c->rin && c->rout && c->rsock)
			c->relay = relay_start(s->loop, c->rin, c->rout, c->rsock, a, &s->ro,
					       on_relay_done, c);
	}
}

/* --allow/--deny, -m and the socket options: false if the connection
 * was turned away (and closed). At the limit a connection is accepted
 * and closed at once, so the client learns it (EOF) instead of waiting in
 * the backlog. */
static bool admit(struct server *s, int fd, const struct sock_addr *peer)
{
	char a[SOCK_ADDRSTRLEN];
	const char *why = NULL;
	char err[300];
	if (!acl_permits(&s->acl, (const struct sockaddr *)&peer->ss))
		why = "not allowed by --allow/--deny";
	else if (s->max_conns && serve_active(s) >= (size_t)s->max_conns)
		why = "connection limit (-m) reached";
	else if (s->no && s->no->so.set && sockopt_apply(&s->no->so, fd, err, sizeof err) < 0) {
		errmsg("%s", err);
		why = "socket options failed";
	}
	if (!why)
		return true;
	s->refused++;
	vmsg("refused %s: %s",
	     sock_addr_str((const struct sockaddr *)&peer->ss, peer->len, a, sizeof a), why);
	close(fd);
	return false;
}

static void watch_children(struct server *s);

/* The program's data never passes through the server: to count it, the
 * server keeps a copy of the socket and reads the kernel's counters when
 * the program ends. (The copy also holds the connection open until then:
 * the peer sees the close when the server reaps the program.) */
static bool keep_exec(struct server *s, pid_t pid, int fd)
{
	if (s->nexecs == s->capexecs) {
		size_t cap = s->capexecs ? 2 * s->capexecs : 16;
		struct exec_conn *e = realloc(s->execs, cap * sizeof *e);
		if (!e)
			return false;
		s->execs = e;
		s->capexecs = cap;
	}
	s->execs[s->nexecs++] = (struct exec_conn){.pid = pid, .fd = fd};
	return true;
}

static void exec_count(struct server *s, size_t i)
{
	uint64_t sent, received;
	if (tcp_totals(s->execs[i].fd, &sent, &received) == 0) {
		s->bytes_out += sent;
		s->bytes_in += received;
	}
	close(s->execs[i].fd);
	s->execs[i] = s->execs[--s->nexecs];
}

void serve_stream_totals(struct server *s)
{
	while (s->nexecs)
		exec_count(s, 0);
}

/* --exec/--sh-exec: a program per connection, whatever the model. */
static void start_program(struct server *s, int fd)
{
	char err[300];
	struct spawn_env env;
	spawn_env_fill(&env, fd);
	pid_t pid = spawn_child(fd, s->no->exec_argv, s->no->sh_exec, &env, err, sizeof err);
	if (pid < 0 || !s->count_exec || !keep_exec(s, pid, fd))
		close(fd);
	if (pid < 0) {
		errmsg("%s", err);
		s->status = EXIT_FAIL;
		if (!s->keep_open)
			loop_stop(s->loop);
		return;
	}
	vmsg("program started for connection %s:%s (pid %d)", env.remote_addr, env.remote_port,
	     (int)pid);
	s->nchildren++;
	watch_children(s);
	s->served++;
}

/* --model=fork|thread with a built-in handler. */
static void start_job(struct server *s, int fd)
{
	static const enum model_job_kind kinds[] = {[H_ECHO] = MODEL_JOB_ECHO,
						    [H_UPPER] = MODEL_JOB_UPPER,
						    [H_DISCARD] = MODEL_JOB_DISCARD,
						    [H_RESPOND] = MODEL_JOB_RESPOND};
	struct stream *st = stream_fd_new(s->loop, fd, STREAM_F_OWN);
	if (!st) {
		errmsg("connection: %s", strerror(errno));
		close(fd);
		return;
	}
	struct model_job j = {.s = st,
			      .kind = kinds[s->handler],
			      .data = s->respond,
			      .len = s->respond_len,
			      .idle_ms = s->idle_ms,
			      .totals = s->jt};
	if (s->model == MODEL_FORK) {
		pid_t pid = model_job_fork(&j);
		stream_close(st);
		if (pid < 0) {
			errmsg("fork: %s", strerror(errno));
			return;
		}
		s->nchildren++;
		watch_children(s);
	} else {
		int e = model_job_thread(&j, s->notify[1]);
		if (e) {
			errmsg("thread: %s", strerror(e));
			stream_close(st);
			return;
		}
		s->nthreads++;
	}
	s->served++;
}

static void on_child_timer(struct loop *l, void *arg);

/* The loop's signal pipe does not keep it running: while children run,
 * a slow timer does (and reaps, should a SIGCHLD ever be missed). */
static void watch_children(struct server *s)
{
	if (!timer_armed(&s->child_timer)) {
		timer_init(&s->child_timer, on_child_timer, s);
		loop_timer_start(s->loop, &s->child_timer, 1000);
	}
}

static void after_handler_end(struct server *s)
{
	/* (A datagram server serves until it is stopped.) */
	if (!s->keep_open && !s->dgram && s->served && serve_active(s) == 0)
		loop_stop(s->loop);
}

static void on_reaped(pid_t pid, int st, void *arg)
{
	struct server *s = arg;
	if (s->nchildren)
		s->nchildren--;
	for (size_t i = 0; i < s->nexecs; i++)
		if (s->execs[i].pid == pid) {
			exec_count(s, i);
			break;
		}
	char text[80];
	spawn_status_text(st, text, sizeof text);
	vmsg("pid %d %s", (int)pid, text);
	if (s->dgram) {
		serve_dgram_reaped(s, pid);
		return;
	}
	/* Without -k the exit status is the one program's, as in connect. */
	if (!s->keep_open && (s->no->exec_argv || s->no->sh_exec))
		s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void serve_reap(struct loop *l, int signo, void *arg)
{
	struct server *s = arg;
	spawn_reap(on_reaped, s);
	if (s->nchildren == 0)
		loop_timer_stop(l, &s->child_timer);
	after_handler_end(s);
}

static void on_child_timer(struct loop *l, void *arg)
{
	struct server *s = arg;
	serve_reap(l, SIGCHLD, s);
	if (s->nchildren)
		loop_timer_start(l, &s->child_timer, 1000);
}

void serve_threads_done(struct loop *l, int fd, int mask, void *arg)
{
	struct server *s = arg;
	char b[256];
	ssize_t n = read(fd, b, sizeof b);
	if (n > 0)
		s->nthreads -= (size_t)n <= s->nthreads ? (size_t)n : s->nthreads;
	after_handler_end(s);
}

static void on_accept(struct loop *l, int fd, int mask, void *arg)
{
	struct server *s = arg;
	for (int i = 0; i < 64; i++) {
		struct sock_addr peer;
		int cfd = sock_accept(s->lfd, &peer);
		if (cfd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO || errno == EPERM)
				return;
			accept_failed(s, errno);
			return;
		}
		if (!admit(s, cfd, &peer))
			continue;
		if (s->no->exec_argv || s->no->sh_exec)
			start_program(s, cfd);
		else if (s->model != MODEL_LOOP)
			start_job(s, cfd);
		else
			start_conn(s, cfd, &peer);
		if (!s->keep_open && s->served) {
			/* One client: stop listening, as nc -l does. */
			loop_io(l, s->lfd, 0, NULL, NULL);
			close(s->lfd);
			s->lfd = -1;
			return;
		}
	}
}

void serve_stream_start(struct server *s)
{
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	timer_init(&s->accept_pause, accept_resume, s);
	loop_io(s->loop, s->lfd, MUX_READ, on_accept, s);
}

void serve_stream_cleanup(struct server *s)
{
	while (s->conns) {
		s->keep_open = true; /* no loop_stop from conn_close */
		conn_close(s->conns);
	}
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
	loop_timer_stop(s->loop, &s->accept_pause);
	if (s->child_timer.cb)
		loop_timer_stop(s->loop, &s->child_timer);
	while (s->nexecs)
		close(s->execs[--s->nexecs].fd);
	free(s->execs);
	s->execs = NULL;
}
