/* sockctl serve: the state shared by its parts (cmd_serve.c parses and
 * listens, serve_stream.c runs stream connections, serve_dgram.c datagram
 * servers). */
#ifndef SOCKCTL_SERVE_H
#define SOCKCTL_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "relay.h"
#include "sock.h"

enum serve_handler { H_RELAY, H_ECHO, H_UPPER, H_DISCARD, H_RESPOND };

struct sconn;

struct server {
	struct loop *loop;
	int lfd;	/* listening (or datagram) socket; owned */
	int reserve_fd; /* spare fd given up to accept-and-close at EMFILE */
	enum serve_handler handler;
	bool keep_open; /* -k */
	bool dgram;
	int family;
	const char *proto;
	const char *respond; /* --respond bytes (owned if from a file) */
	size_t respond_len;
	bool respond_owned;
	int idle_ms;	      /* per connection, 0 = none */
	struct relay_opts ro; /* relay mode */
	int status;	      /* exit status */
	bool stopping;
	struct timer accept_pause;
	int64_t last_accept_warn;
	/* connections */
	struct sconn *conns; /* owned list */
	size_t nconns;
	uint64_t served;
	/* relay mode with -k: stdin broadcast */
	bool stdin_eof, stdin_watched;
	/* datagram peers that stdin goes to in relay mode */
	struct sock_addr *peers; /* owned ring */
	size_t npeers, peer_next;
};

/* serve_stream.c */
void serve_stream_start(struct server *s);
void serve_stream_cleanup(struct server *s);
/* serve_dgram.c */
int serve_dgram_start(struct server *s);
void serve_dgram_cleanup(struct server *s);

/* ASCII upper-casing for --upper: bytes outside a-z pass unchanged, so
 * UTF-8 stays valid. */
void serve_upper(char *p, size_t n);

#endif
