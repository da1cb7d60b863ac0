/* The fault stream: see fault_stream.h. Each direction is a hold queue
 * (bytes with the time they may move on), a token bucket and a chunk
 * clock; timers on the loop wake the stream when the next byte is due,
 * and it tells the loop through stream_update (pending bytes for the
 * reader, the fd's write events for the writer), so the engine is called
 * back the way it is for any other stream. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "forward/fault_stream.h"

/* Bytes held per direction. */
#define HOLD_MAX (256 * 1024)
/* Release times kept per direction; more arrivals share the last one. */
#define MARKS 256
/* A queue left to drain after the engine's close gives up after this
 * long without progress. */
#define DRAIN_STALL_MS 30000

struct fhold {
	struct buf b; /* allocated on first use */
	struct {
		uint64_t end; /* absolute offset where this arrival ends */
		int64_t due;  /* loop_now() time it may move on */
	} mark[MARKS];
	size_t mhead, mn;
	uint64_t in, out; /* absolute bytes added, taken */
	int64_t last_due;
};

struct fbucket {
	double tokens;
	int64_t at;
	uint64_t rate; /* the rate tokens were counted at */
};

struct fdir {
	struct fhold h;
	struct fbucket k;
	int64_t next_chunk; /* chunk-delay: not before this */
	uint64_t moved;	    /* handed on: up to the engine, down to the client */
	struct timer t;
};

struct fconn {
	struct stream *s;     /* the fault stream; NULL once closed (draining) */
	struct stream *inner; /* owned */
	struct fault_set *fs; /* not owned */
	struct fault_hook hook;
	fault_cut_cb cut;
	void *cut_arg;
	struct fault_rng rng; /* jitter */
	int64_t start;
	struct fdir up, down;
	/* up: the client's end, delivered after the bytes before it */
	bool up_eof;
	int up_err;
	int64_t eof_due;
	/* down */
	bool fin_wanted, fin_sent;
	bool inner_blocked; /* the client's socket took nothing: wait to write */
	int down_err;
	/* cuts and stops */
	bool cut_pending, cut_done, timed_out, held;
	enum fault_cut_kind cut_kind;
	char why[64];
	struct timer cut_t, life_t;
	int64_t drain_last;
};

static const struct stream_ops fault_ops;

static struct loop *loop_of(const struct fconn *f)
{
	return f->inner->loop;
}

static int64_t now_of(const struct fconn *f)
{
	return loop_now(loop_of(f));
}

static const struct fault_flow *flow(const struct fconn *f, const struct fdir *d)
{
	return &f->fs->st.flow[d == &f->up ? FAULT_UP : FAULT_DOWN];
}

/* ---- the hold queue ---- */

static size_t hold_len(const struct fhold *h)
{
	return (size_t)(h->in - h->out);
}

static size_t hold_room(const struct fhold *h)
{
	return HOLD_MAX - hold_len(h);
}

static bool hold_add(struct fhold *h, const void *p, size_t n, int64_t due)
{
	if (!h->b.data && !buf_init(&h->b, HOLD_MAX))
		return false;
	buf_append(&h->b, p, n);
	/* Jitter never lets a later arrival overtake an earlier one. */
	if (due < h->last_due)
		due = h->last_due;
	h->last_due = due;
	h->in += n;
	size_t last = (h->mhead + h->mn - 1) % MARKS;
	if (h->mn && (h->mn == MARKS || h->mark[last].due == due)) {
		h->mark[last].end = h->in;
		h->mark[last].due = due;
		return true;
	}
	size_t at = (h->mhead + h->mn) % MARKS;
	h->mark[at].end = h->in;
	h->mark[at].due = due;
	h->mn++;
	return true;
}

/* Bytes whose time has come. */
static size_t hold_due(const struct fhold *h, int64_t now)
{
	uint64_t upto = h->out;
	for (size_t i = 0; i < h->mn; i++) {
		size_t at = (h->mhead + i) % MARKS;
		if (h->mark[at].due > now)
			break;
		upto = h->mark[at].end;
	}
	return (size_t)(upto - h->out);
}

