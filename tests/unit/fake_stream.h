/* A stream type for tests that behaves as TLS does, over a socket: a
 * write may need the socket READABLE before it can go on (the peer's
 * 0xFF "token" bytes stand for the records TLS must read first), and
 * bytes read while looking for a token are held inside and handed out by
 * later reads without the socket ever becoming readable again. Engines
 * that pass with it handle WANT_READ-on-write and pending bytes.
 *
 * Data must not contain 0xFF. Include in one test file only. */
#ifndef SOCKCTL_FAKE_STREAM_H
#define SOCKCTL_FAKE_STREAM_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/stream.h"

#define FAKE_TOKEN 0xFF
#define FAKE_HOLD  65536
#define FAKE_WRITE 1024 /* most bytes per write: many writes, many waits */

struct fake {
	unsigned char held[FAKE_HOLD];
	size_t nheld;
	unsigned credit; /* tokens seen, one write each */
	bool need_read;	 /* a write is waiting for the socket to be readable */
	bool eof;	 /* the socket reached its end */
	int err;	 /* the socket failed */
	unsigned waits;	 /* writes that had to wait for READ */
	unsigned spins;	 /* writes tried again while still waiting, nothing new read */
	unsigned handed; /* reads served from held bytes */
};

/* Takes what the socket has into held, tokens counted and removed. */
static void fake_absorb(struct stream *s)
{
	struct fake *f = s->priv;
	while (f->nheld < FAKE_HOLD && !f->eof) {
		unsigned char buf[4096];
		size_t room = FAKE_HOLD - f->nheld;
		ssize_t n = recv(s->fd, buf, room < sizeof buf ? room : sizeof buf, MSG_DONTWAIT);
		if (n == 0)
			f->eof = true;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			f->err = errno;
		if (n <= 0)
			return;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == FAKE_TOKEN)
				f->credit++;
			else
				f->held[f->nheld++] = buf[i];
		}
	}
}

static ssize_t fake_read(struct stream *s, void *buf, size_t n)
{
	struct fake *f = s->priv;
	bool had = f->nheld > 0;
	if (!had)
		fake_absorb(s);
	if (f->nheld) {
		size_t k = n < f->nheld ? n : f->nheld;
		memcpy(buf, f->held, k);
		memmove(f->held, f->held + k, f->nheld - k);
		f->nheld -= k;
		if (had)
			f->handed++;
		return (ssize_t)k;
	}
	if (f->err) {
		errno = f->err;
		return -1;
	}
	if (f->eof)
		return 0;
	errno = EAGAIN;
	return -1;
}

static ssize_t fake_write(struct stream *s, const void *buf, size_t n)
{
	struct fake *f = s->priv;
	size_t before = f->nheld;
	if (!f->credit)
		fake_absorb(s);
	if (!f->credit) {
		if (!f->need_read)
			f->waits++;
		else if (f->nheld == before)
			f->spins++;
		f->need_read = true;
		errno = f->err ? f->err : EAGAIN;
		return -1;
	}
	f->need_read = false;
	f->credit--;
	return send(s->fd, buf, n < FAKE_WRITE ? n : FAKE_WRITE, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static ssize_t fake_writev(struct stream *s, const struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++)
		if (iov[i].iov_len)
			return fake_write(s, iov[i].iov_base, iov[i].iov_len);
	return 0;
}

static int fake_events(const struct stream *s, int want)
{
	const struct fake *f = s->priv;
	int m = want & STREAM_READ;
	if (want & STREAM_WRITE)
		m |= f->need_read ? MUX_READ : MUX_WRITE;
	return m;
}

static int fake_ready(struct stream *s, int fdmask)
{
	struct fake *f = s->priv;
	int r = fdmask & (STREAM_READ | STREAM_WRITE);
	if ((fdmask & MUX_READ) && f->need_read)
		r |= STREAM_WRITE;
	return r;
}

static size_t fake_pending(const struct stream *s)
{
	return ((const struct fake *)s->priv)->nheld;
}

static int fake_shutdown(struct stream *s)
{
	return shutdown(s->fd, SHUT_WR);
}

static void fake_close(struct stream *s)
{
	free(s->priv);
	s->priv = NULL;
}

static const struct stream_ops fake_ops = {
    .name = "fake",
    .read = fake_read,
    .write = fake_write,
    .writev = fake_writev,
    .shutdown_write = fake_shutdown,
    .close = fake_close,
    .events = fake_events,
    .ready = fake_ready,
    .pending = fake_pending,
};

/* A fake stream over socket fd (owned). NULL when out of memory. */
static struct stream *fake_new(struct loop *l, int fd)
{
	struct stream *s = stream_fd_new(l, fd, STREAM_F_OWN);
	struct fake *f = calloc(1, sizeof *f);
	if (!s || !f) {
		free(f);
		stream_close(s);
		return NULL;
	}
	s->ops = &fake_ops;
	s->priv = f;
	/* No zero-copy: the bytes must pass through the type. */
	s->flags &= ~(unsigned)(STREAM_F_SPLICE_READ | STREAM_F_SPLICE_WRITE | STREAM_F_SENDFILE);
	return s;
}

#endif
