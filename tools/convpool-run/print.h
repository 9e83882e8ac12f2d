/*
 * print.h - human-readable views of a tensor: a one-line summary, and the
 * whole tensor laid out the way PyTorch prints it (the D2L notebooks the
 * project started from show their results that way, so a reader can compare
 * the edge detector's 6x7 output with the book at a glance).
 */
#ifndef CLI_PRINT_H
#define CLI_PRINT_H

#include <stdio.h>

#include "tensor.h"

/* Tensors with at most this many elements are printed in full. */
#define CLI_PRINT_FULL_LIMIT 256

/* "min -1  max 1  mean 0" and, for tensors too big to print, the first
 * values. NaNs are counted and left out of min/max/mean. */
void cli_print_summary(FILE *out, const cli_tensor *t);

/* The whole tensor as torch prints it: tensor([[ 0.,  1., ...]]). */
void cli_print_torch_style(FILE *out, const cli_tensor *t);

/* A name taken from the model (a node's, a value's, a dim's) as 'name':
 * every such name printed by new code goes through here. */
void cli_format_name(char *buf, size_t size, const char *name);
void cli_print_name(FILE *out, const char *name);

/* Writes s as a JSON string literal (with quotes and escapes): control
 * characters as \u00NN, invalid UTF-8 bytes as the text \xNN (JSON text
 * must be UTF-8), so the output is valid JSON whatever the model holds. */
void cli_print_json_string(FILE *out, const char *s);

/*
 * s made safe to print on a terminal (runtime/escape.h): control bytes and
 * invalid UTF-8 as \x1b, C1 controls and bidirectional overrides as
 * \u009b. For every name, op type and path that reaches a human-readable
 * line. The result lives in one of CLI_SAFE_SLOTS rotating buffers, so a
 * printf may take that many cli_safe() arguments. NULL gives "(null)".
 */
#define CLI_SAFE_SLOTS 4
const char *cli_safe(const char *s);

#endif
