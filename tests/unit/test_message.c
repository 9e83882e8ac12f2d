/*
 * The calls with a caller-supplied message buffer (convpool_*_msg): the
 * message of a failure reaches the caller even when the call ran on another
 * thread, whose thread-local convpool_last_error() the caller cannot read;
 * success writes ""; a short buffer gets a whole-character prefix; a NULL
 * buffer with a capacity is refused before anything runs.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpt.h"

/* A 2-D MaxPool 2x2: any input with a spatial dim below 2 fails. */
static convpool_op *new_max_pool(void)
{
    cpt_cfg c;
    cpt_cfg_init(&c, CONVPOOL_OP_MAX_POOL, 2);
    c.kernel[0] = c.kernel[1] = 2;
    return cpt_make_op(&c, 1, NULL, NULL);
}

/* One op run on a worker thread, as an FFI runtime's async call does it. */
typedef struct {
    const convpool_op *op;
    int64_t shape[4];
    float x[16], y[16];
    char message[CONVPOOL_MESSAGE_CAPACITY];
    convpool_status status;
} run_job;

static void *run_job_thread(void *arg)
{
    run_job *j = arg;
    j->status = convpool_op_run_msg(j->op, NULL, j->shape, 4, j->x, j->y, 16, NULL, NULL, 0,
                                    j->message, sizeof j->message);
    return NULL;
}

static void run_on_thread(run_job *j)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, run_job_thread, j), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
}

START_TEST(op_run_message_crosses_threads)
{
    convpool_op *op = new_max_pool();
    /* This thread's own, unrelated failure: what a caller reading
     * convpool_last_error() here after the worker's failure would see. */
    convpool_desc *d = NULL;
    CPT_FAILS(convpool_desc_create(9, 2, &d), CONVPOOL_ERROR_INVALID_ARGUMENT, "op kind 9");

    run_job j = {.op = op, .shape = {1, 1, 1, 4}};
    memset(j.message, 'z', sizeof j.message);
    run_on_thread(&j);
    ck_assert_int_eq(j.status, CONVPOOL_ERROR_SHAPE_MISMATCH);
    ck_assert_msg(strstr(j.message, "kernel") != NULL, "message: %s", j.message);
    ck_assert_ptr_null(strstr(j.message, "op kind"));
    /* this thread's message is still its own */
    ck_assert_ptr_nonnull(strstr(convpool_last_error(), "op kind 9"));

    /* success on another thread writes "" over the old text */
    j.shape[3] = 2;
    j.shape[2] = 2;
    for (int i = 0; i < 4; i++)
        j.x[i] = (float)i;
    run_on_thread(&j);
    ck_assert_int_eq(j.status, CONVPOOL_OK);
    ck_assert_str_eq(j.message, "");
    ck_assert_float_eq(j.y[0], 3.0f);
    convpool_op_destroy(op);
}
END_TEST

START_TEST(op_run_message_matches_last_error)
{
    convpool_op *op = new_max_pool();
    int64_t shape[4] = {1, 1, 1, 1};
    float x[1] = {0}, y[1];
    char message[CONVPOOL_MESSAGE_CAPACITY];
    convpool_status s =
        convpool_op_run_msg(op, NULL, shape, 4, x, y, 1, NULL, NULL, 0, message, sizeof message);
    ck_assert_int_eq(s, CONVPOOL_ERROR_SHAPE_MISMATCH);
    ck_assert_str_eq(message, convpool_last_error());
    /* same status and message as the call it extends */
    ck_assert_int_eq(convpool_op_run_ex(op, NULL, shape, 4, x, y, 1, NULL, NULL, 0), s);
    ck_assert_str_eq(message, convpool_last_error());
    /* no buffer at all is allowed */
    ck_assert_int_eq(convpool_op_run_msg(op, NULL, shape, 4, x, y, 1, NULL, NULL, 0, NULL, 0), s);
    convpool_op_destroy(op);
}
END_TEST

