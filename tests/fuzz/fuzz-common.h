/* fuzz-common.h: what the gather command's libFuzzer harnesses share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gather-tool-json.h"
#include "gather-tool-output.h"
#include "gather-tool-tasks.h"
#include "tool-test-workers.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Criticals and warnings abort: a harness must not hide them. */
static inline void
fuzz_init (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  g_setenv ("G_DEBUG", "fatal-criticals", TRUE);
}

/* Aborts unless @text is JSON by the strict reader: the property every
 * piece of output must have. */
static inline void
fuzz_assert_strict_json (const char *text,
                         gsize       length)
{
  g_autoptr(GatherJsonNode) root = NULL;
  g_autoptr(GError) error = NULL;

  root = gather_json_parse (text, length, 100000, &error);
  if (root == NULL)
    {
      fprintf (stderr, "Output is not strict JSON: %s\n%.*s\n", error->message, (int) length, text);
      abort ();
    }
}

/* What every task that was read must be: accepted by the library's own
 * check, and printable as strict JSON. */
static inline void
fuzz_check_spec (GatherRegistry *registry,
                 GatherTaskSpec *spec)
{
  GatherWorker *worker = gather_registry_lookup_worker (registry, spec->worker);
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) json = g_string_new (NULL);

  if (worker == NULL || !gather_worker_check_parameters (worker, spec->parameters, &error))
    {
      fprintf (stderr, "A task was read that its worker refuses: %s\n",
               error ? error->message : "no such worker");
      abort ();
    }
  if (spec->label != NULL && !g_utf8_validate (spec->label, -1, NULL))
    {
      fprintf (stderr, "A label that is not UTF-8 was read\n");
      abort ();
    }

  gather_json_append_variant (json, spec->parameters);
  fuzz_assert_strict_json (json->str, json->len);
}

/* Every error names where the input went wrong, in valid UTF-8. */
static inline void
fuzz_check_error (const GError *error)
{
  if (error == NULL || error->message == NULL || !g_utf8_validate (error->message, -1, NULL))
    {
      g_autofree char *shown = error ? g_strescape (error->message, NULL) : NULL;

      fprintf (stderr, "A refusal without a valid UTF-8 message: %s\n", shown ? shown : "(none)");
      abort ();
    }
}
