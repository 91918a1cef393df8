/* gather-helper-protocol.c: frames between the host and its helpers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "gather-error.h"
#include "gather-helper-protocol-private.h"
#include "gather-worker-private.h"

/* See gather-helper-protocol-private.h for the messages. */

#define READ_CHUNK 65536

static const char * const body_types[GATHER_HELPER_N_MESSAGES] = {
  [GATHER_HELPER_HELLO] = "(ut)",
  [GATHER_HELPER_RUN] = "(aysvttu)",
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
static const char * const kept_types[] = { "(yuv)", "(aysvttu)", "(sis)", "a{sv}", "ay" };
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

  return GATHER_VARIANT_TYPE (body_types[kind]);
}

const char *
gather_helper_message_name (GatherHelperMessage kind)
{
  if (kind <= 0 || kind >= GATHER_HELPER_N_MESSAGES)
    return "unknown";

  return names[kind];
}

/*
 * Frames are built and taken apart here by hand, not as a GLib (yuv):
 * GLib 2.74 builds a container value, its type information and every
 * child to serialize one, and checks every child it takes apart, which
 * cost a trivial isolated task more instructions than all the rest. The
 * bytes are the same: a (yuv) in normal form (GVariant's serialization):
 *
 *   offset 0  the kind (y), then 3 bytes of padding, all 0
 *   offset 4  the serial (u), little-endian
 *   offset 8  the body (v): its serialized value, a 0 byte, and its type
 *             string (the last 0 byte of the payload ends the value)
 *
 * tests/test-helper-protocol.c checks the bytes against GLib's; the fuzzer
 * (tests/fuzz/fuzz-helper-frames.c) checks that the reader refuses only
 * payloads GLib refuses, and that what it accepts is written back to the
 * same bytes (normal form is the one way to write a value).
 */

#define BODY_OFFSET 8

/* The body as the frames carry it: little-endian (a new reference on a
 * little-endian machine). */
static GVariant *
to_little_endian (GVariant *value)
{
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
    return g_variant_ref (value);

  return g_variant_byteswap (value);
}

/* Writes the frame's header and the payload's first 8 bytes at @data:
 * room for GATHER_HELPER_HEADER_SIZE + @size bytes. */
static void
write_frame_start (guint8              *data,
                   gsize                size,
                   GatherHelperMessage  kind,
                   guint32              serial)
{
  guint32 words[2];

  words[0] = GUINT32_TO_LE ((guint32) size);
  words[1] = GUINT32_TO_LE (GATHER_HELPER_FRAME_MAGIC);
  memcpy (data, words, sizeof words);

  data += GATHER_HELPER_HEADER_SIZE;
  data[0] = (guint8) kind;
  data[1] = data[2] = data[3] = 0;
  words[0] = GUINT32_TO_LE (serial);
  memcpy (data + 4, words, sizeof words[0]);
}

/* Writes a v: @value's bytes (@size of them), a 0 byte and @type_string
 * (@type_length bytes). */
static void
write_variant (guint8     *data,
               GVariant   *value,
               gsize       size,
               const char *type_string,
               gsize       type_length)
{
  g_variant_store (value, data);
  data[size] = 0;
  memcpy (data + size + 1, type_string, type_length);
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
  g_autoptr(GVariant) owned = g_variant_ref_sink (body);
  g_autoptr(GVariant) value = NULL;
  const char *type_string;
  gsize type_length;
  gsize value_size;
  gsize size;
  guint8 *data;

  g_assert (g_variant_is_of_type (owned, gather_helper_message_body_type (kind)));

  value = to_little_endian (owned);
  type_string = g_variant_get_type_string (value);
  type_length = strlen (type_string);
  value_size = g_variant_get_size (value);
  if (type_length > GATHER_HELPER_MAX_FRAME - BODY_OFFSET - 1 ||
      value_size > GATHER_HELPER_MAX_FRAME - BODY_OFFSET - 1 - type_length)
    return NULL;
  size = BODY_OFFSET + value_size + 1 + type_length;

  /* The header keeps the payload, and so the body, 8-aligned, as
   * g_variant_store() wants. */
  data = g_malloc (GATHER_HELPER_HEADER_SIZE + size);
  write_frame_start (data, size, kind, serial);
  write_variant (data + GATHER_HELPER_HEADER_SIZE + BODY_OFFSET, value, value_size,
                 type_string, type_length);

  return g_bytes_new_take (data, GATHER_HELPER_HEADER_SIZE + size);
}

