/* gather-outcome.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <gio/gio.h>

#include "gather-outcome-private.h"

/**
 * GatherOutcome:
 *
 * How one task of a [class@Gather.Group] ended: its
 * [enum@Gather.Status], its result or its error, and when it was queued,
 * started and finished.
 *
 * Outcomes are reference counted and thread-safe to read and to pass
 * between threads. They do not change once recorded, but for one flag:
 * [method@Gather.Outcome.get_abandoned] can become `TRUE` later.
 * [signal@Gather.Group::task-finished] hands out each outcome as it is
 * recorded, and [signal@Gather.Group::finished] and
 * [method@Gather.Group.run_finish] all of them, in the order the tasks were
 * added.
 *
 * Since: 1.0
 */
struct _GatherOutcome
{
  gint          ref_count;     /* atomic */
  guint         index;
  GatherStatus  status;
  gint          flags;         /* atomic OUTCOME_ bits: set once, never cleared */
  guint         attempts;
  guint8        kind;          /* GatherTaskKind, for gather-task.c */
  char         *label;
  GVariant     *result;
  GError       *error;
  gint64        queued_time;
  gint64        start_time;
  gint64        finish_time;
};

enum
{
  OUTCOME_ABANDONED = 1 << 0,
  OUTCOME_KILLED    = 1 << 1,
};

G_DEFINE_BOXED_TYPE (GatherOutcome, gather_outcome, gather_outcome_ref, gather_outcome_unref)

/* For the GatherSlab of outcomes. */
gsize
gather_outcome_size (void)
{
  return sizeof (GatherOutcome);
}

/* Takes @label, @result and @error. @slab: where to allocate it; the
 * caller's (see gather-slab-private.h). */
GatherOutcome *
gather_outcome_new (GatherSlab   *slab,
                    guint         index,
                    char         *label,
                    GatherStatus  status,
                    GVariant     *result,
                    GError       *error,
                    gboolean      abandoned,
                    gint64        queued_time,
                    gint64        start_time,
                    gint64        finish_time)
{
  GatherOutcome *self = gather_slab_alloc (slab);

  g_assert ((status == GATHER_STATUS_OK) == (result != NULL));
  g_assert ((status == GATHER_STATUS_OK) == (error == NULL));

  self->ref_count = 1;
  self->index = index;
  self->status = status;
  self->flags = abandoned ? OUTCOME_ABANDONED : 0;
  self->attempts = start_time != 0 ? 1 : 0;
  self->label = label;
  self->result = result;
  self->error = error;
  self->queued_time = queued_time;
  self->start_time = start_time;
  self->finish_time = finish_time;

  return self;
}

/**
 * gather_outcome_ref:
 * @self: a [struct@Gather.Outcome]
 *
 * Takes a reference on @self. Thread-safe.
 *
 * Returns: (transfer full): @self
 *
 * Since: 1.0
 */
GatherOutcome *
gather_outcome_ref (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&self->ref_count);

  return self;
}

/**
 * gather_outcome_unref:
 * @self: (transfer full): a [struct@Gather.Outcome]
 *
 * Drops a reference on @self, freeing it when it was the last. Thread-safe.
 *
 * Since: 1.0
 */
void
gather_outcome_unref (GatherOutcome *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;

  g_clear_pointer (&self->result, g_variant_unref);
  g_clear_error (&self->error);
  g_free (self->label);
  gather_slab_free (self);
}

/**
 * gather_outcome_get_index:
 * @self: a [struct@Gather.Outcome]
 *
 * Gets the position of the task in its group, counting from 0 in the order
 * the tasks were added: the value [method@Gather.Group.add_task] returned.
 *
 * Returns: the task's index
 *
 * Since: 1.0
 */
guint
gather_outcome_get_index (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->index;
}

/**
 * gather_outcome_get_label:
 * @self: a [struct@Gather.Outcome]
 *
 * Gets the label the task was added with.
 *
 * Returns: (nullable): the task's label
 *
 * Since: 1.0
 */
const char *
gather_outcome_get_label (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->label;
}

/**
 * gather_outcome_get_status:
 * @self: a [struct@Gather.Outcome]
 *
 * Gets how the task ended.
 *
 * Returns: the task's status
 *
 * Since: 1.0
 */
GatherStatus
gather_outcome_get_status (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, GATHER_STATUS_ERROR);

  return self->status;
}

/**
 * gather_outcome_get_result:
 * @self: a [struct@Gather.Outcome]
 *
 * Gets the task's result. Only [enum@Gather.Status.OK] outcomes have one.
 *
 * Returns: (transfer none) (nullable): the result, or `NULL` if the task
 *   did not succeed
 *
 * Since: 1.0
 */
GVariant *
gather_outcome_get_result (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->result;
}

/**
 * gather_outcome_get_error:
 * @self: a [struct@Gather.Outcome]
 *
 * Gets the error of a task that did not succeed: the task's own error for
 * [enum@Gather.Status.ERROR], [error@Gather.Error.TIMED_OUT] or
 * [error@Gather.Error.DEADLINE_EXCEEDED] for [enum@Gather.Status.TIMEOUT],
 * and `G_IO_ERROR_CANCELLED` for [enum@Gather.Status.CANCELLED]. The error
 * belongs to @self: do not modify or free it.
 *
 * Returns: (transfer none) (nullable): the error, or `NULL` if the task
 *   succeeded
 *
 * Since: 1.0
 */
GError *
gather_outcome_get_error (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->error;
}

