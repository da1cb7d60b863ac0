/* The http get engine (src/http/http_client.c) against a scripted server
 * thread: over a socketpair as a plain stream and as the fake TLS-like
 * stream (tests/unit/fake_stream.h), and over loopback TCP through the
 * connector; a Content-Length body and a chunked one split at awkward
 * places, two requests on one kept-alive connection, the bodies byte for
 * byte through a pipe read slowly, on every mux backend, with no wasted
 * wakeups; a request body of memory and file parts (sendfile on the
 * socket, the copy path on the fake stream). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "fake_stream.h"
#include "http/http_client.h"
#include "http/http_url.h"
#include "net/stream.h"
#include "tap.h"
#include "unit_loop.h"

/* Test data: no 0xFF (the fake's token), not all alike. */
static void fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (char)((seed >> 16) % 255);
	}
}

/* ---- the responses ---- */

#define LEN_BODY   300000
#define CHUNK_BIG  100000
#define MAX_PIECES 16

struct piece {
	const char *p;
	size_t n;
};

struct exchange {
	char target[32]; /* the request line must be "GET TARGET HTTP/1.1" */
	/* The response, laid out contiguously: one send each. */
	struct piece pieces[MAX_PIECES];
	int npieces;
	/* With the fake stream: the first bytes of the response trickle out
	 * while the request still comes in (a server may answer before it
	 * has read it all), EARLY_SLICE bytes with each token. */
	bool early;
};

#define EARLY_SLICE 100
static char len_body[LEN_BODY], big[CHUNK_BIG];
static char len_resp[LEN_BODY + 64];
static size_t len_resp_n;
static char chunked_resp[CHUNK_BIG + 256];
static char expect[LEN_BODY + CHUNK_BIG + 64];
static size_t expect_n;

static void add_piece(struct exchange *e, const char *p, size_t n)
{
	e->pieces[e->npieces++] = (struct piece){p, n};
}

/* /len: Content-Length; /chunked: chunk sizes with extensions, CRLFs
 * split across sends, a large chunk in three pieces, a trailer. */
static void make_exchanges(struct exchange ex[2])
{
	fill(len_body, sizeof len_body, 11);
	fill(big, sizeof big, 12);
	int h = snprintf(len_resp, sizeof len_resp, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
			 LEN_BODY);
	memcpy(len_resp + h, len_body, LEN_BODY);
	len_resp_n = (size_t)h + LEN_BODY;
	memset(ex, 0, 2 * sizeof *ex);
	snprintf(ex[0].target, sizeof ex[0].target, "/len");
	ex[0].early = true;
	size_t mid = (size_t)h + 150000;
	add_piece(&ex[0], len_resp, (size_t)h + 1000);
	add_piece(&ex[0], len_resp + h + 1000, mid - (size_t)h - 1000);
	add_piece(&ex[0], len_resp + mid, len_resp_n - mid);

	snprintf(ex[1].target, sizeof ex[1].target, "/chunked");
	static const char *const small[] = {
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "5;name=va",
	    "l\r\nhello\r",
	    "\nf",
	    "\r\n, chunked world",
	    "\r\n",
	};
	char *w = chunked_resp;
	for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
		size_t n = strlen(small[i]);
		memcpy(w, small[i], n);
		add_piece(&ex[1], w, n);
		w += n;
	}
	int n = sprintf(w, "%x\r\n", CHUNK_BIG);
	memcpy(w + n, big, CHUNK_BIG);
	memcpy(w + n + CHUNK_BIG, "\r\n", 2);
	add_piece(&ex[1], w, (size_t)n + 7);
	add_piece(&ex[1], w + n + 7, CHUNK_BIG / 2);
	add_piece(&ex[1], w + n + 7 + CHUNK_BIG / 2, CHUNK_BIG - 7 - CHUNK_BIG / 2 + 2);
	w += n + CHUNK_BIG + 2;
	static const char end[] = "0\r\nX-Trailer: t\r\n\r\n";
	memcpy(w, end, sizeof end - 1);
	add_piece(&ex[1], w, sizeof end - 1);

	memcpy(expect, len_body, LEN_BODY);
	memcpy(expect + LEN_BODY, "hello, chunked world", 20);
	memcpy(expect + LEN_BODY + 20, big, CHUNK_BIG);
	expect_n = LEN_BODY + 20 + CHUNK_BIG;
}

/* ---- the scripted server: a thread on a blocking socket ---- */

