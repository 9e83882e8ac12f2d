/*
 * conv_tiny.h - Conv on problems so small that planning, packing and
 * tiling cost more than the arithmetic (the D2L edge detector: 84
 * multiply-adds, where the tiled path spent three quarters of its time
 * planning and copying): plain loops over the weights as given, float
 * accumulation in the reference's order, no workspace, one thread.
 */
#ifndef CP_OPS_CONV_TINY_H
#define CP_OPS_CONV_TINY_H

#include <stdint.h>

#include "kernels/geom.h"

/* Runs of at most this many multiply-adds take this path: scalar, it costs
 * about 0.85 ns per multiply-add here, against some 0.2 us of fixed cost on
 * the tiled path (the edge detector: 0.19 -> 0.13 us; 4096 multiply-adds
 * would be 3.5 us against 0.6). */
#define CP_CONV_TINY_MAX_WORK 128
/* Ops with at most this many weights (all others have more work than
 * that per run) keep a plain copy of them for this path. */
#define CP_CONV_TINY_MAX_WEIGHTS CP_CONV_TINY_MAX_WORK

static inline int cp_conv_tiny_suits(const cp_geom *g, int64_t taps)
{
    return g->n * g->m * cp_geom_out_plane(g) * (g->c / g->group) * taps <=
           CP_CONV_TINY_MAX_WORK;
}

/* y = conv(x, w) + bias: w is (M, C/group, KD, KH, KW) as the op was given
 * it, bias M values (zeros if the op had none). */
void cp_conv_tiny(const cp_geom *g, const float *w, const float *bias, const float *x, float *y);

#endif
