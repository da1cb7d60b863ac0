#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"

struct handler {
	loop_io_cb cb;
	void *arg;
	int mask;
	bool unpollable; /* the backend refused it (EPERM): ready every iteration */
	bool ready;	 /* loop_io_ready(): dispatched every iteration */
	bool weak;	 /* does not keep loop_run going (loop_io_weak) */
	int always_at;	 /* position in the always list + 1; 0 = not in it */
};

struct sig {
	int signo;
	loop_signal_cb cb;
	void *arg;
};

struct loop {
	struct mux *mux;   /* owned */
	struct handler *h; /* owned; indexed by fd */
	int nh;
	int nwatched; /* fds with a non-zero mask, not weak */
	int *always;  /* owned: fds dispatched every iteration (unpollable or ready) */
	int nalways, capalways;
	int holds;	     /* loop_hold() minus loop_release() */
	struct timer **heap; /* owned array; timers owned by callers */
	size_t nheap, capheap;
	struct mux_event *ev; /* owned */
	int nev;
	int64_t now;
	bool stop;
	bool fds_private; /* loop_set_fds_private */
	struct sig sigs[8];
	int nsigs;
};

/* One self-pipe for the process: signal handlers are process-wide. */
static int sigpipe_fd[2] = {-1, -1};
static volatile sig_atomic_t sig_pending[65];

static void on_signal(int signo)
{
	int saved = errno;
	if (signo > 0 && signo < 65)
		sig_pending[signo] = 1;
	if (sigpipe_fd[1] >= 0) {
		/* not a stream: the loop's own signal pipe */
		ssize_t r = write(sigpipe_fd[1], "", 1);
		(void)r;
	}
	errno = saved;
}

int64_t clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct loop *loop_new(const char *backend, int maxfds, char *err, size_t errlen)
{
	struct loop *l = calloc(1, sizeof *l);
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->mux = mux_new(backend, maxfds, err, errlen);
	if (!l->mux) {
		free(l);
		return NULL;
	}
	l->nev = 256;
	l->ev = calloc((size_t)l->nev, sizeof *l->ev);
	if (!l->ev) {
		mux_free(l->mux);
		free(l);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->now = clock_ms();
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->nsigs; i++)
		signal(l->sigs[i].signo, SIG_DFL);
	if (l->nsigs && sigpipe_fd[0] >= 0) {
		close(sigpipe_fd[0]);
		close(sigpipe_fd[1]);
		sigpipe_fd[0] = sigpipe_fd[1] = -1;
	}
	mux_free(l->mux);
	free(l->always);
	free(l->h);
	free(l->heap);
	free(l->ev);
	free(l);
}

struct mux *loop_mux(struct loop *l)
{
	return l->mux;
}

const char *loop_backend(const struct loop *l)
{
	return mux_name(l->mux);
}

int loop_fd_limit(const struct loop *l)
{
	return mux_fd_limit(l->mux);
}

int64_t loop_now(struct loop *l)
{
	return l->now;
}

static int grow_handlers(struct loop *l, int fd)
{
	if (fd < l->nh)
		return 0;
	int n = l->nh ? l->nh : 64;
	while (n <= fd)
		n *= 2;
	struct handler *h = realloc(l->h, (size_t)n * sizeof *h);
	if (!h)
		return -1;
	memset(h + l->nh, 0, (size_t)(n - l->nh) * sizeof *h);
	l->h = h;
	l->nh = n;
	return 0;
}

/* The always list: a dense array, so an iteration visits only the fds in
 * it, not every fd the loop has seen. */
static int always_add(struct loop *l, int fd)
{
	struct handler *h = &l->h[fd];
	if (h->always_at)
		return 0;
	if (l->nalways == l->capalways) {
		int cap = l->capalways ? l->capalways * 2 : 16;
		int *a = realloc(l->always, (size_t)cap * sizeof *a);
		if (!a)
			return -1;
		l->always = a;
		l->capalways = cap;
	}
	l->always[l->nalways++] = fd;
	h->always_at = l->nalways;
	return 0;
}

