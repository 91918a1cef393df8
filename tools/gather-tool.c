/* gather-tool.c: the gather command.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include <libgather.h>

/* Exit statuses. */
#define EXIT_OK          0
#define EXIT_FAILED      1   /* a task failed, timed out or was cancelled */
#define EXIT_USAGE       2   /* bad arguments, workers, parameters, files */
#define EXIT_INTERRUPTED 130 /* Ctrl-C */

/* The longest duration accepted anywhere: a day. */
#define MAX_DURATION_MSEC (24u * 60 * 60 * 1000)

/* The most tasks run at once unless --jobs says otherwise. */
#define DEFAULT_MAX_JOBS 64

static void
print_error (const char *what,
             const char *message)
{
  if (what != NULL)
    g_printerr ("%s: %s: %s\n", g_get_prgname (), what, message);
  else
    g_printerr ("%s: %s\n", g_get_prgname (), message);
}

static int
usage_error (const char *command,
             const char *what,
             const char *message)
{
  print_error (what, message);
  g_printerr ("Try “%s help%s%s” for more information.\n",
              g_get_prgname (), command ? " " : "", command ? command : "");
  return EXIT_USAGE;
}

/* ---- Durations: 250ms, 3s, 1m, 2h; 0 for none ---- */

static gboolean
parse_duration (const char  *text,
                guint       *out_msec,
                GError     **error)
{
  static const struct { const char *suffix; guint64 msec; } units[] = {
    { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 60 * 60 * 1000 },
  };
  g_autofree char *digits = NULL;
  guint64 value;

  if (g_strcmp0 (text, "0") == 0)
    {
      *out_msec = 0;
      return TRUE;
    }

  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (units); i++)
    {
      if (!g_str_has_suffix (text, units[i].suffix))
        continue;

      digits = g_strndup (text, strlen (text) - strlen (units[i].suffix));
      /* "5ms" also ends in "s": the digits then end in "m". */
      if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT64, &value, NULL))
        {
          g_clear_pointer (&digits, g_free);
          continue;
        }

      if (value > MAX_DURATION_MSEC / units[i].msec)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "Duration “%s” is longer than a day", text);
          return FALSE;
        }

      *out_msec = (guint) (value * units[i].msec);
      return TRUE;
    }

  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "Invalid duration “%s”: use a whole number followed by ms, s, m "
               "or h, such as 250ms, 3s or 1m", text ? text : "");
  return FALSE;
}

/* ---- gather plugins ---- */

static gboolean plugins_json;
static gboolean plugins_names;

static const GOptionEntry plugins_entries[] = {
  { "json", 0, 0, G_OPTION_ARG_NONE, &plugins_json, "Print JSON", NULL },
  { "names", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &plugins_names, "Print worker names only", NULL },
  G_OPTION_ENTRY_NULL
};

static void
print_worker_text (GatherWorker *worker)
{
  g_autoptr(GPtrArray) parameters = gather_worker_list_parameters (worker);
  const char *path = gather_worker_get_plugin_path (worker);

  g_print ("%s\n", gather_worker_get_name (worker));
  if (gather_worker_get_description (worker) != NULL)
    g_print ("  %s\n", gather_worker_get_description (worker));
  for (guint i = 0; i < parameters->len; i++)
    {
      GatherParameter *parameter = g_ptr_array_index (parameters, i);

      g_print ("  %s=%s%s  %s\n", parameter->name, parameter->type,
               (parameter->flags & GATHER_PARAMETER_REQUIRED) ? " (required)" : "",
               parameter->description ? parameter->description : "");
    }
  if (!g_str_equal (gather_worker_get_parameter_type (worker), "a{sv}"))
    g_print ("  parameters: %s\n", gather_worker_get_parameter_type (worker));
  g_print ("  result: %s\n", gather_worker_get_result_type (worker));
  g_print ("  from: %s\n", path ? path : "(built in)");
}

static JsonNode *
error_to_json (const GError *error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "domain");
  json_builder_add_string_value (builder, g_quark_to_string (error->domain));
  json_builder_set_member_name (builder, "code");
  json_builder_add_int_value (builder, error->code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, error->message);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static void
print_json (JsonNode *root)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

