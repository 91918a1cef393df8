/* gather-policy.c: when a group stops waiting for the tasks it has left.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-policy-private.h"
#include "gather-task-record-private.h"

/*
 * gather_policy_judge:
 * @policy: the group's policy
 * @quorum: the group's quorum, for GATHER_POLICY_QUORUM
 * @tally: the counts, @latest already counted
 * @latest: the outcome just recorded
 *
 * The verdict of @policy once @latest is recorded. A pure function: the run
 * acts on it (stops every task that has no outcome), and a new policy is
 * one enum value and one case here.
 *
 * Returns: (nullable): `NULL` to go on, or why the remaining tasks are
 *   stopped, as the end of "Task X was cancelled because …"
 */
char *
gather_policy_judge (GatherPolicy        policy,
                     guint               quorum,
                     const GatherTally  *tally,
                     GatherOutcome      *latest)
{
  GatherStatus status = gather_outcome_get_status (latest);
  g_autofree char *name = NULL;

  switch (policy)
    {
    case GATHER_POLICY_FIRST_ERROR:
      if (status != GATHER_STATUS_ERROR)
        return NULL;
      name = gather_task_record_describe (gather_outcome_get_index (latest),
                                          gather_outcome_get_label (latest));
      return g_strdup_printf ("task %s failed", name);

    case GATHER_POLICY_FIRST_SUCCESS:
      if (status != GATHER_STATUS_OK)
        return NULL;
      name = gather_task_record_describe (gather_outcome_get_index (latest),
                                          gather_outcome_get_label (latest));
      return g_strdup_printf ("task %s succeeded first", name);

    case GATHER_POLICY_QUORUM:
      if (tally->n_succeeded < quorum)
        return NULL;
      return g_strdup_printf ("a quorum of %u tasks succeeded", quorum);

    case GATHER_POLICY_ALL:
    default:
      return NULL;
    }
}
