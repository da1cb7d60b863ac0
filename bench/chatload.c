/* Load generator for the chat benchmarks: N receivers and one sender in
 * one room of a chat server (sockctl chat serve, ncat --chat, anything
 * that relays a line to everyone else), one process, one epoll loop,
 * every socket non-blocking.
 *
 * 1. Join: the receivers connect, at most JOIN_AHEAD of them not yet
 *    greeted (sent anything) by the server at a time: ncat listens with a
 *    backlog of 10, and a connection past a full accept queue looks open
 *    here but waits for SYN-ACK retransmits there, seconds later. Then the
 *    optional stalled client (small SO_RCVBUF, never reads), then the
 *    sender.
 * 2. Sync: the sender posts "MARKER sync" and again every 250 ms until
 *    every receiver has seen one (a server relays a line only to clients
 *    it has accepted). Whatever arrives before (welcome lines, join
 *    notices) is read and thrown away.
 * 3. Settle: nothing is measured until -w MS after the last connect
 *    (sockctl announces a guest 500 ms after it connects; those notices
 *    must not fall into the burst).
 * 4. Burst: the sender writes LINES lines of SIZE bytes each as fast as
 *    its socket takes them: "MARKER SEQ PADDING\n", MARKER unique per run,
 *    SEQ eight digits, PADDING letters that depend on SEQ. Every receiver
 *    checks each line it gets whole, in order, with none missing. With
 *    -W LINES the sender stays at most LINES lines ahead of the slowest
 *    receiver, so a server that drops clients whose queue is full (sockctl
 *    chat serve --queue) is measured relaying, not dropping.
 *
 * Servers put a "<name> " tag before what they relay, and ncat --chat
 * puts one before every chunk it reads, not every line, so a tag can also
 * stand in the middle of a relayed line. The payload alphabet has no '<',
 * so every "<word> " is taken out of a line before it is checked.
 *
 * At the end every socket is closed with a reset. ncat --chat exits when a
 * client joins while it still holds a reset one (getpeername fails as it
 * lists who is there): between runs against one ncat, wait until it has
 * closed the last run's sockets (bench/chat_cpu.sh does).
 *
 * usage: chatload [-c N] [-n LINES] [-l SIZE] [-t SECS] [-w MS] [-W LINES]
 *                 [-s] [-p PID] [-a ADDRESS] PORT
 * Defaults: 200 receivers, 1000 lines of 60 bytes, a 30 s deadline for the
 * whole run, 1000 ms settling, no window, 127.0.0.1.
 * Prints one line on stdout:
 *   delivered=D expected=E seconds=S rate=R complete=yes|no order=ok|bad
 * (D: good lines counted over all receivers, each sequence number once per
 * receiver; S: burst start to the last receiver done; R = D/S) with
 * " server_cpu=SECS" appended under -p: the CPU time (user+sys) process
 * PID used during the burst. What went wrong goes to stderr. Exit status
 * 0 when complete=yes and order=ok, 1 otherwise, 2 for a usage error. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

#define MARKER_LEN 17 /* "chatload-" and eight hex digits */
#define SEQ_DIGITS 8
#define MIN_SIZE   (MARKER_LEN + 1 + SEQ_DIGITS + 1 + 1 + 1) /* one padding byte */
#define MAX_SIZE   1000 /* sockctl cuts lines past --max-line (1024) */
#define LINE_CAP   4096 /* longer lines (ncat's "already connected" list) are skipped */
#define TAG_MAX	   32
#define RESYNC_MS  250
#define JOIN_AHEAD 8	/* receivers connected but not yet greeted */
#define GREET_MS   1000 /* a silent server: count them greeted after this */
#define OUT_CAP	   65536

enum role { RECEIVER, STALLED, SENDER };

struct peer {
	int fd;
	enum role role;
	bool connected, greeted, ready, finished, skipping;
	size_t len;    /* bytes of an unfinished line in line */
	char *line;    /* LINE_CAP bytes (receivers), owned */
	uint8_t *seen; /* one bit per sequence number (receivers), owned */
	uint32_t next; /* the sequence number expected next */
	uint32_t got;  /* distinct good lines */
};

