/*
 * chan.c - one mpqemu connection on the loop.
 *
 * Input is read in large chunks with recvmsg(); several messages may arrive
 * in one read. The kernel ends a read right after the first segment that
 * carries SCM_RIGHTS fds, and the proxy sends each message (header, payload
 * and fds) with one sendmsg(), so the fds of a read belong to the last
 * message that starts inside that read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "outboard/chan.h"
#include "outboard/ctx.h"
#include "outboard/pci.h"

#define CHAN_MAX_RECV_FDS 32   /* more than any message may carry */

static const struct ob_log *chan_log(const struct ob_chan *ch)
{
    return &ch->ctx->log;
}

static void close_fds(int *fds, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

static void drop_pending_fds(struct ob_chan *ch)
{
    close_fds(ch->pend_fds, ch->pend_nfds);
    ch->pend_nfds = 0;
    ch->pend_bad = false;
}

static void on_writable(evutil_socket_t fd, short what, void *opaque);

/* Queues bytes the socket did not take; they go out when it drains. */
static int queue_output(struct ob_chan *ch, const uint8_t *buf, size_t len)
{
    if (ch->out_len + len > ch->out_cap) {
        size_t cap = ch->out_cap ? ch->out_cap * 2 : 1024;
        uint8_t *p;

        while (cap < ch->out_len + len) {
            cap *= 2;
        }
        p = realloc(ch->out, cap);
        if (!p) {
            return -1;
        }
        ch->out = p;
        ch->out_cap = cap;
    }
    memcpy(ch->out + ch->out_len, buf, len);
    ch->out_len += len;
    return event_add(ch->wev, NULL);
}

static int chan_send(struct ob_chan *ch, const uint8_t *buf, size_t len)
{
    ssize_t n = 0;

    if (ch->out_len == 0) {
        n = send(ch->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                return -1;
            }
            n = 0;
        }
    }
    ch->stats.bytes_out += (size_t)n;
    if ((size_t)n < len && queue_output(ch, buf + n, len - (size_t)n) < 0) {
        return -1;
    }
    return 0;
}

static void on_writable(evutil_socket_t fd, short what, void *opaque)
{
    struct ob_chan *ch = opaque;
    ssize_t n;

    (void)what;
    n = send(fd, ch->out, ch->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return;
        }
        ob_chan_close(ch, strerror(errno));
        return;
    }
    ch->stats.bytes_out += (size_t)n;
    memmove(ch->out, ch->out + n, ch->out_len - (size_t)n);
    ch->out_len -= (size_t)n;
    if (ch->out_len == 0) {
        event_del(ch->wev);
    }
}

static int reply(struct ob_chan *ch, uint64_t val, bool has_val)
{
    uint8_t buf[OB_MPQ_RET_LEN];
    size_t len = ob_mpq_encode_ret(buf, val, has_val);

    ob_logc(chan_log(ch), OB_LOGC_MPQEMU, "%s: -> RET %#llx%s", ch->id,
            (unsigned long long)val, has_val ? "" : " (no payload)");
    return chan_send(ch, buf, len);
}

static void handle_sysmem(struct ob_chan *ch, struct ob_mpq_msg *m)
{
    struct ob_mem_desc d[OB_MPQ_MAX_FDS];
    char err[200];
    unsigned i;

    for (i = 0; i < m->nfds; i++) {
        d[i].gpa = m->u.sysmem.gpa[i];
        d[i].size = m->u.sysmem.size[i];
        d[i].offset = m->u.sysmem.offset[i];
        d[i].fd = m->fds[i];
        m->fds[i] = -1;           /* ob_mem_sync() owns them now */
    }
    if (ob_mem_sync(&ch->dev->mem, d, m->nfds, err, sizeof(err)) < 0) {
        ch->stats.errors++;
        ob_err(chan_log(ch), "%s: SYNC_SYSMEM rejected, keeping the previous map: %s",
               ch->id, err);
    }
}

