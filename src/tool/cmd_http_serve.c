/* sockctl http serve: options, the listener(s), the workers, the loop,
 * the access log's output and the exit status; the engine (connections,
 * answers) is in src/http/. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tool/cmd.h"
#include "http/http_auth.h"
#include "http/http_cache.h"
#include "http/http_encode.h"
#include "http/http_mime.h"
#include "http/http_serve.h"
#include "net/sock.h"
#include "core/text_escape.h"
#include "proc/workers.h"
#include "tool/tlsopts.h"

static const char help[] =
    "usage: sockctl http serve [options] [[ADDRESS] PORT]\n"
    "\n"
    "Serve a directory over HTTP/1.1 (GET, HEAD; PUT with --upload) on\n"
    "127.0.0.1:8000 unless an address and port are given (\"*\" or :: for all,\n"
    "IPv4 and IPv6; 0.0.0.0 for all IPv4). The access log goes to stdout; when\n"
    "nobody reads it, lines are dropped (and counted on stderr), never the\n"
    "serving held up.\n"
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
    "      --body=TEXT|@FILE     body for --respond (TEXT takes backslash escapes\n"
    "                            as serve --respond does; @FILE is sent as it is)\n"
    "      --upload              accept PUT into DIR (atomic; no overwriting)\n"
    "      --overwrite           let --upload replace existing files\n"
    "      --max-upload=BYTES    largest PUT body (K, M, G suffixes; default 100M)\n"
    "      --log-format=FMT      combined (default), json or none\n"
    "      --header-timeout=SECS the whole request head must arrive within (10)\n"
    "      --idle-timeout=SECS   close idle keep-alive connections after (5)\n"
    "      --send-timeout=SECS   close when a response makes no progress for (30)\n"
    "      --max-conns=N         connections at once (default 1000)\n"
    "      --workers=N           N processes sharing the port (SO_REUSEPORT)\n"
    "      --auth=USER:PASS      require basic authentication (repeatable)\n"
    "      --auth-file=FILE      accounts from FILE, one 'user:hash' a line (crypt(3)\n"
    "                            hashes: yescrypt, sha512crypt, bcrypt; '#' comments)\n"
    "      --realm=TEXT          the realm the 401 names (default sockctl)\n"
    "      --cors[=ORIGIN]       CORS headers on every answer (ORIGIN, default *) and\n"
    "                            OPTIONS preflights answered (before --auth)\n"
    "      --cache-size=BYTES    memory for the small-file cache, per process\n"
    "                            (K, M, G; default 16M; 0: no cache)\n"
    "      --cache-max-file=BYTES  largest file it holds (default 64K, at most 16M)\n"
    "      --compress            serve NAME.br / NAME.gz when the client takes them,\n"
    "                            else compress text types up to 1 MiB (br, gzip)\n"
    "\n"
    "https (see sockctl(1), TLS; ALPN selects http/1.1):\n"
    "      --tls                 TLS on every connection (without --cert: a temporary\n"
    "                            certificate, its pin on the readiness line)\n"
    "      --cert=FILE, --key=FILE  the server's certificate (PEM, chain allowed)\n"
    "                            and key\n"
    "      --client-ca=FILE      require client certificates verified against FILE\n"
    "      --tls-min=V, --tls-max=V  protocol versions: 1.2 or 1.3\n"
    "      --ciphers=LIST        TLS 1.2 cipher list (OpenSSL syntax)\n"
    "      --ciphersuites=LIST   TLS 1.3 cipher suites\n"
    "      --handshake-timeout=SECS  drop a client whose handshake takes longer\n"
    "                            (default 10)\n"
    "\n"
    "Prints 'sockctl: listening on ADDR:PORT (tcp, mux=NAME)' and the URL on\n"
    "stderr when ready. Exit status: 0 after SIGINT/SIGTERM, 1 if it cannot\n"
    "listen or serve, 2 for usage errors; with --tls, 58 --cert/--key\n"
    "unusable, 77 --client-ca cannot be loaded.\n";

static void on_stop(struct loop *l, int signo, void *arg)
{
	(void)signo;
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
	OPT_AUTH,
	OPT_AUTH_FILE,
	OPT_REALM,
	OPT_COMPRESS,
	OPT_CORS,
	OPT_CACHE_SIZE,
	OPT_CACHE_MAX_FILE,
};

static void free_cfg(struct http_cfg *cfg)
{
	if (cfg->rootfd >= 0)
		close(cfg->rootfd);
	if (cfg->body_owned)
		free((char *)cfg->body);
	free(cfg->extra);
	http_mime_free(cfg->mime);
	if (cfg->auth)
		http_auth_free(cfg->auth);
	free(cfg->auth);
	free(cfg->realm);
	free(cfg->cors);
	if (cfg->cache)
		http_cache_free(cfg->cache);
}

static struct http_auth *auth_of(struct http_cfg *cfg)
{
	if (!cfg->auth)
		cfg->auth = calloc(1, sizeof *cfg->auth);
	return cfg->auth;
}

/* --cors=ORIGIN: "*", "null", or scheme://host[:port] as a browser
 * sends it in Origin (no path, no white space: it goes in a header). */
