/*
 * lsi_scripts.c - the SCRIPTS processor: fetch, decode and execute, one
 * budgeted slice at a time on the loop.
 *
 * Nothing runs SCRIPTS but lsi_engine_run(), called from the device's
 * zero-timeout timer: starting SCRIPTS from a register write (DSP, DCNTL,
 * ISTAT.SIGP, a device callback) only marks the processor running and
 * arms the timer. The interpreter therefore never nests, whatever the
 * guest makes SCRIPTS write to the chip's own registers (CVE-2023-0330),
 * and a slice ends after LSI_SLICE_INSN instructions so a looping script
 * cannot hold the loop (CVE-2019-12068); the next slice continues at DSP.
 */
#include <string.h>

#include <event2/event.h>

#include "lsi.h"

/* ---- small helpers ------------------------------------------------------ */

static int32_t sext24(uint32_t v)
{
    return (int32_t)(v << 8) >> 8;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

void lsi_bus_fault(struct lsi_state *s, const char *what, uint64_t addr)
{
    ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR,
            "%s: SCRIPTS %s at %#llx: not reachable (DSP %#x): bus fault",
            lsi_name(s), what, (unsigned long long)addr, s->dsp);
    lsi_script_dma_interrupt(s, LSI_DSTAT_BF);
}

/* Reads a little-endian dword for the processor; raises a bus fault. */
static int fetch32(struct lsi_state *s, uint32_t addr, uint32_t *val, const char *what)
{
    uint8_t b[4];

    if (lsi_dma_read(s, addr, b, 4, false) < 0) {
        lsi_bus_fault(s, what, addr);
        return -1;
    }
    *val = le32(b);
    return 0;
}

static bool dma_40bit(const struct lsi_state *s)
{
    return (s->ccntl1 & LSI_CCNTL1_40BIT) == LSI_CCNTL1_40BIT;
}

static bool dma_ti64bit(const struct lsi_state *s)
{
    return (s->ccntl1 & LSI_CCNTL1_EN64TIBMV) != 0;
}

static bool dma_64bit(const struct lsi_state *s)
{
    return (s->ccntl1 & LSI_CCNTL1_EN64DBMV) != 0;
}

/*
 * Bus address of the next data byte: DNAD plus the high bits the DMA mode
 * supplies (table-indirect 40/64-bit: DNAD64; else DBMS, else SBMS).
 */
uint64_t lsi_data_addr(const struct lsi_state *s)
{
    uint64_t addr = s->dnad;

    if (dma_40bit(s) || dma_ti64bit(s)) {
        addr |= (uint64_t)s->dnad64 << 32;
    } else if (s->dbms) {
        addr |= (uint64_t)s->dbms << 32;
    } else if (s->sbms) {
        addr |= (uint64_t)s->sbms << 32;
    }
    return addr;
}

/* ---- start, stop, interrupts -------------------------------------------- */

void lsi_schedule(struct lsi_state *s)
{
    static const struct timeval now = { 0, 0 };

    if (s->run_ev && !evtimer_pending(s->run_ev, NULL)) {
        evtimer_add(s->run_ev, &now);
    }
}

void lsi_start(struct lsi_state *s)
{
    s->istat1 |= LSI_ISTAT1_SRUN;
    s->waiting = LSI_NOWAIT;
    lsi_schedule(s);
}

/* The processor halts; whatever it waited for no longer matters to it. */
void lsi_stop(struct lsi_state *s)
{
    s->istat1 &= (uint8_t)~LSI_ISTAT1_SRUN;
    s->waiting = LSI_NOWAIT;
}

/*
 * What the processor waited for has happened. Inside a block move it just
 * carries on; otherwise the loop resumes it (if it was not halted since).
 */
void lsi_resume(struct lsi_state *s)
{
    int32_t w = s->waiting;

    s->waiting = LSI_NOWAIT;
    if (w != LSI_DMA_SCRIPTS && w != LSI_NOWAIT && (s->istat1 & LSI_ISTAT1_SRUN)) {
        lsi_schedule(s);
    }
}

void lsi_script_scsi_interrupt(struct lsi_state *s, uint8_t stat0, uint8_t stat1)
{
    uint8_t mask0, mask1;

    s->sist0 |= stat0;
    s->sist1 |= stat1;
    /*
     * Fatal or enabled interrupts halt SCRIPTS. A selection timeout does
     * not, yet: it surfaces at the next instruction that looks at the bus
     * (Linux checks that DSP is just past that instruction).
     */
    mask0 = s->sien0 | (uint8_t)~(LSI_SIST0_CMP | LSI_SIST0_SEL | LSI_SIST0_RSL);
    mask1 = s->sien1 | (uint8_t)~(LSI_SIST1_GEN | LSI_SIST1_HTH);
    mask1 &= (uint8_t)~LSI_SIST1_STO;
    if ((s->sist0 & mask0) || (s->sist1 & mask1)) {
        lsi_stop(s);
    }
    lsi_update_irq(s);
}

