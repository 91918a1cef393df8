/* gather-bench.c: speed, scale, timeout lateness and memory of libgather,
 * measured against baselines run in the same process.
 *
 * The machine these run on is shared and noisy: compare the ratios printed
 * here, measured minutes apart in one run, rather than absolute figures from
 * different runs. Every figure is the median of --repeat runs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libgather.h>

static guint    opt_repeat = 5;
static guint    opt_max_exponent = 6;
static guint    opt_python_max_exponent = 5;
static guint    opt_lateness_tasks = 10000;
static gboolean opt_quick;
static char    *opt_only;
static char    *opt_sections;
static char    *opt_memory_child;
static guint    opt_memory_n;

static GOptionEntry entries[] = {
  { "repeat", 'r', 0, G_OPTION_ARG_INT, &opt_repeat, "Runs per figure (median)", "N" },
  { "max-exponent", 'e', 0, G_OPTION_ARG_INT, &opt_max_exponent, "Largest N is 10^E (default 6)", "E" },
  { "python-max-exponent", 0, 0, G_OPTION_ARG_INT, &opt_python_max_exponent, "Largest N for asyncio (default 5)", "E" },
  { "lateness-tasks", 0, 0, G_OPTION_ARG_INT, &opt_lateness_tasks, "Concurrent timed tasks (default 10000)", "N" },
  { "quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick, "Small sizes, one run: checks the program works", NULL },
  { "sections", 's', 0, G_OPTION_ARG_STRING, &opt_sections, "Which tables to print: speed, async, lateness, memory, model, storm (default: all but storm)", "LIST" },
  { "only", 0, 0, G_OPTION_ARG_STRING, &opt_only, "Time one variant at N = 10^E and exit, for profiling: gather, gather-model, batched, idle, gtask, async or naive", "NAME" },
  { "memory-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt_memory_child, NULL, NULL },
  { "memory-n", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_memory_n, NULL, NULL },
  { NULL }
};

/* ---- Helpers ---- */

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *values,
        guint   n)
{
  qsort (values, n, sizeof (double), compare_double);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* The machine is shared: say how busy it was around each section. */
static void
print_load (const char *section)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &contents, NULL, NULL))
    return;

  fields = g_strsplit (contents, " ", 4);
  g_print ("<!-- %s: load average %s %s %s -->\n", section, fields[0], fields[1], fields[2]);
  if (g_ascii_strtod (fields[0], NULL) > 0.5 * g_get_num_processors ())
    g_print ("<!-- warning: the machine is busy (load %s on %u processors): figures are noisy -->\n",
             fields[0], g_get_num_processors ());
}

static double
percentile (GArray *values,
            double  p)
{
  guint i;

  if (values->len == 0)
    return 0;

  g_array_sort (values, compare_double);
  i = (guint) (p * (values->len - 1) + 0.5);

  return g_array_index (values, double, i);
}

static void
run_until (gboolean *done)
{
  while (!*done)
    g_main_context_iteration (NULL, TRUE);
}

/* What every body computes: a small GVariant, as a gather task returns. */
static inline GVariant *
trivial_work (guint i)
{
  return g_variant_ref_sink (g_variant_new_uint32 (i));
}

typedef double (*Measure) (guint n);

/* ---- Baseline 1: GThreadPool, one idle source per result ---- */

typedef struct
{
  guint     n_done;
  guint     n;
  gboolean  done;
  guint64   sum;
} Counter;

static Counter counter;

typedef struct
{
  guint     index;
  GVariant *result;
} Job;

/* Queues @n jobs on @pool and runs the main loop until all are delivered. */
static void
run_jobs (GThreadPool *pool,
          guint        n)
{
  counter = (Counter) { 0, n, n == 0, 0 };
  for (guint i = 0; i < n; i++)
    {
      Job *job = g_new (Job, 1);

      job->index = i;
      g_thread_pool_push (pool, job, NULL);
    }
  run_until (&counter.done);
  g_thread_pool_free (pool, FALSE, TRUE);

  g_assert (counter.sum == (guint64) n * (n - 1) / 2);
}

static gboolean
idle_deliver (gpointer data)
{
  Job *job = data;

  counter.sum += g_variant_get_uint32 (job->result);
  g_variant_unref (job->result);
  g_free (job);
  if (++counter.n_done == counter.n)
    counter.done = TRUE;

  return G_SOURCE_REMOVE;
}

static void
idle_worker (gpointer data,
             gpointer user_data)
{
  Job *job = data;

  job->result = trivial_work (job->index);
  g_idle_add (idle_deliver, job);
}

static double
measure_pool_idle (guint n)
{
  gint64 start = g_get_monotonic_time ();

  run_jobs (g_thread_pool_new (idle_worker, NULL, g_get_num_processors (), FALSE, NULL), n);

  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

/* ---- Baseline 2: GThreadPool, results batched through one GSource ---- */

static GAsyncQueue *batch_queue;
static GSource     *batch_source;
static gint         batch_armed;

static gboolean
batch_dispatch (gpointer data)
{
  Job *job;

  g_source_set_ready_time (batch_source, -1);
  g_atomic_int_set (&batch_armed, FALSE);

  while ((job = g_async_queue_try_pop (batch_queue)) != NULL)
    {
      counter.sum += g_variant_get_uint32 (job->result);
      g_variant_unref (job->result);
      g_free (job);
      if (++counter.n_done == counter.n)
        counter.done = TRUE;
    }

  return G_SOURCE_CONTINUE;
}

static void
batch_worker (gpointer data,
              gpointer user_data)
{
  Job *job = data;

  job->result = trivial_work (job->index);
  g_async_queue_push (batch_queue, job);
  if (g_atomic_int_compare_and_exchange (&batch_armed, FALSE, TRUE))
    g_source_set_ready_time (batch_source, 0);
}

static GSourceFuncs batch_funcs = { NULL };

static gboolean
batch_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  return callback (user_data);
}

