/* sockctl http get: an HTTP/1.1 client for scripts. Fetches each URL in
 * turn on one event loop, reusing a kept-alive connection while the
 * origin stays the same; exit codes follow curl's where the meaning is
 * the same (see man/sockctl-http-get.1). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "tool/cmd.h"
#include "net/connector.h"
#include "net/stream.h"
#include "http/http_resp.h"
#include "http/http_url.h"
#include "core/loop.h"

/* Exit codes shared with curl. */
enum {
	GET_UNSUPPORTED = 1,
	GET_URL_MALFORMED = 3,
	GET_RESOLVE = 6,
	GET_CONNECT = 7,
	GET_BAD_REPLY = 8,
	GET_PARTIAL = 18,
	GET_HTTP_ERROR = 22,
	GET_WRITE = 23,
	GET_TIMEOUT = 28,
	GET_REDIRECTS = 47,
	GET_EMPTY = 52,
	GET_SEND = 55,
	GET_RECV = 56,
};

#define MAX_HEADERS  64
#define REQ_MAX	     (HTTP_URL_TARGETMAX + 56 * 1024)
#define READ_CHUNK   (64 * 1024)
#define DEFAULT_IDLE 60000

struct get {
	struct loop *l;
	/* Options. */
	char **urls;
	int nurls;
	bool head, include, follow, fail, timing, json;
	long max_redirs;
	const char *range;
	char ims[64]; /* If-Modified-Since value, "" if none */
	const char *hdr[MAX_HEADERS];
	int nhdr;
	int connect_ms, max_ms, idle_ms;
	int out_fd; /* body destination: 1 or -o FILE (owned then) */

	/* The URL being fetched. */
	int cur;
	struct http_url first; /* as given: decides which headers cross origins */
	struct http_url url;   /* after redirects */
	long redirects;
	int result;	  /* exit code for this URL */
	int last_failure; /* of any URL so far: the exit status */
	char errtext[512];
	bool discard; /* drop this response's body (redirect, --fail, --json) */

	/* The connection. */
	struct connector *cn;
	int fd;
	struct http_url conn_origin;
	bool reusable; /* fd may carry the next request to conn_origin */
	bool reused;   /* this request went on a kept-alive connection */
	bool got_bytes;
	struct buf req;
	struct http_resp *resp; /* owned */
	struct timer deadline, idle;
	char in[READ_CHUNK];

	/* Timings, microseconds from the URL's start. */
	int64_t t0, t_lookup, t_connect, t_first, t_total;
	int final_status;
};

static const char http_get_help[] =
    "usage: sockctl http get [options] URL...\n"
    "\n"
    "Fetches each URL with HTTP/1.1 and writes the body to stdout. Several URLs\n"
    "to one host share a kept-alive connection.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE          write bodies to FILE instead of stdout\n"
    "  -I, --head                 send HEAD and print the response headers\n"
    "  -i, --include              print the response headers before the body\n"
    "  -H, --header 'NAME: VALUE' add a request header ('NAME:' removes a default)\n"
    "  -L, --location             follow redirects\n"
    "      --max-redirs N         at most N redirects with -L (default 10)\n"
    "      --range RANGE          ask for byte ranges, e.g. 0-99 or -500 or 0-1,5-9\n"
    "      --if-modified-since DATE|FILE\n"
    "                             conditional request (HTTP date, or FILE's mtime)\n"
    "  -f, --fail                 exit 22 on HTTP status 400 or above, no body\n"
    "  -w, --timing               print lookup, connect, first byte and total\n"
    "                             times on stderr\n"
    "      --json                 print status, headers and timings as JSON on\n"
    "                             stdout (the body goes only to -o FILE)\n"
    "      --connect-timeout SECS per-address connect timeout (default 30)\n"
    "  -m, --max-time SECS        limit each URL's whole transfer (default none)\n"
    "      --idle-timeout SECS    give up when nothing moves for SECS (default 60)\n"
    "  -4, -6, -n, -v, -q, --mux=NAME   global options\n"
    "\n"
    "Exit status (as curl's): 0 ok, 1 unsupported scheme (https) or other failure,\n"
    "2 usage, 3 malformed URL, 6 cannot resolve, 7 cannot connect, 8 malformed\n"
    "response, 18 response cut short, 22 HTTP error with --fail, 23 write error,\n"
    "28 timeout, 47 too many redirects, 52 empty reply, 55 send error,\n"
    "56 receive error. With several URLs, the last failure's code.\n";

