/*
 * convpool-bench - times the cases of cases.json through the public op
 * API at 1 and 2 threads, against this machine's measured peak and, when
 * built with oneDNN, against oneDNN on the same case in the same process.
 *
 *   convpool-bench [--threads 1,2] [--cases FILE] [--repeat R] [--rounds K]
 *                  [--only NAME[,NAME]] [--backward] [--no-dnnl] [--no-peak] [--json]
 *
 * --backward times the gradients instead of the forward runs (rows
 * case+bwd_data, case+bwd_weights, case+bwd_data_x; see "Backward passes"
 * below), oneDNN's backward primitives beside them.
 *
 * Each figure is the median of R samples (R <= 1001); a sample times
 * back-to-back runs on the same (cache-hot) buffers, enough of them to last
 * >= 0.5 ms, and divides. --json also gives the fastest sample ("_min_ms"),
 * which on a machine shared with other jobs is the least disturbed one. Our
 * runs go through convpool_op_run_ex() with a context of the given thread
 * count and a caller workspace (the steady state: no allocation); the toy
 * case is also timed through plain convpool_op_run(), and MaxPool cases also
 * with their Indices output ("+Indices" rows, byte counts as without).
 *
 * Cases run one at a time, in K rounds (default 3): each round measures the
 * peak (FMA for convolutions, copy for pools; peak.h) on the case's thread
 * count, takes its share of our samples, then, after a 20 ms pause, of
 * oneDNN's, and pauses 20 ms again (neither library's idle, spinning threads
 * compete with the other's). On a host whose speed changes within seconds,
 * both medians and the case's peak (the median of its rounds') then cover
 * the same stretch of time; a case's percent of the peak is of that peak,
 * the peak in the header line is the one measured at start.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cases.h"
#include "convpool.h"
#include "peak.h"
#ifdef BENCH_HAVE_DNNL
#include "dnnl_runner.h"
#endif

#define MAX_SAMPLES    1001
#define SAMPLE_SECONDS 5e-4

/* The best NCHW peer per case from ../shared/bench/README.md (measured
 * 2026-12-02 on this kind of machine, Zen 5): name, peer, ms at 1 and 2
 * threads. Fixed figures from another run: the oneDNN columns, measured in
 * the same process, are the fair comparison. */
static const struct {
    const char *name, *peer1, *peer2;
    double ms1, ms2;
} peers[] = {
    {"toy", "XNNPACK", "XNNPACK", 0.000135, 0.00174},
    {"stem", "ORT", "ORT", 1.401, 0.846},
    {"r3x3", "ORT", "oneDNN", 1.244, 0.729},
    {"r1x1a", "oneDNN", "oneDNN", 0.617, 0.436},
    {"r1x1b", "oneDNN", "oneDNN", 0.566, 0.294},
    {"r3x3_28", "ORT", "oneDNN", 1.181, 0.705},
    {"r3x3_s2", "oneDNN", "oneDNN", 0.608, 0.33},
    {"r3x3_7", "oneDNN", "oneDNN", 1.188, 0.605},
    {"dw112", "torch", "XNNPACK", 0.225, 0.136},
    {"dw56s2", "XNNPACK", "XNNPACK", 0.0875, 0.0521},
    {"b8_r3x3", "oneDNN", "ORT", 11.579, 5.846},
    {"maxpool_stem", "oneDNN", "oneDNN", 0.188, 0.132},
    {"maxpool_vgg", "oneDNN", "oneDNN", 0.397, 0.204},
    {"avgpool", "oneDNN", "oneDNN", 0.0356, 0.0422},
    {"avgpool3_pad", "oneDNN", "oneDNN", 0.0759, 0.0641},
    {"gap", "XNNPACK", "XNNPACK", 0.00521, 0.00648},
};

static double peer_ms(const char *name, int threads)
{
    for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++)
        if (strcmp(peers[i].name, name) == 0)
            return threads == 1 ? peers[i].ms1 : peers[i].ms2;
    return NAN;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef void (*run_fn)(void *arg);

/* The samples of one run function, gathered over a case's rounds. */
typedef struct samples {
    double v[MAX_SAMPLES];
    int n;
} samples;

/* Appends `count` samples of fn, each the seconds per call of back-to-back
 * calls lasting >= SAMPLE_SECONDS, after a warm-up (caches, threads, lazy
 * setup: at every round, since the other library ran in between). */
static void take_samples(run_fn fn, void *arg, int count, samples *s)
{
    for (int i = 0; i < 3; i++)
        fn(arg);
    double t0 = now_seconds();
    fn(arg);
    double one = now_seconds() - t0;
    long per_sample = one > 0 ? (long)ceil(SAMPLE_SECONDS / one) : 1000;
    if (per_sample < 1)
        per_sample = 1;
    if (per_sample > 1000000)
        per_sample = 1000000;
    for (int k = 0; k < count && s->n < MAX_SAMPLES; k++) {
        t0 = now_seconds();
        for (long i = 0; i < per_sample; i++)
            fn(arg);
        s->v[s->n++] = (now_seconds() - t0) / (double)per_sample;
    }
}

