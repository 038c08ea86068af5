/*
 * edu.c - QEMU's educational PCI device (1234:11e8): identification,
 * liveness, factorial, interrupt raise/ack and DMA between guest RAM and a
 * 4 KiB buffer. Work that QEMU does on a thread or a timer (factorial, DMA)
 * completes here on the loop, right after the access that started it.
 */
#include <stddef.h>
#include <string.h>

#include <event2/event.h>

#include "outboard/ctx.h"
#include "outboard/pci.h"

#define EDU_BAR_SIZE        (1u << 20)
#define EDU_ID              0x010000edu

#define EDU_REG_ID          0x00
#define EDU_REG_LIVENESS    0x04
#define EDU_REG_FACT        0x08
#define EDU_REG_STATUS      0x20
#define EDU_REG_IRQ_STATUS  0x24
#define EDU_REG_IRQ_RAISE   0x60
#define EDU_REG_IRQ_ACK     0x64
#define EDU_REG_DMA_SRC     0x80
#define EDU_REG_DMA_DST     0x88
#define EDU_REG_DMA_CNT     0x90
#define EDU_REG_DMA_CMD     0x98

#define EDU_STATUS_COMPUTING 0x01u
#define EDU_STATUS_IRQFACT   0x80u

#define EDU_DMA_START       0x1u
#define EDU_DMA_TO_RAM      0x2u   /* direction bit: buffer -> RAM */
#define EDU_DMA_IRQ         0x4u

#define EDU_IRQ_FACT        0x001u
#define EDU_IRQ_DMA         0x100u

#define EDU_BUF_BASE        0x40000u
#define EDU_BUF_SIZE        4096u

struct edu {
    struct ob_pci_dev pci;
    /* properties */
    uint64_t dma_mask;
    /* registers */
    uint32_t liveness;      /* last value written; reads return its complement */
    uint32_t fact;
    uint32_t status;
    uint32_t irq_status;
    uint64_t dma_src;
    uint64_t dma_dst;
    uint64_t dma_cnt;
    uint64_t dma_cmd;
    uint8_t dma_buf[EDU_BUF_SIZE];
    /* deferred completions, run on the loop */
    struct event *fact_ev;
    struct event *dma_ev;
    /* stopped VM (runstate.h): completions and interrupts wait for cont */
    bool paused;
    bool fact_waiting;
    bool dma_waiting;
};

static struct edu *to_edu(struct ob_pci_dev *pd)
{
    return (struct edu *)pd;
}

static const struct ob_log *edu_log(struct edu *e)
{
    return &e->pci.dev.ctx->log;
}

/* While paused the line is not raised (resume raises it); lowering is
 * never held back: the guest may acknowledge while the remote is stopped. */
static void edu_raise(struct edu *e, uint32_t bits)
{
    e->irq_status |= bits;
    if (e->irq_status && !e->paused) {
        ob_pci_set_irq(&e->pci, true);
    }
}

/* Schedules a deferred completion, or keeps it for resume while paused. */
static void edu_kick(struct edu *e, struct event *ev, bool *waiting)
{
    if (e->paused) {
        *waiting = true;
        return;
    }
    event_active(ev, EV_TIMEOUT, 0);
}

static void edu_lower(struct edu *e, uint32_t bits)
{
    e->irq_status &= ~bits;
    if (!e->irq_status) {
        ob_pci_set_irq(&e->pci, false);
    }
}

static void edu_fact_done(evutil_socket_t fd, short what, void *opaque)
{
    struct edu *e = opaque;
    uint32_t n = e->fact, r = 1;

    (void)fd;
    (void)what;
    /* 34! and every larger factorial is a multiple of 2^32: 0 when wrapped.
     * Stopping there keeps a huge N from stalling the loop. */
    if (n >= 34) {
        r = 0;
        n = 0;
    }
    while (n > 0) {
        r *= n--;
    }
    e->fact = r;
    e->status &= ~EDU_STATUS_COMPUTING;
    if (e->status & EDU_STATUS_IRQFACT) {
        edu_raise(e, EDU_IRQ_FACT);
    }
}

/* Whether [addr, addr+cnt) lies inside the device buffer. */
static bool edu_buf_range_ok(uint64_t addr, uint64_t cnt)
{
    return addr >= EDU_BUF_BASE && cnt <= EDU_BUF_SIZE &&
           addr - EDU_BUF_BASE <= EDU_BUF_SIZE - cnt;
}