static void
print_plugins_json (GPtrArray *workers,
                    GPtrArray *failures,
                    GPtrArray *shadowed)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "workers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < workers->len; i++)
    {
      GatherWorker *worker = g_ptr_array_index (workers, i);
      g_autoptr(GPtrArray) parameters = gather_worker_list_parameters (worker);
      const char *path = gather_worker_get_plugin_path (worker);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, gather_worker_get_name (worker));
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, gather_worker_get_description (worker));
      json_builder_set_member_name (builder, "parameter_type");
      json_builder_add_string_value (builder, gather_worker_get_parameter_type (worker));
      json_builder_set_member_name (builder, "parameters");
      json_builder_begin_array (builder);
      for (guint j = 0; j < parameters->len; j++)
        {
          GatherParameter *parameter = g_ptr_array_index (parameters, j);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, parameter->name);
          json_builder_set_member_name (builder, "type");
          json_builder_add_string_value (builder, parameter->type);
          json_builder_set_member_name (builder, "description");
          json_builder_add_string_value (builder, parameter->description);
          json_builder_set_member_name (builder, "required");
          json_builder_add_boolean_value (builder, parameter->flags & GATHER_PARAMETER_REQUIRED);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "result_type");
      json_builder_add_string_value (builder, gather_worker_get_result_type (worker));
      json_builder_set_member_name (builder, "path");
      if (path != NULL)
        json_builder_add_string_value (builder, path);
      else
        json_builder_add_null_value (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "failures");
  json_builder_begin_array (builder);
  for (guint i = 0; i < failures->len; i++)
    {
      GatherPluginFailure *failure = g_ptr_array_index (failures, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, gather_plugin_failure_get_path (failure));
      json_builder_set_member_name (builder, "error");
      json_builder_add_value (builder, error_to_json (gather_plugin_failure_get_error (failure)));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "shadowed");
  json_builder_begin_array (builder);
  for (guint i = 0; i < shadowed->len; i++)
    {
      GatherShadowedPlugin *plugin = g_ptr_array_index (shadowed, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, gather_shadowed_plugin_get_path (plugin));
      json_builder_set_member_name (builder, "shadowed_by");
      json_builder_add_string_value (builder, gather_shadowed_plugin_get_shadowed_by (plugin));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  print_json (root);
}

static int
command_plugins (int    argc,
                 char **argv)
{
  GatherRegistry *registry;
  g_autoptr(GPtrArray) workers = NULL;
  g_autoptr(GPtrArray) failures = NULL;
  g_autoptr(GPtrArray) shadowed = NULL;

  if (argc > 1)
    return usage_error ("plugins", argv[1], "Unexpected argument");

  registry = gather_registry_get_default ();
  workers = gather_registry_list_workers (registry);
  failures = gather_registry_list_failures (registry);
  shadowed = gather_registry_list_shadowed (registry);

  if (plugins_names)
    {
      for (guint i = 0; i < workers->len; i++)
        g_print ("%s\n", gather_worker_get_name (g_ptr_array_index (workers, i)));
      return EXIT_OK;
    }

  if (plugins_json)
    {
      print_plugins_json (workers, failures, shadowed);
      return EXIT_OK;
    }

  if (workers->len == 0)
    g_print ("No workers are loaded.\n");
  for (guint i = 0; i < workers->len; i++)
    {
      if (i > 0)
        g_print ("\n");
      print_worker_text (g_ptr_array_index (workers, i));
    }

  if (failures->len > 0)
    {
      g_print ("\nNot loaded:\n");
      for (guint i = 0; i < failures->len; i++)
        {
          GatherPluginFailure *failure = g_ptr_array_index (failures, i);

          g_print ("  %s\n    %s\n", gather_plugin_failure_get_path (failure),
                   gather_plugin_failure_get_error (failure)->message);
        }
    }

  if (shadowed->len > 0)
    {
      g_print ("\nShadowed (not loaded: a file of the same name comes first):\n");
      for (guint i = 0; i < shadowed->len; i++)
        {
          GatherShadowedPlugin *plugin = g_ptr_array_index (shadowed, i);

          g_print ("  %s\n    by %s\n", gather_shadowed_plugin_get_path (plugin),
                   gather_shadowed_plugin_get_shadowed_by (plugin));
        }
    }

  return EXIT_OK;
}

/* ---- gather run: task specifications ---- */

typedef struct
{
  char     *origin;        /* for messages: where the task was given */
  char     *worker;
  char     *label;
  GVariant *parameters;    /* a{sv}, sunk */
  gint64    timeout_msec;  /* -1: the --timeout default */
} TaskSpec;

static void
task_spec_free (gpointer data)
{
  TaskSpec *spec = data;

  g_free (spec->origin);
  g_free (spec->worker);
  g_free (spec->label);
  g_clear_pointer (&spec->parameters, g_variant_unref);
  g_free (spec);
}

static const GatherParameter *
find_parameter (GPtrArray  *parameters,
                const char *name)
{
  for (guint i = 0; i < parameters->len; i++)
    {
      const GatherParameter *parameter = g_ptr_array_index (parameters, i);

      if (g_str_equal (parameter->name, name))
        return parameter;
    }

  return NULL;
}

