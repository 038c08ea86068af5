/*
 * it_sysmem.c - SYNC_SYSMEM: a replaced map is used at once, repeated maps
 * leak nothing, invalid maps leave the previous one in force.
 */
#include <string.h>

#include "it.h"

#define BUF        0x40000u
#define GPA        0x200000u

static void test_sysmem_replace(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    struct ob_proxy_ram ram2 = { .fd = -1 };
    struct ob_proxy_region map2;
    char err[OB_PROXY_ERRLEN];
    uint8_t *old_ram, *new_ram;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER) == 0);
    IT_REQUIRE(ob_proxy_ram_create(&ram2, 8u << 20, err, sizeof(err)) == 0);
    old_ram = ob_proxy_gpa(px, GPA, 4096);
    IT_REQUIRE(old_ram);
    memset(old_ram, 'o', 4096);
    /* one region, at a non-zero file offset */
    map2 = (struct ob_proxy_region){ .gpa = 0x100000, .size = 4u << 20,
                                     .offset = 2u << 20, .ram = &ram2 };
    IT_REQUIRE(IT_OK(px, ob_proxy_sync_sysmem(px, &map2, 1)));
    new_ram = ob_proxy_gpa(px, GPA, 4096);
    IT_REQUIRE(new_ram == ram2.host + (2u << 20) + (GPA - 0x100000));
    memset(new_ram, 'n', 4096);
    /* RAM -> buffer reads the new map */
    IT_REQUIRE(it_edu_dma(px, GPA, BUF, 4096, 0));
    memset(new_ram, 0, 4096);
    IT_REQUIRE(it_edu_dma(px, BUF, GPA, 4096, IT_EDU_DMA_TO_RAM));
    IT_EQ(new_ram[0], 'n');
    IT_EQ(new_ram[4095], 'n');
    IT_EQ(old_ram[0], 'o');                          /* old RAM untouched */
    /* the low 1 MiB is no longer RAM */
    memset(new_ram, 0, 4096);
    IT_REQUIRE(it_edu_dma(px, BUF, 0x1000, 4096, IT_EDU_DMA_TO_RAM));
    IT_REQUIRE(it_edu_dma(px, 0x1000, BUF, 4096, 0));
    IT_REQUIRE(it_edu_dma(px, BUF, GPA, 4096, IT_EDU_DMA_TO_RAM));
    IT_EQ(new_ram[0], 'n');                          /* buffer unchanged */
out:
    IT_EQ(it_stop(&r), 0);
    ob_proxy_ram_free(&ram2);
}

static void test_sysmem_repeat_no_leak(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    struct ob_proxy_ram ram2 = { .fd = -1 };
    struct ob_proxy_region a[2], b;
    char err[OB_PROXY_ERRLEN];
    int before, i;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER) == 0);
    IT_REQUIRE(ob_proxy_ram_create(&ram2, 1u << 20, err, sizeof(err)) == 0);
    it_sync(px);
    before = ob_proxy_fd_count(px->pid);
    IT_REQUIRE(before > 0);
    memcpy(a, px->map, sizeof(a));
    IT_EQ(px->nmap, 2);
    for (i = 0; i < 300; i++) {
        IT_REQUIRE(IT_OK(px, ob_proxy_sync_sysmem(px, a, 2)));
    }
    it_sync(px);
    IT_EQ(ob_proxy_fd_count(px->pid), before);
    /* alternating maps, each one a remap */
    b = (struct ob_proxy_region){ .gpa = 0x100000, .size = 1u << 20, .ram = &ram2 };
    for (i = 0; i < 100; i++) {
        IT_REQUIRE(IT_OK(px, ob_proxy_sync_sysmem(px, i % 2 ? a : &b, i % 2 ? 2 : 1)));
    }
    it_sync(px);
    IT_EQ(ob_proxy_fd_count(px->pid), before);
    /* and the last map (a) is the one in force */
    memset(ob_proxy_gpa(px, GPA, 16), 0x3c, 16);
    IT_REQUIRE(it_edu_dma(px, GPA, BUF, 16, 0));
    IT_REQUIRE(it_edu_dma(px, BUF, GPA + 0x1000, 16, IT_EDU_DMA_TO_RAM));
    IT_EQ(*(uint8_t *)ob_proxy_gpa(px, GPA + 0x1000 + 15, 1), 0x3c);
out:
    IT_EQ(it_stop(&r), 0);
    ob_proxy_ram_free(&ram2);
}

static void test_sysmem_invalid_keeps_map(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    struct ob_proxy_region good[2], bad[2];
    int before;
    uint8_t *ram;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER) == 0);
    memcpy(good, px->map, sizeof(good));
    it_sync(px);
    before = ob_proxy_fd_count(px->pid);
    /* offset not page aligned; region past the end of the file; overlap */
    bad[0] = good[0];
    bad[0].offset = 0x800;
    IT_OK(px, ob_proxy_sync_sysmem(px, bad, 1));
    bad[0] = good[1];
    bad[0].size = IT_RAM_SIZE;
    IT_OK(px, ob_proxy_sync_sysmem(px, bad, 1));
    bad[0] = good[1];
    bad[1] = good[1];
    bad[1].gpa += 0x1000;
    IT_OK(px, ob_proxy_sync_sysmem(px, bad, 2));
    bad[0] = good[0];
    bad[0].size = 0;
    IT_OK(px, ob_proxy_sync_sysmem(px, bad, 1));
    it_sync(px);
    IT_EQ(ob_proxy_fd_count(px->pid), before);
    /* the good map is still in force */
    memcpy(px->map, good, sizeof(good));
    px->nmap = 2;
    ram = ob_proxy_gpa(px, GPA, 64);
    IT_REQUIRE(ram);
    memset(ram, 0x5e, 64);
    IT_REQUIRE(it_edu_dma(px, GPA, BUF, 64, 0));
    IT_REQUIRE(it_edu_dma(px, BUF, GPA + 64, 64, IT_EDU_DMA_TO_RAM));
    IT_EQ(ram[64], 0x5e);
    IT_EQ(ram[127], 0x5e);
out:
    IT_EQ(it_stop(&r), 0);
}

static const struct it_test tests[] = {
    IT_TEST(test_sysmem_replace),
    IT_TEST(test_sysmem_repeat_no_leak),
    IT_TEST(test_sysmem_invalid_keeps_map),
    IT_END,
};

int it_sysmem_register(void)
{
    return it_add_suite("sysmem", tests);
}
