/*
 * test_mpqemu.c - the mpqemu codec (net/mpqemu.c): header parsing, decoding
 * and validation of every message, the encoders against the byte-exact hex
 * dumps of mpqemu-protocol.md §2.5, and BAR address resolution.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "outboard/mpqemu.h"
#include "ut.h"

/* ---- helpers ---------------------------------------------------------- */

static struct ob_mpq_hdr make_hdr(int32_t cmd, uint64_t size)
{
    struct ob_mpq_hdr h = { .cmd = cmd, .pad = 0, .size = size };

    return h;
}

/* Decodes CMD with a payload of SIZE bytes from PAYLOAD and NFDS fake fds. */
static enum ob_mpq_status decode(int32_t cmd, const void *payload, uint64_t size,
                                 unsigned nfds, struct ob_mpq_msg *m)
{
    static const int fake_fds[16] = { 100, 101, 102, 103, 104, 105, 106, 107,
                                      108, 109, 110, 111, 112, 113, 114, 115 };
    uint8_t buf[OB_MPQ_MAX_PAYLOAD + 64];
    struct ob_mpq_hdr h = make_hdr(cmd, size);
    const char *why = NULL;
    enum ob_mpq_status st;

    memset(buf, 0, sizeof(buf));
    if (payload && size <= sizeof(buf)) {
        memcpy(buf, payload, (size_t)size);
    }
    st = ob_mpq_decode(&h, buf, fake_fds, nfds, m, &why);
    /* Every error names its reason; success leaves none. */
    CU_ASSERT(st == OB_MPQ_OK ? why == NULL : why != NULL);
    return st;
}

static struct ob_mpq_cfg make_cfg(uint32_t addr, uint32_t val, int32_t len)
{
    struct ob_mpq_cfg c = { .addr = addr, .val = val, .len = len };

    return c;
}

static struct ob_mpq_bar make_bar(uint64_t addr, uint64_t val, uint32_t size,
                                  uint8_t memory)
{
    struct ob_mpq_bar b;

    memset(&b, 0, sizeof(b));
    b.addr = addr;
    b.val = val;
    b.size = size;
    b.memory = memory;
    return b;
}

/* An error leaves the fds with the caller: none copied into the message. */
static void assert_no_fds_taken(const struct ob_mpq_msg *m)
{
    unsigned i;

    UT_EQ(m->nfds, 0);
    for (i = 0; i < OB_MPQ_MAX_FDS; i++) {
        CU_ASSERT(m->fds[i] < 100);
    }
}

static enum ob_mpq_status decode_cfg(int32_t cmd, uint32_t addr, int32_t len,
                                     struct ob_mpq_msg *m)
{
    struct ob_mpq_cfg c = make_cfg(addr, 0x11223344, len);

    return decode(cmd, &c, sizeof(c), 0, m);
}

static enum ob_mpq_status decode_bar(int32_t cmd, uint64_t val, uint32_t size,
                                     struct ob_mpq_msg *m)
{
    struct ob_mpq_bar b = make_bar(0xfebf0000, val, size, 1);

    return decode(cmd, &b, sizeof(b), 0, m);
}

/* ---- header ----------------------------------------------------------- */

static void test_hdr_short_needs_more(void)
{
    uint8_t buf[OB_MPQ_HDR_LEN] = { 3 };
    struct ob_mpq_hdr h;
    size_t len;

    for (len = 0; len < OB_MPQ_HDR_LEN; len++) {
        UT_EQ(ob_mpq_parse_hdr(buf, len, &h), OB_MPQ_NEED_MORE);
    }
    UT_EQ(ob_mpq_parse_hdr(buf, OB_MPQ_HDR_LEN, &h), OB_MPQ_OK);
    UT_EQ(h.cmd, 3);
    UT_EQ(h.size, 0);
}

static void test_hdr_size_limit(void)
{
    struct ob_mpq_hdr in = make_hdr(OB_MPQ_PCI_CFGREAD, OB_MPQ_MAX_PAYLOAD), out;

    UT_EQ(ob_mpq_parse_hdr((const uint8_t *)&in, sizeof(in), &out), OB_MPQ_OK);
    UT_EQ(out.size, 192);
    in.size = OB_MPQ_MAX_PAYLOAD + 1;
    UT_EQ(ob_mpq_parse_hdr((const uint8_t *)&in, sizeof(in), &out), OB_MPQ_BAD_FRAMING);
    in.size = UINT64_MAX;
    UT_EQ(ob_mpq_parse_hdr((const uint8_t *)&in, sizeof(in), &out), OB_MPQ_BAD_FRAMING);
    in.size = UINT64_C(1) << 32;    /* must not be truncated to 0 */
    UT_EQ(ob_mpq_parse_hdr((const uint8_t *)&in, sizeof(in), &out), OB_MPQ_BAD_FRAMING);
}

static void test_hdr_fields_little_endian(void)
{
    static const uint8_t bytes[] = { 0x05, 0, 0, 0, 0, 0, 0, 0,
                                     0x18, 0, 0, 0, 0, 0, 0, 0 };
    struct ob_mpq_hdr h;

    UT_EQ(ob_mpq_parse_hdr(bytes, sizeof(bytes), &h), OB_MPQ_OK);
    UT_EQ(h.cmd, OB_MPQ_BAR_READ);
    UT_EQ(h.size, 24);
}