/* Turns VALUE text into a GVariant of @type: strings as they are, other
 * types in GVariant text format ("2000", "true", "['a', 'b']"); a string
 * array may also be written as words, as a shell would split them.
 * Returns a full (not floating) reference. */
static GVariant *
parse_value (const char          *key,
             const char          *type,
             const char          *text,
             GError             **error)
{
  g_autoptr(GError) local_error = NULL;
  GVariant *value;

  if (g_str_equal (type, "s"))
    return g_variant_take_ref (g_variant_new_string (text));

  if (g_str_equal (type, "*") || g_str_equal (type, "v"))
    {
      g_autoptr(GVariant) parsed = g_variant_parse (NULL, text, NULL, NULL, NULL);

      if (parsed == NULL)
        parsed = g_variant_take_ref (g_variant_new_string (text));
      if (g_str_equal (type, "v"))
        return g_variant_take_ref (g_variant_new_variant (parsed));
      return g_steal_pointer (&parsed);
    }

  value = g_variant_parse (G_VARIANT_TYPE (type), text, NULL, NULL, &local_error);
  if (value != NULL)
    return value;

  if (g_str_equal (type, "as"))
    {
      g_auto(GStrv) words = NULL;

      if (g_shell_parse_argv (text, NULL, &words, NULL))
        return g_variant_take_ref (g_variant_new_strv ((const char * const *) words, -1));
    }

  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "Invalid value “%s” for %s: expected type “%s”", text, key, type);
  return NULL;
}

/* "WORKER [KEY=VALUE ...]": one task from one command-line argument. */
static TaskSpec *
parse_task_argument (GatherRegistry  *registry,
                     const char      *argument,
                     GError         **error)
{
  g_auto(GStrv) words = NULL;
  g_autoptr(GPtrArray) parameters = NULL;
  g_autoptr(GVariantBuilder) builder = NULL;
  g_autoptr(GError) local_error = NULL;
  TaskSpec *spec;
  GatherWorker *worker;

  if (!g_shell_parse_argv (argument, NULL, &words, &local_error))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Cannot read task “%s”: %s", argument, local_error->message);
      return NULL;
    }

  worker = gather_registry_lookup_worker (registry, words[0]);
  if (worker == NULL)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_UNKNOWN_WORKER,
                   "Unknown worker “%s” (see “%s plugins”)", words[0], g_get_prgname ());
      return NULL;
    }

  spec = g_new0 (TaskSpec, 1);
  spec->worker = g_strdup (words[0]);
  spec->timeout_msec = -1;
  parameters = gather_worker_list_parameters (worker);
  builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);

  for (guint i = 1; words[i] != NULL; i++)
    {
      const char *equals = strchr (words[i], '=');
      g_autofree char *key = NULL;
      const GatherParameter *parameter;
      g_autoptr(GVariant) value = NULL;

      if (equals == NULL || equals == words[i])
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "“%s” is not KEY=VALUE", words[i]);
          task_spec_free (spec);
          return NULL;
        }

      key = g_strndup (words[i], equals - words[i]);

      if (g_str_equal (key, "label"))
        {
          g_free (spec->label);
          spec->label = g_strdup (equals + 1);
          continue;
        }

      if (g_str_equal (key, "timeout"))
        {
          guint msec;

          if (!parse_duration (equals + 1, &msec, error))
            {
              task_spec_free (spec);
              return NULL;
            }
          spec->timeout_msec = msec;
          continue;
        }

      /* An unknown key goes through as text: the library names it, and
       * the parameters the worker takes, when the task is added. */
      parameter = find_parameter (parameters, key);
      value = parse_value (key, parameter != NULL ? parameter->type : "s", equals + 1, error);
      if (value == NULL)
        {
          task_spec_free (spec);
          return NULL;
        }
      g_variant_builder_add (builder, "{sv}", key, value);
    }

  spec->parameters = g_variant_ref_sink (g_variant_builder_end (builder));

  return spec;
}

static gboolean
read_duration_member (JsonObject  *object,
                      const char  *member,
                      gint64      *out_msec,
                      GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);
  guint msec;

  if (node == NULL)
    return TRUE;

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      if (!parse_duration (json_node_get_string (node), &msec, error))
        return FALSE;
      *out_msec = msec;
      return TRUE;
    }

  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "“%s” must be a duration string such as \"3s\"", member);
  return FALSE;
}

/* One task from a task file object:
 * { "worker": "sleep", "label": "...", "timeout": "3s", "parameters": { ... } } */
