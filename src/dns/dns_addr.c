/* A host's addresses without holding up the loop: from DNS servers, an
 * A and an AAAA query through rdns, their answers gathered into one
 * addrinfo list; from the system's resolver, getaddrinfo (through
 * sock_resolve) in a thread of its own, its result handed back through
 * a pipe the loop watches. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "dns/dns_addr.h"
#include "dns/dns_msg.h"
#include "net/sock.h"

/* Addresses kept per family: more than any connect goes through. */
#define ADDR_MAX 16

struct dns_addr {
	struct dns_addrs *r;
	struct dns_addr *prev, *next; /* every lookup not yet freed */
	dns_addr_cb cb;
	void *arg;
	bool cancelled;
	int pending; /* queries not answered yet */
	char host[DNS_PRES_MAX];
	uint16_t port;
	int socktype;
	struct sockaddr_storage v6[ADDR_MAX], v4[ADDR_MAX];
	int n6, n4;
	bool nxdomain;
	char err[512];	/* why a query gave no address, the first told */
	struct timer t; /* a numeric host: the callback from the loop */
	/* The system's resolver: the thread's result, and the hub's list of
	 * lookups it has ended. */
	int family;
	bool threaded, finished;
	bool held; /* the loop kept running for it */
	struct addrinfo *res;
	struct dns_hub *hub; /* for the thread: r may be gone before it ends */
	struct dns_addr *done_next;
};

/* What the lookup threads share with the loop. A thread that ends after
 * the resolver was freed frees its own lookup; the last one out frees
 * the hub. */
struct dns_hub {
	pthread_mutex_t mu;
	int refs; /* the resolver, and every thread still running */
	bool closed;
	int wake[2];	       /* a byte per lookup ended */
	struct dns_addr *done; /* ended, not yet taken by the loop */
};

struct dns_addrs {
	struct loop *l;
	struct rdns *dns;    /* with servers */
	struct dns_hub *hub; /* the system's resolver */
	struct dns_addr *list;
};

