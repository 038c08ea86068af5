/*
 * scsi-hd.c - QEMU's scsi-hd: a SCSI disk on a -drive, with QEMU 7.2's
 * command set, responses and sense (lsi53c895a.md §6), plus SYNCHRONIZE
 * CACHE(16).
 *
 * Commands are dispatched by opcode from a table. Each request moves
 * through steps: the start function checks the CDB and returns the
 * transfer; every ob_scsi_req_continue() from the HBA runs the request's
 * next step (hand over data, ask for data, start I/O). Disk I/O goes through
 * block.h, at most SCSI_HD_CHUNK bytes at a time, into an aligned buffer
 * owned by the request; the request holds a reference while I/O is in
 * flight. A request cancelled with I/O in flight becomes a "zombie": its
 * completion only drops that reference, and until every zombie of the
 * device has settled, new I/O of the device waits (so a write issued
 * after a reset can never be overtaken by a cancelled one).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/block.h"
#include "outboard/ctx.h"
#include "outboard/log.h"
#include "scsi-hd.h"

struct scsi_hd_req;
typedef void hd_step_fn(struct scsi_hd_req *r);
typedef int hd_io_fn(struct scsi_hd_req *r);
typedef void hd_then_fn(struct scsi_hd_req *r, int64_t ret);

enum hd_state {
    HD_IDLE,
    HD_IO,          /* disk I/O in flight */
    HD_PARKED,      /* waiting for the device's zombies to settle */
};

struct scsi_hd_req {
    struct ob_scsi_req req;         /* first */
    enum hd_state state;
    hd_step_fn *next_step;          /* what ob_scsi_req_continue() does */
    hd_step_fn *out_process;        /* emulated data-out: the data arrived */
    hd_io_fn *parked_io;            /* the I/O to start when unparked */
    hd_then_fn *io_then;            /* the I/O completion */
    struct scsi_hd_req *parked_next;
    bool zombie;
    bool fua;
    uint8_t *buf;                   /* aligned data buffer */
    uint32_t buf_cap;
    uint32_t chunk;                 /* bytes of the step in progress */
    struct iovec iov;
    uint64_t lba;                   /* next block */
    uint64_t left;                  /* bytes still to move */
    uint32_t unmap_next, unmap_count;
};

static struct scsi_hd *hd_of(struct scsi_hd_req *r)
{
    return (struct scsi_hd *)r->req.dev;
}

static const struct ob_log *hd_log(const struct scsi_hd *s)
{
    return &s->sdev.dev.ctx->log;
}

static const char *hd_name(const struct scsi_hd *s)
{
    return s->sdev.dev.id ? s->sdev.dev.id : "scsi-hd";
}

static uint32_t be16_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64_at(const uint8_t *p)
{
    return (uint64_t)be32_at(p) << 32 | be32_at(p + 4);
}

/* ---- buffers, completion, errors --------------------------------------- */

/* Bytes of the next step of a transfer of LEFT bytes: at most
 * SCSI_HD_CHUNK, in whole blocks (the block size need not divide it). */
static uint32_t hd_chunk_cap(const struct scsi_hd *s, uint64_t left)
{
    uint32_t max = SCSI_HD_CHUNK - SCSI_HD_CHUNK % s->bs;

    return left < max ? (uint32_t)left : max;
}

/* An aligned, zeroed buffer of at least LEN bytes (kept across steps). */
static int hd_buf(struct scsi_hd_req *r, uint32_t len)
{
    struct scsi_hd *s = hd_of(r);
    void *p = NULL;
    uint32_t cap = len ? len : 1;

    if (r->buf && r->buf_cap >= len) {
        return 0;
    }
    if (s->spare_buf && s->spare_cap == cap) {
        p = s->spare_buf;
        s->spare_buf = NULL;
        s->spare_cap = 0;
    } else if (posix_memalign(&p, 4096, cap) != 0) {
        return -ENOMEM;
    }
    free(r->buf);
    memset(p, 0, cap);
    r->buf = p;
    r->buf_cap = cap;
    return 0;
}

static void hd_fail(struct scsi_hd_req *r, struct ob_scsi_sense s)
{
    ob_scsi_req_fail(&r->req, s);
}

static void hd_good(struct scsi_hd_req *r)
{
    ob_scsi_req_complete(&r->req, OB_SCSI_GOOD);
}

/* An I/O result: true to go on, false when the request has been failed
 * (or -drive rerror=/werror=ignore makes it go on regardless). */
static bool hd_io_ok(struct scsi_hd_req *r, int64_t ret, bool is_read)
{
    struct scsi_hd *s = hd_of(r);
    struct ob_scsi_sense sense = OB_SENSE_NO_SENSE;
    uint8_t status;

    if (ret >= 0) {
        return true;
    }
    ob_logc(hd_log(s), OB_LOGC_DEVICE, "%s: %s error at lba %llu: %s", hd_name(s),
            is_read ? "read" : "write", (unsigned long long)r->lba,
            strerror((int)-ret));
    if ((is_read ? s->drive->rerror : s->drive->werror) == OB_ERRPOL_IGNORE) {
        return true;
    }
    status = ob_scsi_sense_from_errno((int)-ret, &sense);
    if (status == OB_SCSI_CHECK_CONDITION) {
        hd_fail(r, sense);
    } else {
        ob_scsi_req_complete(&r->req, status);
    }
    return false;
}

/* ---- I/O with the zombie barrier ----------------------------------------- */

static void hd_io(struct scsi_hd_req *r, hd_io_fn *fn, hd_then_fn *then);

static void hd_unpark_all(struct scsi_hd *s)
{
    struct scsi_hd_req *list = s->parked_head;

    s->parked_head = s->parked_tail = NULL;
    while (list) {
        struct scsi_hd_req *r = list;

        list = r->parked_next;
        r->parked_next = NULL;
        r->state = HD_IDLE;
        hd_io(r, r->parked_io, r->io_then);
        ob_scsi_req_unref(&r->req);     /* the park's reference */
    }
}

static void hd_io_done(void *opaque, int64_t ret)
{
    struct scsi_hd_req *r = opaque;
    struct scsi_hd *s = hd_of(r);

    r->state = HD_IDLE;
    if (r->zombie) {
        r->zombie = false;
        if (--s->zombies == 0 && !s->quiesced) {
            hd_unpark_all(s);
        }
    }
    if (!r->req.io_canceled) {
        r->io_then(r, ret);
    }
    ob_scsi_req_unref(&r->req);         /* the I/O's reference */
}

