/* serve's engine over streams: the echo handler, --respond and the
 * broker, each over a plain socket stream and over the fake TLS-like
 * stream (tests/unit/fake_stream.h: a write may need READ first, and
 * bytes read are held inside the stream), on every mux backend; and the
 * fork/thread models' blocking handler over the fake stream. Byte-exact,
 * and no write retried while the stream still waits for what it asked. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/outq.h"
#include "fake_stream.h"
#include "net/stream.h"
#include "proc/model.h"
#include "serve/serve.h"
#include "tap.h"
#include "unit_loop.h"

#define N	(1 << 20) /* bytes per test */
#define PIECE	16384	  /* what a client sends before it waits for the echo */
#define RESPOND (300 * 1000)

/* Test data: no 0xFF (the fake's token), not all alike. */
static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)((seed >> 16) % 255);
	}
}

/* ---- the fake stream, with its counts kept when the engine closes it ---- */

static struct stream_ops counted_ops;
static struct fake last_fake; /* the counts of the fake stream closed last */

static void counted_close(struct stream *s)
{
	last_fake = *(struct fake *)s->priv;
	fake_ops.close(s);
}

/* The engine's end of a connection: fd as a plain stream, or as the fake. */
static struct stream *conn(struct loop *l, int fd, bool fake)
{
	if (!fake)
		return stream_fd_new(l, fd, STREAM_F_OWN);
	struct stream *s = fake_new(l, fd);
	counted_ops = fake_ops;
	counted_ops.close = counted_close;
	s->ops = &counted_ops;
	return s;
}

/* Checks a fake stream's counts: writes waited for READ and reads came
 * from bytes held inside, and no write was retried with nothing read
 * since (a wasted wakeup: the engine must wait for the READ its stream
 * asked for, not spin on a writable socket). */
static void fake_counts(const char *what)
{
	const struct fake *f = &last_fake;
	ok(f->waits > 0 && f->handed > 0,
	   "%s: %s over the fake stream: writes waited for READ %u times, %u reads from held "
	   "bytes",
	   B, what, f->waits, f->handed);
	ok(f->spins <= f->waits, "%s: %s over the fake stream: %u wasted retries", B, what,
	   f->spins);
}

/* ---- the far end: a client thread on a blocking socket ---- */

struct far_end {
	int fd;
	bool tokens; /* the engine's end is the fake: send it tokens */
	/* What to send: with window, a piece at a time, each once the last
	 * came back (from an echo); else as fast as it goes, and with
	 * half_close the write side's end after it. */
	const unsigned char *out;
	size_t nout;
	bool window, half_close;
	/* With drip, drip bytes at a time, each after something came: the
	 * bytes reach the engine while it writes (and the fake holds them). */
	size_t drip;
	unsigned char *in; /* what came */
	size_t cap, nin;
	size_t want;	  /* done once this much came (0: at EOF) */
	atomic_int *done; /* counted up when finished, if set */
};

static void token(struct far_end *c)
{
	unsigned char t = FAKE_TOKEN;
	if (c->tokens && send(c->fd, &t, 1, MSG_NOSIGNAL) < 0)
		c->tokens = false;
}

/* Sends and reads at once, and sends a token after every read and every
 * quiet millisecond, so that a waiting write is let go soon but never at
 * once. Closes when all is sent and what it wants came, or at EOF. */
