/* gather-plugin-module.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "gather-error.h"
#include "gather-plugin-module-private.h"
#include "gather-worker.h"

/**
 * GatherPluginModule:
 *
 * A plugin: a shared object that adds [iface@Gather.Worker]s.
 *
 * A plugin is built with meson's `shared_module()` as `gather-NAME.so`. It
 * registers its workers as dynamic types (`G_DEFINE_DYNAMIC_TYPE_EXTENDED`
 * with `G_IMPLEMENT_INTERFACE_DYNAMIC (GATHER_TYPE_WORKER, ...)`) from the
 * register function of its [struct@Gather.PluginDescriptor], which
 * [func@Gather.PLUGIN_DEFINE] exports:
 *
 * ```c
 * static void
 * sleep_register (GatherPluginModule *module)
 * {
 *   sleep_worker_register_type (G_TYPE_MODULE (module));
 *   gather_plugin_module_add_worker (module, SLEEP_TYPE_WORKER);
 * }
 *
 * GATHER_PLUGIN_DEFINE (sleep, "Waits, then returns", sleep_register)
 * ```
 *
 * The module is a [class@GObject.TypeModule] over [struct@GModule.Module]:
 * the file is opened with `G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL`, its
 * descriptor's ABI is checked before any of its code runs, then its register
 * function is called. A plugin stays loaded for the life of the process,
 * and each file is loaded once however many [class@Gather.Registry]s find
 * it. A plugin that could not be loaded keeps the reason in
 * [method@Gather.PluginModule.get_error].
 *
 * See the “Writing a plugin” page of this reference for a whole example.
 *
 * Since: 1.0
 */
struct _GatherPluginModule
{
  GTypeModule                   parent_instance;

  /* Immutable after construction. */
  char                         *path;
  char                         *symbol;

  /* Guarded by modules_lock below: set while loading, read-only after. */
  GModule                      *module;
  GArray                       *worker_types;   /* GType */
  GPtrArray                    *workers;        /* GatherWorker */
  GError                       *error;
  const char                   *description;
  gboolean                      registering;
};

G_DEFINE_FINAL_TYPE (GatherPluginModule, gather_plugin_module, G_TYPE_TYPE_MODULE)

/* Every plugin file ever loaded, by its canonical path. A GTypeModule that
 * registered types can never be finalized, and a plugin must be loaded by a
 * single module or its types would be registered twice: so one module per
 * path, and one loaded plugin per file name (a second gather-x.so elsewhere,
 * say a user's copy of an installed plugin, would register the same types). */
static GMutex      modules_lock;
static GHashTable *modules;

/* "gather-sleep.so" -> "gather_sleep_plugin" */
static char *
gather_plugin_module_symbol_for (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  char *dot = strchr (base, '.');

  if (dot != NULL)
    *dot = '\0';
  g_strdelimit (base, "-", '_');

  return g_strconcat (base, "_plugin", NULL);
}

