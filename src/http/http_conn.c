/* http serve connections: each one an explicit state machine (struct
 * http_conn in http_serve.h) over a stream: read a head, answer it, read
 * or drop a body, and go back for the next request, so pipelined requests
 * are answered in order from the bytes already buffered. Deadlines, not
 * idle timers: the whole head must arrive within the head deadline of its
 * first byte however slowly it drips; an idle keep-alive connection gets
 * the idle timeout. Every read, write and shutdown goes through the
 * stream, which may need READ in order to write (TLS): the state says
 * what the connection wants, and the stream says when to try. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sbuf.h"
#include "http/http_cache.h"
#include "http/http_escape.h"
#include "http/http_serve.h"
#include "net/acceptor.h"
#include "net/sock.h"
#include "net/stream.h"
#include "net/tls.h"

#define RUN_RECV_BUDGET 16	    /* reads per event before the others get a turn */
#define SENDFILE_MAX	(1u << 21)  /* most bytes per sendfile call */
#define FBUF_CAP	(64 * 1024) /* the copy path's file buffer */

static const char CONTINUE[] = "HTTP/1.1 100 Continue\r\n\r\n";
#define CONTINUE_LEN (sizeof CONTINUE - 1)

enum { RUN_AGAIN, RUN_BLOCK, RUN_CLOSED };

static bool again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Connections and handshakes under way count against max_conns. */
static int load(const struct http_server *s)
{
	return s->nconns + s->hs.n;
}

static void maybe_resume(struct http_server *s)
{
	if (s->paused && load(s) < s->max_conns) {
		s->paused = false;
		acceptor_resume(s->acc);
	}
}

static void maybe_pause(struct http_server *s)
{
	if (s->acc && !s->paused && load(s) >= s->max_conns) {
		/* New clients wait in the backlog until one leaves. */
		s->paused = true;
		acceptor_pause(s->acc);
	}
}

void http_conn_close(struct http_conn *c)
{
	struct http_server *s = c->srv;
	loop_timer_stop(s->l, &c->timer);
	stream_close(c->s);
	if (c->filefd >= 0)
		close(c->filefd);
	http_cache_unref(c->held);
	http_upload_abort(c);
	free(c->in);
	free(c->out.p);
	free(c->fbuf);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	s->nconns--;
	maybe_resume(s);
}

static void copy_field(char *dst, size_t dl, struct http_str v)
{
	size_t n = v.len < dl - 1 ? v.len : dl - 1;
	if (v.p)
		memcpy(dst, v.p, n);
	else
		n = 0;
	dst[n] = '\0';
}

static void log_access(struct http_conn *c)
{
	struct http_server *s = c->srv;
	if (s->log_format == HTTP_LOG_NONE || !s->log_fn)
		return;
	uint64_t head = c->nseg ? c->segs[0].len : 0;
	unsigned long long body = c->sent > head ? c->sent - head : 0;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	struct sbuf *b = &s->logline;
	sb_reset(b);
	if (s->log_format == HTTP_LOG_JSON) {
		char ts[32];
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		sb_printf(b, "{\"time\":\"%s\",\"remote\":\"%s\",\"method\":", ts, c->peer);
		json_str(b, c->lmethod);
		sb_puts(b, ",\"target\":");
		json_str(b, c->ltarget);
		sb_printf(b, ",\"version\":\"%s\",\"status\":%d,\"bytes\":%llu,\"referer\":",
			  c->lversion == 10 ? "HTTP/1.0"
			  : c->lversion	    ? "HTTP/1.1"
					    : "",
			  c->status, body);
		json_str(b, c->lref);
		sb_puts(b, ",\"user_agent\":");
		json_str(b, c->lua);
		if (s->cfg.auth) {
			sb_puts(b, ",\"user\":");
			json_str(b, c->luser);
		}
		if (*c->lsubject) {
			sb_puts(b, ",\"tls_subject\":");
			json_str(b, c->lsubject);
		}
		sb_puts(b, "}\n");
	} else {
		char ts[40];
		strftime(ts, sizeof ts, "%d/%b/%Y:%H:%M:%S +0000", &tm);
		char m[100], t[4200], r[1100], u[1100], who[1100];
		http_escape_log(c->lmethod, strlen(c->lmethod), m, sizeof m);
		/* The user field: the account of --auth, else the verified
		 * client certificate's subject, as Apache's SSLUserName can;
		 * its spaces escaped so that the field stays one word. */
		const char *id = *c->luser ? c->luser : c->lsubject;
		http_escape_log_word(id, strlen(id), who, sizeof who);
		http_escape_log(c->ltarget, strlen(c->ltarget), t, sizeof t);
		http_escape_log(c->lref, strlen(c->lref), r, sizeof r);
		http_escape_log(c->lua, strlen(c->lua), u, sizeof u);
		if (c->lversion)
			sb_printf(b, "%s - %s [%s] \"%s %s HTTP/1.%d\" %d %llu \"%s\" \"%s\"\n",
				  c->peer, *who ? who : "-", ts, m, t, c->lversion == 10 ? 0 : 1,
				  c->status, body, *r ? r : "-", *u ? u : "-");
		else
			sb_printf(b, "%s - - [%s] \"-\" %d %llu \"-\" \"-\"\n", c->peer, ts,
				  c->status, body);
	}
	if (!b->oom)
		s->log_fn(s->log_arg, b->p, b->len);
}

