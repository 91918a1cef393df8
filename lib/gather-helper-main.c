/* gather-helper-main.c: the helper program, which runs plugin workers for
 * a host process and loads its plugins.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* pipe2(), close_range(), posix_spawn_file_actions_addclosefrom_np(),
 * POSIX_SPAWN_SETSID */
#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "gather-error.h"
#include "gather-helper-private.h"
#include "gather-helper-protocol-private.h"
#include "gather-plugin-file-private.h"
#include "gather-plugin-module-private.h"
#include "gather-registry-private.h"
#include "gather-sched-private.h"
#include "gather-task-record-private.h"
#include "gather-worker-private.h"

/*
 * A helper is two processes. The host starts the supervisor, which forks
 * the worker process and does nothing else:
 *
 * - The worker process runs plugin code. It leads a process group of its
 *   own, so the host kills it and whatever it forked that stayed in the
 *   group with one kill(-pgid, SIGKILL), from the host's timer thread.
 * - The supervisor is a child subreaper: whatever the worker process
 *   spawns, even in another process group or session, and whoever is
 *   orphaned below it, stays below the supervisor. It reaps what dies
 *   there; once the worker process is gone, it kills every process left
 *   below it, reaps them, writes the worker process's wait status to its
 *   status pipe and exits. So when the host sees the supervisor exit, no
 *   process of the helper is left, zombies included (this matters where
 *   init does not reap orphans, as in some containers).
 *
 * The supervisor never runs plugin code and is single-threaded (it forks
 * before GLib starts any thread). It dies with the host thread that
 * started it (PR_SET_PDEATHSIG, SIGTERM: it then kills the worker
 * process's group and cleans up), and the worker process dies with it
 * (SIGKILL). The worker process also exits as soon as its socket reads
 * end-of-file: the host closed it, or died.
 *
 * File descriptors: 0 is /dev/null, 1 and 2 are the host's standard error
 * (plugins' messages are shown, and cannot corrupt the host's standard
 * output), 3 the socket (the worker process's), 4 the status pipe (the
 * supervisor's), 5 the shared word (the worker process maps it, then
 * closes it). Anything else is closed at start, whatever the host
 * leaked.
 */

/* ---- The supervisor ---- */

static volatile pid_t supervised;

static void
supervisor_on_term (int signum)
{
  pid_t pid = supervised;

  if (pid <= 0)
    _exit (0);

  kill (-pid, SIGKILL);
  kill (pid, SIGKILL);
}

/* Kills and reaps every process below the supervisor: its children, then
 * theirs as they are orphaned and reparented here, until none is left. */
static void
supervisor_kill_all (void)
{
  static char buffer[65536];
  char path[64];

  /* Most often nothing is left: whatever the worker process left behind
   * was made ours before we could reap it, so no child means none below. */
  if (waitpid (-1, NULL, WNOHANG) < 0 && errno == ECHILD)
    return;

  g_snprintf (path, sizeof path, "/proc/self/task/%d/children", (int) getpid ());

  for (;;)
    {
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      ssize_t n = 0;

      if (fd >= 0)
        {
          do
            n = read (fd, buffer, sizeof buffer - 1);
          while (n < 0 && errno == EINTR);
          close (fd);
        }

      if (n > 0)
        {
          char *p = buffer;

          buffer[n] = '\0';
          while (*p != '\0')
            {
              char *end;
              long child = strtol (p, &end, 10);

              if (end == p)
                break;
              if (child > 0)
                {
                  /* Its group too: the members become ours when it dies. */
                  kill (-(pid_t) child, SIGKILL);
                  kill ((pid_t) child, SIGKILL);
                }
              p = end;
            }
        }

      if (waitpid (-1, NULL, 0) < 0 && errno == ECHILD)
        return;
    }
}

