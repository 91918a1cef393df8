/* gather-registry-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-registry.h"

G_BEGIN_DECLS

/*
 * GatherRegistryLoadHook:
 * Called by gather_registry_load() on the loading thread before it opens
 * each plugin file, @path as found in the search path. Returning FALSE
 * with @error set skips the file, which is listed as a failure with
 * @error; its name still hides files of the same name further down.
 */
typedef gboolean (*GatherRegistryLoadHook) (const char  *path,
                                            GError     **error,
                                            gpointer     data);

/* The helper's side of an isolated load. */
void     gather_registry_add_search_path_full (GatherRegistry         *self,
                                               const char             *directory,
                                               gboolean                required);
void     gather_registry_set_load_hook        (GatherRegistry         *self,
                                               GatherRegistryLoadHook  hook,
                                               gpointer                data);

G_END_DECLS
