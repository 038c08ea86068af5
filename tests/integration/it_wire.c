/*
 * it_wire.c - malformed and unusual input on the wire: the channel answers
 * every request exactly once and keeps serving while the framing is intact,
 * closes fds it does not use, and drops only the broken connection.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "it.h"

#define ERRV UINT64_MAX

/* A message with header CMD/SIZE and PLEN payload bytes from PAYLOAD. */
static size_t msg(uint8_t *out, int32_t cmd, uint64_t size, const void *payload,
                  size_t plen)
{
    struct ob_mpq_hdr h = { .cmd = cmd, .pad = 0, .size = size };

    memcpy(out, &h, sizeof(h));
    if (plen) {
        memcpy(out + sizeof(h), payload, plen);
    }
    return sizeof(h) + plen;
}

/* Sends BUF with FDS, reads one RET, returns its value (0 if none). */
static uint64_t req(struct ob_proxy *px, const uint8_t *buf, size_t len, const int *fds,
                    unsigned nfds)
{
    uint64_t v = 0;

    if (!IT_OK(px, ob_proxy_send_raw(px, buf, len, fds, nfds)) ||
        !IT_OK(px, ob_proxy_recv_ret(px, &v, NULL))) {
        return 0;
    }
    return v;
}

/* The connection still serves (and nothing stray came back before). */
static void still_serving(struct ob_proxy *px)
{
    IT_EQ(it_cfg_rd(px, 0x00, 4), 0x11e81234);
}

static uint64_t cfg_read(struct ob_proxy *px, uint32_t addr, int32_t len)
{
    uint64_t v = 0;

    IT_OK(px, ob_proxy_cfg_read(px, addr, len, &v));
    return v;
}

static void test_wrong_payload_size(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint8_t buf[256], pay[192];
    size_t n;
    int fds[2] = { -1, -1 }, before;

    memset(pay, 0, sizeof(pay));
    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    it_sync(px);
    before = ob_proxy_fd_count(px->pid);
    n = msg(buf, OB_MPQ_PCI_CFGREAD, 8, pay, 8);
    IT_EQ(req(px, buf, n, NULL, 0), ERRV);
    n = msg(buf, OB_MPQ_PCI_CFGWRITE, 16, pay, 16);
    IT_EQ(req(px, buf, n, NULL, 0), ERRV);
    n = msg(buf, OB_MPQ_BAR_READ, 16, pay, 16);
    IT_EQ(req(px, buf, n, NULL, 0), ERRV);
    n = msg(buf, OB_MPQ_BAR_WRITE, 0, pay, 0);
    IT_EQ(req(px, buf, n, NULL, 0), ERRV);
    n = msg(buf, OB_MPQ_DEVICE_RESET, 8, pay, 8);
    IT_EQ(req(px, buf, n, NULL, 0), ERRV);
    IT_EQ(it_rd(px, 0x00, 4), 0x010000edu);   /* that reset was not executed */
    still_serving(px);
    /* commands without a reply: no reply to a malformed one either, fds closed */
    fds[0] = eventfd(0, EFD_CLOEXEC);
    fds[1] = eventfd(0, EFD_CLOEXEC);
    IT_REQUIRE(fds[0] >= 0 && fds[1] >= 0);
    n = msg(buf, OB_MPQ_SET_IRQFD, 8, pay, 8);
    IT_OK(px, ob_proxy_send_raw(px, buf, n, fds, 2));
    n = msg(buf, OB_MPQ_SYNC_SYSMEM, 100, pay, 100);
    IT_OK(px, ob_proxy_send_raw(px, buf, n, &px->ram.fd, 1));
    still_serving(px);
    IT_EQ(ob_proxy_fd_count(px->pid), before);
out:
    if (fds[0] >= 0) {
        close(fds[0]);
    }
    if (fds[1] >= 0) {
        close(fds[1]);
    }
    IT_EQ(it_stop(&r), 0);
}

