/* gather-run.c: one run of a group, on the owner's context.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-group-private.h"
#include "gather-inbox-private.h"
#include "gather-outcome-private.h"
#include "gather-policy-private.h"
#include "gather-retry-policy-private.h"
#include "gather-run-private.h"
#include "gather-runner-private.h"
#include "gather-task-list-private.h"
#include "gather-task-private.h"

#if HAVE_SYSPROF
# include <sysprof-capture.h>
#endif

/* How many thread tasks of a group are pushed to the pool (to wait in its
 * queue) at once, whatever max-concurrent allows. Tasks beyond it cost
 * only their spec (see GatherTaskSpec and the memory figures in the
 * benchmark): a task's record is made when the run comes to it, about
 * when it enters the window (earlier if something else needs it). The run
 * tops the window up after each batch of events. Async tasks hold no place
 * in the pool and all start at once, as asyncio.gather() starts its
 * coroutines; max-concurrent limits both. */
#define DISPATCH_WINDOW 8192

/*
 * GatherRun: the engine of one run. It decides which task starts when (by
 * priority, then in submission order, within max-concurrent and the
 * dispatch window), hands each to its runner, records outcomes from the
 * events the tasks post to the inbox, retries what its retry policy says,
 * applies the policy's verdict, stops what is left when the run is
 * stopped, keeps the task objects of the group's model up to date, and
 * completes the group.
 *
 * Which task starts next: tasks at the default priority, first attempts,
 * are taken in index order by a cursor (next_dispatch), which costs nothing
 * per task. A task whose priority was set, and every later attempt once its
 * delay is over, goes to a heap (ready) ordered by priority, then index;
 * the next task is the better of the heap's top and the cursor's. Heap
 * entries are checked when they come to the top and dropped if stale (the
 * task started, ended, or its priority changed since).
 *
 * Retries: an attempt whose end the task's retry policy retries is not
 * recorded as the task's outcome. A new record (the next attempt) takes its
 * place in records[], waits for its delay in another heap (waiting, by due
 * time, served by one timer) and, if the attempt before is still running
 * (stopped by its timeout, its body not returned), until that one returns
 * or is abandoned: two attempts of a task never run at once unless one was
 * abandoned. The records of a task's attempts share its user data through a
 * RetryState, which destroys it when the last of them is released.
 *
 * Open groups: tasks added while the run goes are appended to records[];
 * the run finishes once every task has an outcome and the group is closed
 * (a stop closes it).
 *
 * Everything here runs on the owner's context, in the inbox's dispatch; the
 * only thing other threads do to a run is post to its inbox or stop it
 * there (gather_inbox_stop()).
 *
 * Lifetime: the inbox's source holds a reference on the group, and so keeps
 * the run, until the run is finished and every record is released (every
 * body returned, every operation completed); the group frees the run.
 */
typedef struct
{
  gint64 key;     /* ready: −priority; waiting: when it is due */
  guint  index;
} QueueEntry;

/* A task that was tried again, by index (retries). */
typedef struct
{
  guint              n_live;          /* its records not released yet */
  gpointer           data;            /* the user data of every attempt */
  GDestroyNotify     destroy;
  GatherOutcome     *last;            /* the last failed attempt's outcome */
  gint64             first_start;     /* when attempt 1 started */
  GatherTaskRecord  *previous;        /* the attempt before, still running */
  gboolean           due;             /* the delay is over */
} RetryState;

struct _GatherRun
{
  GatherGroup       *group;           /* strong, until the inbox closes */
  GatherPool        *pool;            /* owned */
  GatherInbox       *inbox;           /* owned */
  GatherRunSettings  settings;
  GCancellable      *cancellable;     /* owned, the run's; NULL if none */
  gulong             cancelled_id;

