/*
 * test_alloc_fail DATA_DIR: every allocation the library makes is made to
 * fail in turn, along model loading, session creation, shape queries,
 * runs (on the default context and on a 2-thread one), op creation, op
 * runs without a caller workspace, context creation and the default
 * context's creation. The allocator's test hook fails the k-th allocation
 * of a step, for k = 1, 2, ... until the step completes without reaching
 * k. Each injected failure must come back as OUT_OF_MEMORY with a message
 * and no out-object, must leave no block allocated (the allocator's live
 * count, checked after every k; LSan too in the sanitizer build), and must
 * leave the objects made before usable: the step is redone without
 * failures and must give the same result, bit for bit, as a run that
 * never failed. Prints, per scenario, how many k were tried.
 *
 * DATA_DIR is tests/data: the models come from onnx-loader, malformed
 * (valid reference models among them) and onnx-node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "convpool.h"
#include "onnx_check.h"
#include "runtime/alloc.h"

static int verbose; /* -v: print every reported failure's message */
static unsigned long long total_k;

/* ---- models: bind deterministic inputs, run, digest the outputs ---- */

#define MAX_INPUTS 4

typedef struct bound_inputs {
    void *data[MAX_INPUTS];
} bound_inputs;

static void free_inputs(bound_inputs *b)
{
    for (int i = 0; i < MAX_INPUTS; i++)
        free(b->data[i]);
    memset(b, 0, sizeof *b);
}

/* Binds every input of `m` in `s`: symbolic dims 2, values a fixed pattern. */
static int bind_inputs(const convpool_model *m, convpool_session *s, bound_inputs *b)
{
    memset(b, 0, sizeof *b);
    size_t n = convpool_model_input_count(m);
    if (n > MAX_INPUTS)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int32_t dtype;
        size_t rank;
        int64_t dims[8];
        if (convpool_model_input_info(m, i, &dtype, &rank, dims, 8) != CONVPOOL_OK)
            return 0;
        size_t count = 1;
        for (size_t d = 0; d < rank; d++) {
            if (dims[d] < 0)
                dims[d] = 2;
            count *= (size_t)dims[d];
        }
        size_t elem = dtype == CONVPOOL_DTYPE_FLOAT ? 4 : dtype == CONVPOOL_DTYPE_INT64 ? 8 : 1;
        unsigned char *bytes = malloc(count * elem + 1);
        if (!bytes)
            return 0;
        b->data[i] = bytes;
        for (size_t k = 0; k < count; k++) {
            if (dtype == CONVPOOL_DTYPE_FLOAT)
                ((float *)bytes)[k] = (float)((long)((k * 37 + i) % 17) - 8) / 8.0f;
            else if (dtype == CONVPOOL_DTYPE_INT64)
                ((int64_t *)bytes)[k] = (int64_t)(k % 13);
            else
                bytes[k] = (unsigned char)(k * 29 + 7);
        }
        if (convpool_session_set_input(s, i, dtype, dims, rank, bytes) != CONVPOOL_OK)
            return 0;
    }
    return 1;
}

