/*
 * test_malformed DATA_DIR: broken models must be refused with the right
 * status and a message that says why, and never crash or leak (the suite
 * also runs this under valgrind). Covers the committed files written by
 * make_malformed.py, every truncation of a valid model, and seeded random
 * byte flips of it (which must load cleanly or fail cleanly).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "convpool.h"
#include "onnx_check.h"

static const char *data_dir;

static const char *path_of(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", data_dir, name);
    return buf;
}

static void expect_refused_with(const char *file, size_t limit, convpool_status want,
                                const char *substring)
{
    convpool_model *m = NULL;
    convpool_status st = convpool_model_load_file(path_of(file), limit, &m);
    const char *msg = convpool_last_error();
    CHECK(st == want && m == NULL && strstr(msg, substring) != NULL,
          "%s: got %s '%s'; want %s containing '%s'", file, convpool_status_string(st), msg,
          convpool_status_string(want), substring);
    if (st == want)
        printf("ok  %-28s %s\n", file, msg);
    convpool_model_destroy(m);
}

static void expect_refused(const char *file, convpool_status want, const char *substring)
{
    expect_refused_with(file, CONVPOOL_MEMORY_LIMIT_DEFAULT, want, substring);
}

static unsigned char *read_file(const char *name, size_t *size)
{
    FILE *f = fopen(path_of(name), "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* Runs a model that loaded on a small input, if its shapes allow, to make
 * sure a model that passed validation also runs cleanly. */
static void try_run(const convpool_model *m)
{
    convpool_session *s = NULL;
    if (convpool_session_create(m, &s) != CONVPOOL_OK)
        return;
    float x[1 * 2 * 6 * 6];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)((i * 7) % 11) - 5.0f;
    int64_t shape[4] = {1, 2, 6, 6};
    int32_t dtype;
    size_t rank;
    int64_t dims[8];
    if (convpool_model_input_count(m) == 1 &&
        convpool_model_input_info(m, 0, &dtype, &rank, dims, 8) == CONVPOOL_OK &&
        dtype == CONVPOOL_DTYPE_FLOAT && rank == 4 &&
        convpool_session_set_input(s, 0, dtype, shape, 4, x) == CONVPOOL_OK) {
        convpool_status st = convpool_session_run(s, NULL);
        CHECK(st == CONVPOOL_OK || *convpool_last_error(), "run failed without a message");
    }
    convpool_session_destroy(s);
}

static int mutants_loaded;

static void load_mutant(const unsigned char *bytes, size_t size, const char *what)
{
    convpool_model *m = NULL;
    convpool_status st = convpool_model_load_memory(bytes, size, 0, &m);
    if (st == CONVPOOL_OK) {
        mutants_loaded++;
        try_run(m);
        convpool_model_destroy(m);
        return;
    }
    CHECK(m == NULL && *convpool_last_error(), "%s: %s without a message", what,
          convpool_status_string(st));
}

static void truncations_and_flips(void)
{
    size_t size;
    unsigned char *base = read_file("base.onnx", &size);
    CHECK(base != NULL, "cannot read base.onnx");
    if (!base)
        return;
    convpool_model *m = NULL;
    CHECK(convpool_model_load_memory(base, size, 0, &m) == CONVPOOL_OK, "base.onnx: %s",
          convpool_last_error());
    convpool_model_destroy(m);
    unsigned char *copy = malloc(size);
    int refused = 0;
    for (size_t len = 0; len < size; len++) {
        m = NULL;
        convpool_status st = convpool_model_load_memory(base, len, 0, &m);
        refused += st != CONVPOOL_OK;
        if (st == CONVPOOL_OK) {
            try_run(m);
            convpool_model_destroy(m);
        } else {
            CHECK(*convpool_last_error(), "truncation to %zu: no message", len);
        }
    }
    /* A cut inside a field must be refused; a few cuts at field boundaries
     * still parse but then fail validation: every cut is refused. */
    CHECK(refused == (int)size, "%d of %zu truncations refused", refused, size);
    printf("ok  %zu truncations refused\n", size);
    unsigned seed = 12345;
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(copy, base, size);
        int flips = 1 + trial % 3;
        for (int k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % size;
            seed = seed * 1103515245u + 12345u;
            copy[at] ^= (unsigned char)(1u + ((seed >> 16) % 255u));
        }
        char what[64];
        snprintf(what, sizeof what, "flip trial %d", trial);
        load_mutant(copy, size, what);
    }
    printf("ok  3000 seeded byte-flip mutants loaded (%d) or refused cleanly\n", mutants_loaded);
    free(copy);
    free(base);
}

