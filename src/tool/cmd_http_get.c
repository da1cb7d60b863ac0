/* sockctl http get: options, where the bodies go, what is printed and
 * the exit status, around the client engine (src/http/http_client.c),
 * which fetches each URL in turn on one event loop, reusing a kept-alive
 * connection while the origin stays the same. Exit codes follow curl's
 * where the meaning is the same (see man/sockctl-http-get.1). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/sbuf.h"
#include "http/http_client.h"
#include "net/proxy.h"
#include "net/sock.h"
#include "net/stream.h"
#include "tool/cmd.h"
#include "tool/tlsopts.h"

/* Exit codes shared with curl. */
enum {
	GET_UNSUPPORTED = 1,
	GET_URL_MALFORMED = 3,
	GET_PROXY_RESOLVE = 5,
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
	int result;	  /* exit code of the URL just done */
	int last_failure; /* of any URL so far: the exit status */
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
    "  -x, --proxy [SCHEME://]HOST:PORT  every connection through a proxy's tunnel:\n"
    "                             http (CONNECT, the default), socks4, socks4a,\n"
    "                             socks5, socks5h; the proxy resolves the names\n"
    "  -U, --proxy-user USER:PASS the proxy's credentials (http basic, socks5)\n"
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
    "\n"
    "Exit status (as curl's): 0 ok, 1 unsupported scheme or other failure,\n"
    "2 usage, 3 malformed URL, 5 cannot resolve the proxy, 6 cannot resolve,\n"
    "7 cannot connect, 8 malformed\n"
    "response, 18 response cut short, 22 HTTP error with --fail, 23 write error,\n"
    "28 timeout, 35 TLS handshake failed, 47 too many redirects, 52 empty reply,\n"
    "55 send error, 56 receive error, 58 --cert/--key unusable, 60 the server's\n"
    "certificate did not verify, 77 --cacert cannot be loaded, 90 no --pin\n"
    "matched, 97 the proxy\n"
    "refused or broke the tunnel. With several URLs, the last failure's code.\n";

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
	else
		fputs(sb_str(&b), stdout);
	fflush(stdout);
	sb_free(&b);
}

static void on_url_done(struct http_client *hc, const struct http_client_result *res, void *arg)
{
	struct get_run *g = arg;
	g->result = exit_code(res->error, res->tls_kind);
	if (res->error)
		errmsg("%s", res->errtext);
	report(g, res);
	if (g->result)
		g->last_failure = g->result;
	if (++g->cur >= g->nurls) {
		loop_stop(g->l);
		return;
	}
	if (http_client_get(hc, g->urls[g->cur], on_url_done, g) < 0) {
		errmsg("%s: %s", g->urls[g->cur], strerror(errno));
		g->result = g->last_failure = EXIT_FAIL;
		loop_stop(g->l);
	}
}

/* ---- options ---- */

/* -x [SCHEME://]HOST:PORT, as curl spells it: http (CONNECT, the
 * default), socks4, socks4a, socks5, socks5h. */
