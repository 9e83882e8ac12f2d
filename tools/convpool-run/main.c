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
#include "timing.h"

static const char usage_text[] =
    "Usage:\n"
    "  convpool-run MODEL.onnx --input [NAME=]FILE... [--output-dir DIR] [--save-png DIR]\n"
    "  convpool-run --test-dir DIR [--rtol R] [--atol A]\n"
    "  convpool-run --info MODEL.onnx [--dim NAME=V]...\n"
    "  convpool-run --bench N | --duration S [--profile] [--json] MODEL.onnx [--input FILE]...\n"
    "  convpool-run --profile [--json] MODEL.onnx [--input FILE]...\n"
    "  convpool-run --help | --version\n";

static const char help_text[] =
    "\n"
    "Runs ONNX models made of Conv, ConvTranspose, MaxPool, AveragePool, LpPool,\n"
    "GlobalMaxPool, GlobalAveragePool and GlobalLpPool nodes with libconvpool.\n"
    "A FILE or MODEL.onnx given as - is read from standard input (once).\n"
    "\n"
    "Run a model (the default):\n"
    "  Loads MODEL.onnx, feeds it the --input files, runs it once and prints\n"
    "  each output's name, type, shape, min/max/mean and, for small outputs, every\n"
    "  value. Example, the D2L book's edge detector (from the source tree):\n"
    "    convpool-run tests/data/models/edge_detector.onnx \\\n"
    "        --input tests/data/models/edge_detector_input.npy\n"
    "  -i, --input FILE       data for the next graph input, in graph input order\n"
    "  -i, --input NAME=FILE  data for the input called NAME (an error if the model\n"
    "                         has no such input)\n"
    "                         FILE is an ONNX TensorProto (.pb), a NumPy .npy file\n"
    "                         (float32, int64, uint8 or int8, C order), or a PNG or\n"
    "                         JPEG picture for an NCHW input (see Pictures)\n"
    "  -o, --output-dir DIR   also save output N as DIR/output_N.pb (the ONNX test-data\n"
    "                         layout); DIR and its parents are created after a\n"
    "                         successful run; -o - writes the outputs to standard\n"
    "                         output instead of printing them\n"
    "  --output-format FMT    pb (default) or npy: the file type --output-dir writes\n"
    "  --save-png DIR         also save output N as DIR/output_N.png: every channel as a\n"
    "                         greyscale tile (stretched from its min to its max), the\n"
    "                         tiles in a grid, a row of the grid per batch item\n"
    "  --full                 print every output in full, however large\n"
    "\n"
    "Pictures (PNG through libpng, JPEG through libjpeg-turbo):\n"
    "  A picture fills a (1, C, H, W) input: C 1 takes it as grey, C 3 as RGB;\n"
    "  fixed H and W resize it (bilinear, antialiased when shrinking), symbolic\n"
    "  ones take --dim NAME=V or the picture's size. A float32 input gets\n"
    "  (pixel * scale - mean) / std per channel; a uint8 input the pixels.\n"
    "  --scale S              pixel scale (default 1/255: values from 0 to 1)\n"
    "  --mean M[,M,M]         per-channel mean to subtract (default 0)\n"
    "  --std S[,S,S]          per-channel divisor (default 1), e.g. ImageNet's\n"
    "                         --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225\n"
    "\n"
    "Check a model against expected outputs:\n"
    "  --test-dir DIR         DIR holds model.onnx and test_data_set_*/input_N.pb,\n"
    "                         output_N.pb (an ONNX backend test); prints PASS or FAIL\n"
    "                         and the max abs error per output. A DIR without\n"
    "                         model.onnx is searched for such test folders, each is\n"
    "                         run, and a summary says how many passed\n"
    "  --rtol R, --atol A     float tolerance |got - expected| <= A + R*|expected|\n"
    "                         (defaults 1e-3 and 1e-7, as ONNX's runner); integer\n"
    "                         outputs (MaxPool Indices) must match exactly\n"
    "\n"
    "Inspect a model:\n"
    "  --info                 print inputs, outputs, declared and inferred shapes, then\n"
    "                         every node in file order: its inputs -> outputs with\n"
    "                         their shapes, every attribute with the opset's defaults\n"
    "                         filled in, its parameter count (Conv/ConvTranspose W\n"
    "                         and B elements\n"
    "                         from initializers) and FLOPs, and the totals\n"
    "  --dim NAME=V           size of the symbolic dim NAME (default 1), e.g. a batch\n"
    "                         N; used where inputs are generated (--info, --bench)\n"
    "                         and for pictures; a NAME the model lacks is an error\n"
    "  FLOPs: Conv 2*N*M*prod(out spatial)*(C/group)*prod(kernel) (bias adds not\n"
    "  counted); ConvTranspose 2*N*C*prod(in spatial)*(M/group)*prod(kernel);\n"
    "  MaxPool/AveragePool/LpPool one per window tap, N*C*prod(out)*prod(kernel);\n"
    "  global pools N*C*prod(in spatial)\n"
    "\n"
    "Time a model:\n"
    "  --bench N              N timed runs after warm-up; random inputs unless\n"
    "                         --input is given; prints the latency's min, p50\n"
    "                         (median), p90, p99, max and mean in microseconds, and\n"
    "                         GFLOP/s (the model's FLOPs, as --info counts them, over\n"
    "                         the median latency)\n"
    "  --duration S           timed runs for S seconds instead of a count (at least\n"
    "                         one run, at most 10000000)\n"
    "  --profile              also time every node (default 100 runs): its median\n"
    "                         time, its share of the sum of the node medians and\n"
    "                         its GFLOP/s; Constant nodes folded at load show as such;\n"
    "                         a depthwise and a pointwise Conv run as a pair share its\n"
    "                         time; and each run's time outside its nodes\n"
    "  --warmup W             untimed runs before timing (default 3)\n"
    "  --json                 print one JSON object (min_ms, median_ms, p90_ms,\n"
    "                         p99_ms, max_ms, runs, flops, gflops..., and with\n"
    "                         --profile a \"nodes\" list)\n"
    "\n"
    "Common options:\n"
    "  -t, --threads T        threads to run on (default: CONVPOOL_NUM_THREADS, else\n"
    "                         one per CPU)\n"
    "  --memory-limit BYTES   refuse models needing more memory than this (weights,\n"
    "                         intermediates, outputs); K/M/G/T suffixes (binary) or\n"
    "                         'none'; default: half the physical memory\n"
    "  -q, --quiet            print no outputs (a run) or only failures and the\n"
    "                         summary (--test-dir)\n"
    "  -v, --verbose          also say what happens on standard error (resizing,\n"
    "                         pictures written, each --test-dir output)\n"
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

