/* gather-helper-catalog-private.h: an isolated registry's load.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What a helper found in a search path, in its order. */
typedef struct
{
  GPtrArray *workers;          /* GatherWorker: stand-ins */
  GPtrArray *failure_paths;    /* char * */
  GPtrArray *failure_errors;   /* GError * */
  GPtrArray *shadowed_paths;   /* char * */
  GPtrArray *shadowed_by;      /* char * */
} GatherHelperCatalog;

void gather_helper_catalog_load  (const char * const  *directories,
                                  const gboolean      *required,
                                  guint                n_directories,
                                  GatherHelperCatalog *catalog);
void gather_helper_catalog_clear (GatherHelperCatalog *catalog);

G_END_DECLS
