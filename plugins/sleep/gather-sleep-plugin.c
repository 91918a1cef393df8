/* gather-sleep-plugin.c: the "sleep" worker, the seed's fetch_user().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <libgather.h>

#define SLEEP_TYPE_WORKER (sleep_worker_get_type ())
G_DECLARE_FINAL_TYPE (SleepWorker, sleep_worker, SLEEP, WORKER, GObject)

struct _SleepWorker
{
  GObject parent_instance;
};

static void sleep_worker_iface_init (GatherWorkerInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SleepWorker, sleep_worker, G_TYPE_OBJECT, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (GATHER_TYPE_WORKER,
                                                               sleep_worker_iface_init))

static const GatherParameter sleep_parameters[] = {
  { "ms", "u", "How long to sleep, in milliseconds", GATHER_PARAMETER_REQUIRED },
  { "value", "*", "What to return, of any type; by default, the number of milliseconds slept", GATHER_PARAMETER_NONE },
};

typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean cancelled;
} Waiter;

static void
waiter_cancelled (GCancellable *cancellable,
                  gpointer      data)
{
  Waiter *waiter = data;

  g_mutex_lock (&waiter->mutex);
  waiter->cancelled = TRUE;
  g_cond_signal (&waiter->cond);
  g_mutex_unlock (&waiter->mutex);
}

/* Sleeps @msec, waking at once if @cancellable is cancelled. */
static gboolean
sleep_cancellably (guint         msec,
                   GCancellable *cancellable,
                   GError      **error)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;
  Waiter waiter = { 0 };
  gulong id;

  g_mutex_init (&waiter.mutex);
  g_cond_init (&waiter.cond);

  /* Runs the handler at once if the cancellable is cancelled already. */
  id = g_cancellable_connect (cancellable, G_CALLBACK (waiter_cancelled), &waiter, NULL);

  g_mutex_lock (&waiter.mutex);
  while (!waiter.cancelled && g_cond_wait_until (&waiter.cond, &waiter.mutex, end))
    ;
  g_mutex_unlock (&waiter.mutex);

  /* Waits for a handler running on another thread: the waiter is ours. */
  g_cancellable_disconnect (cancellable, id);
  g_mutex_clear (&waiter.mutex);
  g_cond_clear (&waiter.cond);

  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static GVariant *
sleep_worker_run (GatherWorker  *worker,
                  GVariant      *parameters,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (parameters, "value", NULL);
  guint32 msec = 0;

  g_variant_lookup (parameters, "ms", "u", &msec);

  if (!sleep_cancellably (msec, cancellable, error))
    return NULL;

  return g_variant_new_variant (value != NULL ? value : g_variant_new_uint32 (msec));
}

static void
sleep_worker_iface_init (GatherWorkerInterface *iface)
{
  iface->name = "sleep";
  iface->description = "Waits the given time, waking at once when cancelled, "
                       "then returns a value";
  iface->parameter_type = "a{sv}";
  iface->parameters = sleep_parameters;
  iface->n_parameters = G_N_ELEMENTS (sleep_parameters);
  iface->result_type = "v";
  iface->run = sleep_worker_run;
}

static void
sleep_worker_class_init (SleepWorkerClass *klass)
{
}

static void
sleep_worker_class_finalize (SleepWorkerClass *klass)
{
}

static void
sleep_worker_init (SleepWorker *self)
{
}

static void
sleep_register (GatherPluginModule *module)
{
  sleep_worker_register_type (G_TYPE_MODULE (module));
  gather_plugin_module_add_worker (module, SLEEP_TYPE_WORKER);
}

GATHER_PLUGIN_DEFINE (sleep, "Waits, then returns a value: the seed's fetch_user()", sleep_register)
