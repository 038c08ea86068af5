/*
 * chan.h - one mpqemu connection (an x-remote-object): reads framed
 * messages with their SCM_RIGHTS fds from a stream socket on the loop,
 * validates them with the codec, dispatches to its PCI device, and replies
 * exactly once to every synchronous request, in order.
 */
#ifndef OUTBOARD_CHAN_H
#define OUTBOARD_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "outboard/mpqemu.h"

struct ob_ctx;
struct ob_pci_dev;
struct event;

#define OB_CHAN_INBUF 4096u

struct ob_chan_stats {
    uint64_t msgs[OB_MPQ_NUM_CMDS];   /* valid requests by command */
    uint64_t errors;                  /* requests answered with an error */
    uint64_t bytes_in;
    uint64_t bytes_out;
    struct timespec last_activity;    /* CLOCK_REALTIME */
};

struct ob_chan {
    struct ob_ctx *ctx;
    char *id;
    int fd;
    struct ob_pci_dev *dev;
    struct event *ev;
    uint64_t poll_ns;                 /* busy-poll budget after a message; 0 = off */
    /* input: bytes not yet consumed, and fds waiting for their message */
    uint8_t in[OB_CHAN_INBUF];
    size_t in_len;
    int pend_fds[OB_MPQ_MAX_FDS * 2];
    unsigned pend_nfds;
    size_t pend_off;                  /* offset in `in` of the message they belong to */
    bool pend_bad;                    /* more fds were sent than could be received */
    /* output: replies not yet written (only when the socket is full) */
    uint8_t *out;
    size_t out_len;
    size_t out_cap;
    struct event *wev;
    bool closed;
    struct ob_chan_stats stats;
    struct ob_chan *next;
};

/*
 * Starts serving FD (a connected stream socket) for DEV. Takes ownership of
 * FD on success. Returns the channel or NULL with ERR set.
 */
struct ob_chan *ob_chan_open(struct ob_ctx *ctx, const char *id, int fd,
                             struct ob_pci_dev *dev, char *err, size_t errlen);
/* Closes the socket, releases the device's guest memory and eventfds. */
void ob_chan_close(struct ob_chan *ch, const char *why);
void ob_chan_free(struct ob_chan *ch);

#endif
