/* test-plugin-compute.c: the "compute" plugin.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

#define assert_status(outcome, expected) \
  g_assert_cmpint (gather_outcome_get_status (outcome), ==, (expected))

static GatherRegistry *registry;

static guint64
count_primes (guint64 n)
{
  g_autoptr(GatherOutcome) outcome =
    test_run_worker (registry, "compute", g_variant_new_parsed ("{'n': <@t %t>}", n), 0);

  assert_status (outcome, GATHER_STATUS_OK);

  return g_variant_get_uint64 (gather_outcome_get_result (outcome));
}

static void
test_compute_counts (void)
{
  g_test_summary ("compute counts the primes below n");

  g_assert_cmpuint (count_primes (0), ==, 0);
  g_assert_cmpuint (count_primes (2), ==, 0);
  g_assert_cmpuint (count_primes (3), ==, 1);
  g_assert_cmpuint (count_primes (100), ==, 25);
  g_assert_cmpuint (count_primes (1000), ==, 168);
  /* Across several segments of the sieve. */
  g_assert_cmpuint (count_primes (1000000), ==, 78498);
  g_assert_cmpuint (count_primes (10000000), ==, 664579);
}

static void
test_compute_cancels_promptly (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;

  g_test_summary ("A computation of hours is stopped at its 50 ms timeout, "
                  "within the grace period: not abandoned");

  outcome = test_run_worker (registry, "compute",
                             g_variant_new_parsed ("{'n': <@t 1000000000000>}"), 50);
  assert_status (outcome, GATHER_STATUS_TIMEOUT);
  g_assert_false (gather_outcome_get_abandoned (outcome));
}

static void
test_compute_too_big (void)
{
  g_autoptr(GatherOutcome) outcome = NULL;

  g_test_summary ("n above 10^13 is refused with a clear error");

  outcome = test_run_worker (registry, "compute",
                             g_variant_new_parsed ("{'n': <@t 100000000000000>}"), 0);
  assert_status (outcome, GATHER_STATUS_ERROR);
  g_assert_error (gather_outcome_get_error (outcome), G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  registry = test_registry_new ("shipped", NULL);
  g_assert_nonnull (gather_registry_lookup_worker (registry, "compute"));

  g_test_add_func ("/gather/plugin/compute/counts", test_compute_counts);
  g_test_add_func ("/gather/plugin/compute/cancels-promptly", test_compute_cancels_promptly);
  g_test_add_func ("/gather/plugin/compute/too-big", test_compute_too_big);

  ret = g_test_run ();
  g_object_unref (registry);

  return ret;
}
