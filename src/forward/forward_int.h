/* The state forward's engine files share. Not for the program: it uses
 * forward.h. */
#ifndef SOCKCTL_FORWARD_INT_H
#define SOCKCTL_FORWARD_INT_H

#include "forward/forward.h"
#include "net/tls_accept.h"

struct acceptor;
struct connector;
struct proxy_conn;
struct relay;
struct tls_handshake;

/* How a connection ends: a clean close (FIN), or a reset (SO_LINGER 0 on
 * the client's socket, so the client sees ECONNRESET). */
enum fwd_end { FWD_END_CLOSE, FWD_END_RESET };

/* One client, from accept to the end of its relay. */
struct fwd_conn {
	struct forward *fwd;
	struct fwd_conn *prev, *next;
	/* The client: the accepted (or TLS) stream, and the stream the
	 * relay uses (fwd_client_stream's result: the same, or a stream
	 * wrapping it). Owned; client_raw is closed through client. */
	struct stream *client_raw, *client;
	struct stream *target; /* owned; NULL until connected */
	struct sock_addr peer; /* the client's address (len 0: unnamed) */
	char peer_text[SOCK_ADDRSTRLEN];
	/* What runs now (each owned; at most one). */
	struct connector *cn;
	struct proxy_conn *pc;
	struct tls_handshake *hs;
	struct relay *relay;
	int64_t start_ms;
};

struct forward {
	struct loop *loop; /* not owned */
	struct forward_cfg cfg;
	struct acceptor *acc;	/* owned */
	struct tls_accepts hs;	/* client-side handshakes under way */
	struct fwd_conn *conns; /* owned list: every live connection */
	size_t nconns;
	bool stopping;
	struct forward_result res;
};

/* The one place an accepted client stream becomes the stream the relay
 * reads and writes (a stream type wrapping it goes in here). */
struct stream *fwd_client_stream(struct fwd_conn *c, struct stream *accepted);
/* Ends a connection: logs why (NULL: nothing to say), closes the client
 * cleanly or with a reset, closes the target and frees c. */
void fwd_conn_end(struct fwd_conn *c, enum fwd_end how, const char *why);

/* forward_faults.c: the client stream behind cfg.faults (NULL when out
 * of memory); a reset of it; and whether a new client (fd) is refused
 * now, its close then armed to reset. */
struct stream *fwd_faults_wrap(struct fwd_conn *c, struct stream *accepted);
void fwd_faults_reset(struct stream *client);
bool fwd_faults_refuse(struct forward *f, int fd);

#endif
