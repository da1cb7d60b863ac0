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

#include "net/activation.h"
#include "tool/cmd.h"
#include "serve/serve.h"
#include "proc/spawn.h"
#include "core/text_escape.h"
#include "proc/workers.h"

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
    "\n" NETOPT_HELP "\n"
    "SIGINT or SIGTERM stop the server cleanly (exit 0).\n"
    "Exit status: 0 done, 1 failure, 2 usage error; without -k, --exec gives the\n"
    "program's status.\n";

enum {
	OPT_ECHO = OPT_BASE,
	OPT_UPPER,
	OPT_DISCARD,
	OPT_RESPOND,
	OPT_BACKLOG,
	OPT_MODEL,
	OPT_WORKERS,
	OPT_ALLOW,
	OPT_DENY,
	OPT_ALLOW_FILE,
	OPT_DENY_FILE,
	OPT_FD,
	OPT_BROKER,
	OPT_STALL_TIMEOUT,
};

static void get_totals(void *arg, uint64_t *sent, uint64_t *received)
{
	const struct server *s = arg;
	uint64_t in, out;
	model_totals_get(s->jt, &in, &out);
	*sent = s->bytes_out + out;
	*received = s->bytes_in + in;
}

static void print_ready(const struct sock_addr *bound, const char *proto, const char *mux)
{
	char a[SOCK_ADDRSTRLEN];
	/* The readiness line: scripts and tests wait for it. In order with
	 * the queued diagnostics (errline), but not an error: --stats=json
	 * reports the last errmsg as the failure. */
	errline("sockctl: listening on %s (%s, mux=%s)\n",
		sock_addr_str((const struct sockaddr *)&bound->ss, bound->len, a, sizeof a), proto,
		mux);
}

static int set_handler(struct server *s, enum serve_handler h, const char *name)
{
	if (s->handler != H_RELAY && s->handler != h)
		return usage_error("choose one handler (%s conflicts with an earlier one)", name);
	s->handler = h;
	return 0;
}

/* --respond TEXT (backslash escapes decoded) or @FILE (sent as it is):
 * 0, or the exit status after the message. */
