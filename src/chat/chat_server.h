/* The chat hub's engine: rooms, members, the commands, flood control and
 * every member's output queue. It never prints: diagnostics go to
 * core/log, and the lines of the rooms reach the program through the
 * show callback. The program parses options, listens, reads its own
 * stdin and says when to stop. */
#ifndef SOCKCTL_CHAT_SERVER_H
#define SOCKCTL_CHAT_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct stream;
struct tls_ctx;

struct chat_server_cfg {
	long max_clients; /* members at once; more get "*** server full" */
	long max_line;	  /* longest line taken (CHAT_LINE_MIN..CHAT_LINE_LIMIT) */
	/* Bytes a member's output queue holds; a member whose queue would
	 * pass it has stopped reading and is dropped. At least
	 * 3 * max_line + 64 (a line may grow three-fold when sanitised). */
	long queue_max;
	long flood; /* lines a second per member, 0 = no limit */
	bool show_addr;
	/* TLS on every accepted connection (not owned; NULL: plain): the
	 * handshake first, within handshake_ms, counted against
	 * max_clients. A verified client certificate's subject is shown in
	 * /who and the -v connect line. */
	struct tls_ctx *tls;
	int handshake_ms;
	/* Every line posted to a room (room: its name, or "*" for all), to
	 * show on the program's stdout. May be NULL. */
	void (*show)(void *arg, const char *room, const char *line, size_t len);
	/* After chat_server_shutdown, once every member has gone or the
	 * grace time is over. May be NULL. */
	void (*stopped)(void *arg);
	void *arg;
};

struct chat_server;
/* NULL with errno when out of memory. */
struct chat_server *chat_server_new(struct loop *l, const struct chat_server_cfg *cfg);
/* Accepts members on lfd (listening, non-blocking; not owned) through
 * net/acceptor. 0, or -1 with errno. */
int chat_server_listen(struct chat_server *s, int lfd);
/* A member on stream st, which the server owns from now on (closed at
 * once when it cannot be taken: the server is full or out of memory).
 * addr: the member's address for --show-addresses (NULL: "?"). */
bool chat_server_add(struct chat_server *s, struct stream *st, const char *addr);
/* A line of the server's own, posted to every room as @server (it is
 * sanitised here; an empty result posts nothing). */
void chat_server_say(struct chat_server *s, const char *line, size_t len);
/* Stops accepting, tells every room, and lets every member take what is
 * queued for it; cfg->stopped runs when that is done. */
void chat_server_shutdown(struct chat_server *s);
/* Closes every member and frees s. NULL is fine. */
void chat_server_free(struct chat_server *s);

struct chat_server_stats {
	unsigned members;     /* connected now */
	uint64_t batches;     /* broadcast batches, each stored once */
	uint64_t batch_bytes; /* bytes in them */
	uint64_t ref_bytes;   /* bytes queued for members by reference to a batch */
	uint64_t copy_bytes;  /* bytes queued by copy (what is sent to one member) */
	/* References the last batch had when it had been handed to every
	 * recipient: one of the server's plus one per member that queued
	 * part of it. */
	unsigned last_refs;
	uint64_t dropped; /* members dropped because their queue was full */
};
void chat_server_stats(const struct chat_server *s, struct chat_server_stats *st);

#endif
