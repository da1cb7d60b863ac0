/* Engines over streams: each driven over a plain socket stream and over
 * the fake TLS-like stream (tests/unit/fake_stream.h), on every mux
 * backend, so waiting for READ in order to write, and bytes held inside a
 * stream, are handled before any TLS code exists. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_stream.h"
#include "relay_peers.h"
#include "core/loop.h"
#include "net/relay.h"
#include "net/stream.h"
#include "tap.h"
#include "unit_net.h"
#include "unit_loop.h"

/* ---- relay ---- */

/* n bytes each way: with a plain socket, a bulk transfer is spliced
 * after its first reads, and a short one copied (no pipe made for it). */
static void t_relay(bool fake, size_t n)
{
	const char *kind = fake ? "fake TLS stream" : "socket stream";
	unsigned char *in = malloc(n), *out = malloc(n);
	fill(in, n, fake ? 7 : 3);
	struct loop *l = mkloop();
	int pin[2], pout[2], sv[2];
	pipe(pin);
	pipe(pout);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	struct feeder fd_in = {pin[1], in, n};
	struct drain fd_out = {pout[0], out, n, 0};
	struct echo_peer peer = {sv[1], fake, 0};
	/* The peer's end blocks (a thread); the relay's is non-blocking. */
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) & ~O_NONBLOCK);
	pthread_t t1, t2, t3;
	pthread_create(&t1, NULL, feed, &fd_in);
	pthread_create(&t2, NULL, drain, &fd_out);
	pthread_create(&t3, NULL, echo_peer, &peer);
	struct stream *sin = stream_fd_new(l, pin[0], STREAM_F_OWN);
	struct stream *sout = stream_fd_new(l, pout[1], STREAM_F_OWN);
	struct stream *sock = fake ? fake_new(l, sv[0]) : stream_fd_new(l, sv[0], STREAM_F_OWN);
	struct relay_opts o = {.quit_after_eof_ms = -1, .zero_copy = true};
	struct relay_result res = {0};
	struct relay *r = relay_start(l, sin, sout, sock, "peer", &o, on_relay_done, &res);
	loop_run(l);
	struct relay_stats st;
	relay_get_stats(r, &st);
	relay_free(r);
	if (fake) {
		struct fake *f = sock->priv;
		ok(f->waits > 0 && f->handed > 0,
		   "%s: relay over a %s: writes waited for READ %u times, %u reads from held "
		   "bytes",
		   B, kind, f->waits, f->handed);
		/* A write retried with nothing read since is a wasted wakeup:
		 * the engine must wait for the READ its stream asked for, not
		 * spin on a writable socket. */
		ok(f->spins <= f->waits, "%s: relay over a %s: %u wasted retries", B, kind,
		   f->spins);
	}
	stream_close(sin);
	stream_close(sout); /* the drain thread sees the end */
	stream_close(sock);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	ok(res.done && res.status == 0, "%s: relay over a %s ends cleanly (%s)", B, kind, res.text);
	ok(st.sent == n && st.received == n && fd_out.n == n && memcmp(in, out, n) == 0,
	   "%s: relay over a %s: every byte both ways, in order (%zu/%zu)", B, kind, fd_out.n, n);
	if (fake || n < 16384)
		ok(st.spliced == 0, "%s: relay over a %s, %zu bytes: copied (%llu spliced)", B,
		   kind, n, (unsigned long long)st.spliced);
	else
		ok(st.spliced > n,
		   "%s: relay over a %s, %zu bytes: spliced after the first reads "
		   "(%llu of %zu)",
		   B, kind, n, (unsigned long long)st.spliced, 2 * n);
	close(sv[1]);
	loop_free(l);
	free(in);
	free(out);
}

/* ---- a relay between two connections, as forward runs it ---- */

/* The target's side: takes the request (then the client ends), takes
 * the end, answers, ends. */
struct target_side {
	int fd;
	char got[16];
	size_t n;
	int client_fd;		   /* the client's own end */
	struct stream *client;	   /* the relay's stream of the client */
	int client_events_at_data; /* its events when the request came */
};

static void on_target(struct loop *l, int fd, int mask, void *arg)
{
	struct target_side *t = arg;
	ssize_t r = read(fd, t->got + t->n, sizeof t->got - 1 - t->n);
	if (r > 0) {
		t->n += (size_t)r;
		if (t->n == 5) {
			t->client_events_at_data = t->client->events;
			shutdown(t->client_fd, SHUT_WR);
		}
		return;
	}
	if (r < 0 && errno == EAGAIN)
		return;
	loop_io(l, fd, 0, NULL, NULL);
	if (write(fd, "world", 5) == 5)
		shutdown(fd, SHUT_WR);
}

