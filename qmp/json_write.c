/*
 * json_write.c - the writing half of qmp_json.h: values printed as QEMU's
 * monitor prints them, and the byte buffer both halves use.
 *
 * Member order: QEMU keeps object members in a 512-bucket hash table
 * (qobject/qdict.c) whose hash is the TDB one, inserts at the head of a
 * bucket's list, and prints bucket by bucket. Sorting members by (bucket,
 * most recently inserted first) reproduces its output exactly.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/qmp_json.h"

#define QDICT_BUCKETS 512u

/* ---- buffer --------------------------------------------------------- */

void ob_qmp_buf_init(struct ob_qmp_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void ob_qmp_buf_fini(struct ob_qmp_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

static bool buf_reserve(struct ob_qmp_buf *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : 256;
    char *p;

    if (b->oom) {
        return false;
    }
    if (b->len + extra + 1 <= b->cap) {
        return true;
    }
    while (cap < b->len + extra + 1) {
        cap *= 2;
    }
    p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void ob_qmp_buf_add(struct ob_qmp_buf *b, const void *p, size_t n)
{
    if (!buf_reserve(b, n)) {
        return;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ob_qmp_buf_addf(struct ob_qmp_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ob_qmp_buf_consume(struct ob_qmp_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
    }
    if (b->data) {
        b->data[b->len] = '\0';
    }
}

/* ---- strings -------------------------------------------------------- */

json_t *ob_qmp_json_stringn(const char *s, size_t len)
{
    return json_stringn_nocheck(s, len);
}

json_t *ob_qmp_json_string(const char *s)
{
    return json_stringn_nocheck(s, strlen(s));
}

static void write_string(struct ob_qmp_buf *b, const char *s, size_t len)
{
    const char *p = s, *end = s + len, *next;

    ob_qmp_buf_add(b, "\"", 1);
    while (p < end) {
        int cp;

        if (*p == '\0') {
            cp = 0;         /* a raw NUL (QEMU's strings never hold one) */
            next = p + 1;
        } else {
            cp = ob_qmp_utf8_codepoint(p, (size_t)(end - p) < 6 ? (size_t)(end - p) : 6,
                                       &next);
        }
        p = next;
        switch (cp) {
        case '"':  ob_qmp_buf_add(b, "\\\"", 2); continue;
        case '\\': ob_qmp_buf_add(b, "\\\\", 2); continue;
        case '\b': ob_qmp_buf_add(b, "\\b", 2);  continue;
        case '\f': ob_qmp_buf_add(b, "\\f", 2);  continue;
        case '\n': ob_qmp_buf_add(b, "\\n", 2);  continue;
        case '\r': ob_qmp_buf_add(b, "\\r", 2);  continue;
        case '\t': ob_qmp_buf_add(b, "\\t", 2);  continue;
        default:   break;
        }
        if (cp < 0) {
            cp = 0xfffd;
        }
        if (cp > 0xffff) {
            ob_qmp_buf_addf(b, "\\u%04X\\u%04X", 0xd800 + ((cp - 0x10000) >> 10),
                            0xdc00 + ((cp - 0x10000) & 0x3ff));
        } else if (cp < 0x20 || cp >= 0x7f) {
            ob_qmp_buf_addf(b, "\\u%04X", cp);
        } else {
            char c = (char)cp;

            ob_qmp_buf_add(b, &c, 1);
        }
    }
    ob_qmp_buf_add(b, "\"", 1);
}

/* ---- member order --------------------------------------------------- */

static unsigned qdict_bucket(const char *key)
{
    size_t len = strlen(key), i;
    uint32_t v = (uint32_t)(0x238F13AFu * (uint32_t)len);

    for (i = 0; key[i]; i++) {
        v += (uint32_t)(unsigned char)key[i] << (i * 5 % 24);
    }
    return (1103515243u * v + 12345u) % QDICT_BUCKETS;
}

struct member {
    const char *key;
    unsigned bucket;
    size_t seq;         /* insertion position */
};

static int cmp_members(const void *a, const void *b)
{
    const struct member *x = a, *y = b;

    if (x->bucket != y->bucket) {
        return x->bucket < y->bucket ? -1 : 1;
    }
    return x->seq > y->seq ? -1 : x->seq < y->seq;
}

size_t ob_qmp_json_object_keys(const json_t *obj, const char **keys, size_t max)
{
    size_t n = json_object_size(obj), i = 0;
    struct member stack[16], *m = stack;
    const char *key;
    json_t *val;

    if (n > 16) {
        m = calloc(n, sizeof(*m));
        if (!m) {
            return 0;
        }
    }
    json_object_foreach((json_t *)obj, key, val) {
        m[i].key = key;
        m[i].bucket = qdict_bucket(key);
        m[i].seq = i;
        i++;
    }
    (void)val;
    qsort(m, n, sizeof(*m), cmp_members);
    for (i = 0; i < n && i < max; i++) {
        keys[i] = m[i].key;
    }
    if (m != stack) {
        free(m);
    }
    return n;
}

/* ---- values --------------------------------------------------------- */

static void write_value(struct ob_qmp_buf *b, const json_t *v);

static void write_object(struct ob_qmp_buf *b, const json_t *obj)
{
    size_t n = json_object_size(obj), i;
    const char **keys;

    if (n == 0) {
        ob_qmp_buf_add(b, "{}", 2);
        return;
    }
    keys = calloc(n, sizeof(*keys));
    if (!keys || ob_qmp_json_object_keys(obj, keys, n) != n) {
        b->oom = true;
        free(keys);
        return;
    }
    ob_qmp_buf_add(b, "{", 1);
    for (i = 0; i < n; i++) {
        if (i > 0) {
            ob_qmp_buf_add(b, ", ", 2);
        }
        write_string(b, keys[i], strlen(keys[i]));
        ob_qmp_buf_add(b, ": ", 2);
        write_value(b, json_object_get(obj, keys[i]));
    }
    ob_qmp_buf_add(b, "}", 1);
    free(keys);
}

static void write_array(struct ob_qmp_buf *b, const json_t *arr)
{
    size_t i;

    ob_qmp_buf_add(b, "[", 1);
    for (i = 0; i < json_array_size(arr); i++) {
        if (i > 0) {
            ob_qmp_buf_add(b, ", ", 2);
        }
        write_value(b, json_array_get(arr, i));
    }
    ob_qmp_buf_add(b, "]", 1);
}

static void write_value(struct ob_qmp_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        write_object(b, v);
        break;
    case JSON_ARRAY:
        write_array(b, v);
        break;
    case JSON_STRING:
        write_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        ob_qmp_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        ob_qmp_buf_addf(b, "%.17g", json_real_value(v));
        break;
    case JSON_TRUE:
        ob_qmp_buf_add(b, "true", 4);
        break;
    case JSON_FALSE:
        ob_qmp_buf_add(b, "false", 5);
        break;
    case JSON_NULL:
        ob_qmp_buf_add(b, "null", 4);
        break;
    }
}

int ob_qmp_json_write(struct ob_qmp_buf *b, const json_t *val)
{
    write_value(b, val);
    return b->oom ? -1 : 0;
}

char *ob_qmp_json_dumps(const json_t *val)
{
    struct ob_qmp_buf b;

    ob_qmp_buf_init(&b);
    if (ob_qmp_json_write(&b, val) < 0 || !b.data) {
        ob_qmp_buf_fini(&b);
        return NULL;
    }
    return b.data;
}
