/*
 * lsi_scsi.c - the SCSI side of the LSI53C895A: bus phases as the target
 * drives them (selection, MESSAGE OUT/IN, COMMAND, DATA, STATUS), the
 * requests the HBA tracks, disconnect/reselect with tagged queuing, and
 * the callbacks the SCSI devices call (transfer_data, complete, cancelled).
 *
 * The phase model is QEMU 7.2's (Linux sym53c8xx and SeaBIOS are written
 * against it), with these corrections:
 *  - a disconnected request that completes without data (an asynchronous
 *    command without data, or a read that fails before its first chunk) is
 *    reselected straight into STATUS instead of being lost; commands
 *    without data that do not complete at once disconnect as a real
 *    target would, instead of showing a fake DATA IN phase;
 *  - the reselection IDENTIFY carries the request's LUN, and tags are
 *    matched per (target, LUN);
 *  - SDTR/WDTR are answered for a narrow asynchronous target (offset 0,
 *    width 8), PPR and malformed extended messages are rejected, MESSAGE
 *    REJECT from the initiator is accepted;
 *  - ABORT and CLEAR QUEUE act on the LUN, BUS DEVICE RESET on the target
 *    and leaves a unit attention;
 *  - ORDERED tasks wait for the older tasks of their LUN and hold back the
 *    newer ones; HEAD OF QUEUE tasks start at once;
 *  - no request pointer is trusted across a call that can free requests
 *    (device callbacks, DMA into our own registers).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lsi.h"

#define MSG_COMMAND_COMPLETE 0x00
#define MSG_EXTENDED         0x01
#define MSG_SAVE_DP          0x02
#define MSG_DISCONNECT       0x04
#define MSG_ABORT            0x06
#define MSG_REJECT           0x07
#define MSG_NOP              0x08
#define MSG_BUS_DEVICE_RESET 0x0c
#define MSG_ABORT_TAG        0x0d
#define MSG_CLEAR_QUEUE      0x0e
#define MSG_SIMPLE_TAG       0x20
#define MSG_HEAD_TAG         0x21
#define MSG_ORDERED_TAG      0x22
#define MSG_IDENTIFY         0x80

#define EXT_SDTR             0x01
#define EXT_WDTR             0x03
#define EXT_PPR              0x04

/* the unit attention a BUS DEVICE RESET message leaves */
#define SENSE_BDR_OCCURRED   ((struct ob_scsi_sense){ 0x06, 0x29, 0x03 })

static struct lsi_state *lsi_from_req(struct ob_scsi_req *r)
{
    return (struct lsi_state *)(void *)((uint8_t *)r->bus -
                                        offsetof(struct lsi_state, bus));
}

/* ---- phases and messages ------------------------------------------------ */

void lsi_set_phase(struct lsi_state *s, int phase)
{
    s->sbcl = (uint8_t)((s->sbcl & ~LSI_PHASE_MASK) | phase | LSI_SBCL_REQ);
    s->sstat1 = (uint8_t)((s->sstat1 & ~LSI_PHASE_MASK) | phase);
}

void lsi_disconnect(struct lsi_state *s)
{
    s->scntl1 &= (uint8_t)~LSI_SCNTL1_CON;
    s->sstat1 &= (uint8_t)~LSI_PHASE_MASK;
    s->sbcl = 0;
}

static void add_msg(struct lsi_state *s, uint8_t b)
{
    if (s->msg_len >= LSI_MAX_MSGIN_LEN) {
        ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR, "%s: MESSAGE IN queue full, %#04x dropped",
                lsi_name(s), b);
        return;
    }
    s->msg[s->msg_len++] = b;
}

bool lsi_irq_on_rsl(const struct lsi_state *s)
{
    return (s->sien0 & LSI_SIST0_RSL) && (s->scid & LSI_SCID_RRE);
}

/* ---- request bookkeeping ------------------------------------------------ */

static void queue_append(struct lsi_state *s, struct lsi_req *p)
{
    p->next = NULL;
    p->prev = s->queue_tail;
    if (s->queue_tail) {
        s->queue_tail->next = p;
    } else {
        s->queue_head = p;
    }
    s->queue_tail = p;
    p->queued = true;
}

static void queue_remove(struct lsi_state *s, struct lsi_req *p)
{
    if (!p->queued) {
        return;
    }
    if (p->prev) {
        p->prev->next = p->next;
    } else {
        s->queue_head = p->next;
    }
    if (p->next) {
        p->next->prev = p->prev;
    } else {
        s->queue_tail = p->prev;
    }
    p->prev = p->next = NULL;
    p->queued = false;
}