static TaskSpec *
parse_task_object (GatherRegistry  *registry,
                   JsonNode        *node,
                   GError         **error)
{
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GPtrArray) parameters = NULL;
  JsonObject *object;
  JsonObject *params;
  JsonNode *params_node;
  const char *name;
  GatherWorker *worker;
  TaskSpec *spec;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "A task must be an object");
      return NULL;
    }

  object = json_node_get_object (node);
  name = json_object_get_string_member_with_default (object, "worker", NULL);
  if (name == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "A task needs a \"worker\" string");
      return NULL;
    }

  worker = gather_registry_lookup_worker (registry, name);
  if (worker == NULL)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_UNKNOWN_WORKER,
                   "Unknown worker “%s” (see “%s plugins”)", name, g_get_prgname ());
      return NULL;
    }

  spec = g_new0 (TaskSpec, 1);
  spec->worker = g_strdup (name);
  spec->label = g_strdup (json_object_get_string_member_with_default (object, "label", NULL));
  spec->timeout_msec = -1;

  if (!read_duration_member (object, "timeout", &spec->timeout_msec, error))
    {
      task_spec_free (spec);
      return NULL;
    }

  parameters = gather_worker_list_parameters (worker);
  params_node = json_object_get_member (object, "parameters");
  if (params_node != NULL && !JSON_NODE_HOLDS_OBJECT (params_node))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "\"parameters\" must be an object");
      task_spec_free (spec);
      return NULL;
    }
  params = params_node != NULL ? json_node_get_object (params_node) : NULL;

  if (params != NULL)
    {
      g_autoptr(GList) members = json_object_get_members (params);

      for (GList *l = members; l != NULL; l = l->next)
        {
          const char *key = l->data;
          const GatherParameter *parameter = find_parameter (parameters, key);
          const char *type = parameter != NULL ? parameter->type : "*";
          g_autoptr(GError) local_error = NULL;
          g_autoptr(GVariant) value = NULL;

          /* An unknown key goes through as it is: the library names it when
           * the task is added. */
          value = json_gvariant_deserialize (json_object_get_member (params, key),
                                             g_str_equal (type, "*") ? NULL : type,
                                             &local_error);
          if (value != NULL)
            g_variant_take_ref (value);
          if (value == NULL)
            {
              g_set_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS,
                           "Parameter “%s” of worker “%s” must be of type “%s”: %s",
                           key, name, type, local_error->message);
              task_spec_free (spec);
              return NULL;
            }
          g_variant_builder_add (builder, "{sv}", key, value);
        }
    }

  spec->parameters = g_variant_ref_sink (g_variant_builder_end (builder));

  return spec;
}

/* A task file: an array of tasks, or { "tasks": [...] }. */
static GPtrArray *
parse_task_file (GatherRegistry  *registry,
                 const char      *path,
                 GError         **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func (task_spec_free);
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  JsonArray *tasks = NULL;
  gboolean loaded;

  if (g_str_equal (path, "-"))
    {
      g_autoptr(GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);

      loaded = json_parser_load_from_stream (parser, in, NULL, &local_error);
    }
  else
    {
      loaded = json_parser_load_from_file (parser, path, &local_error);
    }

  if (!loaded)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Cannot read task file: %s", local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root != NULL && JSON_NODE_HOLDS_ARRAY (root))
    tasks = json_node_get_array (root);
  else if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonNode *member = json_object_get_member (json_node_get_object (root), "tasks");

      if (member != NULL && JSON_NODE_HOLDS_ARRAY (member))
        tasks = json_node_get_array (member);
    }

  if (tasks == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "A task file holds an array of tasks, or an object with a "
                   "\"tasks\" array");
      return NULL;
    }

  for (guint i = 0; i < json_array_get_length (tasks); i++)
    {
      TaskSpec *spec = parse_task_object (registry, json_array_get_element (tasks, i), &local_error);

      if (spec == NULL)
        {
          g_set_error (error, local_error->domain, local_error->code,
                       "Task %u: %s", i + 1, local_error->message);
          return NULL;
        }
      spec->origin = g_strdup_printf ("%s: task %u", path, i + 1);
      g_ptr_array_add (specs, spec);
    }

  return g_steal_pointer (&specs);
}

/* ---- gather run: running and reporting ---- */

static char    *run_file;
static char    *run_timeout;
static char    *run_deadline;
static char    *run_policy;
static gint     run_jobs;
static gboolean run_json;
static gboolean run_quiet;
static gboolean run_stream;

