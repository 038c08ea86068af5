/*
 * block.c - drives: -drive options, opening and probing images (libblkid,
 * image-format magics), and the request state machines on top of the aio
 * engine: bounce buffers and read-modify-write for O_DIRECT, short
 * transfers, FUA, flushes, discards and zero writes.
 *
 * A request goes through phases; each phase is one engine operation whose
 * completion (on the loop) moves it on:
 *   read      XFER [copy out of the bounce buffer]
 *   write     [RMW_HEAD] [RMW_TAIL] XFER [FUA_SYNC]
 *   flush     SIMPLE (fdatasync)
 *   discard   SIMPLE (fallocate punch hole)
 *   zeroes    SIMPLE (fallocate) [then explicit writes of a zero buffer]
 * On O_DIRECT drives writes are kept in a per-drive list in submission
 * order: a read-modify-write (and a fallocate) waits for every earlier
 * overlapping write, and every write waits for earlier overlapping
 * read-modify-writes, so that rewriting a whole aligned unit never loses a
 * neighbour's data.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <blkid/blkid.h>

#include "outboard/aio.h"
#include "outboard/block.h"
#include "outboard/ctx.h"

#define BLK_INLINE_IOV   4
#define BLK_AIO_DEPTH    128
#define BLK_ZERO_CHUNK   (1u << 20)
#define BLK_MAX_RETRIES  8
#define PROBE_LEN        4096

enum blk_kind { BLK_READ, BLK_WRITE, BLK_FLUSH, BLK_DISCARD, BLK_ZEROES };

enum blk_phase {
    PH_XFER,        /* the read or write itself */
    PH_RMW_HEAD,    /* read-modify-write: reading the first aligned unit */
    PH_RMW_TAIL,    /* ... and the last one */
    PH_FUA_SYNC,    /* the fdatasync that makes a write durable */
    PH_SIMPLE,      /* one operation: fdatasync, fallocate, nop */
    PH_ZERO_WRITE,  /* explicit zero writes, one child write at a time */
};

struct ob_blk_req {
    struct ob_aio_op op;            /* first: the engine hands it back */
    struct ob_drive *d;
    enum blk_kind kind;
    enum blk_phase phase;
    uint64_t offset, len;           /* the caller's range */
    ob_block_cb *cb;
    void *opaque;
    /* the caller's buffers (a copy of the iovec array) */
    struct iovec *uiov;
    int ucnt;
    /* the transfer in progress: XCNT iovecs at XIOV over [XOFF, XOFF+XLEN) */
    const struct iovec *xiov;
    int xcnt;
    uint64_t xoff, xlen, xdone;
    int fd;
    struct iovec *win;              /* XIOV advanced past a short transfer */
    struct iovec inl[2 * BLK_INLINE_IOV];
    /* bounce buffer over the aligned range [BOFF, BOFF+BLEN) */
    uint8_t *bounce;
    uint64_t boff, blen;
    struct iovec biov;
    bool fua;                       /* must be durable at completion */
    bool rwf_dsync;                 /* ... through RWF_DSYNC on the write */
    bool rmw;                       /* rewrites whole units: serialised */
    bool waiting;                   /* held back by an overlapping write */
    bool may_unmap;
    unsigned retries;
    /* explicit zero writes */
    uint8_t *zbuf;
    uint64_t zdone;
    struct iovec ziov;
    /* lists */
    struct ob_blk_req *prev, *next; /* d->reqs */
    struct ob_blk_req *wnext;       /* d->writes */
    uint64_t wstart, wend;          /* aligned range in d->writes */
};

static void blk_op_done(struct ob_aio_op *op, int64_t res);

/* ---- small helpers ------------------------------------------------------ */

static uint64_t round_down(uint64_t v, uint32_t a)
{
    return v - v % a;
}

static uint64_t round_up(uint64_t v, uint32_t a)
{
    return round_down(v + a - 1, a);
}

static bool iov_aligned(const struct iovec *iov, int cnt, uint32_t a)
{
    int i;

    for (i = 0; i < cnt; i++) {
        if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (a - 1)) {
            return false;
        }
    }
    return true;
}

/* Copies LEN bytes between a flat buffer and IOV starting SKIP bytes in. */
static void iov_copy(const struct iovec *iov, int cnt, uint64_t skip, uint8_t *buf,
                     uint64_t len, bool to_iov)
{
    int i;

    for (i = 0; i < cnt && len > 0; i++) {
        uint64_t n;

        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        n = iov[i].iov_len - skip;
        if (n > len) {
            n = len;
        }
        if (to_iov) {
            memcpy((uint8_t *)iov[i].iov_base + skip, buf, n);
        } else {
            memcpy(buf, (uint8_t *)iov[i].iov_base + skip, n);
        }
        buf += n;
        len -= n;
        skip = 0;
    }
}

static void iov_zero(const struct iovec *iov, int cnt, uint64_t skip)
{
    int i;

    for (i = 0; i < cnt; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        memset((uint8_t *)iov[i].iov_base + skip, 0, iov[i].iov_len - skip);
        skip = 0;
    }
}

/* Fills DST with the iovecs of SRC past SKIP bytes; returns their count. */
static int iov_window(const struct iovec *src, int cnt, uint64_t skip,
                      struct iovec *dst)
{
    int i, n = 0;

    for (i = 0; i < cnt; i++) {
        if (skip >= src[i].iov_len) {
            skip -= src[i].iov_len;
            continue;
        }
        dst[n].iov_base = (uint8_t *)src[i].iov_base + skip;
        dst[n].iov_len = src[i].iov_len - skip;
        n++;
        skip = 0;
    }
    return n;
}

static void *aligned_alloc_zero(uint64_t len, uint32_t align)
{
    void *p = NULL;

    if (align < 4096) {
        align = 4096;
    }
    if (posix_memalign(&p, align, len ? len : align) != 0) {
        return NULL;
    }
    memset(p, 0, len ? len : align);
    return p;
}

