/* gather-tool-plugins.c: "gather plugins": the workers of the loaded
 * plugins, and the plugins that failed to load.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-tool-json.h"
#include "gather-tool-output.h"
#include "gather-tool-private.h"
#include "gather-tool-tasks.h"

static gboolean plugins_json;
static gboolean plugins_names;
static gboolean plugins_isolate;
static char    *plugins_keys;

static const GOptionEntry plugins_entries[] = {
  { "json", 0, 0, G_OPTION_ARG_NONE, &plugins_json, "Print JSON", NULL },
  { "isolate", 'i', 0, G_OPTION_ARG_NONE, &plugins_isolate, "Load the plugins in a helper process", NULL },
  /* For the bash completion. */
  { "names", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &plugins_names, "Print worker names only", NULL },
  { "keys", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &plugins_keys, "Print the KEY= of a worker's tasks", "WORKER" },
  G_OPTION_ENTRY_NULL
};

/* A plugin's file name as text. */
static char *
display_path (const char *path)
{
  return path != NULL ? g_filename_display_name (path) : g_strdup ("(built in)");
}

static void
print_worker_text (GatherWorker *worker)
{
  g_autoptr(GPtrArray) parameters = gather_worker_list_parameters (worker);
  g_autofree char *path = display_path (gather_worker_get_plugin_path (worker));

  gather_output_printf ("%s\n", gather_worker_get_name (worker));
  if (gather_worker_get_description (worker) != NULL)
    gather_output_printf ("  %s\n", gather_worker_get_description (worker));
  for (guint i = 0; i < parameters->len; i++)
    {
      GatherParameter *parameter = g_ptr_array_index (parameters, i);

      gather_output_printf ("  %s=%s%s  %s\n", parameter->name, parameter->type,
                            (parameter->flags & GATHER_PARAMETER_REQUIRED) ? " (required)" : "",
                            parameter->description ? parameter->description : "");
    }
  if (!g_str_equal (gather_worker_get_parameter_type (worker), "a{sv}"))
    gather_output_printf ("  parameters: %s\n", gather_worker_get_parameter_type (worker));
  gather_output_printf ("  result: %s\n", gather_worker_get_result_type (worker));
  gather_output_printf ("  from: %s\n", path);
}

static void
member (GString    *out,
        const char *name,
        const char *value)
{
  gather_json_append_string (out, name, -1);
  g_string_append_c (out, ':');
  gather_json_append_string (out, value, -1);
}

static void
print_plugins_json (GPtrArray *workers,
                    GPtrArray *failures,
                    GPtrArray *shadowed)
{
  g_autoptr(GString) out = g_string_new ("{\"workers\":[");

  for (guint i = 0; i < workers->len; i++)
    {
      GatherWorker *worker = g_ptr_array_index (workers, i);
      g_autoptr(GPtrArray) parameters = gather_worker_list_parameters (worker);
      const char *path = gather_worker_get_plugin_path (worker);

      g_string_append (out, i > 0 ? ",\n  {" : "\n  {");
      member (out, "name", gather_worker_get_name (worker));
      g_string_append_c (out, ',');
      member (out, "description", gather_worker_get_description (worker));
      g_string_append_c (out, ',');
      member (out, "parameter_type", gather_worker_get_parameter_type (worker));
      g_string_append (out, ",\"parameters\":[");
      for (guint j = 0; j < parameters->len; j++)
        {
          GatherParameter *parameter = g_ptr_array_index (parameters, j);

          g_string_append (out, j > 0 ? ",{" : "{");
          member (out, "name", parameter->name);
          g_string_append_c (out, ',');
          member (out, "type", parameter->type);
          g_string_append_c (out, ',');
          member (out, "description", parameter->description);
          g_string_append_printf (out, ",\"required\":%s}",
                                  (parameter->flags & GATHER_PARAMETER_REQUIRED) ? "true" : "false");
        }
      g_string_append (out, "],");
      member (out, "result_type", gather_worker_get_result_type (worker));
      /* A file name that is not UTF-8 shows U+FFFD where its bytes were. */
      g_string_append_c (out, ',');
      member (out, "path", path);
      g_string_append_c (out, '}');
    }
  g_string_append (out, workers->len > 0 ? "\n],\"failures\":[" : "],\"failures\":[");

  for (guint i = 0; i < failures->len; i++)
    {
      GatherPluginFailure *failure = g_ptr_array_index (failures, i);

      g_string_append (out, i > 0 ? ",\n  {" : "\n  {");
      member (out, "path", gather_plugin_failure_get_path (failure));
      g_string_append (out, ",\"error\":");
      gather_json_append_error (out, gather_plugin_failure_get_error (failure));
      g_string_append_c (out, '}');
    }
  g_string_append (out, failures->len > 0 ? "\n],\"shadowed\":[" : "],\"shadowed\":[");

  for (guint i = 0; i < shadowed->len; i++)
    {
      GatherShadowedPlugin *plugin = g_ptr_array_index (shadowed, i);

      g_string_append (out, i > 0 ? ",\n  {" : "\n  {");
      member (out, "path", gather_shadowed_plugin_get_path (plugin));
      g_string_append_c (out, ',');
      member (out, "shadowed_by", gather_shadowed_plugin_get_shadowed_by (plugin));
      g_string_append_c (out, '}');
    }
  g_string_append (out, shadowed->len > 0 ? "\n]}\n" : "]}\n");

  gather_output_write (out->str, out->len);
}

