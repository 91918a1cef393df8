/* test-group.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <libglib-testing/signal-logger.h>

#include "test-util.h"

#define assert_status(outcome, expected) \
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, (expected))

static GatherPool *
new_pool (guint max_threads)
{
  return gather_pool_new (max_threads);
}

static TestTask *
sleeper (guint       msec,
         const char *value)
{
  TestTask *task = test_task_new ();

  task->sleep_msec = msec;
  task->value = value;

  return task;
}

/* A body that sleeps @msec ignoring its cancellable; counts its destroy. */
static TestTask *
stubborn (guint  msec,
          gint  *n_destroyed)
{
  TestTask *task = test_task_new ();

  task->ignore_msec = msec;
  task->n_destroyed = n_destroyed;

  return task;
}

/* ---- The seed scenario ---- */

static void
add_seed_tasks (GatherGroup *group)
{
  static const char *values[] = { "user_1", "user_2", "user_3", "user_4" };

  for (guint id = 1; id <= 4; id++)
    {
      g_autofree char *label = g_strdup_printf ("fetch user %u", id);

      test_add (group, label, 3000, sleeper (id == 3 ? 5000 : 2000, values[id - 1]));
    }
}

static void
assert_seed_outcomes (GPtrArray *outcomes,
                      gint64     elapsed)
{
  GatherOutcome *timed_out;

  g_assert_cmpuint (outcomes->len, ==, 4);

  for (guint i = 0; i < 4; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);
      g_autofree char *label = g_strdup_printf ("fetch user %u", i + 1);
      g_autofree char *value = g_strdup_printf ("user_%u", i + 1);

      g_assert_cmpuint (gather_outcome_get_index (outcome), ==, i);
      g_assert_cmpstr (gather_outcome_get_label (outcome), ==, label);
      if (i == 2)
        continue;

      assert_status (outcome, GATHER_STATUS_OK);
      g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (outcome), NULL), ==, value);
      g_assert_null (gather_outcome_get_error (outcome));
    }

  timed_out = test_outcome (outcomes, 2);
  assert_status (timed_out, GATHER_STATUS_TIMEOUT);
  g_assert_null (gather_outcome_get_result (timed_out));
  g_assert_error (gather_outcome_get_error (timed_out), GATHER_ERROR, GATHER_ERROR_TIMED_OUT);
  g_assert_false (gather_outcome_get_abandoned (timed_out));
  /* Its timeout counted from when it started, and it was cut off there. */
  g_assert_cmpint (gather_outcome_get_finish_time (timed_out) -
                   gather_outcome_get_start_time (timed_out), >=, 3000 * 1000);

  /* About 3 s: well under the 5 s the slow task wanted. */
  g_assert_cmpint (elapsed, >=, 3000 * 1000);
  g_assert_cmpint (elapsed, <, 4500 * 1000);
}

static void
test_group_seed_blocking (void)
{
  g_autoptr(GatherPool) pool = new_pool (4);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  g_test_summary ("The seed scenario with the blocking run: user 3 times out "
                  "at 3 s, the other three users are fetched, in order");

  gather_group_set_pool (group, pool);
  add_seed_tasks (group);

  start = g_get_monotonic_time ();
  outcomes = gather_group_run (group, NULL, &error);
  g_assert_no_error (error);

  assert_seed_outcomes (outcomes, g_get_monotonic_time () - start);
}

static void
test_group_seed_async (void)
{
  g_autoptr(GatherPool) pool = new_pool (4);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  g_test_summary ("The seed scenario with run_async()");

  gather_group_set_pool (group, pool);
  add_seed_tasks (group);

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  assert_seed_outcomes (outcomes, g_get_monotonic_time () - start);
}

/* ---- Ordering ---- */

static void
collect_index (GatherGroup   *group,
               GatherOutcome *outcome,
               gpointer       user_data)
{
  g_array_append_val ((GArray *) user_data, (guint) { gather_outcome_get_index (outcome) });
}

static void
test_group_order (void)
{
  static const guint release_order[] = { 3, 1, 4, 2, 0 };
  g_autoptr(GatherPool) pool = new_pool (G_N_ELEMENTS (release_order));
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) completion = g_array_new (FALSE, FALSE, sizeof (guint));
  gint gates[G_N_ELEMENTS (release_order)] = { 0 };
  GAsyncResult *result = NULL;

  g_test_summary ("Outcomes come in submission order; task-finished comes in "
                  "completion order");
  g_test_bug ("10");

  gather_group_set_pool (group, pool);
  for (guint i = 0; i < G_N_ELEMENTS (gates); i++)
    {
      g_autofree char *value = g_strdup_printf ("value %u", i);
      TestTask *task = sleeper (0, g_intern_string (value));

      task->gate = &gates[i];
      g_assert_cmpuint (test_add (group, NULL, 0, task), ==, i);
    }

  g_signal_connect (group, "task-finished", G_CALLBACK (collect_index), completion);
  gather_group_run_async (group, NULL, test_save_result, &result);

  /* Each body waits for its gate: the test decides the completion order,
   * whatever the machine's load. */
  for (guint i = 0; i < G_N_ELEMENTS (release_order); i++)
    {
      g_atomic_int_set (&gates[release_order[i]], 1);
      g_assert_true (test_iterate_until_count ((gint *) &completion->len, i + 1, 10000));
    }
  g_assert_true (test_iterate_until_result (&result, 10000));
  outcomes = gather_group_run_finish (group, result, &error);
  g_clear_object (&result);
  g_assert_no_error (error);

  g_assert_cmpuint (outcomes->len, ==, G_N_ELEMENTS (gates));
  for (guint i = 0; i < outcomes->len; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);
      g_autofree char *value = g_strdup_printf ("value %u", i);

      g_assert_cmpuint (gather_outcome_get_index (outcome), ==, i);
      g_assert_null (gather_outcome_get_label (outcome));
      assert_status (outcome, GATHER_STATUS_OK);
      g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (outcome), NULL), ==, value);
      g_assert_cmpint (gather_outcome_get_queued_time (outcome), >, 0);
      g_assert_cmpint (gather_outcome_get_start_time (outcome), >=, gather_outcome_get_queued_time (outcome));
      g_assert_cmpint (gather_outcome_get_finish_time (outcome), >=,
                       gather_outcome_get_start_time (outcome));
    }

  g_assert_cmpuint (completion->len, ==, G_N_ELEMENTS (release_order));
  for (guint i = 0; i < completion->len; i++)
    g_assert_cmpuint (g_array_index (completion, guint, i), ==, release_order[i]);
}

/* ---- Stop means stop ---- */

static void
slow_handler (GatherGroup   *group,
              GatherOutcome *outcome,
              gpointer       user_data)
{
  /* A handler that takes its time: a stop must not wait for it. */
  g_usleep (GPOINTER_TO_UINT (user_data));
}

/* Opens the gate of the bodies waiting for the first outcome: it is
 * delivered after the policy's verdict. */
static void
open_gate_handler (GatherGroup   *group,
                   GatherOutcome *outcome,
                   gpointer       user_data)
{
  g_atomic_int_set ((gint *) user_data, 1);
}

/* How late after @stop a body may start and still count as started before
 * it: the stop is decided microseconds after the time its outcome shows. */
static gint64
stop_margin (void)
{
  return 2000 * test_slowdown ();
}

static void
test_group_stop_policy_starts_nothing (void)
{
  g_autoptr(GatherPool) pool = new_pool (4);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  guint n = 2000 / test_slowdown ();
  g_autofree gint64 *started = g_new0 (gint64, n);
  GatherOutcome *failed;
  gint64 stop;
  gint gate = 0;
  guint n_started_late = 0, n_cancelled = 0;

  g_test_summary ("Once FIRST_ERROR stops the run, no queued task starts, even "
                  "while a task-finished handler takes its time");
  g_test_bug ("10");

  gather_group_set_pool (group, pool);
  gather_group_set_policy (group, GATHER_POLICY_FIRST_ERROR);
  for (guint i = 0; i < n; i++)
    {
      TestTask *task = sleeper (0, i == 0 ? NULL : "ok");

      task->started_at = &started[i];
      task->busy_usec = 100;
      /* The others wait until the error is delivered, so that tasks are
       * still queued when the run stops, however the threads are
       * scheduled (valgrind runs one at a time). */
      if (i > 0)
        task->gate = &gate;
      test_add (group, NULL, 0, task);
    }
  g_signal_connect (group, "task-finished", G_CALLBACK (open_gate_handler), &gate);
  g_signal_connect (group, "task-finished", G_CALLBACK (slow_handler), GUINT_TO_POINTER (20000));

  outcomes = test_run_and_wait (group, NULL, 60000, &error);
  g_assert_no_error (error);

  failed = test_outcome (outcomes, 0);
  assert_status (failed, GATHER_STATUS_ERROR);
  stop = gather_outcome_get_finish_time (failed);

  for (guint i = 1; i < n; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);

      if (started[i] > stop + stop_margin ())
        n_started_late++;
      if (gather_outcome_get_status (outcome) == GATHER_STATUS_CANCELLED)
        n_cancelled++;
      else
        assert_status (outcome, GATHER_STATUS_OK);
      /* A task that never started says so. */
      if (started[i] == 0)
        g_assert_cmpint (gather_outcome_get_start_time (outcome), ==, 0);
    }

  g_assert_cmpuint (n_started_late, ==, 0);
  g_assert_cmpuint (n_cancelled, >, 0);
}

