/* test-tool.c: the gather command, run as a user would run it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "gather-tool-json.h"
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

typedef enum
{
  STDIN_TEXT,     /* a pipe with the given text (or none) */
  STDIN_CLOSED,   /* no file descriptor 0 at all */
  STDOUT_CLOSED,  /* standard input a pipe, no file descriptor 1 */
} StdinMode;

typedef struct
{
  const char *plugin_path;
  const char *input;
  StdinMode   stdin_mode;
  const char *stdout_path;  /* a file instead of a pipe */
} RunOptions;

static void
close_stdin (gpointer data)
{
  close (STDIN_FILENO);
}

static void
close_stdout (gpointer data)
{
  close (STDOUT_FILENO);
}

/* Runs gather with @argv (NULL-terminated, without the program). */
static void
run_argv (Result             *result,
          const RunOptions   *options,
          const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDERR_PIPE;
  gint64 start;

  g_ptr_array_add (argv, (char *) g_getenv ("GATHER_TOOL"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  if (options->stdin_mode != STDIN_CLOSED)
    flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;
  if (options->stdout_path == NULL && options->stdin_mode != STDOUT_CLOSED)
    flags |= G_SUBPROCESS_FLAGS_STDOUT_PIPE;
  launcher = new_launcher (flags, options->plugin_path ? options->plugin_path : plugin_dir);
  if (options->stdout_path != NULL)
    g_subprocess_launcher_set_stdout_file_path (launcher, options->stdout_path);
  if (options->stdin_mode == STDIN_CLOSED)
    g_subprocess_launcher_set_child_setup (launcher, close_stdin, NULL, NULL);
  if (options->stdin_mode == STDOUT_CLOSED)
    g_subprocess_launcher_set_child_setup (launcher, close_stdout, NULL, NULL);

  start = g_get_monotonic_time ();
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process,
                                 options->stdin_mode != STDIN_CLOSED ? (options->input ? options->input : "") : NULL,
                                 NULL, &result->out, &result->err, &error);
  g_assert_no_error (error);
  result->elapsed = g_get_monotonic_time () - start;
  if (!g_subprocess_get_if_exited (process))
    {
      g_autofree char *command = g_strjoinv ("” “", (char **) argv->pdata);

      g_error ("“%s” was killed by signal %d; stderr:\n%s", command,
               g_subprocess_get_term_sig (process), result->err);
    }
  result->status = g_subprocess_get_exit_status (process);
  if (result->out == NULL)
    result->out = g_strdup ("");
}

/* Runs gather with @args (NULL-terminated) and optional standard input. */
static void
run_with_path (Result      *result,
               const char  *plugin_path,
               const char  *input,
               const char  *first_arg,
               ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  RunOptions options = { plugin_path, input, STDIN_TEXT, NULL };
  va_list ap;

  va_start (ap, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  run_argv (result, &options, (const char * const *) args->pdata);
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

/* Asserts that @text is one JSON value by RFC 8259 and more: UTF-8, no
 * NaN or Infinity, no lone surrogates, no key twice in an object. */
static void
assert_strict_json (const char *text)
{
  g_autoptr(GatherJsonNode) root = NULL;
  g_autoptr(GError) error = NULL;

  root = gather_json_parse (text, strlen (text), 1000, &error);
  if (root == NULL)
    g_error ("Not strict JSON (%s):\n%s", error->message, text);
}

static JsonArray *
parse_json_array (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  assert_strict_json (text);
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

  assert_strict_json (text);
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
  /* The usage line names the command a user types. */
  assert_has (help_run.out, "Usage:\n  gather run [OPTION…] [TASK…]");
  assert_has (help_run.out, "--timeout=DURATION");
  assert_has (help_run.out, "--file=FILE");
  assert_has (help_run.out, "--policy=POLICY");
  assert_has (help_run.out, "--dry-run");
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
  g_auto(Result) keys = { 0 };
  g_autoptr(JsonObject) root = NULL;
  JsonArray *workers;
  static const char *names[] = { "checksum", "compute", "sleep", "spawn" };

  g_test_summary ("gather plugins lists every worker, its parameters and file, "
                  "as text and as JSON, and exits 0 when every plugin loaded");

  run (&text, "plugins");
  g_assert_cmpint (text.status, ==, 0);
  assert_has (text.out, "sleep\n");
  assert_has (text.out, "  ms=u (required)  How long to sleep, in milliseconds");
  assert_has (text.out, "  path=ay (required)  The file to hash");
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

  run (&keys, "plugins", "--keys=sleep");
  g_assert_cmpint (keys.status, ==, 0);
  g_assert_cmpstr (keys.out, ==, "ms=\nvalue=\nlabel=\ntimeout=\n");

  run (&extra, "plugins", "more");
  assert_usage_error (&extra, "more: Unexpected argument");
}

/* A private directory of the isolation fixtures (tests/plugins). */
static char *
isolation_plugins (void)
{
  char *dir = g_dir_make_tmp ("gather-tool-isolate-XXXXXX", NULL);
  static const char * const fixtures[][2] = {
    { "fixture-isolate.so", "gather-isolate.so" },
    { "fixture-abort-ctor.so", "gather-abort-ctor.so" },
  };

  g_assert_nonnull (dir);
  g_assert_cmpint (g_chmod (dir, 0700), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      g_autofree char *from = g_build_filename (g_getenv ("GATHER_TEST_BAD_PLUGINS"), fixtures[i][0], NULL);

      g_free (test_install_file (from, dir, fixtures[i][1]));
    }

  return dir;
}

static void
restore_env (const char *name,
             const char *saved)
{
  if (saved != NULL)
    g_setenv (name, saved, TRUE);
  else
    g_unsetenv (name);
}

static void
test_tool_isolate (void)
{
  g_autofree char *dir = isolation_plugins ();
  g_autofree char *path = g_strconcat (plugin_dir, ":", dir, NULL);
  g_auto(Result) plugins = { 0 };
  g_auto(Result) json = { 0 };
  g_auto(Result) outcomes = { 0 };
  g_autoptr(JsonObject) root = NULL;
  g_autoptr(JsonArray) rows = NULL;
  g_autofree char *saved_asan = NULL;
  g_autofree char *saved_tsan = NULL;
  g_autofree char *asan = NULL;
  g_autofree char *tsan = NULL;
  JsonArray *failures;

  g_test_summary ("With --isolate, a plugin that aborts as it loads is listed as not loaded "
                  "and the others load; a task that crashes or hangs ends with an error or a "
                  "timeout while the others succeed");

  run_with_path (&plugins, path, NULL, "plugins", "--isolate", NULL);
  g_assert_cmpint (plugins.status, ==, 1);
  assert_has (plugins.out, "sleep\n");
  assert_has (plugins.out, "isolate-echo\n");
  assert_has (plugins.out, "Not loaded:");
  assert_has (plugins.out, "gather-abort-ctor.so");
  assert_has (plugins.out, "killed by signal 6");
  assert_has (plugins.err, "gather plugins: 1 plugin could not be loaded");

  run_with_path (&json, path, NULL, "plugins", "--isolate", "--json", NULL);
  g_assert_cmpint (json.status, ==, 1);
  root = parse_json_object (json.out);
  failures = json_object_get_array_member (root, "failures");
  g_assert_cmpuint (json_array_get_length (failures), ==, 1);
  g_assert_true (g_str_has_suffix (json_object_get_string_member (json_array_get_object_element (failures, 0), "path"),
                                   "gather-abort-ctor.so"));

  /* In the sanitizer build the helpers are sanitized too: let the segfault
   * this causes be a plain signal, as in test-isolation. Only for this run,
   * so that the command's other runs keep every check. */
  saved_asan = g_strdup (g_getenv ("ASAN_OPTIONS"));
  saved_tsan = g_strdup (g_getenv ("TSAN_OPTIONS"));
  asan = g_strconcat (saved_asan != NULL ? saved_asan : "",
                      ":handle_segv=0:handle_abort=0:handle_sigbus=0:detect_leaks=0", NULL);
  tsan = g_strconcat (saved_tsan != NULL ? saved_tsan : "",
                      ":handle_segv=0:handle_abort=0:handle_sigbus=0", NULL);
  g_setenv ("ASAN_OPTIONS", asan, TRUE);
  g_setenv ("TSAN_OPTIONS", tsan, TRUE);
  run_with_path (&outcomes, path, NULL, "run", "--isolate", "--json", "-t", "300ms",
                 "isolate-crash how=segv label=crash", "isolate-hang label=stuck",
                 "isolate-echo value=fine label=fine", "sleep ms=1 label=sleep", NULL);
  restore_env ("ASAN_OPTIONS", saved_asan);
  restore_env ("TSAN_OPTIONS", saved_tsan);
  g_assert_cmpint (outcomes.status, ==, 1);
  rows = parse_json_array (outcomes.out);
  g_assert_cmpuint (json_array_get_length (rows), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 0), "status"), ==, "error");
  assert_has (json_object_get_string_member (json_object_get_object_member (json_array_get_object_element (rows, 0), "error"), "message"),
              "was killed by signal 11");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 1), "status"), ==, "timeout");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 2), "status"), ==, "ok");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 3), "status"), ==, "ok");

  test_remove_tree (dir);
}

