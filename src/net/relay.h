/* The nc-style two-way copy between a local pair of streams (stdin and
 * stdout, or a program's pipes) and a connection, on the loop: bounded
 * buffers, back-pressure, half-close, and zero-copy paths (sendfile from
 * a regular file, splice through a pipe) where the streams allow them. */
#ifndef SOCKCTL_RELAY_H
#define SOCKCTL_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"

struct relay_opts {
	bool dgram;	       /* datagram socket: one read = one datagram */
	bool no_shutdown;      /* local EOF does not shut down the socket's write side */
	bool send_only;	       /* never read the socket; done once local input is sent */
	bool recv_only;	       /* never read local input */
	int quit_after_eof_ms; /* -q: stop this long after local EOF; -1 = never */
	int idle_ms;	       /* -i: stop after this long without data; 0 = never */
	int dgram_wait_ms;     /* datagrams: wait this long for replies after EOF */
	bool local_is_tty;     /* stop when the peer closes, instead of sending on */
	bool zero_copy;	       /* allow splice/sendfile (off for tests of the copy path) */
	bool crlf;	       /* -C: local "\n" goes out as "\r\n" */
	/* Local EOF: hold the shutdown of the socket's write side back until
	 * a reply has come and paused, the peer has closed, or this long has
	 * passed; 0 = shut down at once. (Many proxies tear the whole tunnel
	 * down on a half-close, and the reply with it.) */
	int shutdown_delay_ms;
	/* The socket is a proxy's tunnel: a close right after our shutdown,
	 * with nothing ever received, fails with a message that the proxy
	 * may have dropped the reply. */
	bool tunnel;
	/* The peer's end of input ends out's write side too (out is a
	 * program's socket, which must see its input end). */
	bool pass_eof;
	/* The local side's name in messages when it is a connection too
	 * (forward's client); NULL: stdin and stdout. */
	const char *local_name;
	/* The local side is a connection that may have spoken as it
	 * connected (forward's client, waiting while the target was
	 * reached): read it at once instead of waiting to be told. */
	bool read_first;
	/* The caller closes the streams as soon as done is called: a
	 * plain socket's FIN at the very end, with both ways read to their
	 * end, is left to that close (which sends it) instead of costing
	 * a shutdown first. */
	bool closed_at_end;
	struct hexlog *log; /* -o/-x session log, or NULL; not owned */
};

struct relay_stats {
	uint64_t sent;	   /* local -> socket */
	uint64_t received; /* socket -> local */
	/* Of both, bytes moved without a copy (splice, sendfile): a pump
	 * that can splice copies its first reads, and splices once a read
	 * fills its small buffer (a bulk transfer). */
	uint64_t spliced;
	int64_t start_ms, end_ms;
};

/* status: 0 done cleanly, 1 failed (errtext says why, may be "" for a
 * quiet failure such as stdout closed by its reader). */
typedef void (*relay_done_cb)(struct loop *l, int status, const char *errtext, void *arg);

struct relay;
struct stream;
/* Copies in -> sock and sock -> out (in and out may be one stream). The
 * relay does not own the streams (it sets their callbacks while it runs);
 * the caller closes them after done. peer names the far end for
 * messages. */
struct relay *relay_start(struct loop *l, struct stream *in, struct stream *out,
			  struct stream *sock, const char *peer, const struct relay_opts *o,
			  relay_done_cb cb, void *arg);
void relay_get_stats(const struct relay *r, struct relay_stats *st);
/* After a failure: the stream whose read or write failed, and its errno
 * in *err; NULL (and 0) when none did. */
struct stream *relay_failed_stream(const struct relay *r, int *err);
/* Forgets the fds from the loop and frees the relay (call after done,
 * from the done callback too, or to abandon it). */
void relay_free(struct relay *r);

#endif
