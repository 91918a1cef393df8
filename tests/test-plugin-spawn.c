/* test-plugin-spawn.c: the "spawn" worker.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-util.h"

#define assert_status(outcome, expected) \
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, (expected))

/* Loaded once: a plugin file name can only be loaded once per process. */
static GatherRegistry *registry;

/* Writes the shell's pid to $1, then becomes a long sleep with that pid. */
#define SLEEPER_SCRIPT "echo $$ > \"$1\"; exec sleep 30"

static GatherOutcome *
run_spawn (GVariant *parameters,
           guint     timeout_msec)
{
  return test_run_worker (registry, "spawn", parameters, timeout_msec);
}

/* Asserts that @outcome is a success and returns its result. */
static GVariant *
assert_ok (GatherOutcome *outcome)
{
  GVariant *result;

  g_assert_no_error (gather_outcome_get_error (outcome));
  assert_status (outcome, GATHER_STATUS_OK);
  result = gather_outcome_get_result (outcome);
  g_assert_nonnull (result);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "a{sv}");

  return result;
}

static gint32
lookup_int (GVariant   *result,
            const char *key)
{
  gint32 value = 0;

  g_assert_true (g_variant_lookup (result, key, "i", &value));

  return value;
}

static gboolean
lookup_bool (GVariant   *result,
             const char *key)
{
  gboolean value = FALSE;

  g_assert_true (g_variant_lookup (result, key, "b", &value));

  return value;
}

static const char *
lookup_string (GVariant   *result,
               const char *key)
{
  const char *value = NULL;

  g_assert_true (g_variant_lookup (result, key, "&s", &value));
  g_assert_true (g_utf8_validate (value, -1, NULL));

  return value;
}

/* Asserts that the untruncated run of @result exited with @exit_status. */
static void
assert_exited (GVariant *result,
               gint32    exit_status)
{
  g_assert_cmpint (lookup_int (result, "exit-status"), ==, exit_status);
  g_assert_cmpint (lookup_int (result, "signal"), ==, 0);
  g_assert_false (lookup_bool (result, "stdout-truncated"));
  g_assert_false (lookup_bool (result, "stderr-truncated"));
}

static char *
make_tmp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("gather-spawn-XXXXXX", &error);

  g_assert_no_error (error);

  return dir;
}

/* Reads the pid a SLEEPER_SCRIPT wrote. */
static pid_t
read_pid_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  guint64 pid = 0;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_strchomp (contents);
  g_ascii_string_to_unsigned (contents, 10, 2, G_MAXINT, &pid, &error);
  g_assert_no_error (error);

  return (pid_t) pid;
}

/* Whether @pid is a zombie: dead, and waiting for a parent that is not
 * ours (a grandchild is reparented to whatever reaps orphans here). */
static gboolean
is_zombie (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *end;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return FALSE;
  end = strrchr (stat, ')');

  return end != NULL && end[1] == ' ' && end[2] == 'Z';
}

/* Asserts that @pid, a grandchild, is dead: gone, or a zombie. */
static void
assert_grandchild_dead (pid_t pid)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC * test_slowdown ();

  while (g_get_monotonic_time () < end)
    {
      if ((kill (pid, 0) != 0 && errno == ESRCH) || is_zombie (pid))
        return;
      g_usleep (10 * 1000);
    }

  g_error ("Process %d, started by a spawn task, is still running", (int) pid);
}

/* Asserts that @pid is gone and reaped: a zombie still answers kill(). */
static void
assert_process_gone (pid_t pid)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC * test_slowdown ();
  int saved_errno = 0;

  while (g_get_monotonic_time () < end)
    {
      if (kill (pid, 0) != 0)
        {
          saved_errno = errno;
          break;
        }
      g_usleep (10 * 1000);
    }

  g_assert_cmpint (saved_errno, ==, ESRCH);
}

/* A group with the spawn registry whose grace period allows for a slow
 * test setup and a loaded machine (100 ms did not), so that "abandoned"
 * means the worker did not return promptly rather than that the machine
 * was slow; it is still far shorter than the 30 s the commands want. */
static GatherGroup *
new_group (void)
{
  GatherGroup *group = gather_group_new ();

  gather_group_set_registry (group, registry);
  gather_group_set_grace_period (group, MAX (gather_group_get_grace_period (group),
                                             1000 * test_slowdown ()));

  return group;
}