static void start_write(struct http_conn *c)
{
	c->state = HC_WRITE;
	c->sent = 0;
	loop_timer_start(c->srv->l, &c->timer, c->srv->send_ms);
}

/* An answer was made (ok) in c->out: send it; otherwise close. */
static int send_answer(struct http_conn *c, bool ok)
{
	if (!ok) {
		http_conn_close(c);
		return RUN_CLOSED;
	}
	start_write(c);
	return RUN_AGAIN;
}

/* Reads more of the request into c->in: RUN_AGAIN with bytes added,
 * RUN_BLOCK, or RUN_CLOSED when the peer left (an unfinished upload is
 * aborted with the connection). */
static int recv_in(struct http_conn *c, int *budget)
{
	if ((*budget)-- <= 0)
		return RUN_BLOCK;
	ssize_t n = stream_read(c->s, c->in + c->inlen, HTTP_CONN_IN_CAP - c->inlen);
	if (n < 0 && again())
		return RUN_BLOCK;
	if (n <= 0) {
		http_conn_close(c);
		return RUN_CLOSED;
	}
	c->inlen += (size_t)n;
	return RUN_AGAIN;
}

static void begin_request_wait(struct http_conn *c)
{
	struct http_server *s = c->srv;
	c->state = HC_READ;
	http_req_init(&c->req);
	/* Bytes of the next request already here: its head deadline runs
	 * from now. Otherwise the keep-alive idle time. */
	loop_timer_start(s->l, &c->timer, c->inlen ? s->header_ms : s->idle_ms);
}

static void consume_in(struct http_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
}

/* A parsed head: answer it. */
static int handle_request(struct http_conn *c)
{
	struct http_server *s = c->srv;
	struct http_req *r = &c->req;
	copy_field(c->lmethod, sizeof c->lmethod, r->method_str);
	copy_field(c->ltarget, sizeof c->ltarget, r->target);
	copy_field(c->lref, sizeof c->lref, r->referer);
	copy_field(c->lua, sizeof c->lua, r->user_agent);
	c->luser[0] = '\0';
	c->lversion = r->version;
	bool ok = http_respond(c, &s->cfg);
	bool expect = r->expect_continue;
	/* The body follows the head (an unwanted one is read and dropped
	 * after the answer; http_respond has chosen to close instead when it
	 * is too big to drop, and said so in the answer). */
	c->body_left = r->has_length ? r->content_length : 0;
	consume_in(c, r->head_len);
	/* The head's bytes are gone, so nothing may point into c->in any
	 * more; but the answer to an upload, made after the body, still needs
	 * the method, version and keep-alive (without them it would close the
	 * connection and lose the requests pipelined behind the body). The
	 * whole request is reset when the next one begins. */
	*r = (struct http_req){
	    .method = r->method, .version = r->version, .keep_alive = r->keep_alive};
	if (!ok) {
		http_conn_close(c);
		return RUN_CLOSED;
	}
	if (c->state == HC_UPLOAD) {
		/* Sent while the body is read (step_body), or skipped if the
		 * body is all in before the stream took any of it. */
		if (expect && c->inlen == 0)
			c->cont_left = CONTINUE_LEN;
		loop_timer_start(s->l, &c->timer, s->send_ms);
		return RUN_AGAIN;
	}
	start_write(c);
	return RUN_AGAIN;
}

