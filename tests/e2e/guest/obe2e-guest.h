/*
 * obe2e-guest.h - code shared by the e2e guest programs (edutest.c,
 * lsitest.c): the OBE2E-* lines and the JSON of the results, the obe2e.*
 * parameters, the plan and run loop of the tests, timing and sysfs file
 * helpers, and the PCI device's config space file.
 *
 * Header only, so each program stays one file for `gcc -static`: every
 * function is static and marked unused (a program need not use them all).
 * tests/e2e/obe2e.py hashes the files a program includes with "..." together
 * with its source, so changing this file rebuilds the programs and the
 * initramfs of every workload.
 *
 * Include it after defining _GNU_SOURCE and after the system headers.
 */
#ifndef OBE2E_GUEST_H
#define OBE2E_GUEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OBE2E_SHARED static __attribute__((unused))

/* ------------------------------------------------------------------ */
/* small utilities                                                      */
/* ------------------------------------------------------------------ */

OBE2E_SHARED uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

OBE2E_SHARED void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* one "OBE2E-LOG text" line */
OBE2E_SHARED void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("OBE2E-LOG ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
}

/* one "OBE2E-STAGE name" line */
OBE2E_SHARED void stagef(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("OBE2E-STAGE ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
}

/* the contents of a (sysfs or proc) file, without trailing newlines and
 * spaces; 0 or -1 (errno) */
OBE2E_SHARED int read_text(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    int e = errno;
    close(fd);
    if (n < 0) {
        errno = e;
        return -1;
    }
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = 0;
    return 0;
}

OBE2E_SHARED int write_text(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, s, strlen(s));
    int e = errno;
    close(fd);
    if (n < 0) {
        errno = e;
        return -1;
    }
    return 0;
}

/* a number in a file (decimal, 0x hex or 0 octal); *ok = 0 if unreadable */
OBE2E_SHARED unsigned long long read_ull(const char *path, int *ok)
{
    char b[64];
    *ok = 0;
    if (read_text(path, b, sizeof(b)))
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(b, &end, 0);
    if (errno || end == b)
        return 0;
    *ok = 1;
    return v;
}

/* ------------------------------------------------------------------ */
/* JSON result lines                                                    */
/* ------------------------------------------------------------------ */

struct res {
    char name[48];
    char body[8192]; /* ,"key":value... */
    size_t n;
    char err[1024];
    int ok;
};

OBE2E_SHARED int g_passed, g_failed;

OBE2E_SHARED void r_init(struct res *r, const char *name)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->ok = 1;
}

