/* test-priority.c: higher priorities start first.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

typedef struct
{
  gint    *sequence;      /* atomic, shared: the next start number */
  gint     started_as;    /* this task's start number */
  gint    *gate;          /* wait until it is set */
} Ordered;

static GVariant *
ordered_run (GCancellable  *cancellable,
             gpointer       user_data,
             GError       **error)
{
  Ordered *ordered = user_data;

  ordered->started_as = g_atomic_int_add (ordered->sequence, 1);
  while (ordered->gate != NULL && !g_atomic_int_get (ordered->gate))
    g_usleep (1000);

  return g_variant_new_int32 (ordered->started_as);
}

static void
ordered_async (GatherCompletion *completion,
               GCancellable     *cancellable,
               gpointer          user_data)
{
  Ordered *ordered = user_data;

  ordered->started_as = (*ordered->sequence)++;
  gather_completion_return_value (completion, g_variant_new_int32 (ordered->started_as));
  gather_completion_unref (completion);
}

/* Checks that the tasks started by priority, then index. */
static void
assert_started_in_order (Ordered    *ordered,
                         const gint *priorities,
                         guint       n,
                         guint       first)
{
  for (guint a = first; a < n; a++)
    for (guint b = first; b < n; b++)
      {
        gboolean a_first = priorities[a] > priorities[b] ||
                           (priorities[a] == priorities[b] && a < b);

        if (a != b && a_first)
          g_assert_cmpint (ordered[a].started_as, <, ordered[b].started_as);
      }
}

static void
test_priority_one_thread (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherPool) pool = gather_pool_new (1);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  static const gint priorities[] = { 0, 3, -1, 3, 0, 10, -5, 0, 2, 2, 10, -1, 0, 7, 0 };
  Ordered ordered[G_N_ELEMENTS (priorities)] = { { 0 } };
  gint sequence = 0;

  g_test_summary ("On a one-thread pool, tasks whose priority was set before the run "
                  "start by priority, equal priorities in the order they were added");

  gather_group_set_pool (group, pool);
  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    {
      ordered[i].sequence = &sequence;
      gather_group_add_task (group, NULL, 0, ordered_run, &ordered[i], NULL, &error);
      g_assert_no_error (error);
      if (priorities[i] != 0)
        gather_task_set_priority (gather_group_get_task (group, i), priorities[i]);
    }

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  assert_started_in_order (ordered, priorities, G_N_ELEMENTS (priorities), 0);
}

static void
set_flag_if_running (GObject    *object,
                     GParamSpec *pspec,
                     gpointer    user_data)
{
  if (gather_task_get_state (GATHER_TASK (object)) == GATHER_TASK_STATE_RUNNING)
    *(gboolean *) user_data = TRUE;
}

static void
test_priority_late (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherPool) pool = gather_pool_new (1);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint priorities[] = { 100, 0, 1, 0, 5, -2, 1, 0 };
  Ordered ordered[G_N_ELEMENTS (priorities)] = { { 0 } };
  gint sequence = 0;
  gint gate = FALSE;
  gboolean started = FALSE;

  g_test_summary ("With max-concurrent 1, tasks added while the group runs and "
                  "priorities changed while queued start strictly by priority");

  gather_group_set_pool (group, pool);
  gather_group_set_open (group, TRUE);
  gather_group_set_max_concurrent (group, 1);

  /* The first task holds the only slot until the others are queued. */
  ordered[0].gate = &gate;
  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    ordered[i].sequence = &sequence;
  gather_group_add_task (group, "blocker", 0, ordered_run, &ordered[0], NULL, &error);
  g_assert_no_error (error);
  /* A watched task wakes the owner when it starts. */
  g_signal_connect (gather_group_get_task (group, 0), "notify::state", G_CALLBACK (set_flag_if_running), &started);
  gather_group_run_async (group, NULL, test_save_result, &result);
  /* Started: it holds the only slot (its body may not have run yet). */
  g_assert_true (test_iterate_until (&started, 5000));

  for (guint i = 1; i < G_N_ELEMENTS (priorities); i++)
    {
      gather_group_add_task (group, NULL, 0, ordered_run, &ordered[i], NULL, &error);
      g_assert_no_error (error);
      gather_task_set_priority (gather_group_get_task (group, i), i == 7 ? 3 : priorities[i]);
    }
  /* Changed while queued: 3 → 0 for the last one. */
  gather_task_set_priority (gather_group_get_task (group, 7), 0);
  gather_group_close (group);

  g_atomic_int_set (&gate, TRUE);
  g_assert_true (test_iterate_until_result (&result, 10000));
  outcomes = gather_group_run_finish (group, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, G_N_ELEMENTS (priorities));
  g_assert_cmpint (ordered[0].started_as, ==, 0);
  assert_started_in_order (ordered, priorities, G_N_ELEMENTS (priorities), 1);
}

static void
test_priority_async (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  static const gint priorities[] = { -3, 0, 4, 4, 0, 9, -3 };
  Ordered ordered[G_N_ELEMENTS (priorities)] = { { 0 } };
  gint sequence = 0;

  g_test_summary ("Async tasks start by priority too");

  gather_group_set_max_concurrent (group, 1);
  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    {
      ordered[i].sequence = &sequence;
      gather_group_add_async_task (group, NULL, 0, ordered_async, &ordered[i], NULL, &error);
      g_assert_no_error (error);
      g_object_set (gather_group_get_task (group, i), "priority", priorities[i], NULL);
    }

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  assert_started_in_order (ordered, priorities, G_N_ELEMENTS (priorities), 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/gather/priority/one-thread", test_priority_one_thread);
  g_test_add_func ("/gather/priority/late", test_priority_late);
  g_test_add_func ("/gather/priority/async", test_priority_async);

  return g_test_run ();
}
