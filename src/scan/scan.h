/* connect -z: a TCP port scan on the shared event loop, many connects in
 * flight at once, each with its own timeout. */
#ifndef SOCKCTL_SCAN_H
#define SOCKCTL_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/loop.h"
#include "core/sbuf.h"

/* One port's outcome, reported in the order the ports were given. */
struct scan_result {
	const char *host, *address; /* as given, and the address scanned */
	unsigned port;
	int state; /* SCAN_OPEN, SCAN_CLOSED, SCAN_TIMEOUT, SCAN_ERROR */
	int err;   /* errno for SCAN_ERROR */
};

struct scan_opts {
	int parallel;	/* connects in flight at once; 0 = 256 (capped to the fd limits) */
	int timeout_ms; /* per port; 0 = 3000 */
	int family;	/* AF_UNSPEC, AF_INET, AF_INET6 */
	bool numeric;	/* no DNS for the host */
	bool syn;	/* half-open scan over a raw socket (synscan.h) */
	/* Each port's outcome, in the order given, as soon as it and all
	 * before it are known. */
	void (*result)(void *arg, const struct scan_result *r);
	void *arg;
	char *err; /* why scan_run returned -1 (not owned) */
	size_t errlen;
};

/* Scans ports (a portspec list) on host; the first resolved address is
 * used. Reports every port through o->result, in the order given, as
 * results come in. Returns 0 if any port is open, 1 if none is, -1 (with
 * o->err) when the host or the port list is bad or the loop failed. */
int scan_run(struct loop *l, const char *host, const char *ports, const struct scan_opts *o);

/* A result as a line of text (pure):
 *   text: "HOST PORT open|closed|timeout" or "HOST PORT error: REASON"
 *   json: {"host":"HOST","address":"ADDR","port":N,"state":"open"} */
void scan_format(struct sbuf *b, const struct scan_result *r, bool json);

/* "closed" for a refusal, "timeout", "open", else "error" (pure). */
const char *scan_state_name(int state);
enum { SCAN_PENDING, SCAN_OPEN, SCAN_CLOSED, SCAN_TIMEOUT, SCAN_ERROR };
/* Maps a connect outcome (0 or errno) to a SCAN_* state (pure). */
int scan_classify(int err);

#endif
