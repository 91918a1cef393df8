/* fetch-users-async.c: the seed scenario in C, asynchronously: a main
 * loop, the task-finished and finished signals, a progress property bound
 * to the group's, and the "sleep" plugin worker that bindings use too.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>

#include <libgather.h>

/* Something to bind the group's progress to, as a progress bar would be. */
#define EXAMPLE_TYPE_PROGRESS (example_progress_get_type ())
G_DECLARE_FINAL_TYPE (ExampleProgress, example_progress, EXAMPLE, PROGRESS, GObject)

struct _ExampleProgress
{
  GObject parent_instance;
  double  fraction;
};

G_DEFINE_FINAL_TYPE (ExampleProgress, example_progress, G_TYPE_OBJECT)

static void
example_progress_get_property (GObject    *object,
                               guint       id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  g_value_set_double (value, EXAMPLE_PROGRESS (object)->fraction);
}

static void
example_progress_set_property (GObject      *object,
                               guint         id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  EXAMPLE_PROGRESS (object)->fraction = g_value_get_double (value);
  g_print ("progress: %.0f%%\n", EXAMPLE_PROGRESS (object)->fraction * 100);
}

static void
example_progress_class_init (ExampleProgressClass *klass)
{
  G_OBJECT_CLASS (klass)->get_property = example_progress_get_property;
  G_OBJECT_CLASS (klass)->set_property = example_progress_set_property;
  g_object_class_install_property (G_OBJECT_CLASS (klass), 1,
    g_param_spec_double ("fraction", NULL, NULL, 0, 1, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

static void
example_progress_init (ExampleProgress *self)
{
}

static void
on_task_finished (GatherGroup   *group,
                  GatherOutcome *outcome,
                  gpointer       user_data)
{
  g_print ("done: %s\n", gather_outcome_get_label (outcome));
}

static void
on_finished (GatherGroup *group,
             GPtrArray   *outcomes,
             gpointer     user_data)
{
  g_print ("all %u tasks have an outcome\n", outcomes->len);
}

static void
on_run_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GError) error = NULL;

  outcomes = gather_group_run_finish (GATHER_GROUP (object), result, &error);
  if (outcomes == NULL)
    g_printerr ("%s\n", error->message);

  for (guint i = 0; outcomes != NULL && i < outcomes->len; i++)
    {
      GatherOutcome *outcome = g_ptr_array_index (outcomes, i);
      g_autoptr(GVariant) value = NULL;

      switch (gather_outcome_get_status (outcome))
        {
        case GATHER_STATUS_OK:
          value = g_variant_get_variant (gather_outcome_get_result (outcome));
          g_print ("%s: %s\n", gather_outcome_get_label (outcome), g_variant_get_string (value, NULL));
          break;

        case GATHER_STATUS_TIMEOUT:
          g_print ("%s: timeout (%s)\n", gather_outcome_get_label (outcome),
                   gather_outcome_get_error (outcome)->message);
          break;

        case GATHER_STATUS_ERROR:
        case GATHER_STATUS_CANCELLED:
        default:
          g_print ("%s: %s\n", gather_outcome_get_label (outcome),
                   gather_outcome_get_error (outcome)->message);
          break;
        }
    }

  /* Every outcome was queued when the run started. */
  if (outcomes != NULL && outcomes->len > 0)
    g_print ("finished in %.1f s\n",
             (g_get_monotonic_time () -
              gather_outcome_get_queued_time (g_ptr_array_index (outcomes, 0))) / 1e6);

  g_main_loop_quit (user_data);
}

int
main (void)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GatherPool) pool = gather_pool_new (4);
  g_autoptr(GatherGroup) group = gather_group_new ();
  g_autoptr(GObject) progress = NULL;
  g_autoptr(GError) error = NULL;

  setlocale (LC_ALL, "");
  gather_group_set_pool (group, pool);

  for (guint id = 1; id <= 4; id++)
    {
      g_autofree char *label = g_strdup_printf ("fetch user %u", id);
      g_autofree char *value = g_strdup_printf ("user_%u", id);

      if (gather_group_add_worker_task (group, "sleep",
                                        g_variant_new_parsed ("{'ms': <%u>, 'value': <%s>}",
                                                              id == 3 ? 5000 : 2000, value),
                                        label, 3000, &error) == G_MAXUINT)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }

  progress = g_object_new (EXAMPLE_TYPE_PROGRESS, NULL);
  g_object_bind_property (group, "fraction", progress, "fraction", G_BINDING_DEFAULT);
  g_signal_connect (group, "task-finished", G_CALLBACK (on_task_finished), NULL);
  g_signal_connect (group, "finished", G_CALLBACK (on_finished), NULL);

  gather_group_run_async (group, NULL, on_run_done, loop);
  g_main_loop_run (loop);

  return 0;
}
