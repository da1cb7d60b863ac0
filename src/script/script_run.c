/* The runner: a script's steps over a stream on the loop. What arrives
 * is kept until an expect consumes it; what is sent waits in an output
 * queue; one timer serves the expect deadlines, the sleeps and the
 * server's linger. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compat.h"
#include "core/crlf.h"
#include "core/loop.h"
#include "core/outq.h"
#include "core/sbuf.h"
#include "core/text_escape.h"
#include "net/stream.h"
#include "script/script.h"

/* Most bytes kept for the expects: past it the oldest go (a peer that
 * talks on while an expect waits cannot take all memory). Not the
 * --json transcript's bound (tool/dialogue.h says why). */
#define RUN_BUF_MAX (1024 * 1024)
/* Sends wait while this much is queued (the peer does not read). */
#define RUN_QUEUE_HIGH (1024 * 1024)
#define READ_CHUNK     65536

enum phase {
	PH_STEPS,  /* playing the steps */
	PH_RULES,  /* server: answering by the rules until the peer ends */
	PH_FLUSH,  /* the last sends going out */
	PH_SHUT,   /* server: the write side being shut down */
	PH_LINGER, /* server: reading what still comes, until EOF */
};

struct script_run {
	struct loop *loop;
	struct stream *s; /* not owned */
	struct script_run_cfg cfg;
	const struct script *sc;
	enum phase phase;
	size_t pc;	  /* the step being played */
	size_t armed_for; /* the step the timer's deadline is for, + 1 */
	bool sleeping;
	int deadline_ms;
	struct timer timer;
	struct outq q;
	bool dgram, eof, prev_cr;
	bool mid_line; /* the bytes consumed last ended within a line */
	char *in;      /* received, not consumed yet */
	size_t inlen, incap;
	char tail[SCRIPT_TAIL];
	size_t tail_len;
	char *vals[SCRIPT_VARS_MAX];
	size_t lens[SCRIPT_VARS_MAX];
	unsigned long long sent, received;
	int64_t t0;
};

static void finish(struct script_run *r, enum script_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Ends the run: the outcome goes to cfg.done, which may free r; the
 * caller returns false at once. */
static void finish(struct script_run *r, enum script_status st, const char *fmt, ...)
{
	struct script_result res = {.status = st,
				    .tail = r->tail,
				    .tail_len = r->tail_len,
				    .rest = r->in,
				    .rest_len = r->inlen,
				    .vals = r->vals,
				    .lens = r->lens,
				    .sent = r->sent,
				    .received = r->received,
				    .ms = loop_now(r->loop) - r->t0};
	if (st != SCRIPT_OK && r->phase == PH_STEPS && r->pc < r->sc->nsteps) {
		res.step = &r->sc->steps[r->pc];
		res.deadline_ms = r->deadline_ms;
	}
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(res.why, sizeof res.why, fmt, ap);
		va_end(ap);
	}
	loop_timer_stop(r->loop, &r->timer);
	stream_want(r->s, 0);
	r->s = NULL; /* the stream is the caller's again */
	r->cfg.done(r->cfg.arg, &res);
}

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static void want(struct script_run *r)
{
	int m = 0;
	if (!outq_empty(&r->q) || r->phase == PH_SHUT)
		m |= STREAM_WRITE;
	/* The rules stop reading while their answers pile up unread: a
	 * client that only sends cannot grow the queue without bound. */
	if (!r->eof && !(r->phase == PH_RULES && outq_len(&r->q) > RUN_QUEUE_HIGH))
		m |= STREAM_READ;
	stream_want(r->s, m);
}

/* Queues (or writes) the expanded text t; false if the run ended. */
static bool send_text(struct script_run *r, const struct script_text *t)
{
	size_t n = script_text_len(t, r->lens);
	if (!n)
		return true;
	char *buf = malloc(r->cfg.crlf ? 2 * n : n);
	if (!buf) {
		finish(r, SCRIPT_FAILED, "out of memory");
		return false;
	}
	long k = script_text_expand(t, r->vals, r->lens, buf, n);
	if (k > 0 && r->cfg.crlf)
		k = (long)crlf_expand(buf, (size_t)k, &r->prev_cr);
	if (r->cfg.io)
		r->cfg.io(r->cfg.arg, true, buf, (size_t)k);
	int rc = OUTQ_OK;
	if (r->dgram && outq_empty(&r->q)) {
		/* One send, one datagram: never written in parts or merged
		 * with the next in one writev. */
		ssize_t w = stream_write(r->s, buf, (size_t)k);
		if (w < 0 && !again()) {
			rc = OUTQ_FAIL;
		} else if (w < 0) {
			rc = outq_add(&r->q, buf, (size_t)k);
		}
	} else {
		rc = outq_write(&r->q, r->s, buf, (size_t)k, NULL);
	}
	free(buf);
	if (rc == OUTQ_FAIL) {
		finish(r, SCRIPT_FAILED, "send: %s", strerror(errno));
		return false;
	}
	if (rc != OUTQ_OK) {
		finish(r, SCRIPT_FAILED, "send: out of memory");
		return false;
	}
	r->sent += (unsigned long long)k;
	return true;
}

