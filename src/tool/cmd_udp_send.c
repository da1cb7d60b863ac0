/* sockctl udp-send: the command line of the udp-send engine
 * (udp/udp_send.h): options, payloads from the arguments or all of stdin,
 * the replies as text, hex or one --json object, -v statistics and the
 * exit status. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool/cmd.h"
#include "core/loop.h"
#include "core/sbuf.h"
#include "net/sock.h"
#include "net/sockopt.h"
#include "net/stream.h"
#include "udp/hexpayload.h"
#include "udp/udp_dest.h"
#include "udp/udp_send.h"

struct us {
	struct loop *l;
	struct udp_dest d;	/* owns d.fd until the engine takes it */
	struct udp_send *eng;	/* owned */
	struct stream *in;	/* owned: stdin, when it is the payload */
	struct udp_payload *pl; /* owned, npl entries: MESSAGEs or all of stdin */
	size_t npl;
	bool hex, from;
	int wait_ms;

	/* --json: one object on stdout; its replies are written as they
	 * come, so memory stays flat however many there are. */
	bool json, json_open, json_armed;
	struct sbuf js; /* owned */
	uint64_t json_replies;
	char dest[SOCK_ADDRSTRLEN + 16]; /* the destination as given, until opened */
	int64_t t0;

	/* A failure before the engine ran, for --json. */
	const char *errkind;
	char errtext[512];
};

static const char help[] =
    "usage: sockctl udp-send [options] HOST PORT [MESSAGE...]   (or HOST:PORT)\n"
    "       sockctl udp-send [options] -U PATH [MESSAGE...]\n"
    "\n"
    "Send datagrams and, with -w, wait for the replies and print them.\n"
    "Each MESSAGE is one datagram. Without MESSAGE, all of stdin is one\n"
    "datagram, or with --lines each stdin line is one (without its newline).\n"
    "\n"
    "Payload:\n"
    "      --lines           one datagram per stdin line\n"
    "      --hex             payloads are hex (\"de ad be ef\"); replies printed as hex\n"
    "      --size N          N bytes of filler (with a sequence number if N >= 16)\n"
    "  -c, --count N         send N datagrams in all, cycling through the payloads\n"
    "      --interval MS     wait MS milliseconds between datagrams\n"
    "      --rate PPS        send PPS datagrams per second\n"
    "Replies:\n"
    "  -w, --wait SECS       after the last datagram, wait up to SECS for replies\n"
    "      --replies N       stop after N replies (waits 2 s unless -w is given)\n"
    "      --from            prefix each reply with its sender and a tab\n"
    "      --recv-buffer N   receive buffer for one reply (default 65536); larger\n"
    "                        replies are reported as truncated\n"
    "      --json            print one JSON object at the end instead of the replies:\n"
    "                        counts, round-trip times, each reply (sender, size,\n"
    "                        truncation, time, data) and the error, if any\n"
    "Addressing:\n"
    "  -s, --source ADDR     send from this local address (-U: this socket path)\n"
    "  -p, --source-port P   send from this local port\n"
    "  -U, --unix PATH       Unix datagram socket (@name: abstract)\n"
    "      --broadcast       allow a broadcast destination\n"
    "      --ttl N           IP TTL / hop limit, unicast and multicast (1-255)\n"
    "      --interface IF    multicast interface (name or IPv4 address); for\n"
    "                        unicast, bind to the device\n"
    "  -4, -6                IPv4 or IPv6 only\n"
    "  -v, --verbose         report sent, received, lost and round-trip times\n"
    "\n"
    "Exit status: 0 the expected replies came (or none were waited for),\n"
    "1 timeout, ICMP port unreachable or another failure, 2 usage or bad payload.\n";

/* Prints a failure before the engine runs and keeps it for --json. */
__attribute__((format(printf, 2, 3))) static void us_error(struct us *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->errtext, sizeof u->errtext, fmt, ap);
	va_end(ap);
	errmsg("%s", u->errtext);
	u->errkind = "error";
}

/* The JSON status of an engine failure. */
static const char *err_kind(enum udp_err e)
{
	switch (e) {
	case UDP_ERR_NONE:
		return NULL;
	case UDP_ERR_TIMEOUT:
		return "timeout";
	case UDP_ERR_UNREACHABLE:
		return "unreachable";
	case UDP_ERR_TRUNCATED:
		return "truncated";
	case UDP_ERR_BAD_INPUT:
		return "bad-input";
	case UDP_ERR_INTERRUPTED:
		return "interrupted";
	case UDP_ERR_OTHER:
		break;
	}
	return "error";
}