/*
 * RUN bodies, (aysvttu), by hand as well. In normal form a tuple's
 * children follow each other at their alignment (padding is 0), and the
 * end of each child of variable size but the last is written at the end of
 * the tuple, last first, in the smallest of 1, 2, 4 or 8 bytes that can
 * hold the tuple's whole size:
 *
 *   the plugin's path, 0-terminated (ay, a bytestring)
 *   the worker's name, 0-terminated (s)
 *   (8-aligned) the parameters (v)
 *   (8-aligned) the memory limit (t), the digest of the worker's
 *     declaration (t), then the CPU-time limit (u)
 *   the ends of the v, of the s and of the ay
 */

#define RUN_N_OFFSETS 3

static gsize
align8 (gsize offset)
{
  return (offset + 7) & ~(gsize) 7;
}

/* How many bytes a tuple's offsets take, from its whole size. */
static guint
offset_size_of (gsize size)
{
  if (size > G_MAXUINT32)
    return 8;
  if (size > G_MAXUINT16)
    return 4;
  if (size > G_MAXUINT8)
    return 2;

  return 1;
}

/* How many bytes each offset of a container takes, as GLib sizes them: the
 * smallest of 1, 2, 4 or 8 with which its body (@body_size bytes) and its
 * @n_offsets offsets fit. */
static guint
container_offset_size (gsize body_size,
                       gsize n_offsets)
{
  if (body_size + n_offsets <= G_MAXUINT8)
    return 1;
  if (body_size + 2 * n_offsets <= G_MAXUINT16)
    return 2;
  if (body_size + 4 * n_offsets <= G_MAXUINT32)
    return 4;

  return 8;
}

static void
write_offset (guint8 *data,
              gsize   value,
              guint   offset_size)
{
  guint64 le = GUINT64_TO_LE ((guint64) value);

  /* The low bytes of a little-endian word come first. */
  memcpy (data, &le, offset_size);
}

static gsize
read_offset (const guint8 *data,
             guint         offset_size)
{
  guint64 le = 0;

  memcpy (&le, data, offset_size);

  return (gsize) GUINT64_FROM_LE (le);
}

/*
 * Parameters of type a{sv}, by hand too. A program builds them as a tree
 * of values (g_variant_new(), a builder, g_variant_new_parsed(), the
 * bindings' GLib.Variant), and GLib's serializer took ~4,700 instructions
 * to size and write a one-entry dictionary, a fifth of the owner's work
 * for a trivial isolated task (benchmarks/isolation-instructions.sh).
 * Here only each entry's value goes through GLib (a string or a number
 * usually is serialized already, and then costs a copy). In normal form:
 *
 *   each entry, 8-aligned (a v is): its key, 0-terminated; (8-aligned) the
 *     value's bytes, a 0 byte and the value's type string; the end of the
 *     key, in the smallest offset that can hold the entry's size
 *   the end of each entry, first to last, in the smallest offset that can
 *     hold the dictionary's size (none if it is empty)
 *
 * Little-endian machines only (elsewhere the frame's bytes are swapped),
 * and dictionaries of up to HAND_MAX_ENTRIES entries (more would not fit
 * on the stack, and cost their values more than the serializer).
 */
#define HAND_MAX_ENTRIES 32