/* Runs one validated request; returns the RET value (if it gets one). */
static uint64_t dispatch(struct ob_chan *ch, struct ob_mpq_msg *m, bool *has_val)
{
    struct ob_pci_dev *pd = ch->dev;
    unsigned bar;
    uint64_t off;

    *has_val = true;
    switch (m->cmd) {
    case OB_MPQ_SYNC_SYSMEM:
        handle_sysmem(ch, m);
        return 0;
    case OB_MPQ_SET_IRQFD:
        ob_irq_set_fds(&pd->intx, m->fds[0], m->fds[1]);
        m->fds[0] = m->fds[1] = -1;
        return 0;
    case OB_MPQ_PCI_CFGREAD:
        return ob_pci_config_read(pd, m->u.cfg.addr, (unsigned)m->u.cfg.len);
    case OB_MPQ_PCI_CFGWRITE:
        ob_pci_config_write(pd, m->u.cfg.addr, m->u.cfg.val, (unsigned)m->u.cfg.len);
        return 0;
    case OB_MPQ_BAR_READ:
    case OB_MPQ_BAR_WRITE:
        if (!ob_mpq_resolve_bar(pd->win, pd->nwin, &m->u.bar, &bar, &off)) {
            ch->stats.errors++;
            ob_logc(chan_log(ch), OB_LOGC_GUEST_ERROR,
                    "%s: %s of %u bytes at %s address %#llx: no BAR decodes it",
                    ch->id, ob_mpq_cmd_name(m->cmd), m->u.bar.size,
                    m->u.bar.memory ? "memory" : "I/O",
                    (unsigned long long)m->u.bar.addr);
            return OB_MPQ_ERR_VALUE;
        }
        if (m->cmd == OB_MPQ_BAR_WRITE) {
            pd->ops->bar_write(pd, bar, off, m->u.bar.val, m->u.bar.size);
            return 0;
        } else {
            uint64_t v = pd->ops->bar_read(pd, bar, off, m->u.bar.size);

            return m->u.bar.size < 8 ? v & ((UINT64_C(1) << (8 * m->u.bar.size)) - 1) : v;
        }
    case OB_MPQ_DEVICE_RESET:
        ob_pci_reset(pd);
        *has_val = false;     /* QEMU's remote answers a reset with an empty RET */
        return 0;
    default:
        return OB_MPQ_ERR_VALUE;
    }
}

static void log_msg(const struct ob_chan *ch, const struct ob_mpq_msg *m)
{
    switch (m->cmd) {
    case OB_MPQ_PCI_CFGREAD:
    case OB_MPQ_PCI_CFGWRITE:
        ob_logc(chan_log(ch), OB_LOGC_MPQEMU, "%s: <- %s addr %#x val %#x len %d",
                ch->id, ob_mpq_cmd_name(m->cmd), m->u.cfg.addr, m->u.cfg.val,
                m->u.cfg.len);
        break;
    case OB_MPQ_BAR_READ:
    case OB_MPQ_BAR_WRITE:
        ob_logc(chan_log(ch), OB_LOGC_MPQEMU, "%s: <- %s %s %#llx val %#llx size %u",
                ch->id, ob_mpq_cmd_name(m->cmd), m->u.bar.memory ? "mem" : "io",
                (unsigned long long)m->u.bar.addr, (unsigned long long)m->u.bar.val,
                m->u.bar.size);
        break;
    default:
        ob_logc(chan_log(ch), OB_LOGC_MPQEMU, "%s: <- %s (%u fds)", ch->id,
                ob_mpq_cmd_name(m->cmd), m->nfds);
        break;
    }
}

/*
 * Handles the message at IN[0..16+h->size) with FDS. Returns -1 if the
 * channel must close (reply could not be sent).
 */
static int handle_message(struct ob_chan *ch, const struct ob_mpq_hdr *h,
                          const uint8_t *payload, int *fds, unsigned nfds, bool fds_bad)
{
    struct ob_mpq_msg m;
    const char *why = NULL;
    enum ob_mpq_status st;
    uint64_t val;
    bool has_val;
    int rc = 0;

    st = ob_mpq_decode(h, payload, fds, fds_bad ? OB_MPQ_MAX_FDS + 1 : nfds, &m, &why);
    if (st != OB_MPQ_OK) {
        ch->stats.errors++;
        ob_err(chan_log(ch), "%s: invalid %s message (cmd %d, %llu payload bytes, "
               "%u fds): %s", ch->id, ob_mpq_cmd_name(h->cmd), (int)h->cmd,
               (unsigned long long)h->size, nfds, why);
        close_fds(fds, nfds);
        if (ob_mpq_wants_reply(h->cmd)) {
            rc = reply(ch, OB_MPQ_ERR_VALUE, true);
        }
        return rc;
    }
    ch->stats.msgs[m.cmd]++;
    log_msg(ch, &m);
    val = dispatch(ch, &m, &has_val);
    close_fds(m.fds, m.nfds);       /* whatever the handler did not take */
    if (ob_mpq_wants_reply(m.cmd)) {
        rc = reply(ch, val, has_val);
    }
    return rc;
}

