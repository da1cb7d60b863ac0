/* The engine behind `sockctl wait`: probes every target at once on one
 * loop until each is ready (or one is, with any), retrying each with its
 * own capped exponential backoff, every attempt bounded in time, the
 * whole run bounded by a deadline.
 *
 * What an attempt is, per kind (wait/wait_target.h): a connect through
 * net/connector (every address of the name in turn); a TLS handshake
 * after it (net/tls); an HTTP request through the client engine
 * (http/http_client.h), ready on a status below 400 or one listed; a
 * datagram sent and a reply read, ready when it matches a regex (or on
 * any reply without one). A name that does not resolve yet is a failed
 * attempt like a refused connect: services come up in any order.
 *
 * It never prints: each attempt's outcome goes to a callback as it
 * ends, and the per-target state (ready, attempts, time, last error) is
 * there to read when the run is over. */
#ifndef SOCKCTL_WAIT_H
#define SOCKCTL_WAIT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "dns/resolve_dns.h"
#include "net/tls.h"
#include "wait/wait_target.h"

#define WAIT_ERRLEN 512

/* One attempt's outcome, valid during the callback. */
struct wait_attempt {
	size_t target; /* index into the config's targets */
	unsigned n;    /* 1 for the first attempt */
	bool ready;
	/* ready: what answered ("127.0.0.1:5432", "HTTP 200 from
	 * 127.0.0.1:8080"); otherwise why not, a complete message
	 * ("connect 127.0.0.1:5432: Connection refused"). */
	const char *text;
	int64_t elapsed_us; /* this attempt */
	int64_t since_us;   /* from the start of the run to its end */
};

/* A target's state. */
struct wait_status {
	bool ready;
	unsigned attempts;
	int64_t ready_us; /* from the start of the run, when ready */
	/* The last failed attempt's message, "" when none failed. */
	char last_error[WAIT_ERRLEN];
};

struct wait_run;

struct wait_cfg {
	const struct wait_target *targets; /* not copied: outlive the run */
	size_t ntargets;
	bool any;	     /* done when one target is ready */
	int timeout_ms;	     /* the whole run; > 0 */
	int interval_ms;     /* the first pause after a failed attempt; > 0 */
	int max_interval_ms; /* the pause doubles up to this */
	int attempt_ms;	     /* one attempt at most (cut to what is left); > 0 */
	int family;	     /* AF_UNSPEC, AF_INET, AF_INET6 */
	bool numeric;	     /* no name lookups */
	/* Names are asked of these DNS servers (c-ares on the loop), not
	 * copied; NULL: of the system's resolver, in a thread per lookup
	 * (dns/dns_addr.h). */
	const struct rdns_opts *dns;
	/* http(s): ready statuses (NULL: any below 400). */
	const bool *ready_status; /* [600], indexed by status */
	/* udp: the datagram sent each attempt (may be empty), and the reply
	 * it must match (NULL: any reply); not copied. */
	const unsigned char *send;
	size_t sendlen;
	const regex_t *expect;
	/* https and tls:// (not copied): the client settings (the http
	 * client makes its own context from them), the context for tls://
	 * targets (NULL when there are none), and each handshake's limit
	 * (also cut to the attempt's). */
	const struct tls_config *tls;
	struct tls_ctx *tls_ctx;
	int handshake_ms;

	void (*on_attempt)(struct wait_run *w, const struct wait_attempt *a, void *arg);
	/* Once, when every target is ready (one with any) or the deadline
	 * passed; nothing of the run is left on the loop by then. */
	void (*on_done)(struct wait_run *w, void *arg);
	void *arg;
};

/* Starts probing (the first attempts start from the loop). NULL with
 * err when out of memory. */
struct wait_run *wait_start(struct loop *l, const struct wait_cfg *cfg, char *err, size_t errlen);
/* Every target ready (or one, with any). */
bool wait_ok(const struct wait_run *w);
bool wait_finished(const struct wait_run *w);
const struct wait_status *wait_status_of(const struct wait_run *w, size_t target);
/* From the start to the end of the run (or now, while it runs). */
int64_t wait_elapsed_us(const struct wait_run *w);
/* Stops what is under way and frees. NULL is fine. */
void wait_free(struct wait_run *w);

#endif
