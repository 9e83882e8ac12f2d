'use strict';
// Ops and functions: the seed notebooks' values, parity with the Python
// binding, zero-copy inputs, caller outputs, indices, errors and messages.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const cp = require('..');
const { Tensor } = cp;

const T = (data, shape) => new Tensor(Float32Array.from(data.flat(Infinity)), shape);
const values = (t) => Array.from(t.data);
const X3 = T([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [3, 3]);
const X16 = T(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);

function edgeImage() {
  // D2L: a 6x8 image of ones with a black band in columns 2..5
  const x = new Float32Array(48).fill(1);
  for (let r = 0; r < 6; r++) for (let c = 2; c < 6; c++) x[r * 8 + c] = 0;
  return new Tensor(x, [6, 8]);
}

function transpose(t) {
  const [h, w] = t.shape;
  const out = new Float32Array(h * w);
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) out[c * h + r] = t.data[r * w + c];
  return new Tensor(out, [w, h]);
}

test('seed: corr2d', async () => {
  const K = T([[0, 1], [2, 3]], [2, 2]);
  const y = await cp.corr2d(X3, K);
  assert.deepEqual(y.shape, [2, 2]);
  assert.deepEqual(values(y), [19, 25, 37, 43]);
  assert.deepEqual(values(cp.corr2dSync(X3, K)), [19, 25, 37, 43]);
});

test('seed: edge detection', async () => {
  const X = edgeImage();
  assert.deepEqual(Array.from(X.data.subarray(0, 8)), [1, 1, 0, 0, 0, 0, 1, 1]);
  const K = T([[1, -1]], [1, 2]);
  const Y = await cp.corr2d(X, K);
  assert.deepEqual(Y.shape, [6, 7]);
  for (let r = 0; r < 6; r++) assert.deepEqual(Array.from(Y.data.subarray(r * 7, r * 7 + 7)), [0, 1, 0, 0, 0, -1, 0]);
  const Z = await cp.corr2d(transpose(X), K);
  assert.deepEqual(Z.shape, [8, 5]);
  assert.ok(Z.data.every((v) => v === 0));
});

test('seed: padding and stride shapes', () => {
  const x = new Tensor(new Float32Array(64).fill(0.5), [1, 1, 8, 8]);
  const cases = [
    [[3, 3], { padding: 1 }, [8, 8]],
    [[5, 3], { padding: [2, 1] }, [8, 8]],
    [[3, 3], { padding: 1, stride: 2 }, [4, 4]],
    [[3, 5], { padding: [0, 1], stride: [3, 4] }, [2, 2]],
  ];
  for (const [k, opts, shape] of cases) {
    const w = new Tensor(new Float32Array(k[0] * k[1]).fill(1), [1, 1, ...k]);
    const conv = new cp.Conv2d(w, opts);
    assert.deepEqual(conv.runSync(x).shape.slice(2), shape, JSON.stringify(opts));
    conv.dispose();
  }
});

test('seed: multiple input and output channels', async () => {
  const X = T([[0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8, 9]], [1, 2, 3, 3]);
  const K = [[0, 1, 2, 3], [1, 2, 3, 4]];
  const y = await cp.conv2d(X, T(K, [1, 2, 2, 2]));
  assert.deepEqual(values(y), [56, 72, 104, 120]);
  const K3 = [0, 1, 2].map((d) => K.map((ch) => ch.map((v) => v + d)));
  const y3 = await cp.conv2d(X, T(K3, [3, 2, 2, 2]));
  assert.deepEqual(y3.shape, [1, 3, 2, 2]);
  assert.deepEqual(values(y3), [56, 72, 104, 120, 76, 100, 148, 172, 96, 128, 192, 224]);
});

test('seed: 1x1 convolution is a matrix product', () => {
  const X = T(Array.from({ length: 27 }, (_, i) => Math.sin(i)), [1, 3, 3, 3]);
  const Kv = [0.5, -1, 2, 1.5, 0.25, -0.75];
  const y = cp.conv2dSync(X, T(Kv, [2, 3, 1, 1]));
  for (let o = 0; o < 2; o++) {
    for (let p = 0; p < 9; p++) {
      let want = 0;
      for (let c = 0; c < 3; c++) want += Kv[o * 3 + c] * X.data[c * 9 + p];
      assert.ok(Math.abs(y.data[o * 9 + p] - want) < 1e-6);
    }
  }
});

