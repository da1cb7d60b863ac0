/* TLS: a context made from a config struct, a stream type that carries
 * a connection's bytes through it, and the handshake stage that turns a
 * connected plain stream (from the connector, the acceptor, a proxy's
 * tunnel) into a ready TLS stream on the loop. Engines get the TLS
 * stream as any other stream and need no code of their own for it.
 * Library code: errors come back as text and a kind (for exit codes).
 *
 * A build without OpenSSL has the same functions: making a context
 * fails with "this build has no TLS" (tls_available() says so first). */
#ifndef SOCKCTL_TLS_H
#define SOCKCTL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/loop.h"

struct stream;
struct sbuf;
struct tls_pins;      /* net/tls_cert.h */
struct tls_cert_pair; /* net/tls_cert.h */

enum tls_role { TLS_CLIENT, TLS_SERVER };

/* Protocol versions for min_version/max_version; 0 = the library's. */
enum { TLS_V1_2 = 0x0303, TLS_V1_3 = 0x0304 };

struct tls_config {
	enum tls_role role;
	/* Client: the peer's chain is verified against the system store
	 * (or cafile: a PEM file, or a directory prepared with `openssl
	 * rehash`), and its name against the host given to the handshake,
	 * unless insecure. */
	bool insecure;
	const char *cafile;
	/* Client: the name sent as SNI and checked instead of the host;
	 * no_sni: send none. SNI never goes out for an IP literal. */
	const char *sni;
	bool no_sni;
	/* ALPN protocols, comma separated ("h2,http/1.1"); NULL = none.
	 * A server picks the first of the client's it has, and answers
	 * without ALPN when none matches. */
	const char *alpn;
	/* PEM certificate (chain allowed: leaf first) and key; a client's
	 * is optional, a server's required. */
	const char *cert, *key;
	/* Or the certificate, its chain and key in memory (a temporary
	 * certificate, a pair loaded with tls_cert_load_pair), used instead
	 * of cert and key when set: borrowed, the context takes references
	 * of its own. */
	const struct tls_cert_pair *pair;
	/* Client: the leaf's public key must match one of these SPKI pins
	 * (copied; NULL or empty: no pins), checked first. Then, unless
	 * insecure, the chain is verified against cafile when given; without
	 * cafile the pinned leaf stands for the CA (the system store is not
	 * used), its dates, names and purpose still checked. With insecure
	 * the pin is still required. */
	const struct tls_pins *pins;
	/* Client: a certificate that does not verify, or matches no pin,
	 * does not end the handshake: the handshake callback gets the ready
	 * stream with the failure's kind and text, so the caller can report
	 * what the server sent (tls_report) before it closes it. */
	bool report_failures;
	/* Server: require client certificates, verified against this CA
	 * file; NULL = none asked for. */
	const char *client_ca;
	int min_version, max_version; /* TLS_V1_2, TLS_V1_3, or 0 */
	const char *ciphers;	      /* TLS 1.2 and lower (OpenSSL cipher list) */
	const char *ciphersuites;     /* TLS 1.3 */
	/* A peer that closes the TCP connection without close_notify reads
	 * as the end of input instead of a truncation error. */
	bool allow_truncation;
	/* Try kernel TLS (zero-copy sendfile/splice when the kernel has it). */
	bool ktls;
};

/* Why something failed, for the program's exit status. */
enum tls_err {
	TLS_E_NONE = 0,
	TLS_E_CONFIG,	 /* a setting the library refused (ciphers, versions, ALPN) */
	TLS_E_CAFILE,	 /* cafile or client_ca cannot be loaded */
	TLS_E_CERT,	 /* our certificate or key cannot be loaded, or do not match */
	TLS_E_HANDSHAKE, /* the handshake failed (protocol, alert, peer closed) */
	TLS_E_VERIFY,	 /* the peer's certificate did not verify */
	TLS_E_PIN,	 /* the peer's public key matches none of the pins */
	TLS_E_TIMEOUT,	 /* the handshake did not finish in time */
	TLS_E_TRUNCATED, /* the peer closed without close_notify */
	TLS_E_NOTLS,	 /* a build without TLS */
};

/* Whether this build has TLS at all. */
bool tls_available(void);

struct tls_ctx;
/* NULL with *kind and err filled (OpenSSL's reason, readable). */
struct tls_ctx *tls_ctx_new(const struct tls_config *cfg, enum tls_err *kind, char *err,
			    size_t errlen);
/* Free it after the last handshake from it ended (connections already
 * made keep what they need), and before the loop: a server's failed
 * connections that still linger (a second at most) are closed then. NULL
 * is fine. */
void tls_ctx_free(struct tls_ctx *ctx);

/* The TLS stream over a connected plain stream (a socket; the TLS
 * stream takes its fd, and its ownership, and frees plain), before the
 * handshake: tls_handshake_start drives it. host: the peer's name or
 * address as the user gave it (a client checks the certificate against
 * it and sends it as SNI); NULL on a server. NULL with err on failure
 * (plain is then closed). */
