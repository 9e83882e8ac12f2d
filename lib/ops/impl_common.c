/* Helpers every implementation shares, the reference and the fast paths
 * alike (declared in ops/impl.h). */
#include "ops/impl.h"
#include "runtime/threadpool.h"

int32_t cp_threads_for_work(int64_t work, int64_t min_work_per_thread)
{
    int64_t t = work / min_work_per_thread;
    return t < 1 ? 1 : t > CP_MAX_THREADS ? CP_MAX_THREADS : (int32_t)t;
}
