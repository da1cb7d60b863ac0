/* The udp-send engine on every mux backend, against a loopback UDP peer
 * in a thread (echo, reorder and drop, answer twice, answer big, stay
 * silent, or nobody there): counts, replies matched to the datagrams
 * they answer, round-trip times, --replies, pacing, timeouts, ICMP port
 * unreachable, truncation; and input lines read through a socket stream
 * and through the fake TLS-like stream (tests/unit/fake_stream.h),
 * including lines the stream holds inside while its fd never becomes
 * readable. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fake_stream.h"
#include "core/loop.h"
#include "net/stream.h"
#include "tap.h"
#include "udp/udp_send.h"

static const char *B;
/* The loop of the backend under test: every run leaves it as it found it. */
static struct loop *l;

static struct loop *mkloop(void)
{
	char err[128];
	struct loop *nl = loop_new(B, 64, err, sizeof err);
	if (!nl)
		printf("# loop_new(%s): %s\n", B, err);
	return nl;
}

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the peer ---- */

enum peer_mode {
	PEER_ECHO,
	PEER_SHUFFLE, /* drops every 10th datagram, swaps the others in pairs */
	PEER_TWICE,   /* answers every datagram twice */
	PEER_BIG,     /* answers with 100 bytes */
	PEER_SILENT,
};

struct peer {
	int fd;
	enum peer_mode mode;
	atomic_bool stop;
	atomic_uint heard;
	char port[8];
	pthread_t t;
};

static void *peer_run(void *arg)
{
	struct peer *p = arg;
	unsigned char buf[65536], held[65536];
	size_t nheld = 0;
	struct sockaddr_storage from, hfrom;
	socklen_t flen, hflen = 0;
	while (!atomic_load(&p->stop)) {
		flen = sizeof from;
		ssize_t n = recvfrom(p->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
		if (n < 0) {
			/* The receive timeout: let a held datagram go. */
			if (nheld)
				sendto(p->fd, held, nheld, 0, (struct sockaddr *)&hfrom, hflen);
			nheld = 0;
			continue;
		}
		unsigned k = atomic_fetch_add(&p->heard, 1);
		const struct sockaddr *to = (struct sockaddr *)&from;
		switch (p->mode) {
		case PEER_ECHO:
			sendto(p->fd, buf, (size_t)n, 0, to, flen);
			break;
		case PEER_SHUFFLE:
			if (k % 10 == 9)
				break;
			if (!nheld) {
				memcpy(held, buf, (size_t)n);
				nheld = (size_t)n;
				memcpy(&hfrom, &from, flen);
				hflen = flen;
				break;
			}
			sendto(p->fd, buf, (size_t)n, 0, to, flen);
			sendto(p->fd, held, nheld, 0, (struct sockaddr *)&hfrom, hflen);
			nheld = 0;
			break;
		case PEER_TWICE:
			sendto(p->fd, buf, (size_t)n, 0, to, flen);
			sendto(p->fd, buf, (size_t)n, 0, to, flen);
			break;
		case PEER_BIG:
			memset(buf, 'x', 100);
			sendto(p->fd, buf, 100, 0, to, flen);
			break;
		case PEER_SILENT:
			break;
		}
	}
	return NULL;
}

static void peer_start(struct peer *p, enum peer_mode mode)
{
	memset(p, 0, sizeof *p);
	p->mode = mode;
	p->fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	bind(p->fd, (struct sockaddr *)&a, sizeof a);
	getsockname(p->fd, (struct sockaddr *)&a, &al);
	snprintf(p->port, sizeof p->port, "%u", ntohs(a.sin_port));
	struct timeval tv = {0, 20000};
	setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	int big = 1 << 20;
	setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	pthread_create(&p->t, NULL, peer_run, p);
}

static void peer_stop(struct peer *p)
{
	atomic_store(&p->stop, true);
	pthread_join(p->t, NULL);
	close(p->fd);
}

/* A UDP port nobody listens on: bound, read, closed. */
static void dead_port(char *port, size_t len)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	bind(fd, (struct sockaddr *)&a, sizeof a);
	getsockname(fd, (struct sockaddr *)&a, &al);
	snprintf(port, len, "%u", ntohs(a.sin_port));
	close(fd);
}

