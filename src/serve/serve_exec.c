/* Work serve hands to other processes and threads: --exec/--sh-exec (a
 * program per connection), --model=fork and --model=thread (a built-in
 * handler per connection), and the children they make, reaped through
 * the child registry (SIGCHLD on the loop, which it keeps running while
 * any child does). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "net/stream.h"
#include "net/tcp_totals.h"
#include "proc/children.h"
#include "net/tls.h"
#include "proc/spawn.h"
#include "proc/spawn_relay.h"
#include "serve/serve_int.h"

/* --exec with totals asked for: the server's copy of a program's TCP
 * socket, read (TCP_INFO) and closed when the program ends. */
struct serve_exec_conn {
	pid_t pid;
	int fd;
};

/* The program's data never passes through the server: to count it, the
 * server keeps a copy of the socket and reads the kernel's counters when
 * the program ends. (The copy also holds the connection open until then:
 * the peer sees the close when the server reaps the program.) */
static bool keep_exec(struct serve_server *s, pid_t pid, int fd)
{
	if (s->nexecs == s->capexecs) {
		size_t cap = s->capexecs ? 2 * s->capexecs : 16;
		struct serve_exec_conn *e = realloc(s->execs, cap * sizeof *e);
		if (!e)
			return false;
		s->execs = e;
		s->capexecs = cap;
	}
	s->execs[s->nexecs++] = (struct serve_exec_conn){.pid = pid, .fd = fd};
	return true;
}

static void exec_count(struct serve_server *s, size_t i)
{
	uint64_t sent, received;
	if (tcp_totals(s->execs[i].fd, &sent, &received) == 0) {
		s->bytes_out += sent;
		s->bytes_in += received;
	}
	close(s->execs[i].fd);
	s->execs[i] = s->execs[--s->nexecs];
}

void serve_exec_totals(struct serve_server *s)
{
	while (s->nexecs)
		exec_count(s, 0);
}

static void on_child_done(pid_t pid, int st, void *arg)
{
	struct serve_server *s = arg;
	if (s->nchildren)
		s->nchildren--;
	for (size_t i = 0; i < s->nexecs; i++)
		if (s->execs[i].pid == pid) {
			exec_count(s, i);
			break;
		}
	if (log_wants(LOG_LVL_INFO)) {
		char text[80];
		spawn_status_text(st, text, sizeof text);
		log_info("pid %d %s", (int)pid, text);
	}
	if (s->cfg.dgram) {
		serve_dgram_reaped(s, pid);
		return;
	}
	/* Without -k the exit status is the one program's, as in connect. */
	if (!s->cfg.keep_open && serve_exec_mode(s))
		s->program_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	serve_after_end(s);
}

bool serve_exec_watch(struct serve_server *s, pid_t pid)
{
	if (children_add(s->kids, pid, on_child_done, s) < 0) {
		log_error("pid %d: %s: its end will not be seen", (int)pid, strerror(errno));
		return false;
	}
	return true;
}

/* --exec over TLS: the program's socketpair, relayed to the connection
 * on the loop until both directions are over. */
struct serve_xrelay {
	struct serve_server *srv;
	struct spawn_relay *r;
	struct serve_xrelay *prev, *next;
};

static void xrelay_free(struct serve_xrelay *x)
{
	struct serve_server *s = x->srv;
	if (x->prev)
		x->prev->next = x->next;
	else
		s->xrs = x->next;
	if (x->next)
		x->next->prev = x->prev;
	s->nxrs--;
	spawn_relay_free(x->r);
	free(x);
}

static void on_xrelay_done(struct loop *l, int status, const char *errtext, void *arg)
{
	(void)l;
	struct serve_xrelay *x = arg;
	struct serve_server *s = x->srv;
	if (status && errtext && *errtext)
		log_info("%s", errtext);
	struct relay_stats st;
	spawn_relay_stats(x->r, &st);
	s->bytes_out += st.sent;
	s->bytes_in += st.received;
	xrelay_free(x);
	serve_after_end(s);
}

static void exec_relayed(struct serve_server *s, struct stream *st)
{
	char err[300];
	struct spawn_env env;
	spawn_env_fill(&env, st->fd);
	tls_env_facts(st, env.tls_version, sizeof env.tls_version, env.tls_cipher,
		      sizeof env.tls_cipher, env.tls_subject, sizeof env.tls_subject);
	struct serve_xrelay *x = calloc(1, sizeof *x);
	if (!x) {
		log_error("--exec: out of memory");
		stream_close(st);
		return;
	}
	x->srv = s;
	struct relay_opts ro = {.quit_after_eof_ms = -1, .zero_copy = true};
	char peer[SOCK_ADDRSTRLEN + 8];
	snprintf(peer, sizeof peer, "%s:%s", env.remote_addr, env.remote_port);
	pid_t pid;
	x->r = spawn_relay_start(s->loop, st, s->cfg.exec_argv, s->cfg.sh_exec, &env, &ro, peer,
				 on_xrelay_done, x, &pid, err, sizeof err);
	if (!x->r) {
		free(x);
		log_error("%s", err);
		s->failed = true;
		if (!s->cfg.keep_open)
			loop_stop(s->loop);
		return;
	}
	x->next = s->xrs;
	if (s->xrs)
		s->xrs->prev = x;
	s->xrs = x;
	s->nxrs++;
	log_info("program started for connection %s (pid %d)", peer, (int)pid);
	s->nchildren++;
	serve_exec_watch(s, pid);
	s->served++;
}

