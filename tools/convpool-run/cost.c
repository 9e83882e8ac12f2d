/*
 * cost.c - parameter counts and FLOPs of a model's nodes for the inputs
 * bound to a session, from the node introspection calls of the public API.
 *
 * Conventions (also in --help, the man page and the README):
 *  - Conv: 2*N*M*prod(output spatial)*(C/group)*prod(kernel), one multiply
 *    and one add per weight tap; the bias adds are not counted (the
 *    convention of convpool-bench and the README's performance tables).
 *  - ConvTranspose: 2*N*C*prod(input spatial)*(M/group)*prod(kernel), one
 *    multiply and one add per input element and weight tap (taps the pads
 *    crop away included), bias adds not counted.
 *  - MaxPool, AveragePool, LpPool: one op per window tap,
 *    N*C*prod(output spatial)*prod(kernel_shape).
 *  - GlobalMaxPool, GlobalAveragePool, GlobalLpPool: N*C*prod(input spatial).
 *  - Constant, Identity: 0.
 *  - Parameters: the elements of Conv's and ConvTranspose's W and B when they are initializers
 *    or Constant outputs (a W or B fed as a graph input is data, not a
 *    parameter of the model).
 */
#include <string.h>

#include "cli.h"

/* a * b into *acc unless it overflows int64. */
static int mul_into(int64_t *acc, int64_t b)
{
    return __builtin_mul_overflow(*acc, b, acc) ? -1 : 0;
}

/* Product of dims[from..rank) into *acc. */
static int mul_dims(int64_t *acc, const int64_t *dims, size_t from, size_t rank)
{
    for (size_t d = from; d < rank; d++)
        if (mul_into(acc, dims[d]) != 0)
            return -1;
    return 0;
}

int cli_value_shape(const cli_runner *r, const char *name, cli_shape *shape)
{
    convpool_status st = convpool_session_value_shape(r->session, name, &shape->dtype,
                                                      &shape->rank, shape->dims, CLI_MAX_RANK);
    if (st != CONVPOOL_OK) {
        cli_api_error(st, "value '%s'", name);
        return -1;
    }
    return 0;
}

/* Elements of Conv input `i` if it is a parameter (not a graph input). */
static int param_elements(const cli_runner *r, size_t node, size_t i, int64_t *count)
{
    const char *name = convpool_model_node_input_name(r->model, node, i);
    size_t index;
    *count = 0;
    if (!name || !*name || /* B absent (NULL: past the inputs) or omitted ("") */ convpool_model_input_index(r->model, name, &index) == CONVPOOL_OK)
        return 0;
    cli_shape s;
    if (cli_value_shape(r, name, &s) != 0)
        return -1;
    *count = 1;
    return mul_dims(count, s.dims, 0, s.rank);
}

int cli_node_cost(const cli_runner *r, size_t node, cli_cost *cost)
{
    memset(cost, 0, sizeof *cost);
    const convpool_desc *desc = convpool_model_node_desc(r->model, node);
    if (!desc)
        return 0; /* Constant, Identity */
    int32_t kind = convpool_desc_kind(desc);
    cli_shape in, out;
    if (cli_value_shape(r, convpool_model_node_input_name(r->model, node, 0), &in) != 0 ||
        cli_value_shape(r, convpool_model_node_output_name(r->model, node, 0), &out) != 0)
        return -1;
    int64_t flops = 1;
    int bad = 0;
    if (kind == CONVPOOL_OP_CONV || kind == CONVPOOL_OP_CONV_TRANSPOSE) {
        cli_shape w;
        int64_t b = 0;
        if (cli_value_shape(r, convpool_model_node_input_name(r->model, node, 1), &w) != 0 ||
            param_elements(r, node, 1, &cost->params) != 0 ||
            param_elements(r, node, 2, &b) != 0)
            return -1;
        /* Conv: 2 * N * M * out spatial * (C/group) * kernel taps, W (M, C/group, k...);
         * ConvTranspose: 2 * N * C * in spatial * (M/group) * taps, W (C, M/group, k...) */
        const cli_shape *per = kind == CONVPOOL_OP_CONV ? &out : &in;
        flops = 2;
        bad = mul_dims(&flops, per->dims, 0, per->rank) || mul_dims(&flops, w.dims, 1, w.rank) ||
              __builtin_add_overflow(cost->params, b, &cost->params);
    } else if (kind == CONVPOOL_OP_MAX_POOL || kind == CONVPOOL_OP_AVERAGE_POOL ||
               kind == CONVPOOL_OP_LP_POOL) {
        int64_t kernel[3];
        size_t k;
        bad = convpool_desc_get_ints(desc, CONVPOOL_ATTR_KERNEL_SHAPE, kernel, 3, &k) !=
                  CONVPOOL_OK ||
              mul_dims(&flops, out.dims, 0, out.rank) || mul_dims(&flops, kernel, 0, k);
    } else {
        bad = mul_dims(&flops, in.dims, 0, in.rank);
    }
    if (bad) {
        cli_error("node %zu '%s': its FLOP or parameter count overflows int64", node,
                  convpool_model_node_name(r->model, node));
        return -1;
    }
    cost->flops = flops;
    return 0;
}

int cli_model_cost(const cli_runner *r, cli_cost *total)
{
    memset(total, 0, sizeof *total);
    for (size_t i = 0; i < convpool_model_node_count(r->model); i++) {
        cli_cost c;
        if (cli_node_cost(r, i, &c) != 0)
            return -1;
        if (__builtin_add_overflow(total->params, c.params, &total->params) ||
            __builtin_add_overflow(total->flops, c.flops, &total->flops)) {
            cli_error("the model's FLOP or parameter count overflows int64");
            return -1;
        }
    }
    return 0;
}
