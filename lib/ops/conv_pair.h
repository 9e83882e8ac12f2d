/*
 * conv_pair.h - a depthwise Conv and the pointwise Conv that consumes its
 * output (MobileNet's separable blocks), run together a band of output rows
 * at a time: each thread computes a band of the depthwise output into a
 * buffer of its own sized for L2, and the pointwise Conv reads the band
 * from there, so the intermediate tensor is never written out to memory and
 * read back. The model path runs such node pairs this way (onnx/plan.c
 * decides, onnx/run.c runs). The results are the bits the two ops give run
 * one after the other: the same kernels on the same rows and pixels, each
 * output's sums in the same order.
 */
#ifndef CP_OPS_CONV_PAIR_H
#define CP_OPS_CONV_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "ops/op.h"

/* Each thread's band of the intermediate takes at most this share of L2
 * (64ths), which leaves room for the pointwise output rows passing through
 * and the depthwise input rows. */
#define CP_CONV_PAIR_BAND_L2_64THS 8
/* ... and a pair runs only where that share holds this many rows: thinner
 * bands re-read more depthwise input rows per output row and hand the
 * GEMM fewer pixels per call than the pass over memory they save. On a
 * Zen 3 (512 KiB L2: bands of 2 to 4 rows of mobilenet_dw's layers) each
 * of its four pairs was slower than its two ops one after the other (the
 * model 0.90x-0.99x the time unpaired, one process alternating); on the
 * Xeon (2 MiB L2) bands of 9 and 18 rows gained. */
#define CP_CONV_PAIR_MIN_BAND_ROWS 8

typedef struct cp_conv_pair {
    cp_geom dw, pw;      /* the two ops' geometries for the planned input */
    int64_t band_rows;   /* output rows per band */
    int64_t bands;       /* per image */
    int32_t threads;     /* taking part in a run */
    size_t band_bytes;   /* one thread's band of the depthwise output */
    size_t rows_bytes;   /* one thread's scratch for the depthwise rows */
    size_t pixels_bytes; /* one thread's scratch for the pointwise GEMM */
    size_t workspace;    /* what a run needs, 64-byte aligned */
} cp_conv_pair;

/*
 * Whether `dw` then `pw` on an input of shape (shape, rank) run as a pair on
 * `threads` threads; if so, fills *pair. Not where either op's impl lacks
 * the row or pixel runs (the reference path, ops whose weights are not all
 * finite), the op on this geometry does not take them (see
 * cp_impl.rows_supported), pw is not pointwise or does not read dw's
 * output shape, one image's intermediate is small enough to stay in L2
 * between the two ops anyway (CP_CONV_PAIR_MIN_L2_64THS), or a band would
 * hold fewer than CP_CONV_PAIR_MIN_BAND_ROWS rows. The shape must
 * be one dw accepts (the plan resolved it before).
 */
int cp_conv_pair_plan(const convpool_op *dw, const convpool_op *pw, const int64_t *shape,
                      size_t rank, int32_t threads, cp_conv_pair *pair);

/*
 * Runs a planned pair on ctx (which has at least pair->threads threads):
 * x of the planned input shape, y of pw's output shape, `workspace`
 * pair->workspace bytes, 64-byte aligned. part_ns: NULL, or receives the
 * nanoseconds the threads spent in the depthwise and in the pointwise
 * parts, each summed over the threads (what a profile splits the pair's
 * time by).
 */
void cp_conv_pair_run(const convpool_op *dw, const convpool_op *pw, const cp_conv_pair *pair,
                      convpool_context *ctx, const float *x, float *y, void *workspace,
                      int64_t part_ns[2]);

#endif
