/* fixture-isolate.c (tests copy it as gather-isolate.so): workers for isolated tasks (test-isolation.c): ones
 * that crash, exit, hang, eat memory or CPU, leave processes behind or
 * talk garbage to their helper, and ones that behave.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test-worker.h"

static const GatherParameter value_parameter[] = {
  { "value", "s", "What to return", GATHER_PARAMETER_REQUIRED },
};

static const GatherParameter how_parameter[] = {
  { "how", "s", "segv, abort, exit or exit0", GATHER_PARAMETER_REQUIRED },
};

static const GatherParameter mb_parameter[] = {
  { "mb", "u", "How many MiB to allocate", GATHER_PARAMETER_REQUIRED },
};

static const GatherParameter pidfile_parameter[] = {
  { "pidfile", "ay", "Where to write the pids of the processes it starts", GATHER_PARAMETER_REQUIRED },
};

static const GatherParameter hang_parameter[] = {
  { "pidfile", "ay", "Where to write the pid of the process it runs in", GATHER_PARAMETER_NONE },
};

static const GatherParameter garbage_parameter[] = {
  { "kind", "s", "length, junk, junk-later, half, serial, kind, type or eof", GATHER_PARAMETER_REQUIRED },
};

static const GatherParameter path_parameter[] = {
  { "path", "ay", "The file to add a line to", GATHER_PARAMETER_REQUIRED },
};

static const GatherParameter ms_parameter[] = {
  { "ms", "u", "How long to sleep, cancellably", GATHER_PARAMETER_REQUIRED },
};

/* Adds a line to the file at its path, so that a test sees how many
 * times it ran. */
static GVariant *
touch_run (GatherWorker  *worker,
           GVariant      *parameters,
           GCancellable  *cancellable,
           GError       **error)
{
  const char *path = NULL;
  FILE *file;

  g_variant_lookup (parameters, "path", "^&ay", &path);
  file = fopen (path, "a");
  if (file == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot open %s", path);
      return NULL;
    }
  fprintf (file, "ran\n");
  fclose (file);

  return g_variant_new_string ("touched");
}

/* Returns its value. */
static GVariant *
echo_run (GatherWorker  *worker,
          GVariant      *parameters,
          GCancellable  *cancellable,
          GError       **error)
{
  const char *value = NULL;

  g_variant_lookup (parameters, "value", "&s", &value);
  return g_variant_new_string (value);
}

/* The process it runs in. */
static GVariant *
pid_run (GatherWorker  *worker,
         GVariant      *parameters,
         GCancellable  *cancellable,
         GError       **error)
{
  return g_variant_new_uint64 ((guint64) getpid ());
}

/* Dies, one way or another. */
static GVariant *
crash_run (GatherWorker  *worker,
           GVariant      *parameters,
           GCancellable  *cancellable,
           GError       **error)
{
  const char *how = NULL;

  g_variant_lookup (parameters, "how", "&s", &how);

  if (g_str_equal (how, "segv"))
    raise (SIGSEGV);
  else if (g_str_equal (how, "abort"))
    abort ();
  else if (g_str_equal (how, "exit"))
    exit (3);
  else if (g_str_equal (how, "exit0"))
    exit (0);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Unknown way to die “%s”", how);
  return NULL;
}

/* Never returns, whatever happens to its cancellable. */
static GVariant *
hang_run (GatherWorker  *worker,
          GVariant      *parameters,
          GCancellable  *cancellable,
          GError       **error)
{
  const char *pidfile = NULL;

  if (g_variant_lookup (parameters, "pidfile", "^&ay", &pidfile))
    {
      g_autofree char *pid = g_strdup_printf ("%d\n", (int) getpid ());

      g_file_set_contents (pidfile, pid, -1, NULL);
    }

  for (;;)
    g_usleep (G_USEC_PER_SEC);

  return NULL;
}

