/*
 * The environment variables the library reads (CONVPOOL_NUM_THREADS,
 * CONVPOOL_ISA, CONVPOOL_WINOGRAD), set by meson per case: an invalid value
 * of any is
 * ignored the same way (the default is used) and described by
 * convpool_environment_warnings(); the library writes nothing to stderr.
 *   test_environment -            every variable valid or unset: no warning
 *   test_environment TEXT...      each TEXT appears in the warnings
 * With CONVPOOL_NUM_THREADS valid, the default context has that many
 * threads; otherwise one per online CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convpool.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL line %d: ", __LINE__);                                                    \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* A 1x1x4x4 MaxPool run on the default context: makes the library read
 * the environment and start its threads, as a user's first call would. */
static void run_once(void)
{
    convpool_desc *d = NULL;
    convpool_op *op = NULL;
    int64_t k[2] = {2, 2}, xd[4] = {1, 1, 4, 4};
    float x[16] = {0}, y[9];
    int ok = convpool_desc_create(CONVPOOL_OP_MAX_POOL, 2, &d) == CONVPOOL_OK &&
             convpool_desc_set_ints(d, CONVPOOL_ATTR_KERNEL_SHAPE, k, 2) == CONVPOOL_OK &&
             convpool_pool_create(d, &op) == CONVPOOL_OK &&
             convpool_op_run(op, xd, 4, x, y, 9) == CONVPOOL_OK;
    CHECK(ok, "a MaxPool run failed: %s", convpool_last_error());
    convpool_op_destroy(op);
    convpool_desc_destroy(d);
}

int main(int argc, char **argv)
{
    /* Everything the library might print goes to a file we then read. */
    FILE *captured = tmpfile();
    if (!captured || dup2(fileno(captured), STDERR_FILENO) < 0) {
        printf("cannot capture stderr\n");
        return 2;
    }
    run_once();
    const char *warnings = convpool_environment_warnings();
    if (argc == 2 && strcmp(argv[1], "-") == 0) {
        CHECK(*warnings == '\0', "unexpected warnings: %s", warnings);
    } else {
        for (int i = 1; i < argc; i++)
            CHECK(strstr(warnings, argv[i]) != NULL, "warnings lack \"%s\": \"%s\"", argv[i],
                  warnings);
    }
    CHECK(convpool_environment_warnings() == warnings, "the string must stay the same");

    const char *env = getenv("CONVPOOL_NUM_THREADS");
    char *end = NULL;
    long want = env ? strtol(env, &end, 10) : 0;
    if (!env || *end || want < 1 || want > 1024 || strstr(warnings, "CONVPOOL_NUM_THREADS"))
        want = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(convpool_context_num_threads(NULL) == want, "default threads %d, want %ld",
          (int)convpool_context_num_threads(NULL), want);

    const char *isa = getenv("CONVPOOL_ISA");
    if (isa && !strstr(warnings, "CONVPOOL_ISA"))
        CHECK(strcmp(convpool_isa_name(convpool_isa_active()), isa) == 0,
              "CONVPOOL_ISA=%s not in force (%s)", isa, convpool_isa_name(convpool_isa_active()));

    fflush(stderr);
    long printed = ftell(captured);
    CHECK(printed == 0, "the library wrote %ld bytes to stderr", printed);
    printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
