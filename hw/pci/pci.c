/*
 * pci.c - the PCI function core: standard config header, BAR sizing and
 * decoding windows, INTx, bus-mastered DMA.
 */
#include <stddef.h>
#include <string.h>

#include "outboard/ctx.h"
#include "outboard/pci.h"

/* QEMU's defaults for a device that does not set its own subsystem IDs. */
#define PCI_SUBVENDOR_DEFAULT 0x1af4
#define PCI_SUBDEVICE_DEFAULT 0x1100

const struct ob_prop ob_pci_bus_props[] = {
    { "addr", OB_PROP_PCI_DEVFN, offsetof(struct ob_pci_dev, devfn), NULL,
      "slot and function on the remote's bus (informative: the proxy's own addr decides)" },
    { "multifunction", OB_PROP_BOOL, offsetof(struct ob_pci_dev, multifunction), "off",
      "set the multifunction bit of the header type" },
    { "rombar", OB_PROP_U32, offsetof(struct ob_pci_dev, rombar), "1",
      "accepted; there is no option ROM, so no ROM BAR either way" },
    { "romfile", OB_PROP_STR, offsetof(struct ob_pci_dev, romfile), NULL,
      "only empty (no ROM) is accepted: outboard serves no option ROM" },
    { "romsize", OB_PROP_U32, offsetof(struct ob_pci_dev, romsize), "4294967295",
      "a power of 2 (checked, otherwise unused)" },
    { "acpi-index", OB_PROP_U32, offsetof(struct ob_pci_dev, acpi_index), "0",
      "stored only: ACPI tables are the VM's" },
    { "failover_pair_id", OB_PROP_STR, offsetof(struct ob_pci_dev, failover_pair_id),
      NULL, "refused as QEMU refuses it for a device that is not an Ethernet one" },
    { "x-pcie-extcap-init", OB_PROP_BOOL, offsetof(struct ob_pci_dev, x_pcie_extcap_init),
      "on", "stored only: no PCI Express capability here" },
    { "x-pcie-lnksta-dllla", OB_PROP_BOOL,
      offsetof(struct ob_pci_dev, x_pcie_lnksta_dllla), "on",
      "stored only: no PCI Express capability here" },
    OB_PROP_END,
};

