'use strict';
// Test helpers: read the committed ONNX test data without any npm package:
// a serialized onnx.TensorProto (.pb) and a NumPy .npy file.
const fs = require('node:fs');

function varint(buf, pos) {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [result, pos];
    shift += 7n;
  }
}

const TYPED = { 1: Float32Array, 2: Uint8Array, 3: Int8Array, 7: BigInt64Array };

/** {dims, dataType, data} of a TensorProto file (fields dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, raw_data 9). */
function readTensorProto(file) {
  const buf = fs.readFileSync(file);
  const dims = [];
  let dataType = 0;
  let raw = null;
  const floats = [];
  const ints = [];
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = varint(buf, pos);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      let v;
      [v, pos] = varint(buf, pos);
      if (field === 1) dims.push(Number(v));
      else if (field === 2) dataType = Number(v);
      else if (field === 5 || field === 7) ints.push(BigInt.asIntN(64, v));
    } else if (wire === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      const end = pos + Number(len);
      const body = buf.subarray(pos, end);
      if (field === 9) raw = body;
      else if (field === 4) for (let i = 0; i < body.length; i += 4) floats.push(body.readFloatLE(i));
      else if (field === 1 || field === 5 || field === 7) {
        let p = 0;
        while (p < body.length) {
          let v;
          [v, p] = varint(body, p);
          (field === 1 ? dims : ints).push(field === 1 ? Number(v) : BigInt.asIntN(64, v));
        }
      }
      pos = end;
    } else if (wire === 5) pos += 4;
    else if (wire === 1) pos += 8;
    else throw new Error(`${file}: unexpected wire type ${wire}`);
  }
  const Array_ = TYPED[dataType];
  if (!Array_) throw new Error(`${file}: data type ${dataType} not handled`);
  let data;
  if (raw) data = new Array_(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  else if (dataType === 1) data = Float32Array.from(floats);
  else if (dataType === 7) data = BigInt64Array.from(ints);
  else data = Array_.from(ints, Number);
  return { dims, dataType, data };
}

/** A little-endian float32 .npy file as {shape, data}. */
function readNpy(file) {
  const buf = fs.readFileSync(file);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLen);
  if (!/'descr': '<f4'/.test(header) || /'fortran_order': True/.test(header)) throw new Error(`${file}: not C-order float32`);
  const shape = /'shape': \(([^)]*)\)/.exec(header)[1].split(',').filter((s) => s.trim()).map(Number);
  const body = buf.subarray(10 + headerLen);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length)) };
}

module.exports = { readTensorProto, readNpy };
