/*
 * op.h - what a convpool_op is: validated attributes, the implementation
 * chosen for them at creation time, and that implementation's prepared
 * (packed) weights.
 */
#ifndef CP_OPS_OP_H
#define CP_OPS_OP_H

#include <stddef.h>
#include <stdint.h>

#include "convpool.h"
#include "kernels/geom.h"
#include "ops/desc.h"

typedef struct cp_impl cp_impl;
typedef struct cp_backward_impl cp_backward_impl;

struct convpool_op {
    cp_attrs attrs;      /* kernel_shape filled in from W for Conv */
    int64_t m;           /* Conv output channels */
    int64_t c_per_group; /* Conv input channels per group */
    const cp_impl *impl;
    void *packed;                     /* impl-owned: weights and bias in its layout */
    size_t packed_bytes;              /* what prepare() allocated for it */
    int32_t isa;                      /* the ISA path the impl was chosen for; impls that
                                         build inner ops (ConvTranspose's GEMM) pass it on */
    const cp_backward_impl *backward; /* the gradients' implementation */
    /* CONVPOOL_CREATE_BACKWARD on a Conv (ConvTranspose): the ConvTranspose
     * (Conv) op with the same weights and ISA path that computes dx. */
    convpool_op *transposed;
    /* A ConvTranspose whose output_shape or auto_pad can make its pads
     * negative: the reference Conv for those runs, which the fast paths'
     * kernels (reading the input in place from the first window's origin)
     * do not take. NULL otherwise. */
    convpool_op *transposed_ref;
};

/* Everything one run needs, handed to an implementation. */
typedef struct cp_run_args {
    const convpool_op *op;
    const cp_geom *geom;
    convpool_context *ctx; /* resolved, never NULL */
    const float *x;
    float *y;
    int64_t *indices; /* MaxPool only; may be NULL */
    void *workspace;  /* >= impl->workspace_size() bytes, 64-byte aligned */
} cp_run_args;

/*
 * An implementation of one op kind: the reference kernels or a fast path.
 * ops/select.c lists them, best first; the first whose ISA is active and
 * whose supports() accepts the op is used.
 */
