/*
 * qmp_json.h - QMP's JSON as QEMU 7.2 reads and writes it (the module is
 * qmp/json_parse.c and qmp/json_write.c; values are jansson values).
 *
 * Reading. A QMP connection carries a stream of JSON texts with no framing:
 * no newline is needed, one read may hold several texts, one text may come
 * in many reads. struct ob_qmp_json_stream takes the bytes as they arrive
 * and hands out every complete top-level value, or every error, through a
 * callback, the way QEMU's lexer, streamer and parser do
 * (qobject/json-lexer.c, json-streamer.c, json-parser.c):
 *   - a value is parsed when its outermost bracket closes (a scalar at once);
 *   - extensions: single-quoted strings and the escape \' ;
 *   - errors are QEMU's texts ("JSON parse error, invalid keyword 'foo'",
 *     "JSON parse error, stray '...'", ...); after a lexical error the lexer
 *     skips input up to a structural character, a control character other
 *     than tab, or a byte 0xFE/0xFF, and the pending request is forgotten;
 *   - limits: 64 MiB of token bytes, 2,097,152 tokens, nesting depth 1024 per
 *     request ("JSON token size limit exceeded", "JSON token count limit
 *     exceeded", "JSON nesting depth limit exceeded").
 * Strings are kept as QEMU keeps them, in modified UTF-8: \u0000 becomes the
 * two bytes C0 80, so every string is a C string. Integers that fit int64
 * are integers; larger ones become reals (QEMU keeps uint64 values exactly:
 * a documented difference).
 *
 * Writing. ob_qmp_json_write() prints a value the way QEMU's monitor does:
 * compact, separators ", " and ": ", pure ASCII (\uXXXX, surrogate pairs
 * beyond the BMP, U+FFFD for bytes that are not modified UTF-8), reals with
 * 17 significant digits (%.17g), and object members in the order QEMU's
 * QDict hash table iterates them (so a reply built in QAPI schema order
 * prints byte for byte as QEMU prints it: "return" before "id", "micro,
 * minor, major", ...).
 *
 * Both halves are pure: no I/O, no global state.
 */
#ifndef OUTBOARD_QMP_JSON_H
#define OUTBOARD_QMP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define OB_QMP_JSON_MAX_TOKEN_SIZE  ((size_t)64 << 20)
#define OB_QMP_JSON_MAX_TOKEN_COUNT ((size_t)2 << 20)
#define OB_QMP_JSON_MAX_NESTING     1024

/*
 * Called once per complete top-level text: VAL (a new reference the callee
 * owns) and ERR NULL, or VAL NULL and ERR the error text. Returns false to
 * stop feeding (the rest of the current buffer is left unread).
 */
typedef bool ob_qmp_json_cb(void *opaque, json_t *val, const char *err);

struct ob_qmp_json_tok {
    uint8_t type;
    size_t off;                 /* into ob_qmp_json_stream.text */
    size_t len;
};

struct ob_qmp_json_stream {
    ob_qmp_json_cb *cb;
    void *opaque;
    /* lexer: the state and the token being read */
    int state;
    char *tok;
    size_t tok_len, tok_cap;
    /* streamer: the tokens of the pending request, and their bytes */
    struct ob_qmp_json_tok *toks;
    size_t ntoks, toks_cap;
    char *text;
    size_t text_len, text_cap;
    int braces, brackets;
    bool oom;                   /* an allocation failed: request dropped */
};

void ob_qmp_json_stream_init(struct ob_qmp_json_stream *s, ob_qmp_json_cb *cb,
                             void *opaque);
/* Lexes BUF[0..LEN-1]; returns how many bytes were consumed (LEN unless the
 * callback asked to stop). */
size_t ob_qmp_json_stream_feed(struct ob_qmp_json_stream *s, const void *buf,
                               size_t len);
/* Forgets partial input (a new connection starts clean). */
void ob_qmp_json_stream_reset(struct ob_qmp_json_stream *s);
void ob_qmp_json_stream_fini(struct ob_qmp_json_stream *s);

/*
 * Parses exactly one text (anything after it is an error), with the
 * stream's rules. Returns a new reference, or NULL with the error text in
 * ERR.
 */
json_t *ob_qmp_json_parse(const char *buf, size_t len, char *err, size_t errlen);

/* ---- writing -------------------------------------------------------- */

/* A growable byte buffer. */
struct ob_qmp_buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;                   /* an append failed; contents incomplete */
};

void ob_qmp_buf_init(struct ob_qmp_buf *b);
void ob_qmp_buf_fini(struct ob_qmp_buf *b);
void ob_qmp_buf_add(struct ob_qmp_buf *b, const void *p, size_t n);
void ob_qmp_buf_addf(struct ob_qmp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drops the first N bytes. */
void ob_qmp_buf_consume(struct ob_qmp_buf *b, size_t n);

/* Appends VAL in QEMU's format (no line end). Returns 0 or -1 (out of memory). */
int ob_qmp_json_write(struct ob_qmp_buf *b, const json_t *val);
/* VAL as a malloc'd, NUL-terminated string, or NULL. */
char *ob_qmp_json_dumps(const json_t *val);

/*
 * The members of OBJ in QEMU's QDict iteration order: fills KEYS with up to
 * MAX borrowed key pointers and returns the member count. Object members
 * must have been inserted in the order QEMU inserts them (the QAPI schema's
 * member order) for ties to come out the same.
 */
size_t ob_qmp_json_object_keys(const json_t *obj, const char **keys, size_t max);

/*
 * Creates a string value from LEN raw bytes without validating them (QEMU's
 * strings may hold any bytes; the writer escapes what is not modified UTF-8).
 */
json_t *ob_qmp_json_stringn(const char *s, size_t len);
json_t *ob_qmp_json_string(const char *s);

/*
 * Decodes one character of modified UTF-8 at S (at most N bytes), as QEMU
 * does: returns the code point, or -1 for bytes that are not a valid
 * character (overlong forms other than C0 80, surrogates, noncharacters,
 * beyond U+10FFFF); *END is set past the bytes examined (at least one when
 * N > 0).
 */
int ob_qmp_utf8_codepoint(const char *s, size_t n, const char **end);

#endif