static void test_hdr_nonzero_padding_accepted(void)
{
    uint8_t msg[OB_MPQ_HDR_LEN + OB_MPQ_CFG_LEN];
    struct ob_mpq_hdr h;
    struct ob_mpq_msg m;

    ob_mpq_encode_cfg(msg, OB_MPQ_PCI_CFGREAD, 0, 0, 4);
    memset(msg + 4, 0xa5, 4);
    UT_EQ(ob_mpq_parse_hdr(msg, sizeof(msg), &h), OB_MPQ_OK);
    UT_EQ(h.cmd, OB_MPQ_PCI_CFGREAD);
    UT_EQ(h.size, OB_MPQ_CFG_LEN);
    UT_EQ(ob_mpq_decode(&h, msg + OB_MPQ_HDR_LEN, NULL, 0, &m, NULL), OB_MPQ_OK);
    UT_EQ(m.u.cfg.len, 4);
}

static void test_hdr_unknown_cmds_parse_but_do_not_decode(void)
{
    static const int32_t cmds[] = { -1, INT32_MIN, 8, 0x4D500000, INT32_MAX };
    size_t i;

    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        struct ob_mpq_hdr in = make_hdr(cmds[i], 0), out;
        struct ob_mpq_msg m;

        UT_EQ(ob_mpq_parse_hdr((const uint8_t *)&in, sizeof(in), &out), OB_MPQ_OK);
        UT_EQ(out.cmd, cmds[i]);
        UT_EQ(decode(cmds[i], NULL, 0, 0, &m), OB_MPQ_BAD_CMD);
        UT_EQ(decode(cmds[i], NULL, 0, 2, &m), OB_MPQ_BAD_CMD);
        assert_no_fds_taken(&m);
        /* The proxy waits for an answer to whatever it sent. */
        CU_ASSERT_TRUE(ob_mpq_wants_reply(cmds[i]));
        UT_STREQ(ob_mpq_cmd_name(cmds[i]), "UNKNOWN");
    }
}

static void test_cmd_names_and_replies(void)
{
    UT_STREQ(ob_mpq_cmd_name(OB_MPQ_SYNC_SYSMEM), "SYNC_SYSMEM");
    UT_STREQ(ob_mpq_cmd_name(OB_MPQ_RET), "RET");
    UT_STREQ(ob_mpq_cmd_name(OB_MPQ_PCI_CFGWRITE), "PCI_CFGWRITE");
    UT_STREQ(ob_mpq_cmd_name(OB_MPQ_PCI_CFGREAD), "PCI_CFGREAD");
    UT_STREQ(ob_mpq_cmd_name(OB_MPQ_BAR_WRITE), "BAR_WRITE");
    UT_STREQ(ob_mpq_cmd_name(OB_MPQ_BAR_READ), "BAR_READ");
    UT_STREQ(ob_mpq_cmd_name(OB_MPQ_SET_IRQFD), "SET_IRQFD");
    UT_STREQ(ob_mpq_cmd_name(OB_MPQ_DEVICE_RESET), "DEVICE_RESET");
    CU_ASSERT_FALSE(ob_mpq_wants_reply(OB_MPQ_SYNC_SYSMEM));
    CU_ASSERT_FALSE(ob_mpq_wants_reply(OB_MPQ_RET));
    CU_ASSERT_TRUE(ob_mpq_wants_reply(OB_MPQ_PCI_CFGWRITE));
    CU_ASSERT_TRUE(ob_mpq_wants_reply(OB_MPQ_PCI_CFGREAD));
    CU_ASSERT_TRUE(ob_mpq_wants_reply(OB_MPQ_BAR_WRITE));
    CU_ASSERT_TRUE(ob_mpq_wants_reply(OB_MPQ_BAR_READ));
    CU_ASSERT_FALSE(ob_mpq_wants_reply(OB_MPQ_SET_IRQFD));
    CU_ASSERT_TRUE(ob_mpq_wants_reply(OB_MPQ_DEVICE_RESET));
}

/* ---- SYNC_SYSMEM ------------------------------------------------------ */

static struct ob_mpq_sysmem sample_sysmem(void)
{
    struct ob_mpq_sysmem s;
    unsigned i;

    memset(&s, 0, sizeof(s));
    for (i = 0; i < OB_MPQ_MAX_FDS; i++) {
        s.gpa[i] = UINT64_C(0x100000000) * i + 0x1000;
        s.size[i] = 0x10000 * (i + 1);
        s.offset[i] = (int64_t)0x2000 * i;
    }
    return s;
}

static void test_sysmem_one_to_eight_fds(void)
{
    struct ob_mpq_sysmem s = sample_sysmem();
    unsigned n, i;

    for (n = 1; n <= OB_MPQ_MAX_FDS; n++) {
        struct ob_mpq_msg m;

        UT_EQ_FATAL(decode(OB_MPQ_SYNC_SYSMEM, &s, sizeof(s), n, &m), OB_MPQ_OK);
        UT_EQ(m.cmd, OB_MPQ_SYNC_SYSMEM);
        UT_EQ(m.nfds, n);
        for (i = 0; i < n; i++) {
            UT_EQ(m.fds[i], 100 + i);
            UT_EQ(m.u.sysmem.gpa[i], s.gpa[i]);
            UT_EQ(m.u.sysmem.size[i], s.size[i]);
            UT_EQ(m.u.sysmem.offset[i], s.offset[i]);
        }
    }
}

