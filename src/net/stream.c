/* The stream type: what every stream type shares (the loop
 * registration, the mapping of fd events to what the engine may try)
 * and the plain fd stream. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/stream.h"

/* The fd the loop watches. A pipe's private copy is read and written,
 * but its original is watched: a FIFO reader opened without waiting
 * while no writer has it open is not told of a hang-up until a writer
 * comes, so a copy opened after the last writer left would never see
 * the end; the original, opened before or while a writer was there,
 * is. Readiness (bytes or room in the pipe) is the same for both. */
static int watch_fd(const struct stream *s)
{
	return (s->flags & STREAM_F_PIPE) && s->orig_fd >= 0 ? s->orig_fd : s->fd;
}

static void on_io(struct loop *l, int fd, int fdmask, void *arg)
{
	(void)l;
	(void)fd;
	struct stream *s = arg;
	s->events = fdmask;
	if (s->flags & STREAM_F_GATED)
		s->seen |= fdmask & (MUX_READ | MUX_WRITE);
	int ready = s->ops->ready ? s->ops->ready(s, fdmask) : fdmask;
	if ((s->want & STREAM_READ) && stream_pending(s))
		ready |= STREAM_READ;
	ready &= s->want;
	if (!ready) {
		/* An event nobody wants: a registration left as it was
		 * (stream_want_later) goes now. */
		(void)stream_update(s);
		return;
	}
	/* s may be closed by the callback: nothing after it. */
	if (s->cb)
		s->cb(s, ready, s->arg);
}

void stream_set_cb(struct stream *s, stream_cb cb, void *arg)
{
	s->cb = cb;
	s->arg = arg;
}

int stream_update(struct stream *s)
{
	int mask = s->ops->events ? s->ops->events(s, s->want) : s->want;
	bool ready = (s->want & STREAM_READ) && stream_pending(s) > 0;
	/* Bytes held inside are dispatched by the loop every iteration,
	 * which needs the fd watched for something. */
	if (ready && !mask)
		mask = MUX_READ;
	if (mask != s->mask) {
		if (loop_io(s->loop, watch_fd(s), mask, on_io, s) < 0)
			return -1;
		s->mask = mask;
	}
	if (mask && loop_io_ready(s->loop, watch_fd(s), ready) < 0)
		return -1;
	return 0;
}

bool stream_event_clean(const struct stream *s)
{
	return s->events && !(s->events & MUX_FAULT) && mux_reports_faults(loop_mux(s->loop));
}

void stream_want_later(struct stream *s)
{
	s->want = 0;
}

int stream_want(struct stream *s, int want)
{
	s->want = want & (STREAM_READ | STREAM_WRITE);
	return stream_update(s);
}

void stream_close(struct stream *s)
{
	if (!s)
		return;
	/* An fd closed here is forgotten in one step (loop_io_closing); a
	 * reopened copy's original, or an fd the caller keeps, as usual. */
	if (s->mask && (s->flags & STREAM_F_OWN) && s->orig_fd < 0)
		loop_io_closing(s->loop, s->fd);
	else if (s->mask)
		loop_io(s->loop, watch_fd(s), 0, NULL, NULL);
	if (s->ops->close)
		s->ops->close(s);
	if (s->orig_fd >= 0) {
		close(s->fd);
		if (s->flags & STREAM_F_OWN)
			close(s->orig_fd);
	} else if (s->flags & STREAM_F_OWN) {
		close(s->fd);
	}
	free(s);
}

void stream_release(struct stream *s)
{
	if (!s)
		return;
	s->flags |= STREAM_F_RELEASED;
	stream_close(s);
}

int stream_detach_fd(struct stream *s)
{
	if (s->ops != &stream_fd_ops || s->orig_fd >= 0)
		return -1;
	int fd = s->fd;
	if (s->mask)
		loop_io(s->loop, fd, 0, NULL, NULL);
	free(s);
	return fd;
}

ssize_t stream_writev(struct stream *s, const struct iovec *iov, int iovcnt)
{
	if (s->ops->writev)
		return s->ops->writev(s, iov, iovcnt);
	/* A type without writev: the first non-empty piece. */
	for (int i = 0; i < iovcnt; i++)
		if (iov[i].iov_len)
			return s->ops->write(s, iov[i].iov_base, iov[i].iov_len);
	return 0;
}

int stream_drain(struct stream *s, void *buf, size_t bufsize, int rounds,
		 void (*seen)(void *arg, const void *p, size_t n), void *arg)
{
	for (int i = 0; i < rounds; i++) {
		ssize_t n = stream_read(s, buf, bufsize);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 1 : -1;
		if (n == 0)
			return 0;
		if (seen)
			seen(arg, buf, (size_t)n);
		if ((size_t)n < bufsize)
			break;
	}
	return 1;
}

/* MSG_DONTWAIT keeps a socket's calls from waiting whatever its fd's
 * flags, unless the owner asked for waiting ones. */
