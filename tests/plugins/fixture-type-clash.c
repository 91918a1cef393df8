/* fixture-type-clash.c: a plugin (installed by the tests as
 * gather-type-clash.so) whose worker type has the GType name of a worker
 * of gather-misbehave.so, "TestEcho", under another worker name. Loaded
 * after gather-misbehave.so, its type cannot be registered.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-worker.h"

static GVariant *
clash_run (GatherWorker  *worker,
           GVariant      *parameters,
           GCancellable  *cancellable,
           GError       **error)
{
  return g_variant_new_string ("clash");
}

/* TestEcho, as in gather-misbehave.c. */
TEST_WORKER (TestEcho, test_echo, TEST, ECHO, "test-clash", NULL, 0, "s", clash_run)

static void
type_clash_register (GatherPluginModule *module)
{
  test_echo_register_type (G_TYPE_MODULE (module));
  gather_plugin_module_add_worker (module, test_echo_get_type ());
}

GATHER_PLUGIN_DEFINE (type_clash, "Registers a type name another plugin has", type_clash_register)
