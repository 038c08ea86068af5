/*
 * server.c - the QMP server of qmp.h: endpoints (listening or connected
 * sockets), their clients, greeting and negotiation state, per-client
 * input parsing and output buffering, and the event sink.
 *
 * Every socket is served from the shared loop: reads and writes use
 * MSG_DONTWAIT, so descriptors inherited from the parent keep their flags.
 * A client is never freed from inside one of its own callbacks: closing
 * moves it to the `dead` list, freed from a deferred event.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "outboard/cmdline.h"
#include "outboard/ctx.h"
#include "outboard/opts.h"
#include "outboard/qmp.h"
#include "outboard/qmp_cmds.h"
#include "outboard/qmp_json.h"
#include "outboard/runstate.h"

#define READ_CHUNK      4096u
#define FLUSH_MS        200     /* ob_qmp_free(): per client, at most */

struct ob_qmp_mon {
    struct ob_qmp *q;
    char *id;                   /* chardev id, or "qmp0", "qmp1", ... */
    int lfd;                    /* listening socket, or -1 */
    struct event *lev;
    char *unlink_path;          /* socket file created here, or NULL */
    unsigned nclients;
    struct ob_qmp_mon *next;
};

struct ob_qmp_client {
    struct ob_qmp *q;
    struct ob_qmp_mon *mon;
    int fd;
    struct event *rev, *wev;
    bool reading;               /* rev is added */
    bool writing;               /* wev is added */
    bool negotiated;
    bool oob;                   /* the client enabled the "oob" capability */
    bool read_eof;              /* half-closed: close once OUT is written */
    bool quit;                  /* quit answered: close once OUT is written */
    bool dead;
    struct ob_qmp_json_stream js;
    /* Input read but not yet parsed: one request runs per loop pass, so
     * that the proxy's requests (OB_PRIO_WIRE, served first in every pass)
     * never wait behind a client's pipelined batch. */
    char in[READ_CHUNK];
    size_t in_pos, in_len;
    struct event *more_ev;      /* runs the next pending request */
    bool throttled;             /* waits for the request budget */
    struct ob_qmp_buf out;
    int fds[OB_QMP_MAX_RECV_FDS];
    unsigned nfds;
    struct ob_qmp_client *next;
};

static void client_kill(struct ob_qmp_client *c, const char *why);
static void client_flush(struct ob_qmp_client *c);

/* ---- output --------------------------------------------------------- */

/* Appends VAL as one line ending in CR LF (QEMU's monitor turns "\n" into
 * "\r\n"). */
static int client_put(struct ob_qmp_client *c, const json_t *val)
{
    if (c->dead || ob_qmp_json_write(&c->out, val) < 0) {
        return -1;
    }
    ob_qmp_buf_add(&c->out, "\r\n", 2);
    return c->out.oom ? -1 : 0;
}

static void client_put_text(struct ob_qmp_client *c, const char *line)
{
    if (c->dead) {
        return;
    }
    ob_qmp_buf_add(&c->out, line, strlen(line));
    if (c->out.oom) {
        client_kill(c, "out of memory");
    } else if (c->out.len > OB_QMP_OUT_MAX) {
        client_kill(c, "too much unread output");
    }
}

static void set_reading(struct ob_qmp_client *c, bool on)
{
    /* after EOF or quit the client is never read again; while input read
     * earlier is pending, the socket is not watched (level-triggered, it
     * would wake the loop on every pass for nothing) */
    if (on && c->in_pos < c->in_len) {
        on = false;
    }
    if (c->dead || on == c->reading || (on && (c->read_eof || c->quit))) {
        return;
    }
    if (on ? event_add(c->rev, NULL) == 0 : event_del(c->rev) == 0) {
        c->reading = on;
    }
}

static void set_writing(struct ob_qmp_client *c, bool on)
{
    if (c->dead || on == c->writing) {
        return;
    }
    if (on ? event_add(c->wev, NULL) == 0 : event_del(c->wev) == 0) {
        c->writing = on;
    }
}

/* Writes what the socket takes; closes the client when it is done with. */
static void client_flush(struct ob_qmp_client *c)
{
    while (!c->dead && c->out.len > 0) {
        ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        if (n <= 0) {
            client_kill(c, "write failed");
            return;
        }
        ob_qmp_buf_consume(&c->out, (size_t)n);
    }
    if (c->dead) {
        return;
    }
    if (c->out.len > 0) {
        set_writing(c, true);
        set_reading(c, c->out.len <= OB_QMP_OUT_PAUSE);
        return;
    }
    set_writing(c, false);
    if (c->read_eof || c->quit) {
        client_kill(c, c->quit ? "quit" : "end of input");
        return;
    }
    set_reading(c, true);
}