  GPtrArray         *records;         /* GatherTaskRecord, one reference each;
                                       * NULL before it is made from its spec
                                       * and once released */
  GatherTaskSpecs    specs;           /* of the tasks added before the run;
                                       * each taken when the run comes to it
                                       * or anything needs its record */
  GPtrArray         *outcomes;        /* GatherOutcome, NULL until recorded */
  GatherSlab         outcome_slab;    /* where outcomes are allocated */
  GatherSlab         record_slab;     /* where records made here are */
  GPtrArray         *to_emit;         /* recorded, task-finished not emitted */
  GCancellable      *spare;           /* an async task's, to reuse */
  char              *stop_message;    /* why the policy stopped the rest */

  gint64             queued_time;
  guint              next_dispatch;   /* next record to start */
  guint              n_in_flight;     /* records holding a slot */
  guint              n_in_pool;       /* ... of which use the pool */
  gboolean           used_pool;       /* a pool task was launched */
  guint              n_live;          /* records not released yet */
  guint              n_finished;      /* outcomes recorded */
  guint              n_succeeded;
  guint              n_notified;      /* n_finished when last notified */
  guint              n_running_notified;
  gboolean           emit;            /* task-finished has handlers */
  gboolean           swept;           /* the stop was applied to every task */
  gboolean           finished;
  gboolean           open;            /* tasks may still be added */
  gboolean           notify_closed;   /* a stop closed the group */

  GArray            *ready;           /* QueueEntry heap; NULL until needed */
  GArray            *waiting;         /* QueueEntry heap; NULL until needed */
  GHashTable        *retries;         /* index → RetryState; NULL until needed */
  GatherTimer        retry_timer;     /* the first due retry; holds an inbox
                                       * reference while armed */
  GatherTaskList    *list;            /* the group's model, once it has one;
                                       * the group's, which outlives the run */
};

/* ---- Queues ---- */

static inline gboolean
queue_entry_less (const QueueEntry *a,
                  const QueueEntry *b)
{
  return a->key < b->key || (a->key == b->key && a->index < b->index);
}

static void
queue_push (GArray **heap,
            gint64   key,
            guint    index)
{
  QueueEntry entry = { key, index };
  QueueEntry *entries;
  guint i;

  if (*heap == NULL)
    *heap = g_array_new (FALSE, FALSE, sizeof (QueueEntry));

  g_array_append_val (*heap, entry);
  entries = (QueueEntry *) (*heap)->data;

  for (i = (*heap)->len - 1; i > 0 && queue_entry_less (&entry, &entries[(i - 1) / 2]); i = (i - 1) / 2)
    entries[i] = entries[(i - 1) / 2];
  entries[i] = entry;
}

static void
queue_pop (GArray *heap)
{
  QueueEntry *entries = (QueueEntry *) heap->data;
  QueueEntry last;
  guint i = 0;

  g_assert (heap->len > 0);

  last = entries[heap->len - 1];
  g_array_set_size (heap, heap->len - 1);

  for (;;)
    {
      guint child = 2 * i + 1;

      if (child >= heap->len)
        break;
      if (child + 1 < heap->len && queue_entry_less (&entries[child + 1], &entries[child]))
        child++;
      if (!queue_entry_less (&entries[child], &last))
        break;
      entries[i] = entries[child];
      i = child;
    }

  if (heap->len > 0)
    entries[i] = last;
}

static inline const QueueEntry *
queue_top (GArray *heap)
{
  return heap != NULL && heap->len > 0 ? &g_array_index (heap, QueueEntry, 0) : NULL;
}

/* ---- Task objects ---- */

/* The task object of @index, if the group's model created one. */
static inline GatherTask *
gather_run_peek_task (GatherRun *self,
                      guint      index)
{
  return self->list != NULL ? gather_task_list_peek (self->list, index) : NULL;
}

static inline void
gather_run_task_changed (GatherRun  *self,
                         GatherTask *task,
                         gboolean    queue)
{
  if (queue)
    gather_task_list_queue (self->list, task);
}

/* Timer thread: a retry is due; the owner moves it on. */
static void
gather_run_retry_expired (gpointer data)
{
  GatherInbox *inbox = data;

  gather_inbox_post_flags (inbox, GATHER_INBOX_START);
  gather_inbox_unref (inbox);
}

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

/* The record of task @index, made from its spec now if need be; NULL once
 * released. */
