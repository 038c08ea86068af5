/*
 * test_irq.c - INTx over an irqfd + resamplefd pair (core/irq.c), with a
 * real event_base and real eventfds. The test keeps a second descriptor
 * of each eventfd to watch what the module writes and to play KVM's part.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "outboard/irq.h"
#include "ut.h"

/* The CUnit fixture hooks take no argument, so the fixture is file-scope. */
static struct {
    struct event_base *base;
    struct ob_log log;
    struct ob_irq irq;
    int irqfd, resamplefd;      /* given to the module */
    int irq_peer, resample_peer; /* the test's own descriptors of the same eventfds */
    bool given;                 /* irqfd/resamplefd were handed to the module */
    bool ok;
} fx;

static void setup_irq(void)
{
    memset(&fx, 0, sizeof(fx));
    fx.irqfd = fx.resamplefd = fx.irq_peer = fx.resample_peer = -1;
    fx.base = event_base_new();
    if (!fx.base || ut_log_to_tmpfile(&fx.log) < 0) {
        return;
    }
    ob_irq_init(&fx.irq, fx.base, &fx.log, "irqtest");
    fx.irqfd = ut_eventfd();
    fx.resamplefd = ut_eventfd();
    if (fx.irqfd < 0 || fx.resamplefd < 0) {
        return;
    }
    fx.irq_peer = dup(fx.irqfd);
    fx.resample_peer = dup(fx.resamplefd);
    fx.ok = fx.irq_peer >= 0 && fx.resample_peer >= 0;
}

static void close_fd(int fd)
{
    if (fd >= 0) {
        close(fd);
    }
}

static void teardown_irq(void)
{
    if (fx.base) {
        ob_irq_fini(&fx.irq);
        event_base_free(fx.base);
    }
    if (!fx.given) {
        close_fd(fx.irqfd);
        close_fd(fx.resamplefd);
    }
    close_fd(fx.irq_peer);
    close_fd(fx.resample_peer);
    ob_log_close(&fx.log);
    memset(&fx, 0, sizeof(fx));
}

/* Hands the fixture's pair to the module; fatal if refused. */
static void attach_fds(void)
{
    CU_ASSERT_TRUE_FATAL(fx.ok);
    fx.given = true;
    UT_EQ_FATAL(ob_irq_set_fds(&fx.irq, fx.irqfd, fx.resamplefd), 0);
}

/* KVM's side of an EOI: make the resamplefd readable, run the loop once. */
static void guest_eoi(void)
{
    uint64_t one = 1;

    CU_ASSERT(write(fx.resample_peer, &one, sizeof(one)) == (ssize_t)sizeof(one));
    CU_ASSERT(event_base_loop(fx.base, EVLOOP_NONBLOCK | EVLOOP_ONCE) >= 0);
}

static void test_initial_state(void)
{
    CU_ASSERT_TRUE_FATAL(fx.ok);
    UT_EQ(fx.irq.irqfd, -1);
    UT_EQ(fx.irq.resamplefd, -1);
    CU_ASSERT_FALSE(fx.irq.level);
    UT_EQ(fx.irq.signals, 0);
    UT_STREQ(fx.irq.name, "irqtest");
    /* raising without fds is remembered but sends nothing */
    ob_irq_set_level(&fx.irq, true);
    CU_ASSERT_TRUE(fx.irq.level);
    UT_EQ(fx.irq.signals, 0);
}

static void test_high_signals_once(void)
{
    attach_fds();
    UT_EQ(ut_eventfd_take(fx.irq_peer), 0);
    ob_irq_set_level(&fx.irq, true);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 1);
    UT_EQ(fx.irq.signals, 1);
    ob_irq_set_level(&fx.irq, true);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 0);
    UT_EQ(fx.irq.signals, 1);
}

static void test_low_sends_nothing(void)
{
    attach_fds();
    ob_irq_set_level(&fx.irq, false);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 0);
    ob_irq_set_level(&fx.irq, true);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 1);
    ob_irq_set_level(&fx.irq, false);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 0);
    CU_ASSERT_FALSE(fx.irq.level);
    /* a new rising edge signals again */
    ob_irq_set_level(&fx.irq, true);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 1);
    UT_EQ(fx.irq.signals, 2);
}

static void test_resample_while_high_resignals(void)
{
    attach_fds();
    ob_irq_set_level(&fx.irq, true);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 1);
    guest_eoi();
    UT_EQ(fx.irq.resamples, 1);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 1);
    /* the module consumed the resample notification */
    UT_EQ(ut_eventfd_take(fx.resample_peer), 0);
    guest_eoi();
    UT_EQ(fx.irq.resamples, 2);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 1);
    UT_EQ(fx.irq.signals, 3);
}

static void test_resample_while_low_is_silent(void)
{
    attach_fds();
    ob_irq_set_level(&fx.irq, true);
    ob_irq_set_level(&fx.irq, false);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 1);
    guest_eoi();
    UT_EQ(fx.irq.resamples, 1);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 0);
    UT_EQ(fx.irq.signals, 1);
    UT_EQ(ut_eventfd_take(fx.resample_peer), 0);
}

