/* http serve connections: each one an explicit state machine (struct
 * conn in http_serve.h): read a head, answer it, read or drop a body, and
 * go back for the next request, so pipelined requests are answered in
 * order from the bytes already buffered. Deadlines, not idle timers: the
 * whole head must arrive within the head deadline of its first byte
 * however slowly it drips; an idle keep-alive connection gets the idle
 * timeout. The access log goes to stdout, through a queue that never
 * blocks the loop (logs_start in cmd.h). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tool/cmd.h"
#include "core/sbuf.h"
#include "http/http_escape.h"
#include "http/http_serve.h"
#include "net/sock.h"

static void set_mask(struct http_conn *c, int mask)
{
	loop_io_mask(c->srv->l, c->fd, mask);
}

static void accept_resume(struct http_server *s)
{
	if (!s->accepting && s->nconns < s->max_conns &&
	    loop_io(s->l, s->lfd, MUX_READ, http_on_listen, s) == 0)
		s->accepting = true;
}

void http_conn_close(struct http_conn *c)
{
	struct http_server *s = c->srv;
	loop_io(s->l, c->fd, 0, NULL, NULL);
	loop_timer_stop(s->l, &c->timer);
	close(c->fd);
	if (c->filefd >= 0)
		close(c->filefd);
	http_upload_abort(c);
	free(c->in);
	free(c->out.p);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	s->nconns--;
	accept_resume(s);
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
	if (s->log_format == HTTP_LOG_NONE)
		return;
	uint64_t head = c->nseg ? c->segs[0].len : 0;
	unsigned long long body = c->sent > head ? c->sent - head : 0;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	if (s->log_format == HTTP_LOG_JSON) {
		char ts[32];
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		struct sbuf b;
		sb_init(&b);
		sb_printf(&b, "{\"time\":\"%s\",\"remote\":\"%s\",\"method\":", ts, c->peer);
		json_str(&b, c->lmethod);
		sb_puts(&b, ",\"target\":");
		json_str(&b, c->ltarget);
		sb_printf(&b, ",\"version\":\"%s\",\"status\":%d,\"bytes\":%llu,\"referer\":",
			  c->lversion == 10 ? "HTTP/1.0"
			  : c->lversion	    ? "HTTP/1.1"
					    : "",
			  c->status, body);
		json_str(&b, c->lref);
		sb_puts(&b, ",\"user_agent\":");
		json_str(&b, c->lua);
		sb_puts(&b, "}\n");
		if (!b.oom)
			log_printf("%s", sb_str(&b));
		sb_free(&b);
		return;
	}
	char ts[40], m[100], t[4200], r[1100], u[1100];
	strftime(ts, sizeof ts, "%d/%b/%Y:%H:%M:%S +0000", &tm);
	http_escape_log(c->lmethod, strlen(c->lmethod), m, sizeof m);
	http_escape_log(c->ltarget, strlen(c->ltarget), t, sizeof t);
	http_escape_log(c->lref, strlen(c->lref), r, sizeof r);
	http_escape_log(c->lua, strlen(c->lua), u, sizeof u);
	if (c->lversion)
		log_printf("%s - - [%s] \"%s %s HTTP/1.%d\" %d %llu \"%s\" \"%s\"\n", c->peer, ts,
			   m, t, c->lversion == 10 ? 0 : 1, c->status, body, *r ? r : "-",
			   *u ? u : "-");
	else
		log_printf("%s - - [%s] \"-\" %d %llu \"-\" \"-\"\n", c->peer, ts, c->status, body);
}

enum { RUN_AGAIN, RUN_BLOCK, RUN_CLOSED };

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
	ssize_t n = recv(c->fd, c->in + c->inlen, HTTP_CONN_IN_CAP - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
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
	set_mask(c, MUX_READ);
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
		if (expect && c->inlen == 0)
			send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
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
	c->nseg = c->cur = 0;
	c->cur_done = 0;
	if (c->out.cap > 65536) {
		free(c->out.p);
		c->out = (struct http_obuf){0};
	}
	if (c->close_after) {
		/* Shut our side and drain theirs briefly: closing with unread
		 * bytes would reset the connection and could destroy the
		 * answer before the client reads it. */
		shutdown(c->fd, SHUT_WR);
		c->state = HC_CLOSING;
		c->inlen = 0;
		set_mask(c, MUX_READ);
		loop_timer_start(s->l, &c->timer, HTTP_LINGER_MS);
		return RUN_AGAIN;
	}
	if (c->body_left) {
		c->state = HC_DISCARD;
		set_mask(c, MUX_READ);
		loop_timer_start(s->l, &c->timer, s->send_ms);
		return RUN_AGAIN;
	}
	begin_request_wait(c);
	return RUN_AGAIN;
}

