/*
 * timing.c - timed runs and their latency summary (see timing.h).
 */
#include "timing.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { DEFAULT_WARMUP_RUNS = 3 };

/* Whole nanoseconds: differences of doubles in milliseconds since boot
 * would carry rounding noise into sub-microsecond times. */
int64_t cli_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double cli_quantile(const double *sorted, size_t n, double q)
{
    double at = q * (double)(n - 1);
    size_t lo = (size_t)floor(at);
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (at - (double)lo);
}

void cli_latency_summarise(double *ms, size_t n, cli_latency *l)
{
    qsort(ms, n, sizeof *ms, compare_doubles);
    memset(l, 0, sizeof *l);
    l->min = ms[0];
    l->max = ms[n - 1];
    l->median = cli_quantile(ms, n, 0.5);
    l->p90 = cli_quantile(ms, n, 0.9);
    l->p99 = cli_quantile(ms, n, 0.99);
    for (size_t i = 0; i < n; i++)
        l->mean += ms[i] / (double)n;
}

void cli_print_latency(FILE *out, const cli_latency *l)
{
    fprintf(out, "latency us: min %.3f  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  mean %.3f\n",
            l->min * 1e3, l->median * 1e3, l->p90 * 1e3, l->p99 * 1e3, l->max * 1e3, l->mean * 1e3);
}

void cli_print_latency_json(FILE *out, const cli_latency *l)
{
    /* %.9g: nine significant digits whatever the magnitude */
    fprintf(out,
            "\"min_ms\": %.9g, \"median_ms\": %.9g, \"p50_ms\": %.9g, \"p90_ms\": %.9g, "
            "\"p99_ms\": %.9g, \"max_ms\": %.9g, \"mean_ms\": %.9g",
            l->min, l->median, l->median, l->p90, l->p99, l->max, l->mean);
}

int cli_time_runs(const cli_options *opt, long default_runs, long max_runs, cli_run_fn fn,
                  void *arg, cli_timing *t)
{
    memset(t, 0, sizeof *t);
    t->warmup = opt->warmup_runs >= 0 ? opt->warmup_runs : DEFAULT_WARMUP_RUNS;
    long wanted = opt->bench_runs ? opt->bench_runs : opt->duration > 0 ? max_runs : default_runs;
    if (wanted > max_runs)
        wanted = max_runs;
    /* --duration grows the array as it goes; a count allocates it once. */
    size_t cap = opt->duration > 0 ? 1024 : (size_t)wanted;
    t->ms = malloc(cap * sizeof *t->ms);
    if (!t->ms) {
        cli_error("out of memory for %zu run times", cap);
        return CLI_EXIT_FAILURE;
    }
    int rc = CLI_EXIT_OK;
    for (long i = 0; rc == CLI_EXIT_OK && i < t->warmup; i++)
        rc = fn(arg, -1);
    int64_t first = cli_now_ns(), deadline = first + (int64_t)(opt->duration * 1e9);
    while (rc == CLI_EXIT_OK && t->runs < wanted) {
        if ((size_t)t->runs == cap) {
            double *bigger = realloc(t->ms, 2 * cap * sizeof *t->ms);
            if (!bigger) {
                cli_error("out of memory for %zu run times", 2 * cap);
                return CLI_EXIT_FAILURE;
            }
            t->ms = bigger;
            cap *= 2;
        }
        int64_t start = cli_now_ns();
        rc = fn(arg, t->runs);
        int64_t end = cli_now_ns();
        t->ms[t->runs++] = (double)(end - start) / 1e6;
        if (opt->duration > 0 && end >= deadline)
            break;
    }
    t->capped = opt->duration > 0 && t->runs == max_runs;
    t->seconds = (double)(cli_now_ns() - first) / 1e9;
    return rc;
}