/* Consumes every complete message in the input buffer. Returns -1 when the
 * channel must close. */
static int process_input(struct ob_chan *ch)
{
    size_t pos = 0;

    while (ch->in_len - pos >= OB_MPQ_HDR_LEN) {
        struct ob_mpq_hdr h;
        enum ob_mpq_status st = ob_mpq_parse_hdr(ch->in + pos, ch->in_len - pos, &h);
        int *fds = NULL;
        unsigned nfds = 0;
        bool fds_bad = false;

        if (st == OB_MPQ_BAD_FRAMING) {
            ob_err(chan_log(ch), "%s: message header announces %llu payload bytes "
                   "(at most %u): framing lost", ch->id, (unsigned long long)h.size,
                   OB_MPQ_MAX_PAYLOAD);
            return -1;
        }
        if (ch->in_len - pos < OB_MPQ_HDR_LEN + h.size) {
            break;
        }
        if (ch->pend_nfds > 0 || ch->pend_bad) {
            if (ch->pend_off == pos) {
                fds = ch->pend_fds;
                nfds = ch->pend_nfds;
                fds_bad = ch->pend_bad;
            }
        }
        if (handle_message(ch, &h, ch->in + pos + OB_MPQ_HDR_LEN, fds, nfds, fds_bad) < 0) {
            return -1;
        }
        if (fds || fds_bad) {
            ch->pend_nfds = 0;    /* consumed or closed by handle_message() */
            ch->pend_bad = false;
        }
        pos += OB_MPQ_HDR_LEN + h.size;
        if (ch->closed) {
            return -1;
        }
    }
    if (pos > 0) {
        memmove(ch->in, ch->in + pos, ch->in_len - pos);
        ch->in_len -= pos;
        if (ch->pend_nfds > 0 || ch->pend_bad) {
            ch->pend_off -= pos;
        }
    }
    return 0;
}

/* Offset of the last message start inside [from, ch->in_len), or -1. */
static ssize_t last_msg_start(const struct ob_chan *ch, size_t from)
{
    size_t pos = 0;
    ssize_t last = -1;

    while (pos < ch->in_len) {
        struct ob_mpq_hdr h;

        if (pos >= from) {
            last = (ssize_t)pos;
        }
        if (ob_mpq_parse_hdr(ch->in + pos, ch->in_len - pos, &h) != OB_MPQ_OK) {
            break;
        }
        pos += OB_MPQ_HDR_LEN + h.size;
    }
    return last;
}

/* One recvmsg(). Returns bytes read, 0 on EOF, -1 with errno. */
static ssize_t chan_recv(struct ob_chan *ch)
{
    union {
        struct cmsghdr align;
        uint8_t buf[CMSG_SPACE(CHAN_MAX_RECV_FDS * sizeof(int))];
    } cbuf;
    struct iovec iov = {
        .iov_base = ch->in + ch->in_len,
        .iov_len = sizeof(ch->in) - ch->in_len,
    };
    struct msghdr mh = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = cbuf.buf,
        .msg_controllen = sizeof(cbuf.buf),
    };
    int fds[CHAN_MAX_RECV_FDS];
    unsigned nfds = 0, i;
    struct cmsghdr *c;
    size_t before = ch->in_len;
    ssize_t n, start;

    n = recvmsg(ch->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n <= 0) {
        return n;
    }
    for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

            for (i = 0; i < k; i++) {
                int fd;

                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                if (nfds < CHAN_MAX_RECV_FDS) {
                    fds[nfds++] = fd;
                } else {
                    close(fd);
                }
            }
        }
    }
    ch->in_len += (size_t)n;
    ch->stats.bytes_in += (size_t)n;
    if (nfds == 0 && !(mh.msg_flags & MSG_CTRUNC)) {
        return n;
    }
    /* fds arrived: attach them to the last message starting in this read */
    start = last_msg_start(ch, before);
    if (start < 0 || ch->pend_nfds > 0 || ch->pend_bad) {
        ob_err(chan_log(ch), "%s: %u fds arrived without a message to carry them; closed",
               ch->id, nfds);
        ch->stats.errors++;
        close_fds(fds, nfds);
        return n;
    }
    if (nfds > sizeof(ch->pend_fds) / sizeof(ch->pend_fds[0]) ||
        (mh.msg_flags & MSG_CTRUNC)) {
        close_fds(fds, nfds);
        ch->pend_bad = true;          /* the message will be rejected */
        nfds = 0;
    }
    memcpy(ch->pend_fds, fds, nfds * sizeof(int));
    ch->pend_nfds = nfds;
    ch->pend_off = (size_t)start;
    return n;
}