static void
test_group_stop_deadline_starts_nothing (void)
{
  g_autoptr(GatherPool) pool = new_pool (4);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  guint n = 4000;
  g_autofree gint64 *started = g_new0 (gint64, n);
  gint64 deadline;
  guint n_started_late = 0, n_timed_out = 0;

  g_test_summary ("No queued task starts after the deadline: every task without "
                  "an outcome then ends TIMEOUT, none OK");
  g_test_bug ("10");

  gather_group_set_pool (group, pool);
  gather_group_set_deadline (group, 50);
  for (guint i = 0; i < n; i++)
    {
      TestTask *task = sleeper (0, "ok");

      task->started_at = &started[i];
      task->busy_usec = 200;
      test_add (group, NULL, 0, task);
    }

  outcomes = test_run_and_wait (group, NULL, 60000, &error);
  g_assert_no_error (error);

  /* When the stop took effect: the deadline is decided on gather's timer
   * thread, which a slow machine (valgrind) can run late, and a body that
   * starts before the decision is right to. The first deadline outcome is
   * recorded after the decision, never before it. */
  deadline = G_MAXINT64;
  for (guint i = 0; i < n; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);

      if (gather_outcome_get_status (outcome) == GATHER_STATUS_TIMEOUT)
        deadline = MIN (deadline, gather_outcome_get_finish_time (outcome));
    }
  g_assert_cmpint (deadline, >=, gather_outcome_get_queued_time (test_outcome (outcomes, 0)) + 50 * 1000);

  for (guint i = 0; i < n; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);

      if (started[i] > deadline + stop_margin ())
        n_started_late++;
      if (gather_outcome_get_status (outcome) == GATHER_STATUS_OK)
        {
          /* It ran before the stop. */
          g_assert_cmpint (started[i], >, 0);
          g_assert_cmpint (started[i], <=, deadline + stop_margin ());
        }
      else
        {
          assert_status (outcome, GATHER_STATUS_TIMEOUT);
          g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR,
                          GATHER_ERROR_DEADLINE_EXCEEDED);
          n_timed_out++;
        }
    }

  g_assert_cmpuint (n_started_late, ==, 0);
  g_assert_cmpuint (n_timed_out, >, 0);
}

typedef struct
{
  guint         block_msec;
  gint         *n_started;
  gint         *n_returned;
  gint          n_started_while_blocked;
  gint          n_returned_while_blocked;
} BusyLoop;

typedef struct
{
  GCancellable *cancellable;
  gint         *n_started;
} Canceller;

static gpointer
cancel_from_thread (gpointer data)
{
  Canceller *canceller = data;
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC * test_slowdown ();

  /* Once a body runs, however late the pool's threads start on a loaded
   * machine; and a little later, while the owner's loop is blocked. */
  while (g_atomic_int_get (canceller->n_started) == 0 && g_get_monotonic_time () < end)
    g_usleep (1000);
  g_usleep (100 * 1000);
  g_cancellable_cancel (canceller->cancellable);
  return NULL;
}

static gboolean
block_loop (gpointer data)
{
  BusyLoop *busy = data;

  /* The owner's context is busy for a long time. */
  g_usleep ((gulong) busy->block_msec * 1000);
  busy->n_returned_while_blocked = g_atomic_int_get (busy->n_returned);
  busy->n_started_while_blocked = g_atomic_int_get (busy->n_started);

  return G_SOURCE_REMOVE;
}

static void
run_with_busy_loop (gboolean use_deadline)
{
  g_autoptr(GatherPool) pool = new_pool (8);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GThread *canceller = NULL;
  gint n_returned = 0, n_started = 0;
  Canceller cancel = { cancellable, &n_started };
  BusyLoop busy = { 1500 * test_slowdown (), &n_started, &n_returned, 0, 0 };

  gather_group_set_pool (group, pool);
  /* Time for a body to start first, even on a loaded machine, and still
   * well inside the time the loop is blocked. */
  if (use_deadline)
    gather_group_set_deadline (group, 500);
  for (guint i = 0; i < 8; i++)
    {
      /* Cooperative, but far longer than the loop is blocked. */
      TestTask *task = sleeper (20000, "ok");

      task->n_returned = &n_returned;
      task->n_started = &n_started;
      test_add (group, NULL, 0, task);
    }

  g_timeout_add (20, block_loop, &busy);
  if (!use_deadline)
    canceller = g_thread_new ("canceller", cancel_from_thread, &cancel);

  outcomes = test_run_and_wait (group, use_deadline ? NULL : cancellable, 60000, &error);
  g_assert_no_error (error);
  if (canceller != NULL)
    g_thread_join (canceller);

  /* Every body that started heard of the stop, and returned, while the
   * loop was still blocked; the others never started. (On a slow machine,
   * valgrind, not every thread starts before the stop.) */
  g_assert_cmpint (busy.n_started_while_blocked, >=, 1);
  g_assert_cmpint (busy.n_returned_while_blocked, ==, busy.n_started_while_blocked);
  g_assert_cmpint (g_atomic_int_get (&n_started), ==, busy.n_started_while_blocked);
  for (guint i = 0; i < outcomes->len; i++)
    assert_status (test_outcome (outcomes, i),
                   use_deadline ? GATHER_STATUS_TIMEOUT : GATHER_STATUS_CANCELLED);
}

static void
test_group_stop_deadline_busy_loop (void)
{
  g_test_summary ("The deadline cancels running bodies at once while the owner's "
                  "main loop is blocked");
  g_test_bug ("10");

  run_with_busy_loop (TRUE);
}

static void
test_group_stop_cancel_busy_loop (void)
{
  g_test_summary ("Cancelling the run from another thread cancels running bodies "
                  "at once while the owner's main loop is blocked");
  g_test_bug ("10");

  run_with_busy_loop (FALSE);
}

/* ---- Errors ---- */

static void
test_group_errors (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) propagated = NULL;
  g_autoptr(GVariant) value = NULL;
  TestTask *failing = test_task_new ();
  TestTask *nothing = test_task_new ();
  TestTask *both = test_task_new ();

  g_test_summary ("Errors are collected as outcomes, next to results; a body "
                  "returning nothing, or both a result and an error, is an error");

  failing->value = NULL;
  failing->error_domain = G_IO_ERROR;
  failing->error_code = G_IO_ERROR_NOT_FOUND;
  nothing->return_nothing = TRUE;
  both->return_both = TRUE;
  both->error_domain = G_IO_ERROR;
  both->error_code = G_IO_ERROR_PERMISSION_DENIED;

  test_add (group, "fine", 0, test_task_new ());
  test_add (group, "failing", 0, failing);
  test_add (group, "nothing", 0, nothing);
  test_add (group, "both", 0, both);
  test_add (group, NULL, 0, test_task_new ());

  outcomes = test_run_and_wait (group, NULL, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 5);

  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_OK);
  assert_status (test_outcome (outcomes, 4), GATHER_STATUS_OK);

  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 1)),
                  G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (gather_outcome_get_error (test_outcome (outcomes, 1))->message, ==,
                   "Task failed on purpose");
  g_assert_null (gather_outcome_get_result (test_outcome (outcomes, 1)));

  assert_status (test_outcome (outcomes, 2), GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 2)),
                  GATHER_ERROR, GATHER_ERROR_INVALID_RESULT);
  g_assert_cmpstr (gather_outcome_get_error (test_outcome (outcomes, 2))->message, ==,
                   "Task “nothing” returned neither a result nor an error");

  assert_status (test_outcome (outcomes, 3), GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 3)),
                  G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_null (gather_outcome_get_result (test_outcome (outcomes, 3)));

  /* propagate_result(): the value, or a copy of the error. */
  value = gather_outcome_propagate_result (test_outcome (outcomes, 0), &propagated);
  g_assert_no_error (propagated);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "ok");
  g_assert_null (gather_outcome_propagate_result (test_outcome (outcomes, 1), &propagated));
  g_assert_error (propagated, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_true (propagated != gather_outcome_get_error (test_outcome (outcomes, 1)));
}

