/* gather-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-task-private.h"

/*
 * Each worker thread keeps the cancellable of its last task for its next
 * one, when nothing else can observe it: the body dropped every reference it
 * took and disconnected its handlers, and nobody cancelled it. Creating and
 * finalizing a GObject per task was a third of a worker's time per task.
 */
static GPrivate spare_cancellable = G_PRIVATE_INIT (g_object_unref);

static GCancellable *
gather_task_take_cancellable (void)
{
  GCancellable *cancellable = g_private_get (&spare_cancellable);

  if (cancellable == NULL)
    return g_cancellable_new ();

  g_private_set (&spare_cancellable, NULL);

  return cancellable;
}

static void
gather_task_give_back_cancellable (GCancellable *cancellable)
{
  static guint cancelled_signal;

  if (cancelled_signal == 0)
    cancelled_signal = g_signal_lookup ("cancelled", G_TYPE_CANCELLABLE);

  if (g_private_get (&spare_cancellable) == NULL &&
      g_atomic_int_get ((gint *) &G_OBJECT (cancellable)->ref_count) == 1 &&
      !g_cancellable_is_cancelled (cancellable) &&
      !g_signal_has_handler_pending (cancellable, cancelled_signal, 0, TRUE))
    g_private_set (&spare_cancellable, cancellable);
  else
    g_object_unref (cancellable);
}

GatherTaskRecord *
gather_task_record_new (guint           index,
                        const char     *label,
                        guint           timeout_msec,
                        GatherTaskFunc  func,
                        gpointer        user_data,
                        GDestroyNotify  user_data_destroy)
{
  GatherTaskRecord *record = g_new0 (GatherTaskRecord, 1);

  record->ref_count = 1;
  record->state = GATHER_PHASE_QUEUED;
  record->index = index;
  record->label = g_strdup (label);
  record->timeout_msec = timeout_msec;
  record->func = func;
  record->user_data = user_data;
  record->user_data_destroy = user_data_destroy;

  return record;
}

GatherTaskRecord *
gather_task_record_ref (GatherTaskRecord *record)
{
  g_atomic_int_inc (&record->ref_count);
  return record;
}

/* Any thread. The user's data was destroyed on the owner's context when the
 * record was released; what is left here is ours and thread-safe to free. */
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
  g_free (record->label);
  g_free (record);
}

/* Timer thread: the grace period after cancellation is over. */
static void
gather_task_record_grace_expired (gpointer data)
{
  GatherTaskRecord *record = data;
  gint state = g_atomic_int_get (&record->state);

  if (GATHER_STATE_PHASE (state) == GATHER_PHASE_STOPPING)
    gather_inbox_post_if (record->inbox, record, GATHER_EVENT_ABANDONED, state,
                          GATHER_PHASE_ABANDONED | GATHER_STATE_REASON (state));

  gather_task_record_unref (record);
}

/*
 * Moves a running task to STOPPING, cancels its cancellable and gives it
 * the grace period to return. Any thread. The cancellable exists: the worker
 * creates it before it publishes RUNNING.
 */
static gboolean
gather_task_record_begin_stopping (GatherTaskRecord *record,
                                   gint              running_state,
                                   GatherStopReason  reason)
{
  if (!g_atomic_int_compare_and_exchange (&record->state, running_state,
                                          GATHER_PHASE_STOPPING | reason))
    return FALSE;

  g_cancellable_cancel (record->cancellable);

  /* Only the winner of the exchange above arms the grace timer, once. The
   * reference is the timer's: take it before the timer can fire. */
  gather_task_record_ref (record);
  if (!gather_timer_schedule (&record->grace_timer,
                              g_get_monotonic_time () + (gint64) record->grace_msec * 1000,
                              gather_task_record_grace_expired, record))
    g_assert_not_reached ();

  return TRUE;
}

/* Timer thread: the task's own timeout expired. */
static void
gather_task_record_timeout_expired (gpointer data)
{
  GatherTaskRecord *record = data;

  gather_task_record_begin_stopping (record, GATHER_PHASE_RUNNING, GATHER_STOP_TIMEOUT);
  gather_task_record_unref (record);
}

/*
 * gather_task_record_drop:
 * Makes sure a task that has not started never does. Any thread.
 *
 * Returns: TRUE if the task was queued and is now DROPPED: the caller records
 *   its outcome. FALSE if it had started (or ended) already.
 */
