/*
 * cmd_info.c - `convpool-run --info MODEL.onnx`: what the model takes and
 * gives, and the output shapes inferred for concrete input shapes.
 *
 * Per-node details (op type, attributes with their defaults, per-node
 * shapes, parameter counts, FLOPs) need node introspection that the public
 * API (convpool.h) does not offer yet; the CLI reads models only through
 * that API, so it says so instead of parsing the ONNX file itself.
 */
#include <stdio.h>

#include "cli.h"

static void print_values(const cli_runner *r, int inputs)
{
    size_t n = inputs ? r->n_inputs : convpool_model_output_count(r->model);
    printf("%s (%zu):\n", inputs ? "inputs" : "outputs", n);
    for (size_t i = 0; i < n; i++) {
        int32_t dtype = 0;
        size_t rank;
        if (inputs)
            convpool_model_input_info(r->model, i, &dtype, &rank, NULL, 0);
        else
            convpool_model_output_info(r->model, i, &dtype, &rank, NULL, 0);
        char shape[512];
        cli_format_declared_shape(r->model, inputs, i, shape, sizeof shape);
        printf("  %zu '%s': %s %s\n", i,
               inputs ? convpool_model_input_name(r->model, i)
                      : convpool_model_output_name(r->model, i),
               cli_dtype_name(dtype), shape);
    }
}

/* Binds inputs with symbolic dims resolved (--dim or 1) and prints the
 * output shapes the library infers, without running the graph. */
static int print_inferred_shapes(cli_runner *r, const cli_options *opt)
{
    int rc = cli_bind_inputs(r, opt, 1);
    if (rc != CLI_EXIT_OK)
        return rc;
    printf("inferred shapes (symbolic dims set by --dim NAME=V, else 1):\n");
    for (size_t i = 0; i < r->n_inputs; i++) {
        char shape[512];
        cli_format_shape(r->bound[i].dims, r->bound[i].rank, shape, sizeof shape);
        printf("  input '%s': %s\n", convpool_model_input_name(r->model, i), shape);
    }
    for (size_t i = 0; i < convpool_model_output_count(r->model); i++) {
        int32_t dtype;
        size_t rank;
        int64_t dims[CLI_MAX_RANK];
        convpool_status st = convpool_session_output_shape(r->session, i, &dtype, &rank, dims,
                                                           CLI_MAX_RANK);
        if (st != CONVPOOL_OK) {
            cli_api_error(st, "output %zu '%s'", i, convpool_model_output_name(r->model, i));
            return CLI_EXIT_FAILURE;
        }
        char shape[512];
        cli_format_shape(dims, rank, shape, sizeof shape);
        printf("  output '%s': %s\n", convpool_model_output_name(r->model, i), shape);
    }
    return CLI_EXIT_OK;
}

int cli_cmd_info(const cli_options *opt)
{
    cli_runner r;
    int rc = cli_runner_open(&r, opt->model_path, opt);
    if (rc == CLI_EXIT_OK) {
        printf("model: %s\n", opt->model_path);
        printf("nodes: %zu\n", convpool_model_node_count(r.model));
        print_values(&r, 1);
        print_values(&r, 0);
        rc = print_inferred_shapes(&r, opt);
        printf("per-node details (op, attributes with defaults, shapes, parameters, FLOPs): "
               "not available yet; libconvpool's public API does not expose a model's "
               "nodes\n");
    }
    cli_runner_close(&r);
    return rc;
}
