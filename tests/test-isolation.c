/* test-isolation.c: plugin worker tasks in helper processes.
 *
 * Every test ends with no process of ours left: helpers exit and are
 * reaped when the pool that ran them is finalized, and whatever a task
 * started is killed with its helper.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-util.h"

#if defined(__SANITIZE_ADDRESS__)
# define UNDER_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define UNDER_ASAN 1
# endif
#endif

static char           *plugin_dir;   /* gather-isolate.so, gather-abort-ctor.so */
static GatherRegistry *registry;     /* loads gather-isolate.so in this process */

/* ---- Helpers of the tests ---- */

static void
install_fixture (const char *built,
                 const char *name)
{
  g_autofree char *from = g_build_filename (g_getenv ("GATHER_TEST_BAD_PLUGINS"), built, NULL);

  g_free (test_install_file (from, plugin_dir, name));
}

/* The processes whose parent is this one. */
static guint
count_children (void)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (proc);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *stat = NULL;
      const char *fields;
      long ppid = 0;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_build_filename ("/proc", name, "stat", NULL);
      if (!g_file_get_contents (path, &stat, NULL, NULL) ||
          (fields = strrchr (stat, ')')) == NULL ||
          sscanf (fields + 1, " %*c %ld", &ppid) != 1)
        continue;
      if (ppid == (long) getpid ())
        {
          g_test_message ("Child left: %s", stat);
          n++;
        }
    }

  return n;
}

static gboolean
process_exists (pid_t pid)
{
  return kill (pid, 0) == 0 || errno != ESRCH;
}

static GatherGroup *
new_group_on (GatherPool *pool)
{
  GatherGroup *group = gather_group_new ();

  gather_group_set_pool (group, pool);
  gather_group_set_registry (group, registry);
  gather_group_set_isolate_workers (group, TRUE);
  gather_group_set_grace_period (group, 50);

  return group;
}

static GatherGroup *
new_group (guint threads)
{
  g_autoptr(GatherPool) pool = gather_pool_new (threads);

  return new_group_on (pool);
}

/* Adds an isolate-touch task that adds a line to @path. */
static guint
add_touch (GatherGroup *group,
           const char  *path,
           const char  *label)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) parameters = NULL;
  GVariantBuilder builder;
  guint index;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "path", g_variant_new_bytestring (path));
  parameters = g_variant_ref_sink (g_variant_builder_end (&builder));
  index = gather_group_add_worker_task (group, "isolate-touch", parameters, label, 0, &error);
  g_assert_no_error (error);

  return index;
}

/* How many times an isolate-touch task ran with @path. */
static guint
count_touches (const char *path)
{
  g_autofree char *contents = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  for (const char *p = contents; (p = strstr (p, "ran\n")) != NULL; p++)
    n++;

  return n;
}

/* Adds a task of @worker with parameters in GVariant text. */
static guint
add (GatherGroup *group,
     const char  *worker,
     const char  *parameters,
     const char  *label,
     guint        timeout_msec)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = g_variant_parse (G_VARIANT_TYPE_VARDICT,
                                     parameters != NULL ? parameters : "@a{sv} {}",
                                     NULL, NULL, &error);
  guint index;

  g_assert_no_error (error);
  index = gather_group_add_worker_task (group, worker, value, label, timeout_msec, &error);
  g_assert_no_error (error);

  return index;
}

static GPtrArray *
run (GatherGroup *group)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *outcomes = test_run_and_wait (group, NULL, 30000, &error);

  g_assert_no_error (error);
  return outcomes;
}

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates until nothing of @group runs: every stopped task has returned
 * or its helper has been killed and reaped. */
static void
wait_settled (GatherGroup *group)
{
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC * test_slowdown ();
  guint tick = g_timeout_add (5, wake, NULL);

  while (gather_group_get_n_running (group) > 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);

  g_assert_cmpuint (gather_group_get_n_running (group), ==, 0);
  /* The last events (SETTLED) are handled. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Drops @group (and so its pool, which waits for its helpers). */
static void
finish (GatherGroup *group,
        GPtrArray   *outcomes)
{
  g_clear_pointer (&outcomes, g_ptr_array_unref);
  wait_settled (group);
  g_assert_finalize_object (group);
  g_assert_cmpuint (count_children (), ==, 0);
}

static void
assert_ok_string (GatherOutcome *outcome,
                  const char    *value)
{
  g_assert_no_error (gather_outcome_get_error (outcome));
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_OK);
  g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (outcome), NULL), ==, value);
}

static void
assert_helper_error (GatherOutcome *outcome,
                     const char    *part)
{
  GError *error = gather_outcome_get_error (outcome);

  g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_ERROR);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_HELPER);
  test_assert_message_has (error, part);
  g_assert_false (gather_outcome_get_killed (outcome));
}

static char *
read_file (const char *path)
{
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, NULL);
  return contents;
}

/* Iterates until @path has a line, at most 30 s. */
static char *
wait_for_file (const char *path)
{
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC * test_slowdown ();
  guint tick = g_timeout_add (2, wake, NULL);
  char *contents = NULL;

  while ((contents = read_file (path)) == NULL || strchr (contents, '\n') == NULL)
    {
      g_clear_pointer (&contents, g_free);
      if (g_get_monotonic_time () >= end)
        break;
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);

  g_assert_nonnull (contents);
  return contents;
}

/* ---- Tests ---- */