/* The median of values v[0..n) (sorted in place), *best the smallest; NaN
 * for none. */
static double median_of(double *v, int n, double *best)
{
    if (n < 1) {
        *best = NAN;
        return NAN;
    }
    qsort(v, (size_t)n, sizeof v[0], compare_double);
    *best = v[0];
    return v[n / 2];
}

/* The samples' median in ms, *best_ms the fastest (on a shared machine, the
 * least disturbed one). */
static double median_ms(samples *s, double *best_ms)
{
    double m = 1e3 * median_of(s->v, s->n, best_ms);
    *best_ms *= 1e3;
    return m;
}

/* One case's tensors and our op. */
typedef struct case_data {
    const bench_case *c;
    int64_t in_shape[4];
    float *x, *w, *b, *y;
    int64_t *indices; /* MaxPool: room for the Indices output */
    size_t y_count;
    convpool_op *op;
    convpool_context *ctx;
    void *workspace;
    size_t workspace_size;
} case_data;

static float *random_floats(size_t n, unsigned *seed)
{
    float *p = malloc(n * sizeof(float) + 64);
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        p[i] = (float)((*seed >> 8) & 0xFFFF) / 32768.0f - 1.0f;
    }
    return p;
}

static int32_t op_kind(const bench_case *c)
{
    switch (c->kind) {
    case BENCH_CONV: return CONVPOOL_OP_CONV;
    case BENCH_MAX_POOL: return CONVPOOL_OP_MAX_POOL;
    case BENCH_AVERAGE_POOL: return CONVPOOL_OP_AVERAGE_POOL;
    case BENCH_GLOBAL_MAX_POOL: return CONVPOOL_OP_GLOBAL_MAX_POOL;
    case BENCH_GLOBAL_AVERAGE_POOL: return CONVPOOL_OP_GLOBAL_AVERAGE_POOL;
    case BENCH_CONV_TRANSPOSE: return CONVPOOL_OP_CONV_TRANSPOSE;
    case BENCH_LP_POOL: return CONVPOOL_OP_LP_POOL;
    case BENCH_GLOBAL_LP_POOL: return CONVPOOL_OP_GLOBAL_LP_POOL;
    case BENCH_UNKNOWN: break;
    }
    return 0; /* unreachable: the reader refuses unknown ops */
}

/* The attributes of case c on desc (the kind's own ones only). */
static convpool_status set_attrs(convpool_desc *desc, const bench_case *c)
{
    const int64_t strides[2] = {c->sh, c->sw}, kernel[2] = {c->kh, c->kw};
    const bench_kind k = c->kind;
    convpool_status st = CONVPOOL_OK;
    if (k == BENCH_CONV || k == BENCH_CONV_TRANSPOSE)
        st = convpool_desc_set_int(desc, CONVPOOL_ATTR_GROUP, c->group);
    if (st == CONVPOOL_OK && k == BENCH_AVERAGE_POOL)
        st = convpool_desc_set_int(desc, CONVPOOL_ATTR_COUNT_INCLUDE_PAD, c->count_include_pad);
    if (st == CONVPOOL_OK && (k == BENCH_LP_POOL || k == BENCH_GLOBAL_LP_POOL))
        st = convpool_desc_set_int(desc, CONVPOOL_ATTR_P, c->p);
    if (st == CONVPOOL_OK && !bench_has_weights(c) && !bench_is_global(c))
        st = convpool_desc_set_ints(desc, CONVPOOL_ATTR_KERNEL_SHAPE, kernel, 2);
    if (st == CONVPOOL_OK && !bench_is_global(c))
        st = convpool_desc_set_ints(desc, CONVPOOL_ATTR_STRIDES, strides, 2);
    if (st == CONVPOOL_OK && !bench_is_global(c))
        st = convpool_desc_set_ints(desc, CONVPOOL_ATTR_PADS, c->pads, 4);
    return st;
}

