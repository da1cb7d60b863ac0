/* The datagram faults of a forwarder (loss, duplication, reordering,
 * delay with jitter) on one direction of one session: each datagram put
 * in is dropped, sent at once (once or twice), or held on the loop until
 * its time, as fault_dgram_decide says. The decisions come from the fault
 * set's seeded generator, so a seed and the same datagrams give the same
 * outcome. What sends is the caller's (a connected socket's write, a
 * sendto to the client). */
#ifndef SOCKCTL_FAULT_DGRAM_H
#define SOCKCTL_FAULT_DGRAM_H

#include <stddef.h>

#include "core/loop.h"
#include "forward/fault.h"

/* Sends one datagram now; its result is the caller's to count. */
typedef void (*fault_dgram_send_cb)(void *arg, const void *p, size_t n);

/* Most datagrams, and bytes, held per queue; more are dropped (counted
 * as lost): a delay must not grow memory without bound. */
#define FAULT_DGRAM_HELD       4096
#define FAULT_DGRAM_HELD_BYTES (4u << 20)

struct fault_dgram_held;
struct fault_dgram_q {
	struct loop *loop;    /* not owned */
	struct fault_set *fs; /* not owned */
	int dir;	      /* FAULT_UP or FAULT_DOWN */
	fault_dgram_send_cb send;
	void *arg;
	struct timer t;
	struct fault_dgram_held *head; /* owned, by due time */
	size_t n, bytes;
};

void fault_dgram_q_init(struct fault_dgram_q *q, struct loop *l, struct fault_set *fs, int dir,
			fault_dgram_send_cb send, void *arg);
/* Puts p[0..n) through the faults. Returns how many copies were sent
 * now or held (0: dropped). */
int fault_dgram_q_put(struct fault_dgram_q *q, const void *p, size_t n);
/* Drops what is held and stops the timer (the session ends). */
void fault_dgram_q_clear(struct fault_dgram_q *q);

#endif
