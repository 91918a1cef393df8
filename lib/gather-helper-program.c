/* gather-helper-program.c: main() of the helper program, which libgather
 * starts to run plugin workers in processes of their own. Installed in
 * libexecdir; see gather-helper-main.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-helper-private.h"

int
main (int    argc,
      char **argv)
{
  return gather_private_helper_main (argc, argv);
}