static void
test_isolation_results (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  g_autoptr(GArray) pids = g_array_new (FALSE, FALSE, sizeof (guint64));
  GPtrArray *outcomes;

  g_test_summary ("Isolated tasks return their results; they run in at most max-threads "
                  "helper processes, which are reused");

  add (group, "isolate-echo", "{'value': <'one'>}", "one", 5000);
  for (guint i = 0; i < 6; i++)
    add (group, "isolate-pid", NULL, NULL, 5000);
  add (group, "isolate-echo", "{'value': <'two'>}", "two", 5000);

  outcomes = run (group);
  assert_ok_string (test_outcome (outcomes, 0), "one");
  assert_ok_string (test_outcome (outcomes, 7), "two");
  for (guint i = 1; i <= 6; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);
      guint64 pid;
      gboolean seen = FALSE;

      g_assert_cmpint (gather_outcome_get_status (outcome), ==, GATHER_STATUS_OK);
      pid = g_variant_get_uint64 (gather_outcome_get_result (outcome));
      g_assert_cmpuint (pid, !=, (guint64) getpid ());
      g_assert_cmpuint (pid, >, 1);
      for (guint j = 0; j < pids->len; j++)
        seen = seen || g_array_index (pids, guint64, j) == pid;
      if (!seen)
        g_array_append_val (pids, pid);
      g_assert_false (gather_outcome_get_killed (outcome));
      g_assert_false (gather_outcome_get_abandoned (outcome));
    }
  g_assert_cmpuint (pids->len, >=, 1);
  g_assert_cmpuint (pids->len, <=, 2);

  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_declaration_changed (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  GPtrArray *outcomes;
  GError *error;

  g_test_summary ("A helper checks a task's parameters again when its worker declares "
                  "other parameters than the host's (its plugin changed meanwhile), "
                  "and only then");

  add (group, "isolate-shifty", "{'n': <uint32 7>}", "shifty", 5000);
  add (group, "isolate-echo", "{'value': <'a'>}", "echo", 5000);

  outcomes = run (group);
  error = gather_outcome_get_error (test_outcome (outcomes, 0));
  g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, 0)), ==, GATHER_STATUS_ERROR);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS);
  g_assert_cmpstr (error->message, ==,
                   "Parameter “n” of worker “isolate-shifty” must be of type “s”, not “u”");
  assert_ok_string (test_outcome (outcomes, 1), "a");

  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_parameters_of_any_type (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  g_autoptr(GError) error = NULL;
  GPtrArray *outcomes;

  g_test_summary ("Workers whose parameters are not an a{sv} (a string, a tuple) run "
                  "isolated like the others; the host once aborted in GLib sending "
                  "a string");

  g_assert_cmpuint (gather_group_add_worker_task (group, "isolate-upper", g_variant_new_string ("plain"),
                                                  "upper", 5000, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpuint (gather_group_add_worker_task (group, "isolate-pair",
                                                  g_variant_new ("(su)", "pair", 42), "pair", 5000,
                                                  &error), ==, 1);
  g_assert_no_error (error);
  add (group, "isolate-echo", "{'value': <'a'>}", "echo", 5000);

  outcomes = run (group);
  assert_ok_string (test_outcome (outcomes, 0), "PLAIN");
  assert_ok_string (test_outcome (outcomes, 1), "pair 42");
  assert_ok_string (test_outcome (outcomes, 2), "a");

  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_crashes (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  GPtrArray *outcomes;

  g_test_summary ("A helper that dies during a task (segfault, abort, exit) gives that task "
                  "an ERROR naming the worker, the task and the signal or status; the "
                  "other tasks carry on");

  add (group, "isolate-crash", "{'how': <'segv'>}", "segv", 5000);
  add (group, "isolate-echo", "{'value': <'a'>}", "a", 5000);
  add (group, "isolate-crash", "{'how': <'abort'>}", "abort", 5000);
  add (group, "isolate-crash", "{'how': <'exit'>}", "exit", 5000);
  add (group, "isolate-crash", "{'how': <'exit0'>}", "exit0", 5000);
  add (group, "isolate-echo", "{'value': <'b'>}", "b", 5000);

  outcomes = run (group);
  assert_helper_error (test_outcome (outcomes, 0), "task “segv” (worker “isolate-crash”)");
  assert_helper_error (test_outcome (outcomes, 0), "was killed by signal 11");
  assert_ok_string (test_outcome (outcomes, 1), "a");
  assert_helper_error (test_outcome (outcomes, 2), "task “abort” (worker “isolate-crash”)");
  assert_helper_error (test_outcome (outcomes, 2), "was killed by signal 6");
  assert_helper_error (test_outcome (outcomes, 3), "exited with status 3");
  assert_helper_error (test_outcome (outcomes, 4), "exited with status 0");
  assert_ok_string (test_outcome (outcomes, 5), "b");

  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_timeout_kills (void)
{
  g_autoptr(GatherGroup) group = new_group (3);
  GatherOutcome *hung;
  GatherOutcome *cooperative;
  GPtrArray *outcomes;

  g_test_summary ("A task that ignores its cancellation is killed at the end of the grace "
                  "period (killed, not abandoned); one that returns when asked to cancel "
                  "is not killed; the others carry on");

  /* The cooperative task's helper must hear of the cancellation and
   * reply within the grace period: on a loaded machine that takes longer
   * than new_group()'s 50 ms. */
  gather_group_set_grace_period (group, 1000 * test_slowdown ());
  add (group, "isolate-hang", NULL, "hang", 50);
  add (group, "isolate-cooperate", "{'ms': <uint32 60000>}", "cooperate", 50);
  add (group, "isolate-echo", "{'value': <'fine'>}", "fine", 5000);

  outcomes = run (group);
  hung = test_outcome (outcomes, 0);
  cooperative = test_outcome (outcomes, 1);
  g_assert_cmpint (gather_outcome_get_status (hung), ==, GATHER_STATUS_TIMEOUT);
  g_assert_error (gather_outcome_get_error (hung), GATHER_ERROR, GATHER_ERROR_TIMED_OUT);
  g_assert_cmpint (gather_outcome_get_status (cooperative), ==, GATHER_STATUS_TIMEOUT);
  assert_ok_string (test_outcome (outcomes, 2), "fine");

  wait_settled (group);
  g_assert_true (gather_outcome_get_killed (hung));
  g_assert_false (gather_outcome_get_abandoned (hung));
  /* Its cancellable fired in the helper, and it returned. */
  g_assert_false (gather_outcome_get_killed (cooperative));
  g_assert_false (gather_outcome_get_abandoned (cooperative));

  finish (g_steal_pointer (&group), outcomes);
}

/* What /gather/isolation/kill-on-time keeps the timer thread busy with. */
typedef struct
{
  gboolean  done;     /* atomic: the stall is over */
  gint64    end;      /* when, written before done */
  GThread  *body;     /* the thread task's thread, set before it connects */
  GThread  *stalled;  /* where the handler ran, written before done */
} TimerStall;

#define STALL_MSEC 3000

/* On gather's timer thread, as the thread task's timeout cancels it. */
static void
stall_timer_thread (GCancellable *cancellable,
                    gpointer      data)
{
  TimerStall *stall = data;

  stall->stalled = g_thread_self ();
  g_usleep (STALL_MSEC * 1000);
  stall->end = g_get_monotonic_time ();
  g_atomic_int_set (&stall->done, 1);
}

static GVariant *
stalling_body (GCancellable  *cancellable,
               gpointer       data,
               GError       **error)
{
  TimerStall *stall = data;

  stall->body = g_thread_self ();
  /* Left connected: disconnecting would wait for the handler. */
  g_cancellable_connect (cancellable, G_CALLBACK (stall_timer_thread), data, NULL);
  while (!g_cancellable_is_cancelled (cancellable))
    g_usleep (1000);

  return g_variant_new_boolean (TRUE);
}

static void
test_isolation_kill_on_time (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  g_autoptr(GError) error = NULL;
  TimerStall stall = { FALSE, 0, NULL, NULL };
  /* The thread task's body must connect its handler before its timeout,
   * and the isolated task's timeout come while the handler runs. */
  guint stall_timeout_msec = 300 * test_slowdown ();
  guint timeout_msec = stall_timeout_msec + 200;
  guint grace_msec = 1000;
  GatherOutcome *hung;
  GPtrArray *outcomes;
  gint64 due;
  gint64 killed_seen;

  g_test_summary ("An isolated task that ignores its cancellation is killed its grace "
                  "period after its timeout, however late gather's timer thread gets "
                  "to the timeout: the lateness does not add to the kill's");

  /* A thread task whose cancellation handler holds the timer thread for
   * 3 s from its timeout on; the isolated task's timeout and its grace
   * period are both over before that ends. */
  gather_group_set_grace_period (group, grace_msec);
  gather_group_add_task (group, "stall", stall_timeout_msec, stalling_body, &stall, NULL, &error);
  g_assert_no_error (error);
  add (group, "isolate-hang", NULL, "hang", timeout_msec);

  outcomes = run (group);
  g_assert_true (test_iterate_until (&stall.done, 10000));
  /* On gather's timer thread, not on the body's: had the body connected
   * after its timeout, the handler would have run there. */
  g_assert_true (stall.stalled != stall.body);
  g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, 0)), ==, GATHER_STATUS_TIMEOUT);
  hung = test_outcome (outcomes, 1);
  g_assert_cmpint (gather_outcome_get_status (hung), ==, GATHER_STATUS_TIMEOUT);
  g_assert_true (test_iterate_until_killed (hung, 30000));
  killed_seen = g_get_monotonic_time ();

  /* The kill was due while the timer thread was held (the helper started
   * the task within 1.8 s of the thread task). */
  due = gather_outcome_get_start_time (hung) + (gint64) (timeout_msec + grace_msec) * 1000;
  g_assert_cmpint (due, <=, stall.end);

  /* A grace period counted from when the timer thread got to the timeout
   * would end 1 s after the stall. */
  g_assert_cmpint (killed_seen - stall.end, <, (gint64) (grace_msec - 300) * 1000);
  g_assert_false (gather_outcome_get_abandoned (hung));

  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_grandchildren (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  g_autofree char *dir = g_dir_make_tmp ("gather-isolation-XXXXXX", NULL);
  g_autofree char *pidfile = g_build_filename (dir, "pids", NULL);
  g_autofree char *parameters = NULL;
  g_autofree char *pids = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *outcomes;

  g_test_summary ("A killed task's processes all go, even those in another session that "
                  "ignore SIGTERM");

  /* The worker writes the pid file only once both processes have
   * started: on a loaded machine that can take longer than 300 ms. */
  parameters = g_strdup_printf ("{'pidfile': <b'%s'>}", pidfile);
  add (group, "isolate-spawn", parameters, "spawn", 1000 * test_slowdown ());

  outcomes = run (group);
  g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, 0)), ==,
                   GATHER_STATUS_TIMEOUT);
  wait_settled (group);
  g_assert_true (gather_outcome_get_killed (test_outcome (outcomes, 0)));

  pids = read_file (pidfile);
  g_assert_nonnull (pids);
  lines = g_strsplit (pids, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >=, 2);
  for (guint i = 0; i < 2; i++)
    {
      pid_t pid = (pid_t) g_ascii_strtoll (lines[i], NULL, 10);

      g_assert_cmpint (pid, >, 1);
      g_assert_false (process_exists (pid));
    }

  finish (g_steal_pointer (&group), outcomes);
  g_unlink (pidfile);
  g_rmdir (dir);
}