static int step_write(struct http_conn *c)
{
	bool progress = false;
	while (c->cur < c->nseg) {
		struct http_seg *g = &c->segs[c->cur];
		uint64_t left = g->len - c->cur_done;
		ssize_t n;
		if (g->kind == HTTP_SEG_MEM) {
			int fl = MSG_NOSIGNAL | (c->cur + 1 < c->nseg ? MSG_MORE : 0);
			n = send(c->fd, c->out.p + g->off + c->cur_done, left, fl);
		} else {
			off_t off = (off_t)(g->off + c->cur_done);
			n = sendfile(c->fd, c->filefd, &off, left > (1u << 21) ? (1u << 21) : left);
			if (n == 0) { /* the file shrank under us: the length is a lie now */
				http_conn_close(c);
				return RUN_CLOSED;
			}
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_mask(c, MUX_WRITE);
				if (progress)
					loop_timer_start(c->srv->l, &c->timer, c->srv->send_ms);
				return RUN_BLOCK;
			}
			http_conn_close(c);
			return RUN_CLOSED;
		}
		progress = true;
		c->sent += (uint64_t)n;
		c->cur_done += (uint64_t)n;
		if (c->cur_done == g->len) {
			c->cur++;
			c->cur_done = 0;
		}
	}
	return response_done(c);
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
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
	size_t take = c->inlen < c->body_left ? c->inlen : (size_t)c->body_left;
	if (take) {
		if (c->state == HC_UPLOAD && !write_all(c->upfd, c->in, take)) {
			http_upload_abort(c);
			c->close_after = true;
			return send_answer(
			    c, http_respond_status(c, &s->cfg, errno == ENOSPC ? 413 : 500));
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
		int st = http_upload_finish(c, &s->cfg);
		return send_answer(c, http_respond_status(c, &s->cfg, st));
	}
	return recv_in(c, budget);
}

static int step_drain(struct http_conn *c)
{
	char tmp[4096];
	ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return RUN_BLOCK;
	if (n <= 0) {
		http_conn_close(c);
		return RUN_CLOSED;
	}
	return RUN_AGAIN;
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
			r = step_drain(c);
			if (r == RUN_AGAIN && budget-- <= 0)
				r = RUN_BLOCK;
			break;
		}
	} while (r == RUN_AGAIN);
}

static void on_conn_io(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	(void)fd;
	(void)mask;
	conn_run(arg);
}

static void on_conn_timer(struct loop *l, void *arg)
{
	(void)l;
	struct http_conn *c = arg;
	if (c->state == HC_READ && c->inlen)
		vmsg("%s: request head not complete in time, closing", c->peer);
	http_conn_close(c);
}

void http_on_retry(struct loop *l, void *arg)
{
	(void)l;
	accept_resume(arg);
}

void http_on_listen(struct loop *l, int lfd, int mask, void *arg)
{
	(void)mask;
	struct http_server *s = arg;
	for (int i = 0; i < 64; i++) {
		if (s->nconns >= s->max_conns) {
			loop_io(l, lfd, 0, NULL, NULL);
			s->accepting = false;
			return;
		}
		struct sock_addr peer;
		int fd = sock_accept(lfd, &peer);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Out of descriptors: pause instead of spinning. */
				vmsg("accept: %s (pausing)", strerror(errno));
				loop_io(l, lfd, 0, NULL, NULL);
				s->accepting = false;
				loop_timer_start(l, &s->retry, 200);
			}
			return;
		}
		struct http_conn *c = calloc(1, sizeof *c);
		char *in = c ? malloc(HTTP_CONN_IN_CAP) : NULL;
		if (!in) {
			free(c);
			close(fd);
			return;
		}
		c->in = in;
		c->srv = s;
		c->fd = fd;
		c->filefd = c->updir = c->upfd = -1;
		char port[16];
		sock_addr_parts((struct sockaddr *)&peer.ss, peer.len, c->peer, sizeof c->peer,
				port, sizeof port);
		if (loop_io(l, fd, MUX_READ, on_conn_io, c) < 0) {
			/* select cannot watch fds this large: refuse cleanly */
			vmsg("refusing %s: %s", c->peer,
			     errno == ERANGE ? "descriptor too large for the select backend"
					     : strerror(errno));
			close(fd);
			free(in);
			free(c);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		timer_init(&c->timer, on_conn_timer, c);
		/* a new connection has until the head deadline to send one */
		loop_timer_start(l, &c->timer, s->header_ms);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
	}
}
