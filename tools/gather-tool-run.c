/* gather-tool-run.c: "gather run": run tasks, print their outcomes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "gather-tool-json.h"
#include "gather-tool-output.h"
#include "gather-tool-private.h"
#include "gather-tool-tasks.h"

/* The most tasks run at once unless --jobs says otherwise, and the most
 * --jobs accepts: each running task may hold a thread. */
#define DEFAULT_MAX_JOBS 64
#define MAX_JOBS 1024

static char    *run_file;
static char    *run_timeout;
static char    *run_deadline;
static char    *run_jobs;
static char    *run_policy;
static gboolean run_json;
static gboolean run_quiet;
static gboolean run_stream;
static gboolean run_dry;
static gboolean run_isolate;

static const GOptionEntry run_entries[] = {
  { "file", 'f', 0, G_OPTION_ARG_FILENAME, &run_file, "Read tasks from FILE: JSON, or one task per line (- for standard input)", "FILE" },
  { "timeout", 't', 0, G_OPTION_ARG_STRING, &run_timeout, "Each task's timeout unless it sets its own (default: none)", "DURATION" },
  { "deadline", 'd', 0, G_OPTION_ARG_STRING, &run_deadline, "A timeout for the whole run", "DURATION" },
  { "jobs", 'j', 0, G_OPTION_ARG_STRING, &run_jobs, "How many tasks run at once, 1 to 1024 (default: all, up to 64)", "N" },
  { "policy", 'p', 0, G_OPTION_ARG_STRING, &run_policy, "When to stop: all (default), first-error, first-success, quorum=K", "POLICY" },
  { "json", 0, 0, G_OPTION_ARG_NONE, &run_json, "Print the outcomes as JSON (with --stream, JSON Lines)", NULL },
  { "stream", 's', 0, G_OPTION_ARG_NONE, &run_stream, "Print each outcome as it finishes", NULL },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &run_quiet, "No progress line, no summary", NULL },
  { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &run_dry, "Check the tasks and print them, but run nothing", NULL },
  { "isolate", 'i', 0, G_OPTION_ARG_NONE, &run_isolate, "Load plugins and run each task in helper processes, killed at the timeout", NULL },
  G_OPTION_ENTRY_NULL
};

typedef struct
{
  GPtrArray    *specs;
  GatherGroup  *group;
  GCancellable *cancellable;
  GPtrArray    *outcomes;
  gint64        start_time;
  gboolean      progress;       /* draw the progress line */
  gboolean      progress_shown;
  int           signum;         /* the signal that interrupted the run, or 0 */
  gboolean      output_failed;  /* a streamed outcome could not be written */
  guint         n_timeout;
  guint         n_rows;         /* streamed rows */
} Run;

static void
clear_progress (Run *run)
{
  if (run->progress_shown)
    {
      /* Erase the line: carriage return, clear to the end of the line. */
      fputs ("\r\033[K", stderr);
      fflush (stderr);
      run->progress_shown = FALSE;
    }
}

static void
draw_progress (Run *run)
{
  guint n_tasks = gather_group_get_n_tasks (run->group);
  guint n_finished = gather_group_get_n_finished (run->group);

  if (!run->progress)
    return;

  fprintf (stderr, "\r\033[K%u/%u finished, %u running, %u timed out, %.1fs",
           n_finished, n_tasks, gather_group_get_n_running (run->group),
           run->n_timeout, (g_get_monotonic_time () - run->start_time) / 1e6);
  fflush (stderr);
  run->progress_shown = TRUE;
}

static gboolean
progress_tick (gpointer data)
{
  draw_progress (data);
  return G_SOURCE_CONTINUE;
}

static gboolean
print_header (void)
{
  return gather_output_printf ("%-4s %-20s %-10s %-9s %8s  %s\n",
                               "#", "LABEL", "WORKER", "STATUS", "TIME", "RESULT");
}

static GatherTaskSpec *
spec_of (Run           *run,
         GatherOutcome *outcome)
{
  return g_ptr_array_index (run->specs, gather_outcome_get_index (outcome));
}

