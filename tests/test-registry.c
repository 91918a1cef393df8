/* test-registry.c: plugin loading, security, and worker tasks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-util.h"

#define assert_status(outcome, expected) \
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, (expected))

static GatherPluginFailure *
find_failure (GPtrArray  *failures,
              const char *file_name)
{
  for (guint i = 0; i < failures->len; i++)
    {
      GatherPluginFailure *failure = g_ptr_array_index (failures, i);

      if (g_str_has_suffix (gather_plugin_failure_get_path (failure), file_name))
        return failure;
    }

  g_error ("No failure for %s", file_name);
  return NULL;
}

static void
test_registry_test_plugins (void)
{
  g_autofree char *dir = NULL;
  g_autoptr(GatherRegistry) registry = test_registry_new ("test", &dir);
  g_autoptr(GPtrArray) workers = gather_registry_list_workers (registry);
  g_autoptr(GPtrArray) failures = gather_registry_list_failures (registry);
  g_autoptr(GPtrArray) plugins = gather_registry_list_plugins (registry);
  static const char *expected[] = {
    "test-dup", "test-echo", "test-fail", "test-null", "test-stubborn", "test-wrong-type",
  };
  GatherPluginFailure *failure;
  GError *error;

  g_test_summary ("A directory of good and broken plugins: the good ones load, "
                  "each broken one is listed with a clear error");

  g_assert_cmpuint (workers->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < workers->len; i++)
    g_assert_cmpstr (gather_worker_get_name (g_ptr_array_index (workers, i)), ==, expected[i]);

  g_assert_cmpuint (failures->len, ==, 4);

  failure = find_failure (failures, "gather-bad-abi.so");
  error = gather_plugin_failure_get_error (failure);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_ABI);
  test_assert_message_has (error, "built for plugin ABI 999");
  test_assert_message_has (error, "loads plugin ABI 1");

  failure = find_failure (failures, "gather-no-entry.so");
  error = gather_plugin_failure_get_error (failure);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN);
  test_assert_message_has (error, "is not a gather plugin: it does not export “gather_no_entry_plugin”");

  failure = find_failure (failures, "gather-not-so.so");
  error = gather_plugin_failure_get_error (failure);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN);
  test_assert_message_has (error, "Could not load plugin");

  failure = find_failure (failures, "gather-dup-b.so");
  error = gather_plugin_failure_get_error (failure);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_DUPLICATE_WORKER);
  test_assert_message_has (error, "Worker “test-dup”");
  test_assert_message_has (error, "gather-dup-a.so” already provides it");

  /* Every file found is listed, loaded or not; errors on the failed ones. */
  g_assert_cmpuint (plugins->len, ==, 6);
  for (guint i = 0; i < plugins->len; i++)
    {
      GatherPluginModule *plugin = g_ptr_array_index (plugins, i);
      const char *path = gather_plugin_module_get_path (plugin);
      gboolean broken = g_str_has_suffix (path, "bad-abi.so") ||
                        g_str_has_suffix (path, "no-entry.so") ||
                        g_str_has_suffix (path, "not-so.so");

      g_assert_true (g_str_has_prefix (path, dir));
      g_assert_cmpint (gather_plugin_module_get_error (plugin) != NULL, ==, broken);
      g_assert_cmpint (gather_plugin_module_get_description (plugin) != NULL, ==, !broken);
    }

  {
    GatherWorker *echo = gather_registry_lookup_worker (registry, "test-echo");
    g_autofree char *expected_path = g_build_filename (dir, "gather-misbehave.so", NULL);

    g_assert_nonnull (echo);
    g_assert_cmpstr (gather_worker_get_plugin_path (echo), ==, expected_path);
    g_assert_null (gather_registry_lookup_worker (registry, "no-such-worker"));
  }

  test_remove_tree (dir);
}

static void
test_registry_worker_info (void)
{
  g_autoptr(GatherRegistry) registry = test_registry_new ("test", NULL);
  GatherWorker *echo = gather_registry_lookup_worker (registry, "test-echo");
  g_autoptr(GPtrArray) parameters = gather_worker_list_parameters (echo);
  GatherParameter *parameter;

  g_test_summary ("A worker describes its name, parameters and result type");

  g_assert_cmpstr (gather_worker_get_name (echo), ==, "test-echo");
  g_assert_cmpstr (gather_worker_get_description (echo), ==, "A worker of the test suite");
  g_assert_cmpstr (gather_worker_get_parameter_type (echo), ==, "a{sv}");
  g_assert_cmpstr (gather_worker_get_result_type (echo), ==, "s");
  g_assert_cmpuint (parameters->len, ==, 1);
  parameter = g_ptr_array_index (parameters, 0);
  g_assert_cmpstr (parameter->name, ==, "value");
  g_assert_cmpstr (parameter->type, ==, "s");
  g_assert_cmpint (parameter->flags, ==, GATHER_PARAMETER_REQUIRED);
}