static double
measure_pool_batched (guint n)
{
  gint64 start = g_get_monotonic_time ();
  GThreadPool *pool = g_thread_pool_new (batch_worker, NULL, g_get_num_processors (), FALSE, NULL);

  batch_funcs.dispatch = batch_source_dispatch;
  batch_armed = FALSE;
  batch_queue = g_async_queue_new ();
  batch_source = g_source_new (&batch_funcs, sizeof (GSource));
  g_source_set_callback (batch_source, batch_dispatch, NULL, NULL);
  g_source_attach (batch_source, NULL);

  run_jobs (pool, n);

  g_source_destroy (batch_source);
  g_source_unref (batch_source);
  g_async_queue_unref (batch_queue);

  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

/* ---- Baseline 3: g_task_run_in_thread ---- */

static void
gtask_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  g_task_return_pointer (task, trivial_work (GPOINTER_TO_UINT (task_data)),
                         (GDestroyNotify) g_variant_unref);
}

static void
gtask_done (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GVariant *value = g_task_propagate_pointer (G_TASK (result), NULL);

  counter.sum += g_variant_get_uint32 (value);
  g_variant_unref (value);
  if (++counter.n_done == counter.n)
    counter.done = TRUE;
}

static double
measure_gtask (guint n)
{
  gint64 start = g_get_monotonic_time ();

  counter = (Counter) { 0, n, n == 0, 0 };
  for (guint i = 0; i < n; i++)
    {
      GTask *task = g_task_new (NULL, NULL, gtask_done, NULL);

      g_task_set_task_data (task, GUINT_TO_POINTER (i), NULL);
      g_task_run_in_thread (task, gtask_thread);
      g_object_unref (task);
    }
  run_until (&counter.done);

  g_assert (counter.sum == (guint64) n * (n - 1) / 2);
  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

/* ---- gather ---- */

static GVariant *
gather_trivial (GCancellable  *cancellable,
                gpointer       user_data,
                GError       **error)
{
  return trivial_work (GPOINTER_TO_UINT (user_data));
}

static void
gather_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GPtrArray) outcomes = gather_group_run_finish (GATHER_GROUP (object), result, NULL);

  for (guint i = 0; i < outcomes->len; i++)
    counter.sum += g_variant_get_uint32 (gather_outcome_get_result (g_ptr_array_index (outcomes, i)));
  counter.n_done = outcomes->len;
  counter.done = TRUE;
}

static double
measure_gather (guint n)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GatherGroup) group = gather_group_new ();

  counter = (Counter) { 0, n, FALSE, 0 };
  /* Every task has its own timeout; none fires. */
  for (guint i = 0; i < n; i++)
    gather_group_add_task (group, NULL, 60000, gather_trivial, GUINT_TO_POINTER (i), NULL, NULL);
  gather_group_run_async (group, NULL, gather_done, NULL);
  run_until (&counter.done);

  g_assert (counter.sum == (guint64) n * (n - 1) / 2);
  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

/* The same run with the group's task model asked for, nothing connected to
 * it: what an application pays for having the model around. */
static double
measure_gather_model (guint n)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GatherGroup) group = gather_group_new ();

  counter = (Counter) { 0, n, FALSE, 0 };
  g_assert (g_list_model_get_n_items (gather_group_get_tasks (group)) == 0);
  for (guint i = 0; i < n; i++)
    gather_group_add_task (group, NULL, 60000, gather_trivial, GUINT_TO_POINTER (i), NULL, NULL);
  g_assert (g_list_model_get_n_items (gather_group_get_tasks (group)) == n);
  gather_group_run_async (group, NULL, gather_done, NULL);
  run_until (&counter.done);

  g_assert (counter.sum == (guint64) n * (n - 1) / 2);
  return (g_get_monotonic_time () - start) * 1000.0 / n;
}

/* ---- Async operations on the owner's context ----
 *
 * N operations in flight at once, each with its own timeout that does not
 * fire, completed one per main-loop iteration in a random order, as I/O
 * completions arrive. gather: async tasks. Naive: what one writes by hand,
 * a GCancellable and a g_timeout_source per operation on the same context.
 */

typedef struct
{
  guint              n;
  guint              n_started;
  guint              next;          /* completions returned so far */
  guint              stop_after;    /* naive: time this many completions */
  guint             *order;         /* a random permutation of 0..n-1 */
  GatherCompletion **handles;       /* gather: by task */
  guint             *timeouts;      /* naive: a source per operation */
  GCancellable     **cancellables;  /* naive */
  guint64            sum;
  gboolean           done;
} AsyncBench;

static AsyncBench async_bench;

static void
async_bench_init (guint n)
{
  GRand *rand = g_rand_new_with_seed (n);

  async_bench = (AsyncBench) { n, 0, 0, n };
  async_bench.order = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    async_bench.order[i] = i;
  for (guint i = n; i > 1; i--)
    {
      guint j = g_rand_int_range (rand, 0, i);
      guint tmp = async_bench.order[i - 1];

      async_bench.order[i - 1] = async_bench.order[j];
      async_bench.order[j] = tmp;
    }
  g_rand_free (rand);
}

static void
async_bench_clear (void)
{
  g_clear_pointer (&async_bench.order, g_free);
  g_clear_pointer (&async_bench.handles, g_free);
  g_clear_pointer (&async_bench.timeouts, g_free);
  g_clear_pointer (&async_bench.cancellables, g_free);
}