static void test_sysmem_zero_or_nine_fds_rejected(void)
{
    struct ob_mpq_sysmem s = sample_sysmem();
    struct ob_mpq_msg m;

    UT_EQ(decode(OB_MPQ_SYNC_SYSMEM, &s, sizeof(s), 0, &m), OB_MPQ_BAD_FDS);
    assert_no_fds_taken(&m);
    UT_EQ(decode(OB_MPQ_SYNC_SYSMEM, &s, sizeof(s), 9, &m), OB_MPQ_BAD_FDS);
    assert_no_fds_taken(&m);
}

static void test_sysmem_wrong_size_rejected(void)
{
    struct ob_mpq_sysmem s = sample_sysmem();
    struct ob_mpq_msg m;

    UT_EQ(decode(OB_MPQ_SYNC_SYSMEM, &s, 0, 1, &m), OB_MPQ_BAD_SIZE);
    assert_no_fds_taken(&m);
    UT_EQ(decode(OB_MPQ_SYNC_SYSMEM, &s, 191, 1, &m), OB_MPQ_BAD_SIZE);
    assert_no_fds_taken(&m);
    UT_EQ(decode(OB_MPQ_SYNC_SYSMEM, &s, 64, 2, &m), OB_MPQ_BAD_SIZE);
    assert_no_fds_taken(&m);
}

/* ---- RET -------------------------------------------------------------- */

static void test_ret_with_and_without_value(void)
{
    uint8_t payload[16] = { 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    struct ob_mpq_msg m;

    UT_EQ_FATAL(decode(OB_MPQ_RET, payload, 0, 0, &m), OB_MPQ_OK);
    CU_ASSERT_FALSE(m.has_ret);
    UT_EQ(m.u.ret, 0);
    UT_EQ_FATAL(decode(OB_MPQ_RET, payload, 8, 0, &m), OB_MPQ_OK);
    CU_ASSERT_TRUE(m.has_ret);
    UT_EQ(m.u.ret, 0x11223344);
    /* As the proxy: any size up to 192, the first 8 bytes are the value. */
    UT_EQ_FATAL(decode(OB_MPQ_RET, payload, 16, 0, &m), OB_MPQ_OK);
    UT_EQ(m.u.ret, 0x11223344);
    UT_EQ(decode(OB_MPQ_RET, payload, 8, 1, &m), OB_MPQ_BAD_FDS);
    assert_no_fds_taken(&m);
}

/* ---- PCI config ------------------------------------------------------- */

static void test_cfg_read_and_write_decoded(void)
{
    struct ob_mpq_cfg c = make_cfg(0x14, 0xfebf0000, 4);
    struct ob_mpq_msg m;

    UT_EQ_FATAL(decode(OB_MPQ_PCI_CFGWRITE, &c, sizeof(c), 0, &m), OB_MPQ_OK);
    UT_EQ(m.cmd, OB_MPQ_PCI_CFGWRITE);
    UT_EQ(m.u.cfg.addr, 0x14);
    UT_EQ(m.u.cfg.val, 0xfebf0000);
    UT_EQ(m.u.cfg.len, 4);
    UT_EQ(m.nfds, 0);
    c = make_cfg(0x3d, 0, 1);
    UT_EQ_FATAL(decode(OB_MPQ_PCI_CFGREAD, &c, sizeof(c), 0, &m), OB_MPQ_OK);
    UT_EQ(m.cmd, OB_MPQ_PCI_CFGREAD);
    UT_EQ(m.u.cfg.addr, 0x3d);
    UT_EQ(m.u.cfg.len, 1);
}

static void test_cfg_edges_accepted(void)
{
    struct ob_mpq_msg m;
    int32_t len;

    for (len = 1; len <= 4; len++) {
        UT_EQ(decode_cfg(OB_MPQ_PCI_CFGREAD, 0, len, &m), OB_MPQ_OK);
        UT_EQ(decode_cfg(OB_MPQ_PCI_CFGWRITE, 0x100 - (uint32_t)len, len, &m), OB_MPQ_OK);
    }
    UT_EQ(decode_cfg(OB_MPQ_PCI_CFGREAD, 0xff, 1, &m), OB_MPQ_OK);
    UT_EQ(decode_cfg(OB_MPQ_PCI_CFGREAD, 0xfe, 2, &m), OB_MPQ_OK);
    UT_EQ(decode_cfg(OB_MPQ_PCI_CFGREAD, 0xfc, 4, &m), OB_MPQ_OK);
}

static void test_cfg_bad_len_rejected(void)
{
    static const int32_t lens[] = { 0, 5, -1, 16, INT32_MIN, INT32_MAX };
    struct ob_mpq_msg m;
    size_t i;

    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        UT_EQ(decode_cfg(OB_MPQ_PCI_CFGREAD, 0, lens[i], &m), OB_MPQ_BAD_FIELD);
        assert_no_fds_taken(&m);
        UT_EQ(decode_cfg(OB_MPQ_PCI_CFGWRITE, 0, lens[i], &m), OB_MPQ_BAD_FIELD);
    }
}

