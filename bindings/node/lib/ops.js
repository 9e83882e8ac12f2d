'use strict';
// Ops: compiled convpool_op handles, at the ONNX level (Conv, MaxPool,
// AveragePool, GlobalMaxPool, GlobalAveragePool: every attribute, ONNX
// names in camelCase) and in PyTorch's spelling (Conv1d..3d, MaxPool1d..3d,
// AvgPool1d..3d), and the functions built on them.
const { C } = require('./native');
const { check, argumentError, attributeError, callAsync, callSync } = require('./errors');
const { Tensor, asFloatTensor, toNumbers, int64s, product } = require('./tensor');
const { Disposable } = require('./handle');

const KIND = { Conv: 1, MaxPool: 2, AveragePool: 3, GlobalMaxPool: 4, GlobalAveragePool: 5 };
const ATTR = {
  kernelShape: [1, 'ints'],
  strides: [2, 'ints'],
  dilations: [3, 'ints'],
  pads: [4, 'ints'],
  autoPad: [5, 'int'],
  group: [6, 'int'],
  ceilMode: [7, 'int'],
  countIncludePad: [8, 'int'],
  storageOrder: [9, 'int'],
};
const AUTO_PAD = { NOTSET: 0, SAME_UPPER: 1, SAME_LOWER: 2, VALID: 3 };

function scalarValue(name, value) {
  if (name === 'autoPad' && typeof value === 'string') {
    if (!(value in AUTO_PAD)) {
      throw attributeError(`autoPad = '${value}': expected one of ${Object.keys(AUTO_PAD).join(', ')}`);
    }
    return AUTO_PAD[value];
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (!Number.isSafeInteger(value)) throw attributeError(`${name} = ${String(value)}: expected an integer`);
  return value;
}

/** A descriptor with `attrs` set (every name checked), freed on return. */
function withDesc(kind, rank, attrs, use) {
  const out = [null];
  check(C.convpool_desc_create(kind, rank, out));
  const desc = out[0];
  try {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined) continue;
      const entry = ATTR[name];
      if (!entry) {
        throw attributeError(`unknown attribute '${name}'; known: ${Object.keys(ATTR).join(', ')}`);
      }
      const [key, type] = entry;
      if (type === 'ints') {
        if (!Array.isArray(value) || !value.every(Number.isSafeInteger)) {
          throw attributeError(`${name} = ${JSON.stringify(value)}: expected an array of integers`);
        }
        check(C.convpool_desc_set_ints(desc, key, int64s(value), value.length));
      } else {
        check(C.convpool_desc_set_int(desc, key, scalarValue(name, value)));
      }
    }
    return use(desc);
  } finally {
    C.convpool_desc_destroy(desc);
  }
}

function spatialRankOf(name, rank, attrs) {
  if (rank !== undefined) return rank;
  for (const key of ['kernelShape', 'strides', 'dilations']) {
    if (Array.isArray(attrs[key])) return attrs[key].length;
  }
  if (Array.isArray(attrs.pads)) return attrs.pads.length / 2;
  throw argumentError(`${name}: give kernelShape (or the spatial rank) to know the number of spatial dims`);
}

class Op extends Disposable {
  constructor(handle, kind, rank) {
    super(handle, C.convpool_op_destroy);
    this.kind = kind;
    this.spatialRank = rank;
  }

  /** Output shape (plain numbers) for an input shape. */
  outputShape(inputShape) {
    const handle = this._handle('outputShape');
    const out = new BigInt64Array(inputShape.length);
    check(C.convpool_op_output_shape(handle, int64s(inputShape), inputShape.length, out, out.length));
    return toNumbers(out, out.length, 'outputShape');
  }

