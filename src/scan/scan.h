/* connect -z: a TCP port scan on the shared event loop, many connects in
 * flight at once, each with its own timeout. */
#ifndef SOCKCTL_SCAN_H
#define SOCKCTL_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/loop.h"

struct scan_opts {
	int parallel;	/* connects in flight at once; 0 = 256 (capped to the fd limits) */
	int timeout_ms; /* per port; 0 = 3000 */
	int family;	/* AF_UNSPEC, AF_INET, AF_INET6 */
	bool numeric;	/* no DNS for the host */
	bool json;	/* one JSON object per line instead of text */
	bool open_only; /* print open ports only */
	bool syn;	/* half-open scan over a raw socket (synscan.h) */
	FILE *out;	/* where result lines go (data: stdout) */
	char *err;	/* why scan_run returned -1 (not owned) */
	size_t errlen;
};

/* Scans ports (a portspec list) on host; the first resolved address is
 * used. Prints one line per port, in the order given, as results come in:
 *   text: "HOST PORT open|closed|timeout" or "HOST PORT error: REASON"
 *   json: {"host":"HOST","address":"ADDR","port":N,"state":"open"}
 * Returns 0 if any port is open, 1 if none is, -1 (with o->err) when the
 * host or the port list is bad or the loop failed. */
int scan_run(struct loop *l, const char *host, const char *ports, const struct scan_opts *o);

/* "closed" for a refusal, "timeout", "open", else "error" (pure). */
const char *scan_state_name(int state);
enum { SCAN_PENDING, SCAN_OPEN, SCAN_CLOSED, SCAN_TIMEOUT, SCAN_ERROR };
/* Maps a connect outcome (0 or errno) to a SCAN_* state (pure). */
int scan_classify(int err);

#endif