/* Returns once cancelled, or after ms. */
static GVariant *
cooperate_run (GatherWorker  *worker,
               GVariant      *parameters,
               GCancellable  *cancellable,
               GError       **error)
{
  guint32 msec = 0;
  gint64 end;

  g_variant_lookup (parameters, "ms", "u", &msec);
  end = g_get_monotonic_time () + (gint64) msec * 1000;

  while (!g_cancellable_is_cancelled (cancellable) && g_get_monotonic_time () < end)
    {
      GPollFD fd;

      if (!g_cancellable_make_pollfd (cancellable, &fd))
        g_assert_not_reached ();
      g_poll (&fd, 1, (int) MAX (1, (end - g_get_monotonic_time ()) / 1000));
      g_cancellable_release_fd (cancellable);
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  return g_variant_new_uint32 (msec);
}

/* Allocates mb MiB, touching every page. */
static GVariant *
allocate_run (GatherWorker  *worker,
              GVariant      *parameters,
              GCancellable  *cancellable,
              GError       **error)
{
  guint32 mb = 0;
  GPtrArray *blocks = g_ptr_array_new_with_free_func (g_free);
  guint64 total = 0;

  g_variant_lookup (parameters, "mb", "u", &mb);
  for (guint32 i = 0; i < mb; i++)
    {
      char *block = g_malloc (1024 * 1024);

      memset (block, 1, 1024 * 1024);
      total += (guchar) block[i % (1024 * 1024)];
      g_ptr_array_add (blocks, block);
    }
  g_ptr_array_unref (blocks);

  return g_variant_new_uint64 (total);
}

/* Burns CPU until killed. */
static GVariant *
burn_run (GatherWorker  *worker,
          GVariant      *parameters,
          GCancellable  *cancellable,
          GError       **error)
{
  volatile guint64 n = 0;

  for (;;)
    n++;

  return NULL;
}

/* A process that ignores SIGTERM, in a session of its own, and its child,
 * which does too; then hangs. Their pids go to pidfile, one a line. */
static GVariant *
spawn_run (GatherWorker  *worker,
           GVariant      *parameters,
           GCancellable  *cancellable,
           GError       **error)
{
  const char *pidfile = NULL;
  int pipe_fds[2];
  pid_t child;

  g_variant_lookup (parameters, "pidfile", "^&ay", &pidfile);

  if (pipe (pipe_fds) < 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "pipe() failed");
      return NULL;
    }

  child = fork ();
  if (child == 0)
    {
      pid_t grandchild;
      char line[64];

      signal (SIGTERM, SIG_IGN);
      setsid ();
      grandchild = fork ();
      if (grandchild == 0)
        {
          close (pipe_fds[1]);
          for (;;)
            pause ();
        }
      g_snprintf (line, sizeof line, "%d\n%d\n", (int) getpid (), (int) grandchild);
      if (write (pipe_fds[1], line, strlen (line)) < 0)
        _exit (1);
      close (pipe_fds[1]);
      for (;;)
        pause ();
    }

  close (pipe_fds[1]);
  {
    char buffer[64] = { 0 };
    gsize done = 0;
    ssize_t n;

    while ((n = read (pipe_fds[0], buffer + done, sizeof buffer - 1 - done)) > 0)
      {
        done += (gsize) n;
        if (memchr (buffer, '\n', done) != strrchr (buffer, '\n'))
          break;
      }
    close (pipe_fds[0]);
    g_file_set_contents (pidfile, buffer, -1, NULL);
  }

  for (;;)
    g_usleep (G_USEC_PER_SEC);

  return NULL;
}

/* Talks garbage to the host on the helper's socket (3), then hangs. */
static gpointer
send_later (gpointer data)
{
  GByteArray *bytes = data;

  g_usleep (100 * 1000);
  if (send (3, bytes->data, bytes->len, MSG_NOSIGNAL) < 0)
    _exit (4);

  return NULL;
}