static void start_url(struct get *g);
static void start_request(struct get *g);
static void finish_url(struct get *g, int result);

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Writes everything to fd (the output), waiting at most wait_ms for a
 * non-blocking pipe to drain. A blocking output simply blocks: that is
 * the back-pressure a slow reader applies. */
static int write_all(int fd, const char *p, size_t n, int wait_ms)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pf = {.fd = fd, .events = POLLOUT};
				int r = poll(&pf, 1, wait_ms);
				if (r == 0)
					errno = ETIMEDOUT;
				if (r <= 0 && errno != EINTR)
					return -1;
				continue;
			}
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void close_conn(struct get *g)
{
	if (g->cn) {
		connector_cancel(g->cn);
		g->cn = NULL;
	}
	if (g->fd >= 0) {
		loop_io(g->l, g->fd, 0, NULL, NULL);
		close(g->fd);
		g->fd = -1;
	}
	g->reusable = false;
	loop_timer_stop(g->l, &g->idle);
}

static void fail_url(struct get *g, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_url(struct get *g, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->errtext, sizeof g->errtext, fmt, ap);
	va_end(ap);
	errmsg("%s", g->errtext);
	close_conn(g);
	finish_url(g, code);
}

/* ---- the request ---- */

static bool hdr_is(const char *h, const char *name)
{
	size_t n = strlen(name);
	return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

/* A user header that replaces (or, empty, removes) a default one. */
static const char *user_hdr(const struct get *g, const char *name)
{
	for (int i = 0; i < g->nhdr; i++)
		if (hdr_is(g->hdr[i], name))
			return g->hdr[i];
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

static bool build_request(struct get *g)
{
	struct buf *b = &g->req;
	bool fit = true;
	char auth[HTTP_URL_HOSTMAX + 16], line[256];
	b->start = b->end = 0;
	add(b, &fit, g->head ? "HEAD " : "GET ");
	add(b, &fit, g->url.target);
	add(b, &fit, " HTTP/1.1\r\n");
	http_url_authority(&g->url, auth, sizeof auth);
	static const char *const defaults[] = {"Host", "User-Agent", "Accept", "Range",
					       "If-Modified-Since"};
	const char *values[] = {auth, "sockctl/" PACKAGE_VERSION, "*/*", g->range,
				g->ims[0] ? g->ims : NULL};
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		if (user_hdr(g, defaults[i]) || !values[i])
			continue;
		snprintf(line, sizeof line, "%s: %s%s\r\n", defaults[i], i == 3 ? "bytes=" : "",
			 values[i]);
		add(b, &fit, line);
	}
	/* Credentials go only to the origin they were given for. */
	bool cross = !http_url_same_origin(&g->first, &g->url);
	for (int i = 0; i < g->nhdr; i++) {
		const char *h = g->hdr[i];
		if (hdr_empty(h))
			continue;
		if (cross && (hdr_is(h, "Authorization") || hdr_is(h, "Cookie") ||
			      hdr_is(h, "Proxy-Authorization")))
			continue;
		add(b, &fit, h);
		add(b, &fit, "\r\n");
	}
	add(b, &fit, "\r\n");
	return fit;
}

/* ---- the response ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c); /* never invalid UTF-8 out */
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void report(struct get *g, const char *urltext)
{
	double lk = g->t_lookup / 1e6, cn = g->t_connect / 1e6, fb = g->t_first / 1e6,
	       tt = g->t_total / 1e6;
	if (g->timing)
		fprintf(stderr,
			"sockctl: %s: lookup %.6f s, connect %.6f s, first byte %.6f s, "
			"total %.6f s\n",
			urltext, lk, cn, fb, tt);
	if (!g->json)
		return;
	struct http_resp *r = g->resp;
	FILE *f = stdout;
	fputs("{\"url\":", f);
	json_str(f, urltext);
	if (g->final_status) {
		char auth[HTTP_URL_HOSTMAX + 16];
		http_url_authority(&g->url, auth, sizeof auth);
		fprintf(f, ",\"final_url\":");
		char full[HTTP_URL_TARGETMAX + HTTP_URL_HOSTMAX + 32];
		snprintf(full, sizeof full, "%s://%s%s", g->url.scheme, auth, g->url.target);
		json_str(f, full);
		fprintf(f, ",\"status\":%d,\"http_version\":\"1.%d\",\"reason\":", r->status,
			r->version % 10);
		json_str(f, r->reason);
		fputs(",\"headers\":[", f);
		for (size_t i = 0; i < r->nhdrs; i++) {
			fputs(i ? ",[" : "[", f);
			json_str(f, r->hdrs[i].name);
			fputc(',', f);
			json_str(f, r->hdrs[i].value);
			fputc(']', f);
		}
		fprintf(f, "],\"body_bytes\":%llu,\"redirects\":%ld",
			(unsigned long long)r->body_bytes, g->redirects);
	}
	if (g->result) {
		fputs(",\"error\":", f);
		json_str(f, g->errtext);
	}
	fprintf(f,
		",\"timing\":{\"lookup\":%.6f,\"connect\":%.6f,\"first_byte\":%.6f,"
		"\"total\":%.6f},\"exit\":%d}\n",
		lk, cn, fb, tt, g->result);
	fflush(f);
}

static int print_head(struct get *g)
{
	struct http_resp *r = g->resp;
	char line[HTTP_RESP_LINEMAX];
	int n = snprintf(line, sizeof line, "HTTP/1.%d %d %s\r\n", r->version % 10, r->status,
			 r->reason);
	if (write_all(g->out_fd, line, (size_t)n, g->idle_ms) < 0)
		return -1;
	for (size_t i = 0; i < r->nhdrs; i++) {
		const char *parts[] = {r->hdrs[i].name, ": ", r->hdrs[i].value, "\r\n"};
		for (int k = 0; k < 4; k++)
			if (write_all(g->out_fd, parts[k], strlen(parts[k]), g->idle_ms) < 0)
				return -1;
	}
	return write_all(g->out_fd, "\r\n", 2, g->idle_ms);
}

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The head is in: decide what happens to the body. */
static int on_head(struct get *g)
{
	struct http_resp *r = g->resp;
	g->final_status = r->status;
	vmsg("%s: HTTP/1.%d %d %s", g->urls[g->cur], r->version % 10, r->status, r->reason);
	g->discard = g->out_fd < 0;
	if (g->follow && is_redirect(r->status) && http_resp_header(r, "location"))
		g->discard = true;
	if (g->fail && r->status >= 400)
		g->discard = true;
	if ((g->include || g->head) && !g->json && !g->discard && print_head(g) < 0)
		return -1;
	return 0;
}

static void on_done(struct get *g, bool clean_end)
{
	struct http_resp *r = g->resp;
	g->reusable = clean_end && r->keep_alive;
	if (!g->reusable)
		close_conn(g);
	else
		loop_io_mask(g->l, g->fd, 0 /* idle until the next request */);
	const char *loc = http_resp_header(r, "location");
	if (g->follow && is_redirect(r->status) && loc) {
		if (++g->redirects > g->max_redirs) {
			fail_url(g, GET_REDIRECTS, "%s: more than %ld redirects", g->urls[g->cur],
				 g->max_redirs);
			return;
		}
		struct http_url next;
		char err[256];
		int rc = http_url_resolve(&g->url, loc, &next, err, sizeof err);
		if (rc != HTTP_URL_OK) {
			fail_url(g,
				 rc == HTTP_URL_UNSUPPORTED ? GET_UNSUPPORTED : GET_URL_MALFORMED,
				 "redirect from %s: %s", g->urls[g->cur], err);
			return;
		}
		vmsg("redirect %d to %s", r->status, loc);
		g->url = next;
		start_request(g);
		return;
	}
	if (g->fail && r->status >= 400) {
		snprintf(g->errtext, sizeof g->errtext, "%s: HTTP %d %s", g->urls[g->cur],
			 r->status, r->reason);
		errmsg("%s", g->errtext);
		finish_url(g, GET_HTTP_ERROR);
		return;
	}
	finish_url(g, 0);
}

/* A kept-alive connection the server had already closed: try once more
 * on a fresh one (GET and HEAD are safe to repeat). */
static bool retry_stale(struct get *g)
{
	if (!g->reused || g->got_bytes)
		return false;
	vmsg("kept-alive connection was closed; reconnecting");
	close_conn(g);
	start_request(g);
	return true;
}

static void on_readable(struct get *g)
{
	ssize_t n = read(g->fd, g->in, sizeof g->in);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (errno == ECONNRESET && retry_stale(g))
			return;
		fail_url(g, GET_RECV, "recv from %s: %s", g->urls[g->cur], strerror(errno));
		return;
	}
	loop_timer_start(g->l, &g->idle, g->idle_ms);
	struct http_resp *r = g->resp;
	if (n == 0) {
		if (retry_stale(g))
			return;
		int e = http_resp_eof(r);
		if (e == HTTP_RESP_EOF_EMPTY) {
			fail_url(g, GET_EMPTY, "%s: empty reply from server", g->urls[g->cur]);
		} else if (e == HTTP_RESP_EOF_PARTIAL) {
			fail_url(g, GET_PARTIAL, "%s: %s (%llu body bytes received)",
				 g->urls[g->cur], r->error, (unsigned long long)r->body_bytes);
		} else {
			close_conn(g);
			on_done(g, false);
		}
		return;
	}
	if (!g->got_bytes) {
		g->got_bytes = true;
		g->t_first = now_us() - g->t0;
	}
	size_t off = 0;
	while (off < (size_t)n) {
		bool had_head = r->have_head;
		const char *body;
		size_t bl;
		ssize_t c = http_resp_feed(r, g->in + off, (size_t)n - off, &body, &bl);
		if (c < 0) {
			fail_url(g, GET_BAD_REPLY, "%s: malformed response: %s", g->urls[g->cur],
				 r->error);
			return;
		}
		if (!had_head && r->have_head && on_head(g) < 0) {
			fail_url(g, GET_WRITE, "write output: %s", strerror(errno));
			return;
		}
		if (bl && !g->discard && write_all(g->out_fd, body, bl, g->idle_ms) < 0) {
			fail_url(g, GET_WRITE, "write output: %s", strerror(errno));
			return;
		}
		if (c == 0)
			break; /* HR_DONE with bytes left: they belong to no response */
		off += (size_t)c;
	}
	if (r->state == HR_DONE)
		on_done(g, off == (size_t)n);
}

