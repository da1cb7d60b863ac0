/* forward's engine over a client stream made here: a socket pair's
 * stream and the fake TLS-like stream (tests/unit/fake_stream.h), each
 * relayed to an echo target on loopback, on every mux backend: every
 * byte both ways, in order, the half-closes passed on, no wasted
 * wakeups; and the same with a PROXY header first (--accept-proxy),
 * sent in one write with the first data: the header alone is taken. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "fake_stream.h"
#include "forward/forward_int.h"
#include "tap.h"
#include "unit_loop.h"

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)((seed >> 16) % 255); /* never the fake's token */
	}
}

/* The target: accepts one connection, echoes until its end, then shuts
 * its write side (the forwarder passes that on to the client). */
static void *echo_target(void *arg)
{
	int lfd = *(int *)arg;
	int c = accept(lfd, NULL, NULL);
	unsigned char buf[16384];
	ssize_t r;
	while (c >= 0 && (r = recv(c, buf, sizeof buf, 0)) > 0)
		if (send(c, buf, (size_t)r, MSG_NOSIGNAL) != r)
			break;
	if (c >= 0) {
		shutdown(c, SHUT_WR);
		close(c);
	}
	return NULL;
}

/* The client's far end: sends n bytes, reads the echo; with tokens, one
 * after every send and one each idle millisecond (the fake stream's
 * writes wait for them). Shuts its write side once all came back, then
 * waits for the end the target's shutdown becomes. */
struct client_end {
	int fd;
	bool tokens;
	const unsigned char *p;
	unsigned char *back;
	size_t n, sent, got;
	bool eof;
	const char *header; /* sent first (--accept-proxy), or NULL */
};

static void *client_end(void *arg)
{
	struct client_end *e = arg;
	unsigned char tok = FAKE_TOKEN;
	bool shut = false;
	/* The header and the first data in one write: the engine must take
	 * the header alone and leave the rest for the target. */
	if (e->header) {
		unsigned char first[256];
		size_t h = strlen(e->header);
		memcpy(first, e->header, h);
		memcpy(first + h, e->p, 100);
		if (send(e->fd, first, h + 100, MSG_NOSIGNAL) == (ssize_t)(h + 100))
			e->sent = 100;
	}
	for (int idle = 0; idle < 20000 && !e->eof;) {
		struct pollfd p = {e->fd, POLLIN | (e->sent < e->n ? POLLOUT : 0), 0};
		if (poll(&p, 1, 1) == 0) {
			idle++;
			if (e->tokens && !shut)
				send(e->fd, &tok, 1, MSG_NOSIGNAL);
			continue;
		}
		idle = 0;
		if ((p.revents & POLLOUT) && e->sent < e->n) {
			size_t k = e->n - e->sent > 8192 ? 8192 : e->n - e->sent;
			ssize_t w = send(e->fd, e->p + e->sent, k, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0)
				e->sent += (size_t)w;
			if (e->tokens)
				send(e->fd, &tok, 1, MSG_NOSIGNAL);
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			ssize_t r = recv(e->fd, e->back + e->got, e->n - e->got + 1, MSG_DONTWAIT);
			if (r == 0)
				e->eof = true;
			else if (r > 0)
				e->got += (size_t)r;
			else if (errno != EAGAIN)
				break;
		}
		if (!shut && e->got == e->n) {
			shutdown(e->fd, SHUT_WR);
			shut = true;
		}
	}
	return NULL;
}

static int listener(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

/* Every 5 ms: the fake's counters copied while its stream lives (they
 * go with it), and the loop stopped once the connection was relayed and
 * ended. */
struct tick {
	struct timer t;
	struct forward *f;
	bool fake;
	struct fake snap;
};

/* The engine's -v lines: the last one kept, to see whom it names. */
static char last_line[512];
static void keep_line(int level, const char *text, void *arg)
{
	(void)level;
	(void)arg;
	snprintf(last_line, sizeof last_line, "%s", text);
}

static void on_tick(struct loop *l, void *arg)
{
	struct tick *k = arg;
	struct forward *f = k->f;
	if (k->fake && f->conns && f->conns->client_raw)
		k->snap = *(struct fake *)f->conns->client_raw->priv;

	if (f->res.connections + f->res.target_failures > 0 && f->nconns == 0) {
		loop_stop(l);
		return;
	}
	loop_timer_start(l, &k->t, 5);
}

static void t_forward(bool fake, bool pp)
{
	const char *kind = pp	  ? (fake ? "fake TLS stream, PROXY header first"
					  : "socket stream, PROXY header first")
			   : fake ? "fake TLS stream"
				  : "socket stream";
	size_t n = 1 << 20;
	unsigned char *in = malloc(n), *back = malloc(n + 1);
	fill(in, n, fake ? 11 : 5);
	last_line[0] = '\0';
	struct loop *l = mkloop();
	uint16_t port = 0;
	int lfd = listener(&port);
	char pbuf[8];
	snprintf(pbuf, sizeof pbuf, "%u", port);
	pthread_t tt, tc;
	pthread_create(&tt, NULL, echo_target, &lfd);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	struct client_end ce = {.fd = sv[1], .tokens = fake, .p = in, .back = back, .n = n};
	if (pp)
		ce.header = "PROXY TCP4 192.0.2.7 127.0.0.1 4711 80\r\n";
	pthread_create(&tc, NULL, client_end, &ce);
	struct forward_cfg cfg = {
	    .lfd = -1,
	    .target = {.host = "127.0.0.1", .port = pbuf, .socktype = SOCK_STREAM, .numeric = true},
	    .target_name = "echo",
	    .ro = {.quit_after_eof_ms = -1, .zero_copy = true},
	    .accept_proxy = pp,
	};
	char err[256];
	struct forward *f = forward_new(l, &cfg, err, sizeof err);
	ok(f != NULL, "%s: forward_new (%s)", B, f ? "" : err);
	struct stream *cs = fake ? fake_new(l, sv[0]) : stream_fd_new(l, sv[0], STREAM_F_OWN);
	forward_take(f, cs, NULL);
	struct tick k = {.f = f, .fake = fake};
	timer_init(&k.t, on_tick, &k);
	loop_timer_start(l, &k.t, 5);
	loop_run(l);
	loop_timer_stop(l, &k.t);
	struct forward_result res;
	forward_result(f, &res);
	pthread_join(tc, NULL);
	pthread_join(tt, NULL);
	if (fake)
		ok(k.snap.waits > 0 && k.snap.spins <= k.snap.waits,
		   "%s: forward over a %s: writes waited for READ %u times, %u wasted retries", B,
		   kind, k.snap.waits, k.snap.spins);
	ok(res.connections == 1 && res.up == n && res.down == n,
	   "%s: forward over a %s: %llu up, %llu down of %zu", B, kind, (unsigned long long)res.up,
	   (unsigned long long)res.down, n);
	if (pp)
		ok(strncmp(last_line, "192.0.2.7:4711 -> echo: up ", 27) == 0,
		   "%s: forward over a %s: the client is the header's (%s)", B, kind, last_line);
	ok(ce.got == n && ce.eof && memcmp(in, back, n) == 0,
	   "%s: forward over a %s: every byte back in order, then the end (%zu/%zu)", B, kind,
	   ce.got, n);
	forward_free(f);
	close(sv[1]);
	close(lfd);
	loop_free(l);
	free(in);
	free(back);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_set_sink(keep_line, NULL, LOG_LVL_INFO);
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_forward(false, false);
		t_forward(true, false);
		t_forward(false, true);
		t_forward(true, true);
	}
	tap_done();
}