/* Sets up case c; `create_flags` as convpool_conv_create_ex() takes them. */
static int case_setup_ex(case_data *d, const bench_case *c, convpool_context *ctx,
                         uint32_t create_flags)
{
    memset(d, 0, sizeof *d);
    d->c = c;
    d->ctx = ctx;
    unsigned seed = 12345;
    const int32_t kind = op_kind(c);
    const int64_t m = bench_has_weights(c) ? c->m : c->c;
    int64_t shape[4] = {c->n, c->c, c->h, c->w};
    memcpy(d->in_shape, shape, sizeof shape);
    d->x = random_floats((size_t)(c->n * c->c * c->h * c->w), &seed);
    d->y_count = (size_t)(c->n * m * bench_out_h(c) * bench_out_w(c));
    d->y = malloc(d->y_count * sizeof(float));
    if (kind == CONVPOOL_OP_MAX_POOL)
        d->indices = malloc(d->y_count * sizeof(int64_t));
    convpool_desc *desc = NULL;
    convpool_status st = convpool_desc_create(kind, 2, &desc);
    if (st == CONVPOOL_OK)
        st = set_attrs(desc, c);
    if (st == CONVPOOL_OK && bench_has_weights(c)) {
        /* W: (M, C/group, k) for Conv, (C, M/group, k) for ConvTranspose */
        const int transpose = c->kind == BENCH_CONV_TRANSPOSE;
        int64_t wshape[4] = {transpose ? c->c : c->m, transpose ? c->m / c->group : c->c / c->group,
                             c->kh, c->kw};
        d->w = random_floats((size_t)(wshape[0] * wshape[1] * c->kh * c->kw), &seed);
        d->b = random_floats((size_t)c->m, &seed);
        st = convpool_conv_create_ex(desc, wshape, 4, d->w, d->b, create_flags, &d->op);
    } else if (st == CONVPOOL_OK) {
        st = convpool_pool_create(desc, &d->op);
    }
    convpool_desc_destroy(desc);
    if (st == CONVPOOL_OK)
        st = convpool_op_workspace_size(d->op, ctx, d->in_shape, 4, &d->workspace_size);
    if (st == CONVPOOL_OK && d->workspace_size)
        d->workspace = malloc(d->workspace_size);
    if (st != CONVPOOL_OK) {
        fprintf(stderr, "%s: %s\n", c->name, convpool_last_error());
        return 0;
    }
    return 1;
}

static int case_setup(case_data *d, const bench_case *c, convpool_context *ctx)
{
    return case_setup_ex(d, c, ctx, 0);
}

static void case_free(case_data *d)
{
    convpool_op_destroy(d->op);
    free(d->x);
    free(d->w);
    free(d->b);
    free(d->y);
    free(d->indices);
    free(d->workspace);
}

static void run_ours(void *arg)
{
    case_data *d = arg;
    convpool_op_run_ex(d->op, d->ctx, d->in_shape, 4, d->x, d->y, d->y_count, NULL, d->workspace,
                       d->workspace_size);
}

static void run_ours_indices(void *arg)
{
    case_data *d = arg;
    convpool_op_run_ex(d->op, d->ctx, d->in_shape, 4, d->x, d->y, d->y_count, d->indices,
                       d->workspace, d->workspace_size);
}

static void run_ours_simple(void *arg)
{
    case_data *d = arg;
    convpool_op_run(d->op, d->in_shape, 4, d->x, d->y, d->y_count);
}

#ifdef BENCH_HAVE_DNNL
static void run_dnnl(void *arg)
{
    dnnl_runner_run(arg);
}
#endif

typedef struct result {
    double ours_ms, dnnl_ms;        /* medians; dnnl_ms NaN if not run */
    double ours_min, dnnl_min;      /* fastest samples */
    double indices_ms, indices_min; /* MaxPool with its Indices output, else NaN */
    double peak;                    /* the peak measured during the case (FMA GFLOP/s or copy
                                     * GB/s, as the case's rate), or NaN: the start's */
} result;

#define NO_RESULT ((result){NAN, NAN, NAN, NAN, NAN, NAN, NAN})

typedef struct options options;

#define MAX_ROUNDS 64

struct options {
    int threads[4], thread_count, repeat, json, use_dnnl, measure_peak;
    const char *cases_path, *only;
    int backward; /* --backward: the backward passes instead of the forward runs */
    int rounds;   /* --rounds: how many turns ours and oneDNN take on each case */
};

/* 20 ms asleep, so that one library's spinning threads have gone idle
 * before the other's run. */
