/*
 * it_lsi.c - outboard serving an LSI53C895A with a scsi-hd on a temporary
 * raw image, driven through SCRIPTS by the proxy driver's initiator
 * (proxy_lsi.h): identification, capacity, reads compared with the image
 * file, writes checked in the file on the host, sense data for a bad LBA,
 * selection timeout for an absent target, tagged queueing with
 * reselection, short transfers and overruns, the SIGP wake-up of WAIT
 * RESELECT, chip reset with commands outstanding.
 *
 * Suite "lsi" runs against outboard; suite "lsi-qemu" runs the same tests
 * against QEMU's own x-remote (the reference), skipped without QEMU. Both
 * run most tests a second time with the initiator in its queued mode
 * (SCRIPTS run the start queue and find reselected commands themselves).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outboard/proxy_lsi.h"

#include "it.h"

#define IMG_SIZE      (8u << 20)
#define BLOCK         512u
#define IMG_BLOCKS    (IMG_SIZE / BLOCK)
#define RAM_SIZE      (16u << 20)
#define TARGET        0u
#define ABSENT_TARGET 3u
#define CMD_MS        10000
/* data buffers of the tagged tests, above the exec bounce area */
#define TAG_GPA       (OB_PROXY_LSI_DATA_GPA + OB_PROXY_LSI_BOUNCE)

#define SK_ILLEGAL_REQUEST 0x05
#define ASC_LBA_OUT_OF_RANGE 0x21

/* Which remote the current test drives, and the initiator's mode (set by
 * the suite wrappers). */
static bool use_qemu;
static bool use_queued;

struct lsi_fx {
    struct it_remote r;
    struct ob_proxy *px;
    struct ob_proxy_lsi lsi;
    char img[64];
    int imgfd;
};

/* Byte OFF of the image's initial contents. */
static uint8_t pattern(uint64_t off)
{
    uint32_t x = (uint32_t)(off >> 2) * 2654435761u;

    return (uint8_t)((x >> 24) ^ (off & 3) ^ (off >> 20));
}

static int make_image(struct lsi_fx *f)
{
    static uint8_t chunk[1u << 16];
    uint64_t off;
    size_t i;

    snprintf(f->img, sizeof(f->img), "/tmp/ob-it-lsi-XXXXXX");
    f->imgfd = mkstemp(f->img);
    if (f->imgfd < 0) {
        perror("it_lsi: mkstemp");
        return -1;
    }
    for (off = 0; off < IMG_SIZE; off += sizeof(chunk)) {
        for (i = 0; i < sizeof(chunk); i++) {
            chunk[i] = pattern(off + i);
        }
        if (pwrite(f->imgfd, chunk, sizeof(chunk), (off_t)off) != (ssize_t)sizeof(chunk)) {
            perror("it_lsi: pwrite");
            return -1;
        }
    }
    return 0;
}

static void fx_init(struct lsi_fx *f)
{
    unsigned i;

    memset(f, 0, sizeof(*f));
    f->imgfd = -1;
    f->r.proc.pid = -1;
    f->r.errfd = -1;
    f->r.status = -1;
    for (i = 0; i < IT_MAX_CHANS; i++) {
        ob_proxy_init(&f->r.px[i]);
    }
    f->px = &f->r.px[0];
}

static bool lsi_ok(struct lsi_fx *f, int rc, const char *expr, unsigned line)
{
    char msg[OB_PROXY_ERRLEN + 128];
    bool ok = rc >= 0;

    if (!ok) {
        snprintf(msg, sizeof(msg), "%s failed: %s", expr, f->lsi.err);
    }
    CU_assertImplementation(ok, line, ok ? expr : msg, __FILE__, "", CU_FALSE);
    return ok;
}
#define LSI_OK(f, call) lsi_ok((f), (call), #call, __LINE__)

