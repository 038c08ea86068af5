/*
 * lsitest - guest-side end-to-end checks of an LSI53C895A SCSI HBA
 * (1000:0012, driver sym53c8xx) with two scsi-hd disks on its bus, run as
 * PID 1's child inside the e2e initramfs.  The same static binary is also the
 * host's disk-image tool (see "host mode" below).
 *
 * Disks (set up by tests/e2e/run):
 *   SCSI target 0 ("disk0"): filled on the host with pattern A (seed
 *       obe2e.seed); integrity, write and throughput tests
 *   SCSI target 1 ("disk1"): zeroed; the guest makes an ext2 file system on it
 *
 * Output (stdout, line buffered), one line each:
 *   OBE2E-PLAN   {"workload":"lsitest","tests":[...],"skipped":[...]}
 *   OBE2E-STAGE  name
 *   OBE2E-LOG    free text
 *   OBE2E-RESULT {"test":NAME,"ok":BOOL,...}   one per planned test
 * Results that changed disk0 carry "wrote": [["disk0",LBA,NSECT,SEED],...] so
 * that the host knows which pattern each sector of the image must hold.
 *
 * Parameters (kernel command line, obe2e.KEY=VALUE):
 *   mode=proxy|inprocess, skip=a,b
 *   seed=S                 pattern A of disk0; B = S+1, C = S+2, files S+3
 *   disk0_bytes, disk0_sha256, disk1_bytes   what the host created
 *   disk_timeout=S         wait for the disks (60)
 *   wregions=AT+N,...      integrity-write regions in sectors; AT < 0 counts
 *                          from the end of the disk
 *   t_mib=M, t1m_mib=M, t4k_kib=K, reps=N, reps4k=N   throughput region/sizes
 *   mmio_n=N               reads for the MMIO latency figure
 *   suite=lsi|qmp          the test list: lsi (default) or qmp, where the
 *                          host stops/continues the remote and hot-plugs a
 *                          disk at SCSI target 2 over QMP meanwhile (see
 *                          "suite qmp" below)
 *   hot0_bytes, hot0_seed  the image the host hot-plugs (pattern seed)
 *   qmp_timeout=S          wait for the host's device_add/device_del (60)
 *   qio_at_mib, qio_mib, qio_min_passes   the qmp-io region of disk0 and
 *                          the passes over it before looking for the disk
 *
 * The disk pattern: a 512-byte sector is 64 little-endian u64 words,
 * w[0] = lba, w[1] = seed, w[i] = mix64(seed * 0x9E3779B97F4A7C15 + lba*64 + i)
 * (splitmix64 finaliser), so a misplaced sector names where it came from.
 *
 * Host mode:
 *   lsitest pattern FILE SEED FIRST NSECT   write the pattern of sectors
 *                                           [FIRST, FIRST+NSECT) at FIRST*512
 *   lsitest verify FILE SEED FIRST NSECT    compare; print one JSON object;
 *                                           exit 0 same, 1 different, 2 error
 * Exit status of the workload: 0 if every planned test passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "obe2e-guest.h"

#define LSI_VENDOR 0x1000
#define LSI_DEVICE 0x0012
#define SCRATCHA 0x34
#define SECTOR 512u
#define WORDS (SECTOR / 8u)
#define MIB (1024u * 1024u)
#define CHUNK_SECT 2048u /* 1 MiB */
#define MNT "/tmp/fs"

/* ------------------------------------------------------------------ */
/* small utilities                                                      */
/* ------------------------------------------------------------------ */

static double secs(uint64_t ns) { return ns / 1e9; }

static double mbps(uint64_t bytes, uint64_t ns) { return ns ? bytes * 1e3 / ns : 0; }

static double uptime_s(void)
{
    char b[64];
    FILE *f = fopen("/proc/uptime", "r");
    if (!f)
        return 0;
    double v = 0;
    if (fgets(b, sizeof(b), f))
        v = atof(b);
    fclose(f);
    return v;
}

static void *xalign(size_t len)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, len)) {
        fprintf(stderr, "lsitest: out of memory (%zu bytes)\n", len);
        exit(2);
    }
    return p;
}

/* all of len bytes at off, or -1 (errno; EIO at the end of the file) */
static int prw_all(int fd, void *buf, size_t len, off_t off, int wr)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = wr ? pwrite(fd, (char *)buf + done, len - done, off + (off_t)done)
                       : pread(fd, (char *)buf + done, len - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            errno = EIO;
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
    return prw_all(fd, buf, len, off, 0);
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    return prw_all(fd, (void *)buf, len, off, 1);
}

static int drop_caches(void)
{
    sync();
    return write_text("/proc/sys/vm/drop_caches", "3");
}

/* ------------------------------------------------------------------ */
/* SHA-256 (FIPS 180-4)                                                 */
/* ------------------------------------------------------------------ */

struct sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t n;
};

static const uint32_t SHA_K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static uint32_t ror32(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha_block(struct sha256 *s, const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) +
                      SHA_K[i] + w[i];
        uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
    s->h[5] += f;
    s->h[6] += g;
    s->h[7] += h;
}

static void sha_init(struct sha256 *s)
{
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof(h0));
    s->len = 0;
    s->n = 0;
}

static void sha_update(struct sha256 *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    s->len += len;
    if (s->n) {
        size_t k = 64 - s->n < len ? 64 - s->n : len;
        memcpy(s->buf + s->n, p, k);
        s->n += k;
        p += k;
        len -= k;
        if (s->n < 64)
            return;
        sha_block(s, s->buf);
        s->n = 0;
    }
    while (len >= 64) {
        sha_block(s, p);
        p += 64;
        len -= 64;
    }
    memcpy(s->buf, p, len);
    s->n = len;
}

static void sha_hex(struct sha256 *s, char out[65])
{
    uint64_t bits = s->len * 8;
    uint8_t pad = 0x80, zero = 0, lenb[8];
    sha_update(s, &pad, 1);
    while (s->n != 56)
        sha_update(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha_update(s, lenb, 8);
    for (int i = 0; i < 8; i++)
        sprintf(out + 8 * i, "%08x", s->h[i]);
    out[64] = 0;
}

/* ------------------------------------------------------------------ */
/* the disk pattern                                                     */
/* ------------------------------------------------------------------ */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void make_sector(uint64_t *w, uint64_t seed, uint64_t lba)
{
    uint64_t base = seed * 0x9e3779b97f4a7c15ull + lba * WORDS;
    w[0] = lba;
    w[1] = seed;
    for (unsigned i = 2; i < WORDS; i++)
        w[i] = mix64(base + i);
}

static void make_sectors(void *buf, uint64_t seed, uint64_t lba, uint64_t n)
{
    for (uint64_t s = 0; s < n; s++)
        make_sector((uint64_t *)buf + s * WORDS, seed, lba + s);
}

struct vres {
    uint64_t checked, bad;
    int64_t first_bad;
    uint64_t found_lba, found_seed;
    int io_errno;
};

/* compare sectors [first, first+n) of fd with the pattern of `seed` */
static void verify_range(int fd, uint64_t seed, uint64_t first, uint64_t n, struct vres *v)
{
    memset(v, 0, sizeof(*v));
    v->first_bad = -1;
    uint64_t *buf = xalign((size_t)CHUNK_SECT * SECTOR);
    uint64_t want[WORDS];
    for (uint64_t done = 0; done < n;) {
        uint64_t k = n - done < CHUNK_SECT ? n - done : CHUNK_SECT;
        if (pread_all(fd, buf, (size_t)k * SECTOR, (off_t)((first + done) * SECTOR))) {
            v->io_errno = errno ? errno : EIO;
            break;
        }
        for (uint64_t s = 0; s < k; s++) {
            uint64_t lba = first + done + s;
            make_sector(want, seed, lba);
            if (memcmp(want, buf + s * WORDS, SECTOR)) {
                if (v->first_bad < 0) {
                    v->first_bad = (int64_t)lba;
                    v->found_lba = buf[s * WORDS];
                    v->found_seed = buf[s * WORDS + 1];
                }
                v->bad++;
            }
        }
        v->checked += k;
        done += k;
    }
    free(buf);
}

static void vres_text(const struct vres *v, char *out, size_t len)
{
    if (v->io_errno)
        snprintf(out, len, "read error %s after %" PRIu64 " sectors", strerror(v->io_errno),
                 v->checked);
    else if (v->bad)
        snprintf(out, len,
                 "%" PRIu64 " of %" PRIu64 " sectors differ; first at LBA %" PRId64
                 " holds w0=%#" PRIx64 " w1=%#" PRIx64,
                 v->bad, v->checked, v->first_bad, v->found_lba, v->found_seed);
    else
        snprintf(out, len, "%" PRIu64 " sectors ok", v->checked);
}

/* ------------------------------------------------------------------ */
/* host mode                                                            */
/* ------------------------------------------------------------------ */

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end) {
        fprintf(stderr, "lsitest: bad number '%s'\n", s);
        return -1;
    }
    *out = v;
    return 0;
}

