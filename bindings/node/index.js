'use strict';
// convpool: ONNX Conv and pooling (libconvpool) for Node.js, over koffi.
const native = require('./lib/native');
const errors = require('./lib/errors');
const { Tensor } = require('./lib/tensor');
const ops = require('./lib/ops');
const { Model } = require('./lib/model');
const { liveHandles } = require('./lib/handle');
const { C } = native;

// the error classes only, not the helpers errors.js shares with lib/
const errorClasses = Object.fromEntries(Object.entries(errors).filter(
  ([name, value]) => typeof value === 'function' && /Error$/.test(name) && value.prototype instanceof Error));

module.exports = {
  ...errorClasses,
  ...ops,
  Tensor,
  Model,
  /** The loaded library's version, e.g. "1.1.0". */
  libraryVersion: native.libraryVersion,
  /** The path or name the library was loaded from. */
  libraryPath: native.libraryPath,
  version: native.PACKAGE_VERSION,
  liveHandles,
  /** The instruction-set path new ops use ("avx2"). */
  isa: () => C.convpool_isa_name(C.convpool_isa_active()),
};
