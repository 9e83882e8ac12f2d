/*
 * cmd_run.c - `convpool-run MODEL.onnx --input ...`: run once, print each
 * output, optionally save them in the ONNX test-data layout (or to standard
 * output) and as greyscale PNG grids. Output folders are made only after a
 * successful run, so a failure leaves nothing behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image.h"
#include "print.h"
#include "tensor_npy.h"
#include "tensor_pb.h"

static int is_stdout(const char *dir)
{
    return dir && strcmp(dir, CLI_STDIO) == 0;
}

/* Writes bytes to DIR/output_<index>.<ext>, or to standard output for -o -. */
static int write_output_file(const cli_options *opt, const char *dir, size_t index, const char *ext,
                             const unsigned char *bytes, size_t size)
{
    char err[CLI_ERR_LEN];
    if (strcmp(dir, CLI_STDIO) == 0) {
        if (fwrite(bytes, 1, size, stdout) != size || fflush(stdout) != 0) {
            cli_error("cannot write output %zu to standard output", index);
            return -1;
        }
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof path, "%.4000s/output_%zu.%s", dir, index, ext);
    if (cli_write_file(path, bytes, size, err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    if (!opt->quiet)
        printf("  saved to %s\n", cli_safe(path));
    return 0;
}

static int save_output(const cli_options *opt, size_t index, const char *name,
                       const cli_tensor *view)
{
    cli_tensor named = *view; /* a borrowed view that carries the output's name */
    snprintf(named.name, sizeof named.name, "%s", name);
    unsigned char *bytes;
    size_t size;
    int rc = opt->output_npy ? cli_npy_encode(&named, &bytes, &size)
                             : cli_pb_encode(&named, &bytes, &size);
    if (rc != 0) {
        cli_error("cannot encode output '%s'", name);
        return -1;
    }
    rc =
        write_output_file(opt, opt->output_dir, index, opt->output_npy ? "npy" : "pb", bytes, size);
    free(bytes);
    return rc;
}

static int save_png(const cli_options *opt, size_t index, const char *name, const cli_tensor *view)
{
    unsigned char *pixels, *png;
    int width, height;
    size_t size;
    char err[CLI_ERR_LEN];
    if (cli_feature_grid(view, &pixels, &width, &height, err) != 0) {
        cli_error("--save-png: output '%s': %s", name, err);
        return -1;
    }
    int rc = cli_png_encode_grey(pixels, width, height, &png, &size, err);
    free(pixels);
    if (rc != 0) {
        cli_error("--save-png: output '%s': %s", name, err);
        return -1;
    }
    cli_note(opt, "output '%s': a %dx%d grid of its channels", name, width, height);
    rc = write_output_file(opt, opt->save_png, index, "png", png, size);
    free(png);
    return rc;
}

static int print_outputs(const cli_options *opt, const convpool_model *model,
                         const convpool_session *session)
{
    /* standard output carries data: the listing would corrupt it */
    int quiet = opt->quiet || is_stdout(opt->output_dir) || is_stdout(opt->save_png);
    for (size_t i = 0; i < convpool_model_output_count(model); i++) {
        const char *name = convpool_model_output_name(model, i);
        cli_tensor view;
        if (cli_output_view(session, i, &view) != 0)
            return CLI_EXIT_FAILURE;
        if (!quiet) {
            char shape[256];
            cli_format_shape(view.dims, view.rank, shape, sizeof shape);
            printf("output %zu '%s': %s %s\n", i, cli_safe(name), cli_dtype_name(view.dtype), shape);
            cli_print_summary(stdout, &view);
            if (opt->print_full || view.count <= CLI_PRINT_FULL_LIMIT)
                cli_print_torch_style(stdout, &view);
        }
        if (opt->output_dir && save_output(opt, i, name, &view) != 0)
            return CLI_EXIT_FAILURE;
        if (opt->save_png && save_png(opt, i, name, &view) != 0)
            return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

/* TensorProtos or PNGs written back to back cannot be told apart. */
static int check_stdout_outputs(const cli_options *opt, const convpool_model *model)
{
    size_t n = convpool_model_output_count(model);
    if (is_stdout(opt->output_dir) && !opt->output_npy && n > 1) {
        cli_error("-o - with --output-format pb writes one output; this model has %zu "
                  "(use --output-format npy, whose arrays numpy reads one after another)",
                  n);
        return CLI_EXIT_USAGE;
    }
    if (is_stdout(opt->save_png) && n > 1) {
        cli_error("--save-png - writes one picture; this model has %zu outputs (give a folder)", n);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_cmd_run(const cli_options *opt)
{
    cli_runner r;
    int rc = cli_runner_open(&r, opt->model_path, opt);
    if (rc == CLI_EXIT_OK)
        rc = check_stdout_outputs(opt, r.model);
    if (rc == CLI_EXIT_OK)
        rc = cli_bind_inputs(&r, opt, 0);
    if (rc == CLI_EXIT_OK)
        rc = cli_run_once(&r, opt->model_path);
    if (rc == CLI_EXIT_OK && opt->output_dir && !is_stdout(opt->output_dir) &&
        cli_make_dirs("--output-dir", opt->output_dir) != 0)
        rc = CLI_EXIT_FAILURE;
    if (rc == CLI_EXIT_OK && opt->save_png && !is_stdout(opt->save_png) &&
        cli_make_dirs("--save-png", opt->save_png) != 0)
        rc = CLI_EXIT_FAILURE;
    if (rc == CLI_EXIT_OK)
        rc = print_outputs(opt, r.model, r.session);
    cli_runner_close(&r);
    return rc;
}