/* An expect's (or a rule's) regex over what waits: the match's end (and
 * the first group or the match in *cs, *ce), or -1. */
static long match(const struct script_run *r, const regex_t *re, size_t *so, size_t *cs, size_t *ce)
{
	regmatch_t m[2];
	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)r->inlen;
	/* REG_STARTEND: the bytes are a length, not a C string, so a NUL
	 * received does not hide what follows it. The end of what came so
	 * far is a line end ($) only after a newline or at the peer's end
	 * (a datagram is whole): "id: 12" of "id: 1234\n" is no line yet.
	 * The start is no line start (^) when the bytes consumed before
	 * ended within a line. */
	int flags = REG_STARTEND;
	if (!r->eof && !r->dgram && (!r->inlen || r->in[r->inlen - 1] != '\n'))
		flags |= REG_NOTEOL;
	if (r->mid_line)
		flags |= REG_NOTBOL;
	if (regexec(re, r->in ? r->in : "", 2, m, flags) != 0)
		return -1;
	if (m[0].rm_so < 0)
		return -1;
	int g = re->re_nsub >= 1 && m[1].rm_so >= 0 ? 1 : 0;
	*so = (size_t)m[0].rm_so;
	*cs = (size_t)m[g].rm_so;
	*ce = (size_t)m[g].rm_eo;
	return (long)m[0].rm_eo;
}

static void consume(struct script_run *r, size_t n)
{
	if (!n)
		return; /* an empty match, maybe before any byte came */
	r->mid_line = r->in[n - 1] != '\n';
	/* With the NUL after the bytes (see keep_input). */
	memmove(r->in, r->in + n, r->inlen - n + 1);
	r->inlen -= n;
}

static bool set_capture(struct script_run *r, int var, size_t cs, size_t ce)
{
	char *v = malloc(ce - cs + 1);
	if (!v) {
		finish(r, SCRIPT_FAILED, "out of memory");
		return false;
	}
	memcpy(v, r->in + cs, ce - cs);
	v[ce - cs] = '\0';
	free(r->vals[var]);
	r->vals[var] = v;
	r->lens[var] = ce - cs;
	return true;
}

/* The rules answer what waits, the earliest match first (the first rule
 * of those matching there); a match of nothing answers nothing, or a
 * rule like "x*" would answer for ever. */
static bool apply_rules(struct script_run *r)
{
	for (;;) {
		if (outq_len(&r->q) > RUN_QUEUE_HIGH)
			return true; /* the rest once the peer takes some */
		const struct script_rule *best = NULL;
		size_t best_so = 0, best_end = 0;
		for (size_t i = 0; i < r->sc->nrules; i++) {
			size_t so, cs, ce;
			long end = match(r, &r->sc->rules[i].re, &so, &cs, &ce);
			if (end <= 0 || (size_t)end <= so || (best && so >= best_so))
				continue;
			best = &r->sc->rules[i];
			best_so = so;
			best_end = (size_t)end;
		}
		if (!best)
			return true;
		consume(r, best_end);
		if (!send_text(r, &best->reply))
			return false;
	}
}

static void end_steps(struct script_run *r)
{
	loop_timer_stop(r->loop, &r->timer);
	r->armed_for = 0;
	/* With the rules even after EOF: the last request came with it. */
	r->phase = r->cfg.server && r->sc->nrules ? PH_RULES : PH_FLUSH;
	if (r->phase == PH_FLUSH)
		/* A peer that never takes the last bytes: the last deadline. */
		loop_timer_start(r->loop, &r->timer, r->deadline_ms);
	else if (r->cfg.idle_ms > 0)
		loop_timer_start(r->loop, &r->timer, r->cfg.idle_ms);
}

/* The current step's deadline, from when it began. */
static void arm_deadline(struct script_run *r)
{
	if (r->armed_for == r->pc + 1)
		return;
	r->armed_for = r->pc + 1;
	loop_timer_start(r->loop, &r->timer, r->deadline_ms);
}

