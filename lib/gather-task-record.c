/* gather-task-record.c: a task's state machine, and its outcome.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-error.h"
#include "gather-inbox-private.h"
#include "gather-outcome-private.h"
#include "gather-runner-private.h"
#include "gather-task-record-private.h"

/* See gather-task-record-private.h for the phases and who moves them. */

/* @slab: where to allocate it (see gather-slab-private.h); the owner's */
GatherTaskRecord *
gather_task_record_new (GatherSlab         *slab,
                        const GatherRunner *runner,
                        guint               index,
                        const char         *label,
                        guint               timeout_msec,
                        gpointer            func,
                        gpointer            user_data,
                        GDestroyNotify      user_data_destroy)
{
  GatherTaskSpec spec;

  gather_task_spec_init (&spec, runner, label, timeout_msec, func, user_data, user_data_destroy);
  return gather_task_record_spec_take (slab, &spec, index);
}

/* Owner: @spec describes a task as gather_task_record_new() takes it. */
void
gather_task_spec_init (GatherTaskSpec     *spec,
                       const GatherRunner *runner,
                       const char         *label,
                       guint               timeout_msec,
                       gpointer            func,
                       gpointer            user_data,
                       GDestroyNotify      user_data_destroy)
{
  spec->runner = runner;
  spec->func = func;
  spec->user_data = user_data;
  spec->user_data_destroy = user_data_destroy;
  spec->label = g_strdup (label);
  spec->timeout_msec = timeout_msec;
}

void
gather_task_specs_grow (GatherTaskSpecs *specs)
{
  specs->allocated = MAX (16, specs->allocated * 2);
  specs->items = g_renew (GatherTaskSpec, specs->items, specs->allocated);
}

/* Owner: the record of task @index, made from @spec, whose contents it
 * takes; @spec is marked taken. */
GatherTaskRecord *
gather_task_record_spec_take (GatherSlab     *slab,
                              GatherTaskSpec *spec,
                              guint           index)
{
  GatherTaskRecord *record = gather_slab_alloc (slab);

  g_assert (spec->runner != NULL);

  record->runner = g_steal_pointer (&spec->runner);
  record->ref_count = 1;
  record->state = GATHER_PHASE_QUEUED;
  record->index = index;
  record->attempt = 1;
  record->label = g_steal_pointer (&spec->label);
  record->timeout_msec = spec->timeout_msec;
  record->func = spec->func;
  record->user_data = g_steal_pointer (&spec->user_data);
  record->user_data_destroy = g_steal_pointer (&spec->user_data_destroy);

  return record;
}

GatherTaskRecord *
gather_task_record_ref (GatherTaskRecord *record)
{
  g_atomic_int_inc (&record->ref_count);
  return record;
}

/* Any thread. The user's data was destroyed on the owner's context when the
 * record was released, and so was the cancellable of a task whose
 * cancellable may only be touched there; what is left is ours. */
void
gather_task_record_unref (GatherTaskRecord *record)
{
  if (!g_atomic_int_dec_and_test (&record->ref_count))
    return;

  g_assert (record->timeout_timer.heap_index == 0);
  g_assert (record->grace_timer.heap_index == 0);
  g_assert (record->user_data_destroy == NULL);

  g_clear_pointer (&record->inbox, gather_inbox_unref);
  g_clear_object (&record->cancellable);
  g_clear_pointer (&record->result, g_variant_unref);
  g_clear_error (&record->error);
  g_clear_object (&record->retry);
  g_free (record->label);
  gather_slab_free (record);
}

/* "“label”", or "#index" for a task without a label. */
char *
gather_task_record_describe (guint       index,
                             const char *label)
{
  if (label != NULL)
    return g_strdup_printf ("“%s”", label);

  return g_strdup_printf ("#%u", index);
}

/*
 * gather_cancellable_is_unobserved:
 * Whether a task's cancellable can serve another task: nobody holds a
 * reference on it but the caller, nobody cancelled it and nothing is
 * connected to it. Any thread, for a cancellable no other thread touches.
 */
