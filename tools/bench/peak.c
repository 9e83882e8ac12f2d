/* Measures this machine's FMA peak and L3 copy bandwidth (see peak.h). */
#include "peak.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COPY_FLOATS (512 * 1024) /* 2 MiB each way per thread: past L2, inside L3 */
#define COPY_REPS   4            /* per trial: ~0.1-0.2 ms */
#define FMA_ITERS   40000        /* per trial: ~0.1 ms */
#define TRIALS      300
#define NOW_TRIALS  40 /* bench_peak_now: ~4-8 ms, between a case's rounds */

/*
 * The best of many short trials: on a machine shared with other processes a
 * long loop is descheduled now and then, which would understate the peak;
 * a trial of ~0.1 ms usually runs undisturbed, as the benchmark's own
 * samples do.
 */
typedef struct peak_job {
    int copy; /* 0: FMA loop, 1: copy loop */
    int avx512;
    float *src, *dst;
    pthread_barrier_t *sync;
    double work; /* FLOPs or bytes per trial */
    int trials;
    double best; /* thread 0: best rate over the trials */
} peak_job;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* (only x86-64 builds have the kernels; elsewhere vector_kind() keeps the
 * trials from running) */
static void run_trial(peak_job *j)
{
#if defined(__x86_64__)
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
#else
    j->work = 0;
#endif
}

/* Runs the trials; with threads, every trial starts and ends together. */
static void *run_trials(void *p)
{
    peak_job *j = p;
    run_trial(j); /* warm-up: caches, clocks */
    for (int t = 0; t < j->trials; t++) {
        pthread_barrier_wait(j->sync);
        double t0 = now_seconds();
        run_trial(j);
        pthread_barrier_wait(j->sync);
        double rate = j->work / (now_seconds() - t0);
        if (rate > j->best)
            j->best = rate;
    }
    return NULL;
}

/* Best total rate (work per second) of `threads` jobs at once. */
static double measure(int threads, int copy, int avx512, int trials)
{
    peak_job jobs[2];
    pthread_barrier_t sync;
    pthread_barrier_init(&sync, NULL, (unsigned)threads);
    for (int t = 0; t < threads; t++) {
        jobs[t] = (peak_job){copy, avx512, NULL, NULL, &sync, 0, trials, 0};
        if (copy) {
            jobs[t].src = aligned_alloc(64, COPY_FLOATS * sizeof(float));
            jobs[t].dst = aligned_alloc(64, COPY_FLOATS * sizeof(float));
            memset(jobs[t].src, 1, COPY_FLOATS * sizeof(float));
            memset(jobs[t].dst, 0, COPY_FLOATS * sizeof(float));
        }
    }
    pthread_t other;
    if (threads > 1)
        pthread_create(&other, NULL, run_trials, &jobs[1]);
    run_trials(&jobs[0]);
    if (threads > 1)
        pthread_join(other, NULL);
    pthread_barrier_destroy(&sync);
    for (int t = 0; t < threads; t++) {
        free(jobs[t].src);
        free(jobs[t].dst);
    }
    return jobs[0].best * threads; /* thread 0 timed a trial in which all did the same */
}

/* 1 where the AVX-512 kernels run, 0 for AVX2 + FMA, -1 for neither. */
static int vector_kind(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return 1;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 0;
#endif
    return -1;
}

void bench_measure_peak(machine_peak *peak)
{
    memset(peak, 0, sizeof *peak);
    const int kind = vector_kind();
    peak->isa = kind < 0 ? "scalar" : kind ? "avx512" : "avx2";
    if (kind < 0)
        return;
    for (int threads = 1; threads <= 2; threads++) {
        peak->fma_gflops[threads] = measure(threads, 0, kind, TRIALS) * 1e-9;
        peak->copy_gbs[threads] = measure(threads, 1, kind, TRIALS) * 1e-9;
    }
}

double bench_peak_now(int threads, int copy)
{
    const int kind = vector_kind();
    if (kind < 0)
        return NAN;
    return measure(threads >= 2 ? 2 : 1, copy, kind, NOW_TRIALS) * 1e-9;
}