/* Plays what can be played now; false if the run ended. */
static bool advance(struct script_run *r)
{
	const struct script *sc = r->sc;
	while (r->phase == PH_STEPS) {
		if (r->pc >= sc->nsteps) {
			end_steps(r);
			break;
		}
		const struct script_step *st = &sc->steps[r->pc];
		size_t so, cs, ce;
		long end;
		switch (st->op) {
		case SCRIPT_SEND:
			/* A datagram waits for the one before it; a stream send for
			 * a queue that has gone too long. */
			if ((r->dgram && !outq_empty(&r->q)) || outq_len(&r->q) > RUN_QUEUE_HIGH) {
				arm_deadline(r); /* a peer that never reads */
				return true;
			}
			if (!send_text(r, &st->text))
				return false;
			break;
		case SCRIPT_SLEEP:
			if (r->sleeping)
				return true;
			if (r->armed_for != r->pc + 1) {
				r->armed_for = r->pc + 1;
				r->sleeping = true;
				loop_timer_start(r->loop, &r->timer, st->ms);
				return true;
			}
			break; /* slept */
		case SCRIPT_TIMEOUT:
			r->deadline_ms = st->ms;
			break;
		case SCRIPT_EXPECT_EOF:
			if (r->eof)
				break;
			arm_deadline(r);
			return true;
		case SCRIPT_EXPECT:
		case SCRIPT_CAPTURE:
			if ((end = match(r, &st->re, &so, &cs, &ce)) >= 0) {
				if (st->op == SCRIPT_CAPTURE && !set_capture(r, st->var, cs, ce))
					return false;
				consume(r, (size_t)end);
				break;
			}
			if (r->eof) {
				finish(r, SCRIPT_CLOSED, NULL);
				return false;
			}
			arm_deadline(r);
			return true;
		}
		loop_timer_stop(r->loop, &r->timer);
		r->pc++;
	}
	if (r->phase == PH_RULES) {
		if (!apply_rules(r))
			return false;
		if (!r->eof)
			return true;
		r->phase = PH_FLUSH;
		loop_timer_start(r->loop, &r->timer, r->deadline_ms);
	}
	if (r->phase == PH_FLUSH) {
		if (!outq_empty(&r->q))
			return true;
		if (!r->cfg.server) {
			finish(r, SCRIPT_OK, NULL);
			return false;
		}
		r->phase = PH_SHUT;
	}
	if (r->phase == PH_SHUT) {
		if (stream_shutdown_write(r->s) < 0) {
			if (again())
				return true;
			/* The peer has gone already: nothing is lost. */
		}
		r->phase = PH_LINGER;
		loop_timer_start(r->loop, &r->timer, r->cfg.linger_ms);
	}
	if (r->phase == PH_LINGER && r->eof) {
		finish(r, SCRIPT_OK, NULL);
		return false;
	}
	return true;
}

static void keep_tail(struct script_run *r, const char *p, size_t n)
{
	if (n >= SCRIPT_TAIL) {
		memcpy(r->tail, p + n - SCRIPT_TAIL, SCRIPT_TAIL);
		r->tail_len = SCRIPT_TAIL;
		return;
	}
	size_t keep = r->tail_len + n > SCRIPT_TAIL ? SCRIPT_TAIL - n : r->tail_len;
	memmove(r->tail, r->tail + r->tail_len - keep, keep);
	memcpy(r->tail + keep, p, n);
	r->tail_len = keep + n;
}

/* Keeps p[0..n) for the expects (the server lingering drops it). */
static bool keep_input(struct script_run *r, const char *p, size_t n)
{
	if (r->phase == PH_LINGER)
		return true;
	if (n > RUN_BUF_MAX) {
		p += n - RUN_BUF_MAX;
		n = RUN_BUF_MAX;
	}
	if (r->inlen + n > RUN_BUF_MAX)
		consume(r, r->inlen + n - RUN_BUF_MAX);
	/* A NUL always follows the bytes: regexec is given their length
	 * (REG_STARTEND), but sanitizers' regexec wrappers measure the
	 * string with strlen first. */
	if (r->inlen + n + 1 > r->incap) {
		size_t cap = r->incap ? r->incap : 4096;
		while (cap < r->inlen + n + 1)
			cap *= 2;
		char *ni = realloc(r->in, cap);
		if (!ni) {
			finish(r, SCRIPT_FAILED, "out of memory");
			return false;
		}
		r->in = ni;
		r->incap = cap;
	}
	memcpy(r->in + r->inlen, p, n);
	r->inlen += n;
	r->in[r->inlen] = '\0';
	return true;
}

static bool do_read(struct script_run *r)
{
	char buf[READ_CHUNK];
	for (int i = 0; i < 8 && !r->eof; i++) {
		ssize_t n = stream_read(r->s, buf, sizeof buf);
		if (n < 0 && again())
			return true;
		if (n < 0) {
			finish(r, SCRIPT_FAILED, "recv: %s", strerror(errno));
			return false;
		}
		if (n == 0) {
			/* A datagram of no bytes is not the end. */
			if (!r->dgram)
				r->eof = true;
			return true;
		}
		r->received += (unsigned long long)n;
		if (r->phase == PH_RULES && r->cfg.idle_ms > 0)
			loop_timer_start(r->loop, &r->timer, r->cfg.idle_ms);
		keep_tail(r, buf, (size_t)n);
		if (r->cfg.io && r->phase != PH_LINGER)
			r->cfg.io(r->cfg.arg, false, buf, (size_t)n);
		if (!keep_input(r, buf, (size_t)n))
			return false;
		if (r->dgram)
			return true; /* one datagram, then the steps */
	}
	return true;
}

