/* gather-worker.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-error.h"
#include "gather-helper-worker-private.h"
#include "gather-plugin-module.h"
#include "gather-worker-private.h"

/**
 * GatherWorker:
 *
 * A kind of task that programs, the `gather` command and language bindings
 * can run by name, with plain-data parameters: how bindings, which cannot
 * run their own code on another thread, put work on a pool.
 *
 * Workers usually come from plugins (see [class@Gather.PluginModule]) and are
 * found in a [class@Gather.Registry]; [method@Gather.Group.add_worker_task]
 * queues one in a group after checking its parameters.
 *
 * A worker declares its name, a description, the type of its parameters
 * (normally `a{sv}`, with each key described by a [struct@Gather.Parameter]),
 * and the type of its result. Its run function is called on pool threads,
 * possibly on several at once: it must be thread-safe, must not touch
 * objects of any main context, and should return promptly once its
 * cancellable is cancelled. See [method@Gather.Worker.run].
 *
 * Workers are written in C: their name and types are fields of
 * [struct@Gather.WorkerInterface], which language bindings cannot fill. A
 * worker implemented in another language is refused with
 * [error@Gather.Error.PLUGIN] by [method@Gather.Registry.add_worker] and
 * [method@Gather.Worker.run]. Code in JavaScript, Python or Vala gathers its
 * own work with [method@Gather.Group.add_async_task] and (Python, Vala)
 * [method@Gather.Group.add_task], and runs C workers by name with
 * [method@Gather.Group.add_worker_task].
 *
 * Since: 1.0
 */

G_DEFINE_INTERFACE (GatherWorker, gather_worker, G_TYPE_OBJECT)

static GatherParameter *
gather_parameter_copy (const GatherParameter *parameter)
{
  return g_memdup2 (parameter, sizeof *parameter);
}

G_DEFINE_BOXED_TYPE (GatherParameter, gather_parameter, gather_parameter_copy, g_free)

static void
gather_worker_default_init (GatherWorkerInterface *iface)
{
}

/**
 * gather_worker_get_name:
 * @self: a [iface@Gather.Worker]
 *
 * Gets the worker's name, by which tasks ask for it.
 *
 * Returns: (nullable): the worker's name; `NULL` only for a worker that does
 *   not declare one (implemented in a language binding)
 *
 * Since: 1.0
 */
const char *
gather_worker_get_name (GatherWorker *self)
{
  g_return_val_if_fail (GATHER_IS_WORKER (self), NULL);

  return GATHER_WORKER_GET_IFACE (self)->name;
}

/**
 * gather_worker_get_description:
 * @self: a [iface@Gather.Worker]
 *
 * Gets one line about what the worker does.
 *
 * Returns: (nullable): the worker's description
 *
 * Since: 1.0
 */
const char *
gather_worker_get_description (GatherWorker *self)
{
  g_return_val_if_fail (GATHER_IS_WORKER (self), NULL);

  return GATHER_WORKER_GET_IFACE (self)->description;
}

/**
 * gather_worker_get_parameter_type:
 * @self: a [iface@Gather.Worker]
 *
 * Gets the type of the parameters the worker takes, as a
 * [struct@GLib.VariantType] string: `"a{sv}"` for workers that describe
 * their keys with [method@Gather.Worker.list_parameters].
 *
 * Returns: a type string
 *
 * Since: 1.0
 */
const char *
gather_worker_get_parameter_type (GatherWorker *self)
{
  const char *type;

  g_return_val_if_fail (GATHER_IS_WORKER (self), NULL);

  type = GATHER_WORKER_GET_IFACE (self)->parameter_type;

  return type != NULL ? type : "a{sv}";
}

/**
 * gather_worker_get_result_type:
 * @self: a [iface@Gather.Worker]
 *
 * Gets the type of what the worker returns, as a [struct@GLib.VariantType]
 * string.
 *
 * Returns: (nullable): a type string; `NULL` only for a worker that does
 *   not declare one (implemented in a language binding)
 *
 * Since: 1.0
 */
const char *
gather_worker_get_result_type (GatherWorker *self)
{
  g_return_val_if_fail (GATHER_IS_WORKER (self), NULL);

  return GATHER_WORKER_GET_IFACE (self)->result_type;
}

