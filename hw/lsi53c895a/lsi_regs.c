/*
 * lsi_regs.c - the LSI53C895A register file: one descriptor per byte
 * offset (name, backing field, reset value, writable bits, read side
 * effect, write hook), accessed one byte at a time by the CPU (BAR0/BAR1,
 * wider accesses split in ascending address order) and by SCRIPTS
 * (register instructions, LOAD/STORE, DMA into the register BAR).
 *
 * Values and side effects follow QEMU 7.2's model, except where QEMU is
 * known to be wrong and the fix cannot hurt: SFBR reads back its value,
 * and SCNTL1.RST leaves the bus free.
 */
#include <stddef.h>
#include <string.h>

#include "lsi.h"

enum lsi_reg_kind {
    LSI_REG_NONE = 0,   /* unimplemented: reads 0xff, writes dropped; both logged */
    LSI_REG_U8,         /* a uint8_t field */
    LSI_REG_U32,        /* one byte of a uint32_t field (or array) starting at `base` */
    LSI_REG_CONST,      /* reads `reset`, has no storage */
};

/* flags */
#define LSI_RF_WIGNORE  0x01   /* writes are ignored silently (read-only) */
#define LSI_RF_WUNIMP   0x02   /* writes are logged as unimplemented */
#define LSI_RF_NORESET  0x04   /* chip reset leaves the field alone */

struct lsi_reg {
    const char *name;
    uint8_t kind;
    uint8_t base;          /* first offset of a multi-byte register */
    uint16_t field;        /* offsetof(struct lsi_state, ...) */
    uint8_t reset;         /* after chip reset; the value of a CONST register */
    uint8_t romask;        /* bits a plain store leaves alone */
    uint8_t flags;
    uint8_t (*read)(struct lsi_state *s, unsigned off);
    void (*write)(struct lsi_state *s, unsigned off, uint8_t val);
};

/* ---- storage ------------------------------------------------------------ */

static uint8_t *reg_u8(struct lsi_state *s, const struct lsi_reg *r)
{
    return (uint8_t *)s + r->field;
}

/* The uint32_t holding byte OFF of a U32 register, and the byte's shift. */
static uint32_t *reg_u32(struct lsi_state *s, const struct lsi_reg *r, unsigned off,
                         unsigned *shift)
{
    unsigned rel = off - r->base;

    *shift = (rel & 3) * 8;
    return (uint32_t *)(void *)((uint8_t *)s + r->field) + (rel >> 2);
}

static uint8_t reg_load(struct lsi_state *s, const struct lsi_reg *r, unsigned off)
{
    const uint32_t *w;
    unsigned shift = 0;

    switch (r->kind) {
    case LSI_REG_U8:
        return *reg_u8(s, r);
    case LSI_REG_U32:
        /* two statements: the call must set SHIFT before it is used */
        w = reg_u32(s, r, off, &shift);
        return (uint8_t)(*w >> shift);
    case LSI_REG_CONST:
        return r->reset;
    default:
        return 0xff;
    }
}

/* Plain store of VAL through the descriptor's write mask. */
static void reg_store(struct lsi_state *s, const struct lsi_reg *r, unsigned off,
                      uint8_t val)
{
    unsigned shift;
    uint32_t *w;
    uint8_t *b;

    switch (r->kind) {
    case LSI_REG_U8:
        b = reg_u8(s, r);
        *b = (uint8_t)((*b & r->romask) | (val & ~r->romask));
        break;
    case LSI_REG_U32:
        w = reg_u32(s, r, off, &shift);
        *w = (*w & ~((uint32_t)(uint8_t)~r->romask << shift)) |
             ((uint32_t)(uint8_t)(val & ~r->romask) << shift);
        break;
    default:
        break;
    }
}

/* ---- read side effects -------------------------------------------------- */

static uint8_t rd_dstat(struct lsi_state *s, unsigned off)
{
    uint8_t v = s->dstat | LSI_DSTAT_DFE;

    (void)off;
    /* QEMU keeps DSTAT while an interrupt-on-the-fly is pending. */
    if (!(s->istat0 & LSI_ISTAT0_INTF)) {
        s->dstat = 0;
    }
    lsi_update_irq(s);
    return v;
}

