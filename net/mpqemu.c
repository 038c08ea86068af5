/*
 * mpqemu.c - the mpqemu codec: bytes + fds <-> validated messages.
 */
#include <string.h>

#include "outboard/mpqemu.h"

static const char *const cmd_names[OB_MPQ_NUM_CMDS] = {
    [OB_MPQ_SYNC_SYSMEM] = "SYNC_SYSMEM",
    [OB_MPQ_RET] = "RET",
    [OB_MPQ_PCI_CFGWRITE] = "PCI_CFGWRITE",
    [OB_MPQ_PCI_CFGREAD] = "PCI_CFGREAD",
    [OB_MPQ_BAR_WRITE] = "BAR_WRITE",
    [OB_MPQ_BAR_READ] = "BAR_READ",
    [OB_MPQ_SET_IRQFD] = "SET_IRQFD",
    [OB_MPQ_DEVICE_RESET] = "DEVICE_RESET",
};

/* Per command: exact payload size (-1: any <= 192) and fd count range. */
static const struct {
    int payload;
    unsigned min_fds;
    unsigned max_fds;
    bool reply;
} cmd_rules[OB_MPQ_NUM_CMDS] = {
    [OB_MPQ_SYNC_SYSMEM]  = { OB_MPQ_SYSMEM_LEN, 1, OB_MPQ_MAX_FDS, false },
    [OB_MPQ_RET]          = { -1, 0, 0, false },
    [OB_MPQ_PCI_CFGWRITE] = { OB_MPQ_CFG_LEN, 0, 0, true },
    [OB_MPQ_PCI_CFGREAD]  = { OB_MPQ_CFG_LEN, 0, 0, true },
    [OB_MPQ_BAR_WRITE]    = { OB_MPQ_BAR_LEN, 0, 0, true },
    [OB_MPQ_BAR_READ]     = { OB_MPQ_BAR_LEN, 0, 0, true },
    [OB_MPQ_SET_IRQFD]    = { 0, 2, 2, false },
    [OB_MPQ_DEVICE_RESET] = { 0, 0, 0, true },
};

static bool cmd_known(int32_t cmd)
{
    return cmd >= 0 && cmd < OB_MPQ_NUM_CMDS;
}

const char *ob_mpq_cmd_name(int32_t cmd)
{
    return cmd_known(cmd) ? cmd_names[cmd] : "UNKNOWN";
}

const char *ob_mpq_status_str(enum ob_mpq_status st)
{
    switch (st) {
    case OB_MPQ_OK: return "ok";
    case OB_MPQ_NEED_MORE: return "incomplete message";
    case OB_MPQ_BAD_FRAMING: return "payload size over 192 bytes";
    case OB_MPQ_BAD_CMD: return "unknown command";
    case OB_MPQ_BAD_SIZE: return "wrong payload size for the command";
    case OB_MPQ_BAD_FDS: return "wrong number of fds for the command";
    case OB_MPQ_BAD_FIELD: return "field out of range";
    }
    return "?";
}

bool ob_mpq_wants_reply(int32_t cmd)
{
    /* Unknown commands get an error reply too: a request was made, and the
     * proxy waits for exactly one answer to each. */
    return cmd_known(cmd) ? cmd_rules[cmd].reply : true;
}

enum ob_mpq_status ob_mpq_parse_hdr(const uint8_t *buf, size_t len,
                                    struct ob_mpq_hdr *h)
{
    if (len < OB_MPQ_HDR_LEN) {
        return OB_MPQ_NEED_MORE;
    }
    memcpy(h, buf, sizeof(*h));
    if (h->size > OB_MPQ_MAX_PAYLOAD) {
        return OB_MPQ_BAD_FRAMING;
    }
    return OB_MPQ_OK;
}

static enum ob_mpq_status check_cfg(const struct ob_mpq_cfg *c, const char **why)
{
    if (c->len < 1 || c->len > 4) {
        *why = "config access length not in 1..4";
        return OB_MPQ_BAD_FIELD;
    }
    if (c->addr >= OB_MPQ_CFG_SPACE || c->addr + (uint32_t)c->len > OB_MPQ_CFG_SPACE) {
        *why = "config access beyond the 256-byte config space";
        return OB_MPQ_BAD_FIELD;
    }
    return OB_MPQ_OK;
}

static enum ob_mpq_status check_bar(const struct ob_mpq_bar *b, const char **why)
{
    if (b->size != 1 && b->size != 2 && b->size != 4 && b->size != 8) {
        *why = "BAR access size not 1, 2, 4 or 8";
        return OB_MPQ_BAD_FIELD;
    }
    return OB_MPQ_OK;
}

enum ob_mpq_status ob_mpq_decode(const struct ob_mpq_hdr *h, const uint8_t *payload,
                                 const int *fds, unsigned nfds,
                                 struct ob_mpq_msg *m, const char **why)
{
    enum ob_mpq_status st = OB_MPQ_OK;
    const char *dummy;
    unsigned i;

