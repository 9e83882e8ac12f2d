'use strict';
// Model: the committed models, the ONNX backend node tests, metadata,
// outputs owned by the caller, concurrent runs, and load/run errors.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const cp = require('..');
const { readTensorProto, readNpy } = require('./onnx');

const DATA = path.resolve(__dirname, '..', '..', '..', 'tests', 'data');
const EDGE = path.join(DATA, 'models', 'edge_detector.onnx');
const edgeInput = () => {
  const { shape, data } = readNpy(path.join(DATA, 'models', 'edge_detector_input.npy'));
  return new cp.Tensor(data, shape);
};

test('edge detector model: metadata and the seed\'s edges', async () => {
  const model = await cp.Model.create(EDGE);
  assert.deepEqual(model.inputNames, ['X']);
  assert.deepEqual(model.outputNames, ['Y']);
  assert.deepEqual(model.inputMetadata, [{ name: 'X', isTensor: true, type: 'float32', shape: [1, 1, 6, 8] }]);
  assert.deepEqual(model.outputMetadata[0].shape, [1, 1, 6, 7]);
  const { Y } = await model.run({ X: edgeInput() });
  assert.deepEqual(Y.shape, [1, 1, 6, 7]);
  for (let r = 0; r < 6; r++) assert.deepEqual(Array.from(Y.data.subarray(r * 7, r * 7 + 7)), [0, 1, 0, 0, 0, -1, 0]);
  await model.release();
});

test('a model loads from a Buffer too, and outputs are never overwritten by a later run', async () => {
  const model = await cp.Model.create(fs.readFileSync(EDGE));
  const x = edgeInput();
  const first = (await model.run({ X: x })).Y;
  const keep = Array.from(first.data);
  const inverted = new cp.Tensor(x.data.map((v) => 1 - v), x.shape);
  const second = (await model.run({ X: inverted })).Y;
  assert.notEqual(second.data.buffer, first.data.buffer);
  assert.deepEqual(Array.from(first.data), keep);
  assert.deepEqual(Array.from(second.data), keep.map((v) => (v === 0 ? 0 : -v)));
  model.dispose();
});

test('concurrent async runs of one model and of one op give the right results', async () => {
  const model = await cp.Model.create(EDGE);
  const x = edgeInput();
  const inputs = Array.from({ length: 16 }, (_, i) => new cp.Tensor(x.data.map((v) => v * (i + 1)), x.shape));
  const results = await Promise.all(inputs.map((t) => model.run({ X: t })));
  results.forEach(({ Y }, i) => {
    assert.equal(Y.data[1], i + 1, `run ${i}`); // the edge 1 -> 0, scaled
    assert.equal(Y.data[5], -(i + 1), `run ${i}`);
  });
  model.dispose();
  const conv = new cp.Conv2d(new cp.Tensor(new Float32Array(9).fill(1), [1, 1, 3, 3]), { padding: 1 });
  const big = Array.from({ length: 8 }, (_, i) => new cp.Tensor(new Float32Array(64 * 64).fill(i), [1, 1, 64, 64]));
  const ys = await Promise.all(big.map((t) => conv.run(t)));
  ys.forEach((y, i) => {
    assert.equal(y.data[0], 4 * i); // a corner sees 4 taps
    assert.equal(y.data[65], 9 * i);
  });
  conv.dispose();
});