/* Starts FN's I/O (then THEN from the loop), or parks R behind zombies. */
static void hd_io(struct scsi_hd_req *r, hd_io_fn *fn, hd_then_fn *then)
{
    struct scsi_hd *s = hd_of(r);
    int rc;

    r->io_then = then;
    if (s->zombies > 0 || s->quiesced) {
        r->parked_io = fn;
        r->state = HD_PARKED;
        ob_scsi_req_ref(&r->req);
        if (s->parked_tail) {
            s->parked_tail->parked_next = r;
        } else {
            s->parked_head = r;
        }
        s->parked_tail = r;
        return;
    }
    ob_scsi_req_ref(&r->req);
    r->state = HD_IO;
    rc = fn(r);
    if (rc < 0) {
        r->state = HD_IDLE;
        then(r, rc);
        ob_scsi_req_unref(&r->req);
    }
}

static void hd_unpark_one(struct scsi_hd *s, struct scsi_hd_req *r)
{
    struct scsi_hd_req **p;

    for (p = &s->parked_head; *p; p = &(*p)->parked_next) {
        if (*p == r) {
            *p = r->parked_next;
            break;
        }
    }
    s->parked_tail = NULL;
    for (p = &s->parked_head; *p; p = &(*p)->parked_next) {
        s->parked_tail = *p;
    }
    r->parked_next = NULL;
    r->state = HD_IDLE;
    ob_scsi_req_unref(&r->req);
}

static int io_flush(struct scsi_hd_req *r)
{
    return ob_drive_flush(hd_of(r)->drive, hd_io_done, r);
}

static int io_read(struct scsi_hd_req *r)
{
    struct scsi_hd *s = hd_of(r);

    return ob_drive_preadv(s->drive, r->lba * s->bs, &r->iov, 1, hd_io_done, r);
}

static int io_write(struct scsi_hd_req *r)
{
    struct scsi_hd *s = hd_of(r);

    return ob_drive_pwritev(s->drive, r->lba * s->bs, &r->iov, 1, r->fua,
                            hd_io_done, r);
}

/* ---- emulated commands: data in and out ------------------------------- */

static void step_good(struct scsi_hd_req *r)
{
    hd_good(r);
}

static void step_send(struct scsi_hd_req *r)
{
    r->next_step = step_good;
    ob_scsi_req_data(&r->req, r->buf, (uint32_t)r->req.xfer_len);
}

/* The response is in r->buf: all of the allocation length goes out, zero
 * padded, as QEMU does. */
static int32_t emu_in(struct scsi_hd_req *r)
{
    if (r->req.xfer_len == 0) {
        hd_good(r);
        return 0;
    }
    r->next_step = step_send;
    return (int32_t)r->req.xfer_len;
}

static void step_run_out(struct scsi_hd_req *r)
{
    r->out_process(r);
}

static void step_ask_out(struct scsi_hd_req *r)
{
    r->next_step = step_run_out;
    ob_scsi_req_data(&r->req, r->buf, (uint32_t)r->req.xfer_len);
}

/* Asks for the parameter list (the next continue), then runs PROCESS on it
 * (the one after). */
static int32_t emu_out(struct scsi_hd_req *r, hd_step_fn *process)
{
    if (r->req.xfer_len == 0) {
        hd_good(r);
        return 0;
    }
    r->out_process = process;
    r->next_step = step_ask_out;
    return -(int32_t)r->req.xfer_len;
}

/* ---- per-command start functions --------------------------------------- */

static bool range_ok(struct scsi_hd *s, uint64_t lba, uint64_t n)
{
    uint64_t blocks = scsi_hd_blocks(s);

    return lba <= blocks && n <= blocks - lba;
}

static int32_t cmd_test_unit_ready(struct scsi_hd_req *r)
{
    hd_good(r);
    return 0;
}

static int32_t cmd_request_sense(struct scsi_hd_req *r)
{
    /* Stored sense is answered by the bus; here there is none. */
    ob_scsi_convert_sense(NULL, 0, r->buf, r->buf_cap, (r->req.cdb[1] & 1) == 0);
    return emu_in(r);
}

static int32_t cmd_inquiry(struct scsi_hd_req *r)
{
    struct scsi_hd *s = hd_of(r);

    if (scsi_hd_inquiry(s, r->req.cdb, (uint32_t)r->req.xfer_len, r->req.bus->tcq,
                        r->buf) < 0) {
        hd_fail(r, OB_SENSE_INVALID_FIELD);
        return 0;
    }
    return emu_in(r);
}

static int32_t cmd_mode_sense(struct scsi_hd_req *r)
{
    int rc = scsi_hd_mode_sense(hd_of(r), r->req.cdb, r->buf);

    if (rc == -2) {
        hd_fail(r, OB_SENSE_SAVING_PARAMS_NOT_SUPPORTED);
        return 0;
    }
    if (rc < 0) {
        hd_fail(r, OB_SENSE_INVALID_FIELD);
        return 0;
    }
    return emu_in(r);
}

static int32_t capacity_result(struct scsi_hd_req *r, int rc)
{
    if (rc == SCSI_HD_NOT_READY) {
        hd_fail(r, OB_SENSE_LUN_NOT_READY);
        return 0;
    }
    if (rc < 0) {
        hd_fail(r, OB_SENSE_INVALID_FIELD);
        return 0;
    }
    return emu_in(r);
}

static int32_t cmd_read_capacity10(struct scsi_hd_req *r)
{
    return capacity_result(r, scsi_hd_read_capacity10(hd_of(r), r->req.cdb, r->buf));
}

static int32_t cmd_service_action_in(struct scsi_hd_req *r)
{
    return capacity_result(r, scsi_hd_read_capacity16(hd_of(r), r->req.cdb, r->buf));
}

static int32_t cmd_start_stop(struct scsi_hd_req *r)
{
    struct scsi_hd *s = hd_of(r);
    uint8_t b4 = r->req.cdb[4];
    bool start = b4 & 1, loej = b4 & 2;

    if ((b4 & 0xf0) == 0 && s->removable && loej && !start && s->tray_locked) {
        hd_fail(r, OB_SENSE_REMOVAL_PREVENTED);
        return 0;
    }
    hd_good(r);
    return 0;
}

static int32_t cmd_prevent_allow(struct scsi_hd_req *r)
{
    hd_of(r)->tray_locked = r->req.cdb[4] & 1;
    hd_good(r);
    return 0;
}

