/*
 * irq.c - INTx over an irqfd + resamplefd pair.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "outboard/irq.h"

void ob_irq_init(struct ob_irq *irq, struct event_base *base,
                 const struct ob_log *log, const char *name)
{
    memset(irq, 0, sizeof(*irq));
    irq->base = base;
    irq->log = log;
    irq->name = name;
    irq->irqfd = -1;
    irq->resamplefd = -1;
}

/* An eventfd is an anonymous inode named "[eventfd]"; anything else (a
 * file, a socket, a pipe) must not be written blindly. */
static bool is_eventfd(int fd)
{
    char path[64], target[64];
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    n = readlink(path, target, sizeof(target) - 1);
    if (n < 0) {
        return false;
    }
    target[n] = '\0';
    return strcmp(target, "anon_inode:[eventfd]") == 0;
}

static void signal_irqfd(struct ob_irq *irq)
{
    uint64_t one = 1;

    if (irq->irqfd < 0) {
        return;
    }
    if (write(irq->irqfd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN) {
        ob_warn(irq->log, "%s: irqfd write: %s", irq->name, strerror(errno));
        return;
    }
    irq->signals++;
}

static void on_resample(evutil_socket_t fd, short what, void *opaque)
{
    struct ob_irq *irq = opaque;
    uint64_t cnt;

    (void)what;
    /* Non-blocking read via the event's readiness; the fd's own flags are the
     * proxy's and are left alone. */
    if (read(fd, &cnt, sizeof(cnt)) != sizeof(cnt)) {
        return;
    }
    irq->resamples++;
    ob_logc(irq->log, OB_LOGC_IRQ, "%s: resample, line %s", irq->name,
            irq->level ? "still high: re-raise" : "low");
    if (irq->level) {
        signal_irqfd(irq);
    }
}

void ob_irq_release(struct ob_irq *irq)
{
    if (irq->resample_ev) {
        event_free(irq->resample_ev);
        irq->resample_ev = NULL;
    }
    if (irq->irqfd >= 0) {
        close(irq->irqfd);
    }
    if (irq->resamplefd >= 0) {
        close(irq->resamplefd);
    }
    irq->irqfd = -1;
    irq->resamplefd = -1;
}

int ob_irq_set_fds(struct ob_irq *irq, int irqfd, int resamplefd)
{
    ob_irq_release(irq);
    if (!is_eventfd(irqfd) || !is_eventfd(resamplefd)) {
        ob_err(irq->log, "%s: SET_IRQFD: the fds are not eventfds", irq->name);
        goto fail;
    }
    irq->resample_ev = event_new(irq->base, resamplefd, EV_READ | EV_PERSIST,
                                 on_resample, irq);
    if (!irq->resample_ev || event_add(irq->resample_ev, NULL) < 0) {
        ob_err(irq->log, "%s: cannot watch the resample eventfd", irq->name);
        if (irq->resample_ev) {
            event_free(irq->resample_ev);
            irq->resample_ev = NULL;
        }
        goto fail;
    }
    irq->irqfd = irqfd;
    irq->resamplefd = resamplefd;
    ob_logc(irq->log, OB_LOGC_IRQ, "%s: irqfd %d, resamplefd %d", irq->name,
            irqfd, resamplefd);
    if (irq->level) {
        signal_irqfd(irq);
    }
    return 0;
fail:
    close(irqfd);
    close(resamplefd);
    return -1;
}

void ob_irq_set_level(struct ob_irq *irq, bool level)
{
    if (level == irq->level) {
        return;
    }
    irq->level = level;
    ob_logc(irq->log, OB_LOGC_IRQ, "%s: INTx %s", irq->name, level ? "high" : "low");
    if (level) {
        signal_irqfd(irq);
    }
    /* Lowering sends nothing: KVM drops the line at the guest's EOI and the
     * resample then finds it low. */
}

void ob_irq_fini(struct ob_irq *irq)
{
    ob_irq_release(irq);
}