/* Off the list, unless another reason keeps it there. */
static void always_del(struct loop *l, int fd)
{
	struct handler *h = &l->h[fd];
	if (!h->always_at || h->unpollable || h->ready)
		return;
	int i = h->always_at - 1, last = l->always[--l->nalways];
	l->always[i] = last;
	l->h[last].always_at = i + 1;
	h->always_at = 0;
}

/* closing: the fd is closed next, and no other process holds it. */
static int set_mask(struct loop *l, int fd, int mask, bool closing)
{
	struct handler *h = &l->h[fd];
	if (h->unpollable) {
		if (!mask) {
			h->unpollable = false;
			always_del(l, fd);
		}
	} else if ((closing && !mask ? mux_forget_closing(l->mux, fd)
				     : mux_set(l->mux, fd, mask, NULL)) < 0) {
		if (errno != EPERM || !mask)
			return -1;
		if (always_add(l, fd) < 0)
			return -1;
		h->unpollable = true;
	}
	if (!mask && h->ready) {
		h->ready = false;
		always_del(l, fd);
	}
	h->mask = mask;
	return 0;
}

static int watch(struct loop *l, int fd, int mask, loop_io_cb cb, void *arg, bool weak,
		 bool closing)
{
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (grow_handlers(l, fd) < 0)
		return -1;
	struct handler *h = &l->h[fd];
	bool counted = h->mask && !h->weak;
	if (set_mask(l, fd, mask, closing) < 0)
		return -1;
	h->weak = mask && weak;
	l->nwatched += (mask && !weak) - counted;
	h->cb = mask ? cb : NULL;
	h->arg = mask ? arg : NULL;
	return 0;
}

int loop_io(struct loop *l, int fd, int mask, loop_io_cb cb, void *arg)
{
	return watch(l, fd, mask, cb, arg, false, false);
}

int loop_io_weak(struct loop *l, int fd, int mask, loop_io_cb cb, void *arg)
{
	return watch(l, fd, mask, cb, arg, true, false);
}

void loop_set_fds_private(struct loop *l, bool on)
{
	l->fds_private = on;
}

int loop_io_closing(struct loop *l, int fd)
{
	return watch(l, fd, 0, NULL, NULL, false, l->fds_private);
}

int loop_io_mask(struct loop *l, int fd, int mask)
{
	if (fd < 0 || fd >= l->nh || !l->h[fd].cb) {
		errno = EBADF;
		return -1;
	}
	if (l->h[fd].mask == mask)
		return 0;
	struct handler *h = &l->h[fd];
	return watch(l, fd, mask, h->cb, h->arg, h->weak, false);
}

int loop_io_ready(struct loop *l, int fd, bool on)
{
	if (fd < 0 || fd >= l->nh || !l->h[fd].mask) {
		errno = EBADF;
		return -1;
	}
	struct handler *h = &l->h[fd];
	if (on == h->ready)
		return 0;
	if (on) {
		if (always_add(l, fd) < 0)
			return -1;
		h->ready = true;
	} else {
		h->ready = false;
		always_del(l, fd);
	}
	return 0;
}

void loop_hold(struct loop *l)
{
	l->holds++;
}

void loop_release(struct loop *l)
{
	if (l->holds > 0)
		l->holds--;
}

/* ---- timers: a binary min-heap of pointers, each knowing its slot ---- */

void timer_init(struct timer *t, loop_timer_cb cb, void *arg)
{
	t->when = 0;
	t->heap_at = 0;
	t->cb = cb;
	t->arg = arg;
}

static void heap_place(struct loop *l, size_t i, struct timer *t)
{
	l->heap[i] = t;
	t->heap_at = i + 1;
}

static void heap_up(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p]->when <= t->when)
			break;
		heap_place(l, i, l->heap[p]);
		i = p;
	}
	heap_place(l, i, t);
}

static void heap_down(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (l->heap[c]->when >= t->when)
			break;
		heap_place(l, i, l->heap[c]);
		i = c;
	}
	heap_place(l, i, t);
}

void loop_timer_stop(struct loop *l, struct timer *t)
{
	if (!t->heap_at)
		return;
	size_t i = t->heap_at - 1;
	t->heap_at = 0;
	struct timer *last = l->heap[--l->nheap];
	if (i == l->nheap)
		return;
	heap_place(l, i, last);
	heap_up(l, i);
	heap_down(l, last->heap_at - 1);
}

