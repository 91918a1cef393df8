/* gather-run.c: one run of a group, on the owner's context.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-group-private.h"
#include "gather-inbox-private.h"
#include "gather-outcome-private.h"
#include "gather-policy-private.h"
#include "gather-run-private.h"
#include "gather-runner-private.h"

/* How many thread tasks of a group without a concurrency limit are pushed
 * to the pool (to wait in its queue) at once. Tasks beyond it cost only
 * their record (see the memory figures in the benchmark); the run tops the
 * window up after each batch of events. Async tasks hold no place in the
 * pool and all start at once, as asyncio.gather() starts its coroutines;
 * max-concurrent limits both. */
#define DISPATCH_WINDOW 8192

/*
 * GatherRun: the engine of one run. It decides which task starts when (in
 * submission order, within max-concurrent and the dispatch window), hands
 * each to its runner, records outcomes from the events the tasks post to the
 * inbox, applies the policy's verdict, stops what is left when the run is
 * stopped, and completes the group.
 *
 * Everything here runs on the owner's context, in the inbox's dispatch; the
 * only thing other threads do to a run is post to its inbox or stop it
 * there (gather_inbox_stop()).
 *
 * Lifetime: the inbox's source holds a reference on the group, and so keeps
 * the run, until the run is finished and every record is released (every
 * body returned, every operation completed); the group frees the run.
 */
struct _GatherRun
{
  GatherGroup       *group;           /* strong, until the inbox closes */
  GatherPool        *pool;            /* owned */
  GatherInbox       *inbox;           /* owned */
  GatherRunSettings  settings;
  GCancellable      *cancellable;     /* owned, the run's; NULL if none */
  gulong             cancelled_id;

  GPtrArray         *records;         /* GatherTaskRecord, one reference each;
                                       * NULL once released */
  GPtrArray         *outcomes;        /* GatherOutcome, NULL until recorded */
  GPtrArray         *to_emit;         /* recorded, task-finished not emitted */
  GCancellable      *spare;           /* an async task's, to reuse */
  char              *stop_message;    /* why the policy stopped the rest */

  gint64             queued_time;
  guint              next_dispatch;   /* next record to start */
  guint              n_in_flight;     /* records holding a slot */
  guint              n_in_pool;       /* ... of which use the pool */
  guint              n_live;          /* records not released yet */
  guint              n_finished;      /* outcomes recorded */
  guint              n_succeeded;
  guint              n_notified;      /* n_finished when last notified */
  guint              n_running_notified;
  gboolean           emit;            /* task-finished has handlers */
  gboolean           swept;           /* the stop was applied to every task */
  gboolean           finished;
};

/* ---- Records ---- */

/* Gives back the slot @record holds against max-concurrent, if any. */
static void
gather_run_free_slot (GatherRun        *self,
                      GatherTaskRecord *record)
{
  if (!record->holds_slot)
    return;

  record->holds_slot = FALSE;
  self->n_in_flight--;
  if (record->runner->uses_pool)
    self->n_in_pool--;
}

/* Releases a record whose body will not run again (or never ran): its
 * user data is destroyed here, on the owner's context. */
static void
gather_run_release (GatherRun        *self,
                    GatherTaskRecord *record)
{
  GDestroyNotify destroy = g_steal_pointer (&record->user_data_destroy);
  gpointer data = g_steal_pointer (&record->user_data);

  g_assert (g_ptr_array_index (self->records, record->index) == record);

  gather_run_free_slot (self, record);
  g_ptr_array_index (self->records, record->index) = NULL;
  self->n_live--;

  /* Only the owner touches an async task's cancellable. */
  if (!record->runner->cancel_anywhere && record->cancellable != NULL)
    gather_run_give_back_cancellable (self, g_steal_pointer (&record->cancellable));

  gather_task_record_unref (record);

  if (destroy != NULL)
    destroy (data);
}

/*
 * Records the outcome of @record, and applies the policy's verdict at
 * once: a stop takes effect before task-finished is emitted for this
 * outcome, so no handler can delay it.
 */
