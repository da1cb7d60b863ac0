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