static int32_t cmd_reserve_release(struct scsi_hd_req *r)
{
    /* Third-party reservations (and extents) are not supported. */
    uint8_t mask = (r->req.cdb[0] == 0x16 || r->req.cdb[0] == 0x17) ? 1 : 3;

    if (r->req.cdb[1] & mask) {
        hd_fail(r, OB_SENSE_INVALID_FIELD);
        return 0;
    }
    hd_good(r);
    return 0;
}

static int32_t cmd_seek(struct scsi_hd_req *r)
{
    if (ob_scsi_cdb_lba(r->req.cdb) > hd_of(r)->max_lba) {
        hd_fail(r, OB_SENSE_LBA_OUT_OF_RANGE);
        return 0;
    }
    hd_good(r);
    return 0;
}

static int32_t cmd_verify(struct scsi_hd_req *r)
{
    const uint8_t *c = r->req.cdb;

    /* QEMU's scsi-hd checks nothing else: no medium access, no range
     * check (any LBA is GOOD). */
    if (c[1] & 6) {
        hd_fail(r, OB_SENSE_INVALID_FIELD);     /* BYTCHK: not on scsi-hd */
        return 0;
    }
    hd_good(r);
    return 0;
}

static void then_good(struct scsi_hd_req *r, int64_t ret)
{
    if (hd_io_ok(r, ret, false)) {
        hd_good(r);
    }
}

static int32_t cmd_sync_cache(struct scsi_hd_req *r)
{
    /* Completes once every write completed before it is durable. */
    hd_io(r, io_flush, then_good);
    return 0;
}

static void process_format(struct scsi_hd_req *r)
{
    hd_good(r);
}

static int32_t cmd_format_unit(struct scsi_hd_req *r)
{
    return emu_out(r, process_format);
}

/* ---- MODE SELECT ---------------------------------------------------------- */

/* QEMU's check: a page must be as long as ours and change only changeable
 * bits. */
static int mode_select_check(struct scsi_hd *s, unsigned page, const uint8_t *in,
                             uint32_t inlen)
{
    uint8_t cur[256], chg[256];
    int len;
    uint32_t i;

    if (page == 0x3f || inlen + 2 > sizeof(cur)) {
        return -1;
    }
    memset(cur, 0, sizeof(cur));
    memset(chg, 0, sizeof(chg));
    len = scsi_hd_mode_page(s, page, 0, cur);
    if (len < 0 || (uint32_t)len != inlen + 2) {
        return -1;
    }
    scsi_hd_mode_page(s, page, 1, chg);
    for (i = 2; i < (uint32_t)len; i++) {
        if ((cur[i] ^ in[i - 2]) & ~chg[i]) {
            return -1;
        }
    }
    return 0;
}

static void mode_select_apply(struct scsi_hd *s, unsigned page, const uint8_t *p)
{
    if (page == 0x08) {
        s->wce = (p[0] & 0x04) != 0;
    }
}

/* Walks the pages; with CHANGE applies them, else validates. 0 or -1 (failed). */
static int mode_select_pages(struct scsi_hd_req *r, const uint8_t *p, uint32_t len,
                             bool change)
{
    struct scsi_hd *s = hd_of(r);

    while (len > 0) {
        unsigned page = p[0] & 0x3f, subpage = 0;
        uint32_t plen;

        if (p[0] & 0x40) {
            if (len < 4) {
                goto bad_len;
            }
            subpage = p[1];
            plen = be16_at(p + 2);
            p += 4;
            len -= 4;
        } else {
            if (len < 2) {
                goto bad_len;
            }
            plen = p[1];
            p += 2;
            len -= 2;
        }
        if (subpage) {
            goto bad_param;
        }
        if (plen > len) {
            goto bad_len;
        }
        if (!change && mode_select_check(s, page, p, plen) < 0) {
            goto bad_param;
        }
        if (change) {
            mode_select_apply(s, page, p);
        }
        p += plen;
        len -= plen;
    }
    return 0;
bad_len:
    hd_fail(r, OB_SENSE_INVALID_PARAM_LEN);
    return -1;
bad_param:
    hd_fail(r, OB_SENSE_INVALID_PARAM);
    return -1;
}

/* A block descriptor may change the block size, as QEMU lets it: any
 * multiple of 512 up to 65024 (only bits 9-15 set); anything else is
 * ignored, in particular sizes below 512 (CVE-2023-42467). */
static void mode_select_block_size(struct scsi_hd *s, const uint8_t *bd)
{
    uint32_t bs = (uint32_t)bd[5] << 16 | (uint32_t)bd[6] << 8 | bd[7];

    if (bs != 0 && (bs & ~0xfe00u) == 0 && bs != s->bs) {
        s->bs = bs;
        s->sdev.blocksize = bs;
    }
}

static void process_mode_select(struct scsi_hd_req *r)
{
    struct scsi_hd *s = hd_of(r);
    const uint8_t *p = r->buf;
    bool six = r->req.cdb[0] == 0x15;
    uint32_t len = (uint32_t)r->req.xfer_len, hdr = six ? 4 : 8, bd;

    if ((r->req.cdb[1] & 0x11) != 0x10) {
        hd_fail(r, OB_SENSE_INVALID_FIELD);     /* only PF=1, SP=0 */
        return;
    }
    if (len < hdr) {
        hd_fail(r, OB_SENSE_INVALID_PARAM_LEN);
        return;
    }
    bd = six ? p[3] : be16_at(p + 6);
    len -= hdr;
    p += hdr;
    if (len < bd) {
        hd_fail(r, OB_SENSE_INVALID_PARAM_LEN);
        return;
    }
    if (bd != 0 && bd != 8) {
        hd_fail(r, OB_SENSE_INVALID_PARAM);
        return;
    }
    if (mode_select_pages(r, p + bd, len - bd, false) < 0) {
        return;
    }
    if (bd) {
        mode_select_block_size(s, p);
    }
    mode_select_pages(r, p + bd, len - bd, true);
    if (!s->wce) {
        /* Write cache off: what it held must be on the disk now. */
        hd_io(r, io_flush, then_good);
        return;
    }
    hd_good(r);
}

static int32_t cmd_mode_select(struct scsi_hd_req *r)
{
    return emu_out(r, process_mode_select);
}

/* ---- UNMAP and WRITE SAME ------------------------------------------------ */

static void unmap_next(struct scsi_hd_req *r);

static int io_discard(struct scsi_hd_req *r)
{
    struct scsi_hd *s = hd_of(r);

    return ob_drive_discard(s->drive, r->lba * s->bs, r->left * s->bs, hd_io_done, r);
}

