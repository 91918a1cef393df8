/* gather-compute-plugin.c: the "compute" worker, CPU-bound work that
 * stops within a millisecond of being cancelled.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <libgather.h>

/* Past this, base primes alone take gigabytes: refuse. */
#define COMPUTE_MAX_N G_GUINT64_CONSTANT (10000000000000)   /* 1e13 */

/* Numbers sieved between two looks at the cancellable: well under 1 ms. */
#define SEGMENT (1 << 16)

#define COMPUTE_TYPE_WORKER (compute_worker_get_type ())
G_DECLARE_FINAL_TYPE (ComputeWorker, compute_worker, COMPUTE, WORKER, GObject)

struct _ComputeWorker
{
  GObject parent_instance;
};

static void compute_worker_iface_init (GatherWorkerInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (ComputeWorker, compute_worker, G_TYPE_OBJECT, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (GATHER_TYPE_WORKER,
                                                               compute_worker_iface_init))

static const GatherParameter compute_parameters[] = {
  { "n", "t", "Count the primes below this number (at most 10^13)", GATHER_PARAMETER_REQUIRED },
};

static guint64
integer_sqrt (guint64 n)
{
  guint64 r = 0;

  /* Binary search; exact for every guint64. */
  for (guint64 bit = G_GUINT64_CONSTANT (1) << 31; bit > 0; bit >>= 1)
    if ((r + bit) * (r + bit) <= n)
      r += bit;

  return r;
}

/* The primes up to @limit, by a plain sieve. */
static GArray *
base_primes (guint64 limit)
{
  g_autofree guint8 *composite = g_malloc0 (limit + 1);
  GArray *primes = g_array_new (FALSE, FALSE, sizeof (guint64));

  for (guint64 i = 2; i <= limit; i++)
    {
      if (composite[i])
        continue;
      g_array_append_val (primes, i);
      for (guint64 j = i * i; j <= limit; j += i)
        composite[j] = 1;
    }

  return primes;
}

/* Counts primes below @n with a segmented sieve, looking at @cancellable
 * between segments. */
static gboolean
count_primes_below (guint64        n,
                    GCancellable  *cancellable,
                    guint64       *out_count,
                    GError       **error)
{
  g_autoptr(GArray) primes = NULL;
  guint8 segment[SEGMENT];
  guint64 count = 0;

  if (n <= 2)
    {
      *out_count = 0;
      return TRUE;
    }

  primes = base_primes (integer_sqrt (n - 1));

  for (guint64 low = 0; low < n; low += SEGMENT)
    {
      guint64 high = MIN (low + SEGMENT, n);   /* sieve [low, high) */

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      memset (segment, 1, sizeof segment);
      for (guint i = 0; i < primes->len; i++)
        {
          guint64 p = g_array_index (primes, guint64, i);
          guint64 start;

          if (p * p >= high)
            break;
          start = MAX (p * p, (low + p - 1) / p * p);
          for (guint64 j = start; j < high; j += p)
            segment[j - low] = 0;
        }

      for (guint64 i = MAX (low, 2); i < high; i++)
        count += segment[i - low];
    }

  *out_count = count;
  return TRUE;
}

static GVariant *
compute_worker_run (GatherWorker  *worker,
                    GVariant      *parameters,
                    GCancellable  *cancellable,
                    GError       **error)
{
  guint64 n = 0;
  guint64 count;

  g_variant_lookup (parameters, "n", "t", &n);

  if (n > COMPUTE_MAX_N)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "n must be at most 10^13, not %" G_GUINT64_FORMAT, n);
      return NULL;
    }

  if (!count_primes_below (n, cancellable, &count, error))
    return NULL;

  return g_variant_new_uint64 (count);
}

static void
compute_worker_iface_init (GatherWorkerInterface *iface)
{
  iface->name = "compute";
  iface->description = "Counts the primes below n: CPU-bound work that stops "
                       "within a millisecond of being cancelled";
  iface->parameter_type = "a{sv}";
  iface->parameters = compute_parameters;
  iface->n_parameters = G_N_ELEMENTS (compute_parameters);
  iface->result_type = "t";
  iface->run = compute_worker_run;
}

static void
compute_worker_class_init (ComputeWorkerClass *klass)
{
}

static void
compute_worker_class_finalize (ComputeWorkerClass *klass)
{
}

static void
compute_worker_init (ComputeWorker *self)
{
}

static void
compute_register (GatherPluginModule *module)
{
  compute_worker_register_type (G_TYPE_MODULE (module));
  gather_plugin_module_add_worker (module, COMPUTE_TYPE_WORKER);
}

GATHER_PLUGIN_DEFINE (compute, "CPU-bound work: counts primes", compute_register)
