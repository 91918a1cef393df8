/* gather-misbehave.c: workers that misbehave, and one that does not.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-worker.h"

static const GatherParameter ms_parameter[] = {
  { "ms", "u", "How long to run", GATHER_PARAMETER_REQUIRED },
};

static const GatherParameter value_parameter[] = {
  { "value", "s", "What to return", GATHER_PARAMETER_REQUIRED },
};

/* Sleeps past its timeout, ignoring cancellation. */
static GVariant *
stubborn_run (GatherWorker  *worker,
              GVariant      *parameters,
              GCancellable  *cancellable,
              GError       **error)
{
  guint32 msec = 0;

  g_variant_lookup (parameters, "ms", "u", &msec);
  g_usleep ((gulong) msec * 1000);

  return g_variant_new_uint32 (msec);
}

/* Returns NULL without an error. */
static GVariant *
null_run (GatherWorker  *worker,
          GVariant      *parameters,
          GCancellable  *cancellable,
          GError       **error)
{
  return NULL;
}

/* Declares "s", returns "u". */
static GVariant *
wrong_type_run (GatherWorker  *worker,
                GVariant      *parameters,
                GCancellable  *cancellable,
                GError       **error)
{
  return g_variant_new_uint32 (42);
}

/* Fails properly. */
static GVariant *
fail_run (GatherWorker  *worker,
          GVariant      *parameters,
          GCancellable  *cancellable,
          GError       **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Nothing here");
  return NULL;
}

/* Behaves. */
static GVariant *
echo_run (GatherWorker  *worker,
          GVariant      *parameters,
          GCancellable  *cancellable,
          GError       **error)
{
  const char *value = NULL;

  g_variant_lookup (parameters, "value", "&s", &value);

  return g_variant_new_string (value);
}

TEST_WORKER (TestStubborn, test_stubborn, TEST, STUBBORN, "test-stubborn", ms_parameter, 1, "u", stubborn_run)
TEST_WORKER (TestNull, test_null, TEST, NULL_WORKER, "test-null", NULL, 0, "s", null_run)
TEST_WORKER (TestWrongType, test_wrong_type, TEST, WRONG_TYPE, "test-wrong-type", NULL, 0, "s", wrong_type_run)
TEST_WORKER (TestFail, test_fail, TEST, FAIL, "test-fail", NULL, 0, "s", fail_run)
TEST_WORKER (TestEcho, test_echo, TEST, ECHO, "test-echo", value_parameter, 1, "s", echo_run)

static void
misbehave_register (GatherPluginModule *module)
{
  GTypeModule *type_module = G_TYPE_MODULE (module);

  test_stubborn_register_type (type_module);
  test_null_register_type (type_module);
  test_wrong_type_register_type (type_module);
  test_fail_register_type (type_module);
  test_echo_register_type (type_module);

  gather_plugin_module_add_worker (module, test_stubborn_get_type ());
  gather_plugin_module_add_worker (module, test_null_get_type ());
  gather_plugin_module_add_worker (module, test_wrong_type_get_type ());
  gather_plugin_module_add_worker (module, test_fail_get_type ());
  gather_plugin_module_add_worker (module, test_echo_get_type ());
}

GATHER_PLUGIN_DEFINE (misbehave, "Workers that misbehave, and one that does not", misbehave_register)
