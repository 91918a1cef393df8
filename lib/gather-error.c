/* gather-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-error.h"

/**
 * gather_error_quark:
 *
 * Gets the quark of the [error@Gather.Error] domain; use `GATHER_ERROR`.
 *
 * Returns: the error domain's quark
 *
 * Since: 1.0
 */
G_DEFINE_QUARK (gather-error-quark, gather_error)
