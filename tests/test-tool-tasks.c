/* test-tool-tasks.c: the gather command's task reader, called directly:
 * every declared type from an argument and from JSON, the limits, and
 * the JSON writer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "gather-tool-json.h"
#include "gather-tool-output.h"
#include "gather-tool-tasks.h"
#include "tool-test-workers.h"

static GatherRegistry *registry;

/* The parameters of the one task in @text, a task file; printed with
 * their types. */
static char *
parse_file_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) specs = gather_task_parse_file (registry, "tasks.json", text,
                                                       strlen (text), &error);
  GatherTaskSpec *spec;

  g_assert_no_error (error);
  g_assert_cmpuint (specs->len, ==, 1);
  spec = g_ptr_array_index (specs, 0);

  return g_variant_print (spec->parameters, TRUE);
}

static void
parse_file_fails (const char *text,
                  const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) specs = gather_task_parse_file (registry, "tasks.json", text,
                                                       strlen (text), &error);

  g_assert_null (specs);
  g_assert_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID);
  if (strstr (error->message, message) == NULL)
    g_error ("“%s” is not in “%s”", message, error->message);
  g_assert_true (g_str_has_prefix (error->message, "tasks.json: "));
}

static char *
parse_argument_ok (const char *argument)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GatherTaskSpec) spec = gather_task_parse_argument (registry, argument, &error);

  g_assert_no_error (error);
  return g_variant_print (spec->parameters, TRUE);
}

static void
parse_argument_fails (const char *argument,
                      const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GatherTaskSpec) spec = gather_task_parse_argument (registry, argument, &error);

  g_assert_null (spec);
  g_assert_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID);
  if (strstr (error->message, message) == NULL)
    g_error ("“%s” is not in “%s”", message, error->message);
}

static void
test_tasks_types_from_json (void)
{
  static const struct {
    const char *json;      /* the other parameters, after "uint32": 1 */
    const char *expected;  /* g_variant_print (…, TRUE) of them all */
  } cases[] = {
    { "", "{'uint32': <uint32 1>}" },
    { ", \"byte\": 255, \"int16\": -32768, \"uint16\": 65535",
      "{'uint32': <uint32 1>, 'byte': <byte 0xff>, 'int16': <int16 -32768>, 'uint16': <uint16 65535>}" },
    { ", \"int32\": -2147483648, \"int64\": -9223372036854775808, \"uint64\": 18446744073709551615",
      "{'uint32': <uint32 1>, 'int32': <-2147483648>, 'int64': <int64 -9223372036854775808>, 'uint64': <uint64 18446744073709551615>}" },
    { ", \"double\": -1.5e-3, \"boolean\": true", "{'uint32': <uint32 1>, 'double': <-0.0015>, 'boolean': <true>}" },
    { ", \"double\": 3", "{'uint32': <uint32 1>, 'double': <3.0>}" },
    { ", \"string\": \"\\u00e9\\ud83d\\ude00\\\"\", \"path\": \"/org/x\", \"signature\": \"a{sv}\"",
      "{'uint32': <uint32 1>, 'string': <'é😀\"'>, 'path': <objectpath '/org/x'>, 'signature': <signature 'a{sv}'>}" },
    { ", \"bytes\": \"caf\\u00e9\"", "{'uint32': <uint32 1>, 'bytes': <b'caf\\303\\251'>}" },
    { ", \"bytes\": [99, 97, 102, 233]", "{'uint32': <uint32 1>, 'bytes': <b'caf\\351'>}" },
    { ", \"bytes\": []", "{'uint32': <uint32 1>, 'bytes': <b''>}" },
    { ", \"words\": [\"ls\", [47, 233]]", "{'uint32': <uint32 1>, 'words': <[b'ls', b'/\\351']>}" },
    { ", \"strings\": [], \"numbers\": [1, -2]", "{'uint32': <uint32 1>, 'strings': <@as []>, 'numbers': <[1, -2]>}" },
    { ", \"dict\": { \"a\": 1, \"b\": [true, \"x\"] }",
      "{'uint32': <uint32 1>, 'dict': <{'a': <int64 1>, 'b': <[<true>, <'x'>]>}>}" },
    { ", \"counts\": { \"a\": 1 }, \"keyed\": { \"7\": 0.5 }",
      "{'uint32': <uint32 1>, 'counts': <{'a': uint32 1}>, 'keyed': <{uint32 7: 0.5}>}" },
    { ", \"tuple\": [\"x\", 2], \"maybe\": null", "{'uint32': <uint32 1>, 'tuple': <('x', 2)>, 'maybe': <@mi nothing>}" },
    { ", \"maybe\": 3, \"variant\": \"v\", \"any\": 2.5", "{'uint32': <uint32 1>, 'maybe': <@mi 3>, 'variant': <<'v'>>, 'any': <2.5>}" },
    { ", \"any\": 9223372036854775808", "{'uint32': <uint32 1>, 'any': <uint64 9223372036854775808>}" },
    { ", \"nested\": [[\"a\", { \"k\": false }]]", "{'uint32': <uint32 1>, 'nested': <[('a', {'k': <false>})]>}" },
  };

  g_test_summary ("Every declared type is read from JSON, exactly, in range");
  g_test_bug ("9");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("[{ \"worker\": \"types\", \"parameters\": "
                                               "{ \"uint32\": 1%s } }]", cases[i].json);
      g_autofree char *printed = parse_file_ok (text);

      g_assert_cmpstr (printed, ==, cases[i].expected);
    }
}

