/*
 * scsi.h - a parallel SCSI bus with targets and LUNs, SCSI requests, and the
 * interface between a host bus adapter (the HBA, e.g. the LSI53C895A) and
 * the devices on its bus (scsi-hd).
 *
 * Request life cycle, as the HBA sees it (QEMU's, see lsi53c895a.md §6.1):
 *   r = ob_scsi_req_new(bus, target, lun, tag, cdb, len, hba_priv);
 *                                    one reference, the HBA's (NULL: out of
 *                                    memory, report BUSY)
 *   n = ob_scsi_req_enqueue(r);      >0: data-in of n bytes, <0: data-out of
 *                                    -n bytes, 0: no data (the request may
 *                                    already be complete, or completes later)
 *   if n != 0: ob_scsi_req_continue(r) when the HBA is ready for data
 *   ops->transfer_data(r, len)       the device has LEN bytes ready in
 *                                    ob_scsi_req_buf(r) (data-in) or wants
 *                                    LEN bytes there (data-out); the HBA moves
 *                                    them (possibly in pieces, possibly
 *                                    later) and calls ob_scsi_req_continue(r)
 *   ops->complete(r, residual)       r->status (and sense) are final; the HBA
 *                                    reports the status and drops its
 *                                    reference with ob_scsi_req_unref(r)
 *   ob_scsi_req_cancel(r)            at any time (abort, reset): ops->cancelled
 *                                    runs before it returns and nothing else
 *                                    follows; I/O still in flight keeps its
 *                                    own reference and finishes into the
 *                                    cancelled request, which is freed after
 * Callbacks may run from inside enqueue/continue (synchronous commands) or
 * later from the loop (disk I/O completions).
 *
 * Routing (QEMU's scsi_req_new): a pending unit attention fails every
 * command but INQUIRY, REPORT LUNS and a REQUEST SENSE that fetches it; REPORT
 * LUNS, a REQUEST SENSE while sense is stored, and any command to a LUN
 * without a device are answered by the bus ("target" handler); everything
 * else goes to the device.
 */
#ifndef OUTBOARD_SCSI_H
#define OUTBOARD_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outboard/device.h"

#define OB_SCSI_MAX_CDB     16
#define OB_SCSI_SENSE_LEN   18      /* fixed-format sense */

/* SCSI status codes */
#define OB_SCSI_GOOD               0x00
#define OB_SCSI_CHECK_CONDITION    0x02
#define OB_SCSI_BUSY               0x08
#define OB_SCSI_RESERVATION_CONFLICT 0x18
#define OB_SCSI_TASK_SET_FULL      0x28

struct ob_ctx;
struct ob_scsi_bus;
struct ob_scsi_req;
struct ob_scsi_dev;

enum ob_scsi_xfer {
    OB_SCSI_XFER_NONE,
    OB_SCSI_XFER_FROM_DEV,   /* data-in */
    OB_SCSI_XFER_TO_DEV,     /* data-out */
};

/* What the HBA implements. */
struct ob_scsi_bus_ops {
    void (*transfer_data)(struct ob_scsi_req *r, uint32_t len);
    void (*complete)(struct ob_scsi_req *r, uint32_t residual);
    void (*cancelled)(struct ob_scsi_req *r);   /* optional */
};

/* A sense triple (key, ASC, ASCQ). */
struct ob_scsi_sense {
    uint8_t key, asc, ascq;
};

struct ob_scsi_bus {
    struct ob_device *hba;
    const struct ob_scsi_bus_ops *ops;
    char name[64];               /* "<hba id>.0", what bus= names */
    unsigned max_target;         /* valid scsi-id: 0 .. max_target */
    unsigned max_lun;
    struct ob_scsi_dev *devs;    /* attached devices */
    struct ob_scsi_bus *next;    /* ctx bus registry */
    bool tcq;                    /* tagged queuing (INQUIRY CmdQue); init sets it */
    struct ob_scsi_req *reqs;    /* enqueued requests, oldest first */
    struct ob_ctx *ctx;          /* where the bus is registered, or NULL */
};