static void idle(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* A context of `threads` threads for our runs, or NULL (said on stderr). */
static convpool_context *context_of(int threads)
{
    convpool_context *ctx = NULL;
    if (convpool_context_create(threads, &ctx) != CONVPOOL_OK)
        fprintf(stderr, "context: %s\n", convpool_last_error());
    return ctx;
}

/* A function timed on a case, and its samples. */
typedef struct timed {
    run_fn fn;
    void *arg;
    samples s;
} timed;

/*
 * The rounds of a case. A host's speed can change by 2x within seconds (a
 * VM's vCPU shares its core, clocks change), so the two libraries' samples
 * are taken in turns rather than one library's all before the other's:
 * round by round, the peak (FMA or copy, `copy_peak`) on `threads` threads,
 * then a share of the samples of each of ours[0..n) in turn, then, 20 ms
 * later, of theirs (if not NULL), then 20 ms asleep again, so that the idle
 * threads of neither library (ours spin up to 50 us, OpenMP's longer) compete
 * with the other's. The medians then cover the same stretch of time on both
 * sides. Returns the median of the rounds' peaks (NaN without --no-peak).
 */
static double run_rounds(const options *o, int threads, int copy_peak, timed *ours, int n,
                         timed *theirs)
{
    double peaks[MAX_ROUNDS];
    int peak_count = 0;
    for (int i = 0; i < n; i++)
        ours[i].s.n = 0;
    if (theirs)
        theirs->s.n = 0;
    for (int round = 0; round < o->rounds; round++) {
        /* the samples spread over the rounds, the first ones one more */
        const int share = o->repeat / o->rounds + (round < o->repeat % o->rounds);
        if (o->measure_peak)
            peaks[peak_count++] = bench_peak_now(threads, copy_peak);
        for (int i = 0; i < n; i++)
            take_samples(ours[i].fn, ours[i].arg, share, &ours[i].s);
        if (theirs) {
            idle();
            take_samples(theirs->fn, theirs->arg, share, &theirs->s);
            idle();
        }
    }
    double best;
    return median_of(peaks, peak_count, &best);
}

#ifdef BENCH_HAVE_DNNL
/* d->y holds oneDNN's output: ours must agree with it where oneDNN ran the
 * same op (not for Lp pooling), or the comparison would be of different
 * work; a disagreement is reported on stderr. */
static void check_same_op(case_data *d)
{
    if (d->c->kind == BENCH_LP_POOL || d->c->kind == BENCH_GLOBAL_LP_POOL)
        return;
    float *ours = malloc(d->y_count * sizeof(float));
    if (!ours)
        return;
    float *theirs = d->y;
    d->y = ours;
    run_ours(d);
    d->y = theirs;
    double worst = 0, scale = 1e-6;
    for (size_t i = 0; i < d->y_count; i++) {
        double diff = fabs((double)ours[i] - (double)theirs[i]);
        worst = diff > worst ? diff : worst;
        scale = fabs((double)theirs[i]) > scale ? fabs((double)theirs[i]) : scale;
    }
    if (!(worst <= 1e-4 * scale))
        fprintf(stderr, "%s: oneDNN's output differs from ours by up to %.3g (largest |y| %.3g)\n",
                d->c->name, worst, scale);
    free(ours);
}

/* oneDNN's side of a forward case: the same data in tensors of its own
 * (our op beside it, on one thread, for the check) and the primitive. */
typedef struct dnnl_side {
    convpool_context *ctx;
    case_data d;
    int have_data;
    dnnl_runner *runner;
} dnnl_side;

static void dnnl_side_open(dnnl_side *ds, const bench_case *c, int threads)
{
    *ds = (dnnl_side){0};
    if (convpool_context_create(1, &ds->ctx) != CONVPOOL_OK)
        return;
    ds->have_data = case_setup(&ds->d, c, ds->ctx);
    if (ds->have_data) {
        dnnl_runner_set_threads(threads);
        ds->runner = dnnl_runner_create(c, ds->d.x, ds->d.w, ds->d.b, ds->d.y);
    }
}

static void dnnl_side_close(dnnl_side *ds)
{
    dnnl_runner_destroy(ds->runner);
    if (ds->have_data)
        case_free(&ds->d);
    convpool_context_destroy(ds->ctx);
}
#endif

/* Case c on `threads` threads: ours through a context of that many threads
 * (with Indices too for MaxPool; the toy also through convpool_op_run) and
 * oneDNN's with as many OpenMP threads, in rounds (run_rounds). */
static void measure_case(const options *o, const bench_case *c, int threads, result *r,
                         double *toy_simple_ms, double *toy_simple_min)
{
    convpool_context *ctx = context_of(threads);
    case_data d;
    if (!ctx)
        return;
    if (!case_setup(&d, c, ctx)) {
        convpool_context_destroy(ctx);
        return;
    }
    static timed ours[3];
    int n = 0, at_indices = -1, at_simple = -1;
    ours[n++] = (timed){run_ours, &d, {{0}, 0}};
    if (d.indices) {
        at_indices = n;
        ours[n++] = (timed){run_ours_indices, &d, {{0}, 0}};
    }
    if (strcmp(c->name, "toy") == 0 && threads == 1) {
        at_simple = n;
        ours[n++] = (timed){run_ours_simple, &d, {{0}, 0}};
    }
    timed *other = NULL;
#ifdef BENCH_HAVE_DNNL
    static timed theirs;
    dnnl_side ds = {0};
    if (o->use_dnnl) {
        dnnl_side_open(&ds, c, threads);
        if (ds.runner) {
            theirs = (timed){run_dnnl, ds.runner, {{0}, 0}};
            other = &theirs;
        }
    }
#endif
    r->peak = run_rounds(o, threads, !bench_has_weights(c), ours, n, other);
    r->ours_ms = median_ms(&ours[0].s, &r->ours_min);
    if (at_indices >= 0)
        r->indices_ms = median_ms(&ours[at_indices].s, &r->indices_min);
    if (at_simple >= 0)
        *toy_simple_ms = median_ms(&ours[at_simple].s, toy_simple_min);
#ifdef BENCH_HAVE_DNNL
    if (other) {
        r->dnnl_ms = median_ms(&theirs.s, &r->dnnl_min);
        check_same_op(&ds.d);
    }
    if (o->use_dnnl)
        dnnl_side_close(&ds);
#endif
    (void)other;
    case_free(&d);
    convpool_context_destroy(ctx);
}

static int selected(const options *o, const char *name)
{
    if (!o->only)
        return 1;
    size_t len = strlen(name);
    for (const char *p = o->only; (p = strstr(p, name)) != NULL; p += len)
        if ((p == o->only || p[-1] == ',') && (p[len] == '\0' || p[len] == ','))
            return 1;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: convpool-bench [--threads 1,2] [--cases FILE] [--repeat R] "
                    "[--rounds K] [--only NAME[,NAME...]] [--backward] [--no-dnnl] [--no-peak] "
                    "[--json]\n");
}

