/* resolve's engine as a library: a zone transfer driven over a plain
 * socket stream and over the fake TLS-like stream (tests/unit/fake_stream.h)
 * on every mux backend, and the run handing each lookup's text to the
 * sink in input order. The server is a thread on 127.0.0.1 port 0. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "dns/dns_msg.h"
#include "dns/resolve.h"
#include "dns/resolve_axfr.h"
#include "dns/resolve_dns.h"
#include "fake_stream.h"
#include "net/stream.h"
#include "tap.h"
#include "unit_loop.h"

/* ---- the zone: SOA, NRECORDS A records over NMSG messages, SOA ---- */

#define NMSG	 8
#define PER_MSG	 480
#define NRECORDS (NMSG * PER_MSG + 2)

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t put_soa(uint8_t *p)
{
	static const uint8_t soa[] = {4,  'z', 'o', 'n', 'e', 0, 0,   6, 0, 1, 0, 0, 0, 60, 0,
				      27, 2,   'n', 's', 0,   1, 'h', 0, 0, 0, 0, 7, 0, 0,  0,
				      1,  0,   0,   0,	 2,   0, 0,   0, 3, 0, 0, 0, 4};
	memcpy(p, soa, sizeof soa);
	return sizeof soa;
}

/* hN.zone. A 10.x.y.z, no byte 0xFF (the fake stream's token). */
static size_t put_a(uint8_t *p, unsigned i)
{
	char label[16];
	int n = snprintf(label, sizeof label, "h%u", i);
	size_t at = 0;
	p[at++] = (uint8_t)n;
	memcpy(p + at, label, (size_t)n);
	at += (size_t)n;
	memcpy(p + at, "\004zone\000\000\001\000\001\000\000\000\074\000\004", 16);
	at += 16;
	p[at++] = 10;
	p[at++] = (uint8_t)(i / 62500 + 1);
	p[at++] = (uint8_t)(i / 250 % 250 + 1);
	p[at++] = (uint8_t)(i % 250 + 1);
	return at;
}

/* The transfer's stream for a query (its id and question): NMSG
 * length-prefixed messages. Returns its length. */
static size_t zone_stream(uint8_t *out, const uint8_t *q, size_t qlen)
{
	size_t at = 0;
	unsigned rec = 0;
	for (int m = 0; m < NMSG; m++) {
		uint8_t *msg = out + at + 2;
		size_t n = 12;
		unsigned an = PER_MSG + (m == 0) + (m == NMSG - 1);
		memcpy(msg, q, 2); /* the id */
		put16(msg + 2, 0x8400);
		put16(msg + 4, m == 0);
		put16(msg + 6, an);
		memset(msg + 8, 0, 4);
		if (m == 0) {
			memcpy(msg + n, q + 12, qlen - 12); /* the question */
			n += qlen - 12;
			n += put_soa(msg + n);
		}
		for (int k = 0; k < PER_MSG; k++)
			n += put_a(msg + n, rec++);
		if (m == NMSG - 1)
			n += put_soa(msg + n);
		put16(out + at, (unsigned)n);
		at += 2 + n;
	}
	return at;
}

/* ---- the server thread ---- */

struct peer {
	int lfd;
	bool tokens;	     /* for the fake stream: a token each ms until the query */
	unsigned refused;    /* connections closed: the id had a 0xFF byte */
	size_t sent;	     /* bytes of the transfer */
	bool data_has_token; /* the zone itself had a 0xFF byte: the test is wrong */
	uint8_t *buf;
};

static bool has_token(const uint8_t *p, size_t n)
{
	return memchr(p, FAKE_TOKEN, n) != NULL;
}