typedef struct
{
  GVariant   *key;           /* owned */
  GVariant   *value;         /* owned: the v's child */
  const char *key_string;
  gsize       key_length;    /* without its 0 */
  const char *type_string;
  gsize       type_length;
  gsize       value_size;
} HandEntry;

typedef struct
{
  HandEntry entries[HAND_MAX_ENTRIES];
  guint     n_entries;
  guint     offset_size;     /* of the dictionary's offsets */
  gsize     size;            /* the dictionary's */
} HandDict;

static void
hand_dict_clear (HandDict *dict)
{
  for (guint i = 0; i < dict->n_entries; i++)
    {
      g_variant_unref (dict->entries[i].key);
      g_variant_unref (dict->entries[i].value);
    }
  dict->n_entries = 0;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HandDict, hand_dict_clear)

/* The size of an entry: its body up to the value's type string, then its
 * one offset. */
static gsize
hand_entry_size (const HandEntry *entry,
                 gsize           *body_size)
{
  *body_size = align8 (entry->key_length + 1) + entry->value_size + 1 + entry->type_length;

  return *body_size + container_offset_size (*body_size, 1);
}

/* Takes @parameters apart into @dict and sizes it. FALSE if it is not
 * written by hand (then @dict is empty) or is larger than a frame takes.
 * A worker may take parameters of any type: only an a{sv} is written by
 * hand (its type is checked first, since a basic value has no children to
 * count). */
static gboolean
hand_dict_init (HandDict *dict,
                GVariant *parameters)
{
  gsize n;
  gsize end = 0;

  dict->n_entries = 0;
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN || !g_variant_is_of_type (parameters, G_VARIANT_TYPE_VARDICT))
    return FALSE;
  n = g_variant_n_children (parameters);
  if (n > HAND_MAX_ENTRIES)
    return FALSE;

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) pair = g_variant_get_child_value (parameters, i);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (pair, 1);
      HandEntry *entry = &dict->entries[dict->n_entries++];
      gsize body_size;

      entry->key = g_variant_get_child_value (pair, 0);
      entry->value = g_variant_get_child_value (boxed, 0);
      entry->key_string = g_variant_get_string (entry->key, &entry->key_length);
      entry->type_string = g_variant_get_type_string (entry->value);
      entry->type_length = strlen (entry->type_string);
      entry->value_size = g_variant_get_size (entry->value);

      /* Each part at most GATHER_HELPER_MAX_FRAME, so that no sum
       * overflows, even where a size is 32 bits. */
      if (entry->key_length > GATHER_HELPER_MAX_FRAME || entry->value_size > GATHER_HELPER_MAX_FRAME ||
          entry->type_length > GATHER_HELPER_MAX_FRAME)
        {
          hand_dict_clear (dict);
          return FALSE;
        }
      end = align8 (end) + hand_entry_size (entry, &body_size);
      if (end > GATHER_HELPER_MAX_FRAME)
        {
          hand_dict_clear (dict);
          return FALSE;
        }
    }

  dict->offset_size = container_offset_size (end, n);
  dict->size = n > 0 ? end + n * dict->offset_size : 0;

  return TRUE;
}

/* Writes @dict at @data (8-aligned, zeroed: the padding is left as it
 * is). */
static void
hand_dict_write (const HandDict *dict,
                 guint8   *data)
{
  gsize ends[HAND_MAX_ENTRIES];
  gsize end = 0;

  for (guint i = 0; i < dict->n_entries; i++)
    {
      const HandEntry *entry = &dict->entries[i];
      gsize start = align8 (end);
      gsize value_start = start + align8 (entry->key_length + 1);
      gsize body_size;
      gsize size = hand_entry_size (entry, &body_size);

      memcpy (data + start, entry->key_string, entry->key_length + 1);
      write_variant (data + value_start, entry->value, entry->value_size,
                     entry->type_string, entry->type_length);
      write_offset (data + start + body_size, entry->key_length + 1, size - body_size);
      end = ends[i] = start + size;
    }

  for (guint i = 0; i < dict->n_entries; i++)
    write_offset (data + end + i * dict->offset_size, ends[i], dict->offset_size);
}