static int host_main(int argc, char **argv)
{
    uint64_t seed, first, n;
    if (argc != 6 || parse_u64(argv[3], &seed) || parse_u64(argv[4], &first) ||
        parse_u64(argv[5], &n)) {
        fprintf(stderr, "usage: lsitest pattern|verify FILE SEED FIRST_SECTOR NSECT\n");
        return 2;
    }
    if (!strcmp(argv[1], "pattern")) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "lsitest: open %s: %s\n", argv[2], strerror(errno));
            return 2;
        }
        void *buf = xalign((size_t)CHUNK_SECT * SECTOR);
        for (uint64_t done = 0; done < n;) {
            uint64_t k = n - done < CHUNK_SECT ? n - done : CHUNK_SECT;
            make_sectors(buf, seed, first + done, k);
            if (pwrite_all(fd, buf, (size_t)k * SECTOR, (off_t)((first + done) * SECTOR))) {
                fprintf(stderr, "lsitest: write %s: %s\n", argv[2], strerror(errno));
                return 2;
            }
            done += k;
        }
        if (close(fd)) {
            fprintf(stderr, "lsitest: close %s: %s\n", argv[2], strerror(errno));
            return 2;
        }
        free(buf);
        return 0;
    }
    if (!strcmp(argv[1], "verify")) {
        int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "lsitest: open %s: %s\n", argv[2], strerror(errno));
            return 2;
        }
        struct vres v;
        verify_range(fd, seed, first, n, &v);
        close(fd);
        char t[256];
        vres_text(&v, t, sizeof(t));
        printf("{\"ok\":%s,\"checked\":%" PRIu64 ",\"bad\":%" PRIu64 ",\"first_bad\":%" PRId64
               ",\"found_w0\":%" PRIu64 ",\"found_w1\":%" PRIu64 ",\"text\":\"%s\"}\n",
               (!v.bad && !v.io_errno && v.checked == n) ? "true" : "false", v.checked, v.bad,
               v.first_bad, v.found_lba, v.found_seed, t);
        return v.io_errno ? 2 : (v.bad || v.checked != n) ? 1 : 0;
    }
    fprintf(stderr, "lsitest: unknown command %s\n", argv[1]);
    return 2;
}

/* ------------------------------------------------------------------ */
/* JSON lists (the result lines are in obe2e-guest.h)                  */
/* ------------------------------------------------------------------ */

/* a growing JSON list, e.g. [[...],[...]] */
struct jlist {
    char s[4096];
    size_t n;
};

static void jl_add(struct jlist *l, const char *fmt, ...)
{
    if (l->n + 4 >= sizeof(l->s))
        return;
    if (l->n)
        l->s[l->n++] = ',';
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        l->n += (size_t)k < sizeof(l->s) - l->n ? (size_t)k : sizeof(l->s) - l->n - 1;
    l->s[l->n] = 0;
}

static void r_list(struct res *r, const char *key, const struct jlist *l)
{
    r_raw(r, key, "[%s]", l->n ? l->s : "");
}

/* ------------------------------------------------------------------ */
/* parameters                                                           */
/* ------------------------------------------------------------------ */

static uint64_t p_seed = 1;
static uint64_t p_disk_bytes[2];
static char p_disk0_sha[80] = "";
static int p_disk_timeout = 60;
static char p_wregions[256] = "16384+8192,25001+37,-1+1";
static unsigned p_t_mib = 16, p_t1m_mib = 16, p_t4k_kib = 1024, p_reps = 3, p_reps4k = 1;
static unsigned p_mmio_n = 5000;
static char p_suite[16] = "lsi";
static uint64_t p_hot_bytes, p_hot_seed;
static int p_qmp_timeout = 60;
static unsigned p_qio_at_mib = 8, p_qio_mib = 4, p_qio_min_passes = 2;

/* the obe2e.* parameters besides mode and skip */
static void lsi_param(const char *k, const char *v)
{
    unsigned long long u = strtoull(v, NULL, 0);
    if (!strcmp(k, "seed"))
        p_seed = u;
    else if (!strcmp(k, "disk0_bytes"))
        p_disk_bytes[0] = u;
    else if (!strcmp(k, "disk1_bytes"))
        p_disk_bytes[1] = u;
    else if (!strcmp(k, "disk0_sha256"))
        snprintf(p_disk0_sha, sizeof(p_disk0_sha), "%s", v);
    else if (!strcmp(k, "disk_timeout") && u)
        p_disk_timeout = (int)u;
    else if (!strcmp(k, "wregions"))
        snprintf(p_wregions, sizeof(p_wregions), "%s", v);
    else if (!strcmp(k, "t_mib"))
        p_t_mib = (unsigned)u;
    else if (!strcmp(k, "t1m_mib") && u)
        p_t1m_mib = (unsigned)u;
    else if (!strcmp(k, "t4k_kib") && u)
        p_t4k_kib = (unsigned)u;
    else if (!strcmp(k, "reps") && u)
        p_reps = (unsigned)u;
    else if (!strcmp(k, "reps4k") && u)
        p_reps4k = (unsigned)u;
    else if (!strcmp(k, "mmio_n") && u)
        p_mmio_n = (unsigned)u;
    else if (!strcmp(k, "suite"))
        snprintf(p_suite, sizeof(p_suite), "%s", v);
    else if (!strcmp(k, "hot0_bytes"))
        p_hot_bytes = u;
    else if (!strcmp(k, "hot0_seed"))
        p_hot_seed = u;
    else if (!strcmp(k, "qmp_timeout") && u)
        p_qmp_timeout = (int)u;
    else if (!strcmp(k, "qio_at_mib"))
        p_qio_at_mib = (unsigned)u;
    else if (!strcmp(k, "qio_mib") && u)
        p_qio_mib = (unsigned)u;
    else if (!strcmp(k, "qio_min_passes"))
        p_qio_min_passes = (unsigned)u;
}

/* ------------------------------------------------------------------ */
/* state shared between tests                                           */
/* ------------------------------------------------------------------ */

static char g_bdf[32];
static char g_pci[300];
struct disk {
    char name[16]; /* sda */
    char dev[32];  /* /dev/sda */
    char hctl[32];
    uint64_t bytes;
    int present;
};
static struct disk g_disk[3]; /* by SCSI target; 2 = hot-plugged (suite qmp) */

static void driver_of(const char *bdf, char *out, size_t len)
{
    char p[256], t[256];
    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", bdf);
    ssize_t n = readlink(p, t, sizeof(t) - 1);
    if (n <= 0) {
        snprintf(out, len, "%s", "");
        return;
    }
    t[n] = 0;
    const char *b = strrchr(t, '/');
    snprintf(out, len, "%.63s", b ? b + 1 : t);
}

/* the HBA's interrupts so far */
static uint64_t irq_count(void)
{
    long n = irq_count_for("sym53c8xx");
    return n > 0 ? (uint64_t)n : 0;
}

/* ------------------------------------------------------------------ */
/* tests                                                                */
/* ------------------------------------------------------------------ */

