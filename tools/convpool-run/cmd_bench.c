/*
 * cmd_bench.c - `convpool-run --bench N MODEL.onnx`: latency of whole-model
 * runs after warm-up, as text or one JSON object, with GFLOP/s from the
 * model's FLOPs for the bound inputs (cost.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "print.h"

enum { DEFAULT_WARMUP_RUNS = 3 };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct latency {
    double min, median, max, mean;
} latency;

static latency summarise(double *ms, size_t n)
{
    qsort(ms, n, sizeof *ms, compare_doubles);
    latency l = {ms[0], n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2, ms[n - 1], 0};
    for (size_t i = 0; i < n; i++)
        l.mean += ms[i] / (double)n;
    return l;
}

/* GFLOP/s at the median latency. */
static double gflops(const cli_cost *cost, const latency *l)
{
    return l->median > 0 ? (double)cost->flops / (l->median * 1e6) : 0.0;
}

static void print_text(const cli_options *opt, const cli_runner *r, long warmup,
                       const latency *l, const cli_cost *cost)
{
    printf("model: %s\n", cli_safe(opt->model_path));
    for (size_t i = 0; i < r->n_inputs; i++) {
        char shape[256];
        cli_format_shape(r->bound[i].dims, r->bound[i].rank, shape, sizeof shape);
        printf("input '%s': %s %s\n", cli_safe(convpool_model_input_name(r->model, i)),
               cli_dtype_name(r->bound[i].dtype), shape);
    }
    printf("threads: %d  isa: %s\n", (int)convpool_context_num_threads(r->ctx),
           convpool_isa_name(convpool_isa_active()));
    printf("runs: %ld (after %ld warm-up)\n", opt->bench_runs, warmup);
    printf("latency ms: min %.4f  median %.4f  max %.4f  mean %.4f\n", l->min, l->median,
           l->max, l->mean);
    printf("FLOPs per run: %lld (Conv 2*N*M*prod(out)*(C/group)*prod(kernel), bias not "
           "counted; pools one per window tap)\n", (long long)cost->flops);
    printf("GFLOP/s: %.3f (at the median latency)\n", gflops(cost, l));
}

static void print_json(const cli_options *opt, const cli_runner *r, long warmup,
                       const latency *l, const cli_cost *cost)
{
    printf("{\"model\": ");
    cli_print_json_string(stdout, opt->model_path);
    printf(", \"inputs\": [");
    for (size_t i = 0; i < r->n_inputs; i++) {
        printf("%s{\"name\": ", i ? ", " : "");
        cli_print_json_string(stdout, convpool_model_input_name(r->model, i));
        printf(", \"dtype\": \"%s\", \"shape\": [", cli_dtype_name(r->bound[i].dtype));
        for (size_t d = 0; d < r->bound[i].rank; d++)
            printf("%s%lld", d ? ", " : "", (long long)r->bound[i].dims[d]);
        printf("]}");
    }
    printf("], \"threads\": %d, \"isa\": \"%s\", \"warmup\": %ld, \"runs\": %ld, "
           "\"min_ms\": %.6f, \"median_ms\": %.6f, \"max_ms\": %.6f, \"mean_ms\": %.6f, "
           "\"flops\": %lld, \"gflops\": %.6f}\n",
           (int)convpool_context_num_threads(r->ctx), convpool_isa_name(convpool_isa_active()),
           warmup, opt->bench_runs, l->min, l->median, l->max, l->mean, (long long)cost->flops,
           gflops(cost, l));
}

int cli_cmd_bench(const cli_options *opt)
{
    cli_runner r;
    double *ms = malloc((size_t)opt->bench_runs * sizeof *ms);
    int rc = ms ? cli_runner_open(&r, opt->model_path, opt) : CLI_EXIT_FAILURE;
    if (!ms) {
        cli_error("out of memory");
        return rc;
    }
    cli_cost cost;
    if (rc == CLI_EXIT_OK)
        rc = cli_bind_inputs(&r, opt, 1);
    if (rc == CLI_EXIT_OK && cli_model_cost(&r, &cost) != 0)
        rc = CLI_EXIT_FAILURE;
    long warmup = opt->warmup_runs >= 0 ? opt->warmup_runs : DEFAULT_WARMUP_RUNS;
    for (long i = 0; rc == CLI_EXIT_OK && i < warmup; i++)
        rc = cli_run_once(&r, opt->model_path);
    for (long i = 0; rc == CLI_EXIT_OK && i < opt->bench_runs; i++) {
        double start = now_ms();
        rc = cli_run_once(&r, opt->model_path);
        ms[i] = now_ms() - start;
    }
    if (rc == CLI_EXIT_OK) {
        latency l = summarise(ms, (size_t)opt->bench_runs);
        if (opt->json)
            print_json(opt, &r, warmup, &l, &cost);
        else
            print_text(opt, &r, warmup, &l, &cost);
    }
    free(ms);
    cli_runner_close(&r);
    return rc;
}
