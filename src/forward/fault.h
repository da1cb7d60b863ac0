/* Faults a forwarder injects for network tests: per-direction delay,
 * bandwidth cap and chunking, per-connection cuts (close, reset, refuse,
 * blackhole, timeout), an up/down state, and datagram loss, duplication
 * and reordering with a seeded generator.
 *
 * One struct fault_set holds the live settings; the command line and the
 * control socket change them through the same parser (fault_settings_set,
 * by the option's name), and every connection reads the shared settings
 * each time it decides, so a change reaches connections already open.
 * Connections that need telling at once (a timer to move, a state to
 * enter) register a struct fault_hook. Pure: no I/O, no loop.
 *
 * Directions: up is client -> target, down is target -> client. */
#ifndef SOCKCTL_FAULT_H
#define SOCKCTL_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;

enum { FAULT_UP = 0, FAULT_DOWN = 1 };

/* What happens to the bytes of one direction. */
struct fault_flow {
	int delay_ms, jitter_ms; /* each chunk held delay +/- jitter, order kept */
	uint64_t rate;		 /* bytes per second; 0 = no cap */
	uint32_t chunk;		 /* most bytes per read or send; 0 = any */
	int chunk_delay_ms;	 /* between two chunks */
};

/* A cut after so many bytes (in either direction) or so long after the
 * connection began, whichever comes first; 0 = never. */
struct fault_cut {
	uint64_t bytes;
	int ms;
};

enum fault_state {
	FAULT_STATE_UP,	  /* forwarding */
	FAULT_STATE_DOWN, /* new connections refused, open ones reset */
	FAULT_STATE_HOLD, /* new connections refused, open ones frozen */
};

struct fault_settings {
	struct fault_flow flow[2]; /* [FAULT_UP], [FAULT_DOWN] */
	struct fault_cut close_after, reset_after;
	bool refuse;	      /* accept, then reset at once */
	bool blackhole;	      /* accept, read and drop, never answer */
	int timeout_after_ms; /* stop moving bytes (keep the connection); 0 = never */
	/* Datagrams, in percent (0..100): dropped, sent twice, held back
	 * reorder_ms so later ones overtake. */
	double loss, duplicate, reorder;
	int reorder_ms;
	uint64_t seed;
};

/* The state of the generator behind the datagram decisions
 * (xoshiro256**, seeded through splitmix64: the same seed gives the same
 * decisions on every machine). */
struct fault_rng {
	uint64_t s[4];
};
void fault_rng_seed(struct fault_rng *r, uint64_t seed);
uint64_t fault_rng_next(struct fault_rng *r);
/* True with probability pct percent. */
bool fault_rng_chance(struct fault_rng *r, double pct);
/* Uniform in [-span, span]. */
int fault_rng_spread(struct fault_rng *r, int span);

/* Totals over the run, for the control socket's `stats`. */
struct fault_stats {
	uint64_t conns;	 /* connections that went through the faults */
	uint64_t active; /* of them, open now */
	uint64_t refused, closed, reset, timed_out, held;
	uint64_t bytes_up, bytes_down; /* handed on, after the faults */
	uint64_t dgrams, lost, duplicated, reordered;
};

/* A live connection's registration: changed runs after every change of
 * the settings or the state (it must not unregister other hooks). */
struct fault_hook {
	struct fault_hook *prev, *next;
	void (*changed)(struct fault_hook *h);
};

struct fault_set {
	struct fault_settings st;
	enum fault_state state;
	uint64_t generation; /* counts changes */
	/* The datagram decisions, one generator per direction: what each
	 * direction's datagrams meet depends on their own order only, not on
	 * how they interleave with the other direction's. */
	struct fault_rng rng[2];
	struct fault_stats stats;
	struct fault_hook hooks; /* list head */
	/* Closed fault streams still handing their last bytes to the client
	 * (list head; fault_stream_drains_free ends them). */
	struct fault_hook drains;
};

/* Seeds a set's generators from its settings' seed. */
void fault_set_seed(struct fault_set *fs);

/* Settings with nothing injected. */
void fault_settings_init(struct fault_settings *st);
/* Sets one setting by its option name ("delay", "delay-up", "rate",
 * "close-after", ...) from its text. A flag (refuse, blackhole) takes
 * value NULL, "on" or "off". Returns 0, or -1 with a one-line reason in
 * err (st unchanged). */
int fault_settings_set(struct fault_settings *st, const char *name, const char *value, char *err,
		       size_t errlen);
/* Puts a setting (name), or all of them (name NULL), back to nothing
 * injected. Returns 0, or -1 for an unknown name. */
int fault_settings_clear(struct fault_settings *st, const char *name, char *err, size_t errlen);
/* Whether anything applies to stream connections / to datagrams. */
bool fault_settings_stream_any(const struct fault_settings *st);
bool fault_settings_dgram_any(const struct fault_settings *st);
/* The settings as one JSON object. */
void fault_settings_json(const struct fault_settings *st, enum fault_state state, struct sbuf *out);

/* The i-th name fault_settings_set knows, NULL past the last. */
const char *fault_name(size_t i);

/* A set with st as its settings (copied) and the generator seeded from
 * st->seed. */
void fault_set_init(struct fault_set *fs, const struct fault_settings *st);
/* Tells every hook that settings or state changed (after editing fs->st
 * or fs->state by hand, or through the calls below). */
void fault_set_changed(struct fault_set *fs);
void fault_set_state(struct fault_set *fs, enum fault_state state);
void fault_hook_add(struct fault_set *fs, struct fault_hook *h);
void fault_hook_remove(struct fault_hook *h);
/* Whether a new connection is to be refused now (--refuse, or down). */
bool fault_set_refuses(const struct fault_set *fs);

/* What becomes of one datagram. */
struct fault_dgram {
	bool drop;
	int copies;   /* 1, or 2 when duplicated */
	int delay_ms; /* before it goes out (delay, jitter, reordering) */
};
/* Decides, counting in fs->stats, for a datagram going in direction dir. */
void fault_dgram_decide(struct fault_set *fs, int dir, struct fault_dgram *d);

/* The live totals as one JSON object. */
void fault_stats_json(const struct fault_stats *s, struct sbuf *out);

#endif
