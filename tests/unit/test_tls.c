/* The TLS stream and the handshake stage over a socketpair, with both
 * ends in this process, on every mux backend: serve's echo engine on the
 * server's TLS stream (no TLS code in it), a client whose first write on
 * a stream that has not shaken hands needs the fd READABLE (WANT_READ on
 * write), reads small enough that most of each record waits inside the
 * stream (SSL_pending, which the fd never reports), close_notify both
 * ways, a truncation, the thread model's blocking handler on a TLS
 * stream (stream_wait), TLS inside TLS, and the context's errors. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/loop.h"
#include "net/stream.h"
#include "net/tls.h"
#include "proc/model.h"
#include "serve/serve.h"
#include "tap.h"
#include "unit_loop.h"

#define N	  (4 << 20) /* bytes through the echo */
#define READ_MOST 1000	    /* a client read: much less than a record */

static char dir[64], cert[96], key[96], key2[96];

static EVP_PKEY *write_key(const char *path)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	FILE *f = fopen(path, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	return k;
}

/* A self-signed certificate for localhost and 127.0.0.1, and a second
 * key that does not match it. */
static void make_cert(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_tls.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	snprintf(key2, sizeof key2, "%s/key2.pem", dir);
	EVP_PKEY *k = write_key(key);
	EVP_PKEY_free(write_key(key2));
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
				   -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_CTX v;
	X509V3_set_ctx_nodb(&v);
	X509V3_set_ctx(&v, x, x, NULL, NULL, 0);
	X509_EXTENSION *e =
	    X509V3_EXT_conf_nid(NULL, &v, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(x, k, EVP_sha256());
	FILE *f = fopen(cert, "w");
	PEM_write_X509(f, x);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

static struct tls_ctx *ctx(enum tls_role role, bool allow_trunc)
{
	struct tls_config c = {.role = role, .allow_truncation = allow_trunc};
	if (role == TLS_SERVER)
		c.cert = cert, c.key = key;
	else
		c.cafile = cert;
	enum tls_err kind;
	char err[300];
	struct tls_ctx *x = tls_ctx_new(&c, &kind, err, sizeof err);
	if (!x)
		printf("# tls_ctx_new: %s\n", err);
	return x;
}

/* ---- the echo: serve's engine on the server end ---- */

struct client {
	struct stream *s;
	unsigned char *out, *in;
	size_t sent, got;
	bool shut, eof, wanted_read_to_write, failed;
	int small_reads_left_pending; /* reads after which bytes still waited inside */
};

static void client_want(struct client *c)
{
	int w = c->eof ? 0 : STREAM_READ;
	if (c->sent < N || !c->shut)
		w |= STREAM_WRITE;
	stream_want(c->s, w);
	if (!w)
		loop_stop(c->s->loop);
}

static void on_client(struct stream *s, int ready, void *arg)
{
	struct client *c = arg;
	if (ready & STREAM_WRITE) {
		if (c->sent < N) {
			ssize_t w = stream_write(s, c->out + c->sent, N - c->sent);
			if (w > 0)
				c->sent += (size_t)w;
			else if (errno == EAGAIN && s->ops->events(s, STREAM_WRITE) == MUX_READ)
				c->wanted_read_to_write = true;
			else if (errno != EAGAIN)
				c->failed = true;
		} else if (!c->shut && stream_shutdown_write(s) == 0) {
			c->shut = true;
		}
	}
	if (ready & STREAM_READ) {
		/* One small read per callback: the rest of the record must
		 * come back without the fd being readable. */
		ssize_t n = stream_read(s, c->in + c->got, READ_MOST);
		if (n > 0) {
			c->got += (size_t)n;
			if (stream_pending(s))
				c->small_reads_left_pending++;
		} else if (n == 0) {
			c->eof = true;
		} else if (errno != EAGAIN) {
			c->failed = true;
			c->eof = true;
		}
	}
	if (c->failed)
		c->eof = c->shut = true, c->sent = N;
	client_want(c);
}

static void on_server_hs(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
			 void *arg)
{
	(void)l;
	if (!s) {
		printf("# server handshake: %s (%d)\n", errtext, kind);
		loop_stop(l);
		return;
	}
	serve_take(arg, s, NULL);
}

static void t_echo(void)
{
	struct loop *l = mkloop();
	struct tls_ctx *sc = ctx(TLS_SERVER, false), *cc = ctx(TLS_CLIENT, false);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	/* keep_open: the server's end of the connection must not stop the
	 * loop before the client has read the last of the echo. */
	struct serve_cfg cfg = {
	    .lfd = -1, .handler = SERVE_ECHO, .keep_open = true, .in_fd = -1, .out_fd = -1};
	char err[300];
	struct serve_server *srv = serve_new(l, &cfg, err, sizeof err);
	struct tls_handshake *h =
	    tls_handshake_start(l, sc, stream_socket_new(l, sv[0], STREAM_F_OWN), NULL, 5000,
				on_server_hs, srv, err, sizeof err);
	struct client c = {.out = malloc(N), .in = malloc(N + 1)};
	for (size_t i = 0; i < N; i++)
		c.out[i] = (unsigned char)(i * 7 + i / 65536);
	/* The client's stream skips the handshake stage: its first write
	 * sends the hello and then needs the server's answer (READ). */
	c.s = tls_stream_new(cc, stream_socket_new(l, sv[1], STREAM_F_OWN), "localhost", err,
			     sizeof err);
	stream_set_cb(c.s, on_client, &c);
	client_want(&c);
	ok(srv && h && c.s, "%s: server, handshake and client started", B);
	loop_run(l);
	ok(!c.failed && c.got == N && memcmp(c.in, c.out, N) == 0,
	   "%s: echo through TLS, byte-exact (%zu of %d)", B, c.got, N);
	ok(c.eof && c.shut, "%s: close_notify both ways ends both sides", B);
	ok(c.wanted_read_to_write, "%s: a write waited for the fd to be READABLE", B);
	ok(c.small_reads_left_pending > 100,
	   "%s: bytes held inside the stream were read without the fd (%d times)", B,
	   c.small_reads_left_pending);
	char sum[300];
	tls_summary(c.s, sum, sizeof sum);
	ok(strstr(sum, "TLSv1.3") && strstr(sum, "CN=localhost") && strstr(sum, "verified"),
	   "%s: summary: %s", B, sum);
	stream_close(c.s);
	serve_free(srv);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
	free(c.out);
	free(c.in);
	loop_free(l);
}

/* ---- a peer that closes without close_notify ---- */

struct trunc {
	struct stream *cs;
	char buf[64];
	size_t got;
	ssize_t last;
	int err;
	int done;
};

static void on_trunc_read(struct stream *s, int ready, void *arg)
{
	(void)ready;
	struct trunc *t = arg;
	ssize_t n = stream_read(s, t->buf + t->got, sizeof t->buf - t->got);
	if (n > 0) {
		t->got += (size_t)n;
		return;
	}
	if (n < 0 && errno == EAGAIN)
		return;
	t->last = n;
	t->err = n < 0 ? errno : 0;
	stream_want(s, 0);
	loop_stop(s->loop);
}

static void on_trunc_server(struct loop *l, struct stream *s, enum tls_err kind,
			    const char *errtext, void *arg)
{
	(void)kind, (void)errtext, (void)arg, (void)l;
	/* Bytes, then the TCP close without close_notify (the stream's
	 * close would send one: the socket's write side is gone first). */
	if (s) {
		stream_write(s, "hello", 5);
		shutdown(s->fd, SHUT_WR);
		stream_close(s);
	}
}

static void on_trunc_client(struct loop *l, struct stream *s, enum tls_err kind,
			    const char *errtext, void *arg)
{
	(void)l;
	struct trunc *t = arg;
	t->cs = s;
	if (!s) {
		printf("# client handshake: %s (%d)\n", errtext, kind);
		loop_stop(l);
		return;
	}
	stream_set_cb(s, on_trunc_read, t);
	stream_want(s, STREAM_READ);
}

static void t_truncation(bool allow)
{
	struct loop *l = mkloop();
	struct tls_ctx *sc = ctx(TLS_SERVER, false), *cc = ctx(TLS_CLIENT, allow);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	char err[300];
	struct trunc t = {0};
	tls_handshake_start(l, sc, stream_socket_new(l, sv[0], STREAM_F_OWN), NULL, 5000,
			    on_trunc_server, NULL, err, sizeof err);
	tls_handshake_start(l, cc, stream_socket_new(l, sv[1], STREAM_F_OWN), "127.0.0.1", 5000,
			    on_trunc_client, &t, err, sizeof err);
	loop_run(l);
	ok(t.got == 5 && memcmp(t.buf, "hello", 5) == 0, "%s: the bytes before the close arrive",
	   B);
	if (allow)
		ok(t.last == 0 && !tls_truncated(t.cs),
		   "%s: allowed truncation reads as the end (%zd)", B, t.last);
	else
		ok(t.last == -1 && t.err == EPROTO && tls_truncated(t.cs) && tls_error(t.cs),
		   "%s: truncation: -1 with EPROTO (%zd, %s), %s", B, t.last, strerror(t.err),
		   t.cs ? tls_error(t.cs) : "");
	stream_close(t.cs);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
	loop_free(l);
}

/* ---- the thread model's handler, blocking, on a TLS stream ---- */

struct pair {
	struct stream *s[2];
	int n;
};

static void on_pair_hs(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
		       void *arg)
{
	(void)kind;
	struct pair *p = arg;
	if (!s)
		printf("# handshake: %s\n", errtext);
	p->s[s && tls_native(s) && SSL_is_server(tls_native(s)) ? 0 : 1] = s;
	if (++p->n == 2)
		loop_stop(l);
}

static void *job_main(void *arg)
{
	model_job_run(arg);
	return NULL;
}

static void t_model(void)
{
	struct loop *l = mkloop();
	struct tls_ctx *sc = ctx(TLS_SERVER, false), *cc = ctx(TLS_CLIENT, false);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	char err[300];
	struct pair p = {0};
	/* The handshakes on the loop, as serve does before the hand-over. */
	tls_handshake_start(l, sc, stream_socket_new(l, sv[0], STREAM_F_OWN), NULL, 5000,
			    on_pair_hs, &p, err, sizeof err);
	tls_handshake_start(l, cc, stream_socket_new(l, sv[1], STREAM_F_OWN), "localhost", 5000,
			    on_pair_hs, &p, err, sizeof err);
	loop_run(l);
	ok(p.s[0] && p.s[1], "%s: both handshakes done", B);
	if (!p.s[0] || !p.s[1])
		return;
	struct model_job j = {.s = p.s[0], .kind = MODEL_JOB_ECHO};
	pthread_t th;
	pthread_create(&th, NULL, job_main, &j);
	unsigned char *out = malloc(N), *in = malloc(N + 1);
	for (size_t i = 0; i < N; i++)
		out[i] = (unsigned char)(i * 13 + i / 4096);
	size_t sent = 0, got = 0;
	bool shut = false, eof = false, failed = false;
	struct stream *c = p.s[1];
	while (!eof && !failed) {
		int want = STREAM_READ | (sent < N || !shut ? STREAM_WRITE : 0);
		int r = stream_wait(c, want, 10000);
		if (r <= 0) {
			failed = true;
			break;
		}
		if ((r & STREAM_WRITE) && sent < N) {
			ssize_t w = stream_write(c, out + sent, N - sent);
			if (w > 0)
				sent += (size_t)w;
			else if (errno != EAGAIN)
				failed = true;
		} else if ((r & STREAM_WRITE) && !shut) {
			shut = stream_shutdown_write(c) == 0;
		}
		if (r & STREAM_READ) {
			ssize_t n = stream_read(c, in + got, N + 1 - got);
			if (n > 0)
				got += (size_t)n;
			else if (n == 0)
				eof = true;
			else if (errno != EAGAIN)
				failed = true;
		}
	}
	pthread_join(th, NULL);
	ok(!failed && eof && got == N && memcmp(in, out, N) == 0 && j.in == N && j.out == N,
	   "%s: the thread model's echo on a TLS stream, both ends blocking, byte-exact (%zu of "
	   "%d)",
	   B, got, N);
	stream_close(c);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
	free(out);
	free(in);
	loop_free(l);
}

/* ---- a server that requires a client certificate, a client without ---- */

struct refused {
	struct stream *cs;
	bool server_failed;
	enum tls_err kind;
	int reads;
};

static void on_refused_read(struct stream *s, int ready, void *arg)
{
	(void)ready;
	struct refused *r = arg;
	char b[64];
	ssize_t n = stream_read(s, b, sizeof b);
	if (n < 0 && errno == EAGAIN)
		return;
	r->reads++;
	r->kind = tls_failure(s);
	stream_want(s, 0);
	loop_stop(s->loop);
}

static void on_refused_server(struct loop *l, struct stream *s, enum tls_err kind,
			      const char *errtext, void *arg)
{
	(void)l, (void)kind, (void)errtext;
	struct refused *r = arg;
	r->server_failed = !s;
	stream_close(s);
}

static void on_refused_client(struct loop *l, struct stream *s, enum tls_err kind,
			      const char *errtext, void *arg)
{
	(void)kind, (void)errtext;
	struct refused *r = arg;
	r->cs = s;
	if (!s) {
		loop_stop(l);
		return;
	}
	/* Data at once, as a TLS 1.3 client may: the server must read it
	 * away before it closes (it lingers). */
	stream_write(s, "early", 5);
	stream_set_cb(s, on_refused_read, r);
	stream_want(s, STREAM_READ);
}

static void t_client_cert_required(void)
{
	struct loop *l = mkloop();
	struct tls_config c = {.role = TLS_SERVER, .cert = cert, .key = key, .client_ca = cert};
	enum tls_err kind;
	char err[300];
	struct tls_ctx *sc = tls_ctx_new(&c, &kind, err, sizeof err), *cc = ctx(TLS_CLIENT, false);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	struct refused r = {0};
	tls_handshake_start(l, sc, stream_socket_new(l, sv[0], STREAM_F_OWN), NULL, 5000,
			    on_refused_server, &r, err, sizeof err);
	tls_handshake_start(l, cc, stream_socket_new(l, sv[1], STREAM_F_OWN), "localhost", 5000,
			    on_refused_client, &r, err, sizeof err);
	loop_run(l);
	ok(r.server_failed && r.cs && r.kind == TLS_E_CERT,
	   "%s: no client certificate: the server's handshake fails, the client's first read "
	   "says its certificate was wanted (%d: %s)",
	   B, r.kind, r.cs ? tls_error(r.cs) : "");
	stream_close(r.cs);
	/* The server's failed connection may still linger: the context
	 * closes it (before the loop goes). */
	tls_ctx_free(sc);
	tls_ctx_free(cc);
	loop_free(l);
}

/* ---- contexts ---- */

static void t_ctx_errors(void)
{
	enum tls_err kind;
	char err[300];
	struct tls_config c = {.role = TLS_SERVER, .cert = cert, .key = key2};
	struct tls_ctx *x = tls_ctx_new(&c, &kind, err, sizeof err);
	ok(!x && kind == TLS_E_CERT && strstr(err, "does not match"), "key not matching: %s", err);
	c = (struct tls_config){.role = TLS_CLIENT, .cafile = "/nonexistent/ca.pem"};
	x = tls_ctx_new(&c, &kind, err, sizeof err);
	ok(!x && kind == TLS_E_CAFILE && strstr(err, "No such file"), "missing CA file: %s", err);
	c = (struct tls_config){.role = TLS_CLIENT, .cafile = key};
	x = tls_ctx_new(&c, &kind, err, sizeof err);
	ok(!x && kind == TLS_E_CAFILE, "a CA file without certificates: %s", err);
	c = (struct tls_config){.role = TLS_CLIENT, .ciphersuites = "NOPE"};
	x = tls_ctx_new(&c, &kind, err, sizeof err);
	ok(!x && kind == TLS_E_CONFIG, "bad ciphersuites: %s", err);
	c = (struct tls_config){.role = TLS_CLIENT, .alpn = "h2,"};
	x = tls_ctx_new(&c, &kind, err, sizeof err);
	ok(!x && kind == TLS_E_CONFIG, "bad ALPN list: %s", err);
	int v;
	ok(tls_version_parse("1.3", &v) && v == TLS_V1_3 && !tls_version_parse("1.1", &v),
	   "versions: 1.2 and 1.3 only");
}

/* ---- TLS inside TLS (through a TLS proxy's tunnel) ---- */

static void t_nested(void)
{
	struct loop *l = mkloop();
	struct tls_ctx *sc = ctx(TLS_SERVER, false), *cc = ctx(TLS_CLIENT, false);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	char err[300];
	struct pair p = {0};
	tls_handshake_start(l, sc, stream_socket_new(l, sv[0], STREAM_F_OWN), NULL, 5000,
			    on_pair_hs, &p, err, sizeof err);
	tls_handshake_start(l, cc, stream_socket_new(l, sv[1], STREAM_F_OWN), "localhost", 5000,
			    on_pair_hs, &p, err, sizeof err);
	loop_run(l);
	ok(p.s[0] && p.s[1], "%s: nested: the outer handshake", B);
	if (!p.s[0] || !p.s[1]) {
		stream_close(p.s[0]);
		stream_close(p.s[1]);
		tls_ctx_free(sc);
		tls_ctx_free(cc);
		loop_free(l);
		return;
	}
	/* The second TLS over the first, on both ends: the echo again. */
	struct serve_cfg cfg = {
	    .lfd = -1, .handler = SERVE_ECHO, .keep_open = true, .in_fd = -1, .out_fd = -1};
	struct serve_server *srv = serve_new(l, &cfg, err, sizeof err);
	struct tls_handshake *h =
	    tls_handshake_start(l, sc, p.s[0], NULL, 5000, on_server_hs, srv, err, sizeof err);
	struct client c = {.out = malloc(N), .in = malloc(N + 1)};
	for (size_t i = 0; i < N; i++)
		c.out[i] = (unsigned char)(i * 13 + i / 4096);
	c.s = tls_stream_new(cc, p.s[1], "localhost", err, sizeof err);
	stream_set_cb(c.s, on_client, &c);
	client_want(&c);
	ok(srv && h && c.s, "%s: nested: inner server, handshake and client started", B);
	loop_run(l);
	ok(!c.failed && c.got == N && memcmp(c.in, c.out, N) == 0,
	   "%s: nested: echo through TLS inside TLS, byte-exact (%zu of %d)", B, c.got, N);
	ok(c.eof && c.shut, "%s: nested: close_notify both ways ends both sides", B);
	char sum[300];
	tls_summary(c.s, sum, sizeof sum);
	ok(strstr(sum, "TLSv1.3") && strstr(sum, "verified"), "%s: nested: summary: %s", B, sum);
	stream_close(c.s);
	serve_free(srv);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
	free(c.out);
	free(c.in);
	loop_free(l);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	alarm(120);
	make_cert();
	t_ctx_errors();
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_echo();
		t_truncation(false);
		t_truncation(true);
		t_model();
		t_client_cert_required();
		t_nested();
	}
	unlink(cert);
	unlink(key);
	unlink(key2);
	rmdir(dir);
	tap_done();
}
