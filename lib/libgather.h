/* libgather.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#define GATHER_INSIDE
# include "gather-version.h"
# include "gather-version-macros.h"
# include "gather-enums.h"
# include "gather-error.h"
# include "gather-retry-policy.h"
# include "gather-task.h"
# include "gather-completion.h"
# include "gather-worker.h"
# include "gather-plugin-module.h"
# include "gather-registry.h"
# include "gather-outcome.h"
# include "gather-pool.h"
# include "gather-group.h"
#undef GATHER_INSIDE
