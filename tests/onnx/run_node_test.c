/*
 * run_node_test DIR [--atol A] [--rtol R] [--expect-unsupported]
 *
 * Runs one ONNX backend node test directory (model.onnx,
 * test_data_set_0/input_N.pb, output_N.pb) through the model API and
 * compares every output as numpy's assert_allclose does (floats: |got -
 * want| <= atol + rtol * |want|; integers exactly). Prints the max error.
 * With --expect-unsupported, passes only if loading is refused with the
 * unsupported-op message. Test data files are read with the loader's own
 * TensorProto decoder (an internal helper).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"
#include "onnx/tensor.h"

static int expect_refusal(const char *model_path)
{
    convpool_model *m = NULL;
    convpool_status st = convpool_model_load_file(model_path, 0, &m);
    const char *msg = convpool_last_error();
    convpool_model_destroy(m);
    int ok = st == CONVPOOL_ERROR_UNSUPPORTED && strstr(msg, "node 0 (") &&
             strstr(msg, "is not supported; supported: Conv, MaxPool, AveragePool");
    printf("%s: load refused (%s): %s\n", ok ? "PASS" : "FAIL", convpool_status_string(st),
           msg);
    return ok ? 0 : 1;
}

/* Compares output j with the expected tensor; prints and returns 1 if they differ. */
/* Distance in units in the last place between two floats: how many
 * representable floats lie between them (0 when equal, both NaN, or +0/-0). */
static int64_t ulp_distance(float a, float b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b) ? 0 : INT64_MAX;
    int32_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    /* Map the sign-magnitude bit patterns onto one monotonic integer line. */
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
    int64_t lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return la > lb ? la - lb : lb - la;
}

static int compare(convpool_session *s, size_t j, const cp_tensor *want, double atol,
                   double rtol)
{
    int32_t dtype;
    size_t rank;
    const int64_t *dims;
    const void *data;
    if (convpool_session_output(s, j, &dtype, &rank, &dims, &data) != CONVPOOL_OK) {
        printf("FAIL: output %zu: %s\n", j, convpool_last_error());
        return 1;
    }
    if (dtype != want->dtype || rank != want->rank ||
        memcmp(dims, want->dims, rank * sizeof *dims) != 0) {
        printf("FAIL: output %zu ('%s'): type %s rank %zu, want type %s rank %zu (or dims "
               "differ)\n", j, want->name, cp_dtype_name(dtype), rank, cp_dtype_name(want->dtype),
               want->rank);
        return 1;
    }
    double max_err = 0;
    int64_t max_ulps = 0;
    int64_t bad = -1;
    for (int64_t i = 0; i < want->count; i++) {
        double got, exp, err;
        if (dtype == CONVPOOL_DTYPE_FLOAT) {
            got = ((const float *)data)[i];
            exp = ((const float *)want->data)[i];
            err = isnan(got) && isnan(exp) ? 0 : fabs(got - exp);
            int64_t ulps = ulp_distance(((const float *)data)[i], ((const float *)want->data)[i]);
            if (ulps > max_ulps)
                max_ulps = ulps;
            if (!(err <= atol + rtol * fabs(exp)) && bad < 0)
                bad = i;
        } else if (dtype == CONVPOOL_DTYPE_INT64) {
            int64_t g = ((const int64_t *)data)[i], e = ((const int64_t *)want->data)[i];
            got = (double)g;
            exp = (double)e;
            err = g == e ? 0 : fabs(got - exp);
            if (g != e && bad < 0)
                bad = i;
        } else {
            const uint8_t *g = data, *e = want->data;
            got = dtype == CONVPOOL_DTYPE_INT8 ? (int8_t)g[i] : g[i];
            exp = dtype == CONVPOOL_DTYPE_INT8 ? (int8_t)e[i] : e[i];
            err = fabs(got - exp);
            if (g[i] != e[i] && bad < 0)
                bad = i;
        }
        if (err > max_err || isnan(err))
            max_err = err;
        if (bad == i)
            printf("  first mismatch of output %zu at flat index %lld: got %.9g, want %.9g\n", j,
                   (long long)i, got, exp);
    }
    printf("%s: output %zu ('%s', %s, %lld elements): max abs error %.3g, max %lld ulp\n",
           bad < 0 ? "ok" : "FAIL", j, want->name, cp_dtype_name(dtype),
           (long long)want->count, max_err, (long long)max_ulps);
    return bad >= 0;
}

static int run_test(const char *dir, double atol, double rtol)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    convpool_model *m = NULL;
    convpool_session *s = NULL;
    size_t n_in = 0;
    cp_tensor *inputs = NULL;
    int failed = 1;
    if (convpool_model_load_file(path, 0, &m) != CONVPOOL_OK ||
        convpool_session_create(m, &s) != CONVPOOL_OK) {
        printf("FAIL: %s\n", convpool_last_error());
        goto done;
    }
    n_in = convpool_model_input_count(m);
    inputs = calloc(n_in + 1, sizeof *inputs);
    for (size_t i = 0; i < n_in; i++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%zu.pb", dir, i);
        if (cp_tensor_read_file(path, &inputs[i]) != CONVPOOL_OK ||
            convpool_session_set_input(s, i, inputs[i].dtype, inputs[i].dims, inputs[i].rank,
                                       inputs[i].data ? inputs[i].data : "") != CONVPOOL_OK) {
            printf("FAIL: input %zu: %s\n", i, convpool_last_error());
            goto done;
        }
    }
    if (convpool_session_run(s, NULL) != CONVPOOL_OK) {
        printf("FAIL: run: %s\n", convpool_last_error());
        goto done;
    }
    failed = 0;
    for (size_t j = 0; j < convpool_model_output_count(m); j++) {
        cp_tensor want;
        snprintf(path, sizeof path, "%s/test_data_set_0/output_%zu.pb", dir, j);
        if (cp_tensor_read_file(path, &want) != CONVPOOL_OK) {
            printf("FAIL: %s\n", convpool_last_error());
            failed = 1;
            continue;
        }
        failed |= compare(s, j, &want, atol, rtol);
        cp_tensor_free(&want);
    }
    printf("%s\n", failed ? "FAIL" : "PASS");
done:
    for (size_t i = 0; inputs && i < n_in; i++)
        cp_tensor_free(&inputs[i]);
    free(inputs);
    convpool_session_destroy(s);
    convpool_model_destroy(m);
    return failed;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    double atol = 1e-7, rtol = 1e-3;
    int refusal = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--atol") == 0 && i + 1 < argc)
            atol = atof(argv[++i]);
        else if (strcmp(argv[i], "--rtol") == 0 && i + 1 < argc)
            rtol = atof(argv[++i]);
        else if (strcmp(argv[i], "--expect-unsupported") == 0)
            refusal = 1;
        else
            dir = argv[i];
    }
    if (!dir) {
        fprintf(stderr, "usage: %s DIR [--atol A] [--rtol R] [--expect-unsupported]\n", argv[0]);
        return 2;
    }
    if (refusal) {
        char path[4096];
        snprintf(path, sizeof path, "%s/model.onnx", dir);
        return expect_refusal(path);
    }
    return run_test(dir, atol, rtol);
}