/* Per-device-type request handling (scsi-hd implements it). */
struct ob_scsi_dev_ops {
    /* Parses R's CDB and fills r->mode/r->xfer_len, or fails it with sense. */
    int (*parse_cdb)(struct ob_scsi_dev *d, struct ob_scsi_req *r);
    /* Starts R; returns what ob_scsi_req_enqueue() returns. */
    int32_t (*start)(struct ob_scsi_req *r);
    /* The HBA moved the last transfer_data chunk. */
    void (*continue_req)(struct ob_scsi_req *r);
    /* Cancels R: no callback after this but `cancelled`. */
    void (*cancel)(struct ob_scsi_req *r);
    /* Bus or device reset: cancels the device's requests, sets the
     * POWER ON/RESET unit attention, resets the device state. */
    void (*reset)(struct ob_scsi_dev *d);
    /* Optional: bytes to allocate per request (>= sizeof(struct
     * ob_scsi_req), which must come first), and a destructor for what the
     * device keeps in it, run when the last reference goes. */
    size_t req_size;
    void (*free_req)(struct ob_scsi_req *r);
};

struct ob_scsi_dev {
    struct ob_device dev;
    const struct ob_scsi_dev_ops *ops;
    struct ob_scsi_bus *bus;
    char *bus_name;              /* property "bus" */
    uint32_t channel;            /* property "channel" (always 0) */
    uint32_t id;                 /* property "scsi-id" */
    uint32_t lun;                /* property "lun" */
    /* pending unit attention and stored sense (REQUEST SENSE) */
    struct ob_scsi_sense unit_attention;
    bool has_unit_attention;
    uint8_t sense[OB_SCSI_SENSE_LEN];
    unsigned sense_len;
    struct ob_scsi_dev *next_on_bus;
    bool sense_is_ua;            /* the stored sense is a reported unit attention */
    uint32_t blocksize;          /* for transfer lengths (0: 512) */
};

struct ob_scsi_req {
    struct ob_scsi_bus *bus;
    struct ob_scsi_dev *dev;     /* NULL: no such LUN (bus handles it) */
    unsigned refs;
    uint32_t target;
    uint32_t lun;
    uint32_t tag;
    uint8_t cdb[OB_SCSI_MAX_CDB];
    unsigned cdb_len;
    enum ob_scsi_xfer mode;
    uint64_t xfer_len;           /* expected transfer length in bytes */
    uint8_t status;
    uint8_t sense[OB_SCSI_SENSE_LEN];
    unsigned sense_len;
    bool enqueued;
    bool io_canceled;
    bool completed;
    void *hba_private;
    void *dev_private;           /* the device's per-request state */
    uint8_t *buf;                /* current data chunk (see ob_scsi_req_buf) */
    uint32_t buf_len;
    /* bus internals */
    uint8_t handler;             /* enum ob_scsi_handler */
    struct ob_scsi_dev *target_dev;  /* device holding the I_T_L state: DEV,
                                     * or another LUN of the target, or NULL */
    uint64_t transferred;        /* bytes handed to the HBA so far */
    struct ob_scsi_req *prev_q, *next_q;   /* bus->reqs */
    uint8_t *tbuf;               /* bus-level responses */
    uint32_t tlen;
    bool tsent;
};

/* Who answers a request. */
enum ob_scsi_handler {
    OB_SCSI_H_DEVICE,            /* the device at the LUN */
    OB_SCSI_H_TARGET,            /* the bus: REPORT LUNS, stored sense, no LUN */
    OB_SCSI_H_UA,                /* fails with the pending unit attention */
    OB_SCSI_H_FAIL,              /* fails with the sense built at creation */
};

/* Declares BUS owned by HBA, named "<hba id>.0", and registers it in the
 * context so `-device scsi-hd,bus=...` finds it. */
