/* gather-group-private.h: what a run reports to its group, on the owner's
 * context.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-group.h"
#include "gather-task-record-private.h"

G_BEGIN_DECLS

void     gather_group_emit_task_finished (GatherGroup   *self,
                                          GatherOutcome *outcome);
void     gather_group_notify_progress    (GatherGroup   *self,
                                          gboolean       finished_changed,
                                          gboolean       running_changed);
gboolean gather_group_watches_n_running  (GatherGroup   *self);
gboolean gather_group_watches_task_finished (GatherGroup *self);
void     gather_group_complete           (GatherGroup   *self,
                                          GPtrArray     *outcomes);
GatherTaskRecord *
         gather_group_get_record_to_change (GatherGroup *self,
                                            guint        index,
                                            GError     **error);

G_END_DECLS
