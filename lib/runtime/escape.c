#include "runtime/escape.h"

#include <stdint.h>
#include <stdio.h>

/* The length of the well-formed UTF-8 sequence at s (1..4) and its code
 * point, or 0 when s[0] does not start one: a stray continuation byte, an
 * overlong form, a surrogate, a value above U+10FFFF or a truncated
 * sequence (RFC 3629, table 3-7 of the Unicode standard). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* the valid range of the second byte */
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        *cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        *cp = c & 0x0Fu;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        *cp = c & 0x07u;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3Fu);
    }
    return n;
}

static int is_bidi_control(uint32_t cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t cp_escape(char *dst, size_t cap, const char *src, size_t len, cp_escape_mode mode)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t need = 0;    /* the whole escaped length */
    size_t written = 0; /* what fits in dst: whole pieces up to the first that does not */
    int full = cap == 0;
    for (size_t i = 0; i < len;) {
        char piece[8];
        size_t piece_len;
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            piece_len = (size_t)snprintf(piece, sizeof piece, "%sx%02x",
                                         mode == CP_ESCAPE_JSON ? "\\\\" : "\\", s[i]);
            n = 1;
        } else if (cp < 0x20 || cp == 0x7F) {
            piece_len = (size_t)snprintf(
                piece, sizeof piece, mode == CP_ESCAPE_JSON ? "\\u%04x" : "\\x%02x", (unsigned)cp);
        } else if ((cp >= 0x80 && cp <= 0x9F) || (mode == CP_ESCAPE_TEXT && is_bidi_control(cp))) {
            piece_len = (size_t)snprintf(piece, sizeof piece, "\\u%04x", (unsigned)cp);
        } else if (mode == CP_ESCAPE_JSON && (cp == '"' || cp == '\\')) {
            piece[0] = '\\';
            piece[1] = (char)cp;
            piece_len = 2;
        } else {
            for (size_t k = 0; k < n; k++)
                piece[k] = (char)s[i + k];
            piece_len = n;
        }
        if (!full && written + piece_len < cap) {
            for (size_t k = 0; k < piece_len; k++)
                dst[written + k] = piece[k];
            written += piece_len;
        } else {
            full = 1;
        }
        need += piece_len;
        i += n;
    }
    if (cap > 0)
        dst[written] = '\0';
    return need;
}
