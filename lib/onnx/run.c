#include "onnx/run.h"

#include <string.h>
#include <time.h>

#include "ops/conv_pair.h"
#include "ops/op.h"
#include "runtime/alloc.h"
#include "runtime/error.h"
#include "runtime/threadpool.h"

static uint8_t *align_up(uint8_t *p)
{
    uintptr_t a = ((uintptr_t)p + CP_ALIGNMENT - 1) & ~(uintptr_t)(CP_ALIGNMENT - 1);
    return p + (a - (uintptr_t)p);
}

/*
 * 8-bit MaxPool runs as float MaxPool on a converted copy: exact, because
 * every 8-bit integer is a float and max only compares, and the converted
 * back results are the same integers. Indices are unaffected.
 */
static convpool_status run_8bit(const convpool_op *op, const cp_plan *p, const cp_node *n,
                                int is_signed, void *const *ptr, uint8_t *scratch,
                                convpool_context *ctx, size_t ws_bytes)
{
    const cp_shape *xs = &p->shapes[n->x];
    size_t nx = (size_t)p->counts[n->x], ny = (size_t)p->counts[n->y];
    float *xf = (float *)scratch;
    float *yf = (float *)align_up((uint8_t *)(xf + nx));
    uint8_t *ws = align_up((uint8_t *)(yf + ny));
    const uint8_t *xu = ptr[n->x];
    const int8_t *xi = ptr[n->x];
    for (size_t i = 0; i < nx; i++)
        xf[i] = is_signed ? (float)xi[i] : (float)xu[i];
    convpool_status st =
        cp_op_run_ex(op, ctx, xs->dims, xs->rank, xf, yf, ny,
                     n->indices >= 0 ? ptr[n->indices] : NULL, ws_bytes ? ws : NULL, ws_bytes);
    /* A window lying wholly in the padding has max -inf: it becomes the
     * type's lowest value, as -inf is float's. */
    float lowest = is_signed ? -128.0f : 0.0f;
    uint8_t *yu = ptr[n->y];
    int8_t *yi = ptr[n->y];
    for (size_t i = 0; st == CONVPOOL_OK && i < ny; i++) {
        float v = yf[i] < lowest ? lowest : yf[i];
        if (is_signed)
            yi[i] = (int8_t)v;
        else
            yu[i] = (uint8_t)v;
    }
    return st;
}

static convpool_status run_op(const convpool_model *m, const cp_plan *p, size_t index,
                              void *const *ptr, uint8_t *arena, convpool_context *ctx)
{
    const cp_node *n = &m->nodes[index];
    convpool_op *op, *temp;
    convpool_status st =
        cp_node_op(n, n->w >= 0 ? &p->shapes[n->w] : NULL, n->w >= 0 ? ptr[n->w] : NULL,
                   n->b >= 0 ? ptr[n->b] : NULL, &op, &temp);
    if (st != CONVPOOL_OK)
        return st;
    uint8_t *scratch = p->scratch[index] == CP_NOT_IN_ARENA ? NULL : arena + p->scratch[index];
    size_t ws_bytes = p->workspace[index];
    int32_t dtype = m->values[n->x].dtype;
    if (dtype != CONVPOOL_DTYPE_FLOAT) {
        st = run_8bit(op, p, n, dtype == CONVPOOL_DTYPE_INT8, ptr, scratch, ctx, ws_bytes);
    } else {
        const cp_shape *xs = &p->shapes[n->x];
        st = cp_op_run_ex(op, ctx, xs->dims, xs->rank, ptr[n->x], ptr[n->y],
                          (size_t)p->counts[n->y], n->indices >= 0 ? ptr[n->indices] : NULL,
                          ws_bytes ? scratch : NULL, ws_bytes);
    }
    cp_op_destroy(temp);
    return st;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Nodes i and i + 1 as their plan's pair; with node_ns, the pair's time
 * split between the two nodes as the threads' time was. */
static void run_pair(const convpool_model *m, const cp_plan *p, size_t i, void *const *ptr,
                     uint8_t *arena, convpool_context *ctx, int64_t *node_ns)
{
    const cp_node *a = &m->nodes[i], *b = &m->nodes[i + 1];
    int64_t parts[2], start = node_ns ? now_ns() : 0;
    cp_conv_pair_run(a->op, b->op, &p->pairs[i], cp_context_resolve(ctx), ptr[a->x], ptr[b->y],
                     arena + p->scratch[i], node_ns ? parts : NULL);
    if (!node_ns)
        return;
    const int64_t wall = now_ns() - start, sum = parts[0] + parts[1];
    node_ns[a->graph_index] =
        sum > 0 ? (int64_t)((double)wall * (double)parts[0] / (double)sum) : 0;
    node_ns[b->graph_index] = wall - node_ns[a->graph_index];
}

convpool_status cp_run_nodes(const convpool_model *m, const cp_plan *p, void *const *ptr,
                             uint8_t *arena, convpool_context *ctx, int64_t *node_ns)
{
    for (size_t i = 0; i < m->node_count; i++) {
        const cp_node *n = &m->nodes[i];
        if (p->pairs[i].bands) {
            run_pair(m, p, i++, ptr, arena, ctx, node_ns);
            continue;
        }
        convpool_status st = CONVPOOL_OK;
        int64_t start = node_ns ? now_ns() : 0;
        if (n->kind == CP_NODE_IDENTITY) {
            if (p->bytes[n->y] && ptr[n->y] != ptr[n->x])
                memcpy(ptr[n->y], ptr[n->x], p->bytes[n->y]);
        } else {
            st = run_op(m, p, i, ptr, arena, ctx);
        }
        if (node_ns)
            node_ns[n->graph_index] = now_ns() - start;
        if (st != CONVPOOL_OK)
            return cp_fail_context(st, CP_NODE_FMT, CP_NODE_ARGS(n));
    }
    return CONVPOOL_OK;
}
