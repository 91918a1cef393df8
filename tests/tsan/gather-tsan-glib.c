/* gather-tsan-glib.c: teaches ThreadSanitizer GLib's synchronization.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built only in a build configured with -Db_sanitize=thread, and loaded with
 * LD_PRELOAD by the "tsan" test setup (tests/tsan/meson.build). It is not
 * part of libgather.
 *
 * Debian's GLib is not built with ThreadSanitizer, so TSan sees none of the
 * memory accesses inside it, which is fine, and none of its synchronization,
 * which is not: on Linux a GMutex and a GCond are futexes and atomics, not
 * pthread objects, so TSan would report every access that a GMutex orders in
 * gather (or in a test) as a race. The same goes for data handed from thread
 * to thread through GLib's own queues (GThreadPool, GMainContext, GOnce) and
 * for the atomic reference count of a GObject.
 *
 * The usual shortcut is a suppressions file with `called_from_lib:libglib`
 * or `race:libglib`. The first makes TSan ignore every free() that g_free()
 * does, so a gather object freed on one thread while another still uses it
 * (the races this setup exists to find) goes unseen; the second hides every
 * report with a GLib frame in it, and nearly every report has one (a body
 * runs under GLib's pool thread, the owner's code under g_main_dispatch).
 * Instead this library interposes the GLib functions that synchronize and
 * tells TSan what they do, with the annotations of
 * <sanitizer/tsan_interface.h>:
 *
 * - g_mutex_{init,clear,lock,trylock,unlock}: a mutex, as for a
 *   pthread_mutex_t. g_cond_wait() and g_cond_wait_until() release and
 *   reacquire their mutex. (GRecMutex, GRWLock and GPrivate are pthread
 *   objects in GLib 2.74, which TSan already intercepts; their lazy
 *   allocation is in tsan.supp.)
 * - g_once_init_enter()/g_once_init_leave(): a release at the leave and an
 *   acquire where a caller finds the value set. The inline fast path of the
 *   g_once_init_enter() macro is an instrumented atomic load in the caller,
 *   which acquires from the same address.
 * - g_thread_pool_push() releases the item; the pool's function, wrapped by
 *   g_thread_pool_new{,_full}(), acquires it before it runs. Likewise a
 *   GAsyncQueue push and the pop that returns the item.
 * - GMainContext: attaching a source and setting its ready time happen under
 *   a lock the shim keeps per context, and every dispatch of a source
 *   attached through the shim takes that lock first (see below).
 *   g_idle_add*(), g_timeout_add*() and g_main_context_invoke*() order the
 *   call before the callback.
 * - g_object_unref() releases the object, and acquires it when the caller
 *   holds the last reference, as the atomic decrement in GObject does;
 *   g_main_context_unref() likewise (GLib 2.74 frees the context and closes
 *   its eventfd there, which TSan counts as a write to the descriptor).
 *
 * Every annotation mirrors an order that GLib really guarantees, so none of
 * them can hide a race: a missing one can only cause a false report.
 *
 * GLib's calls to itself are bound at link time (-Bsymbolic-functions), so
 * they bypass this library; they order GLib's own memory, which TSan does
 * not see. libgobject and libgio call libglib through the PLT, so their
 * mutexes, conditions, sources and once-initializations are covered.
 * Where GLib allocates memory of its own in one thread and frees it in
 * another under its internal locks (queue nodes of a thread pool, the
 * lists of a main context, GSource structures), the shim keeps TSan from
 * recording the allocation (an ignore annotation around the call:
 * accesses only, synchronization still counts); a custom source's fields
 * that gather writes are still checked. GLib's worker thread ("gmain"),
 * which runs nothing of gather's, is ignored as a whole. What is left is
 * in tsan.supp, each entry with the reason it is GLib's.
 *
 * With TSAN_OPTIONS=io_sync=0 (set by the test setup) TSan does not treat a
 * write to a file descriptor and a read from it as an order: GMainContext
 * wakes its owner with an eventfd, which would otherwise order everything a
 * worker did before any wake-up with everything the owner does after it,
 * and hide races between them.
 *
 * The library does not link GLib: it finds the real functions with
 * dlsym (RTLD_NEXT), and the TSan entry points are weak, so child processes
 * that inherit LD_PRELOAD (a shell, a command the spawn plugin runs) load it
 * harmlessly.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/tsan_interface.h>

/* Just enough of GLib's ABI, without its headers: this file defines
 * functions that glib.h declares, with GLib's own signatures. */
typedef int gboolean;
typedef void *gpointer;
typedef int64_t gint64;
typedef uint64_t guint64;
typedef unsigned int guint;
typedef void (*GFunc) (gpointer data, gpointer user_data);
typedef void (*GDestroyNotify) (gpointer data);
typedef gboolean (*GSourceFunc) (gpointer user_data);

