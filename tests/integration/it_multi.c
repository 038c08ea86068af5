/*
 * it_multi.c - one outboard process serving two LSI53C895A controllers,
 * each on its own x-remote-object connection and each with two scsi-hd
 * disks: every disk answers on its own controller and target only, reads
 * return its own image, a write lands in its own image file and nowhere
 * else, and commands on the two connections interleave.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outboard/proxy_lsi.h"

#include "it.h"

#define NCTRL       2u
#define NDISK       2u                  /* per controller: targets 0 and 1 */
#define IMG_SIZE    (1u << 20)
#define BLOCK       512u
#define RAM_SIZE    (16u << 20)
#define CMD_MS      10000

struct multi_fx {
    struct it_remote r;
    struct ob_proxy_lsi lsi[NCTRL];
    char img[NCTRL][NDISK][64];
    int imgfd[NCTRL][NDISK];
};

/* The byte every sector of disk (C, T) holds at first. */
static uint8_t disk_byte(unsigned c, unsigned t)
{
    return (uint8_t)(0xa0 + 0x10 * c + t);
}

static int make_images(struct multi_fx *f)
{
    static uint8_t buf[IMG_SIZE];
    unsigned c, t;

    for (c = 0; c < NCTRL; c++) {
        for (t = 0; t < NDISK; t++) {
            snprintf(f->img[c][t], sizeof(f->img[c][t]), "/tmp/ob-it-multi-XXXXXX");
            f->imgfd[c][t] = mkstemp(f->img[c][t]);
            if (f->imgfd[c][t] < 0) {
                perror("it_multi: mkstemp");
                return -1;
            }
            memset(buf, disk_byte(c, t), sizeof(buf));
            if (pwrite(f->imgfd[c][t], buf, sizeof(buf), 0) != (ssize_t)sizeof(buf)) {
                perror("it_multi: pwrite");
                return -1;
            }
        }
    }
    return 0;
}

static void fx_init(struct multi_fx *f)
{
    unsigned i, c, t;

    memset(f, 0, sizeof(*f));
    f->r.proc.pid = -1;
    f->r.errfd = -1;
    f->r.status = -1;
    for (i = 0; i < IT_MAX_CHANS; i++) {
        ob_proxy_init(&f->r.px[i]);
    }
    for (c = 0; c < NCTRL; c++) {
        for (t = 0; t < NDISK; t++) {
            f->imgfd[c][t] = -1;
        }
    }
}

/* TEST UNIT READY until GOOD: consumes the power-on unit attention. */
static int ready(struct ob_proxy_lsi *lsi, unsigned target)
{
    static const uint8_t tur[6] = { 0x00 };
    struct ob_proxy_lsi_result res;
    int i;

    for (i = 0; i < 3; i++) {
        if (ob_proxy_lsi_exec(lsi, target, 0, tur, sizeof(tur), OB_PROXY_LSI_NONE, NULL, 0,
                              &res) < 0) {
            fprintf(stderr, "it_multi: TEST UNIT READY: %s\n", lsi->err);
            return -1;
        }
        if (res.outcome == OB_PROXY_LSI_DONE && res.status == OB_PROXY_LSI_STATUS_GOOD) {
            return 0;
        }
    }
    fprintf(stderr, "it_multi: target %u never ready\n", target);
    return -1;
}

