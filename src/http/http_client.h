/* The HTTP/1.1 client engine behind `sockctl http get`: fetches one URL
 * at a time on the loop (GET or HEAD, request headers, ranges,
 * conditional requests, redirects), keeps the connection alive for the
 * next URL to the same origin, and writes each body (and, if asked, the
 * response head) into an output stream in order.
 *
 * It never prints: the outcome of each URL comes to a callback with an
 * error kind, the complete error text and the timings; progress notes
 * (connected, reused, redirected) go to core/log at LOG_LVL_INFO. The
 * program chooses exit codes and what to print.
 *
 * https URLs go through the TLS handshake stage (net/tls) after the
 * connector (and after a proxy's tunnel), verified as the TLS settings
 * say; a connection is reused only for the same scheme, host and port.
 *
 * The connection is a struct stream (from the connector, or adopted) and
 * the output another: a slow reader of the output stops the client
 * reading the connection until it catches up, so memory stays bounded
 * and no byte is dropped. The idle timeout does not run meanwhile (the
 * reader sets the pace, as a blocking stdout did); max_ms does, and what
 * the output has not taken when it runs out is dropped. A URL is done
 * when its body is written, after a failure too: bytes received before
 * it still go out, unless the output itself failed. */
#ifndef SOCKCTL_HTTP_CLIENT_H
#define SOCKCTL_HTTP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "http/http_resp.h"
#include "http/http_url.h"
#include "net/proxy.h"
#include "net/tls.h"

struct stream;

#define HTTP_CLIENT_MAXHDRS 64
/* The most bytes a request head may take. */
#define HTTP_CLIENT_REQMAX (HTTP_URL_TARGETMAX + 56 * 1024)

/* Why a URL failed (the program maps these to exit codes). */
enum http_client_error {
	HC_OK = 0,
	HC_E_OTHER,	    /* out of memory, a request head too large */
	HC_E_UNSUPPORTED,   /* a scheme the client cannot speak */
	HC_E_URL,	    /* a malformed URL, given or in a redirect */
	HC_E_RESOLVE,	    /* the host does not resolve */
	HC_E_CONNECT,	    /* no address accepted the connection */
	HC_E_BAD_REPLY,	    /* a malformed response */
	HC_E_PARTIAL,	    /* the response was cut short */
	HC_E_HTTP,	    /* status >= 400 with fail set */
	HC_E_WRITE,	    /* the output failed */
	HC_E_TIMEOUT,	    /* connect, max_ms or idle_ms ran out */
	HC_E_REDIRECTS,	    /* more than max_redirs redirects */
	HC_E_EMPTY,	    /* the server closed without a byte of response */
	HC_E_SEND,	    /* sending the request failed */
	HC_E_RECV,	    /* receiving the response failed */
	HC_E_TLS,	    /* TLS failed: the result's tls_kind says how */
	HC_E_PROXY_RESOLVE, /* the proxy's host does not resolve */
	HC_E_PROXY,	    /* the proxy refused or broke the tunnel */
	HC_E_READ,	    /* a body file could not be read (or shrank) */
	HC_E_REWIND,	    /* a redirect needs a body that cannot be sent again */
	HC_E_RANGE,	    /* resuming: the server sent the whole body again */
	HC_E_ENCODING,	    /* compressed: a coding not known, or a corrupt body */
	HC_E_TLS_CHECK,	    /* the caller's tls_check refused the connection */
};

/* A piece of the request body: bytes in memory, or a range of an open
 * regular file, read only as it is sent (the stream's sendfile where it
 * has one, else through a 64 KiB buffer), so a large upload never sits
 * in memory. */
enum http_part_kind { HTTP_PART_MEM, HTTP_PART_FILE };
struct http_client_part {
	enum http_part_kind kind;
	const char *data; /* HTTP_PART_MEM, not copied */
	int fd;		  /* HTTP_PART_FILE, not owned: read with pread */
	uint64_t off, len;
};

/* Where connections for a host and port go instead (curl's
 * --connect-to HOST1:PORT1:HOST2:PORT2 and --resolve HOST:PORT:ADDR):
 * host or port NULL matches any; to_host or to_port NULL keeps it. The
 * URL's host still goes as Host and SNI and is verified. */
struct addrinfo;
struct http_client_route {
	const char *host, *port;
	const char *to_host, *to_port;
	bool resolve; /* --resolve: applied after the --connect-to ones, to_host numeric */
	/* With resolve: the addresses to connect to (every one tried, in
	 * place of to_host), found by the caller; not owned, they must
	 * outlive the request. */
	const struct addrinfo *to_addrs;
};

/* A cookie from a cookie file (-b FILE, Netscape format): sent to the
 * hosts, paths and schemes it matches, redirects' too. */
