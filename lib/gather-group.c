/* gather-group.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-enums.h"
#include "gather-error.h"
#include "gather-group.h"
#include "gather-outcome-private.h"
#include "gather-pool-private.h"
#include "gather-task-private.h"
#include "gather-worker-private.h"

#define DEFAULT_GRACE_MSEC 100

/* How many tasks of a group without a concurrency limit sit in the pool at
 * once. Tasks beyond it cost only their record (see the memory figures in
 * the benchmark); the owner tops the window up after each batch. */
#define DISPATCH_WINDOW 8192

/**
 * GatherGroup:
 *
 * Runs tasks on a thread pool, each with its own timeout and
 * [class@Gio.Cancellable], and hands back one [struct@Gather.Outcome] per
 * task: its result, its error, or a timeout or cancellation marker. Tasks
 * that time out are cancelled one by one while the others carry on; this is
 * Python's `asyncio.gather()` over `wait_for()`-wrapped tasks, where a
 * timeout does not throw away the other results.
 *
 * ```c
 * g_autoptr(GatherGroup) group = gather_group_new ();
 * g_autoptr(GPtrArray) outcomes = NULL;
 *
 * gather_group_add_task (group, "user 1", 3000, fetch_user, GINT_TO_POINTER (1), NULL);
 * gather_group_add_task (group, "user 3", 3000, fetch_user, GINT_TO_POINTER (3), NULL);
 * outcomes = gather_group_run (group, NULL, &error);
 * ```
 *
 * ## Main context and threads
 *
 * A group belongs to the thread-default [struct@GLib.MainContext] of the
 * thread that creates it. Every signal, property notification, callback and
 * [callback@GLib.DestroyNotify] of user data is delivered there, never on a
 * worker thread: this is what makes the group safe to use from GJS, Python
 * and GTK code. Call the group's methods from the thread that runs that
 * context (or, before it runs, the thread that created the group);
 * [method@Gather.Group.run] is the exception and may be called from any
 * thread. Task bodies run on the worker threads of the group's
 * [class@Gather.Pool].
 *
 * ## Timeouts
 *
 * A task's own timeout is counted from when a worker starts its body. When
 * it expires the task's cancellable is cancelled (from gather's timer thread,
 * so even a busy main context does not delay it) and the task ends with
 * [enum@Gather.Status.TIMEOUT]; the other tasks keep running.
 *
 * The group's [property@Gather.Group:deadline] is counted from when the run
 * starts. When it expires, every task without an outcome yet is cancelled
 * and ends with [enum@Gather.Status.TIMEOUT], whether it had started or not.
 *
 * A task that ignores its cancellation does not hold the group: if its body
 * has not returned [property@Gather.Group:grace-period] after it was
 * cancelled, its outcome is recorded without it and marked
 * [method@Gather.Outcome.get_abandoned]; when the body finally returns, the
 * late result is freed. The pool replaces the thread such a task holds (see
 * [class@Gather.Pool]).
 *
 * ## Progress
 *
 * [signal@Gather.Group::task-finished] streams outcomes as they are
 * recorded, in completion order. [property@Gather.Group:n-finished] and
 * [property@Gather.Group:fraction] can be bound to a progress bar; both are
 * up to date whenever either is notified, and the getters always return the
 * current count. Notifications are batched: one per dispatch of the group's
 * main context, after the task-finished emissions of that batch.
 * [signal@Gather.Group::finished] comes last, once every task has an
 * outcome.
 *
 * A group runs once.
 *
 * Since: 1.0
 */

typedef enum
{
  RUN_STATE_IDLE,
  RUN_STATE_RUNNING,
  RUN_STATE_FINISHED,
} RunState;

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

  GPtrArray        *tasks;             /* GatherTaskRecord, one reference
                                        * each; NULL once released */
  GPtrArray        *outcomes;          /* GatherOutcome, NULL until recorded */
  GatherInbox      *inbox;             /* created by the run */
  GTask            *run_task;          /* while running */
  GCancellable     *run_cancellable;   /* while running */
  gulong            cancelled_id;

  RunState          state;
  gint64            queued_time;
  guint             next_dispatch;     /* next task index to push */
  guint             n_in_flight;       /* pushed, still holding a slot */
  guint             n_live;            /* records not released yet */
  guint             n_finished;        /* outcomes recorded */
  guint             n_succeeded;
  guint             n_notified;        /* n_finished when last notified */
  char             *stop_message;      /* why the policy stopped the rest */
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
  PROP_N_TASKS,
  PROP_N_FINISHED,
  PROP_FRACTION,
  N_PROPS
};

