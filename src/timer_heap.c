/* Timers by due time in a binary min-heap (timer_heap.h). */
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"
#include "timer_heap.h"

void
timer_heap_free(struct timer_heap *h)
{
	free(h->e);
	*h = (struct timer_heap){ 0 };
}

/* Put entry e at index i, telling its item where it is. */
static void
place(struct timer_heap *h, size_t i, struct timer_entry e)
{
	h->e[i] = e;
	*e.pos = i + 1;
}

static void
sift_up(struct timer_heap *h, size_t i)
{
	struct timer_entry e = h->e[i];

	while (i > 0 && h->e[(i - 1) / 2].due > e.due) {
		place(h, i, h->e[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(h, i, e);
}

static void
sift_down(struct timer_heap *h, size_t i)
{
	struct timer_entry e = h->e[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->n)
			break;
		if (child + 1 < h->n && h->e[child + 1].due < h->e[child].due)
			child++;
		if (h->e[child].due >= e.due)
			break;
		place(h, i, h->e[child]);
		i = child;
	}
	place(h, i, e);
}

/* The entry at i after its due time changed: up or down to its place. */
static void
sift(struct timer_heap *h, size_t i)
{
	if (i > 0 && h->e[(i - 1) / 2].due > h->e[i].due)
		sift_up(h, i);
	else
		sift_down(h, i);
}

int
timer_heap_set(struct timer_heap *h, void *item, size_t *pos, tr_ns due)
{
	size_t i;

	if (*pos != 0) {
		i = *pos - 1;
		h->e[i].due = due;
		sift(h, i);
		return 0;
	}
	if (grow_array(&h->e, &h->cap, sizeof(*h->e), h->n + 1, SIZE_MAX) ==
	    -1)
		return -1;
	h->e[h->n] = (struct timer_entry){ .due = due, .item = item,
	    .pos = pos };
	sift_up(h, h->n++);
	return 0;
}

void
timer_heap_remove(struct timer_heap *h, size_t *pos)
{
	size_t i = *pos - 1;

	if (*pos == 0)
		return;
	*pos = 0;
	if (i == --h->n)
		return;
	/* The last entry takes the hole, then finds its place either way. */
	place(h, i, h->e[h->n]);
	sift(h, i);
}

tr_ns
timer_heap_next(const struct timer_heap *h)
{
	return h->n > 0 ? h->e[0].due : INT64_MAX;
}

void *
timer_heap_pop_due(struct timer_heap *h, tr_ns now)
{
	void *item;

	if (h->n == 0 || h->e[0].due > now)
		return NULL;
	item = h->e[0].item;
	timer_heap_remove(h, h->e[0].pos);
	return item;
}
