/*
 * it_qemu.c - the proxy driver against the reference remote, QEMU's own
 * `qemu-system-x86_64 -machine x-remote` serving an LSI 53C895A: shows the
 * driver speaks the protocol QEMU speaks. Skipped when QEMU is missing.
 */
#include <stdio.h>

#include "it.h"

#define LSI_SCRATCHA 0x34

static void test_qemu_lsi(void)
{
    char *argv[] = {
        "qemu-system-x86_64", "-machine", "x-remote", "-device", "lsi53c895a,id=lsi1",
        "-object", "x-remote-object,id=robj1,devid=lsi1,fd={fd}",
        "-nographic", "-monitor", "none", "-serial", "none", NULL,
    };
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint64_t v = 0;
    bool has_val = true;

    if (!it_in_path("qemu-system-x86_64")) {
        printf("(skipped: no qemu-system-x86_64) ");
        return;
    }
    IT_REQUIRE(it_spawn(&r, argv, 1) == 0);
    /* QEMU resets the function after it started serving: let it happen */
    IT_ASSERT(ob_proxy_wait_remote_reset(px, 2000) >= 0);
    IT_REQUIRE(IT_OK(px, ob_proxy_bringup(px, IT_RAM_SIZE, OB_PROXY_CMD_IO |
                                          OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER)));
    IT_EQ(px->info.vendor_id, 0x1000);
    IT_EQ(px->info.device_id, 0x0012);
    IT_EQ(px->info.class_id, 0x0100);
    IT_EQ(px->info.bar[0].readback, 0xffffff01u);    /* I/O, 256 bytes */
    IT_EQ(px->info.bar[1].readback, 0xfffffc00u);    /* memory, 1 KiB */
    IT_EQ(px->info.bar[2].readback, 0xffffe000u);    /* SCRIPTS RAM, 8 KiB */
    IT_EQ(px->info.bar[3].size, 0);
    IT_EQ(px->info.bar[6].size, 0);
    /* SCRATCHA through the memory BAR, then through the I/O BAR */
    IT_OK(px, ob_proxy_barn_write(px, 1, LSI_SCRATCHA, 0x11223344u, 4));
    IT_OK(px, ob_proxy_barn_read(px, 1, LSI_SCRATCHA, 4, &v));
    IT_EQ(v, 0x11223344u);
    IT_OK(px, ob_proxy_barn_read(px, 0, LSI_SCRATCHA, 1, &v));
    IT_EQ(v, 0x44);
    IT_OK(px, ob_proxy_reset(px, &has_val));
    IT_ASSERT(!has_val);
    IT_OK(px, ob_proxy_barn_read(px, 1, LSI_SCRATCHA, 4, &v));
    IT_EQ(v, 0);
out:
    IT_EQ(it_stop(&r), 0);
}

static const struct it_test tests[] = {
    IT_TEST(test_qemu_lsi),
    IT_END,
};

int it_qemu_register(void)
{
    return it_add_suite("qemu-x-remote", tests);
}
