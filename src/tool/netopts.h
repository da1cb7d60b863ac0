/* Options that serve and connect share: --exec/--sh-exec, socket
 * options, session logs, -C, statistics and progress. Parsed here; used by cmd_serve.c and
 * cmd_connect.c. */
#ifndef SOCKCTL_NETOPTS_H
#define SOCKCTL_NETOPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/crlf.h"
#include "net/hexlog.h"
#include "core/loop.h"
#include "net/relay.h"
#include "net/sockopt.h"

enum {
	NOPT_NODELAY = 0x1200,
	NOPT_SNDBUF,
	NOPT_RCVBUF,
	NOPT_KEEPALIVE,
	NOPT_REUSEPORT,
	NOPT_TOS,
	NOPT_TTL,
	NOPT_LINGER,
	NOPT_BINDDEV,
	NOPT_APPEND,
	NOPT_PROGRESS,
	NOPT_STATS,
	NOPT_NO_SHUTDOWN,
	NOPT_SEND_ONLY,
	NOPT_RECV_ONLY,
	NOPT_NO_ZC,
	NOPT_ALLOW,
	NOPT_DENY,
	NOPT_ALLOW_FILE,
	NOPT_DENY_FILE,
};

#define NETOPT_SHORTOPTS "e:c:o:x:C"
#define NETOPT_LONGOPTS                                                                            \
	{"exec", required_argument, NULL, 'e'}, {"sh-exec", required_argument, NULL, 'c'},         \
	    {"nodelay", no_argument, NULL, NOPT_NODELAY},                                          \
	    {"sndbuf", required_argument, NULL, NOPT_SNDBUF},                                      \
	    {"rcvbuf", required_argument, NULL, NOPT_RCVBUF},                                      \
	    {"keepalive", optional_argument, NULL, NOPT_KEEPALIVE},                                \
	    {"reuseport", no_argument, NULL, NOPT_REUSEPORT},                                      \
	    {"tos", required_argument, NULL, NOPT_TOS},                                            \
	    {"ttl", required_argument, NULL, NOPT_TTL},                                            \
	    {"linger", required_argument, NULL, NOPT_LINGER},                                      \
	    {"bind-dev", required_argument, NULL, NOPT_BINDDEV},                                   \
	    {"output", required_argument, NULL, 'o'}, {"hex-dump", required_argument, NULL, 'x'},  \
	    {"append", no_argument, NULL, NOPT_APPEND}, {"crlf", no_argument, NULL, 'C'},          \
	    {"progress", no_argument, NULL, NOPT_PROGRESS},                                        \
	{                                                                                          \
		"stats", required_argument, NULL, NOPT_STATS                                       \
	}

/* The relay's options (help text is each command's own). */
#define RELAYOPT_SHORTOPTS "i:q:"
#define RELAYOPT_LONGOPTS                                                                          \
	{"idle", required_argument, NULL, 'i'}, {"quit-after", required_argument, NULL, 'q'},      \
	    {"no-shutdown", no_argument, NULL, NOPT_NO_SHUTDOWN},                                  \
	    {"send-only", no_argument, NULL, NOPT_SEND_ONLY},                                      \
	    {"recv-only", no_argument, NULL, NOPT_RECV_ONLY},                                      \
	{                                                                                          \
		"no-zero-copy", no_argument, NULL, NOPT_NO_ZC                                      \
	}

/* A server's access rules: --allow, --deny, --allow-file, --deny-file. */
#define ACLOPT_LONGOPTS                                                                            \
	{"allow", required_argument, NULL, NOPT_ALLOW},                                            \
	    {"deny", required_argument, NULL, NOPT_DENY},                                          \
	    {"allow-file", required_argument, NULL, NOPT_ALLOW_FILE},                              \
	{                                                                                          \
		"deny-file", required_argument, NULL, NOPT_DENY_FILE                               \
	}

