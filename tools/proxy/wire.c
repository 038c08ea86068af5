/*
 * wire.c - the proxy driver's connection: sending requests (with fds) and
 * reading exactly one RET for each, with timeouts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "priv.h"

int ob_proxy_fail(struct ob_proxy *px, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(px->err, sizeof(px->err), fmt, ap);
    va_end(ap);
    return -1;
}

void ob_proxy_init(struct ob_proxy *px)
{
    memset(px, 0, sizeof(*px));
    px->fd = -1;
    px->pid = -1;
    px->timeout_ms = OB_PROXY_TIMEOUT_MS;
    px->ram.fd = -1;
    px->irqfd = -1;
    px->resamplefd = -1;
}

static int set_timeouts(int fd, int ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
        return -1;
    }
    return 0;
}

int ob_proxy_attach(struct ob_proxy *px, int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || (fl & O_NONBLOCK && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)) {
        return ob_proxy_fail(px, "fd %d: %s", fd, strerror(errno));
    }
    if (set_timeouts(fd, px->timeout_ms) < 0) {
        return ob_proxy_fail(px, "fd %d is not a socket: %s", fd, strerror(errno));
    }
    px->fd = fd;
    px->in_len = 0;
    return 0;
}

int ob_proxy_set_timeout(struct ob_proxy *px, int timeout_ms)
{
    px->timeout_ms = timeout_ms;
    if (px->fd >= 0 && set_timeouts(px->fd, timeout_ms) < 0) {
        return ob_proxy_fail(px, "setsockopt: %s", strerror(errno));
    }
    return 0;
}

void ob_proxy_close(struct ob_proxy *px)
{
    if (px->fd >= 0) {
        close(px->fd);
        px->fd = -1;
    }
    px->in_len = 0;
}

void ob_proxy_fini(struct ob_proxy *px)
{
    ob_proxy_close(px);
    ob_proxy_ram_free(&px->ram);
    if (px->irqfd >= 0) {
        close(px->irqfd);
    }
    if (px->resamplefd >= 0) {
        close(px->resamplefd);
    }
    px->irqfd = px->resamplefd = -1;
    px->nmap = 0;
}

int ob_proxy_send_raw(struct ob_proxy *px, const void *buf, size_t len,
                      const int *fds, unsigned nfds)
{
    union {
        struct cmsghdr align;
        uint8_t buf[CMSG_SPACE(OB_PROXY_MAX_CHANS * 4 * sizeof(int))];
    } cbuf;
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    size_t done = 0;

    if (px->fd < 0) {
        return ob_proxy_fail(px, "not connected");
    }
    if (nfds > OB_PROXY_MAX_CHANS * 4) {
        return ob_proxy_fail(px, "too many fds (%u)", nfds);
    }
    if (nfds > 0) {
        struct cmsghdr *c;

        memset(&cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf.buf;
        mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    }
    while (done < len || (len == 0 && mh.msg_control)) {
        ssize_t n;

        iov.iov_base = (uint8_t *)buf + done;
        iov.iov_len = len - done;
        n = sendmsg(px->fd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return ob_proxy_fail(px, "send: %s",
                                 errno == EAGAIN ? "timed out" : strerror(errno));
        }
        done += (size_t)n;
        mh.msg_control = NULL;     /* the fds went with the first bytes */
        mh.msg_controllen = 0;
    }
    return 0;
}

/*
 * Reads more bytes into px->in (at least one). 0 on EOF, -1 on error.
 * Waits in poll(POLLIN), not in a blocking recv(): a task sleeping in
 * recv() on a UNIX stream socket is woken (for nothing) each time the
 * remote reads our request, since the socket's write-space wake-up shares
 * its wait queue; poll() waiters are woken only for the events they asked
 * for. That spurious wake-up costs both processes CPU on every round trip.
 */