test('seed: pooling values', async () => {
  const x3 = new Tensor(X3.data, [1, 1, 3, 3]);
  assert.deepEqual(values(await cp.maxPool2d(x3, { kernelSize: 2, stride: 1 })), [4, 5, 7, 8]);
  assert.deepEqual(values(await cp.avgPool2d(x3, { kernelSize: 2, stride: 1 })), [2, 3, 5, 6]);
  const cases = [
    [{ kernelSize: 3 }, [10]],
    [{ kernelSize: 3, padding: 1, stride: 2 }, [5, 7, 13, 15]],
    [{ kernelSize: [2, 3], stride: [2, 3], padding: [0, 1] }, [5, 7, 13, 15]],
    [{ kernelSize: [2, 3], padding: [1, 1], stride: [2, 3] }, [1, 3, 9, 11, 13, 15]],
  ];
  for (const [opts, want] of cases) {
    const pool = new cp.MaxPool2d(opts);
    assert.deepEqual(values(await pool.run(X16)), want, JSON.stringify(opts));
    pool.dispose();
  }
  const two = new Tensor(Float32Array.from([...X16.data, ...X16.data.map((v) => v + 1)]), [1, 2, 4, 4]);
  assert.deepEqual(values(await cp.maxPool2d(two, { kernelSize: 3, padding: 1, stride: 2 })), [5, 7, 13, 15, 6, 8, 14, 16]);
  const x1 = T(Array.from({ length: 16 }, (_, i) => i + 1), [1, 1, 4, 4]);
  assert.deepEqual(values(cp.maxPool2dSync(x1, { kernelSize: 2, stride: 2 })), [6, 8, 14, 16]);
  assert.deepEqual(values(cp.avgPool2dSync(x1, { kernelSize: 2, stride: 2 })), [3.5, 5.5, 11.5, 13.5]);
  assert.deepEqual(values(cp.maxPool2dSync(x1, { kernelSize: 2, stride: 1 })), [6, 7, 8, 10, 11, 12, 14, 15, 16]);
  // pooling as a convolution with a constant kernel, and min pooling
  const w = new Tensor(new Float32Array(8).fill(0.25), [2, 1, 2, 2]);
  assert.deepEqual(values(cp.conv2dSync(two, w, { groups: 2 })), values(cp.avgPool2dSync(two, { kernelSize: 2, stride: 1 })));
  const neg = new Tensor(two.data.map((v) => -v), two.shape);
  assert.deepEqual(values(cp.maxPool2dSync(neg, { kernelSize: 2, stride: 1 })).slice(0, 9).map((v) => -v),
                   [0, 1, 2, 4, 5, 6, 8, 9, 10]);
  assert.deepEqual(values(await cp.globalMaxPool(X16)), [15]);
  assert.deepEqual(values(await cp.globalAvgPool(X16)), [7.5]);
});

const fixtures = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'parity.json'), 'utf8'));
const f32 = (b64) => { const b = Buffer.from(b64, 'base64'); return new Float32Array(b.buffer, b.byteOffset, b.length / 4).slice(); };
const i64 = (b64) => { const b = Buffer.from(b64, 'base64'); return new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); };

test(`parity with the Python binding (${fixtures.cases.length} random cases)`, async () => {
  assert.ok(fixtures.cases.length >= 20);
  for (const c of fixtures.cases) {
    const x = new Tensor(f32(c.x), c.xShape);
    let got;
    if (c.kind.startsWith('conv')) {
      const opts = { ...c.args, bias: c.bias ? f32(c.bias) : undefined };
      got = await cp[c.kind](x, new Tensor(f32(c.weight), c.wShape), opts);
    } else {
      got = await cp[c.kind](x, c.args);
    }
    const y = got.output ?? got;
    assert.deepEqual(y.shape, c.yShape, c.kind);
    const want = f32(c.y);
    for (let i = 0; i < want.length; i++) {
      assert.ok(Math.abs(y.data[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])),
                `${c.kind} ${JSON.stringify(c.args)}: y[${i}] = ${y.data[i]}, Python ${want[i]}`);
    }
    if (c.indices) assert.deepEqual(got.indices.data, i64(c.indices), `${c.kind} indices`);
  }
});

