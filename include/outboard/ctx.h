/*
 * ctx.h - the one loop context: the libevent base, the log, and the
 * registry of every object (devices, channels) by id. This is the only
 * mutable state outboard has outside its objects.
 */
#ifndef OUTBOARD_CTX_H
#define OUTBOARD_CTX_H

#include <stdbool.h>

#include "outboard/log.h"
#include "outboard/runstate.h"

struct event_base;
struct event;
struct ob_device;
struct ob_chan;
struct ob_drive;
struct ob_scsi_bus;
struct ob_fdname;

/* libevent priorities of the loop (lower runs first). Events get
 * OB_PRIO_DEFAULT unless set otherwise. */
enum {
    OB_PRIO_WIRE = 0,       /* mpqemu channels: the proxy's vCPU waits */
    OB_PRIO_DEFAULT = 1,
    OB_PRIO_COUNT = 2,
};

struct ob_ctx {
    struct event_base *base;
    struct ob_log log;
    struct ob_device *devices;    /* in creation order */
    struct ob_chan *chans;
    struct ob_drive *drives;      /* -drive, in creation order */
    struct ob_scsi_bus *scsi_buses;
    unsigned open_chans;
    bool had_chans;
    struct event *sig_ev[3];      /* SIGTERM, SIGINT, SIGHUP */
    int exit_status;
    enum ob_runstate runstate;    /* runstate.h; 0 = running */
    ob_event_sink *event_sink;    /* where events go (the QMP server), or NULL */
    void *event_opaque;
    struct ob_fdname *fdnames;    /* descriptors named by getfd (fdname.h) */
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
