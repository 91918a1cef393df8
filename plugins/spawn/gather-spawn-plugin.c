/* gather-spawn-plugin.c: the "spawn" worker, which runs a command.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <glib-unix.h>
#include <libgather.h>

/* Bytes of each output stream kept by default. */
#define SPAWN_DEFAULT_MAX_OUTPUT 1048576

/* Bytes asked for by each read of an output pipe: a Linux pipe's default
 * capacity. */
#define SPAWN_READ_SIZE 65536

#define SPAWN_TYPE_WORKER (spawn_worker_get_type ())
G_DECLARE_FINAL_TYPE (SpawnWorker, spawn_worker, SPAWN, WORKER, GObject)

/*
 * SpawnWorker:
 *
 * Runs a command with [class@Gio.Subprocess] and returns how it ended and
 * what it printed. The run function keeps all its state on its own stack
 * and in a private [struct@GLib.MainContext], so it may run on several
 * threads at once.
 *
 * The child's standard input is always a pipe: the "stdin" text is written
 * to it, then it is closed, so the child never reads the parent's. Both
 * output pipes are read to their end; past "max-output" bytes the output is
 * read and dropped, so the child never blocks on a full pipe. When the task
 * is cancelled the child is killed and reaped before the run returns.
 */
struct _SpawnWorker
{
  GObject parent_instance;
};

static void spawn_worker_iface_init (GatherWorkerInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SpawnWorker, spawn_worker, G_TYPE_OBJECT, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (GATHER_TYPE_WORKER,
                                                               spawn_worker_iface_init))

static const GatherParameter spawn_parameters[] = {
  { "argv", "as", "The program and its arguments; a program without a slash "
                  "is looked up in PATH", GATHER_PARAMETER_REQUIRED },
  { "stdin", "s", "Text written to the program's standard input, which is then "
                  "closed; by default the input is empty", GATHER_PARAMETER_NONE },
  { "cwd", "s", "The directory to run the program in", GATHER_PARAMETER_NONE },
  { "max-output", "u", "Bytes of standard output and of standard error to keep "
                       "(default 1048576); the rest is read and dropped",
    GATHER_PARAMETER_NONE },
};

typedef struct _SpawnRun SpawnRun;

/* One output pipe of the child and what is kept of it. */
typedef struct
{
  SpawnRun     *run;        /* (unowned) */
  GInputStream *stream;     /* (unowned): the subprocess's */
  GString      *kept;       /* (owned): at most @max bytes */
  gsize         max;
  gboolean      truncated;  /* bytes were dropped */
  guint8       *buffer;     /* (owned): SPAWN_READ_SIZE bytes */
} SpawnOutput;

/* One call of the run function. It lives on that call's stack; every
 * callback below runs on the calling thread, in @context. */
struct _SpawnRun
{
  GMainContext *context;         /* (owned): private, thread-default while running */
  GSubprocess  *subprocess;      /* (owned) */
  GCancellable *io_cancellable;  /* (owned): stops the pipe I/O */
  guint         n_pending;       /* asynchronous operations not yet finished */
  gint          cancel_request;  /* atomic: set by the task's cancellable, on any thread */
  gboolean      cancelled;       /* the cancellation was acted on */
  gboolean      broken_pipe;     /* writing the input raised SIGPIPE */
  GError       *error;           /* (owned) (nullable): the first I/O failure */
  SpawnOutput   out;
  SpawnOutput   err;
};

/* Kills the child and stops reading and writing its pipes. The wait for
 * the child, which has no cancellable, goes on until it is reaped. */
static void
spawn_run_stop (SpawnRun *run)
{
  g_subprocess_force_exit (run->subprocess);
  g_cancellable_cancel (run->io_cancellable);
}

/* Takes @error: the run fails with it, unless it failed or was cancelled
 * already. */
static void
spawn_run_fail (SpawnRun *run,
                GError   *error)
{
  if (run->error == NULL && !run->cancelled &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    run->error = g_steal_pointer (&error);

  g_clear_error (&error);
  spawn_run_stop (run);
}

/* Runs on the thread that cancels the task: only flags the run and wakes
 * its context, where the loop in spawn_worker_run() stops the child.
 * (A GCancellableSource would do the same, but GLib 2.74 can leak one that
 * is destroyed while another thread is still emitting "cancelled".) */
static void
spawn_run_cancelled (GCancellable *cancellable,
                     gpointer      data)
{
  SpawnRun *run = data;

  g_atomic_int_set (&run->cancel_request, TRUE);
  g_main_context_wakeup (run->context);
}

static void
spawn_run_exited (GObject      *object,
                  GAsyncResult *result,
                  gpointer      data)
{
  SpawnRun *run = data;
  GError *error = NULL;

  if (!g_subprocess_wait_finish (G_SUBPROCESS (object), result, &error))
    spawn_run_fail (run, error);

  run->n_pending--;
}

static void spawn_output_read (SpawnOutput *output);

static void
spawn_output_read_done (GObject      *object,
                        GAsyncResult *result,
                        gpointer      data)
{
  SpawnOutput *output = data;
  SpawnRun *run = output->run;
  GError *error = NULL;
  gssize n_read;

  n_read = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);

  if (n_read > 0)
    {
      gsize keep = MIN ((gsize) n_read, output->max - output->kept->len);

      g_string_append_len (output->kept, (const char *) output->buffer, keep);
      if (keep < (gsize) n_read)
        output->truncated = TRUE;

      /* Still pending: the next read takes over. */
      spawn_output_read (output);
      return;
    }

  if (n_read < 0)
    spawn_run_fail (run, error);

  run->n_pending--;
}