static int parse_proxy(char *p, struct http_client_cfg *cfg)
{
	cfg->proxy_type = PROXY_HTTP;
	char *sep = strstr(p, "://");
	if (sep) {
		*sep = '\0';
		if (!proxy_type_parse(p, &cfg->proxy_type)) {
			usage_error(
			    "bad --proxy scheme '%s': give http, socks4, socks4a, socks5 or "
			    "socks5h",
			    p);
			return -1;
		}
		p = sep + 3;
	}
	size_t n = strlen(p);
	if (n && p[n - 1] == '/')
		p[n - 1] = '\0'; /* "http://proxy:3128/" */
	char *arg = p, shown[HTTP_URL_HOSTMAX + 16];
	snprintf(shown, sizeof shown, "%s", p); /* endpoint_split cuts p */
	char perr[SOCK_ERRLEN + 128], err[SOCK_ERRLEN];
	uint16_t port;
	if (endpoint_split(1, &arg, ENDPOINT_EXACT, &cfg->proxy_host, &cfg->proxy_port, perr,
			   sizeof perr) != 1 ||
	    !sock_parse_port(cfg->proxy_port, SOCK_STREAM, false, &port, err, sizeof err)) {
		usage_error("bad --proxy '%s': give [SCHEME://]HOST:PORT ([V6ADDR]:PORT for IPv6)",
			    shown);
		return -1;
	}
	return 0;
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
		OPT_TLSV12,
		OPT_TLSV13,
		OPT_TLS13_CIPHERS,
	};
	char *proxy = NULL; /* in argv: endpoint_split cuts it in place */
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
	    {"timing", no_argument, NULL, 'w'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"connect-timeout", required_argument, NULL, OPT_CONNTO},
	    {"max-time", required_argument, NULL, 'm'},
	    {"idle-timeout", required_argument, NULL, OPT_IDLETO},
	    {"tlsv1.2", no_argument, NULL, OPT_TLSV12},
	    {"tlsv1.3", no_argument, NULL, OPT_TLSV13},
	    {"tls13-ciphers", required_argument, NULL, OPT_TLS13_CIPHERS},
	    {"pinnedpubkey", required_argument, NULL, TOPT_PIN}, /* curl's name */
	    {"proxy", required_argument, NULL, 'x'},
	    {"proxy-user", required_argument, NULL, 'U'},
	    TLSOPT_CLIENT_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	/* Static: what the options allocate (pins) stays reachable however
	 * the command returns; it runs once per process. */
	static struct tlsopts tls;
	tls = (struct tlsopts){0};
	const char *hdrs[HTTP_CLIENT_MAXHDRS];
	char ims[64];
	struct http_client_cfg cfg = {
	    .max_redirs = 10,
	    .connect_ms = 30000,
	    .idle_ms = DEFAULT_IDLE,
	    .hdrs = hdrs,
	};
	struct get_run run = {0}, *g = &run;
	bool include = false;
	const char *output = NULL;
	int c;
	while ((c = cmd_getopt(argc, argv, COMMON_SHORTOPTS "o:IiH:Lfwm:kx:U:", longopts)) != -1) {
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
		case 'w':
			g->timing = true;
			break;
		case OPT_JSON:
			g->json = true;
			break;
		case OPT_CONNTO:
			if (!parse_seconds(optarg, &cfg.connect_ms))
				return usage_error("bad --connect-timeout '%s'", optarg);
			break;
		case 'm':
			if (!parse_seconds(optarg, &cfg.max_ms) || cfg.max_ms == 0)
				return usage_error("bad --max-time '%s'", optarg);
			break;
		case 'x':
			proxy = optarg;
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
	if (cfg.proxy_user && !proxy)
		return usage_error("--proxy-user needs --proxy");
	if (proxy && parse_proxy(proxy, &cfg) < 0)
		return EXIT_USAGE;
	/* Every URL may be https (or be redirected there): the settings
	 * are checked now, the context made when one needs it. */
	tls.on = tls_available();
	if (tlsopt_check(&tls, TLS_CLIENT))
		return EXIT_USAGE;
	cfg.tls = tls.on ? &tls.cfg : NULL;
	cfg.handshake_ms = tls.handshake_ms;
	g->urls = argv + optind;
	g->nurls = argc - optind;
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
	if (output) {
		out_fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (out_fd < 0) {
			errmsg("open %s: %s", output, strerror(errno));
			loop_free(g->l);
			return GET_WRITE;
		}
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
	g->hc = http_client_new(g->l, &cfg);
	if (!g->hc || http_client_get(g->hc, g->urls[0], on_url_done, g) < 0) {
		errmsg("out of memory");
		http_client_free(g->hc);
		stream_close(out);
		if (output)
			close(out_fd);
		loop_free(g->l);
		return EXIT_FAIL;
	}
	if (loop_run(g->l) < 0) {
		errmsg("event loop: %s", strerror(errno));
		g->result = EXIT_FAIL;
	}
	http_client_free(g->hc);
	stream_close(out);
	if (output && close(out_fd) < 0 && g->result == 0) {
		errmsg("close %s: %s", output, strerror(errno));
		g->result = GET_WRITE;
	}
	loop_free(g->l);
	return g->result ? g->result : g->last_failure;
}
