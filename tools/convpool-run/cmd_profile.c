/*
 * cmd_profile.c - `convpool-run --profile MODEL.onnx`: each node's time over
 * the timed runs of --bench, measured by the library's
 * convpool_session_run_profiled() (the same run path as an ordinary run),
 * with its share of the model's node time and its GFLOP/s (FLOPs as cost.c
 * counts them); and what each run spends outside its nodes (its wall time
 * minus the sum of its node times: the session, the plan lookup, the loop),
 * the model path's own cost.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "timing.h"

typedef struct node_row {
    cli_cost cost;
    char shape[128]; /* of the node's first output */
    cli_shape out;   /* the same; rank 0 if the node has none */
    int ran;         /* 0: folded away at load time, never timed */
    cli_latency l;   /* ms */
} node_row;

struct cli_profile {
    cli_runner *r;
    size_t nodes;
    int64_t *ns;        /* runs x nodes, grown as runs come */
    int64_t *outside;   /* runs: wall time minus the sum of the node times */
    int64_t *warmup_ns; /* nodes: the times of warm-up runs, not kept */
    size_t cap_runs;
    long runs;
    node_row *rows;
    double sum_median_ms;  /* of the nodes that ran */
    cli_latency outside_l; /* ms */
};

cli_profile *cli_profile_create(cli_runner *r)
{
    cli_profile *p = calloc(1, sizeof *p);
    size_t n = convpool_model_node_count(r->model);
    if (!p || !(p->rows = calloc(n ? n : 1, sizeof *p->rows)) ||
        !(p->warmup_ns = calloc(n ? n : 1, sizeof *p->warmup_ns))) {
        cli_profile_destroy(p);
        cli_error("out of memory");
        return NULL;
    }
    if (n == 0) {
        cli_error("the model has no nodes to profile");
        cli_profile_destroy(p);
        return NULL;
    }
    p->r = r;
    p->nodes = n;
    for (size_t i = 0; i < n; i++) {
        cli_shape s;
        const char *out = convpool_model_node_output_name(r->model, i, 0);
        if (cli_node_cost(r, i, &p->rows[i].cost) != 0 ||
            (out && *out && cli_value_shape(r, out, &s) != 0)) {
            cli_profile_destroy(p);
            return NULL;
        }
        if (out && *out) {
            p->rows[i].out = s;
            cli_format_shape(s.dims, s.rank, p->rows[i].shape, sizeof p->rows[i].shape);
        }
    }
    return p;
}

void cli_profile_destroy(cli_profile *p)
{
    if (!p)
        return;
    free(p->ns);
    free(p->outside);
    free(p->warmup_ns);
    free(p->rows);
    free(p);
}

int cli_profile_run(void *profile, long run)
{
    cli_profile *p = profile;
    if (run >= 0 && (size_t)run >= p->cap_runs) {
        size_t cap = p->cap_runs ? 2 * p->cap_runs : 256;
        int64_t *bigger = cap <= SIZE_MAX / sizeof *bigger / p->nodes
                              ? realloc(p->ns, cap * p->nodes * sizeof *bigger)
                              : NULL;
        if (bigger)
            p->ns = bigger;
        int64_t *outside = bigger ? realloc(p->outside, cap * sizeof *outside) : NULL;
        if (!outside) {
            cli_error("out of memory for the node times of %zu runs", cap);
            return CLI_EXIT_FAILURE;
        }
        p->outside = outside;
        p->cap_runs = cap;
    }
    /* Warm-up runs are profiled too, so that they warm the same path. */
    int64_t *times = run < 0 ? p->warmup_ns : p->ns + (size_t)run * p->nodes;
    int64_t start = cli_now_ns();
    convpool_status st = convpool_session_run_profiled(p->r->session, p->r->ctx, times, p->nodes);
    int64_t wall = cli_now_ns() - start;
    if (st != CONVPOOL_OK) {
        cli_api_error(st, "profiling the model");
        return CLI_EXIT_FAILURE;
    }
    if (run >= 0) {
        for (size_t i = 0; i < p->nodes; i++)
            wall -= times[i] > 0 ? times[i] : 0; /* -1: folded at load time */
        p->outside[run] = wall;
        p->runs = run + 1;
    }
    return CLI_EXIT_OK;
}

