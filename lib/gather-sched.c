/* gather-sched.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE

#include "config.h"

#include <sched.h>

#include "gather-sched-private.h"

/*
 * Pool threads run under SCHED_BATCH, the threads that keep deadlines
 * (the timer thread, the helpers' threads) under SCHED_OTHER. So does
 * plugin code in a helper: the worker process sets SCHED_BATCH, its
 * supervisor keeps the host's policy.
 *
 * SCHED_BATCH gives a thread the same share of the CPU as SCHED_OTHER at
 * the same nice value; what it takes away is wake-up preemption: a batch
 * thread that wakes up waits for the running thread's time slice instead
 * of preempting it. Without it, each thread body the timer thread woke by
 * cancelling it preempted the timer thread (perf sched_switch: the timer
 * thread switched out runnable right after the eventfd write of
 * g_cancellable_cancel()), which then waited for a CPU among the bodies it
 * had woken and fell behind its deadlines: with 10,000 thread bodies timed
 * at once (gather-bench --sections lateness) it fired tens of ms late at
 * the p99, and the owner's main loop was pushed back the same way.
 *
 * In a helper, without it, each request the host sent woke the worker
 * process, which preempted the sending thread: 8 isolated tasks in flight
 * on 2 helpers cost 1.2-1.9 context switches per task, 0.9-1.1 with it
 * (perf stat, 6 alternated runs of gather-bench --only isolated -e 5).
 *
 * Threads inherit the policy of the thread that creates them, so the
 * deadline threads set SCHED_OTHER themselves: the first of them may be
 * started from a pool thread. Failure is harmless (another kernel, a
 * seccomp filter): the thread keeps the policy it had.
 */
void
gather_sched_set_batch (gboolean batch)
{
  struct sched_param param = { 0 };

  (void) sched_setscheduler (0, batch ? SCHED_BATCH : SCHED_OTHER, &param);
}
