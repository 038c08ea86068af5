/*
 * test_opts.c - QEMU's option syntax (core/opts.c): key=value lists,
 * implied keys, ",," escapes, bare keys, used-key tracking, and the bool
 * and u64 value parsers.
 */
#include <stdio.h>
#include <string.h>

#include "outboard/opts.h"
#include "ut.h"

/* Parses S (fatal on error) into O. */
static void parse_ok(struct ob_opts *o, const char *s, const char *implied)
{
    char err[200] = "";
    int rc = ob_opts_parse(o, "-device", s, implied, err, sizeof(err));

    if (rc != 0) {
        UT_STREQ(err, "");
    }
    UT_EQ_FATAL(rc, 0);
}

static void test_key_value_pairs(void)
{
    struct ob_opts o;

    parse_ok(&o, "id=lsi1,bus=pci.0,addr=3", NULL);
    UT_EQ(o.n, 3);
    UT_STREQ(ob_opts_peek(&o, "id"), "lsi1");
    UT_STREQ(ob_opts_peek(&o, "bus"), "pci.0");
    UT_STREQ(ob_opts_peek(&o, "addr"), "3");
    CU_ASSERT_PTR_NULL(ob_opts_peek(&o, "driver"));
    UT_STREQ(o.opt_name, "-device");
    UT_STREQ(o.src, "id=lsi1,bus=pci.0,addr=3");
    ob_opts_free(&o);
}

static void test_implied_key(void)
{
    struct ob_opts o;

    parse_ok(&o, "edu,id=e0", "driver");
    UT_STREQ(ob_opts_peek(&o, "driver"), "edu");
    UT_STREQ(ob_opts_peek(&o, "id"), "e0");
    UT_EQ(o.n, 2);
    ob_opts_free(&o);
    /* Only the first element may be the implied value; a later bare word
     * is a flag. */
    parse_ok(&o, "x-remote,nested", "type");
    UT_STREQ(ob_opts_peek(&o, "type"), "x-remote");
    UT_STREQ(ob_opts_peek(&o, "nested"), "on");
    ob_opts_free(&o);
    /* An explicit key=value first element is not taken as the implied one. */
    parse_ok(&o, "driver=edu,id=e1", "driver");
    UT_STREQ(ob_opts_peek(&o, "driver"), "edu");
    UT_EQ(o.n, 2);
    ob_opts_free(&o);
}

static void test_comma_escapes(void)
{
    struct ob_opts o;

    parse_ok(&o, "id=d0,file=a,,b.img,format=raw", NULL);
    UT_STREQ(ob_opts_peek(&o, "file"), "a,b.img");
    UT_STREQ(ob_opts_peek(&o, "format"), "raw");
    UT_EQ(o.n, 3);
    ob_opts_free(&o);
    parse_ok(&o, "we,,ird=x,,,,y", NULL);
    UT_STREQ(ob_opts_peek(&o, "we,ird"), "x,,y");
    UT_EQ(o.n, 1);
    ob_opts_free(&o);
    parse_ok(&o, "dri,,ver,id=a", "driver");
    UT_STREQ(ob_opts_peek(&o, "driver"), "dri,ver");
    ob_opts_free(&o);
    /* an escape at the very end */
    parse_ok(&o, "file=x,,", NULL);
    UT_STREQ(ob_opts_peek(&o, "file"), "x,");
    ob_opts_free(&o);
}

static void test_bare_key_means_on(void)
{
    struct ob_opts o;

    parse_ok(&o, "readonly,id=d0,snapshot", NULL);
    UT_STREQ(ob_opts_peek(&o, "readonly"), "on");
    UT_STREQ(ob_opts_peek(&o, "snapshot"), "on");
    UT_STREQ(ob_opts_peek(&o, "id"), "d0");
    ob_opts_free(&o);
}

static void test_empty_value_and_trailing_comma(void)
{
    struct ob_opts o;

    parse_ok(&o, "id=,file=f,", NULL);
    UT_STREQ(ob_opts_peek(&o, "id"), "");
    UT_STREQ(ob_opts_peek(&o, "file"), "f");
    UT_EQ(o.n, 2);
    ob_opts_free(&o);
    parse_ok(&o, "", NULL);
    UT_EQ(o.n, 0);
    CU_ASSERT_PTR_NULL(ob_opts_first_unused(&o));
    ob_opts_free(&o);
}

static void test_repeated_key_keeps_last(void)
{
    struct ob_opts o;

    parse_ok(&o, "id=a,addr=1,id=b,id=c", NULL);
    UT_EQ(o.n, 2);
    UT_STREQ(ob_opts_peek(&o, "id"), "c");
    UT_STREQ(ob_opts_peek(&o, "addr"), "1");
    ob_opts_free(&o);
    parse_ok(&o, "edu,driver=lsi53c895a", "driver");
    UT_STREQ(ob_opts_peek(&o, "driver"), "lsi53c895a");
    ob_opts_free(&o);
}

static void expect_parse_error(const char *s, const char *implied, const char *want)
{
    struct ob_opts o;
    char err[200] = "";

    memset(&o, 0x5a, sizeof(o));
    UT_EQ(ob_opts_parse(&o, "-drive", s, implied, err, sizeof(err)), -1);
    UT_STREQ(err, want);
    /* *O is empty after an error (and freeing it again is harmless). */
    UT_EQ(o.n, 0);
    CU_ASSERT_PTR_NULL(o.v);
    ob_opts_free(&o);
}

static void test_empty_elements_rejected(void)
{
    expect_parse_error("id=a,=b", NULL, "Invalid parameter ''");
    expect_parse_error("=b", NULL, "Invalid parameter ''");
    expect_parse_error(",id=a", NULL, "Invalid parameter ''");
    expect_parse_error("edu,=x", "driver", "Invalid parameter ''");
}