static void
test_isolation_memory_limit (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  g_autoptr(GError) error = NULL;
  GatherOutcome *greedy;
  GPtrArray *outcomes;
  guint index;

  g_test_summary ("A task that allocates past its memory limit ends with LIMIT_EXCEEDED "
                  "saying so; tasks within their limits succeed");

  gather_group_set_isolate_workers (group, FALSE);
  index = add (group, "isolate-allocate", "{'mb': <uint32 512>}", "greedy", 30000);
  g_assert_true (gather_group_set_task_limits (group, index, 64 * 1024 * 1024, 0, &error));
  g_assert_no_error (error);
  index = add (group, "isolate-allocate", "{'mb': <uint32 8>}", "modest", 30000);
  g_assert_true (gather_group_set_task_limits (group, index, 64 * 1024 * 1024, 0, &error));
  add (group, "isolate-echo", "{'value': <'next'>}", "next", 30000);

  outcomes = run (group);
  greedy = test_outcome (outcomes, 0);
  g_assert_cmpint (gather_outcome_get_status (greedy), ==, GATHER_STATUS_ERROR);
#ifdef UNDER_ASAN
  /* AddressSanitizer's allocator may die on its own before GLib sees the
   * failure; the message still names the limit. */
  if (!g_error_matches (gather_outcome_get_error (greedy), GATHER_ERROR, GATHER_ERROR_LIMIT_EXCEEDED))
    g_assert_error (gather_outcome_get_error (greedy), GATHER_ERROR, GATHER_ERROR_HELPER);
#else
  g_assert_error (gather_outcome_get_error (greedy), GATHER_ERROR, GATHER_ERROR_LIMIT_EXCEEDED);
#endif
  test_assert_message_has (gather_outcome_get_error (greedy), "memory limit of 64.0");
  test_assert_message_has (gather_outcome_get_error (greedy), "“greedy”");
  g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, 1)), ==, GATHER_STATUS_OK);
  assert_ok_string (test_outcome (outcomes, 2), "next");

  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_cpu_limit (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  g_autoptr(GError) error = NULL;
  GatherOutcome *burner;
  GPtrArray *outcomes;
  guint index;

  g_test_summary ("A task that uses up its CPU-time limit is killed and ends with "
                  "LIMIT_EXCEEDED saying so");

  index = add (group, "isolate-burn", NULL, "burner", 0);
  g_assert_true (gather_group_set_task_limits (group, index, 0, 1, &error));
  g_assert_no_error (error);
  add (group, "isolate-echo", "{'value': <'cool'>}", "cool", 0);

  outcomes = run (group);
  burner = test_outcome (outcomes, 0);
  g_assert_cmpint (gather_outcome_get_status (burner), ==, GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (burner), GATHER_ERROR, GATHER_ERROR_LIMIT_EXCEEDED);
  test_assert_message_has (gather_outcome_get_error (burner), "CPU-time limit of 1 s");
  test_assert_message_has (gather_outcome_get_error (burner), "“burner”");
  assert_ok_string (test_outcome (outcomes, 1), "cool");

  finish (g_steal_pointer (&group), outcomes);
}

typedef struct
{
  GPtrArray *outcomes;
} Outcomes;

static void
save_outcomes (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  ((Outcomes *) user_data)->outcomes = gather_group_run_finish (GATHER_GROUP (object), result, &error);
  g_assert_no_error (error);
}

/* The state letter and the parent of process @pid, from /proc; FALSE if
 * it is gone. */
static gboolean
read_proc_stat (pid_t  pid,
                char  *state,
                long  *ppid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *fields;

  return g_file_get_contents (path, &stat, NULL, NULL) &&
         (fields = strrchr (stat, ')')) != NULL &&
         sscanf (fields + 1, " %c %ld", state, ppid) == 2;
}

static pid_t
parent_of (pid_t pid)
{
  char state;
  long ppid = 0;

  g_assert_true (read_proc_stat (pid, &state, &ppid));
  g_assert_cmpint (ppid, >, 1);
  g_assert_cmpint (ppid, !=, getpid ());

  return (pid_t) ppid;
}

/* Kills, from outside, the worker process (or its supervisor) running a
 * task, once it runs. */
static void
killed_from_outside (gboolean supervisor)
{
  g_autoptr(GatherGroup) group = new_group (2);
  g_autofree char *dir = g_dir_make_tmp ("gather-isolation-XXXXXX", NULL);
  g_autofree char *pidfile = g_build_filename (dir, "pid", NULL);
  g_autofree char *parameters = g_strdup_printf ("{'pidfile': <b'%s'>}", pidfile);
  g_autofree char *contents = NULL;
  Outcomes result = { NULL };
  gboolean done = FALSE;
  pid_t pid;

  add (group, "isolate-hang", parameters, "victim", 0);
  add (group, "isolate-echo", "{'value': <'other'>}", "other", 0);

  gather_group_run_async (group, NULL, save_outcomes, &result);
  contents = wait_for_file (pidfile);
  pid = (pid_t) g_ascii_strtoll (contents, NULL, 10);
  g_assert_cmpint (pid, >, 1);

  if (supervisor)
    pid = parent_of (pid);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);

  done = test_iterate_until ((gboolean *) &result.outcomes, 30000);
  g_assert_true (done);
  assert_helper_error (test_outcome (result.outcomes, 0), "task “victim” (worker “isolate-hang”)");
  assert_helper_error (test_outcome (result.outcomes, 0), "was killed by signal 9");
  assert_ok_string (test_outcome (result.outcomes, 1), "other");

  finish (g_steal_pointer (&group), result.outcomes);
  g_unlink (pidfile);
  g_rmdir (dir);
}

static void
test_isolation_killed_worker (void)
{
  g_test_summary ("A helper's worker process killed from outside during a task: ERROR "
                  "naming the signal; the others carry on");
  killed_from_outside (FALSE);
}

static void
test_isolation_killed_supervisor (void)
{
  g_test_summary ("A helper's supervisor killed from outside during a task: its worker "
                  "process dies with it, the task gets an ERROR, the others carry on");
  killed_from_outside (TRUE);
}

/* The state letter of process @pid, or 0 if it is gone. */
static char
process_state (pid_t pid)
{
  char state;
  long ppid;

  return read_proc_stat (pid, &state, &ppid) ? state : 0;
}

/* As save_outcomes(), but keeps the error for later: it runs while a
 * process is stopped, and an assertion there would leave it stopped. */
static void
keep_outcomes (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Outcomes *outcomes = user_data;
  GError *error = NULL;

  outcomes->outcomes = gather_group_run_finish (GATHER_GROUP (object), result, &error);
  if (error != NULL)
    {
      g_test_message ("run failed: %s", error->message);
      g_error_free (error);
    }
}

/* Whether a thread of this process may switch to SCHED_BATCH and back. */
static gpointer
try_sched_batch (gpointer data)
{
  struct sched_param param = { 0 };

  return GINT_TO_POINTER (sched_setscheduler (0, SCHED_BATCH, &param) == 0 &&
                          sched_setscheduler (0, SCHED_OTHER, &param) == 0);
}

static void
test_isolation_scheduling (void)
{
  g_autoptr(GatherGroup) group = NULL;
  GPtrArray *outcomes;
  pid_t worker;

  g_test_summary ("Plugin code in a helper runs under SCHED_BATCH, as on pool threads "
                  "(a request does not preempt the host thread that sent it); the "
                  "supervisor, on the path from a kill to the outcome, under SCHED_OTHER");

  /* gather ignores a refusal (a seccomp filter, a test runner under
   * SCHED_IDLE): plugin code then keeps the host's policy. */
  if (sched_getscheduler (0) != SCHED_OTHER ||
      !GPOINTER_TO_INT (g_thread_join (g_thread_new ("try-sched-batch", try_sched_batch, NULL))))
    {
      g_test_skip ("this test runs under a policy other than SCHED_OTHER, or may not "
                   "switch a thread to SCHED_BATCH, so there is nothing to see");
      return;
    }

  group = new_group (1);

  add (group, "isolate-pid", NULL, "pid", 5000);
  outcomes = run (group);
  worker = (pid_t) g_variant_get_uint64 (gather_outcome_get_result (test_outcome (outcomes, 0)));
  g_assert_cmpint (worker, !=, getpid ());

  /* The helper is kept for the next task: both processes are there. */
  g_assert_cmpint (sched_getscheduler (worker), ==, SCHED_BATCH);
  g_assert_cmpint (sched_getscheduler (parent_of (worker)), ==, SCHED_OTHER);

  finish (g_steal_pointer (&group), outcomes);
}

/* The watchdog's own session: meson ends a test that timed out by killing
 * its process group, and the watchdog must outlive it to do its job. */
static void
watchdog_setup (gpointer user_data)
{
  setsid ();
}