typedef struct
{
  GCancellable *cancellable;
  const char   *pid_file;
} CancelWhenRunning;

/* Polled: cancels once the command has written its pid, so runs. */
static gboolean
cancel_when_running (gpointer data)
{
  CancelWhenRunning *cancel = data;
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (cancel->pid_file, &contents, NULL, NULL) ||
      strchr (contents, '\n') == NULL)
    return G_SOURCE_CONTINUE;

  g_cancellable_cancel (cancel->cancellable);

  return G_SOURCE_REMOVE;
}

/* Runs SLEEPER_SCRIPT, with @stdin_text if not NULL, until the task's
 * @timeout_msec or, if that is 0, until the command has written its pid,
 * when the run's cancellable is cancelled. Asserts that it ended promptly
 * with @status, and that the child is gone. A timeout must leave the
 * shell time to write its pid on a loaded machine. */
static void
assert_sleeper_stopped (const char   *stdin_text,
                        guint         timeout_msec,
                        GatherStatus  status)
{
  g_autoptr(GatherGroup) group = new_group ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *pid_file = g_build_filename (dir, "pid", NULL);
  const char *argv[] = { "sh", "-c", SLEEPER_SCRIPT, "sh", pid_file, NULL };
  CancelWhenRunning cancel = { cancellable, pid_file };
  GVariantDict parameters;
  GatherOutcome *outcome;
  gint64 start;

  g_variant_dict_init (&parameters, NULL);
  g_variant_dict_insert_value (&parameters, "argv", g_variant_new_bytestring_array (argv, -1));
  if (stdin_text != NULL)
    g_variant_dict_insert (&parameters, "stdin", "s", stdin_text);

  g_assert_cmpuint (gather_group_add_worker_task (group, "spawn", g_variant_dict_end (&parameters),
                                                  NULL, timeout_msec, &error), ==, 0);
  g_assert_no_error (error);

  if (timeout_msec == 0)
    g_timeout_add (10, cancel_when_running, &cancel);

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, cancellable, 20000, &error);
  g_assert_no_error (error);
  outcome = test_outcome (outcomes, 0);

  assert_status (outcome, status);
  g_assert_false (gather_outcome_get_abandoned (outcome));
  /* Well before the 30 s the command wanted. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC * test_slowdown ());

  assert_process_gone (read_pid_file (pid_file));

  test_remove_tree (dir);
}

/* ---- Tests ---- */

static void
test_spawn_describe (void)
{
  GatherWorker *worker = gather_registry_lookup_worker (registry, "spawn");
  g_autoptr(GPtrArray) parameters = NULL;
  static const struct
  {
    const char           *name;
    const char           *type;
    GatherParameterFlags  flags;
  } expected[] = {
    { "argv", "aay", GATHER_PARAMETER_REQUIRED },
    { "stdin", "s", GATHER_PARAMETER_NONE },
    { "cwd", "ay", GATHER_PARAMETER_NONE },
    { "max-output", "u", GATHER_PARAMETER_NONE },
    { "check", "b", GATHER_PARAMETER_NONE },
  };

  g_test_summary ("The spawn plugin loads and declares its name, types and parameters");

  g_assert_nonnull (worker);
  g_assert_cmpstr (gather_worker_get_name (worker), ==, "spawn");
  g_assert_nonnull (gather_worker_get_description (worker));
  g_assert_null (strchr (gather_worker_get_description (worker), '\n'));
  g_assert_cmpstr (gather_worker_get_parameter_type (worker), ==, "a{sv}");
  g_assert_cmpstr (gather_worker_get_result_type (worker), ==, "a{sv}");

  parameters = gather_worker_list_parameters (worker);
  g_assert_cmpuint (parameters->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < parameters->len; i++)
    {
      const GatherParameter *parameter = g_ptr_array_index (parameters, i);

      g_assert_cmpstr (parameter->name, ==, expected[i].name);
      g_assert_cmpstr (parameter->type, ==, expected[i].type);
      g_assert_cmpint (parameter->flags, ==, expected[i].flags);
      g_assert_nonnull (parameter->description);
    }
}

static void
test_spawn_echo (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  GVariant *result;

  g_test_summary ("echo hello: its output and exit status 0");

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'echo', b'hello']>}"), 10000);
  result = assert_ok (outcome);

  assert_exited (result, 0);
  g_assert_cmpstr (lookup_string (result, "stdout"), ==, "hello\n");
  g_assert_cmpstr (lookup_string (result, "stderr"), ==, "");
}

