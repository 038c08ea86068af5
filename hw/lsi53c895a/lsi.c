/*
 * lsi.c - the LSI53C895A PCI SCSI host bus adapter (and its sibling
 * LSI53C810): PCI identity and BARs, the glue from BAR accesses to the
 * register file and the SCRIPTS RAM, interrupts, resets, and the SCSI bus
 * the scsi-hd devices attach to ("<id>.0").
 *
 *   BAR0  I/O     256 B   registers
 *   BAR1  memory  1 KiB   registers, mirrored every 256 bytes
 *   BAR2  memory  8 KiB   SCRIPTS RAM
 */
#include <stddef.h>
#include <string.h>

#include <event2/event.h>

#include "outboard/ctx.h"
#include "lsi.h"

#define LSI_VENDOR_ID       0x1000     /* LSI Logic / Symbios */
#define LSI_DEVICE_ID_895A  0x0012
#define LSI_DEVICE_ID_810   0x0001
#define LSI_CLASS_SCSI      0x010000   /* mass storage, SCSI */
#define LSI_SUBSYSTEM_ID    0x1000

/* ---- interrupts --------------------------------------------------------- */

/*
 * ISTAT.DIP/SIP follow DSTAT/SIST regardless of the masks; the INTA level
 * is the masked sources plus an interrupt-on-the-fly. With reselection
 * interrupts enabled, an idle bus and no interrupt pending, a target with
 * something to say reselects now.
 */
void lsi_update_irq(struct lsi_state *s)
{
    bool level = false;

    if (s->dstat) {
        level = level || (s->dstat & s->dien);
        s->istat0 |= LSI_ISTAT0_DIP;
    } else {
        s->istat0 &= (uint8_t)~LSI_ISTAT0_DIP;
    }
    if (s->sist0 || s->sist1) {
        level = level || (s->sist0 & s->sien0) || (s->sist1 & s->sien1);
        s->istat0 |= LSI_ISTAT0_SIP;
    } else {
        s->istat0 &= (uint8_t)~LSI_ISTAT0_SIP;
    }
    if (s->istat0 & LSI_ISTAT0_INTF) {
        level = true;
    }
    /* while paused the line may drop but is not raised (resume does it) */
    if (level != s->pci.intx_level && !(level && s->paused)) {
        ob_logc(lsi_log(s), OB_LOGC_IRQ, "%s: INTA %s (DSTAT %#04x SIST0 %#04x SIST1 %#04x)",
                lsi_name(s), level ? "raised" : "lowered", s->dstat, s->sist0, s->sist1);
        ob_pci_set_irq(&s->pci, level);
    }
    if (!s->current && !level && lsi_irq_on_rsl(s) && !(s->scntl1 & LSI_SCNTL1_CON)) {
        lsi_reselect_pending(s);
    }
}

/* ---- resets ------------------------------------------------------------- */

/* SCSI bus reset: every request is gone, every device reports a reset,
 * and the bus is free. The HBA registers are kept. */
void lsi_scsi_bus_reset(struct lsi_state *s)
{
    lsi_cancel_all(s);
    ob_scsi_bus_reset(&s->bus);
    lsi_disconnect(s);
    s->msg_len = 0;
    s->socl &= (uint8_t)~LSI_SOCL_ATN;
    s->command_complete = 0;
}

/* Everything but the SCRIPTS RAM to its power-on state. */
static void lsi_state_reset(struct lsi_state *s)
{
    lsi_regs_reset(s);
    memset(s->scratch, 0, sizeof(s->scratch));
    s->carry = 0;
    s->status = 0;
    s->msg_action = LSI_MSG_ACTION_COMMAND;
    s->msg_len = 0;
    memset(s->msg, 0, sizeof(s->msg));
    s->waiting = LSI_NOWAIT;
    s->select_tag = 0;
    s->select_attr = LSI_TASK_UNTAGGED;
    s->current_lun = 0;
    s->command_complete = 0;
    s->reg_dma_depth = 0;
}