static GVariant *
garbage_run (GatherWorker  *worker,
             GVariant      *parameters,
             GCancellable  *cancellable,
             GError       **error)
{
  const char *kind = NULL;
  GByteArray *bytes = g_byte_array_new ();
  guint32 word;

  g_variant_lookup (parameters, "kind", "&s", &kind);

  if (g_str_equal (kind, "length"))
    {
      /* A frame of 4 GiB. */
      word = 0xffffffff;
      g_byte_array_append (bytes, (guint8 *) &word, 4);
      word = GUINT32_TO_LE (0x31485447u);
      g_byte_array_append (bytes, (guint8 *) &word, 4);
    }
  else if (g_str_equal (kind, "junk") || g_str_equal (kind, "junk-later") ||
           g_str_equal (kind, "half"))
    {
      static const char junk[] = "not a serialized GVariant at all";

      word = GUINT32_TO_LE (sizeof junk);
      g_byte_array_append (bytes, (guint8 *) &word, 4);
      word = GUINT32_TO_LE (0x31485447u);
      g_byte_array_append (bytes, (guint8 *) &word, 4);
      g_byte_array_append (bytes, (const guint8 *) junk, sizeof junk);
    }
  else
    {
      /* Well-formed frames that say the wrong thing: a RESULT for a task
       * that does not run, an unknown kind, a RESULT of the wrong type. */
      g_autoptr(GVariant) message = NULL;

      if (g_str_equal (kind, "serial"))
        message = g_variant_new ("(yuv)", 3, 999999, g_variant_new_string ("x"));
      else if (g_str_equal (kind, "kind"))
        message = g_variant_new ("(yuv)", 200, 1, g_variant_new_string ("x"));
      else
        message = g_variant_new ("(yuv)", 1, 0, g_variant_new ("(ut)", 1, (guint64) 1));
      g_variant_ref_sink (message);
      word = GUINT32_TO_LE ((guint32) g_variant_get_size (message));
      g_byte_array_append (bytes, (guint8 *) &word, 4);
      word = GUINT32_TO_LE (0x31485447u);
      g_byte_array_append (bytes, (guint8 *) &word, 4);
      g_byte_array_append (bytes, g_variant_get_data (message), g_variant_get_size (message));
    }

  if (g_str_equal (kind, "half"))
    {
      /* Half a header: the helper's own reply then makes it garbage, and
       * the helper goes on with what it was sent next meanwhile. */
      if (send (3, bytes->data, 4, MSG_NOSIGNAL) < 0)
        _exit (4);
      g_byte_array_unref (bytes);
      return g_variant_new_string ("half sent");
    }

  if (g_str_equal (kind, "eof"))
    {
      /* Half a frame, then the socket closes: the helper exits. */
      if (send (3, bytes->data, 2, MSG_NOSIGNAL) < 0)
        _exit (4);
      _exit (0);
    }

  /* Returns at once, so that the helper goes on with what it was sent
   * next; the junk follows 100 ms later, while that runs. */
  if (g_str_equal (kind, "junk-later"))
    {
      g_thread_unref (g_thread_new ("junk-later", send_later, bytes));
      return g_variant_new_string ("junk later");
    }

  if (send (3, bytes->data, bytes->len, MSG_NOSIGNAL) < 0)
    _exit (4);
  g_byte_array_unref (bytes);

  for (;;)
    g_usleep (G_USEC_PER_SEC);

  return NULL;
}

/* Declares its parameter "n" a number, but a string in a helper process:
 * as if its plugin file had changed between the host loading it and a
 * helper loading it. */
static const GatherParameter shifty_in_host[] = {
  { "n", "u", "A number", GATHER_PARAMETER_REQUIRED },
};

static const GatherParameter shifty_in_helper[] = {
  { "n", "s", "A number, as a string", GATHER_PARAMETER_REQUIRED },
};

static const GatherParameter *
shifty_parameters (void)
{
  char *exe = g_file_read_link ("/proc/self/exe", NULL);
  char *base = exe != NULL ? g_path_get_basename (exe) : NULL;
  gboolean in_helper = base != NULL && g_str_has_prefix (base, "gather-helper");

  g_free (exe);
  g_free (base);

  return in_helper ? shifty_in_helper : shifty_in_host;
}

static GVariant *
shifty_run (GatherWorker  *worker,
            GVariant      *parameters,
            GCancellable  *cancellable,
            GError       **error)
{
  return g_variant_new_string ("ran");
}

/* Parameters that are a string, not an a{sv}: the string in capitals. */
static GVariant *
upper_run (GatherWorker  *worker,
           GVariant      *parameters,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree char *upper = g_ascii_strup (g_variant_get_string (parameters, NULL), -1);

  return g_variant_new_string (upper);
}