static void
test_tool_plugin_failures (void)
{
  g_autofree char *path = g_strconcat (plugin_dir, ":", bad_plugin_dir, NULL);
  g_auto(Result) text = { 0 };
  g_auto(Result) json = { 0 };
  g_autoptr(JsonObject) root = NULL;
  JsonArray *failures;

  g_test_summary ("Plugins that fail to load are listed with the reason, the "
                  "others still load, and the exit status is 1");
  g_test_bug ("9");

  run_with_path (&text, path, NULL, "plugins", NULL);
  g_assert_cmpint (text.status, ==, 1);
  assert_has (text.out, "sleep\n");
  assert_has (text.out, "Not loaded:");
  assert_has (text.out, "built for plugin ABI 999");
  assert_has (text.out, "does not export “gather_no_entry_plugin”");
  assert_has (text.err, "gather plugins: 4 plugins could not be loaded");

  run_with_path (&json, path, NULL, "plugins", "--json", NULL);
  g_assert_cmpint (json.status, ==, 1);
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

static void
test_tool_plugin_latin1_path (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *latin1 = NULL;
  g_autofree char *from = g_build_filename (plugin_dir, "gather-sleep.so", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(Result) json = { 0 };
  g_auto(Result) text = { 0 };
  g_autoptr(JsonObject) root = NULL;
  JsonObject *worker;

  g_test_summary ("A plugin whose file name is not UTF-8: --json still prints "
                  "valid JSON, with U+FFFD for the bad byte");
  g_test_bug ("9");

  dir = g_dir_make_tmp ("gather-tool-XXXXXX", &error);
  g_assert_no_error (error);
  latin1 = g_build_filename (dir, "plugins-\xe9t\xe9", NULL);
  g_assert_cmpint (g_mkdir (latin1, 0700), ==, 0);
  g_free (test_install_file (from, latin1, "gather-sleep.so"));

  run_with_path (&json, latin1, NULL, "plugins", "--json", NULL);
  g_assert_cmpint (json.status, ==, 0);
  root = parse_json_object (json.out);
  worker = json_array_get_object_element (json_object_get_array_member (root, "workers"), 0);
  assert_has (json_object_get_string_member (worker, "path"),
              "plugins-\xef\xbf\xbdt\xef\xbf\xbd/gather-sleep.so");

  run_with_path (&text, latin1, NULL, "plugins", NULL);
  g_assert_cmpint (text.status, ==, 0);
  g_assert_true (g_utf8_validate (text.out, -1, NULL));

  test_remove_tree (dir);
}

static char *
example_path (const char *name)
{
  return g_build_filename (g_getenv ("G_TEST_SRCDIR"), "..", "data", "examples", name, NULL);
}

/* The seconds in a summary line's "… cancelled in 3.0s". */
static double
summary_seconds (const char *text)
{
  const char *in = strstr (text, " cancelled in ");
  char *end = NULL;
  double seconds;

  g_assert_nonnull (in);
  seconds = g_ascii_strtod (in + strlen (" cancelled in "), &end);
  g_assert_true (end != NULL && *end == 's');

  return seconds;
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
  double seconds;

  g_test_summary ("The seed example: user 3 times out at 3 s, the other users "
                  "are fetched, in order, in about 3 s rather than 5; a run that "
                  "failed by a timeout alone exits 124");

  run (&table, "run", "--file", file);
  g_assert_cmpint (table.status, ==, 124);
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
  /* Bounds, not the text of a time. */
  assert_has (lines[5], "4 tasks: 3 ok, 0 error, 1 timeout, 0 cancelled in ");
  seconds = summary_seconds (lines[5]);
  g_assert_cmpfloat (seconds, >=, 2.95);
  g_assert_cmpfloat (seconds, <, 4.5);

  run (&json, "run", "--json", "--file", file);
  g_assert_cmpint (json.status, ==, 124);
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
  g_assert_cmpint (result.status, ==, 124);
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
test_tool_short_options (void)
{
  g_auto(Result) attached = { 0 };
  g_auto(Result) grouped = { 0 };
  g_autoptr(JsonArray) outcomes = NULL;

  g_test_summary ("Short options take their value attached, as -j4 and -t10ms, "
                  "also after other flags, as -qj2");
  g_test_bug ("9");

  run (&attached, "run", "-j4", "-t10ms", "--json", "sleep ms=20000", "sleep ms=1 timeout=10s");
  g_assert_cmpint (attached.status, ==, 124);
  outcomes = parse_json_array (attached.out);
  g_assert_cmpstr (outcome_status (outcomes, 0), ==, "timeout");
  g_assert_cmpstr (outcome_status (outcomes, 1), ==, "ok");
  g_assert_cmpint (attached.elapsed, <, 5000 * 1000);

  run (&grouped, "run", "-qj2", "-pfirst-success", "sleep ms=1", "sleep ms=20000");
  g_assert_cmpint (grouped.status, ==, 0);
  g_assert_null (strstr (grouped.out, "tasks:"));
}

static void
test_tool_exit_status (void)
{
  static const struct {
    const char *args[5];
    int         status;
    const char *summary;
  } cases[] = {
    { { "sleep ms=1", "compute n=10" }, 0, "2 tasks: 2 ok, 0 error, 0 timeout, 0 cancelled" },
    { { "sleep ms=1", "checksum path=/nonexistent/file" }, 1, "1 ok, 1 error" },
    { { "sleep ms=1", "sleep ms=20000 timeout=50ms" }, 124, "1 ok, 0 error, 1 timeout" },
    { { "checksum path=/nonexistent/file", "sleep ms=20000 timeout=50ms" }, 1, "1 error, 1 timeout" },
    /* The policy decides: siblings it cancelled are not failures. */
    { { "--policy=first-success", "sleep ms=1", "sleep ms=20000" }, 0, "1 ok, 0 error, 0 timeout, 1 cancelled" },
    { { "--policy=first-success", "checksum path=/nonexistent/file", "sleep ms=20000 timeout=50ms" }, 1, "0 ok, 1 error, 1 timeout" },
    { { "--policy=quorum=2", "sleep ms=1", "checksum path=/nonexistent/file" }, 1, "1 ok, 1 error" },
    /* The error comes first, however the tasks are scheduled: it starts
     * first and fails at once, long before the sleeps make the quorum. */
    { { "--policy=quorum=2", "checksum path=/nonexistent/file", "sleep ms=500", "sleep ms=500" }, 0, "2 ok, 1 error" },
    { { "--policy=first-error", "checksum path=/nonexistent/file", "sleep ms=20000" }, 1, "0 ok, 1 error, 0 timeout, 1 cancelled" },
    /* A failed command is an error, not a success with a status. */
    { { "spawn argv='sh -c \"echo oops >&2; exit 3\"'" }, 1, "0 ok, 1 error" },
    { { "spawn argv='sh -c \"exit 3\"' check=false" }, 0, "1 ok" },
  };

  g_test_summary ("The exit status follows the policy: 0 when it succeeded, 1 "
                  "when it failed, 124 when it failed by timeouts alone");
  g_test_bug ("9");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Result) result = { 0 };

      run (&result, "run", cases[i].args[0], cases[i].args[1], cases[i].args[2], cases[i].args[3]);
      if (result.status != cases[i].status)
        g_error ("Case %u: exit status %d, not %d:\n%s%s", i, result.status, cases[i].status,
                 result.out, result.err);
      assert_has (result.out, cases[i].summary);
      g_assert_cmpint (result.elapsed, <, 10000 * 1000);
    }
}

static void
test_tool_spawn_failure_visible (void)
{
  g_auto(Result) result = { 0 };
  g_autoptr(JsonArray) outcomes = NULL;
  JsonObject *error;

  g_test_summary ("A command that exits with 3 shows as an error with its "
                  "status and stderr, in the table and in the JSON");
  g_test_bug ("9");

  run (&result, "run", "--json", "spawn argv='sh -c \"echo oops >&2; exit 3\"'");
  g_assert_cmpint (result.status, ==, 1);
  outcomes = parse_json_array (result.out);
  g_assert_cmpstr (outcome_status (outcomes, 0), ==, "error");
  error = json_object_get_object_member (json_array_get_object_element (outcomes, 0), "error");
  g_assert_cmpstr (json_object_get_string_member (error, "domain"), ==, "g-spawn-exit-error-quark");
  g_assert_cmpint (json_object_get_int_member (error, "code"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (error, "message"), ==,
                   "“sh” exited with status 3: oops");
}

static void
test_tool_bad_arguments (void)
{
  static const struct {
    const char *args[4];
    const char *message;
  } cases[] = {
    { { "run", "nope x=1" }, "task “nope x=1”: unknown worker “nope”" },
    { { "run", "slep ms=1" }, "unknown worker “slep” (did you mean “sleep”?)" },
    { { "run", "sleep ms=abc" }, "task “sleep ms=abc”, key “ms”: “abc” is not a number, as type “u” needs" },
    { { "run", "sleep ms=-5" }, "key “ms”: -5 is out of range for type “u” (0 to 4294967295)" },
    { { "run", "sleep ms=-1" }, "key “ms”: -1 is out of range for type “u”" },
    { { "run", "sleep ms=4294967296" }, "key “ms”: 4294967296 is out of range for type “u” (0 to 4294967295)" },
    { { "run", "sleep ms=1.5" }, "key “ms”: 1.5 is not a whole number, as type “u” needs" },
    { { "run", "compute n=18446744073709551616" }, "key “n”: 18446744073709551616 is out of range for type “t”" },
    { { "run", "spawn argv=true max-output=-1" }, "key “max-output”: -1 is out of range for type “u”" },
    { { "run", "sleep colour=red" }, "task “sleep colour=red”, key “colour”: worker “sleep” has no such parameter (it takes: ms, value)" },
    { { "run", "sleep mss=1" }, "key “mss”: worker “sleep” has no such parameter (did you mean “ms”?)" },
    { { "run", "sleep ms=1 ms=2" }, "task “sleep ms=1 ms=2”, key “ms”: it is given twice" },
    { { "run", "sleep ms=1 label=a label=b" }, "key “label”: it is given twice" },
    { { "run", "sleep justaword" }, "“justaword” is not KEY=VALUE" },
    { { "run", "sleep" }, "task “sleep”: Worker “sleep” needs parameter “ms”" },
    { { "run", "" }, "task “”: it is empty: a task starts with a worker's name" },
    { { "run", "sleep ms=1 timeout=soon" }, "key “timeout”: invalid duration “soon”" },
    { { "run", "sleep ms=1 timeout=-1s" }, "key “timeout”: invalid duration “-1s”" },
    { { "run", "sleep 'unterminated" }, "cannot split it into words" },
    { { "run", "sleep ms=1 value=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" },
      "key “value”: the value is nested more than 64 deep" },
    { { "run", "--timeout=-1s", "sleep ms=1" }, "--timeout: invalid duration “-1s”" },
    { { "run", "--timeout=3", "sleep ms=1" }, "--timeout: invalid duration “3”" },
    { { "run", "--deadline=48h", "sleep ms=1" }, "--deadline: the duration “48h” is longer than a day" },
    { { "run", "--deadline=99999999999999999999ms", "sleep ms=1" }, "--deadline: the duration" },
    { { "run", "--policy=maybe", "sleep ms=1" }, "--policy: Invalid policy “maybe”" },
    { { "run", "--policy=quorum=0", "sleep ms=1" }, "--policy: Invalid policy “quorum=0”" },
    { { "run", "--policy=quorum=3", "sleep ms=1", "sleep ms=2" }, "--policy: A quorum of 3 can never be reached with 2 tasks" },
    { { "run", "--jobs=-1", "sleep ms=1" }, "--jobs: “-1” is not a number from 1 to 1024" },
    { { "run", "--jobs=0", "sleep ms=1" }, "--jobs: “0” is not a number from 1 to 1024" },
    { { "run", "-j0", "sleep ms=1" }, "--jobs: “0” is not a number from 1 to 1024" },
    { { "run", "--jobs=4x", "sleep ms=1" }, "--jobs: “4x” is not a number" },
    { { "run", "--bogus" }, "Unknown option --bogus" },
    { { "run" }, "No tasks" },
    { { "run", "--file=/dev/null", "sleep ms=1" }, "not both" },
  };

  g_test_summary ("Usage errors exit 2 with a message naming the task, the key "
                  "and what is wrong, before any task runs");
  g_test_bug ("9");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Result) result = { 0 };

      run (&result, cases[i].args[0], cases[i].args[1], cases[i].args[2], cases[i].args[3]);
      assert_usage_error (&result, cases[i].message);
      g_assert_cmpstr (result.out, ==, "");
    }
}

