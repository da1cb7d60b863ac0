#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "dns/dns_xfr.h"
#include "dns/resolve_axfr.h"
#include "net/connector.h"
#include "net/stream.h"

struct raxfr {
	struct loop *l;
	struct rdns_opts o;
	char *zone; /* owned */
	raxfr_rr_cb rr_cb;
	raxfr_done_cb done_cb;
	void *arg;
	int server, try_no, attempts;
	raxfr_wrap_fn wrap;
	void *wrap_arg;
	struct connector *conn; /* while connecting */
	struct stream *s;	/* once connected, owned */
	struct timer idle;
	uint8_t query[2 + 300];
	size_t qlen, qsent;
	int64_t t0;
	enum rdns_noanswer lastwhy;
	const char *lasterr;
	char errbuf[300];
	struct dns_xfr *x; /* owned */
};

static int try_start(struct raxfr *a, char *err, size_t errlen);

static void close_conn(struct raxfr *a)
{
	loop_timer_stop(a->l, &a->idle);
	if (a->conn) {
		connector_cancel(a->conn);
		a->conn = NULL;
	}
	stream_close(a->s);
	a->s = NULL;
}

static void free_raxfr(struct raxfr *a)
{
	close_conn(a);
	free(a->x);
	free(a->zone);
	free(a);
}

static void finish(struct raxfr *a, enum raxfr_status st, const char *why)
{
	struct raxfr_result r = {
	    .status = st,
	    .noanswer = a->lastwhy,
	    .rcode = a->x->rcode,
	    .server = a->o.server[a->server].text,
	    .errtext = why,
	    .ms = clock_ms() - a->t0,
	    .attempts = a->attempts,
	    .messages = a->x->messages,
	    .records = a->x->records,
	    .bytes = a->x->bytes,
	};
	close_conn(a);
	a->done_cb(&r, a->arg);
	free_raxfr(a);
}

/* A try ended without the closing SOA: timed out, closed or failed. */
static void ended(struct raxfr *a, enum rdns_noanswer why, const char *text)
{
	a->lastwhy = why;
	a->lasterr = text;
	close_conn(a);
	if (a->x->messages > 0) {
		snprintf(a->errbuf, sizeof a->errbuf,
			 "%s after %u records in %u %s, before the closing SOA", text,
			 a->x->records, a->x->messages,
			 a->x->messages == 1 ? "message" : "messages");
		finish(a, RAXFR_CUT, a->errbuf);
		return;
	}
	if (++a->try_no >= a->o.tries) {
		if (a->server + 1 >= a->o.nservers) {
			finish(a, RAXFR_NOANSWER, a->lasterr);
			return;
		}
		a->server++;
		a->try_no = 0;
	}
	if (try_start(a, a->errbuf, sizeof a->errbuf) < 0)
		finish(a, RAXFR_ERROR, a->errbuf);
}

static void ended_errno(struct raxfr *a, int e)
{
	const char *text;
	enum rdns_noanswer why = rdns_sock_error(e, &text);
	ended(a, why, text);
}

static void on_idle(struct loop *l, void *arg)
{
	ended(arg, RDNS_TIMEDOUT, "timed out");
}

/* Takes n bytes of the stream; returns true if the transfer is over. */
static bool take(struct raxfr *a, const uint8_t *p, size_t n)
{
	struct dns_xfr *x = a->x;
	while (n) {
		size_t used;
		enum dns_xfr_ret r = dns_xfr_feed(x, p, n, &used);
		p += used;
		n -= used;
		if (r == DNS_XFR_FAIL)
			break;
		if (r == DNS_XFR_MORE)
			return false;
		struct dns_rr rr;
		int k;
		while ((k = dns_xfr_next(x, &rr)) == 1)
			a->rr_cb(&x->msg, &rr, a->arg);
		if (k < 0)
			break;
		if (x->done) {
			finish(a, RAXFR_OK, NULL);
			return true;
		}
	}
	if (!x->failed)
		return false;
	enum raxfr_status st = x->fail == DNS_XFR_RCODE	    ? RAXFR_RCODE
			       : x->fail == DNS_XFR_NOTZONE ? RAXFR_NOTZONE
							    : RAXFR_MALFORMED;
	snprintf(a->errbuf, sizeof a->errbuf, "%s", x->err);
	finish(a, st, a->errbuf);
	return true;
}

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* What the transfer waits for: to send the rest of the query, and always
 * to read (a server may answer an error, or close, before taking it). */