static int64_t hold_next_due(const struct fhold *h)
{
	return h->mn ? h->mark[h->mhead].due : INT64_MAX;
}

static void hold_consume(struct fhold *h, size_t n)
{
	buf_consume(&h->b, n);
	h->out += n;
	while (h->mn && h->mark[h->mhead].end <= h->out) {
		h->mhead = (h->mhead + 1) % MARKS;
		h->mn--;
	}
	/* An empty queue holds no memory: most connections idle. */
	if (!hold_len(h)) {
		buf_free(&h->b);
		memset(&h->b, 0, sizeof h->b);
	}
}

static void hold_clear(struct fhold *h)
{
	hold_consume(h, hold_len(h));
}

/* ---- rate, chunks, thresholds ---- */

static double bucket_cap(uint64_t rate)
{
	/* A twentieth of a second of burst: smooth over a second, yet few
	 * wakeups. */
	double cap = (double)rate / 20.0;
	return cap < 1 ? 1 : cap;
}

static double bucket_tokens(const struct fbucket *k, uint64_t rate, int64_t now)
{
	if (k->rate != rate)
		return bucket_cap(rate);
	double t = k->tokens + (double)(now - k->at) * (double)rate / 1000.0;
	double cap = bucket_cap(rate);
	return t > cap ? cap : t;
}

static void bucket_spend(struct fbucket *k, uint64_t rate, int64_t now, size_t n)
{
	if (!rate)
		return;
	k->tokens = bucket_tokens(k, rate, now) - (double)n;
	k->at = now;
	k->rate = rate;
}

/* The byte threshold of the first cut, 0 if none. */
static uint64_t cut_bytes(const struct fconn *f, enum fault_cut_kind *kind)
{
	uint64_t c = f->fs->st.close_after.bytes, r = f->fs->st.reset_after.bytes;
	if (r && (!c || r <= c)) {
		*kind = FAULT_CUT_RESET;
		return r;
	}
	*kind = FAULT_CUT_CLOSE;
	return c;
}

/* What a write may take now: the queue's room, and nothing past a cut's
 * byte count (the engine's own count of what went to the client stays
 * true, and it waits instead of writing in vain). */
static size_t down_room(const struct fconn *f)
{
	size_t room = hold_room(&f->down.h);
	enum fault_cut_kind kind;
	uint64_t limit = cut_bytes(f, &kind);
	uint64_t taken = f->down.moved + hold_len(&f->down.h);
	if (limit && taken >= limit)
		return 0;
	if (limit && room > limit - taken)
		room = (size_t)(limit - taken);
	return room;
}

static bool frozen(const struct fconn *f)
{
	return f->cut_pending || f->cut_done || f->timed_out || f->fs->state == FAULT_STATE_HOLD;
}

/* How many bytes of d may move on now (0 when none, or when frozen). */
static size_t avail(const struct fconn *f, const struct fdir *d, int64_t now)
{
	if (frozen(f))
		return 0;
	const struct fault_flow *fl = flow(f, d);
	size_t n = hold_due(&d->h, now);
	if (!n || now < d->next_chunk)
		return 0;
	if (fl->chunk && n > fl->chunk)
		n = fl->chunk;
	if (fl->rate) {
		double t = bucket_tokens(&d->k, fl->rate, now);
		size_t allow = t < 1 ? 0 : (size_t)t;
		if (n > allow)
			n = allow;
	}
	enum fault_cut_kind kind;
	uint64_t limit = cut_bytes(f, &kind);
	if (limit)
		n = d->moved >= limit ? 0 : n > limit - d->moved ? (size_t)(limit - d->moved) : n;
	return n;
}