const char *ob_cache_mode_name(enum ob_cache_mode m)
{
    static const char *const names[] = {
        [OB_CACHE_WRITEBACK] = "writeback",
        [OB_CACHE_NONE] = "none",
        [OB_CACHE_DIRECTSYNC] = "directsync",
        [OB_CACHE_WRITETHROUGH] = "writethrough",
        [OB_CACHE_UNSAFE] = "unsafe",
    };

    return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

const char *ob_drive_aio_name(const struct ob_drive *d)
{
    return ob_aio_name(d->aio);
}

/* ---- image formats ------------------------------------------------------ */

struct image_magic {
    const char *format;
    size_t off;
    const char *magic;
    size_t len;
};

/* Headers of the formats QEMU would detect instead of raw. */
static const struct image_magic image_magics[] = {
    { "qcow2", 0, "QFI\xfb", 4 },              /* version checked below */
    { "vmdk", 0, "KDMV", 4 },
    { "vmdk", 0, "COWD", 4 },
    { "vmdk", 0, "# Disk DescriptorFile", 21 },
    { "vdi", 0, "<<< Oracle VM VirtualBox Disk Image >>>", 39 },
    { "vdi", 0x40, "\x7f\x10\xda\xbe", 4 },
    { "vhdx", 0, "vhdxfile", 8 },
    { "vpc", 0, "conectix", 8 },
    { "qed", 0, "QED\0", 4 },
    { "parallels", 0, "WithoutFreeSpace", 16 },
    { "parallels", 0, "WithouFreSpacExt", 16 },
    { "bochs", 0, "Bochs Virtual HD Image", 22 },
    { "cloop", 0, "#!/bin/sh\n#V2.0 Format\n", 23 },
    { "luks", 0, "LUKS\xba\xbe", 6 },
};

/* The non-raw image format whose header BUF carries, or NULL. */
static const char *image_format_of(const uint8_t *buf, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof(image_magics) / sizeof(image_magics[0]); i++) {
        const struct image_magic *m = &image_magics[i];

        if (m->off + m->len <= len && memcmp(buf + m->off, m->magic, m->len) == 0) {
            if (i == 0 && len >= 8 && buf[4] == 0 && buf[5] == 0 && buf[6] == 0 &&
                buf[7] == 1) {
                return "qcow";
            }
            return m->format;
        }
    }
    return NULL;
}

static const char *const image_formats[] = {
    "qcow2", "qcow", "vmdk", "vdi", "vhdx", "vpc", "qed", "parallels", "dmg",
    "cloop", "bochs", "luks", NULL,
};

