/*
 * it_config.c - config space as the proxy sees it: identity, BAR sizing,
 * BAR decoding gated by COMMAND, INTx status/disable bits, DEVICE_RESET.
 */
#include "it.h"

#define EDU_BAR0_SIZE  0x100000u
#define EDU_ID         0x010000edu

static void test_identity(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];

    IT_REQUIRE(it_spawn_edu(&r) == 0);
    IT_EQ(it_cfg_rd(px, 0x00, 2), 0x1234);
    IT_EQ(it_cfg_rd(px, 0x02, 2), 0x11e8);
    IT_EQ(it_cfg_rd(px, 0x00, 4), 0x11e81234);
    IT_EQ(it_cfg_rd(px, 0x08, 1), 0x10);          /* revision */
    IT_EQ(it_cfg_rd(px, 0x09, 1), 0x00);          /* prog-if */
    IT_EQ(it_cfg_rd(px, 0x0a, 2), 0x00ff);        /* class: other unclassified */
    IT_EQ(it_cfg_rd(px, 0x0e, 1), 0x00);          /* header type 0 */
    IT_EQ(it_cfg_rd(px, 0x2c, 2), 0x1af4);        /* subsystem vendor */
    IT_EQ(it_cfg_rd(px, 0x2e, 2), 0x1100);        /* subsystem */
    IT_EQ(it_cfg_rd(px, 0x3d, 1), 1);             /* interrupt pin A */
    IT_EQ(it_cfg_rd(px, 0x04, 2), 0);             /* command: nothing enabled */
    /* read-only: a write to the IDs changes nothing */
    it_cfg_wr(px, 0x00, 0xdeadbeef, 4);
    IT_EQ(it_cfg_rd(px, 0x00, 4), 0x11e81234);
    it_cfg_wr(px, 0x3d, 3, 1);
    IT_EQ(it_cfg_rd(px, 0x3d, 1), 1);
    /* interrupt line is plain read/write */
    it_cfg_wr(px, 0x3c, 0x0b, 1);
    IT_EQ(it_cfg_rd(px, 0x3c, 1), 0x0b);
    /* the probe sees the same */
    IT_REQUIRE(IT_OK(px, ob_proxy_probe(px)));
    IT_EQ(px->info.vendor_id, 0x1234);
    IT_EQ(px->info.device_id, 0x11e8);
    IT_EQ(px->info.class_id, 0x00ff);
    IT_EQ(px->info.subsystem_id, 0x1100);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_bar_sizing(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    unsigned i;

    IT_REQUIRE(it_spawn_edu(&r) == 0);
    IT_REQUIRE(IT_OK(px, ob_proxy_probe(px)));
    IT_EQ(px->info.bar[0].readback, 0xfff00000u);
    IT_EQ(px->info.bar[0].size, EDU_BAR0_SIZE);
    IT_ASSERT(!px->info.bar[0].io);
    for (i = 1; i < OB_PROXY_NUM_BARS; i++) {
        IT_EQ(px->info.bar[i].readback, 0);
        IT_EQ(px->info.bar[i].size, 0);
    }
    /* the probe restored the original values */
    for (i = 0; i < OB_PROXY_NUM_BARS; i++) {
        IT_EQ(it_cfg_rd(px, 0x10 + 4 * i, 4), 0);
    }
    /* no expansion ROM */
    it_cfg_wr(px, 0x30, 0xffffffffu, 4);
    IT_EQ(it_cfg_rd(px, 0x30, 4), 0);
    /* address bits below the size are not writable */
    it_cfg_wr(px, 0x10, 0xfebfffffu, 4);
    IT_EQ(it_cfg_rd(px, 0x10, 4), 0xfeb00000u);
    /* byte-wise sizing gives the same bits */
    it_cfg_wr(px, 0x12, 0xffff, 2);
    IT_EQ(it_cfg_rd(px, 0x10, 4), 0xfff00000u);
out:
    IT_EQ(it_stop(&r), 0);
}

