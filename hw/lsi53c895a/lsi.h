/*
 * lsi.h - the LSI53C895A SCSI host bus adapter model, shared between its
 * files: the device state (every guest-visible field, in the order of
 * QEMU's "lsiscsi" migration section), register bits, and the functions
 * one part of the model calls in another.
 *
 *   lsi.c          device type, PCI glue, reset, interrupts, scheduling
 *   lsi_regs.c     the register file: a per-offset descriptor table
 *   lsi_dma.c      SCRIPTS-initiated DMA, including to the chip's own BARs
 *   lsi_scripts.c  the SCRIPTS processor
 *   lsi_scsi.c     SCSI bus phases, requests, disconnect/reselect
 *
 * Not a public header: only the model and its unit tests include it.
 */
#ifndef OUTBOARD_HW_LSI_H
#define OUTBOARD_HW_LSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outboard/ctx.h"
#include "outboard/pci.h"
#include "outboard/scsi.h"

struct event;

#define LSI_IO_SIZE         256u       /* BAR0: registers in I/O space */
#define LSI_MMIO_SIZE       1024u      /* BAR1: registers, mirrored every 256 bytes */
#define LSI_RAM_SIZE        8192u      /* BAR2: SCRIPTS RAM */
#define LSI_NREGS           256u

#define LSI_MAX_MSGIN_LEN   8
#define LSI_MAX_TARGET      7          /* QEMU accepts scsi-id 0..7 */
#define LSI_MAX_LUN         7          /* LUNs 0..7, with the LUN carried everywhere */
#define LSI_MAX_REQS        1024u      /* outstanding requests, all targets */

/*
 * SCRIPTS instructions per slice before the processor yields to the loop
 * (a zero-timeout timer resumes it). Every fetch counts, skipped all-zero
 * dwords included (CVE-2019-12068); a memory move counts one more per
 * 4 KiB it copies.
 */
#define LSI_SLICE_INSN      1000u

/* SCNTL0..3 */
#define LSI_SCNTL0_START    0x20
#define LSI_SCNTL1_SST      0x01
#define LSI_SCNTL1_IARB     0x02
#define LSI_SCNTL1_RST      0x08
#define LSI_SCNTL1_CON      0x10
#define LSI_SCNTL2_WSR      0x01
#define LSI_SCNTL2_WSS      0x08
/* SCID */
#define LSI_SCID_RRE        0x60
/* ISTAT0 / ISTAT1 */
#define LSI_ISTAT0_DIP      0x01
#define LSI_ISTAT0_SIP      0x02
#define LSI_ISTAT0_INTF     0x04
#define LSI_ISTAT0_CON      0x08
#define LSI_ISTAT0_SEM      0x10
#define LSI_ISTAT0_SIGP     0x20
#define LSI_ISTAT0_SRST     0x40
#define LSI_ISTAT0_ABRT     0x80
#define LSI_ISTAT1_SRUN     0x02
/* SSTAT0 */
#define LSI_SSTAT0_RST      0x02
#define LSI_SSTAT0_WOA      0x04
/* SIST0 / SIST1 */
#define LSI_SIST0_PAR       0x01
#define LSI_SIST0_RST       0x02
#define LSI_SIST0_UDC       0x04
#define LSI_SIST0_SGE       0x08
#define LSI_SIST0_RSL       0x10
#define LSI_SIST0_SEL       0x20
#define LSI_SIST0_CMP       0x40
#define LSI_SIST0_MA        0x80
#define LSI_SIST1_HTH       0x01
#define LSI_SIST1_GEN       0x02
#define LSI_SIST1_STO       0x04
#define LSI_SIST1_SBMC      0x10
/* SOCL / SBCL */
#define LSI_SOCL_ATN        0x08
#define LSI_SBCL_ATN        0x08
#define LSI_SBCL_BSY        0x20
#define LSI_SBCL_ACK        0x40
#define LSI_SBCL_REQ        0x80
/* DSTAT */
#define LSI_DSTAT_IID       0x01
#define LSI_DSTAT_SIR       0x04
#define LSI_DSTAT_SSI       0x08
#define LSI_DSTAT_ABRT      0x10
#define LSI_DSTAT_BF        0x20
#define LSI_DSTAT_MDPE      0x40
#define LSI_DSTAT_DFE       0x80
/* DCNTL */
#define LSI_DCNTL_COM       0x01
#define LSI_DCNTL_STD       0x04
#define LSI_DCNTL_SSM       0x10
#define LSI_DCNTL_PFF       0x40
/* DMODE */
#define LSI_DMODE_MAN       0x01
#define LSI_DMODE_DIOM      0x10
#define LSI_DMODE_SIOM      0x20
/* CTEST2 / CTEST5 */
#define LSI_CTEST2_DACK     0x01
#define LSI_CTEST2_PCICIE   0x08
#define LSI_CTEST2_CM       0x10
#define LSI_CTEST2_SIGP     0x40
#define LSI_CTEST5_BBCK     0x40
#define LSI_CTEST5_ADCK     0x80
/* CCNTL0 / CCNTL1 */
#define LSI_CCNTL0_PMJCTL   0x40
#define LSI_CCNTL0_ENPMJ    0x80
#define LSI_CCNTL1_EN64DBMV 0x01
#define LSI_CCNTL1_EN64TIBMV 0x02
#define LSI_CCNTL1_64TIMOD  0x04
#define LSI_CCNTL1_40BIT    (LSI_CCNTL1_EN64TIBMV | LSI_CCNTL1_64TIMOD)