struct http_client_cookie {
	const char *domain; /* without a leading dot */
	bool subdomains;    /* the domain's subdomains too */
	const char *path;
	bool secure;	 /* https only */
	int64_t expires; /* seconds since the epoch; 0: a session cookie */
	const char *name, *value;
};

struct http_client_cfg {
	bool head; /* HEAD instead of GET: no body */
	/* The request method: NULL is GET (HEAD with head), else "POST",
	 * "PUT"...: a 303, and a 301 or 302 answering a POST, turn it into a
	 * GET without the body, as curl does; 307 and 308 keep both.
	 * custom_method (curl's -X), if set, is what goes on the wire on
	 * every request, redirects too, whatever method says. */
	const char *method;
	const char *custom_method;
	/* The request body: the parts in order, sent with a Content-Length
	 * of their sum (nbody 1 with an empty part: Content-Length: 0), or
	 * body_in read to its end and sent chunked (not owned; it cannot be
	 * sent twice, so a redirect keeping the body fails HC_E_REWIND).
	 * content_type: the Content-Type sent with a body (NULL: none);
	 * a user header replaces it. */
	const struct http_client_part *body;
	int nbody;
	struct stream *body_in;
	const char *content_type;
	bool follow;	   /* follow redirects (301, 302, 303, 307, 308 with Location) */
	long max_redirs;   /* with follow: more is HC_E_REDIRECTS */
	bool fail;	   /* status >= 400: no body, HC_E_HTTP */
	bool write_head;   /* the response head goes to out before its body (-i, -I) */
	const char *range; /* "0-99,200-" for Range: bytes=..., or NULL; see valid_range */
	const char *ims;   /* an If-Modified-Since value, or NULL */
	/* Request headers "Name: value" (see valid_header), not copied: they
	 * replace a default header of that name; "Name:" removes it.
	 * Authorization, Cookie and Proxy-Authorization go only to the
	 * origin of the URL given, never to one a redirect leads to. */
	const char *const *hdrs;
	int nhdrs;	/* at most HTTP_CLIENT_MAXHDRS */
	int connect_ms; /* per address; 0 = none */
	int max_ms;	/* each URL's whole transfer; 0 = none */
	int idle_ms;	/* nothing received for this long: HC_E_TIMEOUT; 0 = none */
	int family;	/* AF_UNSPEC, AF_INET, AF_INET6 for the lookup */
	/* Every connection to this Unix socket (path, or "@name"), or NULL;
	 * else routes, the first that matches of each kind. */
	const char *unix_path;
	const struct http_client_route *routes;
	int nroutes;
	/* With status 408, 429, 500, 502, 503 or 504 the body is dropped
	 * (a retry comes: see http_client_set_drop_transient). */
	bool drop_transient;
	/* Accept-Encoding for what the build decodes (http_decode_accept)
	 * and bodies decoded as their Content-Encoding says. */
	bool compressed;
	/* Cookies: from a file, in the order to send them (curl's: longest
	 * path first), and a Cookie text (-b 'K=V') for the origin of the
	 * URL given only, sent after them in one Cookie header. A Cookie
	 * header in hdrs wins over both. */
	const struct http_client_cookie *cookies;
	int ncookies;
	const char *cookie_text;
	/* Bytes per second each way, body and head (--limit-rate); 0: none. */
	uint64_t limit_rate;
	/* Resuming at resume_from (-C; the caller sends range "OFFSET-"): a
	 * 416 is taken as "complete" (no body, HC_OK), and a 200 (the whole
	 * body again) fails HC_E_RANGE unless its length is resume_from. */
	bool resume;
	int64_t resume_from;
	bool numeric; /* no name lookups */
	/* write_head for every response, redirects' too (-D -). */
	bool write_all_heads;
	/* Called with each response's head as it arrives, redirects' too
	 * (-D FILE); NULL: none. */
	void (*head_cb)(const struct http_resp *r, void *arg);
	void *head_arg;
	/* Where bodies go, not owned (the client sets its callback while it
	 * lives); NULL drops them. */
	struct stream *out;
	/* https: the TLS settings (not copied; role, SNI and ALPN are the
	 * client's own: the URL's host, "http/1.1"). The context is made
	 * from them when the first https URL needs it, so a bad CA file
	 * fails only an https URL. NULL: https URLs fail (HC_E_TLS,
	 * TLS_E_NOTLS). handshake_ms: each handshake's limit (0: none; a
	 * timeout is HC_E_TIMEOUT, as a connect's is). */
	const struct tls_config *tls;
	int handshake_ms;
	/* After each handshake with the origin (an https proxy's own is
	 * not one), before the request goes: the caller's look at the TLS
	 * stream s (NULL: none). True goes on; false fails the URL with
	 * HC_E_TLS_CHECK and "URL: why". kind: a verification or pin
	 * failure that tls->report_failures let through for a report: the
	 * URL then fails with it (HC_E_TLS) whatever the check says. */
	bool (*tls_check)(void *arg, const struct stream *s, enum tls_err kind, char *why,
			  size_t whylen);
	void *tls_check_arg;
	/* Every connection through this proxy (NULL host: none): a tunnel
	 * (HTTP CONNECT, SOCKS4a, SOCKS5) to the URL's host and port,
	 * which the proxy resolves; TLS for https then runs inside it. */
	const char *proxy_host, *proxy_port;
	enum proxy_type proxy_type;
	const char *proxy_user, *proxy_pass; /* NULL: no authentication */
	/* An https proxy: TLS to the proxy itself first, verified for
	 * proxy_host (NULL: a plain proxy). Not owned. */
	struct tls_ctx *proxy_tls;
};

