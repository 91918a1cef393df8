/* gather-task-record-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gather-outcome.h"
#include "gather-retry-policy.h"
#include "gather-slab-private.h"
#include "gather-timer-private.h"

G_BEGIN_DECLS

typedef struct _GatherInbox      GatherInbox;
typedef struct _GatherRun        GatherRun;
typedef struct _GatherRunner     GatherRunner;
typedef struct _GatherTaskRecord GatherTaskRecord;

/*
 * A task's life is one atomic word: a phase in the low bits and, once
 * something stopped the task, the reason in the next bits. Every transition
 * is a compare-and-exchange, so the thread that runs the body (or completes
 * the operation), the timer thread, a thread that stops the run and the
 * owner agree on exactly one outcome without a lock.
 *
 *   QUEUED --starts--> RUNNING --returns--> DONE                outcome: its result
 *   QUEUED --stop----> DROPPED         (also while being started) outcome: the reason
 *   RUNNING --timeout, deadline, cancel, policy--> STOPPED      outcome: the reason,
 *                                                               recorded at once
 *   STOPPED --returns--> SETTLED          (its result is freed unseen)
 *   STOPPED --grace period over--> ABANDONED --returns--> SETTLED
 *
 * Each transition out of RUNNING or STOPPED posts one event to the run's
 * inbox, in the same critical section as the exchange, so the owner sees a
 * task's events in the order they happened.
 */
