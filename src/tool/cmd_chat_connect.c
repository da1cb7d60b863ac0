/* `sockctl chat connect`: the program around the chat client's engine
 * (chat/chat_client.c). On a terminal an editing prompt (libedit's
 * readline callback interface, fed from the event loop) with incoming
 * lines printed above it, in the locale's character set; otherwise a
 * plain line pipe for scripts, stdin sent as it comes and the lines shown
 * on stdout at the pace its reader takes them. */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <editline/readline.h>

#include "chat/chat_client.h"
#include "chat/chat_proto.h"
#include "core/loop.h"
#include "core/outq.h"
#include "core/sbuf.h"
#include "net/sock.h"
#include "net/stream.h"
#include "tool/certopts.h"
#include "tool/cmd.h"
#include "tool/tlsopts.h"
#include "tool/cmd_chat.h"

#define PROMPT	 "> "
#define OUT_HOLD (64 * 1024) /* stdout backed up this much: stop reading the server */

struct ui {
	struct loop *loop;
	struct chat_client *cl;
	bool tty, color, editing, ended;
	int status;
	const char *target; /* "host:port" for messages */
	/* Owned, over fds that are not: */
	struct stream *tty_in; /* terminal: stdin, watched for libedit */
	struct stream *out;    /* script: stdout; NULL if closed */
	struct outq outq;      /* what stdout has not taken yet */
	bool lines;	       /* lines shown since the prompt was drawn */
	struct sbuf sb;	       /* one line as shown */
	/* Terminal path in a locale whose charset is not UTF-8: conversions
	 * to and from the wire's UTF-8; (iconv_t)-1 otherwise. */
	iconv_t to_utf8, from_utf8;
	/* --cert-info, --expires-within; whether the latter ended it. */
	struct certopts cert;
	bool expiring;
};

/* libedit's line handler takes no argument. */
static struct ui *g_ui;

static void stop(struct ui *u, int status)
{
	if (u->ended)
		return;
	u->ended = true;
	u->status = status;
	loop_stop(u->loop);
}

static const char *name_color(const char *name, size_t len)
{
	static const char *const colors[] = {"31", "32", "33", "34", "35", "36",
					     "91", "92", "93", "94", "95", "96"};
	unsigned h = 5381;
	for (size_t i = 0; i < len; i++)
		h = h * 33 + (unsigned char)name[i];
	return colors[h % (sizeof colors / sizeof colors[0])];
}

/* ---- the terminal's character set ---- */

static void tty_charset_close(struct ui *c)
{
	if (c->to_utf8 != (iconv_t)-1)
		iconv_close(c->to_utf8);
	if (c->from_utf8 != (iconv_t)-1)
		iconv_close(c->from_utf8);
	c->to_utf8 = c->from_utf8 = (iconv_t)-1;
}

/* libedit decodes keystrokes and measures the line with the C library's
 * multibyte functions, which follow LC_CTYPE; in the "C" locale every byte
 * >= 0x80 is invalid and libedit drops it. The locale is taken from the
 * environment here, on the terminal path only: elsewhere sockctl depends on
 * locale-independent ctype and strcasecmp (HTTP headers, DNS names), and after
 * this point chat connect only frames, sanitises and copies bytes.
 * The wire is UTF-8. In C or POSIX (or a locale that is not installed) the
 * terminal is taken to speak UTF-8 too, as Python does: an ASCII-only
 * locale cannot type anything else, so nothing is lost by it. A locale with
 * another charset (ISO-8859-1, EUC-JP...) gets its text converted. */
static void tty_charset(struct ui *c)
{
	const char *loc = setlocale(LC_CTYPE, "");
	const char *cs = loc ? nl_langinfo(CODESET) : "";
	if (loc && strcmp(cs, "UTF-8") == 0)
		return;
	if (loc && strcmp(cs, "ANSI_X3.4-1968") != 0 && strcmp(cs, "US-ASCII") != 0 &&
	    strcmp(cs, "ASCII") != 0) {
		char translit[64];
		snprintf(translit, sizeof translit, "%s//TRANSLIT", cs);
		c->to_utf8 = iconv_open("UTF-8", cs);
		c->from_utf8 = iconv_open(translit, "UTF-8");
		if (c->to_utf8 != (iconv_t)-1 && c->from_utf8 != (iconv_t)-1)
			return;
		errmsg("chat: cannot convert between %s and UTF-8: taking the terminal as UTF-8",
		       cs);
		tty_charset_close(c);
	}
	if (setlocale(LC_CTYPE, "C.UTF-8"))
		return;
	setlocale(LC_CTYPE, "C");
	errmsg("chat: no UTF-8 locale (C.UTF-8) is installed: only ASCII can be typed");
}

