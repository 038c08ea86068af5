/*
 * proxy_lsi.h - a minimal LSI53C895A SCSI initiator on top of the proxy
 * driver (proxy.h): what a guest's HBA driver would do, without a guest.
 *
 * The driver writes one SCRIPTS program and one control block (CCB) per
 * command slot into the proxy's guest RAM (a memfd shared with the remote),
 * starts SCRIPTS through DSP and takes the chip's interrupts from the irq
 * eventfd. Each command is: SELECT with ATN (table indirect), MSG OUT
 * IDENTIFY with disconnect privilege (+ SIMPLE QUEUE TAG when tagged),
 * COMMAND, then a phase loop of table-indirect DATA IN/OUT, STATUS and
 * MSG IN moves until COMMAND COMPLETE or DISCONNECT. While commands are
 * disconnected the chip waits in WAIT RESELECT; the host wakes it with
 * ISTAT.SIGP to select a new command. A reselection is matched to its slot
 * by tag (tagged) or by target (untagged). A phase mismatch in a data phase
 * (short transfer, or a target that disconnects in the middle of the data)
 * is resumed from DBC, so saved data pointers work.
 *
 * That is the classic mode: the host takes part in every phase change. The
 * queued mode (ob_proxy_lsi_init_queued()) works as Linux's sym53c8xx
 * does: SCRIPTS run without the host. The host puts control-block
 * addresses into a start queue in guest RAM and sets ISTAT.SIGP; SCRIPTS
 * take them in order, select, send the command, and on a disconnect go
 * back to the queue or to WAIT RESELECT. A reselection finds its control
 * block in SCRIPTS, from the tag or (untagged) from a per-target table; a
 * finished command marks its control block done, and SCRIPTS raise INTFLY
 * when they run out of queued commands (interrupts are coalesced while the
 * host keeps the queue filled). The host reads ISTAT, clears INTF and
 * collects what is marked done: a few register accesses per interrupt
 * instead of several per command. Selection timeouts, phase mismatches and
 * overruns stop SCRIPTS and are handled by the host as in the classic mode.
 *
 * The chip is driven as QEMU's model behaves (and as the real chip would,
 * within what the program uses); it works with QEMU's x-remote and outboard.
 *
 * Nothing here allocates: struct ob_proxy_lsi holds every slot. Guest RAM
 * below OB_PROXY_LSI_DATA_GPA is the driver's; RAM from there up is the
 * caller's (data buffers), except the bounce area of ob_proxy_lsi_exec().
 */
#ifndef OUTBOARD_PROXY_LSI_H
#define OUTBOARD_PROXY_LSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outboard/proxy.h"

#define OB_PROXY_LSI_SLOTS       64u        /* outstanding commands; tag = slot */
#define OB_PROXY_LSI_INITIATOR   7u         /* our SCSI ID (SCID) */
#define OB_PROXY_LSI_MAX_TARGET  15u
#define OB_PROXY_LSI_MAX_XFER    0xffffffu  /* 24-bit block move count */
#define OB_PROXY_LSI_SENSE_LEN   32u

/* Guest-physical layout (inside the low 768 KiB of QEMU's pc RAM map). */
#define OB_PROXY_LSI_SCRIPT_GPA  0x10000u   /* the SCRIPTS program */
#define OB_PROXY_LSI_GLOBAL_GPA  0x18000u   /* reselection message bytes,
                                               the queued mode's start queue */
#define OB_PROXY_LSI_CCB_GPA     0x20000u   /* OB_PROXY_LSI_SLOTS x 256 bytes */
/* The caller's data buffers start here (guest RAM of the pc layout). */
#define OB_PROXY_LSI_DATA_GPA    0x100000u
/* ob_proxy_lsi_exec() bounces its data through the first BOUNCE bytes at
 * OB_PROXY_LSI_DATA_GPA; callers mixing both keep their buffers above. */
#define OB_PROXY_LSI_BOUNCE      (1u << 20)

enum ob_proxy_lsi_dir {
    OB_PROXY_LSI_NONE = 0,
    OB_PROXY_LSI_IN,            /* DATA IN: target to initiator */
    OB_PROXY_LSI_OUT,           /* DATA OUT */
};

