/* gather-dup-b.c: the second plugin adding a worker named "test-dup".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-worker.h"

static GVariant *
dup_b_run (GatherWorker  *worker,
           GVariant      *parameters,
           GCancellable  *cancellable,
           GError       **error)
{
  return g_variant_new_string ("b");
}

TEST_WORKER (TestDupB, test_dup_b, TEST, DUP_B, "test-dup", NULL, 0, "s", dup_b_run)

static void
dup_b_register (GatherPluginModule *module)
{
  test_dup_b_register_type (G_TYPE_MODULE (module));
  gather_plugin_module_add_worker (module, test_dup_b_get_type ());
}

GATHER_PLUGIN_DEFINE (dup_b, "The second plugin with a worker named test-dup", dup_b_register)
