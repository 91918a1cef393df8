/* gather-tool-tasks.c: reading tasks, from arguments and from task files.
 *
 * One unit reads both forms of a task, "WORKER KEY=VALUE ..." (a command
 * line argument, or a line of a task file) and a JSON task object; every
 * value is converted to the type its worker declares in one place,
 * gather-tool-values.c. Whatever the input, a task either comes
 * out with the parameters its worker accepts or is refused with a message
 * that names the file, the task, the key and what is wrong: nothing is
 * wrapped, truncated, guessed or silently dropped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gather-tool-json.h"
#include "gather-tool-tasks.h"
#include "gather-tool-values.h"

G_DEFINE_QUARK (gather-task-error-quark, gather_task_error)

/* The keys of a task object in a task file. */
static const char * const task_keys[] = { "worker", "label", "timeout", "parameters", NULL };

void
gather_task_spec_free (GatherTaskSpec *spec)
{
  if (spec == NULL)
    return;

  g_free (spec->origin);
  g_free (spec->worker);
  g_free (spec->label);
  g_clear_pointer (&spec->parameters, g_variant_unref);
  g_free (spec);
}

/* @text as it can be shown in a message: valid UTF-8, with bytes that are
 * not UTF-8 and control characters written as \xNN. */
char *
gather_task_display_text (const char *text,
                          gssize      length)
{
  const char *end = text + (length < 0 ? (gssize) strlen (text) : length);
  GString *shown = g_string_new (NULL);

  for (const char *p = text; p < end;)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2 || c < 0x20 || c == 0x7F)
        {
          g_string_append_printf (shown, "\\x%02X", (guchar) *p);
          p++;
          continue;
        }
      g_string_append_len (shown, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }

  return g_string_free (shown, FALSE);
}

/* Sets @error to "PREFIX, key “KEY”: MESSAGE" (or without the key). */
static void fail (GError     **error,
                  const char  *prefix,
                  const char  *key,
                  const char  *format,
                  ...) G_GNUC_PRINTF (4, 5);

static void
fail (GError     **error,
      const char  *prefix,
      const char  *key,
      const char  *format,
      ...)
{
  g_autofree char *message = NULL;
  g_autofree char *raw = NULL;
  va_list args;

  va_start (args, format);
  raw = g_strdup_vprintf (format, args);
  va_end (args);
  /* Messages from GLib may quote the input as it was. */
  message = gather_task_display_text (raw, -1);

  if (key != NULL)
    {
      g_autofree char *shown = gather_task_display_text (key, -1);

      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                   "%s, key “%s”: %s", prefix, shown, message);
    }
  else
    {
      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                   "%s: %s", prefix, message);
    }
}

/* Adds @error's message after "PREFIX, key “KEY”: ". */
static void
fail_with (GError     **error,
           const char  *prefix,
           const char  *key,
           GError      *cause)
{
  fail (error, prefix, key, "%s", cause->message);
}

static guint
edit_distance (const char *a,
               const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = NULL;

  if (la > 64 || lb > 64)
    return G_MAXUINT;

  row = g_new (guint, lb + 1);
  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++)
    {
      guint diagonal = row[0];

      row[0] = i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint above = row[j];

          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] != b[j - 1]));
          diagonal = above;
        }
    }

  return row[lb];
}

/* " (did you mean “x”?)" for the closest of @names, or "". */
static char *
suggestion (const char         *given,
            const char * const *names,
            guint               n_names)
{
  const char *best = NULL;
  guint best_distance = 3;

  for (guint i = 0; i < n_names; i++)
    {
      guint distance = edit_distance (given, names[i]);

      if (distance < best_distance)
        {
          best = names[i];
          best_distance = distance;
        }
    }

  return best ? g_strdup_printf (" (did you mean “%s”?)", best) : g_strdup ("");
}

static char *
join_names (const char * const *names,
            guint               n_names)
{
  GString *joined = g_string_new (NULL);

  for (guint i = 0; i < n_names; i++)
    g_string_append_printf (joined, "%s%s", i > 0 ? ", " : "", names[i]);

  return g_string_free (joined, FALSE);
}

/* ---- Durations: 250ms, 3s, 1m, 2h; 0 for none ---- */

