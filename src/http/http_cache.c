/* The small-file cache of http serve. See http_cache.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "http/http_cache.h"

#define FIRST_BUCKETS 256

static uint32_t hash_of(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

void http_cache_init(struct http_cache *c, size_t max_total, size_t max_file)
{
	*c = (struct http_cache){.max_total = max_total, .max_file = max_file};
}

struct http_cache_entry *http_cache_ref(struct http_cache_entry *e)
{
	e->refs++;
	return e;
}

void http_cache_unref(struct http_cache_entry *e)
{
	if (e && --e->refs == 0)
		free(e);
}

static void unlink_lru(struct http_cache *c, struct http_cache_entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	e->older = e->newer = NULL;
}

static void push_newest(struct http_cache *c, struct http_cache_entry *e)
{
	e->older = c->newest;
	e->newer = NULL;
	if (c->newest)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
}

void http_cache_drop(struct http_cache *c, struct http_cache_entry *e)
{
	if (!e->listed)
		return;
	struct http_cache_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	unlink_lru(c, e);
	e->listed = false;
	c->used -= e->cost;
	c->n--;
	http_cache_unref(e);
}

void http_cache_free(struct http_cache *c)
{
	while (c->oldest)
		http_cache_drop(c, c->oldest);
	free(c->buckets);
	c->buckets = NULL;
	c->nbuckets = 0;
}

struct http_cache_entry *http_cache_find(struct http_cache *c, const char *key, size_t klen)
{
	if (!c->n) {
		c->misses++;
		return NULL;
	}
	uint32_t h = hash_of(key, klen);
	for (struct http_cache_entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && strncmp(e->key, key, klen) == 0 && e->key[klen] == '\0')
			return e;
	c->misses++;
	return NULL;
}

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

bool http_cache_fresh(struct http_cache *c, struct http_cache_entry *e, const struct stat *st)
{
	bool same = e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
		    same_time(e->mtim, st->st_mtim) && same_time(e->ctim, st->st_ctim) &&
		    S_ISREG(st->st_mode);
	if (same) {
		c->hits++;
		unlink_lru(c, e);
		push_newest(c, e);
	} else {
		c->stale++;
	}
	return same;
}

static bool grow(struct http_cache *c)
{
	size_t nb = c->nbuckets ? c->nbuckets * 2 : FIRST_BUCKETS;
	struct http_cache_entry **b = calloc(nb, sizeof *b);
	if (!b)
		return c->nbuckets != 0; /* a longer chain will do */
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct http_cache_entry *e = c->buckets[i], *next; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nb;
	return true;
}

struct http_cache_entry *http_cache_put(struct http_cache *c, const char *key,
					const struct stat *st, const char *fields,
					size_t fields_len, const char *meta, size_t meta_len,
					const char *etag, const char *body, size_t body_len)
{
	size_t klen = strlen(key), elen = strlen(etag);
	if (!c->max_total || body_len > c->max_file ||
	    elen >= sizeof((struct http_cache_entry *)0)->etag)
		return NULL;
	/* one allocation: the entry, its key, then fields, meta and body */
	size_t cost = sizeof(struct http_cache_entry) + klen + 1 + fields_len + meta_len + body_len;
	if (cost > c->max_total)
		return NULL;
	if (c->n >= c->nbuckets && !grow(c))
		return NULL;
	struct http_cache_entry *e = malloc(cost);
	if (!e)
		return NULL;
	memset(e, 0, sizeof *e);
	char *p = e->key;
	memcpy(p, key, klen + 1);
	p += klen + 1;
	e->fields = p;
	memcpy(p, fields, fields_len);
	p += fields_len;
	e->meta = p;
	memcpy(p, meta, meta_len);
	p += meta_len;
	e->body = p;
	if (body_len)
		memcpy(p, body, body_len);
	memcpy(e->etag, etag, elen + 1);
	e->fields_len = fields_len;
	e->meta_len = meta_len;
	e->body_len = body_len;
	e->cost = cost;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtim = st->st_mtim;
	e->ctim = st->st_ctim;
	e->hash = hash_of(key, klen);
	struct http_cache_entry *old = http_cache_find(c, key, klen);
	if (old)
		http_cache_drop(c, old);
	else
		c->misses--; /* that look-up was ours, not a request's */
	while (c->used + cost > c->max_total && c->oldest)
		http_cache_drop(c, c->oldest);
	e->refs = 1;
	e->listed = true;
	size_t b = e->hash & (c->nbuckets - 1);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	push_newest(c, e);
	c->used += cost;
	c->n++;
	return e;
}
