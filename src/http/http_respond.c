/* What http serve answers: files with conditionals and ranges, directory
 * listings, the add-a-slash redirect, uploads and fixed responses. The
 * head and small bodies go to c->out; file bodies are left as HTTP_SEG_FILE
 * pieces (sent by the stream, see http_conn.c). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http/http_auth.h"
#include "http/http_cache.h"
#include "http/http_date.h"
#include "http/http_encode.h"
#include "http/http_escape.h"
#include "http/http_listing.h"
#include "http/http_mime.h"
#include "http/http_serve.h"

#define OBUF_MAX (16u << 20) /* a listing bigger than this is refused */

bool http_obuf_append(struct http_obuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > OBUF_MAX)
			return false;
		char *p = realloc(b->p, cap);
		if (!p)
			return false;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

bool http_obuf_printf(struct http_obuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof tmp)
		return http_obuf_append(b, tmp, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return false;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	bool ok = http_obuf_append(b, big, (size_t)n);
	free(big);
	return ok;
}

const char *http_reason(int s)
{
	switch (s) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 416:
		return "Range Not Satisfiable";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	}
	return s < 300 ? "OK" : s < 400 ? "Redirect" : s < 500 ? "Client Error" : "Server Error";
}

static const char *date_now(void)
{
	static time_t last = -1;
	static char cache[HTTP_DATE_LEN];
	time_t t = time(NULL);
	if (t != last) {
		http_date_format(t, cache);
		last = t;
	}
	return cache;
}

static bool head_begin(struct http_conn *c, int status)
{
	c->status = status;
	c->out.len = 0;
	c->nseg = c->cur = 0;
	c->cur_done = 0;
	return http_obuf_printf(&c->out, "HTTP/1.1 %d %s\r\nServer: sockctl\r\nDate: %s\r\n",
				status, http_reason(status), date_now());
}

/* --cors on every answer: the origin allowed; one named origin (not
 * "*") varies by Origin, and may see answers to credentials (--auth). */
static bool cors_headers(struct http_conn *c, const struct http_cfg *cfg)
{
	bool one = strcmp(cfg->cors, "*") != 0;
	return http_obuf_printf(&c->out, "Access-Control-Allow-Origin: %s\r\n%s%s", cfg->cors,
				one ? "Vary: Origin\r\n" : "",
				one && cfg->auth ? "Access-Control-Allow-Credentials: true\r\n"
						 : "");
}

/* Ends the head: extra headers, CORS, Connection, the blank line; the
 * head becomes the first piece. */
static bool head_end(struct http_conn *c, const struct http_cfg *cfg)
{
	const struct http_req *r = &c->req;
	if (!r->keep_alive)
		c->close_after = true;
	/* A body this answer leaves unread is dropped before the next
	 * request, unless it is too big to drop, or held back by a client
	 * waiting for a 100 Continue that will not come: then we close, and
	 * must say so here, or the client could send its next request after
	 * the body into a connection we are shutting down. (The answer to an
	 * upload comes after its body: c->req then holds no length.) */
	if (r->content_length > HTTP_DISCARD_MAX || (r->content_length && r->expect_continue))
		c->close_after = true;
	bool ok = http_obuf_append(&c->out, cfg->extra ? cfg->extra : "", cfg->extra_len);
	if (cfg->cors)
		ok = ok && cors_headers(c, cfg);
	if (c->close_after)
		ok = ok && http_obuf_append(&c->out, "Connection: close\r\n", 19);
	else if (r->version == 10)
		ok = ok && http_obuf_append(&c->out, "Connection: keep-alive\r\n", 24);
	ok = ok && http_obuf_append(&c->out, "\r\n", 2);
	c->segs[0] = (struct http_seg){HTTP_SEG_MEM, 0, c->out.len};
	c->nseg = 1;
	return ok;
}

static void add_mem(struct http_conn *c, size_t from)
{
	if (c->out.len > from)
		c->segs[c->nseg++] = (struct http_seg){HTTP_SEG_MEM, from, c->out.len - from};
}

static bool is_head(const struct http_conn *c)
{
	return c->req.method == HTTP_M_HEAD;
}

