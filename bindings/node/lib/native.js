'use strict';
// Finding, loading and declaring libconvpool for koffi.
//
// Lookup order:
//   1. the path in CONVPOOL_LIBRARY (and nothing else when it is set: an
//      explicit choice must not silently fall back to another copy);
//   2. the SONAME libconvpool.so.1 through the dynamic loader (a system-wide
//      install, ld.so.cache, or LD_LIBRARY_PATH);
//   3. a build tree next to the source tree (build*/lib), so that the package
//      works straight from a checkout after `meson compile -C build-xxx`.
// The library's MAJOR.MINOR must equal the package's: the package calls the
// CONVPOOL_1.1 symbols, and a newer minor may document behaviour it lacks.
const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');

const SONAME = 'libconvpool.so.1';
const PACKAGE_VERSION = require('../package.json').version;

function candidates() {
  const env = process.env.CONVPOOL_LIBRARY;
  if (env) return [['CONVPOOL_LIBRARY', env]];
  const list = [['the dynamic loader', SONAME]];
  const sourceRoot = path.resolve(__dirname, '..', '..', '..');
  let entries = [];
  try {
    entries = fs.readdirSync(sourceRoot).filter((d) => d.startsWith('build')).sort();
  } catch (e) {
    // not a checkout: nothing more to try
  }
  for (const d of entries) {
    const lib = path.join(sourceRoot, d, 'lib', SONAME);
    if (fs.existsSync(lib)) list.push(['the build tree', lib]);
  }
  return list;
}

function open() {
  const tried = [];
  for (const [where, name] of candidates()) {
    try {
      return { lib: koffi.load(name), path: name };
    } catch (e) {
      tried.push(`${name} (${where}): ${e.message}`);
    }
  }
  throw new Error(
    'convpool: cannot load libconvpool; tried:\n  ' + tried.join('\n  ') +
      '\nInstall libconvpool, or set CONVPOOL_LIBRARY to the path of libconvpool.so.1.');
}

const { lib, path: libraryPath } = open();

let versionFn;
try {
  versionFn = lib.func('const char *convpool_version(void)');
} catch (e) {
  throw new Error(`convpool: ${libraryPath} is not libconvpool (no convpool_version)`);
}
const libraryVersion = versionFn();
const majorMinor = (v) => v.split('.').slice(0, 2).join('.');
if (majorMinor(libraryVersion) !== majorMinor(PACKAGE_VERSION)) {
  throw new Error(`convpool ${PACKAGE_VERSION} needs libconvpool ${majorMinor(PACKAGE_VERSION)}.x, ` +
                  `but ${libraryPath} is version ${libraryVersion}`);
}

// Opaque handles: koffi gives them to JS as external pointers.
koffi.opaque('convpool_desc');
koffi.opaque('convpool_op');
koffi.opaque('convpool_context');
koffi.opaque('convpool_model');
koffi.opaque('convpool_session');

// Every function the package calls, with the header's exact types. Data
// pointers are typed (float, int64_t): koffi passes a TypedArray of that type
// as a pointer to its own memory, without a copy, in sync and async calls.
const SIGNATURES = [
  'int32_t convpool_version_number(void)',
  'const char *convpool_status_string(int32_t status)',
  'const char *convpool_last_error(void)',
  'int32_t convpool_desc_create(int32_t kind, int32_t spatial_rank, _Out_ convpool_desc **desc)',
  'void convpool_desc_destroy(convpool_desc *desc)',
  'int32_t convpool_desc_set_ints(convpool_desc *desc, int32_t attr, const int64_t *values, size_t count)',
  'int32_t convpool_desc_set_int(convpool_desc *desc, int32_t attr, int64_t value)',
  'int32_t convpool_conv_create(const convpool_desc *desc, const int64_t *weight_shape, size_t weight_rank, ' +
    'const float *weight, const float *bias, _Out_ convpool_op **op)',
  'int32_t convpool_pool_create(const convpool_desc *desc, _Out_ convpool_op **op)',
  'void convpool_op_destroy(convpool_op *op)',
  'int32_t convpool_op_output_shape(const convpool_op *op, const int64_t *input_shape, size_t input_rank, ' +
    'int64_t *output_shape, size_t output_capacity)',
  'int32_t convpool_op_run_msg(const convpool_op *op, convpool_context *ctx, const int64_t *input_shape, ' +
    'size_t input_rank, const float *x, float *y, size_t y_count, int64_t *indices, void *workspace, ' +
    'size_t workspace_size, uint8_t *message, size_t message_capacity)',
  'int32_t convpool_isa_active(void)',
  'const char *convpool_isa_name(int32_t isa)',
  'int32_t convpool_model_load_file_msg(const char *path, size_t memory_limit, _Out_ convpool_model **model, ' +
    'uint8_t *message, size_t message_capacity)',
  'int32_t convpool_model_load_memory_msg(const uint8_t *data, size_t size, size_t memory_limit, ' +
    '_Out_ convpool_model **model, uint8_t *message, size_t message_capacity)',
  'void convpool_model_destroy(convpool_model *model)',
  'size_t convpool_model_input_count(const convpool_model *model)',
  'size_t convpool_model_output_count(const convpool_model *model)',
  'const char *convpool_model_input_name(const convpool_model *model, size_t index)',
  'const char *convpool_model_output_name(const convpool_model *model, size_t index)',
  'int32_t convpool_model_input_info(const convpool_model *model, size_t index, _Out_ int32_t *dtype, ' +
    '_Out_ size_t *rank, int64_t *dims, size_t dims_capacity)',
  'int32_t convpool_model_output_info(const convpool_model *model, size_t index, _Out_ int32_t *dtype, ' +
    '_Out_ size_t *rank, int64_t *dims, size_t dims_capacity)',
  'const char *convpool_model_input_dim_name(const convpool_model *model, size_t index, size_t dim)',
  'const char *convpool_model_output_dim_name(const convpool_model *model, size_t index, size_t dim)',
  'int32_t convpool_session_create(const convpool_model *model, _Out_ convpool_session **session)',
  'void convpool_session_destroy(convpool_session *session)',
  'int32_t convpool_session_set_input(convpool_session *session, size_t index, int32_t dtype, ' +
    'const int64_t *shape, size_t rank, const void *data)',
  'int32_t convpool_session_output_shape(convpool_session *session, size_t index, _Out_ int32_t *dtype, ' +
    '_Out_ size_t *rank, int64_t *dims, size_t dims_capacity)',
  'int32_t convpool_session_set_output(convpool_session *session, size_t index, void *data, size_t size_bytes)',
  'int32_t convpool_session_run_msg(convpool_session *session, convpool_context *ctx, uint8_t *message, ' +
    'size_t message_capacity)',
];

const C = { convpool_version: versionFn };
for (const sig of SIGNATURES) {
  const name = /(convpool_\w+)\(/.exec(sig)[1];
  C[name] = lib.func(sig);
}

module.exports = { C, koffi, libraryPath, libraryVersion, PACKAGE_VERSION, MESSAGE_CAPACITY: 1024 };
