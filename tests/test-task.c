/* test-task.c: a group's tasks as live objects in a GListModel.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

/* What a handler saw: one line per signal, in order. */
typedef struct
{
  GatherGroup *group;
  GListModel  *model;
  GThread     *main_thread;
  GPtrArray   *log;                /* char *: "notify 3 state=ok", ... */
  guint        n_off_thread;       /* signals seen on another thread */
  guint        n_items_changed;
  gboolean     finished;
} Watch;

static const char *
state_name (GatherTaskState state)
{
  static const char *names[] = { "queued", "running", "waiting", "ok", "error", "timeout", "cancelled" };

  g_assert_cmpuint (state, <, G_N_ELEMENTS (names));
  return names[state];
}

static void
watch_check_thread (Watch *watch)
{
  if (g_thread_self () != watch->main_thread)
    watch->n_off_thread++;
}

static void
on_task_notify (GObject    *object,
                GParamSpec *pspec,
                gpointer    user_data)
{
  Watch *watch = user_data;
  GatherTask *task = GATHER_TASK (object);

  watch_check_thread (watch);
  if (g_str_equal (pspec->name, "state"))
    g_ptr_array_add (watch->log, g_strdup_printf ("notify %u state=%s", gather_task_get_index (task),
                                                  state_name (gather_task_get_state (task))));
  else
    g_ptr_array_add (watch->log, g_strdup_printf ("notify %u %s", gather_task_get_index (task),
                                                  pspec->name));
}

static void
watch_item (Watch *watch,
            guint  index)
{
  g_autoptr(GatherTask) task = g_list_model_get_item (watch->model, index);

  g_assert_nonnull (task);
  g_signal_connect (task, "notify", G_CALLBACK (on_task_notify), watch);
}

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  Watch *watch = user_data;

  watch_check_thread (watch);
  watch->n_items_changed++;
  g_assert_cmpuint (removed, ==, 0);
  g_assert_cmpuint (position + added, ==, g_list_model_get_n_items (model));
  g_ptr_array_add (watch->log, g_strdup_printf ("items-changed %u +%u", position, added));

  /* Watch the new items at once: they exist before any notification. */
  for (guint i = position; i < position + added; i++)
    watch_item (watch, i);
}

static void
on_task_finished (GatherGroup   *group,
                  GatherOutcome *outcome,
                  gpointer       user_data)
{
  Watch *watch = user_data;
  g_autoptr(GatherTask) task = g_list_model_get_item (watch->model, gather_outcome_get_index (outcome));

  watch_check_thread (watch);
  g_ptr_array_add (watch->log, g_strdup_printf ("task-finished %u", gather_outcome_get_index (outcome)));

  /* The task object already says it ended, with this very outcome. */
  g_assert_true (gather_task_get_finished (task));
  g_assert_true (gather_task_get_outcome (task) == outcome);
  g_assert_cmpint (gather_task_get_state (task), ==,
                   GATHER_TASK_STATE_OK + gather_outcome_get_status (outcome));
}

static void
on_group_notify (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  Watch *watch = user_data;

  watch_check_thread (watch);
  g_ptr_array_add (watch->log, g_strdup_printf ("group %s", pspec->name));
}

static void
on_finished (GatherGroup *group,
             GPtrArray   *outcomes,
             gpointer     user_data)
{
  Watch *watch = user_data;

  watch_check_thread (watch);
  g_ptr_array_add (watch->log, g_strdup ("finished"));
  watch->finished = TRUE;
}

static guint
log_find_from (GPtrArray  *log,
               const char *line,
               guint       from)
{
  for (guint i = from; i < log->len; i++)
    if (g_str_equal (g_ptr_array_index (log, i), line))
      return i;

  return G_MAXUINT;
}

static guint
log_find (GPtrArray  *log,
          const char *line)
{
  return log_find_from (log, line, 0);
}

static void
watch_init (Watch       *watch,
            GatherGroup *group)
{
  watch->group = group;
  watch->model = gather_group_get_tasks (group);
  watch->main_thread = g_thread_self ();
  watch->log = g_ptr_array_new_with_free_func (g_free);

  g_signal_connect (watch->model, "items-changed", G_CALLBACK (on_items_changed), watch);
  g_signal_connect (group, "task-finished", G_CALLBACK (on_task_finished), watch);
  g_signal_connect (group, "notify::n-finished", G_CALLBACK (on_group_notify), watch);
  g_signal_connect (group, "finished", G_CALLBACK (on_finished), watch);
}