#define NETOPT_HELP                                                                                \
	"Socket options:\n"                                                                        \
	"      --nodelay        TCP_NODELAY (no Nagle delay)\n"                                    \
	"      --sndbuf SIZE, --rcvbuf SIZE  socket buffers (bytes, K, M or G)\n"                  \
	"      --keepalive[=IDLE[,INTERVAL[,COUNT]]]  TCP keepalive (seconds, probes)\n"           \
	"      --tos VALUE      IP TOS / IPv6 traffic class: 0-255, 0xNN, lowdelay,\n"             \
	"                       throughput, reliability, mincost, ef, csN, afNN\n"                 \
	"      --ttl N          IP TTL / IPv6 hop limit (1-255)\n"                                 \
	"      --linger SECS    SO_LINGER on close (0: reset instead of FIN)\n"                    \
	"      --bind-dev IF    SO_BINDTODEVICE: only use interface IF\n"                          \
	"Logs and statistics:\n"                                                                   \
	"  -o, --output FILE    log the raw session (both directions) to FILE\n"                   \
	"  -x, --hex-dump FILE  log a hex dump with '>' sent and '<' received marks\n"             \
	"                       (for -o and -x, FILE - is standard error)\n"                       \
	"      --append         add to the log files instead of replacing them\n"                  \
	"  -C, --crlf           send the line endings read from stdin as CRLF\n"                   \
	"      --progress       live bytes and rate on stderr (when it is a terminal),\n"          \
	"                       with percent and ETA when stdin is a file; a summary\n"            \
	"                       line stays at the end\n"                                           \
	"      --stats=json     print the totals at exit as JSON on stderr (with\n"                \
	"                       \"error\" when it failed)\n"                                       \
	"      --stats=text     print them as text, as -v does\n"

struct netopts {
	char **exec_argv;    /* --exec, split at blanks (spawn_words_free) */
	const char *sh_exec; /* --sh-exec */
	struct sockopts so;
	const char *log_raw, *log_hex;
	bool append, crlf, progress, stats_json, stats_text;
	struct hexlog log;
	bool log_open;
};

/* Handles one of the options above: 1 if handled, 0 if not ours, -1
 * after a usage error was printed. */
int netopt_handle(struct netopts *n, int c, const char *arg);
/* Handles one of RELAYOPT_LONGOPTS into ro, as netopt_handle does. */
int relayopt_handle(struct relay_opts *ro, int c, const char *arg);
struct acl;
/* Handles one of ACLOPT_LONGOPTS into a: 1 if handled, 0 if not ours, -1
 * after a usage error (exit 2), -2 after the message that a file could
 * not be read (exit 1). */
int aclopt_handle(struct acl *a, int c, const char *arg);
/* After the options: 0, or EXIT_USAGE after printing the error. */
int relayopt_check(const struct relay_opts *ro);

/* For sock_listen_opts.prepare and connect_opts.prepare: applies the
 * early socket options (arg: the struct sockopts) before bind/connect. */
int netopt_prepare(int fd, void *arg, char *err, size_t errlen);
/* Opens the logs; 0, or -1 after printing the error. */
int netopt_open_logs(struct netopts *n);
void netopt_close_logs(struct netopts *n);

/* What a command moved, for the report at exit. */
struct netopt_totals {
	uint64_t sent, received;
	int64_t ms;
	uint64_t connections;
	uint64_t refused; /* serve: connections refused, datagrams dropped */
	enum { TOTALS_CLIENT, TOTALS_STREAM_SERVER, TOTALS_DGRAM_SERVER } kind;
	bool started;	   /* the session ran (or the server listened) */
	const char *error; /* why the command failed, NULL if it did not */
};
/* Totals at exit on stderr: as text with -v or --stats=text once the
 * session started, as JSON with --stats=json always (with the error). */
void netopt_report(const struct netopts *n, const struct netopt_totals *t);

/* --progress: a line on stderr refreshed every second while it runs,
 * left at the end as a summary (bytes, time, average rate). */
struct progress {
	struct timer t;
	bool on;
	void (*get)(void *arg, uint64_t *sent, uint64_t *received);
	void *arg;
	uint64_t last_total;
	uint64_t size; /* bytes to send, for the percentage and ETA; 0 = unknown */
	int64_t start;
};
void progress_start(struct progress *p, struct loop *l, const struct netopts *n,
		    void (*get)(void *, uint64_t *, uint64_t *), void *arg);
/* After progress_start, when what is sent is stdin: if it is a regular
 * file, what is left of it is the size to send. */
void progress_size_from_stdin(struct progress *p);
void progress_stop(struct progress *p, struct loop *l);

#endif
