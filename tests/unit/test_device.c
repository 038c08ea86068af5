/*
 * test_device.c - device types, properties and instances (core/device.c),
 * with a real loop context and the edu model as the registered type.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outboard/ctx.h"
#include "outboard/device.h"
#include "outboard/pci.h"
#include "ut.h"

/* ---- ob_prop_set on a private instance ---------------------------------- */

struct props_inst {
    char *str;
    bool flag;
    uint8_t u8;
    uint32_t u32;
    uint64_t u64;
    uint32_t devfn;
    uint16_t u16;
    int32_t i32;
    uint32_t size32;
    enum ob_on_off_auto ooa;
};

static const struct ob_prop test_props[] = {
    { "str", OB_PROP_STR, offsetof(struct props_inst, str), NULL, NULL },
    { "flag", OB_PROP_BOOL, offsetof(struct props_inst, flag), NULL, NULL },
    { "u8", OB_PROP_U8, offsetof(struct props_inst, u8), NULL, NULL },
    { "u32", OB_PROP_U32, offsetof(struct props_inst, u32), NULL, NULL },
    { "u64", OB_PROP_U64, offsetof(struct props_inst, u64), NULL, NULL },
    { "addr", OB_PROP_PCI_DEVFN, offsetof(struct props_inst, devfn), NULL, NULL },
    { "u16", OB_PROP_U16, offsetof(struct props_inst, u16), NULL, NULL },
    { "i32", OB_PROP_I32, offsetof(struct props_inst, i32), NULL, NULL },
    { "size", OB_PROP_SIZE32, offsetof(struct props_inst, size32), NULL, NULL },
    { "ooa", OB_PROP_ON_OFF_AUTO, offsetof(struct props_inst, ooa), NULL, NULL },
    OB_PROP_END,
};

static const struct ob_prop *prop(const char *name)
{
    const struct ob_prop *p;

    for (p = test_props; p->name; p++) {
        if (strcmp(p->name, name) == 0) {
            return p;
        }
    }
    return NULL;
}

static int set(struct props_inst *inst, const char *name, const char *val, char *err)
{
    err[0] = '\0';
    return ob_prop_set(inst, prop(name), val, err, 200);
}

static void test_prop_str(void)
{
    struct props_inst inst = { 0 };
    char err[200];

    UT_EQ(set(&inst, "str", "first", err), 0);
    UT_STREQ(inst.str, "first");
    /* setting again replaces (and frees) the old copy */
    UT_EQ(set(&inst, "str", "second,value", err), 0);
    UT_STREQ(inst.str, "second,value");
    UT_EQ(set(&inst, "str", "", err), 0);
    UT_STREQ(inst.str, "");
    free(inst.str);
}

static void test_prop_bool(void)
{
    struct props_inst inst = { 0 };
    char err[200];

    UT_EQ(set(&inst, "flag", "on", err), 0);
    CU_ASSERT_TRUE(inst.flag);
    UT_EQ(set(&inst, "flag", "off", err), 0);
    CU_ASSERT_FALSE(inst.flag);
    UT_EQ(set(&inst, "flag", "yes", err), 0);
    CU_ASSERT_TRUE(inst.flag);
    UT_EQ(set(&inst, "flag", "1", err), -1);
    UT_STREQ(err, "Parameter 'flag' expects 'on' or 'off'");
    CU_ASSERT_TRUE(inst.flag);
}

static void test_prop_u8_range(void)
{
    struct props_inst inst = { 0 };
    char err[200];

    UT_EQ(set(&inst, "u8", "255", err), 0);
    UT_EQ(inst.u8, 255);
    UT_EQ(set(&inst, "u8", "0x10", err), 0);
    UT_EQ(inst.u8, 16);
    UT_EQ(set(&inst, "u8", "256", err), -1);
    UT_STREQ(err, "Parameter 'u8' expects uint8");
    UT_EQ(inst.u8, 16);
    UT_EQ(set(&inst, "u8", "-1", err), -1);
    UT_EQ(inst.u8, 16);
    /* nothing next to the field was written */
    UT_EQ(inst.u32, 0);
    CU_ASSERT_FALSE(inst.flag);
}

static void test_prop_u32_range(void)
{
    struct props_inst inst = { 0 };
    char err[200];

    UT_EQ(set(&inst, "u32", "4294967295", err), 0);
    UT_EQ(inst.u32, UINT32_MAX);
    UT_EQ(inst.u64, 0);
    UT_EQ(set(&inst, "u32", "4294967296", err), -1);
    UT_STREQ(err, "Parameter 'u32' expects uint32");
    UT_EQ(inst.u32, UINT32_MAX);
    UT_EQ(set(&inst, "u32", "12ab", err), -1);
}