/* A head plus a small in-memory body. */
static bool simple(struct http_conn *c, const struct http_cfg *cfg, int status, const char *ctype,
		   const char *body, size_t blen, const char *more)
{
	bool ok = head_begin(c, status);
	if (ctype)
		ok = ok && http_obuf_printf(&c->out, "Content-Type: %s\r\n", ctype);
	ok = ok && http_obuf_printf(&c->out, "Content-Length: %zu\r\n%s", blen, more ? more : "");
	ok = ok && head_end(c, cfg);
	if (!is_head(c) && blen) {
		size_t from = c->out.len;
		ok = ok && http_obuf_append(&c->out, body, blen);
		add_mem(c, from);
	}
	return ok;
}

bool http_respond_error(struct http_conn *c, const struct http_cfg *cfg, int status, bool head)
{
	char body[128];
	int n = snprintf(body, sizeof body, "%d %s\n", status, http_reason(status));
	c->close_after = true;
	if (!head)
		c->req.method = HTTP_M_GET;
	return simple(c, cfg, status, "text/plain; charset=utf-8", body, (size_t)n, NULL);
}

static bool error_keep(struct http_conn *c, const struct http_cfg *cfg, int status,
		       const char *more)
{
	char body[128];
	int n = snprintf(body, sizeof body, "%d %s\n", status, http_reason(status));
	return simple(c, cfg, status, "text/plain; charset=utf-8", body, (size_t)n, more);
}

/* ---- conditionals ---- */

static void make_etag(const struct stat *st, char *out, size_t outlen)
{
	snprintf(out, outlen, "\"%llx-%llx-%llx.%lx\"", (unsigned long long)st->st_ino,
		 (unsigned long long)st->st_size, (unsigned long long)st->st_mtim.tv_sec,
		 (unsigned long)st->st_mtim.tv_nsec);
}

/* Does an If-None-Match list hold our tag (weak comparison)? */
static bool etag_listed(struct http_str v, const char *etag)
{
	size_t el = strlen(etag), i = 0;
	while (i < v.len) {
		while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		if (i < v.len && v.p[i] == '*')
			return true;
		if (i + 2 <= v.len && v.p[i] == 'W' && v.p[i + 1] == '/')
			i += 2;
		if (i >= v.len || v.p[i] != '"')
			return false;
		size_t b = i++;
		while (i < v.len && v.p[i] != '"')
			i++;
		if (i >= v.len)
			return false;
		i++;
		if (i - b == el && memcmp(v.p + b, etag, el) == 0)
			return true;
	}
	return false;
}

static bool not_modified(const struct http_conn *c, time_t mtime, const char *etag)
{
	if (c->req.if_none_match.p)
		return etag_listed(c->req.if_none_match, etag);
	time_t t;
	if (c->req.if_modified_since.p &&
	    http_date_parse(c->req.if_modified_since.p, c->req.if_modified_since.len, &t))
		return mtime <= t;
	return false;
}

/* If-Range: the range applies only if the validator still matches
 * (strongly for a tag, exactly for a date). */
static bool if_range_ok(const struct http_conn *c, const struct stat *st, const char *etag)
{
	struct http_str v = c->req.if_range;
	if (!v.p)
		return true;
	if (v.len && v.p[0] == '"')
		return v.len == strlen(etag) && memcmp(v.p, etag, v.len) == 0;
	time_t t;
	return http_date_parse(v.p, v.len, &t) && t == st->st_mtim.tv_sec;
}

/* ---- content codings ---- */

/* --compress: what a GET or HEAD without Range gets: a precompressed
 * sibling (REL.br, REL.gz: a regular file not older than REL, opened as
 * REL is), else REL compressed here (a text type of HTTP_ENCODE_MIN ..
 * HTTP_ENCODE_MAX bytes: bigger ones go as they are, rather than hold
 * the loop up compressing them), else REL as it is; by the client's
 * q-values, br first at equal q. On a sibling *fd and *st become its
 * and *sibling is set. */
