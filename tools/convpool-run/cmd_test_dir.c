/*
 * cmd_test_dir.c - `convpool-run --test-dir DIR`: run an ONNX backend test
 * directory (model.onnx + test_data_set_<K>/input_<N>.pb, output_<N>.pb) and
 * compare every output as ONNX's runner does: numpy.testing.assert_allclose,
 * |actual - expected| <= atol + rtol * |expected| with NaN equal to NaN;
 * integer outputs must match exactly. A DIR without model.onnx is a parent:
 * every test folder under it is run, then a summary is printed.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "print.h"

#define MAX_DATA_SETS 256

typedef struct comparison {
    int pass;
    size_t mismatches;
    size_t first_bad;
    double max_abs_error;
    char reason[300]; /* set when the shapes or types differ */
} comparison;

static void compare(const cli_tensor *actual, const cli_tensor *expected, double rtol,
                    double atol, comparison *c)
{
    memset(c, 0, sizeof *c);
    if (actual->dtype != expected->dtype) {
        snprintf(c->reason, sizeof c->reason, "type %s, expected %s",
                 cli_dtype_name(actual->dtype), cli_dtype_name(expected->dtype));
        return;
    }
    int same_shape = actual->rank == expected->rank;
    for (size_t d = 0; same_shape && d < actual->rank; d++)
        same_shape = actual->dims[d] == expected->dims[d];
    if (!same_shape) {
        char a[128], e[128];
        cli_format_shape(actual->dims, actual->rank, a, sizeof a);
        cli_format_shape(expected->dims, expected->rank, e, sizeof e);
        snprintf(c->reason, sizeof c->reason, "shape %s, expected %s", a, e);
        return;
    }
    int exact = actual->dtype != CONVPOOL_DTYPE_FLOAT;
    for (size_t i = 0; i < actual->count; i++) {
        double a = cli_tensor_get(actual, i), e = cli_tensor_get(expected, i);
        int ok;
        if (exact && actual->dtype == CONVPOOL_DTYPE_INT64)
            ok = ((const int64_t *)actual->data)[i] == ((const int64_t *)expected->data)[i];
        else if (exact)
            ok = a == e;
        else if (isnan(a) || isnan(e))
            ok = isnan(a) && isnan(e);
        else if (isinf(a) || isinf(e))
            ok = a == e;
        else
            ok = fabs(a - e) <= atol + rtol * fabs(e);
        double err = (isfinite(a) && isfinite(e)) ? fabs(a - e) : (ok ? 0 : INFINITY);
        if (err > c->max_abs_error)
            c->max_abs_error = err;
        if (!ok && c->mismatches++ == 0)
            c->first_bad = i;
    }
    c->pass = c->mismatches == 0;
}

static int data_set_number(const char *name)
{
    const char *prefix = "test_data_set_";
    size_t len = strlen(prefix);
    if (strncmp(name, prefix, len) != 0 || name[len] == '\0')
        return -1;
    char *end;
    long n = strtol(name + len, &end, 10);
    return (*end == '\0' && n >= 0 && n < 1000000) ? (int)n : -1;
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The data set numbers under dir, ascending. Returns the count or -1. */
static int list_data_sets(const char *dir, int *numbers)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < MAX_DATA_SETS) {
        int k = data_set_number(e->d_name);
        if (k >= 0)
            numbers[n++] = k;
    }
    closedir(d);
    qsort(numbers, (size_t)n, sizeof *numbers, compare_ints);
    return n;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Loads input_<N>.pb files and binds them: by the TensorProto's name when it
 * names a graph input, else by position. */
