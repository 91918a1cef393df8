/* gather-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-enums.h"
#include "gather-group-private.h"
#include "gather-outcome-private.h"
#include "gather-task-private.h"

/**
 * GatherTask:
 *
 * One task of a [class@Gather.Group], as a live object: the items of
 * [property@Gather.Group:tasks], a [iface@Gio.ListModel] with one task per
 * task added, in the order they were added.
 *
 * Its properties follow the task as it moves: [property@Gather.Task:state]
 * goes from queued to running (and, for a task tried again, to waiting and
 * running again) to a final state that matches its outcome's status;
 * [property@Gather.Task:result], [property@Gather.Task:error] and
 * [property@Gather.Task:outcome] are set when it ends, and
 * [property@Gather.Task:abandoned] can become `TRUE` after that, as
 * [method@Gather.Outcome.get_abandoned] does. A `GtkColumnView` over the
 * model shows a live table with property expressions alone:
 *
 * ```js
 * const state = Gtk.PropertyExpression.new(Gather.Task, null, 'state');
 * const factory = new Gtk.SignalListItemFactory();
 * factory.connect('setup', (_factory, item) => {
 *     item.child = new Gtk.Label();
 *     // label ← item.item.label, updated whenever the task changes
 *     Gtk.PropertyExpression.new(Gather.Task,
 *         Gtk.PropertyExpression.new(Gtk.ListItem, null, 'item'), 'label')
 *         .bind(item.child, 'label', item);
 * });
 * ```
 *
 * Notifications are emitted on the group's main context only, batched: a
 * task changed by several events in one iteration of that context is
 * notified once per property, with every property already up to date. In
 * one iteration, the tasks' notifications come first, then
 * [signal@Gather.Group::task-finished] for the outcomes recorded, then the
 * group's progress properties. A task is in the model
 * ([signal@Gio.ListModel::items-changed] emitted) before its first
 * notification.
 *
 * Task objects are created when the model is asked for them, so a group
 * whose model nobody looks at pays nothing for it; once created, the model
 * keeps them for the group's life.
 *
 * [property@Gather.Task:priority] and [property@Gather.Task:retry-policy]
 * can be set; the other properties are read-only. Use a task from the
 * group's main context only.
 *
 * Since: 1.0
 */
struct _GatherTask
{
  GObject            parent_instance;

  /* Owner's context only. */
  GatherGroup       *group;          /* not owned; NULL once the group is gone */
  guint              index;
  GatherTaskKind     kind;
  GatherTaskState    state;
  char              *label;
  guint              attempt;
  gint               priority;
  GatherRetryPolicy *retry_policy;   /* owned */
  gint64             start_time;
  gint64             finish_time;
  GVariant          *result;         /* owned */
  GError            *error;          /* owned */
  GatherOutcome     *outcome;        /* owned */
  gboolean           abandoned;
  guint              pending;        /* 1 << PROP_*: notifications queued */
};

enum {
  PROP_0,
  PROP_INDEX,
  PROP_LABEL,
  PROP_KIND,
  PROP_STATE,
  PROP_FINISHED,
  PROP_START_TIME,
  PROP_FINISH_TIME,
  PROP_ELAPSED,
  PROP_RESULT,
  PROP_ERROR,
  PROP_ABANDONED,
  PROP_ATTEMPT,
  PROP_OUTCOME,
  PROP_PRIORITY,
  PROP_RETRY_POLICY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (GatherTask, gather_task, G_TYPE_OBJECT)

#define PENDING(prop) (1u << (prop))

static void
gather_task_finalize (GObject *object)
{
  GatherTask *self = (GatherTask *)object;

  g_clear_object (&self->retry_policy);
  g_clear_pointer (&self->result, g_variant_unref);
  g_clear_error (&self->error);
  g_clear_pointer (&self->outcome, gather_outcome_unref);
  g_free (self->label);

  G_OBJECT_CLASS (gather_task_parent_class)->finalize (object);
}

static void
gather_task_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  GatherTask *self = GATHER_TASK (object);

