/* DNS over TLS (RFC 7858) for rdns_query when the options carry a TLS
 * context. Queries to one server share a connection, as RFC 7858
 * (section 3.4) asks of clients: the first query opens it (connect, then
 * the TLS handshake), the next ones queue their messages on it at once,
 * and answers are matched to queries by ID in whatever order the server
 * sends them. A connection carries at most RDOT_INFLIGHT queries at a
 * time, so one slow answer from a server that answers in order holds up
 * only those, and it is closed after RDOT_IDLE_MS without any. Each query
 * keeps its own deadline and tries, with failover to the next server, as
 * over UDP and TCP. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "dns/dns_msg.h"
#include "dns/resolve_dot.h"
#include "net/connector.h"
#include "net/stream.h"
#include "net/tls.h"

enum { RDOT_INFLIGHT = 16, RDOT_IDLE_MS = 5000, RDOT_QMAX = 2 + 512 };

struct rdot_set {
	struct loop *l;
	const struct rdns_opts *o; /* the rdns's, which outlives us */
	struct rdot *queries;
	struct rdot_conn *conns;
};

/* One TLS connection to one server. */
struct rdot_conn {
	struct rdot_set *set;
	struct rdot_conn *next;
	int server;
	struct connector *conn;
	struct tls_handshake *hs;
	struct stream *s; /* once the handshake is done */
	/* Takes no more queries: a try on it timed out (the server may be
	 * stuck for all of them), or it is failing. */
	bool retired;
	int nq;		  /* queries waiting for an answer on it */
	uint64_t answers; /* answers read on it so far */
	uint64_t queued;  /* bytes ever queued on it, and written */
	uint64_t written; /* (a query's mark says where its bytes end) */
	uint8_t *out;	  /* queued queries, each with its two-byte length */
	size_t outlen, outoff, outcap;
	uint8_t *in; /* what was read and is not a whole answer yet */
	size_t inlen, incap;
	struct timer idle;
	char host[NI_MAXHOST], port[NI_MAXSERV];
};

struct rdot {
	struct rdot *next;
	struct rdot_set *set;
	const struct rdns_opts *o; /* the rdns's, which outlives us */
	char *name;
	int type;
	rdns_cb cb;
	void *arg;
	int server, try_no, attempts;
	struct rdot_conn *c;   /* of the try under way, or NULL */
	uint64_t mark;	       /* c->written at which the query is sent */
	int64_t t_sent;	       /* when it was, for rtt_ms */
	struct timer deadline; /* of the try: connect, handshake and answer */
	uint16_t id;
	char why[600];
};