/* --exec/--sh-exec: a program per connection, whatever the model. */
void serve_exec_program(struct serve_server *s, struct stream *st)
{
	if (tls_is(st)) {
		exec_relayed(s, st);
		return;
	}
	char err[300];
	/* The program's stdin and stdout are the socket itself. */
	int fd = stream_detach_fd(st);
	if (fd < 0) {
		log_error("--exec: the connection is not a plain socket");
		stream_close(st);
		s->failed = true;
		return;
	}
	struct spawn_env env;
	spawn_env_fill(&env, fd);
	pid_t pid = spawn_child(fd, s->cfg.exec_argv, s->cfg.sh_exec, &env, err, sizeof err);
	if (pid < 0 || !s->cfg.count_exec || !keep_exec(s, pid, fd))
		close(fd);
	if (pid < 0) {
		log_error("%s", err);
		s->failed = true;
		if (!s->cfg.keep_open)
			loop_stop(s->loop);
		return;
	}
	log_info("program started for connection %s:%s (pid %d)", env.remote_addr, env.remote_port,
		 (int)pid);
	s->nchildren++;
	serve_exec_watch(s, pid);
	s->served++;
}

/* --model=fork|thread with a built-in handler. */
void serve_exec_job(struct serve_server *s, struct stream *st)
{
	static const enum model_job_kind kinds[] = {[SERVE_ECHO] = MODEL_JOB_ECHO,
						    [SERVE_UPPER] = MODEL_JOB_UPPER,
						    [SERVE_DISCARD] = MODEL_JOB_DISCARD,
						    [SERVE_RESPOND] = MODEL_JOB_RESPOND};
	const struct outq_chunk *r = s->cfg.respond;
	struct model_job j = {.s = st,
			      .kind = kinds[s->cfg.handler],
			      .data = r ? r->data : NULL,
			      .len = r ? r->len : 0,
			      .idle_ms = s->cfg.idle_ms,
			      .totals = s->jt};
	if (s->cfg.model == MODEL_FORK) {
		pid_t pid = model_job_fork(&j);
		/* The child has its own copy of the stream and its fd. */
		if (pid < 0)
			stream_close(st);
		else
			stream_release(st);
		if (pid < 0) {
			log_error("fork: %s", strerror(errno));
			return;
		}
		s->nchildren++;
		serve_exec_watch(s, pid);
	} else {
		int e = model_job_thread(&j, s->notify[1]);
		if (e) {
			log_error("thread: %s", strerror(e));
			stream_close(st);
			return;
		}
		s->nthreads++;
	}
	s->served++;
}

/* A byte on the pipe for every thread handler that ended. */
static void on_threads_done(struct stream *in, int ready, void *arg)
{
	(void)ready;
	struct serve_server *s = arg;
	char b[256];
	ssize_t n = stream_read(in, b, sizeof b);
	if (n > 0)
		s->nthreads -= (size_t)n <= s->nthreads ? (size_t)n : s->nthreads;
	serve_after_end(s);
}

int serve_exec_start(struct serve_server *s, char *err, size_t errlen)
{
	bool exec = serve_exec_mode(s);
	/* Before the first fork, so that no exit is missed. */
	if ((exec || s->cfg.model == MODEL_FORK) && !(s->kids = children_new(s->loop))) {
		snprintf(err, errlen, "child processes: %s", strerror(errno));
		return -1;
	}
	/* Totals for -v and --stats: what the handlers count in the other
	 * models (programs are counted by the kernel, TCP only). */
	if (!exec && s->cfg.model != MODEL_LOOP && !(s->jt = model_totals_new()))
		log_info("no shared memory for byte totals: not counted");
	if (s->cfg.model == MODEL_THREAD && !exec) {
		if (pipe2(s->notify, O_CLOEXEC | O_NONBLOCK) < 0 ||
		    !(s->notify_in = stream_fd_new(s->loop, s->notify[0], 0))) {
			snprintf(err, errlen, "thread model: %s", strerror(errno));
			return -1;
		}
		stream_set_cb(s->notify_in, on_threads_done, s);
		if (stream_want(s->notify_in, STREAM_READ) < 0) {
			snprintf(err, errlen, "thread model: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

void serve_exec_free(struct serve_server *s)
{
	while (s->xrs)
		xrelay_free(s->xrs);
	children_free(s->kids);
	s->kids = NULL;
	while (s->nexecs)
		close(s->execs[--s->nexecs].fd);
	free(s->execs);
	s->execs = NULL;
	stream_close(s->notify_in);
	s->notify_in = NULL;
	/* Threads still running write to the pipe and add to the totals:
	 * those stay until the process exits. */
	if (s->nthreads)
		return;
	for (int i = 0; i < 2; i++)
		if (s->notify[i] >= 0)
			close(s->notify[i]);
	model_totals_free(s->jt);
	s->jt = NULL;
}