static int exec(struct lsi_fx *f, unsigned target, const uint8_t *cdb, unsigned cdb_len,
                enum ob_proxy_lsi_dir dir, void *buf, uint32_t len,
                struct ob_proxy_lsi_result *res)
{
    return ob_proxy_lsi_exec(&f->lsi, target, 0, cdb, cdb_len, dir, buf, len, res);
}

/* Image, remote, bring-up, initiator, and the power-on unit attention
 * consumed with TEST UNIT READY. */
static int fx_start(struct lsi_fx *f)
{
    char drive[128];
    char *ob_argv[] = {
        (char *)it_outboard(), "-machine", "x-remote", "-device", "lsi53c895a,id=lsi0",
        "-drive", drive, "-device", "scsi-hd,id=sd0,drive=d0,bus=lsi0.0,scsi-id=0",
        "-object", "x-remote-object,id=robj0,devid=lsi0,fd={fd}", NULL,
    };
    char *qemu_argv[] = {
        "qemu-system-x86_64", "-machine", "x-remote", "-device", "lsi53c895a,id=lsi0",
        "-drive", drive, "-device", "scsi-hd,id=sd0,drive=d0,bus=lsi0.0,scsi-id=0",
        "-object", "x-remote-object,id=robj0,devid=lsi0,fd={fd}",
        "-nographic", "-monitor", "none", "-serial", "none", NULL,
    };
    static const uint8_t tur[6] = { 0x00 };
    struct ob_proxy_lsi_result res;
    int i;

    fx_init(f);
    if (make_image(f) < 0) {
        return -1;
    }
    snprintf(drive, sizeof(drive), "id=d0,file=%s,format=raw,if=none", f->img);
    if (it_spawn(&f->r, use_qemu ? qemu_argv : ob_argv, 1) < 0) {
        return -1;
    }
    if (use_qemu && ob_proxy_wait_remote_reset(f->px, 3000) < 0) {
        fprintf(stderr, "it_lsi: %s\n", f->px->err);
        return -1;
    }
    if (ob_proxy_bringup(f->px, RAM_SIZE, OB_PROXY_CMD_IO | OB_PROXY_CMD_MEM |
                                          OB_PROXY_CMD_MASTER) < 0) {
        fprintf(stderr, "it_lsi: bring-up: %s\n", f->px->err);
        return -1;
    }
    ob_proxy_set_timeout(f->px, CMD_MS);
    if ((use_queued ? ob_proxy_lsi_init_queued(&f->lsi, f->px)
                    : ob_proxy_lsi_init(&f->lsi, f->px)) < 0) {
        fprintf(stderr, "it_lsi: %s\n", f->lsi.err);
        return -1;
    }
    for (i = 0; i < 3; i++) {
        if (exec(f, TARGET, tur, sizeof(tur), OB_PROXY_LSI_NONE, NULL, 0, &res) < 0) {
            fprintf(stderr, "it_lsi: TEST UNIT READY: %s\n", f->lsi.err);
            return -1;
        }
        if (res.outcome == OB_PROXY_LSI_DONE && res.status == OB_PROXY_LSI_STATUS_GOOD) {
            return 0;
        }
    }
    fprintf(stderr, "it_lsi: TEST UNIT READY never GOOD (status %#x, sense %x/%x/%x)\n",
            res.status, res.sense_key, res.asc, res.ascq);
    return -1;
}