static void on_io(struct loop *l, int fd, int mask, void *arg)
{
	(void)l, (void)fd;
	struct get *g = arg;
	if ((mask & MUX_WRITE) && buf_len(&g->req) > 0) {
		ssize_t w = write(g->fd, buf_head(&g->req), buf_len(&g->req));
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if ((errno == EPIPE || errno == ECONNRESET) && retry_stale(g))
				return;
			fail_url(g, GET_SEND, "send to %s: %s", g->urls[g->cur], strerror(errno));
			return;
		}
		buf_consume(&g->req, (size_t)w);
		loop_timer_start(g->l, &g->idle, g->idle_ms);
		if (buf_len(&g->req) == 0)
			loop_io_mask(g->l, g->fd, MUX_READ);
	}
	if (mask & MUX_READ)
		on_readable(g);
}

static void send_request(struct get *g)
{
	g->t_connect = now_us() - g->t0;
	/* Read while still writing: a server may answer (and close) before
	 * it has read the whole request. */
	if (loop_io(g->l, g->fd, MUX_READ | MUX_WRITE, on_io, g) < 0) {
		fail_url(g, GET_CONNECT, "connect %s: %s", g->urls[g->cur],
			 errno == ERANGE ? "descriptor too large for --mux=select"
					 : strerror(errno));
		return;
	}
	loop_timer_start(g->l, &g->idle, g->idle_ms);
}

