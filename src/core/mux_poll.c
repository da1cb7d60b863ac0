/* poll(2) backend: a dense pollfd array plus an fd -> index map, so set
 * is O(1) and removal swaps the last entry into the hole. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "core/mux.h"

struct pl {
	struct pollfd *pfd; /* owned */
	int n, cap;
	int *index; /* owned; fd -> position in pfd, -1 if absent */
	int nindex;
	int cursor; /* where the next scan of revents starts */
};

static void *pl_create(int maxfds)
{
	struct pl *p = calloc(1, sizeof *p);
	return p;
}

static void pl_destroy(void *state)
{
	struct pl *p = state;
	free(p->pfd);
	free(p->index);
	free(p);
}

static short events_of(int mask)
{
	return (short)((mask & MUX_READ ? POLLIN : 0) | (mask & MUX_WRITE ? POLLOUT : 0));
}

static int pl_set(void *state, int fd, int oldmask, int mask)
{
	struct pl *p = state;
	if (fd >= p->nindex) {
		int n = p->nindex ? p->nindex : 64;
		while (n <= fd)
			n *= 2;
		int *ix = realloc(p->index, (size_t)n * sizeof *ix);
		if (!ix)
			return -1;
		for (int i = p->nindex; i < n; i++)
			ix[i] = -1;
		p->index = ix;
		p->nindex = n;
	}
	int at = p->index[fd];
	if (!mask) {
		if (at >= 0) {
			p->pfd[at] = p->pfd[--p->n];
			p->index[p->pfd[at].fd] = at;
			p->index[fd] = -1;
		}
		return 0;
	}
	if (at < 0) {
		if (p->n == p->cap) {
			int cap = p->cap ? p->cap * 2 : 64;
			struct pollfd *np = realloc(p->pfd, (size_t)cap * sizeof *np);
			if (!np)
				return -1;
			p->pfd = np;
			p->cap = cap;
		}
		at = p->n++;
		p->pfd[at].fd = fd;
		p->index[fd] = at;
	}
	p->pfd[at].events = events_of(mask);
	p->pfd[at].revents = 0;
	return 0;
}

static int pl_wait(void *state, struct mux_event *ev, int nev, int timeout_ms)
{
	struct pl *p = state;
	int r = poll(p->pfd, (nfds_t)p->n, timeout_ms);
	if (r <= 0)
		return r;
	/* Scan from where the last call stopped: with more ready fds than
	 * nev, a fixed start would starve the ones at the end. */
	int n = 0, i = p->cursor < p->n ? p->cursor : 0;
	for (int k = 0; k < p->n && n < nev; k++, i = i + 1 < p->n ? i + 1 : 0) {
		short re = p->pfd[i].revents;
		if (!re)
			continue;
		int mask = 0;
		if (re & (POLLIN | POLLPRI))
			mask |= MUX_READ;
		if (re & POLLOUT)
			mask |= MUX_WRITE;
		if (re & (POLLERR | POLLHUP | POLLNVAL))
			mask |= MUX_READ | MUX_WRITE | MUX_FAULT;
		ev[n].fd = p->pfd[i].fd;
		ev[n].mask = mask;
		n++;
		p->cursor = i + 1;
	}
	return n;
}

const struct mux_ops mux_poll_ops = {
    .name = "poll",
    .fd_limit = 0,
    .create = pl_create,
    .destroy = pl_destroy,
    .set = pl_set,
    .reports_faults = true,
    .wait = pl_wait,
};
