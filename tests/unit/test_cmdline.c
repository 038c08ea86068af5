/*
 * test_cmdline.c - the x-remote argument vector (core/cmdline.c).
 */
#include <string.h>

#include "outboard/cmdline.h"
#include "ut.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

static int parse(struct ob_cmdline *cl, int argc, char **argv, char *err, size_t errlen)
{
    err[0] = '\0';
    return ob_cmdline_parse(cl, argc, argv, err, errlen);
}

/* The remote's command line used by the e2e harness (shared/e2e/README.md). */
static void test_e2e_vector(void)
{
    char *argv[] = {
        "outboard", "-machine", "x-remote",
        "-device", "lsi53c895a,id=lsi1",
        "-drive", "id=drive_image1,file=IMG,format=raw,if=none",
        "-device", "scsi-hd,id=drive1,drive=drive_image1,bus=lsi1.0,scsi-id=0",
        "-object", "x-remote-object,id=robj1,devid=lsi1,fd=4",
        "-nographic",
    };
    struct ob_cmdline cl;
    char err[256];

    UT_EQ_FATAL(parse(&cl, ARGC(argv), argv, err, sizeof(err)), 0);
    CU_ASSERT_TRUE(cl.have_machine);
    UT_STREQ(ob_opts_peek(&cl.machine, "type"), "x-remote");
    UT_EQ_FATAL(cl.ndevices, 2);
    UT_STREQ(ob_opts_peek(&cl.devices[0], "driver"), "lsi53c895a");
    UT_STREQ(ob_opts_peek(&cl.devices[0], "id"), "lsi1");
    UT_STREQ(ob_opts_peek(&cl.devices[1], "driver"), "scsi-hd");
    UT_STREQ(ob_opts_peek(&cl.devices[1], "id"), "drive1");
    UT_STREQ(ob_opts_peek(&cl.devices[1], "drive"), "drive_image1");
    UT_STREQ(ob_opts_peek(&cl.devices[1], "bus"), "lsi1.0");
    UT_STREQ(ob_opts_peek(&cl.devices[1], "scsi-id"), "0");
    UT_EQ_FATAL(cl.ndrives, 1);
    UT_STREQ(ob_opts_peek(&cl.drives[0], "id"), "drive_image1");
    UT_STREQ(ob_opts_peek(&cl.drives[0], "file"), "IMG");
    UT_STREQ(ob_opts_peek(&cl.drives[0], "format"), "raw");
    UT_STREQ(ob_opts_peek(&cl.drives[0], "if"), "none");
    UT_EQ(cl.drives[0].n, 4);
    UT_EQ_FATAL(cl.nobjects, 1);
    UT_STREQ(ob_opts_peek(&cl.objects[0], "qom-type"), "x-remote-object");
    UT_STREQ(ob_opts_peek(&cl.objects[0], "id"), "robj1");
    UT_STREQ(ob_opts_peek(&cl.objects[0], "devid"), "lsi1");
    UT_STREQ(ob_opts_peek(&cl.objects[0], "fd"), "4");
    CU_ASSERT_PTR_NULL(cl.log_file);
    CU_ASSERT_PTR_NULL(cl.log_spec);
    CU_ASSERT_FALSE(cl.help);
    CU_ASSERT_FALSE(cl.version);
    ob_cmdline_free(&cl);
    UT_EQ(cl.ndevices, 0);
    CU_ASSERT_FALSE(cl.have_machine);
}

static void test_machine_alias_and_last_wins(void)
{
    char *argv[] = { "outboard", "-M", "pc", "-M", "x-remote,auto-shutdown=off" };
    struct ob_cmdline cl;
    char err[256];

    UT_EQ_FATAL(parse(&cl, ARGC(argv), argv, err, sizeof(err)), 0);
    CU_ASSERT_TRUE(cl.have_machine);
    UT_STREQ(ob_opts_peek(&cl.machine, "type"), "x-remote");
    UT_STREQ(ob_opts_peek(&cl.machine, "auto-shutdown"), "off");
    UT_EQ(cl.machine.n, 2);
    ob_cmdline_free(&cl);
}

static void test_double_dash_options(void)
{
    char *argv[] = { "outboard", "--machine", "x-remote", "--device", "edu,id=e0",
                     "--object", "x-remote-object,id=o,devid=e0,fd=3", "--nodefaults" };
    struct ob_cmdline cl;
    char err[256];

    UT_EQ_FATAL(parse(&cl, ARGC(argv), argv, err, sizeof(err)), 0);
    UT_STREQ(ob_opts_peek(&cl.machine, "type"), "x-remote");
    UT_EQ_FATAL(cl.ndevices, 1);
    UT_STREQ(ob_opts_peek(&cl.devices[0], "driver"), "edu");
    UT_EQ(cl.nobjects, 1);
    ob_cmdline_free(&cl);
}

static void test_ignored_options(void)
{
    char *argv[] = { "outboard", "-nographic", "-display", "none", "-monitor", "none",
                     "-nodefaults", "-serial", "none", "-no-user-config",
                     "-name", "x", "-machine", "x-remote", "-parallel", "none",
                     "-vga", "none" };
    struct ob_cmdline cl;
    char err[256];

    UT_EQ_FATAL(parse(&cl, ARGC(argv), argv, err, sizeof(err)), 0);
    /* The arguments of ignored options are not mistaken for anything. */
    CU_ASSERT_TRUE(cl.have_machine);
    UT_STREQ(ob_opts_peek(&cl.machine, "type"), "x-remote");
    UT_EQ(cl.ndevices, 0);
    UT_EQ(cl.ndrives, 0);
    UT_EQ(cl.nobjects, 0);
    CU_ASSERT_PTR_NULL(cl.log_file);
    ob_cmdline_free(&cl);
}

