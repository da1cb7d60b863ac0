/* sockctl http get: options, where the bodies go, what is printed and
 * the exit status, around the client engine (src/http/http_client.c),
 * which fetches each URL in turn on one event loop, reusing a kept-alive
 * connection while the origin stays the same. Exit codes follow curl's
 * where the meaning is the same (see man/sockctl-http-get.1). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/sbuf.h"
#include "http/http_client.h"
#include "http/http_decode.h"
#include "http/http_wfmt.h"
#include "net/proxy.h"
#include "net/sock.h"
#include "net/stream.h"
#include "tool/certopts.h"
#include "tool/cmd.h"
#include "tool/proxyopts.h"
#include "tool/tlsopts.h"

/* Exit codes shared with curl. */
enum {
	GET_UNSUPPORTED = 1,
	GET_URL_MALFORMED = 3,
	GET_PROXY_RESOLVE = 5,
	GET_RANGE = 33,
	GET_ENCODING = 61,
	GET_RESOLVE = 6,
	GET_CONNECT = 7,
	GET_BAD_REPLY = 8,
	GET_PARTIAL = 18,
	GET_HTTP_ERROR = 22,
	GET_WRITE = 23,
	GET_READ = 26,
	GET_TIMEOUT = 28,
	GET_REDIRECTS = 47,
	GET_EMPTY = 52,
	GET_SEND = 55,
	GET_RECV = 56,
	GET_REWIND = 65,
	GET_PROXY = 97,
};

#define DEFAULT_IDLE 60000

