/* gather-registry.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gather-error.h"
#include "gather-helper-catalog-private.h"
#include "gather-plugin-file-private.h"
#include "gather-plugin-module-private.h"
#include "gather-worker-private.h"
#include "gather-registry-private.h"

/* ---- GatherPluginFailure ---- */

/**
 * GatherPluginFailure:
 *
 * A plugin, or a directory of plugins, that a [class@Gather.Registry] could
 * not load, with the reason.
 *
 * Since: 1.0
 */
struct _GatherPluginFailure
{
  gint    ref_count;   /* atomic */
  char   *path;
  GError *error;
};

G_DEFINE_BOXED_TYPE (GatherPluginFailure, gather_plugin_failure,
                     gather_plugin_failure_ref, gather_plugin_failure_unref)

/* Takes @error. */
static GatherPluginFailure *
gather_plugin_failure_new (const char *path,
                           GError     *error)
{
  GatherPluginFailure *self = g_new (GatherPluginFailure, 1);

  self->ref_count = 1;
  self->path = g_strdup (path);
  self->error = error;

  return self;
}

/**
 * gather_plugin_failure_ref:
 * @self: a [struct@Gather.PluginFailure]
 *
 * Takes a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 1.0
 */
GatherPluginFailure *
gather_plugin_failure_ref (GatherPluginFailure *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);

  return self;
}

/**
 * gather_plugin_failure_unref:
 * @self: (transfer full): a [struct@Gather.PluginFailure]
 *
 * Drops a reference on @self.
 *
 * Since: 1.0
 */
void
gather_plugin_failure_unref (GatherPluginFailure *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;

  g_error_free (self->error);
  g_free (self->path);
  g_free (self);
}

/**
 * gather_plugin_failure_get_path:
 * @self: a [struct@Gather.PluginFailure]
 *
 * Gets the plugin file or directory that failed.
 *
 * Returns: (type filename): the path
 *
 * Since: 1.0
 */
const char *
gather_plugin_failure_get_path (GatherPluginFailure *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->path;
}

/**
 * gather_plugin_failure_get_error:
 * @self: a [struct@Gather.PluginFailure]
 *
 * Gets why loading failed: a [error@Gather.Error], or a `G_IO_ERROR` for a
 * directory that could not be read.
 *
 * Returns: (transfer none): the error
 *
 * Since: 1.0
 */
GError *
gather_plugin_failure_get_error (GatherPluginFailure *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->error;
}

/* ---- GatherShadowedPlugin ---- */

/**
 * GatherShadowedPlugin:
 *
 * A plugin file that a [class@Gather.Registry] did not load because a file
 * of the same name comes earlier in its search path: a user's copy of an
 * installed plugin, say. This is not a failure: the earlier file is the
 * one used, whether or not it loads.
 *
 * Since: 1.0
 */
struct _GatherShadowedPlugin
{
  gint  ref_count;     /* atomic */
  char *path;
  char *shadowed_by;
};

G_DEFINE_BOXED_TYPE (GatherShadowedPlugin, gather_shadowed_plugin,
                     gather_shadowed_plugin_ref, gather_shadowed_plugin_unref)

static GatherShadowedPlugin *
gather_shadowed_plugin_new (const char *path,
                            const char *shadowed_by)
{
  GatherShadowedPlugin *self = g_new (GatherShadowedPlugin, 1);

  self->ref_count = 1;
  self->path = g_strdup (path);
  self->shadowed_by = g_strdup (shadowed_by);

  return self;
}

/**
 * gather_shadowed_plugin_ref:
 * @self: a [struct@Gather.ShadowedPlugin]
 *
 * Takes a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 1.0
 */
GatherShadowedPlugin *
gather_shadowed_plugin_ref (GatherShadowedPlugin *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);

  return self;
}

/**
 * gather_shadowed_plugin_unref:
 * @self: (transfer full): a [struct@Gather.ShadowedPlugin]
 *
 * Drops a reference on @self.
 *
 * Since: 1.0
 */
void
gather_shadowed_plugin_unref (GatherShadowedPlugin *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;

  g_free (self->path);
  g_free (self->shadowed_by);
  g_free (self);
}

/**
 * gather_shadowed_plugin_get_path:
 * @self: a [struct@Gather.ShadowedPlugin]
 *
 * Gets the plugin file that was not loaded, as found in the search path:
 * its directory says where it comes from.
 *
 * Returns: (type filename): the path
 *
 * Since: 1.0
 */
