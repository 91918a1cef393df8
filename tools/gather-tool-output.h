/* gather-tool-output.h: what the gather command prints.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libgather.h>

G_BEGIN_DECLS

/* One outcome as plain fields, so that the JSON output can be produced
 * (and fuzzed) without running a group. */
typedef struct
{
  guint         index;
  const char   *label;       /* any bytes; NUL-terminated */
  const char   *worker;
  GatherStatus  status;
  gboolean      abandoned;
  GVariant     *result;      /* (nullable) */
  const GError *error;       /* (nullable) */
  gint64        started_us;  /* after the run started; -1 if never started */
  gint64        finished_us;
} GatherOutcomeRow;

const char *gather_status_name          (GatherStatus            status);
void        gather_outcome_row_init     (GatherOutcomeRow       *row,
                                         GatherOutcome          *outcome,
                                         const char             *worker);
void        gather_append_outcome_json  (GString                *out,
                                         const GatherOutcomeRow *row);
char       *gather_outcome_row_text     (const GatherOutcomeRow *row);
char       *gather_shorten              (const char             *text,
                                         guint                   width);

/* Standard output, with write errors noticed. */
void        gather_output_mark_closed   (void);
gboolean    gather_output_write         (const char             *text,
                                         gssize                  length);
gboolean    gather_output_printf        (const char             *format,
                                         ...) G_GNUC_PRINTF (1, 2);
gboolean    gather_output_push          (void);
gboolean    gather_output_flush         (GError                **error);

G_END_DECLS
