/*
 * test_lsi.c - the LSI53C895A's PCI identity, BARs and register file:
 * reset values, write masks, read side effects, byte-wise splitting of
 * wide accesses, interrupt masks and the INTx level, chip and bus resets.
 */
#include <string.h>

#include "outboard/pci.h"
#include "lsi_ut.h"
#include "ut.h"

static uint32_t cfg(uint32_t addr, unsigned len)
{
    return ob_pci_config_read(lu.pd, addr, len);
}

/* ---- PCI ------------------------------------------------------------------ */

static void test_pci_identity(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    UT_EQ(cfg(OB_PCI_VENDOR_ID, 2), 0x1000);
    UT_EQ(cfg(OB_PCI_DEVICE_ID, 2), 0x0012);
    UT_EQ(cfg(OB_PCI_REVISION_ID, 1), 0x00);
    UT_EQ(cfg(OB_PCI_CLASS_PROG, 1), 0x00);
    UT_EQ(cfg(OB_PCI_CLASS_DEVICE, 2), 0x0100);
    UT_EQ(cfg(OB_PCI_HEADER_TYPE, 1), 0x00);
    UT_EQ(cfg(OB_PCI_LATENCY_TIMER, 1), 0xff);
    UT_EQ(cfg(OB_PCI_SUBSYSTEM_VENDOR, 2), 0x0000);
    UT_EQ(cfg(OB_PCI_SUBSYSTEM_ID, 2), 0x1000);
    UT_EQ(cfg(OB_PCI_INTERRUPT_PIN, 1), 0x01);
    UT_EQ(cfg(OB_PCI_STATUS, 2) & 0x10, 0);     /* no capability list */
    /* cache line size must read back (Linux pci_set_mwi) */
    ob_pci_config_write(lu.pd, OB_PCI_CACHE_LINE_SIZE, 0x10, 1);
    UT_EQ(cfg(OB_PCI_CACHE_LINE_SIZE, 1), 0x10);
    /* latency timer is read-only */
    ob_pci_config_write(lu.pd, OB_PCI_LATENCY_TIMER, 0x20, 1);
    UT_EQ(cfg(OB_PCI_LATENCY_TIMER, 1), 0xff);
    /* device-specific space writable, as in QEMU */
    ob_pci_config_write(lu.pd, 0x40, 0xa5a5a5a5, 4);
    UT_EQ(cfg(0x40, 4), 0xa5a5a5a5);
}

static void test_pci_bar_sizing(void)
{
    static const uint32_t want[7] = { 0xffffff01, 0xfffffc00, 0xffffe000, 0, 0, 0, 0 };
    unsigned i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    for (i = 0; i < 7; i++) {
        uint32_t a = OB_PCI_BAR0 + 4 * i;
        uint32_t orig = cfg(a, 4);

        ob_pci_config_write(lu.pd, a, 0xffffffff, 4);
        UT_EQ(cfg(a, 4), want[i]);
        ob_pci_config_write(lu.pd, a, orig, 4);
    }
    UT_EQ(cfg(OB_PCI_ROM_ADDRESS, 4), 0);
    UT_EQ(cfg(OB_PCI_BAR0, 4), LU_IO_BASE | 1);
    UT_EQ(cfg(OB_PCI_BAR0 + 4, 4), LU_MMIO_BASE);
    UT_EQ(cfg(OB_PCI_BAR0 + 8, 4), LU_RAMBAR_BASE);
}

static void test_pci_lsi53c810_variant(void)
{
    struct ob_device *d = NULL;
    char err[200];

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    CU_ASSERT_FATAL(ut_device_create(&lu.ctx, "lsi53c810,id=lsi1", &d, err,
                                     sizeof(err)) == 0);
    UT_EQ(ob_pci_config_read(ob_pci_from_dev(d), OB_PCI_DEVICE_ID, 2), 0x0001);
    UT_EQ(ob_pci_config_read(ob_pci_from_dev(d), OB_PCI_VENDOR_ID, 2), 0x1000);
}