static unsigned long long fnv(unsigned long long h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* A digest of every output of the last run (types, shapes and bytes). */
static unsigned long long digest(const convpool_session *s, size_t outputs)
{
    unsigned long long h = 1469598103934665603ull;
    for (size_t j = 0; j < outputs; j++) {
        int32_t dtype;
        size_t rank;
        const int64_t *dims;
        const void *data;
        if (convpool_session_output(s, j, &dtype, &rank, &dims, &data) != CONVPOOL_OK)
            return 0;
        size_t count = 1;
        for (size_t d = 0; d < rank; d++)
            count *= (size_t)dims[d];
        size_t elem = dtype == CONVPOOL_DTYPE_FLOAT ? 4 : dtype == CONVPOOL_DTYPE_INT64 ? 8 : 1;
        h = fnv(h, &dtype, sizeof dtype);
        h = fnv(h, dims, rank * sizeof *dims);
        h = fnv(h, data, count * elem);
    }
    return h;
}

/* Creates a session on `m`, binds, runs on ctx and digests; 0 on failure. */
static unsigned long long run_digest(const convpool_model *m, convpool_context *ctx)
{
    convpool_session *s = NULL;
    bound_inputs b;
    unsigned long long h = 0;
    if (convpool_session_create(m, &s) == CONVPOOL_OK && bind_inputs(m, s, &b) &&
        convpool_session_run(s, ctx) == CONVPOOL_OK)
        h = digest(s, convpool_model_output_count(m));
    free_inputs(&b);
    convpool_session_destroy(s);
    return h;
}

/* ---- the injection loop ---- */

/*
 * A step under test. prepare() makes what the step needs (no failures are
 * injected there), step() is run with the k-th allocation failing, and
 * finish(ok) checks the out-object is NULL after a failure, makes sure the
 * step's result exists (redoing the step without failures if needed),
 * checks it against the reference and destroys everything.
 */
typedef struct scenario {
    const char *name;
    void (*prepare)(void *state);
    convpool_status (*step)(void *state);
    void (*finish)(void *state, int ok);
    void *state;
} scenario;

static void no_prepare(void *state)
{
    (void)state;
}

static void inject(const scenario *sc)
{
    const long long live_before = cp_alloc_test_live();
    unsigned long long k = 1, injected = 0, tolerated = 0;
    for (;; k++) {
        sc->prepare(sc->state);
        cp_alloc_test_arm(k);
        convpool_status st = sc->step(sc->state);
        const int fired = cp_alloc_test_fired();
        cp_alloc_test_arm(0);
        if (fired && st != CONVPOOL_OK) {
            injected++;
            const char *msg = convpool_last_error();
            if (verbose)
                printf("    %s, allocation %llu: %s\n", sc->name, k, msg);
            CHECK(st == CONVPOOL_ERROR_OUT_OF_MEMORY && *msg,
                  "%s: allocation %llu failed: got %s '%s', want out of memory with a message",
                  sc->name, k, convpool_status_string(st), msg);
        } else if (fired) {
            tolerated++; /* the step worked around the failure; finish() checks its result */
        } else {
            CHECK(st == CONVPOOL_OK, "%s: failed without an injected failure", sc->name);
        }
        sc->finish(sc->state, st == CONVPOOL_OK);
        const long long live = cp_alloc_test_live();
        CHECK(live == live_before, "%s: allocation %llu failed: %lld blocks leaked", sc->name, k,
              live - live_before);
        if (!fired || k >= 100000)
            break;
    }
    total_k += k - 1;
    printf("ok  %-52s %4llu allocations failed in turn: %llu reported, %llu worked around\n",
           sc->name, k - 1, injected, tolerated);
}

/* ---- model scenarios ---- */

typedef struct model_state {
    const char *path;
    unsigned long long want;      /* reference digest on the default context */
    unsigned long long want_ctx2; /* and on a 2-thread context */
    convpool_model *model;        /* loaded before the step, or by it */
    convpool_session *session;
    convpool_context *ctx2;
    bound_inputs inputs;
} model_state;

static convpool_status step_load(void *p)
{
    model_state *ms = p;
    ms->model = NULL;
    return convpool_model_load_file(ms->path, 0, &ms->model);
}

static void finish_load(void *p, int ok)
{
    model_state *ms = p;
    CHECK(ok || !ms->model, "%s: a failed load returned a model", ms->path);
    if (!ok)
        CHECK(convpool_model_load_file(ms->path, 0, &ms->model) == CONVPOOL_OK, "%s: reload",
              ms->path);
    CHECK(run_digest(ms->model, NULL) == ms->want, "%s: loaded model gives other results",
          ms->path);
    convpool_model_destroy(ms->model);
    ms->model = NULL;
}

static convpool_status step_session(void *p)
{
    model_state *ms = p;
    ms->session = NULL;
    return convpool_session_create(ms->model, &ms->session);
}

static void finish_session(void *p, int ok)
{
    model_state *ms = p;
    CHECK(ok || !ms->session, "%s: a failed session_create returned a session", ms->path);
    convpool_session_destroy(ms->session);
    ms->session = NULL;
    CHECK(run_digest(ms->model, NULL) == ms->want, "%s: the model no longer runs", ms->path);
}

/* A fresh session with bound inputs, so that the step plans from scratch. */
static void prepare_bound_session(void *p)
{
    model_state *ms = p;
    ms->session = NULL;
    CHECK(convpool_session_create(ms->model, &ms->session) == CONVPOOL_OK &&
              bind_inputs(ms->model, ms->session, &ms->inputs),
          "%s: session", ms->path);
}

static convpool_status step_run(void *p)
{
    model_state *ms = p;
    return convpool_session_run(ms->session, NULL);
}

static convpool_status step_run_ctx2(void *p)
{
    model_state *ms = p;
    return convpool_session_run(ms->session, ms->ctx2);
}

/* After a failed run, the same session runs (no rebinding) and agrees. */
static void finish_run_on(model_state *ms, int ok, convpool_context *ctx, unsigned long long want)
{
    if (!ok)
        CHECK(convpool_session_run(ms->session, ctx) == CONVPOOL_OK, "%s: rerun after a failure",
              ms->path);
    CHECK(digest(ms->session, convpool_model_output_count(ms->model)) == want,
          "%s: results differ after a failed run", ms->path);
    convpool_session_destroy(ms->session);
    ms->session = NULL;
    free_inputs(&ms->inputs);
}

static void finish_run(void *p, int ok)
{
    model_state *ms = p;
    finish_run_on(ms, ok, NULL, ms->want);
}

static void finish_run_ctx2(void *p, int ok)
{
    model_state *ms = p;
    finish_run_on(ms, ok, ms->ctx2, ms->want_ctx2);
}

static convpool_status step_output_shape(void *p)
{
    model_state *ms = p;
    int32_t dtype;
    size_t rank;
    int64_t dims[8];
    convpool_status st = CONVPOOL_OK;
    for (size_t j = 0; st == CONVPOOL_OK && j < convpool_model_output_count(ms->model); j++)
        st = convpool_session_output_shape(ms->session, j, &dtype, &rank, dims, 8);
    return st;
}

static void finish_output_shape(void *p, int ok)
{
    model_state *ms = p;
    if (!ok)
        CHECK(step_output_shape(ms) == CONVPOOL_OK, "%s: shape query after a failure", ms->path);
    finish_run_on(ms, 0, NULL, ms->want);
}

static void model_scenarios(const char *path)
{
    model_state ms = {.path = path};
    convpool_model *m = NULL;
    CHECK(convpool_model_load_file(path, 0, &m) == CONVPOOL_OK, "%s: load", path);
    CHECK(convpool_context_create(2, &ms.ctx2) == CONVPOOL_OK, "context");
    if (!m || !ms.ctx2)
        return;
    ms.want = run_digest(m, NULL);
    ms.want_ctx2 = run_digest(m, ms.ctx2);
    CHECK(ms.want != 0 && ms.want == ms.want_ctx2, "%s: reference runs", path);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *parent = path;
    for (const char *q = path; q < base - 1; q++)
        if (*q == '/')
            parent = q + 1;
    char names[5][4300];
    const char *what[5] = {"load", "session create", "output shape", "run", "run, 2 threads"};
    for (int i = 0; i < 5; i++)
        snprintf(names[i], sizeof names[i], "%.*s%s: %s", (int)(base - parent), parent, base,
                 what[i]);
    scenario load = {names[0], no_prepare, step_load, finish_load, &ms};
    inject(&load);
    ms.model = m;
    scenario session = {names[1], no_prepare, step_session, finish_session, &ms};
    scenario shape = {names[2], prepare_bound_session, step_output_shape, finish_output_shape, &ms};
    scenario run = {names[3], prepare_bound_session, step_run, finish_run, &ms};
    scenario run2 = {names[4], prepare_bound_session, step_run_ctx2, finish_run_ctx2, &ms};
    inject(&session);
    inject(&shape);
    inject(&run);
    inject(&run2);
    convpool_model_destroy(m);
    convpool_context_destroy(ms.ctx2);
}

/* ---- op API scenarios ---- */

enum { OP_C = 3, OP_M = 8, OP_HW = 12 };

typedef struct op_state {
    float w[OP_M * OP_C * 9], b[OP_M], x[2 * OP_C * OP_HW * OP_HW];
    float y[2 * OP_M * OP_HW * OP_HW], want[2 * OP_M * OP_HW * OP_HW];
    convpool_op *op;
    convpool_context *ctx;
} op_state;

static const int64_t op_x_shape[4] = {2, OP_C, OP_HW, OP_HW};

static convpool_status make_conv(op_state *os, convpool_op **op)
{
    static const int64_t pads[4] = {1, 1, 1, 1}, wshape[4] = {OP_M, OP_C, 3, 3};
    convpool_desc *d = NULL;
    *op = NULL;
    convpool_status st = convpool_desc_create(CONVPOOL_OP_CONV, 2, &d);
    if (st == CONVPOOL_OK)
        st = convpool_desc_set_ints(d, CONVPOOL_ATTR_PADS, pads, 4);
    if (st == CONVPOOL_OK)
        st = convpool_conv_create(d, wshape, 4, os->w, os->b, op);
    convpool_desc_destroy(d);
    return st;
}

static convpool_status step_conv_create(void *p)
{
    op_state *os = p;
    return make_conv(os, &os->op);
}

/* The op (made now if the step failed) computes the reference result. */
static void finish_conv_create(void *p, int ok)
{
    op_state *os = p;
    CHECK(ok || !os->op, "a failed conv_create returned an op");
    if (!ok)
        CHECK(make_conv(os, &os->op) == CONVPOOL_OK, "conv_create after a failure");
    memset(os->y, 0, sizeof os->y);
    CHECK(os->op &&
              convpool_op_run(os->op, op_x_shape, 4, os->x, os->y,
                              sizeof os->y / sizeof os->y[0]) == CONVPOOL_OK &&
              memcmp(os->y, os->want, sizeof os->y) == 0,
          "conv results differ");
    convpool_op_destroy(os->op);
    os->op = NULL;
}

/* A fresh one-thread context: its cached scratch does not exist yet. */
static void prepare_op_run(void *p)
{
    op_state *os = p;
    CHECK(convpool_context_create(1, &os->ctx) == CONVPOOL_OK, "context");
    CHECK(make_conv(os, &os->op) == CONVPOOL_OK, "conv_create");
}

static convpool_status step_op_run(void *p)
{
    op_state *os = p;
    return convpool_op_run_ex(os->op, os->ctx, op_x_shape, 4, os->x, os->y,
                              sizeof os->y / sizeof os->y[0], NULL, NULL, 0);
}

static void finish_op_run(void *p, int ok)
{
    op_state *os = p;
    if (!ok)
        CHECK(step_op_run(os) == CONVPOOL_OK, "op run after a failure");
    CHECK(memcmp(os->y, os->want, sizeof os->y) == 0, "op results differ after a failure");
    convpool_op_destroy(os->op);
    convpool_context_destroy(os->ctx);
    os->op = NULL;
    os->ctx = NULL;
}

static convpool_status step_pool_create(void *p)
{
    op_state *os = p;
    static const int64_t kernel[2] = {3, 3};
    convpool_desc *d = NULL;
    os->op = NULL;
    convpool_status st = convpool_desc_create(CONVPOOL_OP_MAX_POOL, 2, &d);
    if (st == CONVPOOL_OK)
        st = convpool_desc_set_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, kernel, 2);
    if (st == CONVPOOL_OK)
        st = convpool_pool_create(d, &os->op);
    convpool_desc_destroy(d);
    return st;
}

