/* gather-bench.c: speed, scale, timeout lateness and memory of libgather,
 * measured against baselines run in the same process.
 *
 * The machine these run on is shared and noisy: compare the ratios printed
 * here, measured minutes apart in one run, rather than absolute figures from
 * different runs. Every figure is the median of --repeat runs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* sched_setaffinity(), CPU_SET() */
#define _GNU_SOURCE

#include <errno.h>
#include <locale.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib-unix.h>
#include <libgather.h>

static guint    opt_repeat = 5;
static guint    opt_max_exponent = 6;
static guint    opt_python_max_exponent = 5;
static guint    opt_lateness_tasks = 10000;
static gboolean opt_quick;
static char    *opt_only;
static char    *opt_sections;
static char    *opt_lateness_rows;
static char    *opt_memory_child;
static guint    opt_memory_n;
static gboolean opt_echo_child;

static GOptionEntry entries[] = {
  { "repeat", 'r', 0, G_OPTION_ARG_INT, &opt_repeat, "Runs per figure (median)", "N" },
  { "max-exponent", 'e', 0, G_OPTION_ARG_INT, &opt_max_exponent, "Largest N is 10^E (default 6)", "E" },
  { "python-max-exponent", 0, 0, G_OPTION_ARG_INT, &opt_python_max_exponent, "Largest N for asyncio (default 5)", "E" },
  { "lateness-tasks", 0, 0, G_OPTION_ARG_INT, &opt_lateness_tasks, "Concurrent timed tasks (default 10000)", "N" },
  { "lateness-rows", 0, 0, G_OPTION_ARG_STRING, &opt_lateness_rows, "Which lateness rows to measure: async, async-floor, threads, floor (default: all)", "LIST" },
  { "quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick, "Small sizes, one run: checks the program works", NULL },
  { "sections", 's', 0, G_OPTION_ARG_STRING, &opt_sections, "Which tables to print: speed, async, lateness, memory, model, isolation, storm (default: all but storm)", "LIST" },
  { "only", 0, 0, G_OPTION_ARG_STRING, &opt_only, "Time one variant at N = 10^E and exit, for profiling: gather, gather-model, batched, idle, gtask, async, async-floor, async-floor-bare, naive, isolated, isolated-floor or isolated-floor-parameters", "NAME" },
  { "memory-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt_memory_child, NULL, NULL },
  { "memory-n", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_memory_n, NULL, NULL },
  { "echo-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &opt_echo_child, NULL, NULL },
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
 * completions arrive: from a source of the default priority, as GIO
 * dispatches them. (From an idle source, of a lower priority than gather's,
 * the main loop would take one iteration for the completion and another
 * for gather's source: about 1,200 instructions more per operation.)
 * gather: async tasks. Naive: what one writes by hand, a GCancellable and
 * a g_timeout_source per operation on the same context.
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

/* A timeout that does not fire: all N operations start at once and the
 * last completes N operations later, which under strace (instructions.sh)
 * took more than a minute at N = 10^5. */
#define ASYNC_TIMEOUT_MSEC (3600 * 1000)

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
    gather_group_add_async_task (group, NULL, ASYNC_TIMEOUT_MSEC, async_bench_start, GUINT_TO_POINTER (i), NULL, NULL);
  gather_group_run_async (group, NULL, async_bench_done, NULL);
  g_idle_add_full (G_PRIORITY_DEFAULT, async_bench_complete_one, NULL, NULL);
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
      async_bench.timeouts[i] = g_timeout_add (ASYNC_TIMEOUT_MSEC, naive_timeout, async_bench.cancellables[i]);
    }
  g_idle_add_full (G_PRIORITY_DEFAULT, naive_complete_one, NULL, NULL);
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

/*
 * The floor under async tasks: what the design needs, without
 * gather. Each operation gets a GCancellable (unless @bare) handed to its
 * start function, a deadline in one binary heap served by one source's
 * ready time, and a slot for its GVariant result, kept in submission order
 * until all are done. Completions come one per main-loop iteration in the
 * same random order as for gather, from a source of the default priority;
 * each one stores the result, takes the deadline out of the heap and drops
 * the cancellable. What gather adds beyond it: the outcome objects,
 * policies, signals, the timer on its own thread, and the run's bookkeeping.
 */

typedef struct
{
  gint64 deadline;
  guint  index;
} FloorEntry;

typedef struct
{
  FloorEntry    *heap;
  guint          len;
  guint         *position;  /* where each operation's entry is in the heap */
  GCancellable **cancellables;
  GVariant     **results;
  GSource       *timer;
  void         (*start) (guint index, GCancellable *cancellable);
} AsyncFloor;

static AsyncFloor async_floor;

static inline void
floor_place (guint      k,
             FloorEntry entry)
{
  async_floor.heap[k] = entry;
  async_floor.position[entry.index] = k;
}

static void
floor_sift_up (guint      k,
               FloorEntry entry)
{
  while (k > 0 && async_floor.heap[(k - 1) / 2].deadline > entry.deadline)
    {
      floor_place (k, async_floor.heap[(k - 1) / 2]);
      k = (k - 1) / 2;
    }
  floor_place (k, entry);
}

static void
floor_sift_down (guint      k,
                 FloorEntry entry)
{
  for (;;)
    {
      guint child = 2 * k + 1;

      if (child >= async_floor.len)
        break;
      if (child + 1 < async_floor.len &&
          async_floor.heap[child + 1].deadline < async_floor.heap[child].deadline)
        child++;
      if (async_floor.heap[child].deadline >= entry.deadline)
        break;
      floor_place (k, async_floor.heap[child]);
      k = child;
    }
  floor_place (k, entry);
}

/* The source's ready time follows the earliest deadline. */
static void
floor_arm (void)
{
  g_source_set_ready_time (async_floor.timer,
                           async_floor.len > 0 ? async_floor.heap[0].deadline : -1);
}

static void
floor_remove (guint index)
{
  guint k = async_floor.position[index];
  FloorEntry last = async_floor.heap[--async_floor.len];

  if (k < async_floor.len)
    {
      if (k > 0 && async_floor.heap[(k - 1) / 2].deadline > last.deadline)
        floor_sift_up (k, last);
      else
        floor_sift_down (k, last);
    }
  if (k == 0)
    floor_arm ();
}

/* A deadline passed (never, here): cancel what is due. */
static gboolean
floor_timer_dispatch (GSource     *source,
                      GSourceFunc  callback,
                      gpointer     user_data)
{
  gint64 now = g_source_get_time (source);

  while (async_floor.len > 0 && async_floor.heap[0].deadline <= now)
    {
      guint index = async_floor.heap[0].index;

      floor_remove (index);
      if (async_floor.cancellables[index] != NULL)
        g_cancellable_cancel (async_floor.cancellables[index]);
    }
  floor_arm ();

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs floor_timer_funcs = { NULL, NULL, floor_timer_dispatch, NULL, NULL, NULL };

/* The start function: as async_bench_start(), it only counts the start. */
static void
floor_start (guint         index,
             GCancellable *cancellable)
{
  async_bench.n_started++;
}

static gboolean
floor_complete_one (gpointer data)
{
  guint i;

  if (async_bench.next == async_bench.n)
    {
      async_bench.done = TRUE;
      return G_SOURCE_REMOVE;
    }

  i = async_bench.order[async_bench.next++];
  async_floor.results[i] = g_variant_ref_sink (g_variant_new_uint32 (i));
  floor_remove (i);
  g_clear_object (&async_floor.cancellables[i]);

  return G_SOURCE_CONTINUE;
}

static double
measure_async_floor_with (guint    n,
                          gboolean bare)
{
  gint64 start, now;
  double ns;

  async_bench_init (n);
  async_floor = (AsyncFloor) { .start = floor_start };

  start = g_get_monotonic_time ();
  async_floor.heap = g_new (FloorEntry, n);
  async_floor.position = g_new (guint, n);
  async_floor.cancellables = g_new0 (GCancellable *, n);
  async_floor.results = g_new0 (GVariant *, n);
  async_floor.timer = g_source_new (&floor_timer_funcs, sizeof (GSource));
  g_source_attach (async_floor.timer, NULL);

  now = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      FloorEntry entry = { now + (gint64) ASYNC_TIMEOUT_MSEC * 1000, i };

      if (!bare)
        async_floor.cancellables[i] = g_cancellable_new ();
      floor_sift_up (async_floor.len++, entry);
      async_floor.start (i, async_floor.cancellables[i]);
    }
  floor_arm ();
  g_idle_add_full (G_PRIORITY_DEFAULT, floor_complete_one, NULL, NULL);
  run_until (&async_bench.done);

  /* All done: the results, in submission order, then let go. */
  for (guint i = 0; i < n; i++)
    {
      async_bench.sum += g_variant_get_uint32 (async_floor.results[i]);
      g_variant_unref (async_floor.results[i]);
    }
  g_source_destroy (async_floor.timer);
  g_source_unref (async_floor.timer);
  g_free (async_floor.heap);
  g_free (async_floor.position);
  g_free (async_floor.cancellables);
  g_free (async_floor.results);
  ns = (g_get_monotonic_time () - start) * 1000.0 / n;

  g_assert (async_bench.n_started == n);
  g_assert (async_bench.sum == (guint64) n * (n - 1) / 2);
  async_bench_clear ();

  return ns;
}

/* --only async-floor */
static double
measure_async_floor (guint n)
{
  return measure_async_floor_with (n, FALSE);
}

/* --only async-floor-bare */
static double
measure_async_floor_bare (guint n)
{
  return measure_async_floor_with (n, TRUE);
}

static void
print_async (void)
{
  guint max_exponent = MIN (opt_max_exponent, 5);
  double first = 0, last = 0;

  print_load ("async");
  g_print ("## Async operations on the owner's context (ns per operation, start + completion;\n"
           "##   N in flight at once, a timeout each that does not fire, completed one per\n"
           "##   main-loop iteration in random order from a source of default priority;\n"
           "##   median (min-max) of %u, the variants interleaved)\n"
           "##   floor: no gather, one heap of deadlines on one source, a GCancellable per\n"
           "##   operation handed to its start, its GVariant result kept in submission order;\n"
           "##   bare floor: the same without the GCancellables\n\n", opt_repeat);
  g_print ("| N | gather async tasks | floor | gather / floor | bare floor "
           "| naive: a g_timeout_source + GCancellable each | naive / gather |\n");
  g_print ("|---|---|---|---|---|---|---|\n");

  for (guint e = 3; e <= max_exponent; e++)
    {
      guint n = 1;
      g_autofree double *v_gather = g_new (double, opt_repeat);
      g_autofree double *v_floor = g_new (double, opt_repeat);
      g_autofree double *v_bare = g_new (double, opt_repeat);
      g_autofree double *v_naive = g_new (double, opt_repeat);
      g_autofree double *v_ratio = g_new (double, opt_repeat);
      double gather, floor, bare, naive, ratio;

      for (guint k = 0; k < e; k++)
        n *= 10;

      for (guint r = 0; r < opt_repeat; r++)
        {
          v_gather[r] = measure_async (n);
          v_floor[r] = measure_async_floor (n);
          v_bare[r] = measure_async_floor_bare (n);
          v_naive[r] = measure_naive (n);
          /* Run by run: the two ran one after the other. */
          v_ratio[r] = v_gather[r] / v_floor[r];
        }

      gather = median (v_gather, opt_repeat);
      floor = median (v_floor, opt_repeat);
      bare = median (v_bare, opt_repeat);
      naive = median (v_naive, opt_repeat);
      ratio = median (v_ratio, opt_repeat);
      if (e == 3)
        first = gather;
      last = gather;

      g_print ("| %u | **%.0f** (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.2fx (%.2f-%.2f) | %.0f (%.0f-%.0f) "
               "| %.0f (%.0f-%.0f)%s | %.0fx |\n", n,
               gather, v_gather[0], v_gather[opt_repeat - 1],
               floor, v_floor[0], v_floor[opt_repeat - 1],
               ratio, v_ratio[0], v_ratio[opt_repeat - 1],
               bare, v_bare[0], v_bare[opt_repeat - 1],
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

/* ---- Isolated tasks: plugin workers in helper processes ----
 *
 * A worker of the test fixture plugin (tests/plugins/fixture-isolate.c),
 * copied to a private directory as the registry's checks want: a trivial
 * one (isolate-echo) for the cost per task, one that ignores its
 * cancellation (isolate-hang) for the kill path. The helpers of a pool are
 * started before the timing starts, as they are reused afterwards;
 * "a fresh process per task" gives each task a pool, so a helper of its
 * own, started and stopped with it.
 */

static GatherRegistry *isolation_registry;
static char           *isolation_dir;

static gboolean
isolation_setup (void)
{
  g_autofree char *to = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  if (isolation_registry != NULL)
    return TRUE;
  if (!g_file_get_contents (BENCH_ISOLATE_PLUGIN, &contents, &length, NULL))
    return FALSE;
  if (g_getenv ("GATHER_HELPER") == NULL)
    g_setenv ("GATHER_HELPER", BENCH_HELPER, TRUE);

  isolation_dir = g_dir_make_tmp ("gather-bench-XXXXXX", NULL);
  g_assert (isolation_dir != NULL && chmod (isolation_dir, 0700) == 0);
  to = g_build_filename (isolation_dir, "gather-isolate.so", NULL);
  g_assert (g_file_set_contents_full (to, contents, length, G_FILE_SET_CONTENTS_NONE, 0644, NULL));

  isolation_registry = gather_registry_new ();
  gather_registry_add_search_path (isolation_registry, isolation_dir);
  gather_registry_load (isolation_registry);
  g_assert (gather_registry_lookup_worker (isolation_registry, "isolate-echo") != NULL);

  return TRUE;
}

static void
isolation_teardown (void)
{
  g_autofree char *plugin = NULL;

  if (isolation_dir == NULL)
    return;
  plugin = g_build_filename (isolation_dir, "gather-isolate.so", NULL);
  unlink (plugin);
  rmdir (isolation_dir);
  g_clear_pointer (&isolation_dir, g_free);
}

static void
isolation_done (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  *(GPtrArray **) user_data = gather_group_run_finish (GATHER_GROUP (object), result, NULL);
}

static GPtrArray *
isolation_run (GatherGroup *group)
{
  GPtrArray *outcomes = NULL;

  gather_group_run_async (group, NULL, isolation_done, &outcomes);
  while (outcomes == NULL)
    g_main_context_iteration (NULL, TRUE);

  return outcomes;
}

static GatherGroup *
isolation_group (GatherPool *pool,
                 gboolean    isolated,
                 guint       max_concurrent)
{
  GatherGroup *group = gather_group_new ();

  gather_group_set_pool (group, pool);
  gather_group_set_registry (group, isolation_registry);
  gather_group_set_isolate_workers (group, isolated);
  gather_group_set_max_concurrent (group, max_concurrent);

  return group;
}

static void
isolation_add_echo (GatherGroup *group,
                    guint        n)
{
  /* Parameters of their own, a tree of values as a program builds them;
   * without format strings, which would cost more than the task in
   * benchmarks/isolation-instructions.sh (not timed either way). */
  for (guint i = 0; i < n; i++)
    {
      GVariant *entry = g_variant_new_dict_entry (g_variant_new_string ("value"),
                                                  g_variant_new_variant (g_variant_new_string ("x")));

      gather_group_add_worker_task (group, "isolate-echo",
                                    g_variant_new_array (G_VARIANT_TYPE ("{sv}"), &entry, 1),
                                    NULL, 60000, NULL);
    }
}

static gint
compare_outcome_finish (gconstpointer a,
                        gconstpointer b)
{
  gint64 x = gather_outcome_get_finish_time (*(GatherOutcome **) a);
  gint64 y = gather_outcome_get_finish_time (*(GatherOutcome **) b);

  return (x > y) - (x < y);
}

/* µs per trivial task, @n tasks at most @in_flight at once on @pool's
 * helpers (or threads); @cycles gets the time between consecutive
 * outcomes, in µs. */
static double
measure_isolated (GatherPool *pool,
                  gboolean    isolated,
                  guint       n,
                  guint       in_flight,
                  GArray     *cycles)
{
  g_autoptr(GatherGroup) group = isolation_group (pool, isolated, in_flight);
  g_autoptr(GPtrArray) outcomes = NULL;
  gint64 start;
  double elapsed;

  isolation_add_echo (group, n);
  start = g_get_monotonic_time ();
  outcomes = isolation_run (group);
  elapsed = g_get_monotonic_time () - start;

  for (guint i = 0; i < outcomes->len; i++)
    g_assert (gather_outcome_get_status (g_ptr_array_index (outcomes, i)) == GATHER_STATUS_OK);

  if (cycles != NULL)
    {
      g_ptr_array_sort (outcomes, compare_outcome_finish);
      for (guint i = 1; i < outcomes->len; i++)
        {
          double gap = gather_outcome_get_finish_time (g_ptr_array_index (outcomes, i)) -
                       gather_outcome_get_finish_time (g_ptr_array_index (outcomes, i - 1));

          g_array_append_val (cycles, gap);
        }
    }

  return elapsed / n;
}

/* µs per task when each task has a helper of its own. */
static double
measure_fresh_process (guint n)
{
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GatherPool) pool = gather_pool_new (1);
      g_autoptr(GatherGroup) group = isolation_group (pool, TRUE, 1);
      g_autoptr(GPtrArray) outcomes = NULL;

      isolation_add_echo (group, 1);
      outcomes = isolation_run (group);
      g_assert (gather_outcome_get_status (g_ptr_array_index (outcomes, 0)) == GATHER_STATUS_OK);
      g_clear_object (&group);
    }

  return (g_get_monotonic_time () - start) / (double) n;
}

/* Starts @pool's helpers (or threads) before timing. */
static void
isolation_warm_up (GatherPool *pool,
                   gboolean    isolated)
{
  measure_isolated (pool, isolated, 4 * gather_pool_get_max_threads (pool),
                    gather_pool_get_max_threads (pool), NULL);
}

/* --only isolated: trivial isolated tasks, 8 in flight on 2 helpers, ns
 * per task (for callgrind: benchmarks/isolation-instructions.sh). */
static double
measure_isolated_only (guint n)
{
  g_autoptr(GatherPool) helpers = gather_pool_new (2);
  double usec;

  if (!isolation_setup ())
    g_error ("%s was not built: configure with -Dtests=true", BENCH_ISOLATE_PLUGIN);
  isolation_warm_up (helpers, TRUE);
  usec = measure_isolated (helpers, TRUE, n, 8, NULL);

  return 1000 * usec;
}

static double measure_raw_in_flight (guint    n,
                                     gboolean with_parameters);

/* --only isolated-floor: what --only isolated is compared with, 2 echo
 * processes with 4 framed round trips in flight each and no gather, ns
 * per round trip (to set the two side by side under perf or callgrind). */
static double
measure_isolated_floor_only (guint n)
{
  return 1000 * measure_raw_in_flight (n, FALSE);
}

/* --only isolated-floor-parameters: the same, each request carrying the
 * isolated task's a{sv} parameters. */
static double
measure_isolated_floor_parameters_only (guint n)
{
  return 1000 * measure_raw_in_flight (n, TRUE);
}

typedef struct
{
  GPtrArray *stopped;        /* outcomes of stopped tasks, not killed yet */
  GArray    *late;           /* µs from timeout + grace to the killed mark */
  GArray    *recorded_late;  /* µs from the deadline to the outcome */
  guint      grace_msec;
  guint      n_killed;
  guint      timeout_msec;
} KillWatch;

static void
kill_watch_task_finished (GatherGroup   *group,
                          GatherOutcome *outcome,
                          KillWatch     *watch)
{
  /* Only the tasks that hang: they are all killed. A trivial one can time
   * out on a loaded machine, but it returns within its grace period and is
   * never killed. */
  if (gather_outcome_get_status (outcome) != GATHER_STATUS_TIMEOUT ||
      g_strcmp0 (gather_outcome_get_label (outcome), "hang") != 0)
    return;

  g_ptr_array_add (watch->stopped, gather_outcome_ref (outcome));
}

/* Runs at every iteration of the group's context, before it polls: a
 * helper that was killed is gone once its outcome is marked, which
 * happens in the dispatch of an event, so the next iteration sees it. */
static gboolean
kill_watch_prepare (GSource *source,
                    gint    *timeout)
{
  KillWatch *watch = *(KillWatch **) (source + 1);
  gint64 now = g_get_monotonic_time ();
  gboolean seen = FALSE;

  *timeout = -1;
  for (guint i = 0; i < watch->stopped->len; i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (watch->stopped, i);

      if (gather_outcome_get_killed (outcome))
        {
          /* Due at the task's timeout plus the grace period. */
          double due = gather_outcome_get_start_time (outcome) +
                       (watch->timeout_msec + watch->grace_msec) * 1000.0;
          double late = now - due;

          g_array_append_val (watch->late, late);
          watch->n_killed++;
          g_ptr_array_remove_index_fast (watch->stopped, i);
          i--;
          seen = TRUE;
        }
    }

  /* Something changed: let the iteration return. */
  return seen;
}

static gboolean
kill_watch_dispatch (GSource     *source,
                     GSourceFunc  callback,
                     gpointer     user_data)
{
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs kill_watch_funcs = { kill_watch_prepare, NULL, kill_watch_dispatch, NULL, NULL, NULL };

/* @n tasks on @helpers helpers with a @timeout_msec timeout: @hang_percent
 * of them ignore their cancellation, the others are trivial. Fills
 * @watch. */
static void
measure_kills (guint      n,
               guint      helpers,
               guint      hang_percent,
               guint      timeout_msec,
               KillWatch *watch)
{
  g_autoptr(GatherPool) pool = gather_pool_new (helpers);
  g_autoptr(GatherGroup) group = isolation_group (pool, TRUE, 0);
  g_autoptr(GPtrArray) outcomes = NULL;
  GSource *source;
  guint n_hang = 0;

  watch->timeout_msec = timeout_msec;
  isolation_warm_up (pool, TRUE);
  g_clear_object (&group);
  group = isolation_group (pool, TRUE, 0);
  gather_group_set_grace_period (group, watch->grace_msec);

  for (guint i = 0; i < n; i++)
    {
      /* Spread evenly: every (100 / hang_percent)-th task hangs. */
      gboolean hang = (i * hang_percent) / 100 != ((i + 1) * hang_percent) / 100;

      if (hang)
        {
          gather_group_add_worker_task (group, "isolate-hang", NULL, "hang", timeout_msec, NULL);
          n_hang++;
        }
      else
        {
          gather_group_add_worker_task (group, "isolate-echo",
                                        g_variant_new_parsed ("{'value': <'x'>}"), NULL,
                                        timeout_msec, NULL);
        }
    }

  g_signal_connect (group, "task-finished", G_CALLBACK (kill_watch_task_finished), watch);
  source = g_source_new (&kill_watch_funcs, sizeof (GSource) + sizeof (KillWatch *));
  *(KillWatch **) (source + 1) = watch;
  g_source_attach (source, NULL);
  outcomes = isolation_run (group);

  for (guint i = 0; i < outcomes->len; i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (outcomes, i);

      if (gather_outcome_get_status (outcome) == GATHER_STATUS_TIMEOUT)
        {
          double late = gather_outcome_get_finish_time (outcome) -
                        (gather_outcome_get_start_time (outcome) + timeout_msec * 1000.0);

          g_array_append_val (watch->recorded_late, late);
        }
      else
        {
          g_assert (gather_outcome_get_status (outcome) == GATHER_STATUS_OK);
        }
    }

  while (gather_group_get_n_running (group) > 0 || watch->stopped->len > 0)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (source);
  g_source_unref (source);
  g_assert (watch->recorded_late->len >= n_hang);
}

/* Processes whose parent is this one, and this process's resident size in
 * KiB. */
static guint
count_children (void)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint n = 0;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/stat", name);
      g_autofree char *stat = NULL;
      const char *fields;
      long ppid = 0;

      if (g_ascii_isdigit (name[0]) && g_file_get_contents (path, &stat, NULL, NULL) &&
          (fields = strrchr (stat, ')')) != NULL && sscanf (fields + 1, " %*c %ld", &ppid) == 1 &&
          ppid == (long) getpid ())
        n++;
    }

  return n;
}

static guint64
resident_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "\nVmRSS:")) == NULL)
    return 0;

  return g_ascii_strtoull (line + strlen ("\nVmRSS:"), NULL, 10);
}

