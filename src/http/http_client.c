/* The HTTP/1.1 client engine: one URL at a time, the connection kept for
 * the next one to the same origin, bodies into an output stream. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/outq.h"
#include "http/http_client.h"
#include "http/http_decode.h"
#include "net/connector.h"
#include "net/sock.h"
#include "net/splice_pipe.h"
#include "net/stream.h"
#include "net/tls.h"

#define READ_CHUNK   (64 * 1024)
#define READ_BURST   16		  /* reads per wakeup at most, each READ_CHUNK */
#define FBUF_CAP     (64 * 1024)  /* a body file's bytes read per write, on the copy path */
#define MEM_STEP     (256 * 1024) /* a memory body handed to the connection per step */
#define SENDFILE_MAX (1u << 21)	  /* most bytes per sendfile call */
#define COALESCE_MAX (16 * 1024)  /* the most body bytes sent in the head's write */

struct http_client {
	struct loop *l; /* not owned */
	struct http_client_cfg cfg;

	/* The URL under way (busy) and its outcome. */
	bool busy;
	bool in_get;   /* inside http_client_get: the callback waits for the loop */
	bool settling; /* the outcome is known; the output is still being written */
	char *urltext; /* owned: as given, for messages */
	http_client_cb cb;
	void *arg;
	bool parsed;	       /* first and url are valid */
	struct http_url first; /* as given: decides which headers cross origins */
	struct http_url url;   /* after redirects */
	long redirects;
	enum http_client_error error;
	enum tls_err tls_kind;
	int conn_errno;
	char errtext[1024];
	bool discard; /* drop this response's body (a redirect, fail, no output) */
	int final_status;
	int64_t t0, t_lookup, t_connect, t_first, t_total; /* microseconds */
	int64_t t_appconnect, t_pretransfer;
	uint64_t head_bytes, request_bytes;
	long connects;
	char remote_ip[46], local_ip[46];
	int remote_port, local_port;

	/* TLS for https (made on first use; owned) and the handshake under
	 * way. */
	struct tls_ctx *tctx;
	struct tls_handshake *hs;
	/* The proxy's handshake under way, and its target (the URL's host:
	 * hc->url does not change while it runs). */
	struct proxy_conn *pc;
	struct proxy_target pt;

	/* The connection. */
	struct connector *cn;
	struct stream *conn; /* owned */
	struct http_url conn_origin;
	uint64_t conn_requests; /* sent on conn so far */
	bool reusable;		/* conn may carry the next request to conn_origin */
	bool reused;		/* this request went on a connection that had carried one */
	bool exchanging;	/* a request is out and its response not complete */
	bool got_bytes;
	struct buf req;		/* the request head being built */
	struct outq reqq;	/* what of it conn has not taken */
	struct http_resp *resp; /* owned */
	/* What was read and not yet parsed, and the decoder (--compressed)
	 * with its output buffer. */
	size_t in_off, in_len;
	bool in_extra;
	struct http_decode *dec;
	char *dbuf;

	/* This request's method and body (a redirect may turn them into a
	 * GET without one). */
	const char *method;
	bool head_req;	  /* no response body whatever the headers say */
	bool with_body;	  /* this request carries the body */
	int body_i;	  /* the part being sent */
	uint64_t body_at; /* bytes of it handed to the connection */
	bool body_done;	  /* the whole body (and a chunked end) handed over */
	bool body_cut;	  /* the server stopped taking it after answering */
	bool in_started;  /* body_in was read from: it cannot be sent again */
	bool zero_copy;	  /* the connection takes sendfile */
	uint64_t body_total, uploaded;
	/* Of the request in req: the head's length, and the body parts
	 * (and bytes) that went in after it. */
	size_t head_len;
	int coalesced_parts;
	uint64_t coalesced_bytes;
	char *fbuf; /* FBUF_CAP, made on first need */

	/* The output: while it holds bytes, conn is not read (so the queue
	 * never holds more than one read's worth and a response head). */
	struct outq outq;
	/* The zero-copy path's pipe (made on first need; empty between
	 * calls), and no_splice once a stream refused to splice. */
	int spipe[2];
	size_t spipe_cap;
	bool no_splice;

	struct timer deadline, idle, later;
	/* --limit-rate: bytes moved each way since the URL began; while
	 * ahead of the rate, that direction waits for rate_t. */
	uint64_t rx;
	bool rate_held;
	struct timer rate_t;
	struct http_client_stats st;
	char in[READ_CHUNK];
};

static void start_request(struct http_client *hc);

static bool is_https(const struct http_url *u)
{
	return strcmp(u->scheme, "https") == 0;
}
static void on_rate(struct loop *l, void *arg);
static int conn_update(struct http_client *hc);
static void watch_failed(struct http_client *hc);
static void finish(struct http_client *hc, enum http_client_error code);
static bool feed(struct http_client *hc);

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* ---- the connection's registration ---- */

/* A part of the request waits for the connection to take it (body_in's
 * waits for body_in instead). */
static bool send_waits(const struct http_client *hc)
{
	return !outq_empty(&hc->reqq) || (hc->exchanging && !hc->body_done && !hc->cfg.body_in);
}

/* Read bytes not yet parsed, or decoded bytes not yet made: the
 * connection is not read until they are through. */
static bool feed_pending(const struct http_client *hc)
{
	return hc->in_off < hc->in_len || (hc->dec && http_decode_pending(hc->dec));
}

static int conn_wants(const struct http_client *hc)
{
	int w = 0;
	if (hc->rate_held && hc->exchanging)
		return 0;
	if (send_waits(hc))
		w |= STREAM_WRITE;
	/* Read while still writing: a server may answer (and close) before
	 * it has read the whole request. Not while the output is behind. */
	if (hc->exchanging && outq_empty(&hc->outq) && !feed_pending(hc))
		w |= STREAM_READ;
	return w;
}

static int conn_update(struct http_client *hc)
{
	return hc->conn ? stream_want(hc->conn, conn_wants(hc)) : 0;
}

static void arm_idle(struct http_client *hc)
{
	if (hc->cfg.idle_ms > 0)
		loop_timer_start(hc->l, &hc->idle, hc->cfg.idle_ms);
}

static void close_conn(struct http_client *hc)
{
	if (hc->cn) {
		connector_cancel(hc->cn);
		hc->cn = NULL;
	}
	tls_handshake_cancel(hc->hs);
	hc->hs = NULL;
	proxy_cancel(hc->pc);
	hc->pc = NULL;
	stream_close(hc->conn);
	hc->conn = NULL;
	hc->reusable = false;
	if (hc->cfg.body_in)
		stream_want(hc->cfg.body_in, 0);
	hc->exchanging = false;
	outq_clear(&hc->reqq);
	loop_timer_stop(hc->l, &hc->idle);
}

/* ---- the end of a URL ---- */

static void deliver(struct http_client *hc)
{
	hc->busy = false;
	struct http_client_result r = {
	    .error = hc->error,
	    .tls_kind = hc->tls_kind,
	    .conn_errno = hc->conn_errno,
	    .errtext = hc->errtext,
	    .url = hc->urltext,
	    .status = hc->final_status,
	    .resp = hc->resp,
	    .final_url = hc->parsed ? &hc->url : NULL,
	    .redirects = hc->redirects,
	    .uploaded = hc->uploaded,
	    .method = hc->cfg.custom_method ? hc->cfg.custom_method : hc->method,
	    .head_bytes = hc->head_bytes,
	    .request_bytes = hc->request_bytes,
	    .connects = hc->connects,
	    .remote_port = hc->remote_port,
	    .local_port = hc->local_port,
	    .t_appconnect = hc->t_appconnect,
	    .t_pretransfer = hc->t_pretransfer,
	    .t_lookup = hc->t_lookup,
	    .t_connect = hc->t_connect,
	    .t_first = hc->t_first,
	    .t_total = hc->t_total,
	};
	memcpy(r.remote_ip, hc->remote_ip, sizeof r.remote_ip);
	memcpy(r.local_ip, hc->local_ip, sizeof r.local_ip);
	/* hc may be freed or given the next URL by the callback: nothing
	 * after it. */
	hc->cb(hc, &r, hc->arg);
}

