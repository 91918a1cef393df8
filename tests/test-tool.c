/* test-tool.c: the gather command, run as a user would run it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "test-util.h"

static char *plugin_dir;
static char *bad_plugin_dir;

typedef struct
{
  int      status;
  char    *out;
  char    *err;
  gint64   elapsed;   /* microseconds */
} Result;

static void
result_clear (Result *result)
{
  g_clear_pointer (&result->out, g_free);
  g_clear_pointer (&result->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static GSubprocessLauncher *
new_launcher (GSubprocessFlags  flags,
              const char       *plugin_path)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_setenv (launcher, "GATHER_PLUGIN_PATH", plugin_path, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", "/nonexistent", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);

  return launcher;
}

/* Runs gather with @args (NULL-terminated) and optional standard input. */
static void
run_with_path (Result      *result,
               const char  *plugin_path,
               const char  *input,
               const char  *first_arg,
               ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;
  va_list args;

  g_ptr_array_add (argv, (char *) g_getenv ("GATHER_TOOL"));
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  launcher = new_launcher (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                           G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                           G_SUBPROCESS_FLAGS_STDERR_PIPE, plugin_path);
  start = g_get_monotonic_time ();
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input ? input : "", NULL, &result->out, &result->err, &error);
  g_assert_no_error (error);
  result->elapsed = g_get_monotonic_time () - start;
  if (!g_subprocess_get_if_exited (process))
    g_error ("gather was killed by signal %d; stderr:\n%s",
             g_subprocess_get_term_sig (process), result->err);
  result->status = g_subprocess_get_exit_status (process);
}

#define run(result, ...) run_with_path ((result), plugin_dir, NULL, __VA_ARGS__, NULL)

static void
assert_has (const char *text,
            const char *part)
{
  if (text == NULL || strstr (text, part) == NULL)
    g_error ("“%s” is not in:\n%s", part, text ? text : "(null)");
}

static void
assert_usage_error (Result     *result,
                    const char *part)
{
  g_assert_cmpint (result->status, ==, 2);
  assert_has (result->err, part);
}

static JsonArray *
parse_json_array (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)));

  return json_array_ref (json_node_get_array (json_parser_get_root (parser)));
}

static JsonObject *
parse_json_object (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static const char *
outcome_status (JsonArray *outcomes,
                guint      i)
{
  return json_object_get_string_member (json_array_get_object_element (outcomes, i), "status");
}

/* ---- Tests ---- */

static void
test_tool_usage (void)
{
  g_auto(Result) none = { 0 };
  g_auto(Result) help = { 0 };
  g_auto(Result) help_run = { 0 };
  g_auto(Result) help_bad = { 0 };
  g_auto(Result) version = { 0 };
  g_auto(Result) unknown = { 0 };

  g_test_summary ("Usage, help for every command, the version, an unknown command");

  run_with_path (&none, plugin_dir, NULL, NULL);
  assert_usage_error (&none, "Usage:");

  run (&help, "help");
  g_assert_cmpint (help.status, ==, 0);
  assert_has (help.out, "  run ");
  assert_has (help.out, "  plugins ");

  run (&help_run, "help", "run");
  g_assert_cmpint (help_run.status, ==, 0);
  assert_has (help_run.out, "--timeout=DURATION");
  assert_has (help_run.out, "--file=FILE");
  assert_has (help_run.out, "--policy=POLICY");
  assert_has (help_run.out, "Exit status:");

  run (&help_bad, "help", "frobnicate");
  assert_usage_error (&help_bad, "frobnicate: Unknown command");

  run (&version, "--version");
  g_assert_cmpint (version.status, ==, 0);
  g_assert_cmpstr (version.out, ==, "gather " GATHER_VERSION_S "\n");

  run (&unknown, "frobnicate");
  assert_usage_error (&unknown, "frobnicate: Unknown command");
}

static void
test_tool_plugins (void)
{
  g_auto(Result) text = { 0 };
  g_auto(Result) json = { 0 };
  g_auto(Result) extra = { 0 };
  g_autoptr(JsonObject) root = NULL;
  JsonArray *workers;
  static const char *names[] = { "checksum", "compute", "sleep", "spawn" };

  g_test_summary ("gather plugins lists every worker, its parameters and file, "
                  "as text and as JSON");

  run (&text, "plugins");
  g_assert_cmpint (text.status, ==, 0);
  assert_has (text.out, "sleep\n");
  assert_has (text.out, "  ms=u (required)  How long to sleep, in milliseconds");
  assert_has (text.out, "  result: v");
  assert_has (text.out, "gather-sleep.so");
  g_assert_null (strstr (text.out, "Not loaded"));

  run (&json, "plugins", "--json");
  g_assert_cmpint (json.status, ==, 0);
  root = parse_json_object (json.out);
  workers = json_object_get_array_member (root, "workers");
  g_assert_cmpuint (json_array_get_length (workers), ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      JsonObject *worker = json_array_get_object_element (workers, i);
      g_autofree char *file = g_strdup_printf ("gather-%s.so", names[i]);

      g_assert_cmpstr (json_object_get_string_member (worker, "name"), ==, names[i]);
      g_assert_cmpstr (json_object_get_string_member (worker, "parameter_type"), ==, "a{sv}");
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (worker, "parameters")), >, 0);
      g_assert_true (g_str_has_suffix (json_object_get_string_member (worker, "path"), file));
    }
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "failures")), ==, 0);

  run (&extra, "plugins", "more");
  assert_usage_error (&extra, "more: Unexpected argument");
}