static int t_pci_find(void)
{
    struct res r;
    r_init(&r, "pci-find");
    int found = pci_scan(LSI_VENDOR, LSI_DEVICE, g_bdf, sizeof(g_bdf), NULL, NULL, 0);
    if (found < 0)
        found = 0;
    r_u64(&r, "count", found);
    if (!found) {
        r_fail(&r, "no PCI device %04x:%04x in /sys/bus/pci/devices", LSI_VENDOR, LSI_DEVICE);
        return r_emit(&r);
    }
    r_str(&r, "bdf", g_bdf);
    char p[300];
    if (cfg_open(&r, g_bdf))
        return r_emit(&r);
    uint8_t c[64];
    if (cfg_read(0, c, sizeof(c))) {
        r_fail(&r, "config read failed");
        return r_emit(&r);
    }
    unsigned ven = c[0] | c[1] << 8, dev = c[2] | c[3] << 8;
    unsigned cls = c[9] | c[10] << 8 | c[11] << 16, rev = c[8], hdr = c[14];
    unsigned pin = c[61];
    r_raw(&r, "vendor", "\"0x%04x\"", ven);
    r_raw(&r, "device", "\"0x%04x\"", dev);
    r_raw(&r, "class", "\"0x%06x\"", cls);
    r_raw(&r, "revision", "\"0x%02x\"", rev);
    r_raw(&r, "header_type", "\"0x%02x\"", hdr);
    r_raw(&r, "subsystem", "\"%04x:%04x\"", c[44] | c[45] << 8, c[46] | c[47] << 8);
    r_u64(&r, "interrupt_pin", pin);
    if (ven != LSI_VENDOR || dev != LSI_DEVICE)
        r_fail(&r, "config space IDs %04x:%04x differ from sysfs", ven, dev);
    if (cls != 0x010000)
        r_fail(&r, "class %06x, want 010000 (SCSI storage controller)", cls);
    if ((hdr & 0x7f) != 0)
        r_fail(&r, "header type %#x, want 0", hdr);
    if (pin != 1)
        r_fail(&r, "interrupt pin %u, want 1 (INTA)", pin);
    /* BARs: resource file lines "start end flags" */
    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/resource", g_bdf);
    FILE *f = fopen(p, "r");
    unsigned long long st[3] = {0}, en[3] = {0}, fl[3] = {0};
    for (int i = 0; f && i < 3; i++)
        if (fscanf(f, "%llx %llx %llx", &st[i], &en[i], &fl[i]) != 3)
            break;
    if (f)
        fclose(f);
    static const char *const kind[3] = {"I/O", "mem", "mem"};
    static const unsigned long long want_size[3] = {256, 1024, 8192};
    static const unsigned long long want_flag[3] = {0x100 /* IORESOURCE_IO */,
                                                    0x200 /* IORESOURCE_MEM */, 0x200};
    char bars[200] = "";
    for (int i = 0; i < 3; i++) {
        unsigned long long sz = st[i] || en[i] ? en[i] - st[i] + 1 : 0;
        char k[16];
        snprintf(k, sizeof(k), "bar%d", i);
        r_raw(&r, k, "\"%s 0x%llx [size %llu]\"", kind[i], st[i], sz);
        size_t l = strlen(bars);
        snprintf(bars + l, sizeof(bars) - l, ", %s 0x%llx [size %llu]", kind[i], st[i], sz);
        if (sz != want_size[i] || !(fl[i] & want_flag[i]))
            r_fail(&r, "BAR%d: %s size %llu flags %#llx, want %s size %llu", i,
                   (fl[i] & 0x100) ? "I/O" : "mem", sz, fl[i], kind[i], want_size[i]);
    }
    char drv[64];
    driver_of(g_bdf, drv, sizeof(drv));
    r_str(&r, "driver", drv);
    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/irq", g_bdf);
    int ok;
    unsigned long long irq = read_ull(p, &ok);
    r_u64(&r, "irq", irq);
    if (strcmp(drv, "sym53c8xx"))
        r_fail(&r, "driver is '%s', want sym53c8xx", drv);
    snprintf(g_pci, sizeof(g_pci),
             "%s SCSI storage controller [%04x]: %04x:%04x (rev %02x), IRQ %llu%s, driver %s",
             g_bdf, cls >> 8, ven, dev, rev, irq, bars, drv[0] ? drv : "none");
    r_str(&r, "lspci", g_pci);
    return r_emit(&r);
}

/* find the sd disks behind our HBA: fills g_disk[target] */
static int scan_disks(void)
{
    int n = 0;
    for (int t = 0; t < 3; t++)
        g_disk[t].present = 0;
    DIR *d = opendir("/sys/block");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "sd", 2))
            continue;
        char p[300], real[PATH_MAX], link[256];
        snprintf(p, sizeof(p), "/sys/block/%s", e->d_name);
        if (!realpath(p, real))
            continue;
        char needle[48];
        snprintf(needle, sizeof(needle), "/%s/", g_bdf);
        if (!strstr(real, needle))
            continue;
        snprintf(p, sizeof(p), "/sys/block/%s/device", e->d_name);
        ssize_t k = readlink(p, link, sizeof(link) - 1);
        if (k <= 0)
            continue;
        link[k] = 0;
        const char *hctl = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
        unsigned h, c, t, l;
        if (sscanf(hctl, "%u:%u:%u:%u", &h, &c, &t, &l) != 4 || c != 0 || l != 0 || t > 2)
            continue;
        int ok;
        snprintf(p, sizeof(p), "/sys/block/%s/size", e->d_name);
        uint64_t sect = read_ull(p, &ok);
        if (!ok || !sect)
            continue;
        struct disk *dk = &g_disk[t];
        snprintf(dk->name, sizeof(dk->name), "%.15s", e->d_name);
        snprintf(dk->dev, sizeof(dk->dev), "/dev/%.15s", e->d_name);
        snprintf(dk->hctl, sizeof(dk->hctl), "%.31s", hctl);
        dk->bytes = sect * 512;
        if (access(dk->dev, F_OK) == 0) {
            dk->present = 1;
            n++;
        }
    }
    if (d)
        closedir(d);
    return n;
}

static int wait_disks(int timeout_s, int want, double *waited)
{
    uint64_t t0 = now_ns();
    int n = 0;
    for (;;) {
        n = scan_disks();
        if (n >= want || now_ns() - t0 > (uint64_t)timeout_s * 1000000000ull)
            break;
        sleep_ms(100);
    }
    *waited = secs(now_ns() - t0);
    return n;
}

static int t_disks(void)
{
    struct res r;
    r_init(&r, "disks");
    double waited;
    int want = p_disk_bytes[1] ? 2 : 1;
    int n = wait_disks(p_disk_timeout, want, &waited);
    r_num(&r, "wait_s", waited);
    r_num(&r, "uptime_s", uptime_s());
    r_u64(&r, "found", n);
    r_u64(&r, "hba_irqs", irq_count());
    struct jlist l = {0};
    for (int t = 0; t < want; t++) {
        struct disk *dk = &g_disk[t];
        if (!dk->present) {
            r_fail(&r, "no disk for SCSI target %d after %d s", t, p_disk_timeout);
            continue;
        }
        jl_add(&l, "\"%s %s %" PRIu64 "\"", dk->name, dk->hctl, dk->bytes);
        if (p_disk_bytes[t] && dk->bytes != p_disk_bytes[t])
            r_fail(&r, "%s (target %d) has %" PRIu64 " bytes, the image has %" PRIu64, dk->name,
                   t, dk->bytes, p_disk_bytes[t]);
    }
    r_list(&r, "disks", &l);
    if (!r.ok) {
        FILE *f = popen("dmesg | grep -iE 'sym|scsi|sd[a-z]' | tail -n 6", "r");
        char tail[1024] = "", line[256];
        while (f && fgets(line, sizeof(line), f))
            if (strlen(tail) + strlen(line) + 1 < sizeof(tail))
                strcat(tail, line);
        if (f)
            pclose(f);
        r_str(&r, "dmesg", tail);
    }
    return r_emit(&r);
}

static void sysattr(const struct disk *dk, const char *rel, char *out, size_t len)
{
    char p[512];
    snprintf(p, sizeof(p), "/sys/block/%s/%.200s", dk->name, rel);
    if (read_text(p, out, len))
        snprintf(out, len, "?");
    /* INQUIRY strings are space padded; read_text trimmed the end */
}

static int t_inquiry(void)
{
    struct res r;
    r_init(&r, "scsi-inquiry");
    struct jlist l = {0};
    for (int t = 0; t < 2; t++) {
        struct disk *dk = &g_disk[t];
        if (!dk->present)
            continue;
        char vendor[64], model[64], rev[32], type[16], lbs[16], ro[8], rem[8], level[8], cache[32];
        char p[160];
        sysattr(dk, "device/vendor", vendor, sizeof(vendor));
        sysattr(dk, "device/model", model, sizeof(model));
        sysattr(dk, "device/rev", rev, sizeof(rev));
        sysattr(dk, "device/type", type, sizeof(type));
        sysattr(dk, "device/scsi_level", level, sizeof(level));
        sysattr(dk, "queue/logical_block_size", lbs, sizeof(lbs));
        sysattr(dk, "ro", ro, sizeof(ro));
        sysattr(dk, "removable", rem, sizeof(rem));
        snprintf(p, sizeof(p), "device/scsi_disk/%s/cache_type", dk->hctl);
        sysattr(dk, p, cache, sizeof(cache));
        jl_add(&l, "\"target %d: %s|%s|%s type=%s lbs=%s ro=%s removable=%s level=%s cache=%s\"",
               t, vendor, model, rev, type, lbs, ro, rem, level, cache);
        if (strcmp(vendor, "QEMU"))
            r_fail(&r, "target %d vendor '%s', want QEMU", t, vendor);
        if (strcmp(model, "QEMU HARDDISK"))
            r_fail(&r, "target %d model '%s', want 'QEMU HARDDISK'", t, model);
        if (strcmp(type, "0"))
            r_fail(&r, "target %d peripheral type %s, want 0 (direct access)", t, type);
        if (strcmp(lbs, "512"))
            r_fail(&r, "target %d logical block size %s, want 512", t, lbs);
        if (strcmp(ro, "0"))
            r_fail(&r, "target %d is read-only", t);
        if (strcmp(rem, "0"))
            r_fail(&r, "target %d is removable", t);
    }
    r_list(&r, "inquiry", &l);
    return r_emit(&r);
}