static const GOptionEntry run_entries[] = {
  { "file", 'f', 0, G_OPTION_ARG_FILENAME, &run_file, "Read tasks from a JSON task file (- for standard input)", "FILE" },
  { "timeout", 't', 0, G_OPTION_ARG_STRING, &run_timeout, "Each task's timeout unless it sets its own (default: none)", "DURATION" },
  { "deadline", 'd', 0, G_OPTION_ARG_STRING, &run_deadline, "A timeout for the whole run", "DURATION" },
  { "jobs", 'j', 0, G_OPTION_ARG_INT, &run_jobs, "How many tasks run at once (default: all, up to 64)", "N" },
  { "policy", 'p', 0, G_OPTION_ARG_STRING, &run_policy, "When to stop: all (default), first-error, first-success, quorum=K", "POLICY" },
  { "json", 0, 0, G_OPTION_ARG_NONE, &run_json, "Print the outcomes as JSON", NULL },
  { "stream", 's', 0, G_OPTION_ARG_NONE, &run_stream, "Print each task's row as it finishes", NULL },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &run_quiet, "No progress line, no summary", NULL },
  G_OPTION_ENTRY_NULL
};

typedef struct
{
  GPtrArray    *specs;
  GatherGroup  *group;
  GCancellable *cancellable;
  GPtrArray    *outcomes;
  gint64        start_time;
  gboolean      progress;       /* draw the progress line */
  gboolean      progress_shown;
  gboolean      interrupted;
  guint         n_timeout;
  guint         n_rows;         /* streamed rows */
} Run;

static const char *
status_name (GatherStatus status)
{
  switch (status)
    {
    case GATHER_STATUS_OK:
      return "ok";
    case GATHER_STATUS_ERROR:
      return "error";
    case GATHER_STATUS_TIMEOUT:
      return "timeout";
    case GATHER_STATUS_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
    }
}

/* Shortens @text to @width characters, ending with an ellipsis. */
static char *
shorten (const char *text,
         guint       width)
{
  glong length = g_utf8_strlen (text, -1);
  g_autofree char *cut = NULL;

  if (length <= (glong) width)
    return g_strdup (text);

  cut = g_utf8_substring (text, 0, width - 1);
  return g_strconcat (cut, "…", NULL);
}

static char *
format_duration (GatherOutcome *outcome)
{
  gint64 start = gather_outcome_get_start_time (outcome);
  gint64 usec;

  if (start == 0)
    return g_strdup ("-");

  usec = gather_outcome_get_finish_time (outcome) - start;
  if (usec < 10 * G_USEC_PER_SEC)
    return g_strdup_printf ("%.3fs", usec / 1e6);

  return g_strdup_printf ("%.1fs", usec / 1e6);
}

static void
clear_progress (Run *run)
{
  if (run->progress_shown)
    {
      /* Erase the line: carriage return, clear to the end of the line. */
      fputs ("\r\033[K", stderr);
      fflush (stderr);
      run->progress_shown = FALSE;
    }
}

static void
draw_progress (Run *run)
{
  guint n_tasks = gather_group_get_n_tasks (run->group);
  guint n_finished = gather_group_get_n_finished (run->group);

  if (!run->progress)
    return;

  fprintf (stderr, "\r\033[K%u/%u finished, %u running, %u timed out, %.1fs",
           n_finished, n_tasks, gather_group_get_n_running (run->group),
           run->n_timeout, (g_get_monotonic_time () - run->start_time) / 1e6);
  fflush (stderr);
  run->progress_shown = TRUE;
}

static gboolean
progress_tick (gpointer data)
{
  draw_progress (data);
  return G_SOURCE_CONTINUE;
}

static void
print_header (void)
{
  g_print ("%-4s %-20s %-10s %-9s %8s  %s\n", "#", "LABEL", "WORKER", "STATUS", "TIME", "RESULT");
}

static void
print_row (Run           *run,
           GatherOutcome *outcome)
{
  TaskSpec *spec = g_ptr_array_index (run->specs, gather_outcome_get_index (outcome));
  g_autofree char *label = shorten (gather_outcome_get_label (outcome), 20);
  g_autofree char *worker = shorten (spec->worker, 10);
  g_autofree char *duration = format_duration (outcome);
  g_autofree char *text = NULL;
  g_autofree char *shown = NULL;

  if (gather_outcome_get_status (outcome) == GATHER_STATUS_OK)
    {
      GVariant *result = gather_outcome_get_result (outcome);
      g_autoptr(GVariant) inner = NULL;

      /* A worker returning "v" (any type): show what is inside. */
      if (g_variant_is_of_type (result, G_VARIANT_TYPE_VARIANT))
        result = inner = g_variant_get_variant (result);
      text = g_variant_print (result, FALSE);
    }
  else
    text = g_strdup (gather_outcome_get_error (outcome)->message);

  g_strdelimit (text, "\n\r\t", ' ');
  shown = shorten (text, 60);

  g_print ("%-4u %-20s %-10s %-9s %8s  %s%s\n",
           gather_outcome_get_index (outcome) + 1, label, worker,
           status_name (gather_outcome_get_status (outcome)), duration, shown,
           gather_outcome_get_abandoned (outcome) ? " (abandoned)" : "");
}

