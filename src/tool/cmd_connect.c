/* sockctl connect: a client like `nc HOST PORT` that loses nothing. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <signal.h>
#include <sys/wait.h>

#include "tool/cmd.h"
#include "core/sbuf.h"
#include "net/connector.h"
#include "tool/netopts.h"
#include "net/proxy.h"
#include "net/relay.h"
#include "scan/scan.h"
#include "net/sock.h"
#include "proc/spawn.h"
#include "net/stream.h"
#include "proc/children.h"
#include "net/tcp_totals.h"
#include "net/starttls.h"
#include "net/tls.h"
#include "proc/spawn_relay.h"
#include "tool/proxyopts.h"
#include "tool/tlsopts.h"
#include "tool/certopts.h"
#include "tool/dialogue.h"

static const char help[] =
    "usage: sockctl connect [options] HOST PORT   (or HOST:PORT, [IPV6]:PORT)\n"
    "       sockctl connect [options] -U PATH\n"
    "       sockctl connect -z [options] HOST PORTS...\n"
    "\n"
    "Connect and relay: stdin goes to the socket, the socket's data to stdout.\n"
    "On stdin EOF the write side is shut down (FIN) and connect keeps reading\n"
    "until the peer closes, so no reply is lost.\n"
    "\n"
    "Options:\n"
    "  -u, --udp            UDP: one datagram per read; after stdin EOF, wait for\n"
    "                       replies until none came for the idle time (-i, default 1 s)\n"
    "  -U, --unix PATH      Unix stream socket (with -u: datagram); @NAME is abstract\n"
    "  -w, --wait SECS      connect timeout per address\n"
    "  -i, --idle SECS      stop after SECS without data either way\n"
    "  -q, --quit-after SECS  stop SECS after stdin EOF (0: as soon as it is sent)\n"
    "      --no-shutdown    do not shut down the write side on stdin EOF\n"
    "      --send-only      only send stdin; exit once it is sent\n"
    "      --recv-only      only print what arrives; do not read stdin\n"
    "  -s, --source ADDR    local address to connect from\n"
    "  -p, --source-port PORT  local port to connect from\n"
    "      --no-zero-copy   always copy through a buffer (no splice/sendfile)\n"
    "  -e, --exec 'PROG ARGS'  run PROG with the socket as its stdin and stdout\n"
    "                       (split at spaces, no shell); exit with its status\n"
    "  -c, --sh-exec 'CMD'  the same through /bin/sh -c\n"
    "  -4, -6, -n, -v, --mux=NAME   global options (see sockctl --help)\n"
    "\n"
    "Port scan (-z): PORTS is a list of ports, ranges and service names such as\n"
    "22,80,8000-8100,https (or several words: 80 443); each is tried with a TCP\n"
    "connect, many at once.\n"
    "  -z, --scan           scan instead of relaying; one line per port:\n"
    "                       HOST PORT open|closed|timeout (or error: REASON)\n"
    "      --parallel N     connects in flight at once (default 256)\n"
    "  -w SECS              per-port timeout (default 3)\n"
    "      --json           one JSON object per port instead\n"
    "      --open           print open ports only\n"
    "      --syn            half-open scan: send SYNs over a raw socket (needs\n"
    "                       root or CAP_NET_RAW); no connection is completed,\n"
    "                       silent ports get 3 SYNs within the -w timeout\n"
    "\n"
    "Proxies:\n" PROXYOPT_HELP
    "      --starttls PROTO  the plaintext preamble of PROTO, then TLS (--tls):\n"
    "                       smtp, lmtp, imap, pop3, ftp, xmpp, postgres or ldap\n"
    "      --shutdown-delay SECS  on stdin EOF, hold the shutdown (FIN) back until\n"
    "                       the reply has come and paused, the peer has closed, or\n"
    "                       SECS passed (default 2 through a proxy, else 0: at once):\n"
    "                       many proxies drop the tunnel, reply and all, on a FIN\n"
    "\n"
    "Dialogue (instead of the relay; see sockctl-script(5)):\n"
    "      --send TEXT      send TEXT (escapes \\r \\n \\t \\\\ \\xHH; -C: \\n as "
    "CRLF)\n"
    "      --expect REGEX   wait until what came matches REGEX (POSIX ERE)\n"
    "                       --send and --expect are steps, played in their order\n"
    "      --script FILE    the steps of FILE (- for stdin), after those before it\n"
    "      --expect-timeout SECS  each expect's deadline (default 5)\n"
    "      --json           print the transcript as one JSON object on stdout\n"
    "      --then-relay     once every step matched, relay stdin and stdout as\n"
    "                       without a dialogue (what came after the last match first)\n"
    "  -v                   echo the dialogue on stderr (> sent, < received)\n"
    "\n" TLSOPT_CLIENT_HELP
    "      --cert-info[=json]  after the handshake, print what it settled and the\n"
    "                       server's certificates (text, or one JSON object) on\n"
    "                       stdout and exit, without the relay; a verification\n"
    "                       or pin failure is printed too, then exits 60 or 90\n"
    "      --expires-within DAYS  exit 110 when the server's certificate expires\n"
    "                       within DAYS days (without --cert-info: before the relay)\n"
    "\n" NETOPT_HELP "\n"
    "-v prints the connection and, at exit, the bytes each way and the time.\n"
    "Exit status: 0 done, 1 connection or transfer failed, 2 usage error;\n"
    "with -z: 0 if any port is open, 1 if none is; with --exec: the program's.\n"
    "With --tls: 35 handshake failed, 56 the server closed without close_notify\n"
    "(truncation), 58 --cert/--key unusable or refused by the server (or one was\n"
    "needed), 60 the server's certificate did not verify, 77 --cacert unusable,\n"
    "90 no --pin matched, 110 --expires-within; with --starttls: 64 the server\n"
    "refused to start TLS. A dialogue: 3 an expect found no match in time, 4 the\n"
    "peer closed before it did.\n";

/* The default --shutdown-delay through a proxy. */
#define PROXY_SHUTDOWN_DELAY_MS 2000

