#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "cmd.h"
#include "loop.h"

struct common_opts g_opts = {.family = AF_UNSPEC};
const char *g_cmdname;
void (*g_before_msg)(void);

__attribute__((format(printf, 2, 0))) static void vmsgf(const char *prefix, const char *fmt,
							va_list ap)
{
	char line[1024];
	vsnprintf(line, sizeof line, fmt, ap);
	if (g_before_msg)
		g_before_msg();
	fprintf(stderr, "%s: %s\n", prefix, line);
}

void errmsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsgf("sockctl", fmt, ap);
	va_end(ap);
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
	switch (c) {
	case '4':
		g_opts.family = AF_INET;
		return 1;
	case '6':
		g_opts.family = AF_INET6;
		return 1;
	case 'v':
		g_opts.verbose++;
		return 1;
	case 'q':
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
		int prev = optind ? optind : 1;
		int c = getopt_long(argc, argv, spec, longopts, NULL);
		if (c == -1)
			return -1;
		if (c == '?') {
			const char *bad = prev < argc ? argv[prev] : "?";
			if (optopt >= '0' && optopt <= '9')
				usage_error("invalid argument '-%c...': negative numbers are not "
					    "valid here",
					    optopt);
			else if (optopt && (prev >= argc || strncmp(bad, "--", 2) != 0))
				usage_error("unknown option '-%c'", optopt);
			else
				usage_error("unknown option '%s'", bad);
			return '?';
		}
		if (c == ':') {
			const char *bad = prev < argc ? argv[prev] : "?";
			if (optopt && optopt < 0x100 && strncmp(bad, "--", 2) != 0)
				usage_error("option '-%c' needs a value", optopt);
			else
				usage_error("option '%s' needs a value", bad);
			return '?';
		}
		/* A letter the command gives a value (connect's -q SECS) is the
		 * command's, not the global flag of the same letter. */
		const char *own = c > 0 && c < 0x100 ? strchr(shortopts, c) : NULL;
		if (own && own[1] == ':')
			return c;
		if (common_opt(c, optarg) == 0)
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
	if (strcmp(sub, "help") == 0)
		return print_help(help);
	for (const struct subcmd *s = subs; s->name; s++) {
		if (strcmp(s->name, sub) != 0)
			continue;
		static char name[64];
		snprintf(name, sizeof name, "%s %s", g_cmdname, s->name);
		g_cmdname = name;
		int at = optind;
		/* 0, not 1: glibc then forgets the stop-at-operand mode. */
		optind = 0;
		return s->fn(argc - at, argv + at);
	}
	return usage_error("unknown subcommand '%s' (%s)", sub, what);
}

bool parse_long(const char *s, long min, long max, long *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return false;
	/* strtol accepts leading space and '+'; a user typing those meant
	 * something else. */
	if (s[0] == ' ' || s[0] == '+' || s[0] == '\t')
		return false;
	*out = v;
	return true;
}

bool parse_seconds(const char *s, int *ms_out)
{
	if (!s || !*s || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(v) || v < 0 || v > 86400.0 * 365)
		return false;
	*ms_out = (int)(v * 1000.0 + 0.5);
	return true;
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
