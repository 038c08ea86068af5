/*
 * test_lsi_scripts.c - the LSI53C895A SCRIPTS processor with hand-assembled
 * SCRIPTS in guest RAM and in the on-chip RAM: every instruction class,
 * interrupts, single step, bus faults, DMA into the chip's own BARs, and
 * budgeted slices that keep the loop responsive.
 */
#include <string.h>

#include <event2/event.h>

#include "outboard/pci.h"
#include "outboard/runstate.h"
#include "lsi_ut.h"
#include "ut.h"

#define VAR     0x6000u     /* scratch variables in guest RAM */

static struct lu_asm at(uint32_t pc)
{
    struct lu_asm a = { pc };

    return a;
}

/* ---- transfer control ------------------------------------------------------ */

static void test_int_stops_with_vector(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, A_INT, 0x1234);
    lu_go(LU_SCRIPT);
    CU_ASSERT_FALSE(lu_running());
    UT_EQ(lu_rd32(R_DSPS), 0x1234);
    UT_EQ(lu_rd32(R_DSP), LU_SCRIPT + 8);
    UT_EQ(lu_rd8(R_DCMD), 0x98);
    UT_EQ(lu_rd8(R_ISTAT), LSI_ISTAT0_DIP);
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_SIR);
    UT_EQ(lu_rd8(R_ISTAT), 0);
    CU_ASSERT_FALSE(lu.pd->intx_level);     /* DIEN is 0 */
}

static void test_int_raises_intx_when_enabled(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr8(R_DIEN, LSI_DSTAT_SIR);
    lu_emit(&a, A_INT, 7);
    lu_go(LU_SCRIPT);
    CU_ASSERT_TRUE(lu.pd->intx_level);
    UT_EQ(lu_rd8(R_DSTAT), 0x84);
    CU_ASSERT_FALSE(lu.pd->intx_level);
}

/* A stopped VM (QMP stop): SCRIPTS wait, INTA is held; cont runs them. */
static void test_paused_vm_holds_scripts_and_intx(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr8(R_DIEN, LSI_DSTAT_SIR);
    lu_emit(&a, A_INT, 9);
    CU_ASSERT_TRUE(ob_vm_stop(&lu.ctx, OB_RS_PAUSED));
    lu_wr32(R_DSP, LU_SCRIPT);
    lu_pump(5);
    CU_ASSERT_TRUE(lu_running());            /* started, but not run */
    CU_ASSERT_FALSE(lu.pd->intx_level);
    UT_EQ(lu_rd8(R_SCRATCHA), 0);             /* registers still answer */
    ob_vm_start(&lu.ctx);
    lu_run(10);
    CU_ASSERT_FALSE(lu_running());
    UT_EQ(lu_rd32(R_DSPS), 9);
    CU_ASSERT_TRUE(lu.pd->intx_level);
    /* an interrupt pending when the VM stops is held until cont */
    CU_ASSERT_TRUE(ob_vm_stop(&lu.ctx, OB_RS_PAUSED));
    lu_wr8(R_DIEN, 0);
    CU_ASSERT_FALSE(lu.pd->intx_level);       /* lowering is not held */
    lu_wr8(R_DIEN, LSI_DSTAT_SIR);
    CU_ASSERT_FALSE(lu.pd->intx_level);
    ob_vm_start(&lu.ctx);
    CU_ASSERT_TRUE(lu.pd->intx_level);
    UT_EQ(lu_rd8(R_DSTAT), 0x84);
    CU_ASSERT_FALSE(lu.pd->intx_level);
}

static void test_zero_dwords_are_skipped(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, 0, 0);              /* SeaBIOS's empty data move */
    lu_put32(a.pc, 0);              /* and a lone zero dword */
    a.pc += 4;
    lu_emit(&a, A_INT, 1);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd32(R_DSP), LU_SCRIPT + 20);
    UT_EQ(lu_rd32(R_DSPS), 1);
}

