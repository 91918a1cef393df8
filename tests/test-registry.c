/* test-registry.c: plugin loading, security, and worker tasks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <dlfcn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
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
  test_assert_message_has (error, "it is not a shared object (it has no ELF header)");

  failure = find_failure (failures, "gather-dup-b.so");
  error = gather_plugin_failure_get_error (failure);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_DUPLICATE_WORKER);
  test_assert_message_has (error, "Worker “test-dup”");
  test_assert_message_has (error, "gather-dup-a.so” already provides it");

  /* Constructors run when a shared object is opened, before the ABI in
   * its descriptor can be read; its register function never ran (it calls
   * g_error()). */
  g_assert_cmpstr (g_getenv ("GATHER_TEST_BAD_ABI_CONSTRUCTED"), ==, "1");

  /* Every file opened as a library is listed, loaded or not; errors on the
   * failed ones. gather-not-so.so is refused before that: it is text. */
  g_assert_cmpuint (plugins->len, ==, 5);
  for (guint i = 0; i < plugins->len; i++)
    {
      GatherPluginModule *plugin = g_ptr_array_index (plugins, i);
      const char *path = gather_plugin_module_get_path (plugin);
      gboolean broken = g_str_has_suffix (path, "bad-abi.so") ||
                        g_str_has_suffix (path, "no-entry.so");

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
  g_autofree char *saved_dir = g_strdup (g_getenv ("GATHER_PLUGIN_DIR"));
  GatherPluginFailure *failure;

  g_test_summary ("GATHER_PLUGIN_PATH comes first, then the user's and the "
                  "system directory; relative entries are refused; missing "
                  "directories named explicitly are failures");

  g_setenv ("GATHER_PLUGIN_PATH", "/nonexistent/one::relative/dir:/nonexistent/two", TRUE);
  g_setenv ("GATHER_PLUGIN_DIR", "/nonexistent/system", TRUE);
  gather_registry_add_default_search_paths (registry);
  g_setenv ("GATHER_PLUGIN_PATH", "", TRUE);

  paths = gather_registry_dup_search_paths (registry);
  g_assert_cmpuint (g_strv_length (paths), ==, 4);
  g_assert_cmpstr (paths[0], ==, "/nonexistent/one");
  g_assert_cmpstr (paths[1], ==, "/nonexistent/two");
  g_assert_cmpstr (paths[2], ==, user_dir);
  g_assert_cmpstr (paths[3], ==, "/nonexistent/system");

  gather_registry_load (registry);
  failures = gather_registry_list_failures (registry);

  /* The relative entry, then the two missing directories; the missing user
   * and system directories are not failures. */
  g_assert_cmpuint (failures->len, ==, 3);
  failure = g_ptr_array_index (failures, 0);
  g_assert_cmpstr (gather_plugin_failure_get_path (failure), ==, "relative/dir");
  g_assert_error (gather_plugin_failure_get_error (failure), GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE);
  test_assert_message_has (gather_plugin_failure_get_error (failure), "only loaded from absolute paths");
  failure = g_ptr_array_index (failures, 1);
  g_assert_cmpstr (gather_plugin_failure_get_path (failure), ==, "/nonexistent/one");
  g_assert_error (gather_plugin_failure_get_error (failure), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  failure = g_ptr_array_index (failures, 2);
  g_assert_cmpstr (gather_plugin_failure_get_path (failure), ==, "/nonexistent/two");

  /* GATHER_PLUGIN_DIR unset: the system directory; empty: none; relative:
   * refused, and none. */
  {
    g_autoptr(GatherRegistry) unset = gather_registry_new ();
    g_autoptr(GatherRegistry) empty = gather_registry_new ();
    g_autoptr(GatherRegistry) relative = gather_registry_new ();
    g_auto(GStrv) unset_paths = NULL;
    g_auto(GStrv) empty_paths = NULL;
    g_auto(GStrv) relative_paths = NULL;
    g_autoptr(GPtrArray) relative_failures = NULL;

    g_unsetenv ("GATHER_PLUGIN_DIR");
    gather_registry_add_default_search_paths (unset);
    g_setenv ("GATHER_PLUGIN_DIR", "", TRUE);
    gather_registry_add_default_search_paths (empty);
    g_setenv ("GATHER_PLUGIN_DIR", "lib/plugins", TRUE);
    gather_registry_add_default_search_paths (relative);

    unset_paths = gather_registry_dup_search_paths (unset);
    g_assert_cmpuint (g_strv_length (unset_paths), ==, 2);
    g_assert_true (g_str_has_suffix (unset_paths[1], "/libgather-1/plugins"));
    g_assert_cmpstr (unset_paths[1], !=, user_dir);

    empty_paths = gather_registry_dup_search_paths (empty);
    g_assert_cmpuint (g_strv_length (empty_paths), ==, 1);
    g_assert_cmpstr (empty_paths[0], ==, user_dir);

    relative_paths = gather_registry_dup_search_paths (relative);
    g_assert_cmpuint (g_strv_length (relative_paths), ==, 1);
    relative_failures = gather_registry_list_failures (relative);
    g_assert_cmpuint (relative_failures->len, ==, 1);
    failure = g_ptr_array_index (relative_failures, 0);
    g_assert_cmpstr (gather_plugin_failure_get_path (failure), ==, "lib/plugins");
    test_assert_message_has (gather_plugin_failure_get_error (failure),
                             "Ignoring “lib/plugins” in GATHER_PLUGIN_DIR");
  }

  if (saved_dir != NULL)
    g_setenv ("GATHER_PLUGIN_DIR", saved_dir, TRUE);
  else
    g_unsetenv ("GATHER_PLUGIN_DIR");
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

/* ---- What the loader checks before it loads ---- */

/* Runs @body in a subprocess: a process loads each plugin file name once,
 * so tests that load copies of the test plugins from directories of their
 * own need a fresh one. */
static void
run_in_subprocess (void (*body) (void))
{
  if (g_test_subprocess ())
    {
      body ();
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* A scratch directory, mode 0700. Its parents (the temporary directory:
 * /tmp is root's, sticky and writable by all) must pass the loader's
 * checks for anything in it to load. */
static char *
scratch_new (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("gather-loader-XXXXXX", &error);

  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (dir, 0700), ==, 0);

  return dir;
}

/* Makes @parent/@name with @mode (not masked by the umask). */
static char *
make_dir (const char *parent,
          const char *name,
          guint       mode)
{
  char *dir = g_build_filename (parent, name, NULL);

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_cmpint (g_chmod (dir, mode), ==, 0);

  return dir;
}

/* Copies the test plugin @built (a file in the build's tests/plugins) to
 * @dir/@name, mode 0644. */
static char *
install_plugin (const char *built,
                const char *dir,
                const char *name)
{
  g_autofree char *from = g_build_filename (g_getenv ("GATHER_TEST_BAD_PLUGINS"), built, NULL);

  return test_install_file (from, dir, name);
}

static GatherRegistry *
load_directory (const char *dir)
{
  GatherRegistry *registry = gather_registry_new ();

  gather_registry_add_search_path (registry, dir);
  gather_registry_load (registry);

  return registry;
}

/* The only failure of @registry, or none when @path is NULL. */
static const GError *
only_failure (GatherRegistry *registry,
              const char     *path)
{
  g_autoptr(GPtrArray) failures = gather_registry_list_failures (registry);
  GatherPluginFailure *failure;

  if (path == NULL)
    {
      for (guint i = 0; i < failures->len; i++)
        g_test_message ("Unexpected failure: %s",
                        gather_plugin_failure_get_error (g_ptr_array_index (failures, i))->message);
      g_assert_cmpuint (failures->len, ==, 0);
      return NULL;
    }

  g_assert_cmpuint (failures->len, ==, 1);
  failure = g_ptr_array_index (failures, 0);
  g_assert_cmpstr (gather_plugin_failure_get_path (failure), ==, path);

  /* Owned by the registry, which the caller holds. */
  return gather_plugin_failure_get_error (failure);
}

/* A swap between the check and the load, made deterministic: the registry
 * calls g_module_open() once it has checked a file, and this definition,
 * found before GModule's, renames an attacker's file over the checked
 * one first, then lets GModule open what it was asked to. */
static char *swap_from;
static char *swap_to;
static guint n_swaps;

GModule *
g_module_open (const gchar  *file_name,
               GModuleFlags  flags)
{
  static GModule *(*real_open) (const gchar *, GModuleFlags);

  if (real_open == NULL)
    *(gpointer *) &real_open = dlsym (RTLD_NEXT, "g_module_open");
  g_assert_nonnull (real_open);

  if (swap_from != NULL)
    {
      g_assert_cmpint (g_rename (swap_from, swap_to), ==, 0);
      n_swaps++;
      g_clear_pointer (&swap_from, g_free);
      g_clear_pointer (&swap_to, g_free);
    }

  return real_open (file_name, flags);
}

static void
swap_after_check (void)
{
  g_autofree char *scratch = scratch_new ();
  g_autofree char *dir = make_dir (scratch, "plugins", 0755);
  g_autofree char *checked = install_plugin ("gather-misbehave.so", dir, "gather-misbehave.so");
  g_autofree char *other = install_plugin ("gather-dup-a.so", scratch, "gather-misbehave.so");
  g_autoptr(GatherRegistry) registry = NULL;
  GatherWorker *echo;

  /* Another user's file, where root runs the test. */
  if (geteuid () == 0)
    g_assert_cmpint (chown (other, 65534, 65534), ==, 0);

  swap_from = g_strdup (other);
  swap_to = g_strdup (checked);
  registry = load_directory (dir);
  g_assert_cmpuint (n_swaps, ==, 1);

  /* What was checked was loaded, and is reported by its path. */
  only_failure (registry, NULL);
  echo = gather_registry_lookup_worker (registry, "test-echo");
  g_assert_nonnull (echo);
  g_assert_cmpstr (gather_worker_get_plugin_path (echo), ==, checked);
  g_assert_null (gather_registry_lookup_worker (registry, "test-dup"));

  test_remove_tree (scratch);
}

static void
test_registry_swap_after_check (void)
{
  g_test_summary ("A plugin file replaced between its check and its load: "
                  "the file checked is the file loaded");
  g_test_bug ("10");
  run_in_subprocess (swap_after_check);
}

static void
symlinks (void)
{
  g_autofree char *scratch = scratch_new ();
  g_autofree char *dir = make_dir (scratch, "plugins", 0755);
  g_autofree char *open_dir = make_dir (scratch, "open", 0777);
  g_autofree char *sticky_dir = make_dir (scratch, "sticky", 01777);
  g_autofree char *safe_dir = make_dir (scratch, "safe", 0755);
  g_autofree char *in_open = install_plugin ("gather-misbehave.so", open_dir, "gather-misbehave.so");
  g_autofree char *in_sticky = install_plugin ("gather-misbehave.so", sticky_dir, "gather-misbehave.so");
  g_autofree char *in_safe = install_plugin ("gather-misbehave.so", safe_dir, "gather-misbehave.so");
  g_autofree char *link = g_build_filename (dir, "gather-misbehave.so", NULL);
  GatherRegistry *registry;
  const GError *error;

  /* A 0755 file, reached from a safe directory through a symlink into a
   * directory everyone can write: refused. */
  g_assert_cmpint (g_chmod (in_open, 0755), ==, 0);
  g_assert_cmpint (symlink (in_open, link), ==, 0);
  registry = load_directory (dir);
  error = only_failure (registry, link);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE);
  test_assert_message_has (error, "Refusing to load plugin “");
  test_assert_message_has (error, open_dir);
  test_assert_message_has (error, "is writable by every user (mode 0777)");
  g_assert_null (gather_registry_lookup_worker (registry, "test-echo"));
  g_object_unref (registry);

  /* The sticky bit does not make the directory holding a plugin safe. */
  g_assert_cmpint (g_unlink (link), ==, 0);
  g_assert_cmpint (symlink (in_sticky, link), ==, 0);
  registry = load_directory (dir);
  error = only_failure (registry, link);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE);
  test_assert_message_has (error, sticky_dir);
  test_assert_message_has (error, "(mode 1777); the sticky bit is not enough");
  g_object_unref (registry);

  /* Into a safe directory: loaded, and reported where it really is. */
  g_assert_cmpint (g_unlink (link), ==, 0);
  g_assert_cmpint (symlink (in_safe, link), ==, 0);
  registry = load_directory (dir);
  only_failure (registry, NULL);
  g_assert_cmpstr (gather_worker_get_plugin_path (gather_registry_lookup_worker (registry, "test-echo")),
                   ==, in_safe);
  g_object_unref (registry);

  test_remove_tree (scratch);
}

static void
test_registry_symlinks (void)
{
  g_test_summary ("A symlink to a plugin is judged by where it leads: into a "
                  "directory others can write, sticky or not, it is refused");
  g_test_bug ("10");
  run_in_subprocess (symlinks);
}

static void
parent_directories (void)
{
  g_autofree char *scratch = scratch_new ();
  g_autofree char *open_parent = make_dir (scratch, "open", 0777);
  g_autofree char *group_parent = make_dir (scratch, "group", 0775);
  g_autofree char *sticky_parent = make_dir (scratch, "sticky", 01777);
  g_autofree char *under_open = make_dir (open_parent, "plugins", 0755);
  g_autofree char *under_group = make_dir (group_parent, "plugins", 0755);
  g_autofree char *under_sticky = make_dir (sticky_parent, "plugins", 0755);
  g_autofree char *file = NULL;
  GatherRegistry *registry;
  const GError *error;

  g_free (install_plugin ("gather-misbehave.so", under_open, "gather-misbehave.so"));
  g_free (install_plugin ("gather-misbehave.so", under_group, "gather-misbehave.so"));
  file = install_plugin ("gather-misbehave.so", under_sticky, "gather-misbehave.so");

  /* A 0755 directory in one everyone can write, without the sticky bit:
   * anyone could rename it away and put another in its place. */
  registry = load_directory (under_open);
  error = only_failure (registry, under_open);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE);
  test_assert_message_has (error, "Refusing to load plugins from directory");
  test_assert_message_has (error, open_parent);
  test_assert_message_has (error, "is writable by every user (mode 0777) without the sticky bit");
  g_object_unref (registry);

  registry = load_directory (under_group);
  error = only_failure (registry, under_group);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE);
  test_assert_message_has (error, group_parent);
  test_assert_message_has (error, "is writable by its group (mode 0775) without the sticky bit");
  g_object_unref (registry);

  /* Like /tmp: nobody else can rename or remove what is ours in it. */
  registry = load_directory (under_sticky);
  only_failure (registry, NULL);
  g_assert_cmpstr (gather_worker_get_plugin_path (gather_registry_lookup_worker (registry, "test-echo")),
                   ==, file);
  g_object_unref (registry);

  test_remove_tree (scratch);
}

