/* Datagram servers (UDP, Unix datagram): every sender gets its own
 * answer; nothing locks onto the first peer. With --exec, a program per
 * datagram, as socat's UDP-RECVFROM,fork SYSTEM: does it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tool/cmd.h"
#include "serve/serve.h"
#include "proc/spawn.h"
#include "core/text_escape.h"

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
struct dgram_job {
	struct server *srv;
	pid_t pid;	   /* leads its own process group */
	int in_fd, out_fd; /* our ends of its stdin and stdout; -1 when closed */
	char *data;	   /* the rest of the datagram still to write; owned */
	size_t len, off;
	struct sock_addr to;
	struct timer limit;
	bool termed, reaped;
};

static void on_datagram(struct loop *l, int fd, int mask, void *arg);

static void remember_peer(struct server *s, const struct sock_addr *a)
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

static void reply(struct server *s, const struct sock_addr *to, const char *p, size_t n)
{
	if (to->len <= sizeof(sa_family_t)) {
		vmsg("datagram from an unnamed Unix socket: cannot reply");
		return;
	}
	ssize_t w = sendto(s->lfd, p, n, 0, (const struct sockaddr *)&to->ss, to->len);
	if (w > 0)
		s->bytes_out += (uint64_t)w;
	if (w < 0 && g_opts.verbose) {
		char a[SOCK_ADDRSTRLEN];
		vmsg("reply to %s: %s",
		     sock_addr_str((const struct sockaddr *)&to->ss, to->len, a, sizeof a),
		     strerror(errno));
	}
}

/* ---- -u --exec ---- */

static bool exec_mode(const struct server *s)
{
	return s->no && (s->no->exec_argv || s->no->sh_exec);
}

static size_t exec_max(const struct server *s)
{
	return s->max_conns ? (size_t)s->max_conns : EXEC_MAX;
}

/* Closes one of j's pipe ends (*fd), if open. */
static void job_close(struct dgram_job *j, int *fd)
{
	if (*fd < 0)
		return;
	loop_io(j->srv->loop, *fd, 0, NULL, NULL);
	close(*fd);
	*fd = -1;
}

static void job_close_in(struct dgram_job *j)
{
	job_close(j, &j->in_fd);
	free(j->data);
	j->data = NULL;
}

/* Frees j once nothing of it is left; a free slot lets the socket be read
 * again. */
static void job_maybe_free(struct dgram_job *j)
{
	struct server *s = j->srv;
	if (!j->reaped || j->out_fd >= 0)
		return;
	job_close_in(j);
	loop_timer_stop(s->loop, &j->limit);
	for (size_t i = 0; i < s->ndjobs; i++)
		if (s->djobs[i] == j) {
			s->djobs[i] = s->djobs[--s->ndjobs];
			break;
		}
	free(j);
	if (s->dgram_paused && s->ndjobs < exec_max(s) && !s->stopping &&
	    loop_io(s->loop, s->lfd, MUX_READ, on_datagram, s) == 0)
		s->dgram_paused = false;
}

static void on_job_in(struct loop *l, int fd, int mask, void *arg)
{
	struct dgram_job *j = arg;
	ssize_t w = write(fd, j->data + j->off, j->len - j->off);
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (w > 0)
		j->off += (size_t)w;
	/* All written, or the program does not read it (EPIPE): EOF. */
	if (w < 0 || j->off == j->len)
		job_close_in(j);
}

static void on_job_out(struct loop *l, int fd, int mask, void *arg)
{
	struct dgram_job *j = arg;
	struct server *s = j->srv;
	static char buf[DGRAM_MAX];
	/* The largest datagram that can go back. */
	size_t max = s->family == AF_INET ? 65507 : s->family == AF_INET6 ? 65527 : sizeof buf;
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(fd, buf, max);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			job_close(j, &j->out_fd);
			job_maybe_free(j);
			return;
		}
		/* As socat does: each read is one datagram. */
		reply(s, &j->to, buf, (size_t)n);
	}
}