/**
 * gather_worker_list_parameters:
 * @self: a [iface@Gather.Worker]
 *
 * Lists the keys of the worker's `a{sv}` parameters, in the order the
 * worker declares them.
 *
 * Returns: (transfer container) (element-type GatherParameter): the
 *   parameters; the array is yours, the elements belong to the worker
 *
 * Since: 1.0
 */
GPtrArray *
gather_worker_list_parameters (GatherWorker *self)
{
  GatherWorkerInterface *iface;
  GPtrArray *ret;

  g_return_val_if_fail (GATHER_IS_WORKER (self), NULL);

  iface = GATHER_WORKER_GET_IFACE (self);
  ret = g_ptr_array_sized_new (iface->n_parameters);
  for (guint i = 0; i < iface->n_parameters; i++)
    g_ptr_array_add (ret, (gpointer) &iface->parameters[i]);

  return ret;
}

/* What gather_worker_check_declared() found in a worker's declaration,
 * kept on the worker (qdata): a class's declaration does not change while
 * an instance holds it, and this runs for every task, in the host and
 * again in a helper. */
typedef struct
{
  guint64 digest;     /* gather_worker_declaration_digest() */
} WorkerDeclared;

static GQuark
worker_declared_quark (void)
{
  static gsize quark;

  if (g_once_init_enter (&quark))
    g_once_init_leave (&quark, g_quark_from_static_string ("gather-worker-declared"));
  return (GQuark) quark;
}

static guint64 compute_declaration_digest (GatherWorkerInterface *iface);

/*
 * gather_worker_check_declared:
 * Whether @self declares what a worker must: a name, a result type, a run
 * function, and valid parameter and result types (each parameter a name
 * and a valid type). A class implemented in a language binding cannot
 * set the interface structure's fields. Any thread.
 */
gboolean
gather_worker_check_declared (GatherWorker  *self,
                              GError       **error)
{
  GatherWorkerInterface *iface;
  WorkerDeclared *declared;
  gboolean valid;

  if (g_object_get_qdata (G_OBJECT (self), worker_declared_quark ()) != NULL)
    return TRUE;

  iface = GATHER_WORKER_GET_IFACE (self);
  valid = iface->name != NULL && iface->result_type != NULL && iface->run != NULL &&
          g_variant_type_string_is_valid (iface->result_type) &&
          (iface->parameter_type == NULL || g_variant_type_string_is_valid (iface->parameter_type)) &&
          (iface->n_parameters == 0 || iface->parameters != NULL);
  for (guint i = 0; valid && i < iface->n_parameters; i++)
    valid = iface->parameters[i].name != NULL && iface->parameters[i].type != NULL &&
            g_variant_type_string_is_valid (iface->parameters[i].type);

  if (!valid)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                   "Worker type “%s” does not declare a name, a run function and valid "
                   "parameter and result types in its GatherWorkerInterface; workers "
                   "are written in C (see “Writing a plugin”)",
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  /* Set once: threads that raced here each computed the same, and a
   * pointer read from the qdata stays valid as long as @self. */
  declared = g_new (WorkerDeclared, 1);
  declared->digest = compute_declaration_digest (iface);
  if (!g_object_replace_qdata (G_OBJECT (self), worker_declared_quark (), NULL, declared,
                               g_free, NULL))
    g_free (declared);

  return TRUE;
}

/* FNV-1a, 64 bits, over @text and its terminating 0 (NULL as a lone 1). */
static guint64
digest_string (guint64     hash,
               const char *text)
{
  const guchar *byte = (const guchar *) (text != NULL ? text : "\1");

  do
    {
      hash ^= *byte;
      hash *= G_GUINT64_CONSTANT (0x100000001b3);
    }
  while (*byte++ != 0);

  return hash;
}

/*
 * gather_worker_declaration_digest:
 * A digest of all gather_worker_check_parameters() checks parameters
 * against: the worker's name, its parameter type, and each parameter's
 * name, type and flags, in order. Two workers of equal digests take the
 * same parameters (barring a 64-bit collision). A helper compares it with
 * its host's, so as not to check again what the host checked against the
 * same declaration. Any thread.
 */
guint64
gather_worker_declaration_digest (GatherWorker *self)
{
  WorkerDeclared *declared = g_object_get_qdata (G_OBJECT (self), worker_declared_quark ());

  if (declared != NULL)
    return declared->digest;

  return compute_declaration_digest (GATHER_WORKER_GET_IFACE (self));
}