enum {
	OPT_PARALLEL = OPT_BASE,
	OPT_JSON,
	OPT_SYN,
	OPT_OPEN,
	OPT_SHUTDOWN_DELAY,
	OPT_STARTTLS,
};

/* --starttls: the server refused to start TLS (curl's "SSL level failed"). */
#define EXIT_STARTTLS 64

struct conn_state {
	int status;
	struct loop *loop;
	struct stream *sin, *sout; /* stdin and stdout for the relay; owned (not their fds) */
	struct stream *sock;	   /* the connection; owned */
	struct relay *relay;
	struct relay_opts ro;
	char peer[SOCK_ADDRSTRLEN];
	const char *proto;
	struct netopts no;
	struct progress prog;
	bool have_proxy;
	struct proxyopts px;
	struct proxy_target pt;
	struct proxy_conn *pc;
	pid_t child;
	struct children *kids; /* the program (--exec); owned */
	/* --exec with -v or --stats (TCP): the socket's copy kept to read
	 * the kernel's totals when the program ends, less those at its start
	 * (a proxy's handshake), and when it started. */
	int count_fd;
	uint64_t base_sent, base_received;
	int64_t exec_start;
	/* The report at exit: wanted once the command line is accepted;
	 * totals filled when the session ends. */
	bool report, ran, have_totals;
	int64_t t0;
	struct netopt_totals totals;
	char why[96]; /* a program's failure, for --stats=json */
	/* --tls: the options, the context (owned), the name to verify, the
	 * handshake in progress (owned), and the program's relay (--exec
	 * over TLS: the program cannot speak TLS on its fd). */
	struct tlsopts tls;
	struct tls_ctx *tctx;
	const char *tls_host;
	struct tls_handshake *hs;
	struct spawn_relay *xr;
	bool xr_done;
	/* --starttls: the protocol, and its exchange in progress (owned). */
	bool starttls;
	enum starttls_proto stproto;
	struct starttls *st;
	/* --cert-info (the report instead of the relay), --expires-within. */
	struct certopts cert;
	/* --send, --expect, --script: the steps, and their run (owned). */
	struct dialogue dlg;
	struct script_run *run;
};

static void get_totals(void *arg, uint64_t *sent, uint64_t *received)
{
	struct conn_state *s = arg;
	struct relay_stats st = {0};
	if (s->relay)
		relay_get_stats(s->relay, &st);
	*sent = st.sent;
	*received = st.received;
}

static void on_relay_done(struct loop *l, int status, const char *errtext, void *arg)
{
	struct conn_state *s = arg;
	/* First: the progress line ends before any message is printed. */
	progress_stop(&s->prog, l);
	const char *why = status ? tls_error(s->sock) : NULL;
	if (why)
		errmsg("%s: TLS: %s", s->peer, why);
	else if (errtext && *errtext)
		errmsg("%s", errtext);
	s->status = status;
	enum tls_err tk = status ? tls_failure(s->sock) : TLS_E_NONE;
	if (tk == TLS_E_TRUNCATED || tk == TLS_E_CERT)
		s->status = tlsopt_exit(tk);
	struct relay_stats st;
	relay_get_stats(s->relay, &st);
	s->totals.sent = st.sent;
	s->totals.received = st.received;
	s->totals.ms = st.end_ms - st.start_ms;
	s->have_totals = true;
	progress_stop(&s->prog, l);
	loop_stop(l);
}