int ob_scsi_bus_init(struct ob_scsi_bus *bus, struct ob_device *hba,
                     const struct ob_scsi_bus_ops *ops, unsigned max_target,
                     unsigned max_lun, char *err, size_t errlen);
void ob_scsi_bus_fini(struct ob_scsi_bus *bus);
struct ob_scsi_bus *ob_scsi_bus_find(struct ob_ctx *ctx, const char *name);
struct ob_scsi_dev *ob_scsi_bus_device(struct ob_scsi_bus *bus, unsigned target,
                                       unsigned lun);
/* Any device at TARGET (any LUN): selection succeeds if so. */
bool ob_scsi_bus_target_present(struct ob_scsi_bus *bus, unsigned target);
/* SCSI bus reset: cancels every request, unit attention on every device. */
void ob_scsi_bus_reset(struct ob_scsi_bus *bus);
/* Cancels the requests addressed to TARGET (any LUN), e.g. BUS DEVICE RESET. */
void ob_scsi_bus_cancel_target(struct ob_scsi_bus *bus, unsigned target);

struct ob_scsi_req *ob_scsi_req_new(struct ob_scsi_bus *bus, unsigned target,
                                    unsigned lun, uint32_t tag, const uint8_t *cdb,
                                    unsigned cdb_avail, void *hba_private);
int32_t ob_scsi_req_enqueue(struct ob_scsi_req *r);
void ob_scsi_req_continue(struct ob_scsi_req *r);
uint8_t *ob_scsi_req_buf(struct ob_scsi_req *r);
void ob_scsi_req_cancel(struct ob_scsi_req *r);
struct ob_scsi_req *ob_scsi_req_ref(struct ob_scsi_req *r);
void ob_scsi_req_unref(struct ob_scsi_req *r);

/* For device models: finish R with GOOD, or with CHECK CONDITION + sense. */
void ob_scsi_req_complete(struct ob_scsi_req *r, uint8_t status);
void ob_scsi_req_fail(struct ob_scsi_req *r, struct ob_scsi_sense s);
/* For device models: hand LEN bytes of BUF to the HBA (transfer_data). */
void ob_scsi_req_data(struct ob_scsi_req *r, uint8_t *buf, uint32_t len);

/* Properties every SCSI device has: bus, scsi-id, lun, channel. */
extern const struct ob_prop ob_scsi_bus_props[];
#define OB_SCSI_ID_AUTO  UINT32_MAX   /* scsi-id/lun not given: first free */
/* For device models' realize: finds the bus (bus= or the first SCSI bus),
 * checks or assigns the address and links D onto the bus. QEMU's errors:
 * "Bus 'x' not found", "bad scsi device id: 9", "lun already used by 'x'". */
int ob_scsi_dev_attach(struct ob_scsi_dev *d, char *err, size_t errlen);
/* Cancels D's requests and unlinks it from its bus. */
void ob_scsi_dev_detach(struct ob_scsi_dev *d);
/* Cancels the requests addressed to D (and to missing LUNs it answers for). */
void ob_scsi_dev_purge(struct ob_scsi_dev *d);
/* Sets a unit attention unless a more important one is pending. */
void ob_scsi_dev_set_ua(struct ob_scsi_dev *d, struct ob_scsi_sense s);

/* QEMU's transfer length and direction of CDB for a device of BLOCKSIZE. */
void ob_scsi_cdb_xfer(const uint8_t *cdb, uint32_t blocksize, uint64_t *xfer,
                      enum ob_scsi_xfer *mode);
/* The LBA field of CDB (by its group). */
uint64_t ob_scsi_cdb_lba(const uint8_t *cdb);
/* The transfer-length field of a READ/WRITE CDB (0 means 256 for group 0). */
uint32_t ob_scsi_cdb_blocks(const uint8_t *cdb);
/* Status (and *S for CHECK CONDITION) for a backend error -ERRNO, as QEMU
 * maps it (EIO and unknown errors: ABORTED COMMAND 0B/00/06). */