/* ---- register file ---------------------------------------------------------- */

static void test_reg_reset_values(void)
{
    static const struct { uint8_t off, val; } want[] = {
        { R_SCNTL0, 0xc0 }, { R_SCNTL1, 0 }, { R_SCID, 0x07 }, { R_GPREG, 0x7f },
        { R_SFBR, 0 }, { R_DSTAT, 0x80 }, { R_SSTAT0, 0 }, { R_SSTAT1, 0 },
        { R_SSTAT2, 0x02 }, { R_ISTAT, 0 }, { R_ISTAT1, 0 }, { R_CTEST0, 0xff },
        { 0x19, 0x00 }, { R_CTEST2, 0x11 }, { R_CTEST3, 0 }, { 0x23, 0x00 },
        { R_DCMD, 0x40 }, { R_MACNTL, 0x0f }, { R_GPCNTL, 0x0f }, { R_RESPID0, 0x80 },
        { 0x4b, 0x00 }, { R_STEST4, 0xe0 }, { R_SBDL, 0x00 }, { 0x59, 0x00 },
        /* unimplemented offsets read all-ones, as in QEMU */
        { 0x44, 0xff }, { 0x45, 0xff }, { 0x49, 0xff }, { 0x4c, 0xff }, { 0x51, 0xff },
        { 0x53, 0xff }, { 0x54, 0xff }, { 0x5a, 0xff }, { 0xbc, 0xff }, { 0xd0, 0xff },
        { 0xe0, 0xff }, { 0xff, 0xff },
    };
    unsigned i, off;

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char msg[64];

        snprintf(msg, sizeof(msg), "register %#x", want[i].off);
        ut_check_u64(lu_rd8(want[i].off), want[i].val, msg, __LINE__, __FILE__, false);
    }
    for (off = R_DSA; off < 0x14; off++) {
        UT_EQ(lu_rd8(off), 0);
    }
    for (off = R_SCRATCHB; off < 0xa0; off++) {
        UT_EQ(lu_rd8(off), 0);
    }
}

static void test_reg_wide_access_is_bytewise(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    /* Linux sym_regtest: the write is dropped, the read is DSTAT..SSTAT2 */
    lu_wr32(R_DSTAT, 0xffffffff);
    UT_EQ(lu_rd32(R_DSTAT), 0x02000080);
    /* a 32-bit register through 1-, 2- and 4-byte accesses */
    lu_wr32(R_SCRATCHA, 0x11223344);
    UT_EQ(lu_rd8(R_SCRATCHA), 0x44);
    UT_EQ(lu_rd(R_SCRATCHA + 2, 2), 0x1122);
    lu_wr(R_SCRATCHA + 1, 0xbeef, 2);
    UT_EQ(lu_rd32(R_SCRATCHA), 0x11beef44);
    /* 8-byte access (TCG guests) spans two registers */
    lu_wr(R_SCRATCHA, 0x8877665544332211ull, 8);
    UT_EQ(lu_rd(R_SCRATCHA, 8), 0x8877665544332211ull);
    UT_EQ(lu_rd32(R_DMODE) & 0xff, 0x55);
    /* I/O BAR and the MMIO mirrors are the same register file */
    UT_EQ(lu.pd->ops->bar_read(lu.pd, 0, R_SCRATCHA, 4), 0x44332211);
    UT_EQ(lu.pd->ops->bar_read(lu.pd, 1, 0x100 + R_SCRATCHA, 4), 0x44332211);
    UT_EQ(lu.pd->ops->bar_read(lu.pd, 1, 0x300 + R_SCRATCHA, 4), 0x44332211);
    lu.pd->ops->bar_write(lu.pd, 0, R_SCRATCHB, 0xcafe, 2);
    UT_EQ(lu_rd(R_SCRATCHB, 2), 0xcafe);
    /* DBC is 24 bits, DCMD the byte above it */
    lu_wr32(R_DBC, 0xffffffff);
    UT_EQ(lu_rd32(R_DBC), 0x40ffffff);
}