static void
gather_run_record (GatherRun        *self,
                   GatherTaskRecord *record)
{
  GatherOutcome *outcome;
  GatherTally tally;
  char *why;

  outcome = gather_task_record_take_outcome (record, self->queued_time,
                                             self->settings.deadline_msec,
                                             self->stop_message);

  g_ptr_array_index (self->outcomes, record->index) = outcome;
  if (self->emit)
    g_ptr_array_add (self->to_emit, outcome);
  self->n_finished++;
  if (gather_outcome_get_status (outcome) == GATHER_STATUS_OK)
    self->n_succeeded++;

  if (self->settings.policy == GATHER_POLICY_ALL ||
      gather_inbox_get_stop (self->inbox) != GATHER_STOP_NONE)
    return;

  tally.n_tasks = self->records->len;
  tally.n_finished = self->n_finished;
  tally.n_succeeded = self->n_succeeded;

  why = gather_policy_judge (self->settings.policy, self->settings.quorum, &tally, outcome);
  if (why == NULL)
    return;

  /* Read by the outcomes of the tasks it stops. */
  self->stop_message = why;
  gather_inbox_stop (self->inbox, GATHER_STOP_POLICY);
}

/*
 * Applies a stop to every task without an outcome: queued tasks are
 * dropped and recorded now; running async tasks are stopped (their
 * STOPPED events come next). Running thread bodies are stopped by
 * gather_inbox_stop(), on the thread that decided the stop.
 */
static void
gather_run_sweep (GatherRun        *self,
                  GatherStopReason  reason)
{
  self->swept = TRUE;

  for (guint i = 0; i < self->records->len; i++)
    {
      GatherTaskRecord *record = g_ptr_array_index (self->records, i);

      if (record == NULL || record->recorded)
        continue;

      if (gather_task_record_drop (record, reason))
        {
          gather_run_record (self, record);
          /* A record in the pool's queue is released when its thread
           * skips it. */
          if (!record->dispatched)
            gather_run_release (self, record);
        }
      else if (!record->runner->cancel_anywhere)
        {
          gather_task_record_stop (record, reason);
        }
    }
}

/* Starts tasks in submission order while slots are free. */
static void
gather_run_refill (GatherRun *self)
{
  guint limit = self->settings.max_concurrent > 0 ? self->settings.max_concurrent : G_MAXUINT;

  while (self->n_in_flight < limit &&
         self->next_dispatch < self->records->len &&
         gather_inbox_get_stop (self->inbox) == GATHER_STOP_NONE)
    {
      GatherTaskRecord *record = g_ptr_array_index (self->records, self->next_dispatch);

      if (record != NULL && !record->recorded && record->runner->uses_pool &&
          self->n_in_pool >= DISPATCH_WINDOW)
        break;

      self->next_dispatch++;

      if (record == NULL || record->recorded)
        continue;

      record->inbox = gather_inbox_ref (self->inbox);
      record->timeout_timer.tag = self->inbox;
      record->grace_msec = self->settings.grace_msec;
      record->holds_slot = TRUE;
      self->n_in_flight++;
      if (record->runner->uses_pool)
        self->n_in_pool++;

      /* An async task's start function runs here; whatever it does to the
       * run goes through the inbox. */
      record->runner->start (self, record);
    }
}

