/* Faults: the value parser, the control protocol, the generator, and the
 * fault stream on every backend, measured: a delay as round trips, a rate
 * cap as bytes over time, chunks as separate reads, order and content
 * under jitter (over a socket and over the fake TLS-like stream, with the
 * relay as the engine), cuts at the byte threshold and in time, resets
 * seen as resets, down/hold/up, timeout-after, blackhole, and bytes
 * queued at the engine's close still delivered. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include "core/parse.h"
#include "core/sbuf.h"
#include "forward/fault.h"
#include "forward/fault_ctl.h"
#include "forward/fault_dgram.h"
#include "forward/fault_stream.h"
#include "net/relay.h"
#include "net/stream.h"
#include "tap.h"
#include "unit_loop.h"

/* ---- values ---- */

static struct fault_settings st_with(const char *name, const char *value, int *rc, char *err,
				     size_t errlen)
{
	struct fault_settings st;
	fault_settings_init(&st);
	*rc = fault_settings_set(&st, name, value, err, errlen);
	return st;
}

static void t_values(void)
{
	char err[256];
	int rc;
	struct fault_settings st = st_with("delay", "100:20", &rc, err, sizeof err);
	ok(rc == 0 && st.flow[0].delay_ms == 100 && st.flow[0].jitter_ms == 20 &&
	       st.flow[1].delay_ms == 100 && st.flow[1].jitter_ms == 20,
	   "delay 100:20 sets both directions");
	st = st_with("delay-up", "0.5s", &rc, err, sizeof err);
	ok(rc == 0 && st.flow[0].delay_ms == 500 && st.flow[1].delay_ms == 0,
	   "delay-up 0.5s is 500 ms up only");
	st = st_with("delay-down", "250ms", &rc, err, sizeof err);
	ok(rc == 0 && st.flow[1].delay_ms == 250 && st.flow[0].delay_ms == 0, "delay-down 250ms");
	st = st_with("rate", "1MiB/s", &rc, err, sizeof err);
	ok(rc == 0 && st.flow[0].rate == 1048576 && st.flow[1].rate == 1048576, "rate 1MiB/s");
	st = st_with("rate-down", "64K", &rc, err, sizeof err);
	ok(rc == 0 && st.flow[1].rate == 65536 && st.flow[0].rate == 0, "rate-down 64K");
	st = st_with("chunk", "512", &rc, err, sizeof err);
	ok(rc == 0 && st.flow[0].chunk == 512 && st.flow[1].chunk == 512, "chunk 512");
	st = st_with("chunk-delay", "15", &rc, err, sizeof err);
	ok(rc == 0 && st.flow[0].chunk_delay_ms == 15, "chunk-delay 15");
	st = st_with("close-after", "1000", &rc, err, sizeof err);
	ok(rc == 0 && st.close_after.bytes == 1000 && st.close_after.ms == 0,
	   "close-after 1000 is bytes");
	st = st_with("close-after", "5s", &rc, err, sizeof err);
	ok(rc == 0 && st.close_after.ms == 5000 && !st.close_after.bytes, "close-after 5s is time");
	st = st_with("reset-after", "500ms", &rc, err, sizeof err);
	ok(rc == 0 && st.reset_after.ms == 500, "reset-after 500ms");
	st = st_with("timeout-after", "2", &rc, err, sizeof err);
	ok(rc == 0 && st.timeout_after_ms == 2000, "timeout-after 2 is seconds");
	st = st_with("refuse", NULL, &rc, err, sizeof err);
	ok(rc == 0 && st.refuse, "refuse without a value is on");
	st = st_with("blackhole", "off", &rc, err, sizeof err);
	ok(rc == 0 && !st.blackhole, "blackhole off");
	st = st_with("loss", "12.5%", &rc, err, sizeof err);
	ok(rc == 0 && st.loss == 12.5, "loss 12.5%%");
	st = st_with("reorder", "10:50", &rc, err, sizeof err);
	ok(rc == 0 && st.reorder == 10 && st.reorder_ms == 50, "reorder 10:50");
	st = st_with("seed", "18446744073709551615", &rc, err, sizeof err);
	ok(rc == 0 && st.seed == UINT64_MAX, "seed takes 64 bits");

	static const char *const badv[][2] = {
	    {"delay", "-5"},
	    {"delay", "100:-1"},
	    {"delay", "99999999999"},
	    {"delay", "1e3"},
	    {"delay", "0x10"},
	    {"delay", " 5"},
	    {"delay", "5:"},
	    {"delay", "abc"},
	    {"rate", "-1"},
	    {"rate", "99999999999999999999"},
	    {"rate", "16EiB"},
	    {"rate", "1MiB/h"},
	    {"chunk", "5G"},
	    {"chunk", "+3"},
	    {"close-after", "0"},
	    {"close-after", "-1s"},
	    {"close-after", "2 s"},
	    {"timeout-after", "0"},
	    {"loss", "101"},
	    {"loss", "-1"},
	    {"loss", "nan"},
	    {"duplicate", "1.2.3"},
	    {"reorder", "5:0"},
	    {"seed", "-1"},
	    {"seed", "1K"},
	    {"refuse", "maybe"},
	    {"loss", ""},
	    {"rate", ""},
	};
	for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++) {
		err[0] = 0;
		st_with(badv[i][0], badv[i][1], &rc, err, sizeof err);
		ok(rc < 0 && strstr(err, badv[i][0]) && !strchr(err, '\n'), "%s '%s' refused: %s",
		   badv[i][0], badv[i][1], err);
	}
	st_with("latency", "5", &rc, err, sizeof err);
	ok(rc < 0 && strstr(err, "unknown fault 'latency'"), "unknown name: %s", err);
	st_with("delay", NULL, &rc, err, sizeof err);
	ok(rc < 0 && strstr(err, "missing"), "delay without a value: %s", err);

	fault_settings_init(&st);
	fault_settings_set(&st, "delay", "100", err, sizeof err);
	fault_settings_set(&st, "loss", "5", err, sizeof err);
	fault_settings_set(&st, "seed", "7", err, sizeof err);
	ok(fault_settings_stream_any(&st) && fault_settings_dgram_any(&st), "something injected");
	fault_settings_clear(&st, "delay-up", err, sizeof err);
	ok(st.flow[0].delay_ms == 0 && st.flow[1].delay_ms == 100, "clear delay-up keeps down");
	fault_settings_clear(&st, NULL, err, sizeof err);
	ok(!fault_settings_stream_any(&st) && !fault_settings_dgram_any(&st) && st.seed == 7,
	   "clear all: nothing injected, the seed kept");
	ok(fault_settings_clear(&st, "nope", err, sizeof err) < 0, "clear of an unknown name");

	uint64_t v;
	ok(parse_bytes("1KiB", &v) && v == 1024 && parse_bytes("2m", &v) && v == 2 << 20 &&
	       parse_bytes("3GB", &v) && v == 3ULL << 30 && parse_bytes("7", &v) && v == 7,
	   "parse_bytes: K, m, GB, bare");
	ok(!parse_bytes("16384P", &v) && !parse_bytes("K", &v) && !parse_bytes("1KiBs", &v) &&
	       !parse_bytes("17179869184G", &v),
	   "parse_bytes refuses junk and overflow");
	int ms;
	ok(parse_duration("1.5", 1000, 86400000, &ms) && ms == 1500 &&
	       parse_duration("20ms", 1000, 86400000, &ms) && ms == 20 &&
	       !parse_duration("25", 1, 20, &ms),
	   "parse_duration: units and bound");
}

