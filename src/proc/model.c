#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proc/model.h"

bool model_parse(const char *s, enum model *out)
{
	if (strcmp(s, "loop") == 0)
		*out = MODEL_LOOP;
	else if (strcmp(s, "fork") == 0)
		*out = MODEL_FORK;
	else if (strcmp(s, "thread") == 0)
		*out = MODEL_THREAD;
	else
		return false;
	return true;
}

const char *model_name(enum model m)
{
	return m == MODEL_FORK ? "fork" : m == MODEL_THREAD ? "thread" : "loop";
}

struct job_totals *job_totals_new(void)
{
	struct job_totals *t =
	    mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	atomic_init(&t->in, 0);
	atomic_init(&t->out, 0);
	if (!atomic_is_lock_free(&t->in)) {
		munmap(t, sizeof *t);
		return NULL;
	}
	return t;
}

void job_totals_free(struct job_totals *t)
{
	if (t)
		munmap(t, sizeof *t);
}

void job_totals_get(const struct job_totals *t, uint64_t *in, uint64_t *out)
{
	*in = t ? atomic_load_explicit(&t->in, memory_order_relaxed) : 0;
	*out = t ? atomic_load_explicit(&t->out, memory_order_relaxed) : 0;
}

static bool wait_readable(int fd, int idle_ms)
{
	if (idle_ms <= 0)
		return true;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, idle_ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

static void count_in(struct job *j, ssize_t r)
{
	j->in += (uint64_t)r;
	if (j->totals)
		atomic_fetch_add_explicit(&j->totals->in, (uint64_t)r, memory_order_relaxed);
}

static void count_out(struct job *j, ssize_t w)
{
	j->out += (uint64_t)w;
	if (j->totals)
		atomic_fetch_add_explicit(&j->totals->out, (uint64_t)w, memory_order_relaxed);
}

static bool send_all(struct job *j, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(j->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
		count_out(j, w);
	}
	return true;
}

/* Sends n bytes, with "\n" as "\r\n" when asked. */
static bool send_text(struct job *j, const char *p, size_t n)
{
	if (!j->crlf)
		return send_all(j, p, n);
	char tmp[2 * 4096];
	while (n > 0) {
		size_t o = 0, i = 0;
		for (; i < n && o + 2 <= sizeof tmp; i++) {
			if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
				tmp[o++] = '\r';
			tmp[o++] = p[i];
		}
		if (!send_all(j, tmp, o))
			return false;
		p += i;
		n -= i;
	}
	return true;
}

void job_run(struct job *j)
{
	int fl = fcntl(j->fd, F_GETFL);
	if (fl >= 0)
		fcntl(j->fd, F_SETFL, fl & ~O_NONBLOCK);
	char buf[65536];
	if (j->kind == JOB_RESPOND) {
		send_text(j, j->data, j->len);
		shutdown(j->fd, SHUT_WR);
		/* Let the peer read it all: drain what it sends until it closes. */
		while (wait_readable(j->fd, j->idle_ms > 0 ? j->idle_ms : 5000)) {
			ssize_t r = recv(j->fd, buf, sizeof buf, 0);
			if (r <= 0 && !(r < 0 && errno == EINTR))
				break;
			if (r > 0)
				count_in(j, r);
		}
		close(j->fd);
		return;
	}
	/* The kernel copy of a 64 KiB buffer per read/write pair is what
	 * this model costs; keep it simple. */
	for (;;) {
		if (!wait_readable(j->fd, j->idle_ms))
			break;
		ssize_t r = recv(j->fd, buf, sizeof buf, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		count_in(j, r);
		if (j->kind == JOB_DISCARD)
			continue;
		if (j->kind == JOB_UPPER)
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] >= 'a' && buf[i] <= 'z')
					buf[i] = (char)(buf[i] - 'a' + 'A');
		/* -C is for what the server says itself (--respond): echoes
		 * give the client's bytes back unchanged. */
		if (!send_all(j, buf, (size_t)r))
			break;
	}
	shutdown(j->fd, SHUT_WR);
	close(j->fd);
}

struct thread_arg {
	struct job j;
	int notify_fd;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	job_run(&a->j);
	ssize_t w;
	do
		w = write(a->notify_fd, "", 1);
	while (w < 0 && errno == EINTR);
	free(a);
	return NULL;
}

int job_thread(const struct job *j, int notify_fd)
{
	struct thread_arg *a = malloc(sizeof *a);
	if (!a)
		return ENOMEM;
	a->j = *j;
	a->notify_fd = notify_fd;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	/* Small stacks: a thread per connection must not cost 8 MiB each. */
	pthread_attr_setstacksize(&at, 256 * 1024);
	/* Signals belong to the loop's thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_t t;
	int e = pthread_create(&t, &at, thread_main, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	if (e)
		free(a);
	return e;
}

pid_t job_fork(const struct job *j)
{
	pid_t pid = fork();
	if (pid == 0) {
		/* The loop's handlers would only poke the parent's self-pipe:
		 * the child must die of these as a plain program does. */
		static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], SIG_DFL);
		struct job c = *j;
		job_run(&c);
		_exit(0);
	}
	return pid;
}