/*
 * gather_helper_run_frame_new:
 * @parameters: the worker's parameters (not floating)
 *
 * The RUN frame of a task, with serial 0 (see gather_helper_frame_append()).
 *
 * Returns: the frame, or `NULL` if its payload would be larger than
 *   GATHER_HELPER_MAX_FRAME
 */
GBytes *
gather_helper_run_frame_new (const char *plugin_path,
                             const char *worker_name,
                             GVariant   *parameters,
                             guint64     declaration,
                             guint64     memory_limit,
                             guint32     cpu_limit)
{
  static const char run_type[] = "(aysvttu)";
  /* The helper trusts its host's frames to be in normal form (it does not
   * check them again): parameters made from untrusted bytes may not be,
   * and are sent as GLib would make them. (This is a new reference to
   * @parameters itself if they are, as values built by calls are.) */
  g_autoptr(GVariant) normal = g_variant_get_normal_form (parameters);
  g_auto(HandDict) dict = { .n_entries = 0 };
  gboolean by_hand = hand_dict_init (&dict, normal);
  g_autoptr(GVariant) value = by_hand ? g_variant_ref (normal) : to_little_endian (normal);
  const char *type_string = g_variant_get_type_string (value);
  gsize type_length = strlen (type_string);
  gsize value_size = by_hand ? dict.size : g_variant_get_size (value);
  gsize path_end, name_end, variant_start, variant_end, limits_start, end, body_size, size;
  guint offset_size;
  guint64 memory_le = GUINT64_TO_LE (memory_limit);
  guint64 declaration_le = GUINT64_TO_LE (declaration);
  guint32 cpu_le = GUINT32_TO_LE (cpu_limit);
  guint8 *data;
  guint8 *body;

  /* Each part at most GATHER_HELPER_MAX_FRAME, so that no sum below
   * overflows, even where a size is 32 bits. */
  if (strlen (plugin_path) > GATHER_HELPER_MAX_FRAME || strlen (worker_name) > GATHER_HELPER_MAX_FRAME ||
      value_size > GATHER_HELPER_MAX_FRAME || type_length > GATHER_HELPER_MAX_FRAME)
    return NULL;
  path_end = strlen (plugin_path) + 1;
  name_end = path_end + strlen (worker_name) + 1;
  variant_start = align8 (name_end);
  variant_end = variant_start + value_size + 1 + type_length;
  limits_start = align8 (variant_end);
  end = limits_start + sizeof memory_le + sizeof declaration_le + sizeof cpu_le;
  if (end > GATHER_HELPER_MAX_FRAME)
    return NULL;

  /* As GLib sizes a tuple. */
  offset_size = container_offset_size (end, RUN_N_OFFSETS);
  body_size = end + offset_size * RUN_N_OFFSETS;
  g_assert (offset_size_of (body_size) == offset_size);

  size = BODY_OFFSET + body_size + 1 + strlen (run_type);
  if (size > GATHER_HELPER_MAX_FRAME)
    return NULL;

  data = g_malloc0 (GATHER_HELPER_HEADER_SIZE + size);
  write_frame_start (data, size, GATHER_HELPER_RUN, 0);
  body = data + GATHER_HELPER_HEADER_SIZE + BODY_OFFSET;

  memcpy (body, plugin_path, path_end);
  memcpy (body + path_end, worker_name, name_end - path_end);
  if (by_hand)
    {
      hand_dict_write (&dict, body + variant_start);
      memcpy (body + variant_start + value_size + 1, type_string, type_length);
    }
  else
    write_variant (body + variant_start, value, value_size, type_string, type_length);
  memcpy (body + limits_start, &memory_le, sizeof memory_le);
  memcpy (body + limits_start + 8, &declaration_le, sizeof declaration_le);
  memcpy (body + limits_start + 16, &cpu_le, sizeof cpu_le);
  write_offset (body + end, variant_end, offset_size);
  write_offset (body + end + offset_size, name_end, offset_size);
  write_offset (body + end + 2 * offset_size, path_end, offset_size);

  body[body_size] = 0;
  memcpy (body + body_size + 1, run_type, strlen (run_type));

  return g_bytes_new_take (data, GATHER_HELPER_HEADER_SIZE + size);
}

