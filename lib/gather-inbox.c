/* gather-inbox.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-inbox-private.h"
#include "gather-tls-private.h"

/*
 * GatherInbox: what one run shares between threads. Pool threads, the
 * timer thread, completion handles and whoever cancels the run reach the
 * owner's context through it, and it holds the run's stop word and the
 * list of running thread bodies, so that a stop decided on any thread
 * reaches them at once.
 *
 * Events are appended to an array under the mutex. Only the append that
 * finds the inbox empty wakes the owner, so under load one wake-up and one
 * dispatch carry a whole batch of completions instead of one idle source
 * per task. Whoever arms the inbox wakes the owner after unlocking, with a
 * reference on the context taken under the mutex: the owner may take the
 * events as soon as the mutex is released, and free the inbox.
 *
 * Arming sets a flag that the source's prepare() and check() read, and
 * wakes the loop with g_main_context_wakeup(), which writes the context's
 * eventfd without taking the context's lock. g_source_set_ready_time()
 * (used before) holds that lock around the write, and the owner's loop
 * takes it in prepare(), check() and dispatch(): under load the owner and
 * the pool threads waited on each other there, for about a third of the
 * futex calls of a thread task (strace -k). The loop cannot miss
 * the flag: it reads it in prepare() before it polls and in check() after,
 * and a flag set in between comes with a write that ends that poll.
 *
 * A post from the thread that owns the owner's context (an async task
 * completed on it, a task added while the group runs) needs no wake-up:
 * that thread is running a callback of the loop, which runs prepare() of
 * every source before it next polls, so it only sets the flag. The write
 * and the loop's read of it back were two system calls of the three that
 * an async task completed on the owner's context cost (strace). Asking
 * whether the caller owns the context takes the context's lock, so the
 * threads of our own that post (pool threads, the timer thread, the
 * helpers' thread), which never run an owner's loop, skip the question
 * and wake the loop.
 *
 * The stop word is written once. A pool thread checks it before it starts
 * a body and again after arming the body's timer, which is tagged with the
 * inbox; the stop takes every timer with that tag. So once a stop is
 * decided no queued task starts, and every running body is stopped on the
 * thread that decided it (see gather_task_record_begin()).
 *
 * Reference counting: the run holds one reference, every record holds one,
 * and so does anything else that can post (the deadline timer, the handler
 * on the run's cancellable). The source is destroyed by
 * gather_inbox_close(); posting after that is harmless and does nothing.
 */
struct _GatherInbox
{
  gint              ref_count;   /* atomic */
  GMutex            mutex;
  GatherEvents     *events;      /* guarded by mutex */
  GatherEvents     *spare;       /* guarded by mutex: drained buffer for reuse */
  GatherInboxFlags  flags;       /* guarded by mutex */
  gboolean          armed;       /* guarded by mutex: the owner will look */
  gboolean          wake;        /* guarded by mutex: wake after unlocking */
  gboolean          busy;        /* guarded by mutex: the owner is taking events */
  gint              stop;        /* written under mutex, once; atomic */
  GatherInboxSource *source;    /* owned; set at creation */
  GMainContext     *context;     /* owned: the owner's context */
  GatherTimer       timer;       /* the run's deadline (see gather-timer.c) */
  gint              n_running;   /* atomic: bodies and operations running */
  gint              watch;       /* atomic: wake the owner when n_running changes */
  gint              dirty;       /* atomic: a RUNNING_CHANGED flag is pending */
};

struct _GatherInboxSource
{
  GSource  source;
  gint     ready;   /* atomic: events or flags wait for the owner */
};

/* Set on threads of our own that post but never run an owner's loop. */
static GATHER_TLS gboolean never_owner;

static gboolean
gather_inbox_source_prepare (GSource *source,
                             gint    *timeout)
{
  *timeout = -1;
  return g_atomic_int_get (&((GatherInboxSource *) source)->ready);
}

static gboolean
gather_inbox_source_check (GSource *source)
{
  return g_atomic_int_get (&((GatherInboxSource *) source)->ready);
}