/* When avail may next be more than 0 (INT64_MAX: not by time alone). */
static int64_t next_time(const struct fconn *f, const struct fdir *d, int64_t now)
{
	if (frozen(f))
		return INT64_MAX;
	/* The client's end is due after its delay, like a byte. */
	if (!hold_len(&d->h))
		return d == &f->up && (f->up_eof || f->up_err) && f->eof_due > now ? f->eof_due
										   : INT64_MAX;
	const struct fault_flow *fl = flow(f, d);
	int64_t t = hold_due(&d->h, now) ? now : hold_next_due(&d->h);
	if (d->next_chunk > t)
		t = d->next_chunk;
	if (fl->rate) {
		double have = bucket_tokens(&d->k, fl->rate, now);
		size_t want = hold_len(&d->h);
		double need =
		    (double)want < bucket_cap(fl->rate) ? (double)want : bucket_cap(fl->rate);
		if (fl->chunk && need > fl->chunk)
			need = fl->chunk;
		if (need > have) {
			int64_t w = now + (int64_t)((need - have) * 1000.0 / (double)fl->rate) + 1;
			if (w > t)
				t = w;
		}
	}
	return t;
}

static void arm(struct fconn *f, struct fdir *d)
{
	int64_t now = now_of(f);
	int64_t t = next_time(f, d, now);
	/* A client socket that took nothing is waited for on the fd. */
	if (t == INT64_MAX || (d == &f->down && f->inner_blocked))
		loop_timer_stop(loop_of(f), &d->t);
	else
		loop_timer_start(loop_of(f), &d->t, t > now ? t - now : 0);
}

/* ---- the state seen by the loop ---- */

static bool eof_deliverable(const struct fconn *f)
{
	return !hold_len(&f->up.h) && (f->up_eof || f->up_err) && !frozen(f) &&
	       now_of(f) >= f->eof_due;
}

static bool can_absorb(const struct fconn *f)
{
	return !f->up_eof && !f->up_err && !frozen(f) && hold_room(&f->up.h) > 0;
}

/* What the inner stream is wanted for. */
static int inner_want(const struct fconn *f, int want)
{
	int w = 0;
	if ((want & STREAM_READ) && can_absorb(f))
		w |= STREAM_READ;
	if (!f->fin_sent && !frozen(f) &&
	    (f->inner_blocked || ((want & STREAM_WRITE) && (down_room(f) || f->down_err))))
		w |= STREAM_WRITE;
	return w;
}

static int fault_events(const struct stream *s, int want)
{
	const struct fconn *f = s->priv;
	int w = inner_want(f, want);
	const struct stream *in = f->inner;
	return in->ops->events ? in->ops->events(in, w) : w;
}

static size_t fault_pending(const struct stream *s)
{
	const struct fconn *f = s->priv;
	size_t n = avail(f, &f->up, now_of(f));
	if (n)
		return n;
	/* Not bytes, but something a read returns without the fd. */
	if (eof_deliverable(f) || (can_absorb(f) && stream_pending(f->inner)))
		return 1;
	return 0;
}

static void refresh(struct fconn *f)
{
	if (f->s && (f->s->want || f->s->mask))
		stream_update(f->s);
}

/* ---- cuts ---- */

static void on_cut(struct loop *l, void *arg)
{
	(void)l;
	struct fconn *f = arg;
	f->cut_pending = false;
	f->cut_done = true;
	if (f->s && f->cut)
		f->cut(f->s, f->cut_kind, f->why, f->cut_arg); /* may close s: nothing after */
}

static void cut(struct fconn *f, enum fault_cut_kind kind, const char *why)
{
	if (f->cut_pending || f->cut_done)
		return;
	f->cut_pending = true;
	f->cut_kind = kind;
	snprintf(f->why, sizeof f->why, "%s", why);
	/* Armed now: the engine may close before the callback runs (its
	 * relay ending on its own), and that close must reset too. */
	if (kind == FAULT_CUT_RESET) {
		fault_arm_reset(f->inner->fd);
		f->fs->stats.reset++;
	} else
		f->fs->stats.closed++;
	loop_timer_stop(loop_of(f), &f->up.t);
	loop_timer_stop(loop_of(f), &f->down.t);
	loop_timer_start(loop_of(f), &f->cut_t, 0);
}