static void then_unmap(struct scsi_hd_req *r, int64_t ret)
{
    if (hd_io_ok(r, ret, false)) {
        r->unmap_next++;
        unmap_next(r);
    }
}

/* Discards the descriptors one after the other, as QEMU does. */
static void unmap_next(struct scsi_hd_req *r)
{
    const uint8_t *d;

    if (r->unmap_next >= r->unmap_count) {
        hd_good(r);
        return;
    }
    d = r->buf + 8 + 16 * r->unmap_next;
    r->lba = be64_at(d);
    r->left = be32_at(d + 8);       /* in blocks here */
    if (!range_ok(hd_of(r), r->lba, r->left)) {
        hd_fail(r, OB_SENSE_LBA_OUT_OF_RANGE);
        return;
    }
    hd_io(r, io_discard, then_unmap);
}

static void process_unmap(struct scsi_hd_req *r)
{
    const uint8_t *p = r->buf;
    uint32_t len = (uint32_t)r->req.xfer_len;

    if (len < 8 || len < be16_at(p) + 2 || len < be16_at(p + 2) + 8 ||
        (be16_at(p + 2) & 15)) {
        hd_fail(r, OB_SENSE_INVALID_PARAM_LEN);
        return;
    }
    if (hd_of(r)->drive->readonly) {
        hd_fail(r, OB_SENSE_WRITE_PROTECTED);
        return;
    }
    r->unmap_next = 0;
    r->unmap_count = be16_at(p + 2) >> 4;
    unmap_next(r);
}

static int32_t cmd_unmap(struct scsi_hd_req *r)
{
    if (r->req.cdb[1] & 1) {
        hd_fail(r, OB_SENSE_INVALID_FIELD);     /* ANCHOR */
        return 0;
    }
    return emu_out(r, process_unmap);
}

static int io_zeroes(struct scsi_hd_req *r)
{
    struct scsi_hd *s = hd_of(r);
    unsigned flags = (r->req.cdb[1] & 0x08) ? OB_ZEROES_MAY_UNMAP : 0;

    return ob_drive_pwrite_zeroes(s->drive, r->lba * s->bs, r->left, flags,
                                  hd_io_done, r);
}

static void write_same_chunk(struct scsi_hd_req *r);

/*
 * A chunk written: RET checked, the request moved past the chunk. Returns
 * true if more is left to write; otherwise the request has completed (GOOD,
 * or with the sense of the error).
 */
static bool write_chunk_done(struct scsi_hd_req *r, int64_t ret)
{
    if (!hd_io_ok(r, ret, false)) {
        return false;
    }
    r->left -= r->chunk;
    r->lba += r->chunk / hd_of(r)->bs;
    if (r->left == 0) {
        hd_good(r);
        return false;
    }
    return true;
}

static void then_write_same(struct scsi_hd_req *r, int64_t ret)
{
    if (write_chunk_done(r, ret)) {
        write_same_chunk(r);
    }
}

static void write_same_chunk(struct scsi_hd_req *r)
{
    r->chunk = r->left < r->buf_cap ? (uint32_t)r->left : r->buf_cap;
    r->iov.iov_base = r->buf;
    r->iov.iov_len = r->chunk;
    hd_io(r, io_write, then_write_same);
}

