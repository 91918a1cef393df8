/* gather-registry.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (GATHER_INSIDE) && !defined (GATHER_COMPILATION)
# error "Only <libgather.h> can be included directly."
#endif

#include <gio/gio.h>

#include "gather-plugin-module.h"
#include "gather-version-macros.h"
#include "gather-worker.h"

G_BEGIN_DECLS

#define GATHER_TYPE_PLUGIN_FAILURE (gather_plugin_failure_get_type ())

typedef struct _GatherPluginFailure GatherPluginFailure;

GATHER_AVAILABLE_IN_1_0
GType                gather_plugin_failure_get_type  (void) G_GNUC_CONST;
GATHER_AVAILABLE_IN_1_0
GatherPluginFailure *gather_plugin_failure_ref       (GatherPluginFailure *self);
GATHER_AVAILABLE_IN_1_0
void                 gather_plugin_failure_unref     (GatherPluginFailure *self);
GATHER_AVAILABLE_IN_1_0
const char          *gather_plugin_failure_get_path  (GatherPluginFailure *self);
GATHER_AVAILABLE_IN_1_0
GError              *gather_plugin_failure_get_error (GatherPluginFailure *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GatherPluginFailure, gather_plugin_failure_unref)

#define GATHER_TYPE_SHADOWED_PLUGIN (gather_shadowed_plugin_get_type ())

typedef struct _GatherShadowedPlugin GatherShadowedPlugin;

GATHER_AVAILABLE_IN_1_0
GType                 gather_shadowed_plugin_get_type        (void) G_GNUC_CONST;
GATHER_AVAILABLE_IN_1_0
GatherShadowedPlugin *gather_shadowed_plugin_ref             (GatherShadowedPlugin *self);
GATHER_AVAILABLE_IN_1_0
void                  gather_shadowed_plugin_unref           (GatherShadowedPlugin *self);
GATHER_AVAILABLE_IN_1_0
const char           *gather_shadowed_plugin_get_path        (GatherShadowedPlugin *self);
GATHER_AVAILABLE_IN_1_0
const char           *gather_shadowed_plugin_get_shadowed_by (GatherShadowedPlugin *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GatherShadowedPlugin, gather_shadowed_plugin_unref)

#define GATHER_TYPE_REGISTRY (gather_registry_get_type ())

GATHER_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (GatherRegistry, gather_registry, GATHER, REGISTRY, GObject)

GATHER_AVAILABLE_IN_1_0
GatherRegistry *gather_registry_new                      (void) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
GatherRegistry *gather_registry_get_default              (void);
GATHER_AVAILABLE_IN_1_0
void            gather_registry_add_search_path          (GatherRegistry  *self,
                                                          const char      *directory);
GATHER_AVAILABLE_IN_1_0
void            gather_registry_add_default_search_paths (GatherRegistry  *self);
GATHER_AVAILABLE_IN_1_0
char          **gather_registry_dup_search_paths         (GatherRegistry  *self) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
gboolean        gather_registry_get_isolated             (GatherRegistry  *self);
GATHER_AVAILABLE_IN_1_0
void            gather_registry_set_isolated             (GatherRegistry  *self,
                                                          gboolean         isolated);
GATHER_AVAILABLE_IN_1_0
void            gather_registry_load                     (GatherRegistry  *self);
GATHER_AVAILABLE_IN_1_0
gboolean        gather_registry_add_worker               (GatherRegistry  *self,
                                                          GatherWorker    *worker,
                                                          GError         **error);
GATHER_AVAILABLE_IN_1_0
GatherWorker   *gather_registry_lookup_worker            (GatherRegistry  *self,
                                                          const char      *name);
GATHER_AVAILABLE_IN_1_0
GPtrArray      *gather_registry_list_workers             (GatherRegistry  *self) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
GPtrArray      *gather_registry_list_plugins             (GatherRegistry  *self) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
GPtrArray      *gather_registry_list_failures            (GatherRegistry  *self) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
GPtrArray      *gather_registry_list_shadowed            (GatherRegistry  *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