static inline GatherTaskRecord *
gather_run_record_at (GatherRun *self,
                      guint      index)
{
  return gather_task_record_at (self->records, &self->specs, &self->record_slab, index);
}

static RetryState *
gather_run_lookup_retry (GatherRun *self,
                         guint      index)
{
  return self->retries != NULL ? g_hash_table_lookup (self->retries, GUINT_TO_POINTER (index)) : NULL;
}

static void gather_run_retry_check (GatherRun  *self,
                                    guint       index,
                                    RetryState *state);

/* Releases a record whose body will not run again (or never ran): its
 * user data is destroyed here, on the owner's context, once no attempt of
 * the task can use it. */
static void
gather_run_release (GatherRun        *self,
                    GatherTaskRecord *record)
{
  GDestroyNotify destroy = g_steal_pointer (&record->user_data_destroy);
  gpointer data = g_steal_pointer (&record->user_data);
  guint index = record->index;

  gather_run_free_slot (self, record);
  if (g_ptr_array_index (self->records, index) == record)
    g_ptr_array_index (self->records, index) = NULL;
  self->n_live--;

  /* Only the owner touches an async task's cancellable. */
  if (!record->runner->cancel_anywhere && record->cancellable != NULL)
    gather_run_give_back_cancellable (self, g_steal_pointer (&record->cancellable));

  if (record->shares_data)
    {
      RetryState *state = gather_run_lookup_retry (self, index);

      g_assert (destroy == NULL);

      if (state->previous == record)
        {
          /* The next attempt may start now. */
          state->previous = NULL;
          gather_run_retry_check (self, index, state);
        }

      if (--state->n_live == 0)
        {
          destroy = state->destroy;
          data = state->data;
          g_clear_pointer (&state->last, gather_outcome_unref);
          g_hash_table_remove (self->retries, GUINT_TO_POINTER (index));
        }
    }

  gather_task_record_unref (record);

  if (destroy != NULL)
    destroy (data);
}

/* Arms the retry timer at the first due retry. */
static void
gather_run_arm_retry_timer (GatherRun *self)
{
  const QueueEntry *top = queue_top (self->waiting);

  if (top == NULL)
    return;

  /* The timer's reference, unless it was armed already. */
  gather_inbox_ref (self->inbox);
  if (!gather_timer_schedule (&self->retry_timer, top->key,
                              gather_run_retry_expired, self->inbox))
    gather_inbox_unref (self->inbox);
}

/* The next attempt of task @index may start once its delay is over and
 * the attempt before has returned (or was abandoned). */
static void
gather_run_retry_check (GatherRun  *self,
                        guint       index,
                        RetryState *state)
{
  GatherTaskRecord *record = g_ptr_array_index (self->records, index);
  GatherTask *task;

  if (!state->due || state->previous != NULL ||
      record == NULL || !record->backoff || record->recorded)
    return;

  record->backoff = FALSE;
  queue_push (&self->ready, -(gint64) record->priority, index);

  task = gather_run_peek_task (self, index);
  if (task != NULL)
    gather_run_task_changed (self, task, gather_task_update_queued (task));
}

/* Moves the retries whose delay is over to the ready queue. */
static void
gather_run_wake_retries (GatherRun *self)
{
  const QueueEntry *top;
  gint64 now;

  if (queue_top (self->waiting) == NULL)
    return;

  now = g_get_monotonic_time ();
  while ((top = queue_top (self->waiting)) != NULL && top->key <= now)
    {
      guint index = top->index;
      RetryState *state = gather_run_lookup_retry (self, index);

      queue_pop (self->waiting);
      if (state != NULL)
        {
          state->due = TRUE;
          gather_run_retry_check (self, index, state);
        }
    }

  gather_run_arm_retry_timer (self);
}

/* Whether the attempt of @record that just ended, with @outcome, is tried
 * again. Never after a stop: a stopped run retries nothing. */
