/*
 * test_log.c - the log sink (core/log.c): -d category lists, -D files,
 * and filtering by category.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outboard/log.h"
#include "ut.h"

#define ALL_CATS (OB_LOGC_GUEST_ERROR | OB_LOGC_UNIMP | OB_LOGC_MPQEMU | OB_LOGC_PCI | \
                  OB_LOGC_IRQ | OB_LOGC_DMA | OB_LOGC_DEVICE | OB_LOGC_QMP)

static unsigned parse_ok(const char *spec)
{
    unsigned mask = 0xdead;
    char err[64] = "";

    ut_check_u64((uint64_t)ob_log_parse_mask(spec, &mask, err, sizeof(err)), 0,
                 spec, __LINE__, __FILE__, false);
    UT_STREQ(err, "");
    return mask;
}

static void expect_parse_error(const char *spec, const char *bad)
{
    unsigned mask = 0xdead;
    char err[64] = "";

    UT_EQ(ob_log_parse_mask(spec, &mask, err, sizeof(err)), -1);
    UT_STREQ(err, bad);
    UT_EQ(mask, 0xdead);
}

static void test_parse_known_categories(void)
{
    UT_EQ(parse_ok("guest_errors"), OB_LOGC_GUEST_ERROR);
    UT_EQ(parse_ok("unimp"), OB_LOGC_UNIMP);
    UT_EQ(parse_ok("mpqemu"), OB_LOGC_MPQEMU);
    UT_EQ(parse_ok("pci"), OB_LOGC_PCI);
    UT_EQ(parse_ok("irq"), OB_LOGC_IRQ);
    UT_EQ(parse_ok("dma"), OB_LOGC_DMA);
    UT_EQ(parse_ok("device"), OB_LOGC_DEVICE);
    UT_EQ(parse_ok("guest_errors,unimp"), OB_LOGC_GUEST_ERROR | OB_LOGC_UNIMP);
    UT_EQ(parse_ok("pci,irq,pci"), OB_LOGC_PCI | OB_LOGC_IRQ);
    UT_EQ(parse_ok(",dma,,"), OB_LOGC_DMA);
    UT_EQ(parse_ok(""), 0);
}

static void test_parse_all_none(void)
{
    UT_EQ(parse_ok("all"), ALL_CATS);
    UT_EQ(parse_ok("none"), 0);
    UT_EQ(parse_ok("pci,none"), 0);
    UT_EQ(parse_ok("none,pci"), OB_LOGC_PCI);
    UT_EQ(parse_ok("all,none,irq"), OB_LOGC_IRQ);
}

static void test_parse_trace_accepted(void)
{
    UT_EQ(parse_ok("trace:mpqemu_*"), 0);
    UT_EQ(parse_ok("pci,trace:lsi_reg_read,dma"), OB_LOGC_PCI | OB_LOGC_DMA);
    expect_parse_error("trace:", "trace:");
}

static void test_parse_unknown_rejected(void)
{
    expect_parse_error("bogus", "bogus");
    expect_parse_error("pci,bogus,irq", "bogus");
    expect_parse_error("PCI", "PCI");
    expect_parse_error("gues", "gues");
    expect_parse_error("guest_errors_x", "guest_errors_x");
    expect_parse_error("alll", "alll");
    expect_parse_error("pci=1", "pci=1");
}

/* A fresh, empty temporary file name under /tmp (unlinked by the caller). */
static bool temp_path(char *path, size_t len)
{
    int fd;

    snprintf(path, len, "/tmp/ob-unit-log-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) {
        return false;
    }
    close(fd);
    return true;
}

static void read_file(const char *path, char *buf, size_t len)
{
    FILE *fp = fopen(path, "r");
    size_t n = 0;

    if (fp) {
        n = fread(buf, 1, len - 1, fp);
        fclose(fp);
    }
    buf[n] = '\0';
}

static void test_open_file_and_write(void)
{
    struct ob_log lg;
    char path[64], text[2048];

    CU_ASSERT_TRUE_FATAL(temp_path(path, sizeof(path)));
    ob_log_init(&lg);
    CU_ASSERT_PTR_EQUAL(lg.fp, stderr);
    UT_EQ(lg.mask, 0);
    UT_EQ_FATAL(ob_log_open(&lg, path), 0);
    CU_ASSERT_TRUE(lg.own_fp);
    ob_err(&lg, "disk %d failed", 3);
    ob_warn(&lg, "slow %s", "device");
    ob_info(&lg, "plain line");
    /* line buffered: visible before close */
    read_file(path, text, sizeof(text));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "outboard "));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, ": error: disk 3 failed\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, ": warning: slow device\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, ": plain line\n"));
    ob_log_close(&lg);
    CU_ASSERT_PTR_EQUAL(lg.fp, stderr);
    CU_ASSERT_FALSE(lg.own_fp);
    /* -D appends */
    UT_EQ_FATAL(ob_log_open(&lg, path), 0);
    ob_info(&lg, "second run");
    ob_log_close(&lg);
    read_file(path, text, sizeof(text));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "disk 3 failed"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "second run"));
    unlink(path);
}

