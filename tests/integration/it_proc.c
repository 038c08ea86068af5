/*
 * it_proc.c - the process: exit status on EOF, several devices on several
 * channels in one process, command-line errors.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "it.h"

static void test_eof_exits_0(void)
{
    struct it_remote r;

    IT_REQUIRE(it_start_edu(&r, OB_PROXY_CMD_MEM) == 0);
    it_wr(&r.px[0], 0x60, 1, 4);           /* state left behind does not matter */
    ob_proxy_close(&r.px[0]);
    IT_EQ(ob_proxy_proc_wait(&r.proc, 3000), 0);
    IT_ASSERT(!r.proc.killed);
out:
    IT_EQ(it_stop(&r), 0);
}

static void test_eof_inside_message(void)
{
    struct it_remote r;
    uint8_t buf[64];
    size_t n;

    IT_REQUIRE(it_spawn_edu(&r) == 0);
    n = ob_mpq_encode_cfg(buf, OB_MPQ_PCI_CFGREAD, 0, 0, 4);
    IT_OK(&r.px[0], ob_proxy_send_raw(&r.px[0], buf, n - 5, NULL, 0));
    ob_proxy_close(&r.px[0]);
    IT_EQ(ob_proxy_proc_wait(&r.proc, 3000), 0);
out:
    IT_EQ(it_stop(&r), 0);
}

/* Both devices answer on their own channel with their own state. */
static void check_independent(struct ob_proxy *a, struct ob_proxy *b)
{
    uint64_t cnt;

    it_wr(a, 0x04, 0x11111111, 4);
    it_wr(b, 0x04, 0x22222222, 4);
    IT_EQ(it_rd(a, 0x04, 4), 0xeeeeeeeeu);
    IT_EQ(it_rd(b, 0x04, 4), 0xddddddddu);
    /* an interrupt of a reaches a's eventfd only */
    it_wr(a, 0x60, 0x1, 4);
    IT_EQ(ob_proxy_irq_wait(a, 2000, &cnt), 1);
    it_sync(b);
    IT_EQ(ob_proxy_irq_wait(b, 50, &cnt), 0);
    IT_EQ(it_rd(b, 0x24, 4), 0);
    IT_EQ(it_cfg_rd(b, 0x06, 2) & 0x8, 0);
    it_wr(a, 0x64, 0x1, 4);
    /* DMA of b goes to b's RAM */
    memset(ob_proxy_gpa(a, 0x200000, 64), 0xaa, 64);
    memset(ob_proxy_gpa(b, 0x200000, 64), 0xbb, 64);
    memset(ob_proxy_gpa(a, 0x201000, 64), 0, 64);
    memset(ob_proxy_gpa(b, 0x201000, 64), 0, 64);
    IT_ASSERT(it_edu_dma(b, 0x200000, 0x40000, 64, 0));
    IT_ASSERT(it_edu_dma(b, 0x40000, 0x201000, 64, IT_EDU_DMA_TO_RAM));
    IT_EQ(*(uint8_t *)ob_proxy_gpa(b, 0x201000, 1), 0xbb);
    IT_EQ(*(uint8_t *)ob_proxy_gpa(a, 0x201000, 1), 0);
}

static void test_two_devices(void)
{
    char *argv[] = {
        (char *)it_outboard(), "-machine", "x-remote",
        "-device", "edu,id=a", "-device", "edu,id=b",
        "-object", "x-remote-object,id=ra,devid=a,fd={fd0}",
        "-object", "x-remote-object,id=rb,devid=b,fd={fd1}", NULL,
    };
    struct it_remote r;
    unsigned i;

    IT_REQUIRE(it_spawn(&r, argv, 2) == 0);
    for (i = 0; i < 2; i++) {
        IT_REQUIRE(IT_OK(&r.px[i], ob_proxy_bringup(&r.px[i], IT_RAM_SIZE,
                                                    OB_PROXY_CMD_MEM |
                                                    OB_PROXY_CMD_MASTER)));
    }
    check_independent(&r.px[0], &r.px[1]);
    check_independent(&r.px[1], &r.px[0]);
    /* a reset of one leaves the other alone */
    IT_OK(&r.px[0], ob_proxy_reset(&r.px[0], NULL));
    IT_EQ(it_cfg_rd(&r.px[0], 0x04, 2), 0);
    IT_EQ(it_cfg_rd(&r.px[1], 0x04, 2), OB_PROXY_CMD_MEM | OB_PROXY_CMD_MASTER);
    IT_EQ(it_rd(&r.px[1], 0x04, 4), 0xeeeeeeeeu);
    /* a framing error drops that channel only: the other one serves on */
    {
        uint8_t buf[16];

        ob_mpq_encode_empty(buf, OB_MPQ_PCI_CFGREAD);
        buf[8] = 0xff;                    /* payload size 255 */
        IT_OK(&r.px[0], ob_proxy_send_raw(&r.px[0], buf, sizeof(buf), NULL, 0));
        IT_EQ(ob_proxy_wait_eof(&r.px[0], 3000), 0);
    }
    IT_EQ(it_rd(&r.px[1], 0x00, 4), 0x010000edu);
    IT_EQ(it_rd(&r.px[1], 0x04, 4), 0xeeeeeeeeu);
    IT_ASSERT(ob_proxy_proc_alive(&r.proc));
    /* closing the last one ends the process with 0 */
    ob_proxy_close(&r.px[1]);
    IT_EQ(ob_proxy_proc_wait(&r.proc, 3000), 0);
out:
    IT_EQ(it_stop(&r), 0);
}

