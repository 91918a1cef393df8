/* gather-task.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (GATHER_INSIDE) && !defined (GATHER_COMPILATION)
# error "Only <libgather.h> can be included directly."
#endif

#include <gio/gio.h>

#include "gather-outcome.h"
#include "gather-retry-policy.h"
#include "gather-version-macros.h"

G_BEGIN_DECLS

/**
 * GatherTaskFunc:
 * @cancellable: the task's own [class@Gio.Cancellable]
 * @user_data: the data given to [method@Gather.Group.add_task]
 * @error: return location for the task's error
 *
 * The body of a task added with [method@Gather.Group.add_task]. It runs on a
 * thread of the group's [class@Gather.Pool], with the same contract as
 * a [callback@Gio.TaskThreadFunc]: do the work, poll @cancellable (or wait on
 * its file descriptor, or connect to it) and return promptly once it is
 * cancelled, then return a result or set @error and return `NULL`.
 *
 * @cancellable is cancelled when the task's timeout expires, when the group's
 * deadline expires, when the cancellable given to the run is cancelled, or
 * when the group's [property@Gather.Group:policy] stops the remaining tasks.
 * It may be cancelled from any thread, so handlers connected to it run on
 * that thread: keep them short and thread-safe.
 *
 * A stopped task's outcome is recorded when it is stopped, without waiting
 * for the body; what the body returns then is freed unseen. A body that
 * ignores its cancellable therefore does not hold the group, but it does
 * hold its thread (see [property@Gather.Group:grace-period]).
 *
 * @cancellable is the task's own while the body runs. Take a reference if
 * something needs it after the body returns; a cancellable the body left no
 * reference or handler on may be reused for a later task on the same thread.
 *
 * A body must not touch objects that belong to the group's main context
 * (widgets, the group itself): the only thread-safe ways out are its return
 * value and its error.
 *
 * Returns: (transfer full) (nullable): the result, a [struct@GLib.Variant]
 *   (a floating reference is sunk), or `NULL` with @error set
 *
 * Since: 1.0
 */
typedef GVariant *(*GatherTaskFunc) (GCancellable  *cancellable,
                                     gpointer       user_data,
                                     GError       **error);

/**
 * GatherTaskKind:
 * @GATHER_TASK_KIND_THREAD: a body run on a thread of the group's
 *   [class@Gather.Pool], added with [method@Gather.Group.add_task]
 * @GATHER_TASK_KIND_WORKER: a plugin [iface@Gather.Worker] run on a pool
 *   thread, added with [method@Gather.Group.add_worker_task]
 * @GATHER_TASK_KIND_ASYNC: an asynchronous operation on the group's main
 *   context, added with [method@Gather.Group.add_async_task]
 * @GATHER_TASK_KIND_ISOLATED: a plugin worker run in a helper process
 *   (see [property@Gather.Group:isolate-workers])
 *
 * How a task runs. More kinds may be added: treat an unknown value as
 * another kind of task, not as an error.
 *
 * Since: 1.0
 */
typedef enum
{
  GATHER_TASK_KIND_THREAD,
  GATHER_TASK_KIND_WORKER,
  GATHER_TASK_KIND_ASYNC,
  GATHER_TASK_KIND_ISOLATED,
} GatherTaskKind;

/**
 * GatherTaskState:
 * @GATHER_TASK_STATE_QUEUED: waiting to start: for its turn, a free slot
 *   (see [property@Gather.Group:max-concurrent]) or a pool thread
 * @GATHER_TASK_STATE_RUNNING: an attempt is running
 * @GATHER_TASK_STATE_WAITING: an attempt failed and the next one waits for
 *   its delay (see [class@Gather.RetryPolicy])
 * @GATHER_TASK_STATE_OK: final: the task returned a result
 * @GATHER_TASK_STATE_ERROR: final: the task failed
 * @GATHER_TASK_STATE_TIMEOUT: final: the task's timeout or the group's
 *   deadline expired first
 * @GATHER_TASK_STATE_CANCELLED: final: the run was cancelled, or its policy
 *   stopped the task
 *
 * Where a [class@Gather.Task] is in its life. The final states match the
 * [enum@Gather.Status] of the task's outcome, in the same order: a final
 * state is `GATHER_TASK_STATE_OK + status`.
 *
 * Since: 1.0
 */
typedef enum
{
  GATHER_TASK_STATE_QUEUED,
  GATHER_TASK_STATE_RUNNING,
  GATHER_TASK_STATE_WAITING,
  GATHER_TASK_STATE_OK,
  GATHER_TASK_STATE_ERROR,
  GATHER_TASK_STATE_TIMEOUT,
  GATHER_TASK_STATE_CANCELLED,
} GatherTaskState;

#define GATHER_TYPE_TASK (gather_task_get_type ())

GATHER_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (GatherTask, gather_task, GATHER, TASK, GObject)

GATHER_AVAILABLE_IN_1_0
guint              gather_task_get_index        (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
const char        *gather_task_get_label        (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
GatherTaskKind     gather_task_get_kind         (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
GatherTaskState    gather_task_get_state        (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
gboolean           gather_task_get_finished     (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
gint64             gather_task_get_start_time   (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
gint64             gather_task_get_finish_time  (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
gint64             gather_task_get_elapsed      (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
GVariant          *gather_task_get_result       (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
GError            *gather_task_get_error        (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
gboolean           gather_task_get_abandoned    (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
guint              gather_task_get_attempt      (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
GatherOutcome     *gather_task_get_outcome      (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
gint               gather_task_get_priority     (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
void               gather_task_set_priority     (GatherTask        *self,
                                                 gint               priority);
GATHER_AVAILABLE_IN_1_0
GatherRetryPolicy *gather_task_get_retry_policy (GatherTask        *self);
GATHER_AVAILABLE_IN_1_0
void               gather_task_set_retry_policy (GatherTask        *self,
                                                 GatherRetryPolicy *policy);

G_END_DECLS
