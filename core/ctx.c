/*
 * ctx.c - the loop context.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "outboard/block.h"
#include "outboard/chan.h"
#include "outboard/ctx.h"
#include "outboard/device.h"
#include "outboard/fdname.h"
#include "outboard/runstate.h"

static void on_signal(evutil_socket_t sig, short what, void *opaque)
{
    struct ob_ctx *ctx = opaque;

    (void)what;
    ob_info(&ctx->log, "terminating on signal %d", (int)sig);
    ob_vm_shutdown(ctx, false, OB_CAUSE_HOST_SIGNAL);
}

int ob_ctx_init(struct ob_ctx *ctx)
{
    static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
    struct event_config *cfg;
    size_t i;

    memset(ctx, 0, sizeof(*ctx));
    ob_log_init(&ctx->log);
    cfg = event_config_new();
    if (!cfg) {
        return -1;
    }
    /* One thread, no locks: tell libevent so. */
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    ctx->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!ctx->base) {
        return -1;
    }
    /* Two priorities: proxy requests (OB_PRIO_WIRE) run before everything
     * else that is ready in the same loop pass (device work, disk
     * completions, management traffic: OB_PRIO_DEFAULT). */
    if (event_base_priority_init(ctx->base, OB_PRIO_COUNT) < 0) {
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < 3; i++) {
        ctx->sig_ev[i] = evsignal_new(ctx->base, sigs[i], on_signal, ctx);
        if (!ctx->sig_ev[i] || event_add(ctx->sig_ev[i], NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

void ob_ctx_fini(struct ob_ctx *ctx)
{
    size_t i;

    while (ctx->chans) {
        struct ob_chan *ch = ctx->chans;

        ctx->chans = ch->next;
        ob_chan_free(ch);
    }
    ob_device_destroy_all(ctx);
    ob_fdname_close_all(ctx);
    /* After the devices: they drain their I/O before letting go of drives. */
    ob_drive_destroy_all(ctx);
    for (i = 0; i < 3; i++) {
        if (ctx->sig_ev[i]) {
            event_free(ctx->sig_ev[i]);
        }
    }
    if (ctx->base) {
        event_base_free(ctx->base);
    }
    ob_log_close(&ctx->log);
    memset(ctx, 0, sizeof(*ctx));
}

int ob_ctx_run(struct ob_ctx *ctx)
{
    if (event_base_dispatch(ctx->base) < 0) {
        ob_err(&ctx->log, "event loop failed");
        return 1;
    }
    return ctx->exit_status;
}

void ob_ctx_quit(struct ob_ctx *ctx, int status)
{
    ctx->exit_status = status;
    event_base_loopbreak(ctx->base);
}

void ob_ctx_chan_closed(struct ob_ctx *ctx)
{
    if (ctx->open_chans > 0) {
        ctx->open_chans--;
    }
    /* As QEMU's remote: the VMM closing the connection ends the process
     * (here: once every connection is gone). */
    if (ctx->open_chans == 0 && ctx->had_chans) {
        ob_info(&ctx->log, "last proxy connection closed, exiting");
        ob_vm_shutdown(ctx, true, OB_CAUSE_GUEST_SHUTDOWN);
    }
}
