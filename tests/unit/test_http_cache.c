/* http serve's small-file cache: look-ups, the freshness check against a
 * file's stat, the total bound with the least recently used out first,
 * and references that keep a dropped entry alive for its sender. */
#include "config.h"

#include <string.h>

#include "http/http_cache.h"
#include "tap.h"

static struct stat st_of(ino_t ino, off_t size, long mtime, long nsec)
{
	struct stat st;
	memset(&st, 0, sizeof st);
	st.st_mode = S_IFREG | 0644;
	st.st_dev = 7;
	st.st_ino = ino;
	st.st_size = size;
	st.st_mtim.tv_sec = mtime;
	st.st_mtim.tv_nsec = nsec;
	st.st_ctim = st.st_mtim;
	return st;
}

static struct http_cache_entry *put(struct http_cache *c, const char *key, ino_t ino,
				    const char *body)
{
	struct stat st = st_of(ino, (off_t)strlen(body), 100, 5);
	return http_cache_put(c, key, &st, "F: 1\r\n", 6, "M: 1\r\n", 6, "\"tag\"", body,
			      strlen(body));
}

int main(void)
{
	struct http_cache c;
	http_cache_init(&c, 0, 100);
	ok(!put(&c, "a", 1, "x") && !http_cache_find(&c, "a", 1), "size 0: nothing kept");
	http_cache_free(&c);

	size_t one = sizeof(struct http_cache_entry) + 2 + 12 + 10;
	http_cache_init(&c, 3 * one, 64);
	struct http_cache_entry *a = put(&c, "a", 1, "0123456789");
	ok(a && c.n == 1 && c.used == one, "an entry and its cost (%zu)", c.used);
	ok(http_cache_find(&c, "a", 1) == a && !http_cache_find(&c, "b", 1) &&
	       !http_cache_find(&c, "ab", 2),
	   "found by its whole key only");
	ok(memcmp(a->body, "0123456789", 10) == 0 && memcmp(a->fields, "F: 1\r\n", 6) == 0 &&
	       strcmp(a->etag, "\"tag\"") == 0,
	   "the pieces are copies");
	struct stat st = st_of(1, 10, 100, 5);
	ok(http_cache_fresh(&c, a, &st) && c.hits == 1, "fresh: the same file");
	struct stat s2 = st_of(1, 10, 100, 6);
	ok(!http_cache_fresh(&c, a, &s2), "stale: mtime nanoseconds");
	s2 = st_of(2, 10, 100, 5);
	ok(!http_cache_fresh(&c, a, &s2), "stale: another inode (a rename)");
	s2 = st_of(1, 11, 100, 5);
	ok(!http_cache_fresh(&c, a, &s2), "stale: size");
	s2 = st_of(1, 10, 100, 5);
	s2.st_ctim.tv_sec = 101;
	ok(!http_cache_fresh(&c, a, &s2), "stale: ctime (mtime set back by hand)");
	s2 = st_of(1, 10, 100, 5);
	s2.st_dev = 8;
	ok(!http_cache_fresh(&c, a, &s2), "stale: another device");
	ok(!put(&c, "big", 3, "01234567890123456789012345678901234567890123456789012345678901234"),
	   "over max_file: not kept");

	struct http_cache_entry *b = put(&c, "b", 2, "0123456789");
	struct http_cache_entry *d = put(&c, "d", 3, "0123456789");
	ok(b && d && c.n == 3, "three fit");
	ok(http_cache_fresh(&c, a, &st), "a used: b is now the oldest");
	struct http_cache_entry *held = http_cache_ref(b);
	struct http_cache_entry *e = put(&c, "e", 4, "0123456789");
	ok(e && c.n == 3 && !http_cache_find(&c, "b", 1) && http_cache_find(&c, "a", 1) == a,
	   "the least recently used goes first");
	ok(memcmp(held->body, "0123456789", 10) == 0 && !held->listed,
	   "a dropped entry lives on while held");
	http_cache_unref(held);
	struct http_cache_entry *a2 = put(&c, "a", 9, "abcdefghij");
	ok(a2 && a2 != a && http_cache_find(&c, "a", 1) == a2 && c.n == 3,
	   "a new entry replaces the old one for its key");
	http_cache_drop(&c, a2);
	ok(!http_cache_find(&c, "a", 1) && c.n == 2 && c.used == 2 * one, "dropped: its cost back");
	for (int i = 0; i < 1000; i++) {
		char k[16];
		snprintf(k, sizeof k, "k%d", i);
		put(&c, k, (ino_t)i, "x");
	}
	ok(c.used <= c.max_total, "never over the total (%zu <= %zu)", c.used, c.max_total);
	http_cache_free(&c);
	ok(c.n == 0 && c.used == 0, "freed");

	http_cache_init(&c, 1 << 20, 64);
	for (int i = 0; i < 2000; i++) {
		char k[16];
		snprintf(k, sizeof k, "k%d", i);
		put(&c, k, (ino_t)i, "x");
	}
	bool all = c.n == 2000;
	for (int i = 0; all && i < 2000; i++) {
		char k[16];
		snprintf(k, sizeof k, "k%d", i);
		struct http_cache_entry *f = http_cache_find(&c, k, strlen(k));
		all = f && f->ino == (ino_t)i;
	}
	ok(all, "2000 entries, the table grown, every one found");
	http_cache_free(&c);
	tap_done();
}
