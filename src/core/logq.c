#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "core/logq.h"
#include "core/loop.h"

#define BUF_MIN	  4096
#define BUF_KEEP  (64 * 1024) /* a drained buffer bigger than this is freed */
#define BATCH_MAX (64 * 1024) /* written at once, not at the iteration's end */

struct logq {
	int fd; /* owned: a descriptor of our own for the output */
	enum logq_how how;
	char *buf; /* owned; bytes [off, off + len) are queued */
	size_t off, len, bufcap, cap;
	uint64_t dropped;
	int err;
	bool notified;
	logq_drop_cb cb;
	void *cbarg;
	bool fifo;	/* a pipe: written in pieces it takes whole (piece()) */
	struct loop *l; /* not owned */
	bool watching;
	struct timer soon; /* the end of this loop iteration: write the batch */
};

/* Keeps our descriptors off 0-2: a command may watch a closed stdin as fd
 * 0, and an open() here must not be taken for it. */
static int high_fd(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int e = errno;
	close(fd);
	errno = e;
	return h;
}

/* A new open file description of the same pipe or terminal, non-blocking.
 * Setting O_NONBLOCK on fd itself would change it for every process that
 * shares the description: the shell on the terminal (whose next commands
 * would then fail with EAGAIN), the other programs writing to the same
 * pipe. Reopening through /proc gives a description of our own. */
static int reopen_nonblock(int fd, const struct stat *st)
{
	const int flags = O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	char path[40];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int nfd = open(path, flags);
	/* Without /proc (or not allowed to reopen it there), a terminal can
	 * still be opened by its name. */
	if (nfd < 0 && S_ISCHR(st->st_mode)) {
		const char *name = ttyname(fd);
		if (name)
			nfd = open(name, flags);
	}
	if (nfd < 0)
		return -1;
	struct stat now;
	if (fstat(nfd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino ||
	    now.st_rdev != st->st_rdev) {
		close(nfd);
		return -1;
	}
	return high_fd(nfd);
}

static bool is_pty_master(int fd)
{
	unsigned n;
	return ioctl(fd, TIOCGPTN, &n) == 0;
}

static int open_writer(int fd, enum logq_how *how, bool *fifo)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fstat(fd, &st) < 0)
		return -1;
	*fifo = S_ISFIFO(st.st_mode);
	if ((fl & O_ACCMODE) == O_RDONLY) {
		errno = EBADF;
		return -1;
	}
	/* Files never block (a dup keeps the original's offset and
	 * O_APPEND, where reopening would start at 0 and overwrite); nor
	 * do the memory devices (major 1: /dev/null, /dev/zero, /dev/full). */
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ||
	    (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1)) {
		*how = LOGQ_DIRECT;
		return fcntl(fd, F_DUPFD_CLOEXEC, 3);
	}
	if (S_ISSOCK(st.st_mode)) {
		/* Non-blocking per call, whatever the descriptor's flags. */
		*how = LOGQ_SOCKET;
		return fcntl(fd, F_DUPFD_CLOEXEC, 3);
	}
	if (fl & O_NONBLOCK) {
		/* Already so, by whoever made it: nothing to change. */
		*how = LOGQ_NONBLOCK;
		return fcntl(fd, F_DUPFD_CLOEXEC, 3);
	}
	/* Reopening a pty's master side would make a new pty: never. */
	if (S_ISFIFO(st.st_mode) || (S_ISCHR(st.st_mode) && isatty(fd) && !is_pty_master(fd))) {
		int nfd = reopen_nonblock(fd, &st);
		if (nfd >= 0) {
			*how = LOGQ_NONBLOCK;
			return nfd;
		}
	}
	/* Nothing else works (no /proc, a FIFO whose reader is gone, another
	 * device): set O_NONBLOCK around each write only, so the shared
	 * description is back to blocking as soon as the write returns and
	 * nothing is left changed if we die. */
	*how = LOGQ_TOGGLE;
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

struct logq *logq_new(int fd, size_t cap)
{
	struct logq *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->fd = open_writer(fd, &q->how, &q->fifo);
	if (q->fd < 0) {
		int e = errno;
		free(q);
		errno = e;
		return NULL;
	}
	q->cap = cap ? cap : LOGQ_CAP_DEFAULT;
	return q;
}

