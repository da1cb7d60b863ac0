/* sockctl serve's engine: a stream server (the built-in handlers, the
 * one-client relay, the many-client relay of -k, the broker, a program
 * per connection, the fork and thread models) or a datagram server, on
 * one loop. Library code: it never prints; diagnostics go through
 * core/log (the -v lines at LOG_LVL_INFO) and the results come back from
 * serve_result. The program (tool/cmd_serve.c) parses the options,
 * listens, prints the readiness line and chooses the exit status. */
#ifndef SOCKCTL_SERVE_H
#define SOCKCTL_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "net/relay.h"
#include "net/sock.h"
#include "proc/model.h"

/* SERVE_BROKER: every client's bytes go to every other client, and stdin
 * to all of them (ncat --broker). */
enum serve_handler {
	SERVE_RELAY,
	SERVE_ECHO,
	SERVE_UPPER,
	SERVE_DISCARD,
	SERVE_RESPOND,
	SERVE_BROKER,
	SERVE_SCRIPT /* --script: a dialogue per connection */
};

struct acl;
struct hexlog;
struct outq_chunk;
struct script;
struct sockopts;
struct stream;
struct tls_ctx;

struct serve_cfg {
	/* The listening socket (a stream server) or the datagram socket,
	 * non-blocking; owned by the server from serve_new on, even when it
	 * fails. -1: none (connections come through serve_take). */
	int lfd;
	bool dgram;
	int family; /* of lfd's address (AF_INET, AF_INET6, AF_UNIX) */
	enum serve_handler handler;
	bool keep_open;	  /* -k: many clients, until stopped */
	enum model model; /* fork and thread run the built-in handlers */
	/* SERVE_RESPOND: the bytes, shared by every connection; the server
	 * takes a reference of its own. */
	struct outq_chunk *respond;
	int idle_ms;		   /* per connection (-u --exec: per program); 0 = none */
	int stall_ms;		   /* --broker: how long a full queue may hold everyone */
	long max_conns;		   /* -m; 0 = no limit (-u --exec: 64) */
	const struct acl *acl;	   /* --allow/--deny; NULL = all; not owned */
	const struct sockopts *so; /* per connection; NULL = none; not owned */
	/* --exec (argv) or --sh-exec (shell command): a program per
	 * connection or datagram; both NULL for a handler. Not owned. */
	char *const *exec_argv;
	const char *sh_exec;
	/* The one-client relay's options (with log and crlf set too). */
	struct relay_opts ro;
	struct hexlog *log; /* -o/-x session log, or NULL; not owned */
	bool crlf;	    /* -C: stdin's "\n" goes to the clients as "\r\n" */
	/* Keep each program's socket until it ends, to read the kernel's
	 * byte counts (TCP). */
	bool count_exec;
	/* The relays' local side (STDIN_FILENO, STDOUT_FILENO); -1: none
	 * (stdin then counts as ended at once). Not owned. */
	int in_fd, out_fd;
	/* TLS on every accepted connection (the handshake first, on the
	 * loop, within handshake_ms; then served as any connection); NULL:
	 * none. Not owned. */
	struct tls_ctx *tls;
	int handshake_ms;
	/* SERVE_SCRIPT: the steps and rules (not owned), each expect's
	 * deadline (0: 5 s); -C makes the sends' "\n" CRLF. */
	const struct script *script;
	int expect_ms;
};

struct serve_result {
	bool failed; /* something went wrong (it was logged) */
	/* Without -k, --exec: the program's wait status made an exit
	 * status (128 + signal when killed); -1 when there was none. */
	int program_status;
	/* SERVE_SCRIPT: the last connection's enum script_status that was
	 * not SCRIPT_OK, or -1 when every client followed the script. */
	int script_status;
	uint64_t connections; /* connections or datagrams served */
	uint64_t refused;     /* connections refused, datagrams dropped */
	uint64_t sent, received;
};

struct serve_server;
/* Makes the server and starts serving on l (accepting on cfg->lfd, or
 * reading it for a datagram server). NULL with err on failure. */
struct serve_server *serve_new(struct loop *l, const struct serve_cfg *cfg, char *err,
			       size_t errlen);
/* A connection made elsewhere (a test, a handshake done first), served
 * as an accepted one is, without the admission rules; the server owns s.
 * peer may be NULL. */
void serve_take(struct serve_server *srv, struct stream *s, const struct sock_addr *peer);
/* Stops serving (SIGINT, SIGTERM): the loop stops. */
void serve_stop(struct serve_server *srv);
/* Bytes moved so far, in every model (for --progress). */
void serve_totals(const struct serve_server *srv, uint64_t *sent, uint64_t *received);
/* After the loop ran: the totals of the programs still running are
 * counted, and the outcome filled in. */
void serve_result(struct serve_server *srv, struct serve_result *r);
/* Ends what runs (connections closed, datagram programs stopped) and
 * frees the server. What threads still running use is left to the
 * process's exit. NULL is fine. */
void serve_free(struct serve_server *srv);

#endif
