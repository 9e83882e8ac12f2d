/* Helpers every implementation shares, the reference and the fast paths
 * alike (declared in ops/impl.h). */
#include "ops/impl.h"

#include <string.h>
#include "runtime/threadpool.h"

int32_t cp_threads_for_work(int64_t work, int64_t min_work_per_thread)
{
    int64_t t = work / min_work_per_thread;
    return t < 1 ? 1 : t > CP_MAX_THREADS ? CP_MAX_THREADS : (int32_t)t;
}

/* Four floats in whatever vector registers the target has (GCC and clang
 * vector extensions; no ISA assumed). */
typedef float cp_float4 __attribute__((vector_size(16)));

void cp_zip_row(float *dr, const float *even, const float *odd, int64_t n_even, int64_t n_odd)
{
    /* four pairs at a time by vector shuffles and whole-vector stores (a
     * plain loop stores one float at a time, strided) */
    int64_t j = 0;
    for (; j + 4 <= n_odd; j += 4) {
        cp_float4 e, o;
        memcpy(&e, even + j, sizeof e);
        memcpy(&o, odd + j, sizeof o);
        const cp_float4 lo = __builtin_shufflevector(e, o, 0, 4, 1, 5);
        const cp_float4 hi = __builtin_shufflevector(e, o, 2, 6, 3, 7);
        memcpy(dr + 2 * j, &lo, sizeof lo);
        memcpy(dr + 2 * j + 4, &hi, sizeof hi);
    }
    for (; j < n_odd; j++) {
        dr[2 * j] = even[j];
        dr[2 * j + 1] = odd[j];
    }
    if (n_even > n_odd)
        dr[2 * j] = even[j];
}
