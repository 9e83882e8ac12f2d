#include "runtime/cpu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int32_t active_isa;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

static void resolve_active_isa(void)
{
    int32_t best = cp_isa_supported();
    int32_t want = best;
    const char *env = getenv("CONVPOOL_ISA");
    if (env && *env) {
        if (strcmp(env, "scalar") == 0)
            want = CONVPOOL_ISA_SCALAR;
        else if (strcmp(env, "avx2") == 0)
            want = CONVPOOL_ISA_AVX2;
        else if (strcmp(env, "avx512") == 0)
            want = CONVPOOL_ISA_AVX512;
        else
            fprintf(stderr,
                    "libconvpool: CONVPOOL_ISA=%s is not one of scalar, avx2, "
                    "avx512; using %s\n",
                    env, cp_isa_name(best));
        if (want > best) {
            fprintf(stderr,
                    "libconvpool: CONVPOOL_ISA=%s is not supported by this CPU; "
                    "using %s\n",
                    env, cp_isa_name(best));
            want = best;
        }
    }
    active_isa = want;
}

int32_t cp_isa_active(void)
{
    pthread_once(&active_once, resolve_active_isa);
    return active_isa;
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