/* The floor under an isolated task: one framed GVariant round trip
 * between two processes over a socketpair, (tv) -> (tv), one at a time,
 * as BASELINES.md measured it. The other process is this program, run
 * with --echo-child, its socket as 3. */

static void
raw_read (int    fd,
          void  *buffer,
          gsize  length)
{
  gsize done = 0;

  while (done < length)
    {
      ssize_t n = read (fd, (char *) buffer + done, length - done);

      if (n <= 0)
        exit (0);
      done += (gsize) n;
    }
}

static GVariant *
raw_receive (int fd)
{
  guint32 length;
  void *data;

  raw_read (fd, &length, sizeof length);
  data = g_malloc (length);
  raw_read (fd, data, length);

  return g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE ("(tv)"), data, length,
                                                      FALSE, g_free, data));
}

static void
raw_send (int       fd,
          GVariant *message)
{
  gsize size;
  guint8 *frame;
  guint32 length;

  g_variant_ref_sink (message);
  size = g_variant_get_size (message);
  frame = g_malloc (4 + size);
  length = (guint32) size;
  memcpy (frame, &length, 4);
  memcpy (frame + 4, g_variant_get_data (message), size);
  if (write (fd, frame, 4 + size) != (ssize_t) (4 + size))
    exit (1);
  g_free (frame);
  g_variant_unref (message);
}