static void
test_tool_plugin_failures (void)
{
  g_autofree char *path = g_strconcat (plugin_dir, ":", bad_plugin_dir, NULL);
  g_auto(Result) text = { 0 };
  g_auto(Result) json = { 0 };
  g_autoptr(JsonObject) root = NULL;
  JsonArray *failures;

  g_test_summary ("Plugins that fail to load are listed with the reason; the "
                  "others still load");

  run_with_path (&text, path, NULL, "plugins", NULL);
  g_assert_cmpint (text.status, ==, 0);
  assert_has (text.out, "sleep\n");
  assert_has (text.out, "Not loaded:");
  assert_has (text.out, "built for plugin ABI 999");
  assert_has (text.out, "does not export “gather_no_entry_plugin”");

  run_with_path (&json, path, NULL, "plugins", "--json", NULL);
  g_assert_cmpint (json.status, ==, 0);
  root = parse_json_object (json.out);
  failures = json_object_get_array_member (root, "failures");
  g_assert_cmpuint (json_array_get_length (failures), ==, 4);
  for (guint i = 0; i < json_array_get_length (failures); i++)
    {
      JsonObject *failure = json_array_get_object_element (failures, i);
      JsonObject *error = json_object_get_object_member (failure, "error");

      g_assert_true (g_str_has_prefix (json_object_get_string_member (failure, "path"), bad_plugin_dir));
      g_assert_cmpstr (json_object_get_string_member (error, "domain"), ==, "gather-error-quark");
      g_assert_nonnull (json_object_get_string_member (error, "message"));
    }
}

static char *
example_path (const char *name)
{
  return g_build_filename (g_getenv ("G_TEST_SRCDIR"), "..", "data", "examples", name, NULL);
}