static void fx_stop(struct lsi_fx *f)
{
    IT_EQ(it_stop(&f->r), 0);
    if (f->imgfd >= 0) {
        close(f->imgfd);
        unlink(f->img);
        f->imgfd = -1;
    }
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* True when LEN bytes at OFF of the image file equal BUF. */
static bool file_equals(struct lsi_fx *f, uint64_t off, const uint8_t *buf, size_t len)
{
    uint8_t *tmp = malloc(len);
    bool same;

    if (!tmp) {
        return false;
    }
    same = pread(f->imgfd, tmp, len, (off_t)off) == (ssize_t)len && memcmp(tmp, buf, len) == 0;
    free(tmp);
    return same;
}

/* READ(10) of BLOCKS at LBA compared with the file; true when equal. */
static bool read_matches(struct lsi_fx *f, uint32_t lba, uint16_t blocks)
{
    struct ob_proxy_lsi_result res;
    uint32_t len = blocks * BLOCK;
    uint8_t cdb[10], *buf = malloc(len);
    bool ok = false;

    if (!buf) {
        return false;
    }
    memset(buf, 0xee, len);
    it_rw10(cdb, false, lba, blocks);
    if (LSI_OK(f, exec(f, TARGET, cdb, 10, OB_PROXY_LSI_IN, buf, len, &res))) {
        ok = IT_EQ(res.outcome, OB_PROXY_LSI_DONE) & IT_EQ(res.status, 0) &
             IT_EQ(res.residual, 0);
        ok = ok && file_equals(f, (uint64_t)lba * BLOCK, buf, len);
    }
    free(buf);
    return ok;
}

/* ------------------------------------------------------------------ */

static void test_inquiry(void)
{
    static const uint8_t cdb[6] = { 0x12, 0, 0, 0, 96, 0 };
    struct ob_proxy_lsi_result res;
    struct lsi_fx f;
    uint8_t buf[96];

    IT_REQUIRE(fx_start(&f) == 0);
    memset(buf, 0xee, sizeof(buf));
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, cdb, 6, OB_PROXY_LSI_IN, buf, sizeof(buf), &res)));
    IT_EQ(res.outcome, OB_PROXY_LSI_DONE);
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    IT_ASSERT(res.residual <= sizeof(buf) - 36);
    IT_EQ(buf[0], 0x00);                       /* connected, direct-access block device */
    IT_EQ(buf[1] & 0x80, 0);                   /* not removable */
    IT_ASSERT(buf[4] >= 31);                   /* standard data is at least 36 bytes */
    IT_ASSERT(buf[7] & 0x02);                  /* CmdQue: tagged queueing */
    IT_ASSERT(memcmp(buf + 8, "QEMU    ", 8) == 0);
    IT_ASSERT(memcmp(buf + 16, "QEMU HARDDISK   ", 16) == 0);
out:
    fx_stop(&f);
}

static void test_read_capacity(void)
{
    static const uint8_t rc10[10] = { 0x25 };
    static const uint8_t rc16[16] = { 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0 };
    struct ob_proxy_lsi_result res;
    struct lsi_fx f;
    uint8_t buf[32];

    IT_REQUIRE(fx_start(&f) == 0);
    memset(buf, 0xee, sizeof(buf));
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, rc10, 10, OB_PROXY_LSI_IN, buf, 8, &res)));
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    IT_EQ(res.residual, 0);
    IT_EQ(get_be32(buf), IMG_BLOCKS - 1);
    IT_EQ(get_be32(buf + 4), BLOCK);

    memset(buf, 0xee, sizeof(buf));
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, rc16, 16, OB_PROXY_LSI_IN, buf, 32, &res)));
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    IT_ASSERT(res.residual <= 32 - 12);
    IT_EQ(get_be32(buf), 0);                   /* last LBA, high half */
    IT_EQ(get_be32(buf + 4), IMG_BLOCKS - 1);
    IT_EQ(get_be32(buf + 8), BLOCK);
out:
    fx_stop(&f);
}

static void test_read(void)
{
    struct lsi_fx f;
    uint64_t requests;

    IT_REQUIRE(fx_start(&f) == 0);
    requests = f.px->requests;
    IT_ASSERT(read_matches(&f, 0, 1));
    IT_ASSERT(read_matches(&f, 100, 8));
    IT_ASSERT(read_matches(&f, 777, 3));
    IT_ASSERT(read_matches(&f, IMG_BLOCKS - 1, 1));
    IT_ASSERT(read_matches(&f, 4096, 2048));   /* 1 MiB: several chunks */
    if (use_queued) {
        /* untagged reads disconnect; SCRIPTS find them again by target:
         * SIGP, then ISTAT and INTF per command (the classic mode: ~9) */
        IT_ASSERT(f.px->requests - requests <= 5 * 3);
        IT_EQ(f.lsi.stats.reselections, 0);
    }
out:
    fx_stop(&f);
}

