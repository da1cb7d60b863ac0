/* forward's fault options (--delay, --rate, --close-after, ... and
 * --control PATH) in one place: their table, their help text, the
 * parsing (forward/fault.h's, shared with the control socket), and the
 * fault set and control socket they start. A command includes
 * FAULTOPT_LONGOPTS and hands every option to faultopt_handle. */
#ifndef SOCKCTL_FAULTOPTS_H
#define SOCKCTL_FAULTOPTS_H

#include <getopt.h>
#include <stdbool.h>

#include "core/loop.h"
#include "forward/fault.h"

/* In the order of faultopts.c's names[]. */
enum {
	FOPT_DELAY = 0x1600,
	FOPT_DELAY_UP,
	FOPT_DELAY_DOWN,
	FOPT_RATE,
	FOPT_RATE_UP,
	FOPT_RATE_DOWN,
	FOPT_CHUNK,
	FOPT_CHUNK_UP,
	FOPT_CHUNK_DOWN,
	FOPT_CHUNK_DELAY,
	FOPT_CHUNK_DELAY_UP,
	FOPT_CHUNK_DELAY_DOWN,
	FOPT_CLOSE_AFTER,
	FOPT_RESET_AFTER,
	FOPT_REFUSE,
	FOPT_BLACKHOLE,
	FOPT_TIMEOUT_AFTER,
	FOPT_LOSS,
	FOPT_DUPLICATE,
	FOPT_REORDER,
	FOPT_SEED,
	FOPT_CONTROL,
};

#define FAULTOPT_LONGOPTS                                                                          \
	{"delay", required_argument, NULL, FOPT_DELAY},                                            \
	    {"delay-up", required_argument, NULL, FOPT_DELAY_UP},                                  \
	    {"delay-down", required_argument, NULL, FOPT_DELAY_DOWN},                              \
	    {"rate", required_argument, NULL, FOPT_RATE},                                          \
	    {"rate-up", required_argument, NULL, FOPT_RATE_UP},                                    \
	    {"rate-down", required_argument, NULL, FOPT_RATE_DOWN},                                \
	    {"chunk", required_argument, NULL, FOPT_CHUNK},                                        \
	    {"chunk-up", required_argument, NULL, FOPT_CHUNK_UP},                                  \
	    {"chunk-down", required_argument, NULL, FOPT_CHUNK_DOWN},                              \
	    {"chunk-delay", required_argument, NULL, FOPT_CHUNK_DELAY},                            \
	    {"chunk-delay-up", required_argument, NULL, FOPT_CHUNK_DELAY_UP},                      \
	    {"chunk-delay-down", required_argument, NULL, FOPT_CHUNK_DELAY_DOWN},                  \
	    {"close-after", required_argument, NULL, FOPT_CLOSE_AFTER},                            \
	    {"reset-after", required_argument, NULL, FOPT_RESET_AFTER},                            \
	    {"refuse", no_argument, NULL, FOPT_REFUSE},                                            \
	    {"blackhole", no_argument, NULL, FOPT_BLACKHOLE},                                      \
	    {"timeout-after", required_argument, NULL, FOPT_TIMEOUT_AFTER},                        \
	    {"loss", required_argument, NULL, FOPT_LOSS},                                          \
	    {"duplicate", required_argument, NULL, FOPT_DUPLICATE},                                \
	    {"reorder", required_argument, NULL, FOPT_REORDER},                                    \
	    {"seed", required_argument, NULL, FOPT_SEED},                                          \
	{                                                                                          \
		"control", required_argument, NULL, FOPT_CONTROL                                   \
	}

#define FAULTOPT_HELP                                                                              \
	"Faults, for network tests (see sockctl-forward(1), FAULTS; up = client to\n"              \
	"target, down = back; connections with faults are copied, not spliced):\n"                 \
	"      --delay MS[:JITTER]  hold each chunk MS (+/- JITTER) ms both ways, in\n"            \
	"                       order; --delay-up, --delay-down for one way\n"                     \
	"      --rate BYTES/s   cap each direction of each connection (64K, 1MiB/s);\n"            \
	"                       --rate-up, --rate-down for one way\n"                              \
	"      --chunk N        at most N bytes per read and send (TCP_NODELAY);\n"                \
	"                       --chunk-up, --chunk-down for one way\n"                            \
	"      --chunk-delay MS  MS between chunks; --chunk-delay-up and\n"                        \
	"                       --chunk-delay-down for one way\n"                                  \
	"      --close-after BYTES|SECS  close cleanly after BYTES either way, or\n"               \
	"                       SECS (5s, 500ms) after the connection began\n"                     \
	"      --reset-after BYTES|SECS  the same, with a reset (RST)\n"                           \
	"      --refuse         accept every client, then reset it at once\n"                      \
	"      --blackhole      accept and read, never forward or answer\n"                        \
	"      --timeout-after SECS  stop moving bytes after SECS, keep the connection\n"          \
	"      --loss PCT, --duplicate PCT, --reorder PCT[:MS]  with -u: drop, send\n"             \
	"                       twice, or hold back MS (20) ms each datagram\n"                    \
	"      --seed N         the seed of the jitter and of the datagram faults\n"               \
	"      --control PATH   a Unix socket taking commands (set NAME VALUE, clear,\n"           \
	"                       down [hold], up, stats, show, help), one answer line\n"            \
	"                       each: the faults change on open connections too\n"

struct faultopts {
	struct fault_settings st;
	bool any;	     /* a fault option was given */
	bool seeded;	     /* --seed */
	const char *first;   /* the first fault option given, for messages */
	const char *control; /* --control PATH */
	struct fault_set fs;
	struct fault_control *ctl; /* owned */
	bool started;
};

/* Sets the defaults (before the options). */
void faultopt_init(struct faultopts *o);
/* One option: 1 if handled, 0 if not a fault option, -1 after a usage
 * error was printed. */
int faultopt_handle(struct faultopts *o, int c, const char *arg);
/* After the options: 0, or EXIT_USAGE after the message. workers: the
 * number of processes (--control serves one). dgram: UDP, where the
 * datagram faults apply and the connection ones do not. */
int faultopt_check(struct faultopts *o, long workers, bool dgram);
/* The fault set and the control socket, on loop l: the set for the
 * engine's config (NULL: no faults, nothing to wrap), or NULL with
 * *status the exit code after the message. */
struct fault_set *faultopt_start(struct faultopts *o, struct loop *l, int *status);
/* Closes the control socket (its path removed) and frees. */
void faultopt_free(struct faultopts *o);

#endif
