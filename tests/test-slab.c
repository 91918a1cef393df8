/* test-slab.c: the private block allocator of records and outcomes, and
 * that a group's run gives every block back.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "gather-group.h"
#include "gather-slab-private.h"

#include "test-util.h"   /* test_slowdown () only: it is inline */

typedef struct
{
  guint64 a;
  char    bytes[40];
} Object;   /* 48 bytes */

static void
test_slab_objects (void)
{
  const guint n = 300;
  g_autofree Object **objects = g_new0 (Object *, n);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  guint before = gather_slab_get_n_blocks ();
  GatherSlab slab;

  g_test_summary ("Objects are zeroed, 8-byte aligned, distinct and "
                  "writable in full; their blocks are freed with the last "
                  "object and the slab's claim");

  gather_slab_init (&slab, sizeof (Object));
  for (guint i = 0; i < n; i++)
    {
      Object *object = gather_slab_alloc (&slab);

      g_assert_cmpuint (GPOINTER_TO_SIZE (object) % 8, ==, 0);
      g_assert_cmpuint (object->a, ==, 0);
      for (guint j = 0; j < sizeof object->bytes; j++)
        g_assert_cmpint (object->bytes[j], ==, 0);
      g_assert_false (g_hash_table_contains (seen, object));
      g_hash_table_add (seen, object);

      /* Written in full: a neighbour must not see it (checked below). */
      object->a = i;
      memset (object->bytes, 0xa5, sizeof object->bytes);
      objects[i] = object;
    }

  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpuint (objects[i]->a, ==, i);
      g_assert_cmpint ((guchar) objects[i]->bytes[sizeof objects[i]->bytes - 1], ==, 0xa5);
    }

  if (gather_slab_objects_alone ())
    {
      /* Under memcheck and AddressSanitizer, which then see every object. */
      g_assert_cmpuint (gather_slab_get_n_blocks (), ==, before);
    }
  else
    {
      /* 4, 8, 16, 32, 64, 64, 64, 64: 300 objects in 8 blocks. */
      g_assert_cmpuint (gather_slab_get_n_blocks (), ==, before + 8);
    }

  /* Every other object first: no block can go yet. */
  for (guint i = 0; i < n; i += 2)
    gather_slab_free (objects[i]);
  if (!gather_slab_objects_alone ())
    g_assert_cmpuint (gather_slab_get_n_blocks (), ==, before + 8);

  for (guint i = 1; i < n; i += 2)
    gather_slab_free (objects[i]);

  /* The slab still hands out the last block. */
  if (!gather_slab_objects_alone ())
    g_assert_cmpuint (gather_slab_get_n_blocks (), ==, before + 1);
  gather_slab_clear (&slab);
  g_assert_cmpuint (gather_slab_get_n_blocks (), ==, before);

  /* Cleared, then used again, then cleared with its objects alive. */
  objects[0] = gather_slab_alloc (&slab);
  gather_slab_clear (&slab);
  gather_slab_clear (&slab);
  if (!gather_slab_objects_alone ())
    g_assert_cmpuint (gather_slab_get_n_blocks (), ==, before + 1);
  gather_slab_free (objects[0]);
  g_assert_cmpuint (gather_slab_get_n_blocks (), ==, before);
}

typedef struct
{
  Object **objects;
  guint    first;
  guint    n;
} FreeJob;

static gpointer
free_some (gpointer data)
{
  FreeJob *job = data;

  for (guint i = job->first; i < job->n; i += 2)
    gather_slab_free (job->objects[i]);

  return NULL;
}

static void
test_slab_threads (void)
{
  const guint n = 20000;
  g_autofree Object **objects = g_new0 (Object *, n);
  guint before = gather_slab_get_n_blocks ();
  FreeJob jobs[2];
  GThread *threads[2];
  GatherSlab slab;

  g_test_summary ("Objects of one block freed on two threads at once: the "
                  "block is freed once, when the last goes");

  gather_slab_init (&slab, sizeof (Object));
  for (guint i = 0; i < n; i++)
    objects[i] = gather_slab_alloc (&slab);
  gather_slab_clear (&slab);

  for (guint t = 0; t < 2; t++)
    {
      jobs[t] = (FreeJob) { objects, t, n };
      threads[t] = g_thread_new ("free", free_some, &jobs[t]);
    }
  for (guint t = 0; t < 2; t++)
    g_thread_join (threads[t]);

  g_assert_cmpuint (gather_slab_get_n_blocks (), ==, before);
}

static GVariant *
body (GCancellable  *cancellable,
      gpointer       user_data,
      GError       **error)
{
  guint i = GPOINTER_TO_UINT (user_data);

  if (i % 7 == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "task %u failed", i);
      return NULL;
    }
  if (i % 11 == 0)
    {
      /* Times out (10 ms), then returns: its record goes last. */
      while (!g_cancellable_is_cancelled (cancellable))
        g_usleep (1000);
    }

  return g_variant_new_uint32 (i);
}

static void
on_finished (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GPtrArray **outcomes = user_data;

  *outcomes = gather_group_run_finish (GATHER_GROUP (object), result, NULL);
}

static void
test_slab_group (void)
{
  guint before = gather_slab_get_n_blocks ();
  GPtrArray *outcomes = NULL;
  GatherGroup *group = gather_group_new ();
  gint64 end;

  g_test_summary ("After a run with results, errors and timeouts, once the "
                  "group and its outcomes are gone, so is every block of "
                  "records and outcomes");

  /* Only the stubborn tasks have a short timeout: on a loaded machine a
   * pool thread can be preempted for longer than 10 ms, and a task that
   * fails or returns at once must not time out then. */
  for (guint i = 0; i < 500; i++)
    gather_group_add_task (group, NULL,
                           (i % 11 == 0 && i % 7 != 0) ? 10 * test_slowdown () : 60000,
                           body, GUINT_TO_POINTER (i), NULL, NULL);
  gather_group_run_async (group, NULL, on_finished, &outcomes);
  while (outcomes == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (outcomes->len, ==, 500);
  for (guint i = 0; i < 500; i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (outcomes, i);

      g_assert_cmpuint (gather_outcome_get_index (outcome), ==, i);
      if (i % 7 == 0)
        g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_ERROR);
      else if (i % 11 == 0)
        g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_TIMEOUT);
      else
        g_assert_cmpuint (g_variant_get_uint32 (gather_outcome_get_result (outcome)), ==, i);
    }

  if (!gather_slab_objects_alone ())
    g_assert_cmpuint (gather_slab_get_n_blocks (), >, before);

  g_ptr_array_unref (outcomes);
  g_object_unref (group);

  /* The bodies that timed out drop their records' last references on
   * their threads, maybe after this. */
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC * test_slowdown ();
  while (gather_slab_get_n_blocks () != before && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpuint (gather_slab_get_n_blocks (), ==, before);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gather/slab/objects", test_slab_objects);
  g_test_add_func ("/gather/slab/threads", test_slab_threads);
  g_test_add_func ("/gather/slab/group", test_slab_group);

  return g_test_run ();
}
