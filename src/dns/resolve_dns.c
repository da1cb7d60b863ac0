#include "config.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "dns/resolve_dns.h"
#include "dns/resolve_dot.h"
#include "net/sock.h"

/* A TCP socket's incoming stream as our socket functions pass it to
 * c-ares: message by message, holding back the first bytes of each (its
 * length and flags) until we know whether it is a response. */
struct rdns_tcp_in {
	int fd; /* -1: unused */
	uint8_t head[5];
	size_t have, given; /* bytes of head read, and handed on */
	size_t left;	    /* bytes of the message handed on still to read */
	size_t skip;	    /* bytes of a dropped message still to read */
	bool pass;	    /* handing on the current message */
};

/* How the channel's sockets last failed: c-ares reports every socket
 * failure as ARES_ECONNREFUSED, even a connection closed by the server. */
enum rdns_seen { SEEN_NOTHING, SEEN_EOF, SEEN_ERRNO };

#define CHAN_TCP_SOCKETS 4

struct rdns_chan {
	struct rdns *d;
	ares_channel ch; /* NULL until first used */
	struct timer tm;
	int server;
	bool tcp;
	enum rdns_seen seen;
	int seen_errno;
	struct rdns_tcp_in tin[CHAN_TCP_SOCKETS];
};

struct rdns {
	struct loop *l;
	struct rdns_opts o;
	struct rdns_chan chans[RDNS_MAX_SERVERS][2]; /* [server][tcp] */
	bool cares_init;
	struct rdot_set *dot; /* DNS over TLS queries and connections */
};

struct rdns_rq {
	struct rdns *d;
	char *name; /* owned */
	int type;
	rdns_cb cb;
	void *arg;
	int server, try_no, attempts;
	bool tcp;
	int64_t t0_us;
	const char *lasterr;
	enum rdns_noanswer lastwhy;
	int tries;
	bool after_tc; /* on TCP after a truncated answer from this server */
};

bool rdns_parse_server(const char *s, uint16_t default_port, struct rdns_server *out, char *err,
		       size_t errlen)
{
	char host[64];
	const char *port = NULL;
	memset(out, 0, sizeof *out);
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || (close[1] != '\0' && close[1] != ':' && close[1] != '#') ||
		    (size_t)(close - s - 1) >= sizeof host)
			goto bad;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		if (close[1])
			port = close + 2;
	} else {
		/* '#' never occurs in an address, so "::1#5353" is unambiguous. */
		const char *colon = strchr(s, '#');
		if (!colon) {
			colon = strchr(s, ':');
			/* Two colons or more: a bare IPv6 address, no port. */
			if (colon && strchr(colon + 1, ':'))
				colon = NULL;
		}
		size_t n = colon ? (size_t)(colon - s) : strlen(s);
		if (n >= sizeof host)
			goto bad;
		memcpy(host, s, n);
		host[n] = '\0';
		if (colon)
			port = colon + 1;
	}
	unsigned long p = default_port;
	if (port) {
		char *end;
		if (*port < '0' || *port > '9')
			goto bad;
		p = strtoul(port, &end, 10);
		if (*end || p == 0 || p > 65535)
			goto bad;
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		snprintf(out->text, sizeof out->text, "%s:%lu", host, p);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		snprintf(out->text, sizeof out->text, "[%s]:%lu", host, p);
	} else
		goto bad;
	return true;
bad:
	snprintf(err, errlen, "invalid server '%s' (use IP, IP:PORT, [IPv6]:PORT or IP#PORT)", s);
	return false;
}

/* ---- the sockets c-ares uses, through our functions ----
 * They are c-ares's, not our connections (it opens, reads, writes and
 * closes them when it likes), so they are not streams. */

enum rdns_noanswer rdns_sock_error(int e, const char **text)
{
	switch (e) {
	case ETIMEDOUT:
		*text = "timed out";
		return RDNS_TIMEDOUT;
	case ECONNREFUSED:
		*text = "connection refused";
		return RDNS_UNREACHABLE;
	case ECONNRESET:
	case EPIPE:
		*text = "connection reset";
		return RDNS_CLOSED;
	}
	*text = strerror(e);
	return RDNS_UNREACHABLE;
}

static void seen_errno(struct rdns_chan *c, int e)
{
	if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == EINPROGRESS)
		return;
	c->seen = SEEN_ERRNO;
	c->seen_errno = e;
}

static struct rdns_tcp_in *tcp_find(struct rdns_chan *c, int fd)
{
	for (int i = 0; i < CHAN_TCP_SOCKETS; i++)
		if (c->tin[i].fd == fd)
			return &c->tin[i];
	return NULL;
}

