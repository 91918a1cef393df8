/* fetch-users.c: the seed scenario.
 *
 * Four tasks "fetch" users 1 to 4. Each takes 2 s, except user 3, which
 * takes 5 s under a 3 s timeout. User 3 times out; the others carry on, and
 * the whole run takes about 3 s, not 5.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>

#include <libgather.h>

/* Waits @msec milliseconds, or less if @cancellable is cancelled first. */
static gboolean
sleep_cancellably (guint         msec,
                   GCancellable *cancellable,
                   GError      **error)
{
  gint64 end = g_get_monotonic_time () + (gint64) msec * 1000;
  GPollFD pollfd;

  if (!g_cancellable_make_pollfd (cancellable, &pollfd))
    {
      g_usleep ((gulong) msec * 1000);
      return TRUE;
    }

  while (!g_cancellable_is_cancelled (cancellable))
    {
      gint64 left = end - g_get_monotonic_time ();

      if (left <= 0)
        break;
      g_poll (&pollfd, 1, (gint) ((left + 999) / 1000));
    }

  g_cancellable_release_fd (cancellable);

  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* The task body: runs on a worker thread. */
static GVariant *
fetch_user (GCancellable  *cancellable,
            gpointer       user_data,
            GError       **error)
{
  guint id = GPOINTER_TO_UINT (user_data);

  if (!sleep_cancellably (id == 3 ? 5000 : 2000, cancellable, error))
    return NULL;

  return g_variant_new_take_string (g_strdup_printf ("user_%u", id));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GatherPool) pool = gather_pool_new (4);  /* sleeping tasks: one thread each */
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  setlocale (LC_ALL, "");

  gather_group_set_pool (group, pool);

  for (guint id = 1; id <= 4; id++)
    {
      g_autofree char *label = g_strdup_printf ("fetch user %u", id);

      gather_group_add_task (group, label, 3000, fetch_user, GUINT_TO_POINTER (id), NULL, NULL);
    }

  start = g_get_monotonic_time ();
  outcomes = gather_group_run (group, NULL, &error);
  if (outcomes == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  for (guint i = 0; i < outcomes->len; i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (outcomes, i);

      switch (gather_outcome_get_status (outcome))
        {
        case GATHER_STATUS_OK:
          g_print ("%-14s %s\n", gather_outcome_get_label (outcome),
                   g_variant_get_string (gather_outcome_get_result (outcome), NULL));
          break;

        case GATHER_STATUS_TIMEOUT:
          g_print ("%-14s timeout (%s)\n", gather_outcome_get_label (outcome),
                   gather_outcome_get_error (outcome)->message);
          break;

        case GATHER_STATUS_ERROR:
        case GATHER_STATUS_CANCELLED:
        default:
          g_print ("%-14s %s\n", gather_outcome_get_label (outcome),
                   gather_outcome_get_error (outcome)->message);
          break;
        }
    }

  g_print ("finished in %.1f s\n", (g_get_monotonic_time () - start) / 1e6);

  return 0;
}