static uint8_t rd_sstat2(struct lsi_state *s, unsigned off)
{
    (void)off;
    return (s->scntl1 & LSI_SCNTL1_CON) ? 0x00 : 0x02;   /* LDSC when free */
}

static uint8_t rd_ctest2(struct lsi_state *s, unsigned off)
{
    uint8_t v = s->ctest2 | LSI_CTEST2_DACK | LSI_CTEST2_CM;

    (void)off;
    if (s->istat0 & LSI_ISTAT0_SIGP) {
        s->istat0 &= (uint8_t)~LSI_ISTAT0_SIGP;
        v |= LSI_CTEST2_SIGP;
    }
    return v;
}

static uint8_t rd_sist0(struct lsi_state *s, unsigned off)
{
    uint8_t v = s->sist0;

    (void)off;
    s->sist0 = 0;
    lsi_update_irq(s);
    return v;
}

static uint8_t rd_sist1(struct lsi_state *s, unsigned off)
{
    uint8_t v = s->sist1;

    (void)off;
    s->sist1 = 0;
    lsi_update_irq(s);
    return v;
}

/* Drivers peek at the data lines during MSG IN. */
static uint8_t rd_sbdl(struct lsi_state *s, unsigned off)
{
    (void)off;
    if ((s->sstat1 & LSI_PHASE_MASK) == LSI_PHASE_MI && s->msg_len > 0) {
        return s->msg[0];
    }
    return 0;
}

/* ---- write hooks -------------------------------------------------------- */

static void wr_scntl0(struct lsi_state *s, unsigned off, uint8_t val)
{
    (void)off;
    s->scntl0 = val;
    if (val & LSI_SCNTL0_START) {
        ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: SCNTL0 start sequence not implemented",
                lsi_name(s));
    }
}

static void wr_scntl1(struct lsi_state *s, unsigned off, uint8_t val)
{
    (void)off;
    s->scntl1 = val & (uint8_t)~LSI_SCNTL1_SST;
    if (val & LSI_SCNTL1_IARB) {
        ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: immediate arbitration not implemented",
                lsi_name(s));
    }
    if (!(val & LSI_SCNTL1_RST)) {
        s->sstat0 &= (uint8_t)~LSI_SSTAT0_RST;
        return;
    }
    if (!(s->sstat0 & LSI_SSTAT0_RST)) {
        lsi_scsi_bus_reset(s);
        s->sstat0 |= LSI_SSTAT0_RST;
        lsi_script_scsi_interrupt(s, LSI_SIST0_RST, 0);
    }
}

static void wr_sdid(struct lsi_state *s, unsigned off, uint8_t val)
{
    (void)off;
    if ((s->ssid & 0x80) && (val & 0xf) != (s->ssid & 0xf)) {
        ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR,
                "%s: SDID %u does not match the reselecting ID %u", lsi_name(s),
                val & 0xfu, s->ssid & 0xfu);
    }
    s->sdid = val & 0x0f;
}

static void wr_istat0(struct lsi_state *s, unsigned off, uint8_t val)
{
    (void)off;
    s->istat0 = (uint8_t)((s->istat0 & 0x0f) | (val & 0xf0));
    if (val & LSI_ISTAT0_ABRT) {
        lsi_script_dma_interrupt(s, LSI_DSTAT_ABRT);
    }
    if (val & LSI_ISTAT0_INTF) {
        s->istat0 &= (uint8_t)~LSI_ISTAT0_INTF;
        lsi_update_irq(s);
    }
    if ((val & LSI_ISTAT0_SIGP) && s->waiting == LSI_WAIT_RESELECT) {
        /* woken from WAIT RESELECT: continue at its alternate address */
        s->dsp = s->dnad;
        lsi_resume(s);
    }
    if (val & LSI_ISTAT0_SRST) {
        /* A pulse: the chip comes out of reset at once (SeaBIOS never
         * clears the bit). */
        lsi_chip_reset(s);
    }
}

static void wr_ctest2(struct lsi_state *s, unsigned off, uint8_t val)
{
    (void)off;
    s->ctest2 = val & LSI_CTEST2_PCICIE;
}

static void wr_ctest4(struct lsi_state *s, unsigned off, uint8_t val)
{
    (void)off;
    if (val & 7) {
        ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: CTEST4 FIFO byte control %#x not implemented",
                lsi_name(s), val);
    }
    s->ctest4 = val;
}