static int watch(struct raxfr *a)
{
	int want = STREAM_READ | (a->qsent < a->qlen ? STREAM_WRITE : 0);
	if (stream_want(a->s, want) < 0) {
		ended_errno(a, errno == ERANGE ? EMFILE : errno);
		return -1;
	}
	return 0;
}

static void on_io(struct stream *s, int ready, void *arg)
{
	struct raxfr *a = arg;
	if ((ready & STREAM_WRITE) && a->qsent < a->qlen) {
		ssize_t n = stream_write(s, a->query + a->qsent, a->qlen - a->qsent);
		if (n < 0 && !again()) {
			ended_errno(a, errno);
			return;
		}
		if (n > 0)
			a->qsent += (size_t)n;
	}
	if (ready & STREAM_READ) {
		uint8_t buf[16384];
		ssize_t n = stream_read(s, buf, sizeof buf);
		if (n == 0) {
			ended(a, RDNS_CLOSED,
			      a->x->messages ? "connection closed"
					     : "connection closed without an answer");
			return;
		}
		if (n < 0 && !again()) {
			ended_errno(a, errno);
			return;
		}
		if (n > 0) {
			if (take(a, buf, (size_t)n))
				return; /* a is gone */
			loop_timer_start(a->l, &a->idle, a->o.timeout_ms);
		}
	}
	/* Also tells the stream to come back for bytes it holds (TLS). */
	watch(a);
}

static void on_connect(struct loop *l, struct stream *conn, int err, const char *errtext, void *arg)
{
	struct raxfr *a = arg;
	a->conn = NULL;
	if (!conn) {
		ended_errno(a, err);
		return;
	}
	if (a->wrap && !(conn = a->wrap(conn, a->wrap_arg))) {
		ended_errno(a, errno);
		return;
	}
	a->s = conn;
	stream_set_cb(conn, on_io, a);
	if (watch(a) < 0)
		return;
	loop_timer_start(l, &a->idle, a->o.timeout_ms);
}

static uint16_t new_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof id, GRND_NONBLOCK) != sizeof id)
		id = (uint16_t)(clock_ms() ^ getpid());
	return id;
}

/* Connects to the current server for a new try. Returns -1 with err if
 * it cannot even start. */
static int try_start(struct raxfr *a, char *err, size_t errlen)
{
	const struct rdns_server *s = &a->o.server[a->server];
	char host[NI_MAXHOST], port[NI_MAXSERV];
	uint16_t id = new_id();
	/* Every try is a new transfer: whatever came before is forgotten. */
	dns_xfr_init(a->x, id, a->zone);
	int n = dns_query_build(a->query + 2, sizeof a->query - 2, id, a->zone, DNS_T_AXFR, false);
	a->query[0] = (uint8_t)(n >> 8);
	a->query[1] = (uint8_t)n;
	a->qlen = 2 + (size_t)n;
	a->qsent = 0;
	a->attempts++;
	a->t0 = clock_ms();
	int e = rdns_server_host(s, host, sizeof host, port, sizeof port);
	if (e) {
		snprintf(err, errlen, "%s", gai_strerror(e));
		return -1;
	}
	struct sock_endpoint ep = {
	    .host = host, .port = port, .socktype = SOCK_STREAM, .numeric = true};
	struct connect_opts co = {.timeout_ms = a->o.timeout_ms};
	a->conn = connector_start(a->l, &ep, &co, on_connect, a, err, errlen);
	return a->conn ? 0 : -1;
}

struct raxfr *raxfr_start(struct loop *l, const struct rdns_opts *o, const char *zone,
			  raxfr_rr_cb rr, raxfr_done_cb done, void *arg, char *err, size_t errlen)
{
	uint8_t probe[300];
	if (dns_query_build(probe, sizeof probe, 0, zone, DNS_T_AXFR, false) < 0) {
		snprintf(err, errlen, "not a domain name");
		return NULL;
	}
	struct raxfr *a = calloc(1, sizeof *a);
	if (!a || !(a->x = malloc(sizeof *a->x)) || !(a->zone = strdup(zone))) {
		if (a)
			free(a->x);
		free(a);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->l = l;
	a->o = *o;
	a->rr_cb = rr;
	a->done_cb = done;
	a->arg = arg;
	timer_init(&a->idle, on_idle, a);
	/* The connector reports from the loop, so done never runs in here. */
	if (try_start(a, err, errlen) < 0) {
		free_raxfr(a);
		return NULL;
	}
	return a;
}

void raxfr_set_wrap(struct raxfr *a, raxfr_wrap_fn fn, void *arg)
{
	a->wrap = fn;
	a->wrap_arg = arg;
}

void raxfr_cancel(struct raxfr *a)
{
	if (a)
		free_raxfr(a);
}