/* Summarises every node's times (once, before printing). */
static void summarise(cli_profile *p)
{
    if (p->sum_median_ms > 0 || p->runs == 0)
        return;
    double *ms = malloc((size_t)p->runs * sizeof *ms);
    for (size_t i = 0; ms && i < p->nodes; i++) {
        node_row *row = &p->rows[i];
        row->ran = p->ns[i] >= 0;
        if (!row->ran)
            continue;
        for (long k = 0; k < p->runs; k++)
            ms[k] = (double)p->ns[(size_t)k * p->nodes + i] / 1e6;
        cli_latency_summarise(ms, (size_t)p->runs, &row->l);
        p->sum_median_ms += row->l.median;
    }
    for (long k = 0; ms && k < p->runs; k++)
        ms[k] = (double)p->outside[k] / 1e6;
    if (ms)
        cli_latency_summarise(ms, (size_t)p->runs, &p->outside_l);
    free(ms);
}

static double node_gflops(const node_row *row)
{
    return row->l.median > 0 ? (double)row->cost.flops / (row->l.median * 1e6) : 0.0;
}

static double node_share(const cli_profile *p, const node_row *row)
{
    return p->sum_median_ms > 0 ? row->l.median / p->sum_median_ms : 0.0;
}

void cli_profile_print_text(FILE *out, cli_profile *p)
{
    summarise(p);
    const convpool_model *m = p->r->model;
    fprintf(out,
            "nodes: median of %ld runs each; share of the sum of the node medians "
            "(%.3f us)\n",
            p->runs, p->sum_median_ms * 1e3);
    fprintf(out, "  node  %-18s %11s %7s %9s  output, name\n", "op", "median us", "share",
            "GFLOP/s");
    for (size_t i = 0; i < p->nodes; i++) {
        const node_row *row = &p->rows[i];
        fprintf(out, "  %4zu  %-18s ", i, convpool_model_node_op_type(m, i));
        if (row->ran)
            fprintf(out, "%11.3f %6.1f%% %9.3f  %s ", row->l.median * 1e3, 100 * node_share(p, row),
                    node_gflops(row), row->shape);
        else
            fprintf(out, "%11s %7s %9s  (folded at load time) ", "-", "-", "-");
        cli_print_name(out, convpool_model_node_name(m, i));
        fputc('\n', out);
    }
    fprintf(out,
            "outside the nodes (the run's wall time minus its node times): median %.3f us, "
            "p90 %.3f us\n",
            p->outside_l.median * 1e3, p->outside_l.p90 * 1e3);
}

void cli_profile_print_json(FILE *out, cli_profile *p)
{
    summarise(p);
    const convpool_model *m = p->r->model;
    fprintf(out,
            ", \"node_median_sum_ms\": %.9g, \"outside_nodes_median_ms\": %.9g, "
            "\"outside_nodes_p90_ms\": %.9g, \"nodes\": [",
            p->sum_median_ms, p->outside_l.median, p->outside_l.p90);
    for (size_t i = 0; i < p->nodes; i++) {
        const node_row *row = &p->rows[i];
        fprintf(out, "%s{\"index\": %zu, \"name\": ", i ? ", " : "", i);
        cli_print_json_string(out, convpool_model_node_name(m, i));
        fprintf(out, ", \"op_type\": ");
        cli_print_json_string(out, convpool_model_node_op_type(m, i));
        fprintf(out, ", \"output_shape\": [");
        for (size_t d = 0; d < row->out.rank; d++)
            fprintf(out, "%s%lld", d ? ", " : "", (long long)row->out.dims[d]);
        fprintf(out, "], \"flops\": %lld, \"executed\": %s", (long long)row->cost.flops,
                row->ran ? "true" : "false");
        if (row->ran) {
            fprintf(out, ", ");
            cli_print_latency_json(out, &row->l);
            fprintf(out, ", \"share\": %.9g, \"gflops\": %.9g", node_share(p, row),
                    node_gflops(row));
        }
        fprintf(out, "}");
    }
    fprintf(out, "]");
}
