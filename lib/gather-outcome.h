/* gather-outcome.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (GATHER_INSIDE) && !defined (GATHER_COMPILATION)
# error "Only <libgather.h> can be included directly."
#endif

#include <glib-object.h>

#include "gather-version-macros.h"

G_BEGIN_DECLS

/**
 * GatherStatus:
 * @GATHER_STATUS_OK: the task returned a result
 * @GATHER_STATUS_ERROR: the task returned an error, or misbehaved (for
 *   example returned neither a result nor an error)
 * @GATHER_STATUS_TIMEOUT: the task's own timeout, or the group's deadline,
 *   expired first; the error is [error@Gather.Error.TIMED_OUT] or
 *   [error@Gather.Error.DEADLINE_EXCEEDED]
 * @GATHER_STATUS_CANCELLED: the task was cancelled before it finished,
 *   through the run's cancellable or the group's policy; the error is
 *   `G_IO_ERROR_CANCELLED`
 *
 * How a task ended. Every task added to a [class@Gather.Group] ends with
 * exactly one status.
 *
 * Since: 1.0
 */
typedef enum
{
  GATHER_STATUS_OK,
  GATHER_STATUS_ERROR,
  GATHER_STATUS_TIMEOUT,
  GATHER_STATUS_CANCELLED,
} GatherStatus;

#define GATHER_TYPE_OUTCOME (gather_outcome_get_type ())

typedef struct _GatherOutcome GatherOutcome;

GATHER_AVAILABLE_IN_1_0
GType          gather_outcome_get_type         (void) G_GNUC_CONST;
GATHER_AVAILABLE_IN_1_0
GatherOutcome *gather_outcome_ref              (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
void           gather_outcome_unref            (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
guint          gather_outcome_get_index        (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
const char    *gather_outcome_get_label        (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
GatherStatus   gather_outcome_get_status       (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
GVariant      *gather_outcome_get_result       (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
GError        *gather_outcome_get_error        (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
GVariant      *gather_outcome_propagate_result (GatherOutcome  *self,
                                                GError        **error) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
gboolean       gather_outcome_get_abandoned    (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
gboolean       gather_outcome_get_killed       (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
gint64         gather_outcome_get_queued_time  (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
gint64         gather_outcome_get_start_time   (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
gint64         gather_outcome_get_finish_time  (GatherOutcome  *self);
GATHER_AVAILABLE_IN_1_0
guint          gather_outcome_get_attempts     (GatherOutcome  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GatherOutcome, gather_outcome_unref)

G_END_DECLS