gboolean
gather_parse_duration (const char  *text,
                       guint       *out_msec,
                       GError     **error)
{
  static const struct { const char *suffix; guint64 msec; } units[] = {
    { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 60 * 60 * 1000 },
  };
  g_autofree char *shown = NULL;
  gsize length;

  if (g_strcmp0 (text, "0") == 0)
    {
      *out_msec = 0;
      return TRUE;
    }

  length = text != NULL ? strlen (text) : 0;
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    {
      gsize n_digits;
      guint64 value = 0;
      gsize j;

      if (!g_str_has_suffix (text ? text : "", units[i].suffix))
        continue;

      /* Digits only: no sign, no space, no fraction. "5ms" also ends in
       * "s": its digits then end in "m" and the loop goes on. */
      n_digits = length - strlen (units[i].suffix);
      for (j = 0; j < n_digits && g_ascii_isdigit (text[j]); j++)
        {
          if (value <= GATHER_DURATION_MAX_MSEC)
            value = value * 10 + (guint64) (text[j] - '0');
        }
      if (n_digits == 0 || j < n_digits)
        continue;

      if (value > GATHER_DURATION_MAX_MSEC / units[i].msec)
        {
          shown = gather_task_display_text (text, -1);
          g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                       "the duration “%s” is longer than a day", shown);
          return FALSE;
        }

      *out_msec = (guint) (value * units[i].msec);
      return TRUE;
    }

  shown = gather_task_display_text (text ? text : "", -1);
  g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
               "invalid duration “%s”: use a whole number followed by ms, s, m "
               "or h, such as 250ms, 3s or 1m", shown);
  return FALSE;
}

/* ---- Tasks ---- */

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

static gboolean
worker_takes_vardict (GatherWorker *worker)
{
  return g_str_equal (gather_worker_get_parameter_type (worker), "a{sv}");
}

/* "Worker “sleep” has no parameter “colour” (it takes: ms, value)". */
static void
fail_unknown_parameter (GError       **error,
                        const char    *prefix,
                        GatherWorker  *worker,
                        GPtrArray     *parameters,
                        const char    *key)
{
  g_autofree const char **names = g_new0 (const char *, parameters->len + 1);
  g_autofree char *joined = NULL;
  g_autofree char *hint = NULL;

  for (guint i = 0; i < parameters->len; i++)
    names[i] = ((const GatherParameter *) g_ptr_array_index (parameters, i))->name;
  joined = join_names (names, parameters->len);
  hint = suggestion (key, names, parameters->len);
  fail (error, prefix, key, "worker “%s” has no such parameter%s (it takes: %s)",
        gather_worker_get_name (worker), hint, parameters->len > 0 ? joined : "none");
}

static GatherWorker *
lookup_worker (GatherRegistry  *registry,
               const char      *name,
               const char      *prefix,
               const char      *key,
               GError         **error)
{
  GatherWorker *worker = gather_registry_lookup_worker (registry, name);
  g_autoptr(GPtrArray) workers = NULL;
  g_autofree const char **names = NULL;
  g_autofree char *hint = NULL;
  g_autofree char *shown = NULL;

  if (worker != NULL)
    return worker;

  workers = gather_registry_list_workers (registry);
  names = g_new0 (const char *, workers->len + 1);
  for (guint i = 0; i < workers->len; i++)
    names[i] = gather_worker_get_name (g_ptr_array_index (workers, i));
  hint = suggestion (name, names, workers->len);
  shown = gather_task_display_text (name, -1);
  fail (error, prefix, key, "unknown worker “%s”%s (see “%s plugins”)",
        shown, hint, "gather");
  return NULL;
}

/* The library's own check: required keys, and the types once more. */
static gboolean
check_parameters (GatherWorker  *worker,
                  GVariant      *parameters,
                  const char    *prefix,
                  GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  if (gather_worker_check_parameters (worker, parameters, &local_error))
    return TRUE;

  fail_with (error, prefix, NULL, local_error);
  return FALSE;
}

/* "WORKER KEY=VALUE ...": a task from an argument or a line of a task file.
 * @prefix names it in messages. */
