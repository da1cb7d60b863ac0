#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tool/cmd.h"
#include "core/log.h"
#include "core/logq.h"
#include "core/loop.h"
#include "net/sock.h"

struct common_opts g_opts = {.family = AF_UNSPEC};
const char *g_cmdname;
void (*g_before_msg)(void);

/* Between logs_start and logs_end: the queues for stderr and, where it
 * is a log, stdout (owned). */
static struct logq *q_err, *q_out;
static const char *q_out_what; /* "access log lines", ... */

__attribute__((format(printf, 2, 0))) static void vmsgf(const char *prefix, const char *fmt,
							va_list ap)
{
	char line[1024];
	vsnprintf(line, sizeof line, fmt, ap);
	if (g_before_msg)
		g_before_msg();
	errline("%s: %s\n", prefix, line);
}

static char last_error[1024];

void tool_log_sink(int level, const char *text, void *arg)
{
	(void)arg;
	/* An error is the command's last error (--stats=json reports it). */
	if (level == LOG_LVL_ERROR)
		errmsg("%s", text);
	else
		vmsg("%s", text);
}

void errmsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	if (g_before_msg)
		g_before_msg();
	errline("sockctl: %s\n", last_error);
}

const char *errmsg_last(void)
{
	return last_error;
}

void vmsg(const char *fmt, ...)
{
	if (!g_opts.verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsgf("sockctl", fmt, ap);
	va_end(ap);
}

/* Through the queue while there is one, else to the stream as before. */
__attribute__((format(printf, 3, 0))) static void vput(struct logq *q, FILE *f, const char *fmt,
						       va_list ap)
{
	if (q) {
		logq_vprintf(q, fmt, ap);
	} else {
		vfprintf(f, fmt, ap);
		/* A unit without a newline (a --progress line) is due now too. */
		fflush(f);
	}
}

void errline(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vput(q_err, stderr, fmt, ap);
	va_end(ap);
}

void log_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vput(q_out, stdout, fmt, ap);
	va_end(ap);
}

void log_write(const char *p, size_t n)
{
	if (q_out) {
		logq_write(q_out, p, n);
	} else {
		fwrite(p, 1, n, stdout);
		fflush(stdout);
	}
}

/* The first line stdout could not take: said once (the count comes at
 * the end). Through the stderr queue: stderr may be stalled as well. */
static void on_out_drop(struct logq *q, void *arg)
{
	(void)arg;
	int e = logq_error(q);
	if (e)
		errmsg("stdout: %s: dropping %s", strerror(e), q_out_what);
	else
		errmsg("stdout is not being read: dropping %s (counted at exit)", q_out_what);
}

static struct logq *log_queue(int fd, struct loop *l)
{
	struct logq *q = logq_new(fd, LOGQ_CAP_DEFAULT);
	if (q && logq_attach(q, l) < 0) {
		logq_free(q);
		q = NULL;
	}
	/* No queue (the fd is closed, or not writable): lines are printed
	 * as before; they cannot block there either. */
	return q;
}

void logs_start(struct loop *l, const char *out_what)
{
	logs_end(0);
	/* What stdio holds goes first, so nothing is reordered. */
	fflush(stdout);
	fflush(stderr);
	q_err = log_queue(STDERR_FILENO, l);
	if (out_what && (q_out = log_queue(STDOUT_FILENO, l))) {
		q_out_what = out_what;
		logq_on_drop(q_out, on_out_drop, NULL);
	}
}

uint64_t logs_dropped(void)
{
	return (q_out ? logq_dropped(q_out) : 0) + (q_err ? logq_dropped(q_err) : 0);
}

void logs_flush(int timeout_ms)
{
	int64_t end = clock_ms() + timeout_ms;
	if (q_out)
		logq_flush(q_out, timeout_ms);
	/* At least a moment for stderr, even when stdout took it all. */
	int64_t left = end - clock_ms();
	if (q_err)
		logq_flush(q_err, timeout_ms ? (int)(left < 200 ? 200 : left) : 0);
}

void logs_end(int timeout_ms)
{
	/* First make room: what is left at the deadline is dropped, so the
	 * counts below fit in the queue even when it was full. */
	logs_flush(timeout_ms);
	uint64_t out = q_out ? logq_dropped(q_out) : 0;
	uint64_t err = q_err ? logq_dropped(q_err) : 0;
	if (out) {
		int e = logq_error(q_out);
		errmsg("%llu %s dropped: %s%s", (unsigned long long)out, q_out_what,
		       e ? "stdout: " : "stdout was not read", e ? strerror(e) : "");
	}
	if (err)
		errmsg("%llu diagnostic lines dropped: stderr was not read",
		       (unsigned long long)err);
	logq_free(q_out);
	q_out = NULL;
	if (q_err)
		logq_flush(q_err, timeout_ms ? 200 : 0);
	logq_free(q_err);
	q_err = NULL;
}

