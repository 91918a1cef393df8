/* gather-policy-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-group.h"

G_BEGIN_DECLS

/* What a policy may look at: counts over the run so far. */
typedef struct
{
  guint n_tasks;
  guint n_finished;
  guint n_succeeded;
} GatherTally;

char *gather_policy_judge (GatherPolicy        policy,
                           guint               quorum,
                           const GatherTally  *tally,
                           GatherOutcome      *latest) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
