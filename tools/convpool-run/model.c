/*
 * model.c - loading a model and binding its inputs for every command.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

void cli_note(const cli_options *opt, const char *fmt, ...)
{
    if (!opt->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    print_error("", fmt, ap);
    va_end(ap);
}

int cli_make_dirs(const char *what, const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        cli_error("%s %s: the path is too long", what, path);
        return -1;
    }
    /* Each prefix ending before a '/', then the whole path. */
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        struct stat sb;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            cli_error("%s %s: cannot create %s: %s", what, path, buf, strerror(errno));
            return -1;
        }
        if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            cli_error("%s %s: %s exists and is not a directory", what, path, buf);
            return -1;
        }
        if (saved == '\0')
            return 0;
        *p = saved;
    }
}

/* The model from a file, or from standard input for "-". Returns a
 * CLI_EXIT_* status after reporting any error. */
static int load_model(const char *path, size_t memory_limit, convpool_model **model)
{
    convpool_status st;
    if (strcmp(path, CLI_STDIO) == 0) {
        unsigned char *bytes;
        size_t size;
        char err[CLI_ERR_LEN];
        if (cli_read_file(path, &bytes, &size, err) != 0) {
            cli_error("cannot read the model: %s", err);
            return CLI_EXIT_FAILURE;
        }
        st = convpool_model_load_memory(bytes, size, memory_limit, model);
        free(bytes);
    } else {
        st = convpool_model_load_file(path, memory_limit, model);
    }
    if (st != CONVPOOL_OK) {
        cli_api_error(st, "cannot load model %s",
                      strcmp(path, CLI_STDIO) == 0 ? "from standard input" : path);
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

int cli_runner_open(cli_runner *r, const char *model_path, const cli_options *opt)
{
    memset(r, 0, sizeof *r);
    int rc = load_model(model_path, opt->memory_limit, &r->model);
    if (rc != CLI_EXIT_OK)
        return rc;
    convpool_status st;
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

/* The value --dim gives a symbolic dim, or 0 if it gives none. */
static int64_t dim_option(const cli_options *opt, const char *symbol)
{
    if (symbol) {
        size_t len = strlen(symbol);
        for (size_t i = 0; i < opt->n_dims; i++)
            if (strncmp(opt->dims[i], symbol, len) == 0 && opt->dims[i][len] == '=')
                return strtoll(opt->dims[i] + len + 1, NULL, 10);
    }
    return 0;
}

/* The size for a symbolic dim: --dim NAME=V, else 1. */
static int64_t symbolic_dim_size(const cli_options *opt, const char *symbol)
{
    int64_t v = dim_option(opt, symbol);
    return v ? v : 1;
}

/* Appends "'name'" (", 'name'" after the first) to buf, once. */
static void append_name(char *buf, size_t size, const char *name)
{
    char quoted[256];
    cli_format_name(quoted, sizeof quoted, name);
    size_t used = strlen(buf);
    if (!strstr(buf, quoted) && used + 1 < size)
        snprintf(buf + used, size - used, "%s%s", used ? ", " : "", quoted);
}

/* Every --dim must name a symbolic dim of some model input. */
static int check_dim_names(const convpool_model *model, const cli_options *opt)
{
    size_t n_inputs = convpool_model_input_count(model);
    for (size_t a = 0; a < opt->n_dims; a++) {
        const char *arg = opt->dims[a];
        size_t len = (size_t)(strchr(arg, '=') - arg);
        char symbols[512] = "";
        int found = 0;
        for (size_t i = 0; i < n_inputs && !found; i++) {
            int32_t dtype;
            size_t rank = 0;
            convpool_model_input_info(model, i, &dtype, &rank, NULL, 0);
            for (size_t d = 0; d < rank && !found; d++) {
                const char *sym = convpool_model_input_dim_name(model, i, d);
                if (!sym)
                    continue;
                found = strlen(sym) == len && strncmp(sym, arg, len) == 0;
                append_name(symbols, sizeof symbols, sym);
            }
        }
        if (!found) {
            cli_error("--dim %s: the model has no symbolic dim named '%.*s' (%s%s)", arg, (int)len,
                      arg, symbols[0] ? "its symbolic dims: " : "every input dim is fixed",
                      symbols);
            return -1;
        }
    }
    return 0;
}

static uint64_t next_random(uint64_t *state)
{
    /* xorshift64*: fixed seed, so benchmarks see the same data every time. */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

/* The declared type and shape of input `index`, symbolic dims set by --dim
 * NAME=V or 1. Returns 0, or -1 after reporting the error. */
static int generated_input_shape(const convpool_model *model, size_t index,
                                 const cli_options *opt, int32_t *dtype, int64_t *dims,
                                 size_t *rank)
{
    convpool_status st = convpool_model_input_info(model, index, dtype, rank, dims,
                                                   CLI_MAX_RANK);
    if (st != CONVPOOL_OK) {
        cli_api_error(st, "input %zu", index);
        return -1;
    }
    for (size_t d = 0; d < *rank; d++)
        if (dims[d] < 0)
            dims[d] = symbolic_dim_size(opt, convpool_model_input_dim_name(model, index, d));
    return 0;
}

static int make_random_input(const convpool_model *model, size_t index,
                             const cli_options *opt, cli_tensor *t)
{
    int32_t dtype;
    size_t rank;
    int64_t dims[CLI_MAX_RANK];
    if (generated_input_shape(model, index, opt, &dtype, dims, &rank) != 0)
        return -1;
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
 * arguments take the next input in graph order; NAME=FILE must name an
 * input, unless the whole argument is an existing file whose name holds
 * '='. Returns a CLI_EXIT_ status. */
static int resolve_input_arg(const convpool_model *model, const char *arg, size_t *next_positional,
                             size_t *index, const char **file)
{
    const char *eq = strchr(arg, '=');
    size_t n_inputs = convpool_model_input_count(model);
    if (eq) {
        char names[512] = "";
        for (size_t i = 0; i < n_inputs; i++) {
            const char *name = convpool_model_input_name(model, i);
            if (strlen(name) == (size_t)(eq - arg) && strncmp(name, arg, (size_t)(eq - arg)) == 0) {
                *index = i;
                *file = eq + 1;
                return CLI_EXIT_OK;
            }
            append_name(names, sizeof names, name);
        }
        struct stat sb;
        if (stat(arg, &sb) != 0) {
            cli_error("--input %s: the model has no input named '%.*s' (its inputs: %s)", arg,
                      (int)(eq - arg), arg, names[0] ? names : "none");
            return CLI_EXIT_USAGE;
        }
    }
    if (*next_positional >= n_inputs) {
        cli_error("--input %s: the model has only %zu input(s)", arg, n_inputs);
        return CLI_EXIT_USAGE;
    }
    *index = (*next_positional)++;
    *file = arg;
    return CLI_EXIT_OK;
}

/*
 * A picture for input `index`: its declared (N, C, H, W) with symbolic dims
 * from --dim, else N 1, C the picture's channels, H and W the picture's
 * size; the picture is resized to fixed H and W.
 */
static int load_picture(const convpool_model *model, size_t index, const cli_options *opt,
                        const char *file, const unsigned char *bytes, size_t size, cli_tensor *t)
{
    const char *name = convpool_model_input_name(model, index);
    int32_t dtype;
    size_t rank;
    int64_t dims[CLI_MAX_RANK];
    char err[CLI_ERR_LEN];
    cli_image img;
    convpool_status st = convpool_model_input_info(model, index, &dtype, &rank, dims, CLI_MAX_RANK);
    if (st != CONVPOOL_OK) {
        cli_api_error(st, "input '%s'", name);
        return -1;
    }
    if (rank != 4) {
        cli_error("input '%s': a picture (%s) fills an NCHW input of rank 4; this one has rank "
                  "%zu",
                  name, file, rank);
        return -1;
    }
    if (cli_image_decode(bytes, size, &img, err) != 0) {
        cli_error("input '%s': %s: %s", name, file, err);
        return -1;
    }
    int64_t picture[4] = {1, img.channels, img.height, img.width};
    for (size_t d = 0; d < 4; d++)
        if (dims[d] < 0) {
            int64_t v = dim_option(opt, convpool_model_input_dim_name(model, index, d));
            dims[d] = v ? v : picture[d];
        }
    if (dims[2] != img.height || dims[3] != img.width)
        cli_note(opt, "input '%s': %s is %dx%d (width x height), resized to %lldx%lld", name, file,
                 img.width, img.height, (long long)dims[3], (long long)dims[2]);
    int rc = cli_image_to_tensor(&img, dtype, dims, &opt->norm, t, err);
    if (rc != 0)
        cli_error("input '%s': %s: %s", name, file, err);
    cli_image_free(&img);
    return rc;
}

/* Reads --input file `file` for input `index`: a .npy, .pb or picture. */
static int load_input_file(const convpool_model *model, size_t index, const cli_options *opt,
                           const char *file, cli_tensor *t, int *is_picture)
{
    const char *name = convpool_model_input_name(model, index);
    unsigned char *bytes;
    size_t size;
    char err[CLI_ERR_LEN];
    if (cli_read_file(file, &bytes, &size, err) != 0) {
        cli_error("input '%s': %s", name, err);
        return -1;
    }
    int rc;
    *is_picture = cli_image_format(bytes, size) != CLI_IMAGE_NONE;
    if (*is_picture) {
        rc = load_picture(model, index, opt, file, bytes, size, t);
    } else if ((rc = cli_tensor_decode(bytes, size, file, t, err)) != 0) {
        cli_error("input '%s': %s", name, err);
    }
    free(bytes);
    return rc;
}

/* Reads the --input files (tensors or pictures) into r->bound. Returns a
 * CLI_EXIT_* status. */
static int load_input_files(cli_runner *r, const cli_options *opt)
{
    const convpool_model *model = r->model;
    cli_tensor *bound = r->bound;
    size_t next_positional = 0;
    int pictures = 0;
    if (check_dim_names(model, opt) != 0)
        return CLI_EXIT_USAGE;
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
        int is_picture;
        if (load_input_file(model, index, opt, file, &bound[index], &is_picture) != 0)
            return CLI_EXIT_FAILURE;
        pictures += is_picture;
    }
    if (opt->norm.given && !pictures) {
        cli_error("--mean, --std and --scale apply to picture inputs (PNG, JPEG); no --input "
                  "is a picture");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_bind_inputs(cli_runner *r, const cli_options *opt, int random_ok)
{
    const convpool_model *model = r->model;
    cli_tensor *bound = r->bound;
    size_t n_inputs = convpool_model_input_count(model);
    int rc = load_input_files(r, opt);
    if (rc != CLI_EXIT_OK)
        return rc;
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

int cli_bind_input_shapes(cli_runner *r, const cli_options *opt)
{
    const convpool_model *model = r->model;
    int rc = load_input_files(r, opt);
    for (size_t i = 0; rc == CLI_EXIT_OK && i < r->n_inputs; i++) {
        cli_tensor *t = &r->bound[i];
        if (!t->data && generated_input_shape(model, i, opt, &t->dtype, t->dims, &t->rank) != 0)
            return CLI_EXIT_FAILURE;
        convpool_status st = convpool_session_set_input_shape(r->session, i, t->dtype, t->dims,
                                                               t->rank);
        if (st != CONVPOOL_OK) {
            char shape[256];
            cli_format_shape(t->dims, t->rank, shape, sizeof shape);
            cli_api_error(st, "input '%s' (%s %s)", convpool_model_input_name(model, i),
                          cli_dtype_name(t->dtype), shape);
            rc = CLI_EXIT_FAILURE;
        }
    }
    return rc;
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