static void
test_registry_parent_directories (void)
{
  g_test_summary ("Every directory above a plugin is checked, as ssh does: "
                  "one others can write without the sticky bit is refused");
  g_test_bug ("10");
  run_in_subprocess (parent_directories);
}

static void
test_registry_truncated (void)
{
  g_autofree char *scratch = scratch_new ();
  g_autofree char *path = install_plugin ("gather-dup-a.so", scratch, "gather-truncated.so");
  g_autoptr(GatherRegistry) registry = NULL;
  const GError *error;

  g_test_summary ("A plugin file cut short is refused with an error, not "
                  "opened: mapping it would kill the process with SIGBUS");
  g_test_bug ("10");

  g_assert_cmpint (truncate (path, 2000), ==, 0);
  registry = load_directory (scratch);
  error = only_failure (registry, path);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN);
  test_assert_message_has (error, path);
  test_assert_message_has (error, "the file is truncated");
  test_assert_message_has (error, "past its end (2000 bytes)");

  test_remove_tree (scratch);
}

static void
test_registry_missing_symbol (void)
{
  g_autofree char *scratch = scratch_new ();
  g_autofree char *path = install_plugin ("fixture-missing-symbol.so", scratch,
                                          "gather-missing-symbol.so");
  g_autoptr(GatherRegistry) registry = load_directory (scratch);
  g_autoptr(GPtrArray) plugins = gather_registry_list_plugins (registry);
  const GError *error;

  g_test_summary ("A plugin that needs a function no library provides is "
                  "refused when loaded, naming it, rather than killing the "
                  "process when a task calls it");
  g_test_bug ("10");

  error = only_failure (registry, path);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN);
  test_assert_message_has (error, "Could not load plugin");
  test_assert_message_has (error, "undefined symbol: gather_test_undefined_function");
  /* Named by its path, not by the descriptor it was loaded through. */
  g_assert_null (strstr (error->message, "/proc/self/fd"));
  test_assert_message_has (error, path);
  g_assert_null (gather_registry_lookup_worker (registry, "test-missing"));
  g_assert_cmpuint (plugins->len, ==, 1);

  test_remove_tree (scratch);
}