static ares_socket_t s_socket(int family, int type, int protocol, void *arg)
{
	struct rdns_chan *c = arg;
	struct rdns_tcp_in *t = NULL;
	bool stream = (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM;
	if (stream && !(t = tcp_find(c, -1))) {
		errno = EMFILE;
		seen_errno(c, errno);
		return ARES_SOCKET_BAD;
	}
	int fd = sock_socket(family, type, protocol);
	if (fd < 0) {
		seen_errno(c, errno);
		return ARES_SOCKET_BAD;
	}
	if (t) {
		int one = 1;
		/* One small query, then a wait for its answer: no batching. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		*t = (struct rdns_tcp_in){.fd = fd};
	}
	return fd;
}

static int s_close(ares_socket_t fd, void *arg)
{
	struct rdns_tcp_in *t = tcp_find(arg, fd);
	if (t)
		t->fd = -1;
	return close(fd);
}

static int s_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len, void *arg)
{
	int r = connect(fd, sa, len);
	if (r < 0)
		seen_errno(arg, errno);
	return r;
}

static ares_ssize_t s_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *arg)
{
	struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
	/* not a stream: c-ares's socket */
	ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	if (r < 0)
		seen_errno(arg, errno);
	return r;
}

/* A read that found nothing, the end, or an error: as recv returned it. */
static ares_ssize_t tcp_stop(struct rdns_chan *c, ssize_t n)
{
	if (n == 0) {
		c->seen = SEEN_EOF;
		return 0;
	}
	seen_errno(c, errno);
	return -1;
}

/* Hands c-ares the TCP stream without the messages that are not responses
 * (QR clear: a query sent back to us) or too short to be one: c-ares
 * would take a query with our id and question for the answer. The first 5
 * bytes of a message (length, id, flags) are read and held until QR is
 * known; the rest stays in the kernel, so readiness keeps telling the
 * truth. */
static ares_ssize_t tcp_recv(struct rdns_chan *c, struct rdns_tcp_in *t, uint8_t *buf, size_t len)
{
	for (;;) {
		ssize_t n;
		if (t->skip) {
			uint8_t junk[512];
			/* not a stream: c-ares's socket */
			n = recv(t->fd, junk, t->skip < sizeof junk ? t->skip : sizeof junk, 0);
			if (n <= 0)
				return tcp_stop(c, n);
			t->skip -= (size_t)n;
			continue;
		}
		if (t->pass) {
			size_t k = t->have - t->given < len ? t->have - t->given : len;
			memcpy(buf, t->head + t->given, k);
			t->given += k;
			if (k < len && t->left) {
				/* not a stream: c-ares's socket */
				n = recv(t->fd, buf + k, len - k < t->left ? len - k : t->left, 0);
				if (n > 0) {
					t->left -= (size_t)n;
					k += (size_t)n;
				} else if (k == 0)
					return tcp_stop(c, n);
			}
			if (t->given == t->have && t->left == 0)
				t->pass = false, t->have = t->given = 0;
			return (ares_ssize_t)k;
		}
		size_t want = t->have < 2 ? 2 : 5;
		/* not a stream: c-ares's socket */
		n = recv(t->fd, t->head + t->have, want - t->have, 0);
		if (n <= 0)
			return tcp_stop(c, n);
		t->have += (size_t)n;
		if (t->have < want)
			continue;
		size_t mlen = (size_t)t->head[0] << 8 | t->head[1];
		if (mlen < 12) { /* shorter than a header */
			t->skip = mlen;
			t->have = 0;
		} else if (t->have == 5 && (t->head[4] & 0x80)) {
			t->pass = true;
			t->given = 0;
			t->left = mlen - 3;
		} else if (t->have == 5) {
			t->skip = mlen - 3;
			t->have = 0;
		}
	}
}

static ares_ssize_t s_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
			       struct sockaddr *from, ares_socklen_t *fromlen, void *arg)
{
	struct rdns_chan *c = arg;
	struct rdns_tcp_in *t = tcp_find(c, fd);
	if (t)
		return tcp_recv(c, t, buf, len);
	socklen_t room = fromlen ? *fromlen : 0;
	/* Datagrams: skip those that are not responses, a bounded number at
	 * a time (the loop calls again while more are queued). */
	for (int i = 0; i < 64; i++) {
		if (fromlen)
			*fromlen = room;
		/* not a stream: c-ares's socket */
		ssize_t n = recvfrom(fd, buf, len, flags, from, fromlen);
		if (n < 0) {
			seen_errno(c, errno);
			return -1;
		}
		/* An empty datagram too: c-ares takes a 0 for a failed socket. */
		if (n >= 12 && (((const uint8_t *)buf)[2] & 0x80))
			return n;
	}
	errno = EAGAIN;
	return -1;
}

static const struct ares_socket_functions sock_funcs = {
    .asocket = s_socket,
    .aclose = s_close,
    .aconnect = s_connect,
    .arecvfrom = s_recvfrom,
    .asendv = s_sendv,
};

/* ---- channels on the loop ---- */

static void chan_arm(struct rdns_chan *c)
{
	struct timeval tv, *t = ares_timeout(c->ch, NULL, &tv);
	if (!t) {
		loop_timer_stop(c->d->l, &c->tm);
		return;
	}
	int64_t ms = (int64_t)t->tv_sec * 1000 + (t->tv_usec + 999) / 1000;
	loop_timer_start(c->d->l, &c->tm, ms);
}

static void chan_timer(struct loop *l, void *arg)
{
	struct rdns_chan *c = arg;
	c->seen = SEEN_NOTHING;
	ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	chan_arm(c);
}

static void chan_io(struct loop *l, int fd, int mask, void *arg)
{
	struct rdns_chan *c = arg;
	/* What the sockets see now is about the queries c-ares ends now. */
	c->seen = SEEN_NOTHING;
	ares_process_fd(c->ch, (mask & MUX_READ) ? fd : ARES_SOCKET_BAD,
			(mask & MUX_WRITE) ? fd : ARES_SOCKET_BAD);
	chan_arm(c);
}

static void chan_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct rdns_chan *c = data;
	int mask = (readable ? MUX_READ : 0) | (writable ? MUX_WRITE : 0);
	/* c-ares's own socket, not one of our connections: watched as
	 * c-ares asks. If the loop cannot watch this fd (select and fd >=
	 * FD_SETSIZE), the query on it simply times out: c-ares's timer
	 * still runs. */
	loop_io(c->d->l, fd, mask, mask ? chan_io : NULL, c);
}