static void test_write(void)
{
    static uint8_t data[300 * 1024];
    struct ob_proxy_lsi_result res;
    struct lsi_fx f;
    uint8_t cdb[10];
    size_t i;

    IT_REQUIRE(fx_start(&f) == 0);
    for (i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 13 + 0x5b + (i >> 9));
    }
    /* 8 blocks at LBA 200: exactly those bytes change in the file */
    it_rw10(cdb, true, 200, 8);
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, cdb, 10, OB_PROXY_LSI_OUT, data, 8 * BLOCK, &res)));
    IT_EQ(res.outcome, OB_PROXY_LSI_DONE);
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    IT_EQ(res.residual, 0);
    IT_ASSERT(file_equals(&f, 200 * BLOCK, data, 8 * BLOCK));
    {
        uint8_t before[BLOCK], after[BLOCK];

        for (i = 0; i < BLOCK; i++) {
            before[i] = pattern(199 * BLOCK + i);
            after[i] = pattern(208 * BLOCK + i);
        }
        IT_ASSERT(file_equals(&f, 199 * BLOCK, before, BLOCK));
        IT_ASSERT(file_equals(&f, 208 * BLOCK, after, BLOCK));
    }
    /* 300 KiB (more than one 128 KiB chunk), then read back through SCSI */
    it_rw10(cdb, true, 3000, sizeof(data) / BLOCK);
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, cdb, 10, OB_PROXY_LSI_OUT, data, sizeof(data),
                                &res)));
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    IT_EQ(res.residual, 0);
    IT_ASSERT(file_equals(&f, 3000 * BLOCK, data, sizeof(data)));
    IT_ASSERT(read_matches(&f, 3000, sizeof(data) / BLOCK));
out:
    fx_stop(&f);
}

static void test_out_of_range(void)
{
    struct ob_proxy_lsi_result res;
    struct lsi_fx f;
    uint8_t cdb[10], buf[2 * BLOCK];
    static const uint8_t tur[6] = { 0 };

    IT_REQUIRE(fx_start(&f) == 0);
    it_rw10(cdb, false, IMG_BLOCKS, 1);
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, cdb, 10, OB_PROXY_LSI_IN, buf, BLOCK, &res)));
    IT_EQ(res.outcome, OB_PROXY_LSI_DONE);
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_CHECK);
    IT_EQ(res.residual, BLOCK);                /* no data moved */
    IT_ASSERT(res.sense_len >= 14);
    IT_EQ(res.sense_key, SK_ILLEGAL_REQUEST);
    IT_EQ(res.asc, ASC_LBA_OUT_OF_RANGE);
    IT_EQ(res.ascq, 0);

    /* a write straddling the end is refused whole: the file is unchanged */
    memset(buf, 0x77, sizeof(buf));
    it_rw10(cdb, true, IMG_BLOCKS - 1, 2);
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, cdb, 10, OB_PROXY_LSI_OUT, buf, sizeof(buf),
                                &res)));
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_CHECK);
    IT_EQ(res.sense_key, SK_ILLEGAL_REQUEST);
    IT_EQ(res.asc, ASC_LBA_OUT_OF_RANGE);
    IT_ASSERT(read_matches(&f, IMG_BLOCKS - 1, 1));
    {
        uint8_t last[BLOCK];
        size_t i;

        for (i = 0; i < BLOCK; i++) {
            last[i] = pattern((uint64_t)(IMG_BLOCKS - 1) * BLOCK + i);
        }
        IT_ASSERT(file_equals(&f, (uint64_t)(IMG_BLOCKS - 1) * BLOCK, last, BLOCK));
    }
    /* the sense was consumed: the next command is GOOD */
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, tur, 6, OB_PROXY_LSI_NONE, NULL, 0, &res)));
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
out:
    fx_stop(&f);
}