static void
type_clash (void)
{
  g_autofree char *scratch = scratch_new ();
  g_autofree char *first = install_plugin ("gather-misbehave.so", scratch, "gather-misbehave.so");
  g_autofree char *second = install_plugin ("fixture-type-clash.so", scratch, "gather-type-clash.so");
  g_autoptr(GatherRegistry) registry = NULL;
  const GError *error;

  /* What a program that does not make warnings fatal sees. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK);

  registry = load_directory (scratch);
  error = only_failure (registry, second);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN);
  test_assert_message_has (error, "registers the type “TestEcho”");
  test_assert_message_has (error, first);
  test_assert_message_has (error, second);
  g_assert_nonnull (gather_registry_lookup_worker (registry, "test-echo"));
  g_assert_null (gather_registry_lookup_worker (registry, "test-clash"));

  test_remove_tree (scratch);
}

static void
test_registry_type_clash (void)
{
  g_test_summary ("Two plugins with a type of the same name: the second is "
                  "refused with an error naming both and the type, and no "
                  "GLib warning");
  g_test_bug ("10");

  if (g_test_subprocess ())
    {
      type_clash ();
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr_unmatched ("*Two different plugins*");
  g_test_trap_assert_stderr_unmatched ("*CRITICAL*");
}

static void
test_registry_shadowed (void)
{
  g_autofree char *first_dir = NULL;
  g_autoptr(GatherRegistry) loaded = test_registry_new ("test", &first_dir);
  g_autofree char *scratch = scratch_new ();
  g_autofree char *shadowed = install_plugin ("gather-dup-b.so", scratch, "gather-misbehave.so");
  g_autofree char *first = g_build_filename (first_dir, "gather-misbehave.so", NULL);
  g_autoptr(GatherRegistry) registry = gather_registry_new ();
  g_autoptr(GPtrArray) failures = NULL;
  g_autoptr(GPtrArray) list = NULL;
  GatherShadowedPlugin *entry;

  g_test_summary ("A plugin file with the name of one earlier in the search "
                  "path is listed as shadowed, with both paths, not as a failure");
  g_test_bug ("10");

  gather_registry_add_search_path (registry, first_dir);
  gather_registry_add_search_path (registry, scratch);
  gather_registry_load (registry);

  list = gather_registry_list_shadowed (registry);
  g_assert_cmpuint (list->len, ==, 1);
  entry = g_ptr_array_index (list, 0);
  g_assert_cmpstr (gather_shadowed_plugin_get_path (entry), ==, shadowed);
  g_assert_cmpstr (gather_shadowed_plugin_get_shadowed_by (entry), ==, first);

  /* The same failures as the first directory alone: none about the copy. */
  failures = gather_registry_list_failures (registry);
  for (guint i = 0; i < failures->len; i++)
    g_assert_false (g_str_has_prefix (gather_plugin_failure_get_path (g_ptr_array_index (failures, i)),
                                      scratch));
  g_assert_cmpstr (gather_worker_get_plugin_path (gather_registry_lookup_worker (registry, "test-echo")),
                   ==, first);

  /* Loading again adds nothing. */
  gather_registry_load (registry);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = gather_registry_list_shadowed (registry);
  g_assert_cmpuint (list->len, ==, 1);

  /* A registry that found nothing shadowed lists nothing. */
  g_clear_pointer (&list, g_ptr_array_unref);
  list = gather_registry_list_shadowed (loaded);
  g_assert_cmpuint (list->len, ==, 0);

  test_remove_tree (scratch);
}

