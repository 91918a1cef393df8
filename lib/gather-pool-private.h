/* gather-pool-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gather-pool.h"
#include "gather-task-record-private.h"

G_BEGIN_DECLS

void     gather_pool_push              (GatherPool       *self,
                                        GatherTaskRecord *record);
gboolean gather_pool_begin_replacement (GatherPool *self);
void     gather_pool_end_replacement   (GatherPool *self);

G_END_DECLS