/* The run over the URLs. */
struct get_run {
	struct loop *l;
	struct http_client *hc;
	char **urls;
	int nurls, cur;
	bool timing, json;
	bool silent, show_errors; /* -s, -S */
	const char *wfmt;	  /* -w FORMAT (text, after @FILE is read) */
	const char *output;	  /* -o FILE, for %{filename_effective} */
	bool follow, data_body;
	FILE *dump; /* -D FILE */
	/* --retry: tries left for the URL under way, the settings, when its
	 * first try began, the next wait (doubling from 1 s), the output file
	 * to empty before a try. */
	long retries, retry_left;
	int retry_delay_ms, retry_max_ms;
	bool retry_all, retry_refused;
	int64_t url_t0, backoff_ms;
	int out_fd;
	bool truncate_out;
	off_t truncate_to; /* the -o file's size before the first try */
	struct timer retry_t;
	/* The progress bar on a terminal: on (or forced with -#), shown
	 * for this URL, and the last figures for the rate. */
	bool progress, progress_forced, progress_shown;
	struct timer progress_t;
	int64_t p_t0;
	/* -Z: what a URL prints on stdout (the --json report, -w) waits
	 * here for its turn; NULL: printed at once. */
	struct sbuf *later;
	struct certopts cert; /* --cert-info, --expires-within */
	int result;	      /* exit code of the URL just done */
	int last_failure;     /* of any URL so far: the exit status */
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
    "\n"
    "Methods and bodies (as curl's; the body goes with every URL):\n"
    "  -X, --request METHOD       send METHOD (on redirects too)\n"
    "  -d, --data TEXT|@FILE|@-   POST form data (FILE without its newlines);\n"
    "                             several are joined with '&'\n"
    "      --data-ascii TEXT      the same as --data\n"
    "      --data-raw TEXT        --data without '@' meaning a file\n"
    "      --data-binary TEXT|@FILE  --data with FILE as it is\n"
    "      --data-urlencode [NAME]=TEXT|[NAME]@FILE  URL-encoded form data\n"
    "      --json[=]TEXT|@FILE    POST a JSON body (Content-Type and Accept\n"
    "                             application/json): --json=TEXT, or --json and\n"
    "                             a word starting with { [ \" or @\n"
    "  -G, --get                  put the -d data in the URL's query, GET\n"
    "  -F, --form NAME=VALUE|NAME=@FILE|NAME=<FILE[;type=T][;filename=F]\n"
    "                             POST multipart/form-data (files read as sent)\n"
    "  -T, --upload-file FILE|-   PUT FILE (to URL/FILE when URL ends in '/');\n"
    "                             '-' sends stdin, chunked\n"
    "  -u, --user USER:PASS       basic authentication (the URL's origin only)\n"
    "  -A, --user-agent TEXT      the User-Agent ('' sends none)\n"
    "  -e, --referer URL          the Referer\n"
    "  -b, --cookie 'K=V[; K2=V2]'|FILE  the Cookie header (the URL's origin only),\n"
    "                             or cookies from a Netscape cookie file\n"
    "  303, and 301 or 302 after a POST, follow with GET; 307 and 308 keep the\n"
    "  method and body.\n"
    "\n"
    "  -w, --write-out FORMAT|@FILE  after each URL print FORMAT, as curl's:\n"
    "                             %{http_code} %{time_total} %header{NAME} \\n ...\n"
    "      --timing               print lookup, connect, first byte and total\n"
    "                             times on stderr\n"
    "  -s, --silent               no error messages (exit status only)\n"
    "  -S, --show-error           with -s, error messages all the same\n"
    "  -D, --dump-header FILE     write every response's headers to FILE ('-':\n"
    "                             stdout, before each body)\n"
    "      --json                 print status, headers and timings as JSON on\n"
    "                             stdout (the body goes only to -o FILE)\n"
    "      --connect-timeout SECS per-address connect timeout (default 30)\n"
    "  -m, --max-time SECS        limit each URL's whole transfer (default none)\n"
    "      --idle-timeout SECS    give up when nothing moves for SECS (default 60)\n"
    "  -x, --proxy [SCHEME://]HOST:PORT  every connection through a proxy's tunnel:\n"
    "                             http (CONNECT, the default), https (CONNECT\n"
    "                             over TLS to the proxy), socks4, socks4a, socks5,\n"
    "                             socks5h; the proxy resolves the names\n"
    "  -U, --proxy-user USER:PASS the proxy's credentials (http basic, socks5)\n"
    "      --proxy-cacert FILE|DIR, --proxy-insecure  how an https:// proxy's own\n"
    "                             certificate is verified (default: the system\n"
    "                             store and the proxy's name)\n"
    "      --unix-socket PATH     every connection to this Unix socket\n"
    "      --resolve HOST:PORT:ADDR  connect to ADDR for HOST:PORT\n"
    "      --connect-to HOST1:PORT1:HOST2:PORT2  connect to HOST2:PORT2 for\n"
    "                             HOST1:PORT1 (empty parts: any, or the same)\n"
    "      --retry N              try again up to N times on timeouts, names that\n"
    "                             do not resolve, 408 429 500 502 503 504\n"
    "      --retry-delay SECS     wait SECS between tries (default: Retry-After,\n"
    "                             else 1 s doubling)\n"
    "      --retry-max-time SECS  no try that would start after SECS\n"
    "      --retry-connrefused    a refused connection is tried again too\n"
    "      --retry-all-errors     any failure is tried again\n"
    "  -C, --continue-at -|OFFSET resume into -o FILE (or -O) from its size\n"
    "  -O, --remote-name          save to the URL's file name (one URL)\n"
    "      --compressed           ask for gzip, deflate or br and decode the body\n"
    "      --limit-rate RATE      at most RATE bytes per second each way (100k, 2M)\n"
    "  -#, --progress-bar         the progress bar on a terminal for any size\n"
    "  -Z, --parallel             fetch the URLs at once (up to --parallel-max, 50),\n"
    "                             each slot keeping its connection; the output\n"
    "                             in the URLs' order\n"
    "      --parallel-max N       at most N at once with -Z (1 to 300)\n"
    "      --no-progress, --no-progress-meter  no progress bar (by default one\n"
    "                             shows on a terminal for downloads of 256 KiB\n"
    "                             or more, unless the body goes there too)\n"
    "  -4, -6, -n, -v, -q, --mux=NAME   global options\n"
    "\n"
    "https (the server's certificate is verified against the system store and\n"
    "the URL's host, which also goes as SNI; ALPN offers http/1.1):\n"
    "      --cacert FILE|DIR      verify against these CA certificates instead\n"
    "  -k, --insecure             do not verify the server's certificate\n"
    "      --cert FILE, --key FILE  client certificate (PEM) and its key\n"
    "      --sni NAME, --no-sni   send NAME as SNI (and verify for it), or none\n"
    "      --pin, --pinnedpubkey sha256//BASE64  the server's public key must\n"
    "                             match (repeatable, or ';'-separated)\n"
    "      --tls-min V, --tls-max V  protocol versions: 1.2 or 1.3\n"
    "      --tlsv1.2, --tlsv1.3   at least this version (curl's spelling)\n"
    "      --ciphers LIST         TLS 1.2 cipher list (OpenSSL syntax)\n"
    "      --ciphersuites LIST, --tls13-ciphers LIST  TLS 1.3 cipher suites\n"
    "      --handshake-timeout SECS  give up a handshake after SECS (default 10)\n"
    "      --tls-allow-truncation  a close without close_notify ends a body\n"
    "                             that has no length, instead of exit 56\n"
    "      --cert-info[=json]     after each new TLS connection's handshake (the\n"
    "                             server's, not an https proxy's) print what it\n"
    "                             settled and the server's certificates on stderr\n"
    "                             (text, or one JSON object on one line); the\n"
    "                             transfer goes on (a verification or pin failure\n"
    "                             is reported too, then fails as without it)\n"
    "      --expires-within DAYS  exit 110 before the request when the server's\n"
    "                             certificate expires within DAYS days (checked\n"
    "                             on each new connection)\n"
    "\n"
    "Exit status (as curl's): 0 ok, 1 unsupported scheme or other failure,\n"
    "2 usage, 3 malformed URL, 5 cannot resolve the proxy, 6 cannot resolve,\n"
    "7 cannot connect, 8 malformed\n"
    "response, 18 response cut short, 22 HTTP error with --fail, 23 write error,\n"
    "28 timeout, 35 TLS handshake failed, 47 too many redirects, 52 empty reply,\n"
    "55 send error, 56 receive error, 58 --cert/--key unusable, 60 the server's\n"
    "certificate did not verify, 26 a body file cannot be read, 33 the server\n"
    "cannot resume, 61 a body that cannot be decoded, 65 a redirect\n"
    "needs the body from stdin again, 77 --cacert cannot be loaded, 90 no --pin\n"
    "matched, 97 the proxy\n"
    "refused or broke the tunnel, 110 --expires-within. With several URLs, the last failure's "
    "code.\n";

static int exit_code(enum http_client_error e, enum tls_err kind)
{
	switch (e) {
	case HC_OK:
		return EXIT_OK;
	case HC_E_OTHER:
		return EXIT_FAIL;
	case HC_E_UNSUPPORTED:
		return GET_UNSUPPORTED;
	case HC_E_URL:
		return GET_URL_MALFORMED;
	case HC_E_RESOLVE:
		return GET_RESOLVE;
	case HC_E_CONNECT:
		return GET_CONNECT;
	case HC_E_BAD_REPLY:
		return GET_BAD_REPLY;
	case HC_E_PARTIAL:
		return GET_PARTIAL;
	case HC_E_HTTP:
		return GET_HTTP_ERROR;
	case HC_E_WRITE:
		return GET_WRITE;
	case HC_E_TIMEOUT:
		return GET_TIMEOUT;
	case HC_E_REDIRECTS:
		return GET_REDIRECTS;
	case HC_E_EMPTY:
		return GET_EMPTY;
	case HC_E_SEND:
		return GET_SEND;
	case HC_E_RECV:
		return GET_RECV;
	case HC_E_TLS:
		return tlsopt_exit(kind);
	case HC_E_PROXY_RESOLVE:
		return GET_PROXY_RESOLVE;
	case HC_E_PROXY:
		return GET_PROXY;
	case HC_E_READ:
		return GET_READ;
	case HC_E_REWIND:
		return GET_REWIND;
	case HC_E_RANGE:
		return GET_RANGE;
	case HC_E_ENCODING:
		return GET_ENCODING;
	case HC_E_TLS_CHECK:
		return EXIT_TLS_EXPIRING;
	}
	return EXIT_FAIL;
}

static void report(const struct get_run *g, const struct http_client_result *res)
{
	double lk = res->t_lookup / 1e6, cn = res->t_connect / 1e6, fb = res->t_first / 1e6,
	       tt = res->t_total / 1e6;
	if (g->timing)
		fprintf(stderr,
			"sockctl: %s: lookup %.6f s, connect %.6f s, first byte %.6f s, "
			"total %.6f s\n",
			res->url, lk, cn, fb, tt);
	if (!g->json)
		return;
	const struct http_resp *r = res->resp;
	struct sbuf b;
	sb_init(&b);
	sb_puts(&b, "{\"url\":");
	json_str(&b, res->url);
	if (res->status) {
		const struct http_url *u = res->final_url;
		char auth[HTTP_URL_HOSTMAX + 16];
		http_url_authority(u, auth, sizeof auth);
		char full[HTTP_URL_TARGETMAX + HTTP_URL_HOSTMAX + 32];
		snprintf(full, sizeof full, "%s://%s%s", u->scheme, auth, u->target);
		sb_puts(&b, ",\"final_url\":");
		json_str(&b, full);
		sb_printf(&b, ",\"status\":%d,\"http_version\":\"1.%d\",\"reason\":", r->status,
			  r->version % 10);
		json_str(&b, r->reason);
		sb_puts(&b, ",\"headers\":[");
		for (size_t i = 0; i < r->nhdrs; i++) {
			sb_puts(&b, i ? ",[" : "[");
			json_str(&b, r->hdrs[i].name);
			sb_putc(&b, ',');
			json_str(&b, r->hdrs[i].value);
			sb_putc(&b, ']');
		}
		sb_printf(&b, "],\"body_bytes\":%llu,\"redirects\":%ld",
			  (unsigned long long)r->body_bytes, res->redirects);
	}
	if (res->error) {
		sb_puts(&b, ",\"error\":");
		json_str(&b, res->errtext);
	}
	sb_printf(&b,
		  ",\"timing\":{\"lookup\":%.6f,\"connect\":%.6f,\"first_byte\":%.6f,"
		  "\"total\":%.6f},\"exit\":%d}\n",
		  lk, cn, fb, tt, g->result);
	if (b.oom)
		errmsg("%s: out of memory for the JSON report", res->url);
	else if (g->later)
		sb_puts(g->later, sb_str(&b));
	else
		fputs(sb_str(&b), stdout);
	fflush(stdout);
	sb_free(&b);
}

/* -w FORMAT for one URL: the text for stdout and for stderr. */
static void write_out(const struct get_run *g, const struct http_client_result *res)
{
	const struct http_resp *r = res->status ? res->resp : NULL;
	char eff[HTTP_URL_TARGETMAX + HTTP_URL_HOSTMAX + 32] = "", redir[sizeof eff] = "";
	const struct http_url *u = res->final_url;
	if (u) {
		char auth[HTTP_URL_HOSTMAX + 16];
		http_url_authority(u, auth, sizeof auth);
		snprintf(eff, sizeof eff, "%s://%s%s", u->scheme, auth, u->target);
	}
	/* Where a redirect not followed would have gone. */
	const char *loc = r ? http_resp_header(r, "location") : NULL;
	struct http_url next;
	char err[256];
	if (u && loc && !g->follow && r->status >= 300 && r->status < 400 &&
	    http_url_resolve(u, loc, &next, err, sizeof err) == HTTP_URL_OK) {
		char auth[HTTP_URL_HOSTMAX + 16];
		http_url_authority(&next, auth, sizeof auth);
		snprintf(redir, sizeof redir, "%s://%s%s", next.scheme, auth, next.target);
	}
	/* curl's names: 1 for HTTP/1.0, 1.1, 0 for no response. */
	const char *version = !r ? "0" : r->version == 10 ? "1" : "1.1";
	struct http_wfmt_vars v = {
	    .http_code = res->status,
	    .t_namelookup = res->t_lookup,
	    .t_connect = res->t_connect,
	    .t_appconnect = res->t_appconnect,
	    .t_pretransfer = res->t_pretransfer,
	    .t_starttransfer = res->t_first,
	    .t_total = res->t_total,
	    /* --fail's body is read (the connection stays usable) but, as
	     * with curl, not downloaded. */
	    .size_download = r && res->error != HC_E_HTTP ? r->body_bytes : 0,
	    .size_upload = res->uploaded,
	    .size_header = res->head_bytes,
	    /* curl counts a -d body, sent with the head, and no other. */
	    .size_request = res->request_bytes + (g->data_body ? res->uploaded : 0),
	    .url = res->url,
	    .url_effective = eff[0] ? eff : res->url,
	    .content_type = r ? http_resp_header(r, "content-type") : NULL,
	    .remote_ip = res->remote_ip,
	    .local_ip = res->local_ip,
	    .method = res->method,
	    .http_version = version,
	    .errormsg = res->error ? res->errtext : NULL,
	    .filename_effective = g->output,
	    .redirect_url = redir[0] ? redir : NULL,
	    /* As curl 7.88 names it, once there is a connection. */
	    .scheme = u && res->remote_ip[0] ? (strcmp(u->scheme, "https") == 0 ? "HTTPS" : "HTTP")
					     : NULL,
	    .remote_port = res->remote_port,
	    .local_port = res->local_port,
	    .num_redirects = res->redirects,
	    .num_connects = res->connects,
	    .exitcode = g->result,
	    .resp = r,
	};
	struct sbuf out[2], warn;
	sb_init(&out[0]);
	sb_init(&out[1]);
	sb_init(&warn);
	http_wfmt(g->wfmt, &v, out, &warn);
	if (warn.len)
		errmsg("%s", sb_str(&warn));
	if (out[0].oom || out[1].oom)
		errmsg("%s: out of memory for -w", res->url);
	if (g->later)
		sb_putn(g->later, out[0].p ? out[0].p : "", out[0].len);
	else
		fwrite(out[0].p ? out[0].p : "", 1, out[0].len, stdout);
	fflush(stdout);
	fwrite(out[1].p ? out[1].p : "", 1, out[1].len, stderr);
	sb_free(&out[0]);
	sb_free(&out[1]);
	sb_free(&warn);
}

static bool is_transient(int status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
	       status == 504;
}

/* Whether curl's --retry would try the URL again: timeouts and names
 * that did not resolve, refused connections with --retry-connrefused,
 * the transient HTTP statuses, anything with --retry-all-errors. */
static bool retryable(const struct get_run *g, const struct http_client_result *res)
{
	enum http_client_error e = res->error;
	if (e == HC_E_TIMEOUT || e == HC_E_RESOLVE || e == HC_E_PROXY_RESOLVE)
		return true;
	if (e == HC_E_CONNECT && g->retry_refused && res->conn_errno == ECONNREFUSED)
		return true;
	if ((e == HC_OK || e == HC_E_HTTP) && is_transient(res->status))
		return true;
	return g->retry_all && e != HC_OK;
}

/* Retry-After: seconds or an HTTP date; -1 when absent or unreadable. */
static int64_t retry_after_ms(const struct http_client_result *res)
{
	const char *v = res->status ? http_resp_header(res->resp, "retry-after") : NULL;
	if (!v)
		return -1;
	long secs;
	if (parse_long(v, 0, 24L * 3600, &secs))
		return secs * 1000;
	struct tm tm = {0};
	const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return -1;
	time_t at = timegm(&tm), now = time(NULL);
	return at > now ? (int64_t)(at - now) * 1000 : 0;
}

static void start_next(struct get_run *g);

static void on_retry(struct loop *l, void *arg)
{
	(void)l;
	struct get_run *g = arg;
	/* The output file holds the failed try's bytes: cut it back to what
	 * it held before the first try (empty, or the part -C resumes
	 * from: the range asked for starts there again), as curl does. */
	if (g->truncate_out && (ftruncate(g->out_fd, g->truncate_to) < 0 ||
				lseek(g->out_fd, g->truncate_to, SEEK_SET) < 0))
		errmsg("truncate the output: %s", strerror(errno));
	g->retry_left--;
	start_next(g);
}

/* Schedules another try of the URL under way when --retry says so. */
static bool retry_later(struct get_run *g, const struct http_client_result *res)
{
	if (g->retry_left <= 0 || !retryable(g, res))
		return false;
	int64_t ms = retry_after_ms(res);
	if (ms < 0)
		ms = g->retry_delay_ms >= 0 ? g->retry_delay_ms : g->backoff_ms;
	if (g->retry_max_ms && clock_ms() - g->url_t0 + ms > g->retry_max_ms)
		return false;
	if (g->retry_delay_ms < 0 && g->backoff_ms < 600000)
		g->backoff_ms *= 2;
	if (!g->silent || g->show_errors) {
		char why[64];
		snprintf(why, sizeof why, "HTTP %d", res->status);
		errmsg("%s: %s: retrying in %lld.%03lld s, %ld %s left", res->url,
		       res->error && res->error != HC_E_HTTP ? res->errtext : why,
		       (long long)(ms / 1000), (long long)(ms % 1000), g->retry_left - 1,
		       g->retry_left - 1 == 1 ? "retry" : "retries");
	}
	loop_timer_start(g->l, &g->retry_t, ms);
	return true;
}

/* "1.23 MiB" */
static void human(char *out, size_t n, double v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, n, u ? "%.2f %s" : "%.0f %s", v, units[u]);
}

