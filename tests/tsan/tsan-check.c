/* tsan-check.c: does the ThreadSanitizer setup see what it must?
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `tsan-check orders` hands data from thread to thread through each GLib
 * mechanism the shim (gather-tsan-glib.c) teaches TSan, and must run
 * without a report. `tsan-check race-*` each contain one real race next to
 * the same mechanisms, and must be reported (TSan's exit status 66): the
 * shim must not order more than GLib does.
 */

#include <glib-object.h>

static gint shared;   /* the data handed over; plain, not atomic */

/* ---- GMutex and GCond ---- */

typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean ready;
} Handoff;

static gpointer
mutex_writer (gpointer data)
{
  Handoff *handoff = data;

  g_mutex_lock (&handoff->mutex);
  shared++;
  handoff->ready = TRUE;
  g_cond_signal (&handoff->cond);
  g_mutex_unlock (&handoff->mutex);

  return NULL;
}

static void
check_mutex (void)
{
  Handoff handoff = { 0 };
  GThread *thread;

  g_mutex_init (&handoff.mutex);
  g_cond_init (&handoff.cond);
  thread = g_thread_new ("writer", mutex_writer, &handoff);

  g_mutex_lock (&handoff.mutex);
  while (!handoff.ready)
    g_cond_wait (&handoff.cond, &handoff.mutex);
  shared++;
  g_mutex_unlock (&handoff.mutex);

  /* A thread handed to g_thread_unref() is never joined: nothing else
   * orders it with what follows. */
  g_thread_unref (thread);
  g_mutex_clear (&handoff.mutex);
  g_cond_clear (&handoff.cond);
}

/* ---- GOnce ---- */

static gint once_data;

static gpointer
once_reader (gpointer data)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      once_data = 42;
      g_once_init_leave (&initialized, 1);
    }

  g_assert_cmpint (once_data, ==, 42);

  return NULL;
}

static void
check_once (void)
{
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("once", once_reader, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
}

/* ---- GThreadPool, and a main context's wake-up ---- */

typedef struct
{
  gint          value;       /* written before the push, read by the body */
  gint          result;      /* written by the body, read on the owner */
  gboolean      race;        /* the body writes shared after handing over */
  GMainContext *context;
  gboolean      done;
} Job;

static gboolean
job_done (gpointer data)
{
  Job *job = data;

  g_assert_cmpint (job->result, ==, job->value * 2);
  job->done = TRUE;

  return G_SOURCE_REMOVE;
}

static void
job_run (gpointer data,
         gpointer user_data)
{
  Job *job = data;
  gboolean race = job->race;

  job->result = job->value * 2;
  g_main_context_invoke (job->context, job_done, job);
  /* The job is the owner's again: not one more access to it. */
  if (race)
    shared++;   /* after the hand-over: nothing orders it */
}

/* With @race, one job whose body writes shared after handing the job
 * back: a later job on the same thread would order that write, so there is
 * only the one. */
static void
check_pool (gboolean race)
{
  GMainContext *context = g_main_context_new ();
  GThreadPool *pool = g_thread_pool_new (job_run, NULL, 2, FALSE, NULL);
  Job jobs[8];
  guint n_jobs = race ? 1 : G_N_ELEMENTS (jobs);

  g_main_context_push_thread_default (context);

  for (guint i = 0; i < n_jobs; i++)
    {
      jobs[i] = (Job) { (gint) i + 1, 0, race, context, FALSE };
      g_thread_pool_push (pool, &jobs[i], NULL);
    }

  for (guint i = 0; i < n_jobs; i++)
    while (!jobs[i].done)
      g_main_context_iteration (context, TRUE);

  if (race)
    shared++;

  g_thread_pool_free (pool, FALSE, TRUE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

/* ---- A custom source woken with g_source_set_ready_time() ---- */

typedef struct
{
  GSource  *source;
  gint      value;
  gboolean  seen;
} Wake;

static gboolean
wake_dispatch (GSource     *source,
               GSourceFunc  callback,
               gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs wake_funcs = { .dispatch = wake_dispatch };

static gboolean
wake_seen (gpointer data)
{
  Wake *wake = data;

  g_assert_cmpint (wake->value, ==, 7);
  wake->seen = TRUE;

  return G_SOURCE_REMOVE;
}

static gpointer
waker (gpointer data)
{
  Wake *wake = data;

  wake->value = 7;
  g_source_set_ready_time (wake->source, 0);

  return NULL;
}

static void
check_ready_time (void)
{
  GMainContext *context = g_main_context_new ();
  Wake wake = { g_source_new (&wake_funcs, sizeof (GSource)), 0, FALSE };
  GThread *thread;

  g_source_set_callback (wake.source, wake_seen, &wake, NULL);
  g_source_attach (wake.source, context);

  thread = g_thread_new ("waker", waker, &wake);
  while (!wake.seen)
    g_main_context_iteration (context, TRUE);

  g_thread_join (thread);
  g_source_destroy (wake.source);
  g_source_unref (wake.source);
  g_main_context_unref (context);
}

/* ---- A GObject whose last reference goes on another thread ---- */

static gpointer
unref_later (gpointer data)
{
  /* Drop the last reference, always: wait until the main thread dropped
   * its own. GLib's atomic decrement is invisible to TSan, so this wait
   * orders nothing for it; only the shim's model of g_object_unref() can
   * order the main thread's accesses before the finalization. (Were both
   * threads to drop their references at once, the shim could miss the
   * acquire and report a race that is not there: see its comment.) */
  while (g_atomic_int_get (&((GObject *) data)->ref_count) > 1)
    g_thread_yield ();

  g_object_unref (data);
  return NULL;
}

static void
check_unref (void)
{
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  GThread *thread;

  g_object_set_data_full (object, "data", g_strdup ("written here"), g_free);
  g_object_ref (object);
  thread = g_thread_new ("unref", unref_later, object);
  g_object_set_data (object, "more", &shared);
  g_object_unref (object);
  g_thread_join (thread);
}

/* ---- The races ---- */

static gpointer
racer (gpointer data)
{
  shared++;
  return NULL;
}

/* Two threads write one int, each holding a different GMutex. */
static void
race_mutex (void)
{
  static GMutex a, b;
  GThread *thread = g_thread_new ("racer", racer, NULL);

  g_mutex_lock (&a);
  g_mutex_lock (&b);
  g_mutex_unlock (&b);
  g_mutex_unlock (&a);
  shared++;
  g_thread_join (thread);   /* too late: the writes were not ordered */
}

int
main (int   argc,
      char *argv[])
{
  const char *what = argc > 1 ? argv[1] : "";

  if (g_str_equal (what, "orders"))
    {
      check_mutex ();
      check_once ();
      check_pool (FALSE);
      check_ready_time ();
      check_unref ();
    }
  else if (g_str_equal (what, "race-pool"))
    {
      check_pool (TRUE);
    }
  else if (g_str_equal (what, "race-mutex"))
    {
      race_mutex ();
    }
  else
    {
      g_printerr ("usage: tsan-check orders|race-pool|race-mutex\n");
      return 2;
    }

  return 0;
}