static int dontwait(const struct stream *s)
{
	return s->flags & STREAM_F_BLOCKING ? 0 : MSG_DONTWAIT;
}

ssize_t stream_writev_more(struct stream *s, const struct iovec *iov, int iovcnt)
{
	if (s->ops != &stream_fd_ops || (s->flags & (STREAM_F_GATED | STREAM_F_DGRAM)) ||
	    !(s->flags & STREAM_F_SOCKET))
		return stream_writev(s, iov, iovcnt);
	struct msghdr m = {.msg_iov = (struct iovec *)iov,
			   .msg_iovlen = (size_t)(iovcnt > IOV_MAX ? IOV_MAX : iovcnt)};
	return sendmsg(s->fd, &m, MSG_NOSIGNAL | dontwait(s) | MSG_MORE);
}

int stream_wait(struct stream *s, int want, int timeout_ms)
{
	want &= STREAM_READ | STREAM_WRITE;
	if ((want & STREAM_READ) && stream_pending(s))
		return STREAM_READ;
	int mask = s->ops->events ? s->ops->events(s, want) : want;
	struct pollfd p = {
	    .fd = watch_fd(s),
	    .events = (short)((mask & MUX_READ ? POLLIN : 0) | (mask & MUX_WRITE ? POLLOUT : 0))};
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r;
	int fdmask = 0;
	if (p.revents & (POLLIN | POLLHUP | POLLERR))
		fdmask |= MUX_READ;
	if (p.revents & (POLLOUT | POLLHUP | POLLERR))
		fdmask |= MUX_WRITE;
	fdmask &= mask;
	if (s->flags & STREAM_F_GATED)
		s->seen |= fdmask;
	int ready = s->ops->ready ? s->ops->ready(s, fdmask) : fdmask;
	return ready & want;
}

