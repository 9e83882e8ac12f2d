/*
 * model.c - loading a model and binding its inputs for every command.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "print.h"

/* "convpool-run: <message><tail>" on stderr, escaped as a whole: messages
 * quote names from the model and paths (escaping the library's message,
 * already escaped, again changes nothing). */
static void print_error(const char *tail, const char *fmt, va_list ap)
{
    char message[2048];
    int n = vsnprintf(message, sizeof message, fmt, ap);
    if (n >= 0 && (size_t)n < sizeof message)
        snprintf(message + n, sizeof message - (size_t)n, "%s", tail);
    fprintf(stderr, "convpool-run: %s\n", cli_safe(message));
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error("", fmt, ap);
    va_end(ap);
}

void cli_api_error(convpool_status status, const char *fmt, ...)
{
    /* Read the library's message first: formatting must not disturb it. */
    const char *detail = convpool_last_error();
    char tail[1200];
    snprintf(tail, sizeof tail, ": %s%s%s", convpool_status_string(status), *detail ? ": " : "",
             detail);
    va_list ap;
    va_start(ap, fmt);
    print_error(tail, fmt, ap);
    va_end(ap);
}

int cli_runner_open(cli_runner *r, const char *model_path, const cli_options *opt)
{
    memset(r, 0, sizeof *r);
    convpool_status st = convpool_model_load_file(model_path, opt->memory_limit, &r->model);
    if (st != CONVPOOL_OK) {
        cli_api_error(st, "cannot load model %s", model_path);
        return CLI_EXIT_FAILURE;
    }
    r->n_inputs = convpool_model_input_count(r->model);
    r->bound = calloc(r->n_inputs ? r->n_inputs : 1, sizeof *r->bound);
    if (!r->bound) {
        cli_error("out of memory");
        return CLI_EXIT_FAILURE;
    }
    if ((st = convpool_session_create(r->model, &r->session)) != CONVPOOL_OK) {
        cli_api_error(st, "cannot create a session for %s", model_path);
        return CLI_EXIT_FAILURE;
    }
    if (opt->threads != 0 &&
        (st = convpool_context_create(opt->threads, &r->ctx)) != CONVPOOL_OK) {
        cli_api_error(st, "cannot create a context with %d threads", (int)opt->threads);
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

void cli_runner_clear_inputs(cli_runner *r)
{
    for (size_t i = 0; r->bound && i < r->n_inputs; i++)
        cli_tensor_free(&r->bound[i]);
}

void cli_runner_close(cli_runner *r)
{
    cli_runner_clear_inputs(r);
    free(r->bound);
    convpool_context_destroy(r->ctx);
    convpool_session_destroy(r->session);
    convpool_model_destroy(r->model);
    memset(r, 0, sizeof *r);
}

int cli_run_once(cli_runner *r, const char *what)
{
    convpool_status st = convpool_session_run(r->session, r->ctx);
    if (st != CONVPOOL_OK) {
        cli_api_error(st, "running %s", what);
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

/* The size for a symbolic dim: --dim NAME=V, else 1. */
static int64_t symbolic_dim_size(const cli_options *opt, const char *symbol)
{
    if (symbol) {
        size_t len = strlen(symbol);
        for (size_t i = 0; i < opt->n_dims; i++)
            if (strncmp(opt->dims[i], symbol, len) == 0 && opt->dims[i][len] == '=')
                return strtoll(opt->dims[i] + len + 1, NULL, 10);
    }
    return 1;
}

static uint64_t next_random(uint64_t *state)
{
    /* xorshift64*: fixed seed, so benchmarks see the same data every time. */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

static int make_random_input(const convpool_model *model, size_t index,
                             const cli_options *opt, cli_tensor *t)
{
    int32_t dtype;
    size_t rank;
    int64_t dims[CLI_MAX_RANK];
    convpool_status st = convpool_model_input_info(model, index, &dtype, &rank, dims,
                                                   CLI_MAX_RANK);
    if (st != CONVPOOL_OK) {
        cli_api_error(st, "input %zu", index);
        return -1;
    }
    for (size_t d = 0; d < rank; d++)
        if (dims[d] < 0)
            dims[d] = symbolic_dim_size(opt, convpool_model_input_dim_name(model, index, d));
    char err[CLI_ERR_LEN];
    if (cli_tensor_alloc(t, dtype, dims, rank, err) != 0) {
        cli_error("input '%s': %s", convpool_model_input_name(model, index), err);
        return -1;
    }
    uint64_t state = 0x9E3779B97F4A7C15ULL + index;
    for (size_t i = 0; i < t->count; i++) {
        uint64_t r = next_random(&state);
        switch (dtype) {
        case CONVPOOL_DTYPE_FLOAT:
            ((float *)t->data)[i] = (float)((double)(r >> 40) / (double)(1 << 23) - 1.0);
            break;
        case CONVPOOL_DTYPE_INT64:
            ((int64_t *)t->data)[i] = (int64_t)(r >> 1);
            break;
        default:
            ((uint8_t *)t->data)[i] = (uint8_t)(r >> 56);
            break;
        }
    }
    return 0;
}

/* Which model input a --input argument names, and its file. Positional
 * arguments take the next input in graph order. Returns a CLI_EXIT_ status. */
static int resolve_input_arg(const convpool_model *model, const char *arg,
                             size_t *next_positional, size_t *index, const char **file)
{
    const char *eq = strchr(arg, '=');
    size_t n_inputs = convpool_model_input_count(model);
    if (eq) {
        for (size_t i = 0; i < n_inputs; i++) {
            const char *name = convpool_model_input_name(model, i);
            if (strlen(name) == (size_t)(eq - arg) && strncmp(name, arg, (size_t)(eq - arg)) == 0) {
                *index = i;
                *file = eq + 1;
                return CLI_EXIT_OK;
            }
        }
    }
    if (*next_positional >= n_inputs) {
        cli_error("--input %s: the model has only %zu input(s)%s", arg, n_inputs,
                  eq ? " and none is named like the text before '='" : "");
        return CLI_EXIT_USAGE;
    }
    *index = (*next_positional)++;
    *file = arg;
    return CLI_EXIT_OK;
}

int cli_bind_inputs(cli_runner *r, const cli_options *opt, int random_ok)
{
    const convpool_model *model = r->model;
    cli_tensor *bound = r->bound;
    size_t n_inputs = convpool_model_input_count(model);
    size_t next_positional = 0;
    for (size_t a = 0; a < opt->n_inputs; a++) {
        size_t index;
        const char *file;
        int rc = resolve_input_arg(model, opt->inputs[a], &next_positional, &index, &file);
        if (rc != CLI_EXIT_OK)
            return rc;
        if (bound[index].data) {
            cli_error("input '%s' is given twice", convpool_model_input_name(model, index));
            return CLI_EXIT_USAGE;
        }
        char err[CLI_ERR_LEN];
        if (cli_tensor_load(file, &bound[index], err) != 0) {
            cli_error("input '%s': %s", convpool_model_input_name(model, index), err);
            return CLI_EXIT_FAILURE;
        }
    }
    for (size_t i = 0; i < n_inputs; i++) {
        const char *name = convpool_model_input_name(model, i);
        if (!bound[i].data) {
            if (!random_ok) {
                cli_error("no data for input %zu '%s': pass --input FILE (see --help)", i,
                          name);
                return CLI_EXIT_USAGE;
            }
            if (make_random_input(model, i, opt, &bound[i]) != 0)
                return CLI_EXIT_FAILURE;
        }
        const cli_tensor *t = &bound[i];
        convpool_status st = convpool_session_set_input(r->session, i, t->dtype, t->dims,
                                                        t->rank, t->data);
        if (st != CONVPOOL_OK) {
            char shape[256];
            cli_format_shape(t->dims, t->rank, shape, sizeof shape);
            cli_api_error(st, "input '%s' (%s %s)", name, cli_dtype_name(t->dtype), shape);
            return CLI_EXIT_FAILURE;
        }
    }
    return CLI_EXIT_OK;
}

int cli_output_view(const convpool_session *session, size_t index, cli_tensor *view)
{
    const int64_t *dims;
    const void *data;
    memset(view, 0, sizeof *view);
    convpool_status st = convpool_session_output(session, index, &view->dtype, &view->rank,
                                                 &dims, &data);
    if (st != CONVPOOL_OK) {
        cli_api_error(st, "output %zu", index);
        return -1;
    }
    if (view->rank > CLI_MAX_RANK) {
        cli_error("output %zu has rank %zu; at most %d is supported", index, view->rank,
                  CLI_MAX_RANK);
        return -1;
    }
    view->count = 1;
    for (size_t d = 0; d < view->rank; d++) {
        view->dims[d] = dims[d];
        view->count *= (size_t)dims[d];
    }
    view->data = (void *)data;
    return 0;
}

void cli_format_declared_shape(const convpool_model *model, int is_input, size_t index,
                               char *buf, size_t size)
{
    int32_t dtype;
    size_t rank = 0;
    int64_t dims[CLI_MAX_RANK];
    convpool_status st = is_input
        ? convpool_model_input_info(model, index, &dtype, &rank, dims, CLI_MAX_RANK)
        : convpool_model_output_info(model, index, &dtype, &rank, dims, CLI_MAX_RANK);
    if (st != CONVPOOL_OK) {
        snprintf(buf, size, "[?]");
        return;
    }
    size_t used = (size_t)snprintf(buf, size, "[");
    for (size_t d = 0; d < rank && used < size; d++) {
        const char *symbol = is_input ? convpool_model_input_dim_name(model, index, d)
                                      : convpool_model_output_dim_name(model, index, d);
        const char *sep = d ? ", " : "";
        if (dims[d] >= 0)
            used += (size_t)snprintf(buf + used, size - used, "%s%lld", sep, (long long)dims[d]);
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, symbol ? cli_safe(symbol) : "?");
    }
    if (used < size)
        snprintf(buf + used, size - used, "]");
}