static void
test_tool_seed (void)
{
  g_autofree char *file = example_path ("fetch-users.json");
  g_auto(Result) table = { 0 };
  g_auto(Result) json = { 0 };
  g_autoptr(JsonArray) outcomes = NULL;
  g_auto(GStrv) lines = NULL;
  static const char *users[] = { "'user_1'", "'user_2'", NULL, "'user_4'" };

  g_test_summary ("The seed example: user 3 times out at 3 s, the other users "
                  "are fetched, in order, in about 3 s rather than 5");

  run (&table, "run", "--file", file);
  g_assert_cmpint (table.status, ==, 1);
  g_assert_cmpint (table.elapsed, >=, 3000 * 1000);
  g_assert_cmpint (table.elapsed, <, 4500 * 1000);
  lines = g_strsplit (table.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 7);
  assert_has (lines[0], "STATUS");
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *label = g_strdup_printf ("fetch user %u", i + 1);

      assert_has (lines[i + 1], label);
      assert_has (lines[i + 1], users[i] ? " ok " : " timeout ");
      if (users[i] != NULL)
        assert_has (lines[i + 1], users[i]);
      else
        assert_has (lines[i + 1], "Task “fetch user 3” timed out after 3000 ms");
    }
  assert_has (lines[5], "4 tasks: 3 ok, 0 error, 1 timeout, 0 cancelled in 3.0s");

  run (&json, "run", "--json", "--file", file);
  g_assert_cmpint (json.status, ==, 1);
  outcomes = parse_json_array (json.out);
  g_assert_cmpuint (json_array_get_length (outcomes), ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      JsonObject *outcome = json_array_get_object_element (outcomes, i);

      g_assert_cmpint (json_object_get_int_member (outcome, "index"), ==, i);
      g_assert_cmpstr (json_object_get_string_member (outcome, "worker"), ==, "sleep");
      if (i == 2)
        {
          JsonObject *error = json_object_get_object_member (outcome, "error");

          g_assert_cmpstr (outcome_status (outcomes, i), ==, "timeout");
          g_assert_true (json_object_get_null_member (outcome, "result"));
          g_assert_cmpstr (json_object_get_string_member (error, "domain"), ==, "gather-error-quark");
          g_assert_cmpint (json_object_get_int_member (error, "code"), ==, GATHER_ERROR_TIMED_OUT);
          g_assert_cmpint (json_object_get_int_member (outcome, "finished_us"), >=, 3000 * 1000);
        }
      else
        {
          g_autofree char *value = g_strdup_printf ("user_%u", i + 1);

          g_assert_cmpstr (outcome_status (outcomes, i), ==, "ok");
          g_assert_cmpstr (json_object_get_string_member (outcome, "result"), ==, value);
          g_assert_true (json_object_get_null_member (outcome, "error"));
        }
    }
  /* With --json, standard output holds the JSON alone. */
  assert_has (json.err, "4 tasks: 3 ok");
}

static void
test_tool_arguments (void)
{
  g_auto(Result) result = { 0 };
  g_autoptr(JsonArray) outcomes = NULL;
  JsonObject *spawn;

  g_test_summary ("Tasks from arguments: values take the worker's declared "
                  "types; label= and timeout= apply to the task");

  run (&result, "run", "--json", "sleep ms=10 value=hi", "compute n=1000",
       "sleep ms=5 label='named task'", "spawn argv='sh -c \"echo two words\"'",
       "sleep ms=5000 timeout=100ms");
  g_assert_cmpint (result.status, ==, 1);
  outcomes = parse_json_array (result.out);
  g_assert_cmpuint (json_array_get_length (outcomes), ==, 5);

  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (outcomes, 0), "result"), ==, "hi");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (outcomes, 0), "label"), ==, "sleep");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (outcomes, 1), "result"), ==, 168);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (outcomes, 2), "label"), ==, "named task");
  spawn = json_object_get_object_member (json_array_get_object_element (outcomes, 3), "result");
  g_assert_cmpstr (json_object_get_string_member (spawn, "stdout"), ==, "two words\n");
  g_assert_cmpstr (outcome_status (outcomes, 4), ==, "timeout");
  g_assert_cmpint (result.elapsed, <, 4000 * 1000);
}

static void
test_tool_exit_status (void)
{
  g_auto(Result) ok = { 0 };
  g_auto(Result) failed = { 0 };

  g_test_summary ("0 when every task succeeded, 1 when one failed");

  run (&ok, "run", "sleep ms=1", "compute n=10");
  g_assert_cmpint (ok.status, ==, 0);
  assert_has (ok.out, "2 tasks: 2 ok, 0 error, 0 timeout, 0 cancelled");

  run (&failed, "run", "sleep ms=1", "checksum path=/nonexistent/file");
  g_assert_cmpint (failed.status, ==, 1);
  assert_has (failed.out, " error ");
  assert_has (failed.out, "/nonexistent/file");
}

