/*
 * test_scsi.c - the SCSI command set of scsi-hd (hw/scsi/scsi-hd.c,
 * scsi-hd-pages.c) and the bus-level answers of hw/scsi/scsi-bus.c, seen
 * from a fake host bus adapter: the test implements struct
 * ob_scsi_bus_ops (data moved between the request and a test buffer,
 * completion recorded), puts a scsi-hd on a temporary raw image with a
 * known pattern, and runs the loop until each command completes. The
 * expected bytes are QEMU 7.2's (lsi53c895a.md §6); disk data is checked
 * against the image file with pread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "outboard/block.h"
#include "outboard/ctx.h"
#include "outboard/device.h"
#include "outboard/opts.h"
#include "outboard/scsi.h"
#include "../../hw/scsi/scsi-hd.h"
#include "ut.h"

#define IMG_SIZE    (4u * 1024u * 1024u)     /* 8192 blocks of 512 */
#define IMG_BLOCKS  (IMG_SIZE / 512u)
#define BIG_LEN     (1024u * 1024u)          /* more than one SCSI_HD_CHUNK */

/* What the fake HBA records about one command. */
struct st_io {
    uint8_t *buf;           /* data-in lands here, data-out comes from here */
    size_t cap;
    size_t pos;             /* bytes moved so far */
    unsigned chunks;        /* transfer_data calls */
    bool overflow;          /* the device moved more than CAP */
    bool done, cancelled;
    int32_t enq;            /* what ob_scsi_req_enqueue() returned */
    uint8_t status;
    uint32_t residual;
    uint8_t sense[OB_SCSI_SENSE_LEN];
    unsigned sense_len;
};

static struct {
    struct ob_ctx ctx;
    bool ctx_ok;
    struct ob_device hba;        /* the fake controller: owns bus "hba.0" */
    struct ob_scsi_bus bus;
    bool bus_ok;
    bool defer;                  /* continue from the loop, not from the callback */
    uint32_t tag;
    char dir[64];
    char path[128];              /* image of drive d0 */
    char path2[128];             /* image of drive d1 */
    struct scsi_hd *hd;          /* the disk at target 0, LUN 0 */
    void *bufs[4];               /* test buffers, freed by the teardown */
    unsigned deferred;           /* continues scheduled on the loop, not yet run */
    struct st_io orphan;         /* takes the callbacks of requests whose test
                                  * ended (fatal assertion) before them */
} st;

/* A buffer that lives until the teardown (also after a fatal assertion). */
static void *st_alloc(size_t len)
{
    size_t i;

    for (i = 0; i < sizeof(st.bufs) / sizeof(st.bufs[0]); i++) {
        if (!st.bufs[i]) {
            st.bufs[i] = malloc(len);
            return st.bufs[i];
        }
    }
    return NULL;
}

/* ---- the fake HBA ------------------------------------------------------- */

/* A deferred continue holds a reference: the request may be cancelled
 * (and the HBA's reference dropped) before it runs. */
static void st_continue_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ob_scsi_req *r = arg;

    (void)fd;
    (void)what;
    st.deferred--;
    if (!r->io_canceled) {
        ob_scsi_req_continue(r);
    }
    ob_scsi_req_unref(r);
}

static void st_transfer_data(struct ob_scsi_req *r, uint32_t len)
{
    struct st_io *io = r->hba_private;
    uint8_t *b = ob_scsi_req_buf(r);
    size_t n = len;

    if (io->pos + n > io->cap) {
        io->overflow = true;
        n = io->cap > io->pos ? io->cap - io->pos : 0;
    }
    if (r->mode == OB_SCSI_XFER_TO_DEV) {
        memcpy(b, io->buf + io->pos, n);
        memset(b + n, 0, len - n);
    } else {
        memcpy(io->buf + io->pos, b, n);
    }
    io->pos += len;
    io->chunks++;
    if (st.defer) {
        struct timeval zero = { 0, 0 };

        CU_ASSERT_FATAL(event_base_once(st.ctx.base, -1, EV_TIMEOUT, st_continue_cb,
                                        ob_scsi_req_ref(r), &zero) == 0);
        st.deferred++;
        return;
    }
    ob_scsi_req_continue(r);
}

static void st_complete(struct ob_scsi_req *r, uint32_t residual)
{
    struct st_io *io = r->hba_private;

    CU_ASSERT(!io->done);
    io->done = true;
    io->status = r->status;
    io->residual = residual;
    io->sense_len = r->sense_len < sizeof(io->sense) ? r->sense_len : sizeof(io->sense);
    memcpy(io->sense, r->sense, io->sense_len);
    r->hba_private = NULL;
    ob_scsi_req_unref(r);
}

static void st_cancelled(struct ob_scsi_req *r)
{
    struct st_io *io = r->hba_private;

    if (io) {
        io->cancelled = true;
        r->hba_private = NULL;
        ob_scsi_req_unref(r);
    }
}

static const struct ob_scsi_bus_ops st_bus_ops = {
    .transfer_data = st_transfer_data,
    .complete = st_complete,
    .cancelled = st_cancelled,
};

/* Runs the loop until *COUNTER reaches WANT (5 s at most). */
static bool st_run_until(const unsigned *counter, unsigned want)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (*counter < want) {
        event_base_loop(st.ctx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 5) {
            return false;
        }
    }
    return true;
}

/* Runs the loop until IO completed (5 s at most). */
static bool st_wait(const struct st_io *io)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!io->done && !io->cancelled) {
        event_base_loop(st.ctx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 5) {
            return false;
        }
    }
    return true;
}

/* Sends CDB to (TARGET, LUN) with data buffer BUF of CAP bytes and waits. */
static void st_exec_at(struct st_io *io, unsigned target, unsigned lun,
                       const uint8_t *cdb, unsigned cdb_len, void *buf, size_t cap)
{
    struct ob_scsi_req *r;

    memset(io, 0, sizeof(*io));
    io->buf = buf;
    io->cap = cap;
    r = ob_scsi_req_new(&st.bus, target, lun, st.tag++, cdb, cdb_len, io);
    CU_ASSERT_FATAL(r != NULL);
    io->enq = ob_scsi_req_enqueue(r);
    if (io->enq != 0 && !io->done) {
        ob_scsi_req_continue(r);
    }
    CU_ASSERT_FATAL(st_wait(io));
    CU_ASSERT(!io->overflow);
}

static void st_exec(struct st_io *io, const uint8_t *cdb, unsigned cdb_len, void *buf,
                    size_t cap)
{
    st_exec_at(io, 0, 0, cdb, cdb_len, buf, cap);
}

#define EXEC(io, buf, cap, ...)                                            \
    do {                                                                   \
        static const uint8_t cdb_[] = { __VA_ARGS__ };                     \
        st_exec((io), cdb_, sizeof(cdb_), (buf), (cap));                   \
    } while (0)

#define EXEC_AT(io, t, l, buf, cap, ...)                                   \
    do {                                                                   \
        static const uint8_t cdb_[] = { __VA_ARGS__ };                     \
        st_exec_at((io), (t), (l), cdb_, sizeof(cdb_), (buf), (cap));      \
    } while (0)

/* ---- assertions ------------------------------------------------------- */

static void good_at(const struct st_io *io, size_t moved, unsigned line)
{
    ut_check_u64(io->done, 1, "command completed", line, __FILE__, true);
    ut_check_u64(io->status, OB_SCSI_GOOD, "status == GOOD", line, __FILE__, false);
    ut_check_u64(io->sense_len, 0, "no sense", line, __FILE__, false);
    ut_check_u64(io->pos, moved, "bytes moved", line, __FILE__, false);
}

static void sense_at(const struct st_io *io, uint8_t key, uint8_t asc, uint8_t ascq,
                     unsigned line)
{
    ut_check_u64(io->done, 1, "command completed", line, __FILE__, true);
    ut_check_u64(io->status, OB_SCSI_CHECK_CONDITION, "status == CHECK CONDITION",
                 line, __FILE__, false);
    ut_check_u64(io->sense_len, OB_SCSI_SENSE_LEN, "sense length", line, __FILE__, true);
    ut_check_u64(io->sense[0], 0x70, "fixed format, current", line, __FILE__, false);
    ut_check_u64(io->sense[7], 10, "additional sense length", line, __FILE__, false);
    ut_check_u64(io->sense[2] & 0x0f, key, "sense key", line, __FILE__, false);
    ut_check_u64(io->sense[12], asc, "ASC", line, __FILE__, false);
    ut_check_u64(io->sense[13], ascq, "ASCQ", line, __FILE__, false);
    ut_check_u64(io->pos, 0, "no data moved", line, __FILE__, false);
}

/* GOOD with exactly MOVED bytes of data (the residual is checked apart). */
#define EXPECT_GOOD(io, moved) good_at((io), (moved), __LINE__)
/* CHECK CONDITION with fixed sense KEY/ASC/ASCQ and no data. */
#define EXPECT_SENSE(io, k, a, q) sense_at((io), (k), (a), (q), __LINE__)

/* ---- images, drives, disks --------------------------------------------- */

/* Byte OFF of an image made with SEED (never an MBR signature at 510). */
static uint8_t pat(uint64_t off, unsigned seed)
{
    return (uint8_t)((off >> 9) * 13 + (off & 511) * 7 + seed);
}

/* A sparse file of SIZE bytes (ftruncate), then filled with the pattern. */
static int make_image(const char *path, uint64_t size, unsigned seed)
{
    uint8_t *b = malloc(65536);
    uint64_t off;
    size_t i;
    int fd, rc = 0;

    if (!b) {
        return -1;
    }
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
        rc = -1;
    }
    for (off = 0; rc == 0 && off < size; off += 65536) {
        size_t n = size - off < 65536 ? (size_t)(size - off) : 65536;

        for (i = 0; i < n; i++) {
            b[i] = pat(off + i, seed);
        }
        if (pwrite(fd, b, n, (off_t)off) != (ssize_t)n) {
            rc = -1;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    free(b);
    return rc;
}

static int file_read(const char *path, uint64_t off, void *buf, size_t len)
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

/* Checks that the image at PATH holds BUF at OFF. */
static void check_image(const char *path, uint64_t off, const uint8_t *buf, size_t len)
{
    uint8_t *got = malloc(len);

    CU_ASSERT_FATAL(got != NULL);
    UT_EQ(file_read(path, off, got, len), 0);
    UT_BYTES(got, buf, len);
    free(got);
}

/* Checks that BUF holds the original pattern of SEED from OFF. */
static void check_pattern(const uint8_t *buf, uint64_t off, size_t len, unsigned seed)
{
    size_t i;

    for (i = 0; i < len && buf[i] == pat(off + i, seed); i++) {
    }
    UT_EQ(i, len);
}

static int drive_new(const char *spec)
{
    struct ob_opts o;
    char err[512];
    int rc;

    if (ob_opts_parse(&o, "-drive", spec, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "\n  -drive %s: %s\n", spec, err);
        return -1;
    }
    rc = ob_drive_create(&st.ctx, &o, err, sizeof(err));
    ob_opts_free(&o);
    if (rc < 0) {
        fprintf(stderr, "\n  -drive %s: %s\n", spec, err);
    }
    return rc;
}

/* Drive ID on PATH (with DRIVE_OPTS) and a scsi-hd on it (with DEV_OPTS). */
static struct scsi_hd *disk_new(const char *id, const char *path, const char *drive_opts,
                                const char *dev_opts)
{
    char spec[512], err[512];
    struct ob_device *dev = NULL;

    CU_ASSERT_FATAL(st.bus_ok);
    snprintf(spec, sizeof(spec), "id=%s,file=%s,format=raw,if=none%s", id, path,
             drive_opts);
    if (drive_new(spec) < 0) {
        return NULL;
    }
    snprintf(spec, sizeof(spec), "scsi-hd,drive=%s,bus=hba.0%s", id, dev_opts);
    if (ut_device_create(&st.ctx, spec, &dev, err, sizeof(err)) < 0) {
        fprintf(stderr, "\n  -device %s: %s\n", spec, err);
        return NULL;
    }
    return (struct scsi_hd *)dev;
}

/* The default disk at target 0, LUN 0 on d0, with extra options. */
static struct scsi_hd *st_disk(const char *drive_opts, const char *dev_opts)
{
    char opts[256];

    snprintf(opts, sizeof(opts), ",id=hd0,scsi-id=0,lun=0%s", dev_opts);
    st.hd = disk_new("d0", st.path, drive_opts, opts);
    CU_ASSERT_FATAL(st.hd != NULL);
    return st.hd;
}

/* Takes the power-on unit attention every new disk reports first. */
static void clear_ua(unsigned target, unsigned lun)
{
    struct st_io io;

    EXEC_AT(&io, target, lun, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_SENSE(&io, 0x06, 0x29, 0x00);
}

/* The default disk, past its power-on unit attention. */
static struct scsi_hd *st_ready_disk(const char *drive_opts, const char *dev_opts)
{
    struct scsi_hd *s = st_disk(drive_opts, dev_opts);

    clear_ua(0, 0);
    return s;
}

/* ---- fixture ------------------------------------------------------------ */

static void rm_rf(const char *dir)
{
    char cmd[128];

    if (dir[0] && strncmp(dir, "/tmp/ob-scsi-", 13) == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "test_scsi: could not remove %s\n", dir);
        }
    }
}