  _prepare(x, opts) {
    const t = asFloatTensor(x, `${this.constructor.name}.run input`);
    if (t.shape.length !== this.spatialRank + 2) {
      throw argumentError(`${this.constructor.name}.run: expected a rank-${this.spatialRank + 2} (N, C, ...) ` +
                          `input, got shape [${t.shape.join(', ')}]`);
    }
    const shape = this.outputShape(t.shape);
    const n = product(shape);
    let y = opts.out;
    if (y === undefined) y = new Float32Array(n);
    else if (!(y instanceof Float32Array) || y.length < n) {
      throw argumentError(`out: expected a Float32Array of at least ${n} elements for output shape ` +
                          `[${shape.join(', ')}]`);
    }
    let idx = null;
    if (opts.indices) {
      if (this.kind !== KIND.MaxPool) throw argumentError('indices: only MaxPool has an Indices output');
      idx = opts.indices instanceof BigInt64Array ? opts.indices : new BigInt64Array(n);
      if (idx.length < n) throw argumentError(`indices: a BigInt64Array of ${idx.length} < ${n} elements`);
    }
    const args = [this._record.handle, null, int64s(t.shape), t.shape.length, t.data, y, y.length, idx, null, 0];
    const result = () => {
      const out = new Tensor(y.length === n ? y : y.subarray(0, n), shape);
      return idx ? { output: out, indices: new Tensor(idx.length === n ? idx : idx.subarray(0, n), shape) } : out;
    };
    return { args, result, keep: [t, y, idx] };
  }

  /**
   * Runs on the calling (event-loop) thread: for small inputs. Returns the
   * output Tensor, or {output, indices} with opts.indices (MaxPool: ONNX's
   * whole-tensor int64 Indices, in opts.indices if it is a BigInt64Array).
   * opts.out: a Float32Array to write the output into.
   */
  runSync(x, opts = {}) {
    this._handle('runSync');
    const { args, result } = this._prepare(x, opts);
    callSync(C.convpool_op_run_msg, args);
    return result();
  }