/* SCSI phases as (MSG, C/D, I/O), the low bits of SSTAT1 and SBCL. */
#define LSI_PHASE_DO        0
#define LSI_PHASE_DI        1
#define LSI_PHASE_CMD       2
#define LSI_PHASE_ST        3
#define LSI_PHASE_MO        6
#define LSI_PHASE_MI        7
#define LSI_PHASE_MASK      7

/* select_tag: target ID << 8 | tag byte | "a queue tag message was seen" */
#define LSI_TAG_VALID       0x10000u

/* What the SCRIPTS processor waits for (the migrated `waiting` field). */
enum lsi_wait {
    LSI_NOWAIT = 0,            /* running or stopped */
    LSI_WAIT_RESELECT = 1,     /* WAIT RESELECT with nothing to reselect */
    LSI_DMA_SCRIPTS = 2,       /* inside a data block move, synchronously */
    LSI_DMA_IN_PROGRESS = 3,   /* data block move stalled for the device */
    LSI_WAIT_SCRIPTS = 4,      /* slice budget used up, resumes from the loop */
};

/* What follows when the MSG IN bytes are drained (migrated `msg_action`). */
enum lsi_msg_action {
    LSI_MSG_ACTION_COMMAND = 0,
    LSI_MSG_ACTION_DISCONNECT = 1,
    LSI_MSG_ACTION_DOUT = 2,
    LSI_MSG_ACTION_DIN = 3,
    LSI_MSG_ACTION_STATUS = 4, /* ours: reselected into STATUS (no data) */
};

/* Task attribute from the queue tag message. */
enum lsi_task_attr {
    LSI_TASK_UNTAGGED,
    LSI_TASK_SIMPLE,
    LSI_TASK_HEAD,
    LSI_TASK_ORDERED,
};

/*
 * One SCSI request the HBA knows about: connected (`current`), or
 * disconnected in the FIFO queue waiting for data, completion, or
 * (ORDERED ordering) for its turn to start.
 */
struct lsi_req {
    struct ob_scsi_req *req;       /* our reference */
    struct lsi_req *prev, *next;   /* the disconnected queue */
    uint64_t serial;               /* unique per device: safe identity check */
    uint32_t tag;                  /* select_tag at COMMAND time */
    uint32_t lun;
    enum lsi_task_attr attr;
    uint32_t dma_len;              /* bytes of the current chunk not yet moved */
    uint8_t *dma_buf;              /* where in the chunk the next byte is */
    uint32_t pending;              /* chunk ready while disconnected */
    bool out;                      /* data-out command */
    bool started;                  /* handed to the device (enqueued) */
    bool queued;                   /* on the disconnected queue */
    bool done;                     /* completed while disconnected */
    uint8_t status;                /* ... with this status */
};

struct lsi_state {
    struct ob_pci_dev pci;
    struct ob_scsi_bus bus;

    /* ---- migrated state: QEMU's vmstate_lsi_scsi field order ---- */
    int32_t carry;
    int32_t status;
    int32_t msg_action;
    int32_t msg_len;
    uint8_t msg[LSI_MAX_MSGIN_LEN];
    int32_t waiting;
    uint32_t dsa;
    uint32_t temp;
    uint32_t dnad;
    uint32_t dbc;
    uint8_t istat0;
    uint8_t istat1;
    uint8_t dcmd;
    uint8_t dstat;
    uint8_t dien;
    uint8_t sist0;
    uint8_t sist1;
    uint8_t sien0;
    uint8_t sien1;
    uint8_t mbox0;
    uint8_t mbox1;
    uint8_t dfifo;
    uint8_t ctest2;
    uint8_t ctest3;
    uint8_t ctest4;
    uint8_t ctest5;
    uint8_t ccntl0;
    uint8_t ccntl1;
    uint32_t dsp;
    uint32_t dsps;
    uint8_t dmode;
    uint8_t dcntl;
    uint8_t scntl0;
    uint8_t scntl1;
    uint8_t scntl2;
    uint8_t scntl3;
    uint8_t sstat0;
    uint8_t sstat1;
    uint8_t scid;
    uint8_t sxfer;
    uint8_t socl;
    uint8_t sdid;
    uint8_t ssid;
    uint8_t sfbr;
    uint8_t stest1;
    uint8_t stest2;
    uint8_t stest3;
    uint8_t sidl;
    uint8_t stime0;
    uint8_t respid0;
    uint8_t respid1;
    uint8_t sbcl;
    uint32_t mmrs;
    uint32_t mmws;
    uint32_t sfs;
    uint32_t drs;
    uint32_t sbms;
    uint32_t dbms;
    uint32_t dnad64;
    uint32_t pmjad1;
    uint32_t pmjad2;
    uint32_t rbc;
    uint32_t ua;
    uint32_t ia;
    uint32_t sbc;
    uint32_t csbc;
    uint32_t scratch[18];          /* SCRATCHA, SCRATCHB, SCRATCHC..R */
    uint8_t sbr;
    uint8_t script_ram[LSI_RAM_SIZE];