static void
test_isolation_kill_unreported (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (2);
  g_autoptr(GatherGroup) stuck = new_group_on (pool);
  g_autoptr(GatherGroup) group = new_group_on (pool);
  g_autofree char *dir = g_dir_make_tmp ("gather-isolation-XXXXXX", NULL);
  g_autofree char *pidfile = g_build_filename (dir, "pid", NULL);
  g_autofree char *parameters = g_strdup_printf ("{'pidfile': <b'%s'>}", pidfile);
  g_autofree char *contents = NULL;
  GatherOutcome *crash, *after;
  Outcomes first = { NULL };
  Outcomes second = { NULL };
  gboolean stopped_first, zombie;
  gint64 end, second_start = 0;
  pid_t worker, supervisor;
  g_autofree char *watchdog_command = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) watchdog = NULL;
  GOutputStream *watchdog_input;
  g_autoptr(GError) watchdog_error = NULL;

  g_test_summary ("While a helper's kill is under way its pool starts no helper, for at "
                  "most 20 ms: a kill that never ends (its supervisor is stopped) holds "
                  "back the tasks that wait for a helper by 20 ms, not for ever");

  /* A timeout long enough for this test to stop the supervisor first. */
  gather_group_set_grace_period (stuck, 10);
  add (stuck, "isolate-hang", parameters, "stuck", 2000 * test_slowdown ());
  /* One at a time: the crash ends its helper, so the next task waits for
   * a new one. A deadline ends the run if none ever comes. */
  gather_group_set_max_concurrent (group, 1);
  gather_group_set_deadline (group, 10000 * test_slowdown ());
  add (group, "isolate-crash", "{'how': <'segv'>}", "crash", 0);
  add (group, "isolate-echo", "{'value': <'after'>}", "after", 0);

  gather_group_run_async (stuck, NULL, keep_outcomes, &first);
  contents = wait_for_file (pidfile);
  worker = (pid_t) g_ascii_strtoll (contents, NULL, 10);
  g_assert_cmpint (worker, >, 1);
  supervisor = parent_of (worker);

  /* Nothing may fail from here until the supervisor goes on (SIGCONT): a
   * stopped process would outlive the test and keep its output open. If
   * the test is killed from outside meanwhile (a timeout: meson kills the
   * test's process group), a watchdog sends the SIGCONT: its standard
   * input ends with this process before it wrote a line. The watchdog has
   * its own session and ignores the signals that end a process group
   * politely. The task times out and its worker process is killed; the
   * stopped supervisor cannot reap it, so the kill is not reported. */
  watchdog_command = g_strdup_printf ("trap '' TERM HUP INT; "
                                      "if read line; then exit 0; fi; "
                                      "kill -CONT %d", (int) supervisor);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, watchdog_setup, NULL, NULL);
  watchdog = g_subprocess_launcher_spawn (launcher, &watchdog_error,
                                          "/bin/sh", "-c", watchdog_command, NULL);
  g_assert_no_error (watchdog_error);
  watchdog_input = g_subprocess_get_stdin_pipe (watchdog);
  g_assert_cmpint (kill (supervisor, SIGSTOP), ==, 0);
  stopped_first = process_state (worker) != 'Z';
  test_iterate_until ((gboolean *) &first.outcomes, 30000);
  end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC * test_slowdown ();
  while (process_state (worker) != 'Z' && g_get_monotonic_time () < end)
    g_usleep (1000);
  zombie = process_state (worker) == 'Z';
  if (zombie)
    {
      second_start = g_get_monotonic_time ();
      gather_group_run_async (group, NULL, keep_outcomes, &second);
      test_iterate_until ((gboolean *) &second.outcomes, 30000);
    }
  g_assert_cmpint (kill (supervisor, SIGCONT), ==, 0);
  /* Done with the watchdog: a line says all is well, and it exits without
   * sending anything (the supervisor may be gone by now: a CI run failed
   * when a watchdog sent its SIGCONT anyway). */
  g_assert_true (g_output_stream_write_all (watchdog_input, "done\n", 5, NULL, NULL, NULL));
  g_assert_true (g_output_stream_close (watchdog_input, NULL, NULL));
  g_assert_true (g_subprocess_wait_check (watchdog, NULL, &watchdog_error));
  g_assert_no_error (watchdog_error);

  g_assert_true (stopped_first);
  g_assert_nonnull (first.outcomes);
  g_assert_cmpint (gather_outcome_get_status (test_outcome (first.outcomes, 0)), ==,
                   GATHER_STATUS_TIMEOUT);
  g_assert_true (zombie);
  g_assert_nonnull (second.outcomes);
  crash = test_outcome (second.outcomes, 0);
  after = test_outcome (second.outcomes, 1);
  assert_helper_error (crash, "was killed by signal 11");
  assert_ok_string (after, "after");
  /* The crash needed a helper (the pool had only the stuck one), started
   * once the hold was over (HOLD_MAX_USEC). */
  g_assert_cmpint (gather_outcome_get_start_time (crash) - second_start, >=, 20000);

  /* Let go, the kill is reported. */
  wait_settled (stuck);
  g_assert_true (gather_outcome_get_killed (test_outcome (first.outcomes, 0)));
  g_ptr_array_unref (first.outcomes);
  g_ptr_array_unref (second.outcomes);
  g_assert_finalize_object (g_steal_pointer (&group));
  g_assert_finalize_object (g_steal_pointer (&stuck));
  g_clear_object (&pool);
  g_assert_cmpuint (count_children (), ==, 0);
  g_unlink (pidfile);
  g_rmdir (dir);
}

static void
test_isolation_garbage (void)
{
  static const char * const kinds[] = { "length", "junk", "serial", "kind", "type" };
  g_autoptr(GatherGroup) group = new_group (3);
  GPtrArray *outcomes;

  g_test_summary ("A helper that writes garbage frames is killed and its task ends with an "
                  "ERROR saying it broke the protocol; half a frame then end-of-file is a "
                  "crash; the host and the other tasks carry on");

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *parameters = g_strdup_printf ("{'kind': <'%s'>}", kinds[i]);

      add (group, "isolate-garbage", parameters, kinds[i], 0);
    }
  add (group, "isolate-garbage", "{'kind': <'eof'>}", "eof", 0);
  add (group, "isolate-echo", "{'value': <'still here'>}", "echo", 0);

  outcomes = run (group);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_test_message ("%s: %s", kinds[i], gather_outcome_get_error (test_outcome (outcomes, i))->message);
      assert_helper_error (test_outcome (outcomes, i), "broke the protocol and was killed");
    }
  assert_helper_error (test_outcome (outcomes, 0), "announces 4294967295 bytes");
  assert_helper_error (test_outcome (outcomes, 2), "for task 999999");
  assert_helper_error (test_outcome (outcomes, 3), "unknown kind 200");
  assert_helper_error (test_outcome (outcomes, 4), "HELLO frame when it was running a task");
  assert_helper_error (test_outcome (outcomes, 5), "exited with status 0");
  assert_ok_string (test_outcome (outcomes, 6), "still here");

  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_stops (void)
{
  g_autoptr(GatherGroup) group = new_group (3);
  GPtrArray *outcomes;

  g_test_summary ("A policy stop and the group's deadline stop isolated tasks like any "
                  "other; the ones that ignore it are killed");

  /* As in test_isolation_timeout_kills(): time for the cooperative one to
   * reply on a loaded machine. */
  gather_group_set_grace_period (group, 1000 * test_slowdown ());
  gather_group_set_policy (group, GATHER_POLICY_FIRST_ERROR);
  add (group, "isolate-hang", NULL, "hang", 0);
  add (group, "isolate-cooperate", "{'ms': <uint32 60000>}", "cooperate", 0);
  add (group, "isolate-crash", "{'how': <'exit'>}", "exit", 0);
  add (group, "isolate-echo", "{'value': <'never'>}", "queued", 0);

  outcomes = run (group);
  g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, 2)), ==, GATHER_STATUS_ERROR);
  g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, 0)), ==, GATHER_STATUS_CANCELLED);
  g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, 1)), ==, GATHER_STATUS_CANCELLED);
  wait_settled (group);
  g_assert_true (gather_outcome_get_killed (test_outcome (outcomes, 0)));
  g_assert_false (gather_outcome_get_killed (test_outcome (outcomes, 1)));
  finish (g_steal_pointer (&group), outcomes);

  /* Long enough for "quick" to start a helper and finish on a loaded
   * machine (ThreadSanitizer missed 100 ms). */
  group = new_group (2);
  gather_group_set_deadline (group, 1000 * test_slowdown ());
  add (group, "isolate-hang", NULL, "hang", 0);
  add (group, "isolate-echo", "{'value': <'quick'>}", "quick", 0);
  outcomes = run (group);
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 0)),
                  GATHER_ERROR, GATHER_ERROR_DEADLINE_EXCEEDED);
  assert_ok_string (test_outcome (outcomes, 1), "quick");
  wait_settled (group);
  g_assert_true (gather_outcome_get_killed (test_outcome (outcomes, 0)));
  finish (g_steal_pointer (&group), outcomes);
}

/* Three isolate-touch tasks queued on @group, with their files in @dir. */
static GPtrArray *
add_touches (GatherGroup *group,
             const char  *dir)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("touch-%u", i);

      g_ptr_array_add (paths, g_build_filename (dir, name, NULL));
      add_touch (group, g_ptr_array_index (paths, i), name);
    }

  return paths;
}