static guint64
compute_declaration_digest (GatherWorkerInterface *iface)
{
  guint64 hash = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  hash = digest_string (hash, iface->name);
  hash = digest_string (hash, iface->parameter_type != NULL ? iface->parameter_type : "a{sv}");
  for (guint i = 0; i < iface->n_parameters; i++)
    {
      guint flags = iface->parameters[i].flags;

      hash = digest_string (hash, iface->parameters[i].name);
      hash = digest_string (hash, iface->parameters[i].type);
      for (guint b = 0; b < sizeof flags; b++)
        {
          hash ^= (flags >> (8 * b)) & 0xff;
          hash *= G_GUINT64_CONSTANT (0x100000001b3);
        }
    }

  return hash;
}

static const GatherParameter *
gather_worker_find_parameter (GatherWorkerInterface *iface,
                              const char            *name)
{
  for (guint i = 0; i < iface->n_parameters; i++)
    if (g_str_equal (iface->parameters[i].name, name))
      return &iface->parameters[i];

  return NULL;
}

static char *
gather_worker_parameter_names (GatherWorkerInterface *iface)
{
  GString *names = g_string_new (NULL);

  for (guint i = 0; i < iface->n_parameters; i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", iface->parameters[i].name);

  return g_string_free (names, FALSE);
}

/**
 * gather_worker_check_parameters:
 * @self: a [iface@Gather.Worker]
 * @parameters: parameters for the worker; a floating reference is not
 *   consumed
 * @error: return location for a [error@Gather.Error.INVALID_PARAMETERS]
 *
 * Checks @parameters against what the worker declares: their type and,
 * for `a{sv}` parameters, that every key is known, of the declared type,
 * and that every required key is there. The error message names the
 * worker, the key, and the expected and given types.
 *
 * Returns: `TRUE` if the worker accepts @parameters
 *
 * Since: 1.0
 */
gboolean
gather_worker_check_parameters (GatherWorker  *self,
                                GVariant      *parameters,
                                GError       **error)
{
  GatherWorkerInterface *iface;
  const char *expected;
  GVariantIter iter;
  GVariant *entry;
  /* Which of the first 64 parameters were given: a lookup per required
   * parameter walked the dictionary again, and cost as much as the rest
   * (it is left for the parameters the mask does not cover). */
  guint64 given_mask = 0;

  g_return_val_if_fail (GATHER_IS_WORKER (self), FALSE);
  g_return_val_if_fail (parameters != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!gather_worker_check_declared (self, error))
    return FALSE;

  iface = GATHER_WORKER_GET_IFACE (self);
  expected = gather_worker_get_parameter_type (self);

  if (!g_variant_is_of_type (parameters, GATHER_VARIANT_TYPE (expected)))
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS,
                   "Worker “%s” takes parameters of type “%s”, not “%s”",
                   iface->name, expected, g_variant_get_type_string (parameters));
      return FALSE;
    }

  if (!g_str_equal (expected, "a{sv}"))
    return TRUE;

  /* Entry by entry, without a format string: this runs for every task
   * (and again in a helper), and parsing one cost more than the rest. */
  g_variant_iter_init (&iter, parameters);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = entry;
      g_autoptr(GVariant) name = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
      g_autoptr(GVariant) value = g_variant_get_variant (boxed);
      const char *key = g_variant_get_string (name, NULL);
      const GatherParameter *parameter = gather_worker_find_parameter (iface, key);

      if (parameter == NULL)
        {
          g_autofree char *names = gather_worker_parameter_names (iface);

          g_set_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS,
                       "Worker “%s” has no parameter “%s” (it takes: %s)",
                       iface->name, key, *names != '\0' ? names : "none");
          return FALSE;
        }

      if (!g_variant_is_of_type (value, GATHER_VARIANT_TYPE (parameter->type)))
        {
          g_set_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS,
                       "Parameter “%s” of worker “%s” must be of type “%s”, not “%s”",
                       key, iface->name, parameter->type, g_variant_get_type_string (value));
          return FALSE;
        }

      if (parameter - iface->parameters < 64)
        given_mask |= G_GUINT64_CONSTANT (1) << (parameter - iface->parameters);
    }

  for (guint i = 0; i < iface->n_parameters; i++)
    {
      const GatherParameter *parameter = &iface->parameters[i];
      g_autoptr(GVariant) given = NULL;

      if (!(parameter->flags & GATHER_PARAMETER_REQUIRED))
        continue;

      if (i < 64 && (given_mask & (G_GUINT64_CONSTANT (1) << i)))
        continue;

      /* Past the mask, or not seen: a worker may declare a name twice,
       * and a key then counts for the first declaration only. */
      given = g_variant_lookup_value (parameters, parameter->name, NULL);
      if (given == NULL)
        {
          g_set_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS,
                       "Worker “%s” needs parameter “%s” (%s, of type “%s”)",
                       iface->name, parameter->name,
                       parameter->description ? parameter->description : "no description",
                       parameter->type);
          return FALSE;
        }
    }

  return TRUE;
}

