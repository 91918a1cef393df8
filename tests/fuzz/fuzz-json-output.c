/* fuzz-json-output.c: libFuzzer harness for what gather prints: an
 * outcome as JSON and as a table row, built from arbitrary bytes.
 *
 * The input is: a GVariant type string, a NUL, a label, a NUL, an error
 * message, a NUL, then the serialised bytes of a value of that type,
 * which GLib reads as untrusted data (any bytes give some value).
 *
 * Property: the JSON parses with the strict reader, and the table row is
 * valid UTF-8, whatever the label, message and result hold.
 *
 * Types longer than 64 characters are skipped: GLib 2.74 asserts (in
 * g_variant_get_child_value()) on untrusted data of a type nested 128 or
 * more deep, which gather never deserialises: its results are values that
 * workers built in memory (found by this harness, kept in regressions/).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "fuzz-common.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  return 0;
}

/* The next NUL-terminated piece of @data, or the rest. */
static char *
take_piece (const uint8_t **data,
            size_t         *size)
{
  const uint8_t *nul = memchr (*data, '\0', *size);
  size_t length = nul != NULL ? (size_t) (nul - *data) : *size;
  char *piece = g_strndup ((const char *) *data, length);

  *data += MIN (length + 1, *size);
  *size -= MIN (length + 1, *size);

  return piece;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *type_string = NULL;
  g_autofree char *label = NULL;
  g_autofree char *message = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) json = g_string_new (NULL);
  g_autofree char *row_text = NULL;
  GatherOutcomeRow row = { 0 };

  if (size > 64 * 1024)
    return 0;

  type_string = take_piece (&data, &size);
  label = take_piece (&data, &size);
  message = take_piece (&data, &size);

  if (strlen (type_string) <= 64 &&
      g_variant_type_string_is_valid (type_string) &&
      g_variant_type_is_definite (G_VARIANT_TYPE (type_string)))
    {
      g_autoptr(GBytes) bytes = g_bytes_new (data, size);

      value = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (type_string),
                                                            bytes, FALSE));
    }

  row.index = (guint) size;
  row.label = label;
  row.worker = type_string;
  row.status = value != NULL ? GATHER_STATUS_OK : GATHER_STATUS_ERROR;
  row.abandoned = size % 2 == 0;
  row.result = value;
  if (value == NULL)
    {
      error = g_error_new_literal (G_IO_ERROR, (gint) size, message);
      row.error = error;
    }
  row.started_us = size % 3 == 0 ? -1 : (gint64) size;
  row.finished_us = G_MAXINT64 - (gint64) size;

  gather_append_outcome_json (json, &row);
  fuzz_assert_strict_json (json->str, json->len);

  row_text = gather_outcome_row_text (&row);
  if (!g_utf8_validate (row_text, -1, NULL))
    {
      fprintf (stderr, "A table row that is not UTF-8: %s\n", row_text);
      abort ();
    }

  return 0;
}