static void
async_bench_start (GatherCompletion *completion,
                   GCancellable     *cancellable,
                   gpointer          user_data)
{
  async_bench.handles[GPOINTER_TO_UINT (user_data)] = completion;
  async_bench.n_started++;
}

/* One completion per dispatch, once every operation has started. */
static gboolean
async_bench_complete_one (gpointer data)
{
  GatherCompletion *completion;
  guint i;

  if (async_bench.n_started < async_bench.n)
    return G_SOURCE_CONTINUE;
  if (async_bench.next == async_bench.n)
    return G_SOURCE_REMOVE;

  i = async_bench.order[async_bench.next++];
  completion = g_steal_pointer (&async_bench.handles[i]);
  gather_completion_return_value (completion, g_variant_new_uint32 (i));
  gather_completion_unref (completion);

  return G_SOURCE_CONTINUE;
}

static void
async_bench_done (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GPtrArray) outcomes = gather_group_run_finish (GATHER_GROUP (object), result, NULL);

  for (guint i = 0; i < outcomes->len; i++)
    async_bench.sum += g_variant_get_uint32 (gather_outcome_get_result (g_ptr_array_index (outcomes, i)));
  async_bench.done = TRUE;
}

static double
measure_async (guint n)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  gint64 start;
  double ns;

  async_bench_init (n);
  async_bench.handles = g_new0 (GatherCompletion *, n);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    gather_group_add_async_task (group, NULL, 60000, async_bench_start, GUINT_TO_POINTER (i), NULL, NULL);
  gather_group_run_async (group, NULL, async_bench_done, NULL);
  g_idle_add (async_bench_complete_one, NULL);
  run_until (&async_bench.done);
  ns = (g_get_monotonic_time () - start) * 1000.0 / n;

  g_assert (async_bench.sum == (guint64) n * (n - 1) / 2);
  async_bench_clear ();

  return ns;
}

static gboolean
naive_timeout (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gboolean
naive_complete_one (gpointer data)
{
  guint i;

  if (async_bench.next == async_bench.stop_after)
    {
      async_bench.done = TRUE;
      return G_SOURCE_REMOVE;
    }

  i = async_bench.order[async_bench.next++];
  g_source_remove (async_bench.timeouts[i]);
  g_object_unref (async_bench.cancellables[i]);
  async_bench.sum += i;

  return G_SOURCE_CONTINUE;
}

/*
 * The hand-written design. Every main-loop iteration walks all N timeout
 * sources, so a full run is quadratic: past 10^4 operations only the first
 * 2,000 completions are timed (with all N in flight), and the rest are
 * dropped untimed.
 */
static double
measure_naive (guint n)
{
  guint timed = n <= 10000 ? n : 2000;
  gint64 start, end;

  async_bench_init (n);
  async_bench.stop_after = timed;
  async_bench.timeouts = g_new (guint, n);
  async_bench.cancellables = g_new (GCancellable *, n);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      async_bench.cancellables[i] = g_cancellable_new ();
      async_bench.timeouts[i] = g_timeout_add (60000, naive_timeout, async_bench.cancellables[i]);
    }
  g_idle_add (naive_complete_one, NULL);
  run_until (&async_bench.done);
  end = g_get_monotonic_time ();

  for (guint k = timed; k < n; k++)
    {
      guint i = async_bench.order[k];

      g_source_remove (async_bench.timeouts[i]);
      g_object_unref (async_bench.cancellables[i]);
    }
  async_bench_clear ();

  /* Start (all N, amortised) and completion. */
  return (end - start) * 1000.0 / timed;
}

static void
print_async (void)
{
  guint max_exponent = MIN (opt_max_exponent, 5);
  double first = 0, last = 0;

  print_load ("async");
  g_print ("## Async operations on the owner's context (ns per operation, start + completion;\n"
           "##   N in flight at once, a timeout each that does not fire, completed one per\n"
           "##   main-loop iteration in random order; median (min-max) of %u)\n\n", opt_repeat);
  g_print ("| N | gather async tasks | naive: a g_timeout_source + GCancellable each | naive / gather |\n");
  g_print ("|---|---|---|---|\n");

  for (guint e = 3; e <= max_exponent; e++)
    {
      guint n = 1;
      g_autofree double *v_gather = g_new (double, opt_repeat);
      g_autofree double *v_naive = g_new (double, opt_repeat);
      double gather, naive;

      for (guint k = 0; k < e; k++)
        n *= 10;

      for (guint r = 0; r < opt_repeat; r++)
        {
          v_gather[r] = measure_async (n);
          v_naive[r] = measure_naive (n);
        }

      gather = median (v_gather, opt_repeat);
      naive = median (v_naive, opt_repeat);
      if (e == 3)
        first = gather;
      last = gather;

      g_print ("| %u | **%.0f** (%.0f-%.0f) | %.0f (%.0f-%.0f)%s | %.0fx |\n", n,
               gather, v_gather[0], v_gather[opt_repeat - 1],
               naive, v_naive[0], v_naive[opt_repeat - 1],
               n > 10000 ? " (first 2,000 completions)" : "",
               naive / gather);
    }

  if (max_exponent > 3)
    g_print ("\nFlat in N: gather's cost per operation at N = 10^%u is %.2fx its cost at N = 10^3.\n",
             max_exponent, last / first);
  print_load ("async");
  g_print ("\n");
}

/* ---- Capacity after a storm of bodies that ignore cancellation ----
 *
 * Group A: 1,000 tasks on a 4-thread pool, each with a 20 ms timeout; 30%
 * ignore their cancellation for 5 s, the others take 1 ms. Group B, right
 * after A on the same pool: 1,000 tasks of 1 ms. How much slower is B than
 * on a fresh pool, for a given max-replacement-threads?
 */

