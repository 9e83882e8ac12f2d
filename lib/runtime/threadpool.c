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
    int32_t participants; /* threads taking part, caller included */
#ifdef __linux__
    cpu_set_t allowed; /* the creating thread's affinity */
    int spread;        /* threads <= allowed CPUs: keep workers off the caller's */
    int avoided_cpu;   /* the CPU the workers' affinity leaves out, or -1 */
#endif
    struct home *homes; /* one per thread (NULL with one thread) */
    uint64_t slots;     /* the job's tasks in slots of `unit` tasks: < 2^32 */
    int64_t unit;
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
 * Home ranges. A job's tasks are cut into one contiguous home per
 * participant, in task order; each participant claims its home from the
 * front, first all but a quarter of it, then half of what is left, and once
 * its home is empty it steals the back half of the fullest other home.
 * Where the threads keep pace, each runs the same tasks run after run, so
 * the lines a task writes are still in its core's caches the next time
 * (on the 2-vCPU VM, fetching a line the other core wrote last took ~240
 * ns; one shared counter, which dealt the tasks out anew each run, left the
 * pools and the pools' gradients up to 1.5x slower); the reserved quarter
 * and the steals even out tasks of unequal cost and a thread that starts
 * late. A home's unclaimed slots are one word (front, back: 32 bits each),
 * so that the owner's and a thief's claims are one compare-exchange each and
 * can never both take a slot; homes only shrink, so no value recurs.
 */
typedef struct home {
    _Atomic uint64_t range;
} __attribute__((aligned(64))) home; /* a line each: claims on one do not slow another */

static uint64_t range_of(uint64_t front, uint64_t back)
{
    return front | back << 32;
}

static uint64_t range_front(uint64_t range)
{
    return range & 0xffffffffu;
}

static uint64_t range_back(uint64_t range)
{
    return range >> 32;
}

/* The first slot of participant i's home (of `parts`), or the end for i = parts. */
static uint64_t home_start(uint64_t slots, int32_t i, int32_t parts)
{
    return slots * (uint64_t)i / (uint64_t)parts;
}

/* Of the `left` unclaimed slots of a home of `size`, the owner's next claim. */
static uint64_t own_claim(uint64_t left, uint64_t size)
{
    const uint64_t reserve = size / 4;
    return left > reserve ? left - reserve : (left + 1) / 2;
}

/* ... and a thief's, from the back. */
static uint64_t steal_claim(uint64_t left)
{
    return (left + 1) / 2;
}

/* The home with the most unclaimed slots, -1 if none has any. */
static int32_t fullest_home(convpool_context *ctx)
{
    int32_t fullest = -1;
    uint64_t most = 0;
    for (int32_t i = 0; i < ctx->participants; i++) {
        const uint64_t r = atomic_load_explicit(&ctx->homes[i].range, memory_order_relaxed);
        if (range_back(r) > range_front(r) && range_back(r) - range_front(r) > most) {
            most = range_back(r) - range_front(r);
            fullest = i;
        }
    }
    return fullest;
}

static void run_homes(convpool_context *ctx, int32_t me)
{
    const uint64_t size = home_start(ctx->slots, me + 1, ctx->participants) -
                          home_start(ctx->slots, me, ctx->participants);
    for (;;) {
        uint64_t r = atomic_load_explicit(&ctx->homes[me].range, memory_order_relaxed);
        uint64_t lo, hi;
        if (range_front(r) < range_back(r)) {
            lo = range_front(r);
            hi = lo + own_claim(range_back(r) - lo, size);
            if (!atomic_compare_exchange_weak(&ctx->homes[me].range, &r,
                                              range_of(hi, range_back(r))))
                continue;
        } else {
            const int32_t victim = fullest_home(ctx);
            if (victim < 0)
                return;
            r = atomic_load_explicit(&ctx->homes[victim].range, memory_order_relaxed);
            if (range_front(r) >= range_back(r))
                continue;
            hi = range_back(r);
            lo = hi - steal_claim(hi - range_front(r));
            if (!atomic_compare_exchange_weak(&ctx->homes[victim].range, &r,
                                              range_of(range_front(r), lo)))
                continue;
        }
        const int64_t end = (int64_t)hi * ctx->unit;
        ctx->fn(ctx->arg, (int64_t)lo * ctx->unit, end < ctx->task_count ? end : ctx->task_count,
                me);
    }
}

double cp_parallel_for_balance(int64_t task_count, int32_t threads,
                               double (*cost)(const void *arg, int64_t task), const void *arg)
{
    if (threads < 2 || threads > CP_BALANCE_MAX_THREADS || task_count < 1 ||
        task_count > UINT32_MAX)
        return 1.0;
    const uint64_t slots = (uint64_t)task_count;
    /* as cp_parallel_for: no more participants than tasks, the others idle */
    const int32_t parts = task_count < threads ? (int32_t)task_count : threads;
    uint64_t front[CP_BALANCE_MAX_THREADS], back[CP_BALANCE_MAX_THREADS];
    double load[CP_BALANCE_MAX_THREADS], total = 0.0;
    for (int32_t i = 0; i < parts; i++) {
        front[i] = home_start(slots, i, parts);
        back[i] = home_start(slots, i + 1, parts);
        load[i] = 0.0;
    }
    for (;;) {
        int32_t me = 0; /* the thread free first claims next */
        for (int32_t i = 1; i < parts; i++)
            if (load[i] < load[me])
                me = i;
        uint64_t lo, hi;
        if (front[me] < back[me]) {
            lo = front[me];
            hi = lo + own_claim(back[me] - lo,
                                home_start(slots, me + 1, parts) - home_start(slots, me, parts));
            front[me] = hi;
        } else {
            int32_t victim = -1;
            for (int32_t i = 0; i < parts; i++)
                if (back[i] > front[i] &&
                    (victim < 0 || back[i] - front[i] > back[victim] - front[victim]))
                    victim = i;
            if (victim < 0)
                break;
            hi = back[victim];
            lo = hi - steal_claim(hi - front[victim]);
            back[victim] = lo;
        }
        for (uint64_t t = lo; t < hi; t++) {
            const double c = cost(arg, (int64_t)t);
            load[me] += c;
            total += c;
        }
    }
    double longest = 0.0;
    for (int32_t i = 0; i < parts; i++)
        longest = load[i] > longest ? load[i] : longest;
    return total > 0.0 ? longest * threads / total : 1.0;
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
            run_homes(ctx, start.index);
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
    atomic_init(&ctx->busy, 0);
    atomic_init(&ctx->generation, 0);
    if (ctx->threads > 1) {
        ctx->workers = cp_zalloc((size_t)ctx->threads - 1, sizeof *ctx->workers);
        ctx->starts = cp_zalloc((size_t)ctx->threads - 1, sizeof *ctx->starts);
        ctx->homes = cp_alloc((size_t)ctx->threads * sizeof *ctx->homes);
        if (!ctx->workers || !ctx->starts || !ctx->homes) {
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
    cp_free(ctx->homes);
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
    cp_free(ctx->homes);
    ctx->homes = NULL;
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
    ctx->participants = threads;
    /* slots of one task, or of as many as keep a home's ends in 32 bits */
    ctx->unit = task_count <= (int64_t)UINT32_MAX
                    ? 1
                    : (task_count + (int64_t)UINT32_MAX - 1) / (int64_t)UINT32_MAX;
    ctx->slots = (uint64_t)((task_count + ctx->unit - 1) / ctx->unit);
    for (int32_t i = 0; i < threads; i++)
        atomic_store_explicit(
            &ctx->homes[i].range,
            range_of(home_start(ctx->slots, i, threads), home_start(ctx->slots, i + 1, threads)),
            memory_order_relaxed);
    keep_workers_off_caller_cpu(ctx);
    atomic_store(&ctx->busy, ctx->threads - 1);
    pthread_mutex_lock(&ctx->lock);
    atomic_fetch_add_explicit(&ctx->generation, 1, memory_order_release);
    pthread_cond_broadcast(&ctx->wake);
    pthread_mutex_unlock(&ctx->lock);

    run_homes(ctx, 0);

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
