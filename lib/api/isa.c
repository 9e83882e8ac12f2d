/* Public calls for the instruction-set path in force.
 * Thin by rule (lib/README.md): each forwards to the library inside. */
#include "runtime/cpu.h"

CONVPOOL_API int32_t convpool_isa_active(void)
{
    return cp_isa_active();
}

CONVPOOL_API const char *convpool_isa_name(int32_t isa)
{
    return cp_isa_name(isa);
}

CONVPOOL_API const char *convpool_environment_warnings(void)
{
    return cp_environment_warnings();
}
