/*
 * mem.h - a device's view of guest RAM: the regions the proxy shares with
 * SYNC_SYSMEM, mapped at their guest-physical addresses, and bounds-checked
 * DMA helpers. Guest addresses are untrusted; nothing here trusts them.
 */
#ifndef OUTBOARD_MEM_H
#define OUTBOARD_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outboard/log.h"

#define OB_MEM_MAX_REGIONS 8

/* One region as the proxy describes it; FD is owned by the caller until
 * ob_mem_sync() takes it. */
struct ob_mem_desc {
    uint64_t gpa;
    uint64_t size;
    int64_t offset;
    int fd;
};

struct ob_mem_region {
    uint64_t gpa;
    uint64_t size;
    int64_t offset;
    uint8_t *host;      /* mapping of [offset, offset + size) */
    size_t map_len;     /* size rounded up to the page size */
    uint64_t dev;       /* st_dev/st_ino of the backing file, to compare tables */
    uint64_t ino;
};

/* An immutable, reference-counted table: in-flight asynchronous I/O pins the
 * table it was started against, so a new SYNC_SYSMEM never unmaps memory that
 * is still being written. */
struct ob_mem_table {
    unsigned refs;
    unsigned n;
    struct ob_mem_region r[OB_MEM_MAX_REGIONS];
};

struct ob_mem {
    const struct ob_log *log;
    struct ob_mem_table *cur;   /* NULL until the first valid SYNC_SYSMEM */
    uint64_t syncs;             /* SYNC_SYSMEM messages applied or skipped */
    uint64_t remaps;            /* ... that changed the table */
    uint64_t faults;            /* DMA accesses outside the table */
};

void ob_mem_init(struct ob_mem *m, const struct ob_log *log);
/* Drops the current table (unmapped once no pin holds it). */
void ob_mem_clear(struct ob_mem *m);

/*
 * Replaces the table with D[0..N-1]. Takes ownership of every fd in D,
 * whatever the outcome (each is closed: mapped memory keeps no fd). An
 * identical table keeps the existing mappings. Returns 0, or -1 with ERR
 * set; the previous table then stays in force.
 */
int ob_mem_sync(struct ob_mem *m, const struct ob_mem_desc *d, unsigned n,
                char *err, size_t errlen);

/* Copies between guest RAM and BUF. Returns 0, or -1 (nothing or part
 * copied) if any byte of [gpa, gpa+len) is not RAM. */
int ob_mem_read(struct ob_mem *m, uint64_t gpa, void *buf, size_t len);
int ob_mem_write(struct ob_mem *m, uint64_t gpa, const void *buf, size_t len);
/* Host pointer to [gpa, gpa+len) if it lies inside one region, else NULL. */
void *ob_mem_ptr(struct ob_mem *m, uint64_t gpa, size_t len);

struct ob_mem_table *ob_mem_pin(struct ob_mem *m);
void ob_mem_unpin(struct ob_mem_table *t);

#endif