static bool any_blocked(const struct lsi_state *s)
{
    const struct lsi_req *q;

    for (q = s->queue_head; q; q = q->next) {
        if (!q->started) {
            return true;
        }
    }
    return false;
}

/*
 * The request with SERIAL if it still exists. Device callbacks and DMA
 * into our own registers can free requests; code that called them looks
 * its request up again instead of trusting the pointer it had.
 */
static struct lsi_req *lsi_req_lookup(const struct lsi_state *s, uint64_t serial)
{
    struct lsi_req *p;

    if (s->current && s->current->serial == serial) {
        return s->current;
    }
    for (p = s->queue_head; p; p = p->next) {
        if (p->serial == serial) {
            return p;
        }
    }
    return NULL;
}

/* Forgets P and drops our reference to its SCSI request. */
static void lsi_req_free(struct lsi_state *s, struct lsi_req *p)
{
    if (p == s->current) {
        s->current = NULL;
    }
    queue_remove(s, p);
    if (p->req) {
        p->req->hba_private = NULL;
        ob_scsi_req_unref(p->req);
    }
    s->nreqs--;
    free(p);
    if (any_blocked(s)) {
        s->unblock_pending = true;
        lsi_schedule(s);
    }
}

/* Cancels P at its device (if it got there) and forgets it. */
static void lsi_req_cancel(struct lsi_state *s, struct lsi_req *p)
{
    struct ob_scsi_req *r = p->req;

    if (!r || !p->started || p->done) {
        lsi_req_free(s, p);
        return;
    }
    ob_scsi_req_ref(r);
    ob_scsi_req_cancel(r);
    /* The cancelled callback normally frees P; if it did not run, do it. */
    if (r->hba_private == p) {
        lsi_req_free(s, p);
    }
    ob_scsi_req_unref(r);
}

void lsi_cancel_all(struct lsi_state *s)
{
    while (s->current) {
        lsi_req_cancel(s, s->current);
    }
    while (s->queue_head) {
        lsi_req_cancel(s, s->queue_head);
    }
}

static bool same_itl(const struct lsi_req *a, const struct lsi_req *b)
{
    return ((a->tag >> 8) & 0xf) == ((b->tag >> 8) & 0xf) && a->lun == b->lun;
}

/*
 * Whether P must wait before it is handed to its device: an ORDERED task
 * waits for every older task of its LUN, any task waits for an older
 * ORDERED one, and nothing overtakes a task that is itself still waiting.
 * HEAD OF QUEUE tasks never wait.
 */
static bool lsi_req_must_wait(const struct lsi_state *s, const struct lsi_req *p)
{
    const struct lsi_req *q;

    if (p->attr == LSI_TASK_HEAD) {
        return false;
    }
    if (s->current && s->current != p && same_itl(s->current, p) &&
        (p->attr == LSI_TASK_ORDERED || s->current->attr == LSI_TASK_ORDERED)) {
        return true;
    }
    for (q = s->queue_head; q && q != p; q = q->next) {
        if (!same_itl(q, p) || q->done) {
            continue;
        }
        if (!q->started || p->attr == LSI_TASK_ORDERED || q->attr == LSI_TASK_ORDERED) {
            return true;
        }
    }
    return false;
}

/* The first disconnected request that wants to be reselected. */
static struct lsi_req *first_pending(const struct lsi_state *s)
{
    struct lsi_req *p;

    for (p = s->queue_head; p; p = p->next) {
        if (p->pending || p->done) {
            return p;
        }
    }
    return NULL;
}

/*
 * The target reselects the initiator for P: IDENTIFY (with P's LUN), the
 * queue tag if P is tagged, then its data phase - or, if P completed while
 * disconnected, STATUS.
 */