static int step_read(struct http_conn *c, int *budget)
{
	struct http_server *s = c->srv;
	if (c->inlen) {
		int st = http_parse(&c->req, c->in, c->inlen);
		if (st == HTTP_PARSE_DONE)
			return handle_request(c);
		if (st != HTTP_PARSE_MORE) {
			c->lversion = 0;
			http_req_init(&c->req);
			c->inlen = 0;
			return send_answer(c, http_respond_error(c, &s->cfg, st, false));
		}
	}
	bool first = c->inlen == 0;
	int r = recv_in(c, budget);
	if (r == RUN_AGAIN && first) /* the first byte of a head: its deadline starts */
		loop_timer_start(s->l, &c->timer, s->header_ms);
	return r;
}

static int response_done(struct http_conn *c)
{
	struct http_server *s = c->srv;
	log_access(c);
	if (c->filefd >= 0) {
		close(c->filefd);
		c->filefd = -1;
	}
	c->filepos = 0;
	http_cache_unref(c->held);
	c->held = NULL;
	free(c->fbuf);
	c->fbuf = NULL;
	c->fb_at = c->fb_len = 0;
	c->nseg = c->cur = 0;
	c->cur_done = 0;
	if (c->out.cap > 65536) {
		free(c->out.p);
		c->out = (struct http_obuf){0};
	}
	if (c->close_after) {
		/* Shut our side and drain theirs briefly (step_drain): closing
		 * with unread bytes would reset the connection and could
		 * destroy the answer before the client reads it. */
		c->state = HC_CLOSING;
		c->inlen = 0;
		loop_timer_start(s->l, &c->timer, HTTP_LINGER_MS);
		return RUN_AGAIN;
	}
	if (c->body_left) {
		c->state = HC_DISCARD;
		loop_timer_start(s->l, &c->timer, s->send_ms);
		return RUN_AGAIN;
	}
	begin_request_wait(c);
	/* Nothing of a next request here yet: a client that waits for each
	 * answer (most do) has not sent one, so a read now would only say
	 * EAGAIN, one system call an answer for nothing. Wait for the stream
	 * to say (it does at once for bytes it holds, as TLS may). */
	return c->inlen ? RUN_AGAIN : RUN_BLOCK;
}

/* The copy path: the next bytes of file piece g (done of it sent) into
 * c->fbuf, if it holds none. false when the file cannot give them: it
 * shrank under us (errno 0; the length we announced is a lie now) or
 * failed. */
static bool fill_fbuf(struct http_conn *c, const struct http_seg *g, uint64_t done)
{
	if (c->fb_at < c->fb_len)
		return true;
	if (!c->fbuf && !(c->fbuf = malloc(FBUF_CAP)))
		return false;
	uint64_t left = g->len - done;
	size_t want = left < FBUF_CAP ? (size_t)left : FBUF_CAP;
	ssize_t n;
	do
		/* not a stream: the served file */
		n = pread(c->filefd, c->fbuf, want, (off_t)(g->off + done));
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n == 0)
			errno = 0;
		return false;
	}
	c->fb_at = 0;
	c->fb_len = (size_t)n;
	return true;
}

/* Where a memory piece's bytes are. */
static char *seg_mem(const struct http_conn *c, const struct http_seg *g)
{
	return (g->kind == HTTP_SEG_CACHED ? c->held->body : c->out.p) + g->off;
}