static void
test_registry_hermetic (void)
{
  g_autoptr(GatherRegistry) registry = gather_registry_new ();
  g_auto(GStrv) paths = NULL;
  g_autofree char *build_root = g_path_get_dirname (g_getenv ("G_TEST_BUILDDIR"));

  g_test_summary ("In the test environment, the default search path holds "
                  "nothing installed: GATHER_PLUGIN_DIR replaces the system "
                  "directory, and the user's is the test's own");
  g_test_bug ("10");

  gather_registry_add_default_search_paths (registry);
  paths = gather_registry_dup_search_paths (registry);

  /* GATHER_PLUGIN_PATH is empty in the test environment. */
  g_assert_cmpuint (g_strv_length (paths), ==, 2);
  {
    g_autofree char *user_dir = g_build_filename (g_get_user_data_dir (), "libgather-1",
                                                  "plugins", NULL);

    g_assert_cmpstr (paths[0], ==, user_dir);
  }
  g_assert_nonnull (g_getenv ("GATHER_PLUGIN_DIR"));
  g_assert_cmpstr (paths[1], ==, g_getenv ("GATHER_PLUGIN_DIR"));
  g_assert_true (g_str_has_prefix (paths[1], build_root));
}

static void
test_registry_tool_shadowed (void)
{
  g_autofree char *first = scratch_new ();
  g_autofree char *second = scratch_new ();
  g_autofree char *used = install_plugin ("gather-dup-a.so", first, "gather-dup-a.so");
  g_autofree char *skipped = install_plugin ("gather-dup-a.so", second, "gather-dup-a.so");
  g_autofree char *search_path = g_strconcat (first, ":", second, NULL);
  g_autofree char *expected = g_strdup_printf ("\n  %s\n    by %s\n", skipped, used);
  g_autofree char *expected_json = g_strdup_printf ("\"shadowed_by\":\"%s\"", used);
  const char *tool = g_getenv ("GATHER_TOOL");
  g_autoptr(GSubprocessLauncher) launcher = NULL;

  g_test_summary ("gather plugins lists shadowed copies, with the file used "
                  "instead, apart from the failures");
  g_test_bug ("10");

  g_assert_nonnull (tool);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_setenv (launcher, "GATHER_PLUGIN_PATH", search_path, TRUE);
  g_subprocess_launcher_setenv (launcher, "GATHER_PLUGIN_DIR", "", TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", "/nonexistent", TRUE);

  for (guint json = 0; json <= 1; json++)
    {
      g_autoptr(GSubprocess) process = NULL;
      g_autofree char *out = NULL;
      g_autoptr(GError) error = NULL;

      process = g_subprocess_launcher_spawn (launcher, &error, tool, "plugins",
                                             json ? "--json" : NULL, NULL);
      g_assert_no_error (error);
      g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_get_if_exited (process));
      g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
      g_test_message ("gather plugins%s:\n%s", json ? " --json" : "", out);

      if (json)
        {
          g_assert_nonnull (strstr (out, expected_json));
          g_assert_nonnull (strstr (out, "\"failures\":[]"));
        }
      else
        {
          g_assert_nonnull (strstr (out, "Shadowed (not loaded: a file of the same name comes first):"));
          g_assert_nonnull (strstr (out, expected));
          g_assert_null (strstr (out, "Not loaded"));
        }
    }

  test_remove_tree (first);
  test_remove_tree (second);
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

/* ---- A worker with more parameters than a 64-bit mask has bits ---- */

#define TEST_TYPE_WIDE (test_wide_get_type ())
G_DECLARE_FINAL_TYPE (TestWide, test_wide, TEST, WIDE, GObject)

struct _TestWide
{
  GObject parent_instance;
};

#define WIDE_N_PARAMETERS 70

static GatherParameter wide_parameters[WIDE_N_PARAMETERS];
static char *wide_names[WIDE_N_PARAMETERS];

static GVariant *
test_wide_run (GatherWorker  *worker,
               GVariant      *parameters,
               GCancellable  *cancellable,
               GError       **error)
{
  return g_variant_new_uint32 ((guint32) g_variant_n_children (parameters));
}

static void
test_wide_iface_init (GatherWorkerInterface *iface)
{
  for (guint i = 0; i < WIDE_N_PARAMETERS; i++)
    {
      wide_names[i] = g_strdup_printf ("p%u", i);
      wide_parameters[i].name = wide_names[i];
      wide_parameters[i].type = "u";
      wide_parameters[i].description = "A number";
      /* Required: the first, the last two a mask can tell, and two past it. */
      wide_parameters[i].flags = (i == 0 || i == 62 || i == 63 || i == 64 || i == 69)
                                 ? GATHER_PARAMETER_REQUIRED : 0;
    }

  iface->name = "wide";
  iface->description = "Takes 70 parameters";
  iface->parameters = wide_parameters;
  iface->n_parameters = WIDE_N_PARAMETERS;
  iface->result_type = "u";
  iface->run = test_wide_run;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestWide, test_wide, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GATHER_TYPE_WORKER, test_wide_iface_init))

