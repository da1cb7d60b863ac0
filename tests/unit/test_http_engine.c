/* The http serve engine over streams: one connection over a plain socket
 * stream (file bodies by sendfile) and over the fake TLS-like stream of
 * fake_stream.h (no sendfile: the file is read and written, and writes
 * wait for READ), on every mux backend. The client pipelines requests
 * while a big body is still being written, and every answer is checked
 * byte for byte: a whole file, a range, several ranges, a HEAD, and an
 * upload behind a 100 Continue; and small files from the cache, each
 * answer one write on the socket stream. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_stream.h"
#include "core/loop.h"
#include "http/http_cache.h"
#include "http/http_mime.h"
#include "http/http_serve.h"
#include "net/stream.h"
#include "tap.h"

#define FSIZE 300000 /* the big file: more than a socket buffer holds */

static const char *B;
static bool sock_counted_on; /* the socket stream's writes are counted */
static char dir[64];
static unsigned char file[FSIZE];

/* ---- the fake stream, counted past its close (the server closes it) ---- */

static struct fake last_fake;
static struct stream_ops counted_ops;

static void counted_close(struct stream *s)
{
	last_fake = *(struct fake *)s->priv;
	fake_close(s);
}

/* ---- the socket stream, its writes counted ---- */

static const struct stream_ops *sock_ops;
static struct stream_ops sock_counted;
static unsigned sock_writes;

static ssize_t counted_writev(struct stream *st, const struct iovec *iov, int n)
{
	sock_writes++;
	return sock_ops->writev(st, iov, n);
}

static unsigned sock_eagain; /* reads that found nothing */

static ssize_t counted_read(struct stream *st, void *p, size_t n)
{
	ssize_t r = sock_ops->read(st, p, n);
	if (r < 0 && errno == EAGAIN)
		sock_eagain++;
	return r;
}

static ssize_t counted_write(struct stream *st, const void *p, size_t n)
{
	sock_writes++;
	return sock_ops->write(st, p, n);
}

/* ---- the client: a script of sends, each after the bytes it waits for ---- */

struct step {
	const char *send;
	size_t len;
	const char *until; /* then wait for this in what came back; NULL: the end */
};

struct client {
	int fd; /* blocking */
	bool tokens;
	const struct step *steps;
	unsigned char *got;
	size_t n, cap;
};

static bool has(const struct client *c, const char *s)
{
	return memmem(c->got, c->n, s, strlen(s)) != NULL;
}

static void *run_client(void *arg)
{
	struct client *c = arg;
	unsigned char tok = FAKE_TOKEN;
	const struct step *st = c->steps;
	bool sent = false;
	for (;;) {
		if (!sent) {
			if (send(c->fd, st->send, st->len, MSG_NOSIGNAL) != (ssize_t)st->len)
				break;
			sent = true;
		}
		if (st->until && has(c, st->until)) {
			st++;
			sent = false;
			continue;
		}
		/* For the fake stream: a token after everything that came,
		 * and one each millisecond, so a waiting write is let go soon
		 * but never at once. */
		struct pollfd p = {c->fd, POLLIN, 0};
		if (poll(&p, 1, 1) == 0) {
			if (c->tokens)
				send(c->fd, &tok, 1, MSG_NOSIGNAL);
			continue;
		}
		ssize_t r = recv(c->fd, c->got + c->n, c->cap - c->n, 0);
		if (r <= 0)
			break;
		c->n += (size_t)r;
		if (c->tokens)
			send(c->fd, &tok, 1, MSG_NOSIGNAL);
	}
	close(c->fd);
	return NULL;
}

/* ---- reading the answers back ---- */

struct answer {
	int status;
	char ctype[128];
	const unsigned char *body;
	size_t len;
};

/* The next answer at *pos (no body for a HEAD). false if malformed. */
static bool next_answer(const struct client *c, size_t *pos, bool head, struct answer *a)
{
	const char *p = (const char *)c->got + *pos;
	size_t left = c->n - *pos;
	const char *end = memmem(p, left, "\r\n\r\n", 4);
	if (!end || sscanf(p, "HTTP/1.1 %d ", &a->status) != 1)
		return false;
	size_t hl = (size_t)(end - p) + 4;
	char h[4096];
	snprintf(h, sizeof h, "%.*s", (int)hl, p);
	const char *cl = strstr(h, "\r\nContent-Length: ");
	const char *ct = strstr(h, "\r\nContent-Type: ");
	a->ctype[0] = '\0';
	if (ct)
		sscanf(ct + 16, "%127[^\r]", a->ctype);
	a->len = cl && !head ? strtoul(cl + 18, NULL, 10) : 0;
	if (hl + a->len > left)
		return false;
	a->body = (const unsigned char *)p + hl;
	*pos += hl + a->len;
	return true;
}

