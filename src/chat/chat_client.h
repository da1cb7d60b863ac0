/* The chat client's engine: the connection to a chat server (the
 * connector's stream), the lines it sends (bounded, in order) and the
 * lines it receives (framed and sanitised before anyone sees them), and
 * the end: after the last line of input it half-closes and takes what the
 * server still sends until the server closes, or a grace time passes. The
 * program shows the lines (a terminal, or stdout for scripts) and turns
 * the end into an exit status. Never prints. */
#ifndef SOCKCTL_CHAT_CLIENT_H
#define SOCKCTL_CHAT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "net/tls.h"

struct loop;
struct stream;
struct sock_endpoint;

enum chat_client_end {
	CHAT_END_DONE,	 /* the server closed after our input ended, or never did */
	CHAT_END_CLOSED, /* the server closed while we still had input */
	CHAT_END_FAILED, /* errtext says why */
};

struct chat_client_cfg {
	const char *target;	 /* "host:port" or the socket path, for messages */
	const char *name, *room; /* sent as /nick and /join on connecting; may be NULL */
	bool echo;		 /* ask for our own lines back (/echo on) first */
	/* TLS after connecting (not owned; NULL: plain): the server's
	 * certificate is checked for tls_host (the host as given), within
	 * handshake_ms. */
	struct tls_ctx *tls;
	const char *tls_host;
	int handshake_ms;
	/* After the handshake, before a line goes: the program's look at
	 * the TLS stream s (NULL: none). True goes on; false ends with
	 * CHAT_END_FAILED and why, chat_client_tls_error() TLS_E_NONE.
	 * kind: a verification or pin failure that the context's
	 * report_failures let through: it then ends with that failure,
	 * whatever the check says. */
	bool (*tls_check)(void *arg, const struct stream *s, enum tls_err kind, char *why,
			  size_t whylen);
	/* Connected; where: the server's address as text. May be NULL. */
	void (*connected)(void *arg, const char *where);
	/* A line from the server, sanitised, without its newline. */
	void (*line)(void *arg, const char *line, size_t len);
	/* After the lines of one read, when there were any. May be NULL. */
	void (*lines_done)(void *arg);
	/* Once, at the end; nothing is called after it. */
	void (*end)(void *arg, enum chat_client_end how, const char *errtext);
	void *arg;
};

struct chat_client;
/* Starts connecting. NULL with err filled when the endpoint does not
 * resolve (or out of memory); otherwise every callback comes from the
 * loop, never from inside chat_client_start. */
struct chat_client *chat_client_start(struct loop *l, const struct sock_endpoint *ep,
				      const struct chat_client_cfg *cfg, char *err, size_t errlen);
/* The same over a connection made elsewhere (s, owned from now on: a
 * handshake done, a test's stream); the callbacks may run from inside.
 * NULL (s closed) when out of memory. */
struct chat_client *chat_client_over(struct loop *l, struct stream *s,
				     const struct chat_client_cfg *cfg);
/* Input as it comes (a pipe, a file: a script's stdin), owned from now
 * on: read while there is room to queue it, from the connection on; its
 * end ends the input (a last line without a newline gets one). */
void chat_client_input(struct chat_client *c, struct stream *in);
/* One line typed (without its newline): queued whole, or not at all
 * (false: too much is waiting for the server). */
bool chat_client_send_line(struct chat_client *c, const char *line, size_t len);
/* No more input: once what is queued is sent, the write side is shut. */
void chat_client_end_input(struct chat_client *c);
/* Stops (true) and resumes reading from the server, while the program
 * cannot show more. */
void chat_client_hold(struct chat_client *c, bool hold);
/* Why TLS failed, after an end with CHAT_END_FAILED (TLS_E_NONE when
 * it was not TLS): for the program's exit status. A read that found
 * the server gone without close_notify is TLS_E_TRUNCATED. */
enum tls_err chat_client_tls_error(const struct chat_client *c);
/* Closes the connection and frees c. NULL is fine. */
void chat_client_free(struct chat_client *c);

#endif
