/* tool-test-workers.c: workers that declare every kind of parameter.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "tool-test-workers.h"

static const GatherParameter types_parameters[] = {
  { "byte", "y", "y", GATHER_PARAMETER_NONE },
  { "int16", "n", "n", GATHER_PARAMETER_NONE },
  { "uint16", "q", "q", GATHER_PARAMETER_NONE },
  { "int32", "i", "i", GATHER_PARAMETER_NONE },
  { "uint32", "u", "u", GATHER_PARAMETER_REQUIRED },
  { "int64", "x", "x", GATHER_PARAMETER_NONE },
  { "uint64", "t", "t", GATHER_PARAMETER_NONE },
  { "double", "d", "d", GATHER_PARAMETER_NONE },
  { "boolean", "b", "b", GATHER_PARAMETER_NONE },
  { "string", "s", "s", GATHER_PARAMETER_NONE },
  { "path", "o", "o", GATHER_PARAMETER_NONE },
  { "signature", "g", "g", GATHER_PARAMETER_NONE },
  { "handle", "h", "h", GATHER_PARAMETER_NONE },
  { "bytes", "ay", "ay", GATHER_PARAMETER_NONE },
  { "words", "aay", "aay", GATHER_PARAMETER_NONE },
  { "strings", "as", "as", GATHER_PARAMETER_NONE },
  { "numbers", "ai", "ai", GATHER_PARAMETER_NONE },
  { "dict", "a{sv}", "a{sv}", GATHER_PARAMETER_NONE },
  { "counts", "a{su}", "a{su}", GATHER_PARAMETER_NONE },
  { "keyed", "a{ud}", "a{ud}", GATHER_PARAMETER_NONE },
  { "tuple", "(si)", "(si)", GATHER_PARAMETER_NONE },
  { "maybe", "mi", "mi", GATHER_PARAMETER_NONE },
  { "variant", "v", "v", GATHER_PARAMETER_NONE },
  { "any", "*", "*", GATHER_PARAMETER_NONE },
  { "nested", "a(sa{sv})", "a(sa{sv})", GATHER_PARAMETER_NONE },
};

static const GatherParameter sleep_parameters[] = {
  { "ms", "u", "How long to sleep, in milliseconds", GATHER_PARAMETER_REQUIRED },
  { "value", "*", "What to return", GATHER_PARAMETER_NONE },
};

static GVariant *
refuse_run (GatherWorker  *worker,
            GVariant      *parameters,
            GCancellable  *cancellable,
            GError       **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "Only for reading tasks");
  return NULL;
}

#define DEFINE_TEST_WORKER(TypeName, type_name, NAME, PARAMETER_TYPE, PARAMETERS, N_PARAMETERS) \
  typedef struct { GObject parent_instance; } TypeName;                                          \
  typedef struct { GObjectClass parent_class; } TypeName##Class;                                 \
  static void type_name##_iface_init (GatherWorkerInterface *iface)                              \
  {                                                                                              \
    iface->name = NAME;                                                                          \
    iface->description = "A test worker";                                                        \
    iface->parameter_type = PARAMETER_TYPE;                                                      \
    iface->parameters = PARAMETERS;                                                              \
    iface->n_parameters = N_PARAMETERS;                                                          \
    iface->result_type = "v";                                                                    \
    iface->run = refuse_run;                                                                     \
  }                                                                                              \
  static GType type_name##_get_type (void);                                                      \
  G_DEFINE_TYPE_WITH_CODE (TypeName, type_name, G_TYPE_OBJECT,                                   \
                           G_IMPLEMENT_INTERFACE (GATHER_TYPE_WORKER, type_name##_iface_init))   \
  static void type_name##_class_init (TypeName##Class *klass) { }                                \
  static void type_name##_init (TypeName *self) { }

DEFINE_TEST_WORKER (ToolTestTypes, tool_test_types, "types", "a{sv}", types_parameters,
                    G_N_ELEMENTS (types_parameters))
DEFINE_TEST_WORKER (ToolTestSleep, tool_test_sleep, "sleep", "a{sv}", sleep_parameters,
                    G_N_ELEMENTS (sleep_parameters))
DEFINE_TEST_WORKER (ToolTestPair, tool_test_pair, "pair", "(su)", NULL, 0)

GatherRegistry *
tool_test_registry_new (void)
{
  GatherRegistry *registry = gather_registry_new ();
  GType types[] = { tool_test_types_get_type (), tool_test_sleep_get_type (),
                    tool_test_pair_get_type () };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr(GatherWorker) worker = g_object_new (types[i], NULL);
      g_autoptr(GError) error = NULL;

      if (!gather_registry_add_worker (registry, worker, &error))
        g_error ("Cannot add a test worker: %s", error->message);
    }

  return registry;
}
