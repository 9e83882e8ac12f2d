'use strict';
// Prints a Tensor's values as nested rows, for the examples.
function show(t) {
  const { data, shape } = t;
  const fmt = (v) => (typeof v === 'bigint' ? String(v) : Number.isInteger(v) ? `${v}.` : String(v));
  function rows(offset, dims) {
    if (dims.length === 1) return '[' + Array.from(data.subarray(offset, offset + dims[0]), fmt).join(', ') + ']';
    const step = dims.slice(1).reduce((a, b) => a * b, 1);
    const parts = [];
    for (let i = 0; i < dims[0]; i++) parts.push(rows(offset + i * step, dims.slice(1)));
    return '[' + parts.join(',\n' + ' '.repeat(shape.length - dims.length + 1)) + ']';
  }
  return `${rows(0, shape)} shape [${shape.join(', ')}]`;
}
module.exports = { show };
