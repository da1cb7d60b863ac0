/* The bounded byte buffer, and the per-thread list that keeps blocks of
 * BUF_CACHE_SIZE bytes for reuse. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "tap.h"

static void t_basics(void)
{
	struct buf b;
	ok(buf_init(&b, 8) && buf_len(&b) == 0 && buf_space(&b) == 8, "an empty buffer of 8");
	ok(buf_append(&b, "abcdef", 6) == 6 && buf_len(&b) == 6, "6 bytes appended");
	buf_consume(&b, 4);
	ok(buf_len(&b) == 2 && memcmp(buf_head(&b), "ef", 2) == 0, "4 consumed: \"ef\" left");
	ok(buf_append(&b, "ghijklm", 7) == 6 && buf_len(&b) == 8 &&
	       memcmp(buf_head(&b), "efghijkl", 8) == 0,
	   "appending compacts, and takes only what fits");
	buf_consume(&b, 100);
	ok(buf_len(&b) == 0 && buf_space(&b) == 8, "consuming past the end empties it");
	buf_free(&b);
	ok(b.data == NULL && b.cap == 0, "freed");
}

static void t_cache(void)
{
	struct buf a, b, c;
	ok(buf_init(&a, BUF_CACHE_SIZE), "a block of BUF_CACHE_SIZE");
	char *p = a.data;
	memset(p, 'x', BUF_CACHE_SIZE);
	buf_free(&a);
	ok(buf_init(&b, BUF_CACHE_SIZE) && b.data == p && b.cap == BUF_CACHE_SIZE &&
	       buf_len(&b) == 0,
	   "the next one is the block given up, empty");
	ok(buf_init(&c, 4096) && c.data != p, "another size is not taken from the list");
	buf_free(&c);
	buf_free(&b);
	/* More than the list holds: the first BUF_CACHE_MAX given up are
	 * kept, the rest go back to malloc (a leak there shows under the
	 * sanitizer build); the list gives them back last in, first out. */
	enum { N = BUF_CACHE_MAX + 8 };
	struct buf many[N];
	char *addr[N];
	bool all = true;
	for (int i = 0; i < N; i++) {
		all &= buf_init(&many[i], BUF_CACHE_SIZE);
		addr[i] = many[i].data;
	}
	ok(all, "%d blocks at once", N);
	for (int i = 0; i < N; i++)
		buf_free(&many[i]);
	int in_order = 0;
	for (int i = 0; i < BUF_CACHE_MAX; i++) {
		buf_init(&many[i], BUF_CACHE_SIZE);
		in_order += many[i].data == addr[BUF_CACHE_MAX - 1 - i];
	}
	ok(in_order == BUF_CACHE_MAX,
	   "the list kept the first %d given up, and gives them back last first (%d)",
	   BUF_CACHE_MAX, in_order);
	for (int i = 0; i < BUF_CACHE_MAX; i++)
		buf_free(&many[i]);
}

/* A thread's list goes with the thread (the sanitizer build reports it
 * as a leak otherwise). */
static void *thread_uses_cache(void *arg)
{
	struct buf b[4];
	bool all = true;
	for (int i = 0; i < 4; i++)
		all &= buf_init(&b[i], BUF_CACHE_SIZE);
	char *first = b[0].data;
	for (int i = 0; i < 4; i++)
		buf_free(&b[i]);
	buf_init(&b[0], BUF_CACHE_SIZE);
	/* Last in, first out: the last block freed comes back first. */
	all &= b[0].data != first;
	buf_free(&b[0]);
	*(bool *)arg = all;
	return NULL;
}

int main(void)
{
	t_basics();
	t_cache();
	bool in_thread = false;
	pthread_t t;
	ok(pthread_create(&t, NULL, thread_uses_cache, &in_thread) == 0 &&
	       pthread_join(t, NULL) == 0 && in_thread,
	   "a thread's own list, freed when it ends");
	tap_done();
}
