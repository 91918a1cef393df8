/* test-retry.c: tasks tried again by a GatherRetryPolicy.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

#define MAX_CALLS 8

/* A flaky body: fails (or hangs until cancelled) on its first calls. */
typedef struct
{
  gint        n_calls;              /* atomic */
  guint       fail_until;           /* calls 1..fail_until fail */
  gboolean    hang;                 /* failing calls wait for cancellation */
  guint       ignore_msec;          /* failing calls wait for cancellation,
                                     * then ignore it this long */
  gint64      started[MAX_CALLS];
  gint64      ended[MAX_CALLS];
  gboolean    cancelled_at_start[MAX_CALLS];
  gint       *running;              /* atomic, shared */
  gint       *max_running;
  gint       *n_destroyed;
  GThread   **destroyed_on;
} Flaky;

static Flaky *
flaky_new (guint fail_until)
{
  Flaky *flaky = g_new0 (Flaky, 1);

  flaky->fail_until = fail_until;

  return flaky;
}

/* Flakies handed to groups, and destroyed by them: a test waits until
 * they match before it frees its flakies. */
static gint n_flakies_added;
static gint n_flakies_destroyed;

static void
wait_for_flakies (void)
{
  g_assert_true (test_iterate_until_count (&n_flakies_destroyed,
                                           g_atomic_int_get (&n_flakies_added), 10000));
}

/* The group's destroy notify: the test owns the memory, to read it after
 * the run. */
static void
flaky_destroyed (gpointer data)
{
  Flaky *flaky = data;

  g_atomic_int_inc (&n_flakies_destroyed);
  if (flaky->n_destroyed != NULL)
    g_atomic_int_inc (flaky->n_destroyed);
  if (flaky->destroyed_on != NULL)
    *flaky->destroyed_on = g_thread_self ();
}

static GVariant *
flaky_run (GCancellable  *cancellable,
           gpointer       user_data,
           GError       **error)
{
  Flaky *flaky = user_data;
  guint call = (guint) g_atomic_int_add (&flaky->n_calls, 1) + 1;
  GVariant *result = NULL;

  g_assert_cmpuint (call, <=, MAX_CALLS);
  flaky->started[call - 1] = g_get_monotonic_time ();
  flaky->cancelled_at_start[call - 1] = g_cancellable_is_cancelled (cancellable);

  if (flaky->running != NULL)
    {
      gint now = g_atomic_int_add (flaky->running, 1) + 1;
      gint max;

      while ((max = g_atomic_int_get (flaky->max_running)) < now &&
             !g_atomic_int_compare_and_exchange (flaky->max_running, max, now))
        ;
    }

  if (call > flaky->fail_until)
    result = g_variant_new_uint32 (call);
  else if (flaky->ignore_msec > 0)
    {
      /* Cancelled first, however late the timer thread runs: then the
       * attempt has timed out for sure. */
      test_sleep_cancellably (60000, cancellable);
      g_usleep (flaky->ignore_msec * 1000);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "call %u ignored its cancellation", call);
    }
  else if (flaky->hang)
    {
      test_sleep_cancellably (60000, cancellable);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "call %u was cancelled", call);
    }
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "call %u failed", call);

  if (flaky->running != NULL)
    g_atomic_int_add (flaky->running, -1);
  flaky->ended[call - 1] = g_get_monotonic_time ();

  return result;
}

static guint
add_flaky (GatherGroup *group,
           const char  *label,
           guint        timeout_msec,
           Flaky       *flaky)
{
  g_autoptr(GError) error = NULL;
  guint index;

  g_atomic_int_inc (&n_flakies_added);
  index = gather_group_add_task (group, label, timeout_msec, flaky_run, flaky,
                                 flaky_destroyed, &error);

  g_assert_no_error (error);
  return index;
}

static GatherRetryPolicy *
policy_new (guint            max_attempts,
            GatherRetryFlags retry_on,
            guint            delay_msec,
            guint            max_delay_msec,
            double           jitter)
{
  return g_object_new (GATHER_TYPE_RETRY_POLICY,
                       "max-attempts", max_attempts,
                       "retry-on", retry_on,
                       "delay", delay_msec,
                       "max-delay", max_delay_msec,
                       "jitter", jitter,
                       NULL);
}