static void
test_isolation_queued_stop (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (1);
  g_autoptr(GatherGroup) group = new_group_on (pool);
  g_autofree char *dir = g_dir_make_tmp ("gather-isolation-touch-XXXXXX", NULL);
  g_autoptr(GPtrArray) paths = NULL;
  GPtrArray *outcomes;

  g_test_summary ("Requests a helper was sent behind a running task are taken back "
                  "when the run stops: none of them starts, not even once the task they "
                  "waited behind has returned");

  g_assert_nonnull (dir);
  /* The only helper runs "long"; the others are sent to it, queued. */
  gather_group_set_deadline (group, 500 * test_slowdown ());
  add (group, "isolate-cooperate", "{'ms': <uint32 60000>}", "long", 0);
  paths = add_touches (group, dir);

  outcomes = run (group);
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 0)),
                  GATHER_ERROR, GATHER_ERROR_DEADLINE_EXCEEDED);
  for (guint i = 1; i < 4; i++)
    {
      g_assert_error (gather_outcome_get_error (test_outcome (outcomes, i)),
                      GATHER_ERROR, GATHER_ERROR_DEADLINE_EXCEEDED);
      g_assert_cmpint (gather_outcome_get_start_time (test_outcome (outcomes, i)), ==, 0);
    }
  wait_settled (group);
  g_clear_pointer (&outcomes, g_ptr_array_unref);
  g_assert_finalize_object (g_steal_pointer (&group));

  /* The helper reads what it was sent in order: once it answered a task
   * sent after them, it has passed them all by. */
  group = new_group_on (pool);
  add (group, "isolate-echo", "{'value': <'after'>}", "after", 0);
  outcomes = run (group);
  assert_ok_string (test_outcome (outcomes, 0), "after");
  for (guint i = 0; i < paths->len; i++)
    g_assert_cmpuint (count_touches (g_ptr_array_index (paths, i)), ==, 0);

  g_clear_object (&pool);
  finish (g_steal_pointer (&group), outcomes);
  test_remove_tree (dir);
}

static void
test_isolation_queued_kill (void)
{
  g_autoptr(GatherGroup) group = new_group (1);
  g_autofree char *dir = g_dir_make_tmp ("gather-isolation-touch-XXXXXX", NULL);
  g_autoptr(GPtrArray) paths = NULL;
  GPtrArray *outcomes;

  g_test_summary ("A helper killed for a task that ignored its timeout takes nothing "
                  "else with it: the requests queued behind the task run once each, "
                  "elsewhere");

  g_assert_nonnull (dir);
  add (group, "isolate-hang", NULL, "hang", 200 * test_slowdown ());
  paths = add_touches (group, dir);

  outcomes = run (group);
  g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, 0)), ==, GATHER_STATUS_TIMEOUT);
  for (guint i = 0; i < paths->len; i++)
    {
      assert_ok_string (test_outcome (outcomes, i + 1), "touched");
      g_assert_cmpuint (count_touches (g_ptr_array_index (paths, i)), ==, 1);
    }
  wait_settled (group);
  g_assert_true (gather_outcome_get_killed (test_outcome (outcomes, 0)));

  finish (g_steal_pointer (&group), outcomes);
  test_remove_tree (dir);
}

static void
test_isolation_queued_broken (void)
{
  g_autoptr(GatherGroup) group = new_group (1);
  g_autofree char *dir = g_dir_make_tmp ("gather-isolation-touch-XXXXXX", NULL);
  g_autoptr(GPtrArray) paths = NULL;
  GPtrArray *outcomes;

  g_test_summary ("A helper that breaks the protocol while it runs a request it was sent "
                  "queued: that request ends with the helper's error and never runs "
                  "again; the requests it had not started run once on another helper");

  g_assert_nonnull (dir);
  /* It replies at once, and sends junk 100 ms later, while it runs "long",
   * queued behind it; the touches wait behind "long". */
  add (group, "isolate-garbage", "{'kind': <'junk-later'>}", "junk", 0);
  add (group, "isolate-cooperate", "{'ms': <uint32 60000>}", "long", 0);
  paths = add_touches (group, dir);

  outcomes = run (group);
  assert_ok_string (test_outcome (outcomes, 0), "junk later");
  assert_helper_error (test_outcome (outcomes, 1), "broke the protocol and was killed");
  for (guint i = 0; i < paths->len; i++)
    {
      assert_ok_string (test_outcome (outcomes, i + 2), "touched");
      g_assert_cmpuint (count_touches (g_ptr_array_index (paths, i)), ==, 1);
    }

  g_clear_pointer (&outcomes, g_ptr_array_unref);
  wait_settled (group);
  g_assert_finalize_object (g_steal_pointer (&group));
  g_assert_cmpuint (count_children (), ==, 0);
  test_remove_tree (dir);
  g_clear_pointer (&paths, g_ptr_array_unref);

  /* Half a header, then its own reply: the host finds the garbage only
   * when the reply comes, and the helper has most likely taken the next
   * request by then. Whichever it was, nothing runs twice. */
  g_assert_true (g_mkdir (dir, 0700) == 0);
  group = new_group (1);
  add (group, "isolate-garbage", "{'kind': <'half'>}", "half", 0);
  paths = add_touches (group, dir);

  outcomes = run (group);
  assert_helper_error (test_outcome (outcomes, 0), "broke the protocol and was killed");
  for (guint i = 0; i < paths->len; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i + 1);
      guint runs = count_touches (g_ptr_array_index (paths, i));

      g_test_message ("touch-%u: ran %u time(s): %s", i, runs,
                      gather_outcome_get_error (outcome) != NULL
                      ? gather_outcome_get_error (outcome)->message : "ok");
      if (gather_outcome_get_status (outcome) == GATHER_STATUS_OK)
        g_assert_cmpuint (runs, ==, 1);
      else
        {
          assert_helper_error (outcome, "was killed");
          g_assert_cmpuint (runs, <=, 1);
        }
    }

  finish (g_steal_pointer (&group), outcomes);
  test_remove_tree (dir);
}

static void
test_isolation_queued_steal (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  GPtrArray *outcomes;
  gint64 long_finish;

  g_test_summary ("Requests queued behind a long task move to a helper that falls idle, "
                  "instead of waiting for the long one");

  add (group, "isolate-cooperate", "{'ms': <uint32 3000>}", "long", 0);
  for (guint i = 0; i < 6; i++)
    add (group, "isolate-echo", "{'value': <'quick'>}", NULL, 0);

  outcomes = run (group);
  g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, 0)), ==, GATHER_STATUS_OK);
  long_finish = gather_outcome_get_finish_time (test_outcome (outcomes, 0));
  for (guint i = 1; i < outcomes->len; i++)
    {
      assert_ok_string (test_outcome (outcomes, i), "quick");
      g_assert_cmpint (gather_outcome_get_finish_time (test_outcome (outcomes, i)), <, long_finish);
    }

  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_per_task (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  g_autoptr(GError) error = NULL;
  GPtrArray *outcomes;
  guint isolated;
  guint local;

  g_test_summary ("A task's own choice overrides the group's isolate-workers, both ways");

  gather_group_set_isolate_workers (group, FALSE);
  g_assert_false (gather_group_get_isolate_workers (group));
  isolated = add (group, "isolate-pid", NULL, "isolated", 0);
  local = add (group, "isolate-pid", NULL, "local", 0);
  g_assert_true (gather_group_set_task_isolated (group, isolated, TRUE, &error));
  g_assert_no_error (error);
  outcomes = run (group);
  g_assert_cmpuint (g_variant_get_uint64 (gather_outcome_get_result (test_outcome (outcomes, isolated))), !=,
                    (guint64) getpid ());
  g_assert_cmpuint (g_variant_get_uint64 (gather_outcome_get_result (test_outcome (outcomes, local))), ==,
                    (guint64) getpid ());
  finish (g_steal_pointer (&group), outcomes);

  group = new_group (2);
  g_assert_true (gather_group_get_isolate_workers (group));
  isolated = add (group, "isolate-pid", NULL, "isolated", 0);
  local = add (group, "isolate-pid", NULL, "local", 0);
  g_assert_true (gather_group_set_task_isolated (group, local, FALSE, &error));
  g_assert_no_error (error);
  {
    /* The task objects say which ran where: a worker task until it starts
     * in a helper. */
    GListModel *model = gather_group_get_tasks (group);
    g_autoptr(GatherTask) isolated_task = g_list_model_get_item (model, isolated);
    g_autoptr(GatherTask) local_task = g_list_model_get_item (model, local);

    g_assert_cmpint (gather_task_get_kind (isolated_task), ==, GATHER_TASK_KIND_WORKER);
    outcomes = run (group);
    g_assert_cmpint (gather_task_get_kind (isolated_task), ==, GATHER_TASK_KIND_ISOLATED);
    g_assert_cmpint (gather_task_get_kind (local_task), ==, GATHER_TASK_KIND_WORKER);
  }
  g_assert_cmpuint (g_variant_get_uint64 (gather_outcome_get_result (test_outcome (outcomes, isolated))), !=,
                    (guint64) getpid ());
  g_assert_cmpuint (g_variant_get_uint64 (gather_outcome_get_result (test_outcome (outcomes, local))), ==,
                    (guint64) getpid ());
  finish (g_steal_pointer (&group), outcomes);
}

