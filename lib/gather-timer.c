/* gather-timer.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <sys/prctl.h>

#include "gather-inbox-private.h"
#include "gather-sched-private.h"
#include "gather-timer-private.h"

/*
 * One process-wide timer thread and one min-heap of GatherTimer pointers,
 * ordered by deadline. The thread sleeps on a condition variable until the
 * earliest deadline (g_cond_wait_until() uses the monotonic clock with
 * microsecond resolution), pops every expired timer and calls its function
 * with the lock released.
 *
 * Ownership: the heap does not own the data of its timers. The contract is
 * stated at gather_timer_schedule() and gather_timer_cancel(): whoever arms a
 * timer that was not armed hands the heap one reference, which the fired
 * function or the successful cancel gives back.
 *
 * Why a thread and not a GSource: the owner's main context can be busy, and
 * GLib rounds poll timeouts up to whole milliseconds. Cancellation must reach
 * a task within half a millisecond of its deadline whatever the owner does;
 * the outcome itself is still recorded on the owner's context.
 */

static GMutex        timer_lock;
static GCond         timer_cond;
static GatherTimer **heap;        /* guarded by timer_lock; heap[0] unused */
static guint         heap_len;    /* guarded by timer_lock */
static guint         heap_size;   /* guarded by timer_lock */
static gboolean      timer_wake;  /* guarded by timer_lock: the top changed */
/* Guarded by timer_lock: when the thread wakes up by itself, G_MAXINT64
 * if never; G_MININT64 while it is awake (it looks at the heap before it
 * sleeps again). A new top is signalled only if it is due earlier: a task
 * that starts arms a timer later than those of the tasks before it, and
 * waking the thread for each cost two futex calls per task. */
static gint64        timer_sleeps_until = G_MININT64;

static inline void
heap_set (guint        i,
          GatherTimer *timer)
{
  heap[i] = timer;
  timer->heap_index = i;
}

static void
heap_sift_up (guint i)
{
  GatherTimer *timer = heap[i];

  while (i > 1 && heap[i / 2]->when > timer->when)
    {
      heap_set (i, heap[i / 2]);
      i /= 2;
    }

  heap_set (i, timer);
}

static void
heap_sift_down (guint i)
{
  GatherTimer *timer = heap[i];

  for (;;)
    {
      guint child = 2 * i;

      if (child > heap_len)
        break;
      if (child < heap_len && heap[child + 1]->when < heap[child]->when)
        child++;
      if (heap[child]->when >= timer->when)
        break;

      heap_set (i, heap[child]);
      i = child;
    }

  heap_set (i, timer);
}

static void
heap_remove (GatherTimer *timer)
{
  guint i = timer->heap_index;
  GatherTimer *last;

  g_assert (i >= 1 && i <= heap_len && heap[i] == timer);

  last = heap[heap_len];
  heap[heap_len] = NULL;
  heap_len--;
  timer->heap_index = 0;

  if (i <= heap_len)
    {
      heap_set (i, last);
      heap_sift_up (i);
      heap_sift_down (last->heap_index);
    }
}