/* The order of what one task went through, from the log. */
static void
assert_task_story (GPtrArray *log,
                   guint      index,
                   gboolean   must_run)
{
  g_autofree char *finished = NULL;
  guint last_state = 0;
  guint n_final = 0;
  guint n_running = 0;
  guint first_notify = G_MAXUINT;
  guint final_at = G_MAXUINT;

  for (guint i = 0; i < log->len; i++)
    {
      const char *line = g_ptr_array_index (log, i);
      g_autofree char *prefix = g_strdup_printf ("notify %u ", index);
      const char *state;

      if (!g_str_has_prefix (line, prefix))
        continue;

      first_notify = MIN (first_notify, i);
      state = strstr (line, "state=");
      if (state == NULL)
        continue;

      state += strlen ("state=");
      for (guint s = 0; s <= GATHER_TASK_STATE_CANCELLED; s++)
        if (g_str_equal (state, state_name (s)))
          {
            /* States only move forward. */
            g_assert_cmpuint (s, >, last_state);
            last_state = s;
            if (s == GATHER_TASK_STATE_RUNNING)
              n_running++;
            if (s >= GATHER_TASK_STATE_OK)
              {
                n_final++;
                final_at = i;
              }
          }
    }

  /* A task can go from queued to final in one dispatch, but it is never
   * notified running twice, nor final twice. */
  g_assert_cmpuint (n_final, ==, 1);
  g_assert_cmpuint (n_running, <=, 1);
  (void) must_run;

  /* In the model before its first notification; final before
   * task-finished, which comes before the group's progress. */
  finished = g_strdup_printf ("task-finished %u", index);
  g_assert_cmpuint (log_find (log, finished), >, final_at);
  g_assert_cmpuint (log_find (log, finished), !=, G_MAXUINT);

  /* The group's progress is notified after the batch that held the task:
   * the next progress notification follows its task-finished.  (An earlier
   * one may belong to another task's batch.) */
  g_assert_cmpuint (log_find_from (log, "group n-finished", log_find (log, finished)), !=, G_MAXUINT);
  (void) first_notify;
}

static void
test_task_notifications (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherPool) pool = gather_pool_new (2);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  Watch watch = { 0 };
  gint gate = FALSE;

  g_test_summary ("Items are added before they are notified; every signal comes on the "
                  "owner's context; a task's states only move forward, its final "
                  "notification comes before task-finished for it, and the group's "
                  "progress after both");

  gather_group_set_pool (group, pool);
  watch_init (&watch, group);

  for (guint i = 0; i < 6; i++)
    {
      TestTask *task = test_task_new ();

      task->sleep_msec = 20;
      if (i == 2)
        task->value = NULL;          /* fails */
      if (i == 4)
        task->sleep_msec = 10000;    /* times out */
      test_add (group, NULL, i == 4 ? 100 : 0, task);
    }
  g_assert_cmpuint (watch.n_items_changed, ==, 6);
  g_assert_cmpuint (g_list_model_get_n_items (watch.model), ==, 6);
  g_assert_true (g_list_model_get_item_type (watch.model) == GATHER_TYPE_TASK);
  (void) gate;

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_true (watch.finished);
  g_assert_cmpuint (watch.n_off_thread, ==, 0);

  for (guint i = 0; i < 6; i++)
    {
      g_autoptr(GatherTask) task = g_list_model_get_item (watch.model, i);
      char line[64];

      g_snprintf (line, sizeof line, "items-changed %u +1", i);
      g_assert_cmpuint (log_find (watch.log, line), <, log_find (watch.log, "finished"));
      assert_task_story (watch.log, i, TRUE);

      /* The outcome stays available from the object, the same one the run
       * delivered in submission order. */
      g_assert_true (gather_task_get_outcome (task) == g_ptr_array_index (outcomes, i));
      g_assert_cmpuint (gather_task_get_index (task), ==, i);
      g_assert_cmpint (gather_task_get_kind (task), ==, GATHER_TASK_KIND_THREAD);
      g_assert_cmpuint (gather_task_get_attempt (task), ==, 1);
      g_assert_cmpint (gather_task_get_start_time (task), >, 0);
      g_assert_cmpint (gather_task_get_finish_time (task), >=, gather_task_get_start_time (task));
      g_assert_cmpint (gather_task_get_elapsed (task), ==,
                       gather_task_get_finish_time (task) - gather_task_get_start_time (task));
    }

  {
    g_autoptr(GatherTask) failed = g_list_model_get_item (watch.model, 2);
    g_autoptr(GatherTask) timed_out = g_list_model_get_item (watch.model, 4);
    g_autoptr(GatherTask) ok = g_list_model_get_item (watch.model, 0);

    g_assert_cmpint (gather_task_get_state (failed), ==, GATHER_TASK_STATE_ERROR);
    g_assert_nonnull (gather_task_get_error (failed));
    g_assert_null (gather_task_get_result (failed));
    g_assert_cmpint (gather_task_get_state (timed_out), ==, GATHER_TASK_STATE_TIMEOUT);
    g_assert_error (gather_task_get_error (timed_out), GATHER_ERROR, GATHER_ERROR_TIMED_OUT);
    g_assert_cmpint (gather_task_get_state (ok), ==, GATHER_TASK_STATE_OK);
    g_assert_cmpstr (g_variant_get_string (gather_task_get_result (ok), NULL), ==, "ok");
    g_assert_null (gather_task_get_error (ok));
  }

  g_ptr_array_unref (watch.log);
}

