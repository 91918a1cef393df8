/* gather-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-pool-private.h"
#include "gather-runner-private.h"

#define DEFAULT_MAX_REPLACEMENT_THREADS 64

/**
 * GatherPool:
 *
 * The threads that run the task bodies of one or more [class@Gather.Group]s.
 *
 * A pool wraps a [struct@GLib.ThreadPool] (non-exclusive, so idle threads are
 * shared with the rest of the process). Every group uses a pool: its own,
 * created when it runs with as many threads as there are processors, or one
 * set with [method@Gather.Group.set_pool], which several groups can share.
 * The tasks of all the groups on one pool run in submission order, at most
 * [property@Gather.Pool:max-threads] at a time.
 *
 * Blocking work (I/O, sleeps, child processes) usually wants more threads
 * than processors; CPU-bound work wants about one per processor.
 *
 * ## Replacement threads
 *
 * A task body that ignores its cancellable keeps its thread after the group
 * has given up on it (see [property@Gather.Group:grace-period]). So that such
 * a task does not shrink the pool for the rest of the run, the pool starts
 * one replacement thread for each abandoned task, and retires it when the
 * task finally returns. At most
 * [property@Gather.Pool:max-replacement-threads] replacements exist at once;
 * past that cap an abandoned task does hold its thread until it returns.
 *
 * All methods are thread-safe. Property notifications are emitted on the
 * thread that changed the property.
 *
 * Since: 1.0
 */
struct _GatherPool
{
  GObject      parent_instance;

  GMutex       mutex;
  GThreadPool *thread_pool;              /* owned; set at construction */
  guint        max_threads;              /* guarded by mutex */
  guint        max_replacement_threads;  /* guarded by mutex */
  guint        n_replacement_threads;    /* guarded by mutex */
};

enum {
  PROP_0,
  PROP_MAX_THREADS,
  PROP_MAX_REPLACEMENT_THREADS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (GatherPool, gather_pool, G_TYPE_OBJECT)

static void
gather_pool_thread (gpointer data,
                    gpointer user_data)
{
  gather_thread_runner_run (data);
}

/* Called with the mutex held. */
static void
gather_pool_apply_locked (GatherPool *self)
{
  g_autoptr(GError) error = NULL;

  if (!g_thread_pool_set_max_threads (self->thread_pool,
                                      self->max_threads + self->n_replacement_threads,
                                      &error))
    g_warning ("Could not start a pool thread: %s", error->message);
}

static void
gather_pool_finalize (GObject *object)
{
  GatherPool *self = (GatherPool *)object;

  /* Every group holds a reference while it has tasks in the pool, so
   * nothing is queued here; do not wait for threads to wind down. */
  g_thread_pool_free (self->thread_pool, FALSE, FALSE);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (gather_pool_parent_class)->finalize (object);
}

static void
gather_pool_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  GatherPool *self = GATHER_POOL (object);

