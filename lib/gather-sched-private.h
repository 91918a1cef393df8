/* gather-sched-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

void gather_sched_set_batch (gboolean batch);

G_END_DECLS
