/*
 * main.c - convpool-run: run, test, inspect and time ONNX models of
 * convolution and pooling with libconvpool. Command-line parsing and
 * dispatch; each command lives in its own cmd_*.c.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
    "Usage:\n"
    "  convpool-run MODEL.onnx --input FILE... [--output-dir DIR] [--output-format pb|npy]\n"
    "  convpool-run --test-dir DIR [--rtol R] [--atol A]\n"
    "  convpool-run --info MODEL.onnx [--dim NAME=V]...\n"
    "  convpool-run --bench N [--threads T] [--json] MODEL.onnx [--input FILE]...\n"
    "  convpool-run --help | --version\n";

static const char help_text[] =
    "\n"
    "Runs ONNX models made of Conv, MaxPool, AveragePool, GlobalMaxPool and\n"
    "GlobalAveragePool nodes with libconvpool.\n"
    "\n"
    "Run a model (the default):\n"
    "  Loads MODEL.onnx, feeds it the --input files, runs it once and prints\n"
    "  each output's name, type, shape, min/max/mean and, for small outputs, every\n"
    "  value. Example, the D2L book's edge detector (from the source tree):\n"
    "    convpool-run tests/data/models/edge_detector.onnx \\\n"
    "        --input tests/data/models/edge_detector_input.npy\n"
    "  -i, --input FILE       data for the next graph input, in graph input order\n"
    "  -i, --input NAME=FILE  data for the input called NAME\n"
    "                         FILE is an ONNX TensorProto (.pb) or a NumPy .npy file\n"
    "                         (float32, int64, uint8 or int8, C order)\n"
    "  -o, --output-dir DIR   also save output N as DIR/output_N.pb (the ONNX test-data\n"
    "                         layout), created if needed\n"
    "  --output-format FMT    pb (default) or npy: the file type --output-dir writes\n"
    "  --full                 print every output in full, however large\n"
    "\n"
    "Check a model against expected outputs:\n"
    "  --test-dir DIR         DIR holds model.onnx and test_data_set_*/input_N.pb,\n"
    "                         output_N.pb (an ONNX backend test); prints PASS or FAIL\n"
    "                         and the max abs error per output\n"
    "  --rtol R, --atol A     float tolerance |got - expected| <= A + R*|expected|\n"
    "                         (defaults 1e-3 and 1e-7, as ONNX's runner); integer\n"
    "                         outputs (MaxPool Indices) must match exactly\n"
    "\n"
    "Inspect a model:\n"
    "  --info                 print inputs, outputs, declared and inferred shapes, then\n"
    "                         every node in file order: its inputs -> outputs with\n"
    "                         their shapes, every attribute with the opset's defaults\n"
    "                         filled in, its parameter count (Conv W and B elements\n"
    "                         from initializers) and FLOPs, and the totals\n"
    "  --dim NAME=V           size of a symbolic dim such as a batch N (default 1);\n"
    "                         used by --info and --bench when inputs are generated\n"
    "  FLOPs: Conv 2*N*M*prod(out spatial)*(C/group)*prod(kernel) (bias adds not\n"
    "  counted); MaxPool/AveragePool one per window tap, N*C*prod(out)*prod(kernel);\n"
    "  global pools N*C*prod(in spatial)\n"
    "\n"
    "Time a model:\n"
    "  --bench N              N timed runs after warm-up; random inputs unless\n"
    "                         --input is given; prints min/median/max latency and\n"
    "                         GFLOP/s (the model's FLOPs, as --info counts them, over\n"
    "                         the median latency)\n"
    "  --warmup W             untimed runs before timing (default 3)\n"
    "  --json                 print one JSON object (median_ms, min_ms, max_ms, runs,\n"
    "                         flops, gflops...)\n"
    "\n"
    "Common options:\n"
    "  -t, --threads T        threads to run on (default: CONVPOOL_NUM_THREADS, else\n"
    "                         one per CPU)\n"
    "  --memory-limit BYTES   refuse models needing more memory than this\n"
    "  -h, --help             this text\n"
    "  -V, --version          program and library versions\n"
    "\n"
    "Exit status: 0 success; 1 model or data error, or a failed --test-dir\n"
    "comparison; 2 bad command line. Errors go to standard error.\n"
    "See also: man convpool-run\n";

