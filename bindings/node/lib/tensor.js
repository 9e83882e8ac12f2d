'use strict';
// Tensor: a typed array and its shape (dims as plain numbers), the value
// every op, function and Model takes and returns.
const { argumentError } = require('./errors');

const DTYPES = {
  // name: [convpool_dtype code, typed array]
  float32: [1, Float32Array],
  uint8: [2, Uint8Array],
  int8: [3, Int8Array],
  int64: [7, BigInt64Array],
};
const BY_CODE = new Map(Object.entries(DTYPES).map(([name, [code, Array_]]) => [code, [name, Array_]]));

function dtypeOf(data) {
  for (const [name, [, Array_]] of Object.entries(DTYPES)) {
    if (data instanceof Array_) return name;
  }
  return null;
}

function checkShape(shape, what) {
  if (!Array.isArray(shape)) throw argumentError(`${what}: shape must be an array of dims, got ${typeof shape}`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw argumentError(`${what}: shape [${shape.join(', ')}] has dim ${String(d)}; dims are integers >= 0`);
    }
  }
  return shape.slice();
}

function product(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

class Tensor {
  /**
   * new Tensor(data, shape): `data` a Float32Array (or, for model inputs and
   * outputs, a BigInt64Array, Uint8Array or Int8Array) used in place, or a
   * plain array of numbers (copied into a Float32Array); `shape` an array of
   * dims whose product is data.length.
   */
  constructor(data, shape) {
    if (Array.isArray(data)) data = Float32Array.from(data);
    const dtype = dtypeOf(data);
    if (!dtype) {
      throw argumentError('Tensor: data must be a Float32Array, BigInt64Array, Uint8Array, Int8Array ' +
                          `or an array of numbers, got ${data && data.constructor ? data.constructor.name : typeof data}`);
    }
    if (shape === undefined) shape = [data.length];
    shape = checkShape(shape, 'Tensor');
    if (product(shape) !== data.length) {
      throw argumentError(`Tensor: shape [${shape.join(', ')}] holds ${product(shape)} elements ` +
                          `but data has ${data.length}`);
    }
    this.data = data;
    this.shape = shape;
    this.dtype = dtype;
  }

  get size() {
    return this.data.length;
  }

  get dims() {
    // onnxruntime's spelling
    return this.shape;
  }
}

/** `x` as a Tensor: a Tensor as is, a {data, shape} object wrapped (no copy). */
function asTensor(x, what) {
  if (x instanceof Tensor) return x;
  if (x && typeof x === 'object' && 'data' in x && 'shape' in x) return new Tensor(x.data, x.shape);
  throw argumentError(`${what}: expected a Tensor or {data, shape}, got ${x === null ? 'null' : Array.isArray(x) ? 'a plain array' : typeof x}`);
}

/** A float32 Tensor, for op inputs and weights. */
function asFloatTensor(x, what) {
  const t = asTensor(x, what);
  if (t.dtype !== 'float32') throw argumentError(`${what}: expected float32 data, got ${t.dtype}`);
  return t;
}

/** int64 dims from the library as numbers; a dim beyond 2^53 cannot be one. */
function toNumbers(dims, count, what) {
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const v = dims[i];
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new RangeError(`${what}: dim ${i} = ${v} is not a safe integer`);
    }
    out[i] = Number(v);
  }
  return out;
}

function int64s(values) {
  return BigInt64Array.from(values, (v) => BigInt(v));
}

module.exports = { Tensor, asTensor, asFloatTensor, toNumbers, int64s, product, DTYPES, BY_CODE };