static void on_connect(struct loop *l, struct stream *conn, int err, const char *errtext, void *arg)
{
	/* The engine below still works on the fd itself. */
	int fd = conn ? stream_detach_fd(conn) : -1;
	(void)l;
	struct get *g = arg;
	g->cn = NULL; /* the connector freed itself */
	if (fd < 0) {
		fail_url(g, err == ETIMEDOUT ? GET_TIMEOUT : GET_CONNECT, "%s", errtext);
		return;
	}
	g->fd = fd;
	g->conn_origin = g->url;
	g->reused = false;
	if (g_opts.verbose) {
		struct sock_addr pa;
		char a[SOCK_ADDRSTRLEN] = "?";
		if (sock_peer_addr(fd, &pa) == 0)
			sock_addr_str((struct sockaddr *)&pa.ss, pa.len, a, sizeof a);
		vmsg("connected to %s", a);
	}
	send_request(g);
}

static void start_request(struct get *g)
{
	if (!build_request(g)) {
		fail_url(g, GET_UNSUPPORTED, "%s: request headers are larger than %d KiB",
			 g->urls[g->cur], REQ_MAX / 1024);
		return;
	}
	http_resp_init(g->resp, g->head);
	g->got_bytes = false;
	g->final_status = 0;
	if (g->fd >= 0 && g->reusable && http_url_same_origin(&g->conn_origin, &g->url)) {
		vmsg("reusing the connection to %s", g->url.host);
		g->reused = true;
		g->reusable = false;
		g->t_lookup = now_us() - g->t0;
		send_request(g);
		return;
	}
	close_conn(g);
	struct sock_endpoint ep = {
	    .host = g->url.host,
	    .port = g->url.portstr,
	    .family = g_opts.family,
	    .socktype = SOCK_STREAM,
	    .numeric = g_opts.numeric,
	};
	struct connect_opts o = {.timeout_ms = g->connect_ms};
	char err[SOCK_ERRLEN];
	g->cn = connector_start(g->l, &ep, &o, on_connect, g, err, sizeof err);
	g->t_lookup = now_us() - g->t0;
	if (!g->cn) {
		fail_url(g, GET_RESOLVE, "%s", err);
		return;
	}
}

