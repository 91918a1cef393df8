/* gather-helper-worker.c: stand-ins for workers loaded in a helper
 * process.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-error.h"
#include "gather-helper-worker-private.h"

/*
 * A registry that loads its plugins in a helper process (see
 * gather_registry_set_isolated()) lists, for each worker the helper found,
 * a stand-in: a GatherWorker that declares what the real one declares (its
 * name, types and parameters live in its interface structure, as a
 * plugin's do), so that parameters are checked and `gather plugins`
 * describes it as usual, but that has no code here. A group runs its tasks
 * in helper processes; called in this process, it fails.
 *
 * Each distinct declaration gets a type of its own, registered once and
 * kept for the life of the process, like a plugin's types: the interface
 * structure is per type.
 */

typedef struct
{
  char            *name;
  char            *description;
  char            *parameter_type;
  char            *result_type;
  GatherParameter *parameters;
  guint            n_parameters;
  char            *plugin_path;
  GType            type;
} Declaration;

static GMutex      declarations_lock;
static GHashTable *declarations;   /* guarded: key -> Declaration, forever */
static GQuark      declaration_quark;
static guint       n_types;        /* guarded */

static GVariant *
gather_helper_worker_run (GatherWorker  *self,
                          GVariant      *parameters,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_set_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE,
               "Worker “%s” was loaded in a helper process and runs only there: "
               "run it in a group (gather_group_add_worker_task())",
               gather_worker_get_name (self));
  return NULL;
}

static void
gather_helper_worker_iface_init (gpointer g_iface,
                                 gpointer iface_data)
{
  GatherWorkerInterface *iface = g_iface;
  Declaration *declaration = iface_data;

  iface->name = declaration->name;
  iface->description = declaration->description;
  iface->parameter_type = declaration->parameter_type;
  iface->parameters = declaration->parameters;
  iface->n_parameters = declaration->n_parameters;
  iface->result_type = declaration->result_type;
  iface->run = gather_helper_worker_run;
}

/* Everything the declaration says, as one string. */
static char *
declaration_key (const GatherHelperWorkerInfo *info)
{
  GString *key = g_string_new (NULL);

  g_string_append_printf (key, "%s%c%s%c%s%c%s%c%s", info->name, 0,
                          info->description != NULL ? info->description : "", 0,
                          info->parameter_type, 0, info->result_type, 0, info->plugin_path);
  for (guint i = 0; i < info->n_parameters; i++)
    g_string_append_printf (key, "%c%s%c%s%c%s%c%u", 0, info->parameters[i].name, 0,
                            info->parameters[i].type, 0,
                            info->parameters[i].description ? info->parameters[i].description : "",
                            0, info->parameters[i].flags);

  /* Zero bytes separate fields; the key must be a C string. */
  for (gsize i = 0; i < key->len; i++)
    if (key->str[i] == '\0')
      key->str[i] = '\1';

  return g_string_free (key, FALSE);
}

static Declaration *
declaration_new (const GatherHelperWorkerInfo *info)
{
  Declaration *declaration = g_new0 (Declaration, 1);
  GTypeInfo type_info = { 0 };
  GInterfaceInfo iface_info = { 0 };
  g_autofree char *type_name = NULL;

  declaration->name = g_strdup (info->name);
  declaration->description = g_strdup (info->description);
  declaration->parameter_type = g_strdup (info->parameter_type);
  declaration->result_type = g_strdup (info->result_type);
  declaration->plugin_path = g_strdup (info->plugin_path);
  declaration->n_parameters = info->n_parameters;
  declaration->parameters = g_new0 (GatherParameter, MAX (info->n_parameters, 1));
  for (guint i = 0; i < info->n_parameters; i++)
    {
      declaration->parameters[i].name = g_strdup (info->parameters[i].name);
      declaration->parameters[i].type = g_strdup (info->parameters[i].type);
      declaration->parameters[i].description = g_strdup (info->parameters[i].description);
      declaration->parameters[i].flags = info->parameters[i].flags;
    }

  type_info.class_size = sizeof (GObjectClass);
  type_info.instance_size = sizeof (GObject);
  iface_info.interface_init = gather_helper_worker_iface_init;
  iface_info.interface_data = declaration;

  type_name = g_strdup_printf ("GatherHelperWorker%u", ++n_types);
  declaration->type = g_type_register_static (G_TYPE_OBJECT, type_name, &type_info,
                                              G_TYPE_FLAG_FINAL);
  g_type_add_interface_static (declaration->type, GATHER_TYPE_WORKER, &iface_info);
  g_type_set_qdata (declaration->type, declaration_quark, declaration);

  return declaration;
}

/*
 * gather_helper_worker_new:
 * A stand-in for a worker a helper described; @info was checked (names
 * and types valid). Any thread.
 */
GatherWorker *
gather_helper_worker_new (const GatherHelperWorkerInfo *info)
{
  g_autofree char *key = declaration_key (info);
  Declaration *declaration;

  g_mutex_lock (&declarations_lock);
  if (declarations == NULL)
    {
      declarations = g_hash_table_new (g_str_hash, g_str_equal);
      declaration_quark = g_quark_from_static_string ("gather-helper-worker");
    }

  declaration = g_hash_table_lookup (declarations, key);
  if (declaration == NULL)
    {
      declaration = declaration_new (info);
      g_hash_table_insert (declarations, g_steal_pointer (&key), declaration);
    }
  g_mutex_unlock (&declarations_lock);

  return g_object_new (declaration->type, NULL);
}

gboolean
gather_helper_worker_is (GatherWorker *worker)
{
  return declaration_quark != 0 &&
         g_type_get_qdata (G_OBJECT_TYPE (worker), declaration_quark) != NULL;
}

const char *
gather_helper_worker_get_plugin_path (GatherWorker *worker)
{
  Declaration *declaration = g_type_get_qdata (G_OBJECT_TYPE (worker), declaration_quark);

  return declaration != NULL ? declaration->plugin_path : NULL;
}
