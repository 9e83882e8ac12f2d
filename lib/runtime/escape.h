/*
 * escape.h - text from a model file made safe to show on a terminal.
 *
 * Names, op types and locations in an ONNX file are arbitrary bytes: an
 * ESC or an 8-bit CSI in a node name would be a command to the terminal
 * that prints it. Every message the library builds (convpool_last_error)
 * and every human-readable line of convpool-run goes through cp_escape().
 * This file depends on libc only, so that convpool-run, which uses nothing
 * but the public API, compiles the same source.
 */
#ifndef CP_RUNTIME_ESCAPE_H
#define CP_RUNTIME_ESCAPE_H

#include <stddef.h>

typedef enum cp_escape_mode {
    /* For a terminal or a log: C0 controls, DEL and invalid UTF-8 bytes as
     * \xNN; C1 controls (U+0080..U+009F) and the bidirectional overrides
     * and isolates (U+202A..U+202E, U+2066..U+2069, which reorder what a
     * reader sees) as \uNNNN. Everything else, backslash included, is
     * copied, so ordinary names read as they are. */
    CP_ESCAPE_TEXT,
    /* The body of a JSON string: '"' and '\' escaped, C0, DEL and C1
     * controls as \u00NN (a JSON reader gets the name back), invalid UTF-8
     * bytes as the six characters \\xNN (JSON strings cannot hold them). */
    CP_ESCAPE_JSON,
} cp_escape_mode;

/*
 * Escapes the `len` bytes at `src` into `dst` (room for `cap` bytes
 * including the terminating NUL; cap 0 writes nothing). A character or
 * escape that does not fit whole is left out, with everything after it.
 * Returns the length the whole escaped text needs (without the NUL), as
 * snprintf does, so a caller can tell truncation and size a buffer.
 */
size_t cp_escape(char *dst, size_t cap, const char *src, size_t len, cp_escape_mode mode);

#endif