struct server {
	int fd;	     /* connected; or listening, with accept set */
	bool accept; /* take one connection from fd first */
	bool tokens; /* the fake stream's peer: one token per write it waits for */
	const char *host;
	const struct exchange *ex;
	int nex;
	int served;
	char err[256];
};

static int send_all(int fd, const char *p, size_t n, bool token)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	unsigned char t = FAKE_TOKEN;
	return token && send(fd, &t, 1, MSG_NOSIGNAL) != 1 ? -1 : 0;
}

/* A piece and, with tokens, a token in one send: a token never arrives
 * alone while the client only reads (that would be a wakeup for
 * nothing). */
static int send_piece(struct server *sv, struct piece pc, bool token)
{
	if (!sv->tokens || !token || !pc.n)
		return send_all(sv->fd, pc.p, pc.n, sv->tokens && token);
	char *b = malloc(pc.n + 1);
	memcpy(b, pc.p, pc.n);
	b[pc.n] = (char)FAKE_TOKEN;
	int rc = send_all(sv->fd, b, pc.n + 1, false);
	free(b);
	return rc;
}

static void *serve(void *arg)
{
	struct server *sv = arg;
	char req[65536];
	if (sv->accept) {
		int c = accept(sv->fd, NULL, NULL);
		close(sv->fd);
		sv->fd = c;
		if (c < 0) {
			snprintf(sv->err, sizeof sv->err, "accept: %s", strerror(errno));
			return NULL;
		}
	}
	/* The client's first write is waiting for READ already. */
	if (sv->tokens)
		send_all(sv->fd, "", 0, true);
	for (int i = 0; i < sv->nex; i++) {
		const struct exchange *e = &sv->ex[i];
		const char *resp = e->pieces[0].p;
		size_t total = 0, early = 0, len = 0;
		for (int k = 0; k < e->npieces; k++)
			total += e->pieces[k].n;
		char *end;
		for (;;) {
			ssize_t n = recv(sv->fd, req + len, sizeof req - 1 - len, 0);
			if (n <= 0) {
				snprintf(sv->err, sizeof sv->err,
					 "request %d: the connection ended", i + 1);
				return NULL;
			}
			len += (size_t)n;
			req[len] = '\0';
			if ((end = strstr(req, "\r\n\r\n")))
				break;
			if (!sv->tokens)
				continue;
			/* Only part of the head: the client waits to write. An
			 * early slice goes with the token, a moment later, so
			 * that it arrives while the client waits for READ to
			 * write and its stream must hold it. */
			struct piece pc = {NULL, 0};
			if (e->early && early < total) {
				usleep(1000);
				pc.p = resp + early;
				pc.n = total - early < EARLY_SLICE ? total - early : EARLY_SLICE;
				early += pc.n;
			}
			send_piece(sv, pc, true);
		}
		char line[128], host[128];
		snprintf(line, sizeof line, "GET %s HTTP/1.1\r\n", e->target);
		snprintf(host, sizeof host, "\r\nHost: %s\r\n", sv->host);
		if (strncmp(req, line, strlen(line)) != 0 || !strstr(req, host) ||
		    end + 4 != req + len) {
			snprintf(sv->err, sizeof sv->err, "request %d: unexpected: %.80s", i + 1,
				 req);
			return NULL;
		}
		for (int k = 0; k < e->npieces; k++) {
			struct piece pc = e->pieces[k];
			if (early >= pc.n) {
				early -= pc.n; /* sent already */
				continue;
			}
			pc.p += early;
			pc.n -= early;
			early = 0;
			/* The last piece carries the token the next request's
			 * first write needs. */
			if (send_piece(sv, pc, k == e->npieces - 1) < 0)
				break;
			usleep(500);
		}
		sv->served++;
	}
	char c;
	while (recv(sv->fd, &c, 1, 0) > 0)
		; /* until the client closes */
	close(sv->fd);
	return NULL;
}

/* ---- the output: a pipe, read slowly so that the client must wait ---- */

struct drain {
	int fd;
	char *p;
	size_t cap, n;
};

static void *drain(void *arg)
{
	struct drain *d = arg;
	for (;;) {
		char tmp[4096];
		ssize_t r = read(d->fd, tmp, sizeof tmp);
		if (r <= 0)
			break;
		if (d->n + (size_t)r <= d->cap)
			memcpy(d->p + d->n, tmp, (size_t)r);
		d->n += (size_t)r;
		usleep(50);
	}
	close(d->fd);
	return NULL;
}

/* ---- running URLs ---- */

struct run {
	struct loop *l;
	const char *urls[4];
	int n, cur;
	enum http_client_error err[4];
	int status[4];
	uint64_t body[4];
	char text[4][160];
	struct timer guard;
	bool timed_out;
};

