/* gather-helper-catalog.c: loading a registry's plugins in helper
 * processes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gather-error.h"
#include "gather-helper-catalog-private.h"
#include "gather-helper-pool-private.h"
#include "gather-helper-protocol-private.h"
#include "gather-helper-worker-private.h"

/*
 * An isolated registry (GatherRegistry:isolated) has a helper load its
 * search path, on the thread that calls gather_registry_load(), and lists
 * what the helper found: stand-ins for the workers (see
 * gather-helper-worker.c), the failures, the shadowed files.
 *
 * The helper says which plugin file it opens before it opens each one
 * (LOADING). If it dies, or hangs, while loading one, that plugin is a
 * failure, and another helper loads the search path again, told to skip
 * every plugin that killed one before (with the failure's error), so that
 * shadowing and the order of failures are those of an in-process load.
 * Each attempt gets at least one plugin further, so this ends.
 */

#define HELLO_TIMEOUT_MSEC 10000
#define PLUGIN_TIMEOUT_MSEC 10000

void
gather_helper_catalog_clear (GatherHelperCatalog *catalog)
{
  g_clear_pointer (&catalog->workers, g_ptr_array_unref);
  g_clear_pointer (&catalog->failure_paths, g_ptr_array_unref);
  g_clear_pointer (&catalog->failure_errors, g_ptr_array_unref);
  g_clear_pointer (&catalog->shadowed_paths, g_ptr_array_unref);
  g_clear_pointer (&catalog->shadowed_by, g_ptr_array_unref);
}

static void
catalog_init (GatherHelperCatalog *catalog)
{
  catalog->workers = g_ptr_array_new_with_free_func (g_object_unref);
  catalog->failure_paths = g_ptr_array_new_with_free_func (g_free);
  catalog->failure_errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  catalog->shadowed_paths = g_ptr_array_new_with_free_func (g_free);
  catalog->shadowed_by = g_ptr_array_new_with_free_func (g_free);
}

static void
catalog_fail (GatherHelperCatalog *catalog,
              const char          *path,
              GError              *error)
{
  g_ptr_array_add (catalog->failure_paths, g_strdup (path));
  g_ptr_array_add (catalog->failure_errors, error);
}

/* Checks and takes in what a helper found. Returns FALSE with @error if
 * it does not hold together. */
static gboolean
catalog_parse (GatherHelperCatalog  *catalog,
               GVariant             *body,
               GError              **error)
{
  g_autoptr(GVariant) workers = g_variant_get_child_value (body, 0);
  g_autoptr(GVariant) failures = g_variant_get_child_value (body, 1);
  g_autoptr(GVariant) shadowed = g_variant_get_child_value (body, 2);
  gsize n;

  if (!gather_helper_catalog_check (body, error))
    return FALSE;

  n = g_variant_n_children (workers);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) worker = g_variant_get_child_value (workers, i);
      g_autoptr(GVariant) parameters = g_variant_get_child_value (worker, 4);
      g_autoptr(GVariant) path = g_variant_get_child_value (worker, 5);
      gsize n_parameters = g_variant_n_children (parameters);
      g_autofree GatherParameter *declared = g_new0 (GatherParameter, MAX (n_parameters, 1));
      GatherHelperWorkerInfo info = { NULL, };

      g_variant_get_child (worker, 0, "&s", &info.name);
      g_variant_get_child (worker, 1, "&s", &info.description);
      g_variant_get_child (worker, 2, "&s", &info.parameter_type);
      g_variant_get_child (worker, 3, "&s", &info.result_type);
      info.plugin_path = gather_helper_path_of (path);
      if (*info.description == '\0')
        info.description = NULL;

      for (gsize j = 0; j < n_parameters; j++)
        {
          guint32 flags;

          g_variant_get_child (parameters, j, "(&s&s&su)", &declared[j].name, &declared[j].type,
                               &declared[j].description, &flags);
          declared[j].flags = flags;
        }
      info.parameters = declared;
      info.n_parameters = (guint) n_parameters;

      g_ptr_array_add (catalog->workers, gather_helper_worker_new (&info));
    }

  n = g_variant_n_children (failures);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) path = NULL;
      g_autoptr(GVariant) reason = NULL;

      g_variant_get_child (failures, i, "(@ay@(sis))", &path, &reason);
      catalog_fail (catalog, gather_helper_path_of (path), gather_helper_error_from_variant (reason));
    }

  n = g_variant_n_children (shadowed);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) path = NULL;
      g_autoptr(GVariant) by = NULL;

      g_variant_get_child (shadowed, i, "(@ay@ay)", &path, &by);
      g_ptr_array_add (catalog->shadowed_paths, g_strdup (gather_helper_path_of (path)));
      g_ptr_array_add (catalog->shadowed_by, g_strdup (gather_helper_path_of (by)));
    }

  return TRUE;
}

