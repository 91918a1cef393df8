/* gather-async-runner.c: asynchronous operations on the owner's context.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-completion.h"
#include "gather-run-private.h"
#include "gather-runner-private.h"

/*
 * An async task holds no thread. Its start function runs on the owner's
 * context when the run dispatches it and starts an operation there; the
 * task's record doubles as its GatherCompletion handle (see
 * gather-completion.c), which finishes the record when the operation
 * completes, on any thread.
 *
 * The start function owns the handle it is given ("transfer full"): GJS
 * does not keep a reference on a boxed argument of a callback past the
 * call, so a handle the runner dropped after the call would be reported as
 * dropped as soon as a JavaScript start function returned. Given
 * ownership, GJS and PyGObject drop it when the closure holding it is
 * collected.
 *
 * Its cancellable belongs to the owner's context: only the run cancels it,
 * when it handles the task's STOPPED event, and releases it there. A
 * timeout or a stop decided on another thread only moves the record to
 * STOPPED; the outcome is recorded when the owner sees that, at once.
 */

static void
gather_async_runner_start (GatherRun        *run,
                           GatherTaskRecord *record)
{
  GatherAsyncTaskFunc func = (GatherAsyncTaskFunc) record->func;
  GCancellable *cancellable = gather_run_take_cancellable (run);

  if (!gather_task_record_begin (record, &cancellable, g_get_monotonic_time ()))
    {
      /* The run was stopped: the record stays queued and is dropped. */
      gather_run_give_back_cancellable (run, cancellable);
      return;
    }
  cancellable = record->cancellable;

  /* The start function's handle, which it owns. */
  record->n_handles = 1;
  gather_task_record_ref (record);

  func ((GatherCompletion *) record, cancellable, record->user_data);
}

const GatherRunner gather_async_runner = {
  .kind = GATHER_TASK_KIND_ASYNC,
  .cancel_anywhere = FALSE,
  .start = gather_async_runner_start,
  .abandon = NULL,
  .late = NULL,
};
