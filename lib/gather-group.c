/* gather-group.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-enums.h"
#include "gather-error.h"
#include "gather-group-private.h"
#include "gather-outcome-private.h"
#include "gather-pool.h"
#include "gather-run-private.h"
#include "gather-runner-private.h"
#include "gather-task-list-private.h"
#include "gather-task-private.h"
#include "gather-worker-private.h"

#define DEFAULT_GRACE_MSEC 100

/**
 * GatherGroup:
 *
 * Runs tasks, each with its own timeout and [class@Gio.Cancellable], and
 * hands back one [struct@Gather.Outcome] per task: its result, its error,
 * or a timeout or cancellation marker. Tasks that time out are cancelled
 * one by one while the others carry on; this is Python's `asyncio.gather()`
 * over `wait_for()`-wrapped tasks, where a timeout does not throw away the
 * other results.
 *
 * ```c
 * g_autoptr(GatherGroup) group = gather_group_new ();
 * g_autoptr(GPtrArray) outcomes = NULL;
 *
 * gather_group_add_async_task (group, "user 1", 3000, fetch_user, GINT_TO_POINTER (1), NULL, NULL);
 * gather_group_add_task (group, "checksum", 3000, checksum_file, file, g_object_unref, NULL);
 * outcomes = gather_group_run (group, NULL, &error);
 * ```
 *
 * ## Kinds of tasks
 *
 * - [method@Gather.Group.add_async_task] adds an asynchronous operation
 *   that runs on the group's main context, as most GNOME I/O does
 *   (`_async()`/`_finish()` calls of GIO, libsoup, D-Bus, or promises in
 *   JavaScript). It holds no thread while it waits; see
 *   [struct@Gather.Completion]. This is how JavaScript gathers its own work.
 * - [method@Gather.Group.add_task] adds a body that runs on a thread of the
 *   group's [class@Gather.Pool], for blocking or CPU-bound work, from C,
 *   Python or Vala. JavaScript cannot run code on another thread.
 * - [method@Gather.Group.add_worker_task] runs a plugin
 *   [iface@Gather.Worker] by name, with plain-data parameters, on a pool
 *   thread; any language can use it.
 *
 * One group can mix all three; they share the group's timeouts, deadline,
 * policy, [property@Gather.Group:max-concurrent] and progress.
 *
 * ## Main context and threads
 *
 * A group belongs to the thread-default [struct@GLib.MainContext] of the
 * thread that creates it. Every signal, property notification, callback,
 * async task start function and [callback@GLib.DestroyNotify] of user data
 * is delivered there, never on another thread: this is what makes the group
 * safe to use from GJS, Python and GTK code. Call the group's methods from
 * the thread that runs that context (or, before it runs, the thread that
 * created the group); [method@Gather.Group.run] is the exception and may be
 * called from any thread.
 *
 * ## Timeouts and stops
 *
 * A task's own timeout is counted from when it starts. The group's
 * [property@Gather.Group:deadline] is counted from when the run starts. A
 * run also stops when its cancellable is cancelled or when its
 * [property@Gather.Group:policy] says so.
 *
 * When a task's timeout expires, or the run stops, the task's outcome is
 * recorded at once, without waiting for its body, and its cancellable is
 * cancelled: a thread body's from gather's timer thread (or the thread that
 * stopped the run), so even a busy main context does not delay it; an
 * async task's on the group's main context. From the moment a stop is
 * decided, on whatever thread, no task that has not started yet starts:
 * each ends [enum@Gather.Status.TIMEOUT] (the deadline) or
 * [enum@Gather.Status.CANCELLED] (a cancelled run, or the policy), and so
 * does each running one.
 *
 * A task that ignores its cancellation therefore cannot hold the group past
 * its timeout or the deadline. If its body has not returned
 * [property@Gather.Group:grace-period] after it was cancelled, its outcome
 * is marked [method@Gather.Outcome.get_abandoned] and the pool replaces the
 * thread it holds (see [class@Gather.Pool]); whatever it returns at last is
 * freed unseen, and its user data destroyed on the group's main context.
 * The group stays alive until then; if that context is never iterated
 * again (its thread exited), the group, the late result and the user data
 * are never freed.
 *
 * ## Progress
 *
 * [signal@Gather.Group::task-finished] streams outcomes as they are
 * recorded, in completion order. [property@Gather.Group:n-finished],
 * [property@Gather.Group:fraction] and [property@Gather.Group:n-running]
 * can be bound to a progress bar or a status line; they are up to date
 * whenever one of them is notified, and the getters always return the
 * current value. Notifications are batched: one per dispatch of the group's
 * main context, after the task-finished emissions of that batch.
 * [signal@Gather.Group::finished] comes last, once every task has an
 * outcome.
 *
 * ## Tasks as objects, tasks added late, retries, priorities
 *
 * [property@Gather.Group:tasks] is a [iface@Gio.ListModel] of
 * [class@Gather.Task]: one live object per task, for a `GtkColumnView` or
 * any code that wants a task's state as it changes. An
 * [property@Gather.Group:open] group takes tasks while it runs, and
 * finishes once closed. A [class@Gather.RetryPolicy] tries failed attempts
 * again, and a task's [property@Gather.Task:priority] decides which queued
 * task starts first.
 *
 * A group runs once.
 *
 * Since: 1.0
 */

struct _GatherGroup
{
  GObject           parent_instance;

  /* Immutable after construction. */
  GMainContext     *context;           /* thread-default at creation */
  GThread          *creator;           /* the thread that created the group */

  /* Everything below: the owner's context only. Settings are frozen once
   * the run starts. */
  GatherPool       *pool;              /* NULL until set, or until run */
  GatherRegistry   *registry;          /* NULL: the default registry */
  GatherPolicy      policy;
  guint             quorum;
  guint             deadline_msec;
  guint             max_concurrent;
  guint             grace_msec;
  GatherRetryPolicy *retry_policy;     /* NULL: no retries */
  gboolean          open;              /* until the run starts; then the
                                        * run's */
  gboolean          has_priorities;    /* a task's priority was set */
  gboolean          ran_open;          /* it was open when the run started */
  gboolean          isolate_workers;

  GPtrArray        *records;           /* GatherTaskRecord, or NULL while a
                                        * task is only its spec; until the
                                        * run takes them */
  GatherTaskSpecs   specs;             /* one per task added before the
                                        * run; until the run takes them */
  GatherSlab        record_slab;       /* where records are allocated */
  guint             n_tasks;
  GatherTaskList   *task_list;         /* owned; NULL until asked for */
  GatherRun        *run;               /* from run_async() on */
  GTask            *run_task;          /* while running */
};

enum {
  PROP_0,
  PROP_POOL,
  PROP_REGISTRY,
  PROP_POLICY,
  PROP_QUORUM,
  PROP_DEADLINE,
  PROP_MAX_CONCURRENT,
  PROP_GRACE_PERIOD,
  PROP_ISOLATE_WORKERS,
  PROP_N_TASKS,
  PROP_N_FINISHED,
  PROP_FRACTION,
  PROP_N_RUNNING,
  PROP_TASKS,
  PROP_OPEN,
  PROP_RETRY_POLICY,
  N_PROPS
};

enum {
  TASK_FINISHED,
  FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];
static guint notify_signal;

G_DEFINE_FINAL_TYPE (GatherGroup, gather_group, G_TYPE_OBJECT)

static gboolean
gather_group_is_thread_default (GatherGroup *self)
{
  GMainContext *context = g_main_context_get_thread_default ();

  return (context != NULL ? context : g_main_context_default ()) == self->context;
}