static void on_writable(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    client_flush(opaque);
}

/* ---- clients -------------------------------------------------------- */

static void client_close_fds(struct ob_qmp_client *c)
{
    while (c->nfds > 0) {
        close(c->fds[--c->nfds]);
    }
}

static void client_free(struct ob_qmp_client *c)
{
    if (c->more_ev) {
        event_free(c->more_ev);
    }
    if (c->rev) {
        event_free(c->rev);
    }
    if (c->wev) {
        event_free(c->wev);
    }
    if (c->fd >= 0) {
        close(c->fd);
    }
    client_close_fds(c);
    ob_qmp_json_stream_fini(&c->js);
    ob_qmp_buf_fini(&c->out);
    free(c);
}

static void client_unlink(struct ob_qmp *q, struct ob_qmp_client *c)
{
    struct ob_qmp_client **pp;

    for (pp = &q->clients; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            c->next = NULL;
            return;
        }
    }
}

/* Closes C now; the struct is freed later from the loop. */
static void client_kill(struct ob_qmp_client *c, const char *why)
{
    struct ob_qmp *q = c->q;

    if (c->dead) {
        return;
    }
    c->dead = true;
    ob_logc(&q->ctx->log, OB_LOGC_QMP, "qmp %s: client closed (%s)", c->mon->id, why);
    if (c->reading) {
        event_del(c->rev);
        c->reading = false;
    }
    if (c->writing) {
        event_del(c->wev);
        c->writing = false;
    }
    close(c->fd);
    c->fd = -1;
    client_close_fds(c);
    if (c->mon->nclients > 0) {
        c->mon->nclients--;
    }
    client_unlink(q, c);
    c->next = q->dead;
    q->dead = c;
    if (q->reap_ev) {
        event_active(q->reap_ev, 0, 0);
    }
}

static void on_reap(evutil_socket_t fd, short what, void *opaque)
{
    struct ob_qmp *q = opaque;

    (void)fd;
    (void)what;
    while (q->dead) {
        struct ob_qmp_client *c = q->dead;

        q->dead = c->next;
        client_free(c);
    }
}

/* Events held while a command asks for them to follow its reply. */
static void release_held(struct ob_qmp *q)
{
    struct ob_qmp_client *c, *next;
    size_t i;

    q->hold_events = false;
    for (i = 0; i < q->nheld; i++) {
        for (c = q->clients; c; c = next) {
            next = c->next;
            if (c->negotiated) {
                client_put_text(c, q->held[i]);
                if (!c->dead) {
                    set_writing(c, true);
                }
            }
        }
        free(q->held[i]);
    }
    free(q->held);
    q->held = NULL;
    q->nheld = 0;
}

static void run_request(struct ob_qmp_client *c, json_t *val, const char *err)
{
    struct ob_qmp *q = c->q;
    struct ob_qmp_req r;
    json_t *rsp;

    memset(&r, 0, sizeof(r));
    r.qmp = q;
    r.client = c;
    r.negotiating = !c->negotiated;
    r.oob = c->oob;
    rsp = ob_qmp_dispatch(&r, val, err);
    if (r.negotiated) {
        c->negotiated = true;
        c->oob = r.oob_enabled;
    }
    if (!rsp || client_put(c, rsp) < 0) {
        client_kill(c, "out of memory");
    }
    json_decref(rsp);
    ob_qmp_req_clear(&r);
    if (q->hold_events) {
        release_held(q);
    }
    if (r.quit) {
        c->quit = true;
    }
}

static bool on_json(void *opaque, json_t *val, const char *err)
{
    struct ob_qmp_client *c = opaque;

    if (c->dead || c->quit) {
        json_decref(val);
        return false;
    }
    run_request(c, val, err);
    json_decref(val);
    return false;               /* one request per pass: see struct ob_qmp_client */
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Takes one token of the request budget; if there is none, returns false
 * and sets DELAY to when the next one is due. */
static bool take_token(struct ob_qmp *q, struct timeval *delay)
{
    uint64_t now = now_ns();
    double wait_s;

    if (q->tokens_ns == 0) {
        q->tokens = OB_QMP_BURST;
    } else {
        q->tokens += (double)(now - q->tokens_ns) * 1e-9 * OB_QMP_RATE;
        if (q->tokens > OB_QMP_BURST) {
            q->tokens = OB_QMP_BURST;
        }
    }
    q->tokens_ns = now;
    if (q->tokens >= 1.0) {
        q->tokens -= 1.0;
        return true;
    }
    /* wait for a batch of tokens, not one: fewer wake-ups of the loop */
    wait_s = (OB_QMP_BURST / 2 - q->tokens) / OB_QMP_RATE;
    delay->tv_sec = 0;
    delay->tv_usec = (suseconds_t)(wait_s * 1e6) + 1;
    return false;
}

static void arm_throttle(struct ob_qmp *q, const struct timeval *delay)
{
    struct itimerspec its = { .it_value = { delay->tv_sec, delay->tv_usec * 1000 } };

    if (q->throttle_armed) {
        return;
    }
    if (timerfd_settime(q->throttle_fd, 0, &its, NULL) == 0) {
        q->throttle_armed = true;
    }
}

/* The budget has refilled: every client that waited for it goes on. */
static void on_throttle(evutil_socket_t fd, short what, void *opaque)
{
    struct ob_qmp *q = opaque;
    struct ob_qmp_client *c;
    uint64_t ticks;

    (void)what;
    if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN) {
        ob_logc(&q->ctx->log, OB_LOGC_QMP, "qmp: throttle timer: %s", strerror(errno));
    }
    q->throttle_armed = false;
    for (c = q->clients; c; c = c->next) {
        if (c->throttled) {
            c->throttled = false;
            event_active(c->more_ev, EV_TIMEOUT, 0);
        }
    }
}