static void
test_group_result_ownership (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  GPtrArray *outcomes;
  g_autoptr(GError) error = NULL;
  TestTask *floating = test_task_new ();
  TestTask *full = test_task_new ();
  gint n_freed = 0;

  g_test_summary ("A body's result is transfer full: a floating reference is "
                  "sunk, a full one taken as is; each is freed once with its "
                  "outcome");

  floating->n_results_freed = &n_freed;
  full->n_results_freed = &n_freed;
  full->sink_result = TRUE;
  test_add (group, "floating", 0, floating);
  test_add (group, "full", 0, full);

  outcomes = test_run_and_wait (group, NULL, 5000, &error);
  g_assert_no_error (error);
  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_OK);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_OK);
  g_assert_cmpint (g_atomic_int_get (&n_freed), ==, 0);

  /* The group holds the outcomes too; drop both. */
  g_ptr_array_unref (outcomes);
  g_clear_object (&group);
  g_assert_cmpint (g_atomic_int_get (&n_freed), ==, 2);
}

/* ---- Policies ---- */

/* A gate that opens once the outcome of task @index is delivered, so
 * judged by the policy: a body waiting for it decides the order of
 * verdicts, however the threads are scheduled. */
typedef struct
{
  guint index;
  gint  open;     /* atomic */
} OutcomeGate;

static void
open_on_outcome (GatherGroup   *group,
                 GatherOutcome *outcome,
                 gpointer       user_data)
{
  OutcomeGate *gate = user_data;

  if (gather_outcome_get_index (outcome) == gate->index)
    g_atomic_int_set (&gate->open, 1);
}

static GPtrArray *
run_policy (GatherPolicy  policy,
            guint         quorum,
            TestTask     *tasks[],
            guint         n_tasks,
            guint         pool_size,
            OutcomeGate  *gate)
{
  g_autoptr(GatherPool) pool = new_pool (pool_size);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GError) error = NULL;
  GPtrArray *outcomes;

  gather_group_set_pool (group, pool);
  gather_group_set_policy (group, policy);
  gather_group_set_quorum (group, quorum);
  g_assert_cmpint (gather_group_get_policy (group), ==, policy);
  g_assert_cmpuint (gather_group_get_quorum (group), ==, quorum);

  for (guint i = 0; i < n_tasks; i++)
    test_add (group, NULL, 0, tasks[i]);
  if (gate != NULL)
    g_signal_connect (group, "task-finished", G_CALLBACK (open_on_outcome), gate);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, n_tasks);

  return outcomes;
}

static void
assert_cancelled_by_policy (GatherOutcome *outcome,
                            const char    *because)
{
  assert_status (outcome, GATHER_STATUS_CANCELLED);
  g_assert_error (gather_outcome_get_error (outcome), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_nonnull (strstr (gather_outcome_get_error (outcome)->message, because));
  g_assert_false (gather_outcome_get_abandoned (outcome));
}

static void
test_group_policy_all (void)
{
  TestTask *tasks[] = { sleeper (50, NULL), sleeper (200, "late"), sleeper (0, "early") };
  g_autoptr(GPtrArray) outcomes = NULL;

  g_test_summary ("ALL waits for every task, errors included");

  outcomes = run_policy (GATHER_POLICY_ALL, 1, tasks, G_N_ELEMENTS (tasks), 3, NULL);
  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_ERROR);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_OK);
  assert_status (test_outcome (outcomes, 2), GATHER_STATUS_OK);
}

static void
test_group_policy_first_error (void)
{
  TestTask *tasks[] = {
    sleeper (0, "quick"),
    sleeper (0, NULL),
    sleeper (20000, "slow"),   /* running when the error comes */
    sleeper (0, "queued"),     /* never starts: the pool has 3 threads */
  };
  g_autoptr(GPtrArray) outcomes = NULL;
  gint64 start = g_get_monotonic_time ();
  OutcomeGate gate = { 0, 0 };
  gint running = 0, max_running = 0, n_destroyed = 0;

  g_test_summary ("FIRST_ERROR cancels running and queued tasks at the first error");

  /* The error comes once "quick" is judged and "slow" runs, not after
   * some time that a loaded machine may take to get there. */
  tasks[1]->gate = &gate.open;
  tasks[1]->running = tasks[2]->running = &running;
  tasks[1]->max_running = tasks[2]->max_running = &max_running;
  tasks[1]->wait_for_running = 2;
  for (guint i = 0; i < G_N_ELEMENTS (tasks); i++)
    tasks[i]->n_destroyed = &n_destroyed;
  outcomes = run_policy (GATHER_POLICY_FIRST_ERROR, 1, tasks, G_N_ELEMENTS (tasks), 3, &gate);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5000 * 1000);

  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_OK);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_ERROR);
  assert_cancelled_by_policy (test_outcome (outcomes, 2), "because task #1 failed");
  g_assert_cmpint (gather_outcome_get_start_time (test_outcome (outcomes, 2)), >, 0);
  /* The fourth task may have been picked up by the quick task's thread
   * before the error; if not, it never started. Either way it ends. */
  g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, 3)), !=, GATHER_STATUS_ERROR);

  /* The run did not wait for "slow" to return; it counts down running,
   * which lives in this frame, on its way out. */
  g_assert_true (test_iterate_until_count (&n_destroyed, G_N_ELEMENTS (tasks), 10000));
}

static void
test_group_policy_first_error_ignores_timeouts (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherPool) pool = new_pool (2);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("Under FIRST_ERROR a timeout is an outcome, not an error");

  gather_group_set_pool (group, pool);
  gather_group_set_policy (group, GATHER_POLICY_FIRST_ERROR);
  test_add (group, "times out", 50, sleeper (10000, "never"));
  test_add (group, "carries on", 0, sleeper (300, "done"));

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_TIMEOUT);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_OK);
}

static void
test_group_policy_first_success (void)
{
  TestTask *tasks[] = {
    sleeper (0, NULL),
    sleeper (0, "winner"),
    sleeper (20000, "slow"),
  };
  g_autoptr(GPtrArray) outcomes = NULL;
  gint64 start = g_get_monotonic_time ();
  OutcomeGate gate = { 0, 0 };

  g_test_summary ("FIRST_SUCCESS cancels the rest at the first success; "
                  "earlier errors stay errors");

  /* The winner returns once the error is judged, however late that is. */
  tasks[1]->gate = &gate.open;
  outcomes = run_policy (GATHER_POLICY_FIRST_SUCCESS, 1, tasks, G_N_ELEMENTS (tasks), 3, &gate);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5000 * 1000);

  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_ERROR);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_OK);
  assert_cancelled_by_policy (test_outcome (outcomes, 2), "because task #1 succeeded first");
}

static void
test_group_policy_quorum (void)
{
  TestTask *tasks[] = {
    sleeper (0, "a"),
    sleeper (0, NULL),
    sleeper (0, "b"),
    sleeper (20000, "slow"),
    sleeper (20000, "slower"),
  };
  g_autoptr(GPtrArray) outcomes = NULL;
  guint n_ok = 0, n_cancelled = 0;
  OutcomeGate gate = { 1, 0 };

  g_test_summary ("QUORUM cancels the rest once K tasks succeeded");

  /* "b" returns once the error is judged: the quorum cannot be reached
   * before it, however late that is. */
  tasks[2]->gate = &gate.open;
  outcomes = run_policy (GATHER_POLICY_QUORUM, 2, tasks, G_N_ELEMENTS (tasks), 5, &gate);

  for (guint i = 0; i < outcomes->len; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);

      if (gather_outcome_get_status (outcome) == GATHER_STATUS_OK)
        n_ok++;
      else if (gather_outcome_get_status (outcome) == GATHER_STATUS_CANCELLED)
        {
          assert_cancelled_by_policy (outcome, "because a quorum of 2 tasks succeeded");
          n_cancelled++;
        }
    }

  g_assert_cmpuint (n_ok, ==, 2);
  g_assert_cmpuint (n_cancelled, ==, 2);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_ERROR);
  assert_status (test_outcome (outcomes, 3), GATHER_STATUS_CANCELLED);
  assert_status (test_outcome (outcomes, 4), GATHER_STATUS_CANCELLED);
}

static void
test_group_policy_quorum_unreachable (void)
{
  TestTask *tasks[] = { sleeper (0, NULL), sleeper (0, "only one"), sleeper (50, NULL) };
  g_autoptr(GPtrArray) outcomes = NULL;

  g_test_summary ("When the quorum cannot be reached, every task still ends");

  outcomes = run_policy (GATHER_POLICY_QUORUM, 2, tasks, G_N_ELEMENTS (tasks), 3, NULL);
  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_ERROR);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_OK);
  assert_status (test_outcome (outcomes, 2), GATHER_STATUS_ERROR);
}

/* ---- Deadline and cancellation ---- */