static int t_integrity_read(void)
{
    struct res r;
    r_init(&r, "integrity-read");
    struct disk *dk = &g_disk[0];
    int fd = open(dk->dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
        r_fail(&r, "open %s O_DIRECT: %s", dk->dev, strerror(errno));
        return r_emit(&r);
    }
    void *buf = xalign(MIB);
    struct sha256 s;
    sha_init(&s);
    uint64_t t0 = now_ns(), done = 0;
    while (done < dk->bytes) {
        size_t k = dk->bytes - done < MIB ? (size_t)(dk->bytes - done) : MIB;
        if (pread_all(fd, buf, k, (off_t)done)) {
            r_fail(&r, "read at byte %" PRIu64 ": %s", done, strerror(errno));
            break;
        }
        sha_update(&s, buf, k);
        done += k;
    }
    uint64_t t1 = now_ns();
    char hex[65];
    sha_hex(&s, hex);
    r_str(&r, "sha256", hex);
    r_str(&r, "expected_sha256", p_disk0_sha);
    r_u64(&r, "bytes", done);
    r_num(&r, "MBps_incl_sha256", mbps(done, t1 - t0));
    if (r.ok && strcmp(hex, p_disk0_sha)) {
        struct vres v;
        verify_range(fd, p_seed, 0, dk->bytes / SECTOR, &v);
        char t[256];
        vres_text(&v, t, sizeof(t));
        r_fail(&r, "sha256 of the whole disk differs from the image's; pattern A check: %s", t);
    }
    free(buf);
    close(fd);
    return r_emit(&r);
}

struct region {
    uint64_t lba, n;
};

static int parse_regions(uint64_t nsect, struct region *rg, int max)
{
    int n = 0;
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s", p_wregions);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save)) {
        long long at = strtoll(t, NULL, 0);
        char *plus = strchr(t + 1, '+');
        long long cnt = plus ? strtoll(plus + 1, NULL, 0) : 1;
        if (at < 0)
            at += (long long)nsect;
        if (at < 0 || cnt <= 0 || (uint64_t)(at + cnt) > nsect)
            continue;
        rg[n].lba = (uint64_t)at;
        rg[n].n = (uint64_t)cnt;
        n++;
    }
    return n;
}

static int in_regions(const struct region *rg, int n, uint64_t lba)
{
    for (int i = 0; i < n; i++)
        if (lba >= rg[i].lba && lba < rg[i].lba + rg[i].n)
            return 1;
    return 0;
}

static int t_integrity_write(void)
{
    struct res r;
    r_init(&r, "integrity-write");
    struct disk *dk = &g_disk[0];
    uint64_t nsect = dk->bytes / SECTOR, seed = p_seed + 1;
    struct region rg[8];
    int nr = parse_regions(nsect, rg, 8);
    struct jlist wrote = {0}, regs = {0};
    r_u64(&r, "seed", seed);
    int fd = open(dk->dev, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
        r_fail(&r, "open %s O_DIRECT: %s", dk->dev, strerror(errno));
        return r_emit(&r);
    }
    void *buf = xalign(MIB);
    uint64_t t0 = now_ns(), bytes = 0;
    for (int i = 0; i < nr && r.ok; i++) {
        jl_add(&wrote, "[\"disk0\",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", rg[i].lba, rg[i].n,
               seed);
        jl_add(&regs, "\"%" PRIu64 "+%" PRIu64 "\"", rg[i].lba, rg[i].n);
        for (uint64_t done = 0; done < rg[i].n;) {
            uint64_t k = rg[i].n - done < CHUNK_SECT ? rg[i].n - done : CHUNK_SECT;
            make_sectors(buf, seed, rg[i].lba + done, k);
            if (pwrite_all(fd, buf, (size_t)k * SECTOR, (off_t)((rg[i].lba + done) * SECTOR))) {
                r_fail(&r, "write of %" PRIu64 " sectors at LBA %" PRIu64 ": %s", k,
                       rg[i].lba + done, strerror(errno));
                break;
            }
            bytes += k * SECTOR;
            done += k;
        }
    }
    if (fsync(fd))
        r_fail(&r, "fsync: %s", strerror(errno));
    uint64_t t1 = now_ns();
    close(fd);
    r_list(&r, "regions", &regs);
    r_list(&r, "wrote", &wrote);
    r_u64(&r, "bytes", bytes);
    r_num(&r, "write_s", secs(t1 - t0));
    if (drop_caches())
        r_fail(&r, "drop_caches: %s", strerror(errno));
    /* read back with O_DIRECT: the regions hold B, their neighbours still A */
    fd = open(dk->dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
        r_fail(&r, "reopen %s: %s", dk->dev, strerror(errno));
        free(buf);
        return r_emit(&r);
    }
    for (int i = 0; i < nr; i++) {
        struct vres v;
        char t[256];
        verify_range(fd, seed, rg[i].lba, rg[i].n, &v);
        if (v.bad || v.io_errno) {
            vres_text(&v, t, sizeof(t));
            r_fail(&r, "region %" PRIu64 "+%" PRIu64 " read back: %s", rg[i].lba, rg[i].n, t);
        }
        uint64_t nb[2] = {rg[i].lba - 1, rg[i].lba + rg[i].n};
        for (int j = 0; j < 2; j++) {
            if ((j == 0 && rg[i].lba == 0) || nb[j] >= nsect || in_regions(rg, nr, nb[j]))
                continue;
            verify_range(fd, p_seed, nb[j], 1, &v);
            if (v.bad || v.io_errno) {
                vres_text(&v, t, sizeof(t));
                r_fail(&r, "neighbour LBA %" PRIu64 " of region %" PRIu64 "+%" PRIu64
                           " no longer holds pattern A: %s",
                       nb[j], rg[i].lba, rg[i].n, t);
            }
        }
    }
    close(fd);
    /* and once through the page cache (buffered reads, readahead) */
    if (nr) {
        fd = open(dk->dev, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            struct vres v;
            verify_range(fd, seed, rg[0].lba, rg[0].n, &v);
            if (v.bad || v.io_errno) {
                char t[256];
                vres_text(&v, t, sizeof(t));
                r_fail(&r, "buffered read of region %" PRIu64 "+%" PRIu64 ": %s", rg[0].lba,
                       rg[0].n, t);
            }
            close(fd);
        }
    }
    free(buf);
    return r_emit(&r);
}

static double median(double *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n ? v[(n - 1) / 2] : 0;
}

/* one sequential pass; returns ns or 0 on error (r_fail'ed) */
static uint64_t seq_pass(struct res *r, int fd, int wr, void *data, size_t total, size_t bs,
                         off_t off, const char *what)
{
    uint64_t t0 = now_ns();
    for (size_t done = 0; done < total; done += bs) {
        int rc = wr ? pwrite_all(fd, (char *)data + done, bs, off + (off_t)done)
                    : pread_all(fd, (char *)data + done, bs, off + (off_t)done);
        if (rc) {
            r_fail(r, "%s at byte %zu: %s", what, (size_t)off + done, strerror(errno));
            return 0;
        }
    }
    return now_ns() - t0;
}

