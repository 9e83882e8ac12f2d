// Type declarations for convpool (libconvpool for Node.js).

export type DType = 'float32' | 'int64' | 'uint8' | 'int8';
export type TensorData = Float32Array | BigInt64Array | Uint8Array | Int8Array;

/** A typed array and its shape. Ops take and return float32 tensors. */
export interface Tensor<D extends TensorData = Float32Array> {
  readonly data: D;
  /** Dims as plain numbers (never BigInt). */
  readonly shape: number[];
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** onnxruntime's name for `shape`. */
  readonly dims: number[];
}
export interface TensorConstructor {
  /** A plain array of numbers is copied into a Float32Array. */
  new (data: number[], shape?: number[]): Tensor<Float32Array>;
  /** `data` is used in place; `shape` defaults to [data.length]. */
  new <D extends TensorData>(data: D, shape?: number[]): Tensor<D>;
  readonly prototype: Tensor<TensorData>;
}
export const Tensor: TensorConstructor;
export type FloatTensor = Tensor<Float32Array>;
/** A Tensor, or any {data, shape} object (wrapped without a copy). */
export type TensorLike<D extends TensorData = Float32Array> = Tensor<D> | { data: D; shape: number[] };
/** Any tensor a model takes or gives (float32, int64, uint8, int8). */
export type AnyTensor = Tensor<Float32Array> | Tensor<BigInt64Array> | Tensor<Uint8Array> | Tensor<Int8Array>;

/** A libconvpool failure: `status` is the convpool_status, `message` the library's detail message. */
export class ConvpoolError extends Error {
  readonly status: number;
  /** convpool_status_string(status), e.g. "shape mismatch". */
  readonly statusText: string;
}
export class InvalidArgumentError extends ConvpoolError {}
export class InvalidAttributeError extends ConvpoolError {}
export class ShapeMismatchError extends ConvpoolError {}
export class SizeOverflowError extends ConvpoolError {}
export class OutOfMemoryError extends ConvpoolError {}
export class BufferTooSmallError extends ConvpoolError {}
export class UnsupportedError extends ConvpoolError {}
export class InvalidModelError extends ConvpoolError {}
export class FileIOError extends ConvpoolError {}
export class NotFoundError extends ConvpoolError {}
export class InvalidStateError extends ConvpoolError {}
export class InternalError extends ConvpoolError {}

export interface RunOptions {
  /** A Float32Array to write the output into (at least the output's element count). */
  out?: Float32Array;
  /** MaxPool only: also return ONNX's whole-tensor int64 Indices (into this array if one is given). */
  indices?: boolean | BigInt64Array;
}
export interface WithIndices {
  output: FloatTensor;
  indices: Tensor<BigInt64Array>;
}

/** A compiled op. Freed by dispose(), or by the garbage collector when forgotten. */
export class Op {
  readonly kind: number;
  readonly spatialRank: number;
  outputShape(inputShape: number[]): number[];
  /** Runs on a worker thread (off the event loop). */
  run(x: TensorLike, opts?: RunOptions): Promise<FloatTensor | WithIndices>;
  /** Runs on the calling thread: for small inputs. */
  runSync(x: TensorLike, opts?: RunOptions): FloatTensor | WithIndices;
  /** Frees the op now (or when its runs in flight end). Idempotent. */
  dispose(): void;
  [Symbol.dispose](): void;
}

export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
/** ONNX attributes, camelCased. pads: all begins, then all ends. */
export interface ConvAttributes {
  bias?: Float32Array | number[] | TensorLike | null;
  kernelShape?: number[];
  strides?: number[];
  dilations?: number[];
  pads?: number[];
  autoPad?: AutoPad | number;
  group?: number;
}
export interface MaxPoolAttributes {
  kernelShape: number[];
  strides?: number[];
  dilations?: number[];
  pads?: number[];
  autoPad?: AutoPad | number;
  ceilMode?: boolean | number;
  /** 0 row-major, 1 column-major Indices. */
  storageOrder?: number;
}
export interface AveragePoolAttributes {
  kernelShape: number[];
  strides?: number[];
  dilations?: number[];
  pads?: number[];
  autoPad?: AutoPad | number;
  ceilMode?: boolean | number;
  countIncludePad?: boolean | number;
}

