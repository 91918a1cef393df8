/* fixture-missing-symbol.c: a plugin (installed by the tests as
 * gather-missing-symbol.so) whose worker calls a function that no library
 * defines. Bound lazily, it loads, and the process dies with "symbol
 * lookup error" when the worker first runs; bound at load time, loading
 * fails with an error naming the symbol.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-worker.h"

/* Defined nowhere. */
extern const char *gather_test_undefined_function (void);

static GVariant *
missing_run (GatherWorker  *worker,
             GVariant      *parameters,
             GCancellable  *cancellable,
             GError       **error)
{
  return g_variant_new_string (gather_test_undefined_function ());
}

TEST_WORKER (TestMissing, test_missing, TEST, MISSING, "test-missing", NULL, 0, "s", missing_run)

static void
missing_symbol_register (GatherPluginModule *module)
{
  test_missing_register_type (G_TYPE_MODULE (module));
  gather_plugin_module_add_worker (module, test_missing_get_type ());
}

GATHER_PLUGIN_DEFINE (missing_symbol, "Calls a function that does not exist", missing_symbol_register)
