/* gather-retry-policy.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-enums.h"
#include "gather-retry-policy-private.h"

#define DEFAULT_MAX_ATTEMPTS   3
#define DEFAULT_RETRY_ON       (GATHER_RETRY_FLAGS_ERROR | GATHER_RETRY_FLAGS_TIMEOUT)
#define DEFAULT_DELAY_MSEC     100
#define DEFAULT_MAX_DELAY_MSEC 10000
#define DEFAULT_JITTER         0.5

/**
 * GatherRetryPolicy:
 *
 * How a task of a [class@Gather.Group] is tried again when an attempt
 * fails: how many attempts it gets, which ends of an attempt are retried,
 * and how long to wait between attempts.
 *
 * The wait after the n-th failed attempt grows exponentially from
 * [property@Gather.RetryPolicy:delay], doubling each time, up to
 * [property@Gather.RetryPolicy:max-delay]; [property@Gather.RetryPolicy:jitter]
 * then takes a random share off it, so that tasks that failed together do
 * not all come back at the same moment. With the defaults (100 ms, 10 s,
 * 0.5) the waits are 50–100 ms, 100–200 ms, 200–400 ms, … up to 5–10 s.
 * [method@Gather.RetryPolicy.get_delay_range] gives the bounds.
 *
 * Set a policy as the group's default with
 * [property@Gather.Group:retry-policy], or for one task with
 * [property@Gather.Task:retry-policy]. Each attempt is a fresh start of
 * the task: a new [class@Gio.Cancellable], its own timeout counted from when
 * it starts, a new [struct@Gather.Completion] for an async task, and the
 * same user data. The group's deadline bounds every attempt and every wait;
 * a task stopped by the deadline, by the group's
 * [property@Gather.Group:policy] or by a cancelled run is never retried.
 * Only the last attempt's outcome counts for the policy and the progress;
 * [method@Gather.Outcome.get_attempts] says how many attempts were made.
 *
 * A policy does not change once created, so one can serve many groups and
 * tasks, on any thread.
 *
 * Since: 1.0
 */
struct _GatherRetryPolicy
{
  GObject          parent_instance;

  /* Construct-only, then read-only. */
  guint            max_attempts;
  GatherRetryFlags retry_on;
  guint            delay_msec;
  guint            max_delay_msec;
  double           jitter;
};

enum {
  PROP_0,
  PROP_MAX_ATTEMPTS,
  PROP_RETRY_ON,
  PROP_DELAY,
  PROP_MAX_DELAY,
  PROP_JITTER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (GatherRetryPolicy, gather_retry_policy, G_TYPE_OBJECT)

static void
gather_retry_policy_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  GatherRetryPolicy *self = GATHER_RETRY_POLICY (object);