static void
test_tool_bad_bytes (void)
{
  static const struct {
    const char *task;
    const char *message;
  } cases[] = {
    /* Text parameters take text. */
    { "sleep ms=1 value=caf\xe9", "key “value”: “caf\\xE9” is not valid UTF-8 (byte 0xE9), as type “*” needs" },
    { "sleep ms=1 label=caf\xe9", "key “label”: the label is not valid UTF-8 (byte 0xE9)" },
    { "checksum path=/etc/hostname algorithm=md\xe9", "key “algorithm”: “md\\xE9” is not valid UTF-8" },
    { "sl\xe9\x65p ms=1", "unknown worker “sl\\xE9ep”" },
    { "sleep m\xe9s=1", "key “m\\xE9s”: worker “sleep” has no such parameter" },
  };

  g_test_summary ("Bytes that are not UTF-8 in text values, labels, worker "
                  "names and keys exit 2 with the bytes shown as \\xNN, never a crash");
  g_test_bug ("9");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Result) result = { 0 };

      run (&result, "run", cases[i].task);
      assert_usage_error (&result, cases[i].message);
      g_assert_true (g_utf8_validate (result.err, -1, NULL));
    }
}

static char *
write_temp_bytes (const char *contents,
                  gssize      length)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("gather-tasks-XXXXXX.json", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);

  return path;
}