  switch (prop_id)
    {
    case PROP_INDEX:
      g_value_set_uint (value, self->index);
      break;

    case PROP_LABEL:
      g_value_set_string (value, self->label);
      break;

    case PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_FINISHED:
      g_value_set_boolean (value, gather_task_get_finished (self));
      break;

    case PROP_START_TIME:
      g_value_set_int64 (value, self->start_time);
      break;

    case PROP_FINISH_TIME:
      g_value_set_int64 (value, self->finish_time);
      break;

    case PROP_ELAPSED:
      g_value_set_int64 (value, gather_task_get_elapsed (self));
      break;

    case PROP_RESULT:
      g_value_set_variant (value, self->result);
      break;

    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;

    case PROP_ABANDONED:
      g_value_set_boolean (value, self->abandoned);
      break;

    case PROP_ATTEMPT:
      g_value_set_uint (value, self->attempt);
      break;

    case PROP_OUTCOME:
      g_value_set_boxed (value, self->outcome);
      break;

    case PROP_PRIORITY:
      g_value_set_int (value, self->priority);
      break;

    case PROP_RETRY_POLICY:
      g_value_set_object (value, self->retry_policy);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gather_task_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  GatherTask *self = GATHER_TASK (object);

  switch (prop_id)
    {
    case PROP_PRIORITY:
      gather_task_set_priority (self, g_value_get_int (value));
      break;

    case PROP_RETRY_POLICY:
      gather_task_set_retry_policy (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gather_task_class_init (GatherTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = gather_task_finalize;
  object_class->get_property = gather_task_get_property;
  object_class->set_property = gather_task_set_property;

  /**
   * GatherTask:index:
   *
   * The task's position in its group, from 0 in the order tasks were
   * added: what the `add` method returned, and the index of its outcome.
   *
   * Since: 1.0
   */
  properties[PROP_INDEX] =
    g_param_spec_uint ("index", NULL, NULL, 0, G_MAXUINT, 0, ro);

  /**
   * GatherTask:label:
   *
   * The label the task was added with, or `NULL`.
   *
   * Since: 1.0
   */
  properties[PROP_LABEL] =
    g_param_spec_string ("label", NULL, NULL, NULL, ro);

  /**
   * GatherTask:kind:
   *
   * How the task runs. A plugin worker task that the group runs in a
   * helper process (see [property@Gather.Group:isolate-workers]) changes
   * from %GATHER_TASK_KIND_WORKER to %GATHER_TASK_KIND_ISOLATED when it
   * starts.
   *
   * Since: 1.0
   */
  properties[PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL,
                       GATHER_TYPE_TASK_KIND, GATHER_TASK_KIND_THREAD, ro);

  /**
   * GatherTask:state:
   *
   * Where the task is in its life; a final state once it has an outcome.
   * A thread task's start is seen on the group's main context when that
   * context next runs, so a short task can go from queued to its final
   * state in one notification.
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       GATHER_TYPE_TASK_STATE, GATHER_TASK_STATE_QUEUED, ro);

  /**
   * GatherTask:finished:
   *
   * Whether the task has its outcome: [property@Gather.Task:state] is
   * final. Handy for a filter.
   *
   * Since: 1.0
   */
  properties[PROP_FINISHED] =
    g_param_spec_boolean ("finished", NULL, NULL, FALSE, ro);

  /**
   * GatherTask:start-time:
   *
   * When the task's first attempt started, from
   * [func@GLib.get_monotonic_time] in microseconds; 0 until then.
   *
   * Since: 1.0
   */
  properties[PROP_START_TIME] =
    g_param_spec_int64 ("start-time", NULL, NULL, 0, G_MAXINT64, 0, ro);

  /**
   * GatherTask:finish-time:
   *
   * When the task's outcome was recorded, from
   * [func@GLib.get_monotonic_time] in microseconds; 0 until then.
   *
   * Since: 1.0
   */
  properties[PROP_FINISH_TIME] =
    g_param_spec_int64 ("finish-time", NULL, NULL, 0, G_MAXINT64, 0, ro);

  /**
   * GatherTask:elapsed:
   *
   * How long the task has run, in microseconds, from the start of its
   * first attempt to its outcome (or to now, while it runs); 0 before it
   * starts. It is notified when the state changes, not as time passes: a
   * view that shows a running clock reads it again on a timer.
   *
   * Since: 1.0
   */
  properties[PROP_ELAPSED] =
    g_param_spec_int64 ("elapsed", NULL, NULL, 0, G_MAXINT64, 0, ro);

  /**
   * GatherTask:result:
   *
   * The task's result once it has succeeded, `NULL` otherwise.
   *
   * Since: 1.0
   */
  properties[PROP_RESULT] =
    g_param_spec_variant ("result", NULL, NULL, G_VARIANT_TYPE_ANY, NULL, ro);

  /**
   * GatherTask:error:
   *
   * The error of the task's outcome once it ended without a result; while
   * it waits for (or runs) another attempt, the error of the attempt
   * before. `NULL` otherwise.
   *
   * Since: 1.0
   */
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR, ro);

  /**
   * GatherTask:abandoned:
   *
   * Whether the task ignored its cancellation past the group's grace
   * period: see [method@Gather.Outcome.get_abandoned]. It can become
   * `TRUE` after the task reached its final state.
   *
   * Since: 1.0
   */
  properties[PROP_ABANDONED] =
    g_param_spec_boolean ("abandoned", NULL, NULL, FALSE, ro);

  /**
   * GatherTask:attempt:
   *
   * The number of the attempt running now, or of the last one, from 1; 0
   * before the first starts. Above 1 only for a task tried again by a
   * [class@Gather.RetryPolicy].
   *
   * Since: 1.0
   */
  properties[PROP_ATTEMPT] =
    g_param_spec_uint ("attempt", NULL, NULL, 0, G_MAXUINT, 0, ro);

  /**
   * GatherTask:outcome:
   *
   * The task's outcome once it has one, the same one
   * [signal@Gather.Group::task-finished] and
   * [signal@Gather.Group::finished] deliver; `NULL` until then.
   *
   * Since: 1.0
   */
  properties[PROP_OUTCOME] =
    g_param_spec_boxed ("outcome", NULL, NULL, GATHER_TYPE_OUTCOME, ro);

  /**
   * GatherTask:priority:
   *
   * Among the group's queued tasks, those with a higher priority start
   * first; equal priorities start in the order the tasks were added. The
   * default is 0. Setting it affects the task only while it is queued
   * (and its later attempts).
   *
   * The group orders the tasks it hands to its runners: async tasks and,
   * with [property@Gather.Group:max-concurrent] set, every task start
   * strictly by priority. Without max-concurrent, a group hands thread
   * tasks to its [class@Gather.Pool] up to 8192 at a time, where they wait
   * in the order handed over, behind the tasks of other groups on a shared
   * pool; a priority set or a task added after that does not pass them.
   * Set max-concurrent (to the pool's size, say) for strict priorities.
   *
   * Since: 1.0
   */
  properties[PROP_PRIORITY] =
    g_param_spec_int ("priority", NULL, NULL, G_MININT, G_MAXINT, 0, rw);

  /**
   * GatherTask:retry-policy:
   *
   * How the task is tried again when an attempt fails, or `NULL` (the
   * default) for the group's [property@Gather.Group:retry-policy]. It is
   * read each time an attempt ends.
   *
   * Since: 1.0
   */
  properties[PROP_RETRY_POLICY] =
    g_param_spec_object ("retry-policy", NULL, NULL, GATHER_TYPE_RETRY_POLICY, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gather_task_init (GatherTask *self)
{
}

GatherTask *
gather_task_new (GatherGroup       *group,
                 guint              index,
                 GatherTaskKind     kind,
                 const char        *label,
                 gint               priority,
                 GatherRetryPolicy *retry_policy)
{
  GatherTask *self = g_object_new (GATHER_TYPE_TASK, NULL);

  self->group = group;
  self->index = index;
  self->kind = kind;
  self->label = g_strdup (label);
  self->priority = priority;
  g_set_object (&self->retry_policy, retry_policy);

  return self;
}

/* The group is gone: setters do nothing from now on. */
void
gather_task_detach (GatherTask *self)
{
  self->group = NULL;
}

static gboolean
gather_task_queue (GatherTask *self,
                   guint       pending)
{
  gboolean was_clean = self->pending == 0;

  self->pending |= pending;

  return was_clean;
}

static guint
gather_task_set_state (GatherTask      *self,
                       GatherTaskState  state)
{
  gboolean was_finished = gather_task_get_finished (self);

  if (self->state == state)
    return 0;

  self->state = state;

  return PENDING (PROP_STATE) | PENDING (PROP_ELAPSED) |
         (gather_task_get_finished (self) != was_finished ? PENDING (PROP_FINISHED) : 0);
}

/* A plugin worker task becomes an isolated one when it starts in a helper. */
static guint
gather_task_set_kind (GatherTask     *self,
                      GatherTaskKind  kind)
{
  if (self->kind == kind)
    return 0;

  self->kind = kind;

  return PENDING (PROP_KIND);
}

gboolean
gather_task_update_running (GatherTask     *self,
                            GatherTaskKind  kind,
                            guint           attempt,
                            gint64          start_time)
{
  guint pending = gather_task_set_state (self, GATHER_TASK_STATE_RUNNING);

  pending |= gather_task_set_kind (self, kind);

  if (self->attempt != attempt)
    {
      self->attempt = attempt;
      pending |= PENDING (PROP_ATTEMPT);
    }
  if (self->start_time == 0 && start_time != 0)
    {
      self->start_time = start_time;
      pending |= PENDING (PROP_START_TIME) | PENDING (PROP_ELAPSED);
    }

  return pending != 0 && gather_task_queue (self, pending);
}

gboolean
gather_task_update_queued (GatherTask *self)
{
  guint pending = gather_task_set_state (self, GATHER_TASK_STATE_QUEUED);

  return pending != 0 && gather_task_queue (self, pending);
}

/* An attempt failed and another comes: keep its error to show. */
gboolean
gather_task_update_waiting (GatherTask    *self,
                            GatherOutcome *attempt_outcome)
{
  guint pending = gather_task_set_state (self, GATHER_TASK_STATE_WAITING);
  guint attempt = gather_outcome_get_attempts (attempt_outcome);

  g_clear_error (&self->error);
  self->error = g_error_copy (gather_outcome_get_error (attempt_outcome));
  pending |= PENDING (PROP_ERROR);

  if (self->attempt != attempt)
    {
      self->attempt = attempt;
      pending |= PENDING (PROP_ATTEMPT);
    }
  if (self->start_time == 0)
    {
      self->start_time = gather_outcome_get_start_time (attempt_outcome);
      pending |= PENDING (PROP_START_TIME);
    }

  return gather_task_queue (self, pending);
}

gboolean
gather_task_update_outcome (GatherTask    *self,
                            GatherOutcome *outcome)
{
  GatherStatus status = gather_outcome_get_status (outcome);
  GError *error = gather_outcome_get_error (outcome);
  GVariant *result = gather_outcome_get_result (outcome);
  guint pending;

  g_assert (self->outcome == NULL);

  pending = gather_task_set_state (self, GATHER_TASK_STATE_OK + status);
  pending |= gather_task_set_kind (self, gather_outcome_get_kind (outcome));
  self->outcome = gather_outcome_ref (outcome);
  pending |= PENDING (PROP_OUTCOME) | PENDING (PROP_FINISH_TIME) | PENDING (PROP_ELAPSED);
  self->finish_time = gather_outcome_get_finish_time (outcome);

  if (self->start_time != gather_outcome_get_start_time (outcome))
    {
      self->start_time = gather_outcome_get_start_time (outcome);
      pending |= PENDING (PROP_START_TIME);
    }
  if (self->attempt != gather_outcome_get_attempts (outcome))
    {
      self->attempt = gather_outcome_get_attempts (outcome);
      pending |= PENDING (PROP_ATTEMPT);
    }
  if (result != NULL)
    {
      self->result = g_variant_ref (result);
      pending |= PENDING (PROP_RESULT);
    }
  if (error != NULL || self->error != NULL)
    {
      g_clear_error (&self->error);
      self->error = error != NULL ? g_error_copy (error) : NULL;
      pending |= PENDING (PROP_ERROR);
    }
  if (!self->abandoned && gather_outcome_get_abandoned (outcome))
    {
      self->abandoned = TRUE;
      pending |= PENDING (PROP_ABANDONED);
    }

  return gather_task_queue (self, pending);
}

gboolean
gather_task_update_abandoned (GatherTask *self)
{
  if (self->abandoned)
    return FALSE;

  self->abandoned = TRUE;

  return gather_task_queue (self, PENDING (PROP_ABANDONED));
}

/* Emits the queued notifications, in property order, all at once. */
void
gather_task_flush (GatherTask *self)
{
  guint pending = self->pending;

  if (pending == 0)
    return;

  self->pending = 0;

  g_object_freeze_notify (G_OBJECT (self));
  for (guint prop = PROP_INDEX; prop < N_PROPS; prop++)
    if (pending & PENDING (prop))
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
  g_object_thaw_notify (G_OBJECT (self));
}

/* A new task, filled in before anybody could connect to it. */
void
gather_task_clear_pending (GatherTask *self)
{
  self->pending = 0;
}

/**
 * gather_task_get_index:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:index].
 *
 * Returns: the task's index in its group
 *
 * Since: 1.0
 */
guint
gather_task_get_index (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), 0);

  return self->index;
}

/**
 * gather_task_get_label:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:label].
 *
 * Returns: (nullable): the task's label
 *
 * Since: 1.0
 */
const char *
gather_task_get_label (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), NULL);

  return self->label;
}

/**
 * gather_task_get_kind:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:kind].
 *
 * Returns: how the task runs
 *
 * Since: 1.0
 */
GatherTaskKind
gather_task_get_kind (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), GATHER_TASK_KIND_THREAD);

  return self->kind;
}