/* Writes the next part of the response: a file piece by the stream's
 * sendfile on the zero-copy path; else the pieces from c->cur on in one
 * writev, file bytes read into c->fbuf (so a head and a small file are
 * one write: one segment, and one record on a TLS stream). Memory pieces
 * before a sendfile go with "more to come", so the head leaves with the
 * start of the body rather than in a small segment of its own. Returns
 * what the stream returned; 0 with errno 0 when the file shrank. */
static ssize_t send_some(struct http_conn *c)
{
	struct http_seg *g = &c->segs[c->cur];
	if (g->kind == HTTP_SEG_FILE && c->zero_copy) {
		uint64_t at = g->off + c->cur_done, left = g->len - c->cur_done;
		/* The stream's sendfile reads at the file's offset. */
		if (c->filepos != at) {
			if (lseek(c->filefd, (off_t)at, SEEK_SET) < 0)
				return -1;
			c->filepos = at;
		}
		ssize_t n = c->s->ops->sendfile(c->s, c->filefd,
						left > SENDFILE_MAX ? SENDFILE_MAX : (size_t)left);
		if (n > 0) {
			c->filepos += (uint64_t)n;
			c->srv->bytes_zero_copy += (uint64_t)n;
		} else if (n == 0) {
			errno = 0;
		} else if (errno == EINVAL || errno == ENOSYS) {
			/* A file system sendfile cannot read: copy from now on. */
			c->zero_copy = false;
			errno = EINTR;
		}
		return n;
	}
	struct iovec iov[HTTP_MAX_SEGS];
	int k = 0;
	size_t i;
	for (i = c->cur; i < c->nseg; i++) {
		const struct http_seg *p = &c->segs[i];
		uint64_t done = i == c->cur ? c->cur_done : 0;
		if (p->kind != HTTP_SEG_FILE) {
			iov[k++] = (struct iovec){seg_mem(c, p) + done, (size_t)(p->len - done)};
			continue;
		}
		if (c->zero_copy)
			break; /* sendfile's turn next */
		if (!fill_fbuf(c, p, done)) {
			if (k) /* what comes before still goes */
				break;
			return errno ? -1 : 0;
		}
		size_t have = c->fb_len - c->fb_at;
		iov[k++] = (struct iovec){c->fbuf + c->fb_at, have};
		/* One buffer: a later file piece waits for this one to go. */
		if (have < p->len - done)
			break;
		for (i++; i < c->nseg && c->segs[i].kind != HTTP_SEG_FILE; i++)
			iov[k++] = (struct iovec){seg_mem(c, &c->segs[i]), (size_t)c->segs[i].len};
		break;
	}
	return i < c->nseg ? stream_writev_more(c->s, iov, k) : stream_writev(c->s, iov, k);
}

/* n bytes of the response went out. */
static void advance(struct http_conn *c, uint64_t n)
{
	c->sent += n;
	while (n && c->cur < c->nseg) {
		const struct http_seg *g = &c->segs[c->cur];
		uint64_t left = g->len - c->cur_done, k = n < left ? n : left;
		if (g->kind == HTTP_SEG_FILE && c->fb_at < c->fb_len) {
			c->fb_at += (size_t)k;
			c->srv->bytes_copied += k;
		}
		c->cur_done += k;
		n -= k;
		if (c->cur_done == g->len) {
			c->cur++;
			c->cur_done = 0;
		}
	}
}