static GVariant *
busy_body (GCancellable  *cancellable,
           gpointer       user_data,
           GError       **error)
{
  /* Ignores its cancellable on purpose. */
  g_usleep (GPOINTER_TO_UINT (user_data));
  return g_variant_new_boolean (TRUE);
}

static gboolean storm_done;

static void
storm_run_done (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GPtrArray) outcomes = gather_group_run_finish (GATHER_GROUP (object), result, NULL);

  storm_done = TRUE;
}

static double
storm_run (GatherPool *pool,
           guint       n,
           guint       stubborn_percent,
           guint      *n_running_after)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  gint64 start = g_get_monotonic_time ();

  gather_group_set_pool (group, pool);
  for (guint i = 0; i < n; i++)
    {
      gboolean stubborn = (i * 7919) % 100 < stubborn_percent;

      gather_group_add_task (group, NULL, stubborn_percent > 0 ? 20 : 0, busy_body,
                             GUINT_TO_POINTER (stubborn ? 5000000 : 1000), NULL, NULL);
    }
  storm_done = FALSE;
  gather_group_run_async (group, NULL, storm_run_done, NULL);
  run_until (&storm_done);
  if (n_running_after != NULL)
    *n_running_after = gather_group_get_n_running (group);

  return (g_get_monotonic_time () - start) / 1000.0;
}

static void
print_storm (void)
{
  static const guint caps[] = { 64, 256, 1024 };
  guint repeat = MIN (opt_repeat, 5);

  print_load ("storm");
  g_print ("## Capacity after a storm (4-thread pool; A: 1,000 tasks, 20 ms timeout, 30%% ignore\n"
           "##   cancellation for 5 s; B: 1,000 tasks of 1 ms right after, same pool; median (min-max) of %u)\n\n",
           repeat);
  g_print ("| max-replacement-threads | A, ms | bodies still running after A | B, ms | B on a fresh pool, ms | B / fresh |\n");
  g_print ("|---|---|---|---|---|---|\n");

  for (guint c = 0; c < G_N_ELEMENTS (caps); c++)
    {
      g_autofree double *v_storm = g_new (double, repeat);
      g_autofree double *v_after = g_new (double, repeat);
      g_autofree double *v_fresh = g_new (double, repeat);
      g_autofree double *v_running = g_new (double, repeat);
      double storm, after, fresh, running;

      for (guint r = 0; r < repeat; r++)
        {
          g_autoptr(GatherPool) pool = gather_pool_new (4);
          g_autoptr(GatherPool) clean = gather_pool_new (4);
          guint n_running = 0;

          gather_pool_set_max_replacement_threads (pool, caps[c]);
          v_storm[r] = storm_run (pool, 1000, 30, &n_running);
          v_running[r] = n_running;
          v_after[r] = storm_run (pool, 1000, 0, NULL);
          v_fresh[r] = storm_run (clean, 1000, 0, NULL);

          /* Let the stubborn bodies return before the next round. */
          g_usleep (5100 * 1000);
          while (g_main_context_iteration (NULL, FALSE))
            ;
        }

      storm = median (v_storm, repeat);
      after = median (v_after, repeat);
      fresh = median (v_fresh, repeat);
      running = median (v_running, repeat);
      g_print ("| %u | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.2fx |\n",
               caps[c], storm, v_storm[0], v_storm[repeat - 1],
               running, v_running[0], v_running[repeat - 1],
               after, v_after[0], v_after[repeat - 1],
               fresh, v_fresh[0], v_fresh[repeat - 1], after / fresh);
    }
  print_load ("storm");
  g_print ("\n");
}

/* ---- Python asyncio ---- */

static double
measure_python (guint n)
{
  g_autofree char *script = g_build_filename (BENCH_SRCDIR, "asyncio_gather.py", NULL);
  g_autofree char *n_str = g_strdup_printf ("%u", n);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "/usr/bin/python3", script, "speed", n_str, NULL };
  gint status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                     &out, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    {
      g_printerr ("asyncio benchmark failed: %s\n", error->message);
      return -1;
    }

  return g_ascii_strtod (out, NULL);
}

static double
measure_median (Measure  measure,
                guint    n,
                guint    repeat)
{
  g_autofree double *values = g_new (double, repeat);

  for (guint r = 0; r < repeat; r++)
    values[r] = measure (n);

  return median (values, repeat);
}

/* "median (min-max)" of @values (which median() sorts), with @decimals
 * digits and @suffix after each number. */
static char *
spread (double     *values,
        guint       n,
        int         decimals,
        const char *suffix)
{
  double m = median (values, n);

  if (n == 1)
    return g_strdup_printf ("%.*f%s", decimals, m, suffix);

  return g_strdup_printf ("%.*f%s (%.*f%s-%.*f%s)", decimals, m, suffix,
                          decimals, values[0], suffix, decimals, values[n - 1], suffix);
}