const char *
gather_shadowed_plugin_get_path (GatherShadowedPlugin *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->path;
}

/**
 * gather_shadowed_plugin_get_shadowed_by:
 * @self: a [struct@Gather.ShadowedPlugin]
 *
 * Gets the file of the same name, earlier in the search path, that the
 * registry uses instead, as found in the search path. It may itself have
 * failed to load: see [method@Gather.Registry.list_failures].
 *
 * Returns: (type filename): the path of the file used instead
 *
 * Since: 1.0
 */
const char *
gather_shadowed_plugin_get_shadowed_by (GatherShadowedPlugin *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->shadowed_by;
}

/* ---- GatherRegistry ---- */

/**
 * GatherRegistry:
 *
 * Finds plugins, loads them, and names the [iface@Gather.Worker]s they add.
 *
 * A registry looks for plugins (files named `gather-NAME.so`) in the
 * directories of its search path, in order. The default search path
 * ([method@Gather.Registry.add_default_search_paths]) is:
 *
 * 1. the directories in the `GATHER_PLUGIN_PATH` environment variable,
 *    separated by colons;
 * 2. the user's directory, `$XDG_DATA_HOME/libgather-1/plugins`;
 * 3. the system directory, `$libdir/libgather-1/plugins`, or the one
 *    `GATHER_PLUGIN_DIR` names instead (tests use it so as not to see the
 *    installed plugins; set and empty, it means no system directory).
 *
 * A setuid, setgid or otherwise privileged process ignores both variables.
 *
 * The first file of each name in the search path is the one used; a file
 * of the same name further down (say a user's copy of an installed plugin)
 * is not loaded and is listed by [method@Gather.Registry.list_shadowed],
 * not as a failure.
 *
 * Nothing is ever loaded from the current directory: relative paths are
 * refused. Like ssh with its keys, a registry loads only what no other
 * user could have written:
 *
 * - a plugin must be a regular file owned by root or by the user running
 *   the process, writable by neither its group nor others;
 * - so must every directory from the one holding it up to `/`, with one
 *   exception: a directory above the plugin's own (not the one holding it,
 *   nor a search directory) may be writable by others if it has the sticky
 *   bit, like `/tmp`, since there nobody can rename or remove what they do
 *   not own;
 * - symlinks are followed, and judged by where they lead: a symlink into
 *   a directory others can write is refused;
 * - the file checked is the file loaded, through its open descriptor: what
 *   the path names afterwards does not matter. This needs `/proc`.
 *
 * A file whose ELF headers describe more than the file holds (a truncated
 * copy) is refused before it is opened as a library, as is a plugin for
 * another machine. Plugins are bound when loaded, so one that needs a
 * function no library provides is refused, naming it.
 *
 * What was refused or failed is listed with the reason by
 * [method@Gather.Registry.list_failures], and the rest loads. When two
 * plugins add a worker of the same name, the first one found keeps it. A
 * plugin file is loaded once per process, and a file of the same name
 * elsewhere, in the search path of another registry, fails to load.
 *
 * [func@Gather.Registry.get_default] returns a registry loaded from the
 * default search path, which [class@Gather.Group] uses unless given
 * another. All methods are thread-safe.
 *
 * ## Loading plugins in a helper process
 *
 * Loading a plugin runs its code: a broken one can crash the process that
 * loads it. A registry whose [property@Gather.Registry:isolated] is set
 * has a helper process load its search path instead, with the same checks
 * and the same rules, and lists what it found: its workers, its failures
 * and its shadowed files. No plugin code runs in this process. A plugin
 * that crashes the helper, or does not finish loading within 10 seconds,
 * is listed as a failure ([error@Gather.Error.PLUGIN], saying how the
 * helper ended), and the rest of the search path loads in a new helper.
 *
 * The workers of an isolated registry describe the real ones (name, types,
 * parameters, plugin path) but have no code in this process:
 * [method@Gather.Worker.run] fails with
 * [error@Gather.Error.NOT_ISOLATABLE], and a [class@Gather.Group] always
 * runs their tasks in helper processes (see
 * [property@Gather.Group:isolate-workers]).
 * [method@Gather.Registry.list_plugins] lists no module, since none is
 * loaded here.
 *
 * Since: 1.0
 */

typedef struct
{
  char     *path;
  gboolean  required;   /* a missing directory is a failure */
} SearchPath;

