/* The chat engines over streams: socketpair streams, the fake TLS-like
 * stream (tests/unit/fake_stream.h) and a stream that takes so many bytes
 * and then nothing (a reader that stopped), on every mux backend. The
 * server: broadcast lines reach every member whole and in order, a batch
 * is stored once however many members queue it, a member that does not
 * read is dropped with the notice on a line of its own, and no member is
 * written to again before its stream can take more. The client: what it
 * is told to send goes out in order and then the end of it, and every
 * line that comes is handed over sanitised. One thread: the far ends of
 * the connections are watched by the test on the same loop. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat/chat_client.h"
#include "chat/chat_server.h"
#include "core/loop.h"
#include "core/sbuf.h"
#include "fake_stream.h"
#include "net/stream.h"
#include "tap.h"
#include "unit_loop.h"

/* ---- a stream that counts its writes, and may take only so much ---- */

struct probe {
	size_t budget;	   /* bytes it still takes; SIZE_MAX: as many as the socket */
	unsigned writes;   /* write calls */
	unsigned partial;  /* writes that took less than given (the socket filled) */
	unsigned refused;  /* writes that took nothing */
	unsigned wasted;   /* writes that took nothing, with nothing taken since the last */
	bool last_refused; /* the last write took nothing */
	bool mine;	   /* the stream frees it (else the test does) */
};

static ssize_t probe_write(struct stream *s, const void *buf, size_t n)
{
	struct probe *p = s->priv;
	p->writes++;
	if (n > p->budget)
		n = p->budget;
	ssize_t w = n ? send(s->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT) : -1;
	if (!n)
		errno = EAGAIN;
	if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		p->refused++;
		if (p->last_refused)
			p->wasted++;
		p->last_refused = true;
		return -1;
	}
	p->last_refused = false;
	if (w > 0 && p->budget != SIZE_MAX)
		p->budget -= (size_t)w;
	if (w >= 0 && (size_t)w < n)
		p->partial++;
	return w;
}

static ssize_t probe_writev(struct stream *s, const struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++)
		if (iov[i].iov_len)
			return probe_write(s, iov[i].iov_base, iov[i].iov_len);
	return 0;
}

/* With nothing left to take, it never asks the loop for WRITE: the
 * engine must not be woken for it, nor try it on its own. */
static int probe_events(const struct stream *s, int want)
{
	const struct probe *p = s->priv;
	int m = want & STREAM_READ;
	if ((want & STREAM_WRITE) && p->budget)
		m |= MUX_WRITE;
	return m;
}

static ssize_t probe_read(struct stream *s, void *buf, size_t n)
{
	return recv(s->fd, buf, n, MSG_DONTWAIT);
}

static int probe_shutdown(struct stream *s)
{
	return shutdown(s->fd, SHUT_WR);
}

static void probe_close(struct stream *s)
{
	struct probe *p = s->priv;
	if (p->mine)
		free(p);
	s->priv = NULL;
}

static const struct stream_ops probe_ops = {
    .name = "probe",
    .read = probe_read,
    .write = probe_write,
    .writev = probe_writev,
    .shutdown_write = probe_shutdown,
    .close = probe_close,
    .events = probe_events,
};

/* p: the counters, kept by the test past the stream's end; NULL: the
 * stream's own. */
static struct stream *probe_new(struct loop *l, int fd, size_t budget, struct probe *p)
{
	struct stream *s = stream_fd_new(l, fd, STREAM_F_OWN);
	bool mine = !p;
	if (mine)
		p = calloc(1, sizeof *p);
	if (!s || !p) {
		if (mine)
			free(p);
		stream_close(s);
		return NULL;
	}
	memset(p, 0, sizeof *p);
	p->mine = mine;
	p->budget = budget;
	s->ops = &probe_ops;
	s->priv = p;
	s->flags &= ~(unsigned)(STREAM_F_SPLICE_READ | STREAM_F_SPLICE_WRITE | STREAM_F_SENDFILE);
	return s;
}

/* ---- the far ends ---- */

enum kind { K_SOCKET, K_FAKE };

#define MAXPEERS 8