/* ---- the control protocol ---- */

/* Runs one line; the answer is out, and ans() without its newline. */
static char ans[1024];
static void ctl(struct fault_set *fs, const char *line, struct sbuf *out)
{
	sb_reset(out);
	fault_ctl_line(fs, line, strlen(line), out);
	snprintf(ans, sizeof ans, "%.*s", out->len ? (int)out->len - 1 : 0, sb_str(out));
}

static void t_ctl(void)
{
	struct fault_settings st;
	fault_settings_init(&st);
	struct fault_set fs;
	fault_set_init(&fs, &st);
	struct sbuf out;
	sb_init(&out);
	ctl(&fs, "set delay-up 200\n", &out);
	ok(!strcmp(sb_str(&out), "ok delay-up 200\n") && fs.st.flow[0].delay_ms == 200,
	   "set delay-up 200: %s", ans);
	uint64_t gen = fs.generation;
	ctl(&fs, "  set   rate 1MiB \r\n", &out);
	ok(!strncmp(sb_str(&out), "ok rate", 7) && fs.st.flow[1].rate == 1048576 &&
	       fs.generation == gen + 1,
	   "set rate 1MiB with blanks and CRLF, a new generation");
	ctl(&fs, "set refuse", &out);
	ok(fs.st.refuse && fault_set_refuses(&fs), "set refuse: %s", ans);
	ctl(&fs, "clear refuse", &out);
	ok(!fs.st.refuse && !strcmp(sb_str(&out), "ok cleared refuse\n"), "clear refuse");
	ctl(&fs, "show", &out);
	ok(strstr(sb_str(&out), "\"delay_up_ms\":200") &&
	       strstr(sb_str(&out), "\"state\":\"up\"") && !strncmp(sb_str(&out), "ok {", 4),
	   "show: %s", ans);
	ctl(&fs, "down hold", &out);
	ok(fs.state == FAULT_STATE_HOLD && fault_set_refuses(&fs), "down hold");
	ctl(&fs, "down", &out);
	ok(fs.state == FAULT_STATE_DOWN, "down");
	ctl(&fs, "up", &out);
	ok(fs.state == FAULT_STATE_UP && !fault_set_refuses(&fs), "up: %s", ans);
	fs.stats.conns = 3;
	ctl(&fs, "stats", &out);
	ok(strstr(sb_str(&out), "\"connections\":3") && strstr(sb_str(&out), "\"lost\":0"),
	   "stats: %s", ans);
	ctl(&fs, "help", &out);
	ok(strstr(sb_str(&out), "reset-after") && !strncmp(sb_str(&out), "ok ", 3), "help");
	ctl(&fs, "clear", &out);
	ok(fs.st.flow[0].delay_ms == 0 && fs.st.flow[1].rate == 0, "clear all");
	ctl(&fs, "", &out);
	ok(out.len == 0, "an empty line is not answered");

	static const char *const badl[] = {
	    "frobnicate",
	    "set",
	    "set delay",
	    "set delay -5",
	    "set nosuch 1",
	    "set delay 5 6",
	    "clear nosuch",
	    "clear delay rate",
	    "down now",
	    "up now",
	    "stats please",
	    "set delay 5\0x",
	    "set delay\t9999999999999",
	};
	for (size_t i = 0; i < sizeof badl / sizeof badl[0]; i++) {
		sb_reset(&out);
		size_t len = strlen(badl[i]);
		if (!strcmp(badl[i], "set delay 5"))
			len += 2; /* with the NUL and what follows it */
		fault_ctl_line(&fs, badl[i], len, &out);
		const char *a = sb_str(&out);
		ok(!strncmp(a, "error: ", 7) && strchr(a, '\n') == a + out.len - 1,
		   "'%s' answered with one error line: %.*s", badl[i], (int)out.len - 1, a);
	}
	char longl[700];
	memset(longl, 'a', sizeof longl);
	sb_reset(&out);
	fault_ctl_line(&fs, longl, sizeof longl, &out);
	ok(strstr(sb_str(&out), "longer"), "a long line: %.*s", (int)out.len - 1, sb_str(&out));
	ok(fs.st.flow[0].delay_ms == 0 && !fault_settings_stream_any(&fs.st),
	   "bad lines changed nothing");
	sb_free(&out);
}