static int
supervise (pid_t worker)
{
  int status = 0;

  supervised = worker;
  close (GATHER_HELPER_SOCKET_FD);
  close (GATHER_HELPER_SHARED_FD);
  /* The worker process does it too; whichever comes first. */
  setpgid (worker, worker);

  for (;;)
    {
      pid_t pid = waitpid (-1, &status, 0);

      if (pid == worker)
        break;
      if (pid < 0 && errno == ECHILD)
        {
          status = 0;
          break;
        }
      /* An orphan that died below us, or a signal: go on. */
    }

  supervisor_kill_all ();

  /* The host reads it once we are gone. */
  if (write (GATHER_HELPER_STATUS_FD, &status, sizeof status) != sizeof status)
    _exit (1);

  _exit (0);
}

/* ---- The worker process ---- */

static pid_t         host_pid;

/* The task running now, for the cancellation signal. */
static gint          current_serial;      /* atomic; 0 between tasks */
static gint          cancelled_serial;    /* atomic: the last one cancelled */
static int           cancel_pipe[2] = { -1, -1 };
static GMutex        task_lock;
static GCancellable *task_cancellable;    /* guarded by task_lock */
static GCancellable *spare_cancellable;   /* main thread */

/* The frame that says the running task went past its memory limit, made
 * before the limit is set: when GLib cannot allocate, there is no memory
 * to make it. */
static GBytes       *memory_frame;        /* atomic pointer */

/* The serial of the last RUN taken, shared with the host (see
 * gather-helper-protocol-private.h); NULL without it. */
static guint32      *taken;

static GMutex        write_lock;          /* whole frames at a time */
static GatherFrameReader reader = { .trusted = TRUE };   /* main thread */
static GHashTable   *plugins;             /* main thread: path -> module */

/* Async-signal-safe: an atomic store and a write. */
static void
on_cancel_signal (int        signum,
                  siginfo_t *info,
                  void      *context)
{
  int saved_errno = errno;
  gint serial;

  if (info->si_code == SI_QUEUE && info->si_pid == host_pid)
    {
      serial = info->si_value.sival_int;
      g_atomic_int_set (&cancelled_serial, serial);
      if (write (cancel_pipe[1], &serial, sizeof serial) < 0)
        {
          /* Full: the task is cancelled already, or will see the atomic. */
        }
    }

  errno = saved_errno;
}

/* A thread of its own: a signal handler cannot cancel a GCancellable. */
static gpointer
watch_cancellations (gpointer data)
{
  for (;;)
    {
      GCancellable *cancellable = NULL;
      gint serial;
      ssize_t n = read (cancel_pipe[0], &serial, sizeof serial);

      if (n != sizeof serial)
        {
          if (n == 0)
            return NULL;
          continue;
        }

      g_mutex_lock (&task_lock);
      if (task_cancellable != NULL && serial == g_atomic_int_get (&current_serial))
        cancellable = g_object_ref (task_cancellable);
      g_mutex_unlock (&task_lock);

      if (cancellable != NULL)
        {
          g_cancellable_cancel (cancellable);
          g_object_unref (cancellable);
        }
    }
}

static void
write_all (const guint8 *data,
           gsize         length)
{
  while (length > 0)
    {
      ssize_t n = send (GATHER_HELPER_SOCKET_FD, data, length, MSG_NOSIGNAL);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          /* The host is gone. */
          _exit (0);
        }
      data += n;
      length -= (gsize) n;
    }
}

static void
write_frame (GBytes *frame)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (frame, &length);

  g_mutex_lock (&write_lock);
  write_all (data, length);
  g_mutex_unlock (&write_lock);
}

/* @body: (transfer floating) */
static gboolean
send_message (GatherHelperMessage  kind,
              guint32              serial,
              GVariant            *body)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (body);
  g_autoptr(GBytes) frame = gather_helper_frame_encode (kind, serial, owned);

  if (frame == NULL)
    return FALSE;

  write_frame (frame);
  return TRUE;
}

