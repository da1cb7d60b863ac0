/* sockctl serve: listen, then relay stdin/stdout or run a built-in
 * handler per connection. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/outq.h"
#include "core/crlf.h"
#include "core/text_escape.h"
#include "net/acl.h"
#include "net/activation.h"
#include "proc/spawn.h"
#include "proc/workers.h"
#include "serve/serve.h"
#include "tool/cmd.h"
#include "tool/netopts.h"
#include "tool/tlsopts.h"
#include "tool/dialogue.h"

static const char help[] =
    "usage: sockctl serve [options] [ADDRESS] PORT   (or ADDRESS:PORT, [IPV6]:PORT)\n"
    "       sockctl serve [options] -U PATH\n"
    "\n"
    "Listen on ADDRESS (default 127.0.0.1; \"*\" or :: for all, IPv4 and IPv6 on one\n"
    "socket; 0.0.0.0 for all IPv4; -6 :: for IPv6 only) and PORT (0 picks a free\n"
    "one), print the readiness line on stderr:\n"
    "  sockctl: listening on 127.0.0.1:40123 (tcp, mux=epoll)\n"
    "then serve. By default one client's data goes to stdout and stdin goes to\n"
    "the client, like nc -l; the exit status is that client's.\n"
    "\n"
    "Handlers:\n"
    "      --echo           send back what each client sends\n"
    "      --upper          the same, ASCII letters upper-cased\n"
    "      --discard        read and drop\n"
    "      --respond TEXT   send TEXT, then close; TEXT takes printf's backslash\n"
    "                       escapes (\\r \\n \\t \\\\ \\xHH \\0...), @FILE is sent as it\n"
    "                       is; with -C, line endings go out as CRLF\n"
    "  -e, --exec 'PROG ARGS'  run PROG per connection with the socket as its\n"
    "                       stdin and stdout (split at spaces, no shell); the\n"
    "                       SOCKCTL_REMOTE_ADDR/_PORT, SOCKCTL_LOCAL_ADDR/_PORT and\n"
    "                       SOCKCTL_PROTO variables describe the connection;\n"
    "                       with -u, a program per datagram: the datagram on its\n"
    "                       stdin, each read of its stdout one datagram back\n"
    "  -c, --sh-exec 'CMD'  the same through /bin/sh -c\n"
    "      --broker         relay between the clients (ncat --broker): what one\n"
    "                       sends goes to all the others, stdin to all of them;\n"
    "                       implies -k; the clients go at the pace of the slowest\n"
    "      --stall-timeout SECS  --broker: drop a client that took nothing for SECS\n"
    "                       while the others waited for it (default 5)\n"
    "      --script FILE    play FILE's dialogue with each client (- for stdin):\n"
    "                       send, expect, ..., then its 'on REGEX send TEXT' rules\n"
    "                       answer until the client closes; see sockctl-script(5)\n"
    "      --expect-timeout SECS  --script: each expect's deadline (default 5)\n"
    "\n"
    "Concurrency and access:\n"
    "      --model MODEL    loop (default: one event loop), fork (a process per\n"
    "                       connection) or thread (a thread per connection);\n"
    "                       fork and thread run the built-in handlers\n"
    "      --workers N      N processes, each with its own loop and listening\n"
    "                       socket on the same port (SO_REUSEPORT); needs -k\n"
    "  -m, --max-conns N    at most N connections at once; one more is accepted\n"
    "                       and closed at once (the client sees EOF); with -u\n"
    "                       --exec, programs at once (default 64; datagrams wait)\n"
    "      --allow SPEC, --deny SPEC  addresses or CIDR blocks (IPv4, IPv6) to\n"
    "                       admit or refuse; deny wins; with any --allow, only\n"
    "                       those are admitted (-u: others' datagrams dropped)\n"
    "      --allow-file FILE, --deny-file FILE  the same, one per line (# comments)\n"
    "      --reuseport      SO_REUSEPORT on the listener: other servers may share\n"
    "                       the port\n"
    "      --fd N           serve the already-open listening socket N instead of\n"
    "                       ADDRESS PORT (LISTEN_FDS/LISTEN_PID socket activation\n"
    "                       is used the same way when present)\n"
    "\n"
    "Options:\n"
    "  -k, --keep-open      serve many clients at once, until stopped; in relay\n"
    "                       mode stdin goes to every client and every client's\n"
    "                       data to stdout\n"
    "  -u, --udp            UDP: every sender is answered (echo/upper/respond per\n"
    "                       datagram); relay mode sends stdin to every sender seen\n"
    "  -U, --unix PATH      Unix stream socket (with -u: datagram); @NAME is abstract\n"
    "  -i, --idle SECS      close a connection after SECS without data; with -u\n"
    "                       --exec, stop a program after SECS (default 10)\n"
    "  -q, --quit-after SECS  relay: stop SECS after stdin EOF\n"
    "      --no-shutdown    relay: do not shut down the write side on stdin EOF\n"
    "      --send-only      relay: only send stdin to the client\n"
    "      --recv-only      relay: only print what the client sends\n"
    "      --backlog N      listen backlog (default SOMAXCONN)\n"
    "      --no-zero-copy   always copy through a buffer (no splice/sendfile)\n"
    "  -4, -6, -n, -v, --mux=NAME   global options (see sockctl --help)\n"
    "\n" TLSOPT_SERVER_HELP "\n" NETOPT_HELP "\n"
    "SIGINT or SIGTERM stop the server cleanly (exit 0).\n"
    "Exit status: 0 done, 1 failure, 2 usage error; without -k, --exec gives the\n"
    "program's status; with --tls, 58 --cert/--key unusable, 77 --client-ca\n"
    "unusable; without -k, --script: 3 the client's expect found no match in time,\n"
    "4 the client closed before it did.\n";

enum {
	OPT_ECHO = OPT_BASE,
	OPT_UPPER,
	OPT_DISCARD,
	OPT_RESPOND,
	OPT_BACKLOG,
	OPT_MODEL,
	OPT_WORKERS,
	OPT_FD,
	OPT_BROKER,
	OPT_STALL_TIMEOUT,
};

static void get_totals(void *arg, uint64_t *sent, uint64_t *received)
{
	serve_totals(arg, sent, received);
}

static void print_ready(const struct sock_addr *bound, const char *proto, const char *mux,
			const char *note)
{
	char a[SOCK_ADDRSTRLEN];
	/* The readiness line: scripts and tests wait for it. In order with
	 * the queued diagnostics (errline), but not an error: --stats=json
	 * reports the last errmsg as the failure. */
	errline("sockctl: listening on %s (%s, mux=%s%s)\n",
		sock_addr_str((const struct sockaddr *)&bound->ss, bound->len, a, sizeof a), proto,
		mux, note);
}

