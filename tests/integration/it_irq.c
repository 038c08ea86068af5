/*
 * it_irq.c - INTx through the irqfd + resamplefd pair, as KVM drives it:
 * one signal per rising edge, a re-signal at EOI while the line is still
 * high, none once the device dropped it.
 */
#include <unistd.h>

#include "it.h"

/* After an EOI: two round trips make sure the remote saw the resample. */
static void eoi_and_settle(struct ob_proxy *px)
{
    IT_OK(px, ob_proxy_irq_eoi(px));
    it_sync(px);
    it_sync(px);
}

static void test_irq_resample(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint64_t cnt = 0;
    int i;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    IT_EQ(ob_proxy_irq_wait(px, 0, &cnt), 0);
    it_wr(px, 0x60, 0x1, 4);
    IT_REQUIRE(ob_proxy_irq_wait(px, 2000, &cnt) == 1);
    IT_EQ(cnt, 1);
    /* a second raise while the line is high is no new edge */
    it_wr(px, 0x60, 0x2, 4);
    it_sync(px);
    IT_EQ(ob_proxy_irq_wait(px, 50, &cnt), 0);
    /* each EOI while still pending re-raises */
    for (i = 0; i < 3; i++) {
        IT_OK(px, ob_proxy_irq_eoi(px));
        IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
        IT_EQ(cnt, 1);
    }
    /* partly acknowledged: still pending */
    it_wr(px, 0x64, 0x1, 4);
    IT_OK(px, ob_proxy_irq_eoi(px));
    IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
    /* fully acknowledged: the EOI finds the line low */
    it_wr(px, 0x64, 0x2, 4);
    eoi_and_settle(px);
    IT_EQ(ob_proxy_irq_wait(px, 100, &cnt), 0);
    /* a new edge signals again */
    it_wr(px, 0x60, 0x8, 4);
    IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
    it_wr(px, 0x64, 0x8, 4);
    eoi_and_settle(px);
    IT_EQ(ob_proxy_irq_wait(px, 50, &cnt), 0);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_irq_new_pair(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint64_t cnt = 0;
    int old_irqfd = -1;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    it_wr(px, 0x60, 0x1, 4);
    IT_REQUIRE(ob_proxy_irq_wait(px, 2000, &cnt) == 1);
    /* a new SET_IRQFD while the line is high: signalled on the new irqfd */
    old_irqfd = dup(px->irqfd);
    IT_REQUIRE(old_irqfd >= 0);
    IT_REQUIRE(IT_OK(px, ob_proxy_irq_setup(px)));
    IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
    /* the old pair is no longer used */
    it_wr(px, 0x64, 0x1, 4);
    it_wr(px, 0x60, 0x1, 4);
    IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
    {
        uint64_t stale = 0;

        IT_EQ(read(old_irqfd, &stale, sizeof(stale)), -1);   /* EAGAIN: nothing */
    }
out:
    if (old_irqfd >= 0) {
        close(old_irqfd);
    }
    IT_EQ(it_stop(&r), 0);
}

static void test_irq_before_irqfd(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint64_t cnt = 0;

    /* raise the line before SET_IRQFD: the new irqfd is signalled at once */
    IT_REQUIRE(it_spawn_edu(&r) == 0);
    IT_REQUIRE(IT_OK(px, ob_proxy_probe(px)));
    IT_REQUIRE(IT_OK(px, ob_proxy_program_bars(px, 0, 0, OB_PROXY_CMD_MEM)));
    it_wr(px, 0x60, 0x4, 4);
    IT_REQUIRE(IT_OK(px, ob_proxy_irq_setup(px)));
    IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
out:
    IT_EQ(it_stop(&r), 0);
}

static const struct it_test tests[] = {
    IT_TEST(test_irq_resample),
    IT_TEST(test_irq_new_pair),
    IT_TEST(test_irq_before_irqfd),
    IT_END,
};

int it_irq_register(void)
{
    return it_add_suite("irq", tests);
}
