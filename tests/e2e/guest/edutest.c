/*
 * edutest - guest-side end-to-end checks of QEMU's "edu" PCI device
 * (1234:11e8), run as PID 1's child inside the e2e initramfs.
 *
 * It finds the device in sysfs, maps BAR0 through
 * /sys/bus/pci/devices/<bdf>/resource0 and exercises the register file,
 * the DMA engine (with guest-physical addresses from /proc/self/pagemap) and
 * the INTx interrupt through uio_pci_generic.
 *
 * Output (stdout, line buffered), one line each:
 *   OBE2E-PLAN   {"workload":"edutest","tests":[...],"skipped":[...]}
 *   OBE2E-LOG    free text
 *   OBE2E-RESULT {"test":NAME,"ok":BOOL,...}   one per planned test
 * /init forwards the OBE2E-* lines to the results serial port.
 *
 * Parameters come from the kernel command line (obe2e.KEY=VALUE):
 *   obe2e.mode=proxy|inprocess   inprocess skips the out-of-range DMA test
 *                                (QEMU's own edu model aborts the VM there)
 *   obe2e.skip=a,b               tests to skip
 *   obe2e.irq_timeout_ms=N       how long to wait for an interrupt (3000)
 *   obe2e.mmio_n=N               reads for the MMIO latency figure (2000)
 * Exit status: 0 if every planned test passed, 1 otherwise.
 *
 * Must run as root (pagemap PFNs, sysfs config writes, driver binding).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "obe2e-guest.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_BAR0_SIZE (1u << 20)

#define REG_ID 0x00
#define REG_LIVENESS 0x04
#define REG_FACT 0x08
#define REG_STATUS 0x20
#define REG_IRQ_STATUS 0x24
#define REG_IRQ_RAISE 0x60
#define REG_IRQ_ACK 0x64
#define REG_DMA_SRC 0x80
#define REG_DMA_DST 0x88
#define REG_DMA_CNT 0x90
#define REG_DMA_CMD 0x98

#define STATUS_COMPUTING 0x01u
#define STATUS_IRQFACT 0x80u
#define DMA_RUN 0x1u
#define DMA_DIR_TO_RAM 0x2u
#define DMA_IRQ 0x4u
#define IRQ_FACT 0x1u
#define IRQ_DMA 0x100u

#define DEV_BUF 0x40000u
#define DEV_BUF_SIZE 0x1000u
#define DMA_MASK ((1ull << 28) - 1)

#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define CMD_MEMORY 0x0002u
#define CMD_MASTER 0x0004u
#define CMD_INTX_DISABLE 0x0400u
#define STATUS_INTERRUPT 0x0008u

#define PAGE 4096u
/* QEMU's own edu model refuses (aborts on) any transfer that ends exactly at
 * the end of its buffer (edu_check_range() tests end < buffer end), so the
 * general tests move 4088 bytes; dma-buffer-end covers the last bytes. */
#define DMA_LEN (PAGE - 8)
#define NPAGES 6

/* ------------------------------------------------------------------ */
/* small utilities                                                      */
/* ------------------------------------------------------------------ */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ */
/* JSON result fields (the rest is in obe2e-guest.h)                   */
/* ------------------------------------------------------------------ */

static void r_hex(struct res *r, const char *key, uint64_t v)
{
    r_raw(r, key, "\"0x%" PRIx64 "\"", v);
}

static void r_reg(struct res *r, const char *key, uint32_t v)
{
    r_raw(r, key, "\"0x%08x\"", v);
}

static void r_bool(struct res *r, const char *key, int v)
{
    r_raw(r, key, v ? "true" : "false");
}

/* ------------------------------------------------------------------ */
/* parameters                                                           */
/* ------------------------------------------------------------------ */

static int p_irq_timeout_ms = 3000;
static int p_mmio_n = 2000;

/* the obe2e.* parameters besides mode and skip */
static void edu_param(const char *k, const char *v)
{
    if (!strcmp(k, "irq_timeout_ms"))
        p_irq_timeout_ms = atoi(v) > 0 ? atoi(v) : p_irq_timeout_ms;
    else if (!strcmp(k, "mmio_n"))
        p_mmio_n = atoi(v) > 0 ? atoi(v) : p_mmio_n;
}

/* ------------------------------------------------------------------ */
/* device state                                                         */
/* ------------------------------------------------------------------ */

static char g_bdf[64];
static char g_dev[160]; /* /sys/bus/pci/devices/<bdf> */
static volatile uint8_t *g_bar;
static uint64_t g_bar_phys;

static uint32_t rd32(uint32_t off) { return *(volatile uint32_t *)(g_bar + off); }
static void wr32(uint32_t off, uint32_t v) { *(volatile uint32_t *)(g_bar + off) = v; }
static uint64_t rd64(uint32_t off) { return *(volatile uint64_t *)(g_bar + off); }
static void wr64(uint32_t off, uint64_t v) { *(volatile uint64_t *)(g_bar + off) = v; }

/* Poll register `off` until (value & mask) == 0.  Returns 0 on success, -1 on
 * timeout; *last = last value read, *busy = how many reads saw the bits set. */
