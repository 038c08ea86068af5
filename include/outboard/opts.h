/*
 * opts.h - QEMU's option syntax: "value,key=value,key=value", where ",,"
 * stands for a literal comma, a leading bare word is the value of an
 * implied key (the driver of -device, the type of -object), and a later bare
 * word "key" means key=on.
 */
#ifndef OUTBOARD_OPTS_H
#define OUTBOARD_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ob_opt {
    char *key;
    char *val;
    bool used;       /* consumed by ob_opts_get(); leftovers are errors */
};

struct ob_opts {
    char *opt_name;  /* "-device", for error messages */
    char *src;       /* the argument as given */
    struct ob_opt *v;
    size_t n;
};

/*
 * Parses S. IMPLIED_KEY names the key of a leading bare word (NULL: none
 * allowed). On error returns -1 with a message in ERR; *O is then empty.
 * A repeated key keeps its last value, as QEMU does.
 */
int ob_opts_parse(struct ob_opts *o, const char *opt_name, const char *s,
                  const char *implied_key, char *err, size_t errlen);
void ob_opts_free(struct ob_opts *o);

/* Value of KEY (marked used) or NULL. */
const char *ob_opts_get(struct ob_opts *o, const char *key);
/* Value of KEY without marking it. */
const char *ob_opts_peek(const struct ob_opts *o, const char *key);
/* First key not consumed by ob_opts_get(), or NULL. */
const char *ob_opts_first_unused(const struct ob_opts *o);

/* on/off, yes/no, true/false. Returns 0 or -1. */
int ob_parse_bool(const char *s, bool *out);
/* Decimal, 0x hex or 0 octal, no sign, no trailing junk. Returns 0 or -1. */
int ob_parse_u64(const char *s, uint64_t *out);

#endif
