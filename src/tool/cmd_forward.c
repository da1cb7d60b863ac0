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
#include "tool/proxyopts.h"
#include "proc/workers.h"
#include "tool/cmd.h"
#include "tool/faultopts.h"
#include "tool/netopts.h"
#include "tool/tlsopts.h"

static const char help[] =
    "usage: sockctl forward [options] [LISTEN-ADDRESS] LISTEN-PORT TARGET-HOST TARGET-PORT\n"
    "       sockctl forward [options] --listen-unix PATH TARGET-HOST TARGET-PORT\n"
    "       sockctl forward [options] [LISTEN-ADDRESS] LISTEN-PORT --target-unix PATH\n"
    "       sockctl forward [options] --listen-unix PATH --target-unix PATH\n"
    "\n"
    "Listen on LISTEN-ADDRESS (default 127.0.0.1; \"*\" or :: for all) and\n"
    "LISTEN-PORT (0 picks a free one), print the readiness line on stderr:\n"
    "  sockctl: listening on 127.0.0.1:40123 (tcp, mux=epoll)\n"
    "then connect every client to TARGET-HOST TARGET-PORT and relay the two\n"
    "both ways (splice where both ends allow), each direction's end passed on\n"
    "as a half-close. A client whose target cannot be reached (refused, no such\n"
    "name, timed out) is reset, and a line on stderr says why.\n"
    "\n"
    "Unix sockets (@NAME: an abstract name), chosen for each side:\n"
    "      --listen-unix PATH  listen on a Unix stream socket instead of a port\n"
    "      --target-unix PATH  connect every client to a Unix stream socket\n"
    "\n"
    "UDP:\n"
    "  -u, --udp            forward UDP: every client address gets a socket of\n"
    "                       its own to the target (resolved once, at start), whose\n"
    "                       answers go back to that client only; -i sets how long\n"
    "                       a session lasts without datagrams (default 60 s), -m\n"
    "                       how many live at once (default 1024; the datagrams of\n"
    "                       clients beyond it are dropped)\n"
    "\n"
    "Target:\n"
    "  -w, --wait SECS      give up connecting to an address after SECS (every\n"
    "                       address of TARGET-HOST is tried in turn)\n"
    "  -s, --source ADDR    connect from ADDR\n" PROXYOPT_HELP "\n" TLSOPT_SERVER_HELP
    "      (the listen side: clients speak TLS to us; the readiness line is serve's)\n"
    "TLS to the target (re-encrypted when --tls is given too):\n"
    "      --target-tls     TLS to the target; its certificate is verified\n"
    "                       against the system store and TARGET-HOST (also SNI)\n"
    "      --target-cacert FILE|DIR  verify against these CA certificates instead\n"
    "      --target-insecure  do not verify the target's certificate\n"
    "      --target-sni NAME  send NAME as SNI and verify the certificate for it\n"
    "      --target-no-sni  send no SNI\n"
    "      --target-pin sha256//BASE64  the target's public key must be this one\n"
    "      --target-cert FILE, --target-key FILE  a client certificate and its key\n"
    "      --target-alpn LIST  ALPN protocols to offer the target\n"
    "\n"
    "PROXY protocol (haproxy's):\n"
    "      --send-proxy v1|v2  send the target a PROXY header first, naming the\n"
    "                       client and the address it reached\n"
    "      --accept-proxy   every client starts with a PROXY header (v1 or v2,\n"
    "                       within --handshake-timeout, default 10 s); its address\n"
    "                       is the client's for --allow/--deny, -v and the logs;\n"
    "                       a client without one is closed\n"
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
	OPT_LISTEN_UNIX,
	OPT_TARGET_UNIX,
	OPT_TARGET_TLS,
	OPT_TARGET_CACERT,
	OPT_TARGET_INSECURE,
	OPT_TARGET_SNI,
	OPT_TARGET_NO_SNI,
	OPT_TARGET_PIN,
	OPT_TARGET_CERT,
	OPT_TARGET_KEY,
	OPT_TARGET_ALPN,
	OPT_SEND_PROXY,
	OPT_ACCEPT_PROXY,
};

