/* Size-class slabs mapped on their own, unmapped once empty (see slab.h for why). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "slab.h"

/* A slab's header, in its first block; its blocks follow. */
struct slab_page {
	struct slab_page	*prev, *next;	/* on its class's partial list */
	void			*free;		/* freed blocks, each holding the next's address */
	unsigned		 used;		/* blocks handed out */
	unsigned		 fresh;		/* blocks ever handed out: the next one is 1 + fresh */
	unsigned		 nblocks;
	unsigned		 cls;
	int			 listed;	/* on the partial list */
};

static size_t
class_size(unsigned cls)
{
	return (size_t)SLAB_MIN << cls;
}

static unsigned
class_of(size_t size)
{
	unsigned cls = 0;

	while (class_size(cls) < size)
		cls++;
	return cls;
}

static struct slab_page *
page_of(void *p)
{
	return (struct slab_page *)((uintptr_t)p & ~(uintptr_t)(SLAB_BYTES - 1));
}

static void
list_add(struct slab_class *c, struct slab_page *s)
{
	s->prev = NULL;
	s->next = c->partial;
	if (c->partial != NULL)
		c->partial->prev = s;
	c->partial = s;
	s->listed = 1;
}

static void
list_remove(struct slab_class *c, struct slab_page *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		c->partial = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	s->listed = 0;
}

/* A new slab aligned to SLAB_BYTES: map twice that and cut the ends off. */
static struct slab_page *
map_page(struct slab *sl, unsigned cls)
{
	size_t len = 2 * (size_t)SLAB_BYTES, head;
	uint8_t *p, *start;
	struct slab_page *s;

	if ((p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	start = (uint8_t *)(((uintptr_t)p + SLAB_BYTES - 1) &
	    ~(uintptr_t)(SLAB_BYTES - 1));
	head = (size_t)(start - p);
	if (head > 0)
		munmap(p, head);
	munmap(start + SLAB_BYTES, len - head - SLAB_BYTES);
	s = (struct slab_page *)start;
	*s = (struct slab_page){ .cls = cls,
	    .nblocks = (unsigned)(SLAB_BYTES / class_size(cls)) - 1 };
	sl->mapped += SLAB_BYTES;
	return s;
}

static void
unmap_page(struct slab *sl, struct slab_page *s)
{
	munmap(s, SLAB_BYTES);
	sl->mapped -= SLAB_BYTES;
}

void *
slab_alloc(struct slab *sl, size_t size)
{
	struct slab_class *c;
	struct slab_page *s;
	uint8_t *block;
	unsigned cls;

	if (size > SLAB_MAX)
		return malloc(size);
	cls = class_of(size);
	c = &sl->classes[cls];
	if ((s = c->partial) == NULL) {
		if ((s = c->spare) != NULL)
			c->spare = NULL;
		else if ((s = map_page(sl, cls)) == NULL)
			return NULL;
		list_add(c, s);
	}
	if (s->free != NULL) {
		block = s->free;
		memcpy(&s->free, block, sizeof(s->free));
	} else
		block = (uint8_t *)s + (size_t)(1 + s->fresh++) * class_size(cls);
	if (++s->used == s->nblocks)
		list_remove(c, s);
	sl->in_use += class_size(cls);
	return block;
}

void
slab_free(struct slab *sl, void *p, size_t size)
{
	struct slab_page *s;
	struct slab_class *c;

	if (p == NULL)
		return;
	if (size > SLAB_MAX) {
		free(p);
		return;
	}
	s = page_of(p);
	c = &sl->classes[s->cls];
	memcpy(p, &s->free, sizeof(s->free));
	s->free = p;
	sl->in_use -= class_size(s->cls);
	if (!s->listed)
		list_add(c, s);
	if (--s->used > 0)
		return;
	/* Empty: one is kept per class, so that a queue growing and shrinking does not map and unmap. */
	list_remove(c, s);
	if (c->spare == NULL)
		c->spare = s;
	else
		unmap_page(sl, s);
}

void *
slab_resize(struct slab *sl, void *p, size_t old, size_t new)
{
	void *q;

	if (p == NULL || old == 0)
		return new > 0 ? slab_alloc(sl, new) : NULL;
	if (new == 0) {
		slab_free(sl, p, old);
		return NULL;
	}
	if (old > SLAB_MAX && new > SLAB_MAX) {
		if ((q = realloc(p, new)) == NULL)
			errno = ENOMEM;
		return q;
	}
	/* The same class: the block already has the room. */
	if (old <= SLAB_MAX && new <= SLAB_MAX && class_of(old) == class_of(new))
		return p;
	if ((q = slab_alloc(sl, new)) == NULL)
		return NULL;
	memcpy(q, p, old < new ? old : new);
	slab_free(sl, p, old);
	return q;
}

void
slab_trim(struct slab *sl)
{
	for (unsigned i = 0; i < SLAB_CLASSES; i++) {
		if (sl->classes[i].spare != NULL) {
			unmap_page(sl, sl->classes[i].spare);
			sl->classes[i].spare = NULL;
		}
	}
}

void
slab_destroy(struct slab *sl)
{
	for (unsigned i = 0; i < SLAB_CLASSES; i++) {
		struct slab_class *c = &sl->classes[i];

		while (c->partial != NULL) {
			struct slab_page *s = c->partial;

			list_remove(c, s);
			unmap_page(sl, s);
		}
	}
	slab_trim(sl);
}