static void st_setup(void)
{
    char err[256];

    memset(&st, 0, sizeof(st));
    st.tag = 0x100;
    st.ctx_ok = ut_ctx_open(&st.ctx) == 0;
    snprintf(st.dir, sizeof(st.dir), "/tmp/ob-scsi-XXXXXX");
    if (!mkdtemp(st.dir)) {
        st.dir[0] = '\0';
    }
    snprintf(st.path, sizeof(st.path), "%s/disk0.raw", st.dir);
    snprintf(st.path2, sizeof(st.path2), "%s/disk1.raw", st.dir);
    if (!st.ctx_ok || !st.dir[0] || make_image(st.path, IMG_SIZE, 1) < 0) {
        return;
    }
    st.hba.ctx = &st.ctx;
    st.hba.id = "hba";
    st.bus_ok = ob_scsi_bus_init(&st.bus, &st.hba, &st_bus_ops, 7, 7, err,
                                 sizeof(err)) == 0;
}

static void st_teardown(void)
{
    struct ob_scsi_req *r;
    unsigned n;
    size_t i;

    if (st.bus_ok) {
        /* Requests a failed test left behind point at its dead stack. */
        for (r = st.bus.reqs; r; r = r->next_q) {
            if (r->hba_private) {
                r->hba_private = &st.orphan;
            }
        }
        ob_scsi_bus_fini(&st.bus);
        /* Scheduled continues hold references: let them run (they do
         * nothing on a cancelled request). */
        for (n = 0; st.deferred > 0 && n < 1000; n++) {
            event_base_loop(st.ctx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        }
    }
    if (st.ctx_ok) {
        ob_ctx_fini(&st.ctx);
    }
    rm_rf(st.dir);
    for (i = 0; i < sizeof(st.bufs) / sizeof(st.bufs[0]); i++) {
        free(st.bufs[i]);
    }
}

/* ---- CDB builders ------------------------------------------------------- */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* A READ/WRITE (or VERIFY, WRITE SAME) CDB of OP's group for LBA and
 * BLOCKS; returns its length. */
static unsigned rw_cdb(uint8_t *c, uint8_t op, uint64_t lba, uint32_t blocks)
{
    memset(c, 0, OB_SCSI_MAX_CDB);
    c[0] = op;
    switch (op >> 5) {
    case 0:
        c[1] = (uint8_t)((lba >> 16) & 0x1f);
        put16(c + 2, (uint32_t)lba);
        c[4] = (uint8_t)blocks;         /* 0 means 256 */
        return 6;
    case 1:
    case 2:
        put32(c + 2, (uint32_t)lba);
        put16(c + 7, blocks);
        return 10;
    case 5:
        put32(c + 2, (uint32_t)lba);
        put32(c + 6, blocks);
        return 12;
    default:
        put64(c + 2, lba);
        put32(c + 10, blocks);
        return 16;
    }
}

static void rw(struct st_io *io, uint8_t op, uint64_t lba, uint32_t blocks, void *buf,
               size_t cap)
{
    uint8_t c[OB_SCSI_MAX_CDB];
    unsigned len = rw_cdb(c, op, lba, blocks);

    st_exec(io, c, len, buf, cap);
}

static bool all_zero(const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i < len && p[i] == 0; i++) {
    }
    return i == len;
}

/* ---- INQUIRY ------------------------------------------------------------ */

static void test_inquiry_standard(void)
{
    static const uint8_t want[36] = {
        0x00, 0x00, 0x05, 0x12, 31, 0x00, 0x00, 0x12,
        'Q', 'E', 'M', 'U', ' ', ' ', ' ', ' ',
        'Q', 'E', 'M', 'U', ' ', 'H', 'A', 'R', 'D', 'D', 'I', 'S', 'K', ' ', ' ', ' ',
        '2', '.', '5', '+',
    };
    uint8_t b[256];
    struct st_io io;
    size_t i;

    st_disk("", "");
    /* INQUIRY is answered while the power-on unit attention is pending */
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x12, 0, 0, 0, 36, 0);
    UT_EQ(io.enq, 36);
    EXPECT_GOOD(&io, 36);
    UT_EQ(io.residual, 0);
    UT_BYTES(b, want, sizeof(want));
    UT_EQ(b[36], 0xee);
    /* more than 36 bytes: the additional length follows, zero padded */
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x12, 0, 0, 0, 96, 0);
    EXPECT_GOOD(&io, 96);
    UT_EQ(b[4], 91);
    UT_BYTES(b + 5, want + 5, sizeof(want) - 5);
    for (i = 36; i < 96 && b[i] == 0; i++) {
    }
    UT_EQ(i, 96);
    /* a short allocation length truncates */
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x12, 0, 0, 0, 5, 0);
    EXPECT_GOOD(&io, 5);
    UT_BYTES(b, want, 4);
    UT_EQ(b[5], 0xee);
    /* allocation length 0: GOOD without data */
    EXEC(&io, b, sizeof(b), 0x12, 0, 0, 0, 0, 0);
    UT_EQ(io.enq, 0);
    EXPECT_GOOD(&io, 0);
    /* the unit attention is still there for the first other command */
    clear_ua(0, 0);
}

static void test_inquiry_long_allocation(void)
{
    uint8_t b[300];
    struct st_io io;

    /* at most 256 bytes are built; the rest of the allocation length is
     * zero padding, and the additional length stops at 256 - 5 */
    st_disk("", "");
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x12, 0, 0, 0x01, 0x2c, 0);
    EXPECT_GOOD(&io, 300);
    UT_EQ(io.residual, 0);
    UT_EQ(b[4], 251);
    UT_EQ(b[8], 'Q');
    CU_ASSERT(all_zero(b + 36, sizeof(b) - 36));
}

static void test_inquiry_properties(void)
{
    static const uint8_t want[36] = {
        0x00, 0x80, 0x05, 0x12, 31, 0x00, 0x00, 0x12,
        'A', 'C', 'M', 'E', ' ', ' ', ' ', ' ',
        'W', 'i', 'd', 'g', 'e', 't', 'D', 'i', 's', 'k', '-', '9', '0', '0', '0', '-',
        '1', '.', '2', '3',
    };
    uint8_t b[36];
    struct st_io io;

    /* a product longer than 16 characters and a revision longer than 4
     * are cut; removable sets RMB */
    st_disk("", ",vendor=ACME,product=WidgetDisk-9000-XL,ver=1.234,removable=on");
    EXEC(&io, b, sizeof(b), 0x12, 0, 0, 0, 36, 0);
    EXPECT_GOOD(&io, 36);
    UT_BYTES(b, want, sizeof(want));
}

static void test_inquiry_no_tcq(void)
{
    uint8_t b[36];
    struct st_io io;

    st.bus.tcq = false;
    st_disk("", "");
    EXEC(&io, b, sizeof(b), 0x12, 0, 0, 0, 36, 0);
    EXPECT_GOOD(&io, 36);
    UT_EQ(b[7], 0x10);
}

static void test_inquiry_page_without_evpd(void)
{
    struct st_io io;
    uint8_t b[64];

    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x12, 0, 0x80, 0, 64, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
}

static void test_vpd_supported_pages(void)
{
    static const uint8_t want[] = { 0x00, 0x00, 0x00, 5, 0x00, 0x83, 0xb0, 0xb1, 0xb2 };
    static const uint8_t want_sn[] = {
        0x00, 0x00, 0x00, 6, 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2,
    };
    uint8_t b[255];
    struct st_io io;
    size_t i;

    st_ready_disk("", "");
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x12, 1, 0x00, 0, 255, 0);
    /* the whole allocation length goes out, zero padded (QEMU) */
    EXPECT_GOOD(&io, 255);
    UT_BYTES(b, want, sizeof(want));
    for (i = sizeof(want); i < 255 && b[i] == 0; i++) {
    }
    UT_EQ(i, 255);
    /* with a serial number, page 0x80 is listed */
    CU_ASSERT_FATAL(disk_new("d1", st.path, ",readonly=on",
                             ",scsi-id=1,lun=0,serial=SN-0042") != NULL);
    clear_ua(1, 0);
    EXEC_AT(&io, 1, 0, b, sizeof(b), 0x12, 1, 0x00, 0, 16, 0);
    EXPECT_GOOD(&io, 16);
    UT_BYTES(b, want_sn, sizeof(want_sn));
}

static void test_vpd_serial(void)
{
    static const uint8_t want[] = {
        0x00, 0x80, 0x00, 7, 'S', 'N', '-', '0', '0', '4', '2',
    };
    uint8_t b[64];
    struct st_io io;

    st_ready_disk("", ",serial=SN-0042");
    EXEC(&io, b, sizeof(b), 0x12, 1, 0x80, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    UT_BYTES(b, want, sizeof(want));
    UT_EQ(b[sizeof(want)], 0);
}

static void test_vpd_serial_absent(void)
{
    uint8_t b[64];
    struct st_io io;

    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x12, 1, 0x80, 0, 64, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
}

static void test_vpd_device_id(void)
{
    /* no serial, no device_id: the drive's id */
    static const uint8_t want_drive[] = {
        0x00, 0x83, 0x00, 6, 0x02, 0x00, 0x00, 2, 'd', '0',
    };
    /* a serial: the serial; and a wwn: an NAA designator after it */
    static const uint8_t want_sn_wwn[] = {
        0x00, 0x83, 0x00, 21,
        0x02, 0x00, 0x00, 5, 'S', 'N', '-', '7', '7',
        0x01, 0x03, 0x00, 8, 0x50, 0x00, 0xc5, 0x00, 0x15, 0xea, 0x71, 0xac,
    };
    /* device_id= wins over the serial */
    static const uint8_t want_devid[] = {
        0x00, 0x83, 0x00, 10, 0x02, 0x00, 0x00, 6, 'm', 'y', '-', 'd', 'e', 'v',
    };
    uint8_t b[96];
    struct st_io io;

    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x12, 1, 0x83, 0, 96, 0);
    EXPECT_GOOD(&io, 96);
    UT_BYTES(b, want_drive, sizeof(want_drive));
    UT_EQ(b[sizeof(want_drive)], 0);

    CU_ASSERT_FATAL(make_image(st.path2, IMG_SIZE, 2) == 0);
    CU_ASSERT_FATAL(disk_new("d1", st.path2, "",
                             ",scsi-id=1,lun=0,serial=SN-77,wwn=0x5000c50015ea71ac") != NULL);
    clear_ua(1, 0);
    EXEC_AT(&io, 1, 0, b, sizeof(b), 0x12, 1, 0x83, 0, 96, 0);
    EXPECT_GOOD(&io, 96);
    UT_BYTES(b, want_sn_wwn, sizeof(want_sn_wwn));
    UT_EQ(b[sizeof(want_sn_wwn)], 0);

    CU_ASSERT_FATAL(disk_new("d2", st.path2, ",readonly=on",
                             ",scsi-id=2,lun=0,serial=SN-77,device_id=my-dev") != NULL);
    clear_ua(2, 0);
    EXEC_AT(&io, 2, 0, b, sizeof(b), 0x12, 1, 0x83, 0, 96, 0);
    EXPECT_GOOD(&io, 96);
    UT_BYTES(b, want_devid, sizeof(want_devid));
}

static void test_vpd_block_limits(void)
{
    uint8_t want[64], b[64];
    struct st_io io;

    memset(want, 0, sizeof(want));
    want[1] = 0xb0;
    want[3] = 0x3c;
    want[4] = 1;                                /* WSNZ */
    put32(want + 8, 2147483647u / 512);         /* max transfer length */
    put32(want + 20, (1u << 30) / 512);         /* max unmap LBA count */
    put32(want + 24, 255);                      /* max unmap descriptors */
    put32(want + 28, 4096 / 512);               /* optimal unmap granularity */
    put32(want + 40, 2147483647u / 512);        /* max write same length */
    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x12, 1, 0xb0, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    UT_BYTES(b, want, sizeof(want));
}

