/* test-util.h: helpers shared by the test programs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libgather.h>

G_BEGIN_DECLS

/* What a test task body does, given as its user data. */
typedef struct
{
  guint         sleep_msec;       /* cooperative: wakes on cancellation */
  guint         ignore_msec;      /* g_usleep()s, ignoring cancellation */
  const char   *value;            /* result string; NULL means fail */
  GQuark        error_domain;     /* error to fail with, if value is NULL */
  gint          error_code;
  gboolean      return_nothing;   /* return NULL without an error */
  gboolean      return_both;      /* return a result and set an error */
  gint         *running;          /* atomic: bodies running now */
  gint         *max_running;      /* atomic: most seen at once */
  guint         wait_for_running; /* wait (up to 5 s) until this many ran at once */
  gint         *n_results_freed;  /* atomic: results freed (the result is "ay") */
  gboolean      sink_result;      /* return a full reference, not a floating one */
  gint         *n_destroyed;      /* atomic: user data destroyed */
  GThread     **destroyed_on;     /* where the user data was destroyed */
  gint         *n_returned;       /* atomic: bodies that returned */
  gint         *gate;             /* atomic: ignore cancellation until set */
  guint         busy_usec;        /* g_usleep()s this long, ignoring cancellation */
  gint64       *started_at;       /* set when the body starts (monotonic) */
  gint         *n_started;        /* atomic: bodies that started */
} TestTask;

TestTask  *test_task_new            (void);
void       test_task_free           (gpointer      data);
GVariant  *test_task_run            (GCancellable *cancellable,
                                     gpointer      user_data,
                                     GError      **error);
guint      test_add                 (GatherGroup  *group,
                                     const char   *label,
                                     guint         timeout_msec,
                                     TestTask     *task);
gboolean   test_sleep_cancellably   (guint         msec,
                                     GCancellable *cancellable);

/* Runs @group with run_async() on the thread-default context and iterates
 * it until the run completes; fails the test after @max_msec. */
GPtrArray *test_run_and_wait        (GatherGroup  *group,
                                     GCancellable *cancellable,
                                     guint         max_msec,
                                     GError      **error);
/* A GAsyncReadyCallback that stores a reference on the result in
 * *(GAsyncResult **) @user_data; and iterates until it is set. */
void       test_save_result         (GObject       *object,
                                     GAsyncResult  *result,
                                     gpointer       user_data);
/* A GAsyncReadyCallback for gather_group_run_async() that stores the
 * outcomes (or NULL on error) in *(GPtrArray **) @user_data. */
void       test_save_outcomes       (GObject       *object,
                                     GAsyncResult  *result,
                                     gpointer       user_data);
gboolean   test_iterate_until_result (GAsyncResult **result,
                                      guint          max_msec);
/* Iterates the thread-default context until *@flag is TRUE, at most
 * @max_msec; returns *@flag. */
gboolean   test_iterate_until       (gboolean     *flag,
                                     guint         max_msec);
gboolean   test_iterate_until_count (gint         *counter,
                                     gint          value,
                                     guint         max_msec);

GatherOutcome *test_outcome         (GPtrArray    *outcomes,
                                     guint         index);
/* Iterates the thread-default context until @outcome is marked abandoned,
 * at most @max_msec; returns whether it is. */
gboolean   test_iterate_until_abandoned (GatherOutcome *outcome,
                                         guint          max_msec);
/* The same, until @outcome is marked killed. */
gboolean   test_iterate_until_killed    (GatherOutcome *outcome,
                                         guint          max_msec);
/* Fails the test unless @error's message contains @part. */
void       test_assert_message_has  (const GError *error,
                                     const char   *part);

/* Returns a new registry loaded from a copy of the gather-*.so files of
 * @source ("shipped" for plugins/, "test" for tests/plugins/, "example"
 * for examples/plugin/, as the test environment names them). The copy is in a directory only this user can
 * write (0700, files 0644), so the registry's security checks pass
 * whatever the build directory's permissions. It is made once per process
 * and shared: a process loads one plugin of a given file name. *@out_dir,
 * if given, gets its path; test_remove_tree() leaves it alone, and it is
 * removed at exit. */
GatherRegistry *test_registry_new      (const char   *source,
                                        char        **out_dir);
/* Copies the file @from to @dir/@name, mode 0644 (the registry's checks
 * want a file only its owner can write); returns the new path. */
char           *test_install_file      (const char   *from,
                                        const char   *dir,
                                        const char   *name);
/* A new, separate copy, for tests that need one; remove it yourself. */
char           *test_copy_plugins      (const char   *source);
void            test_remove_tree       (const char   *path);

/* Runs one worker task in a fresh group on @registry; returns its outcome. */
GatherOutcome  *test_run_worker        (GatherRegistry *registry,
                                        const char     *worker,
                                        GVariant       *parameters,
                                        guint           timeout_msec);

/* How much slower timing-sensitive assertions may be: 1, or more under
 * valgrind (set GATHER_TEST_SLOWDOWN in the valgrind test setup). */
static inline guint
test_slowdown (void)
{
  const char *value = g_getenv ("GATHER_TEST_SLOWDOWN");
  guint64 factor = 1;

  if (value != NULL && !g_ascii_string_to_unsigned (value, 10, 1, 1000, &factor, NULL))
    g_error ("GATHER_TEST_SLOWDOWN must be a number from 1 to 1000");

  return (guint) factor;
}

G_END_DECLS
