/*
 * ut.h - shared pieces of the unit-test program: suite registration,
 * assertions that print the values they compare, and fixtures (fds, a
 * loop context with a silenced log, devices from a -device string).
 */
#ifndef OUTBOARD_TESTS_UT_H
#define OUTBOARD_TESTS_UT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <CUnit/CUnit.h>

struct ob_ctx;
struct ob_device;
struct ob_log;

/* One test of a suite; tables end with UT_END. */
struct ut_test {
    const char *name;
    CU_TestFunc fn;
};
#define UT_TEST(fn) { #fn, fn }
#define UT_END { NULL, NULL }

struct ut_suite {
    const char *name;
    CU_SetUpFunc setup;        /* per test; may be NULL */
    CU_TearDownFunc teardown;  /* per test, also after a fatal assertion */
    const struct ut_test *tests;
};

/* Adds S and its tests to the CUnit registry. Returns a CUnit error code. */
int ut_add_suite(const struct ut_suite *s);

/* One registration function per module suite (tests/unit/test_<mod>.c). */
int test_mpqemu_register(void);
int test_opts_register(void);
int test_cmdline_register(void);
int test_device_register(void);
int test_mem_register(void);
int test_irq_register(void);
int test_pci_register(void);
int test_edu_register(void);
int test_log_register(void);
int test_block_register(void);
int test_scsi_register(void);
int test_lsi_register(void);
int test_lsi_scripts_register(void);
int test_qmp_register(void);

/* Assertions whose failure message carries the values compared. */
void ut_check_u64(uint64_t got, uint64_t want, const char *expr, unsigned line,
                  const char *file, bool fatal);
void ut_check_str(const char *got, const char *want, const char *expr,
                  unsigned line, const char *file, bool fatal);
void ut_check_bytes(const void *got, const void *want, size_t len,
                    const char *expr, unsigned line, const char *file);

#define UT_EQ(got, want)                                                   \
    ut_check_u64((uint64_t)(got), (uint64_t)(want), #got " == " #want,     \
                 __LINE__, __FILE__, false)
#define UT_EQ_FATAL(got, want)                                             \
    ut_check_u64((uint64_t)(got), (uint64_t)(want), #got " == " #want,     \
                 __LINE__, __FILE__, true)
#define UT_STREQ(got, want)                                                \
    ut_check_str((got), (want), #got " == " #want, __LINE__, __FILE__, false)
#define UT_BYTES(got, want, len)                                           \
    ut_check_bytes((got), (want), (len), #got " == " #want, __LINE__, __FILE__)

/* fds */
bool ut_fd_is_open(int fd);
/* A memfd of SIZE bytes (-1 on failure). */
int ut_memfd(size_t size);
/* A non-blocking eventfd (-1 on failure). */
int ut_eventfd(void);
/* Reads an eventfd's counter without blocking: 0 when it was not written. */
uint64_t ut_eventfd_take(int fd);
/* A log whose output goes to an anonymous temporary file. */
int ut_log_to_tmpfile(struct ob_log *lg);
/* The text written to LG so far (tmpfile logs only), NUL-terminated. */
const char *ut_log_text(const struct ob_log *lg, char *buf, size_t len);

/* A loop context whose log output is discarded. 0 or -1. */
int ut_ctx_open(struct ob_ctx *ctx);
/* ob_device_create() from a -device argument such as "edu,id=e0". */
int ut_device_create(struct ob_ctx *ctx, const char *spec, struct ob_device **out,
                     char *err, size_t errlen);

#endif