static void test_cfg_bad_addr_rejected(void)
{
    struct ob_mpq_msg m;

    UT_EQ(decode_cfg(OB_MPQ_PCI_CFGREAD, 0xff, 2, &m), OB_MPQ_BAD_FIELD);
    UT_EQ(decode_cfg(OB_MPQ_PCI_CFGREAD, 0xfd, 4, &m), OB_MPQ_BAD_FIELD);
    UT_EQ(decode_cfg(OB_MPQ_PCI_CFGREAD, 0x100, 1, &m), OB_MPQ_BAD_FIELD);
    UT_EQ(decode_cfg(OB_MPQ_PCI_CFGWRITE, 0x100, 4, &m), OB_MPQ_BAD_FIELD);
    /* addr + len must not wrap back into range */
    UT_EQ(decode_cfg(OB_MPQ_PCI_CFGREAD, 0xffffffff, 1, &m), OB_MPQ_BAD_FIELD);
    UT_EQ(decode_cfg(OB_MPQ_PCI_CFGREAD, 0xfffffffe, 4, &m), OB_MPQ_BAD_FIELD);
    assert_no_fds_taken(&m);
}

static void test_cfg_wrong_size_or_fds_rejected(void)
{
    uint8_t payload[OB_MPQ_CFG_LEN + 4] = { 0 };
    struct ob_mpq_cfg c = make_cfg(0, 0, 4);
    struct ob_mpq_msg m;

    memcpy(payload, &c, sizeof(c));
    UT_EQ(decode(OB_MPQ_PCI_CFGREAD, payload, 11, 0, &m), OB_MPQ_BAD_SIZE);
    UT_EQ(decode(OB_MPQ_PCI_CFGREAD, payload, 13, 0, &m), OB_MPQ_BAD_SIZE);
    UT_EQ(decode(OB_MPQ_PCI_CFGWRITE, payload, 0, 0, &m), OB_MPQ_BAD_SIZE);
    UT_EQ(decode(OB_MPQ_PCI_CFGREAD, payload, sizeof(c), 1, &m), OB_MPQ_BAD_FDS);
    assert_no_fds_taken(&m);
    UT_EQ(decode(OB_MPQ_PCI_CFGWRITE, payload, sizeof(c), 2, &m), OB_MPQ_BAD_FDS);
    assert_no_fds_taken(&m);
}

/* ---- BAR accesses ----------------------------------------------------- */

static void test_bar_read_decoded(void)
{
    struct ob_mpq_bar b = make_bar(0xfebe0010, 0, 4, 1);
    struct ob_mpq_msg m;

    UT_EQ_FATAL(decode(OB_MPQ_BAR_READ, &b, sizeof(b), 0, &m), OB_MPQ_OK);
    UT_EQ(m.cmd, OB_MPQ_BAR_READ);
    UT_EQ(m.u.bar.addr, 0xfebe0010);
    UT_EQ(m.u.bar.size, 4);
    UT_EQ(m.u.bar.memory, 1);
    b = make_bar(0xc006, 0, 2, 0);
    UT_EQ_FATAL(decode(OB_MPQ_BAR_READ, &b, sizeof(b), 0, &m), OB_MPQ_OK);
    UT_EQ(m.u.bar.addr, 0xc006);
    UT_EQ(m.u.bar.memory, 0);
}

static void test_bar_write_value_masked_to_size(void)
{
    const uint64_t v = UINT64_C(0x1122334455667788);
    struct ob_mpq_msg m;

    UT_EQ_FATAL(decode_bar(OB_MPQ_BAR_WRITE, v, 1, &m), OB_MPQ_OK);
    UT_EQ(m.u.bar.val, 0x88);
    UT_EQ_FATAL(decode_bar(OB_MPQ_BAR_WRITE, v, 2, &m), OB_MPQ_OK);
    UT_EQ(m.u.bar.val, 0x7788);
    UT_EQ_FATAL(decode_bar(OB_MPQ_BAR_WRITE, v, 4, &m), OB_MPQ_OK);
    UT_EQ(m.u.bar.val, 0x55667788);
    UT_EQ_FATAL(decode_bar(OB_MPQ_BAR_WRITE, v, 8, &m), OB_MPQ_OK);
    UT_EQ(m.u.bar.val, v);
}

static void test_bar_memory_flag_nonzero_is_memory(void)
{
    struct ob_bar_window w = { .base = 0xfebf0000, .size = 0x1000, .bar = 0,
                               .memory = true };
    struct ob_mpq_bar b = make_bar(0xfebf0004, 0, 4, 0x80);
    struct ob_mpq_msg m;
    unsigned bar = 99;
    uint64_t off = 99;

    UT_EQ_FATAL(decode(OB_MPQ_BAR_READ, &b, sizeof(b), 0, &m), OB_MPQ_OK);
    CU_ASSERT(m.u.bar.memory != 0);
    CU_ASSERT_TRUE(ob_mpq_resolve_bar(&w, 1, &m.u.bar, &bar, &off));
    UT_EQ(bar, 0);
    UT_EQ(off, 4);
}