static int wait_clear(uint32_t off, uint32_t mask, int timeout_ms, uint32_t *last,
                      unsigned *busy, double *elapsed_ms)
{
    double t0 = now_ms();
    unsigned b = 0;
    uint32_t v;
    for (unsigned i = 0;; i++) {
        v = rd32(off);
        if (!(v & mask))
            break;
        b++;
        if (now_ms() - t0 > timeout_ms) {
            *last = v;
            if (busy)
                *busy = b;
            if (elapsed_ms)
                *elapsed_ms = now_ms() - t0;
            return -1;
        }
        if (i > 200)
            usleep(200);
    }
    *last = v;
    if (busy)
        *busy = b;
    if (elapsed_ms)
        *elapsed_ms = now_ms() - t0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* tests                                                                */
/* ------------------------------------------------------------------ */

static int g_prereq_ok = 1; /* device found and BAR0 mapped */
static char g_prereq_err[256] = "";

static int pci_find(void)
{
    struct res r;
    r_init(&r, "pci-find");
    int ndev = 0;
    char all[1024] = "";
    int found = pci_scan(EDU_VENDOR, EDU_DEVICE, g_bdf, sizeof(g_bdf), &ndev, all, sizeof(all));
    if (found < 0) {
        r_fail(&r, "opendir /sys/bus/pci/devices: %s", strerror(errno));
        return r_emit(&r);
    }
    r_raw(&r, "pci_devices", "%d", ndev);
    r_str(&r, "all", all);
    if (!found) {
        r_fail(&r, "no %04x:%04x in /sys/bus/pci/devices", EDU_VENDOR, EDU_DEVICE);
        return r_emit(&r);
    }
    snprintf(g_dev, sizeof(g_dev), "/sys/bus/pci/devices/%s", g_bdf);
    r_str(&r, "bdf", g_bdf);

    char p[256];
    if (cfg_open(&r, g_bdf))
        return r_emit(&r);
    uint8_t cfg[64];
    if (cfg_read(0, cfg, sizeof(cfg))) {
        r_fail(&r, "read config space: %s", strerror(errno));
        return r_emit(&r);
    }
    unsigned vendor = cfg[0] | cfg[1] << 8, device = cfg[2] | cfg[3] << 8;
    unsigned rev = cfg[8], prog = cfg[9], sub = cfg[10], base = cfg[11];
    unsigned htype = cfg[14];
    unsigned ssv = cfg[0x2c] | cfg[0x2d] << 8, ssd = cfg[0x2e] | cfg[0x2f] << 8;
    uint32_t bar0 = cfg[0x10] | cfg[0x11] << 8 | cfg[0x12] << 16 | (uint32_t)cfg[0x13] << 24;
    unsigned pin = cfg[0x3d], line = cfg[0x3c];
    unsigned status = cfg[6] | cfg[7] << 8;
    int ok;
    unsigned long long irq = 0;
    snprintf(p, sizeof(p), "%s/irq", g_dev);
    irq = read_ull(p, &ok);

    /* BAR0 from sysfs resource: "start end flags" */
    char rb[512];
    unsigned long long rs = 0, re = 0, rf = 0;
    snprintf(p, sizeof(p), "%s/resource", g_dev);
    if (read_text(p, rb, sizeof(rb)) == 0)
        sscanf(rb, "%llx %llx %llx", &rs, &re, &rf);
    unsigned long long size = re >= rs && re ? re - rs + 1 : 0;
    g_bar_phys = rs;

    /* capability list (IDs only) */
    char caps[128] = "";
    if (status & 0x10) {
        uint8_t ptr = cfg[0x34] & 0xfc;
        for (int i = 0; ptr && i < 16; i++) {
            uint8_t c[2];
            if (cfg_read(ptr, c, 2))
                break;
            size_t l = strlen(caps);
            snprintf(caps + l, sizeof(caps) - l, "%s0x%02x", l ? "," : "", c[0]);
            ptr = c[1] & 0xfc;
        }
    }

    char lspci[512];
    snprintf(lspci, sizeof(lspci),
             "%s Class %02x%02x: %04x:%04x (rev %02x) subsystem %04x:%04x, IRQ %llu, pin %c; "
             "Region 0: Memory at %llx (%s, %sprefetchable) [size=%lluK]",
             g_bdf, base, sub, vendor, device, rev, ssv, ssd, irq, pin ? '@' + pin : '-',
             rs, (bar0 & 6) == 4 ? "64-bit" : "32-bit", (bar0 & 8) ? "" : "non-", size >> 10);
    r_str(&r, "lspci", lspci);
    r_hex(&r, "vendor", vendor);
    r_hex(&r, "device", device);
    r_hex(&r, "class", (base << 16) | (sub << 8) | prog);
    r_hex(&r, "revision", rev);
    r_hex(&r, "header_type", htype);
    r_hex(&r, "subsystem", (ssv << 16) | ssd);
    r_hex(&r, "bar0_config", bar0);
    r_hex(&r, "bar0_start", rs);
    r_hex(&r, "bar0_size", size);
    r_hex(&r, "bar0_flags", rf);
    r_u64(&r, "irq", irq);
    r_u64(&r, "interrupt_pin", pin);
    r_u64(&r, "interrupt_line", line);
    r_hex(&r, "command", cfg[4] | cfg[5] << 8);
    r_hex(&r, "status", status);
    r_str(&r, "capabilities", caps);

    if (vendor != EDU_VENDOR || device != EDU_DEVICE)
        r_fail(&r, "config space ids %04x:%04x differ from sysfs", vendor, device);
    if (size != EDU_BAR0_SIZE)
        r_fail(&r, "BAR0 size %#llx, expected 1 MiB", size);
    if (bar0 & 1)
        r_fail(&r, "BAR0 is an I/O BAR (config %#x)", bar0);
    if ((bar0 & 6) != 0)
        r_fail(&r, "BAR0 is not 32-bit (config %#x)", bar0);
    if (bar0 & 8)
        r_fail(&r, "BAR0 is prefetchable (config %#x)", bar0);
    if (pin != 1)
        r_fail(&r, "interrupt pin %u, expected 1 (INTA)", pin);
    if (htype & 0x7f)
        r_fail(&r, "header type %#x, expected 0", htype);
    return r_emit(&r);
}

static int bar0_map(void)
{
    struct res r;
    r_init(&r, "bar0-map");
    uint16_t cmd0 = cfg16(PCI_COMMAND);
    r_hex(&r, "command_before", cmd0);
    if (!(cmd0 & CMD_MEMORY)) {
        char p[256];
        snprintf(p, sizeof(p), "%s/enable", g_dev);
        if (write_text(p, "1"))
            logf_("write %s: %s", p, strerror(errno));
    }
    /* bus mastering is needed for the device's DMA */
    uint16_t cmd = cfg16(PCI_COMMAND);
    if ((cmd & (CMD_MEMORY | CMD_MASTER)) != (CMD_MEMORY | CMD_MASTER)) {
        if (cfg_w16(PCI_COMMAND, cmd | CMD_MEMORY | CMD_MASTER))
            r_fail(&r, "config write of COMMAND: %s", strerror(errno));
    }
    cmd = cfg16(PCI_COMMAND);
    r_hex(&r, "command_after", cmd);
    if (!(cmd & CMD_MEMORY))
        r_fail(&r, "memory decoding still disabled (COMMAND %#x)", cmd);
    if (!(cmd & CMD_MASTER))
        r_fail(&r, "bus master still disabled (COMMAND %#x)", cmd);

    char p[256];
    snprintf(p, sizeof(p), "%s/resource0", g_dev);
    int fd = open(p, O_RDWR | O_SYNC | O_CLOEXEC);
    if (fd < 0) {
        r_fail(&r, "open %s: %s", p, strerror(errno));
        return r_emit(&r);
    }
    void *m = mmap(NULL, EDU_BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) {
        r_fail(&r, "mmap %s: %s", p, strerror(e));
        return r_emit(&r);
    }
    g_bar = m;
    r_str(&r, "path", p);
    return r_emit(&r);
}

static int t_id(void)
{
    struct res r;
    r_init(&r, "id");
    uint32_t v = rd32(REG_ID);
    r_reg(&r, "value", v);
    r_reg(&r, "expected", 0x010000ed);
    r_raw(&r, "version", "\"%u.%u\"", v >> 24, (v >> 16) & 0xff);
    if (v != 0x010000ed)
        r_fail(&r, "identification register reads %#x, expected 0x010000ed", v);
    /* a second read must be identical (no read side effects) */
    uint32_t v2 = rd32(REG_ID);
    if (v2 != v)
        r_fail(&r, "second read %#x differs", v2);
    return r_emit(&r);
}

static int t_liveness(void)
{
    struct res r;
    r_init(&r, "liveness");
    static const uint32_t vals[] = {0x00000000, 0xffffffff, 0x12345678, 0xdeadbeef,
                                    0xa5a5a5a5, 0x00000001, 0x80000000, 0x0badf00d};
    char list[512] = "";
    unsigned n = sizeof(vals) / sizeof(vals[0]), bad = 0;
    for (unsigned i = 0; i < n; i++) {
        wr32(REG_LIVENESS, vals[i]);
        uint32_t a = rd32(REG_LIVENESS), b = rd32(REG_LIVENESS);
        size_t l = strlen(list);
        snprintf(list + l, sizeof(list) - l, "%s[\"0x%08x\",\"0x%08x\"]", i ? "," : "", vals[i], a);
        if (a != (uint32_t)~vals[i] || b != a) {
            bad++;
            r_fail(&r, "wrote %#x, read %#x then %#x, expected %#x", vals[i], a, b,
                   (uint32_t)~vals[i]);
        }
    }
    r_raw(&r, "written_read", "[%s]", list);
    r_u64(&r, "values", n);
    r_u64(&r, "mismatches", bad);
    return r_emit(&r);
}

static uint32_t fact32(uint32_t n)
{
    uint32_t f = 1;
    while (n > 1)
        f *= n--;
    return f;
}

static int t_factorial(void)
{
    struct res r;
    r_init(&r, "factorial");
    static const uint32_t ns[] = {0, 1, 5, 10, 12, 13, 20};
    char list[512] = "";
    unsigned busy_total = 0;
    double max_ms = 0;
    for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        wr32(REG_FACT, ns[i]);
        uint32_t st, busy = 0;
        double ms = 0;
        if (wait_clear(REG_STATUS, STATUS_COMPUTING, 3000, &st, &busy, &ms)) {
            r_fail(&r, "%u!: status bit 0 still set after 3 s (status %#x)", ns[i], st);
            break;
        }
        busy_total += busy;
        if (ms > max_ms)
            max_ms = ms;
        uint32_t got = rd32(REG_FACT), want = fact32(ns[i]);
        size_t l = strlen(list);
        snprintf(list + l, sizeof(list) - l, "%s\"%u!=%u\"", i ? "," : "", ns[i], got);
        if (got != want)
            r_fail(&r, "%u! read %u (%#x), expected %u (%#x)", ns[i], got, got, want, want);
    }
    r_raw(&r, "results", "[%s]", list);
    r_u64(&r, "busy_reads", busy_total);
    r_num(&r, "max_wait_ms", max_ms);
    /* no interrupt may have been raised (status bit 7 is clear) */
    uint32_t is = rd32(REG_IRQ_STATUS);
    r_hex(&r, "irq_status_after", is);
    if (is)
        r_fail(&r, "irq status %#x after factorials without status bit 7", is);
    return r_emit(&r);
}

