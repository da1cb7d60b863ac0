/* `sockctl chat connect`: on a terminal an editing prompt (libedit's
 * readline callback interface, fed from the event loop) with incoming lines
 * printed above it; otherwise a plain line pipe for scripts. Everything
 * that arrives is sanitised before it reaches the terminal. */
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
#include <unistd.h>
#include <wchar.h>

#include <editline/readline.h>

#include "chat/chat.h"
#include "chat/chat_proto.h"
#include "tool/cmd.h"
#include "net/connector.h"
#include "net/stream.h"
#include "core/loop.h"
#include "net/sock.h"

#define CONNECT_TIMEOUT_MS 10000
#define LINGER_MS	   10000 /* after our last line: wait this long for the server */
#define IN_MAX		   65536 /* longest line accepted from the server */
#define OUT_CAP		   65536
#define PROMPT		   "> "

struct client {
	struct loop *loop;
	int fd;
	bool tty, color, quitting, stdin_eof, done, editing;
	int status;
	const char *name, *room;
	const char *target;   /* "host:port" for messages */
	struct connector *cn; /* while connecting */
	struct timer timer;   /* linger after our last line */
	struct chat_framer fr;
	/* Terminal path in a locale whose charset is not UTF-8: conversions
	 * to and from the wire's UTF-8; (iconv_t)-1 otherwise. */
	iconv_t to_utf8, from_utf8;
	size_t inlen;
	char in[IN_MAX + 2];
	char clean[IN_MAX * 3 + 1];
	size_t outoff, outlen;
	char out[OUT_CAP];
};

/* libedit's line handler takes no argument. */
static struct client *g_client;

static void on_server(struct loop *l, int fd, int mask, void *arg);
static void on_stdin_pipe(struct loop *l, int fd, int mask, void *arg);

static void finish(struct client *c, int status)
{
	if (c->done)
		return;
	c->done = true;
	c->status = status;
	loop_stop(c->loop);
}

/* ---- output to the server ---- */

static void update_server_mask(struct client *c)
{
	int mask = MUX_READ | (c->outlen ? MUX_WRITE : 0);
	loop_io(c->loop, c->fd, mask, on_server, c);
	/* Script mode reads stdin only while there is room to queue it. */
	if (!c->tty && !c->stdin_eof)
		loop_io(c->loop, 0, OUT_CAP - c->outoff - c->outlen >= 4096 ? MUX_READ : 0,
			on_stdin_pipe, c);
}

static bool queue_out(struct client *c, const char *data, size_t len)
{
	if (c->outoff && c->outoff + c->outlen + len > OUT_CAP) {
		memmove(c->out, c->out + c->outoff, c->outlen);
		c->outoff = 0;
	}
	if (c->outoff + c->outlen + len > OUT_CAP)
		return false;
	memcpy(c->out + c->outoff + c->outlen, data, len);
	c->outlen += len;
	return true;
}

static void flush_out(struct client *c)
{
	while (c->outlen) {
		ssize_t w = write(c->fd, c->out + c->outoff, c->outlen);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			errmsg("write to %s: %s", c->target, strerror(errno));
			finish(c, EXIT_FAIL);
			return;
		}
		c->outoff += (size_t)w;
		c->outlen -= (size_t)w;
	}
	if (!c->outlen)
		c->outoff = 0;
	if (!c->outlen && c->stdin_eof && !c->quitting) {
		/* Everything was sent: tell the server, then take what it
		 * still has for us until it closes. */
		c->quitting = true;
		shutdown(c->fd, SHUT_WR);
		loop_timer_start(c->loop, &c->timer, LINGER_MS);
	}
	update_server_mask(c);
}

/* ---- incoming lines ---- */

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

static void tty_charset_close(struct client *c)
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
static void tty_charset(struct client *c)
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

static bool put_stdout(void *arg, const char *p, size_t n)
{
	(void)arg;
	return fwrite(p, 1, n, stdout) == n;
}

/* Writes UTF-8 text to the terminal, in the terminal's charset. */
static void term_put(struct client *c, const char *s, size_t len)
{
	if (c->from_utf8 == (iconv_t)-1)
		fwrite(s, 1, len, stdout);
	else
		recode(c->from_utf8, s, len, true, "?", put_stdout, NULL);
}

