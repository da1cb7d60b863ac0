/* sockctl http serve: a static file server on the shared loop.
 *
 * Each connection is an explicit state machine (struct conn in
 * http_serve.h): read a head, answer it, read or drop a body, and go back
 * for the next request, so pipelined requests are answered in order from
 * the bytes already buffered. Deadlines, not idle timers: the whole head
 * must arrive within --header-timeout of its first byte however slowly it
 * drips; an idle keep-alive connection gets --idle-timeout. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "http_escape.h"
#include "http_mime.h"
#include "http_serve.h"
#include "sock.h"
#include "workers.h"

enum { LOG_NONE, LOG_COMBINED, LOG_JSON };
#define DISCARD_MAX	(64 * 1024) /* a bigger unwanted body: close instead */
#define LINGER_MS	2000
#define RUN_RECV_BUDGET 16

struct server {
	struct loop *l;
	struct http_cfg cfg;
	int lfd;
	bool accepting;
	struct timer retry; /* accept paused on EMFILE */
	struct conn *conns;
	int nconns, max_conns;
	int header_ms, idle_ms, send_ms;
	int log_format;
	pid_t *children; /* owned: other workers, in the first process */
	int nchildren;
};

static const char help[] =
    "usage: sockctl http serve [options] [[ADDRESS] PORT]\n"
    "\n"
    "Serve a directory over HTTP/1.1 (GET, HEAD; PUT with --upload) on\n"
    "127.0.0.1:8000 unless an address and port are given. The access log goes\n"
    "to stdout.\n"
    "\n"
    "Options:\n"
    "  -d, --dir=DIR             directory to serve (default .)\n"
    "      --no-listing          answer 403 for directories without index.html\n"
    "      --dotfiles            serve and list names starting with '.'\n"
    "      --symlinks=MODE       inside (default: only links that stay under DIR),\n"
    "                            follow (any link), deny (no links at all)\n"
    "      --mime-types=FILE     MIME types file (default /etc/mime.types)\n"
    "      --header='NAME: VAL'  add a response header (repeatable)\n"
    "      --respond             answer every request with --status/--body\n"
    "      --status=CODE         status for --respond (default 200)\n"
    "      --body=TEXT|@FILE     body for --respond\n"
    "      --upload              accept PUT into DIR (atomic; no overwriting)\n"
    "      --overwrite           let --upload replace existing files\n"
    "      --max-upload=BYTES    largest PUT body (K, M, G suffixes; default 100M)\n"
    "      --log-format=FMT      combined (default), json or none\n"
    "      --header-timeout=SECS the whole request head must arrive within (10)\n"
    "      --idle-timeout=SECS   close idle keep-alive connections after (5)\n"
    "      --send-timeout=SECS   close when a response makes no progress for (30)\n"
    "      --max-conns=N         connections at once (default 1000)\n"
    "      --workers=N           N processes sharing the port (SO_REUSEPORT)\n"
    "\n"
    "Prints 'sockctl: listening on ADDR:PORT (tcp, mux=NAME)' and the URL on\n"
    "stderr when ready. Exit status: 0 after SIGINT/SIGTERM, 1 if it cannot\n"
    "listen or serve, 2 for usage errors.\n";

/* ---- connections ---- */

static void set_mask(struct conn *c, int mask)
{
	loop_io_mask(c->srv->l, c->fd, mask);
}

static void on_listen(struct loop *l, int fd, int mask, void *arg);

static void accept_resume(struct server *s)
{
	if (!s->accepting && s->nconns < s->max_conns &&
	    loop_io(s->l, s->lfd, MUX_READ, on_listen, s) == 0)
		s->accepting = true;
}

