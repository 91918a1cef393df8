/* gather-helper-worker-private.h: workers whose code is in a helper
 * process.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-worker.h"

G_BEGIN_DECLS

/* What a helper says about one worker of a plugin it loaded. The strings
 * are copied. */
typedef struct
{
  const char            *name;
  const char            *description;      /* nullable */
  const char            *parameter_type;
  const char            *result_type;
  const GatherParameter *parameters;
  guint                  n_parameters;
  const char            *plugin_path;
} GatherHelperWorkerInfo;

GatherWorker *gather_helper_worker_new             (const GatherHelperWorkerInfo *info);
gboolean      gather_helper_worker_is              (GatherWorker                 *worker);
const char   *gather_helper_worker_get_plugin_path (GatherWorker                 *worker);

G_END_DECLS