static void edu_dma_done(evutil_socket_t fd, short what, void *opaque)
{
    struct edu *e = opaque;
    bool to_ram = e->dma_cmd & EDU_DMA_TO_RAM;
    uint64_t dev = to_ram ? e->dma_src : e->dma_dst;
    uint64_t ram = (to_ram ? e->dma_dst : e->dma_src) & e->dma_mask;
    uint8_t *buf = e->dma_buf + (dev - EDU_BUF_BASE);
    int rc;

    (void)fd;
    (void)what;
    if (to_ram) {
        rc = ob_pci_dma_write(&e->pci, ram, buf, e->dma_cnt);
    } else {
        rc = ob_pci_dma_read(&e->pci, ram, buf, e->dma_cnt);
    }
    if (rc < 0) {
        ob_logc(edu_log(e), OB_LOGC_GUEST_ERROR,
                "%s: DMA %s guest address %#llx (+%llu) failed: not guest RAM",
                ob_pci_name(&e->pci), to_ram ? "to" : "from",
                (unsigned long long)ram, (unsigned long long)e->dma_cnt);
    }
    e->dma_cmd &= ~(uint64_t)EDU_DMA_START;
    if (e->dma_cmd & EDU_DMA_IRQ) {
        edu_raise(e, EDU_IRQ_DMA);
    }
}

static void edu_dma_start(struct edu *e, uint64_t cmd)
{
    bool to_ram = cmd & EDU_DMA_TO_RAM;
    uint64_t dev = to_ram ? e->dma_src : e->dma_dst;

    if (!edu_buf_range_ok(dev, e->dma_cnt)) {
        ob_logc(edu_log(e), OB_LOGC_GUEST_ERROR,
                "%s: DMA device range [%#llx, +%#llx) outside the buffer "
                "[%#x, +%#x): command ignored", ob_pci_name(&e->pci),
                (unsigned long long)dev, (unsigned long long)e->dma_cnt,
                EDU_BUF_BASE, EDU_BUF_SIZE);
        return;
    }
    e->dma_cmd = cmd;
    edu_kick(e, e->dma_ev, &e->dma_waiting);
}

static uint64_t edu_bar_read(struct ob_pci_dev *pd, unsigned bar, uint64_t off,
                             unsigned size)
{
    struct edu *e = to_edu(pd);

    (void)bar;
    if ((off < 0x80 && size != 4) || (off >= 0x80 && size != 4 && size != 8)) {
        return UINT64_MAX;
    }
    switch (off) {
    case EDU_REG_ID:         return EDU_ID;
    case EDU_REG_LIVENESS:   return (uint32_t)~e->liveness;
    case EDU_REG_FACT:       return e->fact;
    case EDU_REG_STATUS:     return e->status;
    case EDU_REG_IRQ_STATUS: return e->irq_status;
    case EDU_REG_DMA_SRC:    return e->dma_src;
    case EDU_REG_DMA_DST:    return e->dma_dst;
    case EDU_REG_DMA_CNT:    return e->dma_cnt;
    case EDU_REG_DMA_CMD:    return e->dma_cmd;
    default:                 return UINT64_MAX;
    }
}

/* DMA registers keep their value while a transfer runs. */
static void edu_dma_reg_write(struct edu *e, uint64_t *reg, uint64_t val)
{
    if (e->dma_cmd & EDU_DMA_START) {
        return;
    }
    *reg = val;
}

static void edu_bar_write(struct ob_pci_dev *pd, unsigned bar, uint64_t off,
                          uint64_t val, unsigned size)
{
    struct edu *e = to_edu(pd);

    (void)bar;
    if ((off < 0x80 && size != 4) || (off >= 0x80 && size != 4 && size != 8)) {
        ob_logc(edu_log(e), OB_LOGC_GUEST_ERROR, "%s: %u-byte write at %#llx ignored",
                ob_pci_name(pd), size, (unsigned long long)off);
        return;
    }
    switch (off) {
    case EDU_REG_LIVENESS:
        e->liveness = (uint32_t)val;
        break;
    case EDU_REG_FACT:
        if (e->status & EDU_STATUS_COMPUTING) {
            break;
        }
        e->status |= EDU_STATUS_COMPUTING;
        e->fact = (uint32_t)val;
        edu_kick(e, e->fact_ev, &e->fact_waiting);
        break;
    case EDU_REG_STATUS:
        e->status = (e->status & ~EDU_STATUS_IRQFACT) |
                    ((uint32_t)val & EDU_STATUS_IRQFACT);
        break;
    case EDU_REG_IRQ_RAISE:
        edu_raise(e, (uint32_t)val);
        break;
    case EDU_REG_IRQ_ACK:
        edu_lower(e, (uint32_t)val);
        break;
    case EDU_REG_DMA_SRC:
        edu_dma_reg_write(e, &e->dma_src, val);
        break;
    case EDU_REG_DMA_DST:
        edu_dma_reg_write(e, &e->dma_dst, val);
        break;
    case EDU_REG_DMA_CNT:
        edu_dma_reg_write(e, &e->dma_cnt, val);
        break;
    case EDU_REG_DMA_CMD:
        if ((val & EDU_DMA_START) && !(e->dma_cmd & EDU_DMA_START)) {
            edu_dma_start(e, val);
        }
        break;
    default:
        ob_logc(edu_log(e), OB_LOGC_GUEST_ERROR, "%s: write to unknown register %#llx",
                ob_pci_name(pd), (unsigned long long)off);
        break;
    }
}

