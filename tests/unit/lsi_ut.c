/*
 * lsi_ut.c - fixture for the LSI53C895A suites (see lsi_ut.h).
 *
 * The fake disk implements the device side of scsi.h the way scsi-hd
 * behaves towards the HBA: INQUIRY/REQUEST SENSE/TEST UNIT READY finish
 * synchronously, READ(10) delivers its data from the loop when
 * async_reads is set (and fails without data for LBA 0xdead), WRITE(10)
 * asks for its data at once and completes from the loop, SYNCHRONIZE
 * CACHE(10) completes from the loop without data.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <event2/event.h>

#include "lsi_ut.h"
#include "ut.h"

struct lu_fx lu;

/* ---- the fake disk ------------------------------------------------------ */

struct lu_req {
    struct lu_disk *disk;
    struct ob_scsi_req *r;
    struct event *ev;
    uint8_t buf[LU_DISK_BLOCKS * 512];
    uint32_t len;
    uint32_t lba;
    int stage;              /* 0: data not handed over yet, 1: handed over */
    bool fail;
};

static struct lu_disk *disk_of(struct ob_scsi_dev *d)
{
    return (struct lu_disk *)d;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void lr_free(struct lu_req *q)
{
    if (q->ev) {
        event_free(q->ev);
    }
    q->r->dev_private = NULL;
    ob_scsi_req_unref(q->r);
    free(q);
}

static void lr_finish(struct lu_req *q, uint8_t status)
{
    struct ob_scsi_req *r = q->r;
    struct lu_disk *k = q->disk;

    ob_scsi_req_ref(r);
    lr_free(q);
    k->completed++;
    if (status == OB_SCSI_GOOD) {
        ob_scsi_req_complete(r, OB_SCSI_GOOD);
    } else {
        ob_scsi_req_fail(r, OB_SENSE_MEDIUM_ERROR_READ);
    }
    ob_scsi_req_unref(r);
}

/* Asynchronous step of a request, from the loop. */
static void lr_event(evutil_socket_t fd, short what, void *opaque)
{
    struct lu_req *q = opaque;

    (void)fd;
    (void)what;
    if (q->fail) {
        lr_finish(q, OB_SCSI_CHECK_CONDITION);
        return;
    }
    switch (q->r->cdb[0]) {
    case 0x28:  /* READ(10): the data is there */
        memcpy(q->buf, q->disk->data + q->lba * 512, q->len);
        q->stage = 1;
        ob_scsi_req_data(q->r, q->buf, q->len);
        break;
    default:    /* WRITE(10) written, SYNCHRONIZE CACHE done */
        lr_finish(q, OB_SCSI_GOOD);
        break;
    }
}

static void lr_later(struct lu_req *q)
{
    static const struct timeval now = { 0, 0 };

    if (!q->ev) {
        q->ev = evtimer_new(lu.ctx.base, lr_event, q);
    }
    evtimer_add(q->ev, &now);
}

static int fake_parse_cdb(struct ob_scsi_dev *d, struct ob_scsi_req *r)
{
    (void)d;
    r->mode = OB_SCSI_XFER_NONE;
    r->xfer_len = 0;
    return 0;
}

static int32_t fake_start(struct ob_scsi_req *r)
{
    struct lu_disk *k = disk_of(r->dev);
    struct lu_req *q = calloc(1, sizeof(*q));
    const uint8_t *c = r->cdb;

    k->started++;
    memcpy(k->last_cdb, c, sizeof(k->last_cdb));
    k->last_tag = r->tag;
    q->disk = k;
    q->r = ob_scsi_req_ref(r);
    r->dev_private = q;
    switch (c[0]) {
    case 0x00:  /* TEST UNIT READY */
        lr_finish(q, OB_SCSI_GOOD);
        return 0;
    case 0x12:  /* INQUIRY: 36 bytes of identification, capped at ALLOC */
        q->len = c[4] < 36 ? c[4] : 36;
        memset(q->buf, 0, 36);
        q->buf[2] = 5;
        q->buf[3] = 0x12;
        q->buf[4] = 31;
        memcpy(q->buf + 8, "FAKE    fake disk       0001", 28);
        return (int32_t)q->len;
    case 0x03:  /* REQUEST SENSE */
        q->len = c[4] < 18 ? c[4] : 18;
        ob_scsi_build_sense(q->buf, OB_SENSE_NO_SENSE);
        return (int32_t)q->len;
    case 0x28:  /* READ(10) */
    case 0x2a:  /* WRITE(10) */
        q->lba = be32(c + 2);
        q->len = ((uint32_t)c[7] << 8 | c[8]) * 512;
        q->fail = q->lba == 0xdead;
        if (!q->fail && (q->lba >= LU_DISK_BLOCKS || q->len > sizeof(q->buf) ||
                         q->lba * 512 + q->len > sizeof(k->data))) {
            lr_finish(q, OB_SCSI_CHECK_CONDITION);
            return 0;
        }
        return c[0] == 0x28 ? (int32_t)q->len : -(int32_t)q->len;
    case 0x35:  /* SYNCHRONIZE CACHE(10): the flush completes later */
        lr_later(q);
        return 0;
    default:
        lr_finish(q, OB_SCSI_CHECK_CONDITION);
        return 0;
    }
}

static void fake_continue(struct ob_scsi_req *r)
{
    struct lu_req *q = r->dev_private;

    if (!q) {
        return;
    }
    if (q->stage == 1) {
        if (r->cdb[0] == 0x2a) {
            memcpy(q->disk->data + q->lba * 512, q->buf, q->len);
            q->stage = 2;
            lr_later(q);        /* the write completes from the loop */
            return;
        }
        lr_finish(q, OB_SCSI_GOOD);
        return;
    }
    if (q->stage == 2) {
        return;
    }
    switch (r->cdb[0]) {
    case 0x28:
        if (q->disk->async_reads || q->fail) {
            lr_later(q);
            return;
        }
        memcpy(q->buf, q->disk->data + q->lba * 512, q->len);
        break;
    default:
        break;
    }
    q->stage = 1;
    ob_scsi_req_data(r, q->buf, q->len);
}

static void fake_cancel(struct ob_scsi_req *r)
{
    struct lu_req *q = r->dev_private;

    if (q) {
        q->disk->cancelled++;
        lr_free(q);
    }
}

static void fake_reset(struct ob_scsi_dev *d)
{
    disk_of(d)->resets++;
}

static const struct ob_scsi_dev_ops fake_ops = {
    .parse_cdb = fake_parse_cdb,
    .start = fake_start,
    .continue_req = fake_continue,
    .cancel = fake_cancel,
    .reset = fake_reset,
};

static const struct ob_devtype fake_type = {
    .name = "lu-fake-disk",
    .bus = OB_BUS_SCSI,
    .instance_size = sizeof(struct lu_disk),
};

struct lu_disk *lu_add_disk(unsigned n, unsigned target, unsigned lun)
{
    struct lu_disk *k = &lu.disks[n];
    unsigned i;