static gboolean
gather_plugin_module_load (GTypeModule *type_module)
{
  GatherPluginModule *self = GATHER_PLUGIN_MODULE (type_module);
  const GatherPluginDescriptor *descriptor = NULL;

  g_clear_error (&self->error);

  self->module = g_module_open (self->path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (self->module == NULL)
    {
      g_set_error (&self->error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                   "Could not load plugin “%s”: %s", self->path, g_module_error ());
      return FALSE;
    }

  if (!g_module_symbol (self->module, self->symbol, (gpointer *) &descriptor) ||
      descriptor == NULL)
    {
      g_set_error (&self->error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                   "“%s” is not a gather plugin: it does not export “%s”",
                   self->path, self->symbol);
      g_clear_pointer (&self->module, g_module_close);
      return FALSE;
    }

  if (descriptor->abi_version != GATHER_PLUGIN_ABI_VERSION)
    {
      g_set_error (&self->error, GATHER_ERROR, GATHER_ERROR_PLUGIN_ABI,
                   "Plugin “%s” was built for plugin ABI %u; this libgather "
                   "(%s) loads plugin ABI %u",
                   self->path, descriptor->abi_version, GATHER_VERSION_S,
                   GATHER_PLUGIN_ABI_VERSION);
      g_clear_pointer (&self->module, g_module_close);
      return FALSE;
    }

  if (descriptor->register_workers == NULL)
    {
      g_set_error (&self->error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                   "Plugin “%s” has no register function", self->path);
      g_clear_pointer (&self->module, g_module_close);
      return FALSE;
    }

  self->description = descriptor->description;
  self->registering = TRUE;
  descriptor->register_workers (self);
  self->registering = FALSE;

  return TRUE;
}

static void
gather_plugin_module_unload (GTypeModule *type_module)
{
  GatherPluginModule *self = GATHER_PLUGIN_MODULE (type_module);

  self->description = NULL;
  g_clear_pointer (&self->module, g_module_close);
}

/* Checks what a worker type declares; a plugin with a broken worker is
 * refused whole, so that its mistakes are found when it is written. */
static gboolean
gather_plugin_module_check_worker (GatherPluginModule  *self,
                                   GType                type,
                                   GError             **error)
{
  g_autoptr(GTypeClass) klass = NULL;
  GatherWorkerInterface *iface;

  if (!g_type_is_a (type, G_TYPE_OBJECT) || !g_type_is_a (type, GATHER_TYPE_WORKER) ||
      G_TYPE_IS_ABSTRACT (type))
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                   "Plugin “%s” declares “%s” as a worker, but it is not an "
                   "instantiable GatherWorker", self->path, g_type_name (type));
      return FALSE;
    }

  klass = g_type_class_ref (type);
  iface = g_type_interface_peek (klass, GATHER_TYPE_WORKER);

  if (iface->name == NULL || *iface->name == '\0' || iface->run == NULL ||
      iface->result_type == NULL || !g_variant_type_string_is_valid (iface->result_type) ||
      (iface->parameter_type != NULL && !g_variant_type_string_is_valid (iface->parameter_type)))
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                   "Worker type “%s” of plugin “%s” needs a name, a run function "
                   "and valid parameter and result types", g_type_name (type), self->path);
      return FALSE;
    }

  for (guint i = 0; i < iface->n_parameters; i++)
    if (iface->parameters[i].name == NULL || iface->parameters[i].type == NULL ||
        !g_variant_type_string_is_valid (iface->parameters[i].type))
      {
        g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                     "Parameter %u of worker “%s” in plugin “%s” needs a name "
                     "and a valid type", i, iface->name, self->path);
        return FALSE;
      }

  return TRUE;
}

/* Loads @self and instantiates its workers, once. modules_lock is held. */
static void
gather_plugin_module_load_workers (GatherPluginModule *self)
{
  /* This use is never dropped: plugins stay loaded. */
  if (!g_type_module_use (G_TYPE_MODULE (self)))
    return;

  for (guint i = 0; i < self->worker_types->len; i++)
    {
      GType type = g_array_index (self->worker_types, GType, i);

      if (!gather_plugin_module_check_worker (self, type, &self->error))
        {
          g_ptr_array_set_size (self->workers, 0);
          return;
        }

      g_ptr_array_add (self->workers, g_object_new (type, NULL));
    }

  if (self->workers->len == 0)
    g_set_error (&self->error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                 "Plugin “%s” adds no worker", self->path);
}

static void
gather_plugin_module_finalize (GObject *object)
{
  GatherPluginModule *self = (GatherPluginModule *)object;

  /* Only reached for a module that never registered a type. */
  g_clear_pointer (&self->worker_types, g_array_unref);
  g_clear_pointer (&self->workers, g_ptr_array_unref);
  g_clear_error (&self->error);
  g_free (self->symbol);
  g_free (self->path);

  G_OBJECT_CLASS (gather_plugin_module_parent_class)->finalize (object);
}

static void
gather_plugin_module_class_init (GatherPluginModuleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GTypeModuleClass *type_module_class = G_TYPE_MODULE_CLASS (klass);

  object_class->finalize = gather_plugin_module_finalize;
  type_module_class->load = gather_plugin_module_load;
  type_module_class->unload = gather_plugin_module_unload;
}

static void
gather_plugin_module_init (GatherPluginModule *self)
{
  self->worker_types = g_array_new (FALSE, FALSE, sizeof (GType));
  self->workers = g_ptr_array_new_with_free_func (g_object_unref);
}

/* A loaded module whose file has the same name as @path. modules_lock is
 * held. */
static GatherPluginModule *
gather_plugin_module_find_name_locked (const char *path)
{
  g_autofree char *name = g_path_get_basename (path);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, modules);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GatherPluginModule *other = value;
      g_autofree char *other_name = g_path_get_basename (other->path);

      if (other->module != NULL && g_str_equal (name, other_name))
        return other;
    }

  return NULL;
}