static void wr_ctest5(struct lsi_state *s, unsigned off, uint8_t val)
{
    (void)off;
    if (val & (LSI_CTEST5_ADCK | LSI_CTEST5_BBCK)) {
        ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: CTEST5 DMA increment not implemented",
                lsi_name(s));
    }
    s->ctest5 = val;
}

/* DSP: the write of its top byte starts SCRIPTS (unless manual mode). */
static void wr_dsp(struct lsi_state *s, unsigned off, uint8_t val)
{
    unsigned shift = (off & 3) * 8;

    s->dsp = (s->dsp & ~(0xffu << shift)) | ((uint32_t)val << shift);
    if (off == 0x2f && !(s->dmode & LSI_DMODE_MAN) && !(s->istat1 & LSI_ISTAT1_SRUN)) {
        lsi_start(s);
    }
}

static void wr_irq_mask(struct lsi_state *s, unsigned off, uint8_t val)
{
    switch (off) {
    case 0x39: s->dien = val; break;
    case 0x40: s->sien0 = val; break;
    default:   s->sien1 = val; break;
    }
    lsi_update_irq(s);
}

static void wr_dcntl(struct lsi_state *s, unsigned off, uint8_t val)
{
    (void)off;
    s->dcntl = val & (uint8_t)~(LSI_DCNTL_PFF | LSI_DCNTL_STD);
    if ((val & LSI_DCNTL_STD) && !(s->istat1 & LSI_ISTAT1_SRUN)) {
        lsi_start(s);
    }
}

static void wr_stime1(struct lsi_state *s, unsigned off, uint8_t val)
{
    (void)off;
    if (val & 0xf) {
        /* No timers; firing at once keeps drivers that probe it happy. */
        ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: general purpose timer not implemented",
                lsi_name(s));
        lsi_script_scsi_interrupt(s, 0, LSI_SIST1_GEN);
    }
}

static void wr_stest2(struct lsi_state *s, unsigned off, uint8_t val)
{
    (void)off;
    if (val & 1) {
        ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: low level mode not implemented",
                lsi_name(s));
    }
    s->stest2 = val;
}

static void wr_stest3(struct lsi_state *s, unsigned off, uint8_t val)
{
    (void)off;
    if (val & 0x41) {
        ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: SCSI FIFO test mode not implemented",
                lsi_name(s));
    }
    s->stest3 = val;
}

/* ---- the table ---------------------------------------------------------- */

#define F(x) ((uint16_t)offsetof(struct lsi_state, x))

#define R8(n, f, rst, ...) \
    { .name = n, .kind = LSI_REG_U8, .field = F(f), .reset = rst, __VA_ARGS__ }
#define R32(n, f, b, ...) \
    { .name = n, .kind = LSI_REG_U32, .base = b, .field = F(f), __VA_ARGS__ }
#define RC(n, v, ...) \
    { .name = n, .kind = LSI_REG_CONST, .reset = v, __VA_ARGS__ }
#define RX(n) { .name = n, .kind = LSI_REG_NONE }

/* Read-only register: written values are dropped (some drivers write them). */
#define RO .flags = LSI_RF_WIGNORE
#define WU .flags = LSI_RF_WUNIMP