static gpointer
gather_timer_thread (gpointer unused)
{
  /* Linux lets a sleeping thread wake up to 50 µs late by default, to
   * group wake-ups; this one wakes up for deadlines. */
  prctl (PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  gather_inbox_mark_thread ();
  gather_sched_set_batch (FALSE);

  g_mutex_lock (&timer_lock);

  for (;;)
    {
      GatherTimer *top;
      GatherTimerFunc func;
      gpointer data;

      timer_wake = FALSE;

      if (heap_len == 0)
        {
          timer_sleeps_until = G_MAXINT64;
          g_cond_wait (&timer_cond, &timer_lock);
          timer_sleeps_until = G_MININT64;
          continue;
        }

      top = heap[1];

      if (top->when > g_get_monotonic_time ())
        {
          /* Spurious and early wake-ups just go round the loop again. */
          timer_sleeps_until = top->when;
          g_cond_wait_until (&timer_cond, &timer_lock, top->when);
          timer_sleeps_until = G_MININT64;
          continue;
        }

      func = top->func;
      data = top->data;
      heap_remove (top);

      g_mutex_unlock (&timer_lock);
      func (data);
      g_mutex_lock (&timer_lock);
    }

  g_assert_not_reached ();
  return NULL;
}

static void
gather_timer_ensure_thread (void)
{
  static gsize started = 0;

  if (g_once_init_enter (&started))
    {
      g_thread_unref (g_thread_new ("gather-timer", gather_timer_thread, NULL));
      g_once_init_leave (&started, 1);
    }
}

/*
 * gather_timer_schedule:
 * Arms @timer to call @func (@data) on the timer thread at @when, or moves it
 * there if it is armed already (it then calls the new @func). Thread-safe.
 *
 * Returns: TRUE if @timer was not armed: the heap now owns a reference on
 *   @data, which @func (or a successful cancel) drops. The caller must take
 *   that reference before calling, since @func may run before this returns.
 *   FALSE if it was armed and was moved: the caller drops the reference it
 *   took.
 *
 * A timer that has just fired may still have its old function running on
 * the timer thread: that call keeps the reference it was given.
 */
gboolean
gather_timer_schedule (GatherTimer     *timer,
                       gint64           when,
                       GatherTimerFunc  func,
                       gpointer         data)
{
  gboolean inserted = FALSE;

  gather_timer_ensure_thread ();

  g_mutex_lock (&timer_lock);

  timer->when = when;
  timer->func = func;
  timer->data = data;

  if (timer->heap_index == 0)
    {
      if (heap_len + 1 >= heap_size)
        {
          heap_size = MAX (64, heap_size * 2);
          heap = g_renew (GatherTimer *, heap, heap_size);
        }

      heap_len++;
      heap_set (heap_len, timer);
      heap_sift_up (heap_len);
      inserted = TRUE;
    }
  else
    {
      heap_sift_up (timer->heap_index);
      heap_sift_down (timer->heap_index);
    }

  if (timer->heap_index == 1 && when < timer_sleeps_until && !timer_wake)
    {
      timer_wake = TRUE;
      g_cond_signal (&timer_cond);
    }

  g_mutex_unlock (&timer_lock);

  return inserted;
}

/*
 * gather_timer_take_tagged:
 * Disarms every armed timer whose tag is @tag, at once. Thread-safe; it
 * walks the whole heap, so it is for rare events (stopping a run).
 *
 * Returns: (nullable): the data of the timers disarmed, or `NULL` if
 *   none was: the caller takes over the heap's reference on each.
 */
GPtrArray *
gather_timer_take_tagged (gconstpointer tag)
{
  g_autoptr(GPtrArray) timers = NULL;
  GPtrArray *taken = NULL;

  g_assert (tag != NULL);

  g_mutex_lock (&timer_lock);

  for (guint i = 1; i <= heap_len; i++)
    if (heap[i]->tag == tag)
      {
        if (timers == NULL)
          timers = g_ptr_array_new ();
        g_ptr_array_add (timers, heap[i]);
      }

  /* Each timer knows its own place, wherever removals move it. */
  for (guint i = 0; timers != NULL && i < timers->len; i++)
    {
      GatherTimer *timer = g_ptr_array_index (timers, i);

      heap_remove (timer);
      if (taken == NULL)
        taken = g_ptr_array_sized_new (timers->len);
      g_ptr_array_add (taken, timer->data);
    }

  g_mutex_unlock (&timer_lock);

  return taken;
}

/*
 * gather_timer_cancel:
 * Disarms @timer. Thread-safe.
 *
 * Returns: TRUE if it was armed: the caller takes back the heap's reference.
 *   FALSE if it was not armed or is firing now (its function drops the
 *   reference).
 */
gboolean
gather_timer_cancel (GatherTimer *timer)
{
  gboolean removed = FALSE;

  g_mutex_lock (&timer_lock);

  if (timer->heap_index != 0)
    {
      heap_remove (timer);
      removed = TRUE;
    }

  g_mutex_unlock (&timer_lock);

  return removed;
}