static void
test_tool_bad_arguments (void)
{
  static const struct {
    const char *args[4];
    const char *message;
  } cases[] = {
    { { "run", "nope x=1" }, "task “nope x=1”: Unknown worker “nope”" },
    { { "run", "sleep ms=abc" }, "Invalid value “abc” for ms: expected type “u”" },
    { { "run", "sleep ms=-5" }, "Invalid value “-5” for ms" },
    { { "run", "sleep colour=red" }, "task “sleep colour=red”: Worker “sleep” has no parameter “colour” (it takes: ms, value)" },
    { { "run", "sleep justaword" }, "“justaword” is not KEY=VALUE" },
    { { "run", "sleep" }, "task “sleep”: Worker “sleep” needs parameter “ms”" },
    { { "run", "sleep ms=1 timeout=soon" }, "Invalid duration “soon”" },
    { { "run", "sleep 'unterminated" }, "Cannot read task" },
    { { "run", "--timeout=-1s", "sleep ms=1" }, "--timeout: Invalid duration “-1s”" },
    { { "run", "--timeout=3", "sleep ms=1" }, "--timeout: Invalid duration “3”" },
    { { "run", "--deadline=48h", "sleep ms=1" }, "--deadline: Duration “48h” is longer than a day" },
    { { "run", "--deadline=99999999999999999999ms", "sleep ms=1" }, "--deadline: Invalid duration" },
    { { "run", "--policy=maybe", "sleep ms=1" }, "--policy: Invalid policy “maybe”" },
    { { "run", "--policy=quorum=0", "sleep ms=1" }, "--policy: Invalid policy “quorum=0”" },
    { { "run", "--jobs=-1", "sleep ms=1" }, "--jobs: Must be at least 1" },
    { { "run", "--bogus" }, "Unknown option --bogus" },
    { { "run" }, "No tasks" },
    { { "run", "--file=/dev/null", "sleep ms=1" }, "not both" },
  };

  g_test_summary ("Usage errors exit 2 with a message naming the bad argument, "
                  "before any task runs");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Result) result = { 0 };

      run (&result, cases[i].args[0], cases[i].args[1], cases[i].args[2], cases[i].args[3]);
      assert_usage_error (&result, cases[i].message);
      g_assert_cmpstr (result.out, ==, "");
    }
}

static char *
write_temp (const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("gather-tasks-XXXXXX.json", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);

  return path;
}

static void
test_tool_task_files (void)
{
  static const struct {
    const char *contents;
    const char *message;
  } cases[] = {
    { "{ not json", "Cannot read task file" },
    { "42", "A task file holds an array of tasks" },
    { "[ 42 ]", "Task 1: A task must be an object" },
    { "[ { \"label\": \"x\" } ]", "Task 1: A task needs a \"worker\" string" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1 } }, { \"worker\": \"nope\" } ]",
      "Task 2: Unknown worker “nope”" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": \"soon\" } } ]",
      "Task 1: Parameter “ms” of worker “sleep” must be of type “u”" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1, \"colour\": \"red\" } } ]",
      ": task 1: Worker “sleep” has no parameter “colour” (it takes: ms, value)" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1 }, \"timeout\": 5 } ]",
      "Task 1: “timeout” must be a duration string" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1 }, \"timeout\": \"-3s\" } ]",
      "Task 1: Invalid duration “-3s”" },
    { "[ { \"worker\": \"sleep\", \"parameters\": [] } ]", "\"parameters\" must be an object" },
    { "{ \"tasks\": 3 }", "A task file holds an array of tasks" },
  };
  g_auto(Result) missing = { 0 };
  g_auto(Result) from_stdin = { 0 };
  g_autoptr(JsonArray) outcomes = NULL;

  g_test_summary ("Malformed task files exit 2 naming the file and the task; "
                  "a task file on standard input works");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_temp (cases[i].contents);
      g_auto(Result) result = { 0 };

      run (&result, "run", "--file", path);
      assert_usage_error (&result, cases[i].message);
      assert_has (result.err, path);
      g_unlink (path);
    }

  run (&missing, "run", "--file", "/nonexistent/tasks.json");
  assert_usage_error (&missing, "/nonexistent/tasks.json: Cannot read task file");

  run_with_path (&from_stdin, plugin_dir,
                 "[ { \"worker\": \"compute\", \"label\": \"primes\", \"parameters\": { \"n\": 100 } } ]",
                 "run", "--json", "--file", "-", NULL);
  g_assert_cmpint (from_stdin.status, ==, 0);
  outcomes = parse_json_array (from_stdin.out);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (outcomes, 0), "result"), ==, 25);
}

