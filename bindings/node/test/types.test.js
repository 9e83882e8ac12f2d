'use strict';
// index.d.ts: test/types/usage.ts, which uses every documented form and marks
// the wrong ones with @ts-expect-error, compiles with tsc --strict.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

test('the TypeScript declarations accept the documented uses and reject wrong ones', () => {
  const tsc = require.resolve('typescript/bin/tsc'); // a devDependency, installed by npm ci
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'tsconfig.json')],
                      { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
