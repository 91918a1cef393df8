/* gather-slab-private.h: objects of one size, allocated in blocks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GatherSlabBlock GatherSlabBlock;

/*
 * GatherSlab: hands out zeroed objects of one size from blocks of several,
 * for one thread (a group's owner); any thread frees them. A block is
 * freed with its last object.
 *
 * A group adds its tasks in a burst, and their records and outcomes are
 * freed on other threads or long after: the allocator's per-thread caches
 * miss for every one of them, and a malloc() and free() pair cost 400 to
 * 600 instructions per object (callgrind, gather-bench at N = 10^5), more
 * than the rest of recording an outcome. From a block, an object costs a
 * few instructions and one atomic decrement.
 *
 * The price: an object kept alive keeps its block (at most 64 objects)
 * allocated. Blocks start small and double, so that a group of a few tasks
 * does not hold a large one.
 */
typedef struct
{
  GatherSlabBlock *block;      /* the block being handed out, or NULL */
  gsize            size;       /* of an object with its header */
  guint            next;       /* the next slot of @block */
  guint            n_slots;    /* in @block */
} GatherSlab;

void     gather_slab_init  (GatherSlab *slab,
                            gsize       object_size);
void     gather_slab_clear (GatherSlab *slab);
gpointer gather_slab_alloc (GatherSlab *slab);
void     gather_slab_free  (gpointer    object);

gboolean gather_slab_objects_alone (void);
guint    gather_slab_get_n_blocks  (void);

G_END_DECLS
