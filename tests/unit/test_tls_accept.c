/* net/tls_accept over socketpairs, both ends in this process, on every
 * mux backend: a handshake that completes hands a ready stream to the
 * server (here the http engine, which answers a GET on it and sends a
 * file through its copy path: a TLS stream has no sendfile), one that
 * fails or runs out of time reaches the failed callback, cancelling
 * closes what is under way, and the count of handshakes under way (what
 * http serve and chat serve hold against their limits) follows. Over TCP:
 * http serve's TLS connections have TCP_NODELAY, set before the
 * handshake (the TLS stream hides its fd). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "core/loop.h"
#include "core/sbuf.h"
#include "http/http_mime.h"
#include "http/http_serve.h"
#include "net/sock.h"
#include "net/stream.h"
#include "net/tls.h"
#include "net/tls_accept.h"
#include "net/tls_cert.h"
#include "tap.h"
#include "unit_loop.h"

#define FSIZE (300 * 1000) /* the file the GET fetches */

static char dir[64], cert[96], key[96];

/* The temporary certificate (localhost, 127.0.0.1) in PEM files. */
static void make_cert(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_tls_accept.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	const char *dns[] = {"localhost"}, *ips[] = {"127.0.0.1"};
	struct tls_cert_pair p;
	char err[300];
	if (tls_cert_temporary(dns, 1, ips, 1, time(NULL), &p, err, sizeof err) < 0) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	struct sbuf pem;
	sb_init(&pem);
	tls_cert_pem(p.leaf, &pem);
	FILE *f = fopen(cert, "w");
	fwrite(pem.p, 1, pem.len, f);
	fclose(f);
	f = fopen(key, "w");
	PEM_write_PrivateKey(f, p.key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	sb_free(&pem);
	tls_cert_pair_free(&p);
}

static struct tls_ctx *ctx(enum tls_role role)
{
	struct tls_config c = {.role = role};
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

/* ---- what the set reports ---- */

struct seen {
	struct http_server *srv; /* NULL: close what comes */
	int ready, failed;
	enum tls_err kind;
	char subject[64];
	bool subject_found;
	int n_at_ready; /* handshakes under way when one completed */
	struct tls_accepts *set;
};

static void on_ready(void *arg, struct stream *s, const struct sock_addr *peer)
{
	(void)peer;
	struct seen *w = arg;
	w->ready++;
	w->n_at_ready = w->set->n;
	w->subject_found = tls_peer_subject(s, w->subject, sizeof w->subject);
	if (w->srv)
		http_server_adopt(w->srv, s, "peer");
	else
		stream_close(s);
}

static void on_failed(void *arg, enum tls_err kind, const char *errtext)
{
	(void)errtext;
	struct seen *w = arg;
	w->failed++;
	w->kind = kind;
	loop_stop(w->set->l);
}

/* ---- a client that GETs a file over TLS ---- */

struct getter {
	struct stream *s;
	const char *req;
	size_t sent;
	char *in;
	size_t got, cap;
	bool eof, failed;
};

static void on_getter(struct stream *s, int ready, void *arg)
{
	struct getter *g = arg;
	if ((ready & STREAM_WRITE) && g->req[g->sent]) {
		ssize_t w = stream_write(s, g->req + g->sent, strlen(g->req + g->sent));
		if (w > 0)
			g->sent += (size_t)w;
		else if (errno != EAGAIN)
			g->failed = true;
	}
	if (ready & STREAM_READ) {
		ssize_t n = stream_read(s, g->in + g->got, g->cap - g->got);
		if (n > 0)
			g->got += (size_t)n;
		else if (n == 0 || errno != EAGAIN)
			g->eof = true, g->failed = n < 0;
	}
	if (g->eof || g->failed || g->got == g->cap) {
		stream_want(s, 0);
		loop_stop(s->loop);
		return;
	}
	stream_want(s, STREAM_READ | (g->req[g->sent] ? STREAM_WRITE : 0));
}

static void t_ready_and_serve(const char *file)
{
	struct loop *l = mkloop();
	struct tls_ctx *sc = ctx(TLS_SERVER), *cc = ctx(TLS_CLIENT);
	struct http_server srv = {
	    .cfg = {.rootfd = open(dir, O_RDONLY | O_DIRECTORY),
		    .status = 200,
		    .mime = http_mime_parse("application/x-test bin\n", 23)},
	    .lfd = -1,
	    .max_conns = 10,
	    .header_ms = 10000,
	    .idle_ms = 10000,
	    .send_ms = 10000,
	    .log_format = HTTP_LOG_NONE,
	};
	http_server_start(&srv, l);
	struct tls_accepts set;
	struct seen w = {.srv = &srv, .set = &set};
	tls_accepts_init(&set, l, sc, 5000, on_ready, &w);
	set.failed = on_failed;
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	bool started = tls_accepts_start(&set, stream_socket_new(l, sv[0], STREAM_F_OWN), NULL);
	ok(started && set.n == 1, "%s: one handshake under way", B);
	char err[300];
	struct getter g = {.req = "GET /f.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			   .cap = FSIZE + 4096};
	g.in = malloc(g.cap);
	g.s = tls_stream_new(cc, stream_socket_new(l, sv[1], STREAM_F_OWN), "localhost", err,
			     sizeof err);
	stream_set_cb(g.s, on_getter, &g);
	stream_want(g.s, STREAM_WRITE);
	loop_run(l);
	ok(w.ready == 1 && w.failed == 0 && set.n == 0 && w.n_at_ready == 0,
	   "%s: ready once, nothing left under way", B);
	ok(!w.subject_found && w.subject[0] == '\0', "%s: no client certificate, no subject", B);
	const char *body = g.got ? memmem(g.in, g.got, "\r\n\r\n", 4) : NULL;
	ok(!g.failed && body && strncmp(g.in, "HTTP/1.1 200 ", 13) == 0 &&
	       g.got - (size_t)(body + 4 - g.in) == FSIZE && memcmp(body + 4, file, FSIZE) == 0,
	   "%s: the http engine answered on the TLS stream, the file byte-exact (%zu bytes)", B,
	   g.got);
	ok(srv.bytes_zero_copy == 0 && srv.bytes_copied == FSIZE,
	   "%s: the file went by the copy path (%llu copied, %llu by sendfile)", B,
	   (unsigned long long)srv.bytes_copied, (unsigned long long)srv.bytes_zero_copy);
	stream_close(g.s);
	free(g.in);
	http_server_stop(&srv);
	close(srv.cfg.rootfd);
	http_mime_free(srv.cfg.mime);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
	loop_free(l);
}

/* A client that closes at once, and one that never speaks. */
static void t_failures(void)
{
	struct loop *l = mkloop();
	struct tls_ctx *sc = ctx(TLS_SERVER);
	struct tls_accepts set;
	struct seen w = {.set = &set};
	tls_accepts_init(&set, l, sc, 100, on_ready, &w);
	set.failed = on_failed;
	int a[2], b[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b);
	tls_accepts_start(&set, stream_socket_new(l, a[0], STREAM_F_OWN), NULL);
	tls_accepts_start(&set, stream_socket_new(l, b[0], STREAM_F_OWN), NULL);
	ok(set.n == 2, "%s: two handshakes under way", B);
	close(a[1]);
	loop_run(l);
	ok(w.failed == 1 && w.kind == TLS_E_HANDSHAKE && set.n == 1 && w.ready == 0,
	   "%s: a client gone before its hello fails its handshake (kind %d)", B, w.kind);
	loop_run(l);
	ok(w.failed == 2 && w.kind == TLS_E_TIMEOUT && set.n == 0,
	   "%s: a client that never speaks times out (kind %d)", B, w.kind);
	char c;
	ok(read(b[1], &c, 1) == 0, "%s: its connection is closed", B);
	close(b[1]);
	/* Cancelling: what is under way closes, nothing is called. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	tls_accepts_start(&set, stream_socket_new(l, a[0], STREAM_F_OWN), NULL);
	tls_accepts_cancel(&set);
	ok(set.n == 0 && set.list == NULL && w.failed == 2 && read(a[1], &c, 1) == 0,
	   "%s: cancel closes the connections under way", B);
	close(a[1]);
	tls_ctx_free(sc);
	loop_free(l);
}

/* ---- http serve over TCP: TCP_NODELAY on a TLS connection ---- */

struct tcp_client {
	struct http_server *srv;
	struct stream *s;
	bool done, ok;
	int nodelay;
};

static void on_poll(struct loop *l, void *arg);
static struct timer poll_timer;

static void on_client_hs(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
			 void *arg)
{
	(void)kind;
	struct tcp_client *c = arg;
	if (!s)
		printf("# client handshake: %s\n", errtext);
	c->ok = s != NULL;
	c->s = s; /* open until the server's side is looked at */
	/* The server takes the connection once the client's Finished is in. */
	timer_init(&poll_timer, on_poll, c);
	loop_timer_start(l, &poll_timer, 1);
}

static void on_poll(struct loop *l, void *arg)
{
	struct tcp_client *c = arg;
	struct http_conn *hc = c->srv->conns;
	if (!hc && c->srv->hs.n) {
		loop_timer_start(l, &poll_timer, 1);
		return;
	}
	socklen_t len = sizeof c->nodelay;
	if (hc && getsockopt(hc->s->fd, IPPROTO_TCP, TCP_NODELAY, &c->nodelay, &len) < 0)
		c->nodelay = -1;
	c->done = true;
	loop_stop(l);
}

static void t_nodelay(void)
{
	struct loop *l = mkloop();
	struct tls_ctx *sc = ctx(TLS_SERVER), *cc = ctx(TLS_CLIENT);
	struct sock_endpoint ep = {.host = "127.0.0.1", .port = "0", .socktype = SOCK_STREAM};
	struct sock_addr bound;
	char err[300], port[16], host[64];
	int lfd =
	    sock_listen(&ep, &(struct sock_listen_opts){.backlog = 8}, &bound, err, sizeof err);
	sock_addr_parts((struct sockaddr *)&bound.ss, bound.len, host, sizeof host, port,
			sizeof port);
	struct http_server srv = {
	    .cfg = {.rootfd = -1, .respond = true, .status = 200},
	    .lfd = lfd,
	    .max_conns = 10,
	    .header_ms = 10000,
	    .idle_ms = 10000,
	    .send_ms = 10000,
	    .log_format = HTTP_LOG_NONE,
	    .tls = sc,
	    .handshake_ms = 5000,
	};
	http_server_start(&srv, l);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	bool conn =
	    connect(fd, (struct sockaddr *)&bound.ss, bound.len) == 0 || errno == EINPROGRESS;
	struct tcp_client c = {.srv = &srv};
	struct tls_handshake *h =
	    tls_handshake_start(l, cc, stream_socket_new(l, fd, STREAM_F_OWN), "127.0.0.1", 5000,
				on_client_hs, &c, err, sizeof err);
	ok(lfd >= 0 && conn && h, "%s: listening on %s, connected, handshake started", B, port);
	loop_run(l);
	ok(c.done && c.ok && c.nodelay == 1, "%s: http serve's TLS connection has TCP_NODELAY (%d)",
	   B, c.nodelay);
	stream_close(c.s);
	http_server_stop(&srv);
	close(lfd);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
	loop_free(l);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	alarm(60);
	make_cert();
	char path[128];
	snprintf(path, sizeof path, "%s/f.bin", dir);
	char *file = malloc(FSIZE);
	for (size_t i = 0; i < FSIZE; i++)
		file[i] = (char)(i * 13 + i / 1000);
	FILE *f = fopen(path, "w");
	fwrite(file, 1, FSIZE, f);
	fclose(f);
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_ready_and_serve(file);
		t_failures();
		t_nodelay();
	}
	unlink(path);
	unlink(cert);
	unlink(key);
	rmdir(dir);
	free(file);
	tap_done();
}