static void test_reg_write_masks(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr8(R_SCNTL2, 0xff);
    UT_EQ(lu_rd8(R_SCNTL2), 0xf6);          /* WSR/WSS never stick */
    lu_wr8(R_CTEST3, 0xff);
    UT_EQ(lu_rd8(R_CTEST3), 0x0f);
    lu_wr8(R_CTEST2, 0xff);
    UT_EQ(lu_rd8(R_CTEST2), 0x19);          /* PCICIE | CM | DACK */
    lu_wr8(R_SDID, 0xff);
    UT_EQ(lu_rd8(R_SDID), 0x0f);
    lu_wr8(R_SCNTL1, 0x01);
    UT_EQ(lu_rd8(R_SCNTL1), 0x00);          /* SST is not stored */
    lu_wr8(R_DCNTL, 0x41 | 0x08);
    UT_EQ(lu_rd8(R_DCNTL), 0x09);           /* PFF never reads back */
    /* read-only registers ignore writes */
    lu_wr8(R_GPREG, 0);
    lu_wr8(R_SSTAT0, 0xff);
    lu_wr8(R_SBCL, 0xff);
    lu_wr8(R_SSID, 0xff);
    lu_wr8(R_CTEST0, 0);
    lu_wr8(R_DCMD, 0);
    lu_wr8(0x44, 0x12);
    UT_EQ(lu_rd8(R_GPREG), 0x7f);
    UT_EQ(lu_rd8(R_SSTAT0), 0);
    UT_EQ(lu_rd8(R_SBCL), 0);
    UT_EQ(lu_rd8(R_SSID), 0);
    UT_EQ(lu_rd8(R_CTEST0), 0xff);
    UT_EQ(lu_rd8(R_DCMD), 0x40);
    UT_EQ(lu_rd8(0x44), 0xff);
    /* SFBR reads back (QEMU always returns 0 here) */
    lu_wr8(R_SFBR, 0x5a);
    UT_EQ(lu_rd8(R_SFBR), 0x5a);
    /* plain read/write registers */
    lu_wr8(R_MBOX0, 0x12);
    lu_wr8(R_MBOX1, 0x34);
    UT_EQ(lu_rd(R_MBOX0, 2), 0x3412);
    lu_wr32(R_PMJAD1, 0xdeadbeef);
    lu_wr32(R_MMRS, 0x01020304);
    lu_wr32(R_CSBC, 0x55aa55aa);
    UT_EQ(lu_rd32(R_PMJAD1), 0xdeadbeef);
    UT_EQ(lu_rd32(R_MMRS), 0x01020304);
    UT_EQ(lu_rd32(R_CSBC), 0x55aa55aa);
    lu_wr32(0x9c, 0x77665544);              /* SCRATCHR */
    UT_EQ(lu.s->scratch[17], 0x77665544);
}

static void test_reg_dstat_read_clears(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr8(R_ISTAT, LSI_ISTAT0_ABRT);
    UT_EQ(lu_rd8(R_ISTAT) & 0x0f, LSI_ISTAT0_DIP);
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_ABRT);
    UT_EQ(lu_rd8(R_ISTAT) & LSI_ISTAT0_DIP, 0);
    UT_EQ(lu_rd8(R_DSTAT), 0x80);
    /* ABRT stays as written until the next ISTAT write */
    UT_EQ(lu_rd8(R_ISTAT), LSI_ISTAT0_ABRT);
    lu_wr8(R_ISTAT, 0);
    UT_EQ(lu_rd8(R_ISTAT), 0);
}

