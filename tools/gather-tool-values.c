/* gather-tool-values.c: a parameter value, as text or JSON, converted to
 * the GVariant type a worker declares.
 *
 * The one place where values get their types: gather_value_from_text()
 * (KEY=VALUE arguments and task lines) and gather_value_from_json() (task
 * files) share the conversion of numbers, strings and byte strings, so
 * that both forms accept and refuse the same values with the same words.
 * Numbers out of range are refused, never wrapped; text must be UTF-8
 * except in byte strings ("ay", as GLib keeps file names); nesting is
 * bounded by GATHER_JSON_MAX_DEPTH.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "gather-tool-json.h"
#include "gather-tool-tasks.h"
#include "gather-tool-values.h"

/* ---- Values: one conversion per declared type ---- */

static gboolean
type_is (const GVariantType *type,
         const char         *string)
{
  return g_variant_type_equal (type, G_VARIANT_TYPE (string));
}

static char *
type_name (const GVariantType *type)
{
  return g_variant_type_dup_string (type);
}

/* A number written in decimal (JSON numbers are) as a value of the basic
 * numeric type @c. Out of range is an error, never a wrap. */
static GVariant *
number_value (char         c,
              const char  *text,
              GError     **error)
{
  static const struct { char type; gint64 min; guint64 max; } ranges[] = {
    { 'y', 0, G_MAXUINT8 },
    { 'n', G_MININT16, G_MAXINT16 },
    { 'q', 0, G_MAXUINT16 },
    { 'i', G_MININT32, G_MAXINT32 },
    { 'u', 0, G_MAXUINT32 },
    { 'x', G_MININT64, G_MAXINT64 },
    { 't', 0, G_MAXUINT64 },
  };
  g_autofree char *shown = gather_task_display_text (text, -1);
  const char *digits = text[0] == '-' ? text + 1 : text;
  gboolean negative = text[0] == '-';
  gboolean all_digits = *digits != '\0';

  for (const char *p = digits; *p != '\0'; p++)
    all_digits = all_digits && g_ascii_isdigit (*p);

  if (c == 'd')
    {
      char *end = NULL;
      double value;

      /* JSON's number syntax: no "nan", "inf", hexadecimal or spaces. */
      if (*text == '\0' || strspn (text, "0123456789+-.eE") != strlen (text))
        goto not_a_number;

      errno = 0;
      value = g_ascii_strtod (text, &end);
      if (end == text || *end != '\0')
        goto not_a_number;
      if (!isfinite (value))
        {
          g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                       "%s is out of range for type “d” (a double holds up to about 1.8e308)",
                       shown);
          return NULL;
        }
      return g_variant_take_ref (g_variant_new_double (value));
    }

  for (guint i = 0; i < G_N_ELEMENTS (ranges); i++)
    {
      guint64 magnitude;
      GVariant *value = NULL;

      if (ranges[i].type != c)
        continue;

      if (!all_digits)
        {
          if (*text != '\0' && strspn (text, "0123456789+-.eE") == strlen (text) &&
              g_ascii_isdigit (digits[0]))
            {
              g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                           "%s is not a whole number, as type “%c” needs", shown, c);
              return NULL;
            }
          goto not_a_number;
        }

      /* Digits only, so the only error left is the range. */
      if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXUINT64, &magnitude, NULL) ||
          (!negative && magnitude > ranges[i].max) ||
          (negative && magnitude > 0 &&
           (ranges[i].min == 0 || magnitude - 1 > (guint64) -(ranges[i].min + 1))))
        {
          g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                       "%s is out of range for type “%c” (%" G_GINT64_FORMAT " to %"
                       G_GUINT64_FORMAT ")", shown, c, ranges[i].min, ranges[i].max);
          return NULL;
        }

      switch (c)
        {
        case 'y':
          value = g_variant_new_byte ((guint8) magnitude);
          break;
        case 'q':
          value = g_variant_new_uint16 ((guint16) magnitude);
          break;
        case 'u':
          value = g_variant_new_uint32 ((guint32) magnitude);
          break;
        case 't':
          value = g_variant_new_uint64 (magnitude);
          break;
        case 'n':
          value = g_variant_new_int16 (negative ? (gint16) -(gint64) magnitude : (gint16) magnitude);
          break;
        case 'i':
          value = g_variant_new_int32 (negative ? (gint32) -(gint64) magnitude : (gint32) magnitude);
          break;
        case 'x':
          /* -(2^63) has no positive counterpart: go through unsigned. */
          value = g_variant_new_int64 (negative ? (gint64) (~magnitude + 1) : (gint64) magnitude);
          break;
        default:
          g_assert_not_reached ();
        }
      return g_variant_take_ref (value);
    }

  g_assert_not_reached ();

