/* STARTTLS: the plaintext exchange some protocols need before a TLS
 * handshake (SMTP's EHLO + STARTTLS, IMAP's STARTTLS, PostgreSQL's
 * SSLRequest, ...). Two parts:
 *   - the dialogue, pure: bytes from the server go in, what to send and
 *     whether the server agreed come out (fuzzed);
 *   - a driver that runs the dialogue over a connected stream on the
 *     loop and hands the stream back, with nothing read past the
 *     server's go-ahead, for tls_handshake_start.
 * Library code: errors come back as text. */
#ifndef SOCKCTL_STARTTLS_H
#define SOCKCTL_STARTTLS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/loop.h"
#include "core/sbuf.h"

struct stream;

enum starttls_proto {
	STARTTLS_SMTP,
	STARTTLS_LMTP,
	STARTTLS_IMAP,
	STARTTLS_POP3,
	STARTTLS_FTP,
	STARTTLS_XMPP,
	STARTTLS_POSTGRES,
	STARTTLS_LDAP,
};

/* "smtp, lmtp, imap, pop3, ftp, xmpp, postgres, ldap": for messages. */
extern const char starttls_proto_list[];
/* A name from that list (case-insensitive); false otherwise. */
bool starttls_proto_parse(const char *name, enum starttls_proto *out);
const char *starttls_proto_name(enum starttls_proto p);

/* ---- the dialogue ---- */

#define STARTTLS_BUF 16384 /* the longest reply kept (XMPP's features) */

struct starttls_talk {
	enum starttls_proto proto;
	int step;
	int open_code; /* SMTP/FTP: the code of a multi-line reply under way */
	bool offered;  /* SMTP/LMTP: STARTTLS among the EHLO reply's lines */
	char host[256], helo[256];
	char in[STARTTLS_BUF];
	size_t inlen; /* bytes received and not yet used up */
};

enum { STARTTLS_MORE, STARTTLS_DONE, STARTTLS_FAIL };

/* host: the server's name (XMPP's to=); helo: ours, for SMTP's EHLO and
 * LMTP's LHLO. What the client says first (PostgreSQL, LDAP, XMPP) is
 * appended to out. */
void starttls_talk_init(struct starttls_talk *t, enum starttls_proto p, const char *host,
			const char *helo, struct sbuf *out);
/* Bytes from the server: STARTTLS_MORE (after appending to out what to
 * send next, if anything), STARTTLS_DONE (the server agreed: the TLS
 * handshake goes next) or STARTTLS_FAIL with err (the server's reply,
 * shown safely). A server that sends more after its go-ahead fails too:
 * those bytes would be taken for the handshake's. */
int starttls_talk_feed(struct starttls_talk *t, const void *data, size_t n, struct sbuf *out,
		       char *err, size_t errlen);

/* ---- the driver ---- */

/* s: the stream, ready for the TLS handshake, with no callback set and
 * nothing wanted. s NULL: the exchange failed (errtext says why) and the
 * connection is closed. */
typedef void (*starttls_cb)(struct loop *l, struct stream *s, const char *errtext, void *arg);

struct starttls;
/* Takes s and runs the exchange on the loop, giving up after timeout_ms
 * (0 = no limit). cb runs exactly once, from the loop. NULL with err if
 * it cannot start (s is then closed). */
struct starttls *starttls_start(struct loop *l, struct stream *s, enum starttls_proto p,
				const char *host, const char *helo, int timeout_ms, starttls_cb cb,
				void *arg, char *err, size_t errlen);
/* Stops an exchange whose callback has not run: closes the connection. */
void starttls_cancel(struct starttls *st);

#endif