static void test_wrong_fd_count(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint8_t buf[256];
    int fds[9], before, i;
    size_t n;

    for (i = 0; i < 9; i++) {
        fds[i] = -1;
    }
    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    for (i = 0; i < 9; i++) {
        fds[i] = eventfd(0, EFD_CLOEXEC);
        IT_REQUIRE(fds[i] >= 0);
    }
    it_sync(px);
    before = ob_proxy_fd_count(px->pid);
    /* extra fds on requests that take none: error RET, fds closed */
    n = ob_mpq_encode_cfg(buf, OB_MPQ_PCI_CFGREAD, 0, 0, 4);
    IT_EQ(req(px, buf, n, fds, 3), ERRV);
    n = ob_mpq_encode_cfg(buf, OB_MPQ_PCI_CFGWRITE, 0x3c, 0x5, 1);
    IT_EQ(req(px, buf, n, fds, 1), ERRV);
    IT_EQ(cfg_read(px, 0x3c, 1), 0);                  /* not executed */
    n = ob_mpq_encode_bar(buf, OB_MPQ_BAR_READ, px->info.bar[0].base, 0, 4, true);
    IT_EQ(req(px, buf, n, fds, 2), ERRV);
    n = ob_mpq_encode_empty(buf, OB_MPQ_DEVICE_RESET);
    IT_EQ(req(px, buf, n, fds, 1), ERRV);
    it_sync(px);
    IT_EQ(ob_proxy_fd_count(px->pid), before);
    /* SET_IRQFD with 1 or 3 fds, SYNC_SYSMEM with 0 or 9: no reply, closed */
    n = ob_mpq_encode_empty(buf, OB_MPQ_SET_IRQFD);
    IT_OK(px, ob_proxy_send_raw(px, buf, n, fds, 1));
    IT_OK(px, ob_proxy_send_raw(px, buf, n, fds, 3));
    {
        uint64_t g = 0, s = 4096;
        int64_t o = 0;

        n = ob_mpq_encode_sysmem(buf, &g, &s, &o, 1);
    }
    IT_OK(px, ob_proxy_send_raw(px, buf, n, NULL, 0));
    IT_OK(px, ob_proxy_send_raw(px, buf, n, fds, 9));
    still_serving(px);
    IT_EQ(ob_proxy_fd_count(px->pid), before);
    /* the original irqfd pair is still in use */
    it_wr(px, 0x60, 1, 4);
    IT_EQ(ob_proxy_irq_wait(px, 2000, NULL), 1);
    /* the original RAM map too: DMA works */
    it_cfg_wr(px, 0x04, OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER, 2);
    memset(ob_proxy_gpa(px, 0x200000, 8), 0xab, 8);
    IT_REQUIRE(it_edu_dma(px, 0x200000, 0x40000, 8, 0));
    IT_REQUIRE(it_edu_dma(px, 0x40000, 0x200100, 8, IT_EDU_DMA_TO_RAM));
    IT_EQ(*(uint8_t *)ob_proxy_gpa(px, 0x200107, 1), 0xab);
out:
    for (i = 0; i < 9; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    IT_EQ(it_stop(&r), 0);
}

static void test_unknown_command(void)
{
    static const int32_t cmds[] = { 8, 9, -1, 0x4d500000, INT32_MAX, INT32_MIN };
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint8_t buf[256], pay[192];
    size_t i, n;

    memset(pay, 0x11, sizeof(pay));
    IT_REQUIRE(it_spawn_edu(&r) == 0);
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        n = msg(buf, cmds[i], i % 2 ? 12 : 0, pay, i % 2 ? 12 : 0);
        IT_EQ(req(px, buf, n, NULL, 0), ERRV);
    }
    /* a RET sent to the remote is not a request: no answer */
    n = msg(buf, OB_MPQ_RET, 8, pay, 8);
    IT_OK(px, ob_proxy_send_raw(px, buf, n, NULL, 0));
    still_serving(px);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_config_bad_access(void)
{
    static const struct { uint32_t addr; int32_t len; } bad[] = {
        { 0x00, 0 }, { 0x00, 5 }, { 0x00, 16 }, { 0x00, -1 }, { 0x00, INT32_MIN },
        { 0xff, 4 }, { 0xfe, 4 }, { 0xfd, 4 }, { 0xff, 2 }, { 0x100, 1 },
        { 0xfffffffcu, 4 }, { 0xffffffffu, 2 },
    };
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint64_t v = 0;
    size_t i;

    IT_REQUIRE(it_spawn_edu(&r) == 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        IT_EQ(cfg_read(px, bad[i].addr, bad[i].len), ERRV);
        IT_OK(px, ob_proxy_cfg_write(px, bad[i].addr, 0xffffffffu, bad[i].len, &v));
        IT_EQ(v, ERRV);
    }
    /* the last bytes themselves are fine */
    IT_EQ(cfg_read(px, 0xff, 1), 0);
    IT_EQ(cfg_read(px, 0xfc, 4), 0);
    IT_EQ(cfg_read(px, 0xfe, 2), 0);
    /* nothing was written by the refused accesses */
    IT_EQ(cfg_read(px, 0x00, 4), 0x11e81234);
    IT_EQ(cfg_read(px, 0x04, 2), 0);
    still_serving(px);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_bar_bad_access(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint64_t base, v = 0;
    unsigned sizes[] = { 0, 3, 5, 6, 7, 16, 0x80000004u };
    size_t i;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    base = px->info.bar[0].base;
    it_wr(px, 0x04, 0x0f0f0f0f, 4);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        IT_OK(px, ob_proxy_bar_read(px, base + 4, sizes[i], true, &v));
        IT_EQ(v, ERRV);
        IT_OK(px, ob_proxy_bar_write(px, base + 4, 0, sizes[i], true, &v));
        IT_EQ(v, ERRV);
    }
    IT_EQ(it_rd(px, 0x04, 4), 0xf0f0f0f0u);            /* no write happened */
    /* past the end of the 1 MiB region, and crossing it */
    IT_OK(px, ob_proxy_bar_read(px, base + 0x100000, 4, true, &v));
    IT_EQ(v, ERRV);
    IT_OK(px, ob_proxy_bar_read(px, base + 0xffffc, 8, true, &v));
    IT_EQ(v, ERRV);
    IT_OK(px, ob_proxy_bar_read(px, UINT64_MAX - 3, 8, true, &v));
    IT_EQ(v, ERRV);
    IT_OK(px, ob_proxy_bar_write(px, base + 0x100000, 1, 4, true, &v));
    IT_EQ(v, ERRV);
    /* an unclaimed I/O port */
    IT_OK(px, ob_proxy_bar_read(px, 0xc000, 1, false, &v));
    IT_EQ(v, ERRV);
    /* the last dword of the BAR decodes (no register there: all-ones data) */
    IT_OK(px, ob_proxy_bar_read(px, base + 0xffffc, 4, true, &v));
    IT_EQ(v, 0xffffffffu);
    still_serving(px);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_odd_framing_ok(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint8_t buf[512];
    uint64_t v = 0;
    size_t n = 0, i;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    /* non-zero padding is accepted */
    n = ob_mpq_encode_cfg(buf, OB_MPQ_PCI_CFGREAD, 0x02, 0, 2);
    memset(buf + 4, 0xa5, 4);
    IT_EQ(req(px, buf, n, NULL, 0), 0x11e8);
    /* a request delivered one byte at a time */
    n = ob_mpq_encode_bar(buf, OB_MPQ_BAR_READ, px->info.bar[0].base, 0, 4, true);
    for (i = 0; i < n; i++) {
        IT_REQUIRE(IT_OK(px, ob_proxy_send_raw(px, buf + i, 1, NULL, 0)));
        usleep(i % 8 == 0 ? 1000 : 0);
    }
    IT_OK(px, ob_proxy_recv_ret(px, &v, NULL));
    IT_EQ(v, 0x010000edu);
    /* several requests in one write: replies in order */
    n = ob_mpq_encode_bar(buf, OB_MPQ_BAR_WRITE, px->info.bar[0].base + 4, 0x1, 4, true);
    n += ob_mpq_encode_bar(buf + n, OB_MPQ_BAR_READ, px->info.bar[0].base + 4, 0, 4, true);
    n += ob_mpq_encode_cfg(buf + n, OB_MPQ_PCI_CFGREAD, 0x00, 0, 2);
    n += ob_mpq_encode_empty(buf + n, 42);
    n += ob_mpq_encode_cfg(buf + n, OB_MPQ_PCI_CFGREAD, 0x02, 0, 2);
    IT_REQUIRE(IT_OK(px, ob_proxy_send_raw(px, buf, n, NULL, 0)));
    IT_OK(px, ob_proxy_recv_ret(px, &v, NULL));
    IT_EQ(v, 0);
    IT_OK(px, ob_proxy_recv_ret(px, &v, NULL));
    IT_EQ(v, 0xfffffffeu);
    IT_OK(px, ob_proxy_recv_ret(px, &v, NULL));
    IT_EQ(v, 0x1234);
    IT_OK(px, ob_proxy_recv_ret(px, &v, NULL));
    IT_EQ(v, ERRV);
    IT_OK(px, ob_proxy_recv_ret(px, &v, NULL));
    IT_EQ(v, 0x11e8);
    still_serving(px);
out:
    IT_EQ(it_stop(&r), 0);
}

static void framing_case(uint64_t size, const char *what)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint8_t buf[256], pay[200];
    size_t n;

    memset(pay, 0, sizeof(pay));
    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    n = msg(buf, OB_MPQ_PCI_CFGREAD, size, pay, size < sizeof(pay) ? size : sizeof(pay));
    IT_REQUIRE(IT_OK(px, ob_proxy_send_raw(px, buf, n, NULL, 0)));
    /* no reply: the connection is dropped, and with it the process */
    if (ob_proxy_wait_eof(px, 3000) < 0) {
        CU_assertImplementation(CU_FALSE, __LINE__, what, __FILE__, "", CU_FALSE);
    }
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_broken_framing(void)
{
    framing_case(193, "size 193: no EOF");
    framing_case(UINT64_MAX, "size 2^64-1: no EOF");
    framing_case(UINT64_C(1) << 32, "size 2^32: no EOF");
}

static void test_irqfd_not_eventfd(void)
{
    struct it_remote r;
    struct ob_proxy *px = &r.px[0];
    uint8_t buf[64];
    int p[2] = { -1, -1 }, fds[2], mfd = -1, before;
    char c;
    size_t n;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    IT_REQUIRE(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
    mfd = memfd_create("not-an-eventfd", MFD_CLOEXEC);
    IT_REQUIRE(mfd >= 0);
    it_sync(px);
    before = ob_proxy_fd_count(px->pid);
    n = ob_mpq_encode_empty(buf, OB_MPQ_SET_IRQFD);
    fds[0] = p[1];
    fds[1] = mfd;
    IT_OK(px, ob_proxy_send_raw(px, buf, n, fds, 2));
    fds[0] = px->irqfd;                     /* one good, one bad */
    fds[1] = p[1];
    IT_OK(px, ob_proxy_send_raw(px, buf, n, fds, 2));
    fds[0] = px->ram.fd;
    fds[1] = px->fd;
    IT_OK(px, ob_proxy_send_raw(px, buf, n, fds, 2));
    still_serving(px);
    it_wr(px, 0x60, 1, 4);
    it_sync(px);
    /* nothing was written into the pipe or the memfd */
    IT_EQ(read(p[0], &c, 1), -1);
    IT_EQ(lseek(mfd, 0, SEEK_END), 0);
    /* a valid pair afterwards works, and gets the pending interrupt */
    IT_REQUIRE(IT_OK(px, ob_proxy_irq_setup(px)));
    IT_EQ(ob_proxy_irq_wait(px, 2000, NULL), 1);
    it_sync(px);
    IT_EQ(ob_proxy_fd_count(px->pid), before);
out:
    if (p[0] >= 0) {
        close(p[0]);
        close(p[1]);
    }
    if (mfd >= 0) {
        close(mfd);
    }
    IT_EQ(it_stop(&r), 0);
}

static const struct it_test tests[] = {
    IT_TEST(test_wrong_payload_size),
    IT_TEST(test_wrong_fd_count),
    IT_TEST(test_unknown_command),
    IT_TEST(test_config_bad_access),
    IT_TEST(test_bar_bad_access),
    IT_TEST(test_odd_framing_ok),
    IT_TEST(test_broken_framing),
    IT_TEST(test_irqfd_not_eventfd),
    IT_END,
};

int it_wire_register(void)
{
    return it_add_suite("wire", tests);
}
