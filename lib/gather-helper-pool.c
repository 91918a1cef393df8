/* gather-helper-pool.c: the helper processes of each GatherPool, and the
 * thread that talks to them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* pipe2(), close_range(), posix_spawn_file_actions_addclosefrom_np(),
 * POSIX_SPAWN_SETSID */
#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "gather-error.h"
#include "gather-helper-pool-private.h"
#include "gather-helper-protocol-private.h"
#include "gather-sched-private.h"
#include "gather-inbox-private.h"
#include "gather-runner-private.h"
#include "gather-worker-private.h"


/*
 * Every GatherPool that runs isolated tasks gets a GatherHelperPool (its
 * qdata): up to max-threads helper processes, started when tasks are
 * waiting for one, then kept and reused, and a queue of the records that
 * wait for a free helper. A helper runs one task at a time, and what it
 * was sent and has not started is taken back before it is killed, so
 * killing a helper ends one task; only the requests a broken helper says
 * it took end with it (with an error: they never run twice).
 *
 * Queued requests. Once every helper the pool may have runs a task, a
 * helper is also sent up to GATHER_HELPER_MAX_QUEUED more requests of the
 * same run, which it starts one after the other without waiting for the
 * host (see gather-helper-protocol-private.h for the shared word that
 * makes this safe). Such a record is not begun until the host reads the
 * reply of the one before it: its timeout counts from there. The host
 * takes back what a helper has not started whenever it must:
 * - its task is stopped (the requests behind it go to other helpers, and
 *   a request not started yet is never started);
 * - before it kills the helper (if the helper has started a later
 *   request, the task the kill was for has returned and its reply is on
 *   its way: the kill is put off by one grace period, and happens then
 *   only if the reply has still not come);
 * - a helper falls idle while another has requests waiting (they go to
 *   the idle one);
 * - the helper ended or broke.
 * A record taken back goes to the head of the pool's queue, still not
 * begun. A request the helper took while the host could not begin it any
 * more (the run stopped in the instant between the two) makes a "ghost":
 * the record is skipped, as the stop decided, and the helper is asked to
 * cancel the request at once and killed at the end of its grace period
 * if it has not returned, so that nothing of it runs on.
 *
 * One thread, "gather-helpers", serves the helpers of every pool: it polls
 * their sockets (replies) and status pipes (the supervisor exited: the
 * helper is gone, every process of it reaped), decides when to start
 * helpers, and hands queued records to helpers that became free. The
 * owner's context hands a record to an idle helper itself, without waking
 * that thread; the timer thread asks a helper to cancel (a signal) and
 * kills it at the end of the grace period. Helpers are started by another
 * thread, "gather-spawner", so that the millisecond a start takes holds up
 * nothing else; it lives as long as the process, because a supervisor
 * dies with the thread that started it (PR_SET_PDEATHSIG).
 *
 * Locking: helpers_lock guards every pool and helper field marked so. It
 * is taken before the timer lock (gather_timer_*()), never after, and never
 * held while a record moves (gather_task_record_begin() and _finish() take
 * the inbox's lock).
 *
 * Records: a pool borrows the records it queues or runs, as a GatherPool
 * does; the owner releases one only after its last event, which comes from
 * here (RETURNED, SETTLED) or from gather_task_record_begin() (SKIPPED). A
 * record's user data (GatherWorkerTask) may be destroyed as soon as the
 * record is finished, so it is read only while the record is ours.
 */

#define START_TIMEOUT_USEC   (10 * G_USEC_PER_SEC)
#define RETIRE_TIMEOUT_USEC  (5 * G_USEC_PER_SEC)
#define MAX_SPARE_CANCELLABLES 64
/* How often the queue of a pool whose records wait for a helper is swept
 * for the records of stopped runs. */
#define SWEEP_INTERVAL_USEC  (50 * 1000)

typedef struct _GatherHelper GatherHelper;

typedef enum
{
  HELPER_STARTING,   /* spawned; no HELLO yet */
  HELPER_IDLE,
  HELPER_BUSY,       /* runs helper->record */
  HELPER_ENDED,      /* its supervisor reported the end of its worker
                      * process: every process of the task is reaped;
                      * the supervisor exits */
  HELPER_GONE,       /* its supervisor exited and was reaped */
} HelperState;

struct _GatherHelperPool
{
  gint          ref_count;      /* atomic: the GatherPool's qdata, the list */
  GCond         gone;           /* a retiring pool lost its last helper */

  /* Guarded by helpers_lock. */
  guint         max_helpers;
  guint         target;         /* helpers it keeps: grows with demand */
  GQueue        queue;          /* GatherTaskRecord, borrowed */
  GPtrArray    *helpers;        /* GatherHelper, one reference each */
  guint         n_ended;        /* ... of which ENDED, not reaped yet */
  guint         n_spawning;     /* helpers being started off the lock */
  guint         n_failed;       /* helpers that died before their HELLO */
  GError       *start_error;    /* why the last one did */
  gboolean      retiring;       /* its GatherPool is gone */
  gint64        next_sweep;     /* when to look for stopped records */
  gint64        held_since;     /* since then a wanted helper waits for
                                 * a kill (see hold_start_locked()); 0 if
                                 * none is near or no helper wanted */
};

struct _GatherHelper
{
  gint              ref_count;      /* atomic: the pool's list, the kill
                                     * timer, whoever uses it for a while */
  GatherHelperPool *pool;           /* strong */

  /* Set when it is started; closed with the last reference. */
  GatherHelperProcess process;
  gint64            start_deadline;

  /* The serial of the last request it took, shared with its worker
   * process (which may write anything there); NULL if there is no shared
   * word: then it is sent no queued requests. */
  guint32          *taken;

  /* Guarded by helpers_lock. */
  HelperState       state;
  GPid              worker_pid;     /* from its HELLO, checked; 0 before */
  int               worker_pidfd;   /* -1 if none (no pidfd, valgrind) */
  GatherTaskRecord *record;         /* BUSY: the task it runs, NULL for a
                                     * ghost (see above) */
  gboolean          begun;          /* ... which has begun: until then it
                                     * is its starter's (helper_start_task)
                                     * and nobody else may finish it */
  gboolean          sent;           /* ... whose request is sent */
  gboolean          stopped;        /* ... which was stopped: nothing more
                                     * is queued behind it */
  gboolean          kill_deferred;  /* ... whose kill was put off once */
  guint32           serial;         /* ... and its serial */
  guint             grace_msec;     /* ... and its grace period */
  GRefString       *description;    /* ... and what it is, for messages */
  guint64           memory_limit;
  guint32           cpu_limit;
  guint32           kill_serial;    /* the task the kill timer is for */
  gint64            kill_at;        /* ... and when it fires */
  gboolean          killed;         /* SIGKILL was sent */
  char             *broke;          /* why: it broke the protocol */
  gboolean          retire;         /* take no more tasks */
  gboolean          socket_done;    /* end-of-file, or shut down */
  guint32           last_sent;      /* the serial of the last request */
  guint32           written;        /* what the host last wrote to *taken */
  guint32           took;           /* the last request it is known to
                                     * have taken */
  guint             n_queued;       /* requests sent behind the task */
  GatherTaskRecord *queued[GATHER_HELPER_MAX_QUEUED];    /* not begun */
  guint32           queued_serial[GATHER_HELPER_MAX_QUEUED];
  int               worker_status;  /* from the status pipe */
  gboolean          has_status;

  /* Guarded by out_lock, which may be taken with helpers_lock held, never
   * the other way round. Requests are queued here in the order of their
   * serials under both locks, and written to the socket under out_lock
   * alone (helper_push_out()): a write held helpers_lock for a system
   * call, and the owner and the helpers' thread then waited for each
   * other on it. */
  GMutex            out_lock;
  GByteArray       *out;            /* what is not written yet, in order */

  /* The helpers' thread only. */
  GatherFrameReader reader;

  /* Guarded by the timer lock; holds a reference while armed. */
  GatherTimer       kill_timer;
};

static GMutex      helpers_lock;
static GPtrArray  *pools;              /* guarded: GatherHelperPool, one reference each */
static GMutex      spares_lock;
static GPtrArray  *spare_cancellables; /* guarded by spares_lock */
static int         wake_fd = -1;       /* eventfd: set once */
static GCond       spawn_cond;         /* spawn_requests grew */
static GQueue      spawn_requests;     /* guarded: GatherHelperPool, a reference each */
static GQuark      pool_quark;
static gint        pidfd_works = -1;   /* atomic: -1 not known yet */

static void helper_unref (GatherHelper *helper);

/* ---- Small things ---- */

static gboolean
is_privileged (void)
{
  return getauxval (AT_SECURE) != 0;
}

const char *
gather_helper_program (void)
{
  const char *env = is_privileged () ? NULL : g_getenv ("GATHER_HELPER");

  return env != NULL && *env != '\0' ? env : GATHER_HELPER_PATH;
}

static void
wake_helpers_thread (void)
{
  guint64 one = 1;

  if (write (wake_fd, &one, sizeof one) < 0)
    {
      /* The counter is full: the thread is woken anyway. */
    }
}

static GCancellable *
take_cancellable (void)
{
  GCancellable *cancellable = NULL;

  g_mutex_lock (&spares_lock);
  if (spare_cancellables != NULL && spare_cancellables->len > 0)
    cancellable = g_ptr_array_steal_index_fast (spare_cancellables,
                                                spare_cancellables->len - 1);
  g_mutex_unlock (&spares_lock);

  return cancellable != NULL ? cancellable : g_cancellable_new ();
}

