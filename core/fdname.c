/*
 * fdname.c - named file descriptors in the context.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outboard/ctx.h"
#include "outboard/fdname.h"

static struct ob_fdname **find(struct ob_ctx *ctx, const char *name)
{
    struct ob_fdname **p;

    for (p = &ctx->fdnames; *p; p = &(*p)->next) {
        if (strcmp((*p)->name, name) == 0) {
            return p;
        }
    }
    return NULL;
}

int ob_fdname_put(struct ob_ctx *ctx, const char *name, int fd)
{
    struct ob_fdname **p = find(ctx, name), *n;

    if (p) {
        close((*p)->fd);
        (*p)->fd = fd;
        return 0;
    }
    n = calloc(1, sizeof(*n));
    if (!n || !(n->name = strdup(name))) {
        free(n);
        close(fd);
        return -1;
    }
    n->fd = fd;
    n->next = ctx->fdnames;
    ctx->fdnames = n;
    return 0;
}

int ob_fdname_take(struct ob_ctx *ctx, const char *name)
{
    struct ob_fdname **p = find(ctx, name), *n;
    int fd;

    if (!p) {
        return -1;
    }
    n = *p;
    *p = n->next;
    fd = n->fd;
    free(n->name);
    free(n);
    return fd;
}

int ob_fdname_close(struct ob_ctx *ctx, const char *name)
{
    int fd = ob_fdname_take(ctx, name);

    if (fd < 0) {
        return -1;
    }
    close(fd);
    return 0;
}

unsigned ob_fdname_count(const struct ob_ctx *ctx)
{
    const struct ob_fdname *n;
    unsigned k = 0;

    for (n = ctx->fdnames; n; n = n->next) {
        k++;
    }
    return k;
}

void ob_fdname_close_all(struct ob_ctx *ctx)
{
    while (ctx->fdnames) {
        struct ob_fdname *n = ctx->fdnames;

        ctx->fdnames = n->next;
        close(n->fd);
        free(n->name);
        free(n);
    }
}
