/*
 * cmd_devices.c - the device commands: query-pci, device_add, device_del,
 * and outboard's own views of devices, guest memory and channels
 * (OB_QMP_PREFIX "dump-device", "query-memory", "query-channels").
 *
 * Objects are built in QAPI schema member order (qmp_json.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/chan.h"
#include "outboard/ctx.h"
#include "outboard/device.h"
#include "outboard/pci.h"
#include "outboard/qmp.h"
#include "outboard/qmp_cmds.h"
#include "outboard/runstate.h"

/* Class names as QEMU's query-pci reports them (base class << 8 | sub). */
static const struct {
    unsigned cls;
    const char *desc;
} class_names[] = {
    { 0x0001, "VGA controller" },
    { 0x0100, "SCSI controller" },
    { 0x0101, "IDE controller" },
    { 0x0102, "Floppy controller" },
    { 0x0103, "IPI controller" },
    { 0x0104, "RAID controller" },
    { 0x0106, "SATA controller" },
    { 0x0107, "SAS controller" },
    { 0x0180, "Storage controller" },
    { 0x0200, "Ethernet controller" },
    { 0x0280, "Network controller" },
    { 0x0300, "VGA controller" },
    { 0x0380, "Display controller" },
    { 0x0400, "Video controller" },
    { 0x0401, "Audio controller" },
    { 0x0480, "Multimedia controller" },
    { 0x0500, "RAM controller" },
    { 0x0580, "Memory controller" },
    { 0x0600, "Host bridge" },
    { 0x0601, "ISA bridge" },
    { 0x0604, "PCI bridge" },
    { 0x0680, "Bridge" },
    { 0x0c03, "USB controller" },
    { 0x0c05, "SMBus" },
    { 0x0d00, "IRDA controller" },
    { 0x0e00, "I2O controller" },
};

static uint16_t cfg16(const struct ob_pci_dev *pd, unsigned off)
{
    return (uint16_t)(pd->cfg[off] | pd->cfg[off + 1] << 8);
}

/*
 * The slot QEMU's remote would give each PCI device: its "addr" when set,
 * else the first free slot, in creation order.
 */
static unsigned pci_slot(struct ob_ctx *ctx, const struct ob_device *want)
{
    uint32_t used = 0;
    struct ob_device *d;

    for (d = ctx->devices; d; d = d->next) {
        if (d->type->bus == OB_BUS_PCI && ob_pci_from_dev(d)->devfn) {
            used |= 1u << ((ob_pci_from_dev(d)->devfn >> 3) & 31);
        }
    }
    for (d = ctx->devices; d; d = d->next) {
        struct ob_pci_dev *pd;
        unsigned s;

        if (d->type->bus != OB_BUS_PCI) {
            continue;
        }
        pd = ob_pci_from_dev(d);
        if (pd->devfn) {
            s = (pd->devfn >> 3) & 31;
        } else {
            for (s = 0; s < 31 && (used & (1u << s)); s++) {
            }
            used |= 1u << s;
        }
        if (d == want) {
            return s;
        }
    }
    return 0;
}

static json_t *pci_regions(const struct ob_pci_dev *pd)
{
    json_t *list = json_array();
    unsigned i, w;

    for (i = 0; list && i < OB_PCI_NUM_BARS; i++) {
        const struct ob_pci_bar *b = &pd->bars[i];
        json_int_t addr = -1;
        json_t *r;

        if (!b->size) {
            continue;
        }
        for (w = 0; w < pd->nwin; w++) {
            if (pd->win[w].bar == i) {
                addr = (json_int_t)pd->win[w].base;
            }
        }
        r = json_pack("{s:i,s:s,s:I,s:I}", "bar", (int)i, "type", b->io ? "io" : "memory",
                      "address", addr, "size", (json_int_t)b->size);
        if (r && !b->io) {
            uint32_t bar = (uint32_t)pd->cfg[OB_PCI_BAR0 + 4 * i];

            json_object_set_new(r, "prefetch", json_boolean(bar & OB_PCI_BAR_MEM_PREFETCH));
            json_object_set_new(r, "mem_type_64", json_false());
        }
        json_array_append_new(list, r);
    }
    return list;
}

static json_t *pci_device_info(struct ob_ctx *ctx, struct ob_pci_dev *pd)
{
    unsigned cls = cfg16(pd, OB_PCI_CLASS_DEVICE), pin = pd->cfg[OB_PCI_INTERRUPT_PIN];
    json_t *ci, *id, *d;
    size_t i;

    ci = json_object();
    for (i = 0; ci && i < sizeof(class_names) / sizeof(class_names[0]); i++) {
        if (class_names[i].cls == cls) {
            json_object_set_new(ci, "desc", json_string(class_names[i].desc));
        }
    }
    if (ci) {
        json_object_set_new(ci, "class", json_integer(cls));
    }
    id = json_pack("{s:i,s:i,s:i,s:i}", "device", cfg16(pd, OB_PCI_DEVICE_ID),
                   "vendor", cfg16(pd, OB_PCI_VENDOR_ID),
                   "subsystem", cfg16(pd, OB_PCI_SUBSYSTEM_ID),
                   "subsystem-vendor", cfg16(pd, OB_PCI_SUBSYSTEM_VENDOR));
    d = json_pack("{s:i,s:i,s:i,s:o,s:o}", "bus", 0, "slot", (int)pci_slot(ctx, &pd->dev),
                  "function", (int)(pd->devfn & 7), "class_info", ci, "id", id);
    if (!d) {
        return NULL;
    }
    if (pin) {
        json_object_set_new(d, "irq", json_integer(pd->cfg[OB_PCI_INTERRUPT_LINE]));
    }
    json_object_set_new(d, "irq_pin", json_integer(pin));
    json_object_set_new(d, "qdev_id", ob_qmp_json_string(pd->dev.id ? pd->dev.id : ""));
    json_object_set_new(d, "regions", pci_regions(pd));
    return d;
}