static void
give_back_cancellable (GCancellable *cancellable)
{
  if (!gather_cancellable_is_unobserved (cancellable))
    {
      g_object_unref (cancellable);
      return;
    }

  g_mutex_lock (&spares_lock);
  if (spare_cancellables == NULL)
    spare_cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  if (spare_cancellables->len < MAX_SPARE_CANCELLABLES)
    {
      g_ptr_array_add (spare_cancellables, cancellable);
      cancellable = NULL;
    }
  g_mutex_unlock (&spares_lock);

  g_clear_object (&cancellable);
}

/* ---- Starting and ending helper processes ---- */

/* A descriptor of ours at 5 or above, so that the helper's 0 to 4 can be
 * set without stepping on it. */
static int
move_up (int fd)
{
  int moved;

  if (fd > GATHER_HELPER_STATUS_FD)
    return fd;

  moved = fcntl (fd, F_DUPFD_CLOEXEC, GATHER_HELPER_STATUS_FD + 1);
  close (fd);
  return moved;
}

/*
 * gather_helper_process_spawn:
 * Starts the helper program: its supervisor, in a session of its own (so
 * that a terminal's Ctrl-C reaches the host, not its helpers), with the
 * socket as 3, the status pipe as 4, @shared (if not -1) as 5, standard
 * input from /dev/null and standard output to the host's standard error;
 * nothing else is inherited, whatever the host leaked. The supervisor
 * dies with the calling thread.
 */
gboolean
gather_helper_process_spawn (GatherHelperProcess  *process,
                             int                   shared,
                             GError              **error)
{
  const char *program = gather_helper_program ();
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t signals;
  int sv[2] = { -1, -1 };
  int status[2] = { -1, -1 };
  char version[16];
  char host[16];
  char *argv[4];
  int moved_shared = -1;
  pid_t pid;
  int ret;

  process->pid = 0;
  process->socket = -1;
  process->status_fd = -1;

  /* posix_spawn() says the same, except where fork() stands in for
   * vfork() (valgrind): then only the child knows. */
  if (access (program, X_OK) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "Could not start the helper program “%s”: %s", program,
                   g_strerror (saved_errno));
      return FALSE;
    }

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
      pipe2 (status, O_CLOEXEC) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "Could not start a helper process: %s", g_strerror (saved_errno));
      for (guint i = 0; i < 2; i++)
        {
          if (sv[i] >= 0)
            close (sv[i]);
          if (status[i] >= 0)
            close (status[i]);
        }
      return FALSE;
    }

  sv[1] = move_up (sv[1]);
  status[1] = move_up (status[1]);
  if (shared >= 0 && shared <= GATHER_HELPER_SHARED_FD)
    {
      /* Not ours to close: a copy above 5. */
      shared = fcntl (shared, F_DUPFD_CLOEXEC, GATHER_HELPER_SHARED_FD + 1);
      moved_shared = shared;
    }

  g_snprintf (version, sizeof version, "%u", GATHER_HELPER_PROTOCOL_VERSION);
  g_snprintf (host, sizeof host, "%d", (int) getpid ());
  argv[0] = (char *) program;
  argv[1] = version;
  argv[2] = host;
  argv[3] = NULL;

  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_addopen (&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&actions, STDERR_FILENO, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2 (&actions, sv[1], GATHER_HELPER_SOCKET_FD);
  posix_spawn_file_actions_adddup2 (&actions, status[1], GATHER_HELPER_STATUS_FD);
  if (shared >= 0)
    posix_spawn_file_actions_adddup2 (&actions, shared, GATHER_HELPER_SHARED_FD);
  posix_spawn_file_actions_addclosefrom_np (&actions, shared >= 0 ? GATHER_HELPER_SHARED_FD + 1
                                                                   : GATHER_HELPER_STATUS_FD + 1);

  posix_spawnattr_init (&attr);
  sigemptyset (&signals);
  posix_spawnattr_setsigmask (&attr, &signals);
  /* Whatever the host ignores or handles, the helper starts with the
   * defaults. */
  sigfillset (&signals);
  sigdelset (&signals, SIGKILL);
  sigdelset (&signals, SIGSTOP);
  posix_spawnattr_setsigdefault (&attr, &signals);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                   POSIX_SPAWN_SETSID);

  ret = posix_spawn (&pid, program, &actions, &attr, argv, environ);

  posix_spawn_file_actions_destroy (&actions);
  posix_spawnattr_destroy (&attr);
  close (sv[1]);
  close (status[1]);
  if (moved_shared >= 0)
    close (moved_shared);

  if (ret != 0)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "Could not start the helper program “%s”: %s", program, g_strerror (ret));
      close (sv[0]);
      close (status[0]);
      return FALSE;
    }

  g_unix_set_fd_nonblocking (sv[0], TRUE, NULL);
  g_unix_set_fd_nonblocking (status[0], TRUE, NULL);

  process->pid = pid;
  process->socket = sv[0];
  process->status_fd = status[0];

  return TRUE;
}

static char *
describe_wait_status (int status)
{
  if (WIFSIGNALED (status))
    return g_strdup_printf ("was killed by signal %d (%s)", WTERMSIG (status),
                            g_strsignal (WTERMSIG (status)));
  if (WIFEXITED (status))
    return g_strdup_printf ("exited with status %d", WEXITSTATUS (status));

  return g_strdup_printf ("ended with wait status %d", status);
}

/* Reads what the supervisor wrote: the worker process's wait status. */
static gboolean
read_worker_status (int  fd,
                    int *status)
{
  ssize_t n;

  do
    n = read (fd, status, sizeof *status);
  while (n < 0 && errno == EINTR);

  return n == sizeof *status;
}

/* The pid a HELLO gives must be the supervisor's child, leading its own
 * process group: gather signals it and kills that group, so a helper must
 * not be able to name another process. */
gboolean
gather_helper_check_hello (GVariant  *body,
                           GPid       supervisor,
                           GPid      *worker_pid,
                           GError   **error)
{
  g_autofree char *path = NULL;
  g_autofree char *stat = NULL;
  guint32 version;
  guint64 pid;
  const char *fields;
  long ppid = 0;
  long pgrp = 0;

  g_variant_get (body, "(ut)", &version, &pid);

  if (version != GATHER_HELPER_PROTOCOL_VERSION)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "the helper speaks protocol %u, this libgather protocol %u",
                   version, GATHER_HELPER_PROTOCOL_VERSION);
      return FALSE;
    }

  if (pid < 2 || pid > G_MAXINT32)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "its HELLO names process %" G_GUINT64_FORMAT, pid);
      return FALSE;
    }

  /* "pid (comm) state ppid pgrp ...": comm may hold anything. */
  path = g_strdup_printf ("/proc/%" G_GUINT64_FORMAT "/stat", pid);
  if (g_file_get_contents (path, &stat, NULL, NULL) &&
      (fields = strrchr (stat, ')')) != NULL)
    sscanf (fields + 1, " %*c %ld %ld", &ppid, &pgrp);

  if (ppid != supervisor || pgrp != (long) pid)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "its HELLO names process %" G_GUINT64_FORMAT ", which is not its "
                   "worker process", pid);
      return FALSE;
    }

  *worker_pid = (GPid) pid;
  return TRUE;
}

static GatherHelper *
helper_ref (GatherHelper *helper)
{
  g_atomic_int_inc (&helper->ref_count);
  return helper;
}

static void gather_helper_pool_unref (GatherHelperPool *self);

/* Any thread: the last reference goes once the helper is gone. */
static void
helper_unref (GatherHelper *helper)
{
  if (!g_atomic_int_dec_and_test (&helper->ref_count))
    return;

  g_assert (helper->kill_timer.heap_index == 0);
  g_assert (helper->record == NULL);

  if (helper->process.socket >= 0)
    close (helper->process.socket);
  if (helper->process.status_fd >= 0)
    close (helper->process.status_fd);
  if (helper->worker_pidfd >= 0)
    close (helper->worker_pidfd);
  gather_frame_reader_clear (&helper->reader);
  g_byte_array_unref (helper->out);
  g_mutex_clear (&helper->out_lock);
  if (helper->taken != NULL)
    munmap (helper->taken, GATHER_HELPER_SHARED_SIZE);
  g_clear_pointer (&helper->description, g_ref_string_release);
  g_free (helper->broke);
  gather_helper_pool_unref (helper->pool);
  g_free (helper);
}

/*
 * The shared word of a helper: a sealed memfd, so that the helper can
 * neither shrink it (the host would take SIGBUS touching it) nor grow it.
 * Returns its descriptor and sets *@word, or returns -1: then the helper
 * runs without queued requests.
 */
