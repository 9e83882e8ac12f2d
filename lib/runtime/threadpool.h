/*
 * threadpool.h - the threads behind convpool_context.
 *
 * A parallel-for over independent tasks. Each thread takes its own
 * contiguous share of the tasks (the same one run after run, so what a task
 * writes stays in that core's caches) and, once done, the back half of the
 * largest share still open; the result never depends on which thread ran a
 * task, so outputs are bitwise identical for any thread count.
 */
#ifndef CP_RUNTIME_THREADPOOL_H
#define CP_RUNTIME_THREADPOOL_H

#include <stdint.h>

#include "convpool.h"

/* The most threads a context may have: the public limit, one constant. */
#define CP_MAX_THREADS CONVPOOL_MAX_THREADS

/* Runs tasks [begin, end) on thread `thread_index` (0 .. threads-1). */
typedef void (*cp_task_fn)(void *arg, int64_t begin, int64_t end, int32_t thread_index);

/* The context to use for `ctx` (NULL: the process-wide default, created on
 * first use). Never NULL: while creating the default fails, a
 * single-threaded fallback context is returned and the next call retries. */
convpool_context *cp_context_resolve(convpool_context *ctx);

int32_t cp_context_threads(const convpool_context *ctx);

/*
 * Runs fn over [0, task_count) on the context's threads and returns when
 * all tasks are done. At most `max_threads` threads take part (<= 0: all);
 * callers pass fewer when the work is too small to pay for waking threads.
 * fn gets runs of consecutive tasks, so tasks that share work (a packed
 * band) can do it once per run. Concurrent calls on one context take
 * turns. Must not be nested.
 */
void cp_parallel_for(convpool_context *ctx, int64_t task_count, int32_t max_threads, cp_task_fn fn,
                     void *arg);

/* The most threads cp_parallel_for_balance() plays out. */
#define CP_BALANCE_MAX_THREADS 64

/*
 * How evenly `threads` equally fast threads would share task_count tasks
 * of cost(arg, t) under cp_parallel_for()'s claims, played out (the thread
 * free first claims next): the longest thread's total cost times threads
 * over the sum, 1.0 for an even split (fewer tasks than threads leave
 * threads idle: 2 tasks on 4 threads give at least 2.0). 1.0 also where it
 * cannot tell (fewer than 2 or more than CP_BALANCE_MAX_THREADS threads, no
 * task, more than 2^32 - 1 tasks). For planners choosing between task
 * shapes; allocates nothing.
 */
double cp_parallel_for_balance(int64_t task_count, int32_t threads,
                               double (*cost)(const void *arg, int64_t task), const void *arg);

/*
 * Scratch memory for a run that got no caller workspace: the context keeps
 * one 64-byte aligned buffer, grown on first use and reused, so that
 * steady-state runs allocate nothing. One run at a time holds it; a run
 * that finds it held gets a fresh allocation instead (concurrent runs on
 * one context stay safe). NULL when out of memory. *cached tells which
 * kind the caller got; every non-NULL result goes back through
 * cp_context_scratch_release() with that flag (the caller, not a read of
 * the context, knows whether it holds the cached buffer).
 */
void *cp_context_scratch_acquire(convpool_context *ctx, size_t bytes, int *cached);
void cp_context_scratch_release(convpool_context *ctx, void *scratch, int cached);

/* convpool_context_create / _destroy (lib/api/context.c forwards to these). */
convpool_status cp_context_create(int32_t num_threads, convpool_context **ctx);
void cp_context_destroy(convpool_context *ctx);

#endif
