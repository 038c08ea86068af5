/*
 * it.h - shared pieces of the integration tests: the real outboard binary
 * ($OUTBOARD_BIN) started over socketpairs by the proxy driver, and
 * assertions that print what they compared.
 *
 * Tests do not use CUnit's fatal assertions (their longjmp would leak the
 * child): IT_REQUIRE records a failure and jumps to the test's `out:` label,
 * where the remote is stopped.
 */
#ifndef OUTBOARD_TESTS_IT_H
#define OUTBOARD_TESTS_IT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <CUnit/CUnit.h>

#include "outboard/proxy.h"

#define IT_RAM_SIZE   (4u << 20)     /* [0, 0xC0000) + [0x100000, 4 MiB) */
#define IT_MAX_CHANS  2u
#define IT_STOP_MS    5000

/* A spawned remote and its connections. */
struct it_remote {
    struct ob_proxy_proc proc;
    struct ob_proxy px[IT_MAX_CHANS];
    unsigned n;
    int errfd;               /* memfd holding the child's stderr */
    int status;              /* exit status once stopped, else -1 */
};

/* One test of a suite; tables end with IT_END. */
struct it_test {
    const char *name;
    CU_TestFunc fn;
};
#define IT_TEST(fn) { #fn, fn }
#define IT_END { NULL, NULL }

/* Adds a suite and its tests to the registry; returns a CUnit error code. */
int it_add_suite(const char *name, const struct it_test *tests);

int it_config_register(void);
int it_edu_register(void);
int it_dma_register(void);
int it_irq_register(void);
int it_sysmem_register(void);
int it_wire_register(void);
int it_proc_register(void);
int it_qemu_register(void);
int it_qmp_register(void);
int it_lsi_register(void);
int it_lsi_qemu_register(void);
int it_multi_register(void);

/* The outboard binary under test. */
const char *it_outboard(void);
/* True when NAME is an executable in $PATH. */
bool it_in_path(const char *name);

/*
 * Starts ARGV ({fd}, {fd1} placeholders) with NCHANS socketpairs and the
 * child's stderr captured. Returns 0 or -1 (reason printed).
 */
int it_spawn(struct it_remote *r, char *const argv[], unsigned nchans);
/* outboard serving one edu device on one connection. */
int it_spawn_edu(struct it_remote *r);
/* it_spawn_edu + RAM, SET_IRQFD, probe, BARs placed, COMMAND = COMMAND. */
int it_start_edu(struct it_remote *r, uint16_t command);
/* Closes every connection, waits (killing after IT_STOP_MS); returns the exit
 * status. Prints the child's stderr when it is not 0. Idempotent. */
int it_stop(struct it_remote *r);
/* The child's stderr so far, NUL-terminated in BUF. */
const char *it_stderr(struct it_remote *r, char *buf, size_t len);

/* edu register access on BAR0 (4 bytes unless noted); failures are
 * recorded as CUnit failures, and reads then return UINT64_MAX. */
uint64_t it_rd(struct ob_proxy *px, uint64_t off, unsigned size);
void it_wr(struct ob_proxy *px, uint64_t off, uint64_t val, unsigned size);
uint64_t it_cfg_rd(struct ob_proxy *px, uint32_t addr, int32_t len);
void it_cfg_wr(struct ob_proxy *px, uint32_t addr, uint32_t val, int32_t len);
/* Reads edu register OFF until (value & MASK) == 0; false after 2 s. */
bool it_wait_clear(struct ob_proxy *px, uint64_t off, uint64_t mask);
/* One config round trip, so everything sent before was processed. */
void it_sync(struct ob_proxy *px);

bool it_check_u64(uint64_t got, uint64_t want, const char *expr, unsigned line,
                  const char *file);
bool it_check_ok(struct ob_proxy *px, int rc, const char *expr, unsigned line,
                 const char *file);

#define IT_ASSERT(cond) CU_assertImplementation((cond), __LINE__, #cond, __FILE__, "", CU_FALSE)
#define IT_EQ(got, want) it_check_u64((uint64_t)(got), (uint64_t)(want), #got " == " #want, \
                                      __LINE__, __FILE__)
#define IT_OK(px, call) it_check_ok((px), (call), #call, __LINE__, __FILE__)
/* Records a failure and jumps to `out` when COND is false. */
#define IT_REQUIRE(cond)                                                    \
    do {                                                                    \
        bool it_ok_ = (cond);                                               \
        CU_assertImplementation(it_ok_, __LINE__, #cond, __FILE__, "", CU_FALSE); \
        if (!it_ok_) {                                                      \
            goto out;                                                       \
        }                                                                   \
    } while (0)

/* SCSI helpers for the LSI suites: a big-endian 32-bit field, and a
 * READ(10) or WRITE(10) CDB. */
void it_put_be32(uint8_t *p, uint32_t v);
void it_rw10(uint8_t *cdb, bool write, uint32_t lba, uint16_t blocks);

/* edu DMA command bits, and one transfer programmed and started; true once
 * the start bit has cleared. */
#define IT_EDU_DMA_START   0x1u
#define IT_EDU_DMA_TO_RAM  0x2u
#define IT_EDU_DMA_IRQ     0x4u
bool it_edu_dma(struct ob_proxy *px, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd);

#endif