static ssize_t fill(struct ob_proxy *px, size_t want)
{
    struct pollfd pfd = { .fd = px->fd, .events = POLLIN };
    ssize_t n;

    for (;;) {
        n = recv(px->fd, px->in + px->in_len, want - px->in_len, MSG_DONTWAIT);
        if (n >= 0 || (errno != EAGAIN && errno != EINTR)) {
            break;
        }
        if (errno == EAGAIN) {
            int rc = poll(&pfd, 1, px->timeout_ms);

            if (rc == 0) {
                break;          /* n < 0, errno EAGAIN: timed out */
            }
            if (rc < 0 && errno != EINTR) {
                n = -1;
                break;
            }
        }
    }
    if (n < 0) {
        return ob_proxy_fail(px, "receive: %s",
                             errno == EAGAIN ? "timed out waiting for the remote"
                                             : strerror(errno));
    }
    px->in_len += (size_t)n;
    return n;
}

static void consume(struct ob_proxy *px, size_t n)
{
    memmove(px->in, px->in + n, px->in_len - n);
    px->in_len -= n;
}

ssize_t ob_proxy_recv_raw(struct ob_proxy *px, void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t got = 0;

    if (px->fd < 0) {
        return ob_proxy_fail(px, "not connected");
    }
    while (got < len) {
        size_t take;

        if (px->in_len == 0) {
            size_t want = len - got < sizeof(px->in) ? len - got : sizeof(px->in);
            ssize_t n = fill(px, want);

            if (n < 0) {
                return -1;
            }
            if (n == 0) {
                break;
            }
        }
        take = px->in_len < len - got ? px->in_len : len - got;
        memcpy(p + got, px->in, take);
        consume(px, take);
        got += take;
    }
    return (ssize_t)got;
}

int ob_proxy_wait_eof(struct ob_proxy *px, int timeout_ms)
{
    struct pollfd pfd = { .fd = px->fd, .events = POLLIN };
    uint8_t b;
    ssize_t n;
    int rc;

    if (px->fd < 0) {
        return ob_proxy_fail(px, "not connected");
    }
    if (px->in_len > 0) {
        return ob_proxy_fail(px, "%zu unread bytes", px->in_len);
    }
    do {
        rc = poll(&pfd, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0) {
        return ob_proxy_fail(px, "no end of file within %d ms", timeout_ms);
    }
    n = recv(px->fd, &b, 1, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        return 0;
    }
    return ob_proxy_fail(px, "data instead of end of file");
}

int ob_proxy_recv_ret(struct ob_proxy *px, uint64_t *val, bool *has_val)
{
    struct ob_mpq_hdr h;
    size_t total;

    if (px->fd < 0) {
        return ob_proxy_fail(px, "not connected");
    }
    /* One read is normally enough: a RET is 24 bytes, and only one request
     * is outstanding, so nothing follows it. */
    while (px->in_len < OB_MPQ_HDR_LEN) {
        ssize_t n = fill(px, OB_MPQ_RET_LEN);

        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            return ob_proxy_fail(px, "remote closed the connection%s",
                        px->in_len ? " inside a reply header" : "");
        }
    }
    memcpy(&h, px->in, sizeof(h));
    if (h.cmd != OB_MPQ_RET) {
        return ob_proxy_fail(px, "reply is not a RET (cmd %d, size %llu)", (int)h.cmd,
                    (unsigned long long)h.size);
    }
    if (h.size != 0 && h.size != 8) {
        return ob_proxy_fail(px, "RET with a %llu-byte payload",
                             (unsigned long long)h.size);
    }
    total = OB_MPQ_HDR_LEN + (size_t)h.size;
    while (px->in_len < total) {
        ssize_t n = fill(px, total);

        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            return ob_proxy_fail(px, "remote closed the connection inside a reply");
        }
    }
    if (val) {
        *val = 0;
        if (h.size == 8) {
            memcpy(val, px->in + OB_MPQ_HDR_LEN, 8);
        }
    }
    if (has_val) {
        *has_val = h.size == 8;
    }
    consume(px, total);
    return 0;
}