  switch (prop_id)
    {
    case PROP_MAX_THREADS:
      g_value_set_uint (value, gather_pool_get_max_threads (self));
      break;

    case PROP_MAX_REPLACEMENT_THREADS:
      g_value_set_uint (value, gather_pool_get_max_replacement_threads (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gather_pool_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  GatherPool *self = GATHER_POOL (object);

  switch (prop_id)
    {
    case PROP_MAX_THREADS:
      gather_pool_set_max_threads (self, g_value_get_uint (value));
      break;

    case PROP_MAX_REPLACEMENT_THREADS:
      gather_pool_set_max_replacement_threads (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gather_pool_class_init (GatherPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gather_pool_finalize;
  object_class->get_property = gather_pool_get_property;
  object_class->set_property = gather_pool_set_property;

  /**
   * GatherPool:max-threads:
   *
   * How many tasks the pool runs at once, not counting replacement threads.
   * Setting 0 means the number of processors.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_THREADS] =
    g_param_spec_uint ("max-threads", NULL, NULL,
                       0, G_MAXINT / 2, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_CONSTRUCT |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherPool:max-replacement-threads:
   *
   * The most threads the pool starts, on top of
   * [property@Gather.Pool:max-threads], to replace threads held by tasks
   * that ignored their cancellation and were abandoned. 0 disables
   * replacement. The default is 64.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_REPLACEMENT_THREADS] =
    g_param_spec_uint ("max-replacement-threads", NULL, NULL,
                       0, G_MAXINT / 2, DEFAULT_MAX_REPLACEMENT_THREADS,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gather_task_record_init_once ();
}

static void
gather_pool_init (GatherPool *self)
{
  g_mutex_init (&self->mutex);
  self->max_threads = g_get_num_processors ();
  self->max_replacement_threads = DEFAULT_MAX_REPLACEMENT_THREADS;
  self->thread_pool = g_thread_pool_new (gather_pool_thread, NULL,
                                         self->max_threads, FALSE, NULL);
}

/**
 * gather_pool_new:
 * @max_threads: how many tasks to run at once, or 0 for the number of
 *   processors
 *
 * Creates a pool of threads for [class@Gather.Group]s. Threads are
 * started when tasks arrive, not before.
 *
 * Returns: (transfer full): a new [class@Gather.Pool]
 *
 * Since: 1.0
 */
GatherPool *
gather_pool_new (guint max_threads)
{
  return g_object_new (GATHER_TYPE_POOL,
                       "max-threads", max_threads,
                       NULL);
}

/**
 * gather_pool_get_max_threads:
 * @self: a [class@Gather.Pool]
 *
 * Gets [property@Gather.Pool:max-threads]. Thread-safe.
 *
 * Returns: how many tasks the pool runs at once
 *
 * Since: 1.0
 */
guint
gather_pool_get_max_threads (GatherPool *self)
{
  guint ret;

  g_return_val_if_fail (GATHER_IS_POOL (self), 0);

  g_mutex_lock (&self->mutex);
  ret = self->max_threads;
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * gather_pool_set_max_threads:
 * @self: a [class@Gather.Pool]
 * @max_threads: how many tasks to run at once, or 0 for the number of
 *   processors
 *
 * Sets [property@Gather.Pool:max-threads]. Takes effect at once: more
 * threads start if tasks are waiting; surplus threads leave when their
 * current task returns. Thread-safe.
 *
 * Since: 1.0
 */
void
gather_pool_set_max_threads (GatherPool *self,
                             guint       max_threads)
{
  gboolean changed;

  g_return_if_fail (GATHER_IS_POOL (self));
  g_return_if_fail (max_threads <= G_MAXINT / 2);

  if (max_threads == 0)
    max_threads = g_get_num_processors ();

  g_mutex_lock (&self->mutex);
  changed = self->max_threads != max_threads;
  self->max_threads = max_threads;
  if (changed)
    gather_pool_apply_locked (self);
  g_mutex_unlock (&self->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_THREADS]);
}

/**
 * gather_pool_get_max_replacement_threads:
 * @self: a [class@Gather.Pool]
 *
 * Gets [property@Gather.Pool:max-replacement-threads]. Thread-safe.
 *
 * Returns: the cap on replacement threads
 *
 * Since: 1.0
 */
guint
gather_pool_get_max_replacement_threads (GatherPool *self)
{
  guint ret;

  g_return_val_if_fail (GATHER_IS_POOL (self), 0);

  g_mutex_lock (&self->mutex);
  ret = self->max_replacement_threads;
  g_mutex_unlock (&self->mutex);

  return ret;
}

/**
 * gather_pool_set_max_replacement_threads:
 * @self: a [class@Gather.Pool]
 * @max_replacement_threads: the cap on replacement threads, 0 for none
 *
 * Sets [property@Gather.Pool:max-replacement-threads]. Replacement threads
 * that already exist are kept until their abandoned task returns.
 * Thread-safe.
 *
 * Since: 1.0
 */
void
gather_pool_set_max_replacement_threads (GatherPool *self,
                                         guint       max_replacement_threads)
{
  gboolean changed;

  g_return_if_fail (GATHER_IS_POOL (self));
  g_return_if_fail (max_replacement_threads <= G_MAXINT / 2);

  g_mutex_lock (&self->mutex);
  changed = self->max_replacement_threads != max_replacement_threads;
  self->max_replacement_threads = max_replacement_threads;
  g_mutex_unlock (&self->mutex);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_REPLACEMENT_THREADS]);
}

/**
 * gather_pool_get_n_replacement_threads:
 * @self: a [class@Gather.Pool]
 *
 * Gets how many replacement threads the pool runs now: one for each
 * abandoned task whose body has not returned yet, up to
 * [property@Gather.Pool:max-replacement-threads]. Thread-safe; the value
 * can change at any time, so this is not a property.
 *
 * Returns: the number of replacement threads
 *
 * Since: 1.0
 */
guint
gather_pool_get_n_replacement_threads (GatherPool *self)
{
  guint ret;

  g_return_val_if_fail (GATHER_IS_POOL (self), 0);

  g_mutex_lock (&self->mutex);
  ret = self->n_replacement_threads;
  g_mutex_unlock (&self->mutex);

  return ret;
}

/* Queues a task; the pool's queue borrows the record. */
void
gather_pool_push (GatherPool       *self,
                  GatherTaskRecord *record)
{
  g_autoptr(GError) error = NULL;

  /* On failure GLib keeps the task queued for the threads that exist. */
  if (!g_thread_pool_push (self->thread_pool, record, &error))
    g_warning ("Could not start a pool thread: %s", error->message);
}

/* A task was abandoned on one of our threads: start a replacement if the
 * cap allows. Returns TRUE if it did; then call end_replacement() once the
 * task returns. */
gboolean
gather_pool_begin_replacement (GatherPool *self)
{
  gboolean ret = FALSE;

  g_mutex_lock (&self->mutex);
  if (self->n_replacement_threads < self->max_replacement_threads)
    {
      self->n_replacement_threads++;
      gather_pool_apply_locked (self);
      ret = TRUE;
    }
  g_mutex_unlock (&self->mutex);

  return ret;
}

void
gather_pool_end_replacement (GatherPool *self)
{
  g_mutex_lock (&self->mutex);
  g_assert (self->n_replacement_threads > 0);
  self->n_replacement_threads--;
  gather_pool_apply_locked (self);
  g_mutex_unlock (&self->mutex);
}
