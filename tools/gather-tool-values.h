/* gather-tool-values.h: parameter values converted to declared types.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "gather-tool-json.h"

G_BEGIN_DECLS

/* Both return a full reference, or NULL with a GATHER_TASK_ERROR whose
 * message says what is wrong with the value (the caller names the task
 * and the key). */
GVariant *gather_value_from_text (const GVariantType  *type,
                                  const char          *text,
                                  GError             **error);
GVariant *gather_value_from_json (const GVariantType  *type,
                                  GatherJsonNode      *node,
                                  GatherJsonNode     **at,
                                  GError             **error);

G_END_DECLS
