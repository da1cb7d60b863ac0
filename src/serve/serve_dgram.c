/* Datagram servers (UDP, Unix datagram): every sender gets its own
 * answer; nothing locks onto the first peer. With --exec, a program per
 * datagram, as socat's UDP-RECVFROM,fork SYSTEM: does it. The datagram
 * socket is not a connection (one socket, many peers): it is read and
 * written here with recvfrom/sendto; the pipes to a program are streams. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/compat.h"
#include "core/log.h"
#include "core/text_escape.h"
#include "net/acl.h"
#include "net/stream.h"
#include "proc/spawn.h"
#include "serve/serve_int.h"

#define DGRAM_MAX 65536
#define MAX_PEERS 256
/* -u --exec: programs at once without -m, and the time each may run
 * without -i; a program still there GRACE_MS after SIGTERM is killed. */
#define EXEC_MAX     64
#define EXEC_TIME_MS 10000
#define GRACE_MS     1000

/* A program started for one datagram: the datagram goes to its stdin
 * (then EOF), each read of its stdout goes back to the sender as one
 * datagram. Freed once it is reaped and its stdout is closed. */
struct serve_dgram_job {
	struct serve_server *srv;
	pid_t pid; /* leads its own process group */
	/* Our ends of its stdin and stdout (owned); NULL once closed. */
	struct stream *in, *out;
	char *data; /* the rest of the datagram still to write; owned */
	size_t len, off;
	struct sock_addr to;
	struct timer limit;
	bool termed, reaped;
};

static void on_datagram(struct loop *l, int fd, int mask, void *arg);

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static size_t exec_max(const struct serve_server *s)
{
	return s->cfg.max_conns ? (size_t)s->cfg.max_conns : EXEC_MAX;
}

static bool relay_mode(const struct serve_server *s)
{
	return s->cfg.handler == SERVE_RELAY && !serve_exec_mode(s);
}

/* Reads the socket while nothing holds it back: at -m the datagrams wait
 * in its buffer (what overflows it the kernel drops), and so they do
 * while stdout has no room for one. */
static void watch(struct serve_server *s)
{
	bool on = !s->stopping && s->cfg.lfd >= 0 &&
		  !(serve_exec_mode(s) && s->ndjobs >= exec_max(s)) &&
		  !(relay_mode(s) && !serve_out_room(s, DGRAM_MAX + 1));
	if (on != s->lfd_watched &&
	    loop_io(s->loop, s->cfg.lfd, on ? MUX_READ : 0, on ? on_datagram : NULL, s) == 0)
		s->lfd_watched = on;
}

void serve_dgram_resume(struct serve_server *s)
{
	watch(s);
}

static void remember_peer(struct serve_server *s, const struct sock_addr *a)
{
	for (size_t i = 0; i < s->npeers; i++)
		if (s->peers[i].len == a->len && memcmp(&s->peers[i].ss, &a->ss, a->len) == 0)
			return;
	if (!s->peers) {
		s->peers = calloc(MAX_PEERS, sizeof *s->peers);
		if (!s->peers)
			return;
	}
	/* The oldest peer makes room for the newest. */
	s->peers[s->peer_next] = *a;
	s->peer_next = (s->peer_next + 1) % MAX_PEERS;
	if (s->npeers < MAX_PEERS)
		s->npeers++;
}

static const char *addr_text(const struct sock_addr *a, char *buf, size_t len)
{
	return sock_addr_str((const struct sockaddr *)&a->ss, a->len, buf, len);
}

static void reply(struct serve_server *s, const struct sock_addr *to, const char *p, size_t n)
{
	if (to->len <= sizeof(sa_family_t)) {
		log_info("datagram from an unnamed Unix socket: cannot reply");
		return;
	}
	/* not a stream: the datagram server's socket, one reply per peer */
	ssize_t w = sendto(s->cfg.lfd, p, n, 0, (const struct sockaddr *)&to->ss, to->len);
	if (w > 0)
		s->bytes_out += (uint64_t)w;
	if (w < 0 && log_wants(LOG_LVL_INFO)) {
		char a[SOCK_ADDRSTRLEN];
		log_info("reply to %s: %s", addr_text(to, a, sizeof a), strerror(errno));
	}
}

