/*
 * test_pci.c - the PCI function core (hw/pci/pci.c), exercised on an edu
 * device created through ob_device_create() with a real loop context:
 * config-space masks, BAR sizing, decode windows, INTx, reset, DMA gate.
 */
#include <string.h>
#include <unistd.h>

#include "outboard/ctx.h"
#include "outboard/pci.h"
#include "ut.h"

#define EDU_BAR0_SIZE   0x100000u
#define BAR0_ADDR       0xfea00000u

/* The CUnit fixture hooks take no argument, so the fixture is file-scope. */
static struct ob_ctx ctx;
static struct ob_pci_dev *pd;

static void setup_pci(void)
{
    struct ob_device *d = NULL;
    char err[200];

    pd = NULL;
    if (ut_ctx_open(&ctx) < 0) {
        return;
    }
    if (ut_device_create(&ctx, "edu,id=p0", &d, err, sizeof(err)) == 0) {
        pd = ob_pci_from_dev(d);
    }
}

static void teardown_pci(void)
{
    if (ctx.base) {
        ob_ctx_fini(&ctx);
    }
    pd = NULL;
}

static uint32_t rd(uint32_t addr, unsigned len)
{
    return ob_pci_config_read(pd, addr, len);
}

static void wr(uint32_t addr, uint32_t val, unsigned len)
{
    ob_pci_config_write(pd, addr, val, len);
}

/* Writes the status register's raw bits, as the hardware would set them. */
static void poke_status(uint16_t v)
{
    pd->cfg[OB_PCI_STATUS] = (uint8_t)v;
    pd->cfg[OB_PCI_STATUS + 1] = (uint8_t)(v >> 8);
}

static void map_bar0(void)
{
    wr(OB_PCI_BAR0, BAR0_ADDR, 4);
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_MEMORY, 2);
}

/* ---- identity and read-only fields ------------------------------------- */

static void test_identity(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    UT_EQ(rd(OB_PCI_VENDOR_ID, 2), 0x1234);
    UT_EQ(rd(OB_PCI_DEVICE_ID, 2), 0x11e8);
    UT_EQ(rd(0x00, 4), 0x11e81234);
    UT_EQ(rd(OB_PCI_REVISION_ID, 1), 0x10);
    UT_EQ(rd(OB_PCI_CLASS_PROG, 1), 0x00);
    UT_EQ(rd(OB_PCI_CLASS_DEVICE, 2), 0x00ff);
    UT_EQ(rd(0x08, 4), 0x00ff0010);
    UT_EQ(rd(OB_PCI_HEADER_TYPE, 1), 0x00);
    UT_EQ(rd(OB_PCI_SUBSYSTEM_VENDOR, 2), 0x1af4);
    UT_EQ(rd(OB_PCI_SUBSYSTEM_ID, 2), 0x1100);
    UT_EQ(rd(OB_PCI_INTERRUPT_PIN, 1), 1);
    UT_EQ(rd(OB_PCI_CAPABILITY_LIST, 1), 0);
    UT_EQ(rd(OB_PCI_COMMAND, 2), 0);
    UT_EQ(rd(OB_PCI_STATUS, 2), 0);
    UT_EQ(rd(OB_PCI_BAR0, 4), 0);
    UT_EQ(pd->bars[0].size, EDU_BAR0_SIZE);
    CU_ASSERT_FALSE(pd->bars[0].io);
    UT_EQ(pd->nwin, 0);
    UT_STREQ(ob_pci_name(pd), "p0");
}

static void test_read_only_fields_ignore_writes(void)
{
    static const uint32_t ro_dwords[] = { 0x00, 0x08, 0x28, 0x2c, 0x34, 0x38, 0x40, 0x80,
                                          0xfc };
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    for (i = 0; i < sizeof(ro_dwords) / sizeof(ro_dwords[0]); i++) {
        uint32_t before = rd(ro_dwords[i], 4);

        wr(ro_dwords[i], 0xffffffff, 4);
        UT_EQ(rd(ro_dwords[i], 4), before);
        wr(ro_dwords[i], 0, 4);
        UT_EQ(rd(ro_dwords[i], 4), before);
    }
    /* latency timer, header type and BIST around the writable cache line */
    wr(0x0c, 0xffffffff, 4);
    UT_EQ(rd(0x0c, 4), 0x000000ff);
    /* interrupt pin, min_gnt, max_lat around the writable interrupt line */
    wr(0x3c, 0xffffffff, 4);
    UT_EQ(rd(0x3c, 4), 0x000001ff);
    UT_EQ(rd(0x00, 4), 0x11e81234);
    UT_EQ(rd(OB_PCI_SUBSYSTEM_VENDOR, 4), 0x11001af4);
}