static void conn_close(struct rdot_conn *c)
{
	for (struct rdot_conn **p = &c->set->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	loop_timer_stop(c->set->l, &c->idle);
	connector_cancel(c->conn);
	tls_handshake_cancel(c->hs);
	stream_close(c->s);
	free(c->out);
	free(c->in);
	free(c);
}

static void on_idle(struct loop *l, void *arg)
{
	(void)l;
	struct rdot_conn *c = arg;
	if (c->nq == 0)
		conn_close(c);
}

static void detach(struct rdot *q)
{
	struct rdot_conn *c = q->c;
	if (!c)
		return;
	q->c = NULL;
	/* A retired connection goes as soon as it is empty; from the loop,
	 * as this may run inside its own callback. */
	if (--c->nq == 0)
		loop_timer_start(c->set->l, &c->idle, c->retired ? 0 : RDOT_IDLE_MS);
}

static void unlink_q(struct rdot *q)
{
	for (struct rdot **p = &q->set->queries; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
}

static void free_q(struct rdot *q)
{
	loop_timer_stop(q->set->l, &q->deadline);
	detach(q);
	unlink_q(q);
	free(q->name);
	free(q);
}

static void finish(struct rdot *q, struct rdns_result *r)
{
	r->server = q->o->server[q->server].text;
	r->transport = "tls";
	r->attempts = q->attempts;
	r->tries = q->attempts;
	loop_timer_stop(q->set->l, &q->deadline);
	detach(q);
	unlink_q(q);
	q->cb(r, q->arg);
	free(q->name);
	free(q);
}

static int try_start(struct rdot *q);

/* A try ended without an answer: the next try, then the next server.
 * uncounted: a connection that had answered other queries was closed
 * under it (servers may close one at any time, RFC 7766 6.2.3): tried
 * again without counting. That cannot go on for ever: each such
 * connection answered at least one query, which is then done. */
static void ended(struct rdot *q, enum rdns_noanswer why, const char *text, bool tls,
		  bool uncounted)
{
	/* The text may live in what is closed next. */
	if (text != q->why)
		snprintf(q->why, sizeof q->why, "%s", text ? text : "the connection failed");
	loop_timer_stop(q->set->l, &q->deadline);
	detach(q);
	if (!uncounted && ++q->try_no >= q->o->tries) {
		if (q->server + 1 >= q->o->nservers) {
			/* A handshake that failed (a certificate that does not
			 * verify) is no missing answer: it is an error. */
			struct rdns_result r = {.status = tls ? RDNS_ERROR : RDNS_NOANSWER,
						.noanswer = why,
						.errtext = q->why};
			finish(q, &r);
			return;
		}
		q->server++;
		q->try_no = 0;
	}
	if (try_start(q) < 0) {
		struct rdns_result r = {.status = RDNS_ERROR, .errtext = q->why};
		finish(q, &r);
	}
}

static struct rdot *first_on(struct rdot_conn *c)
{
	for (struct rdot *q = c->set->queries; q; q = q->next)
		if (q->c == c)
			return q;
	return NULL;
}

/* The connection is lost: every query on it ends its try, and it goes.
 * Queries that end may start their next try (on another connection:
 * this one is retired) or finish, and finishing may start new queries. */
static void conn_fail(struct rdot_conn *c, enum rdns_noanswer why, const char *text, bool tls)
{
	char keep[600];
	snprintf(keep, sizeof keep, "%s", text);
	c->retired = true;
	bool reused = c->answers > 0 && why == RDNS_CLOSED && !tls;
	struct rdot *q;
	while ((q = first_on(c)))
		ended(q, why, keep, tls, reused);
	conn_close(c);
}

static void conn_fail_errno(struct rdot_conn *c, int e)
{
	const char *text;
	enum rdns_noanswer why = rdns_sock_error(e, &text);
	conn_fail(c, why, text, false);
}

static void on_deadline(struct loop *l, void *arg)
{
	(void)l;
	struct rdot *q = arg;
	/* A server that speaks no TLS often waits for more of what it takes
	 * for a query: say where the time went. Its next try gets a new
	 * connection. */
	const char *text = q->c && q->c->hs ? "timed out in the TLS handshake" : "timed out";
	if (q->c)
		q->c->retired = true;
	ended(q, RDNS_TIMEDOUT, text, false, false);
}

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* A whole message arrived on c: the answer of one of its queries, by ID
 * (one whose try ended may still be answered: dropped). false: c was
 * failed and is gone. */
static bool message(struct rdot_conn *c, const uint8_t *a, size_t n)
{
	if (n == 0) {
		conn_fail(c, RDNS_CLOSED, "the server's answer is empty", false);
		return false;
	}
	if (n < 12 || !(a[2] & 0x80)) {
		conn_fail(c, RDNS_CLOSED, "the server's answer is not a response to the query",
			  false);
		return false;
	}
	uint16_t id = (uint16_t)(a[0] << 8 | a[1]);
	for (struct rdot *q = c->set->queries; q; q = q->next)
		if (q->c == c && q->id == id) {
			c->answers++;
			struct rdns_result r = {.status = RDNS_ANSWER,
						.abuf = a,
						.alen = n,
						.rtt_ms =
						    (double)(clock_us() - q->t_sent) / 1000.0};
			finish(q, &r);
			return true;
		}
	log_debug("DNS over TLS: an answer with ID %u matches no query waiting", id);
	return true;
}

static int conn_want(struct rdot_conn *c)
{
	return stream_want(c->s, STREAM_READ | (c->outoff < c->outlen ? STREAM_WRITE : 0));
}

static void on_io(struct stream *s, int ready, void *arg)
{
	struct rdot_conn *c = arg;
	if ((ready & STREAM_WRITE) && c->outoff < c->outlen) {
		ssize_t w = stream_write(s, c->out + c->outoff, c->outlen - c->outoff);
		if (w < 0 && !again()) {
			conn_fail_errno(c, errno);
			return;
		}
		if (w > 0) {
			c->outoff += (size_t)w;
			c->written += (uint64_t)w;
			if (c->outoff == c->outlen)
				c->outoff = c->outlen = 0;
			for (struct rdot *q = c->set->queries; q; q = q->next)
				if (q->c == c && !q->t_sent && c->written >= q->mark)
					q->t_sent = clock_us();
		}
	}
	if (ready & STREAM_READ) {
		if (c->incap - c->inlen < 4096) {
			size_t cap = c->incap ? c->incap * 2 : 8192;
			uint8_t *p = realloc(c->in, cap);
			if (!p) {
				conn_fail(c, RDNS_CLOSED, "out of memory", false);
				return;
			}
			c->in = p;
			c->incap = cap;
		}
		ssize_t r = stream_read(s, c->in + c->inlen, c->incap - c->inlen);
		if (r == 0) {
			if (c->nq)
				conn_fail(c, RDNS_CLOSED, "connection closed without an answer",
					  false);
			else
				conn_close(c); /* an idle one the server ended */
			return;
		}
		if (r < 0 && !again()) {
			if (tls_error(s))
				conn_fail(c, RDNS_CLOSED, tls_error(s), false);
			else
				conn_fail_errno(c, errno);
			return;
		}
		if (r > 0) {
			c->inlen += (size_t)r;
			/* Each answer: its two-byte length, then that many bytes. */
			size_t at = 0;
			while (c->inlen - at >= 2) {
				size_t n = (size_t)(c->in[at] << 8 | c->in[at + 1]);
				if (c->inlen - at < 2 + n)
					break;
				if (!message(c, c->in + at + 2, n))
					return;
				at += 2 + n;
			}
			memmove(c->in, c->in + at, c->inlen - at);
			c->inlen -= at;
		}
	}
	if (conn_want(c) < 0)
		conn_fail_errno(c, errno == ERANGE ? EMFILE : errno);
}

static void on_tls(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
		   void *arg)
{
	(void)l;
	struct rdot_conn *c = arg;
	c->hs = NULL;
	if (!s) {
		conn_fail(c, kind == TLS_E_TIMEOUT ? RDNS_TIMEDOUT : RDNS_CLOSED, errtext,
			  kind != TLS_E_TIMEOUT);
		return;
	}
	c->s = s;
	stream_set_cb(s, on_io, c);
	if (conn_want(c) < 0)
		conn_fail_errno(c, errno == ERANGE ? EMFILE : errno);
}

static void on_connect(struct loop *l, struct stream *s, int err, const char *errtext, void *arg)
{
	(void)errtext;
	struct rdot_conn *c = arg;
	c->conn = NULL;
	if (!s) {
		conn_fail_errno(c, err);
		return;
	}
	/* The certificate is checked for the address (an IP SAN), unless
	 * the context names the server (--sni NAME). */
	char err2[400];
	c->hs = tls_handshake_start(l, c->set->o->tls, s, c->host, 0, on_tls, c, err2, sizeof err2);
	if (!c->hs)
		conn_fail(c, RDNS_CLOSED, err2, true);
}

/* A connection to q's server with room, or a new one. NULL with q->why. */
static struct rdot_conn *conn_for(struct rdot *q)
{
	struct rdot_set *set = q->set;
	for (struct rdot_conn *c = set->conns; c; c = c->next)
		if (c->server == q->server && !c->retired && c->nq < RDOT_INFLIGHT)
			return c;
	struct rdot_conn *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(q->why, sizeof q->why, "out of memory");
		return NULL;
	}
	c->set = set;
	c->server = q->server;
	timer_init(&c->idle, on_idle, c);
	int e = rdns_server_host(&q->o->server[q->server], c->host, sizeof c->host, c->port,
				 sizeof c->port);
	if (e) {
		snprintf(q->why, sizeof q->why, "%s", gai_strerror(e));
		free(c);
		return NULL;
	}
	struct sock_endpoint ep = {
	    .host = c->host, .port = c->port, .socktype = SOCK_STREAM, .numeric = true};
	struct connect_opts co = {.timeout_ms = q->o->timeout_ms};
	c->conn = connector_start(set->l, &ep, &co, on_connect, c, q->why, sizeof q->why);
	if (!c->conn) {
		free(c);
		return NULL;
	}
	c->next = set->conns;
	set->conns = c;
	return c;
}

static uint16_t new_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof id, GRND_NONBLOCK) != sizeof id)
		id = (uint16_t)(clock_us() ^ getpid());
	return id;
}

