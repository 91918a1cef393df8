/* gather-tool.c: the gather command: its commands, help and usage.
 *
 * Each command lives in its own file (gather-tool-run.c,
 * gather-tool-plugins.c); tasks are read by gather-tool-tasks.c and
 * printed by gather-tool-output.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gather-tool-output.h"
#include "gather-tool-private.h"

gboolean gather_tool_stdin_closed;

static const GatherCommand *commands[] = {
  &gather_command_run,
  &gather_command_plugins,
};

void
gather_tool_print_error (const char *what,
                         const char *message)
{
  if (what != NULL)
    g_printerr ("%s: %s: %s\n", g_get_prgname (), what, message);
  else
    g_printerr ("%s: %s\n", g_get_prgname (), message);
}

int
gather_tool_usage_error (const char *command,
                         const char *what,
                         const char *message)
{
  gather_tool_print_error (what, message);
  g_printerr ("Try “gather help%s%s” for more information.\n",
              command ? " " : "", command ? command : "");
  return GATHER_EXIT_USAGE;
}

/* The registry a command loads: the default one, or, with --isolate, one
 * that loads the same search path in a helper process. */
GatherRegistry *
gather_tool_get_registry (gboolean isolated)
{
  static GatherRegistry *registry;

  if (!isolated)
    return gather_registry_get_default ();

  if (registry == NULL)
    {
      registry = gather_registry_new ();
      gather_registry_set_isolated (registry, TRUE);
      gather_registry_add_default_search_paths (registry);
      gather_registry_load (registry);
    }

  return registry;
}

static const GatherCommand *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i]->name, name))
      return commands[i];

  return NULL;
}

static GOptionContext *
command_context (const GatherCommand *command)
{
  GOptionContext *context = g_option_context_new (command->parameters);
  g_autofree char *summary = g_strdup_printf ("%s.", command->summary);

  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, command->description);
  g_option_context_add_main_entries (context, command->entries, NULL);

  return context;
}

