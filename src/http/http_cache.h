/* The small-file cache of http serve: the bytes and the response head of
 * files up to max_file bytes, held in memory keyed by their path under
 * the root, bounded in total (least recently used out first), so a cached
 * file is answered with one write. Each entry remembers what the file was
 * (device, inode, size, mtime, ctime): the server stats the path on every
 * request and drops an entry that no longer matches. Entries are counted
 * references: a connection still sending one keeps it alive after it is
 * dropped. Pure bookkeeping: no I/O. One per process (each worker has
 * its own). */
#ifndef SOCKCTL_HTTP_CACHE_H
#define SOCKCTL_HTTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct http_cache_entry {
	struct http_cache_entry *hnext;		/* the hash chain */
	struct http_cache_entry *older, *newer; /* the LRU list */
	unsigned refs;				/* the table's, and each sender's */
	bool listed;				/* still in the table */
	uint32_t hash;
	/* what the file was when it was read */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	/* the answer: head fields (Content-Type .. ETag, each with CRLF), the
	 * validators alone (for a 304), the body */
	char *fields, *meta, *body, etag[96];
	size_t fields_len, meta_len, body_len, cost;
	char key[]; /* the path, NUL-terminated */
};

struct http_cache {
	size_t max_total, max_file; /* bytes */
	size_t used, n, nbuckets;
	struct http_cache_entry **buckets; /* owned */
	struct http_cache_entry *oldest, *newest;
	uint64_t hits, misses, stale;
};

/* max_total 0: no cache (http_cache_find never finds, put never keeps). */
void http_cache_init(struct http_cache *c, size_t max_total, size_t max_file);
void http_cache_free(struct http_cache *c);

/* The entry for key, or NULL. It is not checked against the file: see
 * http_cache_fresh. */
struct http_cache_entry *http_cache_find(struct http_cache *c, const char *key, size_t klen);
/* Is e still the file st says (same device, inode, size, mtime, ctime)?
 * Counts a hit (and makes e the most recent) or a stale entry. */
bool http_cache_fresh(struct http_cache *c, struct http_cache_entry *e, const struct stat *st);
/* Takes e out of the table (a sender's reference keeps it alive). */
void http_cache_drop(struct http_cache *c, struct http_cache_entry *e);
/* Adds an entry made of copies of the pieces (replacing one for the same
 * key), pushing out the least recently used until the total fits.
 * Returns it, or NULL when it is bigger than max_file, than the whole
 * cache, or out of memory (then nothing changed). */
struct http_cache_entry *http_cache_put(struct http_cache *c, const char *key,
					const struct stat *st, const char *fields,
					size_t fields_len, const char *meta, size_t meta_len,
					const char *etag, const char *body, size_t body_len);

struct http_cache_entry *http_cache_ref(struct http_cache_entry *e);
void http_cache_unref(struct http_cache_entry *e);

#endif