    memset(k, 0, sizeof(*k));
    k->sd.dev.type = &fake_type;
    k->sd.dev.ctx = &lu.ctx;
    k->sd.dev.realized = true;
    k->sd.ops = &fake_ops;
    k->sd.bus = &lu.s->bus;
    k->sd.id = target;
    k->sd.lun = lun;
    for (i = 0; i < sizeof(k->data); i++) {
        k->data[i] = (uint8_t)(i * 7 + n);
    }
    k->sd.next_on_bus = lu.s->bus.devs;
    lu.s->bus.devs = &k->sd;
    k->present = true;
    return k;
}

/* ---- fixture ------------------------------------------------------------ */

void lu_setup(void)
{
    struct ob_device *d = NULL;
    struct ob_mem_desc md;
    char err[200];
    int fd;

    memset(&lu, 0, sizeof(lu));
    lu.ram_fd = -1;
    if (ut_ctx_open(&lu.ctx) < 0) {
        return;
    }
    if (ut_device_create(&lu.ctx, "lsi53c895a,id=lsi0", &d, err, sizeof(err)) < 0) {
        return;
    }
    fd = ut_memfd(LU_RAM_SIZE);
    if (fd < 0) {
        return;
    }
    lu.ram_fd = dup(fd);
    lu.ram = mmap(NULL, LU_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    md = (struct ob_mem_desc){ .gpa = 0, .size = LU_RAM_SIZE, .offset = 0, .fd = fd };
    if (lu.ram == MAP_FAILED || ob_mem_sync(&ob_pci_from_dev(d)->mem, &md, 1, err,
                                            sizeof(err)) < 0) {
        lu.ram = NULL;
        return;
    }
    lu.pd = ob_pci_from_dev(d);
    lu.s = lsi_from_pci(lu.pd);
    ob_pci_config_write(lu.pd, OB_PCI_BAR0, LU_IO_BASE, 4);
    ob_pci_config_write(lu.pd, OB_PCI_BAR0 + 4, LU_MMIO_BASE, 4);
    ob_pci_config_write(lu.pd, OB_PCI_BAR0 + 8, LU_RAMBAR_BASE, 4);
    ob_pci_config_write(lu.pd, OB_PCI_COMMAND, OB_PCI_COMMAND_IO | OB_PCI_COMMAND_MEMORY |
                        OB_PCI_COMMAND_MASTER, 2);
}

void lu_teardown(void)
{
    /* pending fake-disk events belong to requests the HBA cancels */
    if (lu.ctx.base) {
        ob_ctx_fini(&lu.ctx);
    }
    if (lu.ram) {
        munmap(lu.ram, LU_RAM_SIZE);
    }
    if (lu.ram_fd >= 0) {
        close(lu.ram_fd);
    }
    memset(&lu, 0, sizeof(lu));
    lu.ram_fd = -1;
}

/* ---- registers and RAM -------------------------------------------------- */

uint64_t lu_rd(unsigned off, unsigned size)
{
    return lu.pd->ops->bar_read(lu.pd, 1, off, size);
}

void lu_wr(unsigned off, uint64_t val, unsigned size)
{
    lu.pd->ops->bar_write(lu.pd, 1, off, val, size);
}

uint8_t lu_rd8(unsigned off)
{
    return (uint8_t)lu_rd(off, 1);
}

uint32_t lu_rd32(unsigned off)
{
    return (uint32_t)lu_rd(off, 4);
}

void lu_wr8(unsigned off, uint8_t val)
{
    lu_wr(off, val, 1);
}

void lu_wr32(unsigned off, uint32_t val)
{
    lu_wr(off, val, 4);
}

void lu_put32(uint32_t gpa, uint32_t v)
{
    lu.ram[gpa] = (uint8_t)v;
    lu.ram[gpa + 1] = (uint8_t)(v >> 8);
    lu.ram[gpa + 2] = (uint8_t)(v >> 16);
    lu.ram[gpa + 3] = (uint8_t)(v >> 24);
}

uint32_t lu_get32(uint32_t gpa)
{
    return (uint32_t)lu.ram[gpa] | (uint32_t)lu.ram[gpa + 1] << 8 |
           (uint32_t)lu.ram[gpa + 2] << 16 | (uint32_t)lu.ram[gpa + 3] << 24;
}

void lu_put(uint32_t gpa, const void *p, size_t n)
{
    memcpy(lu.ram + gpa, p, n);
}

/* ---- running ------------------------------------------------------------ */

bool lu_running(void)
{
    return (lu.s->istat1 & LSI_ISTAT1_SRUN) != 0;
}

void lu_pump(unsigned n)
{
    while (n-- > 0) {
        event_base_loop(lu.ctx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    }
}

unsigned lu_run(unsigned max_passes)
{
    unsigned i;

    for (i = 0; i < max_passes; i++) {
        event_base_loop(lu.ctx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        if (!lu_running()) {
            break;
        }
    }
    return i;
}

void lu_go(uint32_t addr)
{
    lu_wr32(R_DSP, addr);
    lu_run(1000);
}

void lu_emit(struct lu_asm *a, uint32_t w0, uint32_t w1)
{
    lu_put32(a->pc, w0);
    lu_put32(a->pc + 4, w1);
    a->pc += 8;
}

void lu_emit3(struct lu_asm *a, uint32_t w0, uint32_t w1, uint32_t w2)
{
    lu_emit(a, w0, w1);
    lu_put32(a->pc, w2);
    a->pc += 4;
}
