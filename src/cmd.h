/* Command table and the options every command shares.
 *
 * How to add a command:
 *   1. write src/cmd_NAME.c with `int cmd_NAME(int argc, char **argv)`;
 *   2. declare it below and add a row to the table in main.c;
 *   3. parse options with getopt_long, including COMMON_SHORTOPTS and
 *      COMMON_LONGOPTS, and hand unknown letters to common_opt();
 *   4. add man/sockctl-NAME.1, completions and tests/NAME.bats.
 */
#ifndef SOCKCTL_CMD_H
#define SOCKCTL_CMD_H

#include <getopt.h>
#include <stdbool.h>

#include "compat.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Options accepted before and after the command name. */
struct common_opts {
	const char *mux; /* backend name, NULL = auto (or $SOCKCTL_MUX) */
	int family;	 /* AF_UNSPEC, AF_INET or AF_INET6 */
	int verbose;
	bool quiet;
	bool numeric; /* -n: no name lookups */
};
extern struct common_opts g_opts;
extern const char *g_cmdname; /* "connect", "chat serve", ... for messages */

struct cmd_entry {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};
extern const struct cmd_entry cmd_table[];

int cmd_serve(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_udp_send(int argc, char **argv);
int cmd_resolve(int argc, char **argv);
int cmd_chat(int argc, char **argv); /* dispatches chat serve / chat connect */
int cmd_http(int argc, char **argv); /* dispatches http serve / http get */
int cmd_http_serve(int argc, char **argv);
int cmd_http_get(int argc, char **argv);

/* Long option values >= OPT_BASE are free for commands to use. */
enum { OPT_MUX = 0x1000, OPT_HELP, OPT_BASE = 0x1100 };

#define COMMON_SHORTOPTS "46vqnh"
#define COMMON_LONGOPTS                                                                            \
	{"mux", required_argument, NULL, OPT_MUX}, {"help", no_argument, NULL, 'h'},               \
	    {"verbose", no_argument, NULL, 'v'}, {"quiet", no_argument, NULL, 'q'},                \
	{                                                                                          \
		"numeric", no_argument, NULL, 'n'                                                  \
	}

/* Handles a common option returned by getopt_long. Returns 1 if handled,
 * 0 if the option is not a common one, or -1 after printing a usage error
 * (the caller returns EXIT_USAGE). */
int common_opt(int c, const char *arg);

/* Prints a command's help text to stdout and returns EXIT_OK. */
int print_help(const char *text);

/* Diagnostics: "sockctl: ..." on stderr, one line. */
void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs before errmsg and vmsg print, when set: --progress clears its
 * live line there, so a message is not glued to it and then erased. */
extern void (*g_before_msg)(void);
/* Verbose diagnostics, printed only with -v. */
void vmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error: prints "sockctl CMD: ... (see 'sockctl CMD --help')" and
 * returns EXIT_USAGE so callers can `return usage_error(...)`. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Returns the mux backend to use: --mux, else $SOCKCTL_MUX, else NULL. */
const char *mux_choice(void);
/* The backend name a loop made now would use ("epoll" for auto here). */
const char *mux_resolved(void);
/* Checks the chosen backend: 0 if usable; for "help" prints the list and
 * exits 0; otherwise prints a usage error and returns -1. */
int mux_check(void);
struct loop;
/* Creates the event loop on the chosen backend, or prints why not and
 * stores the exit status (2 usage, 1 failure) in *status. */
struct loop *cmd_loop(int maxfds, int *status);

/* A command made of subcommands (`chat serve`, `http get`): global options
 * may come before the subcommand; -h/--help/help prints help. Runs the
 * named subcommand with argv starting at its name and g_cmdname set to
 * "CMD SUB". `what` lists the names for messages ("serve or get"). */
struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};
int cmd_subcommands(int argc, char **argv, const struct subcmd *subs, const char *what,
		    const char *help);

/* Servers: raise the soft limit on open files to the hard limit, so that
 * thousands of clients do not hit the default 1024. */
void raise_fd_limit(void);

/* Parses a non-negative decimal (seconds, may have a fraction) into ms. */
bool parse_seconds(const char *s, int *ms_out);
/* Parses a decimal integer in [min, max]. */
bool parse_long(const char *s, long min, long max, long *out);

/* getopt_long with the common options handled inside: returns only the
 * command's own options, 'h' for --help, -1 at the end of options, and '?'
 * after it printed a usage error (the caller returns EXIT_USAGE). Set
 * optind = 0 (done by main) before the first call. */
int cmd_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

#endif