static void
per_task_late_finished (GatherGroup   *group,
                        GatherOutcome *outcome,
                        gpointer       user_data)
{
  guint *late = user_data;
  g_autoptr(GError) error = NULL;

  if (gather_outcome_get_index (outcome) != 0)
    return;

  /* The first task has started (and ended): too late to change. */
  g_assert_false (gather_group_set_task_isolated (group, 0, TRUE, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED);
  test_assert_message_has (error, "Task 0");
  g_clear_error (&error);

  /* One added now can still change, until its turn comes. */
  *late = add (group, "isolate-pid", NULL, "late", 0);
  g_assert_true (gather_group_set_task_isolated (group, *late, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (gather_group_set_task_limits (group, *late, 256 << 20, 0, &error));
  g_assert_no_error (error);
  gather_group_close (group);
}

static void
test_isolation_per_task_late (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  guint late = G_MAXUINT;
  guint local;
  GPtrArray *outcomes;

  g_test_summary ("In an open group, a task added while it runs can be isolated until "
                  "it starts; one that started cannot change");

  gather_group_set_isolate_workers (group, FALSE);
  gather_group_set_open (group, TRUE);
  local = add (group, "isolate-pid", NULL, "local", 0);
  g_signal_connect (group, "task-finished", G_CALLBACK (per_task_late_finished), &late);
  outcomes = run (group);

  g_assert_cmpuint (outcomes->len, ==, 2);
  g_assert_cmpuint (late, ==, 1);
  g_assert_cmpuint (g_variant_get_uint64 (gather_outcome_get_result (test_outcome (outcomes, local))), ==,
                    (guint64) getpid ());
  g_assert_cmpuint (g_variant_get_uint64 (gather_outcome_get_result (test_outcome (outcomes, late))), !=,
                    (guint64) getpid ());
  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_too_large (void)
{
  g_autoptr(GatherGroup) group = new_group (1);
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
  gsize size = 17 * 1024 * 1024;
  char *big = g_malloc (size + 1);
  GPtrArray *outcomes;
  guint index;

  g_test_summary ("Parameters too large to send end their task with an error; the task "
                  "queued behind it on the same helper still runs");

  memset (big, 'x', size);
  big[size] = '\0';
  g_variant_builder_add (builder, "{sv}", "value", g_variant_new_take_string (big));
  index = gather_group_add_worker_task (group, "isolate-echo", g_variant_builder_end (builder),
                                        "big", 0, NULL);
  g_assert_cmpuint (index, ==, 0);
  add (group, "isolate-echo", "{'value': <'after'>}", "after", 0);

  outcomes = run (group);
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 0)),
                  GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS);
  test_assert_message_has (gather_outcome_get_error (test_outcome (outcomes, 0)), "“big”");
  assert_ok_string (test_outcome (outcomes, 1), "after");
  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_large_requests (void)
{
  GatherPool *pool = gather_pool_new (2);
  GatherGroup *warm = new_group_on (pool);
  g_autoptr(GatherGroup) group = NULL;
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *outcomes;
  const guint n_tasks = 12;

  g_test_summary ("Requests far larger than a socket takes at once (0.5 to 1.5 MiB) reach "
                  "their helpers whole and in order, written by the owner (to helpers "
                  "already idle, and queued behind their tasks) and by gather's helpers "
                  "thread; each result is its own task's");

  /* Two helpers idle first, so that the owner writes requests itself. */
  add (warm, "isolate-echo", "{'value': <'warm'>}", "warm 0", 0);
  add (warm, "isolate-echo", "{'value': <'warm'>}", "warm 1", 0);
  outcomes = run (warm);
  assert_ok_string (test_outcome (outcomes, 0), "warm");
  g_ptr_array_unref (outcomes);
  wait_settled (warm);
  g_assert_finalize_object (warm);

  /* The group holds the pool, and its helpers, from now on. */
  group = new_group_on (pool);
  g_object_unref (pool);
  for (guint i = 0; i < n_tasks; i++)
    {
      gsize size = (1 + i % 3) * 512 * 1024 + i;
      char *value = g_malloc (size + 1);
      GVariantBuilder builder;
      g_autoptr(GError) error = NULL;
      g_autofree char *label = g_strdup_printf ("large %u", i);

      /* Each task's bytes differ, at its start and every 4 KiB. */
      for (gsize j = 0; j < size; j += 4096)
        memset (value + j, 'a' + (i + j / 4096) % 26, MIN (4096, size - j));
      value[size] = '\0';
      g_ptr_array_add (values, value);

      g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&builder, "{sv}", "value", g_variant_new_string (value));
      g_assert_cmpuint (gather_group_add_worker_task (group, "isolate-echo",
                                                      g_variant_builder_end (&builder),
                                                      label, 0, &error), ==, i);
      g_assert_no_error (error);
    }

  outcomes = run (group);
  g_assert_cmpuint (outcomes->len, ==, n_tasks);
  for (guint i = 0; i < n_tasks; i++)
    assert_ok_string (test_outcome (outcomes, i), g_ptr_array_index (values, i));
  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_retries (void)
{
  g_autoptr(GatherGroup) group = new_group (1);
  g_autoptr(GatherRetryPolicy) policy = gather_retry_policy_new (3, GATHER_RETRY_FLAGS_ERROR, 1, 1);
  GPtrArray *outcomes;

  g_test_summary ("An isolated task that fails is retried in a helper as the group's retry "
                  "policy says; each attempt's request is its own, and none is leaked");

  gather_group_set_retry_policy (group, policy);
  add (group, "isolate-crash", "{'how': <'nowhere'>}", "fails", 0);
  add (group, "isolate-echo", "{'value': <'fine'>}", "fine", 0);

  outcomes = run (group);
  g_assert_cmpint (gather_outcome_get_status (test_outcome (outcomes, 0)), ==, GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 0)),
                  G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  test_assert_message_has (gather_outcome_get_error (test_outcome (outcomes, 0)), "“nowhere”");
  g_assert_cmpuint (gather_outcome_get_attempts (test_outcome (outcomes, 0)), ==, 3);
  assert_ok_string (test_outcome (outcomes, 1), "fine");
  g_assert_cmpuint (gather_outcome_get_attempts (test_outcome (outcomes, 1)), ==, 1);
  finish (g_steal_pointer (&group), outcomes);
}

/* Makes the shell script @text, in @dir, the helper program that pools
 * started from now on run (the caller restores GATHER_HELPER). */
static void
use_fake_helper (const char *dir,
                 const char *text)
{
  g_autofree char *script = g_build_filename (dir, "helper.sh", NULL);

  g_assert_nonnull (dir);
  g_assert_true (g_file_set_contents (script, text, -1, NULL));
  g_assert_cmpint (g_chmod (script, 0755), ==, 0);
  g_setenv ("GATHER_HELPER", script, TRUE);
}

static void
test_isolation_broken_hello (void)
{
  g_autoptr(GatherGroup) group = new_group (1);
  g_autoptr(GError) error = NULL;
  g_autofree char *saved = g_strdup (g_getenv ("GATHER_HELPER"));
  g_autofree char *dir = g_dir_make_tmp ("gather-isolation-hello-XXXXXX", NULL);
  g_autofree char *log = g_build_filename (dir, "started", NULL);
  g_autofree char *text = g_strdup_printf ("#!/bin/sh\necho x >> '%s'\nprintf 'JUNKJUNKJUNK' >&3\n"
                                           "exec sleep 100\n", log);
  g_autofree char *contents = NULL;
  GPtrArray *outcomes;
  gint64 start;

  g_test_summary ("A helper program that says something else than hello is killed, counts "
                  "as failing to start (no new one in a loop), and the task waiting for it "
                  "ends with an error; the group finishes without a deadline");

  use_fake_helper (dir, text);
  add (group, "isolate-echo", "{'value': <'x'>}", "waits", 0);

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_setenv ("GATHER_HELPER", saved, TRUE);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC * test_slowdown ());
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 0)), GATHER_ERROR, GATHER_ERROR_HELPER);
  test_assert_message_has (gather_outcome_get_error (test_outcome (outcomes, 0)), "before it was ready");
  finish (g_steal_pointer (&group), outcomes);

  /* One start, not one after another. */
  g_assert_true (g_file_get_contents (log, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "x\n");
  test_remove_tree (dir);
}