/* Cuts the connection once a direction reached the byte threshold. */
static bool check_limit(struct fconn *f, const struct fdir *d)
{
	enum fault_cut_kind kind;
	uint64_t limit = cut_bytes(f, &kind);
	if (!limit || d->moved < limit)
		return false;
	char why[64];
	snprintf(why, sizeof why, "%s-after %llu bytes",
		 kind == FAULT_CUT_RESET ? "reset" : "close", (unsigned long long)limit);
	cut(f, kind, why);
	return true;
}

static void moved(struct fconn *f, struct fdir *d, size_t n)
{
	const struct fault_flow *fl = flow(f, d);
	int64_t now = now_of(f);
	bucket_spend(&d->k, fl->rate, now, n);
	if (fl->chunk_delay_ms)
		d->next_chunk = now + fl->chunk_delay_ms;
	d->moved += n;
	if (d == &f->up)
		f->fs->stats.bytes_up += n;
	else
		f->fs->stats.bytes_down += n;
	check_limit(f, d);
}

/* ---- down: the queue towards the client ---- */

static void drain_end(struct fconn *f);

/* Sends what is due; ends the write side when asked and all is sent. */
static void flush(struct fconn *f)
{
	struct fdir *d = &f->down;
	while (!f->inner_blocked && !f->down_err) {
		size_t n = avail(f, d, now_of(f));
		if (!n)
			break;
		ssize_t w = stream_write(f->inner, buf_head(&d->h.b), n);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			f->inner_blocked = true;
			break;
		}
		if (w < 0) {
			f->down_err = errno;
			hold_clear(&d->h);
			break;
		}
		hold_consume(&d->h, (size_t)w);
		moved(f, d, (size_t)w);
	}
	if (f->fin_wanted && !f->fin_sent && !hold_len(&d->h) && !frozen(f) && !f->down_err &&
	    !f->inner_blocked) {
		if (stream_shutdown_write(f->inner) == 0)
			f->fin_sent = true;
		else if (errno == EAGAIN)
			f->inner_blocked = true;
		else
			f->down_err = errno;
	}
	arm(f, d);
}

static void on_down(struct loop *l, void *arg)
{
	(void)l;
	struct fconn *f = arg;
	flush(f);
	if (!f->s) {
		drain_end(f);
		return;
	}
	refresh(f);
}

/* ---- up: the bytes from the client ---- */

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Takes what the client sent into the hold queue (dropped when
 * blackholed), each read stamped with its time to move on. */
static void absorb(struct fconn *f)
{
	const struct fault_flow *fl = &f->fs->st.flow[FAULT_UP];
	char tmp[16384];
	for (int i = 0; i < 16 && can_absorb(f); i++) {
		size_t room = hold_room(&f->up.h);
		ssize_t r = stream_read(f->inner, tmp, room < sizeof tmp ? room : sizeof tmp);
		int64_t due = now_of(f) + fl->delay_ms + fault_rng_spread(&f->rng, fl->jitter_ms);
		if (r > 0) {
			if (f->fs->st.blackhole)
				continue;
			if (!hold_add(&f->up.h, tmp, (size_t)r, due)) {
				f->up_err = ENOMEM;
				break;
			}
			continue;
		}
		if (r < 0 && again())
			break;
		if (r == 0)
			f->up_eof = true;
		else
			f->up_err = errno;
		/* The end, too, comes after the bytes before it. */
		f->eof_due = due > f->up.h.last_due ? due : f->up.h.last_due;
		break;
	}
	arm(f, &f->up);
}

