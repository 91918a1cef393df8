/* gather-pool.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-inbox-private.h"
#include "gather-pool-private.h"
#include "gather-runner-private.h"
#include "gather-sched-private.h"

/* Measured with gather-bench --sections storm: a 4-thread pool, 1,000
 * tasks of which 30% ignore cancellation for 5 s. With a cap of 64 the run
 * took 27.6 s (27.4-28.5, 5 runs), with 256 or 1,024 9.0 s; see the Pool
 * documentation. */
#define DEFAULT_MAX_REPLACEMENT_THREADS 1024

/* How long an idle thread waits for a task before it exits, and how many
 * wait at most: the others exit at once. A burst of tasks on a pool whose
 * thousands of threads all waited woke them all at once (gather-bench's
 * lateness section: the timer thread, waiting for a CPU and its lock among
 * them, fired 0.5 to 2.4 s late); starting threads one after the other
 * does not (15 ms). */
#define IDLE_USEC (10 * G_USEC_PER_SEC)
#define MAX_IDLE_THREADS 8

/*
 * The threads and their queue. Not a GThreadPool: its push allocates a
 * list node (GSlice, whose magazines the owner and the pool threads then
 * pass back and forth under a global lock) and its threads go through a
 * GAsyncQueue; together about 700 instructions per task (callgrind), where
 * a queue linked through the records themselves costs about 150.
 *
 * The core outlives the GatherPool object: each thread holds a reference,
 * so finalizing the pool never waits for a thread. Records are borrowed
 * (see gather_pool_push()).
 */
typedef struct
{
  gint              ref_count;  /* atomic: the pool object and each thread */
  GMutex            mutex;
  GCond             cond;
  GatherTaskRecord *head;       /* guarded: queued records, oldest first */
  GatherTaskRecord *tail;       /* guarded */
  guint             n_queued;   /* guarded */
  guint             n_threads;  /* guarded: threads alive */
  guint             n_idle;     /* guarded: threads waiting for a task */
  guint             n_woken;    /* guarded: signals not yet taken by a waiter;
                                 * at most n_idle */
  guint             max;        /* guarded: max-threads plus replacements */
  gboolean          spawning;   /* guarded: a thread is being started */
  gboolean          dying;      /* guarded: the pool object is gone */
} PoolCore;

/**
 * GatherPool:
 *
 * The threads that run the task bodies of one or more [class@Gather.Group]s.
 *
 * A pool has threads of its own, started when tasks wait for one (one at a
 * time: each new thread starts the next), and leaving after 10 seconds
 * without a task or, when [property@Gather.Pool:max-threads] goes down,
 * once their task returns. It keeps no thread alive that it does not
 * need and shares none with [struct@GLib.ThreadPool]s. Every group uses a
 * pool: its own,
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
 * one replacement thread for each abandoned task, and retires one thread
 * once the task has returned and the group's context has seen it (a
 * thread may take one more queued task in between). At most
 * [property@Gather.Pool:max-replacement-threads] replacements exist at once;
 * past that cap an abandoned task does hold its thread until it returns.
 *
 * The cap is a trade-off between capacity and threads. Every abandoned body
 * holds a thread whatever the cap; a replacement adds one more, so with
 * bodies that never return the process has up to twice as many threads as
 * stuck bodies. Below the cap the pool keeps its full capacity: on a
 * 4-thread pool running 1,000 tasks of which 30% ignore their cancellation
 * for 5 s, the run took 9 s with a cap of 256 or more and 27.6 s with a cap
 * of 64, whose threads the stuck bodies held. The default, 1,024, keeps the
 * capacity for storms of that size and bounds the threads a process of
 * bodies that never return can gain. Set it lower where threads are scarce,
 * or to 0 to never replace.
 *
 * ## Scheduling
 *
 * On Linux the pool's threads run under `SCHED_BATCH`: the same share of
 * the CPU as other threads at the same nice value, but a body that wakes
 * up waits for the running thread's time slice instead of preempting it.
 * The threads that keep deadlines (gather's timer thread, which cancels
 * timed-out bodies) and the application's own threads, its main loop
 * among them, keep `SCHED_OTHER`, so the bodies they wake do not push them
 * back: with 10,000 timed thread bodies on 2 processors, timeouts were
 * issued several times later without it (see the README's performance
 * section). Threads and processes that a body starts inherit its policy; a
 * body that needs prompt wake-ups can call `sched_setscheduler()` on its
 * own thread, which keeps the new policy for the later tasks it runs.
 * Isolated plugin workers run under `SCHED_BATCH` in their helper
 * processes too.
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
  PoolCore    *core;                     /* owned; set at construction */
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

