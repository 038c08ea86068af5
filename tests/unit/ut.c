/*
 * ut.c - helpers shared by the unit-test suites.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "outboard/ctx.h"
#include "outboard/device.h"
#include "outboard/log.h"
#include "outboard/opts.h"
#include "ut.h"

int ut_add_suite(const struct ut_suite *s)
{
    CU_pSuite suite = CU_add_suite_with_setup_and_teardown(s->name, NULL, NULL,
                                                           s->setup, s->teardown);
    const struct ut_test *t;

    if (!suite) {
        return CU_get_error();
    }
    for (t = s->tests; t->name; t++) {
        if (!CU_add_test(suite, t->name, t->fn)) {
            return CU_get_error();
        }
    }
    return CUE_SUCCESS;
}

/* CUnit copies the condition text of a failure, so a local buffer is fine. */
void ut_check_u64(uint64_t got, uint64_t want, const char *expr, unsigned line,
                  const char *file, bool fatal)
{
    char msg[512];

    snprintf(msg, sizeof(msg), "%s (got %#" PRIx64 ", want %#" PRIx64 ")",
             expr, got, want);
    CU_assertImplementation(got == want, line, msg, file, "", fatal);
}

void ut_check_str(const char *got, const char *want, const char *expr,
                  unsigned line, const char *file, bool fatal)
{
    char msg[512];
    bool ok = got && want ? strcmp(got, want) == 0 : got == want;

    snprintf(msg, sizeof(msg), "%s (got \"%s\", want \"%s\")", expr,
             got ? got : "(null)", want ? want : "(null)");
    CU_assertImplementation(ok, line, msg, file, "", fatal);
}

void ut_check_bytes(const void *got, const void *want, size_t len,
                    const char *expr, unsigned line, const char *file)
{
    const uint8_t *g = got, *w = want;
    char msg[512];
    size_t i;

    for (i = 0; i < len && g[i] == w[i]; i++) {
    }
    if (i == len) {
        snprintf(msg, sizeof(msg), "%s (%zu bytes)", expr, len);
    } else {
        snprintf(msg, sizeof(msg), "%s (first difference at byte %zu: got %02x, want %02x)",
                 expr, i, g[i], w[i]);
    }
    CU_assertImplementation(i == len, line, msg, file, "", false);
}

bool ut_fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

int ut_memfd(size_t size)
{
    int fd = memfd_create("ut-ram", MFD_CLOEXEC);

    if (fd < 0) {
        return -1;
    }
    if (ftruncate(fd, (off_t)size) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int ut_eventfd(void)
{
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

uint64_t ut_eventfd_take(int fd)
{
    uint64_t v;

    if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v)) {
        return 0;
    }
    return v;
}

int ut_log_to_tmpfile(struct ob_log *lg)
{
    FILE *fp = tmpfile();

    ob_log_init(lg);
    if (!fp) {
        return -1;
    }
    lg->fp = fp;
    lg->own_fp = true;
    return 0;
}

const char *ut_log_text(const struct ob_log *lg, char *buf, size_t len)
{
    ssize_t n;

    fflush(lg->fp);
    n = pread(fileno(lg->fp), buf, len - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

int ut_ctx_open(struct ob_ctx *ctx)
{
    if (ob_ctx_init(ctx) < 0) {
        ob_ctx_fini(ctx);
        return -1;
    }
    /* Devices log guest errors and rejected fds; keep the test output clean. */
    if (ob_log_open(&ctx->log, "/dev/null") < 0) {
        ob_ctx_fini(ctx);
        return -1;
    }
    return 0;
}

int ut_device_create(struct ob_ctx *ctx, const char *spec, struct ob_device **out,
                     char *err, size_t errlen)
{
    struct ob_opts o;
    int rc;

    if (ob_opts_parse(&o, "-device", spec, "driver", err, errlen) < 0) {
        return -1;
    }
    rc = ob_device_create(ctx, &o, out, err, errlen);
    ob_opts_free(&o);
    return rc;
}