static void on_done(struct http_client *hc, const struct http_client_result *r, void *arg)
{
	struct run *u = arg;
	u->err[u->cur] = r->error;
	u->status[u->cur] = r->status;
	u->body[u->cur] = r->status ? r->resp->body_bytes : 0;
	snprintf(u->text[u->cur], sizeof u->text[0], "%s", r->errtext);
	if (++u->cur < u->n)
		http_client_get(hc, u->urls[u->cur], on_done, u);
	else
		loop_stop(u->l);
}

static void on_guard(struct loop *l, void *arg)
{
	((struct run *)arg)->timed_out = true;
	loop_stop(l);
}

/* A long header: the request takes thirty of the fake's 1 KiB writes,
 * each waiting for a token, and meets the early answer on the way. */
static char pad[30000];
static const char *pad_hdrs[] = {pad};

struct setup {
	struct loop *l;
	struct http_client *hc;
	struct stream *out;
	struct drain d;
	pthread_t drain_t;
	struct run run;
};

static bool setup(struct setup *s, const char *label)
{
	memset(s, 0, sizeof *s);
	s->l = mkloop();
	if (!s->l)
		return false;
	int p[2];
	if (pipe(p) < 0)
		return false;
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	s->d = (struct drain){.fd = p[0], .p = malloc(expect_n + 1), .cap = expect_n + 1};
	pthread_create(&s->drain_t, NULL, drain, &s->d);
	s->out = stream_fd_new(s->l, p[1], STREAM_F_OWN);
	memcpy(pad, "X-Pad: ", 7);
	memset(pad + 7, 'p', sizeof pad - 8);
	pad[sizeof pad - 1] = '\0';
	struct http_client_cfg cfg = {
	    .hdrs = pad_hdrs,
	    .nhdrs = 1,
	    .idle_ms = 5000,
	    .connect_ms = 5000,
	    .out = s->out,
	};
	s->hc = http_client_new(s->l, &cfg);
	ok(s->out && s->hc, "%s: %s: client made", B, label);
	s->run.l = s->l;
	timer_init(&s->run.guard, on_guard, &s->run);
	loop_timer_start(s->l, &s->run.guard, 30000);
	return s->out && s->hc;
}

/* most_idle: callbacks allowed to move nothing; spliced: the bodies
 * should have gone without a copy. */
static void check(struct setup *s, const char *label, uint64_t most_idle, bool spliced)
{
	struct run *u = &s->run;
	ok(!u->timed_out && u->cur == 2, "%s: %s: both URLs done (%d)", B, label, u->cur);
	ok(u->err[0] == HC_OK && u->status[0] == 200 && u->body[0] == LEN_BODY,
	   "%s: %s: Content-Length body: 200, %llu bytes (%s)", B, label,
	   (unsigned long long)u->body[0], u->text[0]);
	ok(u->err[1] == HC_OK && u->status[1] == 200 && u->body[1] == 20 + CHUNK_BIG,
	   "%s: %s: chunked body: 200, %llu bytes (%s)", B, label, (unsigned long long)u->body[1],
	   u->text[1]);
	struct http_client_stats st;
	http_client_get_stats(s->hc, &st);
	ok(st.connections == 1 && st.requests == 2 && st.reused == 1,
	   "%s: %s: two requests on one kept-alive connection (%llu connections, %llu "
	   "reused)",
	   B, label, (unsigned long long)st.connections, (unsigned long long)st.reused);
	ok(st.idle_wakeups <= most_idle, "%s: %s: no wasted wakeups (%llu of %llu, %llu allowed)",
	   B, label, (unsigned long long)st.idle_wakeups, (unsigned long long)st.wakeups,
	   (unsigned long long)most_idle);
	/* A socket into a pipe: the bodies after their first read are
	 * spliced (the chunked one up to each chunk's end); the fake TLS
	 * stream cannot splice, and copies. */
	if (spliced)
		ok(st.spliced > LEN_BODY / 2 && st.spliced < LEN_BODY + CHUNK_BIG,
		   "%s: %s: bodies spliced, not copied (%llu bytes)", B, label,
		   (unsigned long long)st.spliced);
	else
		ok(st.spliced == 0, "%s: %s: nothing spliced (%llu bytes)", B, label,
		   (unsigned long long)st.spliced);
}

