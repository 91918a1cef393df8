/* fixture-abort-ctor.c: a plugin that aborts as it is loaded, before
 * gather sees its descriptor: only a helper process survives it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>

#include "test-worker.h"

__attribute__((constructor)) static void
abort_on_load (void)
{
  abort ();
}

static void
abort_ctor_register (GatherPluginModule *module)
{
}

GATHER_PLUGIN_DEFINE (abort_ctor, "Aborts as it is loaded", abort_ctor_register)