static void on_later(struct loop *l, void *arg)
{
	(void)l;
	deliver(arg);
}

/* The outcome is final and the output written (or given up). */
static void complete(struct http_client *hc)
{
	hc->settling = false;
	hc->t_total = clock_us() - hc->t0;
	loop_timer_stop(hc->l, &hc->deadline);
	if (hc->cfg.out)
		stream_want(hc->cfg.out, 0);
	if (hc->in_get)
		loop_timer_start(hc->l, &hc->later, 0);
	else
		deliver(hc);
}

/* A body already received is still written after a failure, as it
 * would have been had it come sooner: only a failing output drops it. */
static void out_failed(struct http_client *hc, int err);

static void finish(struct http_client *hc, enum http_client_error code)
{
	hc->error = code;
	if (code == HC_E_WRITE)
		outq_clear(&hc->outq);
	if (outq_empty(&hc->outq)) {
		complete(hc);
		return;
	}
	hc->settling = true;
	if (stream_want(hc->cfg.out, STREAM_WRITE) < 0)
		out_failed(hc, errno);
}

static void set_err(struct http_client *hc, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void set_err(struct http_client *hc, const char *fmt, va_list ap)
{
	vsnprintf(hc->errtext, sizeof hc->errtext, fmt, ap);
}

static void fail(struct http_client *hc, enum http_client_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct http_client *hc, enum http_client_error code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_err(hc, fmt, ap);
	va_end(ap);
	close_conn(hc);
	finish(hc, code);
}

static void watch_failed(struct http_client *hc)
{
	fail(hc, HC_E_CONNECT, "connect %s: %s", hc->urltext,
	     errno == ERANGE ? "descriptor too large for --mux=select" : strerror(errno));
}

/* ---- the output ---- */

static void out_failed(struct http_client *hc, int err)
{
	if (hc->settling) {
		/* The body came before whatever ended the URL, and its
		 * write fails first, as it did when it was written at once. */
		snprintf(hc->errtext, sizeof hc->errtext, "write output: %s", strerror(err));
		outq_clear(&hc->outq);
		hc->error = HC_E_WRITE;
		complete(hc);
		return;
	}
	fail(hc, HC_E_WRITE, "write output: %s", strerror(err));
}

/* Sends p[0..n) to the output after what waits there. False with errno
 * when the output failed. */
static bool out_put(struct http_client *hc, const char *p, size_t n)
{
	if (!n)
		return true;
	/* The queue has no bound of its own (conn is not read while it
	 * holds anything), so -1 is the stream's failure, never
	 * OUTQ_FULL. */
	int rc = outq_write(&hc->outq, hc->cfg.out, p, n, NULL);
	if (rc == OUTQ_NOMEM)
		errno = ENOMEM;
	return rc == OUTQ_OK;
}

static void on_out(struct stream *s, int ready, void *arg)
{
	(void)ready;
	struct http_client *hc = arg;
	if (outq_flush(&hc->outq, s) < 0) {
		out_failed(hc, errno);
		return;
	}
	if (!outq_empty(&hc->outq))
		return;
	stream_want(s, 0);
	if (hc->settling) {
		complete(hc);
		return;
	}
	/* Caught up: what was read goes on, then the connection is read
	 * again. */
	if (hc->exchanging && (feed_pending(hc) || hc->resp->state == HR_DONE) && !feed(hc))
		return;
	if (hc->exchanging && outq_empty(&hc->outq)) {
		arm_idle(hc);
		if (conn_update(hc) < 0)
			watch_failed(hc);
	}
}

/* After a read that left output waiting: wait for the output before
 * reading more. Not idle meanwhile: the reader sets the pace. */
static bool out_wait(struct http_client *hc)
{
	loop_timer_stop(hc->l, &hc->idle);
	if (stream_want(hc->cfg.out, STREAM_WRITE) < 0) {
		out_failed(hc, errno);
		return false;
	}
	return true;
}

static int write_head(struct http_client *hc)
{
	struct http_resp *r = hc->resp;
	char line[HTTP_RESP_LINEMAX];
	int n = snprintf(line, sizeof line, "HTTP/1.%d %d %s\r\n", r->version % 10, r->status,
			 r->reason);
	if (!out_put(hc, line, (size_t)n))
		return -1;
	for (size_t i = 0; i < r->nhdrs; i++) {
		const char *parts[] = {r->hdrs[i].name, ": ", r->hdrs[i].value, "\r\n"};
		for (int k = 0; k < 4; k++)
			if (!out_put(hc, parts[k], strlen(parts[k])))
				return -1;
	}
	return out_put(hc, "\r\n", 2) ? 0 : -1;
}

/* ---- the request ---- */

static bool hdr_is(const char *h, const char *name)
{
	size_t n = strlen(name);
	return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

/* A user header that replaces (or, empty, removes) a default one. */
static const char *user_hdr(const struct http_client *hc, const char *name)
{
	for (int i = 0; i < hc->cfg.nhdrs; i++)
		if (hdr_is(hc->cfg.hdrs[i], name))
			return hc->cfg.hdrs[i];
	return NULL;
}

static bool hdr_empty(const char *h)
{
	const char *v = strchr(h, ':') + 1;
	return v[strspn(v, " \t")] == '\0';
}

static void add(struct buf *b, bool *fit, const char *s)
{
	size_t n = strlen(s);
	if (buf_append(b, s, n) != n)
		*fit = false;
}

/* host is domain, or with subdomains one of its subdomains. */
static bool cookie_domain(const char *host, const struct http_client_cookie *c)
{
	if (strcasecmp(host, c->domain) == 0)
		return true;
	size_t h = strlen(host), d = strlen(c->domain);
	return c->subdomains && h > d + 1 && host[h - d - 1] == '.' &&
	       strcasecmp(host + h - d, c->domain) == 0;
}

/* The target's path begins with the cookie's, at a '/' boundary. */
static bool cookie_path(const char *target, const char *path)
{
	size_t n = strlen(path), t = strcspn(target, "?");
	if (n > t || strncmp(target, path, n) != 0)
		return false;
	return n == t || path[n - 1] == '/' || target[n] == '/';
}

static void add_cookies(struct http_client *hc, struct buf *b, bool *fit, bool cross)
{
	bool any = false;
	int64_t now = (int64_t)time(NULL);
	for (int i = 0; i < hc->cfg.ncookies; i++) {
		const struct http_client_cookie *c = &hc->cfg.cookies[i];
		if (!cookie_domain(hc->url.host, c) || !cookie_path(hc->url.target, c->path) ||
		    (c->secure && !is_https(&hc->url)) || (c->expires && c->expires < now))
			continue;
		add(b, fit, any ? "; " : "Cookie: ");
		add(b, fit, c->name);
		add(b, fit, "=");
		add(b, fit, c->value);
		any = true;
	}
	/* The -b text after the file's, as curl has it. */
	const char *text = cross ? NULL : hc->cfg.cookie_text;
	if (text && *text) {
		add(b, fit, any ? "; " : "Cookie: ");
		add(b, fit, text);
		any = true;
	}
	if (any)
		add(b, fit, "\r\n");
}

static bool build_request(struct http_client *hc)
{
	struct buf *b = &hc->req;
	bool fit = true;
	char auth[HTTP_URL_HOSTMAX + 16], line[256];
	b->start = b->end = 0;
	add(b, &fit, hc->cfg.custom_method ? hc->cfg.custom_method : hc->method);
	add(b, &fit, " ");
	add(b, &fit, hc->url.target);
	add(b, &fit, " HTTP/1.1\r\n");
	http_url_authority(&hc->url, auth, sizeof auth);
	static const char *const defaults[] = {
	    "Host",	    "User-Agent",     "Accept", "Range", "If-Modified-Since",
	    "Content-Type", "Accept-Encoding"};
	const char *values[] = {auth,
				"sockctl/" PACKAGE_VERSION,
				"*/*",
				hc->cfg.range,
				hc->cfg.ims && hc->cfg.ims[0] ? hc->cfg.ims : NULL,
				hc->with_body ? hc->cfg.content_type : NULL,
				hc->cfg.compressed ? http_decode_accept() : NULL};
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		if (user_hdr(hc, defaults[i]) || !values[i])
			continue;
		snprintf(line, sizeof line, "%s: %s%s\r\n", defaults[i], i == 3 ? "bytes=" : "",
			 values[i]);
		add(b, &fit, line);
	}
	if (hc->with_body && hc->cfg.body_in) {
		add(b, &fit, "Transfer-Encoding: chunked\r\n");
	} else if (hc->with_body) {
		snprintf(line, sizeof line, "Content-Length: %llu\r\n",
			 (unsigned long long)hc->body_total);
		add(b, &fit, line);
	}
	/* Credentials go only to the origin they were given for. */
	bool cross = !http_url_same_origin(&hc->first, &hc->url);
	for (int i = 0; i < hc->cfg.nhdrs; i++) {
		const char *h = hc->cfg.hdrs[i];
		if (hdr_empty(h))
			continue;
		if (cross && (hdr_is(h, "Authorization") || hdr_is(h, "Cookie") ||
			      hdr_is(h, "Proxy-Authorization")))
			continue;
		add(b, &fit, h);
		add(b, &fit, "\r\n");
	}
	if (!user_hdr(hc, "Cookie"))
		add_cookies(hc, b, &fit, cross);
	add(b, &fit, "\r\n");
	hc->head_len = buf_len(b);
	/* A small body from memory goes in the head's write: one segment,
	 * not a second one that waits for the first's ACK. */
	hc->coalesced_parts = 0;
	hc->coalesced_bytes = 0;
	for (int i = 0; fit && hc->with_body && !hc->cfg.body_in && i < hc->cfg.nbody; i++) {
		const struct http_client_part *p = &hc->cfg.body[i];
		if (p->kind != HTTP_PART_MEM || hc->coalesced_bytes + p->len > COALESCE_MAX ||
		    p->len > buf_space(b))
			break;
		buf_append(b, p->data, (size_t)p->len);
		hc->coalesced_parts++;
		hc->coalesced_bytes += p->len;
	}
	return fit;
}

/* ---- the response ---- */

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static bool is_transient(int status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
	       status == 504;
}

/* The head is in: decide what happens to the body. Returns 0, -1 when
 * the output failed, -2 when the URL failed (and moved on). */
static int on_head(struct http_client *hc)
{
	struct http_resp *r = hc->resp;
	hc->final_status = r->status;
	hc->head_bytes += r->headlen;
	if (hc->cfg.head_cb)
		hc->cfg.head_cb(r, hc->cfg.head_arg);
	log_info("%s: HTTP/1.%d %d %s", hc->urltext, r->version % 10, r->status, r->reason);
	hc->discard = !hc->cfg.out;
	if (hc->cfg.follow && is_redirect(r->status) && http_resp_header(r, "location"))
		hc->discard = true;
	if (hc->cfg.drop_transient && is_transient(r->status))
		hc->discard = true;
	/* Resuming: 206 appends; a 416 says the file is whole already, as
	 * curl takes it; a 200 is the whole body again. */
	if (hc->cfg.resume && (r->status == 416 || r->status == 200))
		hc->discard = true;
	if (hc->cfg.fail && r->status >= 400)
		hc->discard = true;
	bool redirect_head = hc->discard && hc->cfg.out && !(hc->cfg.fail && r->status >= 400);
	http_decode_free(hc->dec);
	hc->dec = NULL;
	if (hc->cfg.compressed && !hc->discard && !hc->head_req && r->status != 204 &&
	    r->status != 304) {
		const char *ce = http_resp_header(r, "content-encoding");
		enum http_coding k = http_decode_coding(ce);
		if (k == HTTP_CODING_UNKNOWN) {
			fail(hc, HC_E_ENCODING, "%s: unknown Content-Encoding '%s'", hc->urltext,
			     ce);
			return -2;
		}
		if (k != HTTP_CODING_IDENTITY && !(hc->dec = http_decode_new(k))) {
			fail(hc, HC_E_OTHER, "out of memory");
			return -2;
		}
	}
	if (hc->cfg.write_head && (!hc->discard || (hc->cfg.write_all_heads && redirect_head)))
		return write_head(hc);
	return 0;
}

/* The method and body for a redirect answered with status, as curl
 * has them. False when the body must go again and cannot. */
static bool redirect_method(struct http_client *hc, int status)
{
	bool post = strcmp(hc->method, "POST") == 0;
	if ((status == 303 && !hc->head_req) || ((status == 301 || status == 302) && post)) {
		log_info("switching to GET for the %d redirect", status);
		hc->method = "GET";
		hc->with_body = false;
		return true;
	}
	return !(hc->with_body && hc->in_started);
}

static void on_done(struct http_client *hc, bool clean_end)
{
	struct http_resp *r = hc->resp;
	hc->exchanging = false;
	/* A server that answered before taking the whole body leaves the
	 * rest of it where the next request would start. */
	hc->reusable = clean_end && r->keep_alive && hc->body_done && !hc->body_cut;
	if (!hc->reusable)
		close_conn(hc);
	else if (conn_update(hc) < 0) /* idle until the next request */
		close_conn(hc);
	const char *loc = http_resp_header(r, "location");
	if (hc->cfg.follow && is_redirect(r->status) && loc) {
		if (++hc->redirects > hc->cfg.max_redirs) {
			fail(hc, HC_E_REDIRECTS, "%s: more than %ld redirects", hc->urltext,
			     hc->cfg.max_redirs);
			return;
		}
		struct http_url next;
		char err[256];
		int rc = http_url_resolve(&hc->url, loc, &next, err, sizeof err);
		if (rc != HTTP_URL_OK) {
			fail(hc, rc == HTTP_URL_UNSUPPORTED ? HC_E_UNSUPPORTED : HC_E_URL,
			     "redirect from %s: %s", hc->urltext, err);
			return;
		}
		if (!redirect_method(hc, r->status)) {
			fail(hc, HC_E_REWIND,
			     "redirect from %s: the body from stdin cannot be sent again",
			     hc->urltext);
			return;
		}
		log_info("redirect %d to %s", r->status, loc);
		hc->url = next;
		start_request(hc);
		return;
	}
	if (hc->cfg.resume && r->status == 200 &&
	    !(r->content_length >= 0 && r->content_length == hc->cfg.resume_from)) {
		snprintf(hc->errtext, sizeof hc->errtext,
			 "%s: the server does not seem to support byte ranges: cannot resume",
			 hc->urltext);
		finish(hc, HC_E_RANGE);
		return;
	}
	if (hc->cfg.resume && r->status == 416) {
		log_info("%s: the whole file is here already", hc->urltext);
		finish(hc, HC_OK);
		return;
	}
	if (hc->cfg.fail && r->status >= 400) {
		snprintf(hc->errtext, sizeof hc->errtext, "%s: HTTP %d %s", hc->urltext, r->status,
			 r->reason);
		finish(hc, HC_E_HTTP);
		return;
	}
	finish(hc, HC_OK);
}

/* A kept-alive connection the server had already closed: try once more
 * on a fresh one (nothing of the request was answered; a body from
 * memory or a file goes again, one from body_in cannot). */
static bool retry_stale(struct http_client *hc)
{
	if (!hc->reused || hc->got_bytes || (hc->with_body && hc->in_started))
		return false;
	log_info("kept-alive connection was closed; reconnecting");
	close_conn(hc);
	start_request(hc);
	return true;
}

/* The server closed the connection. */
static void on_eof(struct http_client *hc)
{
	struct http_resp *r = hc->resp;
	if (retry_stale(hc))
		return;
	int e = http_resp_eof(r);
	if (e == HTTP_RESP_EOF_EMPTY) {
		fail(hc, HC_E_EMPTY, "%s: empty reply from server", hc->urltext);
	} else if (e == HTTP_RESP_EOF_PARTIAL) {
		fail(hc, HC_E_PARTIAL, "%s: %s (%llu body bytes received)", hc->urltext, r->error,
		     (unsigned long long)r->body_bytes);
	} else {
		close_conn(hc);
		on_done(hc, false);
	}
}

/* Reads once from the connection. Returns false when the URL moved on
 * (done, failed, retried): the caller touches nothing after that. */
/* --limit-rate: when more has moved (either way) than the rate allows
 * by now, the connection waits until it no longer is ahead. */
static void rate_check(struct http_client *hc)
{
	uint64_t rate = hc->cfg.limit_rate;
	if (!rate || hc->rate_held)
		return;
	uint64_t moved = hc->rx > hc->uploaded ? hc->rx : hc->uploaded;
	int64_t now = clock_us() - hc->t0;
	int64_t due = (int64_t)(moved * 1000000 / rate); /* when it may have moved */
	if (due <= now)
		return;
	hc->rate_held = true;
	loop_timer_stop(hc->l, &hc->idle); /* waiting on ourselves, not the peer */
	loop_timer_start(hc->l, &hc->rate_t, (due - now + 999) / 1000);
}

static void on_rate(struct loop *l, void *arg)
{
	(void)l;
	struct http_client *hc = arg;
	hc->rate_held = false;
	if (!hc->exchanging)
		return;
	arm_idle(hc);
	/* A body from stdin stopped for the pace goes on being read. */
	if (hc->cfg.body_in && hc->in_started && !hc->body_done && outq_empty(&hc->reqq) &&
	    stream_want(hc->cfg.body_in, STREAM_READ) < 0) {
		fail(hc, HC_E_READ, "%s: read the body: %s", hc->urltext, strerror(errno));
		return;
	}
	if (conn_update(hc) < 0)
		watch_failed(hc);
}

/* --compressed: hands what the decoder makes to the output until it
 * needs input (DRAIN_MORE) or the output holds some (DRAIN_WAIT: the rest
 * waits for it, so a body that expands a thousandfold never sits in
 * memory). DRAIN_FAILED: the URL failed. */
enum { DRAIN_MORE, DRAIN_WAIT, DRAIN_FAILED };
static int decode_drain(struct http_client *hc)
{
	if (!hc->dbuf && !(hc->dbuf = malloc(READ_CHUNK))) {
		fail(hc, HC_E_OTHER, "out of memory");
		return DRAIN_FAILED;
	}
	for (;;) {
		const char *why = NULL;
		ssize_t n = http_decode_output(hc->dec, hc->dbuf, READ_CHUNK, &why);
		if (n < 0) {
			fail(hc, HC_E_ENCODING, "%s: cannot decode the body: %s", hc->urltext, why);
			return DRAIN_FAILED;
		}
		if (n == 0)
			return http_decode_pending(hc->dec) ? DRAIN_WAIT : DRAIN_MORE;
		if (!out_put(hc, hc->dbuf, (size_t)n)) {
			fail(hc, HC_E_WRITE, "write output: %s", strerror(errno));
			return DRAIN_FAILED;
		}
		if (!outq_empty(&hc->outq))
			return DRAIN_WAIT;
	}
}

/* Parses what was read (hc->in[in_off..in_len)), the bodies to the
 * output. Returns false when the URL moved on (done, failed). */
static bool feed(struct http_client *hc)
{
	struct http_resp *r = hc->resp;
	if (hc->dec) {
		int d = decode_drain(hc);
		if (d == DRAIN_FAILED)
			return false;
		if (d == DRAIN_WAIT)
			return out_wait(hc);
	}
	while (hc->in_off < hc->in_len) {
		bool had_head = r->have_head;
		const char *body;
		size_t bl;
		ssize_t c =
		    http_resp_feed(r, hc->in + hc->in_off, hc->in_len - hc->in_off, &body, &bl);
		if (c < 0) {
			fail(hc, HC_E_BAD_REPLY, "%s: malformed response: %s", hc->urltext,
			     r->error);
			return false;
		}
		int h = !had_head && r->have_head ? on_head(hc) : 0;
		if (h == -1)
			fail(hc, HC_E_WRITE, "write output: %s", strerror(errno));
		if (h < 0)
			return false; /* -2: on_head failed the URL itself */
		if (c == 0) {
			/* HR_DONE with bytes left: they belong to no response. */
			hc->in_extra = true;
			hc->in_off = hc->in_len;
			break;
		}
		hc->in_off += (size_t)c;
		if (bl && !hc->discard && hc->dec) {
			/* body points into hc->in, which is not read into again
			 * before the decoder has used it up. */
			http_decode_input(hc->dec, body, bl);
			int d = decode_drain(hc);
			if (d == DRAIN_FAILED)
				return false;
			if (d == DRAIN_WAIT)
				return out_wait(hc);
		} else if (bl && !hc->discard && !out_put(hc, body, bl)) {
			fail(hc, HC_E_WRITE, "write output: %s", strerror(errno));
			return false;
		}
	}
	if (r->state == HR_DONE) {
		/* A compressed body whose framing ended before its encoding
		 * did is cut short, however whole the HTTP message looks. */
		if (hc->dec && !hc->discard && r->body_bytes > 0 && !http_decode_ended(hc->dec)) {
			fail(hc, HC_E_ENCODING,
			     "%s: cannot decode the body: it ends before the "
			     "compressed stream does",
			     hc->urltext);
			return false;
		}
		on_done(hc, !hc->in_extra);
		return false;
	}
	if (!outq_empty(&hc->outq))
		return out_wait(hc);
	return true;
}

/* *full: the read filled what was asked, so more is likely waiting. */
static bool conn_read(struct http_client *hc, bool *moved, bool *full)
{
	/* Under a rate limit, reads no larger than a tenth of a second's
	 * worth, so the pace is even. */
	size_t want = sizeof hc->in;
	if (hc->cfg.limit_rate && hc->cfg.limit_rate / 10 < want)
		want = hc->cfg.limit_rate / 10 > 1024 ? (size_t)(hc->cfg.limit_rate / 10) : 1024;
	*full = false;
	ssize_t n = stream_read(hc->conn, hc->in, want);
	if (n < 0) {
		if (again())
			return true;
		/* EPROTO: a TLS peer closed without close_notify, as a
		 * server may with an idle kept-alive connection. */
		if ((errno == ECONNRESET || errno == EPROTO) && retry_stale(hc))
			return false;
		const char *why = tls_error(hc->conn);
		fail(hc, HC_E_RECV, "recv from %s: %s", hc->urltext, why ? why : strerror(errno));
		return false;
	}
	*moved = true;
	arm_idle(hc);
	if (n == 0) {
		on_eof(hc);
		return false;
	}
	hc->rx += (uint64_t)n;
	rate_check(hc);
	if (!hc->got_bytes) {
		hc->got_bytes = true;
		hc->t_first = clock_us() - hc->t0;
	}
	hc->in_off = 0;
	hc->in_len = (size_t)n;
	hc->in_extra = false;
	*full = (size_t)n == want;
	return feed(hc);
}

/* ---- zero-copy bodies ---- */

/* The body's next bytes may go socket -> pipe -> output without passing
 * through memory: nothing to undo (no coding), no pace to keep, nothing
 * parsed waiting, and both streams splice (plain sockets; pipes, files
 * and /dev/null as output; never TLS). */
static bool splice_fits(const struct http_client *hc)
{
	return !hc->no_splice && !hc->dec && !hc->discard && !hc->cfg.limit_rate && hc->cfg.out &&
	       outq_empty(&hc->outq) && !feed_pending(hc) && http_resp_raw_left(hc->resp) > 0 &&
	       stream_has(hc->conn, STREAM_F_SPLICE_READ) &&
	       stream_has(hc->cfg.out, STREAM_F_SPLICE_WRITE);
}

/* Closes the pipe: after a failure it may hold bytes of a body that
 * must never reach the next URL's output. A new one is made on need. */
static void spipe_drop(struct http_client *hc)
{
	splice_pipe_give(hc->spipe, hc->spipe_cap, false);
}

static bool spipe_open(struct http_client *hc)
{
	return hc->spipe[0] >= 0 || splice_pipe_take(hc->spipe, &hc->spipe_cap);
}

/* What the output did not take from the pipe goes to the queue instead,
 * so the pipe is empty again and the usual wait for the output holds.
 * False with errno when the pipe could not be read. */
static bool spipe_to_outq(struct http_client *hc, size_t inpipe)
{
	while (inpipe) {
		size_t want = inpipe < sizeof hc->in ? inpipe : sizeof hc->in;
		/* not a stream: our own pipe */
		ssize_t n = read(hc->spipe[0], hc->in, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return false;
		}
		if (!out_put(hc, hc->in, (size_t)n))
			return false;
		inpipe -= (size_t)n;
	}
	return true;
}

/* Nothing more waits on the connection (it would say EAGAIN); bytes or
 * its end there make it unfit to carry another request. */
static bool socket_empty(struct http_client *hc)
{
	char c;
	/* A look (MSG_PEEK) at the plain socket the splice came from. */
	int fd = hc->conn->fd;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT); /* not a stream: a peek */
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

enum { SPLICE_MOVED, SPLICE_COPY, SPLICE_OVER };
/* Splices one pipeful of the body to the output. SPLICE_MOVED: bytes
 * moved (*full: a whole pipeful, so more may wait) or none were there;
 * SPLICE_COPY: a stream refused, read as usual instead; SPLICE_OVER: the
 * URL moved on (done, failed, retried). */
static int conn_splice(struct http_client *hc, bool *moved, bool *full)
{
	*full = false;
	if (!spipe_open(hc)) {
		hc->no_splice = true;
		return SPLICE_COPY;
	}
	struct http_resp *r = hc->resp;
	uint64_t left = http_resp_raw_left(r);
	size_t ask = left < hc->spipe_cap ? (size_t)left : hc->spipe_cap;
	ssize_t n = hc->conn->ops->splice_read(hc->conn, hc->spipe[1], ask);
	if (n < 0) {
		if (errno == EINVAL || errno == ENOSYS) {
			hc->no_splice = true;
			return SPLICE_COPY;
		}
		if (again())
			return SPLICE_MOVED;
		if (errno == ECONNRESET && retry_stale(hc))
			return SPLICE_OVER;
		fail(hc, HC_E_RECV, "recv from %s: %s", hc->urltext, strerror(errno));
		return SPLICE_OVER;
	}
	*moved = true;
	arm_idle(hc);
	if (n == 0) {
		on_eof(hc);
		return SPLICE_OVER;
	}
	hc->rx += (uint64_t)n;
	hc->st.spliced += (uint64_t)n;
	hc->in_extra = false;
	http_resp_raw_taken(r, (uint64_t)n);
	size_t inpipe = (size_t)n;
	while (inpipe) {
		ssize_t w = hc->cfg.out->ops->splice_write(hc->cfg.out, hc->spipe[0], inpipe);
		if (w > 0) {
			inpipe -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EINVAL || errno == ENOSYS))
			hc->no_splice = true; /* an O_APPEND file: copies from now on */
		else if (w == 0 || !again()) {
			int e = errno;
			spipe_drop(hc);
			fail(hc, HC_E_WRITE, "write output: %s",
			     w == 0 ? "no progress" : strerror(e));
			return SPLICE_OVER;
		}
		/* The output is full (or refuses splice): the rest waits in
		 * the queue. */
		if (!spipe_to_outq(hc, inpipe)) {
			int e = errno;
			spipe_drop(hc);
			fail(hc, HC_E_WRITE, "write output: %s", strerror(e));
			return SPLICE_OVER;
		}
		break;
	}
	if (r->state == HR_DONE) {
		/* The splice took the body and not a byte more: whatever a
		 * server sent beyond its length makes the connection unfit
		 * for the next request, as the copy path finds out. */
		hc->in_extra = !socket_empty(hc);
		if (!outq_empty(&hc->outq)) {
			/* on_out completes the URL once the queue is out. */
			return out_wait(hc) ? SPLICE_MOVED : SPLICE_OVER;
		}
		on_done(hc, !hc->in_extra);
		return SPLICE_OVER;
	}
	if (!outq_empty(&hc->outq))
		return out_wait(hc) ? SPLICE_MOVED : SPLICE_OVER;
	*full = (size_t)n == ask;
	return SPLICE_MOVED;
}

