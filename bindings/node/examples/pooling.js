'use strict';
// D2L 7.5: max and average pooling, padding and stride, several channels,
// and the position of each maximum.
const cp = require('convpool');
const { show } = require('./_show');

async function main() {
  const X = new cp.Tensor([0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 3, 3]);
  console.log(show(await cp.maxPool2d(X, { kernelSize: 2, stride: 1 }))); // [[4, 5], [7, 8]]
  console.log(show(await cp.avgPool2d(X, { kernelSize: 2, stride: 1 }))); // [[2, 3], [5, 6]]

  const X16 = new cp.Tensor(Float32Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
  console.log(show(cp.maxPool2dSync(X16, { kernelSize: 3 }))); // [[[[10]]]]
  console.log(show(cp.maxPool2dSync(X16, { kernelSize: 3, padding: 1, stride: 2 })));
  console.log(show(cp.maxPool2dSync(X16, { kernelSize: [2, 3], stride: [2, 3], padding: [0, 1] })));

  // two channels: pooling keeps them apart
  const two = new cp.Tensor(Float32Array.from([...X16.data, ...X16.data.map((v) => v + 1)]), [1, 2, 4, 4]);
  const pool = new cp.MaxPool2d({ kernelSize: 3, padding: 1, stride: 2, returnIndices: true });
  const { output, indices } = await pool.run(two);
  pool.dispose();
  console.log(show(output));
  console.log(show(indices)); // within each plane, as PyTorch gives them
}
main();