static void
read_message (GatherHelperMessage  *kind,
              guint32              *serial,
              GVariant            **body)
{
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gsize available;
      guint8 *buffer;
      ssize_t n;
      int ready = gather_frame_reader_next (&reader, kind, serial, body, &error);

      if (ready > 0)
        return;
      if (ready < 0)
        {
          g_printerr ("gather-helper: the host sent a bad frame: %s\n", error->message);
          _exit (2);
        }

      buffer = gather_frame_reader_reserve (&reader, &available);
      n = read (GATHER_HELPER_SOCKET_FD, buffer, available);
      if (n == 0)
        _exit (0);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          _exit (0);
        }
      gather_frame_reader_commit (&reader, (gsize) n);
    }
}

/* GLib's allocation failure is a g_error(): tell the host which limit it
 * was before GLib aborts. */
static GLogWriterOutput
helper_log_writer (GLogLevelFlags   log_level,
                   const GLogField *fields,
                   gsize            n_fields,
                   gpointer         user_data)
{
  GBytes *frame = g_atomic_pointer_get (&memory_frame);

  if ((log_level & G_LOG_LEVEL_ERROR) && frame != NULL)
    for (gsize i = 0; i < n_fields; i++)
      if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0 &&
          strstr (fields[i].value, "failed to allocate") != NULL)
        {
          write_frame (frame);
          break;
        }

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

/* The worker the last task ran, and its declaration's digest: most tasks
 * run the one the task before them ran. */
static struct
{
  char         *path;
  char         *name;
  GatherWorker *worker;
  guint64       declaration;
} last_worker;

/* The plugin at @path, loaded here through the registry's checks. */
static GatherWorker *
find_worker (const char  *path,
             const char  *name,
             GError     **error)
{
  GatherPluginModule *module;
  g_autoptr(GPtrArray) workers = NULL;

  /* Plugins stay loaded, so their workers stay. */
  if (last_worker.worker != NULL && g_str_equal (last_worker.name, name) &&
      g_str_equal (last_worker.path, path))
    return last_worker.worker;

  module = g_hash_table_lookup (plugins, path);

  if (module == NULL)
    {
      g_autofree char *directory = g_path_get_dirname (path);
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *real_directory = NULL;
      GatherPluginFile file = GATHER_PLUGIN_FILE_INIT;
      gboolean opened;
      int dir_fd;

      dir_fd = gather_plugin_file_open_directory (directory, NULL, &real_directory, error);
      if (dir_fd < 0)
        return NULL;
      opened = gather_plugin_file_open (dir_fd, real_directory, path, base, NULL, &file, error);
      close (dir_fd);
      if (!opened)
        return NULL;

      /* Plugin code runs here: a crash is the helper's. */
      module = gather_plugin_module_get_for_file (&file);
      g_hash_table_insert (plugins, g_strdup (path), module);
    }

  if (gather_plugin_module_get_error (module) != NULL)
    {
      g_propagate_error (error, g_error_copy (gather_plugin_module_get_error (module)));
      return NULL;
    }

  workers = gather_plugin_module_list_workers (module);
  for (guint i = 0; i < workers->len; i++)
    if (g_str_equal (gather_worker_get_name (g_ptr_array_index (workers, i)), name))
      {
        g_free (last_worker.path);
        g_free (last_worker.name);
        last_worker.path = g_strdup (path);
        last_worker.name = g_strdup (name);
        last_worker.worker = g_ptr_array_index (workers, i);
        last_worker.declaration = gather_worker_declaration_digest (last_worker.worker);
        return last_worker.worker;
      }

  g_set_error (error, GATHER_ERROR, GATHER_ERROR_UNKNOWN_WORKER,
               "Plugin “%s” has no worker named “%s”", path, name);
  return NULL;
}

/* The data segment's size now (VmData), in bytes: what RLIMIT_DATA
 * counts. */
static guint64
current_data_size (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;

  line = strstr (status, "\nVmData:");
  if (line == NULL)
    return 0;

  return g_ascii_strtoull (line + strlen ("\nVmData:"), NULL, 10) * 1024;
}

