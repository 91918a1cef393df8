/* gather-thread-runner.c: task bodies on the threads of a GatherPool.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-pool-private.h"
#include "gather-run-private.h"
#include "gather-runner-private.h"
#include "gather-task.h"
#include "gather-tls-private.h"

/*
 * Each pool thread keeps the cancellable of its last task for its next
 * one, when nothing else can observe it: the body dropped every reference it
 * took and disconnected its handlers, and nobody cancelled it. Creating and
 * finalizing a GObject per task was a third of a pool thread's time per
 * task.
 *
 * The spare is a thread-local variable: a GPrivate lookup and store per
 * task cost about 250 instructions (callgrind). A GPrivate is still set,
 * once per thread, only for its destructor, which frees the spare when the
 * thread exits (thread-local variables are still there when it runs).
 */

static GATHER_TLS GCancellable *spare_cancellable;
static GATHER_TLS gboolean spare_registered;

static void
free_spare_cancellable (gpointer unused)
{
  g_clear_object (&spare_cancellable);
}

static GPrivate spare_owner = G_PRIVATE_INIT (free_spare_cancellable);

static GCancellable *
take_cancellable (void)
{
  GCancellable *cancellable = g_steal_pointer (&spare_cancellable);

  return cancellable != NULL ? cancellable : g_cancellable_new ();
}

static void
give_back_cancellable (GCancellable *cancellable)
{
  if (spare_cancellable != NULL || !gather_cancellable_is_unobserved (cancellable))
    {
      g_object_unref (cancellable);
      return;
    }

  if (!spare_registered)
    {
      g_private_set (&spare_owner, GINT_TO_POINTER (TRUE));
      spare_registered = TRUE;
    }
  spare_cancellable = cancellable;
}

/*
 * gather_thread_runner_run:
 * Runs a task body. Pool thread, called by the pool for each record pushed.
 *
 * The pool thread never frees the record and never touches the user's
 * objects: the result goes back through the inbox, and the owner releases
 * everything on its own context. Once the record is finished, or skipped,
 * it may be gone.
 */
void
gather_thread_runner_run (GatherTaskRecord *record)
{
  GatherTaskFunc func = (GatherTaskFunc) record->func;
  GCancellable *cancellable = take_cancellable ();
  GCancellable *spare = NULL;
  GError *error = NULL;
  GVariant *result;

  if (!gather_task_record_begin (record, &cancellable, g_get_monotonic_time ()))
    {
      /* The run was stopped, or the task dropped, while it was queued. */
      if (cancellable != NULL)
        give_back_cancellable (cancellable);
      return;
    }

  /* (transfer full): sink a floating reference, take a full one as is. */
  result = func (record->cancellable, record->user_data, &error);
  if (result != NULL)
    g_variant_take_ref (result);

  gather_task_record_finish (record, result, error, &spare);

  if (spare != NULL)
    give_back_cancellable (spare);
}

static void
gather_thread_runner_start (GatherRun        *run,
                            GatherTaskRecord *record)
{
  record->dispatched = TRUE;
  gather_pool_push (gather_run_get_pool (run), record);
}

/* The body still holds its thread: start another so the pool keeps its
 * capacity, if the cap allows. */
void
gather_thread_runner_abandon (GatherRun        *run,
                              GatherTaskRecord *record)
{
  record->replaced = gather_pool_begin_replacement (gather_run_get_pool (run));
}

void
gather_thread_runner_late (GatherRun        *run,
                           GatherTaskRecord *record)
{
  if (record->replaced)
    gather_pool_end_replacement (gather_run_get_pool (run));
  record->replaced = FALSE;
}

const GatherRunner gather_thread_runner = {
  .kind = GATHER_TASK_KIND_THREAD,
  .cancel_anywhere = TRUE,
  .uses_pool = TRUE,
  .start = gather_thread_runner_start,
  .abandon = gather_thread_runner_abandon,
  .late = gather_thread_runner_late,
};
