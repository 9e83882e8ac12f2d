'use strict';
// D2L 7.2: find the vertical edges of a 6x8 image with the kernel [1, -1],
// as a one-off function and as a reusable Conv2d op.
const { Tensor, Conv2d, corr2d } = require('convpool');
const { show } = require('./_show');

async function main() {
  const X = new Tensor(new Float32Array(48).fill(1), [6, 8]);
  for (let r = 0; r < 6; r++) X.data.fill(0, r * 8 + 2, r * 8 + 6); // a black band
  console.log(show(X));
  const K = new Tensor([1, -1], [1, 2]);
  const Y = await corr2d(X, K);
  console.log(show(Y)); // 1 where white turns black, -1 where black turns white

  // the same as an op: compile once, run many times, dispose
  const conv = new Conv2d(new Tensor(K.data, [1, 1, 1, 2]));
  const Y4 = await conv.run(new Tensor(X.data, [1, 1, 6, 8]));
  conv.dispose();
  console.log('op gives the same:', Y4.data.every((v, i) => v === Y.data[i]));
}
main();
