/* gather-worker-runner.c: plugin worker tasks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-error.h"
#include "gather-helper-worker-private.h"
#include "gather-pool-private.h"
#include "gather-run-private.h"
#include "gather-runner-private.h"
#include "gather-worker-private.h"

/*
 * A worker task invokes a GatherWorker with parameters checked when the
 * task was added. It runs on a pool thread, like any thread body (the
 * runner's table is in gather-thread-runner.c), unless it is isolated: then
 * its start hands the record to the helper runner (gather-helper-runner.c)
 * before anything else sees it, and it runs in a helper process.
 */

static void
worker_task_free (gpointer data)
{
  GatherWorkerTask *task = data;

  g_object_unref (task->worker);
  g_variant_unref (task->parameters);
  g_clear_pointer (&task->description, g_ref_string_release);
  g_clear_pointer (&task->request, g_bytes_unref);
  g_free (task);
}

static GVariant *
worker_task_run (GCancellable  *cancellable,
                 gpointer       user_data,
                 GError       **error)
{
  GatherWorkerTask *task = user_data;

  return gather_worker_invoke (task->worker, task->parameters, cancellable, error);
}

/* Owner: @spec describes a task that runs @worker with @parameters
 * (checked already). */
void
gather_worker_runner_init_spec (GatherTaskSpec *spec,
                                const char     *label,
                                guint           timeout_msec,
                                GatherWorker   *worker,
                                GVariant       *parameters)
{
  GatherWorkerTask *task = g_new0 (GatherWorkerTask, 1);

  task->worker = g_object_ref (worker);
  task->name = gather_worker_get_name (worker);
  task->result_type = gather_worker_get_result_type (worker);
  task->parameters = g_variant_ref_sink (parameters);

  /* A worker loaded in a helper has no code here. */
  if (gather_helper_worker_is (worker))
    task->isolation = GATHER_ISOLATION_HELPER;

  gather_task_spec_init (spec, &gather_worker_runner,
                         label != NULL ? label : task->name,
                         timeout_msec, worker_task_run, task, worker_task_free);
}

static char *
describe (GatherTaskRecord *record)
{
  return gather_task_record_describe (record->index, record->label);
}

/* Owner, before the run: see gather_group_set_task_isolated(). */
gboolean
gather_worker_runner_set_isolation (GatherTaskRecord  *record,
                                    gboolean           isolated,
                                    GError           **error)
{
  GatherWorkerTask *task = record->user_data;
  g_autofree char *name = describe (record);

  g_assert (record->runner == &gather_worker_runner);

  if (isolated)
    {
      if (!gather_helper_runner_check (task, error))
        return FALSE;
      task->isolation = GATHER_ISOLATION_HELPER;
      return TRUE;
    }

  if (gather_helper_worker_is (task->worker))
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE,
                   "Task %s cannot run in this process: worker “%s” was loaded in a "
                   "helper process, and runs only there", name, task->name);
      return FALSE;
    }

  if (task->memory_limit > 0 || task->cpu_limit > 0)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE,
                   "Task %s cannot run in this process: it has limits, which only "
                   "a helper process enforces", name);
      return FALSE;
    }

  task->isolation = GATHER_ISOLATION_IN_PROCESS;
  return TRUE;
}

/* Owner, before the run: see gather_group_set_task_limits(). */
gboolean
gather_worker_runner_set_limits (GatherTaskRecord  *record,
                                 guint64            memory_limit,
                                 guint32            cpu_limit,
                                 GError           **error)
{
  GatherWorkerTask *task = record->user_data;

  g_assert (record->runner == &gather_worker_runner);

  if ((memory_limit > 0 || cpu_limit > 0) &&
      task->isolation == GATHER_ISOLATION_IN_PROCESS)
    {
      g_autofree char *name = describe (record);

      g_set_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE,
                   "Task %s runs in this process: limits are enforced only in a "
                   "helper process", name);
      return FALSE;
    }

  if ((memory_limit > 0 || cpu_limit > 0) && !gather_helper_runner_check (task, error))
    return FALSE;

  task->memory_limit = memory_limit;
  task->cpu_limit = cpu_limit;
  if (memory_limit > 0 || cpu_limit > 0)
    task->isolation = GATHER_ISOLATION_HELPER;

  return TRUE;
}

/* Owner's context: on a pool thread, or in a helper process. */
static void
gather_worker_runner_start (GatherRun        *run,
                            GatherTaskRecord *record)
{
  GatherWorkerTask *task = record->user_data;
  gboolean isolated;

  isolated = task->isolation == GATHER_ISOLATION_HELPER ||
             (task->isolation == GATHER_ISOLATION_GROUP &&
              gather_run_get_settings (run)->isolate_workers);

  if (isolated)
    {
      /* Nothing else has seen the record yet. */
      record->runner = &gather_helper_runner;
      gather_helper_runner.start (run, record);
      return;
    }

  record->dispatched = TRUE;
  gather_pool_push (gather_run_get_pool (run), record);
}

/* Plugin workers run on pool threads too: only the body differs. */
const GatherRunner gather_worker_runner = {
  .kind = GATHER_TASK_KIND_WORKER,
  .cancel_anywhere = TRUE,
  .uses_pool = TRUE,
  .start = gather_worker_runner_start,
  .abandon = gather_thread_runner_abandon,
  .late = gather_thread_runner_late,
};