static int load_respond(struct server *s, const char *arg)
{
	if (arg[0] != '@') {
		char err[128], *text;
		long n = text_unescape_dup(arg, &text, err, sizeof err);
		if (n < 0)
			return usage_error("--respond: %s", err);
		s->respond = text;
		s->respond_len = (size_t)n;
		s->respond_owned = true;
		return 0;
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
		return EXIT_FAIL;
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

static int serve_main(int argc, char **argv, struct serve_report *rep)
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
	    {"allow", required_argument, NULL, OPT_ALLOW},
	    {"deny", required_argument, NULL, OPT_DENY},
	    {"allow-file", required_argument, NULL, OPT_ALLOW_FILE},
	    {"deny-file", required_argument, NULL, OPT_DENY_FILE},
	    {"fd", required_argument, NULL, OPT_FD},
	    {"broker", no_argument, NULL, OPT_BROKER},
	    {"stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT},
	    NETOPT_LONGOPTS,
	    RELAYOPT_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	/* Static: what the options allocate stays reachable however the
	 * command returns (usage errors return early), and the command runs
	 * once per process. */
	static struct server s;
	static struct netopts no;
	s = (struct server){
	    .lfd = -1, .reserve_fd = -1, .handler = H_RELAY, .notify = {-1, -1}, .stall_ms = -1};
	no = (struct netopts){0};
	s.no = &no;
	acl_init(&s.acl);
	long workers = 1;
	const char *fd_arg = NULL;
	char aclerr[400];
	s.ro = (struct relay_opts){.quit_after_eof_ms = -1, .zero_copy = true};
	struct sock_endpoint ep = {.socktype = SOCK_STREAM};
	struct sock_listen_opts lo = {0};
	const char *respond_arg = NULL;
	int c, r;
	long v;
	while ((c = cmd_getopt(argc, argv, "46vnhkuU:m:" RELAYOPT_SHORTOPTS NETOPT_SHORTOPTS,
			       longopts)) != -1) {
		int nr = netopt_handle(&no, c, optarg);
		if (nr == 0)
			nr = relayopt_handle(&s.ro, c, optarg);
		if (nr < 0)
			return EXIT_USAGE;
		if (nr > 0)
			continue;
		switch (c) {
		case OPT_MODEL:
			if (!model_parse(optarg, &s.model))
				return usage_error(
				    "invalid --model '%s': give loop, fork or thread", optarg);
			break;
		case OPT_WORKERS:
			if (!parse_long(optarg, 1, 256, &workers))
				return usage_error("invalid --workers '%s': give 1-256", optarg);
			break;
		case 'm':
			if (!parse_long(optarg, 1, 1000000, &s.max_conns))
				return usage_error("invalid --max-conns '%s': give 1-1000000",
						   optarg);
			break;
		case OPT_ALLOW:
		case OPT_DENY:
			if (acl_add(&s.acl, c == OPT_ALLOW, optarg, aclerr, sizeof aclerr) < 0)
				return usage_error("--%s: %s", c == OPT_ALLOW ? "allow" : "deny",
						   aclerr);
			break;
		case OPT_ALLOW_FILE:
		case OPT_DENY_FILE:
			if (acl_add_file(&s.acl, c == OPT_ALLOW_FILE, optarg, aclerr,
					 sizeof aclerr) < 0) {
				errmsg("--%s: %s", c == OPT_ALLOW_FILE ? "allow-file" : "deny-file",
				       aclerr);
				return EXIT_FAIL;
			}
			break;
		case OPT_FD:
			fd_arg = optarg;
			break;
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
			if (strcmp(optarg, "@") == 0)
				return usage_error("--respond @FILE needs a file name");
			respond_arg = optarg;
			break;
		case OPT_BROKER:
			if ((r = set_handler(&s, H_BROKER, "--broker")))
				return r;
			s.keep_open = true;
			break;
		case OPT_STALL_TIMEOUT:
			if (!parse_seconds(optarg, &s.stall_ms) || s.stall_ms == 0)
				return usage_error("invalid --stall-timeout '%s': give seconds > 0",
						   optarg);
			break;
		case 'k':
			s.keep_open = true;
			break;
		case 'u':
			ep.socktype = SOCK_DGRAM;
			break;
		case 'U':
			if (!opt_unix_path(optarg))
				return EXIT_USAGE;
			ep.unix_path = optarg;
			break;
		case OPT_BACKLOG:
			if (!parse_long(optarg, 1, 65535, &v))
				return usage_error("invalid --backlog '%s': give 1-65535", optarg);
			lo.backlog = (int)v;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (relayopt_check(&s.ro))
		return EXIT_USAGE;
	s.idle_ms = s.ro.idle_ms;
	bool exec = no.exec_argv || no.sh_exec;
	if (exec && s.handler != H_RELAY)
		return usage_error("--exec/--sh-exec replace the built-in handlers: give one");
	if (s.handler == H_BROKER &&
	    (ep.socktype == SOCK_DGRAM || s.model != MODEL_LOOP || workers > 1))
		return usage_error("--broker relays between the stream clients of one process: "
				   "not with -u, --model or --workers");
	if (s.handler == H_BROKER &&
	    (s.ro.send_only || s.ro.recv_only || s.ro.no_shutdown || s.ro.quit_after_eof_ms >= 0))
		return usage_error("--send-only, --recv-only, --no-shutdown and -q are for the "
				   "relay, not --broker");
	if (s.stall_ms > 0 && s.handler != H_BROKER)
		return usage_error("--stall-timeout goes with --broker");
	if (s.stall_ms < 0)
		s.stall_ms = 5000;
	if (s.model != MODEL_LOOP && s.handler == H_RELAY && !exec)
		return usage_error("--model=%s runs --echo, --upper, --discard or --respond",
				   model_name(s.model));
	if (ep.socktype == SOCK_DGRAM && (s.model != MODEL_LOOP || (s.max_conns && !exec)))
		return usage_error("--model is for stream servers; with -u, -m limits the --exec "
				   "programs");
	if (ep.unix_path && !acl_empty(&s.acl))
		return usage_error("--allow and --deny match IP addresses: not with -U");
	if (workers > 1 && !s.keep_open)
		return usage_error("--workers needs -k");
	if (workers > 1 && (s.handler == H_RELAY && !exec))
		return usage_error("--workers runs a handler or a program, not the stdin relay");
	if (workers > 1 && fd_arg)
		return usage_error("--workers makes its own sockets: no --fd");
	if (exec && (no.log_raw || no.log_hex || no.crlf))
		return usage_error("-o, -x and -C do not apply with --exec");
	if (s.model != MODEL_LOOP && (no.log_raw || no.log_hex || no.progress))
		return usage_error("-o, -x and --progress go with --model=loop");
	int nargs = argc - optind;
	struct activated act = {.fd = -1};
	char aerr[SOCK_ERRLEN];
	int nfds = activation_listen_fds(true, aerr, sizeof aerr);
	if (nfds < 0) {
		errmsg("socket activation: %s", aerr);
		return EXIT_FAIL;
	}
	if (fd_arg || nfds > 0) {
		if (nargs || ep.unix_path)
			return usage_error("with %s, give no ADDRESS, PORT or -U",
					   fd_arg ? "--fd" : "LISTEN_FDS");
		if (nfds > 1)
			errmsg("socket activation: %d sockets passed, serving the first", nfds);
		int r2 = fd_arg ? activation_fd(fd_arg, &act, aerr, sizeof aerr)
				: activation_check(3, &act, aerr, sizeof aerr);
		if (r2 < 0) {
			if (fd_arg && strncmp(aerr, "bad --fd", 8) == 0)
				return usage_error("%s", aerr);
			errmsg("%s", aerr);
			return EXIT_FAIL;
		}
		ep.socktype = act.socktype;
	} else if (ep.unix_path) {
		if (nargs)
			return usage_error("with -U PATH, give no ADDRESS or PORT");
	} else {
		if (endpoint_operands(nargs, argv + optind, ENDPOINT_LISTEN | ENDPOINT_EXACT,
				      ep.socktype, &ep.host, &ep.port) < 0)
			return EXIT_USAGE;
	}
	ep.family = g_opts.family;
	ep.numeric = g_opts.numeric;
	s.dgram = ep.socktype == SOCK_DGRAM;
	s.ro.dgram = s.dgram;
	s.ro.local_is_tty = isatty(STDIN_FILENO);
	if (respond_arg && (r = load_respond(&s, respond_arg)))
		return r;
	if (s.respond && no.crlf && s.respond_len) {
		/* -C: the response goes out with CRLF line endings. */
		char *t = malloc(2 * s.respond_len);
		if (!t) {
			errmsg("out of memory");
			return EXIT_FAIL;
		}
		memcpy(t, s.respond, s.respond_len);
		bool cr = false;
		size_t n = crlf_expand(t, s.respond_len, &cr);
		if (s.respond_owned)
			free((char *)s.respond);
		s.respond = t;
		s.respond_len = n;
		s.respond_owned = true;
	}
	if (no.so.set & SOCKOPT_REUSEPORT)
		lo.reuseport = true;
	if (no.so.set) {
		lo.prepare = netopt_prepare;
		lo.prepare_arg = &no.so;
	}
	if (mux_check() < 0)
		return EXIT_USAGE;
	rep->no = &no;
	rep->want = true;
	rep->t.kind = ep.socktype == SOCK_DGRAM ? TOTALS_DGRAM_SERVER : TOTALS_STREAM_SERVER;

	char err[SOCK_ERRLEN];
	struct sock_addr bound;
	if (act.fd >= 0) {
		s.lfd = act.fd;
		if (no.so.set && sockopt_apply_early(&no.so, s.lfd, err, sizeof err) < 0) {
			errmsg("%s", err);
			return EXIT_FAIL;
		}
		sock_local_addr(s.lfd, &bound);
	} else {
		if (workers > 1)
			lo.reuseport = true;
		s.lfd = sock_listen(&ep, &lo, &bound, err, sizeof err);
		if (s.lfd < 0) {
			errmsg("%s", err);
			return EXIT_FAIL;
		}
	}
	s.family = bound.ss.ss_family;
	s.proto = sock_proto_name(s.family, ep.socktype);
	static struct workers w;
	w = (struct workers){.ready_pipe = {-1, -1}};
	bool is_worker = false;
	if (workers > 1) {
		int index;
		int r3 = workers_start(&w, (int)workers, &index, err, sizeof err);
		if (r3 < 0) {
			errmsg("%s", err);
			close(s.lfd);
			return EXIT_FAIL;
		}
		if (r3 == 0) {
			/* The parent: the workers serve and report their totals;
			 * it only says when they are ready. */
			close(s.lfd);
			rep->want = false;
			int st = EXIT_OK;
			if (workers_wait_ready(&w, 10000, err, sizeof err) < 0) {
				errmsg("%s", err);
				st = EXIT_FAIL;
				for (int i = 0; i < w.n; i++)
					if (w.pids[i] > 0)
						kill(w.pids[i], SIGTERM);
			} else {
				print_ready(&bound, s.proto, mux_resolved());
			}
			int ws = workers_wait(&w);
			workers_free(&w);
			return st ? st : ws;
		}
		is_worker = true;
		if (index > 0) {
			/* Its own socket on the same address: the kernel spreads
			 * connections over the workers' sockets. */
			close(s.lfd);
			char host[SOCK_ADDRSTRLEN], port[16];
			sock_addr_parts((struct sockaddr *)&bound.ss, bound.len, host, sizeof host,
					port, sizeof port);
			struct sock_endpoint wep = ep;
			wep.host = host;
			wep.port = port;
			wep.numeric = true;
			s.lfd = sock_listen(&wep, &lo, NULL, err, sizeof err);
			if (s.lfd < 0) {
				errmsg("worker %d: %s", index, err);
				_exit(EXIT_FAIL);
			}
		}
	}

	raise_fd_limit();
	int status;
	s.loop = cmd_loop(1024, &status);
	if (!s.loop) {
		close(s.lfd);
		return status;
	}
	/* A datagram server has no accepted sockets: its one socket gets the
	 * per-connection options too. */
	if (s.dgram && no.so.set && sockopt_apply(&no.so, s.lfd, err, sizeof err) < 0) {
		errmsg("%s", err);
		close(s.lfd);
		loop_free(s.loop);
		return EXIT_FAIL;
	}
	if (netopt_open_logs(&no) < 0) {
		close(s.lfd);
		loop_free(s.loop);
		return EXIT_FAIL;
	}
	if (exec || s.model == MODEL_FORK)
		loop_signal(s.loop, SIGCHLD, serve_reap, &s);
	/* Totals for -v and --stats: what the handlers count in the other
	 * models, and for programs what the kernel counted (TCP only). */
	if (!exec && s.model != MODEL_LOOP && !(s.jt = model_totals_new()))
		vmsg("no shared memory for byte totals: not counted");
	s.count_exec = exec && (g_opts.verbose || no.stats_json || no.stats_text) && !s.dgram &&
		       (s.family == AF_INET || s.family == AF_INET6);
	if (s.model == MODEL_THREAD) {
		if (pipe2(s.notify, O_CLOEXEC | O_NONBLOCK) < 0 ||
		    loop_io(s.loop, s.notify[0], MUX_READ, serve_threads_done, &s) < 0) {
			errmsg("thread model: %s", strerror(errno));
			close(s.lfd);
			loop_free(s.loop);
			return EXIT_FAIL;
		}
	}
	loop_signal(s.loop, SIGINT, on_stop_signal, &s);
	loop_signal(s.loop, SIGTERM, on_stop_signal, &s);
	/* Diagnostics (-v per connection) are queued; stdout is the relay's
	 * data, where a slow reader slowing us down is right. */
	logs_start(s.loop, NULL);
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
		int64_t t0 = clock_ms();
		struct progress prog;
		rep->ran = true;
		if (is_worker)
			workers_ready(&w);
		else
			print_ready(&bound, s.proto, loop_backend(s.loop));
		progress_start(&prog, s.loop, &no, get_totals, &s);
		/* One client gets stdin: a file's size gives a percentage. */
		if (s.handler == H_RELAY && !exec && !s.keep_open && !s.dgram && !s.ro.recv_only)
			progress_size_from_stdin(&prog);
		if (loop_run(s.loop) < 0) {
			errmsg("event loop (%s): %s", loop_backend(s.loop), strerror(errno));
			s.status = EXIT_FAIL;
		}
		if (!s.dgram)
			serve_stream_totals(&s);
		progress_stop(&prog, s.loop);
		/* Room in a full stderr queue for the totals. */
		logs_flush(LOGS_END_MS);
		get_totals(&s, &rep->t.sent, &rep->t.received);
		rep->t.ms = clock_ms() - t0;
		rep->t.connections = s.served;
		rep->t.refused = s.refused;
	}
	if (s.dgram)
		serve_dgram_cleanup(&s);
	else
		serve_stream_cleanup(&s);
	/* While stderr is still queued: a stalled reader must not hold the
	 * exit up. */
	serve_report(rep, s.status);
	logs_end(LOGS_END_MS);
	if (s.lfd >= 0)
		close(s.lfd);
	if (ep.unix_path && ep.unix_path[0] != '@')
		unlink(ep.unix_path);
	if (s.respond_owned && s.nthreads == 0)
		free((char *)s.respond);
	if (s.nthreads == 0)
		model_totals_free(s.jt);
	if (s.notify[0] >= 0 && s.nthreads == 0) {
		close(s.notify[0]);
		close(s.notify[1]);
	}
	loop_free(s.loop);
	netopt_close_logs(&no);
	acl_free(&s.acl);
	spawn_words_free(no.exec_argv);
	return s.status;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_report rep = {0};
	int status = serve_main(argc, argv, &rep);
	serve_report(&rep, status);
	return status;
}