static PoolCore *
pool_core_new (void)
{
  PoolCore *core = g_new0 (PoolCore, 1);

  core->ref_count = 1;
  g_mutex_init (&core->mutex);
  g_cond_init (&core->cond);

  return core;
}

static void
pool_core_unref (PoolCore *core)
{
  if (!g_atomic_int_dec_and_test (&core->ref_count))
    return;

  g_assert (core->head == NULL);
  g_mutex_clear (&core->mutex);
  g_cond_clear (&core->cond);
  g_free (core);
}

static gpointer pool_thread (gpointer data);

/* With the core's lock held: wakes idle threads for the tasks that no
 * thread will take otherwise. Returns how many threads are on their way
 * to the queue. */
static guint
pool_core_wake_locked (PoolCore *core)
{
  /* Threads on their way to the queue: woken ones, and one starting. */
  guint coming = core->n_woken + (core->spawning ? 1 : 0);

  /* At most MAX_IDLE_THREADS wait, so this wakes a handful at most. */
  while (core->n_queued > coming && core->n_idle > core->n_woken)
    {
      core->n_woken++;
      coming++;
      g_cond_signal (&core->cond);
    }

  return coming;
}

/*
 * With the core's lock held: wakes idle threads as above, and says whether
 * to start one more thread (then the caller calls pool_core_spawn() once
 * it has unlocked).
 *
 * Threads are started one at a time, and each new thread starts the next
 * if tasks still wait: the thread that pushes a burst of tasks pays for
 * one thread creation, not one per thread (a pool of 10,000 threads, as
 * gather-bench's lateness section makes, would hold the owner's context
 * for about half a second).
 */
static gboolean
pool_core_serve_locked (PoolCore *core)
{
  guint coming = pool_core_wake_locked (core);

  if (core->n_queued > coming && core->n_threads < core->max && !core->spawning)
    {
      core->spawning = TRUE;
      core->n_threads++;
      g_atomic_int_inc (&core->ref_count);
      return TRUE;
    }

  return FALSE;
}

/* Without the core's lock: starts the thread pool_core_serve_locked()
 * asked for. */
static void
pool_core_spawn (PoolCore *core)
{
  g_autoptr(GError) error = NULL;
  GThread *thread;

  thread = g_thread_try_new ("gather-pool", pool_thread, core, &error);
  if (thread != NULL)
    {
      g_thread_unref (thread);
      return;
    }

  /* An idle thread takes the task it was to take, or a thread that is
   * busy takes it later; the next push tries to start one again. */
  g_warning ("Could not start a pool thread: %s", error->message);
  g_mutex_lock (&core->mutex);
  core->spawning = FALSE;
  core->n_threads--;
  pool_core_wake_locked (core);
  g_mutex_unlock (&core->mutex);
  pool_core_unref (core);
}

/* With the core's lock held, in a thread about to take a task: wakes or
 * starts the next thread for the tasks after that one. May drop the lock
 * while it starts a thread. */
static void
pool_core_pass_on_locked (PoolCore *core)
{
  gboolean spawn;

  if (core->n_queued == 0)
    return;

  core->n_queued--;
  spawn = pool_core_serve_locked (core);
  core->n_queued++;

  if (spawn)
    {
      g_mutex_unlock (&core->mutex);
      pool_core_spawn (core);
      g_mutex_lock (&core->mutex);
    }
}

static gpointer
pool_thread (gpointer data)
{
  PoolCore *core = data;
  gboolean spawn;

  gather_inbox_mark_thread ();
  gather_sched_set_batch (TRUE);

  g_mutex_lock (&core->mutex);
  /* Started, for a task: start the next thread, if tasks still wait for
   * one besides that. */
  core->spawning = FALSE;
  pool_core_pass_on_locked (core);

  for (;;)
    {
      GatherTaskRecord *record;

      /* Surplus threads leave when the maximum went down. */
      if (core->n_threads > core->max)
        break;

      record = core->head;
      if (record == NULL)
        {
          gboolean signalled;

          if (core->dying || core->n_idle >= MAX_IDLE_THREADS)
            break;

          core->n_idle++;
          signalled = g_cond_wait_until (&core->cond, &core->mutex,
                                         g_get_monotonic_time () + IDLE_USEC);
          core->n_idle--;
          /* Whatever woke it (a signal, the timeout, nothing), it takes
           * one signal off the count: counting short only costs a
           * spare wake-up, counting long could leave a task waiting. */
          if (core->n_woken > 0)
            core->n_woken--;
          if (!signalled && core->head == NULL)
            break;
          pool_core_pass_on_locked (core);
          continue;
        }

      core->head = record->pool_next;
      if (core->head == NULL)
        core->tail = NULL;
      record->pool_next = NULL;
      core->n_queued--;
      g_mutex_unlock (&core->mutex);

      gather_thread_runner_run (record);

      g_mutex_lock (&core->mutex);
    }
  core->n_threads--;
  /* Another thread may have to take over what this one leaves. */
  spawn = pool_core_serve_locked (core);
  g_mutex_unlock (&core->mutex);

  if (spawn)
    pool_core_spawn (core);
  pool_core_unref (core);

  return NULL;
}