enum {
  TASK_FINISHED,
  FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

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
    if ((self)->state != RUN_STATE_IDLE)                                        \
      {                                                                         \
        g_critical ("%s: the group's tasks and settings cannot change once "    \
                    "it has started running", G_STRFUNC);                       \
        return;                                                                 \
      }                                                                         \
  } G_STMT_END

/* "“label”", or "#index" for a task without a label. */
static char *
gather_group_describe_task (guint       index,
                            const char *label)
{
  if (label != NULL)
    return g_strdup_printf ("“%s”", label);

  return g_strdup_printf ("#%u", index);
}

/* ---- Delivering user data destroy notifies on the owner's context ---- */

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

/* ---- Records ---- */

/* Releases a record whose body will not run again (or never ran). */
static void
gather_group_release (GatherGroup      *self,
                      GatherTaskRecord *record)
{
  GDestroyNotify destroy = g_steal_pointer (&record->user_data_destroy);
  gpointer data = g_steal_pointer (&record->user_data);

  g_assert (g_ptr_array_index (self->tasks, record->index) == record);

  g_ptr_array_index (self->tasks, record->index) = NULL;
  self->n_live--;

  gather_task_record_unref (record);

  if (destroy != NULL)
    destroy (data);
}

static void
gather_group_stop_all (GatherGroup      *self,
                       GatherStopReason  reason);

static void
gather_group_apply_policy (GatherGroup   *self,
                           GatherOutcome *outcome)
{
  GatherStatus status = gather_outcome_get_status (outcome);
  const char *what;
  g_autofree char *name = NULL;

  if (self->stop_message != NULL || self->state != RUN_STATE_RUNNING)
    return;

  switch (self->policy)
    {
    case GATHER_POLICY_FIRST_ERROR:
      if (status != GATHER_STATUS_ERROR)
        return;
      what = "failed";
      break;

    case GATHER_POLICY_FIRST_SUCCESS:
      if (status != GATHER_STATUS_OK)
        return;
      what = "succeeded first";
      break;

    case GATHER_POLICY_QUORUM:
      if (self->n_succeeded < self->quorum)
        return;
      what = NULL;
      break;

    case GATHER_POLICY_ALL:
    default:
      return;
    }

  if (what != NULL)
    {
      name = gather_group_describe_task (gather_outcome_get_index (outcome),
                                         gather_outcome_get_label (outcome));
      self->stop_message = g_strdup_printf ("task %s %s", name, what);
    }
  else
    {
      self->stop_message = g_strdup_printf ("a quorum of %u tasks succeeded",
                                            self->quorum);
    }

  gather_group_stop_all (self, GATHER_STOP_POLICY);
}

/*
 * Records the outcome of @record from what its state says, once. The body's
 * result and error are taken only if it returned normally; otherwise they
 * stay in the record and are dropped with it.
 */