static void test_vpd_block_characteristics(void)
{
    uint8_t want[64], b[64];
    struct st_io io;

    memset(want, 0, sizeof(want));
    want[1] = 0xb1;
    want[3] = 0x3c;
    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x12, 1, 0xb1, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    UT_BYTES(b, want, sizeof(want));
    /* rotation_rate=1: a solid state device */
    CU_ASSERT_FATAL(disk_new("d1", st.path, ",readonly=on",
                             ",scsi-id=1,lun=0,rotation_rate=1") != NULL);
    clear_ua(1, 0);
    EXEC_AT(&io, 1, 0, b, sizeof(b), 0x12, 1, 0xb1, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    want[5] = 1;
    UT_BYTES(b, want, sizeof(want));
}

static void test_vpd_provisioning(void)
{
    static const uint8_t want[8] = { 0x00, 0xb2, 0x00, 4, 0x00, 0xe0, 0x02, 0x00 };
    uint8_t b[8];
    struct st_io io;

    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x12, 1, 0xb2, 0, 8, 0);
    EXPECT_GOOD(&io, 8);
    UT_BYTES(b, want, sizeof(want));
}

static void test_vpd_invalid_page(void)
{
    static const uint8_t pages[] = { 0x01, 0x81, 0x86, 0x89, 0xb3, 0xc0, 0xff };
    uint8_t b[64];
    struct st_io io;
    size_t i;

    st_ready_disk("", ",serial=S1");
    for (i = 0; i < sizeof(pages); i++) {
        uint8_t c[6] = { 0x12, 1, pages[i], 0, 64, 0 };

        st_exec(&io, c, sizeof(c), b, sizeof(b));
        EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    }
}

static void test_inquiry_scsi_version(void)
{
    uint8_t b[512], c[OB_SCSI_MAX_CDB];
    struct st_io io;
    unsigned len;

    /* scsi_version=2: the version byte, and no RDPROTECT field in the CDB */
    st_ready_disk("", ",scsi_version=2");
    EXEC(&io, b, sizeof(b), 0x12, 0, 0, 0, 36, 0);
    EXPECT_GOOD(&io, 36);
    UT_EQ(b[2], 2);
    UT_EQ(b[3], 0x12);
    len = rw_cdb(c, 0x28, 0, 1);
    c[1] = 0x20;
    st_exec(&io, c, len, b, sizeof(b));
    EXPECT_GOOD(&io, 512);
    check_pattern(b, 0, 512, 1);
    /* scsi_version=6 (SPC-4): reported, and RDPROTECT still refused */
    CU_ASSERT_FATAL(disk_new("d1", st.path, ",readonly=on",
                             ",scsi-id=1,lun=0,scsi_version=6") != NULL);
    clear_ua(1, 0);
    EXEC_AT(&io, 1, 0, b, sizeof(b), 0x12, 0, 0, 0, 36, 0);
    EXPECT_GOOD(&io, 36);
    UT_EQ(b[2], 6);
    len = rw_cdb(c, 0x28, 0, 1);
    c[1] = 0x20;
    st_exec_at(&io, 1, 0, c, len, b, sizeof(b));
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
}

