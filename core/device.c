/*
 * device.c - device types, properties and instances.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/ctx.h"
#include "outboard/device.h"
#include "outboard/pci.h"
#include "outboard/runstate.h"
#include "outboard/scsi.h"

/* The linker collects every OB_DEVTYPE_REGISTER() entry between these. */
extern const struct ob_devtype *const __start_ob_devtypes[];
extern const struct ob_devtype *const __stop_ob_devtypes[];

/* Keeps the section defined (and the symbols resolvable) with no model. */
static const struct ob_devtype *const ob_devtype_none
    __attribute__((used, section("ob_devtypes"), aligned(sizeof(void *)))) = NULL;

const struct ob_devtype *ob_devtype_find(const char *name)
{
    const struct ob_devtype *const *p;

    for (p = __start_ob_devtypes; p < __stop_ob_devtypes; p++) {
        if (*p && strcmp((*p)->name, name) == 0) {
            return *p;
        }
    }
    return NULL;
}

static int cmp_types(const void *a, const void *b)
{
    const struct ob_devtype *const *x = a, *const *y = b;

    return strcmp((*x)->name, (*y)->name);
}

void ob_devtype_foreach(void (*fn)(const struct ob_devtype *t, void *opaque),
                        void *opaque)
{
    const struct ob_devtype *const *p;
    const struct ob_devtype **v;
    size_t n = 0, i;

    v = calloc((size_t)(__stop_ob_devtypes - __start_ob_devtypes) + 1, sizeof(*v));
    if (!v) {
        return;
    }
    for (p = __start_ob_devtypes; p < __stop_ob_devtypes; p++) {
        if (*p) {
            v[n++] = *p;
        }
    }
    qsort(v, n, sizeof(*v), cmp_types);
    for (i = 0; i < n; i++) {
        fn(v[i], opaque);
    }
    free(v);
}

static const char *const kind_names[] = {
    [OB_PROP_STR] = "str",
    [OB_PROP_BOOL] = "bool",
    [OB_PROP_U8] = "uint8",
    [OB_PROP_U32] = "uint32",
    [OB_PROP_U64] = "uint64",
    [OB_PROP_PCI_DEVFN] = "int32",
    [OB_PROP_U16] = "uint16",
    [OB_PROP_I32] = "int32",
    [OB_PROP_SIZE32] = "size",
    [OB_PROP_ON_OFF_AUTO] = "OnOffAuto",
};

static void print_props(FILE *fp, const struct ob_prop *p)
{
    for (; p && p->name; p++) {
        fprintf(fp, "  %s=<%s>", p->name, kind_names[p->kind]);
        if (p->desc) {
            fprintf(fp, " - %s", p->desc);
        }
        if (p->defval) {
            fprintf(fp, " (default: %s)", p->defval);
        }
        fputc('\n', fp);
    }
}

void ob_devtype_print_help(FILE *fp, const struct ob_devtype *t)
{
    fprintf(fp, "%s options:\n", t->name);
    print_props(fp, t->props);
    print_props(fp, t->bus_props);
}

/* A byte count: a number with an optional B/K/M/G/T suffix (any case). */
static int parse_size(const char *val, uint64_t *out)
{
    static const char suffixes[] = "bkmgt";
    char num[32];
    size_t len = strlen(val);
    const char *sfx;
    uint64_t u;
    unsigned shift;

    if (len == 0 || len >= sizeof(num)) {
        return -1;
    }
    sfx = strchr(suffixes, val[len - 1] | 0x20);
    if ((val[len - 1] >= '0' && val[len - 1] <= '9') ||
        (val[0] == '0' && (val[1] | 0x20) == 'x')) {
        sfx = NULL;     /* a hex number has no suffix */
    }
    memcpy(num, val, len + 1);
    if (sfx) {
        num[--len] = '\0';
    }
    if (ob_parse_u64(num, &u) < 0) {
        return -1;
    }
    shift = sfx ? 10u * (unsigned)(sfx - suffixes) : 0;
    if (shift && u > (UINT64_MAX >> shift)) {
        return -1;
    }
    *out = u << shift;
    return 0;
}

static int parse_i32(const char *val, int32_t *out)
{
    uint64_t u;
    bool neg = val[0] == '-';

    if (ob_parse_u64(val + neg, &u) < 0 || u > (neg ? 2147483648ull : 2147483647ull)) {
        return -1;
    }
    *out = neg ? (int32_t)(-(int64_t)u) : (int32_t)u;
    return 0;
}

static int parse_devfn(const char *val, uint32_t *out)
{
    unsigned slot, fn = 0;
    char tail;

    if (sscanf(val, "%x.%x%c", &slot, &fn, &tail) == 2 ||
        sscanf(val, "%x%c", &slot, &tail) == 1) {
        if (slot < 32 && fn < 8) {
            *out = slot << 3 | fn;
            return 0;
        }
    }
    return -1;
}

