/* gather-helper-protocol.c: frames between the host and its helpers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "gather-error.h"
#include "gather-helper-protocol-private.h"
#include "gather-worker.h"

/* See gather-helper-protocol-private.h for the messages. */

#define READ_CHUNK 65536

static const char * const body_types[GATHER_HELPER_N_MESSAGES] = {
  [GATHER_HELPER_HELLO] = "(ut)",
  [GATHER_HELPER_RUN] = "(aysvtu)",
  [GATHER_HELPER_RESULT] = "*",
  [GATHER_HELPER_ERROR] = "(sis)",
  [GATHER_HELPER_LOAD] = "(a(ayb)a(ay(sis)))",
  [GATHER_HELPER_LOADING] = "ay",
  [GATHER_HELPER_CATALOG] = "(a(ssssa(sssu)ay)a(ay(sis))a(ayay))",
};

static const char * const names[GATHER_HELPER_N_MESSAGES] = {
  [GATHER_HELPER_HELLO] = "HELLO",
  [GATHER_HELPER_RUN] = "RUN",
  [GATHER_HELPER_RESULT] = "RESULT",
  [GATHER_HELPER_ERROR] = "ERROR",
  [GATHER_HELPER_LOAD] = "LOAD",
  [GATHER_HELPER_LOADING] = "LOADING",
  [GATHER_HELPER_CATALOG] = "CATALOG",
};

/*
 * GLib 2.74 drops a container type's information from its global table
 * when the last value of that type goes, and builds it again for the next
 * one, under a global lock: for the types every task's frames have, that
 * was a fifth of a helper's time per trivial task. One empty value of each
 * keeps them.
 */
static const char * const kept_types[] = { "(yuv)", "(aysvtu)", "(sis)", "a{sv}", "ay" };
/* Not static: the values are never read, and the stores must stay (and
 * the values be seen as reachable by leak checkers). */
GVariant *gather_helper_kept_values[G_N_ELEMENTS (kept_types)];

static void
keep_frame_types (void)
{
  static gsize kept;

  if (g_once_init_enter (&kept))
    {
      g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);

      for (gsize i = 0; i < G_N_ELEMENTS (kept_types); i++)
        gather_helper_kept_values[i] = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (kept_types[i]),
                                                                       empty, FALSE));
      g_once_init_leave (&kept, 1);
    }
}

const GVariantType *
gather_helper_message_body_type (GatherHelperMessage kind)
{
  g_assert (kind > 0 && kind < GATHER_HELPER_N_MESSAGES);

  return G_VARIANT_TYPE (body_types[kind]);
}

const char *
gather_helper_message_name (GatherHelperMessage kind)
{
  if (kind <= 0 || kind >= GATHER_HELPER_N_MESSAGES)
    return "unknown";

  return names[kind];
}

/*
 * gather_helper_frame_encode:
 * @body: (transfer floating): the body, of the kind's type
 *
 * Returns: the frame, or `NULL` if its payload would be larger than
 *   GATHER_HELPER_MAX_FRAME
 */
GBytes *
gather_helper_frame_encode (GatherHelperMessage  kind,
                            guint32              serial,
                            GVariant            *body)
{
  g_autoptr(GVariant) message = NULL;
  guint32 header[2];
  guint8 *data;
  gsize size;

  g_assert (g_variant_is_of_type (body, gather_helper_message_body_type (kind)));

  keep_frame_types ();
  {
    GVariant *children[3];

    children[0] = g_variant_new_byte ((guchar) kind);
    children[1] = g_variant_new_uint32 (serial);
    children[2] = g_variant_new_variant (body);
    message = g_variant_ref_sink (g_variant_new_tuple (children, 3));
  }
  size = g_variant_get_size (message);
  if (size > GATHER_HELPER_MAX_FRAME)
    return NULL;

  /* Serialized little-endian, as the frames say; a no-op here. */
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN)
    {
      GVariant *swapped = g_variant_byteswap (message);

      g_variant_unref (message);
      message = swapped;
    }

  /* The header keeps the payload 8-aligned, as g_variant_store() wants. */
  data = g_malloc (GATHER_HELPER_HEADER_SIZE + size);
  header[0] = GUINT32_TO_LE ((guint32) size);
  header[1] = GUINT32_TO_LE (GATHER_HELPER_FRAME_MAGIC);
  memcpy (data, header, sizeof header);
  g_variant_store (message, data + GATHER_HELPER_HEADER_SIZE);

  return g_bytes_new_take (data, GATHER_HELPER_HEADER_SIZE + size);
}

/* The payload is a (yuv) in normal form: the byte, three of padding, then
 * the serial. */
#define SERIAL_OFFSET (GATHER_HELPER_HEADER_SIZE + 4)