/* Returns the option's value: "--opt=value" or the next argument. */
static const char *option_value(int argc, char **argv, int *i, const char *name,
                                const char *inline_value)
{
    if (inline_value)
        return inline_value;
    if (*i + 1 >= argc) {
        cli_error("%s needs a value (see --help)", name);
        return NULL;
    }
    return argv[++*i];
}

static int parse_long(const char *name, const char *text, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < lo || v > hi) {
        cli_error("%s %s: expected a whole number from %ld to %ld", name, text, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_tolerance(const char *name, const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v) || v < 0) {
        cli_error("%s %s: expected a number >= 0", name, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int push_arg(const char **list, size_t *count, const char *name, const char *value)
{
    if (*count == CLI_MAX_ARGS) {
        cli_error("too many %s options (at most %d)", name, CLI_MAX_ARGS);
        return -1;
    }
    list[(*count)++] = value;
    return 0;
}

static int check_dim_arg(const char *text)
{
    const char *eq = strchr(text, '=');
    long v;
    if (!eq || eq == text) {
        cli_error("--dim %s: expected NAME=VALUE, e.g. --dim N=4", text);
        return -1;
    }
    return parse_long("--dim", eq + 1, 1, 1L << 40, &v);
}

/* Parses one option at argv[*i]; returns 0, or -1 after reporting. */
static int parse_option(int argc, char **argv, int *i, cli_options *opt, int *exit_now)
{
    char name[64];
    const char *arg = argv[*i], *inline_value = NULL;
    const char *eq = strchr(arg, '=');
    if (strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof name) {
        memcpy(name, arg, (size_t)(eq - arg));
        name[eq - arg] = '\0';
        inline_value = eq + 1;
    } else {
        snprintf(name, sizeof name, "%s", arg);
    }
#define IS(long_name, short_name) \
    (strcmp(name, long_name) == 0 || strcmp(name, short_name) == 0)
#define VALUE() option_value(argc, argv, i, name, inline_value)
    const char *v;
    long n;
    if (IS("--help", "-h")) {
        printf("%s%s", usage_text, help_text);
        *exit_now = 1;
        return 0;
    }
    if (IS("--version", "-V")) {
        printf("convpool-run %s (libconvpool %s, %s)\n", CONVPOOL_RUN_VERSION,
               convpool_version(), convpool_isa_name(convpool_isa_active()));
        *exit_now = 1;
        return 0;
    }
    if (IS("--info", "") || IS("--json", "") || IS("--full", "")) {
        if (inline_value) {
            cli_error("%s takes no value", name);
            return -1;
        }
        *(IS("--info", "") ? &opt->info : IS("--json", "") ? &opt->json
                                                               : &opt->print_full) = 1;
        return 0;
    }
    if (IS("--input", "-i"))
        return (v = VALUE()) ? push_arg(opt->inputs, &opt->n_inputs, name, v) : -1;
    if (IS("--dim", ""))
        return (v = VALUE()) && check_dim_arg(v) == 0 ? push_arg(opt->dims, &opt->n_dims, name, v)
                                                      : -1;
    if (IS("--output-dir", "-o"))
        return (opt->output_dir = VALUE()) ? 0 : -1;
    if (IS("--test-dir", ""))
        return (opt->test_dir = VALUE()) ? 0 : -1;
    if (IS("--output-format", "")) {
        if (!(v = VALUE()))
            return -1;
        if (strcmp(v, "pb") != 0 && strcmp(v, "npy") != 0) {
            cli_error("--output-format %s: expected pb or npy", v);
            return -1;
        }
        opt->output_npy = strcmp(v, "npy") == 0;
        return 0;
    }
    if (IS("--rtol", ""))
        return (v = VALUE()) ? parse_tolerance(name, v, &opt->rtol) : -1;
    if (IS("--atol", ""))
        return (v = VALUE()) ? parse_tolerance(name, v, &opt->atol) : -1;
    if (IS("--bench", ""))
        return (v = VALUE()) && parse_long(name, v, 1, 10000000, &opt->bench_runs) == 0 ? 0 : -1;
    if (IS("--warmup", ""))
        return (v = VALUE()) && parse_long(name, v, 0, 1000000, &opt->warmup_runs) == 0 ? 0 : -1;
    if (IS("--threads", "-t")) {
        if (!(v = VALUE()) || parse_long(name, v, 1, 1024, &n) != 0)
            return -1;
        opt->threads = (int32_t)n;
        return 0;
    }
    if (IS("--memory-limit", "")) {
        if (!(v = VALUE()) || parse_long(name, v, 1, LONG_MAX, &n) != 0)
            return -1;
        opt->memory_limit = (size_t)n;
        return 0;
    }
#undef IS
#undef VALUE
    cli_error("unknown option %s (see --help)", arg);
    return -1;
}

/* The combinations that make sense; anything else is a usage error. */
static int check_combination(const cli_options *opt)
{
    int modes = (opt->test_dir != NULL) + opt->info + (opt->bench_runs > 0);
    const char *mode = opt->test_dir ? "--test-dir" : opt->info ? "--info"
                     : opt->bench_runs ? "--bench" : NULL;
    if (modes > 1) {
        cli_error("use only one of --test-dir, --info and --bench");
        return -1;
    }
    if (opt->test_dir && opt->model_path) {
        cli_error("--test-dir takes the model from DIR/model.onnx; drop %s", opt->model_path);
        return -1;
    }
    if (!opt->test_dir && !opt->model_path) {
        cli_error("no model given");
        return -1;
    }
    if (opt->json && !opt->bench_runs) {
        cli_error("--json only applies to --bench");
        return -1;
    }
    if (opt->warmup_runs >= 0 && !opt->bench_runs) {
        cli_error("--warmup only applies to --bench");
        return -1;
    }
    if ((opt->output_dir || opt->output_npy || opt->print_full) && mode) {
        cli_error("--output-dir, --output-format and --full do not apply to %s", mode);
        return -1;
    }
    if (opt->n_inputs && (opt->test_dir || opt->info)) {
        cli_error("%s reads no --input", mode);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli_options opt = {0};
    opt.rtol = 1e-3;
    opt.atol = 1e-7;
    opt.warmup_runs = -1;
    double default_rtol = opt.rtol, default_atol = opt.atol;
    int exit_now = 0, only_positional = 0;
    for (int i = 1; i < argc && !exit_now; i++) {
        const char *arg = argv[i];
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = 1;
        } else if (!only_positional && arg[0] == '-' && arg[1] != '\0') {
            if (parse_option(argc, argv, &i, &opt, &exit_now) != 0)
                goto usage;
        } else if (opt.model_path) {
            cli_error("more than one model given: %s and %s (inputs go after --input)",
                      opt.model_path, arg);
            goto usage;
        } else {
            opt.model_path = arg;
        }
    }
    if (exit_now)
        return CLI_EXIT_OK;
    if (check_combination(&opt) != 0)
        goto usage;
    if (!opt.test_dir && (opt.rtol != default_rtol || opt.atol != default_atol)) {
        cli_error("--rtol and --atol only apply to --test-dir");
        goto usage;
    }
    /* The library ignores an invalid CONVPOOL_* variable and says so only
     * when asked; a user should hear of it. */
    const char *env_warnings = convpool_environment_warnings();
    if (*env_warnings)
        fprintf(stderr, "convpool-run: warning: %s\n", env_warnings);
    if (opt.test_dir)
        return cli_cmd_test_dir(&opt);
    if (opt.info)
        return cli_cmd_info(&opt);
    if (opt.bench_runs)
        return cli_cmd_bench(&opt);
    return cli_cmd_run(&opt);
usage:
    fputs(usage_text, stderr);
    return CLI_EXIT_USAGE;
}
