/* Handshakes after accept (see tls_accept.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "net/stream.h"
#include "net/tls_accept.h"

struct tls_accept_hs {
	struct tls_accepts *set;
	struct tls_handshake *h;
	struct sock_addr peer;
	struct tls_accept_hs *prev, *next;
};

static void unlink_hs(struct tls_accept_hs *x)
{
	struct tls_accepts *a = x->set;
	if (x->prev)
		x->prev->next = x->next;
	else
		a->list = x->next;
	if (x->next)
		x->next->prev = x->prev;
	a->n--;
}

static void on_done(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
		    void *arg)
{
	(void)l;
	struct tls_accept_hs *x = arg;
	struct tls_accepts *a = x->set;
	struct sock_addr peer = x->peer;
	unlink_hs(x);
	free(x);
	if (s)
		a->ready(a->arg, s, &peer);
	else if (a->failed)
		a->failed(a->arg, kind, errtext);
	else
		log_info("%s", errtext);
}

void tls_accepts_init(struct tls_accepts *a, struct loop *l, struct tls_ctx *ctx, int timeout_ms,
		      void (*ready)(void *arg, struct stream *s, const struct sock_addr *peer),
		      void *arg)
{
	*a = (struct tls_accepts){
	    .l = l, .ctx = ctx, .timeout_ms = timeout_ms, .ready = ready, .arg = arg};
}

bool tls_accepts_start(struct tls_accepts *a, struct stream *plain, const struct sock_addr *peer)
{
	struct tls_accept_hs *x = calloc(1, sizeof *x);
	char err[300];
	if (!x) {
		log_error("TLS: out of memory");
		stream_close(plain);
		return false;
	}
	x->set = a;
	if (peer)
		x->peer = *peer;
	x->h = tls_handshake_start(a->l, a->ctx, plain, NULL, a->timeout_ms, on_done, x, err,
				   sizeof err);
	if (!x->h) {
		log_error("%s", err);
		free(x);
		return false;
	}
	x->next = a->list;
	if (a->list)
		a->list->prev = x;
	a->list = x;
	a->n++;
	return true;
}

void tls_accepts_cancel(struct tls_accepts *a)
{
	while (a->list) {
		struct tls_accept_hs *x = a->list;
		tls_handshake_cancel(x->h);
		unlink_hs(x);
		free(x);
	}
}