static int bind_data_set(cli_runner *r, const char *set_dir)
{
    size_t n = 0;
    char path[4096], err[CLI_ERR_LEN];
    for (;; n++) {
        snprintf(path, sizeof path, "%.4000s/input_%zu.pb", set_dir, n);
        if (!file_exists(path))
            break;
        if (n >= r->n_inputs) {
            cli_error("%s: the model has only %zu input(s)", path, r->n_inputs);
            return CLI_EXIT_FAILURE;
        }
        cli_tensor t;
        if (cli_tensor_load(path, &t, err) != 0) {
            cli_error("%s", err);
            return CLI_EXIT_FAILURE;
        }
        size_t index = n;
        if (t.name[0] && convpool_model_input_index(r->model, t.name, &index) != CONVPOOL_OK)
            index = n;
        if (r->bound[index].data) {
            cli_error("%s: input '%s' is given twice", path, t.name);
            cli_tensor_free(&t);
            return CLI_EXIT_FAILURE;
        }
        r->bound[index] = t;
        convpool_status st = convpool_session_set_input(r->session, index, t.dtype, t.dims,
                                                        t.rank, t.data);
        if (st != CONVPOOL_OK) {
            cli_api_error(st, "%s", path);
            return CLI_EXIT_FAILURE;
        }
    }
    if (n != r->n_inputs) {
        cli_error("%s: %zu input file(s) for %zu model input(s)", set_dir, n, r->n_inputs);
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

/* Compares every output_<N>.pb of one data set. Adds to the compared and
 * failed counts. Prints a line per output, or with `show_pass` 0 only the
 * failing ones. */
static int check_data_set(cli_runner *r, const cli_options *opt, const char *set_dir,
                          const char *label, int show_pass, size_t *compared, size_t *failed)
{
    char path[4096], err[CLI_ERR_LEN];
    size_t n_outputs = convpool_model_output_count(r->model);
    for (size_t i = 0; i < n_outputs; i++) {
        snprintf(path, sizeof path, "%.4000s/output_%zu.pb", set_dir, i);
        if (!file_exists(path))
            continue;
        cli_tensor expected, actual;
        if (cli_tensor_load(path, &expected, err) != 0) {
            cli_error("%s", err);
            return CLI_EXIT_FAILURE;
        }
        if (cli_output_view(r->session, i, &actual) != 0) {
            cli_tensor_free(&expected);
            return CLI_EXIT_FAILURE;
        }
        comparison c;
        compare(&actual, &expected, opt->rtol, opt->atol, &c);
        (*compared)++;
        *failed += !c.pass;
        if (c.pass && !show_pass) {
            cli_tensor_free(&expected);
            continue;
        }
        char shape[128];
        cli_format_shape(actual.dims, actual.rank, shape, sizeof shape);
        printf("%s: output %zu '%s' %s %s: %s", label, i,
               cli_safe(convpool_model_output_name(r->model, i)),
               cli_dtype_name(actual.dtype), shape, c.pass ? "PASS" : "FAIL");
        if (c.reason[0])
            printf(" (%s)\n", c.reason);
        else
            printf(" (max abs error %.3g)\n", c.max_abs_error);
        if (!c.pass && !c.reason[0])
            printf("  %zu of %zu values differ; first at flat index %zu: got %.9g, expected %.9g\n",
                   c.mismatches, actual.count, c.first_bad, cli_tensor_get(&actual, c.first_bad),
                   cli_tensor_get(&expected, c.first_bad));
        cli_tensor_free(&expected);
    }
    return CLI_EXIT_OK;
}

/* What one test folder gave. */
typedef struct test_result {
    size_t compared, failed;
    int n_sets;
} test_result;

/* Runs the test in `dir`; `prefix` starts each output line ("" or the
 * folder). Returns a CLI_EXIT_* status for errors other than mismatches. */
static int run_test(const cli_options *opt, const char *dir, const char *prefix, int show_pass,
                    test_result *res)
{
    char model_path[4096];
    snprintf(model_path, sizeof model_path, "%.4000s/model.onnx", dir);
    memset(res, 0, sizeof *res);
    int numbers[MAX_DATA_SETS];
    int n_sets = list_data_sets(dir, numbers);
    if (n_sets < 0) {
        cli_error("--test-dir %s: cannot open the directory", dir);
        return CLI_EXIT_FAILURE;
    }
    cli_runner r;
    int rc = cli_runner_open(&r, model_path, opt);
    if (rc == CLI_EXIT_OK && n_sets == 0) {
        cli_error("%s: no test_data_set_* directories", dir);
        rc = CLI_EXIT_FAILURE;
    }
    for (int s = 0; rc == CLI_EXIT_OK && s < n_sets; s++) {
        char set_dir[4096], label[4200];
        snprintf(set_dir, sizeof set_dir, "%.4000s/test_data_set_%d", dir, numbers[s]);
        snprintf(label, sizeof label, "%s%stest_data_set_%d", prefix, *prefix ? "/" : "",
                 numbers[s]);
        cli_runner_clear_inputs(&r);
        rc = bind_data_set(&r, set_dir);
        if (rc == CLI_EXIT_OK)
            rc = cli_run_once(&r, set_dir);
        if (rc == CLI_EXIT_OK)
            rc = check_data_set(&r, opt, set_dir, label, show_pass, &res->compared, &res->failed);
    }
    cli_runner_close(&r);
    res->n_sets = n_sets;
    if (rc == CLI_EXIT_OK && res->compared == 0) {
        cli_error("%s: no output_<N>.pb files to compare with", dir);
        rc = CLI_EXIT_FAILURE;
    }
    return rc;
}

/* The test folders found under a parent, in name order. */
typedef struct test_list {
    char **dirs;
    size_t count, cap;
} test_list;

static int push_test(test_list *list, const char *dir)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 64;
        char **bigger = realloc(list->dirs, cap * sizeof *bigger);
        if (!bigger)
            return -1;
        list->dirs = bigger;
        list->cap = cap;
    }
    if (!(list->dirs[list->count] = strdup(dir)))
        return -1;
    list->count++;
    return 0;
}