/*
 * Chip reset (ISTAT.SRST, DEVICE_RESET): the requests are cancelled, the
 * SCSI devices are reset (unit attention) and the registers go back to
 * their reset values; the SCRIPTS RAM survives.
 */
void lsi_chip_reset(struct lsi_state *s)
{
    ob_logc(lsi_log(s), OB_LOGC_DEVICE, "%s: chip reset", lsi_name(s));
    lsi_cancel_all(s);
    ob_scsi_bus_reset(&s->bus);
    lsi_state_reset(s);
    s->unblock_pending = false;
    lsi_update_irq(s);
}

static void lsi_pci_reset(struct ob_pci_dev *pd)
{
    lsi_chip_reset(lsi_from_pci(pd));
}

/* ---- BAR accesses ------------------------------------------------------- */

/*
 * The registers take byte accesses only: a wider access is a sequence of
 * byte accesses in ascending address order, each with its side effects
 * (as QEMU's memory core splits them for this device).
 */
static uint64_t lsi_bar_read(struct ob_pci_dev *pd, unsigned bar, uint64_t off,
                             unsigned size)
{
    struct lsi_state *s = lsi_from_pci(pd);
    uint64_t v = 0;
    unsigned i;

    if (bar == 2) {
        for (i = 0; i < size && off + i < LSI_RAM_SIZE; i++) {
            v |= (uint64_t)s->script_ram[off + i] << (8 * i);
        }
        return v;
    }
    for (i = 0; i < size; i++) {
        v |= (uint64_t)lsi_reg_read(s, (unsigned)((off + i) & (LSI_IO_SIZE - 1))) << (8 * i);
    }
    return v;
}

static void lsi_bar_write(struct ob_pci_dev *pd, unsigned bar, uint64_t off,
                          uint64_t val, unsigned size)
{
    struct lsi_state *s = lsi_from_pci(pd);
    unsigned i;

    if (bar == 2) {
        for (i = 0; i < size && off + i < LSI_RAM_SIZE; i++) {
            s->script_ram[off + i] = (uint8_t)(val >> (8 * i));
        }
        return;
    }
    for (i = 0; i < size; i++) {
        lsi_reg_write(s, (unsigned)((off + i) & (LSI_IO_SIZE - 1)), (uint8_t)(val >> (8 * i)));
    }
}

/* ---- the device --------------------------------------------------------- */

static void lsi_run_cb(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    lsi_engine_run(opaque);
}

/* What QEMU sets up beyond the PCI core's defaults. */
static void lsi_config_init(struct ob_pci_dev *pd)
{
    pd->cfg[OB_PCI_LATENCY_TIMER] = 0xff;
    /* QEMU writes both subsystem IDs once one is set: the vendor stays 0 */
    pd->cfg[OB_PCI_SUBSYSTEM_VENDOR] = 0;
    pd->cfg[OB_PCI_SUBSYSTEM_VENDOR + 1] = 0;
    /* device-specific config space: all writable, as QEMU's default */
    memset(pd->wmask + 0x40, 0xff, OB_PCI_CFG_SIZE - 0x40);
}

static int lsi_realize(struct ob_device *d, char *err, size_t errlen)
{
    struct lsi_state *s = (struct lsi_state *)d;

    ob_pci_init(&s->pci);
    lsi_config_init(&s->pci);
    if (ob_pci_register_bar(&s->pci, 0, LSI_IO_SIZE, true) < 0 ||
        ob_pci_register_bar(&s->pci, 1, LSI_MMIO_SIZE, false) < 0 ||
        ob_pci_register_bar(&s->pci, 2, LSI_RAM_SIZE, false) < 0) {
        snprintf(err, errlen, "%s: cannot register its BARs", d->type->name);
        goto fail_pci;
    }
    s->run_ev = evtimer_new(d->ctx->base, lsi_run_cb, s);
    if (!s->run_ev) {
        snprintf(err, errlen, "%s: out of memory", d->type->name);
        goto fail_pci;
    }
    if (ob_scsi_bus_init(&s->bus, d, &lsi_scsi_bus_ops, LSI_MAX_TARGET, LSI_MAX_LUN,
                         err, errlen) < 0) {
        goto fail_ev;
    }
    lsi_state_reset(s);
    lsi_update_irq(s);
    return 0;
fail_ev:
    event_free(s->run_ev);
    s->run_ev = NULL;
fail_pci:
    ob_pci_fini(&s->pci);
    return -1;
}