struct _GatherRegistry
{
  GObject      parent_instance;

  GMutex       mutex;
  GCond        cond;            /* signalled when loading ends */
  GArray      *search_paths;    /* guarded by mutex: SearchPath */
  guint        n_loaded_paths;  /* guarded by mutex */
  gboolean     loading;         /* guarded by mutex: a thread has the loading turn */
  GPtrArray   *plugins;         /* guarded by mutex: GatherPluginModule */
  GHashTable  *workers;         /* guarded by mutex: name -> GatherWorker */
  GPtrArray   *failures;        /* guarded by mutex: GatherPluginFailure */
  GPtrArray   *shadowed;        /* guarded by mutex: GatherShadowedPlugin */
  GHashTable  *seen_names;      /* only the thread with the loading turn:
                                 * file name -> path of the first found */
  GatherRegistryLoadHook load_hook;  /* set before loading (helpers only) */
  gpointer     load_hook_data;
  gboolean     isolated;        /* guarded by mutex */
};

enum {
  PROP_0,
  PROP_ISOLATED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (GatherRegistry, gather_registry, G_TYPE_OBJECT)

static void
search_path_clear (gpointer data)
{
  g_free (((SearchPath *) data)->path);
}

static void
gather_registry_finalize (GObject *object)
{
  GatherRegistry *self = (GatherRegistry *)object;

  g_clear_pointer (&self->search_paths, g_array_unref);
  g_clear_pointer (&self->plugins, g_ptr_array_unref);
  g_clear_pointer (&self->workers, g_hash_table_unref);
  g_clear_pointer (&self->failures, g_ptr_array_unref);
  g_clear_pointer (&self->shadowed, g_ptr_array_unref);
  g_clear_pointer (&self->seen_names, g_hash_table_unref);
  g_cond_clear (&self->cond);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (gather_registry_parent_class)->finalize (object);
}

static void
gather_registry_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  GatherRegistry *self = GATHER_REGISTRY (object);