static gboolean
gather_inbox_source_dispatch (GSource     *source,
                              GSourceFunc  callback,
                              gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs gather_inbox_source_funcs = {
  .prepare = gather_inbox_source_prepare,
  .check = gather_inbox_source_check,
  .dispatch = gather_inbox_source_dispatch,
};

static void
events_free (GatherEvents *events)
{
  g_free (events->items);
  g_free (events);
}

GatherInbox *
gather_inbox_new (GMainContext   *context,
                  GSourceFunc     dispatch,
                  gpointer        data,
                  GDestroyNotify  data_destroy)
{
  GatherInbox *inbox = g_new0 (GatherInbox, 1);

  inbox->ref_count = 1;
  g_mutex_init (&inbox->mutex);
  inbox->events = g_new0 (GatherEvents, 1);
  inbox->spare = g_new0 (GatherEvents, 1);

  inbox->source = (GatherInboxSource *) g_source_new (&gather_inbox_source_funcs,
                                                      sizeof (GatherInboxSource));
  g_source_set_static_name ((GSource *) inbox->source, "[gather] inbox");
  g_source_set_callback ((GSource *) inbox->source, dispatch, data, data_destroy);
  g_source_attach ((GSource *) inbox->source, context);
  inbox->context = g_main_context_ref (g_source_get_context ((GSource *) inbox->source));

  return inbox;
}

GatherInbox *
gather_inbox_ref (GatherInbox *inbox)
{
  g_atomic_int_inc (&inbox->ref_count);
  return inbox;
}

void
gather_inbox_unref (GatherInbox *inbox)
{
  if (!g_atomic_int_dec_and_test (&inbox->ref_count))
    return;

  g_assert (inbox->events->len == 0);
  g_assert (inbox->timer.heap_index == 0);

  g_source_destroy ((GSource *) inbox->source);
  g_source_unref ((GSource *) inbox->source);
  g_main_context_unref (inbox->context);
  events_free (inbox->events);
  events_free (inbox->spare);
  g_mutex_clear (&inbox->mutex);
  g_free (inbox);
}

/* Stops dispatching. Called on the owner once nothing can post records. */
void
gather_inbox_close (GatherInbox *inbox)
{
  g_source_destroy ((GSource *) inbox->source);
}

void
gather_inbox_lock (GatherInbox *inbox)
{
  g_mutex_lock (&inbox->mutex);
}

void
gather_inbox_unlock (GatherInbox *inbox)
{
  GMainContext *context = NULL;

  /* Once the mutex is released the owner may take the events, finish the
   * run and free the inbox before the loop is woken: keep the context.
   * (Waking it before unlocking, under the mutex, made the owner take
   * smaller batches: ten times the wake-ups and futex calls, strace.) */
  if (inbox->wake)
    context = g_main_context_ref (inbox->context);
  inbox->wake = FALSE;
  g_mutex_unlock (&inbox->mutex);

  if (context == NULL)
    return;

  if (never_owner || !g_main_context_is_owner (context))
    g_main_context_wakeup (context);
  g_main_context_unref (context);
}

/* The flag is set under the mutex: the owner that takes the events next
 * sees it, whether or not it is woken. While the owner handles a batch it
 * is awake and returns to its loop's prepare() afterwards, so arming needs
 * no wake-up then (as a GSource's ready time wakes nobody while the source
 * is dispatched). */
static inline void
gather_inbox_arm_locked (GatherInbox *inbox)
{
  if (!inbox->armed)
    {
      inbox->armed = TRUE;
      g_atomic_int_set (&inbox->source->ready, TRUE);
      inbox->wake = !inbox->busy;
    }
}

void
gather_inbox_append_locked (GatherInbox      *inbox,
                            GatherTaskRecord *record,
                            GatherEventKind   kind)
{
  GatherEvents *events = inbox->events;

  /* A buffer of our own: g_array_append_val() cost about 45 instructions
   * per event (callgrind), this about 10. */
  if (G_UNLIKELY (events->len == events->size))
    {
      events->size = MAX (64, events->size * 2);
      events->items = g_renew (GatherEvent, events->items, events->size);
    }
  events->items[events->len].record = record;
  events->items[events->len].kind = kind;
  events->len++;
  gather_inbox_arm_locked (inbox);
}

void
gather_inbox_post (GatherInbox      *inbox,
                   GatherTaskRecord *record,
                   GatherEventKind   kind)
{
  gather_inbox_lock (inbox);
  gather_inbox_append_locked (inbox, record, kind);
  gather_inbox_unlock (inbox);
}

void
gather_inbox_post_flags (GatherInbox      *inbox,
                         GatherInboxFlags  flags)
{
  gather_inbox_lock (inbox);
  inbox->flags |= flags;
  gather_inbox_arm_locked (inbox);
  gather_inbox_unlock (inbox);
}

/*
 * gather_inbox_stop:
 * Decides that the run stops, for @reason, unless it was stopped already.
 * Any thread.
 *
 * From then on no queued task starts (pool threads check the stop word
 * before they start a body), every thread body running now is stopped and
 * its cancellable cancelled here, on the calling thread, and the owner is
 * woken to record the outcomes of the rest and to stop its async tasks.
 *
 * Returns: TRUE if this call stopped the run
 */
gboolean
gather_inbox_stop (GatherInbox      *inbox,
                   GatherStopReason  reason)
{
  g_autoptr(GPtrArray) running = NULL;

  g_assert (reason != GATHER_STOP_NONE);

  gather_inbox_lock (inbox);
  if (inbox->stop != GATHER_STOP_NONE)
    {
      gather_inbox_unlock (inbox);
      return FALSE;
    }
  g_atomic_int_set (&inbox->stop, reason);
  inbox->flags |= GATHER_INBOX_STOP;
  gather_inbox_arm_locked (inbox);
  gather_inbox_unlock (inbox);

  /* Every running thread body has a timer tagged with this inbox (see
   * gather_task_record_begin()); the timers' references become ours. */
  running = gather_timer_take_tagged (inbox);

  for (guint i = 0; running != NULL && i < running->len; i++)
    {
      GatherTaskRecord *record = g_ptr_array_index (running, i);

      gather_task_record_stop (record, reason);
      gather_task_record_unref (record);
    }

  return TRUE;
}

/* Any thread. */
GatherStopReason
gather_inbox_get_stop (GatherInbox *inbox)
{
  return (GatherStopReason) g_atomic_int_get (&inbox->stop);
}

/*
 * Takes every pending event and flag. Owner's context only; the caller hands
 * the array back with gather_inbox_give_back() once it has processed it.
 *
 * The ready flag is reset before the events are taken, so a post that comes
 * after the take finds the inbox disarmed and wakes the owner again.
 */
GatherEvents *
gather_inbox_take (GatherInbox      *inbox,
                   GatherInboxFlags *flags)
{
  GatherEvents *events;

  g_atomic_int_set (&inbox->source->ready, FALSE);

  g_mutex_lock (&inbox->mutex);
  events = inbox->events;
  inbox->events = inbox->spare;
  inbox->spare = NULL;
  *flags = inbox->flags;
  inbox->flags = 0;
  inbox->armed = FALSE;
  inbox->busy = TRUE;
  g_mutex_unlock (&inbox->mutex);

  if (*flags & GATHER_INBOX_RUNNING_CHANGED)
    g_atomic_int_set (&inbox->dirty, FALSE);

  return events;
}

void
gather_inbox_give_back (GatherInbox  *inbox,
                        GatherEvents *events)
{
  events->len = 0;

  g_mutex_lock (&inbox->mutex);
  g_assert (inbox->spare == NULL);
  inbox->spare = events;
  inbox->busy = FALSE;
  g_mutex_unlock (&inbox->mutex);
}

GatherTimer *
gather_inbox_get_timer (GatherInbox *inbox)
{
  return &inbox->timer;
}

/*
 * Bodies and operations count themselves in and out, on any thread. When
 * somebody watches n-running, the first change after the owner last looked
 * wakes it, once, so that it can notify; otherwise nobody is woken.
 *
 * Returns: whether the owner is to be woken for this change
 */
static inline gboolean
gather_inbox_count_running (GatherInbox *inbox,
                            gint         delta)
{
  g_atomic_int_add (&inbox->n_running, delta);

  return g_atomic_int_get (&inbox->watch) &&
         !g_atomic_int_get (&inbox->dirty) &&
         g_atomic_int_compare_and_exchange (&inbox->dirty, FALSE, TRUE);
}

void
gather_inbox_add_running (GatherInbox *inbox,
                          gint         delta)
{
  if (gather_inbox_count_running (inbox, delta))
    gather_inbox_post_flags (inbox, GATHER_INBOX_RUNNING_CHANGED);
}

/* The same, with the inbox's lock held: a task counts itself out after
 * appending its last event, so that whoever sees n-running drop finds that
 * event queued for the owner. */
void
gather_inbox_add_running_locked (GatherInbox *inbox,
                                 gint         delta)
{
  if (gather_inbox_count_running (inbox, delta))
    {
      inbox->flags |= GATHER_INBOX_RUNNING_CHANGED;
      gather_inbox_arm_locked (inbox);
    }
}

guint
gather_inbox_get_n_running (GatherInbox *inbox)
{
  return (guint) g_atomic_int_get (&inbox->n_running);
}

/* Owner's context: whether anybody listens to n-running changes. */
void
gather_inbox_watch_running (GatherInbox *inbox,
                            gboolean     watch)
{
  g_atomic_int_set (&inbox->watch, watch);
}

/*
 * gather_inbox_mark_thread:
 * Tells the inbox that the calling thread, one of our own, never runs an
 * owner's loop, so its posts wake the owner without asking the context
 * whether the caller owns it (which takes the context's lock).
 */
void
gather_inbox_mark_thread (void)
{
  never_owner = TRUE;
}