/* Downloads smaller than this show no bar (unless -#). */
#define PROGRESS_MIN (256 * 1024)

/* One line of the bar, drawn over the last: percent, size, rate, ETA. */
static void progress_draw(struct get_run *g, uint64_t got, int64_t total, bool last)
{
	bool big = total >= 0 ? total >= PROGRESS_MIN : got >= PROGRESS_MIN;
	if (!g->progress_shown && !big && !g->progress_forced)
		return;
	double secs = (double)(clock_ms() - g->p_t0) / 1000;
	double rate = secs > 0 ? (double)got / secs : 0;
	char a[32], b[32], r[32], line[160];
	human(a, sizeof a, (double)got);
	human(r, sizeof r, rate);
	if (total > 0) {
		human(b, sizeof b, (double)total);
		double left = rate > 0 ? (double)(total - (int64_t)got) / rate : 0;
		long eta = left > 0 ? (long)(left + 0.5) : 0;
		snprintf(line, sizeof line, "\r%5.1f%%  %s of %s  %s/s  ETA %ld:%02ld ",
			 100.0 * (double)got / (double)total, a, b, r, eta / 60, eta % 60);
	} else {
		snprintf(line, sizeof line, "\r%s  %s/s ", a, r);
	}
	fputs(line, stderr);
	/* Erase what a longer line before left behind. */
	fputs("\033[K", stderr);
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
	g->progress_shown = true;
}

static void on_progress(struct loop *l, void *arg)
{
	struct get_run *g = arg;
	uint64_t got;
	int64_t total;
	if (http_client_progress(g->hc, &got, &total))
		progress_draw(g, got, total, false);
	loop_timer_start(l, &g->progress_t, 250);
}

static void on_url_done(struct http_client *hc, const struct http_client_result *res, void *arg)
{
	struct get_run *g = arg;
	g->result = exit_code(res->error, res->tls_kind);
	if (g->progress) {
		loop_timer_stop(g->l, &g->progress_t);
		/* The last figures, and the line kept. */
		if ((g->progress_shown || g->progress_forced) && res->status)
			progress_draw(g, res->resp->body_bytes, res->resp->content_length, true);
		else if (g->progress_shown)
			fputs("\n", stderr);
		g->progress_shown = false;
	}
	if (retry_later(g, res))
		return;
	/* -s: no error lines, unless -S asks for them. */
	if (res->error && (!g->silent || g->show_errors))
		errmsg("%s", res->errtext);
	if (g->dump)
		fflush(g->dump);
	report(g, res);
	if (g->wfmt)
		write_out(g, res);
	if (g->result)
		g->last_failure = g->result;
	(void)hc;
	if (++g->cur >= g->nurls) {
		loop_stop(g->l);
		return;
	}
	g->retry_left = g->retries;
	g->backoff_ms = 1000;
	g->url_t0 = clock_ms();
	start_next(g);
}

/* Starts the URL under way (again, for a retry). */
static void start_next(struct get_run *g)
{
	if (g->progress) {
		g->p_t0 = clock_ms();
		loop_timer_start(g->l, &g->progress_t, 250);
	}
	/* A transient answer's body is dropped while a retry is left. */
	http_client_set_drop_transient(g->hc, g->retry_left > 0);
	if (http_client_get(g->hc, g->urls[g->cur], on_url_done, g) < 0) {
		errmsg("%s: %s", g->urls[g->cur], strerror(errno));
		g->result = g->last_failure = EXIT_FAIL;
		loop_stop(g->l);
	}
}

/* Each new https connection to the origin: --cert-info's report on
 * stderr (the body keeps stdout), then --expires-within. */
static bool tls_check(void *arg, const struct stream *s, enum tls_err kind, char *why,
		      size_t whylen)
{
	const struct get_run *g = arg;
	time_t now = time(NULL);
	/* A report that cannot be made has said so; the transfer goes on. */
	(void)certopt_report(&g->cert, s, now, false);
	return kind != TLS_E_NONE || certopt_expiry(&g->cert, s, now, why, whylen) == 0;
}

/* -D FILE: every response's head, as -i writes it. */
static void dump_head(const struct http_resp *r, void *arg)
{
	FILE *f = arg;
	fprintf(f, "HTTP/1.%d %d %s\r\n", r->version % 10, r->status, r->reason);
	for (size_t i = 0; i < r->nhdrs; i++)
		fprintf(f, "%s: %s\r\n", r->hdrs[i].name, r->hdrs[i].value);
	fputs("\r\n", f);
}

/* ---- options ---- */

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

/* ---- the request body (-d, --data-*, --json, -F, -T) ---- */

/* A growable byte buffer for bodies, which may be larger than an sbuf's
 * bound and hold NUL bytes. */
struct get_bytes {
	char *p;
	size_t len, cap;
	bool oom;
};

static void gb_put(struct get_bytes *b, const void *s, size_t n)
{
	if (b->oom || !n)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void gb_puts(struct get_bytes *b, const char *s)
{
	gb_put(b, s, strlen(s));
}

/* curl's URL encoding: letters, digits and -._~ as they are, every other
 * byte %XX; form: a space as '+' (--data-urlencode's, not -T's). */
static void gb_urlencode(struct get_bytes *b, const char *s, size_t n, bool form)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[4];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c)) {
			gb_put(b, s + i, 1);
		} else if (c == ' ' && form) {
			gb_put(b, "+", 1);
		} else {
			snprintf(e, sizeof e, "%%%02X", c);
			gb_put(b, e, 3);
		}
	}
}

/* Reads all of FILE ("-": stdin) into b. False with errno. */
static bool read_whole(const char *file, struct get_bytes *b)
{
	int fd = strcmp(file, "-") == 0 ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char tmp[65536];
	ssize_t n;
	/* A body file (or stdin) is read whole before anything connects, as
	 * curl reads -d @FILE. */
	/* not a stream: a body file or stdin, before the loop */
	while ((n = read(fd, tmp, sizeof tmp)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			gb_put(b, tmp, (size_t)n);
	int e = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	if (b->oom) {
		errno = ENOMEM;
		return false;
	}
	errno = e;
	return n == 0;
}

/* What the body options collect. */
struct get_body {
	struct get_bytes data; /* -d, --data-*, --json: joined */
	bool have_data, json, binary_seen;
	/* -F: the multipart text, the files that go between its pieces
	 * (file_at: where in the text), and at the end the parts to send. */
	struct get_bytes form;
	struct http_client_part files[HTTP_CLIENT_MAXHDRS];
	size_t file_at[HTTP_CLIENT_MAXHDRS];
	int nfiles, nfields;
	struct http_client_part parts[2 * HTTP_CLIENT_MAXHDRS + 1];
	int nparts;
	int upload_fd;
	char boundary[48];
	char form_type[96];
	const char *upload; /* -T FILE */
};

static int body_file_error(const char *opt, const char *file)
{
	errmsg("%s %s: %s", opt, file, strerror(errno));
	return GET_READ;
}

/* -d/--data TEXT|@FILE (newlines dropped from FILE), --data-ascii,
 * --data-raw TEXT, --data-binary TEXT|@FILE, --json TEXT|@FILE: joined
 * with '&', --json pieces without it, as curl joins them. Returns 0, or
 * an exit code. */
static int add_data(struct get_body *bd, const char *opt, const char *arg, bool at_file, bool strip,
		    bool amp)
{
	if (bd->have_data && amp)
		gb_put(&bd->data, "&", 1);
	bd->have_data = true;
	if (!at_file || arg[0] != '@') {
		gb_puts(&bd->data, arg);
		return 0;
	}
	size_t start = bd->data.len;
	if (!read_whole(arg + 1, &bd->data))
		return body_file_error(opt, arg + 1);
	if (strip) {
		size_t k = start;
		for (size_t i = start; i < bd->data.len; i++)
			if (bd->data.p[i] != '\r' && bd->data.p[i] != '\n')
				bd->data.p[k++] = bd->data.p[i];
		bd->data.len = k;
		if (bd->data.p)
			bd->data.p[k] = '\0';
	}
	return 0;
}

/* --data-urlencode: CONTENT, =CONTENT, NAME=CONTENT, @FILE, NAME@FILE,
 * the content URL-encoded as curl does. */
static int add_urlencoded(struct get_body *bd, const char *arg)
{
	if (bd->have_data)
		gb_put(&bd->data, "&", 1);
	bd->have_data = true;
	const char *sep = strpbrk(arg, "=@");
	if (sep && sep > arg)
		gb_put(&bd->data, arg, (size_t)(sep - arg + (*sep == '@' ? 0 : 1)));
	if (sep && *sep == '@') {
		if (sep > arg)
			gb_put(&bd->data, "=", 1);
		struct get_bytes f = {0};
		if (!read_whole(sep + 1, &f)) {
			free(f.p);
			return body_file_error("--data-urlencode", sep + 1);
		}
		gb_urlencode(&bd->data, f.p ? f.p : "", f.len, true);
		free(f.p);
		return 0;
	}
	const char *v = sep ? sep + 1 : arg;
	gb_urlencode(&bd->data, v, strlen(v), true);
	return 0;
}

/* A name or file name in Content-Disposition, escaped as curl (and the
 * HTML standard) do: '"' %22, CR %0D, LF %0A. */
static void gb_dispo(struct get_bytes *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *e = s[i] == '"'    ? "%22"
				: s[i] == '\r' ? "%0D"
				: s[i] == '\n' ? "%0A"
					       : NULL;
		if (e)
			gb_puts(b, e);
		else
			gb_put(b, s + i, 1);
	}
}

/* curl's guesses for a file part's type, by extension. */
static const char *form_type(const char *file)
{
	static const char *const types[][2] = {
	    {".gif", "image/gif"},	 {".jpg", "image/jpeg"},    {".jpeg", "image/jpeg"},
	    {".png", "image/png"},	 {".svg", "image/svg+xml"}, {".txt", "text/plain"},
	    {".htm", "text/html"},	 {".html", "text/html"},    {".pdf", "application/pdf"},
	    {".xml", "application/xml"},
	};
	size_t n = strlen(file);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		size_t k = strlen(types[i][0]);
		if (n >= k && strcasecmp(file + n - k, types[i][0]) == 0)
			return types[i][1];
	}
	return "application/octet-stream";
}