static const char *const other_drivers[] = {
    "nbd", "iscsi", "rbd", "ssh", "nfs", "gluster", "http", "https", "ftp", "ftps",
    "null-co", "null-aio", "blkdebug", "blkverify", "quorum", "throttle",
    "copy-on-read", "compress", "vvfat", "host_cdrom", "replication", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++) {
        if (strcmp(*list, s) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- the request machinery ---------------------------------------------- */

static struct ob_blk_req *blk_new(struct ob_drive *d, enum blk_kind kind,
                                  uint64_t offset, uint64_t len, ob_block_cb *cb,
                                  void *opaque)
{
    struct ob_blk_req *r = calloc(1, sizeof(*r));

    if (!r) {
        return NULL;
    }
    r->d = d;
    r->kind = kind;
    r->offset = offset;
    r->len = len;
    r->cb = cb;
    r->opaque = opaque;
    r->fd = d->fd;
    r->op.done = blk_op_done;
    r->next = d->reqs;
    if (d->reqs) {
        d->reqs->prev = r;
    }
    d->reqs = r;
    d->inflight++;
    return r;
}

static void blk_free(struct ob_blk_req *r)
{
    struct ob_drive *d = r->d;

    if (r->prev) {
        r->prev->next = r->next;
    } else {
        d->reqs = r->next;
    }
    if (r->next) {
        r->next->prev = r->prev;
    }
    d->inflight--;
    if (r->uiov && r->uiov != r->inl) {
        free(r->uiov);
    }
    if (r->win && r->win != r->inl + BLK_INLINE_IOV) {
        free(r->win);
    }
    free(r->bounce);
    free(r->zbuf);
    free(r);
}

static bool w_overlap(const struct ob_blk_req *a, const struct ob_blk_req *b)
{
    return a->wstart < b->wend && b->wstart < a->wend;
}

/* Must W wait for the earlier write E? */
static bool w_conflict(const struct ob_blk_req *w, const struct ob_blk_req *e)
{
    return (w->rmw || e->rmw) && w_overlap(w, e);
}

static bool w_blocked(const struct ob_drive *d, const struct ob_blk_req *w)
{
    const struct ob_blk_req *e;

    for (e = d->writes; e && e != w; e = e->wnext) {
        if (w_conflict(w, e)) {
            return true;
        }
    }
    return false;
}

static void w_append(struct ob_drive *d, struct ob_blk_req *w)
{
    struct ob_blk_req **p;

    for (p = &d->writes; *p; p = &(*p)->wnext) {
    }
    w->wnext = NULL;
    *p = w;
}

static void w_remove(struct ob_drive *d, struct ob_blk_req *w)
{
    struct ob_blk_req **p;

    for (p = &d->writes; *p; p = &(*p)->wnext) {
        if (*p == w) {
            *p = w->wnext;
            return;
        }
    }
}

static void blk_start(struct ob_blk_req *r);

/* Starts the writes that no longer have to wait. */
static void w_wake(struct ob_drive *d)
{
    struct ob_blk_req *w, *next;

    for (w = d->writes; w; w = next) {
        next = w->wnext;
        if (w->waiting && !w_blocked(d, w)) {
            w->waiting = false;
            blk_start(w);
        }
    }
}

static void blk_account(struct ob_drive *d, enum blk_kind kind, int64_t ret,
                        uint64_t len)
{
    if (ret < 0) {
        d->stats.errors++;
        return;
    }
    switch (kind) {
    case BLK_READ:
        d->stats.rd_ops++;
        d->stats.rd_bytes += len;
        break;
    case BLK_WRITE:
    case BLK_ZEROES:
        d->stats.wr_ops++;
        d->stats.wr_bytes += len;
        break;
    case BLK_FLUSH:
        d->stats.flush_ops++;
        break;
    case BLK_DISCARD:
        break;
    }
}

static void blk_finish(struct ob_blk_req *r, int64_t ret)
{
    struct ob_drive *d = r->d;
    ob_block_cb *cb = r->cb;
    void *opaque = r->opaque;
    bool listed = r->wend > r->wstart;

    blk_account(d, r->kind, ret, r->len);
    if (listed) {
        w_remove(d, r);
    }
    blk_free(r);
    if (listed) {
        w_wake(d);
    }
    cb(opaque, ret);
}

static void blk_submit(struct ob_blk_req *r, enum ob_aio_opcode opc)
{
    r->op.opc = opc;
    r->op.fd = r->fd;
    ob_aio_submit(r->d->aio, &r->op);
}

/* Submits the rest of the transfer in progress. */
static void blk_submit_xfer(struct ob_blk_req *r, enum ob_aio_opcode opc)
{
    if (r->xdone == 0) {
        r->op.iov = r->xiov;
        r->op.iovcnt = r->xcnt;
    } else {
        r->op.iov = r->win;
        r->op.iovcnt = iov_window(r->xiov, r->xcnt, r->xdone, r->win);
    }
    r->op.offset = r->xoff + r->xdone;
    r->op.flags = opc == OB_AIO_WRITEV && r->rwf_dsync ? RWF_DSYNC : 0;
    blk_submit(r, opc);
}

static void blk_set_xfer(struct ob_blk_req *r, const struct iovec *iov, int cnt,
                         uint64_t off, uint64_t len)
{
    r->xiov = iov;
    r->xcnt = cnt;
    r->xoff = off;
    r->xlen = len;
    r->xdone = 0;
    r->retries = 0;
}

static void blk_set_bounce_xfer(struct ob_blk_req *r, uint64_t skip, uint64_t len)
{
    r->biov.iov_base = r->bounce + skip;
    r->biov.iov_len = len;
    blk_set_xfer(r, &r->biov, 1, r->boff + skip, len);
}

/* Write: the data (bounced or not) goes out. */
static void blk_write_main(struct ob_blk_req *r)
{
    r->phase = PH_XFER;
    if (r->bounce) {
        iov_copy(r->uiov, r->ucnt, 0, r->bounce + (r->offset - r->boff), r->len, false);
        blk_set_bounce_xfer(r, 0, r->blen);
    } else {
        blk_set_xfer(r, r->uiov, r->ucnt, r->offset, r->len);
    }
    blk_submit_xfer(r, OB_AIO_WRITEV);
}

static bool rmw_needs_head(const struct ob_blk_req *r)
{
    return r->offset != r->boff;
}

static bool rmw_needs_tail(const struct ob_blk_req *r)
{
    uint32_t a = r->d->align;

    /* Not when the head read already covered the last unit. */
    return r->offset + r->len != r->boff + r->blen &&
           !(rmw_needs_head(r) && r->blen == a);
}

static void blk_write_tail(struct ob_blk_req *r)
{
    uint32_t a = r->d->align;

    if (!rmw_needs_tail(r)) {
        blk_write_main(r);
        return;
    }
    r->phase = PH_RMW_TAIL;
    blk_set_bounce_xfer(r, r->blen - a, a);
    blk_submit_xfer(r, OB_AIO_READV);
}

/* The first step of a request (again after waiting for an overlapping write). */
static void blk_start(struct ob_blk_req *r)
{
    switch (r->kind) {
    case BLK_READ:
        r->phase = PH_XFER;
        if (r->bounce) {
            blk_set_bounce_xfer(r, 0, r->blen);
        } else {
            blk_set_xfer(r, r->uiov, r->ucnt, r->offset, r->len);
        }
        blk_submit_xfer(r, OB_AIO_READV);
        return;
    case BLK_WRITE:
        if (r->bounce && rmw_needs_head(r)) {
            r->phase = PH_RMW_HEAD;
            blk_set_bounce_xfer(r, 0, r->d->align);
            blk_submit_xfer(r, OB_AIO_READV);
        } else if (r->bounce) {
            blk_write_tail(r);
        } else {
            blk_write_main(r);
        }
        return;
    case BLK_FLUSH:
    case BLK_DISCARD:
    case BLK_ZEROES:
        r->phase = PH_SIMPLE;
        blk_submit(r, r->op.opc);
        return;
    }
}

static void blk_zero_step(struct ob_blk_req *r);

static void blk_zero_child_done(void *opaque, int64_t ret)
{
    struct ob_blk_req *r = opaque;

    if (ret < 0) {
        blk_finish(r, ret);
        return;
    }
    r->zdone += r->ziov.iov_len;
    blk_zero_step(r);
}

/* Writes zeroes over the rest of R's range, one bounded child write at a time. */
static void blk_zero_step(struct ob_blk_req *r)
{
    uint64_t left = r->len - r->zdone;
    int rc;

    if (left == 0) {
        blk_finish(r, 0);
        return;
    }
    if (!r->zbuf) {
        r->zbuf = aligned_alloc_zero(BLK_ZERO_CHUNK, r->d->align);
        if (!r->zbuf) {
            blk_finish(r, -ENOMEM);
            return;
        }
    }
    r->ziov.iov_base = r->zbuf;
    r->ziov.iov_len = left < BLK_ZERO_CHUNK ? left : BLK_ZERO_CHUNK;
    rc = ob_drive_pwritev(r->d, r->offset + r->zdone, &r->ziov, 1, false,
                          blk_zero_child_done, r);
    if (rc < 0) {
        blk_finish(r, rc);
    }
}

/* A write's data is on its way to the disk (or there): what comes next. */
static void blk_write_xfer_done(struct ob_blk_req *r)
{
    struct ob_drive *d = r->d;

    if (r->fua && !r->rwf_dsync) {
        r->phase = PH_FUA_SYNC;
        r->fd = d->fd;
        blk_submit(r, OB_AIO_FDATASYNC);
        return;
    }
    blk_finish(r, (int64_t)r->len);
}

static void blk_xfer_done(struct ob_blk_req *r)
{
    switch (r->phase) {
    case PH_RMW_HEAD:
        blk_write_tail(r);
        return;
    case PH_RMW_TAIL:
        blk_write_main(r);
        return;
    default:
        break;
    }
    if (r->kind == BLK_READ) {
        if (r->bounce) {
            iov_copy(r->uiov, r->ucnt, 0, r->bounce + (r->offset - r->boff), r->len,
                     true);
        }
        blk_finish(r, (int64_t)r->len);
        return;
    }
    blk_write_xfer_done(r);
}

/* A read or write returned RES bytes (or -errno). */
static void blk_xfer_result(struct ob_blk_req *r, int64_t res)
{
    enum ob_aio_opcode opc = r->op.opc;
    struct ob_drive *d = r->d;

    if (res == -EINTR || res == -EAGAIN) {
        if (++r->retries > BLK_MAX_RETRIES) {
            blk_finish(r, res);
            return;
        }
        blk_submit_xfer(r, opc);
        return;
    }
    if (res == -EOPNOTSUPP && opc == OB_AIO_WRITEV && r->rwf_dsync) {
        /* No per-write durability here: write, then fdatasync. */
        d->no_rwf_dsync = true;
        r->rwf_dsync = false;
        blk_submit_xfer(r, opc);
        return;
    }
    if (res < 0) {
        blk_finish(r, res);
        return;
    }
    if (res == 0 && opc == OB_AIO_WRITEV) {
        /* No progress at all: give up after a few tries. */
        if (++r->retries > BLK_MAX_RETRIES) {
            blk_finish(r, -EIO);
            return;
        }
        blk_submit_xfer(r, opc);
        return;
    }
    r->xdone += (uint64_t)res;
    if (opc == OB_AIO_READV &&
        (res == 0 || (r->fd == d->fd && d->direct && r->xdone % d->align != 0))) {
        /* End of file (an O_DIRECT read stops short at the unaligned end):
         * the range is inside the drive's size, so it reads as zeroes. */
        iov_zero(r->xiov, r->xcnt, r->xdone);
        r->xdone = r->xlen;
    }
    if (r->xdone < r->xlen) {
        blk_submit_xfer(r, opc);
        return;
    }
    blk_xfer_done(r);
}

static void blk_simple_result(struct ob_blk_req *r, int64_t res)
{
    if (res == -EINTR || res == -EAGAIN) {
        if (++r->retries <= BLK_MAX_RETRIES) {
            blk_submit(r, r->op.opc);
            return;
        }
    }
    if (r->kind == BLK_DISCARD && res < 0 &&
        (res == -EOPNOTSUPP || res == -EINVAL || res == -ENOSYS)) {
        res = 0;   /* a discard is advice */
    }
    if (r->kind == BLK_ZEROES && res < 0 &&
        (res == -EOPNOTSUPP || res == -EINVAL || res == -ENOSYS)) {
        /* The child writes take their own places in the write order. */
        if (r->wend > r->wstart) {
            w_remove(r->d, r);
            r->wstart = r->wend = 0;
            w_wake(r->d);
        }
        r->phase = PH_ZERO_WRITE;
        blk_zero_step(r);
        return;
    }
    blk_finish(r, res < 0 ? res : 0);
}

static void blk_op_done(struct ob_aio_op *op, int64_t res)
{
    struct ob_blk_req *r = (struct ob_blk_req *)op;

    switch (r->phase) {
    case PH_XFER:
    case PH_RMW_HEAD:
    case PH_RMW_TAIL:
        blk_xfer_result(r, res);
        return;
    case PH_FUA_SYNC:
        blk_finish(r, res < 0 ? res : (int64_t)r->len);
        return;
    case PH_SIMPLE:
        blk_simple_result(r, res);
        return;
    case PH_ZERO_WRITE:
        return;   /* children report through blk_zero_child_done */
    }
}

/* ---- submission --------------------------------------------------------- */

static int check_range(const struct ob_drive *d, uint64_t offset, uint64_t len)
{
    if (offset > d->size || len > d->size - offset) {
        return -EINVAL;
    }
    return 0;
}

/* A write of [OFFSET, OFFSET+LEN): inside the drive, and the drive writable. */
static int check_write(const struct ob_drive *d, uint64_t offset, uint64_t len)
{
    int rc = check_range(d, offset, len);

    if (rc < 0) {
        return rc;
    }
    return d->readonly ? -EROFS : 0;
}

static int iov_total(const struct iovec *iov, int cnt, uint64_t *len)
{
    uint64_t n = 0;
    int i;

    if (cnt < 0 || cnt > IOV_MAX || (cnt > 0 && !iov)) {
        return -EINVAL;
    }
    for (i = 0; i < cnt; i++) {
        if (iov[i].iov_len > UINT64_MAX - n) {
            return -EINVAL;
        }
        n += iov[i].iov_len;
    }
    *len = n;
    return 0;
}

/* Probed raw images: refuses a write that would make block 0 look like
 * another image format (QEMU's rule), keeping our copy of block 0. */
static int check_block0(struct ob_drive *d, uint64_t offset, const struct iovec *iov,
                        int cnt, uint64_t len)
{
    uint8_t s0[sizeof(d->sector0)];
    uint64_t n;

    if (!d->probed || offset >= sizeof(s0) || len == 0) {
        return 0;
    }
    memcpy(s0, d->sector0, sizeof(s0));
    n = sizeof(s0) - offset < len ? sizeof(s0) - offset : len;
    if (iov) {
        iov_copy(iov, cnt, 0, s0 + offset, n, false);
    } else {
        memset(s0 + offset, 0, n);
    }
    if (image_format_of(s0, sizeof(s0))) {
        return -EPERM;
    }
    memcpy(d->sector0, s0, sizeof(s0));
    return 0;
}

static int blk_copy_iov(struct ob_blk_req *r, const struct iovec *iov, int cnt)
{
    if (cnt <= BLK_INLINE_IOV) {
        r->uiov = r->inl;
        r->win = r->inl + BLK_INLINE_IOV;
    } else {
        r->uiov = calloc((size_t)cnt, sizeof(*iov));
        r->win = calloc((size_t)cnt, sizeof(*iov));
        if (!r->uiov || !r->win) {
            return -ENOMEM;
        }
    }
    if (cnt > 0) {
        memcpy(r->uiov, iov, (size_t)cnt * sizeof(*iov));
    }
    r->ucnt = cnt;
    return 0;
}

/* O_DIRECT: picks the fd and, when needed, the bounce buffer of R. */
static int blk_plan_direct(struct ob_blk_req *r)
{
    struct ob_drive *d = r->d;
    uint32_t a = d->align;

    if (!d->direct) {
        return 0;
    }
    if (d->fd_tail >= 0 && r->offset + r->len > round_down(d->size, a)) {
        /* The image's unaligned tail cannot be written with O_DIRECT
         * without growing the file: use the buffered descriptor. */
        r->fd = d->fd_tail;
        return 0;
    }
    if (r->offset % a == 0 && r->len % a == 0 && iov_aligned(r->uiov, r->ucnt, a)) {
        return 0;
    }
    r->boff = round_down(r->offset, a);
    r->blen = round_up(r->offset + r->len, a) - r->boff;
    r->bounce = aligned_alloc_zero(r->blen, a);
    if (!r->bounce) {
        return -ENOMEM;
    }
    r->rmw = r->kind == BLK_WRITE &&
             (r->offset != r->boff || r->offset + r->len != r->boff + r->blen);
    return 0;
}

/* O_DIRECT writes enter the ordered list; they may have to wait. */
static void blk_enqueue_write(struct ob_blk_req *r)
{
    struct ob_drive *d = r->d;
    uint32_t a = d->direct ? d->align : 1;

    if (!d->direct) {
        blk_start(r);
        return;
    }
    r->wstart = round_down(r->offset, a);
    r->wend = round_up(r->offset + r->len, a);
    if (r->wend == r->wstart) {
        r->wend = r->wstart + a;   /* keep empty writes ordered too */
    }
    w_append(d, r);
    if (w_blocked(d, r)) {
        r->waiting = true;
        return;
    }
    blk_start(r);
}

static int blk_rw(struct ob_drive *d, enum blk_kind kind, uint64_t offset,
                  const struct iovec *iov, int iovcnt, bool fua, ob_block_cb *cb,
                  void *opaque)
{
    struct ob_blk_req *r;
    uint64_t len;
    int rc;

    if (!cb || iov_total(iov, iovcnt, &len) < 0) {
        return -EINVAL;
    }
    rc = kind == BLK_WRITE ? check_write(d, offset, len) : check_range(d, offset, len);
    if (rc < 0) {
        return rc;
    }
    if (kind == BLK_WRITE && (rc = check_block0(d, offset, iov, iovcnt, len)) < 0) {
        return rc;
    }
    r = blk_new(d, kind, offset, len, cb, opaque);
    if (!r) {
        return -ENOMEM;
    }
    r->fua = kind == BLK_WRITE && fua && !d->dsync && !d->no_flush;
    r->rwf_dsync = r->fua && !d->no_rwf_dsync;
    if ((rc = blk_copy_iov(r, iov, iovcnt)) < 0 || (rc = blk_plan_direct(r)) < 0) {
        blk_free(r);
        return rc;
    }
    if (kind == BLK_WRITE) {
        blk_enqueue_write(r);
    } else {
        blk_start(r);
    }
    return 0;
}

int ob_drive_preadv(struct ob_drive *d, uint64_t offset, const struct iovec *iov,
                    int iovcnt, ob_block_cb *cb, void *opaque)
{
    return blk_rw(d, BLK_READ, offset, iov, iovcnt, false, cb, opaque);
}

int ob_drive_pwritev(struct ob_drive *d, uint64_t offset, const struct iovec *iov,
                     int iovcnt, bool fua, ob_block_cb *cb, void *opaque)
{
    return blk_rw(d, BLK_WRITE, offset, iov, iovcnt, fua, cb, opaque);
}

int ob_drive_flush(struct ob_drive *d, ob_block_cb *cb, void *opaque)
{
    struct ob_blk_req *r;

    if (!cb) {
        return -EINVAL;
    }
    r = blk_new(d, BLK_FLUSH, 0, 0, cb, opaque);
    if (!r) {
        return -ENOMEM;
    }
    /* Unsafe drives ignore flushes; read-only ones have nothing to flush. */
    r->op.opc = d->no_flush || d->readonly ? OB_AIO_NOP : OB_AIO_FDATASYNC;
    blk_start(r);
    return 0;
}

static int blk_fallocate_req(struct ob_drive *d, enum blk_kind kind, uint64_t offset,
                             uint64_t len, int mode, ob_block_cb *cb, void *opaque)
{
    struct ob_blk_req *r;
    int rc;

    if (!cb) {
        return -EINVAL;
    }
    if ((rc = check_write(d, offset, len)) < 0) {
        return rc;
    }
    if ((rc = check_block0(d, offset, NULL, 0, len)) < 0) {
        return rc;
    }
    r = blk_new(d, kind, offset, len, cb, opaque);
    if (!r) {
        return -ENOMEM;
    }
    r->op.offset = offset;
    r->op.len = len;
    r->op.flags = mode;
    r->op.opc = mode < 0 || len == 0 ? OB_AIO_NOP : OB_AIO_FALLOCATE;
    /* Ordered like a read-modify-write against overlapping O_DIRECT writes. */
    r->rmw = true;
    blk_enqueue_write(r);
    return 0;
}

int ob_drive_discard(struct ob_drive *d, uint64_t offset, uint64_t len,
                     ob_block_cb *cb, void *opaque)
{
    int mode = d->discard ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : -1;

    return blk_fallocate_req(d, BLK_DISCARD, offset, len, mode, cb, opaque);
}

int ob_drive_pwrite_zeroes(struct ob_drive *d, uint64_t offset, uint64_t len,
                           unsigned flags, ob_block_cb *cb, void *opaque)
{
    int mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;

    if ((flags & OB_ZEROES_MAY_UNMAP) && d->discard) {
        mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    }
    if (d->direct && ((offset | len) & (d->align - 1))) {
        /* Partial units: explicit writes, which know how to bounce. */
        struct ob_blk_req *r;
        int rc;

        if (!cb) {
            return -EINVAL;
        }
        if ((rc = check_write(d, offset, len)) < 0) {
            return rc;
        }
        r = blk_new(d, BLK_ZEROES, offset, len, cb, opaque);
        if (!r) {
            return -ENOMEM;
        }
        r->phase = PH_ZERO_WRITE;
        blk_zero_step(r);
        return 0;
    }
    return blk_fallocate_req(d, BLK_ZEROES, offset, len, mode, cb, opaque);
}

void ob_drive_drain(struct ob_drive *d)
{
    while (d->inflight > 0 && ob_aio_pending(d->aio) > 0) {
        ob_aio_drain(d->aio);
    }
}

int ob_drive_read_sync(struct ob_drive *d, uint64_t offset, void *buf, size_t len)
{
    uint32_t a = d->direct ? d->align : 1;
    uint64_t boff = round_down(offset, a);
    uint64_t blen = round_up(offset + len, a) - boff;
    uint8_t *b = aligned_alloc_zero(blen, a);
    uint64_t done = 0;
    int rc = 0;

    if (!b) {
        return -ENOMEM;
    }
    while (done < blen) {
        ssize_t n = pread(d->fd, b + done, blen - done, (off_t)(boff + done));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0 || (d->direct && n % a)) {
            break;   /* end of file: the rest stays zero */
        }
        done += (uint64_t)n;
    }
    if (rc == 0) {
        memcpy(buf, b + (offset - boff), len);
    }
    free(b);
    return rc;
}

/* ---- drive creation ----------------------------------------------------- */

struct drive_conf {
    const char *id, *file, *format, *iface, *media, *cache, *aio, *discard;
    const char *werror, *rerror, *detect_zeroes, *snapshot;
    const char *readonly, *read_only, *cache_direct, *cache_no_flush, *cache_wb;
};

struct drive_flags {
    bool readonly, direct, dsync, no_flush, discard;
    enum ob_cache_mode cache;
    enum ob_aio_kind aio;
    enum ob_drive_errpolicy werror, rerror;
};

static int errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes one line into ERR; returns -1. */
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

#define ERR(...) errf(err, errlen, __VA_ARGS__)

static int parse_bool_opt(const char *name, const char *v, bool *out, char *err,
                          size_t errlen)
{
    if (v && ob_parse_bool(v, out) < 0) {
        return ERR("Parameter '%s' expects 'on' or 'off'", name);
    }
    return 0;
}

static int parse_cache(struct drive_flags *f, const char *v, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        enum ob_cache_mode mode;
        bool direct, dsync, no_flush;
    } modes[] = {
        { "writeback", OB_CACHE_WRITEBACK, false, false, false },
        { "none", OB_CACHE_NONE, true, false, false },
        { "off", OB_CACHE_NONE, true, false, false },
        { "directsync", OB_CACHE_DIRECTSYNC, true, true, false },
        { "writethrough", OB_CACHE_WRITETHROUGH, false, true, false },
        { "unsafe", OB_CACHE_UNSAFE, false, false, true },
    };
    size_t i;

    if (!v) {
        v = "writeback";
    }
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(v, modes[i].name) == 0) {
            f->cache = modes[i].mode;
            f->direct = modes[i].direct;
            f->dsync = modes[i].dsync;
            f->no_flush = modes[i].no_flush;
            return 0;
        }
    }
    return ERR("invalid cache option '%s' (writeback, none, directsync, writethrough "
               "or unsafe)", v);
}

