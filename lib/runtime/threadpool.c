#include "runtime/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "runtime/alloc.h"
#include "runtime/cpu.h"
#include "runtime/error.h"

/* How long a thread spins on a flag before it sleeps on a condition
 * variable: covers the gap between back-to-back runs (a model's nodes, a
 * caller's loop), where a wake-up through the kernel costs tens of
 * microseconds in a VM, without burning a core for long when idle. */
#define CP_SPIN_NANOSECONDS 50000

/* What a worker thread starts with; owned by the context (not freed by the
 * worker, so that every allocation is released by cp_context_destroy). */
typedef struct worker_start {
    struct convpool_context *ctx;
    int32_t index;
} worker_start;

struct convpool_context {
    int32_t threads;          /* including the calling thread */
    pthread_t *workers;       /* threads - 1 of them */
    worker_start *starts;     /* threads - 1 of them */
    pthread_mutex_t run_lock; /* one parallel_for at a time */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t done;
    /* the job in flight */
    cp_task_fn fn;
    void *arg;
    int64_t task_count;
    int64_t chunk_divisor; /* a claim takes remaining / this tasks (at least 1) */
    int32_t participants;  /* threads taking part, caller included */
#ifdef __linux__
    cpu_set_t allowed; /* the creating thread's affinity */
    int spread;        /* threads <= allowed CPUs: keep workers off the caller's */
    int avoided_cpu;   /* the CPU the workers' affinity leaves out, or -1 */
#endif
    _Atomic int64_t next_task;
    atomic_int busy;        /* workers still on the current job */
    atomic_uint generation; /* bumped for each job; workers follow it */
    int shutting_down;
    /* cached scratch for runs without a caller workspace */
    pthread_mutex_t scratch_lock;
    void *scratch;
    size_t scratch_bytes;
};

/* A bounded spin: spin_expired() is true once CP_SPIN_NANOSECONDS have
 * passed since spin_start(); it reads the clock every 64 calls. */
typedef struct spin {
    struct timespec start;
    unsigned calls;
} spin;

static spin spin_start(void)
{
    spin s = {.calls = 0};
    clock_gettime(CLOCK_MONOTONIC, &s.start);
    return s;
}

static int spin_expired(spin *s)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause(); /* yield the core's shared resources while waiting */
#endif
    if (++s->calls % 64 != 0)
        return 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ns =
        (long long)(now.tv_sec - s->start.tv_sec) * 1000000000LL + (now.tv_nsec - s->start.tv_nsec);
    return ns >= CP_SPIN_NANOSECONDS;
}

/*
 * Guided self-scheduling: each claim takes a share of the tasks still left
 * (remaining / (claim divisor * participants), at least one; the divisor
 * is 2 but where cp_parallel_for_claims() says), so claims start large
 * and contiguous (consecutive tasks often share packed input) and end
 * small, which evens out a thread that started late or drew dearer tasks.
 */
static void run_chunks(convpool_context *ctx, int32_t thread_index)
{
    /* int64_t, the counter's own type: compare-exchange takes a pointer to
     * exactly the atomic's type. */
    int64_t begin = atomic_load_explicit(&ctx->next_task, memory_order_relaxed);
    for (;;) {
        if (begin >= ctx->task_count)
            break;
        int64_t size = (ctx->task_count - begin) / ctx->chunk_divisor;
        int64_t end = begin + (size < 1 ? 1 : size);
        if (!atomic_compare_exchange_weak(&ctx->next_task, &begin, end))
            continue; /* begin now holds the current value */
        ctx->fn(ctx->arg, begin, end, thread_index);
        begin = atomic_load_explicit(&ctx->next_task, memory_order_relaxed);
    }
}

static void *worker_main(void *p)
{
    worker_start start = *(worker_start *)p;
    convpool_context *ctx = start.ctx;
    /* 0, the generation at creation, not a fresh load: a job posted before
     * this thread got here must still be seen (else busy never drops). */
    unsigned seen = 0;
    for (;;) {
        unsigned gen;
        spin sp = spin_start();
        while ((gen = atomic_load_explicit(&ctx->generation, memory_order_acquire)) == seen &&
               !spin_expired(&sp))
            ;
        if (gen == seen) {
            pthread_mutex_lock(&ctx->lock);
            while ((gen = atomic_load(&ctx->generation)) == seen && !ctx->shutting_down)
                pthread_cond_wait(&ctx->wake, &ctx->lock);
            int stop = ctx->shutting_down;
            pthread_mutex_unlock(&ctx->lock);
            if (stop)
                return NULL;
        }
        seen = gen;
        if (start.index < ctx->participants)
            run_chunks(ctx, start.index);
        if (atomic_fetch_sub(&ctx->busy, 1) == 1) {
            pthread_mutex_lock(&ctx->lock);
            pthread_cond_signal(&ctx->done);
            pthread_mutex_unlock(&ctx->lock);
        }
    }
}

