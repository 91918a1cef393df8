/* gather-group.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (GATHER_INSIDE) && !defined (GATHER_COMPILATION)
# error "Only <libgather.h> can be included directly."
#endif

#include <gio/gio.h>

#include "gather-completion.h"
#include "gather-outcome.h"
#include "gather-pool.h"
#include "gather-registry.h"
#include "gather-task.h"
#include "gather-version-macros.h"

G_BEGIN_DECLS

/**
 * GatherPolicy:
 * @GATHER_POLICY_ALL: wait for every task; errors and timeouts become
 *   outcomes like any other, as with Python's
 *   `asyncio.gather(return_exceptions=True)`. The default.
 * @GATHER_POLICY_FIRST_ERROR: the first [enum@Gather.Status.ERROR] outcome
 *   cancels every unfinished task, as with Python's `asyncio.TaskGroup`.
 *   Timeouts do not count as errors: they are expected outcomes.
 * @GATHER_POLICY_FIRST_SUCCESS: the first [enum@Gather.Status.OK] outcome
 *   cancels every unfinished task, as with JavaScript's `Promise.any()`.
 * @GATHER_POLICY_QUORUM: once [property@Gather.Group:quorum] tasks have
 *   succeeded, every unfinished task is cancelled. If the quorum cannot be
 *   reached, the group waits for every task.
 *
 * When a [class@Gather.Group] stops waiting for its remaining tasks. Tasks
 * that a policy stops end with [enum@Gather.Status.CANCELLED]; the group
 * still emits [signal@Gather.Group::finished] with one outcome per task.
 *
 * Since: 1.0
 */
typedef enum
{
  GATHER_POLICY_ALL,
  GATHER_POLICY_FIRST_ERROR,
  GATHER_POLICY_FIRST_SUCCESS,
  GATHER_POLICY_QUORUM,
} GatherPolicy;

#define GATHER_TYPE_GROUP (gather_group_get_type ())

GATHER_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (GatherGroup, gather_group, GATHER, GROUP, GObject)

GATHER_AVAILABLE_IN_1_0
GatherGroup  *gather_group_new                (void) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
guint         gather_group_add_task           (GatherGroup          *self,
                                               const char           *label,
                                               guint                 timeout_msec,
                                               GatherTaskFunc        func,
                                               gpointer              user_data,
                                               GDestroyNotify        user_data_destroy,
                                               GError              **error);
GATHER_AVAILABLE_IN_1_0
guint         gather_group_add_async_task     (GatherGroup          *self,
                                               const char           *label,
                                               guint                 timeout_msec,
                                               GatherAsyncTaskFunc   func,
                                               gpointer              user_data,
                                               GDestroyNotify        user_data_destroy,
                                               GError              **error);
GATHER_AVAILABLE_IN_1_0
guint         gather_group_add_worker_task    (GatherGroup          *self,
                                               const char           *worker,
                                               GVariant             *parameters,
                                               const char           *label,
                                               guint                 timeout_msec,
                                               GError              **error);
GATHER_AVAILABLE_IN_1_0
void          gather_group_run_async          (GatherGroup          *self,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
GATHER_AVAILABLE_IN_1_0
GPtrArray    *gather_group_run_finish         (GatherGroup          *self,
                                               GAsyncResult         *result,
                                               GError              **error) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
GPtrArray    *gather_group_run                (GatherGroup          *self,
                                               GCancellable         *cancellable,
                                               GError              **error) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
GatherPool   *gather_group_get_pool           (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
void          gather_group_set_pool           (GatherGroup          *self,
                                               GatherPool           *pool);
GATHER_AVAILABLE_IN_1_0
GatherRegistry *gather_group_get_registry     (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
void          gather_group_set_registry       (GatherGroup          *self,
                                               GatherRegistry       *registry);
GATHER_AVAILABLE_IN_1_0
GatherPolicy  gather_group_get_policy         (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
void          gather_group_set_policy         (GatherGroup          *self,
                                               GatherPolicy          policy);
GATHER_AVAILABLE_IN_1_0
guint         gather_group_get_quorum         (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
void          gather_group_set_quorum         (GatherGroup          *self,
                                               guint                 quorum);
GATHER_AVAILABLE_IN_1_0
guint         gather_group_get_deadline       (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
void          gather_group_set_deadline       (GatherGroup          *self,
                                               guint                 deadline_msec);
GATHER_AVAILABLE_IN_1_0
guint         gather_group_get_max_concurrent (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
void          gather_group_set_max_concurrent (GatherGroup          *self,
                                               guint                 max_concurrent);
GATHER_AVAILABLE_IN_1_0
guint         gather_group_get_grace_period   (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
void          gather_group_set_grace_period   (GatherGroup          *self,
                                               guint                 grace_msec);
GATHER_AVAILABLE_IN_1_0
gboolean      gather_group_get_isolate_workers (GatherGroup         *self);
GATHER_AVAILABLE_IN_1_0
void          gather_group_set_isolate_workers (GatherGroup         *self,
                                                gboolean             isolate_workers);
GATHER_AVAILABLE_IN_1_0
gboolean      gather_group_set_task_isolated  (GatherGroup          *self,
                                               guint                 index,
                                               gboolean              isolated,
                                               GError              **error);
GATHER_AVAILABLE_IN_1_0
gboolean      gather_group_set_task_limits    (GatherGroup          *self,
                                               guint                 index,
                                               guint64               memory_limit,
                                               guint                 cpu_limit_sec,
                                               GError              **error);
GATHER_AVAILABLE_IN_1_0
guint         gather_group_get_n_tasks        (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
guint         gather_group_get_n_finished     (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
double        gather_group_get_fraction       (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
guint         gather_group_get_n_running      (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
GListModel   *gather_group_get_tasks          (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
GatherTask   *gather_group_get_task           (GatherGroup          *self,
                                               guint                 index);
GATHER_AVAILABLE_IN_1_0
gboolean      gather_group_get_open           (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
void          gather_group_set_open           (GatherGroup          *self,
                                               gboolean              open);
GATHER_AVAILABLE_IN_1_0
void          gather_group_close              (GatherGroup          *self);
GATHER_AVAILABLE_IN_1_0
GatherRetryPolicy *gather_group_get_retry_policy (GatherGroup       *self);
GATHER_AVAILABLE_IN_1_0
void          gather_group_set_retry_policy   (GatherGroup          *self,
                                               GatherRetryPolicy    *policy);

G_END_DECLS