struct peer {
	int fd;		   /* the test's end, non-blocking */
	struct stream *st; /* the member's end, owned by the server */
	bool reading;	   /* the test takes what arrives */
	bool tokens;	   /* fake: a token after each read and each millisecond */
	bool chatty;	   /* sends a command now and then (it is read while it waits) */
	unsigned reads;
	char *got; /* what arrived */
	size_t len, cap;
	size_t scanned; /* bytes of got checked by scan() */
	unsigned next;	/* the line expected next */
	bool bad;	/* a line came damaged or out of order */
	bool eof;
};

struct world {
	struct loop *loop;
	struct chat_server *srv;
	struct peer p[MAXPEERS];
	int n;
	unsigned nlines; /* lines the sender sends */
	const char *sender_nick;
	bool (*done)(struct world *w);
	struct timer tick, deadline;
	bool timed_out;
	/* the sender's far end writes these */
	char *out;
	size_t outlen, outoff;
	int sender;
};

static void take(struct peer *p, const char *d, size_t n)
{
	if (p->len + n + 1 > p->cap) {
		p->cap = (p->len + n + 1) * 2;
		p->got = realloc(p->got, p->cap);
	}
	memcpy(p->got + p->len, d, n);
	p->len += n;
	p->got[p->len] = '\0';
}

static void on_peer(struct loop *l, int fd, int mask, void *arg);

static void peer_watch(struct world *w, int i)
{
	struct peer *p = &w->p[i];
	int mask = (p->reading && !p->eof ? MUX_READ : 0) |
		   (i == w->sender && w->outoff < w->outlen ? MUX_WRITE : 0);
	loop_io(w->loop, p->fd, mask, mask ? on_peer : NULL, w);
}

static void on_peer(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	struct world *w = arg;
	int i = 0;
	while (i < w->n && w->p[i].fd != fd)
		i++;
	struct peer *p = &w->p[i];
	if (mask & MUX_READ) {
		char buf[65536];
		/* A chatty reader takes little at a time: its member's
		 * socket stays full while it is read. */
		ssize_t r = read(fd, buf, p->chatty ? 1024 : sizeof buf);
		if (r > 0) {
			take(p, buf, (size_t)r);
			unsigned char tok = FAKE_TOKEN;
			if (p->tokens && send(fd, &tok, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* full of tokens already */
			}
			/* A command with no answer: the member is read while
			 * its output may wait. */
			if (p->chatty && ++p->reads % 2 == 0 &&
			    send(fd, "/echo off\n", 10, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* its input is full: it is read later */
			}
		} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			p->eof = true;
		}
	}
	if ((mask & MUX_WRITE) && i == w->sender) {
		ssize_t n = write(fd, w->out + w->outoff, w->outlen - w->outoff);
		if (n > 0)
			w->outoff += (size_t)n;
	}
	peer_watch(w, i);
	if (w->done && w->done(w))
		loop_stop(w->loop);
}

/* Every millisecond a token to each fake member's stream: a waiting
 * write is let go soon, never at once. */
static void on_tick(struct loop *l, void *arg)
{
	struct world *w = arg;
	unsigned char tok = FAKE_TOKEN;
	for (int i = 0; i < w->n; i++)
		if (w->p[i].tokens && send(w->p[i].fd, &tok, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* full of tokens already */
		}
	loop_timer_start(l, &w->tick, 1);
	if (w->done && w->done(w))
		loop_stop(l);
}

static void on_deadline(struct loop *l, void *arg)
{
	struct world *w = arg;
	w->timed_out = true;
	loop_stop(l);
}

static void on_stopped(void *arg)
{
	(void)arg;
}

static bool world_init(struct world *w, long queue_max)
{
	memset(w, 0, sizeof *w);
	w->sender = -1;
	w->loop = mkloop();
	if (!w->loop)
		return false;
	struct chat_server_cfg cfg = {.max_clients = 100,
				      .max_line = 1024,
				      .queue_max = queue_max,
				      .flood = 0,
				      .stopped = on_stopped,
				      .arg = w};
	w->srv = chat_server_new(w->loop, &cfg);
	timer_init(&w->tick, on_tick, w);
	timer_init(&w->deadline, on_deadline, w);
	return w->srv != NULL;
}

/* A member of the given kind; with sndbuf, the member's end keeps that
 * little room in its socket. */
static struct peer *add(struct world *w, enum kind k, int sndbuf, bool reading)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	if (sndbuf)
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	struct peer *p = &w->p[w->n++];
	p->fd = sv[1];
	p->reading = reading;
	p->tokens = k == K_FAKE;
	p->st = k == K_FAKE ? fake_new(w->loop, sv[0]) : probe_new(w->loop, sv[0], SIZE_MAX, NULL);
	chat_server_add(w->srv, p->st, "test");
	peer_watch(w, w->n - 1);
	return p;
}

/* Runs the loop until w->done says so, or ms have passed. */
static void run(struct world *w, int ms)
{
	w->timed_out = false;
	loop_timer_start(w->loop, &w->deadline, ms);
	if (!timer_armed(&w->tick))
		loop_timer_start(w->loop, &w->tick, 1);
	if (!(w->done && w->done(w)))
		loop_run(w->loop);
	loop_timer_stop(w->loop, &w->deadline);
}

static void world_free(struct world *w)
{
	loop_timer_stop(w->loop, &w->tick);
	chat_server_free(w->srv);
	for (int i = 0; i < w->n; i++) {
		loop_io(w->loop, w->p[i].fd, 0, NULL, NULL);
		close(w->p[i].fd);
		free(w->p[i].got);
	}
	free(w->out);
	loop_free(w->loop);
}

/* Checks the lines of p not yet seen: lines "<nick> Lnnnnn letters" must
 * come whole and in order, L00000 first (other lines, notices, may come
 * in between). */
static void scan(struct peer *p, const char *nick)
{
	char tag[64];
	int tl = snprintf(tag, sizeof tag, "<%s> L", nick);
	const char *s = p->got ? p->got + p->scanned : "";
	for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1) {
		p->scanned = (size_t)(nl + 1 - p->got);
		if (strncmp(s, tag, (size_t)tl) != 0)
			continue;
		unsigned v;
		char pad[256];
		bool whole = sscanf(s + tl, "%u %255[a-z]", &v, pad) == 2 &&
			     strlen(pad) == 40 + v % 7 &&
			     (size_t)(nl - s) == (size_t)tl + 6 + strlen(pad);
		if (!whole || v != p->next)
			p->bad = true;
		if (whole)
			p->next = v + 1;
	}
}