/* Converts s[0..len) with cd and hands the result to put in pieces; a
 * character cd cannot convert becomes bad. utf8_in: the input is UTF-8,
 * so an unconvertible character is skipped whole. */
static bool recode(iconv_t cd, const char *s, size_t len, bool utf8_in, const char *bad,
		   bool (*put)(void *arg, const char *p, size_t n), void *arg)
{
	char buf[1024];
	char *in = (char *)s;
	size_t inleft = len;
	bool flushed = false;
	iconv(cd, NULL, NULL, NULL, NULL);
	while (!flushed) {
		char *out = buf;
		size_t outleft = sizeof buf, r;
		if (inleft) {
			r = iconv(cd, &in, &inleft, &out, &outleft);
		} else {
			/* A stateful charset's return to its initial shift state. */
			r = iconv(cd, NULL, NULL, &out, &outleft);
			flushed = r != (size_t)-1;
		}
		int e = errno;
		if (out > buf && !put(arg, buf, (size_t)(out - buf)))
			return false;
		if (r != (size_t)-1 || e == E2BIG)
			continue;
		if (!inleft)
			break;
		/* EILSEQ, or EINVAL for a character cut short at the end. */
		if (!put(arg, bad, strlen(bad)))
			return false;
		do {
			in++;
			inleft--;
		} while (utf8_in && inleft && ((unsigned char)*in & 0xC0) == 0x80);
	}
	return true;
}

static bool put_sb(void *arg, const char *p, size_t n)
{
	sb_putn(arg, p, n);
	return true;
}

/* Adds UTF-8 text to the line shown, in the terminal's charset. */
static void term_put(struct ui *c, const char *s, size_t len)
{
	if (c->from_utf8 == (iconv_t)-1)
		sb_putn(&c->sb, s, len);
	else
		recode(c->from_utf8, s, len, true, "?", put_sb, &c->sb);
}

/* ---- incoming lines ---- */

/* The reader of stdout has gone: what it would have shown is lost. */
static void out_lost(struct ui *u)
{
	outq_clear(&u->outq);
	stream_close(u->out);
	u->out = NULL;
}

/* Stdout is written while lines wait for it, and the server is read
 * only while not too many do. */
static void out_watch(struct ui *u)
{
	if (u->out && stream_want(u->out, outq_empty(&u->outq) ? 0 : STREAM_WRITE) < 0)
		out_lost(u);
	chat_client_hold(u->cl, outq_len(&u->outq) >= OUT_HOLD);
}

static void on_stdout(struct stream *st, int ready, void *arg)
{
	(void)ready;
	struct ui *u = arg;
	if (outq_flush(&u->outq, st) < 0)
		out_lost(u);
	out_watch(u);
}

static void on_line(void *arg, const char *line, size_t len)
{
	struct ui *c = arg;
	size_t off, nlen;
	enum chat_kind k = c->color ? chat_classify(line, len, &off, &nlen) : CHAT_K_OTHER;
	sb_reset(&c->sb);
	if (c->tty && !c->lines)
		/* Clear the prompt line; it is drawn again below. */
		sb_puts(&c->sb, "\r\033[K");
	c->lines = true;
	switch (k) {
	case CHAT_K_NOTICE:
		sb_puts(&c->sb, "\033[2m");
		term_put(c, line, len);
		sb_puts(&c->sb, "\033[0m");
		break;
	case CHAT_K_SAY:
	case CHAT_K_ACTION:
	case CHAT_K_PRIVATE:
		term_put(c, line, off);
		sb_printf(&c->sb, "\033[%s;1m",
			  k == CHAT_K_PRIVATE ? "35" : name_color(line + off, nlen));
		term_put(c, line + off, nlen);
		sb_puts(&c->sb, "\033[0m");
		term_put(c, line + off + nlen, len - off - nlen);
		break;
	default:
		term_put(c, line, len);
	}
	sb_puts(&c->sb, c->tty ? "\r\n" : "\n");
	if (c->tty) {
		fwrite(c->sb.p, 1, c->sb.len, stdout);
	} else if (c->out) {
		/* Straight out when nothing waits; else after what waits,
		 * written when stdout takes more. */
		int r = outq_empty(&c->outq)
			    ? outq_write(&c->outq, c->out, c->sb.p, c->sb.len, NULL)
			    : outq_add(&c->outq, c->sb.p, c->sb.len);
		if (r == -1)
			out_lost(c);
		/* Else only memory can refuse it (the queue has no bound,
		 * the server waits instead): then this line is lost. */
		out_watch(c);
	}
}