/*
 * Runs outboard with ARGV (no connection), expects exit 1 and exactly one
 * stderr line starting with WANT (a prefix; NULL: any "outboard: " line).
 */
static void expect_cmdline_error(char *const argv[], const char *want)
{
    struct it_remote r;
    char out[4096];
    const char *nl;
    int st;

    IT_REQUIRE(it_spawn(&r, argv, 0) == 0);
    st = ob_proxy_proc_wait(&r.proc, 3000);
    r.status = st;
    IT_EQ(st, 1);
    it_stderr(&r, out, sizeof(out));
    nl = strchr(out, '\n');
    IT_ASSERT(nl && nl[1] == '\0');                   /* one line */
    if (!(want ? strncmp(out, want, strlen(want)) == 0
               : strncmp(out, "outboard: ", 10) == 0)) {
        fprintf(stderr, "\n  got: %s  want: %s\n", out, want ? want : "outboard: ...");
        CU_FAIL("wrong error message");
    }
out:
    it_stop(&r);
}

static void test_cmdline_errors(void)
{
    const char *bin = it_outboard();
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    char fdarg[96];
    char *unknown_dev[] = { (char *)bin, "-machine", "x-remote", "-device", "foo", NULL };
    char *unknown_prop[] = { (char *)bin, "-machine", "x-remote", "-device",
                             "edu,id=e,bogus=1", NULL };
    char *unknown_opt[] = { (char *)bin, "-machine", "x-remote", "-bogus", NULL };
    char *bad_devid[] = { (char *)bin, "-machine", "x-remote", "-device", "edu,id=e",
                          "-object", "x-remote-object,id=r,devid=nope,fd=2", NULL };
    char *bad_fd[] = { (char *)bin, "-machine", "x-remote", "-device", "edu,id=e",
                       "-object", "x-remote-object,id=r,devid=e,fd=abc", NULL };
    char *not_sock[] = { (char *)bin, "-machine", "x-remote", "-device", "edu,id=e",
                         "-object", fdarg, NULL };

    expect_cmdline_error(unknown_dev, "outboard: -device foo: unknown device type 'foo'\n");
    expect_cmdline_error(unknown_prop, "outboard: -device edu,id=e,bogus=1: ");
    expect_cmdline_error(unknown_opt, "outboard: -bogus: ");
    expect_cmdline_error(bad_devid, "outboard: -object x-remote-object,id=r,devid=nope,fd=2: ");
    expect_cmdline_error(bad_fd, "outboard: -object x-remote-object,id=r,devid=e,fd=abc: ");
    IT_REQUIRE(nullfd >= 0);
    snprintf(fdarg, sizeof(fdarg), "x-remote-object,id=r,devid=e,fd=%d", nullfd);
    {
        /* pass /dev/null under that number: not a socket */
        struct it_remote r;
        struct ob_proxy_spawn_opts o = { -1, -1, &nullfd, 1, 0 };
        char out[4096], err[OB_PROXY_ERRLEN];

        memset(&r, 0, sizeof(r));
        r.errfd = -1;
        o.stderr_fd = memfd_create("it-stderr", MFD_CLOEXEC);
        IT_REQUIRE(o.stderr_fd >= 0);
        r.errfd = o.stderr_fd;
        r.status = -1;
        IT_REQUIRE(ob_proxy_spawn(&r.proc, not_sock, r.px, 0, &o, err, sizeof(err)) == 0);
        r.status = ob_proxy_proc_wait(&r.proc, 3000);
        IT_EQ(r.status, 1);
        it_stderr(&r, out, sizeof(out));
        IT_ASSERT(strstr(out, "not a socket") != NULL);
        IT_ASSERT(strchr(out, '\n') && strchr(out, '\n')[1] == '\0');
        close(r.errfd);
    }
out:
    if (nullfd >= 0) {
        close(nullfd);
    }
}

static const struct it_test tests[] = {
    IT_TEST(test_eof_exits_0),
    IT_TEST(test_eof_inside_message),
    IT_TEST(test_two_devices),
    IT_TEST(test_cmdline_errors),
    IT_END,
};

int it_proc_register(void)
{
    return it_add_suite("process", tests);
}
