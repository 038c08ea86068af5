/*
 * aio.c - the asynchronous I/O engine: io_uring with an eventfd on the loop,
 * and a synchronous fallback run from zero-timeout events (see aio.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <liburing.h>

#include "outboard/aio.h"
#include "outboard/log.h"

/* The sync fallback yields to the loop after this much work per pass. */
#define SYNC_BUDGET_NS   500000
/* Completions handled per batch taken from the completion ring. */
#define REAP_BATCH       64

struct op_queue {
    struct ob_aio_op *head, *tail;
};

struct ob_aio {
    struct event_base *base;
    const struct ob_log *log;
    unsigned depth;
    /* io_uring */
    bool have_ring;
    struct io_uring ring;
    int efd;
    struct event *cq_ev;          /* the ring's eventfd is readable */
    struct event *submit_ev;      /* deferred io_uring_submit() */
    bool submit_armed;
    unsigned prepared;            /* SQEs filled since the last submit */
    unsigned ring_inflight;       /* SQEs filled and not completed */
    bool ring_op[OB_AIO_NOP + 1];  /* opcode supported by the ring */
    struct op_queue ring_wait;    /* waiting for ring space */
    /* sync fallback (and ring-unsupported opcodes) */
    struct event *sync_ev;
    struct op_queue sync_q;
    unsigned sync_queued;
};

static void q_push(struct op_queue *q, struct ob_aio_op *op)
{
    op->next = NULL;
    if (q->tail) {
        q->tail->next = op;
    } else {
        q->head = op;
    }
    q->tail = op;
}

static struct ob_aio_op *q_pop(struct op_queue *q)
{
    struct ob_aio_op *op = q->head;

    if (op) {
        q->head = op->next;
        if (!q->head) {
            q->tail = NULL;
        }
        op->next = NULL;
    }
    return op;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the synchronous path --------------------------------------------- */

static int64_t sync_exec(const struct ob_aio_op *op)
{
    ssize_t r;

    do {
        switch (op->opc) {
        case OB_AIO_READV:
            r = preadv2(op->fd, op->iov, op->iovcnt, (off_t)op->offset, op->flags);
            break;
        case OB_AIO_WRITEV:
            r = pwritev2(op->fd, op->iov, op->iovcnt, (off_t)op->offset, op->flags);
            break;
        case OB_AIO_FDATASYNC:
            r = fdatasync(op->fd);
            break;
        case OB_AIO_FALLOCATE:
            r = fallocate(op->fd, op->flags, (off_t)op->offset, (off_t)op->len);
            break;
        case OB_AIO_NOP:
            r = 0;
            break;
        default:
            errno = EINVAL;
            r = -1;
            break;
        }
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -(int64_t)errno : (int64_t)r;
}

static void sync_arm(struct ob_aio *a)
{
    static const struct timeval zero = { 0, 0 };

    /* A zero timeout (not event_active) so that the loop polls its other
     * events between two passes. */
    if (!event_pending(a->sync_ev, EV_TIMEOUT, NULL)) {
        event_add(a->sync_ev, &zero);
    }
}

/* Runs queued operations until the queue is empty or the budget is spent
 * (ALL: until empty). */
static void sync_run(struct ob_aio *a, bool all)
{
    uint64_t start = now_ns();
    struct ob_aio_op *op;

    while ((op = q_pop(&a->sync_q)) != NULL) {
        int64_t res = sync_exec(op);

        a->sync_queued--;
        op->done(op, res);
        if (!all && now_ns() - start > SYNC_BUDGET_NS) {
            break;
        }
    }
    if (a->sync_q.head) {
        sync_arm(a);
    }
}

static void on_sync(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    sync_run(opaque, false);
}

/* ---- the io_uring path ------------------------------------------------ */

static void ring_arm_submit(struct ob_aio *a)
{
    if (!a->submit_armed) {
        a->submit_armed = true;
        event_active(a->submit_ev, EV_TIMEOUT, 0);
    }
}

static void ring_submit(struct ob_aio *a);

/* Fills one SQE for OP. False when the submission ring is full. */
static bool ring_prep(struct ob_aio *a, struct ob_aio_op *op)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&a->ring);