uint8_t ob_scsi_sense_from_errno(int err, struct ob_scsi_sense *s);
/* Fixed (18 bytes) or descriptor (8 bytes) sense from stored fixed sense
 * IN (IN_LEN 0: NO SENSE), at most LEN bytes. Returns the length. */
unsigned ob_scsi_convert_sense(const uint8_t *in, unsigned in_len, uint8_t *out,
                               unsigned len, bool fixed);

/* CDB length from the group code (0 = reserved/vendor group). */
unsigned ob_scsi_cdb_len(uint8_t opcode);
/* Builds fixed-format sense (18 bytes) into OUT. */
void ob_scsi_build_sense(uint8_t out[OB_SCSI_SENSE_LEN], struct ob_scsi_sense s);

/* Common sense triples */
#define OB_SENSE_NO_SENSE          ((struct ob_scsi_sense){ 0x00, 0x00, 0x00 })
#define OB_SENSE_INVALID_OPCODE    ((struct ob_scsi_sense){ 0x05, 0x20, 0x00 })
#define OB_SENSE_LBA_OUT_OF_RANGE  ((struct ob_scsi_sense){ 0x05, 0x21, 0x00 })
#define OB_SENSE_INVALID_FIELD     ((struct ob_scsi_sense){ 0x05, 0x24, 0x00 })
#define OB_SENSE_INVALID_PARAM     ((struct ob_scsi_sense){ 0x05, 0x26, 0x00 })
#define OB_SENSE_LUN_NOT_SUPPORTED ((struct ob_scsi_sense){ 0x05, 0x25, 0x00 })
#define OB_SENSE_WRITE_PROTECTED   ((struct ob_scsi_sense){ 0x07, 0x27, 0x00 })
#define OB_SENSE_MEDIUM_ERROR_READ ((struct ob_scsi_sense){ 0x03, 0x11, 0x00 })
#define OB_SENSE_MEDIUM_ERROR_WRITE ((struct ob_scsi_sense){ 0x03, 0x0c, 0x00 })
#define OB_SENSE_SPACE_ALLOC_FAILED ((struct ob_scsi_sense){ 0x07, 0x27, 0x07 })
#define OB_SENSE_RESET             ((struct ob_scsi_sense){ 0x06, 0x29, 0x00 })
#define OB_SENSE_BUS_RESET         ((struct ob_scsi_sense){ 0x06, 0x29, 0x02 })
#define OB_SENSE_POWER_ON          ((struct ob_scsi_sense){ 0x06, 0x29, 0x00 })
#define OB_SENSE_LUNS_CHANGED      ((struct ob_scsi_sense){ 0x06, 0x3f, 0x0e })
#define OB_SENSE_IO_ERROR          ((struct ob_scsi_sense){ 0x0b, 0x00, 0x06 })
#define OB_SENSE_INVALID_PARAM_LEN ((struct ob_scsi_sense){ 0x05, 0x1a, 0x00 })
#define OB_SENSE_SAVING_PARAMS_NOT_SUPPORTED ((struct ob_scsi_sense){ 0x05, 0x39, 0x00 })
#define OB_SENSE_LUN_NOT_READY     ((struct ob_scsi_sense){ 0x02, 0x04, 0x03 })
#define OB_SENSE_NO_MEDIUM         ((struct ob_scsi_sense){ 0x02, 0x3a, 0x00 })
#define OB_SENSE_TARGET_FAILURE    ((struct ob_scsi_sense){ 0x04, 0x44, 0x00 })
#define OB_SENSE_REMOVAL_PREVENTED ((struct ob_scsi_sense){ 0x05, 0x53, 0x02 })
#define OB_SENSE_CAPACITY_CHANGED  ((struct ob_scsi_sense){ 0x06, 0x2a, 0x09 })

#endif
