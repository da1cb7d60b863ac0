/* sockctl udp-send: datagrams from arguments, stdin lines, hex or filler;
 * optionally paced (--count/--interval/--rate), optionally waiting for
 * the replies and printing them.
 *
 * Unicast destinations use a connect()ed socket: the kernel then drops
 * datagrams from strangers and reports ICMP port unreachable as
 * ECONNREFUSED. Broadcast and multicast use sendto() on an unconnected
 * socket, because their replies come from other addresses. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool/cmd.h"
#include "dns/dns_fmt.h"
#include "udp/hexpayload.h"
#include "core/loop.h"
#include "net/sock.h"
#include "net/sockopt.h"
#include "udp/udp_dest.h"
#include "udp/udp_probe.h"

/* The largest payloads: IPv4 65535 - 20 - 8, IPv6 65535 - 8 (no
 * jumbograms); Unix datagrams are capped here at 64 KiB. */
enum { MAX_UDP4 = 65507, MAX_UDP6 = 65527, MAX_UNIX = 65536, MAX_PAYLOAD = 65536 };
enum { BATCH = 64, SEND_BUDGET = 4096, RECV_BUDGET = 16 };
/* A stdin line may hold separators around its hex digits. */
enum { LINE_CAP = 4 * MAX_PAYLOAD };

struct payload {
	unsigned char *data; /* owned */
	size_t len;
};

struct us {
	struct loop *l;
	struct udp_dest d; /* owns d.fd */
	size_t maxdgram;

	/* What to send. */
	enum { SRC_LIST, SRC_FILLER, SRC_LINES } src;
	struct payload *pl; /* owned, npl entries: MESSAGEs or all of stdin */
	size_t npl;
	size_t size;	     /* --size */
	unsigned char *fill; /* owned: BATCH filler buffers of `size` bytes */
	bool hex;
	uint64_t count; /* datagrams to send (SRC_LINES: until EOF) */

	/* --lines: stdin read on the loop. */
	unsigned char *lbuf; /* owned, LINE_CAP */
	size_t llen;
	unsigned char *line; /* owned: the decoded hex line */
	uint64_t lineno;
	bool in_eof, in_watched;

	/* Pacing. */
	int interval_ms;
	double rate;
	int64_t start_us;
	struct timer pace;

	/* Replies. */
	int wait_ms;
	uint64_t want; /* --replies N, 0 = one per datagram sent */
	bool from, sending_done;
	size_t rbufsize;
	int rbatch;
	unsigned char *rbuf;	 /* owned, rbatch * rbufsize */
	struct sock_addr *rfrom; /* owned, rbatch */
	struct timer wait;
	struct probe *probe; /* owned */
	uint64_t truncated;  /* replies cut to the receive buffer */

	/* --json: one object on stdout; its replies are written as they
	 * come, so memory stays flat however many there are. */
	bool json, json_open, json_armed;
	struct sbuf js; /* owned */
	uint64_t json_replies;
	char dest[SOCK_ADDRSTRLEN + 16]; /* the destination as given, until opened */
	int64_t t0;

	/* The failure that ended the run, for --json (a truncated reply
	 * gives way to a later one). */
	const char *errkind;
	char errtext[512];