static bool all_lines(struct world *w)
{
	for (int i = 0; i < w->n; i++) {
		if (i == w->sender)
			continue;
		scan(&w->p[i], w->sender_nick);
		if (w->p[i].bad || w->p[i].next != w->nlines)
			return false;
	}
	return true;
}

static char *lines(unsigned n, size_t *len)
{
	char *b = malloc((size_t)n * 64 + 1), *o = b;
	for (unsigned v = 0; v < n; v++) {
		o += sprintf(o, "L%05u ", v);
		for (unsigned k = 0; k < 40 + v % 7; k++)
			*o++ = (char)('a' + (v + k) % 26);
		*o++ = '\n';
	}
	*o = '\0';
	*len = (size_t)(o - b);
	return b;
}

/* ---- the tests ---- */

static const char *kname(enum kind k)
{
	return k == K_FAKE ? "fake TLS streams" : "socket streams";
}

/* One sender, four readers: every line reaches every reader, whole and
 * in order, and nothing of the room is copied for each of them. */
static void t_broadcast(enum kind k)
{
	struct world w;
	if (!world_init(&w, 1 << 20)) {
		ok(false, "%s: broadcast over %s: setup", B, kname(k));
		return;
	}
	w.sender = 0;
	w.sender_nick = "guest1";
	w.nlines = 3000;
	add(&w, K_SOCKET, 0, true);
	for (int i = 0; i < 4; i++)
		add(&w, k, 4096, true)->chatty = true;
	w.out = lines(w.nlines, &w.outlen);
	peer_watch(&w, 0);
	w.done = all_lines;
	run(&w, 20000);
	bool good = all_lines(&w);
	unsigned seen = 0;
	for (int i = 1; i < w.n; i++)
		seen += w.p[i].bad ? 0 : w.p[i].next;
	ok(good && !w.timed_out,
	   "%s: broadcast over %s: %u lines reach 4 members whole and in order (%u)", B, kname(k),
	   w.nlines, seen);
	struct chat_server_stats st;
	chat_server_stats(w.srv, &st);
	/* Copies are only what went to one member (the welcome lines). */
	ok(st.batches > 0 && st.copy_bytes < 5 * 100 && st.batch_bytes >= w.outlen,
	   "%s: broadcast over %s: %llu batches of %llu bytes, %llu bytes copied for one member", B,
	   kname(k), (unsigned long long)st.batches, (unsigned long long)st.batch_bytes,
	   (unsigned long long)st.copy_bytes);
	if (k == K_FAKE) {
		unsigned waits = 0, spins = 0;
		for (int i = 1; i < w.n; i++) {
			struct fake *f = w.p[i].st->priv;
			waits += f->waits;
			spins += f->spins;
		}
		ok(waits > 0 && spins <= waits,
		   "%s: broadcast over %s: writes waited for READ %u times, %u wasted retries", B,
		   kname(k), waits, spins);
	} else {
		unsigned partial = 0, wasted = 0;
		for (int i = 1; i < w.n; i++) {
			struct probe *p = w.p[i].st->priv;
			partial += p->partial;
			wasted += p->wasted;
		}
		ok(partial > 0 && wasted == 0,
		   "%s: broadcast over %s: the sockets filled %u times, %u writes retried while "
		   "still full",
		   B, kname(k), partial, wasted);
	}
	world_free(&w);
}