/**
 * gather_task_get_state:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:state].
 *
 * Returns: where the task is in its life
 *
 * Since: 1.0
 */
GatherTaskState
gather_task_get_state (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), GATHER_TASK_STATE_QUEUED);

  return self->state;
}

/**
 * gather_task_get_finished:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:finished].
 *
 * Returns: whether the task has its outcome
 *
 * Since: 1.0
 */
gboolean
gather_task_get_finished (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), FALSE);

  return self->state >= GATHER_TASK_STATE_OK;
}

/**
 * gather_task_get_start_time:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:start-time].
 *
 * Returns: when the first attempt started, or 0
 *
 * Since: 1.0
 */
gint64
gather_task_get_start_time (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), 0);

  return self->start_time;
}

/**
 * gather_task_get_finish_time:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:finish-time].
 *
 * Returns: when the outcome was recorded, or 0
 *
 * Since: 1.0
 */
gint64
gather_task_get_finish_time (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), 0);

  return self->finish_time;
}

/**
 * gather_task_get_elapsed:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:elapsed].
 *
 * Returns: how long the task has run, in microseconds
 *
 * Since: 1.0
 */
gint64
gather_task_get_elapsed (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), 0);

  if (self->start_time == 0)
    return 0;
  if (self->finish_time != 0)
    return MAX (self->finish_time - self->start_time, 0);

  return MAX (g_get_monotonic_time () - self->start_time, 0);
}

