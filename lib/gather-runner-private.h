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

  /* Any thread, or NULL: the task was stopped and its cancellable was
   * just cancelled, on this thread (see gather_task_record_cancel()). The
   * caller holds a reference on @record. */
  void         (*cancelled) (GatherTaskRecord *record);
};

extern const GatherRunner gather_thread_runner;
extern const GatherRunner gather_worker_runner;
extern const GatherRunner gather_async_runner;
extern const GatherRunner gather_helper_runner;

/* gather-thread-runner.c: what a pool thread does with a record. */
void              gather_thread_runner_run        (GatherTaskRecord *record);
void              gather_thread_runner_abandon    (GatherRun        *run,
                                                   GatherTaskRecord *record);
void              gather_thread_runner_late       (GatherRun        *run,
                                                   GatherTaskRecord *record);

/*
 * GatherWorkerTask: the user data of a plugin worker task's record (see
 * gather-worker-runner.c), whether it runs on a pool thread or in a
 * helper process (gather-helper-runner.c).
 */
typedef enum
{
  GATHER_ISOLATION_GROUP = 0,       /* as the group's isolate-workers says */
  GATHER_ISOLATION_IN_PROCESS,      /* on a pool thread */
  GATHER_ISOLATION_HELPER,          /* in a helper process */
} GatherIsolation;

/*
 * The owner destroys it when it releases the record, which may be as soon
 * as the record is finished (or skipped): runners read it only before.
 */
typedef struct
{
  /* Set on the owner before the task starts, then read-only. */
  GatherWorker    *worker;
  /* @worker's name and result type (its type's, which live as long as
   * @worker): looked up once, not at each use. */
  const char      *name;
  const char      *result_type;
  GVariant        *parameters;
  GatherIsolation  isolation;
  guint64          memory_limit;     /* bytes, 0 for none */
  guint32          cpu_limit;        /* seconds, 0 for none */
  guint            grace_msec;       /* isolated: the group's grace period */
  GRefString      *description;      /* isolated: "task “x” (worker “y”)",
                                      * shared with its helper */
  GBytes          *request;          /* isolated: its RUN frame, serial 0 */
} GatherWorkerTask;

/* gather-worker-runner.c */
void              gather_worker_runner_init_spec  (GatherTaskSpec   *spec,
                                                   const char       *label,
                                                   guint             timeout_msec,
                                                   GatherWorker     *worker,
                                                   GVariant         *parameters);
gboolean          gather_worker_runner_set_isolation (GatherTaskRecord *record,
                                                      gboolean          isolated,
                                                      GError          **error);
gboolean          gather_worker_runner_set_limits    (GatherTaskRecord *record,
                                                      guint64           memory_limit,
                                                      guint32           cpu_limit,
                                                      GError          **error);

/* gather-helper-runner.c: whether a plugin worker task can run in a
 * helper process; FALSE with @error if not. */
gboolean          gather_helper_runner_check     (GatherWorkerTask *task,
                                                  GError          **error);

G_END_DECLS