static void
spawn_output_read (SpawnOutput *output)
{
  g_input_stream_read_async (output->stream, output->buffer, SPAWN_READ_SIZE,
                             G_PRIORITY_DEFAULT, output->run->io_cancellable,
                             spawn_output_read_done, output);
}

static void
spawn_output_init (SpawnOutput  *output,
                   SpawnRun     *run,
                   GInputStream *stream,
                   gsize         max)
{
  output->run = run;
  output->stream = stream;
  output->kept = g_string_new (NULL);
  output->max = max;
  output->truncated = FALSE;
  output->buffer = g_malloc (SPAWN_READ_SIZE);
}

static void
spawn_output_clear (SpawnOutput *output)
{
  if (output->kept != NULL)
    g_string_free (g_steal_pointer (&output->kept), TRUE);
  g_clear_pointer (&output->buffer, g_free);
}

/* Closes the child's standard input, so that it reads the end of it. */
static void
spawn_run_close_stdin (SpawnRun *run)
{
  GOutputStream *stream = g_subprocess_get_stdin_pipe (run->subprocess);
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_close (stream, NULL, &error))
    g_debug ("Could not close the standard input of a child: %s", error->message);
}

static void
spawn_run_stdin_written (GObject      *object,
                         GAsyncResult *result,
                         gpointer      data)
{
  SpawnRun *run = data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      /* A child may exit, or close its input, without reading all of it:
       * that is up to the child, and not a failure of the run. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
        {
          run->broken_pipe = TRUE;
          g_clear_error (&error);
        }
      else
        {
          spawn_run_fail (run, error);
        }
    }

  spawn_run_close_stdin (run);
  run->n_pending--;
}

/* Starts writing @text to the child's standard input, which GIO opens in
 * blocking mode: a blocking write of more than the pipe holds would wait
 * for the child, deaf to cancellation, so make our end non-blocking. The
 * child's end is its own open file description, which this does not
 * change. */
static void
spawn_run_write_stdin (SpawnRun   *run,
                       const char *text)
{
  GOutputStream *stream = g_subprocess_get_stdin_pipe (run->subprocess);
  int fd = -1;

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (stream), "fd") != NULL)
    g_object_get (stream, "fd", &fd, NULL);
  if (fd >= 0)
    g_unix_set_fd_nonblocking (fd, TRUE, NULL);

  run->n_pending++;
  g_output_stream_write_all_async (stream, text, strlen (text), G_PRIORITY_DEFAULT,
                                   run->io_cancellable, spawn_run_stdin_written, run);
}

/* Consumes the SIGPIPEs that writing to a closed pipe raised on this
 * thread while they were blocked. */
static void
spawn_drain_sigpipe (const sigset_t *sigpipe)
{
  const struct timespec now = { 0, 0 };

  for (;;)
    {
      int signum = sigtimedwait (sigpipe, NULL, &now);

      if (signum == -1 && errno == EINTR)
        continue;
      if (signum != SIGPIPE)
        break;
    }
}

static GVariant *
spawn_run_result (SpawnRun *run)
{
  GSubprocess *subprocess = run->subprocess;
  gint32 exit_status = -1;
  gint32 term_sig = 0;
  GVariantBuilder builder;

  if (g_subprocess_get_if_exited (subprocess))
    exit_status = g_subprocess_get_exit_status (subprocess);
  else if (g_subprocess_get_if_signaled (subprocess))
    term_sig = g_subprocess_get_term_sig (subprocess);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "exit-status", g_variant_new_int32 (exit_status));
  g_variant_builder_add (&builder, "{sv}", "signal", g_variant_new_int32 (term_sig));
  g_variant_builder_add (&builder, "{sv}", "stdout",
                         g_variant_new_take_string (g_utf8_make_valid (run->out.kept->str,
                                                                       run->out.kept->len)));
  g_variant_builder_add (&builder, "{sv}", "stderr",
                         g_variant_new_take_string (g_utf8_make_valid (run->err.kept->str,
                                                                       run->err.kept->len)));
  g_variant_builder_add (&builder, "{sv}", "stdout-truncated",
                         g_variant_new_boolean (run->out.truncated));
  g_variant_builder_add (&builder, "{sv}", "stderr-truncated",
                         g_variant_new_boolean (run->err.truncated));

  return g_variant_builder_end (&builder);
}