static void
test_spawn_exit_status (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  GVariant *result;

  g_test_summary ("With check=false, a command that prints to stderr and "
                  "exits with 3 is a success of the task, with that status and output");

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'sh', b'-c', b'echo oops >&2; exit 3']>, 'check': <false>}"),
                       10000);
  result = assert_ok (outcome);

  assert_exited (result, 3);
  g_assert_cmpstr (lookup_string (result, "stdout"), ==, "");
  g_assert_cmpstr (lookup_string (result, "stderr"), ==, "oops\n");
}

static void
test_spawn_signal (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  GVariant *result;

  g_test_summary ("With check=false, a command killed by a signal reports it, "
                  "with exit status -1");

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'sh', b'-c', "
                                             "b'echo before; kill -TERM $$; echo after']>, 'check': <false>}"),
                       10000);
  result = assert_ok (outcome);

  g_assert_cmpint (lookup_int (result, "exit-status"), ==, -1);
  g_assert_cmpint (lookup_int (result, "signal"), ==, SIGTERM);
  g_assert_cmpstr (lookup_string (result, "stdout"), ==, "before\n");
}

static void
test_spawn_stdin (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  GVariant *result;

  g_test_summary ("The stdin text goes to the command, whose input is then closed");

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'cat']>, "
                                             "'stdin': <'line 1\\nline 2\\n'>}"),
                       10000);
  result = assert_ok (outcome);

  assert_exited (result, 0);
  g_assert_cmpstr (lookup_string (result, "stdout"), ==, "line 1\nline 2\n");
}

static void
test_spawn_stdin_default (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  GVariant *result;

  g_test_summary ("Without stdin the command reads an empty, closed input, "
                  "never the test's own: cat ends at once");

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'sh', b'-c', b'cat; echo end']>}"),
                       10000 * test_slowdown ());
  result = assert_ok (outcome);

  assert_exited (result, 0);
  g_assert_cmpstr (lookup_string (result, "stdout"), ==, "end\n");
}

static void
test_spawn_stdin_large (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  GVariantDict parameters;
  GVariant *result;

  g_test_summary ("Input and output much larger than a pipe: written and read "
                  "together, without a deadlock");

  while (text->len < 1024 * 1024)
    g_string_append_printf (text, "line %u of the input\n", (guint) text->len);

  g_variant_dict_init (&parameters, NULL);
  g_variant_dict_insert_value (&parameters, "argv", g_variant_new_parsed ("[b'cat']"));
  g_variant_dict_insert (&parameters, "stdin", "s", text->str);
  g_variant_dict_insert (&parameters, "max-output", "u", (guint32) (2 * text->len));

  outcome = run_spawn (g_variant_dict_end (&parameters), 20000 * test_slowdown ());
  result = assert_ok (outcome);

  assert_exited (result, 0);
  g_assert_true (g_str_equal (lookup_string (result, "stdout"), text->str));
}

static void
test_spawn_stdin_unread (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autofree char *text = g_strnfill (1024 * 1024, 'x');
  GVariantDict parameters;
  GVariant *result;

  g_test_summary ("A command that exits without reading its large input: its "
                  "status is returned, and the broken pipe does not kill the test");

  g_variant_dict_init (&parameters, NULL);
  g_variant_dict_insert_value (&parameters, "argv",
                               g_variant_new_parsed ("[b'sh', b'-c', b'exit 7']"));
  g_variant_dict_insert (&parameters, "check", "b", FALSE);
  g_variant_dict_insert (&parameters, "stdin", "s", text);

  outcome = run_spawn (g_variant_dict_end (&parameters), 10000 * test_slowdown ());
  result = assert_ok (outcome);

  assert_exited (result, 7);
}

static void
test_spawn_cwd (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *marker = g_build_filename (dir, "marker", NULL);
  GVariant *result;

  g_test_summary ("The command runs in the cwd directory");

  g_file_set_contents (marker, "found it", -1, &error);
  g_assert_no_error (error);

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'cat', b'marker']>, 'cwd': <%^ay>}", dir),
                       10000);
  result = assert_ok (outcome);

  assert_exited (result, 0);
  g_assert_cmpstr (lookup_string (result, "stdout"), ==, "found it");

  test_remove_tree (dir);
}

