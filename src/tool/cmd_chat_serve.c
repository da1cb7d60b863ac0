/* `sockctl chat serve`: the options, the readiness line, the room shown
 * on stdout, the lines typed on stdin posted as @server, the signals and
 * the exit status around the hub's engine (chat/chat_server.c). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat/chat_proto.h"
#include "chat/chat_server.h"
#include "core/loop.h"
#include "core/sbuf.h"
#include "net/sock.h"
#include "net/stream.h"
#include "tool/cmd.h"
#include "tool/cmd_chat.h"
#include "tool/tlsopts.h"

/* The server's own terminal: lines typed there go to every room. */
struct desk {
	struct loop *loop;
	struct stream *in; /* owned (stdin itself is not); NULL after EOF */
	struct chat_server *srv;
	struct chat_framer fr;
	char buf[CHAT_LINE_DEFAULT + 2];
	size_t len;
	struct sbuf show; /* one line of the room, as shown */
	bool stopping;	  /* a signal came: the next one stops at once */
};

static void on_stdin(struct stream *st, int ready, void *arg)
{
	(void)ready;
	struct desk *d = arg;
	ssize_t r = stream_read(st, d->buf + d->len, sizeof d->buf - d->len);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	bool eof = r <= 0;
	if (r > 0)
		d->len += (size_t)r;
	size_t off = 0;
	for (;;) {
		const char *line;
		size_t len, used;
		enum chat_frame fr = chat_frame_next_eof(
		    &d->fr, d->buf + off, d->len - off, CHAT_LINE_DEFAULT, eof, &line, &len, &used);
		off += used;
		if (fr == CHAT_FRAME_MORE) {
			if (used == 0)
				break;
			continue;
		}
		chat_server_say(d->srv, line, len);
	}
	memmove(d->buf, d->buf + off, d->len - off);
	d->len -= off;
	if (eof) {
		stream_close(d->in);
		d->in = NULL;
	}
}

/* The room on stdout is a log: a reader that stalls loses lines of it,
 * the members lose nothing. "[ROOM] LINE", put together without printf
 * (a room's burst comes through here line by line). */
static void show(void *arg, const char *room, const char *line, size_t len)
{
	struct desk *d = arg;
	sb_reset(&d->show);
	sb_putc(&d->show, '[');
	sb_puts(&d->show, room);
	sb_putn(&d->show, "] ", 2);
	sb_putn(&d->show, line, len);
	sb_putc(&d->show, '\n');
	if (!d->show.oom)
		log_write(d->show.p, d->show.len);
}

static void on_stopped(void *arg)
{
	struct desk *d = arg;
	loop_stop(d->loop);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct desk *d = arg;
	if (d->stopping) {
		loop_stop(l);
		return;
	}
	d->stopping = true;
	vmsg("chat: %s: shutting down", strsignal(signo));
	stream_close(d->in);
	d->in = NULL;
	chat_server_shutdown(d->srv);
}

static const char serve_help[] =
    "usage: sockctl chat serve [options] [ADDRESS] PORT\n"
    "       sockctl chat serve [options] -U PATH\n"
    "\n"
    "A chat room server for `sockctl chat connect`, nc or telnet: one line of\n"
    "UTF-8 text is one message; /help lists the commands. Binds 127.0.0.1\n"
    "unless ADDRESS is given (\"*\" or :: for all, IPv4 and IPv6; 0.0.0.0 for all\n"
    "IPv4); port 0 picks a free port. The room is shown on stdout (when nobody\n"
    "reads it, lines of it are dropped and counted on stderr); lines typed on\n"
    "stdin are posted to every room as @server.\n"
    "\n"
    "Options:\n"
    "  -U, --unix=PATH         listen on a Unix socket (@NAME: abstract)\n"
    "  -m, --max-clients=N     at most N clients at once (default 1000)\n"
    "      --max-line=BYTES    longest line; longer ones are cut (default 1024)\n"
    "      --queue=BYTES       output queue per client; a client whose queue is\n"
    "                          full (it stopped reading) is dropped\n"
    "                          (default 262144)\n"
    "      --flood=N           lines a second per client, 0 = no limit (default 20)\n"
    "      --show-addresses    show client addresses in join notices and /who\n"
    "  global options: --mux, -4, -6, -n, -v, -q (see sockctl --help)\n"
    "\n" TLSOPT_SERVER_HELP "\n"
    "A verified client certificate's subject (--client-ca) is shown in /who.\n"
    "Exit status: 0 after SIGINT/SIGTERM, 1 on failure, 2 usage; with --tls,\n"
    "58 --cert/--key unusable, 77 --client-ca cannot be loaded.\n";