static void conn_close(struct conn *c)
{
	struct server *s = c->srv;
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

static void log_access(struct conn *c)
{
	struct server *s = c->srv;
	if (s->log_format == LOG_NONE)
		return;
	uint64_t head = c->nseg ? c->segs[0].len : 0;
	unsigned long long body = c->sent > head ? c->sent - head : 0;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char m[100], t[4200], r[1100], u[1100];
	if (s->log_format == LOG_JSON) {
		char ts[32];
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		http_escape_json(c->lmethod, strlen(c->lmethod), m, sizeof m);
		http_escape_json(c->ltarget, strlen(c->ltarget), t, sizeof t);
		http_escape_json(c->lref, strlen(c->lref), r, sizeof r);
		http_escape_json(c->lua, strlen(c->lua), u, sizeof u);
		printf("{\"time\":\"%s\",\"remote\":\"%s\",\"method\":\"%s\",\"target\":\"%s\","
		       "\"version\":\"%s\",\"status\":%d,\"bytes\":%llu,\"referer\":\"%s\","
		       "\"user_agent\":\"%s\"}\n",
		       ts, c->peer, m, t,
		       c->lversion == 10 ? "HTTP/1.0"
		       : c->lversion	 ? "HTTP/1.1"
					 : "",
		       c->status, body, r, u);
		return;
	}
	char ts[40];
	strftime(ts, sizeof ts, "%d/%b/%Y:%H:%M:%S +0000", &tm);
	http_escape_log(c->lmethod, strlen(c->lmethod), m, sizeof m);
	http_escape_log(c->ltarget, strlen(c->ltarget), t, sizeof t);
	http_escape_log(c->lref, strlen(c->lref), r, sizeof r);
	http_escape_log(c->lua, strlen(c->lua), u, sizeof u);
	if (c->lversion)
		printf("%s - - [%s] \"%s %s HTTP/1.%d\" %d %llu \"%s\" \"%s\"\n", c->peer, ts, m, t,
		       c->lversion == 10 ? 0 : 1, c->status, body, *r ? r : "-", *u ? u : "-");
	else
		printf("%s - - [%s] \"-\" %d %llu \"-\" \"-\"\n", c->peer, ts, c->status, body);
}

enum { RUN_AGAIN, RUN_BLOCK, RUN_CLOSED };

static void start_write(struct conn *c)
{
	c->state = C_WRITE;
	c->sent = 0;
	loop_timer_start(c->srv->l, &c->timer, c->srv->send_ms);
}

static void begin_request_wait(struct conn *c)
{
	struct server *s = c->srv;
	c->state = C_READ;
	set_mask(c, MUX_READ);
	/* Bytes of the next request already here: its head deadline runs
	 * from now. Otherwise the keep-alive idle time. */
	loop_timer_start(s->l, &c->timer, c->inlen ? s->header_ms : s->idle_ms);
}

static void consume_in(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
}

/* A parsed head: answer it. */
static int handle_request(struct conn *c)
{
	struct server *s = c->srv;
	struct http_req *r = &c->req;
	copy_field(c->lmethod, sizeof c->lmethod, r->method_str);
	copy_field(c->ltarget, sizeof c->ltarget, r->target);
	copy_field(c->lref, sizeof c->lref, r->referer);
	copy_field(c->lua, sizeof c->lua, r->user_agent);
	c->lversion = r->version;
	bool ok = http_respond(c, &s->cfg);
	uint64_t body = r->has_length ? r->content_length : 0;
	bool expect = r->expect_continue;
	consume_in(c, r->head_len);
	http_req_init(r);
	if (!ok) {
		conn_close(c);
		return RUN_CLOSED;
	}
	c->body_left = body;
	if (c->state == C_UPLOAD) {
		if (expect && c->inlen == 0)
			send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
		loop_timer_start(s->l, &c->timer, s->send_ms);
		return RUN_AGAIN;
	}
	/* An unwanted body: read and dropped after the answer, unless it is
	 * big (or the client waits for 100-continue): then close instead. */
	if (body > DISCARD_MAX || (body && expect)) {
		c->close_after = true;
		c->body_left = 0;
	}
	start_write(c);
	return RUN_AGAIN;
}

static int step_read(struct conn *c, int *budget)
{
	struct server *s = c->srv;
	if (c->inlen) {
		int st = http_parse(&c->req, c->in, c->inlen);
		if (st == HTTP_PARSE_DONE)
			return handle_request(c);
		if (st != HTTP_PARSE_MORE) {
			c->lversion = 0;
			http_req_init(&c->req);
			c->inlen = 0;
			if (!http_respond_error(c, &s->cfg, st, false)) {
				conn_close(c);
				return RUN_CLOSED;
			}
			start_write(c);
			return RUN_AGAIN;
		}
	}
	if ((*budget)-- <= 0)
		return RUN_BLOCK;
	ssize_t n = recv(c->fd, c->in + c->inlen, CONN_IN_CAP - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return RUN_BLOCK;
	if (n <= 0) {
		conn_close(c);
		return RUN_CLOSED;
	}
	if (c->inlen == 0) /* the first byte of a head: its deadline starts */
		loop_timer_start(s->l, &c->timer, s->header_ms);
	c->inlen += (size_t)n;
	return RUN_AGAIN;
}

static int response_done(struct conn *c)
{
	struct server *s = c->srv;
	log_access(c);
	if (c->filefd >= 0) {
		close(c->filefd);
		c->filefd = -1;
	}
	c->nseg = c->cur = 0;
	c->cur_done = 0;
	if (c->out.cap > 65536) {
		free(c->out.p);
		c->out = (struct obuf){0};
	}
	if (c->close_after) {
		/* Shut our side and drain theirs briefly: closing with unread
		 * bytes would reset the connection and could destroy the
		 * answer before the client reads it. */
		shutdown(c->fd, SHUT_WR);
		c->state = C_CLOSING;
		c->inlen = 0;
		set_mask(c, MUX_READ);
		loop_timer_start(s->l, &c->timer, LINGER_MS);
		return RUN_AGAIN;
	}
	if (c->body_left) {
		c->state = C_DISCARD;
		set_mask(c, MUX_READ);
		loop_timer_start(s->l, &c->timer, s->send_ms);
		return RUN_AGAIN;
	}
	begin_request_wait(c);
	return RUN_AGAIN;
}

static int step_write(struct conn *c)
{
	bool progress = false;
	while (c->cur < c->nseg) {
		struct seg *g = &c->segs[c->cur];
		uint64_t left = g->len - c->cur_done;
		ssize_t n;
		if (g->kind == SEG_MEM) {
			int fl = MSG_NOSIGNAL | (c->cur + 1 < c->nseg ? MSG_MORE : 0);
			n = send(c->fd, c->out.p + g->off + c->cur_done, left, fl);
		} else {
			off_t off = (off_t)(g->off + c->cur_done);
			n = sendfile(c->fd, c->filefd, &off, left > (1u << 21) ? (1u << 21) : left);
			if (n == 0) { /* the file shrank under us: the length is a lie now */
				conn_close(c);
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
			conn_close(c);
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
static int step_body(struct conn *c, int *budget)
{
	struct server *s = c->srv;
	size_t take = c->inlen < c->body_left ? c->inlen : (size_t)c->body_left;
	if (take) {
		if (c->state == C_UPLOAD && !write_all(c->upfd, c->in, take)) {
			http_upload_abort(c);
			c->close_after = true;
			if (!http_respond_status(c, &s->cfg, errno == ENOSPC ? 413 : 500)) {
				conn_close(c);
				return RUN_CLOSED;
			}
			start_write(c);
			return RUN_AGAIN;
		}
		consume_in(c, take);
		c->body_left -= take;
		loop_timer_start(s->l, &c->timer, s->send_ms);
	}
	if (c->body_left == 0) {
		if (c->state == C_DISCARD) {
			begin_request_wait(c);
			return RUN_AGAIN;
		}
		int st = http_upload_finish(c, &s->cfg);
		if (!http_respond_status(c, &s->cfg, st)) {
			conn_close(c);
			return RUN_CLOSED;
		}
		start_write(c);
		return RUN_AGAIN;
	}
	if ((*budget)-- <= 0)
		return RUN_BLOCK;
	ssize_t n = recv(c->fd, c->in + c->inlen, CONN_IN_CAP - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return RUN_BLOCK;
	if (n <= 0) {
		conn_close(c); /* aborts an unfinished upload */
		return RUN_CLOSED;
	}
	c->inlen += (size_t)n;
	return RUN_AGAIN;
}

static int step_drain(struct conn *c)
{
	char tmp[4096];
	ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return RUN_BLOCK;
	if (n <= 0) {
		conn_close(c);
		return RUN_CLOSED;
	}
	return RUN_AGAIN;
}

/* Drives one connection until it would block. Iterative, so a buffer
 * full of pipelined requests never deepens the stack. */
static void conn_run(struct conn *c)
{
	int budget = RUN_RECV_BUDGET, r;
	do {
		switch (c->state) {
		case C_READ:
			r = step_read(c, &budget);
			break;
		case C_WRITE:
			r = step_write(c);
			break;
		case C_DISCARD:
		case C_UPLOAD:
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
	struct conn *c = arg;
	if (c->state == C_READ && c->inlen)
		vmsg("%s: request head not complete in time, closing", c->peer);
	conn_close(c);
}

static void on_retry(struct loop *l, void *arg)
{
	(void)l;
	accept_resume(arg);
}

static void on_listen(struct loop *l, int lfd, int mask, void *arg)
{
	(void)mask;
	struct server *s = arg;
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
		struct conn *c = calloc(1, sizeof *c);
		char *in = c ? malloc(CONN_IN_CAP) : NULL;
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

static void on_stop(struct loop *l, int signo, void *arg)
{
	(void)signo;
	struct server *s = arg;
	for (int i = 0; i < s->nchildren; i++)
		kill(s->children[i], SIGTERM);
	loop_stop(l);
}

/* ---- options ---- */

static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	int shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (UINT64_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static bool add_header(struct http_cfg *cfg, const char *h)
{
	const char *colon = strchr(h, ':');
	if (!colon || colon == h)
		return false;
	for (const char *p = h; p < colon; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *p))
			return false;
	for (const char *p = colon + 1; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return false; /* no CR/LF: no header injection */
	const char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t need = (size_t)(colon - h) + strlen(v) + 5;
	char *n = realloc(cfg->extra, cfg->extra_len + need);
	if (!n)
		return false;
	cfg->extra = n;
	cfg->extra_len +=
	    (size_t)sprintf(n + cfg->extra_len, "%.*s: %s\r\n", (int)(colon - h), h, v);
	if ((size_t)(colon - h) == 12 && strncasecmp(h, "content-type", 12) == 0)
		cfg->has_ctype = true;
	return true;
}

static bool read_body_file(struct http_cfg *cfg, const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if (cap > (64u << 20)) {
				errno = EFBIG;
				break;
			}
			char *nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	bool ok = !ferror(f) && errno != EFBIG;
	fclose(f);
	if (!ok) {
		free(buf);
		return false;
	}
	cfg->body = buf;
	cfg->body_len = len;
	cfg->body_owned = true;
	return true;
}

enum {
	OPT_NO_LISTING = OPT_BASE,
	OPT_DOTFILES,
	OPT_SYMLINKS,
	OPT_MIME,
	OPT_HEADER,
	OPT_RESPOND,
	OPT_STATUS,
	OPT_BODY,
	OPT_UPLOAD,
	OPT_OVERWRITE,
	OPT_MAX_UPLOAD,
	OPT_LOG_FORMAT,
	OPT_HEADER_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_SEND_TIMEOUT,
	OPT_MAX_CONNS,
	OPT_WORKERS,
};

static void free_cfg(struct http_cfg *cfg)
{
	if (cfg->rootfd >= 0)
		close(cfg->rootfd);
	if (cfg->body_owned)
		free((char *)cfg->body);
	free(cfg->extra);
	http_mime_free(cfg->mime);
}

static int serve_loop(struct server *s, struct loop *l)
{
	s->l = l;
	timer_init(&s->retry, on_retry, s);
	if (loop_io(l, s->lfd, MUX_READ, on_listen, s) < 0) {
		errmsg("http serve: watch listener: %s", strerror(errno));
		return EXIT_FAIL;
	}
	s->accepting = true;
	loop_signal(l, SIGINT, on_stop, s);
	loop_signal(l, SIGTERM, on_stop, s);
	int rc = loop_run(l) < 0 ? EXIT_FAIL : EXIT_OK;
	if (rc)
		errmsg("http serve: event loop: %s", strerror(errno));
	while (s->conns)
		conn_close(s->conns);
	return rc;
}

int cmd_http_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"dir", required_argument, NULL, 'd'},
	    {"no-listing", no_argument, NULL, OPT_NO_LISTING},
	    {"dotfiles", no_argument, NULL, OPT_DOTFILES},
	    {"symlinks", required_argument, NULL, OPT_SYMLINKS},
	    {"mime-types", required_argument, NULL, OPT_MIME},
	    {"header", required_argument, NULL, OPT_HEADER},
	    {"respond", no_argument, NULL, OPT_RESPOND},
	    {"status", required_argument, NULL, OPT_STATUS},
	    {"body", required_argument, NULL, OPT_BODY},
	    {"upload", no_argument, NULL, OPT_UPLOAD},
	    {"overwrite", no_argument, NULL, OPT_OVERWRITE},
	    {"max-upload", required_argument, NULL, OPT_MAX_UPLOAD},
	    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	    {"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
	    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	    {"send-timeout", required_argument, NULL, OPT_SEND_TIMEOUT},
	    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
	    {"workers", required_argument, NULL, OPT_WORKERS},
	    {NULL, 0, NULL, 0},
	};
	struct server s = {.lfd = -1,
			   .header_ms = 10000,
			   .idle_ms = 5000,
			   .send_ms = 30000,
			   .max_conns = 1000,
			   .log_format = LOG_COMBINED};
	struct http_cfg *cfg = &s.cfg;
	*cfg = (struct http_cfg){
	    .rootfd = -1, .listing = true, .status = 200, .max_upload = 100u << 20};
	const char *dir = ".", *mime = NULL, *body = NULL;
	long workers = 1, v;
	int c, rc = EXIT_USAGE;
	while ((c = cmd_getopt(argc, argv, "d:" COMMON_SHORTOPTS, longopts)) != -1) {
		switch (c) {
		case 'h':
			free_cfg(cfg);
			return print_help(help);
		case 'd':
			dir = optarg;
			break;
		case OPT_NO_LISTING:
			cfg->listing = false;
			break;
		case OPT_DOTFILES:
			cfg->dotfiles = true;
			break;
		case OPT_SYMLINKS:
			if (!http_symlinks_parse(optarg, &cfg->symlinks)) {
				usage_error("--symlinks must be inside, follow or deny, not '%s'",
					    optarg);
				goto out;
			}
			break;
		case OPT_MIME:
			mime = optarg;
			break;
		case OPT_HEADER:
			if (!add_header(cfg, optarg)) {
				usage_error("bad --header '%s' (want 'Name: value')", optarg);
				goto out;
			}
			break;
		case OPT_RESPOND:
			cfg->respond = true;
			break;
		case OPT_STATUS:
			if (!parse_long(optarg, 200, 599, &v)) {
				usage_error("--status must be 200..599, not '%s'", optarg);
				goto out;
			}
			cfg->status = (int)v;
			break;
		case OPT_BODY:
			body = optarg;
			break;
		case OPT_UPLOAD:
			cfg->upload = true;
			break;
		case OPT_OVERWRITE:
			cfg->overwrite = true;
			break;
		case OPT_MAX_UPLOAD:
			if (!parse_size(optarg, &cfg->max_upload)) {
				usage_error("bad --max-upload '%s'", optarg);
				goto out;
			}
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "combined") == 0)
				s.log_format = LOG_COMBINED;
			else if (strcmp(optarg, "json") == 0)
				s.log_format = LOG_JSON;
			else if (strcmp(optarg, "none") == 0)
				s.log_format = LOG_NONE;
			else {
				usage_error("--log-format must be combined, json or none");
				goto out;
			}
			break;
		case OPT_HEADER_TIMEOUT:
		case OPT_IDLE_TIMEOUT:
		case OPT_SEND_TIMEOUT: {
			int ms;
			if (!parse_seconds(optarg, &ms) || ms <= 0) {
				usage_error("bad timeout '%s' (seconds, more than 0)", optarg);
				goto out;
			}
			*(c == OPT_HEADER_TIMEOUT ? &s.header_ms
			  : c == OPT_IDLE_TIMEOUT ? &s.idle_ms
						  : &s.send_ms) = ms;
			break;
		}
		case OPT_MAX_CONNS:
			if (!parse_long(optarg, 1, 1000000, &v)) {
				usage_error("--max-conns must be 1..1000000, not '%s'", optarg);
				goto out;
			}
			s.max_conns = (int)v;
			break;
		case OPT_WORKERS:
			if (!parse_long(optarg, 1, 256, &workers)) {
				usage_error("--workers must be 1..256, not '%s'", optarg);
				goto out;
			}
			break;
		default:
			goto out;
		}
	}
	if (body && !cfg->respond) {
		usage_error("--body needs --respond");
		goto out;
	}
	if (body && (cfg->status == 204 || cfg->status == 304)) {
		usage_error("--status %d carries no body", cfg->status);
		goto out;
	}
	if (cfg->respond && cfg->upload) {
		usage_error("--respond and --upload exclude each other");
		goto out;
	}
	int nargs = argc - optind;
	if (nargs > 2) {
		usage_error("too many arguments");
		goto out;
	}
	struct sock_endpoint ep = {.host = nargs == 2 ? argv[optind] : NULL,
				   .port = nargs ? argv[argc - 1] : "8000",
				   .family = g_opts.family,
				   .socktype = SOCK_STREAM,
				   .numeric = g_opts.numeric};
	char err[SOCK_ERRLEN];
	uint16_t port;
	if (!sock_parse_port(ep.port, SOCK_STREAM, true, &port, err, sizeof err)) {
		usage_error("%s", err);
		goto out;
	}
	if (mux_check() < 0)
		goto out;
	rc = EXIT_FAIL;
	if (body && body[0] == '@') {
		if (!read_body_file(cfg, body + 1)) {
			errmsg("http serve: --body %s: %s", body + 1, strerror(errno));
			goto out;
		}
	} else if (body) {
		cfg->body = body;
		cfg->body_len = strlen(body);
	}
	if (!cfg->respond) {
		cfg->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfg->rootfd < 0) {
			errmsg("http serve: %s: %s", dir, strerror(errno));
			goto out;
		}
		cfg->mime = http_mime_load(mime);
		if (!cfg->mime) {
			errmsg("http serve: mime types: %s", strerror(ENOMEM));
			goto out;
		}
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	struct sock_listen_opts lo = {.backlog = 1024, .reuseport = workers > 1};
	struct sock_addr bound;
	s.lfd = sock_listen(&ep, &lo, &bound, err, sizeof err);
	if (s.lfd < 0) {
		errmsg("http serve: %s", err);
		goto out;
	}
	/* More workers: each gets its own SO_REUSEPORT listener on the same
	 * address, so the kernel spreads connections between them. */
	int lfds[256];
	lfds[0] = s.lfd;
	for (int i = 1; i < workers; i++) {
		lfds[i] = workers_listen_again(&bound, lo.backlog, err, sizeof err);
		if (lfds[i] < 0) {
			errmsg("http serve: %s", err);
			for (int k = 1; k < i; k++)
				close(lfds[k]);
			goto out;
		}
	}
	if (s.log_format != LOG_NONE)
		setvbuf(stdout, NULL, _IOLBF, 0);
	char where[SOCK_ADDRSTRLEN];
	sock_addr_str((struct sockaddr *)&bound.ss, bound.len, where, sizeof where);
	/* The loop (and its backend) is made per process, after forking. */
	int me = 0;
	pid_t kids[256];
	if (workers > 1) {
		me = workers_fork((int)workers, kids, err, sizeof err);
		if (me < 0) {
			errmsg("http serve: %s", err);
			for (int k = 1; k < workers; k++)
				close(lfds[k]);
			goto out;
		}
		for (int k = 0; k < workers; k++)
			if (k != me)
				close(lfds[k]);
		s.lfd = lfds[me];
		if (me == 0) {
			s.children = kids;
			s.nchildren = (int)workers - 1;
		}
	}
	raise_fd_limit();
	struct loop *l = cmd_loop(s.max_conns + 64, &rc);
	if (!l)
		goto out;
	int limit = loop_fd_limit(l);
	if (limit > 0 && s.max_conns > (limit - 32) / 2) {
		/* what select can hold, with room for file descriptors */
		s.max_conns = (limit - 32) / 2;
		if (me == 0)
			vmsg("--max-conns lowered to %d for the %s backend", s.max_conns,
			     loop_backend(l));
	}
	if (me == 0) {
		errmsg("listening on %s (tcp, mux=%s)", where, loop_backend(l));
		if (!g_opts.quiet)
			errmsg("serving %s at http://%s/", cfg->respond ? "fixed responses" : dir,
			       where);
	}
	rc = serve_loop(&s, l);
	loop_free(l);
	if (me == 0 && s.nchildren)
		workers_reap(kids, s.nchildren);
out:
	if (s.lfd >= 0)
		close(s.lfd);
	free_cfg(cfg);
	return rc;
}