static void
test_retry_counted (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherRetryPolicy) policy = gather_retry_policy_new (3, GATHER_RETRY_FLAGS_ERROR, 1, 1);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree Flaky *twice = flaky_new (2);
  g_autofree Flaky *always = flaky_new (100);
  g_autofree Flaky *never = flaky_new (0);
  gint n_destroyed = 0;
  GThread *destroyed_on = NULL;
  GatherOutcome *outcome;

  g_test_summary ("Each attempt runs once: a task failing twice succeeds on attempt 3; "
                  "one always failing is run exactly max-attempts times and keeps the "
                  "last error; the user data is destroyed once, on the owner's context");

  always->n_destroyed = twice->n_destroyed = never->n_destroyed = &n_destroyed;
  always->destroyed_on = &destroyed_on;
  gather_group_set_retry_policy (group, policy);
  add_flaky (group, "twice", 0, twice);
  add_flaky (group, "always", 0, always);
  add_flaky (group, "never", 0, never);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  outcome = g_ptr_array_index (outcomes, 0);
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_OK);
  g_assert_cmpuint (g_variant_get_uint32 (gather_outcome_get_result (outcome)), ==, 3);
  g_assert_cmpuint (gather_outcome_get_attempts (outcome), ==, 3);

  outcome = g_ptr_array_index (outcomes, 1);
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_ERROR);
  g_assert_cmpuint (gather_outcome_get_attempts (outcome), ==, 3);
  g_assert_error (gather_outcome_get_error (outcome), G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (gather_outcome_get_error (outcome)->message, ==, "call 3 failed");
  g_assert_cmpstr (gather_outcome_get_label (outcome), ==, "always");
  g_assert_cmpuint (gather_outcome_get_index (outcome), ==, 1);

  outcome = g_ptr_array_index (outcomes, 2);
  g_assert_cmpuint (gather_outcome_get_attempts (outcome), ==, 1);

  /* The outcome's start is the first attempt's. */
  outcome = g_ptr_array_index (outcomes, 1);
  g_assert_cmpint (gather_outcome_get_start_time (outcome), >, 0);
  g_assert_cmpint (gather_outcome_get_start_time (outcome), <=, always->started[0]);
  g_assert_cmpint (gather_outcome_get_finish_time (outcome), >=, always->ended[2]);

  g_clear_object (&group);
  g_clear_pointer (&outcomes, g_ptr_array_unref);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpint (n_destroyed, ==, 3);
  g_assert_true (destroyed_on == g_thread_self ());
}

static void
test_retry_counts_calls (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherRetryPolicy) policy = gather_retry_policy_new (4, GATHER_RETRY_FLAGS_ERROR, 1, 1);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  Flaky *flaky[5];

  g_test_summary ("The body is called exactly as often as the outcome says");

  gather_group_set_retry_policy (group, policy);
  for (guint i = 0; i < G_N_ELEMENTS (flaky); i++)
    {
      flaky[i] = flaky_new (i);     /* fails i times */
      add_flaky (group, NULL, 0, flaky[i]);
    }

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (flaky); i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (outcomes, i);
      guint expected = MIN (i + 1, 4);

      g_assert_cmpint (g_atomic_int_get (&flaky[i]->n_calls), ==, expected);
      g_assert_cmpuint (gather_outcome_get_attempts (outcome), ==, expected);
      g_assert_cmpint (gather_outcome_get_status (outcome), ==,
                       i < 4 ? GATHER_STATUS_OK : GATHER_STATUS_ERROR);
      /* Each attempt had a fresh, uncancelled cancellable. */
      for (guint k = 0; k < expected; k++)
        g_assert_false (flaky[i]->cancelled_at_start[k]);
    }

  g_clear_pointer (&outcomes, g_ptr_array_unref);
  wait_for_flakies ();
  for (guint i = 0; i < G_N_ELEMENTS (flaky); i++)
    g_free (flaky[i]);
}

