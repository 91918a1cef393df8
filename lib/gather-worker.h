/* gather-worker.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (GATHER_INSIDE) && !defined (GATHER_COMPILATION)
# error "Only <libgather.h> can be included directly."
#endif

#include <gio/gio.h>

#include "gather-version-macros.h"

G_BEGIN_DECLS

/**
 * GatherParameterFlags:
 * @GATHER_PARAMETER_NONE: an optional parameter
 * @GATHER_PARAMETER_REQUIRED: the parameter must be given
 *
 * Flags of a [struct@Gather.Parameter].
 *
 * Since: 1.0
 */
typedef enum /*< flags >*/
{
  GATHER_PARAMETER_NONE     = 0,
  GATHER_PARAMETER_REQUIRED = 1 << 0,
} GatherParameterFlags;

#define GATHER_TYPE_PARAMETER (gather_parameter_get_type ())

/**
 * GatherParameter:
 * @name: the key in the worker's `a{sv}` parameters
 * @type: the [struct@GLib.VariantType] of its value, as a type string such
 *   as `"u"` or `"as"`; `"*"` accepts a value of any type
 * @description: one line about what it does
 * @flags: whether it is required
 *
 * One key of a worker's `a{sv}` parameters. Workers declare theirs as a
 * static array in [struct@Gather.WorkerInterface]; the strings are not
 * copied.
 *
 * Since: 1.0
 */
typedef struct
{
  const char           *name;
  const char           *type;
  const char           *description;
  GatherParameterFlags  flags;
} GatherParameter;

GATHER_AVAILABLE_IN_1_0
GType gather_parameter_get_type (void) G_GNUC_CONST;

#define GATHER_TYPE_WORKER (gather_worker_get_type ())

GATHER_AVAILABLE_IN_1_0
G_DECLARE_INTERFACE (GatherWorker, gather_worker, GATHER, WORKER, GObject)

/**
 * GatherWorkerInterface:
 * @name: the worker's name, unique among loaded workers: lowercase words
 *   separated by dashes, such as `"sleep"` or `"checksum"`
 * @description: one line about what the worker does
 * @parameter_type: the type string of its parameters; `"a{sv}"` when it
 *   declares @parameters
 * @parameters: (array length=n_parameters): the keys of `a{sv}` parameters
 * @n_parameters: the length of @parameters
 * @result_type: the type string of what @run returns
 * @run: does the work, on a pool thread; see [method@Gather.Worker.run]
 *
 * The interface a task kind implements, usually as a dynamic type in a
 * plugin (see [class@Gather.PluginModule]). Fill in the fields in the
 * interface init function; the strings and arrays must stay valid while the
 * plugin is loaded, so static ones are best. They must not change after
 * the init function: gather checks a worker's declaration once, the first
 * time the worker is used, and trusts it from then on.
 *
 * Since: 1.0
 */
struct _GatherWorkerInterface
{
  /*< private >*/
  GTypeInterface         parent_iface;

  /*< public >*/
  const char            *name;
  const char            *description;
  const char            *parameter_type;
  const GatherParameter *parameters;
  guint                  n_parameters;
  const char            *result_type;

  GVariant *(*run) (GatherWorker  *self,
                    GVariant      *parameters,
                    GCancellable  *cancellable,
                    GError       **error);

  /*< private >*/
  gpointer _reserved[8];
};

GATHER_AVAILABLE_IN_1_0
const char         *gather_worker_get_name             (GatherWorker  *self);
GATHER_AVAILABLE_IN_1_0
const char         *gather_worker_get_description      (GatherWorker  *self);
GATHER_AVAILABLE_IN_1_0
const char         *gather_worker_get_parameter_type   (GatherWorker  *self);
GATHER_AVAILABLE_IN_1_0
const char         *gather_worker_get_result_type      (GatherWorker  *self);
GATHER_AVAILABLE_IN_1_0
GPtrArray          *gather_worker_list_parameters      (GatherWorker  *self) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
gboolean            gather_worker_check_parameters     (GatherWorker  *self,
                                                        GVariant      *parameters,
                                                        GError       **error);
GATHER_AVAILABLE_IN_1_0
GVariant           *gather_worker_run                  (GatherWorker  *self,
                                                        GVariant      *parameters,
                                                        GCancellable  *cancellable,
                                                        GError       **error) G_GNUC_WARN_UNUSED_RESULT;
GATHER_AVAILABLE_IN_1_0
const char         *gather_worker_get_plugin_path      (GatherWorker  *self);

G_END_DECLS
