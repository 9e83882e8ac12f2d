"""ConvTranspose and LpPool in PyTorch's spelling: parity with
torch.nn.functional (Debian python3-torch) on a few hundred random
configurations drawn from fixed seeds, the layers against torch's modules,
and the errors of every new argument.

torch's lp_pool raises x to p without the absolute value and scales ceil_mode
windows that run past the input by the full window size; ONNX LpPool takes
|x| and sums only the input elements. The parity cases therefore use even p
(any sign) or non-negative inputs, and ceil_mode only against a NumPy
computation of the ONNX formula.
"""
import itertools

import numpy as np
import pytest

import convpool

CASES = 80


def ints(rng, lo, hi, n):
    return tuple(int(v) for v in rng.integers(lo, hi + 1, n))


def transpose_case(rank, index):
    rng = np.random.default_rng(7000 * rank + index)
    groups = int(rng.integers(1, 4))
    cin, cout = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    kernel = ints(rng, 1, 4 if rank < 3 else 3, rank)
    uniform_stride = rng.random() < 0.3  # given to torch as one int
    stride = ints(rng, 1, 3, 1) * rank if uniform_stride else ints(rng, 1, 3, rank)
    dilation = ints(rng, 1, 2, rank)
    # torch: output_padding below the stride or the dilation
    output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    size = ints(rng, 1, 6 if rank < 3 else 4, rank)
    # padding may crop at most what leaves an output of >= 1
    padding = []
    for i in range(rank):
        full = (size[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 + output_padding[i]
        padding.append(int(rng.integers(0, min(2, (full - 1) // 2) + 1)))
    x = rng.standard_normal((int(rng.integers(1, 3)), cin) + size).astype(np.float32)
    w = rng.standard_normal((cin, cout // groups) + kernel).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32) if rng.random() < 0.7 else None
    kwargs = dict(stride=stride[0] if uniform_stride else stride, padding=tuple(padding),
                  output_padding=output_padding, groups=groups, dilation=dilation)
    return x, w, b, kwargs


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("index", range(CASES))
def test_conv_transpose(torch, rank, index):
    x, w, b, kwargs = transpose_case(rank, index)
    F = torch.nn.functional
    want = getattr(F, "conv_transpose%dd" % rank)(
        torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
        **kwargs)
    got = getattr(convpool, "conv_transpose%dd" % rank)(x, w, b, **kwargs)
    assert got.shape == tuple(want.shape), kwargs
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-4, err_msg=str(kwargs))


def lp_case(rank, index):
    rng = np.random.default_rng(90000 * rank + index)
    p = int(rng.choice([1, 2, 3, 4]))
    kernel = ints(rng, 1, 3, rank)
    stride = None if rng.random() < 0.3 else ints(rng, 1, 3, rank)
    size = tuple(k + int(rng.integers(0, 6)) for k in kernel)
    if rank == 1:  # torch 1.13's lp_pool1d takes ints only
        kernel, stride = kernel[0], None if stride is None else stride[0]
    x = rng.standard_normal((int(rng.integers(1, 3)), int(rng.integers(1, 4))) + size)
    if p % 2:
        x = np.abs(x)  # where torch's x^p and ONNX's |x|^p agree
    return x.astype(np.float32), p, kernel, stride


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("index", range(CASES))
def test_lp_pool(torch, rank, index):
    x, p, kernel, stride = lp_case(rank, index)
    want = getattr(torch.nn.functional, "lp_pool%dd" % rank)(torch.from_numpy(x), p, kernel,
                                                             stride)
    got = getattr(convpool, "lp_pool%dd" % rank)(x, p, kernel, stride)
    assert got.shape == tuple(want.shape)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-5,
                               err_msg=str((p, kernel, stride)))


def onnx_lp_pool(x, p, kernel, stride, ceil_mode):
    """ONNX LpPool without padding, from its definition."""
    rank = len(kernel)
    spatial = x.shape[2:]
    out = []
    for n, k, s in zip(spatial, kernel, stride):
        o = (n - k + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n:
            o -= 1
        out.append(o)
    y = np.zeros(x.shape[:2] + tuple(out))
    for pos in itertools.product(*(range(o) for o in out)):
        window = tuple(slice(i * s, i * s + k) for i, s, k in zip(pos, stride, kernel))
        block = np.abs(x[(Ellipsis,) + window].astype(np.float64)) ** p
        y[(Ellipsis,) + pos] = block.reshape(x.shape[:2] + (-1,)).sum(axis=2) ** (1.0 / p)
    assert y.ndim == rank + 2
    return y


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("index", range(20))
def test_lp_pool_signed_and_ceil(rank, index):
    """Odd p on signed inputs, ceil_mode and 3-D (torch 1.13 has no
    lp_pool3d): against the ONNX formula in NumPy."""
    rng = np.random.default_rng(40000 + 100 * rank + index)
    p = int(rng.integers(1, 6))
    kernel = ints(rng, 1, 3, rank)
    stride = ints(rng, 1, 3, rank)
    ceil_mode = bool(rng.random() < 0.6)
    x = rng.standard_normal((2, 2) + tuple(k + int(rng.integers(0, 5)) for k in kernel))
    x = x.astype(np.float32)
    got = getattr(convpool, "lp_pool%dd" % rank)(x, p, kernel, stride, ceil_mode)
    want = onnx_lp_pool(x, p, kernel, stride, ceil_mode)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_global_lp_pool():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    for p in (1, 2, 3):
        want = (np.abs(x.astype(np.float64)) ** p).sum(axis=(2, 3), keepdims=True) ** (1 / p)
        np.testing.assert_allclose(convpool.global_lp_pool(x, p), want, rtol=1e-5)
    with convpool.GlobalLpPool(3, p=2) as pool:
        assert pool(x[..., None]).shape == (2, 3, 1, 1, 1)


def test_layers_match_torch_modules(torch):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 4, 5, 6)).astype(np.float32)
    t = torch.nn.ConvTranspose2d(4, 6, 4, stride=2, padding=1, output_padding=1, groups=2,
                                 dilation=1)
    with convpool.ConvTranspose2d(4, 6, 4, stride=2, padding=1, output_padding=1, groups=2,
                                  weight=t.weight.detach().numpy(),
                                  bias=t.bias.detach().numpy()) as layer:
        assert layer.in_channels == 4 and layer.out_channels == 6
        np.testing.assert_allclose(layer(x), t(torch.from_numpy(x)).detach().numpy(),
                                   rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer(x[0]), t(torch.from_numpy(x[:1])).detach().numpy()[0],
                                   rtol=1e-4, atol=1e-5)  # unbatched
        layer.weight = np.zeros_like(layer.weight)  # repacks
        # (5-1)*2 - 2 + 4 + 1 = 11, (6-1)*2 - 2 + 4 + 1 = 13
        np.testing.assert_allclose(layer(x), np.broadcast_to(
            t.bias.detach().numpy()[None, :, None, None], (2, 6, 11, 13)), rtol=1e-6)
    # default initialisation: PyTorch's bound 1/sqrt(out/groups * prod(kernel))
    layer = convpool.ConvTranspose3d(2, 4, 3, seed=1)
    assert layer.weight.shape == (2, 4, 3, 3, 3)
    assert np.abs(layer.weight).max() <= 1 / np.sqrt(4 * 27)
    layer.close()
    with convpool.LPPool2d(2, 3, stride=2) as pool:
        np.testing.assert_allclose(pool(x), torch.nn.LPPool2d(2, 3, stride=2)(
            torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6)
    with convpool.LPPool1d(2, 2) as pool:
        assert "LPPool1d(norm_type=2" in repr(pool)


def test_bad_arguments():
    x = np.ones((1, 2, 4, 4), np.float32)
    w = np.ones((2, 3, 2, 2), np.float32)
    with pytest.raises(convpool.InvalidAttributeError, match=r"output_padding\[0\] = 2"):
        convpool.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(convpool.InvalidAttributeError, match=r"output_padding = \(1, 2, 3\)"):
        convpool.conv_transpose2d(x, w, output_padding=(1, 2, 3))
    with pytest.raises(convpool.InvalidAttributeError, match=r"output_padding\[1\] = -1"):
        convpool.conv_transpose2d(x, w, stride=2, output_padding=(0, -1))
    with pytest.raises(convpool.ShapeMismatchError, match="C = 2 input channels"):
        convpool.conv_transpose2d(x, w, groups=3)
    with pytest.raises(convpool.ShapeMismatchError, match="C = 3"):
        convpool.conv_transpose2d(np.ones((1, 3, 4, 4), np.float32), w)
    with pytest.raises(convpool.InvalidArgumentError, match=r"bias: expected shape \(3,\)"):
        convpool.conv_transpose2d(x, w, np.ones(2, np.float32))
    with pytest.raises(convpool.ShapeMismatchError, match="output size would be"):
        convpool.conv_transpose2d(x, w, padding=3)
    with pytest.raises(convpool.InvalidArgumentError, match="in_channels, out_channels/groups"):
        convpool.conv_transpose2d(x, w[0])
    with pytest.raises(convpool.UnsupportedError, match="norm_type = 1.5"):
        convpool.lp_pool2d(x, 1.5, 2)
    with pytest.raises(convpool.UnsupportedError, match="norm_type = 0"):
        convpool.LPPool2d(0, 2)
    with pytest.raises(convpool.InvalidAttributeError, match="kernel_size"):
        convpool.lp_pool2d(x, 2, (2, 2, 2))
    with pytest.raises(convpool.ShapeMismatchError, match="larger than the padded input"):
        convpool.lp_pool2d(x, 2, 5)
