/* test-util.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "test-util.h"

TestTask *
test_task_new (void)
{
  TestTask *task = g_new0 (TestTask, 1);

  task->value = "ok";

  return task;
}

void
test_task_free (gpointer data)
{
  TestTask *task = data;

  if (task->destroyed_on != NULL)
    *task->destroyed_on = g_thread_self ();
  if (task->n_destroyed != NULL)
    g_atomic_int_inc (task->n_destroyed);

  g_free (task);
}

gboolean
test_sleep_cancellably (guint         msec,
                        GCancellable *cancellable)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;
  GPollFD pollfd;

  g_assert_true (g_cancellable_make_pollfd (cancellable, &pollfd));

  while (!g_cancellable_is_cancelled (cancellable))
    {
      gint64 left = end - g_get_monotonic_time ();

      if (left <= 0)
        break;
      g_poll (&pollfd, 1, (gint) ((left + 999) / 1000));
    }

  g_cancellable_release_fd (cancellable);

  return !g_cancellable_is_cancelled (cancellable);
}

typedef struct
{
  char *copy;
  gint *counter;
} FreedNotify;

static void
test_result_freed (gpointer data)
{
  FreedNotify *notify = data;

  g_atomic_int_inc (notify->counter);
  g_free (notify->copy);
  g_free (notify);
}

GVariant *
test_task_run (GCancellable  *cancellable,
               gpointer       user_data,
               GError       **error)
{
  TestTask *task = user_data;
  GVariant *result = NULL;

  if (task->started_at != NULL)
    *task->started_at = g_get_monotonic_time ();
  if (task->n_started != NULL)
    g_atomic_int_inc (task->n_started);

  if (task->busy_usec > 0)
    g_usleep (task->busy_usec);

  if (task->running != NULL)
    {
      gint now = g_atomic_int_add (task->running, 1) + 1;
      gint max;

      while ((max = g_atomic_int_get (task->max_running)) < now &&
             !g_atomic_int_compare_and_exchange (task->max_running, max, now))
        ;

      if (task->wait_for_running > 0)
        {
          gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

          /* The most seen at once only grows, unlike the running count. */
          while (g_atomic_int_get (task->max_running) < (gint) task->wait_for_running &&
                 g_get_monotonic_time () < end)
            g_usleep (1000);
        }
    }

  if (task->sleep_msec > 0 && !test_sleep_cancellably (task->sleep_msec, cancellable))
    {
      g_cancellable_set_error_if_cancelled (cancellable, error);
      goto out;
    }

  if (task->ignore_msec > 0)
    g_usleep ((gulong) task->ignore_msec * 1000);

  while (task->gate != NULL && !g_atomic_int_get (task->gate))
    g_usleep (1000);

  if (task->return_nothing)
    goto out;

  if (task->value != NULL)
    {
      if (task->n_results_freed != NULL)
        {
          /* A result whose release we can observe. */
          FreedNotify *notify = g_new (FreedNotify, 1);

          notify->copy = g_strdup (task->value);
          notify->counter = task->n_results_freed;
          result = g_variant_new_from_data (G_VARIANT_TYPE ("ay"), notify->copy,
                                            strlen (notify->copy), TRUE,
                                            test_result_freed, notify);
          if (task->sink_result)
            g_variant_ref_sink (result);
        }
      else
        {
          result = g_variant_new_string (task->value);
        }
    }

  if (task->value == NULL || task->return_both)
    g_set_error (error,
                 task->error_domain ? task->error_domain : G_IO_ERROR,
                 task->error_domain ? task->error_code : G_IO_ERROR_FAILED,
                 "Task failed on purpose");

out:
  if (task->running != NULL)
    g_atomic_int_add (task->running, -1);
  if (task->n_returned != NULL)
    g_atomic_int_inc (task->n_returned);

  return result;
}

guint
test_add (GatherGroup *group,
          const char  *label,
          guint        timeout_msec,
          TestTask    *task)
{
  g_autoptr(GError) error = NULL;
  guint index = gather_group_add_task (group, label, timeout_msec,
                                       test_task_run, task, test_task_free, &error);

  g_assert_no_error (error);
  return index;
}

typedef struct
{
  GAsyncResult *result;
} RunData;

static void
test_run_done (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  RunData *data = user_data;

  data->result = g_object_ref (result);
}

static gboolean
test_set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the thread-default context until @done (@data) or @max_msec. */
static gboolean
test_iterate (gboolean (*done) (gpointer data),
              gpointer  data,
              guint     max_msec)
{
  GMainContext *context = g_main_context_ref_thread_default ();
  gboolean expired = FALSE;
  GSource *timeout = g_timeout_source_new (max_msec * test_slowdown ());

  g_source_set_callback (timeout, test_set_flag, &expired, NULL);
  g_source_attach (timeout, context);

  while (!done (data) && !expired)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (timeout);
  g_source_unref (timeout);
  g_main_context_unref (context);

  return done (data);
}

static gboolean
test_flag_set (gpointer data)
{
  return g_atomic_int_get ((gboolean *) data);
}

gboolean
test_iterate_until (gboolean *flag,
                    guint     max_msec)
{
  return test_iterate (test_flag_set, flag, max_msec);
}

typedef struct
{
  gint *counter;
  gint  value;
} CountReached;

static gboolean
test_count_reached (gpointer data)
{
  CountReached *reached = data;

  return g_atomic_int_get (reached->counter) >= reached->value;
}

