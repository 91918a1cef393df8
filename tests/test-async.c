/* test-async.c: async tasks, GatherCompletion
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib/gstdio.h>

#include "test-util.h"

/*
 * What an async test task does, given as its user data. The operation is a
 * main-context timeout (or nothing), so every test runs on the test's
 * thread-default context and can check where things happen.
 */
typedef struct
{
  guint               complete_msec;    /* complete after this long */
  gboolean            complete_now;     /* complete in the start function */
  gboolean            drop;             /* drop the handle without completing */
  gboolean            ignore_cancel;    /* do not complete when cancelled */
  const char         *value;            /* NULL: fail */
  gint               *n_destroyed;
  gint               *n_values_freed;   /* the late value's, too */
  gint               *running;          /* atomic: operations in flight */
  gint               *max_running;
  GThread           **cancelled_on;     /* where the cancellable fired */
  GThread           **started_on;
  gint64             *started_at;

  /* The operation in flight. */
  GatherCompletion   *completion;
  GCancellable       *cancellable;
  gulong              cancelled_id;
  guint               timeout_id;
} AsyncTask;

static AsyncTask *
async_task_new (guint       complete_msec,
                const char *value)
{
  AsyncTask *task = g_new0 (AsyncTask, 1);

  task->complete_msec = complete_msec;
  task->value = value;

  return task;
}

static void
async_task_free (gpointer data)
{
  AsyncTask *task = data;

  g_assert_null (task->completion);
  if (task->n_destroyed != NULL)
    g_atomic_int_inc (task->n_destroyed);
  g_free (task);
}

typedef struct
{
  char *copy;
  gint *counter;
} CountedValue;

static void
counted_value_free (gpointer data)
{
  CountedValue *value = data;

  g_atomic_int_inc (value->counter);
  g_free (value->copy);
  g_free (value);
}

static void
async_task_complete (AsyncTask *task)
{
  GatherCompletion *completion = g_steal_pointer (&task->completion);

  if (task->cancelled_id != 0)
    g_cancellable_disconnect (task->cancellable, task->cancelled_id);
  task->cancelled_id = 0;
  g_clear_object (&task->cancellable);
  g_clear_handle_id (&task->timeout_id, g_source_remove);

  if (task->running != NULL)
    g_atomic_int_add (task->running, -1);

  if (task->value == NULL)
    {
      gather_completion_return_new_error (completion, G_IO_ERROR, G_IO_ERROR_FAILED,
                                          "Operation failed on purpose");
    }
  else if (task->n_values_freed != NULL)
    {
      /* A value whose release we can observe, whenever it comes. */
      CountedValue *counted = g_new (CountedValue, 1);

      counted->copy = g_strdup (task->value);
      counted->counter = task->n_values_freed;
      gather_completion_return_value (completion,
                                      g_variant_new_from_data (G_VARIANT_TYPE ("ay"),
                                                               counted->copy,
                                                               strlen (counted->copy), TRUE,
                                                               counted_value_free, counted));
    }
  else
    {
      gather_completion_return_value (completion, g_variant_new_string (task->value));
    }

  gather_completion_unref (completion);
}

static gboolean
async_task_timeout (gpointer data)
{
  AsyncTask *task = data;

  task->timeout_id = 0;
  async_task_complete (task);

  return G_SOURCE_REMOVE;
}

static void
async_task_cancelled (GCancellable *cancellable,
                      gpointer      data)
{
  AsyncTask *task = data;

  if (task->cancelled_on != NULL)
    *task->cancelled_on = g_thread_self ();
  if (task->ignore_cancel)
    return;

  /* Like a GIO operation: complete with G_IO_ERROR_CANCELLED, later. */
  g_clear_handle_id (&task->timeout_id, g_source_remove);
  task->value = NULL;
  task->timeout_id = g_idle_add (async_task_timeout, task);
}

static void
async_task_start (GatherCompletion *completion,
                  GCancellable     *cancellable,
                  gpointer          user_data)
{
  AsyncTask *task = user_data;

  g_assert_nonnull (completion);
  g_assert_true (G_IS_CANCELLABLE (cancellable));

  if (task->started_on != NULL)
    *task->started_on = g_thread_self ();
  if (task->started_at != NULL)
    *task->started_at = g_get_monotonic_time ();

  if (task->running != NULL)
    {
      gint now = g_atomic_int_add (task->running, 1) + 1;

      if (now > *task->max_running)
        *task->max_running = now;
    }

  if (task->drop)
    {
      gather_completion_unref (completion);
      return;
    }

  task->completion = completion;

  if (task->complete_now)
    {
      async_task_complete (task);
      return;
    }

  task->cancellable = g_object_ref (cancellable);
  task->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (async_task_cancelled),
                                              task, NULL);
  task->timeout_id = g_timeout_add (task->complete_msec, async_task_timeout, task);
}

