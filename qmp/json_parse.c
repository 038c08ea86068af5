/*
 * json_parse.c - the reading half of qmp_json.h: a lexer that turns bytes
 * into tokens, a splitter that queues the tokens of one request until its
 * outermost bracket closes (or a limit or an error ends it), and a
 * recursive-descent parser that turns the queued tokens into a jansson
 * value, with the error texts QEMU 7.2 gives for the same input.
 *
 * Recursion is bounded: the splitter refuses more than
 * OB_QMP_JSON_MAX_NESTING open brackets before the parser sees a request.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/qmp_json.h"

enum tok_type {
    T_LCURLY = 1,
    T_RCURLY,
    T_LSQUARE,
    T_RSQUARE,
    T_COLON,
    T_COMMA,
    T_INTEGER,
    T_FLOAT,
    T_KEYWORD,
    T_STRING,
    T_ERROR,        /* a lexical error: the token is the stray text */
    T_TOO_LONG,     /* a single token grew past the size limit */
};

enum lex_state {
    L_START,
    L_RECOVERY,     /* after an error: skipping to a resynchronisation point */
    L_DQ,           /* inside "..." */
    L_DQ_ESC,       /* after a backslash inside "..." */
    L_SQ,           /* inside '...' */
    L_SQ_ESC,
    L_ZERO,         /* 0 */
    L_SIGN,         /* - */
    L_DIGITS,       /* [1-9][0-9]* */
    L_MANT,         /* number followed by '.' */
    L_MANT_DIGITS,
    L_EXP_E,        /* number followed by e or E */
    L_EXP_SIGN,
    L_EXP_DIGITS,
    L_KEYWORD,      /* [a-z]+ */
};

/* What the lexer does with one byte in one state. */
enum lex_action {
    A_NEXT,         /* consume the byte into the token, go to `state` */
    A_EMIT,         /* consume it, the token (of `type`) is complete */
    A_EMIT_BEFORE,  /* the token ended before this byte: emit, then re-read it */
    A_ERROR,        /* consume it; the token so far is stray input */
    A_DROP,         /* consume it, keep no text (white space, recovery) */
    A_RESYNC,       /* recovery ends before this byte: re-read it in L_START */
};

struct lex_step {
    enum lex_action action;
    enum lex_state state;
    enum tok_type type;
};

/* Result of feeding one byte. */
enum feed_result {
    FEED_OK,
    FEED_STOP_AFTER,    /* the callback asked to stop; the byte was used */
    FEED_STOP_BEFORE,   /* ... and the byte was not */
};

/* ---- lexer ---------------------------------------------------------- */

static struct lex_step next(enum lex_action a, enum lex_state s)
{
    return (struct lex_step){ a, s, 0 };
}

static struct lex_step emit(enum lex_action a, enum tok_type t)
{
    return (struct lex_step){ a, L_START, t };
}

static bool is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

static bool is_structural(unsigned c)
{
    return c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',';
}

static enum tok_type structural_type(unsigned c)
{
    switch (c) {
    case '{': return T_LCURLY;
    case '}': return T_RCURLY;
    case '[': return T_LSQUARE;
    case ']': return T_RSQUARE;
    case ':': return T_COLON;
    default:  return T_COMMA;
    }
}

static struct lex_step lex_start(unsigned c)
{
    if (is_structural(c)) {
        return emit(A_EMIT, structural_type(c));
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        return next(A_DROP, L_START);
    }
    if (c >= 'a' && c <= 'z') {
        return next(A_NEXT, L_KEYWORD);
    }
    if (c >= '1' && c <= '9') {
        return next(A_NEXT, L_DIGITS);
    }
    switch (c) {
    case '"':  return next(A_NEXT, L_DQ);
    case '\'': return next(A_NEXT, L_SQ);
    case '0':  return next(A_NEXT, L_ZERO);
    case '-':  return next(A_NEXT, L_SIGN);
    default:   return next(A_ERROR, L_RECOVERY);
    }
}

/* Resynchronisation points: structural characters, control characters
 * other than tab, and the bytes that never occur in UTF-8. */
