/*
 * test_edu.c - the edu model (hw/edu/edu.c) through its PCI ops, with a
 * real loop context: deferred factorial and DMA complete when the test
 * runs the loop once (event_base_loop(base, EVLOOP_NONBLOCK)).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "outboard/ctx.h"
#include "outboard/pci.h"
#include "ut.h"

#define REG_ID          0x00
#define REG_LIVENESS    0x04
#define REG_FACT        0x08
#define REG_STATUS      0x20
#define REG_IRQ_STATUS  0x24
#define REG_IRQ_RAISE   0x60
#define REG_IRQ_ACK     0x64
#define REG_DMA_SRC     0x80
#define REG_DMA_DST     0x88
#define REG_DMA_CNT     0x90
#define REG_DMA_CMD     0x98

#define DMA_START       0x1u
#define DMA_TO_RAM      0x2u
#define DMA_IRQ         0x4u

#define BUF_BASE        0x40000u
#define BUF_SIZE        4096u
#define RAM_GPA         0x0u
#define RAM_SIZE        (64u * 1024u)

/* The CUnit fixture hooks take no argument, so the fixture is file-scope. */
static struct {
    struct ob_ctx ctx;
    struct ob_pci_dev *pd;
    int ram;        /* the test's descriptor of the guest RAM memfd */
} fx;

/* Maps a 64 KiB memfd as guest RAM at RAM_GPA for PD; returns a dup of it. */
static int attach_ram(struct ob_pci_dev *pd)
{
    int fd = ut_memfd(RAM_SIZE);
    int keep = fd >= 0 ? dup(fd) : -1;
    struct ob_mem_desc d = { .gpa = RAM_GPA, .size = RAM_SIZE, .offset = 0, .fd = fd };
    char err[200];

    if (keep < 0 || ob_mem_sync(&pd->mem, &d, 1, err, sizeof(err)) < 0) {
        if (keep >= 0) {
            close(keep);
        }
        return -1;
    }
    /* a guest driver enables memory decoding and bus mastering */
    ob_pci_config_write(pd, OB_PCI_COMMAND, OB_PCI_COMMAND_MEMORY | OB_PCI_COMMAND_MASTER, 2);
    return keep;
}

static struct ob_pci_dev *create_edu(const char *spec)
{
    struct ob_device *d = NULL;
    char err[200];

    if (ut_device_create(&fx.ctx, spec, &d, err, sizeof(err)) < 0) {
        return NULL;
    }
    return ob_pci_from_dev(d);
}

static void setup_edu(void)
{
    memset(&fx, 0, sizeof(fx));
    fx.ram = -1;
    if (ut_ctx_open(&fx.ctx) < 0) {
        return;
    }
    fx.pd = create_edu("edu,id=e0");
    if (fx.pd) {
        fx.ram = attach_ram(fx.pd);
    }
    if (fx.ram < 0) {
        fx.pd = NULL;
    }
}

static void teardown_edu(void)
{
    if (fx.ctx.base) {
        ob_ctx_fini(&fx.ctx);
    }
    if (fx.ram >= 0) {
        close(fx.ram);
    }
    memset(&fx, 0, sizeof(fx));
}

static uint64_t rd(unsigned off, unsigned size)
{
    return fx.pd->ops->bar_read(fx.pd, 0, off, size);
}

static void wr(unsigned off, uint64_t val, unsigned size)
{
    fx.pd->ops->bar_write(fx.pd, 0, off, val, size);
}

static uint64_t r32(unsigned off)
{
    return rd(off, 4);
}

static void w32(unsigned off, uint32_t val)
{
    wr(off, val, 4);
}

/* Lets deferred work (factorial, DMA) run. */
static void run_loop(void)
{
    CU_ASSERT(event_base_loop(fx.ctx.base, EVLOOP_NONBLOCK) >= 0);
}

static void ram_fill(uint64_t gpa, size_t len, uint8_t seed)
{
    uint8_t buf[BUF_SIZE];
    size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = (uint8_t)(seed + i);
    }
    CU_ASSERT(pwrite(fx.ram, buf, len, (off_t)(gpa - RAM_GPA)) == (ssize_t)len);
}

