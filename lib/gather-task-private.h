/* gather-task-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gather-task.h"
#include "gather-timer-private.h"

G_BEGIN_DECLS

typedef struct _GatherInbox      GatherInbox;
typedef struct _GatherTaskRecord GatherTaskRecord;

/*
 * A task's life is one atomic word: a phase in the low bits and, once
 * something stopped the task, the reason in the next bits. Every transition
 * is a compare-and-exchange, so the worker, the timer thread and the owner
 * agree on exactly one outcome without a lock.
 *
 *   QUEUED --worker--> RUNNING --worker--> RETURNED          (result or error)
 *   QUEUED --owner---> DROPPED                                (never started)
 *   RUNNING --timer/owner--> STOPPING --worker--> RETURNED    (cooperative)
 *   STOPPING --timer, after the grace period--> ABANDONED --worker--> LATE
 */
typedef enum
{
  GATHER_PHASE_QUEUED    = 0,
  GATHER_PHASE_RUNNING   = 1,
  GATHER_PHASE_STOPPING  = 2,
  GATHER_PHASE_ABANDONED = 3,
  GATHER_PHASE_RETURNED  = 4,
  GATHER_PHASE_LATE      = 5,
  GATHER_PHASE_DROPPED   = 6,
  GATHER_PHASE_MASK      = 0x0f,
} GatherPhase;

typedef enum
{
  GATHER_STOP_NONE      = 0,
  GATHER_STOP_TIMEOUT   = 1 << 4,
  GATHER_STOP_DEADLINE  = 2 << 4,
  GATHER_STOP_CANCELLED = 3 << 4,
  GATHER_STOP_POLICY    = 4 << 4,
  GATHER_STOP_MASK      = 0xf0,
} GatherStopReason;

#define GATHER_STATE_PHASE(s)  ((GatherPhase) ((s) & GATHER_PHASE_MASK))
#define GATHER_STATE_REASON(s) ((GatherStopReason) ((s) & GATHER_STOP_MASK))

/* What a worker or the timer thread tells the owner about a record. */
typedef enum
{
  GATHER_EVENT_RETURNED,   /* the body returned (RETURNED): record its outcome */
  GATHER_EVENT_ABANDONED,  /* grace period over, body still running */
  GATHER_EVENT_LATE,       /* an abandoned body finally returned */
  GATHER_EVENT_SKIPPED,    /* a worker popped a DROPPED task and skipped it */
} GatherEventKind;

typedef struct
{
  GatherTaskRecord *record;
  GatherEventKind   kind;
} GatherEvent;

/* Group-wide requests, posted from any thread. */
typedef enum
{
  GATHER_INBOX_START     = 1 << 0,
  GATHER_INBOX_CANCELLED = 1 << 1,
  GATHER_INBOX_DEADLINE  = 1 << 2,
} GatherInboxFlags;

/*
 * GatherTaskRecord: one task of a group. Internal; users see GatherOutcome.
 *
 * Owned by the group (one reference, dropped when the record is released on
 * the owner's context) and by each of its timers while armed. The pool's
 * queue borrows it: the owner releases a record only after its worker has
 * posted its last event. A timer may still hold it after that, so it keeps
 * its own reference on the inbox.
 */
struct _GatherTaskRecord
{
  /* Set on the owner before the task is pushed, then read-only. */
  GatherTaskFunc    func;
  gpointer          user_data;           /* destroyed on the owner's context */
  GDestroyNotify    user_data_destroy;
  GatherInbox      *inbox;               /* owned once dispatched */
  char             *label;               /* owner; moved into the outcome */
  guint             index;
  guint             timeout_msec;
  guint             grace_msec;

  /* Atomic. */
  gint              ref_count;
  gint              state;               /* GatherPhase | GatherStopReason */

  /* Written by the worker before the compare-and-exchange that publishes
   * them; read by others only after observing that state. */
  GCancellable     *cancellable;         /* owned */
  GVariant         *result;              /* owned, sunk */
  GError           *error;               /* owned */
  gint64            start_time;

  /* Owner's context only. */
  guint             dispatched : 1;      /* pushed to the pool */
  guint             recorded : 1;        /* outcome recorded */
  guint             replaced : 1;        /* holds a pool replacement thread */

  /* Guarded by the timer lock (see gather-timer.c). The timeout is armed
   * only by the worker; the grace period only by whoever moved the task to
   * STOPPING. Each armed timer holds a reference on the record. */
  GatherTimer       timeout_timer;
  GatherTimer       grace_timer;
};

GatherTaskRecord *gather_task_record_new   (guint             index,
                                            const char       *label,
                                            guint             timeout_msec,
                                            GatherTaskFunc    func,
                                            gpointer          user_data,
                                            GDestroyNotify    user_data_destroy);
GatherTaskRecord *gather_task_record_ref   (GatherTaskRecord *record);
void              gather_task_record_unref (GatherTaskRecord *record);
void              gather_task_record_run   (GatherTaskRecord *record);
gboolean          gather_task_record_drop  (GatherTaskRecord *record,
                                            GatherStopReason  reason);
void              gather_task_record_cancel (GatherTaskRecord *record,
                                             GatherStopReason  reason);

/* The inbox: how workers and the timer thread reach the owner's context.
 * Posting is thread-safe; draining happens on the owner's context only. */
GatherInbox      *gather_inbox_new         (GMainContext     *context,
                                            GSourceFunc       dispatch,
                                            gpointer          data,
                                            GDestroyNotify    data_destroy);
GatherInbox      *gather_inbox_ref         (GatherInbox      *inbox);
void              gather_inbox_unref       (GatherInbox      *inbox);
void              gather_inbox_close       (GatherInbox      *inbox);
void              gather_inbox_post        (GatherInbox      *inbox,
                                            GatherTaskRecord *record,
                                            GatherEventKind   kind);
gboolean          gather_inbox_post_if     (GatherInbox      *inbox,
                                            GatherTaskRecord *record,
                                            GatherEventKind   kind,
                                            gint              from_state,
                                            gint              to_state);
void              gather_inbox_post_flags  (GatherInbox      *inbox,
                                            GatherInboxFlags  flags);
GArray           *gather_inbox_take        (GatherInbox      *inbox,
                                            GatherInboxFlags *flags);
void              gather_inbox_give_back   (GatherInbox      *inbox,
                                            GArray           *events);
GatherTimer      *gather_inbox_get_timer   (GatherInbox      *inbox);
void              gather_inbox_add_running (GatherInbox      *inbox,
                                            gint              delta);
guint             gather_inbox_get_n_running (GatherInbox    *inbox);

G_END_DECLS
