/* Asynchronous connect on the loop: resolves an endpoint, then tries every
 * address in order, each with its own timeout, and reports once. */
#ifndef SOCKCTL_CONNECTOR_H
#define SOCKCTL_CONNECTOR_H

#include "core/loop.h"
#include "net/sock.h"

struct connect_opts {
	int timeout_ms;	      /* per address; 0 = none */
	const char *src_host; /* bind before connecting (-s), may be NULL */
	const char *src_port; /* (-p), may be NULL */
	/* Called on each new socket before bind/connect (socket options such
	 * as SO_BINDTODEVICE); a failure skips that address. May be NULL. */
	int (*prepare)(int fd, void *arg, char *err, size_t errlen);
	void *prepare_arg;
};

struct stream;
/* s: the connected socket as a stream (STREAM_F_OWN) that the callee now
 * owns, with no callback set and nothing wanted, err 0. s NULL: every
 * address failed; err is the last errno (ETIMEDOUT for a timeout) and
 * errtext a complete message such as "connect 127.0.0.1:9: Connection
 * refused". */
typedef void (*connector_cb)(struct loop *l, struct stream *s, int err, const char *errtext,
			     void *arg);

struct connector;
/* Returns NULL with err filled when the endpoint does not resolve (or a
 * source address cannot be bound); otherwise cb runs exactly once, from
 * the loop, never from inside connector_start. */
struct connector *connector_start(struct loop *l, const struct sock_endpoint *ep,
				  const struct connect_opts *o, connector_cb cb, void *arg,
				  char *err, size_t errlen);
/* The same for addresses resolved once (sock_resolve) by a caller that
 * connects to one endpoint many times: res is not owned and must outlive
 * the connector. NULL when out of memory. */
struct addrinfo;
struct connector *connector_start_addrs(struct loop *l, struct addrinfo *res,
					const struct connect_opts *o, connector_cb cb, void *arg);
/* Stops a connector whose callback has not run yet, and frees it. */
void connector_cancel(struct connector *c);

#endif