	int status;
	bool done;
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

/* ---- helpers ---- */

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void finish(struct us *u, int status)
{
	if (u->done)
		return;
	u->done = true;
	u->status = status;
	loop_stop(u->l);
}

/* Prints a failure and keeps it for --json. kind is the JSON status:
 * timeout, unreachable, truncated, bad-input, interrupted or error. */
__attribute__((format(printf, 3, 4))) static void us_error(struct us *u, const char *kind,
							   const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	errmsg("%s", line);
	if (!u->errkind || (strcmp(u->errkind, "truncated") == 0 && strcmp(kind, "truncated"))) {
		u->errkind = kind;
		snprintf(u->errtext, sizeof u->errtext, "%s", line);
	}
}

static void set_mask(struct us *u, int mask)
{
	if (loop_io_mask(u->l, u->d.fd, mask) < 0) {
		us_error(u, "error", "event loop: %s", strerror(errno));
		finish(u, EXIT_FAIL);
	}
}

static void fail_errno(struct us *u, const char *what, int e)
{
	if (e == ECONNREFUSED && u->d.dst.ss.ss_family != AF_UNIX)
		us_error(u, "unreachable", "%s %s: port unreachable (ICMP: %s)", what, u->d.text,
			 strerror(e));
	else
		us_error(u, e == ECONNREFUSED ? "unreachable" : "error", "%s %s: %s", what,
			 u->d.text, strerror(e));
	finish(u, EXIT_FAIL);
}

/* ---- sending ---- */

static void sending_finished(struct us *u);
static void pump(struct us *u);

/* The next stdin line as payload: 1 ready, 0 need input, -1 end, -2 error
 * (reported). */
static int next_line(struct us *u, struct payload *out)
{
	unsigned char *nl = memchr(u->lbuf, '\n', u->llen);
	size_t len;
	if (nl) {
		len = (size_t)(nl - u->lbuf);
	} else if (u->in_eof && u->llen > 0) {
		len = u->llen; /* a last line without its newline */
	} else if (u->in_eof) {
		return -1;
	} else if (u->llen == LINE_CAP) {
		us_error(u, "bad-input", "stdin line %" PRIu64 " is longer than %d bytes",
			 u->lineno + 1, LINE_CAP);
		finish(u, EXIT_USAGE);
		return -2;
	} else {
		return 0;
	}
	if (u->hex) {
		char err[128];
		long n =
		    hex_decode((const char *)u->lbuf, len, u->line, u->maxdgram, err, sizeof err);
		if (n < 0) {
			us_error(u, "bad-input", "stdin line %" PRIu64 ": %s", u->lineno + 1, err);
			finish(u, EXIT_USAGE);
			return -2;
		}
		out->data = u->line;
		out->len = (size_t)n;
	} else {
		if (len > u->maxdgram) {
			us_error(u, "bad-input",
				 "stdin line %" PRIu64
				 " is %zu bytes; the largest %s datagram is %zu",
				 u->lineno + 1, len,
				 sock_proto_name(u->d.dst.ss.ss_family, SOCK_DGRAM), u->maxdgram);
			finish(u, EXIT_USAGE);
			return -2;
		}
		out->data = u->lbuf;
		out->len = len;
	}
	return 1;
}

static void consume_line(struct us *u)
{
	unsigned char *nl = memchr(u->lbuf, '\n', u->llen);
	size_t used = nl ? (size_t)(nl - u->lbuf) + 1 : u->llen;
	memmove(u->lbuf, u->lbuf + used, u->llen - used);
	u->llen -= used;
	u->lineno++;
}

static void on_stdin(struct loop *l, int fd, int mask, void *arg)
{
	struct us *u = arg;
	ssize_t r = read(fd, u->lbuf + u->llen, LINE_CAP - u->llen);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r < 0) {
		us_error(u, "error", "read stdin: %s", strerror(errno));
		finish(u, EXIT_FAIL);
		return;
	}
	if (r == 0)
		u->in_eof = true;
	u->llen += (size_t)r;
	loop_io(l, fd, 0, NULL, NULL);
	u->in_watched = false;
	pump(u);
}

/* How many datagrams pacing allows now; 0 arms the pacing timer. */
static uint64_t pace_allowance(struct us *u)
{
	if (u->interval_ms <= 0 && u->rate <= 0)
		return BATCH;
	if (u->probe->sent == 0)
		return 1;
	int64_t elapsed = now_us() - u->start_us;
	if (u->interval_ms > 0) {
		int64_t next = (int64_t)u->probe->sent * u->interval_ms * 1000;
		if (elapsed >= next)
			return 1;
		loop_timer_start(u->l, &u->pace, (next - elapsed + 999) / 1000);
		return 0;
	}
	double due = (double)elapsed * u->rate / 1e6 + 1.0;
	if (due >= (double)u->probe->sent + 1.0) {
		double allow = due - (double)u->probe->sent;
		return allow > BATCH ? BATCH : (uint64_t)allow;
	}
	double next_us = (double)u->probe->sent * 1e6 / u->rate;
	int64_t wait = (int64_t)((next_us - (double)elapsed) / 1000.0) + 1;
	loop_timer_start(u->l, &u->pace, wait);
	return 0;
}

/* Sends n datagrams starting with number `first`; returns how many went,
 * or -1 with errno. */
