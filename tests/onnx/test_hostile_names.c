/*
 * Names that would drive a terminal (tests/data/hostile-names, written by
 * make_hostile_names.py): the C API returns them byte for byte as stored,
 * and convpool_last_error() shows them escaped, with no control byte and
 * nothing but valid UTF-8. Also the escaping function itself (white box):
 * every class of byte, truncation, and the JSON form.
 *   test_hostile_names tests/data/hostile-names
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convpool.h"
#include "runtime/escape.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stdout, "FAIL line %d: ", __LINE__);                                           \
            fprintf(stdout, __VA_ARGS__);                                                          \
            fprintf(stdout, "\n");                                                                 \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* 1 if s holds no C0 control, DEL, C1 control (as UTF-8) or invalid UTF-8:
 * what a terminal could take as a command. Checked independently of
 * cp_escape's own decoder: any byte >= 0x80 must be part of a sequence
 * whose code point is >= U+00A0, decoded here the simple way. */
static int terminal_safe(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        if (*s < 0x20 || *s == 0x7f)
            return 0;
        if (*s < 0x80) {
            s++;
            continue;
        }
        int n = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : *s >= 0xc0 ? 2 : 0;
        if (n == 0 || *s > 0xf4)
            return 0;
        unsigned cp = *s & (0x7fu >> n);
        for (int i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3fu);
        }
        if (cp < 0xa0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        s += n;
    }
    return 1;
}

static void test_names_as_stored(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/valid_utf8.onnx", dir);
    convpool_model *m = NULL;
    convpool_status st = convpool_model_load_file(path, 0, &m);
    CHECK(st == CONVPOOL_OK, "load %s: %s", path, convpool_last_error());
    if (m) {
        CHECK(strcmp(convpool_model_node_name(m, 0), "pool\x1b]0;pwned\x07") == 0,
              "node name not as stored");
        CHECK(strcmp(convpool_model_input_name(m, 0), "x\xc2\x9b[2J") == 0,
              "input name not as stored");
        CHECK(strcmp(convpool_model_output_name(m, 0), "y\xe2\x80\xae") == 0,
              "output name not as stored");
        CHECK(strcmp(convpool_model_input_dim_name(m, 0, 0), "N\x1b[31m") == 0,
              "dim name not as stored");
        size_t index = 9;
        CHECK(convpool_model_input_index(m, "x\xc2\x9b[2J", &index) == CONVPOOL_OK && index == 0,
              "input found by its raw name");
        convpool_model_destroy(m);
    }
    snprintf(path, sizeof path, "%s/invalid_utf8.onnx", dir);
    m = NULL;
    st = convpool_model_load_file(path, 0, &m);
    CHECK(st == CONVPOOL_OK, "load %s: %s", path, convpool_last_error());
    if (m) {
        CHECK(strcmp(convpool_model_node_name(m, 0), "n\xff\xfe") == 0, "node name");
        CHECK(strcmp(convpool_model_input_name(m, 0), "in\xff\x9b[2J") == 0, "input name");
        CHECK(strcmp(convpool_model_output_name(m, 0), "out\xc3") == 0, "output name");
        size_t index = 9;
        CHECK(convpool_model_input_index(m, "in\xff\x9b[2J", &index) == CONVPOOL_OK && index == 0,
              "input found by its raw name");
        convpool_model_destroy(m);
    }
}

static void expect_refused(const char *dir, const char *file, convpool_status want,
                           const char *escaped)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    convpool_model *m = NULL;
    convpool_status st = convpool_model_load_file(path, 0, &m);
    const char *msg = convpool_last_error();
    CHECK(st == want && m == NULL, "%s: status %d, want %d", file, (int)st, (int)want);
    CHECK(strstr(msg, escaped) != NULL, "%s: message lacks %s: %s", file, escaped, msg);
    CHECK(terminal_safe(msg), "%s: message not terminal-safe", file);
    convpool_model_destroy(m);
}

/* cp_escape(text) == want, and the reported length is the full length. */
static void expect_escape(const char *src, size_t len, cp_escape_mode mode, const char *want)
{
    char out[256];
    size_t need = cp_escape(out, sizeof out, src, len, mode);
    CHECK(strcmp(out, want) == 0 && need == strlen(want), "escape mode %d: got '%s', want '%s'",
          (int)mode, out, want);
    if (mode == CP_ESCAPE_TEXT)
        CHECK(terminal_safe(out), "escape of '%s' not terminal-safe", want);
}