static void test_jump_call_return(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, A_JUMP, LU_SCRIPT + 0x100);                       /* 0x000 */
    a = at(LU_SCRIPT + 0x100);
    lu_emit(&a, A_JUMP | A_REL, 0x18);                            /* -> 0x120 */
    lu_emit(&a, A_INT, 0xbad);                                    /* 0x108 */
    lu_emit(&a, A_INT, 0x600d);                                   /* 0x110 */
    lu_emit(&a, A_INT, 0xbad);                                    /* 0x118 */
    lu_emit(&a, A_JUMP | A_REL, 0xe0);                            /* 0x120 -> 0x208 */
    a = at(LU_SCRIPT + 0x208);
    lu_emit(&a, A_JUMP | A_REL, (uint32_t)-0x100 & 0xffffff);     /* -> 0x110 */
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd32(R_DSPS), 0x600d);
    UT_EQ(lu_rd32(R_ADDER), LU_SCRIPT + 0x110);   /* the last jump target */

    /* CALL saves the return address in TEMP, RETURN jumps to it */
    a = at(LU_SCRIPT + 0x400);
    lu_emit(&a, A_CALL | A_REL, 0xf8);                            /* -> 0x500 */
    lu_emit(&a, A_INT, 0x42);
    a = at(LU_SCRIPT + 0x500);
    lu_emit(&a, A_RETURN, 0);
    lu_go(LU_SCRIPT + 0x400);
    UT_EQ(lu_rd32(R_DSPS), 0x42);
    UT_EQ(lu_rd32(R_DSP), LU_SCRIPT + 0x410);
    UT_EQ(lu_rd32(R_TEMP), LU_SCRIPT + 0x408);
}

static void test_conditions_data_mask_carry_phase(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr8(R_SFBR, 0xa5);
    lu_emit(&a, A_INT | A_DATA(0xa4), 1);                    /* not taken */
    lu_emit(&a, A_INT | A_MASK(0xa4, 0xfe), 2);              /* 0xa5 & 0xfe == 0xa4 */
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd32(R_DSPS), 2);

    a = at(LU_SCRIPT + 0x100);
    lu_emit(&a, (A_INT ^ A_IFFALSE) | A_DATA(0xa5), 3);     /* IFFALSE: not taken */
    lu_emit(&a, (A_INT ^ A_IFFALSE) | A_DATA(0x00), 4);     /* taken */
    lu_go(LU_SCRIPT + 0x100);
    UT_EQ(lu_rd32(R_DSPS), 4);

    /* carry: SET CARRY, jump if carry; CLEAR CARRY, jump if not carry */
    a = at(LU_SCRIPT + 0x200);
    lu_emit(&a, A_CLR(A_CARRY), 0);
    lu_emit(&a, A_INT | A_CARRYSET, 5);
    lu_emit(&a, A_SET(A_CARRY), 0);
    lu_emit(&a, (A_INT ^ A_IFFALSE) | A_CARRYSET, 6);
    lu_emit(&a, A_INT | A_CARRYSET, 7);
    lu_go(LU_SCRIPT + 0x200);
    UT_EQ(lu_rd32(R_DSPS), 7);

    /* phase: the bus is free (phase bits 0 = DATA OUT) */
    a = at(LU_SCRIPT + 0x300);
    lu_emit(&a, A_INT | A_WHEN(PH_MI), 8);
    lu_emit(&a, A_INT | A_IF(PH_DO), 9);
    lu_go(LU_SCRIPT + 0x300);
    UT_EQ(lu_rd32(R_DSPS), 9);
    /* with neither phase, data nor carry test, a transfer is a no-op */
    a = at(LU_SCRIPT + 0x400);
    lu_emit(&a, 0x80000000u, 0);
    lu_emit(&a, A_INT, 10);
    lu_go(LU_SCRIPT + 0x400);
    UT_EQ(lu_rd32(R_DSPS), 10);
}

static void test_illegal_transfer_opcode(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, 0xa0080000u, 0);        /* opcode 4 */
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_IID);
    CU_ASSERT_FALSE(lu_running());
}

static void test_jump64_consumes_three_dwords(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, A_CLR(A_CARRY), 0);
    lu_emit3(&a, 0x80480000u | A_CARRYSET, 0xbad, 0);     /* not taken: 12 bytes */
    lu_emit3(&a, 0x80480000u, LU_SCRIPT + 0x100, 0);      /* taken */
    lu_emit(&a, A_INT, 0xbad);
    a = at(LU_SCRIPT + 0x100);
    lu_emit(&a, A_INT, 0x64);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd32(R_DSPS), 0x64);
    UT_EQ(lu_rd32(R_DSP), LU_SCRIPT + 0x108);
}