static void test_prop_u16_i32(void)
{
    struct props_inst inst = { 0 };
    char err[200];

    UT_EQ(set(&inst, "u16", "65535", err), 0);
    UT_EQ(inst.u16, 65535);
    UT_EQ(set(&inst, "u16", "65536", err), -1);
    UT_STREQ(err, "Parameter 'u16' expects uint16_t");
    UT_EQ(inst.u16, 65535);
    UT_EQ(set(&inst, "i32", "-2147483648", err), 0);
    UT_EQ(inst.i32, INT32_MIN);
    UT_EQ(set(&inst, "i32", "2147483647", err), 0);
    UT_EQ(inst.i32, INT32_MAX);
    UT_EQ(set(&inst, "i32", "2147483648", err), -1);
    UT_EQ(set(&inst, "i32", "-2147483649", err), -1);
    UT_EQ(set(&inst, "i32", "--1", err), -1);
    UT_EQ(set(&inst, "i32", "-", err), -1);
    UT_STREQ(err, "Parameter 'i32' expects int32_t");
    UT_EQ(inst.i32, INT32_MAX);
}

static void test_prop_size32(void)
{
    struct props_inst inst = { 0 };
    char err[200];

    UT_EQ(set(&inst, "size", "4096", err), 0);
    UT_EQ(inst.size32, 4096);
    UT_EQ(set(&inst, "size", "64k", err), 0);
    UT_EQ(inst.size32, 65536);
    UT_EQ(set(&inst, "size", "2M", err), 0);
    UT_EQ(inst.size32, 2u << 20);
    UT_EQ(set(&inst, "size", "512B", err), 0);
    UT_EQ(inst.size32, 512);
    UT_EQ(set(&inst, "size", "0x1b", err), 0);
    UT_EQ(inst.size32, 0x1b);
    UT_EQ(set(&inst, "size", "4294967295", err), 0);
    UT_EQ(inst.size32, UINT32_MAX);
    UT_EQ(set(&inst, "size", "4G", err), -1);
    UT_STREQ(err, "Property size doesn't take value 4294967296 (maximum: 4294967295)");
    UT_EQ(set(&inst, "size", "k", err), -1);
    UT_EQ(set(&inst, "size", "", err), -1);
    UT_EQ(set(&inst, "size", "1q", err), -1);
    UT_EQ(inst.size32, UINT32_MAX);
}

static void test_prop_on_off_auto(void)
{
    struct props_inst inst = { 0 };
    char err[200];

    UT_EQ(set(&inst, "ooa", "on", err), 0);
    UT_EQ(inst.ooa, OB_ON);
    UT_EQ(set(&inst, "ooa", "off", err), 0);
    UT_EQ(inst.ooa, OB_OFF);
    UT_EQ(set(&inst, "ooa", "auto", err), 0);
    UT_EQ(inst.ooa, OB_AUTO);
    UT_EQ(set(&inst, "ooa", "yes", err), -1);
    UT_STREQ(err, "Parameter 'ooa' does not accept value 'yes'");
}

static void test_prop_u64(void)
{
    struct props_inst inst = { 0 };
    char err[200];

    UT_EQ(set(&inst, "u64", "18446744073709551615", err), 0);
    UT_EQ(inst.u64, UINT64_MAX);
    UT_EQ(set(&inst, "u64", "0xfffffff", err), 0);
    UT_EQ(inst.u64, 0xfffffff);
    UT_EQ(set(&inst, "u64", "18446744073709551616", err), -1);
    UT_STREQ(err, "Parameter 'u64' expects uint64");
    UT_EQ(set(&inst, "u64", "", err), -1);
    UT_EQ(inst.u64, 0xfffffff);
}

static void expect_devfn(const char *val, uint32_t want)
{
    struct props_inst inst = { .devfn = 0xdead };
    char err[200];
    char expr[80];

    snprintf(expr, sizeof(expr), "addr=%s -> devfn", val);
    ut_check_u64((uint64_t)set(&inst, "addr", val, err), 0, expr, __LINE__, __FILE__, false);
    ut_check_u64(inst.devfn, want, expr, __LINE__, __FILE__, false);
}