static char *
write_temp (const char *contents)
{
  return write_temp_bytes (contents, -1);
}

static void
test_tool_latin1_file_name (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gather-tool-XXXXXX", &error);
  g_autofree char *name = g_build_filename (dir, "caf\xe9", NULL);
  g_autofree char *argument = g_strdup_printf ("checksum algorithm=md5 path=%s", name);
  g_autofree char *spawn = g_strdup_printf ("spawn argv='cat %s'", name);
  g_autofree char *json = NULL;
  g_autofree char *task_file = NULL;
  g_autofree char *shown = NULL;
  g_auto(Result) from_argument = { 0 };
  g_auto(Result) from_file = { 0 };
  g_autoptr(JsonArray) outcomes = NULL;
  GString *bytes = g_string_new ("[");

  g_test_summary ("A Latin-1 file name given to checksum and spawn, as an "
                  "argument or as a byte array in a task file, is used as it is");
  g_test_bug ("9");

  g_assert_no_error (error);
  g_file_set_contents (name, "abc", -1, &error);
  g_assert_no_error (error);

  run (&from_argument, "run", "--json", argument, spawn);
  g_assert_cmpint (from_argument.status, ==, 0);
  outcomes = parse_json_array (from_argument.out);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (
                     json_array_get_object_element (outcomes, 0), "result"), "digest"),
                   ==, "900150983cd24fb0d6963f7d28e17f72");
  shown = g_filename_display_name (name);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (
                     json_array_get_object_element (outcomes, 0), "result"), "path"), ==, shown);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (
                     json_array_get_object_element (outcomes, 1), "result"), "stdout"), ==, "abc");

  for (const char *p = name; *p != '\0'; p++)
    g_string_append_printf (bytes, "%s%u", p > name ? "," : "", (guchar) *p);
  g_string_append (bytes, "]");
  json = g_strdup_printf ("[ { \"worker\": \"checksum\", \"parameters\": "
                          "{ \"path\": %s, \"algorithm\": \"md5\" } } ]", bytes->str);
  g_string_free (bytes, TRUE);
  task_file = write_temp (json);
  run (&from_file, "run", "--json", "--file", task_file);
  g_assert_cmpint (from_file.status, ==, 0);
  assert_has (from_file.out, "900150983cd24fb0d6963f7d28e17f72");

  g_unlink (task_file);
  test_remove_tree (dir);
}