not_a_number:
  g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
               "“%s” is not a number, as type “%c” needs", shown, c);
  return NULL;
}

/* A byte string ("ay", as GLib stores file names): the bytes and a
 * terminating NUL, which g_variant_get_bytestring() expects. A NUL inside
 * would cut the name short, so it is refused. */
static GVariant *
bytestring_value (const char  *bytes,
                  gsize        length,
                  GError     **error)
{
  g_autofree char *copy = NULL;

  if (length == 0)
    return g_variant_take_ref (g_variant_new_bytestring (""));

  if (memchr (bytes, '\0', length) != NULL)
    {
      g_set_error_literal (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                           "a byte string (such as a file name) cannot hold a NUL byte");
      return NULL;
    }

  copy = g_strndup (bytes, length);
  return g_variant_take_ref (g_variant_new_bytestring (copy));
}

/* Text as a string-like basic type: "s", "o" or "g". The text is UTF-8. */
static GVariant *
string_value (char         c,
              const char  *text,
              GError     **error)
{
  g_autofree char *shown = NULL;

  if (c == 's')
    return g_variant_take_ref (g_variant_new_string (text));
  if (c == 'o' && g_variant_is_object_path (text))
    return g_variant_take_ref (g_variant_new_object_path (text));
  if (c == 'g' && g_variant_is_signature (text))
    return g_variant_take_ref (g_variant_new_signature (text));

  shown = gather_task_display_text (text, -1);
  g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
               "“%s” is not a D-Bus %s, as type “%c” needs", shown,
               c == 'o' ? "object path" : "signature", c);
  return NULL;
}

/* A \u or \U escape of GVariant text at @p (the backslash) that names no
 * character: GLib 2.74's parser turns a surrogate (\uD800) into bytes
 * that are not UTF-8, then fails a critical on them. */
static gboolean
is_bad_escape (const char *p,
               gunichar   *c)
{
  guint digits = p[1] == 'u' ? 4 : p[1] == 'U' ? 8 : 0;

  *c = 0;
  if (digits == 0)
    return FALSE;
  for (guint i = 0; i < digits; i++)
    {
      if (!g_ascii_isxdigit (p[2 + i]))
        return FALSE;   /* GLib refuses it as it is */
      *c = (*c << 4) | (gunichar) g_ascii_xdigit_value (p[2 + i]);
    }

  return !g_unichar_validate (*c);
}

/* GVariant text nested deeper than the JSON limit is refused before
 * g_variant_parse() sees it, and so is a string escape that names no
 * character. Quotes are skipped. */
static gboolean
check_variant_text (const char  *text,
                    GError     **error)
{
  guint depth = 0;
  char quote = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (quote != 0)
        {
          gunichar c;

          if (*p == '\\' && is_bad_escape (p, &c))
            {
              g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                           "the escape \\%c%0*X in a string names no Unicode character",
                           p[1], p[1] == 'u' ? 4 : 8, c);
              return FALSE;
            }
          if (*p == '\\' && p[1] != '\0')
            p++;
          else if (*p == quote)
            quote = 0;
          continue;
        }

      if (*p == '\'' || *p == '"')
        quote = *p;
      else if (strchr ("([{<", *p) != NULL)
        depth++;
      else if (strchr (")]}>", *p) != NULL && depth > 0)
        depth--;

      if (depth > GATHER_JSON_MAX_DEPTH)
        {
          g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                       "the value is nested more than %u deep", GATHER_JSON_MAX_DEPTH);
          return FALSE;
        }
    }

  return TRUE;
}