static void
test_task_lazy (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) kept = NULL;
  g_autoptr(GatherTask) task = NULL;
  TestTask *body = test_task_new ();

  g_test_summary ("A model asked for after the run shows the outcomes; one kept after "
                  "the group is gone keeps every task as it was");

  body->value = "late";
  test_add (group, "a", 0, body);
  test_add (group, "b", 0, test_task_new ());

  outcomes = test_run_and_wait (group, NULL, 5000, &error);
  g_assert_no_error (error);

  kept = g_object_ref (gather_group_get_tasks (group));
  g_assert_cmpuint (g_list_model_get_n_items (kept), ==, 2);
  g_assert_null (g_list_model_get_item (kept, 2));

  g_clear_object (&group);

  task = g_list_model_get_item (kept, 0);
  g_assert_cmpstr (gather_task_get_label (task), ==, "a");
  g_assert_cmpint (gather_task_get_state (task), ==, GATHER_TASK_STATE_OK);
  g_assert_cmpstr (g_variant_get_string (gather_task_get_result (task), NULL), ==, "late");
  g_clear_object (&task);

  task = g_list_model_get_item (kept, 1);
  g_assert_cmpstr (gather_task_get_label (task), ==, "b");
  g_assert_true (gather_task_get_outcome (task) == g_ptr_array_index (outcomes, 1));

  /* Setters on a task whose group is gone do nothing but change the
   * property. */
  gather_task_set_priority (task, 3);
  g_assert_cmpint (gather_task_get_priority (task), ==, 3);
}

static void
start_async_ok (GatherCompletion *completion,
                GCancellable     *cancellable,
                gpointer          user_data)
{
  gather_completion_return_value (completion, g_variant_new_string ("async"));
  gather_completion_unref (completion);
}

