/* The output queue: bytes waiting for a stream that would not take them
 * yet. Bounded (the engine says how much it will hold), empty queues hold
 * no memory, and a write goes straight through when nothing waits.
 *
 * Data lives in chunks that may be shared by reference: a line broadcast
 * to a whole chat room is stored once, each member's queue pointing into
 * it. The queue never decides what happens when it is full: outq_add
 * refuses, and the engine closes, drops or stops reading as its policy
 * says. */
#ifndef SOCKCTL_OUTQ_H
#define SOCKCTL_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct stream;

/* A reference-counted block of bytes. Made with one reference; the last
 * outq_chunk_unref frees it. Only its maker writes into it, and only
 * before sharing it. */
struct outq_chunk {
	unsigned refs;
	size_t len, cap;
	char data[];
};
struct outq_chunk *outq_chunk_new(size_t cap);
static inline struct outq_chunk *outq_chunk_ref(struct outq_chunk *c)
{
	c->refs++;
	return c;
}
void outq_chunk_unref(struct outq_chunk *c);

struct outq_seg {
	struct outq_chunk *c; /* one reference held */
	size_t off, len;
};

struct outq {
	struct outq_seg *seg; /* owned ring, freed when the queue empties */
	size_t head, nseg, capseg;
	size_t bytes; /* queued */
	size_t limit; /* most bytes held; 0 = no bound */
};

/* What the calls return: OUTQ_FAIL is the stream's failure (errno set),
 * apart from the two ways of refusing bytes. */
enum { OUTQ_OK = 0, OUTQ_FAIL = -1, OUTQ_FULL = -2, OUTQ_NOMEM = -3 };

/* limit: the most bytes the queue holds (0 = no bound). */
void outq_init(struct outq *q, size_t limit);
/* Drops everything queued. The queue stays usable. */
void outq_clear(struct outq *q);
static inline size_t outq_len(const struct outq *q)
{
	return q->bytes;
}
static inline bool outq_empty(const struct outq *q)
{
	return q->bytes == 0;
}
/* Room left under the bound (SIZE_MAX without one). */
size_t outq_room(const struct outq *q);

/* Appends a copy of p[0..n): OUTQ_OK, or OUTQ_FULL / OUTQ_NOMEM with
 * nothing queued. */
int outq_add(struct outq *q, const void *p, size_t n);
/* Appends c->data[off..off+n) by reference (takes a reference of its
 * own): OUTQ_OK, OUTQ_FULL or OUTQ_NOMEM with nothing queued. */
int outq_add_ref(struct outq *q, struct outq_chunk *c, size_t off, size_t n);

/* Writes what is queued into s, as much as it takes. Returns the bytes
 * written (0 when s took nothing: wait for STREAM_WRITE), or OUTQ_FAIL
 * (-1) with errno when the stream failed. */
ssize_t outq_flush(struct outq *q, struct stream *s);
/* Sends p[0..n) after what is queued: straight into s when the queue is
 * empty, the rest queued. Returns OUTQ_OK, OUTQ_FULL / OUTQ_NOMEM (the
 * part not written was not queued; *written says how much went out), or
 * OUTQ_FAIL with errno when the stream failed. written may be NULL. */
int outq_write(struct outq *q, struct stream *s, const void *p, size_t n, size_t *written);
/* The same for a shared chunk: what s does not take is queued by
 * reference, not copied. */
int outq_write_ref(struct outq *q, struct stream *s, struct outq_chunk *c, size_t off, size_t n,
		   size_t *written);

#endif
