/* gather-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-error.h"

G_DEFINE_QUARK (gather-error-quark, gather_error)
