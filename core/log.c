/*
 * log.c - the log sink.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "outboard/log.h"

static const struct {
    const char *name;
    unsigned bit;
    const char *help;
} log_cats[] = {
    { "guest_errors", OB_LOGC_GUEST_ERROR, "log when the guest misuses a device" },
    { "unimp",        OB_LOGC_UNIMP,       "log unimplemented functionality" },
    { "mpqemu",       OB_LOGC_MPQEMU,      "log every mpqemu message and reply" },
    { "pci",          OB_LOGC_PCI,         "log PCI config writes and BAR mapping" },
    { "irq",          OB_LOGC_IRQ,         "log INTx level changes and resamples" },
    { "dma",          OB_LOGC_DMA,         "log guest memory maps and DMA faults" },
    { "device",       OB_LOGC_DEVICE,      "log device-model internals" },
    { "qmp",          OB_LOGC_QMP,         "log QMP connections" },
};

#define N_CATS (sizeof(log_cats) / sizeof(log_cats[0]))

void ob_log_init(struct ob_log *lg)
{
    lg->fp = stderr;
    lg->own_fp = false;
    lg->mask = 0;
}

int ob_log_open(struct ob_log *lg, const char *path)
{
    FILE *fp = fopen(path, "ae");

    if (!fp) {
        return -errno;
    }
    setvbuf(fp, NULL, _IOLBF, 0);
    ob_log_close(lg);
    lg->fp = fp;
    lg->own_fp = true;
    return 0;
}

void ob_log_close(struct ob_log *lg)
{
    if (lg->own_fp && lg->fp) {
        fclose(lg->fp);
    }
    lg->fp = stderr;
    lg->own_fp = false;
}

int ob_log_parse_mask(const char *spec, unsigned *mask, char *err, size_t errlen)
{
    unsigned m = 0;
    const char *p = spec;

    while (*p) {
        size_t len = strcspn(p, ",");
        size_t i;
        bool found = false;

        if (len == 3 && strncmp(p, "all", 3) == 0) {
            for (i = 0; i < N_CATS; i++) {
                m |= log_cats[i].bit;
            }
            found = true;
        } else if (len == 4 && strncmp(p, "none", 4) == 0) {
            m = 0;
            found = true;
        } else if (len > 6 && strncmp(p, "trace:", 6) == 0) {
            found = true;   /* QEMU trace events: accepted, nothing to trace */
        }
        for (i = 0; !found && i < N_CATS; i++) {
            if (strlen(log_cats[i].name) == len &&
                strncmp(p, log_cats[i].name, len) == 0) {
                m |= log_cats[i].bit;
                found = true;
            }
        }
        if (!found && len > 0) {
            snprintf(err, errlen, "%.*s", (int)len, p);
            return -1;
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    *mask = m;
    return 0;
}

void ob_log_print_categories(FILE *fp)
{
    size_t i;

    fprintf(fp, "Log items (comma separated):\n");
    for (i = 0; i < N_CATS; i++) {
        fprintf(fp, "%-15s %s\n", log_cats[i].name, log_cats[i].help);
    }
    fprintf(fp, "%-15s %s\n", "all", "every item above");
}

void ob_logf(const struct ob_log *lg, enum ob_log_level lvl, unsigned cat,
             const char *fmt, ...)
{
    static const char *const prefix[] = {
        [OB_LOG_ERROR] = "error: ",
        [OB_LOG_WARN] = "warning: ",
        [OB_LOG_INFO] = "",
        [OB_LOG_DEBUG] = "",
    };
    FILE *fp = lg && lg->fp ? lg->fp : stderr;
    struct timespec ts;
    va_list ap;

    if (lg && !ob_log_enabled(lg, cat)) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(fp, "outboard %lld.%06ld: %s", (long long)ts.tv_sec, ts.tv_nsec / 1000,
            prefix[lvl]);
    va_start(ap, fmt);
    vfprintf(fp, fmt, ap);
    va_end(ap);
    fputc('\n', fp);
}