static gboolean
gather_run_should_retry (GatherRun        *self,
                         GatherTaskRecord *record,
                         GatherOutcome    *outcome)
{
  GatherRetryPolicy *policy = record->retry != NULL ? record->retry : self->settings.retry;
  gint state = g_atomic_int_get (&record->state);
  gboolean timed_out;

  if (policy == NULL || gather_inbox_get_stop (self->inbox) != GATHER_STOP_NONE)
    return FALSE;

  switch (gather_outcome_get_status (outcome))
    {
    case GATHER_STATUS_ERROR:
      timed_out = FALSE;
      break;

    case GATHER_STATUS_TIMEOUT:
      /* The task's own timeout, not the deadline (which stops the run). */
      if (GATHER_STATE_REASON (state) != GATHER_STOP_TIMEOUT)
        return FALSE;
      timed_out = TRUE;
      break;

    case GATHER_STATUS_OK:
    case GATHER_STATUS_CANCELLED:
    default:
      return FALSE;
    }

  return gather_retry_policy_retries (policy, record->attempt, timed_out);
}

/* The attempt of @record failed with @outcome (taken) and is tried again:
 * a new record takes its place and waits for its delay. */
static void
gather_run_schedule_retry (GatherRun        *self,
                           GatherTaskRecord *record,
                           GatherOutcome    *outcome,
                           RetryState       *state)
{
  GatherRetryPolicy *policy = record->retry != NULL ? record->retry : self->settings.retry;
  guint index = record->index;
  GatherTaskRecord *next;
  GatherTask *task;
  gint64 due;

  record->retried = TRUE;

  if (state == NULL)
    {
      /* The task's first retry: its records share its user data from now
       * on. */
      state = g_new0 (RetryState, 1);
      state->data = record->user_data;
      state->destroy = g_steal_pointer (&record->user_data_destroy);
      state->first_start = gather_outcome_get_start_time (outcome);
      state->n_live = 1;
      record->shares_data = TRUE;

      if (self->retries == NULL)
        self->retries = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      g_hash_table_insert (self->retries, GUINT_TO_POINTER (index), state);
    }

  g_clear_pointer (&state->last, gather_outcome_unref);
  state->last = outcome;
  state->due = FALSE;
  /* A stopped attempt's body may still run; a returned one is released
   * right after this. */
  state->previous = GATHER_STATE_PHASE (g_atomic_int_get (&record->state)) != GATHER_PHASE_DONE
                      ? record : NULL;

  next = gather_task_record_new (&self->record_slab, record->runner, index, gather_outcome_get_label (outcome),
                                 record->timeout_msec, record->func, state->data, NULL);
  next->attempt = record->attempt + 1;
  next->priority = record->priority;
  next->retry = record->retry != NULL ? g_object_ref (record->retry) : NULL;
  next->queued_time = record->queued_time;
  next->watched = g_atomic_int_get (&record->watched);
  next->shares_data = TRUE;
  next->backoff = TRUE;
  state->n_live++;
  self->n_live++;
  g_ptr_array_index (self->records, index) = next;

  due = g_get_monotonic_time () + gather_retry_policy_pick_delay (policy, record->attempt);
  queue_push (&self->waiting, due, index);
  if (queue_top (self->waiting)->index == index)
    gather_run_arm_retry_timer (self);

  task = gather_run_peek_task (self, index);
  if (task != NULL)
    gather_run_task_changed (self, task, gather_task_update_waiting (task, outcome));
}

/*
 * With -Dsysprof=enabled, each attempt that ran is a mark in sysprof's
 * "gather" group, from its start to its outcome (its stop, for a stopped
 * one), named after the task, saying how it ended. Marks cost nothing
 * worth measuring when no profiler is attached.
 */
static inline void
gather_run_mark (GatherTaskRecord *record,
                 GatherOutcome    *outcome)
{
#if HAVE_SYSPROF
  static const char *status_names[] = { "ok", "error", "timeout", "cancelled" };
  gint64 start = record->start_time;
  const char *label = gather_outcome_get_label (outcome);
  g_autofree char *name = NULL;

  if (start == 0 || GATHER_STATE_PHASE (g_atomic_int_get (&record->state)) == GATHER_PHASE_DROPPED)
    return;

  name = label != NULL ? NULL : g_strdup_printf ("task %u", record->index);
  sysprof_collector_mark_printf (start * 1000, (g_get_monotonic_time () - start) * 1000,
                                 "gather", label != NULL ? label : name,
                                 "%s, attempt %u", status_names[gather_outcome_get_status (outcome)],
                                 record->attempt);
#endif
}

