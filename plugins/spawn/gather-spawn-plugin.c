/* gather-spawn-plugin.c: the "spawn" worker, which runs a command.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <glib-unix.h>
#include <libgather.h>

/* Bytes of each output stream kept by default, and at most. */
#define SPAWN_DEFAULT_MAX_OUTPUT 1048576
#define SPAWN_MAX_MAX_OUTPUT     (256 * 1048576)

/* Bytes of standard error quoted in the error of a failed command. */
#define SPAWN_ERROR_EXCERPT 200

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
 *
 * The child leads a process group of its own. When it exits, or the task
 * is cancelled, whatever is left in that group (a shell's background
 * job, a grandchild still holding the pipes) is killed: nothing a task
 * started outlives it. By default a command that exits with a status
 * other than 0, or is killed by a signal, fails the task ("check").
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
  { "argv", "aay", "The program and its arguments, as byte strings (file names need not "
                   "be UTF-8); a program without a slash is looked up in PATH",
    GATHER_PARAMETER_REQUIRED },
  { "stdin", "s", "Text written to the program's standard input, which is then "
                  "closed; by default the input is empty", GATHER_PARAMETER_NONE },
  { "cwd", "ay", "The directory to run the program in", GATHER_PARAMETER_NONE },
  { "max-output", "u", "Bytes of standard output and of standard error to keep "
                       "(default 1048576, at most 268435456); the rest is read and dropped",
    GATHER_PARAMETER_NONE },
  { "check", "b", "Whether a status other than 0, or a signal, fails the task "
                  "(default true); when false it is only reported in the result",
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
  pid_t         pgid;            /* the child's process group: its pid */
  GCancellable *io_cancellable;  /* (owned): stops the pipe I/O */
  guint         n_pending;       /* asynchronous operations not yet finished */
  gint          cancel_request;  /* atomic: set by the task's cancellable, on any thread */
  gboolean      cancelled;       /* the cancellation was acted on */
  gboolean      broken_pipe;     /* writing the input raised SIGPIPE */
  GError       *error;           /* (owned) (nullable): the first I/O failure */
  SpawnOutput   out;
  SpawnOutput   err;
};

/* Kills what is left of the child's process group. Before the child
 * has called setpgid() the group does not exist yet, and the child is
 * killed by its pid; after it has been reaped, the group lives on while
 * any of its members does. */
static void
spawn_run_kill_group (SpawnRun *run)
{
  if (run->pgid > 0)
    kill (-run->pgid, SIGKILL);
}

/* Kills the child and its group and stops reading and writing its pipes.
 * The wait for the child, which has no cancellable, goes on until it is
 * reaped. */
static void
spawn_run_stop (SpawnRun *run)
{
  spawn_run_kill_group (run);
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

  /* The command is over: so is anything it left running, which would
   * otherwise outlive the task (and keep the pipes open). */
  spawn_run_kill_group (run);

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

/* The descriptor on which the child tells its pid, in the child. */
#define SPAWN_PID_FD 3

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
spawn_child_setup (gpointer data)
{
  pid_t pid = getpid ();

  /* A process group of its own, so that the command and everything it
   * starts can be killed at once. */
  setpgid (0, 0);
  /* Killed if the thread that started it dies (a killed gather), rather
   * than orphaned. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* GSubprocess forgets the pid once the child is reaped, which can
   * happen before the spawn call returns: tell it through a pipe, which
   * the program does not inherit. */
  if (write (SPAWN_PID_FD, &pid, sizeof pid) != sizeof pid)
    _exit (127);
  close (SPAWN_PID_FD);
}

/* A byte string, with or without the terminating NUL that
 * g_variant_new_bytestring() adds; NULL if a NUL is inside. */
static char *
spawn_dup_bytestring (GVariant *value)
{
  gsize length = 0;
  const char *bytes = g_variant_get_fixed_array (value, &length, 1);

  if (length > 0 && bytes[length - 1] == '\0')
    length--;
  if (length > 0 && memchr (bytes, '\0', length) != NULL)
    return NULL;

  return length > 0 ? g_strndup (bytes, length) : g_strdup ("");
}

static gboolean
spawn_bad_bytestring (const char  *key,
                      GError     **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Parameter “%s” of worker “spawn” holds a NUL byte inside a byte string", key);
  return FALSE;
}

static char **
spawn_dup_argv (GVariant  *parameters,
                GError   **error)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (parameters, "argv",
                                                      G_VARIANT_TYPE_BYTESTRING_ARRAY);
  gsize n = value != NULL ? g_variant_n_children (value) : 0;
  g_auto(GStrv) argv = g_new0 (char *, n + 1);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) word = g_variant_get_child_value (value, i);

      argv[i] = spawn_dup_bytestring (word);
      if (argv[i] == NULL)
        {
          spawn_bad_bytestring ("argv", error);
          return NULL;
        }
    }

  if (argv[0] == NULL || *argv[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Parameter “argv” of worker “spawn” must hold at least "
                           "the program to run, and the program must not be empty");
      return NULL;
    }

  return g_steal_pointer (&argv);
}

