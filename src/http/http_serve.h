/* http serve: the configuration, the per-connection state and the
 * response builder shared by cmd_http_serve.c (sockets, the loop, the
 * log) and http_respond.c (what to answer: files, listings, ranges,
 * uploads, fixed responses). Nothing here prints. */
#ifndef SOCKCTL_HTTP_SERVE_H
#define SOCKCTL_HTTP_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http_parse.h"
#include "http/http_path.h"
#include "http/http_range.h"
#include "core/loop.h"

struct http_mime;

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
};

/* A growable output buffer with a hard cap. */
struct http_obuf {
	char *p; /* owned */
	size_t len, cap;
};
bool http_obuf_append(struct http_obuf *b, const char *s, size_t n);
bool http_obuf_printf(struct http_obuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A response is a list of pieces: bytes in the output buffer, or a range
 * of the open file (sent with sendfile). */
enum { HTTP_SEG_MEM, HTTP_SEG_FILE };
struct http_seg {
	int kind;
	uint64_t off, len; /* HTTP_SEG_MEM: offset in out; HTTP_SEG_FILE: file offset */
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
	int fd;
	enum http_conn_state state;
	struct timer timer; /* the deadline of the current state */
	char *in;	    /* owned, HTTP_CONN_IN_CAP bytes */
	size_t inlen;
	struct http_req req;
	bool close_after; /* close once this response is sent */
	/* the response */
	struct http_obuf out;
	struct http_seg segs[HTTP_MAX_SEGS];
	size_t nseg, cur;
	uint64_t cur_done;
	int filefd;	    /* owned, -1 if none */
	uint64_t body_left; /* request body bytes still to read */
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
	int lversion; /* 0: no request line understood */
};

enum { HTTP_LOG_NONE, HTTP_LOG_COMBINED, HTTP_LOG_JSON };
#define HTTP_DISCARD_MAX (64 * 1024) /* a bigger unwanted body: close instead */
#define HTTP_LINGER_MS	 2000
#define RUN_RECV_BUDGET	 16

/* One listener and its connections (one per worker process). */
struct http_server {
	struct loop *l;
	struct http_cfg cfg;
	int lfd;
	bool accepting;
	struct timer retry; /* accept paused on EMFILE */
	struct http_conn *conns;
	int nconns, max_conns;
	int header_ms, idle_ms, send_ms;
	int log_format;
};

/* Accepts on s->lfd (watch it with this callback, arg s). */
void http_on_listen(struct loop *l, int lfd, int mask, void *arg);
/* The accept-retry timer's callback (s->retry, arg s). */
void http_on_retry(struct loop *l, void *arg);
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
