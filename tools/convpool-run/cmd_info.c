/*
 * cmd_info.c - `convpool-run --info MODEL.onnx`: what the model takes and
 * gives, then every node in file order with its inputs and outputs at the
 * shapes inferred for concrete inputs (the --input files' shapes, else the
 * declared ones with --dim NAME=V or 1 for symbolic dims; only shapes are
 * bound, so no input is made), every attribute with the defaults of the
 * imported opset filled in, its parameter count and FLOPs (cost.c), and
 * the totals.
 */
#include <stdio.h>

#include "cli.h"
#include "print.h"

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
               cli_safe(inputs ? convpool_model_input_name(r->model, i)
                               : convpool_model_output_name(r->model, i)),
               cli_dtype_name(dtype), shape);
    }
}

/* The output shapes the library infers for the bound inputs. */
static int print_inferred_shapes(cli_runner *r)
{
    printf("inferred shapes (symbolic dims set by --dim NAME=V, else 1):\n");
    for (size_t i = 0; i < r->n_inputs; i++) {
        char shape[512];
        cli_format_shape(r->bound[i].dims, r->bound[i].rank, shape, sizeof shape);
        printf("  input '%s': %s\n", cli_safe(convpool_model_input_name(r->model, i)), shape);
    }
    for (size_t i = 0; i < convpool_model_output_count(r->model); i++) {
        cli_shape s;
        if (cli_value_shape(r, convpool_model_output_name(r->model, i), &s) != 0)
            return CLI_EXIT_FAILURE;
        char shape[512];
        cli_format_shape(s.dims, s.rank, shape, sizeof shape);
        printf("  output '%s': %s\n", cli_safe(convpool_model_output_name(r->model, i)), shape);
    }
    return CLI_EXIT_OK;
}

/* "'x' float32 [1, 1, 6, 8]" for a node's input or output; "(none)" for an
 * omitted optional one. Returns -1 after reporting an error. */
static int print_link(const cli_runner *r, const char *name, const char *sep)
{
    if (!*name) {
        printf("%s(none)", sep);
        return 0;
    }
    cli_shape s;
    if (cli_value_shape(r, name, &s) != 0)
        return -1;
    char shape[512];
    cli_format_shape(s.dims, s.rank, shape, sizeof shape);
    printf("%s'%s' %s %s", sep, cli_safe(name), cli_dtype_name(s.dtype), shape);
    return 0;
}

static const char *const attr_names[] = {
    [CONVPOOL_ATTR_KERNEL_SHAPE] = "kernel_shape",
    [CONVPOOL_ATTR_STRIDES] = "strides",
    [CONVPOOL_ATTR_DILATIONS] = "dilations",
    [CONVPOOL_ATTR_PADS] = "pads",
    [CONVPOOL_ATTR_AUTO_PAD] = "auto_pad",
    [CONVPOOL_ATTR_GROUP] = "group",
    [CONVPOOL_ATTR_CEIL_MODE] = "ceil_mode",
    [CONVPOOL_ATTR_COUNT_INCLUDE_PAD] = "count_include_pad",
    [CONVPOOL_ATTR_STORAGE_ORDER] = "storage_order",
    [CONVPOOL_ATTR_OUTPUT_PADDING] = "output_padding",
    [CONVPOOL_ATTR_OUTPUT_SHAPE] = "output_shape",
    [CONVPOOL_ATTR_P] = "p",
};

static const char *auto_pad_name(int64_t value)
{
    static const char *const names[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    return value >= 0 && value < 4 ? names[value] : "?";
}

/* Every attribute the node's op has, with the defaults filled in; an
 * attribute the op does not have reads as INVALID_ATTRIBUTE and is skipped. */
static void print_attributes(const convpool_desc *desc)
{
    printf("    attributes:");
    int any = 0;
    for (int32_t a = 1; a < (int32_t)(sizeof attr_names / sizeof attr_names[0]); a++) {
        int64_t v[6], value;
        size_t count;
        if (convpool_desc_get_ints(desc, a, v, 6, &count) == CONVPOOL_OK) {
            if (count == 0 && a == CONVPOOL_ATTR_OUTPUT_SHAPE)
                continue; /* ConvTranspose without output_shape: the pads decide */
            any = 1;
            if (count == 0) { /* a Conv's kernel_shape when W's shape is dynamic */
                printf(" %s=(from W)", attr_names[a]);
                continue;
            }
            printf(" %s=[", attr_names[a]);
            for (size_t i = 0; i < count; i++)
                printf("%s%lld", i ? ", " : "", (long long)v[i]);
            printf("]");
        } else if (convpool_desc_get_int(desc, a, &value) == CONVPOOL_OK) {
            any = 1;
            if (a == CONVPOOL_ATTR_AUTO_PAD)
                printf(" %s=%s", attr_names[a], auto_pad_name(value));
            else
                printf(" %s=%lld", attr_names[a], (long long)value);
        }
    }
    printf("%s\n", any ? "" : " (none)");
}

static int print_node(const cli_runner *r, size_t node, cli_cost *cost)
{
    const convpool_model *m = r->model;
    printf("  node %zu '%s' %s\n    ", node, cli_safe(convpool_model_node_name(m, node)),
           cli_safe(convpool_model_node_op_type(m, node)));
    size_t n_in = convpool_model_node_input_count(m, node);
    for (size_t i = 0; i < n_in; i++)
        if (print_link(r, convpool_model_node_input_name(m, node, i), i ? ", " : "") != 0)
            return -1;
    printf("%s->", n_in ? " " : "");
    for (size_t i = 0; i < convpool_model_node_output_count(m, node); i++)
        if (print_link(r, convpool_model_node_output_name(m, node, i), i ? ", " : " ") != 0)
            return -1;
    printf("\n");
    const convpool_desc *desc = convpool_model_node_desc(m, node);
    if (desc)
        print_attributes(desc);
    if (cli_node_cost(r, node, cost) != 0)
        return -1;
    printf("    params %lld  FLOPs %lld\n", (long long)cost->params, (long long)cost->flops);
    return 0;
}

int cli_cmd_info(const cli_options *opt)
{
    cli_runner r;
    int rc = cli_runner_open(&r, opt->model_path, opt);
    if (rc == CLI_EXIT_OK)
        rc = cli_bind_input_shapes(&r, opt);
    if (rc == CLI_EXIT_OK) {
        size_t n = convpool_model_node_count(r.model);
        printf("model: %s\n", cli_safe(opt->model_path));
        print_values(&r, 1);
        print_values(&r, 0);
        rc = print_inferred_shapes(&r);
        if (rc == CLI_EXIT_OK)
            printf("nodes: %zu (file order; Conv FLOPs 2*N*M*prod(out)*(C/group)*prod(kernel), "
                   "ConvTranspose 2*N*C*prod(in)*(M/group)*prod(kernel), bias not counted; "
                   "pools one per window tap)\n",
                   n);
        for (size_t i = 0; rc == CLI_EXIT_OK && i < n; i++) {
            cli_cost c;
            if (print_node(&r, i, &c) != 0) {
                printf("\n");
                rc = CLI_EXIT_FAILURE;
            }
        }
        cli_cost total;
        if (rc == CLI_EXIT_OK && cli_model_cost(&r, &total) != 0)
            rc = CLI_EXIT_FAILURE;
        if (rc == CLI_EXIT_OK)
            printf("total: params %lld  FLOPs %lld (%.6g GFLOP)\n", (long long)total.params,
                   (long long)total.flops, (double)total.flops / 1e9);
    }
    cli_runner_close(&r);
    return rc;
}