static int set_handler(struct serve_cfg *cfg, enum serve_handler h, const char *name)
{
	if (cfg->handler != SERVE_RELAY && cfg->handler != h)
		return usage_error("choose one handler (%s conflicts with an earlier one)", name);
	cfg->handler = h;
	return 0;
}

/* A chunk holding n bytes from p (NULL: to be filled), or NULL after the
 * message. */
static struct outq_chunk *respond_chunk(const char *p, size_t n)
{
	struct outq_chunk *c = outq_chunk_new(n);
	if (!c) {
		errmsg("--respond: out of memory");
		return NULL;
	}
	if (p)
		memcpy(c->data, p, n);
	c->len = n;
	return c;
}

/* --respond TEXT (backslash escapes decoded) or @FILE (sent as it is):
 * 0 with *out set, or the exit status after the message. */
static int load_respond(const char *arg, struct outq_chunk **out)
{
	if (arg[0] != '@') {
		char err[128], *text;
		long n = text_unescape_dup(arg, &text, err, sizeof err);
		if (n < 0)
			return usage_error("--respond: %s", err);
		*out = respond_chunk(text, (size_t)n);
		free(text);
		return *out ? 0 : EXIT_FAIL;
	}
	int fd = open(arg + 1, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		errmsg("--respond %s: %s", arg + 1, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_FAIL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > 64 * 1024 * 1024) {
		errmsg("--respond %s: not a regular file of at most 64 MiB", arg + 1);
		close(fd);
		return EXIT_FAIL;
	}
	struct outq_chunk *c = respond_chunk(NULL, (size_t)st.st_size);
	size_t got = 0;
	while (c && got < (size_t)st.st_size) {
		/* not a stream: a regular file, read whole before serving */
		ssize_t n = read(fd, c->data + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!c)
		return EXIT_FAIL;
	if (got != (size_t)st.st_size) {
		errmsg("--respond %s: could not read the file", arg + 1);
		outq_chunk_unref(c);
		return EXIT_FAIL;
	}
	*out = c;
	return 0;
}

/* -C: the response goes out with CRLF line endings, in every model.
 * 0, or EXIT_FAIL after the message. */
static int respond_crlf(struct outq_chunk **r)
{
	struct outq_chunk *c = *r, *t = respond_chunk(NULL, 2 * c->len);
	if (!t)
		return EXIT_FAIL;
	memcpy(t->data, c->data, c->len);
	bool cr = false;
	t->len = crlf_expand(t->data, c->len, &cr);
	outq_chunk_unref(c);
	*r = t;
	return 0;
}

/* SIGINT, SIGTERM. */
static void on_stop_signal(struct loop *l, int signo, void *arg)
{
	(void)l;
	vmsg("%s: stopping", strsignal(signo));
	serve_stop(arg);
}

/* The report at exit: wanted once the command line is accepted. */
struct serve_report {
	bool want, ran, done;
	struct netopts *no;
	struct netopt_totals t;
};

/* The totals at exit (-v, --stats), also when listening failed: the JSON
 * then carries the reason. */
static void serve_report(struct serve_report *rep, int status)
{
	if (rep->done || !rep->want || (status == EXIT_USAGE && !rep->ran))
		return;
	rep->done = true;
	rep->t.started = rep->ran;
	char why[32];
	if (status != EXIT_OK) {
		/* Without -k, --exec passes on the program's status and
		 * prints nothing of its own. */
		snprintf(why, sizeof why, "exit status %d", status);
		rep->t.error = *errmsg_last() ? errmsg_last() : why;
	}
	netopt_report(rep->no, &rep->t);
}

/* What the command line says, beyond the engine's settings. Static in
 * serve_main: what the options allocate stays reachable however the
 * command returns (usage errors return early), and the command runs once
 * per process. */
struct serve_args {
	struct serve_cfg cfg;
	struct netopts no;
	struct acl acl;
	long workers;
	const char *fd_arg, *respond_arg;
	struct sock_endpoint ep;
	struct sock_listen_opts lo;
	struct tlsopts tls;
	struct dialogue dlg; /* --script */
};

/* --script's combinations: 0, or the exit status after the message. */
static int script_args(struct serve_args *a)
{
	struct serve_cfg *cfg = &a->cfg;
	if (a->dlg.expect_ms >= 0 && !a->dlg.on)
		return usage_error("--expect-timeout goes with --script");
	if (!a->dlg.on)
		return 0;
	if (a->ep.socktype == SOCK_DGRAM || cfg->model != MODEL_LOOP)
		return usage_error(
		    "--script plays a stream dialogue on the loop: no -u or --model");
	if (a->no.log_raw || a->no.log_hex)
		return usage_error("--script: no -o or -x");
	cfg->script = &a->dlg.sc;
	cfg->expect_ms = a->dlg.expect_ms > 0 ? a->dlg.expect_ms : 0;
	return 0;
}

/* Options and their combinations: 0 to serve, -1 after the help (exit
 * 0), or the exit status after the message. */
static int parse_args(int argc, char **argv, struct serve_args *a)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"echo", no_argument, NULL, OPT_ECHO},
	    {"upper", no_argument, NULL, OPT_UPPER},
	    {"discard", no_argument, NULL, OPT_DISCARD},
	    {"respond", required_argument, NULL, OPT_RESPOND},
	    {"keep-open", no_argument, NULL, 'k'},
	    {"udp", no_argument, NULL, 'u'},
	    {"unix", required_argument, NULL, 'U'},
	    {"backlog", required_argument, NULL, OPT_BACKLOG},
	    {"model", required_argument, NULL, OPT_MODEL},
	    {"workers", required_argument, NULL, OPT_WORKERS},
	    {"max-conns", required_argument, NULL, 'm'},
	    ACLOPT_LONGOPTS,
	    {"fd", required_argument, NULL, OPT_FD},
	    {"broker", no_argument, NULL, OPT_BROKER},
	    {"stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT},
	    NETOPT_LONGOPTS,
	    RELAYOPT_LONGOPTS,
	    TLSOPT_SERVER_LONGOPTS,
	    DIALOGUE_SERVER_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	struct serve_cfg *cfg = &a->cfg;
	struct netopts *no = &a->no;
	int c, r;
	long v;
	while ((c = cmd_getopt(argc, argv, "46vnhkuU:m:" RELAYOPT_SHORTOPTS NETOPT_SHORTOPTS,
			       longopts)) != -1) {
		int nr = netopt_handle(no, c, optarg);
		if (nr == 0)
			nr = aclopt_handle(&a->acl, c, optarg);
		if (nr == -2)
			return EXIT_FAIL;
		if (nr == 0)
			nr = relayopt_handle(&cfg->ro, c, optarg);
		if (nr == 0)
			nr = tlsopt_handle(&a->tls, c, optarg);
		if (nr == 0 && (nr = dialogue_opt(&a->dlg, c, optarg)) < 0)
			return dialogue_status();
		if (nr > 0 && c == DOPT_SCRIPT && (r = set_handler(cfg, SERVE_SCRIPT, "--script")))
			return r;
		if (nr < 0)
			return EXIT_USAGE;
		if (nr > 0)
			continue;
		switch (c) {
		case OPT_MODEL:
			if (!model_parse(optarg, &cfg->model))
				return usage_error(
				    "invalid --model '%s': give loop, fork or thread", optarg);
			break;
		case OPT_WORKERS:
			if (!parse_long(optarg, 1, 256, &a->workers))
				return usage_error("invalid --workers '%s': give 1-256", optarg);
			break;
		case 'm':
			if (!parse_long(optarg, 1, 1000000, &cfg->max_conns))
				return usage_error("invalid --max-conns '%s': give 1-1000000",
						   optarg);
			break;
		case OPT_FD:
			a->fd_arg = optarg;
			break;
		case 'h':
			print_help(help);
			return -1;
		case OPT_ECHO:
			if ((r = set_handler(cfg, SERVE_ECHO, "--echo")))
				return r;
			break;
		case OPT_UPPER:
			if ((r = set_handler(cfg, SERVE_UPPER, "--upper")))
				return r;
			break;
		case OPT_DISCARD:
			if ((r = set_handler(cfg, SERVE_DISCARD, "--discard")))
				return r;
			break;
		case OPT_RESPOND:
			if ((r = set_handler(cfg, SERVE_RESPOND, "--respond")))
				return r;
			if (strcmp(optarg, "@") == 0)
				return usage_error("--respond @FILE needs a file name");
			a->respond_arg = optarg;
			break;
		case OPT_BROKER:
			if ((r = set_handler(cfg, SERVE_BROKER, "--broker")))
				return r;
			cfg->keep_open = true;
			break;
		case OPT_STALL_TIMEOUT:
			if (!parse_seconds(optarg, &cfg->stall_ms) || cfg->stall_ms == 0)
				return usage_error("invalid --stall-timeout '%s': give seconds > 0",
						   optarg);
			break;
		case 'k':
			cfg->keep_open = true;
			break;
		case 'u':
			a->ep.socktype = SOCK_DGRAM;
			break;
		case 'U':
			if (!opt_unix_path(optarg))
				return EXIT_USAGE;
			a->ep.unix_path = optarg;
			break;
		case OPT_BACKLOG:
			if (!parse_long(optarg, 1, 65535, &v))
				return usage_error("invalid --backlog '%s': give 1-65535", optarg);
			a->lo.backlog = (int)v;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (relayopt_check(&cfg->ro))
		return EXIT_USAGE;
	if ((r = script_args(a)))
		return r;
	cfg->idle_ms = cfg->ro.idle_ms;
	bool exec = no->exec_argv || no->sh_exec;
	enum serve_handler h = cfg->handler;
	bool dgram = a->ep.socktype == SOCK_DGRAM;
	if (a->tls.on && dgram)
		return usage_error("--tls is for stream servers: DTLS (-u) is not offered");
	if (tlsopt_check(&a->tls, TLS_SERVER))
		return EXIT_USAGE;
	if (exec && h != SERVE_RELAY)
		return usage_error("--exec/--sh-exec replace the built-in handlers: give one");
	if (h == SERVE_BROKER && (dgram || cfg->model != MODEL_LOOP || a->workers > 1))
		return usage_error("--broker relays between the stream clients of one process: "
				   "not with -u, --model or --workers");
	if (h == SERVE_BROKER && (cfg->ro.send_only || cfg->ro.recv_only || cfg->ro.no_shutdown ||
				  cfg->ro.quit_after_eof_ms >= 0))
		return usage_error("--send-only, --recv-only, --no-shutdown and -q are for the "
				   "relay, not --broker");
	if (cfg->stall_ms > 0 && h != SERVE_BROKER)
		return usage_error("--stall-timeout goes with --broker");
	if (cfg->stall_ms < 0)
		cfg->stall_ms = 5000;
	if (cfg->model != MODEL_LOOP && h == SERVE_RELAY && !exec)
		return usage_error("--model=%s runs --echo, --upper, --discard or --respond",
				   model_name(cfg->model));
	if (dgram && (cfg->model != MODEL_LOOP || (cfg->max_conns && !exec)))
		return usage_error("--model is for stream servers; with -u, -m limits the --exec "
				   "programs");
	if (a->ep.unix_path && !acl_empty(&a->acl))
		return usage_error("--allow and --deny match IP addresses: not with -U");
	if (a->workers > 1 && !cfg->keep_open)
		return usage_error("--workers needs -k");
	if (a->workers > 1 && (h == SERVE_RELAY && !exec))
		return usage_error("--workers runs a handler or a program, not the stdin relay");
	if (a->workers > 1 && a->fd_arg)
		return usage_error("--workers makes its own sockets: no --fd");
	if (exec && (no->log_raw || no->log_hex || no->crlf))
		return usage_error("-o, -x and -C do not apply with --exec");
	if (cfg->model != MODEL_LOOP && (no->log_raw || no->log_hex || no->progress))
		return usage_error("-o, -x and --progress go with --model=loop");
	return 0;
}

/* The listening socket given (--fd, LISTEN_FDS) or the operands: 0,
 * or the exit status after the message. */
static int take_operands(int nargs, char **args, struct serve_args *a, struct activated *act)
{
	struct sock_endpoint *ep = &a->ep;
	char aerr[SOCK_ERRLEN];
	int nfds = activation_listen_fds(true, aerr, sizeof aerr);
	if (nfds < 0) {
		errmsg("socket activation: %s", aerr);
		return EXIT_FAIL;
	}
	if (a->fd_arg || nfds > 0) {
		if (nargs || ep->unix_path)
			return usage_error("with %s, give no ADDRESS, PORT or -U",
					   a->fd_arg ? "--fd" : "LISTEN_FDS");
		if (nfds > 1)
			errmsg("socket activation: %d sockets passed, serving the first", nfds);
		int r = a->fd_arg ? activation_fd(a->fd_arg, act, aerr, sizeof aerr)
				  : activation_check(3, act, aerr, sizeof aerr);
		if (r < 0) {
			if (a->fd_arg && strncmp(aerr, "bad --fd", 8) == 0)
				return usage_error("%s", aerr);
			errmsg("%s", aerr);
			return EXIT_FAIL;
		}
		ep->socktype = act->socktype;
	} else if (ep->unix_path) {
		if (nargs)
			return usage_error("with -U PATH, give no ADDRESS or PORT");
	} else {
		if (endpoint_operands(nargs, args, ENDPOINT_LISTEN | ENDPOINT_EXACT, ep->socktype,
				      &ep->host, &ep->port) < 0)
			return EXIT_USAGE;
	}
	ep->family = g_opts.family;
	ep->numeric = g_opts.numeric;
	return 0;
}

/* The readiness line, in the parent of --workers once all listen. */
struct serve_ready_line {
	const struct sock_addr *bound;
	const char *proto;
	const struct tlsopts *tls;
};

static void workers_ready_line(void *arg)
{
	const struct serve_ready_line *wr = arg;
	print_ready(wr->bound, wr->proto, mux_resolved(), tlsopt_ready_note(wr->tls));
}

/* --workers N: in the parent, which only says when the workers are
 * ready and waits for them, the exit status; -1 in a worker, whose *lfd
 * is its own socket on the same address. */
static int start_workers(struct serve_args *a, struct workers *w, int *lfd,
			 const struct sock_addr *bound, const char *proto, struct serve_report *rep)
{
	char err[SOCK_ERRLEN];
	int index;
	int r = workers_start(w, (int)a->workers, &index, err, sizeof err);
	if (r < 0) {
		errmsg("%s", err);
		close(*lfd);
		return EXIT_FAIL;
	}
	if (r == 0) {
		/* The parent: the workers serve and report their totals. */
		close(*lfd);
		rep->want = false;
		struct serve_ready_line wr = {bound, proto, &a->tls};
		int st = workers_supervise(w, 10000, workers_ready_line, &wr, err, sizeof err);
		if (*err)
			errmsg("%s", err);
		return st;
	}
	if (index > 0) {
		/* Its own socket on the same address: the kernel spreads
		 * connections over the workers' sockets. */
		close(*lfd);
		*lfd = sock_listen_again(bound, &a->ep, &a->lo, err, sizeof err);
		if (*lfd < 0) {
			errmsg("worker %d: %s", index, err);
			_exit(EXIT_FAIL);
		}
	}
	return -1;
}

static int serve_main(int argc, char **argv, struct serve_report *rep)
{
	static struct serve_args a;
	a = (struct serve_args){.workers = 1, .ep = {.socktype = SOCK_STREAM}};
	dialogue_init(&a.dlg, SCRIPT_F_RULES);
	struct serve_cfg *cfg = &a.cfg;
	struct netopts *no = &a.no;
	*cfg = (struct serve_cfg){.lfd = -1,
				  .handler = SERVE_RELAY,
				  .stall_ms = -1,
				  .ro = {.quit_after_eof_ms = -1, .zero_copy = true},
				  .in_fd = STDIN_FILENO,
				  .out_fd = STDOUT_FILENO};
	acl_init(&a.acl);
	int r = parse_args(argc, argv, &a);
	if (r)
		return r < 0 ? EXIT_OK : r;
	bool exec = no->exec_argv || no->sh_exec;
	struct activated act = {.fd = -1};
	if ((r = take_operands(argc - optind, argv + optind, &a, &act)))
		return r;
	cfg->dgram = a.ep.socktype == SOCK_DGRAM;
	cfg->ro.dgram = cfg->dgram;
	cfg->ro.local_is_tty = isatty(STDIN_FILENO);
	if (a.respond_arg && (r = load_respond(a.respond_arg, &cfg->respond)))
		return r;
	if (cfg->respond && no->crlf && cfg->respond->len && (r = respond_crlf(&cfg->respond)))
		return r;
	if (no->so.set & SOCKOPT_REUSEPORT)
		a.lo.reuseport = true;
	if (no->so.set) {
		a.lo.prepare = netopt_prepare;
		a.lo.prepare_arg = &no->so;
	}
	if (mux_check() < 0)
		return EXIT_USAGE;
	/* Before listening: a certificate that cannot be used is an error
	 * at start-up, not at the first client. A temporary one names the
	 * bound address: it is made once that is known. */
	if (a.tls.on && a.tls.cfg.cert && !(cfg->tls = tlsopt_server_ctx(&a.tls, NULL, 0, &r)))
		return r;
	cfg->handshake_ms = a.tls.handshake_ms;
	rep->no = no;
	rep->want = true;
	rep->t.kind = cfg->dgram ? TOTALS_DGRAM_SERVER : TOTALS_STREAM_SERVER;

	char err[SOCK_ERRLEN];
	struct sock_addr bound;
	int lfd;
	if (act.fd >= 0) {
		lfd = act.fd;
		if (no->so.set && sockopt_apply_early(&no->so, lfd, err, sizeof err) < 0) {
			errmsg("%s", err);
			return EXIT_FAIL;
		}
		sock_local_addr(lfd, &bound);
	} else {
		if (a.workers > 1)
			a.lo.reuseport = true;
		lfd = sock_listen(&a.ep, &a.lo, &bound, err, sizeof err);
		if (lfd < 0) {
			errmsg("%s", err);
			return EXIT_FAIL;
		}
	}
	if (a.tls.on && !cfg->tls) {
		const struct sockaddr *b = (const struct sockaddr *)&bound.ss;
		if (!(cfg->tls = tlsopt_server_ctx(&a.tls, &b, 1, &r))) {
			close(lfd);
			return r;
		}
	}
	cfg->family = bound.ss.ss_family;
	const char *proto = sock_proto_name(cfg->family, a.ep.socktype);
	static struct workers w;
	w = (struct workers){.ready_pipe = {-1, -1}};
	bool is_worker = a.workers > 1;
	if (is_worker && (r = start_workers(&a, &w, &lfd, &bound, proto, rep)) >= 0)
		return r;

	raise_fd_limit();
	int status;
	struct loop *loop = cmd_loop(1024, &status);
	if (!loop) {
		close(lfd);
		return status;
	}
	/* A datagram server has no accepted sockets: its one socket gets the
	 * per-connection options too. */
	if (cfg->dgram && no->so.set && sockopt_apply(&no->so, lfd, err, sizeof err) < 0) {
		errmsg("%s", err);
		close(lfd);
		loop_free(loop);
		return EXIT_FAIL;
	}
	if (netopt_open_logs(no) < 0) {
		close(lfd);
		loop_free(loop);
		return EXIT_FAIL;
	}
	cfg->lfd = lfd;
	cfg->log = no->log_open ? &no->log : NULL;
	cfg->ro.log = cfg->log;
	cfg->ro.crlf = cfg->crlf = no->crlf;
	cfg->acl = &a.acl;
	cfg->so = no->so.set ? &no->so : NULL;
	cfg->exec_argv = no->exec_argv;
	cfg->sh_exec = no->sh_exec;
	cfg->count_exec = exec && (g_opts.verbose || no->stats_json || no->stats_text) &&
			  !cfg->dgram && (cfg->family == AF_INET || cfg->family == AF_INET6);
	/* Diagnostics (-v per connection) are queued; stdout is the relay's
	 * data, where a slow reader slowing us down is right. */
	logs_start(loop, NULL);
	struct serve_server *srv = serve_new(loop, cfg, err, sizeof err);
	status = EXIT_OK;
	if (!srv) {
		errmsg("%s", err);
		status = EXIT_FAIL;
	} else {
		loop_signal(loop, SIGINT, on_stop_signal, srv);
		loop_signal(loop, SIGTERM, on_stop_signal, srv);
		int64_t t0 = clock_ms();
		struct progress prog;
		rep->ran = true;
		if (is_worker)
			workers_ready(&w);
		else
			print_ready(&bound, proto, loop_backend(loop), tlsopt_ready_note(&a.tls));
		progress_start(&prog, loop, no, get_totals, srv);
		/* One client gets stdin: a file's size gives a percentage. */
		if (cfg->handler == SERVE_RELAY && !exec && !cfg->keep_open && !cfg->dgram &&
		    !cfg->ro.recv_only)
			progress_size_from_stdin(&prog);
		bool loop_failed = loop_run(loop) < 0;
		if (loop_failed)
			errmsg("event loop (%s): %s", loop_backend(loop), strerror(errno));
		struct serve_result res;
		serve_result(srv, &res);
		progress_stop(&prog, loop);
		/* Room in a full stderr queue for the totals. */
		logs_flush(LOGS_END_MS);
		rep->t.sent = res.sent;
		rep->t.received = res.received;
		rep->t.ms = clock_ms() - t0;
		rep->t.connections = res.connections;
		rep->t.refused = res.refused;
		if (res.program_status >= 0)
			status = res.program_status;
		if (res.script_status >= 0 && !cfg->keep_open)
			status = dialogue_exit(res.script_status);
		if (res.failed && res.program_status < 0)
			status = EXIT_FAIL;
		if (loop_failed)
			status = EXIT_FAIL;
	}
	serve_free(srv);
	/* While stderr is still queued: a stalled reader must not hold the
	 * exit up. */
	serve_report(rep, status);
	logs_end(LOGS_END_MS);
	if (a.ep.unix_path && a.ep.unix_path[0] != '@')
		unlink(a.ep.unix_path);
	outq_chunk_unref(cfg->respond);
	tls_ctx_free(cfg->tls);
	tlsopt_free(&a.tls);
	loop_free(loop);
	netopt_close_logs(no);
	acl_free(&a.acl);
	spawn_words_free(no->exec_argv);
	dialogue_free(&a.dlg);
	return status;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_report rep = {0};
	int status = serve_main(argc, argv, &rep);
	serve_report(&rep, status);
	return status;
}