static void lsi_reselect(struct lsi_state *s, struct lsi_req *p)
{
    unsigned id = (p->tag >> 8) & 0xf;

    queue_remove(s, p);
    s->ssid = (uint8_t)(0x80 | id);
    if (!(s->dcntl & LSI_DCNTL_COM)) {
        s->sfbr = (uint8_t)(1u << (id & 7));   /* 53C700 compatibility */
    }
    s->scntl1 |= LSI_SCNTL1_CON;
    lsi_set_phase(s, LSI_PHASE_MI);
    s->msg_len = 0;
    add_msg(s, (uint8_t)(MSG_IDENTIFY | (p->lun & 7)));
    if (p->tag & LSI_TAG_VALID) {
        add_msg(s, MSG_SIMPLE_TAG);
        add_msg(s, (uint8_t)p->tag);
    }
    ob_logc(lsi_log(s), OB_LOGC_DEVICE, "%s: reselect by target %u lun %u tag %#x%s",
            lsi_name(s), id, p->lun, p->tag, p->done ? " into STATUS" : "");
    if (p->done) {
        s->status = p->status;
        s->command_complete = 2;
        s->msg_action = LSI_MSG_ACTION_STATUS;
        lsi_req_free(s, p);
    } else {
        s->current = p;
        s->msg_action = p->out ? LSI_MSG_ACTION_DOUT : LSI_MSG_ACTION_DIN;
        s->command_complete = 1;
        p->dma_len = p->pending;
        p->dma_buf = NULL;
        p->pending = 0;
    }
    if (lsi_irq_on_rsl(s)) {
        lsi_script_scsi_interrupt(s, LSI_SIST0_RSL, 0);
    }
}

/* Reselects for the first pending request, if the bus is free. */
void lsi_reselect_pending(struct lsi_state *s)
{
    struct lsi_req *p;

    if (s->current || (s->scntl1 & LSI_SCNTL1_CON)) {
        return;
    }
    p = first_pending(s);
    if (p) {
        lsi_reselect(s, p);
    }
}

/*
 * A disconnected request P has data ready or has completed: reselect now
 * if SCRIPTS wait for it (WAIT RESELECT) or reselections interrupt and
 * nothing else is pending, else leave it for the next WAIT RESELECT or
 * WAIT DISCONNECT. Returns true if P is now the connected request.
 */
static bool lsi_try_reselect(struct lsi_state *s, struct lsi_req *p)
{
    bool waiting = s->waiting == LSI_WAIT_RESELECT;

    if (s->current || (s->scntl1 & LSI_SCNTL1_CON)) {
        return false;
    }
    if (!waiting && !(lsi_irq_on_rsl(s) &&
                      !(s->istat0 & (LSI_ISTAT0_SIP | LSI_ISTAT0_DIP)))) {
        return false;
    }
    lsi_reselect(s, p);
    if (waiting) {
        lsi_resume(s);   /* WAIT RESELECT continues with the next instruction */
    }
    return s->current != NULL;
}

/* The connected request leaves the bus (the target disconnects). */
static void lsi_queue_current(struct lsi_state *s)
{
    struct lsi_req *p = s->current;

    s->current = NULL;
    p->pending = 0;
    p->dma_len = 0;
    queue_append(s, p);
}

/* The target disconnects after COMMAND: MESSAGE IN, then bus free. */
static void lsi_disconnect_after_command(struct lsi_state *s, bool save_dp)
{
    if (save_dp) {
        add_msg(s, MSG_SAVE_DP);
    }
    add_msg(s, MSG_DISCONNECT);
    lsi_set_phase(s, LSI_PHASE_MI);
    s->msg_action = LSI_MSG_ACTION_DISCONNECT;
    lsi_queue_current(s);
}

/* ---- callbacks from the SCSI devices ------------------------------------ */

static void lsi_transfer_data(struct ob_scsi_req *r, uint32_t len)
{
    struct lsi_req *p = r->hba_private;
    struct lsi_state *s;

    if (!p) {
        return;
    }
    s = lsi_from_req(r);
    if (p != s->current) {
        p->pending = len;
        if (!lsi_try_reselect(s, p)) {
            return;     /* stays disconnected until a WAIT RESELECT */
        }
    }
    p->dma_len = len;
    p->dma_buf = NULL;
    s->command_complete = 1;
    if (s->waiting == LSI_DMA_IN_PROGRESS) {
        if (s->dbc == 0) {
            lsi_resume(s);
        } else {
            lsi_schedule(s);    /* the engine moves the data */
        }
    }
    /* LSI_DMA_SCRIPTS: lsi_do_dma() sees the new chunk when this returns */
}

/*
 * A data move wanted more than the device had: the target goes to STATUS.
 * With ENPMJ SCRIPTS jump to the phase-mismatch handler, else SIST0.MA
 * halts them. Returns true if SCRIPTS halted.
 */
