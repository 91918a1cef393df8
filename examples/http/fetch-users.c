/* fetch-users.c: the seed scenario over HTTP, with async tasks.
 *
 *   fetch-users URL          e.g. http://127.0.0.1:8080 (see users-server.c)
 *
 * Four users are fetched at once with libsoup, on the main context, holding
 * no thread while they wait. Each has a 3 s timeout; user 3 takes 5 s, so
 * its request is cancelled at 3 s (the server sees the connection close)
 * while the others carry on. The run takes about 3 s.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>

#include <libgather.h>
#include <libsoup/soup.h>

/* Turns a finished request into the task's result. */
static GVariant *
fetch_finish (GObject       *session,
              GAsyncResult  *result,
              GError       **error)
{
  g_autoptr(GBytes) body = NULL;
  SoupMessage *message;

  body = soup_session_send_and_read_finish (SOUP_SESSION (session), result, error);
  if (body == NULL)
    return NULL;

  message = soup_session_get_async_result_message (SOUP_SESSION (session), result);
  if (soup_message_get_status (message) != SOUP_STATUS_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "HTTP %u %s",
                   soup_message_get_status (message), soup_message_get_reason_phrase (message));
      return NULL;
    }

  return g_variant_new_take_string (g_strndup (g_bytes_get_data (body, NULL),
                                               g_bytes_get_size (body)));
}

typedef struct
{
  SoupSession *session;
  char        *address;
} Fetch;

static Fetch *
fetch_new (SoupSession *session,
           const char  *url,
           guint        id)
{
  Fetch *fetch = g_new (Fetch, 1);

  fetch->session = g_object_ref (session);
  fetch->address = g_strdup_printf ("%s/user/%u", url, id);

  return fetch;
}

static void
fetch_free (gpointer data)
{
  Fetch *fetch = data;

  g_object_unref (fetch->session);
  g_free (fetch->address);
  g_free (fetch);
}

/* Runs on the main context when the task starts; owns @completion, and
 * hands it to the request's callback, which completes the task. */
static void
fetch_start (GatherCompletion *completion,
             GCancellable     *cancellable,
             gpointer          user_data)
{
  Fetch *fetch = user_data;
  g_autoptr(SoupMessage) message = soup_message_new ("GET", fetch->address);

  soup_session_send_and_read_async (fetch->session, message, G_PRIORITY_DEFAULT, cancellable,
                                    gather_completion_ready,
                                    gather_completion_finish_with (completion, fetch_finish));
}

int
main (int   argc,
      char *argv[])
{
  /* libsoup opens 2 connections per host by default; fetch all at once. */
  g_autoptr(SoupSession) session = soup_session_new_with_options ("max-conns-per-host", 8, NULL);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  setlocale (LC_ALL, "");

  if (argc != 2)
    {
      g_printerr ("usage: %s URL\n", argv[0]);
      return 2;
    }

  if (!g_uri_is_valid (argv[1], G_URI_FLAGS_NONE, &error))
    {
      g_printerr ("%s: %s\n", argv[1], error->message);
      return 2;
    }

  for (guint id = 1; id <= 4; id++)
    {
      g_autofree char *label = g_strdup_printf ("fetch user %u", id);

      gather_group_add_async_task (group, label, 3000 /* ms */, fetch_start,
                                   fetch_new (session, argv[1], id), fetch_free, NULL);
    }

  start = g_get_monotonic_time ();
  outcomes = gather_group_run (group, NULL, &error);

  for (guint i = 0; i < outcomes->len; i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (outcomes, i);
      const GError *failure = gather_outcome_get_error (outcome);

      if (failure == NULL)
        g_print ("%s: %s\n", gather_outcome_get_label (outcome),
                 g_variant_get_string (gather_outcome_get_result (outcome), NULL));
      else if (g_error_matches (failure, GATHER_ERROR, GATHER_ERROR_TIMED_OUT))
        g_print ("%s: timeout (%s)\n", gather_outcome_get_label (outcome), failure->message);
      else
        g_print ("%s: %s\n", gather_outcome_get_label (outcome), failure->message);
    }
  g_print ("finished in %.1f s\n", (g_get_monotonic_time () - start) / 1e6);

  return 0;
}