/* Ends the loop once the server has no connection left (or at the
 * deadline: then the test fails). */
struct watch {
	struct http_server *s;
	struct timer t;
	int64_t deadline;
	bool late;
};

static void on_watch(struct loop *l, void *arg)
{
	struct watch *w = arg;
	if (w->s->nconns == 0 || loop_now(l) > w->deadline) {
		w->late = w->s->nconns != 0;
		loop_stop(l);
		return;
	}
	loop_timer_start(l, &w->t, 5);
}

/* Serves one connection whose far end runs steps; fills c->got. */
static bool serve_one(struct http_server *s, bool fake, const struct step *steps, struct client *c)
{
	char err[128];
	struct loop *l = loop_new(B, 64, err, sizeof err);
	int sv[2];
	if (!l || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0) {
		printf("# %s: %s\n", B, l ? strerror(errno) : err);
		return false;
	}
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) & ~O_NONBLOCK);
	/* A small send buffer: the big body fills it many times, and the
	 * server must wait for WRITE while the client, sending nothing,
	 * drains it. */
	int small = 8192;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	*c = (struct client){.fd = sv[1], .tokens = fake, .steps = steps, .cap = 2 * FSIZE};
	c->got = malloc(c->cap);
	struct stream *st = fake ? fake_new(l, sv[0]) : stream_fd_new(l, sv[0], STREAM_F_OWN);
	if (fake)
		st->ops = &counted_ops;
	if (!fake && sock_counted_on) {
		sock_ops = st->ops;
		sock_counted = *st->ops;
		sock_counted.writev = counted_writev;
		sock_counted.write = counted_write;
		sock_counted.read = counted_read;
		st->ops = &sock_counted;
	}
	memset(&last_fake, 0, sizeof last_fake);
	s->bytes_zero_copy = s->bytes_copied = 0;
	http_server_start(s, l);
	bool adopted = http_server_adopt(s, st, "peer") == 0;
	pthread_t t;
	pthread_create(&t, NULL, run_client, c);
	struct watch w = {.s = s, .deadline = loop_now(l) + 20000};
	timer_init(&w.t, on_watch, &w);
	loop_timer_start(l, &w.t, 5);
	loop_run(l);
	loop_timer_stop(l, &w.t);
	http_server_stop(s);
	pthread_join(t, NULL);
	loop_free(l);
	return adopted && !w.late;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)((seed >> 16) % 255);
	}
}

static const char REQS[] =
    "GET /f.tst HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-1999\r\n\r\n"
    "GET /f.tst HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9,250000-250099\r\n\r\n"
    "HEAD /s.txt HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET /s.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

/* The multipart body http serve makes for ranges r of the big file. */
static size_t multipart(char *out, const char *boundary, const size_t (*r)[2], int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		len += (size_t)sprintf(
		    out + len,
		    "\r\n--%s\r\nContent-Type: application/x-test\r\nContent-Range: "
		    "bytes %zu-%zu/%d\r\n\r\n",
		    boundary, r[i][0], r[i][1], FSIZE);
		memcpy(out + len, file + r[i][0], r[i][1] - r[i][0] + 1);
		len += r[i][1] - r[i][0] + 1;
	}
	return len + (size_t)sprintf(out + len, "\r\n--%s--\r\n", boundary);
}

