#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "core/sbuf.h"
#include "forward/fault.h"

/* Longest delay or duration taken: a day. */
#define MAX_MS (24 * 3600 * 1000)
/* Default hold-back of a reordered datagram. */
#define REORDER_MS 20

/* ---- the generator ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void fault_rng_seed(struct fault_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t fault_rng_next(struct fault_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

bool fault_rng_chance(struct fault_rng *r, double pct)
{
	if (pct <= 0)
		return false;
	/* 53 random bits as a double in [0, 1). */
	double u = (double)(fault_rng_next(r) >> 11) * 0x1.0p-53;
	return u * 100.0 < pct;
}

int fault_rng_spread(struct fault_rng *r, int span)
{
	if (span <= 0)
		return 0;
	return (int)(fault_rng_next(r) % (2 * (uint64_t)span + 1)) - span;
}

/* ---- the settings by name ---- */

enum fkind {
	K_DELAY,       /* MS[:JITTER] */
	K_RATE,	       /* BYTES[/s] */
	K_CHUNK,       /* BYTES */
	K_CHUNK_DELAY, /* MS */
	K_CUT,	       /* BYTES | SECONDS */
	K_FLAG,
	K_SECONDS,
	K_PCT,
	K_REORDER, /* PCT[:MS] */
	K_SEED,
};

enum { D_UP = 1, D_DOWN = 2, D_BOTH = 3 };

struct field {
	const char *name;
	enum fkind kind;
	int dirs;   /* per-direction fields: which flows */
	size_t off; /* else: the member in struct fault_settings */
};

#define ST(m) offsetof(struct fault_settings, m)
static const struct field fields[] = {
    {"delay", K_DELAY, D_BOTH, 0},
    {"delay-up", K_DELAY, D_UP, 0},
    {"delay-down", K_DELAY, D_DOWN, 0},
    {"rate", K_RATE, D_BOTH, 0},
    {"rate-up", K_RATE, D_UP, 0},
    {"rate-down", K_RATE, D_DOWN, 0},
    {"chunk", K_CHUNK, D_BOTH, 0},
    {"chunk-up", K_CHUNK, D_UP, 0},
    {"chunk-down", K_CHUNK, D_DOWN, 0},
    {"chunk-delay", K_CHUNK_DELAY, D_BOTH, 0},
    {"chunk-delay-up", K_CHUNK_DELAY, D_UP, 0},
    {"chunk-delay-down", K_CHUNK_DELAY, D_DOWN, 0},
    {"close-after", K_CUT, 0, ST(close_after)},
    {"reset-after", K_CUT, 0, ST(reset_after)},
    {"refuse", K_FLAG, 0, ST(refuse)},
    {"blackhole", K_FLAG, 0, ST(blackhole)},
    {"timeout-after", K_SECONDS, 0, ST(timeout_after_ms)},
    {"loss", K_PCT, 0, ST(loss)},
    {"duplicate", K_PCT, 0, ST(duplicate)},
    {"reorder", K_REORDER, 0, ST(reorder)},
    {"seed", K_SEED, 0, ST(seed)},
};
#undef ST

const char *fault_name(size_t i)
{
	return i < sizeof fields / sizeof fields[0] ? fields[i].name : NULL;
}