static void test_int_on_the_fly(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, A_INTFLY, 0);
    lu_emit(&a, A_LOAD_ABS(R_SCRATCHA, 4), VAR);
    lu_emit(&a, A_INT, 0x99);
    lu_put32(VAR, 0xfeedf00d);
    lu_go(LU_SCRIPT);
    /* INTFLY does not stop SCRIPTS */
    UT_EQ(lu_rd32(R_SCRATCHA), 0xfeedf00d);
    UT_EQ(lu_rd8(R_ISTAT), LSI_ISTAT0_INTF | LSI_ISTAT0_DIP);
    CU_ASSERT_TRUE(lu.pd->intx_level);      /* INTF is never masked */
    /* DSTAT is kept while INTF is pending */
    UT_EQ(lu_rd8(R_DSTAT), 0x84);
    UT_EQ(lu_rd8(R_DSTAT), 0x84);
    lu_wr8(R_ISTAT, LSI_ISTAT0_INTF);       /* Linux acknowledges INTF */
    UT_EQ(lu_rd8(R_ISTAT), LSI_ISTAT0_DIP);
    UT_EQ(lu_rd8(R_DSTAT), 0x84);
    UT_EQ(lu_rd8(R_ISTAT), 0);
    CU_ASSERT_FALSE(lu.pd->intx_level);
}

/* ---- register instructions ------------------------------------------------ */

static void test_register_alu(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, A_REG_REG(R_SCRATCHA, OP_LOAD, 0x81), 0);        /* A0 = 0x81 */
    lu_emit(&a, A_CLR(A_CARRY), 0);
    lu_emit(&a, A_REG_REG(R_SCRATCHA, OP_SHL, 0), 0);            /* 0x02, C=1 */
    lu_emit(&a, A_REG_REG(R_SCRATCHA + 1, OP_LOAD, 0x10), 0);    /* A1 = 0x10 */
    lu_emit(&a, A_REG_REG(R_SCRATCHA + 1, OP_SHR, 0), 0);        /* 0x88, C=0 */
    lu_emit(&a, A_REG_REG(R_SCRATCHA + 2, OP_LOAD, 0xf0), 0);
    lu_emit(&a, A_REG_REG(R_SCRATCHA + 2, OP_OR, 0x0c), 0);      /* 0xfc */
    lu_emit(&a, A_REG_REG(R_SCRATCHA + 2, OP_XOR, 0xff), 0);     /* 0x03 */
    lu_emit(&a, A_REG_REG(R_SCRATCHA + 2, OP_AND, 0x02), 0);     /* 0x02 */
    lu_emit(&a, A_REG_REG(R_SCRATCHA + 3, OP_LOAD, 0xf0), 0);
    lu_emit(&a, A_REG_REG(R_SCRATCHA + 3, OP_ADD, 0x20), 0);     /* 0x10, C=1 */
    lu_emit(&a, A_REG_REG(R_SCRATCHB, OP_LOAD, 0x01), 0);
    lu_emit(&a, A_REG_REG(R_SCRATCHB, OP_ADC, 0x01), 0);         /* 0x03, C=0 */
    lu_emit(&a, A_REG_REG(R_SCRATCHB + 1, OP_LOAD, 0xff), 0);
    lu_emit(&a, A_SET(A_CARRY), 0);
    lu_emit(&a, A_REG_REG(R_SCRATCHB + 1, OP_ADC, 0x00), 0);     /* 0x00, C=1 */
    lu_emit(&a, A_INT | A_CARRYSET, 0x77);
    lu_emit(&a, A_INT, 0xbad);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd32(R_DSPS), 0x77);
    UT_EQ(lu_rd32(R_SCRATCHA), 0x10028802);
    UT_EQ(lu_rd(R_SCRATCHB, 2), 0x0003);
}

static void test_register_sfbr_moves(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr32(R_SCRATCHA, 0x0000003c);
    lu_wr32(R_MMRS, 0x00000011);            /* a register above 0x7f */
    lu_emit(&a, A_REG_SFBR(R_SCRATCHA, OP_OR, 0x01), 0);        /* SFBR = 0x3d */
    lu_emit(&a, A_SFBR_REG(R_SCRATCHB, OP_OR, 0x00), 0);        /* B0 = 0x3d */
    lu_emit(&a, A_SFBR_REG(R_SCRATCHB + 1, OP_ADD, 0x03), 0);   /* B1 = 0x40 */
    lu_emit(&a, A_REG_REG_SFBR(R_MMRS, OP_ADD), 0);             /* MMRS0 += SFBR */
    lu_emit(&a, A_REG_SFBR(R_MMRS, OP_OR, 0), 0);               /* SFBR = 0x4e */
    lu_emit(&a, A_INT | A_DATA(0x4e), 1);
    lu_emit(&a, A_INT, 2);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd32(R_DSPS), 1);
    UT_EQ(lu_rd(R_SCRATCHB, 2), 0x403d);
    UT_EQ(lu_rd32(R_MMRS), 0x4e);
    UT_EQ(lu_rd8(R_SFBR), 0x4e);
}