static int t_throughput(void)
{
    struct res r;
    r_init(&r, "throughput");
    struct disk *dk = &g_disk[0];
    uint64_t seed = p_seed + 2;
    size_t total = (size_t)p_t1m_mib * MIB, t4k = (size_t)p_t4k_kib * 1024;
    off_t off = (off_t)p_t_mib * MIB;
    if (t4k > total)
        t4k = total;
    if ((uint64_t)off + total > dk->bytes) {
        r_fail(&r, "region %u MiB + %u MiB does not fit the disk", p_t_mib, p_t1m_mib);
        return r_emit(&r);
    }
    r_raw(&r, "unit", "\"MB/s (1e6 bytes/s)\"");
    r_raw(&r, "wrote", "[[\"disk0\",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]]",
          (uint64_t)off / SECTOR, (uint64_t)total / SECTOR, seed);
    void *want = xalign(total), *got = xalign(total);
    make_sectors(want, seed, (uint64_t)off / SECTOR, total / SECTOR);
    int fd = open(dk->dev, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
        r_fail(&r, "open %s O_DIRECT: %s", dk->dev, strerror(errno));
        return r_emit(&r);
    }
    double w1[16], r1[16], w4[16], r4[16];
    unsigned reps = p_reps > 16 ? 16 : p_reps, reps4 = p_reps4k > 16 ? 16 : p_reps4k;
    unsigned bad = 0;
    for (unsigned i = 0; i < reps && r.ok; i++) {
        stagef("throughput-1M-%u", i + 1);
        uint64_t ns = seq_pass(&r, fd, 1, want, total, MIB, off, "write 1M");
        w1[i] = mbps(total, ns);
        fdatasync(fd);
        memset(got, 0, total);
        ns = seq_pass(&r, fd, 0, got, total, MIB, off, "read 1M");
        r1[i] = mbps(total, ns);
        if (r.ok && memcmp(got, want, total))
            bad++;
    }
    for (unsigned i = 0; i < reps4 && r.ok; i++) {
        stagef("throughput-4k-%u", i + 1);
        uint64_t ns = seq_pass(&r, fd, 1, want, t4k, 4096, off, "write 4k");
        w4[i] = mbps(t4k, ns);
        fdatasync(fd);
        memset(got, 0, t4k);
        ns = seq_pass(&r, fd, 0, got, t4k, 4096, off, "read 4k");
        r4[i] = mbps(t4k, ns);
        if (r.ok && memcmp(got, want, t4k))
            bad++;
    }
    close(fd);
    if (r.ok) {
        r_num(&r, "write_1M_MBps", median(w1, reps));
        r_num(&r, "read_1M_MBps", median(r1, reps));
        r_num(&r, "write_4k_MBps", median(w4, reps4));
        r_num(&r, "read_4k_MBps", median(r4, reps4));
    }
    r_u64(&r, "size_1M_mib", p_t1m_mib);
    r_u64(&r, "size_4k_kib", p_t4k_kib);
    r_u64(&r, "reps", reps);
    r_u64(&r, "reps_4k", reps4);
    r_u64(&r, "offset_mib", p_t_mib);
    if (bad)
        r_fail(&r, "%u read passes returned data that differs from what was written", bad);
    free(want);
    free(got);
    return r_emit(&r);
}

/* ---- filesystem -------------------------------------------------- */

static int run_cmd(char *const argv[], char *out, size_t len)
{
    int pfd[2];
    if (pipe(pfd))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    size_t o = 0;
    char tmp[512];
    ssize_t k;
    while ((k = read(pfd[0], tmp, sizeof(tmp))) > 0) {
        /* keep the tail */
        for (ssize_t i = 0; i < k; i++) {
            if (o + 1 >= len) {
                memmove(out, out + len / 2, o - len / 2);
                o -= len / 2;
            }
            out[o++] = tmp[i];
        }
    }
    out[o] = 0;
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct fspec {
    const char *path;
    size_t size;
};

/* the big files: reported to the host, which reads them back from the image */
static const struct fspec FS_BIG[] = {
    {"/big/three-mib.bin", 3 * MIB},
    {"/big/one-mib-odd.bin", MIB + 12345},
    {"/big/quarter.bin", 256 * 1024},
    {"/empty", 0},
    {"/deep/a/b/c/d/leaf.bin", 70001},
};
#define N_BIG (sizeof(FS_BIG) / sizeof(FS_BIG[0]))
#define N_SMALL 48

static size_t small_size(unsigned i) { return (size_t)i * 173 + 1; }

static void fill_stream(uint8_t *buf, size_t len, uint64_t seed, uint64_t pos)
{
    /* byte stream: 8-byte words mix64(seed*K + word index), position-aware */
    for (size_t i = 0; i < len; i++) {
        uint64_t w = mix64(seed * 0x9e3779b97f4a7c15ull + (pos + i) / 8);
        buf[i] = (uint8_t)(w >> (8 * ((pos + i) % 8)));
    }
}

static int write_file(const char *path, size_t size, uint64_t seed, char hex[65], char *err,
                      size_t elen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, elen, "create %s: %s", path, strerror(errno));
        return -1;
    }
    static uint8_t buf[65536];
    struct sha256 s;
    sha_init(&s);
    for (size_t done = 0; done < size;) {
        size_t k = size - done < sizeof(buf) ? size - done : sizeof(buf);
        fill_stream(buf, k, seed, done);
        sha_update(&s, buf, k);
        if (pwrite_all(fd, buf, k, (off_t)done)) {
            snprintf(err, elen, "write %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        done += k;
    }
    if (fsync(fd) || close(fd)) {
        snprintf(err, elen, "fsync/close %s: %s", path, strerror(errno));
        return -1;
    }
    sha_hex(&s, hex);
    return 0;
}

static int hash_file(const char *path, size_t *size, char hex[65])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    static uint8_t buf[65536];
    struct sha256 s;
    sha_init(&s);
    ssize_t k;
    *size = 0;
    while ((k = read(fd, buf, sizeof(buf))) > 0) {
        sha_update(&s, buf, (size_t)k);
        *size += (size_t)k;
    }
    int e = errno;
    close(fd);
    if (k < 0) {
        errno = e;
        return -1;
    }
    sha_hex(&s, hex);
    return 0;
}

static int mkdirs(const char *path)
{
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%.255s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return 0;
}

static const char *g_fstype = "";

static int fs_mount(const char *dev, unsigned long flags)
{
    static const char *const types[] = {"ext2", "ext4"};
    for (unsigned i = 0; i < 2; i++)
        if (mount(dev, MNT, types[i], flags, NULL) == 0) {
            g_fstype = types[i];
            return 0;
        }
    return -1;
}