static enum ob_cache_mode cache_mode_of(const struct drive_flags *f)
{
    if (f->no_flush) {
        return OB_CACHE_UNSAFE;
    }
    if (f->direct) {
        return f->dsync ? OB_CACHE_DIRECTSYNC : OB_CACHE_NONE;
    }
    return f->dsync ? OB_CACHE_WRITETHROUGH : OB_CACHE_WRITEBACK;
}

/* cache.direct=, cache.no-flush=, cache.writeback= refine cache=. */
static int parse_cache_overrides(struct drive_flags *f, const struct drive_conf *c,
                                 char *err, size_t errlen)
{
    bool v;

    if (c->cache_direct) {
        if (parse_bool_opt("cache.direct", c->cache_direct, &v, err, errlen) < 0) {
            return -1;
        }
        f->direct = v;
    }
    if (c->cache_no_flush) {
        if (parse_bool_opt("cache.no-flush", c->cache_no_flush, &v, err, errlen) < 0) {
            return -1;
        }
        f->no_flush = v;
    }
    if (c->cache_wb) {
        if (parse_bool_opt("cache.writeback", c->cache_wb, &v, err, errlen) < 0) {
            return -1;
        }
        f->dsync = !v;
    }
    f->cache = cache_mode_of(f);
    return 0;
}