static void on_child(pid_t pid, int st, void *arg)
{
	(void)pid;
	struct conn_state *s = arg;
	char text[80];
	spawn_status_text(st, text, sizeof text);
	vmsg("program %s", text);
	s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (s->status)
		snprintf(s->why, sizeof s->why, "program %s", text);
	s->child = 0;
	uint64_t sent, received;
	if (s->count_fd >= 0 && tcp_totals(s->count_fd, &sent, &received) == 0) {
		sent -= sent >= s->base_sent ? s->base_sent : sent;
		received -= received >= s->base_received ? s->base_received : received;
		s->totals.sent = sent;
		s->totals.received = received;
		s->totals.ms = clock_ms() - s->exec_start;
		s->have_totals = true;
	}
	if (s->count_fd >= 0)
		close(s->count_fd);
	s->count_fd = -1;
	/* Over TLS the program's last output may still be on its way. */
	if (!s->xr || s->xr_done)
		loop_stop(s->loop);
}

/* --exec over TLS: the relay between the program and the connection
 * ended; the run ends when the program has too. */
static void on_exec_relay_done(struct loop *l, int status, const char *errtext, void *arg)
{
	struct conn_state *s = arg;
	s->xr_done = true;
	if (status && errtext && *errtext)
		vmsg("%s", errtext);
	struct relay_stats st;
	spawn_relay_stats(s->xr, &st);
	s->totals.sent = st.sent;
	s->totals.received = st.received;
	s->totals.ms = clock_ms() - s->exec_start;
	s->have_totals = true;
	/* The program's end of the connection closes: it sees the end. */
	spawn_relay_close_local(s->xr);
	if (!s->child)
		loop_stop(l);
}

static void start_relay(struct loop *l, struct conn_state *s, struct stream *sock);

static void on_dialogue_done(void *arg, const struct script_result *r)
{
	struct conn_state *s = arg;
	s->status = dialogue_report(&s->dlg, r);
	s->totals.sent = r->sent;
	s->totals.received = r->received;
	s->totals.ms = r->ms;
	s->have_totals = true;
	if (s->status != EXIT_OK || !s->dlg.then_relay) {
		loop_stop(s->loop);
		return;
	}
	/* --then-relay: what came after the last match is the relay's
	 * first output, then the connection is the relay's. */
	if (r->rest_len &&
	    (fwrite(r->rest, 1, r->rest_len, stdout) != r->rest_len || fflush(stdout) != 0)) {
		errmsg("standard output: %s", strerror(errno));
		s->status = EXIT_FAIL;
		loop_stop(s->loop);
		return;
	}
	struct stream *sock = s->sock;
	s->sock = NULL;
	start_relay(s->loop, s, sock);
}

static void on_dialogue_io(void *arg, bool sent, const char *p, size_t n)
{
	struct conn_state *s = arg;
	dialogue_io(&s->dlg, sent, p, n);
}

/* The dialogue instead of the relay; then connect exits. */
static void start_dialogue(struct loop *l, struct conn_state *s, struct stream *sock)
{
	char err[300];
	s->sock = sock;
	struct script_run_cfg cfg = {.sc = &s->dlg.sc,
				     .expect_ms = s->dlg.expect_ms,
				     .crlf = s->no.crlf,
				     .io = on_dialogue_io,
				     .done = on_dialogue_done,
				     .arg = s};
	s->dlg.t0 = clock_ms();
	s->run = script_run_start(l, sock, &cfg, err, sizeof err);
	if (!s->run) {
		errmsg("%s", err);
		s->status = EXIT_FAIL;
		loop_stop(l);
	}
}

/* The connection (or tunnel) is up: run the program, the dialogue or the
 * relay. */