/* Loads `file` and runs it on a fixed (1, 2, 6, 6) input; 1 on success. */
static int run_file(const char *file, float out[27])
{
    convpool_model *m = NULL;
    convpool_session *s = NULL;
    float x[72];
    for (int i = 0; i < 72; i++)
        x[i] = (float)(i % 9) - 4.0f;
    int64_t shape[4] = {1, 2, 6, 6};
    const void *y = NULL;
    int ok = convpool_model_load_file(path_of(file), 0, &m) == CONVPOOL_OK &&
             convpool_session_create(m, &s) == CONVPOOL_OK &&
             convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, x) == CONVPOOL_OK &&
             convpool_session_run(s, NULL) == CONVPOOL_OK &&
             convpool_session_output(s, 0, NULL, NULL, NULL, &y) == CONVPOOL_OK;
    if (ok)
        memcpy(out, y, 27 * sizeof(float));
    else
        printf("%s: %s\n", file, convpool_last_error());
    convpool_session_destroy(s);
    convpool_model_destroy(m);
    return ok;
}

static void external_from_memory_and_limit(void)
{
    size_t size;
    unsigned char *bytes = read_file("external_ok.onnx", &size);
    CHECK(bytes != NULL, "cannot read external_ok.onnx");
    convpool_model *m = NULL;
    convpool_status st = convpool_model_load_memory(bytes, size, 0, &m);
    CHECK(st == CONVPOOL_ERROR_UNSUPPORTED && strstr(convpool_last_error(), "from memory"),
          "external data from memory: %s %s", convpool_status_string(st),
          convpool_last_error());
    free(bytes);
    /* The same weights from an external file give the same outputs. */
    float a[3 * 3 * 3], b[3 * 3 * 3];
    CHECK(run_file("external_ok.onnx", a) && run_file("base.onnx", b) &&
              memcmp(a, b, sizeof a) == 0, "external_ok.onnx differs from base.onnx");
    m = NULL;
    st = convpool_model_load_file(path_of("base.onnx"), 300, &m);
    CHECK(st == CONVPOOL_ERROR_OUT_OF_MEMORY && strstr(convpool_last_error(), "memory limit"),
          "base.onnx with a 300-byte limit: %s %s", convpool_status_string(st),
          convpool_last_error());
    /* 500 bytes hold the 441-byte file and its 228 bytes of weights, but
     * not the ops' packed copies of the weights too (>= 384 bytes on any
     * ISA path): refused at load, naming them. */
    m = NULL;
    st = convpool_model_load_file(path_of("base.onnx"), 500, &m);
    CHECK(st == CONVPOOL_ERROR_OUT_OF_MEMORY && strstr(convpool_last_error(), "packed copies"),
          "base.onnx with a 500-byte limit: %s %s", convpool_status_string(st),
          convpool_last_error());
    /* 256 KiB hold the weights, a batch of 1 and any workspace, but not the
     * 1.7 MiB of intermediates of a batch of 4096. */
    m = NULL;
    st = convpool_model_load_file(path_of("base.onnx"), 256 << 10, &m);
    CHECK(st == CONVPOOL_OK, "base.onnx with a 256 KiB limit: %s", convpool_last_error());
    convpool_session *s = NULL;
    static float x[4096 * 2 * 6 * 6];
    int64_t shape[4] = {1, 2, 6, 6};
    CHECK(m && convpool_session_create(m, &s) == CONVPOOL_OK &&
          convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, x) == CONVPOOL_OK &&
          convpool_session_run(s, NULL) == CONVPOOL_OK, "batch 1: %s", convpool_last_error());
    shape[0] = 4096;
    st = s ? convpool_session_set_input(s, 0, CONVPOOL_DTYPE_FLOAT, shape, 4, x) : st;
    st = s ? convpool_session_run(s, NULL) : st;
    CHECK(st == CONVPOOL_ERROR_OUT_OF_MEMORY && strstr(convpool_last_error(), "memory limit"),
          "batch 4096 under a 256 KiB limit: %s %s", convpool_status_string(st),
          convpool_last_error());
    convpool_session_destroy(s);
    convpool_model_destroy(m);
    printf("ok  external data from memory refused; memory limit enforced\n");
}

