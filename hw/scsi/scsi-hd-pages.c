/*
 * scsi-hd-pages.c - scsi-hd's emulated response data, byte-compatible with
 * QEMU 7.2's scsi-hd: standard INQUIRY, VPD pages 00/80/83/B0/B1/B2, MODE
 * SENSE headers, block descriptor and pages 01/04/05/08, READ CAPACITY.
 * Pure functions of the device state.
 */
#include <string.h>

#include "scsi-hd.h"

#define TYPE_DISK       0x00

static void put_be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    put_be16(p + 1, v);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, v >> 16);
    put_be16(p + 2, v);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

/* Copies S into a field of LEN bytes, padded with spaces. */
static void put_padded(uint8_t *p, size_t len, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    memset(p, ' ', len);
    memcpy(p, s, n < len ? n : len);
}

uint32_t scsi_hd_discard_granularity(const struct scsi_hd *s)
{
    if (s->discard_granularity != UINT32_MAX) {
        return s->discard_granularity;
    }
    return s->logical_block_size > SCSI_HD_DISCARD_GRAN ? s->logical_block_size :
           SCSI_HD_DISCARD_GRAN;
}

uint64_t scsi_hd_blocks(const struct scsi_hd *s)
{
    return s->drive ? s->drive->size / s->bs : 0;
}

static bool hd_readonly(const struct scsi_hd *s)
{
    return s->drive && s->drive->readonly;
}

/* ---- INQUIRY ------------------------------------------------------------ */

static int vpd_supported_pages(const struct scsi_hd *s, uint8_t *p)
{
    int n = 0;

    p[n++] = 0x00;
    if (s->serial) {
        p[n++] = 0x80;
    }
    p[n++] = 0x83;
    p[n++] = 0xb0;
    p[n++] = 0xb1;
    p[n++] = 0xb2;
    return n;
}

static int vpd_serial(const struct scsi_hd *s, uint8_t *p)
{
    size_t n;

    if (!s->serial) {
        return -1;
    }
    n = strlen(s->serial);
    n = n < SCSI_HD_MAX_SERIAL ? n : SCSI_HD_MAX_SERIAL;
    memcpy(p, s->serial, n);
    return (int)n;
}

static int vpd_device_id(const struct scsi_hd *s, uint8_t *p)
{
    size_t id_len = s->device_id ? strlen(s->device_id) : 0;
    /* the page length is one byte: the other designators take their share
     * (QEMU asserts when a long device_id leaves them no room) */
    size_t others = (s->wwn ? 12 : 0) + (s->port_wwn ? 12 : 0) + (s->port_index ? 8 : 0);
    int n = 0;

    if (id_len > 255 - 8) {
        id_len = 255 - 8;
    }
    if (id_len > 255 - 4 - others) {
        id_len = 255 - 4 - others;
    }
    if (id_len) {
        p[n++] = 0x02;              /* code set: ASCII */
        p[n++] = 0x00;              /* designator type 0: vendor specific */
        p[n++] = 0x00;
        p[n++] = (uint8_t)id_len;
        memcpy(p + n, s->device_id, id_len);
        n += (int)id_len;
    }
    if (s->wwn) {
        p[n++] = 0x01;              /* code set: binary */
        p[n++] = 0x03;              /* designator type 3: NAA */
        p[n++] = 0x00;
        p[n++] = 8;
        put_be64(p + n, s->wwn);
        n += 8;
    }
    if (s->port_wwn) {
        p[n++] = 0x61;              /* protocol SAS, PIV, code set: binary */
        p[n++] = 0x93;              /* association: target port; type 3: NAA */
        p[n++] = 0x00;
        p[n++] = 8;
        put_be64(p + n, s->port_wwn);
        n += 8;
    }
    if (s->port_index) {
        p[n++] = 0x61;
        p[n++] = 0x94;              /* target port; type 4: relative target port */
        p[n++] = 0x00;
        p[n++] = 4;
        put_be16(p + n + 2, s->port_index);     /* bytes 0-1 reserved */
        n += 4;
    }
    return n;
}

/* The maximum transfer length in blocks: max_io_size's, unless that is 0
 * blocks, capped by the backend's (INT_MAX bytes). */
