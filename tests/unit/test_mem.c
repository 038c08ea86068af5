/*
 * test_mem.c - guest memory (core/mem.c): SYNC_SYSMEM tables over memfds,
 * bounds-checked DMA copies, table validation, identical re-syncs, and
 * pinning of a table across a re-sync.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "outboard/mem.h"
#include "ut.h"

#define KIB 1024u

/* The CUnit fixture hooks take no argument, so the fixture is file-scope. */
static struct ob_log log_;
static struct ob_mem mem;

static void setup_mem(void)
{
    ob_log_init(&log_);
    ob_mem_init(&mem, &log_);
}

static void teardown_mem(void)
{
    ob_mem_clear(&mem);
}

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* A memfd of SIZE bytes whose byte i is (SEED + i) & 0xff. */
static int pattern_memfd(size_t size, uint8_t seed)
{
    uint8_t buf[4096];
    size_t done, i;
    int fd = ut_memfd(size);

    if (fd < 0) {
        return -1;
    }
    for (done = 0; done < size; done += sizeof(buf)) {
        size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);

        for (i = 0; i < n; i++) {
            buf[i] = (uint8_t)(seed + done + i);
        }
        if (pwrite(fd, buf, n, (off_t)done) != (ssize_t)n) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static struct ob_mem_desc desc(uint64_t gpa, uint64_t size, int64_t offset, int fd)
{
    struct ob_mem_desc d = { .gpa = gpa, .size = size, .offset = offset, .fd = fd };

    return d;
}

/* Syncs one region [GPA, +SIZE) of a fresh pattern memfd; returns a dup of
 * the memfd (for checking through the file) or -1. */
static int sync_one(uint64_t gpa, uint64_t size, uint8_t seed)
{
    int fd = pattern_memfd(size, seed);
    int keep = fd >= 0 ? dup(fd) : -1;
    struct ob_mem_desc d = desc(gpa, size, 0, fd);
    char err[200] = "";

    if (keep < 0) {
        return -1;
    }
    if (ob_mem_sync(&mem, &d, 1, err, sizeof(err)) < 0) {
        UT_STREQ(err, "");
        close(keep);
        return -1;
    }
    return keep;
}

static uint8_t file_byte(int fd, off_t off)
{
    uint8_t b = 0;

    CU_ASSERT(pread(fd, &b, 1, off) == 1);
    return b;
}

/* ---- sync and access ---------------------------------------------------- */

static void test_sync_one_region_read_write(void)
{
    uint8_t buf[16], want[16];
    int keep = sync_one(0x100000, 64 * KIB, 0x10);
    unsigned i;

    CU_ASSERT_FATAL(keep >= 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mem.cur);
    UT_EQ(mem.cur->n, 1);
    UT_EQ(mem.cur->refs, 1);
    UT_EQ(mem.syncs, 1);
    UT_EQ(mem.remaps, 1);
    UT_EQ(ob_mem_read(&mem, 0x100000 + 0x234, buf, sizeof(buf)), 0);
    for (i = 0; i < sizeof(want); i++) {
        want[i] = (uint8_t)(0x10 + 0x234 + i);
    }
    UT_BYTES(buf, want, sizeof(buf));
    /* writes land in the shared file */
    memset(buf, 0xab, sizeof(buf));
    UT_EQ(ob_mem_write(&mem, 0x100000 + 64 * KIB - 16, buf, sizeof(buf)), 0);
    UT_EQ(file_byte(keep, 64 * KIB - 16), 0xab);
    UT_EQ(file_byte(keep, 64 * KIB - 1), 0xab);
    UT_EQ(file_byte(keep, 64 * KIB - 17), (uint8_t)(0x10 + 64 * KIB - 17));
    UT_EQ(mem.faults, 0);
    close(keep);
}

static void test_sync_two_regions_of_one_file(void)
{
    int fd = pattern_memfd(128 * KIB, 0);
    int fd2 = fd >= 0 ? dup(fd) : -1;
    struct ob_mem_desc d[2];
    uint8_t b;
    char err[200] = "";

    CU_ASSERT_FATAL(fd >= 0 && fd2 >= 0);
    d[0] = desc(0, 64 * KIB, 0, fd);
    d[1] = desc(0x100000, 64 * KIB, 64 * KIB, fd2);
    UT_EQ_FATAL(ob_mem_sync(&mem, d, 2, err, sizeof(err)), 0);
    UT_EQ(mem.cur->n, 2);
    UT_EQ(ob_mem_read(&mem, 0x10, &b, 1), 0);
    UT_EQ(b, 0x10);
    /* the second region maps the file from 64 KiB on */
    UT_EQ(ob_mem_read(&mem, 0x100000 + 0x21, &b, 1), 0);
    UT_EQ(b, (uint8_t)(64 * KIB + 0x21));
    /* the hole between them is not RAM */
    UT_EQ(ob_mem_read(&mem, 64 * KIB, &b, 1), -1);
    UT_EQ(mem.faults, 1);
}

static void test_dma_across_adjacent_regions(void)
{
    int a = pattern_memfd(4 * KIB, 0), b = pattern_memfd(4 * KIB, 0x80);
    int a2 = dup(a), b2 = dup(b);
    struct ob_mem_desc d[2];
    uint8_t out[256], in[256];
    char err[200];
    unsigned i;

    CU_ASSERT_FATAL(a >= 0 && b >= 0 && a2 >= 0 && b2 >= 0);
    /* listed out of address order on purpose */
    d[0] = desc(0x2000, 4 * KIB, 0, b);
    d[1] = desc(0x1000, 4 * KIB, 0, a);
    UT_EQ_FATAL(ob_mem_sync(&mem, d, 2, err, sizeof(err)), 0);
    for (i = 0; i < sizeof(out); i++) {
        out[i] = (uint8_t)(0xff - i);
    }
    UT_EQ(ob_mem_write(&mem, 0x2000 - 0x80, out, sizeof(out)), 0);
    UT_EQ(file_byte(a2, 4 * KIB - 0x80), out[0]);
    UT_EQ(file_byte(a2, 4 * KIB - 1), out[0x7f]);
    UT_EQ(file_byte(b2, 0), out[0x80]);
    UT_EQ(file_byte(b2, 0x7f), out[0xff]);
    UT_EQ(file_byte(b2, 0x80), 0x00);   /* (0x80 + 0x80) & 0xff: untouched */
    memset(in, 0, sizeof(in));
    UT_EQ(ob_mem_read(&mem, 0x2000 - 0x80, in, sizeof(in)), 0);
    UT_BYTES(in, out, sizeof(in));
    UT_EQ(mem.faults, 0);
    close(a2);
    close(b2);
}

static void test_dma_spanning_whole_table(void)
{
    int a = pattern_memfd(4 * KIB, 0), b = pattern_memfd(4 * KIB, 0x80);
    struct ob_mem_desc d[2];
    uint8_t big[8 * KIB];
    char err[200];

    CU_ASSERT_FATAL(a >= 0 && b >= 0);
    d[0] = desc(0x1000, 4 * KIB, 0, a);
    d[1] = desc(0x2000, 4 * KIB, 0, b);
    UT_EQ_FATAL(ob_mem_sync(&mem, d, 2, err, sizeof(err)), 0);
    UT_EQ(ob_mem_read(&mem, 0x1000, big, sizeof(big)), 0);
    UT_EQ(big[0], 0);
    UT_EQ(big[4 * KIB - 1], 0xff);
    UT_EQ(big[4 * KIB], 0x80);
    UT_EQ(big[8 * KIB - 1], 0x7f);
    UT_EQ(ob_mem_read(&mem, 0x1000, big, sizeof(big) + 1), -1);
}

static void test_access_outside_faults(void)
{
    uint8_t buf[8] = { 0 };
    int keep = sync_one(0x10000, 4 * KIB, 0);

    CU_ASSERT_FATAL(keep >= 0);
    UT_EQ(ob_mem_read(&mem, 0, buf, 1), -1);
    UT_EQ(mem.faults, 1);
    UT_EQ(ob_mem_read(&mem, 0xffff, buf, 1), -1);
    UT_EQ(ob_mem_write(&mem, 0x11000, buf, 1), -1);
    UT_EQ(ob_mem_write(&mem, UINT64_C(0x100000000), buf, 8), -1);
    UT_EQ(mem.faults, 4);
    /* a refused write writes nothing */
    UT_EQ(file_byte(keep, 0), 0);
    close(keep);
}

static void test_straddling_the_end_fails(void)
{
    uint8_t buf[16];
    int keep = sync_one(0x10000, 4 * KIB, 0);

    CU_ASSERT_FATAL(keep >= 0);
    UT_EQ(ob_mem_read(&mem, 0x11000 - 8, buf, 16), -1);
    UT_EQ(ob_mem_write(&mem, 0x11000 - 1, buf, 2), -1);
    UT_EQ(ob_mem_read(&mem, 0x10000 - 1, buf, 2), -1);
    UT_EQ(mem.faults, 3);
    UT_EQ(ob_mem_read(&mem, 0x11000 - 16, buf, 16), 0);
    close(keep);
}

/* A copy stops exactly at LEN, also when the region has more bytes left. */
static void test_copy_exact_length(void)
{
    uint8_t buf[8];
    int keep = sync_one(0x10000, 4 * KIB, 0);
    const uint64_t end = 0x11000;

    CU_ASSERT_FATAL(keep >= 0);
    memset(buf, 0xcc, sizeof(buf));
    UT_EQ(ob_mem_read(&mem, end - 5, buf, 4), 0);
    UT_EQ(buf[3], (uint8_t)(4 * KIB - 2));
    UT_EQ(buf[4], 0xcc);
    memset(buf, 0xee, sizeof(buf));
    UT_EQ(ob_mem_write(&mem, end - 5, buf, 4), 0);
    UT_EQ(file_byte(keep, 4 * KIB - 2), 0xee);
    UT_EQ(file_byte(keep, 4 * KIB - 1), 0xff);
    UT_EQ(file_byte(keep, 4 * KIB - 6), 0xfa);
    close(keep);
}

static void test_len_zero(void)
{
    uint8_t b = 0x77;
    int keep = sync_one(0x10000, 4 * KIB, 0);

    CU_ASSERT_FATAL(keep >= 0);
    UT_EQ(ob_mem_read(&mem, 0x10000, &b, 0), 0);
    UT_EQ(ob_mem_write(&mem, 0x10000, &b, 0), 0);
    UT_EQ(b, 0x77);
    UT_EQ(file_byte(keep, 0), 0);
    UT_EQ(mem.faults, 0);
    close(keep);
}

static void test_gpa_plus_len_overflow(void)
{
    uint8_t buf[16];
    int keep = sync_one(0, 4 * KIB, 0);

    CU_ASSERT_FATAL(keep >= 0);
    UT_EQ(ob_mem_read(&mem, UINT64_MAX, buf, 2), -1);
    UT_EQ(ob_mem_read(&mem, UINT64_MAX - 7, buf, 16), -1);
    UT_EQ(ob_mem_write(&mem, UINT64_MAX - 3, buf, 8), -1);
    UT_EQ(ob_mem_read(&mem, 1, buf, SIZE_MAX), -1);
    UT_EQ(mem.faults, 4);
    CU_ASSERT_PTR_NULL(ob_mem_ptr(&mem, UINT64_MAX, 2));
    close(keep);
}

static void test_no_table(void)
{
    uint8_t b;

    CU_ASSERT_PTR_NULL(mem.cur);
    UT_EQ(ob_mem_read(&mem, 0, &b, 1), -1);
    UT_EQ(ob_mem_write(&mem, 0x1000, &b, 1), -1);
    UT_EQ(mem.faults, 2);
    CU_ASSERT_PTR_NULL(ob_mem_ptr(&mem, 0, 1));
}

static void test_size_not_a_page_multiple(void)
{
    uint8_t b;
    int keep = sync_one(0x40000, 6 * KIB, 3);

    CU_ASSERT_FATAL(keep >= 0);
    UT_EQ(mem.cur->r[0].size, 6 * KIB);
    CU_ASSERT(mem.cur->r[0].map_len >= 6 * KIB);
    UT_EQ(mem.cur->r[0].map_len % page_size(), 0);
    UT_EQ(ob_mem_read(&mem, 0x40000 + 6 * KIB - 1, &b, 1), 0);
    UT_EQ(b, (uint8_t)(3 + 6 * KIB - 1));
    /* the rounding of the mapping is not RAM */
    UT_EQ(ob_mem_read(&mem, 0x40000 + 6 * KIB, &b, 1), -1);
    close(keep);
}

static void test_eight_regions(void)
{
    struct ob_mem_desc d[OB_MEM_MAX_REGIONS];
    char err[200] = "";
    unsigned i;
    uint8_t b;

    for (i = 0; i < OB_MEM_MAX_REGIONS; i++) {
        d[i] = desc(UINT64_C(0x100000) * i, 4 * KIB, 0, pattern_memfd(4 * KIB, (uint8_t)i));
        CU_ASSERT_FATAL(d[i].fd >= 0);
    }
    UT_EQ_FATAL(ob_mem_sync(&mem, d, OB_MEM_MAX_REGIONS, err, sizeof(err)), 0);
    UT_EQ(mem.cur->n, 8);
    for (i = 0; i < OB_MEM_MAX_REGIONS; i++) {
        CU_ASSERT_FALSE(ut_fd_is_open(d[i].fd));
        UT_EQ(ob_mem_read(&mem, UINT64_C(0x100000) * i + 5, &b, 1), 0);
        UT_EQ(b, i + 5);
    }
}

/* ---- validation --------------------------------------------------------- */

/* Syncs D[0..N-1], which must fail; checks that the table in force before
 * (the 16 KiB region at 0x80000 every validation test starts with) stays,
 * and that every fd given was closed. */
static void expect_rejected_why(const struct ob_mem_desc *d, unsigned n, const char *why)
{
    struct ob_mem_table *before = mem.cur;
    uint64_t remaps = mem.remaps, syncs = mem.syncs;
    char err[200] = "";
    uint8_t b = 0;
    unsigned i;

    UT_EQ(ob_mem_sync(&mem, d, n, err, sizeof(err)), -1);
    CU_ASSERT(err[0] != '\0');
    if (why && !strstr(err, why)) {
        UT_STREQ(err, why);     /* shows the message that came instead */
    }
    CU_ASSERT_PTR_EQUAL(mem.cur, before);
    UT_EQ(mem.remaps, remaps);
    UT_EQ(mem.syncs, syncs + 1);
    UT_EQ(ob_mem_read(&mem, 0x80000 + 7, &b, 1), 0);
    UT_EQ(b, 0x47);
    for (i = 0; i < n; i++) {
        char expr[64];

        snprintf(expr, sizeof(expr), "fd of region %u closed", i);
        CU_assertImplementation(d[i].fd < 0 || !ut_fd_is_open(d[i].fd), __LINE__,
                                expr, __FILE__, "", CU_FALSE);
    }
}

static void expect_rejected(const struct ob_mem_desc *d, unsigned n)
{
    expect_rejected_why(d, n, NULL);
}

static bool start_validation_test(void)
{
    int keep = sync_one(0x80000, 16 * KIB, 0x40);

    if (keep < 0) {
        return false;
    }
    close(keep);
    return true;
}

static void test_reject_size_zero(void)
{
    struct ob_mem_desc d;

    CU_ASSERT_TRUE_FATAL(start_validation_test());
    d = desc(0x200000, 0, 0, ut_memfd(4 * KIB));
    expect_rejected(&d, 1);
}

static void test_reject_unaligned_or_negative_offset(void)
{
    struct ob_mem_desc d;

    CU_ASSERT_TRUE_FATAL(start_validation_test());
    /* refused by validation, not by mmap() failing on it */
    d = desc(0x200000, 4 * KIB, 0x800, ut_memfd(16 * KIB));
    expect_rejected_why(&d, 1, "not page aligned");
    d = desc(0x200000, 4 * KIB, 1, ut_memfd(16 * KIB));
    expect_rejected_why(&d, 1, "not page aligned");
    d = desc(0x200000, 4 * KIB, -(int64_t)page_size(), ut_memfd(16 * KIB));
    expect_rejected(&d, 1);
}

static void test_reject_past_file_end(void)
{
    struct ob_mem_desc d;

    CU_ASSERT_TRUE_FATAL(start_validation_test());
    d = desc(0x200000, 8 * KIB, 0, ut_memfd(4 * KIB));
    expect_rejected(&d, 1);
    d = desc(0x200000, 4 * KIB, (int64_t)page_size(), ut_memfd(4 * KIB));
    expect_rejected(&d, 1);
    d = desc(0x200000, UINT64_MAX - 0xfff, 0x1000, ut_memfd(4 * KIB));
    expect_rejected(&d, 1);
    d = desc(0x200000, 4 * KIB, 0, ut_memfd(0));
    expect_rejected(&d, 1);
}

static void test_reject_range_overflow(void)
{
    struct ob_mem_desc d;

    CU_ASSERT_TRUE_FATAL(start_validation_test());
    d = desc(UINT64_MAX - 0xfff, 8 * KIB, 0, ut_memfd(8 * KIB));
    expect_rejected(&d, 1);
}

static void test_reject_overlap(void)
{
    struct ob_mem_desc d[3];

    CU_ASSERT_TRUE_FATAL(start_validation_test());
    d[0] = desc(0x200000, 8 * KIB, 0, ut_memfd(8 * KIB));
    d[1] = desc(0x201000, 8 * KIB, 0, ut_memfd(8 * KIB));
    expect_rejected(d, 2);
    /* identical start */
    d[0] = desc(0x200000, 4 * KIB, 0, ut_memfd(8 * KIB));
    d[1] = desc(0x300000, 4 * KIB, 0, ut_memfd(8 * KIB));
    d[2] = desc(0x200000, 4 * KIB, 0, ut_memfd(8 * KIB));
    expect_rejected(d, 3);
    /* one inside the other */
    d[0] = desc(0x201000, 4 * KIB, 0, ut_memfd(8 * KIB));
    d[1] = desc(0x200000, 64 * KIB, 0, ut_memfd(64 * KIB));
    expect_rejected(d, 2);
}

static void test_reject_not_a_regular_file(void)
{
    struct ob_mem_desc d[2];
    int p[2];

    CU_ASSERT_TRUE_FATAL(start_validation_test());
    CU_ASSERT_FATAL(pipe(p) == 0);
    close(p[1]);
    d[0] = desc(0x200000, 4 * KIB, 0, p[0]);
    expect_rejected_why(d, 1, "not a memory file");
    d[0] = desc(0x200000, 4 * KIB, 0, eventfd(0, EFD_CLOEXEC));
    expect_rejected_why(d, 1, "not a memory file");
    /* a directory has a size, but is no memory either */
    d[0] = desc(0x200000, 4 * KIB, 0, open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    expect_rejected_why(d, 1, "not a memory file");
    /* one bad region spoils the table, and the good fd is closed too */
    d[0] = desc(0x200000, 4 * KIB, 0, ut_memfd(4 * KIB));
    d[1] = desc(0x300000, 4 * KIB, 0, eventfd(0, EFD_CLOEXEC));
    expect_rejected(d, 2);
}

static void test_reject_bad_fd(void)
{
    struct ob_mem_desc d;
    int fd = ut_memfd(4 * KIB);

    CU_ASSERT_TRUE_FATAL(start_validation_test());
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    d = desc(0x200000, 4 * KIB, 0, fd);
    expect_rejected(&d, 1);
    d = desc(0x200000, 4 * KIB, 0, -1);
    expect_rejected(&d, 1);
}

static void test_reject_zero_regions(void)
{
    struct ob_mem_desc d = desc(0, 0, 0, -1);

    CU_ASSERT_TRUE_FATAL(start_validation_test());
    expect_rejected(&d, 0);
}

/* "Takes ownership of every fd in D, whatever the outcome" (mem.h). */
static void test_reject_nine_regions_closes_all_fds(void)
{
    struct ob_mem_desc d[OB_MEM_MAX_REGIONS + 1];
    unsigned i;

    CU_ASSERT_TRUE_FATAL(start_validation_test());
    for (i = 0; i < OB_MEM_MAX_REGIONS + 1; i++) {
        d[i] = desc(UINT64_C(0x1000000) * (i + 1), 4 * KIB, 0, ut_memfd(4 * KIB));
        CU_ASSERT_FATAL(d[i].fd >= 0);
    }
    expect_rejected(d, OB_MEM_MAX_REGIONS + 1);
    /* don't leak it if the module did not close it */
    if (ut_fd_is_open(d[OB_MEM_MAX_REGIONS].fd)) {
        close(d[OB_MEM_MAX_REGIONS].fd);
    }
}

/* ---- re-sync ------------------------------------------------------------ */

static void test_identical_resync_keeps_mapping(void)
{
    int keep = sync_one(0x100000, 16 * KIB, 0);
    struct ob_mem_table *t = mem.cur;
    uint8_t *host;
    struct ob_mem_desc d;
    char err[200] = "";

    CU_ASSERT_FATAL(keep >= 0);
    host = t->r[0].host;
    /* the proxy sends a new fd number for the same file every time */
    d = desc(0x100000, 16 * KIB, 0, dup(keep));
    CU_ASSERT_FATAL(d.fd >= 0);
    UT_EQ(ob_mem_sync(&mem, &d, 1, err, sizeof(err)), 0);
    CU_ASSERT_PTR_EQUAL(mem.cur, t);
    CU_ASSERT_PTR_EQUAL(mem.cur->r[0].host, host);
    UT_EQ(mem.remaps, 1);
    UT_EQ(mem.syncs, 2);
    CU_ASSERT_FALSE(ut_fd_is_open(d.fd));
    close(keep);
}

static void test_changed_resync_remaps(void)
{
    int keep = sync_one(0x100000, 16 * KIB, 0);
    struct ob_mem_table *t = mem.cur;
    struct ob_mem_desc d;
    char err[200] = "";
    uint8_t b;

    CU_ASSERT_FATAL(keep >= 0);
    /* same file, new guest address */
    d = desc(0x200000, 16 * KIB, 0, dup(keep));
    UT_EQ_FATAL(ob_mem_sync(&mem, &d, 1, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_EQUAL(mem.cur, t);
    UT_EQ(mem.remaps, 2);
    CU_ASSERT_FALSE(ut_fd_is_open(d.fd));
    UT_EQ(ob_mem_read(&mem, 0x100000, &b, 1), -1);
    UT_EQ(ob_mem_read(&mem, 0x200001, &b, 1), 0);
    UT_EQ(b, 1);
    /* same layout, another file */
    t = mem.cur;
    d = desc(0x200000, 16 * KIB, 0, pattern_memfd(16 * KIB, 0x30));
    UT_EQ_FATAL(ob_mem_sync(&mem, &d, 1, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_EQUAL(mem.cur, t);
    UT_EQ(mem.remaps, 3);
    UT_EQ(ob_mem_read(&mem, 0x200001, &b, 1), 0);
    UT_EQ(b, 0x31);
    close(keep);
}

static void test_pin_keeps_old_table_mapped(void)
{
    int keep = sync_one(0x100000, 16 * KIB, 0x20);
    struct ob_mem_table *old;
    struct ob_mem_desc d;
    char err[200] = "";
    uint8_t b;

    CU_ASSERT_FATAL(keep >= 0);
    old = ob_mem_pin(&mem);
    CU_ASSERT_PTR_EQUAL_FATAL(old, mem.cur);
    UT_EQ(old->refs, 2);
    d = desc(0x100000, 16 * KIB, 0, pattern_memfd(16 * KIB, 0x60));
    UT_EQ_FATAL(ob_mem_sync(&mem, &d, 1, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_EQUAL(mem.cur, old);
    UT_EQ(old->refs, 1);
    /* in-flight I/O still reads and writes the old memory */
    UT_EQ(old->r[0].host[5], 0x25);
    old->r[0].host[6] = 0xee;
    UT_EQ(file_byte(keep, 6), 0xee);
    /* while new DMA sees the new table */
    UT_EQ(ob_mem_read(&mem, 0x100005, &b, 1), 0);
    UT_EQ(b, 0x65);
    ob_mem_unpin(old);
    close(keep);
}

static void test_pin_survives_clear(void)
{
    int keep = sync_one(0x100000, 16 * KIB, 0x20);
    struct ob_mem_table *t, *t2;
    uint8_t b;

    CU_ASSERT_FATAL(keep >= 0);
    t = ob_mem_pin(&mem);
    t2 = ob_mem_pin(&mem);
    CU_ASSERT_PTR_EQUAL(t, t2);
    UT_EQ(t->refs, 3);
    ob_mem_clear(&mem);
    CU_ASSERT_PTR_NULL(mem.cur);
    UT_EQ(ob_mem_read(&mem, 0x100000, &b, 1), -1);
    UT_EQ(t->refs, 2);
    UT_EQ(t->r[0].host[1], 0x21);
    ob_mem_unpin(t2);
    UT_EQ(t->refs, 1);
    UT_EQ(t->r[0].host[2], 0x22);
    ob_mem_unpin(t);
    /* pinning nothing gives nothing; unpinning NULL is harmless */
    CU_ASSERT_PTR_NULL(ob_mem_pin(&mem));
    ob_mem_unpin(NULL);
    close(keep);
}

/* ---- ob_mem_ptr ------------------------------------------------------- */

static void test_mem_ptr(void)
{
    int keep = sync_one(0x100000, 16 * KIB, 0);
    uint8_t *p;

    CU_ASSERT_FATAL(keep >= 0);
    p = ob_mem_ptr(&mem, 0x100010, 16);
    CU_ASSERT_PTR_EQUAL(p, mem.cur->r[0].host + 0x10);
    UT_EQ(p ? p[0] : 0, 0x10);
    CU_ASSERT_PTR_NOT_NULL(ob_mem_ptr(&mem, 0x100000, 16 * KIB));
    CU_ASSERT_PTR_NOT_NULL(ob_mem_ptr(&mem, 0x100000 + 16 * KIB - 1, 1));
    CU_ASSERT_PTR_NULL(ob_mem_ptr(&mem, 0x100000, 16 * KIB + 1));
    CU_ASSERT_PTR_NULL(ob_mem_ptr(&mem, 0x100000 + 16 * KIB - 1, 2));
    CU_ASSERT_PTR_NULL(ob_mem_ptr(&mem, 0x100000 + 16 * KIB, 1));
    CU_ASSERT_PTR_NULL(ob_mem_ptr(&mem, 0xfffff, 1));
    CU_ASSERT_PTR_NULL(ob_mem_ptr(&mem, 0x100000, SIZE_MAX));
    close(keep);
}

static const struct ut_test tests[] = {
    UT_TEST(test_sync_one_region_read_write),
    UT_TEST(test_sync_two_regions_of_one_file),
    UT_TEST(test_dma_across_adjacent_regions),
    UT_TEST(test_dma_spanning_whole_table),
    UT_TEST(test_access_outside_faults),
    UT_TEST(test_straddling_the_end_fails),
    UT_TEST(test_copy_exact_length),
    UT_TEST(test_len_zero),
    UT_TEST(test_gpa_plus_len_overflow),
    UT_TEST(test_no_table),
    UT_TEST(test_size_not_a_page_multiple),
    UT_TEST(test_eight_regions),
    UT_TEST(test_reject_size_zero),
    UT_TEST(test_reject_unaligned_or_negative_offset),
    UT_TEST(test_reject_past_file_end),
    UT_TEST(test_reject_range_overflow),
    UT_TEST(test_reject_overlap),
    UT_TEST(test_reject_not_a_regular_file),
    UT_TEST(test_reject_bad_fd),
    UT_TEST(test_reject_zero_regions),
    UT_TEST(test_reject_nine_regions_closes_all_fds),
    UT_TEST(test_identical_resync_keeps_mapping),
    UT_TEST(test_changed_resync_remaps),
    UT_TEST(test_pin_keeps_old_table_mapped),
    UT_TEST(test_pin_survives_clear),
    UT_TEST(test_mem_ptr),
    UT_END,
};

int test_mem_register(void)
{
    static const struct ut_suite suite = { "mem", setup_mem, teardown_mem, tests };

    return ut_add_suite(&suite);
}