static void on_job_limit(struct loop *l, void *arg)
{
	struct dgram_job *j = arg;
	if (!j->termed) {
		vmsg("pid %d: still running after its time (-i), stopping it", (int)j->pid);
		kill(-j->pid, SIGTERM);
		j->termed = true;
		/* What it writes from now on is not sent. */
		job_close(j, &j->out_fd);
		job_close_in(j);
		loop_timer_start(l, &j->limit, GRACE_MS);
		job_maybe_free(j);
	} else {
		kill(-j->pid, SIGKILL);
	}
}

void serve_dgram_reaped(struct server *s, pid_t pid)
{
	for (size_t i = 0; i < s->ndjobs; i++)
		if (s->djobs[i]->pid == pid) {
			struct dgram_job *j = s->djobs[i];
			j->reaped = true;
			/* Its stdin has no reader left (unless a program it
			 * started holds it, which then gets EOF). */
			job_close_in(j);
			job_maybe_free(j);
			return;
		}
}

/* Starts the program for one datagram; false if it could not start. */
static bool start_program(struct server *s, const struct sock_addr *from, const char *p, size_t len)
{
	char err[300];
	int in[2] = {-1, -1}, out[2] = {-1, -1};
	if (s->ndjobs == s->capdjobs) {
		size_t cap = s->capdjobs ? 2 * s->capdjobs : 16;
		struct dgram_job **v = realloc(s->djobs, cap * sizeof *v);
		if (!v) {
			errmsg("-u --exec: out of memory");
			return false;
		}
		s->djobs = v;
		s->capdjobs = cap;
	}
	struct dgram_job *j = calloc(1, sizeof *j);
	if (!j || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		errmsg("-u --exec: %s", j ? strerror(errno) : "out of memory");
		goto fail;
	}
	struct sock_addr local;
	bool have_local = sock_local_addr(s->lfd, &local) == 0;
	struct spawn_env env;
	spawn_env_addrs(&env, from->len > sizeof(sa_family_t) ? from : NULL,
			have_local ? &local : NULL, SOCK_DGRAM);
	struct spawn_io io = {.in = in[0], .out = out[1], .own_group = true};
	j->pid = spawn_child_io(&io, s->no->exec_argv, s->no->sh_exec, &env, err, sizeof err);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	if (j->pid < 0) {
		errmsg("%s", err);
		goto fail;
	}
	j->srv = s;
	j->in_fd = in[1];
	j->out_fd = out[0];
	j->to = *from;
	timer_init(&j->limit, on_job_limit, j);
	s->djobs[s->ndjobs++] = j;
	s->nchildren++;
	vmsg("program started for the datagram from %s:%s (pid %d)", env.remote_addr,
	     env.remote_port, (int)j->pid);
	sock_set_nonblock(j->in_fd, true);
	sock_set_nonblock(j->out_fd, true);
	loop_timer_start(s->loop, &j->limit, s->idle_ms > 0 ? s->idle_ms : EXEC_TIME_MS);
	if (loop_io(s->loop, j->out_fd, MUX_READ, on_job_out, j) < 0) {
		errmsg("-u --exec: watch the program's output: %s", strerror(errno));
		job_close(j, &j->out_fd);
	}
	/* Most datagrams fit the pipe at once; the rest waits for room. */
	ssize_t w = len ? write(j->in_fd, p, len) : 0;
	size_t done = w > 0 ? (size_t)w : 0;
	if (done == len || (w < 0 && errno != EAGAIN)) {
		job_close_in(j);
	} else if (!(j->data = malloc(len - done)) ||
		   loop_io(s->loop, j->in_fd, MUX_WRITE, on_job_in, j) < 0) {
		job_close_in(j);
	} else {
		memcpy(j->data, p + done, len - done);
		j->len = len - done;
	}
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
	struct server *s = arg;
	static char buf[DGRAM_MAX + 1];
	for (int i = 0; i < 64; i++) {
		if (exec_mode(s) && s->ndjobs >= exec_max(s)) {
			/* At the limit the datagrams wait in the socket's
			 * buffer (what overflows it the kernel drops). */
			vmsg("%zu programs running (-m): datagrams wait", s->ndjobs);
			loop_io(l, fd, 0, NULL, NULL);
			s->dgram_paused = true;
			return;
		}
		struct sock_addr from;
		from.len = sizeof from.ss;
		ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from.ss, &from.len);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED)
				errmsg("recvfrom: %s", strerror(errno));
			return;
		}
		size_t len = (size_t)n;
		if (len > sizeof buf) {
			char a[SOCK_ADDRSTRLEN];
			errmsg("datagram of %zu bytes from %s truncated to %zu", len,
			       sock_addr_str((struct sockaddr *)&from.ss, from.len, a, sizeof a),
			       sizeof buf);
			len = sizeof buf;
		}
		if (!acl_permits(&s->acl, (const struct sockaddr *)&from.ss)) {
			/* Dropped unanswered: a reply would make the server a
			 * reflector for forged senders. */
			s->refused++;
			if (g_opts.verbose) {
				char a[SOCK_ADDRSTRLEN];
				vmsg("dropped datagram of %zu bytes from %s: not allowed by "
				     "--allow/--deny",
				     len,
				     sock_addr_str((struct sockaddr *)&from.ss, from.len, a,
						   sizeof a));
			}
			continue;
		}
		if (g_opts.verbose) {
			char a[SOCK_ADDRSTRLEN];
			vmsg("datagram of %zu bytes from %s", len,
			     sock_addr_str((struct sockaddr *)&from.ss, from.len, a, sizeof a));
		}
		s->served++;
		s->bytes_in += len;
		if (exec_mode(s)) {
			if (!start_program(s, &from, buf, len))
				s->status = EXIT_FAIL;
			continue;
		}
		switch (s->handler) {
		case H_UPPER:
			text_upper(buf, len);
			FALLTHROUGH;
		case H_ECHO:
			reply(s, &from, buf, len);
			break;
		case H_RESPOND:
			reply(s, &from, s->respond, s->respond_len);
			break;
		case H_DISCARD:
		case H_BROKER: /* stream only */
			break;
		case H_RELAY: {
			remember_peer(s, &from);
			const char *p = buf;
			while (len) {
				ssize_t w = write(STDOUT_FILENO, p, len);
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0) {
					if (errno != EPIPE)
						errmsg("write to stdout: %s", strerror(errno));
					s->status = EXIT_FAIL;
					loop_stop(l);
					return;
				}
				p += w;
				len -= (size_t)w;
			}
			break;
		}
		}
	}
}

