/* gather-completion.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-completion.h"
#include "gather-task-record-private.h"

/**
 * GatherCompletion:
 *
 * The handle of an async task: the task's way to hand back the result of
 * the asynchronous operation it started.
 *
 * A task added with [method@Gather.Group.add_async_task] starts an
 * asynchronous operation (a `_async()` call of GIO, libsoup, D-Bus, or a
 * promise in JavaScript) on the group's main context and completes its
 * handle once the operation completes, exactly once, with
 * [method@Gather.Completion.return_value] or
 * [method@Gather.Completion.return_error]. No thread is held while the
 * operation runs.
 *
 * ```c
 * static GVariant *
 * load_finish (GObject *file, GAsyncResult *result, GError **error)
 * {
 *   g_autofree char *contents = NULL;
 *
 *   if (!g_file_load_contents_finish (G_FILE (file), result, &contents, NULL, NULL, error))
 *     return NULL;
 *   return g_variant_new_take_string (g_steal_pointer (&contents));
 * }
 *
 * static void
 * load_start (GatherCompletion *completion, GCancellable *cancellable, gpointer file)
 * {
 *   // The handle's reference goes to the callback, which completes the task.
 *   g_file_load_contents_async (file, cancellable, gather_completion_ready,
 *                               gather_completion_finish_with (completion, load_finish));
 * }
 * ```
 *
 * In JavaScript, with promises:
 *
 * ```js
 * group.add_async_task('load', 3000, async (completion, cancellable) => {
 *     try {
 *         const [bytes] = await file.load_contents_async(cancellable);  // Gio._promisify()d
 *         completion.return_value(new GLib.Variant('ay', bytes));
 *     } catch (e) {
 *         completion.return_error(e);
 *     }
 * });
 * ```
 *
 * ## Cancellation and late completions
 *
 * When the task's timeout expires, at the group's deadline, or when the run
 * is cancelled or stopped by its policy, the task's cancellable is cancelled
 * on the group's main context (never on another thread, so handlers that
 * JavaScript or Python code connected to it run on the main thread), and
 * the task's outcome is recorded at once, without waiting for the
 * operation. A completion that comes after that is freed and ignored. If it
 * does not come within the group's [property@Gather.Group:grace-period],
 * the outcome is marked [method@Gather.Outcome.get_abandoned]: the
 * operation ignored its cancellation.
 *
 * ## Lifetime
 *
 * The handle is reference counted, and the start function owns the first
 * reference. A handle whose last reference is dropped before it was
 * completed completes the task with an [enum@Gather.Status.ERROR] outcome
 * and [error@Gather.Error.INVALID_RESULT], so a task whose operation is
 * lost does not wait for its timeout, as [class@Gio.Task] warns about a
 * task finalized without returning. (In languages with a garbage
 * collector, that happens when the handle is collected.) Completing a
 * handle twice is a programmer error.
 *
 * Handles are thread-safe: an operation may complete on another thread,
 * and the result is still delivered on the group's main context.
 *
 * Since: 1.0
 */

G_DEFINE_BOXED_TYPE (GatherCompletion, gather_completion,
                     gather_completion_ref, gather_completion_unref)

#define RECORD(self) ((GatherTaskRecord *) (self))

/**
 * gather_completion_ref:
 * @self: a [struct@Gather.Completion]
 *
 * Takes a reference on @self. Thread-safe.
 *
 * Returns: (transfer full): @self
 *
 * Since: 1.0
 */
GatherCompletion *
gather_completion_ref (GatherCompletion *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_int_inc (&RECORD (self)->n_handles);
  gather_task_record_ref (RECORD (self));

  return self;
}

/* Whoever wins this completes the task. */
static gboolean
gather_completion_claim (GatherCompletion *self,
                         const char       *func)
{
  if (g_atomic_int_compare_and_exchange (&RECORD (self)->completed, FALSE, TRUE))
    return TRUE;

  g_critical ("%s: task #%u was completed already; an async task is completed "
              "exactly once", func, RECORD (self)->index);
  return FALSE;
}

/**
 * gather_completion_unref:
 * @self: (transfer full): a [struct@Gather.Completion]
 *
 * Drops a reference on @self. If it was the last one and the task was not
 * completed, the task ends with [error@Gather.Error.INVALID_RESULT].
 * Thread-safe.
 *
 * Since: 1.0
 */
void
gather_completion_unref (GatherCompletion *self)
{
  GatherTaskRecord *record = RECORD (self);

  g_return_if_fail (self != NULL);

  if (g_atomic_int_dec_and_test (&record->n_handles) &&
      g_atomic_int_compare_and_exchange (&record->completed, FALSE, TRUE))
    {
      /* Read by the owner once it sees the task DONE. */
      record->dropped = TRUE;
      gather_task_record_finish (record, NULL, NULL, NULL);
    }

  gather_task_record_unref (record);
}