typedef struct { gpointer p; guint i[2]; } GMutex;
typedef struct { gpointer p; guint i[2]; } GCond;
typedef struct _GThreadPool GThreadPool;
typedef struct _GError GError;
typedef struct _GMainContext GMainContext;
typedef struct { gpointer g_class; guint ref_count; gpointer qdata; } GObject;
typedef struct _GSource GSource;

/* The dynamic annotations every TSan program exports (LLVM's
 * tsan_interface_ann.cpp); __tsan_ignore_thread_begin() does the same but is
 * exported only by programs linked with --export-dynamic. */
void AnnotateIgnoreReadsBegin (const char *file, int line);
void AnnotateIgnoreReadsEnd (const char *file, int line);
void AnnotateIgnoreWritesBegin (const char *file, int line);
void AnnotateIgnoreWritesEnd (const char *file, int line);

/* Weak: a process without the TSan runtime (a child that inherited
 * LD_PRELOAD) gets NULL and no annotation. */
#pragma weak __tsan_acquire
#pragma weak __tsan_release
#pragma weak __tsan_mutex_create
#pragma weak __tsan_mutex_destroy
#pragma weak __tsan_mutex_pre_lock
#pragma weak __tsan_mutex_post_lock
#pragma weak __tsan_mutex_pre_unlock
#pragma weak __tsan_mutex_post_unlock
#pragma weak AnnotateIgnoreReadsBegin
#pragma weak AnnotateIgnoreReadsEnd
#pragma weak AnnotateIgnoreWritesBegin
#pragma weak AnnotateIgnoreWritesEnd

/* Every entry point above is there, or none is. */
#define HAVE_TSAN (__tsan_acquire != NULL && AnnotateIgnoreWritesBegin != NULL)

static void *
real_symbol (const char *name)
{
  void *symbol = dlsym (RTLD_NEXT, name);

  if (symbol == NULL)
    {
      fprintf (stderr, "gather-tsan-glib: %s not found: %s\n", name, dlerror ());
      abort ();
    }

  return symbol;
}

/* The real function NAME, looked up once. Racing lookups store the same
 * value; the shim itself is not instrumented. */