/* Relay mode: each stdin read goes as one datagram to every peer heard
 * from so far. */
static void on_stdin(struct loop *l, int fd, int mask, void *arg)
{
	struct server *s = arg;
	static char buf[DGRAM_MAX];
	ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		loop_io(l, STDIN_FILENO, 0, NULL, NULL);
		s->stdin_eof = true;
		return;
	}
	if (!s->npeers)
		vmsg("no peer yet: %zd bytes from stdin dropped", n);
	for (size_t i = 0; i < s->npeers; i++)
		reply(s, &s->peers[i], buf, (size_t)n);
}

int serve_dgram_start(struct server *s)
{
	if (loop_io(s->loop, s->lfd, MUX_READ, on_datagram, s) < 0)
		return -1;
	if (s->handler == H_RELAY && !exec_mode(s))
		loop_io(s->loop, STDIN_FILENO, MUX_READ, on_stdin, s);
	return 0;
}

void serve_dgram_cleanup(struct server *s)
{
	free(s->peers);
	s->peers = NULL;
	/* The server's end is the programs' end. */
	while (s->ndjobs) {
		struct dgram_job *j = s->djobs[0];
		if (!j->reaped)
			kill(-j->pid, SIGTERM);
		j->reaped = true;
		job_close(j, &j->out_fd);
		job_maybe_free(j);
	}
	free(s->djobs);
	s->djobs = NULL;
}
