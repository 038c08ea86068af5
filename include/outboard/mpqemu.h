/*
 * mpqemu.h - the wire format of QEMU's multi-process proxy
 * (x-pci-proxy-dev <-> x-remote), as pure functions over bytes and fds.
 *
 * Every message: a 16-byte header (int32 cmd, 4 bytes padding, uint64
 * payload size) and at most 192 payload bytes, x86-64 little endian; fds
 * travel as SCM_RIGHTS with the header. Nothing here does I/O.
 */
#ifndef OUTBOARD_MPQEMU_H
#define OUTBOARD_MPQEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ob_mpq_cmd {
    OB_MPQ_SYNC_SYSMEM  = 0,
    OB_MPQ_RET          = 1,
    OB_MPQ_PCI_CFGWRITE = 2,
    OB_MPQ_PCI_CFGREAD  = 3,
    OB_MPQ_BAR_WRITE    = 4,
    OB_MPQ_BAR_READ     = 5,
    OB_MPQ_SET_IRQFD    = 6,
    OB_MPQ_DEVICE_RESET = 7,
    OB_MPQ_NUM_CMDS     = 8,
};

#define OB_MPQ_HDR_LEN      16u
#define OB_MPQ_MAX_PAYLOAD  192u
#define OB_MPQ_MAX_MSG      (OB_MPQ_HDR_LEN + OB_MPQ_MAX_PAYLOAD)
#define OB_MPQ_MAX_FDS      8u
#define OB_MPQ_CFG_LEN      12u
#define OB_MPQ_BAR_LEN      24u
#define OB_MPQ_SYSMEM_LEN   192u
#define OB_MPQ_RET_LEN      (OB_MPQ_HDR_LEN + 8u)
#define OB_MPQ_ERR_VALUE    UINT64_MAX
/* Conventional PCI config space, the only kind the proxy forwards. */
#define OB_MPQ_CFG_SPACE    256u

/* Wire layouts (fixed-width fields, explicit padding). */
struct ob_mpq_hdr {
    int32_t cmd;
    uint32_t pad;
    uint64_t size;
};

struct ob_mpq_cfg {
    uint32_t addr;
    uint32_t val;
    int32_t len;
};

struct ob_mpq_bar {
    uint64_t addr;        /* absolute bus address: BAR base + offset */
    uint64_t val;
    uint32_t size;        /* 1, 2, 4 or 8 */
    uint8_t memory;       /* 1 memory space, 0 I/O space */
    uint8_t pad[3];
};

struct ob_mpq_sysmem {
    uint64_t gpa[OB_MPQ_MAX_FDS];
    uint64_t size[OB_MPQ_MAX_FDS];
    int64_t offset[OB_MPQ_MAX_FDS];
};

_Static_assert(sizeof(struct ob_mpq_hdr) == OB_MPQ_HDR_LEN, "header layout");
_Static_assert(sizeof(struct ob_mpq_cfg) == OB_MPQ_CFG_LEN, "cfg layout");
_Static_assert(sizeof(struct ob_mpq_bar) == OB_MPQ_BAR_LEN, "bar layout");
_Static_assert(offsetof(struct ob_mpq_bar, memory) == 20, "bar.memory offset");
_Static_assert(sizeof(struct ob_mpq_sysmem) == OB_MPQ_SYSMEM_LEN, "sysmem layout");

/* A decoded, validated request. */
struct ob_mpq_msg {
    int32_t cmd;
    union {
        struct ob_mpq_cfg cfg;
        struct ob_mpq_bar bar;
        struct ob_mpq_sysmem sysmem;
        uint64_t ret;
    } u;
    bool has_ret;           /* RET with a payload */
    int fds[OB_MPQ_MAX_FDS];
    unsigned nfds;
};

enum ob_mpq_status {
    OB_MPQ_OK = 0,
    OB_MPQ_NEED_MORE,      /* not enough bytes yet */
    OB_MPQ_BAD_FRAMING,    /* payload size > 192: the stream cannot be resynchronised */
    OB_MPQ_BAD_CMD,        /* command value unknown */
    OB_MPQ_BAD_SIZE,       /* payload size wrong for the command */
    OB_MPQ_BAD_FDS,        /* fd count wrong for the command */
    OB_MPQ_BAD_FIELD,      /* a field out of range (config len/addr, BAR width) */
};

/* Parses a header from BUF[0..LEN). OK, NEED_MORE or BAD_FRAMING. */
enum ob_mpq_status ob_mpq_parse_hdr(const uint8_t *buf, size_t len,
                                    struct ob_mpq_hdr *h);

/*
 * Decodes and validates a whole message whose header H was parsed and whose
 * PAYLOAD (H->size bytes) and FDS arrived. On OK, M holds the message and
 * its fds. On any error M->fds is empty: the caller still owns (and must
 * close) FDS; *WHY names the problem.
 */
enum ob_mpq_status ob_mpq_decode(const struct ob_mpq_hdr *h, const uint8_t *payload,
                                 const int *fds, unsigned nfds,
                                 struct ob_mpq_msg *m, const char **why);

/* True for the commands that get exactly one RET. */
bool ob_mpq_wants_reply(int32_t cmd);
const char *ob_mpq_cmd_name(int32_t cmd);
const char *ob_mpq_status_str(enum ob_mpq_status st);

/* Encoders (the proxy side and the RET): each returns the message length. */
size_t ob_mpq_encode_ret(uint8_t out[OB_MPQ_RET_LEN], uint64_t val, bool has_val);
size_t ob_mpq_encode_cfg(uint8_t *out, int32_t cmd, uint32_t addr, uint32_t val,
                         int32_t len);
size_t ob_mpq_encode_bar(uint8_t *out, int32_t cmd, uint64_t addr, uint64_t val,
                         uint32_t size, bool memory);
size_t ob_mpq_encode_sysmem(uint8_t *out, const uint64_t *gpa, const uint64_t *size,
                            const int64_t *offset, unsigned n);
size_t ob_mpq_encode_empty(uint8_t *out, int32_t cmd);

/* Where a device decodes BAR accesses right now (enabled BARs only). */
struct ob_bar_window {
    uint64_t base;
    uint64_t size;
    uint8_t bar;
    bool memory;
};

/*
 * Maps an absolute BAR access onto one window: the access must lie wholly
 * inside it, in the same space. Returns true with the BAR index and offset.
 */
bool ob_mpq_resolve_bar(const struct ob_bar_window *w, unsigned n,
                        const struct ob_mpq_bar *b, unsigned *bar, uint64_t *off);

#endif