static GVariant *
parse_variant_text (const GVariantType  *type,
                    const char          *text,
                    GError             **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *type_string = NULL;
  GVariant *value;

  if (!check_variant_text (text, error))
    return NULL;

  value = g_variant_parse (type, text, NULL, NULL, &local_error);
  if (value != NULL)
    return value;

  shown = gather_task_display_text (text, -1);
  type_string = type_name (type);
  g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
               "“%s” is not a value of type “%s” in GVariant text format: %s",
               shown, type_string, local_error->message);
  return NULL;
}

/* Shell-like words, as "ls -l '/my files'"; blank text is no words. */
static char **
split_words (const char  *text,
             GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  char **words = NULL;

  if (text[strspn (text, " \t\n")] == '\0')
    return g_new0 (char *, 1);

  if (!g_shell_parse_argv (text, NULL, &words, &local_error))
    {
      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                   "cannot split it into words: %s", local_error->message);
      return NULL;
    }

  return words;
}

static GVariant *
bytestring_array_value (char    **words,
                        GError  **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_BYTESTRING_ARRAY);

  for (guint i = 0; words[i] != NULL; i++)
    g_variant_builder_add_value (&builder, g_variant_new_bytestring (words[i]));

  return g_variant_take_ref (g_variant_builder_end (&builder));
}

/* @text, from an argument or a line, as a value of @type:
 *  - byte strings ("ay") take the bytes as they are, and "aay" takes words;
 *  - numbers are decimal; booleans are true or false;
 *  - strings are the text, which must be UTF-8;
 *  - "as" takes GVariant text (['a', 'b']) or words (a b);
 *  - "*" and "v" take GVariant text (2000, true, ['a']), or else the text
 *    as a string;
 *  - other types take GVariant text.
 * Returns a full reference. */
GVariant *
gather_value_from_text (const GVariantType  *type,
                        const char          *text,
                        GError             **error)
{
  const char *invalid = NULL;
  char c = *g_variant_type_peek_string (type);

  if (type_is (type, "ay"))
    return bytestring_value (text, strlen (text), error);

  if (type_is (type, "aay"))
    {
      g_auto(GStrv) words = split_words (text, error);

      if (words == NULL)
        return NULL;
      return bytestring_array_value (words, error);
    }

  if (!g_utf8_validate (text, -1, &invalid))
    {
      g_autofree char *shown = gather_task_display_text (text, -1);
      g_autofree char *type_string = type_name (type);

      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                   "“%s” is not valid UTF-8 (byte 0x%02X), as type “%s” needs: only "
                   "byte strings (type “ay”, used for file names) take other bytes",
                   shown, (guchar) *invalid, type_string);
      return NULL;
    }

  if (type_is (type, "*") || type_is (type, "v"))
    {
      g_autoptr(GVariant) parsed = NULL;

      if (!check_variant_text (text, error))
        return NULL;
      parsed = g_variant_parse (NULL, text, NULL, NULL, NULL);
      if (parsed == NULL)
        parsed = g_variant_take_ref (g_variant_new_string (text));
      if (type_is (type, "v"))
        return g_variant_take_ref (g_variant_new_variant (parsed));
      return g_steal_pointer (&parsed);
    }

  if (g_variant_type_is_basic (type))
    {
      switch (c)
        {
        case 'b':
          if (g_str_equal (text, "true") || g_str_equal (text, "false"))
            return g_variant_take_ref (g_variant_new_boolean (g_str_equal (text, "true")));
          {
            g_autofree char *shown = gather_task_display_text (text, -1);

            g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                         "“%s” is not a boolean: use true or false", shown);
          }
          return NULL;
        case 's':
        case 'o':
        case 'g':
          return string_value (c, text, error);
        case 'y':
        case 'n':
        case 'q':
        case 'i':
        case 'u':
        case 'x':
        case 't':
        case 'd':
          return number_value (c, text, error);
        default:
          break;
        }
    }

  if (type_is (type, "as") && text[strspn (text, " \t\n")] != '[')
    {
      g_auto(GStrv) words = split_words (text, error);

      if (words == NULL)
        return NULL;
      return g_variant_take_ref (g_variant_new_strv ((const char * const *) words, -1));
    }

  if (!g_variant_type_is_definite (type) || c == 'h')
    {
      g_autofree char *type_string = type_name (type);

      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                   "a value of type “%s” cannot be given to gather", type_string);
      return NULL;
    }

  return parse_variant_text (type, text, error);
}


