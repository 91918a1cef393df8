/* tool-test-workers.h: workers that declare every kind of parameter, for
 * the tests and fuzzers of the gather command's task reader.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libgather.h>

G_BEGIN_DECLS

/* A registry without plugins, holding:
 *  - "types": a{sv} parameters of every type a task can give, "u" required;
 *  - "sleep": as the sleep plugin declares it ("ms" u required, "value" *);
 *  - "pair": parameters of type "(su)", not a{sv}.
 * Their run functions fail: they are for reading tasks, not running them. */
GatherRegistry *tool_test_registry_new (void);

G_END_DECLS