static void
test_group_deadline (void)
{
  g_autoptr(GatherPool) pool = new_pool (2);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  g_test_summary ("The group deadline counts from the run's start and stops "
                  "running and queued tasks, keeping finished results");

  /* Long enough for "quick" to end and "slower" to start on the thread it
   * frees, even on a loaded machine. */
  gather_group_set_pool (group, pool);
  gather_group_set_deadline (group, 1000);
  g_assert_cmpuint (gather_group_get_deadline (group), ==, 1000);
  test_add (group, "quick", 0, sleeper (10, "done"));
  test_add (group, "slow", 0, sleeper (20000, "never"));
  test_add (group, "slower", 0, sleeper (30000, "never"));
  test_add (group, "queued", 0, sleeper (0, "never"));

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  g_assert_cmpint (g_get_monotonic_time () - start, >=, 1000 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, (1000 + 2000 * test_slowdown ()) * 1000);

  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_OK);
  for (guint i = 2; i < 4; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);

      assert_status (outcome, GATHER_STATUS_TIMEOUT);
      g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR, GATHER_ERROR_DEADLINE_EXCEEDED);
      g_assert_false (gather_outcome_get_abandoned (outcome));
    }
  /* "slow" started on the thread "quick" freed, or never did; both count. */
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_TIMEOUT);
  g_assert_cmpint (gather_outcome_get_start_time (test_outcome (outcomes, 2)), >, 0);
  g_assert_cmpint (gather_outcome_get_start_time (test_outcome (outcomes, 3)), ==, 0);
}

typedef struct
{
  GCancellable *cancellable;
  gint          n_started;    /* atomic */
} CancelOnStart;

/* Polled: cancels once a body has started. */
static gboolean
cancel_once_started (gpointer data)
{
  CancelOnStart *cancel = data;

  if (g_atomic_int_get (&cancel->n_started) == 0)
    return G_SOURCE_CONTINUE;

  g_cancellable_cancel (cancel->cancellable);
  return G_SOURCE_REMOVE;
}

static void
test_group_cancel (void)
{
  g_autoptr(GatherPool) pool = new_pool (1);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  CancelOnStart cancel = { cancellable, 0 };
  TestTask *running = sleeper (20000, "never");
  gint64 start;

  g_test_summary ("Cancelling the run's cancellable cancels every unfinished task, "
                  "running or queued; the run still completes with every outcome");

  /* One thread: "quick" ends, "running" holds the thread, the rest wait.
   * The cancel comes once "running" runs, however late that is. */
  gather_group_set_pool (group, pool);
  running->n_started = &cancel.n_started;
  test_add (group, "quick", 0, sleeper (0, "done"));
  test_add (group, "running", 0, running);
  test_add (group, "queued", 0, sleeper (0, "never"));
  test_add (group, "queued too", 0, sleeper (0, "never"));
  g_timeout_add (5, cancel_once_started, &cancel);

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, cancellable, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3000 * 1000);

  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_OK);
  for (guint i = 1; i < outcomes->len; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);

      assert_status (outcome, GATHER_STATUS_CANCELLED);
      g_assert_error (gather_outcome_get_error (outcome), G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_null (gather_outcome_get_result (outcome));
      g_assert_false (gather_outcome_get_abandoned (outcome));
    }
  g_assert_cmpint (gather_outcome_get_start_time (test_outcome (outcomes, 1)), >, 0);
  g_assert_cmpint (gather_outcome_get_start_time (test_outcome (outcomes, 2)), ==, 0);
  g_assert_cmpint (gather_outcome_get_start_time (test_outcome (outcomes, 3)), ==, 0);
}

static void
test_group_cancel_before_run (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint n_returned = 0;

  g_test_summary ("A run whose cancellable is already cancelled starts no task");

  for (guint i = 0; i < 10; i++)
    {
      TestTask *task = sleeper (0, "never");

      task->n_returned = &n_returned;
      test_add (group, NULL, 0, task);
    }

  g_cancellable_cancel (cancellable);
  outcomes = test_run_and_wait (group, cancellable, 5000, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (outcomes->len, ==, 10);
  for (guint i = 0; i < outcomes->len; i++)
    {
      assert_status (test_outcome (outcomes, i), GATHER_STATUS_CANCELLED);
      g_assert_cmpint (gather_outcome_get_start_time (test_outcome (outcomes, i)), ==, 0);
    }
  g_assert_cmpint (g_atomic_int_get (&n_returned), ==, 0);
}

/* ---- Tasks that ignore cancellation ---- */

static void
test_group_abandon (void)
{
  g_autoptr(GatherPool) pool = new_pool (2);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  TestTask *late = test_task_new ();
  GThread *destroyed_on = NULL;
  gint n_destroyed = 0, n_freed = 0, n_returned = 0, gate = 0;
  GatherOutcome *outcome;
  gint64 start, elapsed;

  g_test_summary ("A task that ignores its cancellation does not hold the group: "
                  "its outcome is recorded at its timeout; once the grace period "
                  "is over the outcome is marked abandoned and its thread "
                  "replaced; when the body returns at last, its late result is "
                  "freed and its data destroyed, on the owner's context");

  late->gate = &gate;
  late->value = "late";
  late->n_results_freed = &n_freed;
  late->n_destroyed = &n_destroyed;
  late->destroyed_on = &destroyed_on;
  late->n_returned = &n_returned;

  gather_group_set_pool (group, pool);
  gather_group_set_grace_period (group, 50);
  g_assert_cmpuint (gather_group_get_grace_period (group), ==, 50);
  test_add (group, "stubborn", 100, late);
  test_add (group, "fine", 0, sleeper (0, "ok"));

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_no_error (error);

  /* The body is still blocked on the gate: the run did not wait for it. */
  g_assert_cmpint (elapsed, >=, 100 * 1000);
  g_assert_cmpint (g_atomic_int_get (&n_returned), ==, 0);

  outcome = test_outcome (outcomes, 0);
  assert_status (outcome, GATHER_STATUS_TIMEOUT);
  g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR, GATHER_ERROR_TIMED_OUT);
  g_assert_null (gather_outcome_get_result (outcome));
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_OK);
  g_assert_false (gather_outcome_get_abandoned (test_outcome (outcomes, 1)));

  /* The grace period passes: the outcome is marked, the thread replaced. */
  g_assert_true (test_iterate_until_abandoned (outcome, 10000));
  g_assert_cmpuint (gather_group_get_n_running (group), ==, 1);
  g_assert_cmpuint (gather_pool_get_n_replacement_threads (pool), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&n_destroyed), ==, 0);

  /* When it returns, the late result is freed and the data destroyed here. */
  g_atomic_int_set (&gate, 1);
  g_assert_true (test_iterate_until_count (&n_destroyed, 1, 10000));
  g_assert_cmpint (g_atomic_int_get (&n_returned), ==, 1);
  /* The result goes with the record's last reference, which the body's
   * thread may drop after the owner has released the record. */
  g_assert_true (test_iterate_until_count (&n_freed, 1, 10000));
  g_assert_true (destroyed_on == g_thread_self ());
  g_assert_cmpuint (gather_pool_get_n_replacement_threads (pool), ==, 0);
  g_assert_cmpuint (gather_group_get_n_running (group), ==, 0);
  g_assert_true (gather_outcome_get_abandoned (outcome));
}

static void
test_group_stop_records_at_once (void)
{
  g_autoptr(GatherPool) pool = new_pool (2);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  TestTask *slow = test_task_new ();
  gint n_destroyed = 0, n_returned = 0, gate = 0;
  GatherOutcome *outcome;
  gint64 start, elapsed;

  g_test_summary ("A stopped task's outcome is recorded at its timeout, not a "
                  "grace period later; a body that returns within the grace "
                  "period is not abandoned");
  g_test_bug ("10");

  slow->gate = &gate;
  slow->n_destroyed = &n_destroyed;
  slow->n_returned = &n_returned;

  gather_group_set_pool (group, pool);
  /* Far longer than the run may take: the outcome must not wait for it. */
  gather_group_set_grace_period (group, 60000);
  test_add (group, "slow to stop", 100, slow);

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 30000, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_no_error (error);

  g_assert_cmpint (elapsed, <, 5000 * 1000 * test_slowdown ());
  g_assert_cmpint (g_atomic_int_get (&n_returned), ==, 0);
  outcome = test_outcome (outcomes, 0);
  assert_status (outcome, GATHER_STATUS_TIMEOUT);
  g_assert_cmpint (gather_outcome_get_finish_time (outcome) -
                   gather_outcome_get_start_time (outcome), >=, 100 * 1000);
  g_assert_false (gather_outcome_get_abandoned (outcome));

  g_atomic_int_set (&gate, 1);
  g_assert_true (test_iterate_until_count (&n_destroyed, 1, 10000));
  g_assert_cmpint (g_atomic_int_get (&n_returned), ==, 1);
  g_assert_false (gather_outcome_get_abandoned (outcome));
}

static void
test_group_abandon_keeps_capacity (void)
{
  g_autoptr(GatherPool) pool = new_pool (1);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint n_destroyed = 0;
  gint64 start, elapsed;

  g_test_summary ("The thread an abandoned task holds is replaced: on a "
                  "one-thread pool, the tasks behind it still run");

  gather_group_set_pool (group, pool);
  gather_group_set_grace_period (group, 20);
  test_add (group, "stubborn", 50, stubborn (3000, &n_destroyed));
  for (guint i = 0; i < 5; i++)
    test_add (group, NULL, 0, sleeper (10, "behind"));

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_no_error (error);

  g_assert_cmpint (elapsed, <, 2000 * 1000 * test_slowdown ());
  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_TIMEOUT);
  g_assert_true (gather_outcome_get_abandoned (test_outcome (outcomes, 0)));
  for (guint i = 1; i < outcomes->len; i++)
    assert_status (test_outcome (outcomes, i), GATHER_STATUS_OK);

  g_assert_true (test_iterate_until_count (&n_destroyed, 1, 10000));
  g_assert_cmpuint (gather_pool_get_n_replacement_threads (pool), ==, 0);
}