static uint32_t max_io_blocks(const struct scsi_hd *s)
{
    uint32_t dev = (uint32_t)(s->max_io_size / s->bs);
    uint32_t backend = SCSI_HD_MAX_IO_BYTES / s->bs;

    return dev && dev < backend ? dev : backend;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static int vpd_block_limits(const struct scsi_hd *s, uint8_t *p)
{
    uint32_t max_io = max_io_blocks(s);
    /* neither granularity nor optimal length may exceed the maximum */
    uint32_t min_io = min_u32(s->min_io_size / s->bs, max_io);
    uint32_t opt_io = min_u32(s->opt_io_size / s->bs, max_io);

    p[0] = 1;                                   /* WSNZ */
    put_be16(p + 2, min_io);                    /* optimal transfer granularity */
    put_be32(p + 4, max_io);                    /* maximum transfer length */
    put_be32(p + 8, opt_io);                    /* optimal transfer length */
    put_be32(p + 16, (uint32_t)(s->max_unmap_size / s->bs)); /* max unmap LBAs */
    put_be32(p + 20, 255);                      /* max unmap descriptors */
    put_be32(p + 24, scsi_hd_discard_granularity(s) / s->bs); /* unmap granularity */
    put_be32(p + 36, max_io);                   /* max write same length */
    return 0x3c;
}

static int vpd_block_characteristics(const struct scsi_hd *s, uint8_t *p)
{
    put_be16(p, s->rotation_rate);
    return 0x3c;
}

static int vpd_provisioning(const struct scsi_hd *s, uint8_t *p)
{
    p[1] = 0xe0;        /* LBPU, LBPWS, LBPWS10 */
    /* thin provisioned, unless discard_granularity=0 (full) */
    p[2] = scsi_hd_discard_granularity(s) ? 2 : 1;
    return 4;
}

static int inquiry_vpd(const struct scsi_hd *s, uint8_t page, uint8_t *out)
{
    int n;

    out[0] = TYPE_DISK;
    out[1] = page;
    switch (page) {
    case 0x00:
        n = vpd_supported_pages(s, out + 4);
        break;
    case 0x80:
        n = vpd_serial(s, out + 4);
        break;
    case 0x83:
        n = vpd_device_id(s, out + 4);
        break;
    case 0xb0:
        n = vpd_block_limits(s, out + 4);
        break;
    case 0xb1:
        n = vpd_block_characteristics(s, out + 4);
        break;
    case 0xb2:
        n = vpd_provisioning(s, out + 4);
        break;
    default:
        return -1;
    }
    if (n < 0) {
        return -1;
    }
    out[3] = (uint8_t)n;
    return n + 4;
}

int scsi_hd_inquiry(const struct scsi_hd *s, const uint8_t *cdb, uint32_t alloc,
                    bool tcq, uint8_t *out)
{
    uint32_t len = alloc < SCSI_HD_MAX_INQUIRY ? alloc : SCSI_HD_MAX_INQUIRY;
    size_t vl;

    if (cdb[1] & 0x1) {
        return inquiry_vpd(s, cdb[2], out);
    }
    if (cdb[2] != 0) {
        return -1;
    }
    out[0] = TYPE_DISK;
    out[1] = s->removable ? 0x80 : 0;
    out[2] = (uint8_t)s->scsi_version;  /* default 5: SPC-3 */
    out[3] = 0x12;                      /* HiSup, response data format 2 */
    /* QEMU: the additional length follows the allocation length above 36 */
    out[4] = (uint8_t)(len > 36 ? len - 5 : 36 - 5);
    out[7] = 0x10 | (tcq ? 0x02 : 0);   /* Sync, CmdQue */
    put_padded(out + 8, 8, s->vendor);
    put_padded(out + 16, 16, s->product);
    vl = s->ver ? strlen(s->ver) : 0;
    memcpy(out + 32, s->ver, vl < 4 ? vl : 4);
    return (int)len;
}

/* ---- MODE SENSE --------------------------------------------------------- */

static int page_rw_error(unsigned pc, uint8_t *p)
{
    if (pc != 1) {
        p[0] = 0x80;                    /* AWRE */
    }
    return 10;
}

static int page_rigid_geometry(const struct scsi_hd *s, unsigned pc, uint8_t *p)
{
    if (pc == 1) {
        return 0x16;
    }
    put_be24(p, s->cyls);
    p[3] = (uint8_t)s->heads;
    put_be24(p + 4, s->cyls);           /* write precompensation: disabled */
    put_be24(p + 7, s->cyls);           /* reduced write current: disabled */
    put_be16(p + 10, 200);              /* step rate, 200 ns */
    put_be24(p + 12, 0xffffff);         /* landing zone */
    put_be16(p + 18, 5400);             /* rotation rate, rpm */
    return 0x16;
}

static int page_flexible_disk(const struct scsi_hd *s, unsigned pc, uint8_t *p)
{
    if (pc == 1) {
        return 0x1e;
    }
    put_be16(p, 5000);                  /* transfer rate, kbit/s */
    p[2] = (uint8_t)s->heads;
    p[3] = (uint8_t)s->secs;
    p[4] = (uint8_t)(s->bs >> 8);       /* bytes per sector (high byte) */
    put_be16(p + 6, s->cyls & 0xffff);
    put_be16(p + 8, s->cyls & 0xffff);  /* write precompensation */
    put_be16(p + 10, s->cyls & 0xffff); /* reduced write current */
    put_be16(p + 12, 1);                /* step rate, 100 us */
    p[14] = 1;                          /* step pulse width, us */
    put_be16(p + 15, 1);                /* head settle delay, 100 us */
    p[17] = 1;                          /* motor on delay, 0.1 s */
    p[18] = 1;                          /* motor off delay, 0.1 s */
    put_be16(p + 26, 5400);             /* rotation rate, rpm */
    return 0x1e;
}

static int page_caching(const struct scsi_hd *s, unsigned pc, uint8_t *p)
{
    if (pc == 1 || s->wce) {
        p[0] = 0x04;                    /* WCE (changeable) */
    }
    return 0x12;
}

int scsi_hd_mode_page(const struct scsi_hd *s, unsigned page, unsigned pc,
                      uint8_t *out)
{
    int len;

    switch (page) {
    case 0x00:
        /* QEMU's quirk for Apple's driver: a 2-byte vendor page, all of it
         * changeable, zeroes otherwise */
        if (!s->quirk_apple_vendor_page) {
            return -1;
        }
        len = 2;
        if (pc == 1) {
            out[2] = out[3] = 0xff;
        }
        break;
    case 0x01:
        len = page_rw_error(pc, out + 2);
        break;
    case 0x04:
        len = page_rigid_geometry(s, pc, out + 2);
        break;
    case 0x05:
        len = page_flexible_disk(s, pc, out + 2);
        break;
    case 0x08:
        len = page_caching(s, pc, out + 2);
        break;
    default:
        return -1;
    }
    out[0] = (uint8_t)page;
    out[1] = (uint8_t)len;
    return len + 2;
}

/* The 8-byte block descriptor; 0 bytes with DBD or an empty drive. */
static int block_descriptor(const struct scsi_hd *s, uint8_t *p)
{
    uint64_t sectors = s->drive ? s->drive->size / 512 : 0;
    uint64_t blocks;

    if (sectors == 0) {
        return 0;
    }
    blocks = sectors / (s->bs / 512);
    put_be24(p + 1, blocks > 0xffffff ? 0 : (uint32_t)blocks);
    put_be24(p + 5, s->bs);
    return 8;
}

int scsi_hd_mode_sense(const struct scsi_hd *s, const uint8_t *cdb, uint8_t *out)
{
    bool six = cdb[0] == 0x1a;
    bool dbd = (cdb[1] & 0x08) != 0;
    unsigned page = cdb[2] & 0x3f, pc = cdb[2] >> 6;
    uint8_t dsp = (uint8_t)((s->dpofua ? 0x10 : 0) | (hd_readonly(s) ? 0x80 : 0));
    int hdr = six ? 4 : 8, n, bd = 0;

    if (six) {
        out[2] = dsp;
    } else {
        out[3] = dsp;
    }
    n = hdr;
    if (!dbd) {
        bd = block_descriptor(s, out + n);
        n += bd;
        out[six ? 3 : 7] = (uint8_t)bd;
    }
    if (pc == 3) {
        return -2;
    }
    if (page == 0x3f) {
        unsigned pg;

        for (pg = 0; pg < 0x3f; pg++) {
            int l = scsi_hd_mode_page(s, pg, pc, out + n);

            n += l > 0 ? l : 0;
        }
    } else {
        int l = scsi_hd_mode_page(s, page, pc, out + n);

        if (l < 0) {
            return -1;
        }
        n += l;
    }
    if (six) {
        out[0] = (uint8_t)(n - 1);
    } else {
        put_be16(out, (uint32_t)(n - 2));
    }
    return n;
}

/* ---- READ CAPACITY ------------------------------------------------------ */

static unsigned phys_exp(const struct scsi_hd *s)
{
    uint32_t p = s->physical_block_size, l = s->logical_block_size;
    unsigned e = 0;

    for (; p > l; p >>= 1) {
        e++;
    }
    return e;
}

int scsi_hd_read_capacity10(struct scsi_hd *s, const uint8_t *cdb, uint8_t *out)
{
    uint64_t blocks = scsi_hd_blocks(s);
    uint64_t last;
    uint32_t lba = (uint32_t)cdb[2] << 24 | (uint32_t)cdb[3] << 16 |
                   (uint32_t)cdb[4] << 8 | cdb[5];

    if (blocks == 0) {
        return SCSI_HD_NOT_READY;
    }
    if ((cdb[8] & 1) == 0 && lba != 0) {
        return -1;
    }
    last = blocks - 1;
    s->max_lba = last;
    put_be32(out, last > UINT32_MAX ? UINT32_MAX : (uint32_t)last);
    put_be32(out + 4, s->bs);
    return 8;
}

int scsi_hd_read_capacity16(struct scsi_hd *s, const uint8_t *cdb, uint8_t *out)
{
    uint64_t blocks = scsi_hd_blocks(s);
    uint64_t lba = 0;
    int i;

    if ((cdb[1] & 0x1f) != 0x10) {
        return -1;
    }
    if (blocks == 0) {
        return SCSI_HD_NOT_READY;
    }
    for (i = 2; i < 10; i++) {
        lba = lba << 8 | cdb[i];
    }
    if ((cdb[14] & 1) == 0 && lba != 0) {
        return -1;
    }
    s->max_lba = blocks - 1;
    put_be64(out, blocks - 1);
    put_be32(out + 8, s->bs);
    out[13] = (uint8_t)phys_exp(s);
    if (scsi_hd_discard_granularity(s)) {
        out[14] = 0x80;                 /* TPE: UNMAP and WRITE SAME work */
    }
    return 32;
}