static void test_register_move_does_not_read(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr8(R_STIME1, 1);                    /* SIST1.GEN pending */
    /* LOAD_REG into SIST1 is a write (ignored); it must not read-clear */
    lu_emit(&a, A_REG_REG(R_SIST1, OP_LOAD, 0), 0);
    lu_emit(&a, A_INT, 0);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd8(R_SIST1), LSI_SIST1_GEN);
    /* a FROM_REG of CTEST2 clears SIGP, as Linux's idle loop expects */
    lu_wr8(R_ISTAT, LSI_ISTAT0_SIGP);
    a = at(LU_SCRIPT + 0x100);
    lu_emit(&a, A_REG_SFBR(R_CTEST2, OP_OR, 0), 0);
    lu_emit(&a, A_INT, 0);
    lu_go(LU_SCRIPT + 0x100);
    UT_EQ(lu_rd8(R_SFBR), 0x51);
    UT_EQ(lu_rd8(R_ISTAT) & LSI_ISTAT0_SIGP, 0);
}

/* ---- memory instructions -------------------------------------------------- */

static void test_load_store_abs_and_dsa_relative(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_put32(VAR, 0x01020304);
    lu_put32(LU_TABLE - 8, 0xa0b0c0d0);
    lu_wr32(R_DSA, LU_TABLE);
    lu_emit(&a, A_LOAD_ABS(R_SCRATCHA, 4), VAR);
    lu_emit(&a, A_STORE_ABS(R_SCRATCHA, 4), VAR + 4);
    lu_emit(&a, A_LOAD_REL(R_TEMP, 4), (uint32_t)-8 & 0xffffff);
    lu_emit(&a, A_STORE_REL(R_TEMP, 2), 0x10);
    lu_emit(&a, A_LOAD_ABS(R_SCRATCHB + 1, 1), VAR + 3);
    lu_emit(&a, A_INT, 0);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_get32(VAR + 4), 0x01020304);
    UT_EQ(lu_rd32(R_TEMP), 0xa0b0c0d0);
    UT_EQ(lu_get32(LU_TABLE + 0x10), 0x0000c0d0);
    UT_EQ(lu_rd32(R_SCRATCHB), 0x0100);
}

/* Linux's sym_snooptest, from host memory. */
static void test_linux_snoop_test(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_put32(LU_TABLE + 0x40, 1);            /* hcb->scratch */
    lu_wr32(R_TEMP, 2);
    lu_wr32(R_DSA, LU_TABLE);
    lu_emit(&a, A_LOAD_REL(R_SCRATCHA, 4), 0x40);
    lu_emit(&a, A_STORE_REL(R_TEMP, 4), 0x40);
    lu_emit(&a, A_LOAD_REL(R_TEMP, 4), 0x40);
    lu_emit(&a, A_INT, 99);
    lu_wr32(R_DSP, LU_SCRIPT);
    lu_run(100);
    UT_EQ(lu_rd8(R_ISTAT), LSI_ISTAT0_DIP);
    UT_EQ(lu_rd8(R_DSTAT), 0x84);
    UT_EQ(lu_rd32(R_DSP), LU_SCRIPT + 32);
    UT_EQ(lu_rd32(R_SCRATCHA), 1);
    UT_EQ(lu_rd32(R_TEMP), 2);
    UT_EQ(lu_get32(LU_TABLE + 0x40), 2);
}

static void test_memory_move(void)
{
    struct lu_asm a = at(LU_SCRIPT);
    uint8_t pat[6000];
    unsigned i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    for (i = 0; i < sizeof(pat); i++) {
        pat[i] = (uint8_t)(i * 13);
    }
    lu_put(LU_DATA, pat, sizeof(pat));
    lu_wr32(R_TEMP, 0x7e57);
    lu_emit3(&a, A_COPY(sizeof(pat)), LU_DATA, LU_DATA + 0x10000);
    /* into and out of the SCRIPTS RAM through BAR2's bus address */
    lu_emit3(&a, A_COPY(64), LU_DATA, LU_RAMBAR_BASE + 0x100);
    lu_emit3(&a, A_COPY(64), LU_RAMBAR_BASE + 0x100, LU_DATA + 0x20000);
    lu_emit(&a, A_INT, 0);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd32(R_DSP), LU_SCRIPT + 44);
    UT_BYTES(lu.ram + LU_DATA + 0x10000, pat, sizeof(pat));
    UT_BYTES(lu.s->script_ram + 0x100, pat, 64);
    UT_BYTES(lu.ram + LU_DATA + 0x20000, pat, 64);
    UT_EQ(lu_rd32(R_TEMP), 0x7e57);          /* Linux relies on TEMP surviving */
    UT_EQ(lu_rd32(R_DSPS), 0);
}

