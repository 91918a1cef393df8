/* gather-worker-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-worker.h"

G_BEGIN_DECLS

GVariant *gather_worker_invoke (GatherWorker  *self,
                                GVariant      *parameters,
                                GCancellable  *cancellable,
                                GError       **error);

gboolean  gather_worker_check_declared (GatherWorker  *self,
                                        GError       **error);

guint64   gather_worker_declaration_digest (GatherWorker *self);

G_END_DECLS
