"""Helpers shared by the seed scripts: print arrays the way the notebooks'
PyTorch did, and recompute D2L's "learning a kernel" loop with convpool.

Run the scripts from anywhere: if `convpool` is not installed, the package
next to this folder (bindings/python/convpool) is used.
"""
import os
import sys

import numpy as np

try:
    import convpool  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import convpool  # noqa: F401


def tensor_str(a):
    """An array as PyTorch prints a float tensor: `tensor([[19., 25.], ...])`,
    integral values as `19.`, others with 4 decimals."""
    if np.asarray(a).dtype.kind in "iu":  # Indices: tensor([[0, 2], ...])
        return "tensor(%s)" % np.array2string(np.asarray(a), separator=", ", prefix="tensor(")
    a = np.asarray(a, dtype=np.float32)
    integral = bool(np.all(np.isfinite(a)) and np.all(a == np.round(a)))
    opts = {} if integral else {"precision": 4, "floatmode": "fixed"}
    body = np.array2string(a, separator=", ", prefix="tensor(", **opts)
    return "tensor(%s)" % body


def show(a):
    print(tensor_str(a))
    print()


def size_str(shape):
    """A shape as the notebooks printed it: torch.Size([8, 8])."""
    return "torch.Size(%s)" % list(int(d) for d in shape)


def edge_image():
    """D2L's 6x8 image: ones, with the middle four columns black (0)."""
    X = np.ones((6, 8), dtype=np.float32)
    X[:, 2:6] = 0
    return X


def loss_and_grad(X, Y, w):
    """Squared error of conv2d(X, w) against Y, and its gradient in w, both
    by convpool: the library's weight gradient (convpool.grad.conv2d_weight)
    of dL/dY_hat = 2 (Y_hat - Y), the squared error's own derivative."""
    R = convpool.conv2d(X, w) - Y
    grad = convpool.grad.conv2d_weight(X, w.shape, 2 * R)
    return np.float32(np.sum(R * R, dtype=np.float32)), grad


def recover_initial_kernel(X, Y, lr, loss_steps, losses, loss_digits, final_kernel,
                           kernel_digits=4, epochs=10):
    """The notebooks start from a random kernel that PyTorch drew and did not
    print. Gradient descent on this quadratic loss is linear, so the start can
    be recovered from what they did print. Along each eigenvector u_i
    (eigenvalue l_i) of the Gram matrix M, the error e = w - K evolves as
    c_i(t) = (1 - 2 lr l_i)^t c_i(0) and loss(t) = sum_i l_i c_i(t)^2.
    c(0) is fitted to the printed losses (`loss_digits` decimals) and final
    kernel (`kernel_digits` decimals), each weighted by its printed precision."""
    K = np.array([1.0, -1.0])   # Y was made with this kernel: the exact optimum
    # M's columns: half the gradient at K + each unit error direction.
    cols = []
    for j in range(2):
        w = K.copy()
        w[j] += 1.0
        cols.append(loss_and_grad(X, Y, w.astype(np.float32).reshape(1, 1, 1, 2))[1]
                    .reshape(2) / 2.0)
    lam, U = np.linalg.eigh(np.array(cols, dtype=np.float64).T)
    factor = 1.0 - 2.0 * lr * lam
    steps = np.asarray(loss_steps)
    printed = np.concatenate([np.asarray(losses, dtype=np.float64),
                              np.asarray(final_kernel, dtype=np.float64).reshape(2)])
    tol = np.concatenate([np.maximum(0.5 * 10.0 ** -np.asarray(loss_digits, dtype=np.float64),
                                     1e-7 * np.abs(losses)),
                          [0.5 * 10.0 ** -kernel_digits] * 2])

    def predict(c0):
        ct = c0[None, :] * factor[None, :] ** steps[:, None]
        return np.concatenate([(lam * ct * ct).sum(axis=1), K + U @ (c0 * factor ** epochs)])

    # Start: final kernel error propagated back; then Gauss-Newton.
    c0 = (U.T @ (printed[-2:] - K)) / factor ** epochs
    for _ in range(50):
        r = (predict(c0) - printed) / tol
        J = np.empty((len(r), 2))
        for k in range(2):
            dc = np.zeros(2)
            dc[k] = 1e-7 * max(1.0, abs(c0[k]))
            J[:, k] = ((predict(c0 + dc) - printed) / tol - r) / dc[k]
        c0 = c0 - np.linalg.lstsq(J, r, rcond=None)[0]
    return (K + U @ c0).astype(np.float32).reshape(1, 1, 1, 2)


def learn_kernel(X, Y, w, lr, epochs=10):
    """D2L's loop, trained by convpool: a Conv2d layer built for training over
    the caller's kernel array w (float32, updated in place), its backward()
    giving the kernel's gradient. Yields (i, loss before the update i)."""
    with convpool.Conv2d(1, 1, kernel_size=w.shape[2:], bias=False, weight=w,
                         training=True) as conv2d:
        for i in range(epochs):
            Y_hat = conv2d(X)
            l = (Y_hat - Y) ** 2
            # dl/dY_hat, then the library's dl/dw (the input needs no gradient)
            _, dw, _ = conv2d.backward(2 * (Y_hat - Y), input_grad=False)
            w -= np.float32(lr) * dw  # Update the kernel
            conv2d.update()
            yield i, np.float32(l.sum(dtype=np.float32))


def pool2d(X, pool_size, mode='max'):
    """D2L's pool2d loop (2-D X, stride 1, no padding), done by one convpool
    MaxPool / AveragePool."""
    pool = convpool.max_pool2d if mode == 'max' else convpool.avg_pool2d
    return pool(X[np.newaxis], pool_size, stride=1)[0]


def pooling_cells(rect_kernel, rect_stride, rect_padding):
    """The cells every D2L pooling section has: pool2d max/avg on 0..8, then
    MaxPool2d on arange(16) with the default stride, with padding 1 and
    stride 2, with the notebook's rectangular window, and on two channels."""
    X = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]], dtype=np.float32)
    show(pool2d(X, (2, 2)))
    show(pool2d(X, (2, 2), 'avg'))

    X = np.arange(16, dtype=np.float32).reshape((1, 1, 4, 4))
    show(X)
    with convpool.MaxPool2d(3) as pool:  # the stride defaults to the window
        show(pool(X))
    with convpool.MaxPool2d(3, padding=1, stride=2) as pool:
        show(pool(X))
    with convpool.MaxPool2d(rect_kernel, stride=rect_stride, padding=rect_padding) as pool:
        show(pool(X))

    X = np.concatenate((X, X + 1), 1)  # two channels: X and X + 1
    show(X)
    with convpool.MaxPool2d(3, padding=1, stride=2) as pool:  # channels stay apart
        show(pool(X))
    return X
