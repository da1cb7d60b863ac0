/* sockctl wait: the target parser, and the engine on every backend
 * against loopback listeners made here (one that starts listening late,
 * one that never does, a Unix socket, a datagram peer that answers or
 * stays silent). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/loop.h"
#include "dns/dns_addr.h"
#include "net/sock.h"
#include "tap.h"
#include "unit_loop.h"
#include "wait/wait.h"

/* ---- the parser ---- */

static void parses(const char *s, enum wait_kind kind, const char *host, const char *port)
{
	struct wait_target t;
	char err[256] = "";
	bool r = wait_target_parse(s, &t, err, sizeof err);
	ok(r && t.kind == kind && strcmp(t.host, host) == 0 && strcmp(t.port, port) == 0,
	   "'%s': %s host '%s' port '%s' (%s)", s, wait_kind_name(kind), host, port, err);
}

static void refuses(const char *s, const char *why)
{
	struct wait_target t;
	char err[256] = "";
	bool r = wait_target_parse(s, &t, err, sizeof err);
	ok(!r && strstr(err, why), "'%s' refused: %s (%s)", s, why, err);
}

static void test_parser(void)
{
	parses("localhost:5432", WAIT_TCP, "localhost", "5432");
	parses("db.example:postgresql", WAIT_TCP, "db.example", "postgresql");
	parses("127.0.0.1:1", WAIT_TCP, "127.0.0.1", "1");
	parses("[::1]:80", WAIT_TCP, "::1", "80");
	parses("[fe80::1%lo]:80", WAIT_TCP, "fe80::1%lo", "80");
	parses("tcp://h:9", WAIT_TCP, "h", "9");
	parses("TLS://h:443/", WAIT_TLS, "h", "443");
	parses("tls://[::1]:443", WAIT_TLS, "::1", "443");
	parses("unix:/run/x.sock", WAIT_UNIX, "/run/x.sock", "");
	parses("unix:///run/x.sock", WAIT_UNIX, "/run/x.sock", "");
	parses("unix:@abstract", WAIT_UNIX, "@abstract", "");
	parses("udp:127.0.0.1:53", WAIT_UDP, "127.0.0.1", "53");
	parses("udp://[::1]:53", WAIT_UDP, "::1", "53");
	parses("http://127.0.0.1:8080/health", WAIT_HTTP, "127.0.0.1", "8080");
	parses("https://example.org/", WAIT_HTTP, "example.org", "443");
	parses("http://[::1]/", WAIT_HTTP, "::1", "80");
	struct wait_target t;
	char err[256];
	ok(wait_target_parse("https://h/", &t, err, sizeof err) && t.https, "https is TLS");
	ok(wait_target_parse("http://h/", &t, err, sizeof err) && !t.https, "http is not");

	refuses("", "empty target");
	refuses("localhost", "missing port");
	refuses("localhost:", "missing port");
	refuses(":80", "missing host");
	refuses("::1", "missing port");
	refuses("[::1]", "missing port");
	refuses("[::1]80", "':' and a port must follow");
	refuses("[::1:80", "no ']'");
	refuses("[example]:80", "not an IPv6 address");
	refuses("a:b:c", "in brackets");
	refuses("h:0", "bad port '0'");
	refuses("h:65536", "bad port");
	refuses("h:123456789012", "bad port");
	refuses("h:8 0", "bad port");
	refuses("bad host:80", "bad host name");
	refuses("ftp://h:21", "unknown scheme 'ftp'");
	refuses("redis://h:6379", "unknown scheme 'redis'");
	refuses("tcp://h", "missing port");
	refuses("unix:", "missing socket path");
	refuses("unix:@", "missing socket path");
	refuses("http://", "no host");
	refuses("udp:53", "missing port");
	char longpath[200];
	memset(longpath, 'x', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = '\0';
	memcpy(longpath, "unix:/", 6);
	refuses(longpath, "too long");
	char *huge = malloc(WAIT_TARGET_MAX + 10);
	memset(huge, 'a', WAIT_TARGET_MAX + 9);
	huge[WAIT_TARGET_MAX + 9] = '\0';
	refuses(huge, "longer than");
	free(huge);
}

/* ---- the engine ---- */

struct run {
	struct loop *l;
	struct wait_run *w;
	int attempts_seen, ready_seen;
	bool done;
};

static void on_attempt(struct wait_run *w, const struct wait_attempt *a, void *arg)
{
	(void)w;
	struct run *r = arg;
	r->attempts_seen++;
	r->ready_seen += a->ready;
}

static void on_done(struct wait_run *w, void *arg)
{
	(void)w;
	struct run *r = arg;
	r->done = true;
	loop_stop(r->l);
}

static struct wait_cfg base_cfg(struct run *r, const struct wait_target *t, size_t n)
{
	return (struct wait_cfg){
	    .targets = t,
	    .ntargets = n,
	    .timeout_ms = 3000,
	    .interval_ms = 20,
	    .max_interval_ms = 40,
	    .attempt_ms = 500,
	    .on_attempt = on_attempt,
	    .on_done = on_done,
	    .arg = r,
	};
}

static void target(struct wait_target *t, const char *text)
{
	char err[256];
	if (!wait_target_parse(text, t, err, sizeof err))
		printf("# %s: %s\n", text, err);
}

/* A bound TCP socket that does not listen yet: connects are refused
 * until listen(), and the port is ours all along. */
static int bound_tcp(char *text, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	bind(fd, (struct sockaddr *)&a, sizeof a);
	getsockname(fd, (struct sockaddr *)&a, &al);
	snprintf(text, len, "127.0.0.1:%u", ntohs(a.sin_port));
	return fd;
}

static void on_listen_late(struct loop *l, void *arg)
{
	(void)l;
	listen(*(int *)arg, 8);
}

static void run_it(struct run *r, const struct wait_cfg *c)
{
	char err[256];
	r->w = wait_start(r->l, c, err, sizeof err);
	if (!r->w) {
		printf("# wait_start: %s\n", err);
		return;
	}
	loop_run(r->l);
}

static void test_late_listener(void)
{
	struct run r = {.l = mkloop()};
	char text[64];
	int fd = bound_tcp(text, sizeof text);
	struct wait_target t;
	target(&t, text);
	struct timer late;
	timer_init(&late, on_listen_late, &fd);
	loop_timer_start(r.l, &late, 200);
	struct wait_cfg c = base_cfg(&r, &t, 1);
	run_it(&r, &c);
	const struct wait_status *st = wait_status_of(r.w, 0);
	ok(r.done && wait_ok(r.w) && st->ready, "%s: a port that listens after 200 ms is ready", B);
	ok(st->attempts >= 3 && r.attempts_seen == (int)st->attempts && r.ready_seen == 1,
	   "%s: several attempts, each reported (%u, %d)", B, st->attempts, r.attempts_seen);
	/* Ready within one pause (40 ms at most) of the listen, with room
	 * for a busy machine. */
	ok(st->ready_us >= 200000 && st->ready_us < 200000 + 40000 + 400000,
	   "%s: ready at %.3f s, soon after the listen", B, st->ready_us / 1e6);
	ok(strstr(st->last_error, "Connection refused") != NULL, "%s: the refusals were seen: %s",
	   B, st->last_error);
	wait_free(r.w);
	close(fd);
	loop_free(r.l);
}

static void test_never(void)
{
	struct run r = {.l = mkloop()};
	char text[64], text2[64];
	int fd = bound_tcp(text, sizeof text);
	int fd2 = bound_tcp(text2, sizeof text2);
	listen(fd2, 8);
	struct wait_target t[2];
	target(&t[0], text);
	target(&t[1], text2);
	struct wait_cfg c = base_cfg(&r, t, 2);
	c.timeout_ms = 300;
	int64_t t0 = clock_ms();
	run_it(&r, &c);
	int64_t took = clock_ms() - t0;
	const struct wait_status *st = wait_status_of(r.w, 0), *st2 = wait_status_of(r.w, 1);
	ok(r.done && !wait_ok(r.w) && !st->ready && st2->ready,
	   "%s: one never listens, the other is ready", B);
	ok(took >= 290 && took < 2000, "%s: the run ends at the deadline (%lld ms)", B,
	   (long long)took);
	/* 20, 40, 40, ... ms pauses in 300 ms: a handful of attempts, not
	 * a busy loop and not one alone. */
	ok(st->attempts >= 4 && st->attempts <= 16, "%s: %u attempts in 300 ms", B, st->attempts);
	ok(st2->attempts == 1, "%s: the ready one was tried once", B);
	ok(wait_elapsed_us(r.w) >= 290000, "%s: elapsed %.3f s", B, wait_elapsed_us(r.w) / 1e6);
	wait_free(r.w);

	/* --any: the ready one is enough. */
	struct run r2 = {.l = r.l};
	c = base_cfg(&r2, t, 2);
	c.any = true;
	run_it(&r2, &c);
	ok(r2.done && wait_ok(r2.w) && wait_elapsed_us(r2.w) < 250000,
	   "%s: with any, one ready target ends the run at once", B);
	wait_free(r2.w);
	close(fd);
	close(fd2);
	loop_free(r.l);
}

static void test_unix(void)
{
	struct run r = {.l = mkloop()};
	char path[108], text[128];
	snprintf(path, sizeof path, "/tmp/test_wait.%d.sock", (int)getpid());
	unlink(path);
	snprintf(text, sizeof text, "unix:%s", path);
	struct wait_target t;
	target(&t, text);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	bind(fd, (struct sockaddr *)&a, sizeof a);
	struct timer late;
	timer_init(&late, on_listen_late, &fd);
	loop_timer_start(r.l, &late, 100);
	struct wait_cfg c = base_cfg(&r, &t, 1);
	run_it(&r, &c);
	const struct wait_status *st = wait_status_of(r.w, 0);
	ok(st->ready && st->attempts >= 2 && st->ready_us >= 100000,
	   "%s: a Unix socket that listens late (%u attempts)", B, st->attempts);
	wait_free(r.w);
	close(fd);
	unlink(path);
	loop_free(r.l);
}

/* A datagram peer on the loop: answers "pong <what came>" unless mute. */
struct peer {
	int fd;
	bool mute;
	int got;
	int answers; /* > 0: answer only this many more, then be mute */
};

static void on_peer(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	(void)mask;
	struct peer *p = arg;
	char buf[512], out[600];
	struct sockaddr_storage from;
	socklen_t fl = sizeof from;
	ssize_t n = recvfrom(fd, buf, sizeof buf - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n < 0)
		return;
	buf[n] = '\0';
	p->got++;
	if (p->answers > 0 && --p->answers == 0)
		p->mute = true;
	else if (p->mute)
		return;
	int m = snprintf(out, sizeof out, "pong %s", buf);
	sendto(fd, out, (size_t)m, 0, (struct sockaddr *)&from, fl);
}

static void test_udp(void)
{
	struct run r = {.l = mkloop()};
	struct peer p = {.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	bind(p.fd, (struct sockaddr *)&a, sizeof a);
	getsockname(p.fd, (struct sockaddr *)&a, &al);
	loop_io(r.l, p.fd, MUX_READ, on_peer, &p);
	char text[64];
	snprintf(text, sizeof text, "udp:127.0.0.1:%u", ntohs(a.sin_port));
	struct wait_target t;
	target(&t, text);
	regex_t re, nomatch;
	regcomp(&re, "^pong ping", REG_EXTENDED | REG_NOSUB);
	regcomp(&nomatch, "^PONG", REG_EXTENDED | REG_NOSUB);
	struct wait_cfg c = base_cfg(&r, &t, 1);
	c.send = (const unsigned char *)"ping\0x";
	c.sendlen = 6; /* a NUL byte inside goes out as it is */
	c.expect = &re;
	run_it(&r, &c);
	ok(wait_ok(r.w) && wait_status_of(r.w, 0)->attempts == 1, "%s: udp: a matching reply", B);
	wait_free(r.w);

	struct run r2 = {.l = r.l};
	c = base_cfg(&r2, &t, 1);
	c.send = (const unsigned char *)"ping";
	c.sendlen = 4;
	c.expect = &nomatch;
	c.timeout_ms = 200;
	run_it(&r2, &c);
	const struct wait_status *st = wait_status_of(r2.w, 0);
	ok(!wait_ok(r2.w) && strstr(st->last_error, "does not match") &&
	       strstr(st->last_error, "pong ping"),
	   "%s: udp: a reply that does not match: %s", B, st->last_error);
	wait_free(r2.w);

	/* The deadline cuts an attempt under way (the peer answers the first
	 * datagram only): the reason the one before failed stays. */
	p.answers = 1;
	struct run r4 = {.l = r.l};
	c = base_cfg(&r4, &t, 1);
	c.send = (const unsigned char *)"ping";
	c.sendlen = 4;
	c.expect = &nomatch;
	c.interval_ms = c.max_interval_ms = 1;
	c.timeout_ms = 100;
	run_it(&r4, &c);
	st = wait_status_of(r4.w, 0);
	ok(!wait_ok(r4.w) && strstr(st->last_error, "does not match") && st->attempts == 2,
	   "%s: udp: the deadline's cut does not hide why the attempts failed: %s", B,
	   st->last_error);
	wait_free(r4.w);

	/* Silence: each attempt ends at its own limit. */
	p.mute = true;
	p.answers = 0;
	p.got = 0;
	struct run r3 = {.l = r.l};
	c = base_cfg(&r3, &t, 1);
	c.send = (const unsigned char *)"ping";
	c.sendlen = 4;
	c.attempt_ms = 60;
	c.timeout_ms = 400;
	run_it(&r3, &c);
	st = wait_status_of(r3.w, 0);
	/* got: one per attempt, and perhaps the last one of the run before,
	 * read only now. */
	ok(!wait_ok(r3.w) && strstr(st->last_error, "no reply within") && st->attempts >= 3 &&
	       p.got >= (int)st->attempts && p.got <= (int)st->attempts + 1,
	   "%s: udp: no reply, %u attempts of 60 ms (%d datagrams): %s", B, st->attempts, p.got,
	   st->last_error);
	wait_free(r3.w);
	regfree(&re);
	regfree(&nomatch);
	loop_io(r.l, p.fd, 0, NULL, NULL);
	close(p.fd);
	loop_free(r.l);
}

/* An HTTP/1.1 server on the loop that keeps its connections: 503 for the
 * first two requests, then 200. */
struct hpeer {
	struct loop *l;
	int lfd, cfd;
	int accepted, requests;
	char buf[4096];
	size_t len;
};

static void on_hconn(struct loop *l, int fd, int mask, void *arg)
{
	(void)mask;
	struct hpeer *h = arg;
	ssize_t n = recv(fd, h->buf + h->len, sizeof h->buf - h->len - 1, MSG_DONTWAIT);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		loop_io(l, fd, 0, NULL, NULL);
		close(fd);
		h->cfd = -1;
		h->len = 0;
		return;
	}
	h->len += (size_t)n;
	h->buf[h->len] = '\0';
	char *end;
	while ((end = strstr(h->buf, "\r\n\r\n"))) {
		h->requests++;
		const char *r =
		    h->requests <= 2
			? "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nwait\n"
			: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
		send(fd, r, strlen(r), MSG_NOSIGNAL);
		size_t used = (size_t)(end + 4 - h->buf);
		memmove(h->buf, h->buf + used, h->len - used + 1);
		h->len -= used;
	}
}

static void on_haccept(struct loop *l, int fd, int mask, void *arg)
{
	(void)mask;
	struct hpeer *h = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	h->accepted++;
	h->cfd = c;
	loop_io(l, c, MUX_READ, on_hconn, h);
}

static void test_http(void)
{
	struct run r = {.l = mkloop()};
	struct hpeer h = {.l = r.l, .cfd = -1};
	char text[64];
	h.lfd = bound_tcp(text, sizeof text);
	listen(h.lfd, 8);
	sock_set_nonblock(h.lfd, true);
	loop_io(r.l, h.lfd, MUX_READ, on_haccept, &h);
	char url[96];
	snprintf(url, sizeof url, "http://%s/health", text);
	struct wait_target t;
	target(&t, url);
	struct wait_cfg c = base_cfg(&r, &t, 1);
	run_it(&r, &c);
	const struct wait_status *st = wait_status_of(r.w, 0);
	ok(wait_ok(r.w) && st->attempts == 3 && h.requests == 3,
	   "%s: http: 503, 503, then 200 is ready on the third attempt (%u, %d requests)", B,
	   st->attempts, h.requests);
	ok(strstr(st->last_error, "HTTP 503 Service Unavailable (not a ready status)") != NULL,
	   "%s: http: the 503 is the last error: %s", B, st->last_error);
	/* One client per target: the kept-alive connection carried them all. */
	ok(h.accepted == 1, "%s: http: one connection for the three attempts (%d)", B, h.accepted);
	wait_free(r.w);

	/* --status: a 503 may be ready too. */
	h.requests = 0;
	static bool only503[600];
	only503[503] = true;
	struct run r2 = {.l = r.l};
	c = base_cfg(&r2, &t, 1);
	c.ready_status = only503;
	run_it(&r2, &c);
	ok(wait_ok(r2.w) && wait_status_of(r2.w, 0)->attempts == 1,
	   "%s: http: with 503 listed, the first answer is ready", B);
	wait_free(r2.w);
	if (h.cfd >= 0) {
		loop_io(r.l, h.cfd, 0, NULL, NULL);
		close(h.cfd);
	}
	loop_io(r.l, h.lfd, 0, NULL, NULL);
	close(h.lfd);
	loop_free(r.l);
}

static void test_unresolved(void)
{
	/* A name that does not resolve is a failed attempt, retried: with
	 * numeric set, any name fails without a lookup. */
	struct run r = {.l = mkloop()};
	struct wait_target t;
	target(&t, "no-such-host.invalid:80");
	struct wait_cfg c = base_cfg(&r, &t, 1);
	c.numeric = true;
	c.timeout_ms = 150;
	run_it(&r, &c);
	const struct wait_status *st = wait_status_of(r.w, 0);
	ok(!wait_ok(r.w) && st->attempts >= 2 && st->last_error[0],
	   "%s: an unresolved name is retried (%u): %s", B, st->attempts, st->last_error);
	wait_free(r.w);
	loop_free(r.l);
}

/* ---- lookups off the loop's way (dns/dns_addr) ---- */

struct found {
	int calls;
	struct addrinfo *res;
	char err[256];
};

static void on_found(struct addrinfo *res, const char *errtext, void *arg)
{
	struct found *f = arg;
	f->calls++;
	f->res = res;
	snprintf(f->err, sizeof f->err, "%s", errtext ? errtext : "");
}

/* The system's resolver in a thread, on names that ask nobody: a
 * link-local IPv6 literal with a scope (inet_pton refuses it, so the
 * thread's getaddrinfo reads it) and an IPv4 one asked for as IPv6 (an
 * error). A numeric host is answered
 * from the loop without a thread; a lookup cancelled or freed while its
 * thread runs calls nobody back and keeps no loop running. */
static void test_lookup(void)
{
	struct loop *l = mkloop();
	char err[256];
	struct dns_addrs *r = dns_addrs_new(l, NULL, err, sizeof err);
	ok(r != NULL, "%s: lookup: the system's resolver (%s)", B, r ? "" : err);
	struct found a = {0}, b = {0}, c = {0}, d = {0};
	struct dns_addr *la = dns_addr_start(r, "fe80::1%lo", "80", AF_UNSPEC, SOCK_STREAM,
					     on_found, &a, err, sizeof err);
	struct dns_addr *lb = dns_addr_start(r, "127.0.0.1", "http", AF_UNSPEC, SOCK_STREAM,
					     on_found, &b, err, sizeof err);
	struct dns_addr *lc = dns_addr_start(r, "127.0.0.1", "80", AF_INET6, SOCK_STREAM, on_found,
					     &c, err, sizeof err);
	struct dns_addr *ld = dns_addr_start(r, "fe80::1%lo", "81", AF_UNSPEC, SOCK_STREAM,
					     on_found, &d, err, sizeof err);
	ok(la && lb && lc && ld && !a.calls && !b.calls && !c.calls,
	   "%s: lookup: started, nobody called back yet", B);
	dns_addr_cancel(ld);
	/* The loop runs while a lookup is under way, and no longer. */
	loop_run(l);
	const struct sockaddr_in6 *s6 =
	    a.res ? (const struct sockaddr_in6 *)(const void *)a.res->ai_addr : NULL;
	ok(a.calls == 1 && s6 && s6->sin6_family == AF_INET6 &&
	       IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) && s6->sin6_scope_id != 0 &&
	       ntohs(s6->sin6_port) == 80 && a.res->ai_socktype == SOCK_STREAM,
	   "%s: lookup: in a thread, fe80::1 port 80 (%s)", B, a.err);
	const struct sockaddr_in *s4 =
	    b.res ? (const struct sockaddr_in *)(const void *)b.res->ai_addr : NULL;
	ok(b.calls == 1 && s4 && s4->sin_family == AF_INET &&
	       s4->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && ntohs(s4->sin_port) == 80 &&
	       !b.res->ai_next,
	   "%s: lookup: a number, from the loop, the service's port (%s)", B, b.err);
	ok(c.calls == 1 && !c.res && strstr(c.err, "127.0.0.1: "),
	   "%s: lookup: an IPv4 number asked for as IPv6 fails, says why (%s)", B, c.err);
	ok(d.calls == 0, "%s: lookup: cancelled, never called back", B);
	sock_freeaddrinfo(a.res);
	sock_freeaddrinfo(b.res);
	ok(!dns_addr_start(r, "x", "no-such-service", AF_UNSPEC, SOCK_STREAM, on_found, &d, err,
			   sizeof err) &&
	       strstr(err, "no-such-service"),
	   "%s: lookup: a bad port refused at once (%s)", B, err);
	/* Freed with a thread at work: it ends on its own. */
	ok(dns_addr_start(r, "fe80::1%lo", "82", AF_UNSPEC, SOCK_STREAM, on_found, &d, err,
			  sizeof err) != NULL,
	   "%s: lookup: one more", B);
	dns_addrs_free(r);
	ok(d.calls == 0, "%s: lookup: freed under way, never called back", B);
	loop_free(l);
}

int main(void)
{
	test_parser();
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		test_late_listener();
		test_never();
		test_unix();
		test_udp();
		test_http();
		test_unresolved();
		test_lookup();
	}
	tap_done();
}
