/* gather-retry-policy.h
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
 * GatherRetryFlags:
 * @GATHER_RETRY_FLAGS_NONE: retry nothing
 * @GATHER_RETRY_FLAGS_ERROR: retry an attempt that ended with
 *   [enum@Gather.Status.ERROR]: its body or operation failed
 * @GATHER_RETRY_FLAGS_TIMEOUT: retry an attempt stopped by the task's own
 *   timeout (not by the group's deadline)
 *
 * Which ends of an attempt a [class@Gather.RetryPolicy] retries. A task
 * stopped by the group's deadline, by its policy or by a cancelled run is
 * never retried.
 *
 * Since: 1.0
 */
typedef enum /*< flags >*/
{
  GATHER_RETRY_FLAGS_NONE    = 0,
  GATHER_RETRY_FLAGS_ERROR   = 1 << 0,
  GATHER_RETRY_FLAGS_TIMEOUT = 1 << 1,
} GatherRetryFlags;

#define GATHER_TYPE_RETRY_POLICY (gather_retry_policy_get_type ())

GATHER_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (GatherRetryPolicy, gather_retry_policy, GATHER, RETRY_POLICY, GObject)

GATHER_AVAILABLE_IN_1_0
GatherRetryPolicy *gather_retry_policy_new              (guint              max_attempts,
                                                         GatherRetryFlags   retry_on,
                                                         guint              delay_msec,
                                                         guint              max_delay_msec) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
guint              gather_retry_policy_get_max_attempts (GatherRetryPolicy *self);
GATHER_AVAILABLE_IN_1_0
GatherRetryFlags   gather_retry_policy_get_retry_on     (GatherRetryPolicy *self);
GATHER_AVAILABLE_IN_1_0
guint              gather_retry_policy_get_delay        (GatherRetryPolicy *self);
GATHER_AVAILABLE_IN_1_0
guint              gather_retry_policy_get_max_delay    (GatherRetryPolicy *self);
GATHER_AVAILABLE_IN_1_0
double             gather_retry_policy_get_jitter       (GatherRetryPolicy *self);
GATHER_AVAILABLE_IN_1_0
void               gather_retry_policy_get_delay_range  (GatherRetryPolicy *self,
                                                         guint              attempt,
                                                         guint             *min_msec,
                                                         guint             *max_msec);

G_END_DECLS