/* Parses pending input up to the end of the next request and runs it; if
 * more input is pending, the next one runs in the next loop pass (or when
 * the request budget allows). */
static void run_pending(struct ob_qmp_client *c)
{
    struct timeval delay;
    size_t n;

    if (!take_token(c->q, &delay)) {
        client_flush(c);                /* answers so far go out meanwhile */
        if (!c->dead) {
            set_reading(c, false);
            c->throttled = true;
            arm_throttle(c->q, &delay);
        }
        return;
    }
    n = ob_qmp_json_stream_feed(&c->js, c->in + c->in_pos, c->in_len - c->in_pos);

    c->in_pos += n;
    if (c->dead || c->quit || c->in_pos >= c->in_len) {
        c->in_pos = c->in_len = 0;     /* after quit the rest is not read */
    } else {
        /* more to run in the next pass; the answers of a batch go out
         * together, unless they pile up */
        set_reading(c, false);
        event_active(c->more_ev, EV_TIMEOUT, 0);
        if (c->out.len < READ_CHUNK) {
            return;
        }
    }
    if (c->quit) {
        set_reading(c, false);
    }
    client_flush(c);
}

static void on_more(evutil_socket_t fd, short what, void *opaque)
{
    struct ob_qmp_client *c = opaque;

    (void)fd;
    (void)what;
    if (!c->dead && c->in_pos < c->in_len) {
        run_pending(c);
    }
}

/* Keeps the descriptors of one SCM_RIGHTS message (extra ones are closed). */
static void take_rights(struct ob_qmp_client *c, struct msghdr *msg)
{
    struct cmsghdr *cm;

    for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
        size_t n, i;
        int *fds;

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        fds = (int *)(void *)CMSG_DATA(cm);
        for (i = 0; i < n; i++) {
            if (c->nfds < OB_QMP_MAX_RECV_FDS) {
                c->fds[c->nfds++] = fds[i];
            } else {
                close(fds[i]);
            }
        }
    }
}

static void on_readable(evutil_socket_t fd, short what, void *opaque)
{
    struct ob_qmp_client *c = opaque;
    union {
        char buf[CMSG_SPACE(sizeof(int) * OB_QMP_MAX_RECV_FDS)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { c->in, sizeof(c->in) };
    struct msghdr msg;
    ssize_t n;

    (void)what;
    if (c->in_pos < c->in_len) {
        set_reading(c, false);  /* the pending input goes first (on_more) */
        return;
    }
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return;
        }
        client_kill(c, "read failed");
        return;
    }
    take_rights(c, &msg);
    if (n == 0) {
        /* Half-close: answer what was asked, then close. Partial input is
         * forgotten, as QEMU does. */
        set_reading(c, false);
        c->read_eof = true;
        ob_qmp_json_stream_reset(&c->js);
        client_flush(c);
        return;
    }
    c->in_pos = 0;
    c->in_len = (size_t)n;
    run_pending(c);
}

static json_t *greeting(void)
{
    json_t *ver = ob_qmp_version_json();

    return json_pack("{s:{s:o,s:[s]}}", "QMP", "version", ver, "capabilities", "oob");
}

