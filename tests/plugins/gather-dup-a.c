/* gather-dup-a.c and gather-dup-b.c both add a worker named "test-dup".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-worker.h"

static GVariant *
dup_a_run (GatherWorker  *worker,
           GVariant      *parameters,
           GCancellable  *cancellable,
           GError       **error)
{
  return g_variant_new_string ("a");
}

TEST_WORKER (TestDupA, test_dup_a, TEST, DUP_A, "test-dup", NULL, 0, "s", dup_a_run)

static void
dup_a_register (GatherPluginModule *module)
{
  test_dup_a_register_type (G_TYPE_MODULE (module));
  gather_plugin_module_add_worker (module, test_dup_a_get_type ());
}

GATHER_PLUGIN_DEFINE (dup_a, "The first plugin with a worker named test-dup", dup_a_register)