int ob_pci_check_props(const struct ob_pci_dev *pd, char *err, size_t errlen)
{
    if (pd->failover_pair_id) {
        snprintf(err, errlen, "failover primary device is not an Ethernet device");
        return -1;
    }
    if (pd->romsize != UINT32_MAX &&
        (pd->romsize == 0 || (pd->romsize & (pd->romsize - 1)) != 0)) {
        snprintf(err, errlen, "ROM size %u is not a power of two", pd->romsize);
        return -1;
    }
    if (pd->romfile && pd->romfile[0]) {
        snprintf(err, errlen, "romfile=%s: outboard serves no option ROM; "
                 "use romfile= (empty) or leave it out", pd->romfile);
        return -1;
    }
    return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

void ob_pci_init(struct ob_pci_dev *pd)
{
    const struct ob_pci_ops *ops = pd->dev.type->bus_ops;
    struct ob_ctx *ctx = pd->dev.ctx;
    uint8_t *c = pd->cfg;

    pd->ops = ops;
    memset(pd->cfg, 0, sizeof(pd->cfg));
    memset(pd->wmask, 0, sizeof(pd->wmask));
    memset(pd->w1cmask, 0, sizeof(pd->w1cmask));
    memset(pd->bars, 0, sizeof(pd->bars));
    pd->nwin = 0;
    put16(c + OB_PCI_VENDOR_ID, ops->vendor_id);
    put16(c + OB_PCI_DEVICE_ID, ops->device_id);
    c[OB_PCI_REVISION_ID] = ops->revision;
    c[OB_PCI_CLASS_PROG] = (uint8_t)ops->class_code;
    put16(c + OB_PCI_CLASS_DEVICE, (uint16_t)(ops->class_code >> 8));
    c[OB_PCI_HEADER_TYPE] = pd->multifunction ? 0x80 : 0x00;
    put16(c + OB_PCI_SUBSYSTEM_VENDOR,
          ops->subsystem_vendor_id ? ops->subsystem_vendor_id : PCI_SUBVENDOR_DEFAULT);
    put16(c + OB_PCI_SUBSYSTEM_ID,
          ops->subsystem_id ? ops->subsystem_id : PCI_SUBDEVICE_DEFAULT);
    /* The proxy always wires INTA. */
    c[OB_PCI_INTERRUPT_PIN] = 1;

    put16(pd->wmask + OB_PCI_COMMAND,
          OB_PCI_COMMAND_IO | OB_PCI_COMMAND_MEMORY | OB_PCI_COMMAND_MASTER |
          OB_PCI_COMMAND_PARITY | OB_PCI_COMMAND_SERR | OB_PCI_COMMAND_INTX_DISABLE);
    put16(pd->w1cmask + OB_PCI_STATUS, 0xf900);   /* parity, aborts, SERR, DPE */
    pd->wmask[OB_PCI_CACHE_LINE_SIZE] = 0xff;
    pd->wmask[OB_PCI_INTERRUPT_LINE] = 0xff;

    ob_irq_init(&pd->intx, ctx->base, &ctx->log, ob_pci_name(pd));
    ob_mem_init(&pd->mem, &ctx->log);
}

int ob_pci_register_bar(struct ob_pci_dev *pd, unsigned n, uint64_t size, bool io)
{
    uint32_t off = OB_PCI_BAR0 + 4 * n;

    if (n >= OB_PCI_NUM_BARS || size == 0 || (size & (size - 1)) != 0 ||
        size > (UINT64_C(1) << 30) || size < (io ? 4u : 16u)) {
        return -1;
    }
    pd->bars[n].size = size;
    pd->bars[n].io = io;
    put32(pd->cfg + off, io ? OB_PCI_BAR_IO : 0);
    /* Address bits above the size are writable; the type bits are not. */
    put32(pd->wmask + off, (uint32_t)~(size - 1) & (io ? ~3u : ~15u));
    return 0;
}

void ob_pci_fini(struct ob_pci_dev *pd)
{
    ob_irq_fini(&pd->intx);
    ob_mem_clear(&pd->mem);
}

/* Where BAR N decodes now, as QEMU computes it: disabled by the command
 * register, at address 0, or wrapping past 4 GiB means "not mapped". */
static bool bar_window(const struct ob_pci_dev *pd, unsigned n, uint64_t *base)
{
    uint16_t cmd = get16(pd->cfg + OB_PCI_COMMAND);
    uint64_t size = pd->bars[n].size;
    uint64_t addr, last;

    if (size == 0) {
        return false;
    }
    if (!(cmd & (pd->bars[n].io ? OB_PCI_COMMAND_IO : OB_PCI_COMMAND_MEMORY))) {
        return false;
    }
    addr = get32(pd->cfg + OB_PCI_BAR0 + 4 * n) & ~(size - 1);
    last = addr + size - 1;
    if (addr == 0 || last >= UINT32_MAX) {
        return false;
    }
    if (pd->bars[n].io && last > 0xffff) {
        return false;
    }
    *base = addr;
    return true;
}

static void update_windows(struct ob_pci_dev *pd)
{
    struct ob_log *log = &pd->dev.ctx->log;
    struct ob_bar_window old[OB_PCI_NUM_BARS];
    unsigned n, k = 0, old_n = pd->nwin;

    memcpy(old, pd->win, sizeof(old));

    for (n = 0; n < OB_PCI_NUM_BARS; n++) {
        uint64_t base;

        if (!bar_window(pd, n, &base)) {
            continue;
        }
        pd->win[k].base = base;
        pd->win[k].size = pd->bars[n].size;
        pd->win[k].bar = (uint8_t)n;
        pd->win[k].memory = !pd->bars[n].io;
        k++;
    }
    if (ob_log_enabled(log, OB_LOGC_PCI) &&
        (k != old_n || memcmp(old, pd->win, k * sizeof(old[0])) != 0)) {
        for (n = 0; n < k; n++) {
            ob_logc(log, OB_LOGC_PCI, "%s: BAR%u %s [%#llx, +%#llx)",
                    ob_pci_name(pd), pd->win[n].bar,
                    pd->win[n].memory ? "mem" : "io",
                    (unsigned long long)pd->win[n].base,
                    (unsigned long long)pd->win[n].size);
        }
    }
    pd->nwin = k;
}

static void update_intx(struct ob_pci_dev *pd)
{
    bool disabled = get16(pd->cfg + OB_PCI_COMMAND) & OB_PCI_COMMAND_INTX_DISABLE;
    uint16_t status = get16(pd->cfg + OB_PCI_STATUS);

    if (pd->intx_level) {
        status |= OB_PCI_STATUS_INTERRUPT;
    } else {
        status &= (uint16_t)~OB_PCI_STATUS_INTERRUPT;
    }
    put16(pd->cfg + OB_PCI_STATUS, status);
    ob_irq_set_level(&pd->intx, pd->intx_level && !disabled);
}

uint32_t ob_pci_config_read(struct ob_pci_dev *pd, uint32_t addr, unsigned len)
{
    uint32_t v = 0;
    unsigned i;

    if (addr >= 0x40 && pd->ops->config_read) {
        return pd->ops->config_read(pd, addr, len);
    }
    for (i = 0; i < len; i++) {
        v |= (uint32_t)pd->cfg[addr + i] << (8 * i);
    }
    return v;
}

void ob_pci_config_write(struct ob_pci_dev *pd, uint32_t addr, uint32_t val,
                         unsigned len)
{
    bool touched_decode = false;
    unsigned i;

    if (addr >= 0x40 && pd->ops->config_write) {
        pd->ops->config_write(pd, addr, val, len);
        return;
    }
    for (i = 0; i < len; i++) {
        uint32_t a = addr + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint8_t wm = pd->wmask[a], w1c = pd->w1cmask[a];

        pd->cfg[a] = (uint8_t)((pd->cfg[a] & ~wm) | (b & wm));
        pd->cfg[a] &= (uint8_t)~(b & w1c);
        if (a < OB_PCI_COMMAND + 2 || (a >= OB_PCI_BAR0 && a < OB_PCI_BAR0 + 24)) {
            touched_decode = true;
        }
    }
    ob_logc(&pd->dev.ctx->log, OB_LOGC_PCI, "%s: config[%#x/%u] <- %#x",
            ob_pci_name(pd), addr, len, val);
    if (touched_decode) {
        update_windows(pd);
        update_intx(pd);
    }
}

void ob_pci_reset(struct ob_pci_dev *pd)
{
    unsigned n;

    /* What the proxy does to its own copy, so both agree: decoding off, BARs
     * back to their type bits, status errors and routing cleared. */
    put16(pd->cfg + OB_PCI_COMMAND, 0);
    put16(pd->cfg + OB_PCI_STATUS, get16(pd->cfg + OB_PCI_STATUS) & ~0xf900u);
    pd->cfg[OB_PCI_CACHE_LINE_SIZE] = 0;
    pd->cfg[OB_PCI_INTERRUPT_LINE] = 0;
    for (n = 0; n < OB_PCI_NUM_BARS; n++) {
        if (pd->bars[n].size) {
            put32(pd->cfg + OB_PCI_BAR0 + 4 * n, pd->bars[n].io ? OB_PCI_BAR_IO : 0);
        }
    }
    update_windows(pd);
    if (pd->ops->reset) {
        pd->ops->reset(pd);
    }
    update_intx(pd);
}

void ob_pci_set_irq(struct ob_pci_dev *pd, bool level)
{
    pd->intx_level = level;
    update_intx(pd);
}

bool ob_pci_master_enabled(const struct ob_pci_dev *pd)
{
    return (get16(pd->cfg + OB_PCI_COMMAND) & OB_PCI_COMMAND_MASTER) != 0;
}

static int dma_denied(struct ob_pci_dev *pd, uint64_t addr, size_t len)
{
    ob_logc(&pd->dev.ctx->log, OB_LOGC_GUEST_ERROR | OB_LOGC_DMA,
            "%s: DMA at %#llx (+%zu) with bus mastering disabled",
            ob_pci_name(pd), (unsigned long long)addr, len);
    return -1;
}

int ob_pci_dma_read(struct ob_pci_dev *pd, uint64_t addr, void *buf, size_t len)
{
    if (!ob_pci_master_enabled(pd)) {
        return dma_denied(pd, addr, len);
    }
    return ob_mem_read(&pd->mem, addr, buf, len);
}

int ob_pci_dma_write(struct ob_pci_dev *pd, uint64_t addr, const void *buf,
                     size_t len)
{
    if (!ob_pci_master_enabled(pd)) {
        return dma_denied(pd, addr, len);
    }
    return ob_mem_write(&pd->mem, addr, buf, len);
}
