/* gather-plugin-module-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "gather-plugin-file-private.h"
#include "gather-plugin-module.h"

G_BEGIN_DECLS

GatherPluginModule *gather_plugin_module_get_for_file (GatherPluginFile *file);

G_END_DECLS