#define REAL(ret, name, params)                                               \
  static ret (*real_##name) params;                                           \
  if (__atomic_load_n (&real_##name, __ATOMIC_ACQUIRE) == NULL)               \
    __atomic_store_n (&real_##name, real_symbol (#name), __ATOMIC_RELEASE)

static void
acquire (const void *address)
{
  if (HAVE_TSAN)
    __tsan_acquire ((void *) address);
}

static void
release (const void *address)
{
  if (HAVE_TSAN)
    __tsan_release ((void *) address);
}

/*
 * Memory accesses (not synchronization) between ignore_begin() and
 * ignore_end() are not recorded: the shim brackets calls into GLib whose
 * own allocations cross threads under locks TSan cannot see. Code of
 * gather's or a test's that GLib calls back from inside such a call (a
 * function g_main_context_invoke() runs at once, a pool's item free
 * function) runs through a trampoline that lifts the brackets for the
 * duration with ignore_suspend(): user code is always checked.
 */
static __thread int ignore_depth;

static void
annotate_ignore (gboolean begin)
{
  if (!HAVE_TSAN)
    return;

  if (begin)
    {
      AnnotateIgnoreReadsBegin (__FILE__, __LINE__);
      AnnotateIgnoreWritesBegin (__FILE__, __LINE__);
    }
  else
    {
      AnnotateIgnoreWritesEnd (__FILE__, __LINE__);
      AnnotateIgnoreReadsEnd (__FILE__, __LINE__);
    }
}

static void
ignore_begin (void)
{
  ignore_depth++;
  annotate_ignore (1);
}

static void
ignore_end (void)
{
  annotate_ignore (0);
  ignore_depth--;
}

/* Returns the depth to give back to ignore_resume(). */
static int
ignore_suspend (void)
{
  int depth = ignore_depth;

  for (int i = 0; i < depth; i++)
    ignore_end ();

  return depth;
}

static void
ignore_resume (int depth)
{
  for (int i = 0; i < depth; i++)
    ignore_begin ();
}

/* ---- GMutex, GCond ---- */

void g_mutex_init (GMutex *mutex);
void g_mutex_clear (GMutex *mutex);
void g_mutex_lock (GMutex *mutex);
gboolean g_mutex_trylock (GMutex *mutex);
void g_mutex_unlock (GMutex *mutex);
void g_cond_wait (GCond *cond, GMutex *mutex);
gboolean g_cond_wait_until (GCond *cond, GMutex *mutex, gint64 end_time);

static void
annotate_unlock (GMutex *mutex)
{
  if (HAVE_TSAN)
    {
      __tsan_mutex_pre_unlock (mutex, 0);
      __tsan_mutex_post_unlock (mutex, 0);
    }
}

static void
annotate_lock (GMutex *mutex)
{
  if (HAVE_TSAN)
    {
      __tsan_mutex_pre_lock (mutex, 0);
      __tsan_mutex_post_lock (mutex, 0, 0);
    }
}

void
g_mutex_init (GMutex *mutex)
{
  REAL (void, g_mutex_init, (GMutex *));

  real_g_mutex_init (mutex);
  if (HAVE_TSAN)
    __tsan_mutex_create (mutex, 0);
}

void
g_mutex_clear (GMutex *mutex)
{
  REAL (void, g_mutex_clear, (GMutex *));

  if (HAVE_TSAN)
    __tsan_mutex_destroy (mutex, 0);
  real_g_mutex_clear (mutex);
}

void
g_mutex_lock (GMutex *mutex)
{
  REAL (void, g_mutex_lock, (GMutex *));

  if (HAVE_TSAN)
    __tsan_mutex_pre_lock (mutex, 0);
  real_g_mutex_lock (mutex);
  if (HAVE_TSAN)
    __tsan_mutex_post_lock (mutex, 0, 0);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  gboolean locked;
  REAL (gboolean, g_mutex_trylock, (GMutex *));

  if (HAVE_TSAN)
    __tsan_mutex_pre_lock (mutex, __tsan_mutex_try_lock);
  locked = real_g_mutex_trylock (mutex);
  if (HAVE_TSAN)
    __tsan_mutex_post_lock (mutex,
                            __tsan_mutex_try_lock |
                            (locked ? 0 : __tsan_mutex_try_lock_failed), 0);

  return locked;
}

void
g_mutex_unlock (GMutex *mutex)
{
  REAL (void, g_mutex_unlock, (GMutex *));

  if (HAVE_TSAN)
    __tsan_mutex_pre_unlock (mutex, 0);
  real_g_mutex_unlock (mutex);
  if (HAVE_TSAN)
    __tsan_mutex_post_unlock (mutex, 0);
}

void
g_cond_wait (GCond  *cond,
             GMutex *mutex)
{
  REAL (void, g_cond_wait, (GCond *, GMutex *));

  annotate_unlock (mutex);
  real_g_cond_wait (cond, mutex);
  annotate_lock (mutex);
}

gboolean
g_cond_wait_until (GCond  *cond,
                   GMutex *mutex,
                   gint64  end_time)
{
  gboolean signalled;
  REAL (gboolean, g_cond_wait_until, (GCond *, GMutex *, gint64));

  annotate_unlock (mutex);
  signalled = real_g_cond_wait_until (cond, mutex, end_time);
  annotate_lock (mutex);

  return signalled;
}

/* ---- GOnce ---- */

gboolean g_once_init_enter (volatile void *location);
void g_once_init_leave (volatile void *location, uintptr_t result);

gboolean
g_once_init_enter (volatile void *location)
{
  gboolean initialize;
  REAL (gboolean, g_once_init_enter, (volatile void *));

  initialize = real_g_once_init_enter (location);
  if (!initialize)
    acquire ((const void *) location);   /* another thread initialized it */

  return initialize;
}

void
g_once_init_leave (volatile void *location,
                   uintptr_t      result)
{
  REAL (void, g_once_init_leave, (volatile void *, uintptr_t));

  release ((const void *) location);
  real_g_once_init_leave (location, result);
}

/* ---- GThreadPool ---- */

GThreadPool *g_thread_pool_new (GFunc func, gpointer user_data, int max_threads,
                                gboolean exclusive, GError **error);
GThreadPool *g_thread_pool_new_full (GFunc func, gpointer user_data,
                                     GDestroyNotify item_free_func,
                                     int max_threads, gboolean exclusive,
                                     GError **error);
gboolean g_thread_pool_push (GThreadPool *pool, gpointer data, GError **error);

typedef struct
{
  GFunc    func;
  gpointer user_data;
} PoolFunc;

static void
pool_func_trampoline (gpointer data,
                      gpointer user_data)
{
  PoolFunc *pool_func = user_data;
  int depth = ignore_suspend ();

  acquire (data);
  pool_func->func (data, pool_func->user_data);
  ignore_resume (depth);
}

/* The PoolFunc is never freed: a pool freed without waiting still runs its
 * queued items after g_thread_pool_free() returns. One per pool. */
static PoolFunc *
pool_func_new (GFunc    func,
               gpointer user_data)
{
  PoolFunc *pool_func = malloc (sizeof *pool_func);

  if (pool_func == NULL)
    abort ();
  pool_func->func = func;
  pool_func->user_data = user_data;

  return pool_func;
}

GThreadPool *
g_thread_pool_new_full (GFunc           func,
                        gpointer        user_data,
                        GDestroyNotify  item_free_func,
                        int             max_threads,
                        gboolean        exclusive,
                        GError        **error)
{
  PoolFunc *pool_func = pool_func_new (func, user_data);
  GThreadPool *pool;
  REAL (GThreadPool *, g_thread_pool_new_full,
        (GFunc, gpointer, GDestroyNotify, int, gboolean, GError **));

  /* The pool's structure is GLib's: freed without waiting, the pool is
   * freed by its last thread, under its queue's lock. */
  ignore_begin ();
  pool = real_g_thread_pool_new_full (pool_func_trampoline, pool_func,
                                      item_free_func, max_threads, exclusive,
                                      error);
  ignore_end ();

  return pool;
}

GThreadPool *
g_thread_pool_new (GFunc      func,
                   gpointer   user_data,
                   int        max_threads,
                   gboolean   exclusive,
                   GError   **error)
{
  return g_thread_pool_new_full (func, user_data, NULL, max_threads,
                                 exclusive, error);
}

gboolean
g_thread_pool_push (GThreadPool  *pool,
                    gpointer      data,
                    GError      **error)
{
  gboolean pushed;
  REAL (gboolean, g_thread_pool_push, (GThreadPool *, gpointer, GError **));

  release (data);
  /* GLib allocates a queue node here, under the pool's internal lock, and
   * the worker frees it before the trampoline can acquire anything: what
   * GLib does inside the push is GLib's own business. */
  ignore_begin ();
  pushed = real_g_thread_pool_push (pool, data, error);
  ignore_end ();

  return pushed;
}

/* Freeing a pool and changing its size push GLib's own wake-up markers
 * through the queue, with the same node allocation as a push. */
void g_thread_pool_free (GThreadPool *pool, gboolean immediate, gboolean wait_);
gboolean g_thread_pool_set_max_threads (GThreadPool *pool, int max_threads,
                                        GError **error);

void
g_thread_pool_free (GThreadPool *pool,
                    gboolean     immediate,
                    gboolean     wait_)
{
  REAL (void, g_thread_pool_free, (GThreadPool *, gboolean, gboolean));

  ignore_begin ();
  real_g_thread_pool_free (pool, immediate, wait_);
  ignore_end ();
}

gboolean
g_thread_pool_set_max_threads (GThreadPool  *pool,
                               int           max_threads,
                               GError      **error)
{
  gboolean set;
  REAL (gboolean, g_thread_pool_set_max_threads, (GThreadPool *, int, GError **));

  ignore_begin ();
  set = real_g_thread_pool_set_max_threads (pool, max_threads, error);
  ignore_end ();

  return set;
}

/* ---- GAsyncQueue ---- */

/* A push releases the item and a pop that returns it acquires it; the
 * queue's nodes are GLib's (as for a thread pool). g_async_queue_lock()
 * and _unlock() are a mutex on the queue. */
typedef struct _GAsyncQueue GAsyncQueue;

void g_async_queue_push (GAsyncQueue *queue, gpointer data);
void g_async_queue_push_front (GAsyncQueue *queue, gpointer data);
void g_async_queue_push_unlocked (GAsyncQueue *queue, gpointer data);
gpointer g_async_queue_pop (GAsyncQueue *queue);
gpointer g_async_queue_try_pop (GAsyncQueue *queue);
gpointer g_async_queue_timeout_pop (GAsyncQueue *queue, guint64 timeout);
gpointer g_async_queue_pop_unlocked (GAsyncQueue *queue);
gpointer g_async_queue_try_pop_unlocked (GAsyncQueue *queue);
gpointer g_async_queue_timeout_pop_unlocked (GAsyncQueue *queue, guint64 timeout);
void g_async_queue_lock (GAsyncQueue *queue);
void g_async_queue_unlock (GAsyncQueue *queue);

#define QUEUE_PUSH(name)                                                      \
  void                                                                        \
  name (GAsyncQueue *queue,                                                   \
        gpointer     data)                                                    \
  {                                                                           \
    REAL (void, name, (GAsyncQueue *, gpointer));                             \
                                                                              \
    release (data);                                                           \
    ignore_begin ();                                                          \
    real_##name (queue, data);                                                \
    ignore_end ();                                                            \
  }

QUEUE_PUSH (g_async_queue_push)
QUEUE_PUSH (g_async_queue_push_front)
QUEUE_PUSH (g_async_queue_push_unlocked)

#define QUEUE_POP(name)                                                       \
  gpointer                                                                    \
  name (GAsyncQueue *queue)                                                   \
  {                                                                           \
    gpointer data;                                                            \
    REAL (gpointer, name, (GAsyncQueue *));                                   \
                                                                              \
    ignore_begin ();                                                          \
    data = real_##name (queue);                                               \
    ignore_end ();                                                            \
    if (data != NULL)                                                         \
      acquire (data);                                                         \
                                                                              \
    return data;                                                              \
  }

QUEUE_POP (g_async_queue_pop)
QUEUE_POP (g_async_queue_try_pop)
QUEUE_POP (g_async_queue_pop_unlocked)
QUEUE_POP (g_async_queue_try_pop_unlocked)

#define QUEUE_TIMEOUT_POP(name)                                               \
  gpointer                                                                    \
  name (GAsyncQueue *queue,                                                   \
        guint64      timeout)                                                 \
  {                                                                           \
    gpointer data;                                                            \
    REAL (gpointer, name, (GAsyncQueue *, guint64));                          \
                                                                              \
    ignore_begin ();                                                          \
    data = real_##name (queue, timeout);                                      \
    ignore_end ();                                                            \
    if (data != NULL)                                                         \
      acquire (data);                                                         \
                                                                              \
    return data;                                                              \
  }

QUEUE_TIMEOUT_POP (g_async_queue_timeout_pop)
QUEUE_TIMEOUT_POP (g_async_queue_timeout_pop_unlocked)

void
g_async_queue_lock (GAsyncQueue *queue)
{
  REAL (void, g_async_queue_lock, (GAsyncQueue *));

  real_g_async_queue_lock (queue);
  annotate_lock ((GMutex *) queue);
}

void
g_async_queue_unlock (GAsyncQueue *queue)
{
  REAL (void, g_async_queue_unlock, (GAsyncQueue *));

  annotate_unlock ((GMutex *) queue);
  real_g_async_queue_unlock (queue);
}

/* ---- Main context sources ---- */

/*
 * GLib orders everything a thread does to a context (attaching a source,
 * setting its ready time) before the owner's next dispatch with the
 * context's own lock, which TSan cannot see. The shim models it with a
 * pthread mutex of its own per context, which TSan does see: attaching a
 * source and setting its ready time happen under it, and every dispatch
 * takes it and lets it go before calling the source's dispatch function.
 * GLib holds no lock of its own while it dispatches, prepares, checks or
 * finalizes a source, so the two locks never nest the other way round.
 *
 * A source's dispatch function is wrapped when the source is attached
 * through the PLT (by gather, the tests, libgio or libgobject): its
 * GSourceFuncs is replaced by a copy whose dispatch takes the lock first.
 * Sources that GLib attaches by itself (g_idle_add(), g_timeout_add(),
 * g_main_context_invoke()) get their callback wrapped instead, with an
 * order from the call to the callback.
 */

typedef struct _GSourceFuncs GSourceFuncs;
struct _GSourceFuncs
{
  gpointer prepare, check, dispatch, finalize, closure_callback, closure_marshal;
};

/* The start of GLib 2.74's struct _GSource. */
struct _GSourcePrefixFull
{
  gpointer            callback_data;
  gpointer            callback_funcs;
  const GSourceFuncs *source_funcs;
  guint               ref_count;
  GMainContext       *context;
};

#define SOURCE_FUNCS(source) (((struct _GSourcePrefixFull *) (source))->source_funcs)
#define SOURCE_CONTEXT(source) (((struct _GSourcePrefixFull *) (source))->context)

#define N_CONTEXTS 4096

typedef struct
{
  GMainContext    *context;
  pthread_mutex_t  mutex;
} ContextLock;

static ContextLock *context_locks[N_CONTEXTS];
static pthread_mutex_t overflow_lock = PTHREAD_MUTEX_INITIALIZER;

/* The lock of @context, made on first use and kept: the table is
 * lock-free, since a lock around it would order unrelated threads. A
 * context freed and another allocated at its address share a lock, which
 * orders nothing that GLib does not. */
static pthread_mutex_t *
context_lock (GMainContext *context)
{
  ContextLock *made = NULL;
  guint start = (guint) (((uintptr_t) context >> 4) % N_CONTEXTS);

  for (guint n = 0; n < N_CONTEXTS; n++)
    {
      guint i = (start + n) % N_CONTEXTS;
      ContextLock *found = __atomic_load_n (&context_locks[i], __ATOMIC_ACQUIRE);

      if (found == NULL)
        {
          if (made == NULL)
            {
              /* The shim's own memory, published by an atomic TSan does
               * not see: keep TSan from recording its initialization. */
              ignore_begin ();
              made = malloc (sizeof *made);
              if (made == NULL)
                abort ();
              made->context = context;
              pthread_mutex_init (&made->mutex, NULL);
              ignore_end ();
            }
          if (__atomic_compare_exchange_n (&context_locks[i], &found, made, 0,
                                           __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return &made->mutex;
        }
      if (found->context == context)
        {
          if (made != NULL)
            {
              ignore_begin ();
              pthread_mutex_destroy (&made->mutex);
              free (made);
              ignore_end ();
            }
          return &found->mutex;
        }
    }

  return &overflow_lock;   /* full: one lock for the rest, which over-orders */
}

static GMainContext *
default_context (GMainContext *context)
{
  REAL (GMainContext *, g_main_context_default, (void));

  return context != NULL ? context : real_g_main_context_default ();
}

/* The owner is about to dispatch: everything done to @context under its
 * lock so far happened before. */
static void
context_sync (GMainContext *context)
{
  pthread_mutex_t *mutex;

  if (!HAVE_TSAN || context == NULL)
    return;

  mutex = context_lock (context);
  pthread_mutex_lock (mutex);
  pthread_mutex_unlock (mutex);
}

typedef gboolean (*DispatchFunc) (GSource *source, gpointer callback, gpointer user_data);

typedef struct
{
  GSourceFuncs        funcs;       /* first: what the source points to */
  const GSourceFuncs *original;
} WrappedFuncs;

#define N_WRAPPED 256
static WrappedFuncs *wrapped_funcs[N_WRAPPED];

/*
 * GLib's worker thread ("gmain") reaps children and runs GIO's internal
 * sources; gather attaches nothing to it and none of gather's code runs
 * there. It also frees the sources other threads attached to its context,
 * under the context's lock, between dispatches, where the model above does
 * not reach (its loop is internal to GLib). So TSan records no memory
 * access on that thread at all (its synchronization still counts): every
 * access there is GLib's.
 */
static void
ignore_if_glib_worker (void)
{
  static __thread gboolean checked;
  char name[16];

  if (checked)
    return;
  checked = 1;

  if (pthread_getname_np (pthread_self (), name, sizeof name) == 0 &&
      strcmp (name, "gmain") == 0)
    annotate_ignore (1);   /* for the life of the thread, never suspended */
}

static gboolean
dispatch_trampoline (GSource  *source,
                     gpointer  callback,
                     gpointer  user_data)
{
  const WrappedFuncs *wrapped = (const WrappedFuncs *) SOURCE_FUNCS (source);
  int depth;
  gboolean again;

  ignore_if_glib_worker ();
  context_sync (SOURCE_CONTEXT (source));
  depth = ignore_suspend ();
  again = ((DispatchFunc) wrapped->original->dispatch) (source, callback, user_data);
  ignore_resume (depth);

  return again;
}

static gboolean
is_wrapped (const GSourceFuncs *funcs)
{
  return funcs->dispatch == (gpointer) dispatch_trampoline;
}

/* One copy per GSourceFuncs, kept for the life of the process, in a
 * lock-free table. */
static const GSourceFuncs *
wrap_source_funcs (const GSourceFuncs *original)
{
  WrappedFuncs *made = NULL;

  if (original == NULL || original->dispatch == NULL || is_wrapped (original))
    return original;

  for (guint i = 0; i < N_WRAPPED; i++)
    {
      WrappedFuncs *found = __atomic_load_n (&wrapped_funcs[i], __ATOMIC_ACQUIRE);

      if (found == NULL)
        {
          if (made == NULL)
            {
              made = malloc (sizeof *made);
              if (made == NULL)
                abort ();
              made->funcs = *original;
              made->funcs.dispatch = (gpointer) dispatch_trampoline;
              made->original = original;
            }
          if (__atomic_compare_exchange_n (&wrapped_funcs[i], &found, made, 0,
                                           __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return &made->funcs;
        }
      if (found->original == original)
        {
          free (made);
          return &found->funcs;
        }
    }

  free (made);
  return original;   /* table full: not wrapped */
}

guint g_source_attach (GSource *source, GMainContext *context);
void g_source_set_ready_time (GSource *source, gint64 ready_time);

guint
g_source_attach (GSource      *source,
                 GMainContext *context)
{
  pthread_mutex_t *mutex;
  guint id;
  REAL (guint, g_source_attach, (GSource *, GMainContext *));

  if (!HAVE_TSAN)
    return real_g_source_attach (source, context);

  /* Not attached yet: nothing dispatches it while its funcs change. */
  SOURCE_FUNCS (source) = wrap_source_funcs (SOURCE_FUNCS (source));

  mutex = context_lock (default_context (context));
  pthread_mutex_lock (mutex);
  /* The context's lists of sources are GLib's: its own thread frees their
   * nodes while it iterates, under the context's lock, not in a dispatch. */
  ignore_begin ();
  id = real_g_source_attach (source, context);
  ignore_end ();
  pthread_mutex_unlock (mutex);

  return id;
}

/* A GSource is GLib's memory too (the owner frees it while it iterates);
 * made under ignore, its allocation is not recorded as a write, while
 * what code does with the fields of a custom source still is. */
GSource *g_source_new (const GSourceFuncs *source_funcs, guint struct_size);
GSource *g_child_watch_source_new (int pid);

GSource *
g_source_new (const GSourceFuncs *source_funcs,
              guint               struct_size)
{
  GSource *source;
  REAL (GSource *, g_source_new, (const GSourceFuncs *, guint));

  ignore_begin ();
  source = real_g_source_new (source_funcs, struct_size);
  ignore_end ();

  return source;
}

GSource *
g_child_watch_source_new (int pid)
{
  GSource *source;
  REAL (GSource *, g_child_watch_source_new, (int));

  ignore_begin ();
  source = real_g_child_watch_source_new (pid);
  ignore_end ();

  return source;
}

void
g_source_set_ready_time (GSource *source,
                         gint64   ready_time)
{
  GMainContext *context = SOURCE_CONTEXT (source);
  pthread_mutex_t *mutex;
  REAL (void, g_source_set_ready_time, (GSource *, gint64));

  if (!HAVE_TSAN || context == NULL)
    {
      real_g_source_set_ready_time (source, ready_time);
      return;
    }

  mutex = context_lock (context);
  pthread_mutex_lock (mutex);
  real_g_source_set_ready_time (source, ready_time);
  pthread_mutex_unlock (mutex);
}

guint g_idle_add (GSourceFunc function, gpointer data);
guint g_idle_add_full (int priority, GSourceFunc function, gpointer data,
                       GDestroyNotify notify);
guint g_timeout_add (guint interval, GSourceFunc function, gpointer data);
guint g_timeout_add_full (int priority, guint interval, GSourceFunc function,
                          gpointer data, GDestroyNotify notify);
guint g_timeout_add_seconds (guint interval, GSourceFunc function, gpointer data);
guint g_timeout_add_seconds_full (int priority, guint interval,
                                  GSourceFunc function, gpointer data,
                                  GDestroyNotify notify);
void g_main_context_invoke (GMainContext *context, GSourceFunc function,
                            gpointer data);
void g_main_context_invoke_full (GMainContext *context, int priority,
                                 GSourceFunc function, gpointer data,
                                 GDestroyNotify notify);

#define G_PRIORITY_DEFAULT 0
#define G_PRIORITY_DEFAULT_IDLE 200

/* A GSourceFunc and its data, wrapped: the call that made the source
 * happens before the callback. */
typedef struct
{
  GSourceFunc     func;
  gpointer        data;
  GDestroyNotify  notify;
} Callback;

static gboolean
callback_trampoline (gpointer user_data)
{
  Callback *callback = user_data;
  int depth = ignore_suspend ();
  gboolean again;

  acquire (callback);
  again = callback->func (callback->data);
  ignore_resume (depth);

  return again;
}

static void
callback_free (gpointer user_data)
{
  Callback *callback = user_data;
  int depth = ignore_suspend ();

  acquire (callback);
  if (callback->notify != NULL)
    callback->notify (callback->data);
  free (callback);
  ignore_resume (depth);
}

static Callback *
callback_new (GSourceFunc     func,
              gpointer        data,
              GDestroyNotify  notify)
{
  Callback *callback = malloc (sizeof *callback);

  if (callback == NULL)
    abort ();
  callback->func = func;
  callback->data = data;
  callback->notify = notify;
  release (callback);

  return callback;
}

guint
g_idle_add_full (int             priority,
                 GSourceFunc     function,
                 gpointer        data,
                 GDestroyNotify  notify)
{
  Callback *callback = callback_new (function, data, notify);
  guint id;
  REAL (guint, g_idle_add_full, (int, GSourceFunc, gpointer, GDestroyNotify));

  ignore_begin ();   /* the source is GLib's: see g_source_attach() */
  id = real_g_idle_add_full (priority, callback_trampoline, callback, callback_free);
  ignore_end ();

  return id;
}

guint
g_idle_add (GSourceFunc function,
            gpointer    data)
{
  return g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, function, data, NULL);
}

guint
g_timeout_add_full (int             priority,
                    guint           interval,
                    GSourceFunc     function,
                    gpointer        data,
                    GDestroyNotify  notify)
{
  Callback *callback = callback_new (function, data, notify);
  guint id;
  REAL (guint, g_timeout_add_full, (int, guint, GSourceFunc, gpointer, GDestroyNotify));

  ignore_begin ();
  id = real_g_timeout_add_full (priority, interval, callback_trampoline, callback,
                                callback_free);
  ignore_end ();

  return id;
}

guint
g_timeout_add (guint       interval,
               GSourceFunc function,
               gpointer    data)
{
  return g_timeout_add_full (G_PRIORITY_DEFAULT, interval, function, data, NULL);
}

guint
g_timeout_add_seconds_full (int             priority,
                            guint           interval,
                            GSourceFunc     function,
                            gpointer        data,
                            GDestroyNotify  notify)
{
  Callback *callback = callback_new (function, data, notify);
  guint id;
  REAL (guint, g_timeout_add_seconds_full,
        (int, guint, GSourceFunc, gpointer, GDestroyNotify));

  ignore_begin ();
  id = real_g_timeout_add_seconds_full (priority, interval, callback_trampoline,
                                        callback, callback_free);
  ignore_end ();

  return id;
}

guint
g_timeout_add_seconds (guint       interval,
                       GSourceFunc function,
                       gpointer    data)
{
  return g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, interval, function, data, NULL);
}

void
g_main_context_invoke_full (GMainContext   *context,
                            int             priority,
                            GSourceFunc     function,
                            gpointer        data,
                            GDestroyNotify  notify)
{
  Callback *callback = callback_new (function, data, notify);
  REAL (void, g_main_context_invoke_full,
        (GMainContext *, int, GSourceFunc, gpointer, GDestroyNotify));

  /* GLib may call the function (the trampoline) before this returns. */
  ignore_begin ();
  real_g_main_context_invoke_full (context, priority, callback_trampoline,
                                   callback, callback_free);
  ignore_end ();
}

void
g_main_context_invoke (GMainContext *context,
                       GSourceFunc   function,
                       gpointer      data)
{
  g_main_context_invoke_full (context, G_PRIORITY_DEFAULT, function, data, NULL);
}

/* ---- GObject ---- */

void g_object_unref (gpointer object);

void
g_object_unref (gpointer object)
{
  REAL (void, g_object_unref, (gpointer));

  if (object != NULL)
    {
      release (object);
      /* The last reference: whatever finalizes the object comes after every
       * other holder's release, as GObject's atomic decrement orders it. A
       * concurrent drop from 2 to 0 by two threads at once can miss this
       * acquire: at worst a false report, never a hidden race. */
      if (__atomic_load_n (&((GObject *) object)->ref_count, __ATOMIC_ACQUIRE) == 1)
        acquire (object);
    }

  real_g_object_unref (object);
}

/* ---- GMainContext's reference count ---- */

void g_main_context_unref (GMainContext *context);

/* Where GLib keeps a context's reference count, found once by taking and
 * dropping a reference on a context of our own (the struct is private):
 * -1 if no int there behaves like one, and then no acquire is annotated. */
static long context_ref_offset = -2;

static long
find_context_ref_offset (void)
{
  GMainContext *(*context_new) (void) = real_symbol ("g_main_context_new");
  GMainContext *(*context_ref) (GMainContext *) = real_symbol ("g_main_context_ref");
  void (*context_unref) (GMainContext *) = real_symbol ("g_main_context_unref");
  long found = -1;
  GMainContext *context;
  int *words;

  ignore_begin ();
  context = context_new ();
  words = (int *) (void *) context;
  context_ref (context);
  for (long i = 0; i < 32 && found < 0; i++)
    if (words[i] == 2)
      {
        context_unref (context);
        if (words[i] == 1)
          found = i * (long) sizeof (int);
        context_ref (context);
      }
  context_unref (context);
  context_unref (context);
  ignore_end ();

  return found;
}

/* As for a GObject: a thread that keeps a context alive while it wakes it
 * (gather's inbox, which wakes the owner after releasing its own lock)
 * drops its reference after the wake-up, and whoever drops the last one
 * frees the context and closes its eventfd after every other holder's
 * release, as the atomic decrement orders it. */
void
g_main_context_unref (GMainContext *context)
{
  long offset = __atomic_load_n (&context_ref_offset, __ATOMIC_ACQUIRE);
  REAL (void, g_main_context_unref, (GMainContext *));

  if (HAVE_TSAN && context != NULL)
    {
      if (offset == -2)
        {
          offset = find_context_ref_offset ();
          __atomic_store_n (&context_ref_offset, offset, __ATOMIC_RELEASE);
        }
      release (context);
      if (offset >= 0 &&
          __atomic_load_n ((int *) (void *) ((char *) context + offset), __ATOMIC_ACQUIRE) == 1)
        acquire (context);
    }

  real_g_main_context_unref (context);
}