/* Graph outputs, packed weights and ops rebuilt per run all count against
 * the limit, not just intermediates; the limit holds by default too. */
static void memory_limits(void)
{
    /* 119 bytes asking for a 32769 x 32769 float output (4.3 GB): refused at
     * load under a 100 MB limit, naming the outputs, without allocating. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_refused_with("huge_output_from_pads.onnx", 100000000, CONVPOOL_ERROR_OUT_OF_MEMORY,
                        "outputs 4295229444, ");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(ms < 2000, "huge_output_from_pads.onnx: refusing took %.0f ms", ms);
    /* The default limit is half the physical memory: more than this
     * machine's RAM is refused by default. */
    size_t def = convpool_default_memory_limit();
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    CHECK(pages > 0 && page > 0 && def == (size_t)pages * (size_t)page / 2,
          "default memory limit %zu is not half of %ld pages of %ld bytes", def, pages, page);
    convpool_model *m = NULL;
    CHECK(convpool_model_load_file(path_of("huge_output_from_pads.onnx"),
                                   CONVPOOL_MEMORY_LIMIT_NONE, &m) == CONVPOOL_OK,
          "huge_output_from_pads.onnx without a limit: %s", convpool_last_error());
    convpool_model_destroy(m);
    /* A Conv whose W is a graph input is rebuilt for each run: its packed
     * copy counts too (planned at load, the input shapes being static). */
    m = NULL;
    convpool_status st = convpool_model_load_file(
        path_of("../onnx-node/test_basic_conv_with_padding/model.onnx"), 600, &m);
    const char *msg = convpool_last_error();
    const char *rebuilt = strstr(msg, "weights given as inputs ");
    CHECK(st == CONVPOOL_ERROR_OUT_OF_MEMORY && rebuilt &&
              atol(rebuilt + strlen("weights given as inputs ")) >= 36,
          "conv with W as an input under 600 bytes: %s %s", convpool_status_string(st), msg);
    convpool_model_destroy(m);
    printf("ok  memory limits: outputs and rebuilt ops counted; default %zu bytes\n", def);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: loading from a FIFO blocked for 10 s\n";
    if (write(1, msg, sizeof msg - 1) < 0)
        _exit(1);
    _exit(1);
}

/* Copies data_dir/name to dir/as; 0 on failure. */
static int copy_to(const char *name, const char *dir, const char *as)
{
    size_t size;
    unsigned char *bytes = read_file(name, &size);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, as);
    FILE *f = bytes ? fopen(path, "wb") : NULL;
    int ok = f && fwrite(bytes, 1, size, f) == size;
    if (f)
        ok &= fclose(f) == 0;
    free(bytes);
    return ok;
}

/*
 * A FIFO as the model or as its external data is refused at once (it used
 * to block in open() forever), and external data that is missing or leads
 * out of the model's directory gets one message, whatever lies outside.
 */
