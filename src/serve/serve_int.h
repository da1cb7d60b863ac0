/* The state serve's engine files share (serve.c: the server, accepting
 * and the local side; serve_stream.c: connections on the loop;
 * serve_exec.c: programs and the fork/thread models; serve_dgram.c:
 * datagram servers). Not for the program: it uses serve.h. */
#ifndef SOCKCTL_SERVE_INT_H
#define SOCKCTL_SERVE_INT_H

#include <sys/types.h>

#include "core/outq.h"
#include "net/tls_accept.h"
#include "serve/serve.h"

/* Per connection on the loop: what its output queue holds at most. */
#define SERVE_PEND_MAX (256 * 1024)
/* Most bytes one read takes (a client's, stdin's). */
#define SERVE_READ_CHUNK (64 * 1024)

struct acceptor;
struct children;
struct sconn;
struct serve_dgram_job;
struct serve_exec_conn;
struct serve_xrelay;

struct serve_server {
	struct loop *loop; /* not owned */
	struct serve_cfg cfg;
	struct acceptor *acc;  /* owned; NULL for a datagram server */
	struct timer unlisten; /* without -k: the listener goes after one client */
	bool failed;
	int program_status; /* -1 until a program's status is the run's */
	int script_status;  /* serve_result's */
	bool stopping;
	uint64_t served, refused;
	uint64_t bytes_in, bytes_out; /* what the loop moved (not the models) */
	/* programs and handlers running elsewhere */
	struct children *kids;	       /* owned; NULL without programs or forks */
	size_t nchildren;	       /* programs and forked handlers running */
	size_t nthreads;	       /* thread handlers running */
	int notify[2];		       /* threads write a byte here when they end */
	struct stream *notify_in;      /* notify[0] on the loop; owned (not the fd) */
	struct model_totals *jt;       /* fork/thread totals; owned; NULL if none */
	struct serve_exec_conn *execs; /* owned, nexecs of capexecs */
	size_t nexecs, capexecs;
	/* TLS: handshakes running, and programs' relays (--exec) */
	struct tls_accepts hs;	  /* handshakes under way */
	struct serve_xrelay *xrs; /* owned list */
	size_t nxrs;
	/* the local side: stdin to the clients, their data to stdout */
	struct stream *in, *out; /* owned (not the fds); NULL when unused */
	struct outq outq;	 /* what stdout has not taken yet */
	bool stdin_eof, stdin_prev_cr;
	struct outq_chunk *spare; /* one reference: the next read's chunk */
	/* stream connections on the loop */
	struct sconn *conns; /* owned list */
	size_t nconns;
	size_t nfull; /* --broker: clients whose queue is full */
	/* datagrams */
	struct sock_addr *peers; /* owned ring: who stdin goes to in relay mode */
	size_t npeers, peer_next;
	struct serve_dgram_job **djobs; /* owned, ndjobs of capdjobs (-u --exec) */
	size_t ndjobs, capdjobs;
	bool lfd_watched; /* the datagram socket is read */
};

/* How many connections are being served, in every model. */
static inline size_t serve_active(const struct serve_server *s)
{
	return s->nconns + s->nchildren + s->nthreads + (size_t)s->hs.n + s->nxrs;
}
static inline bool serve_exec_mode(const struct serve_server *s)
{
	return s->cfg.exec_argv || s->cfg.sh_exec;
}
/* The run failed: noted, and the loop stops. */
void serve_fail_stop(struct serve_server *s);
/* Without -k, a stream server ends when its one client is done. */
void serve_after_end(struct serve_server *s);

/* serve.c: stdout for the relays. serve_out_write queues what stdout
 * does not take at once; false if stdout failed (the run then stops).
 * serve_out_room: whether n more bytes fit now (the readers wait
 * otherwise, and are resumed when it drains). */
bool serve_out_write(struct serve_server *s, const void *p, size_t n);
bool serve_out_room(const struct serve_server *s, size_t n);
/* A chunk to read up to SERVE_READ_CHUNK bytes into, and after the read
 * of n bytes, the chunk to send them in (the same, or a small copy);
 * serve_chunk_done gives back what serve_chunk_for returned. */
struct outq_chunk *serve_chunk(struct serve_server *s);
struct outq_chunk *serve_chunk_for(struct serve_server *s, struct outq_chunk *c, size_t n);
void serve_chunk_done(struct serve_server *s, struct outq_chunk *c);

/* serve_stream.c: connections served on the loop. */
int serve_stream_start(struct serve_server *s, char *err, size_t errlen);
void serve_conn_start(struct serve_server *s, struct stream *st, const struct sock_addr *peer);
void serve_stream_resume(struct serve_server *s); /* stdout has room again */
void serve_stream_free(struct serve_server *s);

/* serve_exec.c: a program per connection, the fork and thread models,
 * and the children they make. */
int serve_exec_start(struct serve_server *s, char *err, size_t errlen);
void serve_exec_program(struct serve_server *s, struct stream *st);
void serve_exec_job(struct serve_server *s, struct stream *st);
/* Registers child pid (reaped through the child registry). */
bool serve_exec_watch(struct serve_server *s, pid_t pid);
void serve_exec_totals(struct serve_server *s); /* programs still running */
void serve_exec_free(struct serve_server *s);

/* serve_dgram.c: datagram servers. */
int serve_dgram_start(struct serve_server *s, char *err, size_t errlen);
void serve_dgram_resume(struct serve_server *s); /* stdout has room again */
/* A child was reaped: if it ran for a datagram, its job learns it. */
void serve_dgram_reaped(struct serve_server *s, pid_t pid);
void serve_dgram_free(struct serve_server *s);

#endif
