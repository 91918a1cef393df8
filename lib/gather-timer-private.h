/* gather-timer-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef void (*GatherTimerFunc) (gpointer data);

/*
 * GatherTimer: one deadline, embedded in the structure it belongs to.
 *
 * Every field is guarded by the timer lock; users never touch them directly.
 * All timers live in one binary min-heap served by one thread ("gather-timer"),
 * so arming and disarming cost O(log N) whatever the number of pending
 * timers, and a timer fires within the scheduler's wake-up latency of its
 * deadline (no rounding to milliseconds as GMainContext timeouts have).
 */
typedef struct
{
  gint64          when;        /* monotonic, microseconds; G_MAXINT64: never */
  GatherTimerFunc func;
  gpointer        data;
  gconstpointer   tag;         /* for gather_timer_take_tagged(), or NULL */
  guint           heap_index;  /* 1-based position in the heap, 0 = not armed */
} GatherTimer;

gboolean   gather_timer_schedule     (GatherTimer     *timer,
                                      gint64           when,
                                      GatherTimerFunc  func,
                                      gpointer         data);
gboolean   gather_timer_cancel       (GatherTimer     *timer);
GPtrArray *gather_timer_take_tagged  (gconstpointer    tag);

G_END_DECLS