typedef struct
{
  gboolean      memory;
  gboolean      cpu;
  struct rlimit saved_data;
  struct rlimit saved_cpu;
} Limits;

static char *
format_bytes (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

static void
set_limits (Limits      *limits,
            guint64      memory_limit,
            guint32      cpu_limit)
{
  struct rlimit limit;

  if (memory_limit > 0 && getrlimit (RLIMIT_DATA, &limits->saved_data) == 0)
    {
      g_autofree char *size = format_bytes (memory_limit);
      g_autoptr(GError) error =
        g_error_new (GATHER_ERROR, GATHER_ERROR_LIMIT_EXCEEDED,
                     "went past its memory limit of %s", size);
      guint64 wanted = current_data_size () + memory_limit;

      g_atomic_pointer_set (&memory_frame,
                            gather_helper_frame_encode (GATHER_HELPER_ERROR,
                                                        (guint32) g_atomic_int_get (&current_serial),
                                                        gather_helper_error_to_variant (error)));
      limit = limits->saved_data;
      limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : MIN (wanted, limit.rlim_max);
      limits->memory = setrlimit (RLIMIT_DATA, &limit) == 0;
    }

  if (cpu_limit > 0 && getrlimit (RLIMIT_CPU, &limits->saved_cpu) == 0)
    {
      struct rusage usage;
      guint64 used = 0;
      guint64 wanted;

      if (getrusage (RUSAGE_SELF, &usage) == 0)
        used = (guint64) usage.ru_utime.tv_sec + (guint64) usage.ru_stime.tv_sec +
               (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec + 999999) / 1000000;
      wanted = used + cpu_limit;

      limit = limits->saved_cpu;
      limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : MIN (wanted, limit.rlim_max);
      limits->cpu = setrlimit (RLIMIT_CPU, &limit) == 0;
    }
}

static void
reset_limits (Limits *limits)
{
  GBytes *frame;

  if (limits->memory)
    setrlimit (RLIMIT_DATA, &limits->saved_data);
  if (limits->cpu)
    setrlimit (RLIMIT_CPU, &limits->saved_cpu);

  frame = g_atomic_pointer_exchange (&memory_frame, NULL);
  g_clear_pointer (&frame, g_bytes_unref);
}

static void
run_task (guint32   serial,
          GVariant *body)
{
  g_auto(GatherHelperRequest) request = { NULL, };
  g_autoptr(GVariant) result = NULL;
  GError *error = NULL;
  Limits limits = { FALSE, };
  GCancellable *cancellable;
  GatherWorker *worker = NULL;
  GVariant *parameters;
  const char *name;

  if (!gather_helper_run_parse (body, &request, &error))
    {
      g_printerr ("gather-helper: the host sent a bad frame: %s\n", error->message);
      _exit (2);
    }
  name = request.worker_name;
  parameters = request.parameters;

  worker = find_worker (request.plugin_path, name, &error);

  /* The host checked the parameters against the worker's declaration as
   * it knows it (gather_group_add_worker_task()). If this one declares
   * the same, checking again would cost a trivial task a quarter of its
   * time here; if the plugin file changed since, it is checked.
   * find_worker() left the worker's digest in last_worker. */
  if (worker != NULL &&
      (last_worker.declaration == request.declaration
         ? gather_worker_check_declared (worker, &error)
         : gather_worker_check_parameters (worker, parameters, &error)))
    {
      cancellable = spare_cancellable != NULL ? g_steal_pointer (&spare_cancellable)
                                              : g_cancellable_new ();

      g_mutex_lock (&task_lock);
      task_cancellable = cancellable;
      g_atomic_int_set (&current_serial, (gint) serial);
      g_mutex_unlock (&task_lock);

      /* Cancelled before its frame was read. */
      if (g_atomic_int_get (&cancelled_serial) == (gint) serial)
        g_cancellable_cancel (cancellable);

      set_limits (&limits, request.memory_limit, request.cpu_limit);
      result = gather_worker_invoke (worker, parameters, cancellable, &error);
      reset_limits (&limits);

      g_mutex_lock (&task_lock);
      g_atomic_int_set (&current_serial, 0);
      task_cancellable = NULL;
      if (gather_cancellable_is_unobserved (cancellable))
        spare_cancellable = g_steal_pointer (&cancellable);
      g_mutex_unlock (&task_lock);

      g_clear_object (&cancellable);
    }

  if (result != NULL &&
      !send_message (GATHER_HELPER_RESULT, serial, result))
    {
      g_autofree char *size = format_bytes (g_variant_get_size (result));

      error = g_error_new (GATHER_ERROR, GATHER_ERROR_INVALID_RESULT,
                           "Worker “%s” returned %s, more than an isolated task may return (%u bytes)",
                           name, size, GATHER_HELPER_MAX_FRAME);
    }

  if (error != NULL)
    {
      send_message (GATHER_HELPER_ERROR, serial, gather_helper_error_to_variant (error));
      g_error_free (error);
    }
}

/* Whether the RUN of @serial may start: the host has not taken it back.
 * Called once its frame is read, so after the reply of the task before. */
static gboolean
take_request (guint32 serial)
{
  guint32 last;

  if (taken == NULL)
    return TRUE;

  last = __atomic_load_n (taken, __ATOMIC_SEQ_CST);
  do
    {
      if (last >= serial)
        return FALSE;
    }
  while (!__atomic_compare_exchange_n (taken, &last, serial, FALSE,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));

  return TRUE;
}

/* Maps the shared word, if the host gave one. */
static void
map_shared_word (void)
{
  struct stat info;
  void *map;

  /* None: a helper that loads a catalog. (The word is a memfd: a file.) */
  if (fstat (GATHER_HELPER_SHARED_FD, &info) < 0 || !S_ISREG (info.st_mode))
    return;

  /* Given but unusable: running without it would start requests the
   * host takes back. */
  if (info.st_size < GATHER_HELPER_SHARED_SIZE ||
      (map = mmap (NULL, GATHER_HELPER_SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                   GATHER_HELPER_SHARED_FD, 0)) == MAP_FAILED)
    {
      g_printerr ("gather-helper: cannot map the word shared with the host\n");
      _exit (1);
    }
  taken = map;
  close (GATHER_HELPER_SHARED_FD);
}

/* ---- Loading plugins for an isolated registry ---- */

typedef struct
{
  guint32     serial;
  GHashTable *skip;     /* path -> GError */
} Load;

static gboolean
announce_plugin (const char  *path,
                 GError     **error,
                 gpointer     data)
{
  Load *load = data;
  GError *reason = g_hash_table_lookup (load->skip, path);

  if (reason != NULL)
    {
      g_propagate_error (error, g_error_copy (reason));
      return FALSE;
    }

  send_message (GATHER_HELPER_LOADING, load->serial, g_variant_new_bytestring (path));
  return TRUE;
}

static const char *
or_empty (const char *text)
{
  return text != NULL ? text : "";
}

static void
load_catalog (guint32   serial,
              GVariant *body)
{
  g_autoptr(GatherRegistry) registry = gather_registry_new ();
  g_autoptr(GVariant) directories = NULL;
  g_autoptr(GVariant) skipped = NULL;
  g_autoptr(GPtrArray) workers = NULL;
  g_autoptr(GPtrArray) failures = NULL;
  g_autoptr(GPtrArray) shadowed = NULL;
  g_autoptr(GHashTable) skip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify) g_error_free);
  GVariantBuilder builder;
  GVariantIter iter;
  GVariant *path;
  GVariant *error;
  gboolean required;
  Load load = { serial, skip };

  g_variant_get (body, "(@a(ayb)@a(ay(sis)))", &directories, &skipped);

  g_variant_iter_init (&iter, directories);
  while (g_variant_iter_next (&iter, "(@ayb)", &path, &required))
    {
      const char *directory = g_variant_get_bytestring (path);

      if (g_path_is_absolute (directory))
        gather_registry_add_search_path_full (registry, directory, required);
      g_variant_unref (path);
    }

  g_variant_iter_init (&iter, skipped);
  while (g_variant_iter_next (&iter, "(@ay@(sis))", &path, &error))
    {
      g_hash_table_replace (skip, g_strdup (g_variant_get_bytestring (path)),
                            gather_helper_error_from_variant (error));
      g_variant_unref (path);
      g_variant_unref (error);
    }

  gather_registry_set_load_hook (registry, announce_plugin, &load);
  gather_registry_load (registry);

  workers = gather_registry_list_workers (registry);
  failures = gather_registry_list_failures (registry);
  shadowed = gather_registry_list_shadowed (registry);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("(a(ssssa(sssu)ay)a(ay(sis))a(ayay))"));

  g_variant_builder_open (&builder, G_VARIANT_TYPE ("a(ssssa(sssu)ay)"));
  for (guint i = 0; i < workers->len; i++)
    {
      GatherWorker *worker = g_ptr_array_index (workers, i);
      g_autoptr(GPtrArray) parameters = gather_worker_list_parameters (worker);

      g_variant_builder_open (&builder, G_VARIANT_TYPE ("(ssssa(sssu)ay)"));
      g_variant_builder_add (&builder, "s", gather_worker_get_name (worker));
      g_variant_builder_add (&builder, "s", or_empty (gather_worker_get_description (worker)));
      g_variant_builder_add (&builder, "s", gather_worker_get_parameter_type (worker));
      g_variant_builder_add (&builder, "s", gather_worker_get_result_type (worker));
      g_variant_builder_open (&builder, G_VARIANT_TYPE ("a(sssu)"));
      for (guint j = 0; j < parameters->len; j++)
        {
          GatherParameter *parameter = g_ptr_array_index (parameters, j);

          g_variant_builder_add (&builder, "(sssu)", parameter->name, parameter->type,
                                 or_empty (parameter->description), (guint32) parameter->flags);
        }
      g_variant_builder_close (&builder);
      g_variant_builder_add_value (&builder,
                                   g_variant_new_bytestring (or_empty (gather_worker_get_plugin_path (worker))));
      g_variant_builder_close (&builder);
    }
  g_variant_builder_close (&builder);

  g_variant_builder_open (&builder, G_VARIANT_TYPE ("a(ay(sis))"));
  for (guint i = 0; i < failures->len; i++)
    {
      GatherPluginFailure *failure = g_ptr_array_index (failures, i);

      g_variant_builder_add (&builder, "(@ay@(sis))",
                             g_variant_new_bytestring (gather_plugin_failure_get_path (failure)),
                             gather_helper_error_to_variant (gather_plugin_failure_get_error (failure)));
    }
  g_variant_builder_close (&builder);

  g_variant_builder_open (&builder, G_VARIANT_TYPE ("a(ayay)"));
  for (guint i = 0; i < shadowed->len; i++)
    {
      GatherShadowedPlugin *plugin = g_ptr_array_index (shadowed, i);

      g_variant_builder_add (&builder, "(@ay@ay)",
                             g_variant_new_bytestring (gather_shadowed_plugin_get_path (plugin)),
                             g_variant_new_bytestring (gather_shadowed_plugin_get_shadowed_by (plugin)));
    }
  g_variant_builder_close (&builder);

  send_message (GATHER_HELPER_CATALOG, serial, g_variant_builder_end (&builder));
}