/* ---- replies ---- */

static void print_reply(struct us *u, const struct udp_reply *r)
{
	if (u->from) {
		char a[SOCK_ADDRSTRLEN];
		fputs(r->from->len ? sock_addr_str((const struct sockaddr *)&r->from->ss,
						   r->from->len, a, sizeof a)
				   : "(unnamed)",
		      stdout);
		putchar('\t');
	}
	if (u->hex) {
		char hx[2 * 256 + 1];
		for (size_t off = 0; off < r->len; off += 256) {
			size_t k = r->len - off < 256 ? r->len - off : 256;
			fwrite(hx, 1, hex_encode(r->data + off, k, hx), stdout);
		}
		putchar('\n');
	} else {
		fwrite(r->data, 1, r->len, stdout);
		/* One reply per line: add the newline unless it has one. */
		if (r->len == 0 || r->data[r->len - 1] != '\n')
			putchar('\n');
	}
}

/* ---- --json ---- */

static void json_flush(struct us *u)
{
	fwrite(u->js.p, 1, u->js.len, stdout);
	sb_reset(&u->js);
}

static void json_begin(struct us *u)
{
	if (u->json_open)
		return;
	u->json_open = true;
	const struct udp_dest *d = u->eng ? udp_send_dest(u->eng) : &u->d;
	sb_puts(&u->js, "{\"destination\":");
	json_str(&u->js, d->fd >= 0 ? d->text : u->dest);
	if (d->fd >= 0)
		sb_printf(&u->js, ",\"protocol\":\"%s\"",
			  sock_proto_name(d->dst.ss.ss_family, SOCK_DGRAM));
	sb_puts(&u->js, ",\"replies\":[");
	json_flush(u);
}

/* One entry of "replies". */
static void json_reply(struct us *u, const struct udp_reply *r)
{
	json_begin(u);
	struct sbuf *b = &u->js;
	char a[SOCK_ADDRSTRLEN];
	sb_puts(b, u->json_replies++ ? ",{\"from\":" : "{\"from\":");
	if (r->from->len)
		json_str(b, sock_addr_str((const struct sockaddr *)&r->from->ss, r->from->len, a,
					  sizeof a));
	else
		sb_puts(b, "null");
	sb_printf(b, ",\"size\":%zu,\"truncated\":%s", r->size,
		  r->len < r->size ? "true" : "false");
	if (r->len < r->size)
		sb_printf(b, ",\"received_size\":%zu", r->len);
	if (r->seq_known)
		sb_printf(b, ",\"seq\":%" PRIu64, r->seq);
	if (r->rtt_us >= 0)
		sb_printf(b, ",\"rtt_ms\":%.3f", (double)r->rtt_us / 1000.0);
	else
		sb_puts(b, ",\"rtt_ms\":null");
	/* Escaped text takes up to 6 bytes a byte: a reply that could not
	 * fit the text buffer is listed without its bytes. */
	if ((u->hex ? 2 : 6) * r->len + b->len + 64 > SBUF_MAX) {
		sb_puts(b, u->hex ? ",\"hex\":null}" : ",\"data\":null}");
	} else if (u->hex) {
		char hx[2 * 256 + 1];
		sb_puts(b, ",\"hex\":\"");
		for (size_t off = 0; off < r->len; off += 256) {
			size_t k = r->len - off < 256 ? r->len - off : 256;
			sb_putn(b, hx, hex_encode(r->data + off, k, hx));
		}
		sb_puts(b, "\"}");
	} else {
		sb_puts(b, ",\"data\":");
		json_string(b, (const char *)r->data, r->len);
		sb_putc(b, '}');
	}
	json_flush(u);
}

