/*
 * conv_tiny.h - Conv on problems so small that planning, packing and
 * tiling cost more than the arithmetic (the D2L edge detector: 84
 * multiply-adds, where the tiled path spent three quarters of its time
 * planning and copying): plain loops over the weights as given, float
 * accumulation in the reference's order, no workspace, one thread. Which
 * runs take it is the x86 Conv impl's choice (kernels/x86/conv_x86.h).
 */
#ifndef CP_KERNELS_CONV_TINY_H
#define CP_KERNELS_CONV_TINY_H

#include "kernels/geom.h"

/* Its limits (stack buffers): output rows and kernel widths at most this. */
#define CP_CONV_TINY_MAX_OW 128
#define CP_CONV_TINY_MAX_KW 128

/* y = conv(x, w) + bias: w is (M, C/group, KD, KH, KW) as the op was given
 * it, bias M values (zeros if the op had none); out[2] and kernel[2] within
 * the limits above. */
void cp_conv_tiny(const cp_geom *g, const float *w, const float *bias, const float *x, float *y);

#endif