static void test_command_write_mask(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    wr(OB_PCI_COMMAND, 0xffff, 2);
    UT_EQ(rd(OB_PCI_COMMAND, 2), 0x0547);
    wr(OB_PCI_COMMAND, 0, 2);
    UT_EQ(rd(OB_PCI_COMMAND, 2), 0);
    /* byte writes reach each half */
    wr(OB_PCI_COMMAND + 1, 0xff, 1);
    UT_EQ(rd(OB_PCI_COMMAND, 2), 0x0500);
    wr(OB_PCI_COMMAND, 0xff, 1);
    UT_EQ(rd(OB_PCI_COMMAND, 2), 0x0547);
    wr(OB_PCI_COMMAND, 0x0006, 2);
    UT_EQ(rd(OB_PCI_COMMAND, 2), 0x0006);
    CU_ASSERT_TRUE(ob_pci_master_enabled(pd));
    wr(OB_PCI_COMMAND, 0x0002, 2);
    CU_ASSERT_FALSE(ob_pci_master_enabled(pd));
}

static void test_status_write_one_to_clear(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    poke_status(0xf900);
    wr(OB_PCI_STATUS, 0x0000, 2);
    UT_EQ(rd(OB_PCI_STATUS, 2), 0xf900);
    wr(OB_PCI_STATUS, 0x0100, 2);
    UT_EQ(rd(OB_PCI_STATUS, 2), 0xf800);
    wr(OB_PCI_STATUS + 1, 0x80, 1);
    UT_EQ(rd(OB_PCI_STATUS, 2), 0x7800);
    /* ones elsewhere set nothing */
    wr(OB_PCI_STATUS, 0x06f7, 2);
    UT_EQ(rd(OB_PCI_STATUS, 2), 0x7800);
    wr(OB_PCI_STATUS, 0xffff, 2);
    UT_EQ(rd(OB_PCI_STATUS, 2), 0);
    /* a dword write to COMMAND+STATUS does both */
    poke_status(0xf900);
    wr(OB_PCI_COMMAND, 0x20000006, 4);
    UT_EQ(rd(OB_PCI_COMMAND, 2), 0x0006);
    UT_EQ(rd(OB_PCI_STATUS, 2), 0xd900);
}

static void test_status_interrupt_bit_follows_irq(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    wr(OB_PCI_STATUS, 0x0008, 2);
    UT_EQ(rd(OB_PCI_STATUS, 2), 0);
    ob_pci_set_irq(pd, true);
    UT_EQ(rd(OB_PCI_STATUS, 2) & OB_PCI_STATUS_INTERRUPT, OB_PCI_STATUS_INTERRUPT);
    CU_ASSERT_TRUE(pd->intx.level);
    /* read-only: neither write-1-to-clear nor writable */
    wr(OB_PCI_STATUS, 0xffff, 2);
    UT_EQ(rd(OB_PCI_STATUS, 2), OB_PCI_STATUS_INTERRUPT);
    ob_pci_set_irq(pd, false);
    UT_EQ(rd(OB_PCI_STATUS, 2), 0);
    CU_ASSERT_FALSE(pd->intx.level);
}

static void test_cache_line_and_interrupt_line_writable(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    wr(OB_PCI_CACHE_LINE_SIZE, 0x10, 1);
    UT_EQ(rd(OB_PCI_CACHE_LINE_SIZE, 1), 0x10);
    wr(OB_PCI_INTERRUPT_LINE, 0x0b, 1);
    UT_EQ(rd(OB_PCI_INTERRUPT_LINE, 1), 0x0b);
    wr(OB_PCI_INTERRUPT_PIN, 0x04, 1);
    UT_EQ(rd(OB_PCI_INTERRUPT_PIN, 1), 1);
    wr(OB_PCI_INTERRUPT_LINE, 0x0405, 2);
    UT_EQ(rd(OB_PCI_INTERRUPT_LINE, 2), 0x0105);
}

