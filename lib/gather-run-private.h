/* gather-run-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-group.h"
#include "gather-task-list-private.h"
#include "gather-task-record-private.h"

G_BEGIN_DECLS

/* A group's settings, frozen when its run starts. */
typedef struct
{
  GatherPolicy policy;
  guint        quorum;
  guint        deadline_msec;
  guint        max_concurrent;
  guint        grace_msec;
  GatherRetryPolicy *retry;          /* NULL: no retries */
  gboolean     open;                 /* tasks may be added while it runs */
  gboolean     has_priorities;       /* some task's priority was set */
  gboolean     isolate_workers;
} GatherRunSettings;

GatherRun    *gather_run_new                   (GatherGroup             *group,
                                                GMainContext            *context,
                                                GatherPool              *pool,
                                                const GatherRunSettings *settings,
                                                GPtrArray               *records,
                                                const GatherTaskSpecs   *specs,
                                                GCancellable            *cancellable);
void          gather_run_free                  (GatherRun               *self);

GatherPool   *gather_run_get_pool              (GatherRun               *self);
const GatherRunSettings *
              gather_run_get_settings          (GatherRun               *self);
guint         gather_run_get_n_finished        (GatherRun               *self);
guint         gather_run_get_n_running         (GatherRun               *self);
gboolean      gather_run_is_finished           (GatherRun               *self);

void          gather_run_add                   (GatherRun               *self,
                                                GatherTaskRecord        *record);
void          gather_run_close                 (GatherRun               *self);
void          gather_run_set_task_list         (GatherRun               *self,
                                                GatherTaskList          *list);
gboolean      gather_run_is_open               (GatherRun               *self);
GatherTaskRecord *gather_run_get_record        (GatherRun               *self,
                                                guint                    index);
void          gather_run_set_priority          (GatherRun               *self,
                                                guint                    index,
                                                gint                     priority);
void          gather_run_set_retry_policy      (GatherRun               *self,
                                                guint                    index,
                                                GatherRetryPolicy       *policy);
GatherTask   *gather_run_create_task           (GatherRun               *self,
                                                guint                    index);

GCancellable *gather_run_take_cancellable      (GatherRun               *self);
void          gather_run_give_back_cancellable (GatherRun               *self,
                                                GCancellable            *cancellable);

G_END_DECLS
