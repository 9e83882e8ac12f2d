/*
 * print.c - tensor summaries and PyTorch-style printing.
 *
 * The layout follows torch's _tensor_str: all elements share one width; a
 * float tensor whose values are all integers prints them as "1."; other
 * floats print with 4 decimals, or in scientific notation when the range is
 * too wide for that; each nesting level indents by one more space and the
 * slices of a k-D tensor are separated by k-1 blank lines.
 */
#include "print.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"
#include "runtime/escape.h"

enum { LINE_WIDTH = 80, TORCH_PREFIX = 7 /* strlen("tensor(") */ };

typedef struct style {
    const char *float_format; /* NULL for integer types */
    int integral;             /* float values all whole: print "%.0f." */
    int width;
} style;

static int is_float(const cli_tensor *t)
{
    return t->dtype == CONVPOOL_DTYPE_FLOAT;
}

static int format_value(const cli_tensor *t, const style *s, size_t i, char *buf,
                        size_t size)
{
    double v = cli_tensor_get(t, i);
    if (!is_float(t))
        return snprintf(buf, size, "%lld", t->dtype == CONVPOOL_DTYPE_INT64
                                               ? (long long)((const int64_t *)t->data)[i]
                                               : (long long)v);
    if (isnan(v))
        return snprintf(buf, size, "nan");
    if (isinf(v))
        return snprintf(buf, size, v < 0 ? "-inf" : "inf");
    if (s->integral)
        return snprintf(buf, size, "%.0f.", v);
    return snprintf(buf, size, s->float_format, v);
}

static style choose_style(const cli_tensor *t)
{
    style s = {NULL, 0, 1};
    if (is_float(t)) {
        double max_abs = 0, min_abs = INFINITY;
        s.integral = 1;
        for (size_t i = 0; i < t->count; i++) {
            double v = fabs(cli_tensor_get(t, i));
            if (!isfinite(v))
                continue;
            if (v != floor(v))
                s.integral = 0;
            if (v > max_abs)
                max_abs = v;
            if (v > 0 && v < min_abs)
                min_abs = v;
        }
        if (max_abs >= 1e8)
            s.integral = 0;
        int scientific = max_abs >= 1e8 || (min_abs < 1e-4) ||
                         (min_abs < INFINITY && max_abs / min_abs > 1000);
        s.float_format = scientific ? "%.4e" : "%.4f";
    }
    char buf[64];
    for (size_t i = 0; i < t->count; i++) {
        int len = format_value(t, &s, i, buf, sizeof buf);
        if (len > s.width)
            s.width = len;
    }
    return s;
}

/* Prints the sub-tensor at `dim` starting at flat element `offset`. */
static void print_level(FILE *out, const cli_tensor *t, const style *s, size_t dim,
                        size_t offset, int indent)
{
    size_t stride = 1;
    for (size_t d = dim + 1; d < t->rank; d++)
        stride *= (size_t)t->dims[d];
    size_t n = (size_t)t->dims[dim];
    fputc('[', out);
    if (dim + 1 == t->rank) {
        int per_line = (LINE_WIDTH - indent) / (s->width + 2);
        if (per_line < 1)
            per_line = 1;
        char buf[64];
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                fprintf(out, i % (size_t)per_line ? ", " : ",\n%*s", indent + 1, "");
            format_value(t, s, offset + i, buf, sizeof buf);
            fprintf(out, "%*s", s->width, buf);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i > 0) {
                fputc(',', out);
                for (size_t blank = dim + 1; blank < t->rank; blank++)
                    fputc('\n', out);
                fprintf(out, "%*s", indent + 1, "");
            }
            print_level(out, t, s, dim + 1, offset + i * stride, indent + 1);
        }
    }
    fputc(']', out);
}

void cli_print_torch_style(FILE *out, const cli_tensor *t)
{
    style s = choose_style(t);
    fputs("tensor(", out);
    if (t->rank == 0) {
        char buf[64];
        format_value(t, &s, 0, buf, sizeof buf);
        fputs(buf, out);
    } else if (t->count == 0) {
        fputs("[]", out);
    } else {
        print_level(out, t, &s, 0, 0, TORCH_PREFIX);
    }
    fputs(")\n", out);
}

void cli_print_summary(FILE *out, const cli_tensor *t)
{
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    size_t nans = 0;
    for (size_t i = 0; i < t->count; i++) {
        double v = cli_tensor_get(t, i);
        if (isnan(v)) {
            nans++;
            continue;
        }
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += v;
    }
    if (t->count == nans) {
        fprintf(out, "  (no values to summarise)\n");
    } else {
        fprintf(out, "  min %.6g  max %.6g  mean %.6g", lo, hi, sum / (double)(t->count - nans));
        if (nans)
            fprintf(out, "  (%zu NaN)", nans);
        fputc('\n', out);
    }
    if (t->count > CLI_PRINT_FULL_LIMIT) {
        style s = choose_style(t);
        char buf[64];
        fprintf(out, "  first values:");
        for (size_t i = 0; i < 8; i++) {
            format_value(t, &s, i, buf, sizeof buf);
            fprintf(out, " %s", buf);
        }
        fprintf(out, " ...\n");
    }
}

/* s escaped in `mode` into a buffer of the slot's, grown as needed. */
static const char *escape_into(char **buf, size_t *cap, const char *s, cp_escape_mode mode)
{
    size_t len = strlen(s);
    size_t need = cp_escape(*buf, *cap, s, len, mode) + 1;
    if (need > *cap) {
        char *grown = realloc(*buf, need);
        if (!grown)
            return "(out of memory)";
        *buf = grown;
        *cap = need;
        cp_escape(*buf, *cap, s, len, mode);
    }
    return *buf;
}

void cli_print_json_string(FILE *out, const char *s)
{
    static char *buf;
    static size_t cap;
    fprintf(out, "\"%s\"", escape_into(&buf, &cap, s, CP_ESCAPE_JSON));
}

const char *cli_safe(const char *s)
{
    static char *slots[CLI_SAFE_SLOTS];
    static size_t caps[CLI_SAFE_SLOTS];
    static unsigned next;
    if (!s)
        return "(null)";
    unsigned i = next++ % CLI_SAFE_SLOTS;
    return escape_into(&slots[i], &caps[i], s, CP_ESCAPE_TEXT);
}

void cli_format_name(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "'%s'", cli_safe(name));
}

void cli_print_name(FILE *out, const char *name)
{
    char buf[1024];
    cli_format_name(buf, sizeof buf, name);
    fputs(buf, out);
}
