/* gather-task-private.h: what the group and its run do to a GatherTask, on
 * the owner's context.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-group.h"
#include "gather-task.h"

G_BEGIN_DECLS

GatherTask *gather_task_new              (GatherGroup       *group,
                                          guint              index,
                                          GatherTaskKind     kind,
                                          const char        *label,
                                          gint               priority,
                                          GatherRetryPolicy *retry_policy);
void        gather_task_detach           (GatherTask        *self);

/*
 * Updates change the fields at once and queue the notifications: each
 * returns TRUE if the task had none queued before, and the caller then
 * keeps it until it calls gather_task_flush() (see gather-task-list.c).
 */
gboolean    gather_task_update_running   (GatherTask        *self,
                                          GatherTaskKind     kind,
                                          guint              attempt,
                                          gint64             start_time);
gboolean    gather_task_update_queued    (GatherTask        *self);
gboolean    gather_task_update_waiting   (GatherTask        *self,
                                          GatherOutcome     *attempt_outcome);
gboolean    gather_task_update_outcome   (GatherTask        *self,
                                          GatherOutcome     *outcome);
gboolean    gather_task_update_abandoned (GatherTask        *self);
void        gather_task_flush            (GatherTask        *self);
void        gather_task_clear_pending    (GatherTask        *self);

G_END_DECLS
