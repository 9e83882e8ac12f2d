/*
 * diff_setup.c - the differential tests' environment (diff_setup.h).
 */
#include "diff_setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"
#include "runtime/cpu.h"

uint64_t diff_seed(uint64_t fixed)
{
    const char *seed = getenv("CPT_SEED");
    if (!seed)
        return fixed;
    printf("CPT_SEED=%s\n", seed);
    const uint64_t state = fixed ^ strtoull(seed, NULL, 0) * 0xD1B54A32D192ED03ull;
    return state ? state : fixed; /* xorshift generators stay at zero */
}

int diff_forced_isa_missing(void)
{
    const char *forced = getenv("CONVPOOL_ISA");
    if (forced && ((strcmp(forced, "avx512") == 0 && cp_isa_supported() < CONVPOOL_ISA_AVX512) ||
                   (strcmp(forced, "avx2") == 0 && cp_isa_supported() < CONVPOOL_ISA_AVX2))) {
        printf("CONVPOOL_ISA=%s: not supported by this CPU, skipped\n", forced);
        return 1;
    }
    return 0;
}