static void finish_pool_create(void *p, int ok)
{
    op_state *os = p;
    CHECK(ok || !os->op, "a failed pool_create returned an op");
    if (!ok)
        CHECK(step_pool_create(os) == CONVPOOL_OK, "pool_create after a failure");
    CHECK(os->op && convpool_op_run(os->op, op_x_shape, 4, os->x, os->y,
                                    sizeof os->y / sizeof os->y[0]) == CONVPOOL_OK,
          "pool run");
    convpool_op_destroy(os->op);
    os->op = NULL;
}

static convpool_status step_context(void *p)
{
    op_state *os = p;
    os->ctx = NULL;
    return convpool_context_create(2, &os->ctx);
}

static void finish_context(void *p, int ok)
{
    op_state *os = p;
    CHECK(ok || !os->ctx, "a failed context_create returned a context");
    if (!ok)
        CHECK(step_context(os) == CONVPOOL_OK, "context_create after a failure");
    CHECK(convpool_context_num_threads(os->ctx) == 2, "context threads");
    convpool_op *op = NULL;
    CHECK(make_conv(os, &op) == CONVPOOL_OK &&
              convpool_op_run_ex(op, os->ctx, op_x_shape, 4, os->x, os->y,
                                 sizeof os->y / sizeof os->y[0], NULL, NULL, 0) == CONVPOOL_OK &&
              memcmp(os->y, os->want, sizeof os->y) == 0,
          "run on the context");
    convpool_op_destroy(op);
    convpool_context_destroy(os->ctx);
    os->ctx = NULL;
}

