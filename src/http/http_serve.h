/* http serve: the engine. struct http_server holds the settings the
 * program fills in (the answers in struct http_cfg, the limits, where the
 * access log goes) and the running state; http_conn.c runs the
 * connections, each a struct stream (from the acceptor, or handed in with
 * http_server_adopt), and http_respond.c decides what to answer: files,
 * listings, ranges, uploads, fixed responses. Nothing here prints:
 * diagnostics go through core/log, access log lines to a callback. */
#ifndef SOCKCTL_HTTP_SERVE_H
#define SOCKCTL_HTTP_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/sbuf.h"
#include "http/http_parse.h"
#include "http/http_path.h"
#include "http/http_range.h"
#include "net/tls_accept.h"

struct acceptor;
struct http_auth;
struct http_cache;
struct http_cache_entry;
struct http_mime;
struct stream;

struct http_cfg {
	int rootfd; /* owned: the served directory */
	enum http_symlinks symlinks;
	bool listing, dotfiles;
	/* --respond: every request gets this answer */
	bool respond;
	int status;
	const char *body; /* owned when read from a file (body_owned) */
	size_t body_len;
	bool body_owned;
	bool has_ctype; /* an --header gave Content-Type */
	/* --header lines, each "Name: value\r\n" (owned) */
	char *extra;
	size_t extra_len;
	bool upload, overwrite;
	uint64_t max_upload;
	struct http_mime *mime; /* owned */
	/* --auth/--auth-file: every request needs one of these accounts
	 * (NULL: none needed); realm: said in the 401 (owned) */
	struct http_auth *auth;
	char *realm;
	/* --compress: precompressed siblings, and text compressed here */
	bool compress;
	/* --cors: the origin allowed ("*" or one origin; owned), NULL: no
	 * CORS headers and OPTIONS is refused as before */
	char *cors;
	/* the small-file cache (NULL: none; the program's, one a process) */
	struct http_cache *cache;
};
#define HTTP_CORS_MAX_AGE 86400	     /* seconds a preflight answer may be kept */
#define HTTP_ENCODE_MIN	  64	     /* smaller: not worth compressing */
#define HTTP_ENCODE_MAX	  (1u << 20) /* bigger: sent as it is (or a sibling) */