/* With "check": a command that did not exit with status 0 fails the task,
 * as g_spawn_check_wait_status() would say, quoting the start of what it
 * wrote on standard error. */
static gboolean
spawn_run_check (SpawnRun    *run,
                 const char  *program,
                 GError     **error)
{
  GSubprocess *subprocess = run->subprocess;
  g_autofree char *name = g_filename_display_name (program);
  g_autofree char *excerpt = NULL;
  g_autofree char *quoted = NULL;

  if (g_subprocess_get_if_exited (subprocess) && g_subprocess_get_exit_status (subprocess) == 0)
    return TRUE;

  excerpt = g_utf8_make_valid (run->err.kept->str, MIN (run->err.kept->len, SPAWN_ERROR_EXCERPT));
  g_strstrip (g_strdelimit (excerpt, "\r\n\t", ' '));
  quoted = *excerpt != '\0' ? g_strdup_printf (": %s%s", excerpt,
                                               run->err.kept->len > SPAWN_ERROR_EXCERPT ? "…" : "")
                            : g_strdup ("");

  if (g_subprocess_get_if_exited (subprocess))
    g_set_error (error, G_SPAWN_EXIT_ERROR, g_subprocess_get_exit_status (subprocess),
                 "“%s” exited with status %d%s", name,
                 g_subprocess_get_exit_status (subprocess), quoted);
  else
    g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                 "“%s” was killed by signal %d (%s)%s", name,
                 g_subprocess_get_term_sig (subprocess),
                 g_strsignal (g_subprocess_get_term_sig (subprocess)), quoted);
  return FALSE;
}

static GVariant *
spawn_worker_run (GatherWorker  *worker,
                  GVariant      *parameters,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GVariant) cwd_value = NULL;
  g_auto(GStrv) argv = NULL;
  g_autofree char *cwd = NULL;
  const char *stdin_text = NULL;
  guint32 max_output = SPAWN_DEFAULT_MAX_OUTPUT;
  gboolean check = TRUE;
  SpawnRun run = { 0 };
  gulong cancelled_id = 0;
  GVariant *result = NULL;
  gboolean block_sigpipe;
  sigset_t sigpipe;
  sigset_t old_mask;
  int pid_pipe[2];

  argv = spawn_dup_argv (parameters, error);
  if (argv == NULL)
    return NULL;

  g_variant_lookup (parameters, "stdin", "&s", &stdin_text);
  g_variant_lookup (parameters, "max-output", "u", &max_output);
  g_variant_lookup (parameters, "check", "b", &check);
  cwd_value = g_variant_lookup_value (parameters, "cwd", G_VARIANT_TYPE_BYTESTRING);
  if (cwd_value != NULL)
    {
      cwd = spawn_dup_bytestring (cwd_value);
      if (cwd == NULL)
        {
          spawn_bad_bytestring ("cwd", error);
          return NULL;
        }
    }

  if (max_output > SPAWN_MAX_MAX_OUTPUT)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Parameter “max-output” of worker “spawn” must be at most %u, not %u",
                   SPAWN_MAX_MAX_OUTPUT, max_output);
      return NULL;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, spawn_child_setup, NULL, NULL);
  if (!g_unix_open_pipe (pid_pipe, FD_CLOEXEC, error))
    return NULL;
  g_subprocess_launcher_take_fd (launcher, pid_pipe[1], SPAWN_PID_FD);
  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);

  /* GLib's message names the program, or the directory it could not
   * enter. */
  run.subprocess = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, error);
  g_clear_object (&launcher);   /* closes our copy of the pipe's write end */
  if (run.subprocess == NULL)
    {
      close (pid_pipe[0]);
      return NULL;
    }
  /* The child wrote before exec, and the spawn returned after it. */
  if (read (pid_pipe[0], &run.pgid, sizeof run.pgid) != sizeof run.pgid)
    run.pgid = 0;
  close (pid_pipe[0]);

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
  else if (!check || spawn_run_check (&run, argv[0], error))
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
  iface->description = "Runs a command and returns its exit status and output; "
                       "a failed command fails the task unless check is false";
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