static void on_lines_done(void *arg)
{
	struct ui *c = arg;
	c->lines = false;
	if (c->tty) {
		fflush(stdout);
		if (c->editing)
			rl_forced_update_display();
	}
}

/* ---- input: a terminal through libedit ---- */

/* How many rows up from the cursor's row after Enter the prompt and the
 * typed line begin, on a terminal cols wide, measured as libedit draws:
 * a character wider than what is left of a row goes to the next row, a
 * full row moves the cursor to the next one, control characters show as
 * ^X and other unprintable ones as \U+XXXX. */
static int typed_rows(const char *line, int cols)
{
	mbstate_t st;
	memset(&st, 0, sizeof st);
	int col = (int)strlen(PROMPT), rows = 1;
	size_t len = strlen(line);
	for (size_t i = 0; i < len;) {
		wchar_t wc;
		int w;
		size_t n = mbrtowc(&wc, line + i, len - i, &st);
		if (n == (size_t)-1 || n == (size_t)-2) {
			memset(&st, 0, sizeof st);
			n = 1;
			w = 1;
		} else {
			w = wc < 0x20 || wc == 0x7f ? 2 : wcwidth(wc);
			if (w < 0)
				w = wc > 0xffff ? 8 : 7;
		}
		i += n ? n : 1;
		if (col + w > cols) {
			rows++;
			col = 0;
		}
		col += w;
		if (col >= cols) {
			rows++;
			col = 0;
		}
	}
	return rows;
}

static void on_edit_line(char *line)
{
	struct ui *c = g_ui;
	if (!line) {
		/* Ctrl-D on an empty line. */
		fputs("\r\n", stdout);
		c->editing = false;
		rl_callback_handler_remove();
		stream_close(c->tty_in);
		c->tty_in = NULL;
		chat_client_send_line(c->cl, "/quit", 5);
		chat_client_end_input(c->cl);
		return;
	}
	/* libedit 3.1 keeps the accepted text in its buffer after the
	 * handler returns; installing the handler again starts a fresh line. */
	rl_callback_handler_remove();
	if (*line) {
		add_history(line);
		/* The server sends the line back (/echo on) as the room saw it:
		 * take the typed copy (libedit ended it with a newline) off the
		 * screen. */
		struct winsize ws;
		int cols = ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
		for (int i = typed_rows(line, cols); i > 0; i--)
			fputs("\033[A\r\033[K", stdout);
		fflush(stdout);
		size_t n = strlen(line);
		bool ok = true;
		sb_reset(&c->sb);
		if (c->to_utf8 == (iconv_t)-1)
			sb_putn(&c->sb, line, n);
		else
			ok = recode(c->to_utf8, line, n, false, "\xEF\xBF\xBD", put_sb, &c->sb);
		/* All of the line or nothing. */
		if (!ok || c->sb.oom || !chat_client_send_line(c->cl, sb_str(&c->sb), c->sb.len))
			errmsg("too much queued for %s: line not sent", c->target);
	}
	if (!c->ended)
		rl_callback_handler_install(PROMPT, on_edit_line);
	else
		c->editing = false;
	free(line);
}

/* libedit reads the terminal itself: the stream says when there is
 * something to read. */
static void on_stdin_tty(struct stream *st, int ready, void *arg)
{
	(void)st;
	(void)ready;
	(void)arg;
	rl_callback_read_char();
}

/* ---- the connection ---- */

static void on_connected(void *arg, const char *where)
{
	(void)where;
	struct ui *c = arg;
	if (c->tty) {
		tty_charset(c);
		rl_catch_signals = 0;
		rl_callback_handler_install(PROMPT, on_edit_line);
		c->editing = true;
		if (c->tty_in) {
			stream_set_cb(c->tty_in, on_stdin_tty, c);
			stream_want(c->tty_in, STREAM_READ);
		}
	}
}

static void on_end(void *arg, enum chat_client_end how, const char *errtext)
{
	struct ui *c = arg;
	if (how == CHAT_END_FAILED)
		errmsg("%s", errtext);
	else if (how == CHAT_END_CLOSED && c->tty)
		errmsg("%s closed the connection", c->target);
	enum tls_err kind = chat_client_tls_error(c->cl);
	int status = EXIT_OK;
	if (how == CHAT_END_FAILED)
		status = kind ? tlsopt_exit(kind) : c->expiring ? EXIT_TLS_EXPIRING : EXIT_FAIL;
	stop(c, status);
}

