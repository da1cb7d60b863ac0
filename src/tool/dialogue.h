/* The dialogue options (connect --send, --expect, --script,
 * --expect-timeout; serve --script) into one script, and what connect
 * shows of a run: the -v echo, the --json transcript, the diagnostic and
 * the exit status. The engine is src/script/. */
#ifndef SOCKCTL_DIALOGUE_H
#define SOCKCTL_DIALOGUE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/sbuf.h"
#include "script/script.h"

enum {
	DOPT_SEND = 0x1400,
	DOPT_EXPECT,
	DOPT_SCRIPT,
	DOPT_EXPECT_TIMEOUT,
	DOPT_THEN_RELAY,
};

/* connect's exit statuses for a dialogue that went wrong (none of
 * connect's other failures uses them). */
enum {
	EXIT_EXPECT_TIMEOUT = 3, /* an expect found no match by its deadline */
	EXIT_EXPECT_CLOSED = 4,	 /* the peer closed before an expect matched */
};

#define DIALOGUE_CLIENT_LONGOPTS                                                                   \
	{"send", required_argument, NULL, DOPT_SEND},                                              \
	    {"expect", required_argument, NULL, DOPT_EXPECT},                                      \
	    {"script", required_argument, NULL, DOPT_SCRIPT},                                      \
	    {"then-relay", no_argument, NULL, DOPT_THEN_RELAY},                                    \
	{                                                                                          \
		"expect-timeout", required_argument, NULL, DOPT_EXPECT_TIMEOUT                     \
	}
#define DIALOGUE_SERVER_LONGOPTS                                                                   \
	{"script", required_argument, NULL, DOPT_SCRIPT},                                          \
	{                                                                                          \
		"expect-timeout", required_argument, NULL, DOPT_EXPECT_TIMEOUT                     \
	}

struct dialogue {
	bool on; /* a step or --script was given */
	struct script sc;
	const char *file; /* --script's, for messages */
	int expect_ms;	  /* -1: not given (5 s) */
	bool json;	  /* --json: the transcript on stdout */
	bool then_relay;  /* --then-relay: the relay after a dialogue that matched */
	/* the run being shown */
	int64_t t0;
	struct sbuf tr; /* --json: the transcript's entries */
	bool tr_first;
	size_t tr_bytes; /* the data they hold, at most DIALOGUE_TRANSCRIPT_MAX */
};

/* The most data --json's transcript keeps (the last entry kept says
 * "truncated"). Not the script runner's RUN_BUF_MAX, though both are
 * 1 MiB: that one is a window of the newest bytes received, slid on so
 * the expects can still match; this is the first MiB sent and received,
 * kept as a record and then no more. Neither follows from the other. */
#define DIALOGUE_TRANSCRIPT_MAX (1024 * 1024)

/* flags: SCRIPT_F_RULES for serve. */
void dialogue_init(struct dialogue *d, unsigned flags);
void dialogue_free(struct dialogue *d);
/* One of the DIALOGUE_*_LONGOPTS: 1 handled, 0 not one, -1 after the
 * message (a bad step: exit 2; --script FILE unreadable: see
 * dialogue_status). */
int dialogue_opt(struct dialogue *d, int c, const char *arg);
/* After dialogue_opt returned -1: the exit status it stands for. */
int dialogue_status(void);

/* script_run_cfg.io for connect: -v echoes each line with its direction
 * ("> " sent, "< " received) on stderr; --json keeps it. */
void dialogue_io(void *arg, bool sent, const char *p, size_t n);
/* The exit status for an enum script_status. */
int dialogue_exit(int script_status);
/* The outcome: the diagnostic (when it failed) on stderr, the --json
 * object on stdout. Returns connect's exit status. */
int dialogue_report(struct dialogue *d, const struct script_result *r);

#endif
