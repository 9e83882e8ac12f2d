/*
 * cases.h - the benchmark cases (tools/bench/cases.json): Conv,
 * ConvTranspose and pools on float32 NCHW tensors, read by a small parser that knows only this
 * file's shape (an object with a "cases" array of flat objects of numbers, strings and number
 * arrays).
 */
#ifndef BENCH_CASES_H
#define BENCH_CASES_H

#include <stdint.h>

#define BENCH_MAX_CASES 64

/* The op kinds of the "op" field; each is one case of bench.c's and
 * dnnl_runner.c's op-kind switches. */
typedef enum bench_kind {
    BENCH_UNKNOWN = 0,
    BENCH_CONV,
    BENCH_MAX_POOL,
    BENCH_AVERAGE_POOL,
    BENCH_GLOBAL_MAX_POOL,
    BENCH_GLOBAL_AVERAGE_POOL,
    BENCH_CONV_TRANSPOSE,
    BENCH_LP_POOL,
    BENCH_GLOBAL_LP_POOL
} bench_kind;

typedef struct bench_case {
    char name[32];
    char op[32];     /* Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool,
                        ConvTranspose, LpPool, GlobalLpPool */
    bench_kind kind; /* from op */
    /* C: input channels, M: output channels (Conv, ConvTranspose) */
    int64_t n, c, h, w, m, kh, kw, sh, sw, group, count_include_pad;
    int64_t p;       /* LpPool, GlobalLpPool: the norm (default 2) */
    int64_t pads[4]; /* top, left, bottom, right (ONNX order) */
} bench_case;

/* Reads up to BENCH_MAX_CASES cases from `path`; returns the count, or -1
 * with a message on stderr. */
int bench_read_cases(const char *path, bench_case *cases);

/* Output spatial size of a case (ceil_mode 0; ConvTranspose:
 * (in - 1) * stride + kernel - pads). */
int64_t bench_out_h(const bench_case *c);
int64_t bench_out_w(const bench_case *c);

/* Nominal work: Conv FLOPs 2*N*M*OH*OW*(C/group)*kh*kw, ConvTranspose
 * 2*N*C*H*W*(M/group)*kh*kw (every product of input and weight, as
 * convpool-run counts them), pool bytes moved (input + output, float32). */
double bench_conv_flops(const bench_case *c);
double bench_pool_bytes(const bench_case *c);
/* Conv or ConvTranspose: the cases with weights, measured in FLOP/s. */
int bench_has_weights(const bench_case *c);
int bench_is_global(const bench_case *c);

#endif