static bool lsi_bad_phase(struct lsi_state *s, bool out, int new_phase)
{
    bool stop = false;

    lsi_move_regs_update(s);
    if (s->ccntl0 & LSI_CCNTL0_ENPMJ) {
        if (s->ccntl0 & LSI_CCNTL0_PMJCTL) {
            s->dsp = out ? s->pmjad1 : s->pmjad2;
        } else {
            s->dsp = (s->scntl2 & LSI_SCNTL2_WSR) ? s->pmjad2 : s->pmjad1;
        }
    } else {
        lsi_script_scsi_interrupt(s, LSI_SIST0_MA, 0);
        lsi_stop(s);
        stop = true;
    }
    lsi_set_phase(s, new_phase);
    return stop;
}

static void lsi_command_complete(struct ob_scsi_req *r, uint32_t residual)
{
    struct lsi_req *p = r->hba_private;
    struct lsi_state *s;
    bool out, stop = false;

    (void)residual;
    if (!p) {
        return;
    }
    s = lsi_from_req(r);
    ob_logc(lsi_log(s), OB_LOGC_DEVICE, "%s: tag %#x complete, status %#04x%s",
            lsi_name(s), p->tag, r->status, p == s->current ? "" : " (disconnected)");
    if (p != s->current) {
        /* QEMU loses this request; we reselect it into STATUS */
        p->done = true;
        p->status = r->status;
        p->pending = 0;
        p->dma_len = 0;
        lsi_try_reselect(s, p);
        return;
    }
    out = (s->sstat1 & LSI_PHASE_MASK) == LSI_PHASE_DO;
    s->status = r->status;
    s->command_complete = 2;
    if ((s->waiting == LSI_DMA_SCRIPTS || s->waiting == LSI_DMA_IN_PROGRESS) &&
        s->dbc != 0) {
        stop = lsi_bad_phase(s, out, LSI_PHASE_ST);
    } else {
        lsi_set_phase(s, LSI_PHASE_ST);
    }
    lsi_req_free(s, p);
    if (!stop) {
        lsi_resume(s);
    }
}

static void lsi_request_cancelled(struct ob_scsi_req *r)
{
    struct lsi_req *p = r->hba_private;

    if (p) {
        lsi_req_free(lsi_from_req(r), p);
    }
}

const struct ob_scsi_bus_ops lsi_scsi_bus_ops = {
    .transfer_data = lsi_transfer_data,
    .complete = lsi_command_complete,
    .cancelled = lsi_request_cancelled,
};

/* ---- starting requests -------------------------------------------------- */

/* Hands the connected request P to its device (COMMAND phase). */
static void lsi_req_start_connected(struct lsi_state *s, struct lsi_req *p)
{
    uint64_t serial = p->serial;
    int32_t n;

    p->started = true;
    n = ob_scsi_req_enqueue(p->req);
    p = lsi_req_lookup(s, serial);
    if (!p || p != s->current || s->command_complete == 2) {
        return;                 /* completed (or cancelled) at once */
    }
    p->out = n < 0;
    if (n != 0) {
        lsi_set_phase(s, n > 0 ? LSI_PHASE_DI : LSI_PHASE_DO);
        ob_scsi_req_continue(p->req);
        p = lsi_req_lookup(s, serial);
    }
    if (p && p == s->current && s->command_complete == 0) {
        /*
         * Neither data nor status yet: disconnect (even without disconnect
         * privilege - SeaBIOS copes) and reselect once the device is ready.
         */
        lsi_disconnect_after_command(s, n != 0);
    }
}

/* Hands a waiting (disconnected) request to its device. */
static void lsi_req_start_disconnected(struct lsi_state *s, struct lsi_req *p)
{
    uint64_t serial = p->serial;
    int32_t n;

    p->started = true;
    n = ob_scsi_req_enqueue(p->req);
    p = lsi_req_lookup(s, serial);
    if (!p || p->done || p == s->current) {
        return;
    }
    p->out = n < 0;
    if (n != 0) {
        ob_scsi_req_continue(p->req);
    }
}

/* Starts the waiting requests whose turn has come (from the engine). */
void lsi_start_blocked(struct lsi_state *s)
{
    struct lsi_req *p;

    for (;;) {
        for (p = s->queue_head; p; p = p->next) {
            if (!p->started && !lsi_req_must_wait(s, p)) {
                break;
            }
        }
        if (!p) {
            return;
        }
        lsi_req_start_disconnected(s, p);
    }
}

/* ---- selection and waits ------------------------------------------------ */

static void lsi_bad_selection(struct lsi_state *s, unsigned id)
{
    ob_logc(lsi_log(s), OB_LOGC_DEVICE, "%s: selection of target %u timed out",
            lsi_name(s), id);
    lsi_script_scsi_interrupt(s, 0, LSI_SIST1_STO);
    lsi_disconnect(s);
}