static int t_filesystem(void)
{
    struct res r;
    r_init(&r, "filesystem");
    struct disk *dk = &g_disk[1];
    uint64_t seed = p_seed + 3;
    char out[2048], p[300], e[300];
    r_str(&r, "device", dk->dev);
    /* 1. mkfs */
    uint64_t t0 = now_ns();
    char *mk[] = {"/bin/mke2fs", "-F", "-L", "obe2e", dk->dev, NULL};
    int rc = run_cmd(mk, out, sizeof(out));
    r_num(&r, "mkfs_s", secs(now_ns() - t0));
    if (rc) {
        r_fail(&r, "mke2fs %s: rc %d: %s", dk->dev, rc, out);
        return r_emit(&r);
    }
    mkdir(MNT, 0755);
    if (fs_mount(dk->dev, 0)) {
        r_fail(&r, "mount %s: %s", dk->dev, strerror(errno));
        return r_emit(&r);
    }
    r_str(&r, "fstype", g_fstype);
    /* 2. files */
    char big_hex[N_BIG][65], small_hex[N_SMALL][65];
    uint64_t bytes = 0;
    t0 = now_ns();
    for (unsigned i = 0; i < N_BIG && r.ok; i++) {
        snprintf(p, sizeof(p), MNT "%s", FS_BIG[i].path);
        if (mkdirs(p) || write_file(p, FS_BIG[i].size, seed + i, big_hex[i], e, sizeof(e)))
            r_fail(&r, "%s", e[0] ? e : strerror(errno));
        bytes += FS_BIG[i].size;
    }
    mkdir(MNT "/small", 0755);
    for (unsigned i = 0; i < N_SMALL && r.ok; i++) {
        snprintf(p, sizeof(p), MNT "/small/f%02u.txt", i);
        if (write_file(p, small_size(i), seed + 1000 + i, small_hex[i], e, sizeof(e)))
            r_fail(&r, "%s", e);
        bytes += small_size(i);
    }
    /* some metadata operations: rename, unlink, symlink */
    if (r.ok) {
        char h[65];
        if (write_file(MNT "/small/tmp.txt", 4000, seed + 999, h, e, sizeof(e)) ||
            rename(MNT "/small/tmp.txt", MNT "/small/renamed.txt") ||
            unlink(MNT "/small/renamed.txt") || symlink("big/quarter.bin", MNT "/link"))
            r_fail(&r, "rename/unlink/symlink: %s", strerror(errno));
    }
    struct statvfs sv;
    if (!statvfs(MNT, &sv)) {
        r_u64(&r, "fs_blocks", sv.f_blocks);
        r_u64(&r, "fs_block_size", sv.f_bsize);
        r_u64(&r, "fs_free_blocks", sv.f_bfree);
    }
    sync();
    r_num(&r, "write_s", secs(now_ns() - t0));
    r_u64(&r, "bytes", bytes);
    r_u64(&r, "files", N_BIG + N_SMALL);
    if (umount(MNT))
        r_fail(&r, "umount: %s", strerror(errno));
    if (drop_caches())
        r_fail(&r, "drop_caches: %s", strerror(errno));
    if (!r.ok)
        return r_emit(&r);
    /* 3. fsck in the guest (e2fsck from e2fsck-static, when present) */
    if (access("/bin/e2fsck", X_OK) == 0) {
        char *fk[] = {"/bin/e2fsck", "-fn", dk->dev, NULL};
        t0 = now_ns();
        rc = run_cmd(fk, out, sizeof(out));
        r_num(&r, "fsck_s", secs(now_ns() - t0));
        r_u64(&r, "guest_fsck_rc", rc);
        if (rc)
            r_fail(&r, "e2fsck -fn %s: rc %d: %s", dk->dev, rc, out);
    } else {
        r_str(&r, "guest_fsck_rc", "no e2fsck in the guest");
    }
    /* 4. remount read-only and verify */
    if (fs_mount(dk->dev, MS_RDONLY)) {
        r_fail(&r, "remount %s: %s", dk->dev, strerror(errno));
        return r_emit(&r);
    }
    t0 = now_ns();
    unsigned bad = 0;
    struct jlist host = {0};
    for (unsigned i = 0; i < N_BIG; i++) {
        size_t sz;
        char h[65];
        snprintf(p, sizeof(p), MNT "%s", FS_BIG[i].path);
        if (hash_file(p, &sz, h)) {
            r_fail(&r, "read %s: %s", FS_BIG[i].path, strerror(errno));
            bad++;
            continue;
        }
        if (sz != FS_BIG[i].size || strcmp(h, big_hex[i])) {
            r_fail(&r, "%s: %zu bytes sha256 %.16s..., wrote %zu bytes %.16s...", FS_BIG[i].path,
                   sz, h, FS_BIG[i].size, big_hex[i]);
            bad++;
        }
        jl_add(&host, "[\"%s\",%zu,\"%s\"]", FS_BIG[i].path, FS_BIG[i].size, big_hex[i]);
    }
    for (unsigned i = 0; i < N_SMALL; i++) {
        size_t sz;
        char h[65];
        snprintf(p, sizeof(p), MNT "/small/f%02u.txt", i);
        if (hash_file(p, &sz, h) || sz != small_size(i) || strcmp(h, small_hex[i])) {
            if (!bad)
                r_fail(&r, "small/f%02u.txt differs or is unreadable", i);
            bad++;
        }
    }
    jl_add(&host, "[\"/small/f%02u.txt\",%zu,\"%s\"]", N_SMALL - 1, small_size(N_SMALL - 1),
           small_hex[N_SMALL - 1]);
    int entries = 0;
    DIR *d = opendir(MNT "/small");
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            entries++;
    if (d)
        closedir(d);
    char lt[64] = "";
    ssize_t ll = readlink(MNT "/link", lt, sizeof(lt) - 1);
    if (ll > 0)
        lt[ll] = 0;
    if (entries != N_SMALL)
        r_fail(&r, "small/ has %d entries, want %d", entries, N_SMALL);
    if (strcmp(lt, "big/quarter.bin"))
        r_fail(&r, "symlink reads '%s'", lt);
    r_num(&r, "verify_s", secs(now_ns() - t0));
    r_u64(&r, "bad_files", bad);
    r_list(&r, "host_files", &host);
    if (umount(MNT))
        r_fail(&r, "final umount: %s", strerror(errno));
    return r_emit(&r);
}

/* ---- with the driver unbound ------------------------------------- */

static volatile uint32_t *g_bar1, *g_bar2;
static int g_unbound;

static volatile uint32_t *map_bar(int bar, size_t size, char *err, size_t elen)
{
    char p[300];
    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/resource", g_bdf);
    FILE *f = fopen(p, "r");
    unsigned long long st = 0, en = 0, fl = 0;
    for (int i = 0; f && i <= bar; i++)
        if (fscanf(f, "%llx %llx %llx", &st, &en, &fl) != 3)
            st = 0;
    if (f)
        fclose(f);
    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/resource%d", g_bdf, bar);
    int fd = open(p, O_RDWR | O_SYNC | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, elen, "open %.200s: %s", p, strerror(errno));
        return NULL;
    }
    size_t in_page = (size_t)(st & 0xfff);
    size_t len = (in_page + size + 4095) & ~(size_t)4095;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) {
        snprintf(err, elen, "mmap %.200s: %s", p, strerror(e));
        return NULL;
    }
    return (volatile uint32_t *)((char *)m + in_page);
}

static int unbind(char *err, size_t elen)
{
    char drv[64];
    driver_of(g_bdf, drv, sizeof(drv));
    if (!strcmp(drv, "sym53c8xx") &&
        write_text("/sys/bus/pci/drivers/sym53c8xx/unbind", g_bdf)) {
        snprintf(err, elen, "unbind sym53c8xx: %s", strerror(errno));
        return -1;
    }
    driver_of(g_bdf, drv, sizeof(drv));
    if (drv[0]) {
        snprintf(err, elen, "still bound to %s", drv);
        return -1;
    }
    unsigned cmd = cfg16(4);
    if (!(cmd & 2))
        cfg_w16(4, (uint16_t)(cmd | 2));
    g_unbound = 1;
    return 0;
}

static int t_mmio_latency(void)
{
    struct res r;
    r_init(&r, "mmio-latency");
    char e[300];
    sync();
    r_u64(&r, "hba_irqs_before_unbind", irq_count());
    if (unbind(e, sizeof(e)) || !(g_bar1 = map_bar(1, 1024, e, sizeof(e)))) {
        r_fail(&r, "%s", e);
        return r_emit(&r);
    }
    volatile uint32_t *scratch = g_bar1 + SCRATCHA / 4;
    unsigned n = p_mmio_n, bad = 0;
    *scratch = 0x5a5aa5a5;
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < n; i++)
        if (*scratch != 0x5a5aa5a5)
            bad++;
    uint64_t t1 = now_ns();
    unsigned nw = n / 4 ? n / 4 : 1;
    for (unsigned i = 0; i < nw; i++) {
        uint32_t v = 0x01000193u * (i + 1);
        *scratch = v;
        if (*scratch != v)
            bad++;
    }
    r_mmio_latency(&r, n, nw, t0, t1, bad);
    if (bad)
        r_fail(&r, "SCRATCHA did not hold the written value %u times", bad);
    return r_emit(&r);
}

static int t_scripts_ram(void)
{
    struct res r;
    r_init(&r, "scripts-ram");
    char e[300];
    if (!g_unbound && unbind(e, sizeof(e))) {
        r_fail(&r, "%s", e);
        return r_emit(&r);
    }
    if (!(g_bar2 = map_bar(2, 8192, e, sizeof(e)))) {
        r_fail(&r, "%s", e);
        return r_emit(&r);
    }
    unsigned bad = 0, words = 8192 / 4;
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < words; i++)
        g_bar2[i] = (uint32_t)mix64(p_seed + i);
    for (unsigned i = 0; i < words; i++)
        if (g_bar2[i] != (uint32_t)mix64(p_seed + i)) {
            if (!bad)
                r_fail(&r, "word %u reads %#x, wrote %#x", i, g_bar2[i],
                       (uint32_t)mix64(p_seed + i));
            bad++;
        }
    r_u64(&r, "words", words);
    r_u64(&r, "mismatches", bad);
    r_num(&r, "s", secs(now_ns() - t0));
    /* byte writes land in the right byte lane */
    volatile uint8_t *b = (volatile uint8_t *)g_bar2;
    g_bar2[5] = 0;
    b[20] = 0x11;
    b[23] = 0x44;
    uint32_t v = g_bar2[5];
    r_raw(&r, "byte_lanes", "\"0x%08x\"", v);
    if (v != 0x44000011)
        r_fail(&r, "byte writes to offsets 20 and 23 gave %#x, want 0x44000011", v);
    return r_emit(&r);
}

static int t_rebind(void)
{
    struct res r;
    r_init(&r, "rebind");
    char drv[64];
    driver_of(g_bdf, drv, sizeof(drv));
    if (!drv[0] && write_text("/sys/bus/pci/drivers/sym53c8xx/bind", g_bdf)) {
        r_fail(&r, "bind sym53c8xx: %s", strerror(errno));
        return r_emit(&r);
    }
    driver_of(g_bdf, drv, sizeof(drv));
    r_str(&r, "driver", drv);
    double waited;
    int want = p_disk_bytes[1] ? 2 : 1;
    int n = wait_disks(p_disk_timeout, want, &waited);
    r_num(&r, "rescan_s", waited);
    r_u64(&r, "found", n);
    if (n < want) {
        r_fail(&r, "%d of %d disks came back after rebinding", n, want);
        return r_emit(&r);
    }
    r_str(&r, "disk0", g_disk[0].name);
    /* the first 64 KiB of disk0 were never written: pattern A. The node
     * can appear before sd has finished attaching the disk (ENXIO for a
     * while, longer on a loaded host): retry for up to 10 s. */
    int fd = -1;
    for (int tries = 0; tries < 200; tries++) {
        fd = open(g_disk[0].dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd >= 0 || (errno != ENXIO && errno != ENODEV && errno != ENOENT))
            break;
        usleep(50000);
    }
    if (fd < 0) {
        r_fail(&r, "open %s: %s", g_disk[0].dev, strerror(errno));
        return r_emit(&r);
    }
    struct vres v;
    verify_range(fd, p_seed, 0, 128, &v);
    close(fd);
    if (v.bad || v.io_errno) {
        char t[256];
        vres_text(&v, t, sizeof(t));
        r_fail(&r, "disk0 LBA 0..127 after rebind: %s", t);
    }
    return r_emit(&r);
}

