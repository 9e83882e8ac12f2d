'use strict';
// The examples print the seed notebooks' values.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const run = (name) => execFileSync(process.execPath, [path.join(__dirname, '..', 'examples', name)], { encoding: 'utf8' });

test('examples/corr2d.js', () => {
  assert.equal(run('corr2d.js'), '[[19., 25.],\n [37., 43.]] shape [2, 2]\n');
});

test('examples/edge_detection.js', () => {
  const out = run('edge_detection.js');
  assert.equal(out.split('\n').filter((l) => l.includes('[0., 1., 0., 0., 0., -1., 0.]')).length, 6);
  assert.match(out, /shape \[6, 7\]/);
  assert.match(out, /op gives the same: true/);
});

test('examples/pooling.js', () => {
  const out = run('pooling.js');
  assert.ok(out.includes('[[[[4., 5.],\n   [7., 8.]]]]'));
  assert.ok(out.includes('[[[[2., 3.],\n   [5., 6.]]]]'));
  assert.ok(out.includes('[[[[10.]]]]'));
  assert.ok(out.includes('[[[[5., 7.],\n   [13., 15.]],\n  [[6., 8.],\n   [14., 16.]]]]'));
  assert.ok(out.includes('[[[[5, 7],\n   [13, 15]],\n  [[5, 7],\n   [13, 15]]]]'));
});
