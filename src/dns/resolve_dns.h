/* Queries straight to chosen DNS servers with c-ares, driven by sockctl's
 * event loop (so --mux applies). Each server gets its own c-ares channels
 * (one for UDP, one for TCP, made when first needed), so we always know
 * which server and which transport gave an answer; retries, failover to
 * the next server and the TCP retry of a truncated answer are done here.
 * c-ares reads and writes through our socket functions, which drop what is
 * not a response (a query sent back to us, a runt) and note how a socket
 * failed, so that a refusal, a closed connection and a timeout are told
 * apart. Returns errors as text and never prints or exits. */
#ifndef SOCKCTL_RESOLVE_DNS_H
#define SOCKCTL_RESOLVE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct loop;
struct tls_ctx;

#define RDNS_MAX_SERVERS 16

struct rdns_server {
	struct sockaddr_storage ss; /* address and port */
	char text[96];		    /* "127.0.0.1:53", "[::1]:53" */
};

struct rdns_opts {
	struct rdns_server server[RDNS_MAX_SERVERS];
	int nservers;
	int timeout_ms;	  /* per try */
	int tries;	  /* per server */
	bool tcp;	  /* always TCP */
	bool no_fallback; /* keep a truncated UDP answer */
	bool no_edns;
	bool norecurse;
	/* DNS over TLS (resolve_dot.c) with this context, not owned; NULL:
	 * UDP and TCP with c-ares. */
	struct tls_ctx *tls;
};

enum rdns_status {
	RDNS_ANSWER,   /* a response came: see abuf (any rcode) */
	RDNS_NOANSWER, /* no try got a response: see noanswer */
	RDNS_ERROR,    /* could not even ask (bad name, out of memory) */
};

/* How the last try ended without a response. */
enum rdns_noanswer {
	RDNS_TIMEDOUT,	  /* nothing came back in time */
	RDNS_UNREACHABLE, /* refused: ICMP port unreachable, or a TCP reset on connect */
	RDNS_CLOSED,	  /* TCP accepted, then closed (or reset) without an answer */
};

struct rdns_result {
	enum rdns_status status;
	const uint8_t *abuf; /* RDNS_ANSWER: the response, valid during the callback */
	size_t alen;
	const char *server;	     /* the one that answered (or was tried last) */
	const char *transport;	     /* "udp" or "tcp" */
	double rtt_ms;		     /* of the try that answered */
	int attempts;		     /* queries sent, over every server and transport */
	int tries;		     /* tries as --tries counts them: a UDP query and the
				      * TCP retry of its truncated answer are one */
	bool after_tc;		     /* the last try went to TCP after a truncated answer */
	enum rdns_noanswer noanswer; /* RDNS_NOANSWER: how the last try ended */
	const char *errtext;	     /* RDNS_NOANSWER / RDNS_ERROR: why */
};

typedef void (*rdns_cb)(const struct rdns_result *r, void *arg);

/* How a socket error ends a try, and the words for it ("connection
 * refused"). */
enum rdns_noanswer rdns_sock_error(int e, const char **text);

/* Parses "IP", "IP:PORT", "[IPv6]:PORT", or "IP#PORT" as dnsmasq and
 * drill write it (default_port when none is given). */
bool rdns_parse_server(const char *s, uint16_t default_port, struct rdns_server *out, char *err,
		       size_t errlen);

/* The server's numeric host and port as text, for the connector and
 * for TLS name checks. 0, or a getnameinfo error code. */
int rdns_server_host(const struct rdns_server *s, char *host, size_t hostlen, char *port,
		     size_t portlen);

struct rdns;
struct rdns *rdns_new(struct loop *l, const struct rdns_opts *o, char *err, size_t errlen);
/* Frees everything; queries still running end with no callback. */
void rdns_free(struct rdns *d);
/* Asks for name/type (class IN). cb runs exactly once, usually from the
 * loop, but possibly before rdns_query returns (a name c-ares refuses to
 * encode). Returns 0, or -1 if out of memory (cb not called). */
int rdns_query(struct rdns *d, const char *name, int type, rdns_cb cb, void *arg);
/* The version of the c-ares library that runs (for --version). */
const char *rdns_cares_version(void);

#endif