static int
shared_word_new (guint32 **word)
{
  void *map;
  int fd = memfd_create ("gather-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);

  if (fd < 0)
    return -1;

  if (ftruncate (fd, GATHER_HELPER_SHARED_SIZE) < 0 ||
      fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 ||
      (map = mmap (NULL, GATHER_HELPER_SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd, 0)) == MAP_FAILED)
    {
      close (fd);
      return -1;
    }

  *word = map;
  return fd;
}

/* Spawner thread: starts a helper for @pool. */
static GatherHelper *
helper_spawn (GatherHelperPool  *pool,
              GError           **error)
{
  GatherHelper *helper = g_new0 (GatherHelper, 1);
  int shared;
  gboolean spawned;

  helper->ref_count = 1;
  helper->worker_pidfd = -1;
  helper->state = HELPER_STARTING;
  g_mutex_init (&helper->out_lock);
  helper->out = g_byte_array_new ();

  shared = shared_word_new (&helper->taken);
  spawned = gather_helper_process_spawn (&helper->process, shared, error);
  if (shared >= 0)
    close (shared);

  if (!spawned)
    {
      if (helper->taken != NULL)
        munmap (helper->taken, GATHER_HELPER_SHARED_SIZE);
      g_byte_array_unref (helper->out);
      g_mutex_clear (&helper->out_lock);
      g_free (helper);
      return NULL;
    }

  g_atomic_int_inc (&pool->ref_count);
  helper->pool = pool;
  helper->start_deadline = g_get_monotonic_time () + START_TIMEOUT_USEC;

  return helper;
}

/* Serials go up to here, so that one fits the cancellation signal's int:
 * a helper that gets there takes no more tasks. */
#define SERIAL_LIMIT ((guint32) G_MAXINT32 - GATHER_HELPER_MAX_QUEUED - 2)

static void helper_kill_locked (GatherHelper *helper,
                                const char   *broke);

/* Called with helpers_lock held: puts @records back at the head of
 * @pool's queue, in their order, for any helper to take. */
static void
requeue_locked (GatherHelperPool  *pool,
                GatherTaskRecord **records,
                guint              n)
{
  for (guint i = n; i > 0; i--)
    g_queue_push_head (&pool->queue, records[i - 1]);

  if (n > 0)
    wake_helpers_thread ();
}

/*
 * Called with helpers_lock held: takes back every request @helper was
 * sent and has not taken (see gather-helper-protocol-private.h); the
 * records queued behind its task among them go back to the pool's queue.
 * Returns the serial of the last request it took: its own task was taken
 * back too if that is below helper->serial (and its request was sent).
 *
 * A helper that wrote something impossible to the shared word broke the
 * protocol: it is killed, and what is queued on it stays there, for
 * helper_ended() to hand back.
 */
static guint32
revoke_locked (GatherHelper *helper)
{
  guint32 last;
  guint first;

  /* Without the word, it takes every request, and is sent one at a time. */
  if (helper->taken == NULL)
    return helper->last_sent;

  /* The word only grows: the helper moves it up to a serial it was sent,
   * the host up to the last one it sent. */
  last = __atomic_exchange_n (helper->taken, helper->last_sent, __ATOMIC_SEQ_CST);
  if (last < helper->written || last > helper->last_sent)
    {
      helper_kill_locked (helper, "it wrote a serial it was not sent to the word it shares "
                                  "with the host");
      return helper->last_sent;
    }
  /* Unchanged since the host wrote it: the helper took nothing since. */
  if (last != helper->written)
    helper->took = MAX (helper->took, last);
  helper->written = helper->last_sent;

  for (first = 0; first < helper->n_queued && helper->queued_serial[first] <= helper->took; first++)
    ;
  requeue_locked (helper->pool, helper->queued + first, helper->n_queued - first);
  helper->n_queued = first;

  return helper->took;
}

/* Called with helpers_lock held: SIGKILL to the worker process and its
 * group (the supervisor cleans up whatever left the group), or to the
 * supervisor if the worker process is not known yet. What the helper was
 * sent and has not started is taken back first. */
static void
helper_kill_locked (GatherHelper *helper,
                    const char   *broke)
{
  if (helper->state == HELPER_ENDED || helper->state == HELPER_GONE || helper->killed)
    return;

  helper->killed = TRUE;
  if (broke != NULL && helper->broke == NULL)
    helper->broke = g_strdup (broke);

  revoke_locked (helper);

  /* Gone and reaped by its supervisor already (its status came). */
  if (helper->has_status)
    return;

  if (helper->worker_pid > 0)
    {
      /* The worker process leads its group, checked at HELLO; its pidfd,
       * where there is one, names it whatever happened since. */
      if (helper->worker_pidfd >= 0 &&
          pidfd_send_signal (helper->worker_pidfd, SIGKILL, NULL, 0) != 0 &&
          errno == ESRCH)
        {
          /* Gone, and reaped by its supervisor: its pid (and so its group's
           * id) may name another process by now. The supervisor kills
           * what is left of the group. */
          return;
        }
      kill (-helper->worker_pid, SIGKILL);
    }
  else
    {
      kill (helper->process.pid, SIGKILL);
    }
}

/* Timer thread: the grace period of the task it runs is over. If the
 * helper has started a request sent after it, the task has returned (its
 * reply is on its way): nothing is killed, unless the reply has still not
 * come after another grace period (the word said so, and plugin code can
 * write to it). */
static void
helper_kill_expired (gpointer data)
{
  GatherHelper *helper = data;

  g_mutex_lock (&helpers_lock);
  if (helper->state == HELPER_BUSY && helper->serial == helper->kill_serial)
    {
      if (!helper->kill_deferred && revoke_locked (helper) > helper->serial)
        {
          gint64 when = g_get_monotonic_time () + (gint64) MAX (helper->grace_msec, 100) * 1000;

          helper->kill_deferred = TRUE;
          helper->kill_at = when;
          helper_ref (helper);
          if (!gather_timer_schedule (&helper->kill_timer, when, helper_kill_expired, helper))
            helper_unref (helper);
        }
      else
        {
          helper_kill_locked (helper, NULL);
        }
    }
  g_mutex_unlock (&helpers_lock);

  helper_unref (helper);
}

static void
helper_disarm_kill (GatherHelper *helper)
{
  if (gather_timer_cancel (&helper->kill_timer))
    helper_unref (helper);
}

/* ---- Tasks ---- */

/* Called with helpers_lock held: @record, not begun, is @helper's task
 * now. The record is ours: its user data is alive. */
static void
helper_set_task_locked (GatherHelper     *helper,
                        GatherTaskRecord *record)
{
  GatherWorkerTask *task = record->user_data;

  helper->state = HELPER_BUSY;
  helper->record = record;
  helper->begun = FALSE;
  helper->stopped = FALSE;
  helper->kill_deferred = FALSE;
  helper->grace_msec = task->grace_msec;
  helper->memory_limit = task->memory_limit;
  helper->cpu_limit = task->cpu_limit;
  g_clear_pointer (&helper->description, g_ref_string_release);
  helper->description = g_ref_string_acquire (task->description);
}

/* Called with helpers_lock held: idle @helper takes @record; the starter
 * (helper_start_task()) sends its request. */
static void
helper_assign_locked (GatherHelper     *helper,
                      GatherTaskRecord *record)
{
  g_assert (helper->state == HELPER_IDLE && helper->record == NULL && helper->n_queued == 0);

  helper_set_task_locked (helper, record);
  helper->serial = ++helper->last_sent;
  helper->sent = FALSE;
  if (helper->last_sent >= SERIAL_LIMIT)
    helper->retire = TRUE;
}

/*
 * Called with helpers_lock held: @helper's task is over (or was never
 * started). The request queued behind it, if any, becomes its task (sent
 * already, not begun yet); otherwise it is idle and, if @take, takes the
 * pool's next queued record. Returns the record the caller must start with
 * helper_start_task(), or NULL.
 */
static GatherTaskRecord *
helper_next_locked (GatherHelper *helper,
                    gboolean      take)
{
  GatherHelperPool *pool = helper->pool;
  GatherTaskRecord *next = NULL;

  helper->record = NULL;
  helper->state = HELPER_IDLE;

  /* One that goes takes no more: what it has started stays. */
  if (helper->n_queued > 0 && (helper->retire || helper->killed || pool->retiring))
    revoke_locked (helper);

  if (helper->n_queued > 0)
    {
      next = helper->queued[0];
      helper_set_task_locked (helper, next);
      helper->serial = helper->queued_serial[0];
      helper->sent = TRUE;
      helper->n_queued--;
      memmove (helper->queued, helper->queued + 1, helper->n_queued * sizeof helper->queued[0]);
      memmove (helper->queued_serial, helper->queued_serial + 1,
               helper->n_queued * sizeof helper->queued_serial[0]);
    }
  else if (take && !helper->retire && !helper->killed && !pool->retiring)
    {
      next = g_queue_pop_head (&pool->queue);
      if (next != NULL)
        helper_assign_locked (helper, next);
    }

  return next;
}

/* Whether an idle helper's socket is still open at the other end: one
 * that died since it last answered would only take a task to end it
 * with its own death's error. (Not a guarantee: see helper_start_task().) */
static gboolean
helper_seems_alive (GatherHelper *helper)
{
  struct pollfd fds[2] = { { helper->process.socket, 0, 0 }, { helper->process.status_fd, 0, 0 } };

  if (poll (fds, 2, 0) < 0)
    return TRUE;

  return ((fds[0].revents | fds[1].revents) & (POLLHUP | POLLERR | POLLNVAL)) == 0;
}

static gboolean
helper_usable (GatherHelper *helper)
{
  return !helper->retire && !helper->killed;
}

static GatherHelper *
find_idle_locked (GatherHelperPool *pool)
{
  for (guint i = 0; i < pool->helpers->len; i++)
    {
      GatherHelper *helper = g_ptr_array_index (pool->helpers, i);

      if (helper->state == HELPER_IDLE && helper_usable (helper) && helper_seems_alive (helper))
        return helper;
    }

  return NULL;
}

/* Called with out_lock held: writes what the socket takes now of what is
 * to be sent. */
static void
helper_write_out_locked (GatherHelper *helper)
{
  ssize_t n;

  do
    n = send (helper->process.socket, helper->out->data, helper->out->len,
              MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);

  if (n > 0)
    g_byte_array_remove_range (helper->out, 0, (guint) n);
  else if (n < 0 && errno != EAGAIN)
    g_byte_array_set_size (helper->out, 0);   /* Gone: its status pipe says how. */
}

/* Called with helpers_lock held: queues @request as @serial for @helper,
 * in the order of serials. Whoever queues it calls helper_push_out() once
 * helpers_lock is released. (Until it is written, it is no different from
 * a request the socket took only in part: revoke_locked() may take it
 * back all the same.) */
static void
helper_send_locked (GatherHelper *helper,
                    GBytes       *request,
                    guint32       serial)
{
  g_mutex_lock (&helper->out_lock);
  gather_helper_frame_append (helper->out, request, serial);
  g_mutex_unlock (&helper->out_lock);
}

/*
 * Any thread, helpers_lock not held, a reference on @helper: writes what
 * the socket takes now of what is queued for @helper. Returns whether
 * some is left, which the helpers' thread writes once the socket takes
 * more; @wake: wake it to see to it (FALSE on that thread only).
 *
 * If another thread holds out_lock, it is left to it: it took the lock
 * after the caller queued its request (which took the lock too), so it
 * either writes that request itself, or queues one of its own and then
 * comes here. Nobody waits for a system call of another thread.
 */
static gboolean
helper_push_out (GatherHelper *helper,
                 gboolean      wake)
{
  gboolean left;

  if (!g_mutex_trylock (&helper->out_lock))
    return FALSE;
  if (helper->out->len > 0)
    helper_write_out_locked (helper);
  left = helper->out->len > 0;
  g_mutex_unlock (&helper->out_lock);

  if (left && wake)
    wake_helpers_thread ();

  return left;
}

/* Called with helpers_lock held: whether @record may be queued on
 * @helper, behind the task it runs. */
static gboolean
can_queue_locked (GatherHelper     *helper,
                  GatherTaskRecord *record)
{
  return helper->taken != NULL && helper->state == HELPER_BUSY && helper->record != NULL &&
         helper->begun && helper->sent && !helper->stopped && helper_usable (helper) &&
         helper->n_queued < GATHER_HELPER_MAX_QUEUED && helper->last_sent < SERIAL_LIMIT &&
         helper->record->inbox == record->inbox &&
         gather_inbox_get_stop (record->inbox) == GATHER_STOP_NONE;
}

/* Called with helpers_lock held: whether every helper @pool may have runs
 * a task, so that a record that waits for one would wait anyway. */
static gboolean
saturated_locked (GatherHelperPool *pool)
{
  if (pool->helpers->len - pool->n_ended + pool->n_spawning < pool->max_helpers)
    return FALSE;

  for (guint i = 0; i < pool->helpers->len; i++)
    {
      GatherHelper *helper = g_ptr_array_index (pool->helpers, i);

      if (helper->state == HELPER_STARTING ||
          (helper->state == HELPER_IDLE && helper_usable (helper)))
        return FALSE;
    }

  return TRUE;
}

/* Called with helpers_lock held: sends @helper @record's request, queued
 * behind its task. */
static void
helper_queue_locked (GatherHelper     *helper,
                     GatherTaskRecord *record)
{
  GatherWorkerTask *task = record->user_data;
  guint32 serial = ++helper->last_sent;

  helper->queued[helper->n_queued] = record;
  helper->queued_serial[helper->n_queued] = serial;
  helper->n_queued++;
  helper_send_locked (helper, task->request, serial);
}

/* Called with helpers_lock held: @helper takes records of its task's run
 * from the head of the pool's queue while it may. */
static void
helper_fill_locked (GatherHelper *helper)
{
  GatherHelperPool *pool = helper->pool;
  GatherTaskRecord *record;

  while ((record = g_queue_peek_head (&pool->queue)) != NULL &&
         can_queue_locked (helper, record) && saturated_locked (pool))
    helper_queue_locked (helper, g_queue_pop_head (&pool->queue));
}

/* Sends the cancellation signal with @serial as its value. */
static void
helper_signal_cancel_locked (GatherHelper *helper,
                             guint32       serial)
{
  siginfo_t info = { 0 };

  info.si_signo = GATHER_HELPER_CANCEL_SIGNAL;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid ();
  info.si_uid = getuid ();
  info.si_value.sival_int = (int) serial;

  /* By pid only where there is no pidfd: once the process is gone (ESRCH)
   * its pid may name another one. */
  if (helper->worker_pidfd >= 0)
    pidfd_send_signal (helper->worker_pidfd, GATHER_HELPER_CANCEL_SIGNAL, &info, 0);
  else
    sigqueue (helper->worker_pid, GATHER_HELPER_CANCEL_SIGNAL, info.si_value);
}

/* Called with helpers_lock held: asks @helper to cancel its task, and arms
 * the timer that kills it if the task has not returned by the end of its
 * grace period, which began at @stopped_at (see
 * gather_task_record_stopped_at()). */
static void
helper_stop_locked (GatherHelper *helper,
                    gint64        stopped_at)
{
  gint64 when = stopped_at + (gint64) helper->grace_msec * 1000;

  helper->stopped = TRUE;
  helper_signal_cancel_locked (helper, helper->serial);

  helper->kill_serial = helper->serial;
  helper->kill_at = when;
  helper_ref (helper);
  if (!gather_timer_schedule (&helper->kill_timer, when, helper_kill_expired, helper))
    helper_unref (helper);
}

/*
 * Any thread; helpers_lock not held. @record is @helper's task, not begun:
 * begin it, and send its request unless it was sent already (queued
 * behind the task before). If it does not start, the helper goes on with
 * the next one. The caller holds a reference on @helper.
 */
static void
helper_start_task (GatherHelper     *helper,
                   GatherTaskRecord *record)
{
  while (record != NULL)
    {
      GCancellable *cancellable = take_cancellable ();
      GatherWorkerTask *task = record->user_data;
      g_autoptr(GRefString) description = NULL;
      g_autofree char *how = NULL;
      GatherTaskRecord *next = NULL;
      gboolean begun;
      gboolean sent;
      gboolean dead = FALSE;
      gboolean taken = FALSE;
      guint32 serial;

      g_mutex_lock (&helpers_lock);
      sent = helper->sent;
      serial = helper->serial;
      g_mutex_unlock (&helpers_lock);

      /* Read now: once begin() fails, the record may be gone. */
      description = g_ref_string_acquire (task->description);

      /* If it does not start, the record stays ours until the helper no
       * longer names it (and a request it was sent, which it may have
       * started already, is taken back): then it is skipped. */
      begun = gather_task_record_try_begin (record, &cancellable, g_get_monotonic_time ());

      g_mutex_lock (&helpers_lock);
      if (helper->state == HELPER_ENDED || helper->state == HELPER_GONE)
        {
          /* It died before the task was begun here: helper_ended() left
           * the record to us. Its word no longer moves. */
          helper->record = NULL;
          dead = TRUE;
          taken = sent && revoke_locked (helper) >= serial;
          if (helper->has_status)
            how = describe_wait_status (helper->worker_status);
        }
      else if (begun)
        {
          helper->begun = TRUE;
          if (!sent)
            {
              helper->sent = TRUE;
              helper_send_locked (helper, task->request, serial);
            }
          helper_fill_locked (helper);
        }
      else if (!sent || revoke_locked (helper) < serial)
        {
          /* Not started here, and it never will be. */
          next = helper_next_locked (helper, TRUE);
        }
      else
        {
          /* Started there as the run stopped: a ghost, stopped at once. */
          helper->record = NULL;
          helper->begun = TRUE;
          helper_stop_locked (helper, g_get_monotonic_time ());
        }
      g_mutex_unlock (&helpers_lock);

      if (dead)
        {
          if (begun)
            gather_task_record_finish (record, NULL,
                                       g_error_new (GATHER_ERROR, GATHER_ERROR_HELPER,
                                                    taken ? "The helper process running %s %s"
                                                          : "The helper process that was to run %s "
                                                            "%s before it started the task",
                                                    description, how != NULL ? how : "ended"),
                                       NULL);
          else
            give_back_cancellable (cancellable);
          if (!begun)
            gather_task_record_skip (record);
          /* Queued tasks need another helper. */
          wake_helpers_thread ();
          return;
        }

      if (!begun)
        {
          give_back_cancellable (cancellable);
          gather_task_record_skip (record);
          record = next;
          continue;
        }

      /* Its request, and what was queued behind it, off the lock. */
      helper_push_out (helper, TRUE);
      return;
    }
}

/* Helpers that have not ended. */
static guint
live_helpers_locked (GatherHelperPool *pool)
{
  return pool->helpers->len - pool->n_ended;
}

/*
 * A helper that ended is replaced at once only if tasks wait for one.
 * Otherwise its replacement starts once it is gone: the start (about a
 * millisecond of CPU) competes with the clean-up of the ended one for the
 * CPUs, and that clean-up is what the outcome of a killed task waits for.
 */
static gboolean
wants_helper_locked (GatherHelperPool *pool)
{
  guint live = pool->queue.length > 0 ? live_helpers_locked (pool) : pool->helpers->len;

  return !pool->retiring && live + pool->n_spawning < pool->target;
}

/*
 * Called with helpers_lock held, @pool wanting a helper: whether to start
 * it later, because a helper of @pool is being killed or is to be killed
 * within HOLD_WINDOW_USEC. A helper's start (posix_spawn(), exec, GLib's
 * and the plugin's loading: about 1.4 ms of CPU, up to 3.5 ms of wall time
 * when several start together) competes for the CPUs with what the
 * outcome of a killed task waits for: the kernel's teardown of the killed
 * processes, then the wake-ups of the timer thread, the supervisor, the
 * helpers' thread and the owner. Started at once, replacements pushed the
 * p99 from a task's timeout plus grace period to its outcome marked killed
 * from about 1.6 ms to 2.8-3.6 ms (gather-bench --sections isolation,
 * 2026-12-01). The helpers' thread looks again when the kill's status
 * comes or the task returns. A pool's starts are held for HOLD_MAX_USEC at
 * most: then they go on, all of them, while the kills last (a kill that is
 * never reported, a process stuck in the kernel, must not cost each start
 * another HOLD_MAX_USEC), so that kills that follow one another cannot
 * starve a pool. pool->held_since is cleared once no kill is near, or the
 * pool wants no helper. Sets *@timeout to when it must look again.
 */
#define HOLD_WINDOW_USEC (4 * 1000)
#define HOLD_MAX_USEC    (20 * 1000)

static gboolean
hold_start_locked (GatherHelperPool *pool,
                   gint64            now,
                   gint64           *timeout)
{
  gboolean near = FALSE;

  for (guint i = 0; i < pool->helpers->len && !near; i++)
    {
      GatherHelper *helper = g_ptr_array_index (pool->helpers, i);

      if (helper->state == HELPER_ENDED || helper->state == HELPER_GONE)
        continue;
      /* Killed, its status not come yet; or stopped, its kill near. */
      near = helper->killed ||
             (helper->state == HELPER_BUSY && helper->stopped &&
              helper->kill_at - now <= HOLD_WINDOW_USEC);
    }

  if (!near)
    {
      pool->held_since = 0;
      return FALSE;
    }

  if (pool->held_since == 0)
    pool->held_since = now;
  if (now - pool->held_since >= HOLD_MAX_USEC)
    return FALSE;
  *timeout = MIN (*timeout, pool->held_since + HOLD_MAX_USEC);

  return TRUE;
}

/* Called with helpers_lock held: the helper of @pool that @record may be
 * queued on with the fewest requests queued, or NULL. */
static GatherHelper *
find_queue_locked (GatherHelperPool *pool,
                   GatherTaskRecord *record)
{
  GatherHelper *best = NULL;

  if (!saturated_locked (pool))
    return NULL;

  for (guint i = 0; i < pool->helpers->len; i++)
    {
      GatherHelper *helper = g_ptr_array_index (pool->helpers, i);

      if (can_queue_locked (helper, record) &&
          (best == NULL || helper->n_queued < best->n_queued))
        best = helper;
    }

  return best;
}

/*
 * gather_helper_pool_push:
 * Owner's context: runs @record in a helper of @self, at once if one is
 * idle, else when one is; queued behind a task of the same run if every
 * helper runs one. @max_helpers is the GatherPool's max-threads now.
 */
void
gather_helper_pool_push (GatherHelperPool *self,
                         guint             max_helpers,
                         GatherTaskRecord *record)
{
  GatherHelper *helper = NULL;
  GatherHelper *queue_on = NULL;
  gboolean wake = FALSE;
  guint busy = 0;

  g_mutex_lock (&helpers_lock);
  self->max_helpers = MAX (max_helpers, 1);

  if (self->queue.length == 0)
    {
      helper = find_idle_locked (self);
      if (helper == NULL)
        queue_on = find_queue_locked (self, record);
    }

  if (helper != NULL)
    {
      helper_assign_locked (helper, record);
      helper_ref (helper);
    }
  else if (queue_on != NULL)
    {
      helper_queue_locked (queue_on, record);
      helper_ref (queue_on);
    }
  else
    {
      g_queue_push_tail (&self->queue, record);

      /* As many helpers as tasks want one, up to the pool's size. */
      for (guint i = 0; i < self->helpers->len; i++)
        if (((GatherHelper *) g_ptr_array_index (self->helpers, i))->state == HELPER_BUSY)
          busy++;
      self->target = MAX (self->target, MIN (self->max_helpers, busy + self->queue.length));
      wake = wants_helper_locked (self) || self->n_failed > 0;
    }
  g_mutex_unlock (&helpers_lock);

  if (helper != NULL)
    {
      helper_start_task (helper, record);
      helper_unref (helper);
    }
  else if (queue_on != NULL)
    {
      helper_push_out (queue_on, TRUE);
      helper_unref (queue_on);
    }
  else if (wake)
    {
      wake_helpers_thread ();
    }
}

/*
 * gather_helper_pool_cancelled:
 * Any thread (the runner's cancelled hook): @record was stopped. What its
 * helper was sent behind it is taken back; the helper is asked to cancel
 * the task at once, and killed once the grace period is over if the task
 * has not returned by then. (If the helper had not read the task's
 * request yet, it never starts it, and the kill ends the wait for a reply
 * that never comes: the word is not trusted to end a task.)
 */
void
gather_helper_pool_cancelled (GatherTaskRecord *record)
{
  gint64 stopped_at = gather_task_record_stopped_at (record);

  g_mutex_lock (&helpers_lock);

  for (guint i = 0; pools != NULL && i < pools->len; i++)
    {
      GatherHelperPool *pool = g_ptr_array_index (pools, i);

      for (guint j = 0; j < pool->helpers->len; j++)
        {
          GatherHelper *helper = g_ptr_array_index (pool->helpers, j);

          if (helper->record != record || helper->state != HELPER_BUSY || helper->killed)
            continue;

          /* Requests queue only behind one that was sent; and one not sent
           * yet must not be taken back: the helper starts it cancelled. */
          if (helper->sent)
            revoke_locked (helper);
          helper_stop_locked (helper, stopped_at);
          g_mutex_unlock (&helpers_lock);
          return;
        }
    }

  /* Not sent yet, or finished already: nothing runs. */
  g_mutex_unlock (&helpers_lock);
}

/* ---- The helpers' thread ---- */

/* Helpers' thread: a task's reply, checked. */
static void
helper_complete (GatherHelper *helper,
                 guint32       serial,
                 GVariant     *result,
                 GError       *error)
{
  GatherTaskRecord *record;
  GatherTaskRecord *next;
  GCancellable *spare = NULL;

  g_mutex_lock (&helpers_lock);
  record = helper->record;
  helper_disarm_kill (helper);
  helper->took = MAX (helper->took, serial);
  /* A task that went past its memory limit leaves GLib aborting. */
  if (error != NULL && g_error_matches (error, GATHER_ERROR, GATHER_ERROR_LIMIT_EXCEEDED))
    helper->retire = TRUE;
  next = helper_next_locked (helper, TRUE);
  helper_ref (helper);
  g_mutex_unlock (&helpers_lock);

  /* The next one first: the helper may have started it already, and a
   * stop decided from now on finds it running. */
  helper_start_task (helper, next);

  if (record != NULL)
    {
      gather_task_record_finish (record, result, error, &spare);
      if (spare != NULL)
        give_back_cancellable (spare);
    }
  else
    {
      /* A ghost's. */
      g_clear_pointer (&result, g_variant_unref);
      g_clear_error (&error);
    }

  helper_unref (helper);
}

/* Helpers' thread: one frame from @helper. A result takes @body, so that
 * this thread keeps no reference on what the owner receives (it would
 * otherwise drop it after posting the result, maybe after the owner dropped
 * its own and on GLib atomics ThreadSanitizer does not see). Returns why it
 * breaks the protocol, or NULL. */
static char *
helper_handle_message (GatherHelper        *helper,
                       GatherHelperMessage  kind,
                       guint32              serial,
                       GVariant           **body)
{
  g_autoptr(GError) error = NULL;
  HelperState state;
  guint32 expected;
  const char *result_type = NULL;
  gboolean begun;
  GPid worker_pid;

  g_mutex_lock (&helpers_lock);
  state = helper->state;
  expected = helper->serial;
  begun = helper->begun;
  if (state == HELPER_BUSY && helper->record != NULL)
    result_type = ((GatherWorkerTask *) helper->record->user_data)->result_type;
  g_mutex_unlock (&helpers_lock);

  if (state == HELPER_STARTING && kind == GATHER_HELPER_HELLO && serial == 0)
    {
      if (!gather_helper_check_hello (*body, helper->process.pid, &worker_pid, &error))
        return g_strdup (error->message);

      g_mutex_lock (&helpers_lock);
      helper->worker_pid = worker_pid;
      if (g_atomic_int_get (&pidfd_works) != 0)
        {
          helper->worker_pidfd = pidfd_open (worker_pid, 0);
          if (helper->worker_pidfd < 0 && errno == ENOSYS)
            g_atomic_int_set (&pidfd_works, 0);
        }
      helper->state = HELPER_IDLE;
      helper->pool->n_failed = 0;
      g_clear_error (&helper->pool->start_error);
      g_mutex_unlock (&helpers_lock);
      return NULL;
    }

  /* A reply before the task was begun (and sent) answers nothing. */
  if (state != HELPER_BUSY || !begun ||
      (kind != GATHER_HELPER_RESULT && kind != GATHER_HELPER_ERROR))
    return g_strdup_printf ("it sent a %s frame when it was %s",
                            gather_helper_message_name (kind),
                            state == HELPER_STARTING ? "starting" :
                            state == HELPER_IDLE ? "idle" : "running a task");

  if (serial != expected)
    return g_strdup_printf ("it sent a %s frame for task %u while it ran task %u",
                            gather_helper_message_name (kind), serial, expected);

  if (kind == GATHER_HELPER_RESULT)
    {
      if (result_type != NULL && !g_variant_is_of_type (*body, GATHER_VARIANT_TYPE (result_type)))
        return g_strdup_printf ("it sent a result of type “%s”, not the declared “%s”",
                                g_variant_get_type_string (*body), result_type);

      helper_complete (helper, serial, g_steal_pointer (body), NULL);
      return NULL;
    }

  error = gather_helper_error_from_variant (*body);
  if (g_error_matches (error, GATHER_ERROR, GATHER_ERROR_LIMIT_EXCEEDED))
    {
      GError *named;

      g_mutex_lock (&helpers_lock);
      named = g_error_new (GATHER_ERROR, GATHER_ERROR_LIMIT_EXCEEDED, "%s %s",
                           helper->description, error->message);
      g_mutex_unlock (&helpers_lock);
      /* "task “x” (worker “y”) went past ...": a sentence of its own. */
      named->message[0] = g_ascii_toupper (named->message[0]);
      g_clear_error (&error);
      error = named;
    }
  helper_complete (helper, serial, NULL, g_steal_pointer (&error));
  return NULL;
}

/* Helpers' thread: reads what @helper sent. */
static void
helper_read (GatherHelper *helper)
{
  g_autofree char *broke = NULL;
  gboolean eof = FALSE;

  for (;;)
    {
      gsize available;
      guint8 *buffer = gather_frame_reader_reserve (&helper->reader, &available);
      ssize_t n = recv (helper->process.socket, buffer, available, MSG_DONTWAIT);

      if (n > 0)
        {
          gather_frame_reader_commit (&helper->reader, (gsize) n);
          if ((gsize) n < available)
            break;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      eof = TRUE;
      break;
    }

  while (broke == NULL)
    {
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GError) error = NULL;
      GatherHelperMessage kind;
      guint32 serial;
      int ready = gather_frame_reader_next (&helper->reader, &kind, &serial, &body, &error);

      if (ready == 0)
        break;
      if (ready < 0)
        broke = g_strdup (error->message);
      else
        broke = helper_handle_message (helper, kind, serial, &body);
    }

  if (broke != NULL || eof)
    {
      g_mutex_lock (&helpers_lock);
      helper->socket_done = TRUE;
      if (broke != NULL)
        helper_kill_locked (helper, broke);
      g_mutex_unlock (&helpers_lock);
    }
}

/* Called with helpers_lock held: gives every queued record of @pool an
 * ERROR outcome with @error, and returns them, since no helper can be
 * started for them. */
static GPtrArray *
take_queue_locked (GatherHelperPool *pool)
{
  GPtrArray *records = g_ptr_array_new ();
  GatherTaskRecord *record;

  while ((record = g_queue_pop_head (&pool->queue)) != NULL)
    g_ptr_array_add (records, record);

  return records;
}

/* Ends @record, which is ours and not begun, with @error (taken); one
 * whose run was stopped is skipped instead. */
static void
fail_record (GatherTaskRecord *record,
             GError           *error)
{
  GCancellable *cancellable = take_cancellable ();

  if (gather_task_record_try_begin (record, &cancellable, g_get_monotonic_time ()))
    {
      gather_task_record_finish (record, NULL, error, NULL);
      return;
    }

  g_error_free (error);
  give_back_cancellable (cancellable);
  gather_task_record_skip (record);
}

static void
fail_records (GPtrArray    *records,
              const GError *error)
{
  for (guint i = 0; i < records->len; i++)
    {
      GatherTaskRecord *record = g_ptr_array_index (records, i);
      GatherWorkerTask *task = record->user_data;

      fail_record (record, g_error_new (GATHER_ERROR, GATHER_ERROR_HELPER,
                                        "No helper process could run %s: %s",
                                        task->description, error->message));
    }
}

/* Waits for a supervisor that closed its status pipe, so is exiting: this
 * does not wait long. Returns its wait status. */
static int
reap_supervisor (GPid pid)
{
  int status = 0;
  pid_t got;

  do
    got = waitpid (pid, &status, 0);
  while (got < 0 && errno == EINTR);

  return status;
}

/* See gather-helper-pool-private.h. */
char *
gather_helper_process_reap (GatherHelperProcess *process,
                            int                 *signum)
{
  int worker_status = 0;
  gboolean has_status;
  int status;

  /* The supervisor writes the status before it exits. */
  status = reap_supervisor (process->pid);
  has_status = process->status_fd >= 0 && read_worker_status (process->status_fd, &worker_status);

  if (process->socket >= 0)
    close (process->socket);
  if (process->status_fd >= 0)
    close (process->status_fd);
  process->socket = -1;
  process->status_fd = -1;
  process->pid = 0;

  if (!has_status)
    worker_status = status;
  *signum = WIFSIGNALED (worker_status) ? WTERMSIG (worker_status) : 0;

  return describe_wait_status (worker_status);
}

/* "Task “x” (worker “y”)": @description as the start of a sentence. */
static char *
capitalized (const char *description)
{
  char *text = g_strdup (description);

  text[0] = g_ascii_toupper (text[0]);
  return text;
}

/*
 * Helpers' thread: @helper's worker process ended and its supervisor has
 * killed and reaped every process below it: it reported the worker
 * process's wait status, or, if it died itself, closed its status pipe
 * (then @status is its own). Gives the task it ran, if any, its outcome.
 * The caller holds a reference on @helper.
 */
static void
helper_ended (GatherHelper *helper,
              int           status)
{
  g_autoptr(GPtrArray) failed = NULL;
  g_autoptr(GPtrArray) lost = g_ptr_array_new ();
  g_autoptr(GError) start_error = NULL;
  GatherHelperPool *pool = helper->pool;
  GatherTaskRecord *record;
  g_autofree char *how = NULL;
  g_autofree char *broke = NULL;
  g_autoptr(GRefString) description = NULL;
  gboolean killed;
  gboolean started;
  gboolean taken;
  guint64 memory_limit;
  guint32 cpu_limit;
  int signum;

  how = describe_wait_status (status);
  signum = WIFSIGNALED (status) ? WTERMSIG (status) : 0;

  g_mutex_lock (&helpers_lock);
  helper->state = HELPER_ENDED;
  helper->socket_done = TRUE;
  /* Its word moves no more: whatever it had not taken goes to another
   * helper. What it took and is still queued here had started (its
   * replies before it were cut short, or the helper lied): those end
   * with this helper, never to run twice. */
  taken = revoke_locked (helper) >= helper->serial;
  for (guint i = 0; i < helper->n_queued; i++)
    g_ptr_array_add (lost, helper->queued[i]);
  helper->n_queued = 0;
  g_mutex_lock (&helper->out_lock);
  g_byte_array_set_size (helper->out, 0);
  g_mutex_unlock (&helper->out_lock);
  if (helper->record != NULL && !helper->begun)
    {
      /* Its starter (helper_start_task()) has not begun the task: it sees
       * this helper ended and deals with the record itself. */
      record = NULL;
      helper->worker_status = status;
      helper->has_status = TRUE;
    }
  else
    {
      record = g_steal_pointer (&helper->record);
    }
  /* Killed for this task: stopped, and the kill was for it. */
  killed = helper->killed && helper->stopped && helper->kill_serial == helper->serial;
  broke = g_steal_pointer (&helper->broke);
  description = g_steal_pointer (&helper->description);
  memory_limit = helper->memory_limit;
  cpu_limit = helper->cpu_limit;
  started = helper->worker_pid > 0;
  pool->n_ended++;

  if (!started && !pool->retiring)
    {
      /* It never got ready (it ended, or was killed for saying nothing in
       * time or something wrong): do not start another in a loop. */
      pool->n_failed++;
      g_clear_error (&pool->start_error);
      pool->start_error = g_error_new (GATHER_ERROR, GATHER_ERROR_HELPER,
                                       "the helper program “%s” %s before it was ready",
                                       gather_helper_program (), how);
      pool->target = live_helpers_locked (pool);
      if (live_helpers_locked (pool) + pool->n_spawning == 0)
        {
          failed = take_queue_locked (pool);
          start_error = g_error_copy (pool->start_error);
        }
    }
  g_mutex_unlock (&helpers_lock);

  helper_disarm_kill (helper);

  if (failed != NULL)
    fail_records (failed, start_error);

  for (guint i = 0; i < lost->len; i++)
    {
      GatherTaskRecord *queued = g_ptr_array_index (lost, i);
      GatherWorkerTask *task = queued->user_data;

      fail_record (queued, g_error_new (GATHER_ERROR, GATHER_ERROR_HELPER,
                                        "The helper process running %s %s",
                                        task->description, how));
    }

  if (record == NULL)
    return;

  if (killed && broke == NULL)
    {
      /* Stopped, then killed at the end of its grace period. */
      record->killed = TRUE;
      gather_task_record_finish (record, NULL, NULL, NULL);
    }
  else if (!taken)
    {
      gather_task_record_finish (record, NULL,
                                 g_error_new (GATHER_ERROR, GATHER_ERROR_HELPER,
                                              "The helper process that was to run %s %s "
                                              "before it started the task",
                                              description, how),
                                 NULL);
    }
  else if (broke != NULL)
    {
      gather_task_record_finish (record, NULL,
                                 g_error_new (GATHER_ERROR, GATHER_ERROR_HELPER,
                                              "The helper process running %s broke the "
                                              "protocol and was killed: %s",
                                              description, broke),
                                 NULL);
    }
  else if (signum == SIGXCPU && cpu_limit > 0)
    {
      g_autofree char *what = capitalized (description);

      gather_task_record_finish (record, NULL,
                                 g_error_new (GATHER_ERROR, GATHER_ERROR_LIMIT_EXCEEDED,
                                              "%s went past its CPU-time limit of %u s",
                                              what, cpu_limit),
                                 NULL);
    }
  else
    {
      g_autofree char *limit = NULL;

      if (memory_limit > 0 && signum != 0 && signum != SIGKILL)
        {
          g_autofree char *size = g_format_size_full (memory_limit, G_FORMAT_SIZE_IEC_UNITS);

          limit = g_strdup_printf (" (it had a memory limit of %s)", size);
        }

      gather_task_record_finish (record, NULL,
                                 g_error_new (GATHER_ERROR, GATHER_ERROR_HELPER,
                                              "The helper process running %s %s%s",
                                              description, how, limit != NULL ? limit : ""),
                                 NULL);
    }
}

/* Helpers' thread: @helper's supervisor closed its status pipe on its way
 * out. Reaps it (this waits only for its own teardown), and ends the
 * helper if it had not reported. The caller holds a reference. */
static void
helper_gone (GatherHelper *helper)
{
  GatherHelperPool *pool = helper->pool;
  int status = reap_supervisor (helper->process.pid);
  gboolean ended;

  g_mutex_lock (&helpers_lock);
  ended = helper->state == HELPER_ENDED;
  g_mutex_unlock (&helpers_lock);

  if (!ended)
    {
      if (!helper->socket_done)
        helper_read (helper);
      helper_ended (helper, helper->has_status ? helper->worker_status : status);
    }

  g_mutex_lock (&helpers_lock);
  helper->state = HELPER_GONE;
  pool->n_ended--;
  /* The list's reference; the caller holds another. */
  g_ptr_array_remove_fast (pool->helpers, helper);
  if (pool->retiring && pool->helpers->len + pool->n_spawning == 0)
    g_cond_broadcast (&pool->gone);
  g_mutex_unlock (&helpers_lock);

  helper_unref (helper);
}

/* Helpers' thread: the status pipe is readable: the worker process's
 * status, then end-of-file when the supervisor exits. */
static void
helper_status_ready (GatherHelper *helper)
{
  int status;
  ssize_t n;

  do
    n = read (helper->process.status_fd, &status, sizeof status);
  while (n < 0 && errno == EINTR);

  if (n == sizeof status && !helper->has_status)
    {
      /* Its worker process is gone, and reaped: no signal may go to its
       * pid any more, and it takes no task. */
      g_mutex_lock (&helpers_lock);
      helper->worker_status = status;
      helper->has_status = TRUE;
      helper->retire = TRUE;
      g_mutex_unlock (&helpers_lock);
      /* What it wrote before it died is in the socket already: its
       * replies count. */
      if (!helper->socket_done)
        helper_read (helper);
      helper_ended (helper, status);
      return;
    }

  if (n == 0 || (n < 0 && errno != EAGAIN))
    helper_gone (helper);
}

/* Helpers' thread, helpers_lock held: if a helper of @pool is idle while
 * another has requests queued that it has not started, those go back to
 * the pool's queue, for the idle one to take. */
static void
steal_locked (GatherHelperPool *pool)
{
  GatherHelper *idle = NULL;
  GatherHelper *busiest = NULL;
  guint32 last;

  for (guint i = 0; i < pool->helpers->len; i++)
    {
      GatherHelper *helper = g_ptr_array_index (pool->helpers, i);

      if (helper->state == HELPER_IDLE && helper_usable (helper))
        idle = helper;
      else if (helper->state == HELPER_BUSY &&
               helper->n_queued > (busiest != NULL ? busiest->n_queued : 0))
        busiest = helper;
    }

  if (idle == NULL || busiest == NULL)
    return;

  last = revoke_locked (busiest);
  if (busiest->record != NULL && busiest->begun && busiest->sent && !busiest->killed &&
      !busiest->stopped && last < busiest->serial)
    {
      GatherWorkerTask *task = busiest->record->user_data;

      /* Its own task was taken back too, before it read it: sent again.
       * The record is begun, and not finished: its user data is alive. */
      busiest->serial = ++busiest->last_sent;
      helper_send_locked (busiest, task->request, busiest->serial);
    }
}

/* Helpers' thread, helpers_lock held: what the pools need now. Fills
 * @wanting with the pools that want a helper started, and @ready with the
 * helpers that took a queued record, a reference each; lowers @timeout to
 * the next start deadline. */
static void
maintain_locked (GPtrArray *wanting,
                 GPtrArray *ready,
                 GPtrArray *skipped,
                 gint64    *timeout)
{
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < pools->len; i++)
    {
      GatherHelperPool *pool = g_ptr_array_index (pools, i);
      gboolean wants;

      /* A record of a stopped run never starts: without a helper to pop
       * it (none may ever come), it would stay here and keep its run. */
      if (pool->queue.length > 0)
        {
          if (now >= pool->next_sweep)
            {
              for (GList *l = pool->queue.head, *next; l != NULL; l = next)
                {
                  GatherTaskRecord *record = l->data;

                  next = l->next;
                  if (gather_inbox_get_stop (record->inbox) != GATHER_STOP_NONE)
                    {
                      g_queue_delete_link (&pool->queue, l);
                      g_ptr_array_add (skipped, record);
                    }
                }
              pool->next_sweep = now + SWEEP_INTERVAL_USEC;
            }
          if (pool->queue.length > 0)
            *timeout = MIN (*timeout, pool->next_sweep);
        }

      if (pool->retiring)
        {
          for (guint j = 0; j < pool->helpers->len; j++)
            {
              GatherHelper *helper = g_ptr_array_index (pool->helpers, j);

              /* One that has not said hello may never read its socket. */
              if (helper->state == HELPER_STARTING && !helper->killed)
                helper_kill_locked (helper, NULL);

              /* End-of-file for its worker process, which exits. */
              if (!helper->socket_done)
                {
                  shutdown (helper->process.socket, SHUT_RDWR);
                  helper->socket_done = TRUE;
                }
            }

          if (pool->helpers->len == 0 && pool->n_spawning == 0)
            {
              g_cond_broadcast (&pool->gone);
              g_ptr_array_remove_index (pools, i);
              gather_helper_pool_unref (pool);
              i--;
            }
          continue;
        }

      for (guint j = 0; j < pool->helpers->len; j++)
        {
          GatherHelper *helper = g_ptr_array_index (pool->helpers, j);

          if (helper->state == HELPER_STARTING && !helper->killed)
            {
              if (now >= helper->start_deadline)
                helper_kill_locked (helper, "it did not say HELLO in time");
              else
                *timeout = MIN (*timeout, helper->start_deadline);
            }

          /* A helper that went past its memory limit is on its way out. */
          if (helper->retire && helper->state == HELPER_IDLE && !helper->socket_done)
            {
              shutdown (helper->process.socket, SHUT_RDWR);
              helper->socket_done = TRUE;
            }
        }

      wants = wants_helper_locked (pool);
      if (!wants)
        pool->held_since = 0;

      if (wants && !hold_start_locked (pool, now, timeout))
        {
          pool->n_spawning++;
          g_atomic_int_inc (&pool->ref_count);
          g_ptr_array_add (wanting, pool);
        }
      else if (!wants && pool->n_failed > 0 && live_helpers_locked (pool) + pool->n_spawning == 0 &&
               pool->queue.length > 0)
        {
          /* The last start failed, and tasks came since: one more try. */
          pool->n_failed = 0;
          pool->target = MAX (pool->target, 1);
          pool->n_spawning++;
          g_atomic_int_inc (&pool->ref_count);
          g_ptr_array_add (wanting, pool);
        }

      if (pool->queue.length == 0)
        steal_locked (pool);

      /* Idle helpers take queued records... */
      for (guint j = 0; j < pool->helpers->len && pool->queue.length > 0; j++)
        {
          GatherHelper *helper = g_ptr_array_index (pool->helpers, j);

          if (helper->state == HELPER_IDLE && helper_usable (helper))
            {
              helper_assign_locked (helper, g_queue_pop_head (&pool->queue));
              g_ptr_array_add (ready, helper_ref (helper));
            }
        }

      /* ... and once none is idle, busy ones take records of their run. */
      for (guint j = 0; j < pool->helpers->len && pool->queue.length > 0; j++)
        helper_fill_locked (g_ptr_array_index (pool->helpers, j));
    }
}