static void
print_speed (void)
{
  g_autoptr(GArray) gather_ns = g_array_new (FALSE, FALSE, sizeof (double));
  gboolean have_python = g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE);
  guint n_first = 0, n_last = 0;

  print_load ("speed");
  g_print ("## Thread tasks: cost per task (ns; trivial body returning a GVariant, result delivered\n"
           "##   on the main context; %u pool threads; median (min-max) of %u runs; ratios are\n"
           "##   taken within each run, the variants measured back to back)\n\n",
           g_get_num_processors (), opt_repeat);
  g_print ("| N | GThreadPool + idle per result | GThreadPool batched (1 source) | g_task_run_in_thread "
           "| gather (own timeout each) | gather / batched | gather / GTask | asyncio gather+wait_for | asyncio / gather |\n");
  g_print ("|---|---|---|---|---|---|---|---|---|\n");

  for (guint e = 3; e <= opt_max_exponent; e++)
    {
      guint n = 1;
      g_autofree double *v_idle = g_new (double, opt_repeat);
      g_autofree double *v_batched = g_new (double, opt_repeat);
      g_autofree double *v_gtask = g_new (double, opt_repeat);
      g_autofree double *v_gather = g_new (double, opt_repeat);
      g_autofree double *r_batched = g_new (double, opt_repeat);
      g_autofree double *r_gtask = g_new (double, opt_repeat);
      g_autofree char *s_idle = NULL, *s_batched = NULL, *s_gtask = NULL, *s_gather = NULL;
      g_autofree char *s_rb = NULL, *s_rg = NULL;
      double python = -1, gather;

      for (guint k = 0; k < e; k++)
        n *= 10;

      /* Interleave the variants so they share the machine's noise. */
      for (guint r = 0; r < opt_repeat; r++)
        {
          v_gather[r] = measure_gather (n);
          v_batched[r] = measure_pool_batched (n);
          v_idle[r] = measure_pool_idle (n);
          v_gtask[r] = measure_gtask (n);
          r_batched[r] = v_gather[r] / v_batched[r];
          r_gtask[r] = v_gather[r] / v_gtask[r];
        }

      gather = median (v_gather, opt_repeat);
      s_gather = spread (v_gather, opt_repeat, 0, "");
      s_idle = spread (v_idle, opt_repeat, 0, "");
      s_batched = spread (v_batched, opt_repeat, 0, "");
      s_gtask = spread (v_gtask, opt_repeat, 0, "");
      s_rb = spread (r_batched, opt_repeat, 2, "x");
      s_rg = spread (r_gtask, opt_repeat, 2, "x");

      if (have_python && e <= opt_python_max_exponent)
        python = measure_median (measure_python, n, e >= 5 ? 1 : opt_repeat);

      g_array_append_val (gather_ns, gather);
      if (n_first == 0)
        n_first = n;
      n_last = n;

      g_print ("| %u | %s | %s | %s | **%s** | %s | %s |", n, s_idle, s_batched, s_gtask,
               s_gather, s_rb, s_rg);
      if (python > 0)
        g_print (" %.0f | %.1fx |\n", python, python / gather);
      else
        g_print (" %s | |\n", have_python ? "(not run)" : "(no /usr/bin/python3)");
    }

  if (gather_ns->len >= 2)
    g_print ("\nLinear scale: gather's median cost per task at N = %u is %.2fx its cost at N = %u.\n",
             n_last,
             g_array_index (gather_ns, double, gather_ns->len - 1) / g_array_index (gather_ns, double, 0),
             n_first);
  print_load ("speed");
  g_print ("\n");
}

/* ---- Timeout lateness ---- */

typedef struct
{
  gint64 observed;     /* when the body saw its cancellable cancelled */
  gint64 issued;       /* when the cancellable was cancelled */
} Probe;

static void
probe_cancelled (GCancellable *cancellable,
                 gpointer      data)
{
  ((Probe *) data)->issued = g_get_monotonic_time ();
}

/* Waits for cancellation only: every task here times out. */
static GVariant *
wait_for_cancel (GCancellable  *cancellable,
                 gpointer       user_data,
                 GError       **error)
{
  Probe *probe = user_data;
  gulong id = g_cancellable_connect (cancellable, G_CALLBACK (probe_cancelled), probe, NULL);
  GPollFD pollfd;

  g_cancellable_make_pollfd (cancellable, &pollfd);
  while (!g_cancellable_is_cancelled (cancellable))
    g_poll (&pollfd, 1, 60000);
  probe->observed = g_get_monotonic_time ();
  g_cancellable_release_fd (cancellable);
  g_cancellable_disconnect (cancellable, id);

  g_cancellable_set_error_if_cancelled (cancellable, error);
  return NULL;
}

static gboolean
busy_callback (gpointer data)
{
  gint64 end = g_get_monotonic_time () + 20000;

  /* A main loop that does 20 ms of work every 50 ms. */
  while (g_get_monotonic_time () < end)
    ;

  return G_SOURCE_CONTINUE;
}

static void
lateness_done (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  *(GPtrArray **) user_data = gather_group_run_finish (GATHER_GROUP (object), result, NULL);
}

/* p99 and max of one run, in µs after the deadline: cancel issued, seen
 * by the task, outcome recorded. */
typedef struct
{
  double issued_p99, observed_p99, recorded_p99;
  double issued_max, observed_max, recorded_max;
  guint  n_timeout;
} Lateness;