static void
test_registry_two_registries (void)
{
  g_autofree char *dir = NULL;
  g_autoptr(GatherRegistry) first = test_registry_new ("test", &dir);
  g_autoptr(GatherRegistry) second = test_registry_new ("test", NULL);
  g_autoptr(GatherRegistry) elsewhere = gather_registry_new ();
  g_autofree char *other = test_copy_plugins ("test");
  g_autoptr(GPtrArray) first_plugins = gather_registry_list_plugins (first);
  g_autoptr(GPtrArray) second_plugins = gather_registry_list_plugins (second);
  g_autoptr(GPtrArray) failures = gather_registry_list_failures (first);
  g_autoptr(GPtrArray) again = NULL;
  GatherPluginFailure *failure;

  g_test_summary ("Two registries loading the same plugins share them; the "
                  "same plugin file name in another directory is refused, "
                  "not registered twice");

  g_assert_true (gather_registry_lookup_worker (first, "test-echo") ==
                 gather_registry_lookup_worker (second, "test-echo"));
  g_assert_cmpuint (first_plugins->len, ==, second_plugins->len);
  for (guint i = 0; i < first_plugins->len; i++)
    g_assert_true (g_ptr_array_index (first_plugins, i) == g_ptr_array_index (second_plugins, i));

  /* Loading again finds nothing new. */
  gather_registry_load (first);
  again = gather_registry_list_failures (first);
  g_assert_cmpuint (again->len, ==, failures->len);

  /* A copy elsewhere would register the same GTypes: refused. */
  gather_registry_add_search_path (elsewhere, other);
  gather_registry_load (elsewhere);
  g_assert_null (gather_registry_lookup_worker (elsewhere, "test-echo"));
  g_clear_pointer (&failures, g_ptr_array_unref);
  failures = gather_registry_list_failures (elsewhere);
  failure = find_failure (failures, "gather-misbehave.so");
  g_assert_error (gather_plugin_failure_get_error (failure), GATHER_ERROR, GATHER_ERROR_PLUGIN);
  test_assert_message_has (gather_plugin_failure_get_error (failure), "a plugin of the same name is loaded from");
  test_assert_message_has (gather_plugin_failure_get_error (failure), dir);

  test_remove_tree (other);
}

/* A private directory holding one copy of gather-misbehave.so. */
static char *
make_plugin_dir (guint dir_mode,
                 guint file_mode)
{
  g_autofree char *source = test_copy_plugins ("test");
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("gather-insecure-XXXXXX", &error);
  g_autofree char *from = g_build_filename (source, "gather-misbehave.so", NULL);
  g_autofree char *to = g_build_filename (dir, "gather-misbehave.so", NULL);

  g_assert_no_error (error);
  g_assert_cmpint (g_rename (from, to), ==, 0);
  g_assert_cmpint (g_chmod (to, file_mode), ==, 0);
  g_assert_cmpint (g_chmod (dir, dir_mode), ==, 0);
  test_remove_tree (source);

  return dir;
}

static void
assert_refused (const char *dir,
                const char *failed_path,
                const char *reason)
{
  g_autoptr(GatherRegistry) registry = gather_registry_new ();
  g_autoptr(GPtrArray) failures = NULL;
  g_autoptr(GPtrArray) plugins = NULL;
  GatherPluginFailure *failure;

  gather_registry_add_search_path (registry, dir);
  gather_registry_load (registry);

  failures = gather_registry_list_failures (registry);
  plugins = gather_registry_list_plugins (registry);
  g_assert_cmpuint (failures->len, ==, 1);
  g_assert_cmpuint (plugins->len, ==, 0);
  failure = g_ptr_array_index (failures, 0);
  g_assert_cmpstr (gather_plugin_failure_get_path (failure), ==, failed_path);
  g_assert_error (gather_plugin_failure_get_error (failure), GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE);
  test_assert_message_has (gather_plugin_failure_get_error (failure), failed_path);
  test_assert_message_has (gather_plugin_failure_get_error (failure), reason);
}