/* The outcome of one URL: valid during the callback, until it returns or
 * starts the next URL. */
struct http_client_result {
	enum http_client_error error;
	enum tls_err tls_kind; /* with HC_E_TLS: what failed */
	int conn_errno;	       /* with HC_E_CONNECT: the last address's errno, if known */
	const char *errtext;   /* the complete message, "" when error is HC_OK */
	const char *url;       /* as given */
	/* The last response's head: valid when status != 0 (0: no head
	 * arrived, for instance when the connection failed). */
	int status;
	const struct http_resp *resp;
	const struct http_url *final_url; /* after redirects; NULL if url did not parse */
	long redirects;
	uint64_t uploaded;  /* request body bytes sent for the last request */
	const char *method; /* of the last request */
	/* Response heads received and request heads sent, redirects too. */
	uint64_t head_bytes, request_bytes;
	long connects; /* connections made for this URL */
	/* The last connection's addresses ("" and 0 when there was none). */
	char remote_ip[46], local_ip[46];
	int remote_port, local_port;
	/* Microseconds from the start of the URL: the last lookup done,
	 * connection made, first response byte, and the end (the output
	 * written). */
	int64_t t_lookup, t_connect, t_first, t_total;
	/* The TLS handshake done (0 for http), the request about to go. */
	int64_t t_appconnect, t_pretransfer;
};

struct http_client;
typedef void (*http_client_cb)(struct http_client *hc, const struct http_client_result *r,
			       void *arg);

/* Counters for tests and -v. */
struct http_client_stats {
	uint64_t connections; /* made or adopted */
	uint64_t requests;    /* sent (redirects and retries count) */
	uint64_t reused;      /* requests sent on a connection that had carried one */
	/* Connection callbacks that moved nothing (no byte read or written,
	 * no end seen): a sign of waiting on the wrong event. */
	uint64_t wakeups, idle_wakeups;
	/* Body bytes spliced from the connection to the output (never in
	 * memory). */
	uint64_t spliced;
};

/* Copies cfg (not what its pointers point at). NULL with errno: ENOMEM,
 * or EINVAL for a header or range that is not valid. */
struct http_client *http_client_new(struct loop *l, const struct http_client_cfg *cfg);
/* Closes the connection, forgets the output stream's callback, frees. A
 * URL under way is abandoned without its callback. NULL is fine. */
void http_client_free(struct http_client *hc);

/* Starts fetching url (copied); cb runs exactly once, from the loop,
 * never from inside this call. It may start the next URL. Returns 0, or
 * -1 with errno (EBUSY: a URL is under way; ENOMEM). */
int http_client_get(struct http_client *hc, const char *url, http_client_cb cb, void *arg);

/* Hands the client a connection made elsewhere (a socketpair, a tunnel,
 * a TLS stream) to origin: the next URL there goes on it, as on a fresh
 * connection. The client owns s from now on. Returns 0, or -1 with
 * errno EBUSY (s is not taken then). */
int http_client_adopt(struct http_client *hc, struct stream *s, const struct http_url *origin);

void http_client_get_stats(const struct http_client *hc, struct http_client_stats *st);

/* The URL under way: the body bytes of the response being read so far
 * and its length (-1: not known). False before a response head. */
bool http_client_progress(const struct http_client *hc, uint64_t *got, int64_t *total);

/* Between URLs: drop_transient for the next one (a retry is left). */
void http_client_set_drop_transient(struct http_client *hc, bool on);
/* Between URLs: where the next bodies go (NULL drops them); the old
 * output's callback is forgotten. */
void http_client_set_out(struct http_client *hc, struct stream *out);

/* Checks for the callers' option parsing (the client refuses what fails
 * them): a request header "Name: value" with a token for a name and no
 * control bytes in the value; a byte range set "0-99", "-500", "100-",
 * "0-1,5-9" with no LAST below its FIRST. */
bool http_client_valid_header(const char *h);
bool http_client_valid_range(const char *s);
/* A method: a token (RFC 9110), "POST", "PROPFIND". */
bool http_client_valid_method(const char *m);

#endif