static void special_files(void)
{
    char dir[] = "/tmp/convpool-malformed-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char model[4096], data[4096];
    snprintf(model, sizeof model, "%s/model.onnx", dir);
    snprintf(data, sizeof data, "%s/external_ok.bin", dir);
    signal(SIGALRM, on_alarm);
    alarm(10);

    convpool_model *m = NULL;
    CHECK(mkfifo(model, 0600) == 0, "mkfifo %s", model);
    convpool_status st = convpool_model_load_file(model, 0, &m);
    CHECK(st == CONVPOOL_ERROR_IO && strstr(convpool_last_error(), "is a FIFO, not a regular"),
          "FIFO as the model: %s %s", convpool_status_string(st), convpool_last_error());
    unlink(model);

    CHECK(copy_to("external_ok.onnx", dir, "model.onnx"), "copy external_ok.onnx");
    CHECK(mkfifo(data, 0600) == 0, "mkfifo %s", data);
    st = convpool_model_load_file(model, 0, &m);
    CHECK(st == CONVPOOL_ERROR_IO &&
              strstr(convpool_last_error(), "external data 'external_ok.bin' of tensor 'W' is "
                                            "a FIFO, not a regular file"),
          "FIFO as external data: %s %s", convpool_status_string(st), convpool_last_error());
    unlink(data);
    alarm(0);

    /* Missing, a link to an existing file outside, a link to a missing one
     * outside: the same status and message. */
    char first[1024] = "";
    const char *targets[] = {NULL, "/etc/passwd", "/nonexistent/convpool/x"};
    for (int i = 0; i < 3; i++) {
        CHECK(!targets[i] || symlink(targets[i], data) == 0, "symlink %s", targets[i]);
        st = convpool_model_load_file(model, 0, &m);
        const char *msg = convpool_last_error();
        CHECK(st == CONVPOOL_ERROR_IO && !strstr(msg, "/etc") && !strstr(msg, "nonexistent") &&
                  (i == 0 || strcmp(msg, first) == 0),
              "external data -> %s: %s '%s' (missing: '%s')", targets[i] ? targets[i] : "none",
              convpool_status_string(st), msg, first);
        if (i == 0)
            snprintf(first, sizeof first, "%s", msg);
        unlink(data);
    }
    CHECK(m == NULL, "a refused model was returned");
    unlink(model);
    rmdir(dir);
    printf("ok  FIFOs refused without blocking; no probing outside the model's directory\n");
}