static GatherTaskSpec *
parse_words (GatherRegistry  *registry,
             const char      *prefix,
             const char      *text,
             GError         **error)
{
  g_autoptr(GatherTaskSpec) spec = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) parameters = NULL;
  g_autoptr(GHashTable) seen = NULL;
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_auto(GStrv) words = NULL;
  GatherWorker *worker;

  if (text[strspn (text, " \t\n")] == '\0')
    {
      fail (error, prefix, NULL, "it is empty: a task starts with a worker's name");
      return NULL;
    }

  if (!g_shell_parse_argv (text, NULL, &words, &local_error))
    {
      fail (error, prefix, NULL, "cannot split it into words: %s", local_error->message);
      return NULL;
    }

  worker = lookup_worker (registry, words[0], prefix, NULL, error);
  if (worker == NULL)
    return NULL;

  if (!worker_takes_vardict (worker) && words[1] != NULL)
    {
      fail (error, prefix, NULL, "worker “%s” takes parameters of type “%s”, not KEY=VALUE "
            "pairs: give it in a JSON task file", gather_worker_get_name (worker),
            gather_worker_get_parameter_type (worker));
      return NULL;
    }

  spec = g_new0 (GatherTaskSpec, 1);
  spec->origin = g_strdup (prefix);
  spec->worker = g_strdup (gather_worker_get_name (worker));
  spec->timeout_msec = -1;
  parameters = gather_worker_list_parameters (worker);
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 1; words[i] != NULL; i++)
    {
      const char *equals = strchr (words[i], '=');
      const char *value_text;
      const GatherParameter *parameter;
      g_autoptr(GVariant) value = NULL;
      char *key;

      if (equals == NULL || equals == words[i])
        {
          g_autofree char *shown = gather_task_display_text (words[i], -1);

          fail (error, prefix, NULL, "“%s” is not KEY=VALUE", shown);
          return NULL;
        }

      key = g_strndup (words[i], equals - words[i]);
      value_text = equals + 1;
      if (!g_hash_table_add (seen, key))
        {
          fail (error, prefix, key, "it is given twice");
          return NULL;
        }

      if (g_str_equal (key, "label"))
        {
          const char *invalid;

          if (!g_utf8_validate (value_text, -1, &invalid))
            {
              fail (error, prefix, key, "the label is not valid UTF-8 (byte 0x%02X): "
                    "a label is text", (guchar) *invalid);
              return NULL;
            }
          spec->label = g_strdup (value_text);
          continue;
        }

      if (g_str_equal (key, "timeout"))
        {
          guint msec;

          g_clear_error (&local_error);
          if (!gather_parse_duration (value_text, &msec, &local_error))
            {
              fail_with (error, prefix, key, local_error);
              return NULL;
            }
          spec->timeout_msec = msec;
          continue;
        }

      parameter = find_parameter (parameters, key);
      if (parameter == NULL)
        {
          fail_unknown_parameter (error, prefix, worker, parameters, key);
          return NULL;
        }

      g_clear_error (&local_error);
      value = gather_value_from_text (G_VARIANT_TYPE (parameter->type), value_text, &local_error);
      if (value == NULL)
        {
          fail_with (error, prefix, key, local_error);
          return NULL;
        }
      g_variant_builder_add (&builder, "{sv}", key, value);
    }

  spec->parameters = g_variant_ref_sink (g_variant_builder_end (&builder));
  if (!check_parameters (worker, spec->parameters, prefix, error))
    return NULL;

  return g_steal_pointer (&spec);
}

GatherTaskSpec *
gather_task_parse_argument (GatherRegistry  *registry,
                            const char      *argument,
                            GError         **error)
{
  g_autofree char *shown = gather_task_display_text (argument, -1);
  g_autofree char *prefix = g_strdup_printf ("task “%s”", shown);

  return parse_words (registry, prefix, argument, error);
}

/* "FILE: line L, column C: task N" for @node. */
static char *
json_prefix (const char     *name,
             guint           task,
             GatherJsonNode *node)
{
  return g_strdup_printf ("%s: line %u, column %u: task %u", name, node->line, node->column, task);
}

static char *
member_prefix (const char       *name,
               guint             task,
               GatherJsonMember *member)
{
  return g_strdup_printf ("%s: line %u, column %u: task %u", name, member->line, member->column,
                          task);
}