/* Sending failed: a server that has begun answering may have stopped
 * reading the body (a 413, a redirect): its answer is still read. False
 * when the URL failed. */
static bool send_failed(struct http_client *hc, int rc)
{
	if (rc == OUTQ_NOMEM) {
		fail(hc, HC_E_OTHER, "out of memory");
		return false;
	}
	if ((errno == EPIPE || errno == ECONNRESET) && retry_stale(hc))
		return false;
	if (hc->got_bytes && (errno == EPIPE || errno == ECONNRESET)) {
		log_info("the server stopped taking the request body");
		outq_clear(&hc->reqq);
		hc->body_done = hc->body_cut = true;
		return true;
	}
	fail(hc, HC_E_SEND, "send to %s: %s", hc->urltext, strerror(errno));
	return false;
}

static bool body_read_failed(struct http_client *hc, const struct http_client_part *p, ssize_t n)
{
	if (n == 0)
		fail(hc, HC_E_READ, "%s: the body file ended %llu bytes early", hc->urltext,
		     (unsigned long long)(p->len - hc->body_at));
	else
		fail(hc, HC_E_READ, "%s: read the body file: %s", hc->urltext, strerror(errno));
	return false;
}

/* Hands the body to the connection piece by piece while it takes them
 * whole; a piece it takes in part waits in reqq, so at most one piece
 * (MEM_STEP, FBUF_CAP) is ever held. False when the URL failed. */