enum { MAX_DEPTH = 16 };

/* Adds every folder under `dir` that holds a model.onnx (without looking
 * further inside it); hidden folders are skipped. */
static int find_tests(const char *dir, int depth, test_list *list)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return 0; /* unreadable: nothing to run there */
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4400], model[4500];
        struct stat sb;
        snprintf(path, sizeof path, "%.4000s/%s", dir, names[i]->d_name);
        snprintf(model, sizeof model, "%s/model.onnx", path);
        if (rc == 0 && names[i]->d_name[0] != '.' && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (file_exists(model))
                rc = push_test(list, path);
            else if (depth < MAX_DEPTH)
                rc = find_tests(path, depth + 1, list);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

/* A parent folder: every test under it, a line each, then a summary. */
static int run_parent(const cli_options *opt)
{
    test_list list = {0};
    if (find_tests(opt->test_dir, 0, &list) != 0) {
        cli_error("out of memory listing the tests under %s", opt->test_dir);
        return CLI_EXIT_FAILURE;
    }
    if (list.count == 0) {
        cli_error("--test-dir %s: no model.onnx in it or in any folder under it", opt->test_dir);
        free(list.dirs);
        return CLI_EXIT_FAILURE;
    }
    size_t passed = 0;
    for (size_t i = 0; i < list.count; i++) {
        test_result res;
        fflush(stdout); /* keep the order of stdout and stderr lines */
        int rc = run_test(opt, list.dirs[i], list.dirs[i], opt->verbose, &res);
        int ok = rc == CLI_EXIT_OK && res.failed == 0;
        passed += ok;
        if (ok && !opt->quiet)
            printf("PASS %s (%zu output(s) in %d data set(s))\n", cli_safe(list.dirs[i]), res.compared,
                   res.n_sets);
        else if (!ok)
            printf("FAIL %s (%s)\n", cli_safe(list.dirs[i]),
                   rc != CLI_EXIT_OK ? "error, see above" : "outputs differ");
    }
    printf("%s: %zu of %zu test(s) under %s passed (rtol %g, atol %g)\n",
           passed == list.count ? "PASS" : "FAIL", passed, list.count, cli_safe(opt->test_dir), opt->rtol,
           opt->atol);
    for (size_t i = 0; i < list.count; i++)
        free(list.dirs[i]);
    free(list.dirs);
    return passed == list.count ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

int cli_cmd_test_dir(const cli_options *opt)
{
    char model_path[4096];
    snprintf(model_path, sizeof model_path, "%.4000s/model.onnx", opt->test_dir);
    struct stat sb;
    if (stat(opt->test_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        cli_error("--test-dir %s: %s", opt->test_dir,
                  stat(opt->test_dir, &sb) != 0 ? "no such directory" : "not a directory");
        return CLI_EXIT_FAILURE;
    }
    if (!file_exists(model_path))
        return run_parent(opt);
    test_result res;
    int rc = run_test(opt, opt->test_dir, "", !opt->quiet, &res);
    if (rc != CLI_EXIT_OK)
        return rc;
    printf("%s: %zu of %zu output(s) in %d data set(s) passed (rtol %g, atol %g)\n",
           res.failed ? "FAIL" : "PASS", res.compared - res.failed, res.compared, res.n_sets,
           opt->rtol, opt->atol);
    return res.failed ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
