"""Gradients (convpool.grad and the layers' backward()) against torch.autograd
(Debian python3-torch) on a few hundred random configurations drawn from
fixed seeds, covering every attribute: 1-3-D, strides, dilations, symmetric,
'same' and asymmetric pads (torch: F.pad then no padding), groups including
depthwise, ceil_mode, count_include_pad, divisor_override; MaxPool given its
Indices is compared exactly. Then the errors of bad arguments and the
training workflow of a layer (backward, optimiser step, update).

The forward configurations are the parity suites' (test_torch_parity.py,
test_transpose_lp.py), reused from there.
"""
import pickle

import numpy as np
import pytest

import convpool
from convpool import grad
from test_torch_parity import conv_case, pool_case
from test_transpose_lp import transpose_case

CASES = 40
RTOL, ATOL = 1e-4, 1e-4

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning"),
    pytest.mark.skipif(not convpool._lib.has_training_api,
                       reason="the library has no backward passes"),
]


def close(got, want, what, **kw):
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=RTOL, atol=ATOL,
                               err_msg="%s %s" % (what, kw))


def conv_grad_case(rank, index):
    """A parity case; every 4th draws asymmetric (begin, end) pads and a
    depthwise layer, every 4th + 1 a depthwise layer with its own pads."""
    x, w, b, kw = conv_case(rank, index)
    rng = np.random.default_rng(50000 + 1000 * rank + index)
    if index % 4 in (0, 1):  # depthwise: groups = C, M = C * multiplier
        c = x.shape[1]
        w = rng.standard_normal((c * int(rng.integers(1, 3)), 1) + w.shape[2:])
        w = w.astype(np.float32)
        b = None if b is None else rng.standard_normal(w.shape[0]).astype(np.float32)
        kw["groups"] = c
    if index % 4 == 0:
        pairs = tuple(tuple(int(v) for v in rng.integers(0, 3, 2)) for _ in range(rank))
        kw["padding"] = pairs
        d = kw["dilation"] if isinstance(kw["dilation"], tuple) else (kw["dilation"],) * rank
        size = tuple(max(1, d[i] * (w.shape[2 + i] - 1) + 1 - sum(pairs[i])) +
                     int(rng.integers(0, 4)) for i in range(rank))
        x = rng.standard_normal(x.shape[:2] + size).astype(np.float32)
    return x, w, b, kw


def torch_conv(torch, rank, x, w, b, kw):
    """torch's conv of x with every argument in `kw`, asymmetric pads as F.pad."""
    F = torch.nn.functional
    kw = dict(kw)
    if isinstance(kw["padding"], tuple) and isinstance(kw["padding"][0], tuple):
        flat = [v for pair in reversed(kw["padding"]) for v in pair]  # last dim first
        x = F.pad(x, flat)
        kw["padding"] = 0
    return getattr(F, "conv%dd" % rank)(x, w, b, **kw)