static void test_open_reopen_and_failure(void)
{
    struct ob_log lg;
    char a[64], b[64], text[1024];

    CU_ASSERT_TRUE_FATAL(temp_path(a, sizeof(a)));
    CU_ASSERT_TRUE_FATAL(temp_path(b, sizeof(b)));
    ob_log_init(&lg);
    UT_EQ_FATAL(ob_log_open(&lg, a), 0);
    /* a second open replaces (and closes) the first file */
    UT_EQ_FATAL(ob_log_open(&lg, b), 0);
    ob_info(&lg, "to b");
    /* a failed open keeps the current sink */
    UT_EQ(ob_log_open(&lg, "/nonexistent-dir/x.log"), -ENOENT);
    CU_ASSERT_TRUE(lg.own_fp);
    ob_info(&lg, "still b");
    ob_log_close(&lg);
    read_file(a, text, sizeof(text));
    UT_STREQ(text, "");
    read_file(b, text, sizeof(text));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "to b"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "still b"));
    unlink(a);
    unlink(b);
}

/* Counts evaluations of a log macro's arguments. */
static int side_effects;

static int count_call(void)
{
    return ++side_effects;
}

static void test_category_filtering(void)
{
    struct ob_log lg;
    char text[4096];

    CU_ASSERT_FATAL(ut_log_to_tmpfile(&lg) == 0);
    lg.mask = OB_LOGC_PCI | OB_LOGC_GUEST_ERROR;
    CU_ASSERT_TRUE(ob_log_enabled(&lg, OB_LOGC_PCI));
    CU_ASSERT_TRUE(ob_log_enabled(&lg, OB_LOGC_ALWAYS));
    CU_ASSERT_FALSE(ob_log_enabled(&lg, OB_LOGC_IRQ));
    CU_ASSERT_TRUE(ob_log_enabled(&lg, OB_LOGC_DMA | OB_LOGC_GUEST_ERROR));
    side_effects = 0;
    ob_logc(&lg, OB_LOGC_PCI, "pci line %d", 1);
    ob_logc(&lg, OB_LOGC_IRQ, "irq line %d", count_call());
    ob_logc(&lg, OB_LOGC_DMA, "dma line");
    ob_logc(&lg, OB_LOGC_DMA | OB_LOGC_GUEST_ERROR, "dma guest error");
    ob_logf(&lg, OB_LOG_DEBUG, OB_LOGC_UNIMP, "unimp line");
    ob_logf(&lg, OB_LOG_DEBUG, OB_LOGC_GUEST_ERROR, "guest line");
    ob_err(&lg, "always line");
    /* a disabled category does not evaluate its arguments */
    UT_EQ(side_effects, 0);
    ut_log_text(&lg, text, sizeof(text));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "pci line 1\n"));
    CU_ASSERT_PTR_NULL(strstr(text, "irq line"));
    CU_ASSERT_PTR_NULL(strstr(text, "dma line"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "dma guest error\n"));
    CU_ASSERT_PTR_NULL(strstr(text, "unimp line"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "guest line\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "error: always line\n"));
    ob_log_close(&lg);
}

static void test_mask_none_keeps_errors(void)
{
    struct ob_log lg;
    char text[1024];

    CU_ASSERT_FATAL(ut_log_to_tmpfile(&lg) == 0);
    lg.mask = parse_ok("none");
    ob_logc(&lg, OB_LOGC_MPQEMU, "wire");
    ob_warn(&lg, "warned");
    ut_log_text(&lg, text, sizeof(text));
    CU_ASSERT_PTR_NULL(strstr(text, "wire"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "warning: warned"));
    lg.mask = parse_ok("all");
    ob_logc(&lg, OB_LOGC_MPQEMU, "wire");
    ob_logc(&lg, OB_LOGC_DEVICE, "internals");
    ut_log_text(&lg, text, sizeof(text));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "wire"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "internals"));
    ob_log_close(&lg);
}

static void test_print_categories(void)
{
    static const char *const names[] = { "guest_errors", "unimp", "mpqemu", "pci",
                                         "irq", "dma", "device", "qmp", "all" };
    char text[2048];
    FILE *fp = tmpfile();
    size_t n, i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    ob_log_print_categories(fp);
    rewind(fp);
    n = fread(text, 1, sizeof(text) - 1, fp);
    text[n] = '\0';
    fclose(fp);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char line[64];

        snprintf(line, sizeof(line), "\n%s ", names[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
    }
}

static const struct ut_test tests[] = {
    UT_TEST(test_parse_known_categories),
    UT_TEST(test_parse_all_none),
    UT_TEST(test_parse_trace_accepted),
    UT_TEST(test_parse_unknown_rejected),
    UT_TEST(test_open_file_and_write),
    UT_TEST(test_open_reopen_and_failure),
    UT_TEST(test_category_filtering),
    UT_TEST(test_mask_none_keeps_errors),
    UT_TEST(test_print_categories),
    UT_END,
};

int test_log_register(void)
{
    static const struct ut_suite suite = { "log", NULL, NULL, tests };

    return ut_add_suite(&suite);
}