static void
test_spawn_cwd_missing (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  GError *error;

  g_test_summary ("A cwd that does not exist fails the task with a message naming it");

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'true']>, 'cwd': <%^ay>}", missing), 10000);

  assert_status (outcome, GATHER_STATUS_ERROR);
  error = gather_outcome_get_error (outcome);
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_SPAWN_ERROR);
  test_assert_message_has (error, missing);

  test_remove_tree (dir);
}

static void
test_spawn_max_output (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autoptr(GString) expected = g_string_new (NULL);
  GVariant *result;

  g_test_summary ("Output past max-output is read and dropped: exactly "
                  "max-output bytes are kept, and the command still finishes");

  for (guint i = 1; expected->len < 1000; i++)
    g_string_append_printf (expected, "%u\n", i);
  g_string_truncate (expected, 1000);

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'seq', b'1', b'1000000']>, "
                                             "'max-output': <uint32 1000>}"),
                       20000 * test_slowdown ());
  result = assert_ok (outcome);

  /* seq printed everything: it was not stopped by a full pipe or a
   * SIGPIPE. */
  g_assert_cmpint (lookup_int (result, "exit-status"), ==, 0);
  g_assert_cmpint (lookup_int (result, "signal"), ==, 0);
  g_assert_cmpuint (strlen (lookup_string (result, "stdout")), ==, 1000);
  g_assert_cmpstr (lookup_string (result, "stdout"), ==, expected->str);
  g_assert_true (lookup_bool (result, "stdout-truncated"));
  g_assert_cmpstr (lookup_string (result, "stderr"), ==, "");
  g_assert_false (lookup_bool (result, "stderr-truncated"));
}

static void
test_spawn_max_output_stderr (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  GVariant *result;

  g_test_summary ("max-output applies to stderr on its own");

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'sh', b'-c', "
                                             "b'printf abc; seq 1 100000 >&2']>, "
                                             "'max-output': <uint32 3>}"),
                       20000 * test_slowdown ());
  result = assert_ok (outcome);

  g_assert_cmpint (lookup_int (result, "exit-status"), ==, 0);
  /* Exactly max-output bytes is not a truncation. */
  g_assert_cmpstr (lookup_string (result, "stdout"), ==, "abc");
  g_assert_false (lookup_bool (result, "stdout-truncated"));
  g_assert_cmpstr (lookup_string (result, "stderr"), ==, "1\n2");
  g_assert_true (lookup_bool (result, "stderr-truncated"));
}

static void
test_spawn_max_output_default (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  GVariant *result;
  const char *output;

  g_test_summary ("Without max-output, 1 MiB of each output is kept");

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'sh', b'-c', "
                                             "b'head -c 1500000 /dev/zero | tr \"\\\\0\" a']>}"),
                       20000 * test_slowdown ());
  result = assert_ok (outcome);

  g_assert_cmpint (lookup_int (result, "exit-status"), ==, 0);
  output = lookup_string (result, "stdout");
  g_assert_cmpuint (strlen (output), ==, 1048576);
  g_assert_cmpuint (strspn (output, "a"), ==, 1048576);
  g_assert_true (lookup_bool (result, "stdout-truncated"));
}

static void
test_spawn_invalid_utf8 (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  GVariant *result;

  g_test_summary ("Output that is not UTF-8 is made valid");

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'printf', b'a\\\\377b']>}"), 10000);
  result = assert_ok (outcome);

  assert_exited (result, 0);
  g_assert_cmpstr (lookup_string (result, "stdout"), ==, "a\xef\xbf\xbd" "b");
}

static void
test_spawn_timeout (void)
{
  g_test_summary ("At the task's timeout the command is killed and reaped, "
                  "and the worker returns within the grace period");

  assert_sleeper_stopped (NULL, 1000 * test_slowdown (), GATHER_STATUS_TIMEOUT);
}

static void
test_spawn_timeout_writing (void)
{
  g_autofree char *text = g_strnfill (1024 * 1024, 'x');

  g_test_summary ("A timeout while the command does not read its large input: "
                  "writing it never blocks the worker");

  assert_sleeper_stopped (text, 1000 * test_slowdown (), GATHER_STATUS_TIMEOUT);
}

static void
test_spawn_cancel (void)
{
  g_test_summary ("Cancelling the group's run kills and reaps the command");

  assert_sleeper_stopped (NULL, 0, GATHER_STATUS_CANCELLED);
}