static void test_no_target(void)
{
    static const uint8_t tur[6] = { 0 };
    struct ob_proxy_lsi_result res;
    struct lsi_fx f;
    uint8_t cdb[10], buf[BLOCK];

    IT_REQUIRE(fx_start(&f) == 0);
    IT_REQUIRE(LSI_OK(&f, exec(&f, ABSENT_TARGET, tur, 6, OB_PROXY_LSI_NONE, NULL, 0, &res)));
    IT_EQ(res.outcome, OB_PROXY_LSI_SEL_TIMEOUT);
    it_rw10(cdb, false, 0, 1);
    IT_REQUIRE(LSI_OK(&f, exec(&f, 6, cdb, 10, OB_PROXY_LSI_IN, buf, BLOCK, &res)));
    IT_EQ(res.outcome, OB_PROXY_LSI_SEL_TIMEOUT);
    IT_EQ(res.residual, BLOCK);
    /* the bus is free again: target 0 still answers */
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, tur, 6, OB_PROXY_LSI_NONE, NULL, 0, &res)));
    IT_EQ(res.outcome, OB_PROXY_LSI_DONE);
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    IT_ASSERT(read_matches(&f, 5, 1));
out:
    fx_stop(&f);
}

#define QD 32u

/* QD tagged commands outstanding at once: reads of scattered 4 KiB blocks,
 * then half writes and half reads; every completion checked. */
static void test_tagged_queue(void)
{
    struct ob_proxy_lsi_req req[QD], *done[QD];
    struct lsi_fx f;
    unsigned i, got = 0, pass;
    uint64_t requests;
    uint8_t *ram;

    IT_REQUIRE(fx_start(&f) == 0);
    requests = f.px->requests;
    ram = ob_proxy_gpa(f.px, TAG_GPA, QD * 4096);
    IT_REQUIRE(ram != NULL);
    for (pass = 0; pass < 2; pass++) {
        memset(ram, 0xee, QD * 4096);
        for (i = 0; i < QD; i++) {
            struct ob_proxy_lsi_req *q = &req[i];
            bool write = pass == 1 && (i & 1);
            uint32_t lba = (i * 977u + pass * 5000u) % (IMG_BLOCKS - 8);

            memset(q, 0, sizeof(*q));
            q->target = TARGET;
            q->tagged = true;
            q->cdb_len = 10;
            it_rw10(q->cdb, write, lba, 8);
            q->dir = write ? OB_PROXY_LSI_OUT : OB_PROXY_LSI_IN;
            q->data_gpa = TAG_GPA + i * 4096u;
            q->data_len = 4096;
            if (write) {
                memset(ram + i * 4096u, (int)(0x40 + i), 4096);
            }
            IT_REQUIRE(LSI_OK(&f, ob_proxy_lsi_submit(&f.lsi, q)));
        }
        IT_EQ(ob_proxy_lsi_busy(&f.lsi), QD);
        for (got = 0; got < QD;) {
            int n = ob_proxy_lsi_poll(&f.lsi, CMD_MS, done, QD);

            IT_REQUIRE(LSI_OK(&f, n));
            IT_REQUIRE(n > 0);
            got += (unsigned)n;
        }
        IT_EQ(ob_proxy_lsi_busy(&f.lsi), 0);
        for (i = 0; i < QD; i++) {
            uint32_t lba = get_be32(req[i].cdb + 2);

            IT_EQ(req[i].outcome, OB_PROXY_LSI_DONE);
            IT_EQ(req[i].status, OB_PROXY_LSI_STATUS_GOOD);
            IT_EQ(req[i].residual, 0);
            IT_ASSERT(file_equals(&f, (uint64_t)lba * BLOCK, ram + i * 4096u, 4096));
        }
    }
    if (use_queued) {
        /* SCRIPTS did the work: a few register accesses per interrupt,
         * not several per command (the classic mode needs about 9) */
        IT_ASSERT(f.px->requests - requests < 3 * 2 * QD);
        IT_EQ(f.lsi.stats.reselections, 0);
    } else {
        /* reads disconnect and come back by reselection (both remotes) */
        IT_ASSERT(f.lsi.stats.reselections >= QD / 2);
    }
out:
    fx_stop(&f);
}