guint gather_cancelled_signal;

/* Called from the class_init of the types that run tasks, so that every
 * thread that runs one sees it set. */
void
gather_task_record_init_once (void)
{
  if (gather_cancelled_signal == 0)
    {
      /* Signals exist once their class does. */
      g_type_class_unref (g_type_class_ref (G_TYPE_CANCELLABLE));
      gather_cancelled_signal = g_signal_lookup ("cancelled", G_TYPE_CANCELLABLE);
      g_assert (gather_cancelled_signal != 0);
    }
}

/* Timer thread: the task's own timeout expired. */
static void
gather_task_record_timeout_expired (gpointer data)
{
  GatherTaskRecord *record = data;

  gather_task_record_stop (record, GATHER_STOP_TIMEOUT);
  gather_task_record_unref (record);
}

/* Timer thread: a stopped task's grace period is over. */
static void
gather_task_record_grace_expired (gpointer data)
{
  GatherTaskRecord *record = data;
  gint state;

  gather_inbox_lock (record->inbox);
  state = g_atomic_int_get (&record->state);
  if (GATHER_STATE_PHASE (state) == GATHER_PHASE_STOPPED)
    {
      g_atomic_int_set (&record->state, GATHER_PHASE_ABANDONED | GATHER_STATE_REASON (state));
      gather_inbox_append_locked (record->inbox, record, GATHER_EVENT_ABANDONED);
    }
  gather_inbox_unlock (record->inbox);

  gather_task_record_unref (record);
}

/*
 * begin_task:
 * gather_task_record_begin() and _try_begin(); @skip says whether a task
 * that does not start is skipped here.
 *
 * gather_task_record_begin:
 * Moves a queued task to RUNNING, unless the run was stopped. Called by the
 * runner that starts the task: a pool thread, the owner, or the helpers'
 * thread. If the task started, *@cancellable becomes the task's and is set
 * to `NULL`; otherwise it stays the caller's. The record may be gone when
 * this returns FALSE.
 *
 * Every thread body arms its timeout timer before it is published RUNNING
 * (at G_MAXINT64 if it has no timeout), tagged with the run's inbox: that
 * is how a stop decided on any thread finds the bodies to stop
 * (gather_inbox_stop()). The stop word is read again after arming, in the
 * order the timer lock gives: either the stop takes the timer (and drops
 * the task if it is still QUEUED, so the exchange below fails), or this
 * sees the stop. Nothing written here is changed after the exchange.
 *
 * Returns: TRUE if the task is RUNNING and its body must run now
 */
static gboolean
begin_task (GatherTaskRecord  *record,
            GCancellable     **cancellable,
            gint64             start_time,
            gboolean           skip)
{
  GatherInbox *inbox = record->inbox;
  gboolean timed = record->timeout_msec > 0 || record->runner->cancel_anywhere;

  if (gather_inbox_get_stop (inbox) != GATHER_STOP_NONE ||
      g_atomic_int_get (&record->state) != GATHER_PHASE_QUEUED)
    goto skipped;

  /* Published by the exchange below: whoever stops a RUNNING task finds
   * its cancellable and its start time. */
  record->start_time = start_time;
  record->cancellable = *cancellable;

  if (timed)
    {
      gint64 when = record->timeout_msec > 0 ? start_time + (gint64) record->timeout_msec * 1000
                                             : G_MAXINT64;

      /* The timer's reference, taken before the timer can fire. */
      gather_task_record_ref (record);
      if (!gather_timer_schedule (&record->timeout_timer, when,
                                  gather_task_record_timeout_expired, record))
        g_assert_not_reached ();
    }

  if (gather_inbox_get_stop (inbox) != GATHER_STOP_NONE ||
      !g_atomic_int_compare_and_exchange (&record->state, GATHER_PHASE_QUEUED,
                                          GATHER_PHASE_RUNNING))
    {
      /* Stopped while it was being started: it never runs. */
      if (timed && gather_timer_cancel (&record->timeout_timer))
        gather_task_record_unref (record);
      record->cancellable = NULL;
      goto skipped;
    }

  /* The task's now, whatever happens next. */
  *cancellable = NULL;

  /* Read after the exchange: either the owner, which sets the flag before
   * it reads the state, sees RUNNING, or this sees the flag (both are
   * sequentially consistent). The record outlives the event: its last
   * event comes after this one. */
  if (g_atomic_int_get (&record->watched))
    gather_inbox_post (inbox, record, GATHER_EVENT_STARTED);

  gather_inbox_add_running (inbox, 1);

  return TRUE;

skipped:
  if (skip)
    gather_task_record_skip (record);
  return FALSE;
}