/* --keys=WORKER: what may follow the worker's name in a task. */
static int
print_keys (GatherRegistry *registry)
{
  GatherWorker *worker = gather_registry_lookup_worker (registry, plugins_keys);
  g_autoptr(GPtrArray) parameters = NULL;

  if (worker == NULL)
    return GATHER_EXIT_FAILED;

  parameters = gather_worker_list_parameters (worker);
  for (guint i = 0; i < parameters->len; i++)
    gather_output_printf ("%s=\n", ((GatherParameter *) g_ptr_array_index (parameters, i))->name);
  gather_output_write ("label=\ntimeout=\n", -1);

  return GATHER_EXIT_OK;
}

static int
command_plugins (int    argc,
                 char **argv)
{
  GatherRegistry *registry;
  g_autoptr(GPtrArray) workers = NULL;
  g_autoptr(GPtrArray) failures = NULL;
  g_autoptr(GPtrArray) shadowed = NULL;
  int status;

  if (argc > 1)
    return gather_tool_usage_error ("plugins", argv[1], "Unexpected argument");

  registry = gather_tool_get_registry (plugins_isolate);
  workers = gather_registry_list_workers (registry);
  failures = gather_registry_list_failures (registry);
  shadowed = gather_registry_list_shadowed (registry);

  /* Listing what loaded is not the whole answer: a plugin that did not
   * load is a failure a script should see. */
  status = failures->len > 0 ? GATHER_EXIT_FAILED : GATHER_EXIT_OK;

  if (plugins_keys != NULL)
    return print_keys (registry);

  if (plugins_names)
    {
      for (guint i = 0; i < workers->len; i++)
        gather_output_printf ("%s\n", gather_worker_get_name (g_ptr_array_index (workers, i)));
      return status;
    }

  if (plugins_json)
    {
      print_plugins_json (workers, failures, shadowed);
      return status;
    }

  if (workers->len == 0)
    gather_output_write ("No workers are loaded.\n", -1);
  for (guint i = 0; i < workers->len; i++)
    {
      if (i > 0)
        gather_output_write ("\n", -1);
      print_worker_text (g_ptr_array_index (workers, i));
    }

  if (failures->len > 0)
    {
      gather_output_write ("\nNot loaded:\n", -1);
      for (guint i = 0; i < failures->len; i++)
        {
          GatherPluginFailure *failure = g_ptr_array_index (failures, i);
          g_autofree char *path = display_path (gather_plugin_failure_get_path (failure));
          g_autofree char *message = gather_task_display_text (gather_plugin_failure_get_error (failure)->message, -1);

          gather_output_printf ("  %s\n    %s\n", path, message);
        }
      g_printerr ("gather plugins: %u plugin%s could not be loaded\n", failures->len,
                  failures->len == 1 ? "" : "s");
    }

  /* Not failures: a copy later in the search path than a file of the same
   * name, which is the one used. */
  if (shadowed->len > 0)
    {
      gather_output_write ("\nShadowed (not loaded: a file of the same name comes first):\n", -1);
      for (guint i = 0; i < shadowed->len; i++)
        {
          GatherShadowedPlugin *plugin = g_ptr_array_index (shadowed, i);
          g_autofree char *path = display_path (gather_shadowed_plugin_get_path (plugin));
          g_autofree char *by = display_path (gather_shadowed_plugin_get_shadowed_by (plugin));

          gather_output_printf ("  %s\n    by %s\n", path, by);
        }
    }

  return status;
}

const GatherCommand gather_command_plugins = {
  "plugins", "",
  "List the workers of the loaded plugins, and plugins that failed",
  "Plugins are searched in GATHER_PLUGIN_PATH, then in\n"
  "$XDG_DATA_HOME/libgather-1/plugins, then in " GATHER_PLUGINDIR "\n"
  "(or in GATHER_PLUGIN_DIR instead). The first file of a name is used;\n"
  "later ones are listed as shadowed.\n"
  "\n"
  "With --isolate, a helper process loads the plugins: one that crashes or\n"
  "hangs while it loads is listed as not loaded, with how, and the others\n"
  "load.\n"
  "\n"
  "Exit status: 0 if every plugin loaded, 1 if one could not be loaded\n"
  "(the others are still listed).",
  plugins_entries, command_plugins,
};
