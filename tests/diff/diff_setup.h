/*
 * diff_setup.h - what the differential tests (test_conv_diff,
 * test_conv_transpose_diff, test_pool_diff, test_determinism) read from
 * the environment before they start.
 */
#ifndef CP_TESTS_DIFF_DIFF_SETUP_H
#define CP_TESTS_DIFF_DIFF_SETUP_H

#include <stdint.h>

/* The random generator's first state: `fixed` (CI's seed), or, with
 * CPT_SEED=n set, fixed mixed with n (never zero), so that a search by
 * hand draws other configurations; prints the seed when set. */
uint64_t diff_seed(uint64_t fixed);

/* Nonzero, after printing why, when CONVPOOL_ISA forces a path this CPU
 * lacks: the test then exits 77 (skip). */
int diff_forced_isa_missing(void);

#endif