/* Serves FD (owned from now on) as a client of MON. */
static int client_new(struct ob_qmp_mon *mon, int fd)
{
    struct ob_qmp *q = mon->q;
    struct ob_qmp_client *c = calloc(1, sizeof(*c));
    json_t *g = NULL;

    if (!c) {
        close(fd);
        return -1;
    }
    c->q = q;
    c->mon = mon;
    c->fd = fd;
    ob_qmp_json_stream_init(&c->js, on_json, c);
    ob_qmp_buf_init(&c->out);
    c->rev = event_new(q->ctx->base, fd, EV_READ | EV_PERSIST, on_readable, c);
    c->wev = event_new(q->ctx->base, fd, EV_WRITE | EV_PERSIST, on_writable, c);
    c->more_ev = event_new(q->ctx->base, -1, 0, on_more, c);
    g = greeting();
    if (!c->rev || !c->wev || !c->more_ev || !g || client_put(c, g) < 0) {
        json_decref(g);
        client_free(c);
        return -1;
    }
    json_decref(g);
    c->next = q->clients;
    q->clients = c;
    mon->nclients++;
    ob_logc(&q->ctx->log, OB_LOGC_QMP, "qmp %s: client connected", mon->id);
    client_flush(c);
    return 0;
}

static void on_accept(evutil_socket_t lfd, short what, void *opaque)
{
    struct ob_qmp_mon *mon = opaque;

    (void)what;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                ob_err(&mon->q->ctx->log, "qmp %s: accept: %s", mon->id,
                       strerror(errno));
            }
            return;
        }
        if (mon->nclients >= OB_QMP_MAX_CLIENTS) {
            ob_err(&mon->q->ctx->log, "qmp %s: too many clients, connection refused",
                   mon->id);
            close(fd);
            continue;
        }
        client_new(mon, fd);
    }
}

/* ---- monitors ------------------------------------------------------- */

static struct ob_qmp_mon *mon_new(struct ob_qmp *q, const char *id)
{
    struct ob_qmp_mon *mon = calloc(1, sizeof(*mon)), **pp;
    char gen[32];

    if (!mon) {
        return NULL;
    }
    if (!id) {
        unsigned n = 0;

        for (pp = &q->mons; *pp; pp = &(*pp)->next) {
            n++;
        }
        snprintf(gen, sizeof(gen), "qmp%u", n);
        id = gen;
    }
    mon->q = q;
    mon->lfd = -1;
    mon->id = strdup(id);
    if (!mon->id) {
        free(mon);
        return NULL;
    }
    for (pp = &q->mons; *pp; pp = &(*pp)->next) {
    }
    *pp = mon;
    return mon;
}

static int mon_listen(struct ob_qmp_mon *mon, int lfd, char *err, size_t errlen)
{
    int fl = fcntl(lfd, F_GETFL);

    /* A listening socket only ever accepts: non-blocking is safe to set. */
    if (fl < 0 || fcntl(lfd, F_SETFL, fl | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "fcntl: %s", strerror(errno));
        close(lfd);
        return -1;
    }
    mon->lfd = lfd;
    mon->lev = event_new(mon->q->ctx->base, lfd, EV_READ | EV_PERSIST, on_accept, mon);
    if (!mon->lev || event_add(mon->lev, NULL) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* wait=on: the first client is accepted before start-up goes on. */
static int mon_wait(struct ob_qmp_mon *mon, const char *desc, char *err, size_t errlen)
{
    struct pollfd p = { mon->lfd, POLLIN, 0 };
    int fd;

    fprintf(stderr, "outboard: waiting for connection on: %s\n", desc);
    for (;;) {
        if (poll(&p, 1, -1) < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        fd = accept4(mon->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            break;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
            errno != ECONNABORTED) {
            snprintf(err, errlen, "accept: %s", strerror(errno));
            return -1;
        }
    }
    if (client_new(mon, fd) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void mon_free(struct ob_qmp_mon *mon)
{
    if (mon->lev) {
        event_free(mon->lev);
    }
    if (mon->lfd >= 0) {
        close(mon->lfd);
    }
    if (mon->unlink_path) {
        unlink(mon->unlink_path);
        free(mon->unlink_path);
    }
    free(mon->id);
    free(mon);
}

/* ---- endpoints ------------------------------------------------------ */

struct endpoint {
    const char *path;           /* unix */
    const char *host, *port;    /* tcp */
    const char *fd;             /* inherited */
    bool server, wait;
};

static int unix_addr(const char *path, struct sockaddr_un *sa, char *err, size_t errlen)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path)) {
        snprintf(err, errlen, "UNIX socket path '%s' is too long", path);
        return -1;
    }
    strcpy(sa->sun_path, path);
    return 0;
}

static int open_unix(struct ob_qmp_mon *mon, const struct endpoint *ep, char *err,
                     size_t errlen)
{
    struct sockaddr_un sa;
    int fd;

    if (unix_addr(ep->path, &sa, err, errlen) < 0) {
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "Failed to create socket: %s", strerror(errno));
        return -1;
    }
    if (!ep->server) {
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            snprintf(err, errlen, "Failed to connect to '%s': %s", ep->path,
                     strerror(errno));
            close(fd);
            return -1;
        }
        return client_new(mon, fd) < 0 ? (snprintf(err, errlen, "out of memory"), -1) : 0;
    }
    /* Like QEMU: a stale socket file is replaced. */
    if (unlink(ep->path) < 0 && errno != ENOENT) {
        snprintf(err, errlen, "Failed to unlink socket %s: %s", ep->path, strerror(errno));
        close(fd);
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        snprintf(err, errlen, "Failed to bind socket to %s: %s", ep->path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    mon->unlink_path = strdup(ep->path);
    if (listen(fd, 16) < 0) {
        snprintf(err, errlen, "Failed to listen on socket: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return mon_listen(mon, fd, err, errlen);
}

static int open_tcp(struct ob_qmp_mon *mon, const struct endpoint *ep, char *err,
                    size_t errlen)
{
    struct addrinfo hints, *res = NULL, *ai;
    const char *host = ep->host && ep->host[0] ? ep->host : NULL;
    int fd = -1, rc, saved = 0, one = 1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = ep->server ? AI_PASSIVE : 0;
    rc = getaddrinfo(host, ep->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "address resolution failed for %s:%s: %s",
                 host ? host : "", ep->port, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (ep->server) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0) {
                break;
            }
        } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "Failed to %s socket %s:%s: %s",
                 ep->server ? "bind" : "connect", host ? host : "", ep->port,
                 strerror(saved));
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (!ep->server) {
        return client_new(mon, fd) < 0 ? (snprintf(err, errlen, "out of memory"), -1) : 0;
    }
    return mon_listen(mon, fd, err, errlen);
}

static int open_fd(struct ob_qmp_mon *mon, const struct endpoint *ep, char *err,
                   size_t errlen)
{
    uint64_t v;
    struct stat st;
    int fd, acc = 0;
    socklen_t len = sizeof(acc);

    if (ob_parse_u64(ep->fd, &v) < 0 || v > INT32_MAX) {
        snprintf(err, errlen, "Parameter 'fd' expects a file descriptor number");
        return -1;
    }
    fd = (int)v;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "fd %d: %s", fd, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "fd %d is not a socket", fd);
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 && acc) {
        return mon_listen(mon, fd, err, errlen);
    }
    return client_new(mon, fd) < 0 ? (snprintf(err, errlen, "out of memory"), -1) : 0;
}