static void test_reg_sist_read_clears(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr8(R_STIME1, 0x01);                 /* the timer "expires" at once */
    UT_EQ(lu_rd8(R_ISTAT), LSI_ISTAT0_SIP);
    lu_wr8(R_SCNTL1, LSI_SCNTL1_RST);
    UT_EQ(lu_rd8(R_SSTAT0), LSI_SSTAT0_RST);
    /* a 16-bit read (Linux) clears both, SIST0 first */
    UT_EQ(lu_rd(R_SIST0, 2), (LSI_SIST1_GEN << 8) | LSI_SIST0_RST);
    UT_EQ(lu_rd(R_SIST0, 2), 0);
    UT_EQ(lu_rd8(R_ISTAT), 0);
    lu_wr8(R_SCNTL1, 0);
    UT_EQ(lu_rd8(R_SSTAT0), 0);
    /* writes to SIST are ignored */
    lu_wr8(R_SIST0, 0xff);
    UT_EQ(lu_rd8(R_SIST0), 0);
}

static void test_irq_masks_drive_intx(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    CU_ASSERT_FALSE(lu.pd->intx_level);
    lu_wr8(R_STIME1, 0x01);                 /* SIST1.GEN, masked */
    CU_ASSERT_FALSE(lu.pd->intx_level);
    lu_wr8(R_SIEN1, LSI_SIST1_GEN);         /* unmasking raises the line */
    CU_ASSERT_TRUE(lu.pd->intx_level);
    UT_EQ(cfg(OB_PCI_STATUS, 2) & OB_PCI_STATUS_INTERRUPT, OB_PCI_STATUS_INTERRUPT);
    lu_wr8(R_SIEN1, 0);
    CU_ASSERT_FALSE(lu.pd->intx_level);
    lu_wr8(R_SIEN1, LSI_SIST1_GEN);
    CU_ASSERT_TRUE(lu.pd->intx_level);
    UT_EQ(lu_rd8(R_SIST1), LSI_SIST1_GEN);  /* reading acknowledges */
    CU_ASSERT_FALSE(lu.pd->intx_level);
    UT_EQ(cfg(OB_PCI_STATUS, 2) & OB_PCI_STATUS_INTERRUPT, 0);

    lu_wr8(R_DIEN, LSI_DSTAT_ABRT);
    lu_wr8(R_ISTAT, LSI_ISTAT0_ABRT);
    CU_ASSERT_TRUE(lu.pd->intx_level);
    /* INTx disable in COMMAND masks the line, not the status bit */
    ob_pci_config_write(lu.pd, OB_PCI_COMMAND, OB_PCI_COMMAND_IO | OB_PCI_COMMAND_MEMORY |
                        OB_PCI_COMMAND_MASTER | OB_PCI_COMMAND_INTX_DISABLE, 2);
    UT_EQ(cfg(OB_PCI_STATUS, 2) & OB_PCI_STATUS_INTERRUPT, OB_PCI_STATUS_INTERRUPT);
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_ABRT);
    CU_ASSERT_FALSE(lu.pd->intx_level);
    UT_EQ(cfg(OB_PCI_STATUS, 2) & OB_PCI_STATUS_INTERRUPT, 0);
    /* SIP/DIP are set whatever the masks */
    lu_wr8(R_DIEN, 0);
    lu_wr8(R_ISTAT, LSI_ISTAT0_ABRT);
    UT_EQ(lu_rd8(R_ISTAT) & LSI_ISTAT0_DIP, LSI_ISTAT0_DIP);
    CU_ASSERT_FALSE(lu.pd->intx_level);
}

static void test_reg_ctest2_clears_sigp(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr8(R_ISTAT, LSI_ISTAT0_SIGP | LSI_ISTAT0_SEM);
    UT_EQ(lu_rd8(R_ISTAT), LSI_ISTAT0_SIGP | LSI_ISTAT0_SEM);
    UT_EQ(lu_rd8(R_CTEST2), 0x51);
    UT_EQ(lu_rd8(R_ISTAT), LSI_ISTAT0_SEM);
    UT_EQ(lu_rd8(R_CTEST2), 0x11);
}

static void test_reg_sbdl_and_sidl(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    UT_EQ(lu_rd(R_SBDL, 2), 0);
    lu.s->msg[0] = 0x80;
    lu.s->msg_len = 1;
    lu.s->sstat1 = LSI_PHASE_MI;
    UT_EQ(lu_rd(R_SBDL, 2), 0x80);          /* the byte on the bus in MSG IN */
    lu.s->msg_len = 0;
    UT_EQ(lu_rd8(R_SBDL), 0);               /* QEMU would assert here */
}

