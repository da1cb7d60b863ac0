/* sockctl wait: options, the per-attempt (-v) and not-ready lines, the
 * --json report, the command run once everything is ready, and the exit
 * status, around the engine in src/wait/ that probes every target at
 * once on one loop. */
#include "config.h"

#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/sbuf.h"
#include "core/text_escape.h"
#include "proc/children.h"
#include "proc/spawn.h"
#include "script/script.h"
#include "tool/cmd.h"
#include "tool/tlsopts.h"
#include "wait/wait.h"

static const char wait_help[] =
    "usage: sockctl wait [options] TARGET... [-- COMMAND [ARGS...]]\n"
    "\n"
    "Waits until every TARGET is ready, probing them all at once, then exits 0\n"
    "or runs COMMAND. Targets:\n"
    "  HOST:PORT, [V6ADDR]:PORT   a TCP connect succeeds (every address tried);\n"
    "                             also tcp://HOST:PORT\n"
    "  tls://HOST:PORT            a TLS handshake succeeds and verifies\n"
    "  unix:PATH, unix:@NAME      a Unix stream socket accepts a connection\n"
    "  http://URL, https://URL    the response status is below 400 (or --status)\n"
    "  udp:HOST:PORT              a reply to --send comes (matching --expect)\n"
    "\n"
    "Options:\n"
    "  -t, --timeout SECS         give up after SECS (default 30): exit 1 with one\n"
    "                             line per target that is not ready\n"
    "  -i, --interval SECS        pause after a failed attempt (default 0.25);\n"
    "                             each further one twice as long, up to\n"
    "      --max-interval SECS    the longest pause (default 2)\n"
    "      --attempt-timeout SECS one attempt at most (default 5)\n"
    "      --any                  ready when one target is\n"
    "      --status LIST          HTTP statuses that mean ready: 200,204,300-399\n"
    "                             (default: any below 400)\n"
    "      --send TEXT            udp: the datagram to send (escapes as printf's:\n"
    "                             \\n \\r \\t \\xHH \\0)\n"
    "      --expect REGEX         udp: the reply must match (POSIX extended regex;\n"
    "                             ^ and $ match at each line)\n"
    "      --json                 print the outcome as one JSON object on stdout\n"
    "      --server IP[:PORT]     look names up from this DNS server (repeatable:\n"
    "                             the next is tried when one does not answer),\n"
    "                             not the system's resolver\n"
    "  -q                         no lines for the targets not ready (the exit\n"
    "                             status says it)\n"
    "  -v                         one line per attempt: target, attempt, result,\n"
    "                             time (-vv: the connections' details too)\n"
    "  -4, -6, -n, --mux=NAME     global options\n"
    "\n"
    "https:// and tls:// targets (verified against the system store and the\n"
    "target's host unless told otherwise):\n"
    "      --cacert FILE|DIR      verify against these CA certificates instead\n"
    "  -k, --insecure             do not verify the server's certificate\n"
    "      --cert FILE, --key FILE  client certificate (PEM) and its key\n"
    "      --sni NAME, --no-sni   send NAME as SNI (and verify for it), or none\n"
    "      --pin sha256//BASE64   the server's public key must match\n"
    "      --alpn LIST            tls://: ALPN protocols to offer\n"
    "      --tls-min V, --tls-max V  protocol versions: 1.2 or 1.3\n"
    "      --ciphers LIST, --ciphersuites LIST  TLS 1.2 ciphers, TLS 1.3 suites\n"
    "      --handshake-timeout SECS  a handshake at most (default 10)\n"
    "\n"
    "Exit status: 0 ready (with COMMAND: its status, 128+N when killed by\n"
    "signal N, 126 or 127 when it cannot be run), 1 not ready in time,\n"
    "2 usage error, 58 --cert/--key unusable, 77 --cacert cannot be loaded.\n";

struct wait_ui {
	struct loop *l;
	const struct wait_target *targets;
	size_t n;
	bool json;
	pid_t child;
	int child_status; /* as from waitpid */
	bool child_done;
};