static void *client_main(void *arg)
{
	struct far_end *c = arg;
	size_t sent = 0, nin_at_send = 0;
	bool eof = false;
	for (;;) {
		bool sending = sent < c->nout;
		if (!sending && (eof || (c->want && c->nin >= c->want)))
			break;
		bool can_send = sending && (!c->window || sent - c->nin < PIECE) &&
				(!c->drip || c->nin > nin_at_send);
		if (eof && !can_send)
			break;
		short ev = (short)((eof ? 0 : POLLIN) | (can_send ? POLLOUT : 0));
		struct pollfd p = {c->fd, ev, 0};
		if (poll(&p, 1, 1) == 0) {
			token(c);
			continue;
		}
		if (!eof && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = recv(c->fd, c->in + c->nin, c->cap - c->nin, MSG_DONTWAIT);
			/* At the end of what comes, what is left to send still
			 * goes (a request the server drains). */
			if (r == 0 || (r < 0 && errno != EAGAIN))
				eof = true;
			if (r > 0) {
				c->nin += (size_t)r;
				token(c);
			}
		}
		if (can_send && (p.revents & POLLOUT)) {
			size_t most = c->drip ? c->drip : PIECE;
			size_t k = c->nout - sent < most ? c->nout - sent : most;
			nin_at_send = c->nin;
			ssize_t w = send(c->fd, c->out + sent, k, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno != EAGAIN)
				break;
			if (w > 0)
				sent += (size_t)w;
			if (w > 0 && sent == c->nout && c->half_close)
				shutdown(c->fd, SHUT_WR);
		}
	}
	close(c->fd);
	if (c->done)
		atomic_fetch_add(c->done, 1);
	return NULL;
}

