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
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(fields[i].key, key) == 0)
            return (int64_t *)((char *)c + fields[i].offset);
    return NULL;
}

/* One case object: known keys are stored, others skipped. */
static int read_case(scanner *s, bench_case *c)
{
    memset(c, 0, sizeof *c);
    c->n = c->group = c->sh = c->sw = 1;
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

int bench_is_conv(const bench_case *c)
{
    return strcmp(c->op, "Conv") == 0;
}

int bench_is_global(const bench_case *c)
{
    return strncmp(c->op, "Global", 6) == 0;
}

int64_t bench_out_h(const bench_case *c)
{
    if (bench_is_global(c))
        return 1;
    return (c->h + c->pads[0] + c->pads[2] - c->kh) / c->sh + 1;
}

int64_t bench_out_w(const bench_case *c)
{
    if (bench_is_global(c))
        return 1;
    return (c->w + c->pads[1] + c->pads[3] - c->kw) / c->sw + 1;
}

double bench_conv_flops(const bench_case *c)
{
    return 2.0 * (double)c->n * (double)c->m * (double)bench_out_h(c) * (double)bench_out_w(c) *
           (double)(c->c / c->group) * (double)c->kh * (double)c->kw;
}

double bench_pool_bytes(const bench_case *c)
{
    return 4.0 * (double)c->n * (double)c->c *
           ((double)c->h * (double)c->w + (double)bench_out_h(c) * (double)bench_out_w(c));
}