static gboolean
need_kind (GatherJsonNode      *node,
           GatherJsonKind       kind,
           const GVariantType  *type,
           GError             **error)
{
  g_autofree char *type_string = NULL;

  if (node->kind == kind)
    return TRUE;

  type_string = type_name (type);
  g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
               "type “%s” needs %s, not %s", type_string, gather_json_kind_name (kind),
               gather_json_kind_name (node->kind));
  return FALSE;
}

/* A JSON value of no declared type ("*" or "v"): strings are "s", whole
 * numbers "x" (or "t" past the int64 range), other numbers "d", booleans
 * "b", arrays "av" and objects "a{sv}". */
static GVariant *
infer_from_json (GatherJsonNode  *node,
                 GatherJsonNode **at,
                 GError         **error)
{
  *at = node;

  switch (node->kind)
    {
    case GATHER_JSON_NULL:
      g_set_error_literal (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                           "null cannot be passed on: it has no type (leave the key out instead)");
      return NULL;
    case GATHER_JSON_BOOLEAN:
      return g_variant_take_ref (g_variant_new_boolean (node->boolean));
    case GATHER_JSON_STRING:
      return g_variant_take_ref (g_variant_new_string (node->text));
    case GATHER_JSON_NUMBER:
      if (!node->integer)
        return number_value ('d', node->text, error);
      if (node->text[0] == '-')
        return number_value ('x', node->text, error);
      {
        GVariant *value = number_value ('x', node->text, NULL);

        return value != NULL ? value : number_value ('t', node->text, error);
      }
    case GATHER_JSON_ARRAY:
      return gather_value_from_json (G_VARIANT_TYPE ("av"), node, at, error);
    case GATHER_JSON_OBJECT:
      return gather_value_from_json (G_VARIANT_TYPE_VARDICT, node, at, error);
    default:
      g_assert_not_reached ();
    }
}

/* A byte string from JSON: a string (its UTF-8 bytes), or an array of
 * numbers from 1 to 255 for bytes that are not UTF-8. */
static GVariant *
bytestring_from_json (GatherJsonNode  *node,
                      GatherJsonNode **at,
                      GError         **error)
{
  g_autoptr(GByteArray) bytes = NULL;

  if (node->kind == GATHER_JSON_STRING)
    return bytestring_value (node->text, strlen (node->text), error);

  if (node->kind != GATHER_JSON_ARRAY)
    {
      g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                   "type “ay” (a byte string, such as a file name) needs a string or an "
                   "array of numbers from 1 to 255, not %s", gather_json_kind_name (node->kind));
      return NULL;
    }

  bytes = g_byte_array_sized_new (node->elements->len);
  for (guint i = 0; i < node->elements->len; i++)
    {
      GatherJsonNode *element = g_ptr_array_index (node->elements, i);
      g_autoptr(GVariant) byte = NULL;
      guint8 b;

      *at = element;
      if (!need_kind (element, GATHER_JSON_NUMBER, G_VARIANT_TYPE_BYTE, error))
        return NULL;
      byte = number_value ('y', element->text, error);
      if (byte == NULL)
        return NULL;
      b = g_variant_get_byte (byte);
      g_byte_array_append (bytes, &b, 1);
    }

  *at = node;
  return bytestring_value ((const char *) bytes->data, bytes->len, error);
}

/* @node as a value of @type; on failure *@at is the node at fault.
 * Recursion follows the JSON nesting, which the reader bounds. Returns a
 * full reference. */