/* opts: read_first and closed_at_end as forward sets them, or neither. */
static void t_relay_conns(bool opts)
{
	const char *how = opts ? "read_first, closed_at_end" : "no options";
	struct loop *l = mkloop();
	int cv[2], tv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, cv);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, tv);
	/* The client spoke before the relay started. */
	if (write(cv[1], "hello", 5) != 5)
		ok(0, "%s: client side set up", B);
	struct stream *cs = stream_socket_new(l, cv[0], STREAM_F_OWN);
	struct target_side ts = {.fd = tv[1], .client_fd = cv[1], .client = cs};
	loop_io(l, tv[1], MUX_READ, on_target, &ts);
	struct stream *ts_s = stream_socket_new(l, tv[0], STREAM_F_OWN);
	struct relay_opts o = {.quit_after_eof_ms = -1, .zero_copy = true, .pass_eof = true};
	o.read_first = o.closed_at_end = opts;
	struct relay_result res = {0};
	struct relay *r = relay_start(l, cs, cs, ts_s, "target", &o, on_relay_done, &res);
	loop_run(l);
	int err = -1;
	struct stream *failed = relay_failed_stream(r, &err);
	relay_free(r);
	ok(res.done && res.status == 0 && ts.n == 5 && memcmp(ts.got, "hello", 5) == 0,
	   "%s: relay of two connections (%s): the request reached the target (%s)", B, how,
	   res.text);
	ok(!failed && err == 0, "%s: %s: no stream failed", B, how);
	if (opts)
		ok(ts.client_events_at_data == 0,
		   "%s: read_first: the client's bytes went out before any event on its socket "
		   "(events %d)",
		   B, ts.client_events_at_data);
	else
		ok(ts.client_events_at_data & MUX_READ,
		   "%s: without read_first: the loop reported the client's socket first", B);
	char buf[16];
	ssize_t n = read(cv[1], buf, sizeof buf);
	ok(n == 5 && memcmp(buf, "world", 5) == 0, "%s: %s: the client has the answer", B, how);
	n = read(cv[1], buf, sizeof buf);
	if (opts)
		ok(n < 0 && errno == EAGAIN,
		   "%s: closed_at_end: no shutdown of the client before the end (read %zd)", B, n);
	else
		ok(n == 0, "%s: %s: the relay shut the client's side down itself", B, how);
	stream_close(cs);
	stream_close(ts_s);
	n = read(cv[1], buf, sizeof buf);
	ok(n == 0, "%s: %s: the client sees the end once the relay's streams are closed", B, how);
	close(cv[1]);
	close(tv[1]);
	loop_free(l);
}

/* A client that reset its connection: the relay fails, and names the
 * stream and the error (forward then resets only the other side). */
static void t_relay_reset(void)
{
	struct loop *l = mkloop();
	struct sockaddr_in a;
	int lfd = loopback_listener(&a, 1);
	int cfd = socket(AF_INET, SOCK_STREAM, 0);
	connect(cfd, (struct sockaddr *)&a, sizeof a);
	int afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	close(lfd);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(cfd); /* a reset */
	int tv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, tv);
	struct stream *cs = stream_socket_new(l, afd, STREAM_F_OWN);
	struct stream *ts = stream_socket_new(l, tv[0], STREAM_F_OWN);
	struct relay_opts o = {.quit_after_eof_ms = -1, .zero_copy = true, .pass_eof = true};
	struct relay_result res = {0};
	struct relay *r = relay_start(l, cs, cs, ts, "target", &o, on_relay_done, &res);
	loop_run(l);
	int err = 0;
	struct stream *failed = relay_failed_stream(r, &err);
	ok(res.done && res.status == 1 && failed == cs && err == ECONNRESET,
	   "%s: a client's reset fails the relay on the client's stream (%s)", B, res.text);
	relay_free(r);
	stream_close(cs);
	stream_close(ts);
	close(tv[1]);
	loop_free(l);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_relay(false, 1 << 20);
		t_relay(true, 1 << 20);
		t_relay(false, 200);
		t_relay_conns(true);
		t_relay_conns(false);
		t_relay_reset();
	}
	tap_done();
}