def leaves(torch, *arrays):
    return [None if a is None else torch.from_numpy(a.copy()).requires_grad_() for a in arrays]


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("index", range(CASES))
def test_conv(torch, rank, index):
    x, w, b, kw = conv_grad_case(rank, index)
    tx, tw, tb = leaves(torch, x, w, b)
    y = torch_conv(torch, rank, tx, tw, tb, kw)
    dy = np.random.default_rng(index).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(torch.from_numpy(dy))

    close(getattr(grad, "conv%dd_input" % rank)(x.shape, w, dy, **kw), tx.grad, "dx", **kw)
    dw, db = getattr(grad, "conv%dd_weight" % rank)(x, w.shape, dy, **kw, bias=True)
    close(dw, tw.grad, "dw", **kw)
    if tb is not None:
        close(db, tb.grad, "db", **kw)
    # the layer: its input kept by the forward call, the caller's weight arrays
    layer_cls = getattr(convpool, "Conv%dd" % rank)
    with layer_cls.from_weights(w, b, training=True, **kw) as layer:
        close(layer(x), y, "y", **kw)  # the forward pass, asymmetric pads included
        dx2, dw2, db2 = layer.backward(dy)
    close(dx2, tx.grad, "layer dx", **kw)
    close(dw2, tw.grad, "layer dw", **kw)
    assert (db2 is None) == (b is None)
    if b is not None:
        close(db2, tb.grad, "layer db", **kw)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("index", range(CASES // 2))
def test_conv_transpose(torch, rank, index):
    x, w, b, kw = transpose_case(rank, index)
    tx, tw, tb = leaves(torch, x, w, b)
    y = getattr(torch.nn.functional, "conv_transpose%dd" % rank)(tx, tw, tb, **kw)
    dy = np.random.default_rng(index).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(torch.from_numpy(dy))
    layer_cls = getattr(convpool, "ConvTranspose%dd" % rank)
    with layer_cls.from_weights(w, b, training=True, **kw) as layer:
        dx, dw, db = layer.backward(dy, x)
    close(dx, tx.grad, "dx", **kw)
    close(dw, tw.grad, "dw", **kw)
    if b is not None:
        close(db, tb.grad, "db", **kw)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("index", range(CASES))
def test_max_pool(torch, rank, index):
    x, kw = pool_case(rank, index, "max")
    kw.pop("return_indices")
    tx, = leaves(torch, x)
    y, tidx = getattr(torch.nn.functional, "max_pool%dd" % rank)(tx, **kw, return_indices=True)
    dy = np.random.default_rng(index).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(torch.from_numpy(dy))
    want = tx.grad.numpy()
    backward = getattr(grad, "max_pool%dd_backward" % rank)
    _, idx = getattr(convpool, "max_pool%dd" % rank)(x, **kw, return_indices=True)
    np.testing.assert_array_equal(idx, tidx.numpy())
    # given the Indices, only the input's shape is needed: exact
    np.testing.assert_array_equal(backward(dy, x.shape, **kw, indices=idx), want, str(kw))
    # without them the maximum is found again in x
    np.testing.assert_allclose(backward(dy, x, **kw), want, rtol=1e-6, atol=1e-6,
                               err_msg=str(kw))
    # the layer keeps the input and the indices of its last call
    with getattr(convpool, "MaxPool%dd" % rank)(**kw, return_indices=True).train() as pool:
        pool(x)
        np.testing.assert_array_equal(pool.backward(dy), want, str(kw))
        np.testing.assert_array_equal(pool.backward(dy[0], x[0]), want[0], str(kw))


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("index", range(CASES))
def test_avg_pool(torch, rank, index):
    x, kw = pool_case(rank, index, "avg")
    tx, = leaves(torch, x)
    y = getattr(torch.nn.functional, "avg_pool%dd" % rank)(tx, **kw)
    dy = np.random.default_rng(index).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(torch.from_numpy(dy))
    backward = getattr(grad, "avg_pool%dd_backward" % rank)
    close(backward(dy, x.shape, **kw), tx.grad, "dx", **kw)
    with getattr(convpool, "AvgPool%dd" % rank)(**kw).train() as pool:
        pool(x[0])  # unbatched: dy and dx are too
        close(pool.backward(dy[0]), tx.grad[0], "layer dx", **kw)


def lp_grad_case(rank, index):
    rng = np.random.default_rng(60000 + 100 * rank + index)
    p = int(rng.integers(1, 5))
    kernel = tuple(int(k) for k in rng.integers(1, 4, rank))
    stride = tuple(int(s) for s in rng.integers(1, 4, rank))
    ceil_mode = bool(rng.random() < 0.5)
    size = tuple(k + int(rng.integers(0, 5)) for k in kernel)
    x = rng.standard_normal((int(rng.integers(1, 3)), int(rng.integers(1, 4))) + size)
    return x.astype(np.float32), p, kernel, stride, ceil_mode


def torch_lp_pool(torch, tx, p, kernel, stride, ceil_mode):
    """ONNX LpPool (|x|, windows summed over the input only) in torch ops:
    divisor_override=1 makes avg_pool the window sum; 1-D runs as (1, L)."""
    F = torch.nn.functional
    rank = len(kernel)
    a = tx.abs() ** p
    if rank == 1:
        s = F.avg_pool2d(a.unsqueeze(2), (1,) + kernel, (1,) + stride, ceil_mode=ceil_mode,
                         divisor_override=1).squeeze(2)
    else:
        s = getattr(F, "avg_pool%dd" % rank)(a, kernel, stride, ceil_mode=ceil_mode,
                                             divisor_override=1)
    return s ** (1.0 / p)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("index", range(CASES // 2))
def test_lp_pool(torch, rank, index):
    x, p, kernel, stride, ceil_mode = lp_grad_case(rank, index)
    tx, = leaves(torch, x)
    y = torch_lp_pool(torch, tx, p, kernel, stride, ceil_mode)
    dy = np.random.default_rng(index).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(torch.from_numpy(dy))
    got = getattr(grad, "lp_pool%dd_backward" % rank)(dy, x, p, kernel, stride, ceil_mode)
    close(got, tx.grad, "dx", p=p, kernel=kernel, stride=stride, ceil_mode=ceil_mode)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_global_pools(torch, rank):
    rng = np.random.default_rng(rank)
    x = rng.standard_normal((2, 3) + (3, 4, 2)[:rank]).astype(np.float32)
    dims = tuple(range(2, 2 + rank))
    dy = rng.standard_normal((2, 3) + (1,) * rank).astype(np.float32)
    cases = [(grad.global_avg_pool_backward, (), lambda t: t.mean(dims, keepdim=True)),
             (grad.global_max_pool_backward, (), lambda t: t.amax(dims, keepdim=True))]
    for p in (1, 2, 3):
        cases.append((grad.global_lp_pool_backward, (p,),
                      lambda t, p=p: (t.abs() ** p).sum(dims, keepdim=True) ** (1.0 / p)))
    for fn, args, reference in cases:
        tx, = leaves(torch, x)
        reference(tx).backward(torch.from_numpy(dy))
        close(fn(dy, x, *args), tx.grad, fn.__name__, p=args)
    tx, = leaves(torch, x)
    tx.mean(dims, keepdim=True).backward(torch.from_numpy(dy))
    close(grad.global_avg_pool_backward(dy, x.shape), tx.grad, "avg from the shape")
    with convpool.GlobalMaxPool(rank).train() as pool:
        pool(x)
        tx, = leaves(torch, x)
        tx.amax(dims, keepdim=True).backward(torch.from_numpy(dy))
        close(pool.backward(dy), tx.grad, "layer")


def test_torch_nn_grad_spelling(torch):
    """The functions take what torch.nn.grad's take (input_size may be the
    spatial size alone) and agree with them."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 2)).astype(np.float32)
    kw = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
    dy = rng.standard_normal(convpool.conv2d(x, w, **kw).shape).astype(np.float32)
    tg = torch.nn.grad
    want_dx = tg.conv2d_input(x.shape, torch.from_numpy(w), torch.from_numpy(dy), **kw)
    want_dw = tg.conv2d_weight(torch.from_numpy(x), w.shape, torch.from_numpy(dy), **kw)
    close(grad.conv2d_input(x.shape, w, dy, **kw), want_dx, "dx")
    close(grad.conv2d_input(x.shape[2:], w, dy, **kw), want_dx, "dx from the spatial size")
    close(grad.conv2d_weight(x, w.shape, dy, **kw), want_dw, "dw")
    x1 = x[:, :, 0]
    w1 = np.ascontiguousarray(w[:, :, 0])
    dy1 = rng.standard_normal(convpool.conv1d(x1, w1, groups=2).shape).astype(np.float32)
    close(grad.conv1d_input(x1.shape, w1, dy1, groups=2),
          tg.conv1d_input(x1.shape, torch.from_numpy(w1), torch.from_numpy(dy1), groups=2), "1d")


# --- bad arguments ---------------------------------------------------------

X = np.random.default_rng(1).standard_normal((1, 2, 5, 5)).astype(np.float32)
W = np.random.default_rng(2).standard_normal((3, 2, 3, 3)).astype(np.float32)


def test_wrong_grad_output_shape():
    dy = np.ones((1, 3, 3, 3), dtype=np.float32)
    for bad in (np.ones((1, 3, 3, 4), np.float32), np.ones((1, 3, 9), np.float32),
                np.ones((1, 3, 4, 4), np.float32)):  # the last one has more elements
        with pytest.raises(convpool.ShapeMismatchError, match="grad_output has shape"):
            grad.conv2d_input(X.shape, W, bad)
        with pytest.raises(convpool.ShapeMismatchError, match="forward output"):
            grad.conv2d_weight(X, W.shape, bad)
        with pytest.raises(convpool.ShapeMismatchError):
            grad.max_pool2d_backward(bad, X, 2, stride=1)
        with pytest.raises(convpool.ShapeMismatchError):
            grad.avg_pool2d_backward(bad, X.shape, 3, stride=1)
    grad.conv2d_input(X.shape, W, dy)  # the right shape works
    with convpool.Conv2d.from_weights(W, training=True) as conv:
        conv(X)
        with pytest.raises(convpool.ShapeMismatchError):
            conv.backward(dy[0])  # an unbatched dy for a batched input


def test_max_pool_indices_errors():
    y, idx = convpool.max_pool2d(X, 2, return_indices=True)
    dy = np.ones_like(y)
    with pytest.raises(convpool.InvalidArgumentError):  # neither x nor indices
        grad.max_pool2d_backward(dy, X.shape, 2)
    with pytest.raises(convpool.ShapeMismatchError, match="indices have shape"):
        grad.max_pool2d_backward(dy, X, 2, indices=idx[:, :1])
    with pytest.raises(convpool.InputTypeError, match="dtype float"):
        grad.max_pool2d_backward(dy, X, 2, indices=idx.astype(np.float64))
    with pytest.raises(convpool.InvalidArgumentError):  # outside its plane
        grad.max_pool2d_backward(dy, X.shape, 2, indices=idx + X[0, 0].size)
    # global max pool and the LpPools need x: its shape alone is not enough
    with pytest.raises(convpool.InvalidArgumentError, match="not only its shape"):
        grad.global_max_pool_backward(np.ones((1, 2, 1, 1), np.float32), X.shape)
    with pytest.raises(convpool.InvalidArgumentError, match="not only its shape"):
        grad.lp_pool2d_backward(np.ones((1, 2, 2, 2), np.float32), X.shape, 2, 2)


def test_max_pool_windows_of_padding_only():
    """A window that holds only padding (dilation) has index -1: its dy is
    dropped, with the indices or without."""
    x = np.arange(7, dtype=np.float32).reshape(1, 1, 1, 7)
    args = ((2, 3), (2, 1), (1, 0), (2, 2))
    y, idx = convpool.max_pool2d(x, *args, return_indices=True)
    np.testing.assert_array_equal(idx, -1)
    dy = np.ones_like(y)
    np.testing.assert_array_equal(grad.max_pool2d_backward(dy, x.shape, *args, indices=idx), 0)
    np.testing.assert_array_equal(grad.max_pool2d_backward(dy, x, *args), 0)


def test_layer_errors():
    dy = np.ones((1, 3, 3, 3), dtype=np.float32)
    with convpool.Conv2d.from_weights(W) as conv:  # built for inference
        with pytest.raises(convpool.InvalidStateError, match="no forward input"):
            conv.backward(dy)
        with pytest.raises(convpool.InvalidArgumentError):  # dx needs the backward flag
            conv.backward(dy, X)
        _, dw, db = conv.backward(dy, X, input_grad=False)  # dw does not
        np.testing.assert_allclose(dw, grad.conv2d_weight(X, W.shape, dy), rtol=1e-6)
        assert db is None
    with pytest.raises(convpool.InputTypeError, match="float32 C-contiguous"):
        convpool.Conv2d.from_weights(W.astype(np.float64), training=True)
    with pytest.raises(convpool.InvalidArgumentError, match="input_size"):
        grad.conv2d_input((5, 5, 5), W, dy)
    with pytest.raises(convpool.InvalidArgumentError, match="weight_size"):
        grad.conv2d_weight(X, (3, 2, 3), dy)


# --- training a layer -------------------------------------------------------

def test_training_workflow(torch):
    """backward() on the kept input, `w -= lr * dw` on the caller's arrays,
    update(); the same steps as torch.optim.SGD."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    target = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    tconv = torch.nn.Conv2d(2, 3, 3, stride=2, padding=1)
    with torch.no_grad():
        tconv.weight.copy_(torch.from_numpy(w))
        tconv.bias.copy_(torch.from_numpy(b))
    opt = torch.optim.SGD(tconv.parameters(), lr=0.01)
    conv = convpool.Conv2d(2, 3, 3, stride=2, padding=1, weight=w, bias=b, training=True)
    assert conv.weight is w and conv.bias is b  # the caller's arrays, not copies
    for _ in range(5):
        y = conv(x)
        dx, dw, db = conv.backward(2 * (y - target))
        w -= 0.01 * dw
        b -= 0.01 * db
        conv.update()
        opt.zero_grad()
        ((tconv(torch.from_numpy(x)) - torch.from_numpy(target)) ** 2).sum().backward()
        opt.step()
    np.testing.assert_allclose(w, tconv.weight.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(conv(x), tconv(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-4)
    # in place through the property: the setter repacks
    before = conv(x)
    conv.weight -= 0.5
    assert not np.allclose(conv(x), before)
    # modes, pickling
    assert pickle.loads(pickle.dumps(conv)).training
    conv.eval()
    assert not conv.training and not conv.weight.flags.writeable
    with pytest.raises(convpool.InvalidArgumentError):
        conv.backward(np.ones((2, 3, 3, 3), np.float32), x)
    conv.train()
    assert conv.backward(np.ones((2, 3, 3, 3), np.float32), x)[0].shape == x.shape
    assert pickle.loads(pickle.dumps(convpool.MaxPool2d(2).train())).training


def test_max_pool_nans_follow_the_indices(torch):
    """A window holding NaNs: the layer's indices name the last NaN, as
    PyTorch's, and the gradient goes there, as PyTorch's."""
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan
    dy = np.array([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=np.float32)
    tx, = leaves(torch, x)
    torch.nn.functional.max_pool2d(tx, 2).backward(torch.from_numpy(dy))
    with convpool.MaxPool2d(2, return_indices=True).train() as pool:
        pool(x)
        np.testing.assert_array_equal(pool.backward(dy), tx.grad.numpy())


def test_gradients_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 6, 13, 11)).astype(np.float32)
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    kw = dict(stride=2, padding=1, groups=2)
    dy = rng.standard_normal(convpool.conv2d(x, w, **kw).shape).astype(np.float32)
    dyp = rng.standard_normal(convpool.avg_pool2d(x, 3, 2, 1).shape).astype(np.float32)
    before = convpool.get_num_threads()
    results = []
    try:
        for n in (1, 2, 3):
            convpool.set_num_threads(n)
            results.append((grad.conv2d_input(x.shape, w, dy, **kw),
                            *grad.conv2d_weight(x, w.shape, dy, **kw, bias=True),
                            grad.avg_pool2d_backward(dyp, x.shape, 3, 2, 1),
                            grad.max_pool2d_backward(dyp, x, 3, 2, 1)))
    finally:
        convpool.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_unbatched_and_empty_batches():
    w = np.ones((3, 2, 3, 3), dtype=np.float32)
    with convpool.Conv2d.from_weights(w, np.zeros(3, np.float32), training=True) as conv:
        x = np.random.default_rng(0).random((2, 5, 5), dtype=np.float32)
        conv(x)
        dx, dw, db = conv.backward(np.ones((3, 3, 3), np.float32))
        assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (3,)
        np.testing.assert_array_equal(db, [9, 9, 9])
        conv(np.zeros((0, 2, 5, 5), np.float32))
        dx, dw, db = conv.backward(np.zeros((0, 3, 3, 3), np.float32))
        assert dx.shape == (0, 2, 5, 5)
        np.testing.assert_array_equal(dw, 0)
        np.testing.assert_array_equal(db, 0)


def test_readme_training_example(capsys):
    """The README's Python training example runs and prints what it says."""
    import os
    import re
    from conftest import SOURCE_ROOT
    with open(os.path.join(SOURCE_ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme[readme.index("\n## Training"):]
    section = section[section.index("\n### Python\n"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README.md (Training, Python)", "exec"), {})
    out = capsys.readouterr().out
    assert "epoch 2, loss 2.880" in out and "epoch 10, loss 0.007" in out, out
    kernel = re.search(r"\[\[ *(\S+) +(\S+)\]\]", out).groups()
    np.testing.assert_allclose([float(v) for v in kernel], [0.9839522, -0.9989845], rtol=1e-5)
