/* fuzz-plugin-elf.c: fuzzes the ELF check the registry runs on a plugin
 * file before it is loaded (gather_plugin_file_check_elf()).
 *
 * Built with -DGATHER_LIBFUZZER and -fsanitize=fuzzer (clang), this is a
 * libFuzzer target. Otherwise it is a test program that runs the same
 * target on every file of the regression corpus (tests/fuzz/plugin-elf:
 * every input that ever crashed stays there) and on a bounded, seeded run
 * of mutations of real plugins, under whatever setup runs the tests
 * (valgrind, AddressSanitizer):
 *
 *   fuzz-plugin-elf [--seed N] [--iterations N] CORPUS_DIR PLUGIN...
 *
 * Each input is copied to a buffer of exactly its size, so that a read
 * past what the check may read is caught.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <link.h>
#include <stdint.h>
#include <string.h>

#include <gio/gio.h>

#include "gather-plugin-file-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* Checks @data as a whole file; returns whether it was accepted. */
static gboolean
run_one (const uint8_t *data,
         size_t         size)
{
  gsize head_len = MIN (size, GATHER_PLUGIN_FILE_HEAD_SIZE);
  g_autofree guint8 *head = g_memdup2 (data, head_len);
  g_autoptr(GError) error = NULL;
  gboolean accepted;

  accepted = gather_plugin_file_check_elf (head, head_len, size, "fuzz", &error);

  /* Exactly one of: accepted, or an error that says why. */
  g_assert_true (accepted == (error == NULL));
  if (accepted)
    g_assert_true (head_len >= sizeof (ElfW(Ehdr)) && memcmp (head, "\177ELF", 4) == 0);
  else
    g_assert_true (g_str_has_prefix (error->message, "Could not load plugin “fuzz”: "));

  return accepted;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  run_one (data, size);
  return 0;
}

#ifndef GATHER_LIBFUZZER

/* One mutation of @data in place: what damage to a plugin file looks like
 * (cut short, bytes flipped or overwritten in the headers), and what a
 * hostile header would hold (offsets and sizes near 2^64). */
static gsize
mutate (GRand  *rand,
        guint8 *data,
        gsize   size)
{
  gsize header_area = MIN (size, 4096);
  guint n = g_rand_int_range (rand, 1, 4);

  for (guint i = 0; i < n && header_area > 0; i++)
    {
      gsize at = g_rand_int_range (rand, 0, header_area);

      switch (g_rand_int_range (rand, 0, 4))
        {
        case 0:
          data[at] ^= 1 << g_rand_int_range (rand, 0, 8);
          break;
        case 1:
          data[at] = (guint8) g_rand_int (rand);
          break;
        case 2:
          {
            static const guint64 extremes[] = {
              0, 1, 0x7fffffff, 0xffffffff, G_MAXUINT64, G_MAXUINT64 - 63, 0x8000000000000000,
            };
            guint64 value = extremes[g_rand_int_range (rand, 0, G_N_ELEMENTS (extremes))];
            gsize length = MIN (sizeof value, size - at);

            memcpy (data + at, &value, length);
          }
          break;
        default:
          size = g_rand_int_range (rand, 0, size);
          header_area = MIN (size, header_area);
          break;
        }
    }

  return size;
}

static gboolean
read_file (const char  *path,
           guint8     **data,
           gsize       *size)
{
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (path, (char **) data, size, &error))
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }

  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  gint64 seed = 1;
  gint iterations = 3000;
  const GOptionEntry entries[] = {
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the mutations", "N" },
    { "iterations", 0, 0, G_OPTION_ARG_INT, &iterations, "Mutations per plugin", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("CORPUS_DIR PLUGIN...");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) corpus = NULL;
  g_autoptr(GRand) rand = NULL;
  const char *name;
  guint n_corpus = 0;
  guint test = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 3)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "Usage: fuzz-plugin-elf CORPUS_DIR PLUGIN...");
      return 2;
    }

  g_print ("1..%d\n", argc - 1);

  corpus = g_dir_open (argv[1], 0, &error);
  if (corpus == NULL)
    {
      g_print ("not ok %u - corpus: %s\n", ++test, error->message);
      return 1;
    }
  while ((name = g_dir_read_name (corpus)) != NULL)
    {
      g_autofree char *path = g_build_filename (argv[1], name, NULL);
      g_autofree guint8 *data = NULL;
      gsize size;

      if (!read_file (path, &data, &size))
        return 1;
      run_one (data, size);
      n_corpus++;
    }
  g_print ("ok %u - %u inputs of the regression corpus\n", ++test, n_corpus);

  rand = g_rand_new_with_seed ((guint32) seed);
  for (int i = 2; i < argc; i++)
    {
      g_autofree guint8 *original = NULL;
      g_autofree guint8 *data = NULL;
      guint n_accepted = 0;
      gsize size;

      if (!read_file (argv[i], &original, &size))
        return 1;
      if (!run_one (original, size))
        {
          g_print ("not ok %u - %s is refused unchanged\n", ++test, argv[i]);
          return 1;
        }

      data = g_malloc (MAX (size, 1));
      for (gint j = 0; j < iterations; j++)
        {
          gsize length;

          memcpy (data, original, size);
          length = mutate (rand, data, size);
          n_accepted += run_one (data, length);
        }

      g_print ("ok %u - %s: %d mutations (seed %" G_GINT64_FORMAT "), %u accepted\n",
               ++test, argv[i], iterations, seed, n_accepted);
    }

  return 0;
}

#endif
