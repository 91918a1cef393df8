/* gather-plugin-module.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

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
 * The module is a [class@GObject.TypeModule] over [struct@GModule.Module].
 * Before the file is opened, the registry checks who can write it and the
 * directories above it, and that its ELF headers fit in the file; the file
 * it checked is the file loaded. It is opened with `G_MODULE_BIND_LOCAL`
 * and bound at once (not lazily), so a plugin that needs a function no
 * library provides is refused with an error naming it rather than killing
 * the process when the function is first called. Opening a shared object
 * runs its constructors, if it has any; then the descriptor's ABI is
 * checked, and only a plugin of this ABI has its register function
 * called. A plugin stays loaded for the life of the process, and each file
 * is loaded once however many [class@Gather.Registry]s find it. A plugin
 * that could not be loaded keeps the reason in
 * [method@Gather.PluginModule.get_error].
 *
 * The register function is called on the thread that loads the plugin,
 * with no lock of libgather held; it must not call into a registry.
 *
 * See the “Writing a plugin” page of this reference for a whole example.
 *
 * Since: 1.0
 */
typedef enum
{
  MODULE_NEW,       /* created; nothing done yet */
  MODULE_LOADING,   /* a thread is loading it, with no lock held */
  MODULE_DONE,      /* loaded, or failed: the fields below are final */
} ModuleState;

struct _GatherPluginModule
{
  GTypeModule                   parent_instance;

  /* Immutable after construction. */
  char                         *path;
  char                         *symbol;

  /* Guarded by modules_lock. */
  ModuleState                   state;

  /* Written only by the thread that loads the module, while state is
   * MODULE_LOADING; read-only once it is MODULE_DONE. */
  int                           fd;             /* the checked file, see load() */
  GModule                      *module;
  GArray                       *worker_types;   /* GType */
  GPtrArray                    *workers;        /* GatherWorker */
  GError                       *error;
  const char                   *description;
  gboolean                      registering;
  char                         *clash_type;     /* a type another module has */
};

G_DEFINE_FINAL_TYPE (GatherPluginModule, gather_plugin_module, G_TYPE_TYPE_MODULE)

/* Every plugin file ever loaded, by its real path. A GTypeModule that
 * registered types can never be finalized, and a plugin must be loaded by a
 * single module or its types would be registered twice: so one module per
 * path, and one loaded plugin per file name (a second gather-x.so elsewhere,
 * say a user's copy of an installed plugin, would register the same types).
 *
 * modules_lock guards the table and the modules' state, and is never held
 * while plugin code runs: a module being loaded is MODULE_LOADING, and a
 * thread that needs it waits on modules_cond. */
static GMutex      modules_lock;
static GCond       modules_cond;
static GHashTable *modules;

/* The module whose register function runs on this thread, if any. */
static GPrivate    registering_module;

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

/* GLib refuses a type name that another module registered, with a
 * warning that does not name the plugin, and the plugin's type code goes
 * on with an invalid type (a critical or two). While a register function
 * runs, this handler turns those into the module's error on the thread
 * that runs it; anything else is passed to GLib's default handler. A
 * process that makes warnings fatal (G_DEBUG=fatal-warnings, a GTest
 * program) still aborts: GLib decides that before any handler runs. */
#define CLASH_PREFIX "Two different plugins tried to register '"

static void
gather_plugin_module_log_handler (const char     *log_domain,
                                  GLogLevelFlags  log_level,
                                  const char     *message,
                                  gpointer        user_data)
{
  GatherPluginModule *self = g_private_get (&registering_module);

  if (self != NULL && (log_level & G_LOG_LEVEL_WARNING) &&
      g_str_has_prefix (message, CLASH_PREFIX) && g_str_has_suffix (message, "'."))
    {
      if (self->clash_type == NULL)
        self->clash_type = g_strndup (message + strlen (CLASH_PREFIX),
                                      strlen (message) - strlen (CLASH_PREFIX) - 2);
      return;
    }

  if (self != NULL && self->clash_type != NULL && (log_level & G_LOG_LEVEL_CRITICAL))
    return;

  g_log_default_handler (log_domain, log_level, message, user_data);
}