/* A request of the floors: @serial, and a string or, @with_parameters,
 * the isolated task's parameters built as isolation_add_echo() builds
 * them. */
static GVariant *
floor_request (guint64  serial,
               gboolean with_parameters)
{
  GVariant *entry;

  if (!with_parameters)
    return g_variant_new ("(tv)", serial, g_variant_new_string ("x"));

  entry = g_variant_new_dict_entry (g_variant_new_string ("value"),
                                    g_variant_new_variant (g_variant_new_string ("x")));
  return g_variant_new ("(tv)", serial, g_variant_new_array (G_VARIANT_TYPE ("{sv}"), &entry, 1));
}

/* Answers each request with a string: the parameters' "value" if it
 * carries parameters, as the isolate-echo worker reads it. */
static int
echo_child (void)
{
  for (;;)
    {
      g_autoptr(GVariant) request = raw_receive (3);
      g_autoptr(GVariant) value = NULL;
      const char *answer = "x";
      guint64 serial;

      g_variant_get (request, "(tv)", &serial, &value);
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT))
        g_variant_lookup (value, "value", "&s", &answer);
      raw_send (3, g_variant_new ("(tv)", serial, g_variant_new_string (answer)));
    }

  return 0;
}

/* This program run with --echo-child, its socket as 3: the other end of
 * the raw round trip, and the processes of the kill floor. */