/* Without a driver: raising through 0x60 must set PCI_STATUS bit 3 (interrupt
 * status) and 0x24; acknowledging through 0x64 must clear both. */
static int t_intx_status(void)
{
    struct res r;
    r_init(&r, "intx-status");
    uint16_t s0 = cfg16(PCI_STATUS);
    uint32_t i0 = rd32(REG_IRQ_STATUS);
    /* mask INTx at the function while we play, so the (unhandled) line never
     * reaches the interrupt controller */
    uint16_t cmd = cfg16(PCI_COMMAND);
    cfg_w16(PCI_COMMAND, cmd | CMD_INTX_DISABLE);
    wr32(REG_IRQ_RAISE, 0x00010040);
    uint32_t i1 = rd32(REG_IRQ_STATUS);
    uint16_t s1 = cfg16(PCI_STATUS);
    wr32(REG_IRQ_ACK, 0x00000040);
    uint32_t i2 = rd32(REG_IRQ_STATUS);
    uint16_t s2 = cfg16(PCI_STATUS);
    wr32(REG_IRQ_ACK, 0x00010000);
    uint32_t i3 = rd32(REG_IRQ_STATUS);
    uint16_t s3 = cfg16(PCI_STATUS);
    cfg_w16(PCI_COMMAND, cmd);
    uint16_t cmd_after = cfg16(PCI_COMMAND);
    r_hex(&r, "pci_status_idle", s0);
    r_hex(&r, "irq_status_idle", i0);
    r_hex(&r, "irq_status_raised", i1);
    r_hex(&r, "pci_status_raised", s1);
    r_hex(&r, "irq_status_partial_ack", i2);
    r_hex(&r, "pci_status_partial_ack", s2);
    r_hex(&r, "irq_status_acked", i3);
    r_hex(&r, "pci_status_acked", s3);
    r_hex(&r, "command_restored", cmd_after);
    if (i0 != 0)
        r_fail(&r, "irq status %#x before raise", i0);
    if (s0 & STATUS_INTERRUPT)
        r_fail(&r, "PCI_STATUS %#x has interrupt bit before raise", s0);
    if (i1 != 0x00010040)
        r_fail(&r, "irq status %#x after raising 0x10040", i1);
    if (!(s1 & STATUS_INTERRUPT))
        r_fail(&r, "PCI_STATUS %#x lacks interrupt bit 3 while raised", s1);
    if (i2 != 0x00010000)
        r_fail(&r, "irq status %#x after acking 0x40, expected 0x10000", i2);
    if (!(s2 & STATUS_INTERRUPT))
        r_fail(&r, "PCI_STATUS %#x lacks interrupt bit 3 after partial ack", s2);
    if (i3 != 0)
        r_fail(&r, "irq status %#x after full ack", i3);
    if (s3 & STATUS_INTERRUPT)
        r_fail(&r, "PCI_STATUS %#x still has interrupt bit 3 after ack", s3);
    if ((cmd_after & CMD_INTX_DISABLE) != (cmd & CMD_INTX_DISABLE))
        r_fail(&r, "COMMAND bit 10 not restored (%#x)", cmd_after);
    return r_emit(&r);
}

/* ---- DMA ---- */

static uint8_t *g_pages;
static uint64_t g_phys[NPAGES];
static int g_dma_ready;
static char g_dma_err[256];

