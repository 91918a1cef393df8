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
#include "gather-plugin-module-private.h"
#include "gather-registry.h"

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
 *    separated by colons; ignored in a setuid or otherwise privileged
 *    process;
 * 2. the user's directory, `$XDG_DATA_HOME/libgather-1/plugins`;
 * 3. the system directory, `$libdir/libgather-1/plugins`.
 *
 * Nothing is ever loaded from the current directory: relative paths are
 * refused. Like ssh and sudo, a registry refuses a plugin file or
 * directory that is writable by other users, or owned by a user other than
 * root or the one running the process; the reason is listed with
 * [method@Gather.Registry.list_failures]. A plugin that fails to load is
 * listed there too, and the rest load. When two plugins add a worker of the
 * same name, the first one found keeps it; a plugin file is loaded once per
 * process, and a second file of the same name (say a user's copy of an
 * installed plugin, further down the search path) is listed as a failure.
 *
 * [func@Gather.Registry.get_default] returns a registry loaded from the
 * default search path, which [class@Gather.Group] uses unless given
 * another. All methods are thread-safe.
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
  GArray      *search_paths;    /* guarded by mutex: SearchPath */
  guint        n_loaded_paths;  /* guarded by mutex */
  GPtrArray   *plugins;         /* guarded by mutex: GatherPluginModule */
  GHashTable  *workers;         /* guarded by mutex: name -> GatherWorker */
  GPtrArray   *failures;        /* guarded by mutex: GatherPluginFailure */
};

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
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (gather_registry_parent_class)->finalize (object);
}

static void
gather_registry_class_init (GatherRegistryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gather_registry_finalize;
}

static void
gather_registry_init (GatherRegistry *self)
{
  g_mutex_init (&self->mutex);
  self->search_paths = g_array_new (FALSE, FALSE, sizeof (SearchPath));
  g_array_set_clear_func (self->search_paths, search_path_clear);
  self->plugins = g_ptr_array_new_with_free_func (g_object_unref);
  self->workers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->failures = g_ptr_array_new_with_free_func ((GDestroyNotify) gather_plugin_failure_unref);
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
 * `GATHER_PLUGIN_PATH` (unless the process is privileged), the user's
 * plugin directory and the system one. Relative paths in
 * `GATHER_PLUGIN_PATH` are ignored and listed as failures; the user's and
 * the system directory may be missing.
 *
 * Since: 1.0
 */
void
gather_registry_add_default_search_paths (GatherRegistry *self)
{
  const char *env = g_getenv ("GATHER_PLUGIN_PATH");
  g_autofree char *user_dir = NULL;

  g_return_if_fail (GATHER_IS_REGISTRY (self));

  g_mutex_lock (&self->mutex);

  if (env != NULL && !gather_registry_is_privileged ())
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

  user_dir = g_build_filename (g_get_user_data_dir (), "libgather-1", "plugins", NULL);
  gather_registry_add_path_locked (self, user_dir, FALSE);
  gather_registry_add_path_locked (self, GATHER_PLUGINDIR, FALSE);

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

/* Refuses what other users could have written, as ssh does. */
static gboolean
gather_registry_check_secure (const char         *path,
                              const struct stat  *st,
                              const char         *what,
                              GError            **error)
{
  if (st->st_uid != 0 && st->st_uid != geteuid ())
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE,
                   "Refusing to load %s “%s”: it belongs to another user (uid %u)",
                   what, path, (guint) st->st_uid);
      return FALSE;
    }

  if (st->st_mode & (S_IWGRP | S_IWOTH))
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_PLUGIN_INSECURE,
                   "Refusing to load %s “%s”: it is writable by %s (mode %04o)",
                   what, path, (st->st_mode & S_IWOTH) ? "every user" : "its group",
                   (guint) (st->st_mode & 07777));
      return FALSE;
    }

  return TRUE;
}

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