static bool never(struct world *w)
{
	(void)w;
	return false;
}

/* Members that take nothing for a while: one batch, queued whole by
 * each of them, is one chunk with a reference per member; once they
 * read, every line arrives in order. */
static void t_shared(enum kind k)
{
	struct world w;
	if (!world_init(&w, 1 << 20)) {
		ok(false, "%s: shared batch over %s: setup", B, kname(k));
		return;
	}
	w.sender_nick = "@server";
	w.nlines = 600;
	enum { M = 4 };
	for (int i = 0; i < M; i++) {
		struct peer *p = add(&w, k, 4096, false);
		p->tokens = false; /* a fake stream waits for READ from the start */
	}
	/* The welcome lines go out (or wait) first. */
	w.done = never;
	run(&w, 30);
	struct chat_server_stats before;
	chat_server_stats(w.srv, &before);
	size_t len;
	char *b = lines(w.nlines, &len);
	/* 200 lines of the server's own, posted at once: one batch. */
	for (char *s = b, *nl; (nl = strchr(s, '\n')); s = nl + 1)
		chat_server_say(w.srv, s, (size_t)(nl - s));
	free(b);
	run(&w, 30);
	struct chat_server_stats st;
	chat_server_stats(w.srv, &st);
	ok(st.batches == before.batches + 1 && st.last_refs == M + 1,
	   "%s: shared batch over %s: one batch, one chunk with %u references (%d members + "
	   "the server's)",
	   B, kname(k), st.last_refs, M);
	uint64_t blen = st.batch_bytes - before.batch_bytes;
	ok(st.ref_bytes - before.ref_bytes > blen && st.copy_bytes == before.copy_bytes,
	   "%s: shared batch over %s: %llu bytes queued by reference for a %llu-byte batch, "
	   "none copied",
	   B, kname(k), (unsigned long long)(st.ref_bytes - before.ref_bytes),
	   (unsigned long long)blen);
	for (int i = 0; i < w.n; i++) {
		w.p[i].reading = true;
		w.p[i].tokens = k == K_FAKE;
		peer_watch(&w, i);
	}
	w.sender = -1;
	w.done = all_lines;
	run(&w, 20000);
	ok(all_lines(&w),
	   "%s: shared batch over %s: once read, all %u lines reach every member "
	   "in order",
	   B, kname(k), w.nlines);
	world_free(&w);
}

/* A member whose stream takes 150 bytes and then nothing: the first
 * batch cuts a line, the next ones fill its queue, and it is dropped
 * with the notice on a line of its own, while the other member keeps
 * every line. */