static void
test_spawn_missing_program (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  GError *error;

  g_test_summary ("A program that does not exist fails the task with the "
                  "spawn error, which names it");

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'gather-test-no-such-program', b'x']>}"),
                       10000);

  assert_status (outcome, GATHER_STATUS_ERROR);
  error = gather_outcome_get_error (outcome);
  g_assert_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT);
  test_assert_message_has (error, "gather-test-no-such-program");
}

static void
test_spawn_not_executable (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *program = g_build_filename (dir, "not-executable", NULL);
  GError *error;

  g_test_summary ("A file that is not executable fails the task with the "
                  "spawn error, which names it");

  g_file_set_contents_full (program, "#!/bin/sh\necho no\n", -1, G_FILE_SET_CONTENTS_NONE,
                            0644, &local_error);
  g_assert_no_error (local_error);

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[%^ay]>}", program), 10000);

  assert_status (outcome, GATHER_STATUS_ERROR);
  error = gather_outcome_get_error (outcome);
  g_assert_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_ACCES);
  test_assert_message_has (error, program);

  test_remove_tree (dir);
}

static void
test_spawn_empty_argv (void)
{
  static const char *cases[] = { "{'argv': <@aay []>}", "{'argv': <[b'']>}" };

  g_test_summary ("An empty argv, or an empty program name, has the right "
                  "type, so the group accepts it; the worker fails with "
                  "G_IO_ERROR_INVALID_ARGUMENT");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GatherOutcome) outcome = run_spawn (g_variant_new_parsed (cases[i]), 10000);
      GError *error = gather_outcome_get_error (outcome);

      assert_status (outcome, GATHER_STATUS_ERROR);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      test_assert_message_has (error, "argv");
    }
}

static void
test_spawn_bad_parameters (void)
{
  static const char *cases[] = {
    "{'argv': <'echo hello'>}",
    "{'argv': <['echo']>}",
    "{'argv': <[b'echo']>, 'max-output': <1000>}",
    "{'argv': <[b'echo']>, 'check': <'yes'>}",
    "{'argv': <[b'cat']>, 'stdin': <[byte 0x61]>}",
    "{'argv': <[b'echo']>, 'env': <['A=b']>}",
    "{'stdin': <'text'>}",
    "['echo', 'hello']",
  };

  g_test_summary ("Parameters of the wrong type, unknown or missing are "
                  "refused by gather_group_add_worker_task() with "
                  "GATHER_ERROR_INVALID_PARAMETERS, before anything runs");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GatherGroup) group = new_group ();
      g_autoptr(GError) error = NULL;

      g_assert_cmpuint (gather_group_add_worker_task (group, "spawn",
                                                      g_variant_new_parsed (cases[i]),
                                                      NULL, 0, &error), ==, G_MAXUINT);
      g_assert_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS);
      g_assert_cmpuint (gather_group_get_n_tasks (group), ==, 0);
    }
}

static void
test_spawn_concurrent (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (4);
  g_autoptr(GatherGroup) group = new_group ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  const guint n_tasks = 12;

  g_test_summary ("Several spawn tasks run at once on a pool, each with its "
                  "own input and output");

  gather_group_set_pool (group, pool);
  for (guint i = 0; i < n_tasks; i++)
    {
      g_autofree char *text = g_strdup_printf ("task %u\n", i);
      GVariant *parameters;

      parameters = g_variant_new_parsed ("{'argv': <[b'sh', b'-c', b'cat; echo err >&2; sleep 0.1']>, "
                                         "'stdin': <%s>}", text);
      g_assert_cmpuint (gather_group_add_worker_task (group, "spawn", parameters, NULL, 0, &error),
                        ==, i);
      g_assert_no_error (error);
    }

  outcomes = test_run_and_wait (group, NULL, 30000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, n_tasks);

  for (guint i = 0; i < n_tasks; i++)
    {
      g_autofree char *text = g_strdup_printf ("task %u\n", i);
      GVariant *result = assert_ok (test_outcome (outcomes, i));

      assert_exited (result, 0);
      g_assert_cmpstr (lookup_string (result, "stdout"), ==, text);
      g_assert_cmpstr (lookup_string (result, "stderr"), ==, "err\n");
    }
}