static bool body_pump(struct http_client *hc)
{
	while (!hc->body_done && outq_empty(&hc->reqq)) {
		if (hc->cfg.body_in) {
			/* on_body_in goes on when body_in has bytes. */
			if (stream_want(hc->cfg.body_in, STREAM_READ) < 0) {
				fail(hc, HC_E_READ, "%s: read the body: %s", hc->urltext,
				     strerror(errno));
				return false;
			}
			return true;
		}
		if (hc->body_i == hc->cfg.nbody) {
			hc->body_done = true;
			break;
		}
		const struct http_client_part *p = &hc->cfg.body[hc->body_i];
		uint64_t left = p->len - hc->body_at;
		if (left == 0) {
			hc->body_i++;
			hc->body_at = 0;
			continue;
		}
		ssize_t n;
		if (p->kind == HTTP_PART_MEM) {
			n = left > MEM_STEP ? MEM_STEP : (ssize_t)left;
			int rc =
			    outq_write(&hc->reqq, hc->conn, p->data + hc->body_at, (size_t)n, NULL);
			if (rc < 0)
				return send_failed(hc, rc);
		} else if (hc->zero_copy) {
			/* The stream's sendfile reads at the file's offset. */
			if (lseek(p->fd, (off_t)(p->off + hc->body_at), SEEK_SET) < 0)
				return body_read_failed(hc, p, -1);
			n = hc->conn->ops->sendfile(
			    hc->conn, p->fd, left > SENDFILE_MAX ? SENDFILE_MAX : (size_t)left);
			if (n == 0)
				return body_read_failed(hc, p, 0);
			if (n < 0 && again())
				return true; /* STREAM_WRITE brings us back */
			if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
				/* A file system sendfile cannot read: copy. */
				hc->zero_copy = false;
				continue;
			}
			if (n < 0)
				return send_failed(hc, OUTQ_FAIL);
		} else {
			if (!hc->fbuf && !(hc->fbuf = malloc(FBUF_CAP))) {
				fail(hc, HC_E_OTHER, "out of memory");
				return false;
			}
			do
				/* not a stream: the body file */
				n = pread(p->fd, hc->fbuf,
					  left > FBUF_CAP ? FBUF_CAP : (size_t)left,
					  (off_t)(p->off + hc->body_at));
			while (n < 0 && errno == EINTR);
			if (n <= 0)
				return body_read_failed(hc, p, n);
			int rc = outq_write(&hc->reqq, hc->conn, hc->fbuf, (size_t)n, NULL);
			if (rc < 0)
				return send_failed(hc, rc);
		}
		hc->body_at += (uint64_t)n;
		hc->uploaded += (uint64_t)n;
		arm_idle(hc);
		rate_check(hc);
		if (hc->rate_held)
			break;
	}
	return true;
}

