/* test-helper-frames.h: helper protocol frames as GLib writes them, and
 * read back as a host or helper reads them, for the tests and fuzzers
 * that compare the hand-made frames with GLib's.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <string.h>

#include <gio/gio.h>

#include "gather-helper-protocol-private.h"

/* The frame GLib makes of the same message: the header, then the (yuv).
 * Takes @body if it is floating. */
static inline GBytes *
test_glib_frame (GatherHelperMessage  kind,
                 guint32              serial,
                 GVariant            *body)
{
  g_autoptr(GVariant) message = g_variant_ref_sink (g_variant_new ("(yuv)", (guchar) kind, serial, body));
  gsize size = g_variant_get_size (message);
  guint8 *data = g_malloc (GATHER_HELPER_HEADER_SIZE + size);
  guint32 header[2] = { GUINT32_TO_LE ((guint32) size), GUINT32_TO_LE (GATHER_HELPER_FRAME_MAGIC) };

  memcpy (data, header, sizeof header);
  g_variant_store (message, data + GATHER_HELPER_HEADER_SIZE);

  return g_bytes_new_take (data, GATHER_HELPER_HEADER_SIZE + size);
}

/* Reads one frame out of @frame, which must be whole: 1 with *@body, 0 if
 * it is not whole after all, -1 with @error if the reader refuses it. */
static inline int
test_read_frame (GBytes               *frame,
                 gboolean              trusted,
                 GatherHelperMessage  *kind,
                 guint32              *serial,
                 GVariant            **body,
                 GError              **error)
{
  GatherFrameReader reader = { NULL, };
  gsize size;
  const guint8 *data = g_bytes_get_data (frame, &size);
  int ready;

  reader.trusted = trusted;
  while (size > 0)
    {
      gsize available;
      guint8 *buffer = gather_frame_reader_reserve (&reader, &available);
      gsize n = MIN (available, size);

      memcpy (buffer, data, n);
      gather_frame_reader_commit (&reader, n);
      data += n;
      size -= n;
    }
  ready = gather_frame_reader_next (&reader, kind, serial, body, error);
  if (ready > 0)
    g_assert_cmpuint (reader.len, ==, 0);
  gather_frame_reader_clear (&reader);

  return ready;
}
