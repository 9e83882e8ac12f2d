/* Public calls for thread contexts.
 * Thin by rule (lib/README.md): each forwards to the library inside. */
#include "runtime/threadpool.h"

CONVPOOL_API convpool_status convpool_context_create(int32_t num_threads, convpool_context **ctx)
{
    return cp_context_create(num_threads, ctx);
}

CONVPOOL_API void convpool_context_destroy(convpool_context *ctx)
{
    cp_context_destroy(ctx);
}

CONVPOOL_API int32_t convpool_context_num_threads(const convpool_context *ctx)
{
    return cp_context_threads(cp_context_resolve((convpool_context *)ctx));
}