static void
test_tool_task_files (void)
{
  static const struct {
    const char *contents;
    const char *message;
  } cases[] = {
    /* Not JSON, or JSON gather cannot pass on faithfully. */
    { "{ not json", "line 1, column 3: a key in double quotes was expected, not “n”" },
    { "[ { \"worker\": 'sleep' } ]", "line 1, column 15: a value was expected, not “'” (strings take double quotes)" },
    { "[ { \"worker\": \"sleep\", } ]", "line 1, column 24: a key in double quotes was expected" },
    { "[ { \"worker\": \"sleep\" }\n  { \"worker\": \"sleep\" } ]", "line 2, column 3: “,” or “]” was expected" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 01 } } ]", "a number cannot start with 0" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": NaN } } ]", "a value was expected, not “N”" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1, \"ms\": 2 } } ]",
      "line 1, column 49: the key “ms” is given twice in one object (first at line 1, column 40)" },
    { "[ { \"worker\": \"sleep\", \"worker\": \"compute\" } ]", "the key “worker” is given twice" },
    { "[ { \"worker\": \"checksum\", \"parameters\": { \"path\": \"/etc/passwd\\u0000zzz\" } } ]",
      "line 1, column 63: \\u0000 (a NUL character) cannot be passed on in a string" },
    { "[ { \"worker\": \"sleep\\u0000x\", \"parameters\": { \"ms\": 1 } } ]", "\\u0000 (a NUL character)" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1, \"value\": \"a\\ud800b\" } } ]",
      "\\uD800 is a lone UTF-16 surrogate, not a character" },
    { "[ { \"worker\": \"checksum\", \"parameters\": { \"path\": \"\\udc00\" } } ]",
      "\\uDC00 is a lone UTF-16 surrogate" },
    { "[ { \"worker\": \"sleep\", \"label\": \"caf\xe9\", \"parameters\": { \"ms\": 1 } } ]",
      "line 1, column 37: byte 0xE9 is not valid UTF-8: JSON text must be UTF-8" },
    /* Well-formed, but not what a task file holds. */
    /* Not [ or { first: one task a line, and 42 is no worker. */
    { "42", "line 1: task 1: unknown worker “42”" },
    { "{ \"tasks\": { } }", "line 1, column 12: a task file holds an array of tasks, or an object with a “tasks” array, not an object" },
    { "{ }", "line 1, column 1: a task file holds an array of tasks, or an object with a “tasks” array, not an object without one" },
    { "{ \"tasks\": 3 }", "a task file holds an array of tasks, or an object with a “tasks” array, not a number" },
    { "{ \"jobs\": [] }", "line 1, column 3: a task file has no key “jobs”" },
    { "[ 42 ]", "line 1, column 3: task 1: a task must be an object" },
    { "[ { \"label\": \"x\" } ]", "task 1: the key “worker” is missing" },
    { "[ { \"worker\": 5 } ]", "task 1, key “worker”: it must be a string, not a number" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1 } }, { \"worker\": \"nope\" } ]",
      "line 1, column 65: task 2, key “worker”: unknown worker “nope”" },
    { "[ { \"worker\": \"sleep\", \"timout\": \"10ms\", \"parameters\": { \"ms\": 1 } } ]",
      "line 1, column 24: task 1, key “timout”: a task has no such key (did you mean “timeout”?)" },
    { "[ { \"worker\": \"sleep\", \"label\": 5, \"parameters\": { \"ms\": 1 } } ]",
      "task 1, key “label”: it must be a string, not a number" },
    { "[ { \"worker\": \"sleep\", \"label\": [1], \"parameters\": { \"ms\": 1 } } ]",
      "task 1, key “label”: it must be a string, not an array" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": \"soon\" } } ]",
      "task 1, key “ms”: type “u” needs a number, not a string" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": -1 } } ]",
      "line 1, column 46: task 1, key “ms”: -1 is out of range for type “u” (0 to 4294967295)" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 4294967296 } } ]",
      "key “ms”: 4294967296 is out of range for type “u”" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1.5 } } ]", "key “ms”: 1.5 is not a whole number" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1e3 } } ]", "key “ms”: 1e3 is not a whole number" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1, \"value\": 1e400 } } ]",
      "key “value”: 1e400 is out of range for type “d”" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1, \"value\": null } } ]",
      "key “value”: null cannot be passed on" },
    { "[ { \"worker\": \"spawn\", \"parameters\": { \"argv\": [\"true\"], \"max-output\": -1 } } ]",
      "key “max-output”: -1 is out of range for type “u”" },
    { "[ { \"worker\": \"spawn\", \"parameters\": { \"argv\": \"true\" } } ]",
      "key “argv”: type “aay” needs an array, not a string" },
    { "[ { \"worker\": \"spawn\", \"parameters\": { \"argv\": [\"true\", 7] } } ]",
      "line 1, column 57: task 1, key “argv”: type “ay” (a byte string, such as a file name) needs a string or an array of numbers" },
    { "[ { \"worker\": \"checksum\", \"parameters\": { \"path\": [47, 0, 65] } } ]",
      "key “path”: a byte string (such as a file name) cannot hold a NUL byte" },
    { "[ { \"worker\": \"checksum\", \"parameters\": { \"path\": [47, 256] } } ]",
      "key “path”: 256 is out of range for type “y”" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1, \"colour\": \"red\" } } ]",
      "task 1, key “colour”: worker “sleep” has no such parameter (it takes: ms, value)" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1 }, \"timeout\": 5 } ]",
      "task 1, key “timeout”: it must be a duration string such as \"3s\"" },
    { "[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1 }, \"timeout\": \"-3s\" } ]",
      "task 1, key “timeout”: invalid duration “-3s”" },
    { "[ { \"worker\": \"sleep\", \"parameters\": [] } ]", "key “parameters”: it must be an object" },
    { "[ { \"worker\": \"sleep\" } ]", "task 1: Worker “sleep” needs parameter “ms”" },
    /* One task per line. */
    { "sleep ms=1\n\n# a comment\nsleep ms=-1\n", "line 4: task 2, key “ms”: -1 is out of range" },
    { "sleep ms=1\nnope\n", "line 2: task 2: unknown worker “nope”" },
  };
  g_auto(Result) missing = { 0 };
  g_auto(Result) from_stdin = { 0 };
  g_autoptr(JsonArray) outcomes = NULL;

  g_test_summary ("Malformed task files exit 2 with a message naming the file, "
                  "the line, the task, the key and what is wrong; nothing runs");
  g_test_bug ("9");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_temp (cases[i].contents);
      g_autofree char *prefix = g_strdup_printf ("gather run: %s: ", path);
      g_auto(Result) result = { 0 };

      run (&result, "run", "--file", path);
      assert_usage_error (&result, cases[i].message);
      assert_has (result.err, prefix);
      g_assert_cmpstr (result.out, ==, "");
      g_unlink (path);
    }

  run (&missing, "run", "--file", "/nonexistent/tasks.json");
  assert_usage_error (&missing, "/nonexistent/tasks.json: cannot open the task file: No such file or directory");

  run_with_path (&from_stdin, plugin_dir,
                 "[ { \"worker\": \"compute\", \"label\": \"primes\", \"parameters\": { \"n\": 100 } } ]",
                 "run", "--json", "--file", "-", NULL);
  g_assert_cmpint (from_stdin.status, ==, 0);
  outcomes = parse_json_array (from_stdin.out);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (outcomes, 0), "result"), ==, 25);
}