START_TEST(null_buffer_with_capacity_is_refused)
{
    convpool_op *op = new_max_pool();
    int64_t shape[4] = {1, 1, 2, 2};
    float x[4] = {1, 2, 3, 4}, y[1] = {-7.0f};
    CPT_FAILS(convpool_op_run_msg(op, NULL, shape, 4, x, y, 1, NULL, NULL, 0, NULL, 16),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "message is NULL", "message_capacity = 16");
    ck_assert_float_eq(y[0], -7.0f); /* nothing ran */
    convpool_model *m = (convpool_model *)(uintptr_t)0x5eed;
    CPT_FAILS(convpool_model_load_file_msg("x.onnx", 0, &m, NULL, 8),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "message_capacity = 8");
    CPT_FAILS(convpool_model_load_memory_msg("x", 1, 0, &m, NULL, 8),
              CONVPOOL_ERROR_INVALID_ARGUMENT, "message_capacity = 8");
    ck_assert_ptr_eq(m, (convpool_model *)(uintptr_t)0x5eed);
    CPT_FAILS(convpool_session_run_msg(NULL, NULL, NULL, 8), CONVPOOL_ERROR_INVALID_ARGUMENT,
              "message_capacity = 8");
    convpool_op_destroy(op);
}
END_TEST

START_TEST(short_buffer_keeps_whole_characters)
{
    /* The message of a missing file names the path; its "é" (2 bytes in
     * UTF-8) must not be split when the buffer ends inside it. */
    const char *path = "/nonexistent-dir/caf\xc3\xa9.onnx";
    convpool_model *m = NULL;
    char full[CONVPOOL_MESSAGE_CAPACITY];
    convpool_status s = convpool_model_load_file_msg(path, 0, &m, full, sizeof full);
    ck_assert_int_ne(s, CONVPOOL_OK);
    ck_assert_ptr_null(m);
    const char *e = strstr(full, "\xc3\xa9");
    if (s == CONVPOOL_ERROR_UNSUPPORTED) /* a build without the ONNX loader */
        return;
    ck_assert_msg(e != NULL, "message does not name the path: %s", full);
    size_t before = (size_t)(e - full);
    char cut[64];
    ck_assert_uint_lt(before + 2, sizeof cut);
    /* room for the prefix and one byte of the é: the é is dropped whole */
    ck_assert_int_eq(convpool_model_load_file_msg(path, 0, &m, cut, before + 2), s);
    ck_assert_uint_eq(strlen(cut), before);
    ck_assert_int_eq(strncmp(cut, full, before), 0);
    /* room for both bytes of the é: it is kept */
    ck_assert_int_eq(convpool_model_load_file_msg(path, 0, &m, cut, before + 3), s);
    ck_assert_uint_eq(strlen(cut), before + 2);
    /* a one-byte buffer holds "" */
    ck_assert_int_eq(convpool_model_load_file_msg(path, 0, &m, cut, 1), s);
    ck_assert_str_eq(cut, "");
}
END_TEST

START_TEST(model_load_and_session_run_messages)
{
    char message[CONVPOOL_MESSAGE_CAPACITY];
    convpool_model *m = NULL;
    static const char garbage[] = "this is not an ONNX model";
    convpool_status s =
        convpool_model_load_memory_msg(garbage, sizeof garbage, 0, &m, message, sizeof message);
    ck_assert_int_ne(s, CONVPOOL_OK);
    ck_assert_ptr_null(m);
    ck_assert_str_ne(message, "");
    ck_assert_str_eq(message, convpool_last_error());
    if (s == CONVPOOL_ERROR_UNSUPPORTED)
        return; /* a build without the ONNX loader */

    const char *path = getenv("CPT_MODEL");
    ck_assert_msg(path != NULL, "CPT_MODEL (a model file) is not set");
    strcpy(message, "stale");
    CPT_OK(convpool_model_load_file_msg(path, 0, &m, message, sizeof message));
    ck_assert_str_eq(message, "");
    convpool_session *session = NULL;
    CPT_OK(convpool_session_create(m, &session));
    /* no input bound yet */
    s = convpool_session_run_msg(session, NULL, message, sizeof message);
    ck_assert_int_eq(s, CONVPOOL_ERROR_INVALID_STATE);
    ck_assert_msg(strstr(message, convpool_model_input_name(m, 0)) != NULL,
                  "message does not name the unbound input: %s", message);
    ck_assert_str_eq(message, convpool_last_error());
    convpool_session_destroy(session);
    convpool_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("message");
    CPT_ADD(s, op_run_message_crosses_threads);
    CPT_ADD(s, op_run_message_matches_last_error);
    CPT_ADD(s, null_buffer_with_capacity_is_refused);
    CPT_ADD(s, short_buffer_keeps_whole_characters);
    CPT_ADD(s, model_load_and_session_run_messages);
    return cpt_run_suite(s);
}