static void
test_spawn_check (void)
{
  static const struct {
    const char *parameters;
    gint        code;
    const char *message;
  } cases[] = {
    { "{'argv': <[b'sh', b'-c', b'echo oops >&2; exit 3']>}", 3,
      "“sh” exited with status 3: oops" },
    { "{'argv': <[b'sh', b'-c', b'kill -TERM $$']>}", G_SPAWN_ERROR_FAILED,
      "“sh” was killed by signal 15" },
    { "{'argv': <[b'false']>, 'check': <true>}", 1, "“false” exited with status 1" },
  };

  g_test_summary ("By default a status other than 0, or a signal, fails the "
                  "task with the spawn error, quoting stderr");
  g_test_bug ("9");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GatherOutcome) outcome = run_spawn (g_variant_new_parsed (cases[i].parameters),
                                                    10000);
      GError *error = gather_outcome_get_error (outcome);

      assert_status (outcome, GATHER_STATUS_ERROR);
      g_assert_nonnull (error);
      g_assert_true (error->domain == (i == 1 ? G_SPAWN_ERROR : G_SPAWN_EXIT_ERROR));
      g_assert_cmpint (error->code, ==, cases[i].code);
      test_assert_message_has (error, cases[i].message);
    }
}

/* Runs a shell that starts `sleep 30` in the background and writes its pid
 * to a file, then does @then; returns the outcome and the sleep's pid. */
static GatherOutcome *
run_with_background_job (const char *then,
                         guint       timeout_msec,
                         pid_t      *out_pid)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *pid_file = g_build_filename (dir, "pid", NULL);
  g_autofree char *script = g_strdup_printf ("sleep 30 >/dev/null 2>&1 & echo $! > \"$1\"; %s",
                                             then);
  const char *argv[] = { "sh", "-c", script, "sh", pid_file, NULL };
  GVariantDict parameters;
  GatherOutcome *outcome;

  g_variant_dict_init (&parameters, NULL);
  g_variant_dict_insert_value (&parameters, "argv", g_variant_new_bytestring_array (argv, -1));
  outcome = run_spawn (g_variant_dict_end (&parameters), timeout_msec);
  *out_pid = read_pid_file (pid_file);
  test_remove_tree (dir);

  return outcome;
}

static void
test_spawn_process_group (void)
{
  g_autoptr(GatherOutcome) timed_out = NULL;
  g_autoptr(GatherOutcome) exited = NULL;
  pid_t pid;

  g_test_summary ("A timeout kills the command's whole process group, and a "
                  "command that exits takes its background jobs with it: no "
                  "grandchild outlives the task");
  g_test_bug ("9");

  /* Time for the shell to start the job and write its pid first, on a
   * loaded machine too. */
  timed_out = run_with_background_job ("wait", 1000 * test_slowdown (), &pid);
  assert_status (timed_out, GATHER_STATUS_TIMEOUT);
  assert_grandchild_dead (pid);

  exited = run_with_background_job ("exit 0", 10000, &pid);
  assert_status (exited, GATHER_STATUS_OK);
  assert_grandchild_dead (pid);
}

static void
test_spawn_byte_string_names (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_tmp_dir ();
  /* "café" and "répertoire" in Latin-1: not UTF-8. */
  g_autofree char *name = g_build_filename (dir, "caf\xe9", NULL);
  g_autofree char *subdir = g_build_filename (dir, "r\xe9pertoire", NULL);
  GVariantBuilder argv;
  GVariant *result;

  g_test_summary ("Program arguments and the directory are byte strings: "
                  "file names that are not UTF-8 reach the program intact");
  g_test_bug ("9");

  g_file_set_contents (name, "latin-1\n", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (subdir, 0700), ==, 0);

  g_variant_builder_init (&argv, G_VARIANT_TYPE_BYTESTRING_ARRAY);
  g_variant_builder_add (&argv, "^ay", "sh");
  g_variant_builder_add (&argv, "^ay", "-c");
  g_variant_builder_add (&argv, "^ay", "cat \"$1\"; pwd");
  g_variant_builder_add (&argv, "^ay", "sh");
  g_variant_builder_add (&argv, "^ay", name);
  outcome = run_spawn (g_variant_new_parsed ("{'argv': <%@aay>, 'cwd': <%^ay>}",
                                             g_variant_builder_end (&argv), subdir), 10000);
  result = assert_ok (outcome);
  assert_exited (result, 0);
  /* pwd printed the Latin-1 name, made valid for the "s" result. */
  g_assert_true (g_str_has_prefix (lookup_string (result, "stdout"), "latin-1\n"));
  g_assert_nonnull (strstr (lookup_string (result, "stdout"), "r\xef\xbf\xbdpertoire"));

  test_remove_tree (dir);
}

