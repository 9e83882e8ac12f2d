'use strict';
// D2L 7.2: the 2-D cross-correlation of a 3x3 input with a 2x2 kernel.
//   node examples/corr2d.js      (set CONVPOOL_LIBRARY if the library is not found)
const { Tensor, corr2d } = require('convpool');
const { show } = require('./_show');

async function main() {
  const X = new Tensor([0, 1, 2, 3, 4, 5, 6, 7, 8], [3, 3]);
  const K = new Tensor([0, 1, 2, 3], [2, 2]);
  console.log(show(await corr2d(X, K))); // [[19, 25], [37, 43]]
}
main();
