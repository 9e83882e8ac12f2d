/*
 * cli.h - what the convpool-run commands share: the parsed command line,
 * exit statuses, error reporting, and loading/binding helpers built on the
 * public API only (convpool.h).
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "convpool.h"
#include "image.h"
#include "tensor.h"

/* Exit statuses: documented in --help and the man page. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1, /* model or data error, or a failed comparison */
    CLI_EXIT_USAGE = 2,   /* bad command line */
};

#define CLI_MAX_ARGS 64

typedef struct cli_options {
    const char *model_path;
    const char *test_dir;
    int info;
    long bench_runs;      /* 0: not benchmarking */
    long warmup_runs;     /* -1: default */
    int32_t threads;      /* 0: library default */
    int json;
    const char *inputs[CLI_MAX_ARGS]; /* "FILE" or "NAME=FILE" */
    size_t n_inputs;
    const char *dims[CLI_MAX_ARGS];   /* "NAME=VALUE" */
    size_t n_dims;
    const char *output_dir;
    int output_npy;
    int print_full;       /* print every output in full, whatever its size */
    double rtol, atol;
    size_t memory_limit;  /* 0: the library's default (convpool_default_memory_limit) */
    int profile;     /* per-node timings (a --bench variant) */
    double duration; /* seconds of timed runs; 0: a run count */
    int quiet, verbose;
    const char *save_png; /* folder for a greyscale grid per output */
    cli_image_norm norm;  /* --mean, --std, --scale for picture inputs */
} cli_options;

/* "-" as a file name: standard input or output. */
#define CLI_STDIO "-"

/* Prints "convpool-run: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "convpool-run: <context>: <status>: <library message>" to stderr. */
void cli_api_error(convpool_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Everything one command needs to run a model. */
typedef struct cli_runner {
    convpool_model *model;
    convpool_session *session;
    convpool_context *ctx;  /* NULL: the library's default context */
    cli_tensor *bound;      /* one per model input: the data bound to it */
    size_t n_inputs;
} cli_runner;

/* Loads the model, creates a session and the --threads context. Returns a
 * CLI_EXIT_* status after reporting any error; close the runner either way. */
int cli_runner_open(cli_runner *r, const char *model_path, const cli_options *opt);

/* Frees the bound input tensors (before binding a new set). */
void cli_runner_clear_inputs(cli_runner *r);

/* Frees everything; safe on a zeroed or partly opened runner. */
void cli_runner_close(cli_runner *r);

/*
 * Binds every model input of r's session: from --input files (positional ones
 * in graph input order, NAME=FILE by name), or, where `random_ok` and no file
 * is given, random values (float32 in [-1, 1), integers over their range)
 * with symbolic dims from --dim NAME=V or 1. The tensors bound are kept in
 * r->bound. Returns a CLI_EXIT_* status after reporting any error.
 */
int cli_bind_inputs(cli_runner *r, const cli_options *opt, int random_ok);

/*
 * As cli_bind_inputs() with random_ok, for shape queries only: inputs
 * without a file get their shape (--dim NAME=V or 1 for symbolic dims)
 * bound without data, so nothing is allocated or filled for them.
 */
int cli_bind_input_shapes(cli_runner *r, const cli_options *opt);

/* Runs the session once; reports an error. Returns a CLI_EXIT_* status. */
int cli_run_once(cli_runner *r, const char *what);

/* Output `index` of the last run as a borrowed cli_tensor view (do not free
 * it). Returns 0, or -1 after reporting the error. */
int cli_output_view(const convpool_session *session, size_t index, cli_tensor *view);

/* "[N, 1, 6, 8]": a declared input/output shape with symbols for dynamic dims. */
void cli_format_declared_shape(const convpool_model *model, int is_input, size_t index,
                               char *buf, size_t size);

/* A value's resolved element type and shape. */
typedef struct cli_shape {
    int32_t dtype;
    size_t rank;
    int64_t dims[CLI_MAX_RANK];
} cli_shape;

/* Resolved type and shape of the value called `name` for the inputs bound
 * to r's session. Returns 0, or -1 after reporting the error. */
int cli_value_shape(const cli_runner *r, const char *name, cli_shape *shape);

/* What a node costs for the bound input shapes (conventions in cost.c). */
typedef struct cli_cost {
    int64_t params;   /* Conv W and B elements that are initializers or constants */
    int64_t flops;
} cli_cost;

/* Cost of node `node` (file order) / of every node. Return 0, or -1 after
 * reporting the error. */
int cli_node_cost(const cli_runner *r, size_t node, cli_cost *cost);
int cli_model_cost(const cli_runner *r, cli_cost *total);

/* Prints "convpool-run: <message>" to stderr when --verbose is on. */
void cli_note(const cli_options *opt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* mkdir -p: creates `path` and every missing parent. Returns 0, or -1
 * after reporting which folder could not be made. */
int cli_make_dirs(const char *what, const char *path);

/* Commands; each returns a CLI_EXIT_* status. */
int cli_cmd_run(const cli_options *opt);
int cli_cmd_test_dir(const cli_options *opt);
int cli_cmd_info(const cli_options *opt);
int cli_cmd_bench(const cli_options *opt); /* --bench, --duration and --profile */

/* --profile (cmd_profile.c): each node's time over the timed runs. */
typedef struct cli_profile cli_profile;

/* Prepares to profile r's model (inputs bound). Returns NULL after
 * reporting an error. */
cli_profile *cli_profile_create(cli_runner *r);
void cli_profile_destroy(cli_profile *p);

/* A cli_run_fn (timing.h): one profiled run of the model. */
int cli_profile_run(void *profile, long run);

/* The per-node table, and its JSON form (a "nodes" member, with a leading
 * comma, to close an object with). */
void cli_profile_print_text(FILE *out, cli_profile *p);
void cli_profile_print_json(FILE *out, cli_profile *p);

#endif