/* Reads the query (2-byte length, message); NULL at the end. */
static size_t read_query(struct peer *pe, int fd, uint8_t *q, size_t cap)
{
	size_t have = 0, need = 2;
	uint8_t tok = FAKE_TOKEN;
	while (have < need) {
		struct pollfd p = {fd, POLLIN, 0};
		int r = poll(&p, 1, pe->tokens ? 1 : 5000);
		if (r == 0 && pe->tokens) {
			if (send(fd, &tok, 1, MSG_NOSIGNAL) < 0)
				return 0;
			continue;
		}
		if (r <= 0)
			return 0;
		ssize_t n = recv(fd, q + have, need - have, 0);
		if (n <= 0)
			return 0;
		have += (size_t)n;
		if (have == 2) {
			need = 2 + ((size_t)q[0] << 8 | q[1]);
			if (need > cap || need < 2 + 12 + 5)
				return 0;
		}
	}
	return need - 2;
}

static void *peer_run(void *arg)
{
	struct peer *pe = arg;
	for (int tries = 0; tries < 50; tries++) {
		int fd = accept(pe->lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		uint8_t q[512];
		size_t qlen = read_query(pe, fd, q, sizeof q);
		/* The fake stream takes 0xFF for a token: a transfer whose id
		 * has one cannot pass through it. Closed unanswered, so the
		 * engine tries again with another id. */
		if (qlen && pe->tokens && has_token(q + 2, 2)) {
			pe->refused++;
			close(fd);
			continue;
		}
		if (qlen) {
			size_t n = zone_stream(pe->buf, q + 2, qlen);
			pe->data_has_token = pe->tokens && has_token(pe->buf, n);
			/* In one piece, so the stream reads more than one read
			 * takes, and must hand the rest out later. */
			if (send(fd, pe->buf, n, MSG_NOSIGNAL) == (ssize_t)n)
				pe->sent = n;
			/* Until the engine closes. */
			struct pollfd p = {fd, POLLIN, 0};
			char junk[64];
			while (poll(&p, 1, 5000) > 0 && recv(fd, junk, sizeof junk, 0) > 0)
				;
		}
		close(fd);
		break;
	}
	return NULL;
}

static int peer_start(struct peer *pe, bool tokens, pthread_t *t, struct rdns_opts *o)
{
	*pe = (struct peer){.tokens = tokens, .buf = malloc(NMSG * (PER_MSG * 32 + 200))};
	pe->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	if (!pe->buf || pe->lfd < 0 || bind(pe->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(pe->lfd, 8) < 0 || getsockname(pe->lfd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	char addr[64], err[128];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", ntohs(sa.sin_port));
	*o = (struct rdns_opts){.timeout_ms = 10000, .tries = tokens ? 20 : 1, .nservers = 1};
	if (!rdns_parse_server(addr, 53, &o->server[0], err, sizeof err))
		return -1;
	return pthread_create(t, NULL, peer_run, pe);
}

static void peer_end(struct peer *pe, pthread_t t)
{
	shutdown(pe->lfd, SHUT_RDWR); /* a peer still in accept returns */
	pthread_join(t, NULL);
	close(pe->lfd);
	free(pe->buf);
}

/* ---- a transfer through raxfr ---- */

struct xfr_result {
	struct raxfr_result r;
	bool done;
	unsigned records, in_order;
	struct stream *fake; /* the current try's fake stream, while it lives */
	unsigned waits, spins, handed;
	char err[200];
};

static struct stream *to_fake(struct stream *conn, void *arg)
{
	struct xfr_result *x = arg;
	struct loop *l = conn->loop;
	int fd = stream_detach_fd(conn);
	if (fd < 0) {
		stream_close(conn);
		errno = EINVAL;
		return NULL;
	}
	x->fake = fake_new(l, fd);
	if (!x->fake)
		close(fd);
	return x->fake;
}

static void on_rr(const struct dns_msg *m, const struct dns_rr *rr, void *arg)
{
	struct xfr_result *x = arg;
	char want[32];
	unsigned i = x->records++;
	if (i == 0 || i == NRECORDS - 1)
		snprintf(want, sizeof want, "zone.");
	else
		snprintf(want, sizeof want, "h%u.zone.", i - 1);
	bool soa = i == 0 || i == NRECORDS - 1;
	if (strcmp(rr->name, want) == 0 && rr->type == (soa ? DNS_T_SOA : DNS_T_A))
		x->in_order++;
	(void)m;
	/* The stream is closed before done: its counters are read here. */
	if (x->fake) {
		struct fake *f = x->fake->priv;
		x->waits = f->waits;
		x->spins = f->spins;
		x->handed = f->handed;
	}
}

static void on_done(const struct raxfr_result *r, void *arg)
{
	struct xfr_result *x = arg;
	x->r = *r;
	snprintf(x->err, sizeof x->err, "%s", r->errtext ? r->errtext : "");
	x->done = true;
}

static void t_axfr(bool fake)
{
	const char *kind = fake ? "fake TLS stream" : "socket stream";
	struct loop *l = mkloop();
	struct peer pe;
	pthread_t t;
	struct rdns_opts o;
	if (!l || peer_start(&pe, fake, &t, &o) != 0) {
		ok(0, "%s: AXFR over a %s: set up", B, kind);
		return;
	}
	struct xfr_result x = {0};
	char err[256];
	struct raxfr *a = raxfr_start(l, &o, "zone", on_rr, on_done, &x, err, sizeof err);
	if (a && fake)
		raxfr_set_wrap(a, to_fake, &x);
	if (a)
		loop_run(l);
	else
		printf("# raxfr_start: %s\n", err);
	peer_end(&pe, t);
	if (fake)
		ok(!pe.data_has_token, "%s: the test zone has no 0xFF byte", B);
	ok(x.done && x.r.status == RAXFR_OK && x.r.records == NRECORDS && x.r.messages == NMSG &&
	       x.r.bytes == pe.sent,
	   "%s: AXFR over a %s: the whole zone (%u records in %u messages, %llu of %zu bytes; "
	   "%s)",
	   B, kind, x.r.records, x.r.messages, (unsigned long long)x.r.bytes, pe.sent, x.err);
	ok(x.records == NRECORDS && x.in_order == NRECORDS,
	   "%s: AXFR over a %s: every record handed on, in order (%u/%u)", B, kind, x.in_order,
	   NRECORDS);
	ok(x.r.attempts == (int)pe.refused + 1, "%s: AXFR over a %s: %d connections, %u refused", B,
	   kind, x.r.attempts, pe.refused);
	if (fake) {
		ok(x.waits > 0 && x.handed > 0,
		   "%s: AXFR over a %s: the query waited for READ %u times, %u reads from held "
		   "bytes",
		   B, kind, x.waits, x.handed);
		/* A write retried with nothing read since is a wasted wakeup. */
		ok(x.spins <= x.waits, "%s: AXFR over a %s: %u wasted retries", B, kind, x.spins);
	}
	loop_free(l);
}

/* ---- the run: the sink gets each lookup's text in input order ---- */

struct sink_log {
	struct sbuf out, err;
	unsigned puts, flushes;
};

static void sink_put(const struct resolve_job *j, void *arg)
{
	struct sink_log *s = arg;
	sb_putn(&s->out, sb_str(&j->out), j->out.len);
	sb_putn(&s->err, sb_str(&j->err), j->err.len);
	s->puts++;
}

static void sink_flush(void *arg)
{
	((struct sink_log *)arg)->flushes++;
}

static void print_comment(const char *s)
{
	for (const char *e; *s; s = e + (*e == '\n')) {
		e = s + strcspn(s, "\n");
		printf("# %.*s\n", (int)(e - s), s);
	}
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The system's databases, no lookup leaving the machine: numeric
 * addresses (-n), and services the engine refuses before asking. */
static void t_run_system(void)
{
	struct resolve_job jobs[] = {
	    {.kind = RESOLVE_NAME, .arg = "127.0.0.1"},
	    {.kind = RESOLVE_SERVICE, .arg = "80/x/tcp"},
	    {.kind = RESOLVE_SERVICE, .arg = "99999"},
	    {.kind = RESOLVE_PROTOCOL, .arg = "300"},
	    {.kind = RESOLVE_NAME, .arg = "::1"},
	};
	struct sink_log s = {0};
	struct resolve_opts o = {.x = {.mode = RESOLVE_LINES, .numeric = true},
				 .sink = {.put = sink_put, .flush = sink_flush, .arg = &s}};
	char err[256] = "";
	int rc = resolve_jobs(jobs, 5, &o, err, sizeof err);
	const char *want_prefix = "127.0.0.1\t127.0.0.1\t";
	const char *out = sb_str(&s.out);
	const char *want_rest = ";; 80/x/tcp: error (port must be 0-65535)\n"
				";; 99999: error (port must be 0-65535)\n"
				";; 300: error (number must be 0-255)\n"
				"::1\t::1\t";
	const char *nl = strchr(out, '\n');
	bool in_order = strncmp(out, want_prefix, strlen(want_prefix)) == 0 && nl &&
			strncmp(nl + 1, want_rest, strlen(want_rest)) == 0;
	ok(rc == RES_FAIL && s.puts == 5 && in_order,
	   "system: five lookups put in input order, the worst outcome returned (%d, %u puts)", rc,
	   s.puts);
	if (!in_order)
		print_comment(out);
	ok(s.flushes >= 5, "system: a flush after each lookup (%u)", s.flushes);
	ok(jobs[0].status == RES_OK && jobs[1].status == RES_FAIL && jobs[4].status == RES_OK,
	   "system: each job's outcome");
	sb_free(&s.out);
	sb_free(&s.err);
	/* --short puts failures on the err side, --json one document each. */
	struct resolve_job j2[] = {{.kind = RESOLVE_SERVICE, .arg = "99999"}};
	s = (struct sink_log){0};
	o.x.mode = RESOLVE_SHORT;
	rc = resolve_jobs(j2, 1, &o, err, sizeof err);
	ok(rc == RES_FAIL && s.out.len == 0 &&
	       strcmp(sb_str(&s.err), "sockctl: resolve 99999: error (port must be 0-65535)\n") ==
		   0,
	   "system --short: the failure on the err side: %s", sb_str(&s.err));
	sb_free(&s.out);
	sb_free(&s.err);
}

/* A zone transfer through the run: put in pieces as it comes, then its
 * outcome line. */
static void t_run_axfr(void)
{
	struct loop *l = mkloop();
	struct peer pe;
	pthread_t t;
	struct rdns_opts o;
	if (!l || peer_start(&pe, false, &t, &o) != 0) {
		ok(0, "%s: run AXFR: set up", B);
		return;
	}
	struct resolve_job jobs[] = {{.kind = RESOLVE_NAME, .arg = "zone", .qtype = DNS_T_AXFR}};
	struct sink_log s = {0};
	struct resolve_opts ro = {.x = {.mode = RESOLVE_LINES},
				  .dns = &o,
				  .loop = l,
				  .parallel = 10,
				  .sink = {.put = sink_put, .flush = sink_flush, .arg = &s}};
	char err[256] = "";
	int rc = resolve_jobs(jobs, 1, &ro, err, sizeof err);
	peer_end(&pe, t);
	const char *out = sb_str(&s.out);
	const char *last = s.out.len > 1 ? memrchr(out, '\n', s.out.len - 1) : NULL;
	char want[200];
	snprintf(want, sizeof want, ";; zone AXFR: ok (NOERROR) from %s over tcp in ",
		 o.server[0].text);
	ok(rc == RES_OK && count_lines(out) == NRECORDS + 1 && s.puts > 2 && last &&
	       strncmp(last + 1, want, strlen(want)) == 0,
	   "%s: run AXFR: %u lines in %u pieces, then the outcome (%d %s): %.80s", B,
	   count_lines(out), s.puts, rc, err, last ? last + 1 : "");
	ok(strncmp(out, "zone.\t60\tIN\tSOA\tns. h. 7 1 2 3 4\nh0.zone.\t60\tIN\tA\t10.1.1.1\n",
		   59) == 0,
	   "%s: run AXFR: the records as lines", B);
	sb_free(&s.out);
	sb_free(&s.err);
	loop_free(l);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	alarm(120); /* a hang is a failure, not a stuck build */
	t_run_system();
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_axfr(false);
		t_axfr(true);
		t_run_axfr();
	}
	tap_done();
}