#define gather_group_return_if_not_owner(self)                                  \
  G_STMT_START {                                                                \
    if (!gather_group_is_thread_default (self))                                 \
      {                                                                         \
        g_critical ("%s: a GatherGroup must be used from the thread whose "     \
                    "thread-default main context was current when the group "   \
                    "was created", G_STRFUNC);                                  \
        return;                                                                 \
      }                                                                         \
  } G_STMT_END

#define gather_group_return_if_started(self)                                    \
  G_STMT_START {                                                                \
    if ((self)->run != NULL)                                                    \
      {                                                                         \
        g_critical ("%s: the group's tasks and settings cannot change once "    \
                    "it has started running", G_STRFUNC);                       \
        return;                                                                 \
      }                                                                         \
  } G_STMT_END

/* ---- What the run reports, on the owner's context ---- */

void
gather_group_emit_task_finished (GatherGroup   *self,
                                 GatherOutcome *outcome)
{
  g_signal_emit (self, signals[TASK_FINISHED], 0, outcome);
}

/* Whether anything listens to notifications of @pspec: a handler for
 * notify::NAME or for notify, a binding, a GTK expression. A query with a
 * detail also matches handlers connected without one. */
static gboolean
gather_group_watches (GatherGroup *self,
                      GParamSpec  *pspec)
{
  return g_signal_has_handler_pending (self, notify_signal, g_param_spec_get_name_quark (pspec), FALSE);
}

/*
 * Notifies what changed. An async operation that completes alone in its
 * main-loop iteration pays this in full, so it is done the cheapest way
 * (callgrind): a notification nobody listens to costs GObject about 75
 * instructions, asking g_signal_has_handler_pending() first about 190, and
 * a freeze and thaw of the notification queue more than both.
 *
 * Only if @ask_watched is it asked whether anything listens to n-running:
 * the answer matters only to pool threads (see gather_inbox_watch_running()).
 *
 * Returns: whether anything listens to n-running, after the handlers ran;
 *   FALSE if not asked
 */
gboolean
gather_group_notify_progress (GatherGroup *self,
                              gboolean     finished_changed,
                              gboolean     running_changed,
                              gboolean     ask_watched)
{
  GObject *object = (GObject *) self;

  if (finished_changed)
    {
      g_object_notify_by_pspec (object, properties[PROP_N_FINISHED]);
      g_object_notify_by_pspec (object, properties[PROP_FRACTION]);
    }
  if (running_changed)
    g_object_notify_by_pspec (object, properties[PROP_N_RUNNING]);

  /* The handlers may have connected or disconnected others. */
  return ask_watched && gather_group_watches_n_running (self);
}

/* Whether anything listens to n-running: only then do pool threads wake
 * the owner when tasks start, so that it can notify. */
gboolean
gather_group_watches_n_running (GatherGroup *self)
{
  return gather_group_watches (self, properties[PROP_N_RUNNING]);
}

/* The run asks once per batch of outcomes. */
gboolean
gather_group_watches_task_finished (GatherGroup *self)
{
  return g_signal_has_handler_pending (self, signals[TASK_FINISHED], 0, FALSE);
}

void
gather_group_complete (GatherGroup *self,
                       GPtrArray   *outcomes)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->run_task);
  GPtrArray *copy;

  if (self->n_tasks == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);

  g_signal_emit (self, signals[FINISHED], 0, outcomes);

  /* The caller's own array, with its own references. */
  copy = g_ptr_array_copy (outcomes, (GCopyFunc) (void (*) (void)) gather_outcome_ref, NULL);
  g_ptr_array_set_free_func (copy, (GDestroyNotify) gather_outcome_unref);
  g_task_return_pointer (task, copy, (GDestroyNotify) g_ptr_array_unref);
}

/* The run stopped, which closes the group. */
void
gather_group_notify_closed (GatherGroup *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPEN]);
}

GatherTaskList *
gather_group_peek_task_list (GatherGroup *self)
{
  return self->task_list;
}

/* Before the run: the record of task @index, made from its spec now if
 * need be (see GatherTaskSpec). */
static GatherTaskRecord *
gather_group_record_at (GatherGroup *self,
                        guint        index)
{
  /* Adding a task does not grow records[]: most never need one here. */
  if (self->records->len < self->n_tasks)
    g_ptr_array_set_size (self->records, self->n_tasks);

  return gather_task_record_at (self->records, &self->specs, &self->record_slab, index);
}

/* For the model: a task object for @index, from its state now. */
GatherTask *
gather_group_create_task (GatherGroup *self,
                          guint        index)
{
  GatherTaskRecord *record;
  GatherTask *task;

  g_assert (index < self->n_tasks);

  if (self->run != NULL)
    return gather_run_create_task (self->run, index);

  record = gather_group_record_at (self, index);
  task = gather_task_new (self, index, record->runner->kind, record->label,
                          record->priority, record->retry);
  gather_task_clear_pending (task);
  /* Its start is to be seen: see gather_task_record_begin(). */
  g_atomic_int_set (&record->watched, TRUE);

  return task;
}

void
gather_group_set_task_priority (GatherGroup *self,
                                guint        index,
                                gint         priority)
{
  GatherTaskRecord *record;

  if (self->run != NULL)
    {
      gather_run_set_priority (self->run, index, priority);
      return;
    }

  record = gather_group_record_at (self, index);
  record->priority = priority;
  self->has_priorities = TRUE;
}

void
gather_group_set_task_retry_policy (GatherGroup       *self,
                                    guint              index,
                                    GatherRetryPolicy *policy)
{
  if (self->run != NULL)
    gather_run_set_retry_policy (self->run, index, policy);
  else
    g_set_object (&gather_group_record_at (self, index)->retry, policy);
}

/* ---- GObject ---- */

typedef struct
{
  gpointer       data;
  GDestroyNotify destroy;
} PendingDestroy;

static gboolean
gather_group_run_destroys (gpointer user_data)
{
  GArray *destroys = user_data;

  for (guint i = 0; i < destroys->len; i++)
    {
      PendingDestroy *pending = &g_array_index (destroys, PendingDestroy, i);

      pending->destroy (pending->data);
    }

  return G_SOURCE_REMOVE;
}

static void
gather_group_finalize (GObject *object)
{
  GatherGroup *self = (GatherGroup *)object;
  g_autoptr(GArray) destroys = NULL;

  /* A model somebody else keeps gets every task, as it is now. */
  if (self->task_list != NULL)
    {
      gather_task_list_detach (self->task_list);
      g_clear_object (&self->task_list);
    }

  /* A run holds a reference until every record is released; what is left
   * here are tasks that never ran. */
  g_clear_pointer (&self->run, gather_run_free);

  for (guint i = 0; self->records != NULL && i < self->n_tasks; i++)
    {
      GatherTaskRecord *record = i < self->records->len ? g_ptr_array_index (self->records, i) : NULL;
      PendingDestroy pending;

      if (record != NULL)
        {
          pending.destroy = g_steal_pointer (&record->user_data_destroy);
          pending.data = g_steal_pointer (&record->user_data);
          gather_task_record_unref (record);
        }
      else
        {
          GatherTaskSpec *spec = &self->specs.items[i];

          pending.destroy = g_steal_pointer (&spec->user_data_destroy);
          pending.data = g_steal_pointer (&spec->user_data);
          g_free (spec->label);
        }

      if (pending.destroy == NULL)
        continue;
      if (destroys == NULL)
        destroys = g_array_new (FALSE, FALSE, sizeof (PendingDestroy));
      g_array_append_val (destroys, pending);
    }

  if (destroys != NULL)
    {
      if (gather_group_is_thread_default (self))
        {
          gather_group_run_destroys (destroys);
        }
      else
        {
          GSource *source = g_idle_source_new ();

          g_source_set_static_name (source, "[gather] destroy task data");
          g_source_set_priority (source, G_PRIORITY_DEFAULT);
          g_source_set_callback (source, gather_group_run_destroys,
                                 g_steal_pointer (&destroys),
                                 (GDestroyNotify) g_array_unref);
          g_source_attach (source, self->context);
          g_source_unref (source);
        }
    }

  g_clear_pointer (&self->records, g_ptr_array_unref);
  g_free (self->specs.items);
  gather_slab_clear (&self->record_slab);
  g_clear_object (&self->pool);
  g_clear_object (&self->registry);
  g_clear_object (&self->retry_policy);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->creator, g_thread_unref);

  G_OBJECT_CLASS (gather_group_parent_class)->finalize (object);
}