/* A growable output buffer with a hard cap. */
struct http_obuf {
	char *p; /* owned */
	size_t len, cap;
};
bool http_obuf_append(struct http_obuf *b, const char *s, size_t n);
bool http_obuf_printf(struct http_obuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A response is a list of pieces: bytes in the output buffer, bytes of
 * the cache entry the connection holds, or a range of the open file (sent
 * with the stream's sendfile where it has one, else read and written). */
enum { HTTP_SEG_MEM, HTTP_SEG_FILE, HTTP_SEG_CACHED };
struct http_seg {
	int kind;
	/* HTTP_SEG_MEM: offset in out; HTTP_SEG_FILE: file offset;
	 * HTTP_SEG_CACHED: offset in held->body */
	uint64_t off, len;
};
#define HTTP_MAX_SEGS (2 * HTTP_RANGES_MAX + 2)

/* In the head buffer: the longest head plus room for the start of a
 * pipelined request behind it. */
#define HTTP_CONN_IN_CAP (HTTP_MAX_HEAD + 4096)

enum http_conn_state {
	HC_READ,    /* waiting for (the rest of) a request head */
	HC_WRITE,   /* sending a response */
	HC_DISCARD, /* reading a request body nobody wants */
	HC_UPLOAD,  /* reading a PUT body into a temporary file */
	HC_CLOSING, /* response sent, write side shut, draining before close */
};

struct http_conn {
	struct http_server *srv; /* not owned */
	struct http_conn *prev, *next;
	struct stream *s; /* owned */
	bool zero_copy;	  /* file pieces by the stream's sendfile */
	enum http_conn_state state;
	struct timer timer; /* the deadline of the current state */
	char *in;	    /* owned, HTTP_CONN_IN_CAP bytes */
	size_t inlen;
	struct http_req req;
	bool close_after; /* close once this response is sent */
	bool shut;	  /* HC_CLOSING: our write side is shut */
	/* the response */
	struct http_obuf out;
	struct http_seg segs[HTTP_MAX_SEGS];
	size_t nseg, cur;
	uint64_t cur_done;
	int filefd;		       /* owned, -1 if none */
	struct http_cache_entry *held; /* a reference, for HTTP_SEG_CACHED */
	uint64_t filepos;	       /* filefd's offset (where sendfile reads) */
	/* The copy path: file bytes read, not yet written; fbuf[fb_at] is
	 * the next byte of the current file piece. */
	char *fbuf; /* owned, allocated on first use */
	size_t fb_at, fb_len;
	uint64_t body_left; /* request body bytes still to read */
	size_t cont_left;   /* bytes of a "100 Continue" still to send */
	/* a PUT in progress */
	int updir; /* owned, -1 if none */
	int upfd;  /* owned, -1 if none */
	char uptmp[64];
	char upname[256];
	bool upexisted;
	/* for the access log: raw copies, escaped when written */
	int status;
	uint64_t sent;
	char peer[64];
	char lmethod[24], ltarget[1024], lref[256], lua[256];
	char luser[128]; /* the account a request was let in as, or "" */
	/* The subject of the client's certificate when TLS verified one
	 * (--client-ca), RFC 2253 on one line; "" otherwise. */
	char lsubject[256];
	int lversion; /* 0: no request line understood */
};

enum { HTTP_LOG_NONE, HTTP_LOG_COMBINED, HTTP_LOG_JSON };
#define HTTP_DISCARD_MAX (64 * 1024) /* a bigger unwanted body: close instead */
#define HTTP_LINGER_MS	 2000

/* An access log line, with its newline. */
typedef void (*http_log_fn)(void *arg, const char *line, size_t len);

/* One listener and its connections (one per worker process). */
struct http_server {
	/* Settings, filled by the program before http_server_start. */
	struct http_cfg cfg;
	int lfd; /* the listener (not owned), or -1: connections handed in */
	int max_conns;
	int header_ms, idle_ms, send_ms;
	int log_format;	    /* HTTP_LOG_* */
	http_log_fn log_fn; /* NULL: no access log */
	void *log_arg;
	/* TLS on every accepted connection (not owned; NULL: plain): the
	 * handshake first, within handshake_ms, not counted as a request
	 * but against max_conns; then served as any connection. */
	struct tls_ctx *tls;
	int handshake_ms;
	/* Running state. */
	struct loop *l;
	struct acceptor *acc; /* owned */
	bool paused;	      /* at max_conns */
	struct http_conn *conns;
	int nconns;
	struct tls_accepts hs; /* with tls: the handshakes under way */
	struct sbuf logline;
	/* file bytes sent by sendfile, and read and written */
	uint64_t bytes_zero_copy, bytes_copied;
};

/* Starts serving on l: accepts on s->lfd, if there is one. 0, or -1 with
 * errno. */
int http_server_start(struct http_server *s, struct loop *l);
/* Serves a connection made elsewhere (the acceptor's, or a test's):
 * takes the stream. peer: the client's address as text, for the log.
 * 0, or -1 with errno (the stream is closed then). */
int http_server_adopt(struct http_server *s, struct stream *st, const char *peer);
/* Stops accepting and closes every connection. */
void http_server_stop(struct http_server *s);
/* Closes a connection, aborting what it was doing. */
void http_conn_close(struct http_conn *c);

/* Builds the answer to the parsed request in c->req (whose strings point
 * into c->in): fills c->out, c->segs, c->filefd, c->status, and may set
 * c->close_after or start an upload (c->state = HC_UPLOAD). Returns false
 * only when out of memory. */
bool http_respond(struct http_conn *c, const struct http_cfg *cfg);
/* An error answer (400, 408, 414, ...) with a short body; closes after. */
bool http_respond_error(struct http_conn *c, const struct http_cfg *cfg, int status, bool head);
/* A head-only answer with this status (after an upload). */
bool http_respond_status(struct http_conn *c, const struct http_cfg *cfg, int status);
/* Finishes an upload once the body is in: the status of the answer. */
int http_upload_finish(struct http_conn *c, const struct http_cfg *cfg);
void http_upload_abort(struct http_conn *c);

const char *http_reason(int status);

#endif
