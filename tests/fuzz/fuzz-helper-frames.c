/* fuzz-helper-frames.c: fuzzes what the host reads from a helper process:
 * the frame reader (gather_frame_reader_next()), and what the host does
 * with the body of each message it accepts (errors, catalogs, paths).
 *
 * Built with -DGATHER_LIBFUZZER and -fsanitize=fuzzer (clang), this is a
 * libFuzzer target. Otherwise it is a test program that runs the same
 * target on every file of the regression corpus
 * (tests/fuzz/regressions/helper-frames: every input that ever crashed
 * stays there) and on a bounded, seeded run of mutations of the seed
 * corpus, under whatever setup runs the tests (valgrind, AddressSanitizer):
 *
 *   fuzz-helper-frames [--seed N] [--iterations N] REGRESSIONS_DIR SEEDS_DIR
 *   fuzz-helper-frames --write-seeds DIR
 *
 * The input is handed to the reader in pieces, as a socket would: the
 * first byte says how big.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include <gio/gio.h>

#include "gather-error.h"
#include "gather-helper-protocol-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* What the host does with a message it accepted; nothing may crash, and
 * every refusal must say why in UTF-8. */
static void
take_message (GatherHelperMessage  kind,
              GVariant            *body)
{
  g_autoptr(GError) error = NULL;
  guint32 version;
  guint64 pid;

  g_assert_true (kind > 0 && kind < GATHER_HELPER_N_MESSAGES);
  if (kind != GATHER_HELPER_RESULT)
    g_assert_true (g_variant_is_of_type (body, gather_helper_message_body_type (kind)));

  switch (kind)
    {
    case GATHER_HELPER_HELLO:
      g_variant_get (body, "(ut)", &version, &pid);
      break;

    case GATHER_HELPER_ERROR:
      error = gather_helper_error_from_variant (body);
      g_assert_nonnull (error);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      break;

    case GATHER_HELPER_LOADING:
      gather_helper_path_of (body);
      break;

    case GATHER_HELPER_CATALOG:
      if (!gather_helper_catalog_check (body, &error))
        {
          g_assert_error (error, GATHER_ERROR, GATHER_ERROR_HELPER);
          g_assert_true (g_utf8_validate (error->message, -1, NULL));
        }
      break;

    case GATHER_HELPER_RESULT:
      /* The host checks its type against the worker's. */
      g_assert_true (g_variant_is_normal_form (body));
      break;

    case GATHER_HELPER_RUN:
    case GATHER_HELPER_LOAD:
    default:
      break;
    }
}

/* Whether GLib takes @payload as a message: a (yuv) in normal form, of a
 * known kind whose body has the kind's type. The reader builds and checks
 * frames by hand and must agree. */
static gboolean
glib_takes (const uint8_t *payload,
            gsize          length)
{
  g_autoptr(GBytes) bytes = g_bytes_new (payload, length);
  g_autoptr(GVariant) message = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(yuv)"),
                                                                              bytes, FALSE));
  g_autoptr(GVariant) body = NULL;
  guchar kind;
  guint32 serial;

  /* GLib 2.74 reads past the end of a (yuv) of fewer than 4 bytes. */
  if (length < GATHER_HELPER_MIN_FRAME || !g_variant_is_normal_form (message))
    return FALSE;

  g_variant_get (message, "(yuv)", &kind, &serial, &body);

  return kind > 0 && kind < GATHER_HELPER_N_MESSAGES &&
         g_variant_is_of_type (body, gather_helper_message_body_type (kind));
}

static guint32
frame_length (const uint8_t *frame)
{
  guint32 length;

  memcpy (&length, frame, sizeof length);

  return GUINT32_FROM_LE (length);
}