/* Helpers' thread: starts one helper for @pool; fails its queued records
 * if none can be started and none runs. */
static void
start_helper_for (GatherHelperPool *pool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) failed = NULL;
  GatherHelper *helper = helper_spawn (pool, &error);

  g_mutex_lock (&helpers_lock);
  pool->n_spawning--;
  if (helper != NULL)
    {
      /* Even to a retiring pool: it waits for the helper to go. */
      g_ptr_array_add (pool->helpers, helper);
    }
  else
    {
      pool->n_failed++;
      g_clear_error (&pool->start_error);
      pool->start_error = g_error_copy (error);
      pool->target = live_helpers_locked (pool);
      if (live_helpers_locked (pool) + pool->n_spawning == 0)
        failed = take_queue_locked (pool);
    }
  if (pool->retiring && pool->helpers->len + pool->n_spawning == 0)
    g_cond_broadcast (&pool->gone);
  g_mutex_unlock (&helpers_lock);

  /* A new helper to poll. */
  wake_helpers_thread ();

  if (failed != NULL)
    fail_records (failed, error);
}

/*
 * The spawner thread: starts the helpers the helpers' thread asks for, so
 * that posix_spawn(), about a millisecond, never holds up replies, kills
 * and deaths. It lives as long as the process, since a supervisor dies
 * with the thread that started it.
 */