typedef enum
{
  ATTEMPT_DONE,        /* the catalog is in */
  ATTEMPT_PLUGIN,      /* a plugin killed or hung the helper: skip it */
  ATTEMPT_FAILED,      /* no helper could do it */
} Attempt;

/* Reads the next frame, waiting at most @timeout_msec. Returns 1, 0 on
 * time out, -1 on end-of-file or a bad frame (@error set for a bad one). */
static int
read_frame (GatherHelperProcess  *process,
            GatherFrameReader    *reader,
            int                   timeout_msec,
            GatherHelperMessage  *kind,
            guint32              *serial,
            GVariant            **body,
            GError              **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_msec * 1000;

  for (;;)
    {
      struct pollfd fd = { process->socket, POLLIN, 0 };
      int ready = gather_frame_reader_next (reader, kind, serial, body, error);
      gint64 left;
      gsize available;
      guint8 *buffer;
      ssize_t n;

      if (ready != 0)
        return ready;

      left = (deadline - g_get_monotonic_time () + 999) / 1000;
      if (left <= 0)
        return 0;
      if (poll (&fd, 1, (int) left) <= 0)
        continue;

      buffer = gather_frame_reader_reserve (reader, &available);
      n = read (process->socket, buffer, available);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        return -1;
      if (n > 0)
        gather_frame_reader_commit (reader, (gsize) n);
    }
}

/* One helper loads the search path, skipping @skip. */
static Attempt
attempt_load (GVariant             *directories,
              GPtrArray            *skip_paths,
              GPtrArray            *skip_errors,
              GatherHelperCatalog  *catalog,
              GError              **error)
{
  GatherHelperProcess process;
  GatherFrameReader reader = { NULL, };
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(GError) broke = NULL;
  g_autofree char *loading = NULL;
  g_autofree char *how = NULL;
  GVariantBuilder skipped;
  Attempt attempt = ATTEMPT_FAILED;
  gboolean timed_out = FALSE;
  GPid worker_pid = 0;
  int signum;

  if (!gather_helper_process_spawn (&process, -1, error))
    return ATTEMPT_FAILED;

  g_variant_builder_init (&skipped, G_VARIANT_TYPE ("a(ay(sis))"));
  for (guint i = 0; i < skip_paths->len; i++)
    g_variant_builder_add (&skipped, "(@ay@(sis))",
                           g_variant_new_bytestring (g_ptr_array_index (skip_paths, i)),
                           gather_helper_error_to_variant (g_ptr_array_index (skip_errors, i)));
  frame = gather_helper_frame_encode (GATHER_HELPER_LOAD, 1,
                                      g_variant_new ("(@a(ayb)a(ay(sis)))", directories,
                                                     &skipped));

  for (guint step = 0; ; step++)
    {
      g_autoptr(GVariant) body = NULL;
      GatherHelperMessage kind;
      guint32 serial;
      int ready = read_frame (&process, &reader, step == 0 ? HELLO_TIMEOUT_MSEC : PLUGIN_TIMEOUT_MSEC,
                              &kind, &serial, &body, &broke);

      if (ready <= 0)
        {
          timed_out = ready == 0;
          break;
        }

      if (step == 0)
        {
          gsize length;
          const guint8 *data;

          if (kind != GATHER_HELPER_HELLO ||
              !gather_helper_check_hello (body, process.pid, &worker_pid, &broke))
            {
              if (broke == NULL)
                broke = g_error_new (GATHER_ERROR, GATHER_ERROR_HELPER,
                                     "it sent %s first", gather_helper_message_name (kind));
              break;
            }

          /* The whole frame: the helper reads it before it writes. */
          data = g_bytes_get_data (frame, &length);
          while (length > 0)
            {
              ssize_t n = write (process.socket, data, length);

              if (n < 0 && errno == EAGAIN)
                {
                  struct pollfd fd = { process.socket, POLLOUT, 0 };

                  poll (&fd, 1, -1);
                  continue;
                }
              if (n <= 0 && errno != EINTR)
                break;
              if (n > 0)
                {
                  data += n;
                  length -= (gsize) n;
                }
            }
          continue;
        }

      if (serial != 1 || (kind != GATHER_HELPER_LOADING && kind != GATHER_HELPER_CATALOG))
        {
          broke = g_error_new (GATHER_ERROR, GATHER_ERROR_HELPER, "it sent a %s frame about %u",
                               gather_helper_message_name (kind), serial);
          break;
        }

      if (kind == GATHER_HELPER_LOADING)
        {
          g_free (loading);
          loading = g_strdup (gather_helper_path_of (body));
          if (loading == NULL)
            {
              broke = g_error_new_literal (GATHER_ERROR, GATHER_ERROR_HELPER,
                                           "it announced a plugin without a path");
              break;
            }
          continue;
        }

      if (catalog_parse (catalog, body, &broke))
        attempt = ATTEMPT_DONE;
      break;
    }

  /* Done, or not: the helper goes. End-of-file makes its worker process
   * exit; one that hangs or broke the protocol is killed. */
  if (attempt != ATTEMPT_DONE && (timed_out || broke != NULL))
    {
      if (worker_pid > 0)
        {
          kill (-worker_pid, SIGKILL);
          kill (worker_pid, SIGKILL);
        }
      kill (process.pid, SIGKILL);
    }
  shutdown (process.socket, SHUT_RDWR);
  how = gather_helper_process_reap (&process, &signum);
  gather_frame_reader_clear (&reader);

  if (attempt == ATTEMPT_DONE)
    return ATTEMPT_DONE;

  if (loading != NULL)
    {
      /* The plugin it was loading: skipped next time, with this error. */
      g_ptr_array_add (skip_paths, g_steal_pointer (&loading));
      if (timed_out)
        g_ptr_array_add (skip_errors,
                         g_error_new (GATHER_ERROR, GATHER_ERROR_PLUGIN,
                                      "Plugin “%s” was not loaded: loading it took more than "
                                      "%u s in a helper process, which was killed",
                                      (char *) g_ptr_array_index (skip_paths, skip_paths->len - 1),
                                      PLUGIN_TIMEOUT_MSEC / 1000));
      else if (broke != NULL)
        g_ptr_array_add (skip_errors,
                         g_error_new (GATHER_ERROR, GATHER_ERROR_PLUGIN,
                                      "Plugin “%s” was not loaded: loading it in a helper "
                                      "process broke the protocol (%s)",
                                      (char *) g_ptr_array_index (skip_paths, skip_paths->len - 1),
                                      broke->message));
      else
        g_ptr_array_add (skip_errors,
                         g_error_new (GATHER_ERROR, GATHER_ERROR_PLUGIN,
                                      "Plugin “%s” was not loaded: the helper process "
                                      "loading it %s",
                                      (char *) g_ptr_array_index (skip_paths, skip_paths->len - 1),
                                      how));
      return ATTEMPT_PLUGIN;
    }

  if (broke != NULL)
    g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                 "The helper process loading plugins broke the protocol: %s", broke->message);
  else
    g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                 "The helper process loading plugins %s%s", how,
                 timed_out ? " (it did not answer in time)" : "");
  return ATTEMPT_FAILED;
}

