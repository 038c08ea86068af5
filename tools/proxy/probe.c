/*
 * probe.c - what QEMU's proxy does at realize (identify the function, size
 * its BARs) and what the firmware does next (place the BARs, enable
 * decoding).
 */
#include <string.h>
#include <time.h>

#include "priv.h"

#define CFG_VENDOR     0x00
#define CFG_DEVICE     0x02
#define CFG_COMMAND    0x04
#define CFG_CLASS      0x0a
#define CFG_SUBSYSTEM  0x2e
#define CFG_BAR0       0x10
#define CFG_INTERRUPT_LINE 0x3c

#define RESET_MARKER   0xa5u

#define DEFAULT_MEM_BASE 0xfe000000u
#define DEFAULT_IO_BASE  0xc000u

static int cfg_read16(struct ob_proxy *px, uint32_t addr, uint16_t *v)
{
    uint64_t r;

    if (ob_proxy_cfg_read(px, addr, 2, &r) < 0) {
        return -1;
    }
    *v = (uint16_t)r;
    return 0;
}

static int cfg_read32(struct ob_proxy *px, uint32_t addr, uint32_t *v)
{
    uint64_t r;

    if (ob_proxy_cfg_read(px, addr, 4, &r) < 0) {
        return -1;
    }
    *v = (uint32_t)r;
    return 0;
}

/* Read, write all-ones, read back, restore: QEMU's proxy sizing of one
 * dword, with its 32-bit arithmetic. */
static int size_bar(struct ob_proxy *px, unsigned i, struct ob_proxy_bar *b)
{
    uint32_t addr = CFG_BAR0 + 4 * i;

    memset(b, 0, sizeof(*b));
    if (cfg_read32(px, addr, &b->orig) < 0 ||
        ob_proxy_cfg_write(px, addr, 0xffffffffu, 4, NULL) < 0 ||
        cfg_read32(px, addr, &b->readback) < 0 ||
        ob_proxy_cfg_write(px, addr, b->orig, 4, NULL) < 0) {
        return -1;
    }
    b->size = ~(b->readback & 0xfffffff0u) + 1u;
    b->io = (b->readback & 1u) != 0;
    if (b->readback == 0) {
        b->size = 0;
    }
    return 0;
}

int ob_proxy_probe(struct ob_proxy *px)
{
    struct ob_proxy_info *in = &px->info;
    unsigned i;

    memset(in, 0, sizeof(*in));
    if (cfg_read16(px, CFG_VENDOR, &in->vendor_id) < 0 ||
        cfg_read16(px, CFG_DEVICE, &in->device_id) < 0 ||
        cfg_read16(px, CFG_CLASS, &in->class_id) < 0 ||
        cfg_read16(px, CFG_SUBSYSTEM, &in->subsystem_id) < 0) {
        return -1;
    }
    for (i = 0; i < OB_PROXY_NUM_BARS; i++) {
        if (size_bar(px, i, &in->bar[i]) < 0) {
            return -1;
        }
    }
    in->probed = true;
    return 0;
}

static uint32_t align_up(uint32_t v, uint32_t a)
{
    return (v + a - 1) & ~(a - 1);
}

int ob_proxy_program_bars(struct ob_proxy *px, uint32_t mem_base, uint32_t io_base,
                          uint16_t command)
{
    uint32_t mem = mem_base ? mem_base : DEFAULT_MEM_BASE;
    uint32_t io = io_base ? io_base : DEFAULT_IO_BASE;
    unsigned i;

    if (!px->info.probed) {
        return ob_proxy_fail(px, "program_bars before probe");
    }
    /* BAR 6 is the dword at 0x28 (CardBus CIS), probed but never a BAR. */
    for (i = 0; i < OB_PROXY_NUM_BARS - 1; i++) {
        struct ob_proxy_bar *b = &px->info.bar[i];
        uint32_t *next = b->io ? &io : &mem;
        uint32_t size = b->size < 16 ? 16 : b->size;

        if (b->size == 0) {
            continue;
        }
        if ((b->size & (b->size - 1)) != 0 || b->size > (1u << 30)) {
            return ob_proxy_fail(px, "BAR%u: size %#x is not a power of two <= 1 GiB",
                                 i, b->size);
        }
        b->base = align_up(*next, size);
        *next = b->base + size;
        if (ob_proxy_cfg_write(px, CFG_BAR0 + 4 * i, b->base, 4, NULL) < 0) {
            return -1;
        }
    }
    return ob_proxy_cfg_write(px, CFG_COMMAND, command, 2, NULL);
}

int ob_proxy_wait_remote_reset(struct ob_proxy *px, int timeout_ms)
{
    uint64_t deadline = ob_proxy_now_ns() + (uint64_t)timeout_ms * 1000000u;
    const struct timespec nap = { 0, 2000000 };
    uint64_t v = 0;

    if (ob_proxy_cfg_write(px, CFG_INTERRUPT_LINE, RESET_MARKER, 1, NULL) < 0) {
        return -1;
    }
    do {
        if (ob_proxy_cfg_read(px, CFG_INTERRUPT_LINE, 1, &v) < 0) {
            return -1;
        }
        if (v != RESET_MARKER) {
            return 1;
        }
        nanosleep(&nap, NULL);
    } while (ob_proxy_now_ns() < deadline);
    return ob_proxy_cfg_write(px, CFG_INTERRUPT_LINE, 0, 1, NULL) < 0 ? -1 : 0;
}

int ob_proxy_bringup(struct ob_proxy *px, uint64_t ram_size, uint16_t command)
{
    if (ram_size > 0 &&
        (ob_proxy_ram_setup(px, ram_size) < 0 || ob_proxy_sync_default(px) < 0)) {
        return -1;
    }
    if (ob_proxy_irq_setup(px) < 0 || ob_proxy_probe(px) < 0) {
        return -1;
    }
    return ob_proxy_program_bars(px, 0, 0, command);
}