  switch (prop_id)
    {
    case PROP_ISOLATED:
      g_value_set_boolean (value, gather_registry_get_isolated (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gather_registry_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  GatherRegistry *self = GATHER_REGISTRY (object);

  switch (prop_id)
    {
    case PROP_ISOLATED:
      gather_registry_set_isolated (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gather_registry_class_init (GatherRegistryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gather_registry_finalize;
  object_class->get_property = gather_registry_get_property;
  object_class->set_property = gather_registry_set_property;

  /**
   * GatherRegistry:isolated:
   *
   * Whether [method@Gather.Registry.load] loads plugins in a helper
   * process rather than in this one; `FALSE` by default. See “Loading
   * plugins in a helper process” above. It applies to the directories
   * loaded after it is set.
   *
   * Since: 1.0
   */
  properties[PROP_ISOLATED] =
    g_param_spec_boolean ("isolated", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gather_registry_init (GatherRegistry *self)
{
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->search_paths = g_array_new (FALSE, FALSE, sizeof (SearchPath));
  g_array_set_clear_func (self->search_paths, search_path_clear);
  self->plugins = g_ptr_array_new_with_free_func (g_object_unref);
  self->workers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->failures = g_ptr_array_new_with_free_func ((GDestroyNotify) gather_plugin_failure_unref);
  self->shadowed = g_ptr_array_new_with_free_func ((GDestroyNotify) gather_shadowed_plugin_unref);
  self->seen_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * gather_registry_new:
 *
 * Creates a registry with an empty search path and no worker. Add
 * directories with [method@Gather.Registry.add_search_path] (or the default
 * ones), then call [method@Gather.Registry.load].
 *
 * Returns: (transfer full): a new [class@Gather.Registry]
 *
 * Since: 1.0
 */
GatherRegistry *
gather_registry_new (void)
{
  return g_object_new (GATHER_TYPE_REGISTRY, NULL);
}

/**
 * gather_registry_get_default:
 *
 * Gets the process's registry, loaded from the default search path the
 * first time it is asked for.
 *
 * Returns: (transfer none): the default [class@Gather.Registry]
 *
 * Since: 1.0
 */
GatherRegistry *
gather_registry_get_default (void)
{
  static GatherRegistry *default_registry;
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      default_registry = gather_registry_new ();
      gather_registry_add_default_search_paths (default_registry);
      gather_registry_load (default_registry);
      g_once_init_leave (&initialized, 1);
    }

  return default_registry;
}

/* Takes @error. Called with the mutex held. */
static void
gather_registry_fail_locked (GatherRegistry *self,
                             const char     *path,
                             GError         *error)
{
  g_debug ("%s", error->message);
  g_ptr_array_add (self->failures, gather_plugin_failure_new (path, error));
}

static void
gather_registry_add_path_locked (GatherRegistry *self,
                                 const char     *directory,
                                 gboolean        required)
{
  SearchPath entry;

  for (guint i = 0; i < self->search_paths->len; i++)
    if (g_str_equal (g_array_index (self->search_paths, SearchPath, i).path, directory))
      return;

  entry.path = g_strdup (directory);
  entry.required = required;
  g_array_append_val (self->search_paths, entry);
}

/**
 * gather_registry_add_search_path:
 * @self: a [class@Gather.Registry]
 * @directory: (type filename): an absolute path to a directory of plugins
 *
 * Appends @directory to the search path; [method@Gather.Registry.load]
 * loads the plugins in it. A directory that does not exist is listed as a
 * failure when loading. A relative path is a programmer error: plugins are
 * never loaded from the current directory implicitly.
 *
 * Since: 1.0
 */
void
gather_registry_add_search_path (GatherRegistry *self,
                                 const char     *directory)
{
  g_return_if_fail (GATHER_IS_REGISTRY (self));
  g_return_if_fail (directory != NULL);
  g_return_if_fail (g_path_is_absolute (directory));

  g_mutex_lock (&self->mutex);
  gather_registry_add_path_locked (self, directory, TRUE);
  g_mutex_unlock (&self->mutex);
}

/**
 * gather_registry_get_isolated:
 * @self: a [class@Gather.Registry]
 *
 * Gets [property@Gather.Registry:isolated].
 *
 * Returns: whether plugins are loaded in a helper process
 *
 * Since: 1.0
 */
gboolean
gather_registry_get_isolated (GatherRegistry *self)
{
  gboolean isolated;

  g_return_val_if_fail (GATHER_IS_REGISTRY (self), FALSE);

  g_mutex_lock (&self->mutex);
  isolated = self->isolated;
  g_mutex_unlock (&self->mutex);

  return isolated;
}

/**
 * gather_registry_set_isolated:
 * @self: a [class@Gather.Registry]
 * @isolated: whether to load plugins in a helper process
 *
 * Sets [property@Gather.Registry:isolated]. Set it before loading.
 * Thread-safe; the notification is emitted on the calling thread.
 *
 * Since: 1.0
 */
void
gather_registry_set_isolated (GatherRegistry *self,
                              gboolean        isolated)
{
  gboolean changed;

  g_return_if_fail (GATHER_IS_REGISTRY (self));

  isolated = !!isolated;
  g_mutex_lock (&self->mutex);
  changed = self->isolated != isolated;
  self->isolated = isolated;
  g_mutex_unlock (&self->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ISOLATED]);
}

/* A search directory that may be missing (@required FALSE), as the
 * default ones: what an isolated load hands its helper. */
void
gather_registry_add_search_path_full (GatherRegistry *self,
                                      const char     *directory,
                                      gboolean        required)
{
  g_mutex_lock (&self->mutex);
  gather_registry_add_path_locked (self, directory, required);
  g_mutex_unlock (&self->mutex);
}

/* Before loading; see GatherRegistryLoadHook. */
void
gather_registry_set_load_hook (GatherRegistry         *self,
                               GatherRegistryLoadHook  hook,
                               gpointer                data)
{
  self->load_hook = hook;
  self->load_hook_data = data;
}

/* Like GLib's own check for GIO_MODULE_DIR: the environment is not trusted
 * in a setuid, setgid or otherwise privileged process. */
static gboolean
gather_registry_is_privileged (void)
{
  return getauxval (AT_SECURE) != 0;
}

/**
 * gather_registry_add_default_search_paths:
 * @self: a [class@Gather.Registry]
 *
 * Appends the default search path: the directories in
 * `GATHER_PLUGIN_PATH`, the user's plugin directory, and the system one,
 * `$libdir/libgather-1/plugins`, or the directory `GATHER_PLUGIN_DIR`
 * names instead (none if it is set and empty). A privileged process
 * ignores both variables. Relative paths in either are ignored and listed
 * as failures; the user's and the system directory may be missing.
 *
 * Since: 1.0
 */
void
gather_registry_add_default_search_paths (GatherRegistry *self)
{
  gboolean privileged = gather_registry_is_privileged ();
  const char *env = privileged ? NULL : g_getenv ("GATHER_PLUGIN_PATH");
  const char *system_env = privileged ? NULL : g_getenv ("GATHER_PLUGIN_DIR");
  const char *system_dir = GATHER_PLUGINDIR;
  g_autofree char *user_dir = NULL;

  g_return_if_fail (GATHER_IS_REGISTRY (self));

  g_mutex_lock (&self->mutex);

  if (env != NULL)
    {
      g_auto(GStrv) directories = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; directories[i] != NULL; i++)
        {
          if (*directories[i] == '\0')
            continue;

          if (!g_path_is_absolute (directories[i]))
            {
              gather_registry_fail_locked (self, directories[i],
                g_error_new (GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE,
                             "Ignoring “%s” in GATHER_PLUGIN_PATH: plugins are "
                             "only loaded from absolute paths", directories[i]));
              continue;
            }

          gather_registry_add_path_locked (self, directories[i], TRUE);
        }
    }

  /* Like GIO_MODULE_DIR for GIO modules: a replacement, not an addition. */
  if (system_env != NULL)
    {
      system_dir = *system_env != '\0' ? system_env : NULL;

      if (system_dir != NULL && !g_path_is_absolute (system_dir))
        {
          gather_registry_fail_locked (self, system_dir,
            g_error_new (GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE,
                         "Ignoring “%s” in GATHER_PLUGIN_DIR: plugins are "
                         "only loaded from absolute paths", system_dir));
          system_dir = NULL;
        }
    }

  user_dir = g_build_filename (g_get_user_data_dir (), "libgather-1", "plugins", NULL);
  gather_registry_add_path_locked (self, user_dir, FALSE);
  if (system_dir != NULL)
    gather_registry_add_path_locked (self, system_dir, FALSE);

  g_mutex_unlock (&self->mutex);
}

/**
 * gather_registry_dup_search_paths:
 * @self: a [class@Gather.Registry]
 *
 * Gets the search path, in the order directories are searched.
 *
 * Returns: (transfer full) (array zero-terminated=1) (element-type filename):
 *   the directories
 *
 * Since: 1.0
 */
char **
gather_registry_dup_search_paths (GatherRegistry *self)
{
  g_autoptr(GStrvBuilder) builder = NULL;

  g_return_val_if_fail (GATHER_IS_REGISTRY (self), NULL);

  builder = g_strv_builder_new ();
  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < self->search_paths->len; i++)
    g_strv_builder_add (builder, g_array_index (self->search_paths, SearchPath, i).path);
  g_mutex_unlock (&self->mutex);

  return g_strv_builder_end (builder);
}

/* Called with the mutex held. */
static void
gather_registry_add_worker_locked (GatherRegistry *self,
                                   GatherWorker   *worker,
                                   const char     *path)
{
  const char *name = gather_worker_get_name (worker);
  GatherWorker *existing = g_hash_table_lookup (self->workers, name);

  if (existing != NULL)
    {
      const char *other = gather_worker_get_plugin_path (existing);

      gather_registry_fail_locked (self, path,
        g_error_new (GATHER_ERROR, GATHER_ERROR_DUPLICATE_WORKER,
                     "Worker “%s” of “%s” is not loaded: “%s” already provides it",
                     name, path, other != NULL ? other : "the program"));
      return;
    }

  g_hash_table_insert (self->workers, (gpointer) name, g_object_ref (worker));
}

/* What one load found, in the order it found it: merged into the registry
 * afterwards, under the mutex. */
typedef struct
{
  char               *path;      /* as found in the search path */
  GatherPluginModule *plugin;    /* (nullable) (unowned): modules live forever */
  GError             *error;     /* (nullable): why nothing was loaded */
} Found;

static void
found_clear (gpointer data)
{
  Found *found = data;

  g_free (found->path);
  g_clear_error (&found->error);
}

typedef struct
{
  GArray    *found;      /* Found */
  GPtrArray *shadowed;   /* GatherShadowedPlugin */
} LoadResults;

static void
found_error (LoadResults *results,
             const char  *path,
             GError      *error)
{
  Found found = { g_strdup (path), NULL, error };

  g_array_append_val (results->found, found);
}

/* Runs with no lock held, on the thread that holds the loading turn; it
 * alone touches self->seen_names. */
static void
gather_registry_load_directory (GatherRegistry   *self,
                                const SearchPath *search_path,
                                LoadResults      *results)
{
  const char *directory = search_path->path;
  g_autofree char *real_directory = NULL;
  g_autoptr(GPtrArray) names = NULL;
  GError *error = NULL;
  int dir_fd;

  dir_fd = gather_plugin_file_open_directory (directory, NULL, &real_directory, &error);
  if (dir_fd < 0)
    {
      if (search_path->required || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        found_error (results, directory, error);
      else
        g_clear_error (&error);
      return;
    }

  names = gather_plugin_file_list_directory (dir_fd, directory, &error);
  if (names == NULL)
    {
      found_error (results, directory, error);
      close (dir_fd);
      return;
    }

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (directory, name, NULL);
      GatherPluginFile file = GATHER_PLUGIN_FILE_INIT;
      const char *first = g_hash_table_lookup (self->seen_names, name);
      Found found = { NULL, NULL, NULL };

      /* The first file of a name in the search path is the one used,
       * whether or not it loads; later ones are not even opened. */
      if (first != NULL)
        {
          g_ptr_array_add (results->shadowed, gather_shadowed_plugin_new (path, first));
          continue;
        }
      g_hash_table_insert (self->seen_names, g_strdup (name), g_strdup (path));

      if (self->load_hook != NULL && !self->load_hook (path, &error, self->load_hook_data))
        {
          found_error (results, path, error);
          continue;
        }

      if (!gather_plugin_file_open (dir_fd, real_directory, path, name, NULL, &file, &error))
        {
          found_error (results, path, error);
          continue;
        }

      /* May run the plugin's code. */
      found.plugin = gather_plugin_module_get_for_file (&file);
      found.path = g_steal_pointer (&path);
      g_array_append_val (results->found, found);
    }

  close (dir_fd);
}

/* Called with the mutex held. */
static void
gather_registry_merge_locked (GatherRegistry *self,
                              LoadResults    *results)
{
  for (guint i = 0; i < results->found->len; i++)
    {
      Found *found = &g_array_index (results->found, Found, i);
      g_autoptr(GPtrArray) workers = NULL;
      GatherPluginModule *plugin = found->plugin;

      if (plugin == NULL)
        {
          gather_registry_fail_locked (self, found->path, g_steal_pointer (&found->error));
          continue;
        }

      /* Reached twice, through a symlink: loaded once. */
      if (g_ptr_array_find (self->plugins, plugin, NULL))
        continue;
      g_ptr_array_add (self->plugins, g_object_ref (plugin));

      if (gather_plugin_module_get_error (plugin) != NULL)
        {
          gather_registry_fail_locked (self, found->path,
                                       g_error_copy (gather_plugin_module_get_error (plugin)));
          continue;
        }

      workers = gather_plugin_module_list_workers (plugin);
      for (guint j = 0; j < workers->len; j++)
        gather_registry_add_worker_locked (self, g_ptr_array_index (workers, j),
                                           gather_plugin_module_get_path (plugin));
    }

  for (guint i = 0; i < results->shadowed->len; i++)
    g_ptr_array_add (self->shadowed, gather_shadowed_plugin_ref (g_ptr_array_index (results->shadowed, i)));
}

/* The end of gather_registry_load() for an isolated registry: a helper
 * loads @batch (no lock held), and what it found is merged. */
static void
gather_registry_load_isolated (GatherRegistry *self,
                               GArray         *batch)
{
  g_autofree const char **directories = g_new0 (const char *, batch->len + 1);
  g_autofree gboolean *required = g_new0 (gboolean, batch->len + 1);
  GatherHelperCatalog catalog;

  for (guint i = 0; i < batch->len; i++)
    {
      directories[i] = g_array_index (batch, SearchPath, i).path;
      required[i] = g_array_index (batch, SearchPath, i).required;
    }

  gather_helper_catalog_load (directories, required, batch->len, &catalog);

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < catalog.failure_paths->len; i++)
    gather_registry_fail_locked (self, g_ptr_array_index (catalog.failure_paths, i),
                                 g_steal_pointer (&g_ptr_array_index (catalog.failure_errors, i)));
  for (guint i = 0; i < catalog.workers->len; i++)
    {
      GatherWorker *worker = g_ptr_array_index (catalog.workers, i);

      gather_registry_add_worker_locked (self, worker, gather_worker_get_plugin_path (worker));
    }
  for (guint i = 0; i < catalog.shadowed_paths->len; i++)
    g_ptr_array_add (self->shadowed,
                     gather_shadowed_plugin_new (g_ptr_array_index (catalog.shadowed_paths, i),
                                                 g_ptr_array_index (catalog.shadowed_by, i)));
  self->loading = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);

  /* The errors went to the failures. */
  g_ptr_array_set_free_func (catalog.failure_errors, NULL);
  gather_helper_catalog_clear (&catalog);
}

/**
 * gather_registry_load:
 * @self: a [class@Gather.Registry]
 *
 * Loads the plugins in every directory of the search path that has not
 * been loaded yet, in order. Whatever fails is listed by
 * [method@Gather.Registry.list_failures]; the rest loads.
 *
 * One thread loads at a time; another thread that calls this meanwhile
 * waits for it, then loads what was added since. Plugin code runs with no
 * lock held: other threads can look workers up while plugins load. A
 * plugin's register function must not call this.
 *
 * Since: 1.0
 */
void
gather_registry_load (GatherRegistry *self)
{
  g_autoptr(GArray) batch = NULL;
  LoadResults results;
  gboolean isolated;

  g_return_if_fail (GATHER_IS_REGISTRY (self));

  g_mutex_lock (&self->mutex);
  while (self->loading)
    g_cond_wait (&self->cond, &self->mutex);

  if (self->n_loaded_paths == self->search_paths->len)
    {
      g_mutex_unlock (&self->mutex);
      return;
    }

  self->loading = TRUE;
  isolated = self->isolated;
  batch = g_array_new (FALSE, FALSE, sizeof (SearchPath));
  g_array_set_clear_func (batch, search_path_clear);
  for (; self->n_loaded_paths < self->search_paths->len; self->n_loaded_paths++)
    {
      SearchPath copy = g_array_index (self->search_paths, SearchPath, self->n_loaded_paths);

      copy.path = g_strdup (copy.path);
      g_array_append_val (batch, copy);
    }
  g_mutex_unlock (&self->mutex);

  if (isolated)
    {
      gather_registry_load_isolated (self, batch);
      return;
    }

  /* Opens, checks and loads with no lock held: plugin code runs here. */
  results.found = g_array_new (FALSE, FALSE, sizeof (Found));
  g_array_set_clear_func (results.found, found_clear);
  results.shadowed = g_ptr_array_new_with_free_func ((GDestroyNotify) gather_shadowed_plugin_unref);
  for (guint i = 0; i < batch->len; i++)
    gather_registry_load_directory (self, &g_array_index (batch, SearchPath, i), &results);

  g_mutex_lock (&self->mutex);
  gather_registry_merge_locked (self, &results);
  self->loading = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);

  g_array_unref (results.found);
  g_ptr_array_unref (results.shadowed);
}

/**
 * gather_registry_add_worker:
 * @self: a [class@Gather.Registry]
 * @worker: a worker, usually of a type the program defines itself
 * @error: return location for a [error@Gather.Error.DUPLICATE_WORKER] or
 *   [error@Gather.Error.PLUGIN]
 *
 * Adds a worker that does not come from a plugin, for example one a C
 * program defines so that its scripts can run it on a pool. A worker
 * implemented in a language binding cannot declare its name and types and
 * is refused with [error@Gather.Error.PLUGIN] (see [iface@Gather.Worker]).
 *
 * Returns: `TRUE` if the worker was added; `FALSE` if its name is taken,
 *   or if it does not declare its name and types
 *
 * Since: 1.0
 */
gboolean
gather_registry_add_worker (GatherRegistry  *self,
                            GatherWorker    *worker,
                            GError         **error)
{
  const char *name;
  gboolean ret = TRUE;

  g_return_val_if_fail (GATHER_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (GATHER_IS_WORKER (worker), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!gather_worker_check_declared (worker, error))
    return FALSE;

  name = gather_worker_get_name (worker);

  g_mutex_lock (&self->mutex);
  if (g_hash_table_contains (self->workers, name))
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_DUPLICATE_WORKER,
                   "A worker named “%s” is already loaded", name);
      ret = FALSE;
    }
  else
    {
      g_hash_table_insert (self->workers, (gpointer) name, g_object_ref (worker));
    }
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * gather_registry_lookup_worker:
 * @self: a [class@Gather.Registry]
 * @name: a worker's name
 *
 * Finds a loaded worker by name.
 *
 * Returns: (transfer none) (nullable): the worker, or `NULL`
 *
 * Since: 1.0
 */
GatherWorker *
gather_registry_lookup_worker (GatherRegistry *self,
                               const char     *name)
{
  GatherWorker *worker;

  g_return_val_if_fail (GATHER_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  g_mutex_lock (&self->mutex);
  worker = g_hash_table_lookup (self->workers, name);
  g_mutex_unlock (&self->mutex);

  /* Workers are never removed, so the pointer stays valid. */
  return worker;
}

static gint
compare_workers (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (gather_worker_get_name (*(GatherWorker **) a),
                 gather_worker_get_name (*(GatherWorker **) b));
}

/**
 * gather_registry_list_workers:
 * @self: a [class@Gather.Registry]
 *
 * Lists the loaded workers, sorted by name.
 *
 * Returns: (transfer container) (element-type GatherWorker): the workers
 *
 * Since: 1.0
 */
GPtrArray *
gather_registry_list_workers (GatherRegistry *self)
{
  GPtrArray *ret;
  GHashTableIter iter;
  gpointer worker;

  g_return_val_if_fail (GATHER_IS_REGISTRY (self), NULL);

  g_mutex_lock (&self->mutex);
  ret = g_ptr_array_new_full (g_hash_table_size (self->workers), g_object_unref);
  g_hash_table_iter_init (&iter, self->workers);
  while (g_hash_table_iter_next (&iter, NULL, &worker))
    g_ptr_array_add (ret, g_object_ref (worker));
  g_mutex_unlock (&self->mutex);

  g_ptr_array_sort (ret, compare_workers);

  return ret;
}

/**
 * gather_registry_list_plugins:
 * @self: a [class@Gather.Registry]
 *
 * Lists the plugin files the registry found, in the order it loaded them,
 * including those that failed to load (see
 * [method@Gather.PluginModule.get_error]).
 *
 * Returns: (transfer container) (element-type GatherPluginModule): the
 *   plugins
 *
 * Since: 1.0
 */
GPtrArray *
gather_registry_list_plugins (GatherRegistry *self)
{
  GPtrArray *ret;

  g_return_val_if_fail (GATHER_IS_REGISTRY (self), NULL);

  g_mutex_lock (&self->mutex);
  ret = g_ptr_array_new_full (self->plugins->len, g_object_unref);
  for (guint i = 0; i < self->plugins->len; i++)
    g_ptr_array_add (ret, g_object_ref (g_ptr_array_index (self->plugins, i)));
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * gather_registry_list_failures:
 * @self: a [class@Gather.Registry]
 *
 * Lists what could not be loaded, in the order it was met: plugins that
 * failed, directories that were refused or unreadable, and workers whose
 * name was taken.
 *
 * Returns: (transfer container) (element-type GatherPluginFailure): the
 *   failures
 *
 * Since: 1.0
 */
GPtrArray *
gather_registry_list_failures (GatherRegistry *self)
{
  GPtrArray *ret;

  g_return_val_if_fail (GATHER_IS_REGISTRY (self), NULL);

  g_mutex_lock (&self->mutex);
  ret = g_ptr_array_new_full (self->failures->len, (GDestroyNotify) gather_plugin_failure_unref);
  for (guint i = 0; i < self->failures->len; i++)
    g_ptr_array_add (ret, gather_plugin_failure_ref (g_ptr_array_index (self->failures, i)));
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * gather_registry_list_shadowed:
 * @self: a [class@Gather.Registry]
 *
 * Lists the plugin files that were not loaded because a file of the same
 * name comes earlier in the search path, in the order they were found.
 * They are not failures.
 *
 * Returns: (transfer container) (element-type GatherShadowedPlugin): the
 *   shadowed files
 *
 * Since: 1.0
 */
GPtrArray *
gather_registry_list_shadowed (GatherRegistry *self)
{
  GPtrArray *ret;

  g_return_val_if_fail (GATHER_IS_REGISTRY (self), NULL);

  g_mutex_lock (&self->mutex);
  ret = g_ptr_array_new_full (self->shadowed->len, (GDestroyNotify) gather_shadowed_plugin_unref);
  for (guint i = 0; i < self->shadowed->len; i++)
    g_ptr_array_add (ret, gather_shadowed_plugin_ref (g_ptr_array_index (self->shadowed, i)));
  g_mutex_unlock (&self->mutex);

  return ret;
}