/**
 * gather_outcome_propagate_result:
 * @self: a [struct@Gather.Outcome]
 * @error: return location for the task's error
 *
 * Gets the task's result, or its error the way functions that can fail
 * return one: in C through @error, in bindings as an exception.
 *
 * Returns: (transfer full): the result, or `NULL` with @error set to a copy
 *   of the task's error
 *
 * Since: 1.0
 */
GVariant *
gather_outcome_propagate_result (GatherOutcome  *self,
                                 GError        **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return NULL;
    }

  return g_variant_ref (self->result);
}

/**
 * gather_outcome_get_abandoned:
 * @self: a [struct@Gather.Outcome]
 *
 * Gets whether the task ignored its cancellation: it was stopped (by its
 * timeout, the group's deadline, the run's cancellable or the policy), and
 * its body (or its asynchronous operation) had not returned within the
 * group's [property@Gather.Group:grace-period] after its cancellable was
 * cancelled. A well-behaved task is never abandoned.
 *
 * A stopped task's outcome is recorded the moment it is stopped, without
 * waiting for the body, so this can become `TRUE` after the outcome was
 * delivered by [signal@Gather.Group::task-finished] or
 * [signal@Gather.Group::finished]: once the grace period is over, on the
 * group's main context. It never goes back to `FALSE`. Whatever the body
 * returns later is freed unseen; the pool replaces the thread it holds (see
 * [class@Gather.Pool]).
 *
 * Returns: `TRUE` if the task was abandoned
 *
 * Since: 1.0
 */
gboolean
gather_outcome_get_abandoned (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return (g_atomic_int_get (&self->flags) & OUTCOME_ABANDONED) != 0;
}

/* Owner's context: the grace period passed after the outcome was
 * recorded. */
void
gather_outcome_set_abandoned (GatherOutcome *self)
{
  g_atomic_int_or (&self->flags, OUTCOME_ABANDONED);
}

/**
 * gather_outcome_get_killed:
 * @self: a [struct@Gather.Outcome]
 *
 * Gets whether the task ran in a helper process (see
 * [property@Gather.Group:isolate-workers]) that gather killed: the task was
 * stopped, by its timeout, the group's deadline, the run's cancellable or
 * the policy, and had not returned within the group's
 * [property@Gather.Group:grace-period] after it was due to stop: its
 * timeout if that stopped it, otherwise when it was asked to cancel. (If
 * gather gets to a timeout later than that, on a loaded machine, the task
 * is killed as soon as it is asked to cancel.) The helper process was then
 * killed with `SIGKILL`, with every process it had
 * started, and nothing of the task runs on. The outcome's status says why
 * the task was stopped, [enum@Gather.Status.TIMEOUT] for a timeout.
 *
 * Like [method@Gather.Outcome.get_abandoned], this can become `TRUE` after
 * the outcome was delivered, which happens when the task is stopped: it
 * does once the helper's processes are all gone, on the group's main
 * context, and never goes back to `FALSE`. A killed task is not abandoned.
 *
 * Returns: `TRUE` if the task's helper process was killed
 *
 * Since: 1.0
 */
gboolean
gather_outcome_get_killed (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return (g_atomic_int_get (&self->flags) & OUTCOME_KILLED) != 0;
}

/* Owner's context: the helper that ran the task was killed and is gone. */
void
gather_outcome_set_killed (GatherOutcome *self)
{
  g_atomic_int_or (&self->flags, OUTCOME_KILLED);
}

/**
 * gather_outcome_get_queued_time:
 * @self: a [struct@Gather.Outcome]
 *
 * Gets when the task was queued: when the group's run started.
 *
 * Returns: a time from [func@GLib.get_monotonic_time], in microseconds
 *
 * Since: 1.0
 */
gint64
gather_outcome_get_queued_time (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->queued_time;
}

/**
 * gather_outcome_get_start_time:
 * @self: a [struct@Gather.Outcome]
 *
 * Gets when the task started: when a pool thread started its body, or when
 * its async start function was called. The task's own timeout is counted
 * from this time. For a task that was tried again (see
 * [class@Gather.RetryPolicy]), this is when its first attempt started, and
 * each attempt's timeout counts from its own start.
 *
 * Returns: a time from [func@GLib.get_monotonic_time] in microseconds, or 0
 *   if the task never started
 *
 * Since: 1.0
 */
gint64
gather_outcome_get_start_time (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->start_time;
}

/**
 * gather_outcome_get_finish_time:
 * @self: a [struct@Gather.Outcome]
 *
 * Gets when the outcome was recorded on the group's main context.
 *
 * Returns: a time from [func@GLib.get_monotonic_time], in microseconds
 *
 * Since: 1.0
 */
gint64
gather_outcome_get_finish_time (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->finish_time;
}

/**
 * gather_outcome_get_attempts:
 * @self: a [struct@Gather.Outcome]
 *
 * Gets how many attempts of the task started: 1 for a task that ran once,
 * more for one tried again by a [class@Gather.RetryPolicy], 0 for one that
 * never started. The outcome is the last attempt's (or, if the run stopped
 * while the task waited for its next attempt, the stop's, whose message
 * also gives the last attempt's error).
 *
 * Returns: the number of attempts that started
 *
 * Since: 1.0
 */
guint
gather_outcome_get_attempts (GatherOutcome *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->attempts;
}

/* Owner's context, before the outcome is handed out. */
void
gather_outcome_set_attempts (GatherOutcome *self,
                             guint          attempts)
{
  self->attempts = attempts;
}

/* For the task model: how the task ran. */
void
gather_outcome_set_kind (GatherOutcome *self,
                         guint          kind)
{
  self->kind = kind;
}

guint
gather_outcome_get_kind (GatherOutcome *self)
{
  return self->kind;
}
