/* connect -z --syn: a half-open TCP scan over a raw socket. A SYN goes to
 * each port; SYN+ACK means open, RST closed, silence (after resends)
 * timeout. The kernel answers the SYN+ACK with a RST, so no connection
 * is ever made and the scanned program sees none. Needs CAP_NET_RAW. */
#ifndef SOCKCTL_SYNSCAN_H
#define SOCKCTL_SYNSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "net/sock.h"

struct synscan_opts {
	int window;	/* ports unanswered at once */
	int timeout_ms; /* per port, from its first SYN; resent at each third */
	/* Called once per port with its index and SCAN_OPEN, SCAN_CLOSED or
	 * SCAN_TIMEOUT; the caller stops the loop when it has them all. */
	void (*result)(void *arg, size_t idx, int state);
	void *arg;
};

/* Scans ports[0..n) (each port at most once) of dst on l, running the
 * loop. Returns 0 when the loop was stopped, -1 with a message in err when
 * the raw socket could not be set up (EPERM: no CAP_NET_RAW) or the loop
 * failed. */
int synscan_run(struct loop *l, const struct sock_addr *dst, const uint16_t *ports, size_t n,
		const struct synscan_opts *o, char *err, size_t errlen);

#endif