static void test_ram_bar_accesses(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu.pd->ops->bar_write(lu.pd, 2, 0x10, 0x11223344, 4);
    lu.pd->ops->bar_write(lu.pd, 2, 0x14, 0x55, 1);
    lu.pd->ops->bar_write(lu.pd, 2, 0x16, 0x7766, 2);
    lu.pd->ops->bar_write(lu.pd, 2, 0x1ff8, 0x0102030405060708ull, 8);
    UT_EQ(lu.pd->ops->bar_read(lu.pd, 2, 0x10, 8), 0x7766005511223344ull);
    UT_EQ(lu.pd->ops->bar_read(lu.pd, 2, 0x12, 2), 0x1122);
    UT_EQ(lu.pd->ops->bar_read(lu.pd, 2, 0x1ffc, 4), 0x01020304);
    UT_EQ(lu.s->script_ram[0x1ff8], 0x08);
    /* the register file is not touched */
    UT_EQ(lu_rd8(0x10), 0);
}

/* ---- resets --------------------------------------------------------------- */

static void test_srst_resets_registers_not_ram(void)
{
    struct lu_disk *k;

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    k = lu_add_disk(0, 0, 0);
    lu_wr32(R_SCRATCHA, 0x12345678);
    lu_wr32(R_DSA, 0x1000);
    lu_wr8(R_SCID, 0x47);
    lu_wr8(R_DIEN, 0x7f);
    lu_wr8(R_CCNTL1, 0x06);
    lu.pd->ops->bar_write(lu.pd, 2, 0, 0xabcdef01, 4);
    lu_wr8(R_ISTAT, LSI_ISTAT0_SRST);       /* SeaBIOS never clears it */
    UT_EQ(lu_rd8(R_ISTAT), 0);
    UT_EQ(lu_rd32(R_SCRATCHA), 0);
    UT_EQ(lu_rd32(R_DSA), 0);
    UT_EQ(lu_rd8(R_SCID), 0x07);
    UT_EQ(lu_rd8(R_DIEN), 0);
    UT_EQ(lu_rd8(R_CCNTL1), 0);
    UT_EQ(lu_rd8(R_DCMD), 0x40);
    UT_EQ(lu.pd->ops->bar_read(lu.pd, 2, 0, 4), 0xabcdef01);
    /* the devices on the bus were reset and report it */
    UT_EQ(k->resets, 1);
    CU_ASSERT_TRUE(k->sd.has_unit_attention);
    /* config space is not the chip's to reset */
    UT_EQ(cfg(OB_PCI_BAR0 + 4, 4), LU_MMIO_BASE);
}

static void test_device_reset(void)
{
    struct lu_disk *k;

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    k = lu_add_disk(0, 0, 0);
    lu_wr32(R_TEMP, 0x12345678);
    lu_wr8(R_STIME1, 1);
    lu_wr8(R_SIEN1, LSI_SIST1_GEN);
    CU_ASSERT_TRUE(lu.pd->intx_level);
    ob_pci_reset(lu.pd);
    CU_ASSERT_FALSE(lu.pd->intx_level);
    UT_EQ(k->resets, 1);
    UT_EQ(cfg(OB_PCI_COMMAND, 2), 0);
    /* decoding is off after a function reset: re-enable to look */
    ob_pci_config_write(lu.pd, OB_PCI_BAR0 + 4, LU_MMIO_BASE, 4);
    ob_pci_config_write(lu.pd, OB_PCI_COMMAND, OB_PCI_COMMAND_MEMORY, 2);
    UT_EQ(lu_rd32(R_TEMP), 0);
    UT_EQ(lu_rd8(R_SIST1), 0);
}