static int send_batch(struct us *u, const struct payload *line, int n)
{
	struct iovec iov[BATCH];
	uint64_t first = u->probe->sent;
	for (int i = 0; i < n; i++) {
		if (line) {
			iov[i] = (struct iovec){line->data, line->len};
		} else if (u->src == SRC_FILLER) {
			unsigned char *b = u->fill + (size_t)i * u->size;
			udp_filler_set_seq(b, u->size, first + (uint64_t)i);
			iov[i] = (struct iovec){b, u->size};
		} else {
			const struct payload *p = &u->pl[(first + (uint64_t)i) % u->npl];
			iov[i] = (struct iovec){p->data, p->len};
		}
	}
	struct sockaddr *to = u->d.group ? (struct sockaddr *)&u->d.dst.ss : NULL;
	socklen_t tolen = u->d.group ? u->d.dst.len : 0;
#ifdef HAVE_SENDMMSG
	if (n > 1) {
		struct mmsghdr mm[BATCH];
		memset(mm, 0, sizeof(struct mmsghdr) * (size_t)n);
		for (int i = 0; i < n; i++) {
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = to;
			mm[i].msg_hdr.msg_namelen = tolen;
		}
		return sendmmsg(u->d.fd, mm, (unsigned)n, 0);
	}
#endif
	int sent = 0;
	for (; sent < n; sent++) {
		if (sendto(u->d.fd, iov[sent].iov_base, iov[sent].iov_len, 0, to, tolen) < 0)
			return sent ? sent : -1;
	}
	return sent;
}

static void pump(struct us *u)
{
	int budget = SEND_BUDGET;
	while (!u->done && !u->sending_done) {
		if (budget <= 0) {
			/* Let replies in; level-triggered writability brings
			 * us back on the next iteration. */
			set_mask(u, MUX_READ | MUX_WRITE);
			return;
		}
		uint64_t allow = pace_allowance(u);
		if (allow == 0) {
			set_mask(u, MUX_READ);
			return;
		}
		struct payload line, *lp = NULL;
		if (u->src == SRC_LINES) {
			int r = next_line(u, &line);
			if (r == -2)
				return;
			if (r == -1) {
				sending_finished(u);
				return;
			}
			if (r == 0) {
				set_mask(u, MUX_READ);
				if (!u->in_watched) {
					if (loop_io(u->l, STDIN_FILENO, MUX_READ, on_stdin, u) <
					    0) {
						us_error(u, "error", "watch stdin: %s",
							 strerror(errno));
						finish(u, EXIT_FAIL);
						return;
					}
					u->in_watched = true;
				}
				return;
			}
			lp = &line;
			allow = 1;
		} else if (u->count - u->probe->sent < allow) {
			allow = u->count - u->probe->sent;
		}
		int n = send_batch(u, lp, (int)allow);
		if (n < 0) {
			if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
				set_mask(u, MUX_READ | MUX_WRITE);
				return;
			}
			fail_errno(u, "send to", errno);
			return;
		}
		int64_t t = now_us();
		if (u->probe->sent == 0)
			u->start_us = t;
		for (int i = 0; i < n; i++)
			probe_sent(u->probe, t);
		budget -= n;
		if (lp)
			consume_line(u);
		else if (u->probe->sent == u->count)
			sending_finished(u);
	}
}

static bool replies_complete(const struct us *u)
{
	if (u->want)
		return u->probe->received >= u->want;
	/* Many hosts may answer a group: wait out the whole -w. */
	return !u->d.group && u->probe->received >= u->probe->sent;
}

static void sending_finished(struct us *u)
{
	u->sending_done = true;
	set_mask(u, MUX_READ);
	if (u->wait_ms == 0 || replies_complete(u))
		finish(u, u->truncated ? EXIT_FAIL : EXIT_OK);
	else
		loop_timer_start(u->l, &u->wait, u->wait_ms);
}

static void on_pace(struct loop *l, void *arg)
{
	pump(arg);
}

static void on_wait_timeout(struct loop *l, void *arg)
{
	struct us *u = arg;
	if (u->d.group && !u->want && u->probe->received > 0) {
		finish(u, u->truncated ? EXIT_FAIL : EXIT_OK);
		return;
	}
	uint64_t want = u->want ? u->want : u->probe->sent;
	char secs[32];
	snprintf(secs, sizeof secs, "%g s", u->wait_ms / 1000.0);
	if (u->probe->received == 0)
		us_error(u, "timeout", "timeout: no reply from %s within %s", u->d.text, secs);
	else
		us_error(u, "timeout",
			 "timeout: %" PRIu64 " of %" PRIu64 " replies from %s within %s",
			 u->probe->received, want, u->d.text, secs);
	finish(u, EXIT_FAIL);
}

