#include "runtime/cpu.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/escape.h"
#include "runtime/threadpool.h"

int32_t cp_isa_supported(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* libgcc's checks include the OS's XSAVE state (XCR0), so a feature
     * reported here is usable. */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("fma"))
        return CONVPOOL_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return CONVPOOL_ISA_AVX2;
#endif
    return CONVPOOL_ISA_SCALAR;
}

/* What the environment asked for, read once: the ISA path in force, the
 * default thread count (0: one per online CPU) and a description of every
 * value that was ignored. Immutable after the once-function, so readers
 * need no lock. */
static struct {
    int32_t isa;
    int32_t num_threads;
    char warnings[768];
} env;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

/* Appends "NAME='value' <problem>; using <what>" to env.warnings ("; "
 * between two), the value escaped: it is shown to a user as it stands. */
static void warn(const char *name, const char *value, const char *problem, const char *using)
{
    size_t used = strlen(env.warnings);
    if (used)
        used += (size_t)snprintf(env.warnings + used, sizeof env.warnings - used, "; ");
    char shown[128];
    cp_escape(shown, sizeof shown, value, strlen(value), CP_ESCAPE_TEXT);
    if (used < sizeof env.warnings)
        snprintf(env.warnings + used, sizeof env.warnings - used, "%s='%s' %s; using %s", name,
                 shown, problem, using);
}

static void read_isa(void)
{
    int32_t best = cp_isa_supported();
    env.isa = best;
    const char *value = getenv("CONVPOOL_ISA");
    if (!value || !*value)
        return;
    int32_t want = -1;
    for (int32_t isa = CONVPOOL_ISA_SCALAR; isa <= CONVPOOL_ISA_AVX512; isa++)
        if (strcmp(value, cp_isa_name(isa)) == 0)
            want = isa;
    char using[64];
    snprintf(using, sizeof using, "%s, the best this CPU supports", cp_isa_name(best));
    if (want < 0)
        warn("CONVPOOL_ISA", value, "is not one of scalar, avx2, avx512", using);
    else if (want > best)
        warn("CONVPOOL_ISA", value, "is not supported by this CPU", using);
    else
        env.isa = want;
}

static void read_num_threads(void)
{
    const char *value = getenv("CONVPOOL_NUM_THREADS");
    if (!value || !*value)
        return;
    char *end;
    errno = 0;
    long n = strtol(value, &end, 10);
    int32_t max = CP_MAX_THREADS;
    if (errno == 0 && end != value && *end == '\0' && n >= 1 && n <= max) {
        env.num_threads = (int32_t)n;
        return;
    }
    char problem[64];
    snprintf(problem, sizeof problem, "is not a whole number from 1 to %d", (int)max);
    warn("CONVPOOL_NUM_THREADS", value, problem, "one thread per online CPU");
}

static void read_environment(void)
{
    read_num_threads();
    read_isa();
}

int32_t cp_isa_active(void)
{
    pthread_once(&env_once, read_environment);
    return env.isa;
}

int32_t cp_env_num_threads(void)
{
    pthread_once(&env_once, read_environment);
    return env.num_threads;
}

const char *cp_environment_warnings(void)
{
    pthread_once(&env_once, read_environment);
    return env.warnings;
}

const char *cp_isa_name(int32_t isa)
{
    switch (isa) {
    case CONVPOOL_ISA_SCALAR: return "scalar";
    case CONVPOOL_ISA_AVX2: return "avx2";
    case CONVPOOL_ISA_AVX512: return "avx512";
    default: return "unknown";
    }
}