static void
test_tool_no_progress_in_pipe (void)
{
  g_auto(Result) table = { 0 };
  g_auto(Result) json = { 0 };

  g_test_summary ("When standard error is a pipe, no progress bytes reach it");

  run (&table, "run", "sleep ms=300", "compute n=100");
  g_assert_cmpint (table.status, ==, 0);
  g_assert_cmpstr (table.err, ==, "");
  g_assert_null (strchr (table.out, '\r'));
  g_assert_null (strchr (table.out, '\033'));

  run (&json, "run", "--json", "sleep ms=300");
  g_assert_cmpint (json.status, ==, 0);
  g_assert_null (strchr (json.err, '\r'));
  g_assert_null (strchr (json.err, '\033'));
  assert_has (json.err, "1 tasks: 1 ok");
}

/* Runs gather on a pseudo-terminal through script(1); returns what it
 * wrote there, both streams together. */
static char *
run_on_terminal (const char *arguments)
{
  g_autofree char *command = g_strdup_printf ("%s %s", g_getenv ("GATHER_TOOL"), arguments);
  const char *argv[] = { "script", "-qec", command, "/dev/null", NULL };
  g_autoptr(GSubprocessLauncher) launcher = new_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                          G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                                          plugin_dir);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;

  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);

  return out;
}

static void
test_tool_progress_on_terminal (void)
{
  g_autofree char *shown = NULL;
  g_autofree char *quiet = NULL;

  g_test_summary ("On a terminal, a progress line redraws in place and is "
                  "erased; --quiet turns it off");

  if (!g_file_test ("/usr/bin/script", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("script(1) is not installed: no pseudo-terminal to test on");
      return;
    }

  shown = run_on_terminal ("run 'sleep ms=400' 'sleep ms=10'");
  assert_has (shown, "\r\033[K");
  assert_has (shown, "/2 finished, ");
  assert_has (shown, " running, 0 timed out, ");
  assert_has (shown, "2 tasks: 2 ok");

  quiet = run_on_terminal ("run --quiet 'sleep ms=400' 'sleep ms=10'");
  g_assert_null (strstr (quiet, "finished,"));
  g_assert_null (strstr (quiet, "2 tasks:"));
  assert_has (quiet, " ok ");
}

static void
test_tool_stream (void)
{
  g_auto(Result) result = { 0 };
  const char *fast, *slow;

  g_test_summary ("--stream prints rows as tasks finish, in completion order");

  run (&result, "run", "--stream", "sleep ms=400 label=slow", "sleep ms=10 label=fast");
  g_assert_cmpint (result.status, ==, 0);
  fast = strstr (result.out, "fast");
  slow = strstr (result.out, "slow");
  g_assert_nonnull (fast);
  g_assert_nonnull (slow);
  g_assert_true (fast < slow);
}

static void
test_tool_policy_and_deadline (void)
{
  g_auto(Result) policy = { 0 };
  g_auto(Result) deadline = { 0 };
  g_autoptr(JsonArray) first = NULL;
  g_autoptr(JsonArray) second = NULL;

  g_test_summary ("--policy and --deadline reach the group");

  run (&policy, "run", "--json", "--policy=first-error",
       "checksum path=/nonexistent/file", "sleep ms=20000");
  g_assert_cmpint (policy.status, ==, 1);
  first = parse_json_array (policy.out);
  g_assert_cmpstr (outcome_status (first, 0), ==, "error");
  g_assert_cmpstr (outcome_status (first, 1), ==, "cancelled");
  g_assert_cmpint (policy.elapsed, <, 5000 * 1000);

  run (&deadline, "run", "--json", "--deadline=200ms", "sleep ms=20000", "sleep ms=1");
  g_assert_cmpint (deadline.status, ==, 1);
  second = parse_json_array (deadline.out);
  g_assert_cmpstr (outcome_status (second, 0), ==, "timeout");
  g_assert_cmpstr (outcome_status (second, 1), ==, "ok");
  g_assert_cmpint (deadline.elapsed, <, 5000 * 1000);
}

static void
test_tool_interrupt (void)
{
  const char *argv[] = { g_getenv ("GATHER_TOOL"), "run", "sleep ms=30000 label=long",
                         "sleep ms=10 label=short", NULL };
  g_autoptr(GSubprocessLauncher) launcher = new_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                          G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                                          plugin_dir);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  gint64 start = g_get_monotonic_time ();

  g_test_summary ("Ctrl-C cancels the run, prints what finished, exits 130");

  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_usleep (500 * 1000);
  g_subprocess_send_signal (process, SIGINT);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);

  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 130);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10000 * 1000);
  assert_has (out, "long");
  assert_has (out, " cancelled ");
  assert_has (out, "short");
  assert_has (out, "2 tasks: 1 ok, 0 error, 0 timeout, 1 cancelled");
  assert_has (out, "(interrupted)");
}