static void t_drop(void)
{
	struct world w;
	if (!world_init(&w, 8192)) {
		ok(false, "%s: drop: setup", B);
		return;
	}
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
	struct peer *stuck = &w.p[w.n++];
	stuck->fd = sv[1];
	stuck->reading = true;
	struct probe counts, *pr = &counts;
	stuck->st = probe_new(w.loop, sv[0], 150, pr);
	chat_server_add(w.srv, stuck->st, "test");
	peer_watch(&w, 0);
	add(&w, K_SOCKET, 0, true);
	w.done = never;
	run(&w, 30);
	bool welcomed = strstr(stuck->got ? stuck->got : "", "*** welcome") != NULL;
	/* 40 lines of about 60 bytes: one batch, cut inside its second line. */
	size_t len;
	char *b = lines(200, &len), *s = b;
	for (int i = 0; i < 40; i++) {
		char *nl = strchr(s, '\n');
		chat_server_say(w.srv, s, (size_t)(nl - s));
		s = nl + 1;
	}
	run(&w, 30);
	unsigned tries = pr->writes;
	/* Room for the notice, which the stream will not ask the loop to
	 * use: only the drop itself writes it. */
	pr->budget = 1000;
	for (int r = 0; r < 4; r++) {
		for (int i = 0; i < 40; i++) {
			char *nl = strchr(s, '\n');
			chat_server_say(w.srv, s, (size_t)(nl - s));
			s = nl + 1;
		}
		run(&w, 30);
	}
	free(b);
	struct chat_server_stats st;
	chat_server_stats(w.srv, &st);
	ok(welcomed && st.dropped == 1 && st.members == 1,
	   "%s: drop: the member that does not read is dropped (%llu dropped, %u left)", B,
	   (unsigned long long)st.dropped, st.members);
	ok(tries == pr->writes - 1, "%s: drop: not written to while it took nothing (%u tries)", B,
	   pr->writes - tries - 1);
	w.done = NULL;
	run(&w, 50);
	const char *got = stuck->got ? stuck->got : "";
	const char *notice = "*** dropped: your output queue is full (not reading)\n";
	const char *at = strstr(got, notice);
	ok(at && at > got && at[-1] == '\n' && strlen(at) == strlen(notice) && stuck->eof,
	   "%s: drop: the notice comes last, on a line of its own, then the end", B);
	const char *cut = at ? at - 1 : got;
	while (cut > got && cut[-1] != '\n')
		cut--;
	size_t cl = at ? (size_t)(at - 1 - cut) : 0;
	ok(at && cl > 0 && cl < 57 && strncmp(cut, "<@server> L0000", cl < 15 ? cl : 15) == 0,
	   "%s: drop: before it, the part of a line the stream took (%.*s)", B, (int)cl, cut);
	scan(&w.p[1], "@server");
	ok(!w.p[1].bad && w.p[1].next == 200, "%s: drop: the other member got all 200 lines (%u)",
	   B, w.p[1].next);
	world_free(&w);
}

/* ---- the client ---- */

struct far {
	struct loop *loop;
	int fd;		 /* the server's end */
	bool tokens;	 /* the client's stream is the fake one */
	struct sbuf got; /* what the client sent */
	char *out;	 /* what the server sends */
	size_t outlen, outoff;
	bool eof, closed;
	struct sbuf lines; /* what the client handed over, a line each */
	unsigned nlines;
	int how;
	bool ended;
	struct timer tick, deadline;
};

static void far_watch(struct far *f);

static void on_far(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	struct far *f = arg;
	if (mask & MUX_READ) {
		char buf[4096];
		ssize_t r = read(fd, buf, sizeof buf);
		if (r > 0)
			sb_putn(&f->got, buf, (size_t)r);
		else if (r == 0 || (errno != EAGAIN && errno != EINTR))
			f->eof = true;
	}
	if ((mask & MUX_WRITE) && f->outoff < f->outlen) {
		ssize_t n = write(fd, f->out + f->outoff, f->outlen - f->outoff);
		if (n > 0)
			f->outoff += (size_t)n;
	}
	/* The client's input has ended and all it sent is here: the server
	 * closes once it has sent what it had. */
	if (f->eof && f->outoff == f->outlen && !f->closed) {
		f->closed = true;
		shutdown(fd, SHUT_WR);
	}
	far_watch(f);
}

static void far_watch(struct far *f)
{
	int mask = (f->eof ? 0 : MUX_READ) | (f->outoff < f->outlen && !f->closed ? MUX_WRITE : 0);
	loop_io(f->loop, f->fd, mask, mask ? on_far : NULL, f);
}