static void
test_tool_deep_nesting (void)
{
  GString *arrays = g_string_new (NULL);
  GString *objects = g_string_new ("[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1, \"value\": ");
  g_autofree char *arrays_path = NULL;
  g_autofree char *objects_path = NULL;
  g_auto(Result) deep_arrays = { 0 };
  g_auto(Result) deep_objects = { 0 };
  g_auto(Result) allowed = { 0 };
  GString *ok = g_string_new ("[ { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1, \"value\": ");
  g_autofree char *ok_path = NULL;

  g_test_summary ("100,000 nested arrays, or 10,000 nested objects in a value, "
                  "exit 2 at the depth limit of 64 instead of overflowing the stack; "
                  "64 levels are accepted");
  g_test_bug ("9");

  for (guint i = 0; i < 100000; i++)
    g_string_append_c (arrays, '[');
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (arrays, ']');
  arrays_path = write_temp (arrays->str);
  g_string_free (arrays, TRUE);

  for (guint i = 0; i < 10000; i++)
    g_string_append (objects, "{\"a\":");
  g_string_append (objects, "1");
  for (guint i = 0; i < 10000; i++)
    g_string_append_c (objects, '}');
  g_string_append (objects, " } } ]");
  objects_path = write_temp (objects->str);
  g_string_free (objects, TRUE);

  /* The task array, the task, its parameters: 3 levels; 61 more. */
  for (guint i = 0; i < 61; i++)
    g_string_append_c (ok, '[');
  for (guint i = 0; i < 61; i++)
    g_string_append_c (ok, ']');
  g_string_append (ok, " } } ]");
  ok_path = write_temp (ok->str);
  g_string_free (ok, TRUE);

  run (&deep_arrays, "run", "--file", arrays_path);
  assert_usage_error (&deep_arrays, "line 1, column 65: arrays and objects are nested more than 64 deep");

  run (&deep_objects, "run", "--file", objects_path);
  assert_usage_error (&deep_objects, "arrays and objects are nested more than 64 deep");

  run (&allowed, "run", "--quiet", "--file", ok_path);
  g_assert_cmpint (allowed.status, ==, 0);

  g_unlink (arrays_path);
  g_unlink (objects_path);
  g_unlink (ok_path);
}

static void
test_tool_file_kinds (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *big = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Result) zero = { 0 };
  g_auto(Result) directory = { 0 };
  g_auto(Result) closed = { 0 };
  g_auto(Result) too_big = { 0 };
  RunOptions closed_stdin = { NULL, NULL, STDIN_CLOSED, NULL };
  const char *closed_args[] = { "run", "--file", "-", NULL };
  int fd;

  g_test_summary ("--file reads only regular files, pipes and terminals, at "
                  "most 64 MiB; /dev/zero, a directory, a closed standard input "
                  "and a larger file exit 2 at once");
  g_test_bug ("9");

  run (&zero, "run", "--file", "/dev/zero");
  assert_usage_error (&zero, "/dev/zero: a task file must be a regular file or a pipe, and this is a character device");
  g_assert_cmpint (zero.elapsed, <, 5000 * 1000);

  dir = g_dir_make_tmp ("gather-tool-XXXXXX", &error);
  g_assert_no_error (error);
  run (&directory, "run", "--file", dir);
  assert_usage_error (&directory, "this is a directory");

  run_argv (&closed, &closed_stdin, closed_args);
  assert_usage_error (&closed, "standard input: cannot read the tasks: standard input is closed");

  /* Sparse: 64 MiB and one byte, of zeros. */
  big = g_build_filename (dir, "big.json", NULL);
  fd = g_open (big, O_WRONLY | O_CREAT, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 64 * 1024 * 1024 + 1), ==, 0);
  close (fd);
  run (&too_big, "run", "--file", big);
  assert_usage_error (&too_big, "the task file is larger than 64 MiB, the most gather reads");

  test_remove_tree (dir);
}

static void
test_tool_task_lines (void)
{
  g_autofree char *path = write_temp ("# tasks, one a line\n"
                                      "sleep ms=1 value=first label='task one'\r\n"
                                      "\n"
                                      "   compute n=100\n"
                                      "spawn argv='echo hi'");
  g_auto(Result) from_file = { 0 };
  g_auto(Result) from_stdin = { 0 };
  g_autoptr(JsonArray) outcomes = NULL;
  g_autoptr(JsonArray) piped = NULL;

  g_test_summary ("A task file that does not start with [ or { holds one task "
                  "a line, as arguments do; blank lines and # comments are skipped");
  g_test_bug ("9");

  run (&from_file, "run", "--json", "--file", path);
  g_assert_cmpint (from_file.status, ==, 0);
  outcomes = parse_json_array (from_file.out);
  g_assert_cmpuint (json_array_get_length (outcomes), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (outcomes, 0), "label"), ==, "task one");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (outcomes, 1), "result"), ==, 25);

  run_with_path (&from_stdin, plugin_dir, "sleep ms=1\ncompute n=10\n", "run", "--json", "-f-", NULL);
  g_assert_cmpint (from_stdin.status, ==, 0);
  piped = parse_json_array (from_stdin.out);
  g_assert_cmpuint (json_array_get_length (piped), ==, 2);

  g_unlink (path);
}

static void
test_tool_json_strict (void)
{
  g_autofree char *path = write_temp (
    "[ { \"worker\": \"sleep\", \"label\": \"big\", \"parameters\": { \"ms\": 1, \"value\": 18446744073709551615 } },"
    "  { \"worker\": \"sleep\", \"label\": \"small\", \"parameters\": { \"ms\": 1, \"value\": -9223372036854775808 } },"
    "  { \"worker\": \"sleep\", \"label\": \"huge double\", \"parameters\": { \"ms\": 1, \"value\": 1e300 } },"
    "  { \"worker\": \"sleep\", \"label\": \"\\u00e9\\ud83d\\ude00 \\\"quoted\\\"\\n\\t\", \"parameters\": { \"ms\": 1 } },"
    "  { \"worker\": \"sleep\", \"parameters\": { \"ms\": 1, \"value\": { \"nested\": [1, \"two\", false] } } } ]");
  g_auto(Result) from_file = { 0 };
  g_auto(Result) from_args = { 0 };
  g_autoptr(JsonArray) outcomes = NULL;
  g_autoptr(JsonArray) special = NULL;

  g_test_summary ("--json output parses with a strict JSON parser whatever the "
                  "values: 64-bit extremes, NaN, infinities, doubles of 1e17 and "
                  "more, escapes, non-ASCII labels, bytes that are not UTF-8");
  g_test_bug ("9");

  run (&from_file, "run", "--json", "--file", path);
  g_assert_cmpint (from_file.status, ==, 0);
  outcomes = parse_json_array (from_file.out);
  assert_has (from_file.out, "\"result\":18446744073709551615,");
  assert_has (from_file.out, "\"result\":-9223372036854775808,");
  assert_has (from_file.out, "\"result\":1e+300,");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (outcomes, 3), "label"),
                   ==, "\xc3\xa9\xf0\x9f\x98\x80 \"quoted\"\n\t");

  run (&from_args, "run", "--json",
       "sleep ms=1 value=nan", "sleep ms=1 value=inf", "sleep ms=1 value=-inf",
       "sleep ms=1 value='@d 1e17'", "sleep ms=1 value='@d 1e20'",
       "sleep ms=1 value='@d 0.1'", "sleep ms=1 value='@d -0.0'",
       "spawn argv='printf \"a\\\\377b\"'", NULL);
  g_assert_cmpint (from_args.status, ==, 0);
  special = parse_json_array (from_args.out);
  g_assert_cmpuint (json_array_get_length (special), ==, 8);
  assert_has (from_args.out, "\"result\":\"NaN\",");
  assert_has (from_args.out, "\"result\":\"Infinity\",");
  assert_has (from_args.out, "\"result\":\"-Infinity\",");
  assert_has (from_args.out, "\"result\":1e+17,");
  assert_has (from_args.out, "\"result\":1e+20,");
  assert_has (from_args.out, "\"result\":0.1,");
  assert_has (from_args.out, "\"result\":-0,");
  assert_has (from_args.out, "\"stdout\":\"a\xef\xbf\xbd" "b\"");

  g_unlink (path);
}

