/* select(2) backend. It cannot watch fd >= FD_SETSIZE: mux_set refuses
 * those with ERANGE (fd_limit) instead of writing past the fd_set. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "core/mux.h"

struct sel {
	fd_set rd, wr;
	int maxfd;
	int cursor; /* where the next scan starts (fairness past nev) */
};

static void *sel_create(int maxfds)
{
	struct sel *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	FD_ZERO(&s->rd);
	FD_ZERO(&s->wr);
	s->maxfd = -1;
	return s;
}

static void sel_destroy(void *state)
{
	free(state);
}

static int sel_set(void *state, int fd, int oldmask, int mask)
{
	struct sel *s = state;
	if (mask & MUX_READ)
		FD_SET(fd, &s->rd);
	else
		FD_CLR(fd, &s->rd);
	if (mask & MUX_WRITE)
		FD_SET(fd, &s->wr);
	else
		FD_CLR(fd, &s->wr);
	if (mask && fd > s->maxfd)
		s->maxfd = fd;
	while (s->maxfd >= 0 && !FD_ISSET(s->maxfd, &s->rd) && !FD_ISSET(s->maxfd, &s->wr))
		s->maxfd--;
	return 0;
}

static int sel_wait(void *state, struct mux_event *ev, int nev, int timeout_ms)
{
	struct sel *s = state;
	fd_set rd = s->rd, wr = s->wr;
	struct timeval tv, *tvp = NULL;
	if (timeout_ms >= 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		tvp = &tv;
	}
	int r = select(s->maxfd + 1, &rd, &wr, NULL, tvp);
	if (r <= 0)
		return r;
	int n = 0, span = s->maxfd + 1;
	int fd = s->cursor < span ? s->cursor : 0;
	for (int k = 0; k < span && n < nev; k++, fd = fd + 1 < span ? fd + 1 : 0) {
		int mask = (FD_ISSET(fd, &rd) ? MUX_READ : 0) | (FD_ISSET(fd, &wr) ? MUX_WRITE : 0);
		if (mask) {
			ev[n].fd = fd;
			ev[n].mask = mask;
			n++;
			s->cursor = fd + 1;
		}
	}
	return n;
}

const struct mux_ops mux_select_ops = {
    .name = "select",
    .fd_limit = FD_SETSIZE,
    .create = sel_create,
    .destroy = sel_destroy,
    .set = sel_set,
    .wait = sel_wait,
};