static void start_session(struct loop *l, struct conn_state *s, struct stream *sock)
{
	s->ran = true;
	if (s->dlg.on) {
		start_dialogue(l, s, sock);
		return;
	}
	if ((s->no.exec_argv || s->no.sh_exec) && tls_is(sock)) {
		char err[300];
		struct spawn_env env;
		spawn_env_fill(&env, sock->fd);
		tls_env_facts(sock, env.tls_version, sizeof env.tls_version, env.tls_cipher,
			      sizeof env.tls_cipher, env.tls_subject, sizeof env.tls_subject);
		s->kids = children_new(l);
		s->exec_start = clock_ms();
		/* The relay owns the connection from here. */
		s->xr = s->kids ? spawn_relay_start(l, sock, s->no.exec_argv, s->no.sh_exec, &env,
						    &s->ro, s->peer, on_exec_relay_done, s,
						    &s->child, err, sizeof err)
				: NULL;
		if (!s->kids)
			stream_close(sock);
		if (!s->xr || children_add(s->kids, s->child, on_child, s) < 0) {
			errmsg("%s", s->kids && !s->xr ? err : strerror(errno));
			s->status = EXIT_FAIL;
			loop_stop(l);
		}
		return;
	}
	if (s->no.exec_argv || s->no.sh_exec) {
		char err[300];
		struct spawn_env env;
		/* The program's stdin and stdout are the socket itself. */
		int fd = stream_detach_fd(sock);
		spawn_env_fill(&env, fd);
		s->kids = children_new(l);
		if (!s->kids) {
			errmsg("child processes: %s", strerror(errno));
			close(fd);
			s->status = EXIT_FAIL;
			loop_stop(l);
			return;
		}
		s->exec_start = clock_ms();
		if ((g_opts.verbose || s->no.stats_json || s->no.stats_text) &&
		    tcp_totals(fd, &s->base_sent, &s->base_received) == 0)
			s->count_fd = fd; /* the program's data is counted by the kernel */
		s->child = spawn_child(fd, s->no.exec_argv, s->no.sh_exec, &env, err, sizeof err);
		if (s->count_fd < 0 || s->child < 0)
			close(fd);
		if (s->child < 0)
			s->count_fd = -1;
		if (s->child < 0) {
			errmsg("%s", err);
			s->status = EXIT_FAIL;
			loop_stop(l);
			return;
		}
		if (children_add(s->kids, s->child, on_child, s) < 0) {
			errmsg("child processes: %s", strerror(errno));
			s->status = EXIT_FAIL;
			loop_stop(l);
		}
		return;
	}
	start_relay(l, s, sock);
}

/* stdin to the connection, the connection to stdout. */
static void start_relay(struct loop *l, struct conn_state *s, struct stream *sock)
{
	s->sock = sock;
	s->ro.log = s->no.log_open ? &s->no.log : NULL;
	s->ro.crlf = s->no.crlf;
	s->sin = stream_fd_new(l, STDIN_FILENO, 0);
	s->sout = stream_fd_new(l, STDOUT_FILENO, 0);
	if (s->sin && s->sout)
		s->relay =
		    relay_start(l, s->sin, s->sout, s->sock, s->peer, &s->ro, on_relay_done, s);
	if (!s->relay) {
		errmsg("out of memory");
		s->status = EXIT_FAIL;
		loop_stop(l);
		return;
	}
	progress_start(&s->prog, l, &s->no, get_totals, s);
	if (!s->ro.recv_only)
		progress_size_from_stdin(&s->prog);
}

/* --cert-info and --expires-within once the handshake is done (kind:
 * a verification or pin failure the handshake let through for the
 * report): the exit status, or -1 to go on to the relay. */
static int check_cert(struct conn_state *s, struct stream *sock, enum tls_err kind,
		      const char *errtext)
{
	time_t now = time(NULL);
	if (!certopt_report(&s->cert, sock, now, true))
		return EXIT_FAIL;
	if (kind != TLS_E_NONE) {
		errmsg("%s", errtext);
		return tlsopt_exit(kind);
	}
	char why[128];
	int st = certopt_expiry(&s->cert, sock, now, why, sizeof why);
	if (st) {
		errmsg("%s: %s", s->peer, why);
		return st;
	}
	return s->cert.info != CERT_INFO_NONE ? EXIT_OK : -1;
}

static void on_tls(struct loop *l, struct stream *sock, enum tls_err kind, const char *errtext,
		   void *arg)
{
	struct conn_state *s = arg;
	s->hs = NULL;
	if (!sock) {
		errmsg("%s", errtext);
		s->status = tlsopt_exit(kind);
		loop_stop(l);
		return;
	}
	int st = check_cert(s, sock, kind, errtext);
	if (st >= 0) {
		s->ran = true;
		stream_close(sock);
		s->status = st;
		loop_stop(l);
		return;
	}
	start_session(l, s, sock);
}

static void start_tls(struct loop *l, struct conn_state *s, struct stream *sock);