static const struct lsi_reg lsi_regs[LSI_NREGS] = {
    [0x00] = R8("SCNTL0", scntl0, 0xc0, .write = wr_scntl0),
    [0x01] = R8("SCNTL1", scntl1, 0x00, .write = wr_scntl1),
    /* the wide-residue bits are write-1-to-clear on the chip: always 0 here */
    [0x02] = R8("SCNTL2", scntl2, 0x00, .romask = LSI_SCNTL2_WSR | LSI_SCNTL2_WSS),
    [0x03] = R8("SCNTL3", scntl3, 0x00),
    [0x04] = R8("SCID", scid, 0x07),
    [0x05] = R8("SXFER", sxfer, 0x00),
    [0x06] = R8("SDID", sdid, 0x00, .write = wr_sdid),
    [0x07] = RC("GPREG", 0x7f, RO),
    [0x08] = R8("SFBR", sfbr, 0x00),
    [0x09] = R8("SOCL", socl, 0x00, WU),
    [0x0a] = R8("SSID", ssid, 0x00, RO),
    [0x0b] = R8("SBCL", sbcl, 0x00, RO),
    [0x0c] = R8("DSTAT", dstat, 0x00, RO, .read = rd_dstat),
    [0x0d] = R8("SSTAT0", sstat0, 0x00, RO),
    [0x0e] = R8("SSTAT1", sstat1, 0x00, RO),
    [0x0f] = RC("SSTAT2", 0x00, RO, .read = rd_sstat2),
    [0x10 ... 0x13] = R32("DSA", dsa, 0x10),
    [0x14] = R8("ISTAT0", istat0, 0x00, .write = wr_istat0),
    [0x15] = R8("ISTAT1", istat1, 0x00, WU),
    [0x16] = R8("MBOX0", mbox0, 0x00),
    [0x17] = R8("MBOX1", mbox1, 0x00),
    [0x18] = RC("CTEST0", 0xff, RO),
    [0x19] = RC("CTEST1", 0x00, WU),
    [0x1a] = R8("CTEST2", ctest2, LSI_CTEST2_DACK, .read = rd_ctest2, .write = wr_ctest2),
    /* the chip revision nibble (7:4) reads 0 */
    [0x1b] = R8("CTEST3", ctest3, 0x00, .romask = 0xf0),
    [0x1c ... 0x1f] = R32("TEMP", temp, 0x1c),
    [0x20] = R8("DFIFO", dfifo, 0x00, WU),
    [0x21] = R8("CTEST4", ctest4, 0x00, .write = wr_ctest4),
    [0x22] = R8("CTEST5", ctest5, 0x00, .write = wr_ctest5),
    [0x23] = RC("CTEST6", 0x00, WU),
    [0x24 ... 0x26] = R32("DBC", dbc, 0x24),
    [0x27] = R8("DCMD", dcmd, 0x40, WU),
    [0x28 ... 0x2b] = R32("DNAD", dnad, 0x28),
    [0x2c ... 0x2f] = R32("DSP", dsp, 0x2c, .write = wr_dsp),
    [0x30 ... 0x33] = R32("DSPS", dsps, 0x30),
    [0x34 ... 0x37] = R32("SCRATCHA", scratch[0], 0x34),
    [0x38] = R8("DMODE", dmode, 0x00),
    [0x39] = R8("DIEN", dien, 0x00, .write = wr_irq_mask),
    [0x3a] = R8("SBR", sbr, 0x00),
    [0x3b] = R8("DCNTL", dcntl, 0x00, .write = wr_dcntl),
    [0x3c ... 0x3f] = R32("ADDER", adder, 0x3c, WU),
    [0x40] = R8("SIEN0", sien0, 0x00, .write = wr_irq_mask),
    [0x41] = R8("SIEN1", sien1, 0x00, .write = wr_irq_mask),
    [0x42] = R8("SIST0", sist0, 0x00, WU, .read = rd_sist0),
    [0x43] = R8("SIST1", sist1, 0x00, WU, .read = rd_sist1),
    [0x44] = RX("SLPAR"),
    [0x45] = RX("SWIDE"),
    [0x46] = RC("MACNTL", 0x0f, WU),
    [0x47] = RC("GPCNTL", 0x0f, RO),
    [0x48] = R8("STIME0", stime0, 0x00),
    [0x49] = { .name = "STIME1", .kind = LSI_REG_NONE, .write = wr_stime1 },
    [0x4a] = R8("RESPID0", respid0, 0x80),
    [0x4b] = R8("RESPID1", respid1, 0x00),
    [0x4c] = RX("STEST0"),
    [0x4d] = R8("STEST1", stest1, 0x00),
    [0x4e] = R8("STEST2", stest2, 0x00, .write = wr_stest2),
    [0x4f] = R8("STEST3", stest3, 0x00, .write = wr_stest3),
    /* the last byte moved in MSG IN (Linux decodes tags from it) */
    [0x50] = R8("SIDL", sidl, 0x00, WU),
    [0x51] = RX("SIDL1"),
    [0x52] = RC("STEST4", 0xe0, WU),    /* LVD bus mode, clock locked */
    [0x53] = RX("0x53"),
    [0x54] = RX("SODL"),
    [0x55] = RX("SODL1"),
    [0x56] = R8("CCNTL0", ccntl0, 0x00),
    [0x57] = R8("CCNTL1", ccntl1, 0x00),
    [0x58] = RC("SBDL", 0x00, WU, .read = rd_sbdl),
    [0x59] = RC("SBDL1", 0x00, WU),
    [0x5a] = RX("0x5a"),
    [0x5b] = RX("0x5b"),
    [0x5c ... 0x5f] = R32("SCRATCHB", scratch[1], 0x5c),
    [0x60 ... 0x9f] = R32("SCRATCHC-R", scratch[2], 0x60),
    [0xa0 ... 0xa3] = R32("MMRS", mmrs, 0xa0),
    [0xa4 ... 0xa7] = R32("MMWS", mmws, 0xa4),
    [0xa8 ... 0xab] = R32("SFS", sfs, 0xa8),
    [0xac ... 0xaf] = R32("DRS", drs, 0xac),
    [0xb0 ... 0xb3] = R32("SBMS", sbms, 0xb0),
    [0xb4 ... 0xb7] = R32("DBMS", dbms, 0xb4),
    [0xb8 ... 0xbb] = R32("DNAD64", dnad64, 0xb8),
    [0xbc ... 0xbf] = RX("SCNTL4/AIPCNTL"),
    [0xc0 ... 0xc3] = R32("PMJAD1", pmjad1, 0xc0),
    [0xc4 ... 0xc7] = R32("PMJAD2", pmjad2, 0xc4),
    [0xc8 ... 0xcb] = R32("RBC", rbc, 0xc8),
    [0xcc ... 0xcf] = R32("UA", ua, 0xcc),
    [0xd0 ... 0xd3] = RX("ESA"),
    [0xd4 ... 0xd7] = R32("IA", ia, 0xd4),
    [0xd8 ... 0xdb] = R32("SBC", sbc, 0xd8),
    [0xdc ... 0xdf] = R32("CSBC", csbc, 0xdc),
    [0xe0 ... 0xff] = RX("reserved"),
};