static void on_up(struct loop *l, void *arg)
{
	(void)l;
	struct fconn *f = arg;
	refresh(f); /* the bytes now due are pending: the loop calls the reader */
	arm(f, &f->up);
}

static ssize_t fault_read(struct stream *s, void *buf, size_t n)
{
	struct fconn *f = s->priv;
	if (frozen(f)) {
		errno = EAGAIN;
		return -1;
	}
	absorb(f);
	size_t k = avail(f, &f->up, now_of(f));
	if (k) {
		if (k > n)
			k = n;
		memcpy(buf, buf_head(&f->up.h.b), k);
		hold_consume(&f->up.h, k);
		moved(f, &f->up, k);
		arm(f, &f->up);
		refresh(f);
		return (ssize_t)k;
	}
	if (eof_deliverable(f)) {
		if (f->up_err) {
			errno = f->up_err;
			return -1;
		}
		return 0;
	}
	arm(f, &f->up);
	refresh(f);
	errno = EAGAIN;
	return -1;
}

static ssize_t fault_write(struct stream *s, const void *buf, size_t n)
{
	struct fconn *f = s->priv;
	if (f->down_err) {
		errno = f->down_err;
		return -1;
	}
	if (f->fin_wanted) {
		errno = EPIPE;
		return -1;
	}
	if (frozen(f)) {
		errno = EAGAIN;
		return -1;
	}
	if (f->fs->st.blackhole)
		return (ssize_t)n; /* taken, never answered */
	size_t room = down_room(f);
	if (!room) {
		errno = EAGAIN;
		return -1;
	}
	size_t k = n < room ? n : room;
	const struct fault_flow *fl = &f->fs->st.flow[FAULT_DOWN];
	int64_t due = now_of(f) + fl->delay_ms + fault_rng_spread(&f->rng, fl->jitter_ms);
	if (!hold_add(&f->down.h, buf, k, due)) {
		errno = ENOMEM;
		return -1;
	}
	flush(f);
	refresh(f);
	return (ssize_t)k;
}

static ssize_t fault_writev(struct stream *s, const struct iovec *iov, int iovcnt)
{
	ssize_t total = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_len)
			continue;
		ssize_t w = fault_write(s, iov[i].iov_base, iov[i].iov_len);
		if (w < 0)
			return total ? total : -1;
		total += w;
		if ((size_t)w < iov[i].iov_len)
			break;
	}
	return total;
}

static int fault_shutdown_write(struct stream *s)
{
	struct fconn *f = s->priv;
	if (f->down_err) {
		errno = f->down_err;
		return -1;
	}
	/* Blackholed: never answered, not even with the end. */
	if (f->fs->st.blackhole)
		return 0;
	f->fin_wanted = true;
	flush(f);
	refresh(f);
	return 0;
}

static int fault_ready(struct stream *s, int fdmask)
{
	struct fconn *f = s->priv;
	struct stream *in = f->inner;
	int ir = in->ops->ready ? in->ops->ready(in, fdmask) : fdmask;
	if (ir & STREAM_WRITE) {
		f->inner_blocked = false;
		flush(f);
	}
	if ((ir & STREAM_READ) && (s->want & STREAM_READ))
		absorb(f);
	int r = 0;
	if (avail(f, &f->up, now_of(f)) || eof_deliverable(f))
		r |= STREAM_READ;
	if ((ir & STREAM_WRITE) && !frozen(f) && (down_room(f) || f->down_err))
		r |= STREAM_WRITE;
	refresh(f);
	return r;
}

/* ---- lifetime ---- */

static void drain_io(struct stream *in, int ready, void *arg)
{
	(void)in;
	(void)ready;
	struct fconn *f = arg;
	f->inner_blocked = false;
	size_t before = hold_len(&f->down.h);
	flush(f);
	if (hold_len(&f->down.h) != before)
		f->drain_last = now_of(f);
	drain_end(f);
}