static void
gather_group_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  GatherGroup *self = GATHER_GROUP (object);

  switch (prop_id)
    {
    case PROP_POOL:
      g_value_set_object (value, self->pool);
      break;

    case PROP_REGISTRY:
      g_value_set_object (value, self->registry);
      break;

    case PROP_POLICY:
      g_value_set_enum (value, self->policy);
      break;

    case PROP_QUORUM:
      g_value_set_uint (value, self->quorum);
      break;

    case PROP_DEADLINE:
      g_value_set_uint (value, self->deadline_msec);
      break;

    case PROP_MAX_CONCURRENT:
      g_value_set_uint (value, self->max_concurrent);
      break;

    case PROP_GRACE_PERIOD:
      g_value_set_uint (value, self->grace_msec);
      break;

    case PROP_ISOLATE_WORKERS:
      g_value_set_boolean (value, self->isolate_workers);
      break;

    case PROP_N_TASKS:
      g_value_set_uint (value, gather_group_get_n_tasks (self));
      break;

    case PROP_N_FINISHED:
      g_value_set_uint (value, gather_group_get_n_finished (self));
      break;

    case PROP_FRACTION:
      g_value_set_double (value, gather_group_get_fraction (self));
      break;

    case PROP_N_RUNNING:
      g_value_set_uint (value, gather_group_get_n_running (self));
      break;

    case PROP_TASKS:
      g_value_set_object (value, gather_group_get_tasks (self));
      break;

    case PROP_OPEN:
      g_value_set_boolean (value, gather_group_get_open (self));
      break;

    case PROP_RETRY_POLICY:
      g_value_set_object (value, self->retry_policy);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gather_group_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  GatherGroup *self = GATHER_GROUP (object);

  switch (prop_id)
    {
    case PROP_POOL:
      gather_group_set_pool (self, g_value_get_object (value));
      break;

    case PROP_REGISTRY:
      gather_group_set_registry (self, g_value_get_object (value));
      break;

    case PROP_POLICY:
      gather_group_set_policy (self, g_value_get_enum (value));
      break;

    case PROP_QUORUM:
      gather_group_set_quorum (self, g_value_get_uint (value));
      break;

    case PROP_DEADLINE:
      gather_group_set_deadline (self, g_value_get_uint (value));
      break;

    case PROP_MAX_CONCURRENT:
      gather_group_set_max_concurrent (self, g_value_get_uint (value));
      break;

    case PROP_GRACE_PERIOD:
      gather_group_set_grace_period (self, g_value_get_uint (value));
      break;

    case PROP_OPEN:
      gather_group_set_open (self, g_value_get_boolean (value));
      break;

    case PROP_RETRY_POLICY:
      gather_group_set_retry_policy (self, g_value_get_object (value));
      break;

    case PROP_ISOLATE_WORKERS:
      gather_group_set_isolate_workers (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}


static void
gather_group_class_init (GatherGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gather_group_finalize;
  object_class->get_property = gather_group_get_property;
  object_class->set_property = gather_group_set_property;

  /**
   * GatherGroup:pool:
   *
   * The [class@Gather.Pool] whose threads run the group's tasks. `NULL`
   * until set or until the group runs, when the group creates its own pool
   * with one thread per processor. Set it before running to share a pool or
   * to size one for blocking work.
   *
   * Since: 1.0
   */
  properties[PROP_POOL] =
    g_param_spec_object ("pool", NULL, NULL,
                         GATHER_TYPE_POOL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:registry:
   *
   * Where [method@Gather.Group.add_worker_task] finds workers by name.
   * `NULL` (the default) means [func@Gather.Registry.get_default].
   *
   * Since: 1.0
   */
  properties[PROP_REGISTRY] =
    g_param_spec_object ("registry", NULL, NULL,
                         GATHER_TYPE_REGISTRY,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:policy:
   *
   * When the group stops waiting for the tasks it has left. See
   * [enum@Gather.Policy]. Set it before running.
   *
   * Since: 1.0
   */
  properties[PROP_POLICY] =
    g_param_spec_enum ("policy", NULL, NULL,
                       GATHER_TYPE_POLICY,
                       GATHER_POLICY_ALL,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:quorum:
   *
   * How many tasks must succeed under [enum@Gather.Policy.QUORUM]. Set it
   * before running.
   *
   * Since: 1.0
   */
  properties[PROP_QUORUM] =
    g_param_spec_uint ("quorum", NULL, NULL,
                       1, G_MAXUINT, 1,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:deadline:
   *
   * A timeout for the whole run, in milliseconds, counted from when the run
   * starts; 0 (the default) for none. When it expires every task that has
   * no outcome yet is cancelled and ends with [enum@Gather.Status.TIMEOUT]
   * and [error@Gather.Error.DEADLINE_EXCEEDED], like Python's
   * `asyncio.wait(timeout=)`. Set it before running.
   *
   * Since: 1.0
   */
  properties[PROP_DEADLINE] =
    g_param_spec_uint ("deadline", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:max-concurrent:
   *
   * The most tasks of this group that run at once, whatever the size of
   * its pool; 0 (the default) for no limit but the pool's. Thread bodies
   * and async operations count alike (an async task takes a slot while its
   * operation runs, but no thread); abandoned tasks (see
   * [method@Gather.Outcome.get_abandoned]) do not. The next task starts
   * once the group's main context has seen the previous one finish. Set it
   * before running.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_CONCURRENT] =
    g_param_spec_uint ("max-concurrent", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:grace-period:
   *
   * How long, in milliseconds, a stopped task's body (or operation) has to
   * return after its cancellable was cancelled before the group abandons
   * it: marks its outcome [method@Gather.Outcome.get_abandoned] and lets
   * the pool replace the thread it holds. The outcome itself is recorded
   * when the task is stopped, not after the grace period. (An isolated
   * task is killed instead, see [property@Gather.Group:isolate-workers].)
   * The default is 100 ms. Set it before running.
   *
   * Since: 1.0
   */
  properties[PROP_GRACE_PERIOD] =
    g_param_spec_uint ("grace-period", NULL, NULL,
                       0, G_MAXUINT, DEFAULT_GRACE_MSEC,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:isolate-workers:
   *
   * Whether the group runs its plugin worker tasks (see
   * [method@Gather.Group.add_worker_task]) in helper processes rather than
   * on its pool's threads; `FALSE` by default. A task can say otherwise
   * with [method@Gather.Group.set_task_isolated]. Set it before running.
   *
   * An isolated task runs in a helper process, a small program of
   * libgather that loads the worker's plugin itself and runs one task at a
   * time. So a plugin that crashes, calls `exit()` or `abort()`, while it
   * loads or while it runs, ends that task with an
   * [enum@Gather.Status.ERROR] outcome ([error@Gather.Error.HELPER], whose
   * message names the worker, the task and the signal or exit status), and
   * nothing else: the other tasks and the program carry on. A timeout is a
   * hard guarantee: a task that has not returned
   * [property@Gather.Group:grace-period] after its timeout (or after it was
   * asked to cancel, if something else stopped it) is killed, with every
   * process it started, even if gather got to the timeout so late that the
   * task had less than that after being asked; its outcome says so (see
   * [method@Gather.Outcome.get_killed]). Tasks can also have memory and
   * CPU-time limits ([method@Gather.Group.set_task_limits]).
   *
   * Helpers belong to the group's [class@Gather.Pool]: up to
   * [property@Gather.Pool:max-threads] of them run at once (they hold no
   * thread of the pool), started when tasks wait for one and then reused
   * by every group on the pool; a killed or crashed one is replaced. They
   * exit when the pool is finalized, which waits for them, and when the
   * program exits or is killed.
   *
   * Once every helper the pool may have runs a task, a helper is also
   * sent up to three more tasks of the same run, and starts each as soon
   * as the one before it returns, without waiting for this process. Such a
   * task's timeout counts from when this process reads the reply of the
   * one before it (a few microseconds after it really started). What a
   * helper has not started yet goes to another helper when the task before
   * it is stopped or the helper ends, and to an idle helper when one falls
   * idle; when the run stops, it never starts. A task that a helper started
   * in the instant its run stopped is counted as not started, and is
   * cancelled at once and killed after the grace period if it goes on.
   *
   * Worker parameters and results are [struct@GLib.Variant]s and cross to
   * the helper as they are (at most 16 MiB each way). An isolated task
   * costs more than one on a pool thread, a round trip between processes
   * (see the benchmark in the README), and a helper takes about a
   * millisecond to start. What plugins print on standard output or
   * standard error goes to the program's standard error, marked with the
   * helper's name and pid by GLib's messages.
   *
   * The helper program is `$libexecdir/gather-helper-1`; the environment
   * variable `GATHER_HELPER` names another one (tests use it), except in
   * privileged processes.
   *
   * Only plugin worker tasks can be isolated: task bodies and async
   * operations run in this process
   * ([method@Gather.Group.set_task_isolated] says so with an error), and
   * so do workers a program added with [method@Gather.Registry.add_worker]
   * (their tasks end with [error@Gather.Error.NOT_ISOLATABLE]). Workers of
   * an isolated [class@Gather.Registry] always run isolated.
   *
   * Since: 1.0
   */
  properties[PROP_ISOLATE_WORKERS] =
    g_param_spec_boolean ("isolate-workers", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:n-tasks:
   *
   * How many tasks have been added.
   *
   * Since: 1.0
   */
  properties[PROP_N_TASKS] =
    g_param_spec_uint ("n-tasks", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:n-finished:
   *
   * How many tasks have an outcome. Notified on the group's main context,
   * together with [property@Gather.Group:fraction].
   *
   * Since: 1.0
   */
  properties[PROP_N_FINISHED] =
    g_param_spec_uint ("n-finished", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:fraction:
   *
   * The share of tasks that have an outcome, from 0.0 to 1.0, for a
   * progress bar. A group without tasks is at 0.0 until it has run, then at
   * 1.0.
   *
   * Since: 1.0
   */
  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL,
                         0.0, 1.0, 0.0,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:n-running:
   *
   * How many of the group's tasks are running now: thread bodies on pool
   * threads and async operations in flight, including stopped ones that
   * have not returned yet. It changes on other threads; notifications come
   * on the group's main context, batched, and only while something is
   * connected to them. [method@Gather.Group.get_n_running] is thread-safe.
   *
   * Since: 1.0
   */
  properties[PROP_N_RUNNING] =
    g_param_spec_uint ("n-running", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:tasks:
   *
   * The group's tasks as a [iface@Gio.ListModel] of [class@Gather.Task]:
   * one item per task added, in the order they were added, each a live
   * object whose properties follow the task. See
   * [method@Gather.Group.get_tasks].
   *
   * Since: 1.0
   */
  properties[PROP_TASKS] =
    g_param_spec_object ("tasks", NULL, NULL,
                         G_TYPE_LIST_MODEL,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:open:
   *
   * Whether tasks may be added while the group runs, as with Python's
   * `asyncio.TaskGroup.create_task()`: code that reacts to a task's
   * outcome (in [signal@Gather.Group::task-finished], say) adds more. An
   * open group does not finish when its tasks have their outcomes; it
   * finishes once it is closed ([method@Gather.Group.close]) and every
   * task has an outcome. A run that stops (cancelled, its deadline, its
   * policy) closes the group.
   *
   * Set it to `TRUE` before running; setting it to `FALSE` closes the
   * group. The default is `FALSE`: tasks are added before the run, and
   * adding one to a running group is an error.
   *
   * An open group that runs keeps itself alive until it is closed and
   * finished: close it.
   *
   * Since: 1.0
   */
  properties[PROP_OPEN] =
    g_param_spec_boolean ("open", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  /**
   * GatherGroup:retry-policy:
   *
   * How the group's tasks are tried again when an attempt fails, unless a
   * task has its own [property@Gather.Task:retry-policy]; `NULL` (the
   * default) for no retries. See [class@Gather.RetryPolicy]. Set it before
   * running.
   *
   * Since: 1.0
   */
  properties[PROP_RETRY_POLICY] =
    g_param_spec_object ("retry-policy", NULL, NULL,
                         GATHER_TYPE_RETRY_POLICY,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  notify_signal = g_signal_lookup ("notify", G_TYPE_OBJECT);
  gather_task_record_init_once ();

  /**
   * GatherGroup::task-finished:
   * @self: a [class@Gather.Group]
   * @outcome: the task's outcome
   *
   * Emitted on the group's main context each time a task gets its outcome,
   * in the order outcomes are recorded. [property@Gather.Group:n-finished]
   * already counts @outcome when this is emitted. Take a reference on
   * @outcome to keep it.
   *
   * Since: 1.0
   */
  signals[TASK_FINISHED] =
    g_signal_new ("task-finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1,
                  GATHER_TYPE_OUTCOME | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * GatherGroup::finished:
   * @self: a [class@Gather.Group]
   * @outcomes: (element-type GatherOutcome): one outcome per task, in the
   *   order the tasks were added
   *
   * Emitted on the group's main context once every task has an outcome,
   * before the run's callback is called. Take a reference on @outcomes to
   * keep them.
   *
   * Since: 1.0
   */
  signals[FINISHED] =
    g_signal_new ("finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1,
                  G_TYPE_PTR_ARRAY | G_SIGNAL_TYPE_STATIC_SCOPE);
}
static void
gather_group_init (GatherGroup *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->creator = g_thread_ref (g_thread_self ());
  self->records = g_ptr_array_new ();
  gather_slab_init (&self->record_slab, sizeof (GatherTaskRecord));
  self->quorum = 1;
  self->grace_msec = DEFAULT_GRACE_MSEC;
}

/**
 * gather_group_new:
 *
 * Creates an empty group that belongs to the calling thread's
 * thread-default main context (see [func@GLib.MainContext.ref_thread_default]).
 *
 * Returns: (transfer full): a new [class@Gather.Group]
 *
 * Since: 1.0
 */
GatherGroup *
gather_group_new (void)
{
  return g_object_new (GATHER_TYPE_GROUP, NULL);
}

/* Whether a task can be added now; if not, @error says why. */
static gboolean
gather_group_can_add (GatherGroup  *self,
                      GError      **error)
{
  if (self->run != NULL)
    {
      if (!gather_group_is_thread_default (self))
        {
          g_set_error_literal (error, GATHER_ERROR, GATHER_ERROR_FAILED,
                               "Tasks can be added to a running group only from the thread "
                               "whose thread-default main context the group belongs to");
          return FALSE;
        }

      if (gather_run_is_finished (self->run))
        {
          g_set_error_literal (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED,
                               "Tasks cannot be added to a group that has already run; a group runs once");
          return FALSE;
        }

      if (!gather_run_is_open (self->run))
        {
          g_set_error_literal (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED,
                               self->ran_open
                                 ? "Tasks cannot be added to a group that was closed, or whose run was stopped"
                                 : "Tasks cannot be added to a group that has started running, "
                                   "unless the group is open (see GatherGroup:open)");
          return FALSE;
        }
    }

  if (self->n_tasks >= G_MAXUINT - 1)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_FAILED,
                   "A group holds at most %u tasks", G_MAXUINT - 1);
      return FALSE;
    }

  return TRUE;
}

/* Adds the task @spec describes (taken). */
static guint
gather_group_add_spec (GatherGroup    *self,
                       GatherTaskSpec *spec)
{
  guint index = self->n_tasks;

  if (self->run != NULL)
    {
      /* A task added while the run goes is needed as a record soon. */
      gather_run_add (self->run, gather_task_record_spec_take (&self->record_slab, spec, index));
    }
  else
    {
      *gather_task_specs_append (&self->specs) = *spec;
    }
  self->n_tasks++;

  if (self->task_list != NULL)
    gather_task_list_added (self->task_list, 1);

  /* Unconditional: GLib's notify with nobody listening costs less than
   * asking g_signal_has_handler_pending() first (callgrind). */
  g_object_notify_by_pspec ((GObject *) self, properties[PROP_N_TASKS]);

  return index;
}

/* A task of @runner's kind whose body is @func. If it cannot be added,
 * @user_data is destroyed at once. */
static guint
gather_group_add_func_task (GatherGroup        *self,
                            const GatherRunner *runner,
                            const char         *label,
                            guint               timeout_msec,
                            gpointer            func,
                            gpointer            user_data,
                            GDestroyNotify      user_data_destroy,
                            GError            **error)
{
  GatherTaskSpec spec;

  if (!gather_group_can_add (self, error))
    {
      if (user_data_destroy != NULL)
        user_data_destroy (user_data);
      return G_MAXUINT;
    }

  gather_task_spec_init (&spec, runner, label, timeout_msec, func, user_data, user_data_destroy);
  return gather_group_add_spec (self, &spec);
}

/**
 * gather_group_add_task:
 * @self: a [class@Gather.Group]
 * @label: (nullable): a short name for the task, kept in its outcome
 * @timeout_msec: the task's own timeout in milliseconds, counted from when
 *   its body starts; 0 for none
 * @func: (scope notified) (closure user_data) (destroy user_data_destroy):
 *   the task body, run on a thread of the group's pool
 * @user_data: data for @func
 * @user_data_destroy: (nullable): frees @user_data, on the group's main
 *   context, once @func will not run again
 * @error: return location for an error
 *
 * Adds a task whose body runs on a thread of the group's
 * [class@Gather.Pool], for blocking or CPU-bound work. Tasks start in the
 * order they are added (higher [property@Gather.Task:priority] first), as
 * threads become free. An [property@Gather.Group:open] group also takes
 * tasks while it runs.
 *
 * @func runs on another thread, so it must not touch objects of the main
 * context, and it should return soon after its cancellable is cancelled
 * (see [callback@Gather.TaskFunc]). C, Python and Vala can pass their own
 * function; JavaScript (GJS) cannot run code on another thread: use
 * [method@Gather.Group.add_async_task] there.
 *
 * If the task cannot be added, @user_data is destroyed at once.
 *
 * Returns: the task's index, from 0 in the order tasks are added (the
 *   outcome has the same index), or `G_MAXUINT` with @error set to
 *   [error@Gather.Error.ALREADY_STARTED] if the group has run, or runs and
 *   is not [property@Gather.Group:open]
 *
 * Since: 1.0
 */
guint
gather_group_add_task (GatherGroup     *self,
                       const char      *label,
                       guint            timeout_msec,
                       GatherTaskFunc   func,
                       gpointer         user_data,
                       GDestroyNotify   user_data_destroy,
                       GError         **error)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), G_MAXUINT);
  g_return_val_if_fail (func != NULL, G_MAXUINT);
  g_return_val_if_fail (error == NULL || *error == NULL, G_MAXUINT);

  return gather_group_add_func_task (self, &gather_thread_runner, label, timeout_msec,
                                     func, user_data, user_data_destroy, error);
}

/**
 * gather_group_add_async_task:
 * @self: a [class@Gather.Group]
 * @label: (nullable): a short name for the task, kept in its outcome
 * @timeout_msec: the task's own timeout in milliseconds, counted from when
 *   @func is called; 0 for none
 * @func: (scope notified) (closure user_data) (destroy user_data_destroy):
 *   starts the task's asynchronous operation, on the group's main context
 * @user_data: data for @func
 * @user_data_destroy: (nullable): frees @user_data, on the group's main
 *   context, once the task is over: its operation completed (or its
 *   [struct@Gather.Completion] was dropped), or it never started
 * @error: return location for an error
 *
 * Adds a task that runs an asynchronous operation on the group's main
 * context, holding no thread while it waits: how a group gathers I/O
 * (files, HTTP requests with libsoup, D-Bus calls, subprocesses), and how
 * JavaScript gathers its own work.
 *
 * When the task starts, @func is called on the group's main context with
 * the task's [struct@Gather.Completion], which it owns, and its own
 * cancellable. It starts the operation and returns; when the operation
 * completes, it completes the handle, exactly once, with a result or an
 * error. In JavaScript:
 *
 * ```js
 * group.add_async_task('user 1', 3000, (completion, cancellable) => {
 *     fetchUser(1, cancellable)        // a promise
 *         .then(json => completion.return_value(new GLib.Variant('s', json)))
 *         .catch(e => completion.return_error(e));
 * });
 * ```
 *
 * The task has the same timeout, deadline, policy, concurrency and progress
 * semantics as a thread task. Its cancellable is only ever cancelled on the
 * group's main context; see [struct@Gather.Completion] for what happens to
 * completions that come after the task was stopped.
 *
 * If the task cannot be added, @user_data is destroyed at once.
 *
 * Returns: the task's index, or `G_MAXUINT` with @error set to
 *   [error@Gather.Error.ALREADY_STARTED] if the group has run, or runs and
 *   is not [property@Gather.Group:open]
 *
 * Since: 1.0
 */
guint
gather_group_add_async_task (GatherGroup          *self,
                             const char           *label,
                             guint                 timeout_msec,
                             GatherAsyncTaskFunc   func,
                             gpointer              user_data,
                             GDestroyNotify        user_data_destroy,
                             GError              **error)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), G_MAXUINT);
  g_return_val_if_fail (func != NULL, G_MAXUINT);
  g_return_val_if_fail (error == NULL || *error == NULL, G_MAXUINT);

  return gather_group_add_func_task (self, &gather_async_runner, label, timeout_msec,
                                     func, user_data, user_data_destroy, error);
}

/**
 * gather_group_add_worker_task:
 * @self: a [class@Gather.Group]
 * @worker: the name of a worker in the group's
 *   [property@Gather.Group:registry]
 * @parameters: (nullable): the worker's parameters, `NULL` for an empty
 *   `a{sv}`; a floating reference is consumed
 * @label: (nullable): a short name for the task, kept in its outcome; the
 *   worker's name if `NULL`
 * @timeout_msec: the task's own timeout in milliseconds, counted from when
 *   it starts; 0 for none
 * @error: return location for an error
 *
 * Adds a task that runs a [iface@Gather.Worker] on a thread of the group's
 * pool. @parameters are checked against what the worker declares before
 * anything is queued (see [method@Gather.Worker.check_parameters]).
 *
 * The task's result is checked against the type the worker declares: a
 * worker that returns a value of another type, or nothing, makes an
 * [enum@Gather.Status.ERROR] outcome with
 * [error@Gather.Error.INVALID_RESULT].
 *
 * Returns: the task's index, or `G_MAXUINT` with @error set to
 *   [error@Gather.Error.UNKNOWN_WORKER],
 *   [error@Gather.Error.INVALID_PARAMETERS], or
 *   [error@Gather.Error.ALREADY_STARTED] if the group has run, or runs and
 *   is not [property@Gather.Group:open]
 *
 * Since: 1.0
 */
guint
gather_group_add_worker_task (GatherGroup  *self,
                              const char   *worker,
                              GVariant     *parameters,
                              const char   *label,
                              guint         timeout_msec,
                              GError      **error)
{
  g_autoptr(GVariant) params = NULL;
  GatherRegistry *registry;
  GatherWorker *found;
  GatherTaskSpec spec;

  g_return_val_if_fail (GATHER_IS_GROUP (self), G_MAXUINT);
  g_return_val_if_fail (worker != NULL, G_MAXUINT);
  g_return_val_if_fail (error == NULL || *error == NULL, G_MAXUINT);

  params = parameters != NULL ? g_variant_ref_sink (parameters)
                              : g_variant_ref_sink (g_variant_new ("a{sv}", NULL));

  if (!gather_group_can_add (self, error))
    return G_MAXUINT;

  registry = self->registry != NULL ? self->registry : gather_registry_get_default ();
  found = gather_registry_lookup_worker (registry, worker);
  if (found == NULL)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_UNKNOWN_WORKER,
                   "No worker is named “%s”", worker);
      return G_MAXUINT;
    }

  if (!gather_worker_check_parameters (found, params, error))
    return G_MAXUINT;

  gather_worker_runner_init_spec (&spec, label, timeout_msec, found, params);
  return gather_group_add_spec (self, &spec);
}

/**
 * gather_group_run_async:
 * @self: a [class@Gather.Group]
 * @cancellable: (nullable): stops the run: cancels every task that has no
 *   outcome yet
 * @callback: (scope async) (closure user_data): called on the group's main
 *   context once every task has an outcome
 * @user_data: data for @callback
 *
 * Runs the group's tasks. Each ends with exactly one
 * [struct@Gather.Outcome]; when they all have one, the group emits
 * [signal@Gather.Group::finished] and then calls @callback, in which call
 * [method@Gather.Group.run_finish] to get the outcomes.
 *
 * Cancelling @cancellable, on any thread, stops the run at once: tasks
 * that have not started never do, and every task without an outcome ends
 * [enum@Gather.Status.CANCELLED]. The run still completes with every
 * outcome, rather than with an error.
 *
 * A group runs once: a second call completes with
 * [error@Gather.Error.ALREADY_STARTED].
 *
 * Call this from the thread whose thread-default main context the group
 * belongs to.
 *
 * Since: 1.0
 */
void
gather_group_run_async (GatherGroup         *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GatherRunSettings settings;

  g_return_if_fail (GATHER_IS_GROUP (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  gather_group_return_if_not_owner (self);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gather_group_run_async);
  g_task_set_check_cancellable (task, FALSE);

  if (self->run != NULL)
    {
      g_task_return_new_error (task, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED,
                               gather_run_is_finished (self->run)
                                 ? "The group has already run; a group runs once"
                                 : "The group is already running");
      return;
    }

  if (self->pool == NULL)
    self->pool = gather_pool_new (0);

  settings.policy = self->policy;
  settings.quorum = self->quorum;
  settings.deadline_msec = self->deadline_msec;
  settings.max_concurrent = self->max_concurrent;
  settings.grace_msec = self->grace_msec;
  settings.retry = self->retry_policy;
  settings.open = self->open;
  self->ran_open = self->open;
  settings.has_priorities = self->has_priorities;
  settings.isolate_workers = self->isolate_workers;

  self->run_task = g_steal_pointer (&task);
  g_ptr_array_set_size (self->records, self->n_tasks);
  self->run = gather_run_new (self, self->context, self->pool, &settings,
                              g_steal_pointer (&self->records), &self->specs, cancellable);
  self->specs = (GatherTaskSpecs) { NULL, 0, 0 };
}

/**
 * gather_group_run_finish:
 * @self: a [class@Gather.Group]
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Gather.Group.run_async].
 *
 * Returns: (transfer container) (element-type GatherOutcome): a new array
 *   with one outcome per task, in the order the tasks were added, or `NULL`
 *   with @error set if the group had already run
 *
 * Since: 1.0
 */
GPtrArray *
gather_group_run_finish (GatherGroup   *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == gather_group_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  GatherGroup  *self;
  GCancellable *cancellable;
  GMutex        mutex;
  GCond         cond;
  gboolean      done;       /* guarded by mutex */
  GPtrArray    *outcomes;   /* guarded by mutex */
  GError       *error;      /* guarded by mutex */
} RunSync;

/* On the owner's context: finish the GTask there, so the waiting thread
 * only ever reads what is handed to it under the mutex. */
static void
gather_group_run_sync_done (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  RunSync *sync = user_data;
  GError *error = NULL;
  GPtrArray *outcomes = gather_group_run_finish (GATHER_GROUP (object), result, &error);

  g_mutex_lock (&sync->mutex);
  sync->outcomes = outcomes;
  sync->error = error;
  sync->done = TRUE;
  g_cond_signal (&sync->cond);
  g_mutex_unlock (&sync->mutex);
}

static gboolean
gather_group_run_sync_start (gpointer user_data)
{
  RunSync *sync = user_data;

  g_main_context_push_thread_default (sync->self->context);
  gather_group_run_async (sync->self, sync->cancellable,
                          gather_group_run_sync_done, sync);
  g_main_context_pop_thread_default (sync->self->context);

  return G_SOURCE_REMOVE;
}

/**
 * gather_group_run:
 * @self: a [class@Gather.Group]
 * @cancellable: (nullable): stops the run: cancels every task that has no
 *   outcome yet
 * @error: return location for an error
 *
 * Runs the group's tasks and waits for every outcome: the blocking form of
 * [method@Gather.Group.run_async], for programs and threads without a main
 * loop.
 *
 * Signals are still delivered on the group's main context:
 *
 * - Called from the thread that created the group, this function iterates
 *   that context itself until the run completes, so signals are emitted on
 *   the calling thread (and other sources attached to the context may be
 *   dispatched meanwhile, as with any nested main loop).
 * - Called from any other thread, it asks the group's context to start the
 *   run and waits: the thread that iterates that context runs the group and
 *   emits its signals, and must not be blocked waiting for this one.
 *
 * A thread without a main loop of its own should push a context with
 * [method@GLib.MainContext.push_thread_default] before creating the group;
 * otherwise the group belongs to the global default context, which the
 * main thread may be iterating.
 *
 * Because this iterates the group's context, a source attached there can
 * stop the run. In Python, this makes Ctrl-C stop the run at once, and
 * the run still returns every outcome:
 *
 * ```python
 * cancellable = Gio.Cancellable()
 * GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, cancellable.cancel)
 * outcomes = group.run(cancellable)   # CANCELLED outcomes after Ctrl-C
 * ```
 *
 * May be called from any thread.
 *
 * Returns: (transfer container) (element-type GatherOutcome): a new array
 *   with one outcome per task, in the order the tasks were added, or `NULL`
 *   with @error set if the group had already run
 *
 * Since: 1.0
 */
GPtrArray *
gather_group_run (GatherGroup   *self,
                  GCancellable  *cancellable,
                  GError       **error)
{
  RunSync sync = { self, cancellable };

  g_return_val_if_fail (GATHER_IS_GROUP (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_mutex_init (&sync.mutex);
  g_cond_init (&sync.cond);

  if (g_thread_self () == self->creator && g_main_context_acquire (self->context))
    {
      g_main_context_push_thread_default (self->context);
      gather_group_run_async (self, cancellable, gather_group_run_sync_done, &sync);
      while (!sync.done)
        g_main_context_iteration (self->context, TRUE);
      g_main_context_pop_thread_default (self->context);
      g_main_context_release (self->context);
    }
  else
    {
      GSource *source = g_idle_source_new ();

      g_source_set_static_name (source, "[gather] run");
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, gather_group_run_sync_start, &sync, NULL);
      g_source_attach (source, self->context);
      g_source_unref (source);

      g_mutex_lock (&sync.mutex);
      while (!sync.done)
        g_cond_wait (&sync.cond, &sync.mutex);
      g_mutex_unlock (&sync.mutex);
    }

  g_mutex_clear (&sync.mutex);
  g_cond_clear (&sync.cond);

  if (sync.error != NULL)
    g_propagate_error (error, sync.error);

  return sync.outcomes;
}

/**
 * gather_group_get_pool:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:pool].
 *
 * Returns: (transfer none) (nullable): the group's pool, or `NULL` if none
 *   was set and the group has not run
 *
 * Since: 1.0
 */
GatherPool *
gather_group_get_pool (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), NULL);

  return self->pool;
}

/**
 * gather_group_set_pool:
 * @self: a [class@Gather.Group]
 * @pool: (nullable): the pool to run the tasks on, or `NULL` for a pool of
 *   the group's own
 *
 * Sets [property@Gather.Group:pool]. Call it before running.
 *
 * Since: 1.0
 */
void
gather_group_set_pool (GatherGroup *self,
                       GatherPool  *pool)
{
  g_return_if_fail (GATHER_IS_GROUP (self));
  g_return_if_fail (pool == NULL || GATHER_IS_POOL (pool));
  gather_group_return_if_started (self);

  if (g_set_object (&self->pool, pool))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POOL]);
}

/**
 * gather_group_get_registry:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:registry].
 *
 * Returns: (transfer none) (nullable): the registry, or `NULL` for the
 *   default one
 *
 * Since: 1.0
 */
GatherRegistry *
gather_group_get_registry (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), NULL);

  return self->registry;
}

/**
 * gather_group_set_registry:
 * @self: a [class@Gather.Group]
 * @registry: (nullable): where to find workers, or `NULL` for
 *   [func@Gather.Registry.get_default]
 *
 * Sets [property@Gather.Group:registry].
 *
 * Since: 1.0
 */
void
gather_group_set_registry (GatherGroup    *self,
                           GatherRegistry *registry)
{
  g_return_if_fail (GATHER_IS_GROUP (self));
  g_return_if_fail (registry == NULL || GATHER_IS_REGISTRY (registry));

  if (g_set_object (&self->registry, registry))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGISTRY]);
}