enum { OPT_MAXLINE = OPT_BASE, OPT_QUEUE, OPT_FLOOD, OPT_SHOWADDR };

static int parse_serve(struct chat_server_cfg *s, struct sock_endpoint *ep, struct tlsopts *tls,
		       int argc, char **argv)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"unix", required_argument, NULL, 'U'},
	    {"max-clients", required_argument, NULL, 'm'},
	    {"max-line", required_argument, NULL, OPT_MAXLINE},
	    {"queue", required_argument, NULL, OPT_QUEUE},
	    {"flood", required_argument, NULL, OPT_FLOOD},
	    {"show-addresses", no_argument, NULL, OPT_SHOWADDR},
	    TLSOPT_SERVER_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = cmd_getopt(argc, argv, COMMON_SHORTOPTS "U:m:", longopts)) != -1) {
		switch (c) {
		case 'h':
			return print_help(serve_help), -1;
		case 'U':
			if (!opt_unix_path(optarg))
				return EXIT_USAGE;
			ep->unix_path = optarg;
			break;
		case 'm':
			if (!parse_long(optarg, 1, 100000, &s->max_clients))
				return usage_error("--max-clients: '%s' is not a number from 1 to "
						   "100000",
						   optarg);
			break;
		case OPT_MAXLINE:
			if (!parse_long(optarg, CHAT_LINE_MIN, CHAT_LINE_LIMIT, &s->max_line))
				return usage_error("--max-line: '%s' is not a number from %d to %d",
						   optarg, CHAT_LINE_MIN, CHAT_LINE_LIMIT);
			break;
		case OPT_QUEUE:
			if (!parse_long(optarg, 4096, 1L << 30, &s->queue_max))
				return usage_error("--queue: '%s' is not a number from 4096 to %ld",
						   optarg, 1L << 30);
			break;
		case OPT_FLOOD:
			if (!parse_long(optarg, 0, 1000000, &s->flood))
				return usage_error(
				    "--flood: '%s' is not a number from 0 to 1000000", optarg);
			break;
		case OPT_SHOWADDR:
			s->show_addr = true;
			break;
		default:
			if (tlsopt_handle(tls, c, optarg) == 1)
				break;
			return EXIT_USAGE;
		}
	}
	if (tlsopt_check(tls, TLS_SERVER))
		return EXIT_USAGE;
	int rest = argc - optind;
	if (ep->unix_path) {
		if (rest != 0)
			return usage_error("no ADDRESS or PORT with --unix");
	} else {
		if (endpoint_operands(rest, argv + optind, ENDPOINT_LISTEN | ENDPOINT_EXACT,
				      SOCK_STREAM, &ep->host, &ep->port) < 0)
			return EXIT_USAGE;
	}
	/* One line may grow three-fold when invalid bytes become U+FFFD,
	 * and a reply must hold a whole line plus a name. */
	if ((size_t)s->queue_max < (size_t)s->max_line * 3 + 64)
		return usage_error("--queue must be at least 3 * --max-line + 64");
	return 0;
}

