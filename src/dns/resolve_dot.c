/* DNS over TLS (RFC 7858) for rdns_query when the options carry a TLS
 * context: each query connects to the server, runs the TLS handshake,
 * sends the query with its two-byte length and reads the answer, with
 * the same tries and failover to the next server as UDP and TCP. One
 * connection per query, as `dig +tls` does: a command line asks for a
 * few names, and a connection of its own per query keeps a slow answer
 * from holding up the others. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "dns/dns_msg.h"
#include "dns/resolve_dot.h"
#include "net/connector.h"
#include "net/stream.h"
#include "net/tls.h"

struct rdot {
	struct rdot **head, *next; /* the list rdns_free cancels */
	struct loop *l;
	const struct rdns_opts *o; /* the rdns's, which outlives us */
	char *name;
	int type;
	rdns_cb cb;
	void *arg;
	int server, try_no, attempts;
	struct connector *conn;
	struct tls_handshake *hs;
	struct stream *s;
	struct timer deadline; /* of the try: connect, handshake and answer */
	uint16_t id;
	uint8_t q[2 + 512];
	size_t qlen, qsent;
	uint8_t *ans; /* the two-byte length, then the answer */
	size_t alen, acap;
	int64_t t_sent; /* when the query went out, for rtt_ms */
	/* The server of this try as text: the connector's address, and the
	 * name its certificate is checked for (unless --sni says another). */
	char host[NI_MAXHOST], port[NI_MAXSERV];
	char why[600];
};

static void drop_conn(struct rdot *q)
{
	loop_timer_stop(q->l, &q->deadline);
	connector_cancel(q->conn);
	q->conn = NULL;
	tls_handshake_cancel(q->hs);
	q->hs = NULL;
	stream_close(q->s);
	q->s = NULL;
	q->alen = 0;
}