enum logq_how logq_how(const struct logq *q)
{
	return q->how;
}

size_t logq_pending(const struct logq *q)
{
	return q->len;
}

uint64_t logq_dropped(const struct logq *q)
{
	return q->dropped;
}

int logq_error(const struct logq *q)
{
	return q->err;
}

void logq_on_drop(struct logq *q, logq_drop_cb cb, void *arg)
{
	q->cb = cb;
	q->cbarg = arg;
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t k = 0;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		k++;
	return k ? k : 1;
}

static void notify(struct logq *q)
{
	if (q->notified)
		return;
	/* Before the call: the callback may write here again. */
	q->notified = true;
	if (q->cb)
		q->cb(q, q->cbarg);
}

static void on_writable(struct loop *l, int fd, int mask, void *arg);

/* Watched only while bytes are queued: a descriptor that is ready most of
 * the time would otherwise wake the loop for nothing. */
static void set_watch(struct logq *q, bool on)
{
	if (!q->l || q->watching == on)
		return;
	if (loop_io_weak(q->l, q->fd, on ? MUX_WRITE : 0, on_writable, q) == 0 || !on)
		q->watching = on;
}

/* What is queued is lost (the descriptor failed, or the end came). */
static void discard(struct logq *q)
{
	if (q->len)
		q->dropped += count_lines(q->buf + q->off, q->len);
	q->off = q->len = 0;
	set_watch(q, false);
}

/* One write that never blocks: bytes written, 0 when the descriptor is
 * full, -1 when it failed (q->err set). */
static ssize_t put(struct logq *q, const char *p, size_t n)
{
	/* not a stream: the program's own stdout or stderr, which the queue
	 * writes with its own non-blocking rules (see logq_new). */
	for (;;) {
		ssize_t w;
		if (q->how == LOGQ_SOCKET) {
			/* not a stream: as above */
			w = send(q->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		} else if (q->how == LOGQ_TOGGLE) {
			int fl = fcntl(q->fd, F_GETFL);
			if (fl >= 0 && !(fl & O_NONBLOCK))
				fcntl(q->fd, F_SETFL, fl | O_NONBLOCK);
			w = write(q->fd, p, n); /* not a stream: as above */
			int e = errno;
			if (fl >= 0 && !(fl & O_NONBLOCK))
				fcntl(q->fd, F_SETFL, fl);
			errno = e;
		} else {
			w = write(q->fd, p, n); /* not a stream: as above */
		}
		if (w >= 0)
			return w;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		q->err = errno;
		return -1;
	}
}

/* The next piece to write: to a pipe, whole lines of at most PIPE_BUF
 * bytes (or one longer line). A pipe takes such a write whole or not at
 * all, so no line is torn there, even when the end comes with the queue not
 * yet written. */
static size_t piece(const struct logq *q, const char *p, size_t n)
{
	if (!q->fifo || n <= PIPE_BUF)
		return n;
	const char *nl = memrchr(p, '\n', PIPE_BUF);
	if (!nl)
		nl = memchr(p + PIPE_BUF, '\n', n - PIPE_BUF);
	return nl ? (size_t)(nl - p) + 1 : n;
}

/* Writes as much of [p, p + n) as the descriptor takes now: the count, or
 * -1 after a failure. */
static ssize_t put_all(struct logq *q, const char *p, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = put(q, p + done, piece(q, p + done, n - done));
		if (w < 0)
			return -1;
		if (w == 0)
			break;
		done += (size_t)w;
	}
	return (ssize_t)done;
}

/* Writes from the queue, and watches for room while some is left; on
 * failure what is queued is dropped. */
static void drain(struct logq *q)
{
	if (q->l)
		loop_timer_stop(q->l, &q->soon);
	if (!q->len) {
		set_watch(q, false);
		return;
	}
	ssize_t w = put_all(q, q->buf + q->off, q->len);
	if (w < 0) {
		discard(q);
		notify(q);
		return;
	}
	q->off += (size_t)w;
	q->len -= (size_t)w;
	set_watch(q, q->len > 0);
	if (q->len)
		return;
	q->off = 0;
	if (q->bufcap > BUF_KEEP) {
		free(q->buf);
		q->buf = NULL;
		q->bufcap = 0;
	}
}