int ob_drive_parse_errpol(const char *name, const char *v, enum ob_drive_errpolicy *out,
                          char *err, size_t errlen)
{
    if (!v || strcmp(v, "report") == 0) {
        *out = OB_ERRPOL_REPORT;
    } else if (strcmp(v, "ignore") == 0) {
        *out = OB_ERRPOL_IGNORE;
    } else if (strcmp(v, "enospc") == 0) {
        *out = OB_ERRPOL_ENOSPC;
    } else if (strcmp(v, "stop") == 0) {
        return ERR("%s=stop is not supported by outboard (a remote cannot stop the "
                   "VM); use report, enospc or ignore", name);
    } else {
        return ERR("'%s' invalid %s error action", v, name[0] == 'w' ? "write" : "read");
    }
    return 0;
}

static int parse_aio(struct drive_flags *f, const char *v, char *err, size_t errlen)
{
    f->aio = ob_aio_kind_from_env();
    if (!v || strcmp(v, "threads") == 0) {
        return 0;   /* QEMU's default; served by io_uring when available */
    }
    if (strcmp(v, "io_uring") == 0) {
        f->aio = OB_AIO_IO_URING;
    } else if (strcmp(v, "native") == 0) {
        if (!f->direct) {
            return ERR("aio=native was specified, but it requires cache.direct=on, "
                       "which was not specified.");
        }
        f->aio = OB_AIO_IO_URING;
    } else if (strcmp(v, "sync") == 0) {
        f->aio = OB_AIO_SYNC;
    } else {
        return ERR("invalid aio option '%s' (threads, native, io_uring or sync)", v);
    }
    return 0;
}