/* ---- -u --exec ---- */

static void job_close_in(struct serve_dgram_job *j)
{
	stream_close(j->in);
	j->in = NULL;
	free(j->data);
	j->data = NULL;
}

static void job_close_out(struct serve_dgram_job *j)
{
	stream_close(j->out);
	j->out = NULL;
}

/* Frees j once nothing of it is left; a free slot lets the socket be read
 * again. */
static void job_maybe_free(struct serve_dgram_job *j)
{
	struct serve_server *s = j->srv;
	if (!j->reaped || j->out)
		return;
	job_close_in(j);
	loop_timer_stop(s->loop, &j->limit);
	for (size_t i = 0; i < s->ndjobs; i++)
		if (s->djobs[i] == j) {
			s->djobs[i] = s->djobs[--s->ndjobs];
			break;
		}
	free(j);
	watch(s);
}

static void on_job_in(struct stream *in, int ready, void *arg)
{
	(void)ready;
	struct serve_dgram_job *j = arg;
	ssize_t w = stream_write(in, j->data + j->off, j->len - j->off);
	if (w < 0 && again())
		return;
	if (w > 0)
		j->off += (size_t)w;
	/* All written, or the program does not read it (EPIPE): EOF. */
	if (w < 0 || j->off == j->len)
		job_close_in(j);
}

static void on_job_out(struct stream *out, int ready, void *arg)
{
	(void)ready;
	struct serve_dgram_job *j = arg;
	struct serve_server *s = j->srv;
	static char buf[DGRAM_MAX];
	/* The largest datagram that can go back. */
	int fam = s->cfg.family;
	size_t max = fam == AF_INET ? 65507 : fam == AF_INET6 ? 65527 : sizeof buf;
	for (int i = 0; i < 16; i++) {
		ssize_t n = stream_read(out, buf, max);
		if (n < 0 && again())
			return;
		if (n <= 0) {
			job_close_out(j);
			job_maybe_free(j);
			return;
		}
		/* As socat does: each read is one datagram. */
		reply(s, &j->to, buf, (size_t)n);
	}
}

static void on_job_limit(struct loop *l, void *arg)
{
	struct serve_dgram_job *j = arg;
	if (!j->termed) {
		log_info("pid %d: still running after its time (-i), stopping it", (int)j->pid);
		kill(-j->pid, SIGTERM);
		j->termed = true;
		/* What it writes from now on is not sent. */
		job_close_out(j);
		job_close_in(j);
		loop_timer_start(l, &j->limit, GRACE_MS);
		job_maybe_free(j);
	} else {
		kill(-j->pid, SIGKILL);
	}
}

void serve_dgram_reaped(struct serve_server *s, pid_t pid)
{
	for (size_t i = 0; i < s->ndjobs; i++)
		if (s->djobs[i]->pid == pid) {
			struct serve_dgram_job *j = s->djobs[i];
			j->reaped = true;
			/* Its stdin has no reader left (unless a program it
			 * started holds it, which then gets EOF). */
			job_close_in(j);
			job_maybe_free(j);
			return;
		}
}

/* Our end of a pipe to the program, non-blocking (its end stays as it
 * is), as a stream; NULL after closing fd. */
static struct stream *pipe_stream(struct serve_server *s, int fd, stream_cb cb, void *arg)
{
	sock_set_nonblock(fd, true);
	struct stream *st = stream_fd_new(s->loop, fd, STREAM_F_OWN);
	if (!st) {
		close(fd);
		return NULL;
	}
	stream_set_cb(st, cb, arg);
	return st;
}