static void test_vpd_block_limits_properties(void)
{
    uint8_t want[64], b[64];
    struct st_io io;

    memset(want, 0, sizeof(want));
    want[1] = 0xb0;
    want[3] = 0x3c;
    want[4] = 1;                                /* WSNZ */
    want[6] = 0;
    want[7] = 4096 / 512;                       /* optimal transfer granularity */
    put32(want + 8, (1u << 20) / 512);          /* max transfer length */
    put32(want + 12, (64u << 10) / 512);        /* optimal transfer length */
    put32(want + 20, (512u << 10) / 512);       /* max unmap LBA count */
    put32(want + 24, 255);
    put32(want + 28, (64u << 10) / 512);        /* optimal unmap granularity */
    put32(want + 40, (1u << 20) / 512);         /* max write same length */
    st_ready_disk("", ",min_io_size=4k,opt_io_size=64k,max_io_size=1048576,"
                  "max_unmap_size=524288,discard_granularity=64K");
    EXEC(&io, b, sizeof(b), 0x12, 1, 0xb0, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    UT_BYTES(b, want, sizeof(want));

    /* the optimal length is capped at the maximum; a max_io_size under one
     * block leaves the backend's maximum */
    CU_ASSERT_FATAL(disk_new("d1", st.path, ",readonly=on",
                             ",scsi-id=1,lun=0,opt_io_size=4M,max_io_size=2097152") != NULL);
    clear_ua(1, 0);
    EXEC_AT(&io, 1, 0, b, sizeof(b), 0x12, 1, 0xb0, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    UT_EQ(b[8] << 24 | b[9] << 16 | b[10] << 8 | b[11], (2u << 20) / 512);
    UT_EQ(b[12] << 24 | b[13] << 16 | b[14] << 8 | b[15], (2u << 20) / 512);
    CU_ASSERT_FATAL(disk_new("d2", st.path, ",readonly=on",
                             ",scsi-id=2,lun=0,max_io_size=100") != NULL);
    clear_ua(2, 0);
    EXEC_AT(&io, 2, 0, b, sizeof(b), 0x12, 1, 0xb0, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    UT_EQ((uint32_t)b[8] << 24 | b[9] << 16 | b[10] << 8 | b[11], 2147483647u / 512);
}

static void test_discard_granularity_zero(void)
{
    static const uint8_t want_b2[8] = { 0x00, 0xb2, 0x00, 4, 0x00, 0xe0, 0x01, 0x00 };
    uint8_t b[64];
    struct st_io io;

    /* discard_granularity=0: no unmap granularity, provisioning type full,
     * no TPE in READ CAPACITY(16) */
    st_ready_disk("", ",discard_granularity=0");
    EXEC(&io, b, sizeof(b), 0x12, 1, 0xb0, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    CU_ASSERT(all_zero(b + 28, 4));
    EXEC(&io, b, 8, 0x12, 1, 0xb2, 0, 8, 0);
    EXPECT_GOOD(&io, 8);
    UT_BYTES(b, want_b2, sizeof(want_b2));
    EXEC(&io, b, 32, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
    EXPECT_GOOD(&io, 32);
    UT_EQ(b[14], 0x00);
}

static void test_vpd_device_id_port(void)
{
    static const uint8_t want[] = {
        0x00, 0x83, 0x00, 26,
        0x02, 0x00, 0x00, 2, 'd', '0',
        0x61, 0x93, 0x00, 8, 0x50, 0x00, 0xc5, 0x00, 0x15, 0xea, 0x71, 0xad,
        0x61, 0x94, 0x00, 4, 0x00, 0x00, 0x01, 0x02,
    };
    static const uint8_t want_index_only[] = {
        0x00, 0x83, 0x00, 14,
        0x02, 0x00, 0x00, 2, 'd', '1',
        0x61, 0x94, 0x00, 4, 0x00, 0x00, 0x00, 0x07,
    };
    char opts[320];
    uint8_t b[300];
    struct st_io io;

    st_ready_disk("", ",port_wwn=0x5000c50015ea71ad,port_index=258");
    EXEC(&io, b, sizeof(b), 0x12, 1, 0x83, 0, 96, 0);
    EXPECT_GOOD(&io, 96);
    UT_BYTES(b, want, sizeof(want));
    UT_EQ(b[sizeof(want)], 0);
    /* the relative target port alone */
    CU_ASSERT_FATAL(disk_new("d1", st.path, ",readonly=on",
                             ",scsi-id=1,lun=0,port_index=7") != NULL);
    clear_ua(1, 0);
    EXEC_AT(&io, 1, 0, b, sizeof(b), 0x12, 1, 0x83, 0, 96, 0);
    EXPECT_GOOD(&io, 96);
    UT_BYTES(b, want_index_only, sizeof(want_index_only));
    /* a 247-byte device_id leaves room for the other designators: the
     * page length still fits its byte */
    memset(opts, 0, sizeof(opts));
    strcpy(opts, ",scsi-id=2,lun=0,wwn=1,port_wwn=2,port_index=3,device_id=");
    memset(opts + strlen(opts), 'x', 247);
    CU_ASSERT_FATAL(disk_new("d2", st.path, ",readonly=on", opts) != NULL);
    clear_ua(2, 0);
    EXEC_AT(&io, 2, 0, b, sizeof(b), 0x12, 1, 0x83, 0x01, 0x2c, 0);
    EXPECT_GOOD(&io, 300);
    UT_EQ(b[3], 255);
    UT_EQ(b[7], 255 - 4 - 32);
    UT_EQ(b[4 + 255 - 8], 0x61);
    UT_EQ(b[4 + 255 - 7], 0x94);
    UT_EQ(b[4 + 255 - 1], 3);
}

static void test_mode_page_apple_quirk(void)
{
    /* (the device-specific byte has WP: the second disk is read-only) */
    static const uint8_t want[8] = { 7, 0x00, 0x80, 0, 0x00, 0x02, 0x00, 0x00 };
    static const uint8_t want_chg[8] = { 7, 0x00, 0x80, 0, 0x00, 0x02, 0xff, 0xff };
    uint8_t p[8] = { 0, 0, 0, 0, 0x00, 0x02, 0x12, 0x34 };
    uint8_t b[255];
    struct st_io io;

    /* without the quirk page 0 does not exist */
    st_ready_disk("", "");
    EXEC(&io, b, 8, 0x1a, 0x08, 0x00, 0, 8, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    EXEC(&io, p, sizeof(p), 0x15, 0x10, 0, 0, 8, 0);
    CU_ASSERT(io.status == OB_SCSI_CHECK_CONDITION);
    UT_EQ(io.sense[12], 0x26);
    /* with it: two zero bytes, all changeable; first of the 0x3f list */
    CU_ASSERT_FATAL(disk_new("d1", st.path, ",readonly=on",
                             ",scsi-id=1,lun=0,quirk_mode_page_vendor_specific_apple=on")
                    != NULL);
    clear_ua(1, 0);
    EXEC_AT(&io, 1, 0, b, 8, 0x1a, 0x08, 0x00, 0, 8, 0);
    EXPECT_GOOD(&io, 8);
    UT_BYTES(b, want, sizeof(want));
    EXEC_AT(&io, 1, 0, b, 8, 0x1a, 0x08, 0x40, 0, 8, 0);
    EXPECT_GOOD(&io, 8);
    UT_BYTES(b, want_chg, sizeof(want_chg));
    EXEC_AT(&io, 1, 0, b, sizeof(b), 0x1a, 0x08, 0x3f, 0, 255, 0);
    EXPECT_GOOD(&io, 255);
    UT_BYTES(b + 4, want + 4, 4);
    UT_EQ(b[8], 0x01);
    /* MODE SELECT takes it (every bit is changeable) */
    EXEC_AT(&io, 1, 0, p, sizeof(p), 0x15, 0x10, 0, 0, 8, 0);
    EXPECT_GOOD(&io, 8);
}

static uint32_t vpd_b0_unmap_granularity(unsigned target)
{
    uint8_t b[64];
    struct st_io io;

    EXEC_AT(&io, target, 0, b, sizeof(b), 0x12, 1, 0xb0, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    return (uint32_t)b[28] << 24 | (uint32_t)b[29] << 16 | (uint32_t)b[30] << 8 | b[31];
}

static void test_backend_defaults_discard_granularity(void)
{
    struct scsi_hd *s;
    uint32_t align;

    /* backend_defaults=on with O_DIRECT: the drive's alignment when it is
     * more than 1 (where the file system takes O_DIRECT at all) */
    s = st_ready_disk(",cache=none", ",backend_defaults=on");
    align = s->drive->align;
    UT_EQ(vpd_b0_unmap_granularity(0), (align > 1 ? align : 4096) / 512);
    /* auto, or an explicit discard_granularity: not the backend's */
    CU_ASSERT_FATAL(disk_new("d1", st.path, ",readonly=on,cache=none",
                             ",scsi-id=1,lun=0") != NULL);
    clear_ua(1, 0);
    UT_EQ(vpd_b0_unmap_granularity(1), 4096 / 512);
    CU_ASSERT_FATAL(disk_new("d2", st.path, ",readonly=on,cache=none",
                             ",scsi-id=2,lun=0,backend_defaults=on,discard_granularity=1024")
                    != NULL);
    clear_ua(2, 0);
    UT_EQ(vpd_b0_unmap_granularity(2), 2);
}

/* Creates scsi-hd on a new drive ID (PATH2) with DEV_OPTS; -1 and ERR when
 * that is refused. */
static int disk_try(const char *id, const char *drive_opts, const char *dev_opts,
                    char *err, size_t errlen)
{
    char spec[512];
    struct ob_device *dev = NULL;

    snprintf(spec, sizeof(spec), "id=%s,file=%s,format=raw,if=none%s", id, st.path2,
             drive_opts);
    CU_ASSERT_FATAL(drive_new(spec) == 0);
    snprintf(spec, sizeof(spec), "scsi-hd,drive=%s,bus=hba.0%s", id, dev_opts);
    return ut_device_create(&st.ctx, spec, &dev, err, errlen);
}

static void test_io_size_and_error_properties(void)
{
    struct ob_drive *d;
    char err[512];

    CU_ASSERT_FATAL(make_image(st.path2, IMG_SIZE, 2) == 0);
    UT_EQ(disk_try("e1", "", ",min_io_size=100", err, sizeof(err)), -1);
    CU_ASSERT(strstr(err, "min_io_size must be a multiple of logical_block_size") != NULL);
    UT_EQ(disk_try("e2", "", ",logical_block_size=4096,physical_block_size=4096,"
                   "opt_io_size=2048", err, sizeof(err)), -1);
    CU_ASSERT(strstr(err, "opt_io_size must be a multiple of logical_block_size") != NULL);
    UT_EQ(disk_try("e3", "", ",discard_granularity=1000", err, sizeof(err)), -1);
    CU_ASSERT(strstr(err, "discard_granularity must be a multiple") != NULL);
    UT_EQ(disk_try("e4", "", ",discard_granularity=8G", err, sizeof(err)), -1);
    UT_EQ(disk_try("e5", "", ",port_index=65536", err, sizeof(err)), -1);
    UT_EQ(disk_try("e6", "", ",werror=stop", err, sizeof(err)), -1);
    CU_ASSERT(strstr(err, "werror=stop is not supported") != NULL);
    UT_EQ(disk_try("e7", "", ",rerror=bogus", err, sizeof(err)), -1);
    UT_EQ(disk_try("e8", "", ",backend_defaults=maybe", err, sizeof(err)), -1);
    /* the stored-only ones are accepted */
    UT_EQ(disk_try("ok1", ",readonly=on", ",scsi-id=1,lun=0,lcyls=10,lheads=4,lsecs=32,"
                   "share-rw=on,account-invalid=on,account-failed=off,bootindex=2,"
                   "backend_defaults=off", err, sizeof(err)), 0);
    /* device-level werror overrides the drive's; auto keeps it */
    UT_EQ(disk_try("ok2", ",readonly=on,rerror=ignore", ",scsi-id=2,lun=0,werror=ignore",
                   err, sizeof(err)), 0);
    d = ob_drive_find(&st.ctx, "ok2");
    CU_ASSERT_FATAL(d != NULL);
    UT_EQ(d->werror, OB_ERRPOL_IGNORE);
    UT_EQ(d->rerror, OB_ERRPOL_IGNORE);
    UT_EQ(disk_try("ok3", ",readonly=on,werror=ignore", ",scsi-id=3,lun=0,werror=report",
                   err, sizeof(err)), 0);
    d = ob_drive_find(&st.ctx, "ok3");
    CU_ASSERT_FATAL(d != NULL);
    UT_EQ(d->werror, OB_ERRPOL_REPORT);
}

/* ---- TEST UNIT READY, unit attention, REQUEST SENSE -------------------- */

static void test_tur_and_power_on_ua(void)
{
    static const uint8_t want_ua[18] = {
        0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x29, 0x00, 0, 0, 0, 0,
    };
    static const uint8_t want_none[18] = { 0x70, 0, 0, 0, 0, 0, 0, 10 };
    uint8_t b[32];
    struct st_io io;

    st_disk("", "");
    /* the first command reports the power-on unit attention */
    EXEC(&io, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    UT_EQ(io.enq, 0);
    EXPECT_SENSE(&io, 0x06, 0x29, 0x00);
    /* REQUEST SENSE returns it ... */
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x03, 0, 0, 0, 18, 0);
    EXPECT_GOOD(&io, 18);
    UT_BYTES(b, want_ua, sizeof(want_ua));
    /* ... once */
    EXEC(&io, b, sizeof(b), 0x03, 0, 0, 0, 18, 0);
    EXPECT_GOOD(&io, 18);
    UT_BYTES(b, want_none, sizeof(want_none));
    /* and the unit is ready */
    EXEC(&io, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_GOOD(&io, 0);
    EXEC(&io, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_GOOD(&io, 0);
}

static void test_ua_reported_to_any_command(void)
{
    uint8_t b[8];
    struct st_io io;

    st_disk("", "");
    /* READ CAPACITY is not exempt: it fails, and the UA is gone after */
    EXEC(&io, b, sizeof(b), 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    EXPECT_SENSE(&io, 0x06, 0x29, 0x00);
    EXEC(&io, b, sizeof(b), 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    EXPECT_GOOD(&io, 8);
}

static void test_bus_reset_ua(void)
{
    static const uint8_t want_desc[8] = { 0x72, 0x06, 0x29, 0x00, 0, 0, 0, 0 };
    uint8_t b[32], lun[16];
    struct st_io io;

    st_ready_disk("", "");
    ob_scsi_bus_reset(&st.bus);
    /* INQUIRY and REPORT LUNS go through without taking it */
    EXEC(&io, b, sizeof(b), 0x12, 0, 0, 0, 32, 0);
    EXPECT_GOOD(&io, 32);
    EXEC(&io, lun, sizeof(lun), 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0);
    EXPECT_GOOD(&io, 16);
    EXEC(&io, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_SENSE(&io, 0x06, 0x29, 0x00);
    /* descriptor format (DESC=1) */
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x03, 1, 0, 0, 32, 0);
    EXPECT_GOOD(&io, 8);
    UT_EQ(io.residual, 24);
    UT_BYTES(b, want_desc, sizeof(want_desc));
    EXEC(&io, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_GOOD(&io, 0);
}

static void test_request_sense_after_error(void)
{
    static const uint8_t want[18] = {
        0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0x00, 0, 0, 0, 0,
    };
    static const uint8_t want_none[18] = { 0x70, 0, 0, 0, 0, 0, 0, 10 };
    uint8_t b[32];
    struct st_io io;

    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x4d, 0, 0, 0, 0, 0, 0, 0, 32, 0);    /* LOG SENSE */
    EXPECT_SENSE(&io, 0x05, 0x20, 0x00);
    /* a short allocation length truncates the sense */
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x03, 0, 0, 0, 14, 0);
    EXPECT_GOOD(&io, 14);
    UT_BYTES(b, want, 14);
    UT_EQ(b[14], 0xee);
    /* the REQUEST SENSE completed GOOD: nothing is stored any more */
    EXEC(&io, b, sizeof(b), 0x03, 0, 0, 0, 18, 0);
    EXPECT_GOOD(&io, 18);
    UT_BYTES(b, want_none, sizeof(want_none));
    /* a command completing GOOD also clears stored sense */
    EXEC(&io, b, sizeof(b), 0x4d, 0, 0, 0, 0, 0, 0, 0, 32, 0);
    EXPECT_SENSE(&io, 0x05, 0x20, 0x00);
    EXEC(&io, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_GOOD(&io, 0);
    EXEC(&io, b, sizeof(b), 0x03, 0, 0, 0, 18, 0);
    EXPECT_GOOD(&io, 18);
    UT_BYTES(b, want_none, sizeof(want_none));
}

/* ---- READ CAPACITY ------------------------------------------------------ */

static void test_read_capacity10(void)
{
    static const uint8_t want[8] = { 0x00, 0x00, 0x1f, 0xff, 0x00, 0x00, 0x02, 0x00 };
    uint8_t b[8];
    struct st_io io;

    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    UT_EQ(io.enq, 8);
    EXPECT_GOOD(&io, 8);
    UT_BYTES(b, want, sizeof(want));
    UT_EQ((uint64_t)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]) + 1, IMG_BLOCKS);
    /* PMI=1 with an LBA is accepted; an LBA without PMI is not */
    EXEC(&io, b, sizeof(b), 0x25, 0, 0, 0, 0, 5, 0, 0, 1, 0);
    EXPECT_GOOD(&io, 8);
    UT_BYTES(b, want, sizeof(want));
    EXEC(&io, b, sizeof(b), 0x25, 0, 0, 0, 0, 5, 0, 0, 0, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
}

static void test_read_capacity16(void)
{
    uint8_t want[32], b[40];
    struct st_io io;

    memset(want, 0, sizeof(want));
    put64(want, IMG_BLOCKS - 1);
    put32(want + 8, 512);
    want[14] = 0x80;                            /* TPE */
    st_ready_disk("", "");
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
    UT_EQ(io.enq, 32);
    EXPECT_GOOD(&io, 32);
    UT_BYTES(b, want, sizeof(want));
    UT_EQ(b[32], 0xee);
    /* the allocation length is honoured */
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0);
    EXPECT_GOOD(&io, 12);
    UT_BYTES(b, want, 12);
    UT_EQ(b[12], 0xee);
    /* another service action of 0x9e */
    EXEC(&io, b, sizeof(b), 0x9e, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    /* an LBA without PMI */
    EXEC(&io, b, sizeof(b), 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 32, 0, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
}

static void test_read_capacity16_physical_block(void)
{
    uint8_t b[32];
    struct st_io io;

    st_ready_disk("", ",physical_block_size=4096");
    EXEC(&io, b, sizeof(b), 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
    EXPECT_GOOD(&io, 32);
    UT_EQ(b[13], 3);                            /* 8 logical per physical */
}

static void test_read_capacity_4k_blocks(void)
{
    static const uint8_t want[8] = { 0x00, 0x00, 0x03, 0xff, 0x00, 0x00, 0x10, 0x00 };
    uint8_t b[4096];
    struct st_io io;

    st_ready_disk("", ",logical_block_size=4k");
    EXEC(&io, b, sizeof(b), 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    EXPECT_GOOD(&io, 8);
    UT_BYTES(b, want, sizeof(want));
    /* READ(10) counts in 4 KiB blocks */
    rw(&io, 0x28, 3, 1, b, sizeof(b));
    EXPECT_GOOD(&io, 4096);
    check_pattern(b, 3 * 4096, 4096, 1);
}

/* ---- MODE SENSE --------------------------------------------------------- */

/* Block descriptor: 8192 blocks of 512. */
#define BD_4MIB     0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x02, 0x00
/* The pages with the guessed geometry of a 4 MiB disk (8/16/63). */
#define PAGE_01     0x01, 0x0a, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0
#define PAGE_04     0x04, 0x16, 0x00, 0x00, 0x08, 16, 0x00, 0x00, 0x08, 0x00, 0x00, 0x08, \
                    0x00, 0xc8, 0xff, 0xff, 0xff, 0, 0, 0, 0x15, 0x18, 0, 0
#define PAGE_05     0x05, 0x1e, 0x13, 0x88, 16, 63, 0x02, 0x00, 0x00, 0x08, 0x00, 0x08, \
                    0x00, 0x08, 0x00, 0x01, 0x01, 0x00, 0x01, 0x01, 0x01, 0, 0, 0, 0, \
                    0, 0, 0, 0x15, 0x18, 0, 0
#define PAGE_08_WCE 0x08, 0x12, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
#define PAGE_08_WT  0x08, 0x12, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

static void test_mode_sense6_all_pages(void)
{
    static const uint8_t want[100] = {
        99, 0x00, 0x00, 8, BD_4MIB, PAGE_01, PAGE_04, PAGE_05, PAGE_08_WCE,
    };
    uint8_t b[255];
    struct st_io io;

    st_ready_disk("", "");
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x1a, 0, 0x3f, 0, 255, 0);
    UT_EQ(io.enq, 255);
    EXPECT_GOOD(&io, 255);
    UT_EQ(io.residual, 0);
    UT_BYTES(b, want, sizeof(want));
    CU_ASSERT(all_zero(b + sizeof(want), sizeof(b) - sizeof(want)));
}

static void test_mode_sense6_short_allocation(void)
{
    static const uint8_t want[6] = { 99, 0x00, 0x00, 8, 0x00, 0x00 };
    uint8_t b[16];
    struct st_io io;

    /* the mode data length still tells the whole length */
    st_ready_disk("", "");
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x1a, 0, 0x3f, 0, 6, 0);
    EXPECT_GOOD(&io, 6);
    UT_BYTES(b, want, sizeof(want));
    UT_EQ(b[6], 0xee);
}

static void test_mode_sense6_caching(void)
{
    static const uint8_t want[32] = { 31, 0x00, 0x00, 8, BD_4MIB, PAGE_08_WCE };
    static const uint8_t want_dbd[24] = { 23, 0x00, 0x00, 0, PAGE_08_WCE };
    uint8_t b[64];
    struct st_io io;

    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x1a, 0, 0x08, 0, 32, 0);
    EXPECT_GOOD(&io, 32);
    UT_BYTES(b, want, sizeof(want));
    /* DBD: no block descriptor */
    EXEC(&io, b, sizeof(b), 0x1a, 0x08, 0x08, 0, 24, 0);
    EXPECT_GOOD(&io, 24);
    UT_BYTES(b, want_dbd, sizeof(want_dbd));
    /* page control 1: the changeable mask has WCE */
    EXEC(&io, b, sizeof(b), 0x1a, 0x08, 0x48, 0, 24, 0);
    EXPECT_GOOD(&io, 24);
    UT_BYTES(b, want_dbd, sizeof(want_dbd));
    /* page control 2 (default values) is answered like 0 */
    EXEC(&io, b, sizeof(b), 0x1a, 0x08, 0x88, 0, 24, 0);
    EXPECT_GOOD(&io, 24);
    UT_BYTES(b, want_dbd, sizeof(want_dbd));
    /* page control 3 (saved values) */
    EXEC(&io, b, sizeof(b), 0x1a, 0x08, 0xc8, 0, 24, 0);
    EXPECT_SENSE(&io, 0x05, 0x39, 0x00);
}

static void test_mode_sense_write_cache_off(void)
{
    static const uint8_t want[24] = { 23, 0x00, 0x00, 0, PAGE_08_WT };
    uint8_t b[24];
    struct st_io io;

    st_ready_disk("", ",write-cache=off");
    EXEC(&io, b, sizeof(b), 0x1a, 0x08, 0x08, 0, 24, 0);
    EXPECT_GOOD(&io, 24);
    UT_BYTES(b, want, sizeof(want));
    /* the changeable mask still has WCE */
    EXEC(&io, b, sizeof(b), 0x1a, 0x08, 0x48, 0, 24, 0);
    EXPECT_GOOD(&io, 24);
    UT_EQ(b[6], 0x04);
}

static void test_mode_sense_control_page(void)
{
    uint8_t b[64];
    struct st_io io;

    /* QEMU 7.2's scsi-hd has no control page (0x0a): INVALID FIELD, in
     * both CDB sizes; nor any other page than 01/04/05/08 */
    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x1a, 0, 0x0a, 0, 64, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    EXEC(&io, b, sizeof(b), 0x5a, 0, 0x0a, 0, 0, 0, 0, 0, 64, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    EXEC(&io, b, sizeof(b), 0x1a, 0, 0x1c, 0, 64, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    EXEC(&io, b, sizeof(b), 0x1a, 0, 0x00, 0, 64, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
}

static void test_mode_sense10(void)
{
    static const uint8_t want8[36] = {
        0x00, 34, 0x00, 0x00, 0, 0, 0x00, 8, BD_4MIB, PAGE_08_WCE,
    };
    static const uint8_t want_all[104] = {
        0x00, 102, 0x00, 0x00, 0, 0, 0x00, 8, BD_4MIB, PAGE_01, PAGE_04, PAGE_05,
        PAGE_08_WCE,
    };
    uint8_t b[512];
    struct st_io io;

    st_ready_disk("", "");
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0x5a, 0, 0x08, 0, 0, 0, 0, 0, 36, 0);
    EXPECT_GOOD(&io, 36);
    UT_BYTES(b, want8, sizeof(want8));
    UT_EQ(b[36], 0xee);
    EXEC(&io, b, sizeof(b), 0x5a, 0, 0x3f, 0, 0, 0, 0, 0x01, 0x00, 0);
    EXPECT_GOOD(&io, 256);
    UT_BYTES(b, want_all, sizeof(want_all));
    CU_ASSERT(all_zero(b + sizeof(want_all), 256 - sizeof(want_all)));
}

static void test_mode_sense10_geometry_dbd(void)
{
    /* what SeaBIOS asks of a "QEMU" disk: page 4, DBD, 27 bytes */
    static const uint8_t want[27] = {
        0x00, 30, 0x00, 0x00, 0, 0, 0x00, 0, 0x04, 0x16, 0x00, 0x00, 0x08, 16,
        0x00, 0x00, 0x08, 0x00, 0x00, 0x08, 0x00, 0xc8, 0xff, 0xff, 0xff, 0, 0,
    };
    uint8_t b[27];
    struct st_io io;

    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x5a, 0x08, 0x04, 0, 0, 0, 0, 0, 27, 0);
    EXPECT_GOOD(&io, 27);
    UT_BYTES(b, want, sizeof(want));
}

static void test_mode_sense_readonly(void)
{
    uint8_t b[64];
    struct st_io io;

    /* WP (0x80) in the device-specific parameter; DPOFUA (0x10) is off by
     * default, as in QEMU 7.2 */
    st_ready_disk(",readonly=on", "");
    EXEC(&io, b, sizeof(b), 0x1a, 0, 0x3f, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    UT_EQ(b[2], 0x80);
    EXEC(&io, b, sizeof(b), 0x5a, 0, 0x08, 0, 0, 0, 0, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    UT_EQ(b[3], 0x80);
    /* dpofua=on adds DPOFUA next to WP */
    CU_ASSERT_FATAL(disk_new("d1", st.path, ",readonly=on",
                             ",scsi-id=1,lun=0,dpofua=on") != NULL);
    clear_ua(1, 0);
    EXEC_AT(&io, 1, 0, b, sizeof(b), 0x1a, 0, 0x08, 0, 64, 0);
    EXPECT_GOOD(&io, 64);
    UT_EQ(b[2], 0x90);
}

/* ---- REPORT LUNS and missing LUNs -------------------------------------- */

static void test_report_luns(void)
{
    static const uint8_t want1[16] = { 0, 0, 0, 8 };
    static const uint8_t want2[24] = { 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       0x00, 3, 0, 0, 0, 0, 0, 0 };
    uint8_t b[64];
    struct st_io io;

    st_ready_disk("", "");
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0);
    EXPECT_GOOD(&io, 16);
    UT_EQ(io.residual, 48);
    UT_BYTES(b, want1, sizeof(want1));
    /* a second LUN of the same target is listed; other targets are not */
    CU_ASSERT_FATAL(make_image(st.path2, IMG_SIZE, 2) == 0);
    CU_ASSERT_FATAL(disk_new("d1", st.path2, "", ",scsi-id=0,lun=3") != NULL);
    CU_ASSERT_FATAL(disk_new("d2", st.path, ",readonly=on", ",scsi-id=5,lun=1") != NULL);
    EXEC(&io, b, sizeof(b), 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0);
    EXPECT_GOOD(&io, 24);
    UT_BYTES(b, want2, sizeof(want2));
    /* truncated to the allocation length, rounded down to 8 */
    memset(b, 0xee, sizeof(b));
    EXEC(&io, b, sizeof(b), 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0);
    EXPECT_GOOD(&io, 16);
    UT_BYTES(b, want2, 16);
    /* allocation length below 16, SELECT REPORT above 2 */
    EXEC(&io, b, sizeof(b), 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    EXEC(&io, b, sizeof(b), 0xa0, 0, 3, 0, 0, 0, 0, 0, 0, 64, 0, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
}

static void test_missing_lun(void)
{
    static const uint8_t want_ls[18] = {
        0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x25, 0x00, 0, 0, 0, 0,
    };
    static const uint8_t want_vpd[5] = { 0x7f, 0x00, 0x00, 1, 0x00 };
    uint8_t b[64];
    struct st_io io;
    size_t i;

    st_disk("", "");
    /* the target's pending unit attention comes first, for any LUN */
    EXEC_AT(&io, 0, 1, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_SENSE(&io, 0x06, 0x29, 0x00);
    /* INQUIRY: peripheral qualifier 3, type 0x1f */
    memset(b, 0xee, sizeof(b));
    EXEC_AT(&io, 0, 1, b, sizeof(b), 0x12, 0, 0, 0, 36, 0);
    EXPECT_GOOD(&io, 36);
    UT_EQ(b[0], 0x7f);
    for (i = 1; i < 36 && b[i] == 0; i++) {
    }
    UT_EQ(i, 36);
    /* only the list of VPD pages */
    EXEC_AT(&io, 0, 1, b, sizeof(b), 0x12, 1, 0x00, 0, 64, 0);
    EXPECT_GOOD(&io, 5);
    UT_BYTES(b, want_vpd, sizeof(want_vpd));
    EXEC_AT(&io, 0, 1, b, sizeof(b), 0x12, 1, 0x83, 0, 64, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    /* everything else: LOGICAL UNIT NOT SUPPORTED */
    EXEC_AT(&io, 0, 1, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_SENSE(&io, 0x05, 0x25, 0x00);
    EXEC_AT(&io, 0, 1, b, sizeof(b), 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    EXPECT_SENSE(&io, 0x05, 0x25, 0x00);
    EXEC_AT(&io, 0, 1, b, sizeof(b), 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
    EXPECT_SENSE(&io, 0x05, 0x25, 0x00);
    EXEC_AT(&io, 0, 1, b, sizeof(b), 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0);
    EXPECT_SENSE(&io, 0x05, 0x25, 0x00);
    /* REQUEST SENSE succeeds and says so */
    memset(b, 0xee, sizeof(b));
    EXEC_AT(&io, 0, 1, b, sizeof(b), 0x03, 0, 0, 0, 18, 0);
    EXPECT_GOOD(&io, 18);
    UT_BYTES(b, want_ls, sizeof(want_ls));
    /* LUN 0 itself is fine */
    EXEC(&io, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_GOOD(&io, 0);
}

static void test_missing_lun0(void)
{
    static const uint8_t want[32] = {
        0x3f, 0x00, 0x05, 0x12, 31, 0x00, 0x00, 0x12,
        'Q', 'E', 'M', 'U', ' ', ' ', ' ', ' ',
        'Q', 'E', 'M', 'U', ' ', 'T', 'A', 'R', 'G', 'E', 'T', ' ', ' ', ' ', ' ', ' ',
    };
    uint8_t b[36];
    struct st_io io;

    /* a target with only LUN 2: LUN 0 answers "not present" */
    CU_ASSERT_FATAL(disk_new("d0", st.path, "", ",scsi-id=3,lun=2") != NULL);
    EXEC_AT(&io, 3, 0, b, sizeof(b), 0x12, 0, 0, 0, 36, 0);
    EXPECT_GOOD(&io, 36);
    UT_BYTES(b, want, sizeof(want));
    clear_ua(3, 2);
    /* other commands fail as ILLEGAL REQUEST (QEMU says INVALID OPCODE for
     * LUN 0, the model LUN NOT SUPPORTED as lsi53c895a.md 6.4 has it: only
     * the sense key is checked) */
    EXEC_AT(&io, 3, 0, b, sizeof(b), 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    CU_ASSERT(io.status == OB_SCSI_CHECK_CONDITION);
    UT_EQ(io.sense[2], 0x05);
}

/* ---- READ and WRITE ----------------------------------------------------- */

static void test_read_variants(void)
{
    static const uint8_t ops[] = { 0x08, 0x28, 0xa8, 0x88 };
    uint8_t *b = st_alloc(64 * 512);
    struct st_io io;
    size_t i;

    CU_ASSERT_FATAL(b != NULL);
    st_ready_disk("", "");
    for (i = 0; i < sizeof(ops); i++) {
        uint64_t lba = 100 + 1000 * i;
        uint32_t n = 3 + 7 * (uint32_t)i;

        memset(b, 0xee, 64 * 512);
        rw(&io, ops[i], lba, n, b, 64 * 512);
        UT_EQ(io.enq, n * 512);
        EXPECT_GOOD(&io, n * 512);
        check_pattern(b, lba * 512, n * 512, 1);
        check_image(st.path, lba * 512, b, n * 512);
        UT_EQ(b[n * 512], 0xee);
    }
    /* READ(6) reaches LBAs up to 21 bits; here the last block */
    rw(&io, 0x08, IMG_BLOCKS - 1, 1, b, 512);
    EXPECT_GOOD(&io, 512);
    check_pattern(b, (uint64_t)(IMG_BLOCKS - 1) * 512, 512, 1);
}

static void test_read6_zero_is_256(void)
{
    uint8_t *b = st_alloc(257 * 512);
    struct st_io io;

    CU_ASSERT_FATAL(b != NULL);
    st_ready_disk("", "");
    memset(b, 0xee, 257 * 512);
    rw(&io, 0x08, 7, 0, b, 257 * 512);
    UT_EQ(io.enq, 256 * 512);
    EXPECT_GOOD(&io, 256 * 512);
    check_pattern(b, 7 * 512, 256 * 512, 1);
    UT_EQ(b[256 * 512], 0xee);
    /* not so for READ(10): zero blocks, GOOD without data */
    rw(&io, 0x28, 7, 0, b, 512);
    UT_EQ(io.enq, 0);
    EXPECT_GOOD(&io, 0);
}

static void fill(uint8_t *b, size_t len, unsigned seed)
{
    size_t i;

    for (i = 0; i < len; i++) {
        b[i] = (uint8_t)(i * 31 + seed + (i >> 9));
    }
}

static void test_write_variants(void)
{
    static const uint8_t ops[] = { 0x0a, 0x2a, 0xaa, 0x8a };
    uint8_t *w = st_alloc(32 * 512), *r = st_alloc(32 * 512), edge[512];
    struct st_io io;
    size_t i;

    CU_ASSERT_FATAL(w != NULL && r != NULL);
    st_ready_disk("", "");
    for (i = 0; i < sizeof(ops); i++) {
        uint64_t lba = 200 + 1500 * i;
        uint32_t n = 2 + 9 * (uint32_t)i;

        fill(w, n * 512, (unsigned)i);
        rw(&io, ops[i], lba, n, w, n * 512);
        UT_EQ(io.enq, -(int32_t)(n * 512));
        EXPECT_GOOD(&io, n * 512);
        check_image(st.path, lba * 512, w, n * 512);
        /* the blocks around it are untouched */
        UT_EQ(file_read(st.path, (lba - 1) * 512, edge, 512), 0);
        check_pattern(edge, (lba - 1) * 512, 512, 1);
        UT_EQ(file_read(st.path, (lba + n) * 512, edge, 512), 0);
        check_pattern(edge, (lba + n) * 512, 512, 1);
        /* and a READ of the same kind gets it back */
        memset(r, 0, n * 512);
        rw(&io, (uint8_t)(ops[i] - 2), lba, n, r, n * 512);
        EXPECT_GOOD(&io, n * 512);
        UT_BYTES(r, w, n * 512);
    }
}

static void test_write6_zero_is_256(void)
{
    uint8_t *w = st_alloc(256 * 512);
    struct st_io io;

    CU_ASSERT_FATAL(w != NULL);
    st_ready_disk("", "");
    fill(w, 256 * 512, 9);
    rw(&io, 0x0a, 1000, 0, w, 256 * 512);
    UT_EQ(io.enq, -256 * 512);
    EXPECT_GOOD(&io, 256 * 512);
    check_image(st.path, 1000 * 512, w, 256 * 512);
}

static void test_write_fua_and_verify(void)
{
    uint8_t w[4 * 512];
    uint8_t c[OB_SCSI_MAX_CDB];
    struct st_io io;
    unsigned len;

    st_ready_disk("", "");
    /* WRITE(10) with FUA, WRITE AND VERIFY(10/12/16) */
    fill(w, sizeof(w), 1);
    len = rw_cdb(c, 0x2a, 40, 4);
    c[1] = 0x08;
    st_exec(&io, c, len, w, sizeof(w));
    EXPECT_GOOD(&io, sizeof(w));
    check_image(st.path, 40 * 512, w, sizeof(w));
    fill(w, sizeof(w), 2);
    rw(&io, 0x2e, 50, 4, w, sizeof(w));
    EXPECT_GOOD(&io, sizeof(w));
    check_image(st.path, 50 * 512, w, sizeof(w));
    fill(w, sizeof(w), 3);
    rw(&io, 0xae, 60, 4, w, sizeof(w));
    EXPECT_GOOD(&io, sizeof(w));
    check_image(st.path, 60 * 512, w, sizeof(w));
    fill(w, sizeof(w), 4);
    rw(&io, 0x8e, 70, 4, w, sizeof(w));
    EXPECT_GOOD(&io, sizeof(w));
    check_image(st.path, 70 * 512, w, sizeof(w));
    /* READ(10) with FUA */
    len = rw_cdb(c, 0x28, 70, 4);
    c[1] = 0x08;
    memset(w, 0, sizeof(w));
    st_exec(&io, c, len, w, sizeof(w));
    EXPECT_GOOD(&io, sizeof(w));
    check_image(st.path, 70 * 512, w, sizeof(w));
}

static void test_large_transfers(void)
{
    uint8_t *w = st_alloc(BIG_LEN), *r = st_alloc(BIG_LEN);
    struct st_io io;

    CU_ASSERT_FATAL(w != NULL && r != NULL);
    st_ready_disk("", "");
    /* 1 MiB: several chunks of data, each handed over separately */
    rw(&io, 0x28, 1, BIG_LEN / 512, r, BIG_LEN);
    EXPECT_GOOD(&io, BIG_LEN);
    UT_EQ(io.residual, 0);
    CU_ASSERT(io.chunks >= BIG_LEN / SCSI_HD_CHUNK);
    check_pattern(r, 512, BIG_LEN, 1);
    fill(w, BIG_LEN, 5);
    rw(&io, 0x8a, 3000, BIG_LEN / 512, w, BIG_LEN);
    EXPECT_GOOD(&io, BIG_LEN);
    CU_ASSERT(io.chunks >= BIG_LEN / SCSI_HD_CHUNK);
    check_image(st.path, 3000 * 512, w, BIG_LEN);
}

static void test_deferred_hba(void)
{
    uint8_t *w = st_alloc(BIG_LEN), *r = st_alloc(BIG_LEN), inq[36];
    struct st_io io;

    CU_ASSERT_FATAL(w != NULL && r != NULL);
    st_ready_disk("", "");
    /* the HBA moves every chunk later, from the loop */
    st.defer = true;
    fill(w, BIG_LEN, 6);
    rw(&io, 0x2a, 100, BIG_LEN / 512, w, BIG_LEN);
    EXPECT_GOOD(&io, BIG_LEN);
    check_image(st.path, 100 * 512, w, BIG_LEN);
    rw(&io, 0x28, 100, BIG_LEN / 512, r, BIG_LEN);
    EXPECT_GOOD(&io, BIG_LEN);
    UT_BYTES(r, w, BIG_LEN);
    EXEC(&io, inq, sizeof(inq), 0x12, 0, 0, 0, 36, 0);
    EXPECT_GOOD(&io, 36);
    UT_EQ(inq[2], 5);
}

static void test_lba_out_of_range(void)
{
    uint8_t b[4 * 512], orig[512];
    struct st_io io;

    st_ready_disk("", "");
    /* one block past the end */
    rw(&io, 0x28, IMG_BLOCKS - 1, 2, b, sizeof(b));
    EXPECT_SENSE(&io, 0x05, 0x21, 0x00);
    rw(&io, 0x08, IMG_BLOCKS, 1, b, sizeof(b));
    EXPECT_SENSE(&io, 0x05, 0x21, 0x00);
    rw(&io, 0xa8, IMG_BLOCKS + 100, 1, b, sizeof(b));
    EXPECT_SENSE(&io, 0x05, 0x21, 0x00);
    /* LBA + length wrapping around 2^64 */
    rw(&io, 0x88, UINT64_MAX, 2, b, sizeof(b));
    EXPECT_SENSE(&io, 0x05, 0x21, 0x00);
    rw(&io, 0x88, (uint64_t)1 << 40, 1, b, sizeof(b));
    EXPECT_SENSE(&io, 0x05, 0x21, 0x00);
    /* zero blocks just past the end is valid, further is not */
    rw(&io, 0x28, IMG_BLOCKS, 0, b, sizeof(b));
    EXPECT_GOOD(&io, 0);
    rw(&io, 0x28, IMG_BLOCKS + 1, 0, b, sizeof(b));
    EXPECT_SENSE(&io, 0x05, 0x21, 0x00);
    /* a write past the end touches nothing */
    fill(b, sizeof(b), 3);
    rw(&io, 0x2a, IMG_BLOCKS - 2, 4, b, sizeof(b));
    EXPECT_SENSE(&io, 0x05, 0x21, 0x00);
    UT_EQ(file_read(st.path, (uint64_t)(IMG_BLOCKS - 1) * 512, orig, 512), 0);
    check_pattern(orig, (uint64_t)(IMG_BLOCKS - 1) * 512, 512, 1);
    /* the last two blocks themselves are fine */
    rw(&io, 0x28, IMG_BLOCKS - 2, 2, b, sizeof(b));
    EXPECT_GOOD(&io, 1024);
    check_pattern(b, (uint64_t)(IMG_BLOCKS - 2) * 512, 1024, 1);
}

static void test_rdprotect(void)
{
    uint8_t b[512], c[OB_SCSI_MAX_CDB];
    struct st_io io;
    unsigned len;

    st_ready_disk("", "");
    len = rw_cdb(c, 0x28, 0, 1);
    c[1] = 0x20;
    st_exec(&io, c, len, b, sizeof(b));
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    len = rw_cdb(c, 0x8a, 0, 1);
    c[1] = 0x40;
    st_exec(&io, c, len, b, sizeof(b));
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
}

static void test_write_readonly(void)
{
    static const uint8_t ops[] = { 0x0a, 0x2a, 0xaa, 0x8a, 0x2e };
    uint8_t b[2 * 512];
    struct st_io io;
    size_t i;

    st_ready_disk(",readonly=on", "");
    fill(b, sizeof(b), 7);
    for (i = 0; i < sizeof(ops); i++) {
        rw(&io, ops[i], 10, 2, b, sizeof(b));
        EXPECT_SENSE(&io, 0x07, 0x27, 0x00);
    }
    UT_EQ(file_read(st.path, 10 * 512, b, sizeof(b)), 0);
    check_pattern(b, 10 * 512, sizeof(b), 1);
    /* reads work */
    rw(&io, 0x28, 10, 2, b, sizeof(b));
    EXPECT_GOOD(&io, sizeof(b));
    check_pattern(b, 10 * 512, sizeof(b), 1);
}

static void test_invalid_opcode(void)
{
    /* LOG SENSE, READ BUFFER, REPORT SUPPORTED OPERATION CODES, PERSISTENT
     * RESERVE IN, READ TOC (CD only), a 10-byte reserved opcode */
    static const uint8_t ops[] = { 0x4d, 0x3c, 0xa3, 0x5e, 0x43, 0x59 };
    /* group 3 (0x60-0x7f) and the vendor groups have no CDB length */
    static const uint8_t nolen[] = { 0x7e, 0xc0, 0xff };
    uint8_t b[64], c[OB_SCSI_MAX_CDB];
    struct st_io io;
    size_t i;

    st_ready_disk("", "");
    for (i = 0; i < sizeof(ops); i++) {
        memset(c, 0, sizeof(c));
        c[0] = ops[i];
        st_exec(&io, c, sizeof(c), b, sizeof(b));
        EXPECT_SENSE(&io, 0x05, 0x20, 0x00);
    }
    for (i = 0; i < sizeof(nolen); i++) {
        memset(c, 0, sizeof(c));
        c[0] = nolen[i];
        st_exec(&io, c, sizeof(c), b, sizeof(b));
        EXPECT_SENSE(&io, 0x05, 0x20, 0x00);
    }
    /* a CDB shorter than its group says */
    EXEC(&io, b, sizeof(b), 0x28, 0, 0, 0, 0, 0);
    EXPECT_SENSE(&io, 0x05, 0x20, 0x00);
}

static void test_emulated_length_limit(void)
{
    uint8_t b[16];
    struct st_io io;

    /* emulated commands take at most 65536 bytes */
    st_ready_disk("", "");
    EXEC(&io, b, sizeof(b), 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
}

/* ---- SYNCHRONIZE CACHE, START STOP UNIT, VERIFY, others ----------------- */

static void test_synchronize_cache(void)
{
    uint8_t w[512];
    struct st_io io;
    uint64_t flushes;

    st_ready_disk("", "");
    fill(w, sizeof(w), 8);
    rw(&io, 0x2a, 5, 1, w, sizeof(w));
    EXPECT_GOOD(&io, 512);
    flushes = st.hd->drive->stats.flush_ops;
    EXEC(&io, NULL, 0, 0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    UT_EQ(io.enq, 0);
    EXPECT_GOOD(&io, 0);
    UT_EQ(st.hd->drive->stats.flush_ops, flushes + 1);
    EXEC(&io, NULL, 0, 0x91, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    UT_EQ(io.enq, 0);
    EXPECT_GOOD(&io, 0);
    UT_EQ(st.hd->drive->stats.flush_ops, flushes + 2);
    check_image(st.path, 5 * 512, w, sizeof(w));
}

static void test_start_stop_unit(void)
{
    struct st_io io;

    st_ready_disk("", "");
    EXEC(&io, NULL, 0, 0x1b, 0, 0, 0, 0x01, 0);            /* start */
    EXPECT_GOOD(&io, 0);
    EXEC(&io, NULL, 0, 0x1b, 0, 0, 0, 0x00, 0);            /* stop */
    EXPECT_GOOD(&io, 0);
    EXEC(&io, NULL, 0, 0x1b, 0, 0, 0, 0x02, 0);            /* eject: not removable */
    EXPECT_GOOD(&io, 0);
    EXEC(&io, NULL, 0, 0x1b, 0, 0, 0, 0x30, 0);            /* power condition */
    EXPECT_GOOD(&io, 0);
    /* still ready afterwards */
    EXEC(&io, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_GOOD(&io, 0);
}

static void test_start_stop_removable_locked(void)
{
    struct st_io io;

    st_ready_disk("", ",removable=on");
    EXEC(&io, NULL, 0, 0x1e, 0, 0, 0, 0x01, 0);            /* PREVENT REMOVAL */
    EXPECT_GOOD(&io, 0);
    EXEC(&io, NULL, 0, 0x1b, 0, 0, 0, 0x02, 0);            /* eject */
    EXPECT_SENSE(&io, 0x05, 0x53, 0x02);
    EXEC(&io, NULL, 0, 0x1e, 0, 0, 0, 0x00, 0);            /* ALLOW */
    EXPECT_GOOD(&io, 0);
    EXEC(&io, NULL, 0, 0x1b, 0, 0, 0, 0x02, 0);
    EXPECT_GOOD(&io, 0);
}

static void test_verify10(void)
{
    struct st_io io;
    uint8_t b[512];

    st_ready_disk("", "");
    EXEC(&io, NULL, 0, 0x2f, 0, 0, 0, 0x10, 0, 0, 0, 8, 0);
    UT_EQ(io.enq, 0);
    EXPECT_GOOD(&io, 0);
    /* VERIFY(12) and (16) */
    EXEC(&io, NULL, 0, 0xaf, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0);
    EXPECT_GOOD(&io, 0);
    EXEC(&io, NULL, 0, 0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0);
    EXPECT_GOOD(&io, 0);
    /* no media check in QEMU's scsi-hd: GOOD even past the end */
    EXEC(&io, NULL, 0, 0x2f, 0, 0, 0, 0x20, 0x00, 0, 0, 8, 0);
    EXPECT_GOOD(&io, 0);
    /* BYTCHK is not supported */
    EXEC(&io, b, sizeof(b), 0x2f, 0x02, 0, 0, 0x10, 0, 0, 0, 1, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
}

static void test_seek_reserve_format(void)
{
    struct st_io io;

    st_ready_disk("", "");
    EXEC(&io, NULL, 0, 0x2b, 0, 0, 0, 0x1f, 0xff, 0, 0, 0, 0);    /* SEEK(10) */
    EXPECT_GOOD(&io, 0);
    EXEC(&io, NULL, 0, 0x2b, 0, 0, 0, 0x20, 0x00, 0, 0, 0, 0);
    EXPECT_SENSE(&io, 0x05, 0x21, 0x00);
    EXEC(&io, NULL, 0, 0x16, 0, 0, 0, 0, 0);                      /* RESERVE(6) */
    EXPECT_GOOD(&io, 0);
    EXEC(&io, NULL, 0, 0x17, 0, 0, 0, 0, 0);                      /* RELEASE(6) */
    EXPECT_GOOD(&io, 0);
    EXEC(&io, NULL, 0, 0x16, 0x01, 0, 0, 0, 0);                   /* third party */
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    EXEC(&io, NULL, 0, 0x04, 0, 0, 0, 0, 0);                      /* FORMAT UNIT */
    EXPECT_GOOD(&io, 0);
}

static void test_mode_select_wce(void)
{
    /* MODE SELECT(6), PF=1: header, no block descriptor, caching page
     * with WCE cleared */
    uint8_t p[24] = { 0, 0, 0, 0, PAGE_08_WT };
    uint8_t b[24];
    struct st_io io;

    st_ready_disk("", "");
    EXEC(&io, p, sizeof(p), 0x15, 0x10, 0, 0, 24, 0);
    UT_EQ(io.enq, -24);
    EXPECT_GOOD(&io, 24);
    EXEC(&io, b, sizeof(b), 0x1a, 0x08, 0x08, 0, 24, 0);
    EXPECT_GOOD(&io, 24);
    UT_EQ(b[6], 0x00);
    /* a bit outside the changeable mask */
    p[7] = 0x12;
    EXEC(&io, p, sizeof(p), 0x15, 0x10, 0, 0, 24, 0);
    CU_ASSERT(io.status == OB_SCSI_CHECK_CONDITION);
    UT_EQ(io.sense[12], 0x26);
}

/* MODE SELECT(6) with PF=1 and a block descriptor of block length BS. */
static void mode_select_bs(struct st_io *io, uint32_t bs)
{
    uint8_t p[12] = { 0, 0, 0, 8, 0, 0, 0, 0, 0 };

    p[9] = (uint8_t)(bs >> 16);
    p[10] = (uint8_t)(bs >> 8);
    p[11] = (uint8_t)bs;
    EXEC(io, p, sizeof(p), 0x15, 0x10, 0, 0, 12, 0);
}

static void read_capacity10(uint32_t *last, uint32_t *bs)
{
    uint8_t b[8];
    struct st_io io;

    EXEC(&io, b, sizeof(b), 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    EXPECT_GOOD(&io, 8);
    *last = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    *bs = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
}

static void test_mode_select_block_size(void)
{
    /* 200 blocks of 1536 bytes: more than one chunk, which 1536 does
     * not divide */
    enum { BS = 1536, N = 200, LBA = 1000 };
    static const uint8_t want_bd[12] = {
        31, 0x00, 0x00, 8, 0x00, 0x00, 0x0a, 0xaa, 0x00, 0x00, 0x06, 0x00,
    };
    uint8_t *w = st_alloc(N * BS), *r = st_alloc(N * BS), b[12];
    uint8_t c[OB_SCSI_MAX_CDB];
    uint32_t last, bs, i;
    struct st_io io;
    unsigned len;

    CU_ASSERT_FATAL(w != NULL && r != NULL);
    st_ready_disk("", "");
    /* ignored: below 512, above 65024, not a multiple of 512 */
    mode_select_bs(&io, 256);
    EXPECT_GOOD(&io, 12);
    mode_select_bs(&io, 65536);
    EXPECT_GOOD(&io, 12);
    mode_select_bs(&io, 1000);
    EXPECT_GOOD(&io, 12);
    read_capacity10(&last, &bs);
    UT_EQ(last, IMG_BLOCKS - 1);
    UT_EQ(bs, 512);
    /* a multiple of 512 that is no power of two is taken */
    mode_select_bs(&io, BS);
    EXPECT_GOOD(&io, 12);
    read_capacity10(&last, &bs);
    UT_EQ(last, IMG_SIZE / BS - 1);
    UT_EQ(bs, BS);
    EXEC(&io, b, sizeof(b), 0x1a, 0, 0x08, 0, 12, 0);
    EXPECT_GOOD(&io, 12);
    UT_BYTES(b, want_bd, 4 + 8);
    /* READ and WRITE count in the new blocks */
    rw(&io, 0x28, LBA, N, r, N * BS);
    UT_EQ(io.enq, N * BS);
    EXPECT_GOOD(&io, N * BS);
    check_pattern(r, (uint64_t)LBA * BS, N * BS, 1);
    fill(w, N * BS, 12);
    rw(&io, 0x2a, LBA, N, w, N * BS);
    EXPECT_GOOD(&io, N * BS);
    check_image(st.path, (uint64_t)LBA * BS, w, N * BS);
    /* WRITE SAME(10) replicates one block over N */
    fill(w, BS, 13);
    len = rw_cdb(c, 0x41, 2 * LBA, N);
    st_exec(&io, c, len, w, BS);
    EXPECT_GOOD(&io, BS);
    UT_EQ(file_read(st.path, (uint64_t)2 * LBA * BS, r, N * BS), 0);
    for (i = 0; i < N && memcmp(r + i * BS, w, BS) == 0; i++) {
    }
    UT_EQ(i, N);
    UT_EQ(file_read(st.path, (uint64_t)(2 * LBA + N) * BS, r, BS), 0);
    check_pattern(r, (uint64_t)(2 * LBA + N) * BS, BS, 1);
    /* back to 512 */
    mode_select_bs(&io, 512);
    EXPECT_GOOD(&io, 12);
    read_capacity10(&last, &bs);
    UT_EQ(last, IMG_BLOCKS - 1);
    UT_EQ(bs, 512);
}

static void test_not_ready_without_blocks(void)
{
    uint8_t b[32];
    struct st_io io;

    /* a 2 KiB image with 4 KiB blocks has no block at all */
    CU_ASSERT_FATAL(make_image(st.path2, 2048, 2) == 0);
    CU_ASSERT_FATAL(disk_new("d1", st.path2, "",
                             ",id=hd1,scsi-id=0,lun=0,logical_block_size=4096") != NULL);
    clear_ua(0, 0);
    EXEC(&io, b, sizeof(b), 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    EXPECT_SENSE(&io, 0x02, 0x04, 0x03);
    EXEC(&io, b, sizeof(b), 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
    EXPECT_SENSE(&io, 0x02, 0x04, 0x03);
    rw(&io, 0x28, 0, 1, b, sizeof(b));
    EXPECT_SENSE(&io, 0x05, 0x21, 0x00);
}

static void test_write_same(void)
{
    uint8_t blk[512], zero[512], got[4 * 512], c[OB_SCSI_MAX_CDB];
    struct st_io io;
    unsigned len, i;

    st_ready_disk("", "");
    memset(zero, 0, sizeof(zero));
    /* WRITE SAME(16): one block of data over 4 */
    fill(blk, sizeof(blk), 21);
    len = rw_cdb(c, 0x93, 300, 4);
    st_exec(&io, c, len, blk, sizeof(blk));
    UT_EQ(io.enq, -512);
    EXPECT_GOOD(&io, 512);
    UT_EQ(file_read(st.path, 300 * 512, got, sizeof(got)), 0);
    for (i = 0; i < 4; i++) {
        UT_BYTES(got + i * 512, blk, 512);
    }
    UT_EQ(file_read(st.path, 304 * 512, got, 512), 0);
    check_pattern(got, 304 * 512, 512, 1);
    /* WRITE SAME(10) with a zero block */
    len = rw_cdb(c, 0x41, 310, 2);
    st_exec(&io, c, len, zero, sizeof(zero));
    EXPECT_GOOD(&io, 512);
    UT_EQ(file_read(st.path, 310 * 512, got, 1024), 0);
    CU_ASSERT(all_zero(got, 1024));
    /* NDOB: zeroes without a data block */
    len = rw_cdb(c, 0x93, 320, 3);
    c[1] = 0x01;
    st_exec(&io, c, len, NULL, 0);
    UT_EQ(io.enq, 0);
    EXPECT_GOOD(&io, 0);
    UT_EQ(file_read(st.path, 320 * 512, got, 3 * 512), 0);
    CU_ASSERT(all_zero(got, 3 * 512));
    /* zero blocks, PBDATA/LBDATA, past the end */
    len = rw_cdb(c, 0x93, 320, 0);
    st_exec(&io, c, len, blk, sizeof(blk));
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    len = rw_cdb(c, 0x93, 320, 1);
    c[1] = 0x04;
    st_exec(&io, c, len, blk, sizeof(blk));
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    len = rw_cdb(c, 0x93, IMG_BLOCKS - 1, 2);
    st_exec(&io, c, len, blk, sizeof(blk));
    EXPECT_SENSE(&io, 0x05, 0x21, 0x00);
    /* a read-only drive */
    CU_ASSERT_FATAL(disk_new("d1", st.path, ",readonly=on", ",scsi-id=1,lun=0") != NULL);
    clear_ua(1, 0);
    len = rw_cdb(c, 0x93, 0, 1);
    st_exec_at(&io, 1, 0, c, len, blk, sizeof(blk));
    EXPECT_SENSE(&io, 0x07, 0x27, 0x00);
}

static void test_unmap(void)
{
    /* parameter list: header (data length, descriptor length), then
     * 16-byte descriptors (LBA, blocks) */
    uint8_t p[24] = { 0, 22, 0, 16, 0, 0, 0, 0,
                      0, 0, 0, 0, 0, 0, 0x01, 0x00, 0, 0, 0, 8, 0, 0, 0, 0 };
    uint8_t got[8 * 512];
    struct st_io io;

    st_ready_disk("", "");
    EXEC(&io, p, sizeof(p), 0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0);
    UT_EQ(io.enq, -24);
    EXPECT_GOOD(&io, 24);
    /* discard=ignore (the default): the data stays */
    UT_EQ(file_read(st.path, 256 * 512, got, sizeof(got)), 0);
    check_pattern(got, 256 * 512, sizeof(got), 1);
    /* ANCHOR */
    EXEC(&io, p, sizeof(p), 0x42, 1, 0, 0, 0, 0, 0, 0, 24, 0);
    EXPECT_SENSE(&io, 0x05, 0x24, 0x00);
    /* a descriptor area that is no multiple of 16 */
    p[3] = 12;
    EXEC(&io, p, sizeof(p), 0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0);
    CU_ASSERT(io.status == OB_SCSI_CHECK_CONDITION);
    UT_EQ(io.sense[12], 0x1a);
    /* a range past the end */
    p[3] = 16;
    p[12] = 0x00;
    p[13] = 0x00;
    p[14] = 0x1f;
    p[15] = 0xfc;
    EXEC(&io, p, sizeof(p), 0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0);
    CU_ASSERT(io.status == OB_SCSI_CHECK_CONDITION);
    UT_EQ(io.sense[12], 0x21);
}

/* Enqueues a command without waiting for it. */
static void st_start(struct st_io *io, const uint8_t *cdb, unsigned cdb_len, void *buf,
                     size_t cap)
{
    struct ob_scsi_req *r;

    memset(io, 0, sizeof(*io));
    io->buf = buf;
    io->cap = cap;
    r = ob_scsi_req_new(&st.bus, 0, 0, st.tag++, cdb, cdb_len, io);
    CU_ASSERT_FATAL(r != NULL);
    io->enq = ob_scsi_req_enqueue(r);
    if (io->enq != 0 && !io->done) {
        ob_scsi_req_continue(r);
    }
}

static void test_queued_commands(void)
{
    enum { N = 6, BLOCKS = 96 };
    static struct st_io ios[N];
    uint8_t *b = st_alloc(N * BLOCKS * 512), *w = st_alloc(BLOCKS * 512);
    uint8_t c[OB_SCSI_MAX_CDB];
    unsigned len, i, done = 0;
    struct timespec t0, t;

    CU_ASSERT_FATAL(b != NULL && w != NULL);
    st_ready_disk("", "");
    /* tagged queuing: READs of different ranges and a WRITE elsewhere, all
     * in flight together, each completing on its own */
    for (i = 0; i < N - 1; i++) {
        len = rw_cdb(c, 0x28, 500 + 200 * i, BLOCKS);
        st_start(&ios[i], c, len, b + i * BLOCKS * 512, BLOCKS * 512);
    }
    fill(w, BLOCKS * 512, 31);
    len = rw_cdb(c, 0x2a, 4000, BLOCKS);
    st_start(&ios[N - 1], c, len, w, BLOCKS * 512);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (done < N) {
        event_base_loop(st.ctx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        for (i = 0, done = 0; i < N; i++) {
            done += ios[i].done;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        CU_ASSERT_FATAL(t.tv_sec - t0.tv_sec <= 5);
    }
    for (i = 0; i < N - 1; i++) {
        EXPECT_GOOD(&ios[i], BLOCKS * 512);
        check_pattern(b + i * BLOCKS * 512, (500 + 200 * (uint64_t)i) * 512,
                      BLOCKS * 512, 1);
    }
    EXPECT_GOOD(&ios[N - 1], BLOCKS * 512);
    check_image(st.path, 4000 * 512, w, BLOCKS * 512);
}

static void test_target_reset_no_ua(void)
{
    struct st_io io;

    /* BUS DEVICE RESET cancels the target's requests but, as in QEMU,
     * sets no unit attention; a bus reset does */
    st_ready_disk("", "");
    ob_scsi_bus_cancel_target(&st.bus, 0);
    EXEC(&io, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_GOOD(&io, 0);
    ob_scsi_bus_reset(&st.bus);
    EXEC(&io, NULL, 0, 0x00, 0, 0, 0, 0, 0);
    EXPECT_SENSE(&io, 0x06, 0x29, 0x00);
}

static void test_sense_from_errno(void)
{
    static const struct {
        int err;
        uint8_t status, key, asc, ascq;
    } map[] = {
        { EIO, OB_SCSI_CHECK_CONDITION, 0x0b, 0x00, 0x06 },
        { ENODATA, OB_SCSI_CHECK_CONDITION, 0x03, 0x11, 0x00 },
        { ENOMEDIUM, OB_SCSI_CHECK_CONDITION, 0x02, 0x3a, 0x00 },
        { ENOMEM, OB_SCSI_CHECK_CONDITION, 0x04, 0x44, 0x00 },
        { EREMOTEIO, OB_SCSI_CHECK_CONDITION, 0x04, 0x44, 0x00 },
        { EINVAL, OB_SCSI_CHECK_CONDITION, 0x05, 0x24, 0x00 },
        { ENOSPC, OB_SCSI_CHECK_CONDITION, 0x07, 0x27, 0x07 },
        { EROFS, OB_SCSI_CHECK_CONDITION, 0x0b, 0x00, 0x06 },
        { EPERM, OB_SCSI_CHECK_CONDITION, 0x0b, 0x00, 0x06 },
        { EDOM, OB_SCSI_TASK_SET_FULL, 0, 0, 0 },
        { EBADE, OB_SCSI_RESERVATION_CONFLICT, 0, 0, 0 },
        { 0, OB_SCSI_GOOD, 0, 0, 0 },
    };
    size_t i;

    /* QEMU's mapping of backend errors (lsi53c895a.md 6.3) */
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        struct ob_scsi_sense s = { 0, 0, 0 };

        UT_EQ(ob_scsi_sense_from_errno(map[i].err, &s), map[i].status);
        UT_EQ(s.key, map[i].key);
        UT_EQ(s.asc, map[i].asc);
        UT_EQ(s.ascq, map[i].ascq);
    }
}

static void test_cancel_in_flight(void)
{
    uint8_t *b = st_alloc(BIG_LEN);
    uint8_t c[OB_SCSI_MAX_CDB];
    struct ob_scsi_req *r;
    struct st_io io;
    unsigned len;

    CU_ASSERT_FATAL(b != NULL);
    st_ready_disk("", "");
    /* a READ cancelled while its first chunk is being read */
    memset(&io, 0, sizeof(io));
    io.buf = b;
    io.cap = BIG_LEN;
    len = rw_cdb(c, 0x28, 0, BIG_LEN / 512);
    r = ob_scsi_req_new(&st.bus, 0, 0, st.tag++, c, len, &io);
    CU_ASSERT_FATAL(r != NULL);
    UT_EQ(ob_scsi_req_enqueue(r), BIG_LEN);
    ob_scsi_req_continue(r);
    CU_ASSERT(!io.done);
    ob_scsi_req_cancel(r);
    CU_ASSERT(io.cancelled);
    CU_ASSERT(!io.done);
    UT_EQ(io.pos, 0);
    /* the next command waits for the cancelled I/O, then runs */
    rw(&io, 0x28, 8, 2, b, 1024);
    EXPECT_GOOD(&io, 1024);
    check_pattern(b, 8 * 512, 1024, 1);
}

static void test_reset_in_flight(void)
{
    uint8_t *w = st_alloc(BIG_LEN), *r = st_alloc(BIG_LEN);
    uint8_t c[OB_SCSI_MAX_CDB];
    struct ob_scsi_req *req;
    struct st_io io;
    unsigned len;

    CU_ASSERT_FATAL(w != NULL && r != NULL);
    st_ready_disk("", "");
    /* a WRITE whose data the HBA hands over from the loop, interrupted
     * by a bus reset after its first chunk went to the disk */
    st.defer = true;
    fill(w, BIG_LEN, 11);
    memset(&io, 0, sizeof(io));
    io.buf = w;
    io.cap = BIG_LEN;
    len = rw_cdb(c, 0x2a, 64, BIG_LEN / 512);
    req = ob_scsi_req_new(&st.bus, 0, 0, st.tag++, c, len, &io);
    CU_ASSERT_FATAL(req != NULL);
    UT_EQ(ob_scsi_req_enqueue(req), -(int32_t)BIG_LEN);
    ob_scsi_req_continue(req);
    CU_ASSERT_FATAL(st_run_until(&io.chunks, 2));
    ob_scsi_bus_reset(&st.bus);
    CU_ASSERT(io.cancelled);
    CU_ASSERT(!io.done);
    /* after the unit attention, the disk works; what was written before
     * the reset is there, what was not is the old data */
    st.defer = false;
    clear_ua(0, 0);
    rw(&io, 0x28, 64, BIG_LEN / 512, r, BIG_LEN);
    EXPECT_GOOD(&io, BIG_LEN);
    UT_BYTES(r, w, SCSI_HD_CHUNK);
    check_pattern(r + 2 * SCSI_HD_CHUNK, 64 * 512 + 2 * SCSI_HD_CHUNK,
                  BIG_LEN - 2 * SCSI_HD_CHUNK, 1);
    check_image(st.path, 64 * 512, r, BIG_LEN);
}

static const struct ut_test scsi_tests[] = {
    UT_TEST(test_inquiry_standard),
    UT_TEST(test_inquiry_long_allocation),
    UT_TEST(test_inquiry_properties),
    UT_TEST(test_inquiry_no_tcq),
    UT_TEST(test_inquiry_page_without_evpd),
    UT_TEST(test_vpd_supported_pages),
    UT_TEST(test_vpd_serial),
    UT_TEST(test_vpd_serial_absent),
    UT_TEST(test_vpd_device_id),
    UT_TEST(test_vpd_block_limits),
    UT_TEST(test_vpd_block_characteristics),
    UT_TEST(test_vpd_provisioning),
    UT_TEST(test_vpd_invalid_page),
    UT_TEST(test_inquiry_scsi_version),
    UT_TEST(test_vpd_block_limits_properties),
    UT_TEST(test_discard_granularity_zero),
    UT_TEST(test_vpd_device_id_port),
    UT_TEST(test_io_size_and_error_properties),
    UT_TEST(test_mode_page_apple_quirk),
    UT_TEST(test_backend_defaults_discard_granularity),
    UT_TEST(test_tur_and_power_on_ua),
    UT_TEST(test_ua_reported_to_any_command),
    UT_TEST(test_bus_reset_ua),
    UT_TEST(test_request_sense_after_error),
    UT_TEST(test_read_capacity10),
    UT_TEST(test_read_capacity16),
    UT_TEST(test_read_capacity16_physical_block),
    UT_TEST(test_read_capacity_4k_blocks),
    UT_TEST(test_mode_sense6_all_pages),
    UT_TEST(test_mode_sense6_short_allocation),
    UT_TEST(test_mode_sense6_caching),
    UT_TEST(test_mode_sense_write_cache_off),
    UT_TEST(test_mode_sense_control_page),
    UT_TEST(test_mode_sense10),
    UT_TEST(test_mode_sense10_geometry_dbd),
    UT_TEST(test_mode_sense_readonly),
    UT_TEST(test_report_luns),
    UT_TEST(test_missing_lun),
    UT_TEST(test_missing_lun0),
    UT_TEST(test_read_variants),
    UT_TEST(test_read6_zero_is_256),
    UT_TEST(test_write_variants),
    UT_TEST(test_write6_zero_is_256),
    UT_TEST(test_write_fua_and_verify),
    UT_TEST(test_large_transfers),
    UT_TEST(test_deferred_hba),
    UT_TEST(test_lba_out_of_range),
    UT_TEST(test_rdprotect),
    UT_TEST(test_write_readonly),
    UT_TEST(test_invalid_opcode),
    UT_TEST(test_emulated_length_limit),
    UT_TEST(test_synchronize_cache),
    UT_TEST(test_start_stop_unit),
    UT_TEST(test_start_stop_removable_locked),
    UT_TEST(test_verify10),
    UT_TEST(test_seek_reserve_format),
    UT_TEST(test_mode_select_wce),
    UT_TEST(test_mode_select_block_size),
    UT_TEST(test_not_ready_without_blocks),
    UT_TEST(test_write_same),
    UT_TEST(test_unmap),
    UT_TEST(test_queued_commands),
    UT_TEST(test_target_reset_no_ua),
    UT_TEST(test_sense_from_errno),
    UT_TEST(test_cancel_in_flight),
    UT_TEST(test_reset_in_flight),
    UT_END,
};

static const struct ut_suite scsi_suite = {
    .name = "scsi",
    .setup = st_setup,
    .teardown = st_teardown,
    .tests = scsi_tests,
};

int test_scsi_register(void)
{
    return ut_add_suite(&scsi_suite);
}