static int parse_discard(struct drive_flags *f, const char *v, char *err, size_t errlen)
{
    if (!v || strcmp(v, "ignore") == 0 || strcmp(v, "off") == 0) {
        f->discard = false;
    } else if (strcmp(v, "unmap") == 0 || strcmp(v, "on") == 0) {
        f->discard = true;
    } else {
        return ERR("Invalid discard option");
    }
    return 0;
}

static void get_conf(struct ob_opts *o, struct drive_conf *c)
{
    c->id = ob_opts_get(o, "id");
    c->file = ob_opts_get(o, "file");
    c->format = ob_opts_get(o, "format");
    c->iface = ob_opts_get(o, "if");
    c->media = ob_opts_get(o, "media");
    c->cache = ob_opts_get(o, "cache");
    c->aio = ob_opts_get(o, "aio");
    c->discard = ob_opts_get(o, "discard");
    c->werror = ob_opts_get(o, "werror");
    c->rerror = ob_opts_get(o, "rerror");
    c->detect_zeroes = ob_opts_get(o, "detect-zeroes");
    c->snapshot = ob_opts_get(o, "snapshot");
    c->readonly = ob_opts_get(o, "readonly");
    c->read_only = ob_opts_get(o, "read-only");
    c->cache_direct = ob_opts_get(o, "cache.direct");
    c->cache_no_flush = ob_opts_get(o, "cache.no-flush");
    c->cache_wb = ob_opts_get(o, "cache.writeback");
}

/* Options outboard accepts only with QEMU's default value. */
static int check_unsupported(const struct drive_conf *c, char *err, size_t errlen)
{
    bool b;

    if (c->iface && strcmp(c->iface, "none") != 0) {
        return ERR("if=%s is not supported by outboard: use if=none and "
                   "-device scsi-hd,drive=ID", c->iface);
    }
    if (c->media && strcmp(c->media, "disk") != 0) {
        return ERR("media=%s is not supported by outboard (only media=disk)", c->media);
    }
    if (c->detect_zeroes && strcmp(c->detect_zeroes, "off") != 0) {
        return ERR("detect-zeroes=%s is not supported by outboard", c->detect_zeroes);
    }
    if (c->snapshot) {
        if (parse_bool_opt("snapshot", c->snapshot, &b, err, errlen) < 0) {
            return -1;
        }
        if (b) {
            return ERR("snapshot=on is not supported by outboard");
        }
    }
    return 0;
}