static void on_deadline(struct loop *l, void *arg)
{
	(void)l;
	struct get *g = arg;
	fail_url(g, GET_TIMEOUT, "%s: timed out after %d.%03d s", g->urls[g->cur], g->max_ms / 1000,
		 g->max_ms % 1000);
}

static void on_idle(struct loop *l, void *arg)
{
	(void)l;
	struct get *g = arg;
	if (g->fd >= 0 && g->reusable) {
		close_conn(g); /* an idle kept-alive connection: just let it go */
		return;
	}
	fail_url(g, GET_TIMEOUT, "%s: nothing received for %d.%03d s", g->urls[g->cur],
		 g->idle_ms / 1000, g->idle_ms % 1000);
}

static void finish_url(struct get *g, int result)
{
	g->result = result;
	g->t_total = now_us() - g->t0;
	loop_timer_stop(g->l, &g->deadline);
	report(g, g->urls[g->cur]);
	g->cur++;
	start_url(g);
}

static void start_url(struct get *g)
{
	if (g->cur > 0 && g->result)
		g->last_failure = g->result;
	if (g->cur >= g->nurls) {
		close_conn(g);
		loop_stop(g->l);
		return;
	}
	g->t0 = now_us();
	g->t_lookup = g->t_connect = g->t_first = g->t_total = 0;
	g->redirects = 0;
	g->result = 0;
	g->errtext[0] = '\0';
	g->final_status = 0;
	http_resp_init(g->resp, g->head);
	char err[256];
	int rc = http_url_parse(g->urls[g->cur], &g->first, err, sizeof err);
	if (rc != HTTP_URL_OK) {
		snprintf(g->errtext, sizeof g->errtext, "%s: %s", g->urls[g->cur], err);
		errmsg("%s", g->errtext);
		finish_url(g, rc == HTTP_URL_UNSUPPORTED ? GET_UNSUPPORTED : GET_URL_MALFORMED);
		return;
	}
	g->url = g->first;
	if (g->max_ms)
		loop_timer_start(g->l, &g->deadline, g->max_ms);
	start_request(g);
}

/* ---- options ---- */

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

static bool valid_range(const char *s)
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