enum ob_proxy_lsi_outcome {
    OB_PROXY_LSI_PENDING = 0,   /* submitted, not finished */
    OB_PROXY_LSI_DONE,          /* the target returned a status byte */
    OB_PROXY_LSI_SEL_TIMEOUT,   /* nothing answered the selection (SIST1.STO) */
    OB_PROXY_LSI_FAILED,        /* chip or protocol error; reason in ob_proxy_lsi.err */
};

/* One SCSI command. The caller owns it until it is returned as finished. */
struct ob_proxy_lsi_req {
    /* filled by the caller */
    uint8_t target;
    uint8_t lun;
    bool tagged;                 /* SIMPLE QUEUE TAG; else untagged (one per target) */
    uint8_t cdb_len;             /* 6, 10, 12 or 16 */
    uint8_t cdb[16];
    enum ob_proxy_lsi_dir dir;
    uint64_t data_gpa;           /* guest-physical buffer (below 4 GiB) */
    uint32_t data_len;           /* <= OB_PROXY_LSI_MAX_XFER */
    void *opaque;                /* the caller's */
    /* results */
    enum ob_proxy_lsi_outcome outcome;
    uint8_t status;              /* SCSI status byte when DONE */
    uint32_t residual;           /* data bytes not transferred */
    unsigned overruns;           /* > 0: the target had more data than data_len
                                    (the excess went to a bit bucket) */
    unsigned disconnects;        /* times the target disconnected */
    /* driver-private */
    int slot;
    unsigned mismatches;
    struct ob_proxy_lsi_req *next;
};

/* Result of ob_proxy_lsi_exec(): the command, plus REQUEST SENSE data after
 * a CHECK CONDITION. */
struct ob_proxy_lsi_result {
    enum ob_proxy_lsi_outcome outcome;
    uint8_t status;
    uint32_t residual;
    bool overrun;
    uint8_t sense[OB_PROXY_LSI_SENSE_LEN];
    uint8_t sense_len;           /* 0 = no sense fetched */
    uint8_t sense_key;           /* from fixed or descriptor sense; 0 if none */
    uint8_t asc, ascq;
};

enum ob_proxy_lsi_chip {
    OB_PROXY_LSI_CHIP_IDLE,      /* SCRIPTS stopped, bus free */
    OB_PROXY_LSI_CHIP_RUN,       /* SCRIPTS running for slot `cur` */
    OB_PROXY_LSI_CHIP_WAITRESEL, /* SCRIPTS in WAIT RESELECT */
};

struct ob_proxy_lsi_stats {
    uint64_t commands;           /* finished */
    uint64_t interrupts;         /* interrupt passes (irqfd wake-ups handled) */
    uint64_t reselections;
    uint64_t sigp;               /* SIGP wake-ups sent */
    uint64_t mismatches;         /* data phase mismatches resumed */
    uint64_t irq_wait_ns;        /* time blocked on the irq eventfd */
    uint64_t wait_resel_ns;      /* ... of which with SCRIPTS in WAIT RESELECT */
};

/* Guest-physical entry points of the SCRIPTS program (set by init);
 * start is the queued mode's entry (0 in the classic mode). */
struct ob_proxy_lsi_prog {
    uint32_t select, dispatch, data_in, data_out, wait_resel, start;
};

struct ob_proxy_lsi {
    struct ob_proxy *px;
    struct ob_proxy_lsi_prog prog;
    unsigned regbar;             /* BAR holding the registers (1: memory) */
    bool queued;                 /* the queued mode (see above) */
    uint64_t sq_added;           /* queued: start-queue entries ever written */
    uint64_t sq_signalled;       /* queued: sq_added when SIGP was last sent */
    enum ob_proxy_lsi_chip chip;
    int cur;                     /* slot on the bus, or -1 */
    bool sigp_sent;
    struct ob_proxy_lsi_req *slot[OB_PROXY_LSI_SLOTS];
    unsigned nslots;             /* slots in use */
    struct ob_proxy_lsi_req *pend_head, *pend_tail; /* not yet selected */
    struct ob_proxy_lsi_req *done_head, *done_tail; /* finished, not yet reaped */
    unsigned ndisc;              /* commands disconnected */
    struct ob_proxy_lsi_stats stats;
    char err[OB_PROXY_ERRLEN];
};

