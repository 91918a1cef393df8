/* gather-tool-json.c: a strict JSON reader (the writer is in
 * gather-tool-json-writer.c).
 *
 * The reader takes RFC 8259 JSON and refuses, with the line and column,
 * what the gather command could not pass on faithfully: bytes that are not
 * UTF-8, NUL characters, lone UTF-16 surrogates, the same key twice in an
 * object, and nesting deeper than the caller allows (it recurses once per
 * level, so the limit also bounds its stack).
 *
 * The writer always produces valid JSON: invalid UTF-8 becomes U+FFFD,
 * doubles that JSON cannot hold become the strings "NaN", "Infinity" and
 * "-Infinity", and 64-bit integers are written in full.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "gather-tool-json.h"

G_DEFINE_QUARK (gather-json-error-quark, gather_json_error)

/* ---- Reading ---- */

typedef struct
{
  const char *data;
  gsize       length;
  gsize       pos;
  guint       max_depth;
  guint       line;        /* of pos, from 1 */
  gsize       line_start;  /* offset of the line's first byte */
  gsize       col_pos;     /* a position on the line whose column is known */
  guint       col;         /* characters from line_start to col_pos */
} Reader;

/* Where @pos is: @pos must be on the reader's current line and not before
 * a position asked for earlier, so that columns cost O(1) amortised. */
static void
reader_locate (Reader *r,
               gsize   pos,
               guint  *line,
               guint  *column)
{
  if (r->col_pos < r->line_start || r->col_pos > pos)
    {
      r->col_pos = r->line_start;
      r->col = 0;
    }
  for (; r->col_pos < pos; r->col_pos++)
    if (((guchar) r->data[r->col_pos] & 0xC0) != 0x80)
      r->col++;

  *line = r->line;
  *column = r->col + 1;
}

/* Line and column of any @pos, by counting from the start: for the errors
 * found before parsing. */
static void
locate_from_start (const char *data,
                   gsize       pos,
                   guint      *line,
                   guint      *column)
{
  *line = 1;
  *column = 1;
  for (gsize i = 0; i < pos; i++)
    {
      if (data[i] == '\n')
        {
          (*line)++;
          *column = 1;
        }
      else if (((guchar) data[i] & 0xC0) != 0x80)
        {
          (*column)++;
        }
    }
}

static gboolean reader_fail (Reader          *r,
                             gsize            pos,
                             GatherJsonError  code,
                             GError         **error,
                             const char      *format,
                             ...) G_GNUC_PRINTF (5, 6);

static gboolean
reader_fail (Reader          *r,
             gsize            pos,
             GatherJsonError  code,
             GError         **error,
             const char      *format,
             ...)
{
  g_autofree char *message = NULL;
  guint line, column;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  reader_locate (r, pos, &line, &column);
  g_set_error (error, GATHER_JSON_ERROR, code, "line %u, column %u: %s", line, column, message);

  return FALSE;
}

/* A printable name for the character at @p, for messages. */
static char *
describe_char (const char *p,
               const char *end)
{
  gunichar c;

  if (p >= end)
    return g_strdup ("the end of the file");

  c = g_utf8_get_char (p);
  if (g_unichar_isgraph (c))
    {
      char buf[8] = { 0 };

      g_unichar_to_utf8 (c, buf);
      return g_strdup_printf ("“%s”", buf);
    }

  return g_strdup_printf ("U+%04X", c);
}

static void
skip_space (Reader *r)
{
  while (r->pos < r->length)
    {
      char c = r->data[r->pos];

      if (c == '\n')
        {
          r->line++;
          r->line_start = r->pos + 1;
        }
      else if (c != ' ' && c != '\t' && c != '\r')
        {
          return;
        }
      r->pos++;
    }
}

static GatherJsonNode *
node_new (Reader         *r,
          GatherJsonKind  kind)
{
  GatherJsonNode *node = g_new0 (GatherJsonNode, 1);

  node->kind = kind;
  reader_locate (r, r->pos, &node->line, &node->column);

  return node;
}

