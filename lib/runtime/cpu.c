#include "runtime/cpu.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

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
    int winograd;
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

static void read_winograd(void)
{
    env.winograd = 1;
    const char *value = getenv("CONVPOOL_WINOGRAD");
    if (!value || !*value)
        return;
    if (strcmp(value, "0") == 0 || strcmp(value, "1") == 0)
        env.winograd = value[0] == '1';
    else
        warn("CONVPOOL_WINOGRAD", value, "is not 0 or 1", "1");
}

static void read_environment(void)
{
    read_num_threads();
    read_isa();
    read_winograd();
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

int cp_env_winograd(void)
{
    pthread_once(&env_once, read_environment);
    return env.winograd;
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

/* Fallbacks where neither sysconf nor cpuid says: a common small L1 and the
 * L2 of recent server cores. */
#define CP_CACHE_DEFAULT_L1D      (32 * 1024)
#define CP_CACHE_DEFAULT_L1D_WAYS 8
#define CP_CACHE_DEFAULT_L2       (1024 * 1024)

static cp_cache_info cache;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) || defined(__i386__)
/* cpuid's deterministic cache parameters (leaf 4 on Intel, 0x8000001D on
 * AMD; same layout); fields it does not report stay 0. */
static void cache_from_cpuid(cp_cache_info *out)
{
    unsigned a, b, c, d;
    unsigned leaf = 4;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return;
    if (b == 0x68747541) { /* "Auth"enticAMD */
        if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x8000001D)
            return;
        leaf = 0x8000001D;
    } else if (a < 4) {
        return;
    }
    for (unsigned i = 0; i < 16; i++) {
        if (!__get_cpuid_count(leaf, i, &a, &b, &c, &d) || (a & 31) == 0)
            break;
        unsigned type = a & 31, level = (a >> 5) & 7;
        int64_t ways = (int64_t)(b >> 22) + 1, parts = (int64_t)((b >> 12) & 1023) + 1;
        int64_t line = (int64_t)(b & 4095) + 1, sets = (int64_t)c + 1;
        int64_t bytes = ways * parts * line * sets;
        if (level == 1 && type == 1) {
            out->l1d_bytes = bytes;
            out->l1d_ways = ways;
        } else if (level == 2 && type != 2) {
            out->l2_bytes = bytes;
        }
    }
}

/* "GenuineIntel" / "AuthenticAMD" in cpuid leaf 0's ebx, edx, ecx. */
static int32_t vendor_from_cpuid(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return CP_CPU_OTHER;
    if (b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e)
        return CP_CPU_INTEL;
    if (b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163)
        return CP_CPU_AMD;
    return CP_CPU_OTHER;
}
#endif

static int64_t sysconf_or_zero(int name)
{
    long v = sysconf(name);
    return v > 0 ? (int64_t)v : 0;
}

static void read_cache(void)
{
#ifdef _SC_LEVEL1_DCACHE_SIZE
    cache.l1d_bytes = sysconf_or_zero(_SC_LEVEL1_DCACHE_SIZE);
    cache.l1d_ways = cache.l1d_bytes ? sysconf_or_zero(_SC_LEVEL1_DCACHE_ASSOC) : 0;
    cache.l2_bytes = sysconf_or_zero(_SC_LEVEL2_CACHE_SIZE);
#endif
#if defined(__x86_64__) || defined(__i386__)
    if (!cache.l1d_bytes || !cache.l1d_ways || !cache.l2_bytes) {
        cp_cache_info id = {0, 0, 0, CP_CPU_OTHER};
        cache_from_cpuid(&id);
        if (!cache.l1d_bytes || !cache.l1d_ways) {
            cache.l1d_bytes = id.l1d_bytes;
            cache.l1d_ways = id.l1d_ways;
        }
        if (!cache.l2_bytes)
            cache.l2_bytes = id.l2_bytes;
    }
#endif
    if (!cache.l1d_bytes || !cache.l1d_ways) {
        cache.l1d_bytes = CP_CACHE_DEFAULT_L1D;
        cache.l1d_ways = CP_CACHE_DEFAULT_L1D_WAYS;
    }
    if (!cache.l2_bytes)
        cache.l2_bytes = CP_CACHE_DEFAULT_L2;
    cache.vendor = CP_CPU_OTHER;
#if defined(__x86_64__) || defined(__i386__)
    cache.vendor = vendor_from_cpuid();
#endif
}

const cp_cache_info *cp_cache(void)
{
    pthread_once(&cache_once, read_cache);
    return &cache;
}