static struct {
	char marker[MARKER_LEN + 1];
	size_t size; /* one payload line, newline included */
	uint32_t nlines;
	int nrecv, nready, nfinished, nclosed;
	bool order_bad, aborted;
	unsigned long corrupt, retagged;
	char pattern[26 + MAX_SIZE];
} g;

/* The padding of line SEQ: a window into "abc...zabc...". */
static const char *padding(uint32_t seq)
{
	return g.pattern + (seq * 7u) % 26u;
}

static size_t pad_len(void)
{
	return g.size - (MARKER_LEN + 1 + SEQ_DIGITS + 1 + 1);
}

static size_t format_line(char *out, uint32_t seq)
{
	int n = snprintf(out, g.size + 1, "%s %0*u ", g.marker, SEQ_DIGITS, seq);
	memcpy(out + n, padding(seq), pad_len());
	out[g.size - 1] = '\n';
	return g.size;
}

/* Copies s without its "<word> " tags into out (room for n bytes). */
static size_t strip_tags(const char *s, size_t n, char *out)
{
	size_t o = 0, i = 0;
	while (i < n) {
		if (s[i] == '<') {
			size_t j = i + 1;
			while (j < n && j - i <= TAG_MAX && s[j] != '>' && s[j] != '<' &&
			       (unsigned char)s[j] > ' ')
				j++;
			if (j > i + 1 && j + 1 < n && s[j] == '>' && s[j + 1] == ' ') {
				i = j + 2;
				continue;
			}
		}
		out[o++] = s[i++];
	}
	return o;
}

/* What a line holds after the marker. */
enum kind { OTHER, SYNC, PAYLOAD, CORRUPT };

static enum kind classify_at(const char *s, size_t n, uint32_t *seq)
{
	/* The payload ends the line: look where the marker should be first. */
	const char *m = NULL;
	if (n >= g.size - 1 && !memcmp(s + n - (g.size - 1), g.marker, MARKER_LEN))
		m = s + n - (g.size - 1);
	else if (!(m = memmem(s, n, g.marker, MARKER_LEN)))
		return OTHER;
	const char *r = m + MARKER_LEN;
	size_t rn = n - (size_t)(r - s);
	if (rn == 5 && !memcmp(r, " sync", 5))
		return SYNC;
	if (rn != g.size - 1 - MARKER_LEN || r[0] != ' ' || r[1 + SEQ_DIGITS] != ' ')
		return CORRUPT;
	uint32_t v = 0;
	for (int i = 1; i <= SEQ_DIGITS; i++) {
		if (r[i] < '0' || r[i] > '9')
			return CORRUPT;
		v = v * 10 + (uint32_t)(r[i] - '0');
	}
	if (v >= g.nlines || memcmp(r + 2 + SEQ_DIGITS, padding(v), pad_len()))
		return CORRUPT;
	*seq = v;
	return PAYLOAD;
}

static enum kind classify(const char *s, size_t n, uint32_t *seq)
{
	enum kind k = classify_at(s, n, seq);
	if (k == SYNC || k == PAYLOAD || !memchr(s, '<', n))
		return k;
	/* The fast path failed on a line with a '<': a tag may stand inside
	 * the payload, where a server that tags chunks split it. */
	char buf[LINE_CAP];
	size_t bn = strip_tags(s, n, buf);
	enum kind k2 = classify_at(buf, bn, seq);
	if (k2 == PAYLOAD)
		g.retagged++;
	return k2;
}

static void finish(struct peer *p)
{
	if (!p->finished) {
		p->finished = true;
		g.nfinished++;
	}
}