test('inputs are used in place and outputs can be the caller\'s', async () => {
  const x = new Tensor(new Float32Array(16).fill(2), [1, 1, 4, 4]);
  const pool = new cp.MaxPool({ kernelShape: [2, 2], strides: [2, 2] });
  const out = new Float32Array(4);
  const r = pool.runSync(x, { out });
  assert.equal(r.data, out);
  x.data[0] = 9; // the op reads the caller's array itself
  const r2 = await pool.run(x, { out });
  assert.equal(r2.data, out);
  assert.deepEqual(Array.from(out), [9, 2, 2, 2]);
  assert.throws(() => pool.runSync(x, { out: new Float32Array(3) }), cp.InvalidArgumentError);
  pool.dispose();
});

test('ONNX MaxPool indices (whole tensor, storage order) and PyTorch indices (per plane)', () => {
  const x = new Tensor(Float32Array.from([...X16.data, ...X16.data]), [1, 2, 4, 4]);
  const onnx = new cp.MaxPool({ kernelShape: [2, 2], strides: [2, 2] });
  assert.deepEqual(onnx.runSync(x, { indices: true }).indices.data, BigInt64Array.from([5n, 7n, 13n, 15n, 21n, 23n, 29n, 31n]));
  const colMajor = new cp.MaxPool({ kernelShape: [2, 2], strides: [2, 2], storageOrder: 1 });
  assert.deepEqual(colMajor.runSync(x, { indices: true }).indices.data.slice(0, 4), BigInt64Array.from([5n, 13n, 7n, 15n]));
  const torch = cp.maxPool2dSync(x, { kernelSize: 2, returnIndices: true });
  assert.deepEqual(torch.indices.data, BigInt64Array.from([5n, 7n, 13n, 15n, 5n, 7n, 13n, 15n]));
  assert.throws(() => new cp.AveragePool({ kernelShape: [2, 2] }).runSync(x, { indices: true }), /only MaxPool/);
  onnx.dispose();
  colMajor.dispose();
});

test('every ONNX attribute reaches the library', () => {
  const x = new Tensor(Float32Array.from({ length: 25 }, (_, i) => i), [1, 1, 5, 5]);
  const same = new cp.AveragePool({ kernelShape: [3, 3], autoPad: 'SAME_UPPER', countIncludePad: true });
  assert.deepEqual(same.runSync(x).shape, [1, 1, 5, 5]);
  assert.equal(same.runSync(x).data[0], Math.fround((0 + 1 + 5 + 6) / 9));
  const ceil = new cp.MaxPool({ kernelShape: [2, 2], strides: [2, 2], ceilMode: true, dilations: [1, 1] });
  assert.deepEqual(ceil.runSync(x).shape, [1, 1, 3, 3]);
  const w = new Tensor(new Float32Array(2 * 1 * 3 * 3).fill(1), [2, 1, 3, 3]);
  const two = new Tensor(Float32Array.from([...x.data, ...x.data]), [1, 2, 5, 5]);
  const conv = new cp.Conv(w, { group: 2, pads: [1, 1, 1, 1], strides: [2, 2], dilations: [1, 1], bias: [1, -1] });
  const y = conv.runSync(two);
  assert.deepEqual(y.shape, [1, 2, 3, 3]);
  assert.equal(y.data[0], 0 + 1 + 5 + 6 + 1);
  assert.equal(y.data[9], 0 + 1 + 5 + 6 - 1);
  for (const op of [same, ceil, conv]) op.dispose();
});