/* BYTES with an optional binary suffix K, M, G or T (KiB...), or "none". */
static int parse_memory_limit(const char *name, const char *text, size_t *out)
{
    if (strcmp(text, "none") == 0) {
        *out = CONVPOOL_MEMORY_LIMIT_NONE;
        return 0;
    }
    static const char suffixes[] = "KMGT";
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    int shift = 0;
    const char *s = *end ? strchr(suffixes, end[0]) : NULL;
    if (s && *s) {
        shift = 10 * (int)(s - suffixes + 1);
        end++;
    }
    if (errno || end == text || *end != '\0' || text[0] == '-' || v == 0 ||
        v > (SIZE_MAX - 1) >> shift) {
        cli_error("%s %s: expected a byte count >= 1 with an optional K, M, G or T suffix "
                  "(binary), or 'none'", name, text);
        return -1;
    }
    *out = (size_t)v << shift;
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

static int parse_number(const char *name, const char *text, double lo, double hi, int open_lo,
                        double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v) || v < lo || (open_lo && v == lo) || v > hi) {
        cli_error("%s %s: expected a number %s %g%s%g", name, text, open_lo ? ">" : ">=", lo,
                  hi < HUGE_VAL ? " and <= " : "", hi < HUGE_VAL ? hi : 0.0);
        return -1;
    }
    *out = v;
    return 0;
}

