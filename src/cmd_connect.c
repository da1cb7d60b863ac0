/* sockctl connect: a client like `nc HOST PORT` that loses nothing. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "connector.h"
#include "relay.h"
#include "sock.h"

static const char help[] =
    "usage: sockctl connect [options] HOST PORT\n"
    "       sockctl connect [options] -U PATH\n"
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
    "  -4, -6, -n, -v, --mux=NAME   global options (see sockctl --help)\n"
    "\n"
    "-v prints the connection and, at exit, the bytes each way and the time.\n"
    "Exit status: 0 done, 1 connection or transfer failed, 2 usage error.\n";

enum { OPT_NO_SHUTDOWN = OPT_BASE, OPT_SEND_ONLY, OPT_RECV_ONLY, OPT_NO_ZC };

struct conn_state {
	int status;
	int fd;
	struct relay *relay;
	struct relay_opts ro;
	char peer[SOCK_ADDRSTRLEN];
	const char *proto;
};

static void on_relay_done(struct loop *l, int status, const char *errtext, void *arg)
{
	struct conn_state *s = arg;
	if (errtext && *errtext)
		errmsg("%s", errtext);
	s->status = status;
	struct relay_stats st;
	relay_get_stats(s->relay, &st);
	vmsg("sent %llu bytes, received %llu bytes in %.3f s", (unsigned long long)st.sent,
	     (unsigned long long)st.received, (double)(st.end_ms - st.start_ms) / 1000.0);
	loop_stop(l);
}

static void on_connected(struct loop *l, int fd, int err, const char *errtext, void *arg)
{
	struct conn_state *s = arg;
	if (fd < 0) {
		errmsg("%s", errtext);
		s->status = EXIT_FAIL;
		loop_stop(l);
		return;
	}
	s->fd = fd;
	struct sock_addr peer, local;
	char lbuf[SOCK_ADDRSTRLEN];
	if (sock_peer_addr(fd, &peer) == 0)
		sock_addr_str((struct sockaddr *)&peer.ss, peer.len, s->peer, sizeof s->peer);
	if (g_opts.verbose && sock_local_addr(fd, &local) == 0)
		vmsg("connected to %s from %s (%s)", s->peer,
		     sock_addr_str((struct sockaddr *)&local.ss, local.len, lbuf, sizeof lbuf),
		     s->proto);
	s->relay =
	    relay_start(l, STDIN_FILENO, STDOUT_FILENO, fd, s->peer, &s->ro, on_relay_done, s);
	if (!s->relay) {
		errmsg("out of memory");
		s->status = EXIT_FAIL;
		loop_stop(l);
	}
}

int cmd_connect(int argc, char **argv)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"udp", no_argument, NULL, 'u'},
	    {"unix", required_argument, NULL, 'U'},
	    {"wait", required_argument, NULL, 'w'},
	    {"idle", required_argument, NULL, 'i'},
	    {"quit-after", required_argument, NULL, 'q'},
	    {"no-shutdown", no_argument, NULL, OPT_NO_SHUTDOWN},
	    {"send-only", no_argument, NULL, OPT_SEND_ONLY},
	    {"recv-only", no_argument, NULL, OPT_RECV_ONLY},
	    {"source", required_argument, NULL, 's'},
	    {"source-port", required_argument, NULL, 'p'},
	    {"no-zero-copy", no_argument, NULL, OPT_NO_ZC},
	    {NULL, 0, NULL, 0},
	};
	struct conn_state s = {.status = EXIT_OK, .fd = -1};
	struct relay_opts *ro = &s.ro;
	*ro = (struct relay_opts){.quit_after_eof_ms = -1, .zero_copy = true};
	struct sock_endpoint ep = {.socktype = SOCK_STREAM};
	struct connect_opts co = {0};
	int c, ms;
	/* -q is "quit after" here as in nc, not --quiet. */
	while ((c = cmd_getopt(argc, argv, "46vnhuU:w:i:q:s:p:", longopts)) != -1) {
		switch (c) {
		case 'h':
			return print_help(help);
		case 'u':
			ep.socktype = SOCK_DGRAM;
			break;
		case 'U':
			ep.unix_path = optarg;
			break;
		case 'w':
			if (!parse_seconds(optarg, &ms) || ms == 0)
				return usage_error("invalid -w '%s': give seconds > 0", optarg);
			co.timeout_ms = ms;
			break;
		case 'i':
			if (!parse_seconds(optarg, &ms) || ms == 0)
				return usage_error("invalid -i '%s': give seconds > 0", optarg);
			ro->idle_ms = ms;
			break;
		case 'q':
			if (!parse_seconds(optarg, &ms))
				return usage_error("invalid -q '%s': give seconds >= 0", optarg);
			ro->quit_after_eof_ms = ms;
			break;
		case OPT_NO_SHUTDOWN:
			ro->no_shutdown = true;
			break;
		case OPT_SEND_ONLY:
			ro->send_only = true;
			break;
		case OPT_RECV_ONLY:
			ro->recv_only = true;
			break;
		case OPT_NO_ZC:
			ro->zero_copy = false;
			break;
		case 's':
			co.src_host = optarg;
			break;
		case 'p':
			co.src_port = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (ro->send_only && ro->recv_only)
		return usage_error("--send-only and --recv-only exclude each other");
	int nargs = argc - optind;
	if (ep.unix_path) {
		if (nargs != 0)
			return usage_error("with -U PATH, give no HOST or PORT");
		if (co.src_host || co.src_port)
			return usage_error("-s/-p do not apply to Unix sockets");
	} else {
		if (nargs < 2)
			return usage_error(nargs ? "missing PORT" : "missing HOST and PORT");
		if (nargs > 2)
			return usage_error("unexpected argument '%s'", argv[optind + 2]);
		ep.host = argv[optind];
		ep.port = argv[optind + 1];
		char err[SOCK_ERRLEN];
		uint16_t port;
		if (!sock_parse_port(ep.port, ep.socktype, false, &port, err, sizeof err))
			return usage_error("%s", err);
		if (co.src_port &&
		    !sock_parse_port(co.src_port, ep.socktype, false, &port, err, sizeof err))
			return usage_error("source %s", err);
	}
	ep.family = g_opts.family;
	ep.numeric = g_opts.numeric;
	ro->dgram = ep.socktype == SOCK_DGRAM;
	ro->dgram_wait_ms = 1000;
	ro->local_is_tty = isatty(STDIN_FILENO);
	s.proto = sock_proto_name(ep.unix_path ? AF_UNIX : AF_INET, ep.socktype);

	int status;
	struct loop *l = cmd_loop(16, &status);
	if (!l)
		return status;
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
	relay_free(s.relay);
	if (s.fd >= 0)
		close(s.fd);
	loop_free(l);
	return s.status;
}
