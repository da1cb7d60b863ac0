#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "forward/fault_dgram.h"

struct fault_dgram_held {
	struct fault_dgram_held *next;
	int64_t due;
	size_t len;
	char data[];
};

static void on_due(struct loop *l, void *arg)
{
	struct fault_dgram_q *q = arg;
	int64_t now = loop_now(l);
	while (q->head && q->head->due <= now) {
		struct fault_dgram_held *h = q->head;
		q->head = h->next;
		q->n--;
		q->bytes -= h->len;
		q->send(q->arg, h->data, h->len);
		free(h);
	}
	if (q->head)
		loop_timer_start(l, &q->t, q->head->due - now);
}

void fault_dgram_q_init(struct fault_dgram_q *q, struct loop *l, struct fault_set *fs, int dir,
			fault_dgram_send_cb send, void *arg)
{
	memset(q, 0, sizeof *q);
	q->loop = l;
	q->fs = fs;
	q->dir = dir;
	q->send = send;
	q->arg = arg;
	timer_init(&q->t, on_due, q);
}

/* Holds one copy until now + ms; false when the queue is full. */
static bool hold(struct fault_dgram_q *q, const void *p, size_t n, int ms)
{
	if (q->n >= FAULT_DGRAM_HELD || q->bytes + n > FAULT_DGRAM_HELD_BYTES)
		return false;
	struct fault_dgram_held *h = malloc(sizeof *h + n);
	if (!h)
		return false;
	h->due = loop_now(q->loop) + ms;
	h->len = n;
	memcpy(h->data, p, n);
	/* By due time; equal times keep their order of arrival. */
	struct fault_dgram_held **pp = &q->head;
	while (*pp && (*pp)->due <= h->due)
		pp = &(*pp)->next;
	h->next = *pp;
	*pp = h;
	q->n++;
	q->bytes += n;
	if (q->head == h)
		loop_timer_start(q->loop, &q->t, ms);
	return true;
}

int fault_dgram_q_put(struct fault_dgram_q *q, const void *p, size_t n)
{
	struct fault_dgram d;
	fault_dgram_decide(q->fs, q->dir, &d);
	if (d.drop)
		return 0;
	int sent = 0;
	for (int i = 0; i < d.copies; i++) {
		/* No delay: out at once, past any held back (reordering is
		 * what a datagram network does). */
		if (!d.delay_ms) {
			q->send(q->arg, p, n);
			sent++;
		} else if (hold(q, p, n, d.delay_ms)) {
			sent++;
		} else {
			q->fs->stats.lost++;
		}
	}
	return sent;
}

void fault_dgram_q_clear(struct fault_dgram_q *q)
{
	loop_timer_stop(q->loop, &q->t);
	while (q->head) {
		struct fault_dgram_held *h = q->head;
		q->head = h->next;
		free(h);
	}
	q->n = q->bytes = 0;
}