static void op_scenarios(void)
{
    static op_state os;
    for (size_t i = 0; i < sizeof os.w / sizeof os.w[0]; i++)
        os.w[i] = (float)((long)(i * 7 % 11) - 5) / 4.0f;
    for (size_t i = 0; i < OP_M; i++)
        os.b[i] = (float)i / 8.0f;
    for (size_t i = 0; i < sizeof os.x / sizeof os.x[0]; i++)
        os.x[i] = (float)((long)(i * 37 % 17) - 8) / 8.0f;
    convpool_op *op = NULL;
    CHECK(make_conv(&os, &op) == CONVPOOL_OK &&
              convpool_op_run(op, op_x_shape, 4, os.x, os.want,
                              sizeof os.want / sizeof os.want[0]) == CONVPOOL_OK,
          "reference conv");
    convpool_op_destroy(op);
    const scenario list[] = {
        {"op: desc + conv_create", no_prepare, step_conv_create, finish_conv_create, &os},
        {"op: run without a workspace", prepare_op_run, step_op_run, finish_op_run, &os},
        {"op: desc + pool_create", no_prepare, step_pool_create, finish_pool_create, &os},
        {"context_create(2)", no_prepare, step_context, finish_context, &os},
    };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        inject(&list[i]);
}

/*
 * The default context is made once per process, at its first use: each k
 * runs in a child process. A failure there must not crash or leave the
 * process single-threaded for good: the run that met it runs on one
 * thread, and the next use creates the pool.
 */
