/*
 * dnnl_runner.h - the same benchmark case run by oneDNN (Debian
 * libdnnl-dev), the way a user holding NCHW tensors would: Conv with
 * format_tag any (oneDNN picks its blocked layout), weights reordered once
 * at setup, and the src reorder, the primitive and the dst reorder all
 * timed; ConvTranspose the same way with oneDNN's deconvolution; pools
 * directly on NCHW src and dst. oneDNN has no Lp pooling: LpPool and
 * GlobalLpPool run its average pool of the same window (pads included),
 * the same sum over the same taps without the powers and the root.
 * Built only when oneDNN is found (meson option 'dnnl').
 */
#ifndef BENCH_DNNL_RUNNER_H
#define BENCH_DNNL_RUNNER_H

#include "cases.h"

typedef struct dnnl_runner dnnl_runner;

/* Sets up the case on x (input), w, b (Conv or ConvTranspose weights and
 * bias; NULL for pools) and y (output), all NCHW / ONNX layout. NULL if oneDNN refuses. */
dnnl_runner *dnnl_runner_create(const bench_case *c, const float *x, const float *w, const float *b,
                                float *y);
void dnnl_runner_run(dnnl_runner *r);
void dnnl_runner_destroy(dnnl_runner *r);
/* The oneDNN primitive case c runs ("deconvolution", "pooling_max", ...),
 * with a note where it is not the same op. */
const char *dnnl_runner_primitive(const bench_case *c);
/* oneDNN's OpenMP threads for the following runs. */
void dnnl_runner_set_threads(int threads);
/* "oneDNN 2.6.x" */
const char *dnnl_runner_version(void);

/* The backward passes of a case, with oneDNN's backward primitives (a
 * forward-training primitive descriptor as their hint), on the user's NCHW /
 * ONNX-layout buffers; the reorders of dy and x into oneDNN's layouts and of
 * dx and dw back are timed, the weights' reorder is done once at setup.
 * Conv: dx from dy and w (`weights` 0) or dw and db from x and dy
 * (`weights` 1). Pools (`weights` 0): dx from dy; max pooling reads the
 * workspace of one forward-training run on x made here. NULL if oneDNN
 * refuses. */
typedef struct dnnl_bwd_runner dnnl_bwd_runner;
dnnl_bwd_runner *dnnl_bwd_runner_create(const bench_case *c, int weights, const float *x,
                                        const float *w, const float *dy, float *dx, float *dw,
                                        float *db);
void dnnl_bwd_runner_run(dnnl_bwd_runner *b);
void dnnl_bwd_runner_destroy(dnnl_bwd_runner *b);

#endif
