/* The event loop every command runs on: fd callbacks over a mux backend,
 * timers (a heap of deadlines) and signals (a self-pipe), in one place.
 *
 * Callbacks must tolerate spurious readiness (all sockets are
 * non-blocking, so a read that finds nothing returns EAGAIN). An fd that
 * cannot be polled (a regular file or /dev/null under epoll) is treated
 * as always ready, which is what poll and select report for it.
 */
#ifndef SOCKCTL_LOOP_H
#define SOCKCTL_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mux.h"

struct loop;
typedef void (*loop_io_cb)(struct loop *l, int fd, int mask, void *arg);
typedef void (*loop_timer_cb)(struct loop *l, void *arg);
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *arg);

/* A timer lives inside its owner's struct; the loop never allocates or
 * frees it. */
struct timer {
	int64_t when;	/* deadline, loop_now() milliseconds */
	size_t heap_at; /* position in the heap + 1; 0 = not armed */
	loop_timer_cb cb;
	void *arg;
};

struct loop *loop_new(const char *backend, int maxfds, char *err, size_t errlen);
void loop_free(struct loop *l);
struct mux *loop_mux(struct loop *l);
const char *loop_backend(const struct loop *l);
/* Largest number of fds the backend can watch, 0 = no limit. */
int loop_fd_limit(const struct loop *l);

/* Watches fd for mask (MUX_READ|MUX_WRITE) with cb; mask 0 forgets it.
 * cb gets the events (with MUX_FAULT as the mux reports it).
 * Returns 0, or -1 with errno (ERANGE: fd too large for select). */
int loop_io(struct loop *l, int fd, int mask, loop_io_cb cb, void *arg);
/* As loop_io, but the watch does not keep loop_run() going by itself:
 * for output that may wait until the loop ends, when its owner flushes it
 * (a log queue), and for the loop's own signal pipe. */
int loop_io_weak(struct loop *l, int fd, int mask, loop_io_cb cb, void *arg);
/* Forgets fd (as loop_io with mask 0) just before the caller closes it.
 * With loop_set_fds_private on, the backend may skip telling the
 * kernel, where closing the file does that by itself (epoll). */
int loop_io_closing(struct loop *l, int fd);
/* on: no fd this loop watches and that is closed through
 * loop_io_closing is held by another process (the program forks no
 * child while such fds are open: forward). Off by default: an fd a
 * child still holds stays in an epoll set after the parent closes it,
 * and would report events for a number that is no longer its own. */
void loop_set_fds_private(struct loop *l, bool on);
/* Changes the mask only, keeping the callback (and weakness). */
int loop_io_mask(struct loop *l, int fd, int mask);
/* on: the watched fd's callback runs every iteration with its whole mask,
 * whatever the backend reports (a stream holding bytes it has already
 * read, such as decrypted TLS records, must be read again without the
 * fd becoming readable). Cleared by loop_io_ready(l, fd, false) or when
 * the fd is forgotten. Returns 0, or -1 (EBADF: fd not watched). */
int loop_io_ready(struct loop *l, int fd, bool on);

void timer_init(struct timer *t, loop_timer_cb cb, void *arg);
/* Arms (or re-arms) t to fire once, ms from now. */
void loop_timer_start(struct loop *l, struct timer *t, int64_t ms);
void loop_timer_stop(struct loop *l, struct timer *t);
static inline bool timer_armed(const struct timer *t)
{
	return t->heap_at != 0;
}

/* Runs cb in the loop when signo arrives (SIGINT, SIGTERM, SIGCHLD, ...). */
int loop_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg);

/* Monotonic milliseconds, cached once per loop iteration. */
int64_t loop_now(struct loop *l);
/* Monotonic milliseconds, read now. */
int64_t clock_ms(void);
/* Monotonic microseconds, read now (round-trip times). */
int64_t clock_us(void);

/* Keeps loop_run() going while nothing else would, for work the loop
 * learns of by a signal (child processes: SIGCHLD). Each hold is ended by
 * one release. */
void loop_hold(struct loop *l);
void loop_release(struct loop *l);

/* Runs until loop_stop(), or until nothing (but weak watches) is watched,
 * no timer is armed and nothing holds it. Returns 0, or -1 if the backend
 * failed (errno set). */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif
