/* gather-group-isolation.c: which tasks of a group run in helper
 * processes, and their limits.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-error.h"
#include "gather-group-private.h"
#include "gather-runner-private.h"

/* A plugin worker task's record; for another task, @error says that it
 * cannot be isolated. */
static GatherTaskRecord *
find_worker_task (GatherGroup  *self,
                  guint         index,
                  GError      **error)
{
  GatherTaskRecord *record = gather_group_get_record_to_change (self, index, error);
  g_autofree char *name = NULL;

  if (record == NULL || record->runner == &gather_worker_runner)
    return record;

  name = gather_task_record_describe (record->index, record->label);
  g_set_error (error, GATHER_ERROR, GATHER_ERROR_NOT_ISOLATABLE,
               "Task %s cannot run in a helper process: it is %s, which runs in this "
               "process; only plugin worker tasks can be isolated", name,
               record->runner == &gather_async_runner ? "an asynchronous operation"
                                                      : "a function of the program");
  return NULL;
}

/**
 * gather_group_set_task_isolated:
 * @self: a [class@Gather.Group]
 * @index: the index of a task of @self
 * @isolated: whether the task runs in a helper process
 * @error: return location for an error
 *
 * Says whether one task runs in a helper process, whatever
 * [property@Gather.Group:isolate-workers] says for the group's other
 * tasks. Call it before the task starts: before running, or, for a task
 * added to an [property@Gather.Group:open] group while it runs, right
 * after adding it.
 *
 * Only plugin worker tasks can be isolated: a task added with
 * [method@Gather.Group.add_task] or [method@Gather.Group.add_async_task]
 * runs in this process, and asking for it fails with
 * [error@Gather.Error.NOT_ISOLATABLE], as does asking to isolate the task
 * of a worker the program added, or to run in this process the task of a
 * worker that an isolated [class@Gather.Registry] loaded, or one that has
 * limits.
 *
 * Returns: `TRUE` if the task runs as asked; `FALSE` with @error set to
 *   [error@Gather.Error.NOT_ISOLATABLE], or to
 *   [error@Gather.Error.ALREADY_STARTED] if the task has started,
 *   or [error@Gather.Error.FAILED] if @self has no task @index
 *
 * Since: 1.0
 */
gboolean
gather_group_set_task_isolated (GatherGroup  *self,
                                guint         index,
                                gboolean      isolated,
                                GError      **error)
{
  GatherTaskRecord *record;

  g_return_val_if_fail (GATHER_IS_GROUP (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  record = find_worker_task (self, index, error);
  if (record == NULL)
    return FALSE;

  return gather_worker_runner_set_isolation (record, isolated, error);
}

/**
 * gather_group_set_task_limits:
 * @self: a [class@Gather.Group]
 * @index: the index of a plugin worker task of @self
 * @memory_limit: how many bytes of memory the task may take, or 0 for no
 *   limit
 * @cpu_limit_sec: how many seconds of CPU time the task may use, or 0 for
 *   no limit
 * @error: return location for an error
 *
 * Limits what one plugin worker task may use. Limits are enforced in the
 * helper process that runs the task, so a task with limits is isolated
 * (see [property@Gather.Group:isolate-workers]). Call it before the task
 * starts, as [method@Gather.Group.set_task_isolated].
 *
 * The memory limit counts the memory the task adds to its helper's data
 * (heap, anonymous mappings, thread stacks: `RLIMIT_DATA`). An allocation
 * past it fails; GLib then aborts the helper, and the task ends with
 * [error@Gather.Error.LIMIT_EXCEEDED] saying it went past its memory limit.
 * (A plugin that handles the failure itself ends as it decides.) The
 * CPU-time limit counts whole seconds of the helper's CPU time from the
 * task's start (`RLIMIT_CPU`); a task that uses them up is killed and ends
 * with [error@Gather.Error.LIMIT_EXCEEDED] saying it went past its CPU-time
 * limit. Either way the group and its other tasks carry on, and the
 * helper is replaced.
 *
 * Returns: `TRUE` if the limits are set; `FALSE` with @error set to
 *   [error@Gather.Error.NOT_ISOLATABLE] if the task cannot be isolated
 *   (see [method@Gather.Group.set_task_isolated]),
 *   [error@Gather.Error.ALREADY_STARTED] if the task has started,
 *   or [error@Gather.Error.FAILED] if @self has no task @index
 *
 * Since: 1.0
 */
gboolean
gather_group_set_task_limits (GatherGroup  *self,
                              guint         index,
                              guint64       memory_limit,
                              guint         cpu_limit_sec,
                              GError      **error)
{
  GatherTaskRecord *record;

  g_return_val_if_fail (GATHER_IS_GROUP (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  record = find_worker_task (self, index, error);
  if (record == NULL)
    return FALSE;

  return gather_worker_runner_set_limits (record, memory_limit, cpu_limit_sec, error);
}
