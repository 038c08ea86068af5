/*
 * fdname.h - file descriptors named by the management interface (QMP
 * getfd/closefd), kept in the context so that other modules (migration's
 * fd:NAME URIs) can take them by name.
 */
#ifndef OUTBOARD_FDNAME_H
#define OUTBOARD_FDNAME_H

struct ob_ctx;

struct ob_fdname {
    char *name;
    int fd;
    struct ob_fdname *next;
};

/* Stores FD under NAME, taking ownership (on failure too: FD is closed).
 * A descriptor already stored under NAME is closed and replaced, as QEMU
 * does. Returns 0, or -1 when out of memory. */
int ob_fdname_put(struct ob_ctx *ctx, const char *name, int fd);
/* Removes NAME and returns its descriptor (the caller owns it), or -1. */
int ob_fdname_take(struct ob_ctx *ctx, const char *name);
/* Closes and forgets NAME. Returns 0, or -1 if there is no such name. */
int ob_fdname_close(struct ob_ctx *ctx, const char *name);
/* Number of stored descriptors. */
unsigned ob_fdname_count(const struct ob_ctx *ctx);
void ob_fdname_close_all(struct ob_ctx *ctx);

#endif