int usage_error(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (g_cmdname)
		fprintf(stderr, "sockctl %s: %s (see 'sockctl %s --help')\n", g_cmdname, line,
			g_cmdname);
	else
		fprintf(stderr, "sockctl: %s (see 'sockctl --help')\n", line);
	return EXIT_USAGE;
}

int print_help(const char *text)
{
	fputs(text, stdout);
	return EXIT_OK;
}

const char *mux_choice(void)
{
	if (g_opts.mux)
		return g_opts.mux;
	const char *env = getenv("SOCKCTL_MUX");
	return env && *env ? env : NULL;
}

int common_opt(int c, const char *arg)
{
	static char family_opt; /* the -4 or -6 given first */
	switch (c) {
	case '4':
	case '6':
		/* Both is a contradiction, wherever each was given (before or
		 * after the command name): not "the last one wins". */
		if (family_opt && family_opt != c) {
			usage_error("-4 and -6 exclude each other");
			return -1;
		}
		family_opt = (char)c;
		g_opts.family = c == '4' ? AF_INET : AF_INET6;
		return 1;
	case 'v':
		g_opts.verbose++;
		log_set_level(g_opts.verbose);
		return 1;
	case 'q':
	case OPT_QUIET:
		g_opts.quiet = true;
		return 1;
	case 'n':
		g_opts.numeric = true;
		return 1;
	case OPT_MUX:
		g_opts.mux = arg;
		return 1;
	}
	return 0;
}

/* Habits from nc, ncat and curl that have another spelling here. */
static const struct {
	const char *cmd;
	char opt;
	const char *hint;
} habits[] = {
    {"serve", 'l', "serve listens already: sockctl serve [ADDRESS] PORT"},
    {"serve", 'p', "give the port as an operand: sockctl serve [ADDRESS] PORT"},
    {"chat serve", 'l', "chat serve listens already: sockctl chat serve [ADDRESS] PORT"},
    {"chat serve", 'p', "give the port as an operand: sockctl chat serve [ADDRESS] PORT"},
    {"http serve", 'l', "http serve listens already: sockctl http serve [ADDRESS] PORT"},
    {"http serve", 'p', "give the port as an operand: sockctl http serve [ADDRESS] PORT"},
    {"connect", 'l', "to listen, use sockctl serve [ADDRESS] PORT"},
    {"connect", 'k', "to accept many clients, use sockctl serve -k"},
    {"connect", 'N', "connect shuts down its write side on stdin EOF already"},
    {"connect", 'd', "to leave stdin unread, use --recv-only"},
    {"connect", 'X', "use --proxy-type TYPE with --proxy HOST:PORT"},
    {"udp-send", 'u', "udp-send always sends UDP"},
    {"udp-send", 'l', "to listen for datagrams, use sockctl serve -u"},
    {"http get", 's', "use -q for quiet"},
    {"http get", 'O', "use -o FILE"},
};

static const char *habit_hint(int opt)
{
	for (size_t i = 0; g_cmdname && i < sizeof habits / sizeof habits[0]; i++)
		if (habits[i].opt == opt && strcmp(habits[i].cmd, g_cmdname) == 0)
			return habits[i].hint;
	return NULL;
}

/* The long option NAME (as typed, up to '=') names: exact, or the one it
 * begins; NULL if none or several. */
static const struct option *find_long(const struct option *longopts, const char *name, size_t n)
{
	const struct option *found = NULL;
	for (const struct option *o = longopts; o->name; o++) {
		if (strncmp(o->name, name, n) != 0)
			continue;
		if (o->name[n] == '\0')
			return o;
		if (found && (found->val != o->val || found->has_arg != o->has_arg))
			return NULL;
		found = o;
	}
	return found;
}

/* The long name of the option whose value is c, if it has one. */
static const char *long_name(const struct option *longopts, int c)
{
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == c)
			return o->name;
	return NULL;
}

/* The usage error for an option getopt_long refused ('?' or, for a
 * missing value, ':'). argv[optind - 1] is the element it just read when
 * that was a long option (glibc permutes operands only on the next call). */