static void test_scntl1_bus_reset(void)
{
    struct lu_disk *k;

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    k = lu_add_disk(0, 3, 0);
    lu_wr32(R_SCRATCHA, 0x42);
    lu_wr8(R_SIEN0, LSI_SIST0_RST);
    lu_wr8(R_SCNTL1, LSI_SCNTL1_RST);
    UT_EQ(k->resets, 1);
    UT_EQ(lu_rd8(R_SSTAT0), LSI_SSTAT0_RST);
    CU_ASSERT_TRUE(lu.pd->intx_level);
    /* held: no second reset */
    lu_wr8(R_SCNTL1, LSI_SCNTL1_RST);
    UT_EQ(k->resets, 1);
    /* Linux's bus check: only SSTAT0.RST, the rest of the bus idle */
    UT_EQ(lu_rd8(R_SSTAT2), 0x02);
    UT_EQ(lu_rd(R_SBDL, 2), 0);
    UT_EQ(lu_rd8(R_SBCL), 0);
    lu_wr8(R_SCNTL1, 0);
    UT_EQ(lu_rd8(R_SSTAT0), 0);
    UT_EQ(lu_rd8(R_SIST0), LSI_SIST0_RST);
    CU_ASSERT_FALSE(lu.pd->intx_level);
    UT_EQ(lu_rd32(R_SCRATCHA), 0x42);       /* the HBA registers are kept */
}

struct dump_seen {
    unsigned n;
    uint64_t scratcha, scratchd, dstat;
    unsigned scratcha_width;
};

static void dump_cb(void *opaque, const char *name, uint64_t value, unsigned width)
{
    struct dump_seen *d = opaque;

    d->n++;
    if (strcmp(name, "SCRATCHA") == 0) {
        d->scratcha = value;
        d->scratcha_width = width;
    } else if (strcmp(name, "SCRATCHD") == 0) {
        d->scratchd = value;
    } else if (strcmp(name, "DSTAT") == 0) {
        d->dstat = value;
    }
}

/* The management interface's register dump: values, widths, no side effects. */
static void test_reg_dump(void)
{
    struct dump_seen d = { 0 };

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr32(R_SCRATCHA, 0xa1b2c3d4);
    lu_wr32(0x64, 0x01020304);                  /* SCRATCHD */
    lu.s->dstat = LSI_DSTAT_SIR;
    lu.pd->dev.type->dump_regs(&lu.pd->dev, dump_cb, &d);
    UT_EQ(d.scratcha, 0xa1b2c3d4);
    UT_EQ(d.scratcha_width, 4);
    UT_EQ(d.scratchd, 0x01020304);
    UT_EQ(d.dstat, LSI_DSTAT_SIR);
    UT_EQ(lu.s->dstat, LSI_DSTAT_SIR);          /* not a read: nothing cleared */
    CU_ASSERT(d.n > 60);
}

static const struct ut_test lsi_tests[] = {
    UT_TEST(test_reg_dump),
    UT_TEST(test_pci_identity),
    UT_TEST(test_pci_bar_sizing),
    UT_TEST(test_pci_lsi53c810_variant),
    UT_TEST(test_reg_reset_values),
    UT_TEST(test_reg_wide_access_is_bytewise),
    UT_TEST(test_reg_write_masks),
    UT_TEST(test_reg_dstat_read_clears),
    UT_TEST(test_reg_sist_read_clears),
    UT_TEST(test_irq_masks_drive_intx),
    UT_TEST(test_reg_ctest2_clears_sigp),
    UT_TEST(test_reg_sbdl_and_sidl),
    UT_TEST(test_ram_bar_accesses),
    UT_TEST(test_srst_resets_registers_not_ram),
    UT_TEST(test_device_reset),
    UT_TEST(test_scntl1_bus_reset),
    UT_END,
};

static const struct ut_suite lsi_suite = {
    .name = "lsi",
    .setup = lu_setup,
    .teardown = lu_teardown,
    .tests = lsi_tests,
};

int test_lsi_register(void)
{
    return ut_add_suite(&lsi_suite);
}