/* One outcome as a table row or a JSON object, and a newline. */
static gboolean
print_outcome (Run           *run,
               GatherOutcome *outcome)
{
  GatherOutcomeRow row;

  gather_outcome_row_init (&row, outcome, spec_of (run, outcome)->worker);
  if (run_json)
    {
      g_autoptr(GString) line = g_string_new (NULL);

      gather_append_outcome_json (line, &row);
      g_string_append_c (line, '\n');
      return gather_output_write (line->str, line->len);
    }
  else
    {
      g_autofree char *text = gather_outcome_row_text (&row);

      return gather_output_write (text, -1);
    }
}

static void
on_task_finished (GatherGroup   *group,
                  GatherOutcome *outcome,
                  Run           *run)
{
  if (gather_outcome_get_status (outcome) == GATHER_STATUS_TIMEOUT)
    run->n_timeout++;

  if (run_stream && !run->output_failed)
    {
      gboolean ok = TRUE;

      clear_progress (run);
      if (!run_json && run->n_rows == 0)
        ok = print_header ();
      run->n_rows++;
      ok = ok && print_outcome (run, outcome) && gather_output_push ();
      if (!ok)
        {
          /* Nobody reads on: stop, as for an interrupt. */
          run->output_failed = TRUE;
          g_cancellable_cancel (run->cancellable);
        }
    }

  draw_progress (run);
}

static void
on_run_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;

  run->outcomes = gather_group_run_finish (GATHER_GROUP (object), result, &error);
  g_assert_no_error (error);
}

/* How long the command waits, once every task has an outcome, for bodies
 * that were stopped to return: a spawn worker kills its child's process
 * group when it is cancelled, and the command must not exit before. A body
 * that ignores its cancellation is not waited for longer than this. */
#define SETTLE_MSEC 2000

static void
on_n_running (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  if (gather_group_get_n_running (GATHER_GROUP (object)) == 0)
    *(gboolean *) user_data = TRUE;
}

static gboolean
on_settle_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Waits, on the main context, until no body of @group runs, at most
 * SETTLE_MSEC. A stopped task's outcome is recorded when it is stopped,
 * before its body has returned. */
static void
wait_for_bodies (GatherGroup *group)
{
  gboolean done = gather_group_get_n_running (group) == 0;
  gulong handler;
  guint timeout;

  if (done)
    return;

  handler = g_signal_connect (group, "notify::n-running", G_CALLBACK (on_n_running), &done);
  timeout = g_timeout_add (SETTLE_MSEC, on_settle_timeout, &done);
  /* Connecting makes the group notify; check what happened before. */
  done = gather_group_get_n_running (group) == 0;
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (group, handler);
  g_clear_handle_id (&timeout, g_source_remove);
}

typedef struct
{
  Run *run;
  int  signum;
} Interrupt;

static gboolean
on_interrupt (gpointer user_data)
{
  Interrupt *interrupt = user_data;

  if (interrupt->run->signum == 0)
    interrupt->run->signum = interrupt->signum;
  g_cancellable_cancel (interrupt->run->cancellable);

  return G_SOURCE_CONTINUE;
}

static void
print_outcomes (Run *run)
{
  if (run_stream)
    return;

  if (run_json)
    {
      gather_output_write ("[\n", -1);
      for (guint i = 0; i < run->outcomes->len; i++)
        {
          GatherOutcome *outcome = g_ptr_array_index (run->outcomes, i);
          g_autoptr(GString) text = g_string_new (NULL);
          GatherOutcomeRow row;

          gather_outcome_row_init (&row, outcome, spec_of (run, outcome)->worker);
          gather_append_outcome_json (text, &row);
          g_string_append (text, i + 1 < run->outcomes->len ? ",\n" : "\n");
          gather_output_write (text->str, text->len);
        }
      gather_output_write ("]\n", -1);
      return;
    }

  if (run->outcomes->len > 0)
    print_header ();
  for (guint i = 0; i < run->outcomes->len; i++)
    print_outcome (run, g_ptr_array_index (run->outcomes, i));
}

static void
print_summary (Run *run)
{
  guint counts[4] = { 0 };
  g_autoptr(GString) line = g_string_new (NULL);

  for (guint i = 0; i < run->outcomes->len; i++)
    counts[gather_outcome_get_status (g_ptr_array_index (run->outcomes, i))]++;

  g_string_append_printf (line, "%u tasks: %u ok, %u error, %u timeout, %u cancelled in %.1fs",
                          run->outcomes->len, counts[GATHER_STATUS_OK], counts[GATHER_STATUS_ERROR],
                          counts[GATHER_STATUS_TIMEOUT], counts[GATHER_STATUS_CANCELLED],
                          (g_get_monotonic_time () - run->start_time) / 1e6);
  if (run->signum != 0)
    g_string_append (line, " (interrupted)");
  g_string_append_c (line, '\n');

  /* With --json, standard output is for the JSON alone. */
  if (run_json)
    g_printerr ("%s", line->str);
  else
    gather_output_write (line->str, line->len);
}