static void ram_expect(uint64_t gpa, size_t len, uint8_t seed)
{
    uint8_t got[BUF_SIZE], want[BUF_SIZE];
    size_t i;

    for (i = 0; i < len; i++) {
        want[i] = (uint8_t)(seed + i);
    }
    CU_ASSERT_FATAL(pread(fx.ram, got, len, (off_t)(gpa - RAM_GPA)) == (ssize_t)len);
    UT_BYTES(got, want, len);
}

static bool ram_is_zero(uint64_t gpa, size_t len)
{
    uint8_t got[BUF_SIZE];
    size_t i;

    if (pread(fx.ram, got, len, (off_t)(gpa - RAM_GPA)) != (ssize_t)len) {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (got[i]) {
            return false;
        }
    }
    return true;
}

static void dma_program(uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
    wr(REG_DMA_SRC, src, 8);
    wr(REG_DMA_DST, dst, 8);
    wr(REG_DMA_CNT, cnt, 8);
    wr(REG_DMA_CMD, cmd, 8);
}

/* ---- identification, liveness ------------------------------------------- */

static void test_identification(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    UT_EQ(r32(REG_ID), 0x010000ed);
    w32(REG_ID, 0);
    UT_EQ(r32(REG_ID), 0x010000ed);
}

static void test_liveness_complement(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    UT_EQ(r32(REG_LIVENESS), 0xffffffff);
    w32(REG_LIVENESS, 0x12345678);
    UT_EQ(r32(REG_LIVENESS), 0xedcba987);
    w32(REG_LIVENESS, 0xffffffff);
    UT_EQ(r32(REG_LIVENESS), 0);
}

/* ---- factorial ------------------------------------------------------------ */

static uint64_t factorial(uint32_t n)
{
    w32(REG_FACT, n);
    UT_EQ(r32(REG_STATUS) & 1, 1);     /* busy until the loop ran */
    run_loop();
    UT_EQ(r32(REG_STATUS) & 1, 0);
    return r32(REG_FACT);
}

