/* gather-reverse-plugin.c: a complete gather plugin with one worker,
 * "reverse", which reverses a string.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <libgather.h>

#define REVERSE_TYPE_WORKER (reverse_worker_get_type ())
G_DECLARE_FINAL_TYPE (ReverseWorker, reverse_worker, REVERSE, WORKER, GObject)

struct _ReverseWorker
{
  GObject parent_instance;
};

static void reverse_worker_iface_init (GatherWorkerInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (ReverseWorker, reverse_worker, G_TYPE_OBJECT, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (GATHER_TYPE_WORKER,
                                                               reverse_worker_iface_init))

/* The keys of the worker's a{sv} parameters. */
static const GatherParameter reverse_parameters[] = {
  { "text", "s", "The text to reverse", GATHER_PARAMETER_REQUIRED },
};

/* Runs on a pool thread, maybe on several at once: use only the
 * parameters, the cancellable and local data. The parameters were checked
 * against reverse_parameters before the task was queued. */
static GVariant *
reverse_worker_run (GatherWorker  *worker,
                    GVariant      *parameters,
                    GCancellable  *cancellable,
                    GError       **error)
{
  const char *text = NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  g_variant_lookup (parameters, "text", "&s", &text);

  return g_variant_new_take_string (g_utf8_strreverse (text, -1));
}

static void
reverse_worker_iface_init (GatherWorkerInterface *iface)
{
  iface->name = "reverse";
  iface->description = "Reverses a string";
  iface->parameter_type = "a{sv}";
  iface->parameters = reverse_parameters;
  iface->n_parameters = G_N_ELEMENTS (reverse_parameters);
  iface->result_type = "s";
  iface->run = reverse_worker_run;
}

static void
reverse_worker_class_init (ReverseWorkerClass *klass)
{
}

static void
reverse_worker_class_finalize (ReverseWorkerClass *klass)
{
}

static void
reverse_worker_init (ReverseWorker *self)
{
}

static void
reverse_register (GatherPluginModule *module)
{
  reverse_worker_register_type (G_TYPE_MODULE (module));
  gather_plugin_module_add_worker (module, REVERSE_TYPE_WORKER);
}

GATHER_PLUGIN_DEFINE (reverse, "Reverses strings", reverse_register)
