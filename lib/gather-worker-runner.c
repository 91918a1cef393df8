/* gather-worker-runner.c: plugin worker tasks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-runner-private.h"
#include "gather-worker-private.h"

/*
 * A worker task is a thread body that invokes a GatherWorker with
 * parameters checked when the task was added. It runs on a pool thread,
 * like any thread body (the runner's table is in gather-thread-runner.c).
 */

typedef struct
{
  GatherWorker *worker;
  GVariant     *parameters;
} WorkerTask;

static void
worker_task_free (gpointer data)
{
  WorkerTask *task = data;

  g_object_unref (task->worker);
  g_variant_unref (task->parameters);
  g_free (task);
}

static GVariant *
worker_task_run (GCancellable  *cancellable,
                 gpointer       user_data,
                 GError       **error)
{
  WorkerTask *task = user_data;

  return gather_worker_invoke (task->worker, task->parameters, cancellable, error);
}

/* Owner: a record that runs @worker with @parameters (checked already). */
GatherTaskRecord *
gather_worker_runner_new_record (guint         index,
                                 const char   *label,
                                 guint         timeout_msec,
                                 GatherWorker *worker,
                                 GVariant     *parameters)
{
  WorkerTask *task = g_new (WorkerTask, 1);

  task->worker = g_object_ref (worker);
  task->parameters = g_variant_ref_sink (parameters);

  return gather_task_record_new (&gather_worker_runner, index,
                                 label != NULL ? label : gather_worker_get_name (worker),
                                 timeout_msec, worker_task_run, task, worker_task_free);
}