json_t *ob_qmp_cmd_query_pci(struct ob_qmp_req *r, json_t *args)
{
    struct ob_ctx *ctx = r->qmp->ctx;
    struct ob_device *dv;
    json_t *devs = json_array(), *bus;

    (void)args;
    for (dv = ctx->devices; devs && dv; dv = dv->next) {
        if (dv->type->bus == OB_BUS_PCI) {
            json_array_append_new(devs, pci_device_info(ctx, ob_pci_from_dev(dv)));
        }
    }
    bus = json_pack("{s:i,s:o}", "bus", 0, "devices", devs);
    return bus ? json_pack("[o]", bus) : NULL;
}

/* ---- device_add / device_del ----------------------------------------- */

/* Appends "KEY=VALUE" in option syntax (commas doubled). */
static void opt_append(struct ob_qmp_buf *b, const char *key, const char *val)
{
    const char *p;

    if (b->len) {
        ob_qmp_buf_add(b, ",", 1);
    }
    ob_qmp_buf_addf(b, "%s=", key);
    for (p = val; *p; p++) {
        ob_qmp_buf_add(b, p, 1);
        if (*p == ',') {
            ob_qmp_buf_add(b, ",", 1);
        }
    }
}

json_t *ob_qmp_cmd_device_add(struct ob_qmp_req *r, json_t *args)
{
    struct ob_ctx *ctx = r->qmp->ctx;
    const struct ob_devtype *t;
    struct ob_qmp_buf spec;
    struct ob_opts o;
    struct ob_device *dev = NULL;
    const char *key, *drv;
    char why[256], num[32];
    json_t *v;

    drv = json_string_value(json_object_get(args, "driver"));
    if (!json_object_get(args, "driver")) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "Parameter 'driver' is missing");
    }
    if (!drv) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                            "Invalid parameter type for 'driver', expected: string");
    }
    t = ob_devtype_find(drv);
    if (!t) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                            "'%s' is not a valid device model name", drv);
    }
    if (t->bus == OB_BUS_PCI) {
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "Device '%s' can not be hot-plugged "
                            "here: a PCI device of outboard needs its own "
                            "x-remote-object connection", drv);
    }
    ob_qmp_buf_init(&spec);
    json_object_foreach(args, key, v) {
        if (json_is_string(v)) {
            opt_append(&spec, key, json_string_value(v));
        } else if (json_is_integer(v)) {
            snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
            opt_append(&spec, key, num);
        } else if (json_is_boolean(v)) {
            opt_append(&spec, key, json_is_true(v) ? "on" : "off");
        } else {
            ob_qmp_buf_fini(&spec);
            return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                                "Invalid parameter type for '%s', expected: string", key);
        }
    }
    if (spec.oom || ob_opts_parse(&o, "device_add", spec.data, NULL, why,
                                  sizeof(why)) < 0) {
        ob_qmp_buf_fini(&spec);
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "%s",
                            spec.oom ? "out of memory" : why);
    }
    ob_qmp_buf_fini(&spec);
    if (ob_opts_peek(&o, "id") && ob_device_find(ctx, ob_opts_peek(&o, "id"))) {
        ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "Duplicate device ID '%s'",
                     ob_opts_peek(&o, "id"));
    } else if (ob_device_create(ctx, &o, &dev, why, sizeof(why)) < 0) {
        ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "%s", why);
    }
    ob_opts_free(&o);
    return NULL;
}

json_t *ob_qmp_cmd_device_del(struct ob_qmp_req *r, json_t *args)
{
    const char *id = json_string_value(json_object_get(args, "id"));
    struct ob_device *d = ob_device_find(r->qmp->ctx, id);

    if (!d) {
        return ob_qmp_error(r, OB_QMP_DEVICE_NOT_FOUND, "Device '%s' not found", id);
    }
    if (d->type->bus == OB_BUS_PCI) {
        /* its proxy, in QEMU, owns the slot: unplug happens there */
        return ob_qmp_error(r, OB_QMP_GENERIC_ERROR, "Device '%s' is a PCI device of "
                            "the remote: outboard unplugs SCSI devices only", id);
    }
    /* QEMU completes an unplug after the command returns: DEVICE_DELETED
     * follows the reply. */
    r->qmp->hold_events = true;
    r->events_after_reply = true;
    ob_device_destroy(d);
    return NULL;
}

