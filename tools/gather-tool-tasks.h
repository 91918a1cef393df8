/* gather-tool-tasks.h: reading tasks, from arguments and from task files.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libgather.h>

G_BEGIN_DECLS

/* The most bytes read from a task file, or from standard input. */
#define GATHER_TASK_FILE_MAX_SIZE (64 * 1024 * 1024)

/* The longest duration accepted anywhere: a day. */
#define GATHER_DURATION_MAX_MSEC (24u * 60 * 60 * 1000)

#define GATHER_TASK_ERROR (gather_task_error_quark ())

typedef enum
{
  GATHER_TASK_ERROR_INVALID,   /* the input says something that cannot be run */
  GATHER_TASK_ERROR_READ,      /* the file cannot be read */
} GatherTaskError;

/* One task as given: the parameters are converted to the worker's
 * declared types and checked against them. */
typedef struct
{
  char     *origin;        /* for messages: "FILE: line 3, column 5: task 2", "task “…”" */
  char     *worker;
  char     *label;         /* (nullable): valid UTF-8 */
  GVariant *parameters;    /* of the worker's parameter type, sunk */
  gint64    timeout_msec;  /* -1: the default timeout */
} GatherTaskSpec;

GQuark          gather_task_error_quark    (void);

gboolean        gather_parse_duration      (const char      *text,
                                            guint           *out_msec,
                                            GError         **error);

GatherTaskSpec *gather_task_parse_argument (GatherRegistry  *registry,
                                            const char      *argument,
                                            GError         **error);
GPtrArray      *gather_task_parse_file     (GatherRegistry  *registry,
                                            const char      *name,
                                            const char      *data,
                                            gsize            length,
                                            GError         **error);
GBytes         *gather_task_read_file      (const char      *path,
                                            gboolean         stdin_closed,
                                            GError         **error);
void            gather_task_spec_free      (GatherTaskSpec  *spec);

char           *gather_task_display_text   (const char      *text,
                                            gssize           length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GatherTaskSpec, gather_task_spec_free)

G_END_DECLS