static int fx_start(struct multi_fx *f)
{
    char drives[NCTRL][NDISK][128], disks[NCTRL][NDISK][96];
    char *argv[32];
    unsigned n = 0, c, t;

    fx_init(f);
    if (make_images(f) < 0) {
        return -1;
    }
    argv[n++] = (char *)it_outboard();
    argv[n++] = "-machine";
    argv[n++] = "x-remote";
    for (c = 0; c < NCTRL; c++) {
        argv[n++] = "-device";
        argv[n++] = c == 0 ? "lsi53c895a,id=lsi0" : "lsi53c895a,id=lsi1";
        for (t = 0; t < NDISK; t++) {
            snprintf(drives[c][t], sizeof(drives[c][t]), "id=d%u%u,file=%s,format=raw,if=none",
                     c, t, f->img[c][t]);
            snprintf(disks[c][t], sizeof(disks[c][t]),
                     "scsi-hd,id=sd%u%u,drive=d%u%u,bus=lsi%u.0,scsi-id=%u", c, t, c, t, c, t);
            argv[n++] = "-drive";
            argv[n++] = drives[c][t];
            argv[n++] = "-device";
            argv[n++] = disks[c][t];
        }
    }
    argv[n++] = "-object";
    argv[n++] = "x-remote-object,id=robj0,devid=lsi0,fd={fd0}";
    argv[n++] = "-object";
    argv[n++] = "x-remote-object,id=robj1,devid=lsi1,fd={fd1}";
    argv[n] = NULL;
    if (it_spawn(&f->r, argv, NCTRL) < 0) {
        return -1;
    }
    for (c = 0; c < NCTRL; c++) {
        struct ob_proxy *px = &f->r.px[c];

        if (ob_proxy_bringup(px, RAM_SIZE, OB_PROXY_CMD_IO | OB_PROXY_CMD_MEM |
                                           OB_PROXY_CMD_MASTER) < 0) {
            fprintf(stderr, "it_multi: bring-up of lsi%u: %s\n", c, px->err);
            return -1;
        }
        ob_proxy_set_timeout(px, CMD_MS);
        if (ob_proxy_lsi_init(&f->lsi[c], px) < 0) {
            fprintf(stderr, "it_multi: lsi%u: %s\n", c, f->lsi[c].err);
            return -1;
        }
        for (t = 0; t < NDISK; t++) {
            if (ready(&f->lsi[c], t) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static void fx_stop(struct multi_fx *f)
{
    unsigned c, t;

    IT_EQ(it_stop(&f->r), 0);
    for (c = 0; c < NCTRL; c++) {
        for (t = 0; t < NDISK; t++) {
            if (f->imgfd[c][t] >= 0) {
                close(f->imgfd[c][t]);
                unlink(f->img[c][t]);
            }
        }
    }
}

/* Bytes of BUF[0..LEN) that differ from V. */
static unsigned count_not(const uint8_t *buf, size_t len, uint8_t v)
{
    unsigned bad = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        bad += buf[i] != v;
    }
    return bad;
}

/* Each controller's targets 0 and 1 read back their own image; target 2
 * is absent on both. Reads alternate between the two connections. */
static void test_two_controllers_read_own_disks(void)
{
    struct multi_fx f;
    struct ob_proxy_lsi_result res;
    uint8_t cdb[10], buf[8 * BLOCK];
    unsigned c, t, lba;

    IT_REQUIRE(fx_start(&f) == 0);
    for (lba = 0; lba < IMG_SIZE / BLOCK; lba += 509) {
        for (t = 0; t < NDISK; t++) {
            for (c = 0; c < NCTRL; c++) {
                memset(buf, 0, sizeof(buf));
                it_rw10(cdb, false, lba, 1);
                IT_REQUIRE(ob_proxy_lsi_exec(&f.lsi[c], t, 0, cdb, 10, OB_PROXY_LSI_IN, buf,
                                             BLOCK, &res) == 0);
                IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
                IT_EQ(count_not(buf, BLOCK, disk_byte(c, t)), 0);
            }
        }
    }
    for (c = 0; c < NCTRL; c++) {
        static const uint8_t tur[6] = { 0x00 };

        IT_REQUIRE(ob_proxy_lsi_exec(&f.lsi[c], 2, 0, tur, sizeof(tur), OB_PROXY_LSI_NONE,
                                     NULL, 0, &res) == 0);
        IT_EQ(res.outcome, OB_PROXY_LSI_SEL_TIMEOUT);
    }
out:
    fx_stop(&f);
}

/* A write through controller 1, target 1 lands in that image only. */
static void test_write_lands_in_its_own_image(void)
{
    struct multi_fx f;
    struct ob_proxy_lsi_result res;
    uint8_t cdb[10], data[4 * BLOCK], file[4 * BLOCK];
    unsigned c, t;

    IT_REQUIRE(fx_start(&f) == 0);
    memset(data, 0x5c, sizeof(data));
    it_rw10(cdb, true, 100, 4);
    IT_REQUIRE(ob_proxy_lsi_exec(&f.lsi[1], 1, 0, cdb, 10, OB_PROXY_LSI_OUT, data,
                                 sizeof(data), &res) == 0);
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    /* SYNCHRONIZE CACHE(10): the data is in the file before GOOD */
    memset(cdb, 0, sizeof(cdb));
    cdb[0] = 0x35;
    IT_REQUIRE(ob_proxy_lsi_exec(&f.lsi[1], 1, 0, cdb, 10, OB_PROXY_LSI_NONE, NULL, 0,
                                 &res) == 0);
    IT_EQ(res.status, OB_PROXY_LSI_STATUS_GOOD);
    for (c = 0; c < NCTRL; c++) {
        for (t = 0; t < NDISK; t++) {
            bool written = c == 1 && t == 1;

            IT_REQUIRE(pread(f.imgfd[c][t], file, sizeof(file), 100 * BLOCK) ==
                       (ssize_t)sizeof(file));
            IT_EQ(count_not(file, sizeof(file), written ? 0x5c : disk_byte(c, t)), 0);
        }
    }
out:
    fx_stop(&f);
}

static const struct it_test multi_tests[] = {
    IT_TEST(test_two_controllers_read_own_disks),
    IT_TEST(test_write_lands_in_its_own_image),
    IT_END,
};

int it_multi_register(void)
{
    return it_add_suite("multi", multi_tests);
}
