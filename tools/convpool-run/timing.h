/*
 * timing.h - the timed-run loop --bench and --profile share: warm-up, then
 * a count of runs (--bench N) or runs for a time (--duration S), each timed
 * on the monotonic clock; and the latency summary of those times.
 */
#ifndef CLI_TIMING_H
#define CLI_TIMING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/* Timed runs are capped at this many (--bench's upper bound, and what
 * --duration stops at for sub-microsecond models). */
#define CLI_MAX_TIMED_RUNS 10000000L

/* Milliseconds; percentiles interpolate linearly between the sorted times,
 * as numpy.percentile does, so the median of an even count is the mean of
 * the middle two. */
typedef struct cli_latency {
    double min, median, p90, p99, max, mean;
} cli_latency;

/* The monotonic clock in nanoseconds, which every timed run reads. */
int64_t cli_now_ns(void);

/* q-quantile (0..1) of n >= 1 sorted values. */
double cli_quantile(const double *sorted, size_t n, double q);

/* Sorts ms[0..n) (n >= 1) and summarises them. */
void cli_latency_summarise(double *ms, size_t n, cli_latency *l);

/* "latency us: min 0.127  p50 ..." (microseconds to the nanosecond, so
 * sub-microsecond runs keep three digits), one line. */
void cli_print_latency(FILE *out, const cli_latency *l);

/* "\"min_ms\": ..., \"median_ms\": ..., ..." (JSON members, no braces). */
void cli_print_latency_json(FILE *out, const cli_latency *l);

/* One run; `run` counts the timed runs from 0 (warm-up runs get -1).
 * Returns a CLI_EXIT_* status. */
typedef int (*cli_run_fn)(void *arg, long run);

typedef struct cli_timing {
    double *ms; /* malloc'd: one wall time per timed run */
    long runs;
    long warmup;
    double seconds; /* all timed runs */
    int capped;     /* --duration stopped at max_runs */
} cli_timing;

/* Warm-up (--warmup, default 3), then --bench N runs, --duration S worth
 * of runs (at least one, at most max_runs), or default_runs. Returns a
 * CLI_EXIT_* status; free t->ms either way. */
int cli_time_runs(const cli_options *opt, long default_runs, long max_runs, cli_run_fn fn,
                  void *arg, cli_timing *t);

#endif