/**
 * gather_group_get_policy:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:policy].
 *
 * Returns: the group's policy
 *
 * Since: 1.0
 */
GatherPolicy
gather_group_get_policy (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), GATHER_POLICY_ALL);

  return self->policy;
}

/**
 * gather_group_set_policy:
 * @self: a [class@Gather.Group]
 * @policy: when to stop waiting for the remaining tasks
 *
 * Sets [property@Gather.Group:policy]. Call it before running.
 *
 * Since: 1.0
 */
void
gather_group_set_policy (GatherGroup  *self,
                         GatherPolicy  policy)
{
  g_return_if_fail (GATHER_IS_GROUP (self));
  g_return_if_fail (policy <= GATHER_POLICY_QUORUM);
  gather_group_return_if_started (self);

  if (self->policy != policy)
    {
      self->policy = policy;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POLICY]);
    }
}

/**
 * gather_group_get_quorum:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:quorum].
 *
 * Returns: how many tasks must succeed under [enum@Gather.Policy.QUORUM]
 *
 * Since: 1.0
 */
guint
gather_group_get_quorum (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), 1);

  return self->quorum;
}

/**
 * gather_group_set_quorum:
 * @self: a [class@Gather.Group]
 * @quorum: how many tasks must succeed, at least 1
 *
 * Sets [property@Gather.Group:quorum]. Call it before running.
 *
 * Since: 1.0
 */