void lsi_do_select(struct lsi_state *s, uint32_t id, bool atn)
{
    s->sdid = (uint8_t)id;
    if (s->scntl1 & LSI_SCNTL1_CON) {
        /* a reselection won arbitration: take the alternate address */
        s->dsp = s->dnad;
        return;
    }
    s->sstat0 |= LSI_SSTAT0_WOA;
    s->scntl1 &= (uint8_t)~LSI_SCNTL1_IARB;
    if (!ob_scsi_bus_target_present(&s->bus, id)) {
        lsi_bad_selection(s, id);
        return;
    }
    ob_logc(lsi_log(s), OB_LOGC_DEVICE, "%s: selected target %u%s", lsi_name(s), id,
            atn ? " with ATN" : "");
    s->select_tag = id << 8;
    s->select_attr = LSI_TASK_UNTAGGED;
    s->current_lun = 0;
    s->msg_len = 0;
    s->scntl1 |= LSI_SCNTL1_CON;
    if (atn) {
        s->socl |= LSI_SOCL_ATN;
        s->sbcl |= LSI_SBCL_ATN;
    }
    s->sbcl |= LSI_SBCL_BSY;
    /* MESSAGE OUT with or without ATN: SeaBIOS selects without ATN and
     * still sends IDENTIFY */
    lsi_set_phase(s, LSI_PHASE_MO);
    s->waiting = LSI_NOWAIT;
}

void lsi_do_wait_disconnect(struct lsi_state *s)
{
    s->scntl1 &= (uint8_t)~LSI_SCNTL1_CON;
    /* The bus is free: a target with something to say reselects now. */
    lsi_reselect_pending(s);
}

void lsi_do_wait_reselect(struct lsi_state *s)
{
    if (s->istat0 & LSI_ISTAT0_SIGP) {
        s->dsp = s->dnad;
        return;
    }
    if (lsi_irq_on_rsl(s) || s->current) {
        return;
    }
    lsi_reselect_pending(s);
    if (!(s->scntl1 & LSI_SCNTL1_CON)) {
        s->waiting = LSI_WAIT_RESELECT;
    }
}

/* ---- COMMAND, STATUS, MESSAGE IN ---------------------------------------- */

static struct lsi_req *lsi_req_create(struct lsi_state *s, unsigned id,
                                      const uint8_t *cdb, unsigned len,
                                      uint8_t *status)
{
    struct lsi_req *p;

    if (s->nreqs >= LSI_MAX_REQS) {
        *status = OB_SCSI_TASK_SET_FULL;
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        *status = OB_SCSI_BUSY;
        return NULL;
    }
    p->serial = ++s->req_serial;
    p->tag = s->select_tag;
    p->lun = s->current_lun;
    p->attr = s->select_attr;
    p->req = ob_scsi_req_new(&s->bus, id, s->current_lun, s->select_tag, cdb, len, p);
    if (!p->req) {
        free(p);
        *status = OB_SCSI_BUSY;
        return NULL;
    }
    s->nreqs++;
    return p;
}

void lsi_do_command(struct lsi_state *s)
{
    uint8_t cdb[OB_SCSI_MAX_CDB] = { 0 };
    unsigned id = (s->select_tag >> 8) & 0xf;
    uint8_t status = OB_SCSI_BUSY;
    struct lsi_req *p;

    if (s->dbc > OB_SCSI_MAX_CDB) {
        s->dbc = OB_SCSI_MAX_CDB;
    }
    if (lsi_dma_read(s, s->dnad, cdb, s->dbc, false) < 0) {
        lsi_bus_fault(s, "CDB read", s->dnad);
        return;
    }
    s->sfbr = cdb[0];
    s->command_complete = 0;
    if (!ob_scsi_bus_target_present(&s->bus, id)) {
        lsi_bad_selection(s, id);
        return;
    }
    if (s->current) {
        ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR,
                "%s: new command while tag %#x is connected: the old one is aborted",
                lsi_name(s), s->current->tag);
        lsi_req_cancel(s, s->current);
    }
    p = lsi_req_create(s, id, cdb, s->dbc, &status);
    if (!p) {
        ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR, "%s: command %#04x refused with status %#04x",
                lsi_name(s), cdb[0], status);
        s->status = status;
        s->command_complete = 2;
        lsi_set_phase(s, LSI_PHASE_ST);
        return;
    }
    ob_logc(lsi_log(s), OB_LOGC_DEVICE, "%s: command %#04x target %u lun %u tag %#x",
            lsi_name(s), cdb[0], id, p->lun, p->tag);
    s->current = p;
    if (lsi_req_must_wait(s, p)) {
        /* its turn comes when the older tasks are done */
        lsi_disconnect_after_command(s, false);
        return;
    }
    lsi_req_start_connected(s, p);
}