static guint
add_async (GatherGroup *group,
           const char  *label,
           guint        timeout_msec,
           AsyncTask   *task)
{
  g_autoptr(GError) error = NULL;
  guint index;

  index = gather_group_add_async_task (group, label, timeout_msec, async_task_start,
                                       task, async_task_free, &error);
  g_assert_no_error (error);

  return index;
}

static void
assert_status (GatherOutcome *outcome,
               GatherStatus   status)
{
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, status);
}

/* ---- Basics ---- */

static void
test_async_order (void)
{
  static const guint msec[] = { 60, 20, 40, 0 };
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  GThread *started_on[G_N_ELEMENTS (msec)] = { NULL };
  gint n_destroyed = 0;

  g_test_summary ("Async tasks start on the owner's context, complete in any "
                  "order, and their outcomes come back in submission order");

  for (guint i = 0; i < G_N_ELEMENTS (msec); i++)
    {
      AsyncTask *task = async_task_new (msec[i], g_intern_string (i == 0 ? "zero" :
                                                                  i == 1 ? "one" :
                                                                  i == 2 ? "two" : "three"));

      task->started_on = &started_on[i];
      task->n_destroyed = &n_destroyed;
      g_assert_cmpuint (add_async (group, NULL, 5000, task), ==, i);
    }

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (outcomes->len, ==, 4);
  g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (test_outcome (outcomes, 0)), NULL), ==, "zero");
  g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (test_outcome (outcomes, 3)), NULL), ==, "three");
  for (guint i = 0; i < outcomes->len; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);

      assert_status (outcome, GATHER_STATUS_OK);
      g_assert_cmpuint (gather_outcome_get_index (outcome), ==, i);
      g_assert_true (started_on[i] == g_thread_self ());
      g_assert_cmpint (gather_outcome_get_finish_time (outcome) -
                       gather_outcome_get_start_time (outcome), >=, msec[i] * 1000);
      g_assert_false (gather_outcome_get_abandoned (outcome));
    }

  /* Every task's data is destroyed on the owner's context once it is over. */
  g_assert_true (test_iterate_until_count (&n_destroyed, 4, 5000));
}

static void
test_async_complete_now (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  AsyncTask *ok = async_task_new (0, "now");
  AsyncTask *failing = async_task_new (0, NULL);

  g_test_summary ("A start function may complete its task before it returns, "
                  "with a value or an error");

  ok->complete_now = TRUE;
  failing->complete_now = TRUE;
  add_async (group, "ok", 0, ok);
  add_async (group, "failing", 0, failing);

  outcomes = test_run_and_wait (group, NULL, 5000, &error);
  g_assert_no_error (error);

  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_OK);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 1)),
                  G_IO_ERROR, G_IO_ERROR_FAILED);
}

static void
test_async_dropped (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  AsyncTask *task = async_task_new (0, "never");
  GatherOutcome *outcome;
  gint64 start;

  g_test_summary ("A task whose completion is dropped without being completed "
                  "ends at once with INVALID_RESULT, not at its timeout");

  task->drop = TRUE;
  add_async (group, "forgetful", 60000, task);

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5000 * 1000);

  outcome = test_outcome (outcomes, 0);
  assert_status (outcome, GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR, GATHER_ERROR_INVALID_RESULT);
  test_assert_message_has (gather_outcome_get_error (outcome), "“forgetful” was never completed");
}

static void
twice_start (GatherCompletion *completion,
             GCancellable     *cancellable,
             gpointer          user_data)
{
  gather_completion_return_value (completion, g_variant_new_string ("first"));
  gather_completion_return_value (completion, g_variant_new_string ("second"));
  gather_completion_unref (completion);
}