/* ---- the generator ---- */

static void t_rng(void)
{
	struct fault_settings st;
	fault_settings_init(&st);
	char err[128];
	fault_settings_set(&st, "loss", "10", err, sizeof err);
	fault_settings_set(&st, "seed", "42", err, sizeof err);
	struct fault_set a, b;
	fault_set_init(&a, &st);
	fault_set_init(&b, &st);
	const int n = 100000;
	int lost = 0, same = 0;
	for (int i = 0; i < n; i++) {
		struct fault_dgram da, db;
		fault_dgram_decide(&a, FAULT_UP, &da);
		fault_dgram_decide(&b, FAULT_UP, &db);
		lost += da.drop;
		same += da.drop == db.drop;
	}
	ok(same == n, "seed 42: the same loss decisions twice (%d of %d)", same, n);
	/* Binomial(100000, 0.1): sd ~95; five of them either way. */
	double sd = sqrt(n * 0.1 * 0.9);
	ok(fabs(lost - n * 0.1) < 5 * sd, "10%% loss: %d of %d lost (within 5 sd = %.0f)", lost, n,
	   5 * sd);
	ok(a.stats.lost == (uint64_t)lost && a.stats.dgrams == (uint64_t)n, "counted in stats");
	st.seed = 43;
	struct fault_set c;
	fault_set_init(&c, &st);
	int differ = 0;
	fault_set_init(&a, &(struct fault_settings){.loss = 10, .seed = 42});
	for (int i = 0; i < 1000; i++) {
		struct fault_dgram da, dc;
		fault_dgram_decide(&a, FAULT_UP, &da);
		fault_dgram_decide(&c, FAULT_UP, &dc);
		differ += da.drop != dc.drop;
	}
	ok(differ > 50, "another seed, other decisions (%d of 1000 differ)", differ);
	fault_settings_init(&st);
	fault_settings_set(&st, "duplicate", "50", err, sizeof err);
	fault_settings_set(&st, "reorder", "25:30", err, sizeof err);
	fault_settings_set(&st, "delay", "10:5", err, sizeof err);
	fault_set_init(&a, &st);
	int dup = 0, reord = 0, dmin = 1000, dmax = 0;
	for (int i = 0; i < 10000; i++) {
		struct fault_dgram d;
		fault_dgram_decide(&a, FAULT_DOWN, &d);
		dup += d.copies == 2;
		reord += d.delay_ms >= 30;
		dmin = d.delay_ms < dmin ? d.delay_ms : dmin;
		dmax = d.delay_ms > dmax ? d.delay_ms : dmax;
	}
	ok(abs(dup - 5000) < 250 && abs(reord - 2500) < 250 && dmin == 5 && dmax == 45,
	   "duplicate 50%%: %d, reorder 25%%: %d, delays %d..%d ms", dup, reord, dmin, dmax);
}

/* ---- an echo engine over the fault stream ---- */

struct echo {
	struct stream *s;
	struct timer guard;
	char buf[65536];
	size_t len;
	bool eof, done, timed_out;
	bool close_when_written; /* close as soon as the first reply is handed over */
	size_t reply;		 /* answer each read with this many bytes (0: echo) */
	size_t maxread, reads;
	uint64_t total;
	int cuts;
	enum fault_cut_kind cut_kind;
	char why[64];
};

static void echo_end(struct echo *e)
{
	if (e->done)
		return;
	e->done = true;
	loop_timer_stop(e->s->loop, &e->guard);
	stream_close(e->s);
}

static void echo_cb(struct stream *s, int ready, void *arg)
{
	(void)ready;
	struct echo *e = arg;
	for (;;) {
		if (e->len) {
			ssize_t w = stream_write(s, e->buf, e->len);
			if (w < 0 && errno != EAGAIN) {
				echo_end(e);
				return;
			}
			if (w > 0) {
				memmove(e->buf, e->buf + w, e->len - (size_t)w);
				e->len -= (size_t)w;
				if (!e->len && e->close_when_written) {
					echo_end(e);
					return;
				}
			}
			if (e->len)
				break;
		}
		if (e->eof) {
			stream_shutdown_write(s);
			echo_end(e);
			return;
		}
		ssize_t r = stream_read(s, e->buf, sizeof e->buf);
		if (r > 0) {
			e->len = (size_t)r;
			if (e->reply) {
				e->len = e->reply;
				memset(e->buf, 'r', e->len);
			}
			e->reads++;
			e->total += (uint64_t)r;
			if ((size_t)r > e->maxread)
				e->maxread = (size_t)r;
			continue;
		}
		if (r == 0) {
			e->eof = true;
			continue;
		}
		if (errno != EAGAIN) {
			echo_end(e);
			return;
		}
		break;
	}
	stream_want(s, e->len ? STREAM_WRITE : STREAM_READ);
}