static void
test_isolation_silent_helper (void)
{
  g_autoptr(GatherGroup) group = new_group (1);
  g_autoptr(GError) error = NULL;
  g_autofree char *saved = g_strdup (g_getenv ("GATHER_HELPER"));
  g_autofree char *dir = g_dir_make_tmp ("gather-isolation-silent-XXXXXX", NULL);
  GPtrArray *outcomes;
  gint64 start;

  g_test_summary ("A helper that never says hello does not outlive its pool: when the "
                  "group and its pool go while it starts, it is killed");

  use_fake_helper (dir, "#!/bin/sh\nexec sleep 100\n");
  gather_group_set_deadline (group, 200);
  add (group, "isolate-echo", "{'value': <'x'>}", "waits", 0);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_setenv ("GATHER_HELPER", saved, TRUE);
  g_assert_no_error (error);
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 0)),
                  GATHER_ERROR, GATHER_ERROR_DEADLINE_EXCEEDED);

  /* The pool goes with the group once the run has let go of its record
   * (the main loop runs meanwhile, as in an application), well before the
   * helper's start deadline (10 s), and the helper with it. */
  g_clear_pointer (&outcomes, g_ptr_array_unref);
  start = g_get_monotonic_time ();
  {
    GatherGroup *weak = g_steal_pointer (&group);
    guint tick = g_timeout_add (5, wake, NULL);

    g_object_add_weak_pointer (G_OBJECT (weak), (gpointer *) &weak);
    g_object_unref (weak);
    while ((weak != NULL || count_children () > 0) &&
           g_get_monotonic_time () - start < 5 * G_USEC_PER_SEC * test_slowdown ())
      g_main_context_iteration (NULL, TRUE);
    g_source_remove (tick);
    g_assert_null (weak);
  }
  g_assert_cmpuint (count_children (), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC * test_slowdown ());
  test_remove_tree (dir);
}

/* Whether process @pid is gone, reaped. */
static gboolean
process_gone (guint64 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GUINT64_FORMAT, pid);

  return !g_file_test (path, G_FILE_TEST_EXISTS);
}

static void
test_isolation_idle_dies (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (1);
  gboolean waited = TRUE;
  guint n_blamed = 0;

  g_test_summary ("A helper that dies while idle is not given the next task once it is "
                  "gone; given it while it dies, the task ends with an error saying so, "
                  "and the host carries on");

  for (guint round = 0; round < 40; round++)
    {
      g_autoptr(GatherGroup) group = gather_group_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) outcomes = NULL;
      GatherOutcome *outcome;
      guint64 pid;
      pid_t supervisor;

      gather_group_set_pool (group, pool);
      gather_group_set_registry (group, registry);
      gather_group_set_isolate_workers (group, TRUE);
      add (group, "isolate-pid", NULL, "pid", 0);
      outcomes = test_run_and_wait (group, NULL, 10000, &error);
      g_assert_no_error (error);
      outcome = test_outcome (outcomes, 0);

      if (gather_outcome_get_status (outcome) != GATHER_STATUS_OK)
        {
          /* Given to the helper killed last round as it died. */
          g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR, GATHER_ERROR_HELPER);
          test_assert_message_has (gather_outcome_get_error (outcome), "signal 9");
          g_assert_false (waited);
          n_blamed++;
          waited = TRUE;
          continue;
        }

      /* Its helper is idle now: kill it, and run the next task at once or
       * once it is gone. Gone means its supervisor reaped: the worker
       * process vanishes first, and the host may not have heard of it yet
       * (a loaded machine showed that window). The supervisor reports the
       * worker's death before it exits, so by the time the host has reaped
       * it the helper has ended. */
      pid = g_variant_get_uint64 (gather_outcome_get_result (outcome));
      supervisor = parent_of ((pid_t) pid);
      g_assert_cmpint (kill ((pid_t) pid, SIGKILL), ==, 0);
      waited = round % 2 == 0;
      if (waited)
        {
          gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC * test_slowdown ();

          while (!process_gone (supervisor) && g_get_monotonic_time () < end)
            g_usleep (1000);
          g_assert_true (process_gone (pid));
          g_assert_true (process_gone (supervisor));
        }
    }
  g_test_message ("%u tasks given to a helper as it died", n_blamed);
}

/* A worker the program defines: it has no plugin file. */
#define TEST_TYPE_LOCAL_WORKER (test_local_worker_get_type ())
G_DECLARE_FINAL_TYPE (TestLocalWorker, test_local_worker, TEST, LOCAL_WORKER, GObject)

struct _TestLocalWorker
{
  GObject parent_instance;
};

static GVariant *
test_local_worker_run (GatherWorker  *worker,
                       GVariant      *parameters,
                       GCancellable  *cancellable,
                       GError       **error)
{
  return g_variant_new_string ("local");
}

static void
test_local_worker_iface_init (GatherWorkerInterface *iface)
{
  iface->name = "local";
  iface->parameter_type = "a{sv}";
  iface->result_type = "s";
  iface->run = test_local_worker_run;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestLocalWorker, test_local_worker, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GATHER_TYPE_WORKER, test_local_worker_iface_init))

static void
test_local_worker_class_init (TestLocalWorkerClass *klass)
{
}

static void
test_local_worker_init (TestLocalWorker *self)
{
}

static GVariant *
thread_body (GCancellable  *cancellable,
             gpointer       user_data,
             GError       **error)
{
  return g_variant_new_string ("thread");
}

static void
async_start (GatherCompletion *completion,
             GCancellable     *cancellable,
             gpointer          user_data)
{
  gather_completion_return_value (completion, g_variant_new_string ("async"));
  gather_completion_unref (completion);
}