void lsi_script_dma_interrupt(struct lsi_state *s, uint8_t stat)
{
    s->dstat |= stat;
    lsi_update_irq(s);
    lsi_stop(s);
}

/* ---- block move --------------------------------------------------------- */

/* High address bits of a table-indirect entry (byte 3 of its count). */
static uint32_t ti_high_bits(struct lsi_state *s, uint32_t count_word)
{
    unsigned sel = (count_word >> 24) & 0x1f;

    if (dma_40bit(s)) {
        return count_word >> 24;
    }
    if (!dma_ti64bit(s)) {
        return 0;
    }
    if (sel <= 0x0f) {
        return s->scratch[2 + sel];   /* SCRATCHC..SCRATCHR */
    }
    switch (sel) {
    case 0x10: return s->mmrs;
    case 0x11: return s->mmws;
    case 0x12: return s->sfs;
    case 0x13: return s->drs;
    case 0x14: return s->sbms;
    case 0x15: return s->dbms;
    default:
        ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR,
                "%s: illegal table-indirect selector %#x", lsi_name(s), sel);
        return 0;
    }
}

/* Registers describing the last block move, refreshed after each step. */
void lsi_move_regs_update(struct lsi_state *s)
{
    s->dfifo = (uint8_t)s->dbc;
    s->ctest5 = (uint8_t)((s->ctest5 & 0xfc) | ((s->dbc >> 8) & 3));
    s->sbc = s->dbc;
    /*
     * The chip reports what is left: RBC = remaining count (in 40-bit mode
     * with the address bits 39:32 on top, ready to be stored as a table
     * entry), UA = next address. Linux's phase-mismatch handler saves them
     * as the segment to resume (QEMU has them inverted).
     */
    s->rbc = (s->dbc & 0xffffff) | (dma_40bit(s) ? (s->dnad64 & 0xff) << 24 : 0);
    s->ua = s->dnad;
}

static void exec_block_move(struct lsi_state *s, uint32_t insn, uint32_t addr)
{
    uint32_t addr_high = 0;
    unsigned phase;

    if (s->sist1 & LSI_SIST1_STO) {
        /* the deferred selection timeout */
        lsi_stop(s);
        return;
    }
    s->dbc = insn & 0xffffff;
    s->ia = s->dsp - 8;
    if (insn & (1u << 29)) {
        /* indirect: the operand is the address of the buffer address */
        if (fetch32(s, addr, &addr, "indirect block-move address") < 0) {
            return;
        }
    } else if (insn & (1u << 28)) {
        uint8_t e[8];
        uint32_t ent = s->dsa + (uint32_t)sext24(addr);

        if (lsi_dma_read(s, ent, e, sizeof(e), false) < 0) {
            lsi_bus_fault(s, "table-indirect entry", ent);
            return;
        }
        s->dbc = le32(e) & 0xffffff;
        addr = le32(e + 4);
        addr_high = ti_high_bits(s, le32(e));
    } else if (dma_64bit(s)) {
        /* direct move with a third dword carrying address bits 63:32 */
        if (fetch32(s, s->dsp, &s->dbms, "64-bit block-move address") < 0) {
            return;
        }
        s->dsp += 4;
        s->ia = s->dsp - 12;
    }
    if ((s->sstat1 & LSI_PHASE_MASK) != ((insn >> 24) & 7)) {
        ob_logc(lsi_log(s), OB_LOGC_DEVICE, "%s: block move in phase %u, bus in phase %u",
                lsi_name(s), (insn >> 24) & 7, s->sstat1 & LSI_PHASE_MASK);
        lsi_script_scsi_interrupt(s, LSI_SIST0_MA, 0);
        return;
    }
    s->dnad = addr;
    s->dnad64 = addr_high;
    phase = s->sstat1 & LSI_PHASE_MASK;
    switch (phase) {
    case LSI_PHASE_DO:
    case LSI_PHASE_DI:
        s->waiting = LSI_DMA_SCRIPTS;
        lsi_do_dma(s, (s->sstat1 & LSI_PHASE_MASK) == LSI_PHASE_DO);
        if (s->waiting == LSI_DMA_SCRIPTS) {
            s->waiting = LSI_DMA_IN_PROGRESS;
        }
        break;
    case LSI_PHASE_CMD:
        lsi_do_command(s);
        break;
    case LSI_PHASE_ST:
        lsi_do_status(s);
        break;
    case LSI_PHASE_MO:
        lsi_do_msgout(s);
        break;
    case LSI_PHASE_MI:
        lsi_do_msgin(s);
        break;
    default:
        ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: block move in reserved phase %u",
                lsi_name(s), s->sstat1 & LSI_PHASE_MASK);
        break;
    }
    lsi_move_regs_update(s);
    if (phase == LSI_PHASE_CMD || phase == LSI_PHASE_ST || phase == LSI_PHASE_MI) {
        /*
         * These moves leave DBC and DNAD as they were (as QEMU's do), but
         * they are complete: nothing remains and the next address is past
         * the bytes, as the chip reports after a finished move.
         */
        s->rbc &= 0xff000000u;
        s->ua = s->dnad + s->dbc;
    }
}