/* After the handshake: --cert-info's report on stderr (the chat keeps
 * stdout), then --expires-within, before a line is sent. */
static bool tls_check(void *arg, const struct stream *s, enum tls_err kind, char *why,
		      size_t whylen)
{
	struct ui *c = arg;
	time_t now = time(NULL);
	/* A report that cannot be made has said so; the chat goes on. */
	(void)certopt_report(&c->cert, s, now, false);
	char text[200];
	if (kind != TLS_E_NONE || !certopt_expiry(&c->cert, s, now, text, sizeof text))
		return true;
	snprintf(why, whylen, "%s: %s", c->target, text);
	c->expiring = true;
	return false;
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	(void)l;
	(void)signo;
	stop(arg, EXIT_FAIL);
}

/* The lines not yet taken by stdout, at the end: its reader sets the
 * pace, as for any command's data. */
static void out_drain(struct ui *u)
{
	while (u->out && !outq_empty(&u->outq)) {
		if (stream_wait(u->out, STREAM_WRITE, -1) < 0 || outq_flush(&u->outq, u->out) < 0)
			break;
	}
}

/* ---- options ---- */

static const char connect_help[] =
    "usage: sockctl chat connect [options] HOST PORT\n"
    "       sockctl chat connect [options] -U PATH\n"
    "\n"
    "Joins a chat server (sockctl chat serve; any line-based chat works). On a\n"
    "terminal: a prompt with line editing and history, incoming lines shown\n"
    "above it; Ctrl-D or /quit leaves. Otherwise: stdin lines are sent, what\n"
    "arrives is printed, and it exits when the server has closed after EOF.\n"
    "Incoming text is always stripped of control characters. A terminal is read\n"
    "and written in the locale's character set (C: UTF-8); the server gets UTF-8.\n"
    "\n"
    "Options:\n"
    "  -U, --unix=PATH     connect to a Unix socket (@NAME: abstract)\n"
    "  -N, --name=NAME     the nickname to take on joining\n"
    "  -r, --room=ROOM     the room to join (default: lobby)\n"
    "      --color=WHEN    colour names: auto (a terminal without NO_COLOR),\n"
    "                      always or never\n"
    "  global options: --mux, -4, -6, -n, -v, -q (see sockctl --help)\n"
    "\n" TLSOPT_CLIENT_HELP
    "      --cert-info[=json]  after the handshake, print what it settled and the\n"
    "                       server's certificates on stderr (text, or one JSON\n"
    "                       object on one line), then chat as usual; a\n"
    "                       verification or pin failure is reported too, then\n"
    "                       exits 60 or 90\n"
    "      --expires-within DAYS  exit 110 before joining when the server's\n"
    "                       certificate expires within DAYS days\n"
    "\n"
    "Exit status: 0 when the server closed after the input ended, 1 on failure,\n"
    "2 usage; with --tls, 35 handshake failed, 56 the server closed without\n"
    "close_notify, 58 --cert/--key unusable, 60 the server's certificate did not\n"
    "verify, 77 --cacert cannot be loaded, 90 no --pin matched, 110\n"
    "--expires-within.\n";

