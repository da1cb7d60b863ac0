/* sockctl serve: the state shared by its parts (cmd_serve.c parses and
 * listens, serve_stream.c runs stream connections, serve_dgram.c datagram
 * servers). */
#ifndef SOCKCTL_SERVE_H
#define SOCKCTL_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/acl.h"
#include "core/loop.h"
#include "proc/model.h"
#include "tool/netopts.h"
#include "net/relay.h"
#include "net/sock.h"

/* H_BROKER: every client's bytes go to every other client, and stdin to
 * all of them (ncat --broker). */
enum serve_handler { H_RELAY, H_ECHO, H_UPPER, H_DISCARD, H_RESPOND, H_BROKER };

struct sconn;
struct dgram_job;

/* --exec with totals asked for: the server's copy of a program's TCP
 * socket, read (TCP_INFO) and closed when the program ends. */
struct exec_conn {
	pid_t pid;
	int fd;
};

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
	/* access, limits, models and programs (cmd_serve.c parses them) */
	struct acl acl;		      /* --allow/--deny; owned */
	long max_conns;		      /* -m: 0 = no limit */
	enum model model;	      /* --model */
	struct netopts *no;	      /* socket options, logs, -C, stats; not owned */
	size_t nchildren;	      /* programs and forked handlers running */
	size_t nthreads;	      /* thread handlers running */
	int notify[2];		      /* threads write a byte here when they end */
	uint64_t bytes_in, bytes_out; /* loop handlers, for -v and --stats */
	uint64_t refused;	      /* by --allow/--deny or -m */
	struct model_totals *jt;	      /* --model=fork|thread totals; NULL if none */
	bool count_exec;	      /* keep exec sockets for their totals */
	struct exec_conn *execs;      /* owned */
	size_t nexecs, capexecs;
	struct timer child_timer; /* keeps the loop alive while children run */
	bool stdin_prev_cr;	  /* -C across stdin reads */
	size_t nfull;		  /* --broker: clients whose queue is full */
	int stall_ms;		  /* --broker: how long a full queue may stall */
	/* -u --exec: a program per datagram */
	struct dgram_job **djobs; /* owned, ndjobs of capdjobs */
	size_t ndjobs, capdjobs;
	bool dgram_paused; /* at -m: the socket is not read */
};

/* How many connections are being served, in every model. */
static inline size_t serve_active(const struct server *s)
{
	return s->nconns + s->nchildren + s->nthreads;
}
/* serve_stream.c: SIGCHLD and thread ends (set up by cmd_serve.c). */
void serve_reap(struct loop *l, int signo, void *arg);
void serve_threads_done(struct loop *l, int fd, int mask, void *arg);

/* serve_stream.c */
void serve_stream_start(struct server *s);
void serve_stream_cleanup(struct server *s);
/* Adds the totals of the programs still running (--exec) to
 * bytes_in/bytes_out: once, at exit. (The fork/thread handlers' totals
 * stay in jt and are added where totals are read.) */
void serve_stream_totals(struct server *s);
/* serve_dgram.c */
int serve_dgram_start(struct server *s);
void serve_dgram_cleanup(struct server *s);
/* A child was reaped: if it ran for a datagram, its job learns it. */
void serve_dgram_reaped(struct server *s, pid_t pid);

#endif