static void
gather_plugin_module_call_register (GatherPluginModule             *self,
                                    const GatherPluginDescriptor   *descriptor)
{
  guint handler;

  handler = g_log_set_handler ("GLib-GObject", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL,
                               gather_plugin_module_log_handler, NULL);
  g_private_set (&registering_module, self);
  self->registering = TRUE;

  descriptor->register_workers (self);

  self->registering = FALSE;
  g_private_set (&registering_module, NULL);
  g_log_remove_handler ("GLib-GObject", handler);
}

/* The loader's name for the file is /proc/self/fd/N, see load(): messages
 * name the plugin by its real path. */
static char *
gather_plugin_module_loader_error (GatherPluginModule *self,
                                   const char         *proc_path)
{
  const char *message = g_module_error ();
  g_autoptr(GString) text = g_string_new (message != NULL ? message : "unknown error");

  g_string_replace (text, proc_path, self->path, 0);

  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Called once, with no lock held, by load_workers(). */
static gboolean
gather_plugin_module_load (GTypeModule *type_module)
{
  GatherPluginModule *self = GATHER_PLUGIN_MODULE (type_module);
  const GatherPluginDescriptor *descriptor = NULL;
  g_autofree char *proc_path = NULL;

  g_clear_error (&self->error);
  g_return_val_if_fail (self->fd >= 0, FALSE);

  /* Load the file that was checked, through its descriptor: opening
   * /proc/self/fd/N gives that inode whatever the path names now. The
   * dynamic loader knows the object by this name and would hand back the
   * object of the same name for a later dlopen() of it, so the
   * descriptor stays open as long as the object may be loaded: for the
   * life of the process once dlopen() succeeded, so that N is never
   * reused for another plugin.
   *
   * Bound now, not lazily: a symbol no library provides fails here, with
   * an error, not in the middle of a task with "symbol lookup error". */
  proc_path = g_strdup_printf ("/proc/self/fd/%d", self->fd);
  self->module = g_module_open (proc_path, G_MODULE_BIND_LOCAL);
  if (self->module == NULL)
    {
      g_autofree char *reason = gather_plugin_module_loader_error (self, proc_path);

      g_set_error (&self->error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                   "Could not load plugin “%s”: %s", self->path, reason);
      close (self->fd);
      self->fd = -1;
      return FALSE;
    }

  /* The module's constructors, if any, have run; nothing else of it has. */
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
  gather_plugin_module_call_register (self, descriptor);

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

  if (type == G_TYPE_INVALID)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                   "Plugin “%s” declares a worker whose type it did not register",
                   self->path);
      return FALSE;
    }

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

/* The error for a plugin one of whose type names another module took. */
static void
gather_plugin_module_set_clash_error (GatherPluginModule *self)
{
  GType type = g_type_from_name (self->clash_type);
  GTypePlugin *owner = type != G_TYPE_INVALID ? g_type_get_plugin (type) : NULL;
  const char *other = owner != NULL && GATHER_IS_PLUGIN_MODULE (owner)
                      ? GATHER_PLUGIN_MODULE (owner)->path : NULL;

  g_clear_error (&self->error);
  if (other != NULL)
    g_set_error (&self->error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                 "Plugin “%s” registers the type “%s”, which plugin “%s” registered "
                 "first: each plugin needs type names of its own",
                 self->path, self->clash_type, other);
  else
    g_set_error (&self->error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                 "Plugin “%s” registers the type “%s”, which %s registered first: "
                 "each plugin needs type names of its own",
                 self->path, self->clash_type,
                 owner != NULL ? "another type module" : "the program");
}

/* Loads @self and instantiates its workers, once, with no lock held:
 * @self is MODULE_LOADING, so no other thread touches it. */
