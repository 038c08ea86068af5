/*
 * scsi-hd.h - the scsi-hd model's state and the pure builders of its
 * emulated responses (INQUIRY and VPD pages, MODE SENSE pages, READ
 * CAPACITY), kept apart from the request machinery in scsi-hd.c.
 */
#ifndef OUTBOARD_HW_SCSI_HD_H
#define OUTBOARD_HW_SCSI_HD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "outboard/block.h"
#include "outboard/device.h"
#include "outboard/scsi.h"

#define SCSI_HD_MAX_EMU_LEN    65536       /* QEMU's cap on emulated commands */
#define SCSI_HD_CHUNK          (256u * 1024)  /* data moved per transfer_data */
#define SCSI_HD_MAX_INQUIRY    256
#define SCSI_HD_MAX_SERIAL     36
#define SCSI_HD_MAX_IO_BYTES   2147483647u    /* the backend's max transfer (INT_MAX) */
#define SCSI_HD_DISCARD_GRAN   4096u          /* default discard granularity (at least) */

struct scsi_hd_req;

struct scsi_hd {
    struct ob_scsi_dev sdev;        /* first: the bus sees an ob_scsi_dev */
    /* properties */
    char *drive_id;
    char *serial;
    char *vendor;
    char *product;
    char *ver;
    char *device_id;
    char *write_cache;              /* on, off, auto (from the drive's cache mode) */
    uint64_t wwn;
    uint32_t logical_block_size;
    uint32_t physical_block_size;   /* 0: the logical block size */
    uint32_t rotation_rate;
    uint32_t cyls, heads, secs;     /* geometry hint (0: guessed) */
    uint32_t lcyls, lheads, lsecs;  /* firmware's logical geometry: stored only */
    uint32_t min_io_size;           /* bytes: VPD B0 optimal transfer granularity */
    uint32_t opt_io_size;           /* bytes: VPD B0 optimal transfer length */
    uint32_t discard_granularity;   /* bytes; UINT32_MAX: max(4 KiB, block size) */
    uint64_t max_io_size;           /* bytes: VPD B0 maximum transfer length */
    uint64_t max_unmap_size;        /* bytes: VPD B0 maximum unmap LBA count */
    uint64_t port_wwn;              /* VPD 83 target port NAA designator (0: none) */
    uint16_t port_index;            /* VPD 83 relative target port (0: none) */
    int32_t scsi_version;           /* INQUIRY version; <= 2 drops RD/WRPROTECT checks */
    int32_t bootindex;              /* stored only (the VM's firmware uses it) */
    enum ob_on_off_auto backend_defaults;
    enum ob_on_off_auto account_invalid, account_failed;   /* stored only */
    char *werror, *rerror;          /* auto, or override the drive's policy */
    bool share_rw;                  /* stored only */
    bool quirk_apple_vendor_page;   /* MODE SENSE page 0 for Apple's driver */
    bool removable;
    bool dpofua;
    /* device state (what migration will describe) */
    struct ob_drive *drive;
    uint32_t bs;                    /* current logical block size */
    uint64_t max_lba;               /* as QEMU: refreshed at reset/READ CAPACITY */
    bool wce;                       /* write cache enabled (MODE SELECT) */
    bool tray_locked;               /* PREVENT ALLOW MEDIUM REMOVAL */
    /* cancelled requests whose I/O is still in flight, and the requests
     * that wait for them to settle (or for the device to be resumed)
     * before touching the disk */
    unsigned zombies;
    struct scsi_hd_req *parked_head, *parked_tail;
    bool quiesced;                  /* run state: no new I/O until resume */
    /* a chunk-sized data buffer of a finished request, for the next one:
     * malloc serves that size with a fresh mmap each time (page faults and
     * munmap per request) */
    uint8_t *spare_buf;
    uint32_t spare_cap;
};

/* The discard granularity in bytes (0: discard disabled): the property, or
 * by default the larger of 4 KiB and the logical block size. */
uint32_t scsi_hd_discard_granularity(const struct scsi_hd *s);
/* Number of logical blocks (the drive size rounded down). */
uint64_t scsi_hd_blocks(const struct scsi_hd *s);

/* Builders: fill OUT (zeroed, at least SCSI_HD_MAX_INQUIRY bytes, or the
 * allocation length if larger) and return the length built, or -1 for
 * INVALID FIELD IN CDB. CDB is the command's CDB, ALLOC its allocation
 * length, TCQ the bus's tagged queuing. */
int scsi_hd_inquiry(const struct scsi_hd *s, const uint8_t *cdb, uint32_t alloc,
                    bool tcq, uint8_t *out);
/* MODE SENSE(6/10). -1: invalid field; -2: saving parameters not supported. */
int scsi_hd_mode_sense(const struct scsi_hd *s, const uint8_t *cdb, uint8_t *out);
/* One mode page (PC: 0 current, 1 changeable, 2 default) at OUT, with its
 * 2-byte header. Returns its length or -1 if the page does not exist. */
int scsi_hd_mode_page(const struct scsi_hd *s, unsigned page, unsigned pc,
                      uint8_t *out);
/* READ CAPACITY(10/16): -1 invalid field, -3 not ready (no blocks). */
#define SCSI_HD_NOT_READY  (-3)
int scsi_hd_read_capacity10(struct scsi_hd *s, const uint8_t *cdb, uint8_t *out);
int scsi_hd_read_capacity16(struct scsi_hd *s, const uint8_t *cdb, uint8_t *out);

#endif