void lsi_do_status(struct lsi_state *s)
{
    uint8_t status = (uint8_t)s->status;

    if (s->dbc != 1) {
        ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR, "%s: STATUS move of %u bytes",
                lsi_name(s), s->dbc);
    }
    s->dbc = 1;
    s->sfbr = status;
    if (lsi_dma_write(s, s->dnad, &status, 1, false) < 0) {
        lsi_bus_fault(s, "status write", s->dnad);
        return;
    }
    lsi_set_phase(s, LSI_PHASE_MI);
    s->msg_action = LSI_MSG_ACTION_DISCONNECT;
    add_msg(s, MSG_COMMAND_COMPLETE);
}

void lsi_do_msgin(struct lsi_state *s)
{
    uint32_t len = (uint32_t)s->msg_len;

    if (len > LSI_MAX_MSGIN_LEN) {
        len = LSI_MAX_MSGIN_LEN;
    }
    if (len > s->dbc) {
        len = s->dbc;
    }
    s->sfbr = s->msg[0];
    if (len > 0) {
        if (lsi_dma_write(s, s->dnad, s->msg, len, false) < 0) {
            lsi_bus_fault(s, "MESSAGE IN write", s->dnad);
            return;
        }
        /* Linux reads the last byte (the tag) from SIDL */
        s->sidl = s->msg[len - 1];
        s->msg_len -= (int32_t)len;
        memmove(s->msg, s->msg + len, (size_t)s->msg_len);
    }
    if (s->msg_len > 0) {
        return;
    }
    switch (s->msg_action) {
    case LSI_MSG_ACTION_COMMAND:
        lsi_set_phase(s, LSI_PHASE_CMD);
        break;
    case LSI_MSG_ACTION_DOUT:
        lsi_set_phase(s, LSI_PHASE_DO);
        break;
    case LSI_MSG_ACTION_DIN:
        lsi_set_phase(s, LSI_PHASE_DI);
        break;
    case LSI_MSG_ACTION_STATUS:
        lsi_set_phase(s, LSI_PHASE_ST);
        break;
    default:
        lsi_disconnect(s);
        break;
    }
}

/* ---- MESSAGE OUT -------------------------------------------------------- */

enum msgout_next { MSGOUT_GO_ON, MSGOUT_STOP };

/* Next message byte from the initiator; -1 when the move is exhausted or
 * the byte cannot be read (then a bus fault is raised). */
static int get_msgbyte(struct lsi_state *s, uint8_t *b)
{
    if (s->dbc == 0) {
        return -1;
    }
    if (lsi_dma_read(s, s->dnad, b, 1, false) < 0) {
        lsi_bus_fault(s, "MESSAGE OUT read", s->dnad);
        return -1;
    }
    s->dnad++;
    s->dbc--;
    return 0;
}

/* What the target does after a message that does not end the nexus. */
static int32_t resume_action(const struct lsi_state *s)
{
    if (!s->current) {
        return LSI_MSG_ACTION_COMMAND;
    }
    return s->current->out ? LSI_MSG_ACTION_DOUT : LSI_MSG_ACTION_DIN;
}

static int resume_phase(const struct lsi_state *s)
{
    if (!s->current) {
        return LSI_PHASE_CMD;
    }
    return s->current->out ? LSI_PHASE_DO : LSI_PHASE_DI;
}

/* The target answers with MESSAGE IN: BYTES, then goes on where it was. */
static void msgin_reply(struct lsi_state *s, const uint8_t *bytes, unsigned n)
{
    unsigned i;

    lsi_set_phase(s, LSI_PHASE_MI);
    for (i = 0; i < n; i++) {
        add_msg(s, bytes[i]);
    }
    s->msg_action = resume_action(s);
}

static enum msgout_next msgout_reject(struct lsi_state *s, uint8_t msg)
{
    static const uint8_t reject[1] = { MSG_REJECT };

    ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: message %#04x rejected", lsi_name(s), msg);
    msgin_reply(s, reject, 1);
    return MSGOUT_STOP;
}

/* SDTR/WDTR get the answer of a narrow asynchronous target. */
static enum msgout_next msgout_extended(struct lsi_state *s)
{
    uint8_t len, code, args[5] = { 0 }, skip;
    unsigned i, nargs;

