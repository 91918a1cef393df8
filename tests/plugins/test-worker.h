/* test-worker.h: declares a minimal worker type for the test plugins.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libgather.h>

/* TEST_WORKER (TestFoo, test_foo, TEST, FOO, "test-foo", params, n_params,
 *              "s", run): a final dynamic type implementing GatherWorker,
 *              taking a{sv} parameters. */
#define TEST_WORKER(TypeName, type_name, MODULE, NAME, WORKER_NAME, PARAMS, N_PARAMS, RESULT_TYPE, RUN) \
  TEST_WORKER_TYPED (TypeName, type_name, MODULE, NAME, WORKER_NAME, "a{sv}", PARAMS, N_PARAMS, RESULT_TYPE, RUN)

/* TEST_WORKER_TYPED (TestFoo, test_foo, TEST, FOO, "test-foo", "s", NULL,
 *                    0, "s", run): the same, taking parameters of the type
 *                    given (with no named parameters unless it is a{sv}). */
#define TEST_WORKER_TYPED(TypeName, type_name, MODULE, NAME, WORKER_NAME, PARAMETER_TYPE, PARAMS, N_PARAMS, RESULT_TYPE, RUN) \
  G_DECLARE_FINAL_TYPE (TypeName, type_name, MODULE, NAME, GObject)                      \
  struct _##TypeName { GObject parent_instance; };                                        \
  static void                                                                            \
  type_name##_iface_init (GatherWorkerInterface *iface)                                   \
  {                                                                                      \
    iface->name = WORKER_NAME;                                                           \
    iface->description = "A worker of the test suite";                                   \
    iface->parameter_type = PARAMETER_TYPE;                                              \
    iface->parameters = PARAMS;                                                          \
    iface->n_parameters = N_PARAMS;                                                      \
    iface->result_type = RESULT_TYPE;                                                    \
    iface->run = RUN;                                                                    \
  }                                                                                      \
  G_DEFINE_DYNAMIC_TYPE_EXTENDED (TypeName, type_name, G_TYPE_OBJECT, G_TYPE_FLAG_FINAL, \
                                  G_IMPLEMENT_INTERFACE_DYNAMIC (GATHER_TYPE_WORKER,      \
                                                                 type_name##_iface_init)) \
  static void type_name##_class_init (TypeName##Class *klass) { }                         \
  static void type_name##_class_finalize (TypeName##Class *klass) { }                     \
  static void type_name##_init (TypeName *self) { }