static void test_set_fds_while_high_signals_at_once(void)
{
    CU_ASSERT_TRUE_FATAL(fx.ok);
    ob_irq_set_level(&fx.irq, true);
    UT_EQ(fx.irq.signals, 0);
    attach_fds();
    UT_EQ(ut_eventfd_take(fx.irq_peer), 1);
    UT_EQ(fx.irq.signals, 1);
    UT_EQ(fx.irq.irqfd, fx.irqfd);
    UT_EQ(fx.irq.resamplefd, fx.resamplefd);
}

static void test_set_fds_replaces_previous_pair(void)
{
    int irq2 = ut_eventfd(), res2 = ut_eventfd();
    int irq2_peer = irq2 >= 0 ? dup(irq2) : -1;

    CU_ASSERT_FATAL(irq2 >= 0 && res2 >= 0 && irq2_peer >= 0);
    attach_fds();
    UT_EQ(ob_irq_set_fds(&fx.irq, irq2, res2), 0);
    /* the first pair was closed; the module now owns the second */
    CU_ASSERT_FALSE(ut_fd_is_open(fx.irqfd));
    CU_ASSERT_FALSE(ut_fd_is_open(fx.resamplefd));
    UT_EQ(fx.irq.irqfd, irq2);
    ob_irq_set_level(&fx.irq, true);
    UT_EQ(ut_eventfd_take(irq2_peer), 1);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 0);
    /* the old resamplefd is no longer watched */
    guest_eoi();
    UT_EQ(fx.irq.resamples, 0);
    close(irq2_peer);
}

static void test_non_eventfds_rejected_and_closed(void)
{
    char text[4096];
    int p[2];

    CU_ASSERT_TRUE_FATAL(fx.ok);
    fx.given = true;            /* both are handed over below */
    CU_ASSERT_FATAL(pipe(p) == 0);
    UT_EQ(ob_irq_set_fds(&fx.irq, p[1], p[0]), -1);
    CU_ASSERT_FALSE(ut_fd_is_open(p[0]));
    CU_ASSERT_FALSE(ut_fd_is_open(p[1]));
    UT_EQ(fx.irq.irqfd, -1);
    UT_EQ(fx.irq.resamplefd, -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(ut_log_text(&fx.log, text, sizeof(text)),
                                  "error: irqtest: SET_IRQFD: the fds are not eventfds"));
    /* one good eventfd and one pipe: both refused and closed */
    CU_ASSERT_FATAL(pipe(p) == 0);
    close(p[0]);
    UT_EQ(ob_irq_set_fds(&fx.irq, fx.irqfd, p[1]), -1);
    CU_ASSERT_FALSE(ut_fd_is_open(fx.irqfd));
    CU_ASSERT_FALSE(ut_fd_is_open(p[1]));
    UT_EQ(ob_irq_set_fds(&fx.irq, ut_memfd(8), fx.resamplefd), -1);
    CU_ASSERT_FALSE(ut_fd_is_open(fx.resamplefd));
    /* and a raised line then writes nowhere */
    ob_irq_set_level(&fx.irq, true);
    UT_EQ(fx.irq.signals, 0);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 0);
}

static void test_release_closes_fds_keeps_level(void)
{
    attach_fds();
    ob_irq_set_level(&fx.irq, true);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 1);
    ob_irq_release(&fx.irq);
    CU_ASSERT_FALSE(ut_fd_is_open(fx.irqfd));
    CU_ASSERT_FALSE(ut_fd_is_open(fx.resamplefd));
    UT_EQ(fx.irq.irqfd, -1);
    UT_EQ(fx.irq.resamplefd, -1);
    CU_ASSERT_PTR_NULL(fx.irq.resample_ev);
    CU_ASSERT_TRUE(fx.irq.level);
    /* no longer watching the resamplefd, no longer signalling */
    guest_eoi();
    UT_EQ(fx.irq.resamples, 0);
    UT_EQ(ut_eventfd_take(fx.irq_peer), 0);
    /* releasing twice is harmless */
    ob_irq_release(&fx.irq);
    UT_EQ(fx.irq.irqfd, -1);
}

static void test_fini_closes_fds(void)
{
    attach_fds();
    ob_irq_fini(&fx.irq);
    CU_ASSERT_FALSE(ut_fd_is_open(fx.irqfd));
    CU_ASSERT_FALSE(ut_fd_is_open(fx.resamplefd));
}

static const struct ut_test tests[] = {
    UT_TEST(test_initial_state),
    UT_TEST(test_high_signals_once),
    UT_TEST(test_low_sends_nothing),
    UT_TEST(test_resample_while_high_resignals),
    UT_TEST(test_resample_while_low_is_silent),
    UT_TEST(test_set_fds_while_high_signals_at_once),
    UT_TEST(test_set_fds_replaces_previous_pair),
    UT_TEST(test_non_eventfds_rejected_and_closed),
    UT_TEST(test_release_closes_fds_keeps_level),
    UT_TEST(test_fini_closes_fds),
    UT_END,
};

int test_irq_register(void)
{
    static const struct ut_suite suite = { "irq", setup_irq, teardown_irq, tests };

    return ut_add_suite(&suite);
}
