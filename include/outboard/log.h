/*
 * log.h - outboard's log sink: errors and warnings always, category
 * messages (-d CATEGORIES) only when enabled; to stderr or -D FILE.
 */
#ifndef OUTBOARD_LOG_H
#define OUTBOARD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum ob_log_level {
    OB_LOG_ERROR,
    OB_LOG_WARN,
    OB_LOG_INFO,
    OB_LOG_DEBUG,
};

/* Categories selectable with -d; names follow QEMU where QEMU has one. */
enum ob_log_cat {
    OB_LOGC_ALWAYS      = 0,        /* not a category: printed unconditionally */
    OB_LOGC_GUEST_ERROR = 1u << 0,  /* "guest_errors": the guest misused the device */
    OB_LOGC_UNIMP       = 1u << 1,  /* "unimp": feature not implemented */
    OB_LOGC_MPQEMU      = 1u << 2,  /* "mpqemu": every wire message */
    OB_LOGC_PCI         = 1u << 3,  /* "pci": config space and BAR mapping */
    OB_LOGC_IRQ         = 1u << 4,  /* "irq": INTx level changes */
    OB_LOGC_DMA         = 1u << 5,  /* "dma": guest memory map and accesses */
    OB_LOGC_DEVICE      = 1u << 6,  /* "device": device-model internals */
    OB_LOGC_QMP         = 1u << 7,  /* "qmp": monitor connections */
};

struct ob_log {
    FILE *fp;          /* stderr, or the -D file */
    bool own_fp;       /* fp was opened by ob_log_open() */
    unsigned mask;     /* enabled categories */
};

void ob_log_init(struct ob_log *lg);
/* Redirects to PATH (appending). Returns 0 or -errno. */
int ob_log_open(struct ob_log *lg, const char *path);
void ob_log_close(struct ob_log *lg);
/*
 * Parses a -d list ("guest_errors,unimp", "all", "none"). Returns 0, or -1
 * with the unknown name copied into ERR.
 */
int ob_log_parse_mask(const char *spec, unsigned *mask, char *err, size_t errlen);
/* Writes the category list for `-d help` to FP. */
void ob_log_print_categories(FILE *fp);

static inline bool ob_log_enabled(const struct ob_log *lg, unsigned cat)
{
    return cat == OB_LOGC_ALWAYS || (lg->mask & cat) != 0;
}

void ob_logf(const struct ob_log *lg, enum ob_log_level lvl, unsigned cat,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define ob_err(lg, ...)   ob_logf((lg), OB_LOG_ERROR, OB_LOGC_ALWAYS, __VA_ARGS__)
#define ob_warn(lg, ...)  ob_logf((lg), OB_LOG_WARN, OB_LOGC_ALWAYS, __VA_ARGS__)
#define ob_info(lg, ...)  ob_logf((lg), OB_LOG_INFO, OB_LOGC_ALWAYS, __VA_ARGS__)
/* Category messages: the arguments are not evaluated when the category is off. */
#define ob_logc(lg, cat, ...)                                              \
    do {                                                                   \
        if (((lg)->mask & (cat)) != 0) {                                   \
            ob_logf((lg), OB_LOG_DEBUG, (cat), __VA_ARGS__);               \
        }                                                                  \
    } while (0)

#endif
