/* gather-error.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (GATHER_INSIDE) && !defined (GATHER_COMPILATION)
# error "Only <libgather.h> can be included directly."
#endif

#include <glib.h>

#include "gather-version-macros.h"

G_BEGIN_DECLS

/**
 * GATHER_ERROR:
 *
 * The error domain of libgather. Errors in this domain are from the
 * [error@Gather.Error] enumeration.
 *
 * Cancellation is reported with `G_IO_ERROR_CANCELLED` in the `G_IO_ERROR`
 * domain, as everywhere else in GIO.
 *
 * Since: 1.0
 */
#define GATHER_ERROR (gather_error_quark ())

/**
 * GatherError:
 * @GATHER_ERROR_FAILED: a generic failure, for errors with no code of their own
 * @GATHER_ERROR_TIMED_OUT: a task did not finish within its own timeout;
 *   this is the error of a [enum@Gather.Status.TIMEOUT] outcome
 * @GATHER_ERROR_DEADLINE_EXCEEDED: the group's deadline expired before the task
 *   finished; also the error of a [enum@Gather.Status.TIMEOUT] outcome
 * @GATHER_ERROR_INVALID_RESULT: a task body returned neither a result nor an
 *   error
 * @GATHER_ERROR_ALREADY_STARTED: [method@Gather.Group.run_async] was called on
 *   a group that is running or has already run (a group runs once), or
 *   [method@Gather.Group.add_worker_task] on one that has started
 * @GATHER_ERROR_PLUGIN: a plugin could not be loaded: not a shared object,
 *   not a gather plugin, or a broken one
 * @GATHER_ERROR_PLUGIN_ABI: a plugin was built for another plugin ABI (see
 *   [const@Gather.PLUGIN_ABI_VERSION])
 * @GATHER_ERROR_PLUGIN_INSECURE: a plugin file or directory can be written by
 *   other users, or belongs to one, and was not loaded
 * @GATHER_ERROR_DUPLICATE_WORKER: a worker's name is taken by a worker loaded
 *   before it
 * @GATHER_ERROR_UNKNOWN_WORKER: no loaded worker has that name
 * @GATHER_ERROR_INVALID_PARAMETERS: parameters do not match what a worker
 *   declares
 * @GATHER_ERROR_NOT_ISOLATABLE: a task cannot run where it was asked to:
 *   only plugin worker tasks can run in a helper process (see
 *   [property@Gather.Group:isolate-workers]), and a worker loaded in a
 *   helper process runs only there
 * @GATHER_ERROR_HELPER: a helper process that runs isolated tasks could not
 *   be started, or crashed, exited or broke the protocol while it ran the
 *   task; the message names the worker, the task and the signal or exit
 *   status
 * @GATHER_ERROR_LIMIT_EXCEEDED: an isolated task went past its memory or
 *   CPU-time limit (see [method@Gather.Group.set_task_limits]); the message
 *   says which
 *
 * Error codes in the `GATHER_ERROR` domain. New codes are only ever
 * appended.
 *
 * Since: 1.0
 */
typedef enum
{
  GATHER_ERROR_FAILED,
  GATHER_ERROR_TIMED_OUT,
  GATHER_ERROR_DEADLINE_EXCEEDED,
  GATHER_ERROR_INVALID_RESULT,
  GATHER_ERROR_ALREADY_STARTED,
  GATHER_ERROR_PLUGIN,
  GATHER_ERROR_PLUGIN_ABI,
  GATHER_ERROR_PLUGIN_INSECURE,
  GATHER_ERROR_DUPLICATE_WORKER,
  GATHER_ERROR_UNKNOWN_WORKER,
  GATHER_ERROR_INVALID_PARAMETERS,
  GATHER_ERROR_NOT_ISOLATABLE,
  GATHER_ERROR_HELPER,
  GATHER_ERROR_LIMIT_EXCEEDED,
} GatherError;

GATHER_AVAILABLE_IN_1_0
GQuark gather_error_quark (void);

G_END_DECLS