/* -F NAME=VALUE, NAME=@FILE (a file part, streamed from the file when
 * sent), NAME=<FILE (its content as the value), each with ;type=TYPE and
 * (files) ;filename=NAME after it. Returns 0 or an exit code. */
static int add_form(struct get_body *bd, char *arg)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return usage_error("bad --form '%s': give NAME=VALUE, NAME=@FILE or NAME=<FILE",
				   arg);
	if (bd->nfields == HTTP_CLIENT_MAXHDRS)
		return usage_error("more than %d --form fields", HTTP_CLIENT_MAXHDRS);
	if (!bd->boundary[0]) {
		unsigned char r[8];
		if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
			for (size_t i = 0; i < sizeof r; i++)
				r[i] = (unsigned char)random();
		/* curl's shape: 24 dashes and 16 hex digits. */
		int k = snprintf(bd->boundary, sizeof bd->boundary, "------------------------");
		for (size_t i = 0; i < sizeof r; i++)
			k += snprintf(bd->boundary + k, sizeof bd->boundary - (size_t)k, "%02x",
				      r[i]);
		snprintf(bd->form_type, sizeof bd->form_type, "multipart/form-data; boundary=%s",
			 bd->boundary);
	}
	bd->nfields++;
	*eq = '\0';
	const char *name = arg, *val = eq + 1, *type = NULL, *fname = NULL;
	char kind = (*val == '@' || *val == '<') ? *val++ : 0;
	/* ;type= and ;filename= end the value (curl reads them anywhere
	 * after it; a value with a ';' of its own goes with NAME=<FILE). */
	for (char *semi = strchr(eq + 1, ';'); semi; semi = strchr(semi + 1, ';')) {
		if (strncmp(semi + 1, "type=", 5) == 0)
			type = semi + 6;
		else if (strncmp(semi + 1, "filename=", 9) == 0)
			fname = semi + 10;
		else
			continue;
		*semi = '\0';
	}
	gb_puts(&bd->form, "--");
	gb_puts(&bd->form, bd->boundary);
	gb_puts(&bd->form, "\r\nContent-Disposition: form-data; name=\"");
	gb_dispo(&bd->form, name, strlen(name));
	gb_puts(&bd->form, "\"");
	if (kind == '@') {
		int fd = open(val, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			if (fd >= 0) {
				close(fd);
				errno = EINVAL;
			}
			return body_file_error("--form", val);
		}
		if (!fname) {
			const char *slash = strrchr(val, '/');
			fname = slash ? slash + 1 : val;
		}
		gb_puts(&bd->form, "; filename=\"");
		gb_dispo(&bd->form, fname, strlen(fname));
		gb_puts(&bd->form, "\"\r\nContent-Type: ");
		gb_puts(&bd->form, type ? type : form_type(val));
		gb_puts(&bd->form, "\r\n\r\n");
		bd->file_at[bd->nfiles] = bd->form.len;
		bd->files[bd->nfiles++] = (struct http_client_part){
		    .kind = HTTP_PART_FILE, .fd = fd, .off = 0, .len = (uint64_t)st.st_size};
		gb_puts(&bd->form, "\r\n");
		return 0;
	}
	if (type) {
		gb_puts(&bd->form, "\r\nContent-Type: ");
		gb_puts(&bd->form, type);
	}
	gb_puts(&bd->form, "\r\n\r\n");
	if (kind == '<') {
		if (!read_whole(val, &bd->form))
			return body_file_error("--form", val);
	} else {
		gb_puts(&bd->form, val);
	}
	gb_puts(&bd->form, "\r\n");
	return 0;
}

/* The last boundary, and the parts to send: the text in pieces with the
 * files between them, now that the text no longer moves. */
static bool form_finish(struct get_body *bd)
{
	gb_puts(&bd->form, "--");
	gb_puts(&bd->form, bd->boundary);
	gb_puts(&bd->form, "--\r\n");
	if (bd->form.oom)
		return false;
	size_t at = 0;
	for (int i = 0; i <= bd->nfiles; i++) {
		size_t end = i < bd->nfiles ? bd->file_at[i] : bd->form.len;
		bd->parts[bd->nparts++] = (struct http_client_part){
		    .kind = HTTP_PART_MEM, .data = bd->form.p + at, .len = end - at};
		if (i < bd->nfiles)
			bd->parts[bd->nparts++] = bd->files[i];
		at = end;
	}
	return true;
}

static void body_free(struct get_body *bd)
{
	free(bd->data.p);
	free(bd->form.p);
	for (int i = 0; i < bd->nfiles; i++)
		close(bd->files[i].fd);
	if (bd->upload_fd >= 0)
		close(bd->upload_fd);
}

/* URL with the file's name after it when it ends in '/' or has no path,
 * as curl's -T does. NULL when it needs none (or out of memory: errno). */
static char *upload_url(const char *url, const char *file)
{
	const char *host = strstr(url, "://");
	host = host ? host + 3 : url;
	const char *path = strchr(host, '/');
	if (path && url[strlen(url) - 1] != '/')
		return NULL;
	const char *slash = strrchr(file, '/');
	const char *base = slash ? slash + 1 : file;
	struct get_bytes b = {0};
	gb_puts(&b, url);
	if (!path)
		gb_put(&b, "/", 1);
	gb_urlencode(&b, base, strlen(base), false);
	if (b.oom) {
		free(b.p);
		errno = ENOMEM;
		return NULL;
	}
	return b.p;
}

/* -b FILE: a Netscape cookie file (what curl -c writes): DOMAIN, TRUE or
 * FALSE for its subdomains, PATH, TRUE or FALSE for https only, EXPIRES,
 * NAME, VALUE, tab-separated; '#' starts a comment, but "#HttpOnly_" only
 * marks the domain. */
static struct http_client_cookie cookie_list[256];
static int ncookie_list;

/* curl's order: the longest path first, then the longest domain, then
 * the longest name; else the file's order (the sort is stable). */
static bool cookie_before(const struct http_client_cookie *x, const struct http_client_cookie *y)
{
	size_t lx[] = {strlen(x->path), strlen(x->domain), strlen(x->name)};
	size_t ly[] = {strlen(y->path), strlen(y->domain), strlen(y->name)};
	for (int i = 0; i < 3; i++)
		if (lx[i] != ly[i])
			return lx[i] > ly[i];
	return false;
}

static void cookie_sort(struct http_client_cookie *c, int n)
{
	for (int i = 1; i < n; i++) {
		struct http_client_cookie t = c[i];
		int j = i;
		for (; j > 0 && cookie_before(&t, &c[j - 1]); j--)
			c[j] = c[j - 1];
		c[j] = t;
	}
}

/* Returns 0, or an exit code (a line printed). A file that is not there
 * is no cookies, as with curl. */