static void on_starttls(struct loop *l, struct stream *sock, const char *errtext, void *arg)
{
	struct conn_state *s = arg;
	s->st = NULL;
	if (!sock) {
		errmsg("%s: %s", s->peer, errtext);
		s->status = EXIT_STARTTLS;
		loop_stop(l);
		return;
	}
	vmsg("STARTTLS (%s): the server agreed", starttls_proto_name(s->stproto));
	start_tls(l, s, sock);
}

/* The connection (or the tunnel) is up: TLS first, if asked for, after
 * the protocol's plaintext preamble with --starttls. */
static void connected(struct loop *l, struct conn_state *s, struct stream *sock)
{
	if (!s->tctx) {
		start_session(l, s, sock);
		return;
	}
	if (s->starttls) {
		char err[300], helo[256];
		if (gethostname(helo, sizeof helo) < 0 || !helo[0])
			snprintf(helo, sizeof helo, "localhost");
		helo[sizeof helo - 1] = 0;
		s->st = starttls_start(l, sock, s->stproto, s->tls_host, helo, s->tls.handshake_ms,
				       on_starttls, s, err, sizeof err);
		if (!s->st) {
			errmsg("%s", err);
			s->status = EXIT_FAIL;
			loop_stop(l);
		}
		return;
	}
	start_tls(l, s, sock);
}

static void start_tls(struct loop *l, struct conn_state *s, struct stream *sock)
{
	char err[300];
	s->hs = tls_handshake_start(l, s->tctx, sock, s->tls_host, s->tls.handshake_ms, on_tls, s,
				    err, sizeof err);
	if (!s->hs) {
		errmsg("%s", err);
		s->status = EXIT_FAIL;
		loop_stop(l);
	}
}

static void on_tunnel(struct loop *l, struct stream *sock, const char *errtext, void *arg)
{
	struct conn_state *s = arg;
	s->pc = NULL;
	if (!sock) {
		errmsg("%s: %s", s->peer, errtext);
		s->status = EXIT_FAIL;
		loop_stop(l);
		return;
	}
	vmsg("tunnel to %s port %u open through %s", s->pt.host, s->pt.port, s->peer);
	connected(l, s, sock);
}

static void on_connected(struct loop *l, struct stream *sock, int err, const char *errtext,
			 void *arg)
{
	(void)err;
	struct conn_state *s = arg;
	if (!sock) {
		errmsg("%s", errtext);
		s->status = EXIT_FAIL;
		loop_stop(l);
		return;
	}
	int fd = sock->fd;
	struct sock_addr peer, local;
	char lbuf[SOCK_ADDRSTRLEN];
	if (sock_peer_addr(fd, &peer) == 0)
		sock_addr_str((struct sockaddr *)&peer.ss, peer.len, s->peer, sizeof s->peer);
	if (g_opts.verbose && sock_local_addr(fd, &local) == 0)
		vmsg("connected to %s from %s (%s)", s->peer,
		     sock_addr_str((struct sockaddr *)&local.ss, local.len, lbuf, sizeof lbuf),
		     s->proto);
	char why[300];
	if (s->no.so.set && sockopt_apply(&s->no.so, fd, why, sizeof why) < 0) {
		errmsg("%s", why);
		stream_close(sock);
		s->status = EXIT_FAIL;
		loop_stop(l);
		return;
	}
	if (s->have_proxy) {
		/* The proxy's handshake takes the stream, and gives it back. */
		s->pc = proxy_start(l, sock, &s->pt, 0, on_tunnel, s, why, sizeof why);
		if (!s->pc) { /* sock is closed */
			errmsg("%s", why);
			s->status = EXIT_FAIL;
			loop_stop(l);
		}
		return;
	}
	connected(l, s, sock);
}

/* -z HOST PORTS...: several port words are one list ("80 443" is
 * "80,443"); HOST:PORTS works too. */
struct scan_print {
	bool json, open_only;
	struct sbuf line;
};

/* A port's line on stdout (the scan's data), in the order given. */
static void print_port(void *arg, const struct scan_result *r)
{
	struct scan_print *p = arg;
	if (p->open_only && r->state != SCAN_OPEN)
		return;
	sb_reset(&p->line);
	scan_format(&p->line, r, p->json);
	fputs(sb_str(&p->line), stdout);
}

