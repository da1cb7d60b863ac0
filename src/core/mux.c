/* Backend registry and the fd bookkeeping every backend shares: the
 * registered mask and user data per fd, so backends deal in fds only. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mux.h"

struct slot {
	int mask;
	void *udata;
};

struct mux {
	const struct mux_ops *ops;
	void *state;
	struct slot *slots; /* owned; indexed by fd */
	int nslots;
};

static const struct mux_ops *const backends[] = {
#ifdef HAVE_MUX_EPOLL
    &mux_epoll_ops,
#endif
    &mux_poll_ops,
    &mux_select_ops,
    NULL,
};

const char *const *mux_backends(void)
{
	static const char *names[sizeof backends / sizeof backends[0]];
	for (size_t i = 0; backends[i]; i++)
		names[i] = backends[i]->name;
	return names;
}

struct mux *mux_new(const char *backend, int maxfds, char *err, size_t errlen)
{
	const struct mux_ops *ops = NULL;
	if (!backend || !*backend || strcmp(backend, "auto") == 0) {
		ops = backends[0];
	} else {
		for (size_t i = 0; backends[i]; i++)
			if (strcmp(backends[i]->name, backend) == 0)
				ops = backends[i];
	}
	if (!ops) {
		char list[64] = "";
		for (size_t i = 0; backends[i]; i++) {
			strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
			strncat(list, backends[i]->name, sizeof list - strlen(list) - 1);
		}
		snprintf(err, errlen, "unknown mux backend '%s' (available: auto, %s)", backend,
			 list);
		errno = EINVAL;
		return NULL;
	}
	struct mux *m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->ops = ops;
	m->state = ops->create(maxfds > 0 ? maxfds : 64);
	if (!m->state) {
		snprintf(err, errlen, "%s: %s", ops->name, strerror(errno));
		free(m);
		return NULL;
	}
	return m;
}

void mux_free(struct mux *m)
{
	if (!m)
		return;
	m->ops->destroy(m->state);
	free(m->slots);
	free(m);
}

const char *mux_name(const struct mux *m)
{
	return m->ops->name;
}

int mux_fd_limit(const struct mux *m)
{
	return m->ops->fd_limit;
}

bool mux_reports_faults(const struct mux *m)
{
	return m->ops->reports_faults;
}

int mux_set(struct mux *m, int fd, int mask, void *udata)
{
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (m->ops->fd_limit && fd >= m->ops->fd_limit) {
		errno = ERANGE;
		return -1;
	}
	if (fd >= m->nslots) {
		if (mask == 0)
			return 0;
		int n = m->nslots ? m->nslots : 64;
		while (n <= fd)
			n *= 2;
		struct slot *s = realloc(m->slots, (size_t)n * sizeof *s);
		if (!s)
			return -1;
		memset(s + m->nslots, 0, (size_t)(n - m->nslots) * sizeof *s);
		m->slots = s;
		m->nslots = n;
	}
	struct slot *s = &m->slots[fd];
	mask &= MUX_READ | MUX_WRITE;
	if (s->mask != mask && m->ops->set(m->state, fd, s->mask, mask) < 0)
		return -1;
	s->mask = mask;
	s->udata = mask ? udata : NULL;
	return 0;
}

int mux_forget_closing(struct mux *m, int fd)
{
	if (!m->ops->closing_forgets || fd < 0 || fd >= m->nslots)
		return mux_set(m, fd, 0, NULL);
	m->slots[fd].mask = 0;
	m->slots[fd].udata = NULL;
	return 0;
}

int mux_wait(struct mux *m, struct mux_event *ev, int nev, int timeout_ms)
{
	int n = m->ops->wait(m->state, ev, nev, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return -1;
	}
	/* Backends report raw readiness; restrict it to what is registered
	 * (an error on a write-only fd must not look like data to read). */
	int out = 0;
	for (int i = 0; i < n; i++) {
		int fd = ev[i].fd;
		if (fd >= m->nslots || !m->slots[fd].mask)
			continue;
		int mask = ev[i].mask & m->slots[fd].mask;
		if (!mask)
			continue;
		ev[out].fd = fd;
		ev[out].mask = mask | (ev[i].mask & MUX_FAULT);
		ev[out].udata = m->slots[fd].udata;
		out++;
	}
	return out;
}