void
gather_group_set_quorum (GatherGroup *self,
                         guint        quorum)
{
  g_return_if_fail (GATHER_IS_GROUP (self));
  g_return_if_fail (quorum >= 1);
  gather_group_return_if_started (self);

  if (self->quorum != quorum)
    {
      self->quorum = quorum;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUORUM]);
    }
}

/**
 * gather_group_get_deadline:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:deadline].
 *
 * Returns: the run's timeout in milliseconds, or 0 for none
 *
 * Since: 1.0
 */
guint
gather_group_get_deadline (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), 0);

  return self->deadline_msec;
}

/**
 * gather_group_set_deadline:
 * @self: a [class@Gather.Group]
 * @deadline_msec: the run's timeout in milliseconds, or 0 for none
 *
 * Sets [property@Gather.Group:deadline]. Call it before running.
 *
 * Since: 1.0
 */
void
gather_group_set_deadline (GatherGroup *self,
                           guint        deadline_msec)
{
  g_return_if_fail (GATHER_IS_GROUP (self));
  gather_group_return_if_started (self);

  if (self->deadline_msec != deadline_msec)
    {
      self->deadline_msec = deadline_msec;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEADLINE]);
    }
}

/**
 * gather_group_get_max_concurrent:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:max-concurrent].
 *
 * Returns: the most tasks of this group that run at once, or 0 for no
 *   limit but the pool's
 *
 * Since: 1.0
 */