GVariant *
gather_value_from_json (const GVariantType  *type,
                        GatherJsonNode      *node,
                        GatherJsonNode     **at,
                        GError             **error)
{
  g_autofree char *type_string = NULL;
  char c = *g_variant_type_peek_string (type);

  *at = node;

  if (type_is (type, "*"))
    return infer_from_json (node, at, error);

  if (type_is (type, "v"))
    {
      g_autoptr(GVariant) inner = infer_from_json (node, at, error);

      return inner ? g_variant_take_ref (g_variant_new_variant (inner)) : NULL;
    }

  if (type_is (type, "ay"))
    return bytestring_from_json (node, at, error);

  if (g_variant_type_is_basic (type))
    {
      switch (c)
        {
        case 'b':
          if (!need_kind (node, GATHER_JSON_BOOLEAN, type, error))
            return NULL;
          return g_variant_take_ref (g_variant_new_boolean (node->boolean));
        case 's':
        case 'o':
        case 'g':
          if (!need_kind (node, GATHER_JSON_STRING, type, error))
            return NULL;
          return string_value (c, node->text, error);
        case 'y':
        case 'n':
        case 'q':
        case 'i':
        case 'u':
        case 'x':
        case 't':
        case 'd':
          if (!need_kind (node, GATHER_JSON_NUMBER, type, error))
            return NULL;
          return number_value (c, node->text, error);
        default:
          break;
        }
    }
  else if (g_variant_type_is_definite (type) && g_variant_type_is_maybe (type))
    {
      const GVariantType *element = g_variant_type_element (type);
      g_autoptr(GVariant) inner = NULL;

      if (node->kind == GATHER_JSON_NULL)
        return g_variant_take_ref (g_variant_new_maybe (element, NULL));
      inner = gather_value_from_json (element, node, at, error);
      return inner ? g_variant_take_ref (g_variant_new_maybe (NULL, inner)) : NULL;
    }
  else if (g_variant_type_is_definite (type) && g_variant_type_is_array (type) &&
           g_variant_type_is_dict_entry (g_variant_type_element (type)))
    {
      const GVariantType *entry = g_variant_type_element (type);
      g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (type);

      if (!need_kind (node, GATHER_JSON_OBJECT, type, error))
        return NULL;
      for (guint i = 0; i < node->members->len; i++)
        {
          GatherJsonMember *member = g_ptr_array_index (node->members, i);
          g_autoptr(GVariant) key = gather_value_from_text (g_variant_type_key (entry), member->name, error);
          g_autoptr(GVariant) value = NULL;

          if (key == NULL)
            return NULL;
          value = gather_value_from_json (g_variant_type_value (entry), member->value, at, error);
          if (value == NULL)
            return NULL;
          g_variant_builder_add_value (&builder, g_variant_new_dict_entry (key, value));
        }
      *at = node;
      return g_variant_take_ref (g_variant_builder_end (&builder));
    }
  else if (g_variant_type_is_definite (type) && g_variant_type_is_array (type))
    {
      g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (type);

      if (!need_kind (node, GATHER_JSON_ARRAY, type, error))
        return NULL;
      for (guint i = 0; i < node->elements->len; i++)
        {
          g_autoptr(GVariant) element = gather_value_from_json (g_variant_type_element (type),
                                                         g_ptr_array_index (node->elements, i),
                                                         at, error);
          if (element == NULL)
            return NULL;
          g_variant_builder_add_value (&builder, element);
        }
      *at = node;
      return g_variant_take_ref (g_variant_builder_end (&builder));
    }
  else if (g_variant_type_is_definite (type) && g_variant_type_is_tuple (type))
    {
      g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (type);
      gsize n = g_variant_type_n_items (type);
      const GVariantType *item = g_variant_type_first (type);

      if (!need_kind (node, GATHER_JSON_ARRAY, type, error))
        return NULL;
      if (node->elements->len != n)
        {
          type_string = type_name (type);
          g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
                       "type “%s” needs an array of %" G_GSIZE_FORMAT " elements, not %u",
                       type_string, n, node->elements->len);
          return NULL;
        }
      for (guint i = 0; i < n; i++, item = g_variant_type_next (item))
        {
          g_autoptr(GVariant) element = gather_value_from_json (item, g_ptr_array_index (node->elements, i),
                                                         at, error);
          if (element == NULL)
            return NULL;
          g_variant_builder_add_value (&builder, element);
        }
      *at = node;
      return g_variant_take_ref (g_variant_builder_end (&builder));
    }

  type_string = type_name (type);
  g_set_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID,
               "a value of type “%s” cannot be given to gather", type_string);
  return NULL;
}