static int read_cookie_file(const char *file)
{
	static struct get_bytes f[4];
	static int nf;
	if (nf == 4)
		return usage_error("more than 4 cookie files");
	struct get_bytes *b = &f[nf];
	if (!read_whole(file, b)) {
		if (errno == ENOENT) {
			vmsg("-b %s: no such file: no cookies from it", file);
			return 0;
		}
		return body_file_error("-b", file);
	}
	nf++;
	if (!b->p)
		return 0;
	for (char *line = b->p, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (strncmp(line, "#HttpOnly_", 10) == 0)
			line += 10;
		else if (*line == '#' || !*line)
			continue;
		char *fld[7] = {0};
		int n = 0;
		for (char *p = line; n < 7; n++) {
			fld[n] = p;
			char *tab = n < 6 ? strchr(p, '\t') : NULL;
			if (!tab) {
				n++;
				break;
			}
			*tab = '\0';
			p = tab + 1;
		}
		long long exp;
		char *end;
		if (n < 6)
			continue; /* not a cookie line: curl skips it too */
		exp = strtoll(fld[4], &end, 10);
		if (*end || strpbrk(fld[5], ";\r\n") || (fld[6] && strpbrk(fld[6], ";\r\n")))
			continue;
		if (ncookie_list == (int)(sizeof cookie_list / sizeof cookie_list[0]))
			return usage_error("more than %d cookies in the cookie files",
					   (int)(sizeof cookie_list / sizeof cookie_list[0]));
		const char *dom = fld[0][0] == '.' ? fld[0] + 1 : fld[0];
		for (char *c = (char *)dom; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		cookie_list[ncookie_list++] = (struct http_client_cookie){
		    .domain = dom,
		    .subdomains = strcmp(fld[1], "TRUE") == 0,
		    .path = *fld[2] ? fld[2] : "/",
		    .secure = strcmp(fld[3], "TRUE") == 0,
		    .expires = exp,
		    .name = fld[5],
		    .value = fld[6] ? fld[6] : "",
		};
	}
	return 0;
}

static bool hdr_given(const char *const *hdrs, int n, const char *name)
{
	size_t k = strlen(name);
	for (int i = 0; i < n; i++)
		if (strncasecmp(hdrs[i], name, k) == 0 && hdrs[i][k] == ':')
			return true;
	return false;
}

/* The headers -A, -e, -b, -u and --json stand for, after the -H ones,
 * which win as they do with curl. Returns 0 or an exit code. */
static int made_headers(struct http_client_cfg *cfg, const char **hdrs, const char *agent,
			const char *referer, const char *cookie, const char *user, bool json)
{
	/* Static: reachable however the command returns (it runs once). */
	static char made[5][8192];
	char b64[4 * 1024];
	if (user && !proxy_base64(user, strlen(user), b64, sizeof b64))
		return usage_error("bad --user: too long");
	const char *const names[] = {"User-Agent", "Referer", "Cookie", "Authorization", "Accept"};
	const char *const opts[] = {"--user-agent", "--referer", "--cookie", "--user", "--json"};
	const char *const vals[] = {agent, referer, cookie, user ? b64 : NULL,
				    json ? "application/json" : NULL};
	for (int i = 0; i < 5; i++) {
		if (!vals[i] || hdr_given(hdrs, cfg->nhdrs, names[i]))
			continue;
		int n = snprintf(made[i], sizeof made[i], "%s: %s%s", names[i],
				 i == 3 ? "Basic " : "", vals[i]);
		if (n < 0 || (size_t)n >= sizeof made[i] || !http_client_valid_header(made[i]))
			return usage_error("bad %s: no control characters, at most 8 KiB", opts[i]);
		if (cfg->nhdrs == HTTP_CLIENT_MAXHDRS)
			return usage_error("more than %d headers", HTTP_CLIENT_MAXHDRS);
		hdrs[cfg->nhdrs++] = made[i];
	}
	return 0;
}

/* The method, body and URLs the body options make. Returns 0 or an exit
 * code. */
static int body_setup(struct get_body *bd, struct http_client_cfg *cfg, struct get_run *g,
		      bool use_get)
{
	static char **urls; /* reachable, as the rest */
	bool rename = bd->upload && strcmp(bd->upload, "-") != 0;
	if ((use_get && bd->have_data) || rename) {
		urls = calloc((size_t)g->nurls, sizeof *urls);
		if (!urls) {
			errmsg("out of memory");
			return EXIT_FAIL;
		}
		for (int i = 0; i < g->nurls; i++) {
			struct get_bytes u = {0};
			char *named = rename ? upload_url(g->urls[i], bd->upload) : NULL;
			gb_puts(&u, named ? named : g->urls[i]);
			free(named);
			if (use_get) {
				gb_puts(&u, strchr(u.p ? u.p : "", '?') ? "&" : "?");
				gb_put(&u, bd->data.p, bd->data.len);
			}
			if (u.oom) {
				errmsg("out of memory");
				return EXIT_FAIL;
			}
			urls[i] = u.p;
		}
		g->urls = urls;
	}
	if (bd->have_data && !use_get) {
		if (bd->data.oom) {
			errmsg("out of memory for the request body");
			return EXIT_FAIL;
		}
		bd->parts[0] = (struct http_client_part){.kind = HTTP_PART_MEM,
							 .data = bd->data.p ? bd->data.p : "",
							 .len = bd->data.len};
		bd->nparts = 1;
		cfg->method = "POST";
		cfg->content_type =
		    bd->json ? "application/json" : "application/x-www-form-urlencoded";
	} else if (bd->nfields) {
		if (!form_finish(bd)) {
			errmsg("out of memory for the form");
			return EXIT_FAIL;
		}
		cfg->method = "POST";
		cfg->content_type = bd->form_type;
	} else if (bd->upload) {
		cfg->method = "PUT";
		if (strcmp(bd->upload, "-") != 0) {
			struct stat st;
			bd->upload_fd = open(bd->upload, O_RDONLY | O_CLOEXEC);
			if (bd->upload_fd < 0 || fstat(bd->upload_fd, &st) < 0)
				return body_file_error("-T", bd->upload);
			/* A regular file goes with its length, from the file as
			 * it is sent; anything else as it comes, chunked. */
			if (S_ISREG(st.st_mode)) {
				bd->parts[0] =
				    (struct http_client_part){.kind = HTTP_PART_FILE,
							      .fd = bd->upload_fd,
							      .len = (uint64_t)st.st_size};
				bd->nparts = 1;
			}
		}
	}
	cfg->body = bd->parts;
	cfg->nbody = bd->nparts;
	return 0;
}

/* --resolve HOST:PORT:ADDR and --connect-to HOST1:PORT1:HOST2:PORT2
 * (an IPv6 address in brackets; --connect-to's parts may be empty), cut
 * in place. */
static char *route_part(char **p, bool last)
{
	char *s = *p, *end;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end || (end[1] != ':' && end[1] != '\0'))
			return NULL;
		*end = '\0';
		*p = end[1] ? end + 2 : end + 1;
		return s + 1;
	}
	end = last ? s + strlen(s) : strchr(s, ':');
	if (!end)
		return NULL;
	*p = *end ? end + 1 : end;
	*end = '\0';
	return s;
}

static bool route_port(const char *p)
{
	uint16_t port;
	char err[SOCK_ERRLEN];
	return sock_parse_port(p, SOCK_STREAM, false, &port, err, sizeof err);
}