static Lateness
measure_lateness (GatherPool *pool,
                  guint       n,
                  gboolean    busy)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autofree Probe *probes = g_new0 (Probe, n);
  g_autoptr(GArray) issued = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) observed = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) recorded = g_array_new (FALSE, FALSE, sizeof (double));
  GPtrArray *outcomes = NULL;
  guint busy_id = 0;
  Lateness result = { 0 };

  gather_group_set_pool (group, pool);
  gather_group_set_grace_period (group, 10000);
  gather_group_set_max_concurrent (group, n);
  for (guint i = 0; i < n; i++)
    gather_group_add_task (group, NULL, 200 + (i * 7919) % 500, wait_for_cancel, &probes[i], NULL, NULL);

  if (busy)
    busy_id = g_timeout_add (50, busy_callback, NULL);

  gather_group_run_async (group, NULL, lateness_done, &outcomes);
  while (outcomes == NULL)
    g_main_context_iteration (NULL, TRUE);

  if (busy_id)
    g_source_remove (busy_id);

  /* Let the cancelled bodies return before the next run. */
  while (gather_group_get_n_running (group) > 0)
    g_main_context_iteration (NULL, TRUE);

  for (guint i = 0; i < outcomes->len; i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (outcomes, i);
      gint64 deadline = gather_outcome_get_start_time (outcome) + (200 + (i * 7919) % 500) * 1000;
      double v;

      if (gather_outcome_get_status (outcome) != GATHER_STATUS_TIMEOUT)
        continue;
      result.n_timeout++;

      v = (double) (probes[i].issued - deadline);
      g_array_append_val (issued, v);
      v = (double) (probes[i].observed - deadline);
      g_array_append_val (observed, v);
      v = (double) (gather_outcome_get_finish_time (outcome) - deadline);
      g_array_append_val (recorded, v);
    }

  result.issued_p99 = percentile (issued, 0.99);
  result.observed_p99 = percentile (observed, 0.99);
  result.recorded_p99 = percentile (recorded, 0.99);
  result.issued_max = percentile (issued, 1.0);
  result.observed_max = percentile (observed, 1.0);
  result.recorded_max = percentile (recorded, 1.0);

  g_ptr_array_unref (outcomes);
  return result;
}

/* The same with async tasks, which hold no thread: an operation that
 * completes only when cancelled, as a GIO call does. */
typedef struct
{
  GatherCompletion *completion;
  gint64            issued;
} AsyncProbe;

static gboolean
async_probe_complete (gpointer data)
{
  AsyncProbe *probe = data;
  g_autoptr(GatherCompletion) completion = g_steal_pointer (&probe->completion);

  gather_completion_return_new_error (completion, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                      "Operation was cancelled");
  return G_SOURCE_REMOVE;
}

static void
async_probe_cancelled (GCancellable *cancellable,
                       gpointer      data)
{
  AsyncProbe *probe = data;

  probe->issued = g_get_monotonic_time ();
  g_idle_add (async_probe_complete, probe);
}

static void
async_probe_start (GatherCompletion *completion,
                   GCancellable     *cancellable,
                   gpointer          user_data)
{
  AsyncProbe *probe = user_data;

  probe->completion = completion;
  g_cancellable_connect (cancellable, G_CALLBACK (async_probe_cancelled), probe, NULL);
}

static Lateness
measure_lateness_async (guint    n,
                        gboolean busy)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autofree AsyncProbe *probes = g_new0 (AsyncProbe, n);
  g_autoptr(GArray) issued = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) recorded = g_array_new (FALSE, FALSE, sizeof (double));
  GPtrArray *outcomes = NULL;
  guint busy_id = 0;
  Lateness result = { 0 };

  for (guint i = 0; i < n; i++)
    gather_group_add_async_task (group, NULL, 200 + (i * 7919) % 500, async_probe_start,
                                 &probes[i], NULL, NULL);
  if (busy)
    busy_id = g_timeout_add (50, busy_callback, NULL);

  gather_group_run_async (group, NULL, lateness_done, &outcomes);
  while (outcomes == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (busy_id)
    g_source_remove (busy_id);
  while (gather_group_get_n_running (group) > 0)
    g_main_context_iteration (NULL, TRUE);

  for (guint i = 0; i < outcomes->len; i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (outcomes, i);
      gint64 deadline = gather_outcome_get_start_time (outcome) + (200 + (i * 7919) % 500) * 1000;
      double v;

      if (gather_outcome_get_status (outcome) != GATHER_STATUS_TIMEOUT)
        continue;
      result.n_timeout++;
      v = (double) (probes[i].issued - deadline);
      g_array_append_val (issued, v);
      v = (double) (gather_outcome_get_finish_time (outcome) - deadline);
      g_array_append_val (recorded, v);
    }

  /* On the main context the cancellation is seen where it is issued. */
  result.issued_p99 = result.observed_p99 = percentile (issued, 0.99);
  result.issued_max = result.observed_max = percentile (issued, 1.0);
  result.recorded_p99 = percentile (recorded, 0.99);
  result.recorded_max = percentile (recorded, 1.0);

  g_ptr_array_unref (outcomes);
  return result;
}

static void
print_lateness_row (const char *what,
                    Lateness   *runs,
                    guint       repeat,
                    guint       n)
{
  double v[3][2][16];   /* field, p99|max, run */
  const char *sep = "";

  g_assert (repeat <= 16);
  for (guint r = 0; r < repeat; r++)
    {
      v[0][0][r] = runs[r].issued_p99;   v[0][1][r] = runs[r].issued_max;
      v[1][0][r] = runs[r].observed_p99; v[1][1][r] = runs[r].observed_max;
      v[2][0][r] = runs[r].recorded_p99; v[2][1][r] = runs[r].recorded_max;
    }

  g_print ("| %s | %u/%u |", what, runs[0].n_timeout, n);
  for (guint f = 0; f < 3; f++)
    {
      double p99 = median (v[f][0], repeat);
      double max = median (v[f][1], repeat);

      g_print ("%s %.0f (%.0f-%.0f) / %.0f |", sep, p99, v[f][0][0], v[f][0][repeat - 1], max);
    }
  g_print ("\n");
}

