/*
 * guest.c - the proxy driver's guest: RAM in sealed memfds shared with
 * SYNC_SYSMEM, and the INTx eventfd pair of SET_IRQFD.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "priv.h"

#define PC_LOW_RAM_END   0xc0000u      /* VGA / option ROM hole starts here */
#define PC_HIGH_RAM      0x100000u

int ob_proxy_ram_create(struct ob_proxy_ram *ram, uint64_t size, char *err,
                        size_t errlen)
{
    const char *what;

    ram->fd = -1;
    ram->host = NULL;
    ram->size = 0;
    if (size == 0 || size > SIZE_MAX / 2) {
        snprintf(err, errlen, "guest RAM size %llu out of range", (unsigned long long)size);
        return -1;
    }
    ram->fd = memfd_create("ob-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (ram->fd < 0) {
        what = "memfd_create";
        goto fail;
    }
    if (ftruncate(ram->fd, (off_t)size) < 0) {
        what = "ftruncate";
        goto fail;
    }
    if (fcntl(ram->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
        what = "F_ADD_SEALS";
        goto fail;
    }
    ram->host = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, ram->fd, 0);
    if (ram->host == MAP_FAILED) {
        ram->host = NULL;
        what = "mmap";
        goto fail;
    }
    ram->size = size;
    return 0;
fail:
    snprintf(err, errlen, "guest RAM: %s: %s", what, strerror(errno));
    if (ram->fd >= 0) {
        close(ram->fd);
        ram->fd = -1;
    }
    return -1;
}

void ob_proxy_ram_free(struct ob_proxy_ram *ram)
{
    if (ram->host) {
        munmap(ram->host, (size_t)ram->size);
    }
    if (ram->fd >= 0) {
        close(ram->fd);
    }
    ram->host = NULL;
    ram->fd = -1;
    ram->size = 0;
}

int ob_proxy_ram_setup(struct ob_proxy *px, uint64_t size)
{
    ob_proxy_ram_free(&px->ram);
    return ob_proxy_ram_create(&px->ram, size, px->err, sizeof(px->err));
}

int ob_proxy_sync_sysmem(struct ob_proxy *px, const struct ob_proxy_region *r,
                         unsigned n)
{
    uint8_t buf[OB_MPQ_HDR_LEN + OB_MPQ_SYSMEM_LEN];
    uint64_t gpa[OB_PROXY_MAX_REGIONS], size[OB_PROXY_MAX_REGIONS];
    int64_t off[OB_PROXY_MAX_REGIONS];
    int fds[OB_PROXY_MAX_REGIONS];
    unsigned i;
    size_t len;

    if (n == 0 || n > OB_PROXY_MAX_REGIONS) {
        return ob_proxy_fail(px, "SYNC_SYSMEM needs 1..%u regions, not %u",
                             OB_PROXY_MAX_REGIONS, n);
    }
    for (i = 0; i < n; i++) {
        if (!r[i].ram || r[i].ram->fd < 0) {
            return ob_proxy_fail(px, "region %u has no RAM", i);
        }
        gpa[i] = r[i].gpa;
        size[i] = r[i].size;
        off[i] = (int64_t)r[i].offset;
        fds[i] = r[i].ram->fd;
    }
    len = ob_mpq_encode_sysmem(buf, gpa, size, off, n);
    if (ob_proxy_send_raw(px, buf, len, fds, n) < 0) {
        return -1;
    }
    memcpy(px->map, r, n * sizeof(*r));
    px->nmap = n;
    return 0;
}

int ob_proxy_sync_default(struct ob_proxy *px)
{
    struct ob_proxy_region r[2];
    unsigned n = 1;

    if (px->ram.fd < 0) {
        return ob_proxy_fail(px, "no guest RAM");
    }
    r[0] = (struct ob_proxy_region){ 0, px->ram.size, 0, &px->ram };
    if (px->ram.size > PC_HIGH_RAM) {
        r[0].size = PC_LOW_RAM_END;
        r[1] = (struct ob_proxy_region){ PC_HIGH_RAM, px->ram.size - PC_HIGH_RAM,
                                         PC_HIGH_RAM, &px->ram };
        n = 2;
    }
    return ob_proxy_sync_sysmem(px, r, n);
}

void *ob_proxy_gpa(struct ob_proxy *px, uint64_t gpa, size_t len)
{
    unsigned i;

    for (i = 0; i < px->nmap; i++) {
        const struct ob_proxy_region *r = &px->map[i];
        uint64_t rel;

        if (gpa < r->gpa || gpa - r->gpa >= r->size || len > r->size - (gpa - r->gpa)) {
            continue;
        }
        rel = r->offset + (gpa - r->gpa);
        if (!r->ram->host || rel > r->ram->size || len > r->ram->size - rel) {
            return NULL;
        }
        return r->ram->host + rel;
    }
    return NULL;
}

int ob_proxy_ram_read(struct ob_proxy *px, uint64_t gpa, void *buf, size_t len)
{
    void *p = ob_proxy_gpa(px, gpa, len);

    if (!p) {
        return ob_proxy_fail(px, "guest address %#llx (+%zu) is not RAM",
                             (unsigned long long)gpa, len);
    }
    memcpy(buf, p, len);
    return 0;
}

int ob_proxy_ram_write(struct ob_proxy *px, uint64_t gpa, const void *buf, size_t len)
{
    void *p = ob_proxy_gpa(px, gpa, len);

    if (!p) {
        return ob_proxy_fail(px, "guest address %#llx (+%zu) is not RAM",
                             (unsigned long long)gpa, len);
    }
    memcpy(p, buf, len);
    return 0;
}

int ob_proxy_irq_setup(struct ob_proxy *px)
{
    uint8_t buf[OB_MPQ_HDR_LEN];
    int fds[2];
    size_t len;

    if (px->irqfd >= 0) {
        close(px->irqfd);
    }
    if (px->resamplefd >= 0) {
        close(px->resamplefd);
    }
    px->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    px->resamplefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (px->irqfd < 0 || px->resamplefd < 0) {
        return ob_proxy_fail(px, "eventfd: %s", strerror(errno));
    }
    fds[0] = px->irqfd;
    fds[1] = px->resamplefd;
    len = ob_mpq_encode_empty(buf, OB_MPQ_SET_IRQFD);
    return ob_proxy_send_raw(px, buf, len, fds, 2);
}

int ob_proxy_irq_wait(struct ob_proxy *px, int timeout_ms, uint64_t *count)
{
    struct pollfd pfd = { .fd = px->irqfd, .events = POLLIN };
    uint64_t cnt;
    int rc;

    if (px->irqfd < 0) {
        return ob_proxy_fail(px, "no irqfd");
    }
    do {
        rc = poll(&pfd, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        return ob_proxy_fail(px, "poll: %s", strerror(errno));
    }
    if (rc == 0) {
        return 0;
    }
    /* Readable: the read cannot block even if a QEMU remote cleared
     * O_NONBLOCK on the shared file description. */
    if (read(px->irqfd, &cnt, sizeof(cnt)) != sizeof(cnt)) {
        return ob_proxy_fail(px, "irqfd read: %s", strerror(errno));
    }
    if (count) {
        *count = cnt;
    }
    return 1;
}

int ob_proxy_irq_eoi(struct ob_proxy *px)
{
    uint64_t one = 1;

    if (px->resamplefd < 0) {
        return ob_proxy_fail(px, "no resamplefd");
    }
    if (write(px->resamplefd, &one, sizeof(one)) != sizeof(one)) {
        return ob_proxy_fail(px, "resamplefd write: %s", strerror(errno));
    }
    return 0;
}
