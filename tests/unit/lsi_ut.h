/*
 * lsi_ut.h - the fixture the LSI53C895A suites share: a loop context, an
 * lsi53c895a with 1 MiB of memfd guest RAM at GPA 0 and its BARs
 * programmed, fake SCSI disks on its bus (the device side of scsi.h,
 * with synchronous and asynchronous commands), a tiny SCRIPTS assembler
 * and register accessors.
 */
#ifndef OUTBOARD_TESTS_LSI_UT_H
#define OUTBOARD_TESTS_LSI_UT_H

#include <stdbool.h>
#include <stdint.h>

#include "outboard/ctx.h"
#include "outboard/scsi.h"
#include "../../hw/lsi53c895a/lsi.h"

#define LU_RAM_SIZE     (1u << 20)
#define LU_IO_BASE      0xc000u
#define LU_MMIO_BASE    0xfebfe000u
#define LU_RAMBAR_BASE  0xfebfc000u
#define LU_SCRIPT       0x1000u     /* default SCRIPTS address in guest RAM */
#define LU_DATA         0x20000u    /* data buffers */
#define LU_TABLE        0x8000u     /* DSA-relative tables */
#define LU_MAX_DISKS    4
#define LU_DISK_BLOCKS  64

/* Register offsets used by the tests. */
enum {
    R_SCNTL0 = 0x00, R_SCNTL1 = 0x01, R_SCNTL2 = 0x02, R_SCID = 0x04, R_SDID = 0x06,
    R_GPREG = 0x07, R_SFBR = 0x08, R_SOCL = 0x09, R_SSID = 0x0a, R_SBCL = 0x0b,
    R_DSTAT = 0x0c, R_SSTAT0 = 0x0d, R_SSTAT1 = 0x0e, R_SSTAT2 = 0x0f, R_DSA = 0x10,
    R_ISTAT = 0x14, R_ISTAT1 = 0x15, R_MBOX0 = 0x16, R_MBOX1 = 0x17, R_CTEST0 = 0x18,
    R_CTEST2 = 0x1a, R_CTEST3 = 0x1b, R_TEMP = 0x1c, R_DFIFO = 0x20, R_CTEST4 = 0x21,
    R_CTEST5 = 0x22, R_DBC = 0x24, R_DCMD = 0x27, R_DNAD = 0x28, R_DSP = 0x2c,
    R_DSPS = 0x30, R_SCRATCHA = 0x34, R_DMODE = 0x38, R_DIEN = 0x39, R_DCNTL = 0x3b,
    R_ADDER = 0x3c, R_SIEN0 = 0x40, R_SIEN1 = 0x41, R_SIST0 = 0x42, R_SIST1 = 0x43,
    R_MACNTL = 0x46, R_GPCNTL = 0x47, R_STIME1 = 0x49, R_RESPID0 = 0x4a, R_SIDL = 0x50,
    R_STEST4 = 0x52, R_CCNTL0 = 0x56, R_CCNTL1 = 0x57, R_SBDL = 0x58,
    R_SCRATCHB = 0x5c, R_SCRATCHC = 0x60, R_MMRS = 0xa0, R_DBMS = 0xb4, R_DNAD64 = 0xb8,
    R_PMJAD1 = 0xc0, R_PMJAD2 = 0xc4, R_RBC = 0xc8, R_UA = 0xcc, R_IA = 0xd4,
    R_SBC = 0xd8, R_CSBC = 0xdc,
};

/* SCSI phases for the assembler */
enum { PH_DO = 0, PH_DI = 1, PH_CMD = 2, PH_ST = 3, PH_MO = 6, PH_MI = 7 };

/* A fake disk: LU_DISK_BLOCKS blocks of 512 bytes. */
struct lu_disk {
    struct ob_scsi_dev sd;
    uint8_t data[LU_DISK_BLOCKS * 512];
    bool async_reads;       /* READ data arrives from the loop */
    unsigned started, completed, cancelled, resets;
    uint8_t last_cdb[16];
    uint32_t last_tag;
    bool present;
};

struct lu_fx {
    struct ob_ctx ctx;
    struct ob_pci_dev *pd;
    struct lsi_state *s;
    int ram_fd;
    uint8_t *ram;                 /* the test's mapping of guest RAM */
    struct lu_disk disks[LU_MAX_DISKS];
};

extern struct lu_fx lu;

/* Fixture: device "lsi53c895a,id=lsi0", RAM, BARs, COMMAND = IO|MEM|MASTER. */
void lu_setup(void);
void lu_teardown(void);
/* Attaches fake disk N at (target, lun). */
struct lu_disk *lu_add_disk(unsigned n, unsigned target, unsigned lun);