static void test_bar_bad_size_rejected(void)
{
    static const uint32_t sizes[] = { 0, 3, 5, 6, 7, 16, UINT32_MAX };
    struct ob_mpq_msg m;
    size_t i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        UT_EQ(decode_bar(OB_MPQ_BAR_READ, 0, sizes[i], &m), OB_MPQ_BAD_FIELD);
        UT_EQ(decode_bar(OB_MPQ_BAR_WRITE, 0, sizes[i], &m), OB_MPQ_BAD_FIELD);
        assert_no_fds_taken(&m);
    }
}

static void test_bar_wrong_size_or_fds_rejected(void)
{
    uint8_t payload[OB_MPQ_BAR_LEN + 8] = { 0 };
    struct ob_mpq_bar b = make_bar(0xfebf0000, 0, 4, 1);
    struct ob_mpq_msg m;

    memcpy(payload, &b, sizeof(b));
    UT_EQ(decode(OB_MPQ_BAR_READ, payload, 23, 0, &m), OB_MPQ_BAD_SIZE);
    UT_EQ(decode(OB_MPQ_BAR_WRITE, payload, 25, 0, &m), OB_MPQ_BAD_SIZE);
    UT_EQ(decode(OB_MPQ_BAR_WRITE, payload, 12, 0, &m), OB_MPQ_BAD_SIZE);
    UT_EQ(decode(OB_MPQ_BAR_READ, payload, sizeof(b), 1, &m), OB_MPQ_BAD_FDS);
    assert_no_fds_taken(&m);
    UT_EQ(decode(OB_MPQ_BAR_WRITE, payload, sizeof(b), 2, &m), OB_MPQ_BAD_FDS);
    assert_no_fds_taken(&m);
}

/* ---- SET_IRQFD, DEVICE_RESET ------------------------------------------ */

static void test_set_irqfd_exactly_two_fds(void)
{
    uint8_t payload[8] = { 0 };
    struct ob_mpq_msg m;

    UT_EQ_FATAL(decode(OB_MPQ_SET_IRQFD, NULL, 0, 2, &m), OB_MPQ_OK);
    UT_EQ(m.nfds, 2);
    UT_EQ(m.fds[0], 100);
    UT_EQ(m.fds[1], 101);
    UT_EQ(decode(OB_MPQ_SET_IRQFD, NULL, 0, 0, &m), OB_MPQ_BAD_FDS);
    UT_EQ(decode(OB_MPQ_SET_IRQFD, NULL, 0, 1, &m), OB_MPQ_BAD_FDS);
    assert_no_fds_taken(&m);
    UT_EQ(decode(OB_MPQ_SET_IRQFD, NULL, 0, 3, &m), OB_MPQ_BAD_FDS);
    assert_no_fds_taken(&m);
    UT_EQ(decode(OB_MPQ_SET_IRQFD, payload, 8, 2, &m), OB_MPQ_BAD_SIZE);
    assert_no_fds_taken(&m);
}

static void test_device_reset_empty_only(void)
{
    uint8_t payload[8] = { 0 };
    struct ob_mpq_msg m;

    UT_EQ_FATAL(decode(OB_MPQ_DEVICE_RESET, NULL, 0, 0, &m), OB_MPQ_OK);
    UT_EQ(m.cmd, OB_MPQ_DEVICE_RESET);
    UT_EQ(decode(OB_MPQ_DEVICE_RESET, payload, 8, 0, &m), OB_MPQ_BAD_SIZE);
    UT_EQ(decode(OB_MPQ_DEVICE_RESET, payload, 1, 0, &m), OB_MPQ_BAD_SIZE);
    UT_EQ(decode(OB_MPQ_DEVICE_RESET, NULL, 0, 1, &m), OB_MPQ_BAD_FDS);
    assert_no_fds_taken(&m);
}

static void test_decode_oversize_header_is_framing_error(void)
{
    struct ob_mpq_hdr h = make_hdr(OB_MPQ_RET, OB_MPQ_MAX_PAYLOAD + 1);
    uint8_t payload[OB_MPQ_MAX_PAYLOAD + 1] = { 0 };
    struct ob_mpq_msg m;
    const char *why = NULL;

    UT_EQ(ob_mpq_decode(&h, payload, NULL, 0, &m, &why), OB_MPQ_BAD_FRAMING);
    CU_ASSERT_PTR_NOT_NULL(why);
}

/* Decoding never closes or keeps fds it rejects: real fds stay open. */
static void test_decode_error_leaves_fds_with_caller(void)
{
    int fds[3];
    struct ob_mpq_hdr h = make_hdr(OB_MPQ_SET_IRQFD, 0);
    struct ob_mpq_msg m;
    unsigned i;

    for (i = 0; i < 3; i++) {
        fds[i] = ut_eventfd();
        CU_ASSERT_FATAL(fds[i] >= 0);
    }
    UT_EQ(ob_mpq_decode(&h, NULL, fds, 3, &m, NULL), OB_MPQ_BAD_FDS);
    UT_EQ(m.nfds, 0);
    h = make_hdr(OB_MPQ_DEVICE_RESET, 0);
    UT_EQ(ob_mpq_decode(&h, NULL, fds, 1, &m, NULL), OB_MPQ_BAD_FDS);
    UT_EQ(m.nfds, 0);
    for (i = 0; i < 3; i++) {
        CU_ASSERT_TRUE(ut_fd_is_open(fds[i]));
        close(fds[i]);
    }
}