gboolean
gather_task_record_begin (GatherTaskRecord  *record,
                          GCancellable     **cancellable,
                          gint64             start_time)
{
  return begin_task (record, cancellable, start_time, TRUE);
}

/*
 * gather_task_record_try_begin:
 * As gather_task_record_begin(), except that a task that does not start
 * stays the caller's: it is not skipped, and the caller skips it later
 * (gather_task_record_skip()) or begins it again. For a runner that must
 * take its request back from elsewhere before it lets the task go.
 */
gboolean
gather_task_record_try_begin (GatherTaskRecord  *record,
                              GCancellable     **cancellable,
                              gint64             start_time)
{
  return begin_task (record, cancellable, start_time, FALSE);
}

/*
 * gather_task_record_skip:
 * A runner lets go of a task the run will not start: the owner drops it,
 * if nobody has yet, records it and releases it. The record may be gone
 * when this returns.
 */
void
gather_task_record_skip (GatherTaskRecord *record)
{
  if (record->dispatched)
    gather_inbox_post (record->inbox, record, GATHER_EVENT_SKIPPED);
}

/*
 * gather_task_record_stop:
 * Stops a running task for @reason: its outcome is recorded from the
 * reason as soon as the owner sees the STOPPED event, whatever the body
 * does. A task whose cancellable may be cancelled anywhere is cancelled
 * here, on the calling thread; otherwise the owner cancels it. A task that
 * is still QUEUED (being started: its timer is armed) is dropped, so it
 * never starts. Any thread.
 *
 * Returns: TRUE if the task was running and this call stopped it
 */
gboolean
gather_task_record_stop (GatherTaskRecord *record,
                         GatherStopReason  reason)
{
  gboolean stopped = FALSE;
  gint state;

  if (gather_task_record_drop (record, reason))
    return FALSE;

  gather_inbox_lock (record->inbox);
  state = g_atomic_int_get (&record->state);
  if (GATHER_STATE_PHASE (state) == GATHER_PHASE_RUNNING)
    {
      /* Every move out of RUNNING happens under this lock. */
      g_atomic_int_set (&record->state, GATHER_PHASE_STOPPED | reason);
      gather_inbox_append_locked (record->inbox, record, GATHER_EVENT_STOPPED);
      stopped = TRUE;
    }
  gather_inbox_unlock (record->inbox);

  if (stopped && record->runner->cancel_anywhere)
    gather_task_record_cancel (record);

  return stopped;
}

/*
 * gather_task_record_stopped_at:
 * When a stopped task was due to stop: at its timeout (its start time plus
 * its timeout) if that is what stopped it, however late the timer thread
 * got to it; otherwise now. Never later than now. An isolated task is
 * killed at this plus its grace period, so that the timeout's lateness
 * does not add to the kill's. (A body or an operation that ignores its
 * cancellation is abandoned a grace period after the cancellation: it
 * could not have seen it before.) Any thread, once the task is seen
 * stopped.
 */
gint64
gather_task_record_stopped_at (GatherTaskRecord *record)
{
  gint64 now = g_get_monotonic_time ();

  if (GATHER_STATE_REASON (g_atomic_int_get (&record->state)) == GATHER_STOP_TIMEOUT &&
      record->timeout_msec > 0)
    return MIN (now, record->start_time + (gint64) record->timeout_msec * 1000);

  return now;
}