static int parse_flags(const struct drive_conf *c, struct drive_flags *f, char *err,
                       size_t errlen)
{
    bool ro = false;

    memset(f, 0, sizeof(*f));
    if (parse_bool_opt("readonly", c->readonly, &ro, err, errlen) < 0 ||
        parse_bool_opt("read-only", c->read_only, &ro, err, errlen) < 0) {
        return -1;
    }
    f->readonly = ro;
    if (parse_cache(f, c->cache, err, errlen) < 0 ||
        parse_cache_overrides(f, c, err, errlen) < 0 ||
        parse_aio(f, c->aio, err, errlen) < 0 ||
        parse_discard(f, c->discard, err, errlen) < 0 ||
        ob_drive_parse_errpol("werror", c->werror, &f->werror, err, errlen) < 0 ||
        ob_drive_parse_errpol("rerror", c->rerror, &f->rerror, err, errlen) < 0) {
        return -1;
    }
    return 0;
}

/* format=: raw (or its protocol names) is served; -1 with the reason otherwise.
 * *PROBE is set when the format has to be guessed. */
static int check_format(const struct drive_conf *c, bool *probe, char *err,
                        size_t errlen)
{
    const char *fmt = c->format;

    *probe = fmt == NULL;
    if (!fmt || strcmp(fmt, "raw") == 0 || strcmp(fmt, "file") == 0 ||
        strcmp(fmt, "host_device") == 0) {
        return 0;
    }
    if (in_list(image_formats, fmt)) {
        return ERR("Image format '%s' is not supported: outboard serves raw images "
                   "only; convert it with: qemu-img convert -f %s -O raw '%s' '%s.raw'",
                   fmt, fmt, c->file ? c->file : "IN", c->file ? c->file : "OUT");
    }
    if (in_list(other_drivers, fmt)) {
        return ERR("Block driver '%s' is not supported by outboard (it serves raw "
                   "images and block devices)", fmt);
    }
    return ERR("Unknown driver '%s'", fmt);
}

/* LABEL=, UUID=, PARTUUID= (and the other tags libblkid knows) -> a path. */
static char *resolve_file(const char *file, char *err, size_t errlen)
{
    static const char *const tags[] = {
        "LABEL=", "UUID=", "PARTUUID=", "PARTLABEL=", NULL,
    };
    const char *const *t;
    blkid_cache cache = NULL;
    char *path;

    for (t = tags; *t; t++) {
        if (strncmp(file, *t, strlen(*t)) == 0) {
            break;
        }
    }
    if (!*t) {
        path = strdup(file);
        if (!path) {
            ERR("out of memory");
        }
        return path;
    }
    path = blkid_evaluate_tag(file, NULL, &cache);
    blkid_put_cache(cache);
    if (!path) {
        ERR("Could not open '%s': no device with this %.*s", file,
            (int)(strlen(*t) - 1), *t);
    }
    return path;
}

/* The smallest alignment O_DIRECT accepts on FD (regular files). */
static uint32_t probe_dio_align(int fd)
{
    uint32_t a;
    void *buf = aligned_alloc_zero(4096, 4096);

    if (!buf) {
        return 4096;
    }
    for (a = 512; a < 4096; a *= 2) {
        ssize_t n = pread(fd, buf, a, 0);

        if (n >= 0 || errno != EINVAL) {
            break;
        }
    }
    free(buf);
    return a;
}