static void test_get_marks_used(void)
{
    struct ob_opts o;

    parse_ok(&o, "edu,id=e0,dma_mask=0xff", "driver");
    UT_STREQ(ob_opts_first_unused(&o), "driver");
    /* peek does not consume */
    UT_STREQ(ob_opts_peek(&o, "driver"), "edu");
    UT_STREQ(ob_opts_first_unused(&o), "driver");
    UT_STREQ(ob_opts_get(&o, "driver"), "edu");
    UT_STREQ(ob_opts_first_unused(&o), "id");
    UT_STREQ(ob_opts_get(&o, "dma_mask"), "0xff");
    UT_STREQ(ob_opts_first_unused(&o), "id");
    CU_ASSERT_PTR_NULL(ob_opts_get(&o, "nope"));
    UT_STREQ(ob_opts_get(&o, "id"), "e0");
    CU_ASSERT_PTR_NULL(ob_opts_first_unused(&o));
    /* getting twice is fine */
    UT_STREQ(ob_opts_get(&o, "id"), "e0");
    ob_opts_free(&o);
    UT_EQ(o.n, 0);
}

static void test_parse_bool(void)
{
    static const char *const yes[] = { "on", "yes", "true", "y" };
    static const char *const no[] = { "off", "no", "false", "n" };
    static const char *const bad[] = { "1", "0", "", "ON", "On", "Yes", "TRUE",
                                       "enable", "of", "onn", " on", "on " };
    size_t i;
    bool b;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        b = false;
        UT_EQ(ob_parse_bool(yes[i], &b), 0);
        CU_ASSERT_TRUE(b);
        b = true;
        UT_EQ(ob_parse_bool(no[i], &b), 0);
        CU_ASSERT_FALSE(b);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        b = true;
        UT_EQ(ob_parse_bool(bad[i], &b), -1);
        CU_ASSERT_TRUE(b);     /* untouched on error */
    }
}

static void test_parse_u64_accepts(void)
{
    uint64_t v = 1;

    UT_EQ(ob_parse_u64("0", &v), 0);
    UT_EQ(v, 0);
    UT_EQ(ob_parse_u64("4096", &v), 0);
    UT_EQ(v, 4096);
    UT_EQ(ob_parse_u64("0x10", &v), 0);
    UT_EQ(v, 16);
    UT_EQ(ob_parse_u64("0XfFfFfFf", &v), 0);
    UT_EQ(v, 0xfffffff);
    UT_EQ(ob_parse_u64("010", &v), 0);       /* octal, as documented */
    UT_EQ(v, 8);
    UT_EQ(ob_parse_u64("18446744073709551615", &v), 0);
    UT_EQ(v, UINT64_MAX);
    UT_EQ(ob_parse_u64("0xffffffffffffffff", &v), 0);
    UT_EQ(v, UINT64_MAX);
}

/* S with control characters shown as \t, \n, \xNN. */
static const char *printable(const char *s, char *buf, size_t len)
{
    size_t n = 0;

    for (; *s && n + 5 < len; s++) {
        if (*s == '\t') {
            n += (size_t)snprintf(buf + n, len - n, "\\t");
        } else if (*s == '\n') {
            n += (size_t)snprintf(buf + n, len - n, "\\n");
        } else if ((unsigned char)*s < 0x20) {
            n += (size_t)snprintf(buf + n, len - n, "\\x%02x", (unsigned char)*s);
        } else {
            buf[n++] = *s;
        }
    }
    buf[n] = '\0';
    return buf;
}

static void expect_u64_rejected(const char *s)
{
    uint64_t v = 42;
    int rc = ob_parse_u64(s, &v);
    char expr[96], shown[48];

    snprintf(expr, sizeof(expr), "ob_parse_u64(\"%s\") fails",
             printable(s, shown, sizeof(shown)));
    ut_check_u64((uint64_t)rc, (uint64_t)-1, expr, __LINE__, __FILE__, false);
    snprintf(expr, sizeof(expr), "ob_parse_u64(\"%s\") leaves *out alone",
             printable(s, shown, sizeof(shown)));
    ut_check_u64(v, 42, expr, __LINE__, __FILE__, false);
}

static void test_parse_u64_rejects(void)
{
    static const char *const bad[] = {
        "", "-1", "-0", "+1", " 1", "1 ", "12x", "0x", "x10", "1.5", "08",
        "18446744073709551616", "0x10000000000000000", "99999999999999999999999",
        " -1",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_u64_rejected(bad[i]);
    }
    UT_EQ(ob_parse_u64(NULL, &(uint64_t){ 0 }), -1);
}

/* "no sign": a tab or newline must not let strtoull's whitespace skipping
 * and negation through (" 1" is already refused). */
static void test_parse_u64_rejects_leading_whitespace(void)
{
    expect_u64_rejected("\t1");
    expect_u64_rejected("\n-1");
    expect_u64_rejected("\t-1");
}

static const struct ut_test tests[] = {
    UT_TEST(test_key_value_pairs),
    UT_TEST(test_implied_key),
    UT_TEST(test_comma_escapes),
    UT_TEST(test_bare_key_means_on),
    UT_TEST(test_empty_value_and_trailing_comma),
    UT_TEST(test_repeated_key_keeps_last),
    UT_TEST(test_empty_elements_rejected),
    UT_TEST(test_get_marks_used),
    UT_TEST(test_parse_bool),
    UT_TEST(test_parse_u64_accepts),
    UT_TEST(test_parse_u64_rejects),
    UT_TEST(test_parse_u64_rejects_leading_whitespace),
    UT_END,
};

int test_opts_register(void)
{
    static const struct ut_suite suite = { "opts", NULL, NULL, tests };

    return ut_add_suite(&suite);
}
