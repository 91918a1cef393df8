/* gather-slab.c: objects of one size, allocated in blocks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#if HAVE_VALGRIND
#include <valgrind/memcheck.h>
#endif

#include <string.h>

#include "gather-slab-private.h"

/*
 * A block is a header and n_slots slots. A slot is the address of its
 * block, then the object; a slot of an object allocated alone says NULL.
 * Objects are 8 bytes aligned, which is all that records and outcomes
 * (pointers, 64-bit integers) need; 16, as malloc() aligns, would add 8
 * bytes to each.
 *
 * The block's count is its slots not yet freed plus one for the slab while
 * it hands the block out: the slab gives back its own and the slots it
 * did not hand out when it moves to a new block, and the block is freed
 * when the count reaches 0.
 */
struct _GatherSlabBlock
{
  gint n_live;   /* atomic */
};

#define SLOT_HEADER 8
#define BLOCK_HEADER 16
#define MIN_SLOTS 4
#define MAX_SLOTS 64

G_STATIC_ASSERT (sizeof (GatherSlabBlock *) <= SLOT_HEADER);
G_STATIC_ASSERT (sizeof (GatherSlabBlock) <= BLOCK_HEADER);

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GATHER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GATHER_ASAN 1
#endif

/*
 * gather_slab_objects_alone:
 * Whether each object must be allocated alone: under AddressSanitizer and
 * valgrind's memcheck, so that they see every object's life (a use after
 * free inside a live block would go unseen). Other valgrind tools
 * (callgrind, which measures this) get blocks.
 */
gboolean
gather_slab_objects_alone (void)
{
#ifdef GATHER_ASAN
  return TRUE;
#elif HAVE_VALGRIND
  static gsize answer;

  if (g_once_init_enter (&answer))
    {
      /* Only memcheck answers this request (1: the bits were read);
       * other tools, and no valgrind, give the default, 0. */
      char probe = 0, bits = 0;

      g_once_init_leave (&answer, VALGRIND_GET_VBITS (&probe, &bits, 1) == 1 ? 2 : 1);
    }

  return answer == 2;
#else
  return FALSE;
#endif
}

/* @object_size: the size of one object */
void
gather_slab_init (GatherSlab *slab,
                  gsize       object_size)
{
  slab->block = NULL;
  slab->size = SLOT_HEADER + ((object_size + 7) & ~(gsize) 7);
  slab->next = 0;
  slab->n_slots = gather_slab_objects_alone () ? 0 : MIN_SLOTS / 2;
}

/* Blocks allocated and not freed yet, for the tests. */
static gint n_blocks;

guint
gather_slab_get_n_blocks (void)
{
  return (guint) g_atomic_int_get (&n_blocks);
}

static void
block_release (GatherSlabBlock *block,
               guint            n)
{
  /* g_atomic_int_add() returns the count before. */
  if (g_atomic_int_add (&block->n_live, - (gint) n) == (gint) n)
    {
      g_free (block);
      g_atomic_int_add (&n_blocks, -1);
    }
}

/* Stops handing out the current block; objects already handed out stay
 * valid. The slab can be used again. */
void
gather_slab_clear (GatherSlab *slab)
{
  if (slab->block != NULL)
    block_release (g_steal_pointer (&slab->block), slab->n_slots - slab->next + 1);
}

/*
 * gather_slab_alloc:
 * Returns: (transfer full): a zeroed object of the slab's size, which
 *   gather_slab_free() frees, on any thread
 */
gpointer
gather_slab_alloc (GatherSlab *slab)
{
  char *slot;

  if (slab->n_slots == 0)
    {
      /* Objects alone (see gather_slab_objects_alone()). */
      slot = g_malloc0 (slab->size);
      *(GatherSlabBlock **) slot = NULL;
      return slot + SLOT_HEADER;
    }

  if (slab->block == NULL || slab->next == slab->n_slots)
    {
      gather_slab_clear (slab);
      slab->n_slots = MIN (slab->n_slots * 2, MAX_SLOTS);
      /* Not zeroed here: memset() of a large block is one "rep stosb",
       * which is as fast but which callgrind counts byte by byte. */
      slab->block = g_malloc (BLOCK_HEADER + slab->n_slots * slab->size);
      slab->block->n_live = (gint) slab->n_slots + 1;
      g_atomic_int_inc (&n_blocks);
      slab->next = 0;
    }

  slot = (char *) slab->block + BLOCK_HEADER + slab->next++ * slab->size;
  *(GatherSlabBlock **) slot = slab->block;
  memset (slot + SLOT_HEADER, 0, slab->size - SLOT_HEADER);

  return slot + SLOT_HEADER;
}

void
gather_slab_free (gpointer object)
{
  char *slot = (char *) object - SLOT_HEADER;
  GatherSlabBlock *block = *(GatherSlabBlock **) slot;

  if (block == NULL)
    g_free (slot);
  else
    block_release (block, 1);
}
