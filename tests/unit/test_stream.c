/* The stream layer, the output queue, the accept loop and the child
 * registry, on every mux backend. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/acceptor.h"
#include "net/connector.h"
#include "proc/children.h"
#include "core/loop.h"
#include "core/outq.h"
#include "net/sock.h"
#include "net/stream.h"
#include "tap.h"
#include "unit_net.h"
#include "unit_loop.h"

/* ---- a stream over a socketpair: wants, callbacks, shutdown ---- */

struct echo_ctx {
	struct stream *s;
	char got[64];
	size_t n;
	int calls;
	bool eof;
};

static void on_read(struct stream *s, int ready, void *arg)
{
	struct echo_ctx *e = arg;
	e->calls++;
	if (!(ready & STREAM_READ))
		return;
	ssize_t r = stream_read(s, e->got + e->n, sizeof e->got - e->n);
	if (r > 0)
		e->n += (size_t)r;
	else if (r == 0) {
		e->eof = true;
		stream_want(s, 0);
		loop_stop(s->loop);
	}
}

static void t_socketpair(void)
{
	struct loop *l = mkloop();
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	struct stream *a = stream_fd_new(l, sv[0], STREAM_F_OWN);
	struct stream *b = stream_fd_new(l, sv[1], STREAM_F_OWN);
	ok(a && b && stream_has(a, STREAM_F_SOCKET) && !stream_has(a, STREAM_F_DGRAM),
	   "%s: socket streams", B);
	ok(stream_has(a, STREAM_F_SPLICE_READ) && stream_has(a, STREAM_F_SENDFILE),
	   "%s: a non-blocking socket can splice and take sendfile", B);
	struct echo_ctx e = {.s = b};
	stream_set_cb(b, on_read, &e);
	ok(stream_want(b, STREAM_READ) == 0, "%s: want read", B);
	ok(stream_write(a, "hello", 5) == 5, "%s: write", B);
	ok(stream_shutdown_write(a) == 0, "%s: shutdown write", B);
	loop_run(l);
	ok(e.n == 5 && memcmp(e.got, "hello", 5) == 0 && e.eof, "%s: bytes then end of input", B);
	ok(stream_raw_fd(a) == sv[0], "%s: raw fd of a plain stream", B);
	stream_close(a);
	stream_close(b);
	ok(fcntl(sv[0], F_GETFD) < 0 && errno == EBADF, "%s: an owned fd is closed", B);
	loop_free(l);
}

