'use strict';
// Model: a loaded ONNX model in onnxruntime-node's shape.
//   const model = await Model.create('model.onnx');      // or a Buffer
//   model.inputNames, model.outputNames, model.inputMetadata, model.outputMetadata
//   const { Y } = await model.run({ X: new Tensor(data, [1, 1, 28, 28]) });
// Each run takes a session from a pool (one per concurrent run: a session
// serves one run at a time), binds the inputs in place, allocates each output
// as a JS typed array that the library writes into (so no run ever returns a
// view of session memory that a later run overwrites), and runs the graph on
// a worker thread.
const { C } = require('./native');
const { check, argumentError, callAsync } = require('./errors');
const { Tensor, asTensor, toNumbers, int64s, product, DTYPES, BY_CODE } = require('./tensor');
const { Disposable } = require('./handle');

const MAX_RANK = 16;

function readMetadata(handle, count, nameFn, infoFn, dimNameFn) {
  const list = [];
  for (let i = 0; i < count; i++) {
    const dtype = [0];
    const rank = [0];
    const dims = new BigInt64Array(MAX_RANK);
    check(infoFn(handle, i, dtype, rank, dims, dims.length));
    const shape = toNumbers(dims, Number(rank[0]), nameFn(handle, i)).map((d, k) =>
      d >= 0 ? d : (dimNameFn(handle, i, k) ?? -1));
    const type = BY_CODE.has(dtype[0]) ? BY_CODE.get(dtype[0])[0] : `dtype ${dtype[0]}`;
    list.push({ name: nameFn(handle, i), isTensor: true, type, shape });
  }
  return list;
}

function destroySession(handle) {
  C.convpool_session_destroy(handle);
}

class Model extends Disposable {
  constructor(handle) {
    // The model may only be destroyed after its sessions: the record's
    // destroy frees the pooled sessions first.
    const sessions = [];
    super(handle, (h) => {
      for (const s of sessions.splice(0)) destroySession(s);
      C.convpool_model_destroy(h);
    });
    this._idle = sessions;
    this.inputMetadata = readMetadata(handle, Number(C.convpool_model_input_count(handle)),
                                      C.convpool_model_input_name, C.convpool_model_input_info,
                                      C.convpool_model_input_dim_name);
    this.outputMetadata = readMetadata(handle, Number(C.convpool_model_output_count(handle)),
                                       C.convpool_model_output_name, C.convpool_model_output_info,
                                       C.convpool_model_output_dim_name);
    this.inputNames = this.inputMetadata.map((m) => m.name);
    this.outputNames = this.outputMetadata.map((m) => m.name);
  }

  /**
   * Loads a model from a file path or from its bytes (a Buffer / Uint8Array),
   * on a worker thread. options.memoryLimit: bytes the model may use (0: none).
   */
  static async create(pathOrBuffer, options = {}) {
    const limit = options.memoryLimit ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw argumentError(`memoryLimit = ${String(limit)}: expected an integer >= 0`);
    }
    const out = [null];
    if (typeof pathOrBuffer === 'string') {
      await callAsync(C.convpool_model_load_file_msg, [pathOrBuffer, limit, out]);
    } else if (pathOrBuffer instanceof Uint8Array) {
      await callAsync(C.convpool_model_load_memory_msg,
                      [pathOrBuffer, pathOrBuffer.length, limit, out], pathOrBuffer);
    } else {
      throw argumentError(`Model.create: expected a path or a Buffer/Uint8Array, got ${typeof pathOrBuffer}`);
    }
    return new Model(out[0]);
  }

  _acquire() {
    const model = this._handle('run');
    if (this._idle.length) return this._idle.pop();
    const out = [null];
    check(C.convpool_session_create(model, out));
    return out[0];
  }

  _release(session) {
    if (this._disposed) destroySession(session);
    else this._idle.push(session);
  }

  /** Binds `feeds` and allocates the outputs on `session`; returns them. */
  _bind(session, feeds) {
    if (!feeds || typeof feeds !== 'object') throw argumentError('run: feeds must be an object {inputName: tensor}');
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name)) {
        throw argumentError(`run: '${name}' is not an input of the model (inputs: ${this.inputNames.join(', ')})`);
      }
    }
    const keep = [];
    this.inputNames.forEach((name, i) => {
      if (!(name in feeds)) throw argumentError(`run: input '${name}' is missing from feeds`);
      const t = asTensor(feeds[name], `run input '${name}'`);
      keep.push(t);
      check(C.convpool_session_set_input(session, i, DTYPES[t.dtype][0], int64s(t.shape), t.shape.length, t.data));
    });
    const outputs = this.outputNames.map((name, i) => {
      const dtype = [0];
      const rank = [0];
      const dims = new BigInt64Array(MAX_RANK);
      check(C.convpool_session_output_shape(session, i, dtype, rank, dims, dims.length));
      const shape = toNumbers(dims, Number(rank[0]), `output '${name}'`);
      const Array_ = BY_CODE.get(dtype[0])[1];
      const data = new Array_(product(shape));
      check(C.convpool_session_set_output(session, i, data, data.byteLength));
      return [name, new Tensor(data, shape)];
    });
    keep.push(outputs);
    return { outputs, keep };
  }

  /** Returns output buffers to the session's own memory (unborrows them). */
  _unbind(session) {
    this.outputNames.forEach((_, i) => C.convpool_session_set_output(session, i, null, 0));
  }

  /**
   * Runs the model on `feeds` ({inputName: Tensor}) on a worker thread and
   * resolves with {outputName: Tensor}, each output a fresh typed array the
   * caller owns. Runs may overlap: each takes its own session.
   */
  run(feeds) {
    return this._inUse(async () => {
      const session = this._acquire();
      try {
        const { outputs, keep } = this._bind(session, feeds);
        await callAsync(C.convpool_session_run_msg, [session, null], keep);
        return Object.fromEntries(outputs);
      } finally {
        this._unbind(session);
        this._release(session);
      }
    });
  }

  /** onnxruntime's name for dispose(). */
  release() {
    this.dispose();
    return Promise.resolve();
  }
}

module.exports = { Model };
