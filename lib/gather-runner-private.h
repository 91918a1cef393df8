/* gather-runner-private.h: how a task runs, one implementation per kind.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-task.h"
#include "gather-task-record-private.h"
#include "gather-worker.h"

G_BEGIN_DECLS

/* GatherTaskKind is public (gather-task.h): a GatherTask says how it runs.
 * A new kind of runner adds its value there. */

/*
 * GatherRunner: the seam between the run, which decides when a task starts
 * and what its outcome is, and the code that runs it.
 *
 * Everything a kind of task needs from the run goes through this table: the
 * run calls @start once per task, on the owner's context, and the task
 * reports back only through its record's transitions
 * (gather_task_record_finish(), gather_task_record_stop()), which post to
 * the run's inbox. Adding a kind of task is one new file with one of these.
 */
struct _GatherRunner
{
  GatherTaskKind kind;

  /* TRUE if a stopped task's cancellable may be cancelled on any thread
   * (the timer thread, a thread that cancels the run), so the body hears of
   * it at once whatever the owner's context is doing. FALSE if it may only
   * be cancelled on the owner's context: the run does it when it records
   * the outcome, because handlers that JS or Python code connected to it
   * must run on the main thread. */
  gboolean       cancel_anywhere;

  /* TRUE if started tasks wait in the pool's queue for a thread: the run
   * bounds how many it pushes at once (its dispatch window). */
  gboolean       uses_pool;

  /* Owner's context. Starts @record, or queues it to start: the runner
   * calls gather_task_record_begin() when it does start it, and
   * gather_task_record_finish() when the body returns. */
  void         (*start)     (GatherRun        *run,
                             GatherTaskRecord *record);

  /* Owner's context. The grace period passed and the body still runs. */
  void         (*abandon)   (GatherRun        *run,
                             GatherTaskRecord *record);

  /* Owner's context. An abandoned body returned at last. */
  void         (*late)      (GatherRun        *run,
                             GatherTaskRecord *record);
};

extern const GatherRunner gather_thread_runner;
extern const GatherRunner gather_worker_runner;
extern const GatherRunner gather_async_runner;

/* gather-thread-runner.c: what a pool thread does with a record. */
void              gather_thread_runner_run        (GatherTaskRecord *record);

/* gather-worker-runner.c */
GatherTaskRecord *gather_worker_runner_new_record (guint             index,
                                                   const char       *label,
                                                   guint             timeout_msec,
                                                   GatherWorker     *worker,
                                                   GVariant         *parameters);

G_END_DECLS