guint
gather_group_get_max_concurrent (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), 0);

  return self->max_concurrent;
}

/**
 * gather_group_set_max_concurrent:
 * @self: a [class@Gather.Group]
 * @max_concurrent: the most tasks of this group to run at once, or 0 for
 *   no limit but the pool's
 *
 * Sets [property@Gather.Group:max-concurrent]. Call it before running.
 *
 * Since: 1.0
 */
void
gather_group_set_max_concurrent (GatherGroup *self,
                                 guint        max_concurrent)
{
  g_return_if_fail (GATHER_IS_GROUP (self));
  gather_group_return_if_started (self);

  if (self->max_concurrent != max_concurrent)
    {
      self->max_concurrent = max_concurrent;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_CONCURRENT]);
    }
}

/**
 * gather_group_get_grace_period:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:grace-period].
 *
 * Returns: the grace period in milliseconds
 *
 * Since: 1.0
 */
guint
gather_group_get_grace_period (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), 0);

  return self->grace_msec;
}

/**
 * gather_group_set_grace_period:
 * @self: a [class@Gather.Group]
 * @grace_msec: how long a cancelled task has to return, in milliseconds
 *
 * Sets [property@Gather.Group:grace-period]. Call it before running.
 *
 * Since: 1.0
 */
void
gather_group_set_grace_period (GatherGroup *self,
                               guint        grace_msec)
{
  g_return_if_fail (GATHER_IS_GROUP (self));
  gather_group_return_if_started (self);

  if (self->grace_msec != grace_msec)
    {
      self->grace_msec = grace_msec;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GRACE_PERIOD]);
    }
}

