#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/text_escape.h"
#include "net/stream.h"
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

struct model_totals *model_totals_new(void)
{
	struct model_totals *t =
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

void model_totals_free(struct model_totals *t)
{
	if (t)
		munmap(t, sizeof *t);
}

void model_totals_get(const struct model_totals *t, uint64_t *in, uint64_t *out)
{
	*in = t ? atomic_load_explicit(&t->in, memory_order_relaxed) : 0;
	*out = t ? atomic_load_explicit(&t->out, memory_order_relaxed) : 0;
}

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Waits until the stream may do what want says, within timeout_ms (-1:
 * forever); false on timeout or failure. */
static bool wait_for(struct stream *s, int want, int timeout_ms)
{
	int r;
	do
		r = stream_wait(s, want, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

/* A read as blocking code does it: bytes, 0 at the end, -1 on failure or
 * after idle_ms (> 0) without data. *drained says the last read took
 * less than it could: the next waits first (a read that would find
 * nothing costs a call per message in a request and reply exchange). */
static ssize_t job_read(struct model_job *j, void *buf, size_t n, int idle_ms, bool *drained)
{
	int timeout = idle_ms > 0 ? idle_ms : -1;
	if (*drained && !stream_has(j->s, STREAM_F_BLOCKING) &&
	    !wait_for(j->s, STREAM_READ, timeout))
		return -1;
	for (;;) {
		ssize_t r = stream_read(j->s, buf, n);
		if (r >= 0 || !again()) {
			*drained = r >= 0 && (size_t)r < n;
			return r;
		}
		if (!wait_for(j->s, STREAM_READ, timeout))
			return -1;
	}
}

static void count_in(struct model_job *j, ssize_t r)
{
	j->in += (uint64_t)r;
	if (j->totals)
		atomic_fetch_add_explicit(&j->totals->in, (uint64_t)r, memory_order_relaxed);
}

static void count_out(struct model_job *j, ssize_t w)
{
	j->out += (uint64_t)w;
	if (j->totals)
		atomic_fetch_add_explicit(&j->totals->out, (uint64_t)w, memory_order_relaxed);
}

static bool send_all(struct model_job *j, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = stream_write(j->s, p, n);
		if (w < 0 && again()) {
			/* (A TLS stream may want READ for this: the stream
			 * knows, and stream_wait asks the fd for that.) */
			if (!wait_for(j->s, STREAM_WRITE, -1))
				return false;
			continue;
		}
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
		count_out(j, w);
	}
	return true;
}

static void shut_write(struct model_job *j)
{
	while (stream_shutdown_write(j->s) < 0 && again())
		if (!wait_for(j->s, STREAM_WRITE, -1))
			break;
}

void model_job_run(struct model_job *j)
{
	char buf[65536];
	if (j->kind == MODEL_JOB_RESPOND) {
		send_all(j, j->data, j->len);
		shut_write(j);
		/* Let the peer read it all: drain what it sends until it closes. */
		ssize_t r;
		bool drained = false;
		while ((r = job_read(j, buf, sizeof buf, j->idle_ms > 0 ? j->idle_ms : 5000,
				     &drained)) > 0)
			count_in(j, r);
		stream_close(j->s);
		return;
	}
	/* The kernel copy of a 64 KiB buffer per read/write pair is what
	 * this model costs; keep it simple. Without an idle limit the reads
	 * wait inside the call: one system call per message, not two. */
	if (j->idle_ms <= 0)
		(void)stream_set_blocking(j->s); /* else stream_wait, as with one */
	bool drained = false;
	for (;;) {
		ssize_t r = job_read(j, buf, sizeof buf, j->idle_ms, &drained);
		if (r <= 0)
			break;
		count_in(j, r);
		if (j->kind == MODEL_JOB_DISCARD)
			continue;
		if (j->kind == MODEL_JOB_UPPER)
			text_upper(buf, (size_t)r);
		if (!send_all(j, buf, (size_t)r))
			break;
	}
	shut_write(j);
	stream_close(j->s);
}

struct thread_arg {
	struct model_job j;
	int notify_fd;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	model_job_run(&a->j);
	ssize_t w;
	do
		/* not a stream: the server's own completion pipe */
		w = write(a->notify_fd, "", 1);
	while (w < 0 && errno == EINTR);
	free(a);
	return NULL;
}

int model_job_thread(const struct model_job *j, int notify_fd)
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

pid_t model_job_fork(const struct model_job *j)
{
	pid_t pid = fork();
	if (pid == 0) {
		/* The loop's handlers would only poke the parent's self-pipe:
		 * the child must die of these as a plain program does. */
		static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], SIG_DFL);
		struct model_job c = *j;
		model_job_run(&c);
		_exit(0);
	}
	return pid;
}