static void teardown(struct setup *s, const char *label)
{
	loop_timer_stop(s->l, &s->run.guard);
	http_client_free(s->hc);
	stream_close(s->out); /* the drain sees the end */
	pthread_join(s->drain_t, NULL);
	ok(s->d.n == expect_n && memcmp(s->d.p, expect, expect_n) == 0,
	   "%s: %s: both bodies byte for byte, in order (%zu/%zu)", B, label, s->d.n, expect_n);
	free(s->d.p);
	loop_free(s->l);
}

/* Over a socketpair, adopted as the connection to http://peer.test. */
static void t_socketpair(bool fake, const struct exchange *ex)
{
	const char *label = fake ? "fake TLS stream" : "socket stream";
	struct setup s;
	if (!setup(&s, label))
		return;
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	fcntl(sv[1], F_SETFL, 0); /* the server thread blocks */
	struct stream *conn = fake ? fake_new(s.l, sv[0]) : stream_fd_new(s.l, sv[0], STREAM_F_OWN);
	struct http_url origin;
	char err[128];
	http_url_parse("http://peer.test/", &origin, err, sizeof err);
	ok(http_client_adopt(s.hc, conn, &origin) == 0, "%s: %s: adopted", B, label);
	s.run.urls[0] = "http://peer.test/len";
	s.run.urls[1] = "http://peer.test/chunked";
	s.run.n = 2;
	/* The first write is tried (and, on the fake, waits) before the
	 * server says a word. */
	http_client_get(s.hc, s.run.urls[0], on_done, &s.run);
	struct server srv = {.fd = sv[1], .tokens = fake, .host = "peer.test", .ex = ex, .nex = 2};
	pthread_t t;
	pthread_create(&t, NULL, serve, &srv);
	loop_run(s.l);
	/* A write that finds it must wait for READ (TLS's WANT_READ) is
	 * found out by trying it when the socket is writable: one callback
	 * per wait may move nothing, no more. */
	struct fake *f = fake ? conn->priv : NULL;
	check(&s, label, f ? f->waits : 0, !fake);
	if (fake) {
		ok(f->waits > 0 && f->handed > 0,
		   "%s: %s: writes waited for READ %u times, %u reads from held bytes", B, label,
		   f->waits, f->handed);
		ok(f->spins <= f->waits, "%s: %s: %u wasted write retries", B, label, f->spins);
	}
	teardown(&s, label); /* closes conn: the server sees the end */
	pthread_join(t, NULL);
	ok(srv.served == 2 && !srv.err[0], "%s: %s: the server saw both requests as expected (%s)",
	   B, label, srv.err);
}

/* Over loopback TCP through the connector: one connection for both. */
static void t_connector(const struct exchange *ex)
{
	const char *label = "loopback TCP";
	struct setup s;
	if (!setup(&s, label))
		return;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	bind(lfd, (struct sockaddr *)&a, sizeof a);
	listen(lfd, 4);
	getsockname(lfd, (struct sockaddr *)&a, &al);
	char host[32], u0[64], u1[64];
	snprintf(host, sizeof host, "127.0.0.1:%d", ntohs(a.sin_port));
	snprintf(u0, sizeof u0, "http://%s/len", host);
	snprintf(u1, sizeof u1, "http://%s/chunked", host);
	s.run.urls[0] = u0;
	s.run.urls[1] = u1;
	s.run.n = 2;
	struct server srv = {.fd = lfd, .accept = true, .host = host, .ex = ex, .nex = 2};
	pthread_t t;
	pthread_create(&t, NULL, serve, &srv);
	http_client_get(s.hc, u0, on_done, &s.run);
	loop_run(s.l);
	check(&s, label, 0, true);
	teardown(&s, label);
	pthread_join(t, NULL);
	ok(srv.served == 2 && !srv.err[0], "%s: %s: the server saw both requests as expected (%s)",
	   B, label, srv.err);
}

/* ---- a request body: memory parts and a file, over both streams ---- */

#define BODY_FILE 200000

struct body_server {
	int fd;
	bool tokens;
	const char *expect; /* the body */
	size_t expect_n;
	bool same;
	char err[256];
};

/* Reads the request (one token per read on the fake: it writes 1 KiB per
 * token), checks its body and answers. */