int ob_proxy_request(struct ob_proxy *px, const uint8_t *buf, size_t len,
                     uint64_t *val, bool *has_val)
{
    if (px->in_len > 0) {
        return ob_proxy_fail(px, "%zu unexpected bytes from the remote before a request",
                    px->in_len);
    }
    if (ob_proxy_send_raw(px, buf, len, NULL, 0) < 0 ||
        ob_proxy_recv_ret(px, val, has_val) < 0) {
        return -1;
    }
    px->requests++;
    return 0;
}

int ob_proxy_cfg_read(struct ob_proxy *px, uint32_t addr, int32_t len, uint64_t *val)
{
    uint8_t buf[OB_MPQ_HDR_LEN + OB_MPQ_CFG_LEN];
    size_t n = ob_mpq_encode_cfg(buf, OB_MPQ_PCI_CFGREAD, addr, 0, len);

    return ob_proxy_request(px, buf, n, val, NULL);
}

int ob_proxy_cfg_write(struct ob_proxy *px, uint32_t addr, uint32_t val, int32_t len,
                       uint64_t *ret)
{
    uint8_t buf[OB_MPQ_HDR_LEN + OB_MPQ_CFG_LEN];
    size_t n = ob_mpq_encode_cfg(buf, OB_MPQ_PCI_CFGWRITE, addr, val, len);

    return ob_proxy_request(px, buf, n, ret, NULL);
}

int ob_proxy_bar_read(struct ob_proxy *px, uint64_t addr, uint32_t size, bool memory,
                      uint64_t *val)
{
    uint8_t buf[OB_MPQ_HDR_LEN + OB_MPQ_BAR_LEN];
    size_t n = ob_mpq_encode_bar(buf, OB_MPQ_BAR_READ, addr, 0, size, memory);

    return ob_proxy_request(px, buf, n, val, NULL);
}

int ob_proxy_bar_write(struct ob_proxy *px, uint64_t addr, uint64_t val, uint32_t size,
                       bool memory, uint64_t *ret)
{
    uint8_t buf[OB_MPQ_HDR_LEN + OB_MPQ_BAR_LEN];
    size_t n = ob_mpq_encode_bar(buf, OB_MPQ_BAR_WRITE, addr, val, size, memory);

    return ob_proxy_request(px, buf, n, ret, NULL);
}

static int barn_addr(struct ob_proxy *px, unsigned bar, uint64_t off, uint64_t *addr)
{
    const struct ob_proxy_bar *b;

    if (bar >= OB_PROXY_NUM_BARS) {
        return ob_proxy_fail(px, "BAR%u does not exist", bar);
    }
    b = &px->info.bar[bar];
    if (b->size == 0 || b->base == 0) {
        return ob_proxy_fail(px, "BAR%u is not programmed", bar);
    }
    *addr = (uint64_t)b->base + off;
    return 0;
}

int ob_proxy_barn_read(struct ob_proxy *px, unsigned bar, uint64_t off, uint32_t size,
                       uint64_t *val)
{
    uint64_t addr = 0;

    if (barn_addr(px, bar, off, &addr) < 0) {
        return -1;
    }
    return ob_proxy_bar_read(px, addr, size, !px->info.bar[bar].io, val);
}

int ob_proxy_barn_write(struct ob_proxy *px, unsigned bar, uint64_t off, uint64_t val,
                        uint32_t size)
{
    uint64_t addr = 0;

    if (barn_addr(px, bar, off, &addr) < 0) {
        return -1;
    }
    return ob_proxy_bar_write(px, addr, val, size, !px->info.bar[bar].io, NULL);
}

int ob_proxy_reset(struct ob_proxy *px, bool *has_val)
{
    uint8_t buf[OB_MPQ_HDR_LEN];
    size_t n = ob_mpq_encode_empty(buf, OB_MPQ_DEVICE_RESET);

    return ob_proxy_request(px, buf, n, NULL, has_val);
}
