/* test-seed-http.c: the seed scenario over real HTTP, with async tasks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <libsoup/soup.h>

#include "test-util.h"

typedef struct
{
  SoupSession *session;
  char        *address;
} Fetch;

static void
fetch_free (gpointer data)
{
  Fetch *fetch = data;

  g_object_unref (fetch->session);
  g_free (fetch->address);
  g_free (fetch);
}

static GVariant *
fetch_finish (GObject       *session,
              GAsyncResult  *result,
              GError       **error)
{
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (session), result, error);

  if (body == NULL)
    return NULL;

  return g_variant_new_take_string (g_strndup (g_bytes_get_data (body, NULL),
                                               g_bytes_get_size (body)));
}

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

typedef struct
{
  GDataInputStream *lines;
  const char       *wanted;
  gboolean          found;
  gboolean          done;
} ReadUntil;

static void
read_line_done (GObject      *stream,
                GAsyncResult *result,
                gpointer      data)
{
  ReadUntil *read = data;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (read->lines, result, NULL, NULL);

  if (line != NULL && g_str_equal (line, read->wanted))
    read->found = TRUE;
  if (line == NULL || read->found)
    {
      read->done = TRUE;
      return;
    }
  g_data_input_stream_read_line_async (read->lines, G_PRIORITY_DEFAULT, NULL, read_line_done, read);
}

static void
test_seed_http (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(SoupSession) session = soup_session_new_with_options ("max-conns-per-host", 8, NULL);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autofree char *port = NULL;
  ReadUntil read = { NULL, "CLOSED /user/3" };
  const char *server_path = g_getenv ("USERS_SERVER");
  gint64 start, elapsed;
  /* Under valgrind everything is slower but the server's clock: stretch
   * the delays and the timeout alike, so the margins stay as wide. */
  guint scale = MAX (1, test_slowdown () / 2);
  g_autofree char *delay = g_strdup_printf ("--delay=%u", 2000 * scale);
  g_autofree char *slow_delay = g_strdup_printf ("--slow-delay=%u", 5000 * scale);

  g_test_summary ("The seed over real HTTP: four async libsoup requests, user 3 "
                  "answers after 5 s and has a 3 s timeout. Outcomes user_1, "
                  "user_2, a timeout, user_4 in about 3 s, and the server sees "
                  "user 3's connection closed while this process is alive");
  g_test_bug ("8");

  /* Hermetic: no proxy from the environment or the desktop settings. */
  soup_session_set_proxy_resolver (session, NULL);

  g_assert_nonnull (server_path);
  server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                             &error, server_path, delay, slow_delay, NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server));
  port = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (port != NULL && g_str_has_prefix (port, "PORT "));

  for (guint id = 1; id <= 4; id++)
    {
      g_autofree char *label = g_strdup_printf ("fetch user %u", id);
      Fetch *fetch = g_new (Fetch, 1);

      fetch->session = g_object_ref (session);
      fetch->address = g_strdup_printf ("http://127.0.0.1:%s/user/%u", port + 5, id);
      gather_group_add_async_task (group, label, 3000 * scale, fetch_start, fetch, fetch_free, &error);
      g_assert_no_error (error);
    }

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 20000, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_no_error (error);

  for (guint i = 0; i < 4; i++)
    if (i != 2)
      g_assert_no_error (gather_outcome_get_error (test_outcome (outcomes, i)));
  g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (test_outcome (outcomes, 0)), NULL), ==, "user_1");
  g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (test_outcome (outcomes, 1)), NULL), ==, "user_2");
  g_assert_error (gather_outcome_get_error (test_outcome (outcomes, 2)), GATHER_ERROR, GATHER_ERROR_TIMED_OUT);
  g_assert_cmpstr (g_variant_get_string (gather_outcome_get_result (test_outcome (outcomes, 3)), NULL), ==, "user_4");
  g_assert_cmpint (elapsed, >=, 3000 * 1000 * scale);
  g_assert_cmpint (elapsed, <, (3000 * scale + 1500 * test_slowdown ()) * 1000);

  /* Only the cancelled request can close the connection: this process is
   * still alive. */
  read.lines = lines;
  g_data_input_stream_read_line_async (lines, G_PRIORITY_DEFAULT, NULL, read_line_done, &read);
  g_assert_true (test_iterate_until (&read.done, 1500));
  g_assert_true (read.found);

  g_output_stream_close (g_subprocess_get_stdin_pipe (server), NULL, NULL);
  g_assert_true (g_subprocess_wait (server, NULL, &error));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_bug_base ("gather issue #");

  g_test_add_func ("/gather/seed/http", test_seed_http);

  return g_test_run ();
}
