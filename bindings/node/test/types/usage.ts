// Compiled (not run) by types.test.js with tsc --strict: the declarations in
// index.d.ts must accept the documented uses and reject the wrong ones.
import {
  Tensor, Conv2d, MaxPool, MaxPool2d, AveragePool, GlobalAveragePool, Model, conv2d, maxPool2d,
  maxPool2dSync, avgPool2dSync, corr2d, ConvpoolError, ShapeMismatchError, liveHandles, AnyTensor,
} from '../..';

async function main(): Promise<void> {
  const x = new Tensor(new Float32Array(16), [1, 1, 4, 4]);
  const shape: number[] = x.shape;
  const y: Tensor = await conv2d(x, { data: new Float32Array(9), shape: [1, 1, 3, 3] }, { padding: 'same', groups: 1 });
  const r = await maxPool2d(x, { kernelSize: 2, returnIndices: true });
  const idx: BigInt64Array = r.indices.data;
  const plain: Float32Array = maxPool2dSync(x, { kernelSize: 2 }).data;
  const avg: Tensor<Float32Array> = avgPool2dSync(x, { kernelSize: [2, 2], countIncludePad: false });
  const conv = new Conv2d(new Tensor([1, 2, 3, 4], [1, 1, 2, 2]), { stride: [1, 1], bias: [0.5] });
  const out: Tensor = await conv.run(x, { out: new Float32Array(9) });
  conv.dispose();
  const onnx = new MaxPool({ kernelShape: [2, 2], autoPad: 'SAME_UPPER', storageOrder: 1 });
  const both = onnx.runSync(x, { indices: true });
  void both;
  new AveragePool({ kernelShape: [3, 3], countIncludePad: true }).dispose();
  new GlobalAveragePool(2).dispose();
  new MaxPool2d({ kernelSize: 3, padding: 1, stride: 2 }).dispose();
  const c: Tensor = await corr2d(new Tensor([1, 2, 3, 4], [2, 2]), new Tensor([1], [1, 1]));
  const model = await Model.create('model.onnx', { memoryLimit: 1 << 20 });
  const names: string[] = model.inputNames;
  const dims: (number | string)[] = model.inputMetadata[0].shape;
  const outputs = await model.run({ [names[0]]: x });
  const first: AnyTensor | undefined = outputs[model.outputNames[0]];
  const ints = await model.run({ [names[0]]: new Tensor(new BigInt64Array(4), [4]) });
  void ints;
  await model.release();
  try {
    conv.runSync(x);
  } catch (e) {
    if (e instanceof ShapeMismatchError) {
      const s: number = e.status;
      const t: string = e.statusText;
      void s, t;
    } else if (e instanceof ConvpoolError) {
      throw e;
    }
  }
  const n: number = liveHandles();
  // @ts-expect-error: options are an object, not positional numbers
  await maxPool2d(x, 2);
  // @ts-expect-error: a Model is created with Model.create, not new
  void new Model();
  // @ts-expect-error: ops take float32 tensors only
  await conv2d(new Tensor(new BigInt64Array(4), [1, 1, 2, 2]), x);
  void shape, y, idx, plain, avg, out, c, dims, first, n;
}
void main;