/* ---- BARs ---------------------------------------------------------------- */

static void test_bar0_sizing(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    wr(OB_PCI_BAR0, 0xffffffff, 4);
    UT_EQ(rd(OB_PCI_BAR0, 4), 0xfff00000);
    wr(OB_PCI_BAR0, 0, 4);
    UT_EQ(rd(OB_PCI_BAR0, 4), 0);
    /* address bits below the size and the type bits stay 0 */
    wr(OB_PCI_BAR0, 0xfebf123f, 4);
    UT_EQ(rd(OB_PCI_BAR0, 4), 0xfeb00000);
    wr(OB_PCI_BAR0, BAR0_ADDR, 4);
    UT_EQ(rd(OB_PCI_BAR0, 4), BAR0_ADDR);
}

static void test_unimplemented_bars_read_zero(void)
{
    uint32_t off;

    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    for (off = OB_PCI_BAR0 + 4; off <= 0x28; off += 4) {
        wr(off, 0xffffffff, 4);
        UT_EQ(rd(off, 4), 0);
    }
    wr(OB_PCI_ROM_ADDRESS, 0xfffff800, 4);
    UT_EQ(rd(OB_PCI_ROM_ADDRESS, 4), 0);
    wr(OB_PCI_ROM_ADDRESS, 0xfffffffe, 4);
    UT_EQ(rd(OB_PCI_ROM_ADDRESS, 4), 0);
    UT_EQ(pd->nwin, 0);
}

static void test_unaligned_accesses_compose(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    UT_EQ(rd(0x01, 2), 0xe812);
    UT_EQ(rd(0x01, 3), 0x11e812);
    UT_EQ(rd(0x02, 4), 0x000011e8);
    UT_EQ(rd(0x03, 1), 0x11);
    UT_EQ(rd(0x0b, 2), 0x0000);
    UT_EQ(rd(0x09, 3), 0x00ff00);
    UT_EQ(rd(0x3b, 4), 0x00010000);
    /* a BAR programmed byte by byte */
    wr(0x13, 0xfe, 1);
    wr(0x12, 0xaf, 1);
    UT_EQ(rd(OB_PCI_BAR0, 4), 0xfea00000);
    /* a word write straddling two BAR bytes */
    wr(0x11, 0xffff, 2);
    UT_EQ(rd(OB_PCI_BAR0, 4), 0xfef00000);
    wr(0x12, 0x00ff, 2);
    UT_EQ(rd(OB_PCI_BAR0, 4), 0x00f00000);
    /* a dword write at an odd offset: command high byte + status + cache line */
    wr(0x05, 0x10ffff05, 4);
    UT_EQ(rd(OB_PCI_COMMAND, 2), 0x0500);
    UT_EQ(rd(OB_PCI_CACHE_LINE_SIZE, 1), 0x00);
    wr(0x09, 0x10000000, 4);
    UT_EQ(rd(OB_PCI_CACHE_LINE_SIZE, 1), 0x10);
    UT_EQ(rd(0x08, 4), 0x00ff0010);
}

static void test_register_bar_limits(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    UT_EQ(ob_pci_register_bar(pd, 1, 8, false), -1);          /* memory < 16 */
    UT_EQ(ob_pci_register_bar(pd, 1, 2, true), -1);           /* I/O < 4 */
    UT_EQ(ob_pci_register_bar(pd, 1, 0x3000, false), -1);     /* not a power of 2 */
    UT_EQ(ob_pci_register_bar(pd, 1, 0, false), -1);
    UT_EQ(ob_pci_register_bar(pd, 1, UINT64_C(1) << 31, false), -1);  /* > 1 GiB */
    UT_EQ(ob_pci_register_bar(pd, OB_PCI_NUM_BARS, 4096, false), -1);
    UT_EQ(pd->bars[1].size, 0);
    UT_EQ(ob_pci_register_bar(pd, 1, UINT64_C(1) << 30, false), 0);
    wr(OB_PCI_BAR0 + 4, 0xffffffff, 4);
    UT_EQ(rd(OB_PCI_BAR0 + 4, 4), 0xc0000000);
    UT_EQ(ob_pci_register_bar(pd, 2, 16, false), 0);
    wr(OB_PCI_BAR0 + 8, 0xffffffff, 4);
    UT_EQ(rd(OB_PCI_BAR0 + 8, 4), 0xfffffff0);
}