static void on_line(struct peer *p, int id, const char *s, size_t n)
{
	uint32_t seq;
	enum kind k = classify(s, n, &seq);
	if (k == SYNC && !p->ready) {
		p->ready = true;
		g.nready++;
	}
	if (k == CORRUPT) {
		if (!g.corrupt++)
			fprintf(stderr, "chatload: receiver %d: a damaged line: %.*s\n", id,
				(int)(n > 200 ? 200 : n), s);
		g.order_bad = true;
	}
	if (k != PAYLOAD || p->finished)
		return;
	if (seq != p->next) {
		if (!g.order_bad)
			fprintf(stderr, "chatload: receiver %d: line %u after line %u\n", id, seq,
				p->next ? p->next - 1 : 0);
		g.order_bad = true;
	}
	p->next = seq + 1;
	if (!(p->seen[seq / 8] & (1u << (seq % 8)))) {
		p->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
		p->got++;
	}
	/* Lines come over one TCP stream: once the last one is here, a missing
	 * one is lost, not late. */
	if (p->got == g.nlines || seq == g.nlines - 1)
		finish(p);
}

/* Cuts what a receiver read into lines; a line split across reads waits in
 * p->line. */
static void on_data(struct peer *p, int id, const char *d, size_t n)
{
	while (n) {
		const char *nl = memchr(d, '\n', n);
		size_t take = nl ? (size_t)(nl - d) : n;
		if (p->skipping) {
			/* the rest of an overlong line */
		} else if (!p->len && nl && take <= LINE_CAP) {
			on_line(p, id, d, take); /* whole in this read: no copy */
		} else if (p->len + take > LINE_CAP) {
			p->skipping = true;
			p->len = 0;
		} else {
			memcpy(p->line + p->len, d, take);
			p->len += take;
			if (nl) {
				on_line(p, id, p->line, p->len);
				p->len = 0;
			}
		}
		if (!nl)
			break;
		p->skipping = false;
		d = nl + 1;
		n -= take + 1;
	}
}

static struct addrinfo *target;
static int ep;

static int dial(int rcvbuf)
{
	int fd = socket(target->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket");
	/* Before connect, so the window is small from the handshake on. */
	if (rcvbuf && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0)
		fail("SO_RCVBUF");
	if (connect(fd, target->ai_addr, target->ai_addrlen) < 0 && errno != EINPROGRESS)
		fail("connect");
	return fd;
}

static void watch(int op, struct peer *p, int id, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)id};
	if (epoll_ctl(ep, op, p->fd, &ev) < 0)
		fail("epoll_ctl");
}

/* CPU seconds (user+sys) used so far by process pid, all its threads: the
 * kernel's CPU clock of that process, in nanoseconds (the same count that
 * /proc/PID/stat gives in clock ticks, too coarse for a burst of 20 ms),
 * else utime+stime from /proc/PID/stat. */
static double proc_cpu(pid_t pid)
{
	clockid_t cid;
	struct timespec ts;
	if (!clock_getcpuclockid(pid, &cid) && !clock_gettime(cid, &ts))
		return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long ut, st;
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: chatload [-c RECEIVERS] [-n LINES] [-l SIZE (%d-%d)] [-t SECS] [-w MS] "
		"[-W LINES] [-s] [-p SERVER_PID] [-a ADDRESS] PORT\n",
		MIN_SIZE, MAX_SIZE);
	exit(2);
}

static long num(const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage();
	return v;
}

/* The run: phases in order; each peer is one of the receivers (ids 0 to
 * N-1), the stalled client (N) or the sender (N+1). */
enum phase { JOINING, STALLING, SYNCING, SETTLING, BURST };

static struct peer *peers;
static int stid, sid;
static enum phase phase;
static int dialed, ngreeted;
static double last_dial, last_connect;
static uint32_t window; /* 0: none */
static uint32_t sent_lines;
static unsigned long long sent_bytes;
static bool sender_gone, sender_blocked;
static char out[OUT_CAP];
static size_t outpos, outlen;

static void greet(struct peer *p)
{
	if (!p->greeted) {
		p->greeted = true;
		ngreeted++;
	}
}