static void
test_async_complete_twice (void)
{
  g_test_summary ("Completing a task twice is a programmer error, reported with "
                  "a critical naming the task");

  if (g_test_subprocess ())
    {
      g_autoptr(GatherGroup) group = gather_group_new ();
      g_autoptr(GPtrArray) outcomes = NULL;

      gather_group_add_async_task (group, NULL, 0, twice_start, NULL, NULL, NULL);
      outcomes = test_run_and_wait (group, NULL, 5000, NULL);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*task #0 was completed already*");
}

/* ---- Timeouts and stops ---- */

static void
test_async_timeout (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  AsyncTask *slow = async_task_new (60000, "slow");
  AsyncTask *fast = async_task_new (10, "fast");
  GThread *cancelled_on = NULL;
  gint n_destroyed = 0;
  GatherOutcome *outcome;

  g_test_summary ("At its timeout an async task's outcome is recorded at once and "
                  "its cancellable is cancelled on the owner's context; the "
                  "other tasks carry on");

  slow->cancelled_on = &cancelled_on;
  slow->n_destroyed = &n_destroyed;
  add_async (group, "slow", 100, slow);
  add_async (group, "fast", 5000, fast);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  outcome = test_outcome (outcomes, 0);
  assert_status (outcome, GATHER_STATUS_TIMEOUT);
  g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR, GATHER_ERROR_TIMED_OUT);
  test_assert_message_has (gather_outcome_get_error (outcome), "“slow” timed out after 100 ms");
  g_assert_cmpint (gather_outcome_get_finish_time (outcome) -
                   gather_outcome_get_start_time (outcome), >=, 100 * 1000);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_OK);

  g_assert_true (cancelled_on == g_thread_self ());

  /* The operation honoured its cancellation: not abandoned, and its data is
   * destroyed once it completed. */
  g_assert_true (test_iterate_until_count (&n_destroyed, 1, 5000));
  g_assert_false (gather_outcome_get_abandoned (outcome));
  g_assert_cmpuint (gather_group_get_n_running (group), ==, 0);
}

static void
test_async_ignores_cancel (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  AsyncTask *stubborn = async_task_new (700, "late");
  gint n_destroyed = 0, n_freed = 0;
  GatherOutcome *outcome;
  gint64 start;

  g_test_summary ("An operation that ignores its cancellation does not hold the "
                  "group; once the grace period is over its outcome says so, and "
                  "its late value is freed unseen");

  stubborn->ignore_cancel = TRUE;
  stubborn->n_destroyed = &n_destroyed;
  stubborn->n_values_freed = &n_freed;
  gather_group_set_grace_period (group, 50);
  add_async (group, "stubborn", 100, stubborn);

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 650 * 1000 * test_slowdown ());

  outcome = test_outcome (outcomes, 0);
  assert_status (outcome, GATHER_STATUS_TIMEOUT);
  g_assert_true (test_iterate_until_abandoned (outcome, 5000));
  g_assert_cmpuint (gather_group_get_n_running (group), ==, 1);

  g_assert_true (test_iterate_until_count (&n_destroyed, 1, 5000));
  /* The value goes with the record's last reference, which may be dropped
   * after the owner has released the record. */
  g_assert_true (test_iterate_until_count (&n_freed, 1, 5000));
  g_assert_null (gather_outcome_get_result (outcome));
  g_assert_cmpuint (gather_group_get_n_running (group), ==, 0);
}

typedef struct
{
  GCancellable *cancellable;
  guint         delay_msec;
} DelayedCancel;

static gpointer
cancel_from_thread (gpointer data)
{
  DelayedCancel *cancel = data;

  g_usleep ((gulong) cancel->delay_msec * 1000);
  g_cancellable_cancel (cancel->cancellable);

  return NULL;
}

static void
test_async_cancel_from_thread (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GThread *cancelled_on[3] = { NULL };
  DelayedCancel cancel = { cancellable, 50 };
  GThread *thread;

  g_test_summary ("A run cancelled from another thread cancels its async tasks' "
                  "cancellables on the owner's context only");

  for (guint i = 0; i < 3; i++)
    {
      AsyncTask *task = async_task_new (60000, "never");

      task->cancelled_on = &cancelled_on[i];
      add_async (group, NULL, 0, task);
    }

  thread = g_thread_new ("canceller", cancel_from_thread, &cancel);
  outcomes = test_run_and_wait (group, cancellable, 10000, &error);
  g_thread_join (thread);
  g_assert_no_error (error);

  for (guint i = 0; i < 3; i++)
    {
      assert_status (test_outcome (outcomes, i), GATHER_STATUS_CANCELLED);
      g_assert_true (cancelled_on[i] == g_thread_self ());
    }
}