static int run_scan(int argc, char **argv, int parallel, int timeout_ms, bool json, bool open_only,
		    bool syn)
{
	int nargs = argc - optind;
	const char *host, *ports;
	if (nargs < 2 && (nargs == 0 || !strchr(argv[optind], ':')))
		return usage_error("-z needs HOST and PORTS");
	int used = endpoint_operands(nargs, argv + optind, 0, 0, &host, &ports);
	if (used < 0)
		return EXIT_USAGE;
	size_t len = 0;
	for (int i = optind + used - 1; i < argc; i++)
		len += strlen(i == optind + used - 1 ? ports : argv[i]) + 1;
	char *list = malloc(len);
	if (!list) {
		errmsg("out of memory");
		return EXIT_FAIL;
	}
	strcpy(list, ports);
	for (int i = optind + used; i < argc; i++)
		strcat(strcat(list, ","), argv[i]);
	int status;
	struct loop *l = cmd_loop(0, &status);
	if (!l) {
		free(list);
		return status;
	}
	char err[300];
	struct scan_print pr = {.json = json, .open_only = open_only};
	sb_init(&pr.line);
	struct scan_opts so = {.parallel = parallel,
			       .timeout_ms = timeout_ms,
			       .family = g_opts.family,
			       .numeric = g_opts.numeric,
			       .syn = syn,
			       .result = print_port,
			       .arg = &pr,
			       .err = err,
			       .errlen = sizeof err};
	int r = scan_run(l, host, list, &so);
	fflush(stdout);
	sb_free(&pr.line);
	loop_free(l);
	free(list);
	if (r < 0) {
		/* A bad port list is the user's; a bad host or a loop failure is not. */
		if (strstr(err, "port") || strstr(err, "range") || strstr(err, "service") ||
		    strstr(err, "empty"))
			return usage_error("%s", err);
		errmsg("%s", err);
		return EXIT_FAIL;
	}
	return r;
}

