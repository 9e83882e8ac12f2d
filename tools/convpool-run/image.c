/*
 * image.c - PNG/JPEG decoding, image-to-tensor conversion, feature-map
 * grids and PNG writing for convpool-run (see image.h).
 */
#include "image.h"

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"

#ifdef CLI_HAVE_PNG
#include <png.h>
#endif
#ifdef CLI_HAVE_JPEG
#include <jpeglib.h>
#endif

/* Pictures larger than this (per side) are refused before allocating. */
enum { MAX_SIDE = 1 << 16, MAX_PIXELS = 1 << 28 };

int cli_image_format(const unsigned char *data, size_t size)
{
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size >= 8 && memcmp(data, png_magic, 8) == 0)
        return CLI_IMAGE_PNG;
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return CLI_IMAGE_JPEG;
    return CLI_IMAGE_NONE;
}

int cli_image_can_read(int format)
{
#ifdef CLI_HAVE_PNG
    if (format == CLI_IMAGE_PNG)
        return 1;
#endif
#ifdef CLI_HAVE_JPEG
    if (format == CLI_IMAGE_JPEG)
        return 1;
#endif
    return 0;
}

int cli_image_can_write_png(void)
{
    return cli_image_can_read(CLI_IMAGE_PNG);
}

void cli_image_free(cli_image *img)
{
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

static int check_size(long width, long height, char err[CLI_ERR_LEN])
{
    if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE ||
        width * height > MAX_PIXELS) {
        snprintf(err, CLI_ERR_LEN,
                 "a %ldx%ld picture is outside what is supported (1 to %d "
                 "pixels a side, %d in all)",
                 width, height, MAX_SIDE, MAX_PIXELS);
        return -1;
    }
    return 0;
}

#ifdef CLI_HAVE_PNG
static int decode_png(const unsigned char *data, size_t size, cli_image *img, char err[CLI_ERR_LEN])
{
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&png, data, size)) {
        snprintf(err, CLI_ERR_LEN, "not a readable PNG: %s", png.message);
        return -1;
    }
    if (check_size((long)png.width, (long)png.height, err) != 0) {
        png_image_free(&png);
        return -1;
    }
    int colour = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
    png.format = colour ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    size_t bytes = PNG_IMAGE_SIZE(png);
    /* Zeroed: with no background given, libpng composites transparent
     * pixels onto what the buffer holds, so transparency becomes black. */
    img->pixels = calloc(bytes, 1);
    if (!img->pixels) {
        png_image_free(&png);
        snprintf(err, CLI_ERR_LEN, "out of memory for a %ux%u picture", png.width, png.height);
        return -1;
    }
    if (!png_image_finish_read(&png, NULL, img->pixels, 0, NULL)) {
        snprintf(err, CLI_ERR_LEN, "cannot decode the PNG: %s", png.message);
        cli_image_free(img);
        return -1;
    }
    img->width = (int)png.width;
    img->height = (int)png.height;
    img->channels = colour ? 3 : 1;
    return 0;
}
#endif

#ifdef CLI_HAVE_JPEG
typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_failure;

/* libjpeg's default error_exit ends the process; return to the decoder. */
static void jpeg_fail(j_common_ptr cinfo)
{
    jpeg_failure *f = (jpeg_failure *)cinfo->err;
    f->mgr.format_message(cinfo, f->message);
    longjmp(f->jump, 1);
}