struct stream *tls_stream_new(struct tls_ctx *ctx, struct stream *plain, const char *host,
			      char *err, size_t errlen);

/* ---- the handshake stage ---- */

/* s: the ready TLS stream, owned by the callee, with no callback set and
 * nothing wanted (kind TLS_E_NONE). s NULL: the handshake failed, the
 * connection is closed, and errtext says why ("certificate verify
 * failed: ...", "handshake timed out after 10 s"). With report_failures,
 * s is also given for TLS_E_VERIFY and TLS_E_PIN (with errtext): the
 * connection is up but not to be trusted, only reported on and closed. */
typedef void (*tls_handshake_cb)(struct loop *l, struct stream *s, enum tls_err kind,
				 const char *errtext, void *arg);

struct tls_handshake;
/* Takes plain (closed on any failure) and runs the handshake on the
 * loop, never blocking it, failing with TLS_E_TIMEOUT after timeout_ms
 * (0 = no limit). cb runs exactly once, from the loop, never from inside
 * tls_handshake_start. With -v (LOG_LVL_INFO) one summary line is
 * logged when it completes. NULL with err if it cannot start (plain is
 * then closed, cb never runs). */
struct tls_handshake *tls_handshake_start(struct loop *l, struct tls_ctx *ctx, struct stream *plain,
					  const char *host, int timeout_ms, tls_handshake_cb cb,
					  void *arg, char *err, size_t errlen);
/* Stops a handshake whose callback has not run yet: closes the
 * connection and frees. */
void tls_handshake_cancel(struct tls_handshake *h);

/* ---- queries on a TLS stream (false/NULL for other streams) ---- */

bool tls_is(const struct stream *s);
/* The last read failed because the peer closed the TCP connection
 * without close_notify (errno was EPROTO). */
bool tls_truncated(const struct stream *s);
/* What kind of failure ended the stream: TLS_E_TRUNCATED, TLS_E_CERT
 * (a client whose certificate the server refused, or that it needed:
 * TLS 1.3 says so after the handshake, in an alert on the first read),
 * TLS_E_HANDSHAKE (another TLS-level failure), TLS_E_NONE (none, or
 * the socket's errno). */
enum tls_err tls_failure(const struct stream *s);
/* Why the last read or write failed at the TLS level (a fatal alert, a
 * bad record), or NULL when it was the socket's errno. */
const char *tls_error(const struct stream *s);
/* The summary -v logs: "TLSv1.3 TLS_AES_256_GCM_SHA384, peer CN=...,
 * verified" (+ SNI and ALPN on a server). */
void tls_summary(const struct stream *s, char *buf, size_t len);
/* Kernel TLS carries the data: whether sending, receiving is on. */
bool tls_ktls_send(const struct stream *s);
bool tls_ktls_recv(const struct stream *s);
/* The TLS library (for --version): its version as it runs and the one
 * this build was compiled against ("OpenSSL 3.0.17 1 Jul 2025"), NULL in
 * a build without TLS; whether it was built with kernel TLS (without it
 * every record goes through user space, whatever the kernel offers). */
const char *tls_lib_version(void);
const char *tls_lib_build_version(void);
bool tls_lib_ktls(void);
/* The subject of the peer's certificate when the handshake verified it
 * (a server's --client-ca, a client's default), RFC 2253 on one line
 * ("CN=alice,O=Example"): true, or false with buf "" for a plain stream,
 * a peer without one, or one not verified (--insecure). */
bool tls_peer_subject(const struct stream *s, char *buf, size_t len);
/* For a program's environment (--exec): the version and cipher, and the
 * peer's certificate subject (RFC 2253) when it sent one that verified;
 * false (all "") for other streams. */
bool tls_env_facts(const struct stream *s, char *version, size_t vlen, char *cipher, size_t clen,
		   char *subject, size_t slen);
/* The OpenSSL SSL object, for certificate reports (an `SSL *`). */
void *tls_native(const struct stream *s);
/* A client's certificate report (tls_cert_info of net/tls_cert.h): the
 * handshake's facts (version, cipher, ALPN, the SNI sent, the
 * verification result as the handshake settled it, pins included) and
 * the chain the server sent, as text or one JSON object on one line,
 * appended to out, days counted from now. Nothing for other streams. */
void tls_report(const struct stream *s, struct sbuf *out, bool json, time_t now);
/* Whole days from now until the peer's certificate expires, rounded
 * down (negative once expired); false without one. */
bool tls_peer_days_left(const struct stream *s, time_t now, long *days);

/* Parses "1.2" or "1.3" into TLS_V1_2/TLS_V1_3; false otherwise. */
bool tls_version_parse(const char *s, int *out);

#endif
