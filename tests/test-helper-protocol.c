/* test-helper-protocol.c: the frames between the host and its helpers are
 * built and read by hand; their bytes must be GLib's normal form of the
 * same (yuv), and the reader must refuse what is not.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "gather-error.h"
#include "gather-helper-protocol-private.h"
#include "test-helper-frames.h"

static void
assert_same_bytes (GBytes *ours,
                   GBytes *theirs)
{
  gsize our_size, their_size;
  const guint8 *our_data = g_bytes_get_data (ours, &our_size);
  const guint8 *their_data = g_bytes_get_data (theirs, &their_size);

  g_assert_cmpmem (our_data, our_size, their_data, their_size);
}

static GVariant *
bodies_of_every_shape (guint i)
{
  g_autofree char *long_string = g_strnfill (70000, 'x');

  switch (i)
    {
    case 0: return g_variant_new_string ("a result");
    case 1: return g_variant_new_string ("");
    case 2: return g_variant_new_parsed ("{'sum': <uint64 42>, 'files': <['a', 'b']>}");
    case 3: return g_variant_new_parsed ("@a{sv} {}");
    case 4: return g_variant_new_parsed ("()");
    case 5: return g_variant_new_parsed ("@as []");
    case 6: return g_variant_new_uint64 (G_GUINT64_CONSTANT (0x0102030405060708));
    case 7: return g_variant_new_byte (0);
    case 8: return g_variant_new_variant (g_variant_new_variant (g_variant_new_int32 (-1)));
    case 9: return g_variant_new_string (long_string);
    case 10: return g_variant_new_parsed ("[(b'/p/x.so', ('gather-error-quark', 5, 'No'))]");
    case 11: return g_variant_new_parsed ("@mv nothing");
    default: return NULL;
    }
}

static void
test_protocol_encode (void)
{
  g_test_summary ("A frame's bytes are GLib's normal form of the same (yuv), whatever "
                  "the body, and the reader gives back the kind, serial and body");

  for (guint i = 0; ; i++)
    {
      g_autoptr(GVariant) body = bodies_of_every_shape (i);
      g_autoptr(GBytes) ours = NULL;
      g_autoptr(GBytes) theirs = NULL;
      guint32 serial = 0x01020304u + i;

      if (body == NULL)
        break;
      g_variant_ref_sink (body);
      ours = gather_helper_frame_encode (GATHER_HELPER_RESULT, serial, body);
      theirs = test_glib_frame (GATHER_HELPER_RESULT, serial, body);
      assert_same_bytes (ours, theirs);

      for (int trusted = 0; trusted <= 1; trusted++)
        {
          g_autoptr(GVariant) read = NULL;
          g_autoptr(GError) error = NULL;
          GatherHelperMessage kind = 0;
          guint32 read_serial = 0;

          g_assert_cmpint (test_read_frame (ours, trusted, &kind, &read_serial, &read, &error), ==, 1);
          g_assert_no_error (error);
          g_assert_cmpint (kind, ==, GATHER_HELPER_RESULT);
          g_assert_cmpuint (read_serial, ==, serial);
          g_assert_true (g_variant_equal (read, body));
        }
    }
}

static void
test_protocol_run_frame (void)
{
  /* Paths long enough for offsets of 1, 2 and 4 bytes, and the edges. */
  const gsize path_lengths[] = { 1, 10, 200, 240, 250, 255, 300, 65000, 65520, 65535, 70000 };
  const char *parameters[] = {
    "@a{sv} {}",
    "{'value': <'x'>}",
    "{'ms': <uint32 10>, 'argv': <[b'/bin/true']>, 'deep': <<<int64 -1>>>}",
    /* A worker may take parameters of any type. */
    "'a string'",
    "uint32 7",
    "('name', uint32 3)",
    "[{'not': <'a vardict'>}, {'but': <'an array of them'>}]",
    "@a{ss} {'k': 'v'}",
  };

  g_test_summary ("A RUN frame built by hand is GLib's (aysvttu) byte for byte, with "
                  "offsets of every size, and the helper reads back what it asks for");

  for (gsize p = 0; p < G_N_ELEMENTS (path_lengths); p++)
    for (gsize q = 0; q < G_N_ELEMENTS (parameters); q++)
      {
        g_autofree char *path = g_strnfill (path_lengths[p], 'p');
        const char *name = q % 2 ? "isolate-echo" : "w";
        guint64 memory_limit = p % 2 ? G_GUINT64_CONSTANT (0x8877665544332211) : 0;
        guint32 cpu_limit = q == 1 ? 0xfedcba98u : 0;
        guint64 declaration = G_GUINT64_CONSTANT (0xa1b2c3d4e5f60718) + p;
        g_autoptr(GVariant) params = g_variant_ref_sink (g_variant_new_parsed (parameters[q]));
        g_autoptr(GBytes) ours = gather_helper_run_frame_new (path, name, params, declaration,
                                                              memory_limit, cpu_limit);
        g_autoptr(GBytes) theirs = test_glib_frame (GATHER_HELPER_RUN, 0,
                                               g_variant_new ("(^aysvttu)", path, name, params,
                                                              memory_limit, declaration, cpu_limit));
        g_autoptr(GVariant) body = NULL;
        g_autoptr(GError) error = NULL;
        g_auto(GatherHelperRequest) request = { NULL, };
        GatherHelperMessage kind = 0;
        guint32 serial = 1;

        assert_same_bytes (ours, theirs);

        g_assert_cmpint (test_read_frame (ours, TRUE, &kind, &serial, &body, &error), ==, 1);
        g_assert_no_error (error);
        g_assert_cmpint (kind, ==, GATHER_HELPER_RUN);
        g_assert_cmpuint (serial, ==, 0);
        g_assert_true (gather_helper_run_parse (body, &request, &error));
        g_assert_no_error (error);
        g_assert_cmpstr (request.plugin_path, ==, path);
        g_assert_cmpstr (request.worker_name, ==, name);
        g_assert_true (g_variant_equal (request.parameters, params));
        g_assert_cmpuint (request.memory_limit, ==, memory_limit);
        g_assert_cmpuint (request.declaration, ==, declaration);
        g_assert_cmpuint (request.cpu_limit, ==, cpu_limit);
      }
}