static void print_line(struct client *c, const char *line, size_t len)
{
	size_t off, nlen;
	enum chat_kind k = c->color ? chat_classify(line, len, &off, &nlen) : CHAT_K_OTHER;
	switch (k) {
	case CHAT_K_NOTICE:
		fputs("\033[2m", stdout);
		term_put(c, line, len);
		fputs("\033[0m", stdout);
		break;
	case CHAT_K_SAY:
	case CHAT_K_ACTION:
	case CHAT_K_PRIVATE:
		term_put(c, line, off);
		printf("\033[%s;1m", k == CHAT_K_PRIVATE ? "35" : name_color(line + off, nlen));
		term_put(c, line + off, nlen);
		fputs("\033[0m", stdout);
		term_put(c, line + off + nlen, len - off - nlen);
		break;
	default:
		term_put(c, line, len);
	}
	fputs(c->tty ? "\r\n" : "\n", stdout);
}

static void show_lines(struct client *c, bool eof)
{
	size_t off = 0;
	bool any = false;
	while (off < c->inlen) {
		const char *line;
		size_t len, used;
		enum chat_frame fr = chat_frame_next_eof(&c->fr, c->in + off, c->inlen - off,
							 IN_MAX, eof, &line, &len, &used);
		off += used;
		if (fr == CHAT_FRAME_MORE) {
			if (used == 0)
				break;
			continue;
		}
		if (c->tty && !any)
			/* Clear the prompt line; it is drawn again below. */
			fputs("\r\033[K", stdout);
		any = true;
		size_t n = chat_sanitize(line, len, c->clean);
		print_line(c, c->clean, n);
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	if (any) {
		fflush(stdout);
		if (c->editing)
			rl_forced_update_display();
	}
}

static void on_server(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	struct client *c = arg;
	if (mask & MUX_READ) {
		ssize_t r = read(fd, c->in + c->inlen, sizeof c->in - c->inlen);
		if (r > 0) {
			c->inlen += (size_t)r;
			show_lines(c, false);
		} else if (r == 0) {
			show_lines(c, true);
			if (!c->quitting && !c->stdin_eof && c->tty)
				errmsg("%s closed the connection", c->target);
			finish(c, EXIT_OK);
			return;
		} else if (errno != EAGAIN && errno != EINTR) {
			errmsg("read from %s: %s", c->target, strerror(errno));
			finish(c, EXIT_FAIL);
			return;
		}
	}
	if (mask & MUX_WRITE)
		flush_out(c);
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

static bool put_out(void *arg, const char *p, size_t n)
{
	return queue_out(arg, p, n);
}

static void on_edit_line(char *line)
{
	struct client *c = g_client;
	if (!line) {
		/* Ctrl-D on an empty line. */
		fputs("\r\n", stdout);
		c->stdin_eof = true;
		c->editing = false;
		rl_callback_handler_remove();
		loop_io(c->loop, 0, 0, NULL, NULL);
		queue_out(c, "/quit\n", 6);
		flush_out(c);
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
		size_t n = strlen(line), mark = c->outlen;
		bool ok = c->to_utf8 == (iconv_t)-1
			      ? queue_out(c, line, n)
			      : recode(c->to_utf8, line, n, false, "\xEF\xBF\xBD", put_out, c);
		if (!ok || !queue_out(c, "\n", 1)) {
			/* All of the line or nothing. */
			c->outlen = mark;
			errmsg("too much queued for %s: line not sent", c->target);
		}
		flush_out(c);
	}
	if (!c->done)
		rl_callback_handler_install(PROMPT, on_edit_line);
	else
		c->editing = false;
	free(line);
}

static void on_stdin_tty(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	(void)fd;
	(void)mask;
	(void)arg;
	rl_callback_read_char();
}

/* ---- input: a pipe or a file ---- */

static void on_stdin_pipe(struct loop *l, int fd, int mask, void *arg)
{
	(void)mask;
	struct client *c = arg;
	if (c->outoff) {
		memmove(c->out, c->out + c->outoff, c->outlen);
		c->outoff = 0;
	}
	size_t room = OUT_CAP - c->outlen;
	if (room < 2)
		return;
	ssize_t r = read(fd, c->out + c->outlen, room - 1);
	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		errmsg("read from stdin: %s", strerror(errno));
		r = 0;
	}
	if (r == 0) {
		c->stdin_eof = true;
		loop_io(l, fd, 0, NULL, NULL);
		/* A last line without a newline is still a line. */
		if (c->outlen && c->out[c->outlen - 1] != '\n')
			c->out[c->outlen++] = '\n';
	}
	c->outlen += (size_t)r;
	flush_out(c);
}

/* ---- connecting ---- */

static void on_linger(struct loop *l, void *arg)
{
	(void)l;
	/* The server never closed after our last line. */
	finish(arg, EXIT_OK);
}

static void on_connected(struct loop *l, struct stream *conn, int err, const char *errtext,
			 void *arg)
{
	/* The engine below still works on the fd itself. */
	int fd = conn ? stream_detach_fd(conn) : -1;
	(void)l;
	(void)err;
	struct client *c = arg;
	c->cn = NULL;
	if (fd < 0) {
		errmsg("%s", errtext);
		finish(c, EXIT_FAIL);
		return;
	}
	c->fd = fd;
	struct sock_addr peer;
	char where[SOCK_ADDRSTRLEN] = "?";
	if (sock_peer_addr(fd, &peer) == 0)
		sock_addr_str((struct sockaddr *)&peer.ss, peer.len, where, sizeof where);
	vmsg("chat: connected to %s", where);
	char line[128];
	if (c->tty)
		queue_out(c, "/echo on\n", 9);
	if (c->name) {
		snprintf(line, sizeof line, "/nick %s\n", c->name);
		queue_out(c, line, strlen(line));
	}
	if (c->room) {
		snprintf(line, sizeof line, "/join %s\n", c->room);
		queue_out(c, line, strlen(line));
	}
	if (c->tty) {
		tty_charset(c);
		rl_catch_signals = 0;
		rl_callback_handler_install(PROMPT, on_edit_line);
		c->editing = true;
		loop_io(c->loop, 0, MUX_READ, on_stdin_tty, c);
	} else if (loop_io(c->loop, 0, MUX_READ, on_stdin_pipe, c) < 0) {
		c->stdin_eof = true; /* stdin closed */
	}
	flush_out(c);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	(void)l;
	(void)signo;
	finish(arg, EXIT_FAIL);
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
    "  global options: --mux, -4, -6, -n, -v, -q (see sockctl --help)\n";

enum { OPT_COLOR = OPT_BASE };

int chat_connect(int argc, char **argv)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"unix", required_argument, NULL, 'U'},
	    {"name", required_argument, NULL, 'N'},
	    {"room", required_argument, NULL, 'r'},
	    {"color", required_argument, NULL, OPT_COLOR},
	    {NULL, 0, NULL, 0},
	};
	static struct client cl; /* large buffers: not on the stack */
	struct client *c = &cl;
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->to_utf8 = c->from_utf8 = (iconv_t)-1;
	const char *color = "auto";
	struct sock_endpoint ep = {.socktype = SOCK_STREAM};
	int o;
	while ((o = cmd_getopt(argc, argv, COMMON_SHORTOPTS "U:N:r:", longopts)) != -1) {
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
			*(o == 'N' ? &c->name : &c->room) = optarg;
			break;
		}
		case OPT_COLOR:
			if (strcmp(optarg, "auto") && strcmp(optarg, "always") &&
			    strcmp(optarg, "never"))
				return usage_error("--color: '%s' is not auto, always or never",
						   optarg);
			color = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
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
	c->target = target;

	int status = EXIT_FAIL;
	c->loop = cmd_loop(16, &status);
	if (!c->loop)
		return status;
	g_client = c;
	timer_init(&c->timer, on_linger, c);
	char err[SOCK_ERRLEN + SOCK_ADDRSTRLEN];
	struct connect_opts co = {.timeout_ms = CONNECT_TIMEOUT_MS};
	c->cn = connector_start(c->loop, &ep, &co, on_connected, c, err, sizeof err);
	if (!c->cn) {
		errmsg("%s", err);
		loop_free(c->loop);
		return EXIT_FAIL;
	}
	loop_signal(c->loop, SIGINT, on_signal, c);
	loop_signal(c->loop, SIGTERM, on_signal, c);
	if (!c->done && loop_run(c->loop) < 0) {
		errmsg("event loop: %s", strerror(errno));
		c->status = EXIT_FAIL;
	}
	if (c->editing) {
		rl_callback_handler_remove();
		fputs("\r\n", stdout);
	}
	fflush(stdout);
	if (c->fd >= 0) {
		loop_io(c->loop, c->fd, 0, NULL, NULL);
		close(c->fd);
	}
	if (c->cn)
		connector_cancel(c->cn);
	loop_io(c->loop, 0, 0, NULL, NULL);
	loop_free(c->loop);
	tty_charset_close(c);
	return c->status;
}
