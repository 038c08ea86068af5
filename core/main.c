/*
 * main.c - outboard: start-up, the objects of the command line, the loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outboard/block.h"
#include "outboard/chan.h"
#include "outboard/cmdline.h"
#include "outboard/ctx.h"
#include "outboard/device.h"
#include "outboard/pci.h"
#include "outboard/qmp.h"

#define ERRLEN 512

static void print_type(const struct ob_devtype *t, void *opaque)
{
    FILE *fp = opaque;

    fprintf(fp, "name \"%s\", bus %s, desc \"%s\"\n", t->name,
            t->bus == OB_BUS_PCI ? "PCI" : "SCSI", t->desc);
}

/* `-device help` and `-device TYPE,help`: 1 if help was printed. */
static int device_help(const struct ob_cmdline *cl)
{
    size_t i;

    for (i = 0; i < cl->ndevices; i++) {
        const char *drv = ob_opts_peek(&cl->devices[i], "driver");
        const struct ob_devtype *t;

        if (drv && (strcmp(drv, "help") == 0 || strcmp(drv, "?") == 0)) {
            printf("Devices served by outboard:\n");
            ob_devtype_foreach(print_type, stdout);
            return 1;
        }
        if (drv && ob_opts_peek(&cl->devices[i], "help")) {
            t = ob_devtype_find(drv);
            if (!t) {
                fprintf(stderr, "outboard: -device %s: unknown device type '%s'\n",
                        cl->devices[i].src, drv);
                return -1;
            }
            ob_devtype_print_help(stdout, t);
            return 1;
        }
    }
    return 0;
}

static int check_machine(struct ob_cmdline *cl, char *err, size_t errlen)
{
    const char *type, *v, *unused;
    bool b;

    if (!cl->have_machine) {
        snprintf(err, errlen, "-machine x-remote is required");
        return -1;
    }
    type = ob_opts_get(&cl->machine, "type");
    if (!type || strcmp(type, "x-remote") != 0) {
        snprintf(err, errlen, "-machine %s: unsupported machine type '%s' (only x-remote)",
                 cl->machine.src, type ? type : "");
        return -1;
    }
    v = ob_opts_get(&cl->machine, "auto-shutdown");
    if (v && ob_parse_bool(v, &b) < 0) {
        snprintf(err, errlen, "-machine %s: Parameter 'auto-shutdown' expects 'on' or 'off'",
                 cl->machine.src);
        return -1;
    }
    v = ob_opts_get(&cl->machine, "vfio-user");
    if (v) {
        if (ob_parse_bool(v, &b) < 0) {
            snprintf(err, errlen, "-machine %s: Parameter 'vfio-user' expects 'on' or 'off'",
                     cl->machine.src);
            return -1;
        }
        if (b) {
            snprintf(err, errlen, "-machine %s: vfio-user is not supported by outboard "
                     "(it serves the mpqemu protocol)", cl->machine.src);
            return -1;
        }
    }
    unused = ob_opts_first_unused(&cl->machine);
    if (unused) {
        snprintf(err, errlen, "-machine %s: Property 'x-remote-machine.%s' not found",
                 cl->machine.src, unused);
        return -1;
    }
    return 0;
}

static int create_devices(struct ob_ctx *ctx, struct ob_cmdline *cl, char *err,
                          size_t errlen)
{
    char why[ERRLEN - 64];
    size_t i;

    for (i = 0; i < cl->ndevices; i++) {
        if (ob_device_create(ctx, &cl->devices[i], NULL, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "-device %s: %s", cl->devices[i].src, why);
            return -1;
        }
    }
    return 0;
}

/* -drive: drives come before the devices that use them. */
static int create_drives(struct ob_ctx *ctx, struct ob_cmdline *cl, char *err,
                         size_t errlen)
{
    char why[ERRLEN - 64];
    size_t i;

    for (i = 0; i < cl->ndrives; i++) {
        if (ob_drive_create(ctx, &cl->drives[i], why, sizeof(why)) < 0) {
            snprintf(err, errlen, "-drive %s: %s", cl->drives[i].src, why);
            return -1;
        }
    }
    return 0;
}

static int create_remote_object(struct ob_ctx *ctx, struct ob_opts *o, char *err,
                                 size_t errlen)
{
    const char *id = ob_opts_get(o, "id");
    const char *devid = ob_opts_get(o, "devid");
    const char *fdstr = ob_opts_get(o, "fd");
    const char *poll = ob_opts_get(o, "poll-us");
    const char *unused = ob_opts_first_unused(o);
    struct ob_device *d;
    struct ob_chan *ch;
    uint64_t fd, poll_us = 0;
    char why[256];

    if (unused) {
        snprintf(err, errlen, "-object %s: Property 'x-remote-object.%s' not found",
                 o->src, unused);
        return -1;
    }
    if (!id) {
        snprintf(err, errlen, "-object %s: Parameter 'id' is missing", o->src);
        return -1;
    }
    if (!fdstr || ob_parse_u64(fdstr, &fd) < 0 || fd > INT32_MAX) {
        snprintf(err, errlen, "-object %s: Could not parse remote object fd %s", o->src,
                 fdstr ? fdstr : "(missing)");
        return -1;
    }
    if (poll && (ob_parse_u64(poll, &poll_us) < 0 || poll_us > 1000000)) {
        snprintf(err, errlen, "-object %s: poll-us expects 0 to 1000000", o->src);
        return -1;
    }
    d = devid ? ob_device_find(ctx, devid) : NULL;
    if (!d || d->type->bus != OB_BUS_PCI) {
        snprintf(err, errlen, "-object %s: %s is not a PCI device", o->src,
                 devid ? devid : "(no devid)");
        return -1;
    }
    if (d->has_chan) {
        snprintf(err, errlen, "-object %s: device %s is already served by another "
                 "x-remote-object", o->src, devid);
        return -1;
    }
    ch = ob_chan_open(ctx, id, (int)fd, ob_pci_from_dev(d), why, sizeof(why));
    if (!ch) {
        snprintf(err, errlen, "-object %s: %s", o->src, why);
        return -1;
    }
    ch->poll_ns = poll_us * 1000;
    return 0;
}