/*
 * Sets the chip up on a connection that went through ob_proxy_bringup()
 * with I/O, memory and bus mastering enabled and at least 2 MiB of RAM:
 * interrupt masks, SCID, then the SCRIPTS program into guest RAM. Does
 * not reset the chip or the bus. 0, or -1 with lsi->err set.
 */
int ob_proxy_lsi_init(struct ob_proxy_lsi *lsi, struct ob_proxy *px);

/*
 * The same, in the queued mode: SCRIPTS are started here and keep running
 * (in WAIT RESELECT when there is nothing to do). 0, or -1 with lsi->err.
 */
int ob_proxy_lsi_init_queued(struct ob_proxy_lsi *lsi, struct ob_proxy *px);

/*
 * Queues REQ (filled as documented above) and starts it if the chip is
 * free. In the queued mode it only enters the start queue: the SIGP that
 * wakes SCRIPTS goes out once for all commands submitted before the next
 * poll, run or step. Returns 0, or -1 with lsi->err set: for a bad request or no free
 * slot REQ is not queued; after a wire error the connection is unusable.
 */
int ob_proxy_lsi_submit(struct ob_proxy_lsi *lsi, struct ob_proxy_lsi_req *req);

/*
 * Handles the chip's interrupts for up to TIMEOUT_MS (returns early once
 * something finished) and hands back finished requests, oldest first, up
 * to MAX in OUT. Returns how many (0 on timeout), or -1 on a wire or chip
 * error that leaves the driver unusable.
 */
int ob_proxy_lsi_poll(struct ob_proxy_lsi *lsi, int timeout_ms,
                      struct ob_proxy_lsi_req **out, unsigned max);

/* Submits REQ and polls until it is finished (other requests that finish
 * meanwhile are kept for a later poll). 0, or -1 on error or timeout; after
 * a timeout the chip was reset (ob_proxy_lsi_reset()) and REQ is released. */
int ob_proxy_lsi_run(struct ob_proxy_lsi *lsi, struct ob_proxy_lsi_req *req,
                     int timeout_ms);

/*
 * Waits up to TIMEOUT_MS for one interrupt and handles it (and starts what
 * can start next). 1 when one was handled, 0 on timeout, -1 on error.
 */
int ob_proxy_lsi_step(struct ob_proxy_lsi *lsi, int timeout_ms);

/*
 * Recovery: ISTAT.ABRT (stop SCRIPTS), ISTAT.SRST (chip and SCSI bus reset,
 * so targets report a unit attention next), registers set up again. Every
 * outstanding request finishes as OB_PROXY_LSI_FAILED (on the done list).
 * ob_proxy_lsi_run() does this on a timeout. 0, or -1 on a wire error.
 */
int ob_proxy_lsi_reset(struct ob_proxy_lsi *lsi);

/* Commands outstanding (queued, on the bus or disconnected). */
unsigned ob_proxy_lsi_busy(const struct ob_proxy_lsi *lsi);

/*
 * One untagged command with the data copied through the bounce area
 * (LEN <= OB_PROXY_LSI_BOUNCE): BUF is read for DATA OUT and written for
 * DATA IN (only the bytes transferred). After CHECK CONDITION it issues
 * REQUEST SENSE and fills the sense fields. 0, or -1 on error.
 */
int ob_proxy_lsi_exec(struct ob_proxy_lsi *lsi, unsigned target, unsigned lun,
                      const uint8_t *cdb, unsigned cdb_len, enum ob_proxy_lsi_dir dir,
                      void *buf, uint32_t len, struct ob_proxy_lsi_result *res);

#define OB_PROXY_LSI_STATUS_GOOD       0x00
#define OB_PROXY_LSI_STATUS_CHECK      0x02

#endif
