/*
 * cpu.h - which instruction-set path the kernels take, and the environment
 * variables that tune the library (CONVPOOL_ISA, CONVPOOL_NUM_THREADS,
 * CONVPOOL_WINOGRAD). All are read once per process, at first need; an invalid value is
 * ignored and described by convpool_environment_warnings(), never printed.
 */
#ifndef CP_RUNTIME_CPU_H
#define CP_RUNTIME_CPU_H

#include <stdint.h>

#include "convpool.h"

/* The best path this CPU and OS support (a convpool_isa). */
int32_t cp_isa_supported(void);

/* The path in force: cp_isa_supported(), lowered by CONVPOOL_ISA if set.
 * Read once per process. */
int32_t cp_isa_active(void);

/* convpool_isa_name (lib/api/isa.c). */
const char *cp_isa_name(int32_t isa);

/* CONVPOOL_NUM_THREADS if set to a valid count (1..max threads), else 0. */
int32_t cp_env_num_threads(void);

/* 0 if CONVPOOL_WINOGRAD is 0 (ops created from then on compute every
 * convolution with direct multiply-adds), else 1. */
int cp_env_winograd(void);

/* CPU makers, where a kernel's best way to use the memory system was
 * measured to differ between them. */
enum { CP_CPU_OTHER, CP_CPU_INTEL, CP_CPU_AMD };

/* The data caches a core sees, as the CPU reports them, and its maker:
 * what tile and block sizes and store modes are planned from. */
typedef struct cp_cache_info {
    int64_t l1d_bytes; /* level 1 data cache per core */
    int64_t l1d_ways;  /* its associativity */
    int64_t l2_bytes;  /* level 2 per core */
    int32_t vendor;    /* CP_CPU_*: cpuid's vendor string */
} cp_cache_info;

/* The caches of this CPU: sysconf, else cpuid's deterministic cache
 * parameters, else (neither reports) 32 KiB 8-way L1 and 1 MiB L2. Read
 * once per process; the same for every thread and every run. */
const cp_cache_info *cp_cache(void);

/* convpool_environment_warnings (lib/api/isa.c). */
const char *cp_environment_warnings(void);

#endif