/**
 * gather_worker_run:
 * @self: a [iface@Gather.Worker]
 * @parameters: the worker's parameters; a floating reference is consumed
 * @cancellable: (nullable): cancels the work
 * @error: return location for an error
 *
 * Runs the worker on the calling thread: checks @parameters, calls the
 * worker's run function, and checks that it returned a value of its
 * declared result type, or an error. A worker that returns neither, or a
 * value of another type, fails with [error@Gather.Error.INVALID_RESULT].
 *
 * A [class@Gather.Group] calls this on a pool thread; it blocks until
 * the work is done, so do not call it on a thread that runs a main loop.
 *
 * A worker that does not declare its name and types (one implemented in a
 * language binding) fails with [error@Gather.Error.PLUGIN].
 *
 * Returns: (transfer full): the result, or `NULL` with @error set
 *
 * Since: 1.0
 */
GVariant *
gather_worker_run (GatherWorker  *self,
                   GVariant      *parameters,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autoptr(GVariant) owned = NULL;

  g_return_val_if_fail (GATHER_IS_WORKER (self), NULL);
  g_return_val_if_fail (parameters != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  owned = g_variant_ref_sink (parameters);

  if (!gather_worker_check_parameters (self, owned, error))
    return NULL;

  return gather_worker_invoke (self, owned, cancellable, error);
}

/* gather_worker_run() without the parameter check, for parameters checked
 * already. Any thread. */
GVariant *
gather_worker_invoke (GatherWorker  *self,
                      GVariant      *parameters,
                      GCancellable  *cancellable,
                      GError       **error)
{
  GatherWorkerInterface *iface = GATHER_WORKER_GET_IFACE (self);
  g_autoptr(GVariant) result = NULL;
  GError *local_error = NULL;

  result = iface->run (self, parameters, cancellable, &local_error);
  if (result != NULL)
    g_variant_take_ref (result);

  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }

  if (result == NULL)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_RESULT,
                   "Worker “%s” returned neither a result nor an error",
                   iface->name);
      return NULL;
    }

  if (!g_variant_is_of_type (result, GATHER_VARIANT_TYPE (iface->result_type)))
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_RESULT,
                   "Worker “%s” returned a value of type “%s”, not the declared “%s”",
                   iface->name, g_variant_get_type_string (result), iface->result_type);
      return NULL;
    }

  return g_steal_pointer (&result);
}

/**
 * gather_worker_get_plugin_path:
 * @self: a [iface@Gather.Worker]
 *
 * Gets the file of the plugin the worker came from.
 *
 * Returns: (nullable) (type filename): the plugin's path, or `NULL` for a
 *   worker added with [method@Gather.Registry.add_worker]
 *
 * Since: 1.0
 */
const char *
gather_worker_get_plugin_path (GatherWorker *self)
{
  GTypePlugin *plugin;

  g_return_val_if_fail (GATHER_IS_WORKER (self), NULL);

  /* A worker loaded in a helper process, see GatherRegistry:isolated. */
  if (gather_helper_worker_is (self))
    return gather_helper_worker_get_plugin_path (self);

  plugin = g_type_get_plugin (G_OBJECT_TYPE (self));
  if (plugin == NULL || !GATHER_IS_PLUGIN_MODULE (plugin))
    return NULL;

  return gather_plugin_module_get_path (GATHER_PLUGIN_MODULE (plugin));
}