/*
 * gather_plugin_module_get_for_path:
 * @path: the canonical path of a plugin file
 *
 * Loads the plugin at @path, or returns the module that loaded it already.
 * Thread-safe. A module whose plugin could not be loaded is returned too,
 * with its error set.
 *
 * Returns: (transfer none): the module; modules live for the whole process
 */
GatherPluginModule *
gather_plugin_module_get_for_path (const char *path)
{
  GatherPluginModule *self;

  g_mutex_lock (&modules_lock);

  if (modules == NULL)
    modules = g_hash_table_new (g_str_hash, g_str_equal);

  self = g_hash_table_lookup (modules, path);
  if (self == NULL)
    {
      GatherPluginModule *same_name = gather_plugin_module_find_name_locked (path);

      self = g_object_new (GATHER_TYPE_PLUGIN_MODULE, NULL);
      self->path = g_strdup (path);
      self->symbol = gather_plugin_module_symbol_for (path);
      g_type_module_set_name (G_TYPE_MODULE (self), path);
      g_hash_table_insert (modules, self->path, self);

      if (same_name != NULL)
        g_set_error (&self->error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                     "Plugin “%s” is not loaded: a plugin of the same name is "
                     "loaded from “%s”", path, same_name->path);
      else
        gather_plugin_module_load_workers (self);
    }

  g_mutex_unlock (&modules_lock);

  return self;
}

/**
 * gather_plugin_module_add_worker:
 * @self: a [class@Gather.PluginModule]
 * @worker_type: a type implementing [iface@Gather.Worker], registered with
 *   @self
 *
 * Declares a worker of the plugin. Call it from the plugin's
 * [callback@Gather.PluginRegisterFunc], once per worker type; the module
 * creates one instance of each.
 *
 * Since: 1.0
 */
void
gather_plugin_module_add_worker (GatherPluginModule *self,
                                 GType               worker_type)
{
  g_return_if_fail (GATHER_IS_PLUGIN_MODULE (self));
  g_return_if_fail (self->registering);

  for (guint i = 0; i < self->worker_types->len; i++)
    if (g_array_index (self->worker_types, GType, i) == worker_type)
      return;

  g_array_append_val (self->worker_types, worker_type);
}

/**
 * gather_plugin_module_get_path:
 * @self: a [class@Gather.PluginModule]
 *
 * Gets the plugin's file.
 *
 * Returns: (type filename): the canonical path of the plugin
 *
 * Since: 1.0
 */
const char *
gather_plugin_module_get_path (GatherPluginModule *self)
{
  g_return_val_if_fail (GATHER_IS_PLUGIN_MODULE (self), NULL);

  return self->path;
}

/**
 * gather_plugin_module_get_description:
 * @self: a [class@Gather.PluginModule]
 *
 * Gets the description from the plugin's [struct@Gather.PluginDescriptor].
 *
 * Returns: (nullable): the description, or `NULL` if the plugin could not
 *   be loaded
 *
 * Since: 1.0
 */
const char *
gather_plugin_module_get_description (GatherPluginModule *self)
{
  g_return_val_if_fail (GATHER_IS_PLUGIN_MODULE (self), NULL);

  return self->description;
}

/**
 * gather_plugin_module_get_error:
 * @self: a [class@Gather.PluginModule]
 *
 * Gets why the plugin could not be loaded: a [error@Gather.Error] such as
 * [error@Gather.Error.PLUGIN] or [error@Gather.Error.PLUGIN_ABI].
 *
 * Returns: (transfer none) (nullable): the error, or `NULL` if the plugin
 *   loaded
 *
 * Since: 1.0
 */
GError *
gather_plugin_module_get_error (GatherPluginModule *self)
{
  g_return_val_if_fail (GATHER_IS_PLUGIN_MODULE (self), NULL);

  return self->error;
}

/**
 * gather_plugin_module_list_workers:
 * @self: a [class@Gather.PluginModule]
 *
 * Lists the plugin's workers.
 *
 * Returns: (transfer container) (element-type GatherWorker): the workers,
 *   none if the plugin could not be loaded
 *
 * Since: 1.0
 */
GPtrArray *
gather_plugin_module_list_workers (GatherPluginModule *self)
{
  GPtrArray *ret;

  g_return_val_if_fail (GATHER_IS_PLUGIN_MODULE (self), NULL);

  ret = g_ptr_array_new_full (self->workers->len, g_object_unref);
  for (guint i = 0; i < self->workers->len; i++)
    g_ptr_array_add (ret, g_object_ref (g_ptr_array_index (self->workers, i)));

  return ret;
}