typedef struct
{
  GPid   pid;
  int    pidfd;
  int    socket;
  gint64 killed_at;
} EchoChild;

static void
echo_child_spawn (EchoChild *child)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  const char *argv[] = { self, "--echo-child", NULL };
  gint target = 3;
  int sv[2];

  g_assert (self != NULL && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  if (!g_spawn_async_with_pipes_and_fds (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                         -1, -1, -1, &sv[1], &target, 1, &child->pid, NULL, NULL,
                                         NULL, &error))
    g_error ("Could not start the echo process: %s", error->message);
  close (sv[1]);
  child->socket = sv[0];
  child->pidfd = pidfd_open (child->pid, 0);
  g_assert (child->pidfd >= 0);
}

/* Sets the CPUs of every thread of this process (gather's own threads
 * too) to @cpus: what it starts afterwards (helpers, echo processes)
 * inherits them. FALSE if a thread's could not be set. */
static gboolean
set_process_cpus (const cpu_set_t *cpus)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *name;
  gboolean all = dir != NULL;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (sched_setaffinity ((pid_t) g_ascii_strtoll (name, NULL, 10), sizeof *cpus, cpus) != 0)
      all = FALSE;

  return all;
}

/* p50 in µs of @n round trips; *@kill_usec gets how long a SIGKILL of the
 * other process takes until it is reaped. */
static double
measure_raw_round_trip (guint   n,
                        double *kill_usec)
{
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  EchoChild child;

  echo_child_spawn (&child);

  for (guint i = 0; i < n + 100; i++)
    {
      gint64 start = g_get_monotonic_time ();
      g_autoptr(GVariant) reply = NULL;
      double elapsed;

      raw_send (child.socket, g_variant_new ("(tv)", (guint64) i, g_variant_new_string ("x")));
      reply = raw_receive (child.socket);
      elapsed = g_get_monotonic_time () - start;
      /* The first ones warm up. */
      if (i >= 100)
        g_array_append_val (times, elapsed);
    }

  {
    gint64 start = g_get_monotonic_time ();

    kill (child.pid, SIGKILL);
    waitpid (child.pid, NULL, 0);
    *kill_usec = g_get_monotonic_time () - start;
  }
  close (child.pidfd);
  close (child.socket);

  return percentile (times, 0.5);
}

/* Frames read from an echo child, a read() at a time. */
typedef struct
{
  guint8 *data;
  gsize   len;
  gsize   size;
} RawBuffer;

/* Reads what @fd has now into @buffer; then takes every whole frame out,
 * and returns how many. */
static guint
raw_receive_all (int        fd,
                 RawBuffer *buffer)
{
  guint n_frames = 0;
  gsize done = 0;
  ssize_t n;

  if (buffer->size - buffer->len < 65536)
    {
      buffer->size = MAX (2 * buffer->size, buffer->len + 65536);
      buffer->data = g_realloc (buffer->data, buffer->size);
    }
  n = read (fd, buffer->data + buffer->len, buffer->size - buffer->len);
  if (n <= 0)
    exit (1);
  buffer->len += (gsize) n;

  for (;;)
    {
      guint32 length;
      g_autoptr(GVariant) reply = NULL;
      guint64 serial;
      gpointer copy;

      if (buffer->len - done < sizeof length)
        break;
      memcpy (&length, buffer->data + done, sizeof length);
      if (buffer->len - done - sizeof length < length)
        break;
      /* Taken apart as the one-at-a-time floor does. */
      copy = g_memdup2 (buffer->data + done + sizeof length, length);
      reply = g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE ("(tv)"), copy, length,
                                                           FALSE, g_free, copy));
      g_variant_get_child (reply, 0, "t", &serial);
      done += sizeof length + length;
      n_frames++;
    }

  memmove (buffer->data, buffer->data + done, buffer->len - done);
  buffer->len -= done;

  return n_frames;
}

/* The floor under isolated tasks 8 in flight, as the issue measured it: 2
 * echo processes with 4 requests each in flight, fed and read by one
 * thread that polls both sockets. µs per round trip over @n. Each request
 * carries a string or, @with_parameters, the parameters of an isolated
 * task, which the echo process looks up as the task's worker does: what
 * any program pays to send a plugin an a{sv} with GLib. */
static double
measure_raw_in_flight (guint    n,
                       gboolean with_parameters)
{
  EchoChild children[2];
  RawBuffer buffers[2] = { { NULL, }, };
  guint in_flight[2] = { 0, 0 };
  guint sent = 0, received = 0;
  guint warm_up = 200;
  gint64 start = 0;
  double elapsed;

  for (guint c = 0; c < 2; c++)
    echo_child_spawn (&children[c]);

  while (received < n + warm_up)
    {
      struct pollfd fds[2];

      if (received >= warm_up && start == 0)
        start = g_get_monotonic_time ();

      for (guint c = 0; c < 2; c++)
        while (in_flight[c] < 4 && sent < n + warm_up)
          {
            raw_send (children[c].socket, floor_request (sent, with_parameters));
            in_flight[c]++;
            sent++;
          }

      for (guint c = 0; c < 2; c++)
        fds[c] = (struct pollfd) { children[c].socket, POLLIN, 0 };
      if (poll (fds, 2, -1) < 0)
        continue;

      for (guint c = 0; c < 2; c++)
        if (fds[c].revents & (POLLIN | POLLHUP | POLLERR))
          {
            guint got = raw_receive_all (children[c].socket, &buffers[c]);

            in_flight[c] -= got;
            received += got;
          }
    }
  elapsed = (double) (g_get_monotonic_time () - start) / n;

  for (guint c = 0; c < 2; c++)
    {
      kill (children[c].pid, SIGKILL);
      waitpid (children[c].pid, NULL, 0);
      close (children[c].pidfd);
      close (children[c].socket);
      g_free (buffers[c].data);
    }

  return elapsed;
}

