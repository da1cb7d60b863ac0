/* Zone transfers (AXFR) over TCP on sockctl's event loop: c-ares cannot
 * do them. Connects with the connector, sends the query and reads the
 * messages through the connection's stream (net/stream.h: any stream
 * type, a TLS one too), parsed by the pure dns_xfr reader, handing each
 * record on as it comes. Servers and tries as with rdns: a try that gets nothing
 * at all (refused, closed, timed out) is made again, then the next server
 * is asked; once records came, the outcome is final. Returns errors as
 * text and never prints or exits. */
#ifndef SOCKCTL_RESOLVE_AXFR_H
#define SOCKCTL_RESOLVE_AXFR_H

#include <stdint.h>

#include "dns/dns_msg.h"
#include "dns/resolve_dns.h"

struct loop;

enum raxfr_status {
	RAXFR_OK,	 /* the whole zone, up to its closing SOA */
	RAXFR_RCODE,	 /* the server answered with an error rcode: see rcode */
	RAXFR_NOTZONE,	 /* NOERROR without records: not a zone of this server */
	RAXFR_NOANSWER,	 /* no try got a message: see noanswer */
	RAXFR_CUT,	 /* records came, then the stream ended early: see noanswer */
	RAXFR_MALFORMED, /* the stream is not a transfer of the zone */
	RAXFR_ERROR,	 /* could not even ask (not a name, out of memory) */
};

struct raxfr_result {
	enum raxfr_status status;
	enum rdns_noanswer noanswer; /* RAXFR_NOANSWER, RAXFR_CUT: how it ended */
	int rcode;		     /* RAXFR_RCODE */
	const char *server;	     /* the last one asked */
	const char *errtext;	     /* why, when not RAXFR_OK */
	int64_t ms;		     /* of the last try, from connect to the end */
	int attempts;		     /* connections tried, over every server */
	unsigned messages, records;
	uint64_t bytes;
};

/* One record of the transfer, in order; its data is in m. */
typedef void (*raxfr_rr_cb)(const struct dns_msg *m, const struct dns_rr *rr, void *arg);
/* The end; runs once, from the loop. */
typedef void (*raxfr_done_cb)(const struct raxfr_result *r, void *arg);

struct raxfr;
/* Starts a transfer of zone from o's servers (o->timeout_ms: to connect,
 * and the longest silence while reading). Returns NULL with err filled
 * when it cannot start; otherwise done runs exactly once, from the loop. */
struct raxfr *raxfr_start(struct loop *l, const struct rdns_opts *o, const char *zone,
			  raxfr_rr_cb rr, raxfr_done_cb done, void *arg, char *err, size_t errlen);
/* Called with each new connection (owned from then on) before the query
 * goes out; returns the stream to use instead, owning conn (a TLS stream
 * over it), or NULL with errno after closing conn, which ends that try as
 * a connection that failed. */
struct stream;
typedef struct stream *(*raxfr_wrap_fn)(struct stream *conn, void *arg);
/* Sets the wrapper (NULL: the plain connection), right after raxfr_start:
 * the first connection is reported from the loop, never inside it. */
void raxfr_set_wrap(struct raxfr *x, raxfr_wrap_fn fn, void *arg);
/* Stops a transfer whose done has not run, with no callback. */
void raxfr_cancel(struct raxfr *x);

#endif
