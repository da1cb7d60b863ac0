/* Readiness multiplexer with run-time backends (select, poll, epoll).
 *
 * Contract, identical for every backend:
 * - level-triggered;
 * - errors and hang-ups are reported as readable and writable, restricted
 *   to the mask the fd is registered for (mask 0 means forgotten); a
 *   backend that can tell them apart from plain readiness (epoll, poll:
 *   mux_reports_faults) adds MUX_FAULT to such an event, so a connect
 *   reported writable without it has succeeded, with no need to ask;
 * - an interrupted wait (EINTR) returns 0 events;
 * - forget an fd (mux_set(m, fd, 0, NULL), or mux_forget_closing when
 *   no other process holds it) before closing it.
 * The library never prints or exits; errors come back as -1 with errno.
 */
#ifndef SOCKCTL_MUX_H
#define SOCKCTL_MUX_H

#include <stdbool.h>
#include <stddef.h>

/* MUX_FAULT is never registered and only comes with MUX_READ or
 * MUX_WRITE in an event. */
enum { MUX_READ = 1, MUX_WRITE = 2, MUX_FAULT = 4 };

struct mux_event {
	int fd;
	int mask;
	void *udata;
};

struct mux;

/* backend: "select", "poll", "epoll", "auto" or NULL (= auto, best
 * available). maxfds is a hint for sizing. On failure returns NULL and
 * writes a message into err. */
struct mux *mux_new(const char *backend, int maxfds, char *err, size_t errlen);
void mux_free(struct mux *m);
const char *mux_name(const struct mux *m);
/* Registers, changes or (mask 0) forgets fd. Returns 0, or -1 with errno:
 * ERANGE when the backend cannot hold this fd (select, fd >= FD_SETSIZE),
 * EPERM when the fd cannot be polled (epoll and regular files). */
int mux_set(struct mux *m, int fd, int mask, void *udata);
/* The caller closes fd right after, and no other process holds it (none
 * was forked off while it was open): forgets it as mux_set(m, fd, 0)
 * does, where the kernel drops a closed file by itself (epoll) without
 * the system call. */
int mux_forget_closing(struct mux *m, int fd);
/* Waits up to timeout_ms (-1 = forever). Returns the number of events
 * stored, 0 on timeout or EINTR, -1 on error. */
int mux_wait(struct mux *m, struct mux_event *ev, int nev, int timeout_ms);
/* NULL-terminated list of compiled-in backend names, best first. */
const char *const *mux_backends(void);
/* Largest fd number the backend can watch plus one, or 0 for no limit. */
int mux_fd_limit(const struct mux *m);
/* Whether events carry MUX_FAULT (select's cannot tell). */
bool mux_reports_faults(const struct mux *m);

/* What a backend provides; one file each (mux_select.c, ...). */
struct mux_ops {
	const char *name;
	int fd_limit; /* 0 = none */
	void *(*create)(int maxfds);
	void (*destroy)(void *state);
	int (*set)(void *state, int fd, int oldmask, int mask);
	/* Optional: the fd is about to be closed, and closing forgets it. */
	bool closing_forgets;
	/* Its events have MUX_FAULT on errors and hang-ups. */
	bool reports_faults;
	int (*wait)(void *state, struct mux_event *ev, int nev, int timeout_ms);
};

extern const struct mux_ops mux_select_ops, mux_poll_ops;
#ifdef HAVE_MUX_EPOLL
extern const struct mux_ops mux_epoll_ops;
#endif

#endif