struct cp_impl {
    const char *name; /* e.g. "conv.ref", for diagnostics and tests */
    int32_t kind;     /* convpool_op_kind */
    int32_t isa;      /* minimum convpool_isa */
    /* Whether this impl handles the op's attributes (NULL: all). */
    int (*supports)(const convpool_op *op);
    /* Packs Conv weights (M, C/group, K...) and bias (M or NULL) into
     * op->packed. NULL for ops without weights. */
    convpool_status (*prepare)(convpool_op *op, const float *weight, const float *bias);
    void (*release)(convpool_op *op);
    /* Scratch bytes a run needs for this geometry and thread count (NULL: 0). */
    size_t (*workspace_size)(const convpool_op *op, const cp_geom *g, int32_t threads);
    void (*run)(const cp_run_args *args);
    /* A pointwise Conv (1x1, stride 1, no pads) of M*K output channels,
     * K = block[0]*block[1]*block[2], stored depth to space: output channel
     * m*K + (kd*block[1] + kh)*block[2] + kw at pixel (i0, i1, i2) goes to
     * args->y[n, m, i0*block[0] + kd, i1*block[1] + kh, i2*block[2] + kw],
     * y having M channels of y_dims (3-D as in cp_geom, at least
     * in*block). Positions beyond in*block are not written. This is
     * ConvTranspose with kernel = stride, without the pass that would
     * interleave the phases. NULL where the impl has none. */
    void (*run_depth_to_space)(const cp_run_args *args, const int64_t *block,
                               const int64_t *y_dims);
    /* A pointwise Conv (as above) on pixels q0 .. q0 + pixels - 1 of the
     * one image of args (args->geom->n is 1; x's channels a whole plane
     * apart as in run), output channel r of pixel q stored at
     * args->y[r * y_stride + q - q0], on at most max_threads threads of
     * args->ctx (1: on the calling thread, as a task of a parallel section
     * may), args->workspace holding pixels_workspace_size(op, geom,
     * max_threads) bytes. ConvTranspose's GEMM way computes its columns a
     * band of input rows at a time with it. Every impl a GEMM-way inner
     * Conv can get has one. */
    void (*run_pixels)(const cp_run_args *args, int64_t q0, int64_t pixels, int64_t y_stride,
                       int32_t max_threads);
    /* Output rows oh0 .. oh1 - 1 (at most max_rows) of every output
     * channel of the one image of args (args->geom->n is 1; a 2-D op:
     * out[0] is 1), on the calling thread, args->workspace holding
     * rows_workspace_size(op, geom, max_rows) bytes: output channel m's row
     * oh stored at args->y + m * y_plane + (oh - oh0) * out[2], the same
     * values run stores there. Only where
     * rows_supported(op, geom) says so (NULL where the impl has none). The
     * model path runs a depthwise Conv a band of rows at a time into an
     * L2-sized buffer with it, each band then consumed by the pointwise
     * Conv after it (ops/conv_pair.h). */
    int (*rows_supported)(const convpool_op *op, const cp_geom *g);
    size_t (*rows_workspace_size)(const convpool_op *op, const cp_geom *g, int64_t max_rows);
    void (*run_rows)(const cp_run_args *args, int64_t oh0, int64_t oh1, int64_t max_rows,
                     int64_t y_plane);
    /* Scratch bytes run_pixels needs on geometry g (its input plane) and at
     * most max_threads threads, 64-byte aligned. */
    size_t (*pixels_workspace_size)(const convpool_op *op, const cp_geom *g, int32_t max_threads);
    /* One output row of `width` floats from its two stride-2 phases
     * (cp_zip_phase): each phase's sources summed (in a fixed order), then
     * dst[2j] = base + even sum, dst[2j + 1] = base + odd sum, base `init`
     * or (accumulate) dst's value; every float of the row written, on the
     * op's ISA path. The scatter of ConvTranspose's GEMM way writes the
     * output rows of a stride-2 W with its inner Conv's. Every impl a
     * GEMM-way inner Conv can get has one. */
    void (*zip_phase_sums)(const convpool_op *op, const cp_zip_phase *even, const cp_zip_phase *odd,
                           int64_t width, float init, int accumulate, float *dst);
};

/* What a backward pass hands to its implementation. The geometry is the
 * forward run's; dy has that run's output shape and dx its input shape. */
typedef struct cp_backward_args {
    const convpool_op *op;
    const cp_geom *geom;
    convpool_context *ctx;  /* resolved, never NULL */
    const float *x;         /* the forward input; NULL where the pass needs none */
    const int64_t *indices; /* MaxPool's forward Indices, validated; or NULL */
    const float *dy;
    float *dx;       /* backward_data */
    float *dw;       /* backward_weights; NULL when not wanted */
    float *db;       /* backward_weights; NULL when not wanted */
    void *workspace; /* >= workspace_size() bytes, 64-byte aligned */
} cp_backward_args;

/*
 * The backward passes of one op kind, listed like cp_impl in ops/select.c
 * (best first, reference last) and chosen at op creation for its ISA path.
 */
struct cp_backward_impl {
    const char *name;                       /* e.g. "conv.backward.ref" */
    int32_t kind;                           /* convpool_op_kind */
    int32_t isa;                            /* minimum convpool_isa */
    int (*supports)(const convpool_op *op); /* NULL: all */
    /* Scratch bytes of pass (convpool_backward_pass) for this forward
     * geometry and thread count (NULL: 0). */
    size_t (*workspace_size)(const convpool_op *op, const cp_geom *g, int32_t threads,
                             int32_t pass);
    void (*data)(const cp_backward_args *args);
    void (*weights)(const cp_backward_args *args); /* NULL for the pools */
    /* MaxPool's Indices check on this ISA path: the first i < n with ip[i]
     * outside [lo, hi) and not -1, or -1 if there is none. NULL: the
     * ISA-free loop of ops/backward.c. */
    int64_t (*first_bad_index)(const int64_t *ip, int64_t n, int64_t lo, int64_t hi);
};

const cp_backward_impl *cp_select_backward_impl(const convpool_op *op, int32_t isa);

/*
 * The workspace of a run that needs `need` bytes: the caller's (aligned to
 * CP_ALIGNMENT; BUFFER_TOO_SMALL naming `query`, the call that sizes it, if
 * it is short) or the context's scratch. Release with cp_workspace_release.
 */