/* ---- replies ---- */

static void print_reply(struct us *u, const unsigned char *data, size_t len,
			const struct sock_addr *from)
{
	if (u->from) {
		char a[SOCK_ADDRSTRLEN];
		fputs(from->len ? sock_addr_str((const struct sockaddr *)&from->ss, from->len, a,
						sizeof a)
				: "(unnamed)",
		      stdout);
		putchar('\t');
	}
	if (u->hex) {
		char hx[2 * 256 + 1];
		for (size_t off = 0; off < len; off += 256) {
			size_t k = len - off < 256 ? len - off : 256;
			fwrite(hx, 1, hex_encode(data + off, k, hx), stdout);
		}
		putchar('\n');
	} else {
		fwrite(data, 1, len, stdout);
		/* One reply per line: add the newline unless it has one. */
		if (len == 0 || data[len - 1] != '\n')
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
	sb_puts(&u->js, "{\"destination\":");
	json_str(&u->js, u->d.fd >= 0 ? u->d.text : u->dest);
	if (u->d.fd >= 0)
		sb_printf(&u->js, ",\"protocol\":\"%s\"",
			  sock_proto_name(u->d.dst.ss.ss_family, SOCK_DGRAM));
	sb_puts(&u->js, ",\"replies\":[");
	json_flush(u);
}

/* One entry of "replies"; rtt_us < 0: not timed. */
static void json_reply(struct us *u, const unsigned char *data, size_t len, size_t full,
		       const struct sock_addr *from, bool known, uint64_t seq, int64_t rtt_us)
{
	json_begin(u);
	struct sbuf *b = &u->js;
	char a[SOCK_ADDRSTRLEN];
	sb_puts(b, u->json_replies++ ? ",{\"from\":" : "{\"from\":");
	if (from->len)
		json_str(b,
			 sock_addr_str((const struct sockaddr *)&from->ss, from->len, a, sizeof a));
	else
		sb_puts(b, "null");
	sb_printf(b, ",\"size\":%zu,\"truncated\":%s", full, len < full ? "true" : "false");
	if (len < full)
		sb_printf(b, ",\"received_size\":%zu", len);
	if (known)
		sb_printf(b, ",\"seq\":%" PRIu64, seq);
	if (rtt_us >= 0)
		sb_printf(b, ",\"rtt_ms\":%.3f", (double)rtt_us / 1000.0);
	else
		sb_puts(b, ",\"rtt_ms\":null");
	/* Escaped text takes up to 6 bytes a byte: a reply that could not
	 * fit the text buffer is listed without its bytes. */
	if ((u->hex ? 2 : 6) * len + b->len + 64 > SBUF_MAX) {
		sb_puts(b, u->hex ? ",\"hex\":null}" : ",\"data\":null}");
	} else if (u->hex) {
		char hx[2 * 256 + 1];
		sb_puts(b, ",\"hex\":\"");
		for (size_t off = 0; off < len; off += 256) {
			size_t k = len - off < 256 ? len - off : 256;
			sb_putn(b, hx, hex_encode(data + off, k, hx));
		}
		sb_puts(b, "\"}");
	} else {
		sb_puts(b, ",\"data\":");
		json_string(b, (const char *)data, len);
		sb_putc(b, '}');
	}
	json_flush(u);
}

static void json_end(struct us *u)
{
	json_begin(u);
	struct sbuf *b = &u->js;
	const struct probe *p = u->probe;
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
	sb_printf(b, ",\"truncated\":%" PRIu64 ",\"seconds\":%.3f,\"status\":", u->truncated,
		  (double)(now_us() - u->t0) / 1e6);
	json_str(b, u->status == EXIT_OK ? "ok" : u->errkind ? u->errkind : "error");
	sb_puts(b, ",\"error\":");
	if (u->status == EXIT_OK || !u->errkind)
		sb_puts(b, "null");
	else
		json_str(b, u->errtext);
	sb_puts(b, "}\n");
	json_flush(u);
	fflush(stdout);
}

static void got_reply(struct us *u, const unsigned char *data, size_t len, size_t full, bool trunc,
		      const struct sock_addr *from)
{
	if (trunc) {
		char a[SOCK_ADDRSTRLEN];
		us_error(u, "truncated",
			 "reply from %s truncated: %zu bytes received of %zu (raise --recv-buffer)",
			 sock_addr_str((const struct sockaddr *)&from->ss, from->len, a, sizeof a),
			 len, full);
		u->truncated++;
	}
	uint64_t seq = 0;
	bool known = u->src == SRC_FILLER && len == u->size && udp_filler_seq(data, len, &seq);
	int64_t sum = u->probe->rtt_sum;
	bool timed = probe_reply(u->probe, known, seq, now_us());
	if (u->json)
		json_reply(u, data, len, full, from, known, seq,
			   timed ? u->probe->rtt_sum - sum : -1);
	else
		print_reply(u, data, len, from);
	/* --replies N stops at N, even in the middle of a batch. */
	if (u->want && u->probe->received >= u->want)
		finish(u, u->truncated ? EXIT_FAIL : EXIT_OK);
}

static void on_socket(struct loop *l, int fd, int mask, void *arg)
{
	struct us *u = arg;
	if (mask & MUX_READ) {
		for (int round = 0; round < RECV_BUDGET && !u->done; round++) {
			int n;
			struct iovec iov[BATCH];
#ifdef HAVE_RECVMMSG
			struct mmsghdr mm[BATCH];
			memset(mm, 0, sizeof(struct mmsghdr) * (size_t)u->rbatch);
			for (int i = 0; i < u->rbatch; i++) {
				iov[i] =
				    (struct iovec){u->rbuf + (size_t)i * u->rbufsize, u->rbufsize};
				mm[i].msg_hdr.msg_iov = &iov[i];
				mm[i].msg_hdr.msg_iovlen = 1;
				mm[i].msg_hdr.msg_name = &u->rfrom[i].ss;
				mm[i].msg_hdr.msg_namelen = sizeof u->rfrom[i].ss;
			}
			/* MSG_TRUNC: the length returned is the datagram's full
			 * length, so a cut is seen and reported. */
			n = recvmmsg(fd, mm, (unsigned)u->rbatch, MSG_TRUNC, NULL);
			for (int i = 0; i < n; i++) {
				size_t full = mm[i].msg_len;
				bool trunc =
				    (mm[i].msg_hdr.msg_flags & MSG_TRUNC) || full > u->rbufsize;
				u->rfrom[i].len = mm[i].msg_hdr.msg_namelen;
				got_reply(u, iov[i].iov_base, trunc ? u->rbufsize : full, full,
					  trunc, &u->rfrom[i]);
				if (u->done)
					break;
			}
#else
			u->rfrom[0].len = sizeof u->rfrom[0].ss;
			ssize_t r = recvfrom(fd, u->rbuf, u->rbufsize, MSG_TRUNC,
					     (struct sockaddr *)&u->rfrom[0].ss, &u->rfrom[0].len);
			n = r < 0 ? -1 : 1;
			if (r >= 0)
				got_reply(u, u->rbuf,
					  (size_t)r > u->rbufsize ? u->rbufsize : (size_t)r,
					  (size_t)r, (size_t)r > u->rbufsize, &u->rfrom[0]);
#endif
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				fail_errno(u, "receive from", errno);
				return;
			}
			if (fflush(stdout) == EOF || ferror(stdout)) {
				us_error(u, "error", "write stdout: %s", strerror(errno));
				finish(u, EXIT_FAIL);
			}
			if (u->done)
				return;
			if (u->sending_done && replies_complete(u)) {
				finish(u, u->truncated ? EXIT_FAIL : EXIT_OK);
				return;
			}
			if (n < u->rbatch)
				break;
		}
	}
	if ((mask & MUX_WRITE) && !u->done && !u->sending_done)
		pump(u);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct us *u = arg;
	us_error(u, "interrupted", "interrupted by %s", strsignal(signo));
	finish(u, EXIT_FAIL);
}