    if (get_msgbyte(s, &len) < 0 || get_msgbyte(s, &code) < 0 || len == 0) {
        ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR, "%s: truncated extended message",
                lsi_name(s));
        return msgout_reject(s, MSG_EXTENDED);
    }
    nargs = len - 1u;
    for (i = 0; i < nargs; i++) {
        if (get_msgbyte(s, i < sizeof(args) ? &args[i] : &skip) < 0) {
            ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR,
                    "%s: extended message %#04x truncated (%u of %u bytes)",
                    lsi_name(s), code, i, nargs);
            return msgout_reject(s, MSG_EXTENDED);
        }
    }
    if (code == EXT_SDTR && nargs == 2) {
        /* same period, offset 0: asynchronous */
        const uint8_t reply[5] = { MSG_EXTENDED, 3, EXT_SDTR, args[0], 0 };

        msgin_reply(s, reply, sizeof(reply));
        return MSGOUT_STOP;
    }
    if (code == EXT_WDTR && nargs == 1) {
        /* 8-bit transfers */
        static const uint8_t reply[4] = { MSG_EXTENDED, 2, EXT_WDTR, 0 };

        msgin_reply(s, reply, sizeof(reply));
        return MSGOUT_STOP;
    }
    /* PPR (parallel protocol) and anything else: not for this target */
    ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: extended message %#04x (%u bytes) rejected",
            lsi_name(s), code, len);
    return msgout_reject(s, MSG_EXTENDED);
}

/* The request ABORT TAG names: the connected one, or the selected tag. */
static struct lsi_req *find_tagged(struct lsi_state *s)
{
    struct lsi_req *p;

    if (s->current) {
        return s->current;
    }
    for (p = s->queue_head; p; p = p->next) {
        if (p->tag == s->select_tag && p->lun == s->current_lun) {
            return p;
        }
    }
    return NULL;
}

/* Cancels every request of target ID (LUN < 0: all LUNs). */
static void cancel_nexus(struct lsi_state *s, unsigned id, int lun)
{
    struct lsi_req *p;
    bool again = true;

    while (again) {
        again = false;
        if (s->current) {
            lsi_req_cancel(s, s->current);
        }
        for (p = s->queue_head; p; p = p->next) {
            if (((p->tag >> 8) & 0xf) == id && (lun < 0 || p->lun == (uint32_t)lun)) {
                lsi_req_cancel(s, p);
                again = true;   /* the queue may have changed: rescan */
                break;
            }
        }
    }
}

/* BUS DEVICE RESET: every LUN of the target is reset and reports it. */
static void reset_target(struct lsi_state *s, unsigned id)
{
    struct ob_scsi_dev *d;

    for (d = s->bus.devs; d; d = d->next_on_bus) {
        if (d->id != id) {
            continue;
        }
        if (d->ops && d->ops->reset) {
            d->ops->reset(d);
        }
        d->unit_attention = SENSE_BDR_OCCURRED;
        d->has_unit_attention = true;
    }
}

static enum msgout_next msgout_abort(struct lsi_state *s, uint8_t msg)
{
    unsigned id;
    int lun;
    struct lsi_req *p;

    if (s->current) {
        id = (s->current->tag >> 8) & 0xf;
        lun = (int)s->current->lun;
    } else {
        id = (s->select_tag >> 8) & 0xf;
        lun = (int)s->current_lun;
    }
    ob_logc(lsi_log(s), OB_LOGC_DEVICE, "%s: message %#04x for target %u lun %d",
            lsi_name(s), msg, id, lun);
    switch (msg) {
    case MSG_ABORT_TAG:
        p = find_tagged(s);
        if (p) {
            lsi_req_cancel(s, p);
        }
        break;
    case MSG_BUS_DEVICE_RESET:
        cancel_nexus(s, id, -1);
        reset_target(s, id);
        break;
    default: /* ABORT, CLEAR QUEUE */
        cancel_nexus(s, id, lun);
        break;
    }
    lsi_disconnect(s);
    return MSGOUT_STOP;
}

static enum msgout_next msgout_one(struct lsi_state *s, uint8_t msg)
{
    uint8_t tag;