    /* ---- not migrated by QEMU (nexus bookkeeping) ---- */
    uint32_t adder;                /* last jump target (ADDER register) */
    uint32_t select_tag;
    uint32_t current_lun;
    int32_t command_complete;      /* 0 no, 1 data phase reached, 2 done */
    enum lsi_task_attr select_attr;

    /* ---- runtime, rebuilt rather than migrated ---- */
    struct lsi_req *current;       /* the request on the bus */
    struct lsi_req *queue_head;    /* disconnected requests, submission order */
    struct lsi_req *queue_tail;
    unsigned nreqs;
    uint64_t req_serial;           /* last lsi_req serial handed out */
    struct event *run_ev;          /* zero-timeout timer running the engine */
    bool in_engine;
    bool unblock_pending;          /* an ORDERED/blocked request may start */
    bool paused;                   /* VM stopped (runstate.h): no SCRIPTS, no
                                    * DMA, INTA not raised */
    bool run_deferred;             /* the engine was due while paused */
    unsigned reg_dma_depth;        /* SCRIPTS DMA into our own register file */
    uint64_t insns;                /* statistics */
    uint64_t yields;
};

static inline struct lsi_state *lsi_from_pci(struct ob_pci_dev *pd)
{
    return (struct lsi_state *)pd;
}

static inline const struct ob_log *lsi_log(const struct lsi_state *s)
{
    return &s->pci.dev.ctx->log;
}

static inline const char *lsi_name(const struct lsi_state *s)
{
    return ob_pci_name(&s->pci);
}

/* lsi.c */
void lsi_update_irq(struct lsi_state *s);
void lsi_schedule(struct lsi_state *s);
void lsi_chip_reset(struct lsi_state *s);
void lsi_scsi_bus_reset(struct lsi_state *s);

/* lsi_regs.c */
uint8_t lsi_reg_read(struct lsi_state *s, unsigned off);
void lsi_reg_write(struct lsi_state *s, unsigned off, uint8_t val);
void lsi_regs_reset(struct lsi_state *s);
void lsi_regs_dump(struct lsi_state *s, ob_dump_fn *fn, void *opaque);
const char *lsi_reg_name(unsigned off);

/* lsi_dma.c: 0, or -1 when some byte was not reachable (bus fault) */
/* The bytes [ADDR, ADDR+LEN) of memory space for reading in place, when they
 * lie wholly in guest RAM (bus mastering on) or in the SCRIPTS RAM; else
 * NULL, quietly (lsi_dma_read() then tells what is wrong). */
const uint8_t *lsi_dma_peek(struct lsi_state *s, uint64_t addr, size_t len);
int lsi_dma_read(struct lsi_state *s, uint64_t addr, void *buf, size_t len, bool io);
int lsi_dma_write(struct lsi_state *s, uint64_t addr, const void *buf, size_t len,
                  bool io);

/* lsi_scripts.c */
void lsi_start(struct lsi_state *s);
void lsi_stop(struct lsi_state *s);
void lsi_resume(struct lsi_state *s);
void lsi_engine_run(struct lsi_state *s);
void lsi_script_scsi_interrupt(struct lsi_state *s, uint8_t stat0, uint8_t stat1);
void lsi_script_dma_interrupt(struct lsi_state *s, uint8_t stat);
void lsi_bus_fault(struct lsi_state *s, const char *what, uint64_t addr);
uint64_t lsi_data_addr(const struct lsi_state *s);
void lsi_move_regs_update(struct lsi_state *s);

/* lsi_scsi.c */
extern const struct ob_scsi_bus_ops lsi_scsi_bus_ops;
void lsi_set_phase(struct lsi_state *s, int phase);
void lsi_disconnect(struct lsi_state *s);
bool lsi_irq_on_rsl(const struct lsi_state *s);
void lsi_reselect_pending(struct lsi_state *s);
void lsi_do_select(struct lsi_state *s, uint32_t id, bool atn);
void lsi_do_wait_disconnect(struct lsi_state *s);
void lsi_do_wait_reselect(struct lsi_state *s);
void lsi_do_command(struct lsi_state *s);
void lsi_do_status(struct lsi_state *s);
void lsi_do_msgin(struct lsi_state *s);
void lsi_do_msgout(struct lsi_state *s);
void lsi_do_dma(struct lsi_state *s, bool out);
void lsi_dma_continue(struct lsi_state *s);
void lsi_start_blocked(struct lsi_state *s);
void lsi_cancel_all(struct lsi_state *s);

#endif