static int
work (void)
{
  struct sigaction action = { 0 };
  sigset_t unblock;

  /* First: before anything else can open a descriptor as 5. */
  map_shared_word ();

  g_set_prgname ("gather-helper");
  g_log_set_writer_func (helper_log_writer, NULL, NULL);
  gather_task_record_init_once ();
  plugins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (pipe2 (cancel_pipe, O_CLOEXEC) < 0 ||
      !g_unix_set_fd_nonblocking (cancel_pipe[1], TRUE, NULL))
    return 1;

  action.sa_sigaction = on_cancel_signal;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset (&action.sa_mask);
  sigaction (GATHER_HELPER_CANCEL_SIGNAL, &action, NULL);
  sigemptyset (&unblock);
  sigaddset (&unblock, GATHER_HELPER_CANCEL_SIGNAL);
  pthread_sigmask (SIG_UNBLOCK, &unblock, NULL);

  g_thread_unref (g_thread_new ("gather-helper-cancel", watch_cancellations, NULL));

  send_message (GATHER_HELPER_HELLO, 0,
                g_variant_new ("(ut)", (guint32) GATHER_HELPER_PROTOCOL_VERSION,
                               (guint64) getpid ()));

  for (;;)
    {
      g_autoptr(GVariant) body = NULL;
      GatherHelperMessage kind;
      guint32 serial;

      read_message (&kind, &serial, &body);

      switch (kind)
        {
        case GATHER_HELPER_RUN:
          if (take_request (serial))
            run_task (serial, body);
          break;

        case GATHER_HELPER_LOAD:
          load_catalog (serial, body);
          break;

        case GATHER_HELPER_HELLO:
        case GATHER_HELPER_RESULT:
        case GATHER_HELPER_ERROR:
        case GATHER_HELPER_LOADING:
        case GATHER_HELPER_CATALOG:
        default:
          g_printerr ("gather-helper: the host sent a %s frame\n",
                      gather_helper_message_name (kind));
          _exit (2);
        }
    }
}