/* body_in has bytes: one chunk of them goes out, and no more is read
 * until the connection has taken it. */
static void on_body_in(struct stream *s, int ready, void *arg)
{
	(void)ready;
	struct http_client *hc = arg;
	if (hc->rate_held) {
		stream_want(s, 0); /* on_rate reads it again */
		return;
	}
	if (!hc->fbuf && !(hc->fbuf = malloc(FBUF_CAP))) {
		fail(hc, HC_E_OTHER, "out of memory");
		return;
	}
	/* Room before the data for the chunk's size line, after it for its
	 * CRLF: one write per chunk. */
	char *b = hc->fbuf + 16;
	ssize_t n = stream_read(s, b, FBUF_CAP - 32);
	if (n < 0) {
		if (!again())
			fail(hc, HC_E_READ, "%s: read the body: %s", hc->urltext, strerror(errno));
		return;
	}
	hc->in_started = true;
	const char *p = "0\r\n\r\n";
	size_t len = 5;
	if (n == 0) {
		hc->body_done = true;
	} else {
		char hd[16];
		int h = snprintf(hd, sizeof hd, "%zx\r\n", (size_t)n);
		memcpy(b - h, hd, (size_t)h);
		memcpy(b + n, "\r\n", 2);
		p = b - h;
		len = (size_t)h + (size_t)n + 2;
		hc->uploaded += (uint64_t)n;
	}
	int rc = outq_write(&hc->reqq, hc->conn, p, len, NULL);
	if (rc < 0 && !send_failed(hc, rc))
		return;
	arm_idle(hc);
	rate_check(hc); /* --limit-rate paces the body from stdin too */
	if (hc->body_done || !outq_empty(&hc->reqq) || hc->rate_held)
		stream_want(s, 0);
	if (conn_update(hc) < 0)
		watch_failed(hc);
}

