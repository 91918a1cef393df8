/* test-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_pool_defaults (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (0);
  guint max_threads = 0, max_replacement = 0;

  g_test_summary ("A pool defaults to one thread per processor and 1,024 replacement threads");

  g_assert_cmpuint (gather_pool_get_max_threads (pool), ==, g_get_num_processors ());
  g_assert_cmpuint (gather_pool_get_max_replacement_threads (pool), ==, 1024);
  g_assert_cmpuint (gather_pool_get_n_replacement_threads (pool), ==, 0);

  g_object_get (pool,
                "max-threads", &max_threads,
                "max-replacement-threads", &max_replacement,
                NULL);
  g_assert_cmpuint (max_threads, ==, g_get_num_processors ());
  g_assert_cmpuint (max_replacement, ==, 1024);
}

static void
test_pool_properties (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (3);
  guint n_notify = 0;

  g_test_summary ("Setting a property notifies only on change; 0 threads means "
                  "one per processor");

  g_assert_cmpuint (gather_pool_get_max_threads (pool), ==, 3);
  g_signal_connect (pool, "notify", G_CALLBACK (count_notify), &n_notify);

  gather_pool_set_max_threads (pool, 3);
  g_assert_cmpuint (n_notify, ==, 0);
  gather_pool_set_max_threads (pool, 5);
  g_assert_cmpuint (n_notify, ==, 1);
  g_assert_cmpuint (gather_pool_get_max_threads (pool), ==, 5);
  g_object_set (pool, "max-threads", 0, NULL);
  g_assert_cmpuint (n_notify, ==, 2);
  g_assert_cmpuint (gather_pool_get_max_threads (pool), ==, g_get_num_processors ());

  gather_pool_set_max_replacement_threads (pool, 2);
  gather_pool_set_max_replacement_threads (pool, 2);
  g_assert_cmpuint (n_notify, ==, 3);
  g_assert_cmpuint (gather_pool_get_max_replacement_threads (pool), ==, 2);
}

static gboolean
grow_pool (gpointer data)
{
  gather_pool_set_max_threads (data, 4);
  return G_SOURCE_REMOVE;
}

static void
test_pool_grow_while_running (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (1);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint running = 0, max_running = 0;

  g_test_summary ("Raising max-threads while tasks wait starts more threads at once");

  gather_group_set_pool (group, pool);
  for (guint i = 0; i < 4; i++)
    {
      TestTask *task = test_task_new ();

      task->running = &running;
      task->max_running = &max_running;
      /* Each waits until all four run: only possible once the pool grew. */
      task->wait_for_running = 4;
      test_add (group, NULL, 0, task);
    }

  g_timeout_add (100, grow_pool, pool);
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_atomic_int_get (&max_running), ==, 4);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/gather/pool/defaults", test_pool_defaults);
  g_test_add_func ("/gather/pool/properties", test_pool_properties);
  g_test_add_func ("/gather/pool/grow-while-running", test_pool_grow_while_running);

  return g_test_run ();
}
