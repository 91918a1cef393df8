/* gather-inbox.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-task-private.h"

/*
 * GatherInbox: the one channel from worker threads and the timer thread to
 * the group's main context.
 *
 * Events are appended to an array under a mutex. Only the post that finds
 * the inbox empty wakes the owner (g_source_set_ready_time() on one GSource,
 * which is thread-safe), so under load one wake-up and one dispatch carry a
 * whole batch of completions instead of one idle source per task.
 *
 * Reference counting: the group holds one reference, and so does anything
 * that can post without holding a task (the deadline timer, the handler
 * connected to the run's cancellable). The source is destroyed by
 * gather_inbox_close(); posting after that is harmless and does nothing.
 */
struct _GatherInbox
{
  gint              ref_count;   /* atomic */
  GMutex            mutex;
  GArray           *events;      /* guarded by mutex: GatherEvent */
  GArray           *spare;       /* guarded by mutex: drained array for reuse */
  GatherInboxFlags  flags;       /* guarded by mutex */
  gboolean          armed;       /* guarded by mutex: a wake-up is pending */
  GSource          *source;      /* owned; set at creation */
  GatherTimer       timer;       /* the group's deadline (see gather-timer.c) */
  gint              n_running;   /* atomic: bodies running now */
};

static gboolean
gather_inbox_source_dispatch (GSource     *source,
                              GSourceFunc  callback,
                              gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs gather_inbox_source_funcs = {
  .dispatch = gather_inbox_source_dispatch,
};

GatherInbox *
gather_inbox_new (GMainContext   *context,
                  GSourceFunc     dispatch,
                  gpointer        data,
                  GDestroyNotify  data_destroy)
{
  GatherInbox *inbox = g_new0 (GatherInbox, 1);

  inbox->ref_count = 1;
  g_mutex_init (&inbox->mutex);
  inbox->events = g_array_new (FALSE, FALSE, sizeof (GatherEvent));
  inbox->spare = g_array_new (FALSE, FALSE, sizeof (GatherEvent));

  inbox->source = g_source_new (&gather_inbox_source_funcs, sizeof (GSource));
  g_source_set_static_name (inbox->source, "[gather] inbox");
  g_source_set_callback (inbox->source, dispatch, data, data_destroy);
  g_source_attach (inbox->source, context);

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

  g_source_destroy (inbox->source);
  g_source_unref (inbox->source);
  g_array_unref (inbox->events);
  g_array_unref (inbox->spare);
  g_mutex_clear (&inbox->mutex);
  g_free (inbox);
}

/* Stops dispatching. Called on the owner once nothing can post records. */
void
gather_inbox_close (GatherInbox *inbox)
{
  g_source_destroy (inbox->source);
}

static inline gboolean
gather_inbox_append_locked (GatherInbox      *inbox,
                            GatherTaskRecord *record,
                            GatherEventKind   kind)
{
  GatherEvent event = { record, kind };
  gboolean was_armed = inbox->armed;

  g_array_append_val (inbox->events, event);
  inbox->armed = TRUE;

  return !was_armed;
}

void
gather_inbox_post (GatherInbox      *inbox,
                   GatherTaskRecord *record,
                   GatherEventKind   kind)
{
  gboolean wake;

  g_mutex_lock (&inbox->mutex);
  wake = gather_inbox_append_locked (inbox, record, kind);
  g_mutex_unlock (&inbox->mutex);

  if (wake)
    g_source_set_ready_time (inbox->source, 0);
}

/*
 * Moves @record from @from_state to @to_state and posts @kind, atomically
 * with respect to other posts: an event that another thread posts because
 * it saw @to_state is queued after this one.
 */
gboolean
gather_inbox_post_if (GatherInbox      *inbox,
                      GatherTaskRecord *record,
                      GatherEventKind   kind,
                      gint              from_state,
                      gint              to_state)
{
  gboolean wake = FALSE;
  gboolean moved;

  g_mutex_lock (&inbox->mutex);
  moved = g_atomic_int_compare_and_exchange (&record->state, from_state, to_state);
  if (moved)
    wake = gather_inbox_append_locked (inbox, record, kind);
  g_mutex_unlock (&inbox->mutex);

  if (wake)
    g_source_set_ready_time (inbox->source, 0);

  return moved;
}

void
gather_inbox_post_flags (GatherInbox      *inbox,
                         GatherInboxFlags  flags)
{
  gboolean wake;

  g_mutex_lock (&inbox->mutex);
  inbox->flags |= flags;
  wake = !inbox->armed;
  inbox->armed = TRUE;
  g_mutex_unlock (&inbox->mutex);

  if (wake)
    g_source_set_ready_time (inbox->source, 0);
}

/*
 * Takes every pending event and flag. Owner's context only; the caller hands
 * the array back with gather_inbox_give_back() once it has processed it.
 *
 * The ready time is reset before the events are taken, so a post that comes
 * after the take finds the inbox disarmed and wakes the owner again.
 */
GArray *
gather_inbox_take (GatherInbox      *inbox,
                   GatherInboxFlags *flags)
{
  GArray *events;

  g_source_set_ready_time (inbox->source, -1);

  g_mutex_lock (&inbox->mutex);
  events = inbox->events;
  inbox->events = inbox->spare;
  inbox->spare = NULL;
  *flags = inbox->flags;
  inbox->flags = 0;
  inbox->armed = FALSE;
  g_mutex_unlock (&inbox->mutex);

  return events;
}

void
gather_inbox_give_back (GatherInbox *inbox,
                        GArray      *events)
{
  g_array_set_size (events, 0);

  g_mutex_lock (&inbox->mutex);
  g_assert (inbox->spare == NULL);
  inbox->spare = events;
  g_mutex_unlock (&inbox->mutex);
}

GatherTimer *
gather_inbox_get_timer (GatherInbox *inbox)
{
  return &inbox->timer;
}

/* Workers count their bodies in and out; any thread may read the count. */
void
gather_inbox_add_running (GatherInbox *inbox,
                          gint         delta)
{
  g_atomic_int_add (&inbox->n_running, delta);
}

guint
gather_inbox_get_n_running (GatherInbox *inbox)
{
  return (guint) g_atomic_int_get (&inbox->n_running);
}