    if (msg & MSG_IDENTIFY) {
        s->current_lun = msg & 7;
        lsi_set_phase(s, LSI_PHASE_CMD);
        return MSGOUT_GO_ON;
    }
    switch (msg) {
    case MSG_EXTENDED:
        return msgout_extended(s);
    case MSG_SIMPLE_TAG:
    case MSG_HEAD_TAG:
    case MSG_ORDERED_TAG:
        if (get_msgbyte(s, &tag) < 0) {
            return msgout_reject(s, msg);
        }
        s->select_tag = (s->select_tag & ~(LSI_TAG_VALID | 0xffu)) | tag | LSI_TAG_VALID;
        s->select_attr = msg == MSG_SIMPLE_TAG ? LSI_TASK_SIMPLE :
                         msg == MSG_HEAD_TAG ? LSI_TASK_HEAD : LSI_TASK_ORDERED;
        return MSGOUT_GO_ON;
    case MSG_NOP:
        lsi_set_phase(s, resume_phase(s));
        return MSGOUT_GO_ON;
    case MSG_REJECT:
        /* we never send anything an initiator could reject: carry on */
        lsi_set_phase(s, resume_phase(s));
        return MSGOUT_GO_ON;
    case MSG_DISCONNECT:
        lsi_disconnect(s);
        return MSGOUT_STOP;
    case MSG_ABORT_TAG:
    case MSG_ABORT:
    case MSG_CLEAR_QUEUE:
    case MSG_BUS_DEVICE_RESET:
        return msgout_abort(s, msg);
    default:
        return msgout_reject(s, msg);
    }
}

void lsi_do_msgout(struct lsi_state *s)
{
    uint8_t msg;

    while (s->dbc > 0) {
        if (get_msgbyte(s, &msg) < 0) {
            return;
        }
        s->sfbr = msg;
        if (msgout_one(s, msg) == MSGOUT_STOP) {
            return;
        }
    }
}

/* ---- DATA IN / DATA OUT ------------------------------------------------- */

/*
 * Moves data between guest memory and the connected request's buffer,
 * chunk after chunk, while the block move has bytes left. Called with
 * waiting = LSI_DMA_SCRIPTS; leaves it so if the device has nothing ready.
 */
void lsi_do_dma(struct lsi_state *s, bool out)
{
    while (s->waiting == LSI_DMA_SCRIPTS) {
        struct lsi_req *p = s->current;
        uint64_t serial;
        uint64_t addr;
        uint32_t count;
        int rc;

        if (!p || !p->dma_len) {
            return;     /* no nexus or no data yet: the move stalls */
        }
        if (!p->dma_buf) {
            p->dma_buf = ob_scsi_req_buf(p->req);
            if (!p->dma_buf) {
                lsi_bus_fault(s, "data (no device buffer)", s->dnad);
                return;
            }
        }
        serial = p->serial;
        count = s->dbc < p->dma_len ? s->dbc : p->dma_len;
        addr = lsi_data_addr(s);
        s->csbc += count;
        s->dnad += count;
        s->dbc -= count;
        if (out) {
            rc = lsi_dma_read(s, addr, p->dma_buf, count,
                              (s->dmode & LSI_DMODE_SIOM) != 0);
        } else {
            rc = lsi_dma_write(s, addr, p->dma_buf, count,
                               (s->dmode & LSI_DMODE_DIOM) != 0);
        }
        if (s->waiting != LSI_DMA_SCRIPTS || !s->current ||
            s->current->serial != serial) {
            return;     /* DMA into our own registers changed the nexus */
        }
        if (rc < 0) {
            lsi_bus_fault(s, out ? "DATA OUT read" : "DATA IN write", addr);
            return;
        }
        p->dma_len -= count;
        if (p->dma_len > 0) {
            /* the move is done, the chunk is not */
            p->dma_buf += count;
            lsi_resume(s);
            return;
        }
        p->dma_buf = NULL;
        ob_scsi_req_continue(p->req);
        /* a completion inside resumed or halted us; a new chunk loops */
        if (s->waiting == LSI_DMA_SCRIPTS && s->dbc == 0 && s->current &&
            s->current->dma_len) {
            lsi_resume(s);
        }
    }
}

/* The engine resumes a data move that stalled for the device. */
void lsi_dma_continue(struct lsi_state *s)
{
    bool out = (s->sstat1 & LSI_PHASE_MASK) == LSI_PHASE_DO;

    if (!s->current || !s->current->dma_len) {
        return;
    }
    if (s->dbc == 0) {
        s->waiting = LSI_NOWAIT;
        return;
    }
    s->waiting = LSI_DMA_SCRIPTS;
    lsi_do_dma(s, out);
    if (s->waiting == LSI_DMA_SCRIPTS) {
        s->waiting = LSI_DMA_IN_PROGRESS;
    }
    lsi_move_regs_update(s);
}
