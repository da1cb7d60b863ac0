/* The accept loop every stream server shares (serve, chat serve, http
 * serve): many accepts per readiness event, one policy when the process
 * runs out of descriptors, connections beyond what the loop's backend can
 * watch refused, an admit hook for access rules and limits, and the new
 * connection handed over as a stream. Never prints: what is worth saying
 * goes to the warn callback, at most once a second per kind. */
#ifndef SOCKCTL_ACCEPTOR_H
#define SOCKCTL_ACCEPTOR_H

#include <stdbool.h>

#include "core/loop.h"
#include "net/sock.h"

struct stream;

enum { ACCEPT_KEEP = 0, ACCEPT_REFUSE = 1 };

struct acceptor_cfg {
	int lfd; /* a listening socket, non-blocking; not owned */
	/* Before anything is made for the connection: ACCEPT_KEEP, or
	 * ACCEPT_REFUSE to close it at once (with *say, if set, sent first:
	 * a line telling the client why). May be NULL. */
	int (*admit)(void *arg, int fd, const struct sock_addr *peer, const char **say);
	/* The new connection; the callee owns the stream. */
	void (*accepted)(void *arg, struct stream *s, const struct sock_addr *peer);
	/* Why connections are being dropped (out of descriptors, beyond
	 * select's limit): for the program's log. May be NULL. */
	void (*warn)(void *arg, const char *text);
	void *arg;
	int batch; /* accepts per readiness event; 0 = 64 */
};

struct acceptor;
/* Starts watching cfg->lfd. NULL with errno on failure. */
struct acceptor *acceptor_new(struct loop *l, const struct acceptor_cfg *cfg);
/* Stops and restarts watching the listener (a server at its connection
 * limit leaves new clients in the backlog). */
void acceptor_pause(struct acceptor *a);
void acceptor_resume(struct acceptor *a);
/* Connections accepted, and dropped by the policies above (not counting
 * the admit hook's refusals). */
unsigned long long acceptor_accepted(const struct acceptor *a);
unsigned long long acceptor_dropped(const struct acceptor *a);
struct acl;
struct sockopts;
/* The admission rules stream servers share, for their admit hooks: the
 * access rules (acl may be NULL), the connection limit (max 0: none;
 * active: connections now) and the socket options applied to fd (so may
 * be NULL; a failure is logged). NULL to admit, or why not (a static
 * text, logged with the peer at LOG_LVL_INFO). */
const char *acceptor_rules(int fd, const struct sock_addr *peer, const struct acl *acl, long max,
			   size_t active, const struct sockopts *so);

/* Stops watching and frees; the listener stays open. NULL is fine. */
void acceptor_free(struct acceptor *a);

#endif