static struct lex_step lex_recovery(unsigned c)
{
    if ((c < 0x20 && c != '\t') || c >= 0xfe || is_structural(c)) {
        return next(A_RESYNC, L_START);
    }
    return next(A_DROP, L_RECOVERY);
}

/* Strings take bytes 0x20..0xFD; validation is the parser's job. */
static struct lex_step lex_string(unsigned c, unsigned quote, enum lex_state self,
                                  enum lex_state esc)
{
    if (c < 0x20 || c >= 0xfe) {
        return next(A_ERROR, L_RECOVERY);
    }
    if (c == quote) {
        return emit(A_EMIT, T_STRING);
    }
    return next(A_NEXT, c == '\\' ? esc : self);
}

static struct lex_step lex_escape(unsigned c, enum lex_state str)
{
    if (c < 0x20 || c >= 0xfe) {
        return next(A_ERROR, L_RECOVERY);
    }
    return next(A_NEXT, str);
}

static struct lex_step lex_number(enum lex_state s, unsigned c)
{
    switch (s) {
    case L_ZERO:
        if (is_digit(c)) {
            return next(A_ERROR, L_RECOVERY);
        }
        return c == '.' ? next(A_NEXT, L_MANT) : emit(A_EMIT_BEFORE, T_INTEGER);
    case L_SIGN:
        if (c == '0') {
            return next(A_NEXT, L_ZERO);
        }
        return c >= '1' && c <= '9' ? next(A_NEXT, L_DIGITS) : next(A_ERROR, L_RECOVERY);
    case L_DIGITS:
        if (is_digit(c)) {
            return next(A_NEXT, L_DIGITS);
        }
        if (c == 'e' || c == 'E') {
            return next(A_NEXT, L_EXP_E);
        }
        return c == '.' ? next(A_NEXT, L_MANT) : emit(A_EMIT_BEFORE, T_INTEGER);
    case L_MANT:
        return is_digit(c) ? next(A_NEXT, L_MANT_DIGITS) : next(A_ERROR, L_RECOVERY);
    case L_MANT_DIGITS:
        if (is_digit(c)) {
            return next(A_NEXT, L_MANT_DIGITS);
        }
        if (c == 'e' || c == 'E') {
            return next(A_NEXT, L_EXP_E);
        }
        return emit(A_EMIT_BEFORE, T_FLOAT);
    case L_EXP_E:
        if (c == '+' || c == '-') {
            return next(A_NEXT, L_EXP_SIGN);
        }
        return is_digit(c) ? next(A_NEXT, L_EXP_DIGITS) : next(A_ERROR, L_RECOVERY);
    case L_EXP_SIGN:
        return is_digit(c) ? next(A_NEXT, L_EXP_DIGITS) : next(A_ERROR, L_RECOVERY);
    default:    /* L_EXP_DIGITS */
        return is_digit(c) ? next(A_NEXT, L_EXP_DIGITS) : emit(A_EMIT_BEFORE, T_FLOAT);
    }
}

static struct lex_step lex(enum lex_state s, unsigned c)
{
    switch (s) {
    case L_START:     return lex_start(c);
    case L_RECOVERY:  return lex_recovery(c);
    case L_DQ:        return lex_string(c, '"', L_DQ, L_DQ_ESC);
    case L_DQ_ESC:    return lex_escape(c, L_DQ);
    case L_SQ:        return lex_string(c, '\'', L_SQ, L_SQ_ESC);
    case L_SQ_ESC:    return lex_escape(c, L_SQ);
    case L_KEYWORD:
        return c >= 'a' && c <= 'z' ? next(A_NEXT, L_KEYWORD)
                                    : emit(A_EMIT_BEFORE, T_KEYWORD);
    default:          return lex_number(s, c);
    }
}

/* ---- small helpers -------------------------------------------------- */

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 64;
    void *q;

    if (need <= *cap) {
        return true;
    }
    while (n < need) {
        n *= 2;
    }
    q = realloc(*p, n * elem);
    if (!q) {
        return false;
    }
    *p = q;
    *cap = n;
    return true;
}

