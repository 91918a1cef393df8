/* users-server.c: the seed scenario's server, for the HTTP examples.
 *
 *   users-server [--port=N] [--delay=MS] [--slow-delay=MS]
 *
 * Serves GET /user/N on 127.0.0.1: "user_N" after 2 s, except user 3,
 * which answers after 5 s. Prints "PORT n" once it listens, then one line
 * per request: "SERVED /user/N" when it answered, "CLOSED /user/N" when the
 * client closed the connection before the answer (a cancelled request).
 * Exits when its standard input is closed, so a test that started it
 * cannot leave it behind.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gunixinputstream.h>
#include <libsoup/soup.h>

static guint opt_port = 0;
static guint opt_delay = 2000;
static guint opt_slow_delay = 5000;

/* A request being answered; freed with its message. */
typedef struct
{
  SoupServerMessage *message;   /* not owned: it owns this */
  char              *path;
  guint              timeout_id;
  GSource           *watch;       /* the client's socket, while paused */
  gboolean           answered;
} Pending;

static void
pending_closed (Pending *pending)
{
  if (!pending->answered)
    g_print ("CLOSED %s\n", pending->path);
  pending->answered = TRUE;
  g_clear_handle_id (&pending->timeout_id, g_source_remove);
  if (pending->watch != NULL)
    g_source_destroy (pending->watch);
  g_clear_pointer (&pending->watch, g_source_unref);
}

static void
pending_free (Pending *pending)
{
  pending_closed (pending);
  g_free (pending->path);
  g_free (pending);
}

static gboolean
answer (gpointer data)
{
  Pending *pending = data;
  const char *id = strrchr (pending->path, '/') + 1;
  g_autofree char *body = g_strdup_printf ("user_%s", id);

  pending->timeout_id = 0;
  pending->answered = TRUE;
  if (pending->watch != NULL)
    g_source_destroy (pending->watch);
  g_clear_pointer (&pending->watch, g_source_unref);
  soup_server_message_set_status (pending->message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (pending->message, "text/plain", SOUP_MEMORY_COPY,
                                    body, strlen (body));
  soup_server_message_unpause (pending->message);
  g_print ("SERVED %s\n", pending->path);

  return G_SOURCE_REMOVE;
}

/* libsoup 3.2 does not read from a paused message's connection, so it
 * does not notice when the client closes it: watch the socket. */
static gboolean
on_socket_ready (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      data)
{
  Pending *pending = data;
  char byte;
  GInputVector vector = { &byte, 1 };
  gint flags = G_SOCKET_MSG_PEEK;
  gssize n;

  n = g_socket_receive_message (socket, NULL, &vector, 1, NULL, NULL, &flags, NULL, NULL);
  if (n <= 0)
    {
      /* End of stream, or an error: the client is gone. */
      g_clear_pointer (&pending->watch, g_source_unref);
      pending_closed (pending);
      return G_SOURCE_REMOVE;
    }

  /* Data from the client (not expected): stop watching. */
  g_clear_pointer (&pending->watch, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
on_finished (SoupServerMessage *message,
             gpointer           data)
{
  pending_closed (data);
}

static void
handle_user (SoupServer        *server,
             SoupServerMessage *message,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  const char *id = strrchr (path, '/') + 1;
  guint64 number;
  Pending *pending;

  if (!g_ascii_string_to_unsigned (id, 10, 1, G_MAXUINT, &number, NULL))
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  pending = g_new0 (Pending, 1);
  pending->message = message;
  pending->path = g_strdup (path);
  g_object_set_data_full (G_OBJECT (message), "pending", pending, (GDestroyNotify) pending_free);
  g_signal_connect (message, "disconnected", G_CALLBACK (on_finished), pending);
  g_signal_connect (message, "finished", G_CALLBACK (on_finished), pending);

  pending->watch = g_socket_create_source (soup_server_message_get_socket (message),
                                           G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (pending->watch, G_SOURCE_FUNC (on_socket_ready), pending, NULL);
  g_source_attach (pending->watch, NULL);

  soup_server_message_pause (message);
  pending->timeout_id = g_timeout_add (number == 3 ? opt_slow_delay : opt_delay, answer, pending);
}

static void
on_stdin_closed (GObject      *stream,
                 GAsyncResult *result,
                 gpointer      loop)
{
  g_main_loop_quit (loop);
}

int
main (int   argc,
      char *argv[])
{
  static GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_INT, &opt_port, "Port to listen on (default: any free one)", "N" },
    { "delay", 0, 0, G_OPTION_ARG_INT, &opt_delay, "How long users take to answer (default 2000)", "MS" },
    { "slow-delay", 0, 0, G_OPTION_ARG_INT, &opt_slow_delay, "How long user 3 takes (default 5000)", "MS" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- serve /user/N slowly");
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = NULL;
  static char buffer[1];

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("users-server: %s\n", error->message);
      return 2;
    }

  /* Lines go to a pipe: flush each. */
  setvbuf (stdout, NULL, _IOLBF, 0);

  server = soup_server_new ("server-header", "gather-users-server", NULL);
  soup_server_add_handler (server, "/user", handle_user, NULL, NULL);
  if (!soup_server_listen_local (server, opt_port, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    {
      g_printerr ("users-server: cannot listen on 127.0.0.1: %s\n", error->message);
      return 1;
    }

  uris = soup_server_get_uris (server);
  g_print ("PORT %d\n", g_uri_get_port (uris->data));

  input = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  g_input_stream_read_async (input, buffer, sizeof buffer, G_PRIORITY_DEFAULT, NULL,
                             on_stdin_closed, loop);
  g_main_loop_run (loop);

  /* Close the connections still open, and free what they hold. */
  soup_server_disconnect (server);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  return 0;
}
