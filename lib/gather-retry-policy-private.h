/* gather-retry-policy-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-retry-policy.h"

G_BEGIN_DECLS

gint64   gather_retry_policy_pick_delay (GatherRetryPolicy *self,
                                         guint              attempt);
gboolean gather_retry_policy_retries    (GatherRetryPolicy *self,
                                         guint              attempt,
                                         gboolean           timed_out);

G_END_DECLS