static void
test_retry_timeouts (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherRetryPolicy) both = gather_retry_policy_new (3, GATHER_RETRY_FLAGS_TIMEOUT, 1, 1);
  g_autoptr(GatherRetryPolicy) errors_only = gather_retry_policy_new (3, GATHER_RETRY_FLAGS_ERROR, 1, 1);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree Flaky *hangs_twice = flaky_new (2);
  g_autofree Flaky *hangs = flaky_new (2);
  GatherOutcome *outcome;

  g_test_summary ("Each attempt has its own timeout, counted from its own start; "
                  "timeouts are retried only when the policy says so");

  /* The third attempt returns at once, under the same timeout as the two
   * that hang: the timeout is long enough that a pool thread preempted on
   * a loaded machine does not make that one time out too. */
  hangs_twice->hang = TRUE;
  hangs->hang = TRUE;
  add_flaky (group, "retried", 1000, hangs_twice);
  add_flaky (group, "not retried", 1000, hangs);
  gather_task_set_retry_policy (gather_group_get_task (group, 0), both);
  gather_task_set_retry_policy (gather_group_get_task (group, 1), errors_only);

  outcomes = test_run_and_wait (group, NULL, 20000, &error);
  g_assert_no_error (error);

  outcome = g_ptr_array_index (outcomes, 0);
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_OK);
  g_assert_cmpuint (gather_outcome_get_attempts (outcome), ==, 3);
  /* Each attempt was cancelled at its own timeout, counted from its own
   * start, not before: attempt 1 started with the task, attempt 2 after
   * attempt 1's body returned. */
  g_assert_cmpint (hangs_twice->ended[0] - gather_outcome_get_start_time (outcome), >=, 1000 * 1000);
  g_assert_cmpint (hangs_twice->ended[1] - hangs_twice->ended[0], >=, 1000 * 1000);
  for (guint k = 0; k < 3; k++)
    g_assert_false (hangs_twice->cancelled_at_start[k]);

  outcome = g_ptr_array_index (outcomes, 1);
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_TIMEOUT);
  g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR, GATHER_ERROR_TIMED_OUT);
  g_assert_cmpuint (gather_outcome_get_attempts (outcome), ==, 1);

  g_clear_pointer (&outcomes, g_ptr_array_unref);
  wait_for_flakies ();
}

static void
test_retry_delay_range (void)
{
  g_autoptr(GatherRetryPolicy) policy = policy_new (5, GATHER_RETRY_FLAGS_ERROR, 40, 100, 0.5);
  g_autoptr(GatherRetryPolicy) defaults = g_object_new (GATHER_TYPE_RETRY_POLICY, NULL);
  guint min = 0, max = 0;

  g_test_summary ("The delay doubles from delay up to max-delay; jitter takes up to its "
                  "share off");

  gather_retry_policy_get_delay_range (policy, 1, &min, &max);
  g_assert_cmpuint (min, ==, 20);
  g_assert_cmpuint (max, ==, 40);
  gather_retry_policy_get_delay_range (policy, 2, &min, &max);
  g_assert_cmpuint (min, ==, 40);
  g_assert_cmpuint (max, ==, 80);
  gather_retry_policy_get_delay_range (policy, 3, &min, &max);
  g_assert_cmpuint (min, ==, 50);
  g_assert_cmpuint (max, ==, 100);
  gather_retry_policy_get_delay_range (policy, 40, &min, &max);
  g_assert_cmpuint (max, ==, 100);

  g_assert_cmpuint (gather_retry_policy_get_max_attempts (defaults), ==, 3);
  g_assert_cmpuint (gather_retry_policy_get_retry_on (defaults), ==,
                    GATHER_RETRY_FLAGS_ERROR | GATHER_RETRY_FLAGS_TIMEOUT);
  g_assert_cmpuint (gather_retry_policy_get_delay (defaults), ==, 100);
  g_assert_cmpuint (gather_retry_policy_get_max_delay (defaults), ==, 10000);
  g_assert_cmpfloat (gather_retry_policy_get_jitter (defaults), ==, 0.5);
}