/* ---- one run ---- */

#define MAXR 256
struct run {
	struct loop *l;
	struct udp_send_config c;
	struct udp_send_result res;
	bool done, guard_fired;
	unsigned replies, batches, timed;
	char data[MAXR][32]; /* each reply, as text */
	size_t len[MAXR], size[MAXR];
	bool known[MAXR];
	uint64_t seq[MAXR];
	int64_t ms;
	struct timer guard;
	char errtext[512];
	struct udp_send *u;
};

static void on_reply(struct udp_send *u, const struct udp_reply *r, void *arg)
{
	(void)u;
	struct run *x = arg;
	if (x->replies < MAXR) {
		unsigned i = x->replies;
		size_t k = r->len < sizeof x->data[i] - 1 ? r->len : sizeof x->data[i] - 1;
		memcpy(x->data[i], r->data, k);
		x->data[i][k] = '\0';
		x->len[i] = r->len;
		x->size[i] = r->size;
		x->known[i] = r->seq_known;
		x->seq[i] = r->seq;
	}
	if (r->rtt_us >= 0)
		x->timed++;
	x->replies++;
}

static void on_batch(struct udp_send *u, void *arg)
{
	(void)u;
	((struct run *)arg)->batches++;
}

static void on_done(struct udp_send *u, void *arg)
{
	(void)u;
	struct run *x = arg;
	x->done = true;
	loop_stop(x->l);
}

static void on_guard(struct loop *lp, void *arg)
{
	struct run *x = arg;
	x->guard_fired = true;
	loop_stop(lp);
}

static void run_init(struct run *x)
{
	memset(x, 0, sizeof *x);
	x->l = l;
	x->c = (struct udp_send_config){.recv_buffer = 65536,
					.in_name = "stdin",
					.on_reply = on_reply,
					.on_batch = on_batch,
					.on_done = on_done,
					.arg = x};
}

/* A run of a payload list: count datagrams, then a wait of wait_ms. */
static void list_init(struct run *x, const struct udp_payload *pl, size_t n, uint64_t count,
		      int wait_ms)
{
	run_init(x);
	x->c.src = UDP_SRC_LIST;
	x->c.payloads = pl;
	x->c.npayloads = n;
	x->c.count = count;
	x->c.wait_ms = wait_ms;
}

/* Runs the engine towards 127.0.0.1:port as configured in x->c; false
 * if it could not start or did not end within 10 s. The result is in x->res (valid until the
 * engine is freed: x->errtext keeps the text). */
static bool run_to(struct run *x, const char *port)
{
	struct sock_endpoint ep = {.host = "127.0.0.1",
				   .port = port,
				   .family = AF_INET,
				   .socktype = SOCK_DGRAM,
				   .numeric = true};
	struct udp_dest_opts o = {.ttl = -1};
	struct udp_dest d;
	char err[512];
	if (udp_dest_open(&ep, &o, &d, err, sizeof err) < 0) {
		printf("# udp_dest_open: %s\n", err);
		return false;
	}
	x->u = udp_send_new(x->l, &d, &x->c, err, sizeof err);
	if (!x->u) {
		printf("# udp_send_new: %s\n", err);
		udp_dest_close(&d);
		return false;
	}
	timer_init(&x->guard, on_guard, x);
	loop_timer_start(x->l, &x->guard, 10000);
	int64_t t0 = ms_now();
	udp_send_start(x->u);
	if (!udp_send_done(x->u))
		loop_run(x->l);
	x->ms = ms_now() - t0;
	loop_timer_stop(x->l, &x->guard);
	udp_send_get_result(x->u, &x->res);
	snprintf(x->errtext, sizeof x->errtext, "%s", x->res.errtext);
	if (x->guard_fired)
		printf("# the run did not end within 10 s\n");
	return !x->guard_fired;
}