static gboolean
parse_parameters_json (GatherWorker     *worker,
                       GatherJsonNode   *node,
                       const char       *name,
                       guint             task,
                       GVariant        **out_parameters,
                       GError          **error)
{
  g_autoptr(GPtrArray) parameters = gather_worker_list_parameters (worker);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GError) local_error = NULL;
  GatherJsonNode *at = node;

  if (!worker_takes_vardict (worker))
    {
      const char *type = gather_worker_get_parameter_type (worker);
      g_autoptr(GVariant) value = NULL;

      if (!g_variant_type_string_is_valid (type))
        {
          g_autofree char *prefix = json_prefix (name, task, node);

          fail (error, prefix, "parameters", "worker “%s” declares parameters of the "
                "invalid type “%s”", gather_worker_get_name (worker), type);
          return FALSE;
        }

      value = gather_value_from_json (G_VARIANT_TYPE (type), node, &at, &local_error);
      if (value == NULL)
        {
          g_autofree char *prefix = json_prefix (name, task, at);

          fail_with (error, prefix, "parameters", local_error);
          return FALSE;
        }
      *out_parameters = g_steal_pointer (&value);
      return TRUE;
    }

  if (node->kind != GATHER_JSON_OBJECT)
    {
      g_autofree char *prefix = json_prefix (name, task, node);

      fail (error, prefix, "parameters", "it must be an object of KEY: VALUE pairs, not %s",
            gather_json_kind_name (node->kind));
      return FALSE;
    }

  for (guint i = 0; i < node->members->len; i++)
    {
      GatherJsonMember *member = g_ptr_array_index (node->members, i);
      const GatherParameter *parameter = find_parameter (parameters, member->name);
      g_autoptr(GVariant) value = NULL;

      if (parameter == NULL)
        {
          g_autofree char *prefix = member_prefix (name, task, member);

          fail_unknown_parameter (error, prefix, worker, parameters, member->name);
          return FALSE;
        }

      if (!g_variant_type_string_is_valid (parameter->type))
        {
          g_autofree char *prefix = member_prefix (name, task, member);

          fail (error, prefix, member->name, "worker “%s” declares it of the invalid type “%s”",
                gather_worker_get_name (worker), parameter->type);
          return FALSE;
        }

      value = gather_value_from_json (G_VARIANT_TYPE (parameter->type), member->value, &at, &local_error);
      if (value == NULL)
        {
          g_autofree char *prefix = json_prefix (name, task, at);

          fail_with (error, prefix, member->name, local_error);
          return FALSE;
        }
      g_variant_builder_add (&builder, "{sv}", member->name, value);
    }

  *out_parameters = g_variant_ref_sink (g_variant_builder_end (&builder));
  return TRUE;
}

/* One task object: { "worker": "sleep", "label": "...", "timeout": "3s",
 * "parameters": { ... } }, the @task'th of the file called @name. */
static GatherTaskSpec *
parse_task_json (GatherRegistry  *registry,
                 const char      *name,
                 guint            task,
                 GatherJsonNode  *node,
                 GError         **error)
{
  g_autoptr(GatherTaskSpec) spec = NULL;
  g_autofree char *prefix = json_prefix (name, task, node);
  GatherJsonNode *worker_node, *label, *timeout, *parameters;
  GatherWorker *worker;

  if (node->kind != GATHER_JSON_OBJECT)
    {
      fail (error, prefix, NULL, "a task must be an object such as "
            "{ \"worker\": \"sleep\", \"parameters\": { \"ms\": 10 } }, not %s",
            gather_json_kind_name (node->kind));
      return NULL;
    }

  for (guint i = 0; i < node->members->len; i++)
    {
      GatherJsonMember *member = g_ptr_array_index (node->members, i);

      if (!g_strv_contains (task_keys, member->name))
        {
          g_autofree char *at = member_prefix (name, task, member);
          g_autofree char *hint = suggestion (member->name, task_keys, g_strv_length ((char **) task_keys));

          fail (error, at, member->name, "a task has no such key%s (it takes: worker, label, "
                "timeout, parameters)", hint);
          return NULL;
        }
    }

  worker_node = gather_json_object_get (node, "worker");
  label = gather_json_object_get (node, "label");
  timeout = gather_json_object_get (node, "timeout");
  parameters = gather_json_object_get (node, "parameters");

  if (worker_node == NULL)
    {
      fail (error, prefix, NULL, "the key “worker” is missing: it names the worker that runs "
            "the task");
      return NULL;
    }
  if (worker_node->kind != GATHER_JSON_STRING)
    {
      g_autofree char *at = json_prefix (name, task, worker_node);

      fail (error, at, "worker", "it must be a string, not %s",
            gather_json_kind_name (worker_node->kind));
      return NULL;
    }
  {
    g_autofree char *at = json_prefix (name, task, worker_node);

    worker = lookup_worker (registry, worker_node->text, at, "worker", error);
    if (worker == NULL)
      return NULL;
  }

  spec = g_new0 (GatherTaskSpec, 1);
  spec->origin = g_strdup (prefix);
  spec->worker = g_strdup (gather_worker_get_name (worker));
  spec->timeout_msec = -1;

  if (label != NULL)
    {
      if (label->kind != GATHER_JSON_STRING)
        {
          g_autofree char *at = json_prefix (name, task, label);

          fail (error, at, "label", "it must be a string, not %s", gather_json_kind_name (label->kind));
          return NULL;
        }
      spec->label = g_strdup (label->text);
    }

  if (timeout != NULL)
    {
      g_autofree char *at = json_prefix (name, task, timeout);
      g_autoptr(GError) local_error = NULL;
      guint msec;

      if (timeout->kind != GATHER_JSON_STRING)
        {
          fail (error, at, "timeout", "it must be a duration string such as \"3s\" or "
                "\"250ms\", not %s", gather_json_kind_name (timeout->kind));
          return NULL;
        }
      if (!gather_parse_duration (timeout->text, &msec, &local_error))
        {
          fail_with (error, at, "timeout", local_error);
          return NULL;
        }
      spec->timeout_msec = msec;
    }

  if (parameters != NULL)
    {
      if (!parse_parameters_json (worker, parameters, name, task, &spec->parameters, error))
        return NULL;
    }
  else if (worker_takes_vardict (worker))
    {
      spec->parameters = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
    }
  else
    {
      fail (error, prefix, NULL, "the key “parameters” is missing: worker “%s” takes parameters "
            "of type “%s”", gather_worker_get_name (worker), gather_worker_get_parameter_type (worker));
      return NULL;
    }

  if (!check_parameters (worker, spec->parameters, prefix, error))
    return NULL;

  return g_steal_pointer (&spec);
}