static gboolean
has_frame_mark (const uint8_t *frame)
{
  guint32 mark;

  memcpy (&mark, frame + 4, sizeof mark);

  return GUINT32_FROM_LE (mark) == GATHER_HELPER_FRAME_MAGIC;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  gsize frame_start = 0;  /* where the next frame begins in @data */
  GatherFrameReader reader = { NULL, };
  gsize chunk = size > 0 ? 1 + data[0] % 97 : 1;
  gsize offset = 0;
  gboolean broken = FALSE;

  while (offset < size && !broken)
    {
      gsize available;
      guint8 *buffer = gather_frame_reader_reserve (&reader, &available);
      gsize n = MIN (MIN (chunk, available), size - offset);

      g_assert_true (available > 0);
      memcpy (buffer, data + offset, n);
      gather_frame_reader_commit (&reader, n);
      offset += n;

      for (;;)
        {
          g_autoptr(GVariant) body = NULL;
          g_autoptr(GError) error = NULL;
          GatherHelperMessage kind;
          guint32 serial;
          int ready = gather_frame_reader_next (&reader, &kind, &serial, &body, &error);

          if (ready == 0)
            {
              g_assert_no_error (error);
              break;
            }
          if (ready < 0)
            {
              /* The helper would be killed: nothing more is read. */
              g_assert_error (error, GATHER_ERROR, GATHER_ERROR_HELPER);
              g_assert_true (g_utf8_validate (error->message, -1, NULL));
              g_assert_null (body);

              /* A whole frame refused for its payload: GLib refuses it too. */
              if (size - frame_start >= GATHER_HELPER_HEADER_SIZE &&
                  has_frame_mark (data + frame_start) &&
                  frame_length (data + frame_start) <= GATHER_HELPER_MAX_FRAME &&
                  size - frame_start - GATHER_HELPER_HEADER_SIZE >= frame_length (data + frame_start))
                g_assert_false (glib_takes (data + frame_start + GATHER_HELPER_HEADER_SIZE,
                                            frame_length (data + frame_start)));
              broken = TRUE;
              break;
            }
          g_assert_no_error (error);

          /* Normal form is one way to write a value: what the reader took
           * is written back to the same bytes, and GLib takes them too. */
          {
            gsize length = frame_length (data + frame_start);
            g_autoptr(GBytes) again = gather_helper_frame_encode (kind, serial, body);

            g_assert_true (glib_takes (data + frame_start + GATHER_HELPER_HEADER_SIZE, length));

            g_assert_nonnull (again);
            g_assert_cmpmem (g_bytes_get_data (again, NULL), g_bytes_get_size (again),
                             data + frame_start, GATHER_HELPER_HEADER_SIZE + length);
            frame_start += GATHER_HELPER_HEADER_SIZE + length;
          }
          take_message (kind, body);
        }
    }

  gather_frame_reader_clear (&reader);
  return 0;
}

#ifndef GATHER_LIBFUZZER

/* Valid streams of frames, as helpers send them: the seed corpus. */
static GPtrArray *
make_seeds (void)
{
  GPtrArray *seeds = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Nothing here");
  GVariantBuilder catalog;
  GBytes *loading;
  GBytes *last;
  GByteArray *both;

  g_ptr_array_add (seeds, gather_helper_frame_encode (GATHER_HELPER_HELLO, 0,
                     g_variant_new ("(ut)", GATHER_HELPER_PROTOCOL_VERSION, (guint64) 4242)));
  g_ptr_array_add (seeds, gather_helper_frame_encode (GATHER_HELPER_RESULT, 7,
                     g_variant_new_string ("a result")));
  g_ptr_array_add (seeds, gather_helper_frame_encode (GATHER_HELPER_RESULT, 8,
                     g_variant_new_parsed ("{'sum': <uint64 42>, 'files': <['a', 'b']>}")));
  g_ptr_array_add (seeds, gather_helper_frame_encode (GATHER_HELPER_ERROR, 9,
                     gather_helper_error_to_variant (error)));

  g_variant_builder_init (&catalog, G_VARIANT_TYPE ("(a(ssssa(sssu)ay)a(ay(sis))a(ayay))"));
  g_variant_builder_add_parsed (&catalog,
    "[('sleep', 'Waits', 'a{sv}', 'v', [('ms', 'u', 'How long', uint32 1)], b'/p/gather-sleep.so')]");
  g_variant_builder_add_parsed (&catalog,
    "[(b'/p/gather-bad.so', ('gather-error-quark', 5, 'Could not load plugin'))]");
  g_variant_builder_add_parsed (&catalog, "[(b'/q/gather-sleep.so', b'/p/gather-sleep.so')]");
  loading = gather_helper_frame_encode (GATHER_HELPER_LOADING, 1, g_variant_new_bytestring ("/p/gather-sleep.so"));
  last = gather_helper_frame_encode (GATHER_HELPER_CATALOG, 1, g_variant_builder_end (&catalog));
  both = g_byte_array_new ();
  g_byte_array_append (both, g_bytes_get_data (loading, NULL), g_bytes_get_size (loading));
  g_byte_array_append (both, g_bytes_get_data (last, NULL), g_bytes_get_size (last));
  g_ptr_array_add (seeds, g_byte_array_free_to_bytes (both));
  g_bytes_unref (loading);
  g_bytes_unref (last);

  return seeds;
}