static void lsi_unrealize(struct ob_device *d)
{
    struct lsi_state *s = (struct lsi_state *)d;

    lsi_cancel_all(s);
    ob_scsi_bus_fini(&s->bus);
    event_free(s->run_ev);
    s->run_ev = NULL;
    ob_pci_fini(&s->pci);
}

/* ---- run state ---------------------------------------------------------- */

/*
 * Stopped VM: SCRIPTS do not run (so no DMA and no new request reaches a
 * disk; the disk I/O in flight completes and waits in the request), and
 * INTA is not raised. Register and SCRIPTS RAM accesses are still served.
 */
static void lsi_quiesce(struct ob_device *d)
{
    struct lsi_state *s = (struct lsi_state *)d;

    s->paused = true;
    if (s->run_ev && evtimer_pending(s->run_ev, NULL)) {
        evtimer_del(s->run_ev);
        s->run_deferred = true;
    }
}

static void lsi_resume_vm(struct ob_device *d)
{
    struct lsi_state *s = (struct lsi_state *)d;

    s->paused = false;
    if (s->run_deferred) {
        s->run_deferred = false;
        lsi_schedule(s);
    }
    lsi_update_irq(s);
}

static void lsi_dump_regs(struct ob_device *d, ob_dump_fn *fn, void *opaque)
{
    lsi_regs_dump((struct lsi_state *)d, fn, opaque);
}

/* The two chips differ only in their name and PCI device ID. */
#define LSI_PCI_OPS(devid) {                                               \
    .vendor_id = LSI_VENDOR_ID,                                            \
    .device_id = (devid),                                                  \
    .revision = 0x00,                                                      \
    .class_code = LSI_CLASS_SCSI,                                          \
    .subsystem_id = LSI_SUBSYSTEM_ID,                                      \
    .bar_read = lsi_bar_read,                                              \
    .bar_write = lsi_bar_write,                                            \
    .reset = lsi_pci_reset,                                                \
}

static const struct ob_pci_ops lsi53c895a_pci_ops = LSI_PCI_OPS(LSI_DEVICE_ID_895A);
static const struct ob_pci_ops lsi53c810_pci_ops = LSI_PCI_OPS(LSI_DEVICE_ID_810);

static const struct ob_prop lsi_props[] = {
    OB_PROP_END,
};

#define LSI_DEVTYPE(type_name, description, ops) {                         \
    .name = (type_name),                                                   \
    .desc = (description),                                                 \
    .bus = OB_BUS_PCI,                                                     \
    .instance_size = sizeof(struct lsi_state),                             \
    .props = lsi_props,                                                    \
    .bus_props = ob_pci_bus_props,                                         \
    .realize = lsi_realize,                                                \
    .unrealize = lsi_unrealize,                                            \
    .bus_ops = (ops),                                                      \
    .quiesce = lsi_quiesce,                                                \
    .resume = lsi_resume_vm,                                               \
    .dump_regs = lsi_dump_regs,                                            \
}

static const struct ob_devtype lsi53c895a_type =
    LSI_DEVTYPE("lsi53c895a", "LSI53C895A SCSI Host Bus Adapter", &lsi53c895a_pci_ops);
OB_DEVTYPE_REGISTER(lsi53c895a_type);

static const struct ob_devtype lsi53c810_type =
    LSI_DEVTYPE("lsi53c810",
                "LSI53C810 SCSI Host Bus Adapter (the LSI53C895A model, device ID 0x0001)",
                &lsi53c810_pci_ops);
OB_DEVTYPE_REGISTER(lsi53c810_type);