static void fconn_free(struct fconn *f)
{
	struct loop *l = loop_of(f);
	loop_timer_stop(l, &f->up.t);
	loop_timer_stop(l, &f->down.t);
	loop_timer_stop(l, &f->cut_t);
	loop_timer_stop(l, &f->life_t);
	fault_hook_remove(&f->hook);
	f->fs->stats.active--;
	buf_free(&f->up.h.b);
	buf_free(&f->down.h.b);
	stream_close(f->inner);
	free(f);
}

/* After the engine's close: done once everything queued went out (or
 * cannot), else waiting for the client's socket or the next due time. */
static void drain_end(struct fconn *f)
{
	bool stalled = now_of(f) - f->drain_last > DRAIN_STALL_MS;
	if (!hold_len(&f->down.h) || f->down_err || frozen(f) || stalled) {
		fconn_free(f);
		return;
	}
	stream_want(f->inner, f->inner_blocked ? STREAM_WRITE : 0);
	if (!timer_armed(&f->down.t) || stalled)
		loop_timer_start(loop_of(f), &f->down.t, f->inner_blocked ? DRAIN_STALL_MS : 0);
}

static void fault_close(struct stream *s)
{
	struct fconn *f = s->priv;
	s->priv = NULL;
	f->s = NULL;
	fault_hook_remove(&f->hook);
	loop_timer_stop(loop_of(f), &f->up.t);
	loop_timer_stop(loop_of(f), &f->cut_t);
	loop_timer_stop(loop_of(f), &f->life_t);
	/* What the engine handed over still reaches the client, unless the
	 * connection was cut or the engine's own close is a release. */
	if (hold_len(&f->down.h) && !frozen(f) && !f->down_err && !(s->flags & STREAM_F_RELEASED)) {
		/* Known to the set, so that the engine's end can end it. */
		f->hook.changed = NULL;
		f->hook.next = &f->fs->drains;
		f->hook.prev = f->fs->drains.prev;
		f->fs->drains.prev->next = &f->hook;
		f->fs->drains.prev = &f->hook;
		f->drain_last = now_of(f);
		stream_set_cb(f->inner, drain_io, f);
		drain_end(f);
		return;
	}
	if (s->flags & STREAM_F_RELEASED)
		f->inner->flags |= STREAM_F_RELEASED;
	fconn_free(f);
}

/* The time-based cuts and timeout-after, from the connection's start. */
static void on_life(struct loop *l, void *arg);

static void arm_life(struct fconn *f)
{
	const struct fault_settings *st = &f->fs->st;
	int64_t at = INT64_MAX;
	int ms[] = {st->close_after.ms, st->reset_after.ms,
		    f->timed_out ? 0 : st->timeout_after_ms};
	for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
		if (ms[i] && f->start + ms[i] < at)
			at = f->start + ms[i];
	int64_t now = now_of(f);
	if (at == INT64_MAX || f->cut_pending || f->cut_done)
		loop_timer_stop(loop_of(f), &f->life_t);
	else
		loop_timer_start(loop_of(f), &f->life_t, at > now ? at - now : 0);
}

static void on_life(struct loop *l, void *arg)
{
	(void)l;
	struct fconn *f = arg;
	const struct fault_settings *st = &f->fs->st;
	int64_t age = now_of(f) - f->start;
	char why[64];
	if (st->reset_after.ms && age >= st->reset_after.ms) {
		snprintf(why, sizeof why, "reset-after %.3g s", st->reset_after.ms / 1000.0);
		cut(f, FAULT_CUT_RESET, why);
	} else if (st->close_after.ms && age >= st->close_after.ms) {
		snprintf(why, sizeof why, "close-after %.3g s", st->close_after.ms / 1000.0);
		cut(f, FAULT_CUT_CLOSE, why);
	} else if (st->timeout_after_ms && age >= st->timeout_after_ms && !f->timed_out) {
		f->timed_out = true;
		f->fs->stats.timed_out++;
		loop_timer_stop(l, &f->up.t);
		loop_timer_stop(l, &f->down.t);
		refresh(f);
	}
	arm_life(f);
}