/* Called with the mutex held. Returns whether to call pool_core_spawn()
 * once the mutex is released. */
static gboolean
gather_pool_apply_locked (GatherPool *self)
{
  PoolCore *core = self->core;
  gboolean spawn;

  g_mutex_lock (&core->mutex);
  core->max = self->max_threads + self->n_replacement_threads;
  /* Idle threads beyond the new maximum leave now, not 10 s later. */
  if (core->n_threads > core->max && core->n_idle > 0)
    g_cond_broadcast (&core->cond);
  spawn = pool_core_serve_locked (core);
  g_mutex_unlock (&core->mutex);

  return spawn;
}

static void
gather_pool_finalize (GObject *object)
{
  GatherPool *self = (GatherPool *)object;

  /* Every group holds a reference while it has tasks in the pool, so
   * nothing is queued here; do not wait for threads to wind down. */
  g_mutex_lock (&self->core->mutex);
  g_assert (self->core->head == NULL);
  self->core->dying = TRUE;
  g_cond_broadcast (&self->core->cond);
  g_mutex_unlock (&self->core->mutex);
  pool_core_unref (self->core);
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
   * replacement. The default is 1,024 (see the trade-off in
   * [class@Gather.Pool]).
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
  self->core = pool_core_new ();
  self->core->max = self->max_threads;
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
  gboolean spawn = FALSE;

  g_return_if_fail (GATHER_IS_POOL (self));
  g_return_if_fail (max_threads <= G_MAXINT / 2);

  if (max_threads == 0)
    max_threads = g_get_num_processors ();

  g_mutex_lock (&self->mutex);
  changed = self->max_threads != max_threads;
  self->max_threads = max_threads;
  if (changed)
    spawn = gather_pool_apply_locked (self);
  g_mutex_unlock (&self->mutex);

  if (spawn)
    pool_core_spawn (self->core);

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

/* Queues a task; the pool's queue borrows the record. Tasks start in the
 * order they were pushed. */
void
gather_pool_push (GatherPool       *self,
                  GatherTaskRecord *record)
{
  PoolCore *core = self->core;
  gboolean spawn = FALSE;

  g_assert (record->pool_next == NULL);

  g_mutex_lock (&core->mutex);
  if (core->tail != NULL)
    core->tail->pool_next = record;
  else
    core->head = record;
  core->tail = record;
  core->n_queued++;
  spawn = pool_core_serve_locked (core);
  g_mutex_unlock (&core->mutex);

  if (spawn)
    pool_core_spawn (core);
}

/* A task was abandoned on one of our threads: start a replacement if the
 * cap allows. Returns TRUE if it did; then call end_replacement() once the
 * task returns. */
gboolean
gather_pool_begin_replacement (GatherPool *self)
{
  gboolean ret = FALSE;
  gboolean spawn = FALSE;

  g_mutex_lock (&self->mutex);
  if (self->n_replacement_threads < self->max_replacement_threads)
    {
      self->n_replacement_threads++;
      spawn = gather_pool_apply_locked (self);
      ret = TRUE;
    }
  g_mutex_unlock (&self->mutex);

  if (spawn)
    pool_core_spawn (self->core);

  return ret;
}

void
gather_pool_end_replacement (GatherPool *self)
{
  gboolean spawn;

  g_mutex_lock (&self->mutex);
  g_assert (self->n_replacement_threads > 0);
  self->n_replacement_threads--;
  spawn = gather_pool_apply_locked (self);
  g_mutex_unlock (&self->mutex);

  if (spawn)
    pool_core_spawn (self->core);
}