static enum http_coding pick_coding(const struct http_conn *c, const struct http_cfg *cfg,
				    const char *rel, const char *ctype, int *fd, struct stat *st,
				    bool *sibling)
{
	struct http_accept_enc ae;
	http_accept_encoding(c->req.accept_encoding.p, c->req.accept_encoding.len, &ae);
	if (ae.q[HTTP_CODING_GZIP] <= 0 && ae.q[HTTP_CODING_BR] <= 0)
		return HTTP_CODING_IDENTITY;
	unsigned offered = 0;
	int sfd[HTTP_CODINGS];
	struct stat sst[HTTP_CODINGS];
	for (int k = 0; k < HTTP_CODINGS; k++)
		sfd[k] = -1;
	for (int k = HTTP_CODING_GZIP; k <= HTTP_CODING_BR; k++) {
		char sib[HTTP_PATH_MAX + 8];
		if (ae.q[k] <= 0 || (size_t)snprintf(sib, sizeof sib, "%s%s", rel,
						     http_coding_suffix(k)) >= sizeof sib)
			continue;
		sfd[k] = http_path_open(cfg->rootfd, sib, O_RDONLY | O_NONBLOCK | O_NOCTTY,
					cfg->symlinks);
		if (sfd[k] < 0)
			continue;
		if (fstat(sfd[k], &sst[k]) == 0 && S_ISREG(sst[k].st_mode) &&
		    sst[k].st_mtim.tv_sec >= st->st_mtim.tv_sec) {
			offered |= HTTP_CODING_BIT(k);
			continue;
		}
		close(sfd[k]);
		sfd[k] = -1;
	}
	if (http_encode_worth(ctype) && st->st_size >= HTTP_ENCODE_MIN &&
	    st->st_size <= HTTP_ENCODE_MAX)
		offered |= http_encode_available();
	enum http_coding ch = http_coding_choose(&ae, offered);
	if (sfd[ch] >= 0) {
		close(*fd);
		*fd = sfd[ch];
		*st = sst[ch];
		sfd[ch] = -1;
		*sibling = true;
	}
	for (int k = HTTP_CODING_GZIP; k <= HTTP_CODING_BR; k++)
		if (sfd[k] >= 0)
			close(sfd[k]);
	return ch;
}

/* The whole of a file of size bytes, read into a malloc'd buffer; NULL
 * when it cannot be read whole (it shrank under us) or out of memory. */