static void on_cut(struct stream *s, enum fault_cut_kind kind, const char *why, void *arg)
{
	(void)s;
	struct echo *e = arg;
	e->cuts++;
	e->cut_kind = kind;
	snprintf(e->why, sizeof e->why, "%s", why);
	echo_end(e);
}

static void on_guard(struct loop *l, void *arg)
{
	struct echo *e = arg;
	e->timed_out = true;
	echo_end(e);
	loop_stop(l);
}

/* The echo engine on fd (non-blocking, owned) through fs's faults. */
static void echo_start(struct echo *e, struct loop *l, int fd, struct fault_set *fs)
{
	memset(e, 0, sizeof *e);
	struct stream *in = stream_fd_new(l, fd, STREAM_F_OWN);
	e->s = fault_stream_new(in, fs, on_cut, e);
	stream_set_cb(e->s, echo_cb, e);
	stream_want(e->s, STREAM_READ);
	timer_init(&e->guard, on_guard, e);
	loop_timer_start(l, &e->guard, 20000);
}

/* A connected TCP pair on loopback: sv[0] non-blocking with NODELAY (the
 * engine's), sv[1] blocking (the test's). */
static int tcp_pair(int sv[2])
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) < 0)
		return -1;
	sv[1] = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(sv[1], (struct sockaddr *)&a, sizeof a) < 0)
		return -1;
	sv[0] = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
	close(ls);
	int one = 1;
	setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return sv[0] < 0 ? -1 : 0;
}

static struct fault_set *fs_with(struct fault_set *fs, const char *const *kv)
{
	struct fault_settings st;
	fault_settings_init(&st);
	char err[256];
	for (; kv[0]; kv += 2)
		if (fault_settings_set(&st, kv[0], kv[1], err, sizeof err) < 0)
			printf("# %s\n", err);
	fault_set_init(fs, &st);
	return fs;
}