static void
test_tasks_types_from_text (void)
{
  static const struct {
    const char *argument;
    const char *expected;
  } cases[] = {
    { "types uint32=4294967295 byte=0 int16=-1 uint64=18446744073709551615",
      "{'uint32': <uint32 4294967295>, 'byte': <byte 0x00>, 'int16': <int16 -1>, 'uint64': <uint64 18446744073709551615>}" },
    { "types uint32=1 double=1e308 boolean=false string='two words'",
      "{'uint32': <uint32 1>, 'double': <1e+308>, 'boolean': <false>, 'string': <'two words'>}" },
    { "types uint32=1 bytes=caf\xe9 words='ls -l /caf\xe9'",
      "{'uint32': <uint32 1>, 'bytes': <b'caf\\351'>, 'words': <[b'ls', b'-l', b'/caf\\351']>}" },
    { "types uint32=1 strings='a b' numbers='[1, 2]'", "{'uint32': <uint32 1>, 'strings': <['a', 'b']>, 'numbers': <[1, 2]>}" },
    { "types uint32=1 strings=\"['x y']\"", "{'uint32': <uint32 1>, 'strings': <['x y']>}" },
    { "types uint32=1 any=7 variant=word", "{'uint32': <uint32 1>, 'any': <7>, 'variant': <<'word'>>}" },
    { "types uint32=1 tuple=\"('a', 1)\" maybe=nothing", "{'uint32': <uint32 1>, 'tuple': <('a', 1)>, 'maybe': <@mi nothing>}" },
    { "types uint32=1 words=", "{'uint32': <uint32 1>, 'words': <@aay []>}" },
    { "types uint32=1 tuple=\"('\\u00e9\\U0001F600', 1)\"", "{'uint32': <uint32 1>, 'tuple': <('é😀', 1)>}" },
  };

  g_test_summary ("Every declared type is read from KEY=VALUE text: bytes as "
                  "they are for ay, words for aay and as, decimal numbers");
  g_test_bug ("9");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *printed = parse_argument_ok (cases[i].argument);

      g_assert_cmpstr (printed, ==, cases[i].expected);
    }
}