static void *body_serve(void *arg)
{
	struct body_server *sv = arg;
	size_t cap = 65536 + sv->expect_n, len = 0;
	char *req = malloc(cap + 1), *end = NULL;
	if (sv->tokens)
		send_all(sv->fd, "", 0, true);
	size_t want = 0;
	while (!end || len < want) {
		ssize_t n = recv(sv->fd, req + len, cap - len, 0);
		if (n <= 0) {
			snprintf(sv->err, sizeof sv->err, "the request ended at %zu bytes", len);
			break;
		}
		len += (size_t)n;
		req[len] = '\0';
		if (!end && (end = strstr(req, "\r\n\r\n"))) {
			const char *cl = strstr(req, "\r\nContent-Length: ");
			if (strncmp(req, "POST /up HTTP/1.1\r\n", 19) != 0 || !cl) {
				snprintf(sv->err, sizeof sv->err, "unexpected: %.80s", req);
				break;
			}
			want = (size_t)(end + 4 - req) + strtoul(cl + 18, NULL, 10);
		}
		if (sv->tokens && (!end || len < want))
			send_all(sv->fd, "", 0, true);
	}
	if (end && len == want)
		sv->same = len - (size_t)(end + 4 - req) == sv->expect_n &&
			   memcmp(end + 4, sv->expect, sv->expect_n) == 0;
	send_all(sv->fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40, sv->tokens);
	char c;
	while (recv(sv->fd, &c, 1, 0) > 0)
		;
	close(sv->fd);
	free(req);
	return NULL;
}

static void t_body(bool fake)
{
	const char *label = fake ? "fake TLS stream" : "socket stream";
	static char filedata[BODY_FILE], expect_body[BODY_FILE + 32];
	fill(filedata, sizeof filedata, 21);
	char path[] = "/tmp/test_http_client.XXXXXX";
	int ffd = mkstemp(path);
	unlink(path);
	/* not a stream: the test's body file */
	ok(ffd >= 0 && write(ffd, filedata, sizeof filedata) == (ssize_t)sizeof filedata,
	   "%s: body, %s: the file written", B, label);
	/* Part of the file, between two memory parts. */
	struct http_client_part parts[] = {
	    {.kind = HTTP_PART_MEM, .data = "head-", .len = 5},
	    {.kind = HTTP_PART_FILE, .fd = ffd, .off = 1000, .len = BODY_FILE - 2000},
	    {.kind = HTTP_PART_MEM, .data = "-tail", .len = 5},
	};
	size_t en = 0;
	memcpy(expect_body, "head-", 5);
	en = 5;
	memcpy(expect_body + en, filedata + 1000, BODY_FILE - 2000);
	en += BODY_FILE - 2000;
	memcpy(expect_body + en, "-tail", 5);
	en += 5;

	struct loop *l = mkloop();
	struct http_client_cfg cfg = {
	    .idle_ms = 5000,
	    .connect_ms = 5000,
	    .method = "POST",
	    .body = parts,
	    .nbody = 3,
	};
	struct http_client *hc = http_client_new(l, &cfg);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	fcntl(sv[1], F_SETFL, 0);
	struct stream *conn = fake ? fake_new(l, sv[0]) : stream_fd_new(l, sv[0], STREAM_F_OWN);
	struct http_url origin;
	char err[128];
	http_url_parse("http://peer.test/", &origin, err, sizeof err);
	http_client_adopt(hc, conn, &origin);
	struct run run = {.l = l, .urls = {"http://peer.test/up"}, .n = 1};
	timer_init(&run.guard, on_guard, &run);
	loop_timer_start(l, &run.guard, 30000);
	http_client_get(hc, run.urls[0], on_done, &run);
	struct body_server srv = {
	    .fd = sv[1], .tokens = fake, .expect = expect_body, .expect_n = en};
	pthread_t t;
	pthread_create(&t, NULL, body_serve, &srv);
	loop_run(l);
	ok(!run.timed_out && run.err[0] == HC_OK && run.status[0] == 200,
	   "%s: body, %s: POST answered 200 (%s)", B, label, run.text[0]);
	struct http_client_stats st;
	http_client_get_stats(hc, &st);
	struct fake *f = fake ? conn->priv : NULL;
	ok(st.idle_wakeups <= (f ? f->waits : 0), "%s: body, %s: no wasted wakeups (%llu of %llu)",
	   B, label, (unsigned long long)st.idle_wakeups, (unsigned long long)st.wakeups);
	loop_timer_stop(l, &run.guard);
	http_client_free(hc);
	pthread_join(t, NULL);
	ok(srv.same && !srv.err[0], "%s: body, %s: the body arrived byte for byte (%s)", B, label,
	   srv.err);
	close(ffd);
	loop_free(l);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	static struct exchange ex[2];
	make_exchanges(ex);
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_socketpair(false, ex);
		t_socketpair(true, ex);
		t_connector(ex);
		t_body(false);
		t_body(true);
	}
	tap_done();
}