static int pair(int sv[2])
{
	/* The engine's end non-blocking, the client's blocking. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	sock_set_nonblock(sv[0], true);
	return 0;
}

static struct serve_cfg base_cfg(enum serve_handler h)
{
	return (struct serve_cfg){.lfd = -1,
				  .family = AF_UNIX,
				  .handler = h,
				  .stall_ms = 5000,
				  .ro = {.quit_after_eof_ms = -1},
				  .in_fd = -1,
				  .out_fd = -1};
}

/* ---- echo and --respond: one client, the run ends with it ---- */

static void t_one(enum serve_handler h, bool fake)
{
	const char *what = h == SERVE_ECHO ? "echo" : "respond";
	const char *kind = fake ? "fake TLS stream" : "socket stream";
	size_t n = h == SERVE_ECHO ? N : RESPOND;
	unsigned char *data = malloc(n), *back = malloc(n + 1);
	fill(data, n, fake ? 11 : 5);
	struct loop *l = mkloop();
	struct serve_cfg cfg = base_cfg(h);
	struct outq_chunk *r = NULL;
	if (h == SERVE_RESPOND) {
		r = outq_chunk_new(n);
		memcpy(r->data, data, n);
		r->len = n;
		cfg.respond = r;
	}
	char err[256];
	struct serve_server *srv = serve_new(l, &cfg, err, sizeof err);
	int sv[2];
	pair(sv);
	struct far_end c = {.fd = sv[1], .tokens = fake, .in = back, .cap = n + 1};
	unsigned char request[32768];
	if (h == SERVE_ECHO) {
		c.out = data;
		c.nout = n;
		c.window = true;
		c.want = n;
	} else {
		/* A request the server drains (and the fake holds meanwhile),
		 * without the write side's end: tokens must still go. */
		fill(request, sizeof request, 17);
		c.out = request;
		c.nout = sizeof request;
	}
	pthread_t t;
	pthread_create(&t, NULL, client_main, &c);
	serve_take(srv, conn(l, sv[0], fake), NULL);
	loop_run(l);
	pthread_join(t, NULL);
	struct serve_result res;
	serve_result(srv, &res);
	serve_free(srv);
	outq_chunk_unref(r);
	ok(c.nin == n && memcmp(back, data, n) == 0,
	   "%s: %s over a %s: every byte back, in order (%zu/%zu)", B, what, kind, c.nin, n);
	ok(!res.failed && res.connections == 1 && res.sent == n &&
	       res.received == (h == SERVE_ECHO ? n : sizeof request),
	   "%s: %s over a %s: the totals (sent %llu, received %llu)", B, what, kind,
	   (unsigned long long)res.sent, (unsigned long long)res.received);
	if (fake)
		fake_counts(what);
	loop_free(l);
	free(data);
	free(back);
}

/* ---- the broker: a sender, a receiver that is the fake and sends a
 * little too (no more than the fake holds: its tokens must not wait
 * behind data it cannot take in), and a third that only listens ---- */

#define NB 32768

struct done_watch {
	atomic_int *done;
	int want;
	struct timer t;
};

static void on_watch(struct loop *l, void *arg)
{
	struct done_watch *w = arg;
	if (atomic_load(w->done) >= w->want)
		loop_stop(l);
	else
		loop_timer_start(l, &w->t, 5);
}

static void t_broker(void)
{
	unsigned char *da = malloc(N), *db = malloc(NB);
	unsigned char *ga = malloc(NB + 1), *gb = malloc(N + 1), *gc = malloc(N + NB + 1);
	fill(da, N, 9);
	fill(db, NB, 21);
	struct loop *l = mkloop();
	struct serve_cfg cfg = base_cfg(SERVE_BROKER);
	cfg.keep_open = true;
	char err[256];
	struct serve_server *srv = serve_new(l, &cfg, err, sizeof err);
	atomic_int done = 0;
	int a[2], b[2], c[2];
	pair(a);
	pair(b);
	pair(c);
	serve_take(srv, conn(l, c[0], false), NULL);
	serve_take(srv, conn(l, b[0], true), NULL);
	serve_take(srv, conn(l, a[0], false), NULL);
	struct far_end ca = {
	    .fd = a[1], .out = da, .nout = N, .in = ga, .cap = NB + 1, .want = NB, .done = &done};
	struct far_end cb = {.fd = b[1],
			     .tokens = true,
			     .out = db,
			     .nout = NB,
			     .drip = 256,
			     .in = gb,
			     .cap = N + 1,
			     .want = N,
			     .done = &done};
	struct far_end cc = {
	    .fd = c[1], .in = gc, .cap = N + NB + 1, .want = N + NB, .done = &done};
	pthread_t t1, t2, t3;
	pthread_create(&t1, NULL, client_main, &ca);
	pthread_create(&t2, NULL, client_main, &cb);
	pthread_create(&t3, NULL, client_main, &cc);
	struct done_watch w = {.done = &done, .want = 3};
	timer_init(&w.t, on_watch, &w);
	loop_timer_start(l, &w.t, 5);
	loop_run(l);
	loop_timer_stop(l, &w.t);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	struct serve_result res;
	serve_result(srv, &res);
	serve_free(srv);
	ok(ca.nin == NB && memcmp(ga, db, NB) == 0 && cb.nin == N && memcmp(gb, da, N) == 0,
	   "%s: broker: each sender got the other's every byte in order (%zu of %d, %zu of %d)", B,
	   ca.nin, NB, cb.nin, N);
	ok(cc.nin == N + NB, "%s: broker: the listener got both (%zu of %d)", B, cc.nin, N + NB);
	ok(res.received == N + NB && res.sent == 2 * (uint64_t)(N + NB) && res.connections == 3,
	   "%s: broker: the totals (received %llu, sent %llu)", B, (unsigned long long)res.received,
	   (unsigned long long)res.sent);
	fake_counts("broker");
	loop_free(l);
	free(da);
	free(db);
	free(ga);
	free(gb);
	free(gc);
}

/* ---- the fork/thread models' handler, blocking, over the fake ---- */

static void *job_main(void *arg)
{
	model_job_run(arg);
	return NULL;
}

static void t_model(void)
{
	unsigned char *data = malloc(N), *back = malloc(N + 1);
	fill(data, N, 13);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct model_job j = {.s = conn(NULL, sv[0], true), .kind = MODEL_JOB_ECHO};
	struct far_end c = {.fd = sv[1],
			    .tokens = true,
			    .out = data,
			    .nout = N,
			    .window = true,
			    .in = back,
			    .cap = N + 1,
			    .want = N};
	pthread_t t1, t2;
	pthread_create(&t1, NULL, job_main, &j);
	pthread_create(&t2, NULL, client_main, &c);
	pthread_join(t2, NULL);
	pthread_join(t1, NULL);
	ok(c.nin == N && memcmp(back, data, N) == 0 && j.in == N && j.out == N,
	   "model handler: echo over the fake stream, every byte (%zu of %d)", c.nin, N);
	fake_counts("the model handler");
	free(data);
	free(back);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* A stuck engine fails the test instead of hanging it. */
	alarm(120);
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_one(SERVE_ECHO, false);
		t_one(SERVE_ECHO, true);
		t_one(SERVE_RESPOND, false);
		t_one(SERVE_RESPOND, true);
		t_broker();
	}
	B = "blocking";
	t_model();
	tap_done();
}