typedef struct
{
  GatherPolicy policy;
  guint        quorum;
} Policy;

static gboolean
parse_policy (const char  *text,
              Policy      *policy,
              GError     **error)
{
  guint64 quorum;

  if (g_str_equal (text, "all"))
    policy->policy = GATHER_POLICY_ALL;
  else if (g_str_equal (text, "first-error"))
    policy->policy = GATHER_POLICY_FIRST_ERROR;
  else if (g_str_equal (text, "first-success"))
    policy->policy = GATHER_POLICY_FIRST_SUCCESS;
  else if (g_str_has_prefix (text, "quorum=") &&
           g_ascii_string_to_unsigned (text + strlen ("quorum="), 10, 1, G_MAXUINT, &quorum, NULL))
    {
      policy->policy = GATHER_POLICY_QUORUM;
      policy->quorum = (guint) quorum;
    }
  else
    {
      g_autofree char *shown = gather_task_display_text (text, -1);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Invalid policy “%s”: use all, first-error, first-success or "
                   "quorum=K with K at least 1", shown);
      return FALSE;
    }

  return TRUE;
}

/* The exit status, by the policy:
 *   all, first-error: 0 if every task succeeded;
 *   first-success:    0 if a task succeeded (the others were cancelled);
 *   quorum=K:         0 if at least K tasks succeeded.
 * A run that failed exits 124 if no task ended in an error (timeouts
 * alone, or timeouts and cancellations), as timeout(1) does, else 1. */
static int
exit_status (const Policy *policy,
             GPtrArray    *outcomes)
{
  guint counts[4] = { 0 };
  gboolean ok;

  for (guint i = 0; i < outcomes->len; i++)
    counts[gather_outcome_get_status (g_ptr_array_index (outcomes, i))]++;

  switch (policy->policy)
    {
    case GATHER_POLICY_FIRST_SUCCESS:
      ok = counts[GATHER_STATUS_OK] > 0;
      break;
    case GATHER_POLICY_QUORUM:
      ok = counts[GATHER_STATUS_OK] >= policy->quorum;
      break;
    case GATHER_POLICY_ALL:
    case GATHER_POLICY_FIRST_ERROR:
    default:
      ok = counts[GATHER_STATUS_OK] == outcomes->len;
      break;
    }

  if (ok)
    return GATHER_EXIT_OK;
  if (counts[GATHER_STATUS_ERROR] == 0 && counts[GATHER_STATUS_TIMEOUT] > 0)
    return GATHER_EXIT_TIMEOUT;
  return GATHER_EXIT_FAILED;
}

static char *
format_timeout (gint64 msec)
{
  if (msec <= 0)
    return g_strdup ("none");
  if (msec % 1000 == 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "s", msec / 1000);
  return g_strdup_printf ("%" G_GINT64_FORMAT "ms", msec);
}

/* --dry-run: every task as it would run, with the types of its values. */
static void
print_dry_run (GPtrArray *specs,
               guint      default_timeout)
{
  if (run_json)
    gather_output_write ("[\n", -1);
  else
    gather_output_printf ("%-4s %-20s %-10s %-8s %s\n", "#", "LABEL", "WORKER", "TIMEOUT",
                          "PARAMETERS");

  for (guint i = 0; i < specs->len; i++)
    {
      GatherTaskSpec *spec = g_ptr_array_index (specs, i);
      gint64 timeout = spec->timeout_msec >= 0 ? spec->timeout_msec : default_timeout;
      g_autoptr(GString) line = g_string_new (NULL);

      if (run_json)
        {
          g_string_append_printf (line, "{\"index\":%u,\"label\":", i);
          gather_json_append_string (line, spec->label ? spec->label : spec->worker, -1);
          g_string_append (line, ",\"worker\":");
          gather_json_append_string (line, spec->worker, -1);
          g_string_append_printf (line, ",\"timeout_ms\":%" G_GINT64_FORMAT ",\"parameters\":",
                                  timeout);
          gather_json_append_variant (line, spec->parameters);
          g_string_append (line, i + 1 < specs->len ? "},\n" : "}\n");
        }
      else
        {
          g_autofree char *label = gather_shorten (spec->label ? spec->label : spec->worker, 20);
          g_autofree char *timeout_text = format_timeout (timeout);
          g_autofree char *parameters = g_variant_print (spec->parameters, TRUE);

          g_string_append_printf (line, "%-4u %-20s %-10s %-8s %s\n", i + 1, label, spec->worker,
                                  timeout_text, parameters);
        }
      gather_output_write (line->str, line->len);
    }

  if (run_json)
    gather_output_write ("]\n", -1);
}