static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;

    if (vasprintf(&s, fmt, ap) < 0) {
        return NULL;
    }
    return s;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *format(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = vformat(fmt, ap);
    va_end(ap);
    return s;
}

/* ---- UTF-8 as QEMU reads it (modified UTF-8: U+0000 is C0 80) ------- */

static bool codepoint_valid(long cp)
{
    if (cp < 0 || cp > 0x10ffff) {
        return false;
    }
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe) {
        return false;   /* noncharacters */
    }
    return !(cp >= 0xd800 && cp <= 0xdfff);
}

/* Encodes CP into BUF (5 bytes); returns the length or -1. */
static int utf8_encode(char *buf, long cp)
{
    if (!codepoint_valid(cp)) {
        return -1;
    }
    if (cp > 0 && cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {           /* includes U+0000 as C0 80 */
        buf[0] = (char)(0xc0 | cp >> 6);
        buf[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xe0 | cp >> 12);
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        buf[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    buf[0] = (char)(0xf0 | cp >> 18);
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    buf[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

int ob_qmp_utf8_codepoint(const char *s, size_t n, const char **end)
{
    static const long min_cp[] = { 0x80, 0x800, 0x10000, 0x200000, 0x4000000 };
    const unsigned char *p = (const unsigned char *)s;
    unsigned lead, len = 0, mask, i;
    long cp;

    if (n == 0) {
        *end = s;
        return -1;
    }
    lead = *p++;
    if (lead < 0x80) {
        *end = (const char *)p;
        return (int)lead;
    }
    if (lead >= 0xfe || !(lead & 0x40)) {
        *end = (const char *)p;     /* impossible byte or stray continuation */
        return -1;
    }
    for (mask = 0x80; lead & mask; mask >>= 1) {
        len++;
    }
    cp = lead & (mask - 1);
    for (i = 1; i < len; i++) {
        unsigned b = i < n ? *p : 0;

        if ((b & 0xc0) != 0x80) {
            *end = (const char *)p;
            return -1;
        }
        p++;
        cp = cp << 6 | (b & 0x3f);
    }
    *end = (const char *)p;
    if (cp > 0x10ffff || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return -1;
    }
    if (cp < min_cp[len - 2] && !(cp == 0 && len == 2)) {
        return -1;                  /* overlong, other than C0 80 */
    }
    return (int)cp;
}

/* ---- parser --------------------------------------------------------- */

struct parser {
    const struct ob_qmp_json_tok *toks;
    size_t ntoks;
    size_t pos;
    const char *text;
    char *err;              /* the first error, or NULL */
    bool err_oom;
};

static void perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the first error only, as QEMU does. */
static void perr(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (p->err || p->err_oom) {
        return;
    }
    va_start(ap, fmt);
    msg = vformat(fmt, ap);
    va_end(ap);
    if (!msg) {
        p->err_oom = true;
        return;
    }
    p->err = format("JSON parse error, %s", msg);
    free(msg);
    if (!p->err) {
        p->err_oom = true;
    }
}

static bool failed(const struct parser *p)
{
    return p->err || p->err_oom;
}

static const struct ob_qmp_json_tok *peek(struct parser *p)
{
    return p->pos < p->ntoks ? &p->toks[p->pos] : NULL;
}

static const struct ob_qmp_json_tok *pop(struct parser *p)
{
    return p->pos < p->ntoks ? &p->toks[p->pos++] : NULL;
}

static const char *tok_str(const struct parser *p, const struct ob_qmp_json_tok *t)
{
    return p->text + t->off;
}

static json_t *parse_value(struct parser *p);

static int hex4(const char *s)
{
    int v = 0, i;

    for (i = 0; i < 4; i++) {
        int c = (unsigned char)s[i], d;

        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return -1;
        }
        v = v << 4 | d;
    }
    return v;
}

/*
 * \uXXXX (and a following \uXXXX trailing surrogate) at *PTR, just past
 * the 'u'. Returns the code point or -1; advances *PTR as QEMU does, which
 * may be past the token's end on failure (the caller then stops).
 */
static long unicode_escape(const char **ptr)
{
    const char *s = *ptr;
    long cp = hex4(s), trail;

    s += 4;
    if (cp >= 0xd800 && cp <= 0xdbff && s[0] == '\\' && s[1] == 'u') {
        cp = 0x10000 + ((cp & 0x3ff) << 10);
        trail = hex4(s + 2);
        if (trail >= 0xdc00 && trail <= 0xdfff) {
            cp |= trail & 0x3ff;
            s += 6;
        } else {
            cp = -1;
        }
    }
    *ptr = s;
    return cp;
}

static char simple_escape(char c)
{
    switch (c) {
    case '"':  return '"';
    case '\'': return '\'';
    case '\\': return '\\';
    case '/':  return '/';
    case 'b':  return '\b';
    case 'f':  return '\f';
    case 'n':  return '\n';
    case 'r':  return '\r';
    case 't':  return '\t';
    default:   return 0;
    }
}

/* Decodes the string token T (quotes included) into modified UTF-8. */
static json_t *parse_string(struct parser *p, const struct ob_qmp_json_tok *t)
{
    const char *s = tok_str(p, t), *ptr = s + 1, *end;
    char quote = s[0], enc[5];
    struct ob_qmp_buf out;
    json_t *v = NULL;

    ob_qmp_buf_init(&out);
    while (*ptr != quote) {
        long cp;
        int n;

        if (*ptr == '\\') {
            const char *beg = ptr++;
            char e = *ptr++;

            if (e == 'u') {
                cp = unicode_escape(&ptr);
                n = utf8_encode(enc, cp);
                if (n < 0) {
                    size_t shown = strnlen(beg, (size_t)(ptr - beg));

                    perr(p, "%.*s is not a valid Unicode character", (int)shown, beg);
                    goto out;
                }
                ob_qmp_buf_add(&out, enc, (size_t)n);
            } else if (simple_escape(e)) {
                char c = simple_escape(e);

                ob_qmp_buf_add(&out, &c, 1);
            } else {
                perr(p, "invalid escape sequence in string");
                goto out;
            }
            continue;
        }
        cp = ob_qmp_utf8_codepoint(ptr, 6, &end);
        if (cp < 0) {
            perr(p, "invalid UTF-8 sequence in string");
            goto out;
        }
        ptr = end;
        n = utf8_encode(enc, cp);
        ob_qmp_buf_add(&out, enc, (size_t)(n > 0 ? n : 0));
    }
    if (out.oom) {
        p->err_oom = true;
        goto out;
    }
    v = ob_qmp_json_stringn(out.data ? out.data : "", out.len);
    if (!v) {
        p->err_oom = true;
    }
out:
    ob_qmp_buf_fini(&out);
    return v;
}

/* Integers that fit int64 stay integers; anything else becomes a double. */
static json_t *parse_number(struct parser *p, const struct ob_qmp_json_tok *t)
{
    const char *s = tok_str(p, t);
    json_t *v;

    if (t->type == T_INTEGER) {
        long long ll;

        errno = 0;
        ll = strtoll(s, NULL, 10);
        if (errno == 0) {
            v = json_integer(ll);
            goto out;
        }
    }
    v = json_real(strtod(s, NULL));
out:
    if (!v) {
        p->err_oom = true;
    }
    return v;
}

static json_t *parse_keyword(struct parser *p)
{
    const struct ob_qmp_json_tok *t = pop(p);
    const char *s = tok_str(p, t);

    if (strcmp(s, "true") == 0) {
        return json_true();
    }
    if (strcmp(s, "false") == 0) {
        return json_false();
    }
    if (strcmp(s, "null") == 0) {
        return json_null();
    }
    perr(p, "invalid keyword '%s'", s);
    return NULL;
}

static int parse_pair(struct parser *p, json_t *obj)
{
    const struct ob_qmp_json_tok *t;
    json_t *key = NULL, *val = NULL;
    int rc = -1;

    if (!peek(p)) {
        perr(p, "premature EOI");
        return -1;
    }
    key = parse_value(p);
    if (!key || !json_is_string(key)) {
        perr(p, "key is not a string in object");
        goto out;
    }
    t = pop(p);
    if (!t) {
        perr(p, "premature EOI");
        goto out;
    }
    if (t->type != T_COLON) {
        perr(p, "missing : in object pair");
        goto out;
    }
    val = parse_value(p);
    if (!val) {
        perr(p, "Missing value in dict");
        goto out;
    }
    if (json_object_get(obj, json_string_value(key))) {
        perr(p, "duplicate key");
        goto out;
    }
    if (json_object_set_new_nocheck(obj, json_string_value(key), val) < 0) {
        p->err_oom = true;
        val = NULL;
        goto out;
    }
    val = NULL;
    rc = 0;
out:
    json_decref(key);
    json_decref(val);
    return rc;
}

static json_t *parse_object(struct parser *p)
{
    const struct ob_qmp_json_tok *t;
    json_t *obj = json_object();

    pop(p);     /* { */
    if (!obj) {
        p->err_oom = true;
        return NULL;
    }
    if (!peek(p)) {
        perr(p, "premature EOI");
        goto fail;
    }
    if (peek(p)->type == T_RCURLY) {
        pop(p);
        return obj;
    }
    if (parse_pair(p, obj) < 0) {
        goto fail;
    }
    while ((t = pop(p)) != NULL && t->type != T_RCURLY) {
        if (t->type != T_COMMA) {
            perr(p, "expected separator in dict");
            goto fail;
        }
        if (parse_pair(p, obj) < 0) {
            goto fail;
        }
    }
    if (!t) {
        perr(p, "premature EOI");
        goto fail;
    }
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

static int parse_element(struct parser *p, json_t *arr)
{
    json_t *v = parse_value(p);

    if (!v) {
        perr(p, "expecting value");
        return -1;
    }
    if (json_array_append_new(arr, v) < 0) {
        p->err_oom = true;
        return -1;
    }
    return 0;
}

static json_t *parse_array(struct parser *p)
{
    const struct ob_qmp_json_tok *t;
    json_t *arr = json_array();

    pop(p);     /* [ */
    if (!arr) {
        p->err_oom = true;
        return NULL;
    }
    if (!peek(p)) {
        perr(p, "premature EOI");
        goto fail;
    }
    if (peek(p)->type == T_RSQUARE) {
        pop(p);
        return arr;
    }
    if (parse_element(p, arr) < 0) {
        goto fail;
    }
    while ((t = pop(p)) != NULL && t->type != T_RSQUARE) {
        if (t->type != T_COMMA) {
            perr(p, "expected separator in list");
            goto fail;
        }
        if (parse_element(p, arr) < 0) {
            goto fail;
        }
    }
    if (!t) {
        perr(p, "premature EOI");
        goto fail;
    }
    return arr;
fail:
    json_decref(arr);
    return NULL;
}

static json_t *parse_value(struct parser *p)
{
    const struct ob_qmp_json_tok *t = peek(p);

    if (!t) {
        perr(p, "premature EOI");
        return NULL;
    }
    switch (t->type) {
    case T_LCURLY:
        return parse_object(p);
    case T_LSQUARE:
        return parse_array(p);
    case T_STRING:
        pop(p);
        return parse_string(p, t);
    case T_INTEGER:
    case T_FLOAT:
        pop(p);
        return parse_number(p, t);
    case T_KEYWORD:
        return parse_keyword(p);
    default:
        perr(p, "expecting value");
        return NULL;
    }
}

/* ---- splitter ------------------------------------------------------- */

static void tokens_clear(struct ob_qmp_json_stream *s)
{
    s->ntoks = 0;
    s->text_len = 0;
    s->braces = 0;
    s->brackets = 0;
}

/* Hands VAL or ERR to the callback; the pending request is gone. */
static bool deliver(struct ob_qmp_json_stream *s, json_t *val, const char *err)
{
    tokens_clear(s);
    if (!val && !err) {
        err = "out of memory";
    }
    return s->cb(s->opaque, val, err);
}

static bool deliver_error(struct ob_qmp_json_stream *s, char *msg)
{
    bool go = deliver(s, NULL, msg);

    free(msg);
    return go;
}

static bool parse_pending(struct ob_qmp_json_stream *s)
{
    struct parser p = {
        .toks = s->toks, .ntoks = s->ntoks, .text = s->text,
    };
    json_t *v = parse_value(&p);
    bool go;

    if (failed(&p)) {
        json_decref(v);
        v = NULL;
    }
    go = deliver(s, v, p.err);
    free(p.err);
    return go;
}

static size_t token_bytes(const struct ob_qmp_json_stream *s)
{
    /* every queued token is stored with a terminating NUL */
    return s->text_len - s->ntoks;
}

/* One token from the lexer (its text in s->tok). Returns the callback's
 * wish to go on (true when nothing was delivered). */
static bool on_token(struct ob_qmp_json_stream *s, enum tok_type type)
{
    struct ob_qmp_json_tok *t;

    switch (type) {
    case T_LCURLY:  s->braces++;   break;
    case T_RCURLY:  s->braces--;   break;
    case T_LSQUARE: s->brackets++; break;
    case T_RSQUARE: s->brackets--; break;
    case T_ERROR:
        return deliver_error(s, format("JSON parse error, stray '%s'", s->tok));
    default:
        break;
    }
    if (type == T_TOO_LONG ||
        token_bytes(s) + s->tok_len + 1 > OB_QMP_JSON_MAX_TOKEN_SIZE) {
        return deliver_error(s, format("JSON token size limit exceeded"));
    }
    if (s->ntoks + 1 > OB_QMP_JSON_MAX_TOKEN_COUNT) {
        return deliver_error(s, format("JSON token count limit exceeded"));
    }
    if (s->braces + s->brackets > OB_QMP_JSON_MAX_NESTING) {
        return deliver_error(s, format("JSON nesting depth limit exceeded"));
    }
    if (!grow((void **)&s->toks, &s->toks_cap, s->ntoks + 1, sizeof(*s->toks)) ||
        !grow((void **)&s->text, &s->text_cap, s->text_len + s->tok_len + 1, 1)) {
        return deliver(s, NULL, NULL);
    }
    t = &s->toks[s->ntoks++];
    t->type = (uint8_t)type;
    t->off = s->text_len;
    t->len = s->tok_len;
    memcpy(s->text + s->text_len, s->tok, s->tok_len + 1);
    s->text_len += s->tok_len + 1;
    if ((s->braces > 0 || s->brackets > 0) && s->braces >= 0 && s->brackets >= 0) {
        return true;    /* the request is still open */
    }
    return parse_pending(s);
}

static bool tok_append(struct ob_qmp_json_stream *s, char c)
{
    if (!grow((void **)&s->tok, &s->tok_cap, s->tok_len + 2, 1)) {
        return false;
    }
    s->tok[s->tok_len++] = c;
    s->tok[s->tok_len] = '\0';
    return true;
}

static void tok_clear(struct ob_qmp_json_stream *s)
{
    s->tok_len = 0;
    if (s->tok) {
        s->tok[0] = '\0';
    }
}

/* Emits the current token (NUL-terminated for the parser). */
static bool emit_token(struct ob_qmp_json_stream *s, enum tok_type type)
{
    bool go;

    if (!grow((void **)&s->tok, &s->tok_cap, s->tok_len + 1, 1)) {
        tok_clear(s);
        return deliver(s, NULL, NULL);
    }
    s->tok[s->tok_len] = '\0';
    go = on_token(s, type);
    tok_clear(s);
    return go;
}

static enum feed_result feed_byte(struct ob_qmp_json_stream *s, unsigned char c)
{
    bool go = true;

    for (;;) {
        struct lex_step st = lex((enum lex_state)s->state, c);

        switch (st.action) {
        case A_NEXT:
            s->state = st.state;
            if (!tok_append(s, (char)c)) {
                s->state = L_RECOVERY;
                tok_clear(s);
                go = deliver(s, NULL, NULL);
            }
            break;
        case A_EMIT:
            s->state = L_START;
            if (!tok_append(s, (char)c)) {
                tok_clear(s);
                go = deliver(s, NULL, NULL);
                break;
            }
            go = emit_token(s, st.type);
            break;
        case A_EMIT_BEFORE:
            s->state = L_START;
            if (!emit_token(s, st.type)) {
                return FEED_STOP_BEFORE;
            }
            continue;
        case A_ERROR:
            s->state = L_RECOVERY;
            tok_append(s, (char)c);
            go = emit_token(s, T_ERROR);
            break;
        case A_DROP:
            s->state = st.state;
            break;
        case A_RESYNC:
            s->state = L_START;
            continue;
        }
        break;
    }
    if (s->tok_len > OB_QMP_JSON_MAX_TOKEN_SIZE) {
        s->state = L_START;
        go = emit_token(s, T_TOO_LONG) && go;
    }
    return go ? FEED_OK : FEED_STOP_AFTER;
}

void ob_qmp_json_stream_init(struct ob_qmp_json_stream *s, ob_qmp_json_cb *cb,
                             void *opaque)
{
    memset(s, 0, sizeof(*s));
    s->cb = cb;
    s->opaque = opaque;
    s->state = L_START;
}

size_t ob_qmp_json_stream_feed(struct ob_qmp_json_stream *s, const void *buf,
                               size_t len)
{
    const unsigned char *p = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        switch (feed_byte(s, p[i])) {
        case FEED_OK:
            break;
        case FEED_STOP_AFTER:
            return i + 1;
        case FEED_STOP_BEFORE:
            return i;
        }
    }
    return len;
}

void ob_qmp_json_stream_reset(struct ob_qmp_json_stream *s)
{
    s->state = L_START;
    tok_clear(s);
    tokens_clear(s);
    /* Give back what a huge request made us hold. */
    if (s->tok_cap > 4096) {
        free(s->tok);
        s->tok = NULL;
        s->tok_cap = 0;
    }
    if (s->text_cap > 65536) {
        free(s->text);
        s->text = NULL;
        s->text_cap = 0;
    }
    if (s->toks_cap > 4096) {
        free(s->toks);
        s->toks = NULL;
        s->toks_cap = 0;
    }
}

void ob_qmp_json_stream_fini(struct ob_qmp_json_stream *s)
{
    free(s->tok);
    free(s->toks);
    free(s->text);
    memset(s, 0, sizeof(*s));
}

/* ---- one-shot parse ------------------------------------------------- */

struct one_shot {
    json_t *val;
    char *err;
    unsigned count;
};

static bool one_shot_cb(void *opaque, json_t *val, const char *err)
{
    struct one_shot *o = opaque;

    if (++o->count == 1) {
        o->val = val;
        o->err = err ? strdup(err) : NULL;
        return true;
    }
    json_decref(val);
    return false;
}

json_t *ob_qmp_json_parse(const char *buf, size_t len, char *err, size_t errlen)
{
    struct ob_qmp_json_stream s;
    struct one_shot o = { NULL, NULL, 0 };
    const char *why = NULL;

    ob_qmp_json_stream_init(&s, one_shot_cb, &o);
    ob_qmp_json_stream_feed(&s, buf, len);
    /* A newline ends a number or keyword still open at the end. */
    ob_qmp_json_stream_feed(&s, "\n", 1);
    if (o.count == 0) {
        why = "JSON parse error, premature EOI";
    } else if (o.count > 1 || s.ntoks > 0 || s.state != L_START) {
        why = "JSON parse error, trailing input";
    } else if (o.err) {
        why = o.err;
    }
    if (why) {
        json_decref(o.val);
        o.val = NULL;
        snprintf(err, errlen, "%s", why);
    }
    free(o.err);
    ob_qmp_json_stream_fini(&s);
    return o.val;
}