static void
test_spawn_byte_string_nul (void)
{
  static const char *cases[] = {
    "{'argv': <[[byte 0x65, 0x00, 0x63, 0x00]]>}",
    "{'argv': <[b'true']>, 'cwd': <[byte 0x2f, 0x00, 0x74, 0x00]>}",
  };

  g_test_summary ("A NUL inside a byte string would cut a name short: the "
                  "task fails instead, naming the parameter");
  g_test_bug ("9");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GatherOutcome) outcome = run_spawn (g_variant_new_parsed (cases[i]), 10000);
      GError *error = gather_outcome_get_error (outcome);

      assert_status (outcome, GATHER_STATUS_ERROR);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      test_assert_message_has (error, i == 0 ? "“argv”" : "“cwd”");
      test_assert_message_has (error, "NUL");
    }
}

static void
test_spawn_max_output_range (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  GError *error;

  g_test_summary ("max-output above 256 MiB is refused rather than letting "
                  "a command fill the memory");
  g_test_bug ("9");

  outcome = run_spawn (g_variant_new_parsed ("{'argv': <[b'true']>, "
                                             "'max-output': <uint32 4294967295>}"), 10000);
  assert_status (outcome, GATHER_STATUS_ERROR);
  error = gather_outcome_get_error (outcome);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  test_assert_message_has (error, "“max-output”");
  test_assert_message_has (error, "at most 268435456, not 4294967295");
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *plugin_dir = NULL;
  int ret;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  registry = test_registry_new ("shipped", &plugin_dir);

  g_test_add_func ("/gather/plugin/spawn/describe", test_spawn_describe);
  g_test_add_func ("/gather/plugin/spawn/echo", test_spawn_echo);
  g_test_add_func ("/gather/plugin/spawn/exit-status", test_spawn_exit_status);
  g_test_add_func ("/gather/plugin/spawn/signal", test_spawn_signal);
  g_test_add_func ("/gather/plugin/spawn/stdin", test_spawn_stdin);
  g_test_add_func ("/gather/plugin/spawn/stdin-default", test_spawn_stdin_default);
  g_test_add_func ("/gather/plugin/spawn/stdin-large", test_spawn_stdin_large);
  g_test_add_func ("/gather/plugin/spawn/stdin-unread", test_spawn_stdin_unread);
  g_test_add_func ("/gather/plugin/spawn/cwd", test_spawn_cwd);
  g_test_add_func ("/gather/plugin/spawn/cwd-missing", test_spawn_cwd_missing);
  g_test_add_func ("/gather/plugin/spawn/max-output", test_spawn_max_output);
  g_test_add_func ("/gather/plugin/spawn/max-output-stderr", test_spawn_max_output_stderr);
  g_test_add_func ("/gather/plugin/spawn/max-output-default", test_spawn_max_output_default);
  g_test_add_func ("/gather/plugin/spawn/invalid-utf8", test_spawn_invalid_utf8);
  g_test_add_func ("/gather/plugin/spawn/timeout", test_spawn_timeout);
  g_test_add_func ("/gather/plugin/spawn/timeout-writing", test_spawn_timeout_writing);
  g_test_add_func ("/gather/plugin/spawn/cancel", test_spawn_cancel);
  g_test_add_func ("/gather/plugin/spawn/missing-program", test_spawn_missing_program);
  g_test_add_func ("/gather/plugin/spawn/not-executable", test_spawn_not_executable);
  g_test_add_func ("/gather/plugin/spawn/empty-argv", test_spawn_empty_argv);
  g_test_add_func ("/gather/plugin/spawn/bad-parameters", test_spawn_bad_parameters);
  g_test_add_func ("/gather/plugin/spawn/concurrent", test_spawn_concurrent);
  g_test_add_func ("/gather/plugin/spawn/check", test_spawn_check);
  g_test_add_func ("/gather/plugin/spawn/process-group", test_spawn_process_group);
  g_test_add_func ("/gather/plugin/spawn/byte-string-names", test_spawn_byte_string_names);
  g_test_add_func ("/gather/plugin/spawn/byte-string-nul", test_spawn_byte_string_nul);
  g_test_add_func ("/gather/plugin/spawn/max-output-range", test_spawn_max_output_range);

  ret = g_test_run ();

  g_clear_object (&registry);
  test_remove_tree (plugin_dir);

  return ret;
}