/* Buffers shorter and longer than the transfer: the residual, and the
 * overrun (the excess goes to the driver's bit bucket). */
static void test_short_and_overrun(void)
{
    struct ob_proxy_lsi_result res;
    struct lsi_fx f;
    uint8_t cdb[10], buf[2 * BLOCK];

    IT_REQUIRE(fx_start(&f) == 0);
    /* 1 block into a 2-block buffer */
    memset(buf, 0xee, sizeof(buf));
    it_rw10(cdb, false, 42, 1);
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, cdb, 10, OB_PROXY_LSI_IN, buf, sizeof(buf), &res)));
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    IT_EQ(res.residual, BLOCK);
    IT_ASSERT(!res.overrun);
    IT_ASSERT(file_equals(&f, 42 * BLOCK, buf, BLOCK));
    IT_EQ(buf[BLOCK], 0xee);
    /* 2 blocks into a 1-block buffer */
    memset(buf, 0xee, sizeof(buf));
    it_rw10(cdb, false, 50, 2);
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, cdb, 10, OB_PROXY_LSI_IN, buf, BLOCK, &res)));
    IT_EQ(res.outcome, OB_PROXY_LSI_DONE);
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    IT_EQ(res.residual, 0);
    IT_ASSERT(res.overrun);
    IT_ASSERT(file_equals(&f, 50 * BLOCK, buf, BLOCK));
    IT_EQ(buf[BLOCK], 0xee);
    /* the target is still fine */
    IT_ASSERT(read_matches(&f, 50, 2));
out:
    fx_stop(&f);
}

/* A command submitted while SCRIPTS wait for a reselection wakes them with
 * ISTAT.SIGP. */
static void test_sigp_wakeup(void)
{
    struct ob_proxy_lsi_req req[2], *done[2];
    struct lsi_fx f;
    unsigned i, got;
    uint8_t *ram;

    IT_REQUIRE(fx_start(&f) == 0);
    ram = ob_proxy_gpa(f.px, TAG_GPA, 2 * (1u << 20));
    IT_REQUIRE(ram != NULL);
    memset(req, 0, sizeof(req));
    for (i = 0; i < 2; i++) {
        req[i].target = TARGET;
        req[i].tagged = true;
        req[i].cdb_len = 10;
        it_rw10(req[i].cdb, false, 1000 + i * 4096, 2048);
        req[i].dir = OB_PROXY_LSI_IN;
        req[i].data_gpa = TAG_GPA + i * (1u << 20);
        req[i].data_len = 1u << 20;
    }
    IT_REQUIRE(LSI_OK(&f, ob_proxy_lsi_submit(&f.lsi, &req[0])));
    /* the read disconnects; SCRIPTS then wait for the reselection */
    IT_REQUIRE(ob_proxy_lsi_step(&f.lsi, CMD_MS) == 1);
    IT_EQ(req[0].disconnects, 1);
    IT_EQ(f.lsi.chip, OB_PROXY_LSI_CHIP_WAITRESEL);
    IT_REQUIRE(LSI_OK(&f, ob_proxy_lsi_submit(&f.lsi, &req[1])));
    IT_EQ(f.lsi.stats.sigp, 1);
    for (got = 0; got < 2;) {
        int n = ob_proxy_lsi_poll(&f.lsi, CMD_MS, done, 2);

        IT_REQUIRE(LSI_OK(&f, n));
        IT_REQUIRE(n > 0);
        got += (unsigned)n;
    }
    for (i = 0; i < 2; i++) {
        IT_EQ(req[i].outcome, OB_PROXY_LSI_DONE);
        IT_EQ(req[i].status, OB_PROXY_LSI_STATUS_GOOD);
        IT_EQ(req[i].residual, 0);
        IT_ASSERT(file_equals(&f, (uint64_t)(1000 + i * 4096) * BLOCK, ram + i * (1u << 20),
                              1u << 20));
    }
out:
    fx_stop(&f);
}

