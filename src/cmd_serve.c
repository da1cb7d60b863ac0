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

#include "cmd.h"
#include "serve.h"

static const char help[] =
    "usage: sockctl serve [options] [ADDRESS] PORT\n"
    "       sockctl serve [options] -U PATH\n"
    "\n"
    "Listen on ADDRESS (default 127.0.0.1; \"*\" for all) and PORT (0 picks a free\n"
    "one), print the readiness line on stderr:\n"
    "  sockctl: listening on 127.0.0.1:40123 (tcp, mux=epoll)\n"
    "then serve. By default one client's data goes to stdout and stdin goes to\n"
    "the client, like nc -l; the exit status is that client's.\n"
    "\n"
    "Handlers:\n"
    "      --echo           send back what each client sends\n"
    "      --upper          the same, ASCII letters upper-cased\n"
    "      --discard        read and drop\n"
    "      --respond TEXT   send TEXT (or @FILE's contents), then close\n"
    "\n"
    "Options:\n"
    "  -k, --keep-open      serve many clients at once, until stopped; in relay\n"
    "                       mode stdin goes to every client and every client's\n"
    "                       data to stdout\n"
    "  -u, --udp            UDP: every sender is answered (echo/upper/respond per\n"
    "                       datagram); relay mode sends stdin to every sender seen\n"
    "  -U, --unix PATH      Unix stream socket (with -u: datagram); @NAME is abstract\n"
    "  -i, --idle SECS      close a connection after SECS without data\n"
    "  -q, --quit-after SECS  relay: stop SECS after stdin EOF\n"
    "      --no-shutdown    relay: do not shut down the write side on stdin EOF\n"
    "      --send-only      relay: only send stdin to the client\n"
    "      --recv-only      relay: only print what the client sends\n"
    "      --backlog N      listen backlog (default SOMAXCONN)\n"
    "      --no-zero-copy   always copy through a buffer (no splice/sendfile)\n"
    "  -4, -6, -n, -v, --mux=NAME   global options (see sockctl --help)\n"
    "\n"
    "SIGINT or SIGTERM stop the server cleanly (exit 0).\n"
    "Exit status: 0 done, 1 failure, 2 usage error.\n";

enum {
	OPT_ECHO = OPT_BASE,
	OPT_UPPER,
	OPT_DISCARD,
	OPT_RESPOND,
	OPT_NO_SHUTDOWN,
	OPT_SEND_ONLY,
	OPT_RECV_ONLY,
	OPT_BACKLOG,
	OPT_NO_ZC
};

static int set_handler(struct server *s, enum serve_handler h, const char *name)
{
	if (s->handler != H_RELAY && s->handler != h)
		return usage_error("choose one handler (%s conflicts with an earlier one)", name);
	s->handler = h;
	return 0;
}