    if (!sqe && a->prepared > 0) {
        /* Full of prepared entries: hand them to the kernel now. */
        int rc = io_uring_submit(&a->ring);

        if (rc > 0) {
            a->prepared -= (unsigned)rc < a->prepared ? (unsigned)rc : a->prepared;
        }
        sqe = io_uring_get_sqe(&a->ring);
    }
    if (!sqe) {
        return false;
    }
    switch (op->opc) {
    case OB_AIO_READV:
        io_uring_prep_readv2(sqe, op->fd, op->iov, (unsigned)op->iovcnt, op->offset,
                             op->flags);
        break;
    case OB_AIO_WRITEV:
        io_uring_prep_writev2(sqe, op->fd, op->iov, (unsigned)op->iovcnt, op->offset,
                              op->flags);
        break;
    case OB_AIO_FDATASYNC:
        io_uring_prep_fsync(sqe, op->fd, IORING_FSYNC_DATASYNC);
        break;
    case OB_AIO_FALLOCATE:
        io_uring_prep_fallocate(sqe, op->fd, op->flags, (off_t)op->offset,
                                (off_t)op->len);
        break;
    case OB_AIO_NOP:
        io_uring_prep_nop(sqe);
        break;
    }
    io_uring_sqe_set_data(sqe, op);
    a->prepared++;
    a->ring_inflight++;
    if (a->ring_inflight == 1) {
        /* The ring was idle: whoever waits for this one waits for nothing
         * else, so it goes to the kernel now rather than after another
         * pass of the loop. Later ones in the same pass are batched. */
        ring_submit(a);
    } else {
        ring_arm_submit(a);
    }
    return true;
}

static void ring_start_waiting(struct ob_aio *a)
{
    while (a->ring_wait.head && a->ring_inflight < a->depth) {
        struct ob_aio_op *op = q_pop(&a->ring_wait);

        if (!ring_prep(a, op)) {
            /* Put it back in front: order is kept. */
            op->next = a->ring_wait.head;
            a->ring_wait.head = op;
            if (!a->ring_wait.tail) {
                a->ring_wait.tail = op;
            }
            break;
        }
    }
}

static void ring_submit(struct ob_aio *a)
{
    int rc;

    a->submit_armed = false;
    if (a->prepared == 0) {
        return;
    }
    do {
        rc = io_uring_submit(&a->ring);
    } while (rc == -EINTR);
    if (rc >= 0) {
        a->prepared -= (unsigned)rc < a->prepared ? (unsigned)rc : a->prepared;
        return;
    }
    /* -EAGAIN/-EBUSY: the kernel is short of resources or completions are
     * backed up; retry after the next completions (or a short wait). */
    if (rc == -EAGAIN || rc == -EBUSY) {
        static const struct timeval later = { 0, 1000 };

        event_add(a->submit_ev, &later);
        a->submit_armed = true;
        return;
    }
    ob_err(a->log, "io_uring_submit: %s", strerror(-rc));
}

static void on_submit(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    ring_submit(opaque);
}

/* Dispatches every completion available now. Returns how many. */
static unsigned ring_reap(struct ob_aio *a)
{
    unsigned total = 0;

    for (;;) {
        struct ob_aio_op *ops[REAP_BATCH];
        int64_t res[REAP_BATCH];
        struct io_uring_cqe *cqe;
        unsigned head, n = 0, i;

        io_uring_for_each_cqe(&a->ring, head, cqe) {
            ops[n] = io_uring_cqe_get_data(cqe);
            res[n] = cqe->res;
            if (++n == REAP_BATCH) {
                break;
            }
        }
        if (n == 0) {
            break;
        }
        io_uring_cq_advance(&a->ring, n);
        a->ring_inflight -= n;
        total += n;
        for (i = 0; i < n; i++) {
            ops[i]->done(ops[i], res[i]);
        }
        ring_start_waiting(a);
    }
    return total;
}

/* The eventfd is watched edge-triggered and never read: each completion
 * the kernel posts signals it, which is a new edge even while its counter
 * is non-zero, so one read() per wake-up is saved. */
static void on_cq(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    ring_reap(opaque);
}

static const uint8_t ring_opcodes[OB_AIO_NOP] = {
    [OB_AIO_READV] = IORING_OP_READV,
    [OB_AIO_WRITEV] = IORING_OP_WRITEV,
    [OB_AIO_FDATASYNC] = IORING_OP_FSYNC,
    [OB_AIO_FALLOCATE] = IORING_OP_FALLOCATE,
};

/* Probes which operations the ring supports. The three basic ones must be. */
static int ring_probe_ops(struct ob_aio *a)
{
    struct io_uring_probe *p = io_uring_get_probe_ring(&a->ring);
    size_t i;

    if (!p) {
        return -ENOSYS;
    }
    for (i = 0; i < OB_AIO_NOP; i++) {
        a->ring_op[i] = io_uring_opcode_supported(p, ring_opcodes[i]) != 0;
    }
    /* A no-op is cheaper as a deferred call than as a ring round trip. */
    a->ring_op[OB_AIO_NOP] = false;
    io_uring_free_probe(p);
    if (!a->ring_op[OB_AIO_READV] || !a->ring_op[OB_AIO_WRITEV] ||
        !a->ring_op[OB_AIO_FDATASYNC]) {
        return -ENOSYS;
    }
    return 0;
}

