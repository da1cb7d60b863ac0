#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* Under AddressSanitizer a kept block is poisoned, so a use of a
 * buffer after buf_free is still reported. */
#if defined(__SANITIZE_ADDRESS__)
#define BUF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUF_ASAN 1
#endif
#endif
#ifdef BUF_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct buf_cache {
	int n;
	char *blk[BUF_CACHE_MAX];
};
/* The thread's list; a thread that ends frees it through the key (the
 * main thread's is still reachable at exit). */
static __thread struct buf_cache *cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static bool cache_ok;

static void cache_drop(void *p)
{
	struct buf_cache *c = p;
	for (int i = 0; i < c->n; i++) {
		UNPOISON(c->blk[i], BUF_CACHE_SIZE);
		free(c->blk[i]);
	}
	free(c);
	cache = NULL; /* a later buf_free in this thread makes a new list */
}

static void cache_key_make(void)
{
	cache_ok = pthread_key_create(&cache_key, cache_drop) == 0;
}

/* Keeps blk if there is room; false: the caller frees it. */
static bool cache_put(char *blk)
{
	if (!cache) {
		pthread_once(&cache_once, cache_key_make);
		if (!cache_ok || !(cache = calloc(1, sizeof *cache)))
			return false;
		if (pthread_setspecific(cache_key, cache) != 0) {
			free(cache);
			cache = NULL;
			return false;
		}
	}
	if (cache->n == BUF_CACHE_MAX)
		return false;
	POISON(blk, BUF_CACHE_SIZE);
	cache->blk[cache->n++] = blk;
	return true;
}

bool buf_init(struct buf *b, size_t cap)
{
	if (cap == BUF_CACHE_SIZE && cache && cache->n) {
		b->data = cache->blk[--cache->n];
		UNPOISON(b->data, BUF_CACHE_SIZE);
	} else
		b->data = malloc(cap);
	b->cap = b->data ? cap : 0;
	b->start = b->end = 0;
	return b->data != NULL;
}

void buf_free(struct buf *b)
{
	if (!b->data || b->cap != BUF_CACHE_SIZE || !cache_put(b->data))
		free(b->data);
	b->data = NULL;
	b->cap = b->start = b->end = 0;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n > buf_len(b))
		n = buf_len(b);
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
}

char *buf_tail(struct buf *b, size_t *room)
{
	if (b->start && b->end == b->cap) {
		memmove(b->data, b->data + b->start, buf_len(b));
		b->end -= b->start;
		b->start = 0;
	}
	*room = b->cap - b->end;
	return b->data + b->end;
}

void buf_commit(struct buf *b, size_t n)
{
	b->end += n;
}

size_t buf_append(struct buf *b, const void *p, size_t n)
{
	size_t room;
	char *t = buf_tail(b, &room);
	if (room < n && b->start) {
		memmove(b->data, b->data + b->start, buf_len(b));
		b->end -= b->start;
		b->start = 0;
		t = b->data + b->end;
		room = b->cap - b->end;
	}
	if (n > room)
		n = room;
	memcpy(t, p, n);
	b->end += n;
	return n;
}
