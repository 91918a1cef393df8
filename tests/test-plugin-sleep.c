/* test-plugin-sleep.c: the "sleep" plugin.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

#define assert_status(outcome, expected) \
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, (expected))

static GatherRegistry *registry;

static void
test_sleep_returns_value (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autoptr(GVariant) inner = NULL;

  g_test_summary ("sleep returns the value it was given, after sleeping");

  outcome = test_run_worker (registry, "sleep",
                             g_variant_new_parsed ("{'ms': <@u 50>, 'value': <'user_1'>}"), 0);
  assert_status (outcome, GATHER_STATUS_OK);
  inner = g_variant_get_variant (gather_outcome_get_result (outcome));
  g_assert_cmpstr (g_variant_get_string (inner, NULL), ==, "user_1");
  g_assert_cmpint (gather_outcome_get_finish_time (outcome) -
                   gather_outcome_get_start_time (outcome), >=, 50 * 1000);
}

static void
test_sleep_returns_ms (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;
  g_autoptr(GVariant) inner = NULL;

  g_test_summary ("Without a value, sleep returns how long it slept");

  outcome = test_run_worker (registry, "sleep", g_variant_new_parsed ("{'ms': <@u 20>}"), 0);
  assert_status (outcome, GATHER_STATUS_OK);
  inner = g_variant_get_variant (gather_outcome_get_result (outcome));
  g_assert_cmpuint (g_variant_get_uint32 (inner), ==, 20);
}

static void
test_sleep_cancels_promptly (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  GatherOutcome *outcome;

  g_test_summary ("A sleep longer than its timeout wakes at the timeout: a "
                  "TIMEOUT, not abandoned, long before it would have ended");

  /* A grace period far longer than a wake-up takes, even on a loaded
   * machine (the default, 100 ms, is not), yet far shorter than the
   * sleep: "not abandoned" means the worker woke when cancelled. */
  gather_group_set_registry (group, registry);
  gather_group_set_grace_period (group, 2000 * test_slowdown ());
  gather_group_add_worker_task (group, "sleep", g_variant_new_parsed ("{'ms': <@u 20000>}"),
                                NULL, 100, &error);
  g_assert_no_error (error);
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  g_assert_no_error (error);

  outcome = test_outcome (outcomes, 0);
  assert_status (outcome, GATHER_STATUS_TIMEOUT);
  g_assert_false (gather_outcome_get_abandoned (outcome));
  g_assert_cmpint (gather_outcome_get_finish_time (outcome) -
                   gather_outcome_get_start_time (outcome), <, 2000 * 1000 * test_slowdown ());
}

static void
test_sleep_seed (void)
{
  g_autoptr(GatherPool) pool = gather_pool_new (4);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start, elapsed;

  g_test_summary ("The seed scenario through the plugin, shortened: users "
                  "sleep 200 ms under a 1 s timeout, but user 3 far longer");

  gather_group_set_registry (group, registry);
  gather_group_set_pool (group, pool);
  for (guint id = 1; id <= 4; id++)
    {
      g_autofree char *label = g_strdup_printf ("fetch user %u", id);
      g_autofree char *value = g_strdup_printf ("user_%u", id);

      /* The timeout leaves the others 800 ms to spare: a pool thread
       * preempted on a loaded machine must not make them time out. */
      gather_group_add_worker_task (group, "sleep",
                                    g_variant_new_parsed ("{'ms': <%u>, 'value': <%s>}",
                                                          id == 3 ? 5000 * test_slowdown () : 200,
                                                          value),
                                    label, 1000, &error);
      g_assert_no_error (error);
    }

  start = g_get_monotonic_time ();
  outcomes = test_run_and_wait (group, NULL, 10000, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_no_error (error);

  for (guint i = 0; i < 4; i++)
    {
      GatherOutcome *outcome = test_outcome (outcomes, i);
      g_autofree char *value = g_strdup_printf ("user_%u", i + 1);
      g_autoptr(GVariant) inner = NULL;

      if (i == 2)
        {
          assert_status (outcome, GATHER_STATUS_TIMEOUT);
          continue;
        }
      assert_status (outcome, GATHER_STATUS_OK);
      inner = g_variant_get_variant (gather_outcome_get_result (outcome));
      g_assert_cmpstr (g_variant_get_string (inner, NULL), ==, value);
    }

  /* Cut off at the timeout, long before user 3 would have woken. */
  g_assert_cmpint (elapsed, >=, 1000 * 1000);
  g_assert_cmpint (elapsed, <, (1000 + 2000 * test_slowdown ()) * 1000);
}

static void
test_sleep_parameters (void)
{
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GError) error = NULL;

  g_test_summary ("ms is required and must be a uint32");

  gather_group_set_registry (group, registry);
  g_assert_cmpuint (gather_group_add_worker_task (group, "sleep", NULL, NULL, 0, &error), ==, G_MAXUINT);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS);
  g_clear_error (&error);
  g_assert_cmpuint (gather_group_add_worker_task (group, "sleep",
                                                  g_variant_new_parsed ("{'ms': <'soon'>}"),
                                                  NULL, 0, &error), ==, G_MAXUINT);
  g_assert_error (error, GATHER_ERROR, GATHER_ERROR_INVALID_PARAMETERS);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  registry = test_registry_new ("shipped", NULL);
  g_assert_nonnull (gather_registry_lookup_worker (registry, "sleep"));

  g_test_add_func ("/gather/plugin/sleep/returns-value", test_sleep_returns_value);
  g_test_add_func ("/gather/plugin/sleep/returns-ms", test_sleep_returns_ms);
  g_test_add_func ("/gather/plugin/sleep/cancels-promptly", test_sleep_cancels_promptly);
  g_test_add_func ("/gather/plugin/sleep/seed", test_sleep_seed);
  g_test_add_func ("/gather/plugin/sleep/parameters", test_sleep_parameters);

  ret = g_test_run ();
  g_object_unref (registry);

  return ret;
}
