/*
 * d2l_edge.c - the worked examples of D2L 7.2 through the C op API:
 * corr2d of a 3x3 input with a 2x2 kernel, and edge detection with the
 * kernel [1, -1] on a 6x8 image (and on its transpose, where it finds
 * nothing). Build: cc d2l_edge.c $(pkg-config --cflags --libs convpool)
 */
#include <convpool.h>
#include <stdio.h>
#include <stdlib.h>

/* Cross-correlates an h x w image with a kh x kw kernel (no padding, stride
 * 1) and prints the result; returns 0 on success. */
static int corr2d(const float *x, int64_t h, int64_t w, const float *k, int64_t kh, int64_t kw)
{
    convpool_desc *desc = NULL;
    convpool_op *conv = NULL;
    const int64_t x_shape[4] = {1, 1, h, w}, k_shape[4] = {1, 1, kh, kw};
    int64_t y_shape[4];
    float y[64];
    convpool_status st = convpool_desc_create(CONVPOOL_OP_CONV, 2, &desc);
    if (st == CONVPOOL_OK)
        st = convpool_conv_create(desc, k_shape, 4, k, NULL, &conv);
    if (st == CONVPOOL_OK)
        st = convpool_op_output_shape(conv, x_shape, 4, y_shape, 4);
    if (st == CONVPOOL_OK)
        st = convpool_op_run(conv, x_shape, 4, x, y, sizeof y / sizeof y[0]);
    if (st != CONVPOOL_OK) {
        fprintf(stderr, "error: %s: %s\n", convpool_status_string(st), convpool_last_error());
    } else {
        for (int64_t i = 0; i < y_shape[2]; i++) {
            printf(i == 0 ? "[[" : " [");
            for (int64_t j = 0; j < y_shape[3]; j++)
                printf("%s%4g", j ? ", " : "", y[i * y_shape[3] + j]);
            printf(i + 1 == y_shape[2] ? "]]\n" : "],\n");
        }
    }
    convpool_op_destroy(conv);
    convpool_desc_destroy(desc);
    return st == CONVPOOL_OK ? 0 : 1;
}

int main(void)
{
    const float x[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    const float k[4] = {0, 1, 2, 3};
    float image[6 * 8], image_t[8 * 6];
    const float edge[2] = {1, -1};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 8; j++)
            image[i * 8 + j] = image_t[j * 6 + i] = (j >= 2 && j < 6) ? 0.0f : 1.0f;

    printf("libconvpool %s\n\ncorr2d(X, K):\n", convpool_version());
    int failed = corr2d(x, 3, 3, k, 2, 2);
    printf("\nedge detection, K = [1, -1] on the 6x8 image:\n");
    failed |= corr2d(image, 6, 8, edge, 1, 2);
    printf("\nthe same kernel on the transposed image:\n");
    failed |= corr2d(image_t, 8, 6, edge, 1, 2);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
