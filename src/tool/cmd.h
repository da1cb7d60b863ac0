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
#include <stdint.h>

#include "tool/argparse.h"
#include "core/compat.h"
#include "core/parse.h"

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
int cmd_forward(int argc, char **argv);
int cmd_wait(int argc, char **argv);

/* Long option values >= OPT_BASE are free for commands to use, below
 * the shared tables' ranges: 0x1200 netopts, 0x1300 tlsopts, 0x1400
 * dialogue, 0x1500 proxyopts, 0x1600 faultopts. */
enum { OPT_MUX = 0x1000, OPT_QUIET, OPT_VERSION, OPT_BASE = 0x1100 };

/* --quiet has a value of its own, not 'q': connect and serve give -q a
 * value (quit after), and --quiet must still mean quiet there. */
#define COMMON_SHORTOPTS "46vqnh"
#define COMMON_LONGOPTS                                                                            \
	{"mux", required_argument, NULL, OPT_MUX}, {"help", no_argument, NULL, 'h'},               \
	    {"verbose", no_argument, NULL, 'v'}, {"quiet", no_argument, NULL, OPT_QUIET},          \
	    {"version", no_argument, NULL, OPT_VERSION},                                           \
	{                                                                                          \
		"numeric", no_argument, NULL, 'n'                                                  \
	}

/* Handles a common option returned by getopt_long. Returns 1 if handled,
 * 0 if the option is not a common one, or -1 after printing a usage error
 * (the caller returns EXIT_USAGE). */
int common_opt(int c, const char *arg);

/* --version (tool/version.c): the version and what the build has, as
 * "name: value" lines or, json, one JSON object; the exit status.
 * cmd_getopt prints it and exits where --version is given, as JSON when
 * version_json_wanted finds --json among the arguments (before a "--"). */
int version_print(bool json);
bool version_json_wanted(int argc, char **argv);

/* Prints a command's help text to stdout and returns EXIT_OK. */
int print_help(const char *text);

struct loop;

/* Diagnostics: "sockctl: ..." on stderr, one line. */
void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The text of the last errmsg() (without "sockctl: "), "" before any:
 * the reason a command failed, for --stats=json. */
const char *errmsg_last(void);
/* Runs before errmsg and vmsg print, when set: --progress clears its
 * live line there, so a message is not glued to it and then erased. */
extern void (*g_before_msg)(void);
/* The sink of the library's messages (core/log.h), installed by main:
 * errors as errmsg, the rest as vmsg (the level already chose). */
void tool_log_sink(int level, const char *text, void *arg);
/* Verbose diagnostics, printed only with -v. */
void vmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A line on stderr as it is (JSON totals), through the queue as errmsg. */
void errline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A server's own output must never block its loop (a reader that stops
 * reading would stall every client): from logs_start() on, errmsg, vmsg,
 * errline and, when out_what names what stdout carries ("access log
 * lines"), log_printf go through bounded queues that the loop writes when
 * the reader takes them (src/logq.h). Lines that do not fit are dropped
 * whole: said once on stderr, counted in logs_dropped() and by
 * logs_end(), which writes what is queued within timeout_ms, reports the
 * drops and goes back to printing directly. Stdout that is the command's
 * data (serve's relay, resolve's answers) is not queued: there the reader
 * sets the pace. */
void logs_start(struct loop *l, const char *out_what);
/* Whole lines (newline included) of the command's log on stdout. */
void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for lines already made (p[0..n), newlines included). */
void log_write(const char *p, size_t n);
uint64_t logs_dropped(void);
/* Writes what is queued, within timeout_ms (what is left then is dropped):
 * before totals, so that they find room. */
void logs_flush(int timeout_ms);
void logs_end(int timeout_ms);
#define LOGS_END_MS 1000 /* how long a run's end waits for a slow reader */

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

/* getopt_long with the common options handled inside: returns only the
 * command's own options, 'h' for --help, -1 at the end of options, and '?'
 * after it printed a usage error (the caller returns EXIT_USAGE): an
 * unknown long option gets the nearest of longopts as a suggestion, an
 * nc habit (`serve -l`) a hint. Set optind = 0 (done by main) before the
 * first call. */
int cmd_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* The usage error "unknown WHAT 'WORD'; did you mean 'NAME'?" for the
 * nearest of names[], else "unknown WHAT 'WORD' (OTHERWISE)" (OTHERWISE
 * may be NULL). Returns EXIT_USAGE. */
int usage_unknown(const char *what, const char *word, const char *const *names, size_t n,
		  const char *otherwise);

/* endpoint_split for a command, and with ENDPOINT_EXACT no operand after
 * it; a socktype (SOCK_STREAM, SOCK_DGRAM; 0: not) checks the port too,
 * 0 allowed for listeners. -1 after printing the usage error. */
int endpoint_operands(int nargs, char **args, int flags, int socktype, const char **host,
		      const char **port);
/* A host given to option opt (-s ADDR): "[V6]" loses its brackets in
 * place; a ':' elsewhere must be part of an IPv6 address. NULL after the
 * usage error. */
const char *opt_host(const char *opt, char *arg);
/* -U PATH: a socket path or @NAME that fits; false after the usage error. */
bool opt_unix_path(const char *path);

#endif
