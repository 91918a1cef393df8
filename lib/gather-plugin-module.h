/* gather-plugin-module.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (GATHER_INSIDE) && !defined (GATHER_COMPILATION)
# error "Only <libgather.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gmodule.h>

#include "gather-version-macros.h"

G_BEGIN_DECLS

/**
 * GATHER_PLUGIN_ABI_VERSION:
 *
 * The version of the plugin interface this libgather loads. A plugin built
 * against headers with another value is refused with
 * [error@Gather.Error.PLUGIN_ABI] before its register function is called.
 * The ABI is read from the plugin's descriptor once the shared object is
 * loaded, so the plugin's constructors, if it has any, have run by then.
 *
 * Since: 1.0
 */
#define GATHER_PLUGIN_ABI_VERSION 1

#define GATHER_TYPE_PLUGIN_MODULE (gather_plugin_module_get_type ())

GATHER_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (GatherPluginModule, gather_plugin_module, GATHER, PLUGIN_MODULE, GTypeModule)

/**
 * GatherPluginRegisterFunc:
 * @module: the plugin's module
 *
 * Registers a plugin's dynamic types with @module and declares its workers
 * with [method@Gather.PluginModule.add_worker]. Called once, when the
 * plugin is loaded, on the thread that loads it, with no lock of libgather
 * held. It must not call into a [class@Gather.Registry]: the registry that
 * loads the plugin is still loading.
 *
 * Since: 1.0
 */
typedef void (*GatherPluginRegisterFunc) (GatherPluginModule *module);

/**
 * GatherPluginDescriptor:
 * @abi_version: [const@Gather.PLUGIN_ABI_VERSION] when the plugin was built
 * @description: one line about the plugin
 * @register_workers: registers the plugin's workers
 *
 * What a plugin exports, under the name `gather_NAME_plugin` for a file
 * named `gather-NAME.so` (dashes in NAME become underscores). Define it with
 * [func@Gather.PLUGIN_DEFINE].
 *
 * Since: 1.0
 */
typedef struct
{
  guint                     abi_version;
  const char               *description;
  GatherPluginRegisterFunc  register_workers;
} GatherPluginDescriptor;

/**
 * GATHER_PLUGIN_DEFINE:
 * @name: the plugin's name as a C identifier: `sleep` for `gather-sleep.so`
 * @description: one line about the plugin
 * @register_func: a [callback@Gather.PluginRegisterFunc]
 *
 * Defines and exports the [struct@Gather.PluginDescriptor] of a plugin,
 * stamped with the plugin ABI of the headers it is built against:
 *
 * ```c
 * GATHER_PLUGIN_DEFINE (sleep, "Waits, then returns", sleep_register)
 * ```
 *
 * Since: 1.0
 */
#define GATHER_PLUGIN_DEFINE(name, description, register_func) \
  G_MODULE_EXPORT const GatherPluginDescriptor gather_ ## name ## _plugin = \
    { GATHER_PLUGIN_ABI_VERSION, (description), (register_func) };

GATHER_AVAILABLE_IN_1_0
void        gather_plugin_module_add_worker      (GatherPluginModule *self,
                                                  GType               worker_type);
GATHER_AVAILABLE_IN_1_0
const char *gather_plugin_module_get_path        (GatherPluginModule *self);
GATHER_AVAILABLE_IN_1_0
const char *gather_plugin_module_get_description (GatherPluginModule *self);
GATHER_AVAILABLE_IN_1_0
GError     *gather_plugin_module_get_error       (GatherPluginModule *self);
GATHER_AVAILABLE_IN_1_0
GPtrArray  *gather_plugin_module_list_workers    (GatherPluginModule *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
