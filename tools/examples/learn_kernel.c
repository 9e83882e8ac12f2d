/*
 * learn_kernel.c - D2L 7.2.4 "Learning a Kernel" through the C op API: from
 * the 6x8 image X (ones, with zeros in columns 2..5) and its edge map Y
 * (X correlated with the kernel [1, -1]), learn a 1x2 kernel without bias
 * by gradient descent on the squared error sum((conv(X, K) - Y)^2), with
 * learning rate 3e-2 for 10 epochs, printing the loss every 2 epochs the way
 * the notebook does and then the learned kernel.
 *
 * The gradient of the loss with respect to the kernel comes from the
 * library (convpool_op_backward_weights()); the example only supplies
 * dL/dY_hat = 2 (Y_hat - Y), the derivative of the squared error. An op is
 * immutable, so each step creates a new one from the updated kernel.
 *
 * The notebook starts from a random kernel; this example starts from the
 * fixed kernel [0.15, -0.5], whose run follows the notebook's printed losses
 * closely. Another start can be given as two numbers on the command line.
 *
 * Exits 0 when training converged (the last printed loss below 0.05 and
 * the kernel within 0.1 of [1, -1]), 1 otherwise, 2 on an error.
 * Build: cc learn_kernel.c $(pkg-config --cflags --libs convpool)
 */
#include <convpool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { H = 6, W = 8, OW = W - 1, EPOCHS = 10 };

/* One training step on kernel k (updated in place); *loss gets the loss
 * before the update. */
static convpool_status step(const convpool_desc *desc, const float *x, const float *y, float *k,
                            float lr, float *loss)
{
    const int64_t x_shape[4] = {1, 1, H, W}, k_shape[4] = {1, 1, 1, 2};
    float y_hat[H * OW], dy[H * OW], dk[2];
    convpool_op *conv = NULL;
    convpool_status st = convpool_conv_create(desc, k_shape, 4, k, NULL, &conv);
    if (st == CONVPOOL_OK)
        st = convpool_op_run(conv, x_shape, 4, x, y_hat, H * OW);
    if (st == CONVPOOL_OK) {
        *loss = 0;
        for (int i = 0; i < H * OW; i++) {
            *loss += (y_hat[i] - y[i]) * (y_hat[i] - y[i]);
            dy[i] = 2 * (y_hat[i] - y[i]); /* d loss / d y_hat */
        }
        /* d loss / d k, by the library (no bias gradient wanted) */
        st = convpool_op_backward_weights(conv, NULL, x_shape, 4, x, dy, H * OW, dk, 2, NULL, 0,
                                          NULL, 0);
    }
    if (st == CONVPOOL_OK)
        for (int i = 0; i < 2; i++)
            k[i] -= lr * dk[i];
    convpool_op_destroy(conv);
    return st;
}

int main(int argc, char **argv)
{
    float x[H * W], y[H * OW], k[2] = {0.15f, -0.5f};
    const float lr = 3e-2f;
    if (argc == 3) {
        k[0] = strtof(argv[1], NULL);
        k[1] = strtof(argv[2], NULL);
    } else if (argc != 1) {
        fprintf(stderr, "usage: learn-kernel [K0 K1]  (the starting kernel; default 0.15 -0.5)\n");
        return 2;
    }
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            x[i * W + j] = (j >= 2 && j < 6) ? 0.0f : 1.0f;
    for (int i = 0; i < H; i++) /* the edge map: X correlated with [1, -1] */
        for (int j = 0; j < OW; j++)
            y[i * OW + j] = x[i * W + j] - x[i * W + j + 1];

    printf("libconvpool %s: learning a 1x2 kernel from [%g, %g], lr %g\n", convpool_version(),
           (double)k[0], (double)k[1], (double)lr);
    convpool_desc *desc = NULL;
    convpool_status st = convpool_desc_create(CONVPOOL_OP_CONV, 2, &desc);
    float loss = INFINITY;
    for (int epoch = 1; st == CONVPOOL_OK && epoch <= EPOCHS; epoch++) {
        st = step(desc, x, y, k, lr, &loss);
        if (st == CONVPOOL_OK && epoch % 2 == 0)
            printf("epoch %d, loss %.3f\n", epoch, (double)loss);
    }
    convpool_desc_destroy(desc);
    if (st != CONVPOOL_OK) {
        fprintf(stderr, "error: %s: %s\n", convpool_status_string(st), convpool_last_error());
        return 2;
    }
    printf("learned kernel: [%.4f, %.4f]\n", (double)k[0], (double)k[1]);
    const int converged = loss < 0.05f && fabsf(k[0] - 1) < 0.1f && fabsf(k[1] + 1) < 0.1f;
    if (!converged)
        fprintf(stderr, "not converged: loss %.4f, kernel [%.4f, %.4f]\n", (double)loss,
                (double)k[0], (double)k[1]);
    return converged ? EXIT_SUCCESS : EXIT_FAILURE;
}