/* edu has no I/O BAR: add one to exercise the I/O path of the core. */
static void test_io_bar(void)
{
    const uint32_t bar2 = OB_PCI_BAR0 + 8;

    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    UT_EQ_FATAL(ob_pci_register_bar(pd, 2, 32, true), 0);
    UT_EQ(rd(bar2, 4), OB_PCI_BAR_IO);
    /* sizing: all upper bits set, type bit kept */
    wr(bar2, 0xffffffff, 4);
    UT_EQ(rd(bar2, 4), 0xffffffe1);
    wr(bar2, 0xc000, 4);
    UT_EQ(rd(bar2, 4), 0xc001);
    UT_EQ(pd->nwin, 0);
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_MEMORY, 2);
    UT_EQ(pd->nwin, 0);
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_IO, 2);
    UT_EQ_FATAL(pd->nwin, 1);
    UT_EQ(pd->win[0].base, 0xc000);
    UT_EQ(pd->win[0].size, 32);
    UT_EQ(pd->win[0].bar, 2);
    CU_ASSERT_FALSE(pd->win[0].memory);
    /* both BARs decode with both enables, in BAR order */
    wr(OB_PCI_BAR0, BAR0_ADDR, 4);
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_IO | OB_PCI_COMMAND_MEMORY, 2);
    UT_EQ_FATAL(pd->nwin, 2);
    UT_EQ(pd->win[0].bar, 0);
    UT_EQ(pd->win[1].bar, 2);
    /* I/O space ends at 0xffff */
    wr(bar2, 0x10000, 4);
    UT_EQ(pd->nwin, 1);
    wr(bar2, 0xffe0, 4);
    UT_EQ_FATAL(pd->nwin, 2);
    UT_EQ(pd->win[1].base, 0xffe0);
    ob_pci_reset(pd);
    UT_EQ(rd(bar2, 4), OB_PCI_BAR_IO);
    UT_EQ(pd->nwin, 0);
}

/* ---- decode windows ------------------------------------------------------ */

static void assert_window(uint64_t base)
{
    UT_EQ_FATAL(pd->nwin, 1);
    UT_EQ(pd->win[0].base, base);
    UT_EQ(pd->win[0].size, EDU_BAR0_SIZE);
    UT_EQ(pd->win[0].bar, 0);
    CU_ASSERT_TRUE(pd->win[0].memory);
}

static void test_window_needs_memory_enable_and_address(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    wr(OB_PCI_BAR0, BAR0_ADDR, 4);
    UT_EQ(pd->nwin, 0);
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_IO | OB_PCI_COMMAND_MASTER, 2);
    UT_EQ(pd->nwin, 0);
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_MEMORY, 2);
    assert_window(BAR0_ADDR);
    /* address 0 is "not mapped" */
    wr(OB_PCI_BAR0, 0, 4);
    UT_EQ(pd->nwin, 0);
    wr(OB_PCI_BAR0, BAR0_ADDR, 4);
    assert_window(BAR0_ADDR);
}

static void test_window_follows_bar_moves(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    map_bar0();
    assert_window(BAR0_ADDR);
    wr(OB_PCI_BAR0, 0xe0000000, 4);
    assert_window(0xe0000000);
    /* byte-wise moves too */
    wr(0x13, 0xfd, 1);
    assert_window(0xfd000000);
    /* the highest 1 MiB below 4 GiB that is not the sizing pattern */
    wr(OB_PCI_BAR0, 0xffe00000, 4);
    assert_window(0xffe00000);
}

static void test_window_gone_while_sizing(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    map_bar0();
    assert_window(BAR0_ADDR);
    wr(OB_PCI_BAR0, 0xffffffff, 4);
    UT_EQ(pd->nwin, 0);
    wr(OB_PCI_BAR0, BAR0_ADDR, 4);
    assert_window(BAR0_ADDR);
}