/* Sends what waits: the rest of the request head, then the body. False
 * when the URL moved on. */
static bool conn_send(struct http_client *hc, bool *moved)
{
	if (!outq_empty(&hc->reqq)) {
		ssize_t w = outq_flush(&hc->reqq, hc->conn);
		if (w < 0 && !send_failed(hc, OUTQ_FAIL))
			return false;
		if (w > 0) {
			*moved = true;
			arm_idle(hc);
		}
	}
	if (hc->exchanging && !hc->body_done) {
		uint64_t before = hc->uploaded;
		if (!body_pump(hc))
			return false;
		if (hc->uploaded != before)
			*moved = true;
	}
	return true;
}

static void on_conn(struct stream *s, int ready, void *arg)
{
	struct http_client *hc = arg;
	bool moved = false;
	hc->st.wakeups++;
	if (hc->rate_held)
		ready = 0; /* a wakeup from before the hold */
	if ((ready & STREAM_WRITE) && !conn_send(hc, &moved))
		return;
	if ((ready & STREAM_READ) && hc->exchanging && outq_empty(&hc->outq) && !feed_pending(hc)) {
		bool got = false, full;
		/* A read that filled the buffer is followed by another at
		 * once, while the output keeps up: a body arriving faster
		 * than one read per wakeup then costs no wait per read. The
		 * bound keeps other connections served. */
		for (int i = 0;; i++) {
			int sp = splice_fits(hc) ? conn_splice(hc, &got, &full) : SPLICE_COPY;
			if (sp == SPLICE_OVER)
				return;
			if (sp == SPLICE_COPY && !conn_read(hc, &got, &full))
				return;
			if (!full || i == READ_BURST - 1 || hc->rate_held || !hc->exchanging ||
			    !outq_empty(&hc->outq) || feed_pending(hc))
				break;
		}
		/* The read may have taken in what a write that waited needed
		 * (a TLS record it had to read first): the stream has nothing
		 * left to report, so the write goes again now. */
		if (got || (ready & STREAM_WRITE)) {
			if (send_waits(hc) && !conn_send(hc, &moved))
				return;
		}
		moved = moved || got;
	}
	if (!moved)
		hc->st.idle_wakeups++;
	if (conn_update(hc) < 0)
		watch_failed(hc);
}

static void send_request(struct http_client *hc)
{
	hc->t_pretransfer = clock_us() - hc->t0;
	if (hc->reused || !hc->t_connect) /* no connection made for it: adopted, or kept */
		hc->t_connect = hc->t_pretransfer;
	hc->request_bytes += hc->head_len;
	hc->conn_requests++;
	hc->st.requests++;
	if (hc->reused)
		hc->st.reused++;
	hc->exchanging = true;
	stream_set_cb(hc->conn, on_conn, hc);
	/* Straight out when the connection takes it (it has just connected,
	 * or has been idle): the rest waits for STREAM_WRITE. */
	hc->zero_copy = stream_has(hc->conn, STREAM_F_SENDFILE) && hc->conn->ops->sendfile;
	int rc = outq_write(&hc->reqq, hc->conn, buf_head(&hc->req), buf_len(&hc->req), NULL);
	if (rc < 0 && !send_failed(hc, rc))
		return;
	if (!body_pump(hc))
		return;
	if (conn_update(hc) < 0) {
		watch_failed(hc);
		return;
	}
	arm_idle(hc);
}

static void take_conn(struct http_client *hc, struct stream *s, const struct http_url *origin)
{
	hc->conn = s;
	hc->conn_origin = *origin;
	hc->conn_requests = 0;
	hc->st.connections++;
}

/* The connection is ready (over TLS for https): the request goes. */
static void conn_ready(struct http_client *hc, struct stream *s)
{
	take_conn(hc, s, &hc->url);
	hc->reused = false;
	send_request(hc);
}

static void on_tls(struct loop *l, struct stream *s, enum tls_err kind, const char *errtext,
		   void *arg)
{
	(void)l;
	struct http_client *hc = arg;
	hc->hs = NULL;
	if (s)
		hc->t_appconnect = clock_us() - hc->t0;
	if (!s) {
		/* A handshake that ran out of time is a timeout, as curl has
		 * it (28), not a TLS failure. */
		hc->tls_kind = kind;
		fail(hc, kind == TLS_E_TIMEOUT ? HC_E_TIMEOUT : HC_E_TLS, "%s", errtext);
		return;
	}
	char why[256] = "";
	bool go = !hc->cfg.tls_check ||
		  hc->cfg.tls_check(hc->cfg.tls_check_arg, s, kind, why, sizeof why);
	if (kind != TLS_E_NONE || !go) {
		/* Not yet the client's connection: fail does not close it. */
		stream_close(s);
		hc->tls_kind = kind;
		if (kind != TLS_E_NONE)
			fail(hc, HC_E_TLS, "%s", errtext);
		else
			fail(hc, HC_E_TLS_CHECK, "%s: %s", hc->urltext, why);
		return;
	}
	conn_ready(hc, s);
}

/* Connected to the origin (directly or through the tunnel): TLS
 * first for https. */
static void origin_reached(struct loop *l, struct http_client *hc, struct stream *s)
{
	if (!is_https(&hc->url)) {
		conn_ready(hc, s);
		return;
	}
	char e[300];
	hc->hs = tls_handshake_start(l, hc->tctx, s, hc->url.host, hc->cfg.handshake_ms, on_tls, hc,
				     e, sizeof e);
	if (!hc->hs)
		fail(hc, HC_E_OTHER, "%s", e);
}

static void on_tunnel(struct loop *l, struct stream *s, const char *errtext, void *arg)
{
	struct http_client *hc = arg;
	hc->pc = NULL;
	if (!s) {
		fail(hc, HC_E_PROXY, "proxy %s:%s: %s", hc->cfg.proxy_host, hc->cfg.proxy_port,
		     errtext);
		return;
	}
	log_info("tunnel to %s port %s open through the proxy", hc->url.host, hc->url.portstr);
	origin_reached(l, hc, s);
}

