/*
 * scsi-bus.c - SCSI buses, device addressing, and the request life cycle of
 * scsi.h: routing (unit attention, the bus-level "target" handler for
 * REPORT LUNS, stored sense and missing LUNs), reference counts,
 * completion with sense bookkeeping, cancellation and bus reset.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/ctx.h"
#include "outboard/log.h"
#include "outboard/scsi.h"

#define OP_TEST_UNIT_READY   0x00
#define OP_REQUEST_SENSE     0x03
#define OP_INQUIRY           0x12
#define OP_REPORT_LUNS       0xa0

#define INQUIRY_STD_LEN      36
#define QEMU_HW_VERSION      "2.5+"

/* ---- CDB helpers -------------------------------------------------------- */

static uint32_t be16_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be24_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64_at(const uint8_t *p)
{
    return (uint64_t)be32_at(p) << 32 | be32_at(p + 4);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

unsigned ob_scsi_cdb_len(uint8_t opcode)
{
    static const uint8_t by_group[8] = { 6, 10, 10, 0, 16, 12, 0, 0 };

    return by_group[opcode >> 5];
}

/* The allocation/transfer length field, by group. */
static uint64_t cdb_xfer_field(const uint8_t *cdb)
{
    switch (cdb[0] >> 5) {
    case 0:
        return cdb[4];
    case 1:
    case 2:
        return be16_at(cdb + 7);
    case 4:
        return be32_at(cdb + 10);
    case 5:
        return be32_at(cdb + 6);
    default:
        return 0;
    }
}

uint64_t ob_scsi_cdb_lba(const uint8_t *cdb)
{
    switch (cdb[0] >> 5) {
    case 0:
        return be24_at(cdb + 1) & 0x1fffff;
    case 1:
    case 2:
    case 5:
        return be32_at(cdb + 2);
    case 4:
        return be64_at(cdb + 2);
    default:
        return 0;
    }
}

uint32_t ob_scsi_cdb_blocks(const uint8_t *cdb)
{
    if (cdb[0] >> 5 == 0 && cdb[4] == 0) {
        return 256;
    }
    return (uint32_t)cdb_xfer_field(cdb);
}

/* Opcodes that carry no data whatever their length fields say. */
static bool op_no_data(uint8_t op)
{
    switch (op) {
    case 0x00: case 0x01: case 0x0b: case 0x10: case 0x11: case 0x16:
    case 0x17: case 0x19: case 0x1b: case 0x1e: case 0x2b: case 0x33:
    case 0x34: case 0x35: case 0x36: case 0x3d: case 0x3f: case 0x53:
    case 0x82: case 0x90: case 0x91: case 0x92: case 0xa7: case 0xbb:
        return true;
    default:
        return false;
    }
}

/* Opcodes whose data goes to the device (QEMU's list). */
static bool op_to_dev(uint8_t op)
{
    switch (op) {
    case 0x04: case 0x07: case 0x0a: case 0x15: case 0x18: case 0x1d:
    case 0x24: case 0x2a: case 0x2e: case 0x2f: case 0x30: case 0x31:
    case 0x32: case 0x38: case 0x39: case 0x3a: case 0x3b: case 0x3d:
    case 0x3f: case 0x40: case 0x41: case 0x42: case 0x4c: case 0x55:
    case 0x5d: case 0x5f: case 0x8a: case 0x8e: case 0x8f: case 0x93:
    case 0xa4: case 0xaa: case 0xae: case 0xaf: case 0xb0: case 0xb1:
    case 0xb2: case 0xb6: case 0xbf:
        return true;
    default:
        return false;
    }
}

void ob_scsi_cdb_xfer(const uint8_t *cdb, uint32_t bs, uint64_t *xfer,
                      enum ob_scsi_xfer *mode)
{
    uint8_t op = cdb[0];
    uint64_t x = cdb_xfer_field(cdb);

    if (bs == 0) {
        bs = 512;
    }
    switch (op) {
    case 0x2f: case 0xaf: case 0x8f:        /* VERIFY(10/12/16) */
        x = (cdb[1] & 2) == 0 ? 0 : (cdb[1] & 4) ? 1 : x;
        x *= bs;
        break;
    case 0x41: case 0x93:                   /* WRITE SAME(10/16) */
        x = (cdb[1] & 1) ? 0 : bs;
        break;
    case 0x25:                              /* READ CAPACITY(10) */
        x = 8;
        break;
    case 0x05:                              /* READ BLOCK LIMITS */
        x = 6;
        break;
    case 0xb6:                              /* SEND VOLUME TAG */
        x = be16_at(cdb + 8);
        break;
    case 0x08: case 0x0a: case 0x0f:        /* READ/WRITE(6), READ REVERSE */
        x = (x == 0 ? 256 : x) * bs;
        break;
    case 0x28: case 0x2a: case 0x2e: case 0xa8: case 0xaa: case 0xae:
    case 0x88: case 0x8a: case 0x8e:        /* READ/WRITE(10/12/16), W&V */
        x *= bs;
        break;
    case 0x04:                              /* FORMAT UNIT */
        x = (cdb[1] & 16) == 0 ? 0 : (cdb[1] & 32) ? 8 : 4;
        break;
    case 0x12: case 0x1c: case 0x1d:        /* INQUIRY, (RECEIVE|SEND) DIAG */
        x = be16_at(cdb + 3);
        break;
    case 0xbe: case 0x3c: case 0x3b: case 0x5d:
        x = be24_at(cdb + 6);
        break;
    case 0x5f:                              /* PERSISTENT RESERVE OUT */
        x = be32_at(cdb + 5);
        break;
    default:
        if (op_no_data(op)) {
            x = 0;
        }
        break;
    }
    *xfer = x;
    if (x == 0) {
        *mode = OB_SCSI_XFER_NONE;
    } else {
        *mode = op_to_dev(op) ? OB_SCSI_XFER_TO_DEV : OB_SCSI_XFER_FROM_DEV;
    }
}

void ob_scsi_build_sense(uint8_t out[OB_SCSI_SENSE_LEN], struct ob_scsi_sense s)
{
    memset(out, 0, OB_SCSI_SENSE_LEN);
    out[0] = 0x70;
    out[2] = s.key;
    out[7] = 10;
    out[12] = s.asc;
    out[13] = s.ascq;
}

unsigned ob_scsi_convert_sense(const uint8_t *in, unsigned in_len, uint8_t *out,
                               unsigned len, bool fixed)
{
    struct ob_scsi_sense s = OB_SENSE_NO_SENSE;
    uint8_t tmp[OB_SCSI_SENSE_LEN];
    unsigned n;

    if (in_len >= 14) {
        s.key = in[2] & 0x0f;
        s.asc = in[12];
        s.ascq = in[13];
    }
    memset(tmp, 0, sizeof(tmp));
    if (fixed) {
        ob_scsi_build_sense(tmp, s);
        n = OB_SCSI_SENSE_LEN;
    } else {
        tmp[0] = 0x72;
        tmp[1] = s.key;
        tmp[2] = s.asc;
        tmp[3] = s.ascq;
        n = 8;
    }
    n = n < len ? n : len;
    memcpy(out, tmp, n);
    return n;
}

uint8_t ob_scsi_sense_from_errno(int err, struct ob_scsi_sense *s)
{
    /* QEMU's mapping, the same for reads and writes: a plain EIO is an
     * ABORTED COMMAND (the guest retries), only ENODATA a MEDIUM ERROR. */
    switch (err) {
    case 0:
        return OB_SCSI_GOOD;
    case EDOM:
        return OB_SCSI_TASK_SET_FULL;
    case EBADE:
        return OB_SCSI_RESERVATION_CONFLICT;
    case ENODATA:
        *s = OB_SENSE_MEDIUM_ERROR_READ;
        break;
    case ENOSPC:
        *s = OB_SENSE_SPACE_ALLOC_FAILED;
        break;
    case EINVAL:
        *s = OB_SENSE_INVALID_FIELD;
        break;
    case ENOMEM:
    case EREMOTEIO:
        *s = OB_SENSE_TARGET_FAILURE;
        break;
    case ENOMEDIUM:
        *s = OB_SENSE_NO_MEDIUM;
        break;
    default:
        *s = OB_SENSE_IO_ERROR;
        break;
    }
    return OB_SCSI_CHECK_CONDITION;
}

/* ---- buses and addressing ---------------------------------------------- */

static void bus_name(struct ob_scsi_bus *bus, struct ob_ctx *ctx,
                     const struct ob_device *hba)
{
    const struct ob_scsi_bus *b;
    unsigned n = 0;

    if (hba && hba->id) {
        snprintf(bus->name, sizeof(bus->name), "%s.0", hba->id);
        return;
    }
    /* QEMU names the buses of anonymous controllers "scsi.0", "scsi.1"... */
    for (b = ctx ? ctx->scsi_buses : NULL; b; b = b->next) {
        if (!b->hba || !b->hba->id) {
            n++;
        }
    }
    snprintf(bus->name, sizeof(bus->name), "scsi.%u", n);
}

int ob_scsi_bus_init(struct ob_scsi_bus *bus, struct ob_device *hba,
                     const struct ob_scsi_bus_ops *ops, unsigned max_target,
                     unsigned max_lun, char *err, size_t errlen)
{
    struct ob_ctx *ctx = hba ? hba->ctx : NULL;
    struct ob_scsi_bus **tail;

    memset(bus, 0, sizeof(*bus));
    bus->hba = hba;
    bus->ops = ops;
    bus->max_target = max_target;
    bus->max_lun = max_lun;
    bus->tcq = true;
    bus_name(bus, ctx, hba);
    if (!ctx) {
        return 0;
    }
    if (ob_scsi_bus_find(ctx, bus->name)) {
        snprintf(err, errlen, "a SCSI bus named '%s' already exists", bus->name);
        return -1;
    }
    for (tail = &ctx->scsi_buses; *tail; tail = &(*tail)->next) {
    }
    *tail = bus;
    bus->ctx = ctx;
    return 0;
}

void ob_scsi_bus_fini(struct ob_scsi_bus *bus)
{
    struct ob_scsi_bus **p;

    while (bus->reqs) {
        ob_scsi_req_cancel(bus->reqs);
    }
    while (bus->devs) {
        struct ob_scsi_dev *d = bus->devs;

        bus->devs = d->next_on_bus;
        d->next_on_bus = NULL;
        d->bus = NULL;
    }
    if (bus->ctx) {
        for (p = &bus->ctx->scsi_buses; *p; p = &(*p)->next) {
            if (*p == bus) {
                *p = bus->next;
                break;
            }
        }
        bus->ctx = NULL;
    }
}

struct ob_scsi_bus *ob_scsi_bus_find(struct ob_ctx *ctx, const char *name)
{
    struct ob_scsi_bus *b;

    for (b = ctx->scsi_buses; b; b = b->next) {
        if (strcmp(b->name, name) == 0) {
            return b;
        }
    }
    return NULL;
}

struct ob_scsi_dev *ob_scsi_bus_device(struct ob_scsi_bus *bus, unsigned target,
                                       unsigned lun)
{
    struct ob_scsi_dev *d;

    for (d = bus->devs; d; d = d->next_on_bus) {
        if (d->channel == 0 && d->id == target && d->lun == lun) {
            return d;
        }
    }
    return NULL;
}

/* The device answering for TARGET when LUN has none: the lowest LUN. */
static struct ob_scsi_dev *target_device(struct ob_scsi_bus *bus, unsigned target)
{
    struct ob_scsi_dev *d, *best = NULL;

    for (d = bus->devs; d; d = d->next_on_bus) {
        if (d->channel == 0 && d->id == target && (!best || d->lun < best->lun)) {
            best = d;
        }
    }
    return best;
}

bool ob_scsi_bus_target_present(struct ob_scsi_bus *bus, unsigned target)
{
    return target_device(bus, target) != NULL;
}

const struct ob_prop ob_scsi_bus_props[] = {
    { "bus", OB_PROP_STR, offsetof(struct ob_scsi_dev, bus_name), NULL,
      "the SCSI bus, \"<controller id>.0\" (default: the first one)" },
    { "scsi-id", OB_PROP_U32, offsetof(struct ob_scsi_dev, id), "4294967295",
      "target id (default: the first free one)" },
    { "lun", OB_PROP_U32, offsetof(struct ob_scsi_dev, lun), "4294967295",
      "logical unit (default: the first free one)" },
    { "channel", OB_PROP_U32, offsetof(struct ob_scsi_dev, channel), "0",
      "channel (always 0)" },
    OB_PROP_END,
};

static const char *dev_name(const struct ob_scsi_dev *d)
{
    return d && d->dev.id ? d->dev.id : "(null)";
}

static bool address_free(struct ob_scsi_bus *bus, unsigned target, unsigned lun,
                         struct ob_scsi_dev **user)
{
    struct ob_scsi_dev *d = ob_scsi_bus_device(bus, target, lun);

    if (user) {
        *user = d;
    }
    return d == NULL;
}

/* QEMU's scsi_bus_check_address + the automatic id/lun of scsi_qdev_realize. */
static int assign_address(struct ob_scsi_bus *bus, struct ob_scsi_dev *d, char *err,
                          size_t errlen)
{
    struct ob_scsi_dev *user;

    if (d->channel != 0) {
        snprintf(err, errlen, "bad scsi channel id: %u", d->channel);
        return -1;
    }
    if (d->id != OB_SCSI_ID_AUTO && d->id > bus->max_target) {
        snprintf(err, errlen, "bad scsi device id: %u", d->id);
        return -1;
    }
    if (d->lun != OB_SCSI_ID_AUTO && d->lun > bus->max_lun) {
        snprintf(err, errlen, "bad scsi device lun: %u", d->lun);
        return -1;
    }
    if (d->id == OB_SCSI_ID_AUTO) {
        unsigned id;

        if (d->lun == OB_SCSI_ID_AUTO) {
            d->lun = 0;
        }
        for (id = 0; id <= bus->max_target && !address_free(bus, id, d->lun, NULL);
             id++) {
        }
        if (id > bus->max_target) {
            snprintf(err, errlen, "no free target");
            return -1;
        }
        d->id = id;
    } else if (d->lun == OB_SCSI_ID_AUTO) {
        unsigned lun;

        for (lun = 0; lun <= bus->max_lun && !address_free(bus, d->id, lun, NULL);
             lun++) {
        }
        if (lun > bus->max_lun) {
            snprintf(err, errlen, "no free lun");
            return -1;
        }
        d->lun = lun;
    } else if (!address_free(bus, d->id, d->lun, &user)) {
        snprintf(err, errlen, "lun already used by '%s'", dev_name(user));
        return -1;
    }
    return 0;
}

int ob_scsi_dev_attach(struct ob_scsi_dev *d, char *err, size_t errlen)
{
    struct ob_ctx *ctx = d->dev.ctx;
    struct ob_scsi_bus *bus;
    struct ob_scsi_dev **p;

    if (d->bus_name) {
        bus = ob_scsi_bus_find(ctx, d->bus_name);
        if (!bus) {
            snprintf(err, errlen, "Bus '%s' not found", d->bus_name);
            return -1;
        }
    } else {
        bus = ctx->scsi_buses;
        if (!bus) {
            snprintf(err, errlen, "No 'SCSI' bus found for device '%s'",
                     d->dev.type ? d->dev.type->name : "?");
            return -1;
        }
    }
    if (assign_address(bus, d, err, errlen) < 0) {
        return -1;
    }
    for (p = &bus->devs; *p; p = &(*p)->next_on_bus) {
    }
    d->next_on_bus = NULL;
    *p = d;
    d->bus = bus;
    return 0;
}

void ob_scsi_dev_detach(struct ob_scsi_dev *d)
{
    struct ob_scsi_dev **p;

    if (!d->bus) {
        return;
    }
    ob_scsi_dev_purge(d);
    for (p = &d->bus->devs; *p; p = &(*p)->next_on_bus) {
        if (*p == d) {
            *p = d->next_on_bus;
            break;
        }
    }
    d->next_on_bus = NULL;
    d->bus = NULL;
}

/* QEMU's scsi_ua_precedence: smaller wins; resets beat everything else. */
static int ua_precedence(struct ob_scsi_sense s)
{
    if (s.key != 0x06) {
        return 0x10000;
    }
    if (s.asc == 0x29 && s.ascq == 0x04) {
        return 1;
    }
    if (s.asc == 0x3f && s.ascq == 0x01) {
        return 2;
    }
    if (s.asc == 0x29 && s.ascq <= 0x07 && s.ascq != 0x05 && s.ascq != 0x06) {
        return s.ascq;
    }
    if (s.asc == 0x2f && s.ascq == 0x01) {
        return 8;
    }
    return s.asc << 8 | s.ascq;
}

void ob_scsi_dev_set_ua(struct ob_scsi_dev *d, struct ob_scsi_sense s)
{
    struct ob_scsi_sense cur = d->has_unit_attention ? d->unit_attention
                                                     : OB_SENSE_NO_SENSE;

    if (s.key != 0x06) {
        return;
    }
    if (ua_precedence(s) < ua_precedence(cur)) {
        d->unit_attention = s;
        d->has_unit_attention = true;
    }
}

/* ---- requests ----------------------------------------------------------- */

static void req_free(struct ob_scsi_req *r)
{
    if (r->handler == OB_SCSI_H_DEVICE && r->dev && r->dev->ops &&
        r->dev->ops->free_req) {
        r->dev->ops->free_req(r);
    }
    free(r->tbuf);
    free(r);
}

struct ob_scsi_req *ob_scsi_req_ref(struct ob_scsi_req *r)
{
    r->refs++;
    return r;
}

void ob_scsi_req_unref(struct ob_scsi_req *r)
{
    if (!r || r->refs == 0) {
        return;
    }
    if (--r->refs == 0) {
        req_free(r);
    }
}

static void fail_at_new(struct ob_scsi_req *r, struct ob_scsi_sense s)
{
    r->handler = OB_SCSI_H_FAIL;
    ob_scsi_build_sense(r->sense, s);
    r->sense_len = OB_SCSI_SENSE_LEN;
}

/* QEMU's routing of a new command (see scsi.h). */
static uint8_t route(const struct ob_scsi_dev *dev, const struct ob_scsi_dev *tdev,
                     uint8_t op)
{
    if (tdev && tdev->has_unit_attention && op != OP_INQUIRY && op != OP_REPORT_LUNS &&
        !(op == OP_REQUEST_SENSE && tdev->sense_is_ua)) {
        return OB_SCSI_H_UA;
    }
    if (!dev || op == OP_REPORT_LUNS || (op == OP_REQUEST_SENSE && tdev->sense_len)) {
        return OB_SCSI_H_TARGET;
    }
    return OB_SCSI_H_DEVICE;
}

/* Parses the CDB of R (its handler chosen); may turn R into a failure. */
static void parse(struct ob_scsi_req *r, unsigned cdb_avail)
{
    unsigned len = ob_scsi_cdb_len(r->cdb[0]);

    if (cdb_avail == 0 || len == 0 || len > cdb_avail) {
        fail_at_new(r, OB_SENSE_INVALID_OPCODE);
        return;
    }
    r->cdb_len = len;
    if (r->handler == OB_SCSI_H_DEVICE && r->dev->ops && r->dev->ops->parse_cdb) {
        if (r->dev->ops->parse_cdb(r->dev, r) < 0) {
            if (r->sense_len == 0) {
                fail_at_new(r, OB_SENSE_INVALID_OPCODE);
            } else {
                r->handler = OB_SCSI_H_FAIL;
            }
            return;
        }
    } else {
        ob_scsi_cdb_xfer(r->cdb, r->target_dev ? r->target_dev->blocksize : 512,
                         &r->xfer_len, &r->mode);
    }
    if (r->xfer_len > INT32_MAX) {
        fail_at_new(r, OB_SENSE_INVALID_FIELD);
    }
}

struct ob_scsi_req *ob_scsi_req_new(struct ob_scsi_bus *bus, unsigned target,
                                    unsigned lun, uint32_t tag, const uint8_t *cdb,
                                    unsigned cdb_avail, void *hba_private)
{
    struct ob_scsi_dev *dev = ob_scsi_bus_device(bus, target, lun);
    struct ob_scsi_dev *tdev = dev ? dev : target_device(bus, target);
    uint8_t op = cdb_avail ? cdb[0] : 0;
    uint8_t handler = route(dev, tdev, op);
    size_t size = sizeof(struct ob_scsi_req);
    struct ob_scsi_req *r;

    if (handler == OB_SCSI_H_DEVICE && dev->ops && dev->ops->req_size > size) {
        size = dev->ops->req_size;
    }
    r = calloc(1, size);
    if (!r) {
        return NULL;
    }
    r->bus = bus;
    r->dev = dev;
    r->target_dev = tdev;
    r->refs = 1;
    r->target = target;
    r->lun = lun;
    r->tag = tag;
    r->hba_private = hba_private;
    r->handler = handler;
    memcpy(r->cdb, cdb, cdb_avail < OB_SCSI_MAX_CDB ? cdb_avail : OB_SCSI_MAX_CDB);
    if (handler == OB_SCSI_H_UA) {
        /* Taken now, so that the next command does not see it again. */
        ob_scsi_build_sense(r->sense, tdev->unit_attention);
        r->sense_len = OB_SCSI_SENSE_LEN;
        tdev->has_unit_attention = false;
        tdev->unit_attention = OB_SENSE_NO_SENSE;
    }
    parse(r, cdb_avail);
    return r;
}

static void enqueue_link(struct ob_scsi_req *r)
{
    struct ob_scsi_bus *bus = r->bus;
    struct ob_scsi_req *t;

    r->prev_q = NULL;
    r->next_q = NULL;
    if (!bus->reqs) {
        bus->reqs = r;
        return;
    }
    for (t = bus->reqs; t->next_q; t = t->next_q) {
    }
    t->next_q = r;
    r->prev_q = t;
}

/* Leaves the bus queue and drops the queue's reference. */
static void dequeue(struct ob_scsi_req *r)
{
    if (!r->enqueued) {
        return;
    }
    if (r->prev_q) {
        r->prev_q->next_q = r->next_q;
    } else {
        r->bus->reqs = r->next_q;
    }
    if (r->next_q) {
        r->next_q->prev_q = r->prev_q;
    }
    r->prev_q = r->next_q = NULL;
    r->enqueued = false;
    ob_scsi_req_unref(r);
}

static int32_t target_start(struct ob_scsi_req *r);

int32_t ob_scsi_req_enqueue(struct ob_scsi_req *r)
{
    int32_t rc = 0;

    if (r->enqueued || r->completed || r->io_canceled) {
        return 0;
    }
    r->enqueued = true;
    ob_scsi_req_ref(r);     /* the queue's */
    enqueue_link(r);
    ob_scsi_req_ref(r);     /* ours, while the handler runs */
    switch (r->handler) {
    case OB_SCSI_H_DEVICE:
        rc = r->dev->ops->start(r);
        break;
    case OB_SCSI_H_TARGET:
        rc = target_start(r);
        break;
    default:
        ob_scsi_req_complete(r, OB_SCSI_CHECK_CONDITION);
        break;
    }
    ob_scsi_req_unref(r);
    return rc;
}

void ob_scsi_req_continue(struct ob_scsi_req *r)
{
    if (r->io_canceled || r->completed) {
        return;
    }
    if (r->handler == OB_SCSI_H_DEVICE) {
        r->dev->ops->continue_req(r);
        return;
    }
    if (r->handler == OB_SCSI_H_TARGET) {
        if (!r->tsent && r->tlen > 0) {
            r->tsent = true;
            ob_scsi_req_data(r, r->tbuf, r->tlen);
        } else {
            ob_scsi_req_complete(r, OB_SCSI_GOOD);
        }
    }
}

uint8_t *ob_scsi_req_buf(struct ob_scsi_req *r)
{
    return r->buf;
}

void ob_scsi_req_data(struct ob_scsi_req *r, uint8_t *buf, uint32_t len)
{
    if (r->io_canceled || r->completed) {
        return;
    }
    r->buf = buf;
    r->buf_len = len;
    r->transferred += len;
    r->bus->ops->transfer_data(r, len);
}

void ob_scsi_req_complete(struct ob_scsi_req *r, uint8_t status)
{
    struct ob_scsi_dev *t = r->target_dev;
    uint64_t residual;

    if (r->completed || r->io_canceled) {
        return;
    }
    r->completed = true;
    r->status = status;
    if (status == OB_SCSI_GOOD) {
        r->sense_len = 0;
    }
    if (t) {
        /* Stored for REQUEST SENSE; anything that ends well clears it. */
        memcpy(t->sense, r->sense, r->sense_len);
        t->sense_len = r->sense_len;
        t->sense_is_ua = r->sense_len && r->handler == OB_SCSI_H_UA;
    }
    residual = r->xfer_len > r->transferred ? r->xfer_len - r->transferred : 0;
    ob_scsi_req_ref(r);
    dequeue(r);
    r->bus->ops->complete(r, residual > UINT32_MAX ? UINT32_MAX : (uint32_t)residual);
    ob_scsi_req_unref(r);
}

void ob_scsi_req_fail(struct ob_scsi_req *r, struct ob_scsi_sense s)
{
    ob_scsi_build_sense(r->sense, s);
    r->sense_len = OB_SCSI_SENSE_LEN;
    ob_scsi_req_complete(r, OB_SCSI_CHECK_CONDITION);
}

void ob_scsi_req_cancel(struct ob_scsi_req *r)
{
    if (!r->enqueued) {
        return;
    }
    ob_scsi_req_ref(r);
    dequeue(r);
    r->io_canceled = true;
    if (r->handler == OB_SCSI_H_DEVICE && r->dev->ops && r->dev->ops->cancel) {
        r->dev->ops->cancel(r);
    }
    if (r->bus->ops->cancelled) {
        r->bus->ops->cancelled(r);
    }
    ob_scsi_req_unref(r);
}

/* Cancels, oldest first, the enqueued requests MATCH selects. */
static void cancel_matching(struct ob_scsi_bus *bus,
                            bool (*match)(const struct ob_scsi_req *r, const void *arg),
                            const void *arg)
{
    bool again = true;

    /* Cancelling runs HBA callbacks that may cancel others: rescan. */
    while (again) {
        struct ob_scsi_req *r;

        again = false;
        for (r = bus->reqs; r; r = r->next_q) {
            if (match(r, arg)) {
                ob_scsi_req_cancel(r);
                again = true;
                break;
            }
        }
    }
}

static bool match_all(const struct ob_scsi_req *r, const void *arg)
{
    (void)r;
    (void)arg;
    return true;
}

static bool match_dev(const struct ob_scsi_req *r, const void *arg)
{
    return r->dev == arg || r->target_dev == arg;
}

static bool match_target(const struct ob_scsi_req *r, const void *arg)
{
    return r->target == *(const unsigned *)arg;
}

void ob_scsi_dev_purge(struct ob_scsi_dev *d)
{
    if (d->bus) {
        cancel_matching(d->bus, match_dev, d);
    }
}

void ob_scsi_bus_cancel_target(struct ob_scsi_bus *bus, unsigned target)
{
    cancel_matching(bus, match_target, &target);
}

void ob_scsi_bus_reset(struct ob_scsi_bus *bus)
{
    struct ob_scsi_dev *d;

    cancel_matching(bus, match_all, NULL);
    for (d = bus->devs; d; d = d->next_on_bus) {
        if (d->ops && d->ops->reset) {
            d->ops->reset(d);
        }
        ob_scsi_dev_set_ua(d, OB_SENSE_RESET);
    }
}

/* ---- the bus-level "target" handler ------------------------------------- */

static uint8_t *target_alloc(struct ob_scsi_req *r, uint32_t len)
{
    free(r->tbuf);
    r->tbuf = calloc(1, len ? len : 1);
    return r->tbuf;
}

/* Peripheral qualifier 3 / type 0x1f: no device at this LUN. */
static bool target_inquiry(struct ob_scsi_req *r)
{
    uint8_t pq = r->lun == 0 ? 0x3f : 0x7f;
    uint8_t *b;

    if (r->cdb[1] & 0x2) {
        return false;               /* CmdDt */
    }
    if (r->cdb[1] & 0x1) {
        if (r->cdb[2] != 0x00 || !(b = target_alloc(r, 5))) {
            return false;           /* only the list of VPD pages */
        }
        b[0] = pq;
        b[3] = 1;
        r->tlen = r->xfer_len < 5 ? (uint32_t)r->xfer_len : 5;
        return true;
    }
    if (r->cdb[2] != 0 || !(b = target_alloc(r, INQUIRY_STD_LEN))) {
        return false;
    }
    r->tlen = r->xfer_len < INQUIRY_STD_LEN ? (uint32_t)r->xfer_len : INQUIRY_STD_LEN;
    b[0] = pq;
    if (r->lun == 0) {
        b[2] = 5;
        b[3] = 0x12;
        b[4] = (uint8_t)(r->tlen >= 5 ? r->tlen - 5 : 0);
        b[7] = 0x10 | (r->bus->tcq ? 0x02 : 0);
        memcpy(b + 8, "QEMU    QEMU TARGET     " QEMU_HW_VERSION, 28);
    }
    return true;
}

static bool target_report_luns(struct ob_scsi_req *r)
{
    const struct ob_scsi_dev *d;
    uint32_t n = 1, len, i = 1;
    uint8_t *b;

    if (r->xfer_len < 16 || r->cdb[2] > 2) {
        return false;
    }
    for (d = r->bus->devs; d; d = d->next_on_bus) {
        n += d->id == r->target && d->lun != 0;
    }
    len = 8 + 8 * n;
    if (!(b = target_alloc(r, len))) {
        return false;
    }
    put_be32(b, len - 8);
    for (d = r->bus->devs; d; d = d->next_on_bus) {
        if (d->id != r->target || d->lun == 0) {
            continue;
        }
        if (d->lun < 256) {
            b[8 + 8 * i + 1] = (uint8_t)d->lun;
        } else {
            b[8 + 8 * i] = (uint8_t)(0x40 | (d->lun >> 8));
            b[8 + 8 * i + 1] = (uint8_t)d->lun;
        }
        i++;
    }
    r->tlen = (uint32_t)(r->xfer_len & ~7ull) < len ? (uint32_t)(r->xfer_len & ~7ull)
                                                    : len;
    if (r->target_dev && r->target_dev->has_unit_attention &&
        r->target_dev->unit_attention.asc == 0x3f &&
        r->target_dev->unit_attention.ascq == 0x0e) {
        r->target_dev->has_unit_attention = false;
    }
    return true;
}

static void target_request_sense(struct ob_scsi_req *r)
{
    struct ob_scsi_dev *t = r->target_dev;
    bool fixed = (r->cdb[1] & 1) == 0;
    uint32_t max = r->xfer_len < OB_SCSI_SENSE_LEN ? (uint32_t)r->xfer_len
                                                   : OB_SCSI_SENSE_LEN;
    uint8_t *b = target_alloc(r, OB_SCSI_SENSE_LEN);
    uint8_t lns[OB_SCSI_SENSE_LEN];

    if (!b) {
        return;
    }
    if (!r->dev) {
        ob_scsi_build_sense(lns, OB_SENSE_LUN_NOT_SUPPORTED);
        r->tlen = ob_scsi_convert_sense(lns, sizeof(lns), b, max, fixed);
        return;
    }
    r->tlen = ob_scsi_convert_sense(t->sense, t->sense_len, b, max, fixed);
    if (t->sense_is_ua) {
        t->sense_len = 0;
        t->sense_is_ua = false;
    }
}

static int32_t target_start(struct ob_scsi_req *r)
{
    uint8_t op = r->cdb[0];

    if (!r->dev && op != OP_INQUIRY && op != OP_REQUEST_SENSE &&
        !(op == OP_REPORT_LUNS && r->lun == 0)) {
        ob_scsi_req_fail(r, OB_SENSE_LUN_NOT_SUPPORTED);
        return 0;
    }
    switch (op) {
    case OP_REPORT_LUNS:
        if (!target_report_luns(r)) {
            ob_scsi_req_fail(r, OB_SENSE_INVALID_FIELD);
            return 0;
        }
        break;
    case OP_INQUIRY:
        if (!target_inquiry(r)) {
            ob_scsi_req_fail(r, OB_SENSE_INVALID_FIELD);
            return 0;
        }
        break;
    case OP_REQUEST_SENSE:
        target_request_sense(r);
        break;
    case OP_TEST_UNIT_READY:
        break;
    default:
        ob_scsi_req_fail(r, OB_SENSE_INVALID_OPCODE);
        return 0;
    }
    if (r->tlen == 0) {
        ob_scsi_req_complete(r, OB_SCSI_GOOD);
        return 0;
    }
    return (int32_t)r->tlen;
}
