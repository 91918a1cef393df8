/* gather-helper-private.h: the helper program's entry point.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * gather_private_helper_main:
 * The whole of the helper program (lib/gather-helper-program.c is its
 * main()). Exported from libgather so that the helper loads plugins with
 * the same library as the plugins link to, but not part of the API: no
 * header of libgather declares it, and it may change with any release.
 */
_GATHER_EXTERN
int gather_private_helper_main (int    argc,
                                char **argv);

G_END_DECLS