static void run_end(struct run *x)
{
	udp_send_free(x->u);
	x->u = NULL;
}

/* ---- the cases ---- */

/* A payload list cycled through, echoed in order: every reply timed. */
static void t_list(void)
{
	struct peer p;
	peer_start(&p, PEER_ECHO);
	struct udp_payload pl[3] = {
	    {(unsigned char *)"alpha", 5}, {(unsigned char *)"beta", 4}, {(unsigned char *)"", 0}};
	struct run x;
	list_init(&x, pl, 3, 30, 5000);
	bool ran = run_to(&x, p.port);
	const struct probe *pr = x.res.probe;
	ok(ran && x.done && x.res.status == UDP_OK && x.res.err == UDP_ERR_NONE,
	   "%s: list: ends ok as soon as every reply is in (%" PRId64 " ms)", B, x.ms);
	ok(ran && pr->sent == 30 && pr->received == 30 && x.replies == 30 && p.heard == 30,
	   "%s: list: 30 sent, 30 heard, 30 received", B);
	bool order = x.replies == 30;
	for (unsigned i = 0; order && i < 30; i++)
		order = strcmp(x.data[i], (const char *)pl[i % 3].data) == 0 && !x.known[i];
	ok(order, "%s: list: payloads cycled, in order, the empty one too", B);
	ok(ran && pr->timed == 30 && x.timed == 30 && pr->rtt_min <= pr->rtt_max,
	   "%s: list: replies matched in order, each timed", B);
	run_end(&x);
	peer_stop(&p);
}

/* Numbered filler through a peer that drops and reorders: each reply
 * names its datagram; the wait ends in a timeout that says how many. */
static void t_filler_shuffled(void)
{
	struct peer p;
	peer_start(&p, PEER_SHUFFLE);
	struct run x;
	run_init(&x);
	x.c.src = UDP_SRC_FILLER;
	x.c.size = 32;
	x.c.count = 100;
	x.c.wait_ms = 300;
	bool ran = run_to(&x, p.port);
	const struct probe *pr = x.res.probe;
	ok(ran && x.res.status == UDP_FAILED && x.res.err == UDP_ERR_TIMEOUT,
	   "%s: shuffled: a timeout, as 10 never come back", B);
	char want[256];
	snprintf(want, sizeof want, "timeout: 90 of 100 replies from 127.0.0.1:%s within 0.3 s",
		 p.port);
	ok(strcmp(x.errtext, want) == 0, "%s: shuffled: '%s'", B, x.errtext);
	bool seen[100] = {0}, good = x.replies == 90;
	for (unsigned i = 0; good && i < 90; i++) {
		good = x.known[i] && x.seq[i] < 100 && x.seq[i] % 10 != 9 && !seen[x.seq[i]] &&
		       x.len[i] == 32;
		if (good)
			seen[x.seq[i]] = true;
	}
	ok(good, "%s: shuffled: each of the 90 replies names its own datagram", B);
	ok(ran && pr->sent == 100 && pr->received == 90 && pr->timed == 90 && x.timed == 90,
	   "%s: shuffled: reordered replies still timed (sent %" PRIu64 ", timed %" PRIu64 ")", B,
	   ran ? pr->sent : 0, ran ? pr->timed : 0);
	ok(x.ms >= 300, "%s: shuffled: waited out the 0.3 s (%" PRId64 " ms)", B, x.ms);
	run_end(&x);
	peer_stop(&p);
}

/* want N: stops at N replies, even in the middle of a batch. */
static void t_want(void)
{
	struct peer p;
	peer_start(&p, PEER_TWICE);
	struct udp_payload pl = {(unsigned char *)"ping", 4};
	struct run x;
	list_init(&x, &pl, 1, 10, 5000);
	x.c.want = 5;
	bool ran = run_to(&x, p.port);
	ok(ran && x.res.status == UDP_OK && x.replies == 5 && x.res.probe->received == 5,
	   "%s: want 5: stops at 5 replies (%u)", B, x.replies);
	run_end(&x);
	peer_stop(&p);
}

