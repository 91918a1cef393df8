/* gather-inbox-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gather-task-record-private.h"

G_BEGIN_DECLS

typedef struct _GatherInboxSource GatherInboxSource;

/* Events posted since the owner last took them, in order. */
typedef struct
{
  GatherEvent *items;
  guint        len;
  guint        size;   /* allocated items */
} GatherEvents;

/* Run-wide requests, posted from any thread. */
typedef enum
{
  GATHER_INBOX_START           = 1 << 0,  /* push the first tasks */
  GATHER_INBOX_STOP            = 1 << 1,  /* the stop word was set */
  GATHER_INBOX_RUNNING_CHANGED = 1 << 2,  /* n-running changed */
} GatherInboxFlags;

GatherInbox      *gather_inbox_new             (GMainContext     *context,
                                                GSourceFunc       dispatch,
                                                gpointer          data,
                                                GDestroyNotify    data_destroy);
GatherInbox      *gather_inbox_ref             (GatherInbox      *inbox);
void              gather_inbox_unref           (GatherInbox      *inbox);
void              gather_inbox_close           (GatherInbox      *inbox);

void              gather_inbox_lock            (GatherInbox      *inbox);
void              gather_inbox_unlock          (GatherInbox      *inbox);
void              gather_inbox_append_locked   (GatherInbox      *inbox,
                                                GatherTaskRecord *record,
                                                GatherEventKind   kind);

void              gather_inbox_post            (GatherInbox      *inbox,
                                                GatherTaskRecord *record,
                                                GatherEventKind   kind);
void              gather_inbox_post_flags      (GatherInbox      *inbox,
                                                GatherInboxFlags  flags);
gboolean          gather_inbox_stop            (GatherInbox      *inbox,
                                                GatherStopReason  reason);
GatherStopReason  gather_inbox_get_stop        (GatherInbox      *inbox);

GatherEvents     *gather_inbox_take            (GatherInbox      *inbox,
                                                GatherInboxFlags *flags);
void              gather_inbox_give_back       (GatherInbox      *inbox,
                                                GatherEvents     *events);
GatherTimer      *gather_inbox_get_timer       (GatherInbox      *inbox);

void              gather_inbox_add_running     (GatherInbox      *inbox,
                                                gint              delta);
void              gather_inbox_add_running_locked (GatherInbox   *inbox,
                                                   gint           delta);
guint             gather_inbox_get_n_running   (GatherInbox      *inbox);
void              gather_inbox_watch_running   (GatherInbox      *inbox,
                                                gboolean          watch);
void              gather_inbox_mark_thread     (void);

G_END_DECLS