static void
test_registry_insecure (void)
{
  g_autofree char *world_file = make_plugin_dir (0700, 0666);
  g_autofree char *group_dir = make_plugin_dir (0770, 0644);
  g_autofree char *world_file_path = g_build_filename (world_file, "gather-misbehave.so", NULL);

  g_test_summary ("A plugin file or directory that other users can write is "
                  "refused, with the path and the reason");

  assert_refused (world_file, world_file_path, "writable by every user (mode 0666)");
  assert_refused (group_dir, group_dir, "writable by its group (mode 0770)");

  /* Owned by someone else: only root can set that up. */
  if (geteuid () == 0)
    {
      g_autofree char *foreign = make_plugin_dir (0755, 0644);
      g_autofree char *foreign_path = g_build_filename (foreign, "gather-misbehave.so", NULL);

      g_assert_cmpint (chown (foreign_path, 65534, 65534), ==, 0);
      assert_refused (foreign, foreign_path, "belongs to another user (uid 65534)");
      test_remove_tree (foreign);
    }
  else
    {
      g_test_message ("Not checking a plugin owned by another user: "
                      "only root can chown one");
    }

  test_remove_tree (world_file);
  test_remove_tree (group_dir);
}

static void
test_registry_search_path (void)
{
  g_autoptr(GatherRegistry) registry = gather_registry_new ();
  g_autoptr(GPtrArray) failures = NULL;
  g_auto(GStrv) paths = NULL;
  g_autofree char *user_dir = g_build_filename (g_get_user_data_dir (), "libgather-1", "plugins", NULL);
  GatherPluginFailure *failure;

  g_test_summary ("GATHER_PLUGIN_PATH comes first, then the user's and the "
                  "system directory; relative entries are refused; missing "
                  "directories named explicitly are failures");

  g_setenv ("GATHER_PLUGIN_PATH", "/nonexistent/one::relative/dir:/nonexistent/two", TRUE);
  gather_registry_add_default_search_paths (registry);
  g_setenv ("GATHER_PLUGIN_PATH", "", TRUE);

  paths = gather_registry_dup_search_paths (registry);
  g_assert_cmpuint (g_strv_length (paths), ==, 4);
  g_assert_cmpstr (paths[0], ==, "/nonexistent/one");
  g_assert_cmpstr (paths[1], ==, "/nonexistent/two");
  g_assert_cmpstr (paths[2], ==, user_dir);
  g_assert_true (g_str_has_suffix (paths[3], "libgather-1/plugins"));

  gather_registry_load (registry);
  failures = gather_registry_list_failures (registry);

  /* The relative entry, then the two missing directories; the missing user
   * directory is not a failure. */
  g_assert_cmpuint (failures->len, >=, 3);
  failure = g_ptr_array_index (failures, 0);
  g_assert_cmpstr (gather_plugin_failure_get_path (failure), ==, "relative/dir");
  g_assert_error (gather_plugin_failure_get_error (failure), GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE);
  test_assert_message_has (gather_plugin_failure_get_error (failure), "only loaded from absolute paths");
  failure = g_ptr_array_index (failures, 1);
  g_assert_cmpstr (gather_plugin_failure_get_path (failure), ==, "/nonexistent/one");
  g_assert_error (gather_plugin_failure_get_error (failure), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  failure = g_ptr_array_index (failures, 2);
  g_assert_cmpstr (gather_plugin_failure_get_path (failure), ==, "/nonexistent/two");
  for (guint i = 0; i < failures->len; i++)
    g_assert_cmpstr (gather_plugin_failure_get_path (g_ptr_array_index (failures, i)), !=, user_dir);
}

static void
test_registry_relative_path (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GatherRegistry) registry = gather_registry_new ();

      gather_registry_add_search_path (registry, "plugins");
      return;
    }

  g_test_summary ("Adding a relative search path is a programmer error: "
                  "nothing loads from the current directory implicitly");
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*g_path_is_absolute (directory)*");
}

static void
test_registry_default (void)
{
  GatherRegistry *registry = gather_registry_get_default ();

  g_test_summary ("The default registry is one object for the process");

  g_assert_nonnull (registry);
  g_assert_true (registry == gather_registry_get_default ());
}