/* Pacing: one datagram per interval. */
static void t_interval(void)
{
	struct peer p;
	peer_start(&p, PEER_ECHO);
	struct udp_payload pl = {(unsigned char *)"tick", 4};
	struct run x;
	list_init(&x, &pl, 1, 4, 5000);
	x.c.interval_ms = 30;
	bool ran = run_to(&x, p.port);
	ok(ran && x.res.status == UDP_OK && x.replies == 4 && x.ms >= 90,
	   "%s: interval 30 ms: 4 datagrams over at least 90 ms (%" PRId64 " ms)", B, x.ms);
	run_end(&x);
	peer_stop(&p);
}

/* No reply at all; nobody there at all. */
static void t_silent_and_dead(void)
{
	struct peer p;
	peer_start(&p, PEER_SILENT);
	struct udp_payload pl = {(unsigned char *)"anyone", 6};
	struct run x;
	list_init(&x, &pl, 1, 1, 100);
	bool ran = run_to(&x, p.port);
	char want[256];
	snprintf(want, sizeof want, "timeout: no reply from 127.0.0.1:%s within 0.1 s", p.port);
	ok(ran && x.res.status == UDP_FAILED && x.res.err == UDP_ERR_TIMEOUT &&
	       strcmp(x.errtext, want) == 0 && x.ms >= 100 && x.replies == 0,
	   "%s: silent peer: '%s' after %" PRId64 " ms", B, x.errtext, x.ms);
	run_end(&x);
	peer_stop(&p);

	/* Without a wait nothing is waited for: done at once, ok. */
	peer_start(&p, PEER_SILENT);
	list_init(&x, &pl, 1, 3, 0);
	ran = run_to(&x, p.port);
	ok(ran && x.res.status == UDP_OK && x.res.probe->sent == 3 && x.ms < 1000,
	   "%s: no wait: ok once sent", B);
	run_end(&x);
	peer_stop(&p);

	char port[8];
	dead_port(port, sizeof port);
	list_init(&x, &pl, 1, 1, 5000);
	ran = run_to(&x, port);
	snprintf(want, sizeof want,
		 "receive from 127.0.0.1:%s: port unreachable (ICMP: Connection refused)", port);
	ok(ran && x.res.status == UDP_FAILED && x.res.err == UDP_ERR_UNREACHABLE &&
	       strcmp(x.errtext, want) == 0 && x.ms < 5000,
	   "%s: closed port: '%s'", B, x.errtext);
	run_end(&x);
}

/* A reply larger than the receive buffer is cut, said and fails the run. */
static void t_truncated(void)
{
	struct peer p;
	peer_start(&p, PEER_BIG);
	struct udp_payload pl = {(unsigned char *)"x", 1};
	struct run x;
	list_init(&x, &pl, 1, 1, 5000);
	x.c.recv_buffer = 10;
	bool ran = run_to(&x, p.port);
	ok(ran && x.res.status == UDP_FAILED && x.res.err == UDP_ERR_TRUNCATED &&
	       x.res.truncated == 1 && x.replies == 1 && x.len[0] == 10 && x.size[0] == 100 &&
	       strcmp(x.data[0], "xxxxxxxxxx") == 0,
	   "%s: truncated: 10 of 100 bytes, '%s'", B, x.errtext);
	run_end(&x);
	peer_stop(&p);
}

/* ---- input lines through a stream ---- */

struct writer {
	int fd;
	const char *text;
	/* Before writing, wait (2 s at most) until the peer has heard this
	 * many datagrams; 0: write at once. */
	const atomic_uint *heard;
	unsigned first;
	bool waited; /* they came in time */
};