static void
test_tool_json_stream (void)
{
  g_auto(Result) result = { 0 };
  g_auto(GStrv) lines = NULL;

  g_test_summary ("--json --stream prints JSON Lines: one outcome object a "
                  "line, in the order tasks finish");
  g_test_bug ("9");

  run (&result, "run", "--json", "--stream", "sleep ms=400 label=slow", "sleep ms=10 label=fast");
  g_assert_cmpint (result.status, ==, 0);
  lines = g_strsplit (result.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  g_assert_cmpstr (lines[2], ==, "");
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(JsonObject) outcome = parse_json_object (lines[i]);

      g_assert_cmpstr (json_object_get_string_member (outcome, "label"), ==, i == 0 ? "fast" : "slow");
    }
  assert_has (result.err, "2 tasks: 2 ok");
}

static void
test_tool_write_error (void)
{
  static const char *cases[][5] = {
    { "run", "--json", "sleep ms=1", NULL },
    { "run", "sleep ms=1", NULL },
    { "run", "--json", "--stream", "sleep ms=1", NULL },
    { "plugins", "--json", NULL },
    { "help", "run", NULL },
  };

  g_test_summary ("Output that cannot be written (standard output is /dev/full, "
                  "or closed) is an error: exit 2 with a message, not 0");
  g_test_bug ("9");

  if (!g_file_test ("/dev/full", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("/dev/full does not exist here: no full device to write to");
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      RunOptions options = { NULL, NULL, STDIN_TEXT, "/dev/full" };
      RunOptions closed = { NULL, NULL, STDOUT_CLOSED, NULL };
      g_auto(Result) result = { 0 };
      g_auto(Result) no_stdout = { 0 };

      run_argv (&result, &options, cases[i]);
      assert_usage_error (&result, "cannot write to standard output: No space left on device");

      /* No standard output at all: the output is lost as surely. */
      run_argv (&no_stdout, &closed, cases[i]);
      assert_usage_error (&no_stdout, "cannot write to standard output: it is closed");
    }
}

static void
test_tool_dry_run (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gather-tool-XXXXXX", &error);
  g_autofree char *marker = g_build_filename (dir, "ran", NULL);
  g_autofree char *task = g_strdup_printf ("spawn argv='touch %s' label=toucher", marker);
  g_auto(Result) text = { 0 };
  g_auto(Result) json = { 0 };
  g_auto(Result) bad = { 0 };
  g_autoptr(JsonArray) tasks = NULL;

  g_test_summary ("--dry-run checks every task and prints it with its typed "
                  "parameters, runs nothing, exits 0; a bad task still exits 2");
  g_test_bug ("9");

  g_assert_no_error (error);
  run (&text, "run", "--dry-run", "-t3s", task, "sleep ms=10 value=7");
  g_assert_cmpint (text.status, ==, 0);
  assert_has (text.out, "toucher");
  assert_has (text.out, "{'ms': <uint32 10>, 'value': <7>}");
  assert_has (text.out, " 3s ");
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));

  run (&json, "run", "-n", "--json", task);
  g_assert_cmpint (json.status, ==, 0);
  tasks = parse_json_array (json.out);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tasks, 0), "worker"), ==, "spawn");
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));

  run (&bad, "run", "--dry-run", "sleep ms=-1");
  assert_usage_error (&bad, "-1 is out of range");

  test_remove_tree (dir);
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

  /* Time for "sleep ms=1" to run first, even on a loaded machine. */
  run (&deadline, "run", "--json", "--deadline=1s", "sleep ms=20000", "sleep ms=1");
  g_assert_cmpint (deadline.status, ==, 124);
  second = parse_json_array (deadline.out);
  g_assert_cmpstr (outcome_status (second, 0), ==, "timeout");
  g_assert_cmpstr (outcome_status (second, 1), ==, "ok");
  g_assert_cmpint (deadline.elapsed, <, 5000 * 1000);
}

static gboolean
on_fail_safe (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Waits, iterating the main context, until @path holds @n_lines lines;
 * FALSE after @max_msec. */
static gboolean
wait_for_lines (const char *path,
                guint       n_lines,
                guint       max_msec)
{
  gboolean timed_out = FALSE;
  guint fail_safe = g_timeout_add (max_msec, on_fail_safe, &timed_out);

  while (!timed_out)
    {
      g_autofree char *contents = NULL;
      guint lines = 0;
      guint tick;
      gboolean ticked = FALSE;

      if (g_file_get_contents (path, &contents, NULL, NULL))
        for (const char *p = contents; *p != '\0'; p++)
          lines += *p == '\n';
      if (lines >= n_lines)
        {
          g_source_remove (fail_safe);
          return TRUE;
        }

      tick = g_timeout_add (10, on_fail_safe, &ticked);
      while (!ticked && !timed_out)
        g_main_context_iteration (NULL, TRUE);
      if (!ticked)
        g_source_remove (tick);
    }

  return FALSE;
}

/* Whether @pid is dead: gone, or a zombie waiting for its reaper. */
static gboolean
process_dead (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *end;

  if (kill (pid, 0) != 0 && errno == ESRCH)
    return TRUE;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  end = strrchr (stat, ')');
  return end != NULL && end[1] == ' ' && end[2] == 'Z';
}

static void
interrupt_with (int         signum,
                const char *pid_file)
{
  g_autofree char *marker = g_strconcat (pid_file, ".short", NULL);
  /* The long task writes its pids once the short one has run, and a
   * moment after, so that the short one is over by the signal. */
  g_autofree char *task = g_strdup_printf ("spawn label=long argv='sh -c \"until [ -e %s ]; do "
                                           "sleep 0.01; done; sleep 0.5; echo $$ > %s; "
                                           "sleep 30 & echo $! >> %s; wait\"'",
                                           marker, pid_file, pid_file);
  g_autofree char *short_task = g_strdup_printf ("spawn label=short argv='touch %s'", marker);
  const char *argv[] = { g_getenv ("GATHER_TOOL"), "run", task, short_task, NULL };
  g_autoptr(GSubprocessLauncher) launcher = new_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                          G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                                          plugin_dir);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *pids = NULL;
  g_auto(GStrv) lines = NULL;
  gint64 start = g_get_monotonic_time ();

  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_assert_true (wait_for_lines (pid_file, 2, 10000 * test_slowdown ()));
  g_subprocess_send_signal (process, signum);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);

  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 128 + signum);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10000 * 1000 * test_slowdown ());
  assert_has (out, "long");
  assert_has (out, " cancelled ");
  assert_has (out, "short");
  assert_has (out, "2 tasks: 1 ok, 0 error, 0 timeout, 1 cancelled");
  assert_has (out, "(interrupted)");

  /* The shell and its background sleep: neither is left running. */
  g_file_get_contents (pid_file, &pids, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (pids, "\n", -1);
  for (guint i = 0; i < 2; i++)
    {
      guint64 pid = 0;
      gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC * test_slowdown ();

      g_assert_true (g_ascii_string_to_unsigned (lines[i], 10, 2, G_MAXINT, &pid, NULL));
      while (!process_dead ((pid_t) pid) && g_get_monotonic_time () < end)
        wait_for_lines ("/nonexistent", 1, 10);
      g_assert_true (process_dead ((pid_t) pid));
    }
  g_unlink (pid_file);
  g_unlink (marker);
}

