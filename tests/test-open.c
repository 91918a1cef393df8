/* test-open.c: tasks added while an open group runs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* ---- A crawler: each finished page links to up to two more ---- */

#define CRAWL_PAGES 1000

typedef struct
{
  GatherGroup *group;
  guint        n_added;
  guint        n_seen;
  gboolean     async;
  GHashTable  *pages;        /* page numbers added, to catch duplicates */
  guint        page_of[CRAWL_PAGES];   /* by task index */
} Crawl;

static GVariant *
crawl_page (GCancellable  *cancellable,
            gpointer       user_data,
            GError       **error)
{
  return g_variant_new_uint32 (GPOINTER_TO_UINT (user_data));
}

static void
crawl_page_async (GatherCompletion *completion,
                  GCancellable     *cancellable,
                  gpointer          user_data)
{
  gather_completion_return_value (completion, g_variant_new_uint32 (GPOINTER_TO_UINT (user_data)));
  gather_completion_unref (completion);
}

static void
crawl_add (Crawl *crawl,
           guint  page)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *label = g_strdup_printf ("page %u", page);
  guint index;

  if (crawl->async)
    index = gather_group_add_async_task (crawl->group, label, 5000, crawl_page_async,
                                         GUINT_TO_POINTER (page), NULL, &error);
  else
    index = gather_group_add_task (crawl->group, label, 5000, crawl_page,
                                   GUINT_TO_POINTER (page), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (index, ==, crawl->n_added);
  g_assert_true (g_hash_table_add (crawl->pages, GUINT_TO_POINTER (page)));
  crawl->page_of[index] = page;
  crawl->n_added++;

  if (crawl->n_added == CRAWL_PAGES)
    gather_group_close (crawl->group);
}

static void
crawl_on_task_finished (GatherGroup   *group,
                        GatherOutcome *outcome,
                        gpointer       user_data)
{
  Crawl *crawl = user_data;
  guint page = g_variant_get_uint32 (gather_outcome_get_result (outcome));

  crawl->n_seen++;

  /* Page n links to pages 2n + 1 and 2n + 2 of a tree. */
  for (guint child = 2 * page + 1; child <= 2 * page + 2 && crawl->n_added < CRAWL_PAGES; child++)
    crawl_add (crawl, child);
}

static void
count_items_changed (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     gpointer    user_data)
{
  guint *n_items = user_data;

  /* Appended, one at a time, in order. */
  g_assert_cmpuint (position, ==, *n_items);
  g_assert_cmpuint (removed, ==, 0);
  *n_items += added;
}

static void
crawl (gboolean async,
       guint    max_concurrent)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherPool) pool = gather_pool_new (4);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  Crawl crawl = { group, 0, 0, async, g_hash_table_new (NULL, NULL), { 0 } };
  guint n_items = 0;

  gather_group_set_pool (group, pool);
  gather_group_set_open (group, TRUE);
  gather_group_set_max_concurrent (group, max_concurrent);
  g_signal_connect (group, "task-finished", G_CALLBACK (crawl_on_task_finished), &crawl);
  g_signal_connect (gather_group_get_tasks (group), "items-changed", G_CALLBACK (count_items_changed), &n_items);

  crawl_add (&crawl, 0);
  outcomes = test_run_and_wait (group, NULL, 60000, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (outcomes->len, ==, CRAWL_PAGES);
  g_assert_cmpuint (crawl.n_seen, ==, CRAWL_PAGES);
  g_assert_cmpuint (gather_group_get_n_tasks (group), ==, CRAWL_PAGES);
  g_assert_cmpuint (gather_group_get_n_finished (group), ==, CRAWL_PAGES);
  g_assert_cmpfloat (gather_group_get_fraction (group), ==, 1.0);
  g_assert_false (gather_group_get_open (group));
  g_assert_cmpuint (g_list_model_get_n_items (gather_group_get_tasks (group)), ==, CRAWL_PAGES);
  g_assert_cmpuint (n_items, ==, CRAWL_PAGES);

  for (guint i = 0; i < outcomes->len; i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (outcomes, i);

      /* In submission order: index i is the i-th task added. */
      g_assert_cmpuint (gather_outcome_get_index (outcome), ==, i);
      g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_OK);
      /* The outcome of the i-th page added. */
      g_assert_cmpuint (g_variant_get_uint32 (gather_outcome_get_result (outcome)), ==, crawl.page_of[i]);
      g_assert_cmpint (gather_outcome_get_queued_time (outcome), <=, gather_outcome_get_start_time (outcome));
    }

  g_hash_table_unref (crawl.pages);
}

static void
test_open_crawler_threads (void)
{
  g_test_summary ("A crawler: each finished task adds up to two more until 1,000 tasks "
                  "ran, on pool threads; the group finishes once closed");
  crawl (FALSE, 0);
}

static void
test_open_crawler_async (void)
{
  g_test_summary ("The crawler with async tasks and max-concurrent 3");
  crawl (TRUE, 3);
}

/* ---- When adding fails, and what counts the late tasks ---- */