static void
test_group_abandon_cap (void)
{
  g_autoptr(GatherPool) pool = new_pool (1);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint n_destroyed = 0;

  g_test_summary ("With max-replacement-threads = 0 an abandoned task keeps "
                  "its thread, but its outcome is still recorded on time");

  gather_pool_set_max_replacement_threads (pool, 0);
  g_assert_cmpuint (gather_pool_get_max_replacement_threads (pool), ==, 0);

  gather_group_set_pool (group, pool);
  gather_group_set_grace_period (group, 20);
  test_add (group, "stubborn", 50, stubborn (800, &n_destroyed));
  test_add (group, "behind", 0, sleeper (0, "ok"));

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_TIMEOUT);
  g_assert_true (gather_outcome_get_abandoned (test_outcome (outcomes, 0)));
  /* It could only run once the stubborn body gave its thread back. */
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_OK);
  g_assert_cmpint (gather_outcome_get_start_time (test_outcome (outcomes, 1)) -
                   gather_outcome_get_start_time (test_outcome (outcomes, 0)), >=, 800 * 1000);
  g_assert_cmpuint (gather_pool_get_n_replacement_threads (pool), ==, 0);
  g_assert_true (test_iterate_until_count (&n_destroyed, 1, 10000));
}

static void
test_group_deadline_abandons (void)
{
  g_autoptr(GatherPool) pool = new_pool (2);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint n_destroyed = 0, gate = 0;
  TestTask *task = stubborn (0, &n_destroyed);
  gint64 start, elapsed;

  g_test_summary ("The group deadline also holds against a task that ignores "
                  "cancellation: the run finishes at the deadline, not a grace "
                  "period after it");
  g_test_bug ("10");

  task->gate = &gate;
  gather_group_set_pool (group, pool);
  gather_group_set_deadline (group, 200);
  gather_group_set_grace_period (group, 5000);
  test_add (group, "stubborn", 0, task);

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_no_error (error);

  g_assert_cmpint (elapsed, >=, 200 * 1000);
  g_assert_cmpint (elapsed, <, 2500 * 1000 * test_slowdown ());
  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_TIMEOUT);
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 0)),
                  GATHER_ERROR, GATHER_ERROR_DEADLINE_EXCEEDED);
  g_assert_true (test_iterate_until_abandoned (test_outcome (outcomes, 0), 20000));

  g_atomic_int_set (&gate, 1);
  g_assert_true (test_iterate_until_count (&n_destroyed, 1, 10000));
}

static void
test_group_stress_stop_races (void)
{
  g_autoptr(GatherPool) pool = new_pool (4);
  guint iterations = MAX (20, (g_test_thorough () ? 2000 : 200) / test_slowdown ());
  gint n_destroyed = 0;

  g_test_summary ("Stops that race tasks starting: a deadline of 2 ms, task "
                  "timeouts of 3 ms or none, a grace period of 0 and bodies that ignore "
                  "cancellation. Every started task is abandoned with its start "
                  "time, and every task's data is destroyed once");

  for (guint it = 0; it < iterations; it++)
    {
      g_autoptr(GatherGroup) group = gather_group_new ();
      g_autoptr(GPtrArray) outcomes = NULL;
      g_autoptr(GError) error = NULL;

      gather_group_set_pool (group, pool);
      gather_group_set_grace_period (group, 0);
      gather_group_set_deadline (group, 2);
      /* A timeout's own reference on the record hid a missing one. The
       * bodies outlast the timer thread's wake-up by a wide margin, even
       * under valgrind, so a started task must be abandoned. */
      for (guint i = 0; i < 4; i++)
        test_add (group, NULL, i % 2 ? 3 : 0, stubborn (50 * test_slowdown (), &n_destroyed));

      outcomes = test_run_and_wait (group, NULL, 10000, &error);
      g_assert_no_error (error);

      for (guint i = 0; i < outcomes->len; i++)
        {
          GatherOutcome *outcome = test_outcome (outcomes, i);
          gboolean started = gather_outcome_get_start_time (outcome) > 0;

          /* On a slow machine (valgrind) a body can beat the deadline. */
          if (gather_outcome_get_status (outcome) == GATHER_STATUS_OK)
            {
              g_assert_true (started);
              g_assert_false (gather_outcome_get_abandoned (outcome));
              continue;
            }

          assert_status (outcome, GATHER_STATUS_TIMEOUT);
          /* Grace period 0: a started body is abandoned right after its
           * outcome is recorded; one that never started, never. */
          if (started)
            g_assert_true (test_iterate_until_abandoned (outcome, 10000));
          else
            g_assert_false (gather_outcome_get_abandoned (outcome));
        }
    }

  g_assert_true (test_iterate_until_count (&n_destroyed, 4 * iterations, 20000));
  g_assert_cmpint (g_atomic_int_get (&n_destroyed), ==, 4 * iterations);
  g_assert_cmpuint (gather_pool_get_n_replacement_threads (pool), ==, 0);
}

static void
test_group_timeout_clock (void)
{
  g_autoptr(GatherPool) pool = new_pool (1);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("A task's timeout counts from when it starts, not from when "
                  "it was queued");

  /* Queued 1500 ms, then runs 100 ms of its 1000 ms: time to spare on a
   * loaded machine, had the timeout counted from its start. */
  gather_group_set_pool (group, pool);
  test_add (group, "first", 0, sleeper (1500, "first"));
  test_add (group, "second", 1000, sleeper (100, "second"));

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  assert_status (test_outcome (outcomes, 0), GATHER_STATUS_OK);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_OK);
  g_assert_cmpint (gather_outcome_get_start_time (test_outcome (outcomes, 1)) -
                   gather_outcome_get_queued_time (test_outcome (outcomes, 1)), >=, 1500 * 1000);
}

/* ---- Cancellables ---- */

typedef struct
{
  GMutex     mutex;
  GPtrArray *kept;        /* cancellables a body kept a reference on */
  GPtrArray *seen;        /* every cancellable handed to a body, borrowed */
  guint      n_dirty;     /* bodies given a cancelled cancellable */
  guint      n_reused_kept;
  gint       n_handler_calls;
} CancellableCheck;

typedef struct
{
  CancellableCheck *check;
  guint             index;
} CancellableTask;

static void
cancellable_handler (GCancellable *cancellable,
                     gpointer      data)
{
  g_atomic_int_inc (&((CancellableCheck *) data)->n_handler_calls);
}

static GVariant *
cancellable_task (GCancellable  *cancellable,
                  gpointer       user_data,
                  GError       **error)
{
  CancellableTask *task = user_data;
  CancellableCheck *check = task->check;

  g_mutex_lock (&check->mutex);
  if (g_cancellable_is_cancelled (cancellable))
    check->n_dirty++;
  if (g_ptr_array_find (check->kept, cancellable, NULL))
    check->n_reused_kept++;
  g_ptr_array_add (check->seen, cancellable);
  /* Every third body keeps a reference; every fifth leaves a handler. */
  if (task->index % 3 == 0)
    g_ptr_array_add (check->kept, g_object_ref (cancellable));
  g_mutex_unlock (&check->mutex);

  if (task->index % 5 == 0)
    g_cancellable_connect (cancellable, G_CALLBACK (cancellable_handler), check, NULL);

  /* Every seventh times out, so its cancellable ends up cancelled; every
   * eleventh cancels its own and returns normally. */
  if (task->index % 7 == 0)
    test_sleep_cancellably (10000, cancellable);
  else if (task->index % 11 == 0)
    g_cancellable_cancel (cancellable);

  return g_variant_new_uint32 (task->index);
}

