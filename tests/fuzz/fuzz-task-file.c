/* fuzz-task-file.c: libFuzzer harness for task files, JSON or lines.
 *
 * Property: whatever the bytes, reading them either yields tasks that
 * their workers accept and that print as strict JSON, or an error with a
 * valid message; never a crash, a leak, a critical or a stack overflow.
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
  g_autoptr(GPtrArray) specs = NULL;
  g_autoptr(GError) error = NULL;

  if (size > GATHER_TASK_FILE_MAX_SIZE)
    return 0;

  specs = gather_task_parse_file (registry, "fuzz.json", (const char *) data, size, &error);
  if (specs == NULL)
    {
      fuzz_check_error (error);
      return 0;
    }

  for (guint i = 0; i < specs->len; i++)
    fuzz_check_spec (registry, g_ptr_array_index (specs, i));

  return 0;
}