static void
test_task_kinds (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherRegistry) registry = test_registry_new ("shipped", NULL);
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GatherTask) thread = NULL;
  g_autoptr(GatherTask) worker = NULL;
  g_autoptr(GatherTask) async = NULL;
  GListModel *model;

  g_test_summary ("Each task says how it runs, and a task watched before the run "
                  "starts queued");

  gather_group_set_registry (group, registry);
  test_add (group, "thread", 0, test_task_new ());
  gather_group_add_worker_task (group, "sleep", g_variant_new_parsed ("{'ms': <@u 1>}"),
                                "worker", 0, &error);
  g_assert_no_error (error);
  gather_group_add_async_task (group, "async", 0, start_async_ok, NULL, NULL, &error);
  g_assert_no_error (error);

  model = gather_group_get_tasks (group);
  thread = g_list_model_get_item (model, 0);
  worker = g_list_model_get_item (model, 1);
  async = g_list_model_get_item (model, 2);
  g_assert_cmpint (gather_task_get_state (thread), ==, GATHER_TASK_STATE_QUEUED);
  g_assert_cmpuint (gather_task_get_attempt (thread), ==, 0);
  g_assert_cmpint (gather_task_get_elapsed (thread), ==, 0);

  outcomes = test_run_and_wait (group, NULL, 5000, &error);
  g_assert_no_error (error);

  g_assert_cmpint (gather_task_get_kind (thread), ==, GATHER_TASK_KIND_THREAD);
  g_assert_cmpint (gather_task_get_kind (worker), ==, GATHER_TASK_KIND_WORKER);
  g_assert_cmpint (gather_task_get_kind (async), ==, GATHER_TASK_KIND_ASYNC);
  g_assert_cmpint (gather_task_get_state (worker), ==, GATHER_TASK_STATE_OK);
  g_assert_cmpstr (g_variant_get_string (gather_task_get_result (async), NULL), ==, "async");
  g_assert_true (gather_group_get_task (group, 2) == async);
  g_assert_null (gather_group_get_task (group, 3));
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_task_abandoned (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GatherTask) task = NULL;
  TestTask *body = test_task_new ();
  gint gate = FALSE;
  gint n_destroyed = 0;
  guint n_abandoned_notify = 0;

  g_test_summary ("A task's abandoned property can become TRUE after its final state, "
                  "notified on the owner's context");

  body->gate = &gate;
  body->n_destroyed = &n_destroyed;
  gather_group_set_grace_period (group, 50);
  test_add (group, "stuck", 100, body);
  task = g_list_model_get_item (gather_group_get_tasks (group), 0);
  g_signal_connect (task, "notify::abandoned", G_CALLBACK (count_notify), &n_abandoned_notify);

  outcomes = test_run_and_wait (group, NULL, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gather_task_get_state (task), ==, GATHER_TASK_STATE_TIMEOUT);

  g_assert_true (test_iterate_until_abandoned (g_ptr_array_index (outcomes, 0), 5000));
  /* The notification comes in the same dispatch. */
  g_assert_true (gather_task_get_abandoned (task));
  g_assert_cmpuint (n_abandoned_notify, ==, 1);

  /* The body reads the gate on its pool thread: wait until it has returned
   * (its data is destroyed then), or it would read this frame once the
   * test has returned (ThreadSanitizer saw it). */
  g_atomic_int_set (&gate, TRUE);
  g_assert_true (test_iterate_until_count (&n_destroyed, 1, 5000));
  g_clear_pointer (&outcomes, g_ptr_array_unref);
  g_clear_object (&group);
}

static void
test_task_properties (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherRetryPolicy) policy = gather_retry_policy_new (2, GATHER_RETRY_FLAGS_ERROR, 10, 10);
  GatherTask *task;
  GatherTaskState state;
  g_autofree char *label = NULL;
  g_autoptr(GListModel) model = NULL;

  g_test_summary ("Task properties read through GObject match the getters; the group's "
                  "tasks property is its model");

  test_add (group, "props", 0, test_task_new ());
  task = gather_group_get_task (group, 0);
  g_object_set (task, "priority", 7, "retry-policy", policy, NULL);
  g_object_get (task, "state", &state, "label", &label, NULL);
  g_object_get (group, "tasks", &model, NULL);

  g_assert_cmpint (gather_task_get_priority (task), ==, 7);
  g_assert_true (gather_task_get_retry_policy (task) == policy);
  g_assert_cmpint (state, ==, GATHER_TASK_STATE_QUEUED);
  g_assert_cmpstr (label, ==, "props");
  g_assert_true (model == gather_group_get_tasks (group));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/gather/task/notifications", test_task_notifications);
  g_test_add_func ("/gather/task/lazy", test_task_lazy);
  g_test_add_func ("/gather/task/kinds", test_task_kinds);
  g_test_add_func ("/gather/task/abandoned", test_task_abandoned);
  g_test_add_func ("/gather/task/properties", test_task_properties);

  return g_test_run ();
}
