/*
 * it_dma.c - edu DMA between the 4 KiB device buffer and guest RAM held in
 * the proxy's memfd: data, bus-master gating, bad addresses, bad ranges.
 */
#include <string.h>

#include "it.h"

#define BUF        0x40000u
#define SRC_GPA    0x200000u
#define DST_GPA    0x300000u

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    size_t i;

    for (i = 0; i < n; i++) {
        p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
    }
}

static void test_dma_roundtrip(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint8_t *src, *dst;
    uint64_t cnt;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER) == 0);
    src = ob_proxy_gpa(px, SRC_GPA, 4096);
    dst = ob_proxy_gpa(px, DST_GPA, 4096);
    IT_REQUIRE(src && dst);
    fill(src, 4096, 0x5a);
    memset(dst, 0, 4096);
    IT_REQUIRE(it_edu_dma(px, SRC_GPA, BUF, 4096, 0));
    IT_REQUIRE(it_edu_dma(px, BUF, DST_GPA, 4096, IT_EDU_DMA_TO_RAM));
    IT_ASSERT(memcmp(src, dst, 4096) == 0);

    /* a slice of the buffer to an unaligned guest address, with interrupt */
    memset(dst, 0xee, 4096);
    IT_REQUIRE(it_edu_dma(px, BUF + 0x100, DST_GPA + 3, 256, IT_EDU_DMA_TO_RAM | IT_EDU_DMA_IRQ));
    IT_ASSERT(memcmp(dst + 3, src + 0x100, 256) == 0);
    IT_EQ(dst[2], 0xee);
    IT_EQ(dst[3 + 256], 0xee);
    IT_EQ(it_rd(px, 0x24, 4), 0x100);
    IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
    it_wr(px, 0x64, 0x100, 4);

    /* low RAM, below the 0xC0000 hole, works too */
    fill(src, 64, 0x11);
    IT_REQUIRE(it_edu_dma(px, SRC_GPA, BUF + 4096 - 64, 64, 0));
    IT_REQUIRE(it_edu_dma(px, BUF + 4096 - 64, 0x1000, 64, IT_EDU_DMA_TO_RAM));
    IT_ASSERT(memcmp(ob_proxy_gpa(px, 0x1000, 64), src, 64) == 0);
    /* the DMA mask (28 bits) folds high addresses onto guest RAM */
    memset(dst, 0, 64);
    IT_REQUIRE(it_edu_dma(px, BUF + 4096 - 64, 0x70000000ull + DST_GPA, 64, IT_EDU_DMA_TO_RAM));
    IT_ASSERT(memcmp(dst, src, 64) == 0);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_dma_master_disabled(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint8_t *src, *dst, before[512];

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    src = ob_proxy_gpa(px, SRC_GPA, 512);
    dst = ob_proxy_gpa(px, DST_GPA, 512);
    IT_REQUIRE(src && dst);
    fill(src, 512, 0x33);
    fill(dst, 512, 0x99);
    memcpy(before, dst, sizeof(before));
    /* neither direction moves data while bus mastering is off */
    IT_REQUIRE(it_edu_dma(px, SRC_GPA, BUF, 512, 0));
    IT_REQUIRE(it_edu_dma(px, BUF, DST_GPA, 512, IT_EDU_DMA_TO_RAM));
    IT_ASSERT(memcmp(dst, before, sizeof(before)) == 0);
    /* with it on, the buffer shows it never received the source data */
    it_cfg_wr(px, 0x04, OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER, 2);
    IT_REQUIRE(it_edu_dma(px, BUF, DST_GPA, 512, IT_EDU_DMA_TO_RAM));
    IT_ASSERT(memcmp(dst, src, 512) != 0);
    IT_EQ(dst[0], 0);                 /* the buffer is still all zero */
    IT_EQ(dst[511], 0);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_dma_unmapped(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint64_t cnt;
    uint8_t *src;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER) == 0);
    src = ob_proxy_gpa(px, SRC_GPA, 4096);
    IT_REQUIRE(src);
    fill(src, 4096, 0x42);
    /* the VGA hole, past the end of RAM, straddling the end of RAM and the
     * hole (how much of a straddling transfer lands is not specified) */
    IT_REQUIRE(it_edu_dma(px, BUF, 0xc0000, 4096, IT_EDU_DMA_TO_RAM));
    IT_REQUIRE(it_edu_dma(px, BUF, 0x0ff00000, 4096, IT_EDU_DMA_TO_RAM | IT_EDU_DMA_IRQ));
    IT_REQUIRE(it_edu_dma(px, 0x0ff00000, BUF, 4096, 0));
    IT_REQUIRE(it_edu_dma(px, BUF, IT_RAM_SIZE - 2048, 4096, IT_EDU_DMA_TO_RAM));
    IT_REQUIRE(it_edu_dma(px, 0xbf800, BUF, 4096, 0));
    /* the completion interrupt still comes, and the device keeps serving */
    IT_EQ(ob_proxy_irq_wait(px, 2000, &cnt), 1);
    IT_EQ(it_rd(px, 0x24, 4), 0x100);
    IT_EQ(it_rd(px, 0x00, 4), 0x010000edu);
    /* RAM outside the targets was not touched */
    IT_EQ(*(uint8_t *)ob_proxy_gpa(px, 0xbf7ff, 1), 0);
    IT_EQ(*(uint8_t *)ob_proxy_gpa(px, IT_RAM_SIZE - 2049, 1), 0);
    /* and DMA still works */
    IT_REQUIRE(it_edu_dma(px, SRC_GPA, BUF, 4096, 0));
    IT_REQUIRE(it_edu_dma(px, BUF, DST_GPA, 4096, IT_EDU_DMA_TO_RAM));
    IT_ASSERT(memcmp(ob_proxy_gpa(px, DST_GPA, 4096), src, 4096) == 0);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_dma_outside_buffer(void)
{
    static const struct { uint64_t dev, cnt; } bad[] = {
        { BUF + 4000, 200 },          /* runs past the end */
        { BUF - 8, 16 },              /* starts before */
        { 0x30000, 16 },
        { BUF, 4097 },
        { BUF + 4096, 1 },
        { UINT64_MAX - 7, 16 },       /* wraps */
    };
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint8_t *dst;
    size_t i;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER) == 0);
    dst = ob_proxy_gpa(px, DST_GPA, 8192);
    IT_REQUIRE(dst);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(dst, 0x77, 8192);
        /* buffer -> RAM: refused, so RAM keeps its bytes and no transfer runs */
        IT_REQUIRE(it_edu_dma(px, bad[i].dev, DST_GPA, bad[i].cnt, IT_EDU_DMA_TO_RAM | IT_EDU_DMA_IRQ));
        IT_EQ(it_rd(px, 0x98, 8), 0);
        IT_EQ(dst[0], 0x77);
        IT_EQ(dst[bad[i].cnt < 8192 ? bad[i].cnt - 1 : 8191], 0x77);
        /* RAM -> buffer likewise */
        IT_REQUIRE(it_edu_dma(px, DST_GPA, bad[i].dev, bad[i].cnt, IT_EDU_DMA_IRQ));
        IT_EQ(it_rd(px, 0x24, 4), 0);                /* no completion */
    }
    IT_EQ(it_rd(px, 0x00, 4), 0x010000edu);
out:
    IT_EQ(it_stop(&r), 0);
}

static const struct it_test tests[] = {
    IT_TEST(test_dma_roundtrip),
    IT_TEST(test_dma_master_disabled),
    IT_TEST(test_dma_unmapped),
    IT_TEST(test_dma_outside_buffer),
    IT_END,
};

int it_dma_register(void)
{
    return it_add_suite("dma", tests);
}