static int decode_jpeg(const unsigned char *data, size_t size, cli_image *img,
                       char err[CLI_ERR_LEN])
{
    struct jpeg_decompress_struct cinfo;
    jpeg_failure failure;
    /* volatile: it is read after a longjmp back into this function */
    unsigned char *volatile pixels = NULL;
    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = jpeg_fail;
    failure.mgr.output_message = jpeg_fail; /* warnings (corrupt data) fail too */
    if (setjmp(failure.jump)) {
        snprintf(err, CLI_ERR_LEN, "cannot decode the JPEG: %s", failure.message);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        snprintf(err, CLI_ERR_LEN, "a CMYK JPEG is not supported (save it as RGB)");
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    int grey = cinfo.jpeg_color_space == JCS_GRAYSCALE;
    cinfo.out_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (check_size((long)cinfo.output_width, (long)cinfo.output_height, err) != 0) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    size_t stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    pixels = malloc(stride * cinfo.output_height);
    if (!pixels) {
        snprintf(err, CLI_ERR_LEN, "out of memory for a %ux%u picture", cinfo.output_width,
                 cinfo.output_height);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    img->width = (int)cinfo.output_width;
    img->height = (int)cinfo.output_height;
    img->channels = cinfo.output_components;
    img->pixels = pixels;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}
#endif

int cli_image_decode(const unsigned char *data, size_t size, cli_image *img, char err[CLI_ERR_LEN])
{
    int format = cli_image_format(data, size);
    memset(img, 0, sizeof *img);
    if (format == CLI_IMAGE_NONE) {
        snprintf(err, CLI_ERR_LEN, "not a PNG or JPEG file");
        return -1;
    }
    if (!cli_image_can_read(format)) {
        snprintf(err, CLI_ERR_LEN, "a %s picture, but this convpool-run was built without %s",
                 format == CLI_IMAGE_PNG ? "PNG" : "JPEG",
                 format == CLI_IMAGE_PNG ? "libpng (libpng-dev)"
                                         : "libjpeg-turbo (libjpeg62-turbo-dev)");
        return -1;
    }
#ifdef CLI_HAVE_PNG
    if (format == CLI_IMAGE_PNG)
        return decode_png(data, size, img, err);
#endif
#ifdef CLI_HAVE_JPEG
    if (format == CLI_IMAGE_JPEG)
        return decode_jpeg(data, size, img, err);
#endif
    return -1;
}

/*
 * The taps of a 1-D resize from `in` to `out` samples: for output i, weights
 * w[i*taps ..] over inputs first[i] ... A triangle filter whose support
 * grows with the reduction factor, so shrinking averages every input pixel
 * (no aliasing), as Pillow's BILINEAR resampling does.
 */
typedef struct resize_taps {
    int taps;
    int *first;
    double *w;
} resize_taps;

static int make_taps(int in, int out, resize_taps *r)
{
    double scale = (double)in / out, filter_scale = scale > 1 ? scale : 1;
    double support = filter_scale; /* the triangle's support 1, widened */
    r->taps = (int)ceil(support) * 2 + 1;
    r->first = calloc((size_t)out, sizeof *r->first);
    r->w = calloc((size_t)out * (size_t)r->taps, sizeof *r->w);
    if (!r->first || !r->w)
        return -1;
    for (int i = 0; i < out; i++) {
        double centre = (i + 0.5) * scale, total = 0;
        int lo = (int)(centre - support + 0.5), hi = (int)(centre + support + 0.5);
        lo = lo < 0 ? 0 : lo;
        hi = hi > in ? in : hi;
        if (hi - lo > r->taps)
            hi = lo + r->taps;
        double *w = r->w + (size_t)i * (size_t)r->taps;
        for (int x = lo; x < hi; x++) {
            double d = fabs((x - centre + 0.5) / filter_scale);
            w[x - lo] = d < 1 ? 1 - d : 0;
            total += w[x - lo];
        }
        for (int x = lo; total > 0 && x < hi; x++)
            w[x - lo] /= total;
        r->first[i] = lo;
    }
    return 0;
}

static void free_taps(resize_taps *r)
{
    free(r->first);
    free(r->w);
}

/* One channel of the picture (already in the model's channel count) resized
 * to out_h x out_w, in pixel units (0..255). */
static int resize_plane(const float *in, int in_h, int in_w, float *out, int out_h, int out_w)
{
    resize_taps tx = {0}, ty = {0};
    float *mid = malloc((size_t)in_h * (size_t)out_w * sizeof *mid);
    int rc = -1;
    if (mid && make_taps(in_w, out_w, &tx) == 0 && make_taps(in_h, out_h, &ty) == 0) {
        for (int y = 0; y < in_h; y++)
            for (int x = 0; x < out_w; x++) {
                const double *w = tx.w + (size_t)x * (size_t)tx.taps;
                double sum = 0;
                for (int k = 0; k < tx.taps && tx.first[x] + k < in_w; k++)
                    sum += w[k] * in[(size_t)y * (size_t)in_w + (size_t)(tx.first[x] + k)];
                mid[(size_t)y * (size_t)out_w + (size_t)x] = (float)sum;
            }
        for (int y = 0; y < out_h; y++) {
            const double *w = ty.w + (size_t)y * (size_t)ty.taps;
            for (int x = 0; x < out_w; x++) {
                double sum = 0;
                for (int k = 0; k < ty.taps && ty.first[y] + k < in_h; k++)
                    sum += w[k] * mid[(size_t)(ty.first[y] + k) * (size_t)out_w + (size_t)x];
                out[(size_t)y * (size_t)out_w + (size_t)x] = (float)sum;
            }
        }
        rc = 0;
    }
    free(mid);
    free_taps(&tx);
    free_taps(&ty);
    return rc;
}

/* Channel c of the picture seen with `channels` channels, as floats. */
static void picture_plane(const cli_image *img, int channels, int c, float *out)
{
    size_t n = (size_t)img->width * (size_t)img->height;
    const unsigned char *p = img->pixels;
    for (size_t i = 0; i < n; i++) {
        if (img->channels == channels)
            out[i] = p[i * (size_t)channels + (size_t)c];
        else if (img->channels == 1) /* grey shown as RGB */
            out[i] = p[i];
        else /* RGB shown as grey: ITU-R BT.601 luma, as Pillow's convert("L") */
            out[i] = (float)(0.299 * p[3 * i] + 0.587 * p[3 * i + 1] + 0.114 * p[3 * i + 2]);
    }
}

int cli_image_to_tensor(const cli_image *img, int32_t dtype, const int64_t dims[4],
                        const cli_image_norm *norm, cli_tensor *t, char err[CLI_ERR_LEN])
{
    int64_t channels = dims[1], h = dims[2], w = dims[3];
    if (dims[0] != 1) {
        snprintf(err, CLI_ERR_LEN,
                 "a picture fills a batch of 1; the input needs a batch "
                 "of %lld",
                 (long long)dims[0]);
        return -1;
    }
    if (channels != 1 && channels != 3) {
        snprintf(err, CLI_ERR_LEN,
                 "a picture gives 1 (grey) or 3 (RGB) channels; the input "
                 "has %lld",
                 (long long)channels);
        return -1;
    }
    if (check_size((long)w, (long)h, err) != 0)
        return -1;
    if (dtype != CONVPOOL_DTYPE_FLOAT && dtype != CONVPOOL_DTYPE_UINT8) {
        snprintf(err, CLI_ERR_LEN, "a picture fills a float32 or uint8 input; this one is %s",
                 cli_dtype_name(dtype));
        return -1;
    }
    for (int k = 0; k < 2; k++) {
        size_t n = k ? norm->n_std : norm->n_mean;
        if (n > 1 && n != (size_t)channels) {
            snprintf(err, CLI_ERR_LEN,
                     "--%s has %zu values; the input has %lld channel(s) "
                     "(give 1 value or %lld)",
                     k ? "std" : "mean", n, (long long)channels, (long long)channels);
            return -1;
        }
    }
    if (dtype == CONVPOOL_DTYPE_UINT8 && norm->given) {
        snprintf(err, CLI_ERR_LEN,
                 "a uint8 input takes the pixels as they are: --mean, --std "
                 "and --scale apply to float32 inputs only");
        return -1;
    }
    if (cli_tensor_alloc(t, dtype, dims, 4, err) != 0)
        return -1;
    size_t in_n = (size_t)img->width * (size_t)img->height, out_n = (size_t)h * (size_t)w;
    float *plane = malloc(in_n * sizeof *plane), *sized = malloc(out_n * sizeof *sized);
    int rc = plane && sized ? 0 : -1;
    for (int c = 0; rc == 0 && c < (int)channels; c++) {
        picture_plane(img, (int)channels, c, plane);
        if (h == img->height && w == img->width)
            memcpy(sized, plane, out_n * sizeof *sized);
        else
            rc = resize_plane(plane, img->height, img->width, sized, (int)h, (int)w);
        double mean = norm->n_mean ? norm->mean[norm->n_mean > 1 ? c : 0] : 0.0;
        double std = norm->n_std ? norm->std[norm->n_std > 1 ? c : 0] : 1.0;
        for (size_t i = 0; rc == 0 && i < out_n; i++) {
            size_t at = (size_t)c * out_n + i;
            if (dtype == CONVPOOL_DTYPE_FLOAT) {
                ((float *)t->data)[at] = (float)((sized[i] * norm->scale - mean) / std);
            } else {
                float v = roundf(sized[i]);
                ((uint8_t *)t->data)[at] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    free(plane);
    free(sized);
    if (rc != 0) {
        cli_tensor_free(t);
        snprintf(err, CLI_ERR_LEN, "out of memory converting the picture");
    }
    return rc;
}

/* Min and max of the finite values of tile [from, from + n). */
static void tile_range(const cli_tensor *t, size_t from, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = from; i < from + n; i++) {
        double v = cli_tensor_get(t, i);
        if (isfinite(v)) {
            *lo = v < *lo ? v : *lo;
            *hi = v > *hi ? v : *hi;
        }
    }
}

static unsigned char grey_level(double v, double lo, double hi)
{
    if (isnan(v))
        return 0;
    if (!(hi > lo)) /* constant tile (or no finite value) */
        return isinf(v) ? (v > 0 ? 255 : 0) : 128;
    double level = round((v - lo) / (hi - lo) * 255.0);
    return (unsigned char)(level < 0 ? 0 : level > 255 ? 255 : level);
}

int cli_feature_grid(const cli_tensor *t, unsigned char **pixels, int *width, int *height,
                     char err[CLI_ERR_LEN])
{
    if (t->rank < 3) {
        snprintf(err, CLI_ERR_LEN, "rank %zu: a picture needs batch, channel and spatial dims",
                 t->rank);
        return -1;
    }
    if (t->count == 0) {
        snprintf(err, CLI_ERR_LEN, "the output is empty");
        return -1;
    }
    size_t tile_h = t->rank == 3 ? 1 : (size_t)t->dims[t->rank - 2];
    size_t tile_w = (size_t)t->dims[t->rank - 1];
    size_t batch = (size_t)t->dims[0];
    size_t tiles = t->count / batch / tile_h / tile_w; /* per batch item */
    size_t cols = (size_t)ceil(sqrt((double)tiles));
    size_t rows = (tiles + cols - 1) / cols * batch; /* tile rows in all */
    size_t w = cols * tile_w + cols - 1, h = rows * tile_h + rows - 1;
    if (w > MAX_SIDE || h > MAX_SIDE || w * h > MAX_PIXELS) {
        snprintf(err, CLI_ERR_LEN, "the grid would be %zux%zu pixels, more than supported", w, h);
        return -1;
    }
    unsigned char *p = calloc(w * h, 1);
    if (!p) {
        snprintf(err, CLI_ERR_LEN, "out of memory for a %zux%zu picture", w, h);
        return -1;
    }
    size_t tile_n = tile_h * tile_w;
    for (size_t b = 0; b < batch; b++)
        for (size_t k = 0; k < tiles; k++) {
            size_t from = (b * tiles + k) * tile_n;
            size_t row = b * (rows / batch) + k / cols, col = k % cols;
            double lo, hi;
            tile_range(t, from, tile_n, &lo, &hi);
            for (size_t y = 0; y < tile_h; y++)
                for (size_t x = 0; x < tile_w; x++)
                    p[(row * (tile_h + 1) + y) * w + col * (tile_w + 1) + x] =
                        grey_level(cli_tensor_get(t, from + y * tile_w + x), lo, hi);
        }
    *pixels = p;
    *width = (int)w;
    *height = (int)h;
    return 0;
}

int cli_png_encode_grey(const unsigned char *pixels, int width, int height, unsigned char **out,
                        size_t *out_size, char err[CLI_ERR_LEN])
{
#ifdef CLI_HAVE_PNG
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = (png_uint_32)width;
    png.height = (png_uint_32)height;
    png.format = PNG_FORMAT_GRAY;
    png_alloc_size_t size = 0;
    if (!png_image_write_get_memory_size(png, size, 0, pixels, 0, NULL)) {
        snprintf(err, CLI_ERR_LEN, "cannot encode a PNG: %s", png.message);
        return -1;
    }
    unsigned char *buf = malloc(size);
    if (!buf) {
        snprintf(err, CLI_ERR_LEN, "out of memory encoding a PNG");
        return -1;
    }
    if (!png_image_write_to_memory(&png, buf, &size, 0, pixels, 0, NULL)) {
        snprintf(err, CLI_ERR_LEN, "cannot encode a PNG: %s", png.message);
        free(buf);
        return -1;
    }
    *out = buf;
    *out_size = size;
    return 0;
#else
    (void)pixels;
    (void)width;
    (void)height;
    (void)out;
    (void)out_size;
    snprintf(err, CLI_ERR_LEN,
             "this convpool-run was built without libpng (libpng-dev): "
             "it cannot write PNG files");
    return -1;
#endif
}