static void
gather_group_record_outcome (GatherGroup      *self,
                             GatherTaskRecord *record)
{
  gint state = g_atomic_int_get (&record->state);
  GatherPhase phase = GATHER_STATE_PHASE (state);
  GatherStopReason reason = GATHER_STATE_REASON (state);
  g_autofree char *name = NULL;
  GatherOutcome *outcome;
  GatherStatus status;
  GVariant *result = NULL;
  GError *error = NULL;
  gint64 start_time = 0;

  if (record->recorded)
    return;

  record->recorded = TRUE;

  if (phase != GATHER_PHASE_DROPPED)
    start_time = record->start_time;

  if (reason == GATHER_STOP_NONE)
    {
      g_assert (phase == GATHER_PHASE_RETURNED);

      if (record->error != NULL)
        {
          status = GATHER_STATUS_ERROR;
          error = g_steal_pointer (&record->error);
          if (record->result != NULL)
            g_debug ("Task %u returned both a result and an error; "
                     "the result is dropped", record->index);
        }
      else if (record->result != NULL)
        {
          status = GATHER_STATUS_OK;
          result = g_steal_pointer (&record->result);
        }
      else
        {
          name = gather_group_describe_task (record->index, record->label);
          status = GATHER_STATUS_ERROR;
          error = g_error_new (GATHER_ERROR, GATHER_ERROR_INVALID_RESULT,
                               "Task %s returned neither a result nor an error",
                               name);
        }
    }
  else
    {
      name = gather_group_describe_task (record->index, record->label);

      switch (reason)
        {
        case GATHER_STOP_TIMEOUT:
          status = GATHER_STATUS_TIMEOUT;
          error = g_error_new (GATHER_ERROR, GATHER_ERROR_TIMED_OUT,
                               "Task %s timed out after %u ms",
                               name, record->timeout_msec);
          break;

        case GATHER_STOP_DEADLINE:
          status = GATHER_STATUS_TIMEOUT;
          error = g_error_new (GATHER_ERROR, GATHER_ERROR_DEADLINE_EXCEEDED,
                               "Task %s did not finish before the group’s "
                               "deadline of %u ms", name, self->deadline_msec);
          break;

        case GATHER_STOP_POLICY:
          status = GATHER_STATUS_CANCELLED;
          error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "Task %s was cancelled because %s",
                               name, self->stop_message);
          break;

        case GATHER_STOP_CANCELLED:
        case GATHER_STOP_NONE:
        case GATHER_STOP_MASK:
        default:
          status = GATHER_STATUS_CANCELLED;
          error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "Task %s was cancelled", name);
          break;
        }
    }

  outcome = gather_outcome_new (record->index,
                                g_steal_pointer (&record->label),
                                status, result, error,
                                phase == GATHER_PHASE_ABANDONED ||
                                phase == GATHER_PHASE_LATE,
                                self->queued_time,
                                start_time,
                                g_get_monotonic_time ());

  g_ptr_array_index (self->outcomes, record->index) = outcome;
  self->n_finished++;
  if (status == GATHER_STATUS_OK)
    self->n_succeeded++;

  g_signal_emit (self, signals[TASK_FINISHED], 0, outcome);

  gather_group_apply_policy (self, outcome);
}

/*
 * Stops every task without an outcome. Queued tasks go first: were a
 * running task cancelled first, its thread could pick up a queued task
 * before this loop reached it.
 */
static void
gather_group_stop_all (GatherGroup      *self,
                       GatherStopReason  reason)
{
  for (guint i = 0; i < self->tasks->len; i++)
    {
      GatherTaskRecord *record = g_ptr_array_index (self->tasks, i);

      if (record == NULL || record->recorded)
        continue;

      if (gather_task_record_drop (record, reason))
        {
          /* If it is in the pool's queue, its worker will skip it and the
           * record is released then. */
          gather_group_record_outcome (self, record);
          if (!record->dispatched)
            gather_group_release (self, record);
        }
    }

  for (guint i = 0; i < self->tasks->len; i++)
    {
      GatherTaskRecord *record = g_ptr_array_index (self->tasks, i);

      if (record != NULL && !record->recorded)
        gather_task_record_cancel (record, reason);
    }
}

static void
gather_group_dispatch_task (GatherGroup      *self,
                            GatherTaskRecord *record)
{
  record->inbox = gather_inbox_ref (self->inbox);
  record->grace_msec = self->grace_msec;
  record->dispatched = TRUE;

  self->n_in_flight++;
  gather_pool_push (self->pool, record);
}

static void
gather_group_refill (GatherGroup *self)
{
  guint window = self->max_concurrent > 0 ? self->max_concurrent : DISPATCH_WINDOW;

  if (self->state != RUN_STATE_RUNNING)
    return;

  while (self->n_in_flight < window && self->next_dispatch < self->tasks->len)
    {
      GatherTaskRecord *record = g_ptr_array_index (self->tasks, self->next_dispatch);

      self->next_dispatch++;

      if (record != NULL && !record->recorded)
        gather_group_dispatch_task (self, record);
    }
}

static void
gather_group_notify_progress (GatherGroup *self)
{
  if (self->n_notified == self->n_finished)
    return;

  self->n_notified = self->n_finished;

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FINISHED]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
  g_object_thaw_notify (G_OBJECT (self));
}

static void
gather_group_finish (GatherGroup *self)
{
  GTask *task;

  self->state = RUN_STATE_FINISHED;

  if (gather_timer_cancel (gather_inbox_get_timer (self->inbox)))
    gather_inbox_unref (self->inbox);

  if (self->cancelled_id != 0)
    g_cancellable_disconnect (self->run_cancellable, self->cancelled_id);
  self->cancelled_id = 0;
  g_clear_object (&self->run_cancellable);

  gather_group_notify_progress (self);
  if (self->tasks->len == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);

  g_signal_emit (self, signals[FINISHED], 0, self->outcomes);

  task = g_steal_pointer (&self->run_task);
  g_task_return_pointer (task, g_ptr_array_ref (self->outcomes),
                         (GDestroyNotify) g_ptr_array_unref);
  g_object_unref (task);
}