/* "0.485,0.456,0.406": 1 to 3 numbers (> 0 when `positive`). */
static int parse_channel_list(const char *name, const char *text, int positive, double *values,
                              size_t *count)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    *count = 0;
    for (char *item = strtok(buf, ","); item; item = strtok(NULL, ",")) {
        if (*count == 3) {
            cli_error("%s %s: at most 3 values (one per RGB channel)", name, text);
            return -1;
        }
        if (parse_number(name, item, positive ? 0 : -HUGE_VAL, HUGE_VAL, positive,
                         &values[(*count)++]) != 0)
            return -1;
    }
    if (*count == 0) {
        cli_error("%s needs 1 or 3 comma-separated numbers", name);
        return -1;
    }
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
#define IS(long_name, short_name) (strcmp(name, long_name) == 0 || strcmp(name, short_name) == 0)
#define VALUE()                   option_value(argc, argv, i, name, inline_value)
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
    int *flag = IS("--info", "")        ? &opt->info
                : IS("--json", "")      ? &opt->json
                : IS("--full", "")      ? &opt->print_full
                : IS("--profile", "")   ? &opt->profile
                : IS("--quiet", "-q")   ? &opt->quiet
                : IS("--verbose", "-v") ? &opt->verbose
                                        : NULL;
    if (flag) {
        if (inline_value) {
            cli_error("%s takes no value", name);
            return -1;
        }
        *flag = 1;
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
    if (IS("--save-png", ""))
        return (opt->save_png = VALUE()) ? 0 : -1;
    if (IS("--duration", ""))
        return (v = VALUE()) ? parse_number(name, v, 0, 86400, 1, &opt->duration) : -1;
    if (IS("--scale", "")) {
        opt->norm.given = 1;
        return (v = VALUE()) ? parse_number(name, v, -HUGE_VAL, HUGE_VAL, 0, &opt->norm.scale) : -1;
    }
    if (IS("--mean", "") || IS("--std", "")) {
        int is_std = IS("--std", "");
        opt->norm.given = 1;
        return (v = VALUE())
                   ? parse_channel_list(name, v, is_std, is_std ? opt->norm.std : opt->norm.mean,
                                        is_std ? &opt->norm.n_std : &opt->norm.n_mean)
                   : -1;
    }
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
        return (v = VALUE()) && parse_long(name, v, 1, CLI_MAX_TIMED_RUNS, &opt->bench_runs) == 0
                   ? 0
                   : -1;
    if (IS("--warmup", ""))
        return (v = VALUE()) && parse_long(name, v, 0, 1000000, &opt->warmup_runs) == 0 ? 0 : -1;
    if (IS("--threads", "-t")) {
        if (!(v = VALUE()) || parse_long(name, v, 1, CONVPOOL_MAX_THREADS, &n) != 0)
            return -1;
        opt->threads = (int32_t)n;
        return 0;
    }
    if (IS("--memory-limit", ""))
        return (v = VALUE()) ? parse_memory_limit(name, v, &opt->memory_limit) : -1;
#undef IS
#undef VALUE
    cli_error("unknown option %s (see --help)", arg);
    return -1;
}

/* How many of the file arguments are "-" (standard input, read once). */
static int stdin_uses(const cli_options *opt)
{
    int n = opt->model_path && strcmp(opt->model_path, CLI_STDIO) == 0;
    for (size_t i = 0; i < opt->n_inputs; i++) {
        const char *eq = strchr(opt->inputs[i], '=');
        n += strcmp(eq ? eq + 1 : opt->inputs[i], CLI_STDIO) == 0;
    }
    return n;
}

/* The combinations that make sense; anything else is a usage error. */
static int check_combination(const cli_options *opt)
{
    int bench = opt->bench_runs > 0 || opt->duration > 0 || opt->profile;
    int modes = (opt->test_dir != NULL) + opt->info + bench;
    const char *mode = opt->test_dir  ? "--test-dir"
                       : opt->info    ? "--info"
                       : opt->profile ? "--profile"
                       : bench        ? "--bench"
                                      : NULL;
    if (modes > 1) {
        cli_error("use only one of --test-dir, --info and --bench/--duration/--profile");
        return -1;
    }
    if (opt->bench_runs && opt->duration > 0) {
        cli_error("give --bench N or --duration S, not both");
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
    if (opt->json && !bench) {
        cli_error("--json only applies to --bench, --duration and --profile");
        return -1;
    }
    if (opt->warmup_runs >= 0 && !bench) {
        cli_error("--warmup only applies to --bench, --duration and --profile");
        return -1;
    }
    if ((opt->output_dir || opt->output_npy || opt->print_full || opt->save_png) && mode) {
        cli_error("--output-dir, --output-format, --save-png and --full do not apply to %s", mode);
        return -1;
    }
    if ((opt->n_inputs || opt->norm.given) && (opt->test_dir || opt->info)) {
        cli_error("%s reads no --input (nor --mean, --std, --scale)", mode);
        return -1;
    }
    if (opt->n_dims && opt->test_dir) {
        cli_error("--dim does not apply to --test-dir (its inputs have their shapes)");
        return -1;
    }
    if (opt->save_png && !cli_image_can_write_png()) {
        cli_error("--save-png: this convpool-run was built without libpng (libpng-dev)");
        return -1;
    }
    if (opt->quiet && opt->verbose) {
        cli_error("give --quiet or --verbose, not both");
        return -1;
    }
    if (stdin_uses(opt) > 1) {
        cli_error("standard input (-) can be read only once");
        return -1;
    }
    if (opt->output_dir && opt->save_png && strcmp(opt->output_dir, CLI_STDIO) == 0 &&
        strcmp(opt->save_png, CLI_STDIO) == 0) {
        cli_error("-o - and --save-png - cannot both write to standard output");
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
    opt.norm.scale = 1.0 / 255.0;
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
    if (opt.bench_runs || opt.duration > 0 || opt.profile)
        return cli_cmd_bench(&opt);
    return cli_cmd_run(&opt);
usage:
    fputs(usage_text, stderr);
    return CLI_EXIT_USAGE;
}
