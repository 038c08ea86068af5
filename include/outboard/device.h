/*
 * device.h - device types, their properties, and device instances.
 *
 * A device model is a `struct ob_devtype` registered with
 * OB_DEVTYPE_REGISTER() in its own file under hw/: the registration lands in
 * a linker section, so adding a model means adding files, nothing else.
 * Properties are a table of (name, kind, offset into the instance struct),
 * parsed from -device options and listed by `-device TYPE,help`.
 */
#ifndef OUTBOARD_DEVICE_H
#define OUTBOARD_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "outboard/opts.h"

struct ob_ctx;
struct ob_device;

enum ob_prop_kind {
    OB_PROP_STR,
    OB_PROP_BOOL,
    OB_PROP_U8,
    OB_PROP_U32,
    OB_PROP_U64,
    OB_PROP_PCI_DEVFN,   /* "slot[.fn]" in hex, stored as u32 devfn (0 if not given) */
    OB_PROP_U16,
    OB_PROP_I32,         /* signed, stored as int32_t */
    OB_PROP_SIZE32,      /* bytes with an optional K/M/G/T suffix, stored as u32 */
    OB_PROP_ON_OFF_AUTO, /* stored as enum ob_on_off_auto */
};

enum ob_on_off_auto {
    OB_AUTO,
    OB_ON,
    OB_OFF,
};

struct ob_prop {
    const char *name;
    enum ob_prop_kind kind;
    size_t offset;           /* into the instance struct */
    const char *defval;      /* NULL: zero / NULL string */
    const char *desc;
};
#define OB_PROP_END { NULL, 0, 0, NULL, NULL }

enum ob_bus_kind {
    OB_BUS_PCI,
    OB_BUS_SCSI,
};

/* One register of a model-specific dump (see ob_devtype.dump_regs). */
typedef void ob_dump_fn(void *opaque, const char *name, uint64_t value,
                        unsigned width);

struct ob_devtype {
    const char *name;
    const char *desc;
    enum ob_bus_kind bus;
    size_t instance_size;
    const struct ob_prop *props;      /* the model's own */
    const struct ob_prop *bus_props;  /* common to the bus (PCI: addr, ...) */
    /* Brings the device up; ERR gets one line on failure. */
    int (*realize)(struct ob_device *dev, char *err, size_t errlen);
    void (*unrealize)(struct ob_device *dev);
    const void *bus_ops;              /* e.g. struct ob_pci_ops */
    /*
     * Optional, for the run state (runstate.h). quiesce: from now on no DMA,
     * no new I/O submitted and no interrupt raised (I/O in flight may
     * complete; register accesses are still served); work that would do
     * any of these waits. resume: do the work that waited.
     */
    void (*quiesce)(struct ob_device *dev);
    void (*resume)(struct ob_device *dev);
    /* Optional: reports the model's registers, one FN call each (WIDTH in
     * bytes), for the management interface's register dump. */
    void (*dump_regs)(struct ob_device *dev, ob_dump_fn *fn, void *opaque);
};

#define OB_DEVTYPE_REGISTER(t)                                             \
    static const struct ob_devtype *const ob_devtype_entry_##t             \
        __attribute__((used, section("ob_devtypes"),                       \
                       aligned(sizeof(void *)))) = &(t)

struct ob_device {
    const struct ob_devtype *type;
    struct ob_ctx *ctx;
    char *id;                 /* may be NULL, as with QEMU */
    struct ob_device *next;   /* ctx->devices */
    bool realized;
    bool has_chan;            /* served by an x-remote-object */
    bool quiesced;            /* quiesce called, resume not yet */
};

const struct ob_devtype *ob_devtype_find(const char *name);
/* Calls FN for every registered type, sorted by name. */
void ob_devtype_foreach(void (*fn)(const struct ob_devtype *t, void *opaque),
                        void *opaque);
void ob_devtype_print_help(FILE *fp, const struct ob_devtype *t);

/*
 * Creates, configures and realizes a device from -device options and adds it
 * to CTX. Errors: -1 with one line in ERR, e.g. "unknown device type 'foo'".
 */
int ob_device_create(struct ob_ctx *ctx, struct ob_opts *o,
                     struct ob_device **out, char *err, size_t errlen);
struct ob_device *ob_device_find(struct ob_ctx *ctx, const char *id);
/*
 * Removes one device (hot unplug): first the devices on the buses it owns
 * (a SCSI controller's disks), then itself: unlinked from CTX, unrealized
 * (a SCSI device detaches from its bus there), freed. A DEVICE_DELETED
 * event is emitted for each device removed.
 */
void ob_device_destroy(struct ob_device *dev);
/* The QOM-style path QEMU reports for DEV ("/machine/peripheral/ID"). */
void ob_device_path(const struct ob_device *dev, char *buf, size_t len);
/* Unrealizes and frees every device of CTX (at exit: no events). */
void ob_device_destroy_all(struct ob_ctx *ctx);

/* Applies one property value; exposed for the unit tests. */
int ob_prop_set(void *instance, const struct ob_prop *p, const char *val,
                char *err, size_t errlen);

#endif