/* ---- outboard's own ------------------------------------------------- */

static void dump_one(void *opaque, const char *name, uint64_t value, unsigned width)
{
    json_array_append_new(opaque, json_pack("{s:s,s:I,s:i}", "name", name,
                                            "value", (json_int_t)value,
                                            "width", (int)width));
}

json_t *ob_qmp_cmd_dump_device(struct ob_qmp_req *r, json_t *args)
{
    const char *id = json_string_value(json_object_get(args, "id"));
    struct ob_device *d = ob_device_find(r->qmp->ctx, id);
    json_t *o, *regs;

    if (!d) {
        return ob_qmp_error(r, OB_QMP_DEVICE_NOT_FOUND, "Device '%s' not found", id);
    }
    regs = json_array();
    if (regs && d->type->dump_regs) {
        d->type->dump_regs(d, dump_one, regs);
    }
    o = json_pack("{s:s,s:s,s:o}", "id", id, "type", d->type->name, "registers", regs);
    if (o && d->type->bus == OB_BUS_PCI) {
        struct ob_pci_dev *pd = ob_pci_from_dev(d);
        char hex[OB_PCI_CFG_SIZE * 2 + 1];
        unsigned i;

        for (i = 0; i < OB_PCI_CFG_SIZE; i++) {
            snprintf(hex + 2 * i, 3, "%02x", pd->cfg[i]);
        }
        json_object_set_new(o, "config", json_string(hex));
    }
    return o;
}

static json_t *memory_info(struct ob_pci_dev *pd)
{
    json_t *regions = json_array();
    unsigned i;

    if (regions && pd->mem.cur) {
        for (i = 0; i < pd->mem.cur->n; i++) {
            const struct ob_mem_region *m = &pd->mem.cur->r[i];

            json_array_append_new(regions, json_pack("{s:I,s:I,s:I}",
                                                     "gpa", (json_int_t)m->gpa,
                                                     "size", (json_int_t)m->size,
                                                     "offset", (json_int_t)m->offset));
        }
    }
    return json_pack("{s:o,s:o,s:I,s:I,s:I}", "device",
                     ob_qmp_json_string(pd->dev.id ? pd->dev.id : ""),
                     "regions", regions, "syncs", (json_int_t)pd->mem.syncs,
                     "remaps", (json_int_t)pd->mem.remaps,
                     "faults", (json_int_t)pd->mem.faults);
}

json_t *ob_qmp_cmd_query_memory(struct ob_qmp_req *r, json_t *args)
{
    const char *id = json_string_value(json_object_get(args, "id"));
    struct ob_device *d;
    json_t *list;

    if (id) {
        d = ob_device_find(r->qmp->ctx, id);
        if (!d) {
            return ob_qmp_error(r, OB_QMP_DEVICE_NOT_FOUND, "Device '%s' not found", id);
        }
        if (d->type->bus != OB_BUS_PCI) {
            return ob_qmp_error(r, OB_QMP_GENERIC_ERROR,
                                "Device '%s' is not a PCI device", id);
        }
    }
    list = json_array();
    for (d = r->qmp->ctx->devices; list && d; d = d->next) {
        if (d->type->bus == OB_BUS_PCI && (!id || (d->id && strcmp(d->id, id) == 0))) {
            json_array_append_new(list, memory_info(ob_pci_from_dev(d)));
        }
    }
    return list;
}

json_t *ob_qmp_cmd_query_channels(struct ob_qmp_req *r, json_t *args)
{
    struct ob_chan *ch;
    json_t *list = json_array();

    (void)args;
    for (ch = r->qmp->ctx->chans; list && ch; ch = ch->next) {
        json_t *msgs = json_object(), *c;
        unsigned k;

        for (k = 0; msgs && k < OB_MPQ_NUM_CMDS; k++) {
            if (k != OB_MPQ_RET) {
                json_object_set_new(msgs, ob_mpq_cmd_name((int32_t)k),
                                    json_integer((json_int_t)ch->stats.msgs[k]));
            }
        }
        c = json_pack("{s:o,s:o,s:b,s:o,s:I,s:I,s:I,s:I,s:{s:I,s:I}}",
                      "id", ob_qmp_json_string(ch->id),
                      "device", ob_qmp_json_string(ch->dev && ch->dev->dev.id ?
                                                   ch->dev->dev.id : ""),
                      "connected", !ch->closed,
                      "messages", msgs,
                      "errors", (json_int_t)ch->stats.errors,
                      "bytes-in", (json_int_t)ch->stats.bytes_in,
                      "bytes-out", (json_int_t)ch->stats.bytes_out,
                      "poll-us", (json_int_t)(ch->poll_ns / 1000),
                      "last-activity",
                      "seconds", (json_int_t)ch->stats.last_activity.tv_sec,
                      "microseconds", (json_int_t)(ch->stats.last_activity.tv_nsec / 1000));
        json_array_append_new(list, c);
    }
    return list;
}
