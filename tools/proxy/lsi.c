/*
 * lsi.c - a minimal LSI53C895A SCSI initiator for the proxy driver: one
 * SCRIPTS program in guest RAM, one control block per command slot, and an
 * interrupt handler that matches reselections to slots. See proxy_lsi.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "outboard/proxy_lsi.h"

/* Chip registers (offsets in the register BAR). */
#define R_SCID     0x04
#define R_SSID     0x0a
#define R_DSTAT    0x0c
#define R_DSA      0x10
#define R_DSA1     0x11
#define R_ISTAT    0x14
#define R_CTEST2   0x1a
#define R_DBC      0x24
#define R_DSP      0x2c
#define R_DSPS     0x30
#define R_SCRATCHA 0x34
#define R_SCRATCHA2 0x36
#define R_DMODE    0x38
#define R_DIEN     0x39
#define R_DCNTL    0x3b
#define R_SIEN0    0x40
#define R_SIST0    0x42
#define R_CCNTL0   0x56
#define R_CCNTL1   0x57
#define R_SCRATCHB 0x5c
#define R_SCRATCHC 0x60

#define ISTAT_DIP  0x01
#define ISTAT_SIP  0x02
#define ISTAT_INTF 0x04
#define ISTAT_SIGP 0x20
#define ISTAT_SRST 0x40
#define ISTAT_ABRT 0x80
#define DSTAT_IID  0x01
#define DSTAT_SIR  0x04
#define DSTAT_ABRT 0x10
#define DSTAT_BF   0x20
#define DSTAT_MDPE 0x40
#define SIST0_PAR  0x01
#define SIST0_RST  0x02
#define SIST0_UDC  0x04
#define SIST0_SGE  0x08
#define SIST0_MA   0x80
#define SIST1_HTH  0x01
#define SIST1_GEN  0x02
#define SIST1_STO  0x04
#define SCID_RRE   0x40
#define DCNTL_COM  0x01

/* SCSI phases (MSG, C/D, I/O). */
#define PH_DATA_OUT 0u
#define PH_DATA_IN  1u
#define PH_COMMAND  2u
#define PH_STATUS   3u
#define PH_MSG_OUT  6u
#define PH_MSG_IN   7u

/* SCRIPTS encodings used below. */
#define I_MOVE_TI(ph)      (0x18000000u | ((uint32_t)(ph) << 24))   /* table indirect */
#define I_MOVE(ph, n)      (0x08000000u | ((uint32_t)(ph) << 24) | (n))
#define I_SELECT_TI_ATN(o) (0x43000000u | ((o) & 0xffffffu))
#define I_WAIT_DISC        0x48000000u
#define I_WAIT_RESEL       0x50000000u
#define I_CLEAR_ACK        0x60000040u
#define I_JUMP             0x80080000u
#define I_JUMP_WHEN(ph)    (0x800b0000u | ((uint32_t)(ph) << 24))
#define I_JUMP_IFNOT(ph)   (0x80030000u | ((uint32_t)(ph) << 24))
#define I_JUMP_DATA(d)     (0x800c0000u | (d))
#define I_INT              0x98080000u
#define I_INTFLY           0x98180000u                             /* INT on the fly */
#define I_REG_IMM(reg, v)  (0x78000000u | ((uint32_t)(reg) << 16) | ((uint32_t)(v) << 8))
#define I_REG_ADD(reg, v)  (0x7e000000u | ((uint32_t)(reg) << 16) | ((uint32_t)(v) << 8))
#define I_LOAD_DSA(reg, n) (0xf1000000u | ((uint32_t)(reg) << 16) | (n))
#define I_SFBR_AND(reg, v) (0x74000000u | ((uint32_t)(reg) << 16) | ((uint32_t)(v) << 8))
#define I_REG_FROM_SFBR(reg) (0x6a000000u | ((uint32_t)(reg) << 16))  /* reg = SFBR | 0 */
#define I_SFBR_FROM(reg)   (0x72000000u | ((uint32_t)(reg) << 16))   /* SFBR = reg | 0 */
#define I_LOAD_ABS(reg, n) (0xe1000000u | ((uint32_t)(reg) << 16) | (n))
#define I_STORE_DSA(reg, n) (0xf0000000u | ((uint32_t)(reg) << 16) | (n))
#define I_STORE_ABS(reg, n) (0xe0000000u | ((uint32_t)(reg) << 16) | (n))
#define I_MEMMOVE(n)       (0xc0000000u | (n))                     /* 3 dwords */

/* Global area: the reselection messages, then what SCRIPTS leave for the
 * host so that it needs fewer register reads per interrupt. */
#define G_MSGIN    0x00   /* IDENTIFY, SIMPLE QUEUE TAG, tag */
#define G_VECTOR   0x10   /* copy of the vector of the last INT */
#define G_SSID     0x14   /* SSID after a reselection */
/* The queued mode's start queue: SQ_LEN dwords, each a control block's
 * address or 0, 256-byte aligned so that SCRIPTS advance the pointer by
 * adding to its low byte. */
#define G_SQPTR    0x20   /* SCRIPTS' next entry (its guest address) */
#define G_SQCUR    0x24   /* the entry SCRIPTS are selecting */
#define G_CCBBASE  0x28   /* OB_PROXY_LSI_CCB_GPA, for the tag lookup */
#define G_UTBASE   0x2c   /* UNTAGGED_GPA, for the untagged lookup */
#define G_SQ       0x100
#define SQ_LEN     64u
#define G_SIZE     0x200  /* what init clears */
#define G_BUCKET   0x1000 /* where data beyond the caller's buffer goes */
#define BUCKET_LEN 0x1000

/* SCSI messages */
#define MSG_COMPLETE   0x00
#define MSG_DISCONNECT 0x04
#define MSG_IDENTIFY   0x80
#define MSG_DISC_PRIV  0x40
#define MSG_SIMPLE_TAG 0x20

/* INT vectors (DSPS). */
enum {
    V_DONE = 0x4f420001,
    V_DISC,
    V_RESEL,
    V_RESEL_RACE,
    V_SIGP,
    V_BADPHASE,
    V_OVERRUN,
};

/* The control block of one slot; DSA points at it. */
#define CCB_SIZE      256u
#define CCB_SELECT    0x00   /* dword: target ID in bits 19:16 */
#define CCB_T_MSGOUT  0x08   /* table entries: {count, address} */
#define CCB_T_CMD     0x10
#define CCB_T_DATA    0x18   /* count = bytes still to move */
#define CCB_T_STATUS  0x20
#define CCB_T_MSGIN   0x28
#define CCB_MSGOUT    0x40
#define CCB_CDB       0x50
#define CCB_STATUS    0x60
#define CCB_MSGIN     0x61
#define CCB_DONE      0x70   /* queued mode: nonzero once SCRIPTS finished it */

/* Queued mode: byte T is the slot of target T's untagged command. Right
 * after the control blocks, so that DSA bytes 2-3 are the same for both
 * and a lookup only rewrites bytes 0-1 (the control blocks' DSA byte 0 is
 * always 0, byte 1 the slot). */
#define UNTAGGED_GPA  (OB_PROXY_LSI_CCB_GPA + OB_PROXY_LSI_SLOTS * CCB_SIZE)
_Static_assert(CCB_SIZE == 256u && OB_PROXY_LSI_CCB_GPA % 0x10000u == 0 &&
               UNTAGGED_GPA / 0x10000u == OB_PROXY_LSI_CCB_GPA / 0x10000u &&
               UNTAGGED_GPA % 256u == 0, "the DSA arithmetic of the reselection lookups");