/*
 * Adaptive poll: the next request usually follows a reply within
 * microseconds, so spinning briefly on the socket saves the wake-up. Stops
 * at the deadline, or at once when deferred device work is waiting for the
 * loop (it must not be starved by the spin).
 */
static bool poll_expired(struct ob_chan *ch, struct timespec *deadline, bool *polling)
{
    struct timespec now;

    if (event_base_get_num_events(ch->ctx->base, EVENT_BASE_COUNT_ACTIVE) > 0) {
        return true;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!*polling) {
        uint64_t ns = (uint64_t)now.tv_nsec + ch->poll_ns;

        deadline->tv_sec = now.tv_sec + (time_t)(ns / 1000000000u);
        deadline->tv_nsec = (long)(ns % 1000000000u);
        *polling = true;
        return false;
    }
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void on_readable(evutil_socket_t fd, short what, void *opaque)
{
    struct ob_chan *ch = opaque;
    struct timespec deadline = { 0, 0 };
    bool polling = false;

    (void)fd;
    (void)what;
    for (;;) {
        ssize_t n = chan_recv(ch);

        if (n == 0) {
            ob_chan_close(ch, ch->in_len ? "end of file inside a message" : "proxy closed the connection");
            return;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                ob_chan_close(ch, strerror(errno));
                return;
            }
            if (ch->poll_ns == 0 || poll_expired(ch, &deadline, &polling)) {
                break;
            }
            continue;
        }
        polling = false;
        clock_gettime(CLOCK_REALTIME, &ch->stats.last_activity);
        if (process_input(ch) < 0) {
            ob_chan_close(ch, "protocol error");
            return;
        }
        if (ch->in_len == sizeof(ch->in)) {
            ob_chan_close(ch, "input buffer full");   /* cannot happen with valid framing */
            return;
        }
        if (ch->poll_ns == 0) {
            break;      /* level-triggered: the loop calls again if more is queued */
        }
    }
}

struct ob_chan *ob_chan_open(struct ob_ctx *ctx, const char *id, int fd,
                             struct ob_pci_dev *dev, char *err, size_t errlen)
{
    struct ob_chan *ch, **tail;
    struct stat st;

    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "fd %d: %s", fd, strerror(errno));
        return NULL;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "File descriptor '%d' is not a socket", fd);
        return NULL;
    }
    ch = calloc(1, sizeof(*ch));
    if (!ch || !(ch->id = strdup(id))) {
        free(ch);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ch->ctx = ctx;
    ch->fd = fd;
    ch->dev = dev;
    ch->ev = event_new(ctx->base, fd, EV_READ | EV_PERSIST, on_readable, ch);
    ch->wev = event_new(ctx->base, fd, EV_WRITE | EV_PERSIST, on_writable, ch);
    if (!ch->ev || !ch->wev || event_priority_set(ch->ev, OB_PRIO_WIRE) < 0 ||
        event_priority_set(ch->wev, OB_PRIO_WIRE) < 0 || event_add(ch->ev, NULL) < 0) {
        snprintf(err, errlen, "cannot watch fd %d", fd);
        ch->fd = -1;
        ob_chan_free(ch);
        return NULL;
    }
    for (tail = &ctx->chans; *tail; tail = &(*tail)->next) {
    }
    *tail = ch;
    ctx->open_chans++;
    ctx->had_chans = true;
    dev->dev.has_chan = true;
    return ch;
}

void ob_chan_close(struct ob_chan *ch, const char *why)
{
    if (ch->closed) {
        return;
    }
    ch->closed = true;
    ob_info(chan_log(ch), "%s: connection closed: %s", ch->id, why);
    event_del(ch->ev);
    event_del(ch->wev);
    close(ch->fd);
    ch->fd = -1;
    drop_pending_fds(ch);
    /* The VMM is gone: its RAM and eventfds are of no further use. */
    ob_mem_clear(&ch->dev->mem);
    ob_irq_release(&ch->dev->intx);
    ob_ctx_chan_closed(ch->ctx);
}

void ob_chan_free(struct ob_chan *ch)
{
    if (!ch) {
        return;
    }
    if (ch->fd >= 0) {
        close(ch->fd);
    }
    drop_pending_fds(ch);
    if (ch->ev) {
        event_free(ch->ev);
    }
    if (ch->wev) {
        event_free(ch->wev);
    }
    free(ch->out);
    free(ch->id);
    free(ch);
}
