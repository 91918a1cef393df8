/* gather-tool-output.c: what the gather command prints.
 *
 * Everything that reaches standard output goes through here: table rows
 * shortened by characters on valid UTF-8 only, JSON that is valid whatever
 * the labels, results and messages hold, and writes whose failure (a full
 * disk, a closed pipe) is noticed and reported rather than ignored.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gather-tool-json.h"
#include "gather-tool-output.h"

const char *
gather_status_name (GatherStatus status)
{
  switch (status)
    {
    case GATHER_STATUS_OK:
      return "ok";
    case GATHER_STATUS_ERROR:
      return "error";
    case GATHER_STATUS_TIMEOUT:
      return "timeout";
    case GATHER_STATUS_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
    }
}

void
gather_outcome_row_init (GatherOutcomeRow *row,
                         GatherOutcome    *outcome,
                         const char       *worker)
{
  gint64 queued = gather_outcome_get_queued_time (outcome);
  gint64 start = gather_outcome_get_start_time (outcome);

  row->index = gather_outcome_get_index (outcome);
  row->label = gather_outcome_get_label (outcome);
  row->worker = worker;
  row->status = gather_outcome_get_status (outcome);
  row->abandoned = gather_outcome_get_abandoned (outcome);
  row->result = gather_outcome_get_result (outcome);
  row->error = gather_outcome_get_error (outcome);
  row->started_us = start != 0 ? start - queued : -1;
  row->finished_us = gather_outcome_get_finish_time (outcome) - queued;
}

/* One JSON object, on one line. */
void
gather_append_outcome_json (GString                *out,
                            const GatherOutcomeRow *row)
{
  g_string_append_printf (out, "{\"index\":%u,\"label\":", row->index);
  gather_json_append_string (out, row->label, -1);
  g_string_append (out, ",\"worker\":");
  gather_json_append_string (out, row->worker, -1);
  g_string_append (out, ",\"status\":");
  gather_json_append_string (out, gather_status_name (row->status), -1);
  g_string_append_printf (out, ",\"abandoned\":%s,\"result\":", row->abandoned ? "true" : "false");
  if (row->result != NULL)
    gather_json_append_variant (out, row->result);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"error\":");
  if (row->error != NULL)
    gather_json_append_error (out, row->error);
  else
    g_string_append (out, "null");

  /* Microseconds since the run started. */
  g_string_append (out, ",\"started_us\":");
  if (row->started_us >= 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, row->started_us);
  else
    g_string_append (out, "null");
  g_string_append_printf (out, ",\"finished_us\":%" G_GINT64_FORMAT "}", row->finished_us);
}

/* @text on one line of a terminal: bytes that are not UTF-8 become U+FFFD
 * and control characters spaces. */
static char *
one_line (const char *text)
{
  char *valid = g_utf8_make_valid (text ? text : "", -1);

  for (char *p = valid; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7F)
      *p = ' ';

  return valid;
}

/* @text as at most @width characters, the last an ellipsis if it was cut.
 * Any bytes are accepted. */
char *
gather_shorten (const char *text,
                guint       width)
{
  g_autofree char *line = one_line (text);
  g_autofree char *cut = NULL;

  if (width == 0 || g_utf8_strlen (line, -1) <= (glong) width)
    return g_steal_pointer (&line);

  cut = g_utf8_substring (line, 0, width - 1);
  return g_strconcat (cut, "…", NULL);
}

/* @text shortened to @width characters, then padded with spaces to it. */
static void
append_column (GString    *out,
               const char *text,
               guint       width)
{
  g_autofree char *shown = gather_shorten (text, width);

  g_string_append (out, shown);
  for (glong n = g_utf8_strlen (shown, -1); n < (glong) width; n++)
    g_string_append_c (out, ' ');
}

static char *
format_duration (const GatherOutcomeRow *row)
{
  gint64 usec;

  if (row->started_us < 0)
    return g_strdup ("-");

  usec = row->finished_us - row->started_us;
  if (usec < 10 * G_USEC_PER_SEC)
    return g_strdup_printf ("%.3fs", usec / 1e6);

  return g_strdup_printf ("%.1fs", usec / 1e6);
}

/* A table row, with its newline. */
char *
gather_outcome_row_text (const GatherOutcomeRow *row)
{
  g_autofree char *duration = format_duration (row);
  g_autofree char *text = NULL;
  g_autofree char *index = g_strdup_printf ("%u", row->index + 1);
  GString *out = g_string_new (NULL);

  if (row->status == GATHER_STATUS_OK && row->result != NULL)
    {
      GVariant *result = row->result;
      g_autoptr(GVariant) inner = NULL;

      /* A worker returning "v" (any type): show what is inside. */
      if (g_variant_is_of_type (result, G_VARIANT_TYPE_VARIANT))
        result = inner = g_variant_get_variant (result);
      text = g_variant_print (result, FALSE);
    }
  else if (row->error != NULL)
    {
      text = g_strdup (row->error->message);
    }

  append_column (out, index, 4);
  g_string_append_c (out, ' ');
  append_column (out, row->label, 20);
  g_string_append_c (out, ' ');
  append_column (out, row->worker, 10);
  g_string_append_c (out, ' ');
  append_column (out, gather_status_name (row->status), 9);
  g_string_append_printf (out, " %8s  ", duration);
  {
    g_autofree char *shown = gather_shorten (text ? text : "", 60);

    g_string_append (out, shown);
  }
  if (row->abandoned)
    g_string_append (out, " (abandoned)");
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

/* ---- Standard output ---- */

static gboolean output_closed;   /* the process started with it closed */
static gboolean output_written;
static int      output_errno;    /* the first write error */

void
gather_output_mark_closed (void)
{
  output_closed = TRUE;
}

gboolean
gather_output_write (const char *text,
                     gssize      length)
{
  gsize n = length < 0 ? strlen (text) : (gsize) length;

  output_written = TRUE;
  if (output_errno != 0)
    return FALSE;

  if (fwrite (text, 1, n, stdout) != n)
    {
      output_errno = errno != 0 ? errno : EIO;
      return FALSE;
    }

  return TRUE;
}

gboolean
gather_output_printf (const char *format,
                      ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  return gather_output_write (text, -1);
}

/* Pushes what was written out now, for output that must not wait (a
 * stream of outcomes); FALSE if it failed, or something failed before. */
gboolean
gather_output_push (void)
{
  if (output_errno == 0 && fflush (stdout) != 0)
    output_errno = errno != 0 ? errno : EIO;

  return output_errno == 0;
}

/* Flushes standard output; FALSE with @error set if anything written so
 * far was lost. */
gboolean
gather_output_flush (GError **error)
{
  if (output_closed && output_written)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           "cannot write to standard output: it is closed");
      return FALSE;
    }

  if (output_errno == 0 && fflush (stdout) != 0)
    output_errno = errno != 0 ? errno : EIO;
  if (output_errno == 0 && ferror (stdout))
    output_errno = EIO;

  if (output_errno != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (output_errno),
                   "cannot write to standard output: %s", g_strerror (output_errno));
      return FALSE;
    }

  return TRUE;
}
