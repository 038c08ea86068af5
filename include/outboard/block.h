/*
 * block.h - drives (-drive): raw images and block devices, probed with
 * libblkid, served with asynchronous I/O whose completions run on the loop.
 *
 * -drive options (QEMU's syntax; see core/block.c for the full table):
 *   id=ID                 required (if=none drives without one are named
 *                         "noneN", as QEMU does)
 *   file=PATH             a regular file or a block device; LABEL=, UUID=,
 *                         PARTUUID= are resolved with libblkid (extension)
 *   format=raw            the only format served; qcow2, vmdk, ... are
 *                         refused with the qemu-img command that converts
 *                         them; without format= the image is probed: raw
 *                         with QEMU's warning and writes to block 0 that
 *                         would make it look like another format refused
 *   if=none               (the default of the x-remote machine)
 *   media=disk, readonly=on|off (read-only=), cache=writeback|none|
 *   directsync|writethrough|unsafe, cache.direct=, cache.no-flush=,
 *   discard=ignore|unmap, aio=threads|native|io_uring|sync,
 *   werror=/rerror=report|ignore|enospc (stop is refused)
 *
 * Requests are asynchronous: submission returns at once and the callback
 * runs later from the loop, never from inside the submitting call.
 */
#ifndef OUTBOARD_BLOCK_H
#define OUTBOARD_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "outboard/opts.h"

struct ob_ctx;
struct ob_aio;
struct ob_device;
struct ob_blk_req;

enum ob_cache_mode {
    OB_CACHE_WRITEBACK,     /* page cache; flush = fdatasync */
    OB_CACHE_NONE,          /* O_DIRECT; flush = fdatasync */
    OB_CACHE_DIRECTSYNC,    /* O_DIRECT | O_DSYNC */
    OB_CACHE_WRITETHROUGH,  /* page cache | O_DSYNC */
    OB_CACHE_UNSAFE,        /* page cache; flushes ignored */
};

/* What a device does with an I/O error (-drive werror=/rerror=). */
enum ob_drive_errpolicy {
    OB_ERRPOL_REPORT,       /* report it to the guest */
    OB_ERRPOL_IGNORE,       /* pretend success */
    OB_ERRPOL_ENOSPC,       /* QEMU: stop on ENOSPC; here: report (no VM stop) */
};

/* Parses a werror=/rerror= value NAME=V (NULL: report) into OUT; stop is
 * refused. Returns 0, or -1 with one line in ERR. */
int ob_drive_parse_errpol(const char *name, const char *v,
                          enum ob_drive_errpolicy *out, char *err, size_t errlen);

struct ob_drive_stats {
    uint64_t rd_ops, wr_ops, flush_ops;
    uint64_t rd_bytes, wr_bytes;
    uint64_t errors;
};

struct ob_drive {
    struct ob_ctx *ctx;
    char *id;
    char *filename;          /* as resolved (LABEL=/UUID=/PARTUUID= -> path) */
    int fd;
    int fd_tail;             /* buffered fd for an O_DIRECT image's unaligned tail, or -1 */
    bool readonly;
    bool is_blockdev;
    bool direct;             /* O_DIRECT */
    bool dsync;              /* O_DSYNC: every write is durable */
    bool no_flush;           /* flushes and FUA are no-ops (cache=unsafe) */
    bool discard;            /* discard=unmap: discards punch holes */
    bool probed;             /* format guessed: block-0 writes restricted */
    bool no_rwf_dsync;       /* FUA emulated with a following fdatasync */
    enum ob_cache_mode cache;
    enum ob_drive_errpolicy werror, rerror;
    uint64_t size;           /* bytes */
    uint32_t align;          /* required buffer/offset alignment (O_DIRECT), else 1 */
    uint32_t logical_block;  /* host logical block size (512 for files) */
    uint32_t physical_block; /* host physical block size */
    char *pttype;            /* libblkid: partition table type, or NULL */
    char *fstype;            /* libblkid: filesystem type, or NULL */
    struct ob_device *attached;  /* the device using it, or NULL */
    struct ob_aio *aio;      /* the asynchronous I/O engine */
    unsigned inflight;
    struct ob_blk_req *reqs;     /* every request in flight */
    struct ob_blk_req *writes;   /* O_DIRECT writes in flight or waiting, in order */
    uint8_t sector0[512];    /* block 0 as last written (probed images only) */
    struct ob_drive_stats stats;
    struct ob_drive *next;   /* ctx->drives */
};

/*
 * Completion callback, run on the loop: RET is the byte count (read/write,
 * always the full length on success), 0 for a flush/discard/zeroes, or
 * -errno.
 */
typedef void ob_block_cb(void *opaque, int64_t ret);

/* Creates a drive from -drive options and adds it to CTX. Errors: -1 with one
 * line in ERR (without the "-drive ...:" prefix), e.g.
 * "Could not open '/x': No such file or directory". */
int ob_drive_create(struct ob_ctx *ctx, struct ob_opts *o, char *err, size_t errlen);
struct ob_drive *ob_drive_find(struct ob_ctx *ctx, const char *id);
/* Removes one drive (blockdev-del): -EBUSY while a device uses it; else
 * waits for its requests and frees it. Returns 0 or -EBUSY. */
int ob_drive_destroy(struct ob_drive *d);
/* Frees every drive of CTX. I/O still in flight (its owner should have
 * drained it) is waited for and dropped without callbacks. */
void ob_drive_destroy_all(struct ob_ctx *ctx);

/* Submits I/O; the iovecs must stay valid until CB runs. Returns 0 or
 * -errno (CB is then not called): -EINVAL past the end of the drive, -EROFS
 * on a read-only drive, -EPERM for a write that would make a probed raw
 * image look like another format. Buffers need not be aligned: the engine
 * bounces unaligned requests for O_DIRECT drives (and serialises the
 * read-modify-write this needs). FUA: durable on completion. */
int ob_drive_preadv(struct ob_drive *d, uint64_t offset, const struct iovec *iov,
                    int iovcnt, ob_block_cb *cb, void *opaque);
int ob_drive_pwritev(struct ob_drive *d, uint64_t offset, const struct iovec *iov,
                     int iovcnt, bool fua, ob_block_cb *cb, void *opaque);
/* Completes after every write completed before it is durable. */
int ob_drive_flush(struct ob_drive *d, ob_block_cb *cb, void *opaque);
/* Deallocates a range (discard=unmap; a no-op with discard=ignore or where
 * the host cannot). Reads of the range return old data or zeroes. */
int ob_drive_discard(struct ob_drive *d, uint64_t offset, uint64_t len,
                     ob_block_cb *cb, void *opaque);
/* Writes zeroes over a range (fallocate, else explicit writes); with
 * OB_ZEROES_MAY_UNMAP and discard=unmap the range may be deallocated. */
#define OB_ZEROES_MAY_UNMAP  1u
int ob_drive_pwrite_zeroes(struct ob_drive *d, uint64_t offset, uint64_t len,
                           unsigned flags, ob_block_cb *cb, void *opaque);

/* Blocks until D has no request in flight, running their callbacks. For
 * teardown (a device draining before it is freed) and tests. */
void ob_drive_drain(struct ob_drive *d);
/* Synchronous read for start-up probes (e.g. a geometry guess). 0 or -errno. */
int ob_drive_read_sync(struct ob_drive *d, uint64_t offset, void *buf, size_t len);

const char *ob_cache_mode_name(enum ob_cache_mode m);
/* Name of the I/O engine serving D: "io_uring" or "sync". */
const char *ob_drive_aio_name(const struct ob_drive *d);

#endif