static char *read_whole(int fd, uint64_t size)
{
	char *raw = malloc(size ? (size_t)size : 1);
	size_t got = 0;
	while (raw && got < size) {
		/* not a stream: the served file */
		ssize_t n = pread(fd, raw + got, (size_t)size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (raw && got < size) {
		free(raw);
		raw = NULL;
	}
	return raw;
}

/* REL compressed here: its bytes, compressed, into *z. false: cannot
 * (the file changed under us, out of memory). */
static bool encode_body(int fd, uint64_t size, enum http_coding coding, char **z, size_t *zlen)
{
	char *raw = read_whole(fd, size);
	bool ok = raw && http_encode(coding, raw, (size_t)size, z, zlen);
	free(raw);
	return ok;
}

/* ---- the small-file cache ---- */

/* May this request be answered from (and fill) the cache: a GET or HEAD
 * of a file, no Range, and the file as it is (no coding --compress would
 * pick)? */
static bool cacheable(const struct http_conn *c, const struct http_cfg *cfg)
{
	if (!cfg->cache || c->req.range.p ||
	    (c->req.method != HTTP_M_GET && c->req.method != HTTP_M_HEAD))
		return false;
	if (cfg->compress) {
		struct http_accept_enc ae;
		http_accept_encoding(c->req.accept_encoding.p, c->req.accept_encoding.len, &ae);
		if (ae.q[HTTP_CODING_GZIP] > 0 || ae.q[HTTP_CODING_BR] > 0)
			return false;
	}
	return true;
}

/* The body of a cache entry as the answer's last piece. */
static void add_cached(struct http_conn *c, struct http_cache_entry *e)
{
	if (!is_head(c) && e->body_len) {
		c->held = http_cache_ref(e);
		c->segs[c->nseg++] = (struct http_seg){HTTP_SEG_CACHED, 0, e->body_len};
	}
}

/* The answer from a cache entry: the head from its fields, the body
 * by reference (one writev for both). */
static bool serve_cached(struct http_conn *c, const struct http_cfg *cfg,
			 struct http_cache_entry *e)
{
	if (not_modified(c, e->mtim.tv_sec, e->etag)) {
		bool ok = head_begin(c, 304) && http_obuf_append(&c->out, e->meta, e->meta_len);
		return ok && head_end(c, cfg);
	}
	bool ok = head_begin(c, 200) && http_obuf_append(&c->out, e->fields, e->fields_len) &&
		  head_end(c, cfg);
	add_cached(c, e);
	return ok;
}

/* A file found in the cache and still what it was (one fstatat: a file
 * changed on disk is seen at the next request, with no interval during
 * which a stale copy is served). */
static bool from_cache(struct http_conn *c, const struct http_cfg *cfg, const char *rel, bool *ok)
{
	struct http_cache_entry *e = http_cache_find(cfg->cache, rel, strlen(rel));
	if (!e)
		return false;
	struct stat st;
	if (fstatat(cfg->rootfd, rel, &st, 0) == 0 && http_cache_fresh(cfg->cache, e, &st)) {
		*ok = serve_cached(c, cfg, e);
		return true;
	}
	http_cache_drop(cfg->cache, e);
	return false;
}

/* A whole file of at most the cache's file size, just opened: into the
 * cache (fd closed), to be answered from there; NULL: not cached (answer
 * from the file). */
static struct http_cache_entry *to_cache(struct http_conn *c, const struct http_cfg *cfg, int fd,
					 const struct stat *st, const char *rel, const char *fields,
					 size_t fields_len, const char *meta, const char *etag)
{
	if (!cacheable(c, cfg) || (uint64_t)st->st_size > cfg->cache->max_file)
		return NULL;
	char *body = read_whole(fd, (uint64_t)st->st_size);
	struct http_cache_entry *e =
	    body ? http_cache_put(cfg->cache, rel, st, fields, fields_len, meta, strlen(meta), etag,
				  body, (size_t)st->st_size)
		 : NULL;
	free(body);
	if (e)
		close(fd);
	return e;
}

/* ---- files ---- */

static bool serve_file(struct http_conn *c, const struct http_cfg *cfg, int fd,
		       const struct stat *st0, const char *rel)
{
	char etag[96], lm[HTTP_DATE_LEN], meta[320];
	struct stat stv = *st0;
	const struct stat *st = &stv;
	const char *ctype = http_mime_type(cfg->mime, rel);
	/* a Range request gets the file as it is: ranges of an encoding
	 * made here would not be stable */
	enum http_coding coding = HTTP_CODING_IDENTITY;
	bool sibling = false;
	if (cfg->compress && !c->req.range.p)
		coding = pick_coding(c, cfg, rel, ctype, &fd, &stv, &sibling);
	bool here = coding != HTTP_CODING_IDENTITY && !sibling;
	make_etag(st, etag, sizeof etag);
	if (coding != HTTP_CODING_IDENTITY) {
		/* each encoding its own tag: a cache must not answer a gzip
		 * request's If-None-Match with the br variant's 304 */
		size_t el = strlen(etag);
		snprintf(etag + el - 1, sizeof etag - el + 1, "-%s\"", http_coding_name(coding));
	}
	http_date_format(st->st_mtim.tv_sec, lm);
	snprintf(meta, sizeof meta, "Last-Modified: %s\r\nETag: %s\r\n%s%s%s%s", lm, etag,
		 cfg->compress ? "Vary: Accept-Encoding\r\n" : "",
		 coding != HTTP_CODING_IDENTITY ? "Content-Encoding: " : "",
		 coding != HTTP_CODING_IDENTITY ? http_coding_name(coding) : "",
		 coding != HTTP_CODING_IDENTITY ? "\r\n" : "");
	uint64_t size = (uint64_t)st->st_size;
	if (not_modified(c, st->st_mtim.tv_sec, etag)) {
		close(fd);
		bool ok = head_begin(c, 304) && http_obuf_append(&c->out, meta, strlen(meta));
		return ok && head_end(c, cfg);
	}
	if (coding != HTTP_CODING_IDENTITY) {
		/* What is compressed here is kept in the cache under its own
		 * key (the path, a control byte no path holds, the coding),
		 * checked against the file as the file's own entry is. */
		char key[HTTP_PATH_MAX + 16];
		snprintf(key, sizeof key, "%s\001%s", rel, http_coding_name(coding));
		struct http_cache_entry *e =
		    here && cfg->cache ? http_cache_find(cfg->cache, key, strlen(key)) : NULL;
		if (e && http_cache_fresh(cfg->cache, e, st)) {
			close(fd);
			return serve_cached(c, cfg, e);
		}
		if (e)
			http_cache_drop(cfg->cache, e);
		char *z = NULL;
		size_t zlen = 0;
		if (here && !encode_body(fd, size, coding, &z, &zlen)) {
			close(fd);
			return error_keep(c, cfg, 500, NULL);
		}
		bool ok = head_begin(c, 200);
		size_t from = c->out.len;
		ok = ok &&
		     http_obuf_printf(&c->out, "Content-Type: %s\r\nContent-Length: %llu\r\n%s",
				      ctype, (unsigned long long)(here ? zlen : size), meta);
		e = ok && here && cfg->cache
			? http_cache_put(cfg->cache, key, st, c->out.p + from, c->out.len - from,
					 meta, strlen(meta), etag, z, zlen)
			: NULL;
		ok = ok && head_end(c, cfg);
		if (here) {
			close(fd);
			if (e) {
				add_cached(c, e);
			} else if (!is_head(c) && zlen) {
				from = c->out.len;
				ok = ok && http_obuf_append(&c->out, z, zlen);
				add_mem(c, from);
			}
			free(z);
			return ok;
		}
		c->filefd = fd;
		if (!is_head(c) && size)
			c->segs[c->nseg++] = (struct http_seg){HTTP_SEG_FILE, 0, size};
		return ok;
	}
	struct http_range r[HTTP_RANGES_MAX];
	size_t nr = 0;
	int rs = HTTP_RANGE_NONE;
	if (c->req.range.p && c->req.method == HTTP_M_GET && if_range_ok(c, st, etag))
		rs = http_range_parse(c->req.range.p, c->req.range.len, size, r, HTTP_RANGES_MAX,
				      &nr);
	bool ok;
	if (rs == HTTP_RANGE_UNSATISFIABLE) {
		close(fd);
		char more[400];
		snprintf(more, sizeof more, "Content-Range: bytes */%llu\r\n%s",
			 (unsigned long long)size, meta);
		return error_keep(c, cfg, 416, more);
	}
	c->filefd = fd;
	if (rs == HTTP_RANGE_NONE) {
		ok = head_begin(c, 200);
		size_t from = c->out.len;
		ok = ok &&
		     http_obuf_printf(&c->out,
				      "Content-Type: %s\r\nContent-Length: %llu\r\nAccept-Ranges: "
				      "bytes\r\n%s",
				      ctype, (unsigned long long)size, meta);
		/* the fields are copied into the entry before head_end adds
		 * what differs from one answer to the next */
		struct http_cache_entry *e = ok ? to_cache(c, cfg, fd, st, rel, c->out.p + from,
							   c->out.len - from, meta, etag)
						: NULL;
		ok = ok && head_end(c, cfg);
		if (e) {
			c->filefd = -1;
			add_cached(c, e);
			return ok;
		}
		if (!is_head(c) && size)
			c->segs[c->nseg++] = (struct http_seg){HTTP_SEG_FILE, 0, size};
		return ok;
	}
	if (nr == 1) {
		ok = head_begin(c, 206) &&
		     http_obuf_printf(
			 &c->out,
			 "Content-Type: %s\r\nContent-Length: %llu\r\nContent-Range: bytes "
			 "%llu-%llu/%llu\r\nAccept-Ranges: bytes\r\n%s",
			 ctype, (unsigned long long)(r[0].last - r[0].first + 1),
			 (unsigned long long)r[0].first, (unsigned long long)r[0].last,
			 (unsigned long long)size, meta) &&
		     head_end(c, cfg);
		c->segs[c->nseg++] =
		    (struct http_seg){HTTP_SEG_FILE, r[0].first, r[0].last - r[0].first + 1};
		return ok;
	}
	/* multipart/byteranges: the boundary is random, so a body that
	 * happens to hold it is vanishingly unlikely. */
	char boundary[40];
	snprintf(boundary, sizeof boundary, "sockctl-%08lx%08lx", (unsigned long)random(),
		 (unsigned long)random());
	char part[HTTP_MAX_SEGS][300];
	uint64_t total = 0;
	for (size_t i = 0; i < nr; i++) {
		snprintf(
		    part[i], sizeof part[i],
		    "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
		    boundary, ctype, (unsigned long long)r[i].first, (unsigned long long)r[i].last,
		    (unsigned long long)size);
		total += strlen(part[i]) + (r[i].last - r[i].first + 1);
	}
	char tail[64];
	snprintf(tail, sizeof tail, "\r\n--%s--\r\n", boundary);
	total += strlen(tail);
	ok = head_begin(c, 206) &&
	     http_obuf_printf(&c->out,
			      "Content-Type: multipart/byteranges; boundary=%s\r\nContent-Length: "
			      "%llu\r\nAccept-Ranges: bytes\r\n%s",
			      boundary, (unsigned long long)total, meta) &&
	     head_end(c, cfg);
	for (size_t i = 0; ok && i < nr; i++) {
		size_t from = c->out.len;
		ok = http_obuf_append(&c->out, part[i], strlen(part[i]));
		add_mem(c, from);
		c->segs[c->nseg++] =
		    (struct http_seg){HTTP_SEG_FILE, r[i].first, r[i].last - r[i].first + 1};
	}
	size_t from = c->out.len;
	ok = ok && http_obuf_append(&c->out, tail, strlen(tail));
	add_mem(c, from);
	return ok;
}

/* ---- listings ---- */

static bool listing(struct http_conn *c, const struct http_cfg *cfg, int dirfd, const char *rel)
{
	struct http_str t = c->req.target;
	const char *qm = t.p ? memchr(t.p, '?', t.len) : NULL;
	struct http_list_query q;
	http_list_query_parse(qm ? qm + 1 : NULL, qm ? (size_t)(t.p + t.len - qm - 1) : 0, &q);
	bool json =
	    q.format == HTTP_LIST_JSON ||
	    (q.format == HTTP_LIST_AUTO && http_accept_json(c->req.accept.p, c->req.accept.len));
	struct http_listing l;
	if (http_listing_read(&l, dirfd, cfg->dotfiles) < 0)
		return error_keep(c, cfg, 500, NULL);
	http_listing_sort(&l, &q);
	struct http_obuf body = {0};
	bool ok =
	    json ? http_listing_json(&body, rel, &l, &q) : http_listing_html(&body, rel, &l, &q);
	http_listing_free(&l);
	if (!ok) {
		free(body.p);
		return error_keep(c, cfg, 500, NULL);
	}
	/* the same URL is HTML or JSON by Accept */
	ok = simple(c, cfg, 200, json ? "application/json" : "text/html; charset=utf-8", body.p,
		    body.len, "Vary: Accept\r\n");
	free(body.p);
	return ok;
}

static int errno_status(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		return 404;
	case ELOOP:
	case EXDEV:
	case EACCES:
	case EPERM:
		return 403;
	}
	return 500;
}

static bool serve_path(struct http_conn *c, const struct http_cfg *cfg, const struct http_path *p)
{
	bool ok;
	/* A directory's URL is answered by its index.html when there is
	 * one: a small file like any other, looked up under its own path
	 * (no directory opened for it). */
	char idx[HTTP_PATH_MAX + 16];
	snprintf(idx, sizeof idx, "%s%sindex.html", p->rel, *p->rel ? "/" : "");
	if ((*p->rel || p->slash) && cacheable(c, cfg) &&
	    from_cache(c, cfg, p->slash ? idx : p->rel, &ok))
		return ok;
	int fd =
	    http_path_open(cfg->rootfd, p->rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, cfg->symlinks);
	if (fd < 0)
		return error_keep(c, cfg, errno_status(errno), NULL);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return error_keep(c, cfg, 500, NULL);
	}
	if (S_ISREG(st.st_mode)) {
		if (p->slash && *p->rel) {
			close(fd);
			return error_keep(c, cfg, 404, NULL);
		}
		return serve_file(c, cfg, fd, &st, p->rel);
	}
	if (!S_ISDIR(st.st_mode)) {
		close(fd);
		return error_keep(c, cfg, 403, NULL);
	}
	if (!p->slash) {
		/* The add-a-slash redirect: built from the cleaned path only,
		 * so it always starts with exactly one '/' (never "//host"),
		 * and every byte that is not plainly safe is %-encoded (no
		 * CRLF, no backslash). */
		close(fd);
		char loc[HTTP_PATH_MAX * 3 + 8], more[HTTP_PATH_MAX * 3 + 32];
		if (!http_path_url(p->rel, true, loc, sizeof loc))
			return error_keep(c, cfg, 414, NULL);
		snprintf(more, sizeof more, "Location: %s\r\n", loc);
		return error_keep(c, cfg, 301, more);
	}
	int ifd = http_path_open(cfg->rootfd, idx, O_RDONLY | O_NONBLOCK | O_NOCTTY, cfg->symlinks);
	struct stat ist;
	if (ifd >= 0 && fstat(ifd, &ist) == 0 && S_ISREG(ist.st_mode)) {
		close(fd);
		return serve_file(c, cfg, ifd, &ist, idx);
	}
	if (ifd >= 0)
		close(ifd);
	ok = cfg->listing ? listing(c, cfg, fd, p->rel) : error_keep(c, cfg, 403, NULL);
	close(fd);
	return ok;
}

