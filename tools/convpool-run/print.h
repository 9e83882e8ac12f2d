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

/* Writes s as a JSON string literal (with quotes and escapes). */
void cli_print_json_string(FILE *out, const char *s);

#endif