static void
test_async_deadline (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint64 started_at[4] = { 0 };
  gint64 start;

  g_test_summary ("The group deadline stops running async tasks, and queued ones "
                  "never start");

  gather_group_set_deadline (group, 100);
  gather_group_set_max_concurrent (group, 2);
  for (guint i = 0; i < 4; i++)
    {
      AsyncTask *task = async_task_new (60000, "never");

      task->started_at = &started_at[i];
      add_async (group, NULL, 0, task);
    }

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5000 * 1000);

  for (guint i = 0; i < 4; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);

      assert_status (outcome, GATHER_STATUS_TIMEOUT);
      g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR,
                      GATHER_ERROR_DEADLINE_EXCEEDED);
      /* Two ran; two never started. */
      g_assert_cmpint (started_at[i] != 0, ==, i < 2);
      g_assert_cmpint (gather_outcome_get_start_time (outcome) != 0, ==, i < 2);
    }
}

static void
test_async_policy (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  GThread *cancelled_on = NULL;
  AsyncTask *failing = async_task_new (20, NULL);
  AsyncTask *waiting = async_task_new (60000, "never");

  g_test_summary ("FIRST_ERROR: an async task's error cancels the others, on the "
                  "owner's context");

  waiting->cancelled_on = &cancelled_on;
  gather_group_set_policy (group, GATHER_POLICY_FIRST_ERROR);
  add_async (group, "failing", 0, failing);
  add_async (group, "waiting", 0, waiting);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_ERROR);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_CANCELLED);
  test_assert_message_has (gather_outcome_get_error (test_outcome (outcomes, 1)),
                           "because task “failing” failed");
  g_assert_true (cancelled_on == g_thread_self ());
}

/* ---- Mixing kinds ---- */

static void
test_async_mixed (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (4);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherRegistry) registry = test_registry_new ("shipped", NULL);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint running = 0, max_running = 0;

  g_test_summary ("Thread, worker and async tasks in one group share "
                  "max-concurrent and come back in submission order");

  gather_group_set_pool (group, pool);
  gather_group_set_registry (group, registry);
  gather_group_set_max_concurrent (group, 2);

  for (guint i = 0; i < 9; i++)
    {
      switch (i % 3)
        {
        case 0:
          {
            AsyncTask *task = async_task_new (30, "async");

            task->running = &running;
            task->max_running = &max_running;
            add_async (group, NULL, 0, task);
          }
          break;

        case 1:
          {
            TestTask *task = test_task_new ();

            task->sleep_msec = 30;
            task->value = "thread";
            task->running = &running;
            task->max_running = &max_running;
            test_add (group, NULL, 0, task);
          }
          break;

        default:
          gather_group_add_worker_task (group, "sleep",
                                        g_variant_new_parsed ("{'ms': <@u 30>, 'value': <'worker'>}"),
                                        NULL, 0, &error);
          g_assert_no_error (error);
          break;
        }
    }

  outcomes = test_run_and_wait (group, NULL, 20000, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < outcomes->len; i++)
    {
      static const char *values[] = { "async", "thread", "worker" };
      GatherOutcome *outcome = test_outcome (outcomes, i);
      g_autoptr(GVariant) value = NULL;

      assert_status (outcome, GATHER_STATUS_OK);
      value = g_variant_ref (gather_outcome_get_result (outcome));
      /* The sleep worker returns a variant. */
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
        {
          GVariant *inner = g_variant_get_variant (value);

          g_variant_unref (value);
          value = inner;
        }
      g_assert_cmpstr (g_variant_get_string (value, NULL), ==, values[i % 3]);
    }

  /* Async and thread tasks counted against the same limit; the worker
   * tasks (not counted here) only make the limit tighter. */
  g_assert_cmpint (max_running, <=, 2);
  g_assert_cmpint (max_running, >=, 1);
}

static void
on_n_running (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  GArray *seen = user_data;
  guint n = gather_group_get_n_running (GATHER_GROUP (object));

  g_array_append_val (seen, n);
}

static void
test_async_n_running (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GError) error = NULL;
  guint most = 0;

  g_test_summary ("n-running is notified on the owner's context as async tasks "
                  "start and complete");

  for (guint i = 0; i < 3; i++)
    add_async (group, NULL, 0, async_task_new (50 + 50 * i, "ok"));
  g_signal_connect (group, "notify::n-running", G_CALLBACK (on_n_running), seen);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (seen->len, >=, 2);
  for (guint i = 0; i < seen->len; i++)
    most = MAX (most, g_array_index (seen, guint, i));
  g_assert_cmpuint (most, ==, 3);
  g_assert_cmpuint (gather_group_get_n_running (group), ==, 0);
}