/* Registers through BAR1 (MMIO). */
uint64_t lu_rd(unsigned off, unsigned size);
void lu_wr(unsigned off, uint64_t val, unsigned size);
uint8_t lu_rd8(unsigned off);
uint32_t lu_rd32(unsigned off);
void lu_wr8(unsigned off, uint8_t val);
void lu_wr32(unsigned off, uint32_t val);

/* Guest RAM */
void lu_put32(uint32_t gpa, uint32_t v);
uint32_t lu_get32(uint32_t gpa);
void lu_put(uint32_t gpa, const void *p, size_t n);

/* Runs the loop until SCRIPTS stop (or N passes); returns the passes used. */
unsigned lu_run(unsigned max_passes);
/* Runs the loop exactly N passes. */
void lu_pump(unsigned n);
/* Starts SCRIPTS at ADDR (32-bit DSP write) and runs them until they stop. */
void lu_go(uint32_t addr);
bool lu_running(void);

/* ---- SCRIPTS assembler: emits at a cursor in guest RAM -------------------- */
struct lu_asm {
    uint32_t pc;
};
void lu_emit(struct lu_asm *a, uint32_t w0, uint32_t w1);
void lu_emit3(struct lu_asm *a, uint32_t w0, uint32_t w1, uint32_t w2);

#define A_MOVE(ph, n)        (0x08000000u | ((uint32_t)(ph) << 24) | (n))
#define A_MOVE_TBL(ph, off)  (0x18000000u | ((uint32_t)(ph) << 24) | ((off) & 0xffffff))
#define A_MOVE_IND(ph, n)    (0x28000000u | ((uint32_t)(ph) << 24) | (n))
#define A_SELECT(id)         (0x40000000u | ((uint32_t)(id) << 16))
#define A_SELECT_ATN(id)     (0x41000000u | ((uint32_t)(id) << 16))
#define A_SELECT_TBL_ATN(o)  (0x43000000u | ((o) & 0xffffff))
#define A_WAIT_DISC          0x48000000u
#define A_WAIT_RESEL         0x50000000u
#define A_SET(bits)          (0x58000000u | (bits))
#define A_CLR(bits)          (0x60000000u | (bits))
#define A_ATN                0x008u
#define A_ACK                0x040u
#define A_CARRY              0x400u
#define A_JUMP               0x80080000u
#define A_CALL               0x88080000u
#define A_RETURN             0x90080000u
#define A_INT                0x98080000u
#define A_INTFLY             0x98180000u
#define A_REL                0x00800000u
#define A_IFFALSE            0x00080000u    /* XOR with the above to test false */
#define A_WHEN(ph)           (0x00030000u | ((uint32_t)(ph) << 24))
#define A_IF(ph)             (0x00020000u | ((uint32_t)(ph) << 24))
#define A_DATA(d)            (0x00040000u | (d))
#define A_MASK(d, m)         (0x00040000u | ((uint32_t)((uint8_t)~(m)) << 8) | (d))
#define A_CARRYSET           0x00200000u
#define A_REGOFS(r)          ((((uint32_t)(r) & 0x7f) << 16) | ((uint32_t)(r) & 0x80))
#define A_SFBR_REG(r, op, d) (0x68000000u | A_REGOFS(r) | (op) | ((uint32_t)(d) << 8))
#define A_REG_SFBR(r, op, d) (0x70000000u | A_REGOFS(r) | (op) | ((uint32_t)(d) << 8))
#define A_REG_REG(r, op, d)  (0x78000000u | A_REGOFS(r) | (op) | ((uint32_t)(d) << 8))
#define A_REG_REG_SFBR(r, op) (0x78800000u | A_REGOFS(r) | (op))
#define OP_LOAD 0x00000000u
#define OP_SHL  0x01000000u
#define OP_OR   0x02000000u
#define OP_XOR  0x03000000u
#define OP_AND  0x04000000u
#define OP_SHR  0x05000000u
#define OP_ADD  0x06000000u
#define OP_ADC  0x07000000u
#define A_COPY(n)            (0xc0000000u | (n))
#define A_LOAD_ABS(r, n)     (0xe1000000u | ((uint32_t)(r) << 16) | (n))
#define A_STORE_ABS(r, n)    (0xe0000000u | ((uint32_t)(r) << 16) | (n))
#define A_LOAD_REL(r, n)     (0xf1000000u | ((uint32_t)(r) << 16) | (n))
#define A_STORE_REL(r, n)    (0xf0000000u | ((uint32_t)(r) << 16) | (n))

#endif
