/* gather-helper-runner.c: plugin worker tasks in helper processes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-error.h"
#include "gather-helper-pool-private.h"
#include "gather-helper-protocol-private.h"
#include "gather-run-private.h"
#include "gather-runner-private.h"
#include "gather-worker-private.h"

/*
 * An isolated task is a plugin worker task (gather-worker-runner.c hands
 * it over when it starts) that runs in a helper process of the group's
 * pool (gather-helper-pool.c). It holds no thread.
 *
 * When the task is stopped, the thread that stops it cancels its
 * cancellable, and the cancelled hook asks the helper to cancel the task
 * and arms the kill timer: if the task has not returned when the grace
 * period is over, the timer thread kills the helper with SIGKILL, and the
 * task settles as killed once the helper's processes are all gone.
 *
 * The record's own grace timer, which would mark the outcome abandoned, is
 * pushed KILL_MARGIN_MSEC past the grace period: it only fires if the
 * helper could not be killed by then (a process stuck in the kernel, or
 * dumping a large core). The task then counts as abandoned too.
 */

#define KILL_MARGIN_MSEC 5000

/* The plugin file a helper loads the worker of @task from, or NULL with
 * @error if it has none. Owner's context. */
static const char *
plugin_path (GatherWorkerTask  *task,
             GError           **error)
{
  const char *path = gather_worker_get_plugin_path (task->worker);

  if (path == NULL)
    g_set_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE,
                 "Worker “%s” cannot run in a helper process: the program added "
                 "it, and a helper loads workers only from plugin files",
                 task->name);

  return path;
}

/* Whether the task of @task can run in a helper; see
 * gather-runner-private.h. Owner's context. */
gboolean
gather_helper_runner_check (GatherWorkerTask  *task,
                            GError           **error)
{
  return plugin_path (task, error) != NULL;
}

/* "task “label” (worker “name”)", for messages: shared, not copied, by
 * the helper that runs the task. */
static GRefString *
describe (const char *label,
          const char *name)
{
  g_autofree char *text = g_strconcat ("task “", label, "” (worker “", name, "”)", NULL);

  return g_ref_string_new (text);
}

static void
gather_helper_runner_start (GatherRun        *run,
                            GatherTaskRecord *record)
{
  GatherWorkerTask *task = record->user_data;
  GatherPool *pool = gather_run_get_pool (run);
  GError *error = NULL;
  const char *path;

  /* Released when the helper pool has posted its last event. */
  record->dispatched = TRUE;

  /* Worker tasks are labelled (by the worker's name if not by the
   * caller). The attempts of a retried task share @task, and their
   * description and request are the same: made once, by the first
   * (a helper of an abandoned attempt may still read them). */
  g_assert (record->label != NULL);
  if (task->description == NULL)
    task->description = describe (record->label, task->name);
  task->grace_msec = record->grace_msec;
  record->grace_msec = record->grace_msec <= G_MAXUINT - KILL_MARGIN_MSEC
                       ? record->grace_msec + KILL_MARGIN_MSEC : G_MAXUINT;

  path = plugin_path (task, &error);
  if (path != NULL && task->request == NULL)
    {
      /* Sent as it is to whichever helper runs it, with its serial. */
      task->request = gather_helper_run_frame_new (path, task->name, task->parameters,
                                                   gather_worker_declaration_digest (task->worker),
                                                   task->memory_limit, task->cpu_limit);
      if (task->request == NULL)
        g_set_error (&error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS,
                     "The parameters of %s are larger than an isolated task may take (%u bytes)",
                     task->description, GATHER_HELPER_MAX_FRAME);
    }

  if (error != NULL)
    {
      GCancellable *cancellable = g_cancellable_new ();

      /* Asked by the group, not by the task: its outcome says why not. */
      if (gather_task_record_begin (record, &cancellable, g_get_monotonic_time ()))
        {
          if (g_error_matches (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE))
            {
              g_autofree char *name = gather_task_record_describe (record->index, record->label);

              g_prefix_error (&error, "Task %s: ", name);
            }
          gather_task_record_finish (record, NULL, error, NULL);
        }
      else
        {
          g_object_unref (cancellable);
          g_error_free (error);
        }
      return;
    }

  gather_helper_pool_push (gather_helper_pool_get (pool), gather_pool_get_max_threads (pool),
                           record);
}

const GatherRunner gather_helper_runner = {
  .kind = GATHER_TASK_KIND_ISOLATED,
  .cancel_anywhere = TRUE,
  .uses_pool = TRUE,
  .start = gather_helper_runner_start,
  .abandon = NULL,
  .late = NULL,
  .cancelled = gather_helper_pool_cancelled,
};
