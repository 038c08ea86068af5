/*
 * lsi_dma.c - DMA initiated by the SCRIPTS processor.
 *
 * In QEMU the chip's DMA walks the PCI address space, which holds the
 * chip's own BARs; Linux depends on that (its SCRIPTS run from the on-chip
 * RAM behind BAR2 and LOAD/STORE variables there). In a remote process the
 * guest-RAM map from SYNC_SYSMEM has no BARs, so every address is first
 * compared with the windows this function currently decodes:
 *   BAR2 (memory)       -> the SCRIPTS RAM array
 *   BAR1 (memory)       -> the register file, byte by byte, with side effects
 *   BAR0 (I/O, with DMODE.SIOM/DIOM) -> the register file
 * and only the rest goes to guest RAM (bus mastering required). Register
 * side effects never re-enter the SCRIPTS processor: a write that "starts"
 * SCRIPTS only schedules them (see lsi_start()).
 */
#include <string.h>

#include "lsi.h"

/* Register accesses through our own BAR nested this deep are refused. */
#define LSI_REG_DMA_MAX_DEPTH 1u

/* The window of ours that decodes ADDR in the given space, or NULL. */
static const struct ob_bar_window *own_window(const struct lsi_state *s, uint64_t addr,
                                              bool io)
{
    const struct ob_pci_dev *pd = &s->pci;
    unsigned i;

    for (i = 0; i < pd->nwin; i++) {
        const struct ob_bar_window *w = &pd->win[i];

        if (w->memory == !io && addr >= w->base && addr - w->base < w->size) {
            return w;
        }
    }
    return NULL;
}

/* Bytes from ADDR up to the first window of ours that starts above it. */
static size_t until_own_window(const struct lsi_state *s, uint64_t addr, size_t len,
                               bool io)
{
    const struct ob_pci_dev *pd = &s->pci;
    unsigned i;

    for (i = 0; i < pd->nwin; i++) {
        const struct ob_bar_window *w = &pd->win[i];

        if (w->memory == !io && w->base > addr && w->base - addr < len) {
            len = (size_t)(w->base - addr);
        }
    }
    return len;
}

static int reg_access(struct lsi_state *s, uint64_t off, uint8_t *buf, size_t len,
                      bool write)
{
    size_t i;

    if (s->reg_dma_depth >= LSI_REG_DMA_MAX_DEPTH) {
        return -1;
    }
    s->reg_dma_depth++;
    for (i = 0; i < len; i++) {
        unsigned reg = (unsigned)((off + i) & (LSI_IO_SIZE - 1));

        if (write) {
            lsi_reg_write(s, reg, buf[i]);
        } else {
            buf[i] = lsi_reg_read(s, reg);
        }
    }
    s->reg_dma_depth--;
    return 0;
}

static int dma_rw(struct lsi_state *s, uint64_t addr, uint8_t *buf, size_t len,
                  bool write, bool io)
{
    while (len > 0) {
        const struct ob_bar_window *w = own_window(s, addr, io);
        size_t chunk;
        int rc;

        if (w) {
            uint64_t off = addr - w->base;

            chunk = w->size - off < len ? (size_t)(w->size - off) : len;
            if (w->bar == 2) {
                if (write) {
                    memcpy(s->script_ram + off, buf, chunk);
                } else {
                    memcpy(buf, s->script_ram + off, chunk);
                }
                rc = 0;
            } else {
                rc = reg_access(s, off, buf, chunk, write);
            }
        } else if (io) {
            /* Nothing but our own registers is reachable in I/O space. */
            rc = -1;
            chunk = len;
        } else {
            chunk = until_own_window(s, addr, len, io);
            rc = write ? ob_pci_dma_write(&s->pci, addr, buf, chunk)
                       : ob_pci_dma_read(&s->pci, addr, buf, chunk);
        }
        if (rc < 0) {
            return -1;
        }
        addr += chunk;
        buf += chunk;
        len -= chunk;
    }
    return 0;
}

const uint8_t *lsi_dma_peek(struct lsi_state *s, uint64_t addr, size_t len)
{
    const struct ob_bar_window *w = own_window(s, addr, false);

    if (w) {
        uint64_t off = addr - w->base;

        return w->bar == 2 && len <= w->size - off ? s->script_ram + off : NULL;
    }
    if (until_own_window(s, addr, len, false) != len || !ob_pci_master_enabled(&s->pci)) {
        return NULL;
    }
    return ob_mem_ptr(&s->pci.mem, addr, len);
}

int lsi_dma_read(struct lsi_state *s, uint64_t addr, void *buf, size_t len, bool io)
{
    return dma_rw(s, addr, buf, len, false, io);
}

int lsi_dma_write(struct lsi_state *s, uint64_t addr, const void *buf, size_t len,
                  bool io)
{
    return dma_rw(s, addr, (uint8_t *)buf, len, true, io);
}