/*
 * Records the outcome of @record, and applies the policy's verdict at
 * once: a stop takes effect before task-finished is emitted for this
 * outcome, so no handler can delay it. An attempt the retry policy retries
 * is not the task's outcome: the next attempt is scheduled instead.
 */
static void
gather_run_record (GatherRun        *self,
                   GatherTaskRecord *record)
{
  GatherOutcome *outcome;
  GatherTally tally;
  GatherRetryInfo info;
  RetryState *state = NULL;
  GatherTask *task;
  char *why;

  if (record->attempt > 1)
    {
      state = gather_run_lookup_retry (self, record->index);
      info.first_start_time = state->first_start;
      info.last = state->last;
    }

  outcome = gather_task_record_take_outcome (record, &self->outcome_slab, self->queued_time,
                                             self->settings.deadline_msec,
                                             self->stop_message,
                                             state != NULL ? &info : NULL);
  gather_run_mark (record, outcome);

  if (G_UNLIKELY (record->retry != NULL || self->settings.retry != NULL) &&
      gather_run_should_retry (self, record, outcome))
    {
      gather_run_schedule_retry (self, record, outcome, state);
      return;
    }

  g_ptr_array_index (self->outcomes, record->index) = outcome;
  if (self->emit)
    g_ptr_array_add (self->to_emit, outcome);
  self->n_finished++;
  if (gather_outcome_get_status (outcome) == GATHER_STATUS_OK)
    self->n_succeeded++;

  task = gather_run_peek_task (self, record->index);
  if (task != NULL)
    gather_run_task_changed (self, task, gather_task_update_outcome (task, outcome));

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

  /* A stopped run takes no more tasks; the group says so with the other
   * notifications. */
  if (self->open)
    {
      self->open = FALSE;
      self->notify_closed = TRUE;
    }

  for (guint i = 0; i < self->records->len; i++)
    {
      GatherTaskRecord *record = gather_run_record_at (self, i);

      if (record == NULL || record->recorded)
        continue;

      /* Dropped now, or by the thread that stopped the run while it was
       * being started. */
      if (gather_task_record_drop (record, reason) ||
          GATHER_STATE_PHASE (g_atomic_int_get (&record->state)) == GATHER_PHASE_DROPPED)
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

/*
 * The next task to start, or NULL: the better of the ready queue's top
 * and the cursor's task. *@from_queue says which, for the caller to take it.
 */
static GatherTaskRecord *
gather_run_next (GatherRun *self,
                 gboolean  *from_queue)
{
  GatherTaskRecord *cursor = NULL;
  GatherTaskRecord *ranked = NULL;
  const QueueEntry *top;

  /* The cursor serves first attempts at the default priority. */
  while (self->next_dispatch < self->records->len)
    {
      GatherTaskRecord *record = gather_run_record_at (self, self->next_dispatch);

      if (record != NULL && !record->recorded && !record->launched &&
          record->priority == 0 && record->attempt == 1)
        {
          cursor = record;
          break;
        }
      self->next_dispatch++;
    }

  /* The cursor has come past every spec, so each was taken: their array
   * (48 bytes a task) is not needed for the rest of the run. */
  if (self->next_dispatch >= self->specs.len && self->specs.items != NULL)
    {
      g_clear_pointer (&self->specs.items, g_free);
      self->specs.len = self->specs.allocated = 0;
    }

  while ((top = queue_top (self->ready)) != NULL)
    {
      GatherTaskRecord *record = g_ptr_array_index (self->records, top->index);

      if (record != NULL && !record->recorded && !record->launched && !record->backoff &&
          -(gint64) record->priority == top->key)
        {
          ranked = record;
          break;
        }
      queue_pop (self->ready);
    }

  if (ranked != NULL &&
      (cursor == NULL || ranked->priority > 0 ||
       (ranked->priority == 0 && ranked->index < cursor->index)))
    {
      *from_queue = TRUE;
      return ranked;
    }

  *from_queue = FALSE;
  return cursor;
}

/* Starts tasks, by priority then in submission order, while slots are
 * free. */
static void
gather_run_refill (GatherRun *self)
{
  guint limit = self->settings.max_concurrent > 0 ? self->settings.max_concurrent : G_MAXUINT;

  while (self->n_in_flight < limit &&
         gather_inbox_get_stop (self->inbox) == GATHER_STOP_NONE)
    {
      gboolean from_queue;
      GatherTaskRecord *record = gather_run_next (self, &from_queue);

      if (record == NULL)
        break;

      if (record->runner->uses_pool && self->n_in_pool >= DISPATCH_WINDOW)
        break;

      if (from_queue)
        queue_pop (self->ready);
      else
        self->next_dispatch++;

      record->launched = TRUE;
      record->inbox = gather_inbox_ref (self->inbox);
      record->timeout_timer.tag = self->inbox;
      record->grace_msec = self->settings.grace_msec;
      record->holds_slot = TRUE;
      self->n_in_flight++;
      if (record->runner->uses_pool)
        {
          self->n_in_pool++;
          if (!self->used_pool)
            {
              /* From now on pool threads may need to wake the owner
               * when bodies start (see the end of gather_run_dispatch()). */
              self->used_pool = TRUE;
              gather_inbox_watch_running (self->inbox,
                                          gather_group_watches_n_running (self->group));
            }
        }

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
  GatherTask *task;

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
       * it ignored its cancellation (or, for an attempt that is retried,
       * the next attempt may start). */
      record->abandoned = TRUE;
      gather_run_free_slot (self, record);
      if (record->retried)
        {
          RetryState *state = gather_run_lookup_retry (self, record->index);

          if (state->previous == record)
            {
              state->previous = NULL;
              gather_run_retry_check (self, record->index, state);
            }
        }
      else
        {
          outcome = g_ptr_array_index (self->outcomes, record->index);
          gather_outcome_set_abandoned (outcome);
          task = gather_run_peek_task (self, record->index);
          if (task != NULL)
            gather_run_task_changed (self, task, gather_task_update_abandoned (task));
        }
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

    case GATHER_EVENT_STARTED:
      /* Only for records a task object watches; a later event of the same
       * record may have been handled already. */
      if (!record->recorded &&
          (task = gather_run_peek_task (self, record->index)) != NULL)
        gather_run_task_changed (self, task,
                                 gather_task_update_running (task, record->runner->kind,
                                                             record->attempt,
                                                             record->start_time));
      break;

    case GATHER_EVENT_SKIPPED:
      /* A pool thread popped it after the run was stopped: it is QUEUED,
       * or DROPPED by whoever stopped the run. */
      if (!record->recorded)
        {
          gather_task_record_drop (record, gather_inbox_get_stop (self->inbox));
          g_assert (GATHER_STATE_PHASE (g_atomic_int_get (&record->state)) == GATHER_PHASE_DROPPED);
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
  if (gather_timer_cancel (&self->retry_timer))
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
  GatherEvents *events;
  guint n_running;

  events = gather_inbox_take (self->inbox, &flags);

  /* Outcomes recorded in this dispatch are emitted at its end if a
   * handler is connected now; emitting to nobody costs more than the rest
   * of recording an outcome. */
  self->emit = gather_group_watches_task_finished (self->group);

  /* Results that arrived count, even if a stop arrived with them. */
  for (guint i = 0; i < events->len; i++)
    gather_run_handle_event (self, &events->items[i]);

  gather_inbox_give_back (self->inbox, events);

  if (!self->finished)
    {
      stop = gather_inbox_get_stop (self->inbox);
      if (stop != GATHER_STOP_NONE && !self->swept)
        gather_run_sweep (self, stop);

      if (stop == GATHER_STOP_NONE)
        gather_run_wake_retries (self);

      gather_run_refill (self);

      /* Start functions can stop the run too. */
      stop = gather_inbox_get_stop (self->inbox);
      if (stop != GATHER_STOP_NONE && !self->swept)
        gather_run_sweep (self, stop);
    }

  /* Signals last: handlers see every count up to date. The tasks' own
   * notifications first, then task-finished, then the group's. */
  if (self->list != NULL)
    gather_task_list_flush (self->list);

  if (!self->finished && self->to_emit->len > 0)
    {
      for (guint i = 0; i < self->to_emit->len; i++)
        gather_group_emit_task_finished (self->group, g_ptr_array_index (self->to_emit, i));
      g_ptr_array_set_size (self->to_emit, 0);
    }

  n_running = gather_inbox_get_n_running (self->inbox);
  if (self->n_notified != self->n_finished || self->n_running_notified != n_running)
    {
      gboolean watched;

      /* Whether n-running is watched matters to pool threads only: a run
       * that has launched no pool task does not ask (190 instructions per
       * async completion, callgrind); its first pool task asks. */
      watched = gather_group_notify_progress (self->group,
                                              self->n_notified != self->n_finished,
                                              self->n_running_notified != n_running,
                                              self->used_pool);
      self->n_notified = self->n_finished;
      self->n_running_notified = n_running;
      if (self->used_pool)
        gather_inbox_watch_running (self->inbox, watched);
    }

  if (self->notify_closed)
    {
      self->notify_closed = FALSE;
      gather_group_notify_closed (self->group);
    }

  if (!self->finished && !self->open && self->n_finished == self->records->len)
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
 * Starts a run of @records and @specs (both taken: see GatherTaskSpec), on
 * @context, which is the owner's thread-default context. Tasks start from
 * the first dispatch of the inbox's source.
 */
GatherRun *
gather_run_new (GatherGroup             *group,
                GMainContext            *context,
                GatherPool              *pool,
                const GatherRunSettings *settings,
                GPtrArray               *records,
                const GatherTaskSpecs   *specs,
                GCancellable            *cancellable)
{
  GatherRun *self = g_new0 (GatherRun, 1);

  self->group = g_object_ref (group);
  self->pool = g_object_ref (pool);
  self->settings = *settings;
  if (settings->retry != NULL)
    g_object_ref (settings->retry);
  self->open = settings->open;
  self->list = gather_group_peek_task_list (group);
  self->records = records;
  self->specs = *specs;
  gather_slab_init (&self->outcome_slab, gather_outcome_size ());
  gather_slab_init (&self->record_slab, sizeof (GatherTaskRecord));
  self->n_live = records->len;
  self->queued_time = g_get_monotonic_time ();
  self->to_emit = g_ptr_array_new ();
  self->outcomes = g_ptr_array_new_full (records->len, (GDestroyNotify) gather_outcome_unref);
  g_ptr_array_set_size (self->outcomes, records->len);

  self->inbox = gather_inbox_new (context, gather_run_dispatch, self, gather_run_drop_group);

  /* Tasks whose priority was set before the run start from the queue. */
  if (settings->has_priorities)
    for (guint i = 0; i < records->len; i++)
      {
        GatherTaskRecord *record = g_ptr_array_index (records, i);

        /* Only a record's priority can have been set. */
        if (record != NULL && record->priority != 0)
          queue_push (&self->ready, -(gint64) record->priority, i);
      }

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
  g_assert (self->retries == NULL || g_hash_table_size (self->retries) == 0);

  g_clear_pointer (&self->records, g_ptr_array_unref);
  g_free (self->specs.items);
  g_clear_pointer (&self->outcomes, g_ptr_array_unref);
  gather_slab_clear (&self->outcome_slab);
  gather_slab_clear (&self->record_slab);
  g_clear_pointer (&self->to_emit, g_ptr_array_unref);
  g_clear_pointer (&self->inbox, gather_inbox_unref);
  g_clear_pointer (&self->stop_message, g_free);
  g_clear_pointer (&self->ready, g_array_unref);
  g_clear_pointer (&self->waiting, g_array_unref);
  g_clear_pointer (&self->retries, g_hash_table_unref);
  g_clear_object (&self->settings.retry);
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

/*
 * gather_run_add:
 * Appends @record (taken), a task added while the run goes. Owner's
 * context; the group checked the run is open. If the run was stopped on
 * another thread meanwhile, the next dispatch drops it with the rest.
 */
void
gather_run_add (GatherRun        *self,
                GatherTaskRecord *record)
{
  g_assert (self->open && !self->finished);
  g_assert (record->index == self->records->len);

  record->queued_time = g_get_monotonic_time ();
  g_ptr_array_add (self->records, record);
  g_ptr_array_add (self->outcomes, NULL);
  self->n_live++;

  if (record->priority != 0)
    queue_push (&self->ready, -(gint64) record->priority, record->index);

  gather_inbox_post_flags (self->inbox, GATHER_INBOX_START);
}

/* Owner's context: the group created its model. */
void
gather_run_set_task_list (GatherRun      *self,
                          GatherTaskList *list)
{
  self->list = list;
}

/* Owner's context: no more tasks come; finish once they all have an
 * outcome. */
void
gather_run_close (GatherRun *self)
{
  if (!self->open)
    return;

  self->open = FALSE;
  gather_inbox_post_flags (self->inbox, GATHER_INBOX_START);
}

gboolean
gather_run_is_open (GatherRun *self)
{
  return self->open;
}

/* The record of @index's current attempt, or NULL once it has its outcome
 * and is released. */
GatherTaskRecord *
gather_run_get_record (GatherRun *self,
                       guint      index)
{
  return gather_run_record_at (self, index);
}

void
gather_run_set_priority (GatherRun *self,
                         guint      index,
                         gint       priority)
{
  GatherTaskRecord *record = gather_run_record_at (self, index);

  if (record == NULL || record->recorded || record->launched || record->priority == priority)
    return;

  record->priority = priority;
  if (!record->backoff)
    queue_push (&self->ready, -(gint64) priority, index);
}

void
gather_run_set_retry_policy (GatherRun         *self,
                             guint              index,
                             GatherRetryPolicy *policy)
{
  GatherTaskRecord *record = gather_run_record_at (self, index);

  if (record != NULL)
    g_set_object (&record->retry, policy);
}

/*
 * gather_run_create_task:
 * A new task object for @index, from where the task is now; from then on
 * its records post STARTED. Owner's context.
 */
GatherTask *
gather_run_create_task (GatherRun *self,
                        guint      index)
{
  GatherTaskRecord *record = gather_run_record_at (self, index);
  GatherOutcome *outcome = g_ptr_array_index (self->outcomes, index);
  RetryState *state = gather_run_lookup_retry (self, index);
  GatherTask *task;

  if (outcome != NULL)
    {
      task = gather_task_new (self->group, index, gather_outcome_get_kind (outcome),
                              gather_outcome_get_label (outcome),
                              record != NULL ? record->priority : 0,
                              record != NULL ? record->retry : NULL);
      gather_task_update_outcome (task, outcome);
    }
  else
    {
      gint phase;

      g_assert (record != NULL);

      task = gather_task_new (self->group, index, record->runner->kind, record->label,
                              record->priority, record->retry);

      /* Set before the state is read: see gather_task_record_begin(). */
      g_atomic_int_set (&record->watched, TRUE);
      phase = GATHER_STATE_PHASE (g_atomic_int_get (&record->state));

      if (state != NULL && state->last != NULL)
        gather_task_update_waiting (task, state->last);

      if (record->backoff)
        ;
      else if (phase != GATHER_PHASE_QUEUED && phase != GATHER_PHASE_DROPPED)
        gather_task_update_running (task, record->runner->kind, record->attempt,
                                    state != NULL ? state->first_start : record->start_time);
      else
        gather_task_update_queued (task);
    }

  gather_task_clear_pending (task);

  return task;
}
