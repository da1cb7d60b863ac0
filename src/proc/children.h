/* Child processes of a server or client on the loop (--exec programs,
 * --model=fork handlers): each registered with a callback for its exit,
 * reaped on SIGCHLD, and the loop kept running while any is alive, with
 * no timer polling for them. One registry per process. */
#ifndef SOCKCTL_CHILDREN_H
#define SOCKCTL_CHILDREN_H

#include <stddef.h>
#include <sys/types.h>

#include "core/loop.h"

/* status: as from waitpid. */
typedef void (*child_done_cb)(pid_t pid, int status, void *arg);

struct children;
/* Installs the SIGCHLD handler on the loop: call before the first fork,
 * so no exit is missed. NULL with errno on failure. */
struct children *children_new(struct loop *l);
/* Watches pid (a child of this process): done runs once, from the loop,
 * when it exits, even if it already has. Returns 0, or -1 (ENOMEM). */
int children_add(struct children *cs, pid_t pid, child_done_cb done, void *arg);
/* How many registered children have not exited yet. */
size_t children_count(const struct children *cs);
/* Sends sig to every child still running. */
void children_kill(struct children *cs, int sig);
/* Forgets the registry (children still running are not waited for; their
 * callbacks never run). NULL is fine. */
void children_free(struct children *cs);

#endif
