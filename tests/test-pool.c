/* test-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE

#include <sched.h>

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

typedef gboolean (*ThreadMatch) (pid_t       tid,
                                 const char *comm,
                                 gpointer    data);

/* How many threads of this process @match accepts. A thread's name is
 * its creator's until the thread has named itself. */
static guint
count_threads (ThreadMatch match,
               gpointer    data)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", name, "comm", NULL);
      g_autofree char *comm = NULL;

      /* A thread that exited meanwhile is not counted. */
      if (g_file_get_contents (path, &comm, NULL, NULL) &&
          match ((pid_t) g_ascii_strtoll (name, NULL, 10), g_strchomp (comm), data))
        n++;
    }

  return n;
}

static gboolean
has_name (pid_t       tid,
          const char *comm,
          gpointer    data)
{
  return g_str_equal (comm, data);
}

/* Threads of this process named as the pool names its threads. */
static guint
count_pool_threads (void)
{
  return count_threads (has_name, (gpointer) "gather-pool");
}

static gboolean
has_policy (pid_t       tid,
            const char *comm,
            gpointer    data)
{
  return sched_getscheduler (tid) == GPOINTER_TO_INT (data);
}

/* How many threads of this process run under @policy. */
static guint
count_threads_with_policy (int policy)
{
  return count_threads (has_policy, GINT_TO_POINTER (policy));
}

static GVariant *
scheduling_policy_body (GCancellable  *cancellable,
                        gpointer       user_data,
                        GError       **error)
{
  return g_variant_new_int32 (sched_getscheduler (0));
}

static void
test_pool_scheduling (void)
{
  g_test_summary ("Task bodies run under SCHED_BATCH; the timer thread, though "
                  "first started from a pool thread, under SCHED_OTHER");

  if (g_test_subprocess ())
    {
      g_autoptr(GatherGroup) group = gather_group_new ();
      g_autoptr(GPtrArray) outcomes = NULL;
      g_autoptr(GError) error = NULL;
      guint n_other = count_threads_with_policy (SCHED_OTHER);
      gint64 end;

      /* In a fresh process: the task's timeout is the first timer, armed
       * by the pool thread that starts it, which starts the timer thread. */
      g_assert_cmpuint (count_threads_with_policy (SCHED_BATCH), ==, 0);
      gather_group_add_task (group, "policy", 60000, scheduling_policy_body, NULL, NULL, &error);
      g_assert_no_error (error);
      outcomes = test_run_and_wait (group, NULL, 10000, &error);
      g_assert_no_error (error);
      g_assert_cmpint (g_variant_get_int32 (gather_outcome_get_result (test_outcome (outcomes, 0))),
                       ==, SCHED_BATCH);

      /* The pool thread, which waits for another task now, and nothing
       * else; the new timer thread is among the others once it has run
       * its first lines (until then it has its creator's name and policy:
       * under valgrind that takes a while). */
      end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC * test_slowdown ();
      while ((count_threads_with_policy (SCHED_BATCH) != 1 ||
              count_threads_with_policy (SCHED_OTHER) < n_other + 1) &&
             g_get_monotonic_time () < end)
        g_usleep (10 * 1000);
      g_assert_cmpuint (count_threads_with_policy (SCHED_BATCH), ==, 1);
      g_assert_cmpuint (count_threads_with_policy (SCHED_OTHER), >=, n_other + 1);
      g_assert_cmpint (sched_getscheduler (0), ==, SCHED_OTHER);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_pool_one_task_one_thread (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (4);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  guint before = count_pool_threads ();
  TestTask *task = test_task_new ();
  gint64 end;

  g_test_summary ("One task on a fresh pool starts one thread, not two");

  gather_group_set_pool (group, pool);
  task->value = "ok";
  test_add (group, NULL, 0, task);
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  /* The thread waits for another task now (for 10 s). A thread it
   * started (gather's timer thread, the first time a timer is armed) has
   * its name for a moment, until it names itself: wait for that, well
   * under the 10 s that a second pool thread would stay. */
  end = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (count_pool_threads () > before + 1 && g_get_monotonic_time () < end)
    g_usleep (10000);
  g_assert_cmpuint (count_pool_threads (), ==, before + 1);
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

/* Runs @n_tasks tasks on @pool, each waiting (up to 5 s) until @n_running
 * run at once; asserts that many did, and that every task ended OK. */
static void
run_burst (GatherPool *pool,
           guint       n_tasks,
           guint       n_running)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint running = 0, max_running = 0;

  gather_group_set_pool (group, pool);
  for (guint i = 0; i < n_tasks; i++)
    {
      TestTask *task = test_task_new ();

      task->running = &running;
      task->max_running = &max_running;
      task->wait_for_running = n_running;
      task->value = "ok";
      test_add (group, NULL, 0, task);
    }

  outcomes = test_run_and_wait (group, NULL, 30000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_atomic_int_get (&max_running), ==, n_running);
  for (guint i = 0; i < outcomes->len; i++)
    g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, i)), ==, GATHER_STATUS_OK);
}