static int32_t default_thread_count(void)
{
    int32_t n = cp_env_num_threads();
    if (n > 0)
        return n;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    if (cpus > CP_MAX_THREADS)
        cpus = CP_MAX_THREADS;
    return (int32_t)cpus;
}

static void stop_workers(convpool_context *ctx, int32_t started)
{
    pthread_mutex_lock(&ctx->lock);
    ctx->shutting_down = 1;
    pthread_cond_broadcast(&ctx->wake);
    pthread_mutex_unlock(&ctx->lock);
    for (int32_t i = 0; i < started; i++)
        pthread_join(ctx->workers[i], NULL);
}

convpool_status cp_context_create(int32_t num_threads, convpool_context **out)
{
    if (!out)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT, "convpool_context_create: ctx is NULL");
    if (num_threads < 0 || num_threads > CP_MAX_THREADS)
        return cp_fail(CONVPOOL_ERROR_INVALID_ARGUMENT,
                       "num_threads = %d: must be 0 (default) or 1..%d", (int)num_threads,
                       CP_MAX_THREADS);
    convpool_context *ctx = cp_zalloc(1, sizeof *ctx);
    if (!ctx)
        return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a context");
    ctx->threads = num_threads == 0 ? default_thread_count() : num_threads;
#ifdef __linux__
    ctx->avoided_cpu = -1;
    ctx->spread = ctx->threads > 1 &&
                  sched_getaffinity(0, sizeof ctx->allowed, &ctx->allowed) == 0 &&
                  ctx->threads <= CPU_COUNT(&ctx->allowed);
#endif
    pthread_mutex_init(&ctx->run_lock, NULL);
    pthread_mutex_init(&ctx->scratch_lock, NULL);
    pthread_mutex_init(&ctx->lock, NULL);
    pthread_cond_init(&ctx->wake, NULL);
    pthread_cond_init(&ctx->done, NULL);
    atomic_init(&ctx->next_task, 0);
    atomic_init(&ctx->busy, 0);
    atomic_init(&ctx->generation, 0);
    if (ctx->threads > 1) {
        ctx->workers = cp_zalloc((size_t)ctx->threads - 1, sizeof *ctx->workers);
        ctx->starts = cp_zalloc((size_t)ctx->threads - 1, sizeof *ctx->starts);
        if (!ctx->workers || !ctx->starts) {
            ctx->threads = 1; /* no worker to stop */
            cp_context_destroy(ctx);
            return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot allocate a context");
        }
        for (int32_t i = 0; i < ctx->threads - 1; i++) {
            worker_start *ws = &ctx->starts[i];
            ws->ctx = ctx;
            ws->index = i + 1;
            if (pthread_create(&ctx->workers[i], NULL, worker_main, ws) != 0) {
                const int32_t wanted = ctx->threads;
                stop_workers(ctx, i);
                ctx->threads = 1; /* the started ones are stopped */
                cp_context_destroy(ctx);
                return cp_fail(CONVPOOL_ERROR_OUT_OF_MEMORY, "cannot start thread %d of %d",
                               (int)i + 2, (int)wanted);
            }
        }
    }
    *out = ctx;
    return CONVPOOL_OK;
}

void cp_context_destroy(convpool_context *ctx)
{
    if (!ctx)
        return;
    if (ctx->workers)
        stop_workers(ctx, ctx->threads - 1);
    cp_free(ctx->workers);
    cp_free(ctx->starts);
    pthread_mutex_destroy(&ctx->run_lock);
    pthread_mutex_destroy(&ctx->scratch_lock);
    cp_free(ctx->scratch);
    pthread_mutex_destroy(&ctx->lock);
    pthread_cond_destroy(&ctx->wake);
    pthread_cond_destroy(&ctx->done);
    cp_free(ctx);
}

/* The default context, created on first use. If creating it fails (no
 * memory, no threads to be had), that call runs on one thread and the next
 * call tries again: a passing shortage must not leave the process
 * single-threaded for good. */
static _Atomic(convpool_context *) default_context;
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static convpool_context single_thread_fallback = {
    .threads = 1,
    .run_lock = PTHREAD_MUTEX_INITIALIZER,
    .scratch_lock = PTHREAD_MUTEX_INITIALIZER,
};
static pid_t default_context_pid; /* the process that started its workers */

/*
 * At exit (or when the library is unloaded), stops and joins the default
 * context's workers, so that no thread outlives the library's code and
 * tools such as valgrind see every thread's memory released. The context
 * itself stays, with one thread: a call still running elsewhere during
 * exit finishes on its caller (run_lock waits for a run in flight). In a
 * child of fork() the workers are the parent's and do not exist: nothing
 * to join there.
 */
__attribute__((destructor)) static void release_default_context(void)
{
    convpool_context *ctx = atomic_load_explicit(&default_context, memory_order_acquire);
    if (!ctx || !ctx->workers || getpid() != default_context_pid)
        return;
    pthread_mutex_lock(&ctx->run_lock);
    stop_workers(ctx, ctx->threads - 1);
    cp_free(ctx->workers);
    ctx->workers = NULL;
    cp_free(ctx->starts);
    ctx->starts = NULL;
    ctx->threads = 1;
    pthread_mutex_unlock(&ctx->run_lock);
}