/* The floor under the kill path, in the pattern of measure_kills(): @width
 * GLib processes (each answering a round trip first, so that it has
 * started) killed at once, @n kills in all. Appends to @late the µs from
 * each SIGKILL to its process reaped. No gather: what 2 CPUs allow when
 * @width processes die at once. Their replacements start once all are
 * reaped, so that their start does not compete with the teardown (a
 * GatherPool starts one as soon as a helper is gone: the floor leaves that
 * cost to gather). */
static void
measure_kill_floor (guint   n,
                    guint   width,
                    GArray *late)
{
  g_autofree EchoChild *children = g_new0 (EchoChild, width);
  g_autofree struct pollfd *fds = g_new0 (struct pollfd, width);
  guint n_killed = 0;

  for (guint i = 0; i < width; i++)
    echo_child_spawn (&children[i]);

  while (n_killed < n)
    {
      guint wave = MIN (width, n - n_killed);
      guint n_reaped = 0;

      /* Every one has started and answers. */
      for (guint i = 0; i < wave; i++)
        {
          g_autoptr(GVariant) reply = NULL;

          raw_send (children[i].socket, g_variant_new ("(tv)", (guint64) i, g_variant_new_string ("x")));
          reply = raw_receive (children[i].socket);
        }

      for (guint i = 0; i < wave; i++)
        {
          children[i].killed_at = g_get_monotonic_time ();
          kill (children[i].pid, SIGKILL);
        }

      while (n_reaped < wave)
        {
          for (guint i = 0; i < wave; i++)
            fds[i] = (struct pollfd) { children[i].killed_at != 0 ? children[i].pidfd : -1, POLLIN, 0 };
          if (poll (fds, wave, -1) < 0)
            continue;

          for (guint i = 0; i < wave; i++)
            if (fds[i].revents & POLLIN)
              {
                double v;

                waitpid (children[i].pid, NULL, 0);
                v = (double) (g_get_monotonic_time () - children[i].killed_at);
                g_array_append_val (late, v);
                close (children[i].pidfd);
                close (children[i].socket);
                children[i].killed_at = 0;
                n_reaped++;
              }
        }
      n_killed += wave;

      for (guint i = 0; i < wave; i++)
        echo_child_spawn (&children[i]);
    }

  for (guint i = 0; i < width; i++)
    {
      kill (children[i].pid, SIGKILL);
      waitpid (children[i].pid, NULL, 0);
      close (children[i].pidfd);
      close (children[i].socket);
    }
}

