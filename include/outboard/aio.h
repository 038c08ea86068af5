/*
 * aio.h - the asynchronous I/O engine under the block layer: primitive
 * operations (readv, writev, fdatasync, fallocate) on file descriptors,
 * completed on the loop.
 *
 * Two back ends share one interface:
 *   io_uring  one ring per engine; its eventfd (io_uring_register_eventfd)
 *             is watched by a libevent event, completions are reaped and
 *             dispatched from that event. Submissions made while the loop
 *             runs one callback are batched into one io_uring_enter().
 *   sync      the fallback when io_uring is unavailable (ENOSYS, EPERM under
 *             seccomp, io_uring_disabled) or forced: each operation is
 *             performed with an ordinary system call from a deferred
 *             (zero-timeout) event, a bounded number per loop pass. The loop
 *             blocks for the duration of each call (microseconds from the
 *             page cache, up to a device's latency otherwise), but completions
 *             stay asynchronous to the submitter and other events interleave.
 * An operation the ring does not support (probed at start) is run by the
 * sync path even on an io_uring engine.
 *
 * Contract: ob_aio_submit() never fails and never calls DONE itself; DONE
 * always runs later, from the loop (or from ob_aio_drain()).
 */
#ifndef OUTBOARD_AIO_H
#define OUTBOARD_AIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct event_base;
struct ob_log;
struct ob_aio;

enum ob_aio_opcode {
    OB_AIO_READV,
    OB_AIO_WRITEV,
    OB_AIO_FDATASYNC,
    OB_AIO_FALLOCATE,
    OB_AIO_NOP,          /* completes with 0: a deferred completion */
};

enum ob_aio_kind {
    OB_AIO_AUTO,        /* io_uring, else sync */
    OB_AIO_IO_URING,    /* io_uring or fail */
    OB_AIO_SYNC,        /* the fallback, forced */
};

struct ob_aio_op {
    enum ob_aio_opcode opc;
    int fd;
    const struct iovec *iov;     /* READV/WRITEV */
    int iovcnt;
    uint64_t offset;
    uint64_t len;                /* FALLOCATE */
    int flags;                   /* RWF_* for READV/WRITEV, mode for FALLOCATE */
    /* RES: bytes transferred (may be short), 0, or -errno. */
    void (*done)(struct ob_aio_op *op, int64_t res);
    struct ob_aio_op *next;      /* engine queues */
};

/*
 * Creates an engine of at most DEPTH operations in flight at once (more are
 * queued). With OB_AIO_AUTO a failing io_uring is logged once and the sync
 * engine used. Returns NULL with one line in ERR.
 */
struct ob_aio *ob_aio_new(struct event_base *base, const struct ob_log *lg,
                          enum ob_aio_kind kind, unsigned depth, char *err,
                          size_t errlen);
/* Frees A; operations still in flight are waited for first (DONE is not
 * called for them). */
void ob_aio_free(struct ob_aio *a);
void ob_aio_submit(struct ob_aio *a, struct ob_aio_op *op);
/* Blocks until no operation is queued or in flight, running DONE callbacks
 * (which may submit more). For teardown and tests only. */
void ob_aio_drain(struct ob_aio *a);
unsigned ob_aio_pending(const struct ob_aio *a);
/* "io_uring" or "sync". */
const char *ob_aio_name(const struct ob_aio *a);
/* OUTBOARD_AIO=sync|io_uring|auto in the environment, else AUTO. */
enum ob_aio_kind ob_aio_kind_from_env(void);

#endif