/* ob_proxy_lsi_reset() with commands outstanding: all fail, the chip and
 * the bus are reset, the disk reports the reset once and works again. */
static void test_reset(void)
{
    static const uint8_t tur[6] = { 0 };
    struct ob_proxy_lsi_req req[8], *done[8];
    struct ob_proxy_lsi_result res;
    struct lsi_fx f;
    unsigned i;
    int n;

    IT_REQUIRE(fx_start(&f) == 0);
    memset(req, 0, sizeof(req));
    for (i = 0; i < 8; i++) {
        req[i].target = TARGET;
        req[i].tagged = true;
        req[i].cdb_len = 10;
        it_rw10(req[i].cdb, false, i * 64, 8);
        req[i].dir = OB_PROXY_LSI_IN;
        req[i].data_gpa = TAG_GPA + i * 4096u;
        req[i].data_len = 4096;
        IT_REQUIRE(LSI_OK(&f, ob_proxy_lsi_submit(&f.lsi, &req[i])));
    }
    IT_REQUIRE(LSI_OK(&f, ob_proxy_lsi_reset(&f.lsi)));
    IT_EQ(ob_proxy_lsi_busy(&f.lsi), 0);
    n = ob_proxy_lsi_poll(&f.lsi, 0, done, 8);
    IT_EQ(n, 8);
    for (i = 0; i < 8; i++) {
        IT_EQ(req[i].outcome, OB_PROXY_LSI_FAILED);
    }
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, tur, 6, OB_PROXY_LSI_NONE, NULL, 0, &res)));
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_CHECK);
    IT_EQ(res.sense_key, 0x06);                /* UNIT ATTENTION */
    IT_EQ(res.asc, 0x29);                      /* power on, reset or bus device reset */
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, tur, 6, OB_PROXY_LSI_NONE, NULL, 0, &res)));
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    IT_ASSERT(read_matches(&f, 64, 8));
out:
    fx_stop(&f);
}

/* outboard only: after a finished command the last block move (MESSAGE IN
 * of COMMAND COMPLETE, one byte into slot 0's control block at +0x61)
 * reports nothing remaining (RBC) and the address past its byte (UA), as
 * the chip does. QEMU's RBC/UA differ and are not compared. */
static void test_move_registers(void)
{
    static const uint8_t tur[6] = { 0 };
    struct ob_proxy_lsi_result res;
    struct lsi_fx f;
    uint64_t rbc = 1, ua = 0, dbc = 0;

    IT_REQUIRE(fx_start(&f) == 0);
    IT_REQUIRE(LSI_OK(&f, exec(&f, TARGET, tur, 6, OB_PROXY_LSI_NONE, NULL, 0, &res)));
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    IT_OK(f.px, ob_proxy_barn_read(f.px, 1, 0xc8, 4, &rbc));
    IT_OK(f.px, ob_proxy_barn_read(f.px, 1, 0xcc, 4, &ua));
    IT_OK(f.px, ob_proxy_barn_read(f.px, 1, 0x24, 4, &dbc));
    IT_EQ(rbc, 0);
    IT_EQ(ua, OB_PROXY_LSI_CCB_GPA + 0x61 + 1);
    IT_EQ(dbc & 0xffffff, 1);                  /* QEMU-compatible: DBC not counted down */
out:
    fx_stop(&f);
}

