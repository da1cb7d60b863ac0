/* The handshakes a TLS server runs between accept and serving: each
 * accepted connection goes through the handshake stage (net/tls) on the
 * loop, within a deadline, and comes back ready to the server's own
 * callback. The set keeps the handshakes under way so that a server can
 * count them against its connection limit and cancel them when it
 * stops. Library code: a failed handshake is logged (log_info: a port
 * scan or a client that does not trust us is no error of the server's)
 * or given to the failed callback. */
#ifndef SOCKCTL_TLS_ACCEPT_H
#define SOCKCTL_TLS_ACCEPT_H

#include <stdbool.h>

#include "core/loop.h"
#include "net/sock.h"
#include "net/tls.h"

struct stream;
struct tls_accept_hs;

struct tls_accepts {
	struct loop *l;
	struct tls_ctx *ctx; /* not owned */
	int timeout_ms;	     /* each handshake's deadline; 0 = none */
	/* The ready TLS stream, owned by the callee (no callback set,
	 * nothing wanted); peer as the acceptor gave it. */
	void (*ready)(void *arg, struct stream *s, const struct sock_addr *peer);
	/* A handshake that failed (the connection is closed). May be NULL:
	 * then errtext goes to log_info. */
	void (*failed)(void *arg, enum tls_err kind, const char *errtext);
	void *arg;
	/* Running state. */
	struct tls_accept_hs *list;
	int n; /* handshakes under way */
};

/* Fills a with what is given, nothing running. */
void tls_accepts_init(struct tls_accepts *a, struct loop *l, struct tls_ctx *ctx, int timeout_ms,
		      void (*ready)(void *arg, struct stream *s, const struct sock_addr *peer),
		      void *arg);
/* Starts the handshake on an accepted connection (taken: closed on any
 * failure). false when it could not start (out of memory: logged). */
bool tls_accepts_start(struct tls_accepts *a, struct stream *plain, const struct sock_addr *peer);
/* Cancels every handshake under way (their connections close). */
void tls_accepts_cancel(struct tls_accepts *a);

#endif
