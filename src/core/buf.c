#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

bool buf_init(struct buf *b, size_t cap)
{
	b->data = malloc(cap);
	b->cap = b->data ? cap : 0;
	b->start = b->end = 0;
	return b->data != NULL;
}

void buf_free(struct buf *b)
{
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
