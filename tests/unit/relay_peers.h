/* The far ends of a relay under test, each a thread on a blocking fd: a
 * feeder writing a buffer into a pipe, a drain reading one into a buffer,
 * and an echoing peer that also sends the fake TLS-like stream's tokens
 * (tests/unit/fake_stream.h); and the relay's done callback that keeps
 * what it said. For tests that drive net/relay over a stream type. */
#ifndef SOCKCTL_RELAY_PEERS_H
#define SOCKCTL_RELAY_PEERS_H

#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_stream.h"
#include "core/loop.h"

/* Test data: no 0xFF (the fake's token), not all alike. */
static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)((seed >> 16) % 255);
	}
}

/* ---- threads on the far ends ---- */

struct feeder {
	int fd;
	const unsigned char *p;
	size_t n;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	size_t off = 0;
	while (off < f->n) {
		ssize_t w = write(f->fd, f->p + off, f->n - off > 8192 ? 8192 : f->n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(f->fd);
	return NULL;
}

struct drain {
	int fd;
	unsigned char *p;
	size_t cap, n;
};

static void *drain(void *arg)
{
	struct drain *d = arg;
	for (;;) {
		ssize_t r = read(d->fd, d->p + d->n, d->cap - d->n);
		if (r <= 0)
			break;
		d->n += (size_t)r;
		if (d->n == d->cap)
			break;
	}
	close(d->fd);
	return NULL;
}

/* The far end of the connection: echoes what arrives, and, for the fake
 * stream, sends tokens: one after every echo and one each millisecond, so
 * a waiting write is let go soon but never at once. Shuts its write side
 * after the end of input. */
struct echo_peer {
	int fd;
	bool tokens;
	size_t echoed;
};

static void *echo_peer(void *arg)
{
	struct echo_peer *e = arg;
	unsigned char buf[16384], tok = FAKE_TOKEN;
	for (;;) {
		struct pollfd p = {e->fd, POLLIN, 0};
		int n = poll(&p, 1, 1);
		if (n == 0) {
			if (e->tokens && send(e->fd, &tok, 1, MSG_NOSIGNAL) < 0)
				break;
			continue;
		}
		ssize_t r = recv(e->fd, buf, sizeof buf, 0);
		if (r <= 0)
			break;
		if (send(e->fd, buf, (size_t)r, MSG_NOSIGNAL) != r)
			break;
		e->echoed += (size_t)r;
		if (e->tokens && send(e->fd, &tok, 1, MSG_NOSIGNAL) < 0)
			break;
	}
	shutdown(e->fd, SHUT_WR);
	/* Tokens until the relay closes: its last writes may still wait. */
	for (int i = 0; e->tokens && i < 2000; i++) {
		if (send(e->fd, &tok, 1, MSG_NOSIGNAL) < 0)
			break;
		usleep(1000);
	}
	return NULL;
}

struct relay_result {
	int status;
	char text[256];
	bool done;
};

static void on_relay_done(struct loop *l, int status, const char *errtext, void *arg)
{
	struct relay_result *r = arg;
	r->status = status;
	snprintf(r->text, sizeof r->text, "%s", errtext ? errtext : "");
	r->done = true;
	loop_stop(l);
}


#endif