/* ---- uploads ---- */

static bool start_upload(struct http_conn *c, const struct http_cfg *cfg, const struct http_path *p)
{
	if (!c->req.has_length)
		return error_keep(c, cfg, 411, NULL);
	if (c->req.content_length > cfg->max_upload) {
		c->close_after = true;
		return error_keep(c, cfg, 413, NULL);
	}
	if (!*p->rel || p->slash)
		return error_keep(c, cfg, 409, NULL);
	char dir[HTTP_PATH_MAX];
	const char *base = strrchr(p->rel, '/');
	if (base) {
		memcpy(dir, p->rel, (size_t)(base - p->rel));
		dir[base - p->rel] = '\0';
		base++;
	} else {
		dir[0] = '\0';
		base = p->rel;
	}
	if (strlen(base) >= sizeof c->upname)
		return error_keep(c, cfg, 414, NULL);
	int dfd = http_path_open(cfg->rootfd, dir, O_RDONLY | O_DIRECTORY, cfg->symlinks);
	if (dfd < 0)
		return error_keep(c, cfg, errno_status(errno), NULL);
	struct stat st;
	c->upexisted = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (c->upexisted && (!cfg->overwrite || !S_ISREG(st.st_mode))) {
		close(dfd);
		return error_keep(c, cfg, 409, NULL);
	}
	/* Written to a hidden temporary file, renamed into place at the end:
	 * nobody ever sees half a file. */
	int tfd = -1;
	for (int tries = 0; tfd < 0 && tries < 8; tries++) {
		snprintf(c->uptmp, sizeof c->uptmp, ".sockctl-upload-%08lx",
			 (unsigned long)random());
		tfd = openat(dfd, c->uptmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			     0644);
		if (tfd < 0 && errno != EEXIST)
			break;
	}
	if (tfd < 0) {
		int e = errno;
		close(dfd);
		return error_keep(c, cfg, e == EACCES || e == EROFS ? 403 : 500, NULL);
	}
	memcpy(c->upname, base, strlen(base) + 1);
	c->updir = dfd;
	c->upfd = tfd;
	c->state = HC_UPLOAD;
	c->status = 0;
	return true;
}