test('load and run errors carry the status and the C message', async () => {
  await assert.rejects(cp.Model.create(path.join(DATA, 'no-such-model.onnx')), (e) =>
    e instanceof cp.FileIOError && e.status === 9 && /no-such-model\.onnx/.test(e.message));
  await assert.rejects(cp.Model.create(path.join(DATA, 'malformed', 'unknown_op.onnx')), (e) =>
    e instanceof cp.ConvpoolError && [7, 8].includes(e.status) && e.message.length > 10);
  await assert.rejects(cp.Model.create(Buffer.from('not a model')), cp.InvalidModelError);
  await assert.rejects(cp.Model.create(42), cp.InvalidArgumentError);
  await assert.rejects(cp.Model.create(EDGE, { memoryLimit: -1 }), /memoryLimit = -1/);
  await assert.rejects(cp.Model.create(EDGE, { memoryLimit: 16 }), (e) => e instanceof cp.OutOfMemoryError);
  const model = await cp.Model.create(EDGE);
  await assert.rejects(model.run({}), /input 'X' is missing/);
  await assert.rejects(model.run({ X: edgeInput(), Z: edgeInput() }), /'Z' is not an input/);
  const wrong = new cp.Tensor(new Float32Array(6 * 9), [1, 1, 6, 9]);
  await assert.rejects(model.run({ X: wrong }), (e) => e instanceof cp.ShapeMismatchError && /9/.test(e.message));
  // the model still works after failures (its session went back to the pool)
  assert.equal((await model.run({ X: edgeInput() })).Y.data[1], 1);
  model.dispose();
  await assert.rejects(model.run({ X: edgeInput() }), cp.InvalidStateError);
});

test('the DAG model: every output and symbolic metadata', async () => {
  const model = await cp.Model.create(path.join(DATA, 'onnx-loader', 'dag.onnx'));
  assert.ok(model.inputNames.length >= 1 && model.outputNames.length >= 1);
  const feeds = {};
  for (const m of model.inputMetadata) {
    const shape = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 4));
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[m.name] = new cp.Tensor(Float32Array.from({ length: n }, (_, i) => Math.cos(i)), shape);
  }
  const out = await model.run(feeds);
  assert.deepEqual(Object.keys(out), model.outputNames);
  for (const [name, t] of Object.entries(out)) {
    assert.ok(t.shape.every((d) => Number.isSafeInteger(d) && d > 0), name);
    assert.equal(t.data.length, t.shape.reduce((a, b) => a * b, 1));
  }
  model.dispose();
});

const index = JSON.parse(fs.readFileSync(path.join(DATA, 'onnx-node', 'index.json'), 'utf8'));
const SUPPORTED = new Set(['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalMaxPool', 'GlobalAveragePool', 'GlobalLpPool']);
const TOLERANCE = { test_averagepool_2d_ceil_last_window_starts_on_pad: 1e-4 };

test(`ONNX backend node tests (${index.tests.length})`, async (t) => {
  let ran = 0;
  for (const entry of index.tests) {
    const dir = path.join(DATA, 'onnx-node', entry.name);
    if (!SUPPORTED.has(entry.op)) {
      await assert.rejects(cp.Model.create(path.join(dir, 'model.onnx')), cp.UnsupportedError, entry.name);
      continue;
    }
    await t.test(entry.name, async () => {
      const model = await cp.Model.create(path.join(dir, 'model.onnx'));
      const set = path.join(dir, 'test_data_set_0');
      const feeds = {};
      model.inputNames.forEach((name, i) => {
        const p = readTensorProto(path.join(set, `input_${i}.pb`));
        feeds[name] = new cp.Tensor(p.data, p.dims);
      });
      const out = await model.run(feeds);
      model.outputNames.forEach((name, i) => {
        const want = readTensorProto(path.join(set, `output_${i}.pb`));
        const got = out[name];
        assert.deepEqual(got.shape, want.dims, `${name} shape`);
        if (want.dataType !== 1) {
          assert.deepEqual(got.data, want.data, `${name} values`);
          return;
        }
        const atol = TOLERANCE[entry.name] ?? 1e-7;
        for (let k = 0; k < want.data.length; k++) {
          const w = want.data[k];
          assert.ok(Math.abs(got.data[k] - w) <= atol + 1e-3 * Math.abs(w), `${name}[${k}] = ${got.data[k]}, expected ${w}`);
        }
      });
      model.dispose();
    });
    ran++;
  }
  assert.ok(ran >= 45, `only ${ran} supported node tests ran`);
});
