/* Reading cases.json: a tokenizer for the subset of JSON it uses. */
#include "cases.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct scanner {
    const char *p;
    const char *path;
} scanner;

static void skip_space(scanner *s)
{
    while (isspace((unsigned char)*s->p))
        s->p++;
}

static int expect(scanner *s, char ch)
{
    skip_space(s);
    if (*s->p != ch) {
        fprintf(stderr, "%s: expected '%c' near \"%.20s\"\n", s->path, ch, s->p);
        return 0;
    }
    s->p++;
    return 1;
}

/* A string into buf (truncated to size-1); escapes are kept verbatim. */
static int read_string(scanner *s, char *buf, size_t size)
{
    if (!expect(s, '"'))
        return 0;
    size_t n = 0;
    while (*s->p && *s->p != '"') {
        if (*s->p == '\\' && s->p[1])
            s->p++;
        if (n + 1 < size)
            buf[n++] = *s->p;
        s->p++;
    }
    buf[n] = '\0';
    return expect(s, '"');
}

static int read_number(scanner *s, int64_t *v)
{
    skip_space(s);
    char *end;
    double d = strtod(s->p, &end);
    if (end == s->p) {
        fprintf(stderr, "%s: expected a number near \"%.20s\"\n", s->path, s->p);
        return 0;
    }
    s->p = end;
    *v = (int64_t)d;
    return 1;
}

static int64_t *field(bench_case *c, const char *key)
{
    static const struct {
        const char *key;
        size_t offset;
    } fields[] = {
        {"N", offsetof(bench_case, n)},
        {"C", offsetof(bench_case, c)},
        {"H", offsetof(bench_case, h)},
        {"W", offsetof(bench_case, w)},
        {"M", offsetof(bench_case, m)},
        {"kh", offsetof(bench_case, kh)},
        {"kw", offsetof(bench_case, kw)},
        {"sh", offsetof(bench_case, sh)},
        {"sw", offsetof(bench_case, sw)},
        {"group", offsetof(bench_case, group)},
        {"count_include_pad", offsetof(bench_case, count_include_pad)},
        {"p", offsetof(bench_case, p)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(fields[i].key, key) == 0)
            return (int64_t *)((char *)c + fields[i].offset);
    return NULL;
}

static bench_kind kind_of(const char *op)
{
    static const struct {
        const char *op;
        bench_kind kind;
    } kinds[] = {
        {"Conv", BENCH_CONV},
        {"MaxPool", BENCH_MAX_POOL},
        {"AveragePool", BENCH_AVERAGE_POOL},
        {"GlobalMaxPool", BENCH_GLOBAL_MAX_POOL},
        {"GlobalAveragePool", BENCH_GLOBAL_AVERAGE_POOL},
        {"ConvTranspose", BENCH_CONV_TRANSPOSE},
        {"LpPool", BENCH_LP_POOL},
        {"GlobalLpPool", BENCH_GLOBAL_LP_POOL},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].op, op) == 0)
            return kinds[i].kind;
    return BENCH_UNKNOWN;
}

/* One case object: known keys are stored, others skipped. */
static int read_case(scanner *s, bench_case *c)
{
    memset(c, 0, sizeof *c);
    c->n = c->group = c->sh = c->sw = 1;
    c->p = 2;
    if (!expect(s, '{'))
        return 0;
    skip_space(s);
    while (*s->p != '}') {
        char key[64], text[128];
        if (!read_string(s, key, sizeof key) || !expect(s, ':'))
            return 0;
        skip_space(s);
        if (*s->p == '"') {
            if (!read_string(s, text, sizeof text))
                return 0;
            char *dst = strcmp(key, "name") == 0 ? c->name : strcmp(key, "op") == 0 ? c->op : NULL;
            if (dst) { /* both fields are 32 bytes; longer values are cut */
                size_t len = strlen(text);
                if (len > sizeof c->name - 1)
                    len = sizeof c->name - 1;
                memcpy(dst, text, len);
                dst[len] = '\0';
            }
        } else if (*s->p == '[') {
            s->p++;
            for (int i = 0;; i++) {
                int64_t v;
                if (!read_number(s, &v))
                    return 0;
                if (strcmp(key, "pads") == 0 && i < 4)
                    c->pads[i] = v;
                skip_space(s);
                if (*s->p == ',') {
                    s->p++;
                    continue;
                }
                if (!expect(s, ']'))
                    return 0;
                break;
            }
        } else {
            int64_t v, *dst = field(c, key);
            if (!read_number(s, &v))
                return 0;
            if (dst)
                *dst = v;
        }
        skip_space(s);
        if (*s->p == ',')
            s->p++;
        skip_space(s);
    }
    s->p++;
    c->kind = kind_of(c->op);
    if (c->kind == BENCH_UNKNOWN) {
        fprintf(stderr, "%s: case \"%s\": unknown op \"%s\"\n", s->path, c->name, c->op);
        return 0;
    }
    return 1;
}

int bench_read_cases(const char *path, bench_case *cases)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    scanner s = {text, path};
    const char *at = strstr(text, "\"cases\"");
    if (!at) {
        fprintf(stderr, "%s: no \"cases\" array\n", path);
        return -1;
    }
    s.p = at + strlen("\"cases\"");
    if (!expect(&s, ':') || !expect(&s, '['))
        return -1;
    int count = 0;
    skip_space(&s);
    while (*s.p == '{' && count < BENCH_MAX_CASES) {
        if (!read_case(&s, &cases[count]))
            return -1;
        count++;
        skip_space(&s);
        if (*s.p == ',')
            s.p++;
        skip_space(&s);
    }
    return count;
}

int bench_has_weights(const bench_case *c)
{
    return c->kind == BENCH_CONV || c->kind == BENCH_CONV_TRANSPOSE;
}

int bench_is_global(const bench_case *c)
{
    return c->kind == BENCH_GLOBAL_MAX_POOL || c->kind == BENCH_GLOBAL_AVERAGE_POOL ||
           c->kind == BENCH_GLOBAL_LP_POOL;
}

/* One spatial dim's output size: in, kernel, stride, pads at both ends. */
static int64_t out_size(const bench_case *c, int64_t in, int64_t k, int64_t s, int64_t pads)
{
    if (bench_is_global(c))
        return 1;
    if (c->kind == BENCH_CONV_TRANSPOSE)
        return (in - 1) * s + k - pads;
    return (in + pads - k) / s + 1;
}

int64_t bench_out_h(const bench_case *c)
{
    return out_size(c, c->h, c->kh, c->sh, c->pads[0] + c->pads[2]);
}

int64_t bench_out_w(const bench_case *c)
{
    return out_size(c, c->w, c->kw, c->sw, c->pads[1] + c->pads[3]);
}

double bench_conv_flops(const bench_case *c)
{
    const double taps = 2.0 * (double)c->kh * (double)c->kw;
    if (c->kind == BENCH_CONV_TRANSPOSE)
        return taps * (double)c->n * (double)c->c * (double)c->h * (double)c->w *
               (double)(c->m / c->group);
    return taps * (double)c->n * (double)c->m * (double)bench_out_h(c) * (double)bench_out_w(c) *
           (double)(c->c / c->group);
}

double bench_pool_bytes(const bench_case *c)
{
    return 4.0 * (double)c->n * (double)c->c *
           ((double)c->h * (double)c->w + (double)bench_out_h(c) * (double)bench_out_w(c));
}