/* A value of a random type and size, as a program might put in its
 * parameters: leaves, containers built as trees, and values made from
 * bytes (as a parser or a binding may hand over), in or out of normal
 * form. */
static GVariant *
random_value (GRand *rand,
              guint  depth)
{
  switch (g_rand_int_range (rand, 0, depth < 3 ? 14 : 9))
    {
    case 0: return g_variant_new_uint32 (g_rand_int (rand));
    case 1: return g_variant_new_int64 ((gint64) g_rand_int (rand) << 20);
    case 2: return g_variant_new_boolean (g_rand_boolean (rand));
    case 3: return g_variant_new_byte ((guchar) g_rand_int (rand));
    case 4: return g_variant_new_double (g_rand_double (rand));
    case 5:
      {
        /* Long enough, now and then, for offsets of 2 and 4 bytes. */
        gsize length = g_rand_int_range (rand, 0, 8) == 0 ? g_rand_int_range (rand, 250, 70000)
                                                          : g_rand_int_range (rand, 0, 20);
        g_autofree char *string = g_strnfill (length, 'a' + g_rand_int_range (rand, 0, 26));

        return g_variant_new_string (string);
      }
    case 6:
      {
        gsize length = g_rand_int_range (rand, 0, 600);
        g_autofree guint8 *bytes = g_malloc (length + 1);

        for (gsize i = 0; i < length; i++)
          bytes[i] = (guint8) g_rand_int (rand);
        return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes, length, 1);
      }
    case 7: return g_variant_new_parsed ("()");
    case 8:
      {
        /* From bytes, in normal form or not (GLib copies them as they are). */
        gsize length = g_rand_int_range (rand, 0, 24);
        guint8 *bytes = g_malloc (length + 1);

        for (gsize i = 0; i < length; i++)
          bytes[i] = (guint8) g_rand_int (rand);
        return g_variant_new_from_data (G_VARIANT_TYPE ("(sqas)"), bytes, length, FALSE, g_free, bytes);
      }
    case 9: return g_variant_new_variant (random_value (rand, depth + 1));
    case 10:
      return g_variant_new_maybe (G_VARIANT_TYPE_STRING,
                                  g_rand_boolean (rand) ? g_variant_new_string ("just") : NULL);
    case 11:
      {
        GVariant *children[2] = { random_value (rand, depth + 1), random_value (rand, depth + 1) };

        return g_variant_new_tuple (children, 2);
      }
    case 12:
      {
        g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_STRING_ARRAY);
        guint n = g_rand_int_range (rand, 0, 5);

        for (guint i = 0; i < n; i++)
          g_variant_builder_add (builder, "s", i % 2 ? "odd" : "");
        return g_variant_builder_end (builder);
      }
    default:
      {
        g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
        guint n = g_rand_int_range (rand, 0, 4);

        for (guint i = 0; i < n; i++)
          g_variant_builder_add (builder, "{sv}", "inner", random_value (rand, depth + 1));
        return g_variant_builder_end (builder);
      }
    }
}