/* ---- access ------------------------------------------------------------- */

const char *lsi_reg_name(unsigned off)
{
    return off < LSI_NREGS && lsi_regs[off].name ? lsi_regs[off].name : "???";
}

uint8_t lsi_reg_read(struct lsi_state *s, unsigned off)
{
    const struct lsi_reg *r;
    uint8_t v;

    if (off >= LSI_NREGS || lsi_regs[off].kind == LSI_REG_NONE) {
        ob_logc(lsi_log(s), OB_LOGC_GUEST_ERROR, "%s: read of unimplemented register %s (%#x)",
                lsi_name(s), lsi_reg_name(off), off);
        return 0xff;
    }
    r = &lsi_regs[off];
    v = r->read ? r->read(s, off) : reg_load(s, r, off);
    ob_logc(lsi_log(s), OB_LOGC_DEVICE, "%s: read %s (%#x) -> %#04x", lsi_name(s),
            r->name, off, v);
    return v;
}

void lsi_reg_write(struct lsi_state *s, unsigned off, uint8_t val)
{
    const struct lsi_reg *r = off < LSI_NREGS ? &lsi_regs[off] : NULL;

    ob_logc(lsi_log(s), OB_LOGC_DEVICE, "%s: write %s (%#x) <- %#04x", lsi_name(s),
            lsi_reg_name(off), off, val);
    if (r && r->write) {
        r->write(s, off, val);
        return;
    }
    if (!r || r->kind == LSI_REG_NONE || (r->flags & LSI_RF_WUNIMP)) {
        ob_logc(lsi_log(s), OB_LOGC_UNIMP, "%s: write to register %s (%#x) <- %#04x ignored",
                lsi_name(s), lsi_reg_name(off), off, val);
        return;
    }
    if (r->flags & LSI_RF_WIGNORE) {
        return;
    }
    reg_store(s, r, off, val);
}

/* Every register with storage back to its reset value. */
void lsi_regs_reset(struct lsi_state *s)
{
    unsigned off, shift;

    for (off = 0; off < LSI_NREGS; off++) {
        const struct lsi_reg *r = &lsi_regs[off];

        if (r->flags & LSI_RF_NORESET) {
            continue;
        }
        if (r->kind == LSI_REG_U8) {
            *reg_u8(s, r) = r->reset;
        } else if (r->kind == LSI_REG_U32) {
            uint32_t *w = reg_u32(s, r, off, &shift);

            *w = (*w & ~(0xffu << shift)) | ((uint32_t)r->reset << shift);
        }
    }
}