/* A BAR read that must be refused: the RET is all-ones. */
static uint64_t raw_read(struct ob_proxy *px, uint64_t addr, bool memory)
{
    uint64_t v = 0;

    if (!IT_OK(px, ob_proxy_bar_read(px, addr, 4, memory, &v))) {
        return 0;
    }
    return v;
}

static void test_bar_decoding(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    const uint64_t base = 0xfe000000u, other = 0xfd000000u;

    IT_REQUIRE(it_spawn_edu(&r) == 0);
    IT_REQUIRE(IT_OK(px, ob_proxy_probe(px)));
    /* BAR programmed, decoding off: refused, and the connection serves on */
    it_cfg_wr(px, 0x10, (uint32_t)base, 4);
    IT_EQ(raw_read(px, base, true), UINT64_MAX);
    IT_EQ(it_cfg_rd(px, 0x00, 2), 0x1234);
    /* I/O enable alone does not decode a memory BAR */
    it_cfg_wr(px, 0x04, 0x1, 2);
    IT_EQ(raw_read(px, base, true), UINT64_MAX);
    /* memory enabled: decodes at the programmed address, in memory space only */
    it_cfg_wr(px, 0x04, 0x2, 2);
    IT_EQ(raw_read(px, base, true), EDU_ID);
    IT_EQ(raw_read(px, base + EDU_BAR0_SIZE - 4, true), 0xffffffffu); /* no register */
    IT_EQ(raw_read(px, base, false), UINT64_MAX);
    IT_EQ(raw_read(px, base - 4, true), UINT64_MAX);
    IT_EQ(raw_read(px, base + EDU_BAR0_SIZE, true), UINT64_MAX);
    /* moved: the old address stops decoding */
    it_cfg_wr(px, 0x10, (uint32_t)other, 4);
    IT_EQ(raw_read(px, base, true), UINT64_MAX);
    IT_EQ(raw_read(px, other, true), EDU_ID);
    /* decoding off again */
    it_cfg_wr(px, 0x04, 0x0, 2);
    IT_EQ(raw_read(px, other, true), UINT64_MAX);
    /* a BAR left at 0 does not decode either */
    it_cfg_wr(px, 0x10, 0, 4);
    it_cfg_wr(px, 0x04, 0x2, 2);
    IT_EQ(raw_read(px, 0, true), UINT64_MAX);
    IT_EQ(it_cfg_rd(px, 0x02, 2), 0x11e8);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_status_intx(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint64_t cnt = 0;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    IT_EQ(it_cfg_rd(px, 0x06, 2) & 0x8, 0);
    it_wr(px, 0x60, 0x1, 4);                           /* raise */
    IT_EQ(it_cfg_rd(px, 0x06, 2) & 0x8, 0x8);
    IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
    it_wr(px, 0x64, 0x1, 4);                           /* ack */
    IT_EQ(it_cfg_rd(px, 0x06, 2) & 0x8, 0);
    IT_OK(px, ob_proxy_irq_eoi(px));
    it_sync(px);
    it_sync(px);
    IT_EQ(ob_proxy_irq_wait(px, 50, &cnt), 0);

    /* INTx disable masks the eventfd, not the status bit */
    it_cfg_wr(px, 0x04, OB_PROXY_CMD_MEM | OB_PROXY_CMD_INTX_DISABLE, 2);
    IT_EQ(it_cfg_rd(px, 0x04, 2), OB_PROXY_CMD_MEM | OB_PROXY_CMD_INTX_DISABLE);
    it_wr(px, 0x60, 0x2, 4);
    IT_EQ(it_cfg_rd(px, 0x06, 2) & 0x8, 0x8);
    it_sync(px);
    IT_EQ(ob_proxy_irq_wait(px, 100, &cnt), 0);
    /* an EOI while masked does not signal either */
    IT_OK(px, ob_proxy_irq_eoi(px));
    it_sync(px);
    it_sync(px);
    IT_EQ(ob_proxy_irq_wait(px, 50, &cnt), 0);
    /* unmasking with the interrupt still pending delivers it */
    it_cfg_wr(px, 0x04, OB_PROXY_CMD_MEM, 2);
    IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
    IT_EQ(cnt, 1);
    it_wr(px, 0x64, 0x2, 4);
    IT_EQ(it_cfg_rd(px, 0x06, 2) & 0x8, 0);
    /* status bit 3 is read-only */
    it_cfg_wr(px, 0x06, 0x8, 2);
    IT_EQ(it_cfg_rd(px, 0x06, 2) & 0x8, 0);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_device_reset(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    bool has_val = true;
    uint64_t cnt;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER) == 0);
    it_cfg_wr(px, 0x3c, 0x0b, 1);
    it_cfg_wr(px, 0x0c, 0x10, 1);
    it_wr(px, 0x04, 0x12345678, 4);
    it_wr(px, 0x08, 5, 4);
    IT_REQUIRE(it_wait_clear(px, 0x20, 0x1));
    it_wr(px, 0x20, 0x80, 4);
    it_wr(px, 0x80, 0x123000, 8);
    it_wr(px, 0x60, 0x30, 4);
    IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
    IT_EQ(it_cfg_rd(px, 0x06, 2) & 0x8, 0x8);

    IT_REQUIRE(IT_OK(px, ob_proxy_reset(px, &has_val)));
    IT_ASSERT(!has_val);                                /* RET with size 0 */
    /* function-level reset of the header */
    IT_EQ(it_cfg_rd(px, 0x04, 2), 0);
    IT_EQ(it_cfg_rd(px, 0x06, 2) & 0x8, 0);
    IT_EQ(it_cfg_rd(px, 0x10, 4), 0);
    IT_EQ(it_cfg_rd(px, 0x3c, 1), 0);
    IT_EQ(it_cfg_rd(px, 0x0c, 1), 0);
    IT_EQ(it_cfg_rd(px, 0x00, 4), 0x11e81234);
    IT_EQ(it_cfg_rd(px, 0x3d, 1), 1);
    IT_EQ(raw_read(px, px->info.bar[0].base, true), UINT64_MAX);
    /* the firmware programs it again: device state is back to power-on */
    IT_REQUIRE(IT_OK(px, ob_proxy_program_bars(px, 0, 0, OB_PROXY_CMD_MEM)));
    IT_EQ(it_rd(px, 0x00, 4), EDU_ID);
    IT_EQ(it_rd(px, 0x04, 4), 0xffffffffu);
    IT_EQ(it_rd(px, 0x08, 4), 0);
    IT_EQ(it_rd(px, 0x20, 4), 0);
    IT_EQ(it_rd(px, 0x24, 4), 0);
    IT_EQ(it_rd(px, 0x80, 8), 0);
    IT_EQ(it_rd(px, 0x98, 8), 0);
    /* the line went low: an EOI does not re-raise */
    IT_OK(px, ob_proxy_irq_eoi(px));
    it_sync(px);
    it_sync(px);
    IT_EQ(ob_proxy_irq_wait(px, 50, &cnt), 0);
    /* and it still works */
    it_wr(px, 0x04, 0xf0f0f0f0u, 4);
    IT_EQ(it_rd(px, 0x04, 4), 0x0f0f0f0fu);
out:
    IT_EQ(it_stop(&r), 0);
}

static const struct it_test tests[] = {
    IT_TEST(test_identity),
    IT_TEST(test_bar_sizing),
    IT_TEST(test_bar_decoding),
    IT_TEST(test_status_intx),
    IT_TEST(test_device_reset),
    IT_END,
};

int it_config_register(void)
{
    return it_add_suite("config", tests);
}
