/* Measures this machine's FMA peak and L3 copy bandwidth (see peak.h). */
#include "peak.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COPY_FLOATS (512 * 1024) /* 2 MiB each way per thread: past L2, inside L3 */
#define COPY_REPS 400
#define FMA_ITERS 20000000
#define TRIALS 3

typedef struct peak_job {
    int copy;              /* 0: FMA loop, 1: copy loop */
    int avx512;
    float *src, *dst;
    pthread_barrier_t *start;
    double work;           /* FLOPs or bytes done */
} peak_job;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void run_job(peak_job *j)
{
    if (!j->copy) {
        j->work = j->avx512 ? bench_fma_avx512(FMA_ITERS) : bench_fma_avx2(FMA_ITERS);
        return;
    }
    for (int r = 0; r < COPY_REPS; r++) {
        if (j->avx512)
            bench_copy_avx512(j->dst, j->src, COPY_FLOATS);
        else
            bench_copy_avx2(j->dst, j->src, COPY_FLOATS);
    }
    j->work = 2.0 * COPY_REPS * COPY_FLOATS * sizeof(float);
}

static void *job_thread(void *p)
{
    peak_job *j = p;
    pthread_barrier_wait(j->start);
    run_job(j);
    return NULL;
}

/* Best rate (work per second) of TRIALS runs of `threads` jobs at once. */
static double measure(int threads, int copy, int avx512)
{
    peak_job jobs[2];
    pthread_barrier_t start;
    double best = 0;
    for (int t = 0; t < threads; t++) {
        jobs[t] = (peak_job){copy, avx512, NULL, NULL, &start, 0};
        if (copy) {
            jobs[t].src = aligned_alloc(64, COPY_FLOATS * sizeof(float));
            jobs[t].dst = aligned_alloc(64, COPY_FLOATS * sizeof(float));
            memset(jobs[t].src, 1, COPY_FLOATS * sizeof(float));
            memset(jobs[t].dst, 0, COPY_FLOATS * sizeof(float));
        }
    }
    for (int trial = 0; trial < TRIALS; trial++) {
        pthread_t other;
        pthread_barrier_init(&start, NULL, (unsigned)threads);
        if (threads > 1)
            pthread_create(&other, NULL, job_thread, &jobs[1]);
        pthread_barrier_wait(&start);
        double t0 = now_seconds();
        run_job(&jobs[0]);
        if (threads > 1)
            pthread_join(other, NULL);
        double seconds = now_seconds() - t0;
        pthread_barrier_destroy(&start);
        double work = 0;
        for (int t = 0; t < threads; t++)
            work += jobs[t].work;
        if (work / seconds > best)
            best = work / seconds;
    }
    for (int t = 0; t < threads; t++) {
        free(jobs[t].src);
        free(jobs[t].dst);
    }
    return best;
}

void bench_measure_peak(machine_peak *peak)
{
    memset(peak, 0, sizeof *peak);
#if defined(__x86_64__)
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f");
    if (!avx512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        peak->isa = "scalar";
        return;
    }
    peak->isa = avx512 ? "avx512" : "avx2";
    for (int threads = 1; threads <= 2; threads++) {
        peak->fma_gflops[threads] = measure(threads, 0, avx512) * 1e-9;
        peak->copy_gbs[threads] = measure(threads, 1, avx512) * 1e-9;
    }
#else
    peak->isa = "scalar";
#endif
}