static GPtrArray *
parse_json_file (GatherRegistry  *registry,
                 const char      *name,
                 const char      *data,
                 gsize            length,
                 GError         **error)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) gather_task_spec_free);
  g_autoptr(GatherJsonNode) root = NULL;
  g_autoptr(GError) local_error = NULL;
  GatherJsonNode *tasks = NULL;

  root = gather_json_parse (data, length, GATHER_JSON_MAX_DEPTH, &local_error);
  if (root == NULL)
    {
      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID, "%s: %s",
                   name, local_error->message);
      return NULL;
    }

  if (root->kind == GATHER_JSON_ARRAY)
    {
      tasks = root;
    }
  else if (root->kind == GATHER_JSON_OBJECT)
    {
      for (guint i = 0; i < root->members->len; i++)
        {
          GatherJsonMember *member = g_ptr_array_index (root->members, i);
          g_autofree char *shown = NULL;

          if (g_str_equal (member->name, "tasks"))
            continue;
          shown = gather_task_display_text (member->name, -1);
          g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                       "%s: line %u, column %u: a task file has no key “%s” (its object takes "
                       "one key, “tasks”)", name, member->line, member->column, shown);
          return NULL;
        }
      tasks = gather_json_object_get (root, "tasks");
    }

  if (tasks == NULL || tasks->kind != GATHER_JSON_ARRAY)
    {
      GatherJsonNode *at = tasks != NULL ? tasks : root;

      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                   "%s: line %u, column %u: a task file holds an array of tasks, or an object "
                   "with a “tasks” array, not %s", name, at->line, at->column,
                   tasks == NULL && root->kind == GATHER_JSON_OBJECT ?
                   "an object without one" : gather_json_kind_name (at->kind));
      return NULL;
    }

  for (guint i = 0; i < tasks->elements->len; i++)
    {
      GatherTaskSpec *spec = parse_task_json (registry, name, i + 1,
                                              g_ptr_array_index (tasks->elements, i), error);

      if (spec == NULL)
        return NULL;
      g_ptr_array_add (specs, spec);
    }

  return g_steal_pointer (&specs);
}

/* One task per line, as in arguments; blank lines and lines starting
 * with # are skipped. */
static GPtrArray *
parse_lines_file (GatherRegistry  *registry,
                  const char      *name,
                  const char      *data,
                  gsize            length,
                  GError         **error)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) gather_task_spec_free);
  const char *end = data + length;
  guint line = 0;

  for (const char *p = data; p < end;)
    {
      const char *newline = memchr (p, '\n', end - p);
      const char *stop = newline != NULL ? newline : end;
      g_autofree char *text = NULL;
      g_autofree char *prefix = NULL;
      GatherTaskSpec *spec;

      line++;
      if (memchr (p, '\0', stop - p) != NULL)
        {
          g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                       "%s: line %u: a NUL byte: a task file is text", name, line);
          return NULL;
        }

      text = g_strndup (p, stop - p);
      p = newline != NULL ? newline + 1 : end;
      if (*text != '\0' && text[strlen (text) - 1] == '\r')
        text[strlen (text) - 1] = '\0';
      g_strchug (text);
      if (*text == '\0' || *text == '#')
        continue;

      prefix = g_strdup_printf ("%s: line %u: task %u", name, line, specs->len + 1);
      spec = parse_words (registry, prefix, text, error);
      if (spec == NULL)
        return NULL;
      g_ptr_array_add (specs, spec);
    }

  return g_steal_pointer (&specs);
}