static void
test_group_cancellable_per_task (void)
{
  g_autoptr(GatherPool) pool = new_pool (1);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  CancellableCheck check = { 0 };

  g_test_summary ("Every body gets a cancellable that is not cancelled, and "
                  "never one that an earlier body still holds, even though a "
                  "worker recycles cancellables nobody holds");

  g_mutex_init (&check.mutex);
  check.kept = g_ptr_array_new_with_free_func (g_object_unref);
  check.seen = g_ptr_array_new ();

  gather_group_set_pool (group, pool);
  gather_group_set_grace_period (group, 10000);
  for (guint i = 0; i < 60; i++)
    {
      CancellableTask *task = g_new (CancellableTask, 1);

      task->check = &check;
      task->index = i;
      gather_group_add_task (group, NULL, i % 7 == 0 ? 5 : 0, cancellable_task, task, g_free, NULL);
    }

  outcomes = test_run_and_wait (group, NULL, 20000, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < outcomes->len; i++)
    assert_status (test_outcome (outcomes, i),
                   i % 7 == 0 ? GATHER_STATUS_TIMEOUT : GATHER_STATUS_OK);
  g_assert_cmpuint (check.seen->len, ==, 60);
  g_assert_cmpuint (check.n_dirty, ==, 0);
  g_assert_cmpuint (check.n_reused_kept, ==, 0);
  /* Handlers were left on tasks 0, 5, ..., 55; of those, 0 and 35 timed
   * out and 55 cancelled itself. A handler left on a recycled cancellable
   * would fire again for a later task. */
  g_assert_cmpint (g_atomic_int_get (&check.n_handler_calls), ==, 3);

  g_ptr_array_unref (check.kept);
  g_ptr_array_unref (check.seen);
  g_mutex_clear (&check.mutex);
}

/* ---- Concurrency limit ---- */

static void
test_group_max_concurrent (void)
{
  g_autoptr(GatherPool) pool = new_pool (8);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint running = 0, max_running = 0;

  g_test_summary ("max-concurrent caps how many of the group's bodies run at "
                  "once, on a pool that has more threads");

  gather_group_set_pool (group, pool);
  gather_group_set_max_concurrent (group, 3);
  g_assert_cmpuint (gather_group_get_max_concurrent (group), ==, 3);

  for (guint i = 0; i < 12; i++)
    {
      TestTask *task = sleeper (20, "ok");

      task->running = &running;
      task->max_running = &max_running;
      /* The first three wait until all three run: the cap is reached. */
      task->wait_for_running = i < 3 ? 3 : 0;
      test_add (group, NULL, 0, task);
    }

  outcomes = test_run_and_wait (group, NULL, 20000, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < outcomes->len; i++)
    assert_status (test_outcome (outcomes, i), GATHER_STATUS_OK);
  g_assert_cmpint (g_atomic_int_get (&max_running), ==, 3);
  g_assert_cmpint (g_atomic_int_get (&running), ==, 0);
  g_assert_cmpuint (gather_group_get_n_running (group), ==, 0);
}

static void
test_group_pool_size (void)
{
  g_autoptr(GatherPool) pool = new_pool (2);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint running = 0, max_running = 0;

  g_test_summary ("A pool runs at most max-threads bodies at once");

  g_assert_cmpuint (gather_pool_get_max_threads (pool), ==, 2);
  gather_group_set_pool (group, pool);
  g_assert_true (gather_group_get_pool (group) == pool);

  for (guint i = 0; i < 8; i++)
    {
      TestTask *task = sleeper (20, "ok");

      task->running = &running;
      task->max_running = &max_running;
      task->wait_for_running = i < 2 ? 2 : 0;
      test_add (group, NULL, 0, task);
    }

  outcomes = test_run_and_wait (group, NULL, 20000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_atomic_int_get (&max_running), ==, 2);
}

/* ---- Edges ---- */

static void set_done (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data);

static void
count_finished (GatherGroup *group,
                GPtrArray   *outcomes,
                gpointer     user_data)
{
  (*(guint *) user_data)++;
}

static void
test_group_empty (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  guint n_finished = 0;

  g_test_summary ("An empty group finishes at once with an empty array");

  g_assert_cmpfloat (gather_group_get_fraction (group), ==, 0.0);
  g_assert_null (gather_group_get_pool (group));
  g_signal_connect (group, "finished", G_CALLBACK (count_finished), &n_finished);

  outcomes = test_run_and_wait (group, NULL, 1000, &error);
  g_assert_no_error (error);
  g_assert_nonnull (outcomes);
  g_assert_cmpuint (outcomes->len, ==, 0);
  g_assert_cmpuint (n_finished, ==, 1);
  g_assert_cmpfloat (gather_group_get_fraction (group), ==, 1.0);
  g_assert_cmpuint (gather_group_get_n_tasks (group), ==, 0);
  /* It made a pool of its own, one thread per processor. */
  g_assert_nonnull (gather_group_get_pool (group));
  g_assert_cmpuint (gather_pool_get_max_threads (gather_group_get_pool (group)), ==,
                    g_get_num_processors ());
}

static void
test_group_empty_blocking (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("The blocking run of an empty group returns an empty array");

  outcomes = gather_group_run (group, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 0);
}

static GVariant *
sum_task (GCancellable  *cancellable,
          gpointer       user_data,
          GError       **error)
{
  return g_variant_new_uint64 (GPOINTER_TO_UINT (user_data));
}

static void
test_group_many (void)
{
  const guint n = 100000;
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  guint64 sum = 0;

  g_test_summary ("100,000 tasks, each with its own timeout, all in order");

  for (guint i = 0; i < n; i++)
    gather_group_add_task (group, NULL, 60000, sum_task, GUINT_TO_POINTER (i), NULL, NULL);
  g_assert_cmpuint (gather_group_get_n_tasks (group), ==, n);

  outcomes = test_run_and_wait (group, NULL, 60000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, n);

  for (guint i = 0; i < n; i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (outcomes, i);

      g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_OK);
      g_assert_cmpuint (gather_outcome_get_index (outcome), ==, i);
      sum += g_variant_get_uint64 (gather_outcome_get_result (outcome));
    }

  g_assert_cmpuint (sum, ==, (guint64) n * (n - 1) / 2);
  g_assert_cmpuint (gather_group_get_n_finished (group), ==, n);
  g_assert_cmpfloat (gather_group_get_fraction (group), ==, 1.0);
}

static void
test_group_stop_beyond_window (void)
{
  const guint n = 30000;
  g_autoptr(GatherPool) pool = new_pool (1);
  GatherGroup *group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint n_destroyed = 0;
  GThread *destroyed_on = NULL;

  g_test_summary ("A run stopped while most of its tasks wait beyond the dispatch "
                  "window gives each an outcome with its label, starts none of them, "
                  "and destroys every task's data on the owner's context; a task whose "
                  "priority was set before the run starts first from anywhere");

  gather_group_set_pool (group, pool);
  gather_group_set_policy (group, GATHER_POLICY_FIRST_ERROR);
  for (guint i = 0; i < n; i++)
    {
      /* Task 1 fails, which stops the run. */
      TestTask *task = sleeper (0, i == 1 ? NULL : "ok");
      g_autofree char *label = g_strdup_printf ("task %u", i);

      task->n_destroyed = &n_destroyed;
      task->destroyed_on = &destroyed_on;
      test_add (group, label, 60000, task);
    }
  /* Before task 1 on the only thread, so it ends before the stop. */
  gather_task_set_priority (gather_group_get_task (group, n - 2), 1);

  outcomes = test_run_and_wait (group, NULL, 60000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, n);

  for (guint i = 0; i < n; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);
      g_autofree char *label = g_strdup_printf ("task %u", i);

      g_assert_cmpuint (gather_outcome_get_index (outcome), ==, i);
      g_assert_cmpstr (gather_outcome_get_label (outcome), ==, label);
    }

  assert_status (test_outcome (outcomes, n - 2), GATHER_STATUS_OK);
  assert_status (test_outcome (outcomes, 1), GATHER_STATUS_ERROR);
  /* One pool thread and one window: the stop comes before the run could
   * reach the tasks at the end. */
  for (guint i = n - 100; i < n; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);

      if (i == n - 2)
        continue;
      assert_status (outcome, GATHER_STATUS_CANCELLED);
      g_assert_cmpint (gather_outcome_get_start_time (outcome), ==, 0);
    }

  /* The tasks the pool's thread skips are released as it skips them. */
  g_object_unref (group);
  g_assert_true (test_iterate_until_count (&n_destroyed, n, 10000));
  g_assert_true (destroyed_on == g_thread_self ());
}

static void
on_finished_save (GatherGroup *group,
                  GPtrArray   *outcomes,
                  gpointer     user_data)
{
  *(GPtrArray **) user_data = g_ptr_array_ref (outcomes);
}

static void
test_group_run_twice (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GPtrArray) from_signal = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("A group runs once: running it again, or while it runs, "
                  "is a GATHER_ERROR_ALREADY_STARTED error");

  test_add (group, NULL, 0, sleeper (100, "ok"));
  g_signal_connect (group, "finished", G_CALLBACK (on_finished_save), &from_signal);

  /* While it runs. */
  {
    g_autoptr(GatherGroup) running = gather_group_new ();
    g_autoptr(GPtrArray) busy = NULL;
    gboolean done = FALSE;

    test_add (running, NULL, 0, sleeper (200, "ok"));
    gather_group_run_async (running, NULL, set_done, &done);
    busy = gather_group_run (running, NULL, &error);
    g_assert_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED);
    g_assert_null (busy);
    g_clear_error (&error);
    g_assert_true (test_iterate_until (&done, 5000));
  }

  outcomes = gather_group_run (group, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 1);
  /* The caller's own array, holding its own references. */
  g_assert_true (from_signal != outcomes);
  g_assert_cmpuint (from_signal->len, ==, 1);
  g_assert_true (g_ptr_array_index (from_signal, 0) == g_ptr_array_index (outcomes, 0));
  g_ptr_array_set_size (outcomes, 0);
  g_assert_cmpuint (from_signal->len, ==, 1);
  assert_status (test_outcome (from_signal, 0), GATHER_STATUS_OK);

  again = test_run_and_wait (group, NULL, 1000, &error);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED);
  g_assert_null (again);
}