/* Linux firmware 2: SCRIPTS in the on-chip RAM, variables there too. */
static void test_scripts_from_onchip_ram(void)
{
    static const uint32_t prog[] = {
        A_LOAD_ABS(R_SCRATCHA, 4), LU_RAMBAR_BASE + 0x800,   /* startpos */
        A_REG_REG(R_SCRATCHA, OP_ADD, 4), 0,
        A_STORE_ABS(R_SCRATCHA, 4), LU_RAMBAR_BASE + 0x800,
        A_JUMP, LU_RAMBAR_BASE + 0x1000,
    };
    unsigned i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    for (i = 0; i < sizeof(prog) / 4; i++) {
        lu.pd->ops->bar_write(lu.pd, 2, 4 * i, prog[i], 4);
    }
    lu.pd->ops->bar_write(lu.pd, 2, 0x800, 0x100, 4);
    lu.pd->ops->bar_write(lu.pd, 2, 0x1000, A_INT, 4);
    lu.pd->ops->bar_write(lu.pd, 2, 0x1004, 0x55, 4);
    lu_go(LU_RAMBAR_BASE);
    UT_EQ(lu_rd32(R_DSPS), 0x55);
    UT_EQ(lu_rd32(R_DSP), LU_RAMBAR_BASE + 0x1008);
    UT_EQ(lu.pd->ops->bar_read(lu.pd, 2, 0x800, 4), 0x104);
    /* the internal RAM works without bus mastering (the chip keeps it inside) */
    ob_pci_config_write(lu.pd, OB_PCI_COMMAND, OB_PCI_COMMAND_MEMORY, 2);
    lu_go(LU_RAMBAR_BASE);
    UT_EQ(lu_rd32(R_DSPS), 0x55);
    UT_EQ(lu.pd->ops->bar_read(lu.pd, 2, 0x800, 4), 0x108);
}

/* LOAD/STORE and memory moves that address our own register BAR. */
static void test_dma_into_own_registers(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_put32(VAR, 0x13572468);
    lu_emit3(&a, A_COPY(4), VAR, LU_MMIO_BASE + R_SCRATCHA);       /* RAM -> SCRATCHA */
    lu_emit3(&a, A_COPY(4), LU_MMIO_BASE + R_SCRATCHA, LU_MMIO_BASE + 0x100 + R_TEMP);
    lu_emit(&a, A_LOAD_ABS(R_SCRATCHB, 4), LU_MMIO_BASE + R_TEMP);
    lu_emit(&a, A_INT, 5);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd32(R_DSPS), 5);
    UT_EQ(lu_rd32(R_SCRATCHA), 0x13572468);
    UT_EQ(lu_rd32(R_TEMP), 0x13572468);
    UT_EQ(lu_rd32(R_SCRATCHB), 0x13572468);
    /* with DMODE.SIOM the source is I/O space: our BAR0 */
    a = at(LU_SCRIPT + 0x100);
    lu_wr8(R_DMODE, LSI_DMODE_SIOM);
    lu_emit3(&a, A_COPY(4), LU_IO_BASE + R_SCRATCHA, VAR + 8);
    lu_emit(&a, A_INT, 6);
    lu_go(LU_SCRIPT + 0x100);
    UT_EQ(lu_rd32(R_DSPS), 6);
    UT_EQ(lu_get32(VAR + 8), 0x13572468);
    /* nothing else answers in I/O space (DSTAT still holds SIR: clear it) */
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_SIR);
    a = at(LU_SCRIPT + 0x200);
    lu_emit3(&a, A_COPY(4), 0x1234, VAR + 8);
    lu_go(LU_SCRIPT + 0x200);
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_BF);
}

/*
 * CVE-2023-0330: SCRIPTS copy into the chip's own ISTAT (ABRT) and DSP
 * (restart at the same script). QEMU recursed until the stack overflowed;
 * here each restart is just scheduled, and the loop stays responsive.
 */