/*
 * gather_helper_catalog_load:
 * Loads @directories (their @required flags as the registry's search
 * path has them) in helper processes, and fills @catalog with what they
 * found. If no helper can, every directory is a failure with the reason.
 * Blocks; on the calling thread.
 */
void
gather_helper_catalog_load (const char * const  *directories,
                            const gboolean      *required,
                            guint                n_directories,
                            GatherHelperCatalog *catalog)
{
  g_autoptr(GPtrArray) skip_paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) skip_errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr(GVariant) search_path = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder builder;

  catalog_init (catalog);
  if (n_directories == 0)
    return;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ayb)"));
  for (guint i = 0; i < n_directories; i++)
    g_variant_builder_add (&builder, "(@ayb)", g_variant_new_bytestring (directories[i]),
                           required[i]);
  search_path = g_variant_ref_sink (g_variant_builder_end (&builder));

  for (;;)
    {
      GatherHelperCatalog attempt_catalog;
      Attempt attempt;

      catalog_init (&attempt_catalog);
      attempt = attempt_load (search_path, skip_paths, skip_errors, &attempt_catalog, &error);

      if (attempt == ATTEMPT_DONE)
        {
          gather_helper_catalog_clear (catalog);
          *catalog = attempt_catalog;
          return;
        }
      gather_helper_catalog_clear (&attempt_catalog);

      if (attempt == ATTEMPT_FAILED)
        break;
    }

  for (guint i = 0; i < n_directories; i++)
    catalog_fail (catalog, directories[i],
                  g_error_new (GATHER_ERROR, GATHER_ERROR_HELPER,
                               "Could not load the plugins of “%s” in a helper process: %s",
                               directories[i], error->message));
}