int chat_serve(int argc, char **argv)
{
	struct chat_server_cfg cfg = {.max_clients = 1000,
				      .max_line = CHAT_LINE_DEFAULT,
				      .queue_max = 256 * 1024,
				      .flood = 20,
				      .show = show};
	struct sock_endpoint ep = {.socktype = SOCK_STREAM, .family = AF_UNSPEC, .numeric = false};
	struct tlsopts tls = {0};
	int r = parse_serve(&cfg, &ep, &tls, argc, argv);
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	/* Before listening: a certificate that cannot be used is an error
	 * at start-up (a temporary one is made once bound). */
	if (tls.on && tls.cfg.cert && !(cfg.tls = tlsopt_server_ctx(&tls, NULL, 0, &r)))
		return r;
	cfg.handshake_ms = tls.handshake_ms;
	ep.family = g_opts.family;
	ep.numeric = g_opts.numeric;

	int status = EXIT_FAIL;
	struct desk d = {0};
	int lfd = -1;
	d.loop = cmd_loop((int)cfg.max_clients + 16, &status);
	if (!d.loop) {
		tls_ctx_free(cfg.tls);
		return status;
	}
	logs_start(d.loop, "lines of the room");
	int limit = loop_fd_limit(d.loop);
	if (limit > 0 && cfg.max_clients > limit - 32) {
		/* select: stay below FD_SETSIZE with room for our own fds. */
		cfg.max_clients = limit - 32;
		vmsg("chat: mux=%s holds at most %ld clients", loop_backend(d.loop),
		     cfg.max_clients);
	}
	cfg.stopped = on_stopped;
	cfg.arg = &d;
	sb_init(&d.show);
	char err[SOCK_ERRLEN];
	struct sock_addr bound;
	lfd =
	    sock_listen(&ep, &(struct sock_listen_opts){.backlog = 1024}, &bound, err, sizeof err);
	if (lfd < 0) {
		errmsg("%s", err);
		goto out;
	}
	if (tls.on && !cfg.tls) {
		const struct sockaddr *b = (const struct sockaddr *)&bound.ss;
		if (!(cfg.tls = tlsopt_server_ctx(&tls, &b, 1, &status)))
			goto out;
		status = EXIT_FAIL;
	}
	d.srv = chat_server_new(d.loop, &cfg);
	if (!d.srv) {
		errmsg("chat serve: out of memory");
		goto out;
	}
	/* stdin may be closed, /dev/null or a file: post what it holds. (A
	 * closed fd 0 is held on /dev/null from the start, so the listener
	 * cannot be taken for it.) */
	d.in = stream_fd_new(d.loop, STDIN_FILENO, 0);
	if (d.in) {
		stream_set_cb(d.in, on_stdin, &d);
		if (stream_want(d.in, STREAM_READ) < 0) {
			stream_close(d.in);
			d.in = NULL;
		}
	}
	if (chat_server_listen(d.srv, lfd) < 0 || loop_signal(d.loop, SIGINT, on_signal, &d) < 0 ||
	    loop_signal(d.loop, SIGTERM, on_signal, &d) < 0) {
		errmsg("event loop: %s", strerror(errno));
		goto out;
	}
	char where[SOCK_ADDRSTRLEN];
	sock_addr_str((struct sockaddr *)&bound.ss, bound.len, where, sizeof where);
	errmsg("listening on %s (%s, mux=%s%s)", where,
	       sock_proto_name(bound.ss.ss_family, SOCK_STREAM), loop_backend(d.loop),
	       tlsopt_ready_note(&tls));
	if (loop_run(d.loop) < 0) {
		errmsg("event loop: %s", strerror(errno));
		goto out;
	}
	status = EXIT_OK;
out:
	chat_server_free(d.srv);
	stream_close(d.in);
	if (lfd >= 0)
		close(lfd);
	logs_end(LOGS_END_MS);
	loop_free(d.loop);
	sb_free(&d.show);
	tls_ctx_free(cfg.tls);
	tlsopt_free(&tls);
	return status;
}