static int chan_open(struct rdns_chan *c)
{
	struct rdns *d = c->d;
	struct ares_options ao;
	memset(&ao, 0, sizeof ao);
	/* NOCHECKRESP: hand us SERVFAIL and REFUSED as they are instead of
	 * trying again and folding them into one error. IGNTC: we retry a
	 * truncated answer over TCP ourselves, so we know which transport
	 * answered. */
	ao.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	ao.flags |= c->tcp ? ARES_FLAG_USEVC : ARES_FLAG_IGNTC;
	if (!d->o.no_edns)
		ao.flags |= ARES_FLAG_EDNS;
	if (d->o.norecurse)
		ao.flags |= ARES_FLAG_NORECURSE;
	ao.timeout = d->o.timeout_ms;
	ao.tries = 1;
	ao.ednspsz = 1232; /* the size DNS flag day 2020 settled on */
	ao.sock_state_cb = chan_sock_state;
	ao.sock_state_cb_data = c;
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
		   ARES_OPT_EDNSPSZ;
	if (ares_init_options(&c->ch, &ao, mask) != ARES_SUCCESS) {
		c->ch = NULL;
		return -1;
	}
	const struct rdns_server *s = &d->o.server[c->server];
	struct ares_addr_port_node node;
	memset(&node, 0, sizeof node);
	node.family = s->ss.ss_family;
	if (node.family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&s->ss;
		memcpy(&node.addr.addr4, &v4->sin_addr, 4);
		node.udp_port = node.tcp_port = ntohs(v4->sin_port);
	} else {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&s->ss;
		memcpy(&node.addr.addr6, &v6->sin6_addr, 16);
		node.udp_port = node.tcp_port = ntohs(v6->sin6_port);
	}
	if (ares_set_servers_ports(c->ch, &node) != ARES_SUCCESS) {
		ares_destroy(c->ch);
		c->ch = NULL;
		return -1;
	}
	ares_set_socket_functions(c->ch, &sock_funcs, c);
	return 0;
}

int rdns_server_host(const struct rdns_server *s, char *host, size_t hostlen, char *port,
		     size_t portlen)
{
	socklen_t len =
	    s->ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	return getnameinfo((const struct sockaddr *)&s->ss, len, host, (socklen_t)hostlen, port,
			   (socklen_t)portlen, NI_NUMERICHOST | NI_NUMERICSERV);
}

struct rdns *rdns_new(struct loop *l, const struct rdns_opts *o, char *err, size_t errlen)
{
	struct rdns *d = calloc(1, sizeof *d);
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int r = ares_library_init(ARES_LIB_INIT_ALL);
	if (r != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(r));
		free(d);
		return NULL;
	}
	d->cares_init = true;
	d->l = l;
	d->o = *o;
	for (int s = 0; s < o->nservers; s++)
		for (int t = 0; t < 2; t++) {
			struct rdns_chan *c = &d->chans[s][t];
			c->d = d;
			c->server = s;
			c->tcp = t;
			for (int i = 0; i < CHAN_TCP_SOCKETS; i++)
				c->tin[i].fd = -1;
			timer_init(&c->tm, chan_timer, c);
		}
	return d;
}