static int dma_setup(void)
{
    if (g_dma_ready)
        return g_dma_ready > 0;
    g_dma_ready = -1;
    /* keep compaction from moving our (mlocked) pages under the device */
    write_text("/proc/sys/vm/compact_unevictable_allowed", "0");
    void *m = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
    if (m == MAP_FAILED) {
        snprintf(g_dma_err, sizeof(g_dma_err), "mmap: %s", strerror(errno));
        return 0;
    }
    if (mlock(m, NPAGES * PAGE)) {
        snprintf(g_dma_err, sizeof(g_dma_err), "mlock: %s", strerror(errno));
        return 0;
    }
    g_pages = m;
    memset(g_pages, 0x11, NPAGES * PAGE);
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(g_dma_err, sizeof(g_dma_err), "open pagemap: %s", strerror(errno));
        return 0;
    }
    for (int i = 0; i < NPAGES; i++) {
        uint64_t ent = 0;
        uintptr_t va = (uintptr_t)(g_pages + i * PAGE);
        if (pread(fd, &ent, 8, (off_t)(va / PAGE) * 8) != 8) {
            snprintf(g_dma_err, sizeof(g_dma_err), "read pagemap: %s", strerror(errno));
            close(fd);
            return 0;
        }
        uint64_t pfn = ent & ((1ull << 55) - 1);
        if (!(ent >> 63) || !pfn) {
            snprintf(g_dma_err, sizeof(g_dma_err),
                     "page %d not present or PFN hidden (entry %#" PRIx64 ")", i, ent);
            close(fd);
            return 0;
        }
        g_phys[i] = pfn * PAGE;
        if (g_phys[i] + PAGE - 1 > DMA_MASK) {
            snprintf(g_dma_err, sizeof(g_dma_err),
                     "page %d at phys %#" PRIx64 " is above the 28-bit DMA mask (guest RAM "
                     "must be < 256 MiB)", i, g_phys[i]);
            close(fd);
            return 0;
        }
    }
    close(fd);
    g_dma_ready = 1;
    return 1;
}

static uint8_t *page(int i) { return g_pages + i * PAGE; }

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 12345;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(x >> 7);
    }
}

/* first differing offset, or -1 */
static long first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return (long)i;
    return -1;
}

struct dma_out {
    uint32_t cmd_last;
    unsigned busy;
    double ms;
};

/* program one transfer and wait for DMA cmd bit 0 to clear */
static int dma_xfer(uint64_t src, uint64_t dst, uint64_t cnt, uint32_t cmd, int timeout_ms,
                    struct dma_out *o)
{
    wr64(REG_DMA_SRC, src);
    wr64(REG_DMA_DST, dst);
    wr64(REG_DMA_CNT, cnt);
    __sync_synchronize();
    wr32(REG_DMA_CMD, cmd);
    return wait_clear(REG_DMA_CMD, DMA_RUN, timeout_ms, &o->cmd_last, &o->busy, &o->ms);
}

#define DMA_PREREQ(r)                                                          \
    do {                                                                       \
        if (!dma_setup()) {                                                    \
            r_fail(&(r), "DMA buffer setup failed: %s", g_dma_err);            \
            return r_emit(&(r));                                               \
        }                                                                      \
    } while (0)

static int t_dma_roundtrip(void)
{
    struct res r;
    r_init(&r, "dma-roundtrip");
    DMA_PREREQ(r);
    uint8_t *A = page(0), *B = page(1);
    fill_pattern(A, PAGE, 1);
    memset(B, 0xee, PAGE);
    r_hex(&r, "src_phys", g_phys[0]);
    r_hex(&r, "dst_phys", g_phys[1]);

    /* registers read back what was written */
    wr64(REG_DMA_SRC, g_phys[0]);
    wr64(REG_DMA_DST, DEV_BUF);
    wr64(REG_DMA_CNT, DMA_LEN);
    uint64_t s = rd64(REG_DMA_SRC), d = rd64(REG_DMA_DST), c = rd64(REG_DMA_CNT);
    uint32_t s32 = rd32(REG_DMA_SRC);
    if (s != g_phys[0] || d != DEV_BUF || c != DMA_LEN)
        r_fail(&r, "DMA registers read back src=%#" PRIx64 " dst=%#" PRIx64 " cnt=%#" PRIx64
               " after writing %#" PRIx64 "/%#x/%#x", s, d, c, g_phys[0], DEV_BUF, DMA_LEN);
    if (s32 != (uint32_t)g_phys[0])
        r_fail(&r, "32-bit read of DMA src %#x", s32);

    struct dma_out o1, o2;
    if (dma_xfer(g_phys[0], DEV_BUF, DMA_LEN, DMA_RUN, 3000, &o1)) {
        r_fail(&r, "RAM->device DMA did not finish within 3 s (cmd %#x)", o1.cmd_last);
        return r_emit(&r);
    }
    if (dma_xfer(DEV_BUF, g_phys[1], DMA_LEN, DMA_RUN | DMA_DIR_TO_RAM, 3000, &o2)) {
        r_fail(&r, "device->RAM DMA did not finish within 3 s (cmd %#x)", o2.cmd_last);
        return r_emit(&r);
    }
    long diff = first_diff(A, B, DMA_LEN);
    r_raw(&r, "bytes", "%u", DMA_LEN);
    r_num(&r, "to_device_ms", o1.ms);
    r_num(&r, "to_ram_ms", o2.ms);
    r_u64(&r, "busy_reads", o1.busy + o2.busy);
    r_hex(&r, "cmd_after", o2.cmd_last);
    r_raw(&r, "first_bytes", "\"%02x%02x%02x%02x/%02x%02x%02x%02x\"", A[0], A[1], A[2], A[3],
          B[0], B[1], B[2], B[3]);
    if (diff >= 0)
        r_fail(&r, "page mismatch at offset %ld: wrote %#x, got back %#x", diff, A[diff],
               B[diff]);
    for (unsigned i = DMA_LEN; i < PAGE; i++)
        if (B[i] != 0xee) {
            r_fail(&r, "byte %#x beyond the %u-byte transfer was written (%#x)", i, DMA_LEN,
                   B[i]);
            break;
        }
    uint32_t is = rd32(REG_IRQ_STATUS);
    if (is)
        r_fail(&r, "irq status %#x after DMA without cmd bit 2", is);
    return r_emit(&r);
}

/* partial transfer at odd offsets: buffer[0x123..+0x155] -> RAM page+0x345 */
static int t_dma_partial(void)
{
    struct res r;
    r_init(&r, "dma-partial");
    DMA_PREREQ(r);
    uint8_t *A = page(0), *B = page(2);
    uint8_t expect[PAGE];
    /* the buffer holds page A (from dma-roundtrip); refresh it to be sure */
    struct dma_out o;
    fill_pattern(A, PAGE, 2);
    if (dma_xfer(g_phys[0], DEV_BUF, DMA_LEN, DMA_RUN, 3000, &o)) {
        r_fail(&r, "RAM->device DMA did not finish (cmd %#x)", o.cmd_last);
        return r_emit(&r);
    }
    /* then overwrite 0x40 bytes at buffer offset 0x800 from page A + 0x10 */
    if (dma_xfer(g_phys[0] + 0x10, DEV_BUF + 0x800, 0x40, DMA_RUN, 3000, &o)) {
        r_fail(&r, "small RAM->device DMA did not finish (cmd %#x)", o.cmd_last);
        return r_emit(&r);
    }
    uint8_t buf[PAGE];
    memcpy(buf, A, PAGE);
    memcpy(buf + 0x800, A + 0x10, 0x40);

    memset(B, 0x5a, PAGE);
    memcpy(expect, B, PAGE);
    memcpy(expect + 0x345, buf + 0x123, 0x155);
    memcpy(expect + 0x345 + 0x155, buf + 0x7f0, 0x60); /* second piece, see below */
    if (dma_xfer(DEV_BUF + 0x123, g_phys[2] + 0x345, 0x155, DMA_RUN | DMA_DIR_TO_RAM, 3000, &o)) {
        r_fail(&r, "device->RAM DMA did not finish (cmd %#x)", o.cmd_last);
        return r_emit(&r);
    }
    /* a piece spanning the overwritten 0x40 bytes */
    if (dma_xfer(DEV_BUF + 0x7f0, g_phys[2] + 0x345 + 0x155, 0x60, DMA_RUN | DMA_DIR_TO_RAM, 3000,
                 &o)) {
        r_fail(&r, "device->RAM DMA 2 did not finish (cmd %#x)", o.cmd_last);
        return r_emit(&r);
    }
    long diff = first_diff(expect, B, PAGE);
    if (diff >= 0)
        r_fail(&r, "page mismatch at offset %#lx: expected %#x got %#x (%s)", diff, expect[diff],
               B[diff],
               diff < 0x345 || diff >= 0x345 + 0x155 + 0x60 ? "outside the target range"
                                                             : "inside the target range");
    r_raw(&r, "pieces", "[\"buf+0x800<-ram+0x10 len 0x40\",\"buf+0x123->ram+0x345 len 0x155\","
                        "\"buf+0x7f0->ram+0x49a len 0x60\"]");
    return r_emit(&r);
}