/* Appends a length-delimited field `field` holding [inner, inner + n) to out. */
static size_t wrap(unsigned char *out, int field, const unsigned char *inner, size_t n)
{
    size_t k = 0;
    out[k++] = (unsigned char)(field << 3 | 2);
    for (size_t v = n; ; v >>= 7) {
        out[k++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        if (v <= 0x7f)
            break;
    }
    memmove(out + k, inner, n);
    return k + n;
}

/* Graph -> node -> attribute -> graph ... 200 levels deep: refused before
 * protobuf-c's recursive unpacker could exhaust the stack. */
static void deep_nesting(void)
{
    enum { LEVELS = 200 };
    unsigned char *a = calloc(LEVELS * 20 + 64, 1), *b = calloc(LEVELS * 20 + 64, 1);
    size_t n = 0;
    for (int level = 0; level < LEVELS; level++) {
        n = wrap(b, 6, a, n);  /* AttributeProto.g */
        n = wrap(a, 5, b, n);  /* NodeProto.attribute */
        n = wrap(b, 1, a, n);  /* GraphProto.node */
        memcpy(a, b, n);
    }
    n = wrap(b, 7, a, n);      /* ModelProto.graph */
    convpool_model *m = NULL;
    convpool_status st = convpool_model_load_memory(b, n, 0, &m);
    CHECK(st == CONVPOOL_ERROR_INVALID_MODEL && strstr(convpool_last_error(), "nested deeper"),
          "deep nesting: %s %s", convpool_status_string(st), convpool_last_error());
    convpool_model_destroy(m);
    free(a);
    free(b);
    printf("ok  %d-level nesting refused\n", LEVELS * 3);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s tests/data/malformed\n", argv[0]);
        return 2;
    }
    data_dir = argv[1];
    static const struct {
        const char *file;
        convpool_status status;
        const char *message;
    } cases[] = {
        {"empty.onnx", CONVPOOL_ERROR_INVALID_MODEL, "is empty"},
        {"not_onnx.onnx", CONVPOOL_ERROR_INVALID_MODEL, "not a valid ONNX"},
        {"no_such_file.onnx", CONVPOOL_ERROR_IO, "cannot open"},
        {"wrong_raw_size.onnx", CONVPOOL_ERROR_INVALID_MODEL,
          "tensor 'W': raw_data has 212 bytes; dims need 54 FLOAT elements = 216"},
        {"negative_dim.onnx", CONVPOOL_ERROR_INVALID_MODEL, "tensor 'B': dims[0] = -3 is negative"},
        {"overflow_dims.onnx", CONVPOOL_ERROR_OVERFLOW, "tensor 'B': the element count"},
        {"unknown_op.onnx", CONVPOOL_ERROR_UNSUPPORTED,
          "node 1 ('pool'): op type 'Relu' is not supported; supported: Conv, ConvTranspose, MaxPool"},
        {"cyclic.onnx", CONVPOOL_ERROR_INVALID_MODEL, "cycle"},
        {"missing_initializer.onnx", CONVPOOL_ERROR_INVALID_MODEL,
          "node 0 ('conv'): input 'W' is not defined"},
        {"wrong_attribute_type.onnx", CONVPOOL_ERROR_INVALID_ATTRIBUTE,
          "node 1 ('pool'): attribute 'strides' has type INT; MaxPool needs INTS"},
        {"attribute_not_in_opset.onnx", CONVPOOL_ERROR_INVALID_ATTRIBUTE,
          "attribute 'dilations' is not defined for AveragePool-11"},
        {"uint8_before_opset12.onnx", CONVPOOL_ERROR_UNSUPPORTED,
          "node 0 ('pool'): input 'x' has element type UINT8; MaxPool-11 supports FLOAT only "
          "(UINT8 and INT8 from MaxPool-12)"},
        {"external_dotdot.onnx", CONVPOOL_ERROR_INVALID_MODEL, "outside the model's directory"},
        {"external_absolute.onnx", CONVPOOL_ERROR_INVALID_MODEL, "outside the model's directory"},
        {"external_symlink.onnx", CONVPOOL_ERROR_IO,
          "external data 'link_outside.bin' is not a file inside the model's directory"},
        {"dim_param_negative_dim.onnx", CONVPOOL_ERROR_INVALID_MODEL,
          "'x': dim 1 = -2 is negative"},
        {"dim_param_duplicate_input.onnx", CONVPOOL_ERROR_INVALID_MODEL,
          "graph input 'x' is defined twice"},
        {"duplicate_name.onnx", CONVPOOL_ERROR_INVALID_MODEL, "'c' is defined twice"},
        {"missing_output.onnx", CONVPOOL_ERROR_INVALID_MODEL, "graph output 'z' is not produced"},
        {"ir_too_old.onnx", CONVPOOL_ERROR_UNSUPPORTED, "IR version 2"},
        {"opset_too_new.onnx", CONVPOOL_ERROR_UNSUPPORTED, "opset 23"},
        {"float_data_count.onnx", CONVPOOL_ERROR_INVALID_MODEL,
          "tensor 'B': the typed data field has 2 values; dims need 3"},
        {"wrong_element_type.onnx", CONVPOOL_ERROR_UNSUPPORTED,
          "tensor 'W': element type 11 (DOUBLE) is not supported"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(cases[i].file, cases[i].status, cases[i].message);
    external_from_memory_and_limit();
    memory_limits();
    special_files();
    deep_nesting();
    truncations_and_flips();
    printf(failures ? "FAILED: %d checks\n" : "PASS\n", failures);
    return failures ? 1 : 0;
}