/* The rest of the object, for a run that ended with exit status `status`. */
static void json_end(struct us *u, int status)
{
	json_begin(u);
	struct sbuf *b = &u->js;
	struct udp_send_result res = {.errtext = u->errtext};
	if (u->eng)
		udp_send_get_result(u->eng, &res);
	const struct probe *p = res.probe;
	const char *kind = u->eng ? err_kind(res.err) : u->errkind;
	uint64_t sent = p ? p->sent : 0, received = p ? p->received : 0;
	sb_printf(b, "],\"sent\":%" PRIu64 ",\"received\":%" PRIu64, sent, received);
	/* As with -v: without a wait for replies nothing is lost. */
	if (u->wait_ms > 0)
		sb_printf(b, ",\"lost\":%" PRIu64, sent > received ? sent - received : 0);
	else
		sb_puts(b, ",\"lost\":null");
	if (p && p->timed)
		sb_printf(b, ",\"rtt_ms\":{\"min\":%.3f,\"avg\":%.3f,\"max\":%.3f}",
			  (double)p->rtt_min / 1000.0,
			  (double)p->rtt_sum / (double)p->timed / 1000.0,
			  (double)p->rtt_max / 1000.0);
	else
		sb_puts(b, ",\"rtt_ms\":null");
	sb_printf(b, ",\"truncated\":%" PRIu64 ",\"seconds\":%.3f,\"status\":", res.truncated,
		  (double)(clock_us() - u->t0) / 1e6);
	json_str(b, status == EXIT_OK ? "ok" : kind ? kind : "error");
	sb_puts(b, ",\"error\":");
	if (status == EXIT_OK || !kind)
		sb_puts(b, "null");
	else
		json_str(b, res.errtext);
	sb_puts(b, "}\n");
	json_flush(u);
	fflush(stdout);
}

/* ---- the engine's callbacks ---- */

static void on_reply(struct udp_send *eng, const struct udp_reply *r, void *arg)
{
	(void)eng;
	struct us *u = arg;
	if (u->json)
		json_reply(u, r);
	else
		print_reply(u, r);
}

static void on_batch(struct udp_send *eng, void *arg)
{
	(void)arg;
	if (fflush(stdout) == EOF || ferror(stdout))
		udp_send_fail(eng, UDP_ERR_OTHER, "write stdout: %s", strerror(errno));
}

static void on_done(struct udp_send *eng, void *arg)
{
	(void)eng;
	struct us *u = arg;
	loop_stop(u->l);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	(void)l;
	struct us *u = arg;
	udp_send_fail(u->eng, UDP_ERR_INTERRUPTED, "interrupted by %s", strsignal(signo));
}

static int exit_status(enum udp_status s)
{
	return s == UDP_OK ? EXIT_OK : s == UDP_BAD_INPUT ? EXIT_USAGE : EXIT_FAIL;
}

/* ---- set-up ---- */

/* All of stdin as the one datagram, checked as MESSAGEs are. */
static int read_stdin_payload(struct us *u, size_t maxdgram, const char *proto)
{
	u->pl = calloc(1, sizeof *u->pl);
	if (!u->pl)
		return errmsg("out of memory"), EXIT_FAIL;
	u->npl = 1;
	size_t cap = u->hex ? UDP_LINE_CAP : maxdgram;
	u->in = stream_fd_new(u->l, STDIN_FILENO, 0);
	int r = u->in ? udp_payload_read(u->in, cap, &u->pl[0]) : -1;
	if (r < 0) {
		us_error(u, "read stdin: %s", strerror(errno));
		return EXIT_FAIL;
	}
	if (r > 0) {
		errmsg("stdin holds more than %zu bytes, the largest %s datagram%s; use --lines "
		       "for one datagram per line",
		       cap, proto, u->hex ? " (as hex text)" : "");
		return EXIT_USAGE;
	}
	if (u->hex) {
		char err[128];
		unsigned char *bin = malloc(maxdgram);
		if (!bin)
			return errmsg("out of memory"), EXIT_FAIL;
		long n = hex_decode((const char *)u->pl[0].data, u->pl[0].len, bin, maxdgram, err,
				    sizeof err);
		free(u->pl[0].data);
		u->pl[0].data = bin;
		if (n < 0) {
			errmsg("stdin: %s", err);
			return EXIT_USAGE;
		}
		u->pl[0].len = (size_t)n;
	}
	return EXIT_OK;
}

static bool parse_count(const char *s, long min, long max, long *out, const char *opt)
{
	if (parse_long(s, min, max, out))
		return true;
	usage_error("invalid %s '%s' (use %ld-%ld)", opt, s, min, max);
	return false;
}