/*
 * gather_task_record_cancel:
 * Cancels a stopped task's cancellable and gives its body the grace period
 * to return. Called once per stopped task: on the thread that stopped it,
 * or on the owner's context for tasks whose cancellable lives there. The
 * caller holds a reference on @record.
 */
void
gather_task_record_cancel (GatherTaskRecord *record)
{
  g_cancellable_cancel (record->cancellable);
  if (record->runner->cancelled != NULL)
    record->runner->cancelled (record);

  /* The timer's reference, taken before the timer can fire. If the body
   * has returned meanwhile, the timer finds it SETTLED and does nothing. */
  gather_task_record_ref (record);
  if (!gather_timer_schedule (&record->grace_timer,
                              g_get_monotonic_time () + (gint64) record->grace_msec * 1000,
                              gather_task_record_grace_expired, record))
    g_assert_not_reached ();
}

/*
 * gather_task_record_finish:
 * The body returned, or the operation completed, with @result (sunk,
 * taken) or @error (taken). Any thread; called once per started task.
 *
 * A task nobody stopped becomes DONE and its outcome is built from @result
 * and @error; a stopped one becomes SETTLED and they are freed unseen. The
 * record may be gone when this returns.
 *
 * If @out_cancellable is given and the task was not stopped, nobody can
 * have seen its cancellable cancelled nor touch it again: it is moved to
 * *@out_cancellable for the caller to reuse.
 *
 * Returns: TRUE if the task was DONE
 */
gboolean
gather_task_record_finish (GatherTaskRecord  *record,
                           GVariant          *result,
                           GError            *error,
                           GCancellable     **out_cancellable)
{
  GatherInbox *inbox = record->inbox;
  gboolean done;
  gint state;

  record->result = result;
  record->error = error;

  /* Nobody arms the timeout once the task left QUEUED. The grace timer is
   * armed only after a stop: if the task is not stopped yet, leave it; if
   * it is armed later, it finds the task SETTLED and does nothing. */
  if (gather_timer_cancel (&record->timeout_timer))
    gather_task_record_unref (record);
  if (GATHER_STATE_PHASE (g_atomic_int_get (&record->state)) != GATHER_PHASE_RUNNING &&
      gather_timer_cancel (&record->grace_timer))
    gather_task_record_unref (record);

  gather_inbox_lock (inbox);
  state = g_atomic_int_get (&record->state);
  switch (GATHER_STATE_PHASE (state))
    {
    case GATHER_PHASE_RUNNING:
      g_atomic_int_set (&record->state, GATHER_PHASE_DONE);
      if (out_cancellable != NULL)
        *out_cancellable = g_steal_pointer (&record->cancellable);
      done = TRUE;
      break;

    case GATHER_PHASE_STOPPED:
    case GATHER_PHASE_ABANDONED:
      g_atomic_int_set (&record->state, GATHER_PHASE_SETTLED | GATHER_STATE_REASON (state));
      done = FALSE;
      break;

    case GATHER_PHASE_QUEUED:
    case GATHER_PHASE_DONE:
    case GATHER_PHASE_SETTLED:
    case GATHER_PHASE_DROPPED:
    case GATHER_PHASE_MASK:
    default:
      g_assert_not_reached ();
    }
  gather_inbox_append_locked (inbox, record, done ? GATHER_EVENT_RETURNED
                                                  : GATHER_EVENT_SETTLED);
  /* Counted out only once that event waits for the owner: a task's end is
   * queued when n-running drops (see gather_group_get_n_running()). Counted
   * out first, a task let a test that waited for 0 find its outcome not
   * yet marked killed (a CI run under ThreadSanitizer). */
  gather_inbox_add_running_locked (inbox, -1);
  gather_inbox_unlock (inbox);

  return done;
}