/** ONNX Conv; weight (M, C/group, k1..kn), n = 1..3. */
export class Conv extends Op {
  constructor(weight: TensorLike, attrs?: ConvAttributes);
  run(x: TensorLike, opts?: RunOptions): Promise<FloatTensor>;
  runSync(x: TensorLike, opts?: RunOptions): FloatTensor;
}
export class MaxPool extends Op {
  constructor(attrs: MaxPoolAttributes);
}
export class AveragePool extends Op {
  constructor(attrs: AveragePoolAttributes);
  run(x: TensorLike, opts?: RunOptions): Promise<FloatTensor>;
  runSync(x: TensorLike, opts?: RunOptions): FloatTensor;
}
export class GlobalMaxPool extends Op {
  constructor(spatialRank?: 1 | 2 | 3);
  run(x: TensorLike, opts?: RunOptions): Promise<FloatTensor>;
  runSync(x: TensorLike, opts?: RunOptions): FloatTensor;
}
export class GlobalAveragePool extends Op {
  constructor(spatialRank?: 1 | 2 | 3);
  run(x: TensorLike, opts?: RunOptions): Promise<FloatTensor>;
  runSync(x: TensorLike, opts?: RunOptions): FloatTensor;
}

// PyTorch's spelling.
export type IntOrInts = number | number[];
export interface ConvOptions {
  bias?: Float32Array | number[] | TensorLike | null;
  stride?: IntOrInts;
  /** An int, one per spatial dim, 'same' (stride 1 only) or 'valid'. */
  padding?: IntOrInts | 'same' | 'valid';
  dilation?: IntOrInts;
  groups?: number;
}
export interface MaxPoolOptions {
  kernelSize: IntOrInts;
  /** Default: kernelSize. */
  stride?: IntOrInts | null;
  padding?: IntOrInts;
  dilation?: IntOrInts;
  ceilMode?: boolean;
  /** Also return int64 indices within each (n, c) plane, as PyTorch does. */
  returnIndices?: boolean;
}
export interface AvgPoolOptions {
  kernelSize: IntOrInts;
  stride?: IntOrInts | null;
  padding?: IntOrInts;
  ceilMode?: boolean;
  /** Default true, as in PyTorch. */
  countIncludePad?: boolean;
}
export class Conv1d extends Conv { constructor(weight: TensorLike, opts?: ConvOptions); }
export class Conv2d extends Conv { constructor(weight: TensorLike, opts?: ConvOptions); }
export class Conv3d extends Conv { constructor(weight: TensorLike, opts?: ConvOptions); }
export class MaxPool1d extends MaxPool { constructor(opts: MaxPoolOptions); readonly returnIndices: boolean; }
export class MaxPool2d extends MaxPool { constructor(opts: MaxPoolOptions); readonly returnIndices: boolean; }
export class MaxPool3d extends MaxPool { constructor(opts: MaxPoolOptions); readonly returnIndices: boolean; }
export class AvgPool1d extends AveragePool { constructor(opts: AvgPoolOptions); }
export class AvgPool2d extends AveragePool { constructor(opts: AvgPoolOptions); }
export class AvgPool3d extends AveragePool { constructor(opts: AvgPoolOptions); }

type MaxPoolResult<O> = O extends { returnIndices: true } ? WithIndices : FloatTensor;

