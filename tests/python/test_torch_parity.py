"""Parity with torch.nn.functional (Debian python3-torch) on a few hundred
random configurations of every parameter the binding spells like PyTorch.

The configurations are drawn from a fixed seed, so a failure is
reproducible; each test id names the op and the index of its draw.
"""
import numpy as np
import pytest

import convpool

CASES_PER_OP = 60

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def draw(rng, lo, hi, n):
    """n ints in [lo, hi], as PyTorch takes them: an int if all are equal."""
    values = tuple(int(v) for v in rng.integers(lo, hi + 1, n))
    return values[0] if len(set(values)) == 1 and rng.random() < 0.5 else values


def as_tuple(v, n):
    return v if isinstance(v, tuple) else (v,) * n


def conv_case(rank, index):
    rng = np.random.default_rng(1000 * rank + index)
    groups = int(rng.integers(1, 4))
    cin, cout = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    kernel = tuple(int(k) for k in rng.integers(1, 4 if rank < 3 else 3, rank))
    dilation = draw(rng, 1, 2, rank)
    stride = draw(rng, 1, 3, rank)
    choice = rng.random()
    if choice < 0.15:
        padding, stride = "same", 1
    elif choice < 0.25:
        padding = "valid"
    else:
        padding = draw(rng, 0, 2, rank)
    pads = (0,) * rank if isinstance(padding, str) else as_tuple(padding, rank)
    d = as_tuple(dilation, rank)
    # Input large enough for at least one output (PyTorch errors otherwise).
    size = tuple(max(1, d[i] * (kernel[i] - 1) + 1 - 2 * pads[i]) + int(rng.integers(0, 5))
                 for i in range(rank))
    x = rng.standard_normal((int(rng.integers(1, 3)), cin) + size).astype(np.float32)
    w = rng.standard_normal((cout, cin // groups) + kernel).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32) if rng.random() < 0.7 else None
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def pool_case(rank, index, kind):
    rng = np.random.default_rng(100000 * rank + 10 * index + (kind == "avg"))
    kernel = draw(rng, 1, 3, rank)
    k = as_tuple(kernel, rank)
    stride = None if rng.random() < 0.25 else draw(rng, 1, 3, rank)
    padding = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
    kwargs = dict(kernel_size=kernel, stride=stride, padding=padding,
                  ceil_mode=bool(rng.random() < 0.5))
    dil = (1,) * rank
    if kind == "max":
        kwargs["dilation"] = draw(rng, 1, 2, rank)
        kwargs["return_indices"] = bool(rng.random() < 0.5)
        dil = as_tuple(kwargs["dilation"], rank)
    else:
        kwargs["count_include_pad"] = bool(rng.random() < 0.5)
        if rank > 1 and rng.random() < 0.3:
            kwargs["divisor_override"] = int(rng.integers(1, 6))
    # At least one window without padding (PyTorch's 3-D avg pool insists).
    size = tuple(dil[i] * (k[i] - 1) + 1 + int(rng.integers(0, 6)) for i in range(rank))
    x = rng.standard_normal((int(rng.integers(1, 3)), int(rng.integers(1, 4))) + size)
    return x.astype(np.float32), kwargs


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("index", range(CASES_PER_OP))
def test_conv(torch, rank, index):
    x, w, b, kwargs = conv_case(rank, index)
    F = torch.nn.functional
    want = getattr(F, "conv%dd" % rank)(torch.from_numpy(x), torch.from_numpy(w),
                                        None if b is None else torch.from_numpy(b), **kwargs)
    got = getattr(convpool, "conv%dd" % rank)(x, w, b, **kwargs)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-4, err_msg=str(kwargs))


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("index", range(CASES_PER_OP))
def test_pool(torch, kind, rank, index):
    x, kwargs = pool_case(rank, index, kind)
    name = "%s_pool%dd" % (kind, rank)
    want = getattr(torch.nn.functional, name)(torch.from_numpy(x), **kwargs)
    got = getattr(convpool, name)(x, **kwargs)
    if kind == "avg":
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-6, err_msg=str(kwargs))
    elif kwargs["return_indices"]:
        np.testing.assert_array_equal(got[0], want[0].numpy(), err_msg=str(kwargs))
        np.testing.assert_array_equal(got[1], want[1].numpy(), err_msg=str(kwargs))
        assert got[1].dtype == np.int64
    else:  # max: the same element is picked, so the values are equal
        np.testing.assert_array_equal(got, want.numpy(), err_msg=str(kwargs))


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_unbatched_inputs(torch, rank):
    x, kwargs = pool_case(rank, 3, "max")
    x = x[0]
    want = getattr(torch.nn.functional, "max_pool%dd" % rank)(torch.from_numpy(x), **kwargs)
    got = getattr(convpool, "max_pool%dd" % rank)(x, **kwargs)
    if kwargs["return_indices"]:
        got, want = got[0], want[0]
    assert got.shape == tuple(want.shape)
    np.testing.assert_array_equal(got, want.numpy())
    xc, w, b, ckw = conv_case(rank, 5)
    want = getattr(torch.nn.functional, "conv%dd" % rank)(
        torch.from_numpy(xc[0]), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
        **ckw)
    got = getattr(convpool, "conv%dd" % rank)(xc[0], w, b, **ckw)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("output_size", [1, 2])
def test_adaptive_pools(torch, rank, output_size):
    rng = np.random.default_rng(rank * 10 + output_size)
    x = rng.standard_normal((2, 3) + (4,) * rank).astype(np.float32)
    F = torch.nn.functional
    tx = torch.from_numpy(x)
    np.testing.assert_allclose(
        getattr(convpool, "adaptive_avg_pool%dd" % rank)(x, output_size),
        getattr(F, "adaptive_avg_pool%dd" % rank)(tx, output_size).numpy(), rtol=1e-5, atol=1e-6)
    got, idx = getattr(convpool, "adaptive_max_pool%dd" % rank)(x, output_size, True)
    want, widx = getattr(F, "adaptive_max_pool%dd" % rank)(tx, output_size, True)
    np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(idx, widx.numpy())
    if output_size == 1:
        np.testing.assert_allclose(convpool.global_avg_pool(x),
                                   F.adaptive_avg_pool2d(tx.reshape(2, 3, -1, 1), 1)
                                   .numpy().reshape((2, 3) + (1,) * rank), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(convpool.global_max_pool(x),
                                      np.max(x.reshape(2, 3, -1), axis=2)
                                      .reshape((2, 3) + (1,) * rank))


def test_layers_match_torch_modules(torch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 9, 9)).astype(np.float32)
    tconv = torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
    with convpool.Conv2d(4, 6, 3, stride=2, padding=1, groups=2,
                         weight=tconv.weight.detach().numpy(),
                         bias=tconv.bias.detach().numpy()) as conv:
        np.testing.assert_allclose(conv(x), tconv(torch.from_numpy(x)).detach().numpy(),
                                   rtol=1e-4, atol=1e-5)
    with convpool.AvgPool2d(3, 2, 1, ceil_mode=True, divisor_override=4) as pool:
        np.testing.assert_allclose(pool(x), torch.nn.AvgPool2d(3, 2, 1, True, True, 4)(
            torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6)