static void on_changed(struct fault_hook *h)
{
	struct fconn *f = (struct fconn *)((char *)h - offsetof(struct fconn, hook));
	if (f->fs->state == FAULT_STATE_DOWN) {
		cut(f, FAULT_CUT_RESET, "down");
		return;
	}
	if (f->fs->state == FAULT_STATE_HOLD && !f->held) {
		f->held = true;
		f->fs->stats.held++;
	} else if (f->fs->state == FAULT_STATE_UP) {
		f->held = false;
	}
	arm_life(f);
	/* Thresholds lowered below what already moved cut at once. */
	if (check_limit(f, &f->up) || check_limit(f, &f->down))
		return;
	arm(f, &f->up);
	flush(f);
	refresh(f);
}

void fault_stream_reset(struct stream *s)
{
	struct fconn *f = s->priv;
	/* Cut, as far as the stream goes: nothing more moves, and nothing
	 * queued is sent after the close. */
	f->cut_done = true;
	loop_timer_stop(loop_of(f), &f->up.t);
	loop_timer_stop(loop_of(f), &f->down.t);
	loop_timer_stop(loop_of(f), &f->cut_t);
	loop_timer_stop(loop_of(f), &f->life_t);
	fault_arm_reset(f->inner->fd);
}

int fault_arm_reset(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

struct stream *fault_stream_new(struct stream *inner, struct fault_set *fs, fault_cut_cb cb,
				void *arg)
{
	struct fconn *f = calloc(1, sizeof *f);
	struct stream *s = calloc(1, sizeof *s);
	if (!f || !s) {
		free(f);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	/* The fault stream watches the fd from now on; inner is only
	 * called through. */
	stream_want(inner, 0);
	stream_set_cb(inner, NULL, NULL);
	f->s = s;
	f->inner = inner;
	f->fs = fs;
	f->cut = cb;
	f->cut_arg = arg;
	f->start = loop_now(inner->loop);
	f->drain_last = f->start;
	fs->stats.conns++;
	fs->stats.active++;
	fault_rng_seed(&f->rng, fs->st.seed ^ (fs->stats.conns * 0x9e3779b97f4a7c15ULL));
	timer_init(&f->up.t, on_up, f);
	timer_init(&f->down.t, on_down, f);
	timer_init(&f->cut_t, on_cut, f);
	timer_init(&f->life_t, on_life, f);
	f->hook.changed = on_changed;
	fault_hook_add(fs, &f->hook);
	s->ops = &fault_ops;
	s->loop = inner->loop;
	s->fd = inner->fd;
	s->orig_fd = -1;
	/* The kind of connection it is, without the zero-copy abilities
	 * and without ownership of the fd (inner closes it). */
	s->flags = inner->flags & (STREAM_F_SOCKET | STREAM_F_DGRAM);
	s->priv = f;
	if (fs->state == FAULT_STATE_DOWN)
		cut(f, FAULT_CUT_RESET, "down");
	arm_life(f);
	return s;
}

bool fault_stream_is(const struct stream *s)
{
	return s && s->ops == &fault_ops;
}

struct stream *fault_stream_inner(struct stream *s)
{
	return fault_stream_is(s) ? ((struct fconn *)s->priv)->inner : s;
}

static const struct stream_ops fault_ops = {
    .name = "fault",
    .read = fault_read,
    .write = fault_write,
    .writev = fault_writev,
    .shutdown_write = fault_shutdown_write,
    .close = fault_close,
    .events = fault_events,
    .ready = fault_ready,
    .pending = fault_pending,
};

void fault_stream_drains_free(struct fault_set *fs)
{
	while (fs->drains.next != &fs->drains) {
		struct fault_hook *h = fs->drains.next;
		fconn_free((struct fconn *)((char *)h - offsetof(struct fconn, hook)));
	}
}
