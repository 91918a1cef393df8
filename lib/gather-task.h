/* gather-task.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (GATHER_INSIDE) && !defined (GATHER_COMPILATION)
# error "Only <libgather.h> can be included directly."
#endif

#include <gio/gio.h>

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

G_END_DECLS
