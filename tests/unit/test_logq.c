/* The log queue: writes that never block on a reader that stalls, whole
 * lines dropped and counted, order kept, draining through the loop on
 * every backend, a bounded flush, and the given descriptor's flags never
 * changed (a pipe, a socket, a terminal, a file). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/logq.h"
#include "core/loop.h"
#include "core/mux.h"
#include "tap.h"

static int drops_seen;

static void count_drop(struct logq *q, void *arg)
{
	(void)q;
	(void)arg;
	drops_seen++;
}

static void on_drop(struct logq *q, void *arg)
{
	drops_seen++;
	/* Writing to the queue from its own callback is allowed. */
	logq_printf(q, "%s: dropping\n", (const char *)arg);
}

/* Writes numbered lines until n have been dropped; returns how many were
 * taken. taken[i] says whether line i was. */
static int fill(struct logq *q, char *taken, int max, int want_dropped)
{
	int ok = 0, dropped = 0;
	for (int i = 0; i < max && dropped < want_dropped; i++) {
		char line[120];
		int n =
		    snprintf(line, sizeof line, "line %06d %s\n", i,
			     "................................................................");
		taken[i] = logq_write(q, line, (size_t)n);
		if (taken[i])
			ok++;
		else
			dropped++;
	}
	return ok;
}

/* Every taken line once, in order, whole; no dropped one. */
static bool check_order(const char *data, size_t len, const char *taken, int max)
{
	int next = 0;
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return false; /* a torn line at the end */
		int i;
		if (sscanf(p, "line %d ", &i) != 1 || nl - p != 76)
			return false;
		while (next < i)
			if (next < max && taken[next++])
				return false; /* a taken line is missing */
		if (i >= max || !taken[i])
			return false;
		next = i + 1;
		p = nl + 1;
	}
	while (next < max)
		if (taken[next++])
			return false;
	return true;
}

/* Only whole numbered lines. */
static bool whole(const char *data, size_t len)
{
	for (const char *p = data, *end = data + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int i;
		if (!nl || nl - p != 76 || sscanf(p, "line %d ", &i) != 1)
			return false;
		p = nl + 1;
	}
	return true;
}

static size_t read_all(int fd, char **buf, size_t *len, size_t *cap)
{
	size_t got = 0;
	for (;;) {
		if (*len == *cap) {
			*cap = *cap ? *cap * 2 : 65536;
			*buf = realloc(*buf, *cap);
		}
		ssize_t r = read(fd, *buf + *len, *cap - *len);
		if (r <= 0)
			return got;
		*len += (size_t)r;
		got += (size_t)r;
	}
}

struct drainer {
	struct logq *q;
	int rfd;
	char *buf;
	size_t len, cap;
	struct timer watchdog;
	bool timed_out;
};

static void on_readable(struct loop *l, int fd, int mask, void *arg)
{
	(void)fd;
	(void)mask;
	struct drainer *d = arg;
	read_all(d->rfd, &d->buf, &d->len, &d->cap);
	if (logq_pending(d->q) == 0)
		loop_stop(l);
}

static void on_watchdog(struct loop *l, void *arg)
{
	struct drainer *d = arg;
	d->timed_out = true;
	loop_stop(l);
}

/* Runs the loop, reading d->rfd, until the queue is empty and what it
 * wrote has been read. */
static void drain_through(struct loop *l, struct drainer *d)
{
	fcntl(d->rfd, F_SETFL, O_NONBLOCK);
	loop_io(l, d->rfd, MUX_READ, on_readable, d);
	timer_init(&d->watchdog, on_watchdog, d);
	loop_timer_start(l, &d->watchdog, 10000);
	loop_run(l);
	read_all(d->rfd, &d->buf, &d->len, &d->cap);
	loop_io(l, d->rfd, 0, NULL, NULL);
	loop_timer_stop(l, &d->watchdog);
}

