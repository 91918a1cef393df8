/* gather-bad-abi.c: a plugin built for another plugin ABI. Its register
 * function must never run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <libgather.h>

G_GNUC_NORETURN static void
bad_abi_register (GatherPluginModule *module)
{
  g_error ("The register function of a plugin with the wrong ABI ran");
}

G_MODULE_EXPORT const GatherPluginDescriptor gather_bad_abi_plugin = {
  GATHER_PLUGIN_ABI_VERSION + 998, "Built for another ABI", bad_abi_register
};

/* Opening a shared object runs its constructors: the loader cannot read
 * the ABI before. The test suite checks that this ran, and that the
 * register function did not. */
__attribute__((constructor)) static void
bad_abi_constructor (void)
{
  g_setenv ("GATHER_TEST_BAD_ABI_CONSTRUCTED", "1", TRUE);
}