/* Sends the datagram to the program's stdin: most fit the pipe at once;
 * the rest waits for room. Then its EOF. */
static void job_feed(struct serve_dgram_job *j, const char *p, size_t len)
{
	ssize_t w = len ? stream_write(j->in, p, len) : 0;
	size_t done = w > 0 ? (size_t)w : 0;
	if (done == len || (w < 0 && !again())) {
		job_close_in(j);
	} else if (!(j->data = malloc(len - done)) || stream_want(j->in, STREAM_WRITE) < 0) {
		job_close_in(j);
	} else {
		memcpy(j->data, p + done, len - done);
		j->len = len - done;
	}
}

/* Starts the program for one datagram; false if it could not start. */
static bool start_program(struct serve_server *s, const struct sock_addr *from, const char *p,
			  size_t len)
{
	char err[300];
	int in[2] = {-1, -1}, out[2] = {-1, -1};
	if (s->ndjobs == s->capdjobs) {
		size_t cap = s->capdjobs ? 2 * s->capdjobs : 16;
		struct serve_dgram_job **v = realloc(s->djobs, cap * sizeof *v);
		if (!v) {
			log_error("-u --exec: out of memory");
			return false;
		}
		s->djobs = v;
		s->capdjobs = cap;
	}
	struct serve_dgram_job *j = calloc(1, sizeof *j);
	if (!j || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		log_error("-u --exec: %s", j ? strerror(errno) : "out of memory");
		goto fail;
	}
	struct sock_addr local;
	bool have_local = sock_local_addr(s->cfg.lfd, &local) == 0;
	struct spawn_env env;
	spawn_env_addrs(&env, from->len > sizeof(sa_family_t) ? from : NULL,
			have_local ? &local : NULL, SOCK_DGRAM);
	struct spawn_io io = {.in = in[0], .out = out[1], .own_group = true};
	j->pid = spawn_child_io(&io, s->cfg.exec_argv, s->cfg.sh_exec, &env, err, sizeof err);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	if (j->pid < 0) {
		log_error("%s", err);
		goto fail;
	}
	j->srv = s;
	j->to = *from;
	timer_init(&j->limit, on_job_limit, j);
	s->djobs[s->ndjobs++] = j;
	s->nchildren++;
	serve_exec_watch(s, j->pid);
	log_info("program started for the datagram from %s:%s (pid %d)", env.remote_addr,
		 env.remote_port, (int)j->pid);
	j->in = pipe_stream(s, in[1], on_job_in, j);
	j->out = pipe_stream(s, out[0], on_job_out, j);
	in[1] = out[0] = -1;
	loop_timer_start(s->loop, &j->limit, s->cfg.idle_ms > 0 ? s->cfg.idle_ms : EXEC_TIME_MS);
	if (!j->out || stream_want(j->out, STREAM_READ) < 0) {
		log_error("-u --exec: watch the program's output: %s", strerror(errno));
		job_close_out(j);
	}
	if (j->in)
		job_feed(j, p, len);
	return true;
fail:
	for (int k = 0; k < 2; k++) {
		if (in[k] >= 0)
			close(in[k]);
		if (out[k] >= 0)
			close(out[k]);
	}
	free(j);
	return false;
}