static void pipe_unread(const char *backend)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	int fl_before = fcntl(p[1], F_GETFL);
	drops_seen = 0;
	struct logq *q = logq_new(p[1], 256 * 1024);
	ok(q != NULL, "%s: a queue for a pipe", backend);
	if (!q)
		return;
	logq_on_drop(q, count_drop, NULL);
	ok(logq_how(q) == LOGQ_NONBLOCK, "%s: the pipe is reopened non-blocking", backend);
	ok(fcntl(p[1], F_GETFL) == fl_before && !(fl_before & O_NONBLOCK),
	   "%s: the original pipe descriptor stays blocking", backend);

	enum { MAX = 20000 };
	static char taken[MAX];
	memset(taken, 0, sizeof taken);
	int64_t t0 = clock_ms();
	/* 64 KiB in the pipe, 256 KiB queued: then drops. */
	int n = fill(q, taken, MAX, 500);
	ok(clock_ms() - t0 < 2000, "%s: %d lines written without blocking", backend, n);
	ok(n > 3000 && n < 4500, "%s: about pipe + cap taken (%d)", backend, n);
	ok(logq_dropped(q) == 500, "%s: 500 whole lines dropped and counted (%llu)", backend,
	   (unsigned long long)logq_dropped(q));
	ok(drops_seen == 1, "%s: the drop callback ran once (%d)", backend, drops_seen);
	ok(logq_pending(q) <= 256 * 1024, "%s: the queue stays under its cap (%zu)", backend,
	   logq_pending(q));
	ok(fcntl(p[1], F_GETFL) == fl_before, "%s: still blocking after the writes", backend);

	char err[128];
	struct loop *l = loop_new(backend, 64, err, sizeof err);
	ok(l != NULL, "%s: loop", backend);
	if (!l)
		return;
	ok(logq_attach(q, l) == 0, "%s: attached", backend);
	/* Nothing else watched: the queue alone does not keep the loop on. */
	t0 = clock_ms();
	ok(loop_run(l) == 0 && clock_ms() - t0 < 500 && logq_pending(q) > 0,
	   "%s: the queue's watch does not keep loop_run going", backend);

	struct drainer d = {.q = q, .rfd = p[0]};
	drain_through(l, &d);
	ok(!d.timed_out && logq_pending(q) == 0, "%s: the queue drains when the pipe is read",
	   backend);
	ok(check_order(d.buf, d.len, taken, MAX),
	   "%s: every taken line arrived once, whole, in order (%zu bytes)", backend, d.len);

	/* In the loop, a burst of lines waits for the end of the iteration
	 * and goes out together; a big one goes at once. */
	size_t before_len = d.len;
	for (int i = 0; i < 10; i++)
		logq_write(q, "x\n", 2);
	ok(logq_pending(q) == 20, "%s: lines of one iteration are batched", backend);
	loop_run(l);
	read_all(p[0], &d.buf, &d.len, &d.cap);
	ok(logq_pending(q) == 0 && d.len == before_len + 20,
	   "%s: and written at the end of the iteration", backend);
	static char burst[70000];
	memset(burst, 'y', sizeof burst);
	burst[sizeof burst - 1] = '\n';
	ok(logq_write(q, burst, sizeof burst) && logq_pending(q) < sizeof burst,
	   "%s: more than 64 KiB is written at once", backend);
	logq_detach(q);
	loop_free(l);
	logq_flush(q, 0);
	d.len = 0;
	read_all(p[0], &d.buf, &d.len, &d.cap);
	logq_write(q, "z\n", 2);
	ok(logq_pending(q) == 0, "%s: detached: written straight away", backend);

	/* A stalled reader at the end: flush gives up at its deadline and
	 * counts what is left. */
	memset(taken, 0, sizeof taken);
	read_all(p[0], &d.buf, &d.len, &d.cap);
	uint64_t before = logq_dropped(q);
	fill(q, taken, MAX, 1);
	/* Room for one pipe's worth: the flush writes it, then stalls. */
	d.len = 0;
	read_all(p[0], &d.buf, &d.len, &d.cap);
	size_t left = logq_pending(q);
	t0 = clock_ms();
	int r = logq_flush(q, 300);
	int64_t took = clock_ms() - t0;
	ok(r == -1 && errno == ETIMEDOUT && took >= 250 && took < 2000,
	   "%s: flush returns at its deadline (%lld ms)", backend, (long long)took);
	ok(left > 0 && logq_pending(q) == 0 && logq_dropped(q) > before + 1,
	   "%s: what was left is counted as dropped", backend);
	d.len = 0;
	read_all(p[0], &d.buf, &d.len, &d.cap);
	ok(d.len > 60000 && whole(d.buf, d.len),
	   "%s: what the flush wrote is whole lines, none torn (%zu bytes)", backend, d.len);
	logq_free(q);
	ok(fcntl(p[1], F_GETFL) == fl_before, "%s: freed: the original is as it was", backend);
	close(p[0]);
	close(p[1]);
	free(d.buf);
}