typedef struct cp_workspace {
    void *ptr;   /* aligned, NULL when need is 0 */
    void *owned; /* the context's scratch, to give back */
    int cached;
} cp_workspace;
convpool_status cp_workspace_acquire(convpool_context *ctx, size_t need, void *workspace,
                                     size_t workspace_size, const char *query, cp_workspace *out);
void cp_workspace_release(convpool_context *ctx, cp_workspace *ws);

/* The impl for this op on the active ISA path (never NULL: the reference
 * impls accept everything). */
const cp_impl *cp_select_impl(const convpool_op *op, int32_t isa);

/*
 * Resolves the geometry of a run on an input of shape (shape, rank):
 * checks the shape against the op and computes output dims and effective
 * pads (auto_pad, ceil_mode). Fails with a message naming the problem.
 */
convpool_status cp_geom_resolve(const convpool_op *op, const int64_t *shape, size_t rank,
                                cp_geom *g);

/* Creates an op whose impl is selected for ISA path `isa` (a convpool_isa,
 * or -1 for the active one). convpool_conv_create() and
 * convpool_pool_create() pass -1; tests pass each path in turn to pit the
 * fast paths against the reference on one machine. */
convpool_status cp_op_create(const convpool_desc *desc, const int64_t *weight_shape,
                             size_t weight_rank, const float *weight, const float *bias,
                             int32_t isa, convpool_op **out);

/* The op calls of include/convpool.h (lib/api/op.c forwards to these; the
 * model executor calls them directly). Same contracts as the public calls. */
convpool_status cp_conv_create(const convpool_desc *desc, const int64_t *weight_shape,
                               size_t weight_rank, const float *weight, const float *bias,
                               convpool_op **op);
convpool_status cp_pool_create(const convpool_desc *desc, convpool_op **op);
void cp_op_destroy(convpool_op *op);
int32_t cp_op_kind_of(const convpool_op *op);
convpool_status cp_op_output_shape(const convpool_op *op, const int64_t *input_shape,
                                   size_t input_rank, int64_t *output_shape,
                                   size_t output_capacity);
convpool_status cp_op_run_ex(const convpool_op *op, convpool_context *ctx,
                             const int64_t *input_shape, size_t input_rank, const float *x,
                             float *y, size_t y_count, int64_t *indices, void *workspace,
                             size_t workspace_size);
convpool_status cp_op_workspace_size(const convpool_op *op, convpool_context *ctx,
                                     const int64_t *input_shape, size_t input_rank,
                                     size_t *workspace_size);

/* What CONVPOOL_CREATE_BACKWARD adds to a Conv or ConvTranspose op made by
 * cp_op_create (weight as given at creation): op->transposed, on op's ISA
 * path. Tests use it to pit each path's backward passes against the
 * reference. */
convpool_status cp_op_enable_backward(convpool_op *op, const float *weight);

/* ops/backward.c: the training calls of include/convpool.h. */
convpool_status cp_conv_create_ex(const convpool_desc *desc, const int64_t *weight_shape,
                                  size_t weight_rank, const float *weight, const float *bias,
                                  uint32_t flags, convpool_op **op);
convpool_status cp_op_weight_shape(const convpool_op *op, int64_t *shape, size_t capacity,
                                   size_t *rank);
convpool_status cp_op_backward_data(const convpool_op *op, convpool_context *ctx,
                                    const int64_t *input_shape, size_t input_rank, const float *x,
                                    const int64_t *indices, const float *dy, size_t dy_count,
                                    float *dx, size_t dx_count, void *workspace,
                                    size_t workspace_size);
convpool_status cp_op_backward_weights(const convpool_op *op, convpool_context *ctx,
                                       const int64_t *input_shape, size_t input_rank,
                                       const float *x, const float *dy, size_t dy_count, float *dw,
                                       size_t dw_count, float *db, size_t db_count, void *workspace,
                                       size_t workspace_size);
convpool_status cp_op_backward_workspace_size(const convpool_op *op, convpool_context *ctx,
                                              const int64_t *input_shape, size_t input_rank,
                                              int32_t pass, size_t *workspace_size);

#endif
