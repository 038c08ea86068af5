/*
 * opts.c - QEMU's "key=value,key=value" option syntax.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/opts.h"

/* Copies one element of S (up to an unescaped ',' or, if STOP_AT_EQ, '=')
 * into a fresh string, turning ",," into ','. Advances *S past it. */
static char *take_token(const char **s, bool stop_at_eq)
{
    const char *p = *s;
    size_t cap = strlen(p) + 1;
    char *out = malloc(cap);
    size_t n = 0;

    if (!out) {
        return NULL;
    }
    while (*p) {
        if (*p == ',') {
            if (p[1] == ',') {
                out[n++] = ',';
                p += 2;
                continue;
            }
            break;
        }
        if (stop_at_eq && *p == '=') {
            break;
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
    *s = p;
    return out;
}

static int opts_add(struct ob_opts *o, char *key, char *val)
{
    struct ob_opt *v;
    size_t i;

    for (i = 0; i < o->n; i++) {
        if (strcmp(o->v[i].key, key) == 0) {
            free(o->v[i].val);
            free(key);
            o->v[i].val = val;
            return 0;
        }
    }
    v = realloc(o->v, (o->n + 1) * sizeof(*v));
    if (!v) {
        return -1;
    }
    o->v = v;
    o->v[o->n].key = key;
    o->v[o->n].val = val;
    o->v[o->n].used = false;
    o->n++;
    return 0;
}

int ob_opts_parse(struct ob_opts *o, const char *opt_name, const char *s,
                  const char *implied_key, char *err, size_t errlen)
{
    const char *p = s;
    bool first = true;

    memset(o, 0, sizeof(*o));
    o->opt_name = strdup(opt_name);
    o->src = strdup(s);
    if (!o->opt_name || !o->src) {
        goto nomem;
    }
    while (*p) {
        char *key = take_token(&p, true);
        char *val;

        if (!key) {
            goto nomem;
        }
        if (*p == '=') {
            p++;
            val = take_token(&p, false);
        } else if (first && implied_key) {
            val = key;
            key = strdup(implied_key);
        } else if (key[0] == '\0') {
            free(key);
            snprintf(err, errlen, "Invalid parameter ''");
            goto fail;
        } else {
            val = strdup("on");
        }
        if (!key || !val) {
            free(key);
            free(val);
            goto nomem;
        }
        if (key[0] == '\0') {
            free(key);
            free(val);
            snprintf(err, errlen, "Invalid parameter ''");
            goto fail;
        }
        if (opts_add(o, key, val) < 0) {
            free(key);
            free(val);
            goto nomem;
        }
        first = false;
        if (*p == ',') {
            p++;
        }
    }
    return 0;

nomem:
    snprintf(err, errlen, "out of memory");
fail:
    ob_opts_free(o);
    return -1;
}

void ob_opts_free(struct ob_opts *o)
{
    size_t i;

    for (i = 0; i < o->n; i++) {
        free(o->v[i].key);
        free(o->v[i].val);
    }
    free(o->v);
    free(o->src);
    free(o->opt_name);
    memset(o, 0, sizeof(*o));
}

static struct ob_opt *opts_find(const struct ob_opts *o, const char *key)
{
    size_t i;

    for (i = 0; i < o->n; i++) {
        if (strcmp(o->v[i].key, key) == 0) {
            return &o->v[i];
        }
    }
    return NULL;
}

const char *ob_opts_get(struct ob_opts *o, const char *key)
{
    struct ob_opt *opt = opts_find(o, key);

    if (!opt) {
        return NULL;
    }
    opt->used = true;
    return opt->val;
}

const char *ob_opts_peek(const struct ob_opts *o, const char *key)
{
    struct ob_opt *opt = opts_find(o, key);

    return opt ? opt->val : NULL;
}

const char *ob_opts_first_unused(const struct ob_opts *o)
{
    size_t i;

    for (i = 0; i < o->n; i++) {
        if (!o->v[i].used) {
            return o->v[i].key;
        }
    }
    return NULL;
}

int ob_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "on", "yes", "true", "y" };
    static const char *const no[] = { "off", "no", "false", "n" };
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int ob_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!s || *s < '0' || *s > '9') {
        return -1;      /* strtoull would skip whitespace and accept a sign */
    }
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || *end != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}