static gpointer
spawner_thread (gpointer data)
{
  /* Helpers inherit this thread's policy. */
  gather_sched_set_batch (FALSE);

  for (;;)
    {
      GatherHelperPool *pool;

      g_mutex_lock (&helpers_lock);
      while ((pool = g_queue_pop_head (&spawn_requests)) == NULL)
        g_cond_wait (&spawn_cond, &helpers_lock);
      g_mutex_unlock (&helpers_lock);

      start_helper_for (pool);
      gather_helper_pool_unref (pool);
    }

  return NULL;
}

static gpointer
helpers_thread (gpointer data)
{
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  g_autoptr(GPtrArray) polled = g_ptr_array_new ();
  g_autoptr(GPtrArray) wanting = g_ptr_array_new ();
  g_autoptr(GPtrArray) ready = g_ptr_array_new ();
  g_autoptr(GPtrArray) skipped = g_ptr_array_new ();

  gather_inbox_mark_thread ();
  gather_sched_set_batch (FALSE);

  for (;;)
    {
      gint64 deadline = G_MAXINT64;
      int timeout = -1;
      struct pollfd wake = { wake_fd, POLLIN, 0 };

      g_array_set_size (fds, 0);
      g_ptr_array_set_size (polled, 0);
      g_array_append_val (fds, wake);

      g_mutex_lock (&helpers_lock);
      maintain_locked (wanting, ready, skipped, &deadline);
      for (guint i = 0; i < pools->len; i++)
        {
          GatherHelperPool *pool = g_ptr_array_index (pools, i);

          for (guint j = 0; j < pool->helpers->len; j++)
            {
              GatherHelper *helper = g_ptr_array_index (pool->helpers, j);
              struct pollfd socket_fd = { helper->process.socket, 0, 0 };
              struct pollfd status_fd = { helper->process.status_fd, POLLIN, 0 };

              /* POLLOUT once what is queued for it is pushed, below. */
              if (!helper->socket_done)
                socket_fd.events = POLLIN;
              else
                socket_fd.fd = -1;

              g_array_append_val (fds, socket_fd);
              g_array_append_val (fds, status_fd);
              g_ptr_array_add (polled, helper_ref (helper));
            }
        }
      g_mutex_unlock (&helpers_lock);

      /* Off the lock: what the helpers were sent above (queued behind
       * their tasks, or sent again), and what a socket did not take
       * before, is written... */
      for (guint i = 0; i < polled->len; i++)
        {
          struct pollfd *socket_fd = &g_array_index (fds, struct pollfd, 1 + 2 * i);

          if (helper_push_out (g_ptr_array_index (polled, i), FALSE) && socket_fd->fd >= 0)
            socket_fd->events |= POLLOUT;
        }

      /* ... the owner releases what will not start (its outcome is
       * recorded already: the run was stopped)... */
      for (guint i = 0; i < skipped->len; i++)
        {
          GatherTaskRecord *record = g_ptr_array_index (skipped, i);

          gather_inbox_post (record->inbox, record, GATHER_EVENT_SKIPPED);
        }
      g_ptr_array_set_size (skipped, 0);

      /* ... ask for helpers, hand records to free ones. */
      if (wanting->len > 0)
        {
          g_mutex_lock (&helpers_lock);
          for (guint i = 0; i < wanting->len; i++)
            g_queue_push_tail (&spawn_requests, g_ptr_array_index (wanting, i));
          g_cond_signal (&spawn_cond);
          g_mutex_unlock (&helpers_lock);
          g_ptr_array_set_size (wanting, 0);
        }
      for (guint i = 0; i < ready->len; i++)
        {
          GatherHelper *helper = g_ptr_array_index (ready, i);
          GatherTaskRecord *record;

          g_mutex_lock (&helpers_lock);
          record = helper->record;
          g_mutex_unlock (&helpers_lock);
          helper_start_task (helper, record);
          helper_unref (helper);
        }

      if (ready->len > 0)
        {
          /* Records were handed out: look again. */
          g_ptr_array_set_size (ready, 0);
          for (guint i = 0; i < polled->len; i++)
            helper_unref (g_ptr_array_index (polled, i));
          continue;
        }

      if (deadline != G_MAXINT64)
        timeout = (int) CLAMP ((deadline - g_get_monotonic_time () + 999) / 1000, 0, G_MAXINT);

      if (poll ((struct pollfd *) (void *) fds->data, fds->len, timeout) < 0 && errno != EINTR)
        g_error ("gather: polling helper processes failed: %s", g_strerror (errno));

      if (g_array_index (fds, struct pollfd, 0).revents & POLLIN)
        {
          guint64 count;

          if (read (wake_fd, &count, sizeof count) < 0)
            {
              /* Nothing pending after all. */
            }
        }

      for (guint i = 0; i < polled->len; i++)
        {
          GatherHelper *helper = g_ptr_array_index (polled, i);
          struct pollfd *socket_fd = &g_array_index (fds, struct pollfd, 1 + 2 * i);
          struct pollfd *status_fd = &g_array_index (fds, struct pollfd, 2 + 2 * i);

          /* POLLOUT: the next pass writes what is left (above). */
          if (socket_fd->revents & (POLLIN | POLLHUP | POLLERR))
            helper_read (helper);
          if (status_fd->revents & (POLLIN | POLLHUP | POLLERR))
            helper_status_ready (helper);
        }

      for (guint i = 0; i < polled->len; i++)
        helper_unref (g_ptr_array_index (polled, i));
    }

  return NULL;
}