static void
test_pool_burst (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (32);

  g_test_summary ("A burst of tasks on an idle pool starts threads up to max-threads "
                  "(one at a time, each starting the next): 32 bodies run at once");

  run_burst (pool, 200, 32);
}

static void
test_pool_shrink_while_running (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (4);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  gint first_running = 0, first_max = 0;
  gint later_running = 0, later_max = 0;
  gint gate = 0;
  gint64 end;

  g_test_summary ("Lowering max-threads while bodies run: they finish, surplus threads "
                  "leave, and the tasks still queued run one at a time");

  gather_group_set_pool (group, pool);
  for (guint i = 0; i < 8; i++)
    {
      TestTask *task = test_task_new ();

      task->value = "ok";
      if (i < 4)
        {
          task->running = &first_running;
          task->max_running = &first_max;
          task->gate = &gate;
        }
      else
        {
          task->running = &later_running;
          task->max_running = &later_max;
          task->sleep_msec = 20;
        }
      test_add (group, NULL, 0, task);
    }

  gather_group_run_async (group, NULL, test_save_outcomes, &outcomes);
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC * test_slowdown ();
  while (g_atomic_int_get (&first_running) < 4 && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpint (g_atomic_int_get (&first_running), ==, 4);

  gather_pool_set_max_threads (pool, 1);
  g_atomic_int_set (&gate, 1);

  while (outcomes == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (outcomes->len, ==, 8);
  for (guint i = 0; i < outcomes->len; i++)
    g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, i)), ==, GATHER_STATUS_OK);
  g_assert_cmpint (g_atomic_int_get (&first_max), ==, 4);
  g_assert_cmpint (g_atomic_int_get (&later_max), ==, 1);
}

static void
test_pool_idle_threads (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (48);
  guint before = count_pool_threads ();
  gint64 end;

  g_test_summary ("After a burst on a large pool, at most 8 of its threads stay idle; "
                  "the next burst starts the others again");

  run_burst (pool, 48, 48);
  /* Less than the 10 s after which any idle thread leaves. */
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (count_pool_threads () > before + 8 && g_get_monotonic_time () < end)
    g_usleep (10000);
  g_assert_cmpuint (count_pool_threads (), <=, before + 8);

  run_burst (pool, 48, 48);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/gather/pool/defaults", test_pool_defaults);
  g_test_add_func ("/gather/pool/properties", test_pool_properties);
  g_test_add_func ("/gather/pool/one-task-one-thread", test_pool_one_task_one_thread);
  g_test_add_func ("/gather/pool/grow-while-running", test_pool_grow_while_running);
  g_test_add_func ("/gather/pool/burst", test_pool_burst);
  g_test_add_func ("/gather/pool/shrink-while-running", test_pool_shrink_while_running);
  g_test_add_func ("/gather/pool/idle-threads", test_pool_idle_threads);
  g_test_add_func ("/gather/pool/scheduling", test_pool_scheduling);

  return g_test_run ();
}
