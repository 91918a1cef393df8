/* gather-tool-json-writer.c: JSON that is valid whatever it holds.
 *
 * Invalid UTF-8 becomes U+FFFD, doubles that JSON cannot hold become the
 * strings "NaN", "Infinity" and "-Infinity", 64-bit integers are written
 * in full, doubles as the shortest text that reads back the same, and
 * nesting is cut at GLib's own limit rather than exhaust the stack.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "gather-tool-json.h"

/* GLib's own limit for serialised variants; values built in memory can
 * nest deeper, and are cut there rather than exhaust the stack. */
#define WRITE_MAX_DEPTH 128

void
gather_json_append_string (GString    *out,
                           const char *text,
                           gssize      length)
{
  const char *p = text;
  const char *end;

  if (text == NULL)
    {
      g_string_append (out, "null");
      return;
    }

  end = text + (length < 0 ? (gssize) strlen (text) : length);
  g_string_append_c (out, '"');
  while (p < end)
    {
      guchar c = *p;
      gunichar u;

      if (c < 0x80)
        {
          switch (c)
            {
            case '"': g_string_append (out, "\\\""); break;
            case '\\': g_string_append (out, "\\\\"); break;
            case '\b': g_string_append (out, "\\b"); break;
            case '\f': g_string_append (out, "\\f"); break;
            case '\n': g_string_append (out, "\\n"); break;
            case '\r': g_string_append (out, "\\r"); break;
            case '\t': g_string_append (out, "\\t"); break;
            default:
              if (c < 0x20)
                g_string_append_printf (out, "\\u%04X", c);
              else
                g_string_append_c (out, c);
            }
          p++;
          continue;
        }

      u = g_utf8_get_char_validated (p, end - p);
      if (u == (gunichar) -1 || u == (gunichar) -2)
        {
          /* Not UTF-8: one replacement character per bad byte. */
          g_string_append (out, "\xEF\xBF\xBD");
          p++;
          continue;
        }

      g_string_append_len (out, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  g_string_append_c (out, '"');
}

void
gather_json_append_double (GString *out,
                           double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (value))
    {
      g_string_append (out, "\"NaN\"");
      return;
    }
  if (isinf (value))
    {
      g_string_append (out, value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      return;
    }

  /* The shortest of %.15g, %.16g and %.17g that reads back as @value.
   * %g never writes "1." or ".5", and its exponents are valid JSON. */
  for (int precision = 15; precision <= 17; precision++)
    {
      g_autofree char *format = g_strdup_printf ("%%.%dg", precision);

      g_ascii_formatd (buf, sizeof buf, format, value);
      if (precision == 17 || g_ascii_strtod (buf, NULL) == value)
        break;
    }
  g_string_append (out, buf);
}

static void append_variant (GString  *out,
                            GVariant *value,
                            guint     depth);

/* A dictionary key as an object member name: strings as they are, other
 * basic values as their JSON text. */
static char *
key_text (GVariant *key)
{
  g_autoptr(GString) text = NULL;

  if (g_variant_is_of_type (key, G_VARIANT_TYPE_STRING) ||
      g_variant_is_of_type (key, G_VARIANT_TYPE_OBJECT_PATH) ||
      g_variant_is_of_type (key, G_VARIANT_TYPE_SIGNATURE))
    return g_variant_dup_string (key, NULL);

  text = g_string_new (NULL);
  append_variant (text, key, 0);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
append_dictionary (GString  *out,
                   GVariant *value,
                   guint     depth)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gsize n = g_variant_n_children (value);
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (value, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) item = g_variant_get_child_value (entry, 1);
      char *name = key_text (key);

      /* The first of two equal keys wins, as with g_variant_lookup(). */
      if (!g_hash_table_add (seen, name))
        continue;

      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      gather_json_append_string (out, name, -1);
      g_string_append_c (out, ':');
      append_variant (out, item, depth + 1);
    }
  g_string_append_c (out, '}');
}

static void
append_variant (GString  *out,
                GVariant *value,
                guint     depth)
{
  if (depth > WRITE_MAX_DEPTH)
    {
      g_string_append (out, "null");
      return;
    }

  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      g_string_append (out, g_variant_get_boolean (value) ? "true" : "false");
      break;
    case G_VARIANT_CLASS_BYTE:
      g_string_append_printf (out, "%u", g_variant_get_byte (value));
      break;
    case G_VARIANT_CLASS_INT16:
      g_string_append_printf (out, "%d", g_variant_get_int16 (value));
      break;
    case G_VARIANT_CLASS_UINT16:
      g_string_append_printf (out, "%u", g_variant_get_uint16 (value));
      break;
    case G_VARIANT_CLASS_INT32:
      g_string_append_printf (out, "%" G_GINT32_FORMAT, g_variant_get_int32 (value));
      break;
    case G_VARIANT_CLASS_UINT32:
      g_string_append_printf (out, "%" G_GUINT32_FORMAT, g_variant_get_uint32 (value));
      break;
    case G_VARIANT_CLASS_HANDLE:
      g_string_append_printf (out, "%" G_GINT32_FORMAT, g_variant_get_handle (value));
      break;
    case G_VARIANT_CLASS_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, g_variant_get_int64 (value));
      break;
    case G_VARIANT_CLASS_UINT64:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
      break;
    case G_VARIANT_CLASS_DOUBLE:
      gather_json_append_double (out, g_variant_get_double (value));
      break;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      {
        gsize length;
        const char *text = g_variant_get_string (value, &length);

        gather_json_append_string (out, text, length);
      }
      break;
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr(GVariant) inner = g_variant_get_variant (value);

        append_variant (out, inner, depth + 1);
      }
      break;
    case G_VARIANT_CLASS_MAYBE:
      {
        g_autoptr(GVariant) inner = g_variant_get_maybe (value);

        if (inner == NULL)
          g_string_append (out, "null");
        else
          append_variant (out, inner, depth + 1);
      }
      break;
    case G_VARIANT_CLASS_ARRAY:
      if (g_variant_type_is_dict_entry (g_variant_type_element (g_variant_get_type (value))))
        {
          append_dictionary (out, value, depth);
          break;
        }
      G_GNUC_FALLTHROUGH;
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
      {
        gsize n = g_variant_n_children (value);

        g_string_append_c (out, '[');
        for (gsize i = 0; i < n; i++)
          {
            g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

            if (i > 0)
              g_string_append_c (out, ',');
            append_variant (out, child, depth + 1);
          }
        g_string_append_c (out, ']');
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Byte strings ("ay") are arrays of numbers, tuples are arrays, maybes are
 * null or their value, variants are their value, dictionaries are objects
 * (the first of two equal keys wins, as with g_variant_lookup()). */
void
gather_json_append_variant (GString  *out,
                            GVariant *value)
{
  append_variant (out, value, 0);
}

void
gather_json_append_error (GString      *out,
                          const GError *error)
{
  g_string_append (out, "{\"domain\":");
  gather_json_append_string (out, g_quark_to_string (error->domain), -1);
  g_string_append_printf (out, ",\"code\":%d,\"message\":", error->code);
  gather_json_append_string (out, error->message, -1);
  g_string_append_c (out, '}');
}
