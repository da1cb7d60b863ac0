/* sockctl forward: listen, and relay every client to a target. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "forward/forward.h"
#include "net/acl.h"
#include "net/proxy.h"
#include "proc/workers.h"
#include "tool/cmd.h"
#include "tool/faultopts.h"
#include "tool/netopts.h"

static const char help[] =
    "usage: sockctl forward [options] [LISTEN-ADDRESS] LISTEN-PORT TARGET-HOST TARGET-PORT\n"
    "\n"
    "Listen on LISTEN-ADDRESS (default 127.0.0.1; \"*\" or :: for all) and\n"
    "LISTEN-PORT (0 picks a free one), print the readiness line on stderr:\n"
    "  sockctl: listening on 127.0.0.1:40123 (tcp, mux=epoll)\n"
    "then connect every client to TARGET-HOST TARGET-PORT and relay the two\n"
    "both ways (splice where both ends allow), each direction's end passed on\n"
    "as a half-close. A client whose target cannot be reached (refused, no such\n"
    "name, timed out) is reset, and a line on stderr says why.\n"
    "\n"
    "Target:\n"
    "  -w, --wait SECS      give up connecting to an address after SECS (every\n"
    "                       address of TARGET-HOST is tried in turn)\n"
    "  -s, --source ADDR    connect from ADDR\n"
    "      --proxy HOST:PORT  reach the target through a proxy ([V6ADDR]:PORT)\n"
    "      --proxy-type TYPE  http (CONNECT, the default), socks4 or socks5\n"
    "      --proxy-auth USER:PASS  credentials (http basic, socks5; socks4: user)\n"
    "      --proxy-dns WHERE  remote (default: the proxy resolves TARGET-HOST) or\n"
    "                       local\n"
    "\n"
    "Concurrency and access:\n"
    "  -m, --max-conns N    at most N clients at once; one more is accepted and\n"
    "                       closed at once (it sees EOF)\n"
    "      --allow SPEC, --deny SPEC  addresses or CIDR blocks to admit or refuse;\n"
    "                       deny wins; with any --allow, only those are admitted\n"
    "      --allow-file FILE, --deny-file FILE  the same, one per line\n"
    "      --workers N      N processes, each with its own loop and listening\n"
    "                       socket on the same port (SO_REUSEPORT)\n"
    "      --backlog N      listen backlog (default SOMAXCONN)\n"
    "\n"
    "Options:\n"
    "  -i, --idle SECS      close a connection after SECS without data\n"
    "      --no-zero-copy   always copy through a buffer (no splice)\n"
    "  -4, -6, -n, -v, --mux=NAME   global options (see sockctl --help); -v: one\n"
    "                       line per connection at its end (client, target, bytes\n"
    "                       each way, duration, how it ended)\n"
    "\n"
    "Socket options (on both connections of a client):\n"
    "      --nodelay, --sndbuf SIZE, --rcvbuf SIZE, --keepalive[=I,N,C], --tos V,\n"
    "      --ttl N, --linger SECS, --bind-dev IF, --reuseport   as for serve\n"
    "Logs and statistics:\n"
    "  -o, --output FILE    log the raw bytes of every session to FILE\n"
    "  -x, --hex-dump FILE  a hex dump, '>' client to target, '<' back\n"
    "      --append         add to the log files instead of replacing them\n"
    "      --stats=json     the totals at exit as JSON on stderr (\"received\":\n"
    "                       from the clients, \"sent\": to them); --stats=text\n"
    "\n" FAULTOPT_HELP "\n"
    "SIGINT or SIGTERM stop cleanly (exit 0).\n"
    "Exit status: 0 done, 1 failure (listening, the event loop), 2 usage error.\n";

enum {
	OPT_BACKLOG = OPT_BASE,
	OPT_WORKERS,
	OPT_PROXY,
	OPT_PROXY_TYPE,
	OPT_PROXY_AUTH,
	OPT_PROXY_DNS,
};

/* What the command line says. Static in forward_main: what the options
 * allocate stays reachable however the command returns. */
struct fwd_args {
	struct forward_cfg cfg;
	struct netopts no;
	struct acl acl;
	struct faultopts fo;
	long workers;
	struct sock_endpoint lep;
	struct sock_listen_opts lo;
	/* --proxy */
	char *proxy; /* in argv: endpoint_split cuts it in place */
	const char *proxy_auth;
	enum proxy_type ptype;
	bool ptype_given, proxy_local_dns;
	char puser[256], ppass[256];
	struct proxy_target pt;
	char target_name[SOCK_ADDRSTRLEN + 16];
	char resolved[SOCK_ADDRSTRLEN];
};