static void on_stream(struct stream *s, int ready, void *arg)
{
	(void)s;
	struct script_run *r = arg;
	if ((ready & STREAM_WRITE) && outq_flush(&r->q, r->s) < 0) {
		finish(r, SCRIPT_FAILED, "send: %s", strerror(errno));
		return;
	}
	if ((ready & STREAM_READ) && !do_read(r))
		return;
	if (advance(r))
		want(r);
}

static void on_timer(struct loop *l, void *arg)
{
	(void)l;
	struct script_run *r = arg;
	if (r->sleeping) {
		r->sleeping = false;
		if (advance(r))
			want(r);
		return;
	}
	switch (r->phase) {
	case PH_STEPS:
		if (r->sc->steps[r->pc].op != SCRIPT_SEND) {
			finish(r, SCRIPT_TIMED_OUT, NULL);
			return;
		}
		FALLTHROUGH; /* a send held back by what the peer did not take */
	case PH_FLUSH:
	case PH_SHUT:
		finish(r, SCRIPT_FAILED, "the peer took nothing more for %.3g s (%zu bytes unsent)",
		       r->deadline_ms / 1000.0, outq_len(&r->q));
		return;
	case PH_LINGER:
		finish(r, SCRIPT_OK, NULL);
		return;
	case PH_RULES:
		/* -i: the client sent nothing for that long; it is done, as at
		 * its end (the answers go, then the write side). */
		r->eof = true;
		if (advance(r))
			want(r);
		return;
	}
}

struct script_run *script_run_start(struct loop *l, struct stream *s,
				    const struct script_run_cfg *cfg, char *err, size_t errlen)
{
	struct script_run *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->loop = l;
	r->s = s;
	r->cfg = *cfg;
	r->sc = cfg->sc;
	r->deadline_ms = cfg->expect_ms > 0 ? cfg->expect_ms : 5000;
	r->dgram = stream_has(s, STREAM_F_DGRAM);
	r->t0 = loop_now(l);
	outq_init(&r->q, 0);
	timer_init(&r->timer, on_timer, r);
	stream_set_cb(s, on_stream, r);
	/* The first steps run from the first event (a new connection can be
	 * written at once), not in here: the outcome never reaches the
	 * caller before it has the run. */
	if (stream_want(s, STREAM_READ | STREAM_WRITE) < 0) {
		snprintf(err, errlen, "watching the connection: %s", strerror(errno));
		script_run_free(r);
		return NULL;
	}
	return r;
}

void script_run_free(struct script_run *r)
{
	if (!r)
		return;
	loop_timer_stop(r->loop, &r->timer);
	if (r->s)
		stream_want(r->s, 0);
	outq_clear(&r->q);
	for (size_t i = 0; i < SCRIPT_VARS_MAX; i++)
		free(r->vals[i]);
	free(r->in);
	free(r);
}

void script_describe(struct sbuf *b, const struct script_result *r)
{
	const struct script_step *st = r->step;
	if (st) {
		if (st->line)
			sb_printf(b, "line %d (%s", st->line, script_op_name(st->op));
		else
			sb_printf(b, "step %d (--%s", st->index, script_op_name(st->op));
		if (st->op != SCRIPT_EXPECT_EOF) {
			sb_putc(b, ' ');
			/* As written (escapes and all), control bytes made visible. */
			for (const char *p = st->src; *p; p++)
				if ((unsigned char)*p < ' ' || *p == 0x7f)
					sb_printf(b, "\\x%02x", (unsigned char)*p);
				else
					sb_putc(b, *p);
		}
		sb_puts(b, "): ");
	}
	switch (r->status) {
	case SCRIPT_OK:
		sb_puts(b, "every step matched");
		return;
	case SCRIPT_TIMED_OUT:
		sb_printf(b, "no match within %.3g s", r->deadline_ms / 1000.0);
		break;
	case SCRIPT_CLOSED:
		sb_puts(b, "the peer closed first");
		break;
	case SCRIPT_FAILED:
		sb_puts(b, r->why);
		break;
	}
	if (!r->tail_len) {
		sb_puts(b, "; nothing received");
		return;
	}
	sb_printf(b, "; the last %zu bytes received: \"", r->tail_len);
	text_escape(b, r->tail, r->tail_len);
	sb_putc(b, '"');
}