/* --target-X is the client option --X of the TLS to the target. */
static int target_tlsopt(int c)
{
	switch (c) {
	case OPT_TARGET_TLS:
		return TOPT_TLS;
	case OPT_TARGET_CACERT:
		return TOPT_CACERT;
	case OPT_TARGET_INSECURE:
		return TOPT_INSECURE;
	case OPT_TARGET_SNI:
		return TOPT_SNI;
	case OPT_TARGET_NO_SNI:
		return TOPT_NO_SNI;
	case OPT_TARGET_PIN:
		return TOPT_PIN;
	case OPT_TARGET_CERT:
		return TOPT_CERT;
	case OPT_TARGET_KEY:
		return TOPT_KEY;
	case OPT_TARGET_ALPN:
		return TOPT_ALPN;
	default:
		return 0;
	}
}

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
	struct proxyopts px; /* --proxy */
	char target_name[SOCK_ADDRSTRLEN + 16];
	struct tlsopts tls, ttls; /* --tls (the listen side), --target-tls */
	int handshake_ms;	  /* --handshake-timeout, for both; 0: not given */
	char resolved[SOCK_ADDRSTRLEN];
};

static int parse_args(int argc, char **argv, struct fwd_args *a)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"wait", required_argument, NULL, 'w'},
	    {"udp", no_argument, NULL, 'u'},
	    {"source", required_argument, NULL, 's'},
	    {"max-conns", required_argument, NULL, 'm'},
	    ACLOPT_LONGOPTS,
	    {"workers", required_argument, NULL, OPT_WORKERS},
	    {"backlog", required_argument, NULL, OPT_BACKLOG},
	    PROXYOPT_LONGOPTS,
	    {"listen-unix", required_argument, NULL, OPT_LISTEN_UNIX},
	    {"target-unix", required_argument, NULL, OPT_TARGET_UNIX},
	    {"target-tls", no_argument, NULL, OPT_TARGET_TLS},
	    {"target-cacert", required_argument, NULL, OPT_TARGET_CACERT},
	    {"target-insecure", no_argument, NULL, OPT_TARGET_INSECURE},
	    {"target-sni", required_argument, NULL, OPT_TARGET_SNI},
	    {"target-no-sni", no_argument, NULL, OPT_TARGET_NO_SNI},
	    {"target-pin", required_argument, NULL, OPT_TARGET_PIN},
	    {"target-cert", required_argument, NULL, OPT_TARGET_CERT},
	    {"target-key", required_argument, NULL, OPT_TARGET_KEY},
	    {"target-alpn", required_argument, NULL, OPT_TARGET_ALPN},
	    {"send-proxy", required_argument, NULL, OPT_SEND_PROXY},
	    {"accept-proxy", no_argument, NULL, OPT_ACCEPT_PROXY},
	    TLSOPT_SERVER_LONGOPTS,
	    NETOPT_LONGOPTS,
	    RELAYOPT_LONGOPTS,
	    FAULTOPT_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	struct forward_cfg *cfg = &a->cfg;
	struct netopts *no = &a->no;
	int c, ms;
	long v;
	struct sock_addr ua;
	while ((c = cmd_getopt(argc, argv, "46vnhuw:s:m:" RELAYOPT_SHORTOPTS NETOPT_SHORTOPTS,
			       longopts)) != -1) {
		int nr = netopt_handle(no, c, optarg);
		if (nr == 0)
			nr = aclopt_handle(&a->acl, c, optarg);
		if (nr == -2)
			return EXIT_FAIL;
		if (nr == 0)
			nr = relayopt_handle(&cfg->ro, c, optarg);
		if (nr == 0 && c == TOPT_HANDSHAKE_TIMEOUT) {
			/* Both sides' handshakes: not the listen side's alone. */
			if (!parse_seconds(optarg, &a->handshake_ms) || a->handshake_ms == 0)
				return usage_error(
				    "invalid --handshake-timeout '%s': give seconds > 0", optarg);
			continue;
		}
		if (nr == 0)
			nr = tlsopt_handle(&a->tls, c, optarg);
		if (nr == 0 && target_tlsopt(c))
			nr = tlsopt_handle(&a->ttls, target_tlsopt(c), optarg);
		if (nr == 0)
			nr = faultopt_handle(&a->fo, c, optarg);
		if (nr == 0)
			nr = proxyopt_handle(&a->px, c, optarg);
		if (nr < 0)
			return EXIT_USAGE;
		if (nr > 0)
			continue;
		switch (c) {
		case 'h':
			print_help(help);
			return -1;
		case 'u':
			cfg->udp = true;
			break;
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
		case OPT_LISTEN_UNIX:
		case OPT_TARGET_UNIX:
			if (!sock_unix_addr(optarg, &ua))
				return usage_error(
				    "invalid --%s '%.40s%s': a socket path (or @NAME) "
				    "that fits a Unix socket address",
				    c == OPT_LISTEN_UNIX ? "listen-unix" : "target-unix", optarg,
				    strlen(optarg) > 40 ? "..." : "");
			if (c == OPT_LISTEN_UNIX)
				a->lep.unix_path = optarg;
			else
				cfg->target.unix_path = optarg;
			break;
		case OPT_SEND_PROXY:
			if (strcmp(optarg, "v1") == 0 || strcmp(optarg, "1") == 0)
				cfg->send_proxy = 1;
			else if (strcmp(optarg, "v2") == 0 || strcmp(optarg, "2") == 0)
				cfg->send_proxy = 2;
			else
				return usage_error("invalid --send-proxy '%s': give v1 or v2",
						   optarg);
			break;
		case OPT_ACCEPT_PROXY:
			cfg->accept_proxy = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (relayopt_check(&cfg->ro) || faultopt_check(&a->fo, a->workers, cfg->udp))
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
	if (tlsopt_check(&a->tls, TLS_SERVER) || tlsopt_check(&a->ttls, TLS_CLIENT))
		return EXIT_USAGE;
	if (a->handshake_ms && !a->tls.on && !a->ttls.on && !cfg->accept_proxy)
		return usage_error(
		    "--handshake-timeout needs --tls, --target-tls or --accept-proxy");
	cfg->header_ms = a->handshake_ms;
	if (a->handshake_ms)
		a->tls.handshake_ms = a->ttls.handshake_ms = a->handshake_ms;
	cfg->handshake_ms = a->tls.on ? a->tls.handshake_ms : a->ttls.handshake_ms;
	if (cfg->udp && (a->tls.on || a->ttls.on))
		return usage_error("--tls and --target-tls are for TCP: DTLS (-u) is not offered");
	if (cfg->udp && (cfg->send_proxy || cfg->accept_proxy))
		return usage_error("--send-proxy and --accept-proxy are for TCP, not -u");
	if (cfg->udp && (a->lep.unix_path || cfg->target.unix_path || proxyopt_on(&a->px) ||
			 cfg->co.src_host || cfg->co.timeout_ms))
		return usage_error("-u forwards UDP over IP: no --listen-unix, --target-unix, "
				   "--proxy, -s or -w");
	if (cfg->target.unix_path && (proxyopt_on(&a->px) || cfg->co.src_host))
		return usage_error("--target-unix connects directly: no --proxy or -s");
	if (a->lep.unix_path && !acl_empty(&a->acl) && !cfg->accept_proxy)
		return usage_error("--allow and --deny match IP addresses: not with --listen-unix "
				   "(but with --accept-proxy)");
	if (a->lep.unix_path && a->workers > 1)
		return usage_error(
		    "--workers shares a port (SO_REUSEPORT): not with --listen-unix");
	return 0;
}

/* The operands: [LISTEN-ADDRESS] LISTEN-PORT TARGET-HOST TARGET-PORT. 0,
 * or the exit status after the message. */
static int take_operands(int nargs, char **args, struct fwd_args *a)
{
	struct sock_endpoint *t = &a->cfg.target;
	int nlisten = a->lep.unix_path ? 0 : -1, ntarget = t->unix_path ? 0 : 2;
	if (nlisten < 0)
		nlisten = nargs - ntarget;
	if (nlisten < 0 || (nlisten == 0 && !a->lep.unix_path) || nargs < nlisten + ntarget)
		return usage_error("give [LISTEN-ADDRESS] LISTEN-PORT (or --listen-unix PATH) and "
				   "TARGET-HOST TARGET-PORT (or --target-unix PATH)");
	if (nlisten > 2 || nargs > nlisten + ntarget)
		return usage_error("unexpected argument '%s'", args[nargs - 1]);
	if (nlisten && endpoint_operands(nlisten, args, ENDPOINT_LISTEN | ENDPOINT_EXACT,
					 a->cfg.udp ? SOCK_DGRAM : SOCK_STREAM, &a->lep.host,
					 &a->lep.port) < 0)
		return EXIT_USAGE;
	int type = a->cfg.udp ? SOCK_DGRAM : SOCK_STREAM;
	a->lep.socktype = t->socktype = type;
	a->lep.family = t->family = g_opts.family;
	a->lep.numeric = t->numeric = g_opts.numeric;
	a->cfg.target_name = a->target_name;
	if (t->unix_path) {
		snprintf(a->target_name, sizeof a->target_name, "%s", t->unix_path);
		return 0;
	}
	t->host = opt_host("TARGET-HOST", args[nlisten]);
	if (!t->host)
		return EXIT_USAGE;
	t->port = args[nlisten + 1];
	char err[SOCK_ERRLEN];
	uint16_t port;
	if (!sock_parse_port(t->port, type, false, &port, err, sizeof err))
		return usage_error("%s", err);
	a->cfg.target_tls_host = t->host; /* the name the certificate must carry */
	bool v6 = strchr(t->host, ':') != NULL;
	snprintf(a->target_name, sizeof a->target_name, v6 ? "[%s]:%s" : "%s:%s", t->host, t->port);
	/* --proxy: connect to the proxy, which connects to the target. */
	int st = proxyopt_apply(&a->px, t);
	if (st)
		return st;
	if (proxyopt_on(&a->px))
		a->cfg.proxy = &a->px.pt;
	return 0;
}

static void print_ready(const struct sock_addr *bound, const char *proto, const char *mux,
			const char *note)
{
	char b[SOCK_ADDRSTRLEN];
	/* The readiness line, in the same form as serve's (with --tls and a
	 * temporary certificate, its pin). */
	errline("sockctl: listening on %s (%s, mux=%s%s)\n",
		sock_addr_str((const struct sockaddr *)&bound->ss, bound->len, b, sizeof b), proto,
		mux, note);
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
	const struct tlsopts *tls;
};

static void workers_ready_line(void *arg)
{
	const struct fwd_ready_line *r = arg;
	print_ready(r->bound, r->proto, mux_resolved(), tlsopt_ready_note(r->tls));
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
		struct fwd_ready_line rl = {bound, proto, &a->tls};
		int st = workers_supervise(w, 10000, workers_ready_line, &rl, err, sizeof err);
		if (*err)
			errmsg("%s", err);
		return st;
	}
	if (index > 0) {
		/* Its own socket on the bound address (port 0 resolved): the
		 * kernel spreads the clients over the workers' sockets. */
		close(*lfd);
		if ((*lfd = sock_listen_again(bound, &a->lep, &a->lo, err, sizeof err)) < 0) {
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
	bool report;   /* the command line was accepted: totals at exit */
	bool listened; /* the socket is ours (a Unix path is removed at exit) */
	struct netopt_totals tot;
} run;

static int forward_main(int argc, char **argv)
{
	struct fwd_args *a = &run.a;
	*a = (struct fwd_args){.workers = 1, .ttls = {.prefix = "target-"}};
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
	/* Before listening: a certificate or CA file that cannot be used is
	 * an error at start-up, not at the first client. A temporary
	 * certificate names the bound address: made once that is known. */
	if (a->tls.on && a->tls.cfg.cert && !(cfg->tls = tlsopt_server_ctx(&a->tls, NULL, 0, &r)))
		return r;
	if (a->ttls.on && !(cfg->target_tls = tlsopt_ctx(&a->ttls, &r)))
		return r;
	run.report = true;
	run.tot.kind = cfg->udp ? TOTALS_DGRAM_SERVER : TOTALS_STREAM_SERVER;
	char err[SOCK_ERRLEN];
	struct sock_addr bound;
	if (a->workers > 1)
		a->lo.reuseport = true;
	int lfd = sock_listen(&a->lep, &a->lo, &bound, err, sizeof err);
	if (lfd < 0) {
		errmsg("%s", err);
		return EXIT_FAIL;
	}
	run.listened = true;
	if (a->tls.on && !cfg->tls) {
		const struct sockaddr *b = (const struct sockaddr *)&bound.ss;
		if (!(cfg->tls = tlsopt_server_ctx(&a->tls, &b, 1, &r))) {
			close(lfd);
			return r;
		}
	}
	const char *proto = sock_proto_name(bound.ss.ss_family, a->lep.socktype);
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
	/* forward forks nothing once it runs (--workers are started above):
	 * a connection's fd is forgotten by closing it. */
	loop_set_fds_private(run.loop, true);
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
		print_ready(&bound, proto, loop_backend(run.loop), tlsopt_ready_note(&a->tls));
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
	/* -u: the datagrams, as serve -u counts them. */
	run.tot.connections = cfg->udp ? res.datagrams : res.connections;
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
	proxyopt_free(&run.a.px);
	logs_end(LOGS_END_MS);
	tls_ctx_free(run.a.cfg.tls);
	tls_ctx_free(run.a.cfg.target_tls);
	tlsopt_free(&run.a.tls);
	tlsopt_free(&run.a.ttls);
	loop_free(run.loop);
	run.loop = NULL;
	netopt_close_logs(&run.a.no);
	acl_free(&run.a.acl);
	const char *up = run.a.lep.unix_path;
	if (run.listened && up && up[0] != '@')
		unlink(up);
	return status;
}