/* Parameters that are a tuple: the string, then the number. */
static GVariant *
pair_run (GatherWorker  *worker,
          GVariant      *parameters,
          GCancellable  *cancellable,
          GError       **error)
{
  const char *text;
  guint32 number;

  g_variant_get (parameters, "(&su)", &text, &number);
  return g_variant_new_take_string (g_strdup_printf ("%s %u", text, number));
}

TEST_WORKER (IsolateEcho, isolate_echo, ISOLATE, ECHO, "isolate-echo", value_parameter, 1, "s", echo_run)
TEST_WORKER_TYPED (IsolateUpper, isolate_upper, ISOLATE, UPPER, "isolate-upper", "s", NULL, 0, "s", upper_run)
TEST_WORKER_TYPED (IsolatePair, isolate_pair, ISOLATE, PAIR, "isolate-pair", "(su)", NULL, 0, "s", pair_run)
TEST_WORKER (IsolatePid, isolate_pid, ISOLATE, PID, "isolate-pid", NULL, 0, "t", pid_run)
TEST_WORKER (IsolateCrash, isolate_crash, ISOLATE, CRASH, "isolate-crash", how_parameter, 1, "s", crash_run)
TEST_WORKER (IsolateHang, isolate_hang, ISOLATE, HANG, "isolate-hang", hang_parameter, 1, "s", hang_run)
TEST_WORKER (IsolateCooperate, isolate_cooperate, ISOLATE, COOPERATE, "isolate-cooperate", ms_parameter, 1, "u", cooperate_run)
TEST_WORKER (IsolateAllocate, isolate_allocate, ISOLATE, ALLOCATE, "isolate-allocate", mb_parameter, 1, "t", allocate_run)
TEST_WORKER (IsolateBurn, isolate_burn, ISOLATE, BURN, "isolate-burn", NULL, 0, "s", burn_run)
TEST_WORKER (IsolateSpawn, isolate_spawn, ISOLATE, SPAWN, "isolate-spawn", pidfile_parameter, 1, "s", spawn_run)
TEST_WORKER (IsolateGarbage, isolate_garbage, ISOLATE, GARBAGE, "isolate-garbage", garbage_parameter, 1, "s", garbage_run)
TEST_WORKER (IsolateTouch, isolate_touch, ISOLATE, TOUCH, "isolate-touch", path_parameter, 1, "s", touch_run)
TEST_WORKER (IsolateShifty, isolate_shifty, ISOLATE, SHIFTY, "isolate-shifty", shifty_parameters (), 1, "s", shifty_run)

static void
isolate_register (GatherPluginModule *module)
{
  GTypeModule *type_module = G_TYPE_MODULE (module);

  isolate_echo_register_type (type_module);
  isolate_pid_register_type (type_module);
  isolate_crash_register_type (type_module);
  isolate_hang_register_type (type_module);
  isolate_cooperate_register_type (type_module);
  isolate_allocate_register_type (type_module);
  isolate_burn_register_type (type_module);
  isolate_spawn_register_type (type_module);
  isolate_garbage_register_type (type_module);
  isolate_touch_register_type (type_module);
  isolate_shifty_register_type (type_module);
  isolate_upper_register_type (type_module);
  isolate_pair_register_type (type_module);

  gather_plugin_module_add_worker (module, isolate_echo_get_type ());
  gather_plugin_module_add_worker (module, isolate_pid_get_type ());
  gather_plugin_module_add_worker (module, isolate_crash_get_type ());
  gather_plugin_module_add_worker (module, isolate_hang_get_type ());
  gather_plugin_module_add_worker (module, isolate_cooperate_get_type ());
  gather_plugin_module_add_worker (module, isolate_allocate_get_type ());
  gather_plugin_module_add_worker (module, isolate_burn_get_type ());
  gather_plugin_module_add_worker (module, isolate_spawn_get_type ());
  gather_plugin_module_add_worker (module, isolate_garbage_get_type ());
  gather_plugin_module_add_worker (module, isolate_touch_get_type ());
  gather_plugin_module_add_worker (module, isolate_shifty_get_type ());
  gather_plugin_module_add_worker (module, isolate_upper_get_type ());
  gather_plugin_module_add_worker (module, isolate_pair_get_type ());
}

GATHER_PLUGIN_DEFINE (isolate, "Workers that misbehave in helper processes", isolate_register)
