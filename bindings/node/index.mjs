// ESM entry point: the same objects as the CommonJS one.
import { createRequire } from 'node:module';

const convpool = createRequire(import.meta.url)('./index.js');
export default convpool;
export const {
  ConvpoolError, InvalidArgumentError, InvalidAttributeError, ShapeMismatchError, SizeOverflowError,
  OutOfMemoryError, BufferTooSmallError, UnsupportedError, InvalidModelError, FileIOError, NotFoundError,
  InvalidStateError, InternalError,
  Op, Conv, MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool,
  Conv1d, Conv2d, Conv3d, MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d,
  conv1d, conv2d, conv3d, maxPool1d, maxPool2d, maxPool3d, avgPool1d, avgPool2d, avgPool3d,
  conv1dSync, conv2dSync, conv3dSync, maxPool1dSync, maxPool2dSync, maxPool3dSync,
  avgPool1dSync, avgPool2dSync, avgPool3dSync,
  globalMaxPool, globalAvgPool, globalMaxPoolSync, globalAvgPoolSync, corr2d, corr2dSync,
  AUTO_PAD, Tensor, Model, libraryVersion, libraryPath, version, isa, liveHandles,
} = convpool;
