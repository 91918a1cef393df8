/* gather-outcome-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-outcome.h"
#include "gather-slab-private.h"

G_BEGIN_DECLS

gsize          gather_outcome_size (void);
GatherOutcome *gather_outcome_new (GatherSlab   *slab,
                                   guint         index,
                                   char         *label,
                                   GatherStatus  status,
                                   GVariant     *result,
                                   GError       *error,
                                   gboolean      abandoned,
                                   gint64        queued_time,
                                   gint64        start_time,
                                   gint64        finish_time);
void           gather_outcome_set_abandoned (GatherOutcome *self);
void           gather_outcome_set_attempts  (GatherOutcome *self,
                                             guint          attempts);
void           gather_outcome_set_kind      (GatherOutcome *self,
                                             guint          kind);
guint          gather_outcome_get_kind      (GatherOutcome *self);
void           gather_outcome_set_killed    (GatherOutcome *self);

G_END_DECLS
