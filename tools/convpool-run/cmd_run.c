/*
 * cmd_run.c - `convpool-run MODEL.onnx --input ...`: run once, print each
 * output, optionally save them in the ONNX test-data layout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "print.h"
#include "tensor_npy.h"
#include "tensor_pb.h"

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
    char path[4096], err[CLI_ERR_LEN];
    snprintf(path, sizeof path, "%s/output_%zu.%s", opt->output_dir, index,
             opt->output_npy ? "npy" : "pb");
    rc = cli_write_file(path, bytes, size, err);
    free(bytes);
    if (rc != 0)
        cli_error("%s", err);
    else
        printf("  saved to %s\n", cli_safe(path));
    return rc;
}

static int print_outputs(const cli_options *opt, const convpool_model *model,
                         const convpool_session *session)
{
    for (size_t i = 0; i < convpool_model_output_count(model); i++) {
        const char *name = convpool_model_output_name(model, i);
        cli_tensor view;
        if (cli_output_view(session, i, &view) != 0)
            return CLI_EXIT_FAILURE;
        char shape[256];
        cli_format_shape(view.dims, view.rank, shape, sizeof shape);
        printf("output %zu '%s': %s %s\n", i, cli_safe(name), cli_dtype_name(view.dtype), shape);
        cli_print_summary(stdout, &view);
        if (opt->print_full || view.count <= CLI_PRINT_FULL_LIMIT)
            cli_print_torch_style(stdout, &view);
        if (opt->output_dir && save_output(opt, i, name, &view) != 0)
            return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

int cli_cmd_run(const cli_options *opt)
{
    if (opt->output_dir && mkdir(opt->output_dir, 0777) != 0 && errno != EEXIST) {
        cli_error("cannot create --output-dir %s: %s", opt->output_dir, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    cli_runner r;
    int rc = cli_runner_open(&r, opt->model_path, opt);
    if (rc == CLI_EXIT_OK)
        rc = cli_bind_inputs(&r, opt, 0);
    if (rc == CLI_EXIT_OK)
        rc = cli_run_once(&r, opt->model_path);
    if (rc == CLI_EXIT_OK)
        rc = print_outputs(opt, r.model, r.session);
    cli_runner_close(&r);
    return rc;
}