/* The waits between attempts of @n tasks that always fail. */
static GArray *
measure_gaps (GatherRetryPolicy *policy,
              guint              n,
              guint              n_attempts)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherPool) pool = gather_pool_new (n);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  GArray *gaps = g_array_new (FALSE, FALSE, sizeof (gint64));
  Flaky **flaky = g_new (Flaky *, n);
  gint n_destroyed = 0;

  gather_group_set_pool (group, pool);
  gather_group_set_retry_policy (group, policy);
  for (guint i = 0; i < n; i++)
    {
      flaky[i] = flaky_new (100);
      flaky[i]->n_destroyed = &n_destroyed;
      add_flaky (group, NULL, 0, flaky[i]);
    }

  outcomes = test_run_and_wait (group, NULL, 30000, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpint (g_atomic_int_get (&flaky[i]->n_calls), ==, n_attempts);
      g_assert_cmpuint (gather_outcome_get_attempts (g_ptr_array_index (outcomes, i)), ==, n_attempts);
      for (guint k = 0; k + 1 < n_attempts; k++)
        {
          /* (in milliseconds, between the body's return and the next start) */
          gint64 gap = (flaky[i]->started[k + 1] - flaky[i]->ended[k]) / 1000;

          g_array_append_val (gaps, gap);
        }
    }

  g_clear_pointer (&outcomes, g_ptr_array_unref);
  g_clear_object (&group);
  g_assert_true (test_iterate_until_count (&n_destroyed, n, 5000));
  for (guint i = 0; i < n; i++)
    g_free (flaky[i]);
  g_free (flaky);

  return gaps;
}

static void
test_retry_backoff_bounds (void)
{
  g_autoptr(GatherRetryPolicy) policy = policy_new (4, GATHER_RETRY_FLAGS_ERROR, 40, 60, 0.5);
  g_autoptr(GArray) gaps = NULL;
  const guint n = 6;

  g_test_summary ("No attempt starts before the shortest wait its policy allows: "
                  "exponential, capped, less jitter");

  gaps = measure_gaps (policy, n, 4);
  g_assert_cmpuint (gaps->len, ==, n * 3);

  for (guint i = 0; i < gaps->len; i++)
    {
      guint attempt = i % 3 + 1;
      guint min = 0;

      gather_retry_policy_get_delay_range (policy, attempt, &min, NULL);
      g_assert_cmpint (g_array_index (gaps, gint64, i), >=, (gint64) min);
    }
}

static void
test_retry_jitter (void)
{
  g_autoptr(GatherRetryPolicy) exact = policy_new (2, GATHER_RETRY_FLAGS_ERROR, 300, 300, 0.0);
  g_autoptr(GatherRetryPolicy) jittered = policy_new (2, GATHER_RETRY_FLAGS_ERROR, 300, 300, 1.0);
  g_autoptr(GArray) exact_gaps = NULL;
  g_autoptr(GArray) jittered_gaps = NULL;
  guint n_short = 0;
  const guint n = 16;

  g_test_summary ("Without jitter every wait is the full delay; with jitter 1.0 waits "
                  "spread below it (scheduling can only lengthen them)");

  exact_gaps = measure_gaps (exact, n, 2);
  for (guint i = 0; i < exact_gaps->len; i++)
    g_assert_cmpint (g_array_index (exact_gaps, gint64, i), >=, 300);

  jittered_gaps = measure_gaps (jittered, n, 2);
  for (guint i = 0; i < jittered_gaps->len; i++)
    if (g_array_index (jittered_gaps, gint64, i) < 250)
      n_short++;

  /* Each wait is below 250 ms with probability 5/6 less the scheduling
   * delay; none of 16 is with probability (1/6)^16 if that delay is 0,
   * and still (2/3)^16 if a loaded machine (ThreadSanitizer, valgrind)
   * adds 150 ms to every one. Without jitter, none is. */
  g_assert_cmpuint (n_short, >, 0);
}

typedef struct
{
  Flaky        *flaky;
  GCancellable *cancellable;
} CancelWhenCalled;

/* Polled: cancels once the flaky body has been called. */
static gboolean
cancel_when_called (gpointer data)
{
  CancelWhenCalled *cancel = data;

  if (g_atomic_int_get (&cancel->flaky->n_calls) == 0)
    return G_SOURCE_CONTINUE;

  g_cancellable_cancel (cancel->cancellable);
  return G_SOURCE_REMOVE;
}