static void
never_started (GatherCompletion *completion,
               GCancellable     *cancellable,
               gpointer          user_data)
{
  g_assert_not_reached ();
}

static void
test_open_errors (void)
{
  g_autoptr(GatherGroup) closed = gather_group_new ();
  g_autoptr(GatherGroup) open = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint n_destroyed = 0;
  TestTask *task;

  g_test_summary ("Adding to a running group that is not open, to a closed one or to "
                  "one that has run is ALREADY_STARTED, and the data is destroyed");

  test_add (closed, NULL, 0, test_task_new ());
  gather_group_run_async (closed, NULL, test_save_result, &result);
  task = test_task_new ();
  task->n_destroyed = &n_destroyed;
  g_assert_cmpuint (gather_group_add_task (closed, NULL, 0, test_task_run, task, test_task_free, &error),
                    ==, G_MAXUINT);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED);
  test_assert_message_has (error, "unless the group is open");
  g_clear_error (&error);
  g_assert_cmpint (n_destroyed, ==, 1);
  g_assert_true (test_iterate_until_result (&result, 5000));
  g_clear_object (&result);

  /* Open: added while running, then closed, then finished. */
  gather_group_set_open (open, TRUE);
  gather_group_run_async (open, NULL, test_save_result, &result);
  g_assert_cmpuint (test_add (open, "late", 0, test_task_new ()), ==, 0);
  gather_group_close (open);
  g_assert_false (gather_group_get_open (open));
  task = test_task_new ();
  task->n_destroyed = &n_destroyed;
  g_assert_cmpuint (gather_group_add_task (open, NULL, 0, test_task_run, task, test_task_free, &error),
                    ==, G_MAXUINT);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED);
  test_assert_message_has (error, "closed");
  g_clear_error (&error);
  g_assert_cmpint (n_destroyed, ==, 2);

  g_assert_true (test_iterate_until_result (&result, 5000));
  outcomes = gather_group_run_finish (open, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 1);

  gather_group_add_async_task (open, NULL, 0, never_started, NULL, NULL, &error);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED);
  test_assert_message_has (error, "already run");
}

static gboolean
close_later (gpointer data)
{
  gather_group_close (data);
  return G_SOURCE_REMOVE;
}

static void
test_open_empty (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("An open group without tasks waits until it is closed");

  g_object_set (group, "open", TRUE, NULL);
  gather_group_run_async (group, NULL, test_save_result, &result);

  /* Nothing finishes it while it is open. */
  for (guint i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_null (result);
  g_assert_true (gather_group_get_open (group));

  g_idle_add (close_later, group);
  g_assert_true (test_iterate_until_result (&result, 5000));
  outcomes = gather_group_run_finish (group, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 0);
  g_assert_cmpfloat (gather_group_get_fraction (group), ==, 1.0);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

typedef struct
{
  GatherGroup *group;
  TestTask    *template;
  guint        n_more;
  guint        timeout_msec;
} AddMore;

static void
add_more_on_finished (GatherGroup   *group,
                      GatherOutcome *outcome,
                      gpointer       user_data)
{
  AddMore *more = user_data;

  while (more->n_more > 0)
    {
      TestTask *task = g_memdup2 (more->template, sizeof (TestTask));

      more->n_more--;
      test_add (group, "late", more->timeout_msec, task);
    }
  gather_group_close (group);
}

static void
test_open_counts_late_tasks (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherPool) pool = gather_pool_new (8);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint running = 0, max_running = 0;
  TestTask template = { 0 };
  AddMore more = { group, &template, 8, 0 };
  guint n_tasks_notified = 0;

  g_test_summary ("max-concurrent, n-tasks and the fraction count tasks added late");

  template.value = "ok";
  template.sleep_msec = 30;
  template.running = &running;
  template.max_running = &max_running;
  /* Each waits until two ran at once: the cap is reached, however the
   * pool's threads are scheduled on a loaded machine. */
  template.wait_for_running = 2;

  gather_group_set_pool (group, pool);
  gather_group_set_open (group, TRUE);
  gather_group_set_max_concurrent (group, 2);
  g_signal_connect (group, "task-finished", G_CALLBACK (add_more_on_finished), &more);
  test_add (group, "first", 0, test_task_new ());
  g_signal_connect (group, "notify::n-tasks", G_CALLBACK (count_notify), &n_tasks_notified);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 9);
  g_assert_cmpint (max_running, <=, 2);
  g_assert_cmpint (max_running, ==, 2);
  g_assert_cmpuint (gather_group_get_n_tasks (group), ==, 9);
  g_assert_cmpuint (n_tasks_notified, ==, 8);
}