/* ------------------------------------------------------------------ */

/* ---- suite qmp: I/O across the host's stop/cont, SCSI hot-plug ---- */

/* The host (tests/e2e/run, "qmp" in guests.json) drives the remote over QMP
 * when it sees the stage lines of these tests: at "qmp-io" it does its
 * stop/cont cycles and then device_add's a scsi-hd at target 2; at
 * "hot-unplug" it device_del's it.  The guest learns of the host's steps
 * only through the SCSI bus: it scans target 2 until the disk appears, and
 * again until it no longer does. */

#define QIO_CHUNK_SECT 512u /* 256 KiB */
#define HOT_TARGET 2
#define HOT_AT 2048u   /* sectors written on the hot-plugged disk */
#define HOT_N 4096u

static uint64_t g_qio_seed; /* what the qmp-io region of disk0 holds now */
static int g_hot_seen;

/* the SCSI host number of our HBA, from disk0's H:C:T:L; -1 if unknown */
static int scsi_host_no(void)
{
    unsigned h, c, t, l;
    if (sscanf(g_disk[0].hctl, "%u:%u:%u:%u", &h, &c, &t, &l) != 4)
        return -1;
    return (int)h;
}

/* scan one target (channel 0, LUN 0); synchronous in the kernel */
static int scan_target(int host, int target)
{
    char p[96], v[32];
    snprintf(p, sizeof(p), "/sys/class/scsi_host/host%d/scan", host);
    snprintf(v, sizeof(v), "0 %d 0", target);
    return write_text(p, v);
}

/* delete the disk at g_disk[t] from the guest's SCSI layer and wait up to 5 s
 * for its block device to go; 0 or -1 */
static int delete_disk(int t)
{
    char p[96];
    snprintf(p, sizeof(p), "/sys/block/%s/device/delete", g_disk[t].name);
    if (write_text(p, "1"))
        return -1;
    snprintf(p, sizeof(p), "/sys/block/%s", g_disk[t].name);
    for (int i = 0; i < 100 && access(p, F_OK) == 0; i++)
        sleep_ms(50);
    if (access(p, F_OK) == 0) {
        errno = EBUSY;
        return -1;
    }
    g_disk[t].present = 0;
    return 0;
}

/* first differing sector of n sectors in got against the pattern of seed */
static int64_t first_mismatch(const uint64_t *got, uint64_t seed, uint64_t lba, uint64_t n,
                              uint64_t *w0, uint64_t *w1)
{
    uint64_t want[WORDS];
    for (uint64_t s = 0; s < n; s++) {
        make_sector(want, seed, lba + s);
        if (memcmp(want, got + s * WORDS, SECTOR)) {
            *w0 = got[s * WORDS];
            *w1 = got[s * WORDS + 1];
            return (int64_t)(lba + s);
        }
    }
    return -1;
}

static int t_qmp_io(void)
{
    struct res r;
    r_init(&r, "qmp-io");
    struct disk *dk = &g_disk[0];
    uint64_t lba0 = (uint64_t)p_qio_at_mib * MIB / SECTOR;
    uint64_t nsect = (uint64_t)p_qio_mib * MIB / SECTOR;
    uint64_t nch = nsect / QIO_CHUNK_SECT;
    size_t clen = (size_t)QIO_CHUNK_SECT * SECTOR;
    int host = scsi_host_no();
    g_qio_seed = p_seed;
    if (!nch || (lba0 + nsect) * SECTOR > dk->bytes || host < 0) {
        r_fail(&r, "region %u MiB + %u MiB does not fit the disk, or no SCSI host (%s)",
               p_qio_at_mib, p_qio_mib, dk->hctl);
        return r_emit(&r);
    }
    int fd = open(dk->dev, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
        r_fail(&r, "open %s O_DIRECT: %s", dk->dev, strerror(errno));
        return r_emit(&r);
    }
    uint64_t *want = xalign(clen), *got = xalign(clen);
    uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)p_qmp_timeout * 1000000000ull;
    uint64_t max_op = 0, bytes = 0, stalls = 0, done_ch = 0, seed = 0, scans = 0;
    unsigned passes = 0;
    double hot_s = -1;
    /* each pass: for every chunk, read it and check it still holds the
     * previous pass's pattern (pattern A before the first), write the next
     * pattern, read it back; then fdatasync */
    while (r.ok) {
        seed = p_seed + 10 + passes;
        for (done_ch = 0; done_ch < nch && r.ok; done_ch++) {
            uint64_t lba = lba0 + done_ch * QIO_CHUNK_SECT, w0 = 0, w1 = 0;
            off_t off = (off_t)(lba * SECTOR);
            uint64_t a = now_ns();
            int64_t bad;
            if (pread_all(fd, got, clen, off)) {
                r_fail(&r, "pass %u: read at LBA %" PRIu64 ": %s", passes, lba, strerror(errno));
                break;
            }
            if ((bad = first_mismatch(got, g_qio_seed, lba, QIO_CHUNK_SECT, &w0, &w1)) >= 0) {
                r_fail(&r,
                       "pass %u: LBA %" PRId64 " no longer holds what the last pass wrote "
                       "(seed %" PRIu64 "): w0=%#" PRIx64 " w1=%#" PRIx64,
                       passes, bad, g_qio_seed, w0, w1);
                break;
            }
            make_sectors(want, seed, lba, QIO_CHUNK_SECT);
            if (pwrite_all(fd, want, clen, off) || pread_all(fd, got, clen, off)) {
                r_fail(&r, "pass %u: write/read at LBA %" PRIu64 ": %s", passes, lba,
                       strerror(errno));
                break;
            }
            if ((bad = first_mismatch(got, seed, lba, QIO_CHUNK_SECT, &w0, &w1)) >= 0) {
                r_fail(&r, "pass %u: read back LBA %" PRId64 ": w0=%#" PRIx64 " w1=%#" PRIx64
                           ", wrote seed %" PRIu64,
                       passes, bad, w0, w1, seed);
                break;
            }
            uint64_t op = now_ns() - a;
            if (op > max_op)
                max_op = op;
            if (op > 200000000ull)
                stalls++;
            bytes += 3 * clen;
        }
        if (!r.ok)
            break;
        if (fdatasync(fd)) {
            r_fail(&r, "pass %u: fdatasync: %s", passes, strerror(errno));
            break;
        }
        passes++;
        g_qio_seed = seed;
        done_ch = 0;
        /* the host's device_add ends the loop */
        if (passes >= p_qio_min_passes) {
            scans++;
            scan_target(host, HOT_TARGET);
            scan_disks();
            if (g_disk[HOT_TARGET].present) {
                hot_s = secs(now_ns() - t0);
                g_hot_seen = 1;
                break;
            }
        }
        if (now_ns() > deadline) {
            r_fail(&r, "no disk at SCSI target %d within %d s (the host's device_add)", HOT_TARGET,
                   p_qmp_timeout);
            break;
        }
    }
    uint64_t t1 = now_ns();
    close(fd);
    struct jlist wrote = {0};
    if (g_qio_seed != p_seed)
        jl_add(&wrote, "[\"disk0\",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", lba0, nsect, g_qio_seed);
    if (done_ch)
        jl_add(&wrote, "[\"disk0\",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", lba0,
               done_ch * QIO_CHUNK_SECT, seed);
    r_list(&r, "wrote", &wrote);
    r_raw(&r, "region", "\"%" PRIu64 "+%" PRIu64 "\"", lba0, nsect);
    r_u64(&r, "passes", passes);
    r_u64(&r, "bytes", bytes);
    r_num(&r, "s", secs(t1 - t0));
    r_num(&r, "MBps", mbps(bytes, t1 - t0));
    r_num(&r, "max_op_ms", max_op / 1e6);
    r_u64(&r, "ops_over_200ms", stalls);
    r_u64(&r, "target2_scans", scans);
    r_num(&r, "hot_disk_after_s", hot_s);
    if (g_hot_seen)
        r_raw(&r, "hot_disk", "\"%s %s %" PRIu64 "\"", g_disk[HOT_TARGET].name,
              g_disk[HOT_TARGET].hctl, g_disk[HOT_TARGET].bytes);
    free(want);
    free(got);
    return r_emit(&r);
}