/* ---- set-up ---- */

/* Reads all of stdin (one datagram) with at most max + 1 bytes. */
static int read_stdin_all(struct payload *p, size_t max, char *err, size_t errlen)
{
	p->data = malloc(max + 1);
	if (!p->data) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->len = 0;
	while (p->len <= max) {
		ssize_t r = read(STDIN_FILENO, p->data + p->len, max + 1 - p->len);
		if (r == 0)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
			poll(&pfd, 1, -1);
			continue;
		}
		if (r < 0) {
			snprintf(err, errlen, "read stdin: %s", strerror(errno));
			return -1;
		}
		p->len += (size_t)r;
	}
	return 1; /* too large */
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
	for (size_t i = 0; i < u->npl; i++)
		free(u->pl[i].data);
	free(u->pl);
	free(u->fill);
	free(u->lbuf);
	free(u->line);
	free(u->rbuf);
	free(u->rfrom);
	free(u->probe);
	sb_free(&u->js);
	if (u->d.fd >= 0)
		close(u->d.fd);
	if (u->d.unlink_path[0])
		unlink(u->d.unlink_path);
	if (u->l)
		loop_free(u->l);
}

static int run(struct us *u, int argc, char **argv);

int cmd_udp_send(int argc, char **argv)
{
	struct us u = {.d.fd = -1, .rbufsize = 65536, .status = EXIT_FAIL};
	sb_init(&u.js);
	int r = run(&u, argc, argv);
	/* The object comes with every run that got going, failed or not;
	 * a usage error before anything was sent gets only its message. */
	if (u.json_armed && !(r == EXIT_USAGE && (!u.probe || !u.probe->sent))) {
		u.status = r;
		json_end(&u);
	}
	us_free(&u);
	return r;
}