static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){{1, 2}, 2, 21, 0, 1, 1, BENCH_DEFAULT_CASES, NULL, 0, 3};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--no-dnnl") == 0) {
            o->use_dnnl = 0;
        } else if (strcmp(a, "--backward") == 0) {
            o->backward = 1;
        } else if (strcmp(a, "--no-peak") == 0) {
            o->measure_peak = 0;
        } else if (strcmp(a, "--threads") == 0 && v) {
            o->thread_count = 0;
            for (char *p = argv[++i]; *p && o->thread_count < 4;) {
                long t = strtol(p, &p, 10);
                if (t < 1 || t > 1024)
                    return 0;
                o->threads[o->thread_count++] = (int)t;
                if (*p == ',')
                    p++;
                else if (*p)
                    return 0;
            }
        } else if (strcmp(a, "--cases") == 0 && v) {
            o->cases_path = argv[++i];
        } else if (strcmp(a, "--only") == 0 && v) {
            o->only = argv[++i];
        } else if (strcmp(a, "--repeat") == 0 && v) {
            o->repeat = atoi(argv[++i]);
            if (o->repeat < 1 || o->repeat > MAX_SAMPLES)
                return 0;
        } else if (strcmp(a, "--rounds") == 0 && v) {
            o->rounds = atoi(argv[++i]);
            if (o->rounds < 1 || o->rounds > MAX_ROUNDS)
                return 0;
        } else {
            return 0;
        }
    }
    if (o->rounds > o->repeat) /* every round takes a sample at least */
        o->rounds = o->repeat;
    return o->thread_count > 0;
}

/* The oneDNN primitive a case is compared with, or "" without oneDNN. */
static const char *onednn_primitive(const bench_case *c)
{
#ifdef BENCH_HAVE_DNNL
    return dnnl_runner_primitive(c);
#else
    (void)c;
    return "";
#endif
}

static void print_row(const options *o, const machine_peak *peak, const bench_case *c, int threads,
                      const result *r, const char *label)
{
    const int conv = bench_has_weights(c);
    const double rate =
        conv ? bench_conv_flops(c) / (r->ours_ms * 1e6) : bench_pool_bytes(c) / (r->ours_ms * 1e6);
    const int pt = threads >= 2 ? 2 : 1;
    const double of_peak =
        100.0 * rate /
        (!isnan(r->peak) ? r->peak : conv ? peak->fma_gflops[pt] : peak->copy_gbs[pt]);
    const double pms = peer_ms(label, threads);
    if (o->json) {
        char dnnl_json[32] = "null", dnnl_min_json[32] = "null", peer_json[32] = "null";
        char peak_json[32] = "null", used_json[32] = "null"; /* no peak with --no-peak */
        if (!isnan(of_peak)) {
            snprintf(peak_json, sizeof peak_json, "%.3g", of_peak);
            snprintf(used_json, sizeof used_json, "%.4g", 100.0 * rate / of_peak);
        }
        if (!isnan(r->dnnl_ms)) {
            snprintf(dnnl_json, sizeof dnnl_json, "%.6g", r->dnnl_ms);
            snprintf(dnnl_min_json, sizeof dnnl_min_json, "%.6g", r->dnnl_min);
        }
        if (!isnan(pms))
            snprintf(peer_json, sizeof peer_json, "%.6g", pms);
        printf("{\"case\": \"%s\", \"op\": \"%s\", \"threads\": %d, \"ours_ms\": %.6g, "
               "\"ours_min_ms\": %.6g, \"%s\": %.4g, \"percent_of_peak\": %s, \"peak\": %s, "
               "\"onednn_ms\": %s, \"onednn_min_ms\": %s, \"onednn_primitive\": \"%s\", "
               "\"best_peer_ms\": %s}\n",
               label, c->op, threads, r->ours_ms, r->ours_min, conv ? "gflops" : "gbytes_per_s",
               rate, peak_json, used_json, dnnl_json, dnnl_min_json, onednn_primitive(c), peer_json);
        return;
    }
    char dnnl[32] = "-", dratio[16] = "-", peer[32] = "-", pratio[16] = "-", pct[16] = "-";
    if (!isnan(of_peak))
        snprintf(pct, sizeof pct, "%.0f%%", of_peak);
    if (!isnan(r->dnnl_ms)) {
        snprintf(dnnl, sizeof dnnl, "%.4g", r->dnnl_ms);
        snprintf(dratio, sizeof dratio, "%.2f", r->ours_ms / r->dnnl_ms);
    }
    if (!isnan(pms)) {
        snprintf(peer, sizeof peer, "%.4g", pms);
        snprintf(pratio, sizeof pratio, "%.2f", r->ours_ms / pms);
    }
    printf("%-21s %2d %10.4g %8.1f %-6s %6s %10s %6s %9s %6s\n", label, threads, r->ours_ms,
           rate, conv ? "GFLOPs" : "GB/s", pct, dnnl, dratio, peer, pratio);
}