static void
test_registry_misbehaving_workers (void)
{
  g_autoptr(GatherRegistry) registry = test_registry_new ("test", NULL);
  g_autoptr(GatherPool) pool = gather_pool_new (4);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  GatherOutcome *outcome;

  g_test_summary ("Each misbehaving worker gives an outcome for its task "
                  "alone; the others are unaffected");

  gather_group_set_registry (group, registry);
  g_assert_true (gather_group_get_registry (group) == registry);
  gather_group_set_pool (group, pool);
  gather_group_set_grace_period (group, 50);

  gather_group_add_worker_task (group, "test-echo", g_variant_new_parsed ("{'value': <'hi'>}"),
                                NULL, 0, &error);
  g_assert_no_error (error);
  gather_group_add_worker_task (group, "test-null", NULL, "null", 0, &error);
  g_assert_no_error (error);
  gather_group_add_worker_task (group, "test-wrong-type", NULL, NULL, 0, &error);
  g_assert_no_error (error);
  gather_group_add_worker_task (group, "test-fail", NULL, NULL, 0, &error);
  g_assert_no_error (error);
  gather_group_add_worker_task (group, "test-stubborn", g_variant_new_parsed ("{'ms': <@u 1500>}"),
                                NULL, 100, &error);
  g_assert_no_error (error);

  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 5);

  outcome = test_outcome (outcomes, 0);
  assert_status (outcome, GATHER_STATUS_OK);
  g_assert_cmpstr (gather_outcome_get_label (outcome), ==, "test-echo");
  g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (outcome), NULL), ==, "hi");

  outcome = test_outcome (outcomes, 1);
  assert_status (outcome, GATHER_STATUS_ERROR);
  g_assert_cmpstr (gather_outcome_get_label (outcome), ==, "null");
  g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR, GATHER_ERROR_INVALID_RESULT);
  test_assert_message_has (gather_outcome_get_error (outcome), "Worker “test-null” returned neither");

  outcome = test_outcome (outcomes, 2);
  assert_status (outcome, GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (outcome), GATHER_ERROR, GATHER_ERROR_INVALID_RESULT);
  test_assert_message_has (gather_outcome_get_error (outcome),
                      "returned a value of type “u”, not the declared “s”");

  outcome = test_outcome (outcomes, 3);
  assert_status (outcome, GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (outcome), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  outcome = test_outcome (outcomes, 4);
  assert_status (outcome, GATHER_STATUS_TIMEOUT);
  /* Recorded at its timeout, abandoned once the grace period is over. */
  g_assert_true (test_iterate_until_abandoned (outcome, 10000));

  /* The stubborn body returns later; its thread and result are released. */
  g_assert_cmpuint (gather_pool_get_n_replacement_threads (pool), ==, 1);
  while (gather_pool_get_n_replacement_threads (pool) > 0)
    g_main_context_iteration (NULL, TRUE);
}

static void
assert_add_fails (GatherGroup *group,
                  const char  *worker,
                  const char  *parameters,
                  gint         code,
                  const char  *message)
{
  g_autoptr(GError) error = NULL;
  guint index;

  index = gather_group_add_worker_task (group, worker,
                                        parameters ? g_variant_new_parsed (parameters) : NULL,
                                        NULL, 0, &error);
  g_assert_cmpuint (index, ==, G_MAXUINT);
  g_assert_error (error, GATHER_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
}

static void
test_registry_parameters (void)
{
  g_autoptr(GatherRegistry) registry = test_registry_new ("test", NULL);
  g_autoptr(GatherGroup) group = gather_group_new ();

  g_test_summary ("Parameters are checked before anything is queued, with "
                  "messages naming the worker, the key and both types");

  gather_group_set_registry (group, registry);

  assert_add_fails (group, "no-such-worker", NULL, GATHER_ERROR_UNKNOWN_WORKER,
                    "No worker is named “no-such-worker”");
  assert_add_fails (group, "test-echo", "('hi',)", GATHER_ERROR_INVALID_PARAMETERS,
                    "Worker “test-echo” takes parameters of type “a{sv}”, not “(s)”");
  assert_add_fails (group, "test-echo", "{'value': <@u 3>}", GATHER_ERROR_INVALID_PARAMETERS,
                    "Parameter “value” of worker “test-echo” must be of type “s”, not “u”");
  assert_add_fails (group, "test-echo", "{'value': <'x'>, 'colour': <'red'>}",
                    GATHER_ERROR_INVALID_PARAMETERS,
                    "Worker “test-echo” has no parameter “colour” (it takes: value)");
  assert_add_fails (group, "test-echo", NULL, GATHER_ERROR_INVALID_PARAMETERS,
                    "Worker “test-echo” needs parameter “value” (What to return, of type “s”)");
  assert_add_fails (group, "test-null", "{'x': <1>}", GATHER_ERROR_INVALID_PARAMETERS,
                    "Worker “test-null” has no parameter “x” (it takes: none)");

  /* Nothing was queued. */
  g_assert_cmpuint (gather_group_get_n_tasks (group), ==, 0);

  /* Once it runs, bindings get an error rather than a critical. */
  {
    g_autoptr(GPtrArray) outcomes = NULL;
    g_autoptr(GError) error = NULL;

    outcomes = test_run_and_wait (group, NULL, 5000, &error);
    g_assert_no_error (error);
    assert_add_fails (group, "test-echo", "{'value': <'x'>}", GATHER_ERROR_ALREADY_STARTED,
                      "Tasks cannot be added to a group that has already run; a group runs once");
  }
}

/* ---- A worker defined by the program, not a plugin ---- */

#define TEST_TYPE_DOUBLER (test_doubler_get_type ())
G_DECLARE_FINAL_TYPE (TestDoubler, test_doubler, TEST, DOUBLER, GObject)

struct _TestDoubler
{
  GObject parent_instance;
};

static const GatherParameter doubler_parameters[] = {
  { "n", "i", "The number to double", GATHER_PARAMETER_REQUIRED },
};

static GVariant *
test_doubler_run (GatherWorker  *worker,
                  GVariant      *parameters,
                  GCancellable  *cancellable,
                  GError       **error)
{
  gint32 n = 0;

  g_variant_lookup (parameters, "n", "i", &n);

  return g_variant_new_int32 (2 * n);
}

static void
test_doubler_iface_init (GatherWorkerInterface *iface)
{
  iface->name = "double";
  iface->description = "Doubles a number";
  iface->parameters = doubler_parameters;
  iface->n_parameters = G_N_ELEMENTS (doubler_parameters);
  iface->result_type = "i";
  iface->run = test_doubler_run;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestDoubler, test_doubler, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GATHER_TYPE_WORKER, test_doubler_iface_init))

