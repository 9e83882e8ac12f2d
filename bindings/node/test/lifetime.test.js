'use strict';
// Native memory: disposal, the FinalizationRegistry for forgotten objects,
// and no leak over 10,000 create/run/dispose cycles (RSS stays flat).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const cp = require('..');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

async function collect() {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r)); // finalisers run between turns
  }
}

const EDGE = path.resolve(__dirname, '..', '..', '..', 'tests', 'data', 'models', 'edge_detector.onnx');
// a 16 -> 16 channel 3x3 Conv: 9 KiB of weights (more packed), so that a
// leaked op would show in RSS within a few thousand cycles
const weight = new cp.Tensor(Float32Array.from({ length: 16 * 16 * 9 }, (_, i) => (i % 7) - 3), [16, 16, 3, 3]);
const x = new cp.Tensor(new Float32Array(16 * 8 * 8).fill(1), [1, 16, 8, 8]);

function cycleSync() {
  const conv = new cp.Conv2d(weight, { padding: 1, bias: new Float32Array(16) });
  const y = conv.runSync(x);
  conv.dispose();
  return y;
}

test('forgotten ops and models are freed by the garbage collector', async () => {
  await collect();
  const before = cp.liveHandles();
  (() => {
    for (let i = 0; i < 200; i++) new cp.MaxPool2d({ kernelSize: 2 }).runSync(x);
  })();
  await cp.Model.create(EDGE); // dropped at once
  assert.ok(cp.liveHandles() >= before + 200);
  await collect();
  assert.equal(cp.liveHandles(), before);
});

test('dispose() during an async run frees the op when the run ends', async () => {
  const before = cp.liveHandles();
  const conv = new cp.Conv2d(weight, { padding: 1 });
  const run = conv.run(x);
  conv.dispose();
  assert.equal(cp.liveHandles(), before + 1); // still running
  const y = await run;
  // an interior output of channel 0 sums that channel's 144 weights
  const want = weight.data.subarray(0, 144).reduce((a, b) => a + b, 0);
  assert.equal(y.data[1 * 8 + 1], want);
  assert.equal(cp.liveHandles(), before);
});

test('10,000 create/run/dispose cycles keep RSS flat', async () => {
  for (let i = 0; i < 1000; i++) cycleSync(); // warm up allocators and JIT
  await collect();
  const rss0 = process.memoryUsage().rss;
  const live0 = cp.liveHandles();
  for (let i = 0; i < 10000; i++) {
    if (i % 10 === 9) {
      const conv = new cp.Conv2d(weight, { padding: 1 });
      await conv.run(x);
      conv.dispose();
    } else {
      cycleSync();
    }
  }
  const model = await cp.Model.create(EDGE); // and model cycles (sessions too)
  model.dispose();
  for (let i = 0; i < 500; i++) {
    const m = await cp.Model.create(EDGE);
    await m.run({ X: new cp.Tensor(new Float32Array(48).fill(1), [1, 1, 6, 8]) });
    m.dispose();
  }
  await collect();
  const grown = process.memoryUsage().rss - rss0;
  const mib = (grown / 1048576).toFixed(1);
  console.log(`# RSS after 10,000 op cycles and 500 model cycles: ${mib} MiB more than after warm-up`);
  assert.equal(cp.liveHandles(), live0);
  // a leaked op would cost > 9 KiB per cycle: > 90 MiB over the loop
  assert.ok(grown < 16 * 1048576, `RSS grew by ${mib} MiB`);
});