static void
test_isolation_not_isolatable (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  g_autoptr(GatherRegistry) own = gather_registry_new ();
  g_autoptr(GatherWorker) local = g_object_new (TEST_TYPE_LOCAL_WORKER, NULL);
  g_autoptr(GError) error = NULL;
  GPtrArray *outcomes;
  guint thread;
  guint async;
  guint plugin;
  guint program;

  g_test_summary ("Asking to isolate a thread body, an async task or a worker the program "
                  "added is a clear GError, as are limits on them, a bad index and a started "
                  "group; a group that isolates workers gives a program's worker an ERROR");

  g_assert_true (gather_registry_add_worker (own, local, &error));
  g_assert_no_error (error);
  /* A plugin's worker, as loaded in this process. */
  g_assert_true (gather_registry_add_worker (own, gather_registry_lookup_worker (registry, "isolate-echo"),
                                             &error));
  g_assert_no_error (error);
  gather_group_set_registry (group, own);

  thread = gather_group_add_task (group, "thread", 0, thread_body, NULL, NULL, &error);
  async = gather_group_add_async_task (group, "async", 0, async_start, NULL, NULL, &error);
  program = add (group, "local", NULL, "program", 0);
  plugin = add (group, "isolate-echo", "{'value': <'plugin'>}", "plugin", 0);
  g_assert_no_error (error);

  g_assert_false (gather_group_set_task_isolated (group, thread, TRUE, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE);
  test_assert_message_has (error, "“thread”");
  g_clear_error (&error);
  g_assert_false (gather_group_set_task_limits (group, thread, 1 << 20, 0, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE);
  g_clear_error (&error);
  g_assert_false (gather_group_set_task_isolated (group, async, TRUE, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE);
  test_assert_message_has (error, "asynchronous operation");
  g_clear_error (&error);
  g_assert_false (gather_group_set_task_isolated (group, program, TRUE, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE);
  test_assert_message_has (error, "“local”");
  g_clear_error (&error);
  g_assert_false (gather_group_set_task_isolated (group, 99, TRUE, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_FAILED);
  g_clear_error (&error);

  /* Limits need a helper; a task that must stay here cannot have them. */
  g_assert_true (gather_group_set_task_isolated (group, plugin, FALSE, &error));
  g_assert_false (gather_group_set_task_limits (group, plugin, 1 << 20, 0, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE);
  g_clear_error (&error);
  g_assert_true (gather_group_set_task_isolated (group, plugin, TRUE, &error));
  g_assert_true (gather_group_set_task_limits (group, plugin, 64 << 20, 10, &error));
  g_assert_false (gather_group_set_task_isolated (group, plugin, FALSE, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE);
  g_clear_error (&error);

  outcomes = run (group);
  assert_ok_string (test_outcome (outcomes, thread), "thread");
  assert_ok_string (test_outcome (outcomes, async), "async");
  assert_ok_string (test_outcome (outcomes, plugin), "plugin");
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, program)),
                  GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE);
  test_assert_message_has (gather_outcome_get_error (test_outcome (outcomes, program)), "“program”");

  g_assert_false (gather_group_set_task_isolated (group, plugin, TRUE, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED);
  g_clear_error (&error);

  finish (g_steal_pointer (&group), outcomes);
}

static void
test_isolation_registry (void)
{
  g_autoptr(GatherRegistry) isolated = gather_registry_new ();
  g_autoptr(GPtrArray) failures = NULL;
  g_autoptr(GPtrArray) plugins = NULL;
  g_autoptr(GPtrArray) parameters = NULL;
  g_autoptr(GatherGroup) group = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = g_build_filename (plugin_dir, "gather-isolate.so", NULL);
  g_autofree char *aborting = g_build_filename (plugin_dir, "gather-abort-ctor.so", NULL);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) empty = NULL;
  GatherPluginFailure *failure = NULL;
  GatherWorker *echo;
  GPtrArray *outcomes;
  guint index;

  g_test_summary ("An isolated registry loads its plugins in a helper: one that aborts as "
                  "it loads is a failure saying how, the others are listed, and their "
                  "workers run only in helpers");

  gather_registry_set_isolated (isolated, TRUE);
  g_assert_true (gather_registry_get_isolated (isolated));
  gather_registry_add_search_path (isolated, plugin_dir);
  gather_registry_load (isolated);

  failures = gather_registry_list_failures (isolated);
  for (guint i = 0; i < failures->len; i++)
    {
      GatherPluginFailure *each = g_ptr_array_index (failures, i);

      g_test_message ("Failure: %s", gather_plugin_failure_get_error (each)->message);
      if (g_str_equal (gather_plugin_failure_get_path (each), aborting))
        failure = each;
    }
  g_assert_cmpuint (failures->len, ==, 1);
  g_assert_nonnull (failure);
  g_assert_error (gather_plugin_failure_get_error (failure), GATHER_ERROR, GATHER_ERROR_PLUGIN);
  test_assert_message_has (gather_plugin_failure_get_error (failure), "killed by signal 6");

  plugins = gather_registry_list_plugins (isolated);
  g_assert_cmpuint (plugins->len, ==, 0);

  echo = gather_registry_lookup_worker (isolated, "isolate-echo");
  g_assert_nonnull (echo);
  g_assert_cmpstr (gather_worker_get_plugin_path (echo), ==, expected);
  g_assert_cmpstr (gather_worker_get_result_type (echo), ==, "s");
  parameters = gather_worker_list_parameters (echo);
  g_assert_cmpuint (parameters->len, ==, 1);
  g_assert_cmpstr (((GatherParameter *) g_ptr_array_index (parameters, 0))->name, ==, "value");

  result = gather_worker_run (echo, g_variant_new_parsed ("{'value': <'here'>}"), NULL, &error);
  g_assert_null (result);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE);
  g_clear_error (&error);
  empty = g_variant_ref_sink (g_variant_new_parsed ("@a{sv} {}"));
  g_assert_false (gather_worker_check_parameters (echo, empty, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS);
  g_clear_error (&error);

  /* The group does not ask: its tasks are isolated anyway. */
  group = new_group (2);
  gather_group_set_isolate_workers (group, FALSE);
  gather_group_set_registry (group, isolated);
  add (group, "isolate-echo", "{'value': <'there'>}", "echo", 0);
  index = add (group, "isolate-pid", NULL, "pid", 0);
  g_assert_false (gather_group_set_task_isolated (group, index, FALSE, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE);
  g_clear_error (&error);
  outcomes = run (group);
  assert_ok_string (test_outcome (outcomes, 0), "there");
  g_assert_cmpuint (g_variant_get_uint64 (gather_outcome_get_result (test_outcome (outcomes, 1))), !=,
                    (guint64) getpid ());
  finish (g_steal_pointer (&group), outcomes);
  g_assert_cmpuint (count_children (), ==, 0);
}

static void
test_isolation_no_helper (void)
{
  g_autoptr(GatherGroup) group = new_group (2);
  g_autofree char *saved = g_strdup (g_getenv ("GATHER_HELPER"));
  GPtrArray *outcomes;

  g_test_summary ("When the helper program cannot be started, isolated tasks end with an "
                  "ERROR that says why; the others run");

  g_setenv ("GATHER_HELPER", "/nonexistent/gather-helper", TRUE);
  add (group, "isolate-echo", "{'value': <'x'>}", "first", 0);
  add (group, "isolate-echo", "{'value': <'y'>}", "second", 0);
  gather_group_add_task (group, "thread", 0, thread_body, NULL, NULL, NULL);

  outcomes = run (group);
  g_setenv ("GATHER_HELPER", saved, TRUE);
  for (guint i = 0; i < 2; i++)
    {
      assert_helper_error (test_outcome (outcomes, i), "/nonexistent/gather-helper");
      assert_helper_error (test_outcome (outcomes, i), "No such file or directory");
    }
  assert_ok_string (test_outcome (outcomes, 2), "thread");

  finish (g_steal_pointer (&group), outcomes);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *asan = NULL;
  g_autofree char *tsan = NULL;
  int ret;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  /* Helpers are built with the sanitizers too: let the crashes these
   * tests cause be plain signals and exits, and let allocations past a
   * limit fail as they would without them. */
  asan = g_strconcat (g_getenv ("ASAN_OPTIONS") ? g_getenv ("ASAN_OPTIONS") : "",
                      ":handle_segv=0:handle_abort=0:handle_sigbus=0:detect_leaks=0"
                      ":allocator_may_return_null=1", NULL);
  g_setenv ("ASAN_OPTIONS", asan, TRUE);
  tsan = g_strconcat (g_getenv ("TSAN_OPTIONS") ? g_getenv ("TSAN_OPTIONS") : "",
                      ":handle_segv=0:handle_abort=0:handle_sigbus=0"
                      ":allocator_may_return_null=1", NULL);
  g_setenv ("TSAN_OPTIONS", tsan, TRUE);

  plugin_dir = g_dir_make_tmp ("gather-isolation-plugins-XXXXXX", NULL);
  g_assert_nonnull (plugin_dir);
  g_assert_cmpint (g_chmod (plugin_dir, 0700), ==, 0);
  install_fixture ("fixture-isolate.so", "gather-isolate.so");

  registry = gather_registry_new ();
  gather_registry_add_search_path (registry, plugin_dir);
  gather_registry_load (registry);
  /* Only the isolated registry may see this one: it aborts as it loads. */
  install_fixture ("fixture-abort-ctor.so", "gather-abort-ctor.so");

  g_test_add_func ("/gather/isolation/results", test_isolation_results);
  g_test_add_func ("/gather/isolation/crashes", test_isolation_crashes);
  g_test_add_func ("/gather/isolation/declaration-changed", test_isolation_declaration_changed);
  g_test_add_func ("/gather/isolation/parameters-of-any-type", test_isolation_parameters_of_any_type);
  g_test_add_func ("/gather/isolation/timeout-kills", test_isolation_timeout_kills);
  g_test_add_func ("/gather/isolation/kill-on-time", test_isolation_kill_on_time);
  g_test_add_func ("/gather/isolation/grandchildren", test_isolation_grandchildren);
  g_test_add_func ("/gather/isolation/memory-limit", test_isolation_memory_limit);
  g_test_add_func ("/gather/isolation/cpu-limit", test_isolation_cpu_limit);
  g_test_add_func ("/gather/isolation/killed-worker", test_isolation_killed_worker);
  g_test_add_func ("/gather/isolation/killed-supervisor", test_isolation_killed_supervisor);
  g_test_add_func ("/gather/isolation/kill-unreported", test_isolation_kill_unreported);
  g_test_add_func ("/gather/isolation/scheduling", test_isolation_scheduling);
  g_test_add_func ("/gather/isolation/garbage", test_isolation_garbage);
  g_test_add_func ("/gather/isolation/stops", test_isolation_stops);
  g_test_add_func ("/gather/isolation/queued-stop", test_isolation_queued_stop);
  g_test_add_func ("/gather/isolation/queued-kill", test_isolation_queued_kill);
  g_test_add_func ("/gather/isolation/queued-steal", test_isolation_queued_steal);
  g_test_add_func ("/gather/isolation/queued-broken", test_isolation_queued_broken);
  g_test_add_func ("/gather/isolation/per-task", test_isolation_per_task);
  g_test_add_func ("/gather/isolation/per-task-late", test_isolation_per_task_late);
  g_test_add_func ("/gather/isolation/too-large", test_isolation_too_large);
  g_test_add_func ("/gather/isolation/large-requests", test_isolation_large_requests);
  g_test_add_func ("/gather/isolation/retries", test_isolation_retries);
  g_test_add_func ("/gather/isolation/broken-hello", test_isolation_broken_hello);
  g_test_add_func ("/gather/isolation/silent-helper", test_isolation_silent_helper);
  g_test_add_func ("/gather/isolation/idle-dies", test_isolation_idle_dies);
  g_test_add_func ("/gather/isolation/not-isolatable", test_isolation_not_isolatable);
  g_test_add_func ("/gather/isolation/registry", test_isolation_registry);
  g_test_add_func ("/gather/isolation/no-helper", test_isolation_no_helper);

  ret = g_test_run ();

  g_clear_object (&registry);
  test_remove_tree (plugin_dir);
  g_free (plugin_dir);

  return ret;
}