static bool id_taken(const struct rdot_conn *c, uint16_t id)
{
	for (const struct rdot *q = c->set->queries; q; q = q->next)
		if (q->c == c && q->id == id)
			return true;
	return false;
}

static int try_start(struct rdot *q)
{
	uint8_t msg[RDOT_QMAX];
	int n = dns_query_build(msg + 2, sizeof msg - 2, 0, q->name, (uint16_t)q->type,
				!q->o->norecurse);
	if (n < 0) {
		snprintf(q->why, sizeof q->why, "not a domain name");
		return -1;
	}
	struct rdot_conn *c = conn_for(q);
	if (!c)
		return -1;
	/* Answers are told apart by ID: unique among the connection's. */
	do
		q->id = new_id();
	while (id_taken(c, q->id));
	msg[0] = (uint8_t)(n >> 8);
	msg[1] = (uint8_t)n;
	msg[2] = (uint8_t)(q->id >> 8);
	msg[3] = (uint8_t)q->id;
	size_t len = 2 + (size_t)n;
	if (c->outcap - c->outlen < len) {
		size_t cap = c->outcap ? c->outcap : 1024;
		while (cap - c->outlen < len)
			cap *= 2;
		uint8_t *p = realloc(c->out, cap);
		if (!p) {
			snprintf(q->why, sizeof q->why, "out of memory");
			if (c->nq == 0)
				loop_timer_start(c->set->l, &c->idle, c->s ? RDOT_IDLE_MS : 0);
			return -1;
		}
		c->out = p;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, msg, len);
	c->outlen += len;
	c->queued += len;
	q->mark = c->queued;
	q->t_sent = 0;
	q->c = c;
	c->nq++;
	loop_timer_stop(c->set->l, &c->idle);
	q->attempts++;
	loop_timer_start(q->set->l, &q->deadline, q->o->timeout_ms);
	if (c->s && conn_want(c) < 0) {
		/* Failing the connection ends this try too, from the loop. */
		c->retired = true;
		loop_timer_start(q->set->l, &q->deadline, 0);
	}
	return 0;
}

int rdot_query(struct rdot_set **setp, struct loop *l, const struct rdns_opts *o, const char *name,
	       int type, rdns_cb cb, void *arg)
{
	if (!*setp) {
		if (!(*setp = calloc(1, sizeof **setp)))
			return -1;
		(*setp)->l = l;
		(*setp)->o = o;
	}
	struct rdot *q = calloc(1, sizeof *q);
	if (!q || !(q->name = strdup(name))) {
		free(q);
		return -1;
	}
	q->set = *setp;
	q->next = q->set->queries;
	q->set->queries = q;
	q->o = o;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	timer_init(&q->deadline, on_deadline, q);
	if (try_start(q) < 0) {
		/* A name that cannot be asked ends at once, as c-ares's do. */
		struct rdns_result r = {.status = RDNS_ERROR, .errtext = q->why};
		finish(q, &r);
	}
	return 0;
}

void rdot_cancel_all(struct rdot_set **setp)
{
	struct rdot_set *set = *setp;
	if (!set)
		return;
	while (set->queries)
		free_q(set->queries);
	while (set->conns)
		conn_close(set->conns);
	free(set);
	*setp = NULL;
}
