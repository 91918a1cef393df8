/* gather-task-list.c: a group's tasks as a GListModel.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "gather-group-private.h"
#include "gather-task-list-private.h"
#include "gather-task-private.h"

/*
 * GatherTaskList: what gather_group_get_tasks() returns. The group creates
 * it when it is first asked for, and it creates each GatherTask when it is
 * first asked for (g_list_model_get_item()), from the group's state at that
 * moment; from then on the run updates the task as events come. A group
 * whose model nobody asked for pays one pointer test per event; one whose
 * model nobody connected to pays that and one handler lookup per task
 * added.
 *
 * Everything here runs on the group's main context.
 */
struct _GatherTaskList
{
  GObject      parent_instance;

  GatherGroup *group;      /* not owned (it owns us); NULL once it is gone */
  guint        n_items;
  GPtrArray   *tasks;      /* GatherTask or NULL, by index; NULL until the
                            * first get_item() */
  GPtrArray   *pending;    /* GatherTask with queued notifications, owned */
};

static void gather_task_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (GatherTaskList, gather_task_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      gather_task_list_model_init))

static guint items_changed_signal;

/* Tasks nobody asked for are NULL. */
static void
unref_task (gpointer task)
{
  if (task != NULL)
    g_object_unref (task);
}

static GType
gather_task_list_get_item_type (GListModel *model)
{
  return GATHER_TYPE_TASK;
}

static guint
gather_task_list_get_n_items (GListModel *model)
{
  return GATHER_TASK_LIST (model)->n_items;
}

static gpointer
gather_task_list_get_item (GListModel *model,
                           guint       position)
{
  GatherTaskList *self = GATHER_TASK_LIST (model);
  GatherTask *task;

  if (position >= self->n_items)
    return NULL;

  if (self->tasks == NULL)
    self->tasks = g_ptr_array_new_with_free_func (unref_task);
  if (self->tasks->len < self->n_items)
    g_ptr_array_set_size (self->tasks, self->n_items);

  task = g_ptr_array_index (self->tasks, position);
  if (task == NULL && self->group != NULL)
    {
      task = gather_group_create_task (self->group, position);
      g_ptr_array_index (self->tasks, position) = task;
    }

  return task != NULL ? g_object_ref (task) : NULL;
}

static void
gather_task_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = gather_task_list_get_item_type;
  iface->get_n_items = gather_task_list_get_n_items;
  iface->get_item = gather_task_list_get_item;
}

static void
gather_task_list_finalize (GObject *object)
{
  GatherTaskList *self = (GatherTaskList *)object;

  g_assert (self->group == NULL);

  g_clear_pointer (&self->tasks, g_ptr_array_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);

  G_OBJECT_CLASS (gather_task_list_parent_class)->finalize (object);
}

static void
gather_task_list_class_init (GatherTaskListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gather_task_list_finalize;

  items_changed_signal = g_signal_lookup ("items-changed", G_TYPE_LIST_MODEL);
}

static void
gather_task_list_init (GatherTaskList *self)
{
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
}

GatherTaskList *
gather_task_list_new (GatherGroup *group,
                      guint        n_items)
{
  GatherTaskList *self = g_object_new (GATHER_TYPE_TASK_LIST, NULL);

  self->group = group;
  self->n_items = n_items;

  return self;
}

/*
 * The group is being finalized. If somebody else keeps the model, it keeps
 * every task too, as they are now: create those nobody asked for yet.
 */
void
gather_task_list_detach (GatherTaskList *self)
{
  if (G_OBJECT (self)->ref_count > 1)
    for (guint i = 0; i < self->n_items; i++)
      g_object_unref (gather_task_list_get_item (G_LIST_MODEL (self), i));

  for (guint i = 0; self->tasks != NULL && i < self->tasks->len; i++)
    {
      GatherTask *task = g_ptr_array_index (self->tasks, i);

      if (task != NULL)
        gather_task_detach (task);
    }

  gather_task_list_flush (self);
  self->group = NULL;
}

/* @n_added tasks were appended to the group. */
void
gather_task_list_added (GatherTaskList *self,
                        guint           n_added)
{
  guint position = self->n_items;

  self->n_items += n_added;

  if (g_signal_has_handler_pending (self, items_changed_signal, 0, FALSE))
    g_list_model_items_changed (G_LIST_MODEL (self), position, 0, n_added);
}

/* The task object of @index, if one was created. */
GatherTask *
gather_task_list_peek (GatherTaskList *self,
                       guint           index)
{
  if (self->tasks == NULL || index >= self->tasks->len)
    return NULL;

  return g_ptr_array_index (self->tasks, index);
}

/* @task has notifications queued: emit them at the next flush. */
void
gather_task_list_queue (GatherTaskList *self,
                        GatherTask     *task)
{
  g_ptr_array_add (self->pending, g_object_ref (task));
}

/* Emits every queued notification, in the order the tasks changed first. */
void
gather_task_list_flush (GatherTaskList *self)
{
  g_autoptr(GPtrArray) pending = NULL;

  if (self->pending->len == 0)
    return;

  /* Handlers may change tasks again: those go to a new batch. */
  pending = g_steal_pointer (&self->pending);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < pending->len; i++)
    gather_task_flush (g_ptr_array_index (pending, i));
}