static void on_far_tick(struct loop *l, void *arg)
{
	struct far *f = arg;
	unsigned char tok = FAKE_TOKEN;
	if (f->tokens && send(f->fd, &tok, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* full of tokens already, or closed */
	}
	if (!f->ended)
		loop_timer_start(l, &f->tick, 1);
}

static void on_far_deadline(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static void cl_line(void *arg, const char *line, size_t len)
{
	struct far *f = arg;
	sb_putn(&f->lines, line, len);
	sb_putc(&f->lines, '\n');
	f->nlines++;
}

static void cl_end(void *arg, enum chat_client_end how, const char *errtext)
{
	(void)errtext;
	struct far *f = arg;
	f->how = (int)how;
	f->ended = true;
	loop_stop(f->loop);
}

static void t_client(enum kind k)
{
	struct far f = {.how = -1, .tokens = k == K_FAKE};
	sb_init(&f.got);
	sb_init(&f.lines);
	f.loop = mkloop();
	int sv[2], in[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
	int small = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	if (pipe(in) < 0 || write(in[1], "hello\nworld", 11) != 11)
		ok(false, "%s: client: the input pipe", B);
	close(in[1]);
	f.fd = sv[1];
	/* 2000 lines from the room, and one with escapes in it. */
	struct sbuf room;
	sb_init(&room);
	sb_puts(&room, "<bob> hi \x1b[31mred\x07\n");
	for (int i = 0; i < 2000; i++)
		sb_printf(&room, "<bob> line %04d %040d\n", i, 0);
	f.out = room.p;
	f.outlen = room.len;
	far_watch(&f);
	timer_init(&f.tick, on_far_tick, &f);
	timer_init(&f.deadline, on_far_deadline, &f);
	loop_timer_start(f.loop, &f.tick, 1);
	loop_timer_start(f.loop, &f.deadline, 20000);
	struct stream *st =
	    k == K_FAKE ? fake_new(f.loop, sv[0]) : probe_new(f.loop, sv[0], SIZE_MAX, NULL);
	struct chat_client_cfg cfg = {.target = "test",
				      .name = "alice",
				      .room = "dev",
				      .line = cl_line,
				      .end = cl_end,
				      .arg = &f};
	struct chat_client *c = chat_client_over(f.loop, st, &cfg);
	chat_client_input(c, stream_fd_new(f.loop, in[0], STREAM_F_OWN));
	loop_run(f.loop);
	ok(f.ended && f.how == CHAT_END_DONE,
	   "%s: client over %s: ends when the server closes after its input (%d)", B, kname(k),
	   f.how);
	ok(f.eof && !strcmp(sb_str(&f.got), "/nick alice\n/join dev\nhello\nworld\n"),
	   "%s: client over %s: sends its name, its room and its input (the last line ended), "
	   "then its end (%zu bytes)",
	   B, kname(k), f.got.len);
	bool lines_ok = f.nlines == 2001 && !strncmp(f.lines.p, "<bob> hi [31mred\n", 17);
	for (int i = 0; lines_ok && i < 2000; i++) {
		char want[64];
		snprintf(want, sizeof want, "\n<bob> line %04d %040d\n", i, 0);
		lines_ok = strstr(f.lines.p, want) != NULL;
	}
	ok(lines_ok, "%s: client over %s: every line handed over whole, sanitised (%u)", B,
	   kname(k), f.nlines);
	if (k == K_FAKE) {
		struct fake *fk = st->priv;
		ok(fk->spins <= fk->waits && fk->handed > 0,
		   "%s: client over %s: %u writes waited for READ, %u wasted retries, %u reads of "
		   "held bytes",
		   B, kname(k), fk->waits, fk->spins, fk->handed);
	}
	chat_client_free(c);
	loop_timer_stop(f.loop, &f.tick);
	loop_timer_stop(f.loop, &f.deadline);
	loop_io(f.loop, f.fd, 0, NULL, NULL);
	close(f.fd);
	sb_free(&room);
	sb_free(&f.got);
	sb_free(&f.lines);
	loop_free(f.loop);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_broadcast(K_SOCKET);
		t_broadcast(K_FAKE);
		t_shared(K_SOCKET);
		t_shared(K_FAKE);
		t_drop();
		t_client(K_SOCKET);
		t_client(K_FAKE);
	}
	tap_done();
}
