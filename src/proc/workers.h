/* serve --workers N: N processes, each with its own listening socket on
 * the same port (SO_REUSEPORT, so the kernel spreads connections) and its
 * own event loop. The parent only starts them, announces readiness once
 * all are listening, forwards SIGINT/SIGTERM and collects exit statuses. */
#ifndef SOCKCTL_WORKERS_H
#define SOCKCTL_WORKERS_H

#include <stddef.h>
#include <sys/types.h>

#include "net/sock.h"

struct workers {
	int n;
	pid_t *pids;	   /* owned */
	int ready_pipe[2]; /* workers write one byte each when listening */
};

/* Forks n workers. Returns 1 in a worker (with *index = 0..n-1), 0 in the
 * parent, -1 with err. A worker dies with its parent (PR_SET_PDEATHSIG). */
int workers_start(struct workers *w, int n, int *index, char *err, size_t errlen);
/* In a worker: tells the parent this worker is listening. */
void workers_ready(struct workers *w);
/* In the parent: waits until every worker is listening (or one exits).
 * Returns 0, or -1 with err. */
int workers_wait_ready(struct workers *w, int timeout_ms, char *err, size_t errlen);
/* In the parent: forwards SIGINT/SIGTERM/SIGHUP to the workers, waits for
 * all of them and returns the highest exit status (a worker killed by a
 * signal other than the one forwarded counts as 1). */
int workers_wait(struct workers *w);
void workers_free(struct workers *w);
/* The parent's whole part after workers_start: waits (timeout_ms) until
 * every worker listens, then calls ready(arg) (the readiness line), or
 * stops them all if they did not all start (err then says why); waits
 * for them all and frees. Returns workers_wait's status, or 1 with err
 * when they did not start; err is "" otherwise. */
int workers_supervise(struct workers *w, int timeout_ms, void (*ready)(void *arg), void *arg,
		      char *err, size_t errlen);

/* Another listener on an address already bound with SO_REUSEPORT (use
 * the bound address, so port 0 resolves to the same port), with the
 * IPV6_V6ONLY of the listener like (still open). Returns the fd or -1 with
 * err filled. */
int workers_listen_again(int like, const struct sock_addr *bound, int backlog, char *err,
			 size_t errlen);

#endif
