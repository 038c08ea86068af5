/*
 * mem.c - guest RAM shared by the proxy, and DMA into it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outboard/mem.h"

void ob_mem_init(struct ob_mem *m, const struct ob_log *log)
{
    memset(m, 0, sizeof(*m));
    m->log = log;
}

static void table_free(struct ob_mem_table *t)
{
    unsigned i;

    for (i = 0; i < t->n; i++) {
        munmap(t->r[i].host, t->r[i].map_len);
    }
    free(t);
}

void ob_mem_unpin(struct ob_mem_table *t)
{
    if (t && --t->refs == 0) {
        table_free(t);
    }
}

struct ob_mem_table *ob_mem_pin(struct ob_mem *m)
{
    if (m->cur) {
        m->cur->refs++;
    }
    return m->cur;
}

void ob_mem_clear(struct ob_mem *m)
{
    ob_mem_unpin(m->cur);
    m->cur = NULL;
}

static bool add_overflows(uint64_t a, uint64_t b)
{
    return a + b < a;
}

/* Checks one descriptor against its fd; fills DEV/INO. */
static int check_desc(const struct ob_mem_desc *d, unsigned i, uint64_t *dev,
                      uint64_t *ino, char *err, size_t errlen)
{
    long page = sysconf(_SC_PAGESIZE);
    struct stat st;

    if (d->size == 0) {
        snprintf(err, errlen, "region %u: size 0", i);
        return -1;
    }
    if (d->offset < 0 || (d->offset & (page - 1)) != 0) {
        snprintf(err, errlen, "region %u: offset %#llx not page aligned", i,
                 (unsigned long long)d->offset);
        return -1;
    }
    if (add_overflows(d->gpa, d->size) || add_overflows((uint64_t)d->offset, d->size) ||
        d->size > SIZE_MAX - (size_t)page) {
        snprintf(err, errlen, "region %u: address range overflows", i);
        return -1;
    }
    if (fstat(d->fd, &st) < 0) {
        snprintf(err, errlen, "region %u: fd %d: %s", i, d->fd, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "region %u: fd %d is not a memory file", i, d->fd);
        return -1;
    }
    if ((uint64_t)d->offset + d->size > (uint64_t)st.st_size) {
        snprintf(err, errlen, "region %u: [%#llx, +%#llx) past the end of its file (%lld bytes)",
                 i, (unsigned long long)d->offset, (unsigned long long)d->size,
                 (long long)st.st_size);
        return -1;
    }
    *dev = st.st_dev;
    *ino = st.st_ino;
    return 0;
}

static bool same_table(const struct ob_mem_table *t, const struct ob_mem_desc *d,
                       const uint64_t *dev, const uint64_t *ino, unsigned n)
{
    unsigned i;

    if (!t || t->n != n) {
        return false;
    }
    for (i = 0; i < n; i++) {
        const struct ob_mem_region *r = &t->r[i];

        if (r->gpa != d[i].gpa || r->size != d[i].size || r->offset != d[i].offset ||
            r->dev != dev[i] || r->ino != ino[i]) {
            return false;
        }
    }
    return true;
}

int ob_mem_sync(struct ob_mem *m, const struct ob_mem_desc *d, unsigned n,
                char *err, size_t errlen)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t dev[OB_MEM_MAX_REGIONS], ino[OB_MEM_MAX_REGIONS];
    struct ob_mem_table *t = NULL;
    unsigned i, j;
    int ret = -1;

    m->syncs++;
    if (n == 0 || n > OB_MEM_MAX_REGIONS) {
        snprintf(err, errlen, "%u regions (1 to %u allowed)", n, OB_MEM_MAX_REGIONS);
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (check_desc(&d[i], i, &dev[i], &ino[i], err, errlen) < 0) {
            goto out;
        }
        for (j = 0; j < i; j++) {
            if (d[i].gpa < d[j].gpa + d[j].size && d[j].gpa < d[i].gpa + d[i].size) {
                snprintf(err, errlen, "regions %u and %u overlap", j, i);
                goto out;
            }
        }
    }
    if (same_table(m->cur, d, dev, ino, n)) {
        ret = 0;            /* the common case: nothing changed */
        goto out;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    t->refs = 1;
    for (i = 0; i < n; i++) {
        struct ob_mem_region *r = &t->r[i];
        size_t len = (d[i].size + (uint64_t)page - 1) & ~((uint64_t)page - 1);
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d[i].fd,
                       d[i].offset);

        if (p == MAP_FAILED) {
            snprintf(err, errlen, "region %u: mmap: %s", i, strerror(errno));
            table_free(t);
            t = NULL;
            goto out;
        }
        r->gpa = d[i].gpa;
        r->size = d[i].size;
        r->offset = d[i].offset;
        r->host = p;
        r->map_len = len;
        r->dev = dev[i];
        r->ino = ino[i];
        t->n++;
    }
    ob_mem_unpin(m->cur);
    m->cur = t;
    m->remaps++;
    for (i = 0; i < n; i++) {
        ob_logc(m->log, OB_LOGC_DMA, "guest RAM [%#llx, %#llx) at file offset %#llx",
                (unsigned long long)t->r[i].gpa,
                (unsigned long long)(t->r[i].gpa + t->r[i].size),
                (unsigned long long)t->r[i].offset);
    }
    ret = 0;
out:
    for (i = 0; i < n; i++) {
        if (d[i].fd >= 0) {
            close(d[i].fd);
        }
    }
    return ret;
}

/* The region holding GPA, or NULL. */
static const struct ob_mem_region *find_region(const struct ob_mem_table *t, uint64_t gpa)
{
    unsigned i;

    if (!t) {
        return NULL;
    }
    for (i = 0; i < t->n; i++) {
        if (gpa >= t->r[i].gpa && gpa - t->r[i].gpa < t->r[i].size) {
            return &t->r[i];
        }
    }
    return NULL;
}

/* Walks [gpa, gpa+len) region by region; COPY_OUT: guest -> buf. */
static int mem_copy(struct ob_mem *m, uint64_t gpa, uint8_t *buf, size_t len,
                    bool copy_out)
{
    if (add_overflows(gpa, len)) {
        goto fault;
    }
    while (len > 0) {
        const struct ob_mem_region *r = find_region(m->cur, gpa);
        uint64_t off, chunk;

        if (!r) {
            goto fault;
        }
        off = gpa - r->gpa;
        chunk = r->size - off;
        if (chunk > len) {
            chunk = len;
        }
        if (copy_out) {
            memcpy(buf, r->host + off, chunk);
        } else {
            memcpy(r->host + off, buf, chunk);
        }
        gpa += chunk;
        buf += chunk;
        len -= chunk;
    }
    return 0;
fault:
    m->faults++;
    ob_logc(m->log, OB_LOGC_DMA | OB_LOGC_GUEST_ERROR,
            "DMA %s guest address %#llx (+%zu): not guest RAM",
            copy_out ? "read from" : "write to", (unsigned long long)gpa, len);
    return -1;
}

int ob_mem_read(struct ob_mem *m, uint64_t gpa, void *buf, size_t len)
{
    return mem_copy(m, gpa, buf, len, true);
}

int ob_mem_write(struct ob_mem *m, uint64_t gpa, const void *buf, size_t len)
{
    return mem_copy(m, gpa, (uint8_t *)buf, len, false);
}

void *ob_mem_ptr(struct ob_mem *m, uint64_t gpa, size_t len)
{
    const struct ob_mem_region *r = find_region(m->cur, gpa);

    if (!r || len > r->size - (gpa - r->gpa)) {
        return NULL;
    }
    return r->host + (gpa - r->gpa);
}