  /** As runSync, on a worker thread: resolves when the run is done. */
  run(x, opts = {}) {
    try {
      this._handle('run');
      const { args, result, keep } = this._prepare(x, opts);
      return this._inUse(() => callAsync(C.convpool_op_run_msg, args, keep).then(result));
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

function createPool(kind, name, attrs, rank) {
  rank = spatialRankOf(name, rank, attrs);
  const out = [null];
  withDesc(kind, rank, attrs, (desc) => check(C.convpool_pool_create(desc, out)));
  return [out[0], rank];
}

/** ONNX Conv: new Conv(weight, {bias, kernelShape, strides, pads, dilations, autoPad, group}). */
class Conv extends Op {
  constructor(weight, attrs = {}) {
    const w = asFloatTensor(weight, 'Conv weight');
    const { bias, ...rest } = attrs;
    const rank = w.shape.length - 2;
    if (rank < 1 || rank > 3) {
      throw argumentError(`Conv weight: expected shape (M, C/group, k1..kn) with n = 1..3, got [${w.shape.join(', ')}]`);
    }
    let b = null;
    if (bias !== undefined && bias !== null) {
      if (Array.isArray(bias)) b = Float32Array.from(bias);
      else b = bias instanceof Float32Array ? bias : asFloatTensor(bias, 'Conv bias').data;
      if (b.length !== w.shape[0]) {
        throw argumentError(`Conv bias: expected ${w.shape[0]} values (one per output channel), got ${b.length}`);
      }
    }
    const out = [null];
    withDesc(KIND.Conv, rank, rest, (desc) =>
      check(C.convpool_conv_create(desc, int64s(w.shape), w.shape.length, w.data, b, out)));
    super(out[0], KIND.Conv, rank);
  }
}

/** ONNX MaxPool: {kernelShape, strides, pads, dilations, autoPad, ceilMode, storageOrder}. */
class MaxPool extends Op {
  constructor(attrs) {
    const [h, rank] = createPool(KIND.MaxPool, 'MaxPool', attrs);
    super(h, KIND.MaxPool, rank);
  }
}

/** ONNX AveragePool: {kernelShape, strides, pads, dilations, autoPad, ceilMode, countIncludePad}. */
class AveragePool extends Op {
  constructor(attrs) {
    const [h, rank] = createPool(KIND.AveragePool, 'AveragePool', attrs);
    super(h, KIND.AveragePool, rank);
  }
}

/** ONNX GlobalMaxPool over `rank` spatial dims (default 2). */
class GlobalMaxPool extends Op {
  constructor(rank = 2) {
    const [h] = createPool(KIND.GlobalMaxPool, 'GlobalMaxPool', {}, rank);
    super(h, KIND.GlobalMaxPool, rank);
  }
}

/** ONNX GlobalAveragePool over `rank` spatial dims (default 2). */
class GlobalAveragePool extends Op {
  constructor(rank = 2) {
    const [h] = createPool(KIND.GlobalAveragePool, 'GlobalAveragePool', {}, rank);
    super(h, KIND.GlobalAveragePool, rank);
  }
}

// ---------------------------------------------------------------- PyTorch spelling

/** PyTorch's int-or-tuple argument as `n` ints, with an error naming it. */
function ntuple(value, n, name) {
  if (Number.isSafeInteger(value)) return new Array(n).fill(value);
  if (Array.isArray(value) && value.length === 1 && n > 1 && Number.isSafeInteger(value[0])) {
    return new Array(n).fill(value[0]);
  }
  if (Array.isArray(value) && value.length === n && value.every(Number.isSafeInteger)) return value.slice();
  throw attributeError(`${name} = ${JSON.stringify(value)}: expected an integer or ${n} integers`);
}

function convPads(padding, kernel, stride, dilation, rank) {
  if (typeof padding === 'string') {
    if (padding === 'valid') return new Array(2 * rank).fill(0);
    if (padding === 'same') {
      if (stride.some((s) => s !== 1)) {
        throw attributeError(`padding='same' is not supported for strided convolutions (stride = [${stride}])`);
      }
      // PyTorch pads d*(k-1) in all, the odd one at the end.
      const total = kernel.map((k, i) => dilation[i] * (k - 1));
      return [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))];
    }
    throw attributeError(`padding = '${padding}': expected 'same', 'valid', an integer or ${rank} integers`);
  }
  const p = ntuple(padding, rank, 'padding');
  return [...p, ...p];
}

function torchConvAttrs(rank, wShape, { bias, stride = 1, padding = 0, dilation = 1, groups = 1 } = {}) {
  const strides = ntuple(stride, rank, 'stride');
  const dilations = ntuple(dilation, rank, 'dilation');
  const kernel = wShape.slice(2);
  return { bias, strides, dilations, pads: convPads(padding, kernel, strides, dilations, rank), group: groups };
}

function poolGeometry(rank, kernelSize, stride, padding) {
  const kernel = ntuple(kernelSize, rank, 'kernelSize');
  const strides = stride === undefined || stride === null ? kernel : ntuple(stride, rank, 'stride');
  const pads = ntuple(padding, rank, 'padding');
  pads.forEach((p, i) => {
    // PyTorch's rule; it also guarantees that no window is all padding
    if (p > Math.floor(kernel[i] / 2)) {
      throw attributeError(`padding = [${pads}]: pad should be at most half of kernel size [${kernel}]`);
    }
  });
  return { kernelShape: kernel, strides, pads: [...pads, ...pads] };
}

function makeConvNd(rank) {
  return class extends Conv {
    /** As torch.nn.ConvNd from weights: new Conv2d(weight, {bias, stride, padding, dilation, groups}). */
    constructor(weight, opts = {}) {
      const w = asFloatTensor(weight, `Conv${rank}d weight`);
      if (w.shape.length !== rank + 2) {
        throw argumentError(`Conv${rank}d weight: expected rank ${rank + 2}, got shape [${w.shape.join(', ')}]`);
      }
      super(w, torchConvAttrs(rank, w.shape, opts));
    }
  };
}

/** PyTorch-style max pool; indices (with returnIndices) are per (n, c) plane, as PyTorch gives them. */
function makeMaxPoolNd(rank) {
  return class extends MaxPool {
    constructor({ kernelSize, stride, padding = 0, dilation = 1, ceilMode = false, returnIndices = false } = {}) {
      super({ ...poolGeometry(rank, kernelSize, stride, padding), dilations: ntuple(dilation, rank, 'dilation'),
              ceilMode });
      this.returnIndices = returnIndices;
    }

    _planeIndices(x, r) {
      if (!this.returnIndices) return r;
      const plane = BigInt(product(asFloatTensor(x, 'input').shape.slice(2)));
      const idx = r.indices.data;
      for (let i = 0; i < idx.length; i++) idx[i] %= plane;
      return r;
    }

    runSync(x, opts = {}) {
      return this._planeIndices(x, super.runSync(x, { indices: this.returnIndices, ...opts }));
    }

    run(x, opts = {}) {
      return super.run(x, { indices: this.returnIndices, ...opts }).then((r) => this._planeIndices(x, r));
    }
  };
}

function makeAvgPoolNd(rank) {
  return class extends AveragePool {
    constructor({ kernelSize, stride, padding = 0, ceilMode = false, countIncludePad = true } = {}) {
      super({ ...poolGeometry(rank, kernelSize, stride, padding), ceilMode, countIncludePad });
    }
  };
}

const classes = { Op, Conv, MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool };
for (const rank of [1, 2, 3]) {
  for (const [family, make] of [['Conv', makeConvNd], ['MaxPool', makeMaxPoolNd], ['AvgPool', makeAvgPoolNd]]) {
    const cls = make(rank);
    Object.defineProperty(cls, 'name', { value: `${family}${rank}d` });
    classes[`${family}${rank}d`] = cls;
  }
}

// ---------------------------------------------------------------- functions

/** A function that compiles a one-off op, runs it and frees it (async and Sync forms). */
function oneOff(make) {
  const sync = (x, ...rest) => {
    const op = make(x, ...rest);
    try {
      return op.runSync(x);
    } finally {
      op.dispose();
    }
  };
  const async = async (x, ...rest) => {
    const op = make(x, ...rest);
    try {
      return await op.run(x);
    } finally {
      op.dispose();
    }
  };
  return [async, sync];
}

const functions = {};
function define(name, make) {
  const [async, sync] = oneOff(make);
  functions[name] = async;
  functions[name + 'Sync'] = sync;
}
for (const rank of [1, 2, 3]) {
  define(`conv${rank}d`, (x, weight, opts) => new classes[`Conv${rank}d`](weight, opts));
  define(`maxPool${rank}d`, (x, opts) => new classes[`MaxPool${rank}d`](opts));
  define(`avgPool${rank}d`, (x, opts) => new classes[`AvgPool${rank}d`](opts));
}
const spatialRank = (x, what) => {
  const r = asFloatTensor(x, what).shape.length - 2;
  if (r < 1 || r > 3) throw argumentError(`${what}: expected a rank-3, 4 or 5 (N, C, ...) input`);
  return r;
};
define('globalMaxPool', (x) => new GlobalMaxPool(spatialRank(x, 'globalMaxPool')));
define('globalAvgPool', (x) => new GlobalAveragePool(spatialRank(x, 'globalAvgPool')));

/** D2L's corr2d: 2-D cross-correlation of 2-D X with 2-D K ("valid"). */
function corr2dArgs(X, K) {
  const x = asFloatTensor(X, 'corr2d X');
  const k = asFloatTensor(K, 'corr2d K');
  if (x.shape.length !== 2 || k.shape.length !== 2) {
    throw argumentError(`corr2d: X and K must be 2-D, got shapes [${x.shape}] and [${k.shape}]`);
  }
  return [new Tensor(x.data, [1, 1, ...x.shape]), new Tensor(k.data, [1, 1, ...k.shape])];
}
const squeeze2 = (t) => new Tensor(t.data, t.shape.slice(2));
functions.corr2d = async (X, K) => squeeze2(await functions.conv2d(...corr2dArgs(X, K)));
functions.corr2dSync = (X, K) => squeeze2(functions.conv2dSync(...corr2dArgs(X, K)));

module.exports = { ...classes, ...functions, AUTO_PAD };