static void
test_doubler_class_init (TestDoublerClass *klass)
{
}

static void
test_doubler_init (TestDoubler *self)
{
}

static void
test_registry_add_worker (void)
{
  g_autoptr(GatherRegistry) registry = gather_registry_new ();
  g_autoptr(GatherWorker) doubler = g_object_new (TEST_TYPE_DOUBLER, NULL);
  g_autoptr(GatherWorker) again = g_object_new (TEST_TYPE_DOUBLER, NULL);
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autoptr(GVariant) direct = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("A program adds a worker of its own; it runs like a "
                  "plugin's, directly or in a group; a second of the same "
                  "name is refused");

  g_assert_true (gather_registry_add_worker (registry, doubler, &error));
  g_assert_no_error (error);
  g_assert_false (gather_registry_add_worker (registry, again, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_DUPLICATE_WORKER);
  g_clear_error (&error);

  g_assert_null (gather_worker_get_plugin_path (doubler));
  g_assert_cmpstr (gather_worker_get_parameter_type (doubler), ==, "a{sv}");

  outcome = test_run_worker (registry, "double", g_variant_new_parsed ("{'n': <21>}"), 0);
  assert_status (outcome, GATHER_STATUS_OK);
  g_assert_cmpint (g_variant_get_int32 (gather_outcome_get_result (outcome)), ==, 42);

  direct = gather_worker_run (doubler, g_variant_new_parsed ("{'n': <-4>}"), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (direct), ==, -8);
  g_assert_null (gather_worker_run (doubler, g_variant_new_parsed ("{'n': <'x'>}"), NULL, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS);
}

static void
test_registry_example_plugin (void)
{
  g_autoptr(GatherRegistry) registry = test_registry_new ("example", NULL);
  g_autoptr(GatherOutcome) outcome = NULL;

  g_test_summary ("The plugin of the “Writing a plugin” page loads and works");

  outcome = test_run_worker (registry, "reverse", g_variant_new_parsed ("{'text': <'gather'>}"), 1000);
  assert_status (outcome, GATHER_STATUS_OK);
  g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (outcome), NULL), ==, "rehtag");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/gather/registry/test-plugins", test_registry_test_plugins);
  g_test_add_func ("/gather/registry/worker-info", test_registry_worker_info);
  g_test_add_func ("/gather/registry/two-registries", test_registry_two_registries);
  g_test_add_func ("/gather/registry/insecure", test_registry_insecure);
  g_test_add_func ("/gather/registry/search-path", test_registry_search_path);
  g_test_add_func ("/gather/registry/relative-path", test_registry_relative_path);
  g_test_add_func ("/gather/registry/default", test_registry_default);
  g_test_add_func ("/gather/registry/misbehaving-workers", test_registry_misbehaving_workers);
  g_test_add_func ("/gather/registry/parameters", test_registry_parameters);
  g_test_add_func ("/gather/registry/add-worker", test_registry_add_worker);
  g_test_add_func ("/gather/registry/example-plugin", test_registry_example_plugin);

  return g_test_run ();
}