int ob_prop_set(void *instance, const struct ob_prop *p, const char *val,
                char *err, size_t errlen)
{
    uint8_t *field = (uint8_t *)instance + p->offset;
    uint64_t u;
    bool b;

    switch (p->kind) {
    case OB_PROP_STR: {
        char *s = strdup(val);
        char **slot = (char **)(void *)field;

        if (!s) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        free(*slot);
        *slot = s;
        return 0;
    }
    case OB_PROP_BOOL:
        if (ob_parse_bool(val, &b) < 0) {
            snprintf(err, errlen, "Parameter '%s' expects 'on' or 'off'", p->name);
            return -1;
        }
        *(bool *)(void *)field = b;
        return 0;
    case OB_PROP_U8:
    case OB_PROP_U32:
    case OB_PROP_U64: {
        uint64_t max = p->kind == OB_PROP_U8 ? UINT8_MAX :
                       p->kind == OB_PROP_U32 ? UINT32_MAX : UINT64_MAX;

        if (ob_parse_u64(val, &u) < 0 || u > max) {
            snprintf(err, errlen, "Parameter '%s' expects %s", p->name,
                     kind_names[p->kind]);
            return -1;
        }
        if (p->kind == OB_PROP_U8) {
            *field = (uint8_t)u;
        } else if (p->kind == OB_PROP_U32) {
            *(uint32_t *)(void *)field = (uint32_t)u;
        } else {
            *(uint64_t *)(void *)field = u;
        }
        return 0;
    }
    case OB_PROP_U16:
        if (ob_parse_u64(val, &u) < 0 || u > UINT16_MAX) {
            snprintf(err, errlen, "Parameter '%s' expects uint16_t", p->name);
            return -1;
        }
        *(uint16_t *)(void *)field = (uint16_t)u;
        return 0;
    case OB_PROP_I32:
        if (parse_i32(val, (int32_t *)(void *)field) < 0) {
            snprintf(err, errlen, "Parameter '%s' expects int32_t", p->name);
            return -1;
        }
        return 0;
    case OB_PROP_SIZE32:
        if (parse_size(val, &u) < 0) {
            snprintf(err, errlen, "Parameter '%s' expects a size", p->name);
            return -1;
        }
        if (u > UINT32_MAX) {
            snprintf(err, errlen, "Property %s doesn't take value %llu (maximum: %u)",
                     p->name, (unsigned long long)u, UINT32_MAX);
            return -1;
        }
        *(uint32_t *)(void *)field = (uint32_t)u;
        return 0;
    case OB_PROP_ON_OFF_AUTO: {
        enum ob_on_off_auto v;

        if (strcmp(val, "auto") == 0) {
            v = OB_AUTO;
        } else if (strcmp(val, "on") == 0) {
            v = OB_ON;
        } else if (strcmp(val, "off") == 0) {
            v = OB_OFF;
        } else {
            snprintf(err, errlen, "Parameter '%s' does not accept value '%s'", p->name, val);
            return -1;
        }
        *(enum ob_on_off_auto *)(void *)field = v;
        return 0;
    }
    case OB_PROP_PCI_DEVFN: {
        uint32_t devfn;

        if (parse_devfn(val, &devfn) < 0) {
            snprintf(err, errlen, "Property '%s' doesn't take value '%s'", p->name, val);
            return -1;
        }
        *(uint32_t *)(void *)field = devfn;
        return 0;
    }
    }
    snprintf(err, errlen, "bad property kind");
    return -1;
}

