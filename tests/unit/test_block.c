/*
 * test_block.c - drives (core/block.c) and the I/O engine (core/aio.c) on
 * real temporary files, through a real loop: round trips, O_DIRECT with
 * unaligned buffers, read-only drives, EOF, option errors, format
 * refusals, LABEL=/UUID= resolution, the fallback engine, errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "outboard/block.h"
#include "outboard/ctx.h"
#include "outboard/log.h"
#include "outboard/opts.h"
#include "ut.h"

#define MiB (1024u * 1024u)

static struct {
    struct ob_ctx ctx;
    bool ctx_ok;
    char dir[64];
    char path[128];      /* the default image */
} bt;

/* ---- fixture and helpers -------------------------------------------------- */

static void bt_setup(void)
{
    memset(&bt, 0, sizeof(bt));
    bt.ctx_ok = ut_ctx_open(&bt.ctx) == 0;
    snprintf(bt.dir, sizeof(bt.dir), "/tmp/ob-blk-XXXXXX");
    if (!mkdtemp(bt.dir)) {
        bt.dir[0] = '\0';
    }
    snprintf(bt.path, sizeof(bt.path), "%s/disk.raw", bt.dir);
}

static void rm_rf(const char *dir)
{
    char cmd[128];

    if (dir[0] && strncmp(dir, "/tmp/ob-blk-", 12) == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "test_block: could not remove %s\n", dir);
        }
    }
}

static void bt_teardown(void)
{
    if (bt.ctx_ok) {
        ob_ctx_fini(&bt.ctx);
    }
    rm_rf(bt.dir);
}

/* A file of SIZE bytes whose byte i is (i * 7 + seed) & 0xff. */
static int make_file(const char *path, size_t size, unsigned seed)
{
    uint8_t *b = malloc(size ? size : 1);
    size_t i;
    int fd, rc = -1;

    if (!b) {
        return -1;
    }
    for (i = 0; i < size; i++) {
        b[i] = (uint8_t)(i * 7 + seed);
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0 && write(fd, b, size) == (ssize_t)size) {
        rc = 0;
    }
    if (fd >= 0) {
        close(fd);
    }
    free(b);
    return rc;
}

static uint8_t pat(size_t i, unsigned seed)
{
    return (uint8_t)(i * 7 + seed);
}

static int read_file(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        return -1;
    }
    n = pread(fd, buf, len, (off_t)off);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

/* ob_drive_create() from a -drive argument; ERR gets the message. */
static int drive_new(const char *spec, char *err, size_t errlen)
{
    struct ob_opts o;
    int rc;

    err[0] = '\0';
    if (ob_opts_parse(&o, "-drive", spec, NULL, err, errlen) < 0) {
        return -1;
    }
    rc = ob_drive_create(&bt.ctx, &o, err, errlen);
    ob_opts_free(&o);
    return rc;
}

static struct ob_drive *drive_open(const char *fmt, const char *path)
{
    char spec[512], err[512];

    snprintf(spec, sizeof(spec), fmt, path);
    if (drive_new(spec, err, sizeof(err)) < 0) {
        fprintf(stderr, "\n  drive '%s': %s\n", spec, err);
        return NULL;
    }
    return ob_drive_find(&bt.ctx, "d0");
}

/* A completion record. */
struct done {
    int calls;
    int64_t ret;
};

static void on_done(void *opaque, int64_t ret)
{
    struct done *d = opaque;

    d->calls++;
    d->ret = ret;
}

/* Runs the loop until *COUNTER reaches WANT (5 s at most). */
static bool run_until(const int *counter, int want)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (*counter < want) {
        event_base_loop(bt.ctx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 5) {
            return false;
        }
    }
    return true;
}

static int64_t do_read(struct ob_drive *d, uint64_t off, void *buf, size_t len)
{
    struct iovec iov = { buf, len };
    struct done dn = { 0, 0 };
    int rc = ob_drive_preadv(d, off, &iov, 1, on_done, &dn);

    if (rc < 0) {
        return rc;
    }
    CU_ASSERT_EQUAL(dn.calls, 0);       /* never from inside the submission */
    if (!run_until(&dn.calls, 1)) {
        return -ETIMEDOUT;
    }
    return dn.ret;
}

static int64_t do_write(struct ob_drive *d, uint64_t off, const void *buf, size_t len,
                        bool fua)
{
    struct iovec iov = { (void *)buf, len };
    struct done dn = { 0, 0 };
    int rc = ob_drive_pwritev(d, off, &iov, 1, fua, on_done, &dn);

    if (rc < 0) {
        return rc;
    }
    CU_ASSERT_EQUAL(dn.calls, 0);
    if (!run_until(&dn.calls, 1)) {
        return -ETIMEDOUT;
    }
    return dn.ret;
}

static int64_t do_flush(struct ob_drive *d)
{
    struct done dn = { 0, 0 };
    int rc = ob_drive_flush(d, on_done, &dn);

    if (rc < 0) {
        return rc;
    }
    CU_ASSERT_EQUAL(dn.calls, 0);
    if (!run_until(&dn.calls, 1)) {
        return -ETIMEDOUT;
    }
    return dn.ret;
}

