/*
 * image.h - pictures in and out of convpool-run: PNG (libpng) and JPEG
 * (libjpeg-turbo) decoded to 8-bit grey or RGB pixels, turned into an
 * NCHW input tensor (resized, scaled and normalised), and output channels
 * drawn as a greyscale PNG grid. Each codec is optional at build time
 * (meson options png and jpeg); without it the calls say so in err.
 */
#ifndef CLI_IMAGE_H
#define CLI_IMAGE_H

#include <stddef.h>

#include "tensor.h"

/* 8-bit pixels, row-major, channels interleaved (1: grey, 3: RGB). */
typedef struct cli_image {
    int width, height, channels;
    unsigned char *pixels;
} cli_image;

enum { CLI_IMAGE_NONE = 0, CLI_IMAGE_PNG = 1, CLI_IMAGE_JPEG = 2 };

/* CLI_IMAGE_PNG or CLI_IMAGE_JPEG if the bytes start with that format's
 * signature, else CLI_IMAGE_NONE. */
int cli_image_format(const unsigned char *data, size_t size);

/* 1 if this build can decode / write the format. */
int cli_image_can_read(int format);
int cli_image_can_write_png(void);

/* Decodes a PNG or JPEG into grey (a grey file) or RGB (anything else:
 * palette, 16-bit and alpha are reduced to 8-bit RGB; transparency is
 * composited on black). Returns 0, or -1 with err. */
int cli_image_decode(const unsigned char *data, size_t size, cli_image *img, char err[CLI_ERR_LEN]);

void cli_image_free(cli_image *img);

/* How pixel values become tensor values: v = (pixel * scale - mean[c]) / std[c]
 * for float32 inputs; a list of one value applies to every channel. */
typedef struct cli_image_norm {
    double scale;
    double mean[3], std[3];
    size_t n_mean, n_std; /* 0 (defaults 0 and 1), 1 or the channel count */
    int given;            /* set on the command line (not only defaults) */
} cli_image_norm;

/*
 * Fills t (zeroed or freed) with the image as a tensor of `dtype` (float32,
 * or uint8 which takes the pixels as they are and refuses a norm other than
 * the default) and shape dims = (1, C, H, W): C 1 is grey (ITU-R BT.601
 * luma of an RGB picture), C 3 is RGB (a grey picture repeated); a picture
 * of another size is resized to H x W with a triangle (bilinear) filter
 * widened by the reduction factor when shrinking, as Pillow's BILINEAR.
 * Returns 0, or -1 with err.
 */
int cli_image_to_tensor(const cli_image *img, int32_t dtype, const int64_t dims[4],
                        const cli_image_norm *norm, cli_tensor *t, char err[CLI_ERR_LEN]);

/*
 * Draws output t (rank >= 3: batch, channel, spatial...) as one greyscale
 * picture: a tile per channel (the last two dims; a 1-D output gives 1-pixel
 * rows, and the dims between channel and the last two count as more
 * channels), tiles in rows of ceil(sqrt(channels)) with a 1-pixel black gap,
 * each batch item starting a new row. Each tile is stretched on its own from
 * its min (0) to its max (255); a constant tile is mid-grey (128), NaN is 0.
 * Returns 0 with a malloc'd *pixels of *width x *height, or -1 with err.
 */
int cli_feature_grid(const cli_tensor *t, unsigned char **pixels, int *width, int *height,
                     char err[CLI_ERR_LEN]);

/* Encodes 8-bit grey pixels as a PNG into a malloc'd buffer. 0, or -1 with err. */
int cli_png_encode_grey(const unsigned char *pixels, int width, int height, unsigned char **out,
                        size_t *out_size, char err[CLI_ERR_LEN]);

#endif