static GPtrArray *
read_dir (const char *path)
{
  GPtrArray *inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);
      char *contents;
      gsize length;

      if (g_file_get_contents (file, &contents, &length, NULL))
        g_ptr_array_add (inputs, g_bytes_new_take (contents, length));
    }

  return inputs;
}

/* A copy of @input with one to four mutations: bytes flipped or set to
 * values that matter here (lengths near 2^32, the frame mark, kinds),
 * cut short, or a piece repeated. */
static GByteArray *
mutate (GRand  *rand,
        GBytes *input)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (input, &size);
  GByteArray *out = g_byte_array_sized_new (size + 16);
  guint n = g_rand_int_range (rand, 1, 5);

  g_byte_array_append (out, data, size);
  for (guint i = 0; i < n && out->len > 0; i++)
    {
      guint at = g_rand_int_range (rand, 0, out->len);
      static const guint8 values[] = { 0x00, 0x01, 0x07, 0x08, 0x7f, 0x80, 0xfe, 0xff, 'G', 'T', 'H', '1' };

      switch (g_rand_int_range (rand, 0, 5))
        {
        case 0:
          out->data[at] ^= 1 << g_rand_int_range (rand, 0, 8);
          break;
        case 1:
          out->data[at] = values[g_rand_int_range (rand, 0, G_N_ELEMENTS (values))];
          break;
        case 2:
          g_byte_array_set_size (out, at);
          break;
        case 3:
          {
            /* MIN() evaluates its arguments twice: draw first. */
            guint wanted = g_rand_int_range (rand, 1, 32);
            guint length = MIN (out->len - at, wanted);
            g_autofree guint8 *piece = g_memdup2 (out->data + at, length);

            g_byte_array_append (out, piece, length);
          }
          break;
        default:
          out->data[at] = (guint8) g_rand_int_range (rand, 0, 256);
          break;
        }
    }

  return out;
}

int
main (int    argc,
      char **argv)
{
  static guint64 seed = 1;
  static guint64 iterations = 20000;
  static char *write_seeds;
  static const GOptionEntry entries[] = {
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the mutations", "N" },
    { "iterations", 0, 0, G_OPTION_ARG_INT64, &iterations, "How many mutations to run", "N" },
    { "write-seeds", 0, 0, G_OPTION_ARG_FILENAME, &write_seeds, "Write the seed corpus to DIR", "DIR" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("REGRESSIONS SEEDS");
  g_autoptr(GPtrArray) regressions = NULL;
  g_autoptr(GPtrArray) seeds = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    g_error ("%s", error->message);

  if (write_seeds != NULL)
    {
      g_autoptr(GPtrArray) made = make_seeds ();

      for (guint i = 0; i < made->len; i++)
        {
          g_autofree char *name = g_strdup_printf ("%s/seed-%u", write_seeds, i);
          GBytes *bytes = g_ptr_array_index (made, i);

          if (!g_file_set_contents (name, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error))
            g_error ("%s", error->message);
        }
      return 0;
    }

  if (argc != 3)
    g_error ("usage: fuzz-helper-frames [--seed N] [--iterations N] REGRESSIONS SEEDS");

  /* TAP: the regressions, the seeds as they are, then the mutations. */
  regressions = read_dir (argv[1]);
  seeds = read_dir (argv[2]);
  g_ptr_array_extend_and_steal (seeds, make_seeds ());
  g_print ("1..3\n");

  for (guint i = 0; i < regressions->len; i++)
    LLVMFuzzerTestOneInput (g_bytes_get_data (g_ptr_array_index (regressions, i), NULL),
                            g_bytes_get_size (g_ptr_array_index (regressions, i)));
  g_print ("ok 1 - %u regression inputs\n", regressions->len);

  for (guint i = 0; i < seeds->len; i++)
    LLVMFuzzerTestOneInput (g_bytes_get_data (g_ptr_array_index (seeds, i), NULL),
                            g_bytes_get_size (g_ptr_array_index (seeds, i)));
  g_print ("ok 2 - %u seed inputs\n", seeds->len);

  rand = g_rand_new_with_seed ((guint32) seed);
  for (guint64 i = 0; i < iterations; i++)
    {
      GBytes *input = g_ptr_array_index (seeds, g_rand_int_range (rand, 0, seeds->len));
      g_autoptr(GByteArray) mutated = mutate (rand, input);

      LLVMFuzzerTestOneInput (mutated->data, mutated->len);
    }
  g_print ("ok 3 - %" G_GUINT64_FORMAT " mutations (seed %" G_GUINT64_FORMAT ")\n", iterations, seed);

  return 0;
}

#endif