/* An a{sv} of @n entries (keys may repeat: GVariant allows it). */
static GVariant *
random_parameters (GRand *rand,
                   guint  n)
{
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);

  for (guint i = 0; i < n; i++)
    {
      gsize length;
      g_autofree char *key = NULL;

      switch (g_rand_int_range (rand, 0, 16))
        {
        case 0: length = 0; break;
        case 1: length = g_rand_int_range (rand, 240, 300); break;
        case 2: length = g_rand_int_range (rand, 65500, 70000); break;
        default: length = g_rand_int_range (rand, 1, 12); break;
        }
      key = g_strnfill (length, 'k');
      if (length > 0)
        key[0] = 'a' + i % 26;
      g_variant_builder_add (builder, "{sv}", key, random_value (rand, 0));
    }

  return g_variant_builder_end (builder);
}

static void
test_protocol_run_frame_parameters (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);

  g_test_summary ("Parameters written into a RUN frame by hand are GLib's normal form "
                  "byte for byte, as a tree of values or serialized, with 0 to 40 "
                  "entries, offsets of every size, and values of every kind; "
                  "parameters made from bytes not in normal form are sent in it");

  for (guint i = 0; i < 300; i++)
    {
      guint n = i < 41 ? i : (guint) g_rand_int_range (rand, 0, 41);
      g_autoptr(GVariant) params = g_variant_ref_sink (random_parameters (rand, n));
      /* The helper trusts the host's frames: what goes in them is in
       * normal form, whatever the parameters were made of. */
      g_autoptr(GVariant) normal = g_variant_get_normal_form (params);
      g_autoptr(GBytes) theirs = test_glib_frame (GATHER_HELPER_RUN, 0,
                                             g_variant_new ("(^aysvttu)", "/p/x.so", "w", normal,
                                                            (guint64) 1, (guint64) i, (guint32) 2));

      /* As the program built it, then as it is once serialized. */
      for (int serialized = 0; serialized <= 1; serialized++)
        {
          g_autoptr(GBytes) ours = NULL;
          g_autoptr(GVariant) body = NULL;
          g_autoptr(GError) error = NULL;
          g_auto(GatherHelperRequest) request = { NULL, };
          GatherHelperMessage kind = 0;
          guint32 serial = 1;

          if (serialized)
            g_variant_get_data (params);
          ours = gather_helper_run_frame_new ("/p/x.so", "w", params, i, 1, 2);
          assert_same_bytes (ours, theirs);

          g_assert_cmpint (test_read_frame (ours, TRUE, &kind, &serial, &body, &error), ==, 1);
          g_assert_no_error (error);
          g_assert_true (gather_helper_run_parse (body, &request, &error));
          g_assert_no_error (error);
          /* (The bytes above are GLib's normal form: the helper's value is
           * trusted, so asking it would prove nothing.) */
          g_assert_true (g_variant_equal (request.parameters, normal));
        }
    }
}

static void
test_protocol_run_frame_too_large (void)
{
  g_autofree char *path = g_strnfill (GATHER_HELPER_MAX_FRAME, 'p');
  g_autoptr(GVariant) params = g_variant_ref_sink (g_variant_new_parsed ("@a{sv} {}"));

  g_test_summary ("A RUN frame past the largest payload is not built");

  g_assert_null (gather_helper_run_frame_new (path, "w", params, 0, 0, 0));
  path[GATHER_HELPER_MAX_FRAME - 64] = '\0';
  g_bytes_unref (gather_helper_run_frame_new (path, "w", params, 0, 0, 0));
}

