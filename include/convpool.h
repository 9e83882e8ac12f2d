/*
 * convpool.h - the public interface of libconvpool.
 *
 * libconvpool computes convolution and pooling (ONNX Conv, ConvTranspose,
 * MaxPool, AveragePool, LpPool, GlobalMaxPool, GlobalAveragePool,
 * GlobalLpPool) on float32 NCHW tensors with
 * exact ONNX semantics, and loads and runs ONNX graphs made of those ops.
 *
 * This is the only installed header. It is C99, depends only on standard
 * headers, and is usable from C++.
 *
 * ABI rules (so that FFI callers and old binaries keep working):
 *  - no struct crosses the ABI, by value or by pointer; every object is an
 *    opaque handle created and destroyed by the library;
 *  - every enum has pinned values and only ever grows;
 *  - integers are int32_t / int64_t / size_t; there is no bool and no long;
 *  - exported symbols are versioned (CONVPOOL_1.0, ...).
 *
 * Conventions used by every function below:
 *  - Fallible functions return a convpool_status. On failure, a precise
 *    human-readable message is available from convpool_last_error() in the
 *    calling thread until that thread's next failing call; output parameters
 *    are left untouched unless stated otherwise.
 *  - Tensors are dense, C-contiguous (row-major), float32 unless stated;
 *    shapes are arrays of int64_t dims. An NCHW tensor of spatial rank k has
 *    rank k + 2: (N, C, D1, ..., Dk), k in {1, 2, 3}.
 *  - Pointers passed in are borrowed for the duration of the call only,
 *    unless the function documents otherwise. Input and output buffers must
 *    not overlap.
 *  - "Thread-safe" means the call may run concurrently with any other call
 *    on the same object that is also documented thread-safe.
 */
#ifndef CONVPOOL_H
#define CONVPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Export and version                                                       */
/* ------------------------------------------------------------------------ */

#if defined(CONVPOOL_BUILDING_LIBRARY) && defined(__GNUC__)
#define CONVPOOL_API __attribute__((visibility("default")))
#else
#define CONVPOOL_API
#endif

#define CONVPOOL_VERSION_MAJOR 1
#define CONVPOOL_VERSION_MINOR 1
#define CONVPOOL_VERSION_PATCH 0
/** MAJOR * 10000 + MINOR * 100 + PATCH, e.g. 10000 for 1.0.0. */
#define CONVPOOL_VERSION_NUMBER                                       \
    (CONVPOOL_VERSION_MAJOR * 10000 + CONVPOOL_VERSION_MINOR * 100 + \
     CONVPOOL_VERSION_PATCH)

/**
 * The version of the library actually loaded, as "MAJOR.MINOR.PATCH".
 * Compare with CONVPOOL_VERSION_* to detect a header/library mismatch.
 * Returns a static string; never NULL. Thread-safe.
 */
CONVPOOL_API const char *convpool_version(void);