static void test_window_gone_on_memory_disable(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    map_bar0();
    assert_window(BAR0_ADDR);
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_IO | OB_PCI_COMMAND_MASTER, 2);
    UT_EQ(pd->nwin, 0);
    wr(OB_PCI_COMMAND + 1, 0x04, 1);       /* INTx disable, memory still off */
    UT_EQ(pd->nwin, 0);
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_MEMORY, 1);
    assert_window(BAR0_ADDR);
}

/* ---- INTx ---------------------------------------------------------------- */

static void test_intx_disable_masks_line(void)
{
    int irqfd, resamplefd, peer;

    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    irqfd = ut_eventfd();
    resamplefd = ut_eventfd();
    peer = irqfd >= 0 ? dup(irqfd) : -1;
    CU_ASSERT_FATAL(irqfd >= 0 && resamplefd >= 0 && peer >= 0);
    UT_EQ_FATAL(ob_irq_set_fds(&pd->intx, irqfd, resamplefd), 0);
    ob_pci_set_irq(pd, true);
    CU_ASSERT_TRUE(pd->intx.level);
    UT_EQ(ut_eventfd_take(peer), 1);
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_INTX_DISABLE, 2);
    CU_ASSERT_FALSE(pd->intx.level);
    CU_ASSERT_TRUE(pd->intx_level);
    UT_EQ(rd(OB_PCI_STATUS, 2) & OB_PCI_STATUS_INTERRUPT, OB_PCI_STATUS_INTERRUPT);
    /* raising again while disabled changes nothing on the wire */
    ob_pci_set_irq(pd, true);
    CU_ASSERT_FALSE(pd->intx.level);
    UT_EQ(ut_eventfd_take(peer), 0);
    /* enabling delivers the pending request */
    wr(OB_PCI_COMMAND, 0, 2);
    CU_ASSERT_TRUE(pd->intx.level);
    UT_EQ(ut_eventfd_take(peer), 1);
    ob_pci_set_irq(pd, false);
    CU_ASSERT_FALSE(pd->intx.level);
    UT_EQ(rd(OB_PCI_STATUS, 2), 0);
    /* a request made while disabled shows in the status only */
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_INTX_DISABLE, 2);
    ob_pci_set_irq(pd, true);
    CU_ASSERT_FALSE(pd->intx.level);
    UT_EQ(rd(OB_PCI_STATUS, 2), OB_PCI_STATUS_INTERRUPT);
    UT_EQ(ut_eventfd_take(peer), 0);
    close(peer);
}

/* The disable bit lives in the command register's high byte. */
static void test_intx_disable_by_byte_write(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    ob_pci_set_irq(pd, true);
    CU_ASSERT_TRUE(pd->intx.level);
    wr(OB_PCI_COMMAND + 1, OB_PCI_COMMAND_INTX_DISABLE >> 8, 1);
    UT_EQ(rd(OB_PCI_COMMAND, 2), OB_PCI_COMMAND_INTX_DISABLE);
    CU_ASSERT_FALSE(pd->intx.level);
    wr(OB_PCI_COMMAND + 1, 0, 1);
    CU_ASSERT_TRUE(pd->intx.level);
    /* and through a dword write of command + status */
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_INTX_DISABLE, 4);
    CU_ASSERT_FALSE(pd->intx.level);
    UT_EQ(rd(OB_PCI_STATUS, 2), OB_PCI_STATUS_INTERRUPT);
}

/* ---- reset --------------------------------------------------------------- */