static bool valid_header(const char *h)
{
	const char *c = strchr(h, ':');
	if (!c || c == h)
		return false;
	for (const char *p = h; p < c; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("!#$%&'*+-.^_`|~", *p)))
			return false;
	for (const char *p = c + 1; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

/* DATE as an HTTP date, or the mtime of a file called DATE. */
static bool parse_ims(const char *s, char *out, size_t outlen)
{
	struct stat st;
	struct tm tm;
	if (stat(s, &st) == 0) {
		gmtime_r(&st.st_mtime, &tm);
	} else {
		memset(&tm, 0, sizeof tm);
		const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (!end || *end)
			return false;
	}
	return strftime(out, outlen, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0;
}

int cmd_http_get(int argc, char **argv)
{
	enum {
		OPT_RANGE = OPT_BASE,
		OPT_IMS,
		OPT_MAXREDIRS,
		OPT_JSON,
		OPT_CONNTO,
		OPT_IDLETO,
	};
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"output", required_argument, NULL, 'o'},
	    {"head", no_argument, NULL, 'I'},
	    {"include", no_argument, NULL, 'i'},
	    {"header", required_argument, NULL, 'H'},
	    {"location", no_argument, NULL, 'L'},
	    {"max-redirs", required_argument, NULL, OPT_MAXREDIRS},
	    {"range", required_argument, NULL, OPT_RANGE},
	    {"if-modified-since", required_argument, NULL, OPT_IMS},
	    {"fail", no_argument, NULL, 'f'},
	    {"timing", no_argument, NULL, 'w'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"connect-timeout", required_argument, NULL, OPT_CONNTO},
	    {"max-time", required_argument, NULL, 'm'},
	    {"idle-timeout", required_argument, NULL, OPT_IDLETO},
	    {NULL, 0, NULL, 0},
	};
	static struct get gs;
	struct get *g = &gs;
	memset(g, 0, sizeof *g);
	g->max_redirs = 10;
	g->connect_ms = 30000;
	g->idle_ms = DEFAULT_IDLE;
	g->fd = -1;
	g->out_fd = STDOUT_FILENO;
	const char *output = NULL;
	int c;
	while ((c = cmd_getopt(argc, argv, COMMON_SHORTOPTS "o:IiH:Lfwm:", longopts)) != -1) {
		switch (c) {
		case 'h':
			return print_help(http_get_help);
		case 'o':
			output = optarg;
			break;
		case 'I':
			g->head = true;
			break;
		case 'i':
			g->include = true;
			break;
		case 'H':
			if (!valid_header(optarg))
				return usage_error("bad header '%s' (want 'NAME: VALUE')", optarg);
			if (g->nhdr == MAX_HEADERS)
				return usage_error("more than %d headers", MAX_HEADERS);
			g->hdr[g->nhdr++] = optarg;
			break;
		case 'L':
			g->follow = true;
			break;
		case OPT_MAXREDIRS: {
			long v;
			if (!parse_long(optarg, 0, 1000, &v))
				return usage_error("bad --max-redirs '%s' (0 to 1000)", optarg);
			g->max_redirs = v;
			break;
		}
		case OPT_RANGE:
			if (!valid_range(optarg))
				return usage_error("bad range '%s' (FIRST-LAST with LAST >= FIRST, "
						   "-SUFFIX or FIRST-: 0-99, -500, 100-, 0-1,5-9)",
						   optarg);
			g->range = optarg;
			break;
		case OPT_IMS:
			if (!parse_ims(optarg, g->ims, sizeof g->ims))
				return usage_error("bad --if-modified-since '%s' (want an existing "
						   "file or a date like 'Sun, 06 Nov 1994 08:49:37 "
						   "GMT')",
						   optarg);
			break;
		case 'f':
			g->fail = true;
			break;
		case 'w':
			g->timing = true;
			break;
		case OPT_JSON:
			g->json = true;
			break;
		case OPT_CONNTO:
			if (!parse_seconds(optarg, &g->connect_ms))
				return usage_error("bad --connect-timeout '%s'", optarg);
			break;
		case 'm':
			if (!parse_seconds(optarg, &g->max_ms) || g->max_ms == 0)
				return usage_error("bad --max-time '%s'", optarg);
			break;
		case OPT_IDLETO:
			if (!parse_seconds(optarg, &g->idle_ms) || g->idle_ms == 0)
				return usage_error("bad --idle-timeout '%s'", optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("no URL given");
	g->urls = argv + optind;
	g->nurls = argc - optind;
	int status = EXIT_OK;
	g->l = cmd_loop(16, &status);
	if (!g->l)
		return status;
	if (output) {
		g->out_fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (g->out_fd < 0) {
			errmsg("open %s: %s", output, strerror(errno));
			loop_free(g->l);
			return GET_WRITE;
		}
	} else if (g->json) {
		g->out_fd = -1; /* bodies are dropped; --json owns stdout */
	}
	g->resp = malloc(sizeof *g->resp);
	if (!g->resp || !buf_init(&g->req, REQ_MAX)) {
		errmsg("out of memory");
		free(g->resp);
		loop_free(g->l);
		return EXIT_FAIL;
	}
	timer_init(&g->deadline, on_deadline, g);
	timer_init(&g->idle, on_idle, g);
	start_url(g);
	if (loop_run(g->l) < 0) {
		errmsg("event loop: %s", strerror(errno));
		g->result = EXIT_FAIL;
	}
	close_conn(g);
	loop_timer_stop(g->l, &g->deadline);
	if (output && close(g->out_fd) < 0 && g->result == 0) {
		errmsg("close %s: %s", output, strerror(errno));
		g->result = GET_WRITE;
	}
	buf_free(&g->req);
	free(g->resp);
	loop_free(g->l);
	return g->result ? g->result : g->last_failure;
}