/** The loaded library's version as CONVPOOL_VERSION_NUMBER computes it. */
CONVPOOL_API int32_t convpool_version_number(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/** Status codes. Values are pinned; new codes are only appended. */
typedef enum convpool_status {
    CONVPOOL_OK = 0,
    /** A NULL pointer, an out-of-range index or enum value, a bad rank. */
    CONVPOOL_ERROR_INVALID_ARGUMENT = 1,
    /** An attribute value is invalid on its own or with the others. */
    CONVPOOL_ERROR_INVALID_ATTRIBUTE = 2,
    /** A tensor shape does not fit the op (channels, weights, output <= 0). */
    CONVPOOL_ERROR_SHAPE_MISMATCH = 3,
    /** A size computation would overflow int64_t or size_t. */
    CONVPOOL_ERROR_OVERFLOW = 4,
    /** Memory could not be allocated, or a configured memory limit is hit. */
    CONVPOOL_ERROR_OUT_OF_MEMORY = 5,
    /** A caller-provided buffer (output or workspace) is too small. */
    CONVPOOL_ERROR_BUFFER_TOO_SMALL = 6,
    /** Valid input that this library does not support (op, type, opset). */
    CONVPOOL_ERROR_UNSUPPORTED = 7,
    /** A model file is malformed or fails validation. */
    CONVPOOL_ERROR_INVALID_MODEL = 8,
    /** A file could not be opened or read. */
    CONVPOOL_ERROR_IO = 9,
    /** A name (input, output) does not exist. */
    CONVPOOL_ERROR_NOT_FOUND = 10,
    /** The object is not in a state that allows the call. */
    CONVPOOL_ERROR_INVALID_STATE = 11,
    /** A bug in the library. Please report it with the message. */
    CONVPOOL_ERROR_INTERNAL = 12
} convpool_status;

/**
 * A short constant description of a status code ("invalid attribute").
 * Unknown values give "unknown status". Never NULL. Thread-safe.
 */
CONVPOOL_API const char *convpool_status_string(int32_t status);

/**
 * The detail message of the most recent failing call made by this thread,
 * e.g. "strides[1] = 0: strides must be >= 1". The string is owned by the
 * library and stays valid until this thread's next call into the library.
 * Returns "" if no call of this thread has failed yet. Thread-safe (the
 * message is thread-local).
 * Safe to print on a terminal: text taken from a model file (names, op
 * types, external locations) is escaped in it, control bytes and invalid
 * UTF-8 as \x1b, \xff, C1 controls and bidirectional overrides as \u009b,
 * \u202e; everything else, valid UTF-8 included, is kept. Messages are cut
 * at 1023 bytes.
 */
CONVPOOL_API const char *convpool_last_error(void);

/* ------------------------------------------------------------------------ */
/* Op descriptors: the ABI-stable way to set attributes                     */
/* ------------------------------------------------------------------------ */

/** Op kinds. Values are pinned. */
typedef enum convpool_op_kind {
    CONVPOOL_OP_CONV = 1,
    CONVPOOL_OP_MAX_POOL = 2,
    CONVPOOL_OP_AVERAGE_POOL = 3,
    CONVPOOL_OP_GLOBAL_MAX_POOL = 4,
    CONVPOOL_OP_GLOBAL_AVERAGE_POOL = 5,
    /* Since 1.1.0 */
    CONVPOOL_OP_CONV_TRANSPOSE = 6,
    CONVPOOL_OP_LP_POOL = 7,
    CONVPOOL_OP_GLOBAL_LP_POOL = 8
} convpool_op_kind;

/**
 * Attribute keys, named as in the ONNX operator docs. Values are pinned and
 * the list is append-only. "ints" attributes are set with
 * convpool_desc_set_ints(), "int" attributes with convpool_desc_set_int().
 *
 * | attribute         | type | Conv, ConvTr. | Max | Avg | Lp  | default       |
 * |-------------------|------|---------------|-----|-----|-----|---------------|
 * | KERNEL_SHAPE      | ints | opt           | req | req | req | Conv*: from W |
 * | STRIDES           | ints | yes           | yes | yes | yes | all 1         |
 * | DILATIONS         | ints | yes           | yes | yes | yes | all 1         |
 * | PADS              | ints | yes           | yes | yes | yes | all 0         |
 * | AUTO_PAD          | int  | yes           | yes | yes | yes | NOTSET        |
 * | GROUP             | int  | yes           | -   | -   | -   | 1             |
 * | CEIL_MODE         | int  | -             | yes | yes | yes | 0             |
 * | COUNT_INCLUDE_PAD | int  | -             | -   | yes | -   | 0             |
 * | STORAGE_ORDER     | int  | -             | yes | -   | -   | 0 (row major) |
 * | OUTPUT_PADDING    | ints | ConvTr. only  | -   | -   | -   | all 0         |
 * | OUTPUT_SHAPE      | ints | ConvTr. only  | -   | -   | -   | unset         |
 * | P                 | int  | -             | -   | -   | yes | 2             |
 *
 * Global pools take no attributes except GlobalLpPool's P. PADS has 2*k
 * values: all begins, then all ends (x1_begin, x2_begin, ..., x1_end,
 * x2_end, ...). PADS may not be combined with an AUTO_PAD other than NOTSET.
 *
 * ConvTranspose (since 1.1.0): OUTPUT_PADDING (k values >= 0) adds that many
 * positions at the end of each output dim; each must be below its stride or
 * its dilation. OUTPUT_SHAPE (k values >= 1, the spatial dims only) fixes
 * the output size; the pads then follow from it (ONNX's total_padding rule,
 * the odd one at the start unless AUTO_PAD is SAME_UPPER), so it may not be
 * combined with nonzero PADS. P (>= 1) is the exponent of LpPool and
 * GlobalLpPool.
 */
typedef enum convpool_attr {
    CONVPOOL_ATTR_KERNEL_SHAPE = 1,
    CONVPOOL_ATTR_STRIDES = 2,
    CONVPOOL_ATTR_DILATIONS = 3,
    CONVPOOL_ATTR_PADS = 4,
    CONVPOOL_ATTR_AUTO_PAD = 5,
    CONVPOOL_ATTR_GROUP = 6,
    CONVPOOL_ATTR_CEIL_MODE = 7,
    CONVPOOL_ATTR_COUNT_INCLUDE_PAD = 8,
    CONVPOOL_ATTR_STORAGE_ORDER = 9,
    /* Since 1.1.0 */
    CONVPOOL_ATTR_OUTPUT_PADDING = 10,
    CONVPOOL_ATTR_OUTPUT_SHAPE = 11,
    CONVPOOL_ATTR_P = 12
} convpool_attr;

/** Values of CONVPOOL_ATTR_AUTO_PAD. Pinned. */
typedef enum convpool_auto_pad {
    CONVPOOL_AUTO_PAD_NOTSET = 0,
    CONVPOOL_AUTO_PAD_SAME_UPPER = 1,
    CONVPOOL_AUTO_PAD_SAME_LOWER = 2,
    CONVPOOL_AUTO_PAD_VALID = 3
} convpool_auto_pad;

/** An op descriptor: op kind, spatial rank and attributes. Opaque. */
typedef struct convpool_desc convpool_desc;

/**
 * Creates a descriptor for an op of kind `kind` (a convpool_op_kind) over
 * `spatial_rank` spatial dims (1, 2 or 3), with every attribute at its ONNX
 * default. The caller owns *desc and frees it with convpool_desc_destroy().
 * Errors: INVALID_ARGUMENT (NULL desc, unknown kind, rank not 1..3),
 * OUT_OF_MEMORY.
 */
CONVPOOL_API convpool_status convpool_desc_create(int32_t kind,
                                                  int32_t spatial_rank,
                                                  convpool_desc **desc);

/** Frees a descriptor. NULL is a no-op. Ops created from it stay valid. */
CONVPOOL_API void convpool_desc_destroy(convpool_desc *desc);

/**
 * Sets an integer-list attribute (`attr` a convpool_attr) to the `count`
 * values at `values` (copied). Checks what can be checked without the
 * other attributes: the attribute applies to this op kind, the count is
 * right for the spatial rank (k, or 2k for PADS), values are in range
 * (kernel_shape, strides, dilations, output_shape >= 1; pads,
 * output_padding >= 0).
 * Errors: INVALID_ARGUMENT (NULL desc, NULL values with count > 0),
 * INVALID_ATTRIBUTE (with a message naming the attribute and the value).
 * Not thread-safe on the same descriptor.
 */
CONVPOOL_API convpool_status convpool_desc_set_ints(convpool_desc *desc,
                                                    int32_t attr,
                                                    const int64_t *values,
                                                    size_t count);

/**
 * Sets a scalar attribute (`attr` a convpool_attr): AUTO_PAD (a
 * convpool_auto_pad), GROUP (>= 1), CEIL_MODE, COUNT_INCLUDE_PAD (0 or 1),
 * STORAGE_ORDER (0 row-major, 1 column-major), P (>= 1).
 * Errors: INVALID_ARGUMENT, INVALID_ATTRIBUTE. Not thread-safe on the same
 * descriptor.
 */
CONVPOOL_API convpool_status convpool_desc_set_int(convpool_desc *desc,
                                                   int32_t attr,
                                                   int64_t value);

/**
 * The op kind (a convpool_op_kind) of a descriptor, or 0 for NULL.
 * Thread-safe.
 */
CONVPOOL_API int32_t convpool_desc_kind(const convpool_desc *desc);

/** The spatial rank (1, 2 or 3) of a descriptor, or 0 for NULL. Thread-safe. */
CONVPOOL_API int32_t convpool_desc_spatial_rank(const convpool_desc *desc);

/**
 * Reads an integer-list attribute (`attr` a convpool_attr; the same
 * attribute/op rules as convpool_desc_set_ints()): sets *count to its number
 * of values and copies them to `values`, which has room for `capacity`
 * (may be NULL when capacity is 0). An attribute never set reads as its
 * default: STRIDES and DILATIONS all 1, PADS 2k zeros (the attribute, not
 * the pads AUTO_PAD computes for an input size), OUTPUT_PADDING k zeros.
 * KERNEL_SHAPE of a Conv or ConvTranspose that was never given one reads as
 * *count = 0 with CONVPOOL_OK: its default is the weight's spatial dims,
 * which a descriptor does not know; so does an unset OUTPUT_SHAPE.
 * Errors: INVALID_ARGUMENT (NULL desc or count, NULL values with capacity >
 * 0), INVALID_ATTRIBUTE (unknown key, attribute not of this op, or an "int"
 * attribute), BUFFER_TOO_SMALL (capacity < *count; *count is still set).
 * Thread-safe (the descriptor is only read).
 */
CONVPOOL_API convpool_status convpool_desc_get_ints(const convpool_desc *desc, int32_t attr,
                                                    int64_t *values, size_t capacity,
                                                    size_t *count);

/**
 * Reads a scalar attribute (`attr` a convpool_attr; the same rules as
 * convpool_desc_set_int()) into *value: AUTO_PAD as a convpool_auto_pad,
 * GROUP, CEIL_MODE, COUNT_INCLUDE_PAD, STORAGE_ORDER, P; the default if never
 * set.
 * Errors: INVALID_ARGUMENT (NULL desc or value), INVALID_ATTRIBUTE (unknown
 * key, attribute not of this op, or an "ints" attribute). Thread-safe.
 */
CONVPOOL_API convpool_status convpool_desc_get_int(const convpool_desc *desc, int32_t attr,
                                                   int64_t *value);

/* ------------------------------------------------------------------------ */
/* Ops: create, query, run, destroy                                         */
/* ------------------------------------------------------------------------ */

/**
 * A compiled op: validated attributes, packed weights, a chosen kernel.
 * Immutable after creation: one op may be run from several threads at once.
 */
typedef struct convpool_op convpool_op;

/**
 * Creates a Conv op from a CONVPOOL_OP_CONV descriptor and its weights.
 *
 * `weight_shape` has k + 2 dims (M, C/group, K1, ..., Kk); `weight` holds
 * its elements and `bias` M elements or is NULL (no bias). Both are copied
 * (packed into the kernel's layout), so the caller may free them on
 * return. KERNEL_SHAPE, when set, must equal the weight's spatial dims.
 * M must be divisible by GROUP. The input channel count is C/group * group.
 *
 * Every attribute is validated together here (e.g. PADS with AUTO_PAD); what
 * depends on the input size (kernel larger than the padded input, output
 * <= 0) is checked by convpool_op_output_shape() and convpool_op_run().
 *
 * Since 1.1.0 it also creates a ConvTranspose op from a
 * CONVPOOL_OP_CONV_TRANSPOSE descriptor: then `weight_shape` is (C,
 * M/group, K1, ..., Kk) as ONNX lays it out, C must be divisible by GROUP,
 * the input has C channels and the output M = weight_shape[1] * group;
 * `bias` has M elements or is NULL.
 * Since 1.1.0, on the AVX2 and AVX-512 paths, a 2-D Conv with a 3x3 kernel,
 * stride 1, dilation 1, one group and at least 16 input and 16 output
 * channels computes runs whose output plane has at least 400 pixels (or
 * from 16 to 399 pixels where the pixels times the harmonic mean 2CM/(C+M)
 * of the channel counts reach 12000: 7 x 7 planes from 245 channels each
 * way) as Winograd F(2x2, 3x3): 2.25x fewer multiply-adds, its results
 * differing from direct sums by rounding only (within a few units of
 * float32 rounding of the sum of the terms' magnitudes, as the direct
 * kernels' own summation orders do); a run that meets an infinity or NaN
 * is computed again as direct sums, so such values come out as the
 * reference gives them. Setting the environment variable
 * CONVPOOL_WINOGRAD=0 before the library's first use makes every op
 * created afterwards compute direct sums.
 * A tap in the padding adds nothing (not 0 * w); since 1.1.0 an op whose
 * weights are not all finite runs on the reference kernels, so that every
 * ISA path gives the same outputs (the fast kernels multiply some padding
 * taps by zeros, which makes NaN of inf * 0).
 * Errors: INVALID_ARGUMENT, INVALID_ATTRIBUTE, SHAPE_MISMATCH, OVERFLOW,
 * OUT_OF_MEMORY. Thread-safe (the descriptor is only read).
 */
CONVPOOL_API convpool_status convpool_conv_create(const convpool_desc *desc,
                                                  const int64_t *weight_shape,
                                                  size_t weight_rank,
                                                  const float *weight,
                                                  const float *bias,
                                                  convpool_op **op);

/**
 * Creates a pooling op from a MAX_POOL, AVERAGE_POOL, GLOBAL_MAX_POOL or
 * GLOBAL_AVERAGE_POOL descriptor, or (since 1.1.0) LP_POOL or
 * GLOBAL_LP_POOL. The channel count is taken from each
 * input. Errors: as convpool_conv_create(). Thread-safe.
 */
CONVPOOL_API convpool_status convpool_pool_create(const convpool_desc *desc,
                                                  convpool_op **op);

/** Frees an op. NULL is a no-op. No run of it may be in progress. */
CONVPOOL_API void convpool_op_destroy(convpool_op *op);

/** The op's kind (a convpool_op_kind), or 0 for NULL. Thread-safe. */
CONVPOOL_API int32_t convpool_op_kind_of(const convpool_op *op);

/**
 * Computes the output shape for an input of shape `input_shape` (rank
 * `input_rank` = spatial rank + 2). Writes `input_rank` dims to
 * `output_shape`, which must have room for `output_capacity` >= input_rank
 * dims. The Indices output of MaxPool has the same shape.
 * The batch N may be 0 (an empty batch, as in ONNX): the output is
 * (0, M, out...) with the spatial dims an N = 1 input would give, and a run
 * reads and writes nothing (x, y and indices may then be NULL). C and the
 * spatial dims must be >= 1.
 * Errors: INVALID_ARGUMENT (NULL, wrong rank, N < 0, other dims < 1), SHAPE_MISMATCH
 * (channels, kernel larger than the padded input, output size <= 0),
 * OVERFLOW, BUFFER_TOO_SMALL. Thread-safe.
 */
CONVPOOL_API convpool_status convpool_op_output_shape(const convpool_op *op,
                                                      const int64_t *input_shape,
                                                      size_t input_rank,
                                                      int64_t *output_shape,
                                                      size_t output_capacity);

/**
 * Runs the op on one input with the library's default thread pool and no
 * caller workspace: `x` holds the input of shape `input_shape`; `y` receives
 * the output, whose shape is given by convpool_op_output_shape() and whose
 * element count must be <= `y_count` (the capacity of `y`, in elements).
 * Same as convpool_op_run_ex(op, NULL, input_shape, input_rank, x, y,
 * y_count, NULL, NULL, 0).
 * Errors: as convpool_op_output_shape(), plus BUFFER_TOO_SMALL and
 * OUT_OF_MEMORY. Thread-safe: concurrent runs of one op are allowed.
 */
CONVPOOL_API convpool_status convpool_op_run(const convpool_op *op,
                                             const int64_t *input_shape,
                                             size_t input_rank,
                                             const float *x,
                                             float *y,
                                             size_t y_count);

/** A thread pool and execution settings. Opaque. */
typedef struct convpool_context convpool_context;

/**
 * The full form of convpool_op_run().
 *
 * `ctx`: the context whose threads run the op, or NULL for the library's
 * default context (CONVPOOL_NUM_THREADS threads if that environment variable
 * is set, else one per online CPU).
 * `indices`: MaxPool only, may be NULL: receives y's element count of int64
 * Indices, each the flattened position of the max in the whole input tensor
 * (N, C, D1..Dk), row-major if STORAGE_ORDER is 0, column-major over the
 * spatial dims if 1 (as ONNX specifies). Must be NULL for other ops.
 * `workspace`, `workspace_size`: caller-provided scratch memory (any
 * alignment) of at least convpool_op_workspace_size() bytes; with it, a run
 * performs no heap allocation. With NULL the run uses a scratch buffer the
 * context keeps and grows on first use, so repeated runs of the same shapes
 * allocate nothing either; a run that finds that buffer in use by a
 * concurrent run on the same context allocates its own for the call.
 * Results are bitwise identical whatever the thread count.
 * Errors: as convpool_op_run(). Thread-safe; one context may serve
 * concurrent runs (they take turns on its threads).
 */
CONVPOOL_API convpool_status convpool_op_run_ex(const convpool_op *op,
                                                convpool_context *ctx,
                                                const int64_t *input_shape,
                                                size_t input_rank,
                                                const float *x,
                                                float *y,
                                                size_t y_count,
                                                int64_t *indices,
                                                void *workspace,
                                                size_t workspace_size);

/**
 * The workspace in bytes that convpool_op_run_ex() needs for this input
 * shape (0 if none) with `ctx` (NULL: the default context).
 * Errors: as convpool_op_output_shape(). Thread-safe.
 */
CONVPOOL_API convpool_status convpool_op_workspace_size(const convpool_op *op,
                                                        convpool_context *ctx,
                                                        const int64_t *input_shape,
                                                        size_t input_rank,
                                                        size_t *workspace_size);

/* ------------------------------------------------------------------------ */
/* Contexts: threads and instruction sets                                   */
/* ------------------------------------------------------------------------ */

/** The most threads a context may have (convpool_context_create). */
#define CONVPOOL_MAX_THREADS 1024

/**
 * Creates a context with `num_threads` threads in all (the calling thread
 * counts as one); 0 means the default (CONVPOOL_NUM_THREADS, else the number
 * of online CPUs). Caller owns *ctx.
 *
 * The num_threads - 1 worker threads are started here. Between runs a
 * worker spins for up to 50 microseconds (so that back-to-back runs start
 * at once), then sleeps. On Linux, when the context has no more threads
 * than the creating thread may use CPUs, the workers' affinity is that
 * set minus the CPU the calling thread is on at each run (changed only
 * when the caller moves): a VM's scheduler would otherwise often wake them
 * on the caller's CPU, where they wait for it to finish.
 *
 * Errors: INVALID_ARGUMENT (NULL, num_threads < 0 or > CONVPOOL_MAX_THREADS),
 * OUT_OF_MEMORY.
 */
CONVPOOL_API convpool_status convpool_context_create(int32_t num_threads,
                                                     convpool_context **ctx);

/** Frees a context and joins its threads. NULL is a no-op. */
CONVPOOL_API void convpool_context_destroy(convpool_context *ctx);

/** The context's thread count (NULL: the default context's). Thread-safe. */
CONVPOOL_API int32_t convpool_context_num_threads(const convpool_context *ctx);

/** Instruction-set paths. Pinned. */
typedef enum convpool_isa {
    CONVPOOL_ISA_SCALAR = 0,
    CONVPOOL_ISA_AVX2 = 1,
    CONVPOOL_ISA_AVX512 = 2
} convpool_isa;

/**
 * The instruction-set path ops created from now on use: the best the CPU
 * supports, unless the CONVPOOL_ISA environment variable (scalar, avx2,
 * avx512) asks for a lower one. Thread-safe.
 */
CONVPOOL_API int32_t convpool_isa_active(void);

/** A constant name for a convpool_isa value ("avx2"); "unknown" if none. */
CONVPOOL_API const char *convpool_isa_name(int32_t isa);

/**
 * What was wrong with the environment variables the library reads
 * (CONVPOOL_NUM_THREADS, CONVPOOL_ISA, CONVPOOL_WINOGRAD): "" when each is
 * unset or valid,
 * else one "NAME='value' <problem>; using <what>" per invalid variable,
 * separated by "; ". An invalid value is ignored (the default is used), in
 * every variable alike. The library never writes to stderr or stdout: a
 * program that wants its users to see this prints it (convpool-run does, as
 * a warning). The variables are read once per process, at first need (a
 * run, a context, this call). The string is constant from then on.
 * Thread-safe. Since 1.1 (CONVPOOL_1.1).
 */
CONVPOOL_API const char *convpool_environment_warnings(void);

/* ------------------------------------------------------------------------ */
/* Models: load an ONNX graph of these ops and run it                       */
/* ------------------------------------------------------------------------ */

/**
 * Element types, with ONNX TensorProto.DataType's values. Models use FLOAT
 * tensors; INT64 is MaxPool's Indices output; UINT8 and INT8 are MaxPool's.
 */
typedef enum convpool_dtype {
    CONVPOOL_DTYPE_UNDEFINED = 0,
    CONVPOOL_DTYPE_FLOAT = 1,
    CONVPOOL_DTYPE_UINT8 = 2,
    CONVPOOL_DTYPE_INT8 = 3,
    CONVPOOL_DTYPE_INT64 = 7
} convpool_dtype;

/**
 * A loaded, validated model. Immutable after loading: thread-safe.
 *
 * The convpool_model_*_name() and convpool_model_node_op_type() calls below
 * return names exactly as the file stores them: any bytes but NUL, not
 * necessarily valid UTF-8, possibly with control characters (ESC, CSI).
 * Escape them before showing them to a person; convpool_last_error() and
 * convpool-run already do.
 */
typedef struct convpool_model convpool_model;

/** memory_limit for the library's default: convpool_default_memory_limit(). */
#define CONVPOOL_MEMORY_LIMIT_DEFAULT ((size_t)0)
/** memory_limit for no limit beyond the address space. */
#define CONVPOOL_MEMORY_LIMIT_NONE SIZE_MAX

/**
 * The memory limit a model gets when loaded with
 * CONVPOOL_MEMORY_LIMIT_DEFAULT: half the physical memory (1 GiB where the
 * system does not say), so that a small hostile file cannot make a load or
 * a run take the machine. Since 1.1. Thread-safe.
 */
CONVPOOL_API size_t convpool_default_memory_limit(void);

/**
 * Loads and validates an ONNX model file. Nothing outside the supported
 * subset is accepted; the message names the node, op and reason. Each op
 * takes the attributes and defaults of the version the model's opset
 * imports; an attribute that version does not define (e.g. AveragePool
 * dilations before opset 19) is refused, not ignored. Conv weights may be
 * initializers, Constant outputs or graph inputs (then the op is rebuilt
 * from the bound tensors at each run).
 * External tensor data is read only from regular files inside the model's
 * directory (no absolute path, no "..", no symlink leading out); messages
 * about a refused location never say what lies outside the directory.
 * `path` and external data files are opened without blocking, so a FIFO or
 * device is refused (IO: "is not a regular file") instead of waiting.
 *
 * `memory_limit` caps the memory the model takes: its weights as stored,
 * the Conv ops' packed copies of them, and what each run holds at once: the
 * arena of intermediates and workspaces, a buffer per graph output (counted
 * whether the session or the caller provides it) and a Conv op rebuilt for
 * the run from weights bound as graph inputs. The caller's input buffers
 * are not counted. The check is made at load when every input shape is
 * static, else at the first run or shape query for each new set of input
 * shapes; OUT_OF_MEMORY then names each part. A model file larger than the
 * limit is refused without being read.
 * CONVPOOL_MEMORY_LIMIT_DEFAULT (0) stands for
 * convpool_default_memory_limit(); CONVPOOL_MEMORY_LIMIT_NONE (SIZE_MAX)
 * sets no limit beyond the address space. (Before 1.1, 0 meant no limit.)
 * Errors: INVALID_ARGUMENT, IO, INVALID_MODEL, UNSUPPORTED, OVERFLOW,
 * OUT_OF_MEMORY (the limit, or the system out of memory). Thread-safe.
 */
CONVPOOL_API convpool_status convpool_model_load_file(const char *path,
                                                      size_t memory_limit,
                                                      convpool_model **model);

/**
 * As convpool_model_load_file() from `size` bytes at `data` (copied as
 * needed). Models with external data cannot be loaded from memory.
 */
CONVPOOL_API convpool_status convpool_model_load_memory(const void *data,
                                                        size_t size,
                                                        size_t memory_limit,
                                                        convpool_model **model);

/** Frees a model. NULL is a no-op. Its sessions must be destroyed first. */
CONVPOOL_API void convpool_model_destroy(convpool_model *model);

/** Number of graph inputs (initializers excluded) / outputs. Thread-safe. */
CONVPOOL_API size_t convpool_model_input_count(const convpool_model *model);
CONVPOOL_API size_t convpool_model_output_count(const convpool_model *model);

/**
 * Name of input / output `index`, owned by the model (valid until it is
 * destroyed); NULL if the index is out of range. Thread-safe.
 */
CONVPOOL_API const char *convpool_model_input_name(const convpool_model *model,
                                                   size_t index);
CONVPOOL_API const char *convpool_model_output_name(const convpool_model *model,
                                                    size_t index);

/**
 * Finds the position of the input / output called `name`.
 * Errors: INVALID_ARGUMENT, NOT_FOUND. Thread-safe.
 */
CONVPOOL_API convpool_status convpool_model_input_index(const convpool_model *model,
                                                        const char *name,
                                                        size_t *index);
CONVPOOL_API convpool_status convpool_model_output_index(const convpool_model *model,
                                                         const char *name,
                                                         size_t *index);

/**
 * Declared type and shape of input / output `index`: *dtype (a
 * convpool_dtype), *rank, and up to `dims_capacity` dims into `dims`
 * (may be NULL when dims_capacity is 0; *rank is always set). A symbolic
 * or unknown dim is reported as -1; convpool_model_*_dim_name() gives its
 * symbol. Errors: INVALID_ARGUMENT, BUFFER_TOO_SMALL (rank > capacity; *rank
 * is still set). Thread-safe.
 */
CONVPOOL_API convpool_status convpool_model_input_info(const convpool_model *model,
                                                       size_t index,
                                                       int32_t *dtype,
                                                       size_t *rank,
                                                       int64_t *dims,
                                                       size_t dims_capacity);
CONVPOOL_API convpool_status convpool_model_output_info(const convpool_model *model,
                                                        size_t index,
                                                        int32_t *dtype,
                                                        size_t *rank,
                                                        int64_t *dims,
                                                        size_t dims_capacity);

/**
 * The symbol ("N", "batch") of dim `dim` of input / output `index`, or
 * NULL if that dim is static, unnamed or out of range. Owned by the model.
 */
CONVPOOL_API const char *convpool_model_input_dim_name(const convpool_model *model,
                                                       size_t index,
                                                       size_t dim);
CONVPOOL_API const char *convpool_model_output_dim_name(const convpool_model *model,
                                                        size_t index,
                                                        size_t dim);

/**
 * Number of nodes in the model file's graph, in the file's order: every
 * NodeProto of the main graph, Constant and Identity nodes included (even
 * those the loader folds away), as `node` indexes them in the
 * convpool_model_node_*() calls below. 0 for NULL. Thread-safe.
 */
CONVPOOL_API size_t convpool_model_node_count(const convpool_model *model);

/**
 * Name of node `node` (an index below convpool_model_node_count()), owned by
 * the model (valid until it is destroyed); "" if the node is unnamed; NULL
 * if model is NULL or the index is out of range. Thread-safe.
 */
CONVPOOL_API const char *convpool_model_node_name(const convpool_model *model, size_t node);

/**
 * Op type of node `node` as ONNX spells it ("Conv", "ConvTranspose",
 * "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool",
 * "GlobalLpPool", "Constant", "Identity"): a static
 * string; NULL if model is NULL or the index is out of range. Thread-safe.
 */
CONVPOOL_API const char *convpool_model_node_op_type(const convpool_model *model,
                                                     size_t node);

/**
 * Number of inputs / outputs node `node` lists in the file (an omitted
 * optional one counts: Conv with inputs "X", "W", "" has 3). 0 if model is
 * NULL or the index is out of range. Thread-safe.
 */
CONVPOOL_API size_t convpool_model_node_input_count(const convpool_model *model, size_t node);
CONVPOOL_API size_t convpool_model_node_output_count(const convpool_model *model, size_t node);

/**
 * Name of input / output `i` of node `node`: the value it reads or writes,
 * which convpool_session_value_shape() accepts. "" for an omitted optional
 * one; NULL if model is NULL or either index is out of range. Owned by the
 * model (valid until it is destroyed). Thread-safe.
 */
CONVPOOL_API const char *convpool_model_node_input_name(const convpool_model *model,
                                                        size_t node, size_t i);
CONVPOOL_API const char *convpool_model_node_output_name(const convpool_model *model,
                                                         size_t node, size_t i);

/**
 * The descriptor of Conv or pooling node `node`: its op kind, spatial rank
 * and attributes as the file sets them, every other attribute at the default
 * of the op version the model's opset imports. For a Conv without
 * kernel_shape, KERNEL_SHAPE holds W's spatial dims when they are known at
 * load time (W an initializer, a Constant or a graph input of static shape),
 * else it stays unset (see convpool_desc_get_ints()). Read it with
 * convpool_desc_kind(), convpool_desc_spatial_rank() and
 * convpool_desc_get_int[s](). Owned by the model: do not destroy it; valid
 * until the model is destroyed. NULL for Constant and Identity nodes, if
 * model is NULL or if the index is out of range. Thread-safe.
 */
CONVPOOL_API const convpool_desc *convpool_model_node_desc(const convpool_model *model,
                                                           size_t node);

/* ------------------------------------------------------------------------ */
/* Sessions: per-run state of a model                                       */
/* ------------------------------------------------------------------------ */

/**
 * A session holds everything one run of a model needs: bound inputs, the
 * plan and intermediate arena for the current input shapes (cached, so
 * repeated runs with the same shapes allocate nothing, except for Conv
 * nodes whose weights are graph inputs), and the outputs.
 * A model may have any number of sessions, used from different threads at
 * once; one session must be used by one thread at a time.
 */
typedef struct convpool_session convpool_session;

/**
 * Creates a session for `model`, which must outlive it. Caller owns
 * *session. Errors: INVALID_ARGUMENT, OUT_OF_MEMORY.
 */
CONVPOOL_API convpool_status convpool_session_create(const convpool_model *model,
                                                     convpool_session **session);

/** Frees a session and the outputs it allocated. NULL is a no-op. */
CONVPOOL_API void convpool_session_destroy(convpool_session *session);

/**
 * Binds input `index` to a tensor of type `dtype` and shape (`shape`,
 * `rank`) at `data`. The shape must match the declared static dims;
 * symbolic dims take the given size.
 * The binding lasts until the input is bound again (this call or
 * convpool_session_set_input_shape()) or the session is destroyed: every
 * run in between reads `data`. So the buffer must stay valid for as long as
 * it is bound, and unchanged while a run is going on (refilling it between
 * runs is the intended way to run again). Before freeing a bound buffer
 * while keeping the session, rebind the input: another buffer, or
 * convpool_session_set_input_shape(), which keeps the shape and drops the
 * data (a run then fails with INVALID_STATE naming the input).
 * Errors: INVALID_ARGUMENT, NOT_FOUND (index), UNSUPPORTED (dtype),
 * SHAPE_MISMATCH, OVERFLOW.
 */
CONVPOOL_API convpool_status convpool_session_set_input(convpool_session *session,
                                                        size_t index,
                                                        int32_t dtype,
                                                        const int64_t *shape,
                                                        size_t rank,
                                                        const void *data);

/**
 * Binds input `index` to a shape without data, with the checks and errors
 * of convpool_session_set_input() (`data` aside). Shape queries
 * (convpool_session_output_shape(), convpool_session_value_shape()) then
 * work without any input buffer, e.g. to show a model's shapes for an input
 * size; a run fails with INVALID_STATE naming the input until data is bound.
 * Any buffer bound to the input before is released by the session (never
 * read again). Since 1.1.
 */
CONVPOOL_API convpool_status convpool_session_set_input_shape(convpool_session *session,
                                                              size_t index,
                                                              int32_t dtype,
                                                              const int64_t *shape,
                                                              size_t rank);

/**
 * Shape of output `index` for the inputs bound now (all inputs must be
 * bound, with data or a shape only). Same conventions as convpool_model_output_info(), with every dim
 * resolved. Errors: INVALID_ARGUMENT, INVALID_STATE (inputs unbound),
 * SHAPE_MISMATCH, BUFFER_TOO_SMALL.
 */
CONVPOOL_API convpool_status convpool_session_output_shape(convpool_session *session,
                                                           size_t index,
                                                           int32_t *dtype,
                                                           size_t *rank,
                                                           int64_t *dims,
                                                           size_t dims_capacity);

/**
 * Type and shape of the value called `value_name` (a graph input, an
 * initializer, a Constant's output, a node output such as an intermediate,
 * or a graph output: any name convpool_model_node_input_name() or
 * convpool_model_node_output_name() returns other than "") for the inputs
 * bound now, with every dim resolved. Plans for the bound shapes if needed
 * (without running anything, and without starting any thread), like
 * convpool_session_output_shape(). Same conventions as
 * convpool_model_output_info().
 * Errors: INVALID_ARGUMENT (NULL session or value_name, NULL dtype or rank,
 * NULL dims with dims_capacity > 0), NOT_FOUND (no value has that name),
 * INVALID_STATE (an input is unbound), SHAPE_MISMATCH, OVERFLOW,
 * BUFFER_TOO_SMALL (*rank is still set). Not thread-safe on the same session.
 */
CONVPOOL_API convpool_status convpool_session_value_shape(convpool_session *session,
                                                          const char *value_name,
                                                          int32_t *dtype, size_t *rank,
                                                          int64_t *dims, size_t dims_capacity);

/**
 * Makes the next runs write output `index` into the caller's buffer `data`
 * of `size_bytes` bytes. Like an input, the binding lasts until the output
 * is bound again or the session is destroyed, and every run in between
 * writes there: the buffer must stay valid for as long as it is bound. NULL
 * data returns the output to session-owned memory (the way to release a
 * buffer while keeping the session). Rebinding an output ends the access to
 * the last run's results (convpool_session_output() then fails with
 * INVALID_STATE until the next run). Errors: INVALID_ARGUMENT.
 */
CONVPOOL_API convpool_status convpool_session_set_output(convpool_session *session,
                                                         size_t index,
                                                         void *data,
                                                         size_t size_bytes);

/**
 * Runs the graph on the bound inputs, with `ctx`'s threads (NULL: the
 * default context). Reads the buffers bound now (see
 * convpool_session_set_input()). Errors: INVALID_STATE (an input unbound,
 * or bound to a shape only: the message names it), SHAPE_MISMATCH,
 * BUFFER_TOO_SMALL (a caller output buffer), OUT_OF_MEMORY (the model's
 * memory limit, or the system out of memory).
 */
CONVPOOL_API convpool_status convpool_session_run(convpool_session *session,
                                                  convpool_context *ctx);

/**
 * The result of the last successful run for output `index`: *dtype, *rank,
 * *dims (an array of *rank dims owned by the session) and *data (the
 * caller's buffer if one was bound, else session-owned memory). Both
 * pointers stay valid until the next run or set_output on this session, or
 * its destruction. Errors: INVALID_ARGUMENT, INVALID_STATE (no run yet).
 */
CONVPOOL_API convpool_status convpool_session_output(const convpool_session *session,
                                                     size_t index,
                                                     int32_t *dtype,
                                                     size_t *rank,
                                                     const int64_t **dims,
                                                     const void **data);

/* ------------------------------------------------------------------------ */
/* Messages for callers that change threads (since 1.1, CONVPOOL_1.1)       */
/* ------------------------------------------------------------------------ */

/**
 * convpool_last_error() is thread-local, which serves a caller that reads it
 * in the thread that made the failing call. An FFI runtime that runs a long
 * call on a worker thread (Node.js koffi's async calls, a thread pool, an
 * executor) and reads convpool_last_error() afterwards from another thread
 * gets that other thread's message, unrelated to the call. The calls below
 * are the long-running calls (model load, op run, session run) with a
 * caller-supplied message buffer, filled in the thread that ran the call:
 *
 *   char msg[CONVPOOL_MESSAGE_CAPACITY];
 *   convpool_status s = convpool_session_run_msg(session, NULL, msg, sizeof msg);
 *   if (s != CONVPOOL_OK) report(convpool_status_string(s), msg);
 *
 * Each behaves exactly as the call it extends, and also:
 *  - `message`, `message_capacity`: a buffer of message_capacity bytes, or
 *    NULL with message_capacity 0 (then nothing is written). When it is
 *    given, the call always writes a NUL-terminated string there: "" on
 *    success; on failure the same detail message that convpool_last_error()
 *    then holds in the running thread (or the status string if that message
 *    is empty), cut at a UTF-8 character boundary to fit message_capacity -
 *    1 bytes. CONVPOOL_MESSAGE_CAPACITY bytes always hold a whole message.
 *  - convpool_last_error() of the running thread is set as by the call it
 *    extends.
 * Extra error: INVALID_ARGUMENT if `message` is NULL but message_capacity is
 * not 0 (nothing is run, and nothing is written).
 */
#define CONVPOOL_MESSAGE_CAPACITY 1024

/** convpool_model_load_file() with a message buffer. Thread-safe. */
CONVPOOL_API convpool_status convpool_model_load_file_msg(const char *path,
                                                          size_t memory_limit,
                                                          convpool_model **model,
                                                          char *message,
                                                          size_t message_capacity);

/** convpool_model_load_memory() with a message buffer. Thread-safe. */
CONVPOOL_API convpool_status convpool_model_load_memory_msg(const void *data,
                                                            size_t size,
                                                            size_t memory_limit,
                                                            convpool_model **model,
                                                            char *message,
                                                            size_t message_capacity);

/**
 * convpool_op_run_ex() with a message buffer. Thread-safe: concurrent runs
 * of one op are allowed, each with its own buffer.
 */
CONVPOOL_API convpool_status convpool_op_run_msg(const convpool_op *op,
                                                 convpool_context *ctx,
                                                 const int64_t *input_shape,
                                                 size_t input_rank,
                                                 const float *x,
                                                 float *y,
                                                 size_t y_count,
                                                 int64_t *indices,
                                                 void *workspace,
                                                 size_t workspace_size,
                                                 char *message,
                                                 size_t message_capacity);

/**
 * convpool_session_run() with a message buffer. As for convpool_session_run(),
 * one session is used by one thread at a time (it may be a different thread
 * from one call to the next).
 */
CONVPOOL_API convpool_status convpool_session_run_msg(convpool_session *session,
                                                      convpool_context *ctx,
                                                      char *message,
                                                      size_t message_capacity);
/* ---- Per-node timing (CONVPOOL_1.1) ----------------------------------- */

/**
 * Runs the session exactly as convpool_session_run() does (same bindings,
 * same plan, same op objects, same results) and measures each node.
 * `node_ns` has `node_count` entries, which must equal
 * convpool_model_node_count() of the session's model; on CONVPOOL_OK,
 * node_ns[i] is the wall-clock time in nanoseconds node i (file order, as
 * the convpool_model_node_*() calls index nodes) took in this run, and -1
 * for a node that does no work at run time (a Constant, or an Identity of
 * a constant, which the loader folds away). The times of a multi-threaded
 * node span all its threads. Since 1.1.0 the model path runs a depthwise
 * Conv together with the pointwise Conv that alone consumes its output, a
 * band of rows at a time, where the intermediate outgrows half of L2 and
 * bands of at least 8 rows fit an eighth of it (see the README, "Whole
 * models"): those two nodes share the pair's time in
 * the proportion their parts took on the threads. Timing adds two clock reads per node; the sum
 * of the node times is therefore a little less than the run's wall time.
 * On failure node_ns is unspecified.
 * Errors: INVALID_ARGUMENT (NULL session, NULL node_ns with node_count > 0,
 * node_count not the model's node count), and those of
 * convpool_session_run().
 */
CONVPOOL_API convpool_status convpool_session_run_profiled(convpool_session *session,
                                                           convpool_context *ctx,
                                                           int64_t *node_ns,
                                                           size_t node_count);

/* ------------------------------------------------------------------------ */
/* Training: gradients of an op (CONVPOOL_1.1)                              */
/* ------------------------------------------------------------------------ */

/** Flags of convpool_conv_create_ex(). Values are pinned; bits may be added. */
typedef enum convpool_create_flags {
    /** Also prepare what convpool_op_backward_data() needs for a Conv or
     *  ConvTranspose: the weights in the layout of the transposed pass (one
     *  more copy of the weights; two for a ConvTranspose with OUTPUT_SHAPE
     *  or auto_pad SAME_*, whose pads can be negative). Ops created without
     *  it run forward and convpool_op_backward_weights(), but not
     *  convpool_op_backward_data(). */
    CONVPOOL_CREATE_BACKWARD = 1
} convpool_create_flags;

/** Which backward pass convpool_op_backward_workspace_size() sizes. Pinned. */
typedef enum convpool_backward_pass {
    CONVPOOL_BACKWARD_DATA = 1,   /**< convpool_op_backward_data() */
    CONVPOOL_BACKWARD_WEIGHTS = 2 /**< convpool_op_backward_weights() */
} convpool_backward_pass;

/**
 * convpool_conv_create() with `flags`, a bitwise OR of convpool_create_flags
 * (0 gives exactly convpool_conv_create()).
 * Extra error: INVALID_ARGUMENT for an unknown flag bit. Thread-safe.
 */
CONVPOOL_API convpool_status convpool_conv_create_ex(const convpool_desc *desc,
                                                     const int64_t *weight_shape,
                                                     size_t weight_rank,
                                                     const float *weight,
                                                     const float *bias,
                                                     uint32_t flags,
                                                     convpool_op **op);

/**
 * The weight shape of a Conv or ConvTranspose op, as given at creation
 * ((M, C/group, K...) for Conv, (C, M/group, K...) for ConvTranspose):
 * sets *rank (spatial rank + 2) and writes that many dims to `shape`, which
 * has room for `capacity`.
 * Errors: INVALID_ARGUMENT (NULL op or rank, NULL shape with capacity > 0,
 * a pooling op), BUFFER_TOO_SMALL (*rank is still set). Thread-safe.
 */
CONVPOOL_API convpool_status convpool_op_weight_shape(const convpool_op *op,
                                                      int64_t *shape,
                                                      size_t capacity,
                                                      size_t *rank);

/**
 * The gradient with respect to the op's input. Given the forward input
 * shape (`input_shape`, `input_rank`) and dy = dL/dy, the gradient of a loss
 * L with respect to the op's output (dy_count elements: at least the
 * element count of the output shape convpool_op_output_shape() gives),
 * writes dx = dL/dx (the input shape's element count, <= dx_count).
 * dx is overwritten, not accumulated into.
 *
 *  - Conv: dx = the ConvTranspose of dy with the op's weights (every
 *    attribute of the forward op); ConvTranspose: dx = the Conv of dy with
 *    its weights. The op must have been created with
 *    CONVPOOL_CREATE_BACKWARD. `x` and `indices` must be NULL.
 *  - MaxPool: each dy element goes to the input element its window took
 *    the maximum from (summed where windows overlap). With `indices` (the
 *    Indices output of a forward run of this op on this input shape, in the
 *    op's STORAGE_ORDER) that position is read from it and `x` may be NULL
 *    (and is not read); each index must lie in its own (n, c) plane of the
 *    input, or be -1 (the forward pass's index of a window holding no input
 *    element, which passes nothing back). Without
 *    `indices`, `x` (the forward input) is required and the position is the
 *    one the forward pass would return as its index (the first maximum in
 *    window order; a NaN in the window is the maximum).
 *  - AveragePool: dy / (the divisor the forward pass used, per
 *    COUNT_INCLUDE_PAD) to every element of the window; `x` may be NULL.
 *  - GlobalAveragePool: dy / (spatial size) to every element; GlobalMaxPool
 *    as MaxPool with one window (needs `x`; `indices` must be NULL).
 *  - LpPool, GlobalLpPool: dx = dy * sign(x) |x|^(p-1) / y^(p-1) summed
 *    over the windows containing x, where y is the forward output; 0 where
 *    y is 0. Needs `x`; `indices` must be NULL.
 *
 * `ctx`, `workspace`, `workspace_size` as in convpool_op_run_ex() (the size
 * from convpool_op_backward_workspace_size(..., CONVPOOL_BACKWARD_DATA, ...)).
 * Results are bitwise identical whatever the thread count.
 * An empty batch (N = 0) reads and writes nothing.
 * Errors: as convpool_op_run_ex(), plus INVALID_ARGUMENT (a Conv or
 * ConvTranspose op created without CONVPOOL_CREATE_BACKWARD; a missing `x`,
 * `indices` given to an op that takes none, an index outside its plane,
 * checked before dx is written), BUFFER_TOO_SMALL (dy_count or dx_count too
 * small). Thread-safe.
 */
CONVPOOL_API convpool_status convpool_op_backward_data(const convpool_op *op,
                                                       convpool_context *ctx,
                                                       const int64_t *input_shape,
                                                       size_t input_rank,
                                                       const float *x,
                                                       const int64_t *indices,
                                                       const float *dy,
                                                       size_t dy_count,
                                                       float *dx,
                                                       size_t dx_count,
                                                       void *workspace,
                                                       size_t workspace_size);

/**
 * The gradients of a Conv or ConvTranspose op with respect to its weights
 * and bias, from the forward input `x` (shape `input_shape`) and dy as in
 * convpool_op_backward_data(): dw (the op's weight shape,
 * convpool_op_weight_shape(); dw_count elements of room) and db (M values,
 * the op's output channels; db_count of room). Either may be NULL (with
 * count 0) when that gradient is not wanted. Both are overwritten, not
 * accumulated into. The sums over the batch and the output positions run
 * in a fixed order: results are bitwise identical whatever the thread
 * count. Works on any Conv or ConvTranspose op (no creation flag needed).
 * `ctx`, `workspace`, `workspace_size` as in convpool_op_run_ex() (the size
 * from convpool_op_backward_workspace_size(..., CONVPOOL_BACKWARD_WEIGHTS,
 * ...)).
 * With an empty batch (N = 0) dw and db are zeros (sums over nothing).
 * Errors: as convpool_op_run_ex(), plus INVALID_ARGUMENT (a pooling op,
 * NULL x or dy with a non-empty input, dw or db NULL with a non-zero
 * count), BUFFER_TOO_SMALL (dy_count, dw_count or db_count too small).
 * Thread-safe.
 */
CONVPOOL_API convpool_status convpool_op_backward_weights(const convpool_op *op,
                                                          convpool_context *ctx,
                                                          const int64_t *input_shape,
                                                          size_t input_rank,
                                                          const float *x,
                                                          const float *dy,
                                                          size_t dy_count,
                                                          float *dw,
                                                          size_t dw_count,
                                                          float *db,
                                                          size_t db_count,
                                                          void *workspace,
                                                          size_t workspace_size);

/**
 * The workspace in bytes that the backward pass `pass` (a
 * convpool_backward_pass) of this op needs for this forward input shape with
 * `ctx` (NULL: the default context); 0 if none. One size serves both forms
 * of MaxPool's backward_data (with or without indices).
 * Errors: as convpool_op_workspace_size(), plus INVALID_ARGUMENT (unknown
 * pass, BACKWARD_WEIGHTS of a pooling op, BACKWARD_DATA of a Conv or
 * ConvTranspose op created without CONVPOOL_CREATE_BACKWARD). Thread-safe.
 */
CONVPOOL_API convpool_status convpool_op_backward_workspace_size(const convpool_op *op,
                                                                 convpool_context *ctx,
                                                                 const int64_t *input_shape,
                                                                 size_t input_rank,
                                                                 int32_t pass,
                                                                 size_t *workspace_size);

#ifdef __cplusplus
}
#endif

#endif /* CONVPOOL_H */