static void test_log_options(void)
{
    char *argv[] = { "outboard", "-D", "/tmp/ob.log", "-d", "guest_errors,pci" };
    struct ob_cmdline cl;
    char err[256];

    UT_EQ_FATAL(parse(&cl, ARGC(argv), argv, err, sizeof(err)), 0);
    UT_STREQ(cl.log_file, "/tmp/ob.log");
    UT_STREQ(cl.log_spec, "guest_errors,pci");
    CU_ASSERT_FALSE(cl.have_machine);
    ob_cmdline_free(&cl);
}

static void test_help_and_version(void)
{
    char *help_long[] = { "outboard", "--help" };
    char *help_short[] = { "outboard", "-h" };
    char *help_single[] = { "outboard", "-help" };
    char *version[] = { "outboard", "--version" };
    struct ob_cmdline cl;
    char err[256];

    UT_EQ_FATAL(parse(&cl, ARGC(help_long), help_long, err, sizeof(err)), 0);
    CU_ASSERT_TRUE(cl.help);
    CU_ASSERT_FALSE(cl.version);
    ob_cmdline_free(&cl);
    UT_EQ_FATAL(parse(&cl, ARGC(help_short), help_short, err, sizeof(err)), 0);
    CU_ASSERT_TRUE(cl.help);
    ob_cmdline_free(&cl);
    UT_EQ_FATAL(parse(&cl, ARGC(help_single), help_single, err, sizeof(err)), 0);
    CU_ASSERT_TRUE(cl.help);
    ob_cmdline_free(&cl);
    UT_EQ_FATAL(parse(&cl, ARGC(version), version, err, sizeof(err)), 0);
    CU_ASSERT_TRUE(cl.version);
    CU_ASSERT_FALSE(cl.help);
    ob_cmdline_free(&cl);
}

static void test_empty_vector(void)
{
    char *argv[] = { "outboard" };
    struct ob_cmdline cl;
    char err[256];

    UT_EQ_FATAL(parse(&cl, ARGC(argv), argv, err, sizeof(err)), 0);
    CU_ASSERT_FALSE(cl.have_machine);
    UT_EQ(cl.ndevices + cl.ndrives + cl.nobjects, 0);
    ob_cmdline_free(&cl);
}

static void expect_error(int argc, char **argv, const char *want)
{
    struct ob_cmdline cl;
    char err[256];

    UT_EQ(parse(&cl, argc, argv, err, sizeof(err)), -1);
    UT_STREQ(err, want);
    /* Nothing is left allocated or half-filled. */
    UT_EQ(cl.ndevices + cl.ndrives + cl.nobjects, 0);
    CU_ASSERT_FALSE(cl.have_machine);
}

static void test_unknown_option(void)
{
    char *a1[] = { "outboard", "-foo" };
    char *a2[] = { "outboard", "-machine", "x-remote", "--foo", "bar" };
    char *a3[] = { "outboard", "-device", "edu", "-enable-kvm" };

    expect_error(ARGC(a1), a1, "-foo: invalid option");
    expect_error(ARGC(a2), a2, "--foo: invalid option");
    expect_error(ARGC(a3), a3, "-enable-kvm: invalid option");
}

static void test_missing_argument(void)
{
    char *a1[] = { "outboard", "-device" };
    char *a2[] = { "outboard", "-machine", "x-remote", "-object" };
    char *a3[] = { "outboard", "-D" };
    char *a4[] = { "outboard", "-display" };

    expect_error(ARGC(a1), a1, "-device: requires an argument");
    expect_error(ARGC(a2), a2, "-object: requires an argument");
    expect_error(ARGC(a3), a3, "-D: requires an argument");
    expect_error(ARGC(a4), a4, "-display: requires an argument");
}

static void test_bare_words_rejected(void)
{
    char *a1[] = { "outboard", "x-remote" };
    char *a2[] = { "outboard", "-machine", "x-remote", "-" };
    char *a3[] = { "outboard", "-nographic", "extra" };

    expect_error(ARGC(a1), a1, "x-remote: unexpected argument (options start with '-')");
    expect_error(ARGC(a2), a2, "-: unexpected argument (options start with '-')");
    expect_error(ARGC(a3), a3, "extra: unexpected argument (options start with '-')");
}

static void test_bad_option_value(void)
{
    char *a1[] = { "outboard", "-machine", "x-remote", "-device", "edu,=x" };
    char *a2[] = { "outboard", "-device", "edu", "-machine", "x-remote,=1" };

    expect_error(ARGC(a1), a1, "-device edu,=x: Invalid parameter ''");
    expect_error(ARGC(a2), a2, "-machine x-remote,=1: Invalid parameter ''");
}

static void test_usage_mentions_options(void)
{
    char buf[4096];
    FILE *fp = tmpfile();
    size_t n;

    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    ob_cmdline_usage(fp);
    rewind(fp);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "-machine x-remote"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "x-remote-object"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "--version"));
}

static const struct ut_test tests[] = {
    UT_TEST(test_e2e_vector),
    UT_TEST(test_machine_alias_and_last_wins),
    UT_TEST(test_double_dash_options),
    UT_TEST(test_ignored_options),
    UT_TEST(test_log_options),
    UT_TEST(test_help_and_version),
    UT_TEST(test_empty_vector),
    UT_TEST(test_unknown_option),
    UT_TEST(test_missing_argument),
    UT_TEST(test_bare_words_rejected),
    UT_TEST(test_bad_option_value),
    UT_TEST(test_usage_mentions_options),
    UT_END,
};

int test_cmdline_register(void)
{
    static const struct ut_suite suite = { "cmdline", NULL, NULL, tests };

    return ut_add_suite(&suite);
}