/**
 * gather_completion_return_value:
 * @self: a [struct@Gather.Completion]
 * @value: the task's result; a floating reference is consumed
 *
 * Completes the task with @value as its result. Any thread.
 *
 * Since: 1.0
 */
void
gather_completion_return_value (GatherCompletion *self,
                                GVariant         *value)
{
  g_autoptr(GVariant) owned = NULL;

  g_return_if_fail (self != NULL);
  g_return_if_fail (value != NULL);

  owned = g_variant_ref_sink (value);

  if (gather_completion_claim (self, G_STRFUNC))
    gather_task_record_finish (RECORD (self), g_steal_pointer (&owned), NULL, NULL);
}

/**
 * gather_completion_take_error:
 * @self: a [struct@Gather.Completion]
 * @error: (transfer full): the task's error
 *
 * Completes the task with @error, taking it. Any thread.
 *
 * Since: 1.0
 */
void
gather_completion_take_error (GatherCompletion *self,
                              GError           *error)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (error != NULL);

  if (gather_completion_claim (self, G_STRFUNC))
    gather_task_record_finish (RECORD (self), NULL, error, NULL);
  else
    g_error_free (error);
}

/**
 * gather_completion_return_error:
 * @self: a [struct@Gather.Completion]
 * @error: the task's error, copied
 *
 * Completes the task with a copy of @error. Any thread.
 *
 * Since: 1.0
 */
void
gather_completion_return_error (GatherCompletion *self,
                                const GError     *error)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (error != NULL);

  gather_completion_take_error (self, g_error_copy (error));
}

/**
 * gather_completion_return_new_error:
 * @self: a [struct@Gather.Completion]
 * @domain: the error domain
 * @code: the error code
 * @format: a printf()-style format for the message
 * @...: the arguments for @format
 *
 * Completes the task with a new error. Any thread.
 *
 * Since: 1.0
 */
void
gather_completion_return_new_error (GatherCompletion *self,
                                    GQuark            domain,
                                    gint              code,
                                    const char       *format,
                                    ...)
{
  va_list args;
  GError *error;

  g_return_if_fail (self != NULL);
  g_return_if_fail (format != NULL);

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);

  gather_completion_take_error (self, error);
}

/**
 * gather_completion_finish_with: (skip)
 * @self: a [struct@Gather.Completion]
 * @finish: turns the operation's result into the task's
 *
 * Adapts a standard `_async()`/`_finish()` pair: pass
 * [func@Gather.Completion.ready] as the `_async()` call's callback and what
 * this returns as its user data. When the operation completes, @finish is
 * called with its result, the task is completed with what @finish returns
 * or with its error, and the reference is dropped. C only; bindings
 * complete the handle in their own callback.
 *
 * ```c
 * g_file_load_contents_async (file, cancellable, gather_completion_ready,
 *                             gather_completion_finish_with (completion, load_finish));
 * ```
 *
 * This takes the caller's reference on @self (the one a start function
 * owns) and hands it to [func@Gather.Completion.ready]; take another with
 * [method@Gather.Completion.ref] first to keep one.
 *
 * Returns: (transfer full): @self, for [func@Gather.Completion.ready]
 *
 * Since: 1.0
 */
gpointer
gather_completion_finish_with (GatherCompletion *self,
                               GatherFinishFunc  finish)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (finish != NULL, NULL);

  RECORD (self)->finish_func = finish;

  return self;
}

/**
 * gather_completion_ready: (skip)
 * @source_object: (nullable): the operation's source object
 * @result: the operation's result
 * @user_data: what [method@Gather.Completion.finish_with] returned
 *
 * A [callback@Gio.AsyncReadyCallback] that completes the task through the
 * finish function given to [method@Gather.Completion.finish_with], then
 * drops the reference that function handed over.
 *
 * Since: 1.0
 */
void
gather_completion_ready (GObject      *source_object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  GatherCompletion *self = user_data;
  GatherFinishFunc finish = (GatherFinishFunc) RECORD (self)->finish_func;
  GError *error = NULL;
  GVariant *value;

  value = finish (source_object, result, &error);

  if (error != NULL)
    {
      g_clear_pointer (&value, g_variant_unref);
      gather_completion_take_error (self, error);
    }
  else if (value != NULL)
    {
      gather_completion_return_value (self, value);
    }
  else if (gather_completion_claim (self, G_STRFUNC))
    {
      /* Neither a result nor an error: the outcome says so. */
      gather_task_record_finish (RECORD (self), NULL, NULL, NULL);
    }

  gather_completion_unref (self);
}