static void expect_bad_devfn(const char *val)
{
    struct props_inst inst = { .devfn = 0xdead };
    char err[200], want[200];
    char expr[80];

    snprintf(expr, sizeof(expr), "addr=%s rejected", val);
    ut_check_u64((uint64_t)set(&inst, "addr", val, err), (uint64_t)-1, expr,
                 __LINE__, __FILE__, false);
    snprintf(want, sizeof(want), "Property 'addr' doesn't take value '%s'", val);
    UT_STREQ(err, want);
    UT_EQ(inst.devfn, 0xdead);
}

static void test_prop_pci_devfn(void)
{
    expect_devfn("3", 3 << 3);
    expect_devfn("3.1", 3 << 3 | 1);
    expect_devfn("1f.7", 0xff);
    expect_devfn("0", 0);
    expect_devfn("0.0", 0);
    expect_devfn("a", 10 << 3);
    expect_bad_devfn("20");
    expect_bad_devfn("3.8");
    expect_bad_devfn("x");
    expect_bad_devfn("");
    expect_bad_devfn("3.");
    expect_bad_devfn("3.1x");
    expect_bad_devfn("3x");
    expect_bad_devfn(".1");
}

/* ---- types -------------------------------------------------------------- */

static void test_devtype_find(void)
{
    const struct ob_devtype *t = ob_devtype_find("edu");

    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    UT_STREQ(t->name, "edu");
    UT_EQ(t->bus, OB_BUS_PCI);
    CU_ASSERT(t->instance_size >= sizeof(struct ob_pci_dev));
    CU_ASSERT_PTR_NOT_NULL(t->realize);
    CU_ASSERT_PTR_NOT_NULL(t->bus_ops);
    CU_ASSERT_PTR_NULL(ob_devtype_find("foo"));
    CU_ASSERT_PTR_NULL(ob_devtype_find(""));
    CU_ASSERT_PTR_NULL(ob_devtype_find("EDU"));
    CU_ASSERT_PTR_NULL(ob_devtype_find("ed"));
}

struct type_list {
    const char *names[64];
    unsigned n;
};

static void collect_type(const struct ob_devtype *t, void *opaque)
{
    struct type_list *l = opaque;

    if (l->n < 64) {
        l->names[l->n++] = t->name;
    }
}

static void test_devtype_foreach_sorted(void)
{
    struct type_list l = { .n = 0 };
    bool have_edu = false;
    unsigned i;

    ob_devtype_foreach(collect_type, &l);
    CU_ASSERT(l.n >= 1);
    for (i = 0; i < l.n; i++) {
        have_edu = have_edu || strcmp(l.names[i], "edu") == 0;
        if (i > 0) {
            CU_ASSERT(strcmp(l.names[i - 1], l.names[i]) < 0);
        }
    }
    CU_ASSERT_TRUE(have_edu);
}

static void test_devtype_help(void)
{
    char buf[4096];
    FILE *fp = tmpfile();
    size_t n;

    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    ob_devtype_print_help(fp, ob_devtype_find("edu"));
    rewind(fp);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "edu options:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "dma_mask=<uint64>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "(default: 0xfffffff)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "addr=<int32>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "multifunction=<bool>"));
}

/* ---- instances ---------------------------------------------------------- */

/* The CUnit fixture hooks take no argument, so the context is file-scope. */
static struct ob_ctx ctx;
static bool ctx_ok;

static void setup_ctx(void)
{
    ctx_ok = ut_ctx_open(&ctx) == 0;
}

static void teardown_ctx(void)
{
    if (ctx_ok) {
        ob_ctx_fini(&ctx);
    }
    ctx_ok = false;
}

static unsigned count_devices(void)
{
    struct ob_device *d;
    unsigned n = 0;

    for (d = ctx.devices; d; d = d->next) {
        n++;
    }
    return n;
}

/* The value of a u64 property, read through the type's own table. */
static uint64_t prop_u64(struct ob_device *d, const char *name)
{
    const struct ob_prop *p;

    for (p = d->type->props; p && p->name; p++) {
        if (strcmp(p->name, name) == 0 && p->kind == OB_PROP_U64) {
            uint64_t v;

            memcpy(&v, (uint8_t *)d + p->offset, sizeof(v));
            return v;
        }
    }
    CU_FAIL("no such u64 property");
    return 0;
}