static void
test_wide_class_init (TestWideClass *klass)
{
}

static void
test_wide_init (TestWide *self)
{
}

/* {'pN': <uint32 N>} for each N of @given, in that order. */
static GVariant *
wide_parameters_of (const guint *given,
                    gsize        n_given)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (gsize i = 0; i < n_given; i++)
    {
      g_autofree char *name = g_strdup_printf ("p%u", given[i]);

      g_variant_builder_add (&builder, "{sv}", name, g_variant_new_uint32 (given[i]));
    }

  return g_variant_builder_end (&builder);
}

/* Declares "x" twice: optional, then required. */
#define TEST_TYPE_TWICE (test_twice_get_type ())
G_DECLARE_FINAL_TYPE (TestTwice, test_twice, TEST, TWICE, GObject)

struct _TestTwice
{
  GObject parent_instance;
};

static const GatherParameter twice_parameters[] = {
  { "x", "u", "A number", GATHER_PARAMETER_NONE },
  { "x", "u", "The same number", GATHER_PARAMETER_REQUIRED },
};

static void
test_twice_iface_init (GatherWorkerInterface *iface)
{
  iface->name = "twice";
  iface->description = "Declares a parameter twice";
  iface->parameters = twice_parameters;
  iface->n_parameters = G_N_ELEMENTS (twice_parameters);
  iface->result_type = "u";
  iface->run = test_wide_run;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestTwice, test_twice, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GATHER_TYPE_WORKER, test_twice_iface_init))

