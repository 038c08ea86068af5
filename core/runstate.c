/*
 * runstate.c - the run state, device quiescing, system reset, shutdown, and
 * the one event sink.
 */
#include <errno.h>
#include <string.h>
#include <sys/time.h>

#include "outboard/block.h"
#include "outboard/ctx.h"
#include "outboard/device.h"
#include "outboard/pci.h"
#include "outboard/runstate.h"

static const char *const runstate_names[OB_RS__MAX] = {
    [OB_RS_RUNNING] = "running",
    [OB_RS_PAUSED] = "paused",
    [OB_RS_SHUTDOWN] = "shutdown",
    [OB_RS_INMIGRATE] = "inmigrate",
    [OB_RS_POSTMIGRATE] = "postmigrate",
    [OB_RS_FINISH_MIGRATE] = "finish-migrate",
    [OB_RS_PRELAUNCH] = "prelaunch",
    [OB_RS_INTERNAL_ERROR] = "internal-error",
    [OB_RS_IO_ERROR] = "io-error",
    [OB_RS_DEBUG] = "debug",
    [OB_RS_RESTORE_VM] = "restore-vm",
    [OB_RS_SAVE_VM] = "save-vm",
    [OB_RS_SUSPENDED] = "suspended",
    [OB_RS_WATCHDOG] = "watchdog",
    [OB_RS_GUEST_PANICKED] = "guest-panicked",
    [OB_RS_COLO] = "colo",
};

const char *ob_runstate_name(enum ob_runstate s)
{
    return (unsigned)s < OB_RS__MAX ? runstate_names[s] : "internal-error";
}

enum ob_runstate ob_runstate_get(const struct ob_ctx *ctx)
{
    return ctx->runstate;
}

bool ob_runstate_is_running(const struct ob_ctx *ctx)
{
    return ctx->runstate == OB_RS_RUNNING;
}

static void device_quiesce(struct ob_device *d)
{
    if (!d->quiesced && d->type->quiesce) {
        d->type->quiesce(d);
    }
    d->quiesced = true;
}

static void device_resume(struct ob_device *d)
{
    if (d->quiesced && d->type->resume) {
        d->type->resume(d);
    }
    d->quiesced = false;
}

static void emit_simple(struct ob_ctx *ctx, enum ob_event_kind kind)
{
    struct ob_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ob_event_emit(ctx, &ev);
}

bool ob_vm_stop(struct ob_ctx *ctx, enum ob_runstate state)
{
    struct ob_device *d;

    if (ctx->runstate != OB_RS_RUNNING) {
        ctx->runstate = state;
        return false;
    }
    /* Every device first, then the state and the event: STOP means quiet. */
    for (d = ctx->devices; d; d = d->next) {
        device_quiesce(d);
    }
    ctx->runstate = state;
    ob_info(&ctx->log, "VM stopped (%s)", ob_runstate_name(state));
    emit_simple(ctx, OB_EV_STOP);
    return true;
}

void ob_vm_start(struct ob_ctx *ctx)
{
    struct ob_device *d;

    if (ctx->runstate == OB_RS_RUNNING) {
        return;
    }
    ctx->runstate = OB_RS_RUNNING;
    ob_info(&ctx->log, "VM resumed");
    emit_simple(ctx, OB_EV_RESUME);
    for (d = ctx->devices; d; d = d->next) {
        device_resume(d);
    }
}

void ob_vm_reset(struct ob_ctx *ctx, const char *reason)
{
    struct ob_event ev;
    struct ob_device *d;

    for (d = ctx->devices; d; d = d->next) {
        if (d->type->bus == OB_BUS_PCI && d->realized) {
            ob_pci_reset(ob_pci_from_dev(d));
        }
    }
    memset(&ev, 0, sizeof(ev));
    ev.kind = OB_EV_RESET;
    ev.u.cause.guest = false;
    ev.u.cause.reason = reason;
    ob_event_emit(ctx, &ev);
}

void ob_vm_shutdown(struct ob_ctx *ctx, bool guest, const char *reason)
{
    struct ob_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = OB_EV_SHUTDOWN;
    ev.u.cause.guest = guest;
    ev.u.cause.reason = reason;
    ob_event_emit(ctx, &ev);
    ctx->runstate = OB_RS_SHUTDOWN;
    ob_ctx_quit(ctx, 0);
}

void ob_runstate_device_added(struct ob_ctx *ctx, struct ob_device *dev)
{
    if (ctx->runstate != OB_RS_RUNNING) {
        device_quiesce(dev);
    }
}

void ob_event_set_sink(struct ob_ctx *ctx, ob_event_sink *sink, void *opaque)
{
    ctx->event_sink = sink;
    ctx->event_opaque = opaque;
}

void ob_event_emit(struct ob_ctx *ctx, struct ob_event *ev)
{
    if (gettimeofday(&ev->when, NULL) < 0) {
        ev->when.tv_sec = -1;       /* the spec's "time unknown" */
        ev->when.tv_usec = -1;
    }
    if (ctx->event_sink) {
        ctx->event_sink(ctx->event_opaque, ev);
    }
}

void ob_event_block_io_error(struct ob_ctx *ctx, const struct ob_drive *d,
                             bool write, int ret, const char *action)
{
    struct ob_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = OB_EV_BLOCK_IO_ERROR;
    ev.u.io.device = d->id;
    ev.u.io.node_name = d->id;
    ev.u.io.write = write;
    ev.u.io.action = action;
    ev.u.io.nospace = ret == -ENOSPC;
    ev.u.io.reason = strerror(ret < 0 ? -ret : ret);
    ob_event_emit(ctx, &ev);
}