/**
 * gather_task_parse_file:
 * @registry: where workers are looked up
 * @name: the file's name as shown in messages (valid UTF-8)
 * @data: the file's contents
 * @length: their length
 * @error: a GATHER_TASK_ERROR naming @name, the line, the task and the key
 *
 * Reads a task file: JSON when its first character other than white space
 * is "[" or "{", else one task per line as in arguments.
 *
 * Returns: (transfer full) (element-type GatherTaskSpec): the tasks
 */
GPtrArray *
gather_task_parse_file (GatherRegistry  *registry,
                        const char      *name,
                        const char      *data,
                        gsize            length,
                        GError         **error)
{
  gsize start = 0;

  if (length >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    start = 3;
  while (start < length && g_ascii_isspace (data[start]))
    start++;

  if (start < length && (data[start] == '[' || data[start] == '{'))
    return parse_json_file (registry, name, data, length, error);

  return parse_lines_file (registry, name, data, length, error);
}

/* ---- Reading a task file ---- */

static const char *
file_kind (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

/**
 * gather_task_read_file:
 * @path: a file name, or "-" for standard input
 * @stdin_closed: whether the process started with standard input closed
 * @error: a GATHER_TASK_ERROR naming the file
 *
 * Reads a whole task file, refusing what could block forever or never
 * end: only regular files, pipes, sockets and terminals are read, and at
 * most GATHER_TASK_FILE_MAX_SIZE bytes of them.
 *
 * Returns: (transfer full): the contents
 */
GBytes *
gather_task_read_file (const char  *path,
                       gboolean     stdin_closed,
                       GError     **error)
{
  g_autofree char *name = NULL;
  g_autoptr(GByteArray) contents = NULL;
  gboolean is_stdin = g_str_equal (path, "-");
  struct stat buf;
  int fd;

  name = is_stdin ? g_strdup ("standard input") : g_filename_display_name (path);

  if (is_stdin && stdin_closed)
    {
      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_READ,
                   "%s: cannot read the tasks: standard input is closed", name);
      return NULL;
    }

  if (is_stdin)
    fd = STDIN_FILENO;
  else
    {
      do
        fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      while (fd < 0 && errno == EINTR);
    }

  if (fd < 0)
    {
      int errsv = errno;

      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_READ,
                   "%s: cannot open the task file: %s", name, g_strerror (errsv));
      return NULL;
    }

  if (fstat (fd, &buf) != 0)
    {
      int errsv = errno;

      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_READ,
                   "%s: cannot examine the task file: %s", name, g_strerror (errsv));
      goto fail;
    }

  /* Devices such as /dev/zero never end, and a directory is not a file. A
   * terminal ends when the user types Ctrl-D. */
  if (!S_ISREG (buf.st_mode) && !S_ISFIFO (buf.st_mode) && !S_ISSOCK (buf.st_mode) &&
      !isatty (fd))
    {
      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_READ,
                   "%s: a task file must be a regular file or a pipe, and this is %s",
                   name, file_kind (buf.st_mode));
      goto fail;
    }

  contents = g_byte_array_new ();
  for (;;)
    {
      gsize want = MIN ((gsize) 65536, GATHER_TASK_FILE_MAX_SIZE + 1 - contents->len);
      gsize old_len = contents->len;
      gssize n;

      g_byte_array_set_size (contents, old_len + want);
      n = read (fd, contents->data + old_len, want);
      g_byte_array_set_size (contents, old_len + MAX (n, 0));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;

          g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_READ,
                       "%s: cannot read the task file: %s", name, g_strerror (errsv));
          goto fail;
        }
      if (n == 0)
        break;
      if (contents->len > GATHER_TASK_FILE_MAX_SIZE)
        {
          g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_READ,
                       "%s: the task file is larger than %u MiB, the most gather reads",
                       name, GATHER_TASK_FILE_MAX_SIZE / (1024 * 1024));
          goto fail;
        }
    }

  if (!is_stdin)
    close (fd);
  return g_byte_array_free_to_bytes (g_steal_pointer (&contents));

fail:
  if (!is_stdin)
    close (fd);
  return NULL;
}