enum { OPT_COLOR = OPT_BASE };
int chat_connect(int argc, char **argv)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"unix", required_argument, NULL, 'U'},
	    {"name", required_argument, NULL, 'N'},
	    {"room", required_argument, NULL, 'r'},
	    {"color", required_argument, NULL, OPT_COLOR},
	    TLSOPT_CLIENT_LONGOPTS,
	    CERTOPT_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	/* Static: what the options allocate (pins) stays reachable however
	 * the command returns; it runs once per process. */
	static struct tlsopts tls;
	tls = (struct tlsopts){0};
	struct ui u = {.to_utf8 = (iconv_t)-1, .from_utf8 = (iconv_t)-1};
	struct ui *c = &u;
	certopt_init(&c->cert);
	struct chat_client_cfg cfg = {
	    .connected = on_connected, .line = on_line, .lines_done = on_lines_done, .end = on_end};
	const char *color = "auto";
	struct sock_endpoint ep = {.socktype = SOCK_STREAM};
	int o;
	while ((o = cmd_getopt(argc, argv, COMMON_SHORTOPTS "U:N:r:k", longopts)) != -1) {
		if (o == 'k')
			o = TOPT_INSECURE;
		switch (o) {
		case 'h':
			return print_help(connect_help);
		case 'U':
			if (!opt_unix_path(optarg))
				return EXIT_USAGE;
			ep.unix_path = optarg;
			break;
		case 'N':
		case 'r': {
			const char *why = chat_name_check(optarg, strlen(optarg));
			if (o == 'r' && optarg[0] == '#')
				why = chat_name_check(optarg + 1, strlen(optarg + 1));
			if (why)
				return usage_error("%s '%s': %s", o == 'N' ? "--name" : "--room",
						   optarg, why);
			*(o == 'N' ? &cfg.name : &cfg.room) = optarg;
			break;
		}
		case OPT_COLOR:
			if (strcmp(optarg, "auto") && strcmp(optarg, "always") &&
			    strcmp(optarg, "never"))
				return usage_error("--color: '%s' is not auto, always or never",
						   optarg);
			color = optarg;
			break;
		default: {
			int r = certopt_handle(&c->cert, o, optarg);
			if (r == 0)
				r = tlsopt_handle(&tls, o, optarg);
			if (r == 1)
				break;
			return EXIT_USAGE;
		}
		}
	}
	if (tlsopt_check(&tls, TLS_CLIENT))
		return EXIT_USAGE;
	if (!tls.on && certopt_on(&c->cert))
		return usage_error("%s needs --tls", certopt_name(&c->cert));
	/* The report shows a certificate that fails too. */
	tls.cfg.report_failures = c->cert.info != CERT_INFO_NONE;
	if (certopt_on(&c->cert))
		cfg.tls_check = tls_check;
	int rest = argc - optind;
	if (ep.unix_path) {
		if (rest != 0)
			return usage_error("no HOST or PORT with --unix");
	} else {
		if (endpoint_operands(rest, argv + optind, ENDPOINT_EXACT, SOCK_STREAM, &ep.host,
				      &ep.port) < 0)
			return EXIT_USAGE;
	}
	ep.family = g_opts.family;
	ep.numeric = g_opts.numeric;

	c->tty = isatty(0) && isatty(1);
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	c->color =
	    strcmp(color, "always") == 0 || (strcmp(color, "auto") == 0 && isatty(1) &&
					     !(nc && *nc) && term && strcmp(term, "dumb") != 0);
	char target[SOCK_ADDRSTRLEN + 8];
	if (ep.unix_path)
		snprintf(target, sizeof target, "%s", ep.unix_path);
	else
		snprintf(target, sizeof target, strchr(ep.host, ':') ? "[%s]:%s" : "%s:%s", ep.host,
			 ep.port);
	c->target = cfg.target = target;
	cfg.echo = c->tty;
	cfg.arg = c;

	int status = EXIT_FAIL;
	if (tls.on && !(cfg.tls = tlsopt_ctx(&tls, &status)))
		return status;
	/* The name the certificate must carry: the host as given. */
	cfg.tls_host = ep.unix_path ? NULL : ep.host;
	cfg.handshake_ms = tls.handshake_ms;
	c->loop = cmd_loop(16, &status);
	if (!c->loop) {
		tls_ctx_free(cfg.tls);
		return status;
	}
	g_ui = c;
	sb_init(&c->sb);
	outq_init(&c->outq, 0);
	char err[SOCK_ERRLEN + SOCK_ADDRSTRLEN];
	c->cl = chat_client_start(c->loop, &ep, &cfg, err, sizeof err);
	if (!c->cl) {
		errmsg("%s", err);
		loop_free(c->loop);
		tls_ctx_free(cfg.tls);
		return EXIT_FAIL;
	}
	/* stdin is read from the connection on; a closed one is an input
	 * that has ended. */
	struct stream *in = stream_fd_new(c->loop, STDIN_FILENO, 0);
	if (c->tty) {
		c->tty_in = in;
	} else if (in) {
		chat_client_input(c->cl, in);
	} else {
		chat_client_end_input(c->cl);
	}
	if (!c->tty && (c->out = stream_fd_new(c->loop, STDOUT_FILENO, 0)))
		stream_set_cb(c->out, on_stdout, c);
	loop_signal(c->loop, SIGINT, on_signal, c);
	loop_signal(c->loop, SIGTERM, on_signal, c);
	if (!c->ended && loop_run(c->loop) < 0) {
		errmsg("event loop: %s", strerror(errno));
		c->status = EXIT_FAIL;
	}
	if (c->editing) {
		rl_callback_handler_remove();
		fputs("\r\n", stdout);
	}
	fflush(stdout);
	chat_client_free(c->cl);
	stream_close(c->tty_in);
	out_drain(c);
	outq_clear(&c->outq);
	stream_close(c->out);
	sb_free(&c->sb);
	loop_free(c->loop);
	tty_charset_close(c);
	tls_ctx_free(cfg.tls);
	return c->status;
}