/**
 * gather_task_get_result:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:result].
 *
 * Returns: (transfer none) (nullable): the result, or `NULL`
 *
 * Since: 1.0
 */
GVariant *
gather_task_get_result (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), NULL);

  return self->result;
}

/**
 * gather_task_get_error:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:error]. The error belongs to @self: do not
 * modify or free it.
 *
 * Returns: (transfer none) (nullable): the error, or `NULL`
 *
 * Since: 1.0
 */
GError *
gather_task_get_error (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), NULL);

  return self->error;
}

/**
 * gather_task_get_abandoned:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:abandoned].
 *
 * Returns: whether the task was abandoned
 *
 * Since: 1.0
 */
gboolean
gather_task_get_abandoned (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), FALSE);

  return self->abandoned;
}

/**
 * gather_task_get_attempt:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:attempt].
 *
 * Returns: the number of the current or last attempt, or 0
 *
 * Since: 1.0
 */
guint
gather_task_get_attempt (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), 0);

  return self->attempt;
}

/**
 * gather_task_get_outcome:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:outcome].
 *
 * Returns: (transfer none) (nullable): the outcome, or `NULL` until the
 *   task has one
 *
 * Since: 1.0
 */
GatherOutcome *
gather_task_get_outcome (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), NULL);

  return self->outcome;
}