/* Applies defaults, then the options given, for one property table. */
static int apply_props(void *inst, const struct ob_prop *p, struct ob_opts *o,
                       const char *type, char *err, size_t errlen)
{
    char why[160];

    for (; p && p->name; p++) {
        const char *val = ob_opts_get(o, p->name);

        if (!val) {
            val = p->defval;
        }
        if (val && ob_prop_set(inst, p, val, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s.%s: %s", type, p->name, why);
            return -1;
        }
    }
    return 0;
}

static void free_str_props(void *inst, const struct ob_prop *p)
{
    for (; p && p->name; p++) {
        if (p->kind == OB_PROP_STR) {
            char **slot = (char **)(void *)((uint8_t *)inst + p->offset);

            free(*slot);
            *slot = NULL;
        }
    }
}

static void device_free(struct ob_device *d)
{
    free_str_props(d, d->type->props);
    free_str_props(d, d->type->bus_props);
    free(d->id);
    free(d);
}

int ob_device_create(struct ob_ctx *ctx, struct ob_opts *o,
                     struct ob_device **out, char *err, size_t errlen)
{
    const char *driver = ob_opts_get(o, "driver");
    const char *id = ob_opts_get(o, "id");
    const struct ob_devtype *t;
    struct ob_device *d, **tail;
    const char *unused;

    if (!driver) {
        snprintf(err, errlen, "Parameter 'driver' is missing");
        return -1;
    }
    t = ob_devtype_find(driver);
    if (!t) {
        snprintf(err, errlen, "unknown device type '%s'", driver);
        return -1;
    }
    if (id && ob_device_find(ctx, id)) {
        snprintf(err, errlen, "Duplicate device ID '%s'", id);
        return -1;
    }
    d = calloc(1, t->instance_size);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->type = t;
    d->ctx = ctx;
    if (id && !(d->id = strdup(id))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (apply_props(d, t->props, o, t->name, err, errlen) < 0 ||
        apply_props(d, t->bus_props, o, t->name, err, errlen) < 0) {
        goto fail;
    }
    unused = ob_opts_first_unused(o);
    if (unused) {
        snprintf(err, errlen, "Property '%s.%s' not found", t->name, unused);
        goto fail;
    }
    if (t->bus == OB_BUS_PCI &&
        ob_pci_check_props((struct ob_pci_dev *)d, err, errlen) < 0) {
        goto fail;
    }
    if (t->realize && t->realize(d, err, errlen) < 0) {
        goto fail;
    }
    d->realized = true;
    for (tail = &ctx->devices; *tail; tail = &(*tail)->next) {
    }
    *tail = d;
    ob_runstate_device_added(ctx, d);
    if (out) {
        *out = d;
    }
    return 0;
fail:
    device_free(d);
    return -1;
}

struct ob_device *ob_device_find(struct ob_ctx *ctx, const char *id)
{
    struct ob_device *d;

    for (d = ctx->devices; d; d = d->next) {
        if (d->id && strcmp(d->id, id) == 0) {
            return d;
        }
    }
    return NULL;
}

void ob_device_path(const struct ob_device *dev, char *buf, size_t len)
{
    if (dev->id) {
        snprintf(buf, len, "/machine/peripheral/%s", dev->id);
    } else {
        snprintf(buf, len, "/machine/peripheral-anon/%s", dev->type->name);
    }
}

static void device_unlink(struct ob_device *dev)
{
    struct ob_device **p;

    for (p = &dev->ctx->devices; *p; p = &(*p)->next) {
        if (*p == dev) {
            *p = dev->next;
            break;
        }
    }
    dev->next = NULL;
}

/* The devices on the buses DEV owns, in attachment order (at most MAX). */
static size_t bus_children(struct ob_device *dev, struct ob_device **out, size_t max)
{
    struct ob_scsi_bus *bus;
    struct ob_scsi_dev *sd;
    size_t n = 0;

    for (bus = dev->ctx->scsi_buses; bus; bus = bus->next) {
        if (bus->hba != dev) {
            continue;
        }
        for (sd = bus->devs; sd && n < max; sd = sd->next_on_bus) {
            out[n++] = &sd->dev;
        }
    }
    return n;
}

/* A SCSI device's unrealize detaches it from its bus; should a model not
 * do so, the bus must not keep a pointer to freed memory. */
static void scsi_unlink(struct ob_scsi_dev *sd)
{
    struct ob_scsi_dev **p;

    if (!sd->bus) {
        return;
    }
    for (p = &sd->bus->devs; *p; p = &(*p)->next_on_bus) {
        if (*p == sd) {
            *p = sd->next_on_bus;
            break;
        }
    }
    sd->next_on_bus = NULL;
    sd->bus = NULL;
}

void ob_device_destroy(struct ob_device *dev)
{
    struct ob_ctx *ctx = dev->ctx;
    struct ob_device *kids[64];
    struct ob_event ev = { .kind = OB_EV_DEVICE_DELETED };
    char path[256];
    size_t n, i;

    /* A SCSI controller has at most 8 x 8 disks; bounded in any case. */
    while ((n = bus_children(dev, kids, sizeof(kids) / sizeof(kids[0]))) > 0) {
        for (i = 0; i < n; i++) {
            ob_device_destroy(kids[i]);
        }
    }
    device_unlink(dev);
    if (dev->realized && dev->type->unrealize) {
        dev->type->unrealize(dev);
    }
    if (dev->type->bus == OB_BUS_SCSI) {
        scsi_unlink((struct ob_scsi_dev *)dev);
    }
    ob_device_path(dev, path, sizeof(path));
    ev.u.dev.id = dev->id;
    ev.u.dev.path = path;
    ob_event_emit(ctx, &ev);
    device_free(dev);
}

void ob_device_destroy_all(struct ob_ctx *ctx)
{
    while (ctx->devices) {
        struct ob_device *d = ctx->devices;

        ctx->devices = d->next;
        if (d->realized && d->type->unrealize) {
            d->type->unrealize(d);
        }
        device_free(d);
    }
}
