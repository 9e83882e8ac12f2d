#!/usr/bin/env node
// ONNX Runtime's side of the whole-model benchmark (run by models.py): for each DIR/<name>.onnx,
// the median wall time of onnxruntime-node's session.run() (CPU, graph optimisations 'all',
// sequential, intraOpNumThreads = --threads) over at least --min-time seconds after 5 warm-up runs,
// printed as a JSON line; its output is saved as OUT/<name>.ort.npy for the accuracy check.
// With --profile PDIR, a second session with ONNX Runtime's profiler on then runs as long again
// and writes its per-node times (Chrome trace JSON) as PDIR/<name>.t<threads>_<date>.json.
//   node ort_models.js --models DIR --out OUT --threads 1 [--min-time 1] [--profile PDIR] name...
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const args = process.argv.slice(2);
function opt(name, dflt) {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
}
const modelsDir = opt('--models', null);
const outDir = opt('--out', null);
const threads = Number(opt('--threads', '1'));
const minTime = Number(opt('--min-time', '1'));
const profileDir = opt('--profile', null);
if (!modelsDir || !outDir || !args.length || !(threads >= 1)) {
  console.error('usage: node ort_models.js --models DIR --out OUT --threads T [--min-time S] name...');
  process.exit(2);
}

// Reads a float32 little-endian C-order .npy file (the generator's input) into a tensor.
function readNpy(file) {
  const b = fs.readFileSync(file);
  const hl = b.readUInt16LE(8);
  const h = b.toString('latin1', 10, 10 + hl);
  if (!h.includes("'descr': '<f4'") || h.includes("'fortran_order': True"))
    throw new Error(`${file}: not a little-endian float32 C-order array`);
  const shape = h.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hl, b.byteOffset + b.length));
  return new ort.Tensor('float32', data, shape);
}

// Writes a float32 tensor as a version 1.0 .npy file.
function writeNpy(file, t) {
  const dims = t.dims.length === 1 ? `${t.dims[0]},` : t.dims.join(', ');
  let h = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  h += ' '.repeat(63 - ((10 + h.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(h.length, 8);
  const body = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(h, 'latin1'), body]));
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function createSession(file, profilePrefix) {
  const options = {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential', logSeverityLevel: 3,
  };
  if (profilePrefix) Object.assign(options, { enableProfiling: true, profileFilePrefix: profilePrefix });
  return ort.InferenceSession.create(file, options);
}

// Runs 5 warm-up runs, then timed runs for at least minTime s (and 10 runs); sorted times in ms.
async function timeRuns(session, feeds) {
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const times = [];
  const t0 = nowMs();
  while (nowMs() - t0 < minTime * 1000 || times.length < 10) {
    const a = nowMs();
    await session.run(feeds);
    times.push(nowMs() - a);
  }
  return times.sort((x, y) => x - y);
}

(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  for (const name of args) {
    const file = path.join(modelsDir, name + '.onnx');
    const session = await createSession(file, null);
    const feeds = { [session.inputNames[0]]: readNpy(path.join(modelsDir, name + '.x.npy')) };
    const out = await session.run(feeds);
    const times = await timeRuns(session, feeds);
    const y = out[session.outputNames[0]];
    writeNpy(path.join(outDir, name + '.ort.npy'), y);
    console.log(JSON.stringify({
      model: name, threads, runs: times.length, median_ms: times[times.length >> 1],
      min_ms: times[0], shape: y.dims, ort: ort.env.versions ? ort.env.versions.common : undefined,
    }));
    await session.release();
    if (profileDir) {
      fs.mkdirSync(profileDir, { recursive: true });
      const profiled = await createSession(file, path.join(profileDir, `${name}.t${threads}`));
      await timeRuns(profiled, feeds);
      profiled.endProfiling();
      await profiled.release();
    }
  }
})().catch((e) => {
  console.error(`ort_models.js: ${e.message}`);
  process.exit(1);
});