void rdns_free(struct rdns *d)
{
	if (!d)
		return;
	rdot_cancel_all(&d->dot);
	for (int s = 0; s < d->o.nservers; s++)
		for (int t = 0; t < 2; t++) {
			struct rdns_chan *c = &d->chans[s][t];
			loop_timer_stop(d->l, &c->tm);
			if (c->ch)
				ares_destroy(c->ch); /* callbacks see ARES_EDESTRUCTION */
		}
	if (d->cares_init)
		ares_library_cleanup();
	free(d);
}

static void rq_send(struct rdns_rq *q);

static void rq_finish(struct rdns_rq *q, struct rdns_result *r)
{
	r->server = q->d->o.server[q->server].text;
	r->transport = q->tcp ? "tcp" : "udp";
	r->attempts = q->attempts;
	r->tries = q->tries;
	r->after_tc = q->after_tc;
	q->cb(r, q->arg);
	free(q->name);
	free(q);
}

static void rq_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct rdns_rq *q = arg;
	struct rdns *d = q->d;
	struct rdns_result r = {0};
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
		free(q->name);
		free(q);
		return;
	}
	r.rtt_ms = (double)(clock_us() - q->t0_us) / 1000.0;
	if (abuf && alen >= 12) {
		/* A truncated UDP answer: ask again over TCP, same server. */
		if (!q->tcp && (abuf[2] & 0x02) && !d->o.no_fallback) {
			q->tcp = q->after_tc = true;
			rq_send(q);
			return;
		}
		r.status = RDNS_ANSWER;
		r.abuf = abuf;
		r.alen = (size_t)alen;
		rq_finish(q, &r);
		return;
	}
	struct rdns_chan *c = &d->chans[q->server][q->tcp];
	switch (status) {
	case ARES_ETIMEOUT:
		q->lasterr = "timed out";
		q->lastwhy = RDNS_TIMEDOUT;
		break;
	case ARES_ECONNREFUSED: /* any socket failure: see what ours saw */
		if (c->seen == SEEN_EOF) {
			q->lasterr = "connection closed without an answer";
			q->lastwhy = RDNS_CLOSED;
		} else
			q->lastwhy = rdns_sock_error(
			    c->seen == SEEN_ERRNO ? c->seen_errno : ECONNREFUSED, &q->lasterr);
		break;
	default:
		if (status == ARES_EBADNAME || status == ARES_ENOMEM || status == ARES_EBADQUERY ||
		    status == ARES_EBADFAMILY) {
			r.status = RDNS_ERROR;
			r.errtext = ares_strerror(status);
			rq_finish(q, &r);
			return;
		}
		q->lasterr = ares_strerror(status);
		q->lastwhy = RDNS_UNREACHABLE;
		break;
	}
	/* No response: the next try, then the next server. */
	if (++q->try_no >= d->o.tries) {
		if (q->server + 1 >= d->o.nservers) {
			r.status = RDNS_NOANSWER;
			r.noanswer = q->lastwhy;
			r.errtext = q->lasterr;
			rq_finish(q, &r);
			return;
		}
		q->server++;
		q->try_no = 0;
		q->tcp = d->o.tcp;
		q->after_tc = false;
	}
	/* A new try; over TCP again if this server's answer was truncated. */
	q->tries++;
	rq_send(q);
}

static void rq_send(struct rdns_rq *q)
{
	struct rdns_chan *c = &q->d->chans[q->server][q->tcp];
	if (!c->ch && chan_open(c) < 0) {
		struct rdns_result r = {.status = RDNS_ERROR,
					.errtext = "c-ares channel setup failed"};
		rq_finish(q, &r);
		return;
	}
	q->attempts++;
	q->t0_us = clock_us();
	c->seen = SEEN_NOTHING;
	ares_query(c->ch, q->name, 1 /* IN */, q->type, rq_answer, q);
	/* The query may have ended already (and q be gone); c stays valid. */
	chan_arm(c);
}

int rdns_query(struct rdns *d, const char *name, int type, rdns_cb cb, void *arg)
{
	if (d->o.tls)
		return rdot_query(&d->dot, d->l, &d->o, name, type, cb, arg);
	struct rdns_rq *q = calloc(1, sizeof *q);
	if (!q)
		return -1;
	q->name = strdup(name);
	if (!q->name) {
		free(q);
		return -1;
	}
	q->d = d;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	q->tcp = d->o.tcp;
	q->tries = 1;
	rq_send(q);
	return 0;
}

const char *rdns_cares_version(void)
{
	return ares_version(NULL);
}
