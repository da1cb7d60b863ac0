#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/outq.h"
#include "net/stream.h"

/* Copies go into chunks of at least this size, so many small lines
 * share one block. */
#define COPY_CHUNK (16 * 1024)
/* Pieces per writev. */
#define FLUSH_IOV 64

struct outq_chunk *outq_chunk_new(size_t cap)
{
	if (cap > SIZE_MAX - sizeof(struct outq_chunk))
		return NULL;
	struct outq_chunk *c = malloc(sizeof *c + cap);
	if (!c)
		return NULL;
	c->refs = 1;
	c->len = 0;
	c->cap = cap;
	return c;
}

void outq_chunk_unref(struct outq_chunk *c)
{
	if (c && --c->refs == 0)
		free(c);
}

void outq_init(struct outq *q, size_t limit)
{
	memset(q, 0, sizeof *q);
	q->limit = limit;
}

static struct outq_seg *seg_at(const struct outq *q, size_t i)
{
	return &q->seg[(q->head + i) % q->capseg];
}

void outq_clear(struct outq *q)
{
	for (size_t i = 0; i < q->nseg; i++)
		outq_chunk_unref(seg_at(q, i)->c);
	free(q->seg);
	size_t limit = q->limit;
	outq_init(q, limit);
}

size_t outq_room(const struct outq *q)
{
	if (!q->limit)
		return SIZE_MAX;
	return q->bytes < q->limit ? q->limit - q->bytes : 0;
}

static bool seg_grow(struct outq *q)
{
	if (q->nseg < q->capseg)
		return true;
	size_t cap = q->capseg ? q->capseg * 2 : 4;
	struct outq_seg *n = malloc(cap * sizeof *n);
	if (!n)
		return false;
	for (size_t i = 0; i < q->nseg; i++)
		n[i] = *seg_at(q, i);
	free(q->seg);
	q->seg = n;
	q->capseg = cap;
	q->head = 0;
	return true;
}

int outq_add_ref(struct outq *q, struct outq_chunk *c, size_t off, size_t n)
{
	if (!n)
		return OUTQ_OK;
	if (n > outq_room(q))
		return OUTQ_FULL;
	if (q->nseg) {
		/* The next bytes of the same chunk extend the last piece. */
		struct outq_seg *last = seg_at(q, q->nseg - 1);
		if (last->c == c && last->off + last->len == off) {
			last->len += n;
			q->bytes += n;
			return OUTQ_OK;
		}
	}
	if (!seg_grow(q))
		return OUTQ_NOMEM;
	*seg_at(q, q->nseg++) = (struct outq_seg){outq_chunk_ref(c), off, n};
	q->bytes += n;
	return OUTQ_OK;
}

int outq_add(struct outq *q, const void *p, size_t n)
{
	if (!n)
		return OUTQ_OK;
	if (n > outq_room(q))
		return OUTQ_FULL;
	/* The tail of the last chunk takes what it can when it is ours
	 * alone and the last piece ends where its bytes end. */
	struct outq_seg *last = q->nseg ? seg_at(q, q->nseg - 1) : NULL;
	size_t k = 0;
	if (last && last->c->refs == 1 && last->off + last->len == last->c->len)
		k = last->c->cap - last->c->len < n ? last->c->cap - last->c->len : n;
	struct outq_chunk *c = NULL;
	if (k < n) {
		/* Everything that can fail comes first: all or nothing. */
		if (!seg_grow(q))
			return OUTQ_NOMEM;
		last = q->nseg ? seg_at(q, q->nseg - 1) : NULL;
		c = outq_chunk_new(n - k > COPY_CHUNK ? n - k : COPY_CHUNK);
		if (!c)
			return OUTQ_NOMEM;
	}
	const char *b = p;
	if (k) {
		memcpy(last->c->data + last->c->len, b, k);
		last->c->len += k;
		last->len += k;
	}
	if (c) {
		memcpy(c->data, b + k, n - k);
		c->len = n - k;
		*seg_at(q, q->nseg++) = (struct outq_seg){c, 0, n - k};
	}
	q->bytes += n;
	return OUTQ_OK;
}

/* Takes n written bytes off the front. */
static void consume(struct outq *q, size_t n)
{
	q->bytes -= n;
	while (n) {
		struct outq_seg *s = seg_at(q, 0);
		if (n < s->len) {
			s->off += n;
			s->len -= n;
			return;
		}
		n -= s->len;
		outq_chunk_unref(s->c);
		q->head = (q->head + 1) % q->capseg;
		q->nseg--;
	}
	if (!q->nseg) {
		/* An idle connection keeps nothing. */
		free(q->seg);
		q->seg = NULL;
		q->capseg = q->head = 0;
	}
}

ssize_t outq_flush(struct outq *q, struct stream *s)
{
	size_t total = 0;
	while (q->nseg) {
		struct iovec iov[FLUSH_IOV];
		int n = 0;
		size_t want = 0;
		for (size_t i = 0; i < q->nseg && n < FLUSH_IOV; i++, n++) {
			struct outq_seg *g = seg_at(q, i);
			iov[n].iov_base = g->c->data + g->off;
			iov[n].iov_len = g->len;
			want += g->len;
		}
		ssize_t w = stream_writev(s, iov, n);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			return OUTQ_FAIL;
		}
		consume(q, (size_t)w);
		total += (size_t)w;
		if ((size_t)w < want)
			break;
	}
	return (ssize_t)total;
}

/* Straight into the stream when nothing waits: the bytes it took. */
static ssize_t write_through(struct outq *q, struct stream *s, const void *p, size_t n)
{
	if (q->nseg) {
		if (outq_flush(q, s) < 0)
			return -1;
		if (q->nseg)
			return 0;
	}
	size_t done = 0;
	while (done < n) {
		ssize_t w = stream_write(s, (const char *)p + done, n - done);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			return -1;
		}
		if (w == 0)
			break;
		done += (size_t)w;
		/* A plain descriptor that took less is full: asking again only
		 * earns an EAGAIN. (Another type may write a record at a time.) */
		if (done < n && stream_raw_fd(s) >= 0)
			break;
	}
	return (ssize_t)done;
}

int outq_write(struct outq *q, struct stream *s, const void *p, size_t n, size_t *written)
{
	ssize_t w = write_through(q, s, p, n);
	if (written)
		*written = w > 0 ? (size_t)w : 0;
	if (w < 0)
		return OUTQ_FAIL;
	return outq_add(q, (const char *)p + w, n - (size_t)w);
}

int outq_write_ref(struct outq *q, struct stream *s, struct outq_chunk *c, size_t off, size_t n,
		   size_t *written)
{
	ssize_t w = write_through(q, s, c->data + off, n);
	if (written)
		*written = w > 0 ? (size_t)w : 0;
	if (w < 0)
		return OUTQ_FAIL;
	return outq_add_ref(q, c, off + (size_t)w, n - (size_t)w);
}