static void test_factorial_values(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    UT_EQ(factorial(0), 1);
    UT_EQ(factorial(1), 1);
    UT_EQ(factorial(5), 120);
    UT_EQ(factorial(10), 3628800);
    UT_EQ(factorial(12), 479001600);
    /* 32-bit wrapping */
    UT_EQ(factorial(13), 1932053504);
    UT_EQ(factorial(20), 0x82b40000);
    UT_EQ(factorial(33), 0x80000000);
    UT_EQ(factorial(34), 0);
    /* no interrupt unless asked for */
    UT_EQ(r32(REG_IRQ_STATUS), 0);
    CU_ASSERT_FALSE(fx.pd->intx_level);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A guest-chosen N must not stall the loop (every device and connection of
 * the process waits meanwhile): n! is 0 mod 2^32 for every n >= 34. */
static void test_factorial_large_n_is_prompt(void)
{
    char msg[128];
    double t0, elapsed;

    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    t0 = now_s();
    UT_EQ(factorial(0xffffffff), 0);
    elapsed = now_s() - t0;
    snprintf(msg, sizeof(msg), "factorial(0xffffffff) within 250 ms (took %.0f ms)",
             elapsed * 1e3);
    CU_assertImplementation(elapsed < 0.25, __LINE__, msg, __FILE__, "", CU_FALSE);
    UT_EQ(factorial(100000), 0);
}

static void test_factorial_write_while_busy_ignored(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    w32(REG_FACT, 5);
    w32(REG_FACT, 6);
    UT_EQ(r32(REG_STATUS) & 1, 1);
    run_loop();
    UT_EQ(r32(REG_FACT), 120);
}

static void test_factorial_irq(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    w32(REG_STATUS, 0x80);
    UT_EQ(r32(REG_STATUS), 0x80);
    w32(REG_FACT, 4);
    UT_EQ(r32(REG_STATUS), 0x81);
    UT_EQ(r32(REG_IRQ_STATUS), 0);
    CU_ASSERT_FALSE(fx.pd->intx_level);
    run_loop();
    UT_EQ(r32(REG_FACT), 24);
    UT_EQ(r32(REG_STATUS), 0x80);
    UT_EQ(r32(REG_IRQ_STATUS), 0x1);
    CU_ASSERT_TRUE(fx.pd->intx_level);
    UT_EQ(ob_pci_config_read(fx.pd, OB_PCI_STATUS, 2) & OB_PCI_STATUS_INTERRUPT,
          OB_PCI_STATUS_INTERRUPT);
    w32(REG_IRQ_ACK, 0x1);
    UT_EQ(r32(REG_IRQ_STATUS), 0);
    CU_ASSERT_FALSE(fx.pd->intx_level);
}

static void test_status_only_bit7_writable(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    w32(REG_STATUS, 0xffffffff);
    UT_EQ(r32(REG_STATUS), 0x80);
    w32(REG_STATUS, 0x1);
    UT_EQ(r32(REG_STATUS), 0);
    /* clearing bit 7 while busy keeps the busy bit */
    w32(REG_STATUS, 0x80);
    w32(REG_FACT, 3);
    w32(REG_STATUS, 0);
    UT_EQ(r32(REG_STATUS), 0x1);
    run_loop();
    UT_EQ(r32(REG_IRQ_STATUS), 0);
}

/* ---- interrupts ------------------------------------------------------------ */

static void test_irq_raise_ack_status(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    w32(REG_IRQ_RAISE, 0x5);
    UT_EQ(r32(REG_IRQ_STATUS), 0x5);
    CU_ASSERT_TRUE(fx.pd->intx_level);
    CU_ASSERT_TRUE(fx.pd->intx.level);
    w32(REG_IRQ_RAISE, 0x100);
    UT_EQ(r32(REG_IRQ_STATUS), 0x105);
    w32(REG_IRQ_ACK, 0x1);
    UT_EQ(r32(REG_IRQ_STATUS), 0x104);
    CU_ASSERT_TRUE(fx.pd->intx_level);
    w32(REG_IRQ_ACK, 0x104);
    UT_EQ(r32(REG_IRQ_STATUS), 0);
    CU_ASSERT_FALSE(fx.pd->intx_level);
    CU_ASSERT_FALSE(fx.pd->intx.level);
    /* raising nothing asserts nothing; the raise/ack registers read all-ones */
    w32(REG_IRQ_RAISE, 0);
    CU_ASSERT_FALSE(fx.pd->intx_level);
    UT_EQ(rd(REG_IRQ_RAISE, 4), UINT64_MAX);
    UT_EQ(rd(REG_IRQ_ACK, 4), UINT64_MAX);
}

/* ---- access widths --------------------------------------------------------- */

static void test_wrong_access_sizes(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    UT_EQ(rd(REG_ID, 2), UINT64_MAX);
    UT_EQ(rd(REG_ID, 1), UINT64_MAX);
    UT_EQ(rd(REG_ID, 8), UINT64_MAX);
    UT_EQ(rd(REG_LIVENESS, 2), UINT64_MAX);
    UT_EQ(rd(REG_DMA_SRC, 2), UINT64_MAX);
    UT_EQ(rd(REG_DMA_CMD, 1), UINT64_MAX);
    wr(REG_LIVENESS, 0x1234, 2);
    UT_EQ(r32(REG_LIVENESS), 0xffffffff);
    wr(REG_FACT, 5, 8);
    UT_EQ(r32(REG_STATUS), 0);
    wr(REG_IRQ_RAISE, 1, 2);
    UT_EQ(r32(REG_IRQ_STATUS), 0);
    wr(REG_DMA_SRC, 0x40000, 2);
    UT_EQ(rd(REG_DMA_SRC, 8), 0);
    wr(REG_DMA_CMD, DMA_START, 1);
    UT_EQ(rd(REG_DMA_CMD, 8), 0);
    /* unknown registers */
    UT_EQ(r32(0x10), UINT64_MAX);
    UT_EQ(rd(0xa0, 8), UINT64_MAX);
}

static void test_dma_registers_8_and_4_bytes(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    wr(REG_DMA_SRC, UINT64_C(0x123456789a), 8);
    UT_EQ(rd(REG_DMA_SRC, 8), UINT64_C(0x123456789a));
    wr(REG_DMA_DST, 0x40010, 4);
    UT_EQ(rd(REG_DMA_DST, 4), 0x40010);
    wr(REG_DMA_CNT, 16, 8);
    UT_EQ(rd(REG_DMA_CNT, 8), 16);
}

/* ---- DMA -------------------------------------------------------------------- */

static void test_dma_ram_to_buffer_and_back(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    ram_fill(0x1000, 256, 0x30);
    dma_program(0x1000, BUF_BASE + 0x100, 256, DMA_START);
    UT_EQ(rd(REG_DMA_CMD, 8) & DMA_START, DMA_START);
    run_loop();
    UT_EQ(rd(REG_DMA_CMD, 8) & DMA_START, 0);
    UT_EQ(r32(REG_IRQ_STATUS), 0);

    dma_program(BUF_BASE + 0x100, 0x8000, 256, DMA_START | DMA_TO_RAM);
    CU_ASSERT_TRUE(ram_is_zero(0x8000, 256));     /* not before the loop ran */
    run_loop();
    UT_EQ(rd(REG_DMA_CMD, 8), DMA_TO_RAM);
    ram_expect(0x8000, 256, 0x30);
    CU_ASSERT_TRUE(ram_is_zero(0x8000 + 256, 16));
    UT_EQ(fx.pd->mem.faults, 0);
}

static void test_dma_whole_buffer(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    ram_fill(0x2000, BUF_SIZE, 0x01);
    dma_program(0x2000, BUF_BASE, BUF_SIZE, DMA_START);
    run_loop();
    dma_program(BUF_BASE, 0x4000, BUF_SIZE, DMA_START | DMA_TO_RAM);
    run_loop();
    ram_expect(0x4000, BUF_SIZE, 0x01);
    /* the last byte of the buffer on its own */
    dma_program(BUF_BASE + BUF_SIZE - 1, 0x9000, 1, DMA_START | DMA_TO_RAM);
    run_loop();
    ram_expect(0x9000, 1, (uint8_t)(0x01 + BUF_SIZE - 1));
}

static void test_dma_irq(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    dma_program(0x1000, BUF_BASE, 16, DMA_START | DMA_IRQ);
    UT_EQ(r32(REG_IRQ_STATUS), 0);
    CU_ASSERT_FALSE(fx.pd->intx_level);
    run_loop();
    UT_EQ(r32(REG_IRQ_STATUS), 0x100);
    CU_ASSERT_TRUE(fx.pd->intx_level);
    UT_EQ(rd(REG_DMA_CMD, 8), DMA_IRQ);
    w32(REG_IRQ_ACK, 0x100);
    CU_ASSERT_FALSE(fx.pd->intx_level);
}

/* Starts a DMA that must be refused: nothing runs, nothing changes. */
static void expect_dma_refused(uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
    dma_program(src, dst, cnt, cmd | DMA_START | DMA_IRQ);
    UT_EQ(rd(REG_DMA_CMD, 8) & DMA_START, 0);
    run_loop();
    UT_EQ(r32(REG_IRQ_STATUS), 0);
    CU_ASSERT_TRUE(ram_is_zero(0x1000, 0x100));
    /* the registers are not frozen: a refused command is not running */
    wr(REG_DMA_CNT, 7, 8);
    UT_EQ(rd(REG_DMA_CNT, 8), 7);
}

static void test_dma_outside_buffer_ignored(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    /* RAM -> device: the destination must lie in the buffer */
    expect_dma_refused(0x8000, BUF_BASE - 1, 16, 0);
    expect_dma_refused(0x8000, BUF_BASE + BUF_SIZE - 8, 16, 0);
    expect_dma_refused(0x8000, BUF_BASE + BUF_SIZE, 1, 0);
    expect_dma_refused(0x8000, BUF_BASE, BUF_SIZE + 1, 0);
    expect_dma_refused(0x8000, 0, 16, 0);
    expect_dma_refused(0x8000, UINT64_MAX - 7, 16, 0);
    expect_dma_refused(0x8000, BUF_BASE + 16, UINT64_MAX - 8, 0);
    /* device -> RAM: the source must */
    expect_dma_refused(BUF_BASE - 16, 0x1000, 32, DMA_TO_RAM);
    expect_dma_refused(BUF_BASE + 0x800, 0x1000, 0x801, DMA_TO_RAM);
    expect_dma_refused(0x1000, 0x1000, 16, DMA_TO_RAM);
}

static void test_dma_registers_frozen_while_running(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    ram_fill(0x1000, 64, 0x70);
    dma_program(0x1000, BUF_BASE, 64, DMA_START);
    wr(REG_DMA_SRC, 0x3000, 8);
    wr(REG_DMA_DST, BUF_BASE + 0x200, 8);
    wr(REG_DMA_CNT, 8, 4);
    wr(REG_DMA_CMD, DMA_START | DMA_TO_RAM | DMA_IRQ, 8);
    UT_EQ(rd(REG_DMA_SRC, 8), 0x1000);
    UT_EQ(rd(REG_DMA_DST, 8), BUF_BASE);
    UT_EQ(rd(REG_DMA_CNT, 8), 64);
    UT_EQ(rd(REG_DMA_CMD, 8), DMA_START);
    run_loop();
    UT_EQ(r32(REG_IRQ_STATUS), 0);
    /* the transfer used the original values: the buffer holds RAM[0x1000..] */
    dma_program(BUF_BASE, 0x6000, 64, DMA_START | DMA_TO_RAM);
    UT_EQ(rd(REG_DMA_SRC, 8), BUF_BASE);
    run_loop();
    ram_expect(0x6000, 64, 0x70);
}

static void test_dma_mask_clamps_ram_address(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    ram_fill(0x1000, 32, 0x90);
    /* default mask 0xfffffff: bit 28 and up are dropped */
    dma_program(UINT64_C(0xf0000000) | 0x1000, BUF_BASE, 32, DMA_START);
    run_loop();
    dma_program(BUF_BASE, UINT64_C(0x1230000000) | 0x5000, 32, DMA_START | DMA_TO_RAM);
    run_loop();
    ram_expect(0x5000, 32, 0x90);
    UT_EQ(fx.pd->mem.faults, 0);
}

static void test_dma_mask_property(void)
{
    struct ob_pci_dev *pd1 = fx.pd, *pd2 = create_edu("edu,id=e1,dma_mask=0xfff");
    int ram1 = fx.ram, ram2;

    CU_ASSERT_PTR_NOT_NULL_FATAL(pd1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd2);
    ram2 = attach_ram(pd2);
    CU_ASSERT_FATAL(ram2 >= 0);
    /* drive e1 (its own RAM) with the fixture's helpers */
    fx.pd = pd2;
    fx.ram = ram2;
    ram_fill(0xabc, 4, 0xc0);
    dma_program(0x7abc, BUF_BASE, 4, DMA_START);          /* -> 0xabc */
    run_loop();
    dma_program(BUF_BASE, 0x5ff0, 4, DMA_START | DMA_TO_RAM);  /* -> 0xff0 */
    run_loop();
    ram_expect(0xff0, 4, 0xc0);
    CU_ASSERT_TRUE(ram_is_zero(0x5ff0, 4));
    UT_EQ(pd2->mem.faults, 0);
    fx.pd = pd1;
    fx.ram = ram1;
    close(ram2);
}

static void test_dma_without_bus_master_moves_nothing(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    ram_fill(0x1000, 16, 0x11);
    dma_program(0x1000, BUF_BASE, 16, DMA_START);
    run_loop();
    ob_pci_config_write(fx.pd, OB_PCI_COMMAND, OB_PCI_COMMAND_MEMORY, 2);
    dma_program(BUF_BASE, 0x3000, 16, DMA_START | DMA_TO_RAM | DMA_IRQ);
    run_loop();
    CU_ASSERT_TRUE(ram_is_zero(0x3000, 16));
    /* the command still completes */
    UT_EQ(rd(REG_DMA_CMD, 8) & DMA_START, 0);
}

static void test_dma_to_unmapped_ram_faults(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    dma_program(BUF_BASE, RAM_SIZE - 8, 16, DMA_START | DMA_TO_RAM);
    run_loop();
    UT_EQ(fx.pd->mem.faults, 1);
    UT_EQ(rd(REG_DMA_CMD, 8) & DMA_START, 0);
    dma_program(0x0ffff000, BUF_BASE, 16, DMA_START);
    run_loop();
    UT_EQ(fx.pd->mem.faults, 2);
}

/* ---- reset ------------------------------------------------------------------ */

static void test_reset_clears_state(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    w32(REG_LIVENESS, 0x1);
    w32(REG_STATUS, 0x80);
    w32(REG_IRQ_RAISE, 0x8);
    wr(REG_DMA_SRC, 0x1000, 8);
    wr(REG_DMA_CNT, 16, 8);
    w32(REG_FACT, 5);
    ob_pci_reset(fx.pd);
    UT_EQ(r32(REG_LIVENESS), 0xffffffff);
    UT_EQ(r32(REG_STATUS), 0);
    UT_EQ(r32(REG_IRQ_STATUS), 0);
    CU_ASSERT_FALSE(fx.pd->intx_level);
    UT_EQ(rd(REG_DMA_SRC, 8), 0);
    UT_EQ(rd(REG_DMA_CNT, 8), 0);
    /* the pending factorial was cancelled */
    run_loop();
    UT_EQ(r32(REG_FACT), 0);
    UT_EQ(r32(REG_IRQ_STATUS), 0);
}

static void test_reset_cancels_running_dma(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.pd);
    ram_fill(0x1000, 16, 0x11);
    dma_program(0x1000, BUF_BASE, 16, DMA_START);
    run_loop();
    dma_program(BUF_BASE, 0x3000, 16, DMA_START | DMA_TO_RAM | DMA_IRQ);
    ob_pci_reset(fx.pd);
    UT_EQ(rd(REG_DMA_CMD, 8), 0);
    run_loop();
    CU_ASSERT_TRUE(ram_is_zero(0x3000, 16));
    UT_EQ(r32(REG_IRQ_STATUS), 0);
}

