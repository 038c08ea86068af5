/*
 * ctx.h - the one loop context: the libevent base, the log, and the
 * registry of every object (devices, channels) by id. This is the only
 * mutable state outboard has outside its objects.
 */
#ifndef OUTBOARD_CTX_H
#define OUTBOARD_CTX_H

#include <stdbool.h>

#include "outboard/log.h"

struct event_base;
struct event;
struct ob_device;
struct ob_chan;

struct ob_ctx {
    struct event_base *base;
    struct ob_log log;
    struct ob_device *devices;    /* in creation order */
    struct ob_chan *chans;
    unsigned open_chans;
    bool had_chans;
    struct event *sig_ev[3];      /* SIGTERM, SIGINT, SIGHUP */
    int exit_status;
};

int ob_ctx_init(struct ob_ctx *ctx);
/* Frees channels, then devices, then the base. */
void ob_ctx_fini(struct ob_ctx *ctx);
/* Runs the loop until ob_ctx_quit() or the last channel closes. */
int ob_ctx_run(struct ob_ctx *ctx);
void ob_ctx_quit(struct ob_ctx *ctx, int status);
/* Called by a channel when it closes: ends the loop when none is left. */
void ob_ctx_chan_closed(struct ob_ctx *ctx);

#endif