/* ---- I/O instructions --------------------------------------------------- */

static void exec_io(struct lsi_state *s, uint32_t insn, uint32_t addr)
{
    unsigned opcode = (insn >> 27) & 7;
    uint32_t id = insn;

    if (insn & (1u << 25)) {
        /* table indirect: byte 2 of the dword at DSA + offset is the ID */
        uint32_t ent = s->dsa + (uint32_t)sext24(insn);

        if (fetch32(s, ent, &id, "table-indirect ID") < 0) {
            return;
        }
    }
    id = (id >> 16) & 0xf;
    if (insn & (1u << 26)) {
        addr = s->dsp + (uint32_t)sext24(addr);
    }
    s->dnad = addr;
    switch (opcode) {
    case 0: /* SELECT */
        lsi_do_select(s, id, (insn & (1u << 24)) != 0);
        break;
    case 1: /* WAIT DISCONNECT */
        lsi_do_wait_disconnect(s);
        break;
    case 2: /* WAIT RESELECT */
        lsi_do_wait_reselect(s);
        break;
    case 3: /* SET */
        if (insn & (1u << 3)) {
            /* the target answers ATN at once with MESSAGE OUT */
            s->socl |= LSI_SOCL_ATN;
            s->sbcl |= LSI_SBCL_ATN;
            lsi_set_phase(s, LSI_PHASE_MO);
        }
        if (insn & (1u << 6)) {
            s->sbcl |= LSI_SBCL_ACK;
        }
        if (insn & (1u << 9)) {
            ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: target mode not implemented",
                    lsi_name(s));
        }
        if (insn & (1u << 10)) {
            s->carry = 1;
        }
        break;
    case 4: /* CLEAR */
        if (insn & (1u << 3)) {
            s->socl &= (uint8_t)~LSI_SOCL_ATN;
            s->sbcl &= (uint8_t)~LSI_SBCL_ATN;
        }
        if (insn & (1u << 6)) {
            s->sbcl &= (uint8_t)~LSI_SBCL_ACK;
        }
        if (insn & (1u << 9)) {
            ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: target mode not implemented",
                    lsi_name(s));
        }
        if (insn & (1u << 10)) {
            s->carry = 0;
        }
        break;
    default:
        break;
    }
}

/* ---- read/modify/write register ----------------------------------------- */

static uint8_t alu(struct lsi_state *s, unsigned op, uint8_t a, uint8_t b)
{
    uint8_t r = a, c;

    switch (op) {
    case 0: /* MOVE */
        r = b;
        break;
    case 1: /* SHL through carry */
        c = a >> 7;
        r = (uint8_t)(a << 1 | (s->carry ? 1 : 0));
        s->carry = c;
        break;
    case 2: r = a | b; break;
    case 3: r = a ^ b; break;
    case 4: r = a & b; break;
    case 5: /* SHR through carry */
        c = a & 1;
        r = (uint8_t)(a >> 1 | (s->carry ? 0x80 : 0));
        s->carry = c;
        break;
    case 6: /* ADD */
        r = (uint8_t)(a + b);
        s->carry = r < b;
        break;
    default: /* ADC */
        r = (uint8_t)(a + b + (s->carry ? 1 : 0));
        s->carry = s->carry ? r <= b : r < b;
        break;
    }
    return r;
}