/* Checks that FILE[OFF, OFF+LEN) equals BUF. */
static void check_file(const char *file, uint64_t off, const uint8_t *buf, size_t len)
{
    uint8_t *got = malloc(len);

    CU_ASSERT_FATAL(got != NULL);
    UT_EQ(read_file(file, off, got, len), 0);
    UT_BYTES(got, buf, len);
    free(got);
}

/* ---- round trips ------------------------------------------------------------ */

static void rw_roundtrip(const char *spec, const char *engine)
{
    struct ob_drive *d;
    uint8_t a[3000], b[5192], rd[8192];
    struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
    struct done dn = { 0, 0 };
    size_t i;

    UT_EQ_FATAL(make_file(bt.path, MiB, 1), 0);
    d = drive_open(spec, bt.path);
    CU_ASSERT_FATAL(d != NULL);
    if (engine) {
        UT_STREQ(ob_drive_aio_name(d), engine);
    }
    UT_EQ(d->size, MiB);
    for (i = 0; i < sizeof(a); i++) {
        a[i] = (uint8_t)(0xa0 ^ i);
    }
    for (i = 0; i < sizeof(b); i++) {
        b[i] = (uint8_t)(0x5b ^ (i * 3));
    }
    /* a vectored write, then a flush, then a read of what was written */
    UT_EQ(ob_drive_pwritev(d, 8192, iov, 2, false, on_done, &dn), 0);
    UT_EQ(dn.calls, 0);
    CU_ASSERT_FATAL(run_until(&dn.calls, 1));
    UT_EQ(dn.ret, 8192);
    UT_EQ(do_flush(d), 0);
    UT_EQ(do_read(d, 8192, rd, sizeof(rd)), sizeof(rd));
    UT_BYTES(rd, a, sizeof(a));
    UT_BYTES(rd + sizeof(a), b, sizeof(b));
    check_file(bt.path, 8192, rd, sizeof(rd));
    /* untouched data around it */
    UT_EQ(do_read(d, 4096, rd, 4096), 4096);
    for (i = 0; i < 4096 && rd[i] == pat(4096 + i, 1); i++) {
    }
    UT_EQ(i, 4096);
    UT_EQ(d->stats.wr_ops, 1);
    UT_EQ(d->stats.rd_ops, 2);
    UT_EQ(d->stats.flush_ops, 1);
    UT_EQ(d->stats.errors, 0);
}

static void test_rw_writeback(void)
{
    rw_roundtrip("id=d0,file=%s,format=raw,if=none", NULL);
}

static void test_rw_writethrough_fua(void)
{
    struct ob_drive *d;
    uint8_t buf[4096];

    rw_roundtrip("id=d0,file=%s,format=raw,cache=writethrough", NULL);
    d = ob_drive_find(&bt.ctx, "d0");
    CU_ASSERT_FATAL(d != NULL);
    UT_EQ(d->cache, OB_CACHE_WRITETHROUGH);
    memset(buf, 0x77, sizeof(buf));
    UT_EQ(do_write(d, 0, buf, sizeof(buf), true), sizeof(buf));
    check_file(bt.path, 0, buf, sizeof(buf));
}

static void test_rw_sync_engine(void)
{
    rw_roundtrip("id=d0,file=%s,format=raw,aio=sync", "sync");
}

static void test_sync_engine_from_env(void)
{
    setenv("OUTBOARD_AIO", "sync", 1);
    rw_roundtrip("id=d0,file=%s,format=raw", "sync");
    unsetenv("OUTBOARD_AIO");
}