static void
test_tasks_bad_values (void)
{
  static const struct {
    const char *argument;
    const char *json;
    const char *message;
  } cases[] = {
    { "types uint32=-1", "\"uint32\": -1", "key “uint32”: -1 is out of range for type “u” (0 to 4294967295)" },
    { "types uint32=1 byte=256", "\"uint32\": 1, \"byte\": 256", "key “byte”: 256 is out of range for type “y” (0 to 255)" },
    { "types uint32=1 int16=-32769", "\"uint32\": 1, \"int16\": -32769", "-32769 is out of range for type “n” (-32768 to 32767)" },
    { "types uint32=1 int64=-9223372036854775809", "\"uint32\": 1, \"int64\": -9223372036854775809", "out of range for type “x”" },
    { "types uint32=1 uint64=18446744073709551616", "\"uint32\": 1, \"uint64\": 18446744073709551616", "out of range for type “t”" },
    { "types uint32=1 uint64=99999999999999999999999", "\"uint32\": 1, \"uint64\": 99999999999999999999999", "out of range for type “t”" },
    { "types uint32=1 double=1e999", "\"uint32\": 1, \"double\": -1e999", "is out of range for type “d”" },
    { "types uint32=1 int32=0x10", NULL, "“0x10” is not a number, as type “i” needs" },
    { "types uint32=1 double=nan", NULL, "“nan” is not a number, as type “d” needs" },
    { "types uint32=1 boolean=yes", "\"uint32\": 1, \"boolean\": \"yes\"", "boolean" },
    { "types uint32=1 path=nope", "\"uint32\": 1, \"path\": \"nope\"", "“nope” is not a D-Bus object path" },
    { "types uint32=1 signature=(", "\"uint32\": 1, \"signature\": \"(\"", "is not a D-Bus signature" },
    { "types uint32=1 handle=1", "\"uint32\": 1, \"handle\": 1", "a value of type “h” cannot be given to gather" },
    { "types uint32=1 tuple=\"('a')\"", "\"uint32\": 1, \"tuple\": [\"a\"]", "(si)" },
    { "types uint32=1 counts=x", "\"uint32\": 1, \"counts\": { \"a\": -1 }", "counts" },
    { NULL, "\"uint32\": 1, \"keyed\": { \"x\": 1 }", "key “keyed”: “x” is not a number, as type “u” needs" },
    { NULL, "\"uint32\": 1, \"strings\": [1]", "type “s” needs a string, not a number" },
    { NULL, "\"uint32\": 1, \"any\": [null]", "null cannot be passed on" },
    { "types uint32=1 string=caf\xe9", NULL, "“caf\\xE9” is not valid UTF-8 (byte 0xE9), as type “s” needs" },
    { "pair x=1", "", "worker “pair” takes parameters of type “(su)”" },
    /* GLib 2.74's parser fails a critical on these (a fuzzer found it). */
    { "types uint32=1 any=\"['\\ud800']\"", NULL,
      "key “any”: the escape \\uD800 in a string names no Unicode character" },
    { "types uint32=1 variant=\"'\\U00110000'\"", NULL,
      "key “variant”: the escape \\U00110000 in a string names no Unicode character" },
    { "types uint32=1 tuple=\"('\\uDFFF', 1)\"", NULL, "the escape \\uDFFF in a string" },
  };

  g_test_summary ("Out of range, wrong type, bad text: refused with the key and "
                  "what is wrong, from text and from JSON alike");
  g_test_bug ("9");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      if (cases[i].argument != NULL)
        parse_argument_fails (cases[i].argument, cases[i].message);
      if (cases[i].json != NULL && *cases[i].json != '\0')
        {
          g_autofree char *text = g_strdup_printf ("[{ \"worker\": \"types\", \"parameters\": { %s } }]",
                                                   cases[i].json);

          parse_file_fails (text, cases[i].message);
        }
    }
}

static void
test_tasks_non_vardict (void)
{
  g_autofree char *printed = parse_file_ok ("[{ \"worker\": \"pair\", \"parameters\": [\"a\", 1] }]");

  g_test_summary ("A worker whose parameters are not a{sv} takes them whole from JSON");

  g_assert_cmpstr (printed, ==, "('a', uint32 1)");
  parse_file_fails ("[{ \"worker\": \"pair\" }]", "the key “parameters” is missing: worker “pair” takes parameters of type “(su)”");
  parse_file_fails ("[{ \"worker\": \"pair\", \"parameters\": [\"a\", -1] }]", "-1 is out of range");
}

static void
test_tasks_depth_limit (void)
{
  GString *text = g_string_new ("[{ \"worker\": \"types\", \"parameters\": { \"uint32\": 1, \"any\": ");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) specs = NULL;
  gsize length;

  g_test_summary ("JSON nested 64 deep is read; 65 deep is refused, naming the limit");
  g_test_bug ("9");

  /* The task array, the task and its parameters are 3 levels. */
  for (guint i = 0; i < 61; i++)
    g_string_append_c (text, '[');
  for (guint i = 0; i < 61; i++)
    g_string_append_c (text, ']');
  g_string_append (text, " } }]");
  specs = gather_task_parse_file (registry, "deep", text->str, text->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (specs->len, ==, 1);
  g_clear_pointer (&specs, g_ptr_array_unref);

  length = text->len;
  g_string_insert_c (text, length - 5 - 61, '[');
  g_string_insert_c (text, length - 5 + 1, ']');
  specs = gather_task_parse_file (registry, "deep", text->str, text->len, &error);
  g_assert_null (specs);
  g_assert_error (error, GATHER_TASK_ERROR, GATHER_TASK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "nested more than 64 deep"));

  g_string_free (text, TRUE);
}