static void test_status_strings(void)
{
    enum ob_mpq_status st;

    for (st = OB_MPQ_OK; st <= OB_MPQ_BAD_FIELD; st++) {
        const char *s = ob_mpq_status_str(st);

        CU_ASSERT(s != NULL && s[0] != '\0' && strcmp(s, "?") != 0);
    }
}

/* ---- encoders: the hex dumps of mpqemu-protocol.md §2.5 ---------------- */

static void test_encode_cfg_read_dword0(void)
{
    static const uint8_t want[] = {
        0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
    };
    uint8_t out[OB_MPQ_MAX_MSG];

    memset(out, 0xcc, sizeof(out));
    UT_EQ_FATAL(ob_mpq_encode_cfg(out, OB_MPQ_PCI_CFGREAD, 0, 0, 4), sizeof(want));
    UT_BYTES(out, want, sizeof(want));
}

static void test_encode_cfg_write_bar1(void)
{
    static const uint8_t want[] = {
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0xbf, 0xfe,
        0x04, 0x00, 0x00, 0x00,
    };
    uint8_t out[OB_MPQ_MAX_MSG];

    memset(out, 0xcc, sizeof(out));
    UT_EQ_FATAL(ob_mpq_encode_cfg(out, OB_MPQ_PCI_CFGWRITE, 0x14, 0xfebf0000, 4),
                sizeof(want));
    UT_BYTES(out, want, sizeof(want));
}

static void test_encode_bar_read_mmio(void)
{
    static const uint8_t want[] = {
        0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x10, 0x00, 0xbe, 0xfe, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    };
    uint8_t out[OB_MPQ_MAX_MSG];

    memset(out, 0xcc, sizeof(out));
    UT_EQ_FATAL(ob_mpq_encode_bar(out, OB_MPQ_BAR_READ, 0xfebe0010, 0, 4, true),
                sizeof(want));
    UT_BYTES(out, want, sizeof(want));
}

static void test_encode_bar_write_io(void)
{
    static const uint8_t want[] = {
        0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x06, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
    };
    uint8_t out[OB_MPQ_MAX_MSG];

    memset(out, 0xcc, sizeof(out));
    UT_EQ_FATAL(ob_mpq_encode_bar(out, OB_MPQ_BAR_WRITE, 0xc006, 0x1234, 2, false),
                sizeof(want));
    UT_BYTES(out, want, sizeof(want));
}