gboolean
test_iterate_until_count (gint  *counter,
                          gint   value,
                          guint  max_msec)
{
  CountReached reached = { counter, value };

  return test_iterate (test_count_reached, &reached, max_msec);
}

static gboolean
test_have_result (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

void
test_save_result (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

void
test_save_outcomes (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  *(GPtrArray **) user_data = gather_group_run_finish (GATHER_GROUP (object), result, NULL);
}

gboolean
test_iterate_until_result (GAsyncResult **result,
                           guint          max_msec)
{
  return test_iterate (test_have_result, result, max_msec);
}

GPtrArray *
test_run_and_wait (GatherGroup   *group,
                   GCancellable  *cancellable,
                   guint          max_msec,
                   GError       **error)
{
  RunData data = { NULL };
  GPtrArray *outcomes;

  gather_group_run_async (group, cancellable, test_run_done, &data);

  if (!test_iterate (test_have_result, &data.result, max_msec))
    g_error ("The group did not finish within %u ms", max_msec * test_slowdown ());

  outcomes = gather_group_run_finish (group, data.result, error);
  g_object_unref (data.result);

  return outcomes;
}

GatherOutcome *
test_outcome (GPtrArray *outcomes,
              guint      index)
{
  g_assert_nonnull (outcomes);
  g_assert_cmpuint (index, <, outcomes->len);
  g_assert_nonnull (g_ptr_array_index (outcomes, index));

  return g_ptr_array_index (outcomes, index);
}

static gboolean
test_is_abandoned (gpointer data)
{
  return gather_outcome_get_abandoned (data);
}

gboolean
test_iterate_until_abandoned (GatherOutcome *outcome,
                              guint          max_msec)
{
  return test_iterate (test_is_abandoned, outcome, max_msec);
}

static gboolean
test_is_killed (gpointer data)
{
  return gather_outcome_get_killed (data);
}

gboolean
test_iterate_until_killed (GatherOutcome *outcome,
                           guint          max_msec)
{
  return test_iterate (test_is_killed, outcome, max_msec);
}

static const char *
test_plugins_source (const char *source)
{
  const char *variable = g_str_equal (source, "shipped") ? "GATHER_TEST_PLUGINS" :
                         g_str_equal (source, "example") ? "GATHER_TEST_EXAMPLE_PLUGINS" :
                                                           "GATHER_TEST_BAD_PLUGINS";
  const char *dir = g_getenv (variable);

  if (dir == NULL)
    g_error ("%s is not set: run the tests with meson test", variable);

  return dir;
}

char *
test_install_file (const char *from,
                   const char *dir,
                   const char *name)
{
  char *to = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  g_file_get_contents (from, &contents, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents_full (to, contents, length, G_FILE_SET_CONTENTS_NONE, 0644, &error);
  g_assert_no_error (error);

  return to;
}

char *
test_copy_plugins (const char *source)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (test_plugins_source (source), 0, &error);
  char *copy = g_dir_make_tmp ("gather-plugins-XXXXXX", &error);
  const char *name;

  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (copy, 0700), ==, 0);

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *from = g_build_filename (test_plugins_source (source), name, NULL);

      if (g_str_has_prefix (name, "gather-") && g_str_has_suffix (name, ".so"))
        g_free (test_install_file (from, copy, name));
    }

  return copy;
}

static char *shared_copies[3];   /* "shipped", "test", "example" */

static void
test_remove_shared_copies (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (shared_copies); i++)
    if (shared_copies[i] != NULL)
      {
        char *dir = g_steal_pointer (&shared_copies[i]);

        test_remove_tree (dir);
        g_free (dir);
      }
}

static const char *
test_shared_copy (const char *source)
{
  guint slot = g_str_equal (source, "shipped") ? 0 : g_str_equal (source, "test") ? 1 : 2;

  if (shared_copies[slot] == NULL)
    {
      static gboolean registered;

      if (!registered)
        atexit (test_remove_shared_copies);
      registered = TRUE;
      shared_copies[slot] = test_copy_plugins (source);
    }

  return shared_copies[slot];
}

GatherRegistry *
test_registry_new (const char  *source,
                   char       **out_dir)
{
  const char *dir = test_shared_copy (source);
  GatherRegistry *registry = gather_registry_new ();

  gather_registry_add_search_path (registry, dir);
  gather_registry_load (registry);

  if (out_dir != NULL)
    *out_dir = g_strdup (dir);

  return registry;
}

void
test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  for (guint i = 0; i < G_N_ELEMENTS (shared_copies); i++)
    if (g_strcmp0 (path, shared_copies[i]) == 0)
      return;

  dir = g_dir_open (path, 0, NULL);

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          test_remove_tree (child);
        }
      g_assert_cmpint (g_rmdir (path), ==, 0);
      return;
    }

  g_assert_cmpint (g_unlink (path), ==, 0);
}

GatherOutcome *
test_run_worker (GatherRegistry *registry,
                 const char     *worker,
                 GVariant       *parameters,
                 guint           timeout_msec)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;

  gather_group_set_registry (group, registry);
  g_assert_cmpuint (gather_group_add_worker_task (group, worker, parameters, NULL,
                                                  timeout_msec, &error), ==, 0);
  g_assert_no_error (error);

  outcomes = test_run_and_wait (group, NULL, 60000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (outcomes->len, ==, 1);

  return gather_outcome_ref (g_ptr_array_index (outcomes, 0));
}

void
test_assert_message_has (const GError *error,
                         const char   *part)
{
  g_assert_nonnull (error);
  if (strstr (error->message, part) == NULL)
    g_error ("“%s” is not in the message “%s”", part, error->message);
}