/* ---- Standard _async()/_finish() pairs ---- */

static GVariant *
load_finish (GObject       *source_object,
             GAsyncResult  *result,
             GError       **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_load_contents_finish (G_FILE (source_object), result, &contents,
                                    &length, NULL, error))
    return NULL;

  return g_variant_new_take_string (g_steal_pointer (&contents));
}

static void
load_start (GatherCompletion *completion,
            GCancellable     *cancellable,
            gpointer          user_data)
{
  g_file_load_contents_async (user_data, cancellable, gather_completion_ready,
                              gather_completion_finish_with (completion, load_finish));
}

static void
test_async_finish_with (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gather-async-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "hello.txt", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.txt", NULL);

  g_test_summary ("gather_completion_finish_with() and gather_completion_ready() "
                  "adapt a GIO _async()/_finish() pair in two lines");

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, "hello", -1, &error));

  gather_group_add_async_task (group, "present", 5000, load_start,
                               g_file_new_for_path (path), g_object_unref, &error);
  gather_group_add_async_task (group, "missing", 5000, load_start,
                               g_file_new_for_path (missing), g_object_unref, &error);
  g_assert_no_error (error);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_OK);
  g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (test_outcome (outcomes, 0)), NULL),
                   ==, "hello");
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 1)),
                  G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  g_unlink (path);
  g_rmdir (dir);
}

/* ---- Completing from another thread ---- */

static gpointer
complete_on_thread (gpointer data)
{
  GatherCompletion *completion = data;

  g_usleep (20 * 1000);
  gather_completion_return_value (completion, g_variant_new_string ("from a thread"));
  gather_completion_unref (completion);

  return NULL;
}

static void
thread_start (GatherCompletion *completion,
              GCancellable     *cancellable,
              gpointer          user_data)
{
  g_thread_unref (g_thread_new ("completer", complete_on_thread, completion));
}

static void
on_task_finished_thread (GatherGroup   *group,
                         GatherOutcome *outcome,
                         gpointer       user_data)
{
  *(GThread **) user_data = g_thread_self ();
}

static void
test_async_complete_from_thread (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  GThread *finished_on = NULL;

  g_test_summary ("A completion may come from another thread; the outcome is "
                  "still delivered on the owner's context");

  gather_group_add_async_task (group, NULL, 5000, thread_start, NULL, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (group, "task-finished", G_CALLBACK (on_task_finished_thread), &finished_on);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_OK);
  g_assert_true (finished_on == g_thread_self ());
}

/* ---- Completing on the owner's thread ---- */

static void
hold_start (GatherCompletion *completion,
            GCancellable     *cancellable,
            gpointer          user_data)
{
  *(GatherCompletion **) user_data = completion;
}

static void
complete_held (GatherCompletion **held)
{
  GatherCompletion *completion = g_steal_pointer (held);

  gather_completion_return_value (completion, g_variant_new_string ("on the owner"));
  gather_completion_unref (completion);
}

static gboolean
complete_held_in_idle (gpointer data)
{
  complete_held (data);
  return G_SOURCE_REMOVE;
}

static void
on_task_finished_count (GatherGroup   *group,
                        GatherOutcome *outcome,
                        gpointer       user_data)
{
  (*(guint *) user_data)++;
}

static gboolean
on_watchdog (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_CONTINUE;
}