static void
test_twice_class_init (TestTwiceClass *klass)
{
}

static void
test_twice_init (TestTwice *self)
{
}

/* Declares a parameter of a type that is not one. */
#define TEST_TYPE_BAD_TYPE (test_bad_type_get_type ())
G_DECLARE_FINAL_TYPE (TestBadType, test_bad_type, TEST, BAD_TYPE, GObject)

struct _TestBadType
{
  GObject parent_instance;
};

static const GatherParameter bad_type_parameters[] = {
  { "x", "u", "A number", GATHER_PARAMETER_NONE },
  { "y", "a{s", "Not a type", GATHER_PARAMETER_NONE },
};

static void
test_bad_type_iface_init (GatherWorkerInterface *iface)
{
  iface->name = "bad-type";
  iface->description = "Declares a parameter of a type that is not one";
  iface->parameters = bad_type_parameters;
  iface->n_parameters = G_N_ELEMENTS (bad_type_parameters);
  iface->result_type = "u";
  iface->run = test_wide_run;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestBadType, test_bad_type, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GATHER_TYPE_WORKER, test_bad_type_iface_init))

static void
test_bad_type_class_init (TestBadTypeClass *klass)
{
}

static void
test_bad_type_init (TestBadType *self)
{
}

static void
test_registry_bad_parameter_type (void)
{
  g_autoptr(GatherRegistry) registry = gather_registry_new ();
  g_autoptr(GatherWorker) worker = g_object_new (TEST_TYPE_BAD_TYPE, NULL);
  g_autoptr(GError) error = NULL;

  g_test_summary ("A worker added by a program that declares a parameter of a "
                  "type that is not one is refused with an error, every time, "
                  "and never reaches GLib's checks of type strings (a critical)");

  for (guint attempt = 0; attempt < 2; attempt++)
    {
      g_assert_false (gather_registry_add_worker (registry, worker, &error));
      g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN);
      test_assert_message_has (error, "TestBadType");
      g_clear_error (&error);

      g_assert_null (gather_worker_run (worker, g_variant_new_parsed ("{'x': <uint32 1>}"),
                                        NULL, &error));
      g_assert_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN);
      g_clear_error (&error);
    }
  g_assert_null (gather_registry_lookup_worker (registry, "bad-type"));
}