static void
test_retry_not_after_stop (void)
{
  g_autoptr(GatherRetryPolicy) policy = gather_retry_policy_new (3, GATHER_RETRY_FLAGS_ERROR | GATHER_RETRY_FLAGS_TIMEOUT, 5000, 5000);
  g_autoptr(GatherGroup) deadline = gather_group_new ();
  g_autoptr(GatherGroup) cancelled = gather_group_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree Flaky *fails = flaky_new (100);
  g_autofree Flaky *hangs = flaky_new (100);
  CancelWhenCalled cancel_once_called = { NULL };
  GatherOutcome *outcome;
  gint64 start;

  g_test_summary ("The deadline bounds the wait between attempts and keeps the last "
                  "attempt's error in its message; a cancelled run retries nothing");

  /* The deadline falls in the 5 s wait after the first attempt, which
   * has a second to start and fail, even on a loaded machine. */
  gather_group_set_retry_policy (deadline, policy);
  gather_group_set_deadline (deadline, 1000);
  add_flaky (deadline, "flaky", 0, fails);

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (deadline, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5000 * 1000);
  outcome = g_ptr_array_index (outcomes, 0);
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_TIMEOUT);
  g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR, GATHER_ERROR_DEADLINE_EXCEEDED);
  test_assert_message_has (gather_outcome_get_error (outcome), "attempt 1 failed: call 1 failed");
  g_assert_cmpuint (gather_outcome_get_attempts (outcome), ==, 1);
  g_assert_cmpint (gather_outcome_get_start_time (outcome), >, 0);
  g_assert_cmpint (g_atomic_int_get (&fails->n_calls), ==, 1);
  g_clear_pointer (&outcomes, g_ptr_array_unref);

  /* Cancelled once the first attempt runs, however late it started. */
  hangs->hang = TRUE;
  gather_group_set_retry_policy (cancelled, policy);
  add_flaky (cancelled, "hangs", 0, hangs);
  cancel_once_called.flaky = hangs;
  cancel_once_called.cancellable = cancellable;
  g_timeout_add (5, cancel_when_called, &cancel_once_called);
  outcomes = test_run_and_wait (cancelled, cancellable, 10000, &error);
  g_assert_no_error (error);
  outcome = g_ptr_array_index (outcomes, 0);
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_CANCELLED);
  g_assert_cmpuint (gather_outcome_get_attempts (outcome), ==, 1);

  g_clear_pointer (&outcomes, g_ptr_array_unref);
  wait_for_flakies ();
}

static void
test_retry_policy_verdict (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherRetryPolicy) policy = gather_retry_policy_new (3, GATHER_RETRY_FLAGS_ERROR, 1, 1);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  TestTask *slow = test_task_new ();
  g_autofree Flaky *flaky = flaky_new (2);

  g_test_summary ("Under FIRST_ERROR, an attempt that is retried does not stop the group: "
                  "only a task's last outcome counts");

  slow->sleep_msec = 200;
  gather_group_set_policy (group, GATHER_POLICY_FIRST_ERROR);
  gather_group_set_retry_policy (group, policy);
  add_flaky (group, "flaky", 0, flaky);
  test_add (group, "slow", 0, slow);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gather_outcome_get_status (g_ptr_array_index (outcomes, 0)), ==, GATHER_STATUS_OK);
  g_assert_cmpint (gather_outcome_get_status (g_ptr_array_index (outcomes, 1)), ==, GATHER_STATUS_OK);

  g_clear_pointer (&outcomes, g_ptr_array_unref);
  wait_for_flakies ();
}

static void
test_retry_no_overlap (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherPool) pool = gather_pool_new (4);
  g_autoptr(GatherRetryPolicy) policy = gather_retry_policy_new (2, GATHER_RETRY_FLAGS_TIMEOUT, 1, 1);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree Flaky *stubborn = flaky_new (1);
  gint running = 0, max_running = 0;
  GatherOutcome *outcome;

  g_test_summary ("An attempt whose body ignores its timeout's cancellation is not "
                  "overlapped by the next one: that waits for the body to return");

  /* The first attempt returns 300 ms after its timeout; the second returns
   * at once, and the timeout leaves it time to spare on a loaded machine. */
  stubborn->ignore_msec = 300;
  stubborn->running = &running;
  stubborn->max_running = &max_running;
  gather_group_set_pool (group, pool);
  gather_group_set_grace_period (group, 10000);
  gather_group_set_retry_policy (group, policy);
  add_flaky (group, "stubborn", 1000, stubborn);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  outcome = g_ptr_array_index (outcomes, 0);
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_OK);
  g_assert_cmpuint (gather_outcome_get_attempts (outcome), ==, 2);
  g_assert_cmpint (max_running, ==, 1);
  g_assert_cmpint (stubborn->started[1], >=, stubborn->ended[0]);

  g_clear_pointer (&outcomes, g_ptr_array_unref);
  wait_for_flakies ();
}

