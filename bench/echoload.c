/* Load generator for the echo benchmarks: N active connections, each
 * sending a SIZE-byte message and waiting for its echo, for SECS seconds;
 * reports round trips per second and checks every echoed byte. Optionally
 * first opens IDLE connections that do one round trip each (so the server
 * has accepted them) and then stay open and silent.
 *
 * usage: echoload [-c N] [-t SECS] [-s SIZE] [-i IDLE] [-T] [-n] PORT
 * -T: every active connection speaks TLS (handshakes before the clock
 * starts; the server's certificate is not checked: this measures the
 * server, not verification).
 * -n: a new connection for every round trip (connect, the message, its
 * echo, close): a connection rate, not a round-trip rate. The close is a
 * reset, so that no port waits in TIME_WAIT.
 * Prints on stderr "echoload: idle ready" once the idle connections are up,
 * then on stdout: "rate R conns N idle I seconds S roundtrips T". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "loadgen.h"

struct conn {
	int fd;
	SSL *ssl;   /* -T */
	size_t got; /* bytes of the current echo received */
	unsigned seq;
};

static size_t msz = 64;

static void fill(char *m, unsigned id, unsigned seq)
{
	for (size_t i = 0; i < msz; i++)
		m[i] = (char)('a' + (id * 7 + seq * 13 + i) % 26);
}