static int create_objects(struct ob_ctx *ctx, struct ob_cmdline *cl, char *err,
                          size_t errlen)
{
    size_t i;

    for (i = 0; i < cl->nobjects; i++) {
        struct ob_opts *o = &cl->objects[i];
        const char *type = ob_opts_get(o, "qom-type");

        if (!type) {
            snprintf(err, errlen, "-object %s: Parameter 'qom-type' is missing", o->src);
            return -1;
        }
        if (strcmp(type, "x-remote-object") != 0) {
            snprintf(err, errlen, "-object %s: invalid object type: %s", o->src, type);
            return -1;
        }
        if (create_remote_object(ctx, o, err, errlen) < 0) {
            return -1;
        }
    }
    return 0;
}

/* -name [guest=]NAME[,process=P][,debug-threads=on]: the guest name. */
static int start_qmp(struct ob_ctx *ctx, struct ob_cmdline *cl, struct ob_qmp **out,
                     char *err, size_t errlen)
{
    struct ob_opts name;
    char why[256];
    int rc = -1;

    memset(&name, 0, sizeof(name));
    *out = NULL;
    if (cl->name && ob_opts_parse(&name, "-name", cl->name, "guest", why,
                                  sizeof(why)) < 0) {
        snprintf(err, errlen, "-name %s: %s", cl->name, why);
        return -1;
    }
    if (cl->nqmp == 0 && cl->nmons == 0 && !cl->name) {
        return 0;                   /* no monitor: no server */
    }
    *out = ob_qmp_new(ctx, cl->name ? ob_opts_peek(&name, "guest") : NULL);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = ob_qmp_setup(*out, cl, err, errlen);
out:
    ob_opts_free(&name);
    return rc;
}

int main(int argc, char **argv)
{
    struct ob_cmdline cl;
    struct ob_ctx ctx;
    struct ob_qmp *qmp = NULL;
    char err[ERRLEN];
    int rc, status = 1;

    if (ob_cmdline_parse(&cl, argc, argv, err, sizeof(err)) < 0) {
        fprintf(stderr, "outboard: %s\n", err);
        return 1;
    }
    if (cl.help) {
        ob_cmdline_usage(stdout);
        ob_cmdline_free(&cl);
        return 0;
    }
    if (cl.version) {
        printf("outboard version " OB_VERSION
               " (mpqemu remote for QEMU's x-pci-proxy-dev)\n");
        ob_cmdline_free(&cl);
        return 0;
    }
    if (cl.log_spec && strcmp(cl.log_spec, "help") == 0) {
        ob_log_print_categories(stdout);
        ob_cmdline_free(&cl);
        return 0;
    }
    rc = device_help(&cl);
    if (rc != 0) {
        ob_cmdline_free(&cl);
        return rc > 0 ? 0 : 1;
    }
    if (ob_ctx_init(&ctx) < 0) {
        fprintf(stderr, "outboard: cannot create the event loop\n");
        ob_cmdline_free(&cl);
        return 1;
    }
    if (cl.log_spec &&
        ob_log_parse_mask(cl.log_spec, &ctx.log.mask, err, sizeof(err)) < 0) {
        fprintf(stderr, "outboard: -d %s: unknown log item '%s' (-d help lists them)\n",
                cl.log_spec, err);
        goto out;
    }
    if (cl.log_file && (rc = ob_log_open(&ctx.log, cl.log_file)) < 0) {
        fprintf(stderr, "outboard: -D %s: %s\n", cl.log_file, strerror(-rc));
        goto out;
    }
    if (check_machine(&cl, err, sizeof(err)) < 0 ||
        create_drives(&ctx, &cl, err, sizeof(err)) < 0 ||
        create_devices(&ctx, &cl, err, sizeof(err)) < 0 ||
        create_objects(&ctx, &cl, err, sizeof(err)) < 0 ||
        start_qmp(&ctx, &cl, &qmp, err, sizeof(err)) < 0) {
        fprintf(stderr, "outboard: %s\n", err);
        goto out;
    }
    ob_info(&ctx.log, "outboard " OB_VERSION ": serving %u connection(s)",
            ctx.open_chans);
    status = ob_ctx_run(&ctx);
out:
    /* Before the loop goes: answers still buffered are written first. */
    ob_qmp_free(qmp);
    ob_ctx_fini(&ctx);
    ob_cmdline_free(&cl);
    return status;
}