static void on_stop(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

/* stream_want_later: the registration stays until the next want changes
 * it in one step, or until an event nobody wants drops it. */
static void t_want_later(void)
{
	struct loop *l = mkloop();
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	struct stream *a = stream_fd_new(l, sv[0], STREAM_F_OWN);
	struct stream *b = stream_fd_new(l, sv[1], STREAM_F_OWN);
	struct echo_ctx e = {.s = a};
	stream_set_cb(a, on_read, &e);
	stream_want(a, STREAM_WRITE);
	stream_want_later(a);
	ok(a->want == 0 && a->mask == MUX_WRITE, "%s: want_later keeps the registration", B);
	ok(stream_want(a, STREAM_READ) == 0 && a->mask == MUX_READ,
	   "%s: the next want changes it in one step", B);
	stream_write(b, "hi", 2);
	stream_shutdown_write(b);
	loop_run(l);
	ok(e.n == 2 && e.eof, "%s: and reads as usual", B);
	/* Left registered for writing, wanted by nobody: the first event
	 * drops it, and the callback never runs. */
	struct echo_ctx e2 = {.s = b};
	stream_set_cb(b, on_read, &e2);
	stream_want(b, STREAM_WRITE);
	stream_want_later(b);
	struct timer guard;
	timer_init(&guard, on_stop, NULL);
	loop_timer_start(l, &guard, 200);
	loop_run(l);
	ok(b->mask == 0 && e2.calls == 0, "%s: an unwanted event drops it (mask %d, %d calls)", B,
	   b->mask, e2.calls);
	loop_timer_stop(l, &guard);
	stream_close(a);
	stream_close(b);
	loop_free(l);
}

/* loop_set_fds_private: a stream's fd closed without telling the kernel
 * apart (epoll drops it with the file); the number, reused at once and
 * watched for the same event, is watched afresh. */
static void t_close_private(void)
{
	struct loop *l = mkloop();
	loop_set_fds_private(l, true);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	struct stream *a = stream_fd_new(l, sv[0], STREAM_F_OWN);
	stream_set_cb(a, on_read, NULL);
	stream_want(a, STREAM_READ);
	stream_close(a);
	close(sv[1]);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	struct stream *b = stream_fd_new(l, sv[0], STREAM_F_OWN);
	struct stream *c = stream_fd_new(l, sv[1], STREAM_F_OWN);
	struct echo_ctx e = {.s = b};
	stream_set_cb(b, on_read, &e);
	stream_want(b, STREAM_READ);
	stream_write(c, "again", 5);
	stream_shutdown_write(c);
	struct timer guard;
	timer_init(&guard, on_stop, NULL);
	loop_timer_start(l, &guard, 5000);
	loop_run(l);
	loop_timer_stop(l, &guard);
	ok(e.n == 5 && e.eof,
	   "%s: private fds: a closed fd's number watched again (fd %d, %zu bytes)", B, sv[0], e.n);
	stream_close(b);
	stream_close(c);
	loop_free(l);
}

/* A blocking socket (inherited: an --exec program's stdin) is copied
 * with MSG_DONTWAIT, never spliced. */
static void t_blocking_socket(void)
{
	struct loop *l = mkloop();
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct stream *a = stream_fd_new(l, sv[0], 0);
	ok(a && !stream_has(a, STREAM_F_SPLICE_READ) && !stream_has(a, STREAM_F_SENDFILE),
	   "%s: a blocking socket loses splice and sendfile", B);
	char c;
	errno = 0;
	ok(stream_read(a, &c, 1) < 0 && errno == EAGAIN,
	   "%s: reading an empty blocking socket does not wait", B);
	ok(!(fcntl(sv[0], F_GETFL) & O_NONBLOCK), "%s: the socket's own flags are unchanged", B);
	stream_close(a);
	ok(fcntl(sv[0], F_GETFD) >= 0, "%s: a borrowed fd stays open", B);
	close(sv[0]);
	close(sv[1]);
	loop_free(l);
}

/* stream_set_blocking (the fork and thread models): the calls wait in
 * the kernel, one system call each; a borrowed fd is refused. */
static void t_set_blocking(void)
{
	struct loop *l = mkloop();
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	struct stream *borrowed = stream_fd_new(l, sv[0], 0);
	errno = 0;
	ok(stream_set_blocking(borrowed) < 0 && errno == ENOTSUP &&
	       (fcntl(sv[0], F_GETFL) & O_NONBLOCK),
	   "%s: a borrowed fd is not made blocking", B);
	stream_close(borrowed);
	struct stream *a = stream_socket_new(l, sv[0], STREAM_F_OWN);
	ok(stream_set_blocking(a) == 0 && stream_has(a, STREAM_F_BLOCKING) &&
	       !stream_has(a, STREAM_F_SPLICE_READ) && !(fcntl(sv[0], F_GETFL) & O_NONBLOCK),
	   "%s: an owned socket is made blocking", B);
	/* A receive timeout shows the read waited instead of failing at once. */
	struct timeval tv = {.tv_usec = 50000};
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char c;
	ssize_t r = stream_read(a, &c, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ok(r < 0 && errno == EAGAIN && ms >= 40, "%s: an empty read waits (%ld ms)", B, ms);
	ok(write(sv[1], "x", 1) == 1 && stream_read(a, &c, 1) == 1 && c == 'x',
	   "%s: then reads what comes", B);
	stream_close(a);
	close(sv[1]);
	loop_free(l);
}

static void count_seen(void *arg, const void *p, size_t n)
{
	(void)p;
	*(size_t *)arg += n;
}

/* stream_drain: what is there read and dropped, each piece seen; then
 * "would wait", and at the peer's end, the end. */
static void t_drain(void)
{
	struct loop *l = mkloop();
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	struct stream *s = stream_fd_new(l, sv[0], STREAM_F_OWN);
	static char big[50000];
	char buf[4096];
	size_t seen = 0;
	ok(write(sv[1], big, sizeof big) == (ssize_t)sizeof big, "%s: drain: bytes in", B);
	int r = stream_drain(s, buf, sizeof buf, 4, count_seen, &seen);
	ok(r == 1 && seen == 4 * sizeof buf, "%s: drain: four rounds, then again (%d, %zu)", B, r,
	   seen);
	while ((r = stream_drain(s, buf, sizeof buf, 4, count_seen, &seen)) == 1 &&
	       seen < sizeof big)
		;
	ok(r == 1 && seen == sizeof big, "%s: drain: every byte seen (%zu)", B, seen);
	ok(stream_drain(s, buf, sizeof buf, 4, NULL, NULL) == 1, "%s: drain: empty: again", B);
	close(sv[1]);
	ok(stream_drain(s, buf, sizeof buf, 4, NULL, NULL) == 0, "%s: drain: the end", B);
	stream_close(s);
	loop_free(l);
}

/* A blocking pipe gets a non-blocking description of its own: the
 * original (shared with the shell, a pipeline) keeps its flags. */
static void t_blocking_pipe(void)
{
	struct loop *l = mkloop();
	int p[2];
	ok(pipe(p) == 0, "%s: pipe", B);
	struct stream *r = stream_fd_new(l, p[0], STREAM_F_OWN);
	struct stream *w = stream_fd_new(l, p[1], STREAM_F_OWN);
	ok(r && w && r->fd != p[0] && w->fd != p[1] && !stream_has(r, STREAM_F_GATED),
	   "%s: reopened through /proc", B);
	ok(!(fcntl(p[0], F_GETFL) & O_NONBLOCK) && !(fcntl(p[1], F_GETFL) & O_NONBLOCK),
	   "%s: the originals stay blocking", B);
	ok((fcntl(r->fd, F_GETFL) & O_NONBLOCK) && (fcntl(w->fd, F_GETFL) & O_NONBLOCK),
	   "%s: the copies are non-blocking", B);
	char c;
	ok(stream_read(r, &c, 1) < 0 && errno == EAGAIN, "%s: an empty pipe does not wait", B);
	/* Fill it: the write must stop with EAGAIN, not wait. */
	static char big[1 << 16];
	ssize_t n, total = 0;
	while ((n = stream_write(w, big, sizeof big)) > 0)
		total += n;
	ok(n < 0 && errno == EAGAIN && total > 0, "%s: a full pipe says EAGAIN", B);
	stream_close(w);
	/* Every writer is gone (the original and the copy): end of input
	 * once the bytes are read. */
	while ((n = stream_read(r, big, sizeof big)) > 0)
		total -= n;
	ok(n == 0 && total == 0, "%s: the reader sees every byte, then the end", B);
	stream_close(r);
	ok(fcntl(p[0], F_GETFD) < 0 && fcntl(p[1], F_GETFD) < 0,
	   "%s: owned originals are closed too", B);
	loop_free(l);
}

/* A new FIFO at a fresh name made from path's XXXXXX. */
static void make_fifo(char *path)
{
	int tmp = mkstemp(path);
	close(tmp);
	unlink(path);
	mkfifo(path, 0600);
}

static void give_up(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

/* A FIFO whose writer came and went before the stream was made: the
 * private non-blocking copy is opened after the last writer closed, and
 * Linux holds back the hang-up from such a reader until a writer comes,
 * so only the original (which saw the writer) tells the end. */
static void t_fifo_writer_gone(void)
{
	struct loop *l = mkloop();
	char path[] = "/tmp/sockctl-test-fifoXXXXXX";
	make_fifo(path);
	/* A reader that does not wait lets the writer open without
	 * waiting, and the writer lets the blocking reader open at once. */
	int r0 = open(path, O_RDONLY | O_NONBLOCK);
	int w = open(path, O_WRONLY);
	int fd = open(path, O_RDONLY);
	unlink(path);
	ok(r0 >= 0 && w >= 0 && fd >= 0 && write(w, "fifo", 4) == 4, "%s: a FIFO with data", B);
	close(w);
	close(r0);
	struct stream *s = stream_fd_new(l, fd, STREAM_F_OWN);
	ok(s && s->orig_fd == fd && stream_has(s, STREAM_F_PIPE), "%s: the FIFO reopened", B);
	struct echo_ctx e = {.s = s};
	struct timer t;
	timer_init(&t, give_up, NULL);
	loop_timer_start(l, &t, 5000);
	stream_set_cb(s, on_read, &e);
	stream_want(s, STREAM_READ);
	loop_run(l);
	loop_timer_stop(l, &t);
	ok(e.eof && e.n == 4 && memcmp(e.got, "fifo", 4) == 0,
	   "%s: the bytes, then the end (%zu bytes, eof %d)", B, e.n, e.eof);
	stream_close(s);
	loop_free(l);
}

struct gated_ctx {
	int reads, got;
};

static void on_gated(struct stream *s, int ready, void *arg)
{
	struct gated_ctx *g = arg;
	char buf[4];
	(void)ready;
	/* Two reads per event: the second must not reach the fd. */
	for (int i = 0; i < 2; i++) {
		ssize_t n = stream_read(s, buf, sizeof buf);
		g->reads++;
		if (n > 0)
			g->got += (int)n;
		else if (n < 0 && errno == EAGAIN)
			continue;
	}
	if (g->got >= 8) {
		stream_want(s, 0);
		loop_stop(s->loop);
	}
}

/* A FIFO opened read-write cannot be reopened (it would gain a writer):
 * it is gated, touched once per readiness event. */
static void t_gated(void)
{
	struct loop *l = mkloop();
	char path[] = "/tmp/sockctl-test-fifoXXXXXX";
	make_fifo(path);
	int fd = open(path, O_RDWR);
	unlink(path);
	struct stream *s = stream_fd_new(l, fd, STREAM_F_OWN);
	ok(s && stream_has(s, STREAM_F_GATED) && stream_has(s, STREAM_F_PIPE),
	   "%s: a read-write FIFO is gated", B);
	char c;
	ok(stream_read(s, &c, 1) < 0 && errno == EAGAIN,
	   "%s: no read before the loop said readable", B);
	ok(write(fd, "12345678", 8) == 8, "%s: data in", B);
	struct gated_ctx g = {0};
	stream_set_cb(s, on_gated, &g);
	stream_want(s, STREAM_READ);
	loop_run(l);
	ok(g.got == 8, "%s: every byte read, %d reads, none waited", B, g.reads);
	stream_close(s);
	loop_free(l);
}

/* ---- a stream type holding bytes inside (as TLS does) ---- */

struct held {
	char data[16];
	size_t len;
};

static ssize_t held_read(struct stream *s, void *buf, size_t n)
{
	struct held *h = s->priv;
	if (!h->len) {
		errno = EAGAIN;
		return -1;
	}
	size_t k = n < h->len ? n : h->len;
	memcpy(buf, h->data, k);
	memmove(h->data, h->data + k, h->len - k);
	h->len -= k;
	return (ssize_t)k;
}

static size_t held_pending(const struct stream *s)
{
	return ((struct held *)s->priv)->len;
}

static int held_events(const struct stream *s, int want)
{
	(void)s;
	(void)want;
	return 0; /* nothing from the fd: only what it holds */
}

static struct stream_ops held_ops;

struct held_ctx {
	size_t got;
	int calls;
};

static void on_held(struct stream *s, int ready, void *arg)
{
	struct held_ctx *c = arg;
	c->calls++;
	char b[3];
	ssize_t n;
	if ((ready & STREAM_READ) && (n = stream_read(s, b, sizeof b)) > 0)
		c->got += (size_t)n;
	if (!stream_pending(s))
		stream_update(s);
	if (c->got == 10 || c->calls > 100) {
		stream_want(s, 0);
		loop_stop(s->loop);
	}
}

static void t_pending(void)
{
	struct loop *l = mkloop();
	held_ops = stream_fd_ops;
	held_ops.name = "held";
	held_ops.read = held_read;
	held_ops.pending = held_pending;
	held_ops.events = held_events;
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	struct stream *s = stream_fd_new(l, sv[0], STREAM_F_OWN);
	struct held h = {.len = 10};
	memcpy(h.data, "0123456789", 10);
	s->ops = &held_ops;
	s->priv = &h;
	struct held_ctx c = {0};
	stream_set_cb(s, on_held, &c);
	stream_want(s, STREAM_READ);
	loop_run(l);
	ok(c.got == 10 && c.calls == 4,
	   "%s: held bytes are read without the fd ever readable (%zu bytes, %d calls)", B, c.got,
	   c.calls);
	ok(stream_raw_fd(s) == -1, "%s: no raw fd for another type", B);
	stream_close(s);
	close(sv[1]);
	loop_free(l);
}

/* ---- the output queue ---- */

static void t_outq(void)
{
	struct loop *l = mkloop();
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	int small = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	struct stream *s = stream_fd_new(l, sv[0], STREAM_F_OWN);
	struct outq q;
	outq_init(&q, 1 << 20);
	ok(outq_empty(&q) && q.seg == NULL, "%s: an empty queue holds nothing", B);
	size_t w;
	ok(outq_write(&q, s, "abc", 3, &w) == OUTQ_OK && w == 3 && outq_empty(&q),
	   "%s: written straight through when empty", B);
	static char big[256 * 1024];
	memset(big, 'x', sizeof big);
	ok(outq_write(&q, s, big, sizeof big, &w) == OUTQ_OK && w < sizeof big &&
	       outq_len(&q) == sizeof big - w,
	   "%s: what the socket does not take is queued (%zu written)", B, w);
	size_t before = outq_len(&q);
	ok(outq_add(&q, big, (1 << 20) - before + 1) == OUTQ_FULL && outq_len(&q) == before,
	   "%s: past the bound: refused, nothing queued", B);
	/* A shared chunk: two queues, one block. */
	struct outq_chunk *c = outq_chunk_new(100);
	memcpy(c->data, "shared line\n", 12);
	c->len = 12;
	struct outq q2;
	outq_init(&q2, 0);
	ok(outq_add_ref(&q, c, 0, 12) == OUTQ_OK && outq_add_ref(&q2, c, 0, 12) == OUTQ_OK &&
	       c->refs == 3,
	   "%s: one chunk, three references", B);
	ok(outq_add(&q2, "tail", 4) == OUTQ_OK && c->len == 12,
	   "%s: a shared chunk is never written into", B);
	outq_chunk_unref(c);
	outq_clear(&q2);
	ok(c->refs == 1, "%s: clearing a queue drops its reference", B);
	/* Drain the peer while flushing: every byte arrives in order. */
	size_t total = 3 + sizeof big + 12, got = 0;
	char buf[65536];
	bool order = true;
	while (got < total) {
		if (outq_flush(&q, s) < 0)
			break;
		ssize_t n = read(sv[1], buf, sizeof buf);
		for (ssize_t i = 0; i < n; i++) {
			size_t at = got + (size_t)i;
			char want = at < 3		  ? "abc"[at]
				    : at < 3 + sizeof big ? 'x'
							  : "shared line\n"[at - 3 - sizeof big];
			if (buf[i] != want)
				order = false;
		}
		if (n > 0)
			got += (size_t)n;
	}
	ok(got == total && order && outq_empty(&q) && q.seg == NULL,
	   "%s: flushed in order, and the empty queue freed its ring", B);
	/* Small copies share one block. */
	for (int i = 0; i < 100; i++)
		outq_add(&q, "0123456789", 10);
	ok(q.nseg == 1 && outq_len(&q) == 1000, "%s: small copies fill one chunk", B);
	outq_clear(&q);
	close(sv[1]);
	errno = 0;
	ok(outq_add(&q, "x", 1) == 0 && outq_flush(&q, s) < 0 && errno == EPIPE,
	   "%s: a failed stream is an error, not EAGAIN", B);
	outq_clear(&q);
	stream_close(s);
	loop_free(l);
}

/* ---- the accept loop ---- */

struct acc_ctx {
	int accepted, refused_seen, flags_ok;
	struct stream *last;
	int stop_at;
	char warned[256];
};

static int acc_admit(void *arg, int fd, const struct sock_addr *peer, const char **say)
{
	(void)fd;
	(void)peer;
	struct acc_ctx *c = arg;
	if (c->accepted == 1 && !c->refused_seen) {
		c->refused_seen = 1;
		*say = "go away\n";
		return ACCEPT_REFUSE;
	}
	return ACCEPT_KEEP;
}

static void acc_accepted(void *arg, struct stream *s, const struct sock_addr *peer)
{
	(void)peer;
	struct acc_ctx *c = arg;
	c->accepted++;
	/* Made without asking the kernel: it must say what a probe would. */
	c->flags_ok += stream_has(s, STREAM_F_SOCKET) && !stream_has(s, STREAM_F_DGRAM) &&
		       stream_has(s, STREAM_F_SPLICE_READ) && stream_has(s, STREAM_F_SENDFILE);
	stream_close(c->last);
	c->last = s;
	if (c->accepted >= c->stop_at)
		loop_stop(s->loop);
}

static void acc_warn(void *arg, const char *text)
{
	struct acc_ctx *c = arg;
	snprintf(c->warned, sizeof c->warned, "%s", text);
}

static void stop_loop(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static int connect_to(const struct sock_addr *a)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM, 0);
	connect(fd, (const struct sockaddr *)&a->ss, a->len);
	return fd;
}

static void t_acceptor(void)
{
	struct loop *l = mkloop();
	char err[256];
	struct sock_endpoint ep = {.host = "127.0.0.1", .port = "0", .socktype = SOCK_STREAM};
	struct sock_addr bound;
	int lfd =
	    sock_listen(&ep, &(struct sock_listen_opts){.backlog = 128}, &bound, err, sizeof err);
	ok(lfd >= 0, "%s: listening", B);
	struct acc_ctx c = {.stop_at = 3};
	struct acceptor *a = acceptor_new(l, &(struct acceptor_cfg){.lfd = lfd,
								    .admit = acc_admit,
								    .accepted = acc_accepted,
								    .warn = acc_warn,
								    .arg = &c});
	int cl[4];
	for (int i = 0; i < 4; i++)
		cl[i] = connect_to(&bound);
	loop_run(l);
	ok(c.accepted == 3 && acceptor_accepted(a) == 3,
	   "%s: three kept, one refused by the admit hook", B);
	ok(c.flags_ok == 3, "%s: accepted streams are non-blocking stream sockets", B);
	char buf[16] = {0};
	int said = 0;
	for (int i = 0; i < 4; i++) {
		struct timeval tv = {1, 0};
		setsockopt(cl[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	}
	ssize_t n = read(cl[1], buf, sizeof buf - 1);
	if (n > 0 && strcmp(buf, "go away\n") == 0)
		said = 1;
	ok(said, "%s: the refused client is told why, then closed", B);
	/* Out of descriptors: the waiting client is taken and closed, the
	 * loop does not spin, and the program is told. */
	struct rlimit old, lim;
	getrlimit(RLIMIT_NOFILE, &old);
	/* No free fd below the client's: the limit leaves none at all. */
	int extra = connect_to(&bound);
	lim = old;
	lim.rlim_cur = (rlim_t)extra + 1;
	setrlimit(RLIMIT_NOFILE, &lim);
	c.stop_at = 100;
	struct timer stop;
	timer_init(&stop, stop_loop, NULL);
	loop_timer_start(l, &stop, 300);
	loop_run(l);
	setrlimit(RLIMIT_NOFILE, &old);
	ok(strstr(c.warned, "accept: Too many open files") != NULL,
	   "%s: out of descriptors: said once (%s)", B, c.warned);
	struct timeval tv = {1, 0};
	setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ok(read(extra, buf, 1) == 0 && acceptor_dropped(a) >= 1,
	   "%s: and the client sees its connection closed", B);
	close(extra);
	for (int i = 0; i < 4; i++)
		close(cl[i]);
	stream_close(c.last);
	acceptor_free(a);
	close(lfd);
	loop_free(l);
}

/* ---- child processes ---- */

struct kid_ctx {
	int done, status[3];
	pid_t pid[3];
};

/* ---- the connector: a connect the mux reported clean needs no
 * SO_ERROR; a refusal is still seen on every backend ---- */

/* Counts the connector's SO_ERROR questions (linked with
 * -Wl,--wrap=sock_connect_result). */
int __real_sock_connect_result(int fd);
int __wrap_sock_connect_result(int fd);
static int so_error_asked;
int __wrap_sock_connect_result(int fd)
{
	so_error_asked++;
	return __real_sock_connect_result(fd);
}

struct conn_ctx {
	bool called;
	struct stream *s;
	int err;
};

static void on_conn(struct loop *l, struct stream *s, int err, const char *errtext, void *arg)
{
	struct conn_ctx *c = arg;
	c->called = true;
	c->s = s;
	c->err = err;
	loop_stop(l);
}

/* Connects to a; returns what the callback got. */
static struct conn_ctx connect_once(struct loop *l, const struct sockaddr_in *a)
{
	char port[8];
	snprintf(port, sizeof port, "%u", ntohs(a->sin_port));
	struct sock_endpoint ep = {
	    .host = "127.0.0.1", .port = port, .socktype = SOCK_STREAM, .numeric = true};
	struct conn_ctx c = {0};
	char err[256];
	struct connector *cn = connector_start(l, &ep, NULL, on_conn, &c, err, sizeof err);
	ok(cn != NULL, "%s: connector started", B);
	struct timer guard;
	timer_init(&guard, stop_loop, l);
	loop_timer_start(l, &guard, 5000);
	loop_run(l);
	loop_timer_stop(l, &guard);
	return c;
}

static void t_connector(void)
{
	struct loop *l = mkloop();
	bool faults = strcmp(B, "select") != 0;
	struct sockaddr_in a;
	int lfd = loopback_listener(&a, 4);
	so_error_asked = 0;
	struct conn_ctx c = connect_once(l, &a);
	ok(c.called && c.s && c.err == 0, "%s: connector: connected", B);
	ok(so_error_asked == !faults, "%s: connector: SO_ERROR %s (asked %d times)", B,
	   faults ? "not asked: the event said all is well" : "asked: the event cannot say",
	   so_error_asked);
	stream_close(c.s);
	close(lfd);
	int rfd = loopback_refusing(&a);
	so_error_asked = 0;
	c = connect_once(l, &a);
	ok(c.called && !c.s && c.err == ECONNREFUSED && so_error_asked == 1,
	   "%s: connector: a refusal is seen, its error asked (err %d)", B, c.err);
	close(rfd);
	loop_free(l);
}

static void on_kid(pid_t pid, int status, void *arg)
{
	struct kid_ctx *k = arg;
	for (int i = 0; i < 3; i++)
		if (k->pid[i] == pid)
			k->status[i] = status;
	k->done++;
}

static void t_children(void)
{
	struct loop *l = mkloop();
	struct children *cs = children_new(l);
	ok(cs != NULL, "%s: registry", B);
	struct kid_ctx k = {0};
	for (int i = 0; i < 3; i++) {
		pid_t p = fork();
		if (p == 0) {
			usleep(50000 * i);
			_exit(10 + i);
		}
		k.pid[i] = p;
		if (i == 0) {
			/* Let the loop reap it before it is registered. */
			struct timer t;
			timer_init(&t, stop_loop, NULL);
			loop_timer_start(l, &t, 200);
			loop_run(l);
		}
		children_add(cs, p, on_kid, &k);
	}
	ok(children_count(cs) == 3, "%s: three running", B);
	/* Nothing else on the loop: it must stay up for them, and end when
	 * the last one has been reaped. */
	loop_run(l);
	ok(k.done == 3 && WEXITSTATUS(k.status[0]) == 10 && WEXITSTATUS(k.status[1]) == 11 &&
	       WEXITSTATUS(k.status[2]) == 12,
	   "%s: every exit seen with its status, one reaped before it was added", B);
	ok(children_count(cs) == 0, "%s: none left", B);
	children_free(cs);
	loop_free(l);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_socketpair();
		t_want_later();
		t_close_private();
		t_drain();
		t_blocking_socket();
		t_blocking_pipe();
		t_fifo_writer_gone();
		t_set_blocking();
		t_gated();
		t_pending();
		t_outq();
		t_acceptor();
		t_connector();
		t_children();
	}
	tap_done();
}
