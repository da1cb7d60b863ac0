/* Client side of HTTP CONNECT, SOCKS4/4a and SOCKS5 (with USER:PASS), as
 * pure encoders/decoders plus a non-blocking handshake on a connected stream
 * and a driver for the event loop. No printing; errors come back as text. */
#ifndef SOCKCTL_PROXY_H
#define SOCKCTL_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"

struct tls_ctx;

enum proxy_type { PROXY_HTTP, PROXY_SOCKS4, PROXY_SOCKS5 };

struct proxy_target {
	enum proxy_type type;
	const char *host; /* name or address literal; plain SOCKS4 needs IPv4, a
			     name makes it SOCKS4a */
	uint16_t port;
	const char *user, *pass; /* NULL: no authentication */
	/* An https proxy (PROXY_HTTP only): TLS to the proxy itself first,
	 * verified for tls_host (the proxy's name as the user gave it), then
	 * the CONNECT inside it; the tunnel is the TLS stream. NULL: none.
	 * Not owned: it must outlive the handshake. */
	struct tls_ctx *tls;
	const char *tls_host;
};

/* "http", "socks4", "socks5" (also "socks4a", "socks5h"). */
bool proxy_type_parse(const char *s, enum proxy_type *out);
const char *proxy_type_name(enum proxy_type t);
/* Splits "USER:PASS" (at the first ':') into the caller's buffers. */
bool proxy_auth_parse(const char *s, char *user, size_t ulen, char *pass, size_t plen);

/* ---- pure encoders: bytes written, or 0 with err ---- */
size_t proxy_base64(const void *in, size_t n, char *out, size_t outlen);
size_t proxy_http_request(const struct proxy_target *t, char *out, size_t outlen, char *err,
			  size_t errlen);
size_t proxy_socks4_request(const struct proxy_target *t, uint8_t *out, size_t outlen, char *err,
			    size_t errlen);
size_t proxy_socks5_greeting(const struct proxy_target *t, uint8_t *out, size_t outlen);
size_t proxy_socks5_auth(const struct proxy_target *t, uint8_t *out, size_t outlen, char *err,
			 size_t errlen);
size_t proxy_socks5_request(const struct proxy_target *t, uint8_t *out, size_t outlen, char *err,
			    size_t errlen);

/* ---- pure decoders: 0 ok, -1 with err ---- */
/* The head of an HTTP response: returns its length when complete and the
 * status is 2xx, 0 when more bytes are needed, -1 on refusal or garbage. */
long proxy_http_response(const char *buf, size_t len, char *err, size_t errlen);
int proxy_socks4_reply(const uint8_t *b, size_t n, char *err, size_t errlen);
/* *method: 0 none, 2 user/pass. */
int proxy_socks5_method(const uint8_t *b, size_t n, bool have_auth, int *method, char *err,
			size_t errlen);
int proxy_socks5_auth_reply(const uint8_t *b, size_t n, char *err, size_t errlen);
/* Total length of a SOCKS5 reply, from its first 5 bytes; -1 if bad. */
long proxy_socks5_reply_len(const uint8_t *b, size_t n, char *err, size_t errlen);
int proxy_socks5_reply(const uint8_t *b, size_t n, char *err, size_t errlen);

/* ---- the handshake as a state machine on a connected stream ---- */
enum { PROXY_DONE = 0, PROXY_WANT_READ = 1, PROXY_WANT_WRITE = 2, PROXY_FAIL = -1 };
#define PROXY_HEAD_MAX 8192
struct proxy_hs {
	struct proxy_target t; /* strings point into the caller's memory */
	int stage;
	int method;
	uint8_t out[1024];
	size_t outlen, outoff;
	uint8_t in[PROXY_HEAD_MAX];
	size_t inlen, want;
};
/* Prepares the first message. Returns 0 or -1 with err (bad target). */
int proxy_hs_init(struct proxy_hs *h, const struct proxy_target *t, char *err, size_t errlen);
struct stream;
/* Sends and reads what it can. Never reads past the proxy's answer, so
 * bytes that follow belong to the tunnel and stay in the stream. Returns
 * PROXY_DONE, PROXY_WANT_READ/WRITE (wait and call again) or PROXY_FAIL. */
int proxy_hs_step(struct proxy_hs *h, struct stream *s, char *err, size_t errlen);

/* ---- on the loop ---- */
/* s: the tunnel is up, the stream is the caller's again (no callback,
 * nothing wanted); s NULL: failed, the stream is closed and errtext says
 * why. Called once, from the loop. */
typedef void (*proxy_cb)(struct loop *l, struct stream *s, const char *errtext, void *arg);
struct proxy_conn;
/* Takes ownership of s, also when it fails (NULL with err: s is closed
 * then). The target's strings must outlive the handshake.
 * timeout_ms 0 = 30 s, for the TLS handshake with an https proxy and
 * the proxy's answer together. */
struct proxy_conn *proxy_start(struct loop *l, struct stream *s, const struct proxy_target *t,
			       int timeout_ms, proxy_cb cb, void *arg, char *err, size_t errlen);
void proxy_cancel(struct proxy_conn *c);

#endif