/* the whole 4 KiB buffer, including its last byte, is usable */
static int t_dma_buffer_end(void)
{
    struct res r;
    r_init(&r, "dma-buffer-end");
    DMA_PREREQ(r);
    uint8_t *A = page(0), *B = page(1);
    struct dma_out o;
    fill_pattern(A, PAGE, 7);
    memset(B, 0, PAGE);
    if (dma_xfer(g_phys[0], DEV_BUF, PAGE, DMA_RUN, 3000, &o)) {
        r_fail(&r, "4096-byte RAM->device DMA (device range 0x40000-0x40fff) did not finish "
                   "(cmd %#x)", o.cmd_last);
        return r_emit(&r);
    }
    if (dma_xfer(DEV_BUF, g_phys[1], PAGE, DMA_RUN | DMA_DIR_TO_RAM, 3000, &o)) {
        r_fail(&r, "4096-byte device->RAM DMA did not finish (cmd %#x)", o.cmd_last);
        return r_emit(&r);
    }
    long diff = first_diff(A, B, PAGE);
    if (diff >= 0)
        r_fail(&r, "full-buffer round trip differs at offset %#lx (wrote %#x, got %#x)%s", diff,
               A[diff], B[diff], diff >= (long)DMA_LEN ? ": the end of the buffer was refused" : "");
    /* one byte at the very end, both directions */
    A[0x10] = (uint8_t)~A[0xfff];
    if (dma_xfer(g_phys[0] + 0x10, DEV_BUF + 0xfff, 1, DMA_RUN, 3000, &o))
        r_fail(&r, "1-byte DMA to buffer+0xfff did not finish (cmd %#x)", o.cmd_last);
    memset(B, 0, 16);
    if (dma_xfer(DEV_BUF + 0xfff, g_phys[1], 1, DMA_RUN | DMA_DIR_TO_RAM, 3000, &o))
        r_fail(&r, "1-byte DMA from buffer+0xfff did not finish (cmd %#x)", o.cmd_last);
    else if (B[0] != A[0x10] || B[1] != 0)
        r_fail(&r, "1-byte DMA via buffer+0xfff gave %#x %#x, expected %#x 0", B[0], B[1], A[0x10]);
    r_raw(&r, "bytes", "%u", PAGE);
    return r_emit(&r);
}

/* the RAM-side address is masked to 28 bits */
static int t_dma_mask(void)
{
    struct res r;
    r_init(&r, "dma-mask");
    DMA_PREREQ(r);
    uint8_t *A = page(0), *B = page(3);
    struct dma_out o;
    fill_pattern(A, PAGE, 3);
    memset(B, 0, PAGE);
    uint64_t hi = 0xabc0000000000000ull | 0x70000000ull; /* bits above 27 */
    r_hex(&r, "src_programmed", g_phys[0] | hi);
    r_hex(&r, "dst_programmed", g_phys[3] | hi);
    if (dma_xfer(g_phys[0] | hi, DEV_BUF, DMA_LEN, DMA_RUN, 3000, &o)) {
        r_fail(&r, "RAM->device DMA with high address bits did not finish (cmd %#x)", o.cmd_last);
        return r_emit(&r);
    }
    if (dma_xfer(DEV_BUF, g_phys[3] | hi, DMA_LEN, DMA_RUN | DMA_DIR_TO_RAM, 3000, &o)) {
        r_fail(&r, "device->RAM DMA with high address bits did not finish (cmd %#x)", o.cmd_last);
        return r_emit(&r);
    }
    long diff = first_diff(A, B, DMA_LEN);
    if (diff >= 0)
        r_fail(&r, "data mismatch at %ld: the 28-bit mask was not applied to the RAM address",
               diff);
    return r_emit(&r);
}

/* transfers whose device-side range leaves the buffer must be ignored, and
 * the device must keep serving afterwards */
static int t_dma_oob(void)
{
    struct res r;
    r_init(&r, "dma-out-of-range");
    DMA_PREREQ(r);
    uint8_t *A = page(0), *C = page(4), *D = page(5);
    struct dma_out o;
    /* known buffer content */
    fill_pattern(A, PAGE, 4);
    if (dma_xfer(g_phys[0], DEV_BUF, DMA_LEN, DMA_RUN, 3000, &o)) {
        r_fail(&r, "initial DMA did not finish (cmd %#x)", o.cmd_last);
        return r_emit(&r);
    }
    fill_pattern(C, PAGE, 5);
    memset(D, 0x77, PAGE);
    static const struct {
        const char *what;
        uint64_t dev, cnt;
        uint32_t dir;
    } cases[] = {
        {"dst crosses buffer end", DEV_BUF + 0x800, 0x1000, 0},
        {"count one too many", DEV_BUF, 0x1001, 0},
        {"dst below buffer", DEV_BUF - 0x100, 0x80, 0},
        {"dst+count wraps 64 bits", DEV_BUF + 0x10, 0xfffffffffffffff8ull, 0},
        {"count zero", DEV_BUF, 0, 0},
        {"src after buffer end", DEV_BUF + 0x1000, 0x10, DMA_DIR_TO_RAM},
        {"src crosses buffer end", DEV_BUF + 0xff0, 0x20, DMA_DIR_TO_RAM},
    };
    char list[1024] = "";
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int to_ram = cases[i].dir != 0;
        uint64_t src = to_ram ? cases[i].dev : g_phys[4];
        uint64_t dst = to_ram ? g_phys[5] : cases[i].dev;
        int rc = dma_xfer(src, dst, cases[i].cnt, DMA_RUN | cases[i].dir, 2000, &o);
        uint32_t live_w = 0x5555aaaa ^ i;
        wr32(REG_LIVENESS, live_w);
        uint32_t live = rd32(REG_LIVENESS);
        size_t l = strlen(list);
        snprintf(list + l, sizeof(list) - l, "%s\"%s: cmd=%#x%s\"", i ? "," : "", cases[i].what,
                 o.cmd_last, rc ? " (stuck)" : "");
        if (rc)
            r_fail(&r, "%s: DMA cmd bit 0 still set after 2 s (cmd %#x)", cases[i].what,
                   o.cmd_last);
        if (live != ~live_w)
            r_fail(&r, "%s: liveness afterwards read %#x, expected %#x", cases[i].what, live,
                   ~live_w);
    }
    r_raw(&r, "cases", "[%s]", list);
    /* RAM page D must be untouched by the refused buffer->RAM transfers */
    for (unsigned i = 0; i < PAGE; i++)
        if (D[i] != 0x77) {
            r_fail(&r, "a refused device->RAM DMA wrote guest RAM (offset %#x = %#x)", i, D[i]);
            break;
        }
    /* the buffer must still hold pattern 4 */
    memset(D, 0, PAGE);
    if (dma_xfer(DEV_BUF, g_phys[5], DMA_LEN, DMA_RUN | DMA_DIR_TO_RAM, 3000, &o)) {
        r_fail(&r, "valid DMA after the refused ones did not finish (cmd %#x)", o.cmd_last);
        return r_emit(&r);
    }
    long diff = first_diff(A, D, DMA_LEN);
    if (diff >= 0)
        r_fail(&r, "device buffer changed by a refused DMA (first difference at %#lx)", diff);
    uint32_t is = rd32(REG_IRQ_STATUS);
    if (is)
        r_fail(&r, "irq status %#x after refused DMAs", is);
    return r_emit(&r);
}