/* ---- Backward passes (--backward) ---------------------------------------
 * Rows case+bwd_data (dx from dy: Conv, with a MaxPool's Indices from a
 * forward run, oneDNN reading its forward workspace), case+bwd_weights (Conv:
 * dw and db from x and dy) and case+bwd_data_x (MaxPool without Indices: the
 * argmax found again from x; oneDNN has no such form). The nominal work is
 * the forward's (the same FLOPs; the same bytes of dy and dx). Every pass is
 * also run once by both libraries on the same data, and the results
 * compared. */
enum { PASS_DATA, PASS_WEIGHTS, PASS_DATA_X, PASS_COUNT };
static const char *const pass_suffix[PASS_COUNT] = {"+bwd_data", "+bwd_weights", "+bwd_data_x"};

typedef struct backward_data {
    case_data d; /* the op, x, w, b */
    int pass;
    float *dy, *dx, *dw, *db;
    size_t x_count, w_count;
    const float *x_arg;         /* the x given to backward_data, or NULL */
    const int64_t *indices_arg; /* the Indices given to backward_data, or NULL */
    void *workspace;            /* of the backward pass */
    size_t workspace_size;
} backward_data;

static int pass_applies(const bench_case *c, int pass)
{
    /* the training targets are Conv's and the pools' of the forward suite;
     * ConvTranspose and the Lp pools are left out (oneDNN has no Lp pooling) */
    if (c->kind == BENCH_CONV_TRANSPOSE || c->kind == BENCH_LP_POOL ||
        c->kind == BENCH_GLOBAL_LP_POOL)
        return 0;
    if (pass == PASS_WEIGHTS)
        return c->kind == BENCH_CONV;
    if (pass == PASS_DATA_X)
        return op_kind(c) == CONVPOOL_OP_MAX_POOL;
    return 1;
}

static convpool_status backward_run(backward_data *b)
{
    case_data *d = &b->d;
    if (b->pass == PASS_WEIGHTS)
        return convpool_op_backward_weights(d->op, d->ctx, d->in_shape, 4, d->x, b->dy, d->y_count,
                                            b->dw, b->w_count, b->db, (size_t)d->c->m, b->workspace,
                                            b->workspace_size);
    return convpool_op_backward_data(d->op, d->ctx, d->in_shape, 4, b->x_arg, b->indices_arg, b->dy,
                                     d->y_count, b->dx, b->x_count, b->workspace,
                                     b->workspace_size);
}

static void run_ours_backward(void *arg)
{
    backward_run(arg);
}

static void backward_free(backward_data *b)
{
    case_free(&b->d);
    free(b->dy);
    free(b->dx);
    free(b->dw);
    free(b->db);
    free(b->workspace);
}

/* Sets up pass `pass` of case c and runs it once (so that an error shows as
 * one, not as a fast time): b->dx, or b->dw and b->db, hold its result. */
static int backward_setup(backward_data *b, const bench_case *c, convpool_context *ctx, int pass)
{
    memset(b, 0, sizeof *b);
    b->pass = pass;
    const int conv = c->kind == BENCH_CONV;
    unsigned seed = 54321;
    int ok = case_setup_ex(&b->d, c, ctx, conv && pass == PASS_DATA ? CONVPOOL_CREATE_BACKWARD : 0);
    case_data *d = &b->d;
    b->x_count = (size_t)(c->n * c->c * c->h * c->w);
    b->dy = random_floats(d->y_count, &seed);
    b->dx = malloc(b->x_count * sizeof(float));
    if (conv) {
        b->w_count = (size_t)(c->m * (c->c / c->group) * c->kh * c->kw);
        b->dw = malloc(b->w_count * sizeof(float));
        b->db = malloc((size_t)c->m * sizeof(float));
    }
    convpool_status st = ok ? CONVPOOL_OK : CONVPOOL_ERROR_INVALID_ARGUMENT;
    if (st == CONVPOOL_OK && d->indices && pass == PASS_DATA) {
        st = convpool_op_run_ex(d->op, ctx, d->in_shape, 4, d->x, d->y, d->y_count, d->indices,
                                d->workspace, d->workspace_size);
        b->indices_arg = d->indices;
    } else if (pass == PASS_DATA_X || op_kind(c) == CONVPOOL_OP_GLOBAL_MAX_POOL) {
        b->x_arg = d->x;
    }
    if (st == CONVPOOL_OK)
        st = convpool_op_backward_workspace_size(d->op, ctx, d->in_shape, 4,
                                                 pass == PASS_WEIGHTS ? CONVPOOL_BACKWARD_WEIGHTS
                                                                      : CONVPOOL_BACKWARD_DATA,
                                                 &b->workspace_size);
    if (st == CONVPOOL_OK && b->workspace_size)
        b->workspace = malloc(b->workspace_size);
    if (st == CONVPOOL_OK)
        st = backward_run(b);
    if (st != CONVPOOL_OK) {
        if (ok)
            fprintf(stderr, "%s%s: %s\n", c->name, pass_suffix[pass], convpool_last_error());
        backward_free(b);
        return 0;
    }
    return 1;
}