/* A (aysvttu) of these bytes, as a helper's reader would hand it over. */
static GVariant *
run_body_of (const guint8 *data,
             gsize         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);

  return g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(aysvttu)"), bytes, TRUE));
}

static void
test_protocol_run_parse_bad (void)
{
  g_autoptr(GVariant) params = g_variant_ref_sink (g_variant_new_parsed ("{'value': <'x'>}"));
  g_autoptr(GBytes) frame = gather_helper_run_frame_new ("/p/x.so", "echo", params, 3, 1, 2);
  gsize frame_size;
  const guint8 *frame_data = g_bytes_get_data (frame, &frame_size);
  /* The body: past the header and the (yuv)'s first 8 bytes, up to its
   * own separator and type string. */
  const guint8 *good = frame_data + GATHER_HELPER_HEADER_SIZE + 8;
  gsize good_size = frame_size - GATHER_HELPER_HEADER_SIZE - 8 - 1 - strlen ("(aysvttu)");
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);

  g_test_summary ("A RUN body whose offsets, strings or parameters are wrong is a "
                  "bad frame, never a crash");

  {
    g_autoptr(GVariant) body = run_body_of (good, good_size);
    g_auto(GatherHelperRequest) request = { NULL, };
    g_autoptr(GError) error = NULL;

    g_assert_true (gather_helper_run_parse (body, &request, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (request.worker_name, ==, "echo");
  }

  /* Every size shorter than the good one, and bytes changed at random. */
  for (gsize size = 0; size < good_size; size++)
    {
      g_autoptr(GVariant) body = run_body_of (good, size);
      g_auto(GatherHelperRequest) request = { NULL, };
      g_autoptr(GError) error = NULL;

      g_assert_false (gather_helper_run_parse (body, &request, &error));
      g_assert_error (error, GATHER_ERROR, GATHER_ERROR_HELPER);
      g_assert_null (request.parameters);
    }

  for (guint i = 0; i < 5000; i++)
    {
      g_autofree guint8 *copy = g_memdup2 (good, good_size);
      g_autoptr(GVariant) body = NULL;
      g_auto(GatherHelperRequest) request = { NULL, };
      g_autoptr(GError) error = NULL;

      for (guint n = g_rand_int_range (rand, 1, 4); n > 0; n--)
        copy[g_rand_int_range (rand, 0, good_size)] = (guint8) g_rand_int_range (rand, 0, 256);
      body = run_body_of (copy, good_size);
      if (gather_helper_run_parse (body, &request, &error))
        {
          g_assert_no_error (error);
          g_assert_nonnull (request.parameters);
          g_assert_cmpuint (strlen (request.plugin_path), <, good_size);
          g_assert_cmpuint (strlen (request.worker_name), <, good_size);
        }
      else
        {
          g_assert_error (error, GATHER_ERROR, GATHER_ERROR_HELPER);
        }
    }
}

/* A frame of @payload, as a helper would send it. */
static GBytes *
frame_of (const char *payload,
          gsize       size)
{
  guint32 header[2] = { GUINT32_TO_LE ((guint32) size), GUINT32_TO_LE (GATHER_HELPER_FRAME_MAGIC) };
  GByteArray *frame = g_byte_array_new ();

  g_byte_array_append (frame, (const guint8 *) header, sizeof header);
  g_byte_array_append (frame, (const guint8 *) payload, (guint) size);

  return g_byte_array_free_to_bytes (frame);
}

static void
test_protocol_reader_refuses (void)
{
  /* Each a (yuv) GLib would not take as normal form, as payload bytes. */
  static const struct { const char *payload; gsize size; const char *what; } bad[] = {
    { "\3\1\0\0\7\0\0\0hi\0\0s", 13, "padding that is not 0" },
    { "\3\0\0\0\7\0\0\0hi\0sss", 12, "no separator" },
    { "\3\0\0\0\7\0\0\0hi\0\0(s", 13, "a type string that does not end" },
    { "\3\0\0\0\7\0\0\0hi\0\0ss", 14, "two types for one value" },
    { "\3\0\0\0\7\0\0\0hi\0\0*", 13, "an indefinite type" },
    { "\3\0\0\0\7\0\0\0\1\2\3\0u", 13, "a uint32 of 3 bytes" },
    { "\3\0\0\0\7\0\0\0hi\0s", 12, "a string with no 0 at its end" },
    { "\3\0\0\0\7\0\0\0\0", 9, "no type string" },
    { "\3\0\0\0\7\0\0\0\2\0b", 11, "a boolean of 2" },
  };

  g_test_summary ("The reader refuses a frame that is not GLib's normal form of a (yuv)");

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GBytes) frame = frame_of (bad[i].payload, bad[i].size);
      g_autoptr(GVariant) reference = NULL;
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) payload = g_bytes_new (bad[i].payload, bad[i].size);
      g_autofree char *message = g_strdup_printf ("a frame of %" G_GSIZE_FORMAT " bytes is not a message",
                                                  bad[i].size);
      GatherHelperMessage kind;
      guint32 serial;

      g_test_message ("%s", bad[i].what);

      /* GLib agrees that it is not a message. */
      reference = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(yuv)"), payload, FALSE));
      g_assert_false (g_variant_is_normal_form (reference));

      g_assert_cmpint (test_read_frame (frame, FALSE, &kind, &serial, &body, &error), ==, -1);
      g_assert_error (error, GATHER_ERROR, GATHER_ERROR_HELPER);
      g_assert_cmpstr (error->message, ==, message);
      g_assert_null (body);
    }
}