/* How far take_variant() checks the bytes it is given. */
typedef enum
{
  BYTES_TRUSTED,   /* from a trusted peer (a helper's host): its type string
                    * is scanned (unless it is the one expected), its
                    * normal form is not checked */
  BYTES_CHECKED,   /* part of a payload GLib found in normal form */
} Bytes;

/*
 * take_variant:
 * @bytes: holds a serialized v from @start to @end
 * @expected: (nullable): the type string it most likely has, a valid one
 * @native: whether to give the value in this machine's byte order (a RUN
 *   body is taken apart by hand, in the frames' order)
 *
 * Returns: (nullable): the value in it, or `NULL` if it is not a v
 */
static GVariant *
take_variant (GBytes     *bytes,
              gsize       start,
              gsize       end,
              const char *expected,
              Bytes       how,
              gboolean    native)
{
  const guint8 *data = g_bytes_get_data (bytes, NULL);
  const char *type_end = (const char *) data + end;
  const char *scanned = NULL;
  g_autoptr(GBytes) value_bytes = NULL;
  g_autoptr(GVariant) value = NULL;
  const GVariantType *type;
  gsize separator = end;

  /* The last 0 byte ends the value: a type string has none. */
  while (separator > start && data[separator - 1] != 0)
    separator--;
  if (separator == start)
    return NULL;
  separator--;

  /* A type known to be valid is not scanned again: that cost a helper a
   * tenth of its time per trivial task. */
  type = (const GVariantType *) (data + separator + 1);
  if (how == BYTES_TRUSTED &&
      !(expected != NULL && strlen (expected) == (gsize) (type_end - (const char *) type) &&
        memcmp (expected, type, strlen (expected)) == 0) &&
      (!g_variant_type_string_scan ((const char *) type, type_end, &scanned) ||
       scanned != type_end || !g_variant_type_is_definite (type)))
    return NULL;

  value_bytes = g_bytes_new_from_bytes (bytes, start, separator - start);
  value = g_variant_ref_sink (g_variant_new_from_bytes (type, value_bytes, TRUE));

  if (native && G_BYTE_ORDER != G_LITTLE_ENDIAN)
    {
      GVariant *swapped = g_variant_byteswap (value);

      g_variant_unref (value);
      value = swapped;
    }

  return g_steal_pointer (&value);
}

/*
 * gather_helper_run_parse:
 * @body: a RUN frame's body, as gather_frame_reader_next() gave it
 * @request: (out caller-allocates): what it asks for; the strings point
 *   into @body, the parameters are owned (gather_helper_request_clear())
 *
 * Takes a RUN body apart. The helper trusts its host's frames, but their
 * offsets are still checked: a body that is not one is a bad frame.
 */