int stream_set_blocking(struct stream *s)
{
	/* A reopened or gated fd shares its description with others: its
	 * blocking flag is not ours to change. */
	if (s->ops != &stream_fd_ops || s->orig_fd >= 0 || (s->flags & STREAM_F_GATED) ||
	    !(s->flags & STREAM_F_OWN)) {
		errno = ENOTSUP;
		return -1;
	}
	int fl = fcntl(s->fd, F_GETFL);
	if (fl < 0 || fcntl(s->fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -1;
	s->flags |= STREAM_F_BLOCKING;
	s->flags &= ~(unsigned)(STREAM_F_SPLICE_READ | STREAM_F_SPLICE_WRITE | STREAM_F_SENDFILE);
	return 0;
}

int stream_raw_fd(const struct stream *s)
{
	return s->ops == &stream_fd_ops ? s->fd : -1;
}

/* ---- the plain fd stream ---- */

/* A gated stream uses up the event it was given: the next call waits
 * for the loop to report the fd ready again, so a blocking fd is only
 * touched when it will not wait. */
static bool gate(struct stream *s, int what)
{
	if (!(s->flags & STREAM_F_GATED))
		return true;
	if (!(s->seen & what)) {
		errno = EAGAIN;
		return false;
	}
	s->seen &= ~what;
	return true;
}

/* What a gated write may hand over without waiting: a pipe reported
 * writable has at least a page free, a terminal a few hundred bytes. */
static size_t gated_max(const struct stream *s, size_t n)
{
	if (!(s->flags & STREAM_F_GATED))
		return n;
	size_t most = s->flags & STREAM_F_TTY ? 256 : PIPE_BUF;
	return n < most ? n : most;
}

static ssize_t fd_read(struct stream *s, void *buf, size_t n)
{
	if (!gate(s, STREAM_READ))
		return -1;
	if (s->flags & STREAM_F_SOCKET)
		return recv(s->fd, buf, n, dontwait(s));
	return read(s->fd, buf, n);
}

static ssize_t fd_write(struct stream *s, const void *buf, size_t n)
{
	if (!gate(s, STREAM_WRITE))
		return -1;
	if (s->flags & STREAM_F_SOCKET)
		return send(s->fd, buf, n, MSG_NOSIGNAL | dontwait(s));
	return write(s->fd, buf, gated_max(s, n));
}

static ssize_t fd_writev(struct stream *s, const struct iovec *iov, int iovcnt)
{
	if (s->flags & STREAM_F_GATED) {
		for (int i = 0; i < iovcnt; i++)
			if (iov[i].iov_len)
				return fd_write(s, iov[i].iov_base, iov[i].iov_len);
		return 0;
	}
	if (iovcnt > IOV_MAX)
		iovcnt = IOV_MAX;
	if (s->flags & STREAM_F_SOCKET) {
		struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
		return sendmsg(s->fd, &m, MSG_NOSIGNAL | dontwait(s));
	}
	return writev(s->fd, iov, iovcnt);
}

static int fd_shutdown_write(struct stream *s)
{
	/* A datagram socket has no write side to end; a pipe's reader sees
	 * the end when the pipe is closed, which its owner does. */
	if ((s->flags & STREAM_F_SOCKET) && !(s->flags & STREAM_F_DGRAM))
		return shutdown(s->fd, SHUT_WR);
	return 0;
}

static ssize_t fd_splice_read(struct stream *s, int pipe_wr, size_t n)
{
	if (!gate(s, STREAM_READ))
		return -1;
	return splice(s->fd, NULL, pipe_wr, NULL, n, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
}

static ssize_t fd_splice_write(struct stream *s, int pipe_rd, size_t n)
{
	if (!gate(s, STREAM_WRITE))
		return -1;
	return splice(pipe_rd, NULL, s->fd, NULL, gated_max(s, n),
		      SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
}

static ssize_t fd_sendfile(struct stream *s, int file_fd, size_t n)
{
	return sendfile(s->fd, file_fd, NULL, n);
}

const struct stream_ops stream_fd_ops = {
    .name = "fd",
    .read = fd_read,
    .write = fd_write,
    .writev = fd_writev,
    .shutdown_write = fd_shutdown_write,
    .splice_read = fd_splice_read,
    .splice_write = fd_splice_write,
    .sendfile = fd_sendfile,
};

/* A private non-blocking file description for a blocking pipe or
 * terminal: O_NONBLOCK on the fd we were given would change it for every
 * process sharing it (the shell's terminal, the other commands of a
 * pipeline), and stay changed after we exit. Returns the new fd or -1. */
static int reopen_nonblock(int fd, int accmode)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int nfd = open(path, accmode | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (nfd < 0)
		return -1;
	struct stat a, b;
	/* It must be the same object (a path replaced meanwhile is not). */
	if (fstat(fd, &a) < 0 || fstat(nfd, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino || a.st_rdev != b.st_rdev) {
		close(nfd);
		return -1;
	}
	return nfd;
}

/* A plain fd stream with only STREAM_F_OWN of flags set. */
static struct stream *fd_stream_alloc(struct loop *l, int fd, unsigned flags)
{
	struct stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->ops = &stream_fd_ops;
	s->loop = l;
	s->fd = fd;
	s->orig_fd = -1;
	s->flags = flags & STREAM_F_OWN;
	return s;
}

struct stream *stream_socket_new(struct loop *l, int fd, unsigned flags)
{
	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	struct stream *s = fd_stream_alloc(l, fd, flags);
	if (s)
		s->flags |= STREAM_F_SOCKET | STREAM_F_SPLICE_READ | STREAM_F_SPLICE_WRITE |
			    STREAM_F_SENDFILE;
	return s;
}

struct stream *stream_fd_new(struct loop *l, int fd, unsigned flags)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		errno = EBADF;
		return NULL;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return NULL;
	struct stream *s = fd_stream_alloc(l, fd, flags);
	if (!s)
		return NULL;
	bool nonblock = fl & O_NONBLOCK;
	if (S_ISSOCK(st.st_mode)) {
		s->flags |= STREAM_F_SOCKET;
		int type = 0;
		socklen_t tl = sizeof type;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM)
			s->flags |= STREAM_F_DGRAM;
		/* recv/send take MSG_DONTWAIT, so a blocking socket is fine
		 * for copies; splice and sendfile would wait inside. */
		if (nonblock && !(s->flags & STREAM_F_DGRAM))
			s->flags |=
			    STREAM_F_SPLICE_READ | STREAM_F_SPLICE_WRITE | STREAM_F_SENDFILE;
		return s;
	}
	if (S_ISREG(st.st_mode)) {
		s->flags |= STREAM_F_REGULAR | STREAM_F_SPLICE_WRITE;
		return s;
	}
	bool tty = isatty(fd);
	if (tty)
		s->flags |= STREAM_F_TTY;
	if (S_ISFIFO(st.st_mode))
		s->flags |= STREAM_F_PIPE;
	if (!nonblock && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
		int acc = fl & O_ACCMODE;
		/* Read-write opens a pipe at both ends (its reader would
		 * never see the end): only a terminal is reopened so. */
		int nfd = acc != O_RDWR || tty ? reopen_nonblock(fd, acc) : -1;
		if (nfd >= 0) {
			s->orig_fd = fd;
			s->fd = nfd;
		} else if (S_ISFIFO(st.st_mode) || tty) {
			s->flags |= STREAM_F_GATED;
		}
		/* Other character devices (/dev/null, /dev/zero) never wait. */
	}
	if (S_ISFIFO(st.st_mode))
		s->flags |= STREAM_F_SPLICE_READ | STREAM_F_SPLICE_WRITE;
	else if (S_ISCHR(st.st_mode) && !tty)
		s->flags |= STREAM_F_SPLICE_WRITE;
	return s;
}