static void hub_free(struct dns_hub *h)
{
	close(h->wake[0]);
	close(h->wake[1]);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

static void on_wake(struct loop *l, int fd, int mask, void *arg);

struct dns_addrs *dns_addrs_new(struct loop *l, const struct rdns_opts *o, char *err, size_t errlen)
{
	struct dns_addrs *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->l = l;
	if (o) {
		r->dns = rdns_new(l, o, err, errlen);
		if (!r->dns) {
			free(r);
			return NULL;
		}
		return r;
	}
	struct dns_hub *h = calloc(1, sizeof *h);
	if (!h || pipe2(h->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s", h ? strerror(errno) : "out of memory");
		free(h);
		free(r);
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	h->refs = 1;
	/* Weak: only a lookup under way keeps the loop running (its hold). */
	if (loop_io_weak(l, h->wake[0], MUX_READ, on_wake, r) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		hub_free(h);
		free(r);
		return NULL;
	}
	r->hub = h;
	return r;
}

static void unlink_free(struct dns_addr *a)
{
	struct dns_addrs *r = a->r;
	if (a->prev)
		a->prev->next = a->next;
	else
		r->list = a->next;
	if (a->next)
		a->next->prev = a->prev;
	loop_timer_stop(r->l, &a->t);
	if (a->held)
		loop_release(r->l);
	sock_freeaddrinfo(a->res);
	free(a);
}

void dns_addrs_free(struct dns_addrs *r)
{
	if (!r)
		return;
	/* First the queries (none calls back after this), then what they
	 * were for. */
	if (r->dns)
		rdns_free(r->dns);
	struct dns_hub *h = r->hub;
	bool last = false;
	if (h) {
		loop_io(r->l, h->wake[0], 0, NULL, NULL);
		/* From here a thread that ends frees its own lookup; those it
		 * ended before are ours. */
		pthread_mutex_lock(&h->mu);
		h->closed = true;
		for (struct dns_addr *a = h->done; a; a = a->done_next)
			a->finished = true;
		last = --h->refs == 0;
		pthread_mutex_unlock(&h->mu);
	}
	while (r->list) {
		struct dns_addr *a = r->list;
		if (a->threaded && !a->finished) {
			/* Its thread's now: nothing here points at it again. */
			r->list = a->next;
			if (a->next)
				a->next->prev = NULL;
			if (a->held)
				loop_release(r->l);
			continue;
		}
		unlink_free(a);
	}
	if (last)
		hub_free(h);
	free(r);
}

/* One list in one allocation, marked as sock_freeaddrinfo expects. */
static struct addrinfo *make_list(struct dns_addr *a)
{
	int n = a->n6 + a->n4;
	struct addrinfo *ai = calloc((size_t)n, sizeof *ai + sizeof(struct sockaddr_storage));
	if (!ai)
		return NULL;
	struct sockaddr_storage *ss = (struct sockaddr_storage *)(ai + n);
	for (int i = 0; i < n; i++) {
		ss[i] = i < a->n6 ? a->v6[i] : a->v4[i - a->n6];
		bool six = ss[i].ss_family == AF_INET6;
		if (six)
			((struct sockaddr_in6 *)&ss[i])->sin6_port = htons(a->port);
		else
			((struct sockaddr_in *)&ss[i])->sin_port = htons(a->port);
		ai[i].ai_family = ss[i].ss_family;
		ai[i].ai_socktype = a->socktype;
		ai[i].ai_protocol = a->socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
		ai[i].ai_addr = (struct sockaddr *)&ss[i];
		ai[i].ai_addrlen = six ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		ai[i].ai_next = i + 1 < n ? &ai[i + 1] : NULL;
	}
	ai->ai_flags = -1;
	return ai;
}

static void finish(struct dns_addr *a)
{
	struct addrinfo *res = NULL;
	const char *errtext = NULL;
	if (a->threaded) {
		res = a->res;
		a->res = NULL;
		errtext = res ? NULL : a->err;
	} else if (a->n6 + a->n4 > 0) {
		res = make_list(a);
		if (!res)
			errtext = "out of memory";
	} else {
		errtext = a->err;
	}
	/* The callback may cancel other lookups, so a goes first: what it
	 * says is copied out. (It must not free the resolver: with
	 * --server this runs inside c-ares's own callback.) */
	char why[sizeof a->err];
	if (errtext)
		errtext = strcpy(why, errtext);
	dns_addr_cb cb = a->cb;
	void *arg = a->arg;
	unlink_free(a);
	cb(res, errtext, arg);
}

__attribute__((format(printf, 3, 4))) static void note_error(struct dns_addr *a, bool nxdomain,
							     const char *fmt, ...)
{
	/* NXDOMAIN is the most telling: the name is not there at all. */
	if (a->err[0] && (a->nxdomain || !nxdomain))
		return;
	a->nxdomain = nxdomain;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->err, sizeof a->err, fmt, ap);
	va_end(ap);
}

static void on_answer(struct dns_addr *a, const struct rdns_result *res)
{
	struct dns_msg m;
	if (dns_msg_init(&m, res->abuf, res->alen) < 0) {
		note_error(a, false, "%.255s: a malformed answer from %s", a->host, res->server);
		return;
	}
	if (m.rcode != DNS_RCODE_NOERROR) {
		char buf[16];
		note_error(a, m.rcode == DNS_RCODE_NXDOMAIN, "%.255s: no address (%s from %s)",
			   a->host, dns_rcode_name(m.rcode, buf), res->server);
		return;
	}
	struct dns_rr rr;
	int got = 0;
	while (dns_msg_next(&m, &rr) == 1 && rr.section == DNS_SEC_ANSWER) {
		const uint8_t *d = m.p + rr.rdoff;
		if (rr.type == DNS_T_AAAA && rr.rdlen == 16 && a->n6 < ADDR_MAX) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->v6[a->n6++];
			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, d, 16);
			got++;
		} else if (rr.type == DNS_T_A && rr.rdlen == 4 && a->n4 < ADDR_MAX) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&a->v4[a->n4++];
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, d, 4);
			got++;
		}
	}
	if (!got)
		note_error(a, false, "%.255s: no address (from %s)", a->host, res->server);
}

static void on_query(const struct rdns_result *res, void *arg)
{
	struct dns_addr *a = arg;
	if (res->status == RDNS_ANSWER)
		on_answer(a, res);
	else
		note_error(a, false, "%.255s: no answer (%s, last from %s)", a->host,
			   res->errtext ? res->errtext : "no response",
			   res->server ? res->server : "");
	if (--a->pending > 0)
		return;
	if (a->cancelled)
		unlink_free(a);
	else
		finish(a);
}

static void on_numeric(struct loop *l, void *arg)
{
	(void)l;
	finish(arg);
}

/* ---- the system's resolver, in a thread ---- */