static void option_error(int c, int argc, char **argv, const struct option *longopts)
{
	const char *el = optind > 1 && optind - 1 < argc ? argv[optind - 1] : "";
	bool dashes = strncmp(el, "--", 2) == 0 && el[2];
	const char *name = dashes ? el + 2 : "";
	size_t n = strcspn(name, "=");
	const struct option *lo = dashes ? find_long(longopts, name, n) : NULL;
	bool is_long = dashes && (optopt == 0 || optopt >= 0x100 || (lo && lo->val == optopt));
	if (!is_long) {
		const char *hint = habit_hint(optopt);
		if (c == ':')
			usage_error("option '-%c' needs a value", optopt);
		else if (optopt >= '0' && optopt <= '9')
			usage_error("invalid argument '-%c...': negative numbers are not valid "
				    "here",
				    optopt);
		else if (hint)
			usage_error("unknown option '-%c' (%s)", optopt, hint);
		else if (optopt > ' ' && optopt < 0x7f)
			usage_error("unknown option '-%c'", optopt);
		else
			usage_error("unknown option");
		return;
	}
	if (c == ':') {
		usage_error("option '--%s' needs a value", lo ? lo->name : name);
		return;
	}
	if (lo && lo->has_arg == no_argument && name[n] == '=') {
		usage_error("option '--%s' takes no value", lo->name);
		return;
	}
	const char *names[64];
	size_t nn = 0, nprefix = 0;
	char typed[64], list[256] = "";
	snprintf(typed, sizeof typed, "%.*s", (int)(n < 63 ? n : 63), name);
	for (const struct option *o = longopts; o->name && nn < 64; o++) {
		names[nn++] = o->name;
		if (n && strncmp(o->name, name, n) == 0)
			nprefix++;
	}
	if (nprefix > 1) {
		/* glibc refuses a beginning that several options share. */
		for (const struct option *o = longopts; o->name; o++) {
			if (strncmp(o->name, name, n) != 0)
				continue;
			size_t used = strlen(list);
			snprintf(list + used, sizeof list - used, "%s--%s", used ? ", " : "",
				 o->name);
		}
		usage_error("ambiguous option '--%s' (%s)", typed, list);
		return;
	}
	if (suggest_names(typed, names, nn, "--", list, sizeof list))
		usage_error("unknown option '--%s'; did you mean %s?", typed, list);
	else
		usage_error("unknown option '--%s'", typed);
}

/* Options whose value is a text that may be empty (a body, curl's
 * -d '' and -A ''). */
static bool may_be_empty(const char *lname)
{
	static const char *const names[] = {"respond",	"body",	       "data", "data-ascii",
					    "data-raw", "data-binary", "json", "user-agent"};
	for (size_t i = 0; lname && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(lname, names[i]) == 0)
			return true;
	return false;
}

int cmd_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	char spec[128];
	/* Options may follow operands (`connect host port -w 3`), as with
	 * GNU getopt; a command whose shortopts start with '+' stops at the
	 * first operand instead. ':' reports missing arguments. */
	bool posix = shortopts[0] == '+';
	snprintf(spec, sizeof spec, "%s:%s", posix ? "+" : "", shortopts + posix);
	opterr = 0;
	for (;;) {
		int li = -1;
		int c = getopt_long(argc, argv, spec, longopts, &li);
		if (c == -1)
			return -1;
		if (c == '?' || c == ':') {
			option_error(c, argc, argv, longopts);
			return '?';
		}
		/* An empty value (`-o ''`, `--stats=`) is a slip, never "the
		 * default": only a text that may be empty is let through. */
		const char *lname = li >= 0 ? longopts[li].name : long_name(longopts, c);
		if (optarg && !*optarg && !may_be_empty(lname)) {
			if (li >= 0 || c >= 0x100 || !strchr(shortopts, c))
				usage_error("option '--%s' needs a value, not an empty one",
					    lname ? lname : "?");
			else
				usage_error("option '-%c' needs a value, not an empty one", c);
			return '?';
		}
		/* A letter the command gives a value (connect's -q SECS) is the
		 * command's, not the global flag of the same letter. */
		const char *own = c > 0 && c < 0x100 ? strchr(shortopts, c) : NULL;
		if (own && own[1] == ':')
			return c;
		if (c == OPT_VERSION)
			exit(version_print(version_json_wanted(argc, argv)));
		int r = common_opt(c, optarg);
		if (r < 0)
			return '?';
		if (r == 0)
			return c;
	}
}