typedef enum
{
  GATHER_PHASE_QUEUED    = 0,
  GATHER_PHASE_RUNNING   = 1,
  GATHER_PHASE_DONE      = 2,
  GATHER_PHASE_STOPPED   = 3,
  GATHER_PHASE_ABANDONED = 4,
  GATHER_PHASE_SETTLED   = 5,
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

/* What the owner is told about a record, through the inbox. */
typedef enum
{
  GATHER_EVENT_RETURNED,   /* RUNNING -> DONE: record the outcome, release */
  GATHER_EVENT_STOPPED,    /* RUNNING -> STOPPED: record the outcome now */
  GATHER_EVENT_ABANDONED,  /* STOPPED -> ABANDONED: the grace period is over */
  GATHER_EVENT_SETTLED,    /* -> SETTLED: a stopped body returned; release */
  GATHER_EVENT_SKIPPED,    /* a pool thread will not start it: release */
  GATHER_EVENT_STARTED,    /* QUEUED -> RUNNING, posted only for a record
                            * somebody watches (a GatherTask exists) */
} GatherEventKind;

typedef struct
{
  GatherTaskRecord *record;
  GatherEventKind   kind;
} GatherEvent;

/*
 * GatherTaskRecord: one task of a group. Internal; users see GatherOutcome,
 * and the handle of an async task (GatherCompletion) is a record too.
 *
 * A task tried again (see GatherRetryPolicy) gets a new record per
 * attempt, with the same index, label, body and user data: a record is
 * one attempt, and its state machine never goes back.
 *
 * References: the group or its run holds one until the owner releases the
 * record; each armed timer holds one; a thread that stops the task holds
 * one while it cancels it; each completion handle holds one. The pool's
 * queue borrows the record: the owner releases a pushed record only after
 * its pool thread has posted its last event.
 */
struct _GatherTaskRecord
{
  /* Set on the owner before the task starts, then read-only. */
  const GatherRunner *runner;
  gpointer          func;                /* the body, per runner */
  gpointer          user_data;           /* destroyed on the owner's context */
  GDestroyNotify    user_data_destroy;
  GatherInbox      *inbox;               /* owned once the run starts */
  char             *label;               /* owned; moved into the outcome */
  guint             index;
  guint             timeout_msec;
  guint             grace_msec;

  /* Owner's context only: what the run needs to order and retry tasks,
   * and where the task is. (Fields are ordered so that the record has no
   * holes: 248 bytes.) */
  gint              priority;            /* higher starts first */
  guint             attempt;             /* from 1 */
  guint             recorded : 1;        /* outcome recorded */
  guint             holds_slot : 1;      /* counts against max-concurrent */
  guint             abandoned : 1;       /* the grace period passed */
  guint             replaced : 1;        /* holds a pool replacement thread */
  guint             launched : 1;        /* handed to its runner */
  guint             backoff : 1;         /* a retry waiting for its delay */
  guint             shares_data : 1;     /* its user data belongs to the
                                          * task's retry state (gather-run.c) */
  guint             retried : 1;         /* its outcome was not the task's:
                                          * another attempt followed */
  GatherRetryPolicy *retry;              /* owned; NULL: the group's */
  gint64            queued_time;         /* added late: when; else 0 */

  /* Atomic. */
  gint              watched;             /* post STARTED when it starts */
  gint              ref_count;
  gint              state;               /* GatherPhase | GatherStopReason */
  gint              n_handles;           /* async: completion handles alive */
  gint              completed;           /* async: a handle completed it */

  /* Written on the owner before the record is handed to the pool, read by
   * the pool thread that pops it: not a bit field next to the owner's. */
  gboolean          dispatched;          /* handed to the pool */

  /* Written by whoever starts the task before the exchange that publishes
   * RUNNING, and by whoever finishes it before the exchange that publishes
   * DONE or SETTLED; read by others only after observing that state. */
  GCancellable     *cancellable;         /* owned */
  GVariant         *result;              /* owned, sunk */
  GError           *error;               /* owned */
  gint64            start_time;
  gpointer          finish_func;         /* async: see gather_completion_finish_with() */
  gboolean          dropped;             /* async: its last handle was dropped */
  gboolean          killed;              /* isolated: its helper was killed */

  GatherTaskRecord *pool_next;           /* the pool's queue; under its lock */

  /* Guarded by the timer lock (see gather-timer.c); each armed timer holds
   * a reference on the record. */
  GatherTimer       timeout_timer;
  GatherTimer       grace_timer;
};

/*
 * GatherTaskSpec: a task added before its run and not needed as a record
 * yet: what gather_task_record_spec_take() makes its record from when the
 * run starts it (or anything else needs it). 48 bytes against a record's
 * 248: a group of 10^5 tasks waiting for their turn would otherwise spread
 * 25 MB of records over fresh pages (a page fault per 16 records, ~3 µs
 * each, gather-bench's speed section) that the run touches once more
 * each, long after. Owner's context only.
 */
typedef struct
{
  const GatherRunner *runner;            /* NULL: taken (its record exists) */
  gpointer            func;
  gpointer            user_data;
  GDestroyNotify      user_data_destroy;
  char               *label;             /* owned */
  guint               timeout_msec;
} GatherTaskSpec;

/* The specs of a group's tasks added before its run, by index. */
typedef struct
{
  GatherTaskSpec *items;
  guint           len;
  guint           allocated;
} GatherTaskSpecs;

void              gather_task_specs_grow          (GatherTaskSpecs    *specs);

/* A new spec at the end of @specs, to be initialized. (Inline: adding a
 * task is on the hot path, and GArray's append costs a call and a
 * memcpy().) */
static inline GatherTaskSpec *
gather_task_specs_append (GatherTaskSpecs *specs)
{
  if (G_UNLIKELY (specs->len == specs->allocated))
    gather_task_specs_grow (specs);

  return &specs->items[specs->len++];
}

void              gather_task_spec_init           (GatherTaskSpec     *spec,
                                                   const GatherRunner *runner,
                                                   const char         *label,
                                                   guint               timeout_msec,
                                                   gpointer            func,
                                                   gpointer            user_data,
                                                   GDestroyNotify      user_data_destroy);
GatherTaskRecord *gather_task_record_spec_take    (GatherSlab         *slab,
                                                   GatherTaskSpec     *spec,
                                                   guint               index);

/*
 * gather_task_record_at:
 * The record of task @index in @records (GatherTaskRecord, NULL where
 * there is none), made first from its spec in @specs if that was not
 * taken yet. NULL once the task's
 * records are released. Owner's context.
 */
static inline GatherTaskRecord *
gather_task_record_at (GPtrArray       *records,
                       GatherTaskSpecs *specs,
                       GatherSlab      *slab,
                       guint            index)
{
  GatherTaskRecord **slot = (GatherTaskRecord **) &records->pdata[index];

  if (*slot == NULL && index < specs->len && specs->items[index].runner != NULL)
    *slot = gather_task_record_spec_take (slab, &specs->items[index], index);

  return *slot;
}

GatherTaskRecord *gather_task_record_new          (GatherSlab         *slab,
                                                   const GatherRunner *runner,
                                                   guint               index,
                                                   const char         *label,
                                                   guint               timeout_msec,
                                                   gpointer            func,
                                                   gpointer            user_data,
                                                   GDestroyNotify      user_data_destroy);
GatherTaskRecord *gather_task_record_ref          (GatherTaskRecord   *record);
void              gather_task_record_unref        (GatherTaskRecord   *record);
char             *gather_task_record_describe     (guint               index,
                                                   const char         *label);

gboolean          gather_task_record_begin        (GatherTaskRecord   *record,
                                                   GCancellable      **cancellable,
                                                   gint64              start_time);
gboolean          gather_task_record_try_begin    (GatherTaskRecord   *record,
                                                   GCancellable      **cancellable,
                                                   gint64              start_time);
void              gather_task_record_skip         (GatherTaskRecord   *record);
gboolean          gather_task_record_stop         (GatherTaskRecord   *record,
                                                   GatherStopReason    reason);
gint64            gather_task_record_stopped_at   (GatherTaskRecord   *record);
void              gather_task_record_cancel       (GatherTaskRecord   *record);
gboolean          gather_task_record_finish       (GatherTaskRecord   *record,
                                                   GVariant           *result,
                                                   GError             *error,
                                                   GCancellable      **out_cancellable);
gboolean          gather_task_record_drop         (GatherTaskRecord   *record,
                                                   GatherStopReason    reason);
extern guint      gather_cancelled_signal;
void              gather_task_record_init_once    (void);

/* What the outcome of a later attempt needs from the ones before. */
typedef struct
{
  gint64         first_start_time;   /* when attempt 1 started */
  GatherOutcome *last;               /* the previous attempt's outcome */
} GatherRetryInfo;

GatherOutcome    *gather_task_record_take_outcome (GatherTaskRecord      *record,
                                                   GatherSlab            *slab,
                                                   gint64                 queued_time,
                                                   guint                  deadline_msec,
                                                   const char            *stop_message,
                                                   const GatherRetryInfo *retry);

/*
 * gather_cancellable_is_unobserved:
 * Whether a task's cancellable can serve another task: nobody holds a
 * reference on it but the caller, nobody cancelled it and nothing is
 * connected to it. Any thread, for a cancellable no other thread touches.
 */
static inline gboolean
gather_cancellable_is_unobserved (GCancellable *cancellable)
{
  return g_atomic_int_get ((gint *) &((GObject *) cancellable)->ref_count) == 1 &&
         !g_cancellable_is_cancelled (cancellable) &&
         !g_signal_has_handler_pending (cancellable, gather_cancelled_signal, 0, TRUE);
}

G_END_DECLS