static void on_datagram(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	(void)mask;
	struct serve_server *s = arg;
	static char buf[DGRAM_MAX + 1];
	for (int i = 0; i < 64; i++) {
		if (serve_exec_mode(s) && s->ndjobs >= exec_max(s)) {
			log_info("%zu programs running (-m): datagrams wait", s->ndjobs);
			watch(s);
			return;
		}
		if (relay_mode(s) && !serve_out_room(s, sizeof buf)) {
			watch(s);
			return;
		}
		struct sock_addr from;
		from.len = sizeof from.ss;
		/* not a stream: the datagram server's socket, a peer per datagram */
		ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from.ss, &from.len);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED)
				log_error("recvfrom: %s", strerror(errno));
			return;
		}
		size_t len = (size_t)n;
		char a[SOCK_ADDRSTRLEN];
		if (len > sizeof buf) {
			log_error("datagram of %zu bytes from %s truncated to %zu", len,
				  addr_text(&from, a, sizeof a), sizeof buf);
			len = sizeof buf;
		}
		if (s->cfg.acl && !acl_permits(s->cfg.acl, (const struct sockaddr *)&from.ss)) {
			/* Dropped unanswered: a reply would make the server a
			 * reflector for forged senders. */
			s->refused++;
			if (log_wants(LOG_LVL_INFO))
				log_info("dropped datagram of %zu bytes from %s: not allowed by "
					 "--allow/--deny",
					 len, addr_text(&from, a, sizeof a));
			continue;
		}
		if (log_wants(LOG_LVL_INFO))
			log_info("datagram of %zu bytes from %s", len,
				 addr_text(&from, a, sizeof a));
		s->served++;
		s->bytes_in += len;
		if (serve_exec_mode(s)) {
			if (!start_program(s, &from, buf, len))
				s->failed = true;
			continue;
		}
		switch (s->cfg.handler) {
		case SERVE_UPPER:
			text_upper(buf, len);
			FALLTHROUGH;
		case SERVE_ECHO:
			reply(s, &from, buf, len);
			break;
		case SERVE_RESPOND:
			if (s->cfg.respond)
				reply(s, &from, s->cfg.respond->data, s->cfg.respond->len);
			break;
		case SERVE_DISCARD:
		case SERVE_BROKER: /* stream only */
		case SERVE_SCRIPT:
			break;
		case SERVE_RELAY:
			remember_peer(s, &from);
			if (!serve_out_write(s, buf, len))
				return;
			break;
		}
	}
}

/* Relay mode: each stdin read goes as one datagram to every peer heard
 * from so far. */
static void on_stdin(struct stream *in, int ready, void *arg)
{
	(void)ready;
	struct serve_server *s = arg;
	static char buf[DGRAM_MAX];
	ssize_t n = stream_read(in, buf, sizeof buf);
	if (n < 0 && again())
		return;
	if (n <= 0) {
		stream_close(s->in);
		s->in = NULL;
		s->stdin_eof = true;
		return;
	}
	if (!s->npeers)
		log_info("no peer yet: %zd bytes from stdin dropped", n);
	for (size_t i = 0; i < s->npeers; i++)
		reply(s, &s->peers[i], buf, (size_t)n);
}

int serve_dgram_start(struct serve_server *s, char *err, size_t errlen)
{
	watch(s);
	if (!s->lfd_watched) {
		snprintf(err, errlen, "watch socket: %s", strerror(errno));
		return -1;
	}
	if (relay_mode(s) && s->cfg.in_fd >= 0) {
		/* A stdin that cannot be read is one that has ended. */
		s->in = stream_fd_new(s->loop, s->cfg.in_fd, 0);
		if (s->in) {
			stream_set_cb(s->in, on_stdin, s);
			if (stream_want(s->in, STREAM_READ) < 0) {
				stream_close(s->in);
				s->in = NULL;
			}
		}
	}
	return 0;
}

void serve_dgram_free(struct serve_server *s)
{
	free(s->peers);
	s->peers = NULL;
	stream_close(s->in);
	s->in = NULL;
	/* The server's end is the programs' end. */
	while (s->ndjobs) {
		struct serve_dgram_job *j = s->djobs[0];
		if (!j->reaped)
			kill(-j->pid, SIGTERM);
		j->reaped = true;
		job_close_out(j);
		job_maybe_free(j);
	}
	free(s->djobs);
	s->djobs = NULL;
	if (s->lfd_watched)
		loop_io(s->loop, s->cfg.lfd, 0, NULL, NULL);
	s->lfd_watched = false;
}