static void test_escape(void)
{
#define TEXT(s, want) expect_escape(s, sizeof s - 1, CP_ESCAPE_TEXT, want)
#define JSON(s, want) expect_escape(s, sizeof s - 1, CP_ESCAPE_JSON, want)
    TEXT("conv_1/W:0", "conv_1/W:0");
    TEXT("a\\b \"q\"", "a\\b \"q\""); /* text mode keeps backslash and quotes */
    TEXT("\x1b]0;t\x07", "\\x1b]0;t\\x07");
    TEXT("tab\there\nnl\x7f", "tab\\x09here\\x0anl\\x7f");
    TEXT("nul\0after", "nul\\x00after");          /* a length, not a C string */
    TEXT("\xc2\x9b[2J", "\\u009b[2J");            /* C1 CSI as UTF-8 */
    TEXT("\xc2\xa0\xc3\xa9", "\xc2\xa0\xc3\xa9"); /* U+00A0, U+00E9 kept */
    TEXT("\xe2\x80\xae"
         "abc",
         "\\u202eabc"); /* bidi override */
    TEXT("\xe2\x81\xa6"
         "x",
         "\\u2066x");                                                     /* bidi isolate */
    TEXT("\xe6\x97\xa5\xf0\x9f\x98\x80", "\xe6\x97\xa5\xf0\x9f\x98\x80"); /* CJK, emoji */
    TEXT("\xff\x9b[2J", "\\xff\\x9b[2J");             /* invalid bytes, one by one */
    TEXT("\xc0\xaf", "\\xc0\\xaf");                   /* overlong '/' */
    TEXT("\xe0\x80\xaf", "\\xe0\\x80\\xaf");          /* overlong, 3 bytes */
    TEXT("\xed\xa0\x80", "\\xed\\xa0\\x80");          /* a surrogate */
    TEXT("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
    TEXT("ab\xe2\x82", "ab\\xe2\\x82");               /* cut at the end */
    TEXT("\xe2\x82"
         "A",
         "\\xe2\\x82A"); /* cut before ASCII */
    JSON("a\"b\\c", "a\\\"b\\\\c");
    JSON("\x1b[2J\xc2\x9b", "\\u001b[2J\\u009b");
    JSON("\xff", "\\\\xff");
    JSON("\xe2\x80\xae", "\xe2\x80\xae"); /* valid JSON as it is */
#undef TEXT
#undef JSON
    /* Truncation: whole pieces only, NUL-terminated, full length reported. */
    char small[6];
    size_t need = cp_escape(small, sizeof small,
                            "ab\x1b"
                            "cd",
                            5, CP_ESCAPE_TEXT);
    CHECK(need == 8 && strcmp(small, "ab") == 0, "truncated: '%s' need %zu", small, need);
    need = cp_escape(small, 0, "abc", 3, CP_ESCAPE_TEXT);
    CHECK(need == 3, "cap 0: need %zu", need);
    need = cp_escape(small, sizeof small, "\xe6\x97\xa5\xe6\x97\xa5", 6, CP_ESCAPE_TEXT);
    CHECK(need == 6 && strcmp(small, "\xe6\x97\xa5") == 0, "a character is not split");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s tests/data/hostile-names\n", argv[0]);
        return 2;
    }
    test_escape();
    test_names_as_stored(argv[1]);
    expect_refused(argv[1], "op_type_csi.onnx", CONVPOOL_ERROR_UNSUPPORTED,
                   "node 0 ('\\x1b]0;t\\x07'): op type 'MaxPool\\xff\\x9b[2J'");
    expect_refused(argv[1], "bad_attr_name.onnx", CONVPOOL_ERROR_INVALID_ATTRIBUTE,
                   "attribute 'k\\x1b[2J'");
    /* A caller's own bad name comes back escaped too. */
    convpool_model *m = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/valid_utf8.onnx", argv[1]);
    if (convpool_model_load_file(path, 0, &m) == CONVPOOL_OK) {
        convpool_session *s = NULL;
        if (convpool_session_create(m, &s) == CONVPOOL_OK) {
            int64_t dims[4];
            int32_t dtype;
            size_t rank = 0;
            convpool_status st =
                convpool_session_value_shape(s, "no\x1b[2Jsuch", &dtype, &rank, dims, 4);
            CHECK(st != CONVPOOL_OK && terminal_safe(convpool_last_error()) &&
                      strstr(convpool_last_error(), "no\\x1b[2Jsuch"),
                  "unknown value name: %s", convpool_last_error());
            convpool_session_destroy(s);
        }
        convpool_model_destroy(m);
    }
    printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