/** One-off functions: compile, run (on a worker thread), free. The *Sync forms run on the calling thread. */
export function conv1d(x: TensorLike, weight: TensorLike, opts?: ConvOptions): Promise<FloatTensor>;
export function conv2d(x: TensorLike, weight: TensorLike, opts?: ConvOptions): Promise<FloatTensor>;
export function conv3d(x: TensorLike, weight: TensorLike, opts?: ConvOptions): Promise<FloatTensor>;
export function conv1dSync(x: TensorLike, weight: TensorLike, opts?: ConvOptions): FloatTensor;
export function conv2dSync(x: TensorLike, weight: TensorLike, opts?: ConvOptions): FloatTensor;
export function conv3dSync(x: TensorLike, weight: TensorLike, opts?: ConvOptions): FloatTensor;
export function maxPool1d<O extends MaxPoolOptions>(x: TensorLike, opts: O): Promise<MaxPoolResult<O>>;
export function maxPool2d<O extends MaxPoolOptions>(x: TensorLike, opts: O): Promise<MaxPoolResult<O>>;
export function maxPool3d<O extends MaxPoolOptions>(x: TensorLike, opts: O): Promise<MaxPoolResult<O>>;
export function maxPool1dSync<O extends MaxPoolOptions>(x: TensorLike, opts: O): MaxPoolResult<O>;
export function maxPool2dSync<O extends MaxPoolOptions>(x: TensorLike, opts: O): MaxPoolResult<O>;
export function maxPool3dSync<O extends MaxPoolOptions>(x: TensorLike, opts: O): MaxPoolResult<O>;
export function avgPool1d(x: TensorLike, opts: AvgPoolOptions): Promise<FloatTensor>;
export function avgPool2d(x: TensorLike, opts: AvgPoolOptions): Promise<FloatTensor>;
export function avgPool3d(x: TensorLike, opts: AvgPoolOptions): Promise<FloatTensor>;
export function avgPool1dSync(x: TensorLike, opts: AvgPoolOptions): FloatTensor;
export function avgPool2dSync(x: TensorLike, opts: AvgPoolOptions): FloatTensor;
export function avgPool3dSync(x: TensorLike, opts: AvgPoolOptions): FloatTensor;
export function globalMaxPool(x: TensorLike): Promise<FloatTensor>;
export function globalAvgPool(x: TensorLike): Promise<FloatTensor>;
export function globalMaxPoolSync(x: TensorLike): FloatTensor;
export function globalAvgPoolSync(x: TensorLike): FloatTensor;
/** 2-D cross-correlation of 2-D X with 2-D K, "valid" (D2L's corr2d). */
export function corr2d(X: TensorLike, K: TensorLike): Promise<FloatTensor>;
export function corr2dSync(X: TensorLike, K: TensorLike): FloatTensor;

export const AUTO_PAD: { NOTSET: 0; SAME_UPPER: 1; SAME_LOWER: 2; VALID: 3 };

export interface ValueMetadata {
  name: string;
  isTensor: true;
  type: DType | string;
  /** Static dims as numbers; a symbolic dim as its name, an unnamed unknown one as -1. */
  shape: (number | string)[];
}
export interface ModelOptions {
  /** Bytes the model may use for weights and intermediates; 0 (default): no limit. */
  memoryLimit?: number;
}
/** A loaded ONNX model, in onnxruntime-node's shape. */
export class Model {
  /** Use Model.create(). */
  private constructor();
  /** Loads on a worker thread. */
  static create(pathOrBuffer: string | Uint8Array, options?: ModelOptions): Promise<Model>;
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly inputMetadata: ValueMetadata[];
  readonly outputMetadata: ValueMetadata[];
  /** Runs on a worker thread; outputs are fresh arrays the caller owns. Runs may overlap. */
  run(feeds: Record<string, AnyTensor | { data: TensorData; shape: number[] }>): Promise<Record<string, AnyTensor>>;
  dispose(): void;
  /** onnxruntime's name for dispose(). */
  release(): Promise<void>;
  [Symbol.dispose](): void;
}

export const libraryVersion: string;
export const libraryPath: string;
export const version: string;
/** How many native objects (ops, models) are alive now: a diagnostic for leaks. */
export function liveHandles(): number;
/** The instruction-set path new ops use ("scalar", "avx2", "avx512"). */
export function isa(): string;