gboolean
gather_helper_run_parse (GVariant             *body,
                         GatherHelperRequest  *request,
                         GError              **error)
{
  g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes (body);
  gsize size = g_bytes_get_size (bytes);
  const guint8 *data = g_bytes_get_data (bytes, NULL);
  guint offset_size = offset_size_of (size);
  gsize path_end, name_end, variant_start, variant_end, limits_start;
  guint64 memory_le, declaration_le;
  guint32 cpu_le;

  g_assert (g_variant_is_of_type (body, gather_helper_message_body_type (GATHER_HELPER_RUN)));
  memset (request, 0, sizeof *request);

  if (size < RUN_N_OFFSETS * offset_size)
    goto bad;
  variant_end = read_offset (data + size - 3 * offset_size, offset_size);
  name_end = read_offset (data + size - 2 * offset_size, offset_size);
  path_end = read_offset (data + size - offset_size, offset_size);
  /* In order, and inside the body, before any is rounded up. */
  if (path_end < 1 || name_end <= path_end || variant_end <= name_end ||
      variant_end > size - RUN_N_OFFSETS * offset_size)
    goto bad;
  variant_start = align8 (name_end);
  if (variant_start >= variant_end)
    goto bad;
  limits_start = align8 (variant_end);
  if (limits_start + sizeof memory_le + sizeof declaration_le + sizeof cpu_le !=
      size - RUN_N_OFFSETS * offset_size)
    goto bad;

  /* A 0-terminated path and name, with no 0 inside. */
  if (data[path_end - 1] != 0 || memchr (data, 0, path_end - 1) != NULL ||
      data[name_end - 1] != 0 || memchr (data + path_end, 0, name_end - path_end - 1) != NULL)
    goto bad;

  request->parameters = take_variant (bytes, variant_start, variant_end, "a{sv}", BYTES_TRUSTED, TRUE);
  if (request->parameters == NULL)
    goto bad;

  request->plugin_path = (const char *) data;
  request->worker_name = (const char *) data + path_end;
  memcpy (&memory_le, data + limits_start, sizeof memory_le);
  memcpy (&declaration_le, data + limits_start + 8, sizeof declaration_le);
  memcpy (&cpu_le, data + limits_start + 16, sizeof cpu_le);
  request->memory_limit = GUINT64_FROM_LE (memory_le);
  request->declaration = GUINT64_FROM_LE (declaration_le);
  request->cpu_limit = GUINT32_FROM_LE (cpu_le);

  return TRUE;

bad:
  g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
               "a RUN frame of %" G_GSIZE_FORMAT " bytes is not a request", size);
  return FALSE;
}

void
gather_helper_request_clear (GatherHelperRequest *request)
{
  g_clear_pointer (&request->parameters, g_variant_unref);
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
  g_autoptr(GBytes) payload = NULL;
  const guint8 *data;
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

  /* Anything shorter than GATHER_HELPER_MIN_FRAME is not a message. */
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

  /* What a helper sends must be GLib's normal form of a (yuv), exactly:
   * GLib checks it (nesting included), and the body is then cut out of it
   * by hand. A helper trusts its host: its frames are not checked again. */
  if (!reader->trusted)
    {
      g_autoptr(GVariant) message = g_variant_ref_sink (g_variant_new_from_bytes (GATHER_VARIANT_TYPE ("(yuv)"),
                                                                                  payload, FALSE));

      if (!g_variant_is_normal_form (message))
        {
          g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                       "a frame of %u bytes is not a message", length);
          return -1;
        }
    }

  data = g_bytes_get_data (payload, NULL);
  byte = data[0];
  memcpy (serial, data + 4, sizeof *serial);
  *serial = GUINT32_FROM_LE (*serial);

  /* A RUN body stays in the frames' byte order: the helper takes it apart
   * by hand. */
  if ((data[1] | data[2] | data[3]) != 0 ||
      (*body = take_variant (payload, BODY_OFFSET, length,
                             byte > 0 && byte < GATHER_HELPER_N_MESSAGES &&
                             byte != GATHER_HELPER_RESULT ? body_types[byte] : NULL,
                             reader->trusted ? BYTES_TRUSTED : BYTES_CHECKED,
                             byte != GATHER_HELPER_RUN)) == NULL)
    {
      g_set_error (error, GATHER_ERROR, GATHER_ERROR_HELPER,
                   "a frame of %u bytes is not a message", length);
      return -1;
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