static GVariant *
spawn_worker_run (GatherWorker  *worker,
                  GVariant      *parameters,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree const char **argv = NULL;
  const char *stdin_text = NULL;
  const char *cwd = NULL;
  guint32 max_output = SPAWN_DEFAULT_MAX_OUTPUT;
  SpawnRun run = { 0 };
  gulong cancelled_id = 0;
  GVariant *result = NULL;
  gboolean block_sigpipe;
  sigset_t sigpipe;
  sigset_t old_mask;

  if (!g_variant_lookup (parameters, "argv", "^a&s", &argv) ||
      argv[0] == NULL || *argv[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Parameter “argv” of worker “spawn” must hold at least "
                           "the program to run, and the program must not be empty");
      return NULL;
    }

  g_variant_lookup (parameters, "stdin", "&s", &stdin_text);
  g_variant_lookup (parameters, "cwd", "&s", &cwd);
  g_variant_lookup (parameters, "max-output", "u", &max_output);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);

  /* GLib's message names the program, or the directory it could not
   * enter. */
  run.subprocess = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, error);
  if (run.subprocess == NULL)
    return NULL;

  /* After the spawn, so that the child does not inherit the mask: a write
   * to a child that closed its input raises SIGPIPE on this thread, which
   * would kill the process. */
  block_sigpipe = stdin_text != NULL && *stdin_text != '\0';
  sigemptyset (&sigpipe);
  sigaddset (&sigpipe, SIGPIPE);
  if (block_sigpipe)
    pthread_sigmask (SIG_BLOCK, &sigpipe, &old_mask);

  run.context = g_main_context_new ();
  run.io_cancellable = g_cancellable_new ();
  spawn_output_init (&run.out, &run, g_subprocess_get_stdout_pipe (run.subprocess), max_output);
  spawn_output_init (&run.err, &run, g_subprocess_get_stderr_pipe (run.subprocess), max_output);

  g_main_context_push_thread_default (run.context);

  /* Runs the handler at once if the task was cancelled since the check
   * above. */
  if (cancellable != NULL)
    cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (spawn_run_cancelled),
                                          &run, NULL);

  /* No cancellable: once started, the child is always waited for. */
  run.n_pending++;
  g_subprocess_wait_async (run.subprocess, NULL, spawn_run_exited, &run);

  run.n_pending += 2;
  spawn_output_read (&run.out);
  spawn_output_read (&run.err);

  if (block_sigpipe)
    spawn_run_write_stdin (&run, stdin_text);
  else
    spawn_run_close_stdin (&run);

  /* A wakeup after the flag is set makes the iteration return even if
   * nothing was dispatched. */
  while (run.n_pending > 0)
    {
      if (!run.cancelled && g_atomic_int_get (&run.cancel_request))
        {
          run.cancelled = TRUE;
          spawn_run_stop (&run);
        }
      else
        {
          g_main_context_iteration (run.context, TRUE);
        }
    }

  /* Waits for a handler running on another thread: the run is ours. */
  g_cancellable_disconnect (cancellable, cancelled_id);

  g_main_context_pop_thread_default (run.context);

  if (block_sigpipe)
    {
      if (run.broken_pipe)
        spawn_drain_sigpipe (&sigpipe);
      pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
    }

  if (run.cancelled)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                         "The command was cancelled and killed");
  else if (run.error != NULL)
    g_propagate_error (error, g_steal_pointer (&run.error));
  else
    result = spawn_run_result (&run);

  g_clear_error (&run.error);
  spawn_output_clear (&run.out);
  spawn_output_clear (&run.err);
  g_clear_object (&run.io_cancellable);
  g_clear_object (&run.subprocess);
  g_main_context_unref (run.context);

  return result;
}

static void
spawn_worker_iface_init (GatherWorkerInterface *iface)
{
  iface->name = "spawn";
  iface->description = "Runs a command and returns its exit status and output";
  iface->parameter_type = "a{sv}";
  iface->parameters = spawn_parameters;
  iface->n_parameters = G_N_ELEMENTS (spawn_parameters);
  iface->result_type = "a{sv}";
  iface->run = spawn_worker_run;
}

static void
spawn_worker_class_init (SpawnWorkerClass *klass)
{
}

static void
spawn_worker_class_finalize (SpawnWorkerClass *klass)
{
}

static void
spawn_worker_init (SpawnWorker *self)
{
}

static void
spawn_register (GatherPluginModule *module)
{
  spawn_worker_register_type (G_TYPE_MODULE (module));
  gather_plugin_module_add_worker (module, SPAWN_TYPE_WORKER);
}

GATHER_PLUGIN_DEFINE (spawn, "Runs commands and collects their exit status and output",
                      spawn_register)