static void
gather_registry_load_file_locked (GatherRegistry *self,
                                  const char     *path)
{
  g_autofree char *real = realpath (path, NULL);
  g_autoptr(GPtrArray) workers = NULL;
  GatherPluginModule *plugin;
  GError *error = NULL;
  struct stat st;

  if (real == NULL || stat (real, &st) != 0)
    {
      int saved_errno = errno;

      gather_registry_fail_locked (self, path,
        g_error_new (G_IO_ERROR, g_io_error_from_errno (saved_errno),
                     "Cannot read plugin “%s”: %s", path, g_strerror (saved_errno)));
      return;
    }

  if (!S_ISREG (st.st_mode))
    {
      gather_registry_fail_locked (self, path,
        g_error_new (GATHER_ERROR, GATHER_ERROR_PLUGIN,
                     "Plugin “%s” is not a regular file", path));
      return;
    }

  if (!gather_registry_check_secure (path, &st, "plugin", &error))
    {
      gather_registry_fail_locked (self, path, error);
      return;
    }

  plugin = gather_plugin_module_get_for_path (real);
  if (g_ptr_array_find (self->plugins, plugin, NULL))
    return;
  g_ptr_array_add (self->plugins, g_object_ref (plugin));

  if (gather_plugin_module_get_error (plugin) != NULL)
    {
      gather_registry_fail_locked (self, path, g_error_copy (gather_plugin_module_get_error (plugin)));
      return;
    }

  workers = gather_plugin_module_list_workers (plugin);
  for (guint i = 0; i < workers->len; i++)
    gather_registry_add_worker_locked (self, g_ptr_array_index (workers, i), real);
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static void
gather_registry_load_directory_locked (GatherRegistry   *self,
                                       const SearchPath *search_path)
{
  const char *directory = search_path->path;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = NULL;
  GError *error = NULL;
  const char *name;
  struct stat st;

  if (stat (directory, &st) != 0)
    {
      int saved_errno = errno;

      if (saved_errno != ENOENT || search_path->required)
        gather_registry_fail_locked (self, directory,
          g_error_new (G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot read plugin directory “%s”: %s",
                       directory, g_strerror (saved_errno)));
      return;
    }

  if (!S_ISDIR (st.st_mode))
    {
      gather_registry_fail_locked (self, directory,
        g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                     "Plugin directory “%s” is not a directory", directory));
      return;
    }

  if (!gather_registry_check_secure (directory, &st, "plugins from directory", &error))
    {
      gather_registry_fail_locked (self, directory, error);
      return;
    }

  dir = g_dir_open (directory, 0, &error);
  if (dir == NULL)
    {
      gather_registry_fail_locked (self, directory, error);
      return;
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "gather-") && g_str_has_suffix (name, "." G_MODULE_SUFFIX))
      g_ptr_array_add (names, g_strdup (name));

  /* A stable order, so that the first of two plugins with the same worker
   * name is the same on every run. */
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (directory, g_ptr_array_index (names, i), NULL);

      gather_registry_load_file_locked (self, path);
    }
}

/**
 * gather_registry_load:
 * @self: a [class@Gather.Registry]
 *
 * Loads the plugins in every directory of the search path that has not
 * been loaded yet, in order. Whatever fails is listed by
 * [method@Gather.Registry.list_failures]; the rest loads.
 *
 * Since: 1.0
 */
void
gather_registry_load (GatherRegistry *self)
{
  g_return_if_fail (GATHER_IS_REGISTRY (self));

  g_mutex_lock (&self->mutex);
  for (; self->n_loaded_paths < self->search_paths->len; self->n_loaded_paths++)
    gather_registry_load_directory_locked (self, &g_array_index (self->search_paths, SearchPath,
                                                                 self->n_loaded_paths));
  g_mutex_unlock (&self->mutex);
}

/**
 * gather_registry_add_worker:
 * @self: a [class@Gather.Registry]
 * @worker: a worker, usually of a type the program defines itself
 * @error: return location for a [error@Gather.Error.DUPLICATE_WORKER]
 *
 * Adds a worker that does not come from a plugin, for example one a C
 * program defines so that its scripts can run it on a pool.
 *
 * Returns: `TRUE` if the worker was added; `FALSE` if its name is taken
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

  name = gather_worker_get_name (worker);
  g_return_val_if_fail (name != NULL, FALSE);

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