static void on_attempt(struct wait_run *w, const struct wait_attempt *a, void *arg)
{
	(void)w;
	const struct wait_ui *u = arg;
	vmsg("%s: attempt %u: %s%s (%.3f s, at %.3f s)", u->targets[a->target].text, a->n,
	     a->ready ? "ready, " : "", a->text, (double)a->elapsed_us / 1e6,
	     (double)a->since_us / 1e6);
}

static void on_done(struct wait_run *w, void *arg)
{
	(void)w;
	struct wait_ui *u = arg;
	loop_stop(u->l);
}

static void print_json(const struct wait_run *w, const struct wait_ui *u)
{
	struct sbuf b;
	sb_init(&b);
	double total = (double)wait_elapsed_us(w) / 1e6;
	sb_printf(&b, "{\"ready\":%s,\"seconds\":%.6f,\"targets\":[", wait_ok(w) ? "true" : "false",
		  total);
	for (size_t i = 0; i < u->n; i++) {
		const struct wait_status *st = wait_status_of(w, i);
		sb_puts(&b, i ? ",{\"target\":" : "{\"target\":");
		json_str(&b, u->targets[i].text);
		sb_printf(&b, ",\"kind\":\"%s\",\"ready\":%s,\"attempts\":%u,\"seconds\":%.6f",
			  wait_kind_name(u->targets[i].kind), st->ready ? "true" : "false",
			  st->attempts, st->ready ? (double)st->ready_us / 1e6 : total);
		sb_puts(&b, ",\"last_error\":");
		if (st->last_error[0])
			json_str(&b, st->last_error);
		else
			sb_puts(&b, "null");
		sb_putc(&b, '}');
	}
	sb_puts(&b, "]}\n");
	if (b.oom)
		errmsg("out of memory for the JSON report");
	else
		fputs(sb_str(&b), stdout);
	fflush(stdout);
	sb_free(&b);
}

/* ---- the command, once ready ---- */

static void on_child(pid_t pid, int status, void *arg)
{
	(void)pid;
	struct wait_ui *u = arg;
	u->child_status = status;
	u->child_done = true;
}

/* A TERM or HUP meant for us goes to the command, and we wait for it to
 * end. INT and QUIT from a terminal reach the command as they reach us
 * (one process group): passing them on would deliver them twice. */
static void on_signal(struct loop *l, int signo, void *arg)
{
	(void)l;
	struct wait_ui *u = arg;
	if (u->child > 0 && !u->child_done)
		kill(u->child, signo);
}

static void on_quiet_signal(struct loop *l, int signo, void *arg)
{
	(void)l;
	(void)signo;
	(void)arg;
}