/* Dials receivers while fewer than JOIN_AHEAD wait for their greeting; a
 * server that greets nobody gets them counted greeted after GREET_MS. */
static void join_more(double t)
{
	if (dialed > ngreeted && t - last_dial >= GREET_MS / 1e3)
		for (int i = 0; i < dialed; i++)
			greet(&peers[i]);
	while (dialed < g.nrecv && dialed - ngreeted < JOIN_AHEAD) {
		peers[dialed].fd = dial(0);
		watch(EPOLL_CTL_ADD, &peers[dialed], dialed, EPOLLIN | EPOLLOUT);
		dialed++;
		last_dial = t;
	}
}

/* The line the sender may not reach yet: the slowest unfinished receiver's
 * count plus the window. */
static uint32_t send_limit(void)
{
	if (!window)
		return g.nlines;
	uint32_t low = g.nlines;
	for (int i = 0; i < g.nrecv; i++)
		if (!peers[i].finished && peers[i].got < low)
			low = peers[i].got;
	uint64_t lim = (uint64_t)low + window;
	return lim < g.nlines ? (uint32_t)lim : g.nlines;
}

/* A shut window counts as open again once a quarter of it is free (or all
 * that is left to send): a sender that dribbles a line at a time makes a
 * server that relays whatever each read got (ncat) pay per line, not per
 * chunk. */
static bool window_reopened(void)
{
	uint32_t step = window / 4 + 1, left = g.nlines - sent_lines;
	return send_limit() >= sent_lines + (step < left ? step : left);
}

/* Writes burst lines while the socket takes them. */
static void pump(struct peer *p)
{
	uint32_t limit = send_limit();
	while (outpos < outlen || sent_lines < limit) {
		if (outpos == outlen) {
			outpos = outlen = 0;
			while (sent_lines < limit && outlen + g.size <= OUT_CAP)
				outlen += format_line(out + outlen, sent_lines++);
		}
		ssize_t w = send(p->fd, out + outpos, outlen - outpos, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			fprintf(stderr, "chatload: the sender: %s\n", strerror(errno));
			sender_gone = true;
			watch(EPOLL_CTL_DEL, p, sid, 0);
			return;
		}
		outpos += (size_t)w;
		sent_bytes += (unsigned long long)w;
	}
	/* All out, or the window is shut: writable again means nothing. */
	watch(EPOLL_CTL_MOD, p, sid, EPOLLIN);
	sender_blocked = sent_lines < g.nlines;
}

static void connected(struct peer *p, int id)
{
	int err = 0;
	socklen_t el = sizeof err;
	getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err) {
		errno = err;
		fail("connect");
	}
	p->connected = true;
	last_connect = now();
	/* The stalled client is watched only for its greeting. */
	watch(EPOLL_CTL_MOD, p, id, EPOLLIN);
	int one = 1;
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void readable(struct peer *p, int id, char *in, size_t cap)
{
	if (p->role == STALLED) {
		greet(p);
		watch(EPOLL_CTL_DEL, p, id, 0);
		return;
	}
	ssize_t r = recv(p->fd, in, cap, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0) {
		if (p->role == RECEIVER) {
			greet(p);
			on_data(p, id, in, (size_t)r);
		} /* the sender throws it away */
		return;
	}
	watch(EPOLL_CTL_DEL, p, id, 0);
	if (p->role == SENDER) {
		fprintf(stderr, "chatload: the sender: %s\n",
			r ? strerror(errno) : "closed by the server");
		sender_gone = true;
		return;
	}
	g.nclosed++;
	finish(p);
	if (phase != BURST) {
		fprintf(stderr, "chatload: receiver %d: %s before the burst\n", id,
			r ? strerror(errno) : "closed by the server");
		g.aborted = true;
	}
}