    if (!why) {
        why = &dummy;
    }
    *why = NULL;
    memset(m, 0, sizeof(*m));
    m->cmd = h->cmd;
    if (h->size > OB_MPQ_MAX_PAYLOAD) {
        *why = ob_mpq_status_str(OB_MPQ_BAD_FRAMING);
        return OB_MPQ_BAD_FRAMING;
    }
    if (!cmd_known(h->cmd)) {
        *why = ob_mpq_status_str(OB_MPQ_BAD_CMD);
        return OB_MPQ_BAD_CMD;
    }
    if (cmd_rules[h->cmd].payload >= 0 && h->size != (uint64_t)cmd_rules[h->cmd].payload) {
        *why = ob_mpq_status_str(OB_MPQ_BAD_SIZE);
        return OB_MPQ_BAD_SIZE;
    }
    if (nfds < cmd_rules[h->cmd].min_fds || nfds > cmd_rules[h->cmd].max_fds) {
        *why = ob_mpq_status_str(OB_MPQ_BAD_FDS);
        return OB_MPQ_BAD_FDS;
    }
    switch (h->cmd) {
    case OB_MPQ_PCI_CFGREAD:
    case OB_MPQ_PCI_CFGWRITE:
        memcpy(&m->u.cfg, payload, sizeof(m->u.cfg));
        st = check_cfg(&m->u.cfg, why);
        break;
    case OB_MPQ_BAR_READ:
    case OB_MPQ_BAR_WRITE:
        memcpy(&m->u.bar, payload, sizeof(m->u.bar));
        st = check_bar(&m->u.bar, why);
        if (st == OB_MPQ_OK && m->u.bar.size < 8 && h->cmd == OB_MPQ_BAR_WRITE) {
            m->u.bar.val &= (UINT64_C(1) << (8 * m->u.bar.size)) - 1;
        }
        break;
    case OB_MPQ_SYNC_SYSMEM:
        memcpy(&m->u.sysmem, payload, sizeof(m->u.sysmem));
        break;
    case OB_MPQ_RET:
        if (h->size >= 8) {
            memcpy(&m->u.ret, payload, 8);
            m->has_ret = true;
        }
        break;
    default:
        break;
    }
    if (st != OB_MPQ_OK) {
        return st;
    }
    for (i = 0; i < nfds; i++) {
        m->fds[i] = fds[i];
    }
    m->nfds = nfds;
    return OB_MPQ_OK;
}

static size_t put_hdr(uint8_t *out, int32_t cmd, uint64_t size)
{
    struct ob_mpq_hdr h = { .cmd = cmd, .pad = 0, .size = size };

    memcpy(out, &h, sizeof(h));
    return sizeof(h);
}

size_t ob_mpq_encode_ret(uint8_t out[OB_MPQ_RET_LEN], uint64_t val, bool has_val)
{
    size_t n = put_hdr(out, OB_MPQ_RET, has_val ? 8 : 0);

    if (has_val) {
        memcpy(out + n, &val, 8);
        n += 8;
    }
    return n;
}

size_t ob_mpq_encode_cfg(uint8_t *out, int32_t cmd, uint32_t addr, uint32_t val,
                         int32_t len)
{
    struct ob_mpq_cfg c = { .addr = addr, .val = val, .len = len };
    size_t n = put_hdr(out, cmd, sizeof(c));

    memcpy(out + n, &c, sizeof(c));
    return n + sizeof(c);
}

size_t ob_mpq_encode_bar(uint8_t *out, int32_t cmd, uint64_t addr, uint64_t val,
                         uint32_t size, bool memory)
{
    struct ob_mpq_bar b;
    size_t n = put_hdr(out, cmd, sizeof(b));

    memset(&b, 0, sizeof(b));
    b.addr = addr;
    b.val = val;
    b.size = size;
    b.memory = memory ? 1 : 0;
    memcpy(out + n, &b, sizeof(b));
    return n + sizeof(b);
}

size_t ob_mpq_encode_sysmem(uint8_t *out, const uint64_t *gpa, const uint64_t *size,
                            const int64_t *offset, unsigned n)
{
    struct ob_mpq_sysmem s;
    size_t len = put_hdr(out, OB_MPQ_SYNC_SYSMEM, sizeof(s));
    unsigned i;

    memset(&s, 0, sizeof(s));
    for (i = 0; i < n && i < OB_MPQ_MAX_FDS; i++) {
        s.gpa[i] = gpa[i];
        s.size[i] = size[i];
        s.offset[i] = offset[i];
    }
    memcpy(out + len, &s, sizeof(s));
    return len + sizeof(s);
}

size_t ob_mpq_encode_empty(uint8_t *out, int32_t cmd)
{
    return put_hdr(out, cmd, 0);
}

bool ob_mpq_resolve_bar(const struct ob_bar_window *w, unsigned n,
                        const struct ob_mpq_bar *b, unsigned *bar, uint64_t *off)
{
    bool memory = b->memory != 0;
    unsigned i;

    for (i = 0; i < n; i++) {
        if (w[i].memory != memory || b->addr < w[i].base) {
            continue;
        }
        if (b->addr - w[i].base < w[i].size &&
            b->size <= w[i].size - (b->addr - w[i].base)) {
            *bar = w[i].bar;
            *off = b->addr - w[i].base;
            return true;
        }
    }
    return false;
}