static void test_create_edu(void)
{
    struct ob_device *d = NULL;
    char err[200] = "";

    CU_ASSERT_TRUE_FATAL(ctx_ok);
    UT_EQ(ut_device_create(&ctx, "edu,id=e0", &d, err, sizeof(err)), 0);
    UT_STREQ(err, "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    UT_STREQ(d->type->name, "edu");
    UT_STREQ(d->id, "e0");
    CU_ASSERT_PTR_EQUAL(d->ctx, &ctx);
    CU_ASSERT_TRUE(d->realized);
    CU_ASSERT_PTR_EQUAL(ctx.devices, d);
    CU_ASSERT_PTR_EQUAL(ob_device_find(&ctx, "e0"), d);
    CU_ASSERT_PTR_NULL(ob_device_find(&ctx, "e1"));
    UT_EQ(prop_u64(d, "dma_mask"), 0xfffffff);
    /* the PCI bus properties' defaults */
    CU_ASSERT_FALSE(ob_pci_from_dev(d)->multifunction);
}

static void test_create_with_properties(void)
{
    struct ob_device *d = NULL;
    char err[200] = "";

    CU_ASSERT_TRUE_FATAL(ctx_ok);
    UT_EQ_FATAL(ut_device_create(&ctx, "edu,dma_mask=0xffffffffff,addr=4.2,multifunction=on",
                                 &d, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NULL(d->id);
    UT_EQ(prop_u64(d, "dma_mask"), 0xffffffffff);
    UT_EQ(ob_pci_from_dev(d)->devfn, 4 << 3 | 2);
    CU_ASSERT_TRUE(ob_pci_from_dev(d)->multifunction);
    UT_EQ(ob_pci_config_read(ob_pci_from_dev(d), OB_PCI_HEADER_TYPE, 1), 0x80);
}

static void expect_create_error(const char *spec, const char *want)
{
    struct ob_device *d = NULL;
    unsigned before = count_devices();
    char err[200] = "";

    UT_EQ(ut_device_create(&ctx, spec, &d, err, sizeof(err)), -1);
    UT_STREQ(err, want);
    CU_ASSERT_PTR_NULL(d);
    UT_EQ(count_devices(), before);
}

static void test_create_pci_common_properties(void)
{
    struct ob_device *d = NULL;
    struct ob_pci_dev *pd;
    char err[200] = "";

    CU_ASSERT_TRUE_FATAL(ctx_ok);
    /* QEMU's defaults */
    UT_EQ_FATAL(ut_device_create(&ctx, "lsi53c895a,id=l0", &d, err, sizeof(err)), 0);
    pd = ob_pci_from_dev(d);
    UT_EQ(pd->rombar, 1);
    CU_ASSERT_PTR_NULL(pd->romfile);
    UT_EQ(pd->romsize, UINT32_MAX);
    UT_EQ(pd->acpi_index, 0);
    CU_ASSERT_PTR_NULL(pd->failover_pair_id);
    CU_ASSERT_TRUE(pd->x_pcie_extcap_init);
    CU_ASSERT_TRUE(pd->x_pcie_lnksta_dllla);
    /* what libvirt passes for <rom bar='off'/> and <rom enabled='no'/>, and
     * the rest */
    UT_EQ_FATAL(ut_device_create(&ctx, "lsi53c895a,id=l1,rombar=0,romfile=,romsize=65536,"
                                 "acpi-index=7,x-pcie-extcap-init=off,"
                                 "x-pcie-lnksta-dllla=off", &d, err, sizeof(err)), 0);
    pd = ob_pci_from_dev(d);
    UT_EQ(pd->rombar, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pd->romfile);
    UT_STREQ(pd->romfile, "");
    UT_EQ(pd->romsize, 65536);
    UT_EQ(pd->acpi_index, 7);
    CU_ASSERT_FALSE(pd->x_pcie_extcap_init);
    CU_ASSERT_FALSE(pd->x_pcie_lnksta_dllla);
    /* no ROM BAR in the header either way */
    UT_EQ(ob_pci_config_read(pd, 0x30, 4), 0);
    /* edu shares them */
    UT_EQ_FATAL(ut_device_create(&ctx, "edu,id=e9,rombar=0,acpi-index=3", &d, err,
                                 sizeof(err)), 0);
    UT_EQ(ob_pci_from_dev(d)->acpi_index, 3);
    /* what outboard cannot honour, or QEMU refuses */
    expect_create_error("lsi53c895a,id=b1,romfile=efi-e1000.rom",
                        "romfile=efi-e1000.rom: outboard serves no option ROM; "
                        "use romfile= (empty) or leave it out");
    expect_create_error("lsi53c895a,id=b2,romsize=3", "ROM size 3 is not a power of two");
    expect_create_error("lsi53c895a,id=b3,romsize=0", "ROM size 0 is not a power of two");
    expect_create_error("lsi53c895a,id=b4,failover_pair_id=net0",
                        "failover primary device is not an Ethernet device");
    expect_create_error("lsi53c895a,id=b5,x-pcie-extcap-init=maybe",
                        "lsi53c895a.x-pcie-extcap-init: Parameter 'x-pcie-extcap-init' "
                        "expects 'on' or 'off'");
    CU_ASSERT_PTR_NULL(ob_device_find(&ctx, "b1"));
}

static void test_create_keeps_order_and_allows_no_id(void)
{
    struct ob_device *a = NULL, *b = NULL, *c = NULL;
    char err[200];

    CU_ASSERT_TRUE_FATAL(ctx_ok);
    UT_EQ_FATAL(ut_device_create(&ctx, "edu", &a, err, sizeof(err)), 0);
    UT_EQ_FATAL(ut_device_create(&ctx, "edu", &b, err, sizeof(err)), 0);
    UT_EQ_FATAL(ut_device_create(&ctx, "edu,id=c", &c, err, sizeof(err)), 0);
    CU_ASSERT_PTR_EQUAL(ctx.devices, a);
    CU_ASSERT_PTR_EQUAL(a->next, b);
    CU_ASSERT_PTR_EQUAL(b->next, c);
    CU_ASSERT_PTR_NULL(c->next);
    ob_device_destroy_all(&ctx);
    CU_ASSERT_PTR_NULL(ctx.devices);
}


static void test_create_errors(void)
{
    CU_ASSERT_TRUE_FATAL(ctx_ok);
    expect_create_error("foo", "unknown device type 'foo'");
    expect_create_error("foo,id=x", "unknown device type 'foo'");
    expect_create_error("edu,bogus=1", "Property 'edu.bogus' not found");
    expect_create_error("edu,id=z,bus=pci.0", "Property 'edu.bus' not found");
    expect_create_error("id=x", "Parameter 'driver' is missing");
    expect_create_error("edu,dma_mask=zz", "edu.dma_mask: Parameter 'dma_mask' expects uint64");
    expect_create_error("edu,addr=20", "edu.addr: Property 'addr' doesn't take value '20'");
    expect_create_error("edu,multifunction=maybe",
                        "edu.multifunction: Parameter 'multifunction' expects 'on' or 'off'");
    /* none of the failed ids was registered */
    CU_ASSERT_PTR_NULL(ob_device_find(&ctx, "x"));
    CU_ASSERT_PTR_NULL(ob_device_find(&ctx, "z"));
}

static void test_create_duplicate_id(void)
{
    struct ob_device *d = NULL;
    char err[200];

    CU_ASSERT_TRUE_FATAL(ctx_ok);
    UT_EQ_FATAL(ut_device_create(&ctx, "edu,id=e0", &d, err, sizeof(err)), 0);
    expect_create_error("edu,id=e0", "Duplicate device ID 'e0'");
    UT_EQ(count_devices(), 1);
    CU_ASSERT_PTR_EQUAL(ob_device_find(&ctx, "e0"), d);
}

static void test_create_without_out_pointer(void)
{
    char err[200];

    CU_ASSERT_TRUE_FATAL(ctx_ok);
    UT_EQ(ut_device_create(&ctx, "edu,id=e9", NULL, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(ob_device_find(&ctx, "e9"));
}

static const struct ut_test tests[] = {
    UT_TEST(test_prop_str),
    UT_TEST(test_prop_bool),
    UT_TEST(test_prop_u8_range),
    UT_TEST(test_prop_u32_range),
    UT_TEST(test_prop_u64),
    UT_TEST(test_prop_u16_i32),
    UT_TEST(test_prop_size32),
    UT_TEST(test_prop_on_off_auto),
    UT_TEST(test_prop_pci_devfn),
    UT_TEST(test_devtype_find),
    UT_TEST(test_devtype_foreach_sorted),
    UT_TEST(test_devtype_help),
    UT_TEST(test_create_edu),
    UT_TEST(test_create_with_properties),
    UT_TEST(test_create_pci_common_properties),
    UT_TEST(test_create_keeps_order_and_allows_no_id),
    UT_TEST(test_create_errors),
    UT_TEST(test_create_duplicate_id),
    UT_TEST(test_create_without_out_pointer),
    UT_END,
};

int test_device_register(void)
{
    static const struct ut_suite suite = { "device", setup_ctx, teardown_ctx, tests };

    return ut_add_suite(&suite);
}