static int connect_main(int argc, char **argv, struct conn_state **out)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"udp", no_argument, NULL, 'u'},
	    {"unix", required_argument, NULL, 'U'},
	    {"wait", required_argument, NULL, 'w'},
	    {"source", required_argument, NULL, 's'},
	    {"source-port", required_argument, NULL, 'p'},
	    {"scan", no_argument, NULL, 'z'},
	    {"parallel", required_argument, NULL, OPT_PARALLEL},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"open", no_argument, NULL, OPT_OPEN},
	    {"syn", no_argument, NULL, OPT_SYN},
	    PROXYOPT_LONGOPTS,
	    {"shutdown-delay", required_argument, NULL, OPT_SHUTDOWN_DELAY},
	    {"starttls", required_argument, NULL, OPT_STARTTLS},
	    CERTOPT_LONGOPTS,
	    NETOPT_LONGOPTS,
	    RELAYOPT_LONGOPTS,
	    TLSOPT_CLIENT_LONGOPTS,
	    DIALOGUE_CLIENT_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	/* Static: what the options allocate stays reachable however the
	 * command returns; it runs once per process. */
	static struct conn_state s;
	s = (struct conn_state){.status = EXIT_OK, .count_fd = -1};
	certopt_init(&s.cert);
	dialogue_init(&s.dlg, 0);
	*out = &s;
	bool scan = false, json = false, open_only = false, syn = false;
	long parallel = 0;
	struct relay_opts *ro = &s.ro;
	*ro = (struct relay_opts){
	    .quit_after_eof_ms = -1, .zero_copy = true, .shutdown_delay_ms = -1};
	struct sock_endpoint ep = {.socktype = SOCK_STREAM};
	struct connect_opts co = {0};
	int c, ms;
	/* -q is "quit after" here as in nc, not --quiet. */
	while ((c = cmd_getopt(argc, argv, "46vnhkuU:w:s:p:z" RELAYOPT_SHORTOPTS NETOPT_SHORTOPTS,
			       longopts)) != -1) {
		if (c == 'k')
			c = TOPT_INSECURE;
		int nr = netopt_handle(&s.no, c, optarg);
		if (nr == 0)
			nr = relayopt_handle(ro, c, optarg);
		if (nr == 0)
			nr = tlsopt_handle(&s.tls, c, optarg);
		if (nr == 0)
			nr = proxyopt_handle(&s.px, c, optarg);
		if (nr == 0)
			nr = certopt_handle(&s.cert, c, optarg);
		if (nr == 0 && (nr = dialogue_opt(&s.dlg, c, optarg)) < 0)
			return dialogue_status();
		if (nr < 0)
			return EXIT_USAGE;
		if (nr > 0)
			continue;
		switch (c) {
		case 'z':
			scan = true;
			break;
		case OPT_STARTTLS:
			if (!starttls_proto_parse(optarg, &s.stproto))
				return usage_error("unknown --starttls '%s' (give %s)", optarg,
						   starttls_proto_list);
			/* The preamble, then TLS: --starttls is --tls too. */
			if (tlsopt_handle(&s.tls, TOPT_TLS, NULL) < 0)
				return EXIT_USAGE;
			s.starttls = true;
			break;
		case OPT_PARALLEL:
			if (!parse_long(optarg, 1, 65535, &parallel))
				return usage_error("invalid --parallel '%s': give 1-65535", optarg);
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_OPEN:
			open_only = true;
			break;
		case OPT_SYN:
			syn = true;
			break;
		case OPT_SHUTDOWN_DELAY:
			if (!parse_seconds(optarg, &ro->shutdown_delay_ms))
				return usage_error(
				    "invalid --shutdown-delay '%s': give seconds >= 0", optarg);
			break;
		case 'h':
			return print_help(help);
		case 'u':
			ep.socktype = SOCK_DGRAM;
			break;
		case 'U':
			if (!opt_unix_path(optarg))
				return EXIT_USAGE;
			ep.unix_path = optarg;
			break;
		case 'w':
			if (!parse_seconds(optarg, &ms) || ms == 0)
				return usage_error("invalid -w '%s': give seconds > 0", optarg);
			co.timeout_ms = ms;
			break;
		case 's':
			if (!(co.src_host = opt_host("-s", optarg)))
				return EXIT_USAGE;
			break;
		case 'p':
			co.src_port = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (relayopt_check(ro) || tlsopt_check(&s.tls, TLS_CLIENT))
		return EXIT_USAGE;
	bool exec = s.no.exec_argv || s.no.sh_exec;
	if (!s.tls.on && certopt_on(&s.cert))
		return usage_error("%s needs --tls", certopt_name(&s.cert));
	if (s.cert.info && exec)
		return usage_error("--cert-info prints and exits: no --exec");
	/* The report needs the handshake done even when the certificate
	 * fails, to show what it was. */
	s.tls.cfg.report_failures = s.cert.info != CERT_INFO_NONE;
	if (s.tls.on && (scan || ep.socktype == SOCK_DGRAM))
		return usage_error("--tls is for TCP connections: DTLS (-u) is not offered, nor "
				   "-z");
	if ((s.dlg.expect_ms >= 0 || s.dlg.then_relay) && !s.dlg.on)
		return usage_error("%s goes with --send, --expect or --script",
				   s.dlg.then_relay ? "--then-relay" : "--expect-timeout");
	if (s.dlg.on) {
		if (scan || exec || s.cert.info)
			return usage_error("--send, --expect and --script play a dialogue: no -z, "
					   "--exec or --cert-info");
		if (!s.dlg.then_relay &&
		    (s.no.log_raw || s.no.log_hex || s.no.progress || ro->send_only ||
		     ro->recv_only || ro->no_shutdown || ro->quit_after_eof_ms >= 0 ||
		     ro->shutdown_delay_ms >= 0 || ro->idle_ms > 0))
			return usage_error("a dialogue has no relay (without --then-relay): no -o, "
					   "-x, --progress, -i, -q, --send-only, --recv-only, "
					   "--no-shutdown or --shutdown-delay");
		if (s.dlg.then_relay && (json || (s.dlg.file && strcmp(s.dlg.file, "-") == 0)))
			return usage_error("--then-relay relays stdin and stdout: no --json or "
					   "--script -");
		s.dlg.json = json;
		json = false;
	}
	if (scan) {
		if (ep.unix_path || ep.socktype == SOCK_DGRAM || proxyopt_on(&s.px) || exec)
			return usage_error(
			    "-z scans TCP ports directly: no -u, -U, --proxy or --exec");
		if (s.no.log_raw || s.no.log_hex || s.no.crlf || s.no.progress || s.no.stats_json ||
		    s.no.stats_text || s.no.so.set)
			return usage_error(
			    "-z prints one line per port: no -o, -x, -C, --progress, "
			    "--stats or socket options");
		return run_scan(argc, argv, (int)parallel, co.timeout_ms, json, open_only, syn);
	}
	if (parallel || json || open_only || syn)
		return usage_error("--parallel, --json, --open and --syn go with -z");
	if (exec && (s.no.log_raw || s.no.log_hex || s.no.crlf || s.no.progress))
		return usage_error("-o, -x, -C and --progress do not apply with --exec");
	int nargs = argc - optind;
	if (ep.unix_path) {
		if (nargs != 0)
			return usage_error("with -U PATH, give no HOST or PORT");
		if (co.src_host || co.src_port)
			return usage_error("-s/-p do not apply to Unix sockets");
	} else {
		if (endpoint_operands(nargs, argv + optind, ENDPOINT_EXACT, ep.socktype, &ep.host,
				      &ep.port) < 0)
			return EXIT_USAGE;
		char err[SOCK_ERRLEN];
		uint16_t port;
		if (co.src_port &&
		    !sock_parse_port(co.src_port, ep.socktype, false, &port, err, sizeof err))
			return usage_error("-p: %s", err);
	}
	ep.family = g_opts.family;
	ep.numeric = g_opts.numeric;
	s.tls_host = ep.host; /* the name the certificate must carry */
	if (proxyopt_on(&s.px)) {
		if (ep.unix_path || ep.socktype == SOCK_DGRAM)
			return usage_error("--proxy works with TCP only");
		s.report = true; /* a failed lookup (--proxy-dns local) is a runtime failure */
	}
	int pst = proxyopt_apply(&s.px, &ep);
	if (pst)
		return pst;
	if (proxyopt_on(&s.px)) {
		s.have_proxy = true;
		s.pt = s.px.pt;
	}
	if (s.no.so.set & SOCKOPT_REUSEPORT)
		return usage_error("--reuseport is for serve");
	if (s.no.so.set) {
		co.prepare = netopt_prepare;
		co.prepare_arg = &s.no.so;
	}
	s.report = true;
	s.t0 = clock_ms();
	int tst;
	if (s.tls.on && !(s.tctx = tlsopt_ctx(&s.tls, &tst)))
		return tst;
	if (netopt_open_logs(&s.no) < 0)
		return EXIT_FAIL;
	ro->dgram = ep.socktype == SOCK_DGRAM;
	ro->dgram_wait_ms = 1000;
	/* Through a proxy the reply must not be lost to a proxy that closes
	 * the whole tunnel on our half-close (ncat's HTTP proxy, microsocks). */
	if (ro->shutdown_delay_ms < 0)
		ro->shutdown_delay_ms = s.have_proxy ? PROXY_SHUTDOWN_DELAY_MS : 0;
	ro->tunnel = s.have_proxy;
	ro->local_is_tty = isatty(STDIN_FILENO);
	s.proto = sock_proto_name(ep.unix_path ? AF_UNIX : AF_INET, ep.socktype);

	int status;
	struct loop *l = cmd_loop(16, &status);
	if (!l)
		return status;
	s.loop = l;
	char err[SOCK_ERRLEN];
	struct connector *cn = connector_start(l, &ep, &co, on_connected, &s, err, sizeof err);
	if (!cn) {
		errmsg("%s", err);
		loop_free(l);
		return EXIT_FAIL;
	}
	if (loop_run(l) < 0) {
		errmsg("event loop (%s): %s", loop_backend(l), strerror(errno));
		s.status = EXIT_FAIL;
	}
	progress_stop(&s.prog, l);
	if (s.pc)
		proxy_cancel(s.pc);
	tls_handshake_cancel(s.hs);
	starttls_cancel(s.st);
	spawn_relay_free(s.xr);
	relay_free(s.relay);
	script_run_free(s.run);
	stream_close(s.sin);
	stream_close(s.sout);
	stream_close(s.sock);
	children_free(s.kids);
	if (s.count_fd >= 0)
		close(s.count_fd);
	if (s.child > 0) {
		/* Stopped before the program ended (a loop failure): do not
		 * leave it behind. */
		kill(s.child, SIGTERM);
		waitpid(s.child, NULL, 0);
	}
	tls_ctx_free(s.tctx);
	tlsopt_free(&s.tls);
	proxyopt_free(&s.px);
	loop_free(l);
	netopt_close_logs(&s.no);
	spawn_words_free(s.no.exec_argv);
	dialogue_free(&s.dlg);
	return s.status;
}

int cmd_connect(int argc, char **argv)
{
	struct conn_state *s = NULL;
	int status = connect_main(argc, argv, &s);
	/* Totals once the command line was accepted, whatever happened
	 * next: a connection that failed reports zeros and why. */
	if (s && s->report && (status != EXIT_USAGE || s->ran)) {
		struct netopt_totals *t = &s->totals;
		t->kind = TOTALS_CLIENT;
		t->connections = s->ran;
		t->started = s->have_totals;
		if (!s->have_totals)
			t->ms = clock_ms() - s->t0;
		if (status != EXIT_OK)
			t->error = s->why[0] ? s->why : errmsg_last();
		netopt_report(&s->no, t);
	}
	return status;
}