static void t_get(struct http_server *s, bool fake)
{
	const char *kind = fake ? "fake TLS stream" : "socket stream";
	/* The pipelined requests go when the first answer has begun, so
	 * they arrive while its body is being written. */
	static const char first[] = "GET /f.tst HTTP/1.1\r\nHost: x\r\n\r\n";
	const struct step steps[] = {
	    {first, sizeof first - 1, "\r\n\r\n"},
	    {REQS, sizeof REQS - 1, NULL},
	};
	struct client c;
	bool ran = serve_one(s, fake, steps, &c);
	ok(ran, "%s: %s: GET and pipelined requests end with the connection", B, kind);
	size_t pos = 0;
	struct answer a[5];
	int n = 0;
	bool head[] = {false, false, false, true, false};
	while (n < 5 && next_answer(&c, &pos, head[n], &a[n]))
		n++;
	ok(n == 5 && pos == c.n, "%s: %s: five answers, nothing more (%d, %zu/%zu bytes)", B, kind,
	   n, pos, c.n);
	if (n == 5) {
		ok(a[0].status == 200 && a[0].len == FSIZE && memcmp(a[0].body, file, FSIZE) == 0 &&
		       strcmp(a[0].ctype, "application/x-test") == 0,
		   "%s: %s: the whole file, byte for byte", B, kind);
		ok(a[1].status == 206 && a[1].len == 1000 &&
		       memcmp(a[1].body, file + 1000, 1000) == 0,
		   "%s: %s: a range", B, kind);
		char boundary[64] = "", want[512];
		sscanf(a[2].ctype, "multipart/byteranges; boundary=%63s", boundary);
		static const size_t r[2][2] = {{0, 9}, {250000, 250099}};
		size_t wl = multipart(want, boundary, r, 2);
		ok(a[2].status == 206 && *boundary && a[2].len == wl &&
		       memcmp(a[2].body, want, wl) == 0,
		   "%s: %s: two ranges, multipart", B, kind);
		ok(a[3].status == 200 && a[4].status == 200 && a[4].len == 6 &&
		       memcmp(a[4].body, "hello\n", 6) == 0,
		   "%s: %s: HEAD, then a GET that closes", B, kind);
	}
	uint64_t bodies = FSIZE + 1000 + 10 + 100 + 6;
	if (fake) {
		ok(s->bytes_copied == bodies && s->bytes_zero_copy == 0,
		   "%s: %s: no sendfile, the file read and written (%llu bytes)", B, kind,
		   (unsigned long long)s->bytes_copied);
		ok(last_fake.waits > 0 && last_fake.handed > 0,
		   "%s: %s: writes waited for READ %u times, %u reads from held bytes", B, kind,
		   last_fake.waits, last_fake.handed);
		/* A write retried with nothing read since is a wasted wakeup:
		 * the engine must wait for the READ its stream asked for. */
		ok(last_fake.spins <= last_fake.waits, "%s: %s: %u wasted retries", B, kind,
		   last_fake.spins);
	} else {
		ok(s->bytes_zero_copy == bodies && s->bytes_copied == 0,
		   "%s: %s: file bodies by sendfile (%llu bytes)", B, kind,
		   (unsigned long long)s->bytes_zero_copy);
	}
	free(c.got);
}

static void t_upload(struct http_server *s, bool fake)
{
	const char *kind = fake ? "fake TLS stream" : "socket stream";
	static char body[5000];
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (char)('a' + i % 26);
	static const char put[] = "PUT /up.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
				  "Expect: 100-continue\r\nConnection: close\r\n\r\n";
	const struct step steps[] = {
	    {put, sizeof put - 1, "HTTP/1.1 100 Continue\r\n\r\n"},
	    {body, sizeof body, NULL},
	};
	char path[128];
	snprintf(path, sizeof path, "%s/up.txt", dir);
	unlink(path);
	struct client c;
	bool ran = serve_one(s, fake, steps, &c);
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n";
	ok(ran && c.n > sizeof cont && memcmp(c.got, cont, sizeof cont - 1) == 0,
	   "%s: %s: PUT: 100 Continue, then 201", B, kind);
	char got[sizeof body + 1];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, got, sizeof got) : -1;
	if (fd >= 0)
		close(fd);
	ok(n == (ssize_t)sizeof body && memcmp(got, body, sizeof body) == 0,
	   "%s: %s: the uploaded file, byte for byte", B, kind);
	free(c.got);
}

/* Four requests on one connection with a cache: each answer a 200 with
 * body (none for a HEAD), the cache's counters left in *cache. */
static bool cached_four(struct http_server *s, bool fake, const char *reqs, const bool *head,
			const char *body, struct http_cache *cache)
{
	http_cache_init(cache, 1 << 20, 64 << 10);
	s->cfg.cache = cache;
	const struct step steps[] = {{reqs, strlen(reqs), NULL}};
	struct client c;
	sock_writes = 0;
	sock_counted_on = !fake;
	bool ran = serve_one(s, fake, steps, &c);
	sock_counted_on = false;
	size_t pos = 0, blen = strlen(body);
	struct answer a[4];
	int n = 0;
	while (n < 4 && next_answer(&c, &pos, head[n], &a[n]))
		n++;
	bool bodies = n == 4;
	for (int i = 0; bodies && i < 4; i++)
		bodies = a[i].status == 200 &&
			 (head[i] || (a[i].len == blen && memcmp(a[i].body, body, blen) == 0));
	free(c.got);
	s->cfg.cache = NULL;
	return ran && bodies && pos == c.n;
}