static int parse_args(int argc, char **argv, struct fwd_args *a)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"wait", required_argument, NULL, 'w'},
	    {"source", required_argument, NULL, 's'},
	    {"max-conns", required_argument, NULL, 'm'},
	    ACLOPT_LONGOPTS,
	    {"workers", required_argument, NULL, OPT_WORKERS},
	    {"backlog", required_argument, NULL, OPT_BACKLOG},
	    {"proxy", required_argument, NULL, OPT_PROXY},
	    {"proxy-type", required_argument, NULL, OPT_PROXY_TYPE},
	    {"proxy-auth", required_argument, NULL, OPT_PROXY_AUTH},
	    {"proxy-dns", required_argument, NULL, OPT_PROXY_DNS},
	    NETOPT_LONGOPTS,
	    RELAYOPT_LONGOPTS,
	    FAULTOPT_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	struct forward_cfg *cfg = &a->cfg;
	struct netopts *no = &a->no;
	int c, ms;
	long v;
	while ((c = cmd_getopt(argc, argv, "46vnhw:s:m:" RELAYOPT_SHORTOPTS NETOPT_SHORTOPTS,
			       longopts)) != -1) {
		int nr = netopt_handle(no, c, optarg);
		if (nr == 0)
			nr = aclopt_handle(&a->acl, c, optarg);
		if (nr == -2)
			return EXIT_FAIL;
		if (nr == 0)
			nr = relayopt_handle(&cfg->ro, c, optarg);
		if (nr == 0)
			nr = faultopt_handle(&a->fo, c, optarg);
		if (nr < 0)
			return EXIT_USAGE;
		if (nr > 0)
			continue;
		switch (c) {
		case 'h':
			print_help(help);
			return -1;
		case 'w':
			if (!parse_seconds(optarg, &ms) || ms == 0)
				return usage_error("invalid -w '%s': give seconds > 0", optarg);
			cfg->co.timeout_ms = ms;
			break;
		case 's':
			if (!(cfg->co.src_host = opt_host("-s", optarg)))
				return EXIT_USAGE;
			break;
		case 'm':
			if (!parse_long(optarg, 1, 1000000, &cfg->max_conns))
				return usage_error("invalid --max-conns '%s': give 1-1000000",
						   optarg);
			break;
		case OPT_WORKERS:
			if (!parse_long(optarg, 1, 256, &a->workers))
				return usage_error("invalid --workers '%s': give 1-256", optarg);
			break;
		case OPT_BACKLOG:
			if (!parse_long(optarg, 1, 65535, &v))
				return usage_error("invalid --backlog '%s': give 1-65535", optarg);
			a->lo.backlog = (int)v;
			break;
		case OPT_PROXY:
			a->proxy = optarg;
			break;
		case OPT_PROXY_TYPE:
			if (!proxy_type_parse(optarg, &a->ptype))
				return usage_error(
				    "invalid --proxy-type '%s': give http, socks4 or socks5",
				    optarg);
			a->ptype_given = true;
			break;
		case OPT_PROXY_AUTH:
			if (!proxy_auth_parse(optarg, a->puser, sizeof a->puser, a->ppass,
					      sizeof a->ppass))
				return usage_error("invalid --proxy-auth: give USER:PASS");
			a->proxy_auth = optarg;
			break;
		case OPT_PROXY_DNS:
			if (strcmp(optarg, "local") == 0)
				a->proxy_local_dns = true;
			else if (strcmp(optarg, "remote") != 0)
				return usage_error("invalid --proxy-dns '%s': give local or remote",
						   optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (relayopt_check(&cfg->ro) || faultopt_check(&a->fo, a->workers, false))
		return EXIT_USAGE;
	if (no->exec_argv || no->sh_exec)
		return usage_error("--exec and --sh-exec are for serve and connect: forward "
				   "relays to its target");
	if (no->crlf || no->progress)
		return usage_error("%s does not apply to forward", no->crlf ? "-C" : "--progress");
	if (cfg->ro.send_only || cfg->ro.recv_only || cfg->ro.no_shutdown ||
	    cfg->ro.quit_after_eof_ms >= 0)
		return usage_error("--send-only, --recv-only, --no-shutdown and -q are for serve "
				   "and connect");
	if ((a->ptype_given || a->proxy_auth || a->proxy_local_dns) && !a->proxy)
		return usage_error("--proxy-type, --proxy-auth and --proxy-dns need --proxy");
	return 0;
}

/* The operands: [LISTEN-ADDRESS] LISTEN-PORT TARGET-HOST TARGET-PORT. 0,
 * or the exit status after the message. */
static int take_operands(int nargs, char **args, struct fwd_args *a)
{
	struct sock_endpoint *t = &a->cfg.target;
	if (nargs < 3)
		return usage_error("give [LISTEN-ADDRESS] LISTEN-PORT TARGET-HOST TARGET-PORT");
	if (nargs > 4)
		return usage_error("unexpected argument '%s'", args[4]);
	int nlisten = nargs - 2;
	if (endpoint_operands(nlisten, args, ENDPOINT_LISTEN | ENDPOINT_EXACT, SOCK_STREAM,
			      &a->lep.host, &a->lep.port) < 0)
		return EXIT_USAGE;
	t->host = opt_host("TARGET-HOST", args[nlisten]);
	if (!t->host)
		return EXIT_USAGE;
	t->port = args[nlisten + 1];
	char err[SOCK_ERRLEN];
	uint16_t port;
	if (!sock_parse_port(t->port, SOCK_STREAM, false, &port, err, sizeof err))
		return usage_error("%s", err);
	a->lep.socktype = t->socktype = SOCK_STREAM;
	a->lep.family = t->family = g_opts.family;
	a->lep.numeric = t->numeric = g_opts.numeric;
	bool v6 = strchr(t->host, ':') != NULL;
	snprintf(a->target_name, sizeof a->target_name, v6 ? "[%s]:%s" : "%s:%s", t->host, t->port);
	a->cfg.target_name = a->target_name;
	if (!a->proxy)
		return 0;
	/* --proxy: connect to the proxy, which connects to the target. */
	const char *phost, *pport;
	char perr[SOCK_ERRLEN + 128];
	if (endpoint_split(1, &a->proxy, ENDPOINT_EXACT, &phost, &pport, perr, sizeof perr) != 1)
		return usage_error("invalid --proxy '%s': give HOST:PORT ([V6ADDR]:PORT for IPv6)",
				   a->proxy);
	uint16_t pp;
	if (!sock_parse_port(pport, SOCK_STREAM, false, &pp, err, sizeof err))
		return usage_error("--proxy %s", err);
	a->pt = (struct proxy_target){.type = a->ptype, .host = t->host, .port = port};
	if (a->proxy_auth) {
		a->pt.user = a->puser;
		a->pt.pass = a->ppass;
	}
	if (a->proxy_local_dns) {
		/* Once, at start: plain SOCKS4 carries IPv4 addresses only. */
		struct sock_endpoint te = *t;
		te.family = a->ptype == PROXY_SOCKS4 ? AF_INET : t->family;
		struct addrinfo *res;
		if (sock_resolve(&te, false, &res, err, sizeof err) < 0) {
			errmsg("%s", err);
			return EXIT_FAIL;
		}
		char pbuf[16];
		sock_addr_parts(res->ai_addr, res->ai_addrlen, a->resolved, sizeof a->resolved,
				pbuf, sizeof pbuf);
		sock_freeaddrinfo(res);
		a->pt.host = a->resolved;
	}
	t->host = phost;
	t->port = pport;
	a->cfg.proxy = &a->pt;
	return 0;
}

static void print_ready(const struct sock_addr *bound, const char *proto, const char *mux)
{
	char b[SOCK_ADDRSTRLEN];
	/* The readiness line, in the same form as serve's. */
	errline("sockctl: listening on %s (%s, mux=%s)\n",
		sock_addr_str((const struct sockaddr *)&bound->ss, bound->len, b, sizeof b), proto,
		mux);
}

static void on_stop_signal(struct loop *l, int signo, void *arg)
{
	(void)l;
	vmsg("%s: stopping", strsignal(signo));
	forward_stop(arg);
}

/* The readiness line, in the parent of --workers once all listen. */
struct fwd_ready_line {
	const struct sock_addr *bound;
	const char *proto;
};

static void workers_ready_line(void *arg)
{
	const struct fwd_ready_line *r = arg;
	print_ready(r->bound, r->proto, mux_resolved());
}

/* --workers N: the parent says when all listen and waits for them (its
 * exit status returned); -1 in a worker, whose *lfd is its own socket. */
static int start_workers(struct fwd_args *a, struct workers *w, int *lfd,
			 const struct sock_addr *bound, const char *proto)
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
		close(*lfd);
		struct fwd_ready_line rl = {bound, proto};
		int st = workers_supervise(w, 10000, workers_ready_line, &rl, err, sizeof err);
		if (*err)
			errmsg("%s", err);
		return st;
	}
	if (index > 0) {
		/* Its own socket on the bound address (port 0 resolved): the
		 * kernel spreads the clients over the workers' sockets. */
		close(*lfd);
		char host[SOCK_ADDRSTRLEN], port[16];
		sock_addr_parts((const struct sockaddr *)&bound->ss, bound->len, host, sizeof host,
				port, sizeof port);
		struct sock_endpoint wep = a->lep;
		wep.host = host;
		wep.port = port;
		wep.numeric = true;
		if ((*lfd = sock_listen(&wep, &a->lo, NULL, err, sizeof err)) < 0) {
			errmsg("worker %d: %s", index, err);
			_exit(EXIT_FAIL);
		}
	}
	return -1;
}