/**
 * gather_group_get_isolate_workers:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:isolate-workers].
 *
 * Returns: whether plugin worker tasks run in helper processes
 *
 * Since: 1.0
 */
gboolean
gather_group_get_isolate_workers (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), FALSE);

  return self->isolate_workers;
}

/**
 * gather_group_set_isolate_workers:
 * @self: a [class@Gather.Group]
 * @isolate_workers: whether plugin worker tasks run in helper processes
 *
 * Sets [property@Gather.Group:isolate-workers]. Call it before running.
 *
 * Since: 1.0
 */
void
gather_group_set_isolate_workers (GatherGroup *self,
                                  gboolean     isolate_workers)
{
  g_return_if_fail (GATHER_IS_GROUP (self));
  gather_group_return_if_started (self);

  isolate_workers = !!isolate_workers;
  if (self->isolate_workers != isolate_workers)
    {
      self->isolate_workers = isolate_workers;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ISOLATE_WORKERS]);
    }
}

/* gather-group-isolation.c: the record of the task at @index, while the
 * group's tasks can still change; if not, @error says why. */
GatherTaskRecord *
gather_group_get_record_to_change (GatherGroup  *self,
                                   guint         index,
                                   GError      **error)
{
  GatherTaskRecord *record;

  if (index >= self->n_tasks)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_FAILED,
                   "The group has no task %u: it has %u", index, self->n_tasks);
      return NULL;
    }

  if (self->run == NULL)
    return gather_group_record_at (self, index);

  /* A running open group: a task added late can change until it starts. */
  record = gather_run_get_record (self->run, index);
  if (record == NULL || record->launched || record->recorded)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED,
                   "Task %u cannot change: it has started", index);
      return NULL;
    }

  return record;
}