static void t_cached(struct http_server *s, bool fake)
{
	const char *kind = fake ? "fake TLS stream" : "socket stream";
	static struct http_cache cache;
	static const char reqs[] = "GET /s.txt HTTP/1.1\r\nHost: x\r\n\r\n"
				   "GET /s.txt HTTP/1.1\r\nHost: x\r\n\r\n"
				   "HEAD /s.txt HTTP/1.1\r\nHost: x\r\n\r\n"
				   "GET /s.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	static const bool head[] = {false, false, true, false};
	ok(cached_four(s, fake, reqs, head, "hello\n", &cache),
	   "%s: %s: cached: four answers, byte for byte", B, kind);
	ok(cache.n == 1 && cache.hits == 3, "%s: %s: one entry, three hits (%zu, %llu)", B, kind,
	   cache.n, (unsigned long long)cache.hits);
	if (!fake)
		ok(sock_writes == 4, "%s: %s: one write per answer (%u)", B, kind, sock_writes);
	http_cache_free(&cache);
}

/* A directory's index.html, asked for by the directory's URL, is a small
 * file like any other: answered from the cache once it is there. */
static void t_cached_index(struct http_server *s, bool fake)
{
	const char *kind = fake ? "fake TLS stream" : "socket stream";
	static struct http_cache cache;
	static const char reqs[] = "GET /d/ HTTP/1.1\r\nHost: x\r\n\r\n"
				   "GET /d/ HTTP/1.1\r\nHost: x\r\n\r\n"
				   "GET /d/index.html HTTP/1.1\r\nHost: x\r\n\r\n"
				   "GET /d/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	static const bool head[4] = {false};
	ok(cached_four(s, fake, reqs, head, "index!\n", &cache),
	   "%s: %s: index: four answers, byte for byte", B, kind);
	ok(cache.n == 1 && cache.hits == 3 && cache.misses <= 1,
	   "%s: %s: index: one entry, three hits (%zu, %llu hits, %llu misses)", B, kind, cache.n,
	   (unsigned long long)cache.hits, (unsigned long long)cache.misses);
	if (!fake)
		ok(sock_writes == 4, "%s: %s: index: one write per answer (%u)", B, kind,
		   sock_writes);
	http_cache_free(&cache);
}

/* A client that waits for each answer before its next request: after an
 * answer the server waits for the stream rather than read at once (which
 * could only say EAGAIN). */
static void t_no_idle_read(struct http_server *s)
{
	static const char req[] = "GET /s.txt HTTP/1.1\r\nHost: x\r\n\r\n";
	const struct step steps[] = {{req, sizeof req - 1, "hello\n"},
				     {req, sizeof req - 1, "hello\nHTTP/1.1 200 OK"},
				     {req, sizeof req - 1, NULL}};
	struct client c;
	sock_writes = sock_eagain = 0;
	sock_counted_on = true;
	s->idle_ms = 300; /* the client waits for the third answer's end: the idle close */
	bool ran = serve_one(s, false, steps, &c);
	s->idle_ms = 10000;
	sock_counted_on = false;
	size_t pos = 0;
	struct answer a;
	int n = 0;
	while (next_answer(&c, &pos, false, &a) && a.status == 200 && a.len == 6)
		n++;
	ok(ran && n == 3, "%s: socket stream: three answers one by one (%d)", B, n);
	ok(sock_eagain == 0, "%s: socket stream: no read that found nothing (%u)", B, sock_eagain);
	free(c.got);
}

static void put_file(const char *name, const void *p, size_t n)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fwrite(p, 1, n, f);
	fclose(f);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof dir, "/tmp/test_http_engine.XXXXXX");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	fill(file, FSIZE, 5);
	put_file("f.tst", file, FSIZE);
	put_file("s.txt", "hello\n", 6);
	char sub[160];
	snprintf(sub, sizeof sub, "%s/d", dir);
	mkdir(sub, 0700);
	put_file("d/index.html", "index!\n", 7);
	counted_ops = fake_ops;
	counted_ops.close = counted_close;
	static const char types[] = "application/x-test tst\n";
	struct http_server s = {
	    .cfg = {.rootfd = open(dir, O_RDONLY | O_DIRECTORY),
		    .listing = true,
		    .status = 200,
		    .upload = true,
		    .max_upload = 1 << 20,
		    .mime = http_mime_parse(types, sizeof types - 1)},
	    .lfd = -1,
	    .max_conns = 10,
	    .header_ms = 10000,
	    .idle_ms = 10000,
	    .send_ms = 10000,
	    .log_format = HTTP_LOG_NONE,
	};
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_get(&s, false);
		t_get(&s, true);
		t_upload(&s, false);
		t_upload(&s, true);
		t_cached(&s, false);
		t_cached(&s, true);
		t_cached_index(&s, false);
		t_cached_index(&s, true);
		t_no_idle_read(&s);
	}
	close(s.cfg.rootfd);
	http_mime_free(s.cfg.mime);
	char path[128];
	const char *names_left[] = {"f.tst", "s.txt", "up.txt", "d/index.html"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names_left[i]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/d", dir);
	rmdir(path);
	rmdir(dir);
	tap_done();
}