static int dial(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		fail("socket");
	if (connect(fd, (const struct sockaddr *)a, sizeof *a) < 0)
		fail("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* -T: the handshake, blocking, then the fd non-blocking for the run. */
static SSL *tls_on(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		fprintf(stderr, "echoload: TLS handshake failed\n");
		exit(1);
	}
	int one = 1;
	if (ioctl(fd, FIONBIO, &one) < 0)
		fail("FIONBIO");
	return ssl;
}

/* recv/send through TLS or not: -1 with errno EAGAIN when nothing is there. */
static ssize_t io_recv(struct conn *x, char *buf, size_t n)
{
	if (!x->ssl)
		return recv(x->fd, buf, n, 0);
	size_t got;
	if (SSL_read_ex(x->ssl, buf, n, &got))
		return (ssize_t)got;
	int e = SSL_get_error(x->ssl, 0);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		errno = EAGAIN;
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	errno = EPROTO;
	return -1;
}

static ssize_t io_send(struct conn *x, const char *buf, size_t n)
{
	if (!x->ssl)
		return send(x->fd, buf, n, MSG_NOSIGNAL);
	size_t w;
	/* 64-byte messages into an empty socket buffer: never a short write. */
	return SSL_write_ex(x->ssl, buf, n, &w) ? (ssize_t)w : -1;
}

/* Opens the idle connections BATCH at a time, each doing one round trip
 * (bounded by 30 s per batch) so the server has accepted it. */
#define BATCH 256
static void open_idle(const struct sockaddr_in *a, int *idle, int nidle)
{
	char m[4096], r[4096];
	for (int b = 0; b < nidle; b += BATCH) {
		int n = nidle - b < BATCH ? nidle - b : BATCH, left = n;
		struct pollfd pf[BATCH];
		size_t got[BATCH] = {0};
		for (int i = 0; i < n; i++) {
			idle[b + i] = dial(a);
			fill(m, (unsigned)(b + i), 0);
			if (send(idle[b + i], m, msz, MSG_NOSIGNAL) != (ssize_t)msz)
				fail("send (idle)");
			pf[i] = (struct pollfd){.fd = idle[b + i], .events = POLLIN};
		}
		double end = now() + 30;
		while (left) {
			if (now() > end || poll(pf, (nfds_t)n, 1000) < 0) {
				fprintf(stderr, "echoload: idle connections: no echo in 30 s\n");
				exit(1);
			}
			for (int i = 0; i < n; i++) {
				if (pf[i].fd < 0 || !pf[i].revents)
					continue;
				ssize_t k = recv(pf[i].fd, r, msz - got[i], MSG_DONTWAIT);
				if (k < 0 && errno == EAGAIN)
					continue;
				if (k <= 0) {
					fprintf(stderr, "echoload: idle connection %d: %s\n", b + i,
						k ? strerror(errno) : "closed by the server");
					exit(1);
				}
				fill(m, (unsigned)(b + i), 0);
				if (memcmp(m + got[i], r, (size_t)k)) {
					fprintf(stderr,
						"echoload: idle connection %d: echo differs\n",
						b + i);
					exit(1);
				}
				got[i] += (size_t)k;
				if (got[i] == msz) {
					pf[i].fd = -1;
					left--;
				}
			}
		}
	}
}

int main(int argc, char **argv)
{
	int nconn = 50, nidle = 0, opt;
	bool tls = false, fresh = false;
	double secs = 3;
	while ((opt = getopt(argc, argv, "c:t:s:i:Tn")) != -1) {
		switch (opt) {
		case 'c':
			nconn = atoi(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 's':
			msz = (size_t)atoi(optarg);
			break;
		case 'i':
			nidle = atoi(optarg);
			break;
		case 'T':
			tls = true;
			break;
		case 'n':
			fresh = true;
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || nconn < 1 || secs <= 0 || msz < 1 || msz > 4096 || nidle < 0 ||
	    (tls && (nidle || fresh))) {
	usage:
		fprintf(
		    stderr,
		    "usage: echoload [-c N] [-t SECS] [-s SIZE<=4096] [-i IDLE] [-T] [-n] PORT\n"
		    "(-T: the active connections over TLS; not with -i or -n)\n");
		return 2;
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	a.sin_port = htons((unsigned short)atoi(argv[optind]));

	int *idle = calloc((size_t)nidle + 1, sizeof *idle);
	open_idle(&a, idle, nidle);
	if (nidle)
		fprintf(stderr, "echoload: idle ready\n");

	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct conn *c = calloc((size_t)nconn, sizeof *c);
	char m[4096], r[4096];
	if (ep < 0 || !c)
		fail("setup");
	SSL_CTX *ctx = tls ? SSL_CTX_new(TLS_client_method()) : NULL;
	if (tls && !ctx)
		fail("SSL_CTX_new");
	for (int i = 0; i < nconn; i++) {
		c[i].fd = dial(&a);
		if (tls)
			c[i].ssl = tls_on(ctx, c[i].fd);
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev) < 0)
			fail("epoll_ctl");
	}
	unsigned long long trips = 0;
	double t0 = now(), end = t0 + secs, t;
	for (int i = 0; i < nconn; i++) {
		fill(m, (unsigned)i, 0);
		if (io_send(&c[i], m, msz) != (ssize_t)msz)
			fail("send");
	}
	struct epoll_event evs[256];
	while ((t = now()) < end) {
		int n = epoll_wait(ep, evs, 256, (int)((end - t) * 1000) + 1);
		if (n < 0 && errno != EINTR)
			fail("epoll_wait");
		if (n == 0 && now() < end) {
			fprintf(stderr, "echoload: no echo for %.1f s\n", end - t);
			return 1;
		}
		for (int k = 0; k < n; k++) {
			struct conn *x = &c[evs[k].data.u32];
			unsigned id = evs[k].data.u32;
			ssize_t got = io_recv(x, r, msz - x->got);
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (got <= 0) {
				fprintf(stderr,
					"echoload: connection %u: %s after %llu round trips\n", id,
					got ? strerror(errno) : "closed by the server", trips);
				return 1;
			}
			fill(m, id, x->seq);
			if (memcmp(m + x->got, r, (size_t)got)) {
				fprintf(stderr, "echoload: connection %u: echo differs\n", id);
				return 1;
			}
			x->got += (size_t)got;
			if (x->got < msz)
				continue;
			trips++;
			x->got = 0;
			if (fresh) {
				/* The next round trip on a connection of its own. */
				epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
				abort_close(x->fd);
				x->fd = dial(&a);
				struct epoll_event ev = {.events = EPOLLIN, .data.u32 = id};
				if (epoll_ctl(ep, EPOLL_CTL_ADD, x->fd, &ev) < 0)
					fail("epoll_ctl");
			}
			fill(m, id, ++x->seq);
			if (io_send(x, m, msz) != (ssize_t)msz)
				fail("send");
		}
	}
	t = now() - t0;
	for (int i = 0; i < nconn; i++)
		abort_close(c[i].fd);
	for (int i = 0; i < nidle; i++)
		abort_close(idle[i]);
	printf("rate %.0f conns %d idle %d seconds %.2f roundtrips %llu\n", (double)trips / t,
	       nconn, nidle, t, trips);
	return 0;
}
