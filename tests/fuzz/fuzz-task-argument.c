/* fuzz-task-argument.c: libFuzzer harness for "WORKER KEY=VALUE"
 * arguments. The input is split at NUL bytes into arguments, as a shell
 * would hand them over.
 *
 * Property: as for task files; arguments are bytes, and only byte string
 * values (ay, aay) may hold bytes that are not UTF-8.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "fuzz-common.h"

static GatherRegistry *registry;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  registry = tool_test_registry_new ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *copy = NULL;
  const char *end;

  if (size > 1024 * 1024)
    return 0;

  /* NUL-terminated pieces, as argv[] holds them. */
  copy = g_malloc (size + 1);
  memcpy (copy, data, size);
  copy[size] = '\0';
  end = copy + size;

  for (const char *argument = copy; argument <= end; argument += strlen (argument) + 1)
    {
      g_autoptr(GatherTaskSpec) spec = NULL;
      g_autoptr(GError) error = NULL;

      spec = gather_task_parse_argument (registry, argument, &error);
      if (spec == NULL)
        fuzz_check_error (error);
      else
        fuzz_check_spec (registry, spec);
    }

  return 0;
}