static void whole_lines(void)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	/* Fill the pipe itself first, so everything after is queued. */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	char junk[4096];
	memset(junk, 'j', sizeof junk);
	while (write(p[1], junk, sizeof junk) > 0)
		;
	fcntl(p[1], F_SETFL, 0);
	struct logq *q = logq_new(p[1], 100);
	ok(logq_write(q, "aaaaaaaaa\n", 10) && logq_pending(q) == 10, "small cap: a line queued");
	char big[101];
	memset(big, 'b', sizeof big);
	big[100] = '\n';
	ok(!logq_write(q, big, sizeof big) && logq_dropped(q) == 1,
	   "a line bigger than the cap is dropped");
	ok(!logq_write(q, big, 91) && logq_pending(q) == 10, "a line that does not fit is dropped");
	ok(logq_write(q, big, 90) && logq_pending(q) == 100, "one that fits exactly is taken");
	ok(!logq_write(q, "two\nlines\n", 10) && logq_dropped(q) == 4,
	   "a unit of two lines counts two");
	ok(logq_printf(q, "%s", "") && logq_pending(q) == 100, "nothing to write is no drop");
	logq_free(q);

	/* A failed descriptor: everything dropped, the callback once. */
	drops_seen = 0;
	int fl = fcntl(p[1], F_GETFL);
	static char name[] = "pipe";
	q = logq_new(p[1], 0);
	logq_on_drop(q, on_drop, name);
	close(p[0]);
	ok(!logq_write(q, "gone\n", 5) && logq_error(q) == EPIPE, "reader gone: EPIPE");
	ok(!logq_write(q, "again\n", 6) && drops_seen == 1 && logq_dropped(q) == 3,
	   "later lines dropped too, the callback ran once (its own line counted)");
	ok(logq_flush(q, 1000) == 0, "flush of an empty failed queue returns at once");
	logq_free(q);
	ok(fcntl(p[1], F_GETFL) == fl, "the flags of the write end are unchanged");
	close(p[1]);
}

static void long_printf(void)
{
	char path[] = "/tmp/test_logqXXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	ok(write(fd, "first\n", 6) == 6, "a file with a line");
	struct logq *q = logq_new(fd, 0);
	ok(q && logq_how(q) == LOGQ_DIRECT, "a file is written directly");
	static char s[20000];
	memset(s, 'z', sizeof s - 1);
	ok(logq_printf(q, "%s\n", s) && logq_pending(q) == 0, "a long printf line is written");
	logq_free(q);
	off_t end = lseek(fd, 0, SEEK_END);
	ok(end == 6 + (off_t)sizeof s, "it follows what was there (offset kept): %lld",
	   (long long)end);
	close(fd);
}

static void a_socket(void)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	int fl = fcntl(sv[0], F_GETFL);
	struct logq *q = logq_new(sv[0], 64 * 1024);
	ok(q && logq_how(q) == LOGQ_SOCKET, "a socket is written with MSG_DONTWAIT");
	static char taken[100000];
	int64_t t0 = clock_ms();
	fill(q, taken, 100000, 10);
	ok(clock_ms() - t0 < 2000 && logq_dropped(q) == 10, "an unread socket never blocks");
	ok(fcntl(sv[0], F_GETFL) == fl, "the socket's flags are unchanged");
	/* A stream socket takes part of a line when nearly full: the rest
	 * must follow it, not be dropped. */
	char err[128];
	struct loop *l = loop_new(NULL, 64, err, sizeof err);
	struct drainer d = {.q = q, .rfd = sv[1]};
	logq_attach(q, l);
	drain_through(l, &d);
	ok(!d.timed_out && check_order(d.buf, d.len, taken, 100000),
	   "read at last: every taken line, whole, in order (%zu bytes)", d.len);
	logq_free(q);
	loop_free(l);
	free(d.buf);
	close(sv[0]);
	close(sv[1]);
}

static void a_terminal(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) {
		ok(1, "# SKIP no pty");
		return;
	}
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	int fl = fcntl(s, F_GETFL);
	struct logq *q = logq_new(s, 16 * 1024);
	ok(q && logq_how(q) == LOGQ_NONBLOCK, "a terminal is reopened non-blocking");
	static char taken[100000];
	int64_t t0 = clock_ms();
	/* Nobody reads the master: the terminal fills up. */
	fill(q, taken, 100000, 10);
	ok(clock_ms() - t0 < 2000 && logq_dropped(q) == 10, "a stalled terminal never blocks");
	ok(fcntl(s, F_GETFL) == fl && !(fl & O_NONBLOCK), "the terminal stays blocking");
	logq_free(q);

	/* The master side is never reopened (that would make a new pty):
	 * non-blocking for each write only. */
	int mfl = fcntl(m, F_GETFL);
	q = logq_new(m, 16 * 1024);
	ok(q && logq_how(q) == LOGQ_TOGGLE, "a pty master: O_NONBLOCK per write");
	fill(q, taken, 100000, 10);
	ok(logq_dropped(q) == 10 && fcntl(m, F_GETFL) == mfl,
	   "it never blocks and the flags are back after each write");
	logq_free(q);
	close(s);
	close(m);
}

static void not_writable(void)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	errno = 0;
	ok(logq_new(p[0], 0) == NULL && errno == EBADF, "a read end is refused");
	close(p[1]);
	ok(logq_new(p[1], 0) == NULL && errno == EBADF, "a closed fd is refused");
	close(p[0]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* A test that blocks fails instead of hanging the suite. */
	alarm(60);
	for (const char *const *b = mux_backends(); *b; b++)
		pipe_unread(*b);
	whole_lines();
	long_printf();
	a_socket();
	a_terminal();
	not_writable();
	tap_done();
}