static int ring_init(struct ob_aio *a)
{
    int rc = io_uring_queue_init(a->depth, &a->ring, 0);

    if (rc < 0) {
        return rc;
    }
    a->have_ring = true;
    rc = ring_probe_ops(a);
    if (rc < 0) {
        return rc;
    }
    a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (a->efd < 0) {
        return -errno;
    }
    rc = io_uring_register_eventfd(&a->ring, a->efd);
    if (rc < 0) {
        return rc;
    }
    a->cq_ev = event_new(a->base, a->efd, EV_READ | EV_PERSIST | EV_ET, on_cq, a);
    a->submit_ev = event_new(a->base, -1, 0, on_submit, a);
    if (!a->cq_ev || !a->submit_ev || event_add(a->cq_ev, NULL) < 0) {
        return -ENOMEM;
    }
    return 0;
}

static void ring_fini(struct ob_aio *a)
{
    if (a->cq_ev) {
        event_free(a->cq_ev);
        a->cq_ev = NULL;
    }
    if (a->submit_ev) {
        event_free(a->submit_ev);
        a->submit_ev = NULL;
    }
    if (a->have_ring) {
        io_uring_queue_exit(&a->ring);
        a->have_ring = false;
    }
    if (a->efd >= 0) {
        close(a->efd);
        a->efd = -1;
    }
}

/* ---- the interface ---------------------------------------------------- */

enum ob_aio_kind ob_aio_kind_from_env(void)
{
    const char *v = getenv("OUTBOARD_AIO");

    if (v && strcmp(v, "sync") == 0) {
        return OB_AIO_SYNC;
    }
    if (v && strcmp(v, "io_uring") == 0) {
        return OB_AIO_IO_URING;
    }
    return OB_AIO_AUTO;
}

struct ob_aio *ob_aio_new(struct event_base *base, const struct ob_log *lg,
                          enum ob_aio_kind kind, unsigned depth, char *err,
                          size_t errlen)
{
    struct ob_aio *a = calloc(1, sizeof(*a));
    int rc;

    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->base = base;
    a->log = lg;
    a->depth = depth ? depth : 128;
    a->efd = -1;
    a->sync_ev = event_new(base, -1, 0, on_sync, a);
    if (!a->sync_ev) {
        snprintf(err, errlen, "out of memory");
        free(a);
        return NULL;
    }
    if (kind == OB_AIO_SYNC) {
        return a;
    }
    rc = ring_init(a);
    if (rc == 0) {
        return a;
    }
    ring_fini(a);
    if (kind == OB_AIO_IO_URING) {
        snprintf(err, errlen, "Unable to use io_uring: %s", strerror(-rc));
        event_free(a->sync_ev);
        free(a);
        return NULL;
    }
    ob_info(lg, "io_uring unavailable (%s): using synchronous I/O from the loop",
            strerror(-rc));
    return a;
}

unsigned ob_aio_pending(const struct ob_aio *a)
{
    unsigned n = a->sync_queued + a->ring_inflight;
    const struct ob_aio_op *op;

    for (op = a->ring_wait.head; op; op = op->next) {
        n++;
    }
    return n;
}

void ob_aio_submit(struct ob_aio *a, struct ob_aio_op *op)
{
    op->next = NULL;
    if (a->have_ring && a->ring_op[op->opc]) {
        if (a->ring_wait.head || a->ring_inflight >= a->depth || !ring_prep(a, op)) {
            q_push(&a->ring_wait, op);
        }
        return;
    }
    q_push(&a->sync_q, op);
    a->sync_queued++;
    sync_arm(a);
}

void ob_aio_drain(struct ob_aio *a)
{
    while (ob_aio_pending(a) > 0) {
        if (a->sync_q.head) {
            sync_run(a, true);
            continue;
        }
        if (a->have_ring && a->ring_inflight > 0) {
            struct io_uring_cqe *cqe;
            int rc;

            ring_submit(a);
            rc = io_uring_wait_cqe(&a->ring, &cqe);
            if (rc < 0 && rc != -EINTR && rc != -EAGAIN) {
                ob_err(a->log, "io_uring_wait_cqe: %s", strerror(-rc));
                return;
            }
            ring_reap(a);
            continue;
        }
        if (a->have_ring) {
            ring_start_waiting(a);
        }
    }
}

const char *ob_aio_name(const struct ob_aio *a)
{
    return a->have_ring ? "io_uring" : "sync";
}

void ob_aio_free(struct ob_aio *a)
{
    if (!a) {
        return;
    }
    if (a->have_ring) {
        /* Buffers of operations still in flight belong to their owners,
         * who may free them once we return: wait for the kernel to let go. */
        ring_submit(a);
        while (a->ring_inflight > 0) {
            struct io_uring_cqe *cqe;
            int rc = io_uring_wait_cqe(&a->ring, &cqe);

            if (rc < 0 && rc != -EINTR && rc != -EAGAIN) {
                break;
            }
            if (rc == 0) {
                io_uring_cqe_seen(&a->ring, cqe);
                a->ring_inflight--;
            }
        }
    }
    ring_fini(a);
    event_free(a->sync_ev);
    free(a);
}