static void
gather_run_handle_event (GatherRun         *self,
                         const GatherEvent *event)
{
  GatherTaskRecord *record = event->record;
  GatherOutcome *outcome;

  switch (event->kind)
    {
    case GATHER_EVENT_RETURNED:
      gather_run_record (self, record);
      gather_run_release (self, record);
      break;

    case GATHER_EVENT_STOPPED:
      /* The outcome is recorded now, whatever the body does next. */
      if (!record->runner->cancel_anywhere)
        gather_task_record_cancel (record);
      gather_run_record (self, record);
      break;

    case GATHER_EVENT_ABANDONED:
      /* The body still runs: its slot is given back, and its outcome says
       * it ignored its cancellation. */
      record->abandoned = TRUE;
      gather_run_free_slot (self, record);
      outcome = g_ptr_array_index (self->outcomes, record->index);
      gather_outcome_set_abandoned (outcome);
      if (record->runner->abandon != NULL)
        record->runner->abandon (self, record);
      break;

    case GATHER_EVENT_SETTLED:
      if (record->abandoned && record->runner->late != NULL)
        record->runner->late (self, record);
      if (record->killed)
        gather_outcome_set_killed (g_ptr_array_index (self->outcomes, record->index));
      gather_run_release (self, record);
      break;

    case GATHER_EVENT_SKIPPED:
      /* A pool thread popped it after the run was stopped. */
      if (!record->recorded)
        {
          if (!gather_task_record_drop (record, gather_inbox_get_stop (self->inbox)))
            g_assert_not_reached ();
          gather_run_record (self, record);
        }
      gather_run_release (self, record);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
gather_run_finish (GatherRun *self)
{
  self->finished = TRUE;

  if (gather_timer_cancel (gather_inbox_get_timer (self->inbox)))
    gather_inbox_unref (self->inbox);

  if (self->cancelled_id != 0)
    g_cancellable_disconnect (self->cancellable, self->cancelled_id);
  self->cancelled_id = 0;
  g_clear_object (&self->cancellable);

  gather_group_complete (self->group, self->outcomes);
}

/* The inbox's source: runs on the owner's context. */
static gboolean
gather_run_dispatch (gpointer user_data)
{
  GatherRun *self = user_data;
  GatherInboxFlags flags;
  GatherStopReason stop;
  GArray *events;
  guint n_running;

  events = gather_inbox_take (self->inbox, &flags);

  /* Outcomes recorded in this dispatch are emitted at its end if a
   * handler is connected now; emitting to nobody costs more than the rest
   * of recording an outcome. */
  self->emit = gather_group_watches_task_finished (self->group);

  /* Results that arrived count, even if a stop arrived with them. */
  for (guint i = 0; i < events->len; i++)
    gather_run_handle_event (self, &g_array_index (events, GatherEvent, i));

  gather_inbox_give_back (self->inbox, events);

  if (!self->finished)
    {
      stop = gather_inbox_get_stop (self->inbox);
      if (stop != GATHER_STOP_NONE && !self->swept)
        gather_run_sweep (self, stop);

      gather_run_refill (self);

      /* Start functions can stop the run too. */
      stop = gather_inbox_get_stop (self->inbox);
      if (stop != GATHER_STOP_NONE && !self->swept)
        gather_run_sweep (self, stop);

      /* Signals last: handlers see every count up to date. */
      if (self->to_emit->len > 0)
        {
          for (guint i = 0; i < self->to_emit->len; i++)
            gather_group_emit_task_finished (self->group, g_ptr_array_index (self->to_emit, i));
          g_ptr_array_set_size (self->to_emit, 0);
        }
    }

  n_running = gather_inbox_get_n_running (self->inbox);
  if (self->n_notified != self->n_finished || self->n_running_notified != n_running)
    {
      gather_group_notify_progress (self->group,
                                    self->n_notified != self->n_finished,
                                    self->n_running_notified != n_running);
      self->n_notified = self->n_finished;
      self->n_running_notified = n_running;
      gather_inbox_watch_running (self->inbox, gather_group_watches_n_running (self->group));
    }

  if (!self->finished && self->n_finished == self->records->len)
    gather_run_finish (self);

  if (self->finished && self->n_live == 0)
    {
      /* Nothing can post records any more: drop the source and, with it,
       * the reference it holds on the group. */
      gather_inbox_close (self->inbox);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

/* The source's destroy notify, once the run is over. The group may free
 * the run here. */
static void
gather_run_drop_group (gpointer user_data)
{
  GatherRun *self = user_data;

  g_object_unref (g_steal_pointer (&self->group));
}

/* Timer thread. */
static void
gather_run_deadline_expired (gpointer data)
{
  GatherInbox *inbox = data;

  gather_inbox_stop (inbox, GATHER_STOP_DEADLINE);
  gather_inbox_unref (inbox);
}

/* Any thread: the thread that cancelled the run's cancellable. */
static void
gather_run_cancelled (GCancellable *cancellable,
                      gpointer      data)
{
  gather_inbox_stop (data, GATHER_STOP_CANCELLED);
}

/*
 * gather_run_new:
 * Starts a run of @records (taken), on @context, which is the owner's
 * thread-default context. Tasks start from the first dispatch of the
 * inbox's source.
 */
GatherRun *
gather_run_new (GatherGroup             *group,
                GMainContext            *context,
                GatherPool              *pool,
                const GatherRunSettings *settings,
                GPtrArray               *records,
                GCancellable            *cancellable)
{
  GatherRun *self = g_new0 (GatherRun, 1);

  self->group = g_object_ref (group);
  self->pool = g_object_ref (pool);
  self->settings = *settings;
  self->records = records;
  self->n_live = records->len;
  self->queued_time = g_get_monotonic_time ();
  self->to_emit = g_ptr_array_new ();
  self->outcomes = g_ptr_array_new_full (records->len, (GDestroyNotify) gather_outcome_unref);
  g_ptr_array_set_size (self->outcomes, records->len);

  self->inbox = gather_inbox_new (context, gather_run_dispatch, self, gather_run_drop_group);

  if (settings->deadline_msec > 0)
    {
      gint64 when = self->queued_time + (gint64) settings->deadline_msec * 1000;

      /* The timer's reference, taken before the timer can fire. */
      gather_inbox_ref (self->inbox);
      if (!gather_timer_schedule (gather_inbox_get_timer (self->inbox), when,
                                  gather_run_deadline_expired, self->inbox))
        g_assert_not_reached ();
    }

  if (cancellable != NULL)
    {
      self->cancellable = g_object_ref (cancellable);
      self->cancelled_id =
        g_cancellable_connect (cancellable,
                               G_CALLBACK (gather_run_cancelled),
                               gather_inbox_ref (self->inbox),
                               (GDestroyNotify) gather_inbox_unref);
    }

  gather_inbox_watch_running (self->inbox, gather_group_watches_n_running (group));
  gather_inbox_post_flags (self->inbox, GATHER_INBOX_START);

  return self;
}

/* Owner's context, once the run is over (see gather_run_drop_group()). */
void
gather_run_free (GatherRun *self)
{
  g_assert (self->finished && self->n_live == 0);
  g_assert (self->group == NULL);

  g_clear_pointer (&self->records, g_ptr_array_unref);
  g_clear_pointer (&self->outcomes, g_ptr_array_unref);
  g_clear_pointer (&self->to_emit, g_ptr_array_unref);
  g_clear_pointer (&self->inbox, gather_inbox_unref);
  g_clear_pointer (&self->stop_message, g_free);
  g_clear_object (&self->spare);
  g_clear_object (&self->pool);
  g_free (self);
}

GatherPool *
gather_run_get_pool (GatherRun *self)
{
  return self->pool;
}

const GatherRunSettings *
gather_run_get_settings (GatherRun *self)
{
  return &self->settings;
}

guint
gather_run_get_n_finished (GatherRun *self)
{
  return self->n_finished;
}

/* Any thread. */
guint
gather_run_get_n_running (GatherRun *self)
{
  return gather_inbox_get_n_running (self->inbox);
}

gboolean
gather_run_is_finished (GatherRun *self)
{
  return self->finished;
}

/* Owner's context: a cancellable for an async task. One that served a
 * task before is reused when nothing can observe it (see
 * gather_cancellable_is_unobserved()). */
GCancellable *
gather_run_take_cancellable (GatherRun *self)
{
  if (self->spare != NULL)
    return g_steal_pointer (&self->spare);

  return g_cancellable_new ();
}

void
gather_run_give_back_cancellable (GatherRun    *self,
                                  GCancellable *cancellable)
{
  if (self->spare == NULL && gather_cancellable_is_unobserved (cancellable))
    self->spare = cancellable;
  else
    g_object_unref (cancellable);
}