static bool all_zero(const uint8_t *p, uint32_t len)
{
    uint32_t i;

    for (i = 0; i < len; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

/* The block arrived: zeroes go to the block layer as such, anything else is
 * replicated into a buffer of at most SCSI_HD_CHUNK and written out. */
static void process_write_same(struct scsi_hd_req *r)
{
    struct scsi_hd *s = hd_of(r);
    uint32_t bs = s->bs, cap, i;
    uint8_t *block;

    if (all_zero(r->buf, bs)) {
        hd_io(r, io_zeroes, then_good);
        return;
    }
    cap = hd_chunk_cap(s, r->left);
    block = malloc(bs);
    if (!block) {
        hd_fail(r, OB_SENSE_TARGET_FAILURE);
        return;
    }
    memcpy(block, r->buf, bs);
    if (hd_buf(r, cap) < 0) {
        free(block);
        hd_fail(r, OB_SENSE_TARGET_FAILURE);
        return;
    }
    for (i = 0; i < cap; i += bs) {
        memcpy(r->buf + i, block, bs);
    }
    free(block);
    r->buf_cap = cap;
    write_same_chunk(r);
}

static int32_t cmd_write_same(struct scsi_hd_req *r)
{
    struct scsi_hd *s = hd_of(r);
    const uint8_t *c = r->req.cdb;
    uint64_t n = c[0] == 0x41 ? be16_at(c + 7) : be32_at(c + 10);

    if (n == 0 || (c[1] & 0x16)) {
        hd_fail(r, OB_SENSE_INVALID_FIELD);     /* PBDATA, LBDATA, ANCHOR */
        return 0;
    }
    if (s->drive->readonly) {
        hd_fail(r, OB_SENSE_WRITE_PROTECTED);
        return 0;
    }
    r->lba = ob_scsi_cdb_lba(c);
    if (!range_ok(s, r->lba, n)) {
        hd_fail(r, OB_SENSE_LBA_OUT_OF_RANGE);
        return 0;
    }
    r->left = n * s->bs;
    r->fua = !s->wce;
    if (c[1] & 1) {
        hd_io(r, io_zeroes, then_good);         /* NDOB: no data, zeroes */
        return 0;
    }
    return emu_out(r, process_write_same);
}

/* ---- READ and WRITE ------------------------------------------------------ */

static bool has_fua_bit(uint8_t op)
{
    return op != 0x08 && op != 0x0a;            /* not READ(6)/WRITE(6) */
}

static bool is_write_verify(uint8_t op)
{
    return op == 0x2e || op == 0xae || op == 0x8e;
}

/* Checks a READ/WRITE CDB; fills r->lba/left. False when R has failed. */
static bool rw_check(struct scsi_hd_req *r, uint64_t *blocks)
{
    struct scsi_hd *s = hd_of(r);
    const uint8_t *c = r->req.cdb;

    /* RD/WRPROTECT: no protection information. SCSI-2 and older CDBs have
     * no such field there (scsi_version), so the bits are not checked. */
    if (s->scsi_version > 2 && has_fua_bit(c[0]) && (c[1] & 0xe0)) {
        hd_fail(r, OB_SENSE_INVALID_FIELD);
        return false;
    }
    *blocks = ob_scsi_cdb_blocks(c);
    r->lba = ob_scsi_cdb_lba(c);
    if (!range_ok(s, r->lba, *blocks)) {
        hd_fail(r, OB_SENSE_LBA_OUT_OF_RANGE);
        return false;
    }
    r->left = *blocks * s->bs;
    return true;
}

static int rw_buffer(struct scsi_hd_req *r)
{
    uint32_t cap = hd_chunk_cap(hd_of(r), r->left);

    if (hd_buf(r, cap) < 0) {
        hd_fail(r, OB_SENSE_TARGET_FAILURE);
        return -1;
    }
    r->chunk = r->left < r->buf_cap ? (uint32_t)r->left : r->buf_cap;
    r->iov.iov_base = r->buf;
    r->iov.iov_len = r->chunk;
    return 0;
}

static void read_chunk(struct scsi_hd_req *r);

static void then_read(struct scsi_hd_req *r, int64_t ret)
{
    if (!hd_io_ok(r, ret, true)) {
        return;
    }
    r->left -= r->chunk;
    r->lba += r->chunk / hd_of(r)->bs;
    r->next_step = r->left ? read_chunk : step_good;
    ob_scsi_req_data(&r->req, r->buf, r->chunk);
}

static void read_chunk(struct scsi_hd_req *r)
{
    if (rw_buffer(r) < 0) {
        return;
    }
    hd_io(r, io_read, then_read);
}

static void then_read_flush(struct scsi_hd_req *r, int64_t ret)
{
    if (hd_io_ok(r, ret, true)) {
        read_chunk(r);
    }
}

static void read_first(struct scsi_hd_req *r)
{
    if (r->fua) {
        hd_io(r, io_flush, then_read_flush);    /* FUA read: flush first */
        return;
    }
    read_chunk(r);
}

static int32_t cmd_read(struct scsi_hd_req *r)
{
    uint64_t blocks;

    if (!rw_check(r, &blocks)) {
        return 0;
    }
    if (blocks == 0) {
        hd_good(r);
        return 0;
    }
    r->fua = has_fua_bit(r->req.cdb[0]) && (r->req.cdb[1] & 0x08);
    r->next_step = read_first;
    return (int32_t)r->left;
}

static void write_ask(struct scsi_hd_req *r);

static void then_write(struct scsi_hd_req *r, int64_t ret)
{
    if (write_chunk_done(r, ret)) {
        write_ask(r);
    }
}

/* The HBA filled the buffer: write it. */
static void write_chunk(struct scsi_hd_req *r)
{
    hd_io(r, io_write, then_write);
}

/* Asks the HBA for the next chunk of data. */
static void write_ask(struct scsi_hd_req *r)
{
    if (rw_buffer(r) < 0) {
        return;
    }
    r->next_step = write_chunk;
    ob_scsi_req_data(&r->req, r->buf, r->chunk);
}

static int32_t cmd_write(struct scsi_hd_req *r)
{
    struct scsi_hd *s = hd_of(r);
    const uint8_t *c = r->req.cdb;
    uint64_t blocks;

    if (s->drive->readonly) {
        hd_fail(r, OB_SENSE_WRITE_PROTECTED);
        return 0;
    }
    if (!rw_check(r, &blocks)) {
        return 0;
    }
    if (blocks == 0) {
        hd_good(r);
        return 0;
    }
    r->fua = (has_fua_bit(c[0]) && (c[1] & 0x08)) || is_write_verify(c[0]) || !s->wce;
    r->next_step = write_ask;
    return -(int32_t)r->left;
}

/* ---- dispatch ------------------------------------------------------------- */

typedef int32_t hd_cmd_fn(struct scsi_hd_req *r);

/* Commands by opcode; empty entries are INVALID COMMAND OPERATION CODE. */
static hd_cmd_fn *const hd_cmds[256] = {
    [0x00] = cmd_test_unit_ready,
    [0x03] = cmd_request_sense,
    [0x04] = cmd_format_unit,
    [0x08] = cmd_read,                  /* READ(6) */
    [0x0a] = cmd_write,                 /* WRITE(6) */
    [0x12] = cmd_inquiry,
    [0x15] = cmd_mode_select,           /* MODE SELECT(6) */
    [0x16] = cmd_reserve_release,       /* RESERVE(6) */
    [0x17] = cmd_reserve_release,       /* RELEASE(6) */
    [0x1a] = cmd_mode_sense,            /* MODE SENSE(6) */
    [0x1b] = cmd_start_stop,
    [0x1e] = cmd_prevent_allow,
    [0x25] = cmd_read_capacity10,
    [0x28] = cmd_read,                  /* READ(10) */
    [0x2a] = cmd_write,                 /* WRITE(10) */
    [0x2b] = cmd_seek,                  /* SEEK(10) */
    [0x2e] = cmd_write,                 /* WRITE AND VERIFY(10) */
    [0x2f] = cmd_verify,                /* VERIFY(10) */
    [0x35] = cmd_sync_cache,            /* SYNCHRONIZE CACHE(10) */
    [0x41] = cmd_write_same,            /* WRITE SAME(10) */
    [0x42] = cmd_unmap,
    [0x55] = cmd_mode_select,           /* MODE SELECT(10) */
    [0x56] = cmd_reserve_release,       /* RESERVE(10) */
    [0x57] = cmd_reserve_release,       /* RELEASE(10) */
    [0x5a] = cmd_mode_sense,            /* MODE SENSE(10) */
    [0x88] = cmd_read,                  /* READ(16) */
    [0x8a] = cmd_write,                 /* WRITE(16) */
    [0x8e] = cmd_write,                 /* WRITE AND VERIFY(16) */
    [0x8f] = cmd_verify,                /* VERIFY(16) */
    [0x91] = cmd_sync_cache,            /* SYNCHRONIZE CACHE(16) */
    [0x93] = cmd_write_same,            /* WRITE SAME(16) */
    [0x9e] = cmd_service_action_in,     /* READ CAPACITY(16) */
    [0xa8] = cmd_read,                  /* READ(12) */
    [0xaa] = cmd_write,                 /* WRITE(12) */
    [0xae] = cmd_write,                 /* WRITE AND VERIFY(12) */
    [0xaf] = cmd_verify,                /* VERIFY(12) */
};

static bool is_dma_cmd(hd_cmd_fn *fn)
{
    return fn == cmd_read || fn == cmd_write;
}

static int hd_parse_cdb(struct ob_scsi_dev *d, struct ob_scsi_req *req)
{
    ob_scsi_cdb_xfer(req->cdb, ((struct scsi_hd *)d)->bs, &req->xfer_len, &req->mode);
    return 0;
}

static int32_t hd_start(struct ob_scsi_req *req)
{
    struct scsi_hd_req *r = (struct scsi_hd_req *)req;
    struct scsi_hd *s = hd_of(r);
    hd_cmd_fn *fn = hd_cmds[req->cdb[0]];

    ob_logc(hd_log(s), OB_LOGC_DEVICE, "%s: tag %#x cdb %02x %02x %02x %02x %02x %02x, "
            "%llu bytes", hd_name(s), req->tag, req->cdb[0], req->cdb[1], req->cdb[2],
            req->cdb[3], req->cdb[4], req->cdb[5], (unsigned long long)req->xfer_len);
    if (!fn) {
        hd_fail(r, OB_SENSE_INVALID_OPCODE);
        return 0;
    }
    if (!is_dma_cmd(fn)) {
        if (req->xfer_len > SCSI_HD_MAX_EMU_LEN) {
            hd_fail(r, OB_SENSE_INVALID_FIELD);
            return 0;
        }
        if (hd_buf(r, req->xfer_len > 512 ? (uint32_t)req->xfer_len : 512) < 0) {
            hd_fail(r, OB_SENSE_TARGET_FAILURE);
            return 0;
        }
    }
    return fn(r);
}

static void hd_continue(struct ob_scsi_req *req)
{
    struct scsi_hd_req *r = (struct scsi_hd_req *)req;
    hd_step_fn *step = r->next_step;

    if (!step || r->state != HD_IDLE) {
        return;     /* I/O in flight: its completion moves on */
    }
    r->next_step = NULL;    /* the step sets the one after it */
    ob_scsi_req_ref(req);
    step(r);
    ob_scsi_req_unref(req);
}

static void hd_cancel(struct ob_scsi_req *req)
{
    struct scsi_hd_req *r = (struct scsi_hd_req *)req;
    struct scsi_hd *s = hd_of(r);

    r->next_step = NULL;
    if (r->state == HD_IO && !r->zombie) {
        r->zombie = true;
        s->zombies++;
    } else if (r->state == HD_PARKED) {
        hd_unpark_one(s, r);
    }
}

static void hd_free_req(struct ob_scsi_req *req)
{
    struct scsi_hd_req *r = (struct scsi_hd_req *)req;
    struct scsi_hd *s = hd_of(r);

    /* keep one full-chunk buffer (the size malloc serves with mmap) */
    if (r->buf && r->buf_cap == SCSI_HD_CHUNK && !s->spare_buf) {
        s->spare_buf = r->buf;
        s->spare_cap = r->buf_cap;
    } else {
        free(r->buf);
    }
    r->buf = NULL;
}

static void hd_reset(struct ob_scsi_dev *d)
{
    struct scsi_hd *s = (struct scsi_hd *)d;
    uint64_t blocks;

    ob_scsi_dev_purge(d);
    ob_scsi_dev_set_ua(d, OB_SENSE_RESET);
    blocks = scsi_hd_blocks(s);
    s->max_lba = blocks ? blocks - 1 : 0;
    s->tray_locked = false;
}

/* Run state: I/O in flight completes, new I/O waits until resume. */
static void scsi_hd_quiesce(struct ob_device *dev)
{
    ((struct scsi_hd *)dev)->quiesced = true;
}

static void scsi_hd_resume(struct ob_device *dev)
{
    struct scsi_hd *s = (struct scsi_hd *)dev;

    s->quiesced = false;
    if (s->zombies == 0) {
        hd_unpark_all(s);
    }
}

static const struct ob_scsi_dev_ops scsi_hd_ops = {
    .parse_cdb = hd_parse_cdb,
    .start = hd_start,
    .continue_req = hd_continue,
    .cancel = hd_cancel,
    .reset = hd_reset,
    .req_size = sizeof(struct scsi_hd_req),
    .free_req = hd_free_req,
};

/* ---- realize ------------------------------------------------------------- */

static int check_drive(struct scsi_hd *s, char *err, size_t errlen)
{
    if (!s->drive_id) {
        snprintf(err, errlen, "drive property not set");
        return -1;
    }
    s->drive = ob_drive_find(s->sdev.dev.ctx, s->drive_id);
    if (!s->drive) {
        snprintf(err, errlen, "Property 'scsi-hd.drive' can't find value '%s'",
                 s->drive_id);
        return -1;
    }
    if (s->drive->attached) {
        snprintf(err, errlen, "Drive '%s' is already in use by another device",
                 s->drive_id);
        s->drive = NULL;
        return -1;
    }
    return 0;
}

static bool pow2_between(uint32_t v, uint32_t lo, uint32_t hi)
{
    return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

static int check_chs(const struct scsi_hd *s, char *err, size_t errlen)
{
    if (!s->cyls && !s->heads && !s->secs) {
        return 0;
    }
    if (s->cyls < 1 || s->cyls > 65535) {
        snprintf(err, errlen, "cyls must be between 1 and 65535");
        return -1;
    }
    if (s->heads < 1 || s->heads > 255) {
        snprintf(err, errlen, "heads must be between 1 and 255");
        return -1;
    }
    if (s->secs < 1 || s->secs > 255) {
        snprintf(err, errlen, "secs must be between 1 and 255");
        return -1;
    }
    return 0;
}

/* Unset block sizes: 512, and the logical size (QEMU 7.2 takes a backend's
 * block sizes only from s390 DASDs, never on x86). backend_defaults=on:
 * an unset discard_granularity follows the backend, its request alignment
 * (O_DIRECT) when that is not 1. */
static void apply_backend_defaults(struct scsi_hd *s)
{
    if (s->logical_block_size == 0) {
        s->logical_block_size = 512;
    }
    if (s->backend_defaults == OB_ON && s->discard_granularity == UINT32_MAX &&
        s->drive->align > 1) {
        s->discard_granularity = s->drive->align;
    }
}

/* min_io_size, opt_io_size and discard_granularity: multiples of the
 * logical block size (QEMU's blkconf_blocksizes rule). */
static int check_io_sizes(const struct scsi_hd *s, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        size_t off;
    } f[] = {
        { "min_io_size", offsetof(struct scsi_hd, min_io_size) },
        { "opt_io_size", offsetof(struct scsi_hd, opt_io_size) },
        { "discard_granularity", offsetof(struct scsi_hd, discard_granularity) },
    };
    size_t i;

    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        uint32_t v = *(const uint32_t *)(const void *)((const uint8_t *)s + f[i].off);

        if (v != UINT32_MAX && v % s->logical_block_size) {
            snprintf(err, errlen, "%s must be a multiple of logical_block_size",
                     f[i].name);
            return -1;
        }
    }
    return 0;
}

/* Device-level werror=/rerror=: auto keeps the drive's policy, anything
 * else replaces it (on the drive, as QEMU sets it on the BlockBackend).
 * Parsed into W and R here; set on the drive once the device is attached. */
static int parse_error_policies(const struct scsi_hd *s, enum ob_drive_errpolicy *w,
                                enum ob_drive_errpolicy *r, char *err, size_t errlen)
{
    *w = s->drive->werror;
    *r = s->drive->rerror;
    if (strcmp(s->werror, "auto") != 0 &&
        ob_drive_parse_errpol("werror", s->werror, w, err, errlen) < 0) {
        return -1;
    }
    if (strcmp(s->rerror, "auto") != 0 &&
        ob_drive_parse_errpol("rerror", s->rerror, r, err, errlen) < 0) {
        return -1;
    }
    return 0;
}

static int check_props(struct scsi_hd *s, char *err, size_t errlen)
{
    apply_backend_defaults(s);
    if (!pow2_between(s->logical_block_size, 512, 32768)) {
        snprintf(err, errlen, "Property 'scsi-hd.logical_block_size' doesn't take "
                 "value '%u' (a power of 2 between 512 and 32768)",
                 s->logical_block_size);
        return -1;
    }
    if (s->physical_block_size == 0) {
        s->physical_block_size = s->logical_block_size;
    }
    if (!pow2_between(s->physical_block_size, s->logical_block_size, 1u << 20)) {
        snprintf(err, errlen, "physical_block_size must be a power of 2 not smaller "
                 "than logical_block_size");
        return -1;
    }
    if (s->serial && strlen(s->serial) > SCSI_HD_MAX_SERIAL) {
        snprintf(err, errlen, "The serial number can't be longer than %d characters",
                 SCSI_HD_MAX_SERIAL);
        return -1;
    }
    if (s->rotation_rate > 0xffff) {
        snprintf(err, errlen, "Property 'scsi-hd.rotation_rate' expects uint16");
        return -1;
    }
    if (strcmp(s->write_cache, "on") != 0 && strcmp(s->write_cache, "off") != 0 &&
        strcmp(s->write_cache, "auto") != 0) {
        snprintf(err, errlen, "Parameter 'write-cache' expects 'on', 'off' or 'auto'");
        return -1;
    }
    if (check_io_sizes(s, err, errlen) < 0) {
        return -1;
    }
    return check_chs(s, err, errlen);
}

/* QEMU's hd_geometry_guess: the MBR's CHS if it has one with <= 16 heads,
 * else 16 heads, 63 sectors and as many cylinders as fit (2..16383). */
static void guess_geometry(struct scsi_hd *s)
{
    uint64_t sectors = s->drive->size / 512;
    uint8_t mbr[512];
    int i;

    if (s->cyls || s->heads || s->secs) {
        return;
    }
    if (ob_drive_read_sync(s->drive, 0, mbr, sizeof(mbr)) == 0 && mbr[510] == 0x55 &&
        mbr[511] == 0xaa) {
        for (i = 0; i < 4; i++) {
            const uint8_t *p = mbr + 0x1be + 16 * i;
            uint32_t nr = (uint32_t)p[12] | (uint32_t)p[13] << 8 |
                          (uint32_t)p[14] << 16 | (uint32_t)p[15] << 24;
            uint32_t heads = p[5] + 1u, secs = p[6] & 63u;
            uint64_t cyls;

            if (!nr || !p[5] || !secs) {
                continue;
            }
            cyls = sectors / (heads * secs);
            if (cyls < 1 || cyls > 16383) {
                continue;
            }
            if (heads <= 16) {
                s->cyls = (uint32_t)cyls;
                s->heads = heads;
                s->secs = secs;
                return;
            }
            break;      /* a translated geometry: use the standard one */
        }
    }
    s->cyls = sectors / (16 * 63) > 16383 ? 16383 :
              sectors / (16 * 63) < 2 ? 2 : (uint32_t)(sectors / (16 * 63));
    s->heads = 16;
    s->secs = 63;
}

static int scsi_hd_realize(struct ob_device *dev, char *err, size_t errlen)
{
    struct scsi_hd *s = (struct scsi_hd *)dev;
    enum ob_drive_errpolicy werror, rerror;
    uint64_t blocks;

    if (check_drive(s, err, errlen) < 0 || check_props(s, err, errlen) < 0 ||
        parse_error_policies(s, &werror, &rerror, err, errlen) < 0) {
        s->drive = NULL;
        return -1;
    }
    s->bs = s->logical_block_size;
    s->sdev.blocksize = s->bs;
    s->sdev.ops = &scsi_hd_ops;
    if (ob_scsi_dev_attach(&s->sdev, err, errlen) < 0) {
        s->drive = NULL;
        return -1;
    }
    s->drive->attached = dev;
    s->drive->werror = werror;
    s->drive->rerror = rerror;
    if (!s->device_id) {
        /* QEMU: the serial, else the drive's name */
        s->device_id = strdup(s->serial ? s->serial : s->drive->id);
    }
    s->wce = strcmp(s->write_cache, "on") == 0 ||
             (strcmp(s->write_cache, "auto") == 0 && !s->drive->dsync);
    guess_geometry(s);
    blocks = scsi_hd_blocks(s);
    s->max_lba = blocks ? blocks - 1 : 0;
    /* Power on: the first command (but INQUIRY/REPORT LUNS) reports it. */
    ob_scsi_dev_set_ua(&s->sdev, OB_SENSE_POWER_ON);
    ob_info(hd_log(s), "%s: drive %s on %s, target %u lun %u, %llu blocks of %u bytes%s",
            hd_name(s), s->drive->id, s->sdev.bus->name, s->sdev.id, s->sdev.lun,
            (unsigned long long)blocks, s->bs, s->drive->readonly ? ", read-only" : "");
    return 0;
}

static void scsi_hd_unrealize(struct ob_device *dev)
{
    struct scsi_hd *s = (struct scsi_hd *)dev;

    ob_scsi_dev_detach(&s->sdev);
    if (s->drive) {
        /* Cancelled requests may still have I/O in flight: let it land. */
        ob_drive_drain(s->drive);
        s->drive->attached = NULL;
        s->drive = NULL;
    }
    free(s->spare_buf);
    s->spare_buf = NULL;
    s->spare_cap = 0;
}

static const struct ob_prop scsi_hd_props[] = {
    { "drive", OB_PROP_STR, offsetof(struct scsi_hd, drive_id), NULL,
      "the -drive id (required)" },
    { "serial", OB_PROP_STR, offsetof(struct scsi_hd, serial), NULL,
      "unit serial number (VPD page 0x80), up to 36 characters" },
    { "wwn", OB_PROP_U64, offsetof(struct scsi_hd, wwn), NULL,
      "world wide name (NAA designator in VPD page 0x83)" },
    { "device_id", OB_PROP_STR, offsetof(struct scsi_hd, device_id), NULL,
      "VPD page 0x83 vendor-specific id (default: serial, else the drive id)" },
    { "vendor", OB_PROP_STR, offsetof(struct scsi_hd, vendor), "QEMU", NULL },
    { "product", OB_PROP_STR, offsetof(struct scsi_hd, product), "QEMU HARDDISK", NULL },
    { "ver", OB_PROP_STR, offsetof(struct scsi_hd, ver), "2.5+", "revision" },
    { "logical_block_size", OB_PROP_SIZE32, offsetof(struct scsi_hd, logical_block_size),
      "0", "a power of 2, 512 to 32768; 0: 512" },
    { "physical_block_size", OB_PROP_SIZE32,
      offsetof(struct scsi_hd, physical_block_size), "0",
      "0: the logical size" },
    { "min_io_size", OB_PROP_SIZE32, offsetof(struct scsi_hd, min_io_size), "0",
      "VPD page 0xb0 optimal transfer length granularity (bytes)" },
    { "opt_io_size", OB_PROP_SIZE32, offsetof(struct scsi_hd, opt_io_size), "0",
      "VPD page 0xb0 optimal transfer length (bytes)" },
    { "discard_granularity", OB_PROP_SIZE32,
      offsetof(struct scsi_hd, discard_granularity), "4294967295",
      "VPD page 0xb0 optimal unmap granularity (bytes); 0 disables the thin "
      "provisioning bits; 4294967295: max(4 KiB, logical_block_size)" },
    { "max_io_size", OB_PROP_U64, offsetof(struct scsi_hd, max_io_size), "2147483647",
      "VPD page 0xb0 maximum transfer and WRITE SAME length (bytes)" },
    { "max_unmap_size", OB_PROP_U64, offsetof(struct scsi_hd, max_unmap_size),
      "1073741824", "VPD page 0xb0 maximum unmap LBA count (bytes)" },
    { "port_wwn", OB_PROP_U64, offsetof(struct scsi_hd, port_wwn), "0",
      "target port NAA designator in VPD page 0x83 (0: none)" },
    { "port_index", OB_PROP_U16, offsetof(struct scsi_hd, port_index), "0",
      "relative target port designator in VPD page 0x83 (0: none)" },
    { "scsi_version", OB_PROP_I32, offsetof(struct scsi_hd, scsi_version), "5",
      "INQUIRY version byte; 2 or less: RDPROTECT/WRPROTECT bits not checked" },
    { "backend_defaults", OB_PROP_ON_OFF_AUTO,
      offsetof(struct scsi_hd, backend_defaults), "auto",
      "on: an unset discard_granularity from the O_DIRECT alignment" },
    { "werror", OB_PROP_STR, offsetof(struct scsi_hd, werror), "auto",
      "write error policy, report/ignore/enospc/auto (auto: the -drive's)" },
    { "rerror", OB_PROP_STR, offsetof(struct scsi_hd, rerror), "auto",
      "read error policy, report/ignore/enospc/auto (auto: the -drive's)" },
    { "quirk_mode_page_vendor_specific_apple", OB_PROP_BOOL,
      offsetof(struct scsi_hd, quirk_apple_vendor_page), "off",
      "MODE SENSE/SELECT accept vendor page 0 (2 bytes, for Apple's driver)" },
    { "lcyls", OB_PROP_U32, offsetof(struct scsi_hd, lcyls), "0",
      "stored only: the firmware's logical geometry is the VM's business" },
    { "lheads", OB_PROP_U32, offsetof(struct scsi_hd, lheads), "0", "stored only" },
    { "lsecs", OB_PROP_U32, offsetof(struct scsi_hd, lsecs), "0", "stored only" },
    { "bootindex", OB_PROP_I32, offsetof(struct scsi_hd, bootindex), "-1",
      "stored only: the boot order is the VM's firmware's" },
    { "share-rw", OB_PROP_BOOL, offsetof(struct scsi_hd, share_rw), "off",
      "stored only: outboard takes no image locks" },
    { "account-invalid", OB_PROP_ON_OFF_AUTO, offsetof(struct scsi_hd, account_invalid),
      "auto", "stored only: I/O statistics options are not modelled" },
    { "account-failed", OB_PROP_ON_OFF_AUTO, offsetof(struct scsi_hd, account_failed),
      "auto", "stored only: I/O statistics options are not modelled" },
    { "removable", OB_PROP_BOOL, offsetof(struct scsi_hd, removable), "off", NULL },
    { "dpofua", OB_PROP_BOOL, offsetof(struct scsi_hd, dpofua), "off",
      "advertise DPO/FUA in MODE SENSE" },
    { "write-cache", OB_PROP_STR, offsetof(struct scsi_hd, write_cache), "auto",
      "on, off, auto (off for cache=writethrough/directsync)" },
    { "rotation_rate", OB_PROP_U32, offsetof(struct scsi_hd, rotation_rate), "0",
      "VPD page 0xb1: 0 unknown, 1 SSD, else rpm" },
    { "cyls", OB_PROP_U32, offsetof(struct scsi_hd, cyls), "0", NULL },
    { "heads", OB_PROP_U32, offsetof(struct scsi_hd, heads), "0", NULL },
    { "secs", OB_PROP_U32, offsetof(struct scsi_hd, secs), "0", NULL },
    OB_PROP_END,
};

static const struct ob_devtype scsi_hd_type = {
    .name = "scsi-hd",
    .desc = "virtual SCSI disk",
    .bus = OB_BUS_SCSI,
    .instance_size = sizeof(struct scsi_hd),
    .props = scsi_hd_props,
    .bus_props = ob_scsi_bus_props,
    .realize = scsi_hd_realize,
    .unrealize = scsi_hd_unrealize,
    .bus_ops = &scsi_hd_ops,
    .quiesce = scsi_hd_quiesce,
    .resume = scsi_hd_resume,
};

OB_DEVTYPE_REGISTER(scsi_hd_type);