static int open_image(struct ob_drive *d, const struct drive_flags *f, char *err,
                      size_t errlen)
{
    int flags = (f->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    struct stat st;

    if (f->direct) {
        flags |= O_DIRECT;
    }
    if (f->dsync) {
        flags |= O_DSYNC;
    }
    d->fd = open(d->filename, flags);
    if (d->fd < 0) {
        return ERR("Could not open '%s': %s", d->filename, strerror(errno));
    }
    if (fstat(d->fd, &st) < 0) {
        return ERR("Could not open '%s': %s", d->filename, strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        return ERR("Could not open '%s': %s", d->filename, strerror(EISDIR));
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        return ERR("'%s' is not a regular file or a block device", d->filename);
    }
    d->is_blockdev = S_ISBLK(st.st_mode);
    return 0;
}

static int size_image(struct ob_drive *d, char *err, size_t errlen)
{
    struct stat st;
    int lbs = 512;
    unsigned int pbs = 512;

    if (d->is_blockdev) {
        if (ioctl(d->fd, BLKGETSIZE64, &d->size) < 0) {
            return ERR("Could not get the size of '%s': %s", d->filename,
                       strerror(errno));
        }
        if (ioctl(d->fd, BLKSSZGET, &lbs) < 0 || lbs < 512) {
            lbs = 512;
        }
        if (ioctl(d->fd, BLKPBSZGET, &pbs) < 0 || pbs < (unsigned)lbs) {
            pbs = (unsigned)lbs;
        }
        d->logical_block = (uint32_t)lbs;
        d->physical_block = pbs;
        d->align = d->direct ? (uint32_t)lbs : 1;
        return 0;
    }
    if (fstat(d->fd, &st) < 0) {
        return ERR("Could not get the size of '%s': %s", d->filename, strerror(errno));
    }
    d->size = (uint64_t)st.st_size;
    d->logical_block = 512;
    d->physical_block = 512;
    d->align = d->direct ? probe_dio_align(d->fd) : 1;
    return 0;
}

/* An O_DIRECT file whose size is not aligned gets a buffered fd for its tail. */
static int open_tail(struct ob_drive *d, const struct drive_flags *f, char *err,
                     size_t errlen)
{
    int flags = (f->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;

    if (!d->direct || d->size % d->align == 0) {
        return 0;
    }
    if (f->dsync) {
        flags |= O_DSYNC;
    }
    d->fd_tail = open(d->filename, flags);
    if (d->fd_tail < 0) {
        return ERR("Could not open '%s': %s", d->filename, strerror(errno));
    }
    return 0;
}

/* libblkid: partition table and filesystem types, for the log. */
static void probe_blkid(struct ob_drive *d)
{
    blkid_probe pr = blkid_new_probe_from_filename(d->filename);
    const char *v;

    if (!pr) {
        return;
    }
    blkid_probe_enable_partitions(pr, 1);
    blkid_probe_enable_superblocks(pr, 1);
    if (blkid_do_safeprobe(pr) == 0) {
        if (blkid_probe_lookup_value(pr, "PTTYPE", &v, NULL) == 0) {
            d->pttype = strdup(v);
        }
        if (blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0) {
            d->fstype = strdup(v);
        }
    }
    blkid_free_probe(pr);
}

static void print_probe_warning(const struct ob_ctx *ctx, const char *file)
{
    FILE *fp = ctx->log.fp ? ctx->log.fp : stderr;

    fprintf(fp, "WARNING: Image format was not specified for '%s' and probing "
            "guessed raw.\n"
            "         Automatically detecting the format is dangerous for raw "
            "images, write operations on block 0 will be restricted.\n"
            "         Specify the 'raw' format explicitly to remove the "
            "restrictions.\n", file);
    fflush(fp);
}

/* Reads the image's first bytes: a missing format= must not hide qcow2 & co. */
static int check_content(struct ob_drive *d, bool probe, const char *given_file,
                         char *err, size_t errlen)
{
    uint8_t head[PROBE_LEN];
    const char *fmt;
    int rc;

    memset(head, 0, sizeof(head));
    rc = ob_drive_read_sync(d, 0, head,
                            d->size < sizeof(head) ? (size_t)d->size : sizeof(head));
    if (rc < 0) {
        return ERR("Could not read '%s': %s", d->filename, strerror(-rc));
    }
    memcpy(d->sector0, head, sizeof(d->sector0));
    fmt = image_format_of(head, sizeof(head));
    if (probe && fmt) {
        return ERR("'%s' is a %s image, which outboard does not serve (raw only); "
                   "convert it with: qemu-img convert -f %s -O raw '%s' '%s.raw'",
                   given_file, fmt, fmt, given_file, given_file);
    }
    if (fmt) {
        ob_info(&d->ctx->log, "drive %s: '%s' has a %s header but format=raw was "
                "given: serving it as raw", d->id, d->filename, fmt);
    }
    if (probe && !d->readonly) {
        d->probed = true;
        print_probe_warning(d->ctx, given_file);
    }
    return 0;
}

static struct ob_drive *drive_alloc(struct ob_ctx *ctx, const char *id, char *err,
                                    size_t errlen)
{
    struct ob_drive *d = calloc(1, sizeof(*d));
    struct ob_drive *e;
    unsigned n = 0;
    char auto_id[32];

    if (!d) {
        ERR("out of memory");
        return NULL;
    }
    d->ctx = ctx;
    d->fd = -1;
    d->fd_tail = -1;
    for (e = ctx->drives; e; e = e->next) {
        n++;
    }
    if (!id) {
        /* QEMU's name for the n-th if=none drive without an id. */
        snprintf(auto_id, sizeof(auto_id), "none%u", n);
        id = auto_id;
    }
    d->id = strdup(id);
    if (!d->id) {
        ERR("out of memory");
        free(d);
        return NULL;
    }
    return d;
}

static void drive_free(struct ob_drive *d)
{
    /* The engine first waits until the kernel is done with our buffers. */
    if (d->aio) {
        ob_aio_free(d->aio);
    }
    while (d->reqs) {
        blk_free(d->reqs);
    }
    if (d->fd >= 0) {
        close(d->fd);
    }
    if (d->fd_tail >= 0) {
        close(d->fd_tail);
    }
    free(d->id);
    free(d->filename);
    free(d->pttype);
    free(d->fstype);
    free(d);
}

static void drive_log(const struct ob_drive *d, const char *given)
{
    ob_info(&d->ctx->log, "drive %s: %s%s%s%s (%s, %" PRIu64 " bytes), cache=%s%s, "
            "aio=%s, partition table: %s, filesystem: %s",
            d->id, given, strcmp(given, d->filename) ? " = " : "",
            strcmp(given, d->filename) ? d->filename : "",
            d->readonly ? " read-only" : "",
            d->is_blockdev ? "block device" : "regular file", d->size,
            ob_cache_mode_name(d->cache), d->direct ? " (O_DIRECT)" : "",
            ob_aio_name(d->aio), d->pttype ? d->pttype : "none",
            d->fstype ? d->fstype : "none");
}

static int drive_setup(struct ob_drive *d, const struct drive_conf *c,
                       const struct drive_flags *f, bool probe, char *err,
                       size_t errlen)
{
    d->readonly = f->readonly;
    d->direct = f->direct;
    d->dsync = f->dsync;
    d->no_flush = f->no_flush;
    d->discard = f->discard;
    d->cache = f->cache;
    d->werror = f->werror;
    d->rerror = f->rerror;
    d->filename = resolve_file(c->file, err, errlen);
    if (!d->filename || open_image(d, f, err, errlen) < 0 ||
        size_image(d, err, errlen) < 0 || open_tail(d, f, err, errlen) < 0 ||
        check_content(d, probe, c->file, err, errlen) < 0) {
        return -1;
    }
    probe_blkid(d);
    d->aio = ob_aio_new(d->ctx->base, &d->ctx->log, f->aio, BLK_AIO_DEPTH, err, errlen);
    if (!d->aio) {
        return -1;
    }
    drive_log(d, c->file);
    return 0;
}

int ob_drive_create(struct ob_ctx *ctx, struct ob_opts *o, char *err, size_t errlen)
{
    struct drive_conf c;
    struct drive_flags f;
    struct ob_drive *d, **tail;
    const char *unused;
    bool probe;

    get_conf(o, &c);
    unused = ob_opts_first_unused(o);
    if (unused) {
        return ERR("Invalid parameter '%s'", unused);
    }
    if (c.id && ob_drive_find(ctx, c.id)) {
        return ERR("Duplicate ID '%s' for drive", c.id);
    }
    if (check_unsupported(&c, err, errlen) < 0 || parse_flags(&c, &f, err, errlen) < 0 ||
        check_format(&c, &probe, err, errlen) < 0) {
        return -1;
    }
    if (!c.file || !*c.file) {
        return ERR("drive has no file= (empty drives are not supported by outboard)");
    }
    d = drive_alloc(ctx, c.id, err, errlen);
    if (!d) {
        return -1;
    }
    if (drive_setup(d, &c, &f, probe, err, errlen) < 0) {
        drive_free(d);
        return -1;
    }
    for (tail = &ctx->drives; *tail; tail = &(*tail)->next) {
    }
    *tail = d;
    return 0;
}

struct ob_drive *ob_drive_find(struct ob_ctx *ctx, const char *id)
{
    struct ob_drive *d;

    for (d = ctx->drives; d; d = d->next) {
        if (strcmp(d->id, id) == 0) {
            return d;
        }
    }
    return NULL;
}

int ob_drive_destroy(struct ob_drive *d)
{
    struct ob_drive **pp;

    if (d->attached) {
        return -EBUSY;
    }
    ob_drive_drain(d);
    for (pp = &d->ctx->drives; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    }
    drive_free(d);
    return 0;
}

void ob_drive_destroy_all(struct ob_ctx *ctx)
{
    while (ctx->drives) {
        struct ob_drive *d = ctx->drives;

        ctx->drives = d->next;
        if (d->inflight > 0) {
            ob_warn(&ctx->log, "drive %s: %u request(s) still in flight at exit; "
                    "waiting for them", d->id, d->inflight);
        }
        drive_free(d);
    }
}