/* server=, wait= and their legacy spellings; other keys are errors. */
static int endpoint_flags(struct ob_opts *o, struct endpoint *ep, char *err,
                          size_t errlen)
{
    static const char *const ignored[] = { "nodelay", "ipv4", "ipv6", "telnet",
                                           "websocket", "mux", "logfile", "logappend",
                                           "reconnect", "abstract", "tight", NULL };
    const char *v, *unused;
    size_t i;

    ep->server = false;
    ep->wait = true;
    if ((v = ob_opts_get(o, "server")) && ob_parse_bool(v, &ep->server) < 0) {
        snprintf(err, errlen, "Parameter 'server' expects 'on' or 'off'");
        return -1;
    }
    if ((v = ob_opts_get(o, "wait")) && ob_parse_bool(v, &ep->wait) < 0) {
        snprintf(err, errlen, "Parameter 'wait' expects 'on' or 'off'");
        return -1;
    }
    if ((v = ob_opts_get(o, "nowait"))) {
        bool b;

        if (ob_parse_bool(v, &b) < 0) {
            snprintf(err, errlen, "Parameter 'nowait' expects 'on' or 'off'");
            return -1;
        }
        ep->wait = !b;
    }
    for (i = 0; ignored[i]; i++) {
        ob_opts_get(o, ignored[i]);
    }
    unused = ob_opts_first_unused(o);
    if (unused) {
        snprintf(err, errlen, "Invalid parameter '%s'", unused);
        return -1;
    }
    if (!ep->server && (ob_opts_peek(o, "wait") || ob_opts_peek(o, "nowait"))) {
        snprintf(err, errlen, "'wait' option is incompatible with socket in client "
                 "connect mode");
        return -1;
    }
    return 0;
}

static int open_endpoint(struct ob_qmp *q, const char *id, const struct endpoint *ep,
                         const char *desc, char *err, size_t errlen)
{
    struct ob_qmp_mon *mon = mon_new(q, id);
    int rc;

    if (!mon) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (ep->fd) {
        rc = open_fd(mon, ep, err, errlen);
    } else if (ep->path) {
        rc = open_unix(mon, ep, err, errlen);
    } else {
        rc = open_tcp(mon, ep, err, errlen);
    }
    if (rc == 0 && ep->server && ep->wait && mon->lfd >= 0 && !ep->fd) {
        rc = mon_wait(mon, desc, err, errlen);
    }
    return rc;
}