static void exec_rw(struct lsi_state *s, uint32_t insn)
{
    unsigned opcode = (insn >> 27) & 7;
    unsigned op = (insn >> 24) & 7;
    unsigned reg = ((insn >> 16) & 0x7f) | (insn & 0x80);
    uint8_t imm = (uint8_t)(insn >> 8);
    uint8_t a = 0, b = imm, r;

    switch (opcode) {
    case 5: /* register = SFBR op immediate */
        a = s->sfbr;
        break;
    case 6: /* SFBR = register op immediate */
        if (op) {
            a = lsi_reg_read(s, reg);   /* a MOVE reads nothing */
        }
        break;
    default: /* 7: register = register op (immediate or SFBR) */
        if (op) {
            a = lsi_reg_read(s, reg);
        }
        if (insn & (1u << 23)) {
            b = s->sfbr;
        }
        break;
    }
    r = alu(s, op, a, b);
    if (opcode == 6) {
        s->sfbr = r;
    } else {
        lsi_reg_write(s, reg, r);
    }
}

/* ---- transfer control --------------------------------------------------- */

static void exec_transfer(struct lsi_state *s, uint32_t insn, uint32_t addr)
{
    bool jmp = (insn & (1u << 19)) != 0;
    bool cond = jmp;
    unsigned op = (insn >> 27) & 7;

    if (op == 0 && (insn & (1u << 22))) {
        /* JUMP64: a third dword with address bits 63:32 */
        uint32_t hi;

        if (fetch32(s, s->dsp, &hi, "JUMP64 high address") < 0) {
            return;
        }
        s->dsp += 4;
        if (hi) {
            ob_logc(lsi_log(s), OB_LOGC_UNIMP,
                    "%s: JUMP64 above 4 GiB (%#x:%08x) not supported", lsi_name(s),
                    hi, addr);
        }
    }
    if ((insn & 0x002e0000) == 0) {
        return;     /* no condition at all: a no-op */
    }
    if (s->sist1 & LSI_SIST1_STO) {
        lsi_stop(s);  /* the deferred selection timeout */
        return;
    }
    if (insn & (1u << 21)) {
        cond = s->carry != 0;
    }
    if (cond == jmp && (insn & (1u << 17))) {
        cond = (s->sstat1 & LSI_PHASE_MASK) == ((insn >> 24) & 7);
    }
    if (cond == jmp && (insn & (1u << 18))) {
        uint8_t mask = (uint8_t)(~insn >> 8);

        cond = (s->sfbr & mask) == (insn & mask);
    }
    if (cond != jmp) {
        return;
    }
    if ((insn & (1u << 23)) && op != 2 && op != 3) {
        addr = s->dsp + (uint32_t)sext24(addr);
    }
    switch (op) {
    case 0: /* JUMP */
        s->adder = addr;
        s->dsp = addr;
        break;
    case 1: /* CALL */
        s->temp = s->dsp;
        s->dsp = addr;
        break;
    case 2: /* RETURN */
        s->dsp = s->temp;
        break;
    case 3: /* INT, INTFLY */
        if (insn & (1u << 20)) {
            s->istat0 |= LSI_ISTAT0_INTF;
            lsi_update_irq(s);
        } else {
            lsi_script_dma_interrupt(s, LSI_DSTAT_SIR);
        }
        break;
    default:
        ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR, "%s: illegal transfer-control opcode %u",
                lsi_name(s), op);
        lsi_script_dma_interrupt(s, LSI_DSTAT_IID);
        break;
    }
}

/* ---- memory move, LOAD/STORE ------------------------------------------- */

#define LSI_COPY_CHUNK 4096u

/* Returns the number of extra budget units the copy used. */
static unsigned exec_memory_move(struct lsi_state *s, uint32_t insn, uint32_t src)
{
    uint8_t buf[LSI_COPY_CHUNK];
    uint32_t dst, count = insn & 0xffffff;
    bool sio = (s->dmode & LSI_DMODE_SIOM) != 0;
    bool dio = (s->dmode & LSI_DMODE_DIOM) != 0;
    unsigned chunks = 0;

    /* The destination is not copied to TEMP: Linux relies on TEMP surviving. */
    if (fetch32(s, s->dsp, &dst, "memory-move destination") < 0) {
        return 0;
    }
    s->dsp += 4;
    while (count > 0) {
        uint32_t n = count < LSI_COPY_CHUNK ? count : LSI_COPY_CHUNK;

        if (lsi_dma_read(s, src, buf, n, sio) < 0) {
            lsi_bus_fault(s, "memory-move source", src);
            break;
        }
        if (lsi_dma_write(s, dst, buf, n, dio) < 0) {
            lsi_bus_fault(s, "memory-move destination", dst);
            break;
        }
        src += n;
        dst += n;
        count -= n;
        chunks++;
    }
    return chunks;
}