void loop_timer_start(struct loop *l, struct timer *t, int64_t ms)
{
	loop_timer_stop(l, t);
	if (l->nheap == l->capheap) {
		size_t cap = l->capheap ? l->capheap * 2 : 16;
		struct timer **h = realloc(l->heap, cap * sizeof *h);
		if (!h)
			abort(); /* a few pointers; nothing sane to do without them */
		l->heap = h;
		l->capheap = cap;
	}
	t->when = clock_ms() + (ms < 0 ? 0 : ms);
	heap_place(l, l->nheap++, t);
	heap_up(l, l->nheap - 1);
}

static void run_timers(struct loop *l)
{
	/* The clock moves during a long batch of events: a timer started
	 * there for 0 ms (a deferred start) is due now, not after one more
	 * wait. */
	l->now = clock_ms();
	while (l->nheap && l->heap[0]->when <= l->now && !l->stop) {
		struct timer *t = l->heap[0];
		loop_timer_stop(l, t);
		t->cb(l, t->arg);
	}
}

/* ---- signals ---- */

static void on_sigpipe_readable(struct loop *l, int fd, int mask, void *arg)
{
	char buf[64];
	/* not a stream: the loop's own signal pipe */
	while (read(fd, buf, sizeof buf) > 0)
		;
	for (int i = 0; i < l->nsigs; i++) {
		int s = l->sigs[i].signo;
		if (sig_pending[s]) {
			sig_pending[s] = 0;
			l->sigs[i].cb(l, s, l->sigs[i].arg);
		}
	}
}

int loop_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
	if (l->nsigs == (int)(sizeof l->sigs / sizeof l->sigs[0]) || signo <= 0 || signo >= 65) {
		errno = EINVAL;
		return -1;
	}
	if (sigpipe_fd[0] < 0) {
		if (pipe2(sigpipe_fd, O_NONBLOCK | O_CLOEXEC) < 0)
			return -1;
		/* The self-pipe must not keep loop_run alive by itself. */
		if (loop_io_weak(l, sigpipe_fd[0], MUX_READ, on_sigpipe_readable, NULL) < 0)
			return -1;
	}
	l->sigs[l->nsigs++] = (struct sig){signo, cb, arg};
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | (signo == SIGCHLD ? SA_NOCLDSTOP : 0);
	return sigaction(signo, &sa, NULL);
}

/* ---- the loop ---- */

void loop_stop(struct loop *l)
{
	l->stop = true;
}

static void dispatch(struct loop *l, int fd, int mask)
{
	if (fd >= l->nh)
		return;
	struct handler *h = &l->h[fd];
	/* The mask may have changed (or the fd been forgotten) by an earlier
	 * callback in this same batch. */
	int m = mask & h->mask;
	if (m && h->cb)
		h->cb(l, fd, m | (mask & MUX_FAULT), h->arg);
}

int loop_run(struct loop *l)
{
	l->stop = false;
	while (!l->stop && (l->nwatched > 0 || l->nheap > 0 || l->holds > 0)) {
		l->now = clock_ms();
		int timeout = -1;
		if (l->nalways)
			timeout = 0;
		else if (l->nheap) {
			int64_t d = l->heap[0]->when - l->now;
			timeout = d < 0 ? 0 : d > 3600000 ? 3600000 : (int)d;
		}
		int n = mux_wait(l->mux, l->ev, l->nev, timeout);
		if (n < 0)
			return -1;
		l->now = clock_ms();
		for (int i = 0; i < n && !l->stop; i++) {
			int fd = l->ev[i].fd;
			/* A ready fd is dispatched below, with its whole mask. */
			if (fd < l->nh && l->h[fd].ready)
				continue;
			dispatch(l, fd, l->ev[i].mask);
		}
		/* By index, from the end: a callback may take its fd (or
		 * another) off the list, which moves the last entry into the
		 * freed slot; fds added meanwhile wait for the next pass. */
		for (int i = l->nalways; i-- > 0 && !l->stop;) {
			if (i >= l->nalways)
				continue;
			int fd = l->always[i];
			dispatch(l, fd, l->h[fd].mask);
		}
		run_timers(l);
	}
	return 0;
}