#ifdef BENCH_HAVE_DNNL
/* max |ours - theirs| / max |theirs| over n values (0 if theirs is all 0). */
static double relative_difference(const float *ours, const float *theirs, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)ours[i] - (double)theirs[i]));
        scale = fmax(scale, fabs((double)theirs[i]));
        if (isnan(ours[i]) != isnan(theirs[i]))
            return INFINITY;
    }
    return scale > 0 ? diff / scale : diff;
}

static void run_dnnl_backward(void *arg)
{
    dnnl_bwd_runner_run(arg);
}

/* oneDNN's side of a backward pass: the same data in buffers of its own,
 * our pass run once on them (one thread) and the primitive's result. */
typedef struct dnnl_bwd_side {
    convpool_context *ctx;
    backward_data b;
    int have_data;
    float *out; /* oneDNN's dx, or its dw then db */
    dnnl_bwd_runner *runner;
} dnnl_bwd_side;

/* Opens oneDNN's side of `pass` and compares one run of it with ours; *worst
 * keeps the largest relative difference. */
static void dnnl_bwd_side_open(dnnl_bwd_side *ds, const bench_case *c, int threads, int pass,
                               double *worst)
{
    *ds = (dnnl_bwd_side){0};
    if (convpool_context_create(1, &ds->ctx) != CONVPOOL_OK)
        return;
    ds->have_data = backward_setup(&ds->b, c, ds->ctx, pass);
    if (!ds->have_data)
        return;
    backward_data *b = &ds->b;
    const size_t m = c->kind == BENCH_CONV ? (size_t)c->m : 0;
    ds->out = malloc((b->x_count + b->w_count + m) * sizeof(float));
    if (!ds->out)
        return;
    float *dw = ds->out + b->x_count, *db = dw + b->w_count;
    dnnl_runner_set_threads(threads);
    ds->runner = dnnl_bwd_runner_create(c, pass == PASS_WEIGHTS, b->d.x, b->d.w, b->dy, ds->out,
                                        dw, db);
    if (!ds->runner)
        return;
    dnnl_bwd_runner_run(ds->runner);
    double rel = pass == PASS_WEIGHTS ? fmax(relative_difference(b->dw, dw, b->w_count),
                                             relative_difference(b->db, db, m))
                                      : relative_difference(b->dx, ds->out, b->x_count);
    if (!(rel <= 1e-4))
        fprintf(stderr, "%s%s: ours and oneDNN's differ: max |diff| / max |oneDNN| = %.3g\n",
                c->name, pass_suffix[pass], rel);
    *worst = isnan(*worst) || !(rel <= *worst) ? rel : *worst;
}

static void dnnl_bwd_side_close(dnnl_bwd_side *ds)
{
    dnnl_bwd_runner_destroy(ds->runner);
    free(ds->out);
    if (ds->have_data)
        backward_free(&ds->b);
    convpool_context_destroy(ds->ctx);
}
#endif

/* Pass `pass` of case c on `threads` threads, ours and oneDNN's (not for
 * bwd_data_x, which oneDNN has no form of) in rounds (run_rounds). */
static void measure_backward_pass(const options *o, const bench_case *c, int threads, int pass,
                                  result *r, double *worst)
{
    convpool_context *ctx = context_of(threads);
    backward_data b;
    if (!ctx)
        return;
    if (!backward_setup(&b, c, ctx, pass)) {
        convpool_context_destroy(ctx);
        return;
    }
    static timed ours, theirs;
    ours = (timed){run_ours_backward, &b, {{0}, 0}};
    timed *other = NULL;
#ifdef BENCH_HAVE_DNNL
    dnnl_bwd_side ds = {0};
    const int with_dnnl = o->use_dnnl && pass != PASS_DATA_X;
    if (with_dnnl) {
        dnnl_bwd_side_open(&ds, c, threads, pass, worst);
        if (ds.runner) {
            theirs = (timed){run_dnnl_backward, ds.runner, {{0}, 0}};
            other = &theirs;
        }
    }
#else
    (void)worst;
#endif
    r->peak = run_rounds(o, threads, !bench_has_weights(c), &ours, 1, other);
    r->ours_ms = median_ms(&ours.s, &r->ours_min);
    if (other)
        r->dnnl_ms = median_ms(&theirs.s, &r->dnnl_min);
#ifdef BENCH_HAVE_DNNL
    if (with_dnnl)
        dnnl_bwd_side_close(&ds);
#endif
    backward_free(&b);
    convpool_context_destroy(ctx);
}