static int run_command(struct wait_ui *u, char **argv)
{
	/* Handlers, not SIG_IGN, for INT and QUIT: an ignored signal would
	 * stay ignored in the command. Before the fork: none is missed. */
	struct children *cs = children_new(u->l);
	if (!cs || loop_signal(u->l, SIGTERM, on_signal, u) < 0 ||
	    loop_signal(u->l, SIGHUP, on_signal, u) < 0 ||
	    loop_signal(u->l, SIGINT, on_quiet_signal, u) < 0 ||
	    loop_signal(u->l, SIGQUIT, on_quiet_signal, u) < 0) {
		errmsg("%s: %s", argv[0], strerror(errno));
		children_free(cs);
		return EXIT_FAIL;
	}
	char err[SOCK_ERRLEN + 64];
	struct spawn_io io = {.in = STDIN_FILENO, .out = STDOUT_FILENO};
	pid_t pid = spawn_child_io(&io, argv, NULL, NULL, err, sizeof err);
	if (pid < 0) {
		errmsg("%s", err);
		children_free(cs);
		/* As a shell says it: 127 not found, 126 found but not run. */
		return strstr(err, strerror(ENOENT)) ? 127 : 126;
	}
	u->child = pid;
	if (children_add(cs, pid, on_child, u) < 0) {
		errmsg("%s: %s", argv[0], strerror(errno));
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		children_free(cs);
		return EXIT_FAIL;
	}
	while (!u->child_done)
		if (loop_run(u->l) < 0) {
			errmsg("event loop: %s", strerror(errno));
			break;
		}
	children_free(cs);
	if (!u->child_done)
		return EXIT_FAIL;
	int st = u->child_status;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- options ---- */

/* "200,204,300-399" into ok[100..599]. */
static bool parse_status_list(const char *s, bool *ok)
{
	char *copy = strdup(s), *save = NULL;
	bool good = copy && *s;
	for (char *tok = good ? strtok_r(copy, ",", &save) : NULL; tok && good;
	     tok = strtok_r(NULL, ",", &save)) {
		long lo, hi;
		char *dash = strchr(tok, '-');
		if (dash)
			*dash = '\0';
		good = parse_long(tok, 100, 599, &lo) &&
		       (!dash ? (hi = lo, true) : parse_long(dash + 1, lo, 599, &hi));
		for (long v = lo; good && v <= hi; v++)
			ok[v] = true;
	}
	/* strtok_r skips empty fields: ",200" and "200,,204" are refused. */
	good = good && s[0] != ',' && s[strlen(s) - 1] != ',' && !strstr(s, ",,");
	free(copy);
	return good;
}

static bool parse_secs_pos(const char *s, int *ms)
{
	return parse_seconds(s, ms) && *ms > 0;
}

int cmd_wait(int argc, char **argv)
{
	enum {
		OPT_MAXINT = OPT_BASE,
		OPT_ATTEMPT,
		OPT_ANY,
		OPT_STATUS,
		OPT_SEND,
		OPT_EXPECT,
		OPT_JSON,
		OPT_SERVER,
	};
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"timeout", required_argument, NULL, 't'},
	    {"interval", required_argument, NULL, 'i'},
	    {"max-interval", required_argument, NULL, OPT_MAXINT},
	    {"attempt-timeout", required_argument, NULL, OPT_ATTEMPT},
	    {"any", no_argument, NULL, OPT_ANY},
	    {"status", required_argument, NULL, OPT_STATUS},
	    {"send", required_argument, NULL, OPT_SEND},
	    {"expect", required_argument, NULL, OPT_EXPECT},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"server", required_argument, NULL, OPT_SERVER},
	    TLSOPT_CLIENT_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	/* The first "--" ends the targets: what follows is the command and
	 * its own options, which getopt must not see (nor reorder). */
	int cut = argc;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			cut = i;
			break;
		}
	char **command = cut < argc ? argv + cut + 1 : NULL;
	if (command && !command[0])
		return usage_error("no COMMAND after '--'");

	/* Static: what the options allocate (pins) stays reachable however
	 * the command returns; it runs once per process. */
	static struct tlsopts tls;
	tls = (struct tlsopts){0};
	static bool ready_status[600];
	static regex_t expect_re;
	bool have_status = false, have_expect = false;
	const char *send_arg = NULL, *expect_arg = NULL;
	struct wait_cfg cfg = {
	    .timeout_ms = 30000,
	    .interval_ms = 250,
	    .max_interval_ms = 2000,
	    .attempt_ms = 5000,
	};
	static struct rdns_opts dns;
	dns = (struct rdns_opts){.tries = 1};
	struct wait_ui ui = {0};
	struct wait_target *targets = NULL;
	char *send_text = NULL;
	struct wait_run *w = NULL;
	int status = EXIT_USAGE;
	int c;
	while ((c = cmd_getopt(cut, argv, COMMON_SHORTOPTS "t:i:k", longopts)) != -1) {
		if (c == 'k')
			c = TOPT_INSECURE;
		switch (c) {
		case 'h':
			return print_help(wait_help);
		case 't':
			if (!parse_secs_pos(optarg, &cfg.timeout_ms))
				return usage_error("bad --timeout '%s' (seconds, above 0)", optarg);
			break;
		case 'i':
			if (!parse_secs_pos(optarg, &cfg.interval_ms))
				return usage_error("bad --interval '%s' (seconds, above 0)",
						   optarg);
			break;
		case OPT_MAXINT:
			if (!parse_secs_pos(optarg, &cfg.max_interval_ms))
				return usage_error("bad --max-interval '%s' (seconds, above 0)",
						   optarg);
			break;
		case OPT_ATTEMPT:
			if (!parse_secs_pos(optarg, &cfg.attempt_ms))
				return usage_error("bad --attempt-timeout '%s' (seconds, above 0)",
						   optarg);
			break;
		case OPT_ANY:
			cfg.any = true;
			break;
		case OPT_STATUS:
			if (!parse_status_list(optarg, ready_status))
				return usage_error("bad --status '%s' (HTTP statuses 100 to 599, "
						   "comma separated, or ranges: 200,204,300-399)",
						   optarg);
			have_status = true;
			break;
		case OPT_SEND:
			send_arg = optarg;
			break;
		case OPT_EXPECT:
			expect_arg = optarg;
			break;
		case OPT_SERVER: {
			char e[256];
			if (dns.nservers == RDNS_MAX_SERVERS)
				return usage_error("at most %d servers", RDNS_MAX_SERVERS);
			if (!rdns_parse_server(optarg, 53, &dns.server[dns.nservers], e, sizeof e))
				return usage_error("--server: %s", e);
			dns.nservers++;
			break;
		}
		case OPT_JSON:
			ui.json = true;
			break;
		default:
			if (c == TOPT_TLS)
				return usage_error(
				    "--tls: give tls:// or https:// targets for TLS");
			if (tlsopt_handle(&tls, c, optarg) == 1)
				break;
			return EXIT_USAGE;
		}
	}
	/* The library's notes (connections, handshakes) need -vv: -v is the
	 * attempts. */
	log_set_level(g_opts.verbose > 1 ? g_opts.verbose - 1 : LOG_LVL_ERROR);
	if (optind >= cut)
		return usage_error("no TARGET given");
	if (cfg.max_interval_ms < cfg.interval_ms)
		cfg.max_interval_ms = cfg.interval_ms;

	size_t n = (size_t)(cut - optind);
	targets = calloc(n, sizeof *targets);
	if (!targets) {
		errmsg("out of memory");
		return EXIT_FAIL;
	}
	bool udp = false, tlsish = false;
	for (size_t i = 0; i < n; i++) {
		char err[256], perr[SOCK_ERRLEN];
		struct wait_target *t = &targets[i];
		if (!wait_target_parse(argv[optind + i], t, err, sizeof err)) {
			usage_error("bad target '%s': %s", argv[optind + i], err);
			goto out;
		}
		uint16_t port;
		int st = t->kind == WAIT_UDP ? SOCK_DGRAM : SOCK_STREAM;
		if (t->kind != WAIT_UNIX && t->kind != WAIT_HTTP &&
		    !sock_parse_port(t->port, st, false, &port, perr, sizeof perr)) {
			usage_error("bad target '%s': %s", t->text, perr);
			goto out;
		}
		udp |= t->kind == WAIT_UDP;
		tlsish |= t->kind == WAIT_TLS || (t->kind == WAIT_HTTP && t->https);
	}
	if ((send_arg || expect_arg) && !udp) {
		usage_error("%s is for udp: targets", send_arg ? "--send" : "--expect");
		goto out;
	}
	if (udp && !send_arg) {
		usage_error("udp: targets need --send TEXT (the datagram that asks for a reply)");
		goto out;
	}
	if (send_arg) {
		char err[256];
		long len = text_unescape_dup(send_arg, &send_text, err, sizeof err);
		if (len < 0) {
			usage_error("bad --send: %s", err);
			goto out;
		}
		cfg.send = (const unsigned char *)send_text;
		cfg.sendlen = (size_t)len;
	}
	if (expect_arg) {
		/* As connect --expect takes it: \r \n \t \xHH decoded, ^ and $
		 * at each line (so '^PONG$' matches a reply ending in a
		 * newline). */
		char why[256];
		if (script_regex(expect_arg, strlen(expect_arg), &expect_re, REG_NOSUB, why,
				 sizeof why)) {
			usage_error("bad --expect '%s': %s", expect_arg, why);
			goto out_send;
		}
		have_expect = true;
		cfg.expect = &expect_re;
	}
	if (have_status)
		cfg.ready_status = ready_status;
	/* TLS settings are for https:// and tls:// targets; without one
	 * they are a mistake, said as other commands say it. */
	tls.on = tlsish && tls_available();
	if (tlsish && !tls_available()) {
		usage_error(
		    "this build has no TLS: https:// and tls:// targets cannot be waited for");
		goto out_re;
	}
	if (!tls.on && tls.first) {
		usage_error("%s is for https:// and tls:// targets", tls.first);
		goto out_re;
	}
	if (tlsopt_check(&tls, TLS_CLIENT))
		goto out_re;
	if (dns.nservers && g_opts.numeric) {
		usage_error("--server asks for names, and -n looks none up: give one of them");
		goto out_re;
	}
	cfg.targets = targets;
	cfg.ntargets = n;
	cfg.family = g_opts.family;
	cfg.numeric = g_opts.numeric;
	/* One try per server and attempt (the attempts are the retries),
	 * each server its share of the attempt, so the next is asked
	 * within it. */
	dns.timeout_ms = dns.nservers ? cfg.attempt_ms / dns.nservers : cfg.attempt_ms;
	if (dns.timeout_ms < 100)
		dns.timeout_ms = 100;
	cfg.dns = dns.nservers ? &dns : NULL;
	cfg.tls = tls.on ? &tls.cfg : NULL;
	cfg.handshake_ms = tls.handshake_ms;
	cfg.on_attempt = on_attempt;
	cfg.on_done = on_done;
	cfg.arg = &ui;
	ui.targets = targets;
	ui.n = n;

	/* One socket per target under way: a thousand targets need more
	 * than the default 1024 descriptors. */
	raise_fd_limit();
	ui.l = cmd_loop((int)(2 * n + 16), &status);
	if (!ui.l)
		goto out_re;
	/* Made now for tls:// targets, and for https:// ones (whose http
	 * clients make their own) to say at once, with the exit status, that
	 * --cacert or --cert cannot be loaded, not as a target that never
	 * gets ready. */
	if (tls.on) {
		cfg.tls_ctx = tlsopt_ctx(&tls, &status);
		if (!cfg.tls_ctx)
			goto out_loop;
	}
	char err[256];
	w = wait_start(ui.l, &cfg, err, sizeof err);
	if (!w) {
		errmsg("%s", err);
		status = EXIT_FAIL;
		goto out_ctx;
	}
	status = EXIT_OK;
	if (loop_run(ui.l) < 0) {
		errmsg("event loop: %s", strerror(errno));
		status = EXIT_FAIL;
	}
	if (ui.json)
		print_json(w, &ui);
	if (!wait_ok(w)) {
		status = EXIT_FAIL;
		/* The limit given, not the run's elapsed time (a little more):
		 * the line says which limit ran out; --json has the times. */
		double total = cfg.timeout_ms / 1e3;
		for (size_t i = 0; i < n && !g_opts.quiet; i++) {
			const struct wait_status *st = wait_status_of(w, i);
			if (st->ready)
				continue;
			errmsg("%s: not ready after %g s (%u attempt%s): %s", targets[i].text,
			       total, st->attempts, st->attempts == 1 ? "" : "s",
			       st->last_error[0] ? st->last_error : "no attempt ended");
		}
	}
	wait_free(w);
	if (status == EXIT_OK && command)
		status = run_command(&ui, command);
out_ctx:
	tls_ctx_free(cfg.tls_ctx);
out_loop:
	loop_free(ui.l);
out_re:
	if (have_expect)
		regfree(&expect_re);
out_send:
	free(send_text);
out:
	free(targets);
	tlsopt_free(&tls);
	return status;
}