static void
gather_plugin_module_load_workers (GatherPluginModule *self)
{
  /* This use is never dropped: plugins stay loaded. */
  if (!g_type_module_use (G_TYPE_MODULE (self)))
    return;

  if (self->clash_type != NULL)
    {
      gather_plugin_module_set_clash_error (self);
      return;
    }

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

  /* Only reached for a module that never registered a type, and was
   * never opened: see load() for the descriptor. */
  g_assert (self->fd < 0);
  g_clear_pointer (&self->worker_types, g_array_unref);
  g_clear_pointer (&self->workers, g_ptr_array_unref);
  g_clear_error (&self->error);
  g_free (self->clash_type);
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
  self->fd = -1;
  self->worker_types = g_array_new (FALSE, FALSE, sizeof (GType));
  self->workers = g_ptr_array_new_with_free_func (g_object_unref);
}

/* A module, loaded or being loaded, whose file has the same name as
 * @path. modules_lock is held. */
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
      g_autofree char *other_name = NULL;

      if (other->state == MODULE_DONE && other->module == NULL)
        continue;

      other_name = g_path_get_basename (other->path);
      if (g_str_equal (name, other_name))
        return other;
    }

  return NULL;
}

/*
 * gather_plugin_module_get_for_file:
 * @file: a plugin file that passed the registry's checks; its descriptor
 *   is taken, and @file cleared
 *
 * Loads the plugin in @file, or returns the module that loaded the file
 * at its real path already. A module whose plugin could not be loaded is
 * returned too, with its error set. Thread-safe: the plugin's code runs
 * with no lock held, and a thread that asks for a plugin another thread is
 * loading waits for it.
 *
 * Returns: (transfer none): the module; modules live for the whole process
 */
GatherPluginModule *
gather_plugin_module_get_for_file (GatherPluginFile *file)
{
  GatherPluginModule *self;
  GatherPluginModule *same_name;

  g_return_val_if_fail (file->fd >= 0 && file->real_path != NULL, NULL);

  g_mutex_lock (&modules_lock);

  if (modules == NULL)
    modules = g_hash_table_new (g_str_hash, g_str_equal);

  for (;;)
    {
      self = g_hash_table_lookup (modules, file->real_path);
      if (self != NULL)
        {
          while (self->state != MODULE_DONE)
            g_cond_wait (&modules_cond, &modules_lock);
          g_mutex_unlock (&modules_lock);
          gather_plugin_file_clear (file);
          return self;
        }

      /* Whether a file of this name loads decides whether this one may. */
      same_name = gather_plugin_module_find_name_locked (file->real_path);
      if (same_name == NULL || same_name->state == MODULE_DONE)
        break;
      g_cond_wait (&modules_cond, &modules_lock);
    }

  self = g_object_new (GATHER_TYPE_PLUGIN_MODULE, NULL);
  self->path = g_steal_pointer (&file->real_path);
  self->symbol = gather_plugin_module_symbol_for (self->path);
  g_type_module_set_name (G_TYPE_MODULE (self), self->path);
  g_hash_table_insert (modules, self->path, self);

  if (same_name != NULL)
    {
      g_set_error (&self->error, GATHER_ERROR, GATHER_ERROR_PLUGIN,
                   "Plugin “%s” is not loaded: a plugin of the same name is "
                   "loaded from “%s”", self->path, same_name->path);
      self->state = MODULE_DONE;
      g_mutex_unlock (&modules_lock);
      gather_plugin_file_clear (file);
      return self;
    }

  self->state = MODULE_LOADING;
  self->fd = file->fd;
  file->fd = -1;
  g_mutex_unlock (&modules_lock);

  /* Plugin code runs here, with no lock held. */
  gather_plugin_module_load_workers (self);

  g_mutex_lock (&modules_lock);
  self->state = MODULE_DONE;
  g_cond_broadcast (&modules_cond);
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

  /* G_TYPE_INVALID, when the plugin's type could not be registered, is
   * kept: check_worker() reports it. */
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
 * Returns: (type filename): the real path of the plugin: where the file
 *   it loaded is, symlinks resolved
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