/* "HOST:PORT" (HOST may be empty or "[v6]") into EP, pointing into BUF. */
static int split_host_port(char *buf, struct endpoint *ep, char *err, size_t errlen)
{
    char *colon = strrchr(buf, ':');

    if (!colon || !colon[1]) {
        snprintf(err, errlen, "host and/or port not specified");
        return -1;
    }
    *colon = '\0';
    ep->port = colon + 1;
    ep->host = buf;
    if (buf[0] == '[' && colon > buf && colon[-1] == ']') {
        colon[-1] = '\0';
        ep->host = buf + 1;
    }
    return 0;
}

int ob_qmp_add_spec(struct ob_qmp *q, const char *spec, char *err, size_t errlen)
{
    struct ob_opts o;
    struct endpoint ep;
    char why[256], *hp = NULL;
    const char *rest;
    int rc = -1;

    memset(&o, 0, sizeof(o));
    memset(&ep, 0, sizeof(ep));
    if (strncmp(spec, "unix:", 5) == 0) {
        rest = spec + 5;
    } else if (strncmp(spec, "tcp:", 4) == 0) {
        rest = spec + 4;
    } else {
        snprintf(err, errlen, "-qmp %s: unsupported monitor backend (outboard serves "
                 "unix: and tcp: sockets)", spec);
        return -1;
    }
    if (ob_opts_parse(&o, "-qmp", rest, "addr", why, sizeof(why)) < 0) {
        snprintf(err, errlen, "-qmp %s: %s", spec, why);
        return -1;
    }
    if (!ob_opts_get(&o, "addr")) {
        snprintf(err, errlen, "-qmp %s: missing socket address", spec);
        goto out;
    }
    if (endpoint_flags(&o, &ep, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "-qmp %s: %s", spec, why);
        goto out;
    }
    if (spec[0] == 'u') {
        ep.path = ob_opts_peek(&o, "addr");
    } else {
        hp = strdup(ob_opts_peek(&o, "addr"));
        if (!hp || split_host_port(hp, &ep, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "-qmp %s: %s", spec, hp ? why : "out of memory");
            goto out;
        }
    }
    if (open_endpoint(q, NULL, &ep, spec, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "-qmp %s: %s", spec, why);
        goto out;
    }
    rc = 0;
out:
    free(hp);
    ob_opts_free(&o);
    return rc;
}

int ob_qmp_add_chardev(struct ob_qmp *q, struct ob_opts *o, char *err, size_t errlen)
{
    struct endpoint ep;
    const char *backend = ob_opts_get(o, "backend");
    const char *id = ob_opts_get(o, "id");
    char why[256];

    memset(&ep, 0, sizeof(ep));
    if (!backend || strcmp(backend, "socket") != 0) {
        snprintf(err, errlen, "-chardev %s: outboard serves QMP on 'socket' chardevs "
                 "only", o->src);
        return -1;
    }
    if (!id) {
        snprintf(err, errlen, "-chardev %s: Parameter 'id' is missing", o->src);
        return -1;
    }
    ep.path = ob_opts_get(o, "path");
    ep.host = ob_opts_get(o, "host");
    ep.port = ob_opts_get(o, "port");
    ep.fd = ob_opts_get(o, "fd");
    if (endpoint_flags(o, &ep, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "-chardev %s: %s", o->src, why);
        return -1;
    }
    if (!!ep.path + !!ep.port + !!ep.fd != 1) {
        snprintf(err, errlen, "-chardev %s: chardev: socket: exactly one of path, "
                 "host/port or fd is needed", o->src);
        return -1;
    }
    if (ep.fd && ob_opts_peek(o, "server")) {
        /* an inherited socket is used as it is */
        ep.server = false;
    }
    if (open_endpoint(q, id, &ep, o->src, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "-chardev %s: %s", o->src, why);
        return -1;
    }
    return 0;
}

static struct ob_opts *find_chardev(const struct ob_cmdline *cl, const char *id)
{
    size_t i;

    for (i = 0; i < cl->nchardevs; i++) {
        const char *cid = ob_opts_peek(&cl->chardevs[i], "id");

        if (cid && strcmp(cid, id) == 0) {
            return &cl->chardevs[i];
        }
    }
    return NULL;
}