static const struct ut_test tests[] = {
    UT_TEST(test_identification),
    UT_TEST(test_liveness_complement),
    UT_TEST(test_factorial_values),
    UT_TEST(test_factorial_large_n_is_prompt),
    UT_TEST(test_factorial_write_while_busy_ignored),
    UT_TEST(test_factorial_irq),
    UT_TEST(test_status_only_bit7_writable),
    UT_TEST(test_irq_raise_ack_status),
    UT_TEST(test_wrong_access_sizes),
    UT_TEST(test_dma_registers_8_and_4_bytes),
    UT_TEST(test_dma_ram_to_buffer_and_back),
    UT_TEST(test_dma_whole_buffer),
    UT_TEST(test_dma_irq),
    UT_TEST(test_dma_outside_buffer_ignored),
    UT_TEST(test_dma_registers_frozen_while_running),
    UT_TEST(test_dma_mask_clamps_ram_address),
    UT_TEST(test_dma_mask_property),
    UT_TEST(test_dma_without_bus_master_moves_nothing),
    UT_TEST(test_dma_to_unmapped_ram_faults),
    UT_TEST(test_reset_clears_state),
    UT_TEST(test_reset_cancels_running_dma),
    UT_END,
};

int test_edu_register(void)
{
    static const struct ut_suite suite = { "edu", setup_edu, teardown_edu, tests };

    return ut_add_suite(&suite);
}