static void
never_started (GatherCompletion *completion,
               GCancellable     *cancellable,
               gpointer          user_data)
{
  g_assert_not_reached ();
}

static void
test_group_add_while_running (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint n_destroyed = 0;
  gboolean done = FALSE;
  TestTask *task;

  g_test_summary ("Adding a task once the group runs, or after it ran, is an "
                  "ALREADY_STARTED error, and the task's data is destroyed");
  g_test_bug ("10");

  test_add (group, NULL, 0, sleeper (100, "ok"));
  gather_group_run_async (group, NULL, set_done, &done);

  task = sleeper (0, "ok");
  task->n_destroyed = &n_destroyed;
  g_assert_cmpuint (gather_group_add_task (group, NULL, 0, test_task_run, task,
                                           test_task_free, &error), ==, G_MAXUINT);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED);
  test_assert_message_has (error, "started running");
  g_assert_cmpint (n_destroyed, ==, 1);
  g_clear_error (&error);

  g_assert_true (test_iterate_until (&done, 5000));
  g_assert_cmpuint (gather_group_get_n_tasks (group), ==, 1);

  task = sleeper (0, "ok");
  task->n_destroyed = &n_destroyed;
  g_assert_cmpuint (gather_group_add_async_task (group, NULL, 0, never_started, task,
                                                 test_task_free, &error), ==, G_MAXUINT);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED);
  test_assert_message_has (error, "already run");
  g_assert_cmpint (n_destroyed, ==, 2);
  g_clear_error (&error);

  g_assert_cmpuint (gather_group_add_worker_task (group, "sleep", NULL, NULL, 0, &error),
                    ==, G_MAXUINT);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED);
  g_assert_cmpuint (gather_group_get_n_tasks (group), ==, 1);
}

static void
test_group_set_while_running (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GatherGroup) group = gather_group_new ();

      test_add (group, NULL, 0, sleeper (100, "ok"));
      gather_group_run_async (group, NULL, NULL, NULL);
      gather_group_set_deadline (group, 10);
      return;
    }

  g_test_summary ("Changing settings once the group runs is a programmer error");
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*settings cannot change once it has started running*");
}

static void
test_group_unrun_destroys (void)
{
  GatherGroup *group = gather_group_new ();
  gint n_destroyed = 0;
  GThread *destroyed_on = NULL;

  g_test_summary ("A group dropped before it ran destroys its tasks' data, "
                  "whether a task was set up further or not");

  for (guint i = 0; i < 3; i++)
    {
      TestTask *task = sleeper (0, "never");

      task->n_destroyed = &n_destroyed;
      task->destroyed_on = &destroyed_on;
      test_add (group, NULL, 0, task);
    }
  /* Setting a priority needs more of task 1 than adding it did. */
  gather_task_set_priority (gather_group_get_task (group, 1), 5);

  g_object_unref (group);
  g_assert_cmpint (n_destroyed, ==, 3);
  g_assert_true (destroyed_on == g_thread_self ());
}

/* ---- Threads and contexts ---- */

typedef struct
{
  GThread      *owner;
  guint         n_wrong_thread;
  guint         n_task_finished;
  guint         n_notify;
  guint         n_finished;
  gboolean      stale_fraction;
  gint          n_destroyed;
  GThread      *destroyed_on;
} ThreadCheck;

static void
check_thread (ThreadCheck *check)
{
  if (g_thread_self () != check->owner)
    check->n_wrong_thread++;
}

static void
on_task_finished_check (GatherGroup   *group,
                        GatherOutcome *outcome,
                        ThreadCheck   *check)
{
  check_thread (check);
  check->n_task_finished++;
  /* The count already includes this outcome. */
  if (gather_group_get_n_finished (group) < check->n_task_finished)
    check->stale_fraction = TRUE;
}

static void
on_notify_check (GatherGroup *group,
                 GParamSpec  *pspec,
                 ThreadCheck *check)
{
  check_thread (check);
  check->n_notify++;
  /* Both values agree whichever is notified first. */
  if (gather_group_get_fraction (group) !=
      (double) gather_group_get_n_finished (group) / gather_group_get_n_tasks (group))
    check->stale_fraction = TRUE;
}

static void
on_finished_check (GatherGroup *group,
                   GPtrArray   *outcomes,
                   ThreadCheck *check)
{
  check_thread (check);
  check->n_finished++;
}

static void
connect_checks (GatherGroup *group,
                ThreadCheck *check)
{
  g_signal_connect (group, "task-finished", G_CALLBACK (on_task_finished_check), check);
  g_signal_connect (group, "notify::n-finished", G_CALLBACK (on_notify_check), check);
  g_signal_connect (group, "notify::fraction", G_CALLBACK (on_notify_check), check);
  g_signal_connect (group, "finished", G_CALLBACK (on_finished_check), check);
}

static void
add_checked_tasks (GatherGroup *group,
                   ThreadCheck *check,
                   guint        n)
{
  for (guint i = 0; i < n; i++)
    {
      TestTask *task = sleeper (i % 3 == 0 ? 0 : 5, "ok");

      task->n_destroyed = &check->n_destroyed;
      task->destroyed_on = &check->destroyed_on;
      test_add (group, NULL, i % 5 == 0 ? 1 : 0, task);
    }
}

static void
assert_checks (ThreadCheck *check,
               guint        n)
{
  g_assert_cmpuint (check->n_wrong_thread, ==, 0);
  g_assert_cmpuint (check->n_task_finished, ==, n);
  g_assert_cmpuint (check->n_finished, ==, 1);
  g_assert_cmpuint (check->n_notify, >=, 2);
  g_assert_false (check->stale_fraction);
  g_assert_cmpint (check->n_destroyed, ==, n);
  g_assert_true (check->destroyed_on == check->owner);
}

static gpointer
owner_thread (gpointer data)
{
  ThreadCheck *check = data;
  GMainContext *context = g_main_context_new ();
  g_autoptr(GatherGroup) group = NULL;
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;

  g_main_context_push_thread_default (context);

  check->owner = g_thread_self ();
  group = gather_group_new ();
  gather_group_set_grace_period (group, 10000);
  connect_checks (group, check);
  add_checked_tasks (group, check, 200);

  outcomes = test_run_and_wait (group, NULL, 20000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 200);

  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  return NULL;
}

static void
test_group_owner_thread (void)
{
  ThreadCheck check = { NULL };

  g_test_summary ("Signals, notifies and destroy notifies all arrive on the "
                  "thread of the context the group was created in, here not "
                  "the main thread");

  g_thread_join (g_thread_new ("owner", owner_thread, &check));
  g_assert_true (check.owner != g_thread_self ());
  assert_checks (&check, 200);
}

typedef struct
{
  GatherGroup *group;
  GPtrArray   *outcomes;
  GError      *error;
  gboolean     done;
} BlockingRun;

static gpointer
blocking_run_thread (gpointer data)
{
  BlockingRun *run = data;

  run->outcomes = gather_group_run (run->group, NULL, &run->error);
  g_atomic_int_set (&run->done, TRUE);
  g_main_context_wakeup (NULL);

  return NULL;
}

static void
test_group_run_from_other_thread (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  ThreadCheck check = { g_thread_self () };
  BlockingRun run = { group };
  GThread *thread;

  g_test_summary ("The blocking run called from a thread while another thread "
                  "iterates the group's context: signals still arrive on the "
                  "context's thread");

  gather_group_set_grace_period (group, 10000);
  connect_checks (group, &check);
  add_checked_tasks (group, &check, 50);

  thread = g_thread_new ("blocking", blocking_run_thread, &run);
  g_assert_true (test_iterate_until (&run.done, 20000));
  g_thread_join (thread);

  g_assert_no_error (run.error);
  g_assert_cmpuint (run.outcomes->len, ==, 50);
  g_ptr_array_unref (run.outcomes);
  assert_checks (&check, 50);
}

/* B posts while the owner handles a batch: A's destroy notify runs on the
 * owner in the middle of the batch that carries A's outcome, lets B's body
 * return and waits until B's outcome is posted. */
typedef struct
{
  gint release;    /* atomic: B may return */
  gint returned;   /* atomic: B's body returned */
} PostWhileBusy;

static GVariant *
post_while_busy_a (GCancellable  *cancellable,
                   gpointer       user_data,
                   GError       **error)
{
  return g_variant_new_string ("a");
}