static void
print_usage (FILE *out)
{
  fprintf (out,
           "Usage:\n"
           "  gather COMMAND [OPTION…]\n"
           "\n"
           "Run tasks on a thread pool, each with its own timeout, and show\n"
           "every outcome.\n"
           "\n"
           "Commands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
  fprintf (out,
           "  %-9s %s\n"
           "\n"
           "Use “gather help COMMAND” for help on a command; “gather --version”\n"
           "for the version.\n", "help", "Show help");
}

static int
command_help (const char *name)
{
  const GatherCommand *command;
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *prgname = NULL;
  g_autofree char *help = NULL;

  if (name == NULL)
    {
      print_usage (stdout);
      return GATHER_EXIT_OK;
    }

  command = find_command (name);
  if (command == NULL)
    return gather_tool_usage_error (NULL, name, "Unknown command");

  /* The usage line reads "gather run [OPTION…] …". */
  prgname = g_strdup_printf ("gather %s", command->name);
  g_set_prgname (prgname);
  context = command_context (command);
  g_option_context_set_help_enabled (context, TRUE);
  help = g_option_context_get_help (context, TRUE, NULL);
  gather_output_write (help, -1);

  return GATHER_EXIT_OK;
}

static const GOptionEntry *
find_short_option (const GOptionEntry *entries,
                   char                letter)
{
  for (const GOptionEntry *entry = entries; entry->long_name != NULL; entry++)
    if (entry->short_name == letter)
      return entry;

  return NULL;
}

/* GOption reads "-j 4" but not "-j4": split such arguments, and groups
 * such as "-qj4", into "-q" "-j" "4". Nothing after "--" is touched. The
 * result's strings belong to @argv or to @owned. */
static char **
split_short_options (int                 argc,
                     char              **argv,
                     const GOptionEntry *entries,
                     GPtrArray          *owned)
{
  GPtrArray *result = g_ptr_array_new ();
  gboolean options_done = FALSE;

  for (int i = 0; i < argc; i++)
    {
      const char *arg = argv[i];
      gsize n = strlen (arg);
      gsize j;

      if (options_done || i == 0 || arg[0] != '-' || n < 3 || arg[1] == '-')
        {
          options_done = options_done || g_str_equal (arg, "--");
          g_ptr_array_add (result, argv[i]);
          continue;
        }

      /* Only a group of known short options ending in one that takes a
       * value is split; anything else is left for GOption to judge. */
      for (j = 1; j < n; j++)
        {
          const GOptionEntry *entry = find_short_option (entries, arg[j]);

          if (entry == NULL)
            break;
          if (entry->arg != G_OPTION_ARG_NONE)
            break;
        }

      if (j >= n - 1 || find_short_option (entries, arg[j]) == NULL)
        {
          g_ptr_array_add (result, argv[i]);
          continue;
        }

      for (gsize k = 1; k <= j; k++)
        {
          char *flag = g_strdup_printf ("-%c", arg[k]);

          g_ptr_array_add (owned, flag);
          g_ptr_array_add (result, flag);
        }
      g_ptr_array_add (result, argv[i] + j + 1);
    }

  g_ptr_array_add (result, NULL);
  return (char **) g_ptr_array_free (result, FALSE);
}

/* GLib's wakeup file descriptor would become standard input, output or
 * error if one of them were closed: reading tasks from "-" would then
 * wait on it forever. Open /dev/null in their place, and remember. */
static void
open_standard_streams (void)
{
  for (int fd = 0; fd <= 2; fd++)
    {
      int null_fd;

      if (fcntl (fd, F_GETFD) != -1 || errno != EBADF)
        continue;

      null_fd = open ("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (null_fd != fd)
        {
          /* Lower descriptors are open, so this cannot happen. */
          if (null_fd >= 0)
            close (null_fd);
          continue;
        }

      if (fd == 0)
        gather_tool_stdin_closed = TRUE;
      else if (fd == 1)
        gather_output_mark_closed ();
    }
}

static void
on_sigpipe (int signum)
{
  /* Writing to a closed pipe then fails with EPIPE, which is reported. A
   * handler rather than SIG_IGN: spawned programs get the default back. */
}

static int
finish (int status)
{
  g_autoptr(GError) error = NULL;

  if (!gather_output_flush (&error))
    {
      gather_tool_print_error (NULL, error->message);
      return GATHER_EXIT_USAGE;
    }

  return status;
}

int
main (int   argc,
      char *argv[])
{
  const GatherCommand *command;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = NULL;
  g_autofree char **command_argv = NULL;
  char **parsed_argv;
  int command_argc;
  struct sigaction action = { 0 };

  open_standard_streams ();
  action.sa_handler = on_sigpipe;
  sigemptyset (&action.sa_mask);
  sigaction (SIGPIPE, &action, NULL);

  setlocale (LC_ALL, "");
  g_set_prgname ("gather");

  if (argc < 2)
    {
      print_usage (stderr);
      return GATHER_EXIT_USAGE;
    }

  if (g_str_equal (argv[1], "help") || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      if (argc > 3)
        return gather_tool_usage_error (NULL, argv[3], "Unexpected argument");
      return finish (command_help (argc > 2 ? argv[2] : NULL));
    }

  if (g_str_equal (argv[1], "--version") || g_str_equal (argv[1], "version"))
    {
      gather_output_printf ("gather %s\n", GATHER_VERSION_S);
      return finish (GATHER_EXIT_OK);
    }

  command = find_command (argv[1]);
  if (command == NULL)
    return gather_tool_usage_error (NULL, argv[1], "Unknown command");

  /* "gather run --json" parses, and reports errors, as "gather run". */
  prgname = g_strdup_printf ("gather %s", command->name);
  g_set_prgname (prgname);
  command_argv = split_short_options (argc - 1, argv + 1, command->entries, owned);
  command_argv[0] = prgname;
  command_argc = g_strv_length (command_argv);
  parsed_argv = command_argv;
  context = command_context (command);
  if (!g_option_context_parse (context, &command_argc, &parsed_argv, &error))
    return gather_tool_usage_error (command->name, NULL, error->message);

  return finish (command->run (command_argc, parsed_argv));
}