static void test_fua_write(void)
{
    struct ob_drive *d;
    uint8_t buf[8192];

    UT_EQ_FATAL(make_file(bt.path, MiB, 2), 0);
    d = drive_open("id=d0,file=%s,format=raw", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    memset(buf, 0x3c, sizeof(buf));
    UT_EQ(do_write(d, 65536, buf, sizeof(buf), true), sizeof(buf));
    check_file(bt.path, 65536, buf, sizeof(buf));
}

static void test_unsafe_flush_is_nop(void)
{
    struct ob_drive *d;

    UT_EQ_FATAL(make_file(bt.path, 65536, 2), 0);
    d = drive_open("id=d0,file=%s,format=raw,cache=unsafe", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    UT_EQ(d->cache, OB_CACHE_UNSAFE);
    UT_EQ(do_flush(d), 0);
}

/* Many requests at once: more than the ring holds. */
static void test_deep_queue(void)
{
    enum { N = 300, BS = 4096 };
    struct ob_drive *d;
    static uint8_t bufs[N][BS];
    struct iovec iov[N];
    struct done dn = { 0, 0 };
    int i;

    UT_EQ_FATAL(make_file(bt.path, N * BS, 5), 0);
    d = drive_open("id=d0,file=%s,format=raw", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    for (i = 0; i < N; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = BS;
        UT_EQ(ob_drive_preadv(d, (uint64_t)i * BS, &iov[i], 1, on_done, &dn), 0);
    }
    UT_EQ(d->inflight, N);
    CU_ASSERT_FATAL(run_until(&dn.calls, N));
    for (i = 0; i < N; i++) {
        CU_ASSERT(bufs[i][0] == pat((size_t)i * BS, 5) &&
                  bufs[i][BS - 1] == pat((size_t)i * BS + BS - 1, 5));
    }
    UT_EQ(d->inflight, 0);
}

/* Many iovecs (more than kept inline). */
static void test_many_iovecs(void)
{
    enum { N = 16 };
    struct ob_drive *d;
    uint8_t bufs[N][100], exp[N * 100];
    struct iovec iov[N];
    struct done dn = { 0, 0 };
    int i;

    UT_EQ_FATAL(make_file(bt.path, 65536, 9), 0);
    d = drive_open("id=d0,file=%s,format=raw", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    for (i = 0; i < N; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = 100;
    }
    UT_EQ(ob_drive_preadv(d, 333, iov, N, on_done, &dn), 0);
    CU_ASSERT_FATAL(run_until(&dn.calls, 1));
    UT_EQ(dn.ret, N * 100);
    for (i = 0; i < N * 100; i++) {
        exp[i] = pat(333 + (size_t)i, 9);
    }
    for (i = 0; i < N; i++) {
        UT_BYTES(bufs[i], exp + i * 100, 100);
    }
}

/* ---- O_DIRECT ---------------------------------------------------------------- */

static struct ob_drive *open_direct(size_t size, unsigned seed)
{
    char spec[256], err[512];

    if (make_file(bt.path, size, seed) < 0) {
        return NULL;
    }
    snprintf(spec, sizeof(spec), "id=d0,file=%s,format=raw,cache=none", bt.path);
    if (drive_new(spec, err, sizeof(err)) < 0) {
        if (strstr(err, "Invalid argument")) {
            printf("\n  (skipped: %s does not support O_DIRECT) ", bt.dir);
        } else {
            fprintf(stderr, "\n  %s\n", err);
            CU_FAIL("cache=none drive");
        }
        return NULL;
    }
    return ob_drive_find(&bt.ctx, "d0");
}

static void test_direct_unaligned(void)
{
    struct ob_drive *d = open_direct(MiB, 3);
    uint8_t *raw = malloc(16384 + 1), *buf, exp[10000];
    size_t i;

    CU_ASSERT_FATAL(raw != NULL);
    if (!d) {
        free(raw);
        return;
    }
    CU_ASSERT(d->direct);
    CU_ASSERT(d->align >= 512);
    buf = raw + 1;                      /* never aligned */
    /* unaligned offset, length and buffer */
    UT_EQ(do_read(d, 100, buf, 1000), 1000);
    for (i = 0; i < 1000; i++) {
        exp[i] = pat(100 + i, 3);
    }
    UT_BYTES(buf, exp, 1000);
    /* an unaligned write: read-modify-write of the units at both ends */
    for (i = 0; i < 3000; i++) {
        buf[i] = (uint8_t)(0xc3 ^ i);
    }
    UT_EQ(do_write(d, 700, buf, 3000, false), 3000);
    check_file(bt.path, 700, buf, 3000);
    UT_EQ(read_file(bt.path, 690, exp, 10), 0);
    for (i = 0; i < 10; i++) {
        CU_ASSERT(exp[i] == pat(690 + i, 3));
    }
    UT_EQ(read_file(bt.path, 3700, exp, 10), 0);
    for (i = 0; i < 10; i++) {
        CU_ASSERT(exp[i] == pat(3700 + i, 3));
    }
    /* aligned requests go straight through */
    UT_EQ(do_read(d, 0, raw + 4095 - ((uintptr_t)raw + 4095) % 4096, 4096), 4096);
    free(raw);
}

/* Two unaligned writes into the same aligned unit, submitted together:
 * the second waits for the first, neither loses the other's bytes. */
static void test_direct_rmw_serialised(void)
{
    struct ob_drive *d = open_direct(65536, 4);
    uint8_t x[100], y[100], got[100];
    struct iovec ix = { x, sizeof(x) }, iy = { y, sizeof(y) };
    struct done dn = { 0, 0 };

    if (!d) {
        return;
    }
    memset(x, 0xaa, sizeof(x));
    memset(y, 0xbb, sizeof(y));
    UT_EQ(ob_drive_pwritev(d, 10, &ix, 1, false, on_done, &dn), 0);
    UT_EQ(ob_drive_pwritev(d, 300, &iy, 1, false, on_done, &dn), 0);
    CU_ASSERT_FATAL(run_until(&dn.calls, 2));
    UT_EQ(dn.ret, 100);
    UT_EQ(read_file(bt.path, 10, got, sizeof(got)), 0);
    UT_BYTES(got, x, sizeof(x));
    UT_EQ(read_file(bt.path, 300, got, sizeof(got)), 0);
    UT_BYTES(got, y, sizeof(y));
}

/* An image whose size is not a multiple of the O_DIRECT alignment: the tail
 * is reachable and writing it does not grow the file. */
static void test_direct_unaligned_tail(void)
{
    struct ob_drive *d = open_direct(4096 + 1000, 6);
    uint8_t buf[1000];
    struct stat st;
    size_t i;

    if (!d) {
        return;
    }
    UT_EQ(d->size, 5096);
    UT_EQ(do_read(d, 4096, buf, 1000), 1000);
    for (i = 0; i < 1000; i++) {
        CU_ASSERT(buf[i] == pat(4096 + i, 6));
    }
    memset(buf, 0x11, sizeof(buf));
    UT_EQ(do_write(d, 4096, buf, 1000, true), 1000);
    check_file(bt.path, 4096, buf, 1000);
    UT_EQ(stat(bt.path, &st), 0);
    UT_EQ(st.st_size, 5096);
}

/* ---- read-only, ranges, EOF ----------------------------------------------- */

static void test_readonly(void)
{
    struct ob_drive *d;
    uint8_t buf[512];
    struct iovec iov = { buf, sizeof(buf) };
    struct done dn = { 0, 0 };

    UT_EQ_FATAL(make_file(bt.path, 65536, 7), 0);
    UT_EQ(chmod(bt.path, 0444), 0);
    d = drive_open("id=d0,file=%s,format=raw,readonly=on", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    CU_ASSERT(d->readonly);
    UT_EQ(ob_drive_pwritev(d, 0, &iov, 1, false, on_done, &dn), -EROFS);
    UT_EQ(ob_drive_pwrite_zeroes(d, 0, 512, 0, on_done, &dn), -EROFS);
    UT_EQ(ob_drive_discard(d, 0, 512, on_done, &dn), -EROFS);
    UT_EQ(dn.calls, 0);
    UT_EQ(do_read(d, 512, buf, sizeof(buf)), sizeof(buf));
    CU_ASSERT(buf[0] == pat(512, 7));
    UT_EQ(do_flush(d), 0);
}

static void test_out_of_range(void)
{
    struct ob_drive *d;
    uint8_t buf[1024];
    struct iovec iov = { buf, sizeof(buf) };
    struct done dn = { 0, 0 };

    UT_EQ_FATAL(make_file(bt.path, 4096, 7), 0);
    d = drive_open("id=d0,file=%s,format=raw", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    UT_EQ(ob_drive_preadv(d, 4096 - 512, &iov, 1, on_done, &dn), -EINVAL);
    UT_EQ(ob_drive_pwritev(d, 4097, &iov, 1, false, on_done, &dn), -EINVAL);
    UT_EQ(ob_drive_preadv(d, UINT64_MAX - 100, &iov, 1, on_done, &dn), -EINVAL);
    UT_EQ(ob_drive_discard(d, 4096, 1, on_done, &dn), -EINVAL);
    UT_EQ(dn.calls, 0);
    /* up to the last byte is fine, and an empty request at the end too */
    UT_EQ(do_read(d, 4096 - 1024, buf, 1024), 1024);
    UT_EQ(do_read(d, 4096, buf, 0), 0);
}

/* The file shrinks under the drive: reads past its end (inside the drive's
 * size) return zeroes. */
static void test_eof_zero_fill(void)
{
    struct ob_drive *d;
    uint8_t buf[8192], zero[4096];

    UT_EQ_FATAL(make_file(bt.path, 8192, 8), 0);
    d = drive_open("id=d0,file=%s,format=raw", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    UT_EQ(truncate(bt.path, 4096), 0);
    memset(buf, 0xee, sizeof(buf));
    memset(zero, 0, sizeof(zero));
    UT_EQ(do_read(d, 0, buf, sizeof(buf)), sizeof(buf));
    CU_ASSERT(buf[4095] == pat(4095, 8));
    UT_BYTES(buf + 4096, zero, 4096);
}

static void test_unaligned_size(void)
{
    struct ob_drive *d;
    uint8_t buf[200];
    size_t i;

    UT_EQ_FATAL(make_file(bt.path, 1000, 8), 0);
    d = drive_open("id=d0,file=%s,format=raw", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    UT_EQ(d->size, 1000);
    UT_EQ(do_read(d, 800, buf, 200), 200);
    for (i = 0; i < 200; i++) {
        CU_ASSERT(buf[i] == pat(800 + i, 8));
    }
}

/* ---- zeroes and discard ----------------------------------------------------- */

static int64_t wait_op(int rc, struct done *dn)
{
    if (rc < 0) {
        return rc;
    }
    if (!run_until(&dn->calls, 1)) {
        return -ETIMEDOUT;
    }
    return dn->ret;
}

static void test_zeroes_and_discard(void)
{
    struct ob_drive *d;
    uint8_t buf[8192], zero[8192];
    struct done dn = { 0, 0 };

    memset(zero, 0, sizeof(zero));
    UT_EQ_FATAL(make_file(bt.path, 65536, 10), 0);
    d = drive_open("id=d0,file=%s,format=raw,discard=unmap", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    CU_ASSERT(d->discard);
    UT_EQ(wait_op(ob_drive_pwrite_zeroes(d, 4096, 8192, 0, on_done, &dn), &dn), 0);
    check_file(bt.path, 4096, zero, 8192);
    UT_EQ(read_file(bt.path, 4095, buf, 1), 0);
    CU_ASSERT(buf[0] == pat(4095, 10));
    UT_EQ(read_file(bt.path, 12288, buf, 1), 0);
    CU_ASSERT(buf[0] == pat(12288, 10));
    memset(&dn, 0, sizeof(dn));
    UT_EQ(wait_op(ob_drive_pwrite_zeroes(d, 16384, 4096, OB_ZEROES_MAY_UNMAP, on_done,
                                         &dn), &dn), 0);
    check_file(bt.path, 16384, zero, 4096);
    /* a discard punches a hole: reads as zeroes on this file system */
    memset(&dn, 0, sizeof(dn));
    UT_EQ(wait_op(ob_drive_discard(d, 32768, 8192, on_done, &dn), &dn), 0);
    UT_EQ(do_read(d, 32768, buf, 8192), 8192);
    CU_ASSERT(memcmp(buf, zero, 8192) == 0 || buf[0] == pat(32768, 10));
}

static void test_discard_ignored(void)
{
    struct ob_drive *d;
    uint8_t buf[4096];
    struct done dn = { 0, 0 };

    UT_EQ_FATAL(make_file(bt.path, 65536, 11), 0);
    d = drive_open("id=d0,file=%s,format=raw", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    CU_ASSERT(!d->discard);
    UT_EQ(ob_drive_discard(d, 0, 4096, on_done, &dn), 0);
    UT_EQ(dn.calls, 0);
    CU_ASSERT_FATAL(run_until(&dn.calls, 1));
    UT_EQ(dn.ret, 0);
    UT_EQ(read_file(bt.path, 0, buf, sizeof(buf)), 0);
    CU_ASSERT(buf[100] == pat(100, 11));
}

static void test_direct_zeroes_unaligned(void)
{
    struct ob_drive *d = open_direct(65536, 12);
    uint8_t zero[1000], buf[1];
    struct done dn = { 0, 0 };

    if (!d) {
        return;
    }
    memset(zero, 0, sizeof(zero));
    UT_EQ(wait_op(ob_drive_pwrite_zeroes(d, 100, 1000, 0, on_done, &dn), &dn), 0);
    check_file(bt.path, 100, zero, sizeof(zero));
    UT_EQ(read_file(bt.path, 99, buf, 1), 0);
    CU_ASSERT(buf[0] == pat(99, 12));
    UT_EQ(read_file(bt.path, 1100, buf, 1), 0);
    CU_ASSERT(buf[0] == pat(1100, 12));
}

/* ---- errors ------------------------------------------------------------------ */

/* A write the kernel refuses (here: beyond RLIMIT_FSIZE, EFBIG) comes back
 * as -errno in the callback. */
static void test_write_error_surfaces(void)
{
    struct ob_drive *d;
    struct rlimit old, lim;
    uint8_t buf[4096];
    void (*oldsig)(int);
    int64_t ret;

    UT_EQ_FATAL(make_file(bt.path, 1 << 20, 13), 0);
    d = drive_open("id=d0,file=%s,format=raw", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    UT_EQ_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
    oldsig = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 65536;
    UT_EQ_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
    memset(buf, 1, sizeof(buf));
    ret = do_write(d, 512 * 1024, buf, sizeof(buf), false);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, oldsig);
    UT_EQ(ret, -EFBIG);
    UT_EQ(d->stats.errors, 1);
    /* the drive keeps working */
    UT_EQ(do_write(d, 4096, buf, sizeof(buf), false), sizeof(buf));
}

/* Requests in flight when the context goes away: waited for, dropped. */
static void test_destroy_in_flight(void)
{
    struct ob_drive *d;
    static uint8_t bufs[8][65536];
    struct iovec iov[8];
    struct done dn = { 0, 0 };
    int i;

    UT_EQ_FATAL(make_file(bt.path, MiB, 14), 0);
    d = drive_open("id=d0,file=%s,format=raw", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    for (i = 0; i < 8; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = sizeof(bufs[i]);
        UT_EQ(i % 2 ? ob_drive_pwritev(d, (uint64_t)i * 65536, &iov[i], 1, true,
                                       on_done, &dn)
                    : ob_drive_preadv(d, (uint64_t)i * 65536, &iov[i], 1, on_done, &dn),
              0);
    }
    UT_EQ(ob_drive_flush(d, on_done, &dn), 0);
    ob_ctx_fini(&bt.ctx);
    bt.ctx_ok = false;
    UT_EQ(dn.calls, 0);
}

static void test_drain(void)
{
    struct ob_drive *d;
    static uint8_t bufs[32][4096];
    struct iovec iov[32];
    struct done dn = { 0, 0 };
    int i;

    UT_EQ_FATAL(make_file(bt.path, MiB, 15), 0);
    d = drive_open("id=d0,file=%s,format=raw,aio=sync", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    for (i = 0; i < 32; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = sizeof(bufs[i]);
        UT_EQ(ob_drive_preadv(d, (uint64_t)i * 4096, &iov[i], 1, on_done, &dn), 0);
    }
    ob_drive_drain(d);
    UT_EQ(dn.calls, 32);
    UT_EQ(d->inflight, 0);
}

/* ---- options and formats ------------------------------------------------------ */

struct opt_case {
    const char *spec;        /* %s: the image path */
    const char *error;       /* expected substring */
};

static void test_bad_options(void)
{
    static const struct opt_case cases[] = {
        { "id=x,file=/nonexistent/f.raw,format=raw",
          "Could not open '/nonexistent/f.raw': No such file or directory" },
        { "id=x,file=%s,format=qcow2", "Image format 'qcow2' is not supported" },
        { "id=x,file=%s,format=vmdk", "qemu-img convert -f vmdk -O raw" },
        { "id=x,file=%s,format=foo", "Unknown driver 'foo'" },
        { "id=x,file=%s,format=nbd", "Block driver 'nbd' is not supported" },
        { "id=x,file=%s,cache=bogus", "invalid cache option 'bogus'" },
        { "id=x,file=%s,if=ide", "if=ide is not supported by outboard" },
        { "id=x,file=%s,media=cdrom", "media=cdrom is not supported" },
        { "id=x,file=%s,werror=stop", "werror=stop is not supported" },
        { "id=x,file=%s,rerror=bogus", "'bogus' invalid read error action" },
        { "id=x,file=%s,aio=native",
          "aio=native was specified, but it requires cache.direct=on" },
        { "id=x,file=%s,aio=posix", "invalid aio option 'posix'" },
        { "id=x,file=%s,discard=maybe", "Invalid discard option" },
        { "id=x,file=%s,readonly=maybe", "Parameter 'readonly' expects 'on' or 'off'" },
        { "id=x,file=%s,bogus=1", "Invalid parameter 'bogus'" },
        { "id=x,file=%s,snapshot=on", "snapshot=on is not supported" },
        { "id=x,file=%s,detect-zeroes=on", "detect-zeroes=on is not supported" },
        { "id=x", "drive has no file=" },
        { "id=x,file=/tmp", "Could not open '/tmp': Is a directory" },
        { "id=x,file=/dev/null", "'/dev/null' is not a regular file or a block device" },
    };
    char spec[256], err[512];
    size_t i;

    UT_EQ_FATAL(make_file(bt.path, 65536, 0), 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(spec, sizeof(spec), cases[i].spec, bt.path);
        UT_EQ(drive_new(spec, err, sizeof(err)), -1);
        if (!strstr(err, cases[i].error)) {
            UT_STREQ(err, cases[i].error);
        }
    }
    CU_ASSERT(bt.ctx.drives == NULL);
}

static void test_ids(void)
{
    char spec[256], err[512];

    UT_EQ_FATAL(make_file(bt.path, 65536, 0), 0);
    snprintf(spec, sizeof(spec), "file=%s,format=raw,if=none", bt.path);
    UT_EQ(drive_new(spec, err, sizeof(err)), 0);
    UT_EQ(drive_new(spec, err, sizeof(err)), 0);
    CU_ASSERT(ob_drive_find(&bt.ctx, "none0") != NULL);
    CU_ASSERT(ob_drive_find(&bt.ctx, "none1") != NULL);
    snprintf(spec, sizeof(spec), "id=none1,file=%s,format=raw", bt.path);
    UT_EQ(drive_new(spec, err, sizeof(err)), -1);
    UT_STREQ(err, "Duplicate ID 'none1' for drive");
}

static void test_cache_modes(void)
{
    static const struct {
        const char *opt;
        enum ob_cache_mode mode;
        bool direct, dsync, no_flush;
    } modes[] = {
        { "cache=writeback", OB_CACHE_WRITEBACK, false, false, false },
        { "cache=writethrough", OB_CACHE_WRITETHROUGH, false, true, false },
        { "cache=unsafe", OB_CACHE_UNSAFE, false, false, true },
        { "cache=writeback,cache.no-flush=on", OB_CACHE_UNSAFE, false, false, true },
        { "cache.writeback=off", OB_CACHE_WRITETHROUGH, false, true, false },
    };
    char spec[256], err[512];
    size_t i;

    UT_EQ_FATAL(make_file(bt.path, 65536, 0), 0);
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct ob_drive *d;
        char id[8];

        snprintf(id, sizeof(id), "c%zu", i);
        snprintf(spec, sizeof(spec), "id=%s,file=%s,format=raw,%s", id, bt.path,
                 modes[i].opt);
        UT_EQ(drive_new(spec, err, sizeof(err)), 0);
        d = ob_drive_find(&bt.ctx, id);
        CU_ASSERT_FATAL(d != NULL);
        UT_EQ(d->cache, modes[i].mode);
        UT_EQ(d->direct, modes[i].direct);
        UT_EQ(d->dsync, modes[i].dsync);
        UT_EQ(d->no_flush, modes[i].no_flush);
    }
}

static int write_at(const char *path, uint64_t off, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        return -1;
    }
    n = pwrite(fd, buf, len, (off_t)off);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

static void test_format_refusals(void)
{
    static const struct {
        const char *magic;
        size_t len, off;
        const char *name;
    } images[] = {
        { "QFI\xfb\0\0\0\3", 8, 0, "qcow2" },
        { "QFI\xfb\0\0\0\1", 8, 0, "qcow" },
        { "KDMV", 4, 0, "vmdk" },
        { "vhdxfile", 8, 0, "vhdx" },
        { "conectix", 8, 0, "vpc" },
        { "QED\0", 4, 0, "qed" },
        { "\x7f\x10\xda\xbe", 4, 0x40, "vdi" },
    };
    char spec[256], err[512], want[64];
    size_t i;

    for (i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
        UT_EQ_FATAL(make_file(bt.path, 65536, 0), 0);
        UT_EQ_FATAL(write_at(bt.path, images[i].off, images[i].magic, images[i].len), 0);
        /* without format=: refused, with the conversion command */
        snprintf(spec, sizeof(spec), "id=x%zu,file=%s", i, bt.path);
        UT_EQ(drive_new(spec, err, sizeof(err)), -1);
        snprintf(want, sizeof(want), "is a %s image", images[i].name);
        CU_ASSERT(strstr(err, want) != NULL);
        CU_ASSERT(strstr(err, "qemu-img convert") != NULL);
        /* format=raw: served as raw, as QEMU does */
        snprintf(spec, sizeof(spec), "id=x%zu,file=%s,format=raw", i, bt.path);
        UT_EQ(drive_new(spec, err, sizeof(err)), 0);
    }
}

static void test_probed_raw(void)
{
    struct ob_drive *d;
    char text[4096];
    uint8_t s0[512];
    struct iovec iov = { s0, 4 };
    struct done dn = { 0, 0 };

    UT_EQ_FATAL(make_file(bt.path, 65536, 0), 0);
    ob_log_close(&bt.ctx.log);
    UT_EQ_FATAL(ut_log_to_tmpfile(&bt.ctx.log), 0);
    d = drive_open("id=d0,file=%s", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    CU_ASSERT(d->probed);
    ut_log_text(&bt.ctx.log, text, sizeof(text));
    CU_ASSERT(strstr(text, "WARNING: Image format was not specified for '") != NULL);
    CU_ASSERT(strstr(text, "' and probing guessed raw.\n         Automatically detecting "
                     "the format is dangerous for raw images, write operations on "
                     "block 0 will be restricted.\n         Specify the 'raw' format "
                     "explicitly to remove the restrictions.\n") != NULL);
    /* block 0 may not become another format's header, wholly or in part */
    memset(s0, 0, sizeof(s0));
    memcpy(s0, "QFI\xfb\0\0\0\3", 8);
    UT_EQ(ob_drive_pwritev(d, 0, &iov, 1, false, on_done, &dn), -EPERM);
    iov.iov_len = sizeof(s0);
    UT_EQ(ob_drive_pwritev(d, 0, &iov, 1, false, on_done, &dn), -EPERM);
    /* anything else is fine */
    memset(s0, 0x42, sizeof(s0));
    UT_EQ(do_write(d, 0, s0, sizeof(s0), false), sizeof(s0));
    check_file(bt.path, 0, s0, sizeof(s0));
    UT_EQ(do_write(d, 512, "QFI\xfb", 4, false), 4);
}

static void test_probed_readonly_no_warning(void)
{
    struct ob_drive *d;
    char text[4096];

    UT_EQ_FATAL(make_file(bt.path, 65536, 0), 0);
    ob_log_close(&bt.ctx.log);
    UT_EQ_FATAL(ut_log_to_tmpfile(&bt.ctx.log), 0);
    d = drive_open("id=d0,file=%s,readonly=on", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    CU_ASSERT(!d->probed);
    ut_log_text(&bt.ctx.log, text, sizeof(text));
    CU_ASSERT(strstr(text, "WARNING") == NULL);
}

/* ---- libblkid: probing and LABEL=/UUID= ------------------------------------- */

static bool have_tool(const char *name)
{
    char cmd[160];

    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1 || "
             "test -x /sbin/%s || test -x /usr/sbin/%s", name, name, name);
    return system(cmd) == 0;
}

static int run_cmd(const char *cmd)
{
    char full[600];

    snprintf(full, sizeof(full), "PATH=$PATH:/sbin:/usr/sbin %s >/dev/null 2>&1", cmd);
    return system(full) == 0 ? 0 : -1;
}

/* Points libblkid at a private configuration whose cache lists IMG with
 * its tags (libblkid resolves tags of block devices only; an image file is
 * reached through its cache). The entry is stale, so libblkid verifies it
 * by probing IMG itself: a wrong label would be dropped. */
static int blkid_env(const char *img, const char *label, const char *uuid,
                     const char *type)
{
    char conf[160], tab[160];
    FILE *fp;

    snprintf(conf, sizeof(conf), "%s/blkid.conf", bt.dir);
    snprintf(tab, sizeof(tab), "%s/blkid.tab", bt.dir);
    fp = fopen(conf, "w");
    if (!fp) {
        return -1;
    }
    fprintf(fp, "EVALUATE=scan\nCACHE_FILE=%s\n", tab);
    fclose(fp);
    fp = fopen(tab, "w");
    if (!fp) {
        return -1;
    }
    fprintf(fp, "<device DEVNO=\"0x0000\" TIME=\"1.1\" LABEL=\"%s\" UUID=\"%s\" "
            "TYPE=\"%s\">%s</device>\n", label, uuid, type, img);
    fclose(fp);
    setenv("BLKID_CONF", conf, 1);
    return 0;
}

static void test_label_uuid_ext2(void)
{
    char cmd[400], spec[256], err[512];
    struct ob_drive *d;

    if (!have_tool("mkfs.ext2")) {
        printf("\n  (skipped: mkfs.ext2 not installed: apt-get install e2fsprogs) ");
        return;
    }
    UT_EQ_FATAL(make_file(bt.path, 4 * MiB, 0), 0);
    snprintf(cmd, sizeof(cmd), "mkfs.ext2 -q -F -L obtestlbl -U "
             "0b0b0b0b-1111-2222-3333-444455556666 '%s'", bt.path);
    UT_EQ_FATAL(run_cmd(cmd), 0);
    UT_EQ_FATAL(blkid_env(bt.path, "obtestlbl", "0b0b0b0b-1111-2222-3333-444455556666",
                          "ext2"), 0);
    UT_EQ(drive_new("id=l,file=LABEL=obtestlbl,format=raw", err, sizeof(err)), 0);
    d = ob_drive_find(&bt.ctx, "l");
    if (!d) {
        fprintf(stderr, "\n  %s\n", err);
    } else {
        UT_STREQ(d->filename, bt.path);
        UT_STREQ(d->fstype, "ext2");
    }
    snprintf(spec, sizeof(spec),
             "id=u,file=UUID=0b0b0b0b-1111-2222-3333-444455556666,format=raw");
    UT_EQ(drive_new(spec, err, sizeof(err)), 0);
    d = ob_drive_find(&bt.ctx, "u");
    CU_ASSERT(d != NULL && strcmp(d->filename, bt.path) == 0);
    UT_EQ(drive_new("id=n,file=LABEL=no-such-label-here,format=raw", err, sizeof(err)),
          -1);
    UT_STREQ(err, "Could not open 'LABEL=no-such-label-here': no device with this LABEL");
    unsetenv("BLKID_CONF");
}

static void test_label_vfat(void)
{
    char cmd[400], err[512];
    struct ob_drive *d;

    if (!have_tool("mkfs.vfat")) {
        printf("\n  (skipped: mkfs.vfat not installed: apt-get install dosfstools) ");
        return;
    }
    snprintf(cmd, sizeof(cmd), "mkfs.vfat -n OBVFAT -i 1234ABCD -C '%s' 4096", bt.path);
    UT_EQ_FATAL(run_cmd(cmd), 0);
    UT_EQ_FATAL(blkid_env(bt.path, "OBVFAT", "1234-ABCD", "vfat"), 0);
    UT_EQ(drive_new("id=v,file=UUID=1234-ABCD,format=raw", err, sizeof(err)), 0);
    d = ob_drive_find(&bt.ctx, "v");
    if (!d) {
        fprintf(stderr, "\n  %s\n", err);
    } else {
        UT_STREQ(d->filename, bt.path);
        UT_STREQ(d->fstype, "vfat");
    }
    unsetenv("BLKID_CONF");
}

/* An MBR with one partition: libblkid reports a "dos" partition table. */
static void test_probe_partition_table(void)
{
    uint8_t mbr[512];
    struct ob_drive *d;

    UT_EQ_FATAL(make_file(bt.path, 4 * MiB, 0), 0);
    memset(mbr, 0, sizeof(mbr));
    mbr[0x1be + 4] = 0x83;                  /* Linux */
    mbr[0x1be + 8] = 2048 & 0xff;           /* start: sector 2048 */
    mbr[0x1be + 9] = 2048 >> 8;
    mbr[0x1be + 12] = 4096 & 0xff;          /* 4096 sectors */
    mbr[0x1be + 13] = 4096 >> 8;
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    UT_EQ_FATAL(write_at(bt.path, 0, mbr, sizeof(mbr)), 0);
    d = drive_open("id=d0,file=%s,format=raw", bt.path);
    CU_ASSERT_FATAL(d != NULL);
    UT_STREQ(d->pttype, "dos");
    CU_ASSERT(d->fstype == NULL);
}

static const struct ut_test block_tests[] = {
    UT_TEST(test_rw_writeback),
    UT_TEST(test_rw_writethrough_fua),
    UT_TEST(test_rw_sync_engine),
    UT_TEST(test_sync_engine_from_env),
    UT_TEST(test_fua_write),
    UT_TEST(test_unsafe_flush_is_nop),
    UT_TEST(test_deep_queue),
    UT_TEST(test_many_iovecs),
    UT_TEST(test_direct_unaligned),
    UT_TEST(test_direct_rmw_serialised),
    UT_TEST(test_direct_unaligned_tail),
    UT_TEST(test_readonly),
    UT_TEST(test_out_of_range),
    UT_TEST(test_eof_zero_fill),
    UT_TEST(test_unaligned_size),
    UT_TEST(test_zeroes_and_discard),
    UT_TEST(test_discard_ignored),
    UT_TEST(test_direct_zeroes_unaligned),
    UT_TEST(test_write_error_surfaces),
    UT_TEST(test_destroy_in_flight),
    UT_TEST(test_drain),
    UT_TEST(test_bad_options),
    UT_TEST(test_ids),
    UT_TEST(test_cache_modes),
    UT_TEST(test_format_refusals),
    UT_TEST(test_probed_raw),
    UT_TEST(test_probed_readonly_no_warning),
    UT_TEST(test_label_uuid_ext2),
    UT_TEST(test_label_vfat),
    UT_TEST(test_probe_partition_table),
    UT_END,
};

static const struct ut_suite block_suite = {
    .name = "block",
    .setup = bt_setup,
    .teardown = bt_teardown,
    .tests = block_tests,
};

int test_block_register(void)
{
    return ut_add_suite(&block_suite);
}