static gboolean
read_tasks (GatherRegistry  *registry,
            int              argc,
            char           **argv,
            GPtrArray       *specs,
            GError         **error)
{
  if (run_file != NULL)
    {
      g_autoptr(GBytes) contents = gather_task_read_file (run_file, gather_tool_stdin_closed, error);
      g_autoptr(GPtrArray) from_file = NULL;
      g_autofree char *name = NULL;
      gsize length;
      const char *data;

      if (contents == NULL)
        return FALSE;

      name = g_str_equal (run_file, "-") ? g_strdup ("standard input")
                                         : g_filename_display_name (run_file);
      data = g_bytes_get_data (contents, &length);
      from_file = gather_task_parse_file (registry, name, data ? data : "", length, error);
      if (from_file == NULL)
        return FALSE;
      g_ptr_array_extend_and_steal (specs, g_steal_pointer (&from_file));
    }

  for (int i = 1; i < argc; i++)
    {
      GatherTaskSpec *spec = gather_task_parse_argument (registry, argv[i], error);

      if (spec == NULL)
        return FALSE;
      g_ptr_array_add (specs, spec);
    }

  return TRUE;
}

static int
command_run (int    argc,
             char **argv)
{
  GatherRegistry *registry = gather_tool_get_registry (run_isolate);
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) gather_task_spec_free);
  g_autoptr(GatherGroup) group = NULL;
  g_autoptr(GatherPool) pool = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
  Interrupt interrupts[G_N_ELEMENTS (signals)];
  guint signal_ids[G_N_ELEMENTS (signals)];
  Policy policy = { GATHER_POLICY_ALL, 0 };
  guint default_timeout = 0;
  guint deadline = 0;
  guint64 max_jobs = 0;
  guint jobs;
  Run run = { 0 };
  guint tick_id = 0;
  int status;

  if (run_timeout != NULL && !gather_parse_duration (run_timeout, &default_timeout, &error))
    return gather_tool_usage_error ("run", "--timeout", error->message);
  if (run_deadline != NULL && !gather_parse_duration (run_deadline, &deadline, &error))
    return gather_tool_usage_error ("run", "--deadline", error->message);
  if (run_jobs != NULL &&
      !g_ascii_string_to_unsigned (run_jobs, 10, 1, MAX_JOBS, &max_jobs, NULL))
    {
      g_autofree char *shown = gather_task_display_text (run_jobs, -1);
      g_autofree char *message = g_strdup_printf ("“%s” is not a number from 1 to %u",
                                                  shown, MAX_JOBS);

      return gather_tool_usage_error ("run", "--jobs", message);
    }
  if (run_policy != NULL && !parse_policy (run_policy, &policy, &error))
    return gather_tool_usage_error ("run", "--policy", error->message);
  if (run_file != NULL && argc > 1)
    return gather_tool_usage_error ("run", argv[1], "Give tasks as arguments or with --file, not both");

  if (!read_tasks (registry, argc, argv, specs, &error))
    {
      gather_tool_print_error (NULL, error->message);
      return GATHER_EXIT_USAGE;
    }

  if (specs->len == 0)
    return gather_tool_usage_error ("run", NULL, "No tasks: give WORKER [KEY=VALUE ...] "
                                    "arguments or --file");

  if (policy.policy == GATHER_POLICY_QUORUM && policy.quorum > specs->len)
    {
      g_autofree char *message = g_strdup_printf ("A quorum of %u can never be reached with "
                                                  "%u task%s", policy.quorum, specs->len,
                                                  specs->len == 1 ? "" : "s");

      return gather_tool_usage_error ("run", "--policy", message);
    }

  if (run_dry)
    {
      print_dry_run (specs, default_timeout);
      return GATHER_EXIT_OK;
    }

  /* Blocking workers need a thread each to run at once. */
  jobs = max_jobs > 0 ? (guint) MIN (max_jobs, specs->len) : MIN (specs->len, DEFAULT_MAX_JOBS);
  group = gather_group_new ();
  pool = gather_pool_new (jobs);
  gather_group_set_pool (group, pool);
  gather_group_set_max_concurrent (group, jobs);
  gather_group_set_registry (group, registry);
  gather_group_set_isolate_workers (group, run_isolate);
  gather_group_set_deadline (group, deadline);
  gather_group_set_policy (group, policy.policy);
  if (policy.policy == GATHER_POLICY_QUORUM)
    gather_group_set_quorum (group, policy.quorum);

  for (guint i = 0; i < specs->len; i++)
    {
      GatherTaskSpec *spec = g_ptr_array_index (specs, i);
      guint timeout = spec->timeout_msec >= 0 ? (guint) spec->timeout_msec : default_timeout;

      if (gather_group_add_worker_task (group, spec->worker, spec->parameters, spec->label,
                                        timeout, &error) == G_MAXUINT)
        {
          gather_tool_print_error (spec->origin, error->message);
          return GATHER_EXIT_USAGE;
        }
    }

  run.specs = specs;
  run.group = group;
  run.cancellable = cancellable;
  run.start_time = g_get_monotonic_time ();
  run.progress = !run_quiet && isatty (STDERR_FILENO);

  g_signal_connect (group, "task-finished", G_CALLBACK (on_task_finished), &run);
  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    {
      interrupts[i].run = &run;
      interrupts[i].signum = signals[i];
      signal_ids[i] = g_unix_signal_add (signals[i], on_interrupt, &interrupts[i]);
    }
  if (run.progress)
    tick_id = g_timeout_add (100, progress_tick, &run);

  draw_progress (&run);
  gather_group_run_async (group, cancellable, on_run_done, &run);
  while (run.outcomes == NULL)
    g_main_context_iteration (NULL, TRUE);
  wait_for_bodies (group);

  g_clear_handle_id (&tick_id, g_source_remove);
  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    g_source_remove (signal_ids[i]);
  clear_progress (&run);

  print_outcomes (&run);
  if (!run_quiet)
    print_summary (&run);

  status = exit_status (&policy, run.outcomes);
  g_ptr_array_unref (run.outcomes);

  if (run.signum != 0)
    return GATHER_EXIT_SIGNAL_BASE + run.signum;
  if (run.output_failed)
    return GATHER_EXIT_USAGE;

  return status;
}