/* add ,"key":<fmt...> (the value is written as given) */
OBE2E_SHARED void r_raw(struct res *r, const char *key, const char *fmt, ...)
{
    if (r->n + 8 >= sizeof(r->body))
        return;
    int k = snprintf(r->body + r->n, sizeof(r->body) - r->n, ",\"%s\":", key);
    if (k < 0 || (size_t)k >= sizeof(r->body) - r->n)
        return;
    r->n += k;
    va_list ap;
    va_start(ap, fmt);
    k = vsnprintf(r->body + r->n, sizeof(r->body) - r->n, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    r->n += (size_t)k < sizeof(r->body) - r->n ? (size_t)k : sizeof(r->body) - r->n - 1;
}

OBE2E_SHARED void json_escape(char *out, size_t len, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += snprintf(out + o, len - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
}

OBE2E_SHARED void r_str(struct res *r, const char *key, const char *s)
{
    char esc[2048];
    json_escape(esc, sizeof(esc), s);
    r_raw(r, key, "\"%s\"", esc);
}

OBE2E_SHARED void r_u64(struct res *r, const char *key, uint64_t v)
{
    r_raw(r, key, "%" PRIu64, v);
}

OBE2E_SHARED void r_num(struct res *r, const char *key, double v)
{
    r_raw(r, key, "%.3f", v);
}

/* record a failure; the first few reasons are kept in "error" */
OBE2E_SHARED void r_fail(struct res *r, const char *fmt, ...)
{
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    r->ok = 0;
    size_t l = strlen(r->err);
    if (l + 3 < sizeof(r->err))
        snprintf(r->err + l, sizeof(r->err) - l, "%s%s", l ? "; " : "", m);
}

/* print the OBE2E-RESULT line and count it; returns r->ok */
OBE2E_SHARED int r_emit(struct res *r)
{
    char esc[2048];
    if (r->ok)
        g_passed++;
    else
        g_failed++;
    printf("OBE2E-RESULT {\"test\":\"%s\",\"ok\":%s", r->name, r->ok ? "true" : "false");
    if (!r->ok) {
        json_escape(esc, sizeof(esc), r->err);
        printf(",\"error\":\"%s\"", esc);
    }
    printf("%s}\n", r->body);
    fflush(stdout);
    return r->ok;
}

/* ------------------------------------------------------------------ */
/* parameters                                                           */
/* ------------------------------------------------------------------ */

OBE2E_SHARED char p_mode[32] = "unknown";
OBE2E_SHARED char p_skip[512] = "";

/* is `name` an element of the comma-separated `list`? */
OBE2E_SHARED int in_list(const char *list, const char *name)
{
    size_t l = strlen(name);
    for (const char *p = list; *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == l && !strncmp(p, name, l))
            return 1;
        if (!c)
            break;
        p = c + 1;
    }
    return 0;
}

/* Line-buffered stdout, and the parameters: the obe2e.KEY=VALUE words of
 * /proc/cmdline (mode and skip here, every other key through param()), then
 * the options of a manual run, --skip LIST and, with mode_option, --mode
 * MODE. */
OBE2E_SHARED void obe2e_start(int argc, char **argv, void (*param)(const char *key, const char *v),
                              int mode_option)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char buf[4096];
    if (read_text("/proc/cmdline", buf, sizeof(buf)) == 0) {
        char *save = NULL;
        for (char *t = strtok_r(buf, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
            if (strncmp(t, "obe2e.", 6))
                continue;
            char *eq = strchr(t, '=');
            if (!eq)
                continue;
            *eq = 0;
            const char *k = t + 6, *v = eq + 1;
            if (!strcmp(k, "mode"))
                snprintf(p_mode, sizeof(p_mode), "%s", v);
            else if (!strcmp(k, "skip"))
                snprintf(p_skip, sizeof(p_skip), "%s", v);
            else
                param(k, v);
        }
    }
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--skip"))
            snprintf(p_skip, sizeof(p_skip), "%s", argv[++i]);
        else if (mode_option && !strcmp(argv[i], "--mode"))
            snprintf(p_mode, sizeof(p_mode), "%s", argv[++i]);
}

/* ------------------------------------------------------------------ */
/* the plan and the run                                                 */
/* ------------------------------------------------------------------ */

struct test {
    const char *name;
    int (*fn)(void);
    int needs; /* the prerequisites, as the program's why_not() reads them */
};

/* OBE2E-PLAN of `tests` (a list ending with a NULL name) less p_skip; then
 * for each planned test OBE2E-STAGE, and either a "not run: <why>" result
 * when why_not() gives a reason, or the test, after which after() (if any)
 * is called.  Ends with an OBE2E-LOG of the counts; returns the exit status:
 * 0 if every planned test passed, 1 otherwise. */
OBE2E_SHARED int run_tests(const char *workload, const struct test *tests,
                           const char *(*why_not)(const struct test *t),
                           void (*after)(const struct test *t))
{
    printf("OBE2E-PLAN {\"workload\":\"%s\",\"mode\":\"%s\",\"tests\":[", workload, p_mode);
    int first = 1;
    for (const struct test *t = tests; t->name; t++)
        if (!in_list(p_skip, t->name)) {
            printf("%s\"%s\"", first ? "" : ",", t->name);
            first = 0;
        }
    printf("],\"skipped\":[");
    first = 1;
    for (const struct test *t = tests; t->name; t++)
        if (in_list(p_skip, t->name)) {
            printf("%s\"%s\"", first ? "" : ",", t->name);
            first = 0;
        }
    printf("]}\n");
    fflush(stdout);

    for (const struct test *t = tests; t->name; t++) {
        if (in_list(p_skip, t->name))
            continue;
        stagef("%s", t->name);
        const char *why = why_not(t);
        if (why) {
            struct res r;
            r_init(&r, t->name);
            r_fail(&r, "not run: %s", why);
            r_emit(&r);
            continue;
        }
        t->fn();
        if (after)
            after(t);
    }
    logf_("%s: %d passed, %d failed", workload, g_passed, g_failed);
    return g_failed ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* PCI                                                                  */
/* ------------------------------------------------------------------ */

/* Looks for vendor:device in /sys/bus/pci/devices: the first match's
 * address goes to bdf.  With `all`, every device is listed there as
 * "BDF=VVVV:DDDD ..." and *ndev counts them.  Returns the number of matches,
 * or -1 (errno) when the directory cannot be read. */
OBE2E_SHARED int pci_scan(unsigned vendor, unsigned device, char *bdf, size_t bdflen, int *ndev,
                          char *all, size_t alllen)
{
    DIR *d = opendir("/sys/bus/pci/devices");
    if (!d)
        return -1;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[320];
        int ok1, ok2;
        snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", e->d_name);
        unsigned long long ven = read_ull(p, &ok1);
        snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", e->d_name);
        unsigned long long dev = read_ull(p, &ok2);
        if (all) {
            (*ndev)++;
            size_t l = strlen(all);
            snprintf(all + l, alllen - l, "%s%s=%04llx:%04llx", l ? " " : "", e->d_name, ven,
                     dev);
        }
        if (ok1 && ok2 && ven == vendor && dev == device) {
            if (!found)
                snprintf(bdf, bdflen, "%.*s", (int)bdflen - 1, e->d_name);
            found++;
        }
    }
    closedir(d);
    return found;
}

/* the device's config space (/sys/bus/pci/devices/<bdf>/config) */
OBE2E_SHARED int g_cfg = -1;

/* open it read-write into g_cfg; on failure r_fail(r) and -1 */
OBE2E_SHARED int cfg_open(struct res *r, const char *bdf)
{
    char p[256];
    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/config", bdf);
    g_cfg = open(p, O_RDWR | O_CLOEXEC);
    if (g_cfg < 0) {
        r_fail(r, "open %s: %s", p, strerror(errno));
        return -1;
    }
    return 0;
}

OBE2E_SHARED int cfg_read(unsigned off, void *v, size_t len)
{
    return pread(g_cfg, v, len, off) == (ssize_t)len ? 0 : -1;
}

/* a 16-bit config register; 0xffff if unreadable */
OBE2E_SHARED uint16_t cfg16(unsigned off)
{
    uint16_t v = 0xffff;
    cfg_read(off, &v, 2);
    return v;
}

OBE2E_SHARED int cfg_w16(unsigned off, uint16_t v)
{
    return pwrite(g_cfg, &v, 2, off) == 2 ? 0 : -1;
}

/* the sum over all CPUs of the /proc/interrupts lines that name `needle`,
 * or -1 if there is none */
OBE2E_SHARED long irq_count_for(const char *needle)
{
    FILE *f = fopen("/proc/interrupts", "r");
    if (!f)
        return -1;
    char line[512];
    long total = -1;
    while (fgets(line, sizeof(line), f)) {
        if (!strstr(line, needle))
            continue;
        char *p = strchr(line, ':');
        if (!p)
            continue;
        p++;
        long s = 0;
        for (;;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p)
                break;
            s += v;
            p = end;
        }
        total = (total < 0 ? 0 : total) + s;
    }
    fclose(f);
    return total;
}

/* The figures of an mmio-latency test, whose loops took t0..t1 for `n` BAR
 * reads and t1..now for `nw` writes with read-back: times n/20 (at least
 * one) config reads through sysfs here, and reports all three per access. */
OBE2E_SHARED void r_mmio_latency(struct res *r, unsigned n, unsigned nw, uint64_t t0,
                                 uint64_t t1, unsigned bad)
{
    uint64_t t2 = now_ns();
    unsigned nc = n / 20 ? n / 20 : 1;
    for (unsigned i = 0; i < nc; i++)
        (void)cfg16(0);
    uint64_t t3 = now_ns();
    r_u64(r, "reads", n);
    r_num(r, "read_us", (t1 - t0) / 1e3 / n);
    r_num(r, "write_read_us", (t2 - t1) / 1e3 / nw);
    r_num(r, "config_read_us", (t3 - t2) / 1e3 / nc);
    r_u64(r, "mismatches", bad);
}

#endif