static void
test_tasks_json_writer (void)
{
  static const struct {
    const char *variant;
    const char *json;
  } cases[] = {
    { "@d 1e17", "1e+17" },
    { "@d 1e20", "1e+20" },
    { "@d -1.5", "-1.5" },
    { "@d 0.1", "0.1" },
    { "@t 18446744073709551615", "18446744073709551615" },
    { "@x -9223372036854775808", "-9223372036854775808" },
    { "@ay [0x61, 0x00, 0xff]", "[97,0,255]" },
    { "{'a': <1>, 'a': <2>}", "{\"a\":1}" },
    { "{1: 'x', 2: 'y'}", "{\"1\":\"x\",\"2\":\"y\"}" },
    { "('a\\u0001\"\\\\', @mi nothing, <<true>>)", "[\"a\\u0001\\\"\\\\\",null,true]" },
    { "@a{sv} {}", "{}" },
  };
  GString *out = g_string_new (NULL);

  g_test_summary ("The JSON writer: shortest doubles that read back, 64-bit "
                  "integers in full, NaN and infinities as strings, bytes not "
                  "UTF-8 as U+FFFD, the first of two equal keys");
  g_test_bug ("9");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GVariant) value = g_variant_parse (NULL, cases[i].variant, NULL, NULL, NULL);

      g_assert_nonnull (value);
      g_string_truncate (out, 0);
      gather_json_append_variant (out, value);
      g_assert_cmpstr (out->str, ==, cases[i].json);
    }

  g_string_truncate (out, 0);
  gather_json_append_double (out, NAN);
  g_string_append_c (out, ',');
  gather_json_append_double (out, INFINITY);
  g_string_append_c (out, ',');
  gather_json_append_double (out, -INFINITY);
  g_string_append_c (out, ',');
  gather_json_append_string (out, "caf\xe9\xc3", -1);
  g_assert_cmpstr (out->str, ==, "\"NaN\",\"Infinity\",\"-Infinity\",\"caf\xef\xbf\xbd\xef\xbf\xbd\"");

  g_string_free (out, TRUE);
}

static void
test_tasks_shorten (void)
{
  g_autofree char *ascii = gather_shorten ("abcdefghij", 5);
  g_autofree char *utf8 = gather_shorten ("ééééééé", 4);
  g_autofree char *invalid = gather_shorten ("ab\xe9\xe9\xe9\xe9\xe9\xe9", 4);
  g_autofree char *truncated = gather_shorten ("abc\xc3", 10);

  g_test_summary ("Shortening a column counts characters and takes any bytes: "
                  "invalid UTF-8 becomes U+FFFD, never a read past the end");
  g_test_bug ("9");

  g_assert_cmpstr (ascii, ==, "abcd…");
  g_assert_cmpstr (utf8, ==, "ééé…");
  g_assert_cmpstr (invalid, ==, "ab\xef\xbf\xbd…");
  g_assert_cmpstr (truncated, ==, "abc\xef\xbf\xbd");
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_bug_base ("issue ");

  registry = tool_test_registry_new ();

  g_test_add_func ("/gather/tool-tasks/types-from-json", test_tasks_types_from_json);
  g_test_add_func ("/gather/tool-tasks/types-from-text", test_tasks_types_from_text);
  g_test_add_func ("/gather/tool-tasks/bad-values", test_tasks_bad_values);
  g_test_add_func ("/gather/tool-tasks/non-vardict", test_tasks_non_vardict);
  g_test_add_func ("/gather/tool-tasks/depth-limit", test_tasks_depth_limit);
  g_test_add_func ("/gather/tool-tasks/json-writer", test_tasks_json_writer);
  g_test_add_func ("/gather/tool-tasks/shorten", test_tasks_shorten);

  ret = g_test_run ();
  g_clear_object (&registry);

  return ret;
}