/*
 * gather_task_record_drop:
 * Makes sure a task that has not started never does. Any thread.
 *
 * Returns: TRUE if the task was queued and is now DROPPED: the caller
 *   records its outcome. FALSE if it had started (or ended) already.
 */
gboolean
gather_task_record_drop (GatherTaskRecord *record,
                         GatherStopReason  reason)
{
  return g_atomic_int_compare_and_exchange (&record->state, GATHER_PHASE_QUEUED,
                                            GATHER_PHASE_DROPPED | reason);
}

/*
 * gather_task_record_take_outcome:
 * Builds the outcome of a task that is DONE, STOPPED, ABANDONED or
 * DROPPED, from what its state says. Owner's context, once per task. The
 * body's result and error are taken only from a DONE task.
 */
GatherOutcome *
gather_task_record_take_outcome (GatherTaskRecord      *record,
                                 GatherSlab            *slab,
                                 gint64                 queued_time,
                                 guint                  deadline_msec,
                                 const char            *stop_message,
                                 const GatherRetryInfo *retry)
{
  gint state = g_atomic_int_get (&record->state);
  GatherPhase phase = GATHER_STATE_PHASE (state);
  GatherStopReason reason = GATHER_STATE_REASON (state);
  g_autofree char *name = NULL;
  GatherStatus status;
  GVariant *result = NULL;
  GError *error = NULL;
  GatherOutcome *outcome;
  gint64 start_time;

  g_assert (!record->recorded);
  g_assert (phase == GATHER_PHASE_DONE || phase == GATHER_PHASE_STOPPED ||
            phase == GATHER_PHASE_ABANDONED || phase == GATHER_PHASE_SETTLED ||
            phase == GATHER_PHASE_DROPPED);

  record->recorded = TRUE;

  if (phase == GATHER_PHASE_DONE)
    {
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
      else if (record->dropped)
        {
          name = gather_task_record_describe (record->index, record->label);
          status = GATHER_STATUS_ERROR;
          error = g_error_new (GATHER_ERROR, GATHER_ERROR_INVALID_RESULT,
                               "Task %s was never completed: the last reference "
                               "to its completion was dropped", name);
        }
      else
        {
          name = gather_task_record_describe (record->index, record->label);
          status = GATHER_STATUS_ERROR;
          error = g_error_new (GATHER_ERROR, GATHER_ERROR_INVALID_RESULT,
                               "Task %s returned neither a result nor an error",
                               name);
        }
    }
  else
    {
      name = gather_task_record_describe (record->index, record->label);

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
                               "deadline of %u ms", name, deadline_msec);
          break;

        case GATHER_STOP_POLICY:
          status = GATHER_STATUS_CANCELLED;
          error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "Task %s was cancelled because %s",
                               name, stop_message);
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

  /* A stop that came between attempts, or during a later one: say what
   * the attempt before it ended with. */
  if (retry != NULL && phase != GATHER_PHASE_DONE && retry->last != NULL)
    {
      GError *last = gather_outcome_get_error (retry->last);
      char *message;

      g_assert (error != NULL && last != NULL);
      message = g_strdup_printf ("%s (attempt %u failed: %s)",
                                 error->message, record->attempt - 1, last->message);
      g_free (error->message);
      error->message = message;
    }

  if (record->queued_time != 0)
    queued_time = record->queued_time;

  if (retry != NULL)
    start_time = retry->first_start_time;
  else
    start_time = phase != GATHER_PHASE_DROPPED ? record->start_time : 0;

  outcome = gather_outcome_new (slab, record->index,
                                g_steal_pointer (&record->label),
                                status, result, error,
                                phase == GATHER_PHASE_ABANDONED,
                                queued_time, start_time,
                                g_get_monotonic_time ());

  gather_outcome_set_kind (outcome, record->runner->kind);

  if (record->attempt > 1 || phase == GATHER_PHASE_DROPPED)
    gather_outcome_set_attempts (outcome,
                                 phase == GATHER_PHASE_DROPPED ? record->attempt - 1
                                                               : record->attempt);

  return outcome;
}