enum {
	OPT_LINES = OPT_BASE,
	OPT_HEX,
	OPT_SIZE,
	OPT_INTERVAL,
	OPT_RATE,
	OPT_REPLIES,
	OPT_FROM,
	OPT_RECVBUF,
	OPT_BROADCAST,
	OPT_TTL,
	OPT_IFACE,
	OPT_JSON,
};

static void us_free(struct us *u)
{
	udp_send_free(u->eng);
	udp_dest_close(&u->d);
	stream_close(u->in);
	for (size_t i = 0; i < u->npl; i++)
		free(u->pl[i].data);
	free(u->pl);
	sb_free(&u->js);
	if (u->l)
		loop_free(u->l);
}

static int run(struct us *u, int argc, char **argv);

int cmd_udp_send(int argc, char **argv)
{
	struct us u = {.d.fd = -1};
	sb_init(&u.js);
	int r = run(&u, argc, argv);
	/* The object comes with every run that got going, failed or not;
	 * a usage error before anything was sent gets only its message. */
	struct udp_send_result res = {0};
	if (u.eng)
		udp_send_get_result(u.eng, &res);
	if (u.json_armed && !(r == EXIT_USAGE && (!res.probe || !res.probe->sent)))
		json_end(&u, r);
	us_free(&u);
	return r;
}