/* ---- interrupts through uio_pci_generic ---- */

static int g_uio = -1;
static unsigned g_uio_count; /* last event count read from /dev/uioN */
static char g_uio_name[32];

static int find_uio(char *name, size_t len)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/uio", g_dev);
    DIR *d = opendir(p);
    if (!d)
        return -1;
    struct dirent *e;
    int found = -1;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "uio", 3) && e->d_name[3]) {
            snprintf(name, len, "%.*s", (int)len - 1, e->d_name);
            found = 0;
            break;
        }
    closedir(d);
    return found;
}

static int t_uio_bind(void)
{
    struct res r;
    r_init(&r, "uio-bind");
    char p[256], drv[256] = "";
    if (access("/sys/bus/pci/drivers/uio_pci_generic", F_OK)) {
        r_fail(&r, "uio_pci_generic driver not registered (module not loaded?)");
        return r_emit(&r);
    }
    snprintf(p, sizeof(p), "%s/driver", g_dev);
    ssize_t n = readlink(p, drv, sizeof(drv) - 1);
    if (n > 0) {
        drv[n] = 0;
        char up[300];
        snprintf(up, sizeof(up), "%s/unbind", p);
        write_text(up, g_bdf);
    }
    snprintf(p, sizeof(p), "%s/driver_override", g_dev);
    if (write_text(p, "uio_pci_generic")) {
        r_fail(&r, "write %s: %s", p, strerror(errno));
        return r_emit(&r);
    }
    if (write_text("/sys/bus/pci/drivers_probe", g_bdf))
        logf_("drivers_probe: %s", strerror(errno));
    double t0 = now_ms();
    while (find_uio(g_uio_name, sizeof(g_uio_name)) && now_ms() - t0 < 3000)
        sleep_ms(20);
    snprintf(p, sizeof(p), "%s/driver", g_dev);
    n = readlink(p, drv, sizeof(drv) - 1);
    drv[n > 0 ? n : 0] = 0;
    r_str(&r, "driver", n > 0 ? strrchr(drv, '/') + 1 : "");
    if (!g_uio_name[0]) {
        r_fail(&r, "no uio device under %s/uio after binding (driver '%s'; dmesg has the reason)",
               g_dev, drv);
        return r_emit(&r);
    }
    char dev[64];
    snprintf(dev, sizeof(dev), "/dev/%s", g_uio_name);
    t0 = now_ms();
    while ((g_uio = open(dev, O_RDWR | O_CLOEXEC)) < 0 && now_ms() - t0 < 2000)
        sleep_ms(20);
    if (g_uio < 0) {
        r_fail(&r, "open %s: %s", dev, strerror(errno));
        return r_emit(&r);
    }
    r_str(&r, "uio", dev);
    uint16_t cmd = cfg16(PCI_COMMAND);
    r_hex(&r, "command", cmd);
    if (!(cmd & CMD_MASTER) || !(cmd & CMD_MEMORY))
        r_fail(&r, "COMMAND %#x after binding lost memory/master enable", cmd);

    /* is BAR0 still mappable through sysfs while the driver is bound? */
    snprintf(p, sizeof(p), "%s/resource0", g_dev);
    int fd = open(p, O_RDWR | O_SYNC | O_CLOEXEC);
    void *m = fd >= 0 ? mmap(NULL, EDU_BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                      : MAP_FAILED;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (m == MAP_FAILED) {
        r_str(&r, "resource0_mmap_while_bound", strerror(e));
        r_fail(&r, "mmap of resource0 refused while uio_pci_generic is bound: %s", strerror(e));
    } else {
        uint32_t id = *(volatile uint32_t *)m;
        r_str(&r, "resource0_mmap_while_bound", "ok");
        r_hex(&r, "id_via_new_mapping", id);
        if (id != 0x010000ed)
            r_fail(&r, "id through the new mapping reads %#x", id);
        munmap(m, EDU_BAR0_SIZE);
    }
    r_raw(&r, "irq_line_count", "%ld", irq_count_for("uio_pci_generic"));
    /* the line must be idle: no event within 300 ms */
    struct pollfd pf = {g_uio, POLLIN, 0};
    int pr = poll(&pf, 1, 300);
    if (pr > 0) {
        uint32_t c = 0;
        if (read(g_uio, &c, 4) == 4) {
            r_fail(&r, "spurious uio event (count %u) before any interrupt was raised", c);
            g_uio_count = c;
        }
    }
    return r_emit(&r);
}

struct irq_wait {
    int got;
    uint32_t count;
    double ms;
};

static void uio_wait(int timeout_ms, struct irq_wait *w, double t0)
{
    struct pollfd pf = {g_uio, POLLIN, 0};
    w->got = 0;
    w->count = 0;
    int left = timeout_ms;
    for (;;) {
        int pr = poll(&pf, 1, left);
        if (pr > 0 && (pf.revents & POLLIN)) {
            if (read(g_uio, &w->count, 4) == 4)
                w->got = 1;
            break;
        }
        if (pr < 0 && errno == EINTR) {
            left = timeout_ms - (int)(now_ms() - t0);
            if (left > 0)
                continue;
        }
        break;
    }
    w->ms = now_ms() - t0;
}

/* uio_pci_generic has no irqcontrol (write() to /dev/uioN gives ENOSYS): its
 * handler masks INTx with COMMAND bit 10, and user space unmasks by clearing
 * that bit through the config space file (see the kernel's uio-howto). */
static int uio_reenable(void)
{
    uint16_t c = cfg16(PCI_COMMAND);
    if (c == 0xffff)
        return -1;
    return cfg_w16(PCI_COMMAND, c & ~CMD_INTX_DISABLE);
}

/* Events counted after the first one but before the device was acked are
 * expected with irqpoll: uio_pci_generic's handler returns IRQ_HANDLED on
 * every poll while PCI_STATUS bit 3 is set, even when INTx is already masked.
 * So: ack the device, collect those, then unmask; from then on nothing may
 * arrive.  Returns the number of events collected after `seen`. */
static unsigned uio_drain(void)
{
    unsigned before = g_uio_count;
    struct pollfd pf = {g_uio, POLLIN, 0};
    uint32_t c;
    if (poll(&pf, 1, 0) > 0 && (pf.revents & POLLIN) && read(g_uio, &c, 4) == 4)
        g_uio_count = c;
    return g_uio_count - before;
}

static void ack_reenable_quiet(struct res *r, uint32_t bits, int quiet_ms, const char *key)
{
    wr32(REG_IRQ_ACK, bits);
    unsigned extra = uio_drain();
    char k[64];
    snprintf(k, sizeof(k), "%s_events_before_ack", key);
    r_u64(r, k, extra);
    if (uio_reenable())
        r_fail(r, "%s: unmasking INTx through COMMAND failed: %s", key, strerror(errno));
    uint16_t cmd = cfg16(PCI_COMMAND);
    if (cmd & CMD_INTX_DISABLE)
        r_fail(r, "%s: COMMAND %#x still masks INTx after the unmask write", key, cmd);
    struct irq_wait w;
    uio_wait(quiet_ms, &w, now_ms());
    snprintf(k, sizeof(k), "%s_quiet_after_ack", key);
    r_bool(r, k, !w.got);
    if (w.got) {
        r_fail(r, "%s: another uio event (count %u, was %u) within %d ms after ack and unmask "
                  "(irq status %#x, PCI_STATUS %#x)", key, w.count, g_uio_count, quiet_ms,
               rd32(REG_IRQ_STATUS), cfg16(PCI_STATUS));
        g_uio_count = w.count;
    }
}

/* wait for the next event; g_uio_count follows the driver's count */
static void uio_next(int timeout_ms, struct irq_wait *w, double t0)
{
    uio_wait(timeout_ms, w, t0);
    if (w->got)
        g_uio_count = w->count;
}

static int t_irq_raise(void)
{
    struct res r;
    r_init(&r, "irq-raise");
    if (g_uio < 0) {
        r_fail(&r, "no uio device (uio-bind failed)");
        return r_emit(&r);
    }
    const uint32_t val = 0x00000010;
    long c0 = irq_count_for("uio_pci_generic");
    struct irq_wait w;
    unsigned before = g_uio_count;
    double t0 = now_ms();
    wr32(REG_IRQ_RAISE, val);
    uio_next(p_irq_timeout_ms, &w, t0);
    uint32_t is = rd32(REG_IRQ_STATUS);
    uint16_t st = cfg16(PCI_STATUS), cmd = cfg16(PCI_COMMAND);
    r_bool(&r, "event", w.got);
    r_u64(&r, "event_count", w.count);
    r_num(&r, "latency_ms", w.ms);
    r_hex(&r, "irq_status", is);
    r_hex(&r, "pci_status", st);
    r_hex(&r, "pci_command", cmd);
    if (!w.got)
        r_fail(&r, "no uio event within %d ms after writing %#x to 0x60 (irq status %#x, "
                   "PCI_STATUS %#x)", p_irq_timeout_ms, val, is, st);
    else if (w.count <= before)
        r_fail(&r, "uio event count %u did not increase (was %u)", w.count, before);
    if (is != val)
        r_fail(&r, "irq status reads %#x, expected %#x", is, val);
    if (!(st & STATUS_INTERRUPT))
        r_fail(&r, "PCI_STATUS %#x lacks interrupt bit while raised", st);
    if (w.got && !(cmd & CMD_INTX_DISABLE))
        r_fail(&r, "COMMAND %#x: uio_pci_generic's handler did not mask INTx", cmd);
    wr32(REG_IRQ_ACK, val);
    uint32_t is2 = rd32(REG_IRQ_STATUS);
    uint16_t st2 = cfg16(PCI_STATUS);
    r_hex(&r, "irq_status_after_ack", is2);
    r_hex(&r, "pci_status_after_ack", st2);
    if (is2)
        r_fail(&r, "irq status %#x after ack", is2);
    if (st2 & STATUS_INTERRUPT)
        r_fail(&r, "PCI_STATUS %#x keeps interrupt bit after ack", st2);
    ack_reenable_quiet(&r, val, 500, "first");
    r_hex(&r, "pci_command_reenabled", cfg16(PCI_COMMAND));
    long c1 = irq_count_for("uio_pci_generic");
    r_raw(&r, "proc_interrupts_delta", "%ld", c0 >= 0 && c1 >= 0 ? c1 - c0 : -1);

    /* a second round through the same path */
    before = g_uio_count;
    t0 = now_ms();
    wr32(REG_IRQ_RAISE, 0x00000020);
    uio_next(p_irq_timeout_ms, &w, t0);
    r_num(&r, "latency2_ms", w.ms);
    if (!w.got)
        r_fail(&r, "second raise: no event within %d ms", p_irq_timeout_ms);
    else if (w.count <= before)
        r_fail(&r, "second raise: event count %u did not increase (was %u)", w.count, before);
    uint32_t is3 = rd32(REG_IRQ_STATUS);
    if (is3 != 0x20)
        r_fail(&r, "second raise: irq status %#x, expected 0x20", is3);
    ack_reenable_quiet(&r, 0x00000020, 300, "second");
    return r_emit(&r);
}

static int t_irq_factorial(void)
{
    struct res r;
    r_init(&r, "irq-factorial");
    if (g_uio < 0) {
        r_fail(&r, "no uio device (uio-bind failed)");
        return r_emit(&r);
    }
    struct irq_wait w;
    wr32(REG_STATUS, STATUS_IRQFACT);
    uint32_t st = rd32(REG_STATUS);
    r_hex(&r, "status_with_irq_enable", st);
    if (!(st & STATUS_IRQFACT))
        r_fail(&r, "status bit 7 does not read back (status %#x)", st);
    double t0 = now_ms();
    wr32(REG_FACT, 10);
    uio_next(p_irq_timeout_ms, &w, t0);
    uint32_t is = rd32(REG_IRQ_STATUS);
    uint32_t st2;
    wait_clear(REG_STATUS, STATUS_COMPUTING, 1000, &st2, NULL, NULL);
    uint32_t f = rd32(REG_FACT);
    r_bool(&r, "event", w.got);
    r_num(&r, "latency_ms", w.ms);
    r_hex(&r, "irq_status", is);
    r_u64(&r, "factorial_10", f);
    if (!w.got)
        r_fail(&r, "no uio event within %d ms after 10! with status bit 7 (irq status %#x)",
               p_irq_timeout_ms, is);
    if (is != IRQ_FACT)
        r_fail(&r, "irq status %#x, expected 0x1", is);
    if (f != 3628800)
        r_fail(&r, "10! read %u", f);
    wr32(REG_STATUS, 0);
    uint32_t st3 = rd32(REG_STATUS);
    if (st3 & STATUS_IRQFACT)
        r_fail(&r, "status bit 7 does not clear (status %#x)", st3);
    ack_reenable_quiet(&r, IRQ_FACT, 300, "fact");
    /* without bit 7 no interrupt */
    wr32(REG_FACT, 3);
    wait_clear(REG_STATUS, STATUS_COMPUTING, 1000, &st2, NULL, NULL);
    uint32_t is2 = rd32(REG_IRQ_STATUS);
    if (is2)
        r_fail(&r, "irq status %#x after 3! with status bit 7 clear", is2);
    return r_emit(&r);
}

static int t_irq_dma(void)
{
    struct res r;
    r_init(&r, "irq-dma");
    if (g_uio < 0) {
        r_fail(&r, "no uio device (uio-bind failed)");
        return r_emit(&r);
    }
    DMA_PREREQ(r);
    uint8_t *A = page(0), *B = page(1);
    fill_pattern(A, 256, 6);
    memset(B, 0, 256);
    struct irq_wait w;
    struct dma_out o;
    wr64(REG_DMA_SRC, g_phys[0]);
    wr64(REG_DMA_DST, DEV_BUF + 0x100);
    wr64(REG_DMA_CNT, 256);
    double t0 = now_ms();
    wr32(REG_DMA_CMD, DMA_RUN | DMA_IRQ);
    uio_next(p_irq_timeout_ms, &w, t0);
    uint32_t is = rd32(REG_IRQ_STATUS);
    uint32_t cmd;
    wait_clear(REG_DMA_CMD, DMA_RUN, 1000, &cmd, NULL, NULL);
    r_bool(&r, "event", w.got);
    r_num(&r, "latency_ms", w.ms);
    r_hex(&r, "irq_status", is);
    r_hex(&r, "cmd_after", cmd);
    if (!w.got)
        r_fail(&r, "no uio event within %d ms after DMA with cmd bit 2 (irq status %#x)",
               p_irq_timeout_ms, is);
    if (is != IRQ_DMA)
        r_fail(&r, "irq status %#x, expected 0x100", is);
    ack_reenable_quiet(&r, IRQ_DMA, 300, "dma");
    /* data arrived too */
    if (dma_xfer(DEV_BUF + 0x100, g_phys[1], 256, DMA_RUN | DMA_DIR_TO_RAM, 3000, &o))
        r_fail(&r, "read-back DMA did not finish");
    else if (first_diff(A, B, 256) >= 0)
        r_fail(&r, "data of the interrupting DMA did not arrive");
    return r_emit(&r);
}

static int t_mmio_latency(void)
{
    struct res r;
    r_init(&r, "mmio-latency");
    unsigned n = (unsigned)p_mmio_n, bad = 0;
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < n; i++)
        if (rd32(REG_ID) != 0x010000ed)
            bad++;
    uint64_t t1 = now_ns();
    for (unsigned i = 0; i < n / 4; i++) {
        wr32(REG_LIVENESS, i);
        if (rd32(REG_LIVENESS) != ~i)
            bad++;
    }
    r_mmio_latency(&r, n, n / 4 ? n / 4 : 1, t0, t1, bad);
    if (bad)
        r_fail(&r, "%u wrong values during the latency loop", bad);
    return r_emit(&r);
}

