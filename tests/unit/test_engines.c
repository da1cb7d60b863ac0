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

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_relay(false, 1 << 20);
		t_relay(true, 1 << 20);
		t_relay(false, 200);
	}
	tap_done();
}