/* Reads exactly n bytes from a blocking fd within ms; returns what came. */
static size_t read_n(int fd, char *buf, size_t n, int ms)
{
	size_t got = 0;
	int64_t end = clock_ms() + ms;
	while (got < n) {
		int left = (int)(end - clock_ms());
		struct pollfd p = {fd, POLLIN, 0};
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* ---- tests of the stream, driven from a thread on the far end ---- */

struct driver {
	int fd;
	size_t send_n;
	struct fault_set *fs;
	double rtt_ms[4];
	size_t got;
	int reads, maxread;
	int64_t elapsed_ms;
	int err; /* errno of the read that ended */
	bool eof;
	int phase_ok[4];
};

/* One connection under test: the echo engine behind the faults on a TCP
 * pair, and a driver thread on the far end. */
struct rig {
	struct loop *l;
	int sv[2];
	struct fault_set fs;
	struct echo e;
	struct driver d;
};

static void rig_start(struct rig *r, const char *const *kv)
{
	r->l = mkloop();
	tcp_pair(r->sv);
	fs_with(&r->fs, kv);
	echo_start(&r->e, r->l, r->sv[0], &r->fs);
	memset(&r->d, 0, sizeof r->d);
	r->d.fd = r->sv[1];
}

static void rig_run(struct rig *r, void *(*drive)(void *))
{
	pthread_t t;
	pthread_create(&t, NULL, drive, &r->d);
	loop_run(r->l);
	pthread_join(t, NULL);
}

static void rig_end(struct rig *r)
{
	close(r->sv[1]);
	loop_free(r->l);
}

static void *drive_rtt(void *arg)
{
	struct driver *d = arg;
	char ping[10] = "ping-pong\n", back[10];
	for (int i = 0; i < 3; i++) {
		int64_t t0 = clock_us();
		send(d->fd, ping, sizeof ping, MSG_NOSIGNAL);
		size_t n = read_n(d->fd, back, sizeof back, 3000);
		d->rtt_ms[i] = n == sizeof back && !memcmp(back, ping, n)
				   ? (double)(clock_us() - t0) / 1000.0
				   : -1;
	}
	shutdown(d->fd, SHUT_WR);
	return NULL;
}

static void t_delay(const char *setting, const char *value, double want_ms, double jitter)
{
	struct rig r;
	rig_start(&r, (const char *[]){setting, value, NULL});
	rig_run(&r, drive_rtt);
	/* A loaded machine adds time, never takes it away; the tight
	 * figure is bench/forward_faults.sh's. */
	bool all = true;
	for (int i = 0; i < 3; i++)
		all &=
		    r.d.rtt_ms[i] >= want_ms - jitter - 2 && r.d.rtt_ms[i] < want_ms + jitter + 150;
	ok(all && !r.e.timed_out, "%s: --%s %s: round trips %.1f %.1f %.1f ms (want %.0f)", B,
	   setting, value, r.d.rtt_ms[0], r.d.rtt_ms[1], r.d.rtt_ms[2], want_ms);
	rig_end(&r);
}

static void *drive_bulk(void *arg)
{
	struct driver *d = arg;
	size_t n = 384 * 1024;
	char *out = malloc(n), *in = malloc(n);
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(i * 7 + i / 251);
	int64_t t0 = clock_ms();
	/* The sender in its own thread would be cleaner; a socket buffer
	 * this size takes it all with the echo draining. */
	size_t sent = 0, got = 0;
	while (got < n) {
		struct pollfd p = {d->fd, POLLIN | (sent < n ? POLLOUT : 0), 0};
		if (poll(&p, 1, 5000) <= 0)
			break;
		if ((p.revents & POLLOUT) && sent < n) {
			ssize_t w = send(d->fd, out + sent, n - sent > 16384 ? 16384 : n - sent,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0)
				sent += (size_t)w;
		}
		if (p.revents & POLLIN) {
			ssize_t r = recv(d->fd, in + got, n - got, MSG_DONTWAIT);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
	}
	d->elapsed_ms = clock_ms() - t0;
	d->got = got;
	d->phase_ok[0] = got == n && !memcmp(in, out, n);
	shutdown(d->fd, SHUT_WR);
	free(out);
	free(in);
	return NULL;
}

static void t_rate(void)
{
	struct rig r;
	/* Both ways capped: the echo is as fast as the slower, 256 KiB/s. */
	rig_start(&r, (const char *[]){"rate", "256K", NULL});
	rig_run(&r, drive_bulk);
	/* 384 KiB at 256 KiB/s, less the bucket's first burst (1/20 s). */
	double rate = r.d.elapsed_ms > 0 ? (double)r.d.got / ((double)r.d.elapsed_ms / 1000.0) : 0;
	double want = 262144;
	ok(r.d.phase_ok[0] && rate > want * 0.9 && rate < want * 1.1,
	   "%s: rate 256K: %zu bytes echoed in %lld ms = %.0f B/s (want %.0f +/- 10%%)", B, r.d.got,
	   (long long)r.d.elapsed_ms, rate, want);
	rig_end(&r);
}

static void *drive_chunks(void *arg)
{
	struct driver *d = arg;
	char msg[1000], back[1000];
	memset(msg, 'c', sizeof msg);
	int64_t t0 = clock_ms();
	send(d->fd, msg, sizeof msg, MSG_NOSIGNAL);
	size_t got = 0;
	while (got < sizeof back) {
		struct pollfd p = {d->fd, POLLIN, 0};
		if (poll(&p, 1, 3000) <= 0)
			break;
		ssize_t r = recv(d->fd, back + got, sizeof back - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
		d->reads++;
		if (r > d->maxread)
			d->maxread = (int)r;
	}
	d->got = got;
	d->elapsed_ms = clock_ms() - t0;
	shutdown(d->fd, SHUT_WR);
	return NULL;
}

static void t_chunks(void)
{
	struct rig r;
	rig_start(&r, (const char *[]){"chunk", "100", "chunk-delay-down", "10", NULL});
	rig_run(&r, drive_chunks);
	ok(r.e.maxread <= 100 && r.e.reads >= 10,
	   "%s: chunk 100: the engine read %zu times, at most %zu", B, r.e.reads, r.e.maxread);
	/* 10 sends 10 ms apart: the reader sees them one by one. */
	ok(r.d.got == 1000 && r.d.maxread <= 100 && r.d.reads >= 10 && r.d.elapsed_ms >= 88,
	   "%s: chunk 100, chunk-delay-down 10: %d reads of at most %d bytes over %lld ms", B,
	   r.d.reads, r.d.maxread, (long long)r.d.elapsed_ms);
	rig_end(&r);
}

/* The relay (a real engine) between pipes and the fault stream, over a
 * socket or the fake TLS-like stream, with jitter both ways: every byte
 * comes back, in order. */
static void on_relay_cut(struct stream *s, enum fault_cut_kind kind, const char *why, void *arg)
{
	(void)s;
	(void)kind;
	(void)why;
	(void)arg;
}

static void t_jitter(bool fake)
{
	const char *kind = fake ? "fake TLS stream" : "socket stream";
	size_t n = 512 * 1024;
	unsigned char *in = malloc(n), *out = malloc(n);
	fill(in, n, fake ? 5 : 11);
	struct loop *l = mkloop();
	int pin[2], pout[2], sv[2];
	pipe(pin);
	pipe(pout);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) & ~O_NONBLOCK);
	struct feeder fd_in = {pin[1], in, n};
	struct drain fd_out = {pout[0], out, n, 0};
	struct echo_peer peer = {sv[1], fake, 0};
	pthread_t t1, t2, t3;
	pthread_create(&t1, NULL, feed, &fd_in);
	pthread_create(&t2, NULL, drain, &fd_out);
	pthread_create(&t3, NULL, echo_peer, &peer);
	struct fault_set fs;
	fs_with(&fs, (const char *[]){"delay", "3:3", "chunk-up", "3000", NULL});
	struct stream *sin = stream_fd_new(l, pin[0], STREAM_F_OWN);
	struct stream *sout = stream_fd_new(l, pout[1], STREAM_F_OWN);
	struct stream *inner = fake ? fake_new(l, sv[0]) : stream_fd_new(l, sv[0], STREAM_F_OWN);
	struct fake *fk = fake ? inner->priv : NULL;
	struct stream *sock = fault_stream_new(inner, &fs, on_relay_cut, NULL);
	ok(!stream_has(sock, STREAM_F_SPLICE_READ) && !stream_has(sock, STREAM_F_SENDFILE) &&
	       fault_stream_inner(sock) == inner,
	   "%s: the fault stream has no zero-copy abilities", B);
	struct relay_opts o = {.quit_after_eof_ms = -1, .zero_copy = true};
	struct relay_result res = {0};
	struct relay *r = relay_start(l, sin, sout, sock, "peer", &o, on_relay_done, &res);
	loop_run(l);
	relay_free(r);
	if (fk)
		ok(fk->spins <= fk->waits, "%s: over a %s: %u wasted write retries (%u waits)", B,
		   kind, fk->spins, fk->waits);
	stream_close(sin);
	stream_close(sout);
	stream_close(sock);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	ok(res.done && res.status == 0 && fd_out.n == n && !memcmp(in, out, n),
	   "%s: delay 3:3 over a %s: %zu of %zu bytes back, in order (%s)", B, kind, fd_out.n, n,
	   res.text);
	ok(fs.stats.bytes_up == n && fs.stats.bytes_down == n && fs.stats.active == 0,
	   "%s: counted both ways (%llu up, %llu down)", B, (unsigned long long)fs.stats.bytes_up,
	   (unsigned long long)fs.stats.bytes_down);
	close(sv[1]);
	loop_free(l);
	free(in);
	free(out);
}

static void *drive_cut(void *arg)
{
	struct driver *d = arg;
	char buf[5000];
	memset(buf, 'x', sizeof buf);
	send(d->fd, buf, d->send_n, MSG_NOSIGNAL);
	size_t got = 0;
	for (;;) {
		struct pollfd p = {d->fd, POLLIN, 0};
		if (poll(&p, 1, 3000) <= 0)
			break;
		ssize_t r = recv(d->fd, buf, sizeof buf, 0);
		if (r < 0)
			d->err = errno;
		if (r == 0)
			d->eof = true;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	d->got = got;
	return NULL;
}

/* reply 0: the client sends 5000 bytes to an echo, and the cut comes on
 * the way up; else the client sends one byte and the engine answers with
 * reply bytes, cut on the way down. */
static void t_cut_as(const char *setting, const char *value, bool reset, size_t reply,
		     bool engine_closes)
{
	struct rig r;
	rig_start(&r, (const char *[]){setting, value, NULL});
	r.e.reply = reply;
	r.e.close_when_written = engine_closes;
	r.d.send_n = reply ? 1 : 5000;
	rig_run(&r, drive_cut);
	bool bytes = !strchr(value, 's');
	ok(r.e.cuts == 1 && r.e.cut_kind == (reset ? FAULT_CUT_RESET : FAULT_CUT_CLOSE) &&
	       strstr(r.e.why, setting),
	   "%s: %s %s: the cut callback once (%s)", B, setting, value, r.e.why);
	/* An engine that would close as soon as its reply is written (a
	 * relay whose target ended) must not get past the threshold and
	 * close first: the client would see a clean end, not a reset. */
	if (engine_closes)
		ok(r.e.len == reply - 1000,
		   "%s: %s %s: the engine's write stopped at the threshold", B, setting, value);
	if (bytes && !reply)
		ok(r.e.total == 1000 && r.d.got <= 1000,
		   "%s: %s %s on the way up: the engine read %llu bytes, %zu came back", B, setting,
		   value, (unsigned long long)r.e.total, r.d.got);
	else if (bytes)
		ok(r.d.got == 1000, "%s: %s %s on the way down: the client got %zu bytes", B,
		   setting, value, r.d.got);
	if (reset)
		ok(r.d.err == ECONNRESET, "%s: %s %s: the client sees a reset (%s)", B, setting,
		   value, strerror(r.d.err));
	else
		ok(r.d.eof, "%s: %s %s: the client sees the end (%s)", B, setting, value,
		   strerror(r.d.err));
	ok(r.fs.stats.active == 0 && (reset ? r.fs.stats.reset : r.fs.stats.closed) == 1,
	   "%s: %s %s counted", B, setting, value);
	rig_end(&r);
}

/* down hold, up, then down, on an open connection, the steps run on the
 * loop's thread as the control socket's commands are; the test's end of
 * the connection is only looked at without waiting, and a step that
 * finds nothing yet looks again (a loaded machine is slow, never fast). */
struct state_ctl {
	struct fault_set *fs;
	int fd;
	struct timer t;
	int step, tries;
	bool phase[3];
	char b[8];
};

static bool got(struct state_ctl *c, const char *want)
{
	ssize_t r = recv(c->fd, c->b, sizeof c->b, MSG_DONTWAIT);
	return r == (ssize_t)strlen(want) && !memcmp(c->b, want, (size_t)r);
}

static void on_state_step(struct loop *l, void *arg)
{
	struct state_ctl *c = arg;
	switch (c->step) {
	case 0:
		send(c->fd, "one", 3, MSG_NOSIGNAL);
		c->step++;
		break;
	case 1:
		if (!got(c, "one") && ++c->tries < 100)
			break;
		c->phase[0] = c->tries < 100;
		fault_set_state(c->fs, FAULT_STATE_HOLD);
		send(c->fd, "two", 3, MSG_NOSIGNAL);
		c->step++;
		loop_timer_start(l, &c->t, 300);
		return;
	case 2: {
		/* Held for 300 ms: nothing back. */
		ssize_t r = recv(c->fd, c->b, sizeof c->b, MSG_DONTWAIT);
		c->phase[1] = r < 0 && errno == EAGAIN && c->fs->stats.held == 1;
		fault_set_state(c->fs, FAULT_STATE_UP);
		c->step++;
		c->tries = 0;
		break;
	}
	case 3:
		if (!got(c, "two") && ++c->tries < 100)
			break;
		c->phase[2] = c->tries < 100;
		fault_set_state(c->fs, FAULT_STATE_DOWN);
		return;
	}
	loop_timer_start(l, &c->t, 20);
}

static void t_cut(const char *setting, const char *value, bool reset, size_t reply)
{
	t_cut_as(setting, value, reset, reply, false);
}

static void t_state(void)
{
	struct loop *l = mkloop();
	int sv[2];
	tcp_pair(sv);
	struct fault_set fs;
	fs_with(&fs, (const char *[]){NULL});
	struct echo e;
	echo_start(&e, l, sv[0], &fs);
	struct state_ctl c = {.fs = &fs, .fd = sv[1]};
	timer_init(&c.t, on_state_step, &c);
	loop_timer_start(l, &c.t, 0);
	loop_run(l);
	loop_timer_stop(l, &c.t);
	char b[4];
	ssize_t r = recv(sv[1], b, sizeof b, 0);
	ok(c.phase[0], "%s: forwarding before any state change", B);
	ok(c.phase[1], "%s: down hold: no bytes move, the connection stays", B);
	ok(c.phase[2], "%s: up: the held bytes move on", B);
	ok(e.cuts == 1 && e.cut_kind == FAULT_CUT_RESET && !strcmp(e.why, "down") && r < 0 &&
	       errno == ECONNRESET,
	   "%s: down: the open connection is reset (%s)", B, r < 0 ? strerror(errno) : "no error");
	close(sv[1]);
	loop_free(l);
}

/* timeout-after: bytes stop, the connection stays; blackhole: read, never
 * answered. */
static void *drive_quiet(void *arg)
{
	struct driver *d = arg;
	char b[8];
	send(d->fd, "early", 5, MSG_NOSIGNAL);
	d->phase_ok[0] = read_n(d->fd, b, 5, 2000) == 5;
	usleep(400 * 1000);
	send(d->fd, "late!", 5, MSG_NOSIGNAL);
	d->got = read_n(d->fd, b, 5, 400);
	shutdown(d->fd, SHUT_WR);
	return NULL;
}

static void t_timeout(void)
{
	struct rig r;
	rig_start(&r, (const char *[]){"timeout-after", "300ms", NULL});
	/* The guard ends the loop: a timed-out connection never ends. */
	loop_timer_start(r.l, &r.e.guard, 2500);
	rig_run(&r, drive_quiet);
	ok(r.d.phase_ok[0] && r.d.got == 0 && r.e.cuts == 0 && r.fs.stats.timed_out == 1 &&
	       !r.e.eof,
	   "%s: timeout-after 300ms: echoed before, nothing after, not cut, no end seen "
	   "(%zu bytes late)",
	   B, r.d.got);
	rig_end(&r);
}

static void *drive_blackhole(void *arg)
{
	struct driver *d = arg;
	char b[8];
	send(d->fd, "hello", 5, MSG_NOSIGNAL);
	d->got = read_n(d->fd, b, 5, 300);
	shutdown(d->fd, SHUT_WR);
	return NULL;
}

static void t_blackhole(void)
{
	struct rig r;
	rig_start(&r, (const char *[]){"blackhole", "on", NULL});
	rig_run(&r, drive_blackhole);
	ok(r.d.got == 0 && r.e.total == 0 && r.e.eof && !r.e.timed_out,
	   "%s: blackhole: nothing handed on or answered, the client's end still seen", B);
	rig_end(&r);
}

/* The engine closes right after handing its reply over: the delayed
 * reply still arrives, then the end. */
static void *drive_drain(void *arg)
{
	struct driver *d = arg;
	char b[16];
	int64_t t0 = clock_us();
	send(d->fd, "question", 8, MSG_NOSIGNAL);
	d->got = read_n(d->fd, b, 8, 3000);
	d->rtt_ms[0] = (double)(clock_us() - t0) / 1000.0;
	ssize_t r = recv(d->fd, b, sizeof b, 0);
	d->eof = r == 0;
	return NULL;
}

static void t_drain(void)
{
	struct rig r;
	rig_start(&r, (const char *[]){"delay-down", "150", "rate-down", "1000", NULL});
	r.e.close_when_written = true;
	rig_run(&r, drive_drain);
	ok(r.d.got == 8 && r.d.eof && r.d.rtt_ms[0] >= 148 && r.fs.stats.active == 0,
	   "%s: closed with a reply queued: it arrives %.0f ms later, then the end", B,
	   r.d.rtt_ms[0]);
	rig_end(&r);
}

/* A setting changed while the connection is open applies to it. */
static void *drive_live(void *arg)
{
	struct driver *d = arg;
	char b[4];
	int64_t t0 = clock_us();
	send(d->fd, "abc", 3, MSG_NOSIGNAL);
	read_n(d->fd, b, 3, 2000);
	d->rtt_ms[0] = (double)(clock_us() - t0) / 1000.0;
	/* The loop thread changes the delay meanwhile (on_live). */
	usleep(150 * 1000);
	t0 = clock_us();
	send(d->fd, "abc", 3, MSG_NOSIGNAL);
	d->got = read_n(d->fd, b, 3, 2000);
	d->rtt_ms[1] = (double)(clock_us() - t0) / 1000.0;
	shutdown(d->fd, SHUT_WR);
	return NULL;
}

static void on_live(struct loop *l, void *arg)
{
	(void)l;
	struct fault_set *fs = arg;
	struct sbuf out;
	sb_init(&out);
	fault_ctl_line(fs, "set delay-up 120", 16, &out);
	sb_free(&out);
}

static void t_live(void)
{
	struct rig r;
	rig_start(&r, (const char *[]){NULL});
	struct timer ch;
	timer_init(&ch, on_live, &r.fs);
	loop_timer_start(r.l, &ch, 75);
	rig_run(&r, drive_live);
	ok(r.d.rtt_ms[0] < 60 && r.d.got == 3 && r.d.rtt_ms[1] >= 118,
	   "%s: set delay-up 120 on an open connection: %.1f ms, then %.1f ms", B, r.d.rtt_ms[0],
	   r.d.rtt_ms[1]);
	rig_end(&r);
}

/* ---- datagrams ---- */

struct dg_seen {
	unsigned idx[8192];
	size_t n;
};

static void dg_send(void *arg, const void *p, size_t n)
{
	struct dg_seen *d = arg;
	unsigned i;
	if (n == sizeof i && d->n < sizeof d->idx / sizeof d->idx[0]) {
		memcpy(&i, p, sizeof i);
		d->idx[d->n++] = i;
	}
}

/* N datagrams (their index as payload) through the faults kv on the
 * loop; what came out, in order, is in *out. */
static void dg_run(const char *const *kv, unsigned n, struct dg_seen *out, struct fault_set *fs)
{
	struct loop *l = mkloop();
	fs_with(fs, kv);
	struct fault_dgram_q q;
	memset(out, 0, sizeof *out);
	fault_dgram_q_init(&q, l, fs, FAULT_UP, dg_send, out);
	for (unsigned i = 0; i < n; i++)
		fault_dgram_q_put(&q, &i, sizeof i);
	loop_run(l); /* until the last held one is out */
	fault_dgram_q_clear(&q);
	loop_free(l);
}

static void t_dgram(void)
{
	const unsigned n = 4000;
	static struct dg_seen a, b;
	struct fault_set fs;
	dg_run((const char *[]){"loss", "20", "seed", "9", NULL}, n, &a, &fs);
	dg_run((const char *[]){"loss", "20", "seed", "9", NULL}, n, &b, &fs);
	double sd = sqrt(n * 0.2 * 0.8);
	ok(a.n == b.n && !memcmp(a.idx, b.idx, a.n * sizeof a.idx[0]) &&
	       fabs((double)(n - a.n) - n * 0.2) < 5 * sd && fs.stats.lost == n - a.n,
	   "%s: loss 20%% seed 9: %zu of %u lost, the same datagrams both runs (5 sd = %.0f)", B,
	   n - a.n, n, 5 * sd);
	bool ordered = true;
	for (size_t i = 1; i < a.n; i++)
		ordered &= a.idx[i] > a.idx[i - 1];
	ok(ordered, "%s: loss keeps the order of the rest", B);
	dg_run((const char *[]){"duplicate", "10", "seed", "3", NULL}, n, &a, &fs);
	sd = sqrt(n * 0.1 * 0.9);
	ok(fabs((double)(a.n - n) - n * 0.1) < 5 * sd && fs.stats.duplicated == a.n - n,
	   "%s: duplicate 10%%: %zu copies more", B, a.n - n);
	int64_t t0 = clock_ms();
	dg_run((const char *[]){"reorder", "10:30", "seed", "5", NULL}, n, &a, &fs);
	/* Overtaken: arriving after one sent later. */
	size_t late = 0;
	unsigned most = 0;
	for (size_t i = 0; i < a.n; i++) {
		late += a.idx[i] < most;
		most = a.idx[i] > most ? a.idx[i] : most;
	}
	sd = sqrt(n * 0.1 * 0.9);
	ok(a.n == n && fabs((double)late - n * 0.1) < 5 * sd && fs.stats.reordered == late &&
	       clock_ms() - t0 >= 29,
	   "%s: reorder 10%%:30: all %zu out, %zu overtaken", B, a.n, late);
	t0 = clock_ms();
	dg_run((const char *[]){"delay", "50:10", NULL}, 200, &a, &fs);
	ok(a.n == 200 && clock_ms() - t0 >= 39, "%s: delay 50:10: 200 datagrams out after %lld ms",
	   B, (long long)(clock_ms() - t0));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	t_values();
	t_ctl();
	t_rng();
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_delay("delay-up", "200", 200, 0);
		t_delay("delay", "100", 200, 0);
		t_delay("delay-down", "50:20", 50, 20);
		t_rate();
		t_chunks();
		t_jitter(false);
		t_jitter(true);
		t_cut("close-after", "1000", false, 0);
		t_cut("close-after", "1000", false, 5000);
		t_cut("reset-after", "1000", true, 5000);
		t_cut_as("reset-after", "1000", true, 5000, true);
		t_cut("reset-after", "200ms", true, 0);
		t_state();
		t_timeout();
		t_blackhole();
		t_drain();
		t_live();
		t_dgram();
	}
	tap_done();
}