static void
print_lateness (void)
{
  /* One thread per task: all of them run, and are timed, at once. */
  g_autoptr(GatherPool) pool = gather_pool_new (opt_lateness_tasks);
  guint repeat = MAX (1, MIN (opt_repeat, 16));
  g_autofree Lateness *runs = g_new0 (Lateness, repeat);

  print_load ("lateness");
  g_print ("## Timeout lateness: %u tasks running and timed at once, timeouts of 200-700 ms\n"
           "##   (µs after the deadline: p99, median (min-max) of %u runs / max, median of the runs)\n\n",
           opt_lateness_tasks, repeat);
  g_print ("| tasks, owner main loop | timed out | cancel issued | cancel seen by the task "
           "| outcome recorded on the main context |\n");
  g_print ("|---|---|---|---|---|\n");

  /* Keep finished threads for the next runs instead of letting them exit. */
  g_thread_pool_set_max_unused_threads (-1);
  runs[0] = measure_lateness (pool, opt_lateness_tasks, FALSE);
  print_lateness_row ("threads (one each), idle loop, cold pool: the threads start during the run",
                      runs, 1, opt_lateness_tasks);
  for (guint r = 0; r < repeat; r++)
    runs[r] = measure_lateness (pool, opt_lateness_tasks, FALSE);
  print_lateness_row ("threads (one each), idle loop", runs, repeat, opt_lateness_tasks);
  for (guint r = 0; r < repeat; r++)
    runs[r] = measure_lateness (pool, opt_lateness_tasks, TRUE);
  print_lateness_row ("threads (one each), busy loop: 20 ms of work every 50 ms", runs, repeat,
                      opt_lateness_tasks);
  g_thread_pool_set_max_unused_threads (2);
  g_thread_pool_stop_unused_threads ();

  for (guint r = 0; r < repeat; r++)
    runs[r] = measure_lateness_async (opt_lateness_tasks, FALSE);
  print_lateness_row ("async tasks (no thread), idle loop", runs, repeat, opt_lateness_tasks);
  for (guint r = 0; r < repeat; r++)
    runs[r] = measure_lateness_async (opt_lateness_tasks, TRUE);
  print_lateness_row ("async tasks (no thread), busy loop", runs, repeat, opt_lateness_tasks);
  print_load ("lateness");
  g_print ("\n");
}

/* ---- Memory ---- */

static gsize
resident_bytes (void)
{
  g_autofree char *contents = NULL;
  char **fields;
  gsize ret;

  if (!g_file_get_contents ("/proc/self/statm", &contents, NULL, NULL))
    return 0;

  fields = g_strsplit (contents, " ", -1);
  ret = g_ascii_strtoull (fields[1], NULL, 10) * (gsize) sysconf (_SC_PAGESIZE);
  g_strfreev (fields);

  return ret;
}

static GMutex gate_mutex;
static GCond  gate_cond;
static gboolean gate_open;

static GVariant *
wait_at_gate (GCancellable  *cancellable,
              gpointer       user_data,
              GError       **error)
{
  g_mutex_lock (&gate_mutex);
  while (!gate_open)
    g_cond_wait (&gate_cond, &gate_mutex);
  g_mutex_unlock (&gate_mutex);

  return g_variant_new_uint32 (GPOINTER_TO_UINT (user_data));
}

/* In a fresh process, so the heap has no free memory to reuse. */
static int
memory_child (const char *mode,
              guint       n)
{
  g_autoptr(GatherPool) pool = gather_pool_new (1);
  g_autoptr(GatherGroup) group = gather_group_new ();
  GPtrArray *outcomes = NULL;
  gsize before, after;

  /* Warm up the type system, the pool and the timer thread. */
  {
    g_autoptr(GatherGroup) warm = gather_group_new ();
    g_autoptr(GPtrArray) done = NULL;

    gather_group_add_task (warm, NULL, 1000, gather_trivial, NULL, NULL, NULL);
    done = gather_group_run (warm, NULL, NULL);
  }

  gather_group_set_pool (group, pool);
  if (g_str_equal (mode, "dispatched"))
    gather_group_set_max_concurrent (group, n);  /* every task in the pool at once */

  before = resident_bytes ();
  for (guint i = 0; i < n; i++)
    gather_group_add_task (group, NULL, 60000, wait_at_gate, GUINT_TO_POINTER (i), NULL, NULL);

  if (!g_str_equal (mode, "queued"))
    {
      /* One task holds the only thread; the rest are pending. */
      gather_group_run_async (group, NULL, lateness_done, &outcomes);
      for (guint k = 0; k < 3; k++)
        g_main_context_iteration (NULL, FALSE);
    }

  after = resident_bytes ();
  g_print ("%.0f\n", (double) (after - before) / n);

  g_mutex_lock (&gate_mutex);
  gate_open = TRUE;
  g_cond_broadcast (&gate_cond);
  g_mutex_unlock (&gate_mutex);

  if (outcomes == NULL && !g_str_equal (mode, "queued"))
    while (outcomes == NULL)
      g_main_context_iteration (NULL, TRUE);
  g_clear_pointer (&outcomes, g_ptr_array_unref);

  return 0;
}

static double
measure_memory (const char *mode,
                guint       n)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *n_str = g_strdup_printf ("%u", n);
  g_autofree char *out = NULL;
  const char *argv[] = { self, "--memory-child", mode, "--memory-n", n_str, NULL };
  g_autoptr(GError) error = NULL;
  gint status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    g_error ("Memory measurement failed: %s", error->message);

  return g_ascii_strtod (out, NULL);
}

