/* fuzz-run-frame.c: fuzzes how the host writes a task's parameters into a
 * RUN frame (gather_helper_run_frame_new()), against GLib.
 *
 * A helper trusts its host's frames to be in normal form and does not
 * check them again, and the host writes a{sv} parameters by hand (see
 * gather-helper-protocol.c). So every a{sv} a program can hand over must
 * come out as the bytes GLib's serializer would write for its normal
 * form. The input is read as an a{sv} in any form (GLib takes any bytes
 * as one), and sent two ways: as it is, and rebuilt as a tree of values,
 * as a program builds parameters. Both frames must be GLib's frame byte
 * for byte, and read back to the same value.
 *
 * A libFuzzer target only (-Dfuzzing=true): the plain tests check the
 * same over seeded random dictionaries (test-helper-protocol.c), which
 * also reach the 4-byte offsets that inputs of at most 64 KiB cannot.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include <gio/gio.h>

#include "gather-error.h"
#include "gather-helper-protocol-private.h"
#include "test-helper-frames.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* What the frames carry besides the parameters. */
#define PLUGIN_PATH "/p/gather-x.so"
#define WORKER_NAME "w"
#define DECLARATION ((guint64) 0x1122334455667788)
#define MEMORY_LIMIT ((guint64) 2 << 20)
#define CPU_LIMIT ((guint32) 3)

/* The RUN frame of @parameters as GLib writes it, or NULL if it is larger
 * than a frame may be. */
static GBytes *
glib_run_frame (GVariant *parameters)
{
  g_autoptr(GBytes) frame = test_glib_frame (GATHER_HELPER_RUN, 0,
                                             g_variant_new ("(^aysvttu)", PLUGIN_PATH, WORKER_NAME,
                                                            parameters, MEMORY_LIMIT, DECLARATION,
                                                            CPU_LIMIT));

  if (g_bytes_get_size (frame) - GATHER_HELPER_HEADER_SIZE > GATHER_HELPER_MAX_FRAME)
    return NULL;

  return g_steal_pointer (&frame);
}

/* Reads @frame back as the helper does, trusting it, and checks that it
 * carries @normal. */
static void
read_back (GBytes   *frame,
           GVariant *normal)
{
  g_auto(GatherHelperRequest) request = { NULL, };
  g_autoptr(GVariant) body = NULL;
  g_autoptr(GError) error = NULL;
  GatherHelperMessage kind = 0;
  guint32 serial = 1;

  g_assert_cmpint (test_read_frame (frame, TRUE, &kind, &serial, &body, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpint (kind, ==, GATHER_HELPER_RUN);
  g_assert_cmpuint (serial, ==, 0);

  g_assert_true (gather_helper_run_parse (body, &request, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (request.plugin_path, ==, PLUGIN_PATH);
  g_assert_cmpstr (request.worker_name, ==, WORKER_NAME);
  g_assert_cmpuint (request.declaration, ==, DECLARATION);
  g_assert_cmpuint (request.memory_limit, ==, MEMORY_LIMIT);
  g_assert_cmpuint (request.cpu_limit, ==, CPU_LIMIT);
  /* (check() compared the bytes with GLib's normal form: the helper's
   * value is trusted, so asking it whether it is would prove nothing.) */
  g_assert_true (g_variant_equal (request.parameters, normal));
}

static void
check (GVariant *parameters,
       GVariant *normal,
       GBytes   *theirs)
{
  g_autoptr(GBytes) ours = gather_helper_run_frame_new (PLUGIN_PATH, WORKER_NAME, parameters,
                                                        DECLARATION, MEMORY_LIMIT, CPU_LIMIT);

  if (theirs == NULL)
    {
      g_assert_null (ours);
      return;
    }

  g_assert_nonnull (ours);
  g_assert_cmpmem (g_bytes_get_data (ours, NULL), g_bytes_get_size (ours),
                   g_bytes_get_data (theirs, NULL), g_bytes_get_size (theirs));
  read_back (ours, normal);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GVariant) parameters = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT,
                                                                                 bytes, FALSE));
  g_autoptr(GVariant) normal = g_variant_get_normal_form (parameters);
  g_autoptr(GBytes) theirs = glib_run_frame (normal);
  g_autoptr(GVariant) tree = NULL;
  GVariantBuilder builder;
  GVariantIter iter;
  GVariant *entry;

  /* As the bytes came. */
  check (parameters, normal, theirs);

  /* As a program builds parameters: a tree whose leaves are values. */
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, normal);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
      g_autoptr(GVariant) value = g_variant_get_variant (boxed);

      g_variant_builder_add (&builder, "{sv}", g_variant_get_string (key, NULL), value);
      g_variant_unref (entry);
    }
  tree = g_variant_ref_sink (g_variant_builder_end (&builder));
  check (tree, normal, theirs);

  return 0;
}
