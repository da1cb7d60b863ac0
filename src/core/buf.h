/* A bounded byte buffer: data lives in [start, end) of a fixed block,
 * compacted when the tail runs out of room. */
#ifndef SOCKCTL_BUF_H
#define SOCKCTL_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data; /* owned */
	size_t cap, start, end;
};

/* The size of a connection's first buffer. Blocks of this size that
 * buf_free gives up are kept on a list per thread (up to
 * BUF_CACHE_MAX) for the next buf_init to take: a server going through
 * many short connections otherwise hands malloc the same blocks back
 * and forth, and each time the heap's top shrinks and grows again (a
 * trim, then page faults on the fresh pages). */
#define BUF_CACHE_SIZE (16 * 1024)
#define BUF_CACHE_MAX  128

/* Allocates cap bytes; returns false when out of memory. */
bool buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);
static inline size_t buf_len(const struct buf *b)
{
	return b->end - b->start;
}
/* Room for more data (after compaction). */
static inline size_t buf_space(const struct buf *b)
{
	return b->cap - buf_len(b);
}
static inline const char *buf_head(const struct buf *b)
{
	return b->data + b->start;
}
void buf_consume(struct buf *b, size_t n);
/* Where to write more: compacts and returns the tail; *room gets its size. */
char *buf_tail(struct buf *b, size_t *room);
void buf_commit(struct buf *b, size_t n);
/* Appends up to n bytes; returns how many fitted. */
size_t buf_append(struct buf *b, const void *p, size_t n);

#endif