static void default_context(void)
{
    setenv("CONVPOOL_NUM_THREADS", "2", 1);
    unsigned long long k = 1;
    int fired = 1;
    for (; fired && k < 100; k++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            cp_alloc_test_arm(k);
            int32_t first = convpool_context_num_threads(NULL);
            int hit = cp_alloc_test_fired();
            cp_alloc_test_arm(0);
            int32_t second = convpool_context_num_threads(NULL);
            if (second != 2) {
                printf("FAIL default context: allocation %llu failed: then %d threads, not 2\n", k,
                       (int)second);
                _exit(1);
            }
            if (hit && first != 1) {
                printf("FAIL default context: allocation %llu failed but %d threads\n", k,
                       (int)first);
                _exit(1);
            }
            _exit(hit ? 10 : 11);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) >= 10,
              "default context: child for allocation %llu: status %d", k, status);
        fired = WIFEXITED(status) && WEXITSTATUS(status) == 10;
    }
    total_k += k - 1;
    printf("ok  %-52s %4llu allocations failed in turn: one thread, then the pool\n",
           "default context creation", k - 2);
}

int main(int argc, char **argv)
{
    verbose = argc == 3 && strcmp(argv[2], "-v") == 0;
    if (argc != 2 && !verbose) {
        fprintf(stderr, "usage: %s tests/data [-v]\n", argv[0]);
        return 2;
    }
    default_context();
    /* Made now, so that runs on it allocate the same way for every k. */
    convpool_context_num_threads(NULL);
    static const char *models[] = {
        "onnx-loader/dag.onnx",
        "malformed/base.onnx",
        "malformed/external_ok.onnx",
        "onnx-node/test_maxpool_2d_uint8/model.onnx",
        "onnx-node/test_basic_conv_with_padding/model.onnx",
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], models[i]);
        model_scenarios(path);
    }
    op_scenarios();
    printf("%llu injected allocation failures in all\n", total_k);
    printf(failures ? "FAILED: %d checks\n" : "PASS\n", failures);
    return failures ? 1 : 0;
}