static void unlink_q(struct rdot *q)
{
	for (struct rdot **p = q->head; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
}

static void free_q(struct rdot *q)
{
	drop_conn(q);
	unlink_q(q);
	free(q->ans);
	free(q->name);
	free(q);
}

static void finish(struct rdot *q, struct rdns_result *r)
{
	r->server = q->o->server[q->server].text;
	r->transport = "tls";
	r->attempts = q->attempts;
	r->tries = q->attempts;
	drop_conn(q);
	unlink_q(q);
	q->cb(r, q->arg);
	free(q->ans);
	free(q->name);
	free(q);
}

static int try_start(struct rdot *q);

/* A try ended without an answer: the next try, then the next server. */
static void ended(struct rdot *q, enum rdns_noanswer why, const char *text, bool tls)
{
	/* The text may live in what is closed next. */
	if (text != q->why)
		snprintf(q->why, sizeof q->why, "%s", text ? text : "the connection failed");
	drop_conn(q);
	if (++q->try_no >= q->o->tries) {
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

static void ended_errno(struct rdot *q, int e)
{
	const char *text;
	enum rdns_noanswer why = rdns_sock_error(e, &text);
	ended(q, why, text, false);
}

static void on_deadline(struct loop *l, void *arg)
{
	(void)l;
	struct rdot *q = arg;
	/* A server that speaks no TLS often waits for more of what it takes
	 * for a query: say where the time went. */
	ended(q, RDNS_TIMEDOUT, q->hs ? "timed out in the TLS handshake" : "timed out", false);
}

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* The answer is whole: hand it over, or try again if it is not ours. */
static void answered(struct rdot *q)
{
	const uint8_t *a = q->ans + 2;
	size_t n = q->alen - 2;
	if (n < 12 || (uint16_t)(a[0] << 8 | a[1]) != q->id || !(a[2] & 0x80)) {
		ended(q, RDNS_CLOSED, "the server's answer is not a response to the query", false);
		return;
	}
	struct rdns_result r = {.status = RDNS_ANSWER,
				.abuf = a,
				.alen = n,
				.rtt_ms = (double)(clock_us() - q->t_sent) / 1000.0};
	finish(q, &r);
}

static void on_io(struct stream *s, int ready, void *arg)
{
	struct rdot *q = arg;
	if ((ready & STREAM_WRITE) && q->qsent < q->qlen) {
		ssize_t w = stream_write(s, q->q + q->qsent, q->qlen - q->qsent);
		if (w < 0 && !again()) {
			ended_errno(q, errno);
			return;
		}
		if (w > 0 && (q->qsent += (size_t)w) == q->qlen)
			q->t_sent = clock_us();
	}
	if (ready & STREAM_READ) {
		/* The length first, then exactly the answer it announces. */
		size_t want = q->alen < 2 ? 2 : 2 + (size_t)(q->ans[0] << 8 | q->ans[1]);
		if (q->acap < want) {
			uint8_t *p = realloc(q->ans, want);
			if (!p) {
				ended(q, RDNS_CLOSED, "out of memory", false);
				return;
			}
			q->ans = p;
			q->acap = want;
		}
		ssize_t r = stream_read(s, q->ans + q->alen, want - q->alen);
		if (r == 0) {
			ended(q, RDNS_CLOSED, "connection closed without an answer", false);
			return;
		}
		if (r < 0 && !again()) {
			if (tls_error(s))
				ended(q, RDNS_CLOSED, tls_error(s), false);
			else
				ended_errno(q, errno);
			return;
		}
		if (r > 0) {
			q->alen += (size_t)r;
			if (q->alen == want && want > 2) {
				answered(q);
				return;
			}
			if (q->alen == 2 && want == 2 && !(q->ans[0] | q->ans[1])) {
				ended(q, RDNS_CLOSED, "the server's answer is empty", false);
				return;
			}
		}
	}
	int w = STREAM_READ | (q->qsent < q->qlen ? STREAM_WRITE : 0);
	if (stream_want(s, w) < 0)
		ended_errno(q, errno == ERANGE ? EMFILE : errno);
}

static void on_tls(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
		   void *arg)
{
	(void)l;
	struct rdot *q = arg;
	q->hs = NULL;
	if (!s) {
		ended(q, kind == TLS_E_TIMEOUT ? RDNS_TIMEDOUT : RDNS_CLOSED, errtext,
		      kind != TLS_E_TIMEOUT);
		return;
	}
	q->s = s;
	stream_set_cb(s, on_io, q);
	if (stream_want(s, STREAM_READ | STREAM_WRITE) < 0)
		ended_errno(q, errno == ERANGE ? EMFILE : errno);
}

static void on_connect(struct loop *l, struct stream *s, int err, const char *errtext, void *arg)
{
	(void)errtext;
	struct rdot *q = arg;
	q->conn = NULL;
	if (!s) {
		ended_errno(q, err);
		return;
	}
	/* The certificate is checked for the address (an IP SAN), unless
	 * the context names the server (--sni NAME). */
	char err2[400];
	q->hs = tls_handshake_start(l, q->o->tls, s, q->host, 0, on_tls, q, err2, sizeof err2);
	if (!q->hs)
		ended(q, RDNS_CLOSED, err2, true);
}

static uint16_t new_id(void)
{
	uint16_t id;
	if (getrandom(&id, sizeof id, GRND_NONBLOCK) != sizeof id)
		id = (uint16_t)(clock_us() ^ getpid());
	return id;
}

static int try_start(struct rdot *q)
{
	const struct rdns_server *sv = &q->o->server[q->server];
	q->id = new_id();
	int n = dns_query_build(q->q + 2, sizeof q->q - 2, q->id, q->name, (uint16_t)q->type,
				!q->o->norecurse);
	if (n < 0) {
		snprintf(q->why, sizeof q->why, "not a domain name");
		return -1;
	}
	q->q[0] = (uint8_t)(n >> 8);
	q->q[1] = (uint8_t)n;
	q->qlen = 2 + (size_t)n;
	q->qsent = 0;
	q->alen = 0;
	q->attempts++;
	int e = rdns_server_host(sv, q->host, sizeof q->host, q->port, sizeof q->port);
	if (e) {
		snprintf(q->why, sizeof q->why, "%s", gai_strerror(e));
		return -1;
	}
	struct sock_endpoint ep = {
	    .host = q->host, .port = q->port, .socktype = SOCK_STREAM, .numeric = true};
	struct connect_opts co = {.timeout_ms = q->o->timeout_ms};
	q->conn = connector_start(q->l, &ep, &co, on_connect, q, q->why, sizeof q->why);
	if (!q->conn)
		return -1;
	loop_timer_start(q->l, &q->deadline, q->o->timeout_ms);
	return 0;
}

int rdot_query(struct rdot **head, struct loop *l, const struct rdns_opts *o, const char *name,
	       int type, rdns_cb cb, void *arg)
{
	struct rdot *q = calloc(1, sizeof *q);
	if (!q || !(q->name = strdup(name))) {
		free(q);
		return -1;
	}
	q->head = head;
	q->next = *head;
	*head = q;
	q->l = l;
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

void rdot_cancel_all(struct rdot **head)
{
	while (*head)
		free_q(*head);
}