int main(int argc, char **argv)
{
	long nrecv = 200, nlines = 1000, size = 60, settle_ms = 1000, win = 0;
	double secs = 30;
	bool stalled = false;
	pid_t server = 0;
	const char *addr = "127.0.0.1";
	int opt;
	while ((opt = getopt(argc, argv, "c:n:l:t:w:W:sp:a:")) != -1) {
		switch (opt) {
		case 'c':
			nrecv = num(optarg, 1, 100000);
			break;
		case 'n':
			nlines = num(optarg, 1, 99999999);
			break;
		case 'l':
			size = num(optarg, MIN_SIZE, MAX_SIZE);
			break;
		case 't':
			secs = (double)num(optarg, 1, 86400);
			break;
		case 'w':
			settle_ms = num(optarg, 0, 60000);
			break;
		case 'W':
			win = num(optarg, 0, 99999999);
			break;
		case 's':
			stalled = true;
			break;
		case 'p':
			server = (pid_t)num(optarg, 1, 1 << 30);
			break;
		case 'a':
			addr = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	int gai = getaddrinfo(addr, argv[optind], &hints, &target);
	if (gai) {
		fprintf(stderr, "chatload: %s port %s: %s\n", addr, argv[optind],
			gai_strerror(gai));
		return 2;
	}
	if (server && proc_cpu(server) < 0) {
		fprintf(stderr, "chatload: -p %d: no such process\n", (int)server);
		return 2;
	}

	g.size = (size_t)size;
	g.nlines = (uint32_t)nlines;
	g.nrecv = (int)nrecv;
	window = (uint32_t)win;
	for (size_t i = 0; i < sizeof g.pattern; i++)
		g.pattern[i] = (char)('a' + i % 26);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(g.marker, sizeof g.marker, "chatload-%08x",
		 ((unsigned)getpid() * 2654435761u ^ (unsigned)ts.tv_nsec ^ (unsigned)ts.tv_sec));

	/* Every receiver, the sender, the stalled client and a few spare. */
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < (rlim_t)nrecv + 16) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	stid = (int)nrecv;
	sid = stid + 1;
	peers = calloc((size_t)sid + 1, sizeof *peers);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!peers || ep < 0)
		fail("setup");
	for (int i = 0; i < nrecv; i++) {
		struct peer *p = &peers[i];
		p->fd = -1;
		p->role = RECEIVER;
		p->line = malloc(LINE_CAP);
		p->seen = calloc((size_t)nlines / 8 + 1, 1);
		if (!p->line || !p->seen)
			fail("memory for the receivers");
	}
	peers[stid] = (struct peer){.fd = -1, .role = STALLED};
	peers[sid] = (struct peer){.fd = -1, .role = SENDER};
	struct peer *snd = &peers[sid];

	double start = now(), deadline = start + secs, resync = 0, burst_at = 0, t0 = 0, t_end;
	double cpu0 = 0;
	uint32_t sync_no = 0;
	char in[65536];
	struct epoll_event evs[256];
	for (;;) {
		double t = now();
		if ((phase == BURST && g.nfinished == g.nrecv) || g.aborted) {
			t_end = t;
			break;
		}
		if (t >= deadline) {
			t_end = deadline;
			break;
		}
		if (phase == JOINING) {
			join_more(t);
			if (ngreeted == g.nrecv) {
				phase = stalled ? STALLING : SYNCING;
				struct peer *p = stalled ? &peers[stid] : snd;
				p->fd = dial(stalled ? 4096 : 0);
				watch(EPOLL_CTL_ADD, p, stalled ? stid : sid, EPOLLOUT);
			}
		}
		if (phase == STALLING &&
		    (peers[stid].greeted || t - last_connect >= GREET_MS / 1e3) &&
		    peers[stid].connected) {
			phase = SYNCING;
			snd->fd = dial(0);
			watch(EPOLL_CTL_ADD, snd, sid, EPOLLOUT);
		}
		if (phase == SYNCING && g.nready == g.nrecv) {
			phase = SETTLING;
			burst_at = last_connect + (double)settle_ms / 1e3;
		} else if (phase == SYNCING && snd->connected && !sender_gone && t >= resync) {
			char line[64];
			int n = snprintf(line, sizeof line, "%s sync\n", g.marker);
			if (send(snd->fd, line, (size_t)n, MSG_NOSIGNAL) != n)
				fprintf(stderr, "chatload: a sync line did not go out whole\n");
			sync_no++;
			resync = t + RESYNC_MS / 1e3;
		}
		if (phase == SETTLING && t >= burst_at) {
			phase = BURST;
			if (server)
				cpu0 = proc_cpu(server);
			t0 = now();
			if (!sender_gone)
				watch(EPOLL_CTL_MOD, snd, sid, EPOLLIN | EPOLLOUT);
		}
		if (phase == BURST && sender_blocked && !sender_gone && window_reopened()) {
			sender_blocked = false;
			watch(EPOLL_CTL_MOD, snd, sid, EPOLLIN | EPOLLOUT);
		}

		double wake = deadline;
		if (phase == JOINING && dialed > ngreeted)
			wake = last_dial + GREET_MS / 1e3;
		if (phase == STALLING && peers[stid].connected)
			wake = last_connect + GREET_MS / 1e3;
		if (phase == SYNCING && snd->connected)
			wake = resync;
		if (phase == SETTLING)
			wake = burst_at;
		if (wake > deadline)
			wake = deadline;
		int n = epoll_wait(ep, evs, 256, wake > t ? (int)((wake - t) * 1000) + 1 : 0);
		if (n < 0 && errno != EINTR)
			fail("epoll_wait");
		for (int k = 0; k < n; k++) {
			int id = (int)evs[k].data.u32;
			struct peer *p = &peers[id];
			if (!p->connected)
				connected(p, id);
			else if (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				readable(p, id, in, sizeof in);
			if (p->role == SENDER && phase == BURST && (evs[k].events & EPOLLOUT) &&
			    !sender_gone)
				pump(p);
		}
	}
	double cpu = server && phase == BURST ? proc_cpu(server) - cpu0 : 0;

	unsigned long long delivered = 0;
	int incomplete = 0;
	for (int i = 0; i < nrecv; i++) {
		delivered += peers[i].got;
		incomplete += peers[i].got != g.nlines;
	}
	bool complete = phase == BURST && !incomplete;
	if (phase != BURST && !g.aborted)
		fprintf(
		    stderr,
		    "chatload: no burst in %.0f s: %d of %ld receivers greeted by the server, %d "
		    "saw the sync line (%u sent)\n",
		    secs, ngreeted, nrecv, g.nready, sync_no);
	else if (t_end >= deadline && g.nfinished < g.nrecv)
		fprintf(
		    stderr,
		    "chatload: deadline: %d of %ld receivers still waiting, %u of %u lines sent\n",
		    g.nrecv - g.nfinished, nrecv, (unsigned)(sent_bytes / g.size), g.nlines);
	if (incomplete && phase == BURST)
		fprintf(stderr, "chatload: %d receivers missed lines (%d closed by the server)\n",
			incomplete, g.nclosed);
	if (g.corrupt)
		fprintf(stderr, "chatload: %lu damaged lines\n", g.corrupt);
	if (g.retagged)
		fprintf(stderr,
			"chatload: %lu lines had a server tag inside (the server tags what it "
			"reads, not lines)\n",
			g.retagged);
	for (int i = 0; i <= sid; i++)
		if (peers[i].fd >= 0)
			abort_close(peers[i].fd);

	double s = phase == BURST ? t_end - t0 : 0;
	printf("delivered=%llu expected=%llu seconds=%.3f rate=%.0f complete=%s order=%s",
	       delivered, (unsigned long long)nrecv * (unsigned long long)nlines, s,
	       s > 0 ? (double)delivered / s : 0.0, complete ? "yes" : "no",
	       g.order_bad ? "bad" : "ok");
	if (server)
		printf(" server_cpu=%.6f", cpu);
	printf("\n");
	return complete && !g.order_bad ? 0 : 1;
}
