/*
 * pci.h - a conventional PCI function as the proxy sees it: 256 bytes of
 * config space with write and write-1-to-clear masks, up to six 32-bit BARs
 * sized by probing, interrupt pin A, INTx with the status bit and the
 * disable bit, and the guest memory view the function masters DMA through.
 *
 * The PCI core owns the standard header; a model fills in its identity and
 * BARs at realize and implements the ops it needs.
 */
#ifndef OUTBOARD_PCI_H
#define OUTBOARD_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "outboard/device.h"
#include "outboard/irq.h"
#include "outboard/mem.h"
#include "outboard/mpqemu.h"

#define OB_PCI_CFG_SIZE     256u
#define OB_PCI_NUM_BARS     6u

/* Standard header offsets and bits. */
#define OB_PCI_VENDOR_ID        0x00
#define OB_PCI_DEVICE_ID        0x02
#define OB_PCI_COMMAND          0x04
#define OB_PCI_STATUS           0x06
#define OB_PCI_REVISION_ID      0x08
#define OB_PCI_CLASS_PROG       0x09
#define OB_PCI_CLASS_DEVICE     0x0a
#define OB_PCI_CACHE_LINE_SIZE  0x0c
#define OB_PCI_LATENCY_TIMER    0x0d
#define OB_PCI_HEADER_TYPE      0x0e
#define OB_PCI_BAR0             0x10
#define OB_PCI_SUBSYSTEM_VENDOR 0x2c
#define OB_PCI_SUBSYSTEM_ID     0x2e
#define OB_PCI_ROM_ADDRESS      0x30
#define OB_PCI_CAPABILITY_LIST  0x34
#define OB_PCI_INTERRUPT_LINE   0x3c
#define OB_PCI_INTERRUPT_PIN    0x3d

#define OB_PCI_COMMAND_IO           0x0001
#define OB_PCI_COMMAND_MEMORY       0x0002
#define OB_PCI_COMMAND_MASTER       0x0004
#define OB_PCI_COMMAND_PARITY       0x0040
#define OB_PCI_COMMAND_SERR         0x0100
#define OB_PCI_COMMAND_INTX_DISABLE 0x0400
#define OB_PCI_STATUS_INTERRUPT     0x0008
#define OB_PCI_STATUS_REC_MASTER_ABORT 0x2000

#define OB_PCI_BAR_IO           0x1u
#define OB_PCI_BAR_MEM_PREFETCH 0x8u

struct ob_pci_dev;

/* What a PCI model implements beyond the core's standard header. */
struct ob_pci_ops {
    uint16_t vendor_id;
    uint16_t device_id;
    uint8_t revision;
    uint32_t class_code;          /* 24 bits: base, sub, prog-if */
    uint16_t subsystem_vendor_id; /* 0: QEMU's default 0x1af4 */
    uint16_t subsystem_id;        /* 0: QEMU's default 0x1100 */
    /* BAR accesses already decoded and bounds-checked by net/. */
    uint64_t (*bar_read)(struct ob_pci_dev *pd, unsigned bar, uint64_t off,
                         unsigned size);
    void (*bar_write)(struct ob_pci_dev *pd, unsigned bar, uint64_t off,
                      uint64_t val, unsigned size);
    /* Device-specific reset (the core resets the standard header). */
    void (*reset)(struct ob_pci_dev *pd);
    /* Optional hooks for device-owned config registers (beyond 0x40). */
    uint32_t (*config_read)(struct ob_pci_dev *pd, uint32_t addr, unsigned len);
    void (*config_write)(struct ob_pci_dev *pd, uint32_t addr, uint32_t val,
                         unsigned len);
};

struct ob_pci_bar {
    uint64_t size;      /* power of two; 0 = not implemented */
    bool io;
};

struct ob_pci_dev {
    struct ob_device dev;
    const struct ob_pci_ops *ops;
    uint32_t devfn;                    /* "addr" property; only informative */
    bool multifunction;
    /* QEMU's other PCI device properties: accepted, and checked as QEMU
     * checks them, but nothing here uses them (no option ROM is served;
     * ACPI and PCIe link state belong to the VM's side) */
    uint32_t rombar;
    char *romfile;                     /* must be unset or empty */
    uint32_t romsize;                  /* UINT32_MAX: unset, else a power of 2 */
    uint32_t acpi_index;
    char *failover_pair_id;            /* refused: not an Ethernet device */
    bool x_pcie_extcap_init;
    bool x_pcie_lnksta_dllla;
    uint8_t cfg[OB_PCI_CFG_SIZE];
    uint8_t wmask[OB_PCI_CFG_SIZE];
    uint8_t w1cmask[OB_PCI_CFG_SIZE];
    struct ob_pci_bar bars[OB_PCI_NUM_BARS];
    struct ob_bar_window win[OB_PCI_NUM_BARS];
    unsigned nwin;
    bool intx_level;                   /* what the model asks for */
    struct ob_irq intx;
    struct ob_mem mem;
};

/* The device's id, or its type name when it has none (for log lines). */
static inline const char *ob_pci_name(const struct ob_pci_dev *pd)
{
    return pd->dev.id ? pd->dev.id : pd->dev.type->name;
}

/* Properties every PCI device accepts (addr, multifunction, rombar, romfile,
 * romsize, acpi-index, failover_pair_id, x-pcie-*). */
extern const struct ob_prop ob_pci_bus_props[];
/* Checks the common properties before the model realizes: -1 and one line
 * in ERR for a value outboard cannot honour or QEMU refuses. */
int ob_pci_check_props(const struct ob_pci_dev *pd, char *err, size_t errlen);

static inline struct ob_pci_dev *ob_pci_from_dev(struct ob_device *d)
{
    return (struct ob_pci_dev *)d;
}

/* Sets up the standard header from PD->ops and the INTx/memory objects;
 * called by the model's realize before it registers BARs. */
void ob_pci_init(struct ob_pci_dev *pd);
/* Declares BAR N (size a power of two >= 16 for memory, >= 4 for I/O,
 * <= 1 GiB). Returns 0 or -1. */
int ob_pci_register_bar(struct ob_pci_dev *pd, unsigned n, uint64_t size, bool io);
void ob_pci_fini(struct ob_pci_dev *pd);

/* Config space, as forwarded by the proxy. ADDR+LEN must be validated. */
uint32_t ob_pci_config_read(struct ob_pci_dev *pd, uint32_t addr, unsigned len);
void ob_pci_config_write(struct ob_pci_dev *pd, uint32_t addr, uint32_t val,
                         unsigned len);
/* DEVICE_RESET: function-level reset of the header and of the model. */
void ob_pci_reset(struct ob_pci_dev *pd);

/* The model's interrupt request; the core applies INTx-disable and keeps
 * PCI_STATUS_INTERRUPT in step. */
void ob_pci_set_irq(struct ob_pci_dev *pd, bool level);
/* Bus mastering gate for DMA: false while COMMAND.MASTER is clear. */
bool ob_pci_master_enabled(const struct ob_pci_dev *pd);
/* DMA helpers: bus-master check + bounds-checked copy. 0 or -1. */
int ob_pci_dma_read(struct ob_pci_dev *pd, uint64_t addr, void *buf, size_t len);
int ob_pci_dma_write(struct ob_pci_dev *pd, uint64_t addr, const void *buf,
                     size_t len);

#endif