static bool origin_ok(const char *s)
{
	if (strcmp(s, "*") == 0 || strcmp(s, "null") == 0)
		return true;
	const char *p = s;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (p > s && *p >= '0' && *p <= '9') ||
	       (p > s && (*p == '+' || *p == '-' || *p == '.')))
		p++;
	if (p == s || strncmp(p, "://", 3) != 0 || !p[3] || strlen(s) > 512)
		return false;
	for (p += 3; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("/?#\\\"", *p))
			return false;
	return true;
}

/* A realm goes inside a quoted string: printable ASCII, no quote or
 * backslash, so nothing needs escaping. */
static bool realm_ok(const char *s)
{
	if (!*s || strlen(s) > HTTP_AUTH_REALM_MAX)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* The engine's access log lines, through the stdout queue. */
static void access_line(void *arg, const char *line, size_t len)
{
	(void)arg;
	log_printf("%.*s", (int)len, line);
}

static int serve_loop(struct http_server *s, struct loop *l)
{
	if (s->log_format != HTTP_LOG_NONE)
		s->log_fn = access_line;
	if (http_server_start(s, l) < 0) {
		errmsg("http serve: watch listener: %s", strerror(errno));
		return EXIT_FAIL;
	}
	loop_signal(l, SIGINT, on_stop, s);
	loop_signal(l, SIGTERM, on_stop, s);
	int rc = loop_run(l) < 0 ? EXIT_FAIL : EXIT_OK;
	if (rc)
		errmsg("http serve: event loop: %s", strerror(errno));
	http_server_stop(s);
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
	    {"auth", required_argument, NULL, OPT_AUTH},
	    {"auth-file", required_argument, NULL, OPT_AUTH_FILE},
	    {"realm", required_argument, NULL, OPT_REALM},
	    {"compress", no_argument, NULL, OPT_COMPRESS},
	    {"cors", optional_argument, NULL, OPT_CORS},
	    {"cache-size", required_argument, NULL, OPT_CACHE_SIZE},
	    {"cache-max-file", required_argument, NULL, OPT_CACHE_MAX_FILE},
	    TLSOPT_SERVER_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	struct tlsopts tls = {0};
	struct http_server s = {.lfd = -1,
				.header_ms = 10000,
				.idle_ms = 5000,
				.send_ms = 30000,
				.max_conns = 1000,
				.log_format = HTTP_LOG_COMBINED};
	struct http_cfg *cfg = &s.cfg;
	*cfg = (struct http_cfg){
	    .rootfd = -1, .listing = true, .status = 200, .max_upload = 100u << 20};
	const char *dir = ".", *mime = NULL, *body = NULL, *auth_file = NULL;
	uint64_t cache_size = 16u << 20, cache_max_file = 64u << 10;
	static struct http_cache cache;
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
			if (strcmp(optarg, "@") == 0) {
				usage_error("--body @FILE needs a file name");
				goto out;
			}
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
				s.log_format = HTTP_LOG_COMBINED;
			else if (strcmp(optarg, "json") == 0)
				s.log_format = HTTP_LOG_JSON;
			else if (strcmp(optarg, "none") == 0)
				s.log_format = HTTP_LOG_NONE;
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
		case OPT_AUTH:
			if (!auth_of(cfg) || !http_auth_add_plain(cfg->auth, optarg)) {
				if (!cfg->auth || errno == ENOMEM) {
					errmsg("http serve: out of memory");
					rc = EXIT_FAIL;
				} else {
					usage_error("bad --auth '%s' (want USER:PASS)", optarg);
				}
				goto out;
			}
			break;
		case OPT_AUTH_FILE:
			auth_file = optarg;
			break;
		case OPT_REALM:
			if (!realm_ok(optarg)) {
				usage_error(
				    "bad --realm '%s' (printable ASCII up to %d characters, no "
				    "quote or backslash)",
				    optarg, HTTP_AUTH_REALM_MAX);
				goto out;
			}
			free(cfg->realm);
			if (!(cfg->realm = strdup(optarg))) {
				errmsg("http serve: out of memory");
				rc = EXIT_FAIL;
				goto out;
			}
			break;
		case OPT_COMPRESS:
			cfg->compress = true;
			break;
		case OPT_CACHE_SIZE:
			if (!parse_size(optarg, &cache_size) || cache_size > (UINT64_C(1) << 40)) {
				usage_error("bad --cache-size '%s'", optarg);
				goto out;
			}
			break;
		case OPT_CACHE_MAX_FILE:
			if (!parse_size(optarg, &cache_max_file) || cache_max_file > (16u << 20)) {
				usage_error("bad --cache-max-file '%s' (at most 16M)", optarg);
				goto out;
			}
			break;
		case OPT_CORS:
			if (optarg && !origin_ok(optarg)) {
				usage_error(
				    "bad --cors '%s' (want *, null or scheme://host[:port])",
				    optarg);
				goto out;
			}
			free(cfg->cors);
			if (!(cfg->cors = strdup(optarg ? optarg : "*"))) {
				errmsg("http serve: out of memory");
				rc = EXIT_FAIL;
				goto out;
			}
			break;
		default:
			/* '?' was reported by cmd_getopt; a TLS option that
			 * fails prints its own line. */
			if (c == TOPT_ALPN) {
				usage_error(
				    "--alpn: http serve speaks http/1.1 only (and says so)");
				goto out;
			}
			if (tlsopt_handle(&tls, c, optarg) == 1)
				break;
			goto out;
		}
	}
	if (tlsopt_check(&tls, TLS_SERVER))
		goto out;
	/* A client that offers h2 first learns it gets HTTP/1.1. */
	tls.cfg.alpn = "http/1.1";
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
	/* Each worker fills its own: the empty cache is copied by the fork. */
	if (cache_size && !cfg->respond) {
		http_cache_init(&cache, (size_t)cache_size, (size_t)cache_max_file);
		cfg->cache = &cache;
	}
	if (cfg->compress && cfg->respond) {
		usage_error("--compress serves files: not with --respond");
		goto out;
	}
	if (cfg->realm && !cfg->auth && !auth_file) {
		usage_error("--realm needs --auth or --auth-file");
		goto out;
	}
	int nargs = argc - optind;
	struct sock_endpoint ep = {.port = "8000",
				   .family = g_opts.family,
				   .socktype = SOCK_STREAM,
				   .numeric = g_opts.numeric};
	if (nargs) {
		if (endpoint_operands(nargs, argv + optind, ENDPOINT_LISTEN | ENDPOINT_EXACT,
				      SOCK_STREAM, &ep.host, &ep.port) < 0)
			goto out;
	}
	char err[SOCK_ERRLEN];
	if (mux_check() < 0)
		goto out;
	/* Before listening: a certificate that cannot be used is an error
	 * at start-up, and every worker shares the one context (a temporary
	 * certificate is made once bound, before the workers fork). */
	if (tls.on && tls.cfg.cert && !(s.tls = tlsopt_server_ctx(&tls, NULL, 0, &rc)))
		goto out;
	s.handshake_ms = tls.handshake_ms;
	rc = EXIT_FAIL;
	if (auth_file && !auth_of(cfg)) {
		errmsg("http serve: out of memory");
		goto out;
	}
	if (auth_file && http_auth_load(cfg->auth, auth_file, err, sizeof err) < 0) {
		errmsg("http serve: --auth-file %s", err);
		goto out;
	}
	if (body && body[0] == '@') {
		if (!read_body_file(cfg, body + 1)) {
			errmsg("http serve: --body %s: %s", body + 1, strerror(errno));
			goto out;
		}
	} else if (body) {
		char *text;
		long n = text_unescape_dup(body, &text, err, sizeof err);
		if (n < 0) {
			rc = usage_error("--body: %s", err);
			goto out;
		}
		cfg->body = text;
		cfg->body_len = (size_t)n;
		cfg->body_owned = true;
	}
	if (!cfg->respond) {
		cfg->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfg->rootfd < 0) {
			errmsg("http serve: %s: %s", dir, strerror(errno));
			goto out;
		}
		/* The built-in table stands in for a missing /etc/mime.types,
		 * not for a file the user named. */
		struct stat st;
		int mfd = mime ? open(mime, O_RDONLY | O_CLOEXEC) : -1;
		if (mime && (mfd < 0 || fstat(mfd, &st) < 0 || !S_ISREG(st.st_mode))) {
			errmsg("http serve: --mime-types %s: %s", mime,
			       mfd < 0 ? strerror(errno) : "not a regular file");
			if (mfd >= 0)
				close(mfd);
			goto out;
		}
		if (mfd >= 0)
			close(mfd);
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
	char where[SOCK_ADDRSTRLEN];
	sock_addr_str((struct sockaddr *)&bound.ss, bound.len, where, sizeof where);
	if (tls.on && !s.tls) {
		const struct sockaddr *b = (const struct sockaddr *)&bound.ss;
		if (!(s.tls = tlsopt_server_ctx(&tls, &b, 1, &rc)))
			goto out;
		rc = EXIT_FAIL;
	}
	/* More workers: processes that each have their own SO_REUSEPORT
	 * listener on the same address (the kernel spreads connections) and
	 * their own loop; this process supervises them. */
	static struct workers w;
	w = (struct workers){.ready_pipe = {-1, -1}};
	int me = 0;
	if (workers > 1) {
		int r = workers_start(&w, (int)workers, &me, err, sizeof err);
		if (r < 0) {
			errmsg("http serve: %s", err);
			goto out;
		}
		if (r == 0) {
			close(s.lfd);
			s.lfd = -1;
			rc = EXIT_OK;
			if (workers_wait_ready(&w, 10000, err, sizeof err) < 0) {
				errmsg("http serve: %s", err);
				rc = EXIT_FAIL;
				for (int i = 0; i < w.n; i++)
					if (w.pids[i] > 0)
						kill(w.pids[i], SIGTERM);
			} else {
				errmsg("listening on %s (tcp, mux=%s%s)", where, mux_resolved(),
				       tlsopt_ready_note(&tls));
				if (!g_opts.quiet)
					errmsg("serving %s at %s://%s/ with %ld workers",
					       cfg->respond ? "fixed responses" : dir,
					       s.tls ? "https" : "http", where, workers);
			}
			int ws = workers_wait(&w);
			workers_free(&w);
			rc = rc ? rc : ws;
			goto out;
		}
		if (me > 0) {
			int first = s.lfd;
			s.lfd = workers_listen_again(first, &bound, lo.backlog, err, sizeof err);
			close(first);
			if (s.lfd < 0) {
				errmsg("http serve: %s", err);
				goto out;
			}
		}
	}
	raise_fd_limit();
	struct loop *l = cmd_loop(s.max_conns + 64, &rc);
	if (!l)
		goto out;
	/* Each worker its own queues: a stalled reader of the access log (or
	 * of stderr) must not stop the serving. */
	logs_start(l, s.log_format != HTTP_LOG_NONE ? "access log lines" : NULL);
	int limit = loop_fd_limit(l);
	if (limit > 0 && s.max_conns > (limit - 32) / 2) {
		/* what select can hold, with room for file descriptors */
		s.max_conns = (limit - 32) / 2;
		if (me == 0)
			vmsg("--max-conns lowered to %d for the %s backend", s.max_conns,
			     loop_backend(l));
	}
	if (cfg->compress && me == 0) {
		unsigned have = http_encode_available();
		if (!have)
			vmsg("--compress: this build has neither zlib nor libbrotli: only "
			     "precompressed .br and .gz files are served");
		else
			vmsg("--compress: %s%s%s on the fly for text up to %u KiB, and "
			     "precompressed .br and .gz files",
			     have & HTTP_CODING_BIT(HTTP_CODING_BR) ? "br" : "",
			     have == (HTTP_CODING_BIT(HTTP_CODING_BR) |
				      HTTP_CODING_BIT(HTTP_CODING_GZIP))
				 ? " and "
				 : "",
			     have & HTTP_CODING_BIT(HTTP_CODING_GZIP) ? "gzip" : "",
			     HTTP_ENCODE_MAX >> 10);
	}
	if (workers > 1) {
		workers_ready(&w);
	} else {
		errmsg("listening on %s (tcp, mux=%s%s)", where, loop_backend(l),
		       tlsopt_ready_note(&tls));
		if (!g_opts.quiet)
			errmsg("serving %s at %s://%s/", cfg->respond ? "fixed responses" : dir,
			       s.tls ? "https" : "http", where);
	}
	rc = serve_loop(&s, l);
	logs_end(LOGS_END_MS);
	loop_free(l);
out:
	if (s.lfd >= 0)
		close(s.lfd);
	free_cfg(cfg);
	tls_ctx_free(s.tls);
	tlsopt_free(&tls);
	return rc;
}
