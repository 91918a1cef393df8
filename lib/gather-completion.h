/* gather-completion.h
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

#define GATHER_TYPE_COMPLETION (gather_completion_get_type ())

typedef struct _GatherCompletion GatherCompletion;

/**
 * GatherAsyncTaskFunc:
 * @completion: (transfer full): the task's handle: complete it once, with
 *   [method@Gather.Completion.return_value] or
 *   [method@Gather.Completion.return_error]
 * @cancellable: the task's own cancellable, cancelled on the group's main
 *   context at the task's timeout, at the group's deadline, or when the run
 *   is cancelled or stopped by its policy
 * @user_data: the data given with the task
 *
 * Starts an asynchronous operation for a task added with
 * [method@Gather.Group.add_async_task]. Called on the group's main context
 * when the task starts; it should start the operation and return at once.
 *
 * The function owns @completion: it passes it on to the operation's
 * callback, which completes it and drops it (see
 * [method@Gather.Completion.finish_with]), or drops it itself once it is
 * done with it. In JavaScript, Python and Vala a closure that captures it
 * keeps it alive, and the language drops it.
 *
 * Since: 1.0
 */
typedef void (*GatherAsyncTaskFunc) (GatherCompletion *completion,
                                     GCancellable     *cancellable,
                                     gpointer          user_data);

/**
 * GatherFinishFunc:
 * @source_object: (nullable): the source object of the operation
 * @result: the operation's result
 * @error: return location for the operation's error
 *
 * Calls the `_finish()` function of an asynchronous operation and turns
 * what it returns into the task's result. See
 * [method@Gather.Completion.finish_with].
 *
 * Returns: (transfer full) (nullable): the task's result (a floating
 *   reference is sunk), or `NULL` with @error set
 *
 * Since: 1.0
 */
typedef GVariant *(*GatherFinishFunc) (GObject       *source_object,
                                       GAsyncResult  *result,
                                       GError       **error);

GATHER_AVAILABLE_IN_1_0
GType             gather_completion_get_type         (void) G_GNUC_CONST;
GATHER_AVAILABLE_IN_1_0
GatherCompletion *gather_completion_ref              (GatherCompletion *self);
GATHER_AVAILABLE_IN_1_0
void              gather_completion_unref            (GatherCompletion *self);
GATHER_AVAILABLE_IN_1_0
void              gather_completion_return_value     (GatherCompletion *self,
                                                      GVariant         *value);
GATHER_AVAILABLE_IN_1_0
void              gather_completion_return_error     (GatherCompletion *self,
                                                      const GError     *error);
GATHER_AVAILABLE_IN_1_0
void              gather_completion_take_error       (GatherCompletion *self,
                                                      GError           *error);
GATHER_AVAILABLE_IN_1_0
void              gather_completion_return_new_error (GatherCompletion *self,
                                                      GQuark            domain,
                                                      gint              code,
                                                      const char       *format,
                                                      ...) G_GNUC_PRINTF (4, 5);
GATHER_AVAILABLE_IN_1_0
gpointer          gather_completion_finish_with      (GatherCompletion *self,
                                                      GatherFinishFunc  finish);
GATHER_AVAILABLE_IN_1_0
void              gather_completion_ready            (GObject          *source_object,
                                                      GAsyncResult     *result,
                                                      gpointer          user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GatherCompletion, gather_completion_unref)

G_END_DECLS
