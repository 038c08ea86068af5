/*
 * qmp.h - outboard's QMP server: monitors (endpoints), their clients, the
 * framing and negotiation of the QEMU Machine Protocol, and events.
 *
 * Endpoints, spelled as QEMU spells them:
 *   -qmp unix:PATH,server=on,wait=off     (also the legacy ",server,nowait")
 *   -qmp tcp:HOST:PORT,server=on,wait=off
 *   -qmp unix:PATH                        (client mode: connects out)
 *   -chardev socket,id=ID,path=PATH,server=on,wait=off  + -mon chardev=ID,mode=control
 *   -chardev socket,id=ID,host=H,port=P,server=on,wait=off + -mon ...
 *   -chardev socket,id=ID,fd=N  + -mon ...   (an inherited socket: listening
 *                                             -> accepts clients; connected
 *                                             -> is the one client)
 * wait=on (QEMU's default for a server) blocks start-up until the first
 * client connects, as QEMU does. A listening monitor serves several clients
 * at once (QEMU serves one per monitor: a compatible superset); each client
 * has its own parser, negotiation state and reply order, and events go to
 * every client that has negotiated.
 *
 * Everything runs on the loop with non-blocking sockets: input is parsed as
 * it arrives (qmp_json.h), commands run synchronously (qmp_cmds.h), replies
 * and events are buffered per client. A client whose unread output passes
 * OB_QMP_OUT_PAUSE is not read until it drains; one that lets it pass
 * OB_QMP_OUT_MAX (only events can do that) is disconnected. At read EOF
 * (half-close) the answers still buffered are written, then the connection
 * closes.
 */
#ifndef OUTBOARD_QMP_H
#define OUTBOARD_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ob_ctx;
struct ob_cmdline;
struct ob_opts;
struct ob_qmp_mon;
struct ob_qmp_client;
struct event;

/* A drive created by blockdev-add. */
struct ob_qmp_node {
    char *name;
    char *drv;                      /* "raw" or "file" */
};

#define OB_QMP_OUT_PAUSE      (1u << 20)    /* stop reading a client above this */
#define OB_QMP_OUT_MAX        (16u << 20)   /* disconnect a client above this */
#define OB_QMP_MAX_CLIENTS    64u           /* per listening monitor */
#define OB_QMP_MAX_RECV_FDS   16u           /* SCM_RIGHTS fds kept per client */

struct ob_qmp {
    struct ob_ctx *ctx;
    char *name;                     /* -name, for query-name; or NULL */
    struct ob_qmp_mon *mons;
    struct ob_qmp_client *clients;  /* every live client, any monitor */
    struct ob_qmp_client *dead;     /* closed, freed from reap_ev */
    struct event *reap_ev;
    /* the drives created by blockdev-add (query-block tells them from
     * -drive drives), with the driver named at creation */
    struct ob_qmp_node *nodes;
    size_t nnodes;
    /* the node names given to -drive drives (QEMU's "#block<n><rr>"),
     * by drive id, each made on first use */
    struct ob_qmp_node *autonodes;  /* name: the drive id, drv: the node name */
    size_t nautonodes;
    unsigned autonode_counter;
    /* events emitted while a command asks for them to follow its reply
     * (device_del: QEMU's unplug completes after the return) */
    bool hold_events;
    char **held;
    size_t nheld;
    uint64_t events_sent;
    /* Requests run on a token bucket shared by every client
     * (OB_QMP_RATE per second, bursts of OB_QMP_BURST): however hard
     * clients push, QMP takes a bounded share of the loop and the proxy's
     * BAR and config requests are not delayed by it. */
    double tokens;
    uint64_t tokens_ns;             /* CLOCK_MONOTONIC of the last refill */
    /* Clients that ran out of tokens wait for this timerfd, armed once per
     * refill: a libevent timer would make every loop pass program a kernel
     * timer (a VM exit per BAR request on a virtual machine). */
    int throttle_fd;
    struct event *throttle_ev;
    bool throttle_armed;
};

#define OB_QMP_RATE     5000.0      /* requests per second, all clients */
#define OB_QMP_BURST    64.0

/* The server of CTX (no endpoint yet), registered as CTX's event sink. */
struct ob_qmp *ob_qmp_new(struct ob_ctx *ctx, const char *name);
/* Flushes what each client still has buffered (briefly), closes every
 * client and endpoint, removes the socket files it created. */
void ob_qmp_free(struct ob_qmp *q);

/* -qmp SPEC. Returns 0, or -1 with one line in ERR. */
int ob_qmp_add_spec(struct ob_qmp *q, const char *spec, char *err, size_t errlen);
/* -chardev socket,... (options O, backend in "backend") used by -mon. */
int ob_qmp_add_chardev(struct ob_qmp *q, struct ob_opts *o, char *err, size_t errlen);
/* Every QMP monitor of the command line (-qmp, -mon + -chardev). */
int ob_qmp_setup(struct ob_qmp *q, const struct ob_cmdline *cl, char *err,
                 size_t errlen);
/* Serves FD (a connected stream socket, owned from now on) as one client
 * of a monitor named ID; for tests and embedding. */
int ob_qmp_add_connected_fd(struct ob_qmp *q, const char *id, int fd, char *err,
                            size_t errlen);

/* The oldest descriptor a client sent with SCM_RIGHTS and no command took
 * yet (the caller owns it), or -1. */
int ob_qmp_client_take_fd(struct ob_qmp_client *c);

/* Records/forgets a drive created by blockdev-add (DRV: "raw" or "file"). */
int ob_qmp_node_add(struct ob_qmp *q, const char *name, const char *drv);
void ob_qmp_node_del(struct ob_qmp *q, const char *name);
/* The blockdev-add record of drive NAME, or NULL for a -drive drive. */
const struct ob_qmp_node *ob_qmp_node_find(const struct ob_qmp *q, const char *name);
/* The node name of drive DRIVE_ID: its blockdev-add name, or for a -drive
 * drive one made as QEMU makes it ("#block" + a counter + two digits; QEMU's
 * are random), the same for the drive's lifetime. NULL if out of memory. */
const char *ob_qmp_drive_node_name(struct ob_qmp *q, const char *drive_id);

/* Number of clients connected now (all monitors). */
unsigned ob_qmp_client_count(const struct ob_qmp *q);

#endif