static void test_self_restart_does_not_recurse(void)
{
    struct lu_asm a = at(LU_SCRIPT);
    uint8_t blob[0x1c] = { 0 };
    unsigned passes;

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    /* one copy over ISTAT (0x14, ABRT) .. DSP (0x2c-0x2f, this script) */
    blob[0] = LSI_ISTAT0_ABRT;
    blob[0x18] = (uint8_t)LU_SCRIPT;
    blob[0x19] = (uint8_t)(LU_SCRIPT >> 8);
    blob[0x1a] = (uint8_t)(LU_SCRIPT >> 16);
    blob[0x1b] = (uint8_t)(LU_SCRIPT >> 24);
    lu_put(VAR, blob, sizeof(blob));
    lu_emit3(&a, A_COPY(sizeof(blob)), VAR, LU_MMIO_BASE + R_ISTAT);
    lu_emit(&a, A_INT, 0xdead);
    lu_wr32(R_DSP, LU_SCRIPT);
    passes = lu_run(50);
    UT_EQ(passes, 50);                       /* it keeps restarting itself ... */
    CU_ASSERT_TRUE(lu_running());
    UT_EQ(lu_rd8(R_DSTAT) & LSI_DSTAT_ABRT, LSI_DSTAT_ABRT);   /* ... and answers */
    UT_EQ(lu.s->reg_dma_depth, 0);
    CU_ASSERT(lu.s->yields >= 49);
    /* the guest breaks the cycle by rewriting the script */
    lu_put32(LU_SCRIPT, A_INT);
    lu_put32(LU_SCRIPT + 4, 0x600d);
    lu_run(50);
    CU_ASSERT_FALSE(lu_running());
    UT_EQ(lu_rd32(R_DSPS), 0x600d);
}

/* ---- bounded execution ----------------------------------------------------- */

static void test_infinite_loop_yields(void)
{
    struct lu_asm a = at(LU_SCRIPT);
    uint64_t yields;
    unsigned i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, A_JUMP, LU_SCRIPT);          /* JUMP to itself */
    lu_wr32(R_DSP, LU_SCRIPT);
    CU_ASSERT_TRUE(lu_running());
    for (i = 0; i < 20; i++) {
        /* each pass returns: one slice, then a yield */
        CU_ASSERT_FATAL(event_base_loop(lu.ctx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK) >= 0);
        CU_ASSERT_TRUE(lu_running());
        UT_EQ(lu_rd32(R_DSP), LU_SCRIPT);
        UT_EQ(lu_rd8(R_ISTAT1), LSI_ISTAT1_SRUN);
    }
    yields = lu.s->yields;
    CU_ASSERT(yields >= 19);
    CU_ASSERT(lu.s->insns >= 19 * LSI_SLICE_INSN);
    /* the CPU aborts it */
    lu_wr8(R_ISTAT, LSI_ISTAT0_ABRT);
    lu_pump(2);
    CU_ASSERT_FALSE(lu_running());
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_ABRT);
    lu_wr8(R_ISTAT, 0);
    UT_EQ(lu.s->yields, yields);
}

/* CVE-2019-12068: all-zero memory is skipped 4 bytes at a time, budgeted. */
static void test_zeroed_memory_is_budgeted(void)
{
    unsigned passes;

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr32(R_DSP, LU_RAM_SIZE - 0x10000);  /* 16K zero dwords up to the end */
    passes = lu_run(1000);
    CU_ASSERT(passes >= 16);
    CU_ASSERT_FALSE(lu_running());
    /* then it runs off the end of guest RAM: bus fault, not a crash */
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_BF);
    UT_EQ(lu_rd32(R_DSP), LU_RAM_SIZE);
}

static void test_bus_faults(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_go(0x80000000);                      /* not RAM */
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_BF);
    lu_emit(&a, A_LOAD_ABS(R_SCRATCHA, 4), 0x90000000);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_BF);
    UT_EQ(lu_rd32(R_DSP), LU_SCRIPT + 8);
    /* no bus mastering: host memory is out of reach */
    ob_pci_config_write(lu.pd, OB_PCI_COMMAND, OB_PCI_COMMAND_MEMORY, 2);
    lu_put32(LU_SCRIPT + 0x100, A_INT);
    lu_go(LU_SCRIPT + 0x100);
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_BF);
}