/* Every selected case's backward passes at `threads` threads, then their rows. */
static void measure_backward_all(const options *o, const machine_peak *peak,
                                 const bench_case *cases, int count, int threads)
{
    static result results[BENCH_MAX_CASES][PASS_COUNT];
    double worst = NAN;
    for (int i = 0; i < count; i++) {
        for (int p = 0; p < PASS_COUNT; p++) {
            results[i][p] = NO_RESULT;
            if (selected(o, cases[i].name) && pass_applies(&cases[i], p))
                measure_backward_pass(o, &cases[i], threads, p, &results[i][p], &worst);
        }
    }
    for (int i = 0; i < count; i++)
        for (int p = 0; p < PASS_COUNT; p++)
            if (!isnan(results[i][p].ours_ms)) {
                char label[48];
                snprintf(label, sizeof label, "%.31s%s", cases[i].name, pass_suffix[p]);
                print_row(o, peak, &cases[i], threads, &results[i][p], label);
            }
    if (!isnan(worst))
        fprintf(stderr,
                "%d thread%s: backward results checked against oneDNN's, largest "
                "max |diff| / max |oneDNN| %.3g\n",
                threads, threads > 1 ? "s" : "", worst);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    options o;
    if (!parse_args(argc, argv, &o)) {
        usage();
        return 2;
    }
    static bench_case cases[BENCH_MAX_CASES];
    int count = bench_read_cases(o.cases_path, cases);
    if (count <= 0)
        return 1;
    machine_peak peak = {"not measured", {NAN, NAN, NAN}, {NAN, NAN, NAN}};
    if (o.measure_peak)
        bench_measure_peak(&peak);
    const char *dnnl_name = "not built";
#ifdef BENCH_HAVE_DNNL
    dnnl_name = o.use_dnnl ? dnnl_runner_version() : "disabled";
#else
    o.use_dnnl = 0;
#endif
    /* Other processes share the cores: the load average says how much. */
    double load[1] = {NAN};
    getloadavg(load, 1);
    char peak_text[160] = "peak not measured";
    if (o.measure_peak)
        snprintf(peak_text, sizeof peak_text,
                 "peak (%s): FMA %.0f / %.0f GFLOP/s, L3 copy %.0f / %.0f GB/s (1 / 2 threads)",
                 peak.isa, peak.fma_gflops[1], peak.fma_gflops[2], peak.copy_gbs[1],
                 peak.copy_gbs[2]);
    printf("%sconvpool %s, ISA path %s; %s; %s; load average %.2f; %d round%s a case%s\n",
           o.json ? "# " : "", convpool_version(), convpool_isa_name(convpool_isa_active()),
           dnnl_name, peak_text, load[0], o.rounds, o.rounds > 1 ? "s" : "",
           o.json ? "" : "\nratios are time / time: below 1 means convpool is faster");
    if (!o.json)
        printf("%-21s %2s %10s %15s %6s %10s %6s %9s %6s\n", "case", "th", "ours ms", "rate",
               "%peak", "oneDNN ms", "ratio", "peer ms", "ratio");
    for (int ti = 0; ti < o.thread_count; ti++) {
        const int threads = o.threads[ti];
        if (o.backward) {
            measure_backward_all(&o, &peak, cases, count, threads);
            continue;
        }
        static result results[BENCH_MAX_CASES];
        double toy_simple_ms = NAN, toy_simple_min = NAN;
        for (int i = 0; i < count; i++) {
            results[i] = NO_RESULT;
            if (selected(&o, cases[i].name))
                measure_case(&o, &cases[i], threads, &results[i], &toy_simple_ms,
                             &toy_simple_min);
        }
        for (int i = 0; i < count; i++) {
            if (!isnan(results[i].ours_ms))
                print_row(&o, &peak, &cases[i], threads, &results[i], cases[i].name);
            if (!isnan(results[i].indices_ms)) {
                char label[48];
                result r = NO_RESULT;
                r.ours_ms = results[i].indices_ms;
                r.ours_min = results[i].indices_min;
                r.peak = results[i].peak;
                snprintf(label, sizeof label, "%.31s+Indices", cases[i].name);
                print_row(&o, &peak, &cases[i], threads, &r, label);
            }
        }
        if (!isnan(toy_simple_ms)) {
            result r = NO_RESULT; /* (on the default context: the start's peak) */
            r.ours_ms = toy_simple_ms;
            r.ours_min = toy_simple_min;
            for (int i = 0; i < count; i++)
                if (strcmp(cases[i].name, "toy") == 0)
                    print_row(&o, &peak, &cases[i], convpool_context_num_threads(NULL), &r,
                              "toy(op_run)");
        }
        fflush(stdout);
    }
    return 0;
}
