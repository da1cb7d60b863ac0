/* sockctl forward's engine: accept on a listening socket, connect each
 * client to the target (through the connector: every address, a timeout,
 * an HTTP or SOCKS proxy, TLS), and relay the two both ways with
 * half-close in each direction. Library code: it never prints; the
 * per-connection lines go to core/log (LOG_LVL_INFO), failures to reach
 * the target to log_error, and the totals come back from
 * forward_result. The program (tool/cmd_forward.c) parses the options,
 * listens, prints the readiness line and chooses the exit status. */
#ifndef SOCKCTL_FORWARD_H
#define SOCKCTL_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "net/connector.h"
#include "net/proxy.h"
#include "net/relay.h"
#include "net/sock.h"

struct acl;
struct fault_set;
struct hexlog;
struct sockopts;
struct stream;
struct tls_ctx;

struct forward_cfg {
	/* The listening socket, non-blocking; owned by the engine from
	 * forward_new on, even when it fails. -1: none (clients come
	 * through forward_take). */
	int lfd;
	/* -u: lfd is a UDP socket; every client address gets a session (a
	 * socket connected to the target) that ends after ro.idle_ms
	 * without datagrams (0: 60 s); max_conns bounds the sessions (0:
	 * 1024). The target is resolved once, at start. */
	bool udp;
	/* Where clients go: connected per client (resolved each time, so
	 * a name that moves is followed). With a proxy, this is the
	 * proxy's address and proxy->host/port the target's. The strings
	 * are not owned and must outlive the engine. */
	struct sock_endpoint target;
	struct connect_opts co;		  /* -w, -s; prepare for socket options */
	const struct proxy_target *proxy; /* --proxy; NULL: direct; not owned */
	const char *target_name;	  /* the target as given, for the log lines */
	long max_conns;			  /* -m; 0 = no limit */
	const struct acl *acl;		  /* --allow/--deny; NULL = all; not owned */
	const struct sockopts *so;	  /* on both sockets; NULL = none; not owned */
	struct relay_opts ro;		  /* zero_copy, idle_ms; log set from log */
	struct hexlog *log;		  /* -o/-x session log, or NULL; not owned */
	/* TLS on the client side (terminated here, the handshake within
	 * handshake_ms) and towards the target (originated, verified for
	 * target_tls_host); NULL: plain. Not owned. */
	struct tls_ctx *tls;
	int handshake_ms;
	struct tls_ctx *target_tls;
	const char *target_tls_host;
	/* The PROXY protocol: send_proxy 1 or 2 sends a header of that
	 * version to the target first (0: none); accept_proxy reads one
	 * from every client within header_ms (0: 10 s), and its address
	 * is then the client's for the access rules and the log lines. */
	int send_proxy;
	bool accept_proxy;
	int header_ms;
	/* Faults put on every client (forward/fault.h), changed live by
	 * the control socket; NULL: none. Not owned. */
	struct fault_set *faults;
};

struct forward_result {
	uint64_t connections;	  /* clients relayed to the target (-u: sessions) */
	uint64_t refused;	  /* clients refused (-m, --allow/--deny); -u: datagrams dropped */
	uint64_t target_failures; /* clients closed because the target could not be had */
	uint64_t up, down;	  /* bytes client -> target, target -> client */
	uint64_t datagrams;	  /* -u: datagrams from the clients forwarded */
};

struct forward;
/* Makes the engine and starts accepting on cfg->lfd. NULL with err. */
struct forward *forward_new(struct loop *l, const struct forward_cfg *cfg, char *err,
			    size_t errlen);
/* A client connection made elsewhere (a test, a socket pair), forwarded
 * as an accepted one is, without the admission rules; the engine owns s.
 * peer may be NULL. */
void forward_take(struct forward *f, struct stream *s, const struct sock_addr *peer);
/* Stops (SIGINT, SIGTERM): no more accepting, the loop stops. */
void forward_stop(struct forward *f);
void forward_result(const struct forward *f, struct forward_result *r);
/* Closes what is open and frees. NULL is fine. */
void forward_free(struct forward *f);

#endif