static int t_device_alive(void)
{
    struct res r;
    r_init(&r, "device-alive");
    uint32_t id = rd32(REG_ID);
    wr32(REG_LIVENESS, 0x600dcafe);
    uint32_t l = rd32(REG_LIVENESS);
    uint16_t ven = cfg16(0);
    r_reg(&r, "id", id);
    r_reg(&r, "liveness", l);
    r_hex(&r, "config_vendor", ven);
    if (id != 0x010000ed || l != (uint32_t)~0x600dcafeu || ven != EDU_VENDOR)
        r_fail(&r, "device stopped answering correctly at the end (id %#x liveness %#x vendor "
                   "%#x)", id, l, ven);
    return r_emit(&r);
}

/* ------------------------------------------------------------------ */

/* needs: 1 = the test uses BAR0 */
static const struct test TESTS[] = {
    {"pci-find", pci_find, 0},
    {"bar0-map", bar0_map, 0},
    {"id", t_id, 1},
    {"liveness", t_liveness, 1},
    {"factorial", t_factorial, 1},
    {"intx-status", t_intx_status, 1},
    {"dma-roundtrip", t_dma_roundtrip, 1},
    {"dma-partial", t_dma_partial, 1},
    {"dma-buffer-end", t_dma_buffer_end, 1},
    {"dma-mask", t_dma_mask, 1},
    {"dma-out-of-range", t_dma_oob, 1},
    {"uio-bind", t_uio_bind, 1},
    {"irq-raise", t_irq_raise, 1},
    {"irq-factorial", t_irq_factorial, 1},
    {"irq-dma", t_irq_dma, 1},
    {"mmio-latency", t_mmio_latency, 1},
    {"device-alive", t_device_alive, 1},
    {NULL, NULL, 0},
};