/* An address as -w shows it: the bare IP and the port. */
static void addr_parts(const struct sock_addr *a, char ip[46], int *port)
{
	const struct sockaddr *sa = (const struct sockaddr *)&a->ss;
	const void *bin = NULL;
	if (sa->sa_family == AF_INET) {
		bin = &((const struct sockaddr_in *)sa)->sin_addr;
		*port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		bin = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		*port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	if (!bin || !inet_ntop(sa->sa_family, bin, ip, 46))
		ip[0] = '\0';
}

static void on_connect(struct loop *l, struct stream *s, int err, const char *errtext, void *arg)
{
	struct http_client *hc = arg;
	hc->cn = NULL; /* the connector freed itself */
	if (!s) {
		hc->conn_errno = err;
		fail(hc, err == ETIMEDOUT ? HC_E_TIMEOUT : HC_E_CONNECT, "%s", errtext);
		return;
	}
	hc->t_connect = clock_us() - hc->t0;
	hc->connects++;
	int fd = stream_raw_fd(s);
	struct sock_addr pa, la;
	hc->remote_ip[0] = hc->local_ip[0] = '\0';
	hc->remote_port = hc->local_port = 0;
	if (fd >= 0 && sock_peer_addr(fd, &pa) == 0)
		addr_parts(&pa, hc->remote_ip, &hc->remote_port);
	if (fd >= 0 && sock_local_addr(fd, &la) == 0)
		addr_parts(&la, hc->local_ip, &hc->local_port);
	if (log_wants(LOG_LVL_INFO)) {
		char a[SOCK_ADDRSTRLEN] = "?";
		if (fd >= 0 && sock_peer_addr(fd, &pa) == 0)
			sock_addr_str((struct sockaddr *)&pa.ss, pa.len, a, sizeof a);
		log_info("connected to %s", a);
	}
	if (!hc->cfg.proxy_host) {
		origin_reached(l, hc, s);
		return;
	}
	hc->pt = (struct proxy_target){.type = hc->cfg.proxy_type,
				       .host = hc->url.host,
				       .port = hc->url.port,
				       .user = hc->cfg.proxy_user,
				       .pass = hc->cfg.proxy_pass,
				       .tls = hc->cfg.proxy_tls,
				       .tls_host = hc->cfg.proxy_host};
	char e[300];
	hc->pc = proxy_start(l, s, &hc->pt, hc->cfg.connect_ms, on_tunnel, hc, e, sizeof e);
	if (!hc->pc) /* s is closed */
		fail(hc, HC_E_PROXY, "proxy %s:%s: %s", hc->cfg.proxy_host, hc->cfg.proxy_port, e);
}

/* The TLS context for https, made the first time one is needed. */
static bool tls_ready(struct http_client *hc)
{
	if (hc->tctx)
		return true;
	enum tls_err kind = TLS_E_NOTLS;
	char e[700] = "this build has no TLS";
	if (hc->cfg.tls) {
		struct tls_config c = *hc->cfg.tls;
		c.role = TLS_CLIENT;
		c.alpn = "http/1.1";
		hc->tctx = tls_ctx_new(&c, &kind, e, sizeof e);
	}
	if (hc->tctx)
		return true;
	hc->tls_kind = kind;
	fail(hc, HC_E_TLS, "%s: TLS: %s", hc->urltext, e);
	return false;
}

/* Requests go whole (head and a small body in one write), so Nagle's
 * algorithm only delays them: off, as curl has it. */
static int nodelay(int fd, void *arg, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	int one = 1;
	/* A Unix socket has no such option: nothing to do there. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return 0;
}

static bool route_matches(const char *want, const char *have)
{
	return !want || strcasecmp(want, have) == 0;
}

/* --unix-socket, --connect-to, then --resolve: where the connection for
 * the URL's host and port goes. */
static void route(struct http_client *hc, struct sock_endpoint *ep, const struct addrinfo **addrs)
{
	if (hc->cfg.unix_path) {
		ep->host = ep->port = NULL;
		ep->unix_path = hc->cfg.unix_path;
		return;
	}
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < hc->cfg.nroutes; i++) {
			const struct http_client_route *r = &hc->cfg.routes[i];
			if (r->resolve != (pass == 1) || !route_matches(r->host, ep->host) ||
			    !route_matches(r->port, ep->port))
				continue;
			if (r->to_addrs) {
				*addrs = r->to_addrs;
				break;
			}
			log_info("connecting to %s port %s for %s port %s",
				 r->to_host ? r->to_host : ep->host,
				 r->to_port ? r->to_port : ep->port, ep->host, ep->port);
			if (r->to_host)
				ep->host = r->to_host;
			if (r->to_port)
				ep->port = r->to_port;
			if (r->resolve)
				ep->numeric = true;
			break;
		}
}

static void start_request(struct http_client *hc)
{
	if (!build_request(hc)) {
		fail(hc, HC_E_OTHER, "%s: request headers are larger than %d KiB", hc->urltext,
		     HTTP_CLIENT_REQMAX / 1024);
		return;
	}
	http_resp_init(hc->resp, hc->head_req);
	hc->got_bytes = false;
	hc->final_status = 0;
	hc->in_off = hc->in_len = 0;
	http_decode_free(hc->dec);
	hc->dec = NULL;
	hc->body_i = 0;
	hc->body_at = hc->uploaded = 0;
	hc->body_done = !hc->with_body;
	hc->body_i = hc->coalesced_parts;
	hc->uploaded = hc->coalesced_bytes;
	if (hc->with_body && !hc->cfg.body_in && hc->body_i == hc->cfg.nbody)
		hc->body_done = true;
	hc->body_cut = false;
	if (hc->conn && hc->reusable && http_url_same_origin(&hc->conn_origin, &hc->url)) {
		hc->reused = hc->conn_requests > 0;
		if (hc->reused)
			log_info("reusing the connection to %s", hc->url.host);
		hc->reusable = false;
		hc->t_lookup = clock_us() - hc->t0;
		send_request(hc);
		return;
	}
	close_conn(hc);
	if (is_https(&hc->url) && !tls_ready(hc))
		return;
	/* Through a proxy, the connection goes to it; the tunnel to the
	 * URL's host and port is its handshake's. */
	bool proxied = hc->cfg.proxy_host != NULL;
	struct sock_endpoint ep = {
	    .host = proxied ? hc->cfg.proxy_host : hc->url.host,
	    .port = proxied ? hc->cfg.proxy_port : hc->url.portstr,
	    .family = hc->cfg.family,
	    .socktype = SOCK_STREAM,
	    .numeric = hc->cfg.numeric,
	};
	const struct addrinfo *addrs = NULL;
	if (!proxied)
		route(hc, &ep, &addrs);
	struct connect_opts o = {.timeout_ms = hc->cfg.connect_ms, .prepare = nodelay};
	char err[SOCK_ERRLEN];
	if (addrs) {
		hc->cn = connector_start_addrs(hc->l, (struct addrinfo *)addrs, &o, on_connect, hc);
		snprintf(err, sizeof err, "%s", strerror(ENOMEM));
	} else {
		hc->cn = connector_start(hc->l, &ep, &o, on_connect, hc, err, sizeof err);
	}
	hc->t_lookup = clock_us() - hc->t0;
	if (!hc->cn)
		fail(hc, proxied ? HC_E_PROXY_RESOLVE : HC_E_RESOLVE, "%s%s",
		     proxied ? "proxy: " : "", err);
}

/* ---- timers ---- */

static void on_deadline(struct loop *l, void *arg)
{
	(void)l;
	struct http_client *hc = arg;
	/* The whole transfer's limit: output not yet written goes too. */
	if (!hc->settling || hc->error == HC_OK) {
		snprintf(hc->errtext, sizeof hc->errtext, "%s: timed out after %d.%03d s",
			 hc->urltext, hc->cfg.max_ms / 1000, hc->cfg.max_ms % 1000);
		hc->error = HC_E_TIMEOUT;
	}
	if (!hc->settling)
		close_conn(hc);
	outq_clear(&hc->outq);
	complete(hc);
}

static void on_idle(struct loop *l, void *arg)
{
	(void)l;
	struct http_client *hc = arg;
	if (!hc->exchanging) {
		close_conn(hc); /* an idle kept-alive connection: just let it go */
		return;
	}
	fail(hc, HC_E_TIMEOUT, "%s: nothing received for %d.%03d s", hc->urltext,
	     hc->cfg.idle_ms / 1000, hc->cfg.idle_ms % 1000);
}

/* ---- the interface ---- */

/* Compares two runs of decimal digits by value, however long. */
static int digits_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	for (; na > 1 && *a == '0'; na--)
		a++;
	for (; nb > 1 && *b == '0'; nb--)
		b++;
	if (na != nb)
		return na < nb ? -1 : 1;
	return memcmp(a, b, na);
}

