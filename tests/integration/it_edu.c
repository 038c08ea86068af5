/*
 * it_edu.c - the edu register file through BAR0: identification, liveness,
 * factorial, interrupt status/raise/ack, access widths.
 */
#include "it.h"

static void test_liveness(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    IT_EQ(it_rd(px, 0x00, 4), 0x010000edu);
    IT_EQ(it_rd(px, 0x04, 4), 0xffffffffu);
    it_wr(px, 0x04, 0x12345678u, 4);
    IT_EQ(it_rd(px, 0x04, 4), 0xedcba987u);
    it_wr(px, 0x04, 0, 4);
    IT_EQ(it_rd(px, 0x04, 4), 0xffffffffu);
    /* the identification register is read-only */
    it_wr(px, 0x00, 0, 4);
    IT_EQ(it_rd(px, 0x00, 4), 0x010000edu);
    /* below 0x80 only 4-byte accesses: others read all-ones, writes ignored */
    IT_EQ(it_rd(px, 0x04, 2), 0xffff);
    IT_EQ(it_rd(px, 0x04, 1), 0xff);
    IT_EQ(it_rd(px, 0x00, 8), UINT64_MAX);
    it_wr(px, 0x04, 0x1, 2);
    IT_EQ(it_rd(px, 0x04, 4), 0xffffffffu);
    /* DMA registers take 8-byte accesses */
    it_wr(px, 0x80, 0x0123456789abcdefull, 8);
    IT_EQ(it_rd(px, 0x80, 8), 0x0123456789abcdefull);
    it_wr(px, 0x88, 0x1000, 4);
    IT_EQ(it_rd(px, 0x88, 4), 0x1000);
out:
    IT_EQ(it_stop(&r), 0);
}

static uint64_t factorial(struct ob_proxy *px, uint32_t n)
{
    it_wr(px, 0x08, n, 4);
    if (!it_wait_clear(px, 0x20, 0x1)) {
        IT_ASSERT(!"factorial did not finish");
        return UINT64_MAX;
    }
    return it_rd(px, 0x08, 4);
}

static void test_factorial(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint64_t cnt;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    IT_EQ(factorial(px, 0), 1);
    IT_EQ(factorial(px, 1), 1);
    IT_EQ(factorial(px, 5), 120);
    IT_EQ(factorial(px, 12), 479001600u);
    IT_EQ(factorial(px, 13), (uint32_t)6227020800ull);   /* wraps at 32 bits */
    /* no interrupt unless status bit 7 asks for one */
    IT_EQ(it_rd(px, 0x24, 4), 0);
    IT_EQ(ob_proxy_irq_wait(px, 0, &cnt), 0);
    it_wr(px, 0x20, 0x80, 4);
    IT_EQ(it_rd(px, 0x20, 4), 0x80);
    IT_EQ(factorial(px, 4), 24);
    IT_EQ(it_rd(px, 0x24, 4), 0x1);
    IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
    it_wr(px, 0x64, 0x1, 4);
    IT_EQ(it_rd(px, 0x24, 4), 0);
    /* status bit 0 is read-only */
    it_wr(px, 0x20, 0x1, 4);
    IT_EQ(it_rd(px, 0x20, 4), 0);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_irq_status(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    IT_EQ(it_rd(px, 0x24, 4), 0);
    it_wr(px, 0x60, 0x5, 4);
    IT_EQ(it_rd(px, 0x24, 4), 0x5);
    it_wr(px, 0x60, 0x100, 4);
    IT_EQ(it_rd(px, 0x24, 4), 0x105);
    it_wr(px, 0x64, 0x1, 4);
    IT_EQ(it_rd(px, 0x24, 4), 0x104);
    IT_EQ(it_cfg_rd(px, 0x06, 2) & 0x8, 0x8);
    it_wr(px, 0x64, 0x104, 4);
    IT_EQ(it_rd(px, 0x24, 4), 0);
    IT_EQ(it_cfg_rd(px, 0x06, 2) & 0x8, 0);
    /* 0x60/0x64 are write-only: reading them gives no status */
    IT_EQ(it_rd(px, 0x60, 4), 0xffffffffu);
out:
    IT_EQ(it_stop(&r), 0);
}

static const struct it_test tests[] = {
    IT_TEST(test_liveness),
    IT_TEST(test_factorial),
    IT_TEST(test_irq_status),
    IT_END,
};

int it_edu_register(void)
{
    return it_add_suite("edu", tests);
}
