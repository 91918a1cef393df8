/* gather-group-private.h: what a run reports to its group, on the owner's
 * context.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-group.h"
#include "gather-task-list-private.h"
#include "gather-task-record-private.h"

G_BEGIN_DECLS

void     gather_group_emit_task_finished (GatherGroup   *self,
                                          GatherOutcome *outcome);
gboolean gather_group_notify_progress    (GatherGroup   *self,
                                          gboolean       finished_changed,
                                          gboolean       running_changed,
                                          gboolean       ask_watched);
gboolean gather_group_watches_n_running  (GatherGroup   *self);
gboolean gather_group_watches_task_finished (GatherGroup *self);
void     gather_group_complete           (GatherGroup   *self,
                                          GPtrArray     *outcomes);
void     gather_group_notify_closed      (GatherGroup   *self);

/* The task model (gather-task-list.c, gather-task.c). */
GatherTaskList *gather_group_peek_task_list        (GatherGroup       *self);
GatherTask     *gather_group_create_task           (GatherGroup       *self,
                                                    guint              index);
void            gather_group_set_task_priority     (GatherGroup       *self,
                                                    guint              index,
                                                    gint               priority);
void            gather_group_set_task_retry_policy (GatherGroup       *self,
                                                    guint              index,
                                                    GatherRetryPolicy *policy);
GatherTaskRecord *
         gather_group_get_record_to_change (GatherGroup *self,
                                            guint        index,
                                            GError     **error);

G_END_DECLS
