/*
 * cmd_bench.c - `convpool-run --bench N MODEL.onnx`: latency of whole-model
 * runs after warm-up, as text or one JSON object, with GFLOP/s from the
 * model's FLOPs for the bound inputs (cost.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "print.h"
#include "timing.h"

typedef cli_latency latency;

/* GFLOP/s at the median latency. */
static double gflops(const cli_cost *cost, const latency *l)
{
    return l->median > 0 ? (double)cost->flops / (l->median * 1e6) : 0.0;
}

static void print_text(const cli_options *opt, const cli_runner *r, const cli_timing *t,
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
    printf("runs: %ld (after %ld warm-up) in %.3f s%s\n", t->runs, t->warmup, t->seconds,
           t->capped ? " (--duration stopped at the most runs)" : "");
    cli_print_latency(stdout, l);
    printf("FLOPs per run: %lld (Conv 2*N*M*prod(out)*(C/group)*prod(kernel), ConvTranspose "
           "2*N*C*prod(in)*(M/group)*prod(kernel), bias not counted; pools one per window "
           "tap)\n",
           (long long)cost->flops);
    printf("GFLOP/s: %.3f (at the median latency)\n", gflops(cost, l));
}

static void print_json(const cli_options *opt, const cli_runner *r, const cli_timing *t,
                       const latency *l, const cli_cost *cost, cli_profile *profile)
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
           "\"seconds\": %.9g, ",
           (int)convpool_context_num_threads(r->ctx), convpool_isa_name(convpool_isa_active()),
           t->warmup, t->runs, t->seconds);
    cli_print_latency_json(stdout, l);
    printf(", \"flops\": %lld, \"gflops\": %.9g", (long long)cost->flops, gflops(cost, l));
    if (profile)
        cli_profile_print_json(stdout, profile);
    printf("}\n");
}

static int run_once(void *arg, long run)
{
    return cli_run_once(arg, "the model");
}

/* The run count of --profile when neither --bench N nor --duration S is given. */
enum { DEFAULT_PROFILE_RUNS = 100 };

int cli_cmd_bench(const cli_options *opt)
{
    cli_runner r;
    cli_cost cost;
    cli_timing t = {0};
    cli_profile *profile = NULL;
    int rc = cli_runner_open(&r, opt->model_path, opt);
    if (rc == CLI_EXIT_OK)
        rc = cli_bind_inputs(&r, opt, 1);
    if (rc == CLI_EXIT_OK && cli_model_cost(&r, &cost) != 0)
        rc = CLI_EXIT_FAILURE;
    if (rc == CLI_EXIT_OK && opt->profile && !(profile = cli_profile_create(&r)))
        rc = CLI_EXIT_FAILURE;
    if (rc == CLI_EXIT_OK && profile)
        rc = cli_time_runs(opt, DEFAULT_PROFILE_RUNS, CLI_MAX_TIMED_RUNS, cli_profile_run, profile,
                           &t);
    else if (rc == CLI_EXIT_OK)
        rc = cli_time_runs(opt, 1, CLI_MAX_TIMED_RUNS, run_once, &r, &t);
    if (rc == CLI_EXIT_OK) {
        latency l;
        cli_latency_summarise(t.ms, (size_t)t.runs, &l);
        if (opt->json) {
            print_json(opt, &r, &t, &l, &cost, profile);
        } else {
            print_text(opt, &r, &t, &l, &cost);
            if (profile)
                cli_profile_print_text(stdout, profile);
        }
    }
    cli_profile_destroy(profile);
    free(t.ms);
    cli_runner_close(&r);
    return rc;
}
