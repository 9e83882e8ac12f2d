'use strict';
// How require('convpool') finds the library: CONVPOOL_LIBRARY alone when
// set, else the SONAME through the dynamic loader (LD_LIBRARY_PATH stands in
// for a system-wide install here), else the source tree's build*/lib.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const cp = require('..');

const root = path.resolve(__dirname, '..');
// the library under test: the one this process loaded
const built = cp.libraryPath.includes('/') ? fs.realpathSync(cp.libraryPath) : null;

function load(env) {
  const r = spawnSync(process.execPath, ['-e', "const c = require('.'); console.log(c.libraryPath)"],
                      { cwd: root, env, encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout.trim(), err: r.stderr };
}

function baseEnv() {
  const env = { ...process.env };
  delete env.CONVPOOL_LIBRARY;
  delete env.LD_LIBRARY_PATH;
  return env;
}

test('CONVPOOL_LIBRARY is used alone, without falling back', () => {
  const r = load({ ...baseEnv(), CONVPOOL_LIBRARY: '/nonexistent/libconvpool.so.1' });
  assert.equal(r.ok, false);
  assert.match(r.err, /\/nonexistent\/libconvpool\.so\.1 \(CONVPOOL_LIBRARY\)/);
  assert.doesNotMatch(r.err, /dynamic loader|build tree/);
  assert.match(r.err, /set CONVPOOL_LIBRARY/);
});

test('a library that is not libconvpool is refused', () => {
  const r = load({ ...baseEnv(), CONVPOOL_LIBRARY: 'libm.so.6' });
  assert.equal(r.ok, false);
  assert.match(r.err, /libm\.so\.6 is not libconvpool/);
});

test('the SONAME through the dynamic loader comes before the build tree', { skip: built === null && 'the library under test was itself found by SONAME' }, () => {
  // a folder holding only libconvpool.so.1, as a prefix's lib directory would
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convpool-soname-'));
  try {
    fs.copyFileSync(built, path.join(dir, 'libconvpool.so.1'));
    const r = load({ ...baseEnv(), LD_LIBRARY_PATH: dir });
    assert.ok(r.ok, r.err);
    assert.equal(r.out, 'libconvpool.so.1');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('with nothing set and nothing installed, a build tree of the checkout is found', (t) => {
  const probe = spawnSync('sh', ['-c', 'ldconfig -p | grep -q "libconvpool.so.1 "'], { encoding: 'utf8' });
  if (probe.status === 0) {
    t.skip('libconvpool is installed system-wide');
    return;
  }
  const r = load(baseEnv());
  const trees = fs.readdirSync(path.resolve(root, '..', '..')).filter((d) => d.startsWith('build') &&
    fs.existsSync(path.resolve(root, '..', '..', d, 'lib', 'libconvpool.so.1')));
  if (trees.length === 0) {
    assert.equal(r.ok, false);
    assert.match(r.err, /cannot load libconvpool/);
  } else {
    assert.ok(r.ok, r.err);
    assert.match(r.out, /\/build[^/]*\/lib\/libconvpool\.so\.1$/);
  }
});