static void
print_memory (guint n)
{
  static const struct { const char *mode, *what; } states[] = {
    { "queued", "added, group not running" },
    { "window", "running group, waiting beyond the dispatch window" },
    { "dispatched", "running group, every task in the pool's queue (max-concurrent = N)" },
  };
  gboolean have_python = g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE);
  guint repeat = MAX (1, opt_repeat);
  g_autofree double *v = g_new (double, repeat);

  print_load ("memory");
  g_print ("## Memory per pending task (resident set growth / N, N = %u, a fresh process each run;\n"
           "##   median (min-max) of %u)\n\n", n, repeat);
  g_print ("| state | bytes per task |\n|---|---|\n");
  for (guint i = 0; i < G_N_ELEMENTS (states); i++)
    {
      g_autofree char *text = NULL;

      for (guint r = 0; r < repeat; r++)
        v[r] = measure_memory (states[i].mode, n);
      text = spread (v, repeat, 0, "");
      g_print ("| %s | %s |\n", states[i].what, text);
    }

  if (have_python)
    {
      g_autofree char *script = g_build_filename (BENCH_SRCDIR, "asyncio_gather.py", NULL);
      g_autofree char *n_str = g_strdup_printf ("%u", n);
      const char *argv[] = { "/usr/bin/python3", script, "memory", n_str, NULL };
      guint got = 0;

      for (guint r = 0; r < repeat; r++)
        {
          g_autofree char *out = NULL;
          gint status;

          if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                            &out, NULL, &status, NULL) &&
              g_spawn_check_wait_status (status, NULL))
            v[got++] = g_ascii_strtod (out, NULL);
        }
      if (got > 0)
        {
          g_autofree char *text = spread (v, got, 0, "");

          g_print ("| asyncio: pending task wrapped in wait_for | %s |\n", text);
        }
    }
  print_load ("memory");
  g_print ("\n");
}

/* ---- The task model ----
 *
 * A group whose task model (gather_group_get_tasks()) exists but has
 * nothing connected, against the same run without it, interleaved. The
 * frame-to-frame gaps with a GtkColumnView attached are measured by
 * model-frames.js, under Xvfb (see its header).
 */
static void
print_model (void)
{
  guint repeat = MAX (opt_repeat, 5);
  guint n = opt_quick ? 10000 : 100000;
  g_autofree double *plain = g_new (double, repeat);
  g_autofree double *model = g_new (double, repeat);
  g_autofree double *ratio = g_new (double, repeat);
  double plain_median, model_median, ratio_median;

  print_load ("model");
  g_print ("\n## Task model overhead (ns per task, N = %u, median and range of %u interleaved runs;\n"
           "##   trivial thread bodies; the model asked for, nothing connected to it)\n\n", n, repeat);

  for (guint r = 0; r < repeat; r++)
    {
      plain[r] = measure_gather (n);
      model[r] = measure_gather_model (n);
      ratio[r] = model[r] / plain[r];
    }

  /* median() sorts: take each before reading its range. */
  plain_median = median (plain, repeat);
  model_median = median (model, repeat);
  ratio_median = median (ratio, repeat);
  g_print ("| variant | median | range |\n|---|---|---|\n");
  g_print ("| gather, no model | %.0f | %.0f–%.0f |\n", plain_median, plain[0], plain[repeat - 1]);
  g_print ("| gather, model asked for, nothing connected | %.0f | %.0f–%.0f |\n",
           model_median, model[0], model[repeat - 1]);
  g_print ("| ratio, run by run | %.3f | %.3f–%.3f |\n", ratio_median, ratio[0], ratio[repeat - 1]);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new ("- measure libgather");
  g_autoptr(GError) error = NULL;

  setlocale (LC_ALL, "");

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Prints Markdown tables: per-task cost against a raw GThreadPool, GTask\n"
    "and Python's asyncio measured in the same run; timeout lateness; and\n"
    "memory per pending task.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return 2;
    }

  if (opt_memory_child != NULL)
    return memory_child (opt_memory_child, opt_memory_n);

  if (opt_only != NULL)
    {
      static const struct { const char *name; Measure measure; } variants[] = {
        { "gather", measure_gather }, { "gather-model", measure_gather_model },
        { "batched", measure_pool_batched },
        { "idle", measure_pool_idle }, { "gtask", measure_gtask },
        { "async", measure_async }, { "naive", measure_naive },
      };
      guint n = 1;

      for (guint k = 0; k < opt_max_exponent; k++)
        n *= 10;
      for (guint i = 0; i < G_N_ELEMENTS (variants); i++)
        if (g_str_equal (opt_only, variants[i].name))
          {
            g_print ("%s N=%u: %.0f ns per task\n", opt_only, n,
                     measure_median (variants[i].measure, n, opt_repeat));
            return 0;
          }
      g_printerr ("%s: unknown variant “%s”\n", g_get_prgname (), opt_only);
      return 2;
    }

  if (opt_quick)
    {
      opt_repeat = 1;
      opt_max_exponent = 4;
      opt_python_max_exponent = 3;
      opt_lateness_tasks = 200;
    }

  g_print ("# gather-bench: libgather %s, GLib %u.%u.%u, %u processors\n\n",
           GATHER_VERSION_S, glib_major_version, glib_minor_version, glib_micro_version,
           g_get_num_processors ());

  {
    g_auto(GStrv) sections = g_strsplit (opt_sections ? opt_sections : "speed,async,lateness,memory,model", ",", -1);

    if (g_strv_contains ((const char * const *) sections, "speed"))
      print_speed ();
    if (g_strv_contains ((const char * const *) sections, "async"))
      print_async ();
    if (g_strv_contains ((const char * const *) sections, "storm"))
      print_storm ();
    if (g_strv_contains ((const char * const *) sections, "lateness"))
      print_lateness ();
    if (g_strv_contains ((const char * const *) sections, "memory"))
      print_memory (opt_quick ? 10000 : 100000);
    if (g_strv_contains ((const char * const *) sections, "model"))
      print_model ();
  }

  return 0;
}