/* ---- Async tasks ---- */

typedef struct
{
  guint  n_calls;
  guint  fail_until;
  GatherCompletion *previous;     /* not a reference: compared only */
  gboolean distinct;
} FlakyAsync;

static void
flaky_async_start (GatherCompletion *completion,
                   GCancellable     *cancellable,
                   gpointer          user_data)
{
  FlakyAsync *flaky = user_data;

  flaky->n_calls++;
  if (completion == flaky->previous)
    flaky->distinct = FALSE;
  flaky->previous = completion;
  g_assert_false (g_cancellable_is_cancelled (cancellable));

  if (flaky->n_calls <= flaky->fail_until)
    gather_completion_return_new_error (completion, G_IO_ERROR, G_IO_ERROR_FAILED,
                                        "async call %u failed", flaky->n_calls);
  else
    gather_completion_return_value (completion, g_variant_new_uint32 (flaky->n_calls));
  gather_completion_unref (completion);
}

static void
count_waiting (GObject    *object,
               GParamSpec *pspec,
               gpointer    user_data)
{
  GatherTask *task = GATHER_TASK (object);

  if (gather_task_get_state (task) == GATHER_TASK_STATE_WAITING)
    {
      (*(guint *) user_data)++;
      /* Waiting shows the failed attempt's error. */
      g_assert_error (gather_task_get_error (task), G_IO_ERROR, G_IO_ERROR_FAILED);
    }
}

static void
test_retry_async (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherRetryPolicy) policy = policy_new (5, GATHER_RETRY_FLAGS_ERROR, 20, 20, 0.0);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  FlakyAsync flaky = { 0, 3, NULL, TRUE };
  GatherOutcome *outcome;
  GatherTask *task;
  guint n_waiting = 0;

  g_test_summary ("Async tasks are retried the same way, with a new completion per "
                  "attempt; the task object shows the waits and the attempt number");

  gather_group_add_async_task (group, "flaky", 0, flaky_async_start, &flaky, NULL, &error);
  g_assert_no_error (error);
  task = gather_group_get_task (group, 0);
  gather_task_set_retry_policy (task, policy);
  g_signal_connect (task, "notify::state", G_CALLBACK (count_waiting), &n_waiting);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  outcome = g_ptr_array_index (outcomes, 0);
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_OK);
  g_assert_cmpuint (gather_outcome_get_attempts (outcome), ==, 4);
  g_assert_cmpuint (flaky.n_calls, ==, 4);
  g_assert_cmpuint (g_variant_get_uint32 (gather_outcome_get_result (outcome)), ==, 4);
  g_assert_true (flaky.distinct);
  g_assert_cmpuint (gather_task_get_attempt (task), ==, 4);
  g_assert_cmpint (gather_task_get_state (task), ==, GATHER_TASK_STATE_OK);
  g_assert_null (gather_task_get_error (task));
  /* Each failed attempt was seen waiting, as the delays are longer than a
   * dispatch (at least 1 ms, after the failure was handled). */
  g_assert_cmpuint (n_waiting, >=, 1);
  g_assert_cmpuint (n_waiting, <=, 3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/gather/retry/counted", test_retry_counted);
  g_test_add_func ("/gather/retry/counts-calls", test_retry_counts_calls);
  g_test_add_func ("/gather/retry/timeouts", test_retry_timeouts);
  g_test_add_func ("/gather/retry/delay-range", test_retry_delay_range);
  g_test_add_func ("/gather/retry/backoff-bounds", test_retry_backoff_bounds);
  g_test_add_func ("/gather/retry/jitter", test_retry_jitter);
  g_test_add_func ("/gather/retry/not-after-stop", test_retry_not_after_stop);
  g_test_add_func ("/gather/retry/policy-verdict", test_retry_policy_verdict);
  g_test_add_func ("/gather/retry/no-overlap", test_retry_no_overlap);
  g_test_add_func ("/gather/retry/async", test_retry_async);

  return g_test_run ();
}