static void *write_and_close(void *arg)
{
	struct writer *w = arg;
	int64_t deadline = ms_now() + 2000;
	while (w->first && atomic_load(w->heard) < w->first && ms_now() < deadline)
		usleep(1000);
	w->waited = !w->first || atomic_load(w->heard) >= w->first;
	size_t n = strlen(w->text);
	if (n && write(w->fd, w->text, n) != (ssize_t)n)
		printf("# writer: %s\n", strerror(errno));
	close(w->fd);
	return NULL;
}

/* Lines read from a socket stream or the fake TLS-like one; held: two
 * lines sit inside the fake from the start, and its fd becomes readable
 * only after both were sent (an engine that waits for the fd to read
 * them never sends them). */
static void t_lines(bool fake, bool held, int interval_ms)
{
	const char *kind =
	    fake ? (held ? "fake stream, held bytes" : "fake stream") : "socket stream";
	struct peer p;
	peer_start(&p, PEER_ECHO);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct stream *in = fake ? fake_new(l, sv[0]) : stream_fd_new(l, sv[0], STREAM_F_OWN);
	if (held) {
		struct fake *f = in->priv;
		memcpy(f->held, "h1\nh2\n", 6);
		f->nheld = 6;
	}
	struct writer w = {sv[1], "one\n\ntwo words\nlast", &p.heard, held ? 2 : 0, false};
	pthread_t t;
	pthread_create(&t, NULL, write_and_close, &w);
	struct run x;
	run_init(&x);
	x.c.src = UDP_SRC_LINES;
	x.c.in = in;
	x.c.interval_ms = interval_ms;
	x.c.wait_ms = 5000;
	bool ran = run_to(&x, p.port);
	pthread_join(t, NULL);
	const char *want[] = {"h1", "h2", "one", "", "two words", "last"};
	unsigned first = held ? 0 : 2, n = 6 - first;
	bool same = x.replies == n;
	for (unsigned i = 0; same && i < n; i++)
		same = strcmp(x.data[i], want[first + i]) == 0;
	ok(ran && x.res.status == UDP_OK && x.res.probe->sent == n && same,
	   "%s: lines over a %s%s: each line one datagram without its newline, the last "
	   "without one too (%u replies)",
	   B, kind, interval_ms ? ", paced" : "", x.replies);
	if (held)
		ok(w.waited && ((struct fake *)in->priv)->handed > 0,
		   "%s: lines over a %s: the held lines sent before the fd was readable", B, kind);
	run_end(&x);
	stream_close(in);
	peer_stop(&p);
}

/* A bad hex line ends the run as bad input, after the lines before it. */
static void t_bad_line(void)
{
	struct peer p;
	peer_start(&p, PEER_ECHO);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct stream *in = stream_fd_new(l, sv[0], STREAM_F_OWN);
	struct writer w = {sv[1], "de ad\nbe ef\nabc\n00\n", NULL, 0, false};
	pthread_t t;
	pthread_create(&t, NULL, write_and_close, &w);
	struct run x;
	run_init(&x);
	x.c.src = UDP_SRC_LINES;
	x.c.in = in;
	x.c.hex = true;
	bool ran = run_to(&x, p.port);
	pthread_join(t, NULL);
	ok(ran && x.res.status == UDP_BAD_INPUT && x.res.err == UDP_ERR_BAD_INPUT &&
	       x.res.probe->sent == 2 &&
	       strcmp(x.errtext, "stdin line 3: odd number of hex digits (a lone digit at "
				 "offset 2)") == 0,
	   "%s: hex lines: two sent, then '%s'", B, x.errtext);
	run_end(&x);
	stream_close(in);
	peer_stop(&p);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		l = mkloop();
		t_list();
		t_filler_shuffled();
		t_want();
		t_interval();
		t_silent_and_dead();
		t_truncated();
		t_lines(false, false, 0);
		t_lines(true, false, 0);
		t_lines(true, true, 0);
		t_lines(true, true, 5);
		t_bad_line();
		loop_free(l);
	}
	tap_done();
}