/* Blocking iterations until @n tasks finished, or the watchdog fires. */
static void
iterate_until_finished (guint          *n_finished,
                        guint           n,
                        const gboolean *watchdog_fired)
{
  while (*n_finished < n && !*watchdog_fired)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_async_complete_on_owner (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  GatherCompletion *held[3] = { NULL, NULL, NULL };
  gboolean watchdog_fired = FALSE;
  guint n_finished = 0;
  guint watchdog;

  g_test_summary ("A completion on the thread that runs the owner's context, from a "
                  "callback of its loop, or outside the loop with the context acquired "
                  "or not, is delivered by the loop's next blocking iteration, with no "
                  "other source to wake it");

  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    gather_group_add_async_task (group, NULL, 60000, hold_start, &held[i], NULL, NULL);
  g_signal_connect (group, "task-finished", G_CALLBACK (on_task_finished_count), &n_finished);
  gather_group_run_async (group, NULL, test_save_outcomes, &outcomes);
  while (held[0] == NULL || held[1] == NULL || held[2] == NULL)
    g_main_context_iteration (NULL, TRUE);

  /* A loop that nothing else wakes would block here until the watchdog. */
  watchdog = g_timeout_add_seconds (10 * test_slowdown (), on_watchdog, &watchdog_fired);

  /* From a callback of the loop. */
  g_idle_add (complete_held_in_idle, &held[0]);
  iterate_until_finished (&n_finished, 1, &watchdog_fired);
  g_assert_false (watchdog_fired);

  /* Outside the loop, on the thread that holds the context. */
  g_assert_true (g_main_context_acquire (NULL));
  complete_held (&held[1]);
  g_main_context_release (NULL);
  iterate_until_finished (&n_finished, 2, &watchdog_fired);
  g_assert_false (watchdog_fired);

  /* Outside the loop, with nobody holding the context. */
  complete_held (&held[2]);
  iterate_until_finished (&n_finished, 3, &watchdog_fired);
  g_assert_false (watchdog_fired);

  while (outcomes == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (watchdog_fired);
  g_source_remove (watchdog);

  g_assert_cmpuint (outcomes->len, ==, 3);
  for (guint i = 0; i < outcomes->len; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);

      assert_status (outcome, GATHER_STATUS_OK);
      g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (outcome), NULL), ==, "on the owner");
    }
}

/* A thread body that returns once released. */
static GVariant *
wait_for_release (GCancellable  *cancellable,
                  gpointer       user_data,
                  GError       **error)
{
  gint *release = user_data;
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (!g_atomic_int_get (release) && g_get_monotonic_time () < end)
    g_usleep (1000);

  return g_variant_new_boolean (g_atomic_int_get (release));
}

static gboolean
seen_contains (GArray *seen,
               guint   n)
{
  for (guint i = 0; i < seen->len; i++)
    if (g_array_index (seen, guint, i) == n)
      return TRUE;
  return FALSE;
}

static void
test_async_n_running_thread_added (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GError) error = NULL;
  GatherCompletion *held = NULL;
  gint release = FALSE;
  gint64 end;

  g_test_summary ("In a run of async tasks, a thread task added later and a "
                  "notify::n-running handler connected after the start: n-running "
                  "is notified when the thread body starts, not when it returns");

  gather_group_set_open (group, TRUE);
  gather_group_add_async_task (group, NULL, 60000, hold_start, &held, NULL, &error);
  g_assert_no_error (error);
  gather_group_run_async (group, NULL, test_save_outcomes, &outcomes);
  while (held == NULL || gather_group_get_n_running (group) != 1)
    g_main_context_iteration (NULL, TRUE);

  g_signal_connect (group, "notify::n-running", G_CALLBACK (on_n_running), seen);
  gather_group_add_task (group, NULL, 60000, wait_for_release, &release, NULL, &error);
  g_assert_no_error (error);

  /* Non-blocking: nothing but the pool thread's wake-up can bring it. */
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC * test_slowdown ();
  while (!seen_contains (seen, 2) && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_true (seen_contains (seen, 2));

  g_atomic_int_set (&release, TRUE);
  complete_held (&held);
  gather_group_close (group);
  while (outcomes == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (outcomes->len, ==, 2);
  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_OK);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_OK);
  g_assert_true (g_variant_get_boolean (gather_outcome_get_result (test_outcome (outcomes, 1))));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_bug_base ("gather issue #");

  g_test_add_func ("/gather/async/order", test_async_order);
  g_test_add_func ("/gather/async/complete-now", test_async_complete_now);
  g_test_add_func ("/gather/async/dropped", test_async_dropped);
  g_test_add_func ("/gather/async/complete-twice", test_async_complete_twice);
  g_test_add_func ("/gather/async/timeout", test_async_timeout);
  g_test_add_func ("/gather/async/ignores-cancel", test_async_ignores_cancel);
  g_test_add_func ("/gather/async/cancel-from-thread", test_async_cancel_from_thread);
  g_test_add_func ("/gather/async/deadline", test_async_deadline);
  g_test_add_func ("/gather/async/policy", test_async_policy);
  g_test_add_func ("/gather/async/mixed", test_async_mixed);
  g_test_add_func ("/gather/async/n-running", test_async_n_running);
  g_test_add_func ("/gather/async/finish-with", test_async_finish_with);
  g_test_add_func ("/gather/async/complete-from-thread", test_async_complete_from_thread);
  g_test_add_func ("/gather/async/complete-on-owner", test_async_complete_on_owner);
  g_test_add_func ("/gather/async/n-running-thread-added", test_async_n_running_thread_added);

  return g_test_run ();
}