convpool_context *cp_context_resolve(convpool_context *ctx)
{
    if (ctx)
        return ctx;
    convpool_context *d = atomic_load_explicit(&default_context, memory_order_acquire);
    if (d)
        return d;
    pthread_mutex_lock(&default_lock);
    d = atomic_load_explicit(&default_context, memory_order_relaxed);
    if (!d && cp_context_create(0, &d) == CONVPOOL_OK) {
        default_context_pid = getpid();
        atomic_store_explicit(&default_context, d, memory_order_release);
    }
    pthread_mutex_unlock(&default_lock);
    return d ? d : &single_thread_fallback;
}

int32_t cp_context_threads(const convpool_context *ctx)
{
    return ctx->threads;
}

/*
 * Keeps the workers off the CPU the caller runs on, by leaving it out of
 * their affinity (the creating thread's CPUs otherwise). Without this, Linux
 * in a VM wakes a sleeping worker on its waker's CPU whenever the other
 * vCPUs are halted (a halted vCPU does not count as idle for wake-up
 * placement), and there it waits until the caller is done, so that
 * 2-thread runs are no faster than 1-thread ones. Costs one sched_getcpu() per run, and the
 * affinity calls only when the caller has moved. Only when there are at
 * least as many allowed CPUs as threads; otherwise sharing is unavoidable.
 */
static void keep_workers_off_caller_cpu(convpool_context *ctx)
{
#ifdef __linux__
    if (!ctx->spread)
        return;
    int cpu = sched_getcpu();
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &ctx->allowed))
        cpu = -1; /* the caller runs elsewhere: no need to avoid it */
    if (cpu == ctx->avoided_cpu)
        return;
    cpu_set_t mask = ctx->allowed;
    if (cpu >= 0)
        CPU_CLR(cpu, &mask);
    for (int32_t i = 0; i < ctx->threads - 1; i++)
        pthread_setaffinity_np(ctx->workers[i], sizeof mask, &mask);
    ctx->avoided_cpu = cpu;
#else
    (void)ctx;
#endif
}

void cp_parallel_for(convpool_context *ctx, int64_t task_count, int32_t max_threads, cp_task_fn fn,
                     void *arg)
{
    cp_parallel_for_claims(ctx, task_count, max_threads, fn, arg, 2);
}

void cp_parallel_for_claims(convpool_context *ctx, int64_t task_count, int32_t max_threads,
                            cp_task_fn fn, void *arg, int32_t claim_divisor)
{
    if (task_count <= 0)
        return;
    int32_t threads = ctx->threads;
    if (max_threads > 0 && max_threads < threads)
        threads = max_threads;
    if (threads > task_count)
        threads = (int32_t)task_count;
    if (threads <= 1) {
        fn(arg, 0, task_count, 0);
        return;
    }
    pthread_mutex_lock(&ctx->run_lock);
    ctx->fn = fn;
    ctx->arg = arg;
    ctx->task_count = task_count;
    ctx->chunk_divisor = (int64_t)(claim_divisor > 1 ? claim_divisor : 1) * threads;
    ctx->participants = threads;
    keep_workers_off_caller_cpu(ctx);
    atomic_store(&ctx->next_task, 0);
    atomic_store(&ctx->busy, ctx->threads - 1);
    pthread_mutex_lock(&ctx->lock);
    atomic_fetch_add_explicit(&ctx->generation, 1, memory_order_release);
    pthread_cond_broadcast(&ctx->wake);
    pthread_mutex_unlock(&ctx->lock);

    run_chunks(ctx, 0);

    if (atomic_load(&ctx->busy) > 0) {
        spin sp = spin_start();
        while (atomic_load_explicit(&ctx->busy, memory_order_acquire) > 0 && !spin_expired(&sp))
            ;
        pthread_mutex_lock(&ctx->lock);
        while (atomic_load(&ctx->busy) > 0)
            pthread_cond_wait(&ctx->done, &ctx->lock);
        pthread_mutex_unlock(&ctx->lock);
    }
    pthread_mutex_unlock(&ctx->run_lock);
}

void *cp_context_scratch_acquire(convpool_context *ctx, size_t bytes, int *cached)
{
    *cached = 0;
    if (pthread_mutex_trylock(&ctx->scratch_lock) != 0)
        return cp_alloc(bytes); /* another run holds the cached buffer */
    if (ctx->scratch_bytes < bytes) {
        cp_free(ctx->scratch);
        ctx->scratch = cp_alloc(bytes);
        ctx->scratch_bytes = ctx->scratch ? bytes : 0;
    }
    if (!ctx->scratch) {
        pthread_mutex_unlock(&ctx->scratch_lock);
        return NULL;
    }
    *cached = 1;
    return ctx->scratch;
}

void cp_context_scratch_release(convpool_context *ctx, void *scratch, int cached)
{
    if (cached)
        pthread_mutex_unlock(&ctx->scratch_lock);
    else
        cp_free(scratch);
}