gboolean
gather_task_record_drop (GatherTaskRecord *record,
                         GatherStopReason  reason)
{
  return g_atomic_int_compare_and_exchange (&record->state, GATHER_PHASE_QUEUED,
                                            GATHER_PHASE_DROPPED | reason);
}

/*
 * gather_task_record_cancel:
 * Cancels a running task for @reason; its outcome comes through the inbox
 * when it returns or when its grace period is over. Does nothing to a task
 * that is not running. Any thread.
 */
void
gather_task_record_cancel (GatherTaskRecord *record,
                           GatherStopReason  reason)
{
  gather_task_record_begin_stopping (record, GATHER_PHASE_RUNNING, reason);
}

/*
 * gather_task_record_run:
 * Runs the task body. Worker thread, called by the pool.
 *
 * The worker never frees the record and never touches the user's objects:
 * the result goes back through the inbox, and the owner releases everything
 * on its own context. After the post, the record may be gone.
 */
void
gather_task_record_run (GatherTaskRecord *record)
{
  GError *error = NULL;
  GVariant *result;
  GatherEventKind kind;
  gint64 start_time;
  gint state;

  /* Published by the compare-and-exchange below: whoever stops a RUNNING
   * task finds its cancellable and its start time. Nobody reads either of
   * a task that never starts. */
  start_time = g_get_monotonic_time ();
  record->start_time = start_time;
  record->cancellable = gather_task_take_cancellable ();

  if (!g_atomic_int_compare_and_exchange (&record->state, GATHER_PHASE_QUEUED,
                                          GATHER_PHASE_RUNNING))
    {
      /* Stopped while it waited in the pool's queue. */
      gather_inbox_post (record->inbox, record, GATHER_EVENT_SKIPPED);
      return;
    }

  if (record->timeout_msec > 0)
    {
      /* The timer's reference, taken before the timer can fire. */
      gather_task_record_ref (record);
      if (!gather_timer_schedule (&record->timeout_timer,
                                  start_time + (gint64) record->timeout_msec * 1000,
                                  gather_task_record_timeout_expired, record))
        g_assert_not_reached ();
    }

  /* (transfer full): sink a floating reference, take a full one as is. */
  gather_inbox_add_running (record->inbox, 1);
  result = record->func (record->cancellable, record->user_data, &error);
  gather_inbox_add_running (record->inbox, -1);
  if (result != NULL)
    g_variant_take_ref (result);

  record->result = result;
  record->error = error;

  for (;;)
    {
      GatherPhase next;

      state = g_atomic_int_get (&record->state);

      switch (GATHER_STATE_PHASE (state))
        {
        case GATHER_PHASE_RUNNING:
        case GATHER_PHASE_STOPPING:
          next = GATHER_PHASE_RETURNED;
          kind = GATHER_EVENT_RETURNED;
          break;

        case GATHER_PHASE_ABANDONED:
          next = GATHER_PHASE_LATE;
          kind = GATHER_EVENT_LATE;
          break;

        case GATHER_PHASE_QUEUED:
        case GATHER_PHASE_RETURNED:
        case GATHER_PHASE_LATE:
        case GATHER_PHASE_DROPPED:
        case GATHER_PHASE_MASK:
        default:
          g_assert_not_reached ();
        }

      if (g_atomic_int_compare_and_exchange (&record->state, state,
                                             next | GATHER_STATE_REASON (state)))
        break;
    }

  if (GATHER_STATE_PHASE (state) == GATHER_PHASE_RUNNING)
    {
      /* Nobody stopped the task, and nobody can now: nothing else touches
       * the cancellable, so recycle or free it here, not on the owner. */
      gather_task_give_back_cancellable (g_steal_pointer (&record->cancellable));
    }

  /* Nobody arms a timer once the state left RUNNING and STOPPING. The
   * grace timer exists only if the task was stopped. */
  if (record->timeout_msec > 0 && gather_timer_cancel (&record->timeout_timer))
    gather_task_record_unref (record);
  if (GATHER_STATE_PHASE (state) != GATHER_PHASE_RUNNING &&
      gather_timer_cancel (&record->grace_timer))
    gather_task_record_unref (record);

  gather_inbox_post (record->inbox, record, kind);
}
