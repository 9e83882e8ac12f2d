/*
 * threadpool.h - the threads behind convpool_context.
 *
 * A parallel-for over independent tasks. Tasks are handed out in chunks
 * from a shared counter, so threads that finish early take more work; the
 * result never depends on which thread ran a task, so outputs are bitwise
 * identical for any thread count.
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
 * Concurrent calls on one context take turns. Must not be nested.
 */
void cp_parallel_for(convpool_context *ctx, int64_t task_count, int32_t max_threads, cp_task_fn fn,
                     void *arg);

/*
 * The same with the claims' size chosen: each claim takes the tasks still
 * left / (claim_divisor * threads), at least one. cp_parallel_for() uses 2,
 * which evens out a thread that starts late or runs slower; 1 keeps each
 * thread on longer runs of consecutive tasks (the first claim half of
 * them), for tasks that stream their output to memory and gain from
 * continuing where their thread's last task ended.
 */
void cp_parallel_for_claims(convpool_context *ctx, int64_t task_count, int32_t max_threads,
                            cp_task_fn fn, void *arg, int32_t claim_divisor);

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