int cmd_subcommands(int argc, char **argv, const struct subcmd *subs, const char *what,
		    const char *help)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	/* Global options up to the subcommand's name, which ends them. */
	int c;
	while ((c = cmd_getopt(argc, argv, "+" COMMON_SHORTOPTS, longopts)) != -1) {
		if (c == 'h')
			return print_help(help);
		return EXIT_USAGE;
	}
	if (optind >= argc)
		return usage_error("missing subcommand: %s", what);
	const char *sub = argv[optind];
	/* `http help get` is `http get --help`; `http help` the overview. */
	bool want_help = strcmp(sub, "help") == 0;
	if (want_help && optind + 1 >= argc)
		return print_help(help);
	if (want_help)
		sub = argv[++optind];
	for (const struct subcmd *s = subs; s->name; s++) {
		if (strcmp(s->name, sub) != 0)
			continue;
		static char name[64];
		snprintf(name, sizeof name, "%s %s", g_cmdname, s->name);
		g_cmdname = name;
		int at = optind;
		/* 0, not 1: glibc then forgets the stop-at-operand mode. */
		optind = 0;
		static char help_flag[] = "--help";
		char *hargv[] = {argv[at], help_flag, NULL};
		return want_help ? s->fn(2, hargv) : s->fn(argc - at, argv + at);
	}
	const char *names[16];
	size_t n = 0;
	for (const struct subcmd *s = subs; s->name && n < 16; s++)
		names[n++] = s->name;
	return usage_unknown("subcommand", sub, names, n, what);
}

int usage_unknown(const char *what, const char *word, const char *const *names, size_t n,
		  const char *otherwise)
{
	char near[128] = "";
	if (suggest_names(word, names, n, "", near, sizeof near))
		return usage_error("unknown %s '%s'; did you mean %s?", what, word, near);
	if (otherwise)
		return usage_error("unknown %s '%s' (%s)", what, word, otherwise);
	return usage_error("unknown %s '%s'", what, word);
}

const char *opt_host(const char *opt, char *arg)
{
	size_t n = strlen(arg);
	if (arg[0] == '[' && n > 2 && arg[n - 1] == ']' && ipv6_literal(arg + 1, n - 2)) {
		arg[n - 1] = '\0';
		return arg + 1;
	}
	if (strchr(arg, ':') && !ipv6_literal(arg, n)) {
		usage_error("invalid %s '%s': a host name has no ':' (IPv6: [ADDR] or ADDR)", opt,
			    arg);
		return NULL;
	}
	return arg;
}

bool opt_unix_path(const char *path)
{
	struct sock_addr a;
	if (sock_unix_addr(path, &a))
		return true;
	usage_error("invalid -U '%.40s%s': a socket path (or @NAME) of at most %zu bytes", path,
		    strlen(path) > 40 ? "..." : "", sizeof((struct sockaddr_un *)0)->sun_path - 1);
	return false;
}

int endpoint_operands(int nargs, char **args, int flags, int socktype, const char **host,
		      const char **port)
{
	char err[SOCK_ERRLEN + 128];
	int used = endpoint_split(nargs, args, flags, host, port, err, sizeof err);
	uint16_t num;
	if (used < 0)
		return usage_error("%s", err), -1;
	if ((flags & ENDPOINT_EXACT) && nargs > used)
		return usage_error("unexpected argument '%s'", args[used]), -1;
	/* -4 with an IPv6 address (or -6 with IPv4) can only fail later, with
	 * a resolver message that does not say why. */
	struct in6_addr a6;
	if (*host && g_opts.family == AF_INET && ipv6_literal(*host, strlen(*host)))
		return usage_error("-4 and the IPv6 address '%s' exclude each other", *host), -1;
	if (*host && g_opts.family == AF_INET6 && inet_pton(AF_INET, *host, &a6) == 1)
		return usage_error("-6 and the IPv4 address '%s' exclude each other", *host), -1;
	if (socktype &&
	    !sock_parse_port(*port, socktype, flags & ENDPOINT_LISTEN, &num, err, sizeof err))
		return usage_error("%s", err), -1;
	return used;
}

const char *mux_resolved(void)
{
	const char *m = mux_choice();
	return !m || strcmp(m, "auto") == 0 ? mux_backends()[0] : m;
}

int mux_check(void)
{
	const char *m = mux_choice();
	const char *const *names = mux_backends();
	if (m && strcmp(m, "help") == 0) {
		printf("auto\n");
		for (size_t i = 0; names[i]; i++)
			printf("%s\n", names[i]);
		exit(EXIT_OK);
	}
	if (!m || strcmp(m, "auto") == 0)
		return 0;
	for (size_t i = 0; names[i]; i++)
		if (strcmp(names[i], m) == 0)
			return 0;
	char list[64] = "auto";
	for (size_t i = 0; names[i]; i++) {
		strncat(list, ", ", sizeof list - strlen(list) - 1);
		strncat(list, names[i], sizeof list - strlen(list) - 1);
	}
	usage_error("unknown mux backend '%s' (available: %s)", m, list);
	return -1;
}

struct loop *cmd_loop(int maxfds, int *status)
{
	if (mux_check() < 0) {
		*status = EXIT_USAGE;
		return NULL;
	}
	char err[256];
	struct loop *l = loop_new(mux_choice(), maxfds, err, sizeof err);
	if (!l) {
		errmsg("event loop: %s", err);
		*status = EXIT_FAIL;
	}
	return l;
}

void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}