/**
 * gather_task_get_priority:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:priority].
 *
 * Returns: the task's priority
 *
 * Since: 1.0
 */
gint
gather_task_get_priority (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), 0);

  return self->priority;
}

/**
 * gather_task_set_priority:
 * @self: a [class@Gather.Task]
 * @priority: higher starts first; 0 is the default
 *
 * Sets [property@Gather.Task:priority]. Call it on the group's main
 * context.
 *
 * Since: 1.0
 */
void
gather_task_set_priority (GatherTask *self,
                          gint        priority)
{
  g_return_if_fail (GATHER_IS_TASK (self));

  if (self->priority == priority)
    return;

  self->priority = priority;
  if (self->group != NULL)
    gather_group_set_task_priority (self->group, self->index, priority);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRIORITY]);
}

/**
 * gather_task_get_retry_policy:
 * @self: a [class@Gather.Task]
 *
 * Gets [property@Gather.Task:retry-policy].
 *
 * Returns: (transfer none) (nullable): the task's own retry policy, or
 *   `NULL` if it follows the group's
 *
 * Since: 1.0
 */
GatherRetryPolicy *
gather_task_get_retry_policy (GatherTask *self)
{
  g_return_val_if_fail (GATHER_IS_TASK (self), NULL);

  return self->retry_policy;
}

/**
 * gather_task_set_retry_policy:
 * @self: a [class@Gather.Task]
 * @policy: (nullable): how to retry the task, or `NULL` for the group's
 *   [property@Gather.Group:retry-policy]
 *
 * Sets [property@Gather.Task:retry-policy]. Call it on the group's main
 * context; it applies from the next attempt that ends.
 *
 * Since: 1.0
 */
void
gather_task_set_retry_policy (GatherTask        *self,
                              GatherRetryPolicy *policy)
{
  g_return_if_fail (GATHER_IS_TASK (self));
  g_return_if_fail (policy == NULL || GATHER_IS_RETRY_POLICY (policy));

  if (!g_set_object (&self->retry_policy, policy))
    return;

  if (self->group != NULL)
    gather_group_set_task_retry_policy (self->group, self->index, policy);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_POLICY]);
}