static void
on_task_finished (GatherGroup   *group,
                  GatherOutcome *outcome,
                  Run           *run)
{
  if (gather_outcome_get_status (outcome) == GATHER_STATUS_TIMEOUT)
    run->n_timeout++;

  if (run_stream && !run_json)
    {
      clear_progress (run);
      if (run->n_rows++ == 0)
        print_header ();
      print_row (run, outcome);
    }

  draw_progress (run);
}

static void
on_run_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;

  run->outcomes = gather_group_run_finish (GATHER_GROUP (object), result, &error);
  g_assert_no_error (error);
}

static gboolean
on_interrupt (gpointer user_data)
{
  Run *run = user_data;

  run->interrupted = TRUE;
  g_cancellable_cancel (run->cancellable);

  return G_SOURCE_CONTINUE;
}

static JsonNode *
outcome_to_json (Run           *run,
                 GatherOutcome *outcome)
{
  TaskSpec *spec = g_ptr_array_index (run->specs, gather_outcome_get_index (outcome));
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  gint64 queued = gather_outcome_get_queued_time (outcome);
  gint64 start = gather_outcome_get_start_time (outcome);
  gint64 finish = gather_outcome_get_finish_time (outcome);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "index");
  json_builder_add_int_value (builder, gather_outcome_get_index (outcome));
  json_builder_set_member_name (builder, "label");
  json_builder_add_string_value (builder, gather_outcome_get_label (outcome));
  json_builder_set_member_name (builder, "worker");
  json_builder_add_string_value (builder, spec->worker);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, status_name (gather_outcome_get_status (outcome)));
  json_builder_set_member_name (builder, "abandoned");
  json_builder_add_boolean_value (builder, gather_outcome_get_abandoned (outcome));
  json_builder_set_member_name (builder, "result");
  if (gather_outcome_get_result (outcome) != NULL)
    json_builder_add_value (builder, json_gvariant_serialize (gather_outcome_get_result (outcome)));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "error");
  if (gather_outcome_get_error (outcome) != NULL)
    json_builder_add_value (builder, error_to_json (gather_outcome_get_error (outcome)));
  else
    json_builder_add_null_value (builder);

  /* Microseconds since the run started. */
  json_builder_set_member_name (builder, "started_us");
  if (start != 0)
    json_builder_add_int_value (builder, start - queued);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "finished_us");
  json_builder_add_int_value (builder, finish - queued);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static void
print_outcomes (Run *run)
{
  if (run_json)
    {
      g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
      JsonArray *array = json_array_sized_new (run->outcomes->len);

      for (guint i = 0; i < run->outcomes->len; i++)
        json_array_add_element (array, outcome_to_json (run, g_ptr_array_index (run->outcomes, i)));
      json_node_take_array (root, array);
      print_json (root);
      return;
    }

  if (!run_stream)
    {
      if (run->outcomes->len > 0)
        print_header ();
      for (guint i = 0; i < run->outcomes->len; i++)
        print_row (run, g_ptr_array_index (run->outcomes, i));
    }
}

static void
print_summary (Run *run)
{
  guint counts[4] = { 0 };
  GString *line = g_string_new (NULL);

  for (guint i = 0; i < run->outcomes->len; i++)
    counts[gather_outcome_get_status (g_ptr_array_index (run->outcomes, i))]++;

  g_string_append_printf (line, "%u tasks: %u ok, %u error, %u timeout, %u cancelled in %.1fs",
                          run->outcomes->len, counts[GATHER_STATUS_OK], counts[GATHER_STATUS_ERROR],
                          counts[GATHER_STATUS_TIMEOUT], counts[GATHER_STATUS_CANCELLED],
                          (g_get_monotonic_time () - run->start_time) / 1e6);
  if (run->interrupted)
    g_string_append (line, " (interrupted)");

  /* With --json, stdout is for the JSON alone. */
  if (run_json)
    g_printerr ("%s\n", line->str);
  else
    g_print ("%s\n", line->str);

  g_string_free (line, TRUE);
}