static void test_single_step(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, A_REG_REG(R_SCRATCHA, OP_LOAD, 1), 0);
    lu_emit(&a, A_REG_REG(R_SCRATCHA, OP_ADD, 1), 0);
    lu_emit(&a, A_INT, 3);
    lu_wr8(R_DCNTL, LSI_DCNTL_SSM);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_SSI);
    UT_EQ(lu_rd32(R_DSP), LU_SCRIPT + 8);
    UT_EQ(lu_rd8(R_SCRATCHA), 1);
    lu_wr8(R_DCNTL, LSI_DCNTL_SSM | LSI_DCNTL_STD);   /* next step */
    lu_run(10);
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_SSI);
    UT_EQ(lu_rd8(R_SCRATCHA), 2);
    lu_wr8(R_DCNTL, LSI_DCNTL_STD);                  /* run on */
    lu_run(10);
    UT_EQ(lu_rd8(R_DSTAT), 0x80 | LSI_DSTAT_SIR);
    UT_EQ(lu_rd32(R_DSPS), 3);
}

static void test_manual_start_mode(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, A_INT, 0x11);
    lu_wr8(R_DMODE, LSI_DMODE_MAN);
    lu_wr32(R_DSP, LU_SCRIPT);
    lu_pump(3);
    CU_ASSERT_FALSE(lu_running());
    UT_EQ(lu_rd8(R_DSTAT), 0x80);
    lu_wr8(R_DCNTL, LSI_DCNTL_STD);
    lu_run(10);
    UT_EQ(lu_rd32(R_DSPS), 0x11);
    /* a 4-byte DSP write starts only once the whole address is in */
    lu_wr8(R_DMODE, 0);
    lu_wr8(R_DSP, (uint8_t)LU_SCRIPT);
    lu_wr8(R_DSP + 1, (uint8_t)(LU_SCRIPT >> 8));
    lu_wr8(R_DSP + 2, (uint8_t)(LU_SCRIPT >> 16));
    lu_pump(2);
    CU_ASSERT_FALSE(lu_running());
    lu_wr8(R_DSP + 3, (uint8_t)(LU_SCRIPT >> 24));
    CU_ASSERT_TRUE(lu_running());
    lu_run(10);
    CU_ASSERT_FALSE(lu_running());
}

/* ---- bus instructions without a device ------------------------------------ */

/* Linux: SELECT ATN, LOAD, then INT IFFALSE WHEN MSG_OUT at wf_sel_done. */
static void test_selection_timeout_surfaces_late(void)
{
    struct lu_asm a = at(LU_SCRIPT);
    uint32_t wf_sel_done;

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_wr8(R_SIEN1, LSI_SIST1_STO);
    lu_wr32(R_DSA, LU_TABLE);
    lu_put32(LU_TABLE, 5u << 16);           /* sym_tblsel: target 5 */
    lu_emit(&a, A_SELECT_TBL_ATN(0), LU_SCRIPT + 0x100);
    lu_emit(&a, A_LOAD_REL(R_SCRATCHA, 4), 4);
    wf_sel_done = a.pc;
    lu_emit(&a, (A_INT ^ A_IFFALSE) | A_WHEN(PH_MO), 0xbad);
    lu_emit(&a, A_INT, 0xbad2);
    lu_go(LU_SCRIPT);
    CU_ASSERT_FALSE(lu_running());
    UT_EQ(lu_rd32(R_DSP), wf_sel_done + 8);
    UT_EQ(lu_rd8(R_SDID), 5);
    UT_EQ(lu_rd8(R_SSTAT0) & LSI_SSTAT0_WOA, LSI_SSTAT0_WOA);
    CU_ASSERT_TRUE(lu.pd->intx_level);
    UT_EQ(lu_rd8(R_ISTAT), LSI_ISTAT0_SIP);
    UT_EQ(lu_rd(R_SIST0, 2), LSI_SIST1_STO << 8);
    UT_EQ(lu_rd8(R_DSTAT), 0x80);           /* no SIR: the INT was not executed */
    UT_EQ(lu_rd8(R_SCNTL1) & LSI_SCNTL1_CON, 0);
}

/* SeaBIOS: SELECT (no ATN), then a MOVE: STO stops at the move. */
static void test_selection_timeout_at_block_move(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, A_SELECT(2), 0);
    lu_emit(&a, A_MOVE(PH_MO, 1), VAR);
    lu_emit(&a, A_INT, 0xbad);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd32(R_DSP), LU_SCRIPT + 16);
    UT_EQ(lu_rd8(R_DSTAT), 0x80);
    UT_EQ(lu_rd8(R_SIST0), 0);
    UT_EQ(lu_rd8(R_SIST1), LSI_SIST1_STO);
}