static int t_hotplug(void)
{
    struct res r;
    r_init(&r, "hotplug");
    struct disk *dk = &g_disk[HOT_TARGET];
    uint64_t seed = p_seed + 5;
    r_raw(&r, "disk", "\"%s %s %" PRIu64 "\"", dk->name, dk->hctl, dk->bytes);
    if (p_hot_bytes && dk->bytes != p_hot_bytes)
        r_fail(&r, "%s has %" PRIu64 " bytes, the image has %" PRIu64, dk->name, dk->bytes,
               p_hot_bytes);
    if (dk->bytes < (uint64_t)(HOT_AT + HOT_N + 1) * SECTOR) {
        r_fail(&r, "%s is too small", dk->name);
        return r_emit(&r);
    }
    int fd = -1;
    for (int tries = 0; tries < 200; tries++) { /* ENXIO while sd attaches */
        fd = open(dk->dev, O_RDWR | O_DIRECT | O_CLOEXEC);
        if (fd >= 0 || (errno != ENXIO && errno != ENODEV && errno != ENOENT))
            break;
        usleep(50000);
    }
    if (fd < 0) {
        r_fail(&r, "open %s O_DIRECT: %s", dk->dev, strerror(errno));
        return r_emit(&r);
    }
    char t[256];
    struct vres v;
    /* it is the host's image: its first 1 MiB holds the hot disk's pattern */
    verify_range(fd, p_hot_seed, 0, 2048, &v);
    if (v.bad || v.io_errno) {
        vres_text(&v, t, sizeof(t));
        r_fail(&r, "LBA 0..2047 before writing (pattern seed %" PRIu64 "): %s", p_hot_seed, t);
    }
    void *buf = xalign((size_t)HOT_N * SECTOR);
    make_sectors(buf, seed, HOT_AT, HOT_N);
    uint64_t t0 = now_ns();
    if (pwrite_all(fd, buf, (size_t)HOT_N * SECTOR, (off_t)HOT_AT * SECTOR))
        r_fail(&r, "write %u sectors at LBA %u: %s", HOT_N, HOT_AT, strerror(errno));
    else if (fsync(fd))
        r_fail(&r, "fsync: %s", strerror(errno));
    r_num(&r, "write_s", secs(now_ns() - t0));
    r_raw(&r, "wrote", "[[\"hot0\",%u,%u,%" PRIu64 "]]", HOT_AT, HOT_N, seed);
    free(buf);
    if (drop_caches())
        r_fail(&r, "drop_caches: %s", strerror(errno));
    verify_range(fd, seed, HOT_AT, HOT_N, &v);
    if (v.bad || v.io_errno) {
        vres_text(&v, t, sizeof(t));
        r_fail(&r, "read back of %u+%u: %s", HOT_AT, HOT_N, t);
    }
    uint64_t nb[2] = {HOT_AT - 1, HOT_AT + HOT_N};
    for (int j = 0; j < 2; j++) {
        verify_range(fd, p_hot_seed, nb[j], 1, &v);
        if (v.bad || v.io_errno) {
            vres_text(&v, t, sizeof(t));
            r_fail(&r, "neighbour LBA %" PRIu64 ": %s", nb[j], t);
        }
    }
    close(fd);
    /* the guest lets go of the disk before the host unplugs it */
    uint64_t t1 = now_ns();
    if (delete_disk(HOT_TARGET))
        r_fail(&r, "delete %s: %s", dk->name, strerror(errno));
    r_num(&r, "delete_s", secs(now_ns() - t1));
    return r_emit(&r);
}

static int t_hot_unplug(void)
{
    struct res r;
    r_init(&r, "hot-unplug");
    int host = scsi_host_no();
    uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)p_qmp_timeout * 1000000000ull;
    unsigned scans = 0, reappeared = 0;
    int gone = 0;
    /* a scan before the host's device_del finds the disk again: let go of
     * it and scan again until target 2 stays empty */
    while (now_ns() < deadline) {
        if (g_disk[HOT_TARGET].present && delete_disk(HOT_TARGET)) {
            r_fail(&r, "delete %s: %s", g_disk[HOT_TARGET].name, strerror(errno));
            break;
        }
        scans++;
        scan_target(host, HOT_TARGET);
        scan_disks();
        if (!g_disk[HOT_TARGET].present) {
            gone = 1;
            break;
        }
        reappeared++;
        sleep_ms(300);
    }
    r_num(&r, "gone_after_s", secs(now_ns() - t0));
    r_u64(&r, "scans", scans);
    r_u64(&r, "reappeared", reappeared);
    if (r.ok && !gone)
        r_fail(&r, "SCSI target %d still answers after %d s (the host's device_del)", HOT_TARGET,
               p_qmp_timeout);
    /* disk0 after it all: its first 64 KiB (pattern A) and the qmp-io region */
    struct disk *dk = &g_disk[0];
    int fd = open(dk->dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
        r_fail(&r, "open %s: %s", dk->dev, strerror(errno));
        return r_emit(&r);
    }
    struct vres v;
    char t[256];
    verify_range(fd, p_seed, 0, 128, &v);
    if (v.bad || v.io_errno) {
        vres_text(&v, t, sizeof(t));
        r_fail(&r, "disk0 LBA 0..127: %s", t);
    }
    uint64_t lba0 = (uint64_t)p_qio_at_mib * MIB / SECTOR;
    uint64_t nsect = (uint64_t)p_qio_mib * MIB / SECTOR;
    verify_range(fd, g_qio_seed, lba0, nsect, &v);
    if (v.bad || v.io_errno) {
        vres_text(&v, t, sizeof(t));
        r_fail(&r, "disk0 qmp-io region (seed %" PRIu64 "): %s", g_qio_seed, t);
    }
    r_u64(&r, "disk0_sectors_verified", 128 + nsect);
    close(fd);
    return r_emit(&r);
}

/* ------------------------------------------------------------------ */

enum need { NEED_HBA = 1, NEED_DISK0 = 2, NEED_DISK1 = 4, NEED_HOT = 8 };

static const struct test TESTS[] = {
    {"pci-find", t_pci_find, 0},
    {"disks", t_disks, NEED_HBA},
    {"scsi-inquiry", t_inquiry, NEED_DISK0},
    {"integrity-read", t_integrity_read, NEED_DISK0},
    {"integrity-write", t_integrity_write, NEED_DISK0},
    {"throughput", t_throughput, NEED_DISK0},
    {"filesystem", t_filesystem, NEED_DISK1},
    {"mmio-latency", t_mmio_latency, NEED_HBA},
    {"scripts-ram", t_scripts_ram, NEED_HBA},
    {"rebind", t_rebind, NEED_HBA},
    {NULL, NULL, 0},
};

/* suite qmp (obe2e.suite=qmp): the host drives the remote over QMP meanwhile */
static const struct test TESTS_QMP[] = {
    {"pci-find", t_pci_find, 0},
    {"disks", t_disks, NEED_HBA},
    {"qmp-io", t_qmp_io, NEED_DISK0},
    {"hotplug", t_hotplug, NEED_DISK0 | NEED_HOT},
    {"hot-unplug", t_hot_unplug, NEED_DISK0},
    {NULL, NULL, 0},
};

static const char *lsi_why_not(const struct test *t)
{
    if ((t->needs & NEED_HBA) && !g_bdf[0])
        return "pci-find found no LSI53C895A";
    if ((t->needs & NEED_DISK0) && !g_disk[0].present)
        return "disk0 (SCSI target 0) did not appear";
    if ((t->needs & NEED_DISK1) && !g_disk[1].present)
        return "disk1 (SCSI target 1) did not appear";
    if ((t->needs & NEED_HOT) && !g_hot_seen)
        return "no hot-plugged disk appeared at SCSI target 2";
    if ((t->needs & (NEED_DISK0 | NEED_DISK1)) && g_unbound)
        return "the driver was unbound";
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "pattern") || !strcmp(argv[1], "verify")))
        return host_main(argc, argv);
    obe2e_start(argc, argv, lsi_param, 0);
    if (!strcmp(p_suite, "qmp"))
        return run_tests("lsitest-qmp", TESTS_QMP, lsi_why_not, NULL);
    return run_tests("lsitest", TESTS, lsi_why_not, NULL);
}
