/* gather-pool.h
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

#define GATHER_TYPE_POOL (gather_pool_get_type ())

GATHER_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (GatherPool, gather_pool, GATHER, POOL, GObject)

GATHER_AVAILABLE_IN_1_0
GatherPool *gather_pool_new                         (guint       max_threads) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
guint       gather_pool_get_max_threads             (GatherPool *self);
GATHER_AVAILABLE_IN_1_0
void        gather_pool_set_max_threads             (GatherPool *self,
                                                     guint       max_threads);
GATHER_AVAILABLE_IN_1_0
guint       gather_pool_get_max_replacement_threads (GatherPool *self);
GATHER_AVAILABLE_IN_1_0
void        gather_pool_set_max_replacement_threads (GatherPool *self,
                                                     guint       max_replacement_threads);
GATHER_AVAILABLE_IN_1_0
guint       gather_pool_get_n_replacement_threads   (GatherPool *self);

G_END_DECLS