static void *lookup_main(void *arg)
{
	struct dns_addr *a = arg;
	struct dns_hub *h = a->hub;
	char port[8];
	snprintf(port, sizeof port, "%u", a->port);
	/* The port is a number by now: no getservbyname (not thread-safe)
	 * here. */
	struct sock_endpoint ep = {
	    .host = a->host, .port = port, .family = a->family, .socktype = a->socktype};
	if (sock_resolve(&ep, false, &a->res, a->err, sizeof a->err) < 0)
		a->res = NULL;
	pthread_mutex_lock(&h->mu);
	bool closed = h->closed;
	if (!closed) {
		a->done_next = h->done;
		h->done = a;
		/* not a stream: our own pipe, waking the loop */
		ssize_t w = write(h->wake[1], "", 1);
		(void)w; /* full: a byte is there already */
	}
	bool last = --h->refs == 0;
	pthread_mutex_unlock(&h->mu);
	if (closed) {
		sock_freeaddrinfo(a->res);
		free(a);
	}
	if (last)
		hub_free(h);
	return NULL;
}

static void on_wake(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	(void)mask;
	struct dns_addrs *r = arg;
	char buf[256];
	/* not a stream: our own pipe, emptied */
	while (read(fd, buf, sizeof buf) > 0)
		;
	pthread_mutex_lock(&r->hub->mu);
	struct dns_addr *done = r->hub->done;
	r->hub->done = NULL;
	pthread_mutex_unlock(&r->hub->mu);
	/* Each callback from a timer of its own: one may free the resolver,
	 * and the others (still on its list) with it. */
	while (done) {
		struct dns_addr *a = done;
		done = a->done_next;
		a->finished = true;
		if (a->cancelled)
			unlink_free(a);
		else
			loop_timer_start(r->l, &a->t, 0);
	}
}

static int start_thread(struct dns_addr *a, char *err, size_t errlen)
{
	struct dns_hub *h = a->hub = a->r->hub;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	/* The thread takes no signal: they are the loop's. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_mutex_lock(&h->mu);
	h->refs++;
	pthread_mutex_unlock(&h->mu);
	/* Before the thread starts: from then on it shares a. */
	a->threaded = true;
	pthread_t t;
	int e = pthread_create(&t, &at, lookup_main, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	if (e) {
		pthread_mutex_lock(&h->mu);
		h->refs--;
		pthread_mutex_unlock(&h->mu);
		a->threaded = false;
		snprintf(err, errlen, "%.255s: a thread for the lookup: %s", a->host, strerror(e));
		return -1;
	}
	a->held = true;
	loop_hold(a->r->l);
	return 0;
}

struct dns_addr *dns_addr_start(struct dns_addrs *r, const char *host, const char *port, int family,
				int socktype, dns_addr_cb cb, void *arg, char *err, size_t errlen)
{
	uint16_t pnum;
	if (!sock_parse_port(port, socktype, false, &pnum, err, errlen))
		return NULL;
	struct dns_addr *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->r = r;
	a->cb = cb;
	a->arg = arg;
	a->port = pnum;
	a->socktype = socktype;
	a->family = family;
	snprintf(a->host, sizeof a->host, "%s", host);
	timer_init(&a->t, on_numeric, a);
	a->next = r->list;
	if (r->list)
		r->list->prev = a;
	r->list = a;
	struct in6_addr b6;
	struct in_addr b4;
	if (family != AF_INET && inet_pton(AF_INET6, host, &b6) == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->v6[a->n6++];
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = b6;
	} else if (family != AF_INET6 && inet_pton(AF_INET, host, &b4) == 1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->v4[a->n4++];
		s4->sin_family = AF_INET;
		s4->sin_addr = b4;
	}
	if (a->n6 + a->n4) {
		loop_timer_start(r->l, &a->t, 0);
		return a;
	}
	if (r->hub) {
		if (start_thread(a, err, errlen) < 0) {
			unlink_free(a);
			return NULL;
		}
		return a;
	}
	/* Counted before either is asked: a query c-ares refuses calls back
	 * at once. */
	int types[2], n = 0;
	if (family != AF_INET)
		types[n++] = DNS_T_AAAA;
	if (family != AF_INET6)
		types[n++] = DNS_T_A;
	a->pending = n + 1;
	for (int i = 0; i < n; i++)
		if (rdns_query(r->dns, host, types[i], on_query, a) < 0) {
			snprintf(a->err, sizeof a->err, "%.255s: out of memory", host);
			a->pending--;
		}
	/* The hold taken above: the lookup may already be over. */
	if (--a->pending == 0)
		loop_timer_start(r->l, &a->t, 0);
	return a;
}

void dns_addr_cancel(struct dns_addr *a)
{
	if (!a)
		return;
	if (a->pending == 0 && (!a->threaded || a->finished)) { /* only its timer left */
		unlink_free(a);
		return;
	}
	a->cancelled = true;
	/* What is left of it (an answer to drop) keeps nothing running. */
	if (a->held)
		loop_release(a->r->l);
	a->held = false;
}