static int load_respond(struct server *s, const char *arg)
{
	if (arg[0] != '@') {
		s->respond = arg;
		s->respond_len = strlen(arg);
		return 0;
	}
	int fd = open(arg + 1, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		errmsg("--respond %s: %s", arg + 1, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > 64 * 1024 * 1024) {
		errmsg("--respond %s: not a regular file of at most 64 MiB", arg + 1);
		close(fd);
		return -1;
	}
	char *p = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (p && got < (size_t)st.st_size) {
		ssize_t n = read(fd, p + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!p || got != (size_t)st.st_size) {
		errmsg("--respond %s: could not read the file", arg + 1);
		free(p);
		return -1;
	}
	s->respond = p;
	s->respond_len = got;
	s->respond_owned = true;
	return 0;
}

static void on_stop_signal(struct loop *l, int signo, void *arg)
{
	struct server *s = arg;
	s->stopping = true;
	vmsg("%s: stopping", strsignal(signo));
	loop_stop(l);
}

int cmd_serve(int argc, char **argv)
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
	    {"idle", required_argument, NULL, 'i'},
	    {"quit-after", required_argument, NULL, 'q'},
	    {"no-shutdown", no_argument, NULL, OPT_NO_SHUTDOWN},
	    {"send-only", no_argument, NULL, OPT_SEND_ONLY},
	    {"recv-only", no_argument, NULL, OPT_RECV_ONLY},
	    {"backlog", required_argument, NULL, OPT_BACKLOG},
	    {"no-zero-copy", no_argument, NULL, OPT_NO_ZC},
	    {NULL, 0, NULL, 0},
	};
	struct server s = {.lfd = -1, .reserve_fd = -1, .handler = H_RELAY};
	s.ro = (struct relay_opts){.quit_after_eof_ms = -1, .zero_copy = true};
	struct sock_endpoint ep = {.socktype = SOCK_STREAM};
	struct sock_listen_opts lo = {0};
	const char *respond_arg = NULL;
	int c, ms, r;
	long v;
	while ((c = cmd_getopt(argc, argv, "46vnhkuU:i:q:", longopts)) != -1) {
		switch (c) {
		case 'h':
			return print_help(help);
		case OPT_ECHO:
			if ((r = set_handler(&s, H_ECHO, "--echo")))
				return r;
			break;
		case OPT_UPPER:
			if ((r = set_handler(&s, H_UPPER, "--upper")))
				return r;
			break;
		case OPT_DISCARD:
			if ((r = set_handler(&s, H_DISCARD, "--discard")))
				return r;
			break;
		case OPT_RESPOND:
			if ((r = set_handler(&s, H_RESPOND, "--respond")))
				return r;
			respond_arg = optarg;
			break;
		case 'k':
			s.keep_open = true;
			break;
		case 'u':
			ep.socktype = SOCK_DGRAM;
			break;
		case 'U':
			ep.unix_path = optarg;
			break;
		case 'i':
			if (!parse_seconds(optarg, &ms) || ms == 0)
				return usage_error("invalid -i '%s': give seconds > 0", optarg);
			s.idle_ms = ms;
			s.ro.idle_ms = ms;
			break;
		case 'q':
			if (!parse_seconds(optarg, &ms))
				return usage_error("invalid -q '%s': give seconds >= 0", optarg);
			s.ro.quit_after_eof_ms = ms;
			break;
		case OPT_NO_SHUTDOWN:
			s.ro.no_shutdown = true;
			break;
		case OPT_SEND_ONLY:
			s.ro.send_only = true;
			break;
		case OPT_RECV_ONLY:
			s.ro.recv_only = true;
			break;
		case OPT_BACKLOG:
			if (!parse_long(optarg, 1, 65535, &v))
				return usage_error("invalid --backlog '%s': give 1-65535", optarg);
			lo.backlog = (int)v;
			break;
		case OPT_NO_ZC:
			s.ro.zero_copy = false;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (s.ro.send_only && s.ro.recv_only)
		return usage_error("--send-only and --recv-only exclude each other");
	int nargs = argc - optind;
	if (ep.unix_path) {
		if (nargs)
			return usage_error("with -U PATH, give no ADDRESS or PORT");
	} else if (nargs == 0) {
		return usage_error("missing PORT (0 picks a free one)");
	} else if (nargs > 2) {
		return usage_error("unexpected argument '%s'", argv[optind + 2]);
	} else {
		ep.host = nargs == 2 ? argv[optind] : NULL;
		ep.port = argv[optind + nargs - 1];
		char err[SOCK_ERRLEN];
		uint16_t port;
		if (!sock_parse_port(ep.port, ep.socktype, true, &port, err, sizeof err))
			return usage_error("%s", err);
	}
	ep.family = g_opts.family;
	ep.numeric = g_opts.numeric;
	s.dgram = ep.socktype == SOCK_DGRAM;
	s.ro.dgram = s.dgram;
	s.ro.local_is_tty = isatty(STDIN_FILENO);
	if (respond_arg && load_respond(&s, respond_arg) < 0)
		return EXIT_FAIL;

	raise_fd_limit();
	int status;
	s.loop = cmd_loop(1024, &status);
	if (!s.loop)
		return status;
	char err[SOCK_ERRLEN];
	struct sock_addr bound;
	s.lfd = sock_listen(&ep, &lo, &bound, err, sizeof err);
	if (s.lfd < 0) {
		errmsg("%s", err);
		loop_free(s.loop);
		return EXIT_FAIL;
	}
	s.family = bound.ss.ss_family;
	s.proto = sock_proto_name(s.family, ep.socktype);
	loop_signal(s.loop, SIGINT, on_stop_signal, &s);
	loop_signal(s.loop, SIGTERM, on_stop_signal, &s);
	if (s.dgram)
		r = serve_dgram_start(&s);
	else {
		serve_stream_start(&s);
		r = 0;
	}
	if (r < 0) {
		errmsg("watch socket: %s", strerror(errno));
		s.status = EXIT_FAIL;
	} else {
		char a[SOCK_ADDRSTRLEN];
		/* The readiness line: scripts and tests wait for it. */
		fprintf(stderr, "sockctl: listening on %s (%s, mux=%s)\n",
			sock_addr_str((struct sockaddr *)&bound.ss, bound.len, a, sizeof a),
			s.proto, loop_backend(s.loop));
		if (loop_run(s.loop) < 0) {
			errmsg("event loop (%s): %s", loop_backend(s.loop), strerror(errno));
			s.status = EXIT_FAIL;
		}
	}
	if (s.dgram)
		serve_dgram_cleanup(&s);
	else
		serve_stream_cleanup(&s);
	if (s.lfd >= 0)
		close(s.lfd);
	if (ep.unix_path && ep.unix_path[0] != '@')
		unlink(ep.unix_path);
	if (s.respond_owned)
		free((char *)s.respond);
	loop_free(s.loop);
	return s.status;
}
