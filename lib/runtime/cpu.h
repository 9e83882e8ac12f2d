/*
 * cpu.h - which instruction-set path the kernels take.
 */
#ifndef CP_RUNTIME_CPU_H
#define CP_RUNTIME_CPU_H

#include "convpool.h"

/* The best path this CPU and OS support (a convpool_isa). */
int32_t cp_isa_supported(void);

/* The path in force: cp_isa_supported(), lowered by CONVPOOL_ISA if set.
 * Read once per process. */
int32_t cp_isa_active(void);

/* convpool_isa_name (lib/api/isa.c). */
const char *cp_isa_name(int32_t isa);

#endif