static void
test_registry_required_parameters (void)
{
  g_autoptr(GatherWorker) wide = g_object_new (TEST_TYPE_WIDE, NULL);
  /* Every required one, out of order, one twice, and two optional ones. */
  const guint all[] = { 69, 5, 63, 0, 64, 62, 63, 68 };
  const struct { guint missing; const char *message; } cases[] = {
    { 0, "Worker “wide” needs parameter “p0” (A number, of type “u”)" },
    { 62, "Worker “wide” needs parameter “p62” (A number, of type “u”)" },
    { 63, "Worker “wide” needs parameter “p63” (A number, of type “u”)" },
    { 64, "Worker “wide” needs parameter “p64” (A number, of type “u”)" },
    { 69, "Worker “wide” needs parameter “p69” (A number, of type “u”)" },
  };
  g_autoptr(GVariant) complete = g_variant_ref_sink (wide_parameters_of (all, G_N_ELEMENTS (all)));
  g_autoptr(GatherWorker) twice = g_object_new (TEST_TYPE_TWICE, NULL);
  g_autoptr(GVariant) x = g_variant_ref_sink (g_variant_new_parsed ("{'x': <uint32 1>}"));
  g_autoptr(GVariant) none = g_variant_ref_sink (g_variant_new_parsed ("@a{sv} {}"));
  g_autoptr(GError) error = NULL;

  g_test_summary ("Every required parameter is checked, also past the 64th, "
                  "whatever the order, with a key given twice, and with a name a worker "
                  "declares twice");

  g_assert_true (gather_worker_check_parameters (wide, complete, &error));
  g_assert_no_error (error);

  /* A name declared twice, required the second time: given once, it is given. */
  g_assert_true (gather_worker_check_parameters (twice, x, &error));
  g_assert_no_error (error);
  g_assert_false (gather_worker_check_parameters (twice, none, &error));
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS);
  g_clear_error (&error);

  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      guint given[G_N_ELEMENTS (all)];
      gsize n_given = 0;
      g_autoptr(GVariant) parameters = NULL;

      for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
        if (all[i] != cases[c].missing)
          given[n_given++] = all[i];
      parameters = g_variant_ref_sink (wide_parameters_of (given, n_given));

      g_assert_false (gather_worker_check_parameters (wide, parameters, &error));
      g_assert_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS);
      g_assert_cmpstr (error->message, ==, cases[c].message);
      g_clear_error (&error);
    }
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
  g_test_bug_base ("gather issue #%s");

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
  g_test_add_func ("/gather/registry/swap-after-check", test_registry_swap_after_check);
  g_test_add_func ("/gather/registry/symlinks", test_registry_symlinks);
  g_test_add_func ("/gather/registry/parent-directories", test_registry_parent_directories);
  g_test_add_func ("/gather/registry/truncated", test_registry_truncated);
  g_test_add_func ("/gather/registry/missing-symbol", test_registry_missing_symbol);
  g_test_add_func ("/gather/registry/type-clash", test_registry_type_clash);
  g_test_add_func ("/gather/registry/shadowed", test_registry_shadowed);
  g_test_add_func ("/gather/registry/hermetic", test_registry_hermetic);
  g_test_add_func ("/gather/registry/tool-shadowed", test_registry_tool_shadowed);
  g_test_add_func ("/gather/registry/required-parameters", test_registry_required_parameters);
  g_test_add_func ("/gather/registry/bad-parameter-type", test_registry_bad_parameter_type);

  return g_test_run ();
}
