/*
 * peak.h - this machine's limits, measured at start so that benchmark
 * figures can be given as a fraction of them: FP32 FMA throughput (the
 * widest vector FMA the CPU runs, many independent chains) and
 * L3-resident copy bandwidth (bytes read + bytes written, regular stores),
 * each on 1 and on 2 threads.
 */
#ifndef BENCH_PEAK_H
#define BENCH_PEAK_H

#include <stddef.h>
#include <stdint.h>

typedef struct machine_peak {
    const char *isa;      /* "avx512", "avx2" or "scalar" */
    double fma_gflops[3]; /* [threads], 1 and 2 */
    double copy_gbs[3];
} machine_peak;

void bench_measure_peak(machine_peak *peak);

/* The same FMA peak (GFLOP/s, copy 0) or copy bandwidth (GB/s, copy 1) on
 * `threads` (1 or 2) threads now, from fewer trials (a few ms): the
 * benchmark measures it between a case's rounds, so that a case's percent
 * of the peak is of what the machine gave at that time (the host's speed
 * can change within a run). NaN without AVX2 + FMA. */
double bench_peak_now(int threads, int copy);

/* Kernels, compiled with per-file ISA flags (peak_avx512.c, peak_avx2.c):
 * run `iters` iterations of independent FMA chains and return the FLOPs
 * done; copy n floats (n a multiple of 64) with vector loads and stores. */
double bench_fma_avx512(int64_t iters);
double bench_fma_avx2(int64_t iters);
void bench_copy_avx512(float *dst, const float *src, size_t n);
void bench_copy_avx2(float *dst, const float *src, size_t n);

#endif
