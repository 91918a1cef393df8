/* gather-helper-pool-private.h: helper processes, the host's side.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gather-pool.h"
#include "gather-task-record-private.h"

G_BEGIN_DECLS

typedef struct _GatherHelperPool GatherHelperPool;

GatherHelperPool *gather_helper_pool_get       (GatherPool       *pool);
void              gather_helper_pool_push      (GatherHelperPool *self,
                                                guint             max_helpers,
                                                GatherTaskRecord *record);
void              gather_helper_pool_cancelled (GatherTaskRecord *record);

/* The helper program: GATHER_HELPER, or the installed one. */
const char       *gather_helper_program        (void);

/* Starts a helper (a supervisor and its worker process) on the calling
 * thread, which it dies with; for a helper used once and waited for
 * (see gather-helper-catalog.c). */
typedef struct
{
  GPid  pid;          /* the supervisor */
  int   socket;       /* non-blocking, close-on-exec */
  int   status_fd;    /* non-blocking, close-on-exec */
} GatherHelperProcess;

gboolean          gather_helper_process_spawn  (GatherHelperProcess *process,
                                                int                  shared,
                                                GError             **error);
/* Reaps the supervisor, which has exited or is exiting, and describes how
 * the worker process ended ("was killed by signal 6 (Aborted)"), setting
 * *@signum to its signal, or 0. Closes the descriptors. */
char             *gather_helper_process_reap   (GatherHelperProcess *process,
                                                int                 *signum);
gboolean          gather_helper_check_hello    (GVariant            *body,
                                                GPid                 supervisor,
                                                GPid                *worker_pid,
                                                GError             **error);

G_END_DECLS
