#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "proc/workers.h"

/* The signal handler needs the pids: one worker set per process. */
static struct workers *g_workers;
static volatile sig_atomic_t g_forwarded;

static void forward(int signo)
{
	int saved = errno;
	g_forwarded = signo;
	if (g_workers)
		for (int i = 0; i < g_workers->n; i++)
			if (g_workers->pids[i] > 0)
				kill(g_workers->pids[i], signo);
	errno = saved;
}

int workers_start(struct workers *w, int n, int *index, char *err, size_t errlen)
{
	memset(w, 0, sizeof *w);
	w->n = n;
	w->pids = calloc((size_t)n, sizeof *w->pids);
	if (!w->pids || pipe2(w->ready_pipe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "workers: %s", w->pids ? strerror(errno) : "out of memory");
		free(w->pids);
		w->pids = NULL;
		return -1;
	}
	pid_t parent = getpid();
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			snprintf(err, errlen, "fork worker: %s", strerror(errno));
			for (int k = 0; k < i; k++)
				kill(w->pids[k], SIGTERM);
			return -1;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != parent)
				_exit(1);
			close(w->ready_pipe[0]);
			w->ready_pipe[0] = -1;
			*index = i;
			return 1;
		}
		w->pids[i] = pid;
	}
	close(w->ready_pipe[1]);
	w->ready_pipe[1] = -1;
	return 0;
}

void workers_ready(struct workers *w)
{
	ssize_t r;
	do
		/* not a stream: our own pipe to the parent */
		r = write(w->ready_pipe[1], "", 1);
	while (r < 0 && errno == EINTR);
	close(w->ready_pipe[1]);
	w->ready_pipe[1] = -1;
}

int workers_wait_ready(struct workers *w, int timeout_ms, char *err, size_t errlen)
{
	int got = 0;
	int64_t end = clock_ms() + timeout_ms;
	while (got < w->n) {
		int left = (int)(end - clock_ms());
		struct pollfd p = {.fd = w->ready_pipe[0], .events = POLLIN};
		int r = left > 0 ? poll(&p, 1, left) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "workers: only %d of %d listening after %d ms", got,
				 w->n, timeout_ms);
			return -1;
		}
		char b[64];
		/* not a stream: our own pipe from the workers */
		ssize_t k = read(w->ready_pipe[0], b, sizeof b);
		if (k == 0) {
			/* Every write end closed: a worker died before it was ready
			 * (it said why on stderr). */
			snprintf(err, errlen, "workers: %d of %d failed to start", w->n - got,
				 w->n);
			return -1;
		}
		if (k > 0)
			got += (int)k;
	}
	return 0;
}

int workers_wait(struct workers *w)
{
	g_workers = w;
	struct sigaction sa = {0}, old[3];
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	int worst = 0, left = w->n;
	while (left > 0) {
		int st;
		pid_t pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < w->n; i++) {
			if (w->pids[i] != pid)
				continue;
			w->pids[i] = 0;
			left--;
			int code = WIFEXITED(st)		 ? WEXITSTATUS(st)
				   : WTERMSIG(st) == g_forwarded ? 0
								 : 1;
			if (code > worst)
				worst = code;
			/* One worker gone for good: the others go too, so the
			 * server fails visibly rather than at part capacity. */
			if (!g_forwarded && code != 0)
				forward(SIGTERM), g_forwarded = SIGTERM;
		}
	}
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	g_workers = NULL;
	return worst;
}

void workers_free(struct workers *w)
{
	for (int i = 0; i < 2; i++)
		if (w->ready_pipe[i] >= 0)
			close(w->ready_pipe[i]);
	free(w->pids);
	memset(w, 0, sizeof *w);
	w->ready_pipe[0] = w->ready_pipe[1] = -1;
}

int workers_listen_again(int like, const struct sock_addr *bound, int backlog, char *err,
			 size_t errlen)
{
	char where[SOCK_ADDRSTRLEN];
	const struct sockaddr *sa = (const struct sockaddr *)&bound->ss;
	int fd = sock_socket(sa->sa_family, SOCK_STREAM, 0);
	int one = 1, v6only = 1;
	socklen_t optlen = sizeof v6only;
	/* The same IPV6_V6ONLY as the first listener: a dual-stack "::"
	 * must stay one in every worker, or IPv4 peers reach only one. */
	if (sa->sa_family == AF_INET6)
		getsockopt(like, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
	    (sa->sa_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) < 0) ||
	    bind(fd, sa, bound->len) < 0 || listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "listen %s (another worker): %s",
			 sock_addr_str(sa, bound->len, where, sizeof where), strerror(e));
		return -1;
	}
	return fd;
}

int workers_supervise(struct workers *w, int timeout_ms, void (*ready)(void *arg), void *arg,
		      char *err, size_t errlen)
{
	int st = 0;
	err[0] = '\0';
	if (workers_wait_ready(w, timeout_ms, err, errlen) < 0) {
		st = 1;
		for (int i = 0; i < w->n; i++)
			if (w->pids[i] > 0)
				kill(w->pids[i], SIGTERM);
	} else {
		ready(arg);
	}
	int ws = workers_wait(w);
	workers_free(w);
	return st ? st : ws;
}