/* ---- Pools ---- */

static void
gather_helper_pool_unref (GatherHelperPool *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;

  g_assert (self->queue.length == 0);
  g_assert (self->helpers->len == 0);

  g_ptr_array_unref (self->helpers);
  g_clear_error (&self->start_error);
  g_cond_clear (&self->gone);
  g_free (self);
}

/* The GatherPool is finalized: its helpers exit, and are waited for, so
 * that none is left once the last group that used the pool is gone. */
static void
gather_helper_pool_retire (gpointer data)
{
  GatherHelperPool *self = data;
  gint64 deadline = g_get_monotonic_time () + RETIRE_TIMEOUT_USEC;

  g_mutex_lock (&helpers_lock);
  self->retiring = TRUE;
  wake_helpers_thread ();
  while (self->helpers->len + self->n_spawning > 0)
    if (!g_cond_wait_until (&self->gone, &helpers_lock, deadline))
      {
        g_warning ("gather: %u helper process%s did not exit in time", self->helpers->len,
                   self->helpers->len == 1 ? "" : "es");
        break;
      }
  g_mutex_unlock (&helpers_lock);

  gather_helper_pool_unref (self);
}

static void
start_helpers_thread (void)
{
  wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0)
    g_error ("gather: could not create an eventfd: %s", g_strerror (errno));

  pools = g_ptr_array_new ();
  pool_quark = g_quark_from_static_string ("gather-helper-pool");
  g_queue_init (&spawn_requests);
  g_thread_unref (g_thread_new ("gather-helpers", helpers_thread, NULL));
  g_thread_unref (g_thread_new ("gather-spawner", spawner_thread, NULL));
}