static GVariant *
post_while_busy_b (GCancellable  *cancellable,
                   gpointer       user_data,
                   GError       **error)
{
  PostWhileBusy *state = user_data;
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (!g_atomic_int_get (&state->release) && g_get_monotonic_time () < end)
    g_usleep (1000);
  g_atomic_int_set (&state->returned, TRUE);

  return g_variant_new_string ("b");
}

static void
post_while_busy_destroy_a (gpointer data)
{
  PostWhileBusy *state = data;
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_atomic_int_set (&state->release, TRUE);
  while (!g_atomic_int_get (&state->returned) && g_get_monotonic_time () < end)
    g_usleep (1000);
  /* B's pool thread posts its outcome right after its body returns. */
  g_usleep (100 * 1000);
}

static void
test_group_post_while_busy (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherPool) pool = gather_pool_new (2);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  PostWhileBusy state = { 0 };

  g_test_summary ("An outcome posted while the owner handles a batch of "
                  "outcomes wakes nobody, and is still handled once the "
                  "batch is done, without any other event to wake the loop");

  gather_group_set_pool (group, pool);
  gather_group_add_task (group, "b", 0, post_while_busy_b, &state, NULL, &error);
  g_assert_no_error (error);
  gather_group_add_task (group, "a", 0, post_while_busy_a, &state,
                         post_while_busy_destroy_a, &error);
  g_assert_no_error (error);

  outcomes = test_run_and_wait (group, NULL, 20000, &error);
  g_assert_no_error (error);
  g_assert_nonnull (outcomes);
  g_assert_cmpuint (outcomes->len, ==, 2);
  g_assert_true (g_atomic_int_get (&state.returned));
  g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (test_outcome (outcomes, 0)), NULL), ==, "b");
  g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (test_outcome (outcomes, 1)), NULL), ==, "a");
}

static void
test_group_signal_sequence (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GtSignalLogger) logger = gt_signal_logger_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  GatherOutcome *outcome = NULL;
  GPtrArray *finished = NULL;

  g_test_summary ("One task: task-finished, then n-finished and fraction, then finished");

  test_add (group, "only", 0, sleeper (0, "ok"));

  gt_signal_logger_connect (logger, group, "task-finished");
  gt_signal_logger_connect (logger, group, "notify::n-finished");
  gt_signal_logger_connect (logger, group, "notify::fraction");
  gt_signal_logger_connect (logger, group, "finished");

  outcomes = test_run_and_wait (group, NULL, 5000, &error);
  g_assert_no_error (error);

  gt_signal_logger_assert_emission_pop (logger, group, "task-finished", &outcome);
  g_assert_cmpstr (gather_outcome_get_label (outcome), ==, "only");
  gather_outcome_unref (outcome);
  /* Notified together, inside one freeze: the order between the two is
   * GObject's, but both come before finished. */
  for (guint i = 0; i < 2; i++)
    {
      gpointer obj = NULL;
      g_autofree char *type_name = NULL;
      g_autofree char *signal_name = NULL;
      g_autoptr(GtSignalLoggerEmission) emission = NULL;
      GParamSpec *pspec = NULL;

      g_assert_true (gt_signal_logger_pop_emission (logger, &obj, &type_name, &signal_name, &emission));
      g_assert_true (obj == (gpointer) group);
      g_assert_true (g_str_equal (signal_name, "notify::n-finished") ||
                     g_str_equal (signal_name, "notify::fraction"));
      gt_signal_logger_emission_get_params (emission, &pspec);
      g_param_spec_unref (pspec);
    }
  gt_signal_logger_assert_emission_pop (logger, group, "finished", &finished);
  g_assert_cmpuint (finished->len, ==, outcomes->len);
  for (guint i = 0; i < outcomes->len; i++)
    g_assert_true (g_ptr_array_index (finished, i) == g_ptr_array_index (outcomes, i));
  g_ptr_array_unref (finished);
  gt_signal_logger_assert_no_emissions (logger);
}

static void
set_done (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;

  outcomes = gather_group_run_finish (GATHER_GROUP (object), result, &error);
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
test_group_shared_pool (void)
{
  g_autoptr(GatherPool) pool = new_pool (2);
  g_autoptr(GatherGroup) a = gather_group_new ();
  g_autoptr(GatherGroup) b = gather_group_new ();
  g_autoptr(GPtrArray) outcomes_b = NULL;
  g_autoptr(GError) error = NULL;
  gint running = 0, max_running = 0;
  gboolean a_done = FALSE;

  g_test_summary ("Two groups share one pool and its thread limit");

  gather_group_set_pool (a, pool);
  g_object_set (b, "pool", pool, NULL);

  for (guint i = 0; i < 6; i++)
    {
      TestTask *task = sleeper (20, "ok");

      task->running = &running;
      task->max_running = &max_running;
      task->wait_for_running = i < 2 ? 2 : 0;
      test_add (i % 2 ? a : b, NULL, 0, task);
    }

  gather_group_run_async (a, NULL, set_done, &a_done);
  outcomes_b = test_run_and_wait (b, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_true (test_iterate_until (&a_done, 10000));

  g_assert_cmpint (g_atomic_int_get (&max_running), ==, 2);
  g_assert_cmpuint (gather_group_get_n_finished (a), ==, 3);
  g_assert_cmpuint (outcomes_b->len, ==, 3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_bug_base ("gather issue #");

  g_test_add_func ("/gather/group/seed/blocking", test_group_seed_blocking);
  g_test_add_func ("/gather/group/seed/async", test_group_seed_async);
  g_test_add_func ("/gather/group/order", test_group_order);
  g_test_add_func ("/gather/group/errors", test_group_errors);
  g_test_add_func ("/gather/group/result-ownership", test_group_result_ownership);
  g_test_add_func ("/gather/group/policy/all", test_group_policy_all);
  g_test_add_func ("/gather/group/policy/first-error", test_group_policy_first_error);
  g_test_add_func ("/gather/group/policy/first-error-ignores-timeouts",
                   test_group_policy_first_error_ignores_timeouts);
  g_test_add_func ("/gather/group/policy/first-success", test_group_policy_first_success);
  g_test_add_func ("/gather/group/policy/quorum", test_group_policy_quorum);
  g_test_add_func ("/gather/group/policy/quorum-unreachable", test_group_policy_quorum_unreachable);
  g_test_add_func ("/gather/group/deadline", test_group_deadline);
  g_test_add_func ("/gather/group/cancel", test_group_cancel);
  g_test_add_func ("/gather/group/cancel-before-run", test_group_cancel_before_run);
  g_test_add_func ("/gather/group/stop/policy-starts-nothing", test_group_stop_policy_starts_nothing);
  g_test_add_func ("/gather/group/stop/deadline-starts-nothing", test_group_stop_deadline_starts_nothing);
  g_test_add_func ("/gather/group/stop/deadline-busy-loop", test_group_stop_deadline_busy_loop);
  g_test_add_func ("/gather/group/stop/cancel-busy-loop", test_group_stop_cancel_busy_loop);
  g_test_add_func ("/gather/group/abandon", test_group_abandon);
  g_test_add_func ("/gather/group/stop-records-at-once", test_group_stop_records_at_once);
  g_test_add_func ("/gather/group/abandon-keeps-capacity", test_group_abandon_keeps_capacity);
  g_test_add_func ("/gather/group/abandon-cap", test_group_abandon_cap);
  g_test_add_func ("/gather/group/deadline-abandons", test_group_deadline_abandons);
  g_test_add_func ("/gather/group/timeout-clock", test_group_timeout_clock);
  g_test_add_func ("/gather/group/stress-stop-races", test_group_stress_stop_races);
  g_test_add_func ("/gather/group/cancellable-per-task", test_group_cancellable_per_task);
  g_test_add_func ("/gather/group/max-concurrent", test_group_max_concurrent);
  g_test_add_func ("/gather/group/pool-size", test_group_pool_size);
  g_test_add_func ("/gather/group/shared-pool", test_group_shared_pool);
  g_test_add_func ("/gather/group/empty", test_group_empty);
  g_test_add_func ("/gather/group/empty-blocking", test_group_empty_blocking);
  g_test_add_func ("/gather/group/many", test_group_many);
  g_test_add_func ("/gather/group/stop-beyond-window", test_group_stop_beyond_window);
  g_test_add_func ("/gather/group/run-twice", test_group_run_twice);
  g_test_add_func ("/gather/group/add-while-running", test_group_add_while_running);
  g_test_add_func ("/gather/group/set-while-running", test_group_set_while_running);
  g_test_add_func ("/gather/group/unrun-destroys", test_group_unrun_destroys);
  g_test_add_func ("/gather/group/owner-thread", test_group_owner_thread);
  g_test_add_func ("/gather/group/run-from-other-thread", test_group_run_from_other_thread);
  g_test_add_func ("/gather/group/signal-sequence", test_group_signal_sequence);
  g_test_add_func ("/gather/group/post-while-busy", test_group_post_while_busy);

  return g_test_run ();
}