static bool parse_route(char *arg, bool resolve, struct http_client_route *r)
{
	char *p = arg;
	char *h1 = route_part(&p, false), *p1 = h1 ? route_part(&p, false) : NULL;
	char *h2 = p1 ? route_part(&p, resolve) : NULL, *p2 = NULL;
	if (!h2 || (!resolve && !(p2 = route_part(&p, true))) || *p)
		return false;
	if (resolve && (!*h1 || !*p1 || !*h2))
		return false;
	if ((*p1 && !route_port(p1)) || (p2 && *p2 && !route_port(p2)))
		return false;
	/* The URL's host is in lower case. */
	for (char *c = h1; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	*r = (struct http_client_route){.host = *h1 ? h1 : NULL,
					.port = *p1 ? p1 : NULL,
					.to_host = *h2 ? h2 : NULL,
					.to_port = p2 && *p2 ? p2 : NULL,
					.resolve = resolve};
	return true;
}

/* -O: the last segment of the URL's path, without its query. NULL when
 * there is none. */
static const char *remote_file(const char *url)
{
	static char name[256];
	const char *host = strstr(url, "://");
	host = host ? host + 3 : url;
	const char *path = strchr(host, '/');
	if (!path)
		return NULL;
	size_t end = strcspn(path, "?#");
	const char *last = path;
	for (size_t i = 0; i < end; i++)
		if (path[i] == '/')
			last = path + i + 1;
	size_t n = (size_t)(path + end - last);
	if (n == 0 || n >= sizeof name)
		return NULL;
	memcpy(name, last, n);
	name[n] = '\0';
	return strcmp(name, ".") && strcmp(name, "..") ? name : NULL;
}

/* --limit-rate: digits and an optional k, M or G (1024-based, any case),
 * as curl reads it; above 0. */
static bool parse_rate(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	if (*end && !end[1]) {
		const char *u = strchr("kKmMgG", *end);
		if (!u)
			return false;
		shift = 10 * (unsigned)(1 + (u - "kKmMgG") / 2);
		end++;
	}
	if (*end || errno || v == 0 || v > (UINT64_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

/* ---- -Z: several URLs at once ---- */

/* Each URL's output (body, and heads with -i, -I, -D -) goes to a file
 * of its own while it runs, and out in the URLs' order once every URL
 * before it is done, with what it prints on stdout (-w, --json). A URL
 * done ahead of its turn is copied to the end of one spool file shared by
 * all such URLs, and its own file closed: however many fast URLs finish
 * behind a slow one, the files open are one per slot and the spool (one
 * open file per URL ran out of descriptors), and none is held back. */
struct par_url {
	int fd;			   /* the unnamed temporary file, -1 once spooled or written out */
	off_t spool_at, spool_len; /* spooled: where its output waits */
	bool spooled;
	int result;
	struct sbuf text; /* -w and --json for stdout */
	bool done;
};

struct par_slot {
	struct par_run *p;
	struct http_client *hc;
	struct stream *out;
	int url;
};

struct par_run {
	struct get_run *g;
	struct par_slot *slots;
	struct par_url *urls;
	int nslots, next, flushed, active;
	int out_fd; /* -1: bodies dropped (--json without -o) */
	bool out_broken;
	int spool_fd; /* -1 until a URL is done ahead of its turn */
	off_t spool_end;
	int nspooled; /* URLs whose output waits in the spool */
};

/* A file that vanishes when closed, for one URL's output. */
static int par_tmpfile(void)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	char path[4096];
	snprintf(path, sizeof path, "%s/sockctl-get.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* Copies from's bytes [off, off + len) (len -1: to its end) to the end
 * of to. False when either failed (errno). */
static bool par_copy(int from, off_t off, off_t len, int to)
{
	char buf[65536];
	while (len != 0) {
		size_t want = len < 0 || len > (off_t)sizeof buf ? sizeof buf : (size_t)len;
		/* not a stream: our temporary file or the spool, read whole */
		ssize_t n = pread(from, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		if (n == 0) {
			if (len < 0)
				break;
			errno = EIO; /* the spool lost what it held */
			return false;
		}
		for (ssize_t at = 0; at < n;) {
			/* Blocking: each URL's output waits for those before it. */
			/* not a stream: the output file or stdout, in turn, or the spool */
			ssize_t w = write(to, buf + at, (size_t)(n - at));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return false;
			at += w;
		}
		off += n;
		if (len > 0)
			len -= n;
	}
	return true;
}

/* A URL done before its turn: its output to the spool's end, its own
 * file closed. Kept open as it is when the spool fails (a full disk):
 * then only the descriptors are not bounded. */
static void par_spool(struct par_run *p, struct par_url *u)
{
	if (p->out_fd < 0) { /* bodies dropped: nothing to keep */
		close(u->fd);
		u->fd = -1;
		return;
	}
	if (p->spool_fd < 0 && (p->spool_fd = par_tmpfile()) < 0)
		return;
	off_t end = p->spool_end;
	if (!par_copy(u->fd, 0, -1, p->spool_fd)) {
		/* What was written of it is cut off again. */
		if (ftruncate(p->spool_fd, end) < 0 || lseek(p->spool_fd, end, SEEK_SET) < 0)
			p->spool_end = lseek(p->spool_fd, 0, SEEK_END);
		return;
	}
	p->spool_end = lseek(p->spool_fd, 0, SEEK_CUR);
	u->spool_at = end;
	u->spool_len = p->spool_end - end;
	u->spooled = true;
	p->nspooled++;
	close(u->fd);
	u->fd = -1;
}

/* Writes out every finished URL whose turn it is. */
static void par_flush(struct par_run *p)
{
	struct get_run *g = p->g;
	while (p->flushed < g->nurls && p->urls[p->flushed].done) {
		struct par_url *u = &p->urls[p->flushed++];
		bool ok = true;
		if (p->out_fd >= 0 && !p->out_broken)
			ok = u->spooled
				 ? par_copy(p->spool_fd, u->spool_at, u->spool_len, p->out_fd)
				 : u->fd < 0 || par_copy(u->fd, 0, -1, p->out_fd);
		if (!ok) {
			errmsg("write output: %s", strerror(errno));
			p->out_broken = true;
			u->result = GET_WRITE;
		}
		if (u->fd >= 0)
			close(u->fd);
		u->fd = -1;
		if (u->spooled && --p->nspooled == 0 && ftruncate(p->spool_fd, 0) == 0 &&
		    lseek(p->spool_fd, 0, SEEK_SET) == 0)
			p->spool_end = 0; /* all written out: the disk space back */
		u->spooled = false;
		if (u->text.len) {
			fwrite(u->text.p, 1, u->text.len, stdout);
			fflush(stdout);
		}
		sb_free(&u->text);
		if (u->result)
			g->last_failure = u->result;
	}
}

static void par_start(struct par_slot *sl);

static void on_par_done(struct http_client *hc, const struct http_client_result *res, void *arg)
{
	(void)hc;
	struct par_slot *sl = arg;
	struct par_run *p = sl->p;
	struct get_run *g = p->g;
	struct par_url *u = &p->urls[sl->url];
	g->result = exit_code(res->error, res->tls_kind);
	if (res->error && (!g->silent || g->show_errors))
		errmsg("%s", res->errtext);
	g->later = &u->text;
	report(g, res);
	if (g->wfmt)
		write_out(g, res);
	g->later = NULL;
	u->result = g->result;
	http_client_set_out(sl->hc, NULL);
	stream_close(sl->out);
	sl->out = NULL;
	u->done = true;
	if (sl->url != p->flushed)
		par_spool(p, u);
	par_flush(p);
	if (p->next < g->nurls) {
		par_start(sl);
		return;
	}
	if (--p->active == 0)
		loop_stop(g->l);
}

/* The next URL on slot sl. */
static void par_start(struct par_slot *sl)
{
	struct par_run *p = sl->p;
	struct get_run *g = p->g;
	int i = p->next++;
	struct par_url *u = &p->urls[i];
	sb_init(&u->text);
	sl->url = i;
	u->fd = par_tmpfile();
	sl->out = u->fd >= 0 ? stream_fd_new(g->l, u->fd, 0) : NULL;
	if (!sl->out) {
		errmsg("%s: a temporary file for the output: %s", g->urls[i], strerror(errno));
		u->result = GET_WRITE;
		u->done = true;
		par_flush(p);
		if (p->next < g->nurls)
			par_start(sl);
		else if (--p->active == 0)
			loop_stop(g->l);
		return;
	}
	http_client_set_out(sl->hc, p->out_fd >= 0 ? sl->out : NULL);
	if (http_client_get(sl->hc, g->urls[i], on_par_done, sl) < 0) {
		errmsg("%s: %s", g->urls[i], strerror(errno));
		u->result = EXIT_FAIL;
		u->done = true;
		par_flush(p);
		if (--p->active == 0)
			loop_stop(g->l);
	}
}

/* -Z: up to max URLs at once, one client (and connection) per slot;
 * bodies to out_fd (-1: dropped). Returns the exit status: the last
 * failure in the URLs' order. */
static int run_parallel(struct get_run *g, struct http_client_cfg *cfg, int max, int out_fd)
{
	struct par_run p = {.g = g, .out_fd = out_fd, .spool_fd = -1};
	p.nslots = max < g->nurls ? max : g->nurls;
	p.slots = calloc((size_t)p.nslots, sizeof *p.slots);
	p.urls = calloc((size_t)g->nurls, sizeof *p.urls);
	int status = EXIT_OK;
	if (!p.slots || !p.urls) {
		errmsg("out of memory");
		status = EXIT_FAIL;
		goto out;
	}
	for (int i = 0; i < g->nurls; i++)
		p.urls[i].fd = -1;
	for (int i = 0; i < p.nslots; i++) {
		p.slots[i].p = &p;
		p.slots[i].hc = http_client_new(g->l, cfg);
		if (!p.slots[i].hc) {
			errmsg("out of memory");
			status = EXIT_FAIL;
			goto out;
		}
	}
	for (int i = 0; i < p.nslots; i++) {
		p.active++;
		par_start(&p.slots[i]);
	}
	if (p.active && loop_run(g->l) < 0) {
		errmsg("event loop: %s", strerror(errno));
		status = EXIT_FAIL;
	}
	status = status ? status : g->last_failure;
out:
	for (int i = 0; p.slots && i < p.nslots; i++) {
		http_client_free(p.slots[i].hc);
		stream_close(p.slots[i].out);
	}
	for (int i = 0; p.urls && i < g->nurls; i++) {
		if (p.urls[i].fd >= 0)
			close(p.urls[i].fd);
		sb_free(&p.urls[i].text);
	}
	if (p.spool_fd >= 0)
		close(p.spool_fd);
	free(p.slots);
	free(p.urls);
	return status;
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
		OPT_TLSV12,
		OPT_TLSV13,
		OPT_TLS13_CIPHERS,
		OPT_DATA_RAW,
		OPT_DATA_BINARY,
		OPT_DATA_URLENCODE,
		OPT_TIMING,
		OPT_UNIX,
		OPT_RESOLVE,
		OPT_CONNECT_TO,
		OPT_RETRY,
		OPT_RETRY_DELAY,
		OPT_RETRY_MAX,
		OPT_RETRY_ALL,
		OPT_RETRY_REFUSED,
		OPT_COMPRESSED,
		OPT_LIMIT_RATE,
		OPT_NO_PROGRESS,
		OPT_PARALLEL_MAX,
	};
	char puser[256], ppass[256];
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
	    {"timing", no_argument, NULL, OPT_TIMING},
	    {"write-out", required_argument, NULL, 'w'},
	    {"silent", no_argument, NULL, 's'},
	    {"show-error", no_argument, NULL, 'S'},
	    {"dump-header", required_argument, NULL, 'D'},
	    {"unix-socket", required_argument, NULL, OPT_UNIX},
	    {"resolve", required_argument, NULL, OPT_RESOLVE},
	    {"connect-to", required_argument, NULL, OPT_CONNECT_TO},
	    {"retry", required_argument, NULL, OPT_RETRY},
	    {"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
	    {"retry-max-time", required_argument, NULL, OPT_RETRY_MAX},
	    {"retry-all-errors", no_argument, NULL, OPT_RETRY_ALL},
	    {"retry-connrefused", no_argument, NULL, OPT_RETRY_REFUSED},
	    {"continue-at", required_argument, NULL, 'C'},
	    {"remote-name", no_argument, NULL, 'O'},
	    {"compressed", no_argument, NULL, OPT_COMPRESSED},
	    {"limit-rate", required_argument, NULL, OPT_LIMIT_RATE},
	    {"progress-bar", no_argument, NULL, '#'},
	    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	    {"no-progress-meter", no_argument, NULL, OPT_NO_PROGRESS}, /* curl's */
	    {"parallel", no_argument, NULL, 'Z'},
	    {"parallel-max", required_argument, NULL, OPT_PARALLEL_MAX},
	    /* --json is the report switch, or curl's JSON body: see below. */
	    {"json", optional_argument, NULL, OPT_JSON},
	    {"request", required_argument, NULL, 'X'},
	    {"data", required_argument, NULL, 'd'},
	    {"data-ascii", required_argument, NULL, 'd'},
	    {"data-raw", required_argument, NULL, OPT_DATA_RAW},
	    {"data-binary", required_argument, NULL, OPT_DATA_BINARY},
	    {"data-urlencode", required_argument, NULL, OPT_DATA_URLENCODE},
	    {"form", required_argument, NULL, 'F'},
	    {"upload-file", required_argument, NULL, 'T'},
	    {"get", no_argument, NULL, 'G'},
	    {"user", required_argument, NULL, 'u'},
	    {"user-agent", required_argument, NULL, 'A'},
	    {"referer", required_argument, NULL, 'e'},
	    {"cookie", required_argument, NULL, 'b'},
	    {"connect-timeout", required_argument, NULL, OPT_CONNTO},
	    {"max-time", required_argument, NULL, 'm'},
	    {"idle-timeout", required_argument, NULL, OPT_IDLETO},
	    {"tlsv1.2", no_argument, NULL, OPT_TLSV12},
	    {"tlsv1.3", no_argument, NULL, OPT_TLSV13},
	    {"tls13-ciphers", required_argument, NULL, OPT_TLS13_CIPHERS},
	    {"pinnedpubkey", required_argument, NULL, TOPT_PIN}, /* curl's name */
	    {"proxy", required_argument, NULL, 'x'},
	    {"proxy-user", required_argument, NULL, 'U'},
	    {"proxy-cacert", required_argument, NULL, POPT_CACERT},
	    {"proxy-insecure", no_argument, NULL, POPT_INSECURE},
	    TLSOPT_CLIENT_LONGOPTS,
	    CERTOPT_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	/* Static: what the options allocate (pins) stays reachable however
	 * the command returns; it runs once per process. */
	static struct tlsopts tls;
	tls = (struct tlsopts){0};
	/* -x (curl's spellings of --proxy) and an https proxy's TLS. */
	static struct proxyopts px;
	px = (struct proxyopts){0};
	const char *hdrs[HTTP_CLIENT_MAXHDRS];
	char ims[64];
	struct http_client_cfg cfg = {
	    .max_redirs = 10,
	    .connect_ms = 30000,
	    .idle_ms = DEFAULT_IDLE,
	    .hdrs = hdrs,
	};
	struct get_run run = {0}, *g = &run;
	certopt_init(&g->cert);
	bool include = false, use_get = false;
	const char *wfmt_arg = NULL, *dump = NULL, *resume = NULL;
	static char cookies[8192];
	bool cookie_file = false;
	long resume_at = 0;
	bool remote_name = false;
	int progress_mode = 0; /* -1 off, 1 forced (-#) */
	bool parallel = false;
	long parallel_max = 50;
	static struct http_client_route routes[32];
	int nroutes = 0;
	g->retry_delay_ms = -1;
	const char *output = NULL, *user = NULL, *agent = NULL, *referer = NULL, *cookie = NULL;
	/* Static, as tls: the bodies' buffers stay reachable however the
	 * command returns. */
	static struct get_body body;
	struct get_body *bd = &body;
	*bd = (struct get_body){.upload_fd = -1};
	int c, rc;
	while ((c = cmd_getopt(argc, argv,
			       COMMON_SHORTOPTS "o:IiH:Lfw:m:kx:U:X:d:F:T:Gu:A:e:b:sSD:C:O#Z",
			       longopts)) != -1) {
		if (c == 'k')
			c = TOPT_INSECURE; /* curl's -k */
		switch (c) {
		case 'h':
			return print_help(http_get_help);
		case 'o':
			output = optarg;
			break;
		case 'I':
			cfg.head = true;
			break;
		case 'i':
			include = true;
			break;
		case 'H':
			if (!http_client_valid_header(optarg))
				return usage_error("bad header '%s' (want 'NAME: VALUE')", optarg);
			if (cfg.nhdrs == HTTP_CLIENT_MAXHDRS)
				return usage_error("more than %d headers", HTTP_CLIENT_MAXHDRS);
			hdrs[cfg.nhdrs++] = optarg;
			break;
		case 'L':
			cfg.follow = true;
			break;
		case OPT_MAXREDIRS: {
			long v;
			if (!parse_long(optarg, 0, 1000, &v))
				return usage_error("bad --max-redirs '%s' (0 to 1000)", optarg);
			cfg.max_redirs = v;
			break;
		}
		case OPT_RANGE:
			if (!http_client_valid_range(optarg))
				return usage_error("bad range '%s' (FIRST-LAST with LAST >= FIRST, "
						   "-SUFFIX or FIRST-: 0-99, -500, 100-, 0-1,5-9)",
						   optarg);
			cfg.range = optarg;
			break;
		case OPT_IMS:
			if (!parse_ims(optarg, ims, sizeof ims))
				return usage_error("bad --if-modified-since '%s' (want an existing "
						   "file or a date like 'Sun, 06 Nov 1994 08:49:37 "
						   "GMT')",
						   optarg);
			cfg.ims = ims;
			break;
		case 'f':
			cfg.fail = true;
			break;
		case OPT_TIMING:
			g->timing = true;
			break;
		case 'w':
			wfmt_arg = optarg;
			break;
		case 's':
			g->silent = true;
			break;
		case 'S':
			g->show_errors = true;
			break;
		case 'D':
			dump = optarg;
			break;
		case OPT_UNIX:
			if (!opt_unix_path(optarg))
				return EXIT_USAGE;
			cfg.unix_path = optarg;
			break;
		case OPT_RESOLVE:
		case OPT_CONNECT_TO: {
			if (nroutes == (int)(sizeof routes / sizeof routes[0]))
				return usage_error("more than %d --resolve and --connect-to",
						   (int)(sizeof routes / sizeof routes[0]));
			char shown[256];
			snprintf(shown, sizeof shown, "%s", optarg); /* parse_route cuts it */
			if (!parse_route(optarg, c == OPT_RESOLVE, &routes[nroutes]))
				return usage_error(
				    c == OPT_RESOLVE ? "bad --resolve '%s': give HOST:PORT:ADDRESS"
						     : "bad --connect-to '%s': give "
						       "HOST1:PORT1:HOST2:PORT2 (any may be empty)",
				    shown);
			nroutes++;
			break;
		}
		case OPT_RETRY:
			if (!parse_long(optarg, 0, 1000000, &g->retries))
				return usage_error("bad --retry '%s' (0 to 1000000)", optarg);
			break;
		case OPT_RETRY_DELAY:
			if (!parse_seconds(optarg, &g->retry_delay_ms))
				return usage_error("bad --retry-delay '%s'", optarg);
			break;
		case OPT_RETRY_MAX:
			if (!parse_seconds(optarg, &g->retry_max_ms))
				return usage_error("bad --retry-max-time '%s'", optarg);
			break;
		case OPT_RETRY_ALL:
			g->retry_all = true;
			break;
		case OPT_RETRY_REFUSED:
			g->retry_refused = true;
			break;
		case 'C':
			if (strcmp(optarg, "-") != 0 &&
			    !parse_long(optarg, 0, LONG_MAX, &resume_at))
				return usage_error("bad --continue-at '%s': give - or an offset",
						   optarg);
			resume = optarg;
			break;
		case 'O':
			remote_name = true;
			break;
		case OPT_LIMIT_RATE:
			if (!parse_rate(optarg, &cfg.limit_rate))
				return usage_error(
				    "bad --limit-rate '%s': give bytes per second, with "
				    "k, M or G for KiB, MiB, GiB (curl's suffixes)",
				    optarg);
			break;
		case '#':
			progress_mode = 1;
			break;
		case 'Z':
			parallel = true;
			break;
		case OPT_PARALLEL_MAX:
			if (!parse_long(optarg, 1, 300, &parallel_max))
				return usage_error("bad --parallel-max '%s' (1 to 300)", optarg);
			break;
		case OPT_NO_PROGRESS:
			progress_mode = -1;
			break;
		case OPT_COMPRESSED:
			if (!http_decode_accept())
				return usage_error("--compressed: this build has neither zlib nor "
						   "libbrotli");
			cfg.compressed = true;
			break;
		case OPT_JSON:
			/* curl's --json BODY, which a curl user expects, or the
			 * report switch that was here first. --json=TEXT is
			 * always a body; bare --json takes the next word as
			 * one only when it starts as JSON or a file does ({ [ "
			 * @), which no URL does. */
			if (!optarg && optind < argc && argv[optind][0] &&
			    strchr("{[\"@", argv[optind][0]))
				optarg = argv[optind++];
			if (!optarg) {
				g->json = true;
				break;
			}
			bd->json = true;
			if ((rc = add_data(bd, "--json", optarg, true, false, false)))
				return rc;
			break;
		case 'X':
			if (!http_client_valid_method(optarg))
				return usage_error(
				    "bad --request '%s' (want a method such as POST)", optarg);
			cfg.custom_method = optarg;
			break;
		case 'd':
			if ((rc = add_data(bd, "--data", optarg, true, true, true)))
				return rc;
			break;
		case OPT_DATA_RAW:
			if ((rc = add_data(bd, "--data-raw", optarg, false, false, true)))
				return rc;
			break;
		case OPT_DATA_BINARY:
			if ((rc = add_data(bd, "--data-binary", optarg, true, false, true)))
				return rc;
			break;
		case OPT_DATA_URLENCODE:
			if ((rc = add_urlencoded(bd, optarg)))
				return rc;
			break;
		case 'F':
			if ((rc = add_form(bd, optarg)))
				return rc;
			break;
		case 'T':
			if (!*optarg)
				return usage_error("bad --upload-file '': give FILE or -");
			bd->upload = optarg;
			break;
		case 'G':
			use_get = true;
			break;
		case 'u':
			if (!strchr(optarg, ':'))
				return usage_error("bad --user '%s': give USER:PASS", optarg);
			user = optarg;
			break;
		case 'A':
			agent = optarg;
			break;
		case 'e':
			referer = optarg;
			break;
		case 'b': {
			/* curl reads a word without '=' as a cookie file. */
			if (!strchr(optarg, '=')) {
				if ((rc = read_cookie_file(optarg)))
					return rc;
				cookie_file = true;
				break;
			}
			if (!cookie) {
				cookie = optarg;
				break;
			}
			/* Several: one Cookie header, joined as curl joins them. */
			char joined[sizeof cookies];
			if (snprintf(joined, sizeof joined, "%s; %s", cookie, optarg) >=
			    (int)sizeof joined)
				return usage_error("bad --cookie: at most %zu bytes in all",
						   sizeof joined - 1);
			memcpy(cookies, joined, sizeof joined);
			cookie = cookies;
			break;
		}
		case OPT_CONNTO:
			if (!parse_seconds(optarg, &cfg.connect_ms))
				return usage_error("bad --connect-timeout '%s'", optarg);
			break;
		case 'm':
			if (!parse_seconds(optarg, &cfg.max_ms) || cfg.max_ms == 0)
				return usage_error("bad --max-time '%s'", optarg);
			break;
		case 'x':
			(void)proxyopt_handle(&px, POPT_PROXY, optarg);
			break;
		case POPT_CACERT:
		case POPT_INSECURE:
			if (proxyopt_handle(&px, c, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'U':
			if (!proxy_auth_parse(optarg, puser, sizeof puser, ppass, sizeof ppass))
				return usage_error("bad --proxy-user: give USER:PASS");
			cfg.proxy_user = puser;
			cfg.proxy_pass = ppass;
			break;
		case OPT_IDLETO:
			if (!parse_seconds(optarg, &cfg.idle_ms) || cfg.idle_ms == 0)
				return usage_error("bad --idle-timeout '%s'", optarg);
			break;
		default:
			if ((rc = certopt_handle(&g->cert, c, optarg)) < 0)
				return EXIT_USAGE;
			if (rc > 0)
				break;
			/* The URL's scheme says where TLS goes, and what goes
			 * over it is HTTP/1.1. */
			if (c == TOPT_TLS)
				return usage_error(
				    "--tls: https:// URLs use TLS, http:// ones do not");
			if (c == TOPT_ALPN)
				return usage_error("--alpn: http get offers http/1.1 only");
			if (c == OPT_TLSV12 || c == OPT_TLSV13) {
				if (tlsopt_handle(&tls, TOPT_TLS_MIN,
						  c == OPT_TLSV12 ? "1.2" : "1.3") == 1)
					break;
				return EXIT_USAGE;
			}
			if (c == OPT_TLS13_CIPHERS)
				c = TOPT_CIPHERSUITES;
			if (tlsopt_handle(&tls, c, optarg) == 1)
				break;
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("no URL given");
	if (parallel && (g->retries || resume || remote_name))
		return usage_error("--parallel goes without --retry, -C and -O");
	if (cfg.unix_path && px.proxy)
		return usage_error("--unix-socket and --proxy: give one");
	if (remote_name && output)
		return usage_error("-O and -o: give one");
	if (remote_name && argc - optind > 1)
		return usage_error("-O saves one URL: give one URL (or -o per run)");
	if (resume && (cfg.range || argc - optind > 1 || !(output || remote_name)))
		return usage_error("--continue-at resumes one URL into -o FILE or -O, without "
				   "--range");
	if (remote_name && !(output = remote_file(argv[optind])))
		return usage_error("-O: no file name in '%s'", argv[optind]);
	cfg.routes = routes;
	cfg.nroutes = nroutes;
	int kinds = bd->have_data + (bd->nfields > 0) + (bd->upload != NULL);
	if (kinds > 1 || (kinds && cfg.head))
		return usage_error("-d/--json, -F, -T and -I each choose the method: give one");
	if (use_get && (bd->nfields || bd->upload))
		return usage_error("-G puts -d's data in the URL: not with -F or -T");
	if (bd->upload && strcmp(bd->upload, "-") == 0 && argc - optind > 1)
		return usage_error("-T - sends stdin once: give one URL");
	if (cookie_file) {
		/* One Cookie header: the text, then the file's that match. */
		if (cookie && strpbrk(cookie, "\r\n"))
			return usage_error("bad --cookie: no control characters");
		cookie_sort(cookie_list, ncookie_list);
		cfg.cookies = cookie_list;
		cfg.ncookies = ncookie_list;
		cfg.cookie_text = cookie;
		cookie = NULL;
	}
	if ((rc = made_headers(&cfg, hdrs, agent, referer, cookie, user, bd->json && !use_get)))
		return rc;
	if (cfg.proxy_user && !px.proxy)
		return usage_error("--proxy-user needs --proxy");
	if (px.proxy && (rc = proxyopt_parse(&px, &cfg.proxy_host, &cfg.proxy_port)))
		return rc;
	cfg.proxy_type = px.type;
	if (px.ptls_given && !px.tls)
		return usage_error("--proxy-cacert and --proxy-insecure are for an https:// proxy");
	/* px is static: its context stays reachable on every way out. */
	if (px.tls && (rc = proxyopt_tls(&px)))
		return rc;
	cfg.proxy_tls = px.pt.tls;
	/* Every URL may be https (or be redirected there): the settings
	 * are checked now, the context made when one needs it. */
	tls.on = tls_available();
	if (tlsopt_check(&tls, TLS_CLIENT))
		return EXIT_USAGE;
	cfg.tls = tls.on ? &tls.cfg : NULL;
	cfg.handshake_ms = tls.handshake_ms;
	if (certopt_on(&g->cert)) {
		/* A certificate check of an http:// URL would pass by having
		 * nothing to check. */
		for (int i = optind; i < argc; i++) {
			struct http_url u;
			char e[256];
			if (http_url_parse(argv[i], &u, e, sizeof e) == HTTP_URL_OK &&
			    strcmp(u.scheme, "https") != 0)
				return usage_error("%s checks TLS certificates: '%s' is not an "
						   "https:// URL",
						   certopt_name(&g->cert), argv[i]);
		}
		/* The report shows a certificate that fails too. */
		tls.cfg.report_failures = g->cert.info != CERT_INFO_NONE;
		cfg.tls_check = tls_check;
		cfg.tls_check_arg = g;
	}
	g->urls = argv + optind;
	g->nurls = argc - optind;
	if ((rc = body_setup(bd, &cfg, g, use_get)))
		return rc;
	/* A pipe or FIFO is read as it is sent: the next URL would get
	 * nothing of it. */
	if (bd->upload_fd >= 0 && !cfg.nbody && g->nurls > 1)
		return usage_error("-T '%s' is not a regular file and is sent once: give one URL",
				   bd->upload);
	g->output = output;
	g->follow = cfg.follow;
	g->data_body = bd->have_data && !use_get;
	if (wfmt_arg && wfmt_arg[0] == '@') {
		/* -w @FILE (@- stdin): the format from a file, as curl's. */
		static struct get_bytes wf;
		if (!read_whole(wfmt_arg + 1, &wf))
			return body_file_error("-w", wfmt_arg + 1);
		g->wfmt = wf.p ? wf.p : "";
	} else {
		g->wfmt = wfmt_arg;
	}
	bool dump_stdout = dump && strcmp(dump, "-") == 0;
	if (dump && !dump_stdout) {
		g->dump = fopen(dump, "we");
		if (!g->dump) {
			errmsg("open %s: %s", dump, strerror(errno));
			return GET_WRITE;
		}
		cfg.head_cb = dump_head;
		cfg.head_arg = g->dump;
	}
	if (dump_stdout) {
		include = true;
		cfg.write_all_heads = true;
	}
	cfg.write_head = (include || cfg.head) && !g->json;
	cfg.family = g_opts.family;
	cfg.numeric = g_opts.numeric;
	int status = EXIT_OK;
	g->l = cmd_loop(16, &status);
	if (!g->l)
		return status;
	/* The bodies go to stdout or -o FILE; with --json and no FILE they
	 * are dropped (the report owns stdout). */
	int out_fd = STDOUT_FILENO;
	char range[32];
	if (output) {
		out_fd = open(output,
			      O_WRONLY | O_CREAT | O_CLOEXEC | (resume ? O_APPEND : O_TRUNC), 0666);
		struct stat st = {0};
		if (out_fd < 0 || (resume && fstat(out_fd, &st) < 0)) {
			errmsg("open %s: %s", output, strerror(errno));
			if (out_fd >= 0)
				close(out_fd);
			loop_free(g->l);
			return GET_WRITE;
		}
		/* -C -: from the file's end; -C N: from N (the body is
		 * appended either way, as curl does). */
		long from = resume && strcmp(resume, "-") == 0 ? (long)st.st_size : resume_at;
		if (resume && from > 0) {
			snprintf(range, sizeof range, "%ld-", from);
			cfg.range = range;
			cfg.resume = true;
			cfg.resume_from = from;
		}
		g->out_fd = out_fd;
		/* A retry cuts the file back to where this run began. */
		g->truncate_out = g->retries > 0;
		g->truncate_to = resume ? st.st_size : 0;
	}
	struct stream *out = NULL;
	if (output || !g->json) {
		out = stream_fd_new(g->l, out_fd, 0);
		if (!out) {
			errmsg("write output: %s", strerror(errno));
			if (output)
				close(out_fd);
			loop_free(g->l);
			return GET_WRITE;
		}
	}
	cfg.out = out;
	if (parallel && g->nurls > 1 && !(bd->upload && !bd->nparts)) {
		bool bodies = out != NULL;
		stream_close(out);
		cfg.out = NULL;
		int rc2 = run_parallel(g, &cfg, (int)parallel_max, bodies ? out_fd : -1);
		if (g->dump)
			fclose(g->dump);
		if (output && close(out_fd) < 0 && rc2 == 0) {
			errmsg("close %s: %s", output, strerror(errno));
			rc2 = GET_WRITE;
		}
		body_free(bd);
		loop_free(g->l);
		return rc2;
	}
	if (bd->upload && !bd->nparts) {
		/* stdin, a pipe or a FIFO: read as it comes, sent chunked. */
		int fd = strcmp(bd->upload, "-") == 0 ? STDIN_FILENO : bd->upload_fd;
		cfg.body_in = stream_fd_new(g->l, fd, fd == STDIN_FILENO ? 0 : STREAM_F_OWN);
		if (!cfg.body_in) {
			errmsg("-T %s: %s", bd->upload, strerror(errno));
			stream_close(out);
			if (output)
				close(out_fd);
			loop_free(g->l);
			return GET_READ;
		}
		if (fd == bd->upload_fd)
			bd->upload_fd = -1;
	}
	timer_init(&g->retry_t, on_retry, g);
	/* The bar: on a terminal, not with -s, and not when the body goes
	 * to that terminal too (or is a --json report). */
	timer_init(&g->progress_t, on_progress, g);
	g->progress = progress_mode >= 0 && !g->silent && isatty(STDERR_FILENO) &&
		      (output || (!isatty(STDOUT_FILENO) && !g->json)) && !cfg.head;
	g->progress_forced = progress_mode > 0;
	g->p_t0 = clock_ms();
	if (g->progress)
		loop_timer_start(g->l, &g->progress_t, 250);
	g->retry_left = g->retries;
	g->backoff_ms = 1000;
	g->url_t0 = clock_ms();
	cfg.drop_transient = g->retries > 0;
	g->hc = http_client_new(g->l, &cfg);
	if (!g->hc || http_client_get(g->hc, g->urls[0], on_url_done, g) < 0) {
		errmsg("out of memory");
		http_client_free(g->hc);
		stream_close(out);
		stream_close(cfg.body_in);
		if (output)
			close(out_fd);
		loop_free(g->l);
		return EXIT_FAIL;
	}
	if (loop_run(g->l) < 0) {
		errmsg("event loop: %s", strerror(errno));
		g->result = EXIT_FAIL;
	}
	loop_timer_stop(g->l, &g->retry_t);
	loop_timer_stop(g->l, &g->progress_t);
	http_client_free(g->hc);
	proxyopt_free(&px);
	stream_close(out);
	stream_close(cfg.body_in);
	body_free(bd);
	if (output && close(out_fd) < 0 && g->result == 0) {
		errmsg("close %s: %s", output, strerror(errno));
		g->result = GET_WRITE;
	}
	loop_free(g->l);
	if (g->dump && fclose(g->dump) != 0 && g->result == 0) {
		errmsg("close %s: %s", dump, strerror(errno));
		g->result = GET_WRITE;
	}
	return g->result ? g->result : g->last_failure;
}