static void
member_free (gpointer data)
{
  GatherJsonMember *member = data;

  g_free (member->name);
  gather_json_node_free (member->value);
  g_free (member);
}

void
gather_json_node_free (GatherJsonNode *node)
{
  if (node == NULL)
    return;

  g_free (node->text);
  g_clear_pointer (&node->elements, g_ptr_array_unref);
  g_clear_pointer (&node->members, g_ptr_array_unref);
  g_free (node);
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Four hex digits at @p (which has at least four bytes left), or -1. */
static int
read_hex4 (const char *p)
{
  int value = 0;

  for (guint i = 0; i < 4; i++)
    {
      int digit = hex_value (p[i]);

      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }

  return value;
}

/* Reads the string starting at the opening quote; returns it, or NULL
 * with @error set. */
static char *
read_string (Reader  *r,
             GError **error)
{
  GString *s = g_string_new (NULL);
  gsize start = r->pos;

  r->pos++;   /* the opening quote */

  for (;;)
    {
      gsize run = r->pos;
      guchar c;

      /* Plain bytes, copied in one go; the input is valid UTF-8. */
      while (r->pos < r->length && r->data[r->pos] != '"' && r->data[r->pos] != '\\' &&
             (guchar) r->data[r->pos] >= 0x20)
        r->pos++;
      g_string_append_len (s, r->data + run, r->pos - run);

      if (r->pos >= r->length)
        {
          reader_fail (r, start, GATHER_JSON_ERROR_SYNTAX, error,
                       "the string that starts here has no closing quote");
          goto fail;
        }

      c = r->data[r->pos];
      if (c == '"')
        {
          r->pos++;
          return g_string_free (s, FALSE);
        }

      if (c < 0x20)
        {
          reader_fail (r, r->pos, GATHER_JSON_ERROR_SYNTAX, error,
                       "control character U+%04X in a string: write it as \\u%04X%s", c, c,
                       c == '\n' ? " or \\n (or is a closing quote missing?)" : "");
          goto fail;
        }

      /* A backslash. */
      if (r->pos + 1 >= r->length)
        {
          reader_fail (r, start, GATHER_JSON_ERROR_SYNTAX, error,
                       "the string that starts here has no closing quote");
          goto fail;
        }

      switch (r->data[r->pos + 1])
        {
        case '"': g_string_append_c (s, '"'); break;
        case '\\': g_string_append_c (s, '\\'); break;
        case '/': g_string_append_c (s, '/'); break;
        case 'b': g_string_append_c (s, '\b'); break;
        case 'f': g_string_append_c (s, '\f'); break;
        case 'n': g_string_append_c (s, '\n'); break;
        case 'r': g_string_append_c (s, '\r'); break;
        case 't': g_string_append_c (s, '\t'); break;
        case 'u':
          {
            gsize escape = r->pos;
            int unit = r->pos + 6 <= r->length ? read_hex4 (r->data + r->pos + 2) : -1;
            gunichar c32;

            if (unit < 0)
              {
                reader_fail (r, escape, GATHER_JSON_ERROR_SYNTAX, error,
                             "\\u must be followed by four hexadecimal digits");
                goto fail;
              }
            r->pos += 6;

            if (unit >= 0xDC00 && unit <= 0xDFFF)
              {
                reader_fail (r, escape, GATHER_JSON_ERROR_ENCODING, error,
                             "\\u%04X is a lone UTF-16 surrogate, not a character", unit);
                goto fail;
              }

            if (unit >= 0xD800 && unit <= 0xDBFF)
              {
                int low = -1;

                if (r->pos + 6 <= r->length && r->data[r->pos] == '\\' && r->data[r->pos + 1] == 'u')
                  low = read_hex4 (r->data + r->pos + 2);
                if (low < 0xDC00 || low > 0xDFFF)
                  {
                    reader_fail (r, escape, GATHER_JSON_ERROR_ENCODING, error,
                                 "\\u%04X is a lone UTF-16 surrogate, not a character: "
                                 "it must be followed by a low surrogate (\\uDC00 to \\uDFFF)",
                                 unit);
                    goto fail;
                  }
                r->pos += 6;
                c32 = 0x10000 + (((gunichar) unit - 0xD800) << 10) + ((gunichar) low - 0xDC00);
              }
            else
              {
                c32 = (gunichar) unit;
              }

            if (c32 == 0)
              {
                reader_fail (r, escape, GATHER_JSON_ERROR_ENCODING, error,
                             "\\u0000 (a NUL character) cannot be passed on in a string");
                goto fail;
              }

            g_string_append_unichar (s, c32);
            continue;
          }
        default:
          {
            g_autofree char *what = describe_char (r->data + r->pos + 1, r->data + r->length);

            reader_fail (r, r->pos, GATHER_JSON_ERROR_SYNTAX, error,
                         "invalid escape: a backslash followed by %s", what);
            goto fail;
          }
        }
      r->pos += 2;
    }

fail:
  g_string_free (s, TRUE);
  return NULL;
}

static gboolean
is_digit (Reader *r)
{
  return r->pos < r->length && g_ascii_isdigit (r->data[r->pos]);
}

static GatherJsonNode *
read_number (Reader  *r,
             GError **error)
{
  GatherJsonNode *node = node_new (r, GATHER_JSON_NUMBER);
  gsize start = r->pos;

  node->integer = TRUE;

  if (r->data[r->pos] == '-')
    r->pos++;

  if (!is_digit (r))
    goto bad;
  if (r->data[r->pos] == '0')
    {
      r->pos++;
      if (is_digit (r))
        {
          reader_fail (r, start, GATHER_JSON_ERROR_SYNTAX, error,
                       "a number cannot start with 0 followed by digits");
          gather_json_node_free (node);
          return NULL;
        }
    }
  else
    {
      while (is_digit (r))
        r->pos++;
    }

  if (r->pos < r->length && r->data[r->pos] == '.')
    {
      node->integer = FALSE;
      r->pos++;
      if (!is_digit (r))
        goto bad;
      while (is_digit (r))
        r->pos++;
    }

  if (r->pos < r->length && (r->data[r->pos] == 'e' || r->data[r->pos] == 'E'))
    {
      node->integer = FALSE;
      r->pos++;
      if (r->pos < r->length && (r->data[r->pos] == '+' || r->data[r->pos] == '-'))
        r->pos++;
      if (!is_digit (r))
        goto bad;
      while (is_digit (r))
        r->pos++;
    }

  node->text = g_strndup (r->data + start, r->pos - start);
  return node;

bad:
  {
    g_autofree char *what = describe_char (r->data + r->pos, r->data + r->length);

    reader_fail (r, r->pos, GATHER_JSON_ERROR_SYNTAX, error,
                 "a digit was expected in the number, not %s", what);
    gather_json_node_free (node);
    return NULL;
  }
}

static GatherJsonNode *read_value (Reader  *r,
                                   guint    depth,
                                   GError **error);

static gboolean
enter (Reader  *r,
       guint    depth,
       GError **error)
{
  if (depth + 1 > r->max_depth)
    return reader_fail (r, r->pos, GATHER_JSON_ERROR_DEPTH, error,
                        "arrays and objects are nested more than %u deep", r->max_depth);
  return TRUE;
}

static GatherJsonNode *
read_array (Reader  *r,
            guint    depth,
            GError **error)
{
  g_autoptr(GatherJsonNode) node = NULL;

  if (!enter (r, depth, error))
    return NULL;

  node = node_new (r, GATHER_JSON_ARRAY);
  node->elements = g_ptr_array_new_with_free_func ((GDestroyNotify) gather_json_node_free);
  r->pos++;

  skip_space (r);
  if (r->pos < r->length && r->data[r->pos] == ']')
    {
      r->pos++;
      return g_steal_pointer (&node);
    }

  for (;;)
    {
      GatherJsonNode *element = read_value (r, depth + 1, error);
      g_autofree char *what = NULL;

      if (element == NULL)
        return NULL;
      g_ptr_array_add (node->elements, element);

      skip_space (r);
      if (r->pos < r->length && r->data[r->pos] == ',')
        {
          r->pos++;
          continue;
        }
      if (r->pos < r->length && r->data[r->pos] == ']')
        {
          r->pos++;
          return g_steal_pointer (&node);
        }

      what = describe_char (r->data + r->pos, r->data + r->length);
      reader_fail (r, r->pos, GATHER_JSON_ERROR_SYNTAX, error,
                   "“,” or “]” was expected after an element of the array that starts at "
                   "line %u, column %u, not %s", node->line, node->column, what);
      return NULL;
    }
}

static GatherJsonNode *
read_object (Reader  *r,
             guint    depth,
             GError **error)
{
  g_autoptr(GatherJsonNode) node = NULL;
  g_autoptr(GHashTable) names = NULL;

  if (!enter (r, depth, error))
    return NULL;

  node = node_new (r, GATHER_JSON_OBJECT);
  node->members = g_ptr_array_new_with_free_func (member_free);
  names = g_hash_table_new (g_str_hash, g_str_equal);
  r->pos++;

  skip_space (r);
  if (r->pos < r->length && r->data[r->pos] == '}')
    {
      r->pos++;
      return g_steal_pointer (&node);
    }

  for (;;)
    {
      GatherJsonMember *member;
      GatherJsonMember *first;
      g_autofree char *what = NULL;
      guint line, column;
      char *name;

      skip_space (r);
      if (r->pos >= r->length || r->data[r->pos] != '"')
        {
          what = describe_char (r->data + r->pos, r->data + r->length);
          reader_fail (r, r->pos, GATHER_JSON_ERROR_SYNTAX, error,
                       "a key in double quotes was expected, not %s", what);
          return NULL;
        }

      reader_locate (r, r->pos, &line, &column);
      name = read_string (r, error);
      if (name == NULL)
        return NULL;

      member = g_new0 (GatherJsonMember, 1);
      member->name = name;
      member->line = line;
      member->column = column;
      g_ptr_array_add (node->members, member);

      first = g_hash_table_lookup (names, name);
      if (first != NULL)
        {
          g_set_error (error, GATHER_JSON_ERROR, GATHER_JSON_ERROR_DUPLICATE,
                       "line %u, column %u: the key “%s” is given twice in one object "
                       "(first at line %u, column %u)",
                       line, column, name, first->line, first->column);
          return NULL;
        }
      g_hash_table_insert (names, name, member);

      skip_space (r);
      if (r->pos >= r->length || r->data[r->pos] != ':')
        {
          what = describe_char (r->data + r->pos, r->data + r->length);
          reader_fail (r, r->pos, GATHER_JSON_ERROR_SYNTAX, error,
                       "“:” was expected after the key “%s”, not %s", name, what);
          return NULL;
        }
      r->pos++;

      member->value = read_value (r, depth + 1, error);
      if (member->value == NULL)
        return NULL;

      skip_space (r);
      if (r->pos < r->length && r->data[r->pos] == ',')
        {
          r->pos++;
          continue;
        }
      if (r->pos < r->length && r->data[r->pos] == '}')
        {
          r->pos++;
          return g_steal_pointer (&node);
        }

      what = describe_char (r->data + r->pos, r->data + r->length);
      reader_fail (r, r->pos, GATHER_JSON_ERROR_SYNTAX, error,
                   "“,” or “}” was expected after the value of “%s”, not %s", name, what);
      return NULL;
    }
}

static gboolean
read_word (Reader     *r,
           const char *word)
{
  gsize n = strlen (word);

  if (r->length - r->pos < n || memcmp (r->data + r->pos, word, n) != 0)
    return FALSE;
  r->pos += n;
  return TRUE;
}

static GatherJsonNode *
read_value (Reader  *r,
            guint    depth,
            GError **error)
{
  GatherJsonNode *node;
  g_autofree char *what = NULL;
  char c;

  skip_space (r);
  if (r->pos >= r->length)
    {
      reader_fail (r, r->pos, GATHER_JSON_ERROR_SYNTAX, error,
                   "the file ends where a value was expected");
      return NULL;
    }

  c = r->data[r->pos];
  switch (c)
    {
    case '{':
      return read_object (r, depth, error);
    case '[':
      return read_array (r, depth, error);
    case '"':
      node = node_new (r, GATHER_JSON_STRING);
      node->text = read_string (r, error);
      if (node->text == NULL)
        g_clear_pointer (&node, gather_json_node_free);
      return node;
    case 't':
    case 'f':
    case 'n':
      node = node_new (r, c == 'n' ? GATHER_JSON_NULL : GATHER_JSON_BOOLEAN);
      node->boolean = c == 't';
      if (read_word (r, c == 't' ? "true" : c == 'f' ? "false" : "null"))
        return node;
      gather_json_node_free (node);
      break;
    default:
      if (c == '-' || g_ascii_isdigit (c))
        return read_number (r, error);
      break;
    }

  what = describe_char (r->data + r->pos, r->data + r->length);
  reader_fail (r, r->pos, GATHER_JSON_ERROR_SYNTAX, error,
               "a value was expected, not %s%s", what,
               c == '\'' ? " (strings take double quotes)" :
               c == ']' || c == '}' ? " (is there a comma too many?)" : "");
  return NULL;
}

/**
 * gather_json_parse:
 * @data: the text; need not be NUL-terminated
 * @length: its length in bytes
 * @max_depth: the deepest nesting of arrays and objects accepted
 * @error: a GATHER_JSON_ERROR whose message starts with "line L, column C"
 *
 * Parses one JSON value, optionally after a UTF-8 byte order mark.
 *
 * Returns: (transfer full): the value, or NULL with @error set
 */
GatherJsonNode *
gather_json_parse (const char  *data,
                   gsize        length,
                   guint        max_depth,
                   GError     **error)
{
  g_autoptr(GatherJsonNode) root = NULL;
  Reader r = { data, length, 0, max_depth, 1, 0, 0, 0 };
  const char *nul = memchr (data, '\0', length);
  const char *invalid = NULL;
  guint line, column;

  if (nul != NULL)
    {
      locate_from_start (data, nul - data, &line, &column);
      g_set_error (error, GATHER_JSON_ERROR, GATHER_JSON_ERROR_ENCODING,
                   "line %u, column %u: a NUL byte: this is not a JSON text", line, column);
      return NULL;
    }

  if (!g_utf8_validate_len (data, length, &invalid))
    {
      locate_from_start (data, invalid - data, &line, &column);
      g_set_error (error, GATHER_JSON_ERROR, GATHER_JSON_ERROR_ENCODING,
                   "line %u, column %u: byte 0x%02X is not valid UTF-8: JSON text must be UTF-8",
                   line, column, (guchar) *invalid);
      return NULL;
    }

  if (length >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    r.pos = r.line_start = r.col_pos = 3;

  root = read_value (&r, 0, error);
  if (root == NULL)
    return NULL;

  skip_space (&r);
  if (r.pos < r.length)
    {
      g_autofree char *what = describe_char (r.data + r.pos, r.data + r.length);

      reader_fail (&r, r.pos, GATHER_JSON_ERROR_SYNTAX, error,
                   "%s after the end of the JSON value that starts at line %u, column %u",
                   what, root->line, root->column);
      return NULL;
    }

  return g_steal_pointer (&root);
}

GatherJsonNode *
gather_json_object_get (GatherJsonNode *object,
                        const char     *name)
{
  g_assert (object->kind == GATHER_JSON_OBJECT);

  for (guint i = 0; i < object->members->len; i++)
    {
      GatherJsonMember *member = g_ptr_array_index (object->members, i);

      if (g_str_equal (member->name, name))
        return member->value;
    }

  return NULL;
}

const char *
gather_json_kind_name (GatherJsonKind kind)
{
  switch (kind)
    {
    case GATHER_JSON_NULL:
      return "null";
    case GATHER_JSON_BOOLEAN:
      return "a boolean";
    case GATHER_JSON_NUMBER:
      return "a number";
    case GATHER_JSON_STRING:
      return "a string";
    case GATHER_JSON_ARRAY:
      return "an array";
    case GATHER_JSON_OBJECT:
      return "an object";
    default:
      g_assert_not_reached ();
    }
}