static void edu_reset(struct ob_pci_dev *pd)
{
    struct edu *e = to_edu(pd);

    event_del(e->fact_ev);
    event_del(e->dma_ev);
    e->fact_waiting = e->dma_waiting = false;
    e->liveness = 0;
    e->fact = 0;
    e->status = 0;
    e->dma_src = e->dma_dst = e->dma_cnt = e->dma_cmd = 0;
    memset(e->dma_buf, 0, sizeof(e->dma_buf));
    edu_lower(e, UINT32_MAX);
}

/* stop: a completion already scheduled waits for cont (no DMA, no IRQ). */
static void edu_quiesce(struct ob_device *d)
{
    struct edu *e = (struct edu *)d;

    e->paused = true;
    if (event_pending(e->fact_ev, EV_TIMEOUT, NULL)) {
        event_del(e->fact_ev);
        e->fact_waiting = true;
    }
    if (event_pending(e->dma_ev, EV_TIMEOUT, NULL)) {
        event_del(e->dma_ev);
        e->dma_waiting = true;
    }
}

static void edu_resume(struct ob_device *d)
{
    struct edu *e = (struct edu *)d;

    e->paused = false;
    if (e->fact_waiting) {
        e->fact_waiting = false;
        event_active(e->fact_ev, EV_TIMEOUT, 0);
    }
    if (e->dma_waiting) {
        e->dma_waiting = false;
        event_active(e->dma_ev, EV_TIMEOUT, 0);
    }
    if (e->irq_status) {
        ob_pci_set_irq(&e->pci, true);
    }
}

static void edu_dump_regs(struct ob_device *d, ob_dump_fn *fn, void *opaque)
{
    struct edu *e = (struct edu *)d;

    fn(opaque, "identification", EDU_ID, 4);
    fn(opaque, "liveness", (uint32_t)~e->liveness, 4);
    fn(opaque, "factorial", e->fact, 4);
    fn(opaque, "status", e->status, 4);
    fn(opaque, "irq_status", e->irq_status, 4);
    fn(opaque, "dma_src", e->dma_src, 8);
    fn(opaque, "dma_dst", e->dma_dst, 8);
    fn(opaque, "dma_cnt", e->dma_cnt, 8);
    fn(opaque, "dma_cmd", e->dma_cmd, 8);
}

static int edu_realize(struct ob_device *d, char *err, size_t errlen)
{
    struct edu *e = (struct edu *)d;
    struct event_base *base = d->ctx->base;

    ob_pci_init(&e->pci);
    if (ob_pci_register_bar(&e->pci, 0, EDU_BAR_SIZE, false) < 0) {
        snprintf(err, errlen, "edu: cannot register BAR0");
        return -1;
    }
    e->fact_ev = event_new(base, -1, 0, edu_fact_done, e);
    e->dma_ev = event_new(base, -1, 0, edu_dma_done, e);
    if (!e->fact_ev || !e->dma_ev) {
        snprintf(err, errlen, "edu: out of memory");
        goto fail;
    }
    return 0;
fail:
    if (e->fact_ev) {
        event_free(e->fact_ev);
    }
    if (e->dma_ev) {
        event_free(e->dma_ev);
    }
    ob_pci_fini(&e->pci);
    return -1;
}

static void edu_unrealize(struct ob_device *d)
{
    struct edu *e = (struct edu *)d;

    event_free(e->fact_ev);
    event_free(e->dma_ev);
    ob_pci_fini(&e->pci);
}

static const struct ob_pci_ops edu_pci_ops = {
    .vendor_id = 0x1234,
    .device_id = 0x11e8,
    .revision = 0x10,
    .class_code = 0x00ff00,       /* "other unclassified" */
    .bar_read = edu_bar_read,
    .bar_write = edu_bar_write,
    .reset = edu_reset,
};

static const struct ob_prop edu_props[] = {
    { "dma_mask", OB_PROP_U64, offsetof(struct edu, dma_mask), "0xfffffff",
      "DMA address mask applied to guest addresses" },
    OB_PROP_END,
};

static const struct ob_devtype edu_type = {
    .name = "edu",
    .desc = "QEMU's educational PCI device",
    .bus = OB_BUS_PCI,
    .instance_size = sizeof(struct edu),
    .props = edu_props,
    .bus_props = ob_pci_bus_props,
    .realize = edu_realize,
    .unrealize = edu_unrealize,
    .bus_ops = &edu_pci_ops,
    .quiesce = edu_quiesce,
    .resume = edu_resume,
    .dump_regs = edu_dump_regs,
};
OB_DEVTYPE_REGISTER(edu_type);