#define CCB_STUB_SEL  0xc0   /* LOAD DSA; JUMP select */
#define CCB_STUB_RES  0xd0   /* LOAD DSA; JUMP dispatch */
#define CCB_SELF      0xf8   /* this CCB's address, for the stubs */


#define SCRIPT_MAX_DWORDS 320u
_Static_assert(SQ_LEN * 4u == 256u && OB_PROXY_LSI_SLOTS <= SQ_LEN,
               "the start queue is one 256-byte page with room for every slot");

static int fail(struct ob_proxy_lsi *lsi, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct ob_proxy_lsi *lsi, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(lsi->err, sizeof(lsi->err), fmt, ap);
    va_end(ap);
    return -1;
}

static int wire_fail(struct ob_proxy_lsi *lsi, const char *what)
{
    return fail(lsi, "%s: %s", what, lsi->px->err);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int rd(struct ob_proxy_lsi *lsi, unsigned off, unsigned size, uint32_t *v)
{
    uint64_t val = 0;

    if (ob_proxy_barn_read(lsi->px, lsi->regbar, off, size, &val) < 0) {
        return wire_fail(lsi, "register read");
    }
    *v = (uint32_t)val;
    return 0;
}

static int wr(struct ob_proxy_lsi *lsi, unsigned off, uint32_t v, unsigned size)
{
    if (ob_proxy_barn_write(lsi->px, lsi->regbar, off, v, size) < 0) {
        return wire_fail(lsi, "register write");
    }
    return 0;
}

static uint32_t ccb_gpa(unsigned slot)
{
    return OB_PROXY_LSI_CCB_GPA + slot * CCB_SIZE;
}

static uint8_t *ccb(struct ob_proxy_lsi *lsi, unsigned slot)
{
    return ob_proxy_gpa(lsi->px, ccb_gpa(slot), CCB_SIZE);
}

/* The global area (reselection messages, vector copy, start queue). */
static uint8_t *global_area(struct ob_proxy_lsi *lsi)
{
    return ob_proxy_gpa(lsi->px, OB_PROXY_LSI_GLOBAL_GPA, G_SIZE);
}

/* ------------------------------------------------------------------ */
/* the program                                                         */

struct sasm {
    uint32_t w[SCRIPT_MAX_DWORDS];
    unsigned n;
};

/* Emits one two-dword instruction; returns the index of its first dword. */
static unsigned emit(struct sasm *a, uint32_t d1, uint32_t d2)
{
    unsigned at = a->n;

    a->w[a->n++] = d1;
    a->w[a->n++] = d2;
    return at;
}

static uint32_t here(const struct sasm *a)
{
    return OB_PROXY_LSI_SCRIPT_GPA + 4u * a->n;
}

/* MEMORY MOVE the vector of the INT that follows into the global area,
 * then INT VEC: the host learns the vector without reading DSPS. */
static void emit_int(struct sasm *a, uint32_t vec)
{
    uint32_t at = here(a);

    a->w[a->n++] = I_MEMMOVE(4);
    a->w[a->n++] = at + 12 + 4;
    a->w[a->n++] = OB_PROXY_LSI_GLOBAL_GPA + G_VECTOR;
    emit(a, I_INT, vec);
}

static void patch(struct sasm *a, unsigned at, uint32_t target)
{
    a->w[at + 1] = target;
}

/*
 *  select:    SELECT ATN FROM ccb.select, alternate resel_race
 *             INT badphase IF NOT MSG OUT       (a selection timeout stops here)
 *             MOVE FROM ccb.msgout WHEN MSG OUT
 *             INT badphase IF NOT COMMAND
 *             MOVE FROM ccb.cmd WHEN COMMAND
 *  dispatch:  JUMP data_in WHEN DATA IN, data_out WHEN DATA OUT,
 *             status WHEN STATUS, msg_in WHEN MSG IN; else INT badphase
 *  data_in:   MOVE FROM ccb.data WHEN DATA IN; STORE DBC to ccb.data.count
 *             INT overrun WHEN DATA IN; JUMP dispatch
 *  data_out:  (the same for DATA OUT)
 *  status:    MOVE FROM ccb.status WHEN STATUS; JUMP dispatch
 *  msg_in:    MOVE FROM ccb.msgin WHEN MSG IN
 *             JUMP complete IF 0x00; JUMP disc IF 0x04
 *             CLEAR ACK; JUMP dispatch          (SAVE DATA POINTER and others)
 *  disc:      CLEAR ACK; WAIT DISCONNECT; INT disc
 *  complete:  CLEAR ACK; WAIT DISCONNECT; INT done
 *  wait_resel: WAIT RESELECT, alternate sigp
 *             STORE SSID to global.ssid
 *             MOVE 1 MSG IN to global[0] (IDENTIFY)
 *             JUMP tag WHEN MSG IN; INT resel
 *  tag:       MOVE 2 MSG IN to global[1] (SIMPLE QUEUE TAG, tag); CLEAR ACK; INT resel
 *  sigp:      SFBR = CTEST2 (clears ISTAT.SIGP); INT sigp
 *  resel_race: as wait_resel after the WAIT, with INT resel_race
 *
 * Every INT is preceded by a MEMORY MOVE of its own vector to
 * global.vector, so the host reads ISTAT and DSTAT but not DSPS; the
 * control blocks start with two stubs (LOAD DSA from the block; JUMP select
 * or dispatch), so starting or resuming a command is one DSP write.
 *
 * The queued mode changes disc and complete, the selection's alternate
 * address and the SIGP wake-up, and adds the start-queue loop (see
 * build_queue()).
 */
static void build_queue(struct sasm *a, struct ob_proxy_lsi_prog *labels, unsigned sel,
                        unsigned j_disc_idle, unsigned j_cc_idle);

static unsigned build_script(struct sasm *a, struct ob_proxy_lsi_prog *labels, bool queued)
{
    const uint32_t g = OB_PROXY_LSI_GLOBAL_GPA;
    unsigned sel, j_nomo, j_nocmd, j_di, j_do, j_st, j_mi, back[4], j_cc, j_disc, j_ovr[2];
    unsigned j_tag, race_tag, w_resel, j_disc_idle = 0, j_cc_idle = 0;
    uint32_t badphase, st, mi, disc, cc, tag, sigp, race, overrun;
    unsigned i;

    a->n = 0;
    labels->select = here(a);
    sel = emit(a, I_SELECT_TI_ATN(CCB_SELECT), 0);
    j_nomo = emit(a, I_JUMP_IFNOT(PH_MSG_OUT), 0);
    emit(a, I_MOVE_TI(PH_MSG_OUT), CCB_T_MSGOUT);
    j_nocmd = emit(a, I_JUMP_IFNOT(PH_COMMAND), 0);
    emit(a, I_MOVE_TI(PH_COMMAND), CCB_T_CMD);

    labels->dispatch = here(a);
    j_di = emit(a, I_JUMP_WHEN(PH_DATA_IN), 0);
    j_do = emit(a, I_JUMP_WHEN(PH_DATA_OUT), 0);
    j_st = emit(a, I_JUMP_WHEN(PH_STATUS), 0);
    j_mi = emit(a, I_JUMP_WHEN(PH_MSG_IN), 0);
    badphase = here(a);
    emit_int(a, V_BADPHASE);

    /* A data move that ends with the target still in its data phase means
     * the target has more than the buffer: an overrun, for the host. */
    labels->data_in = here(a);
    emit(a, I_MOVE_TI(PH_DATA_IN), CCB_T_DATA);
    emit(a, I_STORE_DSA(R_DBC, 3), CCB_T_DATA);
    j_ovr[0] = emit(a, I_JUMP_WHEN(PH_DATA_IN), 0);
    back[0] = emit(a, I_JUMP, 0);
    labels->data_out = here(a);
    emit(a, I_MOVE_TI(PH_DATA_OUT), CCB_T_DATA);
    emit(a, I_STORE_DSA(R_DBC, 3), CCB_T_DATA);
    j_ovr[1] = emit(a, I_JUMP_WHEN(PH_DATA_OUT), 0);
    back[1] = emit(a, I_JUMP, 0);
    overrun = here(a);
    emit_int(a, V_OVERRUN);
    st = here(a);
    emit(a, I_MOVE_TI(PH_STATUS), CCB_T_STATUS);
    back[2] = emit(a, I_JUMP, 0);
    mi = here(a);
    emit(a, I_MOVE_TI(PH_MSG_IN), CCB_T_MSGIN);
    j_cc = emit(a, I_JUMP_DATA(MSG_COMPLETE), 0);
    j_disc = emit(a, I_JUMP_DATA(MSG_DISCONNECT), 0);
    emit(a, I_CLEAR_ACK, 0);
    back[3] = emit(a, I_JUMP, 0);
    disc = here(a);
    emit(a, I_CLEAR_ACK, 0);
    emit(a, I_WAIT_DISC, 0);
    if (queued) {
        j_disc_idle = emit(a, I_JUMP, 0);
    } else {
        emit_int(a, V_DISC);
    }
    cc = here(a);
    emit(a, I_CLEAR_ACK, 0);
    emit(a, I_WAIT_DISC, 0);
    if (queued) {
        /* mark the control block done (with its own address), note that
         * the host has something to collect, and go on with the queue */
        emit(a, I_STORE_DSA(R_DSA, 4), CCB_DONE);
        emit(a, I_REG_IMM(R_SCRATCHC, 1), 0);
        j_cc_idle = emit(a, I_JUMP, 0);
    } else {
        emit_int(a, V_DONE);
    }

    labels->wait_resel = here(a);
    w_resel = emit(a, I_WAIT_RESEL, 0);
    emit(a, I_STORE_ABS(R_SSID, 1), g + G_SSID);
    emit(a, I_MOVE(PH_MSG_IN, 1), g);
    j_tag = emit(a, I_JUMP_WHEN(PH_MSG_IN), 0);
    emit_int(a, V_RESEL);
    tag = here(a);
    emit(a, I_MOVE(PH_MSG_IN, 2), g + 1);
    emit(a, I_CLEAR_ACK, 0);
    emit_int(a, V_RESEL);
    sigp = here(a);
    emit(a, I_SFBR_FROM(R_CTEST2), 0);
    emit_int(a, V_SIGP);
    race = here(a);
    emit(a, I_STORE_ABS(R_SSID, 1), g + G_SSID);
    emit(a, I_MOVE(PH_MSG_IN, 1), g);
    race_tag = emit(a, I_JUMP_WHEN(PH_MSG_IN), 0);
    emit_int(a, V_RESEL_RACE);
    patch(a, race_tag, here(a));
    emit(a, I_MOVE(PH_MSG_IN, 2), g + 1);
    emit(a, I_CLEAR_ACK, 0);
    emit_int(a, V_RESEL_RACE);

    patch(a, sel, race);
    patch(a, j_nomo, badphase);
    patch(a, j_nocmd, badphase);
    patch(a, j_di, labels->data_in);
    patch(a, j_do, labels->data_out);
    patch(a, j_st, st);
    patch(a, j_mi, mi);
    for (i = 0; i < 4; i++) {
        patch(a, back[i], labels->dispatch);
    }
    patch(a, j_ovr[0], overrun);
    patch(a, j_ovr[1], overrun);
    patch(a, j_cc, cc);
    patch(a, j_disc, disc);
    patch(a, w_resel, sigp);
    patch(a, j_tag, tag);
    labels->start = 0;
    if (queued) {
        build_queue(a, labels, sel, j_disc_idle, j_cc_idle);
    }
    return a->n;
}

/*
 *  start:     SCRATCHB = 0 (the zero stored into taken queue entries),
 *             SCRATCHC0 = 0 (set when a command finished)
 *  idle:      DSA = global.sqptr; SCRATCHA = entry at DSA
 *             JUMP qidle IF entry == 0 (byte 2 of a control block's address
 *             is never 0)
 *             entry at DSA = 0; global.sqptr += 4 (low byte: the queue is one
 *             256-byte page); global.sqcur = SCRATCHA; DSA = it; JUMP select
 *  qidle:     if SCRATCHC0: SCRATCHC0 = 0, INTFLY
 *  qwait:     WAIT RESELECT, alternate qsigp
 *  qresel:    STORE SSID to global.ssid; MOVE 1 MSG IN to global[0]
 *             JUMP qtag WHEN MSG IN
 *             untagged: DSA = UNTAGGED_GPA + (SSID & 15); DSA byte 1 = the
 *             byte there (the slot), byte 0 = 0; JUMP dispatch
 *  qtag:      MOVE 2 MSG IN to global[1]; CLEAR ACK
 *             DSA = OB_PROXY_LSI_CCB_GPA, DSA byte 1 = tag (= slot); JUMP dispatch
 *  qsigp:     SFBR = CTEST2 (clears ISTAT.SIGP); JUMP idle
 *  qrace:     (select lost to a reselection) put global.sqcur back into the
 *             entry before global.sqptr, step the pointer back; JUMP qresel
 *
 * disc and complete jump to idle; the selection's alternate is qrace.
 *
 * Interrupts are coalesced: a finished command only sets SCRATCHC0, and
 * SCRIPTS raise INTFLY when they run out of queued commands. While the
 * host keeps the queue filled it is not interrupted per command; once the
 * queue is empty every completion is reported at once.
 */
static void build_queue(struct sasm *a, struct ob_proxy_lsi_prog *labels, unsigned sel,
                        unsigned j_disc_idle, unsigned j_cc_idle)
{
    const uint32_t g = OB_PROXY_LSI_GLOBAL_GPA;
    unsigned j_empty, j_none, w_resel, j_tag, j_resel, i;
    uint32_t idle, qidle, qwait, qresel, qtag, qsigp, qrace;

    labels->start = here(a);
    for (i = 0; i < 4; i++) {
        emit(a, I_REG_IMM(R_SCRATCHB + i, 0), 0);
    }
    emit(a, I_REG_IMM(R_SCRATCHC, 0), 0);
    idle = here(a);
    emit(a, I_LOAD_ABS(R_DSA, 4), g + G_SQPTR);
    emit(a, I_LOAD_DSA(R_SCRATCHA, 4), 0);
    emit(a, I_SFBR_FROM(R_SCRATCHA2), 0);
    j_empty = emit(a, I_JUMP_DATA(0x00), 0);
    emit(a, I_STORE_DSA(R_SCRATCHB, 4), 0);
    emit(a, I_REG_ADD(R_DSA, 4), 0);
    emit(a, I_STORE_ABS(R_DSA, 4), g + G_SQPTR);
    emit(a, I_STORE_ABS(R_SCRATCHA, 4), g + G_SQCUR);
    emit(a, I_LOAD_ABS(R_DSA, 4), g + G_SQCUR);
    emit(a, I_JUMP, labels->select);

    qidle = here(a);
    emit(a, I_SFBR_FROM(R_SCRATCHC), 0);
    j_none = emit(a, I_JUMP_DATA(0x00), 0);
    emit(a, I_REG_IMM(R_SCRATCHC, 0), 0);
    emit(a, I_INTFLY, 0);
    qwait = here(a);
    patch(a, j_none, qwait);
    w_resel = emit(a, I_WAIT_RESEL, 0);
    qresel = here(a);
    emit(a, I_STORE_ABS(R_SSID, 1), g + G_SSID);
    emit(a, I_MOVE(PH_MSG_IN, 1), g + G_MSGIN);
    j_tag = emit(a, I_JUMP_WHEN(PH_MSG_IN), 0);
    /* untagged: DSA = UNTAGGED_GPA + target, DSA1 = the byte there */
    emit(a, I_SFBR_AND(R_SSID, 0x0f), 0);
    emit(a, I_LOAD_ABS(R_DSA, 4), g + G_UTBASE);
    emit(a, I_REG_FROM_SFBR(R_DSA), 0);
    emit(a, I_LOAD_DSA(R_DSA1, 1), 0);
    emit(a, I_REG_IMM(R_DSA, 0), 0);
    emit(a, I_JUMP, labels->dispatch);
    qtag = here(a);
    emit(a, I_MOVE(PH_MSG_IN, 2), g + G_MSGIN + 1);
    emit(a, I_CLEAR_ACK, 0);
    emit(a, I_LOAD_ABS(R_DSA, 4), g + G_CCBBASE);
    emit(a, I_LOAD_ABS(R_DSA1, 1), g + G_MSGIN + 2);
    emit(a, I_JUMP, labels->dispatch);

    qsigp = here(a);
    emit(a, I_SFBR_FROM(R_CTEST2), 0);
    emit(a, I_JUMP, idle);

    qrace = here(a);
    emit(a, I_LOAD_ABS(R_DSA, 4), g + G_SQPTR);
    emit(a, I_REG_ADD(R_DSA, 0xfc), 0);
    emit(a, I_STORE_ABS(R_DSA, 4), g + G_SQPTR);
    emit(a, I_LOAD_ABS(R_SCRATCHA, 4), g + G_SQCUR);
    emit(a, I_STORE_DSA(R_SCRATCHA, 4), 0);
    j_resel = emit(a, I_JUMP, 0);

    patch(a, j_empty, qidle);
    patch(a, w_resel, qsigp);
    patch(a, j_tag, qtag);
    patch(a, j_resel, qresel);
    patch(a, j_disc_idle, idle);
    patch(a, j_cc_idle, idle);
    patch(a, sel, qrace);
    labels->wait_resel = qwait;
}

static int chip_setup(struct ob_proxy_lsi *lsi);
static int queue_start(struct ob_proxy_lsi *lsi);

static int lsi_init(struct ob_proxy_lsi *lsi, struct ob_proxy *px, bool queued)
{
    struct sasm a;
    uint8_t *p, *g;
    unsigned i, n;

    memset(lsi, 0, sizeof(*lsi));
    lsi->px = px;
    lsi->cur = -1;
    lsi->regbar = 1;
    lsi->queued = queued;
    if (!px->info.probed || px->info.bar[1].size < 256 || px->info.bar[1].io ||
        px->info.bar[1].base == 0) {
        return fail(lsi, "BAR1 (registers, memory) is not programmed");
    }
    n = build_script(&a, &lsi->prog, queued);
    p = ob_proxy_gpa(px, OB_PROXY_LSI_SCRIPT_GPA, 4u * n);
    if (!p || !ob_proxy_gpa(px, OB_PROXY_LSI_CCB_GPA, OB_PROXY_LSI_SLOTS * CCB_SIZE) ||
        !ob_proxy_gpa(px, OB_PROXY_LSI_GLOBAL_GPA, G_BUCKET + BUCKET_LEN) ||
        !ob_proxy_gpa(px, UNTAGGED_GPA, OB_PROXY_LSI_MAX_TARGET + 1) ||
        !ob_proxy_gpa(px, OB_PROXY_LSI_DATA_GPA, OB_PROXY_LSI_BOUNCE)) {
        return fail(lsi, "guest RAM too small or not mapped (need 2 MiB, pc layout)");
    }
    for (i = 0; i < n; i++) {
        put32(p + 4 * i, a.w[i]);
    }
    g = global_area(lsi);
    memset(g, 0, G_SIZE);
    for (i = 0; i < OB_PROXY_LSI_SLOTS; i++) {
        uint8_t *c = ccb(lsi, i);

        memset(c, 0, CCB_SIZE);
        put32(c + CCB_SELF, ccb_gpa(i));
        put32(c + CCB_STUB_SEL, I_LOAD_ABS(R_DSA, 4));
        put32(c + CCB_STUB_SEL + 4, ccb_gpa(i) + CCB_SELF);
        put32(c + CCB_STUB_SEL + 8, I_JUMP);
        put32(c + CCB_STUB_SEL + 12, lsi->prog.select);
        put32(c + CCB_STUB_RES, I_LOAD_ABS(R_DSA, 4));
        put32(c + CCB_STUB_RES + 4, ccb_gpa(i) + CCB_SELF);
        put32(c + CCB_STUB_RES + 8, I_JUMP);
        put32(c + CCB_STUB_RES + 12, lsi->prog.dispatch);
    }
    if (chip_setup(lsi) < 0) {
        return -1;
    }
    return queued ? queue_start(lsi) : 0;
}

int ob_proxy_lsi_init(struct ob_proxy_lsi *lsi, struct ob_proxy *px)
{
    return lsi_init(lsi, px, false);
}

int ob_proxy_lsi_init_queued(struct ob_proxy_lsi *lsi, struct ob_proxy *px)
{
    return lsi_init(lsi, px, true);
}

/* Registers: SCRIPTS start on DSP writes, 32-bit addressing, no
 * phase-mismatch jump (mismatches interrupt with SIST0.MA and the host
 * resumes from DBC), interrupts for everything that stops SCRIPTS. */
static int chip_setup(struct ob_proxy_lsi *lsi)
{
    uint32_t v = 0;

    if (wr(lsi, R_DMODE, 0, 1) < 0 || wr(lsi, R_DCNTL, DCNTL_COM, 1) < 0 ||
        wr(lsi, R_CCNTL0, 0, 1) < 0 || wr(lsi, R_CCNTL1, 0, 1) < 0 ||
        wr(lsi, R_SCID, SCID_RRE | OB_PROXY_LSI_INITIATOR, 1) < 0 ||
        wr(lsi, R_DIEN, DSTAT_MDPE | DSTAT_BF | DSTAT_ABRT | DSTAT_SIR | DSTAT_IID, 1) < 0 ||
        wr(lsi, R_SIEN0, SIST0_MA | SIST0_SGE | SIST0_UDC | SIST0_RST | SIST0_PAR |
                         (uint32_t)(SIST1_STO | SIST1_GEN | SIST1_HTH) << 8, 2) < 0) {
        return -1;
    }
    /* drop whatever an earlier user left pending */
    if (rd(lsi, R_DSTAT, 1, &v) < 0 || rd(lsi, R_SIST0, 2, &v) < 0 ||
        rd(lsi, R_ISTAT, 1, &v) < 0) {
        return -1;
    }
    if (v & ISTAT_SIGP) {
        (void)rd(lsi, R_CTEST2, 1, &v);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* queues                                                              */

static void list_push(struct ob_proxy_lsi_req **head, struct ob_proxy_lsi_req **tail,
                      struct ob_proxy_lsi_req *r)
{
    r->next = NULL;
    if (*tail) {
        (*tail)->next = r;
    } else {
        *head = r;
    }
    *tail = r;
}

static struct ob_proxy_lsi_req *list_pop(struct ob_proxy_lsi_req **head,
                                         struct ob_proxy_lsi_req **tail)
{
    struct ob_proxy_lsi_req *r = *head;

    if (r) {
        *head = r->next;
        if (!*head) {
            *tail = NULL;
        }
        r->next = NULL;
    }
    return r;
}

static void list_push_front(struct ob_proxy_lsi_req **head, struct ob_proxy_lsi_req **tail,
                            struct ob_proxy_lsi_req *r)
{
    r->next = *head;
    *head = r;
    if (!*tail) {
        *tail = r;
    }
}

static bool list_remove(struct ob_proxy_lsi_req **head, struct ob_proxy_lsi_req **tail,
                        struct ob_proxy_lsi_req *r)
{
    struct ob_proxy_lsi_req **pp, *prev = NULL;

    for (pp = head; *pp; prev = *pp, pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            if (*tail == r) {
                *tail = prev;
            }
            r->next = NULL;
            return true;
        }
    }
    return false;
}

unsigned ob_proxy_lsi_busy(const struct ob_proxy_lsi *lsi)
{
    return lsi->nslots;
}

/* Finishes the request in SLOT with OUTCOME. */
static void finish(struct ob_proxy_lsi *lsi, unsigned slot, enum ob_proxy_lsi_outcome outcome)
{
    struct ob_proxy_lsi_req *r = lsi->slot[slot];
    const uint8_t *c = ccb(lsi, slot);

    if (!r) {
        return;
    }
    r->outcome = outcome;
    r->status = c[CCB_STATUS];
    r->residual = r->overruns ? 0 : get32(c + CCB_T_DATA) & 0xffffffu;
    lsi->slot[slot] = NULL;
    lsi->nslots--;
    lsi->stats.commands++;
    list_push(&lsi->done_head, &lsi->done_tail, r);
}

/* ------------------------------------------------------------------ */
/* submission                                                          */

static int start_scripts(struct ob_proxy_lsi *lsi, uint32_t dsp)
{
    return wr(lsi, R_DSP, dsp, 4);
}

/* ------------------------------------------------------------------ */
/* the queued mode's start queue                                       */

/* An empty start queue, SCRIPTS started at its loop (the chip is stopped). */
static int queue_start(struct ob_proxy_lsi *lsi)
{
    uint8_t *g = global_area(lsi);

    memset(g + G_SQ, 0, SQ_LEN * 4u);
    put32(g + G_SQPTR, OB_PROXY_LSI_GLOBAL_GPA + G_SQ);
    put32(g + G_SQCUR, 0);
    put32(g + G_CCBBASE, OB_PROXY_LSI_CCB_GPA);
    put32(g + G_UTBASE, UNTAGGED_GPA);
    lsi->sq_added = lsi->sq_signalled = 0;
    lsi->cur = -1;
    lsi->chip = OB_PROXY_LSI_CHIP_RUN;
    return start_scripts(lsi, lsi->prog.start);
}

/* Hands SLOT's control block (written before) to SCRIPTS. The queue has a
 * free entry: it holds at most the slots in use, fewer than SQ_LEN. */
static void queue_push(struct ob_proxy_lsi *lsi, unsigned slot)
{
    uint8_t *e = global_area(lsi) + G_SQ + 4u * (unsigned)(lsi->sq_added % SQ_LEN);

    __atomic_thread_fence(__ATOMIC_RELEASE);    /* the block before its entry */
    put32(e, ccb_gpa(slot));
    lsi->sq_added++;
}

/* True while the queue holds an entry SCRIPTS have not taken. */
static bool queue_pending(struct ob_proxy_lsi *lsi)
{
    uint8_t *g = global_area(lsi);
    uint32_t off = get32(g + G_SQPTR) - (OB_PROXY_LSI_GLOBAL_GPA + G_SQ);

    return off >= SQ_LEN * 4u || get32(g + G_SQ + (off & ~3u)) != 0;
}

/* Wakes SCRIPTS from WAIT RESELECT if entries were added since the last
 * SIGP (one write for any number of submissions). */
static int queue_signal(struct ob_proxy_lsi *lsi)
{
    if (lsi->sq_signalled == lsi->sq_added) {
        return 0;
    }
    lsi->sq_signalled = lsi->sq_added;
    lsi->stats.sigp++;
    return wr(lsi, R_ISTAT, ISTAT_SIGP, 1);
}

/* Finishes every command SCRIPTS marked done. */
static void queue_reap(struct ob_proxy_lsi *lsi)
{
    unsigned i;

    for (i = 0; i < OB_PROXY_LSI_SLOTS; i++) {
        if (lsi->slot[i] && get32(ccb(lsi, i) + CCB_DONE) != 0) {
            __atomic_thread_fence(__ATOMIC_ACQUIRE);    /* status after the mark */
            finish(lsi, i, OB_PROXY_LSI_DONE);
        }
    }
}

/* INTF: cleared before the control blocks are read, so that a command
 * finishing meanwhile raises it again. The write keeps SIGP set while the
 * queue has entries: writing ISTAT replaces its SIGP bit, and a wake-up
 * SCRIPTS have not yet seen must not be lost. */
static int queue_intf(struct ob_proxy_lsi *lsi, uint32_t istat)
{
    uint32_t v = ISTAT_INTF;

    if (!(istat & ISTAT_INTF)) {
        queue_reap(lsi);
        return 0;
    }
    if (queue_pending(lsi)) {
        v |= ISTAT_SIGP;
        lsi->sq_signalled = lsi->sq_added;
    }
    if (wr(lsi, R_ISTAT, v, 1) < 0) {
        return -1;
    }
    queue_reap(lsi);
    return 0;
}

/* After an interrupt that stopped SCRIPTS: the command on the bus is the
 * control block DSA points at (if any). */
static int queue_cur(struct ob_proxy_lsi *lsi)
{
    uint32_t dsa = 0, slot;

    if (rd(lsi, R_DSA, 4, &dsa) < 0) {
        return -1;
    }
    slot = (dsa - OB_PROXY_LSI_CCB_GPA) / CCB_SIZE;
    lsi->cur = dsa >= OB_PROXY_LSI_CCB_GPA && slot < OB_PROXY_LSI_SLOTS &&
               dsa % CCB_SIZE == 0 && lsi->slot[slot] ? (int)slot : -1;
    lsi->chip = OB_PROXY_LSI_CHIP_IDLE;
    return 0;
}

/* With SCRIPTS stopped: select the next queued command, else wait for a
 * reselection if commands are disconnected, else stay idle. */
static int kick(struct ob_proxy_lsi *lsi)
{
    struct ob_proxy_lsi_req *r;

    if (lsi->chip != OB_PROXY_LSI_CHIP_IDLE) {
        return 0;
    }
    if (lsi->queued) {
        /* SCRIPTS stopped for the host: back to the queue loop */
        lsi->cur = -1;
        lsi->chip = OB_PROXY_LSI_CHIP_RUN;
        return start_scripts(lsi, lsi->prog.start);
    }
    r = list_pop(&lsi->pend_head, &lsi->pend_tail);
    if (r) {
        lsi->cur = r->slot;
        lsi->chip = OB_PROXY_LSI_CHIP_RUN;
        return start_scripts(lsi, ccb_gpa((unsigned)r->slot) + CCB_STUB_SEL);
    }
    lsi->cur = -1;
    if (lsi->ndisc > 0) {
        lsi->chip = OB_PROXY_LSI_CHIP_WAITRESEL;
        return start_scripts(lsi, lsi->prog.wait_resel);
    }
    return 0;
}

static bool untagged_busy(const struct ob_proxy_lsi *lsi, const struct ob_proxy_lsi_req *q)
{
    unsigned i;

    for (i = 0; i < OB_PROXY_LSI_SLOTS; i++) {
        const struct ob_proxy_lsi_req *r = lsi->slot[i];

        if (r && !r->tagged && r->target == q->target) {
            return true;
        }
    }
    return false;
}

int ob_proxy_lsi_submit(struct ob_proxy_lsi *lsi, struct ob_proxy_lsi_req *req)
{
    uint8_t *c;
    unsigned slot, n = 0;

    if (req->target > OB_PROXY_LSI_MAX_TARGET || req->target == OB_PROXY_LSI_INITIATOR ||
        req->lun > 7 || req->cdb_len == 0 || req->cdb_len > 16 ||
        req->data_len > OB_PROXY_LSI_MAX_XFER || req->data_gpa + req->data_len > UINT32_MAX ||
        (req->dir == OB_PROXY_LSI_NONE) != (req->data_len == 0)) {
        return fail(lsi, "invalid request (target %u lun %u cdb %u bytes, %u data bytes)",
                    req->target, req->lun, req->cdb_len, req->data_len);
    }
    if (req->data_len && !ob_proxy_gpa(lsi->px, req->data_gpa, req->data_len)) {
        return fail(lsi, "data buffer %#llx+%u is not guest RAM",
                    (unsigned long long)req->data_gpa, req->data_len);
    }
    if (!req->tagged && untagged_busy(lsi, req)) {
        return fail(lsi, "target %u already has an untagged command", req->target);
    }
    for (slot = 0; slot < OB_PROXY_LSI_SLOTS && lsi->slot[slot]; slot++) {
    }
    if (slot == OB_PROXY_LSI_SLOTS) {
        return fail(lsi, "all %u slots busy", OB_PROXY_LSI_SLOTS);
    }
    c = ccb(lsi, slot);
    memset(c, 0, CCB_STUB_SEL);
    put32(c + CCB_SELECT, (uint32_t)req->target << 16);
    c[CCB_MSGOUT + n++] = MSG_IDENTIFY | MSG_DISC_PRIV | req->lun;
    if (req->tagged) {
        c[CCB_MSGOUT + n++] = MSG_SIMPLE_TAG;
        c[CCB_MSGOUT + n++] = (uint8_t)slot;
    }
    put32(c + CCB_T_MSGOUT, n);
    put32(c + CCB_T_MSGOUT + 4, ccb_gpa(slot) + CCB_MSGOUT);
    memcpy(c + CCB_CDB, req->cdb, req->cdb_len);
    put32(c + CCB_T_CMD, req->cdb_len);
    put32(c + CCB_T_CMD + 4, ccb_gpa(slot) + CCB_CDB);
    put32(c + CCB_T_DATA, req->data_len);
    put32(c + CCB_T_DATA + 4, (uint32_t)req->data_gpa);
    put32(c + CCB_T_STATUS, 1);
    put32(c + CCB_T_STATUS + 4, ccb_gpa(slot) + CCB_STATUS);
    put32(c + CCB_T_MSGIN, 1);
    put32(c + CCB_T_MSGIN + 4, ccb_gpa(slot) + CCB_MSGIN);
    c[CCB_STATUS] = 0xff;

    req->slot = (int)slot;
    req->outcome = OB_PROXY_LSI_PENDING;
    req->status = 0xff;
    req->residual = req->data_len;
    req->disconnects = 0;
    req->mismatches = 0;
    req->overruns = 0;
    lsi->slot[slot] = req;
    lsi->nslots++;
    if (lsi->queued) {
        if (!req->tagged) {
            *(uint8_t *)ob_proxy_gpa(lsi->px, UNTAGGED_GPA + req->target, 1) = (uint8_t)slot;
        }
        queue_push(lsi, slot);
        return 0;
    }
    list_push(&lsi->pend_head, &lsi->pend_tail, req);
    if (lsi->chip == OB_PROXY_LSI_CHIP_IDLE) {
        return kick(lsi);
    }
    if (lsi->chip == OB_PROXY_LSI_CHIP_WAITRESEL && !lsi->sigp_sent) {
        lsi->sigp_sent = true;
        lsi->stats.sigp++;
        return wr(lsi, R_ISTAT, ISTAT_SIGP, 1);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* interrupts                                                          */

static int fail_cur(struct ob_proxy_lsi *lsi, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The command on the bus failed: record why, finish it, chip idle. */
static int fail_cur(struct ob_proxy_lsi *lsi, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(lsi->err, sizeof(lsi->err), fmt, ap);
    va_end(ap);
    if (lsi->cur >= 0) {
        finish(lsi, (unsigned)lsi->cur, OB_PROXY_LSI_FAILED);
    }
    lsi->cur = -1;
    lsi->chip = OB_PROXY_LSI_CHIP_IDLE;
    return 0;
}

static int on_reselect(struct ob_proxy_lsi *lsi, bool race)
{
    uint8_t *g = global_area(lsi);
    struct ob_proxy_lsi_req *r = NULL;
    unsigned i, target;

    lsi->stats.reselections++;
    if (race && lsi->cur >= 0) {
        /* our selection lost against a reselection: select it again later */
        list_push_front(&lsi->pend_head, &lsi->pend_tail, lsi->slot[lsi->cur]);
    }
    lsi->cur = -1;
    lsi->chip = OB_PROXY_LSI_CHIP_IDLE;
    target = g[G_SSID] & 0x0f;
    if (!(g[0] & MSG_IDENTIFY)) {
        return fail(lsi, "reselection by target %u without IDENTIFY (message %#x)",
                    target, g[0]);
    }
    /* the MSG IN moves left the tag message in global[1..2] */
    if (g[1] == MSG_SIMPLE_TAG && g[2] < OB_PROXY_LSI_SLOTS) {
        r = lsi->slot[g[2]];
        if (r && (!r->tagged || r->target != target)) {
            r = NULL;
        }
    }
    for (i = 0; !r && i < OB_PROXY_LSI_SLOTS; i++) {
        struct ob_proxy_lsi_req *q = lsi->slot[i];

        if (q && !q->tagged && q->target == target && q->disconnects > 0) {
            r = q;
        }
    }
    if (!r) {
        return fail(lsi, "reselection by target %u (messages %02x %02x %02x) matches "
                    "no disconnected command", target, g[0], g[1], g[2]);
    }
    lsi->ndisc--;
    lsi->cur = r->slot;
    lsi->chip = OB_PROXY_LSI_CHIP_RUN;
    return start_scripts(lsi, ccb_gpa((unsigned)r->slot) + CCB_STUB_RES);
}

/* The target has more data than the command's buffer: move it to (or
 * from) the bit bucket, 4 KiB at a time, until it changes phase. */
static int on_overrun(struct ob_proxy_lsi *lsi)
{
    struct ob_proxy_lsi_req *r;
    uint8_t *c;

    if (lsi->cur < 0) {
        return fail(lsi, "data overrun with no command on the bus");
    }
    r = lsi->slot[lsi->cur];
    c = ccb(lsi, (unsigned)lsi->cur);
    if (++r->overruns > (1u << 16)) {
        return fail_cur(lsi, "data overrun of more than 256 MiB");
    }
    put32(c + CCB_T_DATA, BUCKET_LEN);
    put32(c + CCB_T_DATA + 4, OB_PROXY_LSI_GLOBAL_GPA + G_BUCKET);
    lsi->chip = OB_PROXY_LSI_CHIP_RUN;
    return start_scripts(lsi, ccb_gpa((unsigned)lsi->cur) + CCB_STUB_RES);
}

static int on_vector(struct ob_proxy_lsi *lsi, uint32_t vec)
{
    int cur = lsi->cur;

    switch (vec) {
    case V_DONE:
        lsi->chip = OB_PROXY_LSI_CHIP_IDLE;
        lsi->cur = -1;
        if (cur < 0) {
            return fail(lsi, "command complete with no command on the bus");
        }
        finish(lsi, (unsigned)cur, OB_PROXY_LSI_DONE);
        return 0;
    case V_DISC:
        lsi->chip = OB_PROXY_LSI_CHIP_IDLE;
        lsi->cur = -1;
        if (cur < 0) {
            return fail(lsi, "disconnect with no command on the bus");
        }
        lsi->slot[cur]->disconnects++;
        lsi->ndisc++;
        /* the global message bytes are rewritten by the next reselection */
        memset(global_area(lsi) + G_MSGIN, 0, 4);
        return 0;
    case V_RESEL:
    case V_RESEL_RACE:
        return on_reselect(lsi, vec == V_RESEL_RACE);
    case V_SIGP:
        lsi->sigp_sent = false;
        lsi->chip = OB_PROXY_LSI_CHIP_IDLE;
        lsi->cur = -1;
        return 0;
    case V_BADPHASE:
        return fail_cur(lsi, "unexpected bus phase (SCRIPTS vector badphase)");
    case V_OVERRUN:
        return on_overrun(lsi);
    default:
        return fail_cur(lsi, "unknown SCRIPTS interrupt vector %#x", vec);
    }
}

/* SIST0.MA: a block move met another phase. In a data move, DBC bytes are
 * still to go: rewrite the table entry (a saved data pointer) and resume at
 * dispatch; the phase the target is in now decides what comes next. */
static int on_mismatch(struct ob_proxy_lsi *lsi)
{
    uint32_t dsp = 0, dbc = 0;
    uint8_t *c;

    if (lsi->cur < 0) {
        return fail(lsi, "phase mismatch with no command on the bus");
    }
    c = ccb(lsi, (unsigned)lsi->cur);
    if (rd(lsi, R_DSP, 4, &dsp) < 0 || rd(lsi, R_DBC, 4, &dbc) < 0) {
        return -1;
    }
    dbc &= 0xffffffu;
    lsi->stats.mismatches++;
    if (dsp == lsi->prog.data_in + 8 || dsp == lsi->prog.data_out + 8) {
        uint32_t count = get32(c + CCB_T_DATA) & 0xffffffu;
        uint32_t addr = get32(c + CCB_T_DATA + 4);

        if (dbc > count) {
            return fail_cur(lsi, "phase mismatch: DBC %u > %u bytes the move had",
                            dbc, count);
        }
        put32(c + CCB_T_DATA, dbc);
        put32(c + CCB_T_DATA + 4, addr + (count - dbc));
    } else if (++lsi->slot[lsi->cur]->mismatches > 64) {
        return fail_cur(lsi, "phase mismatch loop at DSP %#x", dsp);
    }
    lsi->chip = OB_PROXY_LSI_CHIP_RUN;
    return start_scripts(lsi, ccb_gpa((unsigned)lsi->cur) + CCB_STUB_RES);
}

/* One interrupt: ISTAT, then SIST0/1 and DSTAT as it says (reading them
 * clears them and lowers the line), then act. */
static int service(struct ob_proxy_lsi *lsi)
{
    uint32_t istat = 0, sist = 0, dstat = 0, vec = 0;
    uint8_t sist0, sist1;

    if (rd(lsi, R_ISTAT, 1, &istat) < 0) {
        return -1;
    }
    if (lsi->queued) {
        lsi->stats.interrupts++;
        if (queue_intf(lsi, istat) < 0) {
            return -1;
        }
        if (!(istat & (ISTAT_SIP | ISTAT_DIP))) {
            return 0;
        }
        if (queue_cur(lsi) < 0) {
            return -1;
        }
    } else if (!(istat & (ISTAT_SIP | ISTAT_DIP))) {
        return 0;       /* spurious (an edge we already handled) */
    } else {
        lsi->stats.interrupts++;
    }
    if ((istat & ISTAT_SIP) && rd(lsi, R_SIST0, 2, &sist) < 0) {
        return -1;
    }
    if ((istat & ISTAT_DIP) && rd(lsi, R_DSTAT, 1, &dstat) < 0) {
        return -1;
    }
    sist0 = (uint8_t)sist;
    sist1 = (uint8_t)(sist >> 8);
    if (dstat & DSTAT_SIR) {
        uint8_t *gv = global_area(lsi) + G_VECTOR;

        /* SCRIPTS copied the vector to RAM before the INT; DSPS only if not */
        vec = get32(gv);
        put32(gv, 0);
        if (vec == 0 && rd(lsi, R_DSPS, 4, &vec) < 0) {
            return -1;
        }
        return on_vector(lsi, vec);
    }
    if (sist1 & SIST1_STO) {
        if (lsi->cur >= 0) {
            finish(lsi, (unsigned)lsi->cur, OB_PROXY_LSI_SEL_TIMEOUT);
        }
        lsi->cur = -1;
        lsi->chip = OB_PROXY_LSI_CHIP_IDLE;
        return 0;
    }
    if (sist0 & SIST0_MA) {
        return on_mismatch(lsi);
    }
    return fail_cur(lsi, "unexpected interrupt: ISTAT %02x DSTAT %02x SIST0 %02x SIST1 %02x",
                    istat, dstat, sist0, sist1);
}

/* Waits for the irqfd until DEADLINE and services the chip. 1 when an
 * interrupt was handled, 0 on timeout, -1 on error. */
static int wait_once(struct ob_proxy_lsi *lsi, uint64_t deadline)
{
    uint64_t now = ob_proxy_now_ns();
    int ms, rc;

    if (now >= deadline) {
        return 0;
    }
    ms = (int)((deadline - now + 999999u) / 1000000u);
    if (lsi->queued && queue_signal(lsi) < 0) {
        return -1;
    }
    rc = ob_proxy_irq_wait(lsi->px, ms, NULL);
    now = ob_proxy_now_ns() - now;
    lsi->stats.irq_wait_ns += now;
    if (lsi->chip == OB_PROXY_LSI_CHIP_WAITRESEL) {
        lsi->stats.wait_resel_ns += now;
    }
    if (rc < 0) {
        return wire_fail(lsi, "interrupt wait");
    }
    if (rc == 0) {
        return 0;
    }
    if (service(lsi) < 0) {
        return -1;
    }
    return kick(lsi) < 0 ? -1 : 1;
}

int ob_proxy_lsi_poll(struct ob_proxy_lsi *lsi, int timeout_ms,
                      struct ob_proxy_lsi_req **out, unsigned max)
{
    uint64_t deadline = ob_proxy_now_ns() + (uint64_t)timeout_ms * 1000000u;
    unsigned n = 0;

    while (!lsi->done_head && lsi->nslots > 0) {
        int rc = wait_once(lsi, deadline);

        if (rc < 0) {
            return -1;
        }
        if (rc == 0) {
            break;
        }
    }
    while (n < max && lsi->done_head) {
        out[n++] = list_pop(&lsi->done_head, &lsi->done_tail);
    }
    return (int)n;
}

int ob_proxy_lsi_run(struct ob_proxy_lsi *lsi, struct ob_proxy_lsi_req *req,
                     int timeout_ms)
{
    uint64_t deadline = ob_proxy_now_ns() + (uint64_t)timeout_ms * 1000000u;

    if (ob_proxy_lsi_submit(lsi, req) < 0) {
        return -1;
    }
    while (req->outcome == OB_PROXY_LSI_PENDING) {
        int rc = wait_once(lsi, deadline);

        if (rc < 0) {
            return -1;
        }
        if (rc == 0) {
            char why[OB_PROXY_ERRLEN];

            snprintf(why, sizeof(why), "command %#04x to target %u: no completion within "
                     "%d ms (chip reset)", req->cdb[0], req->target, timeout_ms);
            /* the request must not stay referenced by the driver */
            rc = ob_proxy_lsi_reset(lsi);
            list_remove(&lsi->done_head, &lsi->done_tail, req);
            if (rc == 0) {
                snprintf(lsi->err, sizeof(lsi->err), "%s", why);
            }
            return -1;
        }
    }
    list_remove(&lsi->done_head, &lsi->done_tail, req);
    return 0;
}

int ob_proxy_lsi_reset(struct ob_proxy_lsi *lsi)
{
    unsigned i;

    /* stop SCRIPTS, then reset the chip, which resets the SCSI bus */
    if (wr(lsi, R_ISTAT, ISTAT_ABRT, 1) < 0 || wr(lsi, R_ISTAT, 0, 1) < 0 ||
        wr(lsi, R_ISTAT, ISTAT_SRST, 1) < 0 || wr(lsi, R_ISTAT, 0, 1) < 0) {
        return -1;
    }
    for (i = 0; i < OB_PROXY_LSI_SLOTS; i++) {
        if (lsi->slot[i]) {
            finish(lsi, i, OB_PROXY_LSI_FAILED);
        }
    }
    lsi->pend_head = lsi->pend_tail = NULL;
    lsi->ndisc = 0;
    lsi->cur = -1;
    lsi->chip = OB_PROXY_LSI_CHIP_IDLE;
    lsi->sigp_sent = false;
    if (chip_setup(lsi) < 0) {
        return -1;
    }
    /* edges of the interrupts the reset dropped */
    if (ob_proxy_irq_wait(lsi->px, 0, NULL) < 0) {
        return wire_fail(lsi, "irqfd");
    }
    return lsi->queued ? queue_start(lsi) : 0;
}

int ob_proxy_lsi_step(struct ob_proxy_lsi *lsi, int timeout_ms)
{
    return wait_once(lsi, ob_proxy_now_ns() + (uint64_t)timeout_ms * 1000000u);
}

/* ------------------------------------------------------------------ */
/* one command with sense                                              */

static void parse_sense(struct ob_proxy_lsi_result *res)
{
    const uint8_t *s = res->sense;
    uint8_t code = s[0] & 0x7f;

    if ((code == 0x70 || code == 0x71) && res->sense_len >= 14) {
        res->sense_key = s[2] & 0x0f;
        res->asc = s[12];
        res->ascq = s[13];
    } else if ((code == 0x72 || code == 0x73) && res->sense_len >= 4) {
        res->sense_key = s[1] & 0x0f;
        res->asc = s[2];
        res->ascq = s[3];
    }
}

int ob_proxy_lsi_exec(struct ob_proxy_lsi *lsi, unsigned target, unsigned lun,
                      const uint8_t *cdb, unsigned cdb_len, enum ob_proxy_lsi_dir dir,
                      void *buf, uint32_t len, struct ob_proxy_lsi_result *res)
{
    struct ob_proxy_lsi_req r;
    uint8_t *bounce = ob_proxy_gpa(lsi->px, OB_PROXY_LSI_DATA_GPA, OB_PROXY_LSI_BOUNCE);
    int timeout = lsi->px->timeout_ms;

    memset(res, 0, sizeof(*res));
    if (!bounce || len > OB_PROXY_LSI_BOUNCE || cdb_len > sizeof(r.cdb)) {
        return fail(lsi, "exec: %u data bytes or %u CDB bytes too many", len, cdb_len);
    }
    memset(&r, 0, sizeof(r));
    r.target = (uint8_t)target;
    r.lun = (uint8_t)lun;
    r.cdb_len = (uint8_t)cdb_len;
    memcpy(r.cdb, cdb, cdb_len);
    r.dir = len ? dir : OB_PROXY_LSI_NONE;
    r.data_gpa = OB_PROXY_LSI_DATA_GPA;
    r.data_len = len;
    if (dir == OB_PROXY_LSI_OUT && len) {
        memcpy(bounce, buf, len);
    }
    if (ob_proxy_lsi_run(lsi, &r, timeout) < 0) {
        return -1;
    }
    res->outcome = r.outcome;
    res->status = r.status;
    res->residual = r.residual;
    res->overrun = r.overruns > 0;
    if (r.outcome == OB_PROXY_LSI_DONE && dir == OB_PROXY_LSI_IN && len) {
        memcpy(buf, bounce, len - r.residual);
    }
    if (r.outcome == OB_PROXY_LSI_DONE && r.status == OB_PROXY_LSI_STATUS_CHECK) {
        struct ob_proxy_lsi_req s;

        memset(&s, 0, sizeof(s));
        s.target = (uint8_t)target;
        s.lun = (uint8_t)lun;
        s.cdb_len = 6;
        s.cdb[0] = 0x03;                          /* REQUEST SENSE */
        s.cdb[4] = OB_PROXY_LSI_SENSE_LEN;
        s.dir = OB_PROXY_LSI_IN;
        s.data_gpa = OB_PROXY_LSI_DATA_GPA;
        s.data_len = OB_PROXY_LSI_SENSE_LEN;
        memset(bounce, 0, OB_PROXY_LSI_SENSE_LEN);
        if (ob_proxy_lsi_run(lsi, &s, timeout) < 0) {
            return -1;
        }
        if (s.outcome != OB_PROXY_LSI_DONE || s.status != OB_PROXY_LSI_STATUS_GOOD) {
            return fail(lsi, "REQUEST SENSE after CHECK CONDITION: outcome %d status %#x",
                        s.outcome, s.status);
        }
        res->sense_len = (uint8_t)(OB_PROXY_LSI_SENSE_LEN - s.residual);
        memcpy(res->sense, bounce, res->sense_len);
        parse_sense(res);
    }
    return 0;
}
