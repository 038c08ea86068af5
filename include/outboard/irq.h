/*
 * irq.h - a level-triggered INTx line delivered through the proxy's eventfd
 * pair, as KVM's irqfd with resampling expects: write the irqfd on a low ->
 * high edge; when the guest's EOI makes the resamplefd readable, write it
 * again while the line is still high.
 */
#ifndef OUTBOARD_IRQ_H
#define OUTBOARD_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "outboard/log.h"

struct event_base;
struct event;

struct ob_irq {
    struct event_base *base;
    const struct ob_log *log;
    const char *name;        /* owner, for log lines */
    int irqfd;               /* -1 until SET_IRQFD */
    int resamplefd;
    struct event *resample_ev;
    bool level;
    uint64_t signals;        /* irqfd writes */
    uint64_t resamples;      /* resamplefd wake-ups */
};

void ob_irq_init(struct ob_irq *irq, struct event_base *base,
                 const struct ob_log *log, const char *name);
/* Takes ownership of both fds (closing the previous pair). Returns 0, or -1
 * (fds closed) if they are not eventfds or cannot be watched. If the line is
 * high it is signalled on the new irqfd at once. */
int ob_irq_set_fds(struct ob_irq *irq, int irqfd, int resamplefd);
/* Drops the eventfds (the VMM went away); the level is kept. */
void ob_irq_release(struct ob_irq *irq);
void ob_irq_set_level(struct ob_irq *irq, bool level);
void ob_irq_fini(struct ob_irq *irq);

#endif