void http_upload_abort(struct http_conn *c)
{
	if (c->upfd >= 0) {
		close(c->upfd);
		unlinkat(c->updir, c->uptmp, 0);
	}
	if (c->updir >= 0)
		close(c->updir);
	c->upfd = c->updir = -1;
}

int http_upload_finish(struct http_conn *c, const struct http_cfg *cfg)
{
	int st = 0;
	if (close(c->upfd) < 0)
		st = 500;
	c->upfd = -1;
	if (!st && renameat2(c->updir, c->uptmp, c->updir, c->upname,
			     cfg->overwrite ? 0 : RENAME_NOREPLACE) < 0)
		st = errno == EEXIST ? 409 : 500;
	if (st)
		unlinkat(c->updir, c->uptmp, 0);
	close(c->updir);
	c->updir = -1;
	return st ? st : c->upexisted ? 204 : 201;
}

bool http_respond_status(struct http_conn *c, const struct http_cfg *cfg, int status)
{
	if (status >= 400)
		return error_keep(c, cfg, status, NULL);
	/* 204 carries no Content-Length (RFC 9110 8.6) */
	return head_begin(c, status) &&
	       (status == 204 || http_obuf_append(&c->out, "Content-Length: 0\r\n", 19)) &&
	       head_end(c, cfg);
}