/*
 * gather_helper_pool_get:
 * The helpers of @pool, created the first time. Owner's context.
 *
 * Returns: (transfer none): @pool's helpers, which live as long as it
 */
GatherHelperPool *
gather_helper_pool_get (GatherPool *pool)
{
  static GMutex get_lock;
  static gsize started;
  GatherHelperPool *self;

  if (g_once_init_enter (&started))
    {
      start_helpers_thread ();
      g_once_init_leave (&started, 1);
    }

  /* GatherPool's methods are thread-safe: two groups on two threads may
   * ask at once, and must get the same helpers. */
  g_mutex_lock (&get_lock);
  self = g_object_get_qdata (G_OBJECT (pool), pool_quark);
  if (self != NULL)
    {
      g_mutex_unlock (&get_lock);
      return self;
    }

  self = g_new0 (GatherHelperPool, 1);
  self->ref_count = 2;   /* the qdata, the list */
  g_cond_init (&self->gone);
  g_queue_init (&self->queue);
  self->helpers = g_ptr_array_new ();

  g_mutex_lock (&helpers_lock);
  g_ptr_array_add (pools, self);
  g_mutex_unlock (&helpers_lock);

  g_object_set_qdata_full (G_OBJECT (pool), pool_quark, self, gather_helper_pool_retire);
  g_mutex_unlock (&get_lock);

  return self;
}