static void exec_load_store(struct lsi_state *s, uint32_t insn, uint32_t addr)
{
    unsigned reg = (insn >> 16) & 0xff;
    unsigned n = insn & 7, i;
    uint8_t data[7] = { 0 };

    if (insn & (1u << 28)) {
        addr = s->dsa + (uint32_t)sext24(addr);
    }
    if (n == 0 || n > 4) {
        /* the chip moves 1 to 4 bytes; QEMU accepts up to 7 */
        ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR, "%s: LOAD/STORE of %u bytes",
                lsi_name(s), n);
    }
    if (insn & (1u << 24)) {
        if (lsi_dma_read(s, addr, data, n, false) < 0) {
            lsi_bus_fault(s, "LOAD source", addr);
            return;
        }
        for (i = 0; i < n; i++) {
            lsi_reg_write(s, reg + i, data[i]);
        }
    } else {
        for (i = 0; i < n; i++) {
            data[i] = lsi_reg_read(s, reg + i);
        }
        if (lsi_dma_write(s, addr, data, n, false) < 0) {
            lsi_bus_fault(s, "STORE destination", addr);
        }
    }
}

/* ---- the processor ------------------------------------------------------ */

/*
 * The two dwords of the instruction at DSP: read in place when both are in
 * guest RAM or SCRIPTS RAM (the fetch is the most frequent DMA of all),
 * else one at a time, so that a fault is reported at the dword that caused
 * it and an all-zero first dword needs no second one. ADDR is not set when
 * INSN is 0.
 */
static int fetch_insn(struct lsi_state *s, uint32_t *insn, uint32_t *addr)
{
    const uint8_t *p = lsi_dma_peek(s, s->dsp, 8);

    if (p) {
        *insn = le32(p);
        *addr = le32(p + 4);
        return 0;
    }
    if (fetch32(s, s->dsp, insn, "instruction fetch") < 0) {
        return -1;
    }
    if (*insn == 0) {
        return 0;
    }
    return fetch32(s, s->dsp + 4, addr, "instruction fetch");
}

/* Executes one instruction; returns the budget units it used. */
static unsigned lsi_step(struct lsi_state *s)
{
    uint32_t insn, addr;
    unsigned cost = 1;

    if (fetch_insn(s, &insn, &addr) < 0) {
        return cost;
    }
    if (insn == 0) {
        /* QEMU skips an all-zero dword (SeaBIOS encodes empty moves so) */
        s->dsp += 4;
        return cost;
    }
    ob_logc(lsi_log(s), OB_LOGC_DEVICE, "%s: SCRIPTS %#010x: %08x %08x", lsi_name(s),
            s->dsp, insn, addr);
    s->dsps = addr;
    s->dcmd = (uint8_t)(insn >> 24);
    s->dsp += 8;
    switch (insn >> 30) {
    case 0:
        exec_block_move(s, insn, addr);
        break;
    case 1:
        if (((insn >> 27) & 7) < 5) {
            exec_io(s, insn, addr);
        } else {
            exec_rw(s, insn);
        }
        break;
    case 2:
        exec_transfer(s, insn, addr);
        break;
    default:
        if (insn & (1u << 29)) {
            exec_load_store(s, insn, addr);
        } else {
            cost += exec_memory_move(s, insn, addr);
        }
        break;
    }
    return cost;
}

static bool lsi_runnable(const struct lsi_state *s)
{
    return (s->istat1 & LSI_ISTAT1_SRUN) && s->waiting == LSI_NOWAIT;
}

static void lsi_run_slice(struct lsi_state *s)
{
    unsigned used = 0;

    while (lsi_runnable(s)) {
        if (used >= LSI_SLICE_INSN) {
            /* budget used up: yield, the timer resumes at DSP */
            s->waiting = LSI_WAIT_SCRIPTS;
            s->yields++;
            lsi_schedule(s);
            return;
        }
        used += lsi_step(s);
        s->insns++;
        if (lsi_runnable(s) && (s->dcntl & LSI_DCNTL_SSM)) {
            lsi_script_dma_interrupt(s, LSI_DSTAT_SSI);
        }
    }
}

void lsi_engine_run(struct lsi_state *s)
{
    if (s->paused) {
        s->run_deferred = true;     /* lsi_resume_vm() schedules it again */
        return;
    }
    if (s->in_engine) {
        lsi_schedule(s);
        return;
    }
    s->in_engine = true;
    if (s->unblock_pending) {
        s->unblock_pending = false;
        lsi_start_blocked(s);
    }
    if (s->waiting == LSI_WAIT_SCRIPTS) {
        s->waiting = LSI_NOWAIT;
    }
    if (s->waiting == LSI_DMA_IN_PROGRESS) {
        lsi_dma_continue(s);
    }
    lsi_run_slice(s);
    s->in_engine = false;
}