static void
test_open_deadline_and_policy (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  TestTask template = { 0 };
  AddMore more = { group, &template, 3, 0 };

  g_test_summary ("The deadline bounds tasks added late, and stopping closes the group");

  template.value = "ok";
  template.sleep_msec = 60000;

  /* "first" must end, and the others be added, before the deadline: time
   * to spare on a loaded machine, where 300 ms might not be. */
  gather_group_set_open (group, TRUE);
  gather_group_set_deadline (group, 1000);
  g_signal_connect (group, "task-finished", G_CALLBACK (add_more_on_finished), &more);
  test_add (group, "first", 0, test_task_new ());

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 4);
  for (guint i = 1; i < 4; i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (outcomes, i);

      g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_TIMEOUT);
      g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR, GATHER_ERROR_DEADLINE_EXCEEDED);
      /* Queued when added, after the run started. */
      g_assert_cmpint (gather_outcome_get_queued_time (outcome), >,
                       gather_outcome_get_queued_time (g_ptr_array_index (outcomes, 0)));
    }
}

static void
add_failing_and_slow (GatherGroup   *group,
                      GatherOutcome *outcome,
                      gpointer       user_data)
{
  TestTask *failing, *slow;

  if (gather_outcome_get_index (outcome) != 0)
    return;

  slow = test_task_new ();
  slow->sleep_msec = 60000;
  test_add (group, "late slow", 0, slow);
  failing = test_task_new ();
  failing->value = NULL;
  failing->sleep_msec = 20;
  test_add (group, "late failing", 0, failing);
}

static void
test_open_policy (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("The policy judges tasks added late: a late failure stops a late slow "
                  "task under FIRST_ERROR, and closes the group");

  gather_group_set_open (group, TRUE);
  gather_group_set_policy (group, GATHER_POLICY_FIRST_ERROR);
  g_signal_connect (group, "task-finished", G_CALLBACK (add_failing_and_slow), NULL);
  test_add (group, "first", 0, test_task_new ());

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 3);
  g_assert_cmpint (gather_outcome_get_status (g_ptr_array_index (outcomes, 0)), ==, GATHER_STATUS_OK);
  g_assert_cmpint (gather_outcome_get_status (g_ptr_array_index (outcomes, 1)), ==, GATHER_STATUS_CANCELLED);
  test_assert_message_has (gather_outcome_get_error (g_ptr_array_index (outcomes, 1)), "“late failing” failed");
  g_assert_cmpint (gather_outcome_get_status (g_ptr_array_index (outcomes, 2)), ==, GATHER_STATUS_ERROR);
  g_assert_false (gather_group_get_open (group));
}

typedef struct
{
  GCancellable *cancellable;
  GatherGroup  *group;
  guint         n_closed;
} CancelThenAdd;

static GVariant *add_fails (GCancellable *cancellable, gpointer user_data, GError **error);

static void
cancel_then_add (GatherGroup   *group,
                 GatherOutcome *outcome,
                 gpointer       user_data)
{
  CancelThenAdd *data = user_data;

  if (gather_outcome_get_index (outcome) != 0)
    return;

  g_cancellable_cancel (data->cancellable);
}

static void
on_open_notify (GObject    *object,
                GParamSpec *pspec,
                gpointer    user_data)
{
  CancelThenAdd *data = user_data;
  g_autoptr(GError) error = NULL;

  /* Closed by the stop: adding now fails. */
  g_assert_false (gather_group_get_open (data->group));
  g_assert_cmpuint (gather_group_add_task (data->group, NULL, 0, add_fails, NULL, NULL, &error),
                    ==, G_MAXUINT);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED);
  data->n_closed++;
}

static GVariant *
add_fails (GCancellable  *cancellable,
           gpointer       user_data,
           GError       **error)
{
  return g_variant_new_string ("x");
}

static void
test_open_stop_closes (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  CancelThenAdd data = { cancellable, group, 0 };
  TestTask *slow = test_task_new ();

  g_test_summary ("A cancelled run closes an open group: it finishes without close(), "
                  "and adding then fails");

  slow->sleep_msec = 60000;
  gather_group_set_open (group, TRUE);
  gather_group_add_task (group, "quick", 0, add_fails, NULL, NULL, &error);
  g_assert_no_error (error);
  test_add (group, "slow", 0, slow);
  g_signal_connect (group, "task-finished", G_CALLBACK (cancel_then_add), &data);
  g_signal_connect (group, "notify::open", G_CALLBACK (on_open_notify), &data);

  outcomes = test_run_and_wait (group, cancellable, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 2);
  g_assert_cmpint (gather_outcome_get_status (g_ptr_array_index (outcomes, 1)), ==,
                   GATHER_STATUS_CANCELLED);
  g_assert_false (gather_group_get_open (group));
  g_assert_cmpuint (data.n_closed, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/gather/open/crawler-threads", test_open_crawler_threads);
  g_test_add_func ("/gather/open/crawler-async", test_open_crawler_async);
  g_test_add_func ("/gather/open/errors", test_open_errors);
  g_test_add_func ("/gather/open/empty", test_open_empty);
  g_test_add_func ("/gather/open/counts-late-tasks", test_open_counts_late_tasks);
  g_test_add_func ("/gather/open/deadline", test_open_deadline_and_policy);
  g_test_add_func ("/gather/open/stop-closes", test_open_stop_closes);
  g_test_add_func ("/gather/open/policy", test_open_policy);

  return g_test_run ();
}
