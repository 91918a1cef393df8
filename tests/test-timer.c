/* test-timer.c: the private timer heap and thread.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "gather-timer-private.h"

#include "test-util.h"   /* test_slowdown () only: it is inline */

typedef struct
{
  GatherTimer  timer;
  gint64       fired_at;
  guint        id;
  GMutex      *mutex;
  GCond       *cond;
  GArray      *order;   /* guarded by mutex */
} Probe;

static void
probe_fired (gpointer data)
{
  Probe *probe = data;

  g_mutex_lock (probe->mutex);
  probe->fired_at = g_get_monotonic_time ();
  g_array_append_val (probe->order, probe->id);
  g_cond_broadcast (probe->cond);
  g_mutex_unlock (probe->mutex);
}

static void
wait_for_fired (GMutex *mutex,
                GCond  *cond,
                GArray *order,
                guint   n)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC * test_slowdown ();

  g_mutex_lock (mutex);
  while (order->len < n)
    if (!g_cond_wait_until (cond, mutex, end))
      break;
  g_assert_cmpuint (order->len, ==, n);
  g_mutex_unlock (mutex);
}

static void
test_timer_order (void)
{
  const guint n = 2000;
  g_autofree Probe *probes = g_new0 (Probe, n);
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  /* Far enough ahead that every timer is armed before the first is due,
   * even if this thread is preempted on a loaded machine: one due while
   * earlier ones are not armed yet would rightly fire first. */
  gint64 base = g_get_monotonic_time () + 500000 * test_slowdown ();
  GMutex mutex;
  GCond cond;

  g_test_summary ("Timers armed in random order fire in deadline order, never early");

  g_mutex_init (&mutex);
  g_cond_init (&cond);

  for (guint i = 0; i < n; i++)
    {
      probes[i].id = i;
      probes[i].mutex = &mutex;
      probes[i].cond = &cond;
      probes[i].order = order;
    }

  /* Deadline of probe i is base + 50 * i us; arm them shuffled. */
  for (guint k = 0; k < n; k++)
    {
      guint i = (k * 7919) % n;

      g_assert_true (gather_timer_schedule (&probes[i].timer, base + 50 * i,
                                            probe_fired, &probes[i]));
    }

  /* Rearming moves a timer without inserting it twice. */
  g_assert_false (gather_timer_schedule (&probes[n - 1].timer, base + 50 * (n - 1),
                                         probe_fired, &probes[n - 1]));

  wait_for_fired (&mutex, &cond, order, n);

  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpuint (g_array_index (order, guint, i), ==, i);
      g_assert_cmpint (probes[i].fired_at, >=, base + 50 * (gint64) i);
      g_assert_cmpuint (probes[i].timer.heap_index, ==, 0);
    }

  g_mutex_clear (&mutex);
  g_cond_clear (&cond);
}

static void
test_timer_cancel (void)
{
  Probe probes[3] = { { .id = 0 }, { .id = 1 }, { .id = 2 } };
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  /* Far enough ahead that the cancel and the move below come before any
   * of these is due, even if this thread is preempted on a loaded machine. */
  gint64 base = g_get_monotonic_time () + 500000 * test_slowdown ();
  GMutex mutex;
  GCond cond;

  g_test_summary ("A cancelled timer does not fire; a moved one fires at its new time");

  g_mutex_init (&mutex);
  g_cond_init (&cond);
  for (guint i = 0; i < 3; i++)
    {
      probes[i].mutex = &mutex;
      probes[i].cond = &cond;
      probes[i].order = order;
    }

  gather_timer_schedule (&probes[0].timer, base + 30000, probe_fired, &probes[0]);
  gather_timer_schedule (&probes[1].timer, base + 10000, probe_fired, &probes[1]);
  gather_timer_schedule (&probes[2].timer, base + 20000, probe_fired, &probes[2]);

  g_assert_true (gather_timer_cancel (&probes[1].timer));
  g_assert_false (gather_timer_cancel (&probes[1].timer));
  /* Move the last to fire first. */
  g_assert_false (gather_timer_schedule (&probes[0].timer, base + 5000, probe_fired, &probes[0]));

  wait_for_fired (&mutex, &cond, order, 2);
  g_assert_cmpuint (g_array_index (order, guint, 0), ==, 0);
  g_assert_cmpuint (g_array_index (order, guint, 1), ==, 2);

  /* Give the cancelled one time to misfire. */
  g_usleep (30000);
  g_mutex_lock (&mutex);
  g_assert_cmpuint (order->len, ==, 2);
  g_mutex_unlock (&mutex);
  g_assert_cmpint (probes[1].fired_at, ==, 0);

  g_mutex_clear (&mutex);
  g_cond_clear (&cond);
}

static void
test_timer_past (void)
{
  Probe probe = { .id = 7 };
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  GMutex mutex;
  GCond cond;

  g_test_summary ("A deadline in the past fires at once");

  g_mutex_init (&mutex);
  g_cond_init (&cond);
  probe.mutex = &mutex;
  probe.cond = &cond;
  probe.order = order;

  g_assert_true (gather_timer_schedule (&probe.timer, 0, probe_fired, &probe));
  wait_for_fired (&mutex, &cond, order, 1);
  g_assert_cmpuint (g_array_index (order, guint, 0), ==, 7);

  g_mutex_clear (&mutex);
  g_cond_clear (&cond);
}

static void
test_timer_earlier (void)
{
  Probe late = { .id = 0 }, early = { .id = 1 }, later = { .id = 2 };
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  gint64 now, armed;
  GMutex mutex;
  GCond cond;

  g_test_summary ("While the timer thread sleeps until a late deadline, an "
                  "earlier one armed then fires on time; a later one armed "
                  "then does not disturb either");

  g_mutex_init (&mutex);
  g_cond_init (&cond);
  late.mutex = early.mutex = later.mutex = &mutex;
  late.cond = early.cond = later.cond = &cond;
  late.order = early.order = later.order = order;

  now = g_get_monotonic_time ();
  gather_timer_schedule (&late.timer, now + 60 * G_USEC_PER_SEC, probe_fired, &late);
  /* The thread is asleep until the late one by now. */
  g_usleep (50000);

  gather_timer_schedule (&later.timer, now + 120 * G_USEC_PER_SEC, probe_fired, &later);
  armed = g_get_monotonic_time ();
  gather_timer_schedule (&early.timer, armed + 20000, probe_fired, &early);

  wait_for_fired (&mutex, &cond, order, 1);
  g_assert_cmpuint (g_array_index (order, guint, 0), ==, 1);
  g_assert_cmpint (early.fired_at, >=, armed + 20000);
  /* Long before the late one: a thread that was not woken would sleep
   * for a minute (the wait above gives up after 10 s). */
  g_assert_cmpint (early.fired_at, <, armed + 5 * G_USEC_PER_SEC * test_slowdown ());

  g_assert_true (gather_timer_cancel (&late.timer));
  g_assert_true (gather_timer_cancel (&later.timer));

  g_mutex_clear (&mutex);
  g_cond_clear (&cond);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/gather/timer/order", test_timer_order);
  g_test_add_func ("/gather/timer/cancel", test_timer_cancel);
  g_test_add_func ("/gather/timer/past", test_timer_past);
  g_test_add_func ("/gather/timer/earlier", test_timer_earlier);

  return g_test_run ();
}