static void test_reset(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    map_bar0();
    wr(OB_PCI_COMMAND, 0x0547, 2);
    wr(OB_PCI_CACHE_LINE_SIZE, 0x10, 1);
    wr(OB_PCI_INTERRUPT_LINE, 0x0b, 1);
    poke_status(0xf900);
    ob_pci_set_irq(pd, true);
    assert_window(BAR0_ADDR);

    ob_pci_reset(pd);
    UT_EQ(rd(OB_PCI_COMMAND, 2), 0);
    UT_EQ(rd(OB_PCI_STATUS, 2), 0);
    UT_EQ(rd(OB_PCI_BAR0, 4), 0);
    UT_EQ(rd(OB_PCI_CACHE_LINE_SIZE, 1), 0);
    UT_EQ(rd(OB_PCI_INTERRUPT_LINE, 1), 0);
    UT_EQ(pd->nwin, 0);
    CU_ASSERT_FALSE(ob_pci_master_enabled(pd));
    /* the model's reset lowered its interrupt */
    CU_ASSERT_FALSE(pd->intx_level);
    CU_ASSERT_FALSE(pd->intx.level);
    /* identity and pin stay */
    UT_EQ(rd(0x00, 4), 0x11e81234);
    UT_EQ(rd(0x08, 4), 0x00ff0010);
    UT_EQ(rd(OB_PCI_SUBSYSTEM_VENDOR, 4), 0x11001af4);
    UT_EQ(rd(OB_PCI_INTERRUPT_PIN, 1), 1);
    /* and the BAR sizes as before */
    wr(OB_PCI_BAR0, 0xffffffff, 4);
    UT_EQ(rd(OB_PCI_BAR0, 4), 0xfff00000);
}

/* ---- DMA ----------------------------------------------------------------- */

static void test_dma_requires_bus_master(void)
{
    struct ob_mem_desc d = { .gpa = 0x10000, .size = 4096, .offset = 0, .fd = -1 };
    uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, in[8], b = 0;
    char err[200];
    int keep;

    CU_ASSERT_PTR_NOT_NULL_FATAL(pd);
    d.fd = ut_memfd(4096);
    keep = d.fd >= 0 ? dup(d.fd) : -1;
    CU_ASSERT_FATAL(keep >= 0);
    UT_EQ_FATAL(ob_mem_sync(&pd->mem, &d, 1, err, sizeof(err)), 0);
    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_MEMORY, 2);
    CU_ASSERT_FALSE(ob_pci_master_enabled(pd));
    UT_EQ(ob_pci_dma_write(pd, 0x10000, buf, sizeof(buf)), -1);
    UT_EQ(ob_pci_dma_read(pd, 0x10000, in, sizeof(in)), -1);
    CU_ASSERT(pread(keep, &b, 1, 0) == 1);
    UT_EQ(b, 0);
    /* refused at the gate, not as a memory fault */
    UT_EQ(pd->mem.faults, 0);

    wr(OB_PCI_COMMAND, OB_PCI_COMMAND_MEMORY | OB_PCI_COMMAND_MASTER, 2);
    CU_ASSERT_TRUE(ob_pci_master_enabled(pd));
    UT_EQ(ob_pci_dma_write(pd, 0x10000, buf, sizeof(buf)), 0);
    memset(in, 0, sizeof(in));
    UT_EQ(ob_pci_dma_read(pd, 0x10000, in, sizeof(in)), 0);
    UT_BYTES(in, buf, sizeof(buf));
    CU_ASSERT(pread(keep, &b, 1, 7) == 1);
    UT_EQ(b, 8);
    /* bounds still apply with mastering on */
    UT_EQ(ob_pci_dma_read(pd, 0x10ffc, in, sizeof(in)), -1);
    UT_EQ(pd->mem.faults, 1);
    close(keep);
}

static const struct ut_test tests[] = {
    UT_TEST(test_identity),
    UT_TEST(test_read_only_fields_ignore_writes),
    UT_TEST(test_command_write_mask),
    UT_TEST(test_status_write_one_to_clear),
    UT_TEST(test_status_interrupt_bit_follows_irq),
    UT_TEST(test_cache_line_and_interrupt_line_writable),
    UT_TEST(test_bar0_sizing),
    UT_TEST(test_unimplemented_bars_read_zero),
    UT_TEST(test_unaligned_accesses_compose),
    UT_TEST(test_register_bar_limits),
    UT_TEST(test_io_bar),
    UT_TEST(test_window_needs_memory_enable_and_address),
    UT_TEST(test_window_follows_bar_moves),
    UT_TEST(test_window_gone_while_sizing),
    UT_TEST(test_window_gone_on_memory_disable),
    UT_TEST(test_intx_disable_masks_line),
    UT_TEST(test_intx_disable_by_byte_write),
    UT_TEST(test_reset),
    UT_TEST(test_dma_requires_bus_master),
    UT_END,
};

int test_pci_register(void)
{
    static const struct ut_suite suite = { "pci", setup_pci, teardown_pci, tests };

    return ut_add_suite(&suite);
}