static int step_write(struct http_conn *c)
{
	bool progress = false;
	for (;;) {
		ssize_t n;
		if (c->cont_left) {
			/* The rest of a 100 Continue started before the body
			 * was all in: the answer must not cut into it. */
			n = stream_write(c->s, CONTINUE + CONTINUE_LEN - c->cont_left,
					 c->cont_left);
			if (n > 0)
				c->cont_left -= (size_t)n;
		} else if (c->cur < c->nseg) {
			n = send_some(c);
			if (n > 0)
				advance(c, (uint64_t)n);
		} else {
			break;
		}
		if (n > 0) {
			progress = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && again()) {
			if (progress)
				loop_timer_start(c->srv->l, &c->timer, c->srv->send_ms);
			return RUN_BLOCK;
		}
		http_conn_close(c);
		return RUN_CLOSED;
	}
	return response_done(c);
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		/* not a stream: the upload's temporary file */
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads (and stores or drops) a request body. */
static int step_body(struct http_conn *c, int *budget)
{
	struct http_server *s = c->srv;
	if (c->cont_left) {
		ssize_t n =
		    stream_write(c->s, CONTINUE + CONTINUE_LEN - c->cont_left, c->cont_left);
		if (n > 0) {
			c->cont_left -= (size_t)n;
		} else if (n < 0 && !again()) {
			http_conn_close(c);
			return RUN_CLOSED;
		}
	}
	size_t take = c->inlen < c->body_left ? c->inlen : (size_t)c->body_left;
	if (take) {
		if (c->state == HC_UPLOAD && !write_all(c->upfd, c->in, take)) {
			int st = errno == ENOSPC ? 413 : 500;
			http_upload_abort(c);
			c->close_after = true;
			if (c->cont_left == CONTINUE_LEN)
				c->cont_left = 0;
			return send_answer(c, http_respond_status(c, &s->cfg, st));
		}
		consume_in(c, take);
		c->body_left -= take;
		loop_timer_start(s->l, &c->timer, s->send_ms);
	}
	if (c->body_left == 0) {
		if (c->state == HC_DISCARD) {
			begin_request_wait(c);
			return RUN_AGAIN;
		}
		/* A 100 Continue not begun is not needed any more. */
		if (c->cont_left == CONTINUE_LEN)
			c->cont_left = 0;
		int st = http_upload_finish(c, &s->cfg);
		return send_answer(c, http_respond_status(c, &s->cfg, st));
	}
	return recv_in(c, budget);
}

/* HC_CLOSING: our write side shut, their bytes read and dropped until
 * they close (or the linger deadline). */
static int step_drain(struct http_conn *c, int *budget)
{
	if (!c->shut) {
		if (stream_shutdown_write(c->s) == 0)
			c->shut = true;
		else if (!again()) {
			http_conn_close(c);
			return RUN_CLOSED;
		}
	}
	if ((*budget)-- <= 0)
		return RUN_BLOCK;
	char tmp[4096];
	ssize_t n = stream_read(c->s, tmp, sizeof tmp);
	if (n < 0 && again())
		return RUN_BLOCK;
	if (n <= 0) {
		http_conn_close(c);
		return RUN_CLOSED;
	}
	return RUN_AGAIN;
}

/* What the connection waits for in its state. */
static int conn_want(const struct http_conn *c)
{
	switch (c->state) {
	case HC_WRITE:
		return STREAM_WRITE;
	case HC_UPLOAD:
		return STREAM_READ | (c->cont_left ? STREAM_WRITE : 0);
	case HC_CLOSING:
		return STREAM_READ | (c->shut ? 0 : STREAM_WRITE);
	default:
		return STREAM_READ;
	}
}

/* Drives one connection until it would block. Iterative, so a buffer
 * full of pipelined requests never deepens the stack. */
static void conn_run(struct http_conn *c)
{
	int budget = RUN_RECV_BUDGET, r;
	do {
		switch (c->state) {
		case HC_READ:
			r = step_read(c, &budget);
			break;
		case HC_WRITE:
			r = step_write(c);
			break;
		case HC_DISCARD:
		case HC_UPLOAD:
			r = step_body(c, &budget);
			break;
		default:
			r = step_drain(c, &budget);
			break;
		}
	} while (r == RUN_AGAIN);
	if (r == RUN_BLOCK && stream_want(c->s, conn_want(c)) < 0) {
		log_info("%s: %s, closing", c->peer, strerror(errno));
		http_conn_close(c);
	}
}

static void on_conn_io(struct stream *st, int ready, void *arg)
{
	(void)st;
	(void)ready;
	conn_run(arg);
}

static void on_conn_timer(struct loop *l, void *arg)
{
	(void)l;
	struct http_conn *c = arg;
	if (c->state == HC_READ && c->inlen)
		log_info("%s: request head not complete in time, closing", c->peer);
	http_conn_close(c);
}

/* No Nagle delay on a plain socket stream (a TLS stream's fd is set
 * before its handshake: see on_accepted). */
static void nodelay(struct stream *st)
{
	int fd = stream_raw_fd(st), one = 1;
	if (fd >= 0 && stream_has(st, STREAM_F_SOCKET))
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int http_server_adopt(struct http_server *s, struct stream *st, const char *peer)
{
	struct http_conn *c = calloc(1, sizeof *c);
	char *in = c ? malloc(HTTP_CONN_IN_CAP) : NULL;
	if (!in) {
		free(c);
		stream_close(st);
		errno = ENOMEM;
		return -1;
	}
	c->in = in;
	c->srv = s;
	c->s = st;
	c->filefd = c->updir = c->upfd = -1;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	stream_set_cb(st, on_conn_io, c);
	if (stream_want(st, STREAM_READ) < 0) {
		/* select cannot watch fds this large: refuse cleanly */
		int e = errno;
		log_info("refusing %s: %s", c->peer,
			 e == ERANGE ? "descriptor too large for the select backend" : strerror(e));
		stream_close(st);
		free(in);
		free(c);
		errno = e;
		return -1;
	}
	/* sendfile only where the stream has it (never on TLS): the copy
	 * path reads the file and writes through the stream otherwise. */
	c->zero_copy = stream_has(st, STREAM_F_SENDFILE) && st->ops->sendfile;
	tls_peer_subject(st, c->lsubject, sizeof c->lsubject);
	nodelay(st);
	timer_init(&c->timer, on_conn_timer, c);
	/* a new connection has until the head deadline to send one */
	loop_timer_start(s->l, &c->timer, s->header_ms);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	maybe_pause(s);
	return 0;
}

static void serve_accepted(void *arg, struct stream *st, const struct sock_addr *peer)
{
	char host[64], port[16];
	sock_addr_parts((const struct sockaddr *)&peer->ss, peer->len, host, sizeof host, port,
			sizeof port);
	/* A connection refused here (beyond select's reach) after its
	 * handshake counted against the limit must not leave it paused. */
	if (http_server_adopt(arg, st, host) < 0)
		maybe_resume(arg);
}

static void on_handshake_failed(void *arg, enum tls_err kind, const char *errtext)
{
	(void)kind;
	log_info("%s", errtext);
	maybe_resume(arg);
}

static void on_accepted(void *arg, struct stream *st, const struct sock_addr *peer)
{
	struct http_server *s = arg;
	if (!s->tls) {
		serve_accepted(s, st, peer);
		return;
	}
	/* The TLS stream hides its fd: TCP_NODELAY goes on now. Without
	 * it the handshake's last flight and the session tickets after it
	 * wait on the client's delayed ACK (~40 ms a connection). */
	nodelay(st);
	if (tls_accepts_start(&s->hs, st, peer))
		maybe_pause(s);
}

static void on_accept_warn(void *arg, const char *text)
{
	(void)arg;
	log_info("%s", text);
}

int http_server_start(struct http_server *s, struct loop *l)
{
	s->l = l;
	sb_init(&s->logline);
	tls_accepts_init(&s->hs, l, s->tls, s->handshake_ms, serve_accepted, s);
	s->hs.failed = on_handshake_failed;
	if (s->lfd < 0)
		return 0;
	struct acceptor_cfg ac = {
	    .lfd = s->lfd, .accepted = on_accepted, .warn = on_accept_warn, .arg = s};
	s->acc = acceptor_new(l, &ac);
	return s->acc ? 0 : -1;
}

void http_server_stop(struct http_server *s)
{
	acceptor_free(s->acc);
	s->acc = NULL;
	s->paused = false;
	tls_accepts_cancel(&s->hs);
	while (s->conns)
		http_conn_close(s->conns);
	sb_free(&s->logline);
}