/* One run's state, static: what the options allocate stays reachable
 * however the command returns, and the command runs once per process. */
static struct fwd_run {
	struct fwd_args a;
	struct loop *loop;
	struct forward *f;
	bool report; /* the command line was accepted: totals at exit */
	struct netopt_totals tot;
} run;

static int forward_main(int argc, char **argv)
{
	struct fwd_args *a = &run.a;
	*a = (struct fwd_args){.workers = 1};
	struct forward_cfg *cfg = &a->cfg;
	struct netopts *no = &a->no;
	*cfg = (struct forward_cfg){.lfd = -1, .ro = {.quit_after_eof_ms = -1, .zero_copy = true}};
	acl_init(&a->acl);
	faultopt_init(&a->fo);
	int r = parse_args(argc, argv, a);
	if (r)
		return r < 0 ? EXIT_OK : r;
	if ((r = take_operands(argc - optind, argv + optind, a)))
		return r;
	if (mux_check() < 0)
		return EXIT_USAGE;
	if (no->so.set & SOCKOPT_REUSEPORT)
		a->lo.reuseport = true;
	if (no->so.set) {
		a->lo.prepare = netopt_prepare;
		a->lo.prepare_arg = &no->so;
		cfg->co.prepare = netopt_prepare;
		cfg->co.prepare_arg = &no->so;
		cfg->so = &no->so;
	}
	run.report = true;
	run.tot.kind = TOTALS_STREAM_SERVER;
	char err[SOCK_ERRLEN];
	struct sock_addr bound;
	if (a->workers > 1)
		a->lo.reuseport = true;
	int lfd = sock_listen(&a->lep, &a->lo, &bound, err, sizeof err);
	if (lfd < 0) {
		errmsg("%s", err);
		return EXIT_FAIL;
	}
	const char *proto = sock_proto_name(bound.ss.ss_family, SOCK_STREAM);
	static struct workers w;
	w = (struct workers){.ready_pipe = {-1, -1}};
	bool is_worker = a->workers > 1;
	if (is_worker && (r = start_workers(a, &w, &lfd, &bound, proto)) >= 0) {
		/* The parent: the workers report their own totals. */
		run.report = false;
		return r;
	}
	raise_fd_limit();
	int status;
	if (!(run.loop = cmd_loop(1024, &status))) {
		close(lfd);
		return status;
	}
	if (netopt_open_logs(no) < 0) {
		close(lfd);
		return EXIT_FAIL;
	}
	cfg->lfd = lfd;
	cfg->log = no->log_open ? &no->log : NULL;
	cfg->acl = acl_empty(&a->acl) ? NULL : &a->acl;
	/* Diagnostics (-v per connection) are queued: a slow stderr must
	 * not hold up the clients. */
	logs_start(run.loop, NULL);
	cfg->faults = faultopt_start(&a->fo, run.loop, &status);
	if (status) {
		close(lfd);
		return status;
	}
	if (!(run.f = forward_new(run.loop, cfg, err, sizeof err))) {
		errmsg("%s", err);
		return EXIT_FAIL;
	}
	loop_signal(run.loop, SIGINT, on_stop_signal, run.f);
	loop_signal(run.loop, SIGTERM, on_stop_signal, run.f);
	int64_t t0 = clock_ms();
	run.tot.started = true;
	if (is_worker)
		workers_ready(&w);
	else
		print_ready(&bound, proto, loop_backend(run.loop));
	status = EXIT_OK;
	if (loop_run(run.loop) < 0) {
		errmsg("event loop (%s): %s", loop_backend(run.loop), strerror(errno));
		status = EXIT_FAIL;
	}
	struct forward_result res;
	forward_result(run.f, &res);
	/* Room in a full stderr queue for the totals. */
	logs_flush(LOGS_END_MS);
	run.tot.ms = clock_ms() - t0;
	run.tot.connections = res.connections;
	run.tot.refused = res.refused;
	run.tot.received = res.up;
	run.tot.sent = res.down;
	return status;
}

int cmd_forward(int argc, char **argv)
{
	int status = forward_main(argc, argv);
	forward_free(run.f);
	run.f = NULL;
	if (run.report && status != EXIT_USAGE) {
		char why[32];
		if (status != EXIT_OK) {
			snprintf(why, sizeof why, "exit status %d", status);
			run.tot.error = *errmsg_last() ? errmsg_last() : why;
		}
		netopt_report(&run.a.no, &run.tot);
	}
	/* The control socket is on the loop: closed before it. */
	faultopt_free(&run.a.fo);
	logs_end(LOGS_END_MS);
	loop_free(run.loop);
	run.loop = NULL;
	netopt_close_logs(&run.a.no);
	acl_free(&run.a.acl);
	return status;
}