int ob_qmp_setup(struct ob_qmp *q, const struct ob_cmdline *cl, char *err, size_t errlen)
{
    size_t i;

    for (i = 0; i < cl->nqmp; i++) {
        if (ob_qmp_add_spec(q, cl->qmp[i], err, errlen) < 0) {
            return -1;
        }
    }
    for (i = 0; i < cl->nmons; i++) {
        struct ob_opts *m = &cl->mons[i];
        const char *chr = ob_opts_get(m, "chardev");
        const char *mode = ob_opts_get(m, "mode");
        const char *unused;
        struct ob_opts *cd;

        ob_opts_get(m, "pretty");
        ob_opts_get(m, "id");
        if (!chr) {
            snprintf(err, errlen, "-mon %s: Parameter 'chardev' is missing", m->src);
            return -1;
        }
        if (!mode || strcmp(mode, "control") != 0) {
            snprintf(err, errlen, "-mon %s: outboard has no human monitor; use "
                     "mode=control", m->src);
            return -1;
        }
        unused = ob_opts_first_unused(m);
        if (unused) {
            snprintf(err, errlen, "-mon %s: Invalid parameter '%s'", m->src, unused);
            return -1;
        }
        cd = find_chardev(cl, chr);
        if (!cd) {
            snprintf(err, errlen, "-mon %s: chardev \"%s\" not found", m->src, chr);
            return -1;
        }
        if (ob_qmp_add_chardev(q, cd, err, errlen) < 0) {
            return -1;
        }
    }
    return 0;
}