static void
test_tool_interrupt (void)
{
  static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gather-tool-XXXXXX", &error);

  g_test_summary ("SIGINT, SIGTERM and SIGHUP cancel the run, kill spawned "
                  "commands and their children, print what finished, and exit "
                  "128 + the signal");
  g_test_bug ("9");

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    {
      g_autofree char *pid_file = g_build_filename (dir, "pids", NULL);

      interrupt_with (signals[i], pid_file);
    }
  test_remove_tree (dir);
}

static void
test_tool_completion (void)
{
  g_autofree char *script = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "..", "data",
                                              "gather.bash-completion", NULL);
  g_autofree char *program = NULL;
  static const struct {
    const char *words;   /* COMP_WORDS after the program */
    const char *expected;
  } cases[] = {
    { "run \"'sl\"", "sleep \n" },
    { "run \"'sleep m\"", "sleep ms=\n" },
    { "run \"'checksum a\"", "checksum algorithm=\n" },
    { "run \"'spawn ma\"", "spawn max-output=\n" },
    { "run \"'sleep ms=1 l\"", "sleep ms=1 label=\n" },
    /* Spaces escaped rather than quoted: sleep\ ms\=1\ t */
    { "run \"sleep\\\\ ms\\\\=1\\\\ t\"", "sleep ms=1 timeout=\n" },
    { "run sl", "sleep \n" },
    { "run --po", "--policy\n" },
    { "plugins --j", "--json\n" },
  };

  g_test_summary ("The bash completion completes commands, options, worker "
                  "names and a worker's KEY= names inside a quoted task");
  g_test_bug ("9");

  if (!g_file_test ("/bin/bash", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("bash is not installed: nothing to complete in");
      return;
    }

  program = g_strdup (g_getenv ("GATHER_TOOL"));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *command = NULL;
      g_autoptr(GSubprocessLauncher) launcher = new_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                              G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                                              plugin_dir);
      g_autoptr(GSubprocess) process = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      const char *argv[] = { "/bin/bash", "--norc", "--noprofile", "-c", NULL, NULL };

      /* The words as bash splits the line, the last one being completed. */
      command = g_strdup_printf ("source '%s'; COMP_WORDS=('%s' %s); "
                                 "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                                 "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}; "
                                 "_gather; printf '%%s\\n' \"${COMPREPLY[@]}\"",
                                 script, program, cases[i].words);
      argv[4] = command;
      process = g_subprocess_launcher_spawnv (launcher, argv, &error);
      g_assert_no_error (error);
      g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
      g_assert_no_error (error);
      if (g_strcmp0 (out, cases[i].expected) != 0)
        g_error ("Completing “%s” gave “%s”, not “%s”; stderr: %s", cases[i].words, out,
                 cases[i].expected, err);
    }
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
  g_test_bug_base ("issue ");

  if (g_getenv ("GATHER_TOOL") == NULL)
    g_error ("GATHER_TOOL is not set: run the tests with meson test");

  plugin_dir = test_copy_plugins ("shipped");
  bad_plugin_dir = test_copy_plugins ("test");

  g_test_add_func ("/gather/tool/usage", test_tool_usage);
  g_test_add_func ("/gather/tool/plugins", test_tool_plugins);
  g_test_add_func ("/gather/tool/plugin-failures", test_tool_plugin_failures);
  g_test_add_func ("/gather/tool/isolate", test_tool_isolate);
  g_test_add_func ("/gather/tool/plugin-latin1-path", test_tool_plugin_latin1_path);
  g_test_add_func ("/gather/tool/seed", test_tool_seed);
  g_test_add_func ("/gather/tool/arguments", test_tool_arguments);
  g_test_add_func ("/gather/tool/short-options", test_tool_short_options);
  g_test_add_func ("/gather/tool/exit-status", test_tool_exit_status);
  g_test_add_func ("/gather/tool/spawn-failure-visible", test_tool_spawn_failure_visible);
  g_test_add_func ("/gather/tool/bad-arguments", test_tool_bad_arguments);
  g_test_add_func ("/gather/tool/bad-bytes", test_tool_bad_bytes);
  g_test_add_func ("/gather/tool/latin1-file-name", test_tool_latin1_file_name);
  g_test_add_func ("/gather/tool/task-files", test_tool_task_files);
  g_test_add_func ("/gather/tool/deep-nesting", test_tool_deep_nesting);
  g_test_add_func ("/gather/tool/file-kinds", test_tool_file_kinds);
  g_test_add_func ("/gather/tool/task-lines", test_tool_task_lines);
  g_test_add_func ("/gather/tool/json-strict", test_tool_json_strict);
  g_test_add_func ("/gather/tool/json-stream", test_tool_json_stream);
  g_test_add_func ("/gather/tool/write-error", test_tool_write_error);
  g_test_add_func ("/gather/tool/dry-run", test_tool_dry_run);
  g_test_add_func ("/gather/tool/no-progress-in-pipe", test_tool_no_progress_in_pipe);
  g_test_add_func ("/gather/tool/progress-on-terminal", test_tool_progress_on_terminal);
  g_test_add_func ("/gather/tool/stream", test_tool_stream);
  g_test_add_func ("/gather/tool/policy-and-deadline", test_tool_policy_and_deadline);
  g_test_add_func ("/gather/tool/interrupt", test_tool_interrupt);
  g_test_add_func ("/gather/tool/completion", test_tool_completion);
  g_test_add_func ("/gather/tool/many", test_tool_many);

  ret = g_test_run ();

  test_remove_tree (plugin_dir);
  test_remove_tree (bad_plugin_dir);
  g_free (plugin_dir);
  g_free (bad_plugin_dir);

  return ret;
}