static void test_wait_reselect_woken_by_sigp(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, A_REG_SFBR(R_CTEST2, OP_OR, 0), 0);     /* clear SIGP */
    lu_emit(&a, A_WAIT_RESEL, LU_SCRIPT + 0x100);
    lu_emit(&a, A_INT, 0xbad);
    a = at(LU_SCRIPT + 0x100);
    lu_emit(&a, A_INT, 0x516);
    lu_wr32(R_DSP, LU_SCRIPT);
    lu_pump(5);
    CU_ASSERT_TRUE(lu_running());           /* idle in WAIT RESELECT */
    UT_EQ(lu.s->waiting, LSI_WAIT_RESELECT);
    UT_EQ(lu_rd32(R_DSP), LU_SCRIPT + 16);
    lu_wr8(R_ISTAT, LSI_ISTAT0_SIGP);       /* Linux queues a job */
    lu_run(10);
    UT_EQ(lu_rd32(R_DSPS), 0x516);
    /* SIGP still set: the next WAIT RESELECT jumps at once */
    a = at(LU_SCRIPT + 0x200);
    lu_emit(&a, A_WAIT_RESEL, LU_SCRIPT + 0x100);
    lu_go(LU_SCRIPT + 0x200);
    UT_EQ(lu_rd32(R_DSPS), 0x516);
}

static void test_set_clear_atn_ack(void)
{
    struct lu_asm a = at(LU_SCRIPT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lu.pd);
    lu_emit(&a, A_SET(A_ACK | A_ATN), 0);
    lu_emit(&a, A_INT, 1);
    lu_go(LU_SCRIPT);
    UT_EQ(lu_rd8(R_SOCL) & 0x08, 0x08);
    UT_EQ(lu_rd8(R_SBCL) & 0xcf, 0x80 | 0x40 | 0x08 | PH_MO);
    UT_EQ(lu_rd8(R_SSTAT1) & 7, PH_MO);
    a = at(LU_SCRIPT + 0x100);
    lu_emit(&a, A_CLR(A_ACK | A_ATN), 0);
    lu_emit(&a, A_INT, 2);
    lu_go(LU_SCRIPT + 0x100);
    UT_EQ(lu_rd8(R_SOCL) & 0x08, 0);
    UT_EQ(lu_rd8(R_SBCL) & 0x48, 0);
}

static const struct ut_test lsi_scripts_tests[] = {
    UT_TEST(test_int_stops_with_vector),
    UT_TEST(test_int_raises_intx_when_enabled),
    UT_TEST(test_paused_vm_holds_scripts_and_intx),
    UT_TEST(test_zero_dwords_are_skipped),
    UT_TEST(test_jump_call_return),
    UT_TEST(test_conditions_data_mask_carry_phase),
    UT_TEST(test_illegal_transfer_opcode),
    UT_TEST(test_jump64_consumes_three_dwords),
    UT_TEST(test_int_on_the_fly),
    UT_TEST(test_register_alu),
    UT_TEST(test_register_sfbr_moves),
    UT_TEST(test_register_move_does_not_read),
    UT_TEST(test_load_store_abs_and_dsa_relative),
    UT_TEST(test_linux_snoop_test),
    UT_TEST(test_memory_move),
    UT_TEST(test_scripts_from_onchip_ram),
    UT_TEST(test_dma_into_own_registers),
    UT_TEST(test_self_restart_does_not_recurse),
    UT_TEST(test_infinite_loop_yields),
    UT_TEST(test_zeroed_memory_is_budgeted),
    UT_TEST(test_bus_faults),
    UT_TEST(test_single_step),
    UT_TEST(test_manual_start_mode),
    UT_TEST(test_selection_timeout_surfaces_late),
    UT_TEST(test_selection_timeout_at_block_move),
    UT_TEST(test_wait_reselect_woken_by_sigp),
    UT_TEST(test_set_clear_atn_ack),
    UT_END,
};

static const struct ut_suite lsi_scripts_suite = {
    .name = "lsi_scripts",
    .setup = lu_setup,
    .teardown = lu_teardown,
    .tests = lsi_scripts_tests,
};

int test_lsi_scripts_register(void)
{
    return ut_add_suite(&lsi_scripts_suite);
}