int ob_qmp_add_connected_fd(struct ob_qmp *q, const char *id, int fd, char *err,
                            size_t errlen)
{
    struct ob_qmp_mon *mon = mon_new(q, id);

    if (!mon || client_new(mon, fd) < 0) {
        if (!mon) {
            close(fd);
        }
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int ob_qmp_client_take_fd(struct ob_qmp_client *c)
{
    int fd;

    if (c->nfds == 0) {
        return -1;
    }
    fd = c->fds[0];
    memmove(c->fds, c->fds + 1, (c->nfds - 1) * sizeof(c->fds[0]));
    c->nfds--;
    return fd;
}

unsigned ob_qmp_client_count(const struct ob_qmp *q)
{
    const struct ob_qmp_client *c;
    unsigned n = 0;

    for (c = q->clients; c; c = c->next) {
        n++;
    }
    return n;
}

/* ---- blockdev-add records ------------------------------------------- */

int ob_qmp_node_add(struct ob_qmp *q, const char *name, const char *drv)
{
    struct ob_qmp_node *v = realloc(q->nodes, (q->nnodes + 1) * sizeof(*v));

    if (!v) {
        return -1;
    }
    q->nodes = v;
    v[q->nnodes].name = strdup(name);
    v[q->nnodes].drv = strdup(drv);
    if (!v[q->nnodes].name || !v[q->nnodes].drv) {
        free(v[q->nnodes].name);
        free(v[q->nnodes].drv);
        return -1;
    }
    q->nnodes++;
    return 0;
}

void ob_qmp_node_del(struct ob_qmp *q, const char *name)
{
    size_t i;

    for (i = 0; i < q->nnodes; i++) {
        if (strcmp(q->nodes[i].name, name) == 0) {
            free(q->nodes[i].name);
            free(q->nodes[i].drv);
            memmove(&q->nodes[i], &q->nodes[i + 1], (q->nnodes - i - 1) * sizeof(q->nodes[0]));
            q->nnodes--;
            return;
        }
    }
}

const struct ob_qmp_node *ob_qmp_node_find(const struct ob_qmp *q, const char *name)
{
    size_t i;

    for (i = 0; i < q->nnodes; i++) {
        if (strcmp(q->nodes[i].name, name) == 0) {
            return &q->nodes[i];
        }
    }
    return NULL;
}

const char *ob_qmp_drive_node_name(struct ob_qmp *q, const char *drive_id)
{
    struct ob_qmp_node *v;
    unsigned n;
    size_t i;

    if (ob_qmp_node_find(q, drive_id)) {
        return drive_id;
    }
    for (i = 0; i < q->nautonodes; i++) {
        if (strcmp(q->autonodes[i].name, drive_id) == 0) {
            return q->autonodes[i].drv;
        }
    }
    v = realloc(q->autonodes, (q->nautonodes + 1) * sizeof(*v));
    if (!v) {
        return NULL;
    }
    q->autonodes = v;
    /* QEMU's id_generate(): "#block", a counter, then two random digits; a
     * -drive makes two nodes (format and protocol), hence the step 2. */
    n = q->autonode_counter = q->autonode_counter ? q->autonode_counter + 2 : 1;
    v[q->nautonodes].name = strdup(drive_id);
    if (asprintf(&v[q->nautonodes].drv, "#block%u%02u", n, (n * 37u + 20u) % 100u) < 0) {
        v[q->nautonodes].drv = NULL;
    }
    if (!v[q->nautonodes].name || !v[q->nautonodes].drv) {
        free(v[q->nautonodes].name);
        free(v[q->nautonodes].drv);
        return NULL;
    }
    return v[q->nautonodes++].drv;
}

/* ---- events --------------------------------------------------------- */

static void on_event(void *opaque, const struct ob_event *ev)
{
    struct ob_qmp *q = opaque;
    struct ob_qmp_client *c, *next;
    struct ob_event io;
    json_t *e;
    char *text;

    if (ev->kind == OB_EV_BLOCK_IO_ERROR && ev->u.io.device) {
        /* The core names the drive by its id; QEMU gives the BlockBackend
         * name ("" for a blockdev-add node) and the root node's name, the
         * one query-block reports. */
        io = *ev;
        if (ob_qmp_node_find(q, ev->u.io.device)) {
            io.u.io.device = "";
        }
        io.u.io.node_name = ob_qmp_drive_node_name(q, ev->u.io.device);
        ev = &io;
    }
    e = ob_qmp_event_json(ev);
    if (!e) {
        return;
    }
    text = ob_qmp_json_dumps(e);
    json_decref(e);
    if (!text) {
        return;
    }
    q->events_sent++;
    if (q->hold_events) {
        char **v = realloc(q->held, (q->nheld + 1) * sizeof(*v));
        char *line = NULL;

        if (v && asprintf(&line, "%s\r\n", text) >= 0) {
            v[q->nheld++] = line;
        }
        if (v) {
            q->held = v;
        }
        free(text);
        return;
    }
    for (c = q->clients; c; c = next) {
        next = c->next;
        if (!c->negotiated) {
            continue;           /* dropped, not queued, as QEMU does */
        }
        client_put_text(c, text);
        client_put_text(c, "\r\n");
        /* Written from the loop: the event may come from inside a command
         * whose reply must follow it in the same buffer. */
        set_writing(c, true);
    }
    free(text);
}

/* ---- life cycle ----------------------------------------------------- */

struct ob_qmp *ob_qmp_new(struct ob_ctx *ctx, const char *name)
{
    struct ob_qmp *q = calloc(1, sizeof(*q));

    if (!q) {
        return NULL;
    }
    q->ctx = ctx;
    if (name && !(q->name = strdup(name))) {
        free(q);
        return NULL;
    }
    q->reap_ev = event_new(ctx->base, -1, 0, on_reap, q);
    q->throttle_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (q->throttle_fd >= 0) {
        q->throttle_ev = event_new(ctx->base, q->throttle_fd, EV_READ | EV_PERSIST,
                                   on_throttle, q);
    }
    if (!q->reap_ev || !q->throttle_ev || event_add(q->throttle_ev, NULL) < 0) {
        if (q->throttle_ev) {
            event_free(q->throttle_ev);
        }
        if (q->throttle_fd >= 0) {
            close(q->throttle_fd);
        }
        if (q->reap_ev) {
            event_free(q->reap_ev);
        }
        free(q->name);
        free(q);
        return NULL;
    }
    ob_event_set_sink(ctx, on_event, q);
    return q;
}

/* Writes what C still has buffered, waiting at most until DEADLINE_MS. */
static void flush_blocking(struct ob_qmp_client *c, int64_t deadline_ms)
{
    while (!c->dead && c->out.len > 0) {
        struct pollfd p = { c->fd, POLLOUT, 0 };
        struct timespec ts;
        int64_t now;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        if (now >= deadline_ms || poll(&p, 1, (int)(deadline_ms - now)) <= 0) {
            return;
        }
        client_flush(c);
    }
}

void ob_qmp_free(struct ob_qmp *q)
{
    struct ob_qmp_mon *mon;
    struct timespec ts;
    int64_t deadline;
    size_t i;

    if (!q) {
        return;
    }
    if (q->ctx->event_sink == on_event && q->ctx->event_opaque == q) {
        ob_event_set_sink(q->ctx, NULL, NULL);
    }
    release_held(q);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + FLUSH_MS;
    while (q->clients) {
        struct ob_qmp_client *c = q->clients;

        flush_blocking(c, deadline);
        client_kill(c, "exit");
    }
    on_reap(-1, 0, q);
    while (q->mons) {
        mon = q->mons;
        q->mons = mon->next;
        mon_free(mon);
    }
    for (i = 0; i < q->nautonodes; i++) {
        free(q->autonodes[i].name);
        free(q->autonodes[i].drv);
    }
    free(q->autonodes);
    for (i = 0; i < q->nnodes; i++) {
        free(q->nodes[i].name);
        free(q->nodes[i].drv);
    }
    free(q->nodes);
    if (q->reap_ev) {
        event_free(q->reap_ev);
    }
    if (q->throttle_ev) {
        event_free(q->throttle_ev);
    }
    if (q->throttle_fd >= 0) {
        close(q->throttle_fd);
    }
    free(q->name);
    free(q);
}