bool http_client_valid_range(const char *s)
{
	/* 1*( [digits] "-" [digits] ) separated by commas, never a bare "-";
	 * FIRST-LAST with LAST below FIRST is invalid (RFC 9110 14.1.1), and
	 * a server would ignore the whole header. */
	const char *p = s;
	for (;;) {
		size_t a = strspn(p, "0123456789");
		if (p[a] != '-')
			return false;
		size_t b = strspn(p + a + 1, "0123456789");
		if (a == 0 && b == 0)
			return false;
		if (a && b && digits_cmp(p, a, p + a + 1, b) > 0)
			return false;
		p += a + 1 + b;
		if (*p == '\0')
			return true;
		if (*p++ != ',')
			return false;
	}
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool http_client_valid_method(const char *m)
{
	if (!*m)
		return false;
	for (; *m; m++)
		if (!is_tchar(*m))
			return false;
	return true;
}

bool http_client_valid_header(const char *h)
{
	const char *c = strchr(h, ':');
	if (!c || c == h)
		return false;
	for (const char *p = h; p < c; p++)
		if (!is_tchar(*p))
			return false;
	for (const char *p = c + 1; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

struct http_client *http_client_new(struct loop *l, const struct http_client_cfg *cfg)
{
	bool ok = cfg->nhdrs >= 0 && cfg->nhdrs <= HTTP_CLIENT_MAXHDRS &&
		  (!cfg->range || http_client_valid_range(cfg->range)) && cfg->nbody >= 0 &&
		  !(cfg->nbody && cfg->body_in) &&
		  (!cfg->method || http_client_valid_method(cfg->method)) &&
		  (!cfg->custom_method || http_client_valid_method(cfg->custom_method)) &&
		  (!cfg->content_type || !strpbrk(cfg->content_type, "\r\n"));
	for (int i = 0; ok && i < cfg->nhdrs; i++)
		ok = http_client_valid_header(cfg->hdrs[i]);
	/* The value goes on the wire as it is: nothing that ends a line. */
	if (ok && cfg->ims && strpbrk(cfg->ims, "\r\n"))
		ok = false;
	if (ok && cfg->cookie_text && strpbrk(cfg->cookie_text, "\r\n"))
		ok = false;
	for (int i = 0; ok && i < cfg->ncookies; i++)
		ok = !strpbrk(cfg->cookies[i].name, "\r\n;") &&
		     !strpbrk(cfg->cookies[i].value, "\r\n;");
	if (!ok) {
		errno = EINVAL;
		return NULL;
	}
	struct http_client *hc = calloc(1, sizeof *hc);
	if (!hc)
		return NULL;
	hc->l = l;
	hc->cfg = *cfg;
	hc->resp = malloc(sizeof *hc->resp);
	if (!hc->resp || !buf_init(&hc->req, HTTP_CLIENT_REQMAX)) {
		free(hc->resp);
		free(hc);
		errno = ENOMEM;
		return NULL;
	}
	http_resp_init(hc->resp, cfg->head);
	outq_init(&hc->reqq, 0);
	outq_init(&hc->outq, 0);
	hc->spipe[0] = hc->spipe[1] = -1;
	timer_init(&hc->deadline, on_deadline, hc);
	timer_init(&hc->idle, on_idle, hc);
	timer_init(&hc->later, on_later, hc);
	timer_init(&hc->rate_t, on_rate, hc);
	if (cfg->out)
		stream_set_cb(cfg->out, on_out, hc);
	if (cfg->body_in)
		stream_set_cb(cfg->body_in, on_body_in, hc);
	for (int i = 0; i < cfg->nbody; i++)
		hc->body_total += cfg->body[i].len;
	return hc;
}

void http_client_free(struct http_client *hc)
{
	if (!hc)
		return;
	close_conn(hc);
	tls_ctx_free(hc->tctx);
	loop_timer_stop(hc->l, &hc->deadline);
	loop_timer_stop(hc->l, &hc->later);
	loop_timer_stop(hc->l, &hc->rate_t);
	if (hc->cfg.out) {
		stream_want(hc->cfg.out, 0);
		stream_set_cb(hc->cfg.out, NULL, NULL);
	}
	if (hc->cfg.body_in) {
		stream_want(hc->cfg.body_in, 0);
		stream_set_cb(hc->cfg.body_in, NULL, NULL);
	}
	outq_clear(&hc->outq);
	splice_pipe_give(hc->spipe, hc->spipe_cap, true); /* empty between reads */
	buf_free(&hc->req);
	free(hc->fbuf);
	http_decode_free(hc->dec);
	free(hc->dbuf);
	free(hc->resp);
	free(hc->urltext);
	free(hc);
}

static void start_url(struct http_client *hc)
{
	hc->t0 = clock_us();
	hc->t_lookup = hc->t_connect = hc->t_first = hc->t_total = 0;
	hc->t_appconnect = hc->t_pretransfer = 0;
	hc->head_bytes = hc->request_bytes = 0;
	hc->rx = 0;
	hc->rate_held = false;
	loop_timer_stop(hc->l, &hc->rate_t);
	hc->connects = 0;
	hc->redirects = 0;
	hc->error = HC_OK;
	hc->tls_kind = TLS_E_NONE;
	hc->conn_errno = 0;
	hc->errtext[0] = '\0';
	hc->final_status = 0;
	hc->parsed = false;
	hc->method = hc->cfg.method ? hc->cfg.method : hc->cfg.head ? "HEAD" : "GET";
	const char *wire = hc->cfg.custom_method ? hc->cfg.custom_method : hc->method;
	hc->head_req = hc->cfg.head || strcmp(wire, "HEAD") == 0;
	hc->with_body = hc->cfg.nbody > 0 || hc->cfg.body_in;
	http_resp_init(hc->resp, hc->head_req);
	char err[256];
	int rc = http_url_parse(hc->urltext, &hc->first, err, sizeof err);
	if (rc != HTTP_URL_OK) {
		snprintf(hc->errtext, sizeof hc->errtext, "%s: %s", hc->urltext, err);
		finish(hc, rc == HTTP_URL_UNSUPPORTED ? HC_E_UNSUPPORTED : HC_E_URL);
		return;
	}
	hc->parsed = true;
	hc->url = hc->first;
	if (hc->cfg.max_ms)
		loop_timer_start(hc->l, &hc->deadline, hc->cfg.max_ms);
	start_request(hc);
}

int http_client_get(struct http_client *hc, const char *url, http_client_cb cb, void *arg)
{
	if (hc->busy) {
		errno = EBUSY;
		return -1;
	}
	char *copy = strdup(url);
	if (!copy)
		return -1;
	free(hc->urltext);
	hc->urltext = copy;
	hc->cb = cb;
	hc->arg = arg;
	hc->busy = true;
	hc->in_get = true;
	start_url(hc);
	hc->in_get = false;
	return 0;
}

int http_client_adopt(struct http_client *hc, struct stream *s, const struct http_url *origin)
{
	if (hc->busy) {
		errno = EBUSY;
		return -1;
	}
	close_conn(hc);
	take_conn(hc, s, origin);
	hc->reusable = true;
	return 0;
}

void http_client_get_stats(const struct http_client *hc, struct http_client_stats *st)
{
	*st = hc->st;
}

bool http_client_progress(const struct http_client *hc, uint64_t *got, int64_t *total)
{
	if (!hc->busy || !hc->resp->have_head || hc->discard)
		return false;
	*got = hc->resp->body_bytes;
	*total = hc->resp->content_length;
	return true;
}

void http_client_set_drop_transient(struct http_client *hc, bool on)
{
	hc->cfg.drop_transient = on;
}

void http_client_set_out(struct http_client *hc, struct stream *out)
{
	if (hc->cfg.out) {
		stream_want(hc->cfg.out, 0);
		stream_set_cb(hc->cfg.out, NULL, NULL);
	}
	outq_clear(&hc->outq);
	hc->cfg.out = out;
	hc->no_splice = false; /* the next output may take splice again */
	if (out)
		stream_set_cb(out, on_out, hc);
}