/**
 * gather_group_get_n_tasks:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:n-tasks].
 *
 * Returns: how many tasks have been added
 *
 * Since: 1.0
 */
guint
gather_group_get_n_tasks (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), 0);

  return self->n_tasks;
}

/**
 * gather_group_get_n_finished:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:n-finished].
 *
 * Returns: how many tasks have an outcome
 *
 * Since: 1.0
 */
guint
gather_group_get_n_finished (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), 0);

  return self->run != NULL ? gather_run_get_n_finished (self->run) : 0;
}

/**
 * gather_group_get_fraction:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:fraction].
 *
 * Returns: the share of tasks that have an outcome, from 0.0 to 1.0
 *
 * Since: 1.0
 */
double
gather_group_get_fraction (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), 0.0);

  if (self->n_tasks == 0)
    return self->run != NULL && gather_run_is_finished (self->run) ? 1.0 : 0.0;

  return (double) gather_group_get_n_finished (self) / (double) self->n_tasks;
}

/**
 * gather_group_get_n_running:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:n-running]: how many of the group's tasks are
 * running now, stopped ones that have not returned yet included.
 * Thread-safe.
 *
 * A task is counted out only once its end is on its way to the owner's
 * context: once this is 0, the next iteration of that context brings every
 * outcome up to date, including what is learnt only after a task's outcome
 * was recorded ([method@Gather.Outcome.get_killed],
 * [method@Gather.Outcome.get_abandoned]).
 *
 * Returns: the number of task bodies and operations running now
 *
 * Since: 1.0
 */
guint
gather_group_get_n_running (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), 0);

  /* Set once, on the owner, before any task runs. */
  return self->run != NULL ? gather_run_get_n_running (self->run) : 0;
}

/**
 * gather_group_get_tasks:
 * @self: a [class@Gather.Group]
 *
 * Gets the group's tasks as a [iface@Gio.ListModel] of [class@Gather.Task]
 * ([property@Gather.Group:tasks]): one item per task, in the order the
 * tasks were added, each a live object that follows its task. Tasks added
 * later, before the run or while an open group runs, are appended with
 * [signal@Gio.ListModel::items-changed].
 *
 * The model and its items are created when asked for; the group keeps
 * them. A model kept after the group is gone keeps its tasks as they were.
 * Use it on the group's main context only.
 *
 * Returns: (transfer none): the group's tasks
 *
 * Since: 1.0
 */
GListModel *
gather_group_get_tasks (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), NULL);

  if (self->task_list == NULL)
    {
      self->task_list = gather_task_list_new (self, self->n_tasks);
      if (self->run != NULL)
        gather_run_set_task_list (self->run, self->task_list);
    }

  return G_LIST_MODEL (self->task_list);
}

/**
 * gather_group_get_task:
 * @self: a [class@Gather.Group]
 * @index: a task's index, as the `add` methods return it
 *
 * Gets the task object of task @index: the item at @index of
 * [method@Gather.Group.get_tasks]. Use it to set a task's
 * [property@Gather.Task:priority] or [property@Gather.Task:retry-policy]
 * right after adding it:
 *
 * ```c
 * guint index = gather_group_add_task (group, "urgent", 0, body, NULL, NULL, NULL);
 * gather_task_set_priority (gather_group_get_task (group, index), 10);
 * ```
 *
 * Returns: (transfer none) (nullable): the task, or `NULL` if there is no
 *   task @index
 *
 * Since: 1.0
 */
GatherTask *
gather_group_get_task (GatherGroup *self,
                       guint        index)
{
  g_autoptr(GatherTask) task = NULL;

  g_return_val_if_fail (GATHER_IS_GROUP (self), NULL);

  task = g_list_model_get_item (gather_group_get_tasks (self), index);

  /* The model keeps it. */
  return task;
}

/**
 * gather_group_get_open:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:open].
 *
 * Returns: whether tasks may be added while the group runs
 *
 * Since: 1.0
 */
gboolean
gather_group_get_open (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), FALSE);

  if (self->run != NULL)
    return gather_run_is_open (self->run);

  return self->open;
}

/**
 * gather_group_set_open:
 * @self: a [class@Gather.Group]
 * @open: whether tasks may be added while the group runs
 *
 * Sets [property@Gather.Group:open]: `TRUE` before the run; `FALSE` at any
 * time, which is [method@Gather.Group.close].
 *
 * Since: 1.0
 */
void
gather_group_set_open (GatherGroup *self,
                       gboolean     open)
{
  g_return_if_fail (GATHER_IS_GROUP (self));

  if (!open)
    {
      gather_group_close (self);
      return;
    }

  gather_group_return_if_started (self);

  if (!self->open)
    {
      self->open = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPEN]);
    }
}

/**
 * gather_group_close:
 * @self: a [class@Gather.Group]
 *
 * Closes an open group: no task can be added from now on, and a running
 * group finishes once every task has an outcome. Closing a group that is
 * not open does nothing. Call it on the group's main context, for example
 * from [signal@Gather.Group::task-finished] once the last task was added.
 *
 * Since: 1.0
 */
void
gather_group_close (GatherGroup *self)
{
  g_return_if_fail (GATHER_IS_GROUP (self));

  if (!gather_group_get_open (self))
    return;

  gather_group_return_if_not_owner (self);

  self->open = FALSE;
  if (self->run != NULL)
    gather_run_close (self->run);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPEN]);
}

/**
 * gather_group_get_retry_policy:
 * @self: a [class@Gather.Group]
 *
 * Gets [property@Gather.Group:retry-policy].
 *
 * Returns: (transfer none) (nullable): the group's retry policy, or `NULL`
 *
 * Since: 1.0
 */
GatherRetryPolicy *
gather_group_get_retry_policy (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), NULL);

  return self->retry_policy;
}

/**
 * gather_group_set_retry_policy:
 * @self: a [class@Gather.Group]
 * @policy: (nullable): how to retry the group's tasks, or `NULL` for no
 *   retries
 *
 * Sets [property@Gather.Group:retry-policy]. Call it before running.
 *
 * Since: 1.0
 */
void
gather_group_set_retry_policy (GatherGroup       *self,
                               GatherRetryPolicy *policy)
{
  g_return_if_fail (GATHER_IS_GROUP (self));
  g_return_if_fail (policy == NULL || GATHER_IS_RETRY_POLICY (policy));
  gather_group_return_if_started (self);

  if (g_set_object (&self->retry_policy, policy))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_POLICY]);
}
