/* gather-task-list-private.h: a group's tasks as a GListModel.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-group.h"
#include "gather-task.h"

G_BEGIN_DECLS

#define GATHER_TYPE_TASK_LIST (gather_task_list_get_type ())

G_DECLARE_FINAL_TYPE (GatherTaskList, gather_task_list, GATHER, TASK_LIST, GObject)

GatherTaskList *gather_task_list_new    (GatherGroup    *group,
                                         guint           n_items);
void            gather_task_list_detach (GatherTaskList *self);
void            gather_task_list_added  (GatherTaskList *self,
                                         guint           n_added);
GatherTask     *gather_task_list_peek   (GatherTaskList *self,
                                         guint           index);
void            gather_task_list_queue  (GatherTaskList *self,
                                         GatherTask     *task);
void            gather_task_list_flush  (GatherTaskList *self);

G_END_DECLS