  switch (prop_id)
    {
    case PROP_MAX_ATTEMPTS:
      g_value_set_uint (value, self->max_attempts);
      break;

    case PROP_RETRY_ON:
      g_value_set_flags (value, self->retry_on);
      break;

    case PROP_DELAY:
      g_value_set_uint (value, self->delay_msec);
      break;

    case PROP_MAX_DELAY:
      g_value_set_uint (value, self->max_delay_msec);
      break;

    case PROP_JITTER:
      g_value_set_double (value, self->jitter);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gather_retry_policy_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  GatherRetryPolicy *self = GATHER_RETRY_POLICY (object);

  switch (prop_id)
    {
    case PROP_MAX_ATTEMPTS:
      self->max_attempts = g_value_get_uint (value);
      break;

    case PROP_RETRY_ON:
      self->retry_on = g_value_get_flags (value);
      break;

    case PROP_DELAY:
      self->delay_msec = g_value_get_uint (value);
      break;

    case PROP_MAX_DELAY:
      self->max_delay_msec = g_value_get_uint (value);
      break;

    case PROP_JITTER:
      self->jitter = g_value_get_double (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gather_retry_policy_class_init (GatherRetryPolicyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = gather_retry_policy_get_property;
  object_class->set_property = gather_retry_policy_set_property;

  /**
   * GatherRetryPolicy:max-attempts:
   *
   * How many attempts a task gets in all, the first included: 1 means no
   * retry. The default is 3.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_ATTEMPTS] =
    g_param_spec_uint ("max-attempts", NULL, NULL,
                       1, G_MAXUINT16, DEFAULT_MAX_ATTEMPTS,
                       (G_PARAM_READWRITE |
                        G_PARAM_CONSTRUCT_ONLY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherRetryPolicy:retry-on:
   *
   * Which ends of an attempt are retried. The default is errors and the
   * task's own timeouts.
   *
   * Since: 1.0
   */
  properties[PROP_RETRY_ON] =
    g_param_spec_flags ("retry-on", NULL, NULL,
                        GATHER_TYPE_RETRY_FLAGS,
                        DEFAULT_RETRY_ON,
                        (G_PARAM_READWRITE |
                         G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS));

  /**
   * GatherRetryPolicy:delay:
   *
   * The wait after the first failed attempt, in milliseconds, before
   * jitter; it doubles after each further one. The default is 100 ms.
   *
   * Since: 1.0
   */
  properties[PROP_DELAY] =
    g_param_spec_uint ("delay", NULL, NULL,
                       0, G_MAXUINT, DEFAULT_DELAY_MSEC,
                       (G_PARAM_READWRITE |
                        G_PARAM_CONSTRUCT_ONLY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherRetryPolicy:max-delay:
   *
   * The longest wait between two attempts, in milliseconds, before jitter.
   * The default is 10 s.
   *
   * Since: 1.0
   */
  properties[PROP_MAX_DELAY] =
    g_param_spec_uint ("max-delay", NULL, NULL,
                       0, G_MAXUINT, DEFAULT_MAX_DELAY_MSEC,
                       (G_PARAM_READWRITE |
                        G_PARAM_CONSTRUCT_ONLY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * GatherRetryPolicy:jitter:
   *
   * The largest share of each wait taken off at random, from 0.0 (every
   * wait is exactly the exponential delay) to 1.0 (any wait from 0 to the
   * delay, "full jitter"). The default, 0.5, makes each wait between half
   * the delay and the delay.
   *
   * Since: 1.0
   */
  properties[PROP_JITTER] =
    g_param_spec_double ("jitter", NULL, NULL,
                         0.0, 1.0, DEFAULT_JITTER,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gather_retry_policy_init (GatherRetryPolicy *self)
{
  self->max_attempts = DEFAULT_MAX_ATTEMPTS;
  self->retry_on = DEFAULT_RETRY_ON;
  self->delay_msec = DEFAULT_DELAY_MSEC;
  self->max_delay_msec = DEFAULT_MAX_DELAY_MSEC;
  self->jitter = DEFAULT_JITTER;
}

/**
 * gather_retry_policy_new:
 * @max_attempts: how many attempts in all, at least 1 (1: no retry)
 * @retry_on: which ends of an attempt are retried
 * @delay_msec: the wait after the first failed attempt, in milliseconds
 * @max_delay_msec: the longest wait, in milliseconds
 *
 * Creates a retry policy with the default jitter (0.5). Other languages can
 * also construct one with properties, where the defaults fill in the rest.
 *
 * Returns: (transfer full): a new [class@Gather.RetryPolicy]
 *
 * Since: 1.0
 */
GatherRetryPolicy *
gather_retry_policy_new (guint            max_attempts,
                         GatherRetryFlags retry_on,
                         guint            delay_msec,
                         guint            max_delay_msec)
{
  g_return_val_if_fail (max_attempts >= 1 && max_attempts <= G_MAXUINT16, NULL);

  return g_object_new (GATHER_TYPE_RETRY_POLICY,
                       "max-attempts", max_attempts,
                       "retry-on", retry_on,
                       "delay", delay_msec,
                       "max-delay", max_delay_msec,
                       NULL);
}

/**
 * gather_retry_policy_get_max_attempts:
 * @self: a [class@Gather.RetryPolicy]
 *
 * Gets [property@Gather.RetryPolicy:max-attempts]. Thread-safe.
 *
 * Returns: how many attempts a task gets in all
 *
 * Since: 1.0
 */
guint
gather_retry_policy_get_max_attempts (GatherRetryPolicy *self)
{
  g_return_val_if_fail (GATHER_IS_RETRY_POLICY (self), 1);

  return self->max_attempts;
}

/**
 * gather_retry_policy_get_retry_on:
 * @self: a [class@Gather.RetryPolicy]
 *
 * Gets [property@Gather.RetryPolicy:retry-on]. Thread-safe.
 *
 * Returns: which ends of an attempt are retried
 *
 * Since: 1.0
 */
GatherRetryFlags
gather_retry_policy_get_retry_on (GatherRetryPolicy *self)
{
  g_return_val_if_fail (GATHER_IS_RETRY_POLICY (self), GATHER_RETRY_FLAGS_NONE);

  return self->retry_on;
}

/**
 * gather_retry_policy_get_delay:
 * @self: a [class@Gather.RetryPolicy]
 *
 * Gets [property@Gather.RetryPolicy:delay]. Thread-safe.
 *
 * Returns: the wait after the first failed attempt, in milliseconds
 *
 * Since: 1.0
 */
guint
gather_retry_policy_get_delay (GatherRetryPolicy *self)
{
  g_return_val_if_fail (GATHER_IS_RETRY_POLICY (self), 0);

  return self->delay_msec;
}

/**
 * gather_retry_policy_get_max_delay:
 * @self: a [class@Gather.RetryPolicy]
 *
 * Gets [property@Gather.RetryPolicy:max-delay]. Thread-safe.
 *
 * Returns: the longest wait, in milliseconds
 *
 * Since: 1.0
 */
guint
gather_retry_policy_get_max_delay (GatherRetryPolicy *self)
{
  g_return_val_if_fail (GATHER_IS_RETRY_POLICY (self), 0);

  return self->max_delay_msec;
}

/**
 * gather_retry_policy_get_jitter:
 * @self: a [class@Gather.RetryPolicy]
 *
 * Gets [property@Gather.RetryPolicy:jitter]. Thread-safe.
 *
 * Returns: the largest share of a wait taken off at random
 *
 * Since: 1.0
 */
double
gather_retry_policy_get_jitter (GatherRetryPolicy *self)
{
  g_return_val_if_fail (GATHER_IS_RETRY_POLICY (self), 0.0);

  return self->jitter;
}

/* The wait after @attempt failed, before jitter, in microseconds. */
static gint64
gather_retry_policy_base_usec (GatherRetryPolicy *self,
                               guint              attempt)
{
  gint64 delay = (gint64) self->delay_msec * 1000;
  gint64 cap = (gint64) self->max_delay_msec * 1000;

  for (guint i = 1; i < attempt && delay < cap; i++)
    delay *= 2;

  return MIN (delay, cap);
}

/**
 * gather_retry_policy_get_delay_range:
 * @self: a [class@Gather.RetryPolicy]
 * @attempt: the attempt that failed, counting from 1
 * @min_msec: (out) (optional): the shortest wait before the next attempt
 * @max_msec: (out) (optional): the longest wait before the next attempt
 *
 * Gets the bounds of the wait after attempt @attempt failed: the delay
 * `min (delay × 2^(attempt − 1), max-delay)`, less up to
 * [property@Gather.RetryPolicy:jitter] of it. Thread-safe.
 *
 * Since: 1.0
 */
void
gather_retry_policy_get_delay_range (GatherRetryPolicy *self,
                                     guint              attempt,
                                     guint             *min_msec,
                                     guint             *max_msec)
{
  gint64 base;

  g_return_if_fail (GATHER_IS_RETRY_POLICY (self));
  g_return_if_fail (attempt >= 1);

  base = gather_retry_policy_base_usec (self, attempt);

  if (min_msec != NULL)
    *min_msec = (guint) ((base - (gint64) (base * self->jitter)) / 1000);
  if (max_msec != NULL)
    *max_msec = (guint) (base / 1000);
}

/*
 * gather_retry_policy_pick_delay:
 * The wait after @attempt failed, in microseconds, jitter applied: uniform
 * in [base × (1 − jitter), base].
 */
gint64
gather_retry_policy_pick_delay (GatherRetryPolicy *self,
                                guint              attempt)
{
  gint64 base = gather_retry_policy_base_usec (self, attempt);

  return base - (gint64) (base * self->jitter * g_random_double ());
}

/*
 * gather_retry_policy_retries:
 * Whether an attempt that ended with @status (ERROR, or TIMEOUT from the
 * task's own timeout) and was attempt number @attempt is tried again.
 */
gboolean
gather_retry_policy_retries (GatherRetryPolicy *self,
                             guint              attempt,
                             gboolean           timed_out)
{
  GatherRetryFlags needed = timed_out ? GATHER_RETRY_FLAGS_TIMEOUT : GATHER_RETRY_FLAGS_ERROR;

  return attempt < self->max_attempts && (self->retry_on & needed) != 0;
}