static int run(struct us *u, int argc, char **argv)
{
	struct udp_send_config cfg = {.recv_buffer = 65536};
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"lines", no_argument, NULL, OPT_LINES},
	    {"hex", no_argument, NULL, OPT_HEX},
	    {"size", required_argument, NULL, OPT_SIZE},
	    {"count", required_argument, NULL, 'c'},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    {"rate", required_argument, NULL, OPT_RATE},
	    {"wait", required_argument, NULL, 'w'},
	    {"replies", required_argument, NULL, OPT_REPLIES},
	    {"from", no_argument, NULL, OPT_FROM},
	    {"recv-buffer", required_argument, NULL, OPT_RECVBUF},
	    {"source", required_argument, NULL, 's'},
	    {"source-port", required_argument, NULL, 'p'},
	    {"unix", required_argument, NULL, 'U'},
	    {"broadcast", no_argument, NULL, OPT_BROADCAST},
	    {"ttl", required_argument, NULL, OPT_TTL},
	    {"interface", required_argument, NULL, OPT_IFACE},
	    {"json", no_argument, NULL, OPT_JSON},
	    {NULL, 0, NULL, 0},
	};
	struct udp_dest_opts ao = {.ttl = -1};
	const char *unix_path = NULL;
	char *src = NULL; /* -s: an address, or with -U a socket path */
	bool lines = false, have_size = false, have_wait = false, have_count = false;
	long v;
	int c;
	while ((c = cmd_getopt(argc, argv, COMMON_SHORTOPTS "c:w:s:p:U:", longopts)) != -1) {
		switch (c) {
		case 'h':
			return print_help(help);
		case OPT_LINES:
			lines = true;
			break;
		case OPT_HEX:
			u->hex = true;
			break;
		case OPT_SIZE:
			if (!parse_count(optarg, 0, UDP_MAX_PAYLOAD, &v, "--size"))
				return EXIT_USAGE;
			cfg.size = (size_t)v;
			have_size = true;
			break;
		case 'c':
			if (!parse_count(optarg, 1, 1000000000000L, &v, "--count"))
				return EXIT_USAGE;
			cfg.count = (uint64_t)v;
			have_count = true;
			break;
		case OPT_INTERVAL:
			if (!parse_count(optarg, 1, 3600000, &v, "--interval"))
				return EXIT_USAGE;
			cfg.interval_ms = (int)v;
			break;
		case OPT_RATE: {
			char *end;
			errno = 0;
			double d = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(d > 0) || d > 100e6 ||
			    optarg[0] == ' ')
				return usage_error("invalid --rate '%s' (datagrams per second, "
						   "more than 0 and at most 100000000)",
						   optarg);
			cfg.rate = d;
			break;
		}
		case 'w':
			if (!parse_seconds(optarg, &u->wait_ms))
				return usage_error("invalid --wait '%s' (seconds)", optarg);
			have_wait = true;
			break;
		case OPT_REPLIES:
			if (!parse_count(optarg, 1, 1000000000000L, &v, "--replies"))
				return EXIT_USAGE;
			cfg.want = (uint64_t)v;
			break;
		case OPT_FROM:
			u->from = true;
			break;
		case OPT_RECVBUF:
			if (!parse_count(optarg, 1, 16 << 20, &v, "--recv-buffer"))
				return EXIT_USAGE;
			cfg.recv_buffer = (size_t)v;
			break;
		case 's':
			src = optarg;
			break;
		case 'p':
			ao.src_port = optarg;
			break;
		case 'U':
			if (!opt_unix_path(optarg))
				return EXIT_USAGE;
			unix_path = optarg;
			break;
		case OPT_BROADCAST:
			ao.broadcast = true;
			break;
		case OPT_TTL:
			if (!parse_count(optarg, 1, 255, &v, "--ttl"))
				return EXIT_USAGE;
			ao.ttl = (int)v;
			break;
		case OPT_IFACE:
			if (!sockopt_ifname_ok(optarg) &&
			    !inet_pton(AF_INET, optarg, &(struct in_addr){0}))
				return usage_error("invalid --interface '%s': an interface name or "
						   "an IPv4 address",
						   optarg);
			ao.iface = optarg;
			break;
		case OPT_JSON:
			u->json = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	struct sock_endpoint ep = {
	    .family = g_opts.family, .socktype = SOCK_DGRAM, .numeric = g_opts.numeric};
	int nfixed = 0;
	ao.src_host = src && !unix_path ? opt_host("-s", src) : src;
	if (src && !ao.src_host)
		return EXIT_USAGE;
	if (unix_path) {
		ep.unix_path = unix_path;
		if (ao.src_port || ao.broadcast || ao.ttl >= 0 || ao.iface)
			return usage_error("-p, --broadcast, --ttl and --interface need an IP "
					   "destination, not -U");
	} else {
		int nargs = argc - optind;
		if (nargs < 2 && !(nargs == 1 && strchr(argv[optind], ':')))
			return usage_error("missing HOST and PORT");
		nfixed = endpoint_operands(nargs, argv + optind, 0, SOCK_DGRAM, &ep.host, &ep.port);
		if (nfixed < 0)
			return EXIT_USAGE;
		uint16_t port;
		char perr[SOCK_ERRLEN];
		/* Checked here, not when binding: a bad value is the user's (2). */
		if (ao.src_port &&
		    !sock_parse_port(ao.src_port, SOCK_DGRAM, true, &port, perr, sizeof perr))
			return usage_error("-p: %s", perr);
	}
	char **msgs = argv + optind + nfixed;
	int nmsgs = argc - optind - nfixed;

	/* Payload sources are explicit: exactly one. */
	if (nmsgs && (lines || have_size))
		return usage_error("MESSAGE arguments cannot be combined with %s",
				   lines ? "--lines" : "--size");
	if (lines && have_size)
		return usage_error("--lines and --size are different payload sources");
	if (have_size && u->hex)
		return usage_error("--hex does not apply to --size filler");
	if (lines && have_count)
		return usage_error("--count cannot be combined with --lines (one datagram per "
				   "line)");
	if (cfg.interval_ms && cfg.rate > 0)
		return usage_error("--interval and --rate both set the pace: choose one");
	if (cfg.want && !have_wait)
		u->wait_ms = 2000;

	/* Command-line payloads are checked before anything is sent. */
	if (nmsgs) {
		u->pl = calloc((size_t)nmsgs, sizeof *u->pl);
		if (!u->pl)
			return errmsg("out of memory"), EXIT_FAIL;
		u->npl = (size_t)nmsgs; /* freed by us_free, even half-built */
		for (int i = 0; i < nmsgs; i++) {
			size_t len = strlen(msgs[i]);
			u->pl[i].data = malloc(len ? len : 1);
			if (!u->pl[i].data)
				return errmsg("out of memory"), EXIT_FAIL;
			if (u->hex) {
				char err[128];
				long n =
				    hex_decode(msgs[i], len, u->pl[i].data, len, err, sizeof err);
				if (n < 0)
					return usage_error("MESSAGE %d: %s", i + 1, err);
				len = (size_t)n;
			} else {
				memcpy(u->pl[i].data, msgs[i], len);
			}
			u->pl[i].len = len;
			if (len > UDP_MAX_PAYLOAD)
				return usage_error("MESSAGE %d is %zu bytes; the largest datagram "
						   "is %d",
						   i + 1, len, UDP_MAX_PAYLOAD);
		}
	}

	int status;
	u->l = cmd_loop(4, &status);
	if (!u->l)
		return status;
	char err[SOCK_ERRLEN + SOCK_ADDRSTRLEN];
	/* From here on a failure is a run's: --json reports it. */
	u->json_armed = u->json;
	u->t0 = clock_us();
	if (unix_path)
		snprintf(u->dest, sizeof u->dest, "%s", unix_path);
	else
		snprintf(u->dest, sizeof u->dest, strchr(ep.host, ':') ? "[%s]:%s" : "%s:%s",
			 ep.host, ep.port);
	if (udp_dest_open(&ep, &ao, &u->d, err, sizeof err) < 0) {
		us_error(u, "%s", err);
		return EXIT_FAIL;
	}
	int family = u->d.dst.ss.ss_family;
	size_t maxdgram = udp_max_datagram(family);
	const char *proto = sock_proto_name(family, SOCK_DGRAM);
	for (size_t i = 0; i < u->npl; i++)
		if (u->pl[i].len > maxdgram)
			return usage_error("MESSAGE %zu is %zu bytes; the largest %s datagram%s is "
					   "%zu",
					   i + 1, u->pl[i].len, proto,
					   family == AF_INET	? " over IPv4"
					   : family == AF_INET6 ? " over IPv6"
								: "",
					   maxdgram);
	if (have_size && cfg.size > maxdgram)
		return usage_error("--size %zu exceeds the largest %s datagram (%zu bytes)",
				   cfg.size, proto, maxdgram);

	if (have_size) {
		cfg.src = UDP_SRC_FILLER;
		if (!have_count)
			cfg.count = 1;
	} else if (lines) {
		cfg.src = UDP_SRC_LINES;
		u->in = stream_fd_new(u->l, STDIN_FILENO, 0);
		if (!u->in) {
			us_error(u, "watch stdin: %s", strerror(errno));
			return EXIT_FAIL;
		}
	} else {
		cfg.src = UDP_SRC_LIST;
		if (!nmsgs) {
			int r = read_stdin_payload(u, maxdgram, proto);
			if (r != EXIT_OK)
				return r;
		}
		if (!have_count)
			cfg.count = u->npl;
	}
	cfg.payloads = u->pl;
	cfg.npayloads = u->npl;
	cfg.in = u->in;
	cfg.in_name = "stdin";
	cfg.hex = u->hex;
	cfg.wait_ms = u->wait_ms;
	cfg.on_reply = on_reply;
	cfg.on_batch = on_batch;
	cfg.on_done = on_done;
	cfg.arg = u;
	u->eng = udp_send_new(u->l, &u->d, &cfg, err, sizeof err);
	if (!u->eng) {
		errmsg("%s", err);
		return EXIT_FAIL;
	}
	loop_signal(u->l, SIGINT, on_signal, u);
	loop_signal(u->l, SIGTERM, on_signal, u);
	const struct udp_dest *d = udp_send_dest(u->eng);
	if (g_opts.verbose) {
		struct sock_addr me;
		char a[SOCK_ADDRSTRLEN] = "?";
		if (sock_local_addr(d->fd, &me) == 0)
			sock_addr_str((const struct sockaddr *)&me.ss, me.len, a, sizeof a);
		vmsg("sending to %s from %s (%s%s, mux=%s)", d->text, a, proto,
		     d->group ? ", unconnected" : "", loop_backend(u->l));
	}
	int64_t t0 = u->t0 = clock_us();
	udp_send_start(u->eng);
	if (!udp_send_done(u->eng) && loop_run(u->l) < 0)
		udp_send_fail(u->eng, UDP_ERR_OTHER, "event loop: %s", strerror(errno));
	fflush(stdout);
	struct udp_send_result res;
	udp_send_get_result(u->eng, &res);
	if (g_opts.verbose) {
		char line[256];
		probe_format(res.probe, u->wait_ms > 0, line, sizeof line);
		double secs = (double)(clock_us() - t0) / 1e6;
		vmsg("%s; %.3f s, %.0f datagrams/s sent", line, secs,
		     secs > 0 ? (double)res.probe->sent / secs : 0.0);
	}
	return exit_status(res.status);
}
