/* The state forward's engine files share. Not for the program: it uses
 * forward.h. */
#ifndef SOCKCTL_FORWARD_INT_H
#define SOCKCTL_FORWARD_INT_H

#include "forward/forward.h"
#include "net/proxy_proto.h"

struct acceptor;
struct fwd_udp;
struct fwd_pp_in;
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
	/* The client's address (len 0: unnamed) and the one it reached;
	 * with --accept-proxy, those its PROXY header gave. */
	struct sock_addr peer, local;
	char peer_text[SOCK_ADDRSTRLEN];
	/* What runs now (each owned; at most one). */
	struct connector *cn;
	struct proxy_conn *pc;
	struct tls_handshake *hs;  /* the target's */
	struct tls_handshake *chs; /* the client's (--tls) */
	struct fwd_pp_in *ppin;	   /* the client's PROXY header being read */
	struct relay *relay;
	/* --send-proxy: the header, and how much of it the target took. */
	uint8_t ppout[PP_BUILD_MAX];
	size_t ppout_len, ppout_off;
	int64_t start_ms;
};

struct forward {
	struct loop *loop; /* not owned */
	struct forward_cfg cfg;
	struct acceptor *acc;	/* owned */
	struct fwd_conn *conns; /* owned list: every live connection */
	size_t nconns;
	bool stopping;
	struct forward_result res;
	struct fwd_udp *udp; /* -u; owned */
	/* The target's addresses when they cannot change (an address
	 * literal, a Unix path): resolved once; owned. NULL: a name,
	 * resolved for every client. */
	struct addrinfo *target_ai;
};

/* The one place an accepted client stream becomes the stream the relay
 * reads and writes (a stream type wrapping it goes in here). */
struct stream *fwd_client_stream(struct fwd_conn *c, struct stream *accepted);
/* Ends a connection: logs why (NULL: nothing to say), closes the client
 * cleanly or with a reset, closes the target and frees c. */
void fwd_conn_end(struct fwd_conn *c, enum fwd_end how, const char *why);

/* forward.c: the client is in (its PROXY header read, if one was due):
 * access rules for its address, TLS, then the target. */
void fwd_client_admitted(struct fwd_conn *c);
/* The target is reached (and its PROXY header sent): TLS, then the
 * relay; or it could not be had (the client is reset). */
void fwd_target_open(struct fwd_conn *c, struct stream *s);
void fwd_target_failed(struct fwd_conn *c, const char *why);

/* forward_pp.c: the PROXY protocol. fwd_pp_read reads the client's
 * header (within cfg.header_ms) and goes on with fwd_client_admitted;
 * fwd_pp_send sends ours to the target (s: the connection to it, taken)
 * and goes on with fwd_target_open. */
void fwd_pp_read(struct fwd_conn *c);
void fwd_pp_send(struct fwd_conn *c, struct stream *s);
void fwd_pp_free(struct fwd_conn *c);

/* forward_udp.c: -u. */
int fwd_udp_start(struct forward *f, char *err, size_t errlen);
void fwd_udp_result(const struct forward *f, struct forward_result *r);
void fwd_udp_free(struct forward *f);
/* forward_faults.c: the client stream behind cfg.faults (NULL when out
 * of memory); a reset of it; and whether a new client (fd) is refused
 * now, its close then armed to reset. */
struct stream *fwd_faults_wrap(struct fwd_conn *c, struct stream *accepted);
void fwd_faults_reset(struct stream *client);
bool fwd_faults_refuse(struct forward *f, int fd);
/* --blackhole for a new client: read and dropped, the target never
 * reached; true when it took the connection. */
bool fwd_faults_sink(struct fwd_conn *c);

#endif
