/* A program built the way a user builds against an installed libconvpool:
 * only <convpool.h> and `pkg-config --cflags --libs convpool`. It runs the
 * seed's corr2d as a Conv and checks [[19, 25], [37, 43]]. */
#include <convpool.h>

#include <stdio.h>

int main(void)
{
    const float x[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    const float k[4] = {0, 1, 2, 3};
    const float want[4] = {19, 25, 37, 43};
    const int64_t x_shape[4] = {1, 1, 3, 3};
    const int64_t k_shape[4] = {1, 1, 2, 2};
    float y[4] = {0};
    convpool_desc *desc = NULL;
    convpool_op *op = NULL;
    convpool_status st = convpool_desc_create(CONVPOOL_OP_CONV, 2, &desc);
    if (st == CONVPOOL_OK)
        st = convpool_conv_create(desc, k_shape, 4, k, NULL, &op);
    if (st == CONVPOOL_OK)
        st = convpool_op_run(op, x_shape, 4, x, y, 4);
    convpool_op_destroy(op);
    convpool_desc_destroy(desc);
    if (st != CONVPOOL_OK) {
        printf("FAIL: %s: %s\n", convpool_status_string(st), convpool_last_error());
        return 1;
    }
    printf("libconvpool %s corr2d: [[%g, %g], [%g, %g]]\n", convpool_version(), y[0], y[1],
           y[2], y[3]);
    for (int i = 0; i < 4; i++)
        if (y[i] != want[i]) {
            printf("FAIL: element %d is %g, expected %g\n", i, y[i], want[i]);
            return 1;
        }
    return 0;
}
