/* gather-no-entry.c: a shared object without gather's entry point.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gmodule.h>

G_MODULE_EXPORT int gather_no_entry_something_else = 1;