/* ---- the entry point ---- */

/* Basic authentication: true when the request may go on; else the 401
 * is made. A malformed Authorization gets the 401 too, as nginx answers
 * it (a client with a bad header is a client without credentials). */
static bool authorized(struct http_conn *c, const struct http_cfg *cfg, bool *ok)
{
	struct http_cred cred;
	struct http_str v = c->req.authorization;
	if (v.p && http_auth_basic_parse(v.p, v.len, &cred) == HTTP_AUTH_BASIC &&
	    http_auth_check(cfg->auth, &cred)) {
		/* for the access log, as nginx's $remote_user */
		size_t n = strnlen(cred.user, sizeof c->luser - 1);
		memcpy(c->luser, cred.user, n);
		c->luser[n] = '\0';
		return true;
	}
	char more[HTTP_AUTH_REALM_MAX + 64];
	snprintf(more, sizeof more, "WWW-Authenticate: Basic realm=\"%s\", charset=\"UTF-8\"\r\n",
		 cfg->realm ? cfg->realm : "sockctl");
	*ok = error_keep(c, cfg, 401, more);
	return false;
}

/* Is v a list of header names (tokens, commas, spaces)? Only then is it
 * echoed in Access-Control-Allow-Headers. */
static bool token_list(struct http_str v)
{
	for (size_t i = 0; i < v.len; i++) {
		unsigned char ch = (unsigned char)v.p[i];
		if (!(ch == ',' || ch == ' ' || ch == '\t' || ch == '-' || ch == '_' || ch == '.' ||
		      (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')))
			return false;
	}
	return true;
}

/* --cors: OPTIONS. A preflight (Origin and Access-Control-Request-Method)
 * gets 204 with the methods, the request's headers echoed and how long
 * to keep the answer; it carries no credentials (browsers send none), so
 * it is answered before --auth. Any other OPTIONS gets 204 with Allow. */
static bool options(struct http_conn *c, const struct http_cfg *cfg)
{
	const struct http_req *r = &c->req;
	const char *methods = cfg->respond  ? "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS"
			      : cfg->upload ? "GET, HEAD, PUT, OPTIONS"
					    : "GET, HEAD, OPTIONS";
	bool ok = head_begin(c, 204);
	if (r->origin.p && r->acr_method.p) {
		ok = ok &&
		     http_obuf_printf(&c->out, "Access-Control-Allow-Methods: %s\r\n", methods);
		if (r->acr_headers.p && r->acr_headers.len && token_list(r->acr_headers))
			ok = ok && http_obuf_printf(&c->out,
						    "Access-Control-Allow-Headers: %.*s\r\n"
						    "Vary: Access-Control-Request-Headers\r\n",
						    (int)r->acr_headers.len, r->acr_headers.p);
		ok = ok &&
		     http_obuf_printf(&c->out, "Access-Control-Max-Age: %d\r\n", HTTP_CORS_MAX_AGE);
	} else {
		ok = ok && http_obuf_printf(&c->out, "Allow: %s\r\n", methods);
	}
	return ok && head_end(c, cfg);
}

bool http_respond(struct http_conn *c, const struct http_cfg *cfg)
{
	const struct http_req *r = &c->req;
	bool ok;
	if (cfg->cors && r->method == HTTP_M_OPTIONS)
		return options(c, cfg);
	if (cfg->auth && !authorized(c, cfg, &ok))
		return ok;
	if (cfg->respond) {
		if (cfg->status == 204 || cfg->status == 304)
			return head_begin(c, cfg->status) && head_end(c, cfg);
		const char *ct = cfg->has_ctype ? NULL : "text/plain; charset=utf-8";
		return simple(c, cfg, cfg->status, ct, cfg->body, cfg->body_len, NULL);
	}
	bool put = r->method == HTTP_M_PUT && cfg->upload;
	if (r->method != HTTP_M_GET && r->method != HTTP_M_HEAD && !put)
		return error_keep(c, cfg, 405,
				  cfg->upload ? cfg->cors ? "Allow: GET, HEAD, PUT, OPTIONS\r\n"
							  : "Allow: GET, HEAD, PUT\r\n"
				  : cfg->cors ? "Allow: GET, HEAD, OPTIONS\r\n"
					      : "Allow: GET, HEAD\r\n");
	struct http_path p;
	int st = http_path_clean(r->target.p, r->target.len, &p);
	if (st)
		return error_keep(c, cfg, st, NULL);
	/* Dotfiles (.git, .env, ...) are private unless --dotfiles. */
	if (p.dotfile && !cfg->dotfiles)
		return error_keep(c, cfg, 404, NULL);
	if (put)
		return start_upload(c, cfg, &p);
	return serve_path(c, cfg, &p);
}