void
gather_helper_frame_append (GByteArray *out,
                            GBytes     *frame,
                            guint32     serial)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (frame, &length);
  guint32 le = GUINT32_TO_LE (serial);
  guint start = out->len;

  g_assert (length >= SERIAL_OFFSET + sizeof le);

  g_byte_array_append (out, data, (guint) length);
  memcpy (out->data + start + SERIAL_OFFSET, &le, sizeof le);
}

void
gather_frame_reader_clear (GatherFrameReader *reader)
{
  g_clear_pointer (&reader->data, g_free);
  reader->len = 0;
  reader->size = 0;
}

/* Where to read into next: at least one byte, usually READ_CHUNK. */
guint8 *
gather_frame_reader_reserve (GatherFrameReader *reader,
                             gsize             *available)
{
  if (reader->size - reader->len < READ_CHUNK)
    {
      reader->size = MAX (reader->size * 2, reader->len + READ_CHUNK);
      reader->data = g_realloc (reader->data, reader->size);
    }

  *available = reader->size - reader->len;

  return reader->data + reader->len;
}

void
gather_frame_reader_commit (GatherFrameReader *reader,
                            gsize              n_read)
{
  g_assert (n_read <= reader->size - reader->len);

  reader->len += n_read;
}

/*
 * gather_frame_reader_next:
 * Cuts the next frame off what was read, and checks it: its size, that it
 * is a normal-form (yuv), that the kind is known and that the body has the
 * kind's type (any type for RESULT). Whether the kind and serial are what
 * the reader expects now is the caller's to check.
 *
 * Returns: 1 with *@kind, *@serial and *@body (owned) set; 0 if no whole
 *   frame was read yet; -1 with @error set if the bytes are not a frame
 */
int
gather_frame_reader_next (GatherFrameReader    *reader,
                          GatherHelperMessage  *kind,
                          guint32              *serial,
                          GVariant            **body,
                          GError              **error)
{
  g_autoptr(GVariant) message = NULL;
  g_autoptr(GBytes) payload = NULL;
  guint32 header[2];
  guint32 length;
  guchar byte;

  keep_frame_types ();

  if (reader->len < GATHER_HELPER_HEADER_SIZE)
    return 0;

  memcpy (header, reader->data, sizeof header);
  length = GUINT32_FROM_LE (header[0]);

  if (GUINT32_FROM_LE (header[1]) != GATHER_HELPER_FRAME_MAGIC)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "a frame does not start with the frame mark");
      return -1;
    }

  /* Anything shorter than GATHER_HELPER_MIN_FRAME is not a message; and
   * GLib 2.74 reads past the end of a (yuv) of fewer than 4 bytes when it
   * checks its normal form (the fuzzer found it under valgrind). */
  if (length < GATHER_HELPER_MIN_FRAME || length > GATHER_HELPER_MAX_FRAME)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "a frame announces %u bytes (from %u to %u may follow)",
                   length, GATHER_HELPER_MIN_FRAME, GATHER_HELPER_MAX_FRAME);
      return -1;
    }

  if (reader->len - GATHER_HELPER_HEADER_SIZE < length)
    return 0;

  /* A copy: aligned for GVariant, and kept by the body as long as it
   * lives. */
  payload = g_bytes_new (reader->data + GATHER_HELPER_HEADER_SIZE, length);
  reader->len -= GATHER_HELPER_HEADER_SIZE + length;
  memmove (reader->data, reader->data + GATHER_HELPER_HEADER_SIZE + length, reader->len);

  /* A helper trusts its host; GLib 2.74 checks every untrusted child it
   * takes apart, which cost a helper half of its time per trivial task. */
  message = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(yuv)"),
                                                          payload, reader->trusted));
  if (!g_variant_is_normal_form (message))
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "a frame of %u bytes is not a message", length);
      return -1;
    }

  /* Child by child: a format string costs more than the rest here. */
  {
    g_autoptr(GVariant) first = g_variant_get_child_value (message, 0);
    g_autoptr(GVariant) second = g_variant_get_child_value (message, 1);
    g_autoptr(GVariant) third = g_variant_get_child_value (message, 2);

    byte = g_variant_get_byte (first);
    *serial = g_variant_get_uint32 (second);
    *body = g_variant_get_variant (third);
  }
  *kind = byte;

  if (byte == 0 || byte >= GATHER_HELPER_N_MESSAGES)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "a frame has the unknown kind %u", byte);
      g_clear_pointer (body, g_variant_unref);
      return -1;
    }

  if (!g_variant_is_of_type (*body, gather_helper_message_body_type (byte)))
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "a %s frame has a body of type “%s”, not “%s”",
                   names[byte], g_variant_get_type_string (*body), body_types[byte]);
      g_clear_pointer (body, g_variant_unref);
      return -1;
    }

  return 1;
}