/* Runs FN with *FLAG set (one of the suite switches above). */
static void run_with(bool *flag, void (*fn)(void))
{
    *flag = true;
    fn();
    *flag = false;
}

/* The initiator in its queued mode. */
#define QUEUED(fn)                                                           \
    static void queued_##fn(void)                                            \
    {                                                                        \
        run_with(&use_queued, fn);                                           \
    }
QUEUED(test_read)
QUEUED(test_write)
QUEUED(test_out_of_range)
QUEUED(test_no_target)
QUEUED(test_tagged_queue)
QUEUED(test_short_and_overrun)
QUEUED(test_reset)

static const struct it_test tests[] = {
    IT_TEST(test_inquiry),
    IT_TEST(test_read_capacity),
    IT_TEST(test_read),
    IT_TEST(test_write),
    IT_TEST(test_out_of_range),
    IT_TEST(test_no_target),
    IT_TEST(test_tagged_queue),
    IT_TEST(test_short_and_overrun),
    IT_TEST(test_sigp_wakeup),
    IT_TEST(test_reset),
    IT_TEST(test_move_registers),
    IT_TEST(queued_test_read),
    IT_TEST(queued_test_write),
    IT_TEST(queued_test_out_of_range),
    IT_TEST(queued_test_no_target),
    IT_TEST(queued_test_tagged_queue),
    IT_TEST(queued_test_short_and_overrun),
    IT_TEST(queued_test_reset),
    IT_END,
};

/* The same tests against QEMU's x-remote. */
#define ON_QEMU(fn)                                                          \
    static void qemu_##fn(void)                                              \
    {                                                                        \
        if (!it_in_path("qemu-system-x86_64")) {                             \
            printf("(skipped: no qemu-system-x86_64) ");                     \
            return;                                                          \
        }                                                                    \
        run_with(&use_qemu, fn);                                             \
    }
ON_QEMU(test_inquiry)
ON_QEMU(test_read_capacity)
ON_QEMU(test_read)
ON_QEMU(test_write)
ON_QEMU(test_out_of_range)
ON_QEMU(test_no_target)
ON_QEMU(test_tagged_queue)
ON_QEMU(test_short_and_overrun)
ON_QEMU(test_sigp_wakeup)
ON_QEMU(test_reset)
ON_QEMU(queued_test_read)
ON_QEMU(queued_test_write)
ON_QEMU(queued_test_out_of_range)
ON_QEMU(queued_test_no_target)
ON_QEMU(queued_test_tagged_queue)
ON_QEMU(queued_test_short_and_overrun)
ON_QEMU(queued_test_reset)

static const struct it_test qemu_tests[] = {
    IT_TEST(qemu_test_inquiry),
    IT_TEST(qemu_test_read_capacity),
    IT_TEST(qemu_test_read),
    IT_TEST(qemu_test_write),
    IT_TEST(qemu_test_out_of_range),
    IT_TEST(qemu_test_no_target),
    IT_TEST(qemu_test_tagged_queue),
    IT_TEST(qemu_test_short_and_overrun),
    IT_TEST(qemu_test_sigp_wakeup),
    IT_TEST(qemu_test_reset),
    IT_TEST(qemu_queued_test_read),
    IT_TEST(qemu_queued_test_write),
    IT_TEST(qemu_queued_test_out_of_range),
    IT_TEST(qemu_queued_test_no_target),
    IT_TEST(qemu_queued_test_tagged_queue),
    IT_TEST(qemu_queued_test_short_and_overrun),
    IT_TEST(qemu_queued_test_reset),
    IT_END,
};

int it_lsi_register(void)
{
    return it_add_suite("lsi", tests);
}

int it_lsi_qemu_register(void)
{
    return it_add_suite("lsi-qemu", qemu_tests);
}
