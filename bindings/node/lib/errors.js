'use strict';
// ConvpoolError and one subclass per convpool_status, and the two ways a
// failure's message is read: from the thread-local convpool_last_error()
// right after a synchronous call (same thread), or from the message buffer
// of a *_msg call, which is the only correct source after an async call
// (koffi runs it on a worker thread).
const { C, MESSAGE_CAPACITY } = require('./native');

class ConvpoolError extends Error {
  /** status: the convpool_status code; message: the library's detail message. */
  constructor(message, status) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.statusText = C.convpool_status_string(status);
  }
}

const SUBCLASSES = [
  [1, 'InvalidArgumentError'],
  [2, 'InvalidAttributeError'],
  [3, 'ShapeMismatchError'],
  [4, 'SizeOverflowError'],
  [5, 'OutOfMemoryError'],
  [6, 'BufferTooSmallError'],
  [7, 'UnsupportedError'],
  [8, 'InvalidModelError'],
  [9, 'FileIOError'],
  [10, 'NotFoundError'],
  [11, 'InvalidStateError'],
  [12, 'InternalError'],
];

const classes = { ConvpoolError };
const byStatus = new Map();
for (const [status, name] of SUBCLASSES) {
  // a named class per status, so `instanceof ShapeMismatchError` works and
  // stack traces show the name
  const cls = { [name]: class extends ConvpoolError {
    constructor(message) {
      super(message, status);
    }
  } }[name];
  cls.status = status;
  classes[name] = cls;
  byStatus.set(status, cls);
}

function errorFor(status, message) {
  const cls = byStatus.get(status);
  if (!message) message = C.convpool_status_string(status);
  return cls ? new cls(message) : new ConvpoolError(message, status);
}

/** Throws for a failed synchronous call, with this thread's message. */
function check(status) {
  if (status !== 0) throw errorFor(status, C.convpool_last_error());
}

/** A buffer for the message of one *_msg call. */
function messageBuffer() {
  return Buffer.alloc(MESSAGE_CAPACITY);
}

function messageOf(buf) {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

/** The error of a *_msg call that returned `status` and wrote into `buf`. */
function checkMessage(status, buf) {
  if (status !== 0) throw errorFor(status, messageOf(buf));
}

/** Argument errors found by the binding itself, before any C call. */
function argumentError(message) {
  return new classes.InvalidArgumentError(message);
}

function attributeError(message) {
  return new classes.InvalidAttributeError(message);
}

/**
 * Calls fn.async (a *_msg function) with `args` plus a fresh message buffer;
 * resolves with the status-free result or rejects with the error built from
 * the buffer. `keep` holds the JS objects whose memory the call uses, so that
 * they stay reachable until it returns.
 */
function callAsync(fn, args, keep) {
  const buf = messageBuffer();
  return new Promise((resolve, reject) => {
    fn.async(...args, buf, buf.length, (err, status) => {
      void keep;
      if (err) reject(err);
      else if (status !== 0) reject(errorFor(status, messageOf(buf)));
      else resolve();
    });
  });
}

function callSync(fn, args) {
  const buf = messageBuffer();
  checkMessage(fn(...args, buf, buf.length), buf);
}

module.exports = { ...classes, errorFor, check, argumentError, attributeError, callAsync, callSync };
