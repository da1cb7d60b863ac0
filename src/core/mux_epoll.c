/* epoll(7) backend, level-triggered like the others. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/mux.h"

struct ep {
	int fd;
	struct epoll_event *buf; /* owned */
	int cap;
};

static void *ep_create(int maxfds)
{
	struct ep *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->fd = epoll_create1(EPOLL_CLOEXEC);
	if (e->fd < 0) {
		free(e);
		return NULL;
	}
	return e;
}

static void ep_destroy(void *state)
{
	struct ep *e = state;
	close(e->fd);
	free(e->buf);
	free(e);
}

static int ep_set(void *state, int fd, int oldmask, int mask)
{
	struct ep *e = state;
	struct epoll_event ev = {0};
	ev.events = (mask & MUX_READ ? EPOLLIN : 0) | (mask & MUX_WRITE ? EPOLLOUT : 0);
	ev.data.fd = fd;
	int op = !oldmask ? EPOLL_CTL_ADD : !mask ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
	if (epoll_ctl(e->fd, op, fd, &ev) == 0)
		return 0;
	/* The fd was closed and its number reused without being forgotten,
	 * or dup'ed: recover rather than fail. */
	if (op == EPOLL_CTL_DEL && (errno == ENOENT || errno == EBADF))
		return 0;
	if (op == EPOLL_CTL_MOD && errno == ENOENT)
		return epoll_ctl(e->fd, EPOLL_CTL_ADD, fd, &ev);
	if (op == EPOLL_CTL_ADD && errno == EEXIST)
		return epoll_ctl(e->fd, EPOLL_CTL_MOD, fd, &ev);
	return -1;
}

static int ep_wait(void *state, struct mux_event *ev, int nev, int timeout_ms)
{
	struct ep *e = state;
	if (nev > e->cap) {
		struct epoll_event *b = realloc(e->buf, (size_t)nev * sizeof *b);
		if (!b)
			return -1;
		e->buf = b;
		e->cap = nev;
	}
	int r = epoll_wait(e->fd, e->buf, nev, timeout_ms);
	for (int i = 0; i < r; i++) {
		uint32_t re = e->buf[i].events;
		int mask = 0;
		if (re & (EPOLLIN | EPOLLPRI | EPOLLRDHUP))
			mask |= MUX_READ;
		if (re & EPOLLOUT)
			mask |= MUX_WRITE;
		if (re & (EPOLLERR | EPOLLHUP))
			mask |= MUX_READ | MUX_WRITE | MUX_FAULT;
		ev[i].fd = e->buf[i].data.fd;
		ev[i].mask = mask;
	}
	return r;
}

const struct mux_ops mux_epoll_ops = {
    .name = "epoll",
    .fd_limit = 0,
    .create = ep_create,
    .destroy = ep_destroy,
    .set = ep_set,
    /* An epoll item goes with the last reference to its file. */
    .closing_forgets = true,
    .reports_faults = true,
    .wait = ep_wait,
};
