/* Buffers of a few size classes in slabs of their own: burst memory that goes back to the system. */
#ifndef TR_SLAB_H
#define TR_SLAB_H

#include <stddef.h>

/*
 * Why: the transport's queues grow during a burst and are freed once idle.
 * From malloc, those buffers end up scattered between the sessions'
 * long-lived objects, and glibc cannot give their pages back (an idle
 * session cost 6 kB of RSS where it held 1.4 kB).  Here they come from
 * slabs mapped for them alone: a slab whose blocks are all free is
 * unmapped, so once the sessions are idle their burst memory is gone.
 *
 * Classes are powers of two from SLAB_MIN to SLAB_MAX; larger sizes go to
 * malloc (a queue that large is a bulk session: few of them).  A slab is
 * SLAB_BYTES, aligned to its size, and its first block holds its header,
 * so a block finds its slab by masking its address.  Blocks are handed out
 * from the front and reused last-freed first, and pages never handed out
 * are never touched (not resident).
 *
 * The caller says a block's size when it frees or resizes it (the size it
 * asked for): that is how a pointer is known to be a slab's or malloc's.
 */
#define SLAB_MIN	4096u
#define SLAB_MAX	(64u * 1024)
#define SLAB_BYTES	(1024u * 1024)
#define SLAB_CLASSES	5	/* 4, 8, 16, 32, 64 KiB */

struct slab_page;

struct slab_class {
	struct slab_page	*partial;	/* slabs with a free block */
	struct slab_page	*spare;		/* one empty slab kept, until slab_trim */
};

struct slab {
	struct slab_class	 classes[SLAB_CLASSES];
	size_t			 mapped;	/* bytes of slabs mapped, spares included */
	size_t			 in_use;	/* blocks handed out, in bytes */
};

/* A zeroed struct slab is an empty one. */
void	*slab_alloc(struct slab *, size_t size);
void	 slab_free(struct slab *, void *p, size_t size);
/*
 * Like realloc from old to new bytes (old 0: p is NULL; new 0: freed, NULL
 * returned); the bytes up to the smaller size are kept.  NULL with errno
 * ENOMEM, p unchanged, when memory cannot be had.
 */
void	*slab_resize(struct slab *, void *p, size_t old, size_t new);
/* Unmap the empty slabs kept as spares (after a burst). */
void	 slab_trim(struct slab *);
/* Unmap everything: every block must have been freed. */
void	 slab_destroy(struct slab *);

#endif