test('errors: ConvpoolError subclasses with status and the C message naming the value', async () => {
  assert.throws(() => new cp.MaxPool({ kernelShape: [2, 0] }), (e) =>
    e instanceof cp.InvalidAttributeError && e instanceof cp.ConvpoolError && e.status === 2 &&
    e.statusText === 'invalid attribute' && /kernel_shape\[1\] = 0/.test(e.message));
  assert.throws(() => new cp.MaxPool({ kernelShape: [2, 2], pads: [1, 1, 1, 1], autoPad: 'VALID' }), cp.InvalidAttributeError);
  assert.throws(() => new cp.MaxPool({ kernelShape: [2, 2], group: 2 }), cp.InvalidAttributeError);
  assert.throws(() => new cp.MaxPool({ kernelShape: [2, 2], padz: [1] }), /unknown attribute 'padz'/);
  assert.throws(() => new cp.MaxPool({ kernelShape: [2, 2], autoPad: 'SAME' }), /autoPad = 'SAME'/);
  assert.throws(() => new cp.Conv2d(new Tensor(new Float32Array(4), [1, 1, 2, 2]), { stride: 2, padding: 'same' }), /strided/);
  assert.throws(() => new cp.MaxPool2d({ kernelSize: 2, padding: 2 }), /at most half/);
  assert.throws(() => new Tensor(new Float32Array(3), [2, 2]), /holds 4 elements but data has 3/);
  assert.throws(() => new Tensor('abc', [3]), cp.InvalidArgumentError);
  const w = new Tensor(new Float32Array(8), [1, 2, 2, 2]);
  const conv = new cp.Conv2d(w);
  const oneChannel = new Tensor(new Float32Array(9), [1, 1, 3, 3]);
  // the async path: the message comes from the worker thread's own call
  await assert.rejects(conv.run(oneChannel), (e) =>
    e instanceof cp.ShapeMismatchError && e.status === 3 && /C = 1/.test(e.message) && /2/.test(e.message));
  // an unrelated failure on the main thread in between must not leak into the async error
  const pending = conv.run(oneChannel);
  assert.throws(() => new cp.MaxPool({ kernelShape: [0, 1] }), /kernel_shape\[0\] = 0/);
  await assert.rejects(pending, (e) => !/kernel_shape/.test(e.message) && /C = 1/.test(e.message));
  assert.throws(() => conv.runSync(new Tensor(new Float32Array(9), [1, 9])), /rank-4/);
  conv.dispose();
  conv.dispose(); // idempotent
  assert.throws(() => conv.runSync(oneChannel), (e) => e instanceof cp.InvalidStateError && /disposed/.test(e.message));
  await assert.rejects(conv.run(oneChannel), cp.InvalidStateError);
});

test('shapes are plain numbers and the library version matches', () => {
  const pool = new cp.GlobalAveragePool(3);
  const s = pool.outputShape([2, 3, 4, 5, 6]);
  assert.deepEqual(s, [2, 3, 1, 1, 1]);
  assert.ok(s.every((d) => typeof d === 'number'));
  pool.dispose();
  assert.equal(cp.libraryVersion.split('.').slice(0, 2).join('.'), cp.version.split('.').slice(0, 2).join('.'));
  assert.match(cp.isa(), /^(scalar|avx2|avx512)$/);
});

test('the ESM entry point exports the same objects', async () => {
  const esm = await import('../index.mjs');
  assert.equal(esm.Model, cp.Model);
  assert.equal(esm.conv2d, cp.conv2d);
  assert.equal(esm.default, cp);
  for (const name of Object.keys(cp)) assert.ok(name in esm, `ESM lacks ${name}`);
});

test('seed: learning the edge kernel (the notebooks\' printed losses and kernel)', async () => {
  // D2L 7.2.4: gradient descent on the squared error of conv2d(X, w) against
  // the edges Y; the gradient is 2 * corr(X, residual), also with convpool.
  const X = new Tensor(edgeImage().data, [1, 1, 6, 8]);
  const Y = Float32Array.from({ length: 42 }, (_, i) => [0, 1, 0, 0, 0, -1, 0][i % 7]);
  assert.equal(fixtures.learning.length, 2);
  for (const seed of fixtures.learning) {
    const w = f32(seed.start);
    const lr = Math.fround(seed.lr);
    const losses = [];
    for (let i = 0; i < 10; i++) {
      const y = await cp.conv2d(X, new Tensor(w, [1, 1, 1, 2]));
      const R = y.data.map((v, k) => v - Y[k]);
      losses.push(R.reduce((a, r) => Math.fround(a + Math.fround(r * r)), 0));
      const grad = await cp.conv2d(X, new Tensor(R, [1, 1, 6, 7]));
      for (let k = 0; k < 2; k++) w[k] = Math.fround(w[k] - Math.fround(lr * Math.fround(2 * grad.data[k])));
    }
    const got = seed.steps.map((s) => losses[s]);
    if (seed.digits === 3) {
      assert.deepEqual(got.map((v) => v.toFixed(3)), seed.losses.map((v) => v.toFixed(3)), `seed ${seed.seed}`);
    } else {
      // float32 sums in another order than NumPy's: equal to ~1e-6
      got.forEach((v, k) => assert.ok(Math.abs(v - seed.losses[k]) <= 2e-6 * seed.losses[k], `seed ${seed.seed}: ${v} vs ${seed.losses[k]}`));
    }
    assert.deepEqual(Array.from(w, (v) => v.toFixed(4)), seed.final.map((v) => v.toFixed(4)), `seed ${seed.seed} kernel`);
  }
});
