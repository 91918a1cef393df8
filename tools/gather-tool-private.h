/* gather-tool-private.h: what the gather command's files share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libgather.h>

G_BEGIN_DECLS

/* Exit statuses; gather(1) documents them. */
#define GATHER_EXIT_OK          0
#define GATHER_EXIT_FAILED      1    /* the run failed: see the policy */
#define GATHER_EXIT_USAGE       2    /* bad usage or input, or output lost */
#define GATHER_EXIT_TIMEOUT     124  /* the run failed only by timeouts, as timeout(1) */
#define GATHER_EXIT_SIGNAL_BASE 128  /* + the signal that interrupted the run */

typedef struct
{
  const char         *name;
  const char         *parameters;
  const char         *summary;
  const char         *description;
  const GOptionEntry *entries;
  int               (*run) (int argc, char **argv);
} GatherCommand;

extern const GatherCommand gather_command_run;
extern const GatherCommand gather_command_plugins;

/* Whether the process started with standard input closed. */
extern gboolean gather_tool_stdin_closed;

void gather_tool_print_error (const char *what,
                              const char *message);
int  gather_tool_usage_error (const char *command,
                              const char *what,
                              const char *message);

GatherRegistry *gather_tool_get_registry (gboolean isolated);

G_END_DECLS