static const struct field *find(const char *name)
{
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

void fault_settings_init(struct fault_settings *st)
{
	memset(st, 0, sizeof *st);
	st->reorder_ms = REORDER_MS;
}

static int bad(char *err, size_t errlen, const char *name, const char *value, const char *want)
{
	snprintf(err, errlen, "%s %s: %s", name, value, want);
	return -1;
}

/* "A:B" into its two halves (b NULL without a colon). */
static bool split2(const char *v, char *a, size_t alen, const char **b)
{
	const char *colon = strchr(v, ':');
	size_t n = colon ? (size_t)(colon - v) : strlen(v);
	if (n >= alen)
		return false;
	memcpy(a, v, n);
	a[n] = 0;
	*b = colon ? colon + 1 : NULL;
	return true;
}

/* PCT: a plain decimal from 0 to 100, with or without '%'. */
static bool parse_pct(const char *s, double *out)
{
	char num[32];
	size_t n = strlen(s);
	if (n && s[n - 1] == '%')
		n--;
	if (!n || n >= sizeof num)
		return false;
	memcpy(num, s, n);
	num[n] = 0;
	/* strtod alone would take blanks, signs, hex, exponents, "inf". */
	if (strspn(num, "0123456789.") != n || num[0] == '.')
		return false;
	char *end;
	double v = strtod(num, &end);
	if (*end || v > 100)
		return false;
	*out = v;
	return true;
}

static bool flag_value(const char *v, bool *out)
{
	if (!v || !strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) {
		*out = false;
		return true;
	}
	return false;
}

static int set_flow(struct fault_settings *st, const struct field *f, const char *value, char *err,
		    size_t errlen)
{
	struct fault_flow nf = {0};
	uint64_t sz;
	char a[32];
	const char *b;
	switch (f->kind) {
	case K_DELAY:
		if (!split2(value, a, sizeof a, &b) ||
		    !parse_duration(a, 1, MAX_MS, &nf.delay_ms) ||
		    (b && !parse_duration(b, 1, MAX_MS, &nf.jitter_ms)))
			return bad(
			    err, errlen, f->name, value,
			    "want MS[:JITTER], milliseconds (or with ms/s) of at most a day");
		break;
	case K_RATE: {
		size_t n = strlen(value);
		char num[32];
		if (n > 2 && strcmp(value + n - 2, "/s") == 0)
			n -= 2;
		if (n >= sizeof num)
			n = sizeof num - 1;
		memcpy(num, value, n);
		num[n] = 0;
		if (!parse_bytes(num, &sz))
			return bad(err, errlen, f->name, value,
				   "want BYTES per second, such as 100000, 64K or 1MiB/s");
		nf.rate = sz;
		break;
	}
	case K_CHUNK:
		if (!parse_bytes(value, &sz) || sz > UINT32_MAX)
			return bad(err, errlen, f->name, value,
				   "want a byte count of at most 4G, such as 1, 512 or 16K");
		nf.chunk = (uint32_t)sz;
		break;
	default: /* K_CHUNK_DELAY */
		if (!parse_duration(value, 1, MAX_MS, &nf.chunk_delay_ms))
			return bad(err, errlen, f->name, value,
				   "want MS, milliseconds (or with ms/s) of at most a day");
		break;
	}
	for (int d = 0; d < 2; d++) {
		if (!(f->dirs & (1 << d)))
			continue;
		struct fault_flow *fl = &st->flow[d];
		switch (f->kind) {
		case K_DELAY:
			fl->delay_ms = nf.delay_ms;
			fl->jitter_ms = nf.jitter_ms;
			break;
		case K_RATE:
			fl->rate = nf.rate;
			break;
		case K_CHUNK:
			fl->chunk = nf.chunk;
			break;
		default:
			fl->chunk_delay_ms = nf.chunk_delay_ms;
			break;
		}
	}
	return 0;
}

int fault_settings_set(struct fault_settings *st, const char *name, const char *value, char *err,
		       size_t errlen)
{
	const struct field *f = find(name);
	if (!f) {
		snprintf(err, errlen, "unknown fault '%s'", name);
		return -1;
	}
	if (!value && f->kind != K_FLAG) {
		snprintf(err, errlen, "%s: a value is missing", name);
		return -1;
	}
	if (f->dirs)
		return set_flow(st, f, value, err, errlen);
	char *m = (char *)st + f->off;
	uint64_t sz;
	char a[32];
	const char *b;
	switch (f->kind) {
	case K_CUT: {
		struct fault_cut c = {0};
		size_t n = strlen(value);
		/* A unit of time says SECONDS; anything else is a byte count. */
		if (n && value[n - 1] == 's') {
			if (!parse_duration(value, 1000, MAX_MS, &c.ms) || !c.ms)
				return bad(err, errlen, name, value,
					   "want BYTES, or a time such as 5s or 500ms (not 0)");
		} else if (!parse_bytes(value, &sz) || !sz) {
			return bad(
			    err, errlen, name, value,
			    "want BYTES (such as 1000 or 64K), or a time such as 5s or 500ms "
			    "(not 0)");
		} else {
			c.bytes = sz;
		}
		memcpy(m, &c, sizeof c);
		return 0;
	}
	case K_FLAG: {
		bool v;
		if (!flag_value(value, &v))
			return bad(err, errlen, name, value, "want on or off");
		memcpy(m, &v, sizeof v);
		return 0;
	}
	case K_SECONDS: {
		int ms;
		if (!parse_duration(value, 1000, MAX_MS, &ms) || !ms)
			return bad(err, errlen, name, value,
				   "want SECONDS (or with ms/s), more than 0 and at most a day");
		memcpy(m, &ms, sizeof ms);
		return 0;
	}
	case K_PCT: {
		double v;
		if (!parse_pct(value, &v))
			return bad(err, errlen, name, value, "want a percentage from 0 to 100");
		memcpy(m, &v, sizeof v);
		return 0;
	}
	case K_REORDER: {
		double v;
		int ms = REORDER_MS;
		if (!split2(value, a, sizeof a, &b) || !parse_pct(a, &v) ||
		    (b && (!parse_duration(b, 1, MAX_MS, &ms) || !ms)))
			return bad(err, errlen, name, value,
				   "want PCT[:MS], a percentage from 0 to 100 and a hold-back in "
				   "milliseconds");
		st->reorder = v;
		st->reorder_ms = ms;
		return 0;
	}
	default: /* K_SEED */
		if (strspn(value, "0123456789") != strlen(value) || !parse_bytes(value, &sz))
			return bad(err, errlen, name, value,
				   "want a number from 0 to 18446744073709551615");
		st->seed = sz;
		return 0;
	}
}

int fault_settings_clear(struct fault_settings *st, const char *name, char *err, size_t errlen)
{
	struct fault_settings none;
	fault_settings_init(&none);
	if (!name) {
		none.seed = st->seed;
		*st = none;
		return 0;
	}
	const struct field *f = find(name);
	if (!f) {
		snprintf(err, errlen, "unknown fault '%s'", name);
		return -1;
	}
	if (f->dirs) {
		for (int d = 0; d < 2; d++) {
			if (!(f->dirs & (1 << d)))
				continue;
			struct fault_flow *fl = &st->flow[d];
			switch (f->kind) {
			case K_DELAY:
				fl->delay_ms = fl->jitter_ms = 0;
				break;
			case K_RATE:
				fl->rate = 0;
				break;
			case K_CHUNK:
				fl->chunk = 0;
				break;
			default:
				fl->chunk_delay_ms = 0;
				break;
			}
		}
		return 0;
	}
	if (f->kind == K_REORDER) {
		st->reorder = 0;
		st->reorder_ms = REORDER_MS;
		return 0;
	}
	if (f->kind == K_SEED)
		return 0; /* a seed is never "nothing" */
	size_t sizes[] = {[K_CUT] = sizeof(struct fault_cut),
			  [K_FLAG] = sizeof(bool),
			  [K_SECONDS] = sizeof(int),
			  [K_PCT] = sizeof(double)};
	memset((char *)st + f->off, 0, sizes[f->kind]);
	return 0;
}

static bool flow_any(const struct fault_flow *f)
{
	return f->delay_ms || f->jitter_ms || f->rate || f->chunk || f->chunk_delay_ms;
}

bool fault_settings_stream_any(const struct fault_settings *st)
{
	return flow_any(&st->flow[0]) || flow_any(&st->flow[1]) || st->close_after.bytes ||
	       st->close_after.ms || st->reset_after.bytes || st->reset_after.ms || st->refuse ||
	       st->blackhole || st->timeout_after_ms;
}

bool fault_settings_dgram_any(const struct fault_settings *st)
{
	return flow_any(&st->flow[0]) || flow_any(&st->flow[1]) || st->loss > 0 ||
	       st->duplicate > 0 || st->reorder > 0 || st->refuse || st->blackhole;
}

static const char *state_name(enum fault_state s)
{
	return s == FAULT_STATE_UP ? "up" : s == FAULT_STATE_DOWN ? "down" : "hold";
}

void fault_settings_json(const struct fault_settings *st, enum fault_state state, struct sbuf *out)
{
	sb_printf(out, "{\"state\":\"%s\"", state_name(state));
	static const char *const dn[2] = {"up", "down"};
	for (int d = 0; d < 2; d++) {
		const struct fault_flow *f = &st->flow[d];
		sb_printf(out,
			  ",\"delay_%s_ms\":%d,\"jitter_%s_ms\":%d,\"rate_%s\":%" PRIu64
			  ",\"chunk_%s\":%" PRIu32 ",\"chunk_delay_%s_ms\":%d",
			  dn[d], f->delay_ms, dn[d], f->jitter_ms, dn[d], f->rate, dn[d], f->chunk,
			  dn[d], f->chunk_delay_ms);
	}
	sb_printf(
	    out,
	    ",\"close_after_bytes\":%" PRIu64 ",\"close_after_ms\":%d"
	    ",\"reset_after_bytes\":%" PRIu64 ",\"reset_after_ms\":%d"
	    ",\"refuse\":%s,\"blackhole\":%s,\"timeout_after_ms\":%d"
	    ",\"loss\":%g,\"duplicate\":%g,\"reorder\":%g,\"reorder_ms\":%d,\"seed\":%" PRIu64 "}",
	    st->close_after.bytes, st->close_after.ms, st->reset_after.bytes, st->reset_after.ms,
	    st->refuse ? "true" : "false", st->blackhole ? "true" : "false", st->timeout_after_ms,
	    st->loss, st->duplicate, st->reorder, st->reorder_ms, st->seed);
}

/* ---- the live set ---- */

void fault_set_init(struct fault_set *fs, const struct fault_settings *st)
{
	memset(fs, 0, sizeof *fs);
	fs->st = *st;
	fs->state = FAULT_STATE_UP;
	fault_set_seed(fs);
	fs->hooks.prev = fs->hooks.next = &fs->hooks;
	fs->drains.prev = fs->drains.next = &fs->drains;
}

void fault_set_changed(struct fault_set *fs)
{
	fs->generation++;
	/* A hook may remove itself (a connection that ends on the change),
	 * not others: keep the next one before calling. */
	for (struct fault_hook *h = fs->hooks.next, *n; h != &fs->hooks; h = n) {
		n = h->next;
		h->changed(h);
	}
}

void fault_set_state(struct fault_set *fs, enum fault_state state)
{
	fs->state = state;
	fault_set_changed(fs);
}

void fault_hook_add(struct fault_set *fs, struct fault_hook *h)
{
	h->next = &fs->hooks;
	h->prev = fs->hooks.prev;
	fs->hooks.prev->next = h;
	fs->hooks.prev = h;
}

void fault_hook_remove(struct fault_hook *h)
{
	if (!h->next)
		return;
	h->prev->next = h->next;
	h->next->prev = h->prev;
	h->prev = h->next = NULL;
}

bool fault_set_refuses(const struct fault_set *fs)
{
	return fs->st.refuse || fs->state != FAULT_STATE_UP;
}

void fault_set_seed(struct fault_set *fs)
{
	fault_rng_seed(&fs->rng[0], fs->st.seed);
	fault_rng_seed(&fs->rng[1], fs->st.seed ^ 0x9e3779b97f4a7c15ULL);
}

void fault_dgram_decide(struct fault_set *fs, int dir, struct fault_dgram *d)
{
	const struct fault_settings *st = &fs->st;
	const struct fault_flow *f = &st->flow[dir ? 1 : 0];
	fs->stats.dgrams++;
	d->drop = false;
	d->copies = 1;
	d->delay_ms = 0;
	/* One draw per decision, always in this order, so a seed gives the
	 * same outcome for the same sequence of datagrams. */
	struct fault_rng *r = &fs->rng[dir ? 1 : 0];
	bool lost = fault_rng_chance(r, st->loss);
	bool dup = fault_rng_chance(r, st->duplicate);
	bool reord = fault_rng_chance(r, st->reorder);
	int jitter = fault_rng_spread(r, f->jitter_ms);
	if (lost || st->blackhole || fs->state != FAULT_STATE_UP) {
		d->drop = true;
		fs->stats.lost++;
		return;
	}
	if (dup) {
		d->copies = 2;
		fs->stats.duplicated++;
	}
	int delay = f->delay_ms + jitter;
	if (delay < 0)
		delay = 0;
	if (reord) {
		delay += st->reorder_ms;
		fs->stats.reordered++;
	}
	d->delay_ms = delay;
}

void fault_stats_json(const struct fault_stats *s, struct sbuf *out)
{
	sb_printf(out,
		  "{\"connections\":%" PRIu64 ",\"active\":%" PRIu64 ",\"refused\":%" PRIu64
		  ",\"closed\":%" PRIu64 ",\"reset\":%" PRIu64 ",\"timed_out\":%" PRIu64
		  ",\"held\":%" PRIu64 ",\"bytes_up\":%" PRIu64 ",\"bytes_down\":%" PRIu64
		  ",\"datagrams\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"duplicated\":%" PRIu64
		  ",\"reordered\":%" PRIu64 "}",
		  s->conns, s->active, s->refused, s->closed, s->reset, s->timed_out, s->held,
		  s->bytes_up, s->bytes_down, s->dgrams, s->lost, s->duplicated, s->reordered);
}