/* pci-find and bar0-map are the prerequisites of everything else: once
 * one of them failed, the tests that need the BAR (or the device) do not run */
static const char *edu_why_not(const struct test *t)
{
    return !g_prereq_ok && (t->needs || !g_bdf[0]) ? g_prereq_err : NULL;
}

static void edu_after(const struct test *t)
{
    int lost = !strcmp(t->name, "pci-find") ? (!g_bdf[0] || g_cfg < 0)
               : !strcmp(t->name, "bar0-map") ? !g_bar
                                              : 0;
    if (lost && g_prereq_ok) {
        g_prereq_ok = 0;
        snprintf(g_prereq_err, sizeof(g_prereq_err), "%s failed", t->name);
    }
}

int main(int argc, char **argv)
{
    obe2e_start(argc, argv, edu_param, 1);
    /* QEMU's in-process edu calls hw_error() (abort) on an out-of-range DMA,
     * and on one that ends exactly at the end of its buffer */
    if (!strcmp(p_mode, "inprocess")) {
        static const char *const qemu_aborts[] = {"dma-out-of-range", "dma-buffer-end"};
        for (unsigned i = 0; i < 2; i++)
            if (!in_list(p_skip, qemu_aborts[i])) {
                size_t l = strlen(p_skip);
                snprintf(p_skip + l, sizeof(p_skip) - l, "%s%s", l ? "," : "", qemu_aborts[i]);
            }
    }
    return run_tests("edutest", TESTS, edu_why_not, edu_after);
}