GVariant *
gather_helper_error_to_variant (const GError *error)
{
  const char *message = error->message;

  /* A GError's message should be UTF-8; one that is not still crosses. */
  if (!g_utf8_validate (message, -1, NULL))
    message = "(a message that is not UTF-8)";

  return g_variant_new ("(sis)", g_quark_to_string (error->domain), error->code, message);
}

/* How many error domains helpers may add to this process's quarks, which
 * are never freed: a broken or hostile helper must not grow the host
 * without bound. Plugins have a domain or two each. */
#define MAX_NEW_DOMAINS 1024

GError *
gather_helper_error_from_variant (GVariant *body)
{
  static gint n_new_domains;
  const char *domain;
  const char *message;
  gint32 code;
  GQuark quark;

  g_variant_get (body, "(&si&s)", &domain, &code, &message);

  /* An empty domain is not one: GLib would not make a quark of it. */
  if (*domain == '\0')
    return g_error_new (GATHER_ERROR, GATHER_ERROR_FAILED, "%s", message);

  quark = g_quark_try_string (domain);
  if (quark == 0 && g_atomic_int_add (&n_new_domains, 1) < MAX_NEW_DOMAINS)
    quark = g_quark_from_string (domain);
  if (quark == 0)
    return g_error_new (GATHER_ERROR, GATHER_ERROR_FAILED, "%s (%s %d)", message, domain, code);

  return g_error_new_literal (quark, code, message);
}

/* A path a helper sent: a non-empty bytestring. */
const char *
gather_helper_path_of (GVariant *bytestring)
{
  const char *path = g_variant_get_bytestring (bytestring);

  return *path != '\0' ? path : NULL;
}

/*
 * gather_helper_catalog_check:
 * Whether a CATALOG body holds together: every worker has a name and a
 * plugin path, valid types, parameters with names, valid types and known
 * flags; every failure and shadowed file has its paths. No side effect.
 */
gboolean
gather_helper_catalog_check (GVariant  *body,
                             GError   **error)
{
  g_autoptr(GVariant) workers = g_variant_get_child_value (body, 0);
  g_autoptr(GVariant) failures = g_variant_get_child_value (body, 1);
  g_autoptr(GVariant) shadowed = g_variant_get_child_value (body, 2);
  gsize n = g_variant_n_children (workers);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) worker = g_variant_get_child_value (workers, i);
      g_autoptr(GVariant) parameters = g_variant_get_child_value (worker, 4);
      g_autoptr(GVariant) path = g_variant_get_child_value (worker, 5);
      const char *name, *parameter_type, *result_type;
      gsize n_parameters = g_variant_n_children (parameters);

      g_variant_get_child (worker, 0, "&s", &name);
      g_variant_get_child (worker, 2, "&s", &parameter_type);
      g_variant_get_child (worker, 3, "&s", &result_type);

      if (*name == '\0' || gather_helper_path_of (path) == NULL ||
          !g_variant_type_string_is_valid (parameter_type) ||
          !g_variant_type_string_is_valid (result_type) ||
          n_parameters > G_MAXUINT16)
        {
          g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                       "it described worker %" G_GSIZE_FORMAT " with an empty name or path, "
                       "or invalid types", i);
          return FALSE;
        }

      for (gsize j = 0; j < n_parameters; j++)
        {
          const char *parameter_name, *type, *description;
          guint32 flags;

          g_variant_get_child (parameters, j, "(&s&s&su)", &parameter_name, &type,
                               &description, &flags);
          if (*parameter_name == '\0' || !g_variant_type_string_is_valid (type) ||
              (flags & ~GATHER_PARAMETER_REQUIRED) != 0)
            {
              g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                           "it described a parameter of worker “%s” with an empty name, "
                           "an invalid type or unknown flags", name);
              return FALSE;
            }
        }
    }

  n = g_variant_n_children (failures);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) path = NULL;
      g_autoptr(GVariant) reason = NULL;

      g_variant_get_child (failures, i, "(@ay@(sis))", &path, &reason);
      if (gather_helper_path_of (path) == NULL)
        {
          g_set_error_literal (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                               "it described a failure without a path");
          return FALSE;
        }
    }

  n = g_variant_n_children (shadowed);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) path = NULL;
      g_autoptr(GVariant) by = NULL;

      g_variant_get_child (shadowed, i, "(@ay@ay)", &path, &by);
      if (gather_helper_path_of (path) == NULL || gather_helper_path_of (by) == NULL)
        {
          g_set_error_literal (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                               "it described a shadowed plugin without a path");
          return FALSE;
        }
    }

  return TRUE;
}