static void
print_isolation (void)
{
  guint n = opt_quick ? 500 : 20000;
  guint n_fresh = opt_quick ? 10 : 300;
  guint n_kills = opt_quick ? 8 : 100;
  guint n_stress = opt_quick ? 60 : 1000;
  g_autofree double *v_flight = g_new (double, opt_repeat);
  g_autofree double *v_threads = g_new (double, opt_repeat);
  g_autofree double *v_serial = g_new (double, opt_repeat);
  g_autofree double *v_serial_threads = g_new (double, opt_repeat);
  g_autofree double *v_cycle = g_new (double, opt_repeat);
  g_autofree double *v_fresh = g_new (double, opt_repeat);
  g_autofree double *v_raw = g_new (double, opt_repeat);
  g_autofree double *v_raw_kill = g_new (double, opt_repeat);
  g_autofree double *v_raw_flight = g_new (double, opt_repeat);
  g_autofree double *v_raw_params = g_new (double, opt_repeat);
  g_autofree double *v_cycle_one_cpu = g_new (double, opt_repeat);
  g_autofree double *v_raw_one_cpu = g_new (double, opt_repeat);
  g_autofree double *v_kill_p50 = g_new (double, opt_repeat);
  g_autofree double *v_kill_p99 = g_new (double, opt_repeat);
  g_autofree double *v_kill_max = g_new (double, opt_repeat);
  g_autofree double *v_floor_p50 = g_new (double, opt_repeat);
  g_autofree double *v_floor_p99 = g_new (double, opt_repeat);
  g_autofree double *v_rec_p99 = g_new (double, opt_repeat);
  g_autofree double *v_rec_max = g_new (double, opt_repeat);
  double flight, threads, serial, serial_threads, cycle, fresh, raw, raw_flight, raw_params;
  double cycle_one_cpu, raw_one_cpu;
  cpu_set_t all_cpus, one_cpu;
  gboolean one_cpu_ok = TRUE;
  double kill_p50, kill_p99, kill_max, raw_kill, rec_p99, rec_max, floor_p50, floor_p99;
  guint64 rss_before = 0, rss_after = 0;
  guint children_left = 0;
  guint n_killed = 0;

  if (!isolation_setup ())
    {
      g_print ("## Isolated tasks: skipped (%s was not built: configure with -Dtests=true)\n\n",
               BENCH_ISOLATE_PLUGIN);
      return;
    }

  print_load ("isolation");
  g_print ("## Isolated tasks (plugin workers in helper processes; µs per task, median (min-max) of %u)\n\n",
           opt_repeat);

  for (guint r = 0; r < opt_repeat; r++)
    {
      g_autoptr(GatherPool) helpers = gather_pool_new (2);
      g_autoptr(GatherPool) threads_pool = gather_pool_new (2);
      g_autoptr(GArray) cycles = g_array_new (FALSE, FALSE, sizeof (double));

      isolation_warm_up (helpers, TRUE);
      isolation_warm_up (threads_pool, FALSE);

      v_flight[r] = measure_isolated (helpers, TRUE, n, 8, NULL);
      v_threads[r] = measure_isolated (threads_pool, FALSE, n, 8, NULL);
      v_serial[r] = measure_isolated (helpers, TRUE, n / 4, 1, cycles);
      v_cycle[r] = percentile (cycles, 0.5);
      v_serial_threads[r] = measure_isolated (threads_pool, FALSE, n / 4, 1, NULL);
      v_fresh[r] = measure_fresh_process (n_fresh);
      v_raw[r] = measure_raw_round_trip (n / 4, &v_raw_kill[r]);
      v_raw_flight[r] = measure_raw_in_flight (n, FALSE);
      v_raw_params[r] = measure_raw_in_flight (n, TRUE);

      /* One at a time again, with every thread and process on one CPU: a
       * task crosses three wake-ups, and on a VM waking an idle virtual
       * CPU may cost more than the rest of the task. Not where the
       * process may not choose its CPUs. */
      v_cycle_one_cpu[r] = v_raw_one_cpu[r] = 0;
      if (one_cpu_ok && sched_getaffinity (0, sizeof all_cpus, &all_cpus) == 0)
        {
          CPU_ZERO (&one_cpu);
          for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
            if (CPU_ISSET (cpu, &all_cpus))
              {
                CPU_SET (cpu, &one_cpu);
                break;
              }
          if (set_process_cpus (&one_cpu))
            {
              g_autoptr(GatherPool) one_cpu_helpers = gather_pool_new (2);
              g_autoptr(GArray) one_cpu_cycles = g_array_new (FALSE, FALSE, sizeof (double));
              double kill_usec;

              isolation_warm_up (one_cpu_helpers, TRUE);
              measure_isolated (one_cpu_helpers, TRUE, n / 4, 1, one_cpu_cycles);
              v_cycle_one_cpu[r] = percentile (one_cpu_cycles, 0.5);
              v_raw_one_cpu[r] = measure_raw_round_trip (n / 4, &kill_usec);
            }
          else
            one_cpu_ok = FALSE;
          set_process_cpus (&all_cpus);
        }
      else
        one_cpu_ok = FALSE;
    }

  flight = median (v_flight, opt_repeat);
  threads = median (v_threads, opt_repeat);
  serial = median (v_serial, opt_repeat);
  serial_threads = median (v_serial_threads, opt_repeat);
  cycle = median (v_cycle, opt_repeat);
  fresh = median (v_fresh, opt_repeat);
  raw = median (v_raw, opt_repeat);
  raw_flight = median (v_raw_flight, opt_repeat);
  raw_params = median (v_raw_params, opt_repeat);
  cycle_one_cpu = median (v_cycle_one_cpu, opt_repeat);
  raw_one_cpu = median (v_raw_one_cpu, opt_repeat);

  g_print ("Trivial worker (isolate-echo), a timeout each that does not fire, result on the main context; "
           "%u tasks per run (%u one at a time, %u with a fresh process each).\n\n", n, n / 4, n_fresh);
  g_print ("| case | isolated (2 helpers) | in process (2 threads) | a fresh process per task "
           "| isolated / in process | fresh / isolated |\n");
  g_print ("|---|---|---|---|---|---|\n");
  g_print ("| 8 in flight | **%.1f** (%.1f-%.1f) | %.1f (%.1f-%.1f) | %.0f (%.0f-%.0f) | %.1fx | %.0fx |\n",
           flight, v_flight[0], v_flight[opt_repeat - 1], threads, v_threads[0], v_threads[opt_repeat - 1],
           fresh, v_fresh[0], v_fresh[opt_repeat - 1], flight / threads, fresh / flight);
  g_print ("| one at a time | **%.1f** (%.1f-%.1f) | %.1f (%.1f-%.1f) | %.0f | %.1fx | %.0fx |\n",
           serial, v_serial[0], v_serial[opt_repeat - 1], serial_threads, v_serial_threads[0],
           v_serial_threads[opt_repeat - 1], fresh, serial / serial_threads, fresh / serial);
  g_print ("| one at a time, p50 outcome to outcome | **%.1f** (%.1f-%.1f) | | | | |\n",
           cycle, v_cycle[0], v_cycle[opt_repeat - 1]);
  g_print ("| floor: raw framed GVariant round trips, 2 processes, 4 in flight each, one thread feeding them "
           "| %.1f (%.1f-%.1f) | | | 8 in flight / floor: %.1fx | |\n",
           raw_flight, v_raw_flight[0], v_raw_flight[opt_repeat - 1], flight / raw_flight);
  g_print ("| floor as above, each request the task's a{sv} parameters, built, sent and looked up with GLib "
           "| %.1f (%.1f-%.1f) | | | 8 in flight / floor: %.1fx | |\n",
           raw_params, v_raw_params[0], v_raw_params[opt_repeat - 1], flight / raw_params);
  g_print ("| floor: raw framed GVariant round trip between two processes, p50 | %.1f (%.1f-%.1f) "
           "| | | one at a time p50 / floor: %.1fx | |\n",
           raw, v_raw[0], v_raw[opt_repeat - 1], cycle / raw);
  if (one_cpu_ok)
    {
      g_print ("| one at a time, p50 outcome to outcome, this process and its helpers on one CPU | **%.1f** (%.1f-%.1f) "
               "| | | | |\n", cycle_one_cpu, v_cycle_one_cpu[0], v_cycle_one_cpu[opt_repeat - 1]);
      g_print ("| floor: the framed round trip, p50, both processes on that CPU | %.1f (%.1f-%.1f) "
               "| | | one at a time p50 / floor, on one CPU: %.1fx | |\n\n",
               raw_one_cpu, v_raw_one_cpu[0], v_raw_one_cpu[opt_repeat - 1], cycle_one_cpu / raw_one_cpu);
    }
  else
    g_print ("| one at a time on one CPU | skipped: this process may not choose its CPUs | | | | |\n\n");

  /* The kill path, then many tasks of which some must be killed. */
  for (guint r = 0; r < opt_repeat; r++)
    {
      KillWatch watch = { g_ptr_array_new_with_free_func ((GDestroyNotify) gather_outcome_unref),
                          g_array_new (FALSE, FALSE, sizeof (double)),
                          g_array_new (FALSE, FALSE, sizeof (double)), 10, 0 };

      g_autoptr(GArray) floor_late = g_array_new (FALSE, FALSE, sizeof (double));

      measure_kills (n_kills, 4, 100, 20, &watch);
      v_kill_p50[r] = percentile (watch.late, 0.5);
      v_kill_p99[r] = percentile (watch.late, 0.99);
      v_kill_max[r] = percentile (watch.late, 1.0);
      g_ptr_array_unref (watch.stopped);
      g_array_unref (watch.late);
      g_array_unref (watch.recorded_late);

      measure_kill_floor (n_kills, 4, floor_late);
      v_floor_p50[r] = percentile (floor_late, 0.5);
      v_floor_p99[r] = percentile (floor_late, 0.99);
    }
  g_print ("From a task's timeout plus grace period to its outcome marked killed on the main "
           "context (the helper's processes all reaped), tasks that ignore cancellation, timeout "
           "20 ms, grace 10 ms, 4 helpers (each kill starts a replacement once no other kill of "
           "the pool is under way or due within 4 ms, at most 20 ms later), %u tasks per run; µs, "
           "median (min-max) of %u:\n\n", n_kills, opt_repeat);
  g_print ("| case | p50 | p99 | max |\n"
           "|---|---|---|---|\n");
  kill_p50 = median (v_kill_p50, opt_repeat);
  kill_p99 = median (v_kill_p99, opt_repeat);
  kill_max = median (v_kill_max, opt_repeat);
  raw_kill = median (v_raw_kill, opt_repeat);
  floor_p50 = median (v_floor_p50, opt_repeat);
  floor_p99 = median (v_floor_p99, opt_repeat);
  g_print ("| isolated tasks killed | %.0f (%.0f-%.0f) | **%.0f** (%.0f-%.0f) | %.0f (%.0f-%.0f) |\n",
           kill_p50, v_kill_p50[0], v_kill_p50[opt_repeat - 1],
           kill_p99, v_kill_p99[0], v_kill_p99[opt_repeat - 1],
           kill_max, v_kill_max[0], v_kill_max[opt_repeat - 1]);
  g_print ("| floor, no gather: 4 GLib processes killed at once, replaced once all are reaped, "
           "%u kills per run; SIGKILL until reaped | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | |\n",
           n_kills, floor_p50, v_floor_p50[0], v_floor_p50[opt_repeat - 1],
           floor_p99, v_floor_p99[0], v_floor_p99[opt_repeat - 1]);
  g_print ("| floor, no gather: one GLib process killed alone (one per run); SIGKILL until reaped "
           "| %.0f (%.0f-%.0f) | | |\n\n",
           raw_kill, v_raw_kill[0], v_raw_kill[opt_repeat - 1]);
  g_print ("Isolated kills / the 4-at-once floor: p50 %.1fx, p99 %.1fx.\n\n",
           kill_p50 / floor_p50, kill_p99 / floor_p99);

  for (guint r = 0; r < opt_repeat; r++)
    {
      KillWatch watch = { g_ptr_array_new_with_free_func ((GDestroyNotify) gather_outcome_unref),
                          g_array_new (FALSE, FALSE, sizeof (double)),
                          g_array_new (FALSE, FALSE, sizeof (double)), 20, 0 };

      if (r == 0)
        rss_before = resident_kib ();
      measure_kills (n_stress, 8, 30, 50, &watch);
      v_rec_p99[r] = percentile (watch.recorded_late, 0.99);
      v_rec_max[r] = percentile (watch.recorded_late, 1.0);
      n_killed += watch.n_killed;
      children_left += count_children ();
      rss_after = resident_kib ();
      g_ptr_array_unref (watch.stopped);
      g_array_unref (watch.late);
      g_array_unref (watch.recorded_late);
    }
  rec_p99 = median (v_rec_p99, opt_repeat);
  rec_max = median (v_rec_max, opt_repeat);
  g_print ("%u isolated tasks per run, 30%% ignoring cancellation (timeout 50 ms, grace 20 ms, "
           "8 helpers), %u runs: timed-out outcomes recorded after their deadline by p99 %.0f µs "
           "(%.0f-%.0f), max %.0f µs (%.0f-%.0f); %u tasks killed (%u expected); processes left "
           "after the runs: %u; host resident memory %" G_GUINT64_FORMAT " KiB after the first "
           "run, %" G_GUINT64_FORMAT " KiB after the last.\n\n",
           n_stress, opt_repeat, rec_p99, v_rec_p99[0], v_rec_p99[opt_repeat - 1],
           rec_max, v_rec_max[0], v_rec_max[opt_repeat - 1],
           n_killed, opt_repeat * (n_stress * 30 / 100), children_left, rss_before, rss_after);
  g_assert (children_left == 0);
  g_assert (n_killed == opt_repeat * (n_stress * 30 / 100));

  print_load ("isolation");
  g_print ("\n");
  isolation_teardown ();
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

/* The kernel's work during one measurement, per task: minor page faults
 * and system time (ns), every thread of the process. */
typedef struct
{
  double faults;
  double sys_ns;
} KernelWork;

static double
measure_with_kernel_work (Measure     measure,
                          guint       n,
                          KernelWork *work)
{
  struct rusage before, after;
  double ns;

  getrusage (RUSAGE_SELF, &before);
  ns = measure (n);
  getrusage (RUSAGE_SELF, &after);

  work->faults = (double) (after.ru_minflt - before.ru_minflt) / n;
  work->sys_ns = ((after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1e9 +
                  (after.ru_stime.tv_usec - before.ru_stime.tv_usec) * 1e3) / n;
  return ns;
}

static void
print_speed (void)
{
  g_autoptr(GArray) gather_ns = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GString) kernel = g_string_new (NULL);
  gboolean have_python = g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE);
  guint n_first = 0, n_last = 0;

  print_load ("speed");
  g_print ("## Thread tasks: cost per task (ns; trivial body returning a GVariant, result delivered\n"
           "##   on the main context; %u pool threads; median (min-max) of %u runs; ratios are\n"
           "##   taken within each run, the variants measured back to back; asyncio's runs come\n"
           "##   after the others', and asyncio / gather is the ratio of the medians)\n\n",
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
      g_autofree double *k_gather_faults = g_new (double, opt_repeat);
      g_autofree double *k_batched_faults = g_new (double, opt_repeat);
      g_autofree double *k_gather_sys = g_new (double, opt_repeat);
      g_autofree double *k_batched_sys = g_new (double, opt_repeat);
      g_autofree char *s_gf = NULL, *s_bf = NULL, *s_gs = NULL, *s_bs = NULL;
      g_autofree char *s_idle = NULL, *s_batched = NULL, *s_gtask = NULL, *s_gather = NULL;
      g_autofree char *s_rb = NULL, *s_rg = NULL, *s_python = NULL;
      g_autofree double *v_python = g_new (double, opt_repeat);
      double python = -1, gather;

      for (guint k = 0; k < e; k++)
        n *= 10;

      /* Interleave the variants so they share the machine's noise. */
      for (guint r = 0; r < opt_repeat; r++)
        {
          KernelWork work;

          v_gather[r] = measure_with_kernel_work (measure_gather, n, &work);
          k_gather_faults[r] = work.faults;
          k_gather_sys[r] = work.sys_ns;
          v_batched[r] = measure_with_kernel_work (measure_pool_batched, n, &work);
          k_batched_faults[r] = work.faults;
          k_batched_sys[r] = work.sys_ns;
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
      s_gf = spread (k_gather_faults, opt_repeat, 3, "");
      s_bf = spread (k_batched_faults, opt_repeat, 3, "");
      s_gs = spread (k_gather_sys, opt_repeat, 0, "");
      s_bs = spread (k_batched_sys, opt_repeat, 0, "");
      g_string_append_printf (kernel, "| %u | %s | %s | %s | %s |\n", n, s_gf, s_bf, s_gs, s_bs);

      /* After the others: Python's runs are not interleaved with them. */
      if (have_python && e <= opt_python_max_exponent)
        {
          for (guint r = 0; r < opt_repeat; r++)
            v_python[r] = measure_python (n);
          python = median (v_python, opt_repeat);
          s_python = spread (v_python, opt_repeat, 0, "");
        }

      g_array_append_val (gather_ns, gather);
      if (n_first == 0)
        n_first = n;
      n_last = n;

      g_print ("| %u | %s | %s | %s | **%s** | %s | %s |", n, s_idle, s_batched, s_gtask,
               s_gather, s_rb, s_rg);
      if (python > 0)
        g_print (" %s | %.1fx |\n", s_python, python / gather);
      else
        g_print (" %s | |\n", have_python ? "(not run)" : "(no /usr/bin/python3)");
    }

  if (gather_ns->len >= 2)
    g_print ("\nLinear scale: gather's median cost per task at N = %u is %.2fx its cost at N = %u.\n",
             n_last,
             g_array_index (gather_ns, double, gather_ns->len - 1) / g_array_index (gather_ns, double, 0),
             n_first);

  /* What callgrind does not count: the memory a run touches for the first
   * time costs page faults, and the kernel's time shows them. */
  g_print ("\nThe kernel's work in the same runs, per task, every thread (getrusage): minor page "
           "faults and system time (ns), median (min-max):\n\n"
           "| N | gather: page faults | raw batched: page faults | gather: system ns | raw batched: system ns |\n"
           "|---|---|---|---|---|\n%s", kernel->str);
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

/* A floor's figures from how late each of its @n wake-ups was (µs): every
 * column is the same, when it woke. */
static Lateness
floor_lateness (const gint64 *late,
                guint         n)
{
  g_autoptr(GArray) values = g_array_sized_new (FALSE, FALSE, sizeof (double), n);
  Lateness result = { 0 };

  for (guint i = 0; i < n; i++)
    {
      double v = (double) late[i];

      g_array_append_val (values, v);
    }
  result.n_timeout = n;
  result.issued_p99 = result.observed_p99 = result.recorded_p99 = percentile (values, 0.99);
  result.issued_max = result.observed_max = result.recorded_max = percentile (values, 1.0);

  return result;
}

/* The floor for async tasks: the same deadlines, and the idle main loop
 * woken at each by a timerfd it polls, noting how late it ran. One wake-up
 * per deadline, where an async timeout in gather takes two (the timer
 * thread's at the deadline, then the owner's): no gather, no thread, no
 * heap, no cancellable, no outcome; what this machine allows a main loop
 * that wakes at a deadline. */
typedef struct
{
  guint    n;
  gint64  *deadlines;   /* sorted */
  gint64  *late;
  guint    next;        /* the first deadline not reached */
  int      fd;          /* timerfd */
} WakeFloor;

static void
wake_floor_arm (WakeFloor *floor)
{
  gint64 deadline = floor->deadlines[floor->next];
  struct itimerspec spec = { { 0, 0 }, { deadline / G_USEC_PER_SEC, (deadline % G_USEC_PER_SEC) * 1000 } };

  if (timerfd_settime (floor->fd, TFD_TIMER_ABSTIME, &spec, NULL) != 0)
    g_error ("timerfd_settime: %s", g_strerror (errno));
}

static gboolean
wake_floor_ready (gint         fd,
                  GIOCondition condition,
                  gpointer     data)
{
  WakeFloor *floor = data;
  guint64 expirations;
  gint64 now = g_get_monotonic_time ();

  if (read (fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
    g_error ("timerfd read: %s", g_strerror (errno));

  while (floor->next < floor->n && floor->deadlines[floor->next] <= now)
    {
      floor->late[floor->next] = now - floor->deadlines[floor->next];
      floor->next++;
    }
  if (floor->next == floor->n)
    return G_SOURCE_REMOVE;

  wake_floor_arm (floor);
  return G_SOURCE_CONTINUE;
}

static Lateness
measure_lateness_wake_floor (guint n)
{
  WakeFloor floor = { n, g_new (gint64, n), g_new0 (gint64, n), 0, -1 };
  gint64 start = g_get_monotonic_time ();
  guint per_msec[500] = { 0 };
  Lateness result;
  guint k = 0;

  /* The async rows' timeouts (whole milliseconds from 200 to 699), all
   * counted from one start, in order. */
  for (guint i = 0; i < n; i++)
    per_msec[(i * 7919) % 500]++;
  for (guint t = 0; t < G_N_ELEMENTS (per_msec); t++)
    for (guint c = 0; c < per_msec[t]; c++)
      floor.deadlines[k++] = start + (200 + t) * 1000;

  floor.fd = timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (floor.fd < 0)
    g_error ("timerfd_create: %s", g_strerror (errno));
  wake_floor_arm (&floor);
  g_unix_fd_add (floor.fd, G_IO_IN, wake_floor_ready, &floor);
  while (floor.next < n)
    g_main_context_iteration (NULL, TRUE);
  close (floor.fd);

  result = floor_lateness (floor.late, n);

  g_free (floor.deadlines);
  g_free (floor.late);

  return result;
}

/* The floor for thread bodies: the same number of threads, started one
 * after another as a GatherPool starts them, each sleeping until its own
 * deadline (its start plus the same timeout) and noting how late it woke.
 * No gather, no timer thread, no cancellable, no main loop: what 2 CPUs
 * shared by that many threads allow a thread that wakes at a deadline. */
typedef struct
{
  guint    n;
  gint64  *late;       /* per thread: µs after its deadline */
  gint     n_done;     /* guarded by mutex */
  GMutex   mutex;
  GCond    cond;
} SleepFloor;

typedef struct
{
  SleepFloor *floor;
  guint       index;
} SleepFloorThread;

static gpointer
sleep_floor_thread (gpointer data)
{
  SleepFloorThread *self = data;
  SleepFloor *floor = self->floor;
  guint i = self->index;
  gint64 deadline = g_get_monotonic_time () + (200 + (i * 7919) % 500) * 1000;
  struct timespec ts = { deadline / G_USEC_PER_SEC, (deadline % G_USEC_PER_SEC) * 1000 };

  if (i + 1 < floor->n)
    {
      SleepFloorThread *next = g_new (SleepFloorThread, 1);

      next->floor = floor;
      next->index = i + 1;
      g_thread_unref (g_thread_new ("floor", sleep_floor_thread, next));
    }
  g_free (self);

  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
    ;
  floor->late[i] = g_get_monotonic_time () - deadline;

  g_mutex_lock (&floor->mutex);
  if (++floor->n_done == (gint) floor->n)
    g_cond_signal (&floor->cond);
  g_mutex_unlock (&floor->mutex);

  return NULL;
}

static Lateness
measure_lateness_floor (guint n)
{
  SleepFloor floor = { n, g_new0 (gint64, n), 0 };
  SleepFloorThread *first = g_new (SleepFloorThread, 1);
  Lateness result;

  g_mutex_init (&floor.mutex);
  g_cond_init (&floor.cond);
  first->floor = &floor;
  first->index = 0;
  g_thread_unref (g_thread_new ("floor", sleep_floor_thread, first));

  g_mutex_lock (&floor.mutex);
  while (floor.n_done < (gint) n)
    g_cond_wait (&floor.cond, &floor.mutex);
  g_mutex_unlock (&floor.mutex);

  result = floor_lateness (floor.late, n);

  /* The last threads are still exiting; give them a moment. */
  g_usleep (100 * 1000);
  g_mutex_clear (&floor.mutex);
  g_cond_clear (&floor.cond);
  g_free (floor.late);

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

static const char * const known_sections[] = {
  "speed", "async", "lateness", "memory", "model", "isolation", "storm", NULL
};
static const char * const known_lateness_rows[] = { "async", "async-floor", "threads", "floor", NULL };

/* Whether every name in the comma-separated @list (if any) is @known. */
static gboolean
check_names (const char          *option,
             const char          *list,
             const char * const  *known,
             GError             **error)
{
  g_auto(GStrv) names = NULL;

  if (list == NULL)
    return TRUE;
  names = g_strsplit (list, ",", -1);
  for (guint i = 0; names[i] != NULL; i++)
    if (!g_strv_contains (known, names[i]))
      {
        g_autofree char *all = g_strjoinv (", ", (char **) known);

        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     "--%s: unknown name “%s” (known: %s)", option, names[i], all);
        return FALSE;
      }

  return TRUE;
}

static gboolean
lateness_row_wanted (const char *row)
{
  g_auto(GStrv) rows = NULL;

  if (opt_lateness_rows == NULL)
    return TRUE;
  rows = g_strsplit (opt_lateness_rows, ",", -1);
  return g_strv_contains ((const char * const *) rows, row);
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

  /* Async tasks first: the thread rows leave thousands of threads exiting
   * behind them. */
  if (lateness_row_wanted ("async"))
    {
      for (guint r = 0; r < repeat; r++)
        runs[r] = measure_lateness_async (opt_lateness_tasks, FALSE);
      print_lateness_row ("async tasks (no thread), idle loop", runs, repeat, opt_lateness_tasks);
      for (guint r = 0; r < repeat; r++)
        runs[r] = measure_lateness_async (opt_lateness_tasks, TRUE);
      print_lateness_row ("async tasks (no thread), busy loop", runs, repeat, opt_lateness_tasks);
    }

  if (lateness_row_wanted ("async-floor"))
    {
      for (guint r = 0; r < repeat; r++)
        runs[r] = measure_lateness_wake_floor (opt_lateness_tasks);
      print_lateness_row ("floor for async tasks, no gather: the idle main loop woken at each "
                          "deadline by a timerfd it polls (one wake-up, where gather's async "
                          "timeouts take two); every column is when it ran",
                          runs, repeat, opt_lateness_tasks);
    }

  /* A GatherPool keeps at most 8 idle threads: in every run the threads
   * start while the run goes on. */
  if (lateness_row_wanted ("threads"))
    {
      for (guint r = 0; r < repeat; r++)
        runs[r] = measure_lateness (pool, opt_lateness_tasks, FALSE);
      print_lateness_row ("threads (one each, started during the run), idle loop", runs, repeat,
                          opt_lateness_tasks);
      for (guint r = 0; r < repeat; r++)
        runs[r] = measure_lateness (pool, opt_lateness_tasks, TRUE);
      print_lateness_row ("threads (one each, started during the run), busy loop: 20 ms of work every 50 ms",
                          runs, repeat, opt_lateness_tasks);
    }

  if (lateness_row_wanted ("floor"))
    {
      for (guint r = 0; r < repeat; r++)
        runs[r] = measure_lateness_floor (opt_lateness_tasks);
      print_lateness_row ("floor, no gather: as many threads started one after another, each "
                          "sleeping until its deadline (clock_nanosleep); every column is when it woke",
                          runs, repeat, opt_lateness_tasks);
    }
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
    gather_group_set_max_concurrent (group, n);  /* no limit but the window's */

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
    { "dispatched", "running group, max-concurrent = N (the dispatch window still applies)" },
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
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      !check_names ("sections", opt_sections, known_sections, &error) ||
      !check_names ("lateness-rows", opt_lateness_rows, known_lateness_rows, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return 2;
    }

  if (opt_memory_child != NULL)
    return memory_child (opt_memory_child, opt_memory_n);
  if (opt_echo_child)
    return echo_child ();

  if (opt_only != NULL)
    {
      static const struct { const char *name; Measure measure; } variants[] = {
        { "gather", measure_gather }, { "gather-model", measure_gather_model },
        { "batched", measure_pool_batched },
        { "idle", measure_pool_idle }, { "gtask", measure_gtask },
        { "async", measure_async }, { "naive", measure_naive },
        { "async-floor", measure_async_floor },
        { "async-floor-bare", measure_async_floor_bare },
        { "isolated", measure_isolated_only },
        { "isolated-floor", measure_isolated_floor_only },
        { "isolated-floor-parameters", measure_isolated_floor_parameters_only },
      };
      guint n = 1;

      for (guint k = 0; k < opt_max_exponent; k++)
        n *= 10;
      for (guint i = 0; i < G_N_ELEMENTS (variants); i++)
        if (g_str_equal (opt_only, variants[i].name))
          {
            g_print ("%s N=%u: %.0f ns per task\n", opt_only, n,
                     measure_median (variants[i].measure, n, opt_repeat));
            isolation_teardown ();
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
    g_auto(GStrv) sections = g_strsplit (opt_sections ? opt_sections : "speed,async,lateness,memory,model,isolation", ",", -1);

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
    if (g_strv_contains ((const char * const *) sections, "isolation"))
      print_isolation ();
  }

  return 0;
}
