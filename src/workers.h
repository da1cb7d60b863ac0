/* Several processes serving one port: each has its own SO_REUSEPORT
 * listener on the same address (the kernel spreads new connections over
 * them) and its own event loop. Shared by the listening commands. */
#ifndef SOCKCTL_WORKERS_H
#define SOCKCTL_WORKERS_H

#include <stddef.h>
#include <sys/types.h>

#include "sock.h"

/* Another listener on an address already bound with SO_REUSEPORT (use
 * the bound address, so port 0 resolves to the same port). Returns the
 * fd or -1 with err filled. */
int workers_listen_again(const struct sock_addr *bound, int backlog, char *err, size_t errlen);

/* Forks n - 1 children. Returns the worker number: 0 in the parent
 * (which fills kids[0 .. n-2]), 1 .. n-1 in the children, or -1 with err
 * filled (children already forked are killed). Children die with the
 * parent (PR_SET_PDEATHSIG). Create event loops only after this. */
int workers_fork(int n, pid_t *kids, char *err, size_t errlen);

/* Waits (bounded, then SIGKILL) for the children after they were told
 * to stop. */
void workers_reap(const pid_t *kids, int n);

#endif