static gboolean
parse_policy (GatherGroup  *group,
              const char   *text,
              GError      **error)
{
  guint64 quorum;

  if (g_str_equal (text, "all"))
    gather_group_set_policy (group, GATHER_POLICY_ALL);
  else if (g_str_equal (text, "first-error"))
    gather_group_set_policy (group, GATHER_POLICY_FIRST_ERROR);
  else if (g_str_equal (text, "first-success"))
    gather_group_set_policy (group, GATHER_POLICY_FIRST_SUCCESS);
  else if (g_str_has_prefix (text, "quorum=") &&
           g_ascii_string_to_unsigned (text + strlen ("quorum="), 10, 1, G_MAXUINT, &quorum, NULL))
    {
      gather_group_set_policy (group, GATHER_POLICY_QUORUM);
      gather_group_set_quorum (group, (guint) quorum);
    }
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Invalid policy “%s”: use all, first-error, first-success or "
                   "quorum=K with K at least 1", text);
      return FALSE;
    }

  return TRUE;
}

static int
command_run (int    argc,
             char **argv)
{
  GatherRegistry *registry = gather_registry_get_default ();
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func (task_spec_free);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GatherPool) pool = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  guint default_timeout = 0;
  guint deadline = 0;
  guint jobs;
  Run run = { 0 };
  guint tick_id = 0, sigint_id, sigterm_id;
  gboolean all_ok = TRUE;

  if (run_timeout != NULL && !parse_duration (run_timeout, &default_timeout, &error))
    return usage_error ("run", "--timeout", error->message);
  if (run_deadline != NULL && !parse_duration (run_deadline, &deadline, &error))
    return usage_error ("run", "--deadline", error->message);
  if (run_jobs < 0)
    return usage_error ("run", "--jobs", "Must be at least 1");
  if (run_policy != NULL && !parse_policy (group, run_policy, &error))
    return usage_error ("run", "--policy", error->message);
  if (run_file != NULL && argc > 1)
    return usage_error ("run", argv[1], "Give tasks as arguments or with --file, not both");

  if (run_file != NULL)
    {
      g_autoptr(GPtrArray) from_file = parse_task_file (registry, run_file, &error);

      if (from_file == NULL)
        {
          print_error (run_file, error->message);
          return EXIT_USAGE;
        }
      g_ptr_array_extend_and_steal (specs, g_steal_pointer (&from_file));
    }

  for (int i = 1; i < argc; i++)
    {
      TaskSpec *spec = parse_task_argument (registry, argv[i], &error);
      g_autofree char *what = NULL;

      what = g_strdup_printf ("task “%s”", argv[i]);
      if (spec == NULL)
        {
          print_error (what, error->message);
          return EXIT_USAGE;
        }
      spec->origin = g_steal_pointer (&what);
      g_ptr_array_add (specs, spec);
    }

  if (specs->len == 0)
    return usage_error ("run", NULL, "No tasks: give WORKER [KEY=VALUE ...] arguments or --file");

  /* Blocking workers need a thread each to run at once. */
  jobs = run_jobs > 0 ? (guint) run_jobs : MIN (specs->len, DEFAULT_MAX_JOBS);
  pool = gather_pool_new (jobs);
  gather_group_set_pool (group, pool);
  gather_group_set_max_concurrent (group, jobs);
  gather_group_set_registry (group, registry);
  gather_group_set_deadline (group, deadline);

  for (guint i = 0; i < specs->len; i++)
    {
      TaskSpec *spec = g_ptr_array_index (specs, i);
      guint timeout = spec->timeout_msec >= 0 ? (guint) spec->timeout_msec : default_timeout;

      if (gather_group_add_worker_task (group, spec->worker, spec->parameters, spec->label,
                                        timeout, &error) == G_MAXUINT)
        {
          print_error (spec->origin, error->message);
          return EXIT_USAGE;
        }
    }

  run.specs = specs;
  run.group = group;
  run.cancellable = cancellable;
  run.start_time = g_get_monotonic_time ();
  run.progress = !run_quiet && isatty (STDERR_FILENO);

  g_signal_connect (group, "task-finished", G_CALLBACK (on_task_finished), &run);
  sigint_id = g_unix_signal_add (SIGINT, on_interrupt, &run);
  sigterm_id = g_unix_signal_add (SIGTERM, on_interrupt, &run);
  if (run.progress)
    tick_id = g_timeout_add (100, progress_tick, &run);

  draw_progress (&run);
  gather_group_run_async (group, cancellable, on_run_done, &run);
  while (run.outcomes == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_clear_handle_id (&tick_id, g_source_remove);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  clear_progress (&run);

  print_outcomes (&run);
  if (!run_quiet)
    print_summary (&run);

  for (guint i = 0; i < run.outcomes->len; i++)
    if (gather_outcome_get_status (g_ptr_array_index (run.outcomes, i)) != GATHER_STATUS_OK)
      all_ok = FALSE;
  g_ptr_array_unref (run.outcomes);

  if (run.interrupted)
    return EXIT_INTERRUPTED;

  return all_ok ? EXIT_OK : EXIT_FAILED;
}