static void
test_protocol_reader_refuses_deep (void)
{
  guint n_taken = 0, n_refused = 0;

  g_test_summary ("The reader refuses a body nested deeper than GLib allows in a frame, "
                  "though GLib would take it alone");

  /* Empty arrays of arrays, 120 to 130 deep; GLib takes 128 levels in all,
   * and the body is two levels down in the frame. */
  for (guint depth = 120; depth <= 130; depth++)
    {
      g_autofree char *type = g_strnfill (depth, 'a');
      g_autofree char *typed = g_strconcat (type, "y", NULL);
      GByteArray *bytes = g_byte_array_new ();
      g_autoptr(GBytes) payload_bytes = NULL;
      g_autoptr(GBytes) frame = NULL;
      g_autoptr(GVariant) reference = NULL;
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GError) error = NULL;
      GatherHelperMessage kind;
      guint32 serial;
      int ready;

      g_byte_array_append (bytes, (const guint8 *) "\3\0\0\0\7\0\0\0\0", 9);
      g_byte_array_append (bytes, (const guint8 *) typed, (guint) strlen (typed));
      payload_bytes = g_byte_array_free_to_bytes (bytes);
      frame = frame_of (g_bytes_get_data (payload_bytes, NULL), g_bytes_get_size (payload_bytes));

      reference = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(yuv)"), payload_bytes, FALSE));
      ready = test_read_frame (frame, FALSE, &kind, &serial, &body, &error);
      if (g_variant_is_normal_form (reference))
        {
          g_assert_cmpint (ready, ==, 1);
          g_assert_no_error (error);
          g_assert_cmpstr (g_variant_get_type_string (body), ==, typed);
          n_taken++;
        }
      else
        {
          g_assert_cmpint (ready, ==, -1);
          g_assert_error (error, GATHER_ERROR, GATHER_ERROR_HELPER);
          n_refused++;
        }
    }

  /* Both sides of GLib's limit were tried. */
  g_assert_cmpuint (n_taken, >, 0);
  g_assert_cmpuint (n_refused, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/gather/helper-protocol/encode", test_protocol_encode);
  g_test_add_func ("/gather/helper-protocol/run-frame", test_protocol_run_frame);
  g_test_add_func ("/gather/helper-protocol/run-frame-parameters", test_protocol_run_frame_parameters);
  g_test_add_func ("/gather/helper-protocol/run-frame-too-large", test_protocol_run_frame_too_large);
  g_test_add_func ("/gather/helper-protocol/run-parse-bad", test_protocol_run_parse_bad);
  g_test_add_func ("/gather/helper-protocol/reader-refuses", test_protocol_reader_refuses);
  g_test_add_func ("/gather/helper-protocol/reader-refuses-deep", test_protocol_reader_refuses_deep);

  return g_test_run ();
}