static void
gather_group_handle_event (GatherGroup       *self,
                           const GatherEvent *event)
{
  GatherTaskRecord *record = event->record;

  switch (event->kind)
    {
    case GATHER_EVENT_RETURNED:
      self->n_in_flight--;
      gather_group_record_outcome (self, record);
      gather_group_release (self, record);
      break;

    case GATHER_EVENT_ABANDONED:
      /* The body still runs; its slot and its thread are given back. */
      self->n_in_flight--;
      record->replaced = gather_pool_begin_replacement (self->pool);
      gather_group_record_outcome (self, record);
      break;

    case GATHER_EVENT_LATE:
      if (record->replaced)
        gather_pool_end_replacement (self->pool);
      gather_group_release (self, record);
      break;

    case GATHER_EVENT_SKIPPED:
      /* Its outcome was recorded when it was dropped. */
      self->n_in_flight--;
      gather_group_release (self, record);
      break;

    default:
      g_assert_not_reached ();
    }
}

/* The inbox's source: runs on the owner's context. */
static gboolean
gather_group_dispatch (gpointer user_data)
{
  GatherGroup *self = GATHER_GROUP (user_data);
  GatherInboxFlags flags;
  GArray *events;

  events = gather_inbox_take (self->inbox, &flags);

  /* Results that arrived count, even if a cancellation arrived with them. */
  for (guint i = 0; i < events->len; i++)
    gather_group_handle_event (self, &g_array_index (events, GatherEvent, i));

  gather_inbox_give_back (self->inbox, events);

  if (self->state == RUN_STATE_RUNNING)
    {
      if (flags & GATHER_INBOX_DEADLINE)
        gather_group_stop_all (self, GATHER_STOP_DEADLINE);
      if (flags & GATHER_INBOX_CANCELLED)
        gather_group_stop_all (self, GATHER_STOP_CANCELLED);

      gather_group_refill (self);
      gather_group_notify_progress (self);

      if (self->n_finished == self->tasks->len)
        gather_group_finish (self);
    }

  if (self->state == RUN_STATE_FINISHED && self->n_live == 0)
    {
      /* Nothing can post records any more: drop the source and, with it,
       * the reference it holds on the group. */
      gather_inbox_close (self->inbox);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

/* Timer thread. */
static void
gather_group_deadline_expired (gpointer data)
{
  GatherInbox *inbox = data;

  gather_inbox_post_flags (inbox, GATHER_INBOX_DEADLINE);
  gather_inbox_unref (inbox);
}

/* Any thread: the thread that cancelled the run's cancellable. */
static void
gather_group_run_cancelled (GCancellable *cancellable,
                            gpointer      data)
{
  gather_inbox_post_flags (data, GATHER_INBOX_CANCELLED);
}

/* ---- GObject ---- */

static void
gather_group_finalize (GObject *object)
{
  GatherGroup *self = (GatherGroup *)object;
  g_autoptr(GArray) destroys = NULL;

  /* A run holds a reference until every record is released, so what is
   * left here are tasks that never ran. */
  g_assert (self->state != RUN_STATE_RUNNING);

  for (guint i = 0; i < self->tasks->len; i++)
    {
      GatherTaskRecord *record = g_ptr_array_index (self->tasks, i);
      PendingDestroy pending;

      if (record == NULL)
        continue;

      pending.destroy = g_steal_pointer (&record->user_data_destroy);
      pending.data = g_steal_pointer (&record->user_data);
      gather_task_record_unref (record);

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

  g_clear_pointer (&self->tasks, g_ptr_array_unref);
  g_clear_pointer (&self->outcomes, g_ptr_array_unref);
  g_clear_pointer (&self->inbox, gather_inbox_unref);
  g_clear_pointer (&self->stop_message, g_free);
  g_clear_object (&self->pool);
  g_clear_object (&self->registry);
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

    case PROP_N_TASKS:
      g_value_set_uint (value, gather_group_get_n_tasks (self));
      break;

    case PROP_N_FINISHED:
      g_value_set_uint (value, self->n_finished);
      break;

    case PROP_FRACTION:
      g_value_set_double (value, gather_group_get_fraction (self));
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
   * its pool; 0 (the default) for no limit but the pool's. Abandoned tasks
   * (see [method@Gather.Outcome.get_abandoned]) do not count. The next task
   * starts once the group's main context has seen the previous one finish.
   * Set it before running.
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
   * How long, in milliseconds, a cancelled task's body has to return before
   * the group abandons it: records its outcome without waiting any longer
   * and lets the pool replace its thread. A body that returns within the
   * grace period ends normally with its timeout or cancellation status.
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

  g_object_class_install_properties (object_class, N_PROPS, properties);

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
  self->tasks = g_ptr_array_new ();
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

/**
 * gather_group_add_task: (skip)
 * @self: a [class@Gather.Group]
 * @label: (nullable): a short name for the task, kept in its outcome
 * @timeout_msec: the task's own timeout in milliseconds, counted from when
 *   its body starts; 0 for none
 * @func: the task body, run on a worker thread
 * @user_data: data for @func
 * @user_data_destroy: (nullable): frees @user_data, on the group's main
 *   context, once @func will not run again
 *
 * Adds a task to run when the group runs. Tasks start in the order they
 * are added, as threads become free.
 *
 * This is C API: bindings cannot run code on a worker thread.
 *
 * It is a programmer error to add a task once the group has started to run.
 *
 * Returns: the task's index, from 0 in the order tasks are added; the
 *   outcome has the same index
 *
 * Since: 1.0
 */
guint
gather_group_add_task (GatherGroup    *self,
                       const char     *label,
                       guint           timeout_msec,
                       GatherTaskFunc  func,
                       gpointer        user_data,
                       GDestroyNotify  user_data_destroy)
{
  guint index;

  g_return_val_if_fail (GATHER_IS_GROUP (self), G_MAXUINT);
  g_return_val_if_fail (func != NULL, G_MAXUINT);
  g_return_val_if_fail (self->tasks->len < G_MAXUINT - 1, G_MAXUINT);

  if (self->state != RUN_STATE_IDLE)
    {
      g_critical ("%s: tasks cannot be added to a group once it has started "
                  "running", G_STRFUNC);
      return G_MAXUINT;
    }

  index = self->tasks->len;
  g_ptr_array_add (self->tasks,
                   gather_task_record_new (index, label, timeout_msec, func,
                                           user_data, user_data_destroy));
  self->n_live++;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TASKS]);

  return index;
}

typedef struct
{
  GatherWorker *worker;
  GVariant     *parameters;
} WorkerTask;

static void
worker_task_free (gpointer data)
{
  WorkerTask *task = data;

  g_object_unref (task->worker);
  g_variant_unref (task->parameters);
  g_free (task);
}

static GVariant *
gather_group_run_worker (GCancellable  *cancellable,
                         gpointer       user_data,
                         GError       **error)
{
  WorkerTask *task = user_data;

  return gather_worker_invoke (task->worker, task->parameters, cancellable, error);
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
 * Adds a task that runs a [iface@Gather.Worker]. @parameters are checked
 * against what the worker declares before anything is queued (see
 * [method@Gather.Worker.check_parameters]). This is how bindings add work.
 *
 * The task's result is checked against the type the worker declares: a
 * worker that returns a value of another type, or nothing, makes an
 * [enum@Gather.Status.ERROR] outcome with
 * [error@Gather.Error.INVALID_RESULT].
 *
 * Returns: the task's index, or `G_MAXUINT` with @error set to
 *   [error@Gather.Error.UNKNOWN_WORKER],
 *   [error@Gather.Error.INVALID_PARAMETERS], or
 *   [error@Gather.Error.ALREADY_STARTED] if the group has started running
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
  WorkerTask *task;

  g_return_val_if_fail (GATHER_IS_GROUP (self), G_MAXUINT);
  g_return_val_if_fail (worker != NULL, G_MAXUINT);
  g_return_val_if_fail (error == NULL || *error == NULL, G_MAXUINT);

  params = parameters != NULL ? g_variant_ref_sink (parameters)
                              : g_variant_ref_sink (g_variant_new ("a{sv}", NULL));

  if (self->state != RUN_STATE_IDLE)
    {
      g_set_error_literal (error, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED,
                           "Tasks cannot be added to a group that has started running");
      return G_MAXUINT;
    }

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

  task = g_new (WorkerTask, 1);
  task->worker = g_object_ref (found);
  task->parameters = g_steal_pointer (&params);

  return gather_group_add_task (self, label != NULL ? label : gather_worker_get_name (found),
                                timeout_msec, gather_group_run_worker, task, worker_task_free);
}

/**
 * gather_group_run_async:
 * @self: a [class@Gather.Group]
 * @cancellable: (nullable): cancels every task that has no outcome yet
 * @callback: (scope async) (closure user_data): called on the group's main
 *   context once every task has an outcome
 * @user_data: data for @callback
 *
 * Runs the group's tasks. Each ends with exactly one
 * [struct@Gather.Outcome]; when they all have one, the group emits
 * [signal@Gather.Group::finished] and then calls @callback, in which call
 * [method@Gather.Group.run_finish] to get the outcomes.
 *
 * Cancelling @cancellable cancels every task that has no outcome yet: their
 * outcomes are [enum@Gather.Status.CANCELLED] and the run still completes
 * with every outcome, rather than with an error.
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

  g_return_if_fail (GATHER_IS_GROUP (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  gather_group_return_if_not_owner (self);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gather_group_run_async);
  g_task_set_check_cancellable (task, FALSE);

  if (self->state != RUN_STATE_IDLE)
    {
      g_task_return_new_error (task, GATHER_ERROR, GATHER_ERROR_ALREADY_STARTED,
                               self->state == RUN_STATE_RUNNING
                                 ? "The group is already running"
                                 : "The group has already run; a group runs once");
      return;
    }

  self->state = RUN_STATE_RUNNING;
  self->run_task = g_steal_pointer (&task);
  self->queued_time = g_get_monotonic_time ();

  if (self->pool == NULL)
    self->pool = gather_pool_new (0);

  self->outcomes = g_ptr_array_new_full (self->tasks->len,
                                         (GDestroyNotify) gather_outcome_unref);
  g_ptr_array_set_size (self->outcomes, self->tasks->len);

  /* The inbox's source holds a reference on the group until the run is
   * over and every task's body has returned. */
  self->inbox = gather_inbox_new (self->context, gather_group_dispatch,
                                  g_object_ref (self), g_object_unref);

  if (self->deadline_msec > 0)
    {
      gint64 when = self->queued_time + (gint64) self->deadline_msec * 1000;

      /* The timer's reference, taken before the timer can fire. */
      gather_inbox_ref (self->inbox);
      if (!gather_timer_schedule (gather_inbox_get_timer (self->inbox), when,
                                  gather_group_deadline_expired, self->inbox))
        g_assert_not_reached ();
    }

  if (cancellable != NULL)
    {
      self->run_cancellable = g_object_ref (cancellable);
      self->cancelled_id =
        g_cancellable_connect (cancellable,
                               G_CALLBACK (gather_group_run_cancelled),
                               gather_inbox_ref (self->inbox),
                               (GDestroyNotify) gather_inbox_unref);
    }

  /* Tasks are pushed from the inbox's first dispatch, on this context. */
  gather_inbox_post_flags (self->inbox, GATHER_INBOX_START);
}

/**
 * gather_group_run_finish:
 * @self: a [class@Gather.Group]
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Gather.Group.run_async].
 *
 * Returns: (transfer container) (element-type GatherOutcome): one outcome
 *   per task, in the order the tasks were added, or `NULL` with @error set
 *   if the group had already run
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
 * @cancellable: (nullable): cancels every task that has no outcome yet
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
 * May be called from any thread.
 *
 * Returns: (transfer container) (element-type GatherOutcome): one outcome
 *   per task, in the order the tasks were added, or `NULL` with @error set
 *   if the group had already run
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

  return self->tasks->len;
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

  return self->n_finished;
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

  if (self->tasks->len == 0)
    return self->state == RUN_STATE_FINISHED ? 1.0 : 0.0;

  return (double) self->n_finished / (double) self->tasks->len;
}

/**
 * gather_group_get_n_running:
 * @self: a [class@Gather.Group]
 *
 * Gets how many of the group's task bodies are running now on worker
 * threads, abandoned ones included. It changes on worker threads, so it is
 * not a property and is never notified: poll it, for example to show a
 * progress line. Thread-safe.
 *
 * Returns: the number of task bodies running now
 *
 * Since: 1.0
 */
guint
gather_group_get_n_running (GatherGroup *self)
{
  g_return_val_if_fail (GATHER_IS_GROUP (self), 0);

  return self->inbox != NULL ? gather_inbox_get_n_running (self->inbox) : 0;
}