static int run(struct us *u, int argc, char **argv)
{
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
			if (!parse_count(optarg, 0, MAX_PAYLOAD, &v, "--size"))
				return EXIT_USAGE;
			u->size = (size_t)v;
			have_size = true;
			break;
		case 'c':
			if (!parse_count(optarg, 1, 1000000000000L, &v, "--count"))
				return EXIT_USAGE;
			u->count = (uint64_t)v;
			have_count = true;
			break;
		case OPT_INTERVAL:
			if (!parse_count(optarg, 1, 3600000, &v, "--interval"))
				return EXIT_USAGE;
			u->interval_ms = (int)v;
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
			u->rate = d;
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
			u->want = (uint64_t)v;
			break;
		case OPT_FROM:
			u->from = true;
			break;
		case OPT_RECVBUF:
			if (!parse_count(optarg, 1, 16 << 20, &v, "--recv-buffer"))
				return EXIT_USAGE;
			u->rbufsize = (size_t)v;
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
	if (u->interval_ms && u->rate > 0)
		return usage_error("--interval and --rate both set the pace: choose one");
	if (u->want && !have_wait)
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
			if (len > MAX_PAYLOAD)
				return usage_error("MESSAGE %d is %zu bytes; the largest datagram "
						   "is %d",
						   i + 1, len, MAX_PAYLOAD);
		}
	}

	int status;
	u->l = cmd_loop(4, &status);
	if (!u->l)
		return status;
	char err[SOCK_ERRLEN + SOCK_ADDRSTRLEN];
	/* From here on a failure is a run's: --json reports it. */
	u->json_armed = u->json;
	u->t0 = now_us();
	if (unix_path)
		snprintf(u->dest, sizeof u->dest, "%s", unix_path);
	else
		snprintf(u->dest, sizeof u->dest, strchr(ep.host, ':') ? "[%s]:%s" : "%s:%s",
			 ep.host, ep.port);
	if (udp_dest_open(&ep, &ao, &u->d, err, sizeof err) < 0) {
		us_error(u, "error", "%s", err);
		return EXIT_FAIL;
	}
	int family = u->d.dst.ss.ss_family;
	u->maxdgram = family == AF_INET ? MAX_UDP4 : family == AF_INET6 ? MAX_UDP6 : MAX_UNIX;
	const char *proto = sock_proto_name(family, SOCK_DGRAM);
	for (size_t i = 0; i < u->npl; i++)
		if (u->pl[i].len > u->maxdgram)
			return usage_error("MESSAGE %zu is %zu bytes; the largest %s datagram%s is "
					   "%zu",
					   i + 1, u->pl[i].len, proto,
					   family == AF_INET	? " over IPv4"
					   : family == AF_INET6 ? " over IPv6"
								: "",
					   u->maxdgram);
	if (have_size && u->size > u->maxdgram)
		return usage_error("--size %zu exceeds the largest %s datagram (%zu bytes)",
				   u->size, proto, u->maxdgram);

	if (have_size) {
		u->src = SRC_FILLER;
		u->fill = malloc((u->size ? u->size : 1) * BATCH);
		if (!u->fill)
			return errmsg("out of memory"), EXIT_FAIL;
		for (int i = 0; i < BATCH; i++)
			udp_filler(u->fill + (size_t)i * u->size, u->size, 0);
		if (!have_count)
			u->count = 1;
	} else if (lines) {
		u->src = SRC_LINES;
		u->lbuf = malloc(LINE_CAP);
		u->line = malloc(u->maxdgram);
		if (!u->lbuf || !u->line)
			return errmsg("out of memory"), EXIT_FAIL;
	} else {
		u->src = SRC_LIST;
		if (!nmsgs) {
			u->pl = calloc(1, sizeof *u->pl);
			if (!u->pl)
				return errmsg("out of memory"), EXIT_FAIL;
			u->npl = 1;
			size_t cap = u->hex ? LINE_CAP : u->maxdgram;
			int r = read_stdin_all(&u->pl[0], cap, err, sizeof err);
			if (r < 0) {
				us_error(u, "error", "%s", err);
				return EXIT_FAIL;
			}
			if (r > 0) {
				errmsg("stdin holds more than %zu bytes, the largest %s "
				       "datagram%s; use --lines for one datagram per line",
				       cap == u->maxdgram ? cap : (size_t)LINE_CAP, proto,
				       u->hex ? " (as hex text)" : "");
				return EXIT_USAGE;
			}
			if (u->hex) {
				unsigned char *bin = malloc(u->maxdgram);
				if (!bin)
					return errmsg("out of memory"), EXIT_FAIL;
				long n = hex_decode((const char *)u->pl[0].data, u->pl[0].len, bin,
						    u->maxdgram, err, sizeof err);
				free(u->pl[0].data);
				u->pl[0].data = bin;
				if (n < 0) {
					errmsg("stdin: %s", err);
					return EXIT_USAGE;
				}
				u->pl[0].len = (size_t)n;
			}
		}
		if (!have_count)
			u->count = u->npl;
	}

	/* Big enough to keep a burst of replies rather than drop it. */
	int rcvbuf = 4 << 20;
	setsockopt(u->d.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	u->rbatch = u->rbufsize > 65536 ? 1 : (int)((2u << 20) / u->rbufsize);
	if (u->rbatch > BATCH)
		u->rbatch = BATCH;
	u->rbuf = malloc(u->rbufsize * (size_t)u->rbatch);
	u->rfrom = calloc((size_t)u->rbatch, sizeof *u->rfrom);
	u->probe = malloc(sizeof *u->probe);
	if (!u->rbuf || !u->rfrom || !u->probe)
		return errmsg("out of memory"), EXIT_FAIL;
	probe_init(u->probe);
	timer_init(&u->pace, on_pace, u);
	timer_init(&u->wait, on_wait_timeout, u);
	if (loop_io(u->l, u->d.fd, MUX_READ | MUX_WRITE, on_socket, u) < 0) {
		errmsg("event loop: socket %d: %s", u->d.fd, strerror(errno));
		return EXIT_FAIL;
	}
	loop_signal(u->l, SIGINT, on_signal, u);
	loop_signal(u->l, SIGTERM, on_signal, u);
	if (g_opts.verbose) {
		struct sock_addr me;
		char a[SOCK_ADDRSTRLEN] = "?";
		if (sock_local_addr(u->d.fd, &me) == 0)
			sock_addr_str((const struct sockaddr *)&me.ss, me.len, a, sizeof a);
		vmsg("sending to %s from %s (%s%s, mux=%s)", u->d.text, a, proto,
		     u->d.group ? ", unconnected" : "", loop_backend(u->l));
	}
	int64_t t0 = u->t0 = now_us();
	pump(u);
	if (!u->done && loop_run(u->l) < 0) {
		us_error(u, "error", "event loop: %s", strerror(errno));
		u->status = EXIT_FAIL;
	}
	fflush(stdout);
	if (g_opts.verbose) {
		char line[256];
		probe_format(u->probe, u->wait_ms > 0, line, sizeof line);
		double secs = (double)(now_us() - t0) / 1e6;
		vmsg("%s; %.3f s, %.0f datagrams/s sent", line, secs,
		     secs > 0 ? (double)u->probe->sent / secs : 0.0);
	}
	return u->status;
}