static void on_writable(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	(void)fd;
	(void)mask;
	drain(arg);
}

static void on_soon(struct loop *l, void *arg)
{
	(void)l;
	drain(arg);
}

static bool append(struct logq *q, const char *p, size_t n)
{
	if (q->off + q->len + n > q->bufcap && q->off) {
		memmove(q->buf, q->buf + q->off, q->len);
		q->off = 0;
	}
	if (q->len + n > q->bufcap) {
		size_t c = q->bufcap ? q->bufcap : BUF_MIN;
		while (c < q->len + n)
			c *= 2;
		if (c > q->cap)
			c = q->cap;
		char *b = realloc(q->buf, c);
		if (!b)
			return false;
		q->buf = b;
		q->bufcap = c;
	}
	memcpy(q->buf + q->off + q->len, p, n);
	q->len += n;
	return true;
}

static bool drop(struct logq *q, const char *p, size_t n)
{
	q->dropped += count_lines(p, n);
	notify(q);
	return false;
}

bool logq_write(struct logq *q, const void *buf, size_t n)
{
	const char *p = buf;
	if (n == 0)
		return true;
	if (q->err || n > q->cap - q->len)
		return drop(q, p, n);
	if (q->len == 0 && !q->l) {
		/* No loop to batch for: straight out. */
		ssize_t w = put_all(q, p, n);
		if (w < 0)
			return drop(q, p, n);
		p += w;
		n -= (size_t)w;
		if (n == 0)
			return true;
	}
	/* Queued whole, even when part of it went out: the rest of a line is
	 * never dropped once its start was written. */
	if (!append(q, p, n))
		return drop(q, p, n);
	if (q->watching)
		return true; /* the descriptor is full: the loop writes on room */
	/* In a loop, the lines of one iteration (a burst of requests, a
	 * chat sender's read) go out in one write at its end, or at once
	 * when they are many. */
	if (!q->l || q->len >= BATCH_MAX)
		drain(q);
	else if (!timer_armed(&q->soon))
		loop_timer_start(q->l, &q->soon, 0);
	return true;
}

bool logq_vprintf(struct logq *q, const char *fmt, va_list ap)
{
	char line[4096];
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	bool ok;
	if (n < 0) {
		ok = false;
	} else if ((size_t)n < sizeof line) {
		ok = logq_write(q, line, (size_t)n);
	} else {
		char *big = malloc((size_t)n + 1);
		ok = big && vsnprintf(big, (size_t)n + 1, fmt, again) == n;
		ok = ok ? logq_write(q, big, (size_t)n) : drop(q, "", 0);
		free(big);
	}
	va_end(again);
	return ok;
}

bool logq_printf(struct logq *q, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = logq_vprintf(q, fmt, ap);
	va_end(ap);
	return ok;
}

int logq_attach(struct logq *q, struct loop *l)
{
	logq_detach(q);
	/* Watched once now, so that a descriptor the loop cannot watch is
	 * refused here rather than found out when the queue fills. */
	if (loop_io_weak(l, q->fd, MUX_WRITE, on_writable, q) < 0)
		return -1;
	q->l = l;
	q->watching = true;
	timer_init(&q->soon, on_soon, q);
	drain(q);
	return 0;
}

void logq_detach(struct logq *q)
{
	if (!q->l)
		return;
	set_watch(q, false);
	loop_timer_stop(q->l, &q->soon);
	q->l = NULL;
}

int logq_flush(struct logq *q, int timeout_ms)
{
	int64_t end = clock_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	while (q->len && !q->err) {
		int64_t left = end - clock_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = {.fd = q->fd, .events = POLLOUT};
		int r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0)
			drain(q);
	}
	if (!q->len)
		return 0;
	int e = q->err ? q->err : ETIMEDOUT;
	discard(q);
	notify(q);
	errno = e;
	return -1;
}

void logq_free(struct logq *q)
{
	if (!q)
		return;
	logq_detach(q);
	discard(q);
	close(q->fd);
	free(q->buf);
	free(q);
}