static void test_encode_ret_with_value(void)
{
    static const uint8_t want_id[] = {
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x10, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    static const uint8_t want_bar[] = {
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11, 0x00, 0x00, 0x00, 0x00,
    };
    static const uint8_t want_zero[] = {
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    uint8_t out[OB_MPQ_RET_LEN];

    UT_EQ_FATAL(ob_mpq_encode_ret(out, 0x121000, true), sizeof(want_id));
    UT_BYTES(out, want_id, sizeof(want_id));
    UT_EQ_FATAL(ob_mpq_encode_ret(out, 0x11223344, true), sizeof(want_bar));
    UT_BYTES(out, want_bar, sizeof(want_bar));
    UT_EQ_FATAL(ob_mpq_encode_ret(out, 0, true), sizeof(want_zero));
    UT_BYTES(out, want_zero, sizeof(want_zero));
}

static void test_encode_ret_empty_and_empty_requests(void)
{
    static const uint8_t want_ret[] = {
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    static const uint8_t want_irqfd[] = {
        0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    static const uint8_t want_reset[] = {
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    uint8_t out[OB_MPQ_RET_LEN];

    memset(out, 0xcc, sizeof(out));
    UT_EQ_FATAL(ob_mpq_encode_ret(out, 0x55, false), sizeof(want_ret));
    UT_BYTES(out, want_ret, sizeof(want_ret));
    UT_EQ_FATAL(ob_mpq_encode_empty(out, OB_MPQ_SET_IRQFD), sizeof(want_irqfd));
    UT_BYTES(out, want_irqfd, sizeof(want_irqfd));
    UT_EQ_FATAL(ob_mpq_encode_empty(out, OB_MPQ_DEVICE_RESET), sizeof(want_reset));
    UT_BYTES(out, want_reset, sizeof(want_reset));
}

static void test_encode_sysmem_two_regions(void)
{
    const uint64_t gpa[2] = { 0, 0x100000 };
    const uint64_t size[2] = { 0xc0000, 0xff00000 };
    const int64_t offset[2] = { 0, 0x100000 };
    uint8_t want[OB_MPQ_MAX_MSG], out[OB_MPQ_MAX_MSG];
    static const uint8_t row00[16] = { 0x00, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t row10[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x10, 0, 0, 0, 0, 0 };
    static const uint8_t row50[16] = { 0x00, 0x00, 0x0c, 0, 0, 0, 0, 0,
                                       0x00, 0x00, 0xf0, 0x0f, 0, 0, 0, 0 };
    static const uint8_t row90[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x10, 0, 0, 0, 0, 0 };

    memset(want, 0, sizeof(want));
    memcpy(want + 0x00, row00, 16);
    memcpy(want + 0x10, row10, 16);
    memcpy(want + 0x50, row50, 16);
    memcpy(want + 0x90, row90, 16);
    memset(out, 0xcc, sizeof(out));
    UT_EQ_FATAL(ob_mpq_encode_sysmem(out, gpa, size, offset, 2), OB_MPQ_MAX_MSG);
    UT_BYTES(out, want, OB_MPQ_MAX_MSG);
}

/* What the encoders write, the decoder reads back. */
static void test_encode_decode_round_trip(void)
{
    uint8_t out[OB_MPQ_MAX_MSG];
    struct ob_mpq_hdr h;
    struct ob_mpq_msg m;
    size_t len;

    len = ob_mpq_encode_bar(out, OB_MPQ_BAR_WRITE, 0xfebf0098, 0x5, 8, true);
    UT_EQ_FATAL(ob_mpq_parse_hdr(out, len, &h), OB_MPQ_OK);
    UT_EQ(OB_MPQ_HDR_LEN + h.size, len);
    UT_EQ_FATAL(ob_mpq_decode(&h, out + OB_MPQ_HDR_LEN, NULL, 0, &m, NULL), OB_MPQ_OK);
    UT_EQ(m.u.bar.addr, 0xfebf0098);
    UT_EQ(m.u.bar.val, 5);
    UT_EQ(m.u.bar.size, 8);
    UT_EQ(m.u.bar.memory, 1);
    len = ob_mpq_encode_ret(out, UINT64_MAX, true);
    UT_EQ_FATAL(ob_mpq_parse_hdr(out, len, &h), OB_MPQ_OK);
    UT_EQ_FATAL(ob_mpq_decode(&h, out + OB_MPQ_HDR_LEN, NULL, 0, &m, NULL), OB_MPQ_OK);
    CU_ASSERT_TRUE(m.has_ret);
    UT_EQ(m.u.ret, UINT64_MAX);
}

/* ---- ob_mpq_resolve_bar ----------------------------------------------- */

static const struct ob_bar_window mmio_win = {
    .base = 0xfebf0000, .size = 0x100000, .bar = 0, .memory = true,
};

static bool resolve(const struct ob_bar_window *w, unsigned n, uint64_t addr,
                    uint32_t size, bool memory, unsigned *bar, uint64_t *off)
{
    struct ob_mpq_bar b = make_bar(addr, 0, size, memory ? 1 : 0);

    return ob_mpq_resolve_bar(w, n, &b, bar, off);
}

static void test_resolve_inside(void)
{
    unsigned bar = 99;
    uint64_t off = 99;

    CU_ASSERT_TRUE_FATAL(resolve(&mmio_win, 1, 0xfebf0010, 4, true, &bar, &off));
    UT_EQ(bar, 0);
    UT_EQ(off, 0x10);
    CU_ASSERT_TRUE(resolve(&mmio_win, 1, 0xfebf0000, 8, true, &bar, &off));
    UT_EQ(off, 0);
}

static void test_resolve_end_boundaries(void)
{
    const uint64_t end = mmio_win.base + mmio_win.size;
    unsigned bar;
    uint64_t off = 0;

    CU_ASSERT_TRUE(resolve(&mmio_win, 1, end - 1, 1, true, &bar, &off));
    UT_EQ(off, mmio_win.size - 1);
    CU_ASSERT_TRUE(resolve(&mmio_win, 1, end - 8, 8, true, &bar, &off));
    /* crossing the end */
    CU_ASSERT_FALSE(resolve(&mmio_win, 1, end - 4, 8, true, &bar, &off));
    CU_ASSERT_FALSE(resolve(&mmio_win, 1, end - 1, 2, true, &bar, &off));
    /* past the end, below the base */
    CU_ASSERT_FALSE(resolve(&mmio_win, 1, end, 1, true, &bar, &off));
    CU_ASSERT_FALSE(resolve(&mmio_win, 1, end + 0x1000, 4, true, &bar, &off));
    CU_ASSERT_FALSE(resolve(&mmio_win, 1, mmio_win.base - 1, 1, true, &bar, &off));
    CU_ASSERT_FALSE(resolve(&mmio_win, 1, mmio_win.base - 2, 4, true, &bar, &off));
}

static void test_resolve_wrong_space(void)
{
    const struct ob_bar_window io = { .base = 0xc000, .size = 0x100, .bar = 1,
                                      .memory = false };
    unsigned bar = 99;
    uint64_t off = 99;

    CU_ASSERT_FALSE(resolve(&mmio_win, 1, 0xfebf0010, 4, false, &bar, &off));
    CU_ASSERT_FALSE(resolve(&io, 1, 0xc004, 1, true, &bar, &off));
    CU_ASSERT_TRUE_FATAL(resolve(&io, 1, 0xc004, 1, false, &bar, &off));
    UT_EQ(bar, 1);
    UT_EQ(off, 4);
}

static void test_resolve_several_windows(void)
{
    const struct ob_bar_window w[3] = {
        { .base = 0xc000, .size = 0x100, .bar = 2, .memory = false },
        { .base = 0xfe000000, .size = 0x1000, .bar = 0, .memory = true },
        { .base = 0xfe001000, .size = 0x2000, .bar = 5, .memory = true },
    };
    unsigned bar = 99;
    uint64_t off = 99;

    CU_ASSERT_TRUE(resolve(w, 3, 0xfe000ffc, 4, true, &bar, &off));
    UT_EQ(bar, 0);
    UT_EQ(off, 0xffc);
    CU_ASSERT_TRUE(resolve(w, 3, 0xfe001000, 4, true, &bar, &off));
    UT_EQ(bar, 5);
    UT_EQ(off, 0);
    CU_ASSERT_TRUE(resolve(w, 3, 0xfe002ff8, 8, true, &bar, &off));
    UT_EQ(bar, 5);
    UT_EQ(off, 0x1ff8);
    CU_ASSERT_TRUE(resolve(w, 3, 0xc0ff, 1, false, &bar, &off));
    UT_EQ(bar, 2);
    UT_EQ(off, 0xff);
    /* an access spanning two adjacent windows belongs to neither */
    CU_ASSERT_FALSE(resolve(w, 3, 0xfe000ffc, 8, true, &bar, &off));
    CU_ASSERT_FALSE(resolve(w, 3, 0xfe003000, 1, true, &bar, &off));
    /* N limits the windows looked at */
    CU_ASSERT_FALSE(resolve(w, 2, 0xfe001000, 4, true, &bar, &off));
    CU_ASSERT_FALSE(resolve(w, 0, 0xc000, 1, false, &bar, &off));
}

static void test_resolve_address_wrap(void)
{
    const struct ob_bar_window top = { .base = UINT64_MAX - 0xf, .size = 0x10,
                                       .bar = 3, .memory = true };
    unsigned bar = 99;
    uint64_t off = 99;

    CU_ASSERT_TRUE(resolve(&top, 1, UINT64_MAX, 1, true, &bar, &off));
    UT_EQ(off, 0xf);
    CU_ASSERT_TRUE(resolve(&top, 1, UINT64_MAX - 7, 8, true, &bar, &off));
    UT_EQ(off, 8);
    /* addr + size wraps past 2^64: must not be taken for a short access */
    CU_ASSERT_FALSE(resolve(&top, 1, UINT64_MAX - 3, 8, true, &bar, &off));
    CU_ASSERT_FALSE(resolve(&top, 1, UINT64_MAX, 2, true, &bar, &off));
    CU_ASSERT_FALSE(resolve(&mmio_win, 1, UINT64_MAX - 3, 8, true, &bar, &off));
    CU_ASSERT_FALSE(resolve(&mmio_win, 1, UINT64_MAX, 1, true, &bar, &off));
}

static const struct ut_test tests[] = {
    UT_TEST(test_hdr_short_needs_more),
    UT_TEST(test_hdr_size_limit),
    UT_TEST(test_hdr_fields_little_endian),
    UT_TEST(test_hdr_nonzero_padding_accepted),
    UT_TEST(test_hdr_unknown_cmds_parse_but_do_not_decode),
    UT_TEST(test_cmd_names_and_replies),
    UT_TEST(test_sysmem_one_to_eight_fds),
    UT_TEST(test_sysmem_zero_or_nine_fds_rejected),
    UT_TEST(test_sysmem_wrong_size_rejected),
    UT_TEST(test_ret_with_and_without_value),
    UT_TEST(test_cfg_read_and_write_decoded),
    UT_TEST(test_cfg_edges_accepted),
    UT_TEST(test_cfg_bad_len_rejected),
    UT_TEST(test_cfg_bad_addr_rejected),
    UT_TEST(test_cfg_wrong_size_or_fds_rejected),
    UT_TEST(test_bar_read_decoded),
    UT_TEST(test_bar_write_value_masked_to_size),
    UT_TEST(test_bar_memory_flag_nonzero_is_memory),
    UT_TEST(test_bar_bad_size_rejected),
    UT_TEST(test_bar_wrong_size_or_fds_rejected),
    UT_TEST(test_set_irqfd_exactly_two_fds),
    UT_TEST(test_device_reset_empty_only),
    UT_TEST(test_decode_oversize_header_is_framing_error),
    UT_TEST(test_decode_error_leaves_fds_with_caller),
    UT_TEST(test_status_strings),
    UT_TEST(test_encode_cfg_read_dword0),
    UT_TEST(test_encode_cfg_write_bar1),
    UT_TEST(test_encode_bar_read_mmio),
    UT_TEST(test_encode_bar_write_io),
    UT_TEST(test_encode_ret_with_value),
    UT_TEST(test_encode_ret_empty_and_empty_requests),
    UT_TEST(test_encode_sysmem_two_regions),
    UT_TEST(test_encode_decode_round_trip),
    UT_TEST(test_resolve_inside),
    UT_TEST(test_resolve_end_boundaries),
    UT_TEST(test_resolve_wrong_space),
    UT_TEST(test_resolve_several_windows),
    UT_TEST(test_resolve_address_wrap),
    UT_END,
};

int test_mpqemu_register(void)
{
    static const struct ut_suite suite = { "mpqemu", NULL, NULL, tests };

    return ut_add_suite(&suite);
}