/* See gather-helper-private.h. */
int
gather_private_helper_main (int    argc,
                            char **argv)
{
  struct sigaction action = { 0 };
  guint64 version = 0;
  guint64 host = 0;
  pid_t supervisor;
  pid_t worker;

  if (argc != 3 ||
      !g_ascii_string_to_unsigned (argv[1], 10, 1, G_MAXUINT32, &version, NULL) ||
      !g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXINT32, &host, NULL))
    {
      fprintf (stderr, "%s: this program runs plugin workers for libgather, "
               "which starts it; it is not meant to be run by hand\n",
               argc > 0 ? argv[0] : "gather-helper");
      return 2;
    }

  if (version != GATHER_HELPER_PROTOCOL_VERSION)
    {
      fprintf (stderr, "%s: libgather asked for helper protocol %" G_GUINT64_FORMAT
               "; this helper speaks protocol %u\n", argv[0], version,
               GATHER_HELPER_PROTOCOL_VERSION);
      return 2;
    }

  host_pid = (pid_t) host;

  /* Whatever the host leaked. */
  close_range (GATHER_HELPER_SHARED_FD + 1, ~0U, 0);

  action.sa_handler = supervisor_on_term;
  sigemptyset (&action.sa_mask);
  sigaction (SIGTERM, &action, NULL);

  prctl (PR_SET_CHILD_SUBREAPER, 1);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != host_pid)
    return 0;

  supervisor = getpid ();
  worker = fork ();
  if (worker < 0)
    return 1;
  if (worker > 0)
    return supervise (worker);

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != supervisor)
    _exit (0);
  setpgid (0, 0);
  signal (SIGTERM, SIG_DFL);
  close (GATHER_HELPER_STATUS_FD);
  /* Plugin code runs under SCHED_BATCH, as on pool threads (see
   * gather-sched.c): a request that wakes the worker process does not
   * preempt the host's thread that sent it, which goes on sending the
   * requests behind it. The supervisor keeps the host's policy: it is on
   * the path from a kill to the outcome. */
  gather_sched_set_batch (TRUE);

  return work ();
}
