/* gather-worker-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-worker.h"

G_BEGIN_DECLS

/* A GVariantType from a type string known to be valid: a literal, or a
 * type of a worker whose declaration gather_worker_check_declared() took.
 * G_VARIANT_TYPE() checks the string again at every use, which cost as
 * much on an isolated task's path as the checks it served. */
#define GATHER_VARIANT_TYPE(type_string) ((const GVariantType *) (type_string))

GVariant *gather_worker_invoke (GatherWorker  *self,
                                GVariant      *parameters,
                                GCancellable  *cancellable,
                                GError       **error);

gboolean  gather_worker_check_declared (GatherWorker  *self,
                                        GError       **error);

guint64   gather_worker_declaration_digest (GatherWorker *self);

G_END_DECLS