/* ---- Commands ---- */

typedef struct
{
  const char         *name;
  const char         *parameters;
  const char         *summary;
  const char         *description;
  const GOptionEntry *entries;
  int               (*run) (int argc, char **argv);
} Command;

static const Command commands[] = {
  {
    "run", "[TASK...]",
    "Run tasks at once, each with its own timeout",
    "Each TASK is one argument: a worker's name, then KEY=VALUE parameters,\n"
    "for example 'sleep ms=2000 value=user_1'. label=TEXT names the task and\n"
    "timeout=DURATION sets its own timeout. Values take the type the worker\n"
    "declares (see “gather plugins”): text for strings, GVariant text for\n"
    "others (2000, true, ['a', 'b']); string arrays may also be written as\n"
    "words. DURATION is a whole number with ms, s, m or h: 250ms, 3s, 1m.\n"
    "\n"
    "A task file (--file) holds a JSON array of tasks, or an object with a\n"
    "\"tasks\" array; each task is an object with \"worker\", \"parameters\"\n"
    "(an object), and optionally \"label\" and \"timeout\".\n"
    "\n"
    "Prints a row per task in the order given, then a summary. Exit status:\n"
    "0 if every task succeeded, 1 if any failed, timed out or was cancelled,\n"
    "2 for usage errors, 130 when interrupted.",
    run_entries, command_run,
  },
  {
    "plugins", "",
    "List the workers of the loaded plugins, and plugins that failed",
    "Plugins are searched in GATHER_PLUGIN_PATH, then in\n"
    "$XDG_DATA_HOME/libgather-1/plugins, then in " GATHER_PLUGINDIR "\n"
    "(or in GATHER_PLUGIN_DIR instead). The first file of a name is used;\n"
    "later ones are listed as shadowed.",
    plugins_entries, command_plugins,
  },
};

static const Command *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];

  return NULL;
}

static GOptionContext *
command_context (const Command *command)
{
  GOptionContext *context = g_option_context_new (command->parameters);
  g_autofree char *summary = g_strdup_printf ("%s.", command->summary);

  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, command->description);
  g_option_context_add_main_entries (context, command->entries, NULL);

  return context;
}

static void
print_usage (FILE *out)
{
  fprintf (out,
           "Usage:\n"
           "  %s COMMAND [OPTION…]\n"
           "\n"
           "Run tasks on a thread pool, each with its own timeout, and show\n"
           "every outcome.\n"
           "\n"
           "Commands:\n", g_get_prgname ());
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf (out,
           "  %-9s %s\n"
           "\n"
           "Use “%s help COMMAND” for help on a command; “%s --version” for\n"
           "the version.\n", "help", "Show help", g_get_prgname (), g_get_prgname ());
}

static int
command_help (const char *name)
{
  const Command *command;
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *help = NULL;

  if (name == NULL)
    {
      print_usage (stdout);
      return EXIT_OK;
    }

  command = find_command (name);
  if (command == NULL)
    return usage_error (NULL, name, "Unknown command");

  context = command_context (command);
  g_option_context_set_help_enabled (context, TRUE);
  help = g_option_context_get_help (context, TRUE, NULL);
  g_print ("%s", help);

  return EXIT_OK;
}

int
main (int   argc,
      char *argv[])
{
  const Command *command;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = NULL;
  char **command_argv;
  int command_argc;

  setlocale (LC_ALL, "");
  g_set_prgname ("gather");

  if (argc < 2)
    {
      print_usage (stderr);
      return EXIT_USAGE;
    }

  if (g_str_equal (argv[1], "help") || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      if (argc > 3)
        return usage_error (NULL, argv[3], "Unexpected argument");
      return command_help (argc > 2 ? argv[2] : NULL);
    }

  if (g_str_equal (argv[1], "--version") || g_str_equal (argv[1], "version"))
    {
      g_print ("gather %s\n", GATHER_VERSION_S);
      return EXIT_OK;
    }

  command = find_command (argv[1]);
  if (command == NULL)
    return usage_error (NULL, argv[1], "Unknown command");

  /* "gather run --json" parses like a program called "gather run". */
  prgname = g_strdup_printf ("%s %s", g_get_prgname (), command->name);
  command_argc = argc - 1;
  command_argv = argv + 1;
  command_argv[0] = prgname;
  context = command_context (command);
  if (!g_option_context_parse (context, &command_argc, &command_argv, &error))
    return usage_error (command->name, NULL, error->message);

  return command->run (command_argc, command_argv);
}