static void
test_tool_many (void)
{
  const guint n = 100000;
  GString *tasks = g_string_new ("[");
  g_autofree char *path = NULL;
  g_auto(Result) result = { 0 };
  g_autofree char *summary = g_strdup_printf ("%u tasks: %u ok, 0 error", n, n);

  g_test_summary ("A task file of 100,000 tasks runs to the end");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (tasks, "%s{\"worker\":\"compute\",\"parameters\":{\"n\":%u}}",
                            i ? "," : "", i % 100);
  g_string_append (tasks, "]");
  path = write_temp (tasks->str);
  g_string_free (tasks, TRUE);

  run (&result, "run", "--file", path);
  g_assert_cmpint (result.status, ==, 0);
  assert_has (result.out, summary);
  g_unlink (path);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  if (g_getenv ("GATHER_TOOL") == NULL)
    g_error ("GATHER_TOOL is not set: run the tests with meson test");

  plugin_dir = test_copy_plugins ("shipped");
  bad_plugin_dir = test_copy_plugins ("test");

  g_test_add_func ("/gather/tool/usage", test_tool_usage);
  g_test_add_func ("/gather/tool/plugins", test_tool_plugins);
  g_test_add_func ("/gather/tool/plugin-failures", test_tool_plugin_failures);
  g_test_add_func ("/gather/tool/seed", test_tool_seed);
  g_test_add_func ("/gather/tool/arguments", test_tool_arguments);
  g_test_add_func ("/gather/tool/exit-status", test_tool_exit_status);
  g_test_add_func ("/gather/tool/bad-arguments", test_tool_bad_arguments);
  g_test_add_func ("/gather/tool/task-files", test_tool_task_files);
  g_test_add_func ("/gather/tool/no-progress-in-pipe", test_tool_no_progress_in_pipe);
  g_test_add_func ("/gather/tool/progress-on-terminal", test_tool_progress_on_terminal);
  g_test_add_func ("/gather/tool/stream", test_tool_stream);
  g_test_add_func ("/gather/tool/policy-and-deadline", test_tool_policy_and_deadline);
  g_test_add_func ("/gather/tool/interrupt", test_tool_interrupt);
  g_test_add_func ("/gather/tool/many", test_tool_many);

  ret = g_test_run ();

  test_remove_tree (plugin_dir);
  test_remove_tree (bad_plugin_dir);
  g_free (plugin_dir);
  g_free (bad_plugin_dir);

  return ret;
}