const GatherCommand gather_command_run = {
  "run", "[TASK…]",
  "Run tasks at once, each with its own timeout",
  "Each TASK is one argument: a worker's name, then KEY=VALUE parameters,\n"
  "for example 'sleep ms=2000 value=user_1'. label=TEXT names the task and\n"
  "timeout=DURATION sets its own timeout. Values take the type the worker\n"
  "declares (see “gather plugins”): decimal numbers, true or false, text\n"
  "for strings, bytes as they are for byte strings (type ay, used for file\n"
  "names), words for string lists, and GVariant text for other types.\n"
  "DURATION is a whole number with ms, s, m or h: 250ms, 3s, 1m.\n"
  "\n"
  "A task file (--file) holds a JSON array of tasks, or an object with a\n"
  "\"tasks\" array; each task is an object with \"worker\", \"parameters\"\n"
  "(an object), and optionally \"label\" and \"timeout\". A file that does\n"
  "not start with [ or { holds one task per line, as in arguments.\n"
  "\n"
  "Prints a row per task in the order given, then a summary. Exit status:\n"
  "0 if the run succeeded by its policy (all, first-error: every task\n"
  "succeeded; first-success: one did; quorum=K: K did), 1 if it failed,\n"
  "124 if it failed by timeouts alone, 2 for bad usage, bad tasks or lost\n"
  "output, 128+N when interrupted by signal N (130 for Ctrl-C).\n"
  "\n"
  "With --isolate, plugins are loaded and tasks run in helper processes: a\n"
  "plugin that crashes ends its task with an error and the run goes on, and\n"
  "a task still running when the grace period after its timeout is over is\n"
  "killed, with every process it started.",
  run_entries, command_run,
};
