'use strict';
// Native handle ownership shared by ops and models: dispose() frees at once
// (or, when async runs are in flight, as soon as the last one returns), and
// a FinalizationRegistry frees what the user forgot. The registry's held
// value is a plain record without a reference back to the JS object, so the
// object can be collected; an object is reachable for as long as one of its
// async runs is in flight (the run's closure holds it), so a finaliser never
// frees a handle in use.
const registry = new FinalizationRegistry((record) => record.free());
let live = 0; // native objects created and not yet freed

/** How many native objects (ops, models) are alive: a diagnostic for leaks. */
function liveHandles() {
  return live;
}

class HandleRecord {
  constructor(handle, destroy) {
    this.handle = handle;
    this.destroy = destroy;
    live++;
  }

  free() {
    if (this.handle !== null) {
      const h = this.handle;
      this.handle = null;
      live--;
      this.destroy(h);
    }
  }
}

class Disposable {
  constructor(handle, destroy) {
    this._record = new HandleRecord(handle, destroy);
    this._inflight = 0;
    this._disposed = false;
    registry.register(this, this._record, this);
  }

  /** The live handle; throws once disposed. */
  _handle(what) {
    if (this._disposed) {
      const { InvalidStateError } = require('./errors');
      throw new InvalidStateError(`${what}: the ${this.constructor.name} has been disposed`);
    }
    return this._record.handle;
  }

  /** Runs `start()` (a promise) with the handle kept alive until it settles. */
  async _inUse(start) {
    this._inflight++;
    try {
      return await start();
    } finally {
      if (--this._inflight === 0 && this._disposed) this._record.free();
    }
  }

  /** Frees the native object now, or when the async runs in flight end. */
  dispose() {
    if (this._disposed) return;
    this._disposed = true;
    registry.unregister(this);
    if (this._inflight === 0) this._record.free();
  }

  [Symbol.dispose]() {
    this.dispose();
  }
}

module.exports = { Disposable, liveHandles };
